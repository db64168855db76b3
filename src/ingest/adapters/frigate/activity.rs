//! Review items (`<base>/reviews`) and tracked-object events
//! (`<base>/events`): their payloads, and the open ones with their alarms.
//!
//! Both carry `type` (`new`, `update`, `end`) and the item as it is now in
//! `after`. A review item has `id`, `camera`, `severity` (`alert` or
//! `detection`) and `data.objects`, `data.audio`, `data.zones`; an event has
//! `id`, `camera`, `label`, `entered_zones`, `current_zones` and
//! `false_positive`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::ingest::decode::DecodeError;
use crate::ingest::sanitize::sanitize;

/// Most labels or zones kept from one message.
const MAX_NAMES: usize = 16;

/// Most review items or events followed at once. Each ends or times out,
/// so only a flood of new ones reaches this.
const MAX_INCIDENTS: usize = 2_000;

/// Longest Frigate id accepted; Frigate's own look like
/// `1718987129.308396-fqk5ka`.
const MAX_FRIGATE_ID_BYTES: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivityKind {
    /// `new` or `update`: the item is going on.
    Active,
    End,
}

/// Frigate's severity of a review item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Alert,
    Detection,
}

/// One review or event message, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Activity {
    pub kind: ActivityKind,
    pub id: String,
    pub camera: Option<String>,
    /// `None` for events.
    pub severity: Option<Severity>,
    pub labels: Vec<String>,
    pub zones: Vec<String>,
    pub false_positive: bool,
}

impl Activity {
    /// Builds the alarm text: labels, then the zones after `@`.
    pub fn text(&self) -> String {
        let mut text = if self.labels.is_empty() {
            match self.severity {
                Some(Severity::Alert) => "alert".to_owned(),
                _ => "detection".to_owned(),
            }
        } else {
            self.labels.join(", ")
        };
        if !self.zones.is_empty() {
            text.push_str(" @ ");
            text.push_str(&self.zones.join(", "));
        }
        sanitize(&text)
    }
}

/// A rejected payload, with the camera when the payload named one.
pub type Rejection = (DecodeError, Option<String>);

/// Decodes a `<base>/reviews` message; `None` for message types that carry
/// nothing for us, such as generated descriptions.
pub fn parse_review(object: &Map<String, Value>) -> Result<Option<Activity>, Rejection> {
    let Some((kind, after)) = kind_and_after(object)? else {
        return Ok(None);
    };
    let camera = text_field(after, "camera").map_err(|error| (error, None))?;
    let fail = |error| (error, camera.clone());
    let id = frigate_id(after).map_err(fail)?;
    let severity = match text_field(after, "severity").map_err(fail)?.as_deref() {
        Some("alert") => Some(Severity::Alert),
        Some("detection") => Some(Severity::Detection),
        None if kind == ActivityKind::End => None,
        None => return Err(fail(DecodeError::MissingField("severity"))),
        Some(other) => {
            return Err(fail(DecodeError::BadField {
                field: "severity",
                reason: format!("expected \"alert\" or \"detection\", got \"{other}\""),
            }));
        }
    };
    let data = match after.get("data") {
        None | Some(Value::Null) => None,
        Some(Value::Object(data)) => Some(data),
        Some(_) => {
            return Err(fail(DecodeError::BadField {
                field: "data",
                reason: "expected an object".into(),
            }));
        }
    };
    let mut labels = Vec::new();
    let mut zones = Vec::new();
    if let Some(data) = data {
        labels = names(data, "objects").map_err(fail)?;
        for audio in names(data, "audio").map_err(fail)? {
            push_unique(&mut labels, audio);
        }
        zones = names(data, "zones").map_err(fail)?;
    }
    Ok(Some(Activity {
        kind,
        id,
        camera,
        severity,
        labels,
        zones,
        false_positive: false,
    }))
}

/// Decodes a `<base>/events` message.
pub fn parse_event(object: &Map<String, Value>) -> Result<Option<Activity>, Rejection> {
    let Some((kind, after)) = kind_and_after(object)? else {
        return Ok(None);
    };
    let camera = text_field(after, "camera").map_err(|error| (error, None))?;
    let fail = |error| (error, camera.clone());
    let id = frigate_id(after).map_err(fail)?;
    let mut labels = Vec::new();
    match text_field(after, "label").map_err(fail)? {
        Some(label) => labels.push(label),
        None if kind == ActivityKind::End => {}
        None => return Err(fail(DecodeError::MissingField("label"))),
    }
    let mut zones = names(after, "entered_zones").map_err(fail)?;
    for zone in names(after, "current_zones").map_err(fail)? {
        push_unique(&mut zones, zone);
    }
    let false_positive = match after.get("false_positive") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(value)) => *value,
        Some(_) => {
            return Err(fail(DecodeError::BadField {
                field: "false_positive",
                reason: "expected true or false".into(),
            }));
        }
    };
    Ok(Some(Activity {
        kind,
        id,
        camera,
        severity: None,
        labels,
        zones,
        false_positive,
    }))
}

/// The message type and the item as it is now (`after`).
type Head<'a> = (ActivityKind, &'a Map<String, Value>);

/// Reads `type` and `after`; `None` for a type other than new, update or end.
fn kind_and_after(object: &Map<String, Value>) -> Result<Option<Head<'_>>, Rejection> {
    let kind = match object.get("type") {
        Some(Value::String(kind)) => match kind.as_str() {
            "new" | "update" => ActivityKind::Active,
            "end" => ActivityKind::End,
            _ => return Ok(None),
        },
        None | Some(Value::Null) => return Err((DecodeError::MissingField("type"), None)),
        Some(_) => {
            return Err((
                DecodeError::BadField {
                    field: "type",
                    reason: "expected a string".into(),
                },
                None,
            ));
        }
    };
    match object.get("after") {
        Some(Value::Object(after)) => Ok(Some((kind, after))),
        None | Some(Value::Null) => Err((DecodeError::MissingField("after"), None)),
        Some(_) => Err((
            DecodeError::BadField {
                field: "after",
                reason: "expected an object".into(),
            },
            None,
        )),
    }
}

fn frigate_id(after: &Map<String, Value>) -> Result<String, DecodeError> {
    let id = text_field(after, "id")?.ok_or(DecodeError::MissingField("id"))?;
    let clean = !id.is_empty()
        && id.len() <= MAX_FRIGATE_ID_BYTES
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_'));
    if !clean {
        return Err(DecodeError::BadField {
            field: "id",
            reason: format!(
                "expected 1 to {MAX_FRIGATE_ID_BYTES} letters, digits, '.', '-' or '_'"
            ),
        });
    }
    Ok(id)
}

/// Reads a string field, sanitised; `null` counts as absent.
fn text_field(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, DecodeError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(sanitize(text))),
        Some(_) => Err(DecodeError::BadField {
            field,
            reason: "expected a string".into(),
        }),
    }
}

/// Reads an array of names, sanitised, without repeats, at most [`MAX_NAMES`].
fn names(object: &Map<String, Value>, field: &'static str) -> Result<Vec<String>, DecodeError> {
    let items = match object.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(DecodeError::BadField {
                field,
                reason: "expected an array of strings".into(),
            });
        }
    };
    let mut names = Vec::new();
    for item in items {
        let Value::String(name) = item else {
            return Err(DecodeError::BadField {
                field,
                reason: "expected an array of strings".into(),
            });
        };
        let name = sanitize(name);
        if !name.is_empty() && names.len() < MAX_NAMES {
            push_unique(&mut names, name);
        }
    }
    Ok(names)
}

fn push_unique(names: &mut Vec<String>, name: String) {
    if !names.contains(&name) {
        names.push(name);
    }
}

/// A review item or event still going on, or recently timed out.
#[derive(Debug)]
struct Incident {
    /// Last message about it; the timeout runs from here.
    last: Timestamp,
    /// Its alarm was raised.
    alarmed: bool,
    /// It timed out and its alarm was closed. Kept for one more timeout so
    /// that a late `end` is recognised.
    timed_out: bool,
}

/// The review items or events followed, by Frigate id.
#[derive(Debug)]
pub struct Incidents {
    open: BTreeMap<String, Incident>,
    timeout_s: i64,
}

impl Incidents {
    pub fn new(timeout_s: u32) -> Self {
        Self {
            open: BTreeMap::new(),
            timeout_s: i64::from(timeout_s),
        }
    }

    /// Notes news about `id`. Returns true when its alarm is to be raised:
    /// the item `raises_alarm` and has no alarm, or its alarm timed out.
    pub fn update(&mut self, id: &str, raises_alarm: bool, at: Timestamp) -> bool {
        if !self.open.contains_key(id) && self.open.len() >= MAX_INCIDENTS {
            self.evict_oldest();
        }
        let incident = self.open.entry(id.to_owned()).or_insert(Incident {
            last: at,
            alarmed: false,
            timed_out: false,
        });
        incident.last = at;
        let raise = raises_alarm && (!incident.alarmed || incident.timed_out);
        if raise {
            incident.alarmed = true;
        }
        if raises_alarm {
            incident.timed_out = false;
        }
        raise
    }

    /// Forgets `id`. Returns whether it had an open alarm, or `None` when
    /// the id was unknown.
    pub fn end(&mut self, id: &str) -> Option<bool> {
        self.open
            .remove(id)
            .map(|incident| incident.alarmed && !incident.timed_out)
    }

    /// Times out items without news for the timeout; returns the ids whose
    /// alarms are to be closed.
    pub fn expire(&mut self, now: Timestamp) -> Vec<String> {
        let timeout = self.timeout_s;
        let mut closed = Vec::new();
        self.open.retain(|id, incident| {
            let silent = now.duration_since(incident.last).as_secs();
            if incident.timed_out {
                return silent < 2 * timeout;
            }
            if silent < timeout {
                return true;
            }
            if !incident.alarmed {
                return false;
            }
            tracing::info!(id = %id, silent_s = silent, "Frigate review or event timed out; closing its alarm");
            incident.timed_out = true;
            closed.push(id.clone());
            true
        });
        closed
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .open
            .iter()
            .min_by_key(|(_, incident)| incident.last)
            .map(|(id, _)| id.clone());
        if let Some(id) = oldest {
            tracing::warn!(id = %id, limit = MAX_INCIDENTS, "too many open Frigate reviews or events; forgetting the oldest");
            self.open.remove(&id);
        }
    }
}
