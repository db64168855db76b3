//! Operators: who may log in at a console, with which role, and what each
//! role may do.
//!
//! - [`role`]: guard, maintenance, supervisor.
//! - [`permission`]: what an action needs, and which role has it.
//! - [`pin`]: the PIN rule and its salted Argon2id hash.
//! - [`lockout`]: wrong-PIN lockout and the idle lock, on a clock passed in.
//!
//! The operators themselves live in the `operators` table, outside the
//! event log; changes to them reach the duty log as
//! [`ActionKind::OperatorChanged`](crate::domain::alarm::ActionKind).

pub mod lockout;
pub mod permission;
pub mod pin;
pub mod role;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use lockout::{Attempts, IdleLock, LockoutPolicy};
pub use permission::{Permission, Registered, allows, authorize, required};
pub use role::Role;

/// Maximum length of an operator id, in bytes.
pub const MAX_ID_BYTES: usize = 32;

/// Maximum length of an operator name, in characters.
pub const MAX_NAME_CHARS: usize = 40;

/// Prefix of the actor recorded for changes made on the command line: the
/// OS user that ran it, as in `os:root`.
pub const OS_ACTOR_PREFIX: &str = "os:";

/// An operator as stored, with the PIN only as its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Argon2id PHC string.
    pub pin_hash: String,
    pub disabled: bool,
    pub attempts: Attempts,
    pub created: Timestamp,
    pub changed: Timestamp,
}

/// Leaves the PIN hash out, so that a logged account never carries it.
impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// A change to an operator, as recorded in the duty log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OperatorChange {
    Added { name: String, role: Role },
    Disabled,
    Enabled,
    PinSet,
}

impl OperatorChange {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Added { .. } => "added",
            Self::Disabled => "disabled",
            Self::Enabled => "enabled",
            Self::PinSet => "pin_set",
        }
    }
}

/// Returns whether `id` can be an operator id: 1 to [`MAX_ID_BYTES`] ASCII
/// letters, digits, `-` and `_`, so it is safe in topics, logs and file names.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Returns whether `name` can be an operator's display name: not blank, at
/// most [`MAX_NAME_CHARS`] characters, no control characters.
pub fn valid_name(name: &str) -> bool {
    let trimmed = name.trim();
    !trimmed.is_empty()
        && trimmed.chars().count() <= MAX_NAME_CHARS
        && !trimmed.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain() {
        assert!(valid_id("g1"));
        assert!(valid_id("night_guard-2"));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id("a/b"));
        assert!(!valid_id("值班员"));
        assert!(!valid_id(&"x".repeat(MAX_ID_BYTES + 1)));
    }

    #[test]
    fn names_are_printable() {
        assert!(valid_name("王小明"));
        assert!(!valid_name("  "));
        assert!(!valid_name("a\u{1b}[31m"));
        assert!(!valid_name(&"名".repeat(MAX_NAME_CHARS + 1)));
    }
}
