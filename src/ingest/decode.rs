//! Decoders for the native payloads: bytes in, an [`Observation`] or a
//! [`DecodeError`] out. They never panic and never trust a field's type.
//!
//! Formats (all UTF-8 JSON objects unless noted):
//! - `dev/<id>/state`: `state` (required), `v`, `ts`, `kind`, `class`,
//!   `name`, `building`, `zone`, `gw`, `locked`, `recording`, `battery`,
//!   `battery_low`, `signal`.
//! - `dev/<id>/avail`, `gw/<id>/avail`: plain `online`/`offline`, or
//!   `{"state": "online"}`.
//! - `evt/<id>`: `id` and `type` (required), `v`, `ts`, `text`.
//! - `ticket/<id>` and `care/<person>/evt`: see [`super::services`].
//! - `alarm/<id>`: `priority` (`P1`…`P4` or 1–4) and `text` (required), `v`,
//!   `ts`, `active` (default true), `state`, `device`, `building`, `zone`.
//!   `state = "closed"` or an empty payload ends the alarm.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::sanitize::sanitize;
use super::topic::Route;
use crate::domain::alarm::{ExternalAlarm, Priority};
use crate::domain::device::{DetectorClass, DeviceKind, Reported, ReportedState};
use crate::domain::observation::{Observation, SelfDescription};

/// The only payload schema version this build reads.
pub const SCHEMA_VERSION: u64 = 1;

/// Battery level at or below which a device counts as low on battery even
/// if it does not say so itself, in percent.
pub const BATTERY_LOW_PERCENT: u8 = 15;

/// Bounds on what a payload may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_payload_bytes: usize,
    /// Deepest nesting of JSON arrays and objects accepted.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload_bytes: 64 * 1024,
            max_depth: 8,
        }
    }
}

/// Reason a payload was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty payload")]
    Empty,
    #[error("payload of {size} bytes is over the limit of {limit}")]
    Oversized { size: usize, limit: usize },
    #[error("payload is not valid UTF-8")]
    NotUtf8,
    #[error("JSON nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("payload must be a JSON object")]
    NotAnObject,
    #[error("schema version {0} is not supported (expected 1)")]
    UnsupportedVersion(String),
    #[error("missing field \"{0}\"")]
    MissingField(&'static str),
    #[error("topic has an empty, overlong or unclean id")]
    BadTopicId,
    #[error("field \"{field}\": {reason}")]
    BadField { field: &'static str, reason: String },
}

impl DecodeError {
    /// Stable code for the log, the database and the screen's translation.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Oversized { .. } => "oversized",
            Self::NotUtf8 => "not_utf8",
            Self::TooDeep { .. } => "too_deep",
            Self::InvalidJson(_) => "invalid_json",
            Self::NotAnObject => "not_an_object",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::BadTopicId => "bad_topic",
            Self::MissingField(_) | Self::BadField { .. } => "bad_field",
        }
    }
}

fn bad(field: &'static str, reason: impl Into<String>) -> DecodeError {
    DecodeError::BadField {
        field,
        reason: reason.into(),
    }
}

/// Decodes the payload of a routed topic. `now` is the receive time.
///
/// Routes that carry nothing to decode ([`Route::Other`], [`Route::BadId`])
/// return `Ok(None)`. So do retained device events, because a retained
/// event would make an old alarm look live.
pub fn decode(
    route: &Route,
    payload: &[u8],
    retained: bool,
    now: Timestamp,
    limits: &Limits,
) -> Result<Option<Observation>, DecodeError> {
    let observation = match route {
        Route::DeviceState(device) => {
            let object = parse_object(payload, limits)?;
            decode_state(device, &object, retained, now)?
        }
        Route::DeviceAvailability(device) => Observation::Availability {
            device: device.clone(),
            online: decode_availability(payload, limits)?,
            retained,
        },
        Route::GatewayAvailability(gateway) => Observation::GatewayAvailability {
            gateway: gateway.clone(),
            online: decode_availability(payload, limits)?,
            retained,
        },
        Route::DeviceEvent(device) => {
            let object = parse_object(payload, limits)?;
            let event = decode_event(device, &object)?;
            if retained {
                return Ok(None);
            }
            event
        }
        Route::Alarm(id) => {
            if payload.is_empty() {
                Observation::ExternalAlarm {
                    id: id.clone(),
                    record: None,
                }
            } else {
                let object = parse_object(payload, limits)?;
                decode_alarm(id, &object)?
            }
        }
        Route::Ticket(id) => super::services::decode_ticket(id, payload, limits)?,
        Route::CareEvent(resident) => {
            let event = super::services::decode_care(resident, payload, now, limits)?;
            // Like a device event, a retained check-in or SOS would look live.
            if retained {
                return Ok(None);
            }
            event
        }
        Route::Other | Route::BadId => return Ok(None),
    };
    Ok(Some(observation))
}

/// Parses a native JSON object and checks its schema version.
fn parse_object(payload: &[u8], limits: &Limits) -> Result<Map<String, Value>, DecodeError> {
    let object = parse_json_object(payload, limits)?;
    check_version(&object)?;
    Ok(object)
}

/// Checks size, encoding and nesting, then parses a JSON object. The
/// adapters read their sources' JSON payloads with it too.
pub(crate) fn parse_json_object(
    payload: &[u8],
    limits: &Limits,
) -> Result<Map<String, Value>, DecodeError> {
    let text = check_text(payload, limits)?;
    if depth_exceeds(text.as_bytes(), limits.max_depth) {
        return Err(DecodeError::TooDeep {
            limit: limits.max_depth,
        });
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(DecodeError::NotAnObject),
        Err(error) => Err(DecodeError::InvalidJson(error.to_string())),
    }
}

/// Checks that a payload is within the size limit, UTF-8 and not blank.
pub(crate) fn check_text<'a>(payload: &'a [u8], limits: &Limits) -> Result<&'a str, DecodeError> {
    if payload.len() > limits.max_payload_bytes {
        return Err(DecodeError::Oversized {
            size: payload.len(),
            limit: limits.max_payload_bytes,
        });
    }
    let text = std::str::from_utf8(payload).map_err(|_| DecodeError::NotUtf8)?;
    if text.trim().is_empty() {
        return Err(DecodeError::Empty);
    }
    Ok(text)
}

/// Scans the raw text for nesting deeper than `limit`, before serde_json
/// builds anything, so a hostile payload cannot exhaust the stack or memory.
fn depth_exceeds(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn check_version(object: &Map<String, Value>) -> Result<(), DecodeError> {
    match object.get("v") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Number(n)) if n.as_u64() == Some(SCHEMA_VERSION) => Ok(()),
        Some(other) => Err(DecodeError::UnsupportedVersion(other.to_string())),
    }
}

fn decode_state(
    device: &str,
    object: &Map<String, Value>,
    retained: bool,
    now: Timestamp,
) -> Result<Observation, DecodeError> {
    let state_text = required_str(object, "state")?;
    let state = ReportedState::parse(&state_text)
        .ok_or_else(|| bad("state", format!("unknown state \"{state_text}\"")))?;

    let battery = optional_u64(object, "battery")?
        .map(|value| u8::try_from(value).ok().filter(|percent| *percent <= 100))
        .map(|value| value.ok_or_else(|| bad("battery", "expected a percentage from 0 to 100")))
        .transpose()?;
    let signal = optional_i64(object, "signal")?
        .map(|value| {
            i16::try_from(value)
                .ok()
                .filter(|dbm| (-150..=0).contains(dbm))
        })
        .map(|value| value.ok_or_else(|| bad("signal", "expected dBm from -150 to 0")))
        .transpose()?;
    let battery_low = optional_bool(object, "battery_low")?.unwrap_or(false)
        || battery.is_some_and(|percent| percent <= BATTERY_LOW_PERCENT);

    let reported = Reported {
        state,
        locked: optional_bool(object, "locked")?,
        recording: optional_bool(object, "recording")?,
        battery,
        battery_low,
        signal,
    };

    let kind = optional_str(object, "kind")?
        .map(|text| {
            DeviceKind::parse(&text).ok_or_else(|| bad("kind", format!("unknown kind \"{text}\"")))
        })
        .transpose()?;
    let class = optional_str(object, "class")?
        .map(|text| {
            DetectorClass::parse(&text)
                .ok_or_else(|| bad("class", format!("unknown detector class \"{text}\"")))
        })
        .transpose()?;
    let describes = SelfDescription {
        kind,
        class,
        name: optional_text(object, "name")?,
        building: optional_text(object, "building")?,
        zone: optional_text(object, "zone")?,
        gateway: optional_text(object, "gw")?,
        interval_s: None,
    };

    let ts = optional_ts(object)?;
    // A live message is seen now, by our clock. A retained one is as old as
    // its payload's `ts`, and of unknown age without one.
    let seen_at = if retained {
        ts.map(|ts| ts.min(now))
    } else {
        Some(now)
    };

    Ok(Observation::State {
        device: device.to_owned(),
        describes,
        reported,
        retained,
        seen_at,
    })
}

fn decode_availability(payload: &[u8], limits: &Limits) -> Result<bool, DecodeError> {
    let text = check_text(payload, limits)?.trim();
    let word = if text.starts_with('{') {
        let object = parse_object(payload, limits)?;
        required_str(&object, "state")?
    } else if text.starts_with('"') {
        serde_json::from_str::<String>(text)
            .map_err(|error| DecodeError::InvalidJson(error.to_string()))?
    } else {
        text.to_owned()
    };
    match word.to_ascii_lowercase().as_str() {
        "online" => Ok(true),
        "offline" => Ok(false),
        _ => Err(bad(
            "state",
            format!(
                "expected \"online\" or \"offline\", got \"{}\"",
                sanitize(&word)
            ),
        )),
    }
}

fn decode_event(device: &str, object: &Map<String, Value>) -> Result<Observation, DecodeError> {
    let event_id = required_str(object, "id")?;
    if event_id.is_empty() || event_id.len() > 64 {
        return Err(bad("id", "expected 1 to 64 characters"));
    }
    let event = required_str(object, "type")?;
    let valid_type = !event.is_empty()
        && event.len() <= 40
        && event
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if !valid_type {
        return Err(bad(
            "type",
            "expected a snake_case name of up to 40 characters",
        ));
    }
    Ok(Observation::DeviceEvent {
        device: device.to_owned(),
        event_id,
        event,
        text: optional_text(object, "text")?,
        source_ts: optional_ts(object)?,
    })
}

fn decode_alarm(id: &str, object: &Map<String, Value>) -> Result<Observation, DecodeError> {
    let closed = match optional_str(object, "state")?.as_deref() {
        None | Some("open") => false,
        Some("closed") => true,
        Some(other) => return Err(bad("state", format!("\"{other}\" is not open or closed"))),
    };
    if closed {
        return Ok(Observation::ExternalAlarm {
            id: id.to_owned(),
            record: None,
        });
    }
    let priority = match object.get("priority") {
        Some(Value::String(text)) => Priority::parse(text),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| Priority::parse(&n.to_string())),
        None | Some(Value::Null) => return Err(DecodeError::MissingField("priority")),
        Some(_) => None,
    }
    .ok_or_else(|| bad("priority", "expected P1, P2, P3 or P4"))?;
    let text = optional_text(object, "text")?.ok_or(DecodeError::MissingField("text"))?;
    let device = optional_str(object, "device")?;
    if let Some(device) = &device
        && (device.is_empty() || device.len() > 64 || device.contains(['/', '+', '#', ' ']))
    {
        return Err(bad("device", "expected a device id"));
    }
    Ok(Observation::ExternalAlarm {
        id: id.to_owned(),
        record: Some(ExternalAlarm {
            id: id.to_owned(),
            priority,
            active: optional_bool(object, "active")?.unwrap_or(true),
            text,
            device,
            building: optional_str(object, "building")?.unwrap_or_default(),
            zone: optional_str(object, "zone")?.unwrap_or_default(),
        }),
    })
}

fn required_str(object: &Map<String, Value>, field: &'static str) -> Result<String, DecodeError> {
    optional_str(object, field)?.ok_or(DecodeError::MissingField(field))
}

/// Reads a string field, sanitised. `null` counts as absent.
fn optional_str(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, DecodeError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(sanitize(text))),
        Some(_) => Err(bad(field, "expected a string")),
    }
}

/// Reads a free-text field: sanitised, and absent when nothing is left.
fn optional_text(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, DecodeError> {
    Ok(optional_str(object, field)?.filter(|text| !text.is_empty()))
}

fn optional_bool(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<bool>, DecodeError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(_) => Err(bad(field, "expected true or false")),
    }
}

fn optional_u64(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<u64>, DecodeError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(field, "expected a whole number of 0 or more")),
        Some(_) => Err(bad(field, "expected a number")),
    }
}

fn optional_i64(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<i64>, DecodeError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(field, "expected a whole number")),
        Some(_) => Err(bad(field, "expected a number")),
    }
}

/// `ts`: RFC 3339 with an offset, or Unix milliseconds.
fn optional_ts(object: &Map<String, Value>) -> Result<Option<Timestamp>, DecodeError> {
    match object.get("ts") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => text.parse::<Timestamp>().map(Some).map_err(|_| {
            bad(
                "ts",
                "expected RFC 3339 with an offset, e.g. 2026-12-04T08:00:00+08:00",
            )
        }),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .map(Some)
            .ok_or_else(|| bad("ts", "expected Unix milliseconds")),
        Some(_) => Err(bad("ts", "expected a string or a number")),
    }
}
