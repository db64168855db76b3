//! Crashes and damaged files, with the real `guardroom` binary on a real
//! SQLite file and a real mosquitto broker. `guardroom serve` is killed with
//! SIGKILL again and again under load, and once under two attached consoles.
//! Serve also starts on empty, random and truncated database files.

mod support;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use guardroom::domain::alarm::{Action, ActionKind, Alarm, Disposition};
use guardroom::domain::{Event, EventBody};
use guardroom::store::{Batch, Store};
use jiff::Timestamp;
use rumqttc::{Client, MqttOptions, Packet, QoS};
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use support::tmux::{Tmux, console_line, quit};
use support::{
    Broker, DEADLINE, Home, Publisher, Running, Subscriber, TestDevice, config_toml,
    unique_client_id, wait_for,
};

/// The quit confirmation on an English console.
const QUIT_QUESTION: &str = "Quit the guardroom console?";
use uuid::Uuid;

const SITE: &str = "crashsite";

fn topic(tail: &str) -> String {
    format!("gr/v1/{SITE}/{tail}")
}

fn smoke_detector(id: &str) -> TestDevice {
    TestDevice {
        id: id.to_owned(),
        name: format!("Lobby smoke {id}"),
        kind: "detector",
        class: Some("smoke"),
    }
}

/// Writes a configuration for `console_id` with the broker session
/// `client_id`. Every process on one database shares the session, so that
/// a console taking over recording finds the messages queued for it.
fn write_config(
    home: &Home,
    file: &str,
    broker: &Broker,
    client_id: &str,
    console_id: &str,
    devices: &[TestDevice],
) -> PathBuf {
    let text = config_toml(SITE, &broker.url(), client_id, devices).replacen(
        "[console]\n",
        &format!("[console]\nid = \"{console_id}\"\n"),
        1,
    );
    let path = home.path().join(file);
    std::fs::write(&path, text).expect("writing the configuration");
    path
}

/// Starts `guardroom serve`; its output goes to `NAME.stdout` and `NAME.stderr`.
fn serve(home: &Home, name: &str, config: &Path, database: &Path) -> Running {
    home.spawn(
        name,
        &[
            "serve",
            "--config",
            config.to_str().expect("config path is UTF-8"),
            "--db",
            database.to_str().expect("database path is UTF-8"),
        ],
    )
}

fn stderr_of(home: &Home, name: &str) -> String {
    std::fs::read_to_string(home.path().join(format!("{name}.stderr"))).unwrap_or_default()
}

/// Waits until serve `name` has opened its database and printed that it records.
fn wait_recording(home: &Home, name: &str, serve: &mut Running) {
    wait_for(
        &format!("{name} to report that it records"),
        DEADLINE,
        || {
            serve.assert_running();
            stderr_of(home, name)
                .contains("recording to ")
                .then_some(())
        },
    );
}

/// Kills `serve` with SIGKILL by its PID, as the OOM killer or a power cut
/// would, and reaps it.
fn kill_hard(mut serve: Running) {
    serve.assert_running();
    let pid = serve.pid().to_string();
    let sent = Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .expect("running kill");
    assert!(sent.success(), "kill -KILL {pid} failed with {sent}");
    // Dropping the handle waits for the killed process.
    drop(serve);
}

fn read_only(database: &Path) -> Connection {
    let connection = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|error| panic!("opening {}: {error}", database.display()));
    connection
        .busy_timeout(Duration::from_secs(5))
        .expect("setting the busy timeout");
    connection
}

/// Runs `PRAGMA integrity_check` on a connection of its own and returns
/// its rows, which are exactly `ok` for a sound file.
fn integrity_check(database: &Path) -> String {
    let connection = read_only(database);
    let mut statement = connection
        .prepare("PRAGMA integrity_check")
        .expect("preparing integrity_check");
    let rows = statement
        .query_map([], |row| row.get::<_, String>(0))
        .expect("running integrity_check");
    rows.map(|row| row.expect("reading integrity_check"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn link_online(database: &Path) -> bool {
    Store::open_read_only(database)
        .ok()
        .and_then(|store| store.load_projection().ok())
        .and_then(|(projection, _)| projection.link)
        .is_some_and(|link| link.online)
}

fn unsent(database: &Path) -> i64 {
    Store::open_read_only(database)
        .and_then(|store| store.unsent_count())
        .unwrap_or(-1)
}

/// Returns the first row of a one-number query.
fn count(connection: &Connection, sql: &str) -> i64 {
    connection
        .query_row(sql, [], |row| row.get(0))
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// Publishes one smoke event with `id` until the recorder has stored it:
/// proof that its subscription is in place, so the broker keeps what comes
/// next for its session.
fn probe_until_stored(broker: &Broker, database: &Path, device: &str, id: &str) {
    let mut publisher = Publisher::connect(broker.port());
    let key = format!("evt:{device}:{id}");
    wait_for(
        &format!("probe event {id} in the database"),
        DEADLINE,
        || {
            publisher.publish(
                &topic(&format!("evt/{device}")),
                format!(r#"{{"v":1,"id":"{id}","type":"smoke"}}"#),
                false,
            );
            publisher.flush();
            Store::open_read_only(database)
                .ok()?
                .has_dedupe_key(&key)
                .ok()?
                .then_some(())
        },
    );
}

// ---------------------------------------------------------------------------
// SIGKILL of the recorder under load

/// Smoke detectors the load generator publishes on.
const DETECTORS: [&str; 4] = ["smoke-1", "smoke-2", "smoke-3", "smoke-4"];

/// Recorder kills in one run.
const KILLS: usize = 20;

/// Messages per second from the load generator, events and states together.
const LOAD_RATE: u32 = 50;

/// What the load generator published, and which of it the broker confirmed.
struct Load {
    /// (device, event id) of every smoke event, in publish order.
    events: Vec<(String, String)>,
    /// Ids of the events the broker confirmed with a PUBACK.
    confirmed: HashSet<String>,
    states: usize,
    states_confirmed: usize,
}

/// Shared between the publishing thread and the thread reading the
/// connection: each publish is labelled in order, with the event id or
/// `None` for a state, and its packet id is matched to the PUBACK.
#[derive(Default)]
struct Acks {
    labels: VecDeque<Option<String>>,
    confirmed: HashSet<String>,
    states_confirmed: usize,
    error: Option<String>,
}

/// A thread publishing smoke events and detector states at `LOAD_RATE`
/// with QoS 1 until stopped.
struct LoadGenerator {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Load>>,
}

impl LoadGenerator {
    fn start(port: u16) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || generate(port, &stopping));
        Self {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops publishing and waits for the broker to confirm what was sent.
    fn finish(mut self) -> Load {
        self.stop.store(true, Ordering::SeqCst);
        let thread = self.thread.take().expect("load generator is running");
        thread.join().expect("the load generator panicked")
    }
}

impl Drop for LoadGenerator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn generate(port: u16, stop: &AtomicBool) -> Load {
    let mut options = MqttOptions::new(unique_client_id("gr-crash-load"), "127.0.0.1", port);
    options.set_clean_session(true);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut connection) = Client::new(options, 1_000);
    let acks = Arc::new(Mutex::new(Acks::default()));

    let reader_acks = Arc::clone(&acks);
    let reader = std::thread::spawn(move || {
        let mut in_flight: HashMap<u16, Option<String>> = HashMap::new();
        for event in connection.iter() {
            let mut acks = reader_acks.lock().expect("acks lock");
            match event {
                Ok(rumqttc::Event::Outgoing(rumqttc::Outgoing::Publish(pkid))) => {
                    let label = acks.labels.pop_front().flatten();
                    in_flight.insert(pkid, label);
                }
                Ok(rumqttc::Event::Incoming(Packet::PubAck(ack))) => {
                    match in_flight.remove(&ack.pkid) {
                        Some(Some(id)) => {
                            acks.confirmed.insert(id);
                        }
                        Some(None) => acks.states_confirmed += 1,
                        None => {}
                    }
                }
                Ok(rumqttc::Event::Outgoing(rumqttc::Outgoing::Disconnect)) => break,
                Ok(_) => {}
                Err(error) => {
                    // The broker runs throughout, so a dropped connection
                    // is a failure of the test set-up, not of the recorder.
                    acks.error = Some(error.to_string());
                    break;
                }
            }
        }
    });

    let period = Duration::from_secs(1) / LOAD_RATE;
    let mut events = Vec::new();
    let mut states = 0;
    let mut next = Instant::now();
    let mut sequence = 0usize;
    while !stop.load(Ordering::SeqCst) {
        let device = DETECTORS[sequence % DETECTORS.len()];
        // Every tenth message is a state change of a detector, alternating
        // between alarm and normal.
        let (label, topic, payload, retain) = if sequence % 10 == 9 {
            let state = if (sequence / 10).is_multiple_of(2) {
                "alarm"
            } else {
                "normal"
            };
            states += 1;
            (
                None,
                topic(&format!("dev/{device}/state")),
                format!(r#"{{"v":1,"state":"{state}","battery":90}}"#),
                true,
            )
        } else {
            let id = format!("load-{sequence}");
            events.push((device.to_owned(), id.clone()));
            (
                Some(id.clone()),
                topic(&format!("evt/{device}")),
                format!(r#"{{"v":1,"id":"{id}","type":"smoke","text":"smoke in the lobby"}}"#),
                false,
            )
        };
        acks.lock().expect("acks lock").labels.push_back(label);
        if let Err(error) = client.publish(topic, QoS::AtLeastOnce, retain, payload) {
            acks.lock().expect("acks lock").error = Some(error.to_string());
            break;
        }
        sequence += 1;
        next += period;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }

    let confirmed_all = |acks: &Acks| {
        acks.error.is_some()
            || (acks.confirmed.len() == events.len() && acks.states_confirmed == states)
    };
    let start = Instant::now();
    while !confirmed_all(&acks.lock().expect("acks lock")) && start.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = client.disconnect();
    let _ = reader.join();
    let mut acks = acks.lock().expect("acks lock");
    if let Some(error) = acks.error.take() {
        panic!("the load generator's connection failed: {error}");
    }
    Load {
        events,
        confirmed: std::mem::take(&mut acks.confirmed),
        states,
        states_confirmed: acks.states_confirmed,
    }
}

/// Acts on open alarms the way an attached console does: each action goes
/// into the `requests` table, fully synced, for the recorder to take.
struct Operator {
    store: Store,
    console: String,
    /// Every action written, in order.
    written: Vec<Action>,
}

impl Operator {
    fn new(database: &Path, console: &str) -> Self {
        Self {
            store: Store::open(database).expect("opening the database for requests"),
            console: console.to_owned(),
            written: Vec::new(),
        }
    }

    /// Picks an open alarm from the database and hands in an action that
    /// fits its recorded state. The recorder may still reject it, since the
    /// state can change before it takes the request.
    fn act(&mut self, database: &Path, rng: &mut fastrand::Rng) {
        let Some(book) = Store::open_read_only(database)
            .ok()
            .and_then(|store| store.load_alarms().ok())
        else {
            return;
        };
        let open: Vec<&Alarm> = book.open.values().collect();
        if open.is_empty() {
            return;
        }
        let alarm = open[rng.usize(..open.len())];
        let kind = if !alarm.acknowledged {
            ActionKind::Acknowledge
        } else if alarm.latched && rng.bool() {
            ActionKind::Reset
        } else if !alarm.latched && rng.u8(..3) == 0 {
            ActionKind::Close {
                disposition: Disposition::Test,
            }
        } else {
            ActionKind::Remark
        };
        let action = Action {
            id: Uuid::new_v4(),
            alarm: Some(alarm.id),
            kind,
            operator: "guard".into(),
            role: "guard".into(),
            console: self.console.clone(),
            via_ssh: false,
            remark: "checked on camera".into(),
        };
        self.store
            .request(&action, Timestamp::now())
            .expect("handing in a request");
        self.written.push(action);
    }
}

/// Reads the subscriber until `done` holds for what it received or the
/// deadline passes. Then it takes what is still on its way, so that late
/// duplicates are counted too.
fn collect_messages(
    subscriber: &Subscriber,
    received: &mut Vec<(String, Value)>,
    done: impl Fn(&[(String, Value)]) -> bool,
) {
    let start = Instant::now();
    while !done(received) && start.elapsed() < DEADLINE {
        if let Some((topic, payload)) = subscriber.next(Duration::from_millis(100)) {
            received.push((topic, parse_json(&payload)));
        }
    }
    while let Some((topic, payload)) = subscriber.next(Duration::from_millis(500)) {
        received.push((topic, parse_json(&payload)));
    }
}

fn parse_json(payload: &[u8]) -> Value {
    serde_json::from_slice(payload).unwrap_or_else(|error| {
        panic!(
            "payload is not JSON ({error}): {}",
            String::from_utf8_lossy(payload)
        )
    })
}

#[test]
fn serve_killed_repeatedly_loses_nothing() {
    let run_started = Instant::now();
    let seed = fastrand::u64(..);
    eprintln!("random seed {seed}");
    let mut rng = fastrand::Rng::with_seed(seed);

    let broker = Broker::start_new();
    let home = Home::new();
    let devices: Vec<TestDevice> = DETECTORS.iter().map(|id| smoke_detector(id)).collect();
    let client_id = unique_client_id("gr-crash");
    let config = write_config(&home, "serve.toml", &broker, &client_id, "desk", &devices);
    let database = home.path().join("crash.sqlite");
    let actions = Subscriber::connect(broker.port(), &topic("console/+/act"));

    let mut name = "serve-0".to_owned();
    let mut current = serve(&home, &name, &config, &database);
    wait_recording(&home, &name, &mut current);
    probe_until_stored(&broker, &database, DETECTORS[0], "probe-0");

    let load = LoadGenerator::start(broker.port());
    let mut operator = Operator::new(&database, "duty-2");
    let mut kills = 0;
    let mut restart_times = Vec::new();
    let mut next_kill = Instant::now() + Duration::from_millis(rng.u64(300..2_000));
    let mut next_act = Instant::now();
    while kills < KILLS {
        let now = Instant::now();
        if now >= next_kill {
            kill_hard(current);
            kills += 1;
            let restarted = Instant::now();
            name = format!("serve-{kills}");
            current = serve(&home, &name, &config, &database);
            wait_recording(&home, &name, &mut current);
            restart_times.push(restarted.elapsed());
            let check = integrity_check(&database);
            assert_eq!(check, "ok", "integrity_check after kill {kills}");
            next_kill = Instant::now() + Duration::from_millis(rng.u64(300..2_000));
            continue;
        }
        if now >= next_act {
            operator.act(&database, &mut rng);
            next_act = now + Duration::from_millis(rng.u64(50..150));
        }
        std::thread::sleep(
            next_kill
                .min(next_act)
                .saturating_duration_since(Instant::now()),
        );
    }
    let load = load.finish();
    let load_ended = Instant::now();

    // The last recorder drains: every confirmed event stored, every request
    // settled and every action confirmed by the broker.
    let expected_keys: HashSet<String> = load
        .events
        .iter()
        .filter(|(_, id)| load.confirmed.contains(id))
        .map(|(device, id)| format!("evt:{device}:{id}"))
        .collect();
    let drained = {
        let start = Instant::now();
        loop {
            let connection = read_only(&database);
            let stored = stored_event_keys(&connection);
            let pending = count(
                &connection,
                "SELECT COUNT(*) FROM requests WHERE state = 'pending'",
            );
            let unsent = count(
                &connection,
                "SELECT COUNT(*) FROM outbox WHERE sent_ms IS NULL",
            );
            if expected_keys.is_subset(&stored) && pending == 0 && unsent == 0 {
                break true;
            }
            if start.elapsed() > DEADLINE {
                break false;
            }
            current.assert_running();
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let drain_time = load_ended.elapsed();
    let output = current.output();
    let status = current.terminate();
    assert!(
        status.success(),
        "the last serve exited with {status}\n{output}"
    );

    // Everything is read first and the figures printed, so that a failing
    // run reports them too.
    let connection = read_only(&database);
    let stored = stored_event_keys(&connection);
    let device_events = count(
        &connection,
        "SELECT COUNT(*) FROM events WHERE kind = 'device_event_raised'",
    );
    let duplicate_keys = count(
        &connection,
        "SELECT COUNT(*) FROM (SELECT dedupe_key FROM events WHERE dedupe_key IS NOT NULL
         GROUP BY dedupe_key HAVING COUNT(*) > 1)",
    );
    let duplicate_device_events = count(
        &connection,
        "SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE kind = 'device_event_raised'
         GROUP BY json_extract(body, '$.device'), json_extract(body, '$.event_id')
         HAVING COUNT(*) > 1)",
    );
    let requests = requests_by_action(&connection);
    let applied: HashSet<String> = requests
        .iter()
        .filter(|(_, (state, _))| state == "applied")
        .map(|(id, _)| id.clone())
        .collect();
    let acted = acted_counts(&connection);
    let outbox = published_actions(&connection);
    let outbox_ids: HashSet<String> = outbox.keys().cloned().collect();
    let mut received = Vec::new();
    collect_messages(&actions, &mut received, |received| {
        let seen: HashSet<&str> = received
            .iter()
            .filter_map(|(_, message)| message["id"].as_str())
            .collect();
        outbox_ids.iter().all(|id| seen.contains(id.as_str()))
    });
    let mut copies: HashMap<String, usize> = HashMap::new();
    for (_, message) in &received {
        let id = message["id"].as_str().unwrap_or_default();
        *copies.entry(id.to_owned()).or_default() += 1;
    }
    let wire_duplicates: usize = copies.values().map(|copies| copies - 1).sum();

    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    for (state, reason) in requests.values() {
        if state == "refused" {
            let reason = reason.clone().unwrap_or_default();
            *refusals.entry(reason).or_default() += 1;
        }
    }
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for action in &operator.written {
        if applied.contains(&action.id.to_string()) {
            *kinds.entry(action.kind.as_str()).or_default() += 1;
        }
    }
    let slowest_restart = restart_times.iter().max().copied().unwrap_or_default();
    eprintln!(
        "kills: {kills}; slowest restart to 'recording': {slowest_restart:?}\n\
         events published {} (confirmed {}), states published {} (confirmed {}), \
         device events stored {device_events}\n\
         requests {}: applied {} {kinds:?}, refused {}\n\
         refusals: {refusals:?}\n\
         actions on the wire {} for {} ids: {wire_duplicates} duplicates\n\
         drain after the load stopped {drain_time:?}, run time {:?}",
        load.events.len(),
        load.confirmed.len(),
        load.states,
        load.states_confirmed,
        requests.len(),
        applied.len(),
        requests.len() - applied.len(),
        received.len(),
        copies.len(),
        run_started.elapsed(),
    );

    // Events: every one the broker confirmed is stored, and none twice.
    assert_eq!(
        load.confirmed.len(),
        load.events.len(),
        "the broker confirmed every event published"
    );
    assert_eq!(
        load.states_confirmed, load.states,
        "the broker confirmed every state published"
    );
    let missing: Vec<&String> = expected_keys.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} confirmed events missing from the events table (drained: {drained}): {:?}",
        missing.len(),
        missing.iter().take(20).collect::<Vec<_>>()
    );
    assert_eq!(duplicate_keys, 0, "no dedupe key is stored twice");
    assert_eq!(
        duplicate_device_events, 0,
        "no device event is stored twice under its device and event id"
    );
    // The probe is the one device event outside the load.
    assert_eq!(
        device_events as usize,
        load.events.len() + 1,
        "one stored event per published event id"
    );

    // Requests: all settled, each applied one logged once and published.
    assert_eq!(
        requests.len(),
        operator.written.len(),
        "one request row per action handed in"
    );
    let unsettled: Vec<&String> = requests
        .iter()
        .filter(|(_, (state, _))| state != "applied" && state != "refused")
        .map(|(id, _)| id)
        .collect();
    assert!(unsettled.is_empty(), "requests not settled: {unsettled:?}");
    for id in &applied {
        assert_eq!(
            acted.get(id).copied().unwrap_or(0),
            1,
            "applied action {id} is logged once as alarm_acted"
        );
    }
    for (id, times) in &acted {
        assert!(
            applied.contains(id),
            "alarm_acted {id} ({times}×) belongs to an applied request"
        );
    }
    assert_eq!(
        outbox_ids, applied,
        "every applied action, and nothing else, is in the outbox"
    );
    let unconfirmed: Vec<&String> = outbox
        .iter()
        .filter(|(_, sent)| !**sent)
        .map(|(id, _)| id)
        .collect();
    assert!(
        unconfirmed.is_empty(),
        "actions the broker never confirmed: {unconfirmed:?}"
    );

    // The wire: each confirmed action reached the subscriber at least once,
    // on the topic of the console that took it.
    for (topic_seen, message) in &received {
        assert_eq!(
            topic_seen,
            &topic("console/duty-2/act"),
            "actions go to the topic of the console that took them: {message}"
        );
    }
    for id in &outbox_ids {
        assert!(
            copies.contains_key(id),
            "action {id} confirmed by the broker never reached the subscriber"
        );
    }
    for id in copies.keys() {
        assert!(
            outbox_ids.contains(id),
            "action {id:?} on the wire is not in the outbox"
        );
    }

    assert_eq!(
        integrity_check(&database),
        "ok",
        "integrity_check at the end"
    );
}

fn stored_event_keys(connection: &Connection) -> HashSet<String> {
    let mut statement = connection
        .prepare("SELECT dedupe_key FROM events WHERE kind = 'device_event_raised'")
        .expect("preparing the event query");
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .expect("reading events")
        .map(|key| key.expect("reading a dedupe key"))
        .collect()
}

/// Returns the state and reason of every request, by action id.
fn requests_by_action(connection: &Connection) -> HashMap<String, (String, Option<String>)> {
    let mut statement = connection
        .prepare("SELECT action_id, state, reason FROM requests")
        .expect("preparing the request query");
    statement
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, (row.get(1)?, row.get(2)?)))
        })
        .expect("reading requests")
        .map(|row| row.expect("reading a request"))
        .collect()
}

/// Counts the `alarm_acted` events per action id.
fn acted_counts(connection: &Connection) -> HashMap<String, i64> {
    let mut statement = connection
        .prepare(
            "SELECT json_extract(body, '$.action.id'), COUNT(*) FROM events
             WHERE kind = 'alarm_acted' GROUP BY 1",
        )
        .expect("preparing the action query");
    statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))
        .expect("reading actions")
        .map(|row| row.expect("reading an action"))
        .collect()
}

/// Returns whether the broker confirmed each action in the outbox, by
/// action id. Escalations on the supervisor topic are left out.
fn published_actions(connection: &Connection) -> HashMap<String, bool> {
    let mut statement = connection
        .prepare("SELECT payload, sent_ms IS NOT NULL FROM outbox WHERE topic LIKE '%/act'")
        .expect("preparing the outbox query");
    statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))
        .expect("reading the outbox")
        .map(|row| {
            let (payload, sent) = row.expect("reading an outbox row");
            let message = parse_json(payload.as_bytes());
            let id = message["id"].as_str().expect("the action has an id");
            (id.to_owned(), sent)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Two attached consoles and serve on one database

/// Returns the queue row of the alarm on `name`: the line that starts with
/// its priority (after the `!` of an unacknowledged row), not the notice
/// banner that names the alarm too.
fn alarm_row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|line| line.contains(name) && line.trim_start_matches(['!', ' ']).starts_with("P1 "))
}

fn row_shows(screen: &str, name: &str, state: &str) -> bool {
    // Spaces around the state, so that "acked" does not match "unacked".
    alarm_row(screen, name).is_some_and(|row| row.contains(&format!(" {state} ")))
}

#[test]
fn consoles_take_over_killed_serve() {
    let broker = Broker::start_new();
    let home = Home::new();
    let detector = TestDevice {
        id: "smoke-7".into(),
        name: "B7 lobby smoke".into(),
        kind: "detector",
        class: Some("smoke"),
    };
    let name = detector.name.clone();
    let devices = [detector];
    let client_id = unique_client_id("gr-two");
    let serve_config = write_config(&home, "serve.toml", &broker, &client_id, "desk", &devices);
    let first_config = write_config(&home, "first.toml", &broker, &client_id, "duty-1", &devices);
    let second_config = write_config(
        &home,
        "second.toml",
        &broker,
        &client_id,
        "duty-2",
        &devices,
    );
    let database = home.path().join("shared.sqlite");
    let actions = Subscriber::connect(broker.port(), &topic("console/+/act"));

    let mut recorder = serve(&home, "serve", &serve_config, &database);
    wait_recording(&home, "serve", &mut recorder);
    wait_for("serve online", DEADLINE, || {
        recorder.assert_running();
        link_online(&database).then_some(())
    });

    let tmux = Tmux::new(&home);
    tmux.start(
        "first",
        &console_line(&home, &first_config, &database, "en", &[]),
    );
    tmux.start(
        "second",
        &console_line(&home, &second_config, &database, "en", &[]),
    );
    for session in ["first", "second"] {
        tmux.wait_within(session, "the attached role", DEADLINE, |screen| {
            screen.contains("attached")
        });
    }

    // Published until stored, since serve's subscription may lag its
    // recorded connection; the event id makes the repeats one event.
    probe_until_stored(&broker, &database, "smoke-7", "evt-1");
    for session in ["first", "second"] {
        tmux.wait_within(session, "the unacknowledged alarm", DEADLINE, |screen| {
            row_shows(screen, &name, "unacked")
        });
    }

    // Acknowledged on the first console; the second follows the file.
    tmux.keys("first", &["a"]);
    let second_took = tmux.wait_within(
        "second",
        "the acknowledged alarm",
        Duration::from_secs(3),
        |screen| row_shows(screen, &name, "to reset"),
    );
    tmux.wait_within("first", "the acknowledged alarm", DEADLINE, |screen| {
        row_shows(screen, &name, "to reset")
    });
    eprintln!(
        "acknowledgement from the first console shown on the second {second_took:?} after the key"
    );

    let (ack_topic, ack) = actions
        .next(DEADLINE)
        .expect("the acknowledgement is published");
    let ack = parse_json(&ack);
    assert_eq!(
        ack_topic,
        topic("console/duty-1/act"),
        "on the first console's topic"
    );
    assert_eq!(ack["action"], "acknowledge", "{ack}");
    // Confirmed before the kill, so a second copy would be a fault.
    wait_for(
        "the acknowledgement confirmed by the broker",
        DEADLINE,
        || (unsent(&database) == 0).then_some(()),
    );

    kill_hard(recorder);
    let killed = Instant::now();
    let (recorder_session, other) = wait_for(
        "a console to take over recording",
        Duration::from_secs(10),
        || {
            let first = tmux.screen("first");
            let second = tmux.screen("second");
            if !first.contains("attached") && first.contains("recorder") {
                Some(("first", "second"))
            } else if !second.contains("attached") && second.contains("recorder") {
                Some(("second", "first"))
            } else {
                None
            }
        },
    );
    let takeover = killed.elapsed();
    eprintln!("{recorder_session} took over recording {takeover:?} after serve was killed");
    let other_screen = tmux.screen(other);
    assert!(
        other_screen.contains("attached"),
        "{other} stays attached:\n{other_screen}"
    );

    // Reset from the console that stayed attached: handed to the new
    // recorder through the database, published once.
    let other_console = if other == "first" { "duty-1" } else { "duty-2" };
    tmux.keys(other, &["r"]);
    for session in ["first", "second"] {
        tmux.wait_within(session, "the reset alarm", DEADLINE, |screen| {
            row_shows(screen, &name, "acked")
        });
    }
    let (reset_topic, reset) = actions.next(DEADLINE).expect("the reset is published");
    let reset = parse_json(&reset);
    assert_eq!(
        reset_topic,
        topic(&format!("console/{other_console}/act")),
        "on the topic of the console that took it"
    );
    assert_eq!(reset["action"], "reset", "{reset}");
    wait_for("the reset confirmed by the broker", DEADLINE, || {
        (unsent(&database) == 0).then_some(())
    });
    let extra = actions.next(Duration::from_millis(500));
    assert!(
        extra.is_none(),
        "each action published once; also got {:?}",
        extra.map(|(topic, payload)| (topic, String::from_utf8_lossy(&payload).into_owned()))
    );

    quit(&tmux, other, QUIT_QUESTION);
    quit(&tmux, recorder_session, QUIT_QUESTION);

    let connection = read_only(&database);
    let duplicate_keys = count(
        &connection,
        "SELECT COUNT(*) FROM (SELECT dedupe_key FROM events WHERE dedupe_key IS NOT NULL
         GROUP BY dedupe_key HAVING COUNT(*) > 1)",
    );
    assert_eq!(duplicate_keys, 0, "no dedupe key is stored twice");
    let acted = acted_counts(&connection);
    assert_eq!(acted.len(), 2, "two actions logged: {acted:?}");
    for (name, message) in [("acknowledgement", &ack), ("reset", &reset)] {
        let id = message["id"].as_str().expect("the action has an id");
        assert_eq!(
            acted.get(id).copied(),
            Some(1),
            "the {name} {id} is logged once"
        );
    }
    // Both consoles were attached when they acted, so both actions went
    // through the requests table.
    let requests = requests_by_action(&connection);
    assert_eq!(requests.len(), 2, "two requests: {requests:?}");
    for (name, message) in [("acknowledgement", &ack), ("reset", &reset)] {
        let id = message["id"].as_str().expect("the action has an id");
        let (state, reason) = requests
            .get(id)
            .unwrap_or_else(|| panic!("the {name} {id} was handed in as a request"));
        assert_eq!(
            state, "applied",
            "the {name} request is applied ({reason:?})"
        );
    }
    assert_eq!(
        count(
            &connection,
            "SELECT COUNT(*) FROM events WHERE kind = 'device_event_raised'"
        ),
        1,
        "the smoke event is stored once"
    );
}

// ---------------------------------------------------------------------------
// Empty, random and truncated database files at start

/// Starts serve on `database` and waits until it is online, which shows
/// that it opened a database and keeps running.
fn serve_until_online(home: &Home, broker: &Broker, database: &Path) -> Running {
    let config = home.write_config(SITE, &broker.url(), &[smoke_detector("smoke-1")]);
    let mut running = serve(home, "serve", &config, database);
    wait_recording(home, "serve", &mut running);
    wait_for("serve online on the database", DEADLINE, || {
        running.assert_running();
        link_online(database).then_some(())
    });
    running
}

/// Returns the files beside `database` whose names start with its name
/// followed by `.unreadable-`, leaving out their `-wal` and `-shm` files.
fn moved_files(database: &Path) -> Vec<PathBuf> {
    let dir = database.parent().expect("the database is in a folder");
    let prefix = format!(
        "{}.unreadable-",
        database.file_name().unwrap().to_string_lossy()
    );
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("listing the database folder")
        .map(|entry| entry.expect("reading the folder").path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(&prefix) && !name.ends_with("-wal") && !name.ends_with("-shm")
        })
        .collect();
    found.sort();
    found
}

fn tables(database: &Path) -> Vec<String> {
    let connection = read_only(database);
    let mut statement = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("preparing the table query");
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .expect("listing tables")
        .map(|name| name.expect("reading a table name"))
        .collect()
}

/// Checks the fresh database serve created in place of a damaged one.
fn assert_fresh_schema(database: &Path) {
    let tables = tables(database);
    for table in ["events", "devices", "alarms", "outbox", "requests", "meta"] {
        assert!(
            tables.iter().any(|name| name == table),
            "the fresh database has the {table} table: {tables:?}"
        );
    }
    assert_eq!(
        integrity_check(database),
        "ok",
        "the fresh database is sound"
    );
}

/// Starts serve on a damaged file and checks that the file is moved aside
/// unchanged and named on stderr and in the log, and that serve runs on.
fn assert_moved_aside_and_running(damaged: &[u8], case: &str) {
    let broker = Broker::start_new();
    let home = Home::new();
    let database = home.path().join("site.sqlite");
    std::fs::write(&database, damaged).expect("writing the damaged file");

    let mut running = serve_until_online(&home, &broker, &database);

    let moved = moved_files(&database);
    assert_eq!(moved.len(), 1, "{case}: one file moved aside: {moved:?}");
    let moved = &moved[0];
    let moved_bytes = std::fs::read(moved).expect("reading the moved file");
    assert!(
        moved_bytes == damaged,
        "{case}: the moved file keeps its bytes ({} bytes, {} before)",
        moved_bytes.len(),
        damaged.len()
    );
    let stderr = stderr_of(&home, "serve");
    assert!(
        stderr.contains(&moved.display().to_string()),
        "{case}: stderr names where the file went:\n{stderr}"
    );
    assert!(
        stderr.contains(&database.display().to_string()),
        "{case}: stderr names the database:\n{stderr}"
    );
    let logs = home.path().join("state").join("guardroom").join("logs");
    wait_for(
        &format!("{case}: the log to name the moved file"),
        DEADLINE,
        || {
            let entries = std::fs::read_dir(&logs).ok()?;
            entries
                .flatten()
                .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
                .any(|text| text.contains(&moved.display().to_string()))
                .then_some(())
        },
    );
    assert_fresh_schema(&database);

    let status = home.status_json(&database);
    assert_eq!(
        status["recorder_running"],
        Value::Bool(true),
        "{case}: serve keeps running on the fresh database: {status}"
    );
    running.assert_running();
    let output = running.output();
    let exit = running.terminate();
    assert!(exit.success(), "{case}: serve exited with {exit}\n{output}");
    eprintln!("{case}: moved to {}", moved.display());
}

#[test]
fn zero_length_database_starts_fresh() {
    let broker = Broker::start_new();
    let home = Home::new();
    let database = home.path().join("empty.sqlite");
    std::fs::write(&database, b"").expect("creating the empty file");

    let mut running = serve_until_online(&home, &broker, &database);
    let stderr = stderr_of(&home, "serve");
    assert!(
        !stderr.contains("moved to"),
        "an empty file is a new database, not a damaged one:\n{stderr}"
    );
    assert!(moved_files(&database).is_empty(), "nothing moved aside");
    assert_fresh_schema(&database);
    let status = home.status_json(&database);
    assert_eq!(status["recorder_running"], Value::Bool(true), "{status}");
    assert_eq!(status["link"]["state"], "online", "{status}");

    let output = running.output();
    let exit = running.terminate();
    assert!(exit.success(), "serve exited with {exit}\n{output}");
}

#[test]
fn random_bytes_database_moved_aside() {
    let seed = fastrand::u64(..);
    eprintln!("random seed {seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut bytes = vec![0u8; 64 * 1024];
    rng.fill(&mut bytes);

    // `status` only reads: it must report the file and leave it alone.
    let home = Home::new();
    let database = home.path().join("random.sqlite");
    std::fs::write(&database, &bytes).expect("writing the random file");
    let output = home.run(&["status", "--db", database.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "status fails on a file that is not a database"
    );
    assert!(
        stderr.contains(&database.display().to_string()),
        "status names the file: {stderr}"
    );
    assert_eq!(
        std::fs::read(&database).expect("reading the file"),
        bytes,
        "status leaves the file as it was"
    );
    assert!(moved_files(&database).is_empty(), "status moves nothing");

    assert_moved_aside_and_running(&bytes, "random bytes");
}

#[test]
fn truncated_database_moved_aside() {
    // A real database with thousands of events over many pages, closed
    // cleanly so that all of it is in the main file.
    let dir = tempfile::tempdir().expect("creating a temporary folder");
    let original = dir.path().join("original.sqlite");
    {
        let mut store = Store::open(&original).expect("creating the database");
        for chunk in 0..10 {
            let events = (0..500)
                .map(|index| {
                    Event::new(
                        Timestamp::now(),
                        EventBody::DeviceEventRaised {
                            device: "smoke-1".into(),
                            event_id: format!("old-{chunk}-{index}"),
                            event: "smoke".into(),
                            text: Some("smoke in the lobby, floor 3, near the lift".repeat(3)),
                            source_ts: None,
                        },
                    )
                })
                .collect();
            store
                .commit(&Batch {
                    events,
                    ..Batch::default()
                })
                .expect("committing events");
        }
    }

    let whole = std::fs::read(&original).expect("reading the database");
    let wal = PathBuf::from(format!("{}-wal", original.display()));
    let wal_bytes = std::fs::metadata(&wal).map_or(0, |meta| meta.len());
    assert_eq!(wal_bytes, 0, "the database was checkpointed on close");

    // Cut in the middle, near the end, and by the last page alone. The page
    // size is the big-endian number at byte 16 of the header.
    let page = usize::from(u16::from_be_bytes([whole[16], whole[17]]));
    for keep in [whole.len() / 2, whole.len() / 10 * 9, whole.len() - page] {
        let case = format!("database cut from {} to {keep} bytes", whole.len());
        assert_moved_aside_and_running(&whole[..keep], &case);
    }
}
