//! Tickets from MQTT and the rule that reconciles them with local changes.
//!
//! # The `ticket/<id>` record
//!
//! A retained UTF-8 JSON object, one per ticket, replaced whenever either
//! side changes the ticket:
//!
//! ```json
//! {
//!   "v": 1,
//!   "id": "R-1001",
//!   "version": 3,
//!   "ts": "2026-12-04T09:30:00+08:00",
//!   "created_at": "2026-12-04T09:00:00+08:00",
//!   "state": "assigned",
//!   "category": "plumbing",
//!   "urgency": "urgent",
//!   "location": "3栋 2单元 1201",
//!   "description": "厨房水管漏水",
//!   "assignee": "维修员乙",
//!   "reporter": { "name": "测试员甲", "phone": "138 0000 0001" },
//!   "alarm": 17,
//!   "device": "b3-leak-2",
//!   "refers_to": "T-3",
//!   "rating": 5
//! }
//! ```
//!
//! - `v` (required) is the schema version and must be 1.
//! - `id` is optional; when present it must equal the `<id>` of the topic.
//! - `version` (required, at least 1) is the counter that the side which
//!   made the change increments.
//! - `ts` (required) is when this version was made and `created_at`
//!   (required) when the ticket was. Both are RFC 3339 with an offset, or
//!   Unix milliseconds.
//! - `state`, `category` and `urgency` take the snake_case names of
//!   [`TicketState`], [`Category`] and [`Urgency`]. An unknown name is an
//!   error, not a default.
//! - `location` and `description` are required strings. `assignee`,
//!   `reporter` (with `name` and `phone`, both optional), `alarm` (an alarm
//!   id), `device`, `refers_to` (an earlier ticket) and `rating` (1 to 5)
//!   are optional.
//!
//! Unknown keys are ignored, so a newer publisher can add fields. An empty
//! payload (the retained record was deleted) decodes to `None`, and the
//! ticket stays in the book as it is.
//!
//! # Reconciling
//!
//! Each ticket carries its `version` and the last version on which this
//! console and the record are known to agree (`agreed`). Local changes since
//! then are unconfirmed, and their contents are kept until the record shows
//! them. A record is compared by version first:
//!
//! | the record | outcome |
//! |---|---|
//! | ticket unknown here | [`Reconciled::Added`] |
//! | version below the agreed one | [`Reconciled::Stale`]: a late redelivery, ignored |
//! | a version this console has, same content, the newest one | [`Reconciled::InSync`] |
//! | a version this console has, same content, an older one | [`Reconciled::LocalNewer`]: publish the local ticket |
//! | a version this console has, different content | [`Reconciled::Conflict`] |
//! | a newer version, nothing local unconfirmed | [`Reconciled::RemoteNewer`]: taken |
//! | a newer version while local changes are unconfirmed | [`Reconciled::Conflict`] |
//!
//! A conflict keeps both sides: the ticket keeps its local content and the
//! record is stored beside it until an operator keeps one of them. The
//! timestamps never decide, because the two sides' clocks are not
//! synchronised. They are shown with a conflict so that the operator sees
//! which edit is later.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::book::{Reporter, Ticket, TicketContent};
use super::state::{Category, TicketState, Urgency};

/// Schema version of the `ticket/<id>` record this console reads.
pub const SCHEMA: u32 = 1;

/// A decoded `ticket/<id>` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteTicket {
    pub id: String,
    pub version: u64,
    pub updated_at: Timestamp,
    pub created_at: Timestamp,
    pub content: TicketContent,
}

/// Reason a `ticket/<id>` payload is rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("ticket {id}: invalid JSON at {path}: {reason}")]
    Json {
        id: String,
        path: String,
        reason: String,
    },
    #[error(
        "ticket {id}: schema version {v} is not supported; this console reads version {SCHEMA}"
    )]
    Schema { id: String, v: u32 },
    #[error("ticket {topic}: the payload is for ticket {payload}; publish it on ticket/{payload}")]
    IdMismatch { topic: String, payload: String },
    #[error("ticket {0}: version 0 is invalid; versions start at 1")]
    VersionZero(String),
    #[error("ticket {id}: rating {rating} is out of range; use 1 to 5 or leave it out")]
    Rating { id: String, rating: u8 },
}

/// The outcome of reconciling a record, as in the table of the module documentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Reconciled {
    /// The ticket was not known here and is taken as it is.
    Added,
    /// The record is newer and nothing local was unconfirmed: it replaces
    /// the local content.
    RemoteNewer { from_version: u64, to_version: u64 },
    /// The record shows an older local version: the local ticket is newer
    /// and should be published again.
    LocalNewer {
        local_version: u64,
        remote_version: u64,
    },
    /// Both sides have the same version with the same content.
    InSync,
    /// The record is older than the last agreed version and is ignored.
    Stale { agreed: u64, remote_version: u64 },
    /// Both sides changed the ticket: both are kept and an operator chooses.
    Conflict {
        local_version: u64,
        remote_version: u64,
        local_updated_at: Timestamp,
        remote_updated_at: Timestamp,
    },
}

/// Decides what a record does to `local` (absent when the ticket is new here).
pub fn reconcile(local: Option<&Ticket>, record: &RemoteTicket) -> Reconciled {
    let Some(ticket) = local else {
        return Reconciled::Added;
    };
    let conflict = || Reconciled::Conflict {
        local_version: ticket.version,
        remote_version: record.version,
        local_updated_at: ticket.updated_at,
        remote_updated_at: record.updated_at,
    };

    if record.version < ticket.agreed {
        return Reconciled::Stale {
            agreed: ticket.agreed,
            remote_version: record.version,
        };
    }
    if record.version <= ticket.version {
        return match ticket.content_at(record.version) {
            Some(content) if *content == record.content && record.version == ticket.version => {
                Reconciled::InSync
            }
            Some(content) if *content == record.content => Reconciled::LocalNewer {
                local_version: ticket.version,
                remote_version: record.version,
            },
            Some(_) => conflict(),
            // Only the agreed version itself can be missing: it was settled
            // by an operator's choice, so this is a redelivery of a record
            // that choice already covered.
            None => Reconciled::Stale {
                agreed: ticket.agreed,
                remote_version: record.version,
            },
        };
    }
    if ticket.version == ticket.agreed && ticket.conflict.is_none() {
        Reconciled::RemoteNewer {
            from_version: ticket.version,
            to_version: record.version,
        }
    } else {
        conflict()
    }
}

impl RemoteTicket {
    /// Decodes the payload of `ticket/<topic_id>`. Returns `Ok(None)` for
    /// an empty payload, which deletes a retained record.
    pub fn decode(topic_id: &str, payload: &[u8]) -> Result<Option<Self>, DecodeError> {
        if payload.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let mut deserializer = serde_json::Deserializer::from_slice(payload);
        let wire: Wire = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            DecodeError::Json {
                id: topic_id.to_owned(),
                path: error.path().to_string(),
                reason: error.inner().to_string(),
            }
        })?;

        if wire.v != SCHEMA {
            return Err(DecodeError::Schema {
                id: topic_id.to_owned(),
                v: wire.v,
            });
        }
        if let Some(id) = wire.id.as_deref().filter(|id| *id != topic_id) {
            return Err(DecodeError::IdMismatch {
                topic: topic_id.to_owned(),
                payload: id.to_owned(),
            });
        }
        if wire.version == 0 {
            return Err(DecodeError::VersionZero(topic_id.to_owned()));
        }
        if let Some(rating) = wire.rating.filter(|r| !(1..=5).contains(r)) {
            return Err(DecodeError::Rating {
                id: topic_id.to_owned(),
                rating,
            });
        }

        Ok(Some(Self {
            id: topic_id.to_owned(),
            version: wire.version,
            updated_at: wire.ts.0,
            created_at: wire.created_at.0,
            content: TicketContent {
                state: wire.state,
                category: wire.category,
                urgency: wire.urgency,
                location: wire.location,
                description: wire.description,
                assignee: wire.assignee,
                reporter: wire.reporter,
                alarm: wire.alarm,
                device: wire.device,
                refers_to: wire.refers_to,
                rating: wire.rating,
            },
        }))
    }
}

/// The record as published; see the module documentation.
#[derive(Deserialize)]
struct Wire {
    v: u32,
    #[serde(default)]
    id: Option<String>,
    version: u64,
    ts: WireTime,
    created_at: WireTime,
    state: TicketState,
    category: Category,
    urgency: Urgency,
    location: String,
    description: String,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    reporter: Option<Reporter>,
    #[serde(default)]
    alarm: Option<u64>,
    #[serde(default)]
    device: Option<String>,
    #[serde(default)]
    refers_to: Option<String>,
    #[serde(default)]
    rating: Option<u8>,
}

/// A time given as RFC 3339 with an offset, or as Unix milliseconds, as
/// every payload of the native MQTT format gives it.
pub(crate) struct WireTime(pub(crate) Timestamp);

impl<'de> Deserialize<'de> for WireTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Millis(i64),
            Text(String),
        }
        match Either::deserialize(deserializer)? {
            Either::Millis(ms) => Timestamp::from_millisecond(ms)
                .map(WireTime)
                .map_err(|_| serde::de::Error::custom(format!("{ms} ms is out of range"))),
            Either::Text(text) => text.parse().map(WireTime).map_err(|_| {
                serde::de::Error::custom(format!(
                    "invalid time {text:?}; use RFC 3339 with an offset or Unix milliseconds"
                ))
            }),
        }
    }
}
