//! Events from residents: check-ins, passive activity, SOS and falls.
//!
//! # The `care/<person>/evt` payload
//!
//! A UTF-8 JSON object, never retained:
//!
//! ```json
//! { "v": 1, "id": "e-20261204-0001", "ts": "2026-12-04T08:01:00+08:00", "type": "check_in", "via": "button" }
//! { "v": 1, "id": "e-20261204-0002", "ts": 1764806460000, "type": "activity", "source": "door" }
//! { "v": 1, "id": "e-20261204-0003", "type": "sos" }
//! { "v": 1, "id": "e-20261204-0004", "type": "fall", "text": "卧室" }
//! ```
//!
//! - `v` (required) is the schema version and must be 1.
//! - `id` (required) is the publisher's id for the event; a redelivery with
//!   the same id is dropped.
//! - `ts` is when it happened: RFC 3339 with an offset, or Unix
//!   milliseconds. Without it the arrival time is used. A time later than
//!   the arrival is taken as the arrival, because a device clock running
//!   fast must not push a check-in into a window that has not opened.
//! - `type` is `check_in` (with `via`: `button` or `app`), `activity` (with
//!   `source`, such as `door`, `water` or a device id), `sos` or `fall`.
//! - `text` is optional.
//!
//! Unknown keys are ignored; an unknown `type` or `via` is an error.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::ticket::reconcile::WireTime;

/// Schema version of the `care/<person>/evt` payload this console reads.
pub const SCHEMA: u32 = 1;

/// An event from or about a resident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareEvent {
    /// The publisher's id, for dropping redeliveries.
    pub id: String,
    pub resident: String,
    pub at: Timestamp,
    pub kind: CareEventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CareEventKind {
    /// 签到 (报平安)
    CheckIn { via: CheckInVia },
    /// A sign of life from a sensor, such as a door opening.
    Activity { source: String },
    /// 紧急按钮
    Sos,
    /// 跌倒检测
    Fall,
}

/// The way a resident checked in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInVia {
    Button,
    App,
}

/// Reason a `care/<person>/evt` payload is rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CareDecodeError {
    #[error("care event for {resident}: invalid JSON at {path}: {reason}")]
    Json {
        resident: String,
        path: String,
        reason: String,
    },
    #[error(
        "care event for {resident}: schema version {v} is not supported; this console reads version {SCHEMA}"
    )]
    Schema { resident: String, v: u32 },
    #[error("care event for {0}: the id is empty; give each event a unique id")]
    EmptyId(String),
}

#[derive(Deserialize)]
struct Wire {
    v: u32,
    id: String,
    #[serde(default)]
    ts: Option<WireTime>,
    #[serde(flatten)]
    kind: CareEventKind,
    #[serde(default)]
    text: Option<String>,
}

impl CareEvent {
    /// Decodes the payload of `care/<resident>/evt`, received at `received`.
    pub fn decode(
        resident: &str,
        payload: &[u8],
        received: Timestamp,
    ) -> Result<Self, CareDecodeError> {
        let mut deserializer = serde_json::Deserializer::from_slice(payload);
        let wire: Wire = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            CareDecodeError::Json {
                resident: resident.to_owned(),
                path: error.path().to_string(),
                reason: error.inner().to_string(),
            }
        })?;
        if wire.v != SCHEMA {
            return Err(CareDecodeError::Schema {
                resident: resident.to_owned(),
                v: wire.v,
            });
        }
        if wire.id.trim().is_empty() {
            return Err(CareDecodeError::EmptyId(resident.to_owned()));
        }
        let at = wire.ts.map_or(received, |ts| ts.0.min(received));
        Ok(Self {
            id: wire.id,
            resident: resident.to_owned(),
            at,
            kind: wire.kind,
            text: wire.text,
        })
    }
}
