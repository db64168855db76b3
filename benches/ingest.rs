//! Throughput of the ingest path without a broker: topic routing and
//! payload decoding, then the writer's fold and SQLite commit, in batches,
//! against a new database in a temporary directory.
//!
//! Run with `cargo bench --bench ingest`. Figures and the machine they were
//! measured on are in BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use guardroom::domain::device::{DeviceKind, DeviceSpec};
use guardroom::ingest::link::Inbound;
use guardroom::ingest::{Limits, TopicRoot, decode};
use guardroom::recorder::writer::{Settings, Writer};
use guardroom::store::Store;
use jiff::Timestamp;
use tempfile::TempDir;

/// Doors in the simulated site, all in the inventory.
const DOORS: usize = 1_000;

/// Messages per measured iteration: ten reports per door.
const MESSAGES: usize = 10_000;

const SITE: &str = "bench";

/// One raw MQTT message as the link receives it.
struct Raw {
    topic: String,
    payload: Vec<u8>,
}

/// Effect of each message on the log.
#[derive(Clone, Copy)]
enum Mix {
    /// Every message flips its door between closed and open: one event each.
    Changes,
    /// Every message repeats the door's state: only `last_seen` moves.
    Heartbeats,
}

fn door_id(index: usize) -> String {
    format!("door-{index:04}")
}

fn inventory() -> Vec<DeviceSpec> {
    (0..DOORS)
        .map(|index| DeviceSpec {
            id: door_id(index),
            kind: DeviceKind::Door,
            class: None,
            name: format!("Door {index}"),
            building: format!("B{}", index % 20),
            zone: "gate".into(),
            gateway: None,
            interval_s: 60,
        })
        .collect()
}

/// Message `n` goes to door `n % DOORS`. For `Changes` the door's state
/// alternates with each round over the doors.
fn payloads(mix: Mix) -> Vec<Raw> {
    let root = TopicRoot::new(SITE);
    (0..MESSAGES)
        .map(|n| {
            let round = n / DOORS;
            let state = match mix {
                Mix::Changes if round % 2 == 1 => "open",
                _ => "closed",
            };
            Raw {
                topic: root.topic(&format!("dev/{}/state", door_id(n % DOORS))),
                // The battery depends on the door alone, so a heartbeat repeats
                // its door's last report exactly.
                payload: format!(
                    r#"{{"v":1,"state":"{state}","locked":true,"battery":{},"signal":-61}}"#,
                    40 + (n % DOORS) % 60
                )
                .into_bytes(),
            }
        })
        .collect()
}

/// Routes and decodes every message the way the link does.
fn decode_all(root: &TopicRoot, raw: &[Raw]) -> Vec<Inbound> {
    let limits = Limits::default();
    raw.iter()
        .map(|message| {
            let received = Timestamp::now();
            let route = root.route(&message.topic);
            let observation = decode(&route, &message.payload, false, received, &limits)
                .expect("bench payloads are valid")
                .expect("bench topics are routed");
            Inbound::Observed {
                observation,
                received,
            }
        })
        .collect()
}

/// Creates a writer on a new database with the inventory registered and,
/// for heartbeats, one report per door already stored.
fn new_writer(mix: Mix, root: &TopicRoot, raw: &[Raw]) -> (TempDir, Writer) {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let store = Store::open(&dir.path().join("bench.sqlite")).expect("opening the store");
    let settings = Settings {
        inventory: inventory(),
        unregistered_interval_s: 300,
        ..Settings::default()
    };
    let mut writer = Writer::new(store, settings).expect("starting the writer");
    if let Mix::Heartbeats = mix {
        writer.process(decode_all(root, &raw[..DOORS]), None);
    }
    (dir, writer)
}

fn bench_decode(c: &mut Criterion) {
    let root = TopicRoot::new(SITE);
    let raw = payloads(Mix::Changes);
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.bench_function("route_and_decode", |b| {
        b.iter(|| black_box(decode_all(&root, black_box(&raw))));
    });
    group.finish();
}

fn bench_commit(c: &mut Criterion) {
    let root = TopicRoot::new(SITE);
    let mut group = c.benchmark_group("ingest");
    group
        .throughput(Throughput::Elements(MESSAGES as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));

    for (mix, mix_name) in [(Mix::Changes, "changes"), (Mix::Heartbeats, "heartbeats")] {
        let raw = payloads(mix);
        // 5,000 is the writer's own largest batch, and 100 is a quieter site.
        for batch in [100, 5_000] {
            let name = format!("{mix_name}/batch_{batch}");
            group.bench_function(&name, |b| {
                b.iter_batched(
                    || new_writer(mix, &root, &raw),
                    |(dir, mut writer)| {
                        let inbound = decode_all(&root, &raw);
                        let mut messages = inbound.into_iter().peekable();
                        while messages.peek().is_some() {
                            writer.process(messages.by_ref().take(batch), None);
                        }
                        // Returned so that closing the database is not timed.
                        (dir, writer)
                    },
                    BatchSize::PerIteration,
                );
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_decode, bench_commit);
criterion_main!(benches);
