//! The console's event loop: terminal input, data from the recorder or the
//! database follower, notifier state, a clock tick and termination signals.

use std::io::Write;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::alerts::{self, Before, Bell};
use super::state::UiState;
use super::widgets::Ctx;
use super::{acting, draw, handle_key, handle_paste, review, rows, terminal};
use crate::app::{App, Feed};
use crate::i18n::Lang;
use crate::notify::{Notifier, NotifyState};
use crate::theme::Theme;

/// Shortest time between two frames: new data is drawn within this.
const FRAME_INTERVAL: Duration = Duration::from_millis(33);

/// Clock and ages change every second even when no data arrives.
const TICK: Duration = Duration::from_secs(1);

/// Runs the console until the operator quits, the terminal goes away or a
/// termination signal arrives.
///
/// New sounding P1/P2 alarms and escalations go to `notifier` and ring the
/// terminal bell unless the sounder was silenced. Notices that could not
/// reach the desktop arrive on `notify_state` and show in a banner.
pub async fn run(
    mut app: App,
    mut feed: mpsc::Receiver<Feed>,
    lang: Lang,
    theme: Theme,
    notifier: Notifier,
    mut notify_state: watch::Receiver<NotifyState>,
) -> std::io::Result<()> {
    let mut guard = terminal::TerminalGuard::enter()?;
    let mut ui = UiState {
        lang,
        // Notices that went to the fallback before this console started
        // are not news.
        last_input: Some(Timestamp::now()),
        banner_seen: notify_state
            .borrow_and_update()
            .fallback
            .as_ref()
            .map_or(0, |fallback| fallback.count),
        ..UiState::default()
    };
    let mut input = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut signals = Signals::new()?;
    let mut bell = Bell::default();
    // The log browser's worker wakes the loop when an answer arrives.
    let review_wake = ui.review.wake.clone();

    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME_INTERVAL;
    let mut feed_open = true;
    let mut notify_open = true;
    loop {
        if dirty {
            let due = last_draw + FRAME_INTERVAL;
            if Instant::now() >= due {
                let now = Timestamp::now();
                acting::take_refusals(&mut app, &mut ui, now);
                review::sync(&mut app, &mut ui, now);
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

        let mut ring = false;
        tokio::select! {
            event = input.next() => match event {
                Some(Ok(TermEvent::Key(key))) => {
                    handle_key(&mut app, &mut ui, &key, Timestamp::now());
                    dirty = true;
                }
                Some(Ok(TermEvent::Resize(..))) => dirty = true,
                // A paste is data, not commands: only a text field takes it.
                Some(Ok(TermEvent::Paste(text))) => dirty |= handle_paste(&mut ui, &text),
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
                    let mut before = Before::default();
                    apply_feed(&mut app, message, &mut before);
                    // Take everything already queued before drawing once.
                    while let Ok(message) = feed.try_recv() {
                        apply_feed(&mut app, message, &mut before);
                    }
                    rows::pin_selection(&app, &mut ui);
                    if !before.is_empty() {
                        let alerts = alerts::assess(&before, &app.projection.alarms, lang);
                        for notice in alerts.notices {
                            notifier.send(notice);
                        }
                        ring |= alerts.ring;
                    }
                    dirty = true;
                }
                None => feed_open = false,
            },
            changed = notify_state.changed(), if notify_open => match changed {
                Ok(()) => {
                    let state = notify_state.borrow_and_update().clone();
                    if let Some(banner) = alerts::banner(&state, ui.banner_seen, Timestamp::now()) {
                        ui.banner_seen = banner.count;
                        ui.banner = Some(banner);
                        ring |= app.projection.alarms.sounding().next().is_some();
                        dirty = true;
                    }
                }
                Err(_) => notify_open = false,
            },
            _ = tick.tick() => {
                let now = Timestamp::now();
                if ui.last_input.is_some_and(|last| app.idle_lock_due(last, now)) {
                    tracing::info!(idle_lock_s = app.login.idle.idle_lock_s, "no input for the idle time; locking the console");
                    super::login::lock(&mut app, &mut ui);
                }
                dirty = true;
            }
            () = review_wake.notified() => dirty = true,
            () = tokio::time::sleep_until(frame_due), if dirty => {}
            () = signals.next() => {
                tracing::info!("termination signal; closing the console");
                break;
            }
        }
        if ring && bell.ring(Timestamp::now()) {
            ring_bell(&mut guard.terminal);
        }
        if ui.quit {
            break;
        }
    }
    // The operator leaves with the console.
    app.log_out(Timestamp::now());
    drop(guard);
    Ok(())
}

/// Writes BEL to the terminal; a failure only costs the sound.
fn ring_bell(terminal: &mut terminal::Term) {
    let backend = terminal.backend_mut();
    if let Err(error) = backend.write_all(b"\x07").and_then(|()| backend.flush()) {
        tracing::debug!(%error, "cannot ring the terminal bell");
    }
}

/// Merges one message from the feed; notes in `before` the alarms a delta
/// is about to change.
fn apply_feed(app: &mut App, message: Feed, before: &mut Before) {
    match message {
        Feed::Delta(delta) => {
            before.capture(
                &app.projection.alarms,
                delta.alarms.iter().map(|alarm| alarm.id),
            );
            app.merge(*delta);
        }
        Feed::Link(link) => app.link = Some(link),
        Feed::Role(role) => app.role = role,
        Feed::Warning(warning) => app.warnings.push(warning),
        Feed::Refused(id, refusal) => app.refused.push((id, refusal)),
        Feed::Storage(storage) => app.set_storage(storage),
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
