//! Dialogs for alarm actions that need a choice or a text: close, shelve,
//! remark, and taking a device out of service. Each has one text field,
//! which has the keyboard focus while the dialog is open.

use jiff::{SignedDuration, Timestamp};

use crate::domain::alarm::{ActionKind, Alarm, Disposition};

/// Maximum length of a field's text, in characters.
pub const TEXT_MAX_CHARS: usize = 200;

/// A one-line text field with the cursor at its end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextField {
    pub text: String,
}

impl TextField {
    /// Appends a typed character; control characters and text beyond
    /// [`TEXT_MAX_CHARS`] are dropped.
    pub fn insert(&mut self, c: char) {
        if !c.is_control() && self.text.chars().count() < TEXT_MAX_CHARS {
            self.text.push(c);
        }
    }

    /// Appends pasted text: line breaks and tabs become spaces, other
    /// control characters are dropped.
    pub fn paste(&mut self, text: &str) {
        for c in text.chars() {
            match c {
                '\n' | '\r' | '\t' => self.insert(' '),
                c => self.insert(c),
            }
        }
    }

    /// Deletes the last character (a whole CJK character, not a byte).
    pub fn backspace(&mut self) {
        self.text.pop();
    }

    pub fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }
}

/// Appends pasted or typed text to a filter string of at most 64 characters.
pub fn push_filter(filter: &mut String, text: &str) {
    for c in text.chars().filter(|c| !c.is_control()) {
        if filter.chars().count() >= 64 {
            break;
        }
        filter.push(c);
    }
}

/// How long a shelving lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShelveFor {
    Minutes(i64),
    /// Once, until the condition clears.
    UntilClear,
}

impl ShelveFor {
    /// The choices of the shelve dialog, in order.
    pub const CHOICES: [ShelveFor; 4] = [
        Self::Minutes(15),
        Self::Minutes(60),
        Self::Minutes(240),
        Self::UntilClear,
    ];

    /// Catalog key of the choice's label.
    pub fn key(self) -> &'static str {
        match self {
            Self::Minutes(15) => "dialog.for_15m",
            Self::Minutes(60) => "dialog.for_1h",
            Self::Minutes(_) => "dialog.for_4h",
            Self::UntilClear => "dialog.until_clear",
        }
    }

    /// Returns the end of a shelving chosen at `now`; `None` shelves until
    /// the condition clears.
    pub fn until(self, now: Timestamp) -> Option<Timestamp> {
        match self {
            Self::Minutes(minutes) => Some(now + SignedDuration::from_mins(minutes)),
            Self::UntilClear => None,
        }
    }
}

/// The action a dialog prepares, with its choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialogKind {
    /// Index into [`Disposition::CHOSEN`].
    Close {
        choice: usize,
    },
    /// Index into [`ShelveFor::CHOICES`].
    Shelve {
        choice: usize,
    },
    Remark,
    /// Take `device` out of service (`on`) or back into it.
    Service {
        device: String,
        name: String,
        on: bool,
    },
}

/// An open dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    /// The alarm acted on.
    pub alarm: u64,
    pub kind: DialogKind,
    pub field: TextField,
    /// Message on why the last submit failed, shown in the dialog.
    pub error: Option<String>,
}

impl Dialog {
    pub fn new(alarm: u64, kind: DialogKind) -> Self {
        Self {
            alarm,
            kind,
            field: TextField::default(),
            error: None,
        }
    }

    /// Moves the choice by `delta`, staying within the choices.
    pub fn step_choice(&mut self, delta: isize) {
        let (choice, count) = match &mut self.kind {
            DialogKind::Close { choice } => (choice, Disposition::CHOSEN.len()),
            DialogKind::Shelve { choice } => (choice, ShelveFor::CHOICES.len()),
            DialogKind::Remark | DialogKind::Service { .. } => return,
        };
        *choice = choice.saturating_add_signed(delta).min(count - 1);
        self.error = None;
    }

    /// Returns the action for the current choice and field.
    pub fn action(&self, now: Timestamp) -> ActionKind {
        match &self.kind {
            DialogKind::Close { choice } => ActionKind::Close {
                disposition: Disposition::CHOSEN[*choice],
            },
            DialogKind::Shelve { choice } => ActionKind::Shelve {
                until: ShelveFor::CHOICES[*choice].until(now),
            },
            DialogKind::Remark => ActionKind::Remark,
            DialogKind::Service { device, on, .. } => ActionKind::OutOfService {
                device: device.clone(),
                on: *on,
            },
        }
    }

    /// Returns the catalog key of the reason a remark is required now, or
    /// `None` when the dialog may be submitted without one. It mirrors the
    /// book's check, so the dialog shows the requirement before a submit.
    pub fn remark_needed(&self, alarm: Option<&Alarm>) -> Option<&'static str> {
        match &self.kind {
            DialogKind::Close { choice } => {
                if Disposition::CHOSEN[*choice] == Disposition::FalseAlarm {
                    Some("dialog.remark_needed_false")
                } else if alarm.is_some_and(|alarm| alarm.active && !alarm.momentary) {
                    Some("dialog.remark_needed_active")
                } else {
                    None
                }
            }
            DialogKind::Shelve { .. } => Some("dialog.remark_needed_shelve"),
            DialogKind::Remark => Some("dialog.remark_needed"),
            DialogKind::Service { on: true, .. } => Some("dialog.remark_needed_service"),
            DialogKind::Service { on: false, .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backspace_removes_a_whole_character() {
        let mut field = TextField::default();
        field.paste("门锁损坏");
        field.backspace();
        assert_eq!(field.text, "门锁损");
    }

    #[test]
    fn paste_flattens_lines_and_drops_controls() {
        let mut field = TextField::default();
        field.paste("a\nb\u{1b}[31mc\u{7}");
        assert_eq!(field.text, "a b[31mc");
    }

    #[test]
    fn field_stops_at_max_chars() {
        let mut field = TextField::default();
        field.paste(&"字".repeat(TEXT_MAX_CHARS + 10));
        assert_eq!(field.text.chars().count(), TEXT_MAX_CHARS);
    }

    #[test]
    fn choice_stays_in_range() {
        let mut dialog = Dialog::new(1, DialogKind::Close { choice: 0 });
        dialog.step_choice(-1);
        assert_eq!(dialog.kind, DialogKind::Close { choice: 0 });
        dialog.step_choice(100);
        assert_eq!(
            dialog.kind,
            DialogKind::Close {
                choice: Disposition::CHOSEN.len() - 1
            }
        );
    }
}
