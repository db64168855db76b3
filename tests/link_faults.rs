//! The broker link under network faults, with a recorder in this process, a
//! real mosquitto on 127.0.0.1 and a real SQLite file:
//!
//! - a connection that goes silent without closing must be noticed through
//!   the MQTT keep-alive, and the link must recover when traffic flows again;
//! - a listener that accepts TCP and never sends a byte must time out each
//!   attempt and be retried with backoff, not in a storm;
//! - a broker that is down for 5 s or 60 s while the guard keeps acting must
//!   lose no event and publish every action once, in order, when it returns;
//! - an action written on a silent connection must still be published when
//!   the broker has restarted without the recorder's session meanwhile.
//!
//! The recorder reaches the broker through a TCP proxy in this file, which
//! can stop forwarding without closing anything, or close every new
//! connection at once.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use guardroom::config::{self, Config};
use guardroom::domain::alarm::{Action, ActionKind, Disposition, Refusal};
use guardroom::i18n::Lang;
use guardroom::ingest::{LinkState, LinkStatus};
use guardroom::recorder::Recorder;
use guardroom::store::Store;
use rusqlite::{Connection, OpenFlags, params};
use serde_json::Value;
use support::{
    Broker, DEADLINE, Publisher, Subscriber, TestDevice, config_toml, unique_client_id, wait_for,
};
use tempfile::TempDir;
use tokio::sync::watch;
use uuid::Uuid;

const SITE: &str = "linkfaults";

/// Polling interval of the proxy and listener threads.
const SOCKET_POLL: Duration = Duration::from_millis(20);

fn topic(tail: &str) -> String {
    format!("gr/v1/{SITE}/{tail}")
}

// ---------------------------------------------------------------------------
// A TCP proxy with a switch
// ---------------------------------------------------------------------------

/// What the proxy does with traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Copies bytes both ways. A close on one side closes the other.
    Forward,
    /// Moves no byte in either direction and closes nothing, like a cable
    /// cut somewhere between two routers. New connections are accepted and
    /// held the same way.
    Stall,
    /// Accepts each new connection and closes it at once.
    Close,
}

/// One client connection and, when forwarded, its upstream connection.
struct Pair {
    client: TcpStream,
    upstream: Option<TcpStream>,
    /// Set when the proxy stalls. From then on no byte passes.
    stuck: AtomicBool,
    closed: AtomicBool,
}

impl Pair {
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _ = self.client.shutdown(Shutdown::Both);
        if let Some(upstream) = &self.upstream {
            let _ = upstream.shutdown(Shutdown::Both);
        }
    }
}

struct ProxyState {
    mode: Mode,
    pairs: Vec<Arc<Pair>>,
}

struct ProxyShared {
    upstream_port: u16,
    state: Mutex<ProxyState>,
    stop: AtomicBool,
    accepted: AtomicUsize,
}

/// A TCP proxy on a free 127.0.0.1 port in front of a local broker port.
struct Proxy {
    port: u16,
    shared: Arc<ProxyShared>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    fn start(upstream_port: u16) -> Self {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding the proxy's port");
        listener
            .set_nonblocking(true)
            .expect("making the proxy's listener non-blocking");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(ProxyShared {
            upstream_port,
            state: Mutex::new(ProxyState {
                mode: Mode::Forward,
                pairs: Vec::new(),
            }),
            stop: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
        });
        let accepting = Arc::clone(&shared);
        let thread = std::thread::spawn(move || accept_loop(&listener, &accepting));
        Self {
            port,
            shared,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Counts the connections accepted so far.
    fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Stops all traffic through open and new connections, closing none.
    fn stall(&self) {
        let mut state = self.shared.state.lock().unwrap();
        state.mode = Mode::Stall;
        for pair in &state.pairs {
            pair.stuck.store(true, Ordering::SeqCst);
        }
    }

    /// Forwards new connections again and closes those that stalled,
    /// because their peers have given up on them by now.
    fn forward(&self) {
        let mut state = self.shared.state.lock().unwrap();
        state.mode = Mode::Forward;
        for pair in &state.pairs {
            if pair.stuck.load(Ordering::SeqCst) {
                pair.close();
            }
        }
        state
            .pairs
            .retain(|pair| !pair.closed.load(Ordering::SeqCst));
    }

    /// Closes every new connection as soon as it is accepted.
    fn close_new_connections(&self) {
        self.shared.state.lock().unwrap().mode = Mode::Close;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        for pair in &self.shared.state.lock().unwrap().pairs {
            pair.close();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<ProxyShared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                let _ = client.set_nonblocking(false);
                open_pair(client, shared);
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(SOCKET_POLL);
            }
            Err(error) => panic!("the proxy's accept failed: {error}"),
        }
    }
}

/// Connects a new client to the upstream port according to the mode.
fn open_pair(client: TcpStream, shared: &Arc<ProxyShared>) {
    let mut state = shared.state.lock().unwrap();
    match state.mode {
        Mode::Close => drop(client),
        Mode::Stall => state.pairs.push(Arc::new(Pair {
            client,
            upstream: None,
            stuck: AtomicBool::new(true),
            closed: AtomicBool::new(false),
        })),
        Mode::Forward => {
            // A local connect either succeeds or is refused at once.
            let Ok(upstream) = TcpStream::connect((Ipv4Addr::LOCALHOST, shared.upstream_port))
            else {
                return;
            };
            let pair = Arc::new(Pair {
                client: client.try_clone().expect("duplicating the client socket"),
                upstream: Some(
                    upstream
                        .try_clone()
                        .expect("duplicating the upstream socket"),
                ),
                stuck: AtomicBool::new(false),
                closed: AtomicBool::new(false),
            });
            state.pairs.push(Arc::clone(&pair));
            let back = Arc::clone(&pair);
            let client_read = client.try_clone().expect("duplicating the client socket");
            let upstream_read = upstream
                .try_clone()
                .expect("duplicating the upstream socket");
            std::thread::spawn(move || pump(client_read, upstream, &pair));
            std::thread::spawn(move || pump(upstream_read, client, &back));
        }
    }
}

/// Copies bytes from `from` to `to` until either side closes or the pair is
/// closed. While the pair is stuck, the pump reads nothing.
fn pump(mut from: TcpStream, mut to: TcpStream, pair: &Pair) {
    from.set_read_timeout(Some(SOCKET_POLL))
        .expect("setting the proxy's read timeout");
    let mut buffer = [0_u8; 16 * 1024];
    while !pair.closed.load(Ordering::SeqCst) {
        if pair.stuck.load(Ordering::SeqCst) {
            std::thread::sleep(SOCKET_POLL);
            continue;
        }
        match from.read(&mut buffer) {
            Ok(0) => break,
            // Bytes read just as the switch turned are never delivered.
            Ok(_) if pair.stuck.load(Ordering::SeqCst) => {}
            Ok(read) => {
                if to.write_all(&buffer[..read]).is_err() {
                    break;
                }
            }
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    if !pair.stuck.load(Ordering::SeqCst) {
        pair.close();
    }
}

// ---------------------------------------------------------------------------
// A listener that accepts and never sends a byte
// ---------------------------------------------------------------------------

/// Accepts TCP connections on a free 127.0.0.1 port, never writes a byte and
/// keeps every connection open, recording when each one arrived.
struct MuteListener {
    port: u16,
    started: Instant,
    arrivals: Arc<Mutex<Vec<Duration>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MuteListener {
    fn start() -> Self {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding the listener's port");
        listener
            .set_nonblocking(true)
            .expect("making the listener non-blocking");
        let port = listener.local_addr().expect("listener address").port();
        let started = Instant::now();
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let arrivals = Arc::clone(&arrivals);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut held = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            arrivals.lock().unwrap().push(started.elapsed());
                            held.push(stream);
                        }
                        Err(error) if error.kind() == ErrorKind::WouldBlock => {
                            std::thread::sleep(SOCKET_POLL);
                        }
                        Err(error) => panic!("the mute listener's accept failed: {error}"),
                    }
                }
            })
        };
        Self {
            port,
            started,
            arrivals,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Times of the connections accepted so far, from the listener's start.
    fn arrivals(&self) -> Vec<Duration> {
        self.arrivals.lock().unwrap().clone()
    }
}

impl Drop for MuteListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------
// A recorder in this process
// ---------------------------------------------------------------------------

fn detector(id: &str, class: &'static str) -> TestDevice {
    TestDevice {
        id: id.into(),
        name: id.into(),
        kind: "detector",
        class: Some(class),
    }
}

/// Builds a test configuration for `broker_url` with some `[broker]` keys
/// set to other values than the shared test configuration uses.
fn config(broker_url: &str, broker_keys: &[(&str, u64)]) -> Config {
    let devices = [
        detector("smoke-1", "smoke"),
        detector("leak-1", "water_leak"),
        TestDevice::door("door-1"),
    ];
    let mut text = config_toml(SITE, broker_url, &unique_client_id("gr-links"), &devices);
    for (key, value) in broker_keys {
        let prefix = format!("{key} = ");
        assert!(
            text.lines().any(|line| line.starts_with(&prefix)),
            "the shared test configuration has no `{key}` line to change:\n{text}"
        );
        text = text
            .lines()
            .map(|line| {
                if line.starts_with(&prefix) {
                    format!("{prefix}{value}\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
    }
    config::load_str(&text, "test.toml", Path::new("."), Lang::En).expect("test config is valid")
}

struct Harness {
    recorder: Recorder,
    link: watch::Receiver<LinkState>,
    rejected: Arc<Mutex<Vec<(Uuid, Refusal)>>>,
    database: PathBuf,
    _dir: TempDir,
}

impl Harness {
    fn start(config: &Config, runtime: &tokio::runtime::Runtime) -> Self {
        let dir = tempfile::tempdir().expect("creating the database folder");
        let database = dir.path().join("guardroom.db");
        let (link_tx, link) = watch::channel(LinkState::default());
        let rejected = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&rejected);
        let on_commit = Box::new(move |delta: guardroom::domain::projection::Delta| {
            seen.lock().unwrap().extend(delta.refused);
        });
        let recorder = Recorder::start(
            config,
            database.clone(),
            link_tx,
            Some(on_commit),
            runtime.handle(),
        )
        .expect("the recorder starts");
        Self {
            recorder,
            link,
            rejected,
            database,
            _dir: dir,
        }
    }

    fn status(&self) -> LinkStatus {
        self.link.borrow().status.clone()
    }

    fn is_online(&self) -> bool {
        matches!(self.status(), LinkStatus::Online { .. })
    }

    fn wait_online(&self, what: &str, timeout: Duration) {
        wait_for(what, timeout, || self.is_online().then_some(()));
    }

    /// Submits an action as the guard at console `duty-1` and returns its id.
    fn submit(&self, alarm: u64, kind: ActionKind, remark: &str) -> Uuid {
        let action = Action {
            id: Uuid::new_v4(),
            alarm: Some(alarm),
            kind,
            operator: "值班员".into(),
            role: "guard".into(),
            console: "duty-1".into(),
            via_ssh: false,
            remark: remark.into(),
        };
        let id = action.id;
        (self.recorder.submitter())(action).expect("the recorder takes the action");
        id
    }

    /// Waits until the action is in the event log, failing at once if the
    /// recorder rejected it.
    fn wait_committed(&self, action: Uuid) {
        wait_for(&format!("action {action} in the log"), DEADLINE, || {
            if let Some((_, refusal)) = self
                .rejected
                .lock()
                .unwrap()
                .iter()
                .find(|(id, _)| *id == action)
            {
                panic!("the recorder rejected action {action}: {refusal}");
            }
            (count_actions(&self.database, action) > 0).then_some(())
        });
    }

    fn wait_event(&self, device: &str, event_id: &str) {
        wait_for(
            &format!("event {event_id} of {device} in the log"),
            DEADLINE,
            || (count_device_events(&self.database, device, event_id) > 0).then_some(()),
        );
    }

    /// Waits for an open alarm from `source` and returns its number.
    fn wait_open_alarm(&self, source: &str) -> u64 {
        wait_for(&format!("an open alarm from {source}"), DEADLINE, || {
            let store = Store::open_read_only(&self.database).ok()?;
            let book = store.load_alarms().ok()?;
            book.open
                .values()
                .find(|alarm| alarm.source == source)
                .map(|alarm| alarm.id)
        })
    }

    fn stop(self, runtime: &tokio::runtime::Runtime) {
        runtime.block_on(self.recorder.stop());
    }
}

// ---------------------------------------------------------------------------
// Queries on the database
// ---------------------------------------------------------------------------

fn open(database: &Path) -> Connection {
    let connection = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("opening the database read-only");
    connection
        .busy_timeout(Duration::from_secs(5))
        .expect("setting the busy timeout");
    connection
}

/// Counts the rows of the event log for the device event `event_id`.
fn count_device_events(database: &Path, device: &str, event_id: &str) -> i64 {
    open(database)
        .query_row(
            "SELECT COUNT(*) FROM events WHERE kind = 'device_event_raised'
             AND device = ?1 AND json_extract(body, '$.event_id') = ?2",
            params![device, event_id],
            |row| row.get(0),
        )
        .expect("counting device events")
}

/// Counts the rows of the event log for the operator action `id`.
fn count_actions(database: &Path, id: Uuid) -> i64 {
    open(database)
        .query_row(
            "SELECT COUNT(*) FROM events WHERE kind = 'alarm_acted'
             AND json_extract(body, '$.action.id') = ?1",
            params![id.to_string()],
            |row| row.get(0),
        )
        .expect("counting actions")
}

/// Counts the alarms raised for `source`, e.g. `ext:lift-3`.
fn count_raised(database: &Path, source: &str) -> i64 {
    open(database)
        .query_row(
            "SELECT COUNT(*) FROM events WHERE kind = 'alarm_raised'
             AND json_extract(body, '$.raise.source') = ?1",
            params![source],
            |row| row.get(0),
        )
        .expect("counting raised alarms")
}

fn last_seq(database: &Path) -> i64 {
    open(database)
        .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |row| {
            row.get(0)
        })
        .expect("reading the last event number")
}

/// Returns `online` of each link event after `seq`, oldest first.
fn link_events_after(database: &Path, seq: i64) -> Vec<bool> {
    let connection = open(database);
    let mut statement = connection
        .prepare(
            "SELECT json_extract(body, '$.online') FROM events
             WHERE kind = 'link_changed' AND seq > ?1 ORDER BY seq",
        )
        .expect("preparing the link query");
    statement
        .query_map([seq], |row| row.get::<_, bool>(0))
        .expect("reading link events")
        .collect::<Result<_, _>>()
        .expect("reading link events")
}

fn unsent(database: &Path) -> i64 {
    Store::open_read_only(database)
        .expect("opening the database")
        .unsent_count()
        .expect("counting unsent messages")
}

// ---------------------------------------------------------------------------
// What the devices publish
// ---------------------------------------------------------------------------

/// Publishes an event with the id `event_id` and waits for the broker's PUBACK.
fn publish_event(publisher: &mut Publisher, device: &str, kind: &str, event_id: &str) {
    let payload = format!(r#"{{"v":1,"id":"{event_id}","type":"{kind}","text":"{event_id}"}}"#);
    publisher.publish(&topic(&format!("evt/{device}")), payload, false);
    publisher.flush();
}

/// Publishes a retained alarm record owned by another system.
fn publish_record(publisher: &mut Publisher, id: &str, text: &str) {
    let record = format!(r#"{{"v":1,"priority":"P2","text":"{text}","zone":"3号楼"}}"#);
    publisher.publish(&topic(&format!("alarm/{id}")), record, true);
    publisher.flush();
}

/// Receives `count` messages and returns the `id` of each, in arrival order.
fn receive_action_ids(subscriber: &Subscriber, count: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(count);
    while ids.len() < count {
        let Some((topic_seen, payload)) = subscriber.next(DEADLINE) else {
            panic!(
                "{} of {count} actions published within {DEADLINE:?}: {ids:?}",
                ids.len()
            );
        };
        assert_eq!(topic_seen, topic("console/duty-1/act"));
        let message: Value = serde_json::from_slice(&payload).expect("the action payload is JSON");
        let id = message["id"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok())
            .unwrap_or_else(|| panic!("action without a UUID id: {message}"));
        ids.push(id);
    }
    ids
}

/// Asserts that no further message arrives within a second, so that a
/// second copy of an action would have been seen.
fn assert_no_more(subscriber: &Subscriber) {
    if let Some((topic_seen, payload)) = subscriber.next(Duration::from_secs(1)) {
        panic!(
            "unexpected extra message on {topic_seen}: {}",
            String::from_utf8_lossy(&payload)
        );
    }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

/// Maximum time from the moment the connection goes silent until the link
/// leaves Online, with a keep-alive of 5 s. rumqttc 0.25.1 sends a PINGREQ
/// every keep-alive period and drops the connection when the previous
/// PINGREQ got no PINGRESP, so detection takes 1 to 2 periods.
const SILENT_DETECTION_MAX: Duration = Duration::from_secs(15);

#[test]
fn silent_link_detected_and_recovered() {
    let broker = Broker::start_new();
    let proxy = Proxy::start(broker.port());
    let config = config(&proxy.url(), &[("keep_alive_s", 5)]);
    assert_eq!(config.broker.keep_alive_s, 5);
    let runtime = guardroom::cli::console::runtime();
    let recorder = Harness::start(&config, &runtime);
    recorder.wait_online("the link to come online", DEADLINE);
    let actions = Subscriber::connect(broker.port(), &topic("console/+/act"));
    let mut publisher = Publisher::connect(broker.port());

    publish_event(&mut publisher, "smoke-1", "smoke", "before-stall");
    recorder.wait_event("smoke-1", "before-stall");
    let alarm = recorder.wait_open_alarm("smoke-1");
    let seq_before = last_seq(&recorder.database);
    let accepted_before = proxy.accepted();

    // The keep-alive timer starts at the CONNACK, a fraction of a second
    // before this point, so the detection time measured is close to the
    // worst case of 2 periods.
    proxy.stall();
    let stalled_at = Instant::now();
    // The guard acts before anything can tell that the link is dead. A
    // device reports meanwhile, and the broker keeps that event in the
    // recorder's session.
    let action = recorder.submit(alarm, ActionKind::Acknowledge, "");
    publish_event(&mut publisher, "smoke-1", "smoke", "during-stall");

    let (detected, seen) = wait_for("the link to leave Online", DEADLINE, || {
        let status = recorder.status();
        (!matches!(status, LinkStatus::Online { .. })).then(|| (stalled_at.elapsed(), status))
    });
    println!("silent link: left Online {detected:.2?} after the switch; status {seen:?}");
    assert!(
        detected < SILENT_DETECTION_MAX,
        "the link stayed Online for {detected:?} on a silent connection (keep-alive {} s)",
        config.broker.keep_alive_s
    );

    // Reconnecting through the silent path must fail too, by the connect
    // timeout, and not look online.
    let (retried, offline) =
        wait_for(
            "a failed reconnect through the stall",
            DEADLINE,
            || match recorder.status() {
                LinkStatus::Offline {
                    attempt, reason, ..
                } if attempt >= 2 => Some((stalled_at.elapsed(), reason)),
                _ => None,
            },
        );
    println!("silent link: reconnect attempt failed {retried:.2?} after the switch: {offline}");
    assert!(
        proxy.accepted() > accepted_before,
        "the recorder tried to reconnect through the proxy"
    );
    assert!(
        !recorder.is_online(),
        "no connection succeeded while stalled"
    );

    proxy.forward();
    let resumed_at = Instant::now();
    recorder.wait_online("the link to come back online", DEADLINE);
    println!(
        "silent link: online again {:.2?} after forwarding resumed",
        resumed_at.elapsed()
    );

    publish_event(&mut publisher, "smoke-1", "smoke", "after-stall");
    recorder.wait_event("smoke-1", "after-stall");
    recorder.wait_event("smoke-1", "during-stall");
    for event_id in ["before-stall", "during-stall", "after-stall"] {
        assert_eq!(
            count_device_events(&recorder.database, "smoke-1", event_id),
            1,
            "event {event_id} stored exactly once"
        );
    }

    let published = receive_action_ids(&actions, 1);
    assert_eq!(
        published,
        vec![action],
        "the action taken on the dead link is published after it recovers"
    );
    wait_for("the outbox to empty", DEADLINE, || {
        (unsent(&recorder.database) == 0).then_some(())
    });
    assert_eq!(count_actions(&recorder.database, action), 1);
    assert_no_more(&actions);
    assert_eq!(
        link_events_after(&recorder.database, seq_before),
        vec![false, true],
        "the log records the drop and the return once each"
    );
    recorder.stop(&runtime);
}

#[test]
fn in_flight_action_survives_lost_session() {
    let mut broker = Broker::start_new();
    let proxy = Proxy::start(broker.port());
    let config = config(&proxy.url(), &[]);
    let runtime = guardroom::cli::console::runtime();
    let recorder = Harness::start(&config, &runtime);
    recorder.wait_online("the link to come online", DEADLINE);
    let mut publisher = Publisher::connect(broker.port());
    publish_event(&mut publisher, "smoke-1", "smoke", "before-loss");
    let alarm = recorder.wait_open_alarm("smoke-1");
    drop(publisher);

    // The action goes out on a connection that no longer reaches the
    // broker, and the broker then restarts without the recorder's session.
    proxy.stall();
    let action = recorder.submit(alarm, ActionKind::Acknowledge, "");
    recorder.wait_committed(action);
    assert!(recorder.is_online(), "the silent link still looks online");
    broker.stop();
    broker.start();
    let actions = Subscriber::connect(broker.port(), &topic("console/+/act"));
    proxy.forward();
    let resumed_at = Instant::now();

    recorder.wait_online("the link to come back online", DEADLINE);
    let session_present = recorder.link.borrow().session_present;
    assert_eq!(
        session_present,
        Some(false),
        "the restarted broker had no session for the recorder"
    );
    let published = receive_action_ids(&actions, 1);
    println!(
        "lost session: action published {:.2?} after the link resumed",
        resumed_at.elapsed()
    );
    assert_eq!(published, vec![action]);
    wait_for("the outbox to empty", DEADLINE, || {
        (unsent(&recorder.database) == 0).then_some(())
    });
    assert_no_more(&actions);
    recorder.stop(&runtime);
}

#[test]
fn mute_broker_retried_with_backoff() {
    const WINDOW: Duration = Duration::from_secs(10);
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
    const RETRY_MAX: Duration = Duration::from_secs(4);

    let listener = MuteListener::start();
    let config = config(
        &listener.url(),
        &[
            ("connect_timeout_s", CONNECT_TIMEOUT.as_secs()),
            ("retry_max_s", RETRY_MAX.as_secs()),
        ],
    );
    assert_eq!(config.broker.connect_timeout_s, 1);
    assert_eq!(config.broker.retry_max_s, 4);
    let runtime = guardroom::cli::console::runtime();
    let recorder = Harness::start(&config, &runtime);

    // Every Offline status seen during the window must name a reason and a
    // retry no later than the backoff cap allows.
    let mut offline_seen = Vec::new();
    while listener.started.elapsed() < WINDOW {
        let now = jiff::Timestamp::now();
        let status = recorder.status();
        assert!(
            !matches!(status, LinkStatus::Online { .. }),
            "online with a broker that never sent a CONNACK"
        );
        if let LinkStatus::Offline {
            attempt,
            retry_at,
            ref reason,
            ..
        } = status
        {
            assert!(!reason.trim().is_empty(), "offline without a reason");
            let wait = retry_at.duration_since(now).as_secs_f64();
            assert!(
                wait <= RETRY_MAX.as_secs_f64() + 0.1,
                "retry {wait:.2} s ahead, over the {RETRY_MAX:?} cap"
            );
            if offline_seen
                .last()
                .is_none_or(|(seen, _): &(u32, String)| *seen != attempt)
            {
                offline_seen.push((attempt, reason.clone()));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let arrivals: Vec<Duration> = listener
        .arrivals()
        .into_iter()
        .filter(|at| *at < WINDOW)
        .collect();
    let last_status = recorder.status();
    recorder.stop(&runtime);

    let gaps: Vec<Duration> = arrivals.windows(2).map(|pair| pair[1] - pair[0]).collect();
    println!(
        "mute broker: {} connection attempts in {WINDOW:?} at {arrivals:.2?}; gaps {gaps:.2?}",
        arrivals.len()
    );
    println!("mute broker: offline statuses seen {offline_seen:?}; last {last_status:?}");
    assert!(
        !offline_seen.is_empty(),
        "the link never reported Offline in {WINDOW:?}"
    );
    assert!(
        arrivals.len() >= 2,
        "only {} attempts in {WINDOW:?}: the link stopped retrying",
        arrivals.len()
    );
    assert!(
        arrivals.len() <= 8,
        "{} attempts in {WINDOW:?}: a reconnect storm",
        arrivals.len()
    );
    // Each gap is the connect timeout plus a backoff delay that doubles from
    // 1 s up to the cap and is then scaled by a jitter factor in [0.5, 1).
    for gap in &gaps {
        assert!(
            *gap >= CONNECT_TIMEOUT,
            "attempts only {gap:?} apart, less than the connect timeout: {arrivals:?}"
        );
        assert!(
            *gap <= CONNECT_TIMEOUT + RETRY_MAX + Duration::from_millis(500),
            "attempts {gap:?} apart, more than the connect timeout and the cap: {arrivals:?}"
        );
    }
    let longest = gaps.iter().max().copied().unwrap_or_default();
    assert!(
        longest >= CONNECT_TIMEOUT + RETRY_MAX / 2,
        "the delay never grew toward the {RETRY_MAX:?} cap: gaps {gaps:?}"
    );
    let reported = offline_seen.last().map_or(0, |(attempt, _)| *attempt) as usize;
    assert!(
        arrivals.len().abs_diff(reported) <= 1,
        "the link reported {reported} failed attempts, the listener saw {}",
        arrivals.len()
    );
}

#[test]
fn broker_down_5s_loses_nothing() {
    broker_outage(Duration::from_secs(5));
}

#[test]
fn broker_down_60s_loses_nothing() {
    broker_outage(Duration::from_secs(60));
}

/// Stops the broker for `outage` while the guard acts on three alarms, and
/// checks that nothing published while it was up is lost or doubled.
fn broker_outage(outage: Duration) {
    let test_started = Instant::now();
    let mut broker = Broker::start_new();
    // The proxy keeps the recorder out after the restart until the test's
    // subscriber listens, so that no action can go out unseen.
    let proxy = Proxy::start(broker.port());
    let config = config(&proxy.url(), &[]);
    let runtime = guardroom::cli::console::runtime();
    let recorder = Harness::start(&config, &runtime);
    recorder.wait_online("the link to come online", DEADLINE);
    let database = recorder.database.clone();

    let mut publisher = Publisher::connect(broker.port());
    publish_record(&mut publisher, "lift-3", "电梯困人");
    publish_event(&mut publisher, "smoke-1", "smoke", "pre-1");
    publish_event(&mut publisher, "leak-1", "water_leak", "pre-2");
    publish_event(&mut publisher, "smoke-1", "smoke", "pre-3");
    recorder.wait_event("smoke-1", "pre-1");
    recorder.wait_event("leak-1", "pre-2");
    recorder.wait_event("smoke-1", "pre-3");
    let smoke = recorder.wait_open_alarm("smoke-1");
    let leak = recorder.wait_open_alarm("leak-1");
    let lift = recorder.wait_open_alarm("ext:lift-3");
    drop(publisher);

    broker.stop();
    let down_at = Instant::now();
    wait_for("the link to go offline", DEADLINE, || {
        matches!(recorder.status(), LinkStatus::Offline { .. }).then_some(())
    });
    println!(
        "outage {outage:?}: link offline {:.2?} after the broker was killed",
        down_at.elapsed()
    );

    // Half of the actions at the start of the outage, half in its middle,
    // after the link has gone through several retries.
    let mut submitted = Vec::new();
    for (alarm, kind, remark) in [
        (smoke, ActionKind::Acknowledge, ""),
        (leak, ActionKind::Acknowledge, ""),
        (lift, ActionKind::Acknowledge, ""),
    ] {
        let id = recorder.submit(alarm, kind, remark);
        recorder.wait_committed(id);
        submitted.push(id);
    }
    // This wait is the outage itself, not a wait for an outcome.
    std::thread::sleep((outage / 2).saturating_sub(down_at.elapsed()));
    for (alarm, kind, remark) in [
        (smoke, ActionKind::Remark, "已到现场，烟雾来自厨房"),
        (
            leak,
            ActionKind::Close {
                disposition: Disposition::Genuine,
            },
            "水管已关阀",
        ),
        (lift, ActionKind::Remark, "已通知物业维修"),
    ] {
        let id = recorder.submit(alarm, kind, remark);
        recorder.wait_committed(id);
        submitted.push(id);
    }
    assert_eq!(
        unsent(&database),
        submitted.len() as i64,
        "every action waits in the outbox"
    );
    assert!(!recorder.is_online(), "online while the broker is down");
    std::thread::sleep(outage.saturating_sub(down_at.elapsed()));

    proxy.close_new_connections();
    broker.start();
    let up_at = Instant::now();
    let actions = Subscriber::connect(broker.port(), &topic("console/+/act"));
    // A retained record published before the recorder is back reaches it
    // when it subscribes again, whether or not the broker kept its session.
    let mut publisher = Publisher::connect(broker.port());
    publish_record(&mut publisher, "gate-2", "道闸故障");
    proxy.forward();
    recorder.wait_online("the link to come back online", DEADLINE);
    println!(
        "outage {outage:?}: broker down {:.2?}, link online {:.2?} after the restart",
        up_at - down_at,
        up_at.elapsed()
    );

    let published = receive_action_ids(&actions, submitted.len());
    println!(
        "outage {outage:?}: {} actions published {:.2?} after the restart",
        published.len(),
        up_at.elapsed()
    );
    assert_eq!(
        published, submitted,
        "the actions are published in the order they were taken"
    );
    wait_for("the outbox to empty", DEADLINE, || {
        (unsent(&database) == 0).then_some(())
    });

    recorder.wait_open_alarm("ext:gate-2");
    publish_event(&mut publisher, "smoke-1", "smoke", "post-1");
    publish_event(&mut publisher, "leak-1", "water_leak", "post-2");
    recorder.wait_event("smoke-1", "post-1");
    recorder.wait_event("leak-1", "post-2");

    for (device, event_id) in [
        ("smoke-1", "pre-1"),
        ("leak-1", "pre-2"),
        ("smoke-1", "pre-3"),
        ("smoke-1", "post-1"),
        ("leak-1", "post-2"),
    ] {
        assert_eq!(
            count_device_events(&database, device, event_id),
            1,
            "event {event_id} of {device} stored exactly once"
        );
    }
    for source in ["ext:lift-3", "ext:gate-2"] {
        assert_eq!(
            count_raised(&database, source),
            1,
            "alarm record {source} raised exactly once"
        );
    }
    for id in &submitted {
        assert_eq!(count_actions(&database, *id), 1, "action {id} logged once");
    }
    assert_no_more(&actions);
    recorder.stop(&runtime);
    println!(
        "outage {outage:?}: test took {:.1?}",
        test_started.elapsed()
    );
}
