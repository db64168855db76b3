//! Alarm conditions, priorities and closing dispositions.

use serde::{Deserialize, Serialize};

use crate::domain::device::{DetectorClass, DeviceKind, ReportedState};

/// The condition an alarm reports. One alarm exists per (source, condition).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    Fire,
    Gas,
    Panic,
    Fall,
    Intrusion,
    DoorForced,
    Tamper,
    WaterLeak,
    DoorHeldOpen,
    DeviceOffline,
    VideoLoss,
    DetectorFault,
    LowBattery,
    /// Raised by another system on `alarm/<id>`.
    External,
    /// An eldercare resident's check-in window closed without a check-in.
    MissedCheckIn,
    /// An eldercare resident's passive sources showed no activity for too long.
    Inactive,
    /// An urgent repair ticket is past its service level.
    TicketOverdue,
}

impl Condition {
    pub const ALL: [Condition; 17] = [
        Self::Fire,
        Self::Gas,
        Self::Panic,
        Self::Fall,
        Self::Intrusion,
        Self::DoorForced,
        Self::Tamper,
        Self::WaterLeak,
        Self::DoorHeldOpen,
        Self::DeviceOffline,
        Self::VideoLoss,
        Self::DetectorFault,
        Self::LowBattery,
        Self::External,
        Self::MissedCheckIn,
        Self::Inactive,
        Self::TicketOverdue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fire => "fire",
            Self::Gas => "gas",
            Self::Panic => "panic",
            Self::Fall => "fall",
            Self::Intrusion => "intrusion",
            Self::DoorForced => "door_forced",
            Self::Tamper => "tamper",
            Self::WaterLeak => "water_leak",
            Self::DoorHeldOpen => "door_held_open",
            Self::DeviceOffline => "device_offline",
            Self::VideoLoss => "video_loss",
            Self::DetectorFault => "detector_fault",
            Self::LowBattery => "low_battery",
            Self::External => "external",
            Self::MissedCheckIn => "missed_check_in",
            Self::Inactive => "inactive",
            Self::TicketOverdue => "ticket_overdue",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Returns the condition's priority unless the configuration maps it otherwise.
    pub fn default_priority(self) -> Priority {
        match self {
            Self::Fire | Self::Gas | Self::Panic | Self::Fall => Priority::P1,
            Self::Intrusion
            | Self::DoorForced
            | Self::Tamper
            | Self::WaterLeak
            | Self::Inactive => Priority::P2,
            Self::MissedCheckIn
            | Self::DoorHeldOpen
            | Self::DeviceOffline
            | Self::VideoLoss
            | Self::DetectorFault
            | Self::External => Priority::P3,
            Self::LowBattery | Self::TicketOverdue => Priority::P4,
        }
    }

    /// Intrusion, panic and fire stay latched until someone resets them.
    pub fn latches(self) -> bool {
        matches!(self, Self::Fire | Self::Panic | Self::Intrusion)
    }

    /// Maps a discrete device event (its `evt/<dev>` type) to a condition.
    /// Events that are recorded but raise nothing return `None`: motion,
    /// access granted, and any type this console does not know.
    pub fn of_event(event: &str) -> Option<Self> {
        Some(match event {
            "smoke" | "fire" | "heat" => Self::Fire,
            "gas" | "gas_leak" => Self::Gas,
            "sos" | "panic" | "duress" => Self::Panic,
            "fall" => Self::Fall,
            "intrusion" | "line_crossing" | "glass_break" => Self::Intrusion,
            "door_forced" | "forced" => Self::DoorForced,
            "tamper" | "cover" => Self::Tamper,
            "water_leak" | "leak" => Self::WaterLeak,
            "video_loss" => Self::VideoLoss,
            _ => return None,
        })
    }

    /// Maps a device's reported state to a condition, if the state is abnormal.
    pub fn of_state(
        kind: DeviceKind,
        class: Option<DetectorClass>,
        state: ReportedState,
    ) -> Option<Self> {
        match (kind, state) {
            (_, ReportedState::Forced) => Some(Self::DoorForced),
            (_, ReportedState::HeldOpen) => Some(Self::DoorHeldOpen),
            (_, ReportedState::VideoLoss) => Some(Self::VideoLoss),
            (_, ReportedState::Tamper) => Some(Self::Tamper),
            (_, ReportedState::Fault) => Some(Self::DetectorFault),
            (_, ReportedState::Alarm) => Some(match class {
                Some(DetectorClass::Smoke | DetectorClass::Heat) => Self::Fire,
                Some(DetectorClass::Gas) => Self::Gas,
                Some(DetectorClass::WaterLeak) => Self::WaterLeak,
                Some(DetectorClass::PanicButton) => Self::Panic,
                Some(DetectorClass::Pir | DetectorClass::GlassBreak) | None => Self::Intrusion,
            }),
            _ => None,
        }
    }
}

/// P1 is the most urgent. P1 is never shelved, grouped or suppressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Self::P1, Self::P2, Self::P3, Self::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::P1 => "P1",
            Self::P2 => "P2",
            Self::P3 => "P3",
            Self::P4 => "P4",
        }
    }

    /// Accepts `P1`…`P4` in either case, or the bare digit.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.trim().trim_start_matches(['P', 'p']);
        match digits {
            "1" => Some(Self::P1),
            "2" => Some(Self::P2),
            "3" => Some(Self::P3),
            "4" => Some(Self::P4),
            _ => None,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Outcome of an alarm, recorded when it is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    Genuine,
    FalseAlarm,
    DeviceFault,
    Test,
    Other,
    /// Closed by the system that owns the alarm record.
    ClosedAtSource,
}

impl Disposition {
    /// The dispositions an operator can choose.
    pub const CHOSEN: [Disposition; 5] = [
        Self::Genuine,
        Self::FalseAlarm,
        Self::DeviceFault,
        Self::Test,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Genuine => "genuine",
            Self::FalseAlarm => "false_alarm",
            Self::DeviceFault => "device_fault",
            Self::Test => "test",
            Self::Other => "other",
            Self::ClosedAtSource => "closed_at_source",
        }
    }
}
