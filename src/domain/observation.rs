//! Observations: decoded messages, before the projection decides whether they
//! change anything.

use jiff::Timestamp;

use super::alarm::ExternalAlarm;
use super::care::CareEvent;
use super::device::{DetectorClass, DeviceKind, Reported};
use super::ticket::RemoteTicket;

/// Self-description a device sends in a state report, beyond its state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelfDescription {
    pub kind: Option<DeviceKind>,
    pub class: Option<DetectorClass>,
    pub name: Option<String>,
    pub building: Option<String>,
    pub zone: Option<String>,
    pub gateway: Option<String>,
    /// Seconds between the reports the device promises, for a device outside
    /// the inventory. `None` leaves the interval as it was, and a new device
    /// gets `console.unregistered_interval_s`.
    pub interval_s: Option<u32>,
}

/// One decoded message.
#[derive(Clone, Debug, PartialEq)]
pub enum Observation {
    State {
        device: String,
        describes: SelfDescription,
        reported: Reported,
        retained: bool,
        /// When the report was made: the receive time for live messages, the
        /// payload's time for retained ones (unknown when it has none).
        seen_at: Option<Timestamp>,
    },
    Availability {
        device: String,
        online: bool,
        retained: bool,
    },
    GatewayAvailability {
        gateway: String,
        online: bool,
        retained: bool,
    },
    DeviceEvent {
        device: String,
        event_id: String,
        event: String,
        text: Option<String>,
        source_ts: Option<Timestamp>,
    },
    /// An alarm record from `alarm/<id>`; `None` when the record was
    /// emptied or marked closed.
    ExternalAlarm {
        id: String,
        record: Option<ExternalAlarm>,
    },
    /// A repair ticket record from `ticket/<id>`; `None` when the retained
    /// record was deleted. Boxed, because a record is several times the
    /// size of the other observations.
    Ticket {
        id: String,
        record: Option<Box<RemoteTicket>>,
    },
    /// An event from `care/<person>/evt`.
    Care { event: CareEvent },
    /// A payload that could not be decoded; `device` is known when the topic named one.
    DataError {
        device: Option<String>,
        topic: String,
        code: String,
        reason: String,
    },
}

impl Observation {
    pub fn device(&self) -> Option<&str> {
        match self {
            Self::State { device, .. }
            | Self::Availability { device, .. }
            | Self::DeviceEvent { device, .. } => Some(device),
            Self::DataError { device, .. } => device.as_deref(),
            Self::ExternalAlarm { record, .. } => record.as_ref().and_then(|r| r.device.as_deref()),
            Self::Ticket { record, .. } => {
                record.as_ref().and_then(|r| r.content.device.as_deref())
            }
            Self::GatewayAvailability { .. } | Self::Care { .. } => None,
        }
    }
}
