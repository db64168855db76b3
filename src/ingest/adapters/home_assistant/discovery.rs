//! MQTT discovery configs: `<prefix>/<component>/[<node_id>/]<object_id>/config`,
//! one entity each, or `<prefix>/device/<object_id>/config` with a map of
//! components. Keys may come abbreviated (`stat_t` for `state_topic`) and
//! topics may start or end with `~`, the config's base topic.

use serde_json::{Map, Value};

use crate::ingest::sanitize::sanitize;

/// The components this adapter reads; configs of others are left alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    BinarySensor,
    Sensor,
    AlarmPanel,
}

impl Component {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "binary_sensor" => Some(Self::BinarySensor),
            "sensor" => Some(Self::Sensor),
            "alarm_control_panel" => Some(Self::AlarmPanel),
            _ => None,
        }
    }
}

/// When an entity with several availability topics counts as available.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AvailabilityMode {
    /// The last message on any of its topics decides.
    #[default]
    Latest,
    /// Available only while every topic reports available.
    All,
    /// Available while at least one topic reports available.
    Any,
}

/// One availability topic of an entity.
#[derive(Clone, Debug, PartialEq)]
pub struct AvailabilityTopic {
    pub topic: String,
    pub template: Option<String>,
    pub available: String,
    pub not_available: String,
}

/// One entity as its discovery config describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityConfig {
    /// Discovery id from the topic it was announced on:
    /// `<component>/[<node_id>/]<object_id>`, with `/<component id>` added
    /// for device-based discovery.
    pub discovery_id: String,
    pub component: Component,
    pub device_class: Option<String>,
    pub unique_id: Option<String>,
    /// The name Home Assistant shows: device name and entity name.
    pub name: Option<String>,
    /// First identifier of the Home Assistant device it belongs to.
    pub device: Option<String>,
    pub suggested_area: Option<String>,
    pub state_topic: String,
    pub value_template: Option<String>,
    pub payload_on: String,
    pub payload_off: String,
    pub unit: Option<String>,
    /// Seconds after an `on` state that the state turns `off` by itself.
    pub off_delay_s: Option<u32>,
    pub availability: Vec<AvailabilityTopic>,
    pub availability_mode: AvailabilityMode,
}

/// Entities announced on one discovery topic, and the rejected ones.
#[derive(Debug, Default, PartialEq)]
pub struct Announcement {
    pub entities: Vec<EntityConfig>,
    /// Components that could not be read, each with the source name of the
    /// entity when the config gave one, and the reason.
    pub rejected: Vec<Rejected>,
}

#[derive(Debug, PartialEq)]
pub struct Rejected {
    pub discovery_id: String,
    pub unique_id: Option<String>,
    pub reason: String,
}

/// The parts of a discovery topic after the prefix.
#[derive(Debug, PartialEq, Eq)]
pub struct DiscoveryTopic<'a> {
    pub component: &'a str,
    /// `[<node_id>/]<object_id>`.
    pub object: &'a str,
}

/// Splits `<component>/[<node_id>/]<object_id>/config` (the topic after
/// the discovery prefix).
pub fn split_topic(tail: &str) -> Option<DiscoveryTopic<'_>> {
    let rest = tail.strip_suffix("/config")?;
    let (component, object) = rest.split_once('/')?;
    let levels = object.split('/').count();
    let clean = |part: &str| !part.is_empty() && !part.contains(['+', '#']);
    if component.is_empty() || levels > 2 || !object.split('/').all(clean) {
        return None;
    }
    Some(DiscoveryTopic { component, object })
}

/// Abbreviations of the keys this adapter reads, as Home Assistant defines
/// them for discovery payloads.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("avty", "availability"),
    ("avty_mode", "availability_mode"),
    ("avty_t", "availability_topic"),
    ("avty_tpl", "availability_template"),
    ("cmp", "components"),
    ("cmps", "components"),
    ("dev", "device"),
    ("dev_cla", "device_class"),
    ("o", "origin"),
    ("off_dly", "off_delay"),
    ("p", "platform"),
    ("pl_avail", "payload_available"),
    ("pl_not_avail", "payload_not_available"),
    ("pl_off", "payload_off"),
    ("pl_on", "payload_on"),
    ("stat_t", "state_topic"),
    ("t", "topic"),
    ("uniq_id", "unique_id"),
    ("unit_of_meas", "unit_of_measurement"),
    ("val_tpl", "value_template"),
];

const DEVICE_ABBREVIATIONS: &[(&str, &str)] = &[
    ("cns", "connections"),
    ("ids", "identifiers"),
    ("sa", "suggested_area"),
];

/// Options of a device-based config that are not shared with its components.
const DEVICE_ONLY: [&str; 3] = ["device", "origin", "components"];

fn expand(object: &Map<String, Value>, table: &[(&str, &str)]) -> Map<String, Value> {
    object
        .iter()
        .map(|(key, value)| {
            let full = table
                .iter()
                .find(|(short, _)| short == key)
                .map_or(key.as_str(), |(_, full)| full);
            (full.to_owned(), value.clone())
        })
        .collect()
}

/// Parses the JSON object of a discovery config announced on
/// `<component>/<object>`.
pub fn parse(topic: &DiscoveryTopic<'_>, root: &Map<String, Value>) -> Announcement {
    let root = expand(root, ABBREVIATIONS);
    let mut announcement = Announcement::default();
    let base_id = sanitize(&format!("{}/{}", topic.component, topic.object));

    if topic.component == "device" {
        let components = match root.get("components") {
            Some(Value::Object(components)) => components,
            _ => {
                announcement.rejected.push(Rejected {
                    discovery_id: base_id,
                    unique_id: None,
                    reason: "device config without a \"components\" map".into(),
                });
                return announcement;
            }
        };
        let shared: Map<String, Value> = root
            .iter()
            .filter(|(key, _)| !DEVICE_ONLY.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        for (key, component) in components {
            let discovery_id = format!("{base_id}/{}", sanitize(key));
            let Value::Object(component) = component else {
                announcement.rejected.push(Rejected {
                    discovery_id,
                    unique_id: None,
                    reason: "component config is not a JSON object".into(),
                });
                continue;
            };
            let component = expand(component, ABBREVIATIONS);
            // A component reduced to its platform is being removed.
            let removed = component.len() == 1;
            let platform = component.get("platform").and_then(Value::as_str);
            let Some(kind) = platform.and_then(Component::parse).filter(|_| !removed) else {
                continue;
            };
            let mut merged = shared.clone();
            merged.extend(component);
            entity(
                &mut announcement,
                discovery_id,
                kind,
                &merged,
                root.get("device"),
            );
        }
        return announcement;
    }

    if let Some(component) = Component::parse(topic.component) {
        entity(
            &mut announcement,
            base_id,
            component,
            &root,
            root.get("device"),
        );
    }
    announcement
}

fn entity(
    announcement: &mut Announcement,
    discovery_id: String,
    component: Component,
    config: &Map<String, Value>,
    device: Option<&Value>,
) {
    let unique_id = text(config.get("unique_id"));
    match entity_config(discovery_id.clone(), component, config, device) {
        Ok(entity) => announcement.entities.push(entity),
        Err(reason) => announcement.rejected.push(Rejected {
            discovery_id,
            unique_id,
            reason,
        }),
    }
}

fn entity_config(
    discovery_id: String,
    component: Component,
    config: &Map<String, Value>,
    device: Option<&Value>,
) -> Result<EntityConfig, String> {
    let base = match config.get("~") {
        None | Some(Value::Null) => None,
        Some(Value::String(base)) => Some(base.as_str()),
        Some(_) => return Err("\"~\" is not a string".into()),
    };
    let state_topic = match config.get("state_topic") {
        Some(Value::String(topic)) => topic_with_base(topic, base),
        Some(_) => return Err("\"state_topic\" is not a string".into()),
        None => return Err("missing \"state_topic\"".into()),
    };
    check_topic("state_topic", &state_topic)?;

    let device = match device {
        Some(Value::Object(device)) => Some(expand(device, DEVICE_ABBREVIATIONS)),
        _ => None,
    };
    let device_name = device.as_ref().and_then(|d| text(d.get("name")));
    let device_id = device.as_ref().and_then(device_key);
    let suggested_area = device.as_ref().and_then(|d| text(d.get("suggested_area")));
    // A name that is null on purpose means the entity is the device itself.
    let entity_name = text(config.get("name"));
    let name = match (device_name, entity_name) {
        (Some(device), Some(entity)) => Some(format!("{device} {entity}")),
        (device, entity) => entity.or(device),
    };

    let off_delay_s = match config.get("off_delay") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .and_then(|seconds| u32::try_from(seconds).ok())
                .ok_or("\"off_delay\" is not a whole number of seconds")?,
        ),
    };

    Ok(EntityConfig {
        discovery_id,
        component,
        device_class: text(config.get("device_class")),
        unique_id: text(config.get("unique_id")),
        name,
        device: device_id,
        suggested_area,
        state_topic,
        value_template: template(config.get("value_template"))?,
        payload_on: payload(config.get("payload_on"), "ON"),
        payload_off: payload(config.get("payload_off"), "OFF"),
        unit: text(config.get("unit_of_measurement")),
        off_delay_s,
        availability: availability(config, base)?,
        availability_mode: match config.get("availability_mode").and_then(Value::as_str) {
            None | Some("latest") => AvailabilityMode::Latest,
            Some("all") => AvailabilityMode::All,
            Some("any") => AvailabilityMode::Any,
            Some(other) => {
                return Err(format!(
                    "availability_mode \"{}\" is not all, any or latest",
                    sanitize(other)
                ));
            }
        },
    })
}

fn availability(
    config: &Map<String, Value>,
    base: Option<&str>,
) -> Result<Vec<AvailabilityTopic>, String> {
    let default_available = payload(config.get("payload_available"), "online");
    let default_not_available = payload(config.get("payload_not_available"), "offline");
    let mut topics = Vec::new();
    match config.get("availability") {
        None | Some(Value::Null) => {}
        Some(Value::Array(entries)) => {
            for entry in entries {
                let Value::Object(entry) = entry else {
                    return Err("an \"availability\" entry is not a JSON object".into());
                };
                let entry = expand(entry, ABBREVIATIONS);
                let topic = match entry.get("topic") {
                    Some(Value::String(topic)) => topic_with_base(topic, base),
                    _ => return Err("an \"availability\" entry has no \"topic\"".into()),
                };
                check_topic("availability topic", &topic)?;
                topics.push(AvailabilityTopic {
                    topic,
                    template: template(entry.get("value_template"))?,
                    available: entry
                        .get("payload_available")
                        .map_or_else(|| default_available.clone(), |v| payload(Some(v), "")),
                    not_available: entry
                        .get("payload_not_available")
                        .map_or_else(|| default_not_available.clone(), |v| payload(Some(v), "")),
                });
            }
        }
        Some(_) => return Err("\"availability\" is not a list".into()),
    }
    match config.get("availability_topic") {
        None | Some(Value::Null) => {}
        Some(Value::String(topic)) => {
            let topic = topic_with_base(topic, base);
            check_topic("availability_topic", &topic)?;
            topics.push(AvailabilityTopic {
                topic,
                template: template(config.get("availability_template"))?,
                available: default_available,
                not_available: default_not_available,
            });
        }
        Some(_) => return Err("\"availability_topic\" is not a string".into()),
    }
    Ok(topics)
}

/// Replaces a leading or trailing `~` with the config's base topic.
fn topic_with_base(topic: &str, base: Option<&str>) -> String {
    let Some(base) = base else {
        return topic.to_owned();
    };
    let mut topic = topic.to_owned();
    if let Some(rest) = topic.strip_prefix('~') {
        topic = format!("{base}{rest}");
    }
    if let Some(rest) = topic.strip_suffix('~') {
        topic = format!("{rest}{base}");
    }
    topic
}

/// Accepts a topic this adapter can subscribe to as it is: wildcards would
/// need matching on every message, and are rejected.
fn check_topic(key: &str, topic: &str) -> Result<(), String> {
    let clean = !topic.is_empty()
        && topic.len() <= 1_024
        && !topic.contains(['+', '#', '\0'])
        && sanitize(topic) == topic;
    if clean {
        Ok(())
    } else {
        Err(format!(
            "{key} \"{}\" is not a plain topic (empty, too long, with + or #, or with control characters)",
            sanitize(topic)
        ))
    }
}

fn template(value: Option<&Value>) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err("a template is not a string".into()),
    }
}

/// Reads a payload option as Home Assistant does: any scalar, as text.
fn payload(value: Option<&Value>, default: &str) -> String {
    match value {
        None | Some(Value::Null) => default.to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Bool(true)) => "True".into(),
        Some(Value::Bool(false)) => "False".into(),
        Some(other) => other.to_string(),
    }
}

/// Reads a short text option, sanitised. `None` when absent or empty.
fn text(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::String(text) => sanitize(text),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// Returns the key grouping a Home Assistant device's entities: its first
/// identifier, else its first connection.
fn device_key(device: &Map<String, Value>) -> Option<String> {
    let first = |value: Option<&Value>| match value? {
        Value::Array(items) => items.first().cloned(),
        other => Some(other.clone()),
    };
    if let Some(identifier) = first(device.get("identifiers")).and_then(|v| text(Some(&v))) {
        return Some(identifier);
    }
    match first(device.get("connections"))? {
        Value::Array(pair) => {
            let parts: Vec<String> = pair.iter().filter_map(|v| text(Some(v))).collect();
            (!parts.is_empty()).then(|| parts.join(":"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: &str) -> Map<String, Value> {
        match serde_json::from_str(json).unwrap() {
            Value::Object(object) => object,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn topics_split() {
        assert_eq!(
            split_topic("binary_sensor/front_door/config"),
            Some(DiscoveryTopic {
                component: "binary_sensor",
                object: "front_door"
            })
        );
        assert_eq!(
            split_topic("binary_sensor/node1/front_door/config"),
            Some(DiscoveryTopic {
                component: "binary_sensor",
                object: "node1/front_door"
            })
        );
        assert_eq!(split_topic("binary_sensor/a/b/c/config"), None);
        assert_eq!(split_topic("binary_sensor/config"), None);
        assert_eq!(split_topic("binary_sensor/a/state"), None);
        assert_eq!(split_topic("binary_sensor//config"), None);
    }

    #[test]
    fn abbreviations_and_base() {
        let topic = split_topic("binary_sensor/hall/config").unwrap();
        let config = object(
            r#"{"~": "home/hall", "stat_t": "~/state", "avty_t": "~/lwt",
                "pl_on": true, "pl_off": false, "dev_cla": "door", "uniq_id": "hall-1",
                "val_tpl": "{{ value_json.open }}", "off_dly": 30,
                "dev": {"ids": ["hall-dev"], "name": "Hall", "sa": "Lobby"}, "name": "Door"}"#,
        );
        let announcement = parse(&topic, &config);
        assert!(announcement.rejected.is_empty(), "{announcement:?}");
        let entity = &announcement.entities[0];
        assert_eq!(entity.state_topic, "home/hall/state");
        assert_eq!(entity.availability[0].topic, "home/hall/lwt");
        assert_eq!(entity.availability[0].available, "online");
        assert_eq!(entity.payload_on, "True");
        assert_eq!(entity.payload_off, "False");
        assert_eq!(entity.device_class.as_deref(), Some("door"));
        assert_eq!(entity.unique_id.as_deref(), Some("hall-1"));
        assert_eq!(entity.device.as_deref(), Some("hall-dev"));
        assert_eq!(entity.suggested_area.as_deref(), Some("Lobby"));
        assert_eq!(entity.name.as_deref(), Some("Hall Door"));
        assert_eq!(entity.off_delay_s, Some(30));
    }

    #[test]
    fn availability_list_and_mode() {
        let topic = split_topic("binary_sensor/x/config").unwrap();
        let config = object(
            r#"{"stat_t": "x/state", "avty_mode": "all", "pl_avail": "up",
                "avty": [{"t": "bridge/state", "val_tpl": "{{ value_json.state }}"},
                         {"topic": "x/avail", "payload_available": "yes", "pl_not_avail": "no"}]}"#,
        );
        let entity = &parse(&topic, &config).entities[0];
        assert_eq!(entity.availability_mode, AvailabilityMode::All);
        assert_eq!(entity.availability.len(), 2);
        assert_eq!(entity.availability[0].available, "up");
        assert_eq!(entity.availability[0].not_available, "offline");
        assert_eq!(
            entity.availability[0].template.as_deref(),
            Some("{{ value_json.state }}")
        );
        assert_eq!(entity.availability[1].available, "yes");
        assert_eq!(entity.availability[1].not_available, "no");
    }

    #[test]
    fn device_based_discovery() {
        let topic = split_topic("device/kitchen/config").unwrap();
        let config = object(
            r#"{"dev": {"ids": "k1", "name": "Kitchen alarm"}, "o": {"name": "x"},
                "stat_t": "kitchen/state", "avty_t": "kitchen/avail",
                "cmps": {
                    "smoke": {"p": "binary_sensor", "dev_cla": "smoke", "uniq_id": "k1-smoke",
                              "val_tpl": "{{ value_json.smoke }}", "name": null},
                    "temp": {"p": "sensor", "dev_cla": "temperature", "uniq_id": "k1-t"},
                    "light": {"p": "light", "uniq_id": "k1-l"},
                    "gone": {"p": "binary_sensor"}
                }}"#,
        );
        let announcement = parse(&topic, &config);
        assert!(announcement.rejected.is_empty(), "{announcement:?}");
        let ids: Vec<&str> = announcement
            .entities
            .iter()
            .map(|e| e.discovery_id.as_str())
            .collect();
        assert_eq!(ids, ["device/kitchen/smoke", "device/kitchen/temp"]);
        let smoke = &announcement.entities[0];
        assert_eq!(smoke.state_topic, "kitchen/state");
        assert_eq!(smoke.availability[0].topic, "kitchen/avail");
        assert_eq!(smoke.device.as_deref(), Some("k1"));
        assert_eq!(smoke.name.as_deref(), Some("Kitchen alarm"));
    }

    #[test]
    fn bad_configs_rejected() {
        let topic = split_topic("binary_sensor/x/config").unwrap();
        for (config, reason) in [
            (r#"{"uniq_id": "u"}"#, "missing \"state_topic\""),
            (r#"{"stat_t": "a/+/b"}"#, "not a plain topic"),
            (r#"{"stat_t": 5}"#, "not a string"),
            (
                r#"{"stat_t": "a", "avty_mode": "most"}"#,
                "availability_mode",
            ),
            (r#"{"stat_t": "a", "avty": "x"}"#, "not a list"),
        ] {
            let announcement = parse(&topic, &object(config));
            assert!(announcement.entities.is_empty(), "{config}");
            assert!(
                announcement.rejected[0].reason.contains(reason),
                "{config}: {:?}",
                announcement.rejected
            );
        }
    }
}
