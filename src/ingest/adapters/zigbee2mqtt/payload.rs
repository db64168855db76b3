//! Device state payloads, `<base>/<friendly_name>`: one JSON object with
//! every property Zigbee2MQTT has cached for the device, e.g.
//! `{"contact":false,"battery":91,"linkquality":120}`.
//!
//! Decoding checks every field it reads before anything is kept, so a bad
//! payload leaves the device's last good values untouched.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::inventory::{Feature, Features, PANIC_ACTIONS, alarm_features};
use crate::domain::device::{DetectorClass, DeviceKind, ReportedState};
use crate::ingest::decode::{BATTERY_LOW_PERCENT, DecodeError};
use crate::ingest::sanitize::sanitize;

/// The values one payload carries; a field the payload leaves out is
/// `None` (or missing from `binaries`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Values {
    /// Each exposed feature the payload gives, true when active (for
    /// `contact`: open).
    pub binaries: BTreeMap<Feature, bool>,
    pub battery: Option<u8>,
    pub signal: Option<i16>,
    /// A panic press named by `action` (`emergency`, `sos` or `panic`).
    pub panic_action: Option<String>,
    /// The payload's `last_seen`, present when Zigbee2MQTT is configured to
    /// add it.
    pub last_seen: Option<Timestamp>,
}

/// Reads the fields of `features` and the common ones (`battery`,
/// `battery_low`, `linkquality`, `action`, `last_seen`) from a payload.
pub fn read(object: &Map<String, Value>, features: &Features) -> Result<Values, DecodeError> {
    let mut values = Values::default();
    for (feature, bindings) in &features.bindings {
        for binding in bindings {
            let active = match object.get(&binding.property) {
                None | Some(Value::Null) => continue,
                Some(value) if *value == binding.value_on => true,
                Some(value) if *value == binding.value_off => false,
                Some(value) => {
                    return Err(bad(
                        feature.name(),
                        format!(
                            "expected {} or {}, got {}",
                            binding.value_on,
                            binding.value_off,
                            preview(value)
                        ),
                    ));
                }
            };
            // Any endpoint that is active makes the feature active.
            *values.binaries.entry(*feature).or_insert(false) |= active;
        }
    }
    // `battery_low` is read even when not exposed, since many devices send
    // it without listing it.
    if !features.has(Feature::BatteryLow) {
        match object.get("battery_low") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(low)) => {
                values.binaries.insert(Feature::BatteryLow, *low);
            }
            Some(value) => {
                return Err(bad(
                    "battery_low",
                    format!("expected true or false, got {}", preview(value)),
                ));
            }
        }
    }
    values.battery = read_battery(object)?;
    values.signal = read_linkquality(object)?.map(estimate_dbm);
    values.panic_action = read_action(object)?;
    values.last_seen = read_last_seen(object)?;
    Ok(values)
}

/// `battery` in percent; Zigbee2MQTT may send a fraction, which is rounded.
fn read_battery(object: &Map<String, Value>) -> Result<Option<u8>, DecodeError> {
    match object.get("battery") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|percent| (0.0..=100.0).contains(percent))
            .map(|percent| Some(percent.round() as u8))
            .ok_or_else(|| bad("battery", format!("expected 0 to 100 percent, got {n}"))),
        Some(value) => Err(bad(
            "battery",
            format!("expected a number, got {}", preview(value)),
        )),
    }
}

/// `linkquality`: the Zigbee link quality indicator, 0 to 255.
fn read_linkquality(object: &Map<String, Value>) -> Result<Option<u8>, DecodeError> {
    match object.get("linkquality") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|lqi| u8::try_from(lqi).ok())
            .map(Some)
            .ok_or_else(|| bad("linkquality", format!("expected 0 to 255, got {n}"))),
        Some(value) => Err(bad(
            "linkquality",
            format!("expected a number, got {}", preview(value)),
        )),
    }
}

/// Maps a link quality indicator onto the dBm scale the console shows.
// NOTE: an estimate, because LQI is chip-specific and has no standard
// conversion. This spreads 0–255 evenly over −100 to −20 dBm, roughly the
// span between a Zigbee receiver's sensitivity and a strong nearby signal.
pub fn estimate_dbm(lqi: u8) -> i16 {
    -100 + (i16::from(lqi) * 80 + 127) / 255
}

/// `action`: only panic presses matter; an empty action (Zigbee2MQTT's
/// reset after a press) and other buttons are ignored.
fn read_action(object: &Map<String, Value>) -> Result<Option<String>, DecodeError> {
    match object.get("action") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(action)) => {
            let action = action.to_ascii_lowercase();
            Ok(PANIC_ACTIONS.contains(&action.as_str()).then_some(action))
        }
        Some(value) => Err(bad(
            "action",
            format!("expected a string, got {}", preview(value)),
        )),
    }
}

/// `last_seen`: ISO 8601 with an offset, or Unix milliseconds (the
/// `ISO_8601`, `ISO_8601_local` and `epoch` settings of Zigbee2MQTT).
fn read_last_seen(object: &Map<String, Value>) -> Result<Option<Timestamp>, DecodeError> {
    match object.get("last_seen") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => text.parse::<Timestamp>().map(Some).map_err(|_| {
            bad(
                "last_seen",
                format!(
                    "expected ISO 8601 with an offset, got {}",
                    preview(&Value::String(text.clone()))
                ),
            )
        }),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .map(Some)
            .ok_or_else(|| bad("last_seen", format!("expected Unix milliseconds, got {n}"))),
        Some(value) => Err(bad(
            "last_seen",
            format!("expected a string or a number, got {}", preview(value)),
        )),
    }
}

/// Lists the features whose turning active raises an event on a device:
/// the alarm properties outside its class, and `tamper` on a door.
pub fn event_features(
    kind: DeviceKind,
    class: Option<DetectorClass>,
    features: &Features,
) -> Vec<Feature> {
    let decides_state = alarm_features(kind, class);
    features
        .bindings
        .keys()
        .copied()
        .filter(|feature| feature.event().is_some() && !decides_state.contains(feature))
        .filter(|feature| !(*feature == Feature::Tamper && kind == DeviceKind::Detector))
        .collect()
}

/// Decides the state to report from what is known of a device's features.
/// Returns `None` while nothing known decides it.
pub fn reported_state(
    kind: DeviceKind,
    class: Option<DetectorClass>,
    features: &Features,
    known: &BTreeMap<Feature, bool>,
) -> Option<ReportedState> {
    let value = |feature: Feature| known.get(&feature).copied();
    match kind {
        DeviceKind::Door => value(Feature::Contact).map(|open| {
            if open {
                ReportedState::Open
            } else {
                ReportedState::Closed
            }
        }),
        DeviceKind::Detector => {
            let alarms: Vec<Feature> = alarm_features(kind, class)
                .iter()
                .copied()
                .filter(|feature| features.has(*feature))
                .collect();
            if alarms.iter().any(|feature| value(*feature) == Some(true)) {
                return Some(ReportedState::Alarm);
            }
            let tamper = value(Feature::Tamper);
            if tamper == Some(true) {
                return Some(ReportedState::Tamper);
            }
            // Normal requires a reading of the alarm property, except on a
            // button that only sends presses: any payload of it shows health.
            let alarm_known = alarms.iter().any(|feature| value(*feature).is_some());
            let button = class == Some(DetectorClass::PanicButton) && alarms.is_empty();
            let tamper_only = alarms.is_empty() && tamper.is_some();
            (alarm_known || button || tamper_only).then_some(ReportedState::Normal)
        }
        DeviceKind::Camera | DeviceKind::Unknown => None,
    }
}

/// Returns true when the `battery` percentage or the `battery_low` flag
/// marks the battery low.
pub fn battery_is_low(battery: Option<u8>, battery_low: Option<bool>) -> bool {
    battery_low.unwrap_or(false) || battery.is_some_and(|percent| percent <= BATTERY_LOW_PERCENT)
}

fn bad(field: &'static str, reason: String) -> DecodeError {
    DecodeError::BadField { field, reason }
}

/// Renders a payload value short and clean for an error reason.
fn preview(value: &Value) -> String {
    const MAX_CHARS: usize = 40;
    let text = sanitize(&value.to_string());
    if text.chars().count() <= MAX_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_CHARS).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::adapters::zigbee2mqtt::inventory::Binding;
    use crate::ingest::decode::{Limits, parse_json_object};

    fn contact_sensor() -> Features {
        let mut features = Features::default();
        features.bindings.insert(
            Feature::Contact,
            vec![Binding {
                property: "contact".into(),
                value_on: Value::Bool(false),
                value_off: Value::Bool(true),
            }],
        );
        features
    }

    fn object(json: &str) -> Map<String, Value> {
        parse_json_object(json.as_bytes(), &Limits::default()).unwrap()
    }

    #[test]
    fn contact_false_is_active() {
        let values = read(&object(r#"{"contact":false}"#), &contact_sensor()).unwrap();
        assert!(values.binaries[&Feature::Contact], "false is open");
        let values = read(&object(r#"{"contact":true}"#), &contact_sensor()).unwrap();
        assert!(!values.binaries[&Feature::Contact], "true is closed");
    }

    #[test]
    fn wrong_contact_value_is_rejected() {
        let error = read(&object(r#"{"contact":"open"}"#), &contact_sensor()).unwrap_err();
        assert_eq!(error.code(), "bad_field");
        assert!(error.to_string().contains("contact"), "{error}");
    }

    #[test]
    fn battery_rounded_and_bounded() {
        let features = Features::default();
        assert_eq!(
            read(&object(r#"{"battery":87.6}"#), &features)
                .unwrap()
                .battery,
            Some(88)
        );
        assert!(read(&object(r#"{"battery":101}"#), &features).is_err());
        assert!(read(&object(r#"{"battery":"full"}"#), &features).is_err());
    }

    #[test]
    fn lqi_estimate_spans_range() {
        assert_eq!(estimate_dbm(0), -100);
        assert_eq!(estimate_dbm(255), -20);
        assert_eq!(estimate_dbm(128), -60);
    }

    #[test]
    fn last_seen_both_forms() {
        let features = Features::default();
        let iso = read(
            &object(r#"{"last_seen":"2026-12-04T20:31:05+08:00"}"#),
            &features,
        )
        .unwrap()
        .last_seen;
        let epoch = read(&object(r#"{"last_seen":1796387465000}"#), &features)
            .unwrap()
            .last_seen;
        assert_eq!(iso, Some("2026-12-04T12:31:05Z".parse().unwrap()));
        assert_eq!(
            epoch,
            Some(Timestamp::from_millisecond(1_796_387_465_000).unwrap())
        );
    }

    #[test]
    fn deep_payload_is_rejected() {
        let deep = format!("{}1{}", "[".repeat(9), "]".repeat(9));
        let error = parse_json_object(format!(r#"{{"a":{deep}}}"#).as_bytes(), &Limits::default())
            .unwrap_err();
        assert_eq!(error.code(), "too_deep");
    }
}
