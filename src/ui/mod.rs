//! The terminal user interface: terminal set-up, the event loop, the keymap
//! and the views.
//!
//! One loop owns the state. Input, data from the recorder or the database
//! follower, and a clock tick arrive as events; drawing is a pure function of
//! the state ([`draw`]), redrawn at most once per frame interval.

pub mod keymap;
pub mod rows;
pub mod sample;
pub mod state;
pub mod terminal;
pub mod views;
pub mod widgets;

use std::time::Duration;

use crossterm::event::{
    Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers,
};
use futures::StreamExt;
use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::app::{App, Feed};
use crate::i18n::Lang;
use crate::theme::Theme;
use keymap::{Action, Scope};
use state::{UiState, View};
use widgets::Ctx;

/// Smallest window the views are laid out for; below it a one-line notice is drawn.
pub const MIN_SIZE: (u16, u16) = (60, 12);

/// Shortest time between two frames: new data is drawn within this.
const FRAME_INTERVAL: Duration = Duration::from_millis(33);

/// Clock and ages change every second even when no data arrives.
const TICK: Duration = Duration::from_secs(1);

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
    let warning_rows = u16::from(!app.warnings.is_empty());
    let [header, tabs, warning, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(warning_rows),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);

    if let Some(text) = app.warnings.last() {
        views::chrome::warning(frame, warning, text, ctx);
    }
    views::chrome::header(frame, header, app, ctx);
    views::chrome::tabs(frame, tabs, app, ui, ctx);
    match ui.view {
        View::Overview => views::overview::draw(frame, body, app, ui.attention_selected, ctx),
        View::Devices => views::devices::draw(frame, body, app, ui, ctx),
        View::Detail => views::detail::draw(frame, body, app, ui.detail.as_deref(), ctx),
        View::Help => views::help::draw(frame, body, ui.help_scroll, ctx),
    }
    views::chrome::footer(frame, footer, ui, &scopes(ui), ctx);
    if ui.confirm_quit {
        views::chrome::confirm_quit(frame, area, app, ctx);
    }
}

/// Returns the keymap scopes active in the current state.
pub fn scopes(ui: &UiState) -> Vec<Scope> {
    if ui.confirm_quit {
        return vec![Scope::Confirm];
    }
    match ui.view {
        View::Overview => vec![Scope::Global, Scope::List],
        View::Devices => vec![Scope::Global, Scope::List, Scope::Devices],
        View::Detail => vec![Scope::Global],
        View::Help => vec![Scope::Global, Scope::List],
    }
}

/// Applies a key press to the view state.
pub fn handle_key(app: &App, ui: &mut UiState, event: &KeyEvent, now: Timestamp) {
    if event.kind == KeyEventKind::Release {
        return;
    }
    if ui.editing_filter {
        edit_filter(ui, event);
        return;
    }
    let Some(action) = keymap::resolve(event, &scopes(ui)) else {
        return;
    };
    apply(app, ui, action, now);
}

fn edit_filter(ui: &mut UiState, event: &KeyEvent) {
    if event.modifiers.contains(KeyModifiers::CONTROL) && event.code == KeyCode::Char('c') {
        ui.quit = true;
        return;
    }
    match event.code {
        KeyCode::Enter => ui.editing_filter = false,
        KeyCode::Esc => {
            ui.filter.clear();
            ui.editing_filter = false;
        }
        KeyCode::Backspace => {
            ui.filter.pop();
        }
        KeyCode::Char(c) if !c.is_control() && ui.filter.chars().count() < 64 => ui.filter.push(c),
        _ => {}
    }
    ui.selected = 0;
}

/// Applies an action; list movement uses the rows the view would draw.
pub fn apply(app: &App, ui: &mut UiState, action: Action, now: Timestamp) {
    let page = 10;
    let list_len = || match ui.view {
        View::Overview => rows::attention_rows(app, now, 0).0,
        _ => rows::device_rows(app, ui, now).len(),
    };
    match action {
        Action::ForceQuit => ui.quit = true,
        Action::Quit => ui.confirm_quit = true,
        Action::Confirm => ui.quit = true,
        Action::Cancel => ui.confirm_quit = false,
        Action::Help => {
            ui.help_scroll = 0;
            ui.show(View::Help);
        }
        Action::Back => ui.back(),
        Action::ShowOverview => ui.show(View::Overview),
        Action::ShowDevices => ui.show(View::Devices),
        Action::NextView => match ui.view {
            View::Overview => ui.show(View::Devices),
            _ => ui.show(View::Overview),
        },
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom
            if ui.view == View::Help =>
        {
            let delta: i32 = match action {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -(page as i32),
                Action::PageDown => page as i32,
                Action::Top => -1000,
                _ => 1000,
            };
            // The help text is a few dozen lines; the view clamps what it draws.
            ui.help_scroll = (i32::from(ui.help_scroll) + delta).clamp(0, 200) as u16;
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => {
            let len = list_len();
            let delta: isize = match action {
                Action::Up => -1,
                Action::Down => 1,
                Action::PageUp => -page,
                Action::PageDown => page,
                Action::Top => isize::MIN / 2,
                _ => isize::MAX / 2,
            };
            let selected = match ui.view {
                View::Overview => &mut ui.attention_selected,
                _ => &mut ui.selected,
            };
            UiState::step(selected, delta, len);
        }
        Action::Open => {
            let id = match ui.view {
                View::Overview => rows::attention_rows(app, now, ui.attention_selected + 1)
                    .1
                    .get(ui.attention_selected)
                    .map(|row| row.device.spec.id.clone()),
                View::Devices => rows::device_rows(app, ui, now)
                    .get(ui.selected)
                    .map(|row| row.device.spec.id.clone()),
                _ => None,
            };
            if let Some(id) = id {
                ui.detail = Some(id);
                ui.show(View::Detail);
            }
        }
        Action::Filter => ui.editing_filter = true,
        Action::CycleKind => ui.cycle_kind(),
        Action::CycleStatus => ui.cycle_status(),
        Action::CycleBuilding => ui.cycle_building(&rows::buildings(app)),
        Action::CycleSort => ui.sort = ui.sort.next(),
        Action::ClearFilters => ui.clear_filters(),
    }
}

/// Runs the console until the operator quits, the terminal goes away or a
/// termination signal arrives.
pub async fn run(
    mut app: App,
    mut feed: mpsc::Receiver<Feed>,
    lang: Lang,
    theme: Theme,
) -> std::io::Result<()> {
    let mut guard = terminal::TerminalGuard::enter()?;
    let mut ui = UiState::default();
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut signals = Signals::new()?;

    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME_INTERVAL;
    let mut feed_open = true;
    loop {
        if dirty {
            let due = last_draw + FRAME_INTERVAL;
            if Instant::now() >= due {
                let now = Timestamp::now();
                let ctx = Ctx {
                    lang,
                    theme: &theme,
                    now,
                    time_zone: &app.site.time_zone,
                };
                guard.terminal.draw(|frame| draw(frame, &app, &ui, &ctx))?;
                last_draw = Instant::now();
                dirty = false;
            }
        }
        let frame_due = last_draw + FRAME_INTERVAL;

        tokio::select! {
            event = input.next() => match event {
                Some(Ok(TermEvent::Key(key))) => {
                    handle_key(&app, &mut ui, &key, Timestamp::now());
                    dirty = true;
                }
                Some(Ok(TermEvent::Resize(..))) => dirty = true,
                // A paste is data, not commands: only the filter field takes it.
                Some(Ok(TermEvent::Paste(text))) => {
                    if ui.editing_filter {
                        ui.filter.extend(text.chars().filter(|c| !c.is_control()).take(64));
                        dirty = true;
                    }
                }
                Some(Ok(_)) => {}
                // EIO or end of input: the terminal is gone (SSH dropped).
                Some(Err(error)) => {
                    tracing::warn!(%error, "terminal input failed; closing the console");
                    break;
                }
                None => break,
            },
            message = feed.recv(), if feed_open => match message {
                Some(message) => {
                    apply_feed(&mut app, message);
                    // Take everything already queued before drawing once.
                    while let Ok(message) = feed.try_recv() {
                        apply_feed(&mut app, message);
                    }
                    dirty = true;
                }
                None => feed_open = false,
            },
            _ = tick.tick() => dirty = true,
            () = tokio::time::sleep_until(frame_due), if dirty => {}
            () = signals.next() => {
                tracing::info!("termination signal; closing the console");
                break;
            }
        }
        if ui.quit {
            break;
        }
    }
    drop(guard);
    Ok(())
}

fn apply_feed(app: &mut App, message: Feed) {
    match message {
        Feed::Delta(delta) => app.merge(delta),
        Feed::Link(link) => app.link = Some(link),
        Feed::Role(role) => app.role = role,
        Feed::Warning(warning) => app.warnings.push(warning),
    }
}

/// SIGTERM and SIGHUP end the console like a quit.
struct Signals {
    term: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.hangup.recv() => {}
        }
    }
}
