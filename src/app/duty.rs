//! The duty log as the console takes part in it: the shift schedule and
//! where reports go, whether the last shift was handed over, and the
//! takeover that switches the console to the incoming operator.

use std::path::PathBuf;

use jiff::Timestamp;
use uuid::Uuid;

use super::{Access, ActError, App, Current};
use crate::domain::alarm::{Action, ActionKind, Refusal};
use crate::domain::operator::{Account, Permission, Registered, Role, allows, authorize};
use crate::domain::shift::{Schedule, Shift};

/// The duty-log settings of a console and what it knows of the handovers.
#[derive(Clone, Debug)]
pub struct Duty {
    pub schedule: Schedule,
    /// Folder that exported reports are written to.
    pub reports_dir: PathBuf,
    /// The last ended shift whose handover is missing, as the database had
    /// it on the last check; `None` while unknown or when all is signed.
    pub overdue: Option<Overdue>,
}

impl Default for Duty {
    fn default() -> Self {
        Self {
            schedule: Schedule::day_and_night(),
            reports_dir: PathBuf::from("reports"),
            overdue: None,
        }
    }
}

/// An ended shift without a complete handover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overdue {
    pub shift: Shift,
    /// The outgoing guard signed, but nobody took over yet.
    pub handed_over: bool,
}

/// Where the handover of one shift stands in the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signing {
    /// The latest `HandOver` of the shift: action id and operator.
    pub handover: Option<(Uuid, String)>,
    /// The operator whose `TakeOver` confirms that handover.
    pub takeover: Option<String>,
    /// Someone was on duty in the shift: an operator logged in, wrote an
    /// entry or acted on an alarm. A shift nobody worked, such as the hours
    /// before a new database was set up, has nothing to hand over.
    pub worked: bool,
}

impl Signing {
    /// Reads the handover and takeover of `shift` from duty-log actions in
    /// log order. A takeover counts only for the handover it names.
    pub fn of<'a>(shift: &str, actions: impl IntoIterator<Item = &'a Action>) -> Self {
        let mut signing = Self::default();
        for action in actions {
            match &action.kind {
                ActionKind::HandOver { shift: id } if id == shift => {
                    signing.handover = Some((action.id, action.operator.clone()));
                    signing.takeover = None;
                }
                ActionKind::TakeOver {
                    shift: id,
                    handover,
                } if id == shift
                    && signing
                        .handover
                        .as_ref()
                        .is_some_and(|(signed, _)| signed == handover) =>
                {
                    signing.takeover = Some(action.operator.clone());
                }
                _ => {}
            }
        }
        signing
    }

    pub fn complete(&self) -> bool {
        self.handover.is_some() && self.takeover.is_some()
    }
}

impl App {
    /// Returns the role whose permissions this console's user has now: the
    /// logged-in operator's, or the configured user's on a site without
    /// operators.
    pub fn current_role(&self) -> Option<Role> {
        match &self.access {
            Access::Open => Role::parse(&self.operator.role),
            Access::Operators { .. } => self.access.active().map(|current| current.role),
        }
    }

    /// True when the current user may write reports to files.
    pub fn may_export(&self) -> bool {
        self.current_role()
            .is_some_and(|role| allows(role, Permission::Export))
    }

    /// Records `incoming`'s takeover of `shift`, confirming the handover
    /// action `handover`, then makes `incoming` the console's operator: the
    /// outgoing operator is logged out and the incoming one logged in.
    ///
    /// The caller has checked `incoming`'s PIN with [`App::confirm_pin`].
    /// Nothing is recorded when the takeover is rejected.
    pub fn take_over(
        &mut self,
        incoming: &Account,
        shift: &str,
        handover: Uuid,
        remark: &str,
        now: Timestamp,
    ) -> Result<Uuid, ActError> {
        if self.read_only {
            return Err(Refusal::ReadOnly.into());
        }
        let action = Action {
            id: Uuid::new_v4(),
            alarm: None,
            kind: ActionKind::TakeOver {
                shift: shift.to_owned(),
                handover,
            },
            operator: incoming.id.clone(),
            role: incoming.role.as_str().to_owned(),
            console: self.operator.console.clone(),
            via_ssh: self.operator.via_ssh,
            remark: remark.trim().to_owned(),
        };
        let registered = Registered::Found {
            role: incoming.role,
            disabled: incoming.disabled,
        };
        authorize(registered, &action, &self.projection.alarms)?;
        self.projection.check_action(&action, now)?;
        let Some(submit) = &self.submit else {
            return Err(ActError::Attached);
        };
        let id = action.id;
        submit(action)?;
        tracing::info!(shift, incoming = %incoming.id, outgoing = %self.operator.name, "shift taken over");

        self.switch_operator(incoming, now);
        Ok(id)
    }

    /// Logs the current operator out and `incoming` in, as a login at the
    /// lock screen does, without asking for the PIN again.
    fn switch_operator(&mut self, incoming: &Account, now: Timestamp) {
        if !matches!(self.access, Access::Operators { .. }) {
            return;
        }
        self.log_out(now);
        self.operator.name.clone_from(&incoming.id);
        self.operator.role = incoming.role.as_str().to_owned();
        self.access = Access::Operators {
            current: Some(Current {
                id: incoming.id.clone(),
                name: incoming.name.clone(),
                role: incoming.role,
                since: now,
            }),
            locked: false,
        };
        if let Err(error) = self.act(None, ActionKind::LogIn, "", now) {
            tracing::error!(%error, operator = %incoming.id, "recording the login after a takeover failed");
        }
    }
}
