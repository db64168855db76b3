//! PINs: the rule a PIN must meet, and its slow salted hash.
//!
//! A PIN is stored only as an Argon2id PHC string (`$argon2id$v=19$…`)
//! with a random salt per hash. Nothing here prints, logs or returns a PIN,
//! and the errors state what is wrong without repeating it.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Minimum number of digits in a PIN.
pub const MIN_DIGITS: usize = 4;

/// Maximum number of digits in a PIN.
pub const MAX_DIGITS: usize = 12;

/// A PIN that meets the rule: 4 to 12 ASCII digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

/// Never shows the digits.
impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// The reason a PIN does not meet the rule. No variant contains the PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("the PIN has {length} characters; use {MIN_DIGITS} to {MAX_DIGITS} digits")]
    Length { length: usize },
    #[error("the PIN may contain only the digits 0-9")]
    NotDigits,
    #[error("the two PINs typed differ; type the same PIN twice")]
    Mismatch,
}

impl PinError {
    /// Stable code for the message catalog.
    pub fn code(self) -> &'static str {
        match self {
            Self::Length { .. } => "pin_length",
            Self::NotDigits => "pin_digits",
            Self::Mismatch => "pin_mismatch",
        }
    }
}

/// The hash could not be computed (no randomness for the salt, or bad
/// parameters); the message names no PIN.
#[derive(Debug, thiserror::Error)]
#[error("hashing the PIN failed: {0}")]
pub struct HashError(String);

impl Pin {
    /// Checks `text` against the rule. Surrounding whitespace, such as the
    /// newline of a line read from stdin, is not part of the PIN.
    pub fn parse(text: &str) -> Result<Self, PinError> {
        let trimmed = text.trim();
        if !trimmed.chars().all(|c| c.is_ascii_digit()) {
            return Err(PinError::NotDigits);
        }
        let length = trimmed.chars().count();
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&length) {
            return Err(PinError::Length { length });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// Hashes the PIN with Argon2id and a fresh random salt.
    pub fn hash(&self) -> Result<String, HashError> {
        Argon2::default()
            .hash_password(self.0.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| HashError(error.to_string()))
    }
}

/// Returns whether `attempt` is the PIN behind `phc`. A malformed stored
/// hash matches nothing.
pub fn verify(attempt: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        tracing::error!("a stored PIN hash is not a PHC string; no PIN matches it");
        return false;
    };
    Argon2::default()
        .verify_password(attempt.trim().as_bytes(), &hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_accepts_four_to_twelve_digits() {
        assert!(Pin::parse("1234").is_ok());
        assert!(Pin::parse("123456789012").is_ok());
        assert!(Pin::parse(" 2468\n").is_ok());
        assert_eq!(Pin::parse("123"), Err(PinError::Length { length: 3 }));
        assert_eq!(
            Pin::parse("1234567890123"),
            Err(PinError::Length { length: 13 })
        );
        assert_eq!(Pin::parse(""), Err(PinError::Length { length: 0 }));
        assert_eq!(Pin::parse("12a4"), Err(PinError::NotDigits));
        assert_eq!(Pin::parse("١٢٣٤"), Err(PinError::NotDigits));
    }

    #[test]
    fn errors_never_echo_pin() {
        for text in ["98765432109876", "98x7"] {
            let error = Pin::parse(text).unwrap_err();
            assert!(!error.to_string().contains(text.trim()), "{error}");
            assert!(!format!("{error:?}").contains(text.trim()));
        }
        let pin = Pin::parse("5791").unwrap();
        assert!(!format!("{pin:?}").contains("5791"));
    }

    #[test]
    fn hash_verifies_only_its_pin() {
        let pin = Pin::parse("5791").unwrap();
        let hash = pin.hash().unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("5791"));
        assert!(verify("5791", &hash));
        assert!(!verify("5792", &hash));
        assert!(!verify("5791", "not a hash"));
        // A fresh salt each time.
        assert_ne!(hash, pin.hash().unwrap());
    }
}
