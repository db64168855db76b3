//! The payloads the recorder publishes: operator actions on
//! `console/<c>/act`, escalations on the supervisor topic, and repair
//! ticket records, retained, on `ticket/<id>`.
//!
//! Actions and escalations carry the schema version `v`, an RFC 3339 `ts` and a unique `id`, so
//! that a receiver can drop the copies QoS 1 may deliver twice.

use jiff::Timestamp;
use serde_json::json;
use uuid::Uuid;

use crate::domain::alarm::{Action, Alarm};
use crate::domain::ticket::Ticket;

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

/// Builds the `ticket/<id>` record of a ticket, in the format
/// [`RemoteTicket::decode`](crate::domain::ticket::RemoteTicket::decode)
/// reads, so that the record this console publishes reads back in sync.
pub fn ticket(ticket: &Ticket) -> String {
    let content = &ticket.content;
    let mut record = json!({
        "v": 1,
        "id": ticket.id,
        "version": ticket.version,
        "ts": ticket.updated_at.to_string(),
        "created_at": ticket.created_at.to_string(),
        "state": content.state.as_str(),
        "category": content.category.as_str(),
        "urgency": content.urgency.as_str(),
        "location": content.location,
        "description": content.description,
    });
    let Some(object) = record.as_object_mut() else {
        return record.to_string();
    };
    if let Some(assignee) = &content.assignee {
        object.insert("assignee".into(), json!(assignee));
    }
    if let Some(reporter) = &content.reporter {
        object.insert(
            "reporter".into(),
            json!({ "name": reporter.name, "phone": reporter.phone }),
        );
    }
    if let Some(alarm) = content.alarm {
        object.insert("alarm".into(), json!(alarm));
    }
    if let Some(device) = &content.device {
        object.insert("device".into(), json!(device));
    }
    if let Some(refers_to) = &content.refers_to {
        object.insert("refers_to".into(), json!(refers_to));
    }
    if let Some(rating) = content.rating {
        object.insert("rating".into(), json!(rating));
    }
    record.to_string()
}
