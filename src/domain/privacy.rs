//! Residents' personal data on screen and in reports: masking, and which
//! operator roles may reveal which kind of data.
//!
//! Everything is masked by default, for every role, on screens and in
//! reports. Revealing a value is an explicit request that returns the clear
//! value together with a [`RevealRecord`] for the log. The record names who
//! revealed what kind of data about whom, and never contains the value.
//!
//! Who may reveal what ([`may_reveal`]):
//!
//! | kind | guard | maintenance | supervisor |
//! |---|---|---|---|
//! | eldercare resident's name | yes | no | yes |
//! | eldercare resident's phone | yes | no | yes |
//! | eldercare resident's room | yes | no | yes |
//! | emergency contact's name | yes | no | yes |
//! | emergency contact's phone | yes | no | yes |
//! | repair reporter's name | no | yes | yes |
//! | repair reporter's phone | no | yes | yes |
//! | repair location's room | yes | yes | yes |
//!
//! The reasons: the guard runs the missed check-in ladder, so the guard must
//! be able to call the resident and the emergency contact and to send
//! someone to the door. Maintenance staff have no part in eldercare. They
//! arrange repair visits with the resident who reported the fault, which
//! the guard does not. Everyone who handles a ticket needs the room where
//! the repair is. The supervisor reviews all of it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use super::operator::Role;

/// A kind of personal data, named after where it appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    ResidentName,
    ResidentPhone,
    ResidentRoom,
    ContactName,
    ContactPhone,
    ReporterName,
    ReporterPhone,
    RepairRoom,
}

impl DataKind {
    pub const ALL: [DataKind; 8] = [
        Self::ResidentName,
        Self::ResidentPhone,
        Self::ResidentRoom,
        Self::ContactName,
        Self::ContactPhone,
        Self::ReporterName,
        Self::ReporterPhone,
        Self::RepairRoom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResidentName => "resident_name",
            Self::ResidentPhone => "resident_phone",
            Self::ResidentRoom => "resident_room",
            Self::ContactName => "contact_name",
            Self::ContactPhone => "contact_phone",
            Self::ReporterName => "reporter_name",
            Self::ReporterPhone => "reporter_phone",
            Self::RepairRoom => "repair_room",
        }
    }

    /// Masks a value of this kind with the matching `mask_*` function.
    pub fn mask(self, value: &str) -> String {
        match self {
            Self::ResidentName | Self::ContactName | Self::ReporterName => mask_name(value),
            Self::ResidentPhone | Self::ContactPhone | Self::ReporterPhone => mask_phone(value),
            Self::ResidentRoom | Self::RepairRoom => mask_room(value),
        }
    }
}

impl std::fmt::Display for DataKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returns whether `role` may reveal data of `kind`. The table in the module
/// documentation lists the same results with the reasons.
pub fn may_reveal(role: Role, kind: DataKind) -> bool {
    match kind {
        DataKind::ResidentName
        | DataKind::ResidentPhone
        | DataKind::ResidentRoom
        | DataKind::ContactName
        | DataKind::ContactPhone => matches!(role, Role::Guard | Role::Supervisor),
        DataKind::ReporterName | DataKind::ReporterPhone => {
            matches!(role, Role::Maintenance | Role::Supervisor)
        }
        DataKind::RepairRoom => true,
    }
}

/// A reveal, to be appended to the log. It does not contain the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealRecord {
    pub at: Timestamp,
    pub operator: String,
    pub role: Role,
    pub kind: DataKind,
    /// Whose data: a resident id, or a ticket id for a reporter.
    pub subject: String,
}

/// Reason a reveal is rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("role {role} may not reveal {kind} of {subject}; ask a supervisor")]
pub struct RevealRefused {
    pub role: Role,
    pub kind: DataKind,
    pub subject: String,
}

/// Reveals `value` to an operator: returns the clear value and the record
/// to log, or the refusal when the role may not see this kind of data.
pub fn reveal(
    operator: &str,
    role: Role,
    kind: DataKind,
    subject: &str,
    value: &str,
    at: Timestamp,
) -> Result<(String, RevealRecord), RevealRefused> {
    if !may_reveal(role, kind) {
        return Err(RevealRefused {
            role,
            kind,
            subject: subject.to_owned(),
        });
    }
    let record = RevealRecord {
        at,
        operator: operator.to_owned(),
        role,
        kind,
        subject: subject.to_owned(),
    };
    Ok((value.to_owned(), record))
}

/// Masks a personal name: 张* for two characters, 张*明 for three, the first
/// and last kept for longer ones (欧**明). Each word of a Latin name, and
/// each part of a name joined with `·`, is masked the same way
/// (`J**n S***h`). A single character becomes `*`.
pub fn mask_name(name: &str) -> String {
    let mut masked = String::with_capacity(name.len());
    let mut word = String::new();
    for c in name.trim().chars() {
        if c.is_whitespace() || c == '·' {
            masked.push_str(&mask_word(&word));
            word.clear();
            masked.push(c);
        } else {
            word.push(c);
        }
    }
    masked.push_str(&mask_word(&word));
    masked
}

fn mask_word(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// Masks a phone number by its digits, dropping spaces and dashes. Numbers
/// of 11 digits or more keep the first 3 and the last 4 (`138****5678`).
/// Numbers of 7 to 10 digits keep the first 2 and the last 2 (`62****78`).
/// Shorter numbers are masked whole. A leading `+` stays, and so does the
/// `+86` country code before a mainland number.
pub fn mask_phone(phone: &str) -> String {
    let trimmed = phone.trim();
    let plus = trimmed.starts_with('+');
    let mut digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let mut prefix = String::new();
    if plus {
        prefix.push('+');
        if digits.len() == 13 && digits.starts_with("86") {
            prefix.push_str("86 ");
            digits.drain(..2);
        }
    }

    let n = digits.len();
    let (head, tail) = match n {
        11.. => (3, 4),
        7..=10 => (2, 2),
        _ => (0, 0),
    };
    format!(
        "{prefix}{}{}{}",
        &digits[..head],
        "*".repeat(n - head - tail),
        &digits[n - tail..]
    )
}

/// Masks a room number, keeping the first half of its characters (rounded
/// down) so that the floor of `1201` stays visible (`12**`) while the flat
/// does not.
pub fn mask_room(room: &str) -> String {
    let chars: Vec<char> = room.trim().chars().collect();
    let kept = chars.len() / 2;
    let mut masked: String = chars[..kept].iter().collect();
    masked.push_str(&"*".repeat(chars.len() - kept));
    masked
}
