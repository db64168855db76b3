//! Permissions: which role has each, and which one each action needs.
//!
//! | permission | guard | maintenance | supervisor |
//! |---|---|---|---|
//! | acknowledge, close, reset, silence | yes | no | yes |
//! | force-close (close while still active) | no | no | yes |
//! | shelve, unshelve | no | no | yes |
//! | remark on an alarm | yes | yes | yes |
//! | take a device out of service, back in | no | yes | yes |
//! | duty-log note | yes | yes | yes |
//! | log in, log out | yes | yes | yes |
//! | hand over, take over a shift | yes | no | yes |
//! | handle repair tickets | no | yes | yes |
//! | reveal personal data | yes | yes | yes |
//! | review logs, export reports, manage operators | no | no | yes |
//!
//! Revealing personal data is granted to every role because each needs some
//! of it. Which kinds a role may reveal is decided per kind by
//! [`may_reveal`](crate::domain::privacy::may_reveal).
//!
//! The table applies only where operators are registered. A site with an
//! empty operators table has no logins, so its actions carry the configured
//! console user and are not checked against a role ([`Registered::NoOperators`]).

use serde::{Deserialize, Serialize};

use super::role::Role;
use crate::domain::alarm::{Action, ActionKind, AlarmBook, Refusal};
use crate::domain::ticket::TicketActionKind;

/// Something an operator may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Acknowledge,
    /// Close an alarm whose condition has cleared, or a momentary one.
    Close,
    /// Close an alarm whose condition is still true.
    ForceClose,
    Reset,
    /// Shelve and unshelve.
    Shelve,
    Remark,
    Silence,
    /// Take a device out of service and put it back.
    Service,
    Note,
    /// Log in and log out.
    LogIn,
    HandOver,
    TakeOver,
    /// Read shift logs, handovers and history on a review console.
    Review,
    Export,
    ManageOperators,
    RevealPersonal,
    HandleTickets,
}

impl Permission {
    pub const ALL: [Permission; 17] = [
        Self::Acknowledge,
        Self::Close,
        Self::ForceClose,
        Self::Reset,
        Self::Shelve,
        Self::Remark,
        Self::Silence,
        Self::Service,
        Self::Note,
        Self::LogIn,
        Self::HandOver,
        Self::TakeOver,
        Self::Review,
        Self::Export,
        Self::ManageOperators,
        Self::RevealPersonal,
        Self::HandleTickets,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::Close => "close",
            Self::ForceClose => "force_close",
            Self::Reset => "reset",
            Self::Shelve => "shelve",
            Self::Remark => "remark",
            Self::Silence => "silence",
            Self::Service => "service",
            Self::Note => "note",
            Self::LogIn => "log_in",
            Self::HandOver => "hand_over",
            Self::TakeOver => "take_over",
            Self::Review => "review",
            Self::Export => "export",
            Self::ManageOperators => "manage_operators",
            Self::RevealPersonal => "reveal_personal",
            Self::HandleTickets => "handle_tickets",
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returns whether `role` has `permission`; the module documentation has
/// the same table.
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    match role {
        Role::Supervisor => true,
        Role::Guard => matches!(
            permission,
            P::Acknowledge
                | P::Close
                | P::Reset
                | P::Remark
                | P::Silence
                | P::Note
                | P::LogIn
                | P::HandOver
                | P::TakeOver
                | P::RevealPersonal
        ),
        Role::Maintenance => matches!(
            permission,
            P::Remark | P::Service | P::Note | P::LogIn | P::HandleTickets | P::RevealPersonal
        ),
    }
}

/// Returns the permission `action` needs, given the alarms as they are:
/// closing an alarm that is still active and not momentary is a force-close.
pub fn required(action: &Action, book: &AlarmBook) -> Permission {
    match &action.kind {
        ActionKind::Acknowledge => Permission::Acknowledge,
        ActionKind::Close { .. } => {
            let forced = action
                .alarm
                .and_then(|id| book.open.get(&id))
                .is_some_and(|alarm| alarm.active && !alarm.momentary);
            if forced {
                Permission::ForceClose
            } else {
                Permission::Close
            }
        }
        ActionKind::Reset => Permission::Reset,
        ActionKind::Shelve { .. } | ActionKind::Unshelve => Permission::Shelve,
        ActionKind::Remark => Permission::Remark,
        ActionKind::Silence => Permission::Silence,
        ActionKind::OutOfService { .. } => Permission::Service,
        ActionKind::Note { .. } => Permission::Note,
        ActionKind::LogIn | ActionKind::LogOut => Permission::LogIn,
        ActionKind::HandOver { .. } => Permission::HandOver,
        ActionKind::TakeOver { .. } => Permission::TakeOver,
        ActionKind::OperatorChanged { .. } => Permission::ManageOperators,
        // Guards note on tickets and take repair reports from an alarm, a
        // device or a resident at the window. Taking a device out of
        // service is left to maintenance.
        ActionKind::TicketAct {
            act: TicketActionKind::Note,
            ..
        } => Permission::Note,
        ActionKind::CreateTicket { ticket } if !ticket.out_of_service => Permission::Note,
        ActionKind::TicketAct { .. } | ActionKind::CreateTicket { .. } => Permission::HandleTickets,
        // Running the missed check-in ladder is the guard's work, as
        // acknowledging alarms is.
        ActionKind::CareOutcome { .. } => Permission::Acknowledge,
        ActionKind::Reveal { .. } => Permission::RevealPersonal,
    }
}

/// The operator of an action, as the operators table records them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registered {
    /// The table is empty: the site has not set up logins.
    NoOperators,
    /// Operators are registered, but not this one.
    Unknown,
    Found {
        role: Role,
        disabled: bool,
    },
    /// The OS user who ran a command-line operator change (`os:<user>`).
    /// Write access to the database file is what authorises it, since that
    /// access could change the operators table directly anyway.
    OsUser,
}

/// Decides whether the operator of `action` may take it: the check both the
/// console and the recorder make before the alarm book's own.
pub fn authorize(registered: Registered, action: &Action, book: &AlarmBook) -> Result<(), Refusal> {
    let needed = required(action, book);
    match registered {
        Registered::NoOperators => Ok(()),
        Registered::Unknown => Err(Refusal::UnknownOperator(action.operator.clone())),
        Registered::OsUser => {
            if matches!(action.kind, ActionKind::OperatorChanged { .. }) {
                Ok(())
            } else {
                Err(Refusal::UnknownOperator(action.operator.clone()))
            }
        }
        // A disabled operator still at a console may log out, so the log
        // shows when they left.
        Registered::Found { disabled: true, .. } if action.kind != ActionKind::LogOut => {
            Err(Refusal::DisabledOperator(action.operator.clone()))
        }
        Registered::Found { role, .. } => {
            if allows(role, needed) {
                Ok(())
            } else {
                Err(Refusal::NotPermitted {
                    role,
                    action: needed,
                })
            }
        }
    }
}
