//! The payloads the recorder publishes: operator actions on
//! `console/<c>/act` and escalations on the supervisor topic.
//!
//! Both carry the schema version `v`, an RFC 3339 `ts` and a unique `id`, so
//! that a receiver can drop the copies QoS 1 may deliver twice.

use jiff::Timestamp;
use serde_json::json;
use uuid::Uuid;

use crate::domain::alarm::{Action, Alarm};

/// Builds the payload of an operator action.
pub fn action(action: &Action, at: Timestamp) -> String {
    let mut value = serde_json::to_value(action).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.insert("v".into(), json!(1));
        object.insert("ts".into(), json!(at.to_string()));
    }
    value.to_string()
}

/// Builds the payload of an escalation, with enough to act on without the console.
pub fn escalation(id: Uuid, alarm: &Alarm, at: Timestamp) -> String {
    json!({
        "v": 1,
        "ts": at.to_string(),
        "id": id,
        "alarm": alarm.id,
        "priority": alarm.priority.as_str(),
        "condition": alarm.condition.as_str(),
        "source": alarm.source,
        "name": alarm.name,
        "building": alarm.building,
        "zone": alarm.zone,
        "raised": alarm.raised_at.to_string(),
        "occurrences": alarm.occurrences,
    })
    .to_string()
}
