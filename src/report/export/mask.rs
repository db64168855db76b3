//! Residents' personal data in reports: masked unless the reader asked to
//! reveal it.
//!
//! The log holds personal data in two places a report prints: free text
//! (remarks and notes, where a guard may write a phone number) and the
//! names of eldercare sources (`care:<person>` or `care/<person>`), which
//! are residents' names.

use crate::domain::privacy::{mask_name, mask_phone};

/// Digits a run needs before it is taken for a phone number; shorter runs
/// are times, counts and room numbers.
const PHONE_DIGITS: usize = 7;

/// Whether personal data is printed in clear.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Privacy {
    pub reveal: bool,
}

impl Privacy {
    /// Returns `text` with phone numbers masked, unless revealing.
    // NOTE: names and rooms inside free text are not recognised; only
    // phone numbers are masked there.
    pub fn text(&self, text: &str) -> String {
        if self.reveal {
            text.to_owned()
        } else {
            mask_phones_in(text)
        }
    }

    /// Returns the name shown for an alarm source: a resident's name is
    /// masked unless revealing.
    pub fn source_name(&self, source: &str, name: &str) -> String {
        // The rules name a resident's alarm by the registry id, which is
        // not personal and which the guard needs to find the resident.
        if self.reveal || resident_id(source).is_none_or(|id| id == name) {
            name.to_owned()
        } else {
            mask_name(name)
        }
    }
}

/// Returns the resident id of an eldercare source, or `None` for other sources.
fn resident_id(source: &str) -> Option<&str> {
    source
        .strip_prefix("care:")
        .or_else(|| source.strip_prefix("care/"))
}

/// Masks each run of digits (with the spaces and dashes people write
/// inside numbers, and a leading `+`) that holds at least [`PHONE_DIGITS`] digits.
fn mask_phones_in(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while index < chars.len() {
        let starts_number = chars[index].is_ascii_digit()
            || (chars[index] == '+' && chars.get(index + 1).is_some_and(char::is_ascii_digit));
        if !starts_number {
            out.push(chars[index]);
            index += 1;
            continue;
        }

        let mut end = index + 1;
        while end < chars.len() {
            let c = chars[end];
            let joins =
                (c == ' ' || c == '-') && chars.get(end + 1).is_some_and(char::is_ascii_digit);
            if c.is_ascii_digit() || joins {
                end += 1;
            } else {
                break;
            }
        }
        let run: String = chars[index..end].iter().collect();
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if digits >= PHONE_DIGITS {
            out.push_str(&mask_phone(&run));
        } else {
            out.push_str(&run);
        }
        index = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_in_text_are_masked() {
        let privacy = Privacy::default();
        assert_eq!(
            privacy.text("回电 138 0000 0001，房间 1201"),
            "回电 138****0001，房间 1201"
        );
        assert_eq!(
            privacy.text("call +86 138-0000-0001"),
            "call +86 138****0001"
        );
        assert_eq!(privacy.text("at 08:00, 3 visitors"), "at 08:00, 3 visitors");
    }

    #[test]
    fn reveal_keeps_text() {
        let privacy = Privacy { reveal: true };
        assert_eq!(privacy.text("138 0000 0001"), "138 0000 0001");
        assert_eq!(privacy.source_name("care:r1", "测试员甲"), "测试员甲");
    }

    #[test]
    fn resident_names_are_masked() {
        let privacy = Privacy::default();
        assert_eq!(privacy.source_name("care:r1", "测试员甲"), "测**甲");
        assert_eq!(
            privacy.source_name("care:r-0001", "r-0001"),
            "r-0001",
            "a registry id is not masked"
        );
        assert_eq!(privacy.source_name("door-1", "东门"), "东门");
    }
}
