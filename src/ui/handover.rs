//! The handover at the end of a shift: the sheet of the shift on screen,
//! the outgoing guard's remarks and signature (`HandOver`), then the
//! incoming guard's operator id and PIN, which records the `TakeOver` as
//! the incoming operator and logs them in at this console.
//!
//! A wrong PIN records nothing. The sheet is read again after each step, so
//! its signature lines show what the log holds.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

use super::keymap::{self, Action, Scope};
use super::note::{NoteField, act_error_text};
use super::state::{UiState, View};
use crate::app::duty::Signing;
use crate::app::review::{Query, ShiftData};
use crate::app::{Access, App};
use crate::domain::EventBody;
use crate::domain::alarm::ActionKind;
use crate::domain::operator::{MAX_ID_BYTES, pin::MAX_DIGITS};
use crate::domain::shift::Shift;
use crate::i18n::Lang;
use crate::report::export::mask::Privacy;
use crate::report::handover::{self, Sheet, SheetInput};

/// Shortest time between two reloads of the sheet caused by new events.
const RELOAD_EVERY: SignedDuration = SignedDuration::from_secs(1);

/// Where the handover stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The shift's events are being read.
    Loading,
    /// The outgoing guard writes remarks and signs.
    Outgoing,
    /// The outgoing guard signed `handover`; the incoming guard confirms.
    Incoming { handover: Uuid, outgoing: String },
    /// Both signed.
    Done { outgoing: String, incoming: String },
}

/// The field the incoming guard types into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Field {
    #[default]
    Id,
    Pin,
}

/// The handover on screen.
#[derive(Clone, PartialEq)]
pub struct HandoverFlow {
    pub shift: Shift,
    pub stage: Stage,
    pub sheet: Option<Sheet>,
    pub scroll: u16,
    pub remarks: NoteField,
    pub id: String,
    /// Kept only until the confirmation is tried, then cleared.
    pub pin: String,
    pub field: Field,
    pub error: Option<String>,
    /// The generation of the latest sheet query, and when and at what
    /// `last_seq` it was sent.
    pub generation: u64,
    pub asked: Option<(Timestamp, i64)>,
}

/// Shows the PIN's length only.
impl std::fmt::Debug for HandoverFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandoverFlow")
            .field("shift", &self.shift.id)
            .field("stage", &self.stage)
            .field("id", &self.id)
            .field("pin_digits", &self.pin.len())
            .finish_non_exhaustive()
    }
}

impl HandoverFlow {
    pub fn new(shift: Shift) -> Self {
        Self {
            shift,
            stage: Stage::Loading,
            sheet: None,
            scroll: 0,
            remarks: NoteField::default(),
            id: String::new(),
            pin: String::new(),
            field: Field::Id,
            error: None,
            generation: 0,
            asked: None,
        }
    }

    /// Takes the shift's events: builds the sheet from them and the
    /// console's state, and moves the stage on to what the log holds. The
    /// stage never moves back, since an answer may predate the commit of
    /// an action this console just took.
    pub fn set_data(&mut self, app: &App, data: &ShiftData, lang: Lang, now: Timestamp) {
        let mut sheet = handover::build(&SheetInput {
            site: &handover::site_label(&app.site.id, &app.site.name),
            shift: &data.shift,
            generated_at: now,
            projection: &app.projection,
            stale: Some(app.site.liveness),
            events: &data.duty,
            stats: &data.stats,
            log_head: data.log_head.clone(),
            lang,
            tz: &app.site.time_zone,
            privacy: Privacy { reveal: false },
        });
        handover::add_services(
            &mut sheet,
            &app.projection.services,
            now,
            lang,
            &app.site.time_zone,
            Privacy { reveal: false },
        );
        self.sheet = Some(sheet);

        let actions = data.duty.iter().filter_map(|event| match &event.body {
            EventBody::DutyRecorded { action } => Some(action),
            _ => None,
        });
        let signing = Signing::of(&self.shift.id, actions);
        match (&signing.handover, &signing.takeover) {
            (Some((_, outgoing)), Some(incoming)) => {
                self.stage = Stage::Done {
                    outgoing: outgoing.clone(),
                    incoming: incoming.clone(),
                };
            }
            (Some((handover, outgoing)), None)
                if matches!(self.stage, Stage::Loading | Stage::Outgoing) =>
            {
                self.stage = Stage::Incoming {
                    handover: *handover,
                    outgoing: outgoing.clone(),
                };
            }
            (None, _) if self.stage == Stage::Loading => self.stage = Stage::Outgoing,
            _ => {}
        }
    }
}

/// Opens the handover of the shift that needs it: the last ended shift
/// when its handover is missing, else the current one.
pub fn start(app: &App, ui: &mut UiState, now: Timestamp) {
    if app.read_only {
        ui.complain(ui.lang.t("refusal.read_only").to_owned(), now);
        return;
    }
    let shift = match &app.duty.overdue {
        Some(overdue) => overdue.shift.clone(),
        None => app.duty.schedule.shift_at(now, &app.site.time_zone),
    };
    if ui.handover.as_ref().is_none_or(|flow| flow.shift != shift) {
        ui.handover = Some(HandoverFlow::new(shift));
    }
    ui.show(View::Handover);
}

/// Asks the worker for the shift's events when none were asked yet, or
/// when the log grew since.
pub fn ask(app: &App, ui: &mut UiState, now: Timestamp) {
    let seq = app.projection.last_seq;
    let Some(flow) = ui.handover.as_mut() else {
        return;
    };
    let due = match flow.asked {
        None => true,
        Some((at, asked_seq)) => seq > asked_seq && now.duration_since(at) >= RELOAD_EVERY,
    };
    if !due {
        return;
    }
    flow.generation += 1;
    flow.asked = Some((now, seq));
    let query = Query::Shift {
        generation: flow.generation,
        shift: flow.shift.clone(),
        tz: app.site.time_zone.clone(),
    };
    let wake = ui.review.wake.clone();
    let worker = ui
        .review
        .worker
        .get_or_insert_with(|| {
            std::sync::Arc::new(crate::app::review::Worker::start(
                app.site.database.clone(),
                wake,
            ))
        })
        .clone();
    worker.send(query);
}

/// Takes the worker's answer to a sheet query.
pub fn take(
    app: &App,
    ui: &mut UiState,
    generation: u64,
    result: Result<ShiftData, String>,
    now: Timestamp,
) {
    let lang = ui.lang;
    let Some(flow) = ui.handover.as_mut() else {
        return;
    };
    if generation != flow.generation {
        return;
    }
    match result {
        Ok(data) if data.shift == flow.shift => flow.set_data(app, &data, lang, now),
        Ok(_) => {}
        Err(error) => flow.error = Some(lang.tf("handover.read_failed", &[("error", &error)])),
    }
}

/// Applies a key press in the handover view.
pub fn handle_key(app: &mut App, ui: &mut UiState, event: &KeyEvent, now: Timestamp) {
    let Some(flow) = ui.handover.as_mut() else {
        ui.back();
        return;
    };
    match keymap::resolve(event, &[Scope::Handover]) {
        Some(Action::ForceQuit) => ui.quit = true,
        Some(Action::Back) => {
            flow.pin.clear();
            ui.back();
        }
        Some(Action::Submit) => submit(app, ui, now),
        Some(Action::Up) => flow.scroll = flow.scroll.saturating_sub(1),
        Some(Action::Down) => flow.scroll = flow.scroll.saturating_add(1),
        Some(Action::PageUp) => flow.scroll = flow.scroll.saturating_sub(10),
        Some(Action::PageDown) => flow.scroll = flow.scroll.saturating_add(10),
        Some(Action::NextField) => {
            flow.field = match flow.field {
                Field::Id => Field::Pin,
                Field::Pin => Field::Id,
            };
        }
        Some(Action::CursorLeft) => flow.remarks.left(),
        Some(Action::CursorRight) => flow.remarks.right(),
        Some(Action::DeleteChar) => {
            match (&flow.stage, flow.field) {
                (Stage::Outgoing, _) => flow.remarks.backspace(),
                (Stage::Incoming { .. }, Field::Id) => {
                    flow.id.pop();
                }
                (Stage::Incoming { .. }, Field::Pin) => {
                    flow.pin.pop();
                }
                _ => {}
            }
            flow.error = None;
        }
        Some(_) => {}
        None => {
            let KeyCode::Char(c) = event.code else {
                return;
            };
            if event
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
            {
                return;
            }
            type_char(flow, c);
        }
    }
}

/// Types a character into the field of the stage.
pub fn type_char(flow: &mut HandoverFlow, c: char) {
    match (&flow.stage, flow.field) {
        (Stage::Outgoing, _) => flow.remarks.insert(c),
        (Stage::Incoming { .. }, Field::Id) => {
            if (c.is_ascii_alphanumeric() || c == '-' || c == '_') && flow.id.len() < MAX_ID_BYTES {
                flow.id.push(c);
            }
        }
        (Stage::Incoming { .. }, Field::Pin) => {
            if c.is_ascii_digit() && flow.pin.len() < MAX_DIGITS {
                flow.pin.push(c);
            }
        }
        _ => return,
    }
    flow.error = None;
}

/// Enter: signs the handover, or confirms the takeover.
pub fn submit(app: &mut App, ui: &mut UiState, now: Timestamp) {
    let Some(flow) = ui.handover.as_ref() else {
        return;
    };
    match flow.stage.clone() {
        Stage::Outgoing => sign(app, ui, now),
        Stage::Incoming { handover, outgoing } => confirm(app, ui, handover, &outgoing, now),
        Stage::Loading | Stage::Done { .. } => {}
    }
}

/// Records the outgoing guard's `HandOver` with the remarks.
fn sign(app: &mut App, ui: &mut UiState, now: Timestamp) {
    let lang = ui.lang;
    let Some(flow) = ui.handover.as_mut() else {
        return;
    };
    let kind = ActionKind::HandOver {
        shift: flow.shift.id.clone(),
    };
    let remarks = flow.remarks.text.clone();
    match app.act(None, kind, &remarks, now) {
        Ok(id) => {
            let outgoing = app.operator.name.clone();
            tracing::info!(shift = %flow.shift.id, operator = %outgoing, "shift handed over");
            flow.stage = Stage::Incoming {
                handover: id,
                outgoing: outgoing.clone(),
            };
            flow.field = Field::Id;
            flow.asked = None;
            ui.remember_submitted(id, None);
            ui.say(lang.tf("handover.signed", &[("operator", &outgoing)]), now);
        }
        Err(error) => {
            let text = act_error_text(app, lang, &error);
            if let Some(flow) = ui.handover.as_mut() {
                flow.error = Some(text);
            }
        }
    }
}

/// Checks the incoming guard's PIN and records the `TakeOver` as them.
fn confirm(app: &mut App, ui: &mut UiState, handover: Uuid, outgoing: &str, now: Timestamp) {
    let lang = ui.lang;
    let Some(flow) = ui.handover.as_mut() else {
        return;
    };
    if matches!(app.access, Access::Open) {
        flow.error = Some(lang.t("handover.needs_operators").to_owned());
        return;
    }
    if flow.field == Field::Id || flow.pin.is_empty() {
        if !flow.id.is_empty() {
            flow.field = Field::Pin;
        }
        return;
    }
    let id = flow.id.trim().to_owned();
    let pin = std::mem::take(&mut flow.pin);
    if id == outgoing {
        flow.error = Some(lang.t("handover.same_operator").to_owned());
        flow.field = Field::Id;
        return;
    }
    let account = match app.confirm_pin(&id, &pin, now) {
        Ok(account) => account,
        Err(error) => {
            let text = super::login::error_text(&error, lang, app);
            if let Some(flow) = ui.handover.as_mut() {
                flow.error = Some(text);
                flow.field = Field::Pin;
            }
            return;
        }
    };
    let shift = flow.shift.id.clone();
    match app.take_over(&account, &shift, handover, "", now) {
        Ok(action) => {
            ui.remember_submitted(action, None);
            if let Some(flow) = ui.handover.as_mut() {
                flow.stage = Stage::Done {
                    outgoing: outgoing.to_owned(),
                    incoming: account.id.clone(),
                };
                flow.asked = None;
                flow.id.clear();
            }
            // The overdue line goes once the log shows the takeover.
            ui.review.signing_asked = None;
            ui.say(
                lang.tf(
                    "handover.taken_over",
                    &[("incoming", &account.id), ("name", &account.name)],
                ),
                now,
            );
        }
        Err(error) => {
            let text = act_error_text(app, lang, &error);
            if let Some(flow) = ui.handover.as_mut() {
                flow.error = Some(text);
            }
        }
    }
}
