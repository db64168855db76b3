//! The log browser's queries on a seeded log: each filter returns exactly
//! the expected rows, newest first.

use std::path::Path;

use guardroom::domain::alarm::{
    Action, ActionKind, Alarm, Condition, Disposition, EntryKind, Priority, Raise,
};
use guardroom::domain::device::{DeviceKind, DeviceSpec};
use guardroom::domain::{Event, EventBody};
use guardroom::store::log::{LogFilter, LogKind};
use guardroom::store::{Batch, Store};
use jiff::{Timestamp, ToSpan};
use uuid::Uuid;

fn base() -> Timestamp {
    "2026-11-01T00:00:00Z".parse().unwrap()
}

fn action(operator: &str, alarm: Option<u64>, kind: ActionKind, remark: &str) -> Action {
    Action {
        id: Uuid::new_v4(),
        alarm,
        kind,
        operator: operator.into(),
        role: "guard".into(),
        console: "duty-1".into(),
        via_ssh: false,
        remark: remark.into(),
    }
}

fn note(operator: &str, entry: EntryKind, remark: &str) -> EventBody {
    EventBody::DutyRecorded {
        action: action(
            operator,
            None,
            ActionKind::Note {
                entry,
                refers_to: None,
            },
            remark,
        ),
    }
}

fn raise(alarm: u64, condition: Condition, priority: Priority, name: &str, device: &str) -> Raise {
    Raise {
        alarm,
        source: device.into(),
        condition,
        priority,
        device: Some(device.into()),
        name: name.into(),
        building: "3号楼".into(),
        zone: "A区".into(),
        text: None,
        momentary: false,
        active: true,
        suppressed: false,
        out_of_service: false,
    }
}

/// Twelve events, one per hour from `base()`; seq 1 to 12 in this order.
fn seed(path: &Path) -> Store {
    let smoke = raise(1, Condition::Fire, Priority::P1, "3号楼烟感", "smoke-3");
    let door = raise(
        2,
        Condition::DoorHeldOpen,
        Priority::P3,
        "北门门磁",
        "door-n",
    );
    let bodies = vec![
        EventBody::AlarmRaised {
            raise: smoke.clone(),
        },
        EventBody::AlarmActed {
            action: action("guard-li", Some(1), ActionKind::Acknowledge, "已到现场查看"),
        },
        note("guard-li", EntryKind::Patrol, "东门巡更正常"),
        EventBody::AlarmRaised {
            raise: door.clone(),
        },
        EventBody::DutyRecorded {
            action: action("guard-wang", None, ActionKind::LogIn, ""),
        },
        note("guard-wang", EntryKind::Visitor, "访客登记：快递员送件"),
        EventBody::LinkChanged {
            online: false,
            detail: "connection refused".into(),
            session_lost: false,
        },
        EventBody::AlarmActed {
            action: action(
                "guard-wang",
                Some(2),
                ActionKind::Close {
                    disposition: Disposition::Genuine,
                },
                "门已关好 door closed",
            ),
        },
        note("guard-wang", EntryKind::Incident, "烟感误报，已复位"),
        EventBody::DeviceRegistered {
            spec: DeviceSpec {
                id: "pir-7".into(),
                kind: DeviceKind::Detector,
                class: None,
                name: "车库红外".into(),
                building: String::new(),
                zone: String::new(),
                gateway: None,
                interval_s: 300,
            },
        },
        EventBody::DataErrorRaised {
            device: "pir-7".into(),
            topic: "gr/v1/site/dev/pir-7/state".into(),
            code: "json".into(),
            reason: "invalid JSON".into(),
        },
        EventBody::DutyRecorded {
            action: action(
                "guard-wang",
                None,
                ActionKind::HandOver {
                    shift: "2026-11-01T08:00".into(),
                },
                "交班：一切正常",
            ),
        },
    ];

    let mut store = Store::open(path).unwrap();
    for (index, body) in bodies.into_iter().enumerate() {
        let at = base() + (index as i64).hours();
        let mut batch = Batch::default();
        if let EventBody::AlarmRaised { raise } = &body {
            batch.alarms.push(Alarm::new(raise, at));
        }
        batch.events.push(Event::new(at, body));
        store.commit(&batch).unwrap();
    }
    store
}

fn seqs(store: &Store, filter: &LogFilter) -> Vec<i64> {
    store
        .log_page(filter, None, 100)
        .unwrap()
        .rows
        .iter()
        .map(|row| row.seq)
        .collect()
}

fn text(query: &str) -> LogFilter {
    LogFilter {
        text: Some(query.into()),
        ..LogFilter::default()
    }
}

#[test]
fn unfiltered_pages_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = seed(&dir.path().join("log.sqlite"));
    let all = LogFilter::default();

    let first = store.log_page(&all, None, 5).unwrap();
    let seqs_of = |page: &guardroom::store::log::LogPage| -> Vec<i64> {
        page.rows.iter().map(|row| row.seq).collect()
    };
    assert_eq!(seqs_of(&first), vec![12, 11, 10, 9, 8]);
    assert_eq!(first.next_before, Some(8));
    let second = store.log_page(&all, first.next_before, 5).unwrap();
    assert_eq!(seqs_of(&second), vec![7, 6, 5, 4, 3]);
    let last = store.log_page(&all, second.next_before, 5).unwrap();
    assert_eq!(seqs_of(&last), vec![2, 1]);
    assert_eq!(last.next_before, None);

    let row = &first.rows[4];
    assert_eq!(row.at, base() + 7.hours());
    assert_eq!(row.kind, LogKind::AlarmAction);
    assert_eq!(row.operator.as_deref(), Some("guard-wang"));
    assert_eq!(row.priority, Some(Priority::P3));
    assert!(matches!(row.body, EventBody::AlarmActed { .. }));
}

#[test]
fn date_range_filter() {
    let dir = tempfile::tempdir().unwrap();
    let store = seed(&dir.path().join("log.sqlite"));
    let filter = LogFilter {
        from: Some(base() + 2.hours()),
        to: Some(base() + 6.hours()),
        ..LogFilter::default()
    };
    assert_eq!(seqs(&store, &filter), vec![6, 5, 4, 3], "to is exclusive");
}

#[test]
fn operator_filter() {
    let dir = tempfile::tempdir().unwrap();
    let store = seed(&dir.path().join("log.sqlite"));
    let filter = |operator: &str| LogFilter {
        operator: Some(operator.into()),
        ..LogFilter::default()
    };
    assert_eq!(seqs(&store, &filter("guard-li")), vec![3, 2]);
    assert_eq!(seqs(&store, &filter("guard-wang")), vec![12, 9, 8, 6, 5]);
    assert_eq!(
        seqs(&store, &filter("guard")),
        Vec::<i64>::new(),
        "exact id"
    );
}

#[test]
fn kind_filter() {
    let dir = tempfile::tempdir().unwrap();
    let store = seed(&dir.path().join("log.sqlite"));
    let filter = |kinds: &[LogKind]| LogFilter {
        kinds: kinds.to_vec(),
        ..LogFilter::default()
    };
    assert_eq!(seqs(&store, &filter(&[LogKind::Alarm])), vec![4, 1]);
    assert_eq!(seqs(&store, &filter(&[LogKind::AlarmAction])), vec![8, 2]);
    assert_eq!(
        seqs(
            &store,
            &filter(&[
                LogKind::Entry(EntryKind::Patrol),
                LogKind::Entry(EntryKind::Incident)
            ])
        ),
        vec![9, 3]
    );
    assert_eq!(
        seqs(&store, &filter(&[LogKind::LogIn, LogKind::Handover])),
        vec![12, 5]
    );
    assert_eq!(seqs(&store, &filter(&[LogKind::Device])), vec![10]);
    assert_eq!(seqs(&store, &filter(&[LogKind::DataError])), vec![11]);
    assert_eq!(seqs(&store, &filter(&[LogKind::Link])), vec![7]);

    let alarms = filter(&[LogKind::Alarm, LogKind::AlarmAction]);
    let first = store.log_page(&alarms, None, 3).unwrap();
    let first_seqs: Vec<i64> = first.rows.iter().map(|row| row.seq).collect();
    assert_eq!(first_seqs, vec![8, 4, 2], "pages merge the categories");
    assert_eq!(first.next_before, Some(2));
    let rest = store.log_page(&alarms, first.next_before, 3).unwrap();
    let rest_seqs: Vec<i64> = rest.rows.iter().map(|row| row.seq).collect();
    assert_eq!(rest_seqs, vec![1]);
    assert_eq!(rest.next_before, None);
}

#[test]
fn priority_filter() {
    let dir = tempfile::tempdir().unwrap();
    let store = seed(&dir.path().join("log.sqlite"));
    let filter = |priority| LogFilter {
        priority: Some(priority),
        ..LogFilter::default()
    };
    assert_eq!(seqs(&store, &filter(Priority::P1)), vec![2, 1]);
    assert_eq!(
        seqs(&store, &filter(Priority::P3)),
        vec![8, 4, 2, 1],
        "P3 and more urgent; actions take their alarm's priority"
    );
}

#[test]
fn text_filter_three_or_more_characters() {
    let dir = tempfile::tempdir().unwrap();
    let store = seed(&dir.path().join("log.sqlite"));
    assert_eq!(seqs(&store, &text("3号楼烟感")), vec![2, 1], "alarm name");
    assert_eq!(
        seqs(&store, &text("Door Closed")),
        vec![8],
        "remark, any case"
    );
    assert_eq!(seqs(&store, &text("车库红外")), vec![10], "device name");
    assert_eq!(seqs(&store, &text("pir-7")), vec![11, 10], "device id");
    assert_eq!(seqs(&store, &text("guard-li")), vec![3, 2], "operator");
    assert_eq!(seqs(&store, &text("refused")), vec![7], "event text");
    assert_eq!(
        seqs(&store, &text("door held open")),
        vec![8, 4],
        "condition name"
    );
    assert_eq!(seqs(&store, &text("\"quoted\" (x)")), Vec::<i64>::new());
}

#[test]
fn text_filter_short_chinese_words() {
    let dir = tempfile::tempdir().unwrap();
    let store = seed(&dir.path().join("log.sqlite"));
    assert_eq!(seqs(&store, &text("烟感")), vec![9, 2, 1]);
    assert_eq!(seqs(&store, &text("巡更")), vec![3]);
    assert_eq!(seqs(&store, &text("误报")), vec![9]);
    assert_eq!(
        seqs(&store, &text("火警")),
        vec![2, 1],
        "condition's Chinese name"
    );
    assert_eq!(
        seqs(&store, &text("%")),
        Vec::<i64>::new(),
        "wildcards are literal"
    );
    let door_by_wang = LogFilter {
        operator: Some("guard-wang".into()),
        text: Some("门".into()),
        ..LogFilter::default()
    };
    assert_eq!(seqs(&store, &door_by_wang), vec![8]);
}

#[test]
fn missing_index_rows_are_rebuilt_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sqlite");
    drop(seed(&path));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("DELETE FROM log_entries WHERE seq > 6", [])
        .unwrap();
    drop(conn);

    let store = Store::open(&path).unwrap();
    assert_eq!(seqs(&store, &text("烟感")), vec![9, 2, 1]);
    assert_eq!(seqs(&store, &text("交班：一切正常")), vec![12]);
}
