//! The alarm queue under load: ordering and grouping 10,000 open alarms,
//! the recorder absorbing a burst of 10,000 alarm events, and a console
//! merging the commit that carries them.
//!
//! Run with `cargo bench --bench alarms`. Figures and the machine they were
//! measured on are in BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use guardroom::domain::alarm::queue::{self, Filter};
use guardroom::domain::alarm::{AlarmRules, rules};
use guardroom::domain::device::{DetectorClass, DeviceKind, DeviceSpec};
use guardroom::domain::projection::Delta;
use guardroom::domain::{Event, EventBody, Observation, Projection};
use guardroom::i18n::Lang;
use guardroom::ingest::link::Inbound;
use guardroom::recorder::writer::{Settings, Writer};
use guardroom::store::Store;
use guardroom::ui::alerts::{self, Before};
use jiff::{SignedDuration, Timestamp};
use tempfile::TempDir;

/// Alarms in the queue, one per device.
const ALARMS: usize = 10_000;

/// Devices, spread over 20 buildings and 5 zones each; every 50th is a
/// smoke detector, so some alarms are P1.
fn inventory() -> Vec<DeviceSpec> {
    (0..ALARMS)
        .map(|n| {
            let smoke = n % 50 == 0;
            DeviceSpec {
                id: format!("dev-{n:05}"),
                kind: if smoke {
                    DeviceKind::Detector
                } else {
                    DeviceKind::Door
                },
                class: smoke.then_some(DetectorClass::Smoke),
                name: format!("设备 {n}"),
                building: format!("{}号楼", n % 20 + 1),
                zone: format!("{}单元", n % 5 + 1),
                gateway: None,
                interval_s: 60,
            }
        })
        .collect()
}

/// Builds one discrete event per device: door forced, or smoke for detectors.
fn burst(start: Timestamp) -> Vec<Inbound> {
    inventory()
        .into_iter()
        .enumerate()
        .map(|(n, spec)| {
            let event = if spec.kind == DeviceKind::Detector {
                "smoke"
            } else {
                "door_forced"
            };
            let received = start + SignedDuration::from_millis(n as i64 * 6);
            Inbound::Observed {
                observation: Observation::DeviceEvent {
                    device: spec.id,
                    event_id: format!("e-{n}"),
                    event: event.into(),
                    text: None,
                    source_ts: None,
                },
                received,
            }
        })
        .collect()
}

/// Builds a projection with 10,000 open alarms, raised through the rules.
fn loaded_projection() -> Projection {
    let rules = AlarmRules::default();
    let start: Timestamp = "2026-12-04T02:00:00Z".parse().unwrap();
    let mut projection = Projection::default();
    for spec in inventory() {
        projection.apply(&Event::new(start, EventBody::DeviceRegistered { spec }));
    }
    for message in burst(start) {
        if let Inbound::Observed {
            observation:
                Observation::DeviceEvent {
                    device,
                    event_id,
                    event,
                    text,
                    source_ts,
                },
            received,
        } = message
        {
            let body = EventBody::DeviceEventRaised {
                device,
                event_id,
                event,
                text,
                source_ts,
            };
            rules::record(&mut projection, Event::new(received, body), &rules);
        }
    }
    rules::run_tick(
        &mut projection,
        start + SignedDuration::from_secs(60),
        &rules,
    );
    assert_eq!(projection.alarms.open.len(), ALARMS);
    assert!(projection.alarms.in_flood());
    projection
}

fn new_writer() -> (TempDir, Writer) {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let store = Store::open(&dir.path().join("bench.sqlite")).expect("opening the store");
    let settings = Settings {
        inventory: inventory(),
        unregistered_interval_s: 300,
        ..Settings::default()
    };
    (
        dir,
        Writer::new(store, settings).expect("starting the writer"),
    )
}

fn queue_order(c: &mut Criterion) {
    let projection = loaded_projection();
    let book = &projection.alarms;
    let mut group = c.benchmark_group("queue_10k");
    group.throughput(Throughput::Elements(ALARMS as u64));
    group.bench_function("ordered", |b| {
        b.iter(|| black_box(queue::rows(book, &Filter::default(), false).len()))
    });
    group.bench_function("grouped", |b| {
        b.iter(|| black_box(queue::rows(book, &Filter::default(), true).len()))
    });
    group.bench_function("filtered_text", |b| {
        let filter = Filter {
            text: "3号楼".into(),
            ..Filter::default()
        };
        b.iter(|| black_box(queue::rows(book, &filter, false).len()))
    });
    group.bench_function("counters", |b| b.iter(|| black_box(queue::counters(book))));
    group.finish();
}

fn recorder_burst(c: &mut Criterion) {
    let mut group = c.benchmark_group("burst_10k");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(ALARMS as u64));
    group.bench_function("recorder_absorbs", |b| {
        b.iter_batched(
            || (new_writer(), burst(Timestamp::now())),
            |((dir, mut writer), messages)| {
                // The writer's batches hold at most 5,000 messages.
                let mut messages = messages.into_iter();
                loop {
                    let chunk: Vec<Inbound> = messages.by_ref().take(5_000).collect();
                    if chunk.is_empty() {
                        break;
                    }
                    writer.process(chunk, None);
                }
                black_box(writer.projection().alarms.open.len());
                drop(dir);
            },
            BatchSize::PerIteration,
        )
    });

    // What the console's event loop does with one commit of 5,000 new
    // alarms: merge the rows, then order the queue for the next frame.
    let loaded = loaded_projection();
    let delta = Delta {
        alarms: loaded.alarms.open.values().take(5_000).cloned().collect(),
        alarm_book: Some(loaded.alarms.state.clone()),
        ..Delta::default()
    };
    group.bench_function("console_merges_5k_and_orders", |b| {
        b.iter_batched(
            || (Projection::default(), delta.clone()),
            |(mut projection, delta)| {
                projection.merge(delta);
                black_box(queue::rows(&projection.alarms, &Filter::default(), true).len())
            },
            BatchSize::LargeInput,
        )
    });

    // The whole burst as the event loop takes it when both commits have
    // queued up: note each alarm's state before the merge, merge both
    // commits, decide what to notify, then order the queue for the frame.
    let second = Delta {
        alarms: loaded.alarms.open.values().skip(5_000).cloned().collect(),
        alarm_book: Some(loaded.alarms.state.clone()),
        ..Delta::default()
    };
    group.bench_function("console_takes_both_commits", |b| {
        b.iter_batched(
            || (Projection::default(), delta.clone(), second.clone()),
            |(mut projection, first, second)| {
                let mut before = Before::default();
                for delta in [first, second] {
                    before.capture(&projection.alarms, delta.alarms.iter().map(|a| a.id));
                    projection.merge(delta);
                }
                let alerts = alerts::assess(&before, &projection.alarms, Lang::ZhCn);
                black_box(alerts.notices.len());
                black_box(queue::rows(&projection.alarms, &Filter::default(), true).len())
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, queue_order, recorder_burst);
criterion_main!(benches);
