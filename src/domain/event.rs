//! Events: the append-only record of everything that changed.
//!
//! Each event is one row of the `events` table. Repeats that change nothing
//! (heartbeats, "still closed") are not events; they only move `last_seen`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::alarm::{Action, ActionKind, Change, Flood, Raise};
use super::device::{DeviceSpec, Reported};
use super::services::CareRecord;
use super::ticket::TicketEvent;
use super::time::{from_millis, to_millis};

/// An event as stored: its place in the log, its identity and its time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log; 0 until the store assigns it.
    pub seq: i64,
    pub id: Uuid,
    /// When the console recorded it (UTC).
    pub at: Timestamp,
    pub body: EventBody,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// The inventory added a device or changed its description.
    DeviceRegistered { spec: DeviceSpec },
    /// The inventory no longer lists a device that is still known.
    DeviceUnregistered { device: String },
    /// A device outside the inventory published for the first time, or
    /// changed its self-description.
    DeviceDiscovered { spec: DeviceSpec },
    /// A device reported a state that differs from its last good one.
    StateReported {
        device: String,
        reported: Reported,
        /// True when the report came from a retained message: last-known
        /// state, not something that just happened.
        retained: bool,
        /// When the report was made, if known.
        seen_at: Option<Timestamp>,
    },
    AvailabilityChanged {
        device: String,
        online: bool,
        retained: bool,
    },
    GatewayAvailabilityChanged {
        gateway: String,
        online: bool,
        retained: bool,
    },
    /// A discrete event from `evt/<dev>`: door forced, smoke, SOS…
    DeviceEventRaised {
        device: String,
        /// The publisher's id for the event, used to drop redeliveries.
        event_id: String,
        event: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        source_ts: Option<Timestamp>,
    },
    /// A payload on one of the device's topics could not be decoded.
    DataErrorRaised {
        device: String,
        topic: String,
        code: String,
        reason: String,
    },
    /// The broker link went up or down. `session_lost` marks a reconnect
    /// that found no session on the broker: messages may be missing.
    LinkChanged {
        online: bool,
        detail: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        session_lost: bool,
    },
    /// A rule raised a new alarm.
    AlarmRaised { raise: Raise },
    /// A rule changed an open alarm.
    AlarmChanged { alarm: u64, change: Change },
    /// An operator acted on an alarm or on the console's sounder.
    AlarmActed { action: Action },
    /// An alarm flood started or ended.
    AlarmFlood { flood: Flood },
    /// An operator's own duty-log action: a note, a login or logout, a
    /// handover or its confirmation, a reveal of personal data.
    DutyRecorded { action: Action },
    /// A repair ticket was created, acted on, received on `ticket/<id>`,
    /// or noticed overdue. `action` is the operator's, for the first two.
    Ticket {
        event: TicketEvent,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<Action>,
    },
    /// An eldercare record: an event from a resident, a guard's outcome
    /// (with the operator's `action`), a rule's signal, or the residents watched.
    Care {
        record: CareRecord,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<Action>,
    },
}

impl EventBody {
    /// Stable name of the variant, stored in its own column for queries.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::DeviceRegistered { .. } => "device_registered",
            Self::DeviceUnregistered { .. } => "device_unregistered",
            Self::DeviceDiscovered { .. } => "device_discovered",
            Self::StateReported { .. } => "state_reported",
            Self::AvailabilityChanged { .. } => "availability_changed",
            Self::GatewayAvailabilityChanged { .. } => "gateway_availability_changed",
            Self::DeviceEventRaised { .. } => "device_event_raised",
            Self::DataErrorRaised { .. } => "data_error_raised",
            Self::LinkChanged { .. } => "link_changed",
            Self::AlarmRaised { .. } => "alarm_raised",
            Self::AlarmChanged { .. } => "alarm_changed",
            Self::AlarmActed { .. } => "alarm_acted",
            Self::AlarmFlood { .. } => "alarm_flood",
            Self::DutyRecorded { .. } => "duty_recorded",
            Self::Ticket { event, .. } => event.kind(),
            Self::Care { record, .. } => record.kind(),
        }
    }

    /// Returns true for the events of the alarm model: raises, rule
    /// changes, operator actions and floods.
    pub fn is_alarm(&self) -> bool {
        matches!(
            self,
            Self::AlarmRaised { .. }
                | Self::AlarmChanged { .. }
                | Self::AlarmActed { .. }
                | Self::AlarmFlood { .. }
        )
    }

    /// Returns the alarm the event is about, if any.
    pub fn alarm(&self) -> Option<u64> {
        match self {
            Self::AlarmRaised { raise } => Some(raise.alarm),
            Self::AlarmChanged { alarm, .. } => Some(*alarm),
            Self::AlarmActed { action } => action.alarm,
            _ => None,
        }
    }

    /// Returns the device the event is about, if any.
    pub fn device(&self) -> Option<&str> {
        match self {
            Self::DeviceRegistered { spec } | Self::DeviceDiscovered { spec } => Some(&spec.id),
            Self::DeviceUnregistered { device }
            | Self::StateReported { device, .. }
            | Self::AvailabilityChanged { device, .. }
            | Self::DeviceEventRaised { device, .. }
            | Self::DataErrorRaised { device, .. } => Some(device),
            Self::AlarmActed { action } => match &action.kind {
                ActionKind::OutOfService { device, .. } => Some(device),
                _ => None,
            },
            Self::GatewayAvailabilityChanged { .. }
            | Self::LinkChanged { .. }
            | Self::AlarmRaised { .. }
            | Self::AlarmChanged { .. }
            | Self::AlarmFlood { .. }
            | Self::DutyRecorded { .. }
            | Self::Care { .. } => None,
            Self::Ticket { event, .. } => match event {
                TicketEvent::Created { ticket } => ticket.device.as_deref(),
                TicketEvent::Received { record } => record.content.device.as_deref(),
                TicketEvent::Acted { .. } | TicketEvent::OverdueNoticed { .. } => None,
            },
        }
    }

    /// Returns the key under which a redelivered copy of the event is recognised.
    pub fn dedupe_key(&self) -> Option<String> {
        match self {
            Self::DeviceEventRaised {
                device, event_id, ..
            } => Some(format!("evt:{device}:{event_id}")),
            Self::AlarmActed { action }
            | Self::DutyRecorded { action }
            | Self::Ticket {
                action: Some(action),
                ..
            }
            | Self::Care {
                action: Some(action),
                ..
            } => Some(format!("act:{}", action.id)),
            // A retained record comes again on every reconnect; a new
            // version or a new time is a new record.
            Self::Ticket {
                event: TicketEvent::Received { record },
                ..
            } => Some(format!(
                "ticket:{}:{}:{}",
                record.id,
                record.version,
                record.updated_at.as_millisecond()
            )),
            Self::Ticket {
                event: TicketEvent::OverdueNoticed { notice },
                ..
            } => Some(format!("overdue:{}", notice.ticket)),
            Self::Care {
                record: CareRecord::Event { event },
                ..
            } => Some(format!("care:{}:{}", event.resident, event.id)),
            _ => None,
        }
    }
}

impl Event {
    /// Creates an event at `at`, cut to whole milliseconds because the store
    /// keeps event times in milliseconds: the state folded live must equal
    /// the state replayed from the log.
    pub fn new(at: Timestamp, body: EventBody) -> Self {
        Self {
            seq: 0,
            id: Uuid::new_v4(),
            at: from_millis(to_millis(at)),
            body,
        }
    }
}
