//! The terminal user interface: terminal set-up, the event loop, the keymap
//! and the views.
//!
//! One loop owns the state. Input, data from the recorder or the database
//! follower, and a clock tick arrive as events; drawing is a pure function of
//! the state ([`draw`]), redrawn at most once per frame interval. Every key
//! except text typed into a field goes through the keymap table
//! ([`keymap::BINDINGS`]) to an [`Action`], which [`apply`] carries out.
//! Alarm actions go to [`App::act`].

pub mod acting;
pub mod alerts;
pub mod dialog;
mod event_loop;
pub mod handover;
pub mod keymap;
pub mod login;
pub mod note;
pub mod review;
pub mod rows;
pub mod sample;
pub mod services;
pub mod state;
pub mod terminal;
pub mod views;
pub mod widgets;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

use crate::app::App;
pub use event_loop::run;
use keymap::{Action, Scope};
use state::{Question, UiState, View};
use widgets::Ctx;

/// Smallest window the views are laid out for; below it a one-line notice is drawn.
pub const MIN_SIZE: (u16, u16) = (60, 12);

/// Rows a page key moves.
const PAGE: isize = 10;

/// Draws one frame of the console.
pub fn draw(frame: &mut Frame, app: &App, ui: &UiState, ctx: &Ctx) {
    let area = frame.area();
    frame.render_widget(
        ratatui::widgets::Block::default().style(ctx.theme.base()),
        area,
    );
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        views::chrome::too_small(frame, area, MIN_SIZE, ctx);
        return;
    }
    if app.needs_login() {
        views::login::draw(frame, area, app, ui, ctx);
        return;
    }
    let banner = ui.banner_at(ctx.now);
    let message = ui.message_at(ctx.now);
    let notice = views::chrome::standing_notice(app, ctx);
    let [
        header,
        tabs,
        warning,
        banner_area,
        body,
        message_area,
        footer,
    ] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(
            notice
                .as_deref()
                .map_or(0, |text| views::chrome::notice_height(text, area.width)),
        ),
        Constraint::Length(u16::from(banner.is_some())),
        Constraint::Min(0),
        Constraint::Length(message.map_or(0, |message| {
            views::chrome::notice_height(&message.text, area.width)
        })),
        Constraint::Length(1),
    ])
    .areas(area);

    if let Some(text) = &notice {
        views::chrome::warning(frame, warning, text, ctx);
    }
    if let Some(banner) = banner {
        views::chrome::banner(frame, banner_area, banner, ctx);
    }
    views::chrome::header(frame, header, app, ctx);
    views::chrome::tabs(frame, tabs, app, ui, ctx);
    match ui.view {
        View::Alarms => views::alarms::draw(frame, body, app, ui, ctx),
        View::AlarmDetail => {
            views::alarm::draw(frame, body, app, ui.alarm_detail, ui.alarm_scroll, ctx);
        }
        View::History => views::history::draw(frame, body, app, ui, ctx),
        View::Overview => views::overview::draw(frame, body, app, ui.attention_selected, ctx),
        View::Devices => views::devices::draw(frame, body, app, ui, ctx),
        View::Detail => views::detail::draw(frame, body, app, ui.detail.as_deref(), ctx),
        View::Help => views::help::draw(frame, body, ui.help_scroll, ctx),
        View::Log => views::log::draw(frame, body, app, ui, ctx),
        View::Handover => {
            if let Some(flow) = &ui.handover {
                views::handover::draw(frame, body, app, flow, ctx);
            }
        }
        View::Tickets => views::tickets::draw(frame, body, app, ui, ctx),
        View::Ticket => views::tickets::draw_detail(frame, body, app, ui, ctx),
        View::Board => views::board::draw(frame, body, app, ui, ctx),
        View::Resident => views::board::draw_resident(frame, body, app, ui, ctx),
    }
    if let Some(message) = message {
        views::chrome::message(frame, message_area, message, ctx);
    }
    let ticket_actions = services::footer_ticket_actions(app, ui, ctx.now);
    views::chrome::footer(
        frame,
        footer,
        ui,
        &session_scopes(app, ui),
        ticket_actions.as_deref(),
        ctx,
    );
    if let Some(dialog) = &ui.dialog {
        views::dialog::draw(frame, area, app, dialog, ctx);
    }
    if let Some(note) = &ui.note {
        views::note::draw(frame, area, note, ctx);
    }
    if let Some(dialog) = &ui.services.dialog {
        views::board::draw_dialog(frame, area, app, dialog, ctx);
    }
    match &ui.confirm {
        Some(Question::Quit) => views::chrome::confirm_quit(frame, area, app, ctx),
        Some(Question::Acknowledge { ids, p1 }) => {
            views::dialog::confirm_acknowledge(frame, area, ids.len(), *p1, ctx);
        }
        None => {}
    }
}

/// Returns the keymap scopes active in the current state.
pub fn scopes(ui: &UiState) -> Vec<Scope> {
    match ui.confirm {
        Some(Question::Quit) => return vec![Scope::Confirm],
        Some(Question::Acknowledge { .. }) => return vec![Scope::ConfirmStrict],
        None => {}
    }
    if ui.note.is_some() {
        return vec![Scope::Note];
    }
    if ui.dialog.is_some() || ui.services.dialog.is_some() {
        return vec![Scope::Dialog];
    }
    if ui.editing_filter {
        return vec![Scope::FilterEdit];
    }
    match ui.view {
        View::Alarms => vec![
            Scope::Global,
            Scope::List,
            Scope::Rows,
            Scope::Alarms,
            Scope::AlarmActions,
        ],
        View::AlarmDetail => vec![Scope::Global, Scope::List, Scope::AlarmActions],
        View::History => vec![Scope::Global, Scope::List, Scope::Rows, Scope::History],
        View::Overview => vec![Scope::Global, Scope::List, Scope::Rows],
        View::Devices => vec![Scope::Global, Scope::List, Scope::Rows, Scope::Devices],
        View::Detail => vec![Scope::Global],
        View::Help => vec![Scope::Global, Scope::List],
        View::Log => vec![Scope::Global, Scope::List, Scope::Rows, Scope::Log],
        View::Handover => vec![Scope::Handover],
        View::Tickets => vec![
            Scope::Global,
            Scope::List,
            Scope::Rows,
            Scope::Tickets,
            Scope::TicketActions,
        ],
        View::Ticket => vec![Scope::Global, Scope::List, Scope::TicketActions],
        View::Board => vec![Scope::Global, Scope::List, Scope::Rows, Scope::Board],
        View::Resident => vec![Scope::Global, Scope::List, Scope::Board],
    }
}

/// Returns the keymap scopes active now, with the session's keys where
/// operators log in.
pub fn session_scopes(app: &App, ui: &UiState) -> Vec<Scope> {
    if app.needs_login() {
        return vec![Scope::Login];
    }
    let mut scopes = scopes(ui);
    if matches!(app.access, crate::app::Access::Operators { .. }) && scopes.contains(&Scope::Global)
    {
        scopes.push(Scope::Session);
    }
    scopes
}

/// True while typed keys go into a text field: a dialog's or a filter.
pub fn text_has_focus(ui: &UiState) -> bool {
    ui.confirm.is_none() && (ui.dialog.is_some() || ui.editing_filter)
}

/// Applies a key press. Only presses count, never releases or repeats.
/// Outside a text field, a key that is not in the keymap does nothing, and
/// Alt with a letter, which is how a terminal sends Esc and that letter,
/// matches no binding.
pub fn handle_key(app: &mut App, ui: &mut UiState, event: &KeyEvent, now: Timestamp) {
    if event.kind != KeyEventKind::Press {
        return;
    }
    ui.last_input = Some(now);
    if app.needs_login() {
        login::handle_key(app, ui, event, now);
        return;
    }
    // The note dialog and the handover view take typed text and their own keys.
    if ui.note.is_some() {
        note::handle_key(app, ui, event, now);
        return;
    }
    if ui.view == View::Handover && ui.confirm.is_none() {
        handover::handle_key(app, ui, event, now);
        return;
    }
    if ui.services.dialog.is_some() && ui.confirm.is_none() {
        services::handle_dialog_key(app, ui, event, now);
        return;
    }
    let action = keymap::resolve(event, &session_scopes(app, ui));
    if text_has_focus(ui) {
        match action {
            Some(action) => apply(app, ui, action, now),
            None => type_char(ui, event),
        }
        return;
    }
    let Some(action) = action else {
        return;
    };
    // The previous message has been seen once the operator moves on.
    ui.message = None;
    apply(app, ui, action, now);
}

fn type_char(ui: &mut UiState, event: &KeyEvent) {
    let KeyCode::Char(c) = event.code else {
        return;
    };
    if event.modifiers.contains(KeyModifiers::CONTROL) {
        return;
    }
    if let Some(dialog) = ui.dialog.as_mut() {
        dialog.field.insert(c);
        dialog.error = None;
    } else if let Some(filter) = ui.filter_text_mut() {
        dialog::push_filter(filter, c.encode_utf8(&mut [0; 4]));
        ui.reset_selection();
    }
}

/// Applies a bracketed paste: text for the focused text field, if there is
/// one, and nothing otherwise, so pasted text never acts as keys. Returns
/// whether anything changed.
pub fn handle_paste(ui: &mut UiState, text: &str) -> bool {
    if let Some(note) = ui.note.as_mut() {
        note.field.paste(text);
        note.error = None;
        return true;
    }
    if services::paste(ui, text) {
        return true;
    }
    if ui.view == View::Handover
        && let Some(flow) = ui.handover.as_mut()
    {
        for c in text.chars() {
            handover::type_char(flow, if c.is_control() { ' ' } else { c });
        }
        return true;
    }
    if !text_has_focus(ui) {
        return false;
    }
    if let Some(dialog) = ui.dialog.as_mut() {
        dialog.field.paste(text);
        dialog.error = None;
        return true;
    }
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if let Some(filter) = ui.filter_text_mut() {
        dialog::push_filter(filter, &flat);
    }
    ui.reset_selection();
    true
}

/// Applies an action; list movement uses the rows the view would draw.
pub fn apply(app: &mut App, ui: &mut UiState, action: Action, now: Timestamp) {
    match action {
        action if ui.view == View::Log && review::handles(action) => {
            review::apply(app, ui, action, now);
        }
        Action::ForceQuit => ui.quit = true,
        Action::Quit => ui.confirm = Some(Question::Quit),
        Action::Confirm => match ui.confirm.take() {
            Some(Question::Quit) => ui.quit = true,
            Some(Question::Acknowledge { ids, .. }) => {
                acting::acknowledge_many(app, ui, &ids, now);
            }
            None => {}
        },
        Action::Cancel => cancel(ui),
        Action::Lock => login::lock(app, ui),
        Action::NextField => {}
        Action::Submit => {
            if ui.dialog.is_some() {
                acting::submit_dialog(app, ui, now);
            } else {
                ui.editing_filter = false;
            }
        }
        Action::DeleteChar => {
            if let Some(dialog) = ui.dialog.as_mut() {
                dialog.field.backspace();
                dialog.error = None;
            } else if let Some(filter) = ui.filter_text_mut() {
                filter.pop();
                ui.reset_selection();
            }
        }
        Action::Help => {
            ui.help_scroll = 0;
            ui.show(View::Help);
        }
        Action::Back => {
            if ui.banner_at(now).is_some() {
                ui.banner = None;
            } else {
                ui.back();
            }
        }
        Action::ShowAlarms => ui.show(View::Alarms),
        Action::ShowOverview => ui.show(View::Overview),
        Action::ShowDevices => ui.show(View::Devices),
        Action::ShowHistory => ui.show(View::History),
        Action::ShowLog => ui.show(View::Log),
        Action::WriteNote => note::open(app, ui, now),
        Action::StartHandover => handover::start(app, ui, now),
        Action::PreviousPeriod
        | Action::NextPeriod
        | Action::CyclePeriod
        | Action::CycleOperator
        | Action::ToggleStats
        | Action::Export
        | Action::CycleFormat
        | Action::Correct => review::apply(app, ui, action, now),
        Action::CursorLeft | Action::CursorRight => {}
        Action::NextView => ui.show(match ui.view {
            View::Alarms => View::Overview,
            View::Overview => View::Devices,
            View::Devices => View::Log,
            View::Log => View::Tickets,
            View::Tickets => View::Board,
            View::Board => View::History,
            _ => View::Alarms,
        }),
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => step(app, ui, action, now),
        Action::Open => open(app, ui, now),
        Action::Filter => {
            if ui.filter_text_mut().is_some() {
                ui.editing_filter = true;
            }
        }
        Action::CycleKind => ui.cycle_kind(),
        Action::CycleStatus => ui.cycle_status(),
        Action::CycleBuilding if ui.view == View::Alarms => {
            ui.cycle_alarm_building(&rows::alarm_buildings(app));
        }
        Action::CycleBuilding => ui.cycle_building(&rows::buildings(app)),
        Action::CycleSort => ui.sort = ui.sort.next(),
        Action::CyclePriority => ui.cycle_priority(),
        Action::CycleAlarmState => ui.cycle_alarm_state(),
        Action::CycleGrouping => ui.grouping = ui.grouping.next(),
        Action::ClearFilters if ui.view == View::Alarms => ui.clear_alarm_filters(),
        Action::ClearFilters => ui.clear_filters(),
        Action::Silence
        | Action::Acknowledge
        | Action::AcknowledgeAll
        | Action::CloseAlarm
        | Action::Reset
        | Action::Shelve
        | Action::Unshelve
        | Action::Remark
        | Action::Service => acting::apply(app, ui, action, now),
        Action::ShowTickets
        | Action::ShowBoard
        | Action::ToggleMine
        | Action::Claim
        | Action::StartWork
        | Action::TicketNote
        | Action::Resolve
        | Action::ReturnTicket
        | Action::Transfer
        | Action::CancelTicket
        | Action::CloseTicket
        | Action::TicketService
        | Action::CreateTicket
        | Action::RecordOutcome
        | Action::Reveal => services::apply(app, ui, action, now),
    }
}

/// Cancels the question, the dialog or the filter being typed (Esc).
fn cancel(ui: &mut UiState) {
    if ui.confirm.is_some() {
        ui.confirm = None;
    } else if ui.dialog.is_some() {
        ui.dialog = None;
    } else if ui.editing_filter {
        if let Some(filter) = ui.filter_text_mut() {
            filter.clear();
        }
        ui.editing_filter = false;
        ui.reset_selection();
    }
}

/// Moves the selection, a dialog's choice, or the scroll of a text view.
fn step(app: &App, ui: &mut UiState, action: Action, now: Timestamp) {
    let delta: isize = match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -PAGE,
        Action::PageDown => PAGE,
        Action::Top => isize::MIN / 2,
        _ => isize::MAX / 2,
    };
    if let Some(dialog) = ui.dialog.as_mut() {
        dialog.step_choice(delta);
        return;
    }
    match ui.view {
        View::Help => {
            // The help text is a few dozen lines; the view clamps what it draws.
            ui.help_scroll = (ui.help_scroll as isize + delta).clamp(0, 200) as u16;
        }
        View::AlarmDetail => {
            // An upper bound of the detail's lines; the view clamps what it draws.
            let history = ui
                .alarm_detail
                .and_then(|id| app.projection.alarms.get(id))
                .map_or(0, |alarm| alarm.history.len());
            let max = (24 + 3 * history) as isize;
            ui.alarm_scroll = (ui.alarm_scroll as isize + delta).clamp(0, max) as u16;
        }
        View::Alarms => {
            let lines = rows::queue_lines(app, ui);
            let mut index = rows::selected_line(&lines, ui);
            UiState::step(&mut index, delta, lines.len());
            ui.alarm_selected = index;
            ui.alarm_cursor = lines.get(index).map(rows::QueueLine::cursor);
        }
        View::History => {
            let len = rows::history_rows(app, ui).len();
            UiState::step(&mut ui.history_selected, delta, len);
        }
        View::Overview => {
            let len = rows::attention_rows(app, now, 0).0;
            UiState::step(&mut ui.attention_selected, delta, len);
        }
        View::Devices | View::Detail => {
            let len = rows::device_rows(app, ui, now).len();
            UiState::step(&mut ui.selected, delta, len);
        }
        View::Log => review::step(app, ui, delta),
        View::Tickets | View::Ticket | View::Board | View::Resident => {
            services::step(app, ui, delta, now);
        }
        View::Handover => {}
    }
}

/// Opens the selected row's detail, or opens or closes a group of repeats
/// (Enter).
fn open(app: &App, ui: &mut UiState, now: Timestamp) {
    match ui.view {
        View::Alarms => {
            let lines = rows::queue_lines(app, ui);
            match lines.get(rows::selected_line(&lines, ui)) {
                Some(rows::QueueLine::Group { key, .. }) => {
                    let key = key.clone();
                    if !ui.expanded.remove(&key) {
                        ui.expanded.insert(key.clone());
                    }
                    ui.alarm_cursor = Some(state::Cursor::Group(key));
                }
                Some(rows::QueueLine::Alarm { alarm, .. }) => {
                    ui.alarm_detail = Some(alarm.id);
                    ui.alarm_scroll = 0;
                    ui.show(View::AlarmDetail);
                }
                None => {}
            }
        }
        View::History => {
            if let Some(alarm) = rows::history_rows(app, ui).get(ui.history_selected) {
                ui.alarm_detail = Some(alarm.id);
                ui.alarm_scroll = 0;
                ui.show(View::AlarmDetail);
            }
        }
        View::Overview => {
            let selected = ui.attention_selected;
            if let Some(row) = rows::attention_rows(app, now, selected + 1).1.get(selected) {
                ui.detail = Some(row.device.spec.id.clone());
                ui.show(View::Detail);
            }
        }
        View::Devices => {
            if let Some(row) = rows::device_rows(app, ui, now).get(ui.selected) {
                ui.detail = Some(row.device.spec.id.clone());
                ui.show(View::Detail);
            }
        }
        View::Tickets | View::Board => services::open(app, ui, now),
        _ => {}
    }
}
