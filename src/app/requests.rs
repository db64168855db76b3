//! Handing an attached console's actions to the recorder through the
//! database: each action is written, fully synced, to the `requests` table,
//! where the recorder takes it within a fraction of a second.
//!
//! A thread of its own does the writing, so a locked or full disk never
//! stalls the screen. What the disk refuses waits here, in order, and is
//! tried again with a growing pause; the screen is told meanwhile.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::mpsc;

use super::{ActError, Feed};
use crate::domain::alarm::{Action, Refusal};
use crate::domain::storage::{FaultKind, Storage, StorageFault};
use crate::store::{Store, StoreError};

/// Pauses between attempts while the disk refuses the write.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_CAP: Duration = Duration::from_secs(30);

/// The sending side; cheap to clone into the console's submit function.
#[derive(Clone)]
pub struct Requests {
    actions: std_mpsc::Sender<Message>,
}

/// A message from the console to the writing thread.
enum Message {
    Act(Box<Action>),
    /// Reply on the sender once everything queued before is saved.
    Flush(std_mpsc::Sender<()>),
}

impl Requests {
    /// Starts the writing thread for `database`; it reports to `feed`.
    pub fn start(database: PathBuf, feed: mpsc::Sender<Feed>) -> Self {
        let (actions, queue) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("requests".into())
            .spawn(move || run(&database, &queue, &feed))
            .expect("spawning the requests thread");
        Self { actions }
    }

    /// Queues `action` for the recorder.
    pub fn submit(&self, action: Action) -> Result<(), ActError> {
        self.actions
            .send(Message::Act(Box::new(action)))
            .map_err(|_| ActError::Unavailable("the request writer has stopped".into()))
    }

    /// Waits up to `timeout` until every action queued so far is saved,
    /// and returns whether it was. A closing console calls this: the
    /// process would otherwise end the thread before it writes the
    /// operator's logout.
    pub fn flush(&self, timeout: Duration) -> bool {
        let (done, saved) = std_mpsc::channel();
        if self.actions.send(Message::Flush(done)).is_err() {
            return false;
        }
        saved.recv_timeout(timeout).is_ok()
    }
}

fn run(database: &std::path::Path, queue: &std_mpsc::Receiver<Message>, feed: &mpsc::Sender<Feed>) {
    let mut store: Option<Store> = None;
    let mut waiting: VecDeque<Action> = VecDeque::new();
    let mut fault: Option<(u32, StorageFault, Instant)> = None;
    // Flushes wait for the actions queued before them to be saved.
    let mut flushes: Vec<std_mpsc::Sender<()>> = Vec::new();
    loop {
        // With nothing held, wait for the next action; with a fault, wait
        // no longer than the pause before the next attempt.
        let arrived = match &fault {
            None => match queue.recv() {
                Ok(message) => {
                    take(message, &mut waiting, &mut flushes);
                    true
                }
                Err(_) => return,
            },
            Some((attempt, _, due)) => {
                match queue.recv_timeout(due.saturating_duration_since(Instant::now())) {
                    Ok(message) => {
                        take(message, &mut waiting, &mut flushes);
                        true
                    }
                    Err(std_mpsc::RecvTimeoutError::Timeout) => false,
                    Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                        // The console is closing; one more try for what is held.
                        std::thread::sleep(pause(*attempt));
                        if let Err((error, _)) = write(database, &mut store, &mut waiting) {
                            tracing::error!(%error, lost = waiting.len(), "closing with actions the database did not save");
                        }
                        return;
                    }
                }
            }
        };
        while let Ok(message) = queue.try_recv() {
            take(message, &mut waiting, &mut flushes);
        }
        // While the disk refuses writes, new actions queue behind the held
        // ones until the pause is over.
        if arrived
            && fault
                .as_ref()
                .is_some_and(|(_, _, due)| Instant::now() < *due)
        {
            report_held(feed, &mut fault, waiting.len());
            continue;
        }

        match write(database, &mut store, &mut waiting) {
            Ok(()) => {
                for done in flushes.drain(..) {
                    let _ = done.send(());
                }
                if fault.take().is_some() {
                    tracing::info!("requests saved again");
                    let _ = feed.blocking_send(Feed::Storage(Storage::Saved));
                }
            }
            Err((error, Some(kind))) => {
                let attempt = fault.as_ref().map_or(1, |(attempt, _, _)| attempt + 1);
                let now = Timestamp::now();
                let since = fault.as_ref().map_or(now, |(_, held, _)| held.since);
                if attempt == 1 {
                    tracing::error!(%error, ?kind, "saving this console's actions failed; holding them and retrying");
                    // A fresh connection on the next attempt.
                    store = None;
                } else {
                    tracing::warn!(%error, attempt, "saving this console's actions failed again");
                }
                let held = StorageFault {
                    kind,
                    since,
                    retry_at: now + pause(attempt),
                    held_events: waiting.len(),
                    held_actions: waiting.len(),
                    detail: error.to_string(),
                };
                let _ = feed.blocking_send(Feed::Storage(Storage::Held(held.clone())));
                fault = Some((attempt, held, Instant::now() + pause(attempt)));
            }
            Err((error, None)) => {
                // Retrying cannot help, so the console gets a refusal at once.
                tracing::error!(%error, "saving an action failed");
                if let Some(action) = waiting.pop_front() {
                    let refusal = Refusal::ByRecorder(format!("not saved: {error}"));
                    let _ = feed.blocking_send(Feed::Refused(action.id, refusal));
                }
            }
        }
    }
}

/// Sorts a message from the console into the actions to write and the
/// flushes waiting for a reply.
fn take(message: Message, waiting: &mut VecDeque<Action>, flushes: &mut Vec<std_mpsc::Sender<()>>) {
    match message {
        Message::Act(action) => waiting.push_back(*action),
        Message::Flush(done) => flushes.push(done),
    }
}

fn report_held(
    feed: &mpsc::Sender<Feed>,
    fault: &mut Option<(u32, StorageFault, Instant)>,
    count: usize,
) {
    if let Some((_, held, _)) = fault {
        held.held_events = count;
        held.held_actions = count;
        let _ = feed.blocking_send(Feed::Storage(Storage::Held(held.clone())));
    }
}

/// Writes the waiting actions in order; stops at the first failure, which
/// keeps that action and those after it.
fn write(
    database: &std::path::Path,
    store: &mut Option<Store>,
    waiting: &mut VecDeque<Action>,
) -> Result<(), (StoreError, Option<FaultKind>)> {
    if store.is_none() {
        let opened = Store::open(database).map_err(|error| {
            let kind = error.fault().or(Some(FaultKind::Io));
            (error, kind)
        })?;
        *store = Some(opened);
    }
    let Some(store) = store.as_mut() else {
        return Ok(());
    };
    while let Some(action) = waiting.front() {
        store.request(action, Timestamp::now()).map_err(|error| {
            let kind = error.fault();
            (error, kind)
        })?;
        waiting.pop_front();
    }
    Ok(())
}

fn pause(attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(8);
    RETRY_FIRST.saturating_mul(1 << exponent).min(RETRY_CAP)
}
