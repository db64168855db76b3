//! The ticket lifecycle: states, categories, urgencies, operator actions,
//! and the table of which action is legal in which state.
//!
//! | action | legal in | leads to |
//! |---|---|---|
//! | assign (派单) | new | assigned |
//! | accept (接单) | assigned | in_progress |
//! | resolve | in_progress | awaiting_rating |
//! | close (办结) | awaiting_rating | closed |
//! | reopen | awaiting_rating | in_progress |
//! | return (退单) | assigned, in_progress | new |
//! | transfer (转单) | assigned, in_progress | assigned |
//! | cancel | new, assigned, in_progress | cancelled |
//! | take out of service, return to service | new, assigned, in_progress | the same state |
//! | note | every state | the same state |
//! | resolve conflict | every state, while a conflict is flagged | the same state |
//!
//! Return (退单) and transfer (转单) are actions, not states: a return puts
//! the ticket back in the unassigned queue, a transfer hands it to another
//! assignee, who must accept it again. Closed and cancelled tickets are
//! final; a follow-up is a new ticket that refers to the old one.
//!
//! A remark is required to resolve (what was done), reopen (what is still
//! wrong), return, transfer and cancel (the reason), to take a device out of
//! service (why), and for a note (the note itself).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::privacy::Role;

/// The state of a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// 待派单: waiting for an assignee.
    New,
    /// 已派单: assigned, not yet accepted.
    Assigned,
    /// 处理中: accepted, being repaired.
    InProgress,
    /// 待评价: resolved, waiting for the resident's rating.
    AwaitingRating,
    /// 已完成
    Closed,
    /// 已取消
    Cancelled,
}

impl TicketState {
    pub const ALL: [TicketState; 6] = [
        Self::New,
        Self::Assigned,
        Self::InProgress,
        Self::AwaitingRating,
        Self::Closed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Assigned => "assigned",
            Self::InProgress => "in_progress",
            Self::AwaitingRating => "awaiting_rating",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    /// True while the repair is still to be done: its SLA runs, and a device
    /// it took out of service stays out.
    pub fn is_open(self) -> bool {
        matches!(self, Self::New | Self::Assigned | Self::InProgress)
    }

    /// True for closed and cancelled tickets, which never change state again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Closed | Self::Cancelled)
    }
}

impl std::fmt::Display for TicketState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::InProgress => "in progress",
            Self::AwaitingRating => "awaiting rating",
            other => other.as_str(),
        })
    }
}

/// The kind of repair needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 水路
    Plumbing,
    /// 电路
    Electrical,
    /// 门禁/门窗
    DoorsAccess,
    /// 电梯
    Elevator,
    /// 公共设施
    PublicFacilities,
    /// 安防设备
    SecurityDevices,
    Other,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Self::Plumbing,
        Self::Electrical,
        Self::DoorsAccess,
        Self::Elevator,
        Self::PublicFacilities,
        Self::SecurityDevices,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plumbing => "plumbing",
            Self::Electrical => "electrical",
            Self::DoorsAccess => "doors_access",
            Self::Elevator => "elevator",
            Self::PublicFacilities => "public_facilities",
            Self::SecurityDevices => "security_devices",
            Self::Other => "other",
        }
    }
}

/// The urgency of a repair. Each urgency has its own SLA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// 急修
    Urgent,
    Normal,
    /// 小修
    Minor,
}

impl Urgency {
    pub const ALL: [Urgency; 3] = [Self::Urgent, Self::Normal, Self::Minor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::Normal => "normal",
            Self::Minor => "minor",
        }
    }
}

/// One side of a reconciliation: this console's copy or the MQTT record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Local,
    Remote,
}

/// An operator's action on a ticket, as logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketAction {
    /// Makes the logged and published action idempotent.
    pub id: Uuid,
    pub ticket: String,
    #[serde(flatten)]
    pub kind: TicketActionKind,
    pub operator: String,
    pub role: Role,
    #[serde(default)]
    pub remark: String,
}

/// Kind of ticket action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum TicketActionKind {
    /// 派单
    Assign {
        assignee: String,
    },
    /// 接单
    Accept,
    /// The repair is done, and the remark records what was done.
    Resolve,
    /// 办结, with the resident's rating of 1 to 5 stars if given.
    Close {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rating: Option<u8>,
    },
    /// The resident reports the repair did not work.
    Reopen,
    /// 退单: back to the unassigned queue.
    Return,
    /// 转单: to another assignee, who must accept it.
    Transfer {
        assignee: String,
    },
    Cancel,
    /// A remark on the ticket; changes nothing else.
    Note,
    /// Take the linked device out of service while it is repaired.
    TakeOutOfService,
    /// Put the linked device back into service before the ticket ends.
    ReturnToService,
    /// Keep one side of a conflict between this console and the MQTT record.
    ResolveConflict {
        keep: Side,
    },
}

impl TicketActionKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Assign { .. } => "assign",
            Self::Accept => "accept",
            Self::Resolve => "resolve",
            Self::Close { .. } => "close",
            Self::Reopen => "reopen",
            Self::Return => "return",
            Self::Transfer { .. } => "transfer",
            Self::Cancel => "cancel",
            Self::Note => "note",
            Self::TakeOutOfService => "take_out_of_service",
            Self::ReturnToService => "return_to_service",
            Self::ResolveConflict { .. } => "resolve_conflict",
        }
    }

    /// Returns the state after this action from `state`, or `None` when
    /// the action is not legal there. Actions that leave the state alone
    /// return it unchanged.
    pub fn next_state(&self, state: TicketState) -> Option<TicketState> {
        use TicketState::{Assigned, AwaitingRating, InProgress, New};
        match (self, state) {
            (Self::Assign { .. }, New) => Some(Assigned),
            (Self::Accept, Assigned) => Some(InProgress),
            (Self::Resolve, InProgress) => Some(AwaitingRating),
            (Self::Close { .. }, AwaitingRating) => Some(TicketState::Closed),
            (Self::Reopen, AwaitingRating) => Some(InProgress),
            (Self::Return, Assigned | InProgress) => Some(New),
            (Self::Transfer { .. }, Assigned | InProgress) => Some(Assigned),
            (Self::Cancel, New | Assigned | InProgress) => Some(TicketState::Cancelled),
            (Self::TakeOutOfService | Self::ReturnToService, s) if s.is_open() => Some(s),
            (Self::Note | Self::ResolveConflict { .. }, s) => Some(s),
            _ => None,
        }
    }

    /// Returns what the remark must contain, for the actions that require one.
    pub fn remark_required(&self) -> Option<&'static str> {
        match self {
            Self::Resolve => Some("say what was done"),
            Self::Reopen => Some("say what is still wrong"),
            Self::Return | Self::Transfer { .. } | Self::Cancel => Some("give the reason"),
            Self::TakeOutOfService => Some("say why the device is taken out of service"),
            Self::Note => Some("write the note"),
            Self::Assign { .. }
            | Self::Accept
            | Self::Close { .. }
            | Self::ReturnToService
            | Self::ResolveConflict { .. } => None,
        }
    }
}

/// Alternative to an action that is not legal in the ticket's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Advice {
    /// The ticket is closed or cancelled: a further repair needs a new ticket.
    CreateNew,
    /// The repair is resolved and waits for the resident's rating: close it.
    CloseIt,
    /// Only a resolved ticket, awaiting its rating, can be reopened.
    OnlyResolvedReopens,
    /// A new ticket needs an assignee first.
    ClaimFirst,
    /// A new ticket is already in the unassigned queue.
    AlreadyQueued,
    /// An assigned ticket must be accepted before it is resolved or closed.
    StartFirst,
    /// A ticket in progress must be resolved before it is closed.
    ResolveFirst,
    /// An assigned ticket changes hands by a transfer.
    TransferInstead,
    /// The assignee accepted the ticket already: resolve it when done.
    AlreadyStarted,
}

impl Advice {
    /// Returns what to do instead of `kind`, which is not legal in `state`.
    pub fn for_refused(state: TicketState, kind: &TicketActionKind) -> Self {
        use TicketActionKind as K;
        use TicketState as S;
        match (state, kind) {
            (S::Closed | S::Cancelled, _) => Self::CreateNew,
            (S::AwaitingRating, _) => Self::CloseIt,
            (_, K::Reopen) => Self::OnlyResolvedReopens,
            (S::New, K::Return) => Self::AlreadyQueued,
            (S::New, _) => Self::ClaimFirst,
            (S::Assigned, K::Assign { .. }) | (S::InProgress, K::Assign { .. }) => {
                Self::TransferInstead
            }
            (S::Assigned, _) => Self::StartFirst,
            (S::InProgress, K::Accept) => Self::AlreadyStarted,
            (S::InProgress, _) => Self::ResolveFirst,
        }
    }

    /// Stable code for the message catalog.
    pub fn code(self) -> &'static str {
        match self {
            Self::CreateNew => "create_new",
            Self::CloseIt => "close_it",
            Self::OnlyResolvedReopens => "only_resolved_reopens",
            Self::ClaimFirst => "claim_first",
            Self::AlreadyQueued => "already_queued",
            Self::StartFirst => "start_first",
            Self::ResolveFirst => "resolve_first",
            Self::TransferInstead => "transfer_instead",
            Self::AlreadyStarted => "already_started",
        }
    }
}

impl std::fmt::Display for Advice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::CreateNew => "create a new ticket referring to it",
            Self::CloseIt => "it is resolved, so close it",
            Self::OnlyResolvedReopens => "only a ticket awaiting its rating can be reopened",
            Self::ClaimFirst => "assign it first",
            Self::AlreadyQueued => "it is already in the unassigned queue",
            Self::StartFirst => "accept it first",
            Self::ResolveFirst => "resolve it first",
            Self::TransferInstead => "transfer it to change the assignee",
            Self::AlreadyStarted => "it is already accepted, so resolve it when the repair is done",
        })
    }
}

/// Reason a ticket action or a new ticket is rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("ticket {0} does not exist")]
    Unknown(String),
    #[error("ticket {0} already exists; choose another id")]
    Exists(String),
    #[error("ticket {ticket} is {state}; {action} is not possible, {advice}")]
    NotAllowed {
        ticket: String,
        state: TicketState,
        /// The refused action's [`TicketActionKind::as_str`].
        action: &'static str,
        advice: Advice,
    },
    #[error("a remark is required to {action} ticket {ticket}: {what}")]
    RemarkRequired {
        ticket: String,
        action: &'static str,
        what: &'static str,
    },
    #[error("no assignee given for ticket {0}; name who takes it")]
    NoAssignee(String),
    #[error("ticket {ticket} is already assigned to {assignee}; transfer it to someone else")]
    SameAssignee { ticket: String, assignee: String },
    #[error("rating {rating} for ticket {ticket} is out of range; give 1 to 5 stars, or none")]
    Rating { ticket: String, rating: u8 },
    #[error(
        "ticket {0} has no linked device; only a ticket created for a device can take it out of service"
    )]
    NoDevice(String),
    #[error("device {device} of ticket {ticket} is already out of service")]
    AlreadyOutOfService { ticket: String, device: String },
    #[error("device {device} of ticket {ticket} is in service; there is nothing to return")]
    NotOutOfService { ticket: String, device: String },
    #[error(
        "ticket {0} has a local and a remote version that disagree; keep one of them before changing it"
    )]
    Conflict(String),
    #[error("ticket {0} has no conflict to resolve")]
    NoConflict(String),
    #[error("the description of ticket {0} is empty; say what is broken")]
    EmptyDescription(String),
    #[error("ticket {ticket} refers to ticket {refers_to}, which does not exist")]
    UnknownReference { ticket: String, refers_to: String },
}

impl Refusal {
    /// Stable code for the message catalog.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unknown(_) => "unknown",
            Self::Exists(_) => "exists",
            Self::NotAllowed { .. } => "not_allowed",
            Self::RemarkRequired { .. } => "remark_required",
            Self::NoAssignee(_) => "no_assignee",
            Self::SameAssignee { .. } => "same_assignee",
            Self::Rating { .. } => "rating",
            Self::NoDevice(_) => "no_device",
            Self::AlreadyOutOfService { .. } => "already_out_of_service",
            Self::NotOutOfService { .. } => "not_out_of_service",
            Self::Conflict(_) => "conflict",
            Self::NoConflict(_) => "no_conflict",
            Self::EmptyDescription(_) => "empty_description",
            Self::UnknownReference { .. } => "unknown_reference",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds() -> Vec<TicketActionKind> {
        vec![
            TicketActionKind::Assign {
                assignee: "m1".into(),
            },
            TicketActionKind::Accept,
            TicketActionKind::Resolve,
            TicketActionKind::Close { rating: None },
            TicketActionKind::Reopen,
            TicketActionKind::Return,
            TicketActionKind::Transfer {
                assignee: "m2".into(),
            },
            TicketActionKind::Cancel,
            TicketActionKind::TakeOutOfService,
            TicketActionKind::ReturnToService,
        ]
    }

    #[test]
    fn advice_points_to_a_legal_step() {
        let cases = [
            (TicketState::New, TicketActionKind::Close { rating: None }),
            (TicketState::New, TicketActionKind::Accept),
            (TicketState::Assigned, TicketActionKind::Resolve),
            (
                TicketState::InProgress,
                TicketActionKind::Close { rating: None },
            ),
            (TicketState::AwaitingRating, TicketActionKind::Accept),
        ];
        let expected = [
            Advice::ClaimFirst,
            Advice::ClaimFirst,
            Advice::StartFirst,
            Advice::ResolveFirst,
            Advice::CloseIt,
        ];
        for ((state, kind), advice) in cases.iter().zip(expected) {
            assert_eq!(
                Advice::for_refused(*state, kind),
                advice,
                "{kind:?} in {state}"
            );
        }
    }

    #[test]
    fn advised_step_is_legal() {
        for state in TicketState::ALL {
            for kind in kinds() {
                if kind.next_state(state).is_some() {
                    continue;
                }
                let step = match Advice::for_refused(state, &kind) {
                    Advice::ClaimFirst => TicketActionKind::Assign {
                        assignee: "m1".into(),
                    },
                    Advice::StartFirst | Advice::AlreadyQueued => continue,
                    Advice::ResolveFirst | Advice::AlreadyStarted => TicketActionKind::Resolve,
                    Advice::TransferInstead => TicketActionKind::Transfer {
                        assignee: "m2".into(),
                    },
                    Advice::CloseIt => TicketActionKind::Close { rating: None },
                    Advice::CreateNew => {
                        assert!(state.is_final(), "{kind:?} in {state}");
                        continue;
                    }
                    Advice::OnlyResolvedReopens => {
                        assert_eq!(kind, TicketActionKind::Reopen);
                        continue;
                    }
                };
                assert!(
                    step.next_state(state).is_some(),
                    "{kind:?} in {state} advises {step:?}"
                );
            }
        }
    }
}
