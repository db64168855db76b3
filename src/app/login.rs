//! The operator at the console: the login, the lock, and the PIN check
//! that logins and confirmations share.
//!
//! A site without registered operators has no logins ([`Access::Open`]):
//! actions carry the configured console user as a guard, as before
//! operators existed. Once operators are registered a console starts
//! locked, and nothing but a login is taken until someone logs in.
//!
//! Locking keeps the operator's session: the same operator unlocks it with
//! their PIN, while another operator logging in at the lock screen logs the
//! previous one out first. Login and logout reach the duty log as actions.

use jiff::Timestamp;

use super::App;
use crate::domain::alarm::ActionKind;
use crate::domain::operator::{
    Account, IdleLock, LockoutPolicy, Permission, Registered, Role, allows,
};
use crate::store::{LoginOutcome, Store};

/// Whether this console has logins, and who is logged in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Access {
    /// No operators are registered.
    #[default]
    Open,
    /// Operators are registered; `current` is who logged in last, if
    /// anyone, and `locked` hides the console from everyone until a login.
    Operators {
        current: Option<Current>,
        locked: bool,
    },
}

/// The operator logged in at this console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Current {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub since: Timestamp,
}

/// The `[operators]` settings a console applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginSettings {
    pub lockout: LockoutPolicy,
    pub idle: IdleLock,
}

/// The reason a PIN was not accepted. No variant contains the PIN.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("no operator has the id {0}")]
    Unknown(String),
    #[error("wrong PIN; {remaining} tries left")]
    Wrong { remaining: u32 },
    #[error("locked out until {until}")]
    LockedOut { until: Timestamp },
    #[error("operator {0} is disabled")]
    Disabled(String),
    /// The role may not use this console, as a guard at a review console.
    #[error("role {role} may not {permission}")]
    NotPermitted { role: Role, permission: Permission },
    #[error("the operators could not be read: {0}")]
    Store(String),
}

impl LoginError {
    /// Stable code for the message catalog.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unknown(_) => "unknown",
            Self::Wrong { .. } => "wrong",
            Self::LockedOut { .. } => "locked_out",
            Self::Disabled(_) => "disabled",
            Self::NotPermitted { .. } => "not_permitted",
            Self::Store(_) => "store",
        }
    }
}

impl Access {
    /// Returns the operator logged in and not locked out by the lock.
    pub fn active(&self) -> Option<&Current> {
        match self {
            Self::Open => None,
            Self::Operators { current, locked } => current.as_ref().filter(|_| !locked),
        }
    }

    /// Returns the operator as this console's own check treats them.
    pub fn registered(&self) -> Option<Registered> {
        match self {
            Self::Open => Some(Registered::NoOperators),
            Self::Operators { .. } => self.active().map(|current| Registered::Found {
                role: current.role,
                disabled: false,
            }),
        }
    }
}

/// Checks a PIN against the operators table and counts the result, as a
/// login does. Other flows that ask for a PIN before one action, such as a
/// handover, call this with the operator's id.
pub fn confirm_pin(
    store: &mut Store,
    id: &str,
    pin: &str,
    policy: &LockoutPolicy,
    now: Timestamp,
) -> Result<Account, LoginError> {
    let outcome = store
        .check_pin(id, pin, policy, now)
        .map_err(|error| LoginError::Store(error.to_string()))?;
    match outcome {
        LoginOutcome::Accepted(account) => Ok(account),
        LoginOutcome::Wrong { remaining } => Err(LoginError::Wrong { remaining }),
        LoginOutcome::LockedOut { until } => Err(LoginError::LockedOut { until }),
        LoginOutcome::Unknown => Err(LoginError::Unknown(id.to_owned())),
        LoginOutcome::Disabled => Err(LoginError::Disabled(id.to_owned())),
    }
}

impl App {
    /// True while the console shows the login or lock screen.
    pub fn needs_login(&self) -> bool {
        matches!(self.access, Access::Operators { .. }) && self.access.active().is_none()
    }

    /// Checks `id`'s PIN against this console's database, counting a wrong one.
    pub fn confirm_pin(&self, id: &str, pin: &str, now: Timestamp) -> Result<Account, LoginError> {
        let mut store = Store::open(&self.site.database)
            .map_err(|error| LoginError::Store(error.to_string()))?;
        confirm_pin(&mut store, id, pin, &self.login.lockout, now)
    }

    /// Logs `id` in with `pin`. The same operator unlocks their session;
    /// another operator first logs the previous one out. A review console
    /// takes only operators who may review.
    pub fn log_in(&mut self, id: &str, pin: &str, now: Timestamp) -> Result<(), LoginError> {
        let account = self.confirm_pin(id, pin, now)?;
        if self.read_only && !allows(account.role, Permission::Review) {
            return Err(LoginError::NotPermitted {
                role: account.role,
                permission: Permission::Review,
            });
        }
        let Access::Operators { current, locked } = &mut self.access else {
            return Ok(());
        };
        if current
            .as_ref()
            .is_some_and(|current| current.id == account.id)
        {
            *locked = false;
            tracing::info!(operator = id, "console unlocked");
            return Ok(());
        }
        self.log_out(now);
        self.operator.name.clone_from(&account.id);
        self.operator.role = account.role.as_str().to_owned();
        self.access = Access::Operators {
            current: Some(Current {
                id: account.id.clone(),
                name: account.name,
                role: account.role,
                since: now,
            }),
            locked: false,
        };
        tracing::info!(operator = id, role = %account.role, "operator logged in");
        self.record_session(ActionKind::LogIn, now);
        Ok(())
    }

    /// Locks the console; the operator stays logged in behind the lock.
    pub fn lock(&mut self) {
        if let Access::Operators { locked, current } = &mut self.access
            && !*locked
        {
            *locked = true;
            tracing::info!(
                operator = current.as_ref().map_or("", |c| c.id.as_str()),
                "console locked"
            );
        }
    }

    /// Logs the current operator out, as when the console closes or another
    /// operator logs in at the lock screen.
    pub fn log_out(&mut self, now: Timestamp) {
        let Access::Operators { current, locked } = &mut self.access else {
            return;
        };
        if current.is_none() {
            return;
        }
        // The logout passes the console's check as the operator it logs out.
        *locked = false;
        self.record_session(ActionKind::LogOut, now);
        self.access = Access::Operators {
            current: None,
            locked: false,
        };
    }

    /// Returns whether the console should lock itself for lack of input.
    pub fn idle_lock_due(&self, last_input: Timestamp, now: Timestamp) -> bool {
        self.access.active().is_some() && self.login.idle.due(last_input, now)
    }

    /// Hands a login or logout to the recorder. A review console records
    /// nothing, and a failure costs only the log line, not the login.
    fn record_session(&mut self, kind: ActionKind, now: Timestamp) {
        if self.read_only {
            return;
        }
        let name = kind.as_str();
        if let Err(error) = self.act(None, kind, "", now) {
            tracing::error!(%error, action = name, operator = %self.operator.name, "recording the session change failed");
        }
    }
}
