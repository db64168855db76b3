//! Operator actions as the console takes them. The console checks each one
//! against its own copy of the state first, so the guard learns at once
//! when it is rejected, then hands it to the recorder, which checks again,
//! commits and publishes.

use jiff::Timestamp;
use uuid::Uuid;

use super::App;
use crate::domain::alarm::{Action, ActionKind, Refusal};
use crate::domain::operator::authorize;

/// The operator behind an action, and the console it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    pub name: String,
    pub role: String,
    /// This console's id, as in `console/<c>/act`.
    pub console: String,
    pub via_ssh: bool,
}

impl Operator {
    /// Builds the operator of a console configured with `user` and `console`
    /// ids. SSH is recognised from `SSH_CONNECTION` or `SSH_TTY`.
    pub fn from_env(name: &str, console: &str) -> Self {
        Self {
            name: name.to_owned(),
            role: "guard".into(),
            console: console.to_owned(),
            via_ssh: std::env::var_os("SSH_CONNECTION").is_some()
                || std::env::var_os("SSH_TTY").is_some(),
        }
    }
}

/// Hands an action to the recorder; `Err` when this console is attached to
/// another's recorder, or the recorder is gone or its queue is full. Never
/// blocks.
pub type Submit = Box<dyn Fn(Action) -> Result<(), ActError> + Send>;

/// Reason the console did not take an action.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// This console follows another process's recorder.
    // NOTE: an attached console cannot act yet. Its actions would have to
    // reach the recorder through the database, which nothing reads today.
    #[error("this console is attached to another console's recorder")]
    Attached,
    #[error("the recorder did not take the action: {0}")]
    Unavailable(String),
}

impl App {
    /// Checks an action as the recorder will: the console's mode, the
    /// operator's permission, then the alarm book and the services.
    pub fn check(&self, action: &Action, now: Timestamp) -> Result<(), Refusal> {
        if self.read_only {
            return Err(Refusal::ReadOnly);
        }
        let Some(registered) = self.access.registered() else {
            return Err(Refusal::NotLoggedIn);
        };
        authorize(registered, action, &self.projection.alarms)?;
        self.projection.check_action(action, now)
    }

    /// Takes an action: checks it, hands it to the recorder, and returns its
    /// id. The state changes when the recorder's commit comes back.
    pub fn act(
        &mut self,
        alarm: Option<u64>,
        kind: ActionKind,
        remark: &str,
        now: Timestamp,
    ) -> Result<Uuid, ActError> {
        let action = Action {
            id: Uuid::new_v4(),
            alarm,
            kind,
            operator: self.operator.name.clone(),
            role: self.operator.role.clone(),
            console: self.operator.console.clone(),
            via_ssh: self.operator.via_ssh,
            remark: remark.trim().to_owned(),
        };
        self.check(&action, now)?;
        let Some(submit) = &self.submit else {
            return Err(ActError::Attached);
        };
        let id = action.id;
        submit(action)?;
        Ok(id)
    }
}
