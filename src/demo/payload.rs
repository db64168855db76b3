//! Payloads in the native format that `ingest::decode` reads, as the
//! simulated devices send them.

use serde_json::{Map, Value, json};

use super::cast::SimDevice;
use crate::domain::device::{DeviceKind, ReportedState};
use crate::ingest::decode::SCHEMA_VERSION;

/// Builds a `dev/<id>/state` snapshot: the state, the fields of its kind and
/// the device's description of itself. `ts` is RFC 3339 with an offset.
pub(super) fn state(device: &SimDevice, ts: &str) -> Vec<u8> {
    let spec = &device.spec;
    let mut object = Map::new();
    object.insert("v".into(), json!(SCHEMA_VERSION));
    object.insert("ts".into(), json!(ts));
    object.insert("state".into(), json!(device.state.as_str()));
    object.insert("kind".into(), json!(spec.kind.as_str()));
    if let Some(class) = spec.class {
        object.insert("class".into(), json!(class.as_str()));
    }
    object.insert("name".into(), json!(spec.name));
    if !spec.building.is_empty() {
        object.insert("building".into(), json!(spec.building));
    }
    if !spec.zone.is_empty() {
        object.insert("zone".into(), json!(spec.zone));
    }
    if let Some(gateway) = &spec.gateway {
        object.insert("gw".into(), json!(gateway));
    }
    match spec.kind {
        DeviceKind::Door => {
            let locked = device.state == ReportedState::Closed;
            object.insert("locked".into(), json!(locked));
        }
        DeviceKind::Camera => {
            let recording = device.state != ReportedState::VideoLoss;
            object.insert("recording".into(), json!(recording));
        }
        DeviceKind::Detector | DeviceKind::Unknown => {}
    }
    if let Some(battery) = device.battery {
        object.insert("battery".into(), json!(battery));
    }
    if let Some(signal) = device.signal {
        object.insert("signal".into(), json!(signal));
    }
    Value::Object(object).to_string().into_bytes()
}

/// Builds a state payload cut off halfway, as from a device whose firmware
/// sends before its buffer is complete, so it is invalid JSON.
pub(super) fn truncated_state(device: &SimDevice, ts: &str) -> Vec<u8> {
    let mut bytes = state(device, ts);
    // Cut at an ASCII byte so the rest is still valid UTF-8 and the decoder
    // reports the JSON, not the encoding.
    let mut cut = bytes.len() / 2;
    while cut > 1 && !bytes[cut].is_ascii() {
        cut -= 1;
    }
    bytes.truncate(cut);
    bytes
}

/// Builds a `dev/<id>/avail` payload in the plain form.
pub(super) fn availability(online: bool) -> Vec<u8> {
    let word = if online { "online" } else { "offline" };
    word.as_bytes().to_vec()
}

/// Builds a `gw/<id>/avail` payload in the JSON form.
pub(super) fn gateway_availability(online: bool) -> Vec<u8> {
    let word = if online { "online" } else { "offline" };
    json!({ "state": word }).to_string().into_bytes()
}

/// Builds an `evt/<id>` payload with a fresh unique id.
pub(super) fn event(event: &str, text: &str, ts: &str) -> Vec<u8> {
    json!({
        "v": SCHEMA_VERSION,
        "id": uuid::Uuid::new_v4().to_string(),
        "type": event,
        "ts": ts,
        "text": text,
    })
    .to_string()
    .into_bytes()
}
