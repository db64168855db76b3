//! Alarm guidance shown in the alarm detail: the standard operating
//! procedure for its condition and the cameras linked to its place.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::domain::alarm::{Alarm, Condition};
use crate::i18n::Lang;

/// A camera linked to a device, a zone or a building.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Link {
    device: Option<String>,
    zone: Option<String>,
    building: Option<String>,
    /// Shown as "name (id)".
    cameras: Vec<String>,
}

/// Procedures and camera links from the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlarmGuide {
    /// Condition → (zh-CN, en) texts set in the configuration.
    sop: BTreeMap<Condition, (Option<String>, Option<String>)>,
    links: Vec<Link>,
}

impl AlarmGuide {
    pub fn from_config(config: &Config) -> Self {
        let sop = config
            .alarms
            .sop
            .iter()
            .filter_map(|(name, text)| {
                Some((
                    Condition::parse(name)?,
                    (text.zh_cn.clone(), text.en.clone()),
                ))
            })
            .collect();
        let name_of = |id: &String| {
            config
                .devices
                .iter()
                .find(|spec| spec.id == *id)
                .map_or_else(|| id.clone(), |spec| format!("{} ({id})", spec.name))
        };
        let links = config
            .alarms
            .cameras
            .iter()
            .map(|link| Link {
                device: link.device.clone(),
                zone: link.zone.clone(),
                building: link.building.clone(),
                cameras: link.cameras.iter().map(name_of).collect(),
            })
            .collect();
        Self { sop, links }
    }

    /// Returns the configured procedure for `condition` in `lang`, or in the
    /// other language when only that one is set. `None` means the built-in
    /// text applies.
    pub fn sop(&self, condition: Condition, lang: Lang) -> Option<&str> {
        let (zh, en) = self.sop.get(&condition)?;
        let (first, second) = match lang {
            Lang::ZhCn => (zh, en),
            Lang::En => (en, zh),
        };
        first.as_deref().or(second.as_deref())
    }

    /// Cameras linked to the alarm's device, then its zone, then its
    /// building, without repeats.
    pub fn cameras(&self, alarm: &Alarm) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        let matches = [
            |link: &Link, alarm: &Alarm| link.device.is_some() && link.device == alarm.device,
            |link: &Link, alarm: &Alarm| {
                link.zone
                    .as_deref()
                    .is_some_and(|z| !z.is_empty() && z == alarm.zone)
            },
            |link: &Link, alarm: &Alarm| {
                link.building
                    .as_deref()
                    .is_some_and(|b| !b.is_empty() && b == alarm.building)
            },
        ];
        for matching in matches {
            for link in self.links.iter().filter(|link| matching(link, alarm)) {
                for camera in &link.cameras {
                    if !found.contains(camera) {
                        found.push(camera.clone());
                    }
                }
            }
        }
        found
    }
}
