//! Frigate, the network video recorder: the server's availability, each
//! camera's stream health, and its review items or tracked-object events as
//! camera alarms.
//!
//! Topics under the base topic (Frigate's `mqtt.topic_prefix`):
//!
//! | topic | payload | becomes |
//! |---|---|---|
//! | `available` | `online` / `offline` (Frigate's last will) | the gateway [`GATEWAY_ID`] |
//! | `<camera>/status/<role>` | `online` / `offline` / `disabled` | camera `ok` / `video_loss`, debounced |
//! | `stats` | `cameras.<camera>.camera_fps` | a heartbeat per camera; health where no status topic exists |
//! | `<camera>/recordings/state` | `ON` / `OFF` | the camera's `recording` |
//! | `reviews` or `events` | JSON, `type` new / update / end | an external alarm per review item or event |
//!
//! Frigate versions before the status topics existed only have `stats`,
//! where a camera with 0 frames per second counts as bad. Versions before
//! review items existed only have `events`: `alarms_from` picks one of the
//! two, so one incident never raises two alarms. Review items are the
//! default because Frigate groups all objects of one incident into one item.
//!
//! A review item or event raises one external alarm, `frigate-<id>`, on its
//! camera. Its `end`, or `event_timeout_s` without news, closes the alarm at
//! the source. An inactive record would instead raise a new alarm when an
//! operator had already closed the first one.

mod activity;
mod camera;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use self::activity::{Activity, ActivityKind, Incidents};
use self::camera::{Camera, Health, RoleStatus};
use super::{Adapter, Mappings, Message, device_id, report_interval};
use crate::config::Problem;
use crate::domain::alarm::{ExternalAlarm, Priority};
use crate::domain::device::{DeviceKind, Reported, ReportedState};
use crate::domain::observation::{Observation, SelfDescription};
use crate::i18n::Lang;
use crate::ingest::decode::{DecodeError, Limits, check_text, parse_json_object};
use crate::ingest::errors::BadPayloads;
use crate::ingest::sanitize::sanitize;
use crate::ingest::topic::MAX_ID_BYTES;

/// Prefix of our ids for this source's devices, e.g. `frigate-front-door`.
pub const ID_PREFIX: &str = "frigate";

/// Our gateway id for the Frigate server: its cameras are shown under it,
/// and one gateway alarm covers them all while Frigate is down.
pub const GATEWAY_ID: &str = "frigate";

/// Most cameras tracked, so that a publisher inventing camera names cannot
/// grow memory without limit.
const MAX_CAMERAS: usize = 1_000;

/// Source of camera alarms.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AlarmSource {
    /// `<base>/reviews`: one review item per incident on a camera, with
    /// Frigate's severity (alert or detection).
    #[default]
    Reviews,
    /// `<base>/events`: one event per tracked object, for Frigate versions
    /// without review items.
    Events,
    /// Camera health only.
    None,
}

/// The `[adapters.frigate]` section.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub enabled: bool,
    pub base_topic: String,
    /// Our inventory's view of the source's devices, by their source name.
    pub devices: Mappings,
    pub alarms_from: AlarmSource,
    /// Priority of alarms from alert-level review items.
    pub alert_priority: String,
    /// Priority of alarms from detection-level review items.
    pub detection_priority: String,
    /// Whether detection-level review items raise alarms at all.
    pub detections: bool,
    /// Priority of alarms from events, which carry no severity.
    pub event_priority: String,
    /// Object or audio labels that raise alarms; empty for all.
    pub labels: Vec<String>,
    /// Roles of `<camera>/status/<role>` that must be online for a healthy camera.
    pub status_roles: Vec<String>,
    /// Seconds a camera must stay bad before it is reported as video loss,
    /// and stay good before a video loss ends.
    pub status_debounce_s: u32,
    /// Seconds without news about a review item or event after which its
    /// alarm is closed as if it had ended.
    pub event_timeout_s: u32,
    /// Seconds between the reports its devices promise, unless a mapping
    /// sets its own; `None` for `console.unregistered_interval_s`.
    pub interval_s: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            enabled: false,
            base_topic: "frigate".into(),
            devices: Mappings::new(),
            alarms_from: AlarmSource::Reviews,
            alert_priority: "P2".into(),
            detection_priority: "P3".into(),
            detections: true,
            event_priority: "P3".into(),
            labels: Vec::new(),
            status_roles: vec!["detect".into(), "record".into()],
            status_debounce_s: 30,
            event_timeout_s: 600,
            interval_s: None,
        }
    }
}

impl Config {
    /// Checks the options of this section; the base topic and the mappings
    /// are checked with those of the other adapters.
    pub fn check(&self, lang: Lang, problems: &mut Vec<Problem>) {
        let priorities = [
            ("alert_priority", &self.alert_priority),
            ("detection_priority", &self.detection_priority),
            ("event_priority", &self.event_priority),
        ];
        for (key, value) in priorities {
            if Priority::parse(value).is_none() {
                problems.push(Problem {
                    key: format!("adapters.frigate.{key}"),
                    reason: lang.tf("config.bad_priority", &[("value", value)]),
                });
            }
        }
        let ranges = [
            ("status_debounce_s", self.status_debounce_s, 0, 3_600),
            ("event_timeout_s", self.event_timeout_s, 10, 86_400),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                problems.push(Problem {
                    key: format!("adapters.frigate.{key}"),
                    reason: lang.tf(
                        "config.out_of_range",
                        &[("value", &value), ("min", &min), ("max", &max)],
                    ),
                });
            }
        }
    }
}

/// Builds the adapter when the configuration switches it on.
pub fn build(config: &Config) -> Option<Box<dyn Adapter>> {
    if !config.enabled {
        return None;
    }
    Some(Box::new(Frigate::new(config.clone())))
}

/// The priorities the configuration sets, parsed once.
struct Priorities {
    alert: Priority,
    detection: Priority,
    event: Priority,
}

struct Frigate {
    config: Config,
    /// `<base>/`.
    prefix: String,
    priorities: Priorities,
    limits: Limits,
    /// Frigate's own availability; `None` until it is heard.
    gateway_online: Option<bool>,
    /// By Frigate's camera name.
    cameras: BTreeMap<String, Camera>,
    incidents: Incidents,
    bad: BadPayloads,
}

impl Frigate {
    fn new(config: Config) -> Self {
        // `check` has rejected invalid priorities; the defaults stand in for
        // configurations built without it.
        let parse = |text: &str, default| Priority::parse(text).unwrap_or(default);
        let priorities = Priorities {
            alert: parse(&config.alert_priority, Priority::P2),
            detection: parse(&config.detection_priority, Priority::P3),
            event: parse(&config.event_priority, Priority::P3),
        };
        Self {
            prefix: format!("{}/", config.base_topic),
            incidents: Incidents::new(config.event_timeout_s),
            priorities,
            config,
            limits: Limits::default(),
            gateway_online: None,
            cameras: BTreeMap::new(),
            bad: BadPayloads::default(),
        }
    }

    /// Our id for the camera Frigate names `name`.
    fn device(&self, name: &str) -> String {
        device_id(ID_PREFIX, name, &self.config.devices)
    }

    fn describe(&self, name: &str) -> SelfDescription {
        let mapping = self.config.devices.get(name);
        let interval_s = report_interval(mapping, self.config.interval_s);
        let mapping = mapping.cloned().unwrap_or_default();
        SelfDescription {
            kind: Some(DeviceKind::Camera),
            class: None,
            name: Some(mapping.name.unwrap_or_else(|| name.to_owned())),
            building: mapping.building,
            zone: mapping.zone,
            gateway: Some(GATEWAY_ID.to_owned()),
            interval_s,
        }
    }

    /// Builds a camera's state report. Retained reports carry no time.
    fn state(
        &self,
        name: &str,
        camera: &Camera,
        state: ReportedState,
        retained: bool,
        at: Timestamp,
    ) -> Observation {
        let mut reported = Reported::new(state);
        reported.recording = camera.recording;
        Observation::State {
            device: self.device(name),
            describes: self.describe(name),
            reported,
            retained,
            seen_at: (!retained).then_some(at),
        }
    }

    /// Rejects a payload: logs its topic once and returns the data error.
    fn reject(
        &mut self,
        message: &Message<'_>,
        camera: Option<&str>,
        error: &DecodeError,
    ) -> Vec<Observation> {
        self.bad.record(message.topic, message.payload, error);
        vec![Observation::DataError {
            device: camera.map(|name| self.device(name)),
            topic: sanitize(message.topic),
            code: error.code().to_owned(),
            reason: error.to_string(),
        }]
    }

    fn on_available(&mut self, message: &Message<'_>) -> Vec<Observation> {
        let choices = [("online", true), ("offline", false)];
        let online = match one_of(message.payload, &self.limits, "state", &choices) {
            Ok(online) => online,
            Err(error) => return self.reject(message, None, &error),
        };
        let was = self.gateway_online.replace(online);
        if was != Some(online) {
            for camera in self.cameras.values_mut() {
                camera.gateway_changed(online, message.received, &self.config.status_roles);
            }
            tracing::info!(online, "Frigate availability changed");
        }
        vec![Observation::GatewayAvailability {
            gateway: GATEWAY_ID.to_owned(),
            online,
            retained: message.retained,
        }]
    }

    fn on_status(&mut self, message: &Message<'_>, name: &str, role: &str) -> Vec<Observation> {
        if !self
            .config
            .status_roles
            .iter()
            .any(|watched| watched == role)
        {
            return Vec::new();
        }
        let choices = [
            ("online", RoleStatus::Online),
            ("offline", RoleStatus::Offline),
            ("disabled", RoleStatus::Disabled),
        ];
        let status = match one_of(message.payload, &self.limits, "status", &choices) {
            Ok(status) => status,
            Err(error) => return self.reject(message, Some(name), &error),
        };
        let roles = self.config.status_roles.clone();
        let Some(camera) = self.camera_mut(name) else {
            return Vec::new();
        };
        camera.set_role(role, status, message.received, &roles);
        self.settle(name, message.received, self.report_retained(message))
            .into_iter()
            .collect()
    }

    fn on_recordings(&mut self, message: &Message<'_>, name: &str) -> Vec<Observation> {
        let choices = [("on", true), ("off", false)];
        let recording = match one_of(message.payload, &self.limits, "state", &choices) {
            Ok(recording) => recording,
            Err(error) => return self.reject(message, Some(name), &error),
        };
        let Some(camera) = self.camera_mut(name) else {
            return Vec::new();
        };
        if camera.recording == Some(recording) {
            return Vec::new();
        }
        camera.recording = Some(recording);
        // The state itself did not change: report it again with the new flag.
        let retained = self.report_retained(message);
        let camera = &self.cameras[name];
        match camera.reported {
            Some(state) => vec![self.state(name, camera, state, retained, message.received)],
            None => Vec::new(),
        }
    }

    fn on_stats(&mut self, message: &Message<'_>) -> Vec<Observation> {
        let object = match parse_json_object(message.payload, &self.limits) {
            Ok(object) => object,
            Err(error) => return self.reject(message, None, &error),
        };
        let Some(Value::Object(cameras)) = object.get("cameras") else {
            return self.reject(message, None, &DecodeError::MissingField("cameras"));
        };
        let roles = self.config.status_roles.clone();
        let mut out = Vec::new();
        for (name, entry) in cameras {
            if !is_camera_name(name) {
                continue;
            }
            let fps = entry.get("camera_fps").and_then(Value::as_f64);
            let Some(camera) = self.camera_mut(name) else {
                break;
            };
            if let Some(fps) = fps {
                camera.set_fps(fps, message.received, &roles);
            }
            match self.settle(name, message.received, false) {
                Some(changed) => out.push(changed),
                // Stats that agree with the reported state prove it current.
                None => {
                    let camera = &self.cameras[name];
                    if let Some(state) = camera.confirmed(&roles) {
                        out.push(self.state(name, camera, state, false, message.received));
                    }
                }
            }
        }
        out
    }

    fn on_activity(&mut self, message: &Message<'_>, source: AlarmSource) -> Vec<Observation> {
        if message.retained {
            // An old incident must not look live.
            tracing::debug!(topic = %sanitize(message.topic), "retained Frigate review or event ignored");
            return Vec::new();
        }
        let object = match parse_json_object(message.payload, &self.limits) {
            Ok(object) => object,
            Err(error) => return self.reject(message, None, &error),
        };
        let parsed = match source {
            AlarmSource::Reviews => activity::parse_review(&object),
            _ => activity::parse_event(&object),
        };
        let activity = match parsed {
            Ok(Some(activity)) => activity,
            Ok(None) => return Vec::new(),
            Err((error, camera)) => {
                let camera = camera.filter(|name| is_camera_name(name));
                return self.reject(message, camera.as_deref(), &error);
            }
        };
        match activity.kind {
            ActivityKind::End => self.end_activity(&activity),
            ActivityKind::Active => self.continue_activity(message, &activity),
        }
    }

    fn end_activity(&mut self, activity: &Activity) -> Vec<Observation> {
        let alarm = alarm_id(&activity.id);
        match self.incidents.end(&activity.id) {
            Some(true) => vec![close(alarm)],
            Some(false) => Vec::new(),
            None => {
                // Unknown here, but an alarm raised before a restart may still
                // be open: closing it is harmless when there is none.
                tracing::info!(id = %activity.id, camera = activity.camera.as_deref().unwrap_or(""), "end of an unknown Frigate review or event");
                vec![close(alarm)]
            }
        }
    }

    fn continue_activity(
        &mut self,
        message: &Message<'_>,
        activity: &Activity,
    ) -> Vec<Observation> {
        let Some(name) = activity
            .camera
            .as_deref()
            .filter(|name| is_camera_name(name))
        else {
            let error = DecodeError::BadField {
                field: "camera",
                reason: "expected a camera name".into(),
            };
            return self.reject(message, None, &error);
        };
        let mut out = Vec::new();
        out.extend(self.seen_alive(name, message.received));
        let priority = self.alarm_priority(name, activity);
        // NOTE: an update changes neither the text nor the priority of an
        // open alarm, because the alarm rules keep those of the first record.
        // A detection that turns into an alert keeps the detection's priority.
        let raise = self
            .incidents
            .update(&activity.id, priority.is_some(), message.received);
        if let (true, Some(priority)) = (raise, priority) {
            let mapping = self.config.devices.get(name);
            out.push(Observation::ExternalAlarm {
                id: alarm_id(&activity.id),
                record: Some(ExternalAlarm {
                    id: alarm_id(&activity.id),
                    priority,
                    active: true,
                    text: activity.text(),
                    device: Some(self.device(name)),
                    building: mapping.and_then(|m| m.building.clone()).unwrap_or_default(),
                    zone: mapping.and_then(|m| m.zone.clone()).unwrap_or_default(),
                }),
            });
        }
        out
    }

    /// Returns the priority of the alarm `activity` raises, or `None` when
    /// the configuration leaves it out. A mapping's priority wins.
    fn alarm_priority(&self, name: &str, activity: &Activity) -> Option<Priority> {
        if activity.false_positive {
            return None;
        }
        if !self.config.labels.is_empty()
            && !activity
                .labels
                .iter()
                .any(|label| self.config.labels.contains(label))
        {
            return None;
        }
        let base = match activity.severity {
            Some(activity::Severity::Alert) => self.priorities.alert,
            Some(activity::Severity::Detection) if self.config.detections => {
                self.priorities.detection
            }
            Some(activity::Severity::Detection) => return None,
            None => self.priorities.event,
        };
        let mapped = self
            .config
            .devices
            .get(name)
            .and_then(|mapping| mapping.priority.as_deref())
            .and_then(Priority::parse);
        Some(mapped.unwrap_or(base))
    }

    /// Reports a camera not reported yet as `ok`, because a review or event
    /// proves that Frigate gets frames from it. Its alarm then has a device.
    fn seen_alive(&mut self, name: &str, at: Timestamp) -> Option<Observation> {
        let roles = self.config.status_roles.clone();
        let camera = self.camera_mut(name)?;
        if camera.reported.is_some()
            || matches!(camera.health(&roles), Health::Bad | Health::Disabled)
        {
            return None;
        }
        camera.reported = Some(ReportedState::Ok);
        let camera = &self.cameras[name];
        Some(self.state(name, camera, ReportedState::Ok, false, at))
    }

    /// Moves a camera's reported state on when its health has lasted long
    /// enough; returns the report when it changed.
    fn settle(&mut self, name: &str, now: Timestamp, retained: bool) -> Option<Observation> {
        if self.gateway_online == Some(false) {
            return None;
        }
        let debounce = self.config.status_debounce_s;
        let roles = &self.config.status_roles;
        let camera = self.cameras.get_mut(name)?;
        let state = camera.settle(now, debounce, roles)?;
        let camera = &self.cameras[name];
        Some(self.state(name, camera, state, retained, now))
    }

    /// Returns whether reports from `message` count as retained. Frigate's
    /// availability is its last will, so while it is online a retained
    /// camera status is the current one, not history.
    fn report_retained(&self, message: &Message<'_>) -> bool {
        message.retained && self.gateway_online != Some(true)
    }

    fn camera_mut(&mut self, name: &str) -> Option<&mut Camera> {
        if !self.cameras.contains_key(name) {
            if self.cameras.len() >= MAX_CAMERAS {
                tracing::warn!(camera = %sanitize(name), limit = MAX_CAMERAS, "too many Frigate cameras; ignoring this one");
                return None;
            }
            self.cameras.insert(name.to_owned(), Camera::default());
        }
        self.cameras.get_mut(name)
    }
}

impl Adapter for Frigate {
    fn subscriptions(&self) -> Vec<String> {
        let base = &self.config.base_topic;
        let mut filters = vec![
            format!("{base}/available"),
            format!("{base}/stats"),
            format!("{base}/+/status/+"),
            format!("{base}/+/recordings/state"),
        ];
        match self.config.alarms_from {
            AlarmSource::Reviews => filters.push(format!("{base}/reviews")),
            AlarmSource::Events => filters.push(format!("{base}/events")),
            AlarmSource::None => {}
        }
        filters
    }

    fn handle(&mut self, message: &Message<'_>) -> Option<Vec<Observation>> {
        let rest = message.topic.strip_prefix(&self.prefix)?;
        let parts: Vec<&str> = rest.split('/').collect();
        let source = self.config.alarms_from;
        let observations = match parts.as_slice() {
            ["available"] => self.on_available(message),
            ["stats"] => self.on_stats(message),
            ["reviews"] if source == AlarmSource::Reviews => self.on_activity(message, source),
            ["events"] if source == AlarmSource::Events => self.on_activity(message, source),
            [camera, "status", role] if is_camera_name(camera) => {
                self.on_status(message, camera, role)
            }
            [camera, "recordings", "state"] if is_camera_name(camera) => {
                self.on_recordings(message, camera)
            }
            [_, "status", _] | [_, "recordings", "state"] => {
                self.reject(message, None, &DecodeError::BadTopicId)
            }
            // Frigate's other topics carry nothing we show.
            _ => Vec::new(),
        };
        Some(observations)
    }

    fn tick(&mut self, now: Timestamp) -> Vec<Observation> {
        let mut out = Vec::new();
        let names: Vec<String> = self.cameras.keys().cloned().collect();
        for name in names {
            out.extend(self.settle(&name, now, false));
        }
        for id in self.incidents.expire(now) {
            out.push(close(alarm_id(&id)));
        }
        out
    }
}

/// Our id for the alarm of a review item or event.
fn alarm_id(frigate_id: &str) -> String {
    format!("{ID_PREFIX}-{frigate_id}")
}

/// Builds the record that closes an alarm at its source.
fn close(id: String) -> Observation {
    Observation::ExternalAlarm { id, record: None }
}

/// True for a camera name usable as a source name: Frigate's own names are
/// letters, digits, `_` and `-`.
fn is_camera_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ID_BYTES
        && sanitize(name) == name
        && !name.contains(['+', '#', '/'])
}

/// Reads a one-word payload such as `online` or `ON` (also as a JSON
/// string) and returns the value `choices` gives the word, ignoring case.
fn one_of<T: Copy>(
    payload: &[u8],
    limits: &Limits,
    field: &'static str,
    choices: &[(&str, T)],
) -> Result<T, DecodeError> {
    let text = check_text(payload, limits)?;
    let word = text.trim().trim_matches('"').to_ascii_lowercase();
    if let Some((_, value)) = choices.iter().find(|(name, _)| *name == word) {
        return Ok(*value);
    }
    let expected: Vec<String> = choices
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect();
    Err(DecodeError::BadField {
        field,
        reason: format!(
            "expected {}, got \"{}\"",
            expected.join(" or "),
            sanitize(&word)
        ),
    })
}
