//! The device list Zigbee2MQTT publishes on `<base>/bridge/devices`, and
//! what each device's `exposes` describe: which of its properties we read,
//! and so which kind and class of device it is for us.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::domain::device::{DetectorClass, DeviceKind};
use crate::ingest::decode::DecodeError;

/// `action` values that mean someone pressed a panic or SOS button.
pub const PANIC_ACTIONS: [&str; 3] = ["emergency", "sos", "panic"];

/// Maximum number of device entries read from one `bridge/devices`, the
/// same bound the projection puts on devices outside the inventory.
pub const MAX_ENTRIES: usize = 5_000;

/// A binary property of a device state that matters to the guard room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    Contact,
    Smoke,
    Gas,
    CarbonMonoxide,
    WaterLeak,
    Sos,
    Occupancy,
    Vibration,
    Tamper,
    BatteryLow,
}

impl Feature {
    pub const ALL: [Feature; 10] = [
        Self::Contact,
        Self::Smoke,
        Self::Gas,
        Self::CarbonMonoxide,
        Self::WaterLeak,
        Self::Sos,
        Self::Occupancy,
        Self::Vibration,
        Self::Tamper,
        Self::BatteryLow,
    ];

    /// Returns the expose's `name`, which is also the payload key unless the
    /// expose belongs to an endpoint.
    pub fn name(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Smoke => "smoke",
            Self::Gas => "gas",
            Self::CarbonMonoxide => "carbon_monoxide",
            Self::WaterLeak => "water_leak",
            Self::Sos => "sos",
            Self::Occupancy => "occupancy",
            Self::Vibration => "vibration",
            Self::Tamper => "tamper",
            Self::BatteryLow => "battery_low",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|feature| feature.name() == name)
    }

    /// Returns the payload value that means "active" when the expose does
    /// not give `value_on`. Zigbee2MQTT's `contact` is `true` while the contact is
    /// closed, so its active value (open) is `false`.
    fn default_on(self) -> bool {
        self != Self::Contact
    }

    /// Returns the native event type raised when this feature turns active
    /// on a device whose class it does not decide (a smoke flag on a door
    /// contact, say), or `None` for features that only describe the state.
    pub fn event(self) -> Option<&'static str> {
        match self {
            Self::Smoke => Some("smoke"),
            Self::Gas | Self::CarbonMonoxide => Some("gas"),
            Self::WaterLeak => Some("water_leak"),
            Self::Sos => Some("sos"),
            Self::Tamper => Some("tamper"),
            Self::Contact | Self::Occupancy | Self::Vibration | Self::BatteryLow => None,
        }
    }
}

/// The location of a feature in the state payload, and the values that
/// mean on and off.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    /// The payload key: the expose's `property`, e.g. `contact` or
    /// `water_leak_l2` for an endpoint.
    pub property: String,
    pub value_on: Value,
    pub value_off: Value,
}

/// The exposed properties of a device that the guard room reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features {
    pub bindings: BTreeMap<Feature, Vec<Binding>>,
    /// The device's `action` values that are panic presses.
    pub panic_actions: Vec<String>,
}

impl Features {
    /// Collects the features from a definition's `exposes`, looking inside
    /// the `features` of specific and composite exposes.
    pub fn from_exposes(exposes: &[Expose]) -> Self {
        let mut features = Self::default();
        for expose in exposes {
            features.add(expose);
        }
        features
    }

    fn add(&mut self, expose: &Expose) {
        for inner in &expose.features {
            self.add(inner);
        }
        let Some(name) = expose.name.as_deref() else {
            return;
        };
        if name == "action" {
            for text in expose.values.iter().filter_map(Value::as_str) {
                if PANIC_ACTIONS.contains(&text)
                    && !self.panic_actions.iter().any(|known| known == text)
                {
                    self.panic_actions.push(text.to_owned());
                }
            }
            return;
        }
        let Some(feature) = Feature::parse(name) else {
            return;
        };
        if expose.kind.as_deref().is_some_and(|kind| kind != "binary") {
            return;
        }
        let on = feature.default_on();
        let binding = Binding {
            property: expose.property.clone().unwrap_or_else(|| name.to_owned()),
            value_on: expose.value_on.clone().unwrap_or(Value::Bool(on)),
            value_off: expose.value_off.clone().unwrap_or(Value::Bool(!on)),
        };
        let bindings = self.bindings.entry(feature).or_default();
        if !bindings.contains(&binding) {
            bindings.push(binding);
        }
    }

    pub fn has(&self, feature: Feature) -> bool {
        self.bindings.contains_key(&feature)
    }

    /// True when the device reports something the guard room watches; a
    /// battery level alone (a thermometer) does not count.
    pub fn is_security(&self) -> bool {
        !self.panic_actions.is_empty()
            || self
                .bindings
                .keys()
                .any(|feature| *feature != Feature::BatteryLow)
    }

    /// Our kind and detector class for the device. A contact makes a door
    /// (doors, windows and gates alike). Otherwise the most urgent hazard
    /// the device senses decides the class.
    pub fn kind_and_class(&self) -> (DeviceKind, Option<DetectorClass>) {
        if self.has(Feature::Contact) {
            return (DeviceKind::Door, None);
        }
        let class = if self.has(Feature::Smoke) {
            Some(DetectorClass::Smoke)
        } else if self.has(Feature::Gas) || self.has(Feature::CarbonMonoxide) {
            Some(DetectorClass::Gas)
        } else if self.has(Feature::WaterLeak) {
            Some(DetectorClass::WaterLeak)
        } else if self.has(Feature::Sos) || !self.panic_actions.is_empty() {
            Some(DetectorClass::PanicButton)
        } else if self.has(Feature::Occupancy) {
            Some(DetectorClass::Pir)
        } else if self.has(Feature::Vibration) {
            // A shock sensor on a window or a safe guards against break-in,
            // which is what a glass-break detector does.
            Some(DetectorClass::GlassBreak)
        } else if self.has(Feature::Tamper) {
            None
        } else {
            return (DeviceKind::Unknown, None);
        };
        (DeviceKind::Detector, class)
    }
}

/// Returns the features whose state decides whether a detector of `class`
/// is in alarm.
pub fn alarm_features(kind: DeviceKind, class: Option<DetectorClass>) -> &'static [Feature] {
    if kind != DeviceKind::Detector {
        return &[];
    }
    match class {
        Some(DetectorClass::Smoke) => &[Feature::Smoke],
        Some(DetectorClass::Gas) => &[Feature::Gas, Feature::CarbonMonoxide],
        Some(DetectorClass::WaterLeak) => &[Feature::WaterLeak],
        Some(DetectorClass::PanicButton) => &[Feature::Sos],
        Some(DetectorClass::Pir) => &[Feature::Occupancy],
        Some(DetectorClass::GlassBreak) => &[Feature::Vibration],
        Some(DetectorClass::Heat) | None => &[],
    }
}

/// One expose of a device definition; every field is optional so that an
/// expose of a type we do not know still parses.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Expose {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub property: Option<String>,
    pub value_on: Option<Value>,
    pub value_off: Option<Value>,
    pub values: Vec<Value>,
    pub features: Vec<Expose>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Definition {
    exposes: Vec<Expose>,
}

#[derive(Debug, Deserialize)]
struct RawEntry {
    ieee_address: String,
    friendly_name: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    definition: Option<Definition>,
}

/// A device of the Zigbee network as `bridge/devices` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// `0x` and 16 lowercase hex digits; stays the same when the device is
    /// renamed.
    pub ieee_address: String,
    /// The name in its topics, as published (not sanitised, so that it
    /// matches the topic).
    pub friendly_name: String,
    pub features: Features,
}

/// The usable entries of a `bridge/devices` payload and how many were
/// skipped (malformed, the coordinator is not counted).
#[derive(Debug, Default)]
pub struct Parsed {
    pub entries: Vec<Entry>,
    pub skipped: usize,
}

/// Parses a `bridge/devices` payload: a JSON array of device objects.
/// Entries without a valid IEEE address or friendly name are skipped, and
/// so are the coordinator and disabled devices, which publish no state.
pub fn parse(text: &str) -> Result<Parsed, DecodeError> {
    let items: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            return Err(DecodeError::BadField {
                field: "bridge/devices",
                reason: "expected a JSON array of devices".into(),
            });
        }
        Err(error) => return Err(DecodeError::InvalidJson(error.to_string())),
    };
    let mut parsed = Parsed::default();
    for item in items {
        if parsed.entries.len() == MAX_ENTRIES {
            parsed.skipped += 1;
            continue;
        }
        let Ok(raw) = serde_json::from_value::<RawEntry>(item) else {
            parsed.skipped += 1;
            continue;
        };
        if raw.kind.as_deref() == Some("Coordinator") || raw.disabled {
            continue;
        }
        let ieee_address = raw.ieee_address.to_ascii_lowercase();
        if !is_ieee_address(&ieee_address) || !is_friendly_name(&raw.friendly_name) {
            parsed.skipped += 1;
            continue;
        }
        let exposes = raw.definition.map(|definition| definition.exposes);
        parsed.entries.push(Entry {
            ieee_address,
            friendly_name: raw.friendly_name,
            features: Features::from_exposes(exposes.as_deref().unwrap_or_default()),
        });
    }
    Ok(parsed)
}

/// True for `0x` followed by 16 hex digits, the form Zigbee2MQTT gives.
pub fn is_ieee_address(text: &str) -> bool {
    text.len() == 18
        && text.starts_with("0x")
        && text[2..].bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// True for a name that can be a topic level path: not empty, no
/// wildcards, no empty level.
fn is_friendly_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 1_024
        && !name.contains(['+', '#', '\0'])
        && name.split('/').all(|level| !level.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposes(json: &str) -> Vec<Expose> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn contact_binding_from_exposes() {
        let features = Features::from_exposes(&exposes(
            r#"[{"type":"binary","name":"contact","property":"contact","value_on":false,"value_off":true},
                {"type":"numeric","name":"battery","property":"battery"}]"#,
        ));
        assert_eq!(
            features.bindings[&Feature::Contact],
            vec![Binding {
                property: "contact".into(),
                value_on: Value::Bool(false),
                value_off: Value::Bool(true),
            }]
        );
        assert_eq!(features.kind_and_class(), (DeviceKind::Door, None));
    }

    #[test]
    fn nested_features_and_endpoints() {
        let features = Features::from_exposes(&exposes(
            r#"[{"type":"composite","name":"zone","features":[
                  {"type":"binary","name":"water_leak","property":"water_leak_l1","endpoint":"l1"},
                  {"type":"binary","name":"water_leak","property":"water_leak_l2","endpoint":"l2"}]}]"#,
        ));
        let properties: Vec<&str> = features.bindings[&Feature::WaterLeak]
            .iter()
            .map(|binding| binding.property.as_str())
            .collect();
        assert_eq!(properties, ["water_leak_l1", "water_leak_l2"]);
        assert_eq!(
            features.kind_and_class(),
            (DeviceKind::Detector, Some(DetectorClass::WaterLeak))
        );
    }

    #[test]
    fn panic_actions_make_a_panic_button() {
        let features = Features::from_exposes(&exposes(
            r#"[{"type":"enum","name":"action","property":"action","values":["emergency","single"]}]"#,
        ));
        assert_eq!(features.panic_actions, ["emergency"]);
        assert_eq!(
            features.kind_and_class(),
            (DeviceKind::Detector, Some(DetectorClass::PanicButton))
        );
    }

    #[test]
    fn remote_and_thermometer_are_not_security() {
        let remote = Features::from_exposes(&exposes(
            r#"[{"type":"enum","name":"action","values":["on","off"]},
                {"type":"binary","name":"battery_low"}]"#,
        ));
        assert!(!remote.is_security());
        assert_eq!(remote.kind_and_class(), (DeviceKind::Unknown, None));
    }

    #[test]
    fn parse_skips_coordinator_and_bad_entries() {
        let parsed = parse(
            r#"[{"ieee_address":"0x00124b0000000001","friendly_name":"Coordinator","type":"Coordinator"},
                {"ieee_address":"0x00158D0000000002","friendly_name":"Hall/door","type":"EndDevice","definition":null},
                {"ieee_address":"bad","friendly_name":"x"},
                {"friendly_name":"no address"}]"#,
        )
        .unwrap();
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(parsed.entries[0].ieee_address, "0x00158d0000000002");
        assert_eq!(parsed.skipped, 2);
        assert!(parse("{}").is_err());
    }
}
