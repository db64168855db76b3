//! Adapters for the systems a site already runs: Zigbee2MQTT, Home
//! Assistant and Frigate publish in their own formats on their own topics.
//! Each adapter turns its messages into the same observations the native
//! format gives, so devices, states and alarms look the same on screen.
//!
//! The link hands every message outside the native topic root to the
//! adapters; the first that owns the topic answers. Adapters keep what the
//! source announced (device lists, discovery configs, open events) in
//! memory: retained messages bring it back after every restart.

pub mod frigate;
pub mod home_assistant;
pub mod zigbee2mqtt;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;

use super::sanitize::sanitize;
use super::topic::MAX_ID_BYTES;
use crate::domain::Observation;
use crate::domain::alarm::Priority;

/// One message from the broker, as passed to an adapter.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    pub topic: &'a str,
    pub payload: &'a [u8],
    pub retained: bool,
    pub received: Timestamp,
}

/// A source format mapped onto observations.
pub trait Adapter: Send {
    /// Topic filters this adapter reads.
    fn subscriptions(&self) -> Vec<String>;

    /// Decodes `message` when its topic belongs to this adapter (`None`
    /// otherwise). A payload that cannot be used gives an
    /// [`Observation::DataError`], so it is counted like a native one; a
    /// topic of the adapter that carries nothing for us gives no observation.
    fn handle(&mut self, message: &Message<'_>) -> Option<Vec<Observation>>;

    /// Time-driven work such as timeouts and debounces; called about once a
    /// second.
    fn tick(&mut self, _now: Timestamp) -> Vec<Observation> {
        Vec::new()
    }

    /// Topic filters learned since the last call, such as the state topics
    /// a discovery message names. The link subscribes to them at once and
    /// again on every reconnect.
    fn take_new_subscriptions(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// The `[adapters]` section of the configuration.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdaptersConfig {
    pub zigbee2mqtt: zigbee2mqtt::Config,
    pub home_assistant: home_assistant::Config,
    pub frigate: frigate::Config,
}

/// Mapping of another system's device onto our inventory. Every field is
/// optional, and an unmapped device appears under its source name.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceMapping {
    /// Our id for it; by default derived from the source name.
    pub id: Option<String>,
    pub name: Option<String>,
    pub building: Option<String>,
    pub zone: Option<String>,
    /// Priority of every alarm this device raises, e.g. "P1".
    pub priority: Option<String>,
    /// Seconds between the reports the device promises: silent for longer
    /// than this times `console.stale_factor`, it is drawn stale. Wins over
    /// the adapter's `interval_s`.
    pub interval_s: Option<u32>,
}

/// Returns the report interval of a device: its mapping's, else the
/// adapter's `default`, else `None`, which leaves it to
/// `console.unregistered_interval_s`.
pub fn report_interval(mapping: Option<&DeviceMapping>, default: Option<u32>) -> Option<u32> {
    mapping.and_then(|mapping| mapping.interval_s).or(default)
}

/// Mappings by the source's name for a device.
pub type Mappings = BTreeMap<String, DeviceMapping>;

/// The options every adapter has, for checks that apply to all of them.
pub struct Section<'a> {
    /// The key under `[adapters]`, e.g. `zigbee2mqtt`.
    pub name: &'static str,
    /// Prefix of our ids for the adapter's devices, e.g. `z2m`.
    pub id_prefix: &'static str,
    pub base_topic: &'a str,
    pub mappings: &'a Mappings,
    pub interval_s: Option<u32>,
}

impl AdaptersConfig {
    /// Returns each adapter's common options.
    pub fn sections(&self) -> [Section<'_>; 3] {
        [
            Section {
                name: "zigbee2mqtt",
                id_prefix: zigbee2mqtt::ID_PREFIX,
                base_topic: &self.zigbee2mqtt.base_topic,
                mappings: &self.zigbee2mqtt.devices,
                interval_s: self.zigbee2mqtt.interval_s,
            },
            Section {
                name: "home_assistant",
                id_prefix: home_assistant::ID_PREFIX,
                base_topic: &self.home_assistant.base_topic,
                mappings: &self.home_assistant.devices,
                interval_s: self.home_assistant.interval_s,
            },
            Section {
                name: "frigate",
                id_prefix: frigate::ID_PREFIX,
                base_topic: &self.frigate.base_topic,
                mappings: &self.frigate.devices,
                interval_s: self.frigate.interval_s,
            },
        ]
    }

    /// Returns the Home Assistant section the adapter runs with: while the
    /// Zigbee2MQTT adapter is on, the devices Zigbee2MQTT announces to Home
    /// Assistant are left to it, so that each appears once.
    pub fn home_assistant_in_use(&self) -> home_assistant::Config {
        let mut config = self.home_assistant.clone();
        let zigbee = &self.zigbee2mqtt.base_topic;
        if self.zigbee2mqtt.enabled && !config.ignore_topics.contains(zigbee) {
            config.ignore_topics.push(zigbee.clone());
        }
        config
    }
}

/// Priorities the mappings set, by our device id.
pub fn device_priorities(config: &AdaptersConfig) -> BTreeMap<String, Priority> {
    let mut priorities = BTreeMap::new();
    for section in config.sections() {
        for (source, mapping) in section.mappings {
            if let Some(priority) = mapping.priority.as_deref().and_then(Priority::parse) {
                let id = device_id(section.id_prefix, source, section.mappings);
                priorities.insert(id, priority);
            }
        }
    }
    priorities
}

/// The adapters switched on in the configuration.
#[derive(Default)]
pub struct Adapters {
    list: Vec<Box<dyn Adapter>>,
}

impl Adapters {
    pub fn new(config: &AdaptersConfig) -> Self {
        let list = [
            zigbee2mqtt::build(&config.zigbee2mqtt),
            home_assistant::build(&config.home_assistant_in_use()),
            frigate::build(&config.frigate),
        ]
        .into_iter()
        .flatten()
        .collect();
        Self { list }
    }

    /// Adapters given directly, for tests.
    pub fn of(list: Vec<Box<dyn Adapter>>) -> Self {
        Self { list }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn subscriptions(&self) -> Vec<String> {
        self.list
            .iter()
            .flat_map(|adapter| adapter.subscriptions())
            .collect()
    }

    /// Decodes `message` with the first adapter that owns its topic.
    pub fn handle(&mut self, message: &Message<'_>) -> Option<Vec<Observation>> {
        self.list
            .iter_mut()
            .find_map(|adapter| adapter.handle(message))
    }

    pub fn tick(&mut self, now: Timestamp) -> Vec<Observation> {
        self.list
            .iter_mut()
            .flat_map(|adapter| adapter.tick(now))
            .collect()
    }

    /// Collects the filters the adapters learned since the last call.
    pub fn take_new_subscriptions(&mut self) -> Vec<String> {
        self.list
            .iter_mut()
            .flat_map(|adapter| adapter.take_new_subscriptions())
            .collect()
    }
}

/// Our id for a device `name` of a source, e.g. `z2m-front-door`: letters
/// and digits kept (any script), everything else a single `-`, at most
/// [`MAX_ID_BYTES`] bytes. A mapping's `id` wins over this.
pub fn device_id(prefix: &str, name: &str, mappings: &Mappings) -> String {
    if let Some(id) = mappings.get(name).and_then(|mapping| mapping.id.clone()) {
        return id;
    }
    let mut id = format!("{prefix}-");
    let mut dash = true;
    for c in sanitize(name).chars() {
        if c.is_alphanumeric() {
            id.extend(c.to_lowercase());
            dash = false;
        } else if !dash {
            id.push('-');
            dash = true;
        }
    }
    while id.ends_with('-') {
        id.pop();
    }
    if id.len() > MAX_ID_BYTES {
        let mut cut = MAX_ID_BYTES;
        while !id.is_char_boundary(cut) {
            cut -= 1;
        }
        id.truncate(cut);
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_source_names() {
        let none = Mappings::new();
        assert_eq!(device_id("z2m", "Front Door", &none), "z2m-front-door");
        assert_eq!(
            device_id("z2m", "3栋/大门 门磁", &none),
            "z2m-3栋-大门-门磁"
        );
        assert_eq!(device_id("ha", "  --x--  ", &none), "ha-x");
        let long = "a".repeat(200);
        assert_eq!(device_id("ha", &long, &none).len(), MAX_ID_BYTES);

        let mut mapped = Mappings::new();
        mapped.insert(
            "Front Door".into(),
            DeviceMapping {
                id: Some("b1-door-1".into()),
                ..DeviceMapping::default()
            },
        );
        assert_eq!(device_id("z2m", "Front Door", &mapped), "b1-door-1");
    }
}
