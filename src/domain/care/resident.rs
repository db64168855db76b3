//! The residents registry: who is looked after, where they live, whom to
//! call, and when they check in.
//!
//! The registry is a TOML list (see [`parse_toml`]) or a CSV file (see
//! [`super::csv::parse_csv`]):
//!
//! ```toml
//! [[residents]]
//! id = "r-0101"
//! name = "测试员甲"
//! building = "1栋"
//! unit = "2单元"
//! room = "301"
//! phone = "138 0000 0001"
//! lives_alone = true
//! check_in = { start = "22:00", end = "02:00" }
//! passive_sources = ["door"]
//! contacts = [{ name = "测试员乙", relation = "女儿", phone = "138 0000 0002" }]
//! ```

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::window::CheckInWindow;

/// An elderly resident who checks in daily.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resident {
    /// The `<person>` of `care/<person>/evt`.
    pub id: String,
    pub name: String,
    pub building: String,
    #[serde(default)]
    pub unit: String,
    pub room: String,
    /// The resident's own phone, called at the first stage of the ladder.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub lives_alone: bool,
    /// Called in order at the second stage of the ladder.
    #[serde(default)]
    pub contacts: Vec<EmergencyContact>,
    /// The resident's own window; the site's when absent.
    #[serde(default)]
    pub check_in: Option<CheckInWindow>,
    /// Activity sources (such as `door` or a device id) whose activity
    /// counts as a check-in. A resident with none is not watched for
    /// inactivity, because a daily check-in alone leaves gaps of more
    /// than a day.
    #[serde(default)]
    pub passive_sources: Vec<String>,
}

/// A person to call when the resident does not answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyContact {
    pub name: String,
    /// Such as 女儿 or 邻居.
    #[serde(default)]
    pub relation: String,
    pub phone: String,
}

/// A problem in a residents file, named by its key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct Problem {
    /// Such as `residents[2].contacts[0].phone`.
    pub key: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResidentsFile {
    #[serde(default)]
    residents: Vec<Resident>,
}

/// Parses and validates a TOML residents file (a `[[residents]]` list).
/// Phone numbers come back in the compact form of [`parse_phone`].
pub fn parse_toml(text: &str) -> Result<Vec<Resident>, Vec<Problem>> {
    let file: ResidentsFile = toml::from_str(text).map_err(|error| {
        vec![Problem {
            key: "residents".into(),
            message: error.message().to_owned(),
        }]
    })?;
    let mut residents = file.residents;
    let problems = validate(&mut residents);
    if problems.is_empty() {
        Ok(residents)
    } else {
        Err(problems)
    }
}

/// Checks ids, names and phone numbers, and rewrites valid phone numbers
/// in their compact form. Returns every problem found.
pub fn validate(residents: &mut [Resident]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for (i, resident) in residents.iter_mut().enumerate() {
        let key = |field: &str| format!("residents[{i}].{field}");
        let mut problem = |key: String, message: String| problems.push(Problem { key, message });

        if resident.id.trim().is_empty() {
            problem(key("id"), "is empty; give each resident an id".into());
        } else if !ids.insert(resident.id.clone()) {
            problem(
                key("id"),
                format!(
                    "{:?} is used by an earlier resident; ids must be unique",
                    resident.id
                ),
            );
        }
        if resident.name.trim().is_empty() {
            problem(key("name"), "is empty; give the resident's name".into());
        }
        if let Some(phone) = &mut resident.phone {
            match parse_phone(phone) {
                Ok(compact) => *phone = compact,
                Err(message) => problem(key("phone"), message),
            }
        }
        for (c, contact) in resident.contacts.iter_mut().enumerate() {
            if contact.name.trim().is_empty() {
                problem(
                    key(&format!("contacts[{c}].name")),
                    "is empty; give the contact's name".into(),
                );
            }
            match parse_phone(&contact.phone) {
                Ok(compact) => contact.phone = compact,
                Err(message) => problem(key(&format!("contacts[{c}].phone")), message),
            }
        }
    }
    problems
}

/// Checks a phone number and returns it without spaces, dashes or
/// brackets. Accepted: an 11-digit mainland mobile (`138 0000 0001`), a
/// landline with its area code (`010-6000 0000`, 10 to 12 digits starting
/// with 0), a local number of 7 or 8 digits, or an international number
/// (`+` and 8 to 15 digits). The error names the value and the fix.
pub fn parse_phone(text: &str) -> Result<String, String> {
    let compact: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let (plus, digits) = match compact.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, compact.as_str()),
    };
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let n = digits.len();
    let valid = all_digits
        && if plus {
            (8..=15).contains(&n)
        } else if digits.starts_with('1') {
            n == 11 && matches!(digits.as_bytes()[1], b'3'..=b'9')
        } else if digits.starts_with('0') {
            (10..=12).contains(&n)
        } else {
            (7..=8).contains(&n)
        };
    if valid {
        Ok(compact)
    } else {
        Err(format!(
            "{text:?} is not a phone number; write an 11-digit mobile such as 138 0000 0001, \
             a landline with its area code such as 010-6000 0000, or +country code and number"
        ))
    }
}
