//! The alarm events of the log: what the rules raise and change, and what
//! operators do.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::condition::{Condition, Disposition, Priority};

/// Actor recorded on transitions the rules make, as opposed to an operator.
pub const SYSTEM: &str = "system";

/// A new alarm, with everything the queue shows about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Raise {
    pub alarm: u64,
    /// The device, gateway (`gw:<id>`) or external record (`ext:<id>`) it is about.
    pub source: String,
    pub condition: Condition,
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The name shown for the source.
    pub name: String,
    #[serde(default)]
    pub building: String,
    #[serde(default)]
    pub zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Raised by a discrete event: nothing will report it cleared, so
    /// acknowledging it ends its active phase.
    #[serde(default)]
    pub momentary: bool,
    pub active: bool,
    #[serde(default)]
    pub suppressed: bool,
    #[serde(default)]
    pub out_of_service: bool,
}

/// A change the rules make to an open alarm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// The condition came true again, or repeated while true.
    Repeated,
    /// The condition is no longer true.
    Cleared,
    /// Unacknowledged past the priority's limit: sound again, tell the supervisor.
    Escalated,
    /// A timed shelving ran out.
    ShelveExpired,
    /// The source's gateway went offline (`on`) or came back.
    Suppressed { on: bool },
    /// A device that keeps dropping off: how often in the counting window.
    Flapped { count: u32 },
    /// The system that owns the alarm record closed it.
    ClosedAtSource,
    /// A rule with stages (the missed check-in ladder) moved on to `stage`:
    /// the alarm takes the stage's priority and sounds again.
    Staged { stage: u8, priority: Priority },
    /// The device came back into service with the condition still true:
    /// the repair did not end it, so the alarm needs acknowledging again.
    StillActive,
}

impl Change {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Repeated => "repeated",
            Self::Cleared => "cleared",
            Self::Escalated => "escalated",
            Self::ShelveExpired => "shelve_expired",
            Self::Suppressed { on: true } => "suppressed",
            Self::Suppressed { on: false } => "unsuppressed",
            Self::Flapped { .. } => "flapped",
            Self::ClosedAtSource => "closed_at_source",
            Self::Staged { .. } => "staged",
            Self::StillActive => "still_active",
        }
    }
}

/// An operator's action, as logged and as published on `console/<c>/act`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Makes the published action idempotent.
    pub id: Uuid,
    /// The alarm acted on; `None` for console-wide actions (silence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<u64>,
    #[serde(flatten)]
    pub kind: ActionKind,
    pub operator: String,
    pub role: String,
    pub console: String,
    #[serde(default)]
    pub via_ssh: bool,
    #[serde(default)]
    pub remark: String,
}

/// Kind of operator action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionKind {
    Acknowledge,
    Close {
        disposition: Disposition,
    },
    Reset,
    /// Shelve until a time, or once until the condition clears (`until` absent).
    Shelve {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Timestamp>,
    },
    Unshelve,
    Remark,
    /// Silence the sounder for everything sounding now.
    Silence,
    /// Take the alarm's device out of service (`on`) or back into it.
    OutOfService {
        device: String,
        on: bool,
    },
    /// A duty-log entry written by the operator; its text is the remark.
    /// A correction refers to the `seq` of the entry it corrects.
    Note {
        entry: EntryKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refers_to: Option<i64>,
    },
    /// The operator logged in at the console.
    LogIn,
    /// The operator logged out, or the console locked them out.
    LogOut,
    /// The outgoing guard signs the handover of `shift`.
    HandOver {
        shift: String,
    },
    /// The incoming guard confirms the handover `handover` (the outgoing
    /// guard's action id) of `shift`.
    TakeOver {
        shift: String,
        handover: Uuid,
    },
    /// An operator was added, disabled, enabled or given a new PIN. The
    /// operator changed is `account`; the action's own operator is who
    /// changed it.
    OperatorChanged {
        account: String,
        change: crate::domain::operator::OperatorChange,
    },
    /// An action on repair ticket `ticket`; its remark is the ticket action's.
    TicketAct {
        ticket: String,
        act: crate::domain::ticket::TicketActionKind,
    },
    /// A new repair ticket. The recorder fills in an empty `id` with the
    /// next local one, and the operator, role and remark from the action.
    CreateTicket {
        ticket: crate::domain::ticket::NewTicket,
    },
    /// The outcome of a stage of a resident's missed check-in ladder.
    CareOutcome {
        resident: String,
        outcome: crate::domain::care::Outcome,
    },
    /// The operator revealed masked personal data: which kind, about whom
    /// (a resident id, or a ticket id for a reporter). The value is never logged.
    Reveal {
        kind: crate::domain::privacy::DataKind,
        subject: String,
    },
}

/// Type of a duty-log entry written by an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// 备注
    Note,
    /// 巡更
    Patrol,
    /// 来访
    Visitor,
    /// 事件
    Incident,
    /// 电话
    Call,
    /// 交接班备注
    HandoverRemark,
}

impl EntryKind {
    pub const ALL: [EntryKind; 6] = [
        Self::Note,
        Self::Patrol,
        Self::Visitor,
        Self::Incident,
        Self::Call,
        Self::HandoverRemark,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Note => "note",
            Self::Patrol => "patrol",
            Self::Visitor => "visitor",
            Self::Incident => "incident",
            Self::Call => "call",
            Self::HandoverRemark => "handover_remark",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl ActionKind {
    /// Returns true for actions on alarms or the sounder, false for the
    /// duty log's own actions (notes, logins, handovers, operator changes)
    /// and for actions on tickets, eldercare outcomes and reveals.
    pub fn is_alarm(&self) -> bool {
        !matches!(
            self,
            Self::Note { .. }
                | Self::LogIn
                | Self::LogOut
                | Self::HandOver { .. }
                | Self::TakeOver { .. }
                | Self::OperatorChanged { .. }
                | Self::TicketAct { .. }
                | Self::CreateTicket { .. }
                | Self::CareOutcome { .. }
                | Self::Reveal { .. }
        )
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::Close { .. } => "close",
            Self::Reset => "reset",
            Self::Shelve { .. } => "shelve",
            Self::Unshelve => "unshelve",
            Self::Remark => "remark",
            Self::Silence => "silence",
            Self::OutOfService { on: true, .. } => "out_of_service",
            Self::OutOfService { on: false, .. } => "in_service",
            Self::Note { .. } => "note",
            Self::LogIn => "log_in",
            Self::LogOut => "log_out",
            Self::HandOver { .. } => "hand_over",
            Self::TakeOver { .. } => "take_over",
            Self::OperatorChanged { .. } => "operator_changed",
            Self::TicketAct { .. } => "ticket_act",
            Self::CreateTicket { .. } => "create_ticket",
            Self::CareOutcome { .. } => "care_outcome",
            Self::Reveal { .. } => "reveal",
        }
    }
}

/// The start and the end of an alarm flood.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "flood", rename_all = "snake_case")]
pub enum Flood {
    Started {
        /// New alarms in the counting window when it started.
        rate: u32,
    },
    /// The summary written to the shift log.
    Ended {
        started: Timestamp,
        raised: u32,
        peak_rate: u32,
        /// New alarms during the flood, by condition, most first.
        by_condition: Vec<(Condition, u32)>,
    },
}
