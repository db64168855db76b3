//! The note dialog: a duty-log entry of a chosen type (note, patrol,
//! visitor, incident, call, handover remark), or a correction of an earlier
//! entry. Entries are never edited: a correction is a new entry that refers
//! to the `seq` of the one it corrects.
//!
//! The text field keeps a cursor that moves by whole characters, so a
//! Chinese character is typed, deleted and stepped over as one, and the
//! screen measures it as two cells.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use unicode_width::UnicodeWidthChar;

use super::keymap::{self, Action, Scope};
use super::state::UiState;
use crate::app::{ActError, App};
use crate::domain::alarm::{ActionKind, EntryKind};
use crate::i18n::Lang;

/// Longest entry, in characters.
pub const NOTE_MAX_CHARS: usize = 500;

/// A text field with a cursor between characters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoteField {
    pub text: String,
    /// Characters before the cursor.
    pub cursor: usize,
}

impl NoteField {
    fn byte_index(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(index, _)| index)
    }

    fn len(&self) -> usize {
        self.text.chars().count()
    }

    /// Inserts a typed character at the cursor; control characters and
    /// text beyond [`NOTE_MAX_CHARS`] are dropped.
    pub fn insert(&mut self, c: char) {
        if c.is_control() || self.len() >= NOTE_MAX_CHARS {
            return;
        }
        let at = self.byte_index(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    /// Inserts pasted text at the cursor, line breaks and tabs as spaces.
    pub fn paste(&mut self, text: &str) {
        for c in text.chars() {
            match c {
                '\n' | '\r' | '\t' => self.insert(' '),
                c => self.insert(c),
            }
        }
    }

    /// Deletes the character before the cursor.
    pub fn backspace(&mut self) {
        if self.cursor == 0 {
            return;
        }
        let at = self.byte_index(self.cursor - 1);
        self.text.remove(at);
        self.cursor -= 1;
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.len());
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.len();
    }

    pub fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// Breaks the text into rows of at most `width` cells and returns them
    /// with the cursor's row and cell column. A cursor at the end of a full
    /// row goes to the start of the next one.
    pub fn layout(&self, width: usize) -> (Vec<Vec<char>>, (usize, usize)) {
        let width = width.max(2);
        let mut rows: Vec<Vec<char>> = vec![Vec::new()];
        let mut used = 0;
        let mut cursor = None;
        for (index, c) in self.text.chars().enumerate() {
            let cells = c.width().unwrap_or(0);
            if used + cells > width {
                rows.push(Vec::new());
                used = 0;
            }
            if index == self.cursor {
                cursor = Some((rows.len() - 1, used));
            }
            rows.last_mut().expect("one row at least").push(c);
            used += cells;
        }
        let cursor = cursor.unwrap_or_else(|| {
            if used >= width {
                rows.push(Vec::new());
                (rows.len() - 1, 0)
            } else {
                (rows.len() - 1, used)
            }
        });
        (rows, cursor)
    }
}

/// The entry being corrected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corrected {
    pub seq: i64,
    pub entry: EntryKind,
    /// The corrected entry's text, shown above the field.
    pub text: String,
}

/// An open note dialog.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoteDialog {
    /// Index into [`EntryKind::ALL`].
    pub choice: usize,
    pub corrects: Option<Corrected>,
    pub field: NoteField,
    pub error: Option<String>,
}

impl NoteDialog {
    /// A correction of `corrected`, of the same entry type.
    pub fn correction(corrected: Corrected) -> Self {
        let choice = EntryKind::ALL
            .iter()
            .position(|kind| *kind == corrected.entry)
            .unwrap_or(0);
        Self {
            choice,
            corrects: Some(corrected),
            ..Self::default()
        }
    }

    pub fn entry(&self) -> EntryKind {
        EntryKind::ALL[self.choice.min(EntryKind::ALL.len() - 1)]
    }

    /// Returns the action the dialog takes.
    pub fn action(&self) -> ActionKind {
        ActionKind::Note {
            entry: self.entry(),
            refers_to: self.corrects.as_ref().map(|corrected| corrected.seq),
        }
    }

    fn step_choice(&mut self, delta: isize) {
        let last = EntryKind::ALL.len() - 1;
        self.choice = self.choice.saturating_add_signed(delta).min(last);
    }
}

/// Opens an empty note dialog, unless the console takes no notes.
pub fn open(app: &App, ui: &mut UiState, now: Timestamp) {
    if app.read_only {
        ui.complain(ui.lang.t("refusal.read_only").to_owned(), now);
        return;
    }
    ui.note = Some(NoteDialog::default());
}

/// Applies a key press while the note dialog is open.
pub fn handle_key(app: &mut App, ui: &mut UiState, event: &KeyEvent, now: Timestamp) {
    let Some(dialog) = ui.note.as_mut() else {
        return;
    };
    match keymap::resolve(event, &[Scope::Note]) {
        Some(Action::ForceQuit) => ui.quit = true,
        Some(Action::Cancel) => ui.note = None,
        Some(Action::Submit) => submit(app, ui, now),
        Some(Action::Up) => dialog.step_choice(-1),
        Some(Action::Down) => dialog.step_choice(1),
        Some(Action::CursorLeft) => dialog.field.left(),
        Some(Action::CursorRight) => dialog.field.right(),
        Some(Action::Top) => dialog.field.home(),
        Some(Action::Bottom) => dialog.field.end(),
        Some(Action::DeleteChar) => {
            dialog.field.backspace();
            dialog.error = None;
        }
        Some(_) => {}
        None => {
            if let KeyCode::Char(c) = event.code
                && !event
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
            {
                dialog.field.insert(c);
                dialog.error = None;
            }
        }
    }
}

/// Saves the entry through [`App::act`], or shows in the dialog why not.
pub fn submit(app: &mut App, ui: &mut UiState, now: Timestamp) {
    let lang = ui.lang;
    let Some(dialog) = ui.note.as_mut() else {
        return;
    };
    if dialog.field.is_blank() {
        dialog.error = Some(lang.t("note.text_needed").to_owned());
        return;
    }
    let kind = dialog.action();
    let text = dialog.field.text.clone();
    let entry = lang.t(&format!("report.entry_{}", dialog.entry().as_str()));
    match app.act(None, kind, &text, now) {
        Ok(id) => {
            ui.remember_submitted(id, None);
            ui.note = None;
            ui.say(lang.tf("note.saved", &[("entry", &entry)]), now);
        }
        Err(error) => {
            let text = act_error_text(app, lang, &error);
            if let Some(dialog) = ui.note.as_mut() {
                dialog.error = Some(text);
            }
        }
    }
}

/// Formats why the app did not take a duty-log action.
pub fn act_error_text(app: &App, lang: Lang, error: &ActError) -> String {
    match error {
        ActError::Refused(refusal) => super::acting::refusal_text(app, lang, None, refusal),
        ActError::Attached => lang.t("refusal.attached").to_owned(),
        ActError::Unavailable(reason) => lang.tf("refusal.unavailable", &[("reason", reason)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_inserts_in_the_middle() {
        let mut field = NoteField::default();
        field.paste("巡更正常");
        field.left();
        field.left();
        field.insert('无');
        assert_eq!(field.text, "巡更无正常");
        field.backspace();
        assert_eq!(field.text, "巡更正常");
        assert_eq!(field.cursor, 2);
    }

    #[test]
    fn layout_counts_wide_characters_as_two_cells() {
        let mut field = NoteField::default();
        field.paste("ab来访cd");
        field.cursor = 3;
        let (rows, cursor) = field.layout(5);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], vec!['a', 'b', '来']);
        assert_eq!(cursor, (1, 0));
        field.end();
        assert_eq!(field.layout(5).1, (1, 4));
    }

    #[test]
    fn field_stops_at_max_chars() {
        let mut field = NoteField::default();
        field.paste(&"字".repeat(NOTE_MAX_CHARS + 3));
        assert_eq!(field.text.chars().count(), NOTE_MAX_CHARS);
    }
}
