//! End-to-end ingest rate: messages per second from a real mosquitto broker
//! into the committed database of `guardroom serve`, beside `mosquitto_sub`
//! receiving the same stream on the same machine.
//!
//! Each run starts a new broker on 127.0.0.1 and one consumer, waits until
//! the consumer receives a probe message, then publishes the stream with a
//! QoS 1 publisher written on rumqttc. The clock runs from the first publish
//! until the consumer has the stream's last message: for mosquitto_sub when
//! it prints it, for guardroom when the transaction that holds it is
//! committed. The last message is an event, so its commit is visible by its
//! dedupe key.
//!
//! Run with `cargo bench --bench e2e_ingest -- --messages 100000 --runs 3`.
//! Figures and the machine they were measured on are in BENCHMARKS.md.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use guardroom::store::Store;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use support::{Broker, DEADLINE, Home, Publisher, TestDevice, unique_client_id, wait_for};

const SITE: &str = "bench";

/// Doors the stream reports on. Message `n` goes to door `n % DOORS`.
const DOORS: usize = 1_000;

/// Without this the broker drops QoS 1 messages past 1,000 queued for a
/// subscriber that reads slower than the publisher sends.
const UNLIMITED_QUEUE: &str = "max_queued_messages 0";

/// The door that carries the probe and the closing event.
const MARKER_DOOR: &str = "door-0000";

#[derive(Clone, Copy, Debug)]
enum Mix {
    /// Each message flips its door between closed and open: one event each.
    Changes,
    /// Each door reports `closed` again and again: after the first report of
    /// each door, only `last_seen` moves.
    Heartbeats,
}

impl Mix {
    fn name(self) -> &'static str {
        match self {
            Self::Changes => "changes",
            Self::Heartbeats => "heartbeats",
        }
    }

    /// State events the stream must leave in the log.
    fn expected_state_events(self, messages: usize) -> usize {
        match self {
            Self::Changes => messages,
            Self::Heartbeats => messages.min(DOORS),
        }
    }
}

struct Message {
    topic: String,
    payload: Vec<u8>,
    retain: bool,
}

fn topic(tail: &str) -> String {
    format!("gr/v1/{SITE}/{tail}")
}

fn door_id(index: usize) -> String {
    format!("door-{index:04}")
}

fn event_payload(id: &str) -> Vec<u8> {
    format!(r#"{{"v":1,"id":"{id}","type":"bench_marker"}}"#).into_bytes()
}

/// Builds the stream: `count` retained state reports, then the closing event.
fn stream(mix: Mix, count: usize) -> Vec<Message> {
    let mut messages: Vec<Message> = (0..count)
        .map(|n| {
            let round = n / DOORS;
            let state = match mix {
                Mix::Changes if round % 2 == 1 => "open",
                _ => "closed",
            };
            Message {
                topic: topic(&format!("dev/{}/state", door_id(n % DOORS))),
                // The battery depends on the door alone, so a heartbeat repeats
                // its door's last report exactly.
                payload: format!(
                    r#"{{"v":1,"state":"{state}","locked":true,"battery":{},"signal":-61}}"#,
                    40 + (n % DOORS) % 60
                )
                .into_bytes(),
                retain: true,
            }
        })
        .collect();
    messages.push(Message {
        topic: topic(&format!("evt/{MARKER_DOOR}")),
        payload: event_payload("end"),
        retain: false,
    });
    messages
}

/// Publishes every message with QoS 1 and returns the time until the broker
/// acknowledged the last one.
fn publish_stream(port: u16, messages: Vec<Message>) -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("starting the publisher's runtime");
    runtime.block_on(async move {
        let mut options = MqttOptions::new(unique_client_id("gr-bench-pub"), "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(60));
        options.set_inflight(1_000);
        let (client, mut eventloop) = AsyncClient::new(options, 1_000);
        let total = messages.len();
        let start = Instant::now();
        let sender = tokio::spawn(async move {
            for message in messages {
                client
                    .publish(
                        message.topic,
                        QoS::AtLeastOnce,
                        message.retain,
                        message.payload,
                    )
                    .await
                    .expect("queueing a publish");
            }
            client
        });
        let mut acked = 0;
        while acked < total {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => acked += 1,
                Ok(_) => {}
                Err(error) => panic!("publisher connection failed after {acked} acks: {error}"),
            }
        }
        let elapsed = start.elapsed();
        let client = sender.await.expect("publisher task");
        let _ = client.disconnect().await;
        // Polling sends the DISCONNECT, and the broker closing the socket ends the loop.
        while eventloop.poll().await.is_ok() {}
        elapsed
    })
}

/// One measured run.
struct Run {
    consumer: &'static str,
    mix: Mix,
    messages: usize,
    /// First publish to the last message received (or committed).
    consumed: Duration,
    /// First publish to the broker's last acknowledgement.
    published: Duration,
    /// What the consumer showed of the stream, for the check column.
    check: String,
}

impl Run {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.consumed.as_secs_f64()
    }
}

fn run_publisher_only(mix: Mix, count: usize) -> Run {
    let broker = Broker::start_with(&[UNLIMITED_QUEUE]);
    let messages = stream(mix, count);
    let total = messages.len();
    let published = publish_stream(broker.port(), messages);
    Run {
        consumer: "no subscriber",
        mix,
        messages: total,
        consumed: published,
        published,
        check: "-".into(),
    }
}

fn run_mosquitto_sub(mix: Mix, count: usize) -> Run {
    let broker = Broker::start_with(&[UNLIMITED_QUEUE]);
    let port = broker.port().to_string();
    let client_id = unique_client_id("gr-bench-sub");
    let mut child = Command::new("mosquitto_sub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-i",
            &client_id,
            "-q",
            "1",
            "-v",
        ])
        .args(["-t", &topic("#")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting mosquitto_sub; install the mosquitto-clients package");

    // The reader reports the probe, then the time the closing event arrived
    // and how many state reports came before it.
    let (tx, rx) = mpsc::channel::<(Option<Instant>, usize)>();
    let stdout = child.stdout.take().expect("mosquitto_sub stdout");
    let reader = std::thread::spawn(move || {
        let state_prefix = topic("dev/");
        let mut states = 0;
        let mut probed = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with(&state_prefix) {
                states += 1;
            } else if line.contains(r#""id":"end""#) {
                let _ = tx.send((Some(Instant::now()), states));
                break;
            } else if !probed && line.contains(r#""id":"probe""#) {
                probed = true;
                let _ = tx.send((None, 0));
            }
        }
    });

    let mut probe = Publisher::connect(broker.port());
    let probe_topic = topic(&format!("evt/{MARKER_DOOR}"));
    wait_for("mosquitto_sub to receive the probe", DEADLINE, || {
        probe.publish(&probe_topic, event_payload("probe"), false);
        probe.flush();
        rx.recv_timeout(Duration::from_millis(100)).ok()
    });
    drop(probe);
    // Further copies of the probe may still be on their way. They are
    // neither state reports nor the closing event, so they are not counted.

    let messages = stream(mix, count);
    let total = messages.len();
    let start = Instant::now();
    let published = publish_stream(broker.port(), messages);
    let (done, states) = rx
        .recv_timeout(DEADLINE)
        .expect("mosquitto_sub received the closing event");
    let done = done.expect("the probe is reported once");

    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    Run {
        consumer: "mosquitto_sub",
        mix,
        messages: total,
        consumed: done - start,
        published,
        check: format!("{states}/{count} states printed"),
    }
}

fn dedupe_key(event_id: &str) -> String {
    format!("evt:{MARKER_DOOR}:{event_id}")
}

fn run_guardroom(mix: Mix, count: usize) -> Run {
    let broker = Broker::start_with(&[UNLIMITED_QUEUE]);
    let home = Home::new();
    let devices: Vec<TestDevice> = (0..DOORS)
        .map(|index| TestDevice::door(&door_id(index)))
        .collect();
    let config = home.write_config(SITE, &broker.url(), &devices);
    let database = home.path().join("bench.sqlite");
    let mut serve = home.spawn(
        "serve",
        &[
            "serve",
            "--config",
            config.to_str().expect("UTF-8 path"),
            "--db",
            database.to_str().expect("UTF-8 path"),
        ],
    );

    let mut probe = Publisher::connect(broker.port());
    let probe_topic = topic(&format!("evt/{MARKER_DOOR}"));
    let store = wait_for("serve to record the probe", DEADLINE, || {
        serve.assert_running();
        probe.publish(&probe_topic, event_payload("probe"), false);
        probe.flush();
        let store = Store::open_read_only(&database).ok()?;
        store
            .has_dedupe_key(&dedupe_key("probe"))
            .unwrap_or(false)
            .then_some(store)
    });
    drop(probe);

    let messages = stream(mix, count);
    let total = messages.len();
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let watcher = std::thread::spawn(move || {
        let end = dedupe_key("end");
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if store.has_dedupe_key(&end).unwrap_or(false) {
                let _ = tx.send(Instant::now());
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let published = publish_stream(broker.port(), messages);
    let done = rx
        .recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("serve did not commit the closing event\n{}", serve.output()));
    let _ = watcher.join();

    let check = count_state_events(&database, mix, count);
    let status = serve.terminate();
    assert!(status.success(), "serve exited with {status}");
    Run {
        consumer: "guardroom serve",
        mix,
        messages: total,
        consumed: done - start,
        published,
        check,
    }
}

fn count_state_events(database: &Path, mix: Mix, count: usize) -> String {
    let store = Store::open_read_only(database).expect("opening the database");
    let counts = store.event_counts().expect("counting events");
    let states = counts.get("state_reported").copied().unwrap_or(0);
    format!("{states}/{} state events", mix.expected_state_events(count))
}

/// Parses `--messages N` and `--runs N`. Other arguments (cargo passes
/// `--bench`) are ignored.
fn parse_args() -> (usize, usize) {
    let mut messages = 100_000;
    let mut runs = 3;
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        let value = || {
            pair[1]
                .parse::<usize>()
                .unwrap_or_else(|_| panic!("{} expects a number, got {}", pair[0], pair[1]))
        };
        match pair[0].as_str() {
            "--messages" => messages = value(),
            "--runs" => runs = value(),
            _ => {}
        }
    }
    (messages, runs)
}

/// A function that measures one run of a consumer.
type Measure = fn(Mix, usize) -> Run;

fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

fn main() {
    let (count, runs) = parse_args();
    println!(
        "{count} state reports on {DOORS} doors plus one closing event per run, {runs} runs each"
    );
    println!(
        "| mix | consumer | run | messages | consumed s | msg/s | publisher acked s | check |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut summary = Vec::new();
    for mix in [Mix::Changes, Mix::Heartbeats] {
        let consumers: [(&str, Measure); 3] = [
            ("no subscriber", run_publisher_only),
            ("mosquitto_sub", run_mosquitto_sub),
            ("guardroom serve", run_guardroom),
        ];
        for (name, measure) in consumers {
            let mut rates = Vec::new();
            for index in 1..=runs {
                let run = measure(mix, count);
                println!(
                    "| {} | {} | {index} | {} | {:.3} | {:.0} | {:.3} | {} |",
                    run.mix.name(),
                    run.consumer,
                    run.messages,
                    run.consumed.as_secs_f64(),
                    run.rate(),
                    run.published.as_secs_f64(),
                    run.check
                );
                rates.push(run.rate());
            }
            summary.push((mix, name, median(rates)));
        }
    }
    println!();
    println!("| mix | consumer | median msg/s | vs mosquitto_sub |");
    println!("|---|---|---|---|");
    for (mix, name, rate) in &summary {
        let baseline = summary
            .iter()
            .find(|(other, consumer, _)| other.name() == mix.name() && *consumer == "mosquitto_sub")
            .map(|(_, _, rate)| *rate)
            .unwrap_or(f64::NAN);
        println!(
            "| {} | {name} | {rate:.0} | {:.2} |",
            mix.name(),
            rate / baseline
        );
    }
}
