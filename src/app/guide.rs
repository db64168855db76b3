//! Alarm guidance shown in the alarm detail: the standard operating
//! procedure for its condition and the cameras linked to its place.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::domain::alarm::{Alarm, Condition};
use crate::domain::device::DeviceKind;
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
    /// Every camera in the inventory, shown as "name (id)".
    cameras: BTreeMap<String, String>,
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
        let cameras = config
            .devices
            .iter()
            .filter(|spec| spec.kind == DeviceKind::Camera)
            .map(|spec| (spec.id.clone(), name_of(&spec.id)))
            .collect();
        Self {
            sop,
            links,
            cameras,
        }
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

    /// Cameras for the alarm: its own device when that is a camera, then
    /// those linked to its device, its zone and its building, without repeats.
    pub fn cameras(&self, alarm: &Alarm) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        if let Some(own) = alarm.device.as_ref().and_then(|id| self.cameras.get(id)) {
            found.push(own.clone());
        }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::domain::alarm::{Priority, Raise};

    const CONFIG: &str = r#"
[alarms.sop.fire]
en = "Check the cameras."

[[alarms.cameras]]
device = "door-1"
cameras = ["cam-door"]

[[alarms.cameras]]
building = "B1"
cameras = ["cam-lobby", "cam-door"]

[[devices]]
id = "door-1"
kind = "door"
name = "Door 1"
building = "B1"

[[devices]]
id = "cam-door"
kind = "camera"
name = "Door camera"
building = "B1"

[[devices]]
id = "cam-lobby"
kind = "camera"
name = "Lobby camera"
building = "B1"

[[devices]]
id = "cam-wall"
kind = "camera"
name = "Wall camera"
building = "Perimeter"
"#;

    fn alarm(device: &str, building: &str) -> Alarm {
        let raise = Raise {
            alarm: 1,
            source: device.into(),
            condition: Condition::Intrusion,
            priority: Priority::P2,
            device: Some(device.into()),
            name: device.into(),
            building: building.into(),
            zone: String::new(),
            text: None,
            momentary: true,
            active: true,
            suppressed: false,
            out_of_service: false,
        };
        Alarm::new(&raise, jiff::Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn cameras_device_then_building_without_repeats() {
        let config = crate::config::load_str(CONFIG, "t.toml", Path::new("."), Lang::En).unwrap();
        let guide = AlarmGuide::from_config(&config);
        assert_eq!(
            guide.cameras(&alarm("door-1", "B1")),
            ["Door camera (cam-door)", "Lobby camera (cam-lobby)"]
        );
        assert_eq!(
            guide.cameras(&alarm("cam-wall", "Perimeter")),
            ["Wall camera (cam-wall)"],
            "a camera's own alarm shows that camera"
        );
        assert!(guide.cameras(&alarm("door-9", "B9")).is_empty());
    }

    #[test]
    fn sop_falls_back_to_the_other_language() {
        let config = crate::config::load_str(CONFIG, "t.toml", Path::new("."), Lang::En).unwrap();
        let guide = AlarmGuide::from_config(&config);
        assert_eq!(
            guide.sop(Condition::Fire, Lang::ZhCn),
            Some("Check the cameras.")
        );
        assert_eq!(guide.sop(Condition::Gas, Lang::En), None);
    }
}
