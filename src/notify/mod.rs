//! Desktop notifications, with a terminal fallback when there is no desktop.
//!
//! The console hands each [`Notice`] to a [`Notifier`], whose `send` never
//! waits for the worker or the desktop. A worker task tries the desktop through a [`Backend`] and publishes a
//! [`NotifyState`] on a watch channel. Notices that could not reach the
//! desktop go to [`NotifyState::fallback`], from which the UI rings the
//! terminal bell and shows a banner.
//!
//! After a failed or timed-out desktop call the worker stops calling the
//! desktop for [`Policy::first_backoff`], doubling with each further failure
//! up to [`Policy::max_backoff`], and sends notices straight to the fallback
//! in between. A successful call ends the back-off.

mod backoff;
mod desktop;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot, watch};

use backoff::Backoff;
pub use desktop::{DesktopBackend, escape_markup};

/// One notification, with text already translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub summary: String,
    /// Plain text; the desktop backend escapes it for markup.
    pub body: String,
    /// Critical urgency, for P1 alarms.
    pub urgent: bool,
}

/// A way to show a notice outside the terminal.
pub trait Backend: Send + Sync {
    /// Shows `notice`, or returns why it could not. May block, even forever:
    /// the notifier calls it on a thread of its own and gives up after
    /// [`Policy::timeout`].
    fn show(&self, notice: &Notice) -> Result<(), String>;
}

/// Timing and queue size of a [`Notifier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Maximum wait for one desktop call before it counts as failed.
    pub timeout: Duration,
    /// Pause in desktop calls after the first failure.
    pub first_backoff: Duration,
    /// Cap of the pause, which doubles with each further failure.
    pub max_backoff: Duration,
    /// Maximum number of notices waiting for the worker. [`Notifier::send`]
    /// drops notices beyond it. Values below 1 count as 1.
    pub queue_capacity: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
            first_backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(30 * 60),
            queue_capacity: 64,
        }
    }
}

/// State published for the UI: desktop availability, the latest fallback
/// notice and the count of dropped notices.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotifyState {
    pub desktop: DesktopState,
    /// The latest notice that went to the fallback.
    pub fallback: Option<Fallback>,
    /// Notices dropped because the queue was full.
    pub dropped: u64,
}

/// Whether desktop notifications reach the user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DesktopState {
    /// No desktop call has finished yet.
    #[default]
    Unknown,
    /// The latest desktop call succeeded.
    Working,
    /// The latest desktop call failed or timed out. Notices go to the
    /// fallback until `retry_at`.
    Unavailable { reason: String, retry_at: Timestamp },
    /// The notifier was made by [`Notifier::disabled`] and never calls the
    /// desktop.
    Disabled,
}

/// A notice shown by the UI with the terminal bell and a banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    pub summary: String,
    pub body: String,
    pub urgent: bool,
    /// When the notice went to the fallback.
    pub at: Timestamp,
    /// Notices sent to the fallback so far, this one included. The UI can
    /// ring the bell once for each new value.
    pub count: u64,
}

/// The sending side of the notifier. Clones share one queue and one state.
#[derive(Debug, Clone)]
pub struct Notifier {
    /// Queue to the worker, or `None` for a disabled notifier.
    queue: Option<mpsc::Sender<Notice>>,
    state: Arc<watch::Sender<NotifyState>>,
}

impl Notifier {
    /// Starts a notifier on the desktop's notification server with the
    /// default [`Policy`].
    pub fn desktop(handle: &tokio::runtime::Handle) -> (Notifier, watch::Receiver<NotifyState>) {
        Self::start(handle, Arc::new(DesktopBackend))
    }

    /// Starts a notifier on `backend` with the default [`Policy`].
    pub fn start(
        handle: &tokio::runtime::Handle,
        backend: Arc<dyn Backend>,
    ) -> (Notifier, watch::Receiver<NotifyState>) {
        Self::start_with_policy(handle, backend, Policy::default())
    }

    /// Starts a notifier on `backend` whose worker task runs on `handle`.
    /// The worker stops when the last clone of the returned notifier is
    /// dropped.
    pub fn start_with_policy(
        handle: &tokio::runtime::Handle,
        backend: Arc<dyn Backend>,
        policy: Policy,
    ) -> (Notifier, watch::Receiver<NotifyState>) {
        let (queue_tx, queue_rx) = mpsc::channel(policy.queue_capacity.max(1));
        let (state_tx, state_rx) = watch::channel(NotifyState::default());
        let state = Arc::new(state_tx);

        let worker = Worker {
            backend,
            timeout: policy.timeout,
            backoff: Backoff::new(policy.first_backoff, policy.max_backoff),
            hung_call: None,
            state: Arc::clone(&state),
        };
        handle.spawn(worker.run(queue_rx));

        let notifier = Notifier {
            queue: Some(queue_tx),
            state,
        };
        (notifier, state_rx)
    }

    /// Makes a notifier that sends every notice to the fallback, for consoles
    /// configured without desktop notifications. It needs no runtime.
    pub fn disabled() -> (Notifier, watch::Receiver<NotifyState>) {
        let initial = NotifyState {
            desktop: DesktopState::Disabled,
            ..NotifyState::default()
        };
        let (state_tx, state_rx) = watch::channel(initial);
        let notifier = Notifier {
            queue: None,
            state: Arc::new(state_tx),
        };
        (notifier, state_rx)
    }

    /// Returns a new receiver of the notifier's state.
    pub fn subscribe(&self) -> watch::Receiver<NotifyState> {
        self.state.subscribe()
    }

    /// Queues `notice` for the worker without waiting.
    ///
    /// A disabled notifier, or one whose worker has stopped (for example
    /// because its runtime shut down), sends the notice to the fallback
    /// instead. When the queue is full the notice is dropped and counted in
    /// [`NotifyState::dropped`].
    pub fn send(&self, notice: Notice) {
        let Some(queue) = &self.queue else {
            publish_fallback(&self.state, notice);
            return;
        };

        match queue.try_send(notice) {
            Ok(()) => {}
            Err(TrySendError::Full(notice)) => self.count_dropped(&notice),
            Err(TrySendError::Closed(notice)) => {
                tracing::debug!("notifier worker stopped; sending the notice to the fallback");
                publish_fallback(&self.state, notice);
            }
        }
    }

    fn count_dropped(&self, notice: &Notice) {
        let mut dropped = 0;
        self.state.send_modify(|state| {
            state.dropped += 1;
            dropped = state.dropped;
        });
        // Logs the 1st, 10th, 100th… drop, so a flood of notices cannot
        // flood the log as well.
        let is_power_of_ten = dropped
            .checked_ilog10()
            .is_some_and(|exponent| dropped == 10_u64.pow(exponent));
        if is_power_of_ten {
            tracing::warn!(
                dropped,
                summary = %notice.summary,
                "notification queue full; dropped the notice"
            );
        }
    }
}

/// Adds `notice` to the fallback as its newest entry.
fn publish_fallback(state: &watch::Sender<NotifyState>, notice: Notice) {
    publish(state, None, Some(notice));
}

/// Sets the desktop state and adds a fallback notice, each when given, in
/// one update so that receivers never see one change without the other.
fn publish(
    state: &watch::Sender<NotifyState>,
    desktop: Option<DesktopState>,
    fallback: Option<Notice>,
) {
    let at = Timestamp::now();
    state.send_if_modified(move |state| {
        let mut modified = false;

        if let Some(desktop) = desktop
            && state.desktop != desktop
        {
            state.desktop = desktop;
            modified = true;
        }

        if let Some(notice) = fallback {
            let count = state.fallback.as_ref().map_or(0, |fallback| fallback.count) + 1;
            state.fallback = Some(Fallback {
                summary: notice.summary,
                body: notice.body,
                urgent: notice.urgent,
                at,
                count,
            });
            modified = true;
        }

        modified
    });
}

/// The task that takes notices off the queue and tries the desktop.
struct Worker {
    backend: Arc<dyn Backend>,
    timeout: Duration,
    backoff: Backoff,
    /// Thread of the latest call that timed out, which may still be blocked
    /// in the backend.
    hung_call: Option<JoinHandle<()>>,
    state: Arc<watch::Sender<NotifyState>>,
}

impl Worker {
    async fn run(mut self, mut queue: mpsc::Receiver<Notice>) {
        while let Some(notice) = queue.recv().await {
            self.deliver(notice).await;
        }
        tracing::debug!("notifier stopped");
    }

    async fn deliver(&mut self, notice: Notice) {
        if !self.backoff.allows_attempt(Instant::now()) {
            publish_fallback(&self.state, notice);
            return;
        }

        // A new call on the same bus would likely hang as well, so no call
        // starts before the timed-out one returns. This also keeps the
        // leaked threads to one.
        if self
            .hung_call
            .as_ref()
            .is_some_and(|thread| !thread.is_finished())
        {
            let desktop = self
                .record_failure("the previous desktop notification call has not returned".into());
            publish(&self.state, Some(desktop), Some(notice));
            return;
        }
        self.hung_call = None;

        match self.show(&notice).await {
            Ok(()) => {
                self.record_success();
                publish(&self.state, Some(DesktopState::Working), None);
            }
            Err(reason) => {
                let desktop = self.record_failure(reason);
                publish(&self.state, Some(desktop), Some(notice));
            }
        }
    }

    /// Calls the backend on a new thread and waits at most `timeout`.
    ///
    /// The call runs on a plain thread, not `spawn_blocking`, because
    /// dropping a tokio runtime waits for its blocking tasks, so a hung call
    /// would stop the program from exiting. A thread that times out is left
    /// running and detached.
    async fn show(&mut self, notice: &Notice) -> Result<(), String> {
        let (result_tx, result_rx) = oneshot::channel();
        let backend = Arc::clone(&self.backend);
        let notice = notice.clone();
        let thread = std::thread::Builder::new()
            .name("guardroom-notify".into())
            .spawn(move || {
                // Fails when the worker has stopped waiting, and then the
                // result is discarded.
                let _ = result_tx.send(backend.show(&notice));
            })
            .map_err(|error| format!("failed to start the desktop notification thread: {error}"))?;

        match tokio::time::timeout(self.timeout, result_rx).await {
            Ok(Ok(result)) => result,
            // NOTE: the process panic hook still runs first. The console's
            // hook restores the terminal, so a panicking backend would leave
            // a running console out of raw mode.
            Ok(Err(_)) => Err("the desktop notification call panicked".into()),
            Err(_) => {
                self.hung_call = Some(thread);
                Err(format!(
                    "the desktop notification call timed out after {} ms",
                    self.timeout.as_millis()
                ))
            }
        }
    }

    /// Starts or extends the back-off, logs the failure and returns the
    /// desktop state to publish.
    fn record_failure(&mut self, reason: String) -> DesktopState {
        let was_failing = self.backoff.is_failing();
        let delay = self.backoff.record_failure(Instant::now());
        let retry_at = Timestamp::now()
            .saturating_add(delay)
            .unwrap_or(Timestamp::MAX);
        let retry_in_s = delay.as_secs();

        if was_failing {
            tracing::debug!(%reason, retry_in_s, "desktop notifications still unavailable");
        } else {
            tracing::warn!(
                %reason,
                retry_in_s,
                "desktop notifications unavailable; using the terminal bell and banner"
            );
        }
        DesktopState::Unavailable { reason, retry_at }
    }

    /// Ends the back-off and logs when the desktop works again.
    fn record_success(&mut self) {
        if self.backoff.record_success() {
            tracing::info!("desktop notifications work again");
        }
    }
}
