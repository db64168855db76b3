//! Shift statistics over a small log written by hand, with every figure
//! worked out beside it. The same log is also read back by time range from
//! a SQLite file.

use std::collections::BTreeSet;

use guardroom::domain::alarm::{
    Action, ActionKind, Change, Condition, Disposition, EntryKind, Flood, Priority, Raise,
};
use guardroom::domain::{Event, EventBody};
use guardroom::report::stats::{self, OperatorActivity, StatsBuilder};
use guardroom::store::{Batch, Store};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// 2026-12-05 08:00 in Shanghai: the start of the day shift.
fn t0() -> Timestamp {
    "2026-12-05T00:00:00Z".parse().unwrap()
}

fn at(seconds: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(seconds)
}

fn shanghai() -> TimeZone {
    TimeZone::get("Asia/Shanghai").unwrap()
}

fn secs(seconds: i64) -> Option<SignedDuration> {
    Some(SignedDuration::from_secs(seconds))
}

fn raise(alarm: u64, condition: Condition, priority: Priority, source: &str) -> EventBody {
    EventBody::AlarmRaised {
        raise: Raise {
            alarm,
            source: source.into(),
            condition,
            priority,
            device: Some(source.into()),
            name: format!("name of {source}"),
            building: "B1".into(),
            zone: "Z1".into(),
            text: None,
            momentary: false,
            active: true,
            suppressed: false,
            out_of_service: false,
        },
    }
}

fn action(alarm: Option<u64>, kind: ActionKind, operator: &str) -> Action {
    Action {
        id: Uuid::new_v4(),
        alarm,
        kind,
        operator: operator.into(),
        role: "guard".into(),
        console: "c1".into(),
        via_ssh: false,
        remark: String::new(),
    }
}

fn acted(alarm: u64, kind: ActionKind, operator: &str) -> EventBody {
    EventBody::AlarmActed {
        action: action(Some(alarm), kind, operator),
    }
}

fn ack(alarm: u64, operator: &str) -> EventBody {
    acted(alarm, ActionKind::Acknowledge, operator)
}

fn close(alarm: u64, disposition: Disposition, operator: &str) -> EventBody {
    acted(alarm, ActionKind::Close { disposition }, operator)
}

fn note(entry: EntryKind, operator: &str) -> EventBody {
    EventBody::DutyRecorded {
        action: action(
            None,
            ActionKind::Note {
                entry,
                refers_to: None,
            },
            operator,
        ),
    }
}

/// Returns the log of one day shift, 08:00–20:00 local (00:00–12:00 UTC), with
/// events before and after it. Offsets are seconds from 08:00.
fn shift_log() -> Vec<Event> {
    use Condition::*;
    use Disposition::*;
    use Priority::*;
    let (alice, bob) = ("op-alice", "op-bob");
    let mut log: Vec<(i64, EventBody)> = vec![
        // Before the shift: alarm 13 is raised, bob writes a note.
        (-3600, raise(13, DoorForced, P2, "door-3")),
        (-60, note(EntryKind::Note, bob)),
        (
            0,
            EventBody::DutyRecorded {
                action: action(None, ActionKind::LogIn, alice),
            },
        ),
        (60, raise(1, Fire, P1, "smoke-1")),
        (90, ack(1, alice)),
        (120, raise(2, DoorForced, P2, "door-1")),
        (180, ack(2, alice)),
        (200, ack(13, bob)),
        (300, raise(3, DoorHeldOpen, P3, "door-1")),
        (390, ack(3, alice)),
        (400, close(13, FalseAlarm, bob)),
        (600, close(3, Genuine, alice)),
        (660, close(1, Genuine, alice)),
        (1320, close(2, FalseAlarm, alice)),
        (
            3500,
            EventBody::AlarmFlood {
                flood: Flood::Started { rate: 11 },
            },
        ),
        (3600, raise(4, DoorHeldOpen, P3, "door-1")),
        (3700, raise(5, DeviceOffline, P3, "cam-1")),
        (3720, ack(4, alice)),
        (3850, ack(5, alice)),
        (
            4100,
            EventBody::AlarmFlood {
                flood: Flood::Ended {
                    started: at(3500),
                    raised: 12,
                    peak_rate: 14,
                    by_condition: vec![(DoorHeldOpen, 12)],
                },
            },
        ),
        (5400, close(4, Test, alice)),
        (5500, note(EntryKind::Patrol, alice)),
        (7200, raise(6, Intrusion, P2, "pir-1")),
        (7300, raise(7, Tamper, P2, "door-2")),
        (7380, ack(6, alice)),
        (7900, close(7, DeviceFault, bob)),
        (9600, close(6, Genuine, alice)),
        (10800, raise(8, LowBattery, P4, "smoke-1")),
        (10900, raise(9, WaterLeak, P2, "leak-1")),
        (11040, ack(8, bob)),
        (11200, ack(9, bob)),
        (13800, close(8, Other, bob)),
        (14000, note(EntryKind::Visitor, bob)),
        (14400, raise(10, DoorHeldOpen, P3, "door-1")),
        (14500, raise(11, Gas, P1, "gas-1")),
        (14545, ack(11, bob)),
        (14600, acted(10, ActionKind::Remark, bob)),
        (15400, close(11, Genuine, bob)),
        (18000, raise(12, External, P3, "ext:1")),
        (18075, ack(12, bob)),
        (
            18500,
            EventBody::AlarmChanged {
                alarm: 12,
                change: Change::ClosedAtSource,
            },
        ),
        (
            20000,
            EventBody::AlarmActed {
                action: action(None, ActionKind::Silence, alice),
            },
        ),
        (30000, note(EntryKind::Call, bob)),
        (40000, note(EntryKind::HandoverRemark, bob)),
        (41000, note(EntryKind::Note, alice)),
        (
            42000,
            EventBody::DutyRecorded {
                action: action(
                    None,
                    ActionKind::HandOver {
                        shift: "2026-12-05T08:00".into(),
                    },
                    alice,
                ),
            },
        ),
        (
            43000,
            EventBody::AlarmFlood {
                flood: Flood::Started { rate: 12 },
            },
        ),
        // After the shift: not counted.
        (43210, ack(10, bob)),
        (43220, raise(14, Fire, P1, "smoke-2")),
    ];
    log.sort_by_key(|(offset, _)| *offset);
    log.into_iter()
        .enumerate()
        .map(|(index, (offset, body))| Event {
            seq: index as i64 + 1,
            ..Event::new(at(offset), body)
        })
        .collect()
}

fn shift_stats() -> stats::Stats {
    stats::compute(at(0), at(12 * 3600), &shanghai(), &shift_log())
}

#[test]
fn raises_by_condition_and_priority() {
    let stats = shift_stats();
    assert_eq!(stats.raised, 12);
    assert_eq!(
        stats.by_condition,
        vec![
            (Condition::DoorHeldOpen, 3),
            (Condition::Fire, 1),
            (Condition::Gas, 1),
            (Condition::Intrusion, 1),
            (Condition::DoorForced, 1),
            (Condition::Tamper, 1),
            (Condition::WaterLeak, 1),
            (Condition::DeviceOffline, 1),
            (Condition::LowBattery, 1),
            (Condition::External, 1),
        ]
    );
    assert_eq!(stats.by_priority, [2, 4, 5, 1]);
}

#[test]
fn acknowledge_times_median_and_p95() {
    // First acknowledgements inside the shift, in seconds from the raise:
    // 30 45 60 75 90 120 150 180 240 300 600 (alarm 7, closed unacknowledged)
    // 3800 (alarm 13, raised before the shift). Nearest rank of 12 values:
    // the median is the 6th, the 95th percentile the 12th.
    let stats = shift_stats();
    assert_eq!(stats.acknowledge.count, 12);
    assert_eq!(stats.acknowledge.median, secs(120));
    assert_eq!(stats.acknowledge.p95, secs(3800));
}

#[test]
fn close_times_median_and_p95() {
    // Closes inside the shift: 300 500 (at source) 600 600 900 1200 1800
    // 2400 3000 4000 (alarm 13). Median = 5th of 10, p95 = 10th.
    let stats = shift_stats();
    assert_eq!(stats.close.count, 10);
    assert_eq!(stats.close.median, secs(900));
    assert_eq!(stats.close.p95, secs(4000));
}

#[test]
fn false_alarm_share_of_closes() {
    let stats = shift_stats();
    assert_eq!(stats.closed, 10);
    assert_eq!(stats.false_alarms, 2);
    assert_eq!(stats.false_alarm_share(), Some(0.2));
}

#[test]
fn floods_inside_the_shift() {
    // One flood of 600 s, and one that starts 200 s before the end.
    let stats = shift_stats();
    assert_eq!(stats.floods.count, 2);
    assert_eq!(stats.floods.duration, SignedDuration::from_secs(800));
    assert_eq!(stats.floods.peak_rate, 14);
}

#[test]
fn running_flood_counts_until_now() {
    // Read 100 s into the second flood, with the shift still in progress:
    // that flood counts 100 s, not the 200 s left until the shift's end.
    let mut builder = StatsBuilder::new(at(0), at(12 * 3600), shanghai()).until(at(43_100));
    for event in shift_log().iter().filter(|event| event.at <= at(43_100)) {
        builder.push(event);
    }
    let stats = builder.finish();
    assert_eq!(stats.floods.count, 2);
    assert_eq!(stats.floods.duration, SignedDuration::from_secs(700));
}

#[test]
fn most_frequent_sources() {
    let stats = shift_stats();
    let sources: Vec<(&str, u32)> = stats
        .top_sources
        .iter()
        .map(|source| (source.source.as_str(), source.raised))
        .collect();
    assert_eq!(
        sources,
        [
            ("door-1", 4),
            ("smoke-1", 2),
            ("cam-1", 1),
            ("door-2", 1),
            ("ext:1", 1),
            ("gas-1", 1),
            ("leak-1", 1),
            ("pir-1", 1),
        ]
    );
    assert_eq!(stats.top_sources[0].name, "name of door-1");
}

#[test]
fn actions_per_operator() {
    // alice: 11 acknowledgements and closes, 1 silence; a patrol and a
    // note (the login and the handover are not entries).
    // bob: 9 acknowledgements and closes, 1 remark; a visitor, a call and
    // a handover remark (his note before the shift is not counted).
    let stats = shift_stats();
    assert_eq!(
        stats.operators,
        vec![
            OperatorActivity {
                operator: "op-alice".into(),
                alarm_actions: 12,
                duty_entries: 2,
            },
            OperatorActivity {
                operator: "op-bob".into(),
                alarm_actions: 10,
                duty_entries: 3,
            },
        ]
    );
}

#[test]
fn alarms_per_local_hour() {
    let stats = shift_stats();
    let mut expected = [0; 24];
    expected[8] = 3;
    expected[9] = 2;
    expected[10] = 2;
    expected[11] = 2;
    expected[12] = 2;
    expected[13] = 1;
    assert_eq!(stats.per_hour, expected);
    assert_eq!(stats.first_hour, 8);
    assert_eq!(stats.hours_in_order()[0], (8, 3));
    assert_eq!(stats.hours_in_order()[23], (7, 0));
}

#[test]
fn percentile_nearest_rank() {
    let values: Vec<SignedDuration> = (1..=20).map(SignedDuration::from_secs).collect();
    assert_eq!(stats::percentile(&values, 50), secs(10));
    assert_eq!(stats::percentile(&values, 95), secs(19));
    assert_eq!(stats::percentile(&values[..1], 95), secs(1));
    assert_eq!(stats::percentile(&[], 50), None);
}

/// Writes the hand-made log to a SQLite file through the store.
fn stored_log(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("guardroom.db");
    let mut store = Store::open(&path).unwrap();
    let events = shift_log()
        .into_iter()
        .map(|event| Event { seq: 0, ..event })
        .collect();
    store
        .commit(&Batch {
            events,
            ..Batch::default()
        })
        .unwrap();
    path
}

#[test]
fn range_reads_events_in_seq_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_read_only(&stored_log(&dir)).unwrap();
    let from = at(3600);
    let to = at(7200);
    let read: Vec<Event> = store
        .events_in_range(from, to)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<i64> = shift_log()
        .iter()
        .filter(|event| event.at >= from && event.at < to)
        .map(|event| event.seq)
        .collect();
    let seqs: Vec<i64> = read.iter().map(|event| event.seq).collect();
    assert_eq!(seqs, expected);
    assert!(read.iter().all(|event| event.at >= from && event.at < to));
}

#[test]
fn range_stats_with_raises_looked_up() {
    // Only the shift's own events, plus the raises found in the store for
    // alarms acted on in the shift: the same figures as a fold from the start.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_read_only(&stored_log(&dir)).unwrap();
    let (from, to) = (at(0), at(12 * 3600));
    let mut builder = StatsBuilder::new(from, to, shanghai());
    for event in store.events_in_range(from, to).unwrap() {
        builder.push(&event.unwrap());
    }
    assert_eq!(builder.unmatched_alarms(), BTreeSet::from([13]));
    for raise in store
        .raises_before(&builder.unmatched_alarms(), from)
        .unwrap()
    {
        builder.add_prior_raise(&raise);
    }
    assert_eq!(builder.finish(), shift_stats());
}
