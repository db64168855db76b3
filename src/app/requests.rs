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
    actions: std_mpsc::Sender<Action>,
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
            .send(action)
            .map_err(|_| ActError::Unavailable("the request writer has stopped".into()))
    }
}

fn run(database: &std::path::Path, queue: &std_mpsc::Receiver<Action>, feed: &mpsc::Sender<Feed>) {
    let mut store: Option<Store> = None;
    let mut waiting: VecDeque<Action> = VecDeque::new();
    let mut fault: Option<(u32, StorageFault, Instant)> = None;
    loop {
        // With nothing held, wait for the next action; with a fault, wait
        // no longer than the pause before the next attempt.
        let arrived = match &fault {
            None => match queue.recv() {
                Ok(action) => {
                    waiting.push_back(action);
                    true
                }
                Err(_) => return,
            },
            Some((attempt, _, due)) => {
                match queue.recv_timeout(due.saturating_duration_since(Instant::now())) {
                    Ok(action) => {
                        waiting.push_back(action);
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
        while let Ok(action) = queue.try_recv() {
            waiting.push_back(action);
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
