//! The login and lock screen's input: the operator id and PIN fields, the
//! login itself through [`App::log_in`], and locking the console.
//!
//! While the screen is up only its own keys work: typing into the fields,
//! Tab, Enter, Backspace, Esc and Ctrl-C. Every other key is ignored, so a
//! locked console takes no action.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;

use super::keymap::{self, Action, Scope};
use super::state::UiState;
use super::widgets::Ctx;
use crate::app::{App, LoginError};
use crate::domain::operator::{MAX_ID_BYTES, pin::MAX_DIGITS};
use crate::i18n::Lang;

/// The field the typed characters go to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoginField {
    #[default]
    Id,
    Pin,
}

/// The text typed on the login screen, and the outcome of the last try.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LoginForm {
    pub id: String,
    /// Kept only until the login is tried, then cleared.
    pub pin: String,
    pub field: LoginField,
    /// The last refusal, already translated; never contains the PIN.
    pub error: Option<String>,
}

/// Shows the PIN's length only.
impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("id", &self.id)
            .field("pin_digits", &self.pin.len())
            .field("field", &self.field)
            .field("error", &self.error)
            .finish()
    }
}

/// Applies a key press on the login screen.
pub fn handle_key(app: &mut App, ui: &mut UiState, event: &KeyEvent, now: Timestamp) {
    match keymap::resolve(event, &[Scope::Login]) {
        Some(Action::ForceQuit) => ui.quit = true,
        Some(Action::Submit) => submit(app, ui, now),
        Some(Action::NextField) => {
            ui.login.field = match ui.login.field {
                LoginField::Id => LoginField::Pin,
                LoginField::Pin => LoginField::Id,
            };
        }
        Some(Action::DeleteChar) => {
            match ui.login.field {
                LoginField::Id => ui.login.id.pop(),
                LoginField::Pin => ui.login.pin.pop(),
            };
        }
        Some(Action::Cancel) => ui.login = LoginForm::default(),
        Some(_) => {}
        None => type_char(ui, event),
    }
}

fn type_char(ui: &mut UiState, event: &KeyEvent) {
    let KeyCode::Char(c) = event.code else {
        return;
    };
    if event
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return;
    }
    let form = &mut ui.login;
    match form.field {
        LoginField::Id => {
            if (c.is_ascii_alphanumeric() || c == '-' || c == '_') && form.id.len() < MAX_ID_BYTES {
                form.id.push(c);
            }
        }
        LoginField::Pin => {
            if c.is_ascii_digit() && form.pin.len() < MAX_DIGITS {
                form.pin.push(c);
            }
        }
    }
}

/// Enter: moves from the id to the PIN, or tries the login.
fn submit(app: &mut App, ui: &mut UiState, now: Timestamp) {
    if ui.login.field == LoginField::Id || ui.login.pin.is_empty() {
        if !ui.login.id.is_empty() {
            ui.login.field = LoginField::Pin;
        }
        return;
    }
    let id = ui.login.id.trim().to_owned();
    let pin = std::mem::take(&mut ui.login.pin);
    match app.log_in(&id, &pin, now) {
        Ok(()) => {
            ui.login = LoginForm::default();
            ui.last_input = Some(now);
            let name = app
                .access
                .active()
                .map_or_else(String::new, |current| current.name.clone());
            ui.say(
                ui.lang.tf("login.welcome", &[("name", &name), ("id", &id)]),
                now,
            );
        }
        Err(error) => {
            ui.login.error = Some(error_text(&error, ui.lang, app));
            if matches!(error, LoginError::Unknown(_)) {
                ui.login.field = LoginField::Id;
            }
        }
    }
}

/// Locks the console: whatever was open on screen is closed, and the lock
/// screen comes up ready for the operator's PIN. Esc clears the id for
/// another operator.
pub fn lock(app: &mut App, ui: &mut UiState) {
    let Some(current) = app.access.active() else {
        return;
    };
    ui.login = LoginForm {
        id: current.id.clone(),
        field: LoginField::Pin,
        ..LoginForm::default()
    };
    app.lock();
    ui.dialog = None;
    ui.confirm = None;
    ui.editing_filter = false;
}

/// Formats a refused login: what is wrong and what to do.
pub fn error_text(error: &LoginError, lang: Lang, app: &App) -> String {
    let until = match error {
        LoginError::LockedOut { until } => until
            .to_zoned_datetime(app.site.time_zone.clone())
            .strftime("%H:%M:%S")
            .to_string(),
        _ => String::new(),
    };
    let remaining = match error {
        LoginError::Wrong { remaining } => *remaining,
        _ => 0,
    };
    let id = match error {
        LoginError::Unknown(id) | LoginError::Disabled(id) => id.as_str(),
        _ => "",
    };
    let (role, permission) = match error {
        LoginError::NotPermitted { role, permission } => (
            lang.t(&format!("operator_role.{role}")),
            lang.t(&format!("permission.{permission}")),
        ),
        _ => ("", ""),
    };
    let reason = match error {
        LoginError::Store(reason) => reason.as_str(),
        _ => "",
    };
    lang.tf(
        &format!("login.error_{}", error.code()),
        &[
            ("until", &until),
            ("remaining", &remaining),
            ("id", &id),
            ("role", &role),
            ("permission", &permission),
            ("reason", &reason),
        ],
    )
}

/// Returns the PIN as dots, one per digit typed.
pub fn dots(pin: &str) -> String {
    "•".repeat(pin.chars().count())
}

/// Returns the line under the fields: the last refusal, or how to proceed.
pub fn hint(ui: &UiState, ctx: &Ctx) -> (String, bool) {
    match &ui.login.error {
        Some(error) => (error.clone(), true),
        None => (ctx.lang.t("login.hint").to_owned(), false),
    }
}
