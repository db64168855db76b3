//! The notifier with a desktop that fails, hangs, works, recovers or has no
//! session bus at all: which notices reach the desktop, which go to the
//! terminal fallback, and how often the desktop is tried.

use std::cell::RefCell;
use std::io;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use guardroom::notify::{
    Backend, DesktopBackend, DesktopState, Notice, Notifier, NotifyState, Policy,
};
use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

/// Maximum wait for a state change. Generous, because the tests run in
/// parallel on machines of any speed; passing tests never wait this long.
const STATE_DEADLINE: Duration = Duration::from_secs(30);

/// A session bus address whose socket does not exist.
const MISSING_BUS: &str = "unix:path=/nonexistent/bus";

/// Set for the child process that runs `desktop_backend_child`.
const CHILD_MARKER: &str = "GUARDROOM_NOTIFY_TEST_CHILD";

fn notice(index: usize) -> Notice {
    Notice {
        summary: format!("notice {index}"),
        body: format!("body {index}"),
        urgent: false,
    }
}

/// Policy with back-off short enough for a test to wait it out.
fn short_policy() -> Policy {
    Policy {
        timeout: Duration::from_millis(300),
        first_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(1),
        ..Policy::default()
    }
}

/// Waits until `condition` holds for the notifier's state and returns that
/// state; panics naming `awaited` after `STATE_DEADLINE`.
async fn wait_for_state(
    receiver: &mut watch::Receiver<NotifyState>,
    awaited: &str,
    condition: impl FnMut(&NotifyState) -> bool,
) -> NotifyState {
    match tokio::time::timeout(STATE_DEADLINE, receiver.wait_for(condition)).await {
        Ok(Ok(state)) => return state.clone(),
        Ok(Err(_)) => panic!("notifier state channel closed while waiting for {awaited}"),
        Err(_) => {}
    }
    panic!(
        "timed out after {STATE_DEADLINE:?} waiting for {awaited}; state: {:?}",
        *receiver.borrow()
    );
}

fn fallback_count(state: &NotifyState) -> u64 {
    state.fallback.as_ref().map_or(0, |fallback| fallback.count)
}

fn is_unavailable(state: &NotifyState) -> bool {
    matches!(state.desktop, DesktopState::Unavailable { .. })
}

fn unavailable_reason(state: &NotifyState) -> &str {
    match &state.desktop {
        DesktopState::Unavailable { reason, .. } => reason,
        other => panic!("desktop should be unavailable, is {other:?}"),
    }
}

/// Sleeps until the retry time published in `state` has passed.
async fn sleep_past_retry(state: &NotifyState) {
    let DesktopState::Unavailable { retry_at, .. } = &state.desktop else {
        panic!("desktop should be unavailable, is {:?}", state.desktop);
    };
    let remaining = retry_at.duration_since(Timestamp::now());
    let remaining = Duration::try_from(remaining).unwrap_or(Duration::ZERO);
    tokio::time::sleep(remaining + Duration::from_millis(20)).await;
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building a tokio runtime")
}

/// Fails every call at once, as notify-rust does without a session bus.
#[derive(Default)]
struct FailingBackend {
    calls: AtomicUsize,
}

impl Backend for FailingBackend {
    fn show(&self, _notice: &Notice) -> Result<(), String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err("no session bus".into())
    }
}

/// Blocks far longer than any timeout, as notify-rust does on a bus that
/// accepts the call and never replies.
#[derive(Default)]
struct HangingBackend {
    calls: AtomicUsize,
}

impl Backend for HangingBackend {
    fn show(&self, _notice: &Notice) -> Result<(), String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_secs(3600));
        Ok(())
    }
}

/// Fails the first `failures` calls, then records every notice it shows.
#[derive(Default)]
struct RecordingBackend {
    failures: usize,
    calls: AtomicUsize,
    shown: Mutex<Vec<Notice>>,
}

impl RecordingBackend {
    fn failing_first(failures: usize) -> Self {
        Self {
            failures,
            ..Self::default()
        }
    }

    fn shown(&self) -> Vec<Notice> {
        self.shown.lock().expect("shown notices lock").clone()
    }
}

impl Backend for RecordingBackend {
    fn show(&self, notice: &Notice) -> Result<(), String> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if call < self.failures {
            return Err(format!("failure {}", call + 1));
        }
        self.shown
            .lock()
            .expect("shown notices lock")
            .push(notice.clone());
        Ok(())
    }
}

thread_local! {
    /// Log output of this thread while a `LogCapture` is alive.
    static CAPTURED_LOGS: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// Writer of the test binary's global subscriber: appends to the current
/// thread's capture and discards output on threads without one.
struct ThreadLogWriter;

impl io::Write for ThreadLogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        CAPTURED_LOGS.with_borrow_mut(|captured| {
            if let Some(captured) = captured {
                captured.extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Log output of the current thread, as formatted text, until it drops.
///
/// One global subscriber serves every thread. A subscriber set per thread
/// with `set_default` would miss events, because tracing caches each
/// callsite's interest process-wide, and a test thread without a subscriber
/// that reaches a callsite first caches it as disabled.
struct LogCapture;

impl LogCapture {
    fn start() -> Self {
        static GLOBAL_SUBSCRIBER: Once = Once::new();
        GLOBAL_SUBSCRIBER.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(|| ThreadLogWriter)
                .with_max_level(tracing::Level::DEBUG)
                .with_ansi(false)
                .without_time()
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in this test binary");
        });
        CAPTURED_LOGS.with_borrow_mut(|captured| *captured = Some(Vec::new()));
        LogCapture
    }

    /// Lines logged at `level` ("WARN", "INFO", …).
    fn lines_at(&self, level: &str) -> Vec<String> {
        let prefix = format!("{level} ");
        CAPTURED_LOGS.with_borrow(|captured| {
            let text = String::from_utf8_lossy(captured.as_deref().unwrap_or_default());
            text.lines()
                .filter(|line| line.trim_start().starts_with(&prefix))
                .map(str::to_owned)
                .collect()
        })
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURED_LOGS.with_borrow_mut(|captured| *captured = None);
    }
}

#[test]
fn failing_desktop_tried_once_then_fallback() {
    // A current-thread runtime driven by this thread runs the worker here,
    // so the log capture of this thread receives its messages.
    let logs = LogCapture::start();
    let runtime = current_thread_runtime();
    let backend = Arc::new(FailingBackend::default());
    let (notifier, mut state) = Notifier::start(runtime.handle(), backend.clone());

    for index in 0..50 {
        notifier.send(notice(index));
    }
    let last = runtime.block_on(wait_for_state(&mut state, "50 fallback notices", |state| {
        fallback_count(state) == 50
    }));

    assert_eq!(backend.calls.load(Ordering::SeqCst), 1);
    assert_eq!(unavailable_reason(&last), "no session bus");
    let fallback = last.fallback.expect("fallback notice");
    assert_eq!(fallback.summary, "notice 49");
    assert_eq!(fallback.body, "body 49");
    assert_eq!(last.dropped, 0);
    let warnings = logs.lines_at("WARN");
    assert_eq!(warnings.len(), 1, "warnings: {warnings:?}");
    assert!(warnings[0].contains("no session bus"), "{}", warnings[0]);
}

#[test]
fn failing_desktop_backoff_doubles() {
    let logs = LogCapture::start();
    let runtime = current_thread_runtime();
    let backend = Arc::new(FailingBackend::default());
    let policy = Policy {
        first_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(10),
        ..Policy::default()
    };
    let (notifier, mut state) =
        Notifier::start_with_policy(runtime.handle(), backend.clone(), policy);

    runtime.block_on(async {
        notifier.send(notice(0));
        let first = wait_for_state(&mut state, "the first failure", |state| {
            fallback_count(state) == 1
        })
        .await;
        sleep_past_retry(&first).await;

        notifier.send(notice(1));
        let second = wait_for_state(&mut state, "the second failure", |state| {
            fallback_count(state) == 2
        })
        .await;

        assert_eq!(backend.calls.load(Ordering::SeqCst), 2);
        let DesktopState::Unavailable { retry_at, .. } = second.desktop else {
            panic!("desktop should be unavailable, is {:?}", second.desktop);
        };
        // The worker sets the retry time just before it stamps the fallback
        // notice, so their gap is the pause, doubled from 200 ms to 400 ms.
        let failed_at = second.fallback.expect("fallback notice").at;
        let pause = retry_at.duration_since(failed_at);
        assert!(pause > SignedDuration::from_millis(300), "{pause:?}");
        assert!(pause <= SignedDuration::from_millis(400), "{pause:?}");
    });

    // Only the first failure of a series is a warning.
    let warnings = logs.lines_at("WARN");
    assert_eq!(warnings.len(), 1, "warnings: {warnings:?}");
    let debugs = logs.lines_at("DEBUG");
    assert!(
        debugs.iter().any(|line| line.contains("still unavailable")),
        "debug lines: {debugs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_desktop_times_out_without_blocking() {
    let backend = Arc::new(HangingBackend::default());
    let handle = tokio::runtime::Handle::current();
    let (notifier, mut state) = Notifier::start(&handle, backend.clone());

    let started = Instant::now();
    notifier.send(notice(0));
    let send_took = started.elapsed();
    let unavailable =
        wait_for_state(&mut state, "the desktop call to time out", is_unavailable).await;
    let timed_out_after = started.elapsed();
    eprintln!("send took {send_took:?}; state unavailable after {timed_out_after:?}");

    // Far below the 2 s timeout, so `send` did not wait for the desktop.
    assert!(send_took < Duration::from_millis(500), "{send_took:?}");
    assert!(
        unavailable_reason(&unavailable).contains("timed out"),
        "{unavailable:?}"
    );
    assert_eq!(unavailable.fallback.map(|fallback| fallback.count), Some(1));

    let started = Instant::now();
    for index in 1..6 {
        notifier.send(notice(index));
    }
    let sends_took = started.elapsed();
    let later = wait_for_state(&mut state, "6 fallback notices", |state| {
        fallback_count(state) == 6
    })
    .await;

    assert!(sends_took < Duration::from_millis(500), "{sends_took:?}");
    assert_eq!(backend.calls.load(Ordering::SeqCst), 1);
    let fallback = later.fallback.expect("fallback notice");
    assert_eq!(fallback.summary, "notice 5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_call_blocks_retry_after_backoff() {
    let backend = Arc::new(HangingBackend::default());
    let handle = tokio::runtime::Handle::current();
    let (notifier, mut state) =
        Notifier::start_with_policy(&handle, backend.clone(), short_policy());

    notifier.send(notice(0));
    let first = wait_for_state(&mut state, "the desktop call to time out", is_unavailable).await;
    sleep_past_retry(&first).await;

    notifier.send(notice(1));
    let second = wait_for_state(&mut state, "the retry to be skipped", |state| {
        fallback_count(state) == 2
    })
    .await;

    assert_eq!(backend.calls.load(Ordering::SeqCst), 1);
    assert!(
        unavailable_reason(&second).contains("has not returned"),
        "{second:?}"
    );
}

#[test]
fn desktop_recovery_resets_backoff() {
    let logs = LogCapture::start();
    let runtime = current_thread_runtime();
    let backend = Arc::new(RecordingBackend::failing_first(1));
    let (notifier, mut state) =
        Notifier::start_with_policy(runtime.handle(), backend.clone(), short_policy());

    runtime.block_on(async {
        notifier.send(notice(0));
        let failed = wait_for_state(&mut state, "the first call to fail", is_unavailable).await;
        sleep_past_retry(&failed).await;

        notifier.send(notice(1));
        let recovered = wait_for_state(&mut state, "the desktop to work again", |state| {
            state.desktop == DesktopState::Working
        })
        .await;

        assert_eq!(backend.calls.load(Ordering::SeqCst), 2);
        assert_eq!(backend.shown(), [notice(1)]);
        assert_eq!(fallback_count(&recovered), 1);
    });

    let warnings = logs.lines_at("WARN");
    assert_eq!(warnings.len(), 1, "warnings: {warnings:?}");
    let infos = logs.lines_at("INFO");
    assert_eq!(infos.len(), 1, "infos: {infos:?}");
    assert!(infos[0].contains("work again"), "{}", infos[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn working_desktop_gets_no_fallback() {
    let backend = Arc::new(RecordingBackend::default());
    let handle = tokio::runtime::Handle::current();
    let (notifier, mut state) = Notifier::start(&handle, backend.clone());
    let alarm = Notice {
        summary: "P1 alarm".into(),
        body: "Building 1 <east door> forced".into(),
        urgent: true,
    };

    notifier.send(alarm.clone());
    let working = wait_for_state(&mut state, "the desktop to work", |state| {
        state.desktop == DesktopState::Working
    })
    .await;

    assert_eq!(working.fallback, None);
    assert_eq!(working.dropped, 0);
    assert_eq!(backend.shown(), [alarm]);
}

#[test]
fn full_queue_drops_and_counts() {
    // The runtime is not driven until the end, as when no worker is free:
    // `send` must still return at once.
    let runtime = current_thread_runtime();
    let backend = Arc::new(RecordingBackend::default());
    let policy = Policy {
        queue_capacity: 4,
        ..Policy::default()
    };
    let (notifier, mut state) =
        Notifier::start_with_policy(runtime.handle(), backend.clone(), policy);

    for index in 0..10 {
        notifier.send(notice(index));
    }

    assert_eq!(state.borrow().dropped, 6);
    assert_eq!(backend.calls.load(Ordering::SeqCst), 0);

    runtime.block_on(wait_for_state(&mut state, "the desktop to work", |state| {
        state.desktop == DesktopState::Working
    }));
    runtime.block_on(async {
        tokio::time::timeout(STATE_DEADLINE, async {
            while backend.shown().len() < 4 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the 4 queued notices to be shown");
    });

    let summaries: Vec<String> = backend
        .shown()
        .into_iter()
        .map(|notice| notice.summary)
        .collect();
    assert_eq!(summaries, ["notice 0", "notice 1", "notice 2", "notice 3"]);
}

#[test]
fn disabled_notifier_uses_fallback() {
    let (notifier, state) = Notifier::disabled();
    let alarm = Notice {
        summary: "P1 alarm".into(),
        body: "east door forced".into(),
        urgent: true,
    };

    notifier.send(notice(0));
    notifier.send(alarm);

    let state = state.borrow().clone();
    assert_eq!(state.desktop, DesktopState::Disabled);
    let fallback = state.fallback.expect("fallback notice");
    assert_eq!(fallback.count, 2);
    assert_eq!(fallback.summary, "P1 alarm");
    assert_eq!(fallback.body, "east door forced");
    assert!(fallback.urgent);
}

#[test]
fn stopped_worker_sends_to_fallback() {
    let runtime = current_thread_runtime();
    let backend = Arc::new(RecordingBackend::default());
    let (notifier, state) = Notifier::start(runtime.handle(), backend.clone());
    drop(runtime);

    notifier.send(notice(0));

    assert_eq!(fallback_count(&state.borrow()), 1);
    assert_eq!(backend.calls.load(Ordering::SeqCst), 0);
}

/// Runs `desktop_backend_child` in a child process whose session bus address
/// points to a missing socket. The environment is changed only there, because
/// tests in this binary share one process environment.
#[test]
fn desktop_backend_without_bus() {
    let test_binary = std::env::current_exe().expect("path of the test binary");

    let output = Command::new(test_binary)
        .args([
            "desktop_backend_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", MISSING_BUS)
        .env(CHILD_MARKER, "1")
        .output()
        .expect("running the test binary");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "child failed with {}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("1 passed"),
        "child ran no test:\n{stdout}\n{stderr}"
    );
}

#[test]
#[ignore = "run by desktop_backend_without_bus in a child process"]
fn desktop_backend_child() {
    if std::env::var_os(CHILD_MARKER).is_none() {
        eprintln!("{CHILD_MARKER} is not set; this test runs only as a child process");
        return;
    }
    assert_eq!(
        std::env::var("DBUS_SESSION_BUS_ADDRESS").as_deref(),
        Ok(MISSING_BUS)
    );

    let started = Instant::now();
    let direct = DesktopBackend.show(&notice(0));
    eprintln!(
        "DesktopBackend::show without a bus returned after {:?}: {direct:?}",
        started.elapsed()
    );
    assert!(direct.is_err(), "{direct:?}");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("building a tokio runtime");
    let (notifier, mut state) = Notifier::desktop(runtime.handle());
    let started = Instant::now();
    notifier.send(notice(1));
    let unavailable = runtime.block_on(wait_for_state(
        &mut state,
        "the desktop to be unavailable",
        is_unavailable,
    ));
    eprintln!(
        "notifier state unavailable after {:?}: {:?}",
        started.elapsed(),
        unavailable.desktop
    );

    let fallback = unavailable.fallback.expect("fallback notice");
    assert_eq!(fallback.summary, "notice 1");
    assert_eq!(fallback.count, 1);
}
