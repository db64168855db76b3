//! Zigbee2MQTT: a Zigbee network bridged to MQTT (versions 1.17 and later,
//! whose `bridge/devices` lists every device with its `exposes`).
//!
//! Topics under `<base>/` (`base_topic`, default `zigbee2mqtt`):
//!
//! | topic | becomes |
//! |---|---|
//! | `bridge/state` (`online`/`offline` or `{"state":"online"}`) | `GatewayAvailability` of the bridge, id `z2m-bridge` (`z2m-bridge-<base>` for another base topic) |
//! | `bridge/devices` | the inventory: friendly names, IEEE addresses and exposes |
//! | `bridge/event` `device_leave` | a recorded `left_network` event of the device |
//! | `<friendly_name>` | the device's `State`, plus events (below) |
//! | `<friendly_name>/availability` (plain or JSON) | `Availability` |
//!
//! Other `bridge/…` topics, `<friendly_name>/set`, `/get` and other
//! sub-topics, and groups are read and ignored.
//!
//! A device counts when it exposes one of the properties below or has a
//! mapping; lights, plugs, remotes and thermometers are left out. The
//! exposes decide kind and class, the first that applies:
//!
//! | exposed | kind / class | state |
//! |---|---|---|
//! | `contact` | door | `false` → open, `true` → closed |
//! | `smoke` | detector / smoke | `true` → alarm |
//! | `gas`, `carbon_monoxide` | detector / gas | `true` → alarm |
//! | `water_leak` | detector / water_leak | `true` → alarm |
//! | `sos`, or `action` with `emergency`, `sos` or `panic` | detector / panic_button | `sos: true` → alarm |
//! | `occupancy` | detector / pir | `true` → alarm |
//! | `vibration` | detector / glass_break | `true` → alarm |
//! | `tamper` only | detector, no class | |
//!
//! A detector not in alarm whose `tamper` is true reports `tamper`. The
//! binary values come from each expose's `value_on`/`value_off`. Common
//! fields: `battery` (percent) and `battery_low` set the battery,
//! `linkquality` sets an estimated signal in dBm, `last_seen` times a
//! retained state.
//!
//! Events come from live messages only, because a retained one may be old.
//! An `action` of `emergency`, `sos` or `panic` raises `panic`, and other
//! actions are ignored. On a door, `tamper` turning true raises `tamper`.
//! An alarm property outside the device's class that turns true (carbon
//! monoxide on a smoke detector, say) raises its own event: `smoke`, `gas`,
//! `water_leak` or `sos`.
//!
//! Every device hangs off the bridge's gateway, so when the bridge goes
//! offline its devices are shown offline under one gateway alarm, not one
//! alarm each.
//!
//! Ids and renames: a mapping is found by the device's IEEE address first,
//! then by its friendly name; our id is the mapping's `id`, else derived
//! from the key that matched (`z2m-lobby-door`, `z2m-0x00158d…`). The
//! adapter follows devices by IEEE address, so a device renamed while it
//! runs keeps its id and mapping until the process restarts, unless a
//! mapping names the new friendly name. After a restart only the new name
//! is known: key mappings by IEEE address where devices get renamed.
//!
//! Device messages wait in memory (bounded) until the first
//! `bridge/devices` arrives, because only the device list shows which part
//! of a topic is the friendly name (names may contain `/`).

mod held;
mod inventory;
mod payload;

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::Value;

use self::held::Held;
use self::inventory::{Entry, Feature, Features};
use super::{Adapter, DeviceMapping, Mappings, Message, device_id, report_interval};
use crate::domain::Observation;
use crate::domain::device::{DetectorClass, DeviceKind, Reported};
use crate::domain::observation::SelfDescription;
use crate::ingest::decode::{DecodeError, Limits, decode, parse_json_object};
use crate::ingest::errors::BadPayloads;
use crate::ingest::sanitize::sanitize;
use crate::ingest::topic::{MAX_ID_BYTES, Route};

/// Prefix of our ids for this source's devices, e.g. `z2m-front-door`.
pub const ID_PREFIX: &str = "z2m";

const DEFAULT_BASE_TOPIC: &str = "zigbee2mqtt";

/// Largest `bridge/devices` or `bridge/event` accepted. Both carry device
/// definitions, a few kilobytes per device, so they outgrow the limit of
/// device payloads.
pub const INVENTORY_MAX_BYTES: usize = 16 * 1024 * 1024;

/// How long device messages may wait for `bridge/devices` before a
/// warning is logged.
const INVENTORY_WAIT: SignedDuration = SignedDuration::from_secs(60);

/// The `[adapters.zigbee2mqtt]` section.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub enabled: bool,
    pub base_topic: String,
    /// Our inventory's view of the source's devices, by friendly name or
    /// IEEE address (`0x00158d0001a2b3c4`).
    pub devices: Mappings,
    /// Devices never watched, by friendly name or IEEE address: motion
    /// sensors that only switch lights, say, which would otherwise raise
    /// intrusion alarms.
    pub ignore: Vec<String>,
    /// Seconds between the reports its devices promise, unless a mapping
    /// sets its own; `None` for `console.unregistered_interval_s`.
    pub interval_s: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            enabled: false,
            base_topic: DEFAULT_BASE_TOPIC.into(),
            devices: Mappings::new(),
            ignore: Vec::new(),
            interval_s: None,
        }
    }
}

/// Our gateway id for the bridge on `base_topic`: `z2m-bridge` for the
/// default base topic, else derived from it, so it stays the same across
/// restarts.
pub fn gateway_id(base_topic: &str) -> String {
    if base_topic == DEFAULT_BASE_TOPIC {
        return format!("{ID_PREFIX}-bridge");
    }
    device_id(&format!("{ID_PREFIX}-bridge"), base_topic, &Mappings::new())
}

/// Builds the adapter when the configuration switches it on.
pub fn build(config: &Config) -> Option<Box<dyn Adapter>> {
    if !config.enabled {
        return None;
    }
    Some(Box::new(Zigbee2Mqtt::new(config)))
}

/// A device of the network as the adapter follows it, by IEEE address.
#[derive(Clone, Debug)]
struct Device {
    friendly_name: String,
    features: Features,
    kind: DeviceKind,
    class: Option<DetectorClass>,
    /// Whether the guard room watches it: it exposes a security property or
    /// has a mapping.
    tracked: bool,
    /// Our id; empty for devices not tracked.
    id: String,
    /// The mapping that described the device when it got its id.
    mapping: Option<DeviceMapping>,
    memory: Memory,
}

/// The device's last good values, so that a payload that leaves a field
/// out does not erase it.
#[derive(Clone, Debug, Default)]
struct Memory {
    binaries: BTreeMap<Feature, bool>,
    battery: Option<u8>,
    signal: Option<i16>,
    /// The last report sent on, to describe the device again after a rename.
    reported: Option<Reported>,
}

/// The Zigbee2MQTT adapter.
pub struct Zigbee2Mqtt {
    /// The base topic with its trailing `/`.
    prefix: String,
    gateway: String,
    mappings: Mappings,
    /// Report interval of devices whose mapping sets none.
    interval_s: Option<u32>,
    /// Mapping keys that are IEEE addresses, lowercased, to the key as written.
    ieee_keys: HashMap<String, String>,
    /// Ignored friendly names, and IEEE addresses lowercased.
    ignore: HashSet<String>,
    limits: Limits,
    /// Every device of the last device list, by IEEE address.
    devices: HashMap<String, Device>,
    /// Friendly name to IEEE address; `None` until the first device list.
    names: Option<HashMap<String, String>>,
    /// Device messages that arrived before the first device list.
    held: Held,
    wait_logged: bool,
    /// Mapping keys already reported as matching no device.
    unmatched_logged: HashSet<String>,
    bad: BadPayloads,
}

impl Zigbee2Mqtt {
    pub fn new(config: &Config) -> Self {
        Self {
            prefix: format!("{}/", config.base_topic),
            gateway: gateway_id(&config.base_topic),
            mappings: config.devices.clone(),
            interval_s: config.interval_s,
            ieee_keys: config
                .devices
                .keys()
                .filter(|key| inventory::is_ieee_address(&key.to_ascii_lowercase()))
                .map(|key| (key.to_ascii_lowercase(), key.clone()))
                .collect(),
            ignore: config
                .ignore
                .iter()
                .map(|name| {
                    let lower = name.to_ascii_lowercase();
                    if inventory::is_ieee_address(&lower) {
                        lower
                    } else {
                        name.clone()
                    }
                })
                .collect(),
            limits: Limits::default(),
            devices: HashMap::new(),
            names: None,
            held: Held::default(),
            wait_logged: false,
            unmatched_logged: HashSet::new(),
            bad: BadPayloads::default(),
        }
    }

    fn bridge_state(&mut self, message: &Message<'_>) -> Vec<Observation> {
        if message.payload.is_empty() {
            // An empty payload clears the retained message; it carries no state.
            return Vec::new();
        }
        let route = Route::GatewayAvailability(self.gateway.clone());
        match decode(
            &route,
            message.payload,
            message.retained,
            message.received,
            &self.limits,
        ) {
            Ok(observation) => observation.into_iter().collect(),
            Err(error) => vec![self.data_error(None, message, error)],
        }
    }

    fn bridge_devices(&mut self, message: &Message<'_>) -> Vec<Observation> {
        if message.payload.is_empty() {
            return Vec::new();
        }
        let parsed = large_text(message.payload).and_then(inventory::parse);
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(error) => return vec![self.data_error(None, message, error)],
        };
        if parsed.skipped > 0 {
            tracing::warn!(
                topic = %sanitize(message.topic),
                skipped = parsed.skipped,
                "device list entries without a valid ieee_address or friendly_name were skipped"
            );
        }
        let first = self.names.is_none();
        let mut out = self.learn(parsed.entries);
        if first {
            out.extend(self.replay());
        }
        out
    }

    fn bridge_event(&mut self, message: &Message<'_>) -> Vec<Observation> {
        // An event delivered again as retained happened in the past.
        if message.retained || message.payload.is_empty() {
            return Vec::new();
        }
        #[derive(Deserialize)]
        struct BridgeEvent {
            #[serde(rename = "type", default)]
            kind: Option<String>,
            #[serde(default)]
            data: Value,
        }
        let event = large_text(message.payload).and_then(|text| {
            serde_json::from_str::<BridgeEvent>(text)
                .map_err(|error| DecodeError::InvalidJson(error.to_string()))
        });
        let event = match event {
            Ok(event) => event,
            Err(error) => return vec![self.data_error(None, message, error)],
        };
        if event.kind.as_deref() != Some("device_leave") {
            return Vec::new();
        }
        let ieee = event
            .data
            .get("ieee_address")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let Some(device) = ieee
            .and_then(|ieee| self.devices.get(&ieee))
            .filter(|device| device.tracked)
        else {
            return Vec::new();
        };
        tracing::info!(device = %device.id, "device left the Zigbee network");
        vec![Observation::DeviceEvent {
            device: device.id.clone(),
            event_id: format!("left_network-{}", message.received.as_millisecond()),
            event: "left_network".into(),
            text: None,
            source_ts: None,
        }]
    }

    /// Takes in a new device list: gives every tracked device its id,
    /// keeping ids across renames, and describes again the devices whose
    /// description changed.
    fn learn(&mut self, entries: Vec<Entry>) -> Vec<Observation> {
        let mut previous = std::mem::take(&mut self.devices);
        let mut names = HashMap::with_capacity(entries.len());
        let mut devices = HashMap::with_capacity(entries.len());
        let mut used: HashSet<String> = HashSet::new();
        let mut out = Vec::new();

        // Mapped devices take their ids first, then those already known,
        // so that a derived id never takes one of theirs.
        let mut entries: Vec<(u8, Entry)> = entries
            .into_iter()
            .map(|entry| {
                let rank = if self.mapping_key(&entry).is_some() {
                    0
                } else if previous.contains_key(&entry.ieee_address) {
                    1
                } else {
                    2
                };
                (rank, entry)
            })
            .collect();
        entries.sort_by_key(|(rank, _)| *rank);

        for (_, entry) in entries {
            names.insert(entry.friendly_name.clone(), entry.ieee_address.clone());
            let old = previous.remove(&entry.ieee_address);
            let device = self.place(&entry, old.as_ref(), &mut used);
            if let Some(old) = &old
                && device.tracked
                && old.tracked
            {
                if old.friendly_name != device.friendly_name {
                    let from = sanitize(&old.friendly_name);
                    let to = sanitize(&device.friendly_name);
                    if self.mapping_key(&entry).is_some() {
                        tracing::info!(device = %device.id, %from, %to, "Zigbee2MQTT device renamed");
                    } else {
                        tracing::warn!(
                            device = %device.id,
                            %from,
                            %to,
                            "Zigbee2MQTT device renamed; it keeps its id until guardroom restarts, \
                             so key its mapping by IEEE address or by the new name"
                        );
                    }
                }
                if let Some(reported) = &device.memory.reported
                    && (old.id != device.id || self.describe(old) != self.describe(&device))
                {
                    // An untimed retained report changes only the description.
                    out.push(Observation::State {
                        device: device.id.clone(),
                        describes: self.describe(&device),
                        reported: reported.clone(),
                        retained: true,
                        seen_at: None,
                    });
                }
            }
            devices.insert(entry.ieee_address, device);
        }

        for key in self.mappings.keys() {
            let matched =
                devices.contains_key(&key.to_ascii_lowercase()) || names.contains_key(key);
            if !matched && self.unmatched_logged.insert(key.clone()) {
                tracing::warn!(
                    mapping = %sanitize(key),
                    "no Zigbee2MQTT device has this friendly name or IEEE address"
                );
            }
        }
        self.devices = devices;
        self.names = Some(names);
        out
    }

    /// Builds the adapter's record of `entry`, carrying over what it knew
    /// of the device under the same IEEE address.
    fn place(&self, entry: &Entry, old: Option<&Device>, used: &mut HashSet<String>) -> Device {
        let (kind, class) = entry.features.kind_and_class();
        let key = self.mapping_key(entry);
        let tracked = (entry.features.is_security() || key.is_some()) && !self.is_ignored(entry);
        let mut device = Device {
            friendly_name: entry.friendly_name.clone(),
            features: entry.features.clone(),
            kind,
            class,
            tracked,
            id: String::new(),
            mapping: None,
            memory: old.map(|old| old.memory.clone()).unwrap_or_default(),
        };
        if !tracked {
            return device;
        }
        let (id, mapping) = match (key, old.filter(|old| old.tracked)) {
            (Some(key), _) => (
                device_id(ID_PREFIX, key, &self.mappings),
                self.mappings.get(key).cloned(),
            ),
            (None, Some(old)) => (old.id.clone(), old.mapping.clone()),
            (None, None) => (
                device_id(ID_PREFIX, &entry.friendly_name, &Mappings::new()),
                None,
            ),
        };
        device.id = if used.contains(&id) {
            let unique = with_suffix(&id, &entry.ieee_address);
            tracing::warn!(
                taken = %id,
                device = %unique,
                "two Zigbee2MQTT devices would get the same id; the later one gets its address appended"
            );
            unique
        } else {
            id
        };
        used.insert(device.id.clone());
        device.mapping = mapping;
        device
    }

    /// Returns the key of the mapping for `entry`: its IEEE address, else
    /// its friendly name.
    fn mapping_key<'a>(&'a self, entry: &'a Entry) -> Option<&'a str> {
        if let Some(key) = self.ieee_keys.get(&entry.ieee_address) {
            return Some(key);
        }
        let name = entry.friendly_name.as_str();
        self.mappings.contains_key(name).then_some(name)
    }

    fn is_ignored(&self, entry: &Entry) -> bool {
        self.ignore.contains(&entry.ieee_address) || self.ignore.contains(&entry.friendly_name)
    }

    fn describe(&self, device: &Device) -> SelfDescription {
        let mapping = device.mapping.as_ref();
        SelfDescription {
            kind: (device.kind != DeviceKind::Unknown).then_some(device.kind),
            class: device.class,
            name: Some(
                mapping
                    .and_then(|mapping| mapping.name.clone())
                    .unwrap_or_else(|| sanitize(&device.friendly_name)),
            ),
            building: mapping.and_then(|mapping| mapping.building.clone()),
            zone: mapping.and_then(|mapping| mapping.zone.clone()),
            gateway: Some(self.gateway.clone()),
            interval_s: report_interval(mapping, self.interval_s),
        }
    }

    fn device_message(&mut self, rest: &str, message: &Message<'_>) -> Vec<Observation> {
        let Some(names) = &self.names else {
            self.held.push(message);
            return Vec::new();
        };
        // A group, or a device not (or no longer) in the list.
        let Some((ieee, suffix)) = route(names, rest) else {
            return Vec::new();
        };
        let ieee = ieee.to_owned();
        match suffix {
            None => self.device_state(&ieee, message),
            Some("availability") => self.device_availability(&ieee, message),
            Some(_) => Vec::new(),
        }
    }

    fn device_state(&mut self, ieee: &str, message: &Message<'_>) -> Vec<Observation> {
        let Some(device) = self.devices.get(ieee).filter(|device| device.tracked) else {
            return Vec::new();
        };
        if message.payload.is_empty() {
            return Vec::new();
        }
        let values = parse_json_object(message.payload, &self.limits)
            .and_then(|object| payload::read(&object, &device.features));
        let values = match values {
            Ok(values) => values,
            Err(error) => {
                let id = device.id.clone();
                return vec![self.data_error(Some(id), message, error)];
            }
        };
        let describes = self.describe(device);
        let Some(device) = self.devices.get_mut(ieee) else {
            return Vec::new();
        };
        let live = !message.retained;
        let event_at = values.last_seen.unwrap_or(message.received);
        let mut events = Vec::new();

        if live {
            for feature in payload::event_features(device.kind, device.class, &device.features) {
                let now = values.binaries.get(&feature) == Some(&true);
                let before = device.memory.binaries.get(&feature) == Some(&true);
                if let (true, false, Some(event)) = (now, before, feature.event()) {
                    events.push(device_event(
                        &device.id,
                        event,
                        None,
                        event_at,
                        values.last_seen,
                    ));
                }
            }
            if let Some(action) = &values.panic_action {
                events.push(device_event(
                    &device.id,
                    "panic",
                    Some(action.clone()),
                    event_at,
                    values.last_seen,
                ));
            }
        }

        let memory = &mut device.memory;
        memory.binaries.extend(values.binaries.iter());
        memory.battery = values.battery.or(memory.battery);
        memory.signal = values.signal.or(memory.signal);

        let mut out = Vec::new();
        let state = payload::reported_state(
            device.kind,
            device.class,
            &device.features,
            &memory.binaries,
        );
        if let Some(state) = state {
            let low = memory.binaries.get(&Feature::BatteryLow).copied();
            let reported = Reported {
                state,
                locked: None,
                recording: None,
                battery: memory.battery,
                battery_low: payload::battery_is_low(memory.battery, low),
                signal: memory.signal,
            };
            memory.reported = Some(reported.clone());
            // A live message is seen now. A retained one is as old as its
            // `last_seen`, and of unknown age without it.
            let seen_at = if live {
                Some(message.received)
            } else {
                values.last_seen.map(|seen| seen.min(message.received))
            };
            out.push(Observation::State {
                device: device.id.clone(),
                describes,
                reported,
                retained: message.retained,
                seen_at,
            });
        }
        out.extend(events);
        out
    }

    fn device_availability(&mut self, ieee: &str, message: &Message<'_>) -> Vec<Observation> {
        let Some(device) = self.devices.get(ieee).filter(|device| device.tracked) else {
            return Vec::new();
        };
        if message.payload.is_empty() {
            return Vec::new();
        }
        let id = device.id.clone();
        let route = Route::DeviceAvailability(id.clone());
        match decode(
            &route,
            message.payload,
            message.retained,
            message.received,
            &self.limits,
        ) {
            Ok(observation) => observation.into_iter().collect(),
            Err(error) => vec![self.data_error(Some(id), message, error)],
        }
    }

    /// Decodes the messages held for the device list.
    fn replay(&mut self) -> Vec<Observation> {
        let mut out = Vec::new();
        for held in self.held.take() {
            let message = held.message();
            if let Some(rest) = message.topic.strip_prefix(&self.prefix) {
                let rest = rest.to_owned();
                out.extend(self.device_message(&rest, &message));
            }
        }
        out
    }

    fn data_error(
        &mut self,
        device: Option<String>,
        message: &Message<'_>,
        error: DecodeError,
    ) -> Observation {
        self.bad.record(message.topic, message.payload, &error);
        Observation::DataError {
            device,
            topic: sanitize(message.topic),
            code: error.code().to_owned(),
            reason: error.to_string(),
        }
    }
}

impl Adapter for Zigbee2Mqtt {
    fn subscriptions(&self) -> Vec<String> {
        vec![format!("{}#", self.prefix)]
    }

    fn handle(&mut self, message: &Message<'_>) -> Option<Vec<Observation>> {
        let rest = message.topic.strip_prefix(&self.prefix)?;
        Some(match rest {
            "bridge/state" => self.bridge_state(message),
            "bridge/devices" => self.bridge_devices(message),
            "bridge/event" => self.bridge_event(message),
            _ if rest.starts_with("bridge/") => Vec::new(),
            _ => self.device_message(rest, message),
        })
    }

    fn tick(&mut self, now: Timestamp) -> Vec<Observation> {
        let waiting = self.names.is_none()
            && self
                .held
                .oldest()
                .is_some_and(|oldest| now.duration_since(oldest) >= INVENTORY_WAIT);
        if waiting && !self.wait_logged {
            self.wait_logged = true;
            tracing::warn!(
                topic = %format!("{}bridge/devices", sanitize(&self.prefix)),
                held = self.held.len(),
                "no Zigbee2MQTT device list yet; device messages wait for it"
            );
        }
        Vec::new()
    }
}

/// Finds the device a topic below the base names: the longest friendly
/// name that is the whole of `rest` or a prefix of it ending at a `/`.
/// Returns its IEEE address and the sub-topic after the name (`None` for
/// the state topic itself).
fn route<'a>(
    names: &'a HashMap<String, String>,
    rest: &'a str,
) -> Option<(&'a str, Option<&'a str>)> {
    let mut end = rest.len();
    loop {
        let candidate = &rest[..end];
        if let Some(ieee) = names.get(candidate) {
            let suffix = (end < rest.len()).then(|| &rest[end + 1..]);
            return Some((ieee, suffix));
        }
        end = candidate.rfind('/')?;
    }
}

fn device_event(
    device: &str,
    event: &str,
    text: Option<String>,
    at: Timestamp,
    source_ts: Option<Timestamp>,
) -> Observation {
    // The same press delivered twice carries the same `last_seen`, so its
    // id repeats and the store keeps it once.
    // NOTE: without `last_seen` the id comes from the receive time, so a
    // copy redelivered after a reconnect counts as a repeat of the alarm.
    Observation::DeviceEvent {
        device: device.to_owned(),
        event_id: format!("{event}-{}", at.as_millisecond()),
        event: event.to_owned(),
        text,
        source_ts,
    }
}

/// Checks size and encoding of a device list or bridge event.
fn large_text(payload: &[u8]) -> Result<&str, DecodeError> {
    if payload.len() > INVENTORY_MAX_BYTES {
        return Err(DecodeError::Oversized {
            size: payload.len(),
            limit: INVENTORY_MAX_BYTES,
        });
    }
    std::str::from_utf8(payload).map_err(|_| DecodeError::NotUtf8)
}

/// `id` with the last four hex digits of `ieee` appended, within
/// [`MAX_ID_BYTES`].
fn with_suffix(id: &str, ieee: &str) -> String {
    let suffix = format!("-{}", &ieee[ieee.len().saturating_sub(4)..]);
    let mut cut = MAX_ID_BYTES.saturating_sub(suffix.len()).min(id.len());
    while !id.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &id[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_ids_from_base_topic() {
        assert_eq!(gateway_id("zigbee2mqtt"), "z2m-bridge");
        assert_eq!(gateway_id("site2/zigbee"), "z2m-bridge-site2-zigbee");
    }

    #[test]
    fn route_takes_longest_name() {
        let names: HashMap<String, String> = [("floor1", "0x1"), ("floor1/door", "0x2")]
            .into_iter()
            .map(|(name, ieee)| (name.to_owned(), ieee.to_owned()))
            .collect();
        assert_eq!(route(&names, "floor1/door"), Some(("0x2", None)));
        assert_eq!(
            route(&names, "floor1/door/availability"),
            Some(("0x2", Some("availability")))
        );
        assert_eq!(route(&names, "floor1/set"), Some(("0x1", Some("set"))));
        assert_eq!(route(&names, "floor1/door/"), Some(("0x2", Some(""))));
        assert_eq!(route(&names, "floor2/door"), None);
    }

    #[test]
    fn suffix_keeps_id_short() {
        let long = "a".repeat(MAX_ID_BYTES);
        let unique = with_suffix(&long, "0x00158d0000001234");
        assert_eq!(unique.len(), MAX_ID_BYTES);
        assert!(unique.ends_with("-1234"));
        assert_eq!(
            with_suffix("z2m-door", "0x00158d0000001234"),
            "z2m-door-1234"
        );
    }
}
