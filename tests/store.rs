//! The SQLite store and the recorder's writer: migrations, batch commits,
//! redelivery, heartbeats, bad payloads, and replay of the log.

use std::path::Path;

use guardroom::domain::alarm::{Action, ActionKind};
use guardroom::domain::device::{
    Availability, DetectorClass, DeviceKind, DeviceSpec, Liveness, Reported, ReportedState,
};
use guardroom::domain::observation::SelfDescription;
use guardroom::domain::{DeviceStatus, Observation};
use guardroom::ingest::LinkStatus;
use guardroom::ingest::link::Inbound;
use guardroom::recorder::writer::{Input, Settings, Writer};
use guardroom::store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;
use tempfile::TempDir;

/// Schema version this build writes.
const SCHEMA_VERSION: i64 = 5;

/// Returns a base time with a sub-millisecond part, as `Timestamp::now()` has.
fn t0() -> Timestamp {
    "2026-12-04T01:00:00.123456789Z".parse().unwrap()
}

fn at(seconds: i64) -> Timestamp {
    t0() + SignedDuration::from_millis(seconds * 1000 + 7)
}

fn door(id: &str) -> DeviceSpec {
    DeviceSpec {
        id: id.into(),
        kind: DeviceKind::Door,
        class: None,
        name: format!("Door {id}"),
        building: "B1".into(),
        zone: "east".into(),
        gateway: Some("gw-1".into()),
        interval_s: 60,
    }
}

fn camera(id: &str) -> DeviceSpec {
    DeviceSpec {
        id: id.into(),
        kind: DeviceKind::Camera,
        class: None,
        name: format!("Camera {id}"),
        building: "B1".into(),
        zone: "lobby".into(),
        gateway: None,
        interval_s: 60,
    }
}

fn smoke(id: &str) -> DeviceSpec {
    DeviceSpec {
        id: id.into(),
        kind: DeviceKind::Detector,
        class: Some(DetectorClass::Smoke),
        name: format!("Smoke {id}"),
        building: "B2".into(),
        zone: "kitchen".into(),
        gateway: Some("gw-1".into()),
        interval_s: 60,
    }
}

fn writer(path: &Path, inventory: Vec<DeviceSpec>) -> Writer {
    let store = Store::open(path).expect("opening the store");
    let settings = Settings {
        inventory,
        unregistered_interval_s: 300,
        ..Settings::default()
    };
    Writer::new(store, settings).expect("starting the writer")
}

fn database() -> (TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardroom.sqlite");
    (dir, path)
}

fn observed(observation: Observation, received: Timestamp) -> Inbound {
    Inbound::Observed {
        observation,
        received,
    }
}

fn reported(state: ReportedState) -> Reported {
    Reported {
        state,
        locked: None,
        recording: None,
        battery: Some(90),
        battery_low: false,
        signal: None,
    }
}

/// Builds a live state report received at `received`.
fn live_state(device: &str, state: ReportedState, received: Timestamp) -> Inbound {
    observed(
        Observation::State {
            device: device.into(),
            describes: SelfDescription::default(),
            reported: reported(state),
            retained: false,
            seen_at: Some(received),
        },
        received,
    )
}

fn availability(device: &str, online: bool, received: Timestamp) -> Inbound {
    observed(
        Observation::Availability {
            device: device.into(),
            online,
            retained: true,
        },
        received,
    )
}

fn device_event(device: &str, event_id: &str, received: Timestamp) -> Inbound {
    observed(
        Observation::DeviceEvent {
            device: device.into(),
            event_id: event_id.into(),
            event: "smoke".into(),
            text: None,
            source_ts: Some(received),
        },
        received,
    )
}

fn data_error(device: &str, code: &str, received: Timestamp) -> Inbound {
    observed(
        Observation::DataError {
            device: Some(device.into()),
            topic: format!("dev/{device}/state"),
            code: code.into(),
            reason: format!("test payload rejected: {code}"),
        },
        received,
    )
}

fn user_version(path: &Path) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

fn event_kinds(path: &Path) -> Vec<String> {
    let store = Store::open_read_only(path).unwrap();
    store
        .events_after(0, 10_000)
        .unwrap()
        .iter()
        .map(|event| event.body.kind().to_owned())
        .collect()
}

fn event_count(path: &Path) -> i64 {
    Store::open_read_only(path)
        .unwrap()
        .summary()
        .unwrap()
        .event_count
}

#[test]
fn migrate_new_file() {
    let (_dir, path) = database();
    drop(Store::open(&path).expect("opening a new database"));

    assert_eq!(user_version(&path), SCHEMA_VERSION, "schema version");
    let conn = Connection::open(&path).unwrap();
    for table in [
        "events", "devices", "gateways", "meta", "alarms", "outbox", "requests",
    ] {
        let found: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(found, 1, "table {table} exists");
    }
}

#[test]
fn migrate_empty_existing_file() {
    let (_dir, path) = database();
    std::fs::write(&path, b"").unwrap();
    drop(Store::open(&path).expect("opening a zero-byte file"));

    assert_eq!(user_version(&path), SCHEMA_VERSION, "schema version");
    assert_eq!(event_count(&path), 0, "no events in a new log");
}

#[test]
fn reopen_keeps_data() {
    let (_dir, path) = database();
    let mut first = writer(&path, vec![door("door-1")]);
    first.process([live_state("door-1", ReportedState::Open, at(1))], None);
    drop(first);
    let before = event_count(&path);

    let second = writer(&path, vec![door("door-1")]);
    let door = &second.projection().devices["door-1"];

    assert_eq!(
        user_version(&path),
        SCHEMA_VERSION,
        "schema version after reopen"
    );
    assert_eq!(before, 2, "registration and one state change");
    assert_eq!(
        event_count(&path),
        before,
        "reopening with the same inventory adds no events"
    );
    assert_eq!(
        door.reported.as_ref().map(|reported| reported.state),
        Some(ReportedState::Open),
        "state survives a reopen"
    );
    assert!(door.registered, "door stays registered");
}

#[test]
fn newer_schema_refused() {
    let (_dir, path) = database();
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();

    let opened = Store::open(&path);
    let read_only = Store::open_read_only(&path);

    let Err(StoreError::Migration(error)) = opened else {
        panic!("opening a newer schema must fail with a migration error");
    };
    assert!(
        error.to_string().contains("newer"),
        "message says the file is newer: {error}"
    );
    assert!(
        matches!(read_only, Err(StoreError::Migration(_))),
        "read-only open of a newer schema must fail too"
    );
    assert_eq!(user_version(&path), 99, "a refused file is left as it was");
}

#[test]
fn batch_commits_in_order() {
    let (_dir, path) = database();
    let mut writer = writer(
        &path,
        vec![door("door-1"), camera("cam-1"), smoke("smoke-1")],
    );
    writer.process(
        [
            Inbound::Link(LinkStatus::Online { since: at(0) }),
            live_state("door-1", ReportedState::Closed, at(1)),
            live_state("door-1", ReportedState::Open, at(2)),
            availability("cam-1", true, at(3)),
            observed(
                Observation::GatewayAvailability {
                    gateway: "gw-1".into(),
                    online: false,
                    retained: true,
                },
                at(4),
            ),
            device_event("smoke-1", "evt-1", at(5)),
            Inbound::Unattributed {
                received: at(6),
                bad: true,
            },
            live_state("stray-1", ReportedState::Alarm, at(7)),
        ],
        None,
    );

    let store = Store::open_read_only(&path).unwrap();
    let (projection, meta) = store.load_projection().unwrap();

    assert_eq!(
        event_kinds(&path),
        [
            "device_registered",
            "device_registered",
            "device_registered",
            "link_changed",
            "state_reported",
            "state_reported",
            "availability_changed",
            "gateway_availability_changed",
            "device_event_raised",
            "alarm_raised",
            "device_discovered",
            "state_reported",
            "alarm_raised",
        ],
        "events in the order they were observed"
    );
    assert_eq!(meta.rev, 2, "one commit at start-up and one for the batch");
    assert_eq!(meta.bad_payloads, 1, "the bad topic is counted");
    assert_eq!(
        meta.last_message.map(|time| time.as_millisecond()),
        Some(at(7).as_millisecond()),
        "newest receive time, in the store's milliseconds"
    );
    assert_eq!(
        projection.devices["door-1"]
            .reported
            .as_ref()
            .unwrap()
            .state,
        ReportedState::Open,
        "door holds its last state"
    );
    assert_eq!(
        projection.devices["cam-1"].availability,
        Availability::Online,
        "camera is online"
    );
    assert_eq!(
        projection.gateways["gw-1"].availability,
        Availability::Offline,
        "gateway is offline"
    );
    assert!(
        !projection.devices["stray-1"].registered,
        "a device outside the inventory is discovered, not registered"
    );
    assert_eq!(
        projection.link.as_ref().map(|link| link.online),
        Some(true),
        "link is recorded online"
    );
    assert_eq!(
        projection.last_seq, 13,
        "last_seq is the newest event's seq, the two alarms included"
    );
}

#[test]
fn redelivered_event_stored_once() {
    let (_dir, path) = database();
    let mut first = writer(&path, vec![smoke("smoke-1")]);
    first.process(
        [
            device_event("smoke-1", "evt-1", at(1)),
            device_event("smoke-1", "evt-1", at(2)),
        ],
        None,
    );
    first.process([device_event("smoke-1", "evt-1", at(3))], None);
    drop(first);
    let mut second = writer(&path, vec![smoke("smoke-1")]);
    second.process([device_event("smoke-1", "evt-1", at(4))], None);
    let after_redelivery = event_kinds(&path);
    second.process([device_event("smoke-1", "evt-2", at(5))], None);

    let raised = |kinds: &[String]| {
        kinds
            .iter()
            .filter(|kind| *kind == "device_event_raised")
            .count()
    };
    assert_eq!(
        raised(&after_redelivery),
        1,
        "one event for four deliveries of evt-1, across batches and restarts"
    );
    assert_eq!(raised(&event_kinds(&path)), 2, "a new id is a new event");
    let recent_events = second.projection().devices["smoke-1"]
        .recent
        .iter()
        .filter(|recent| recent.what == "event")
        .count();
    assert_eq!(
        recent_events, 2,
        "the device's history holds each event once"
    );
}

#[test]
fn heartbeat_moves_last_seen() {
    let (_dir, path) = database();
    let mut writer = writer(&path, vec![door("door-1")]);
    writer.process([live_state("door-1", ReportedState::Closed, at(1))], None);
    let before = event_count(&path);

    writer.process([live_state("door-1", ReportedState::Closed, at(30))], None);
    writer.process([live_state("door-1", ReportedState::Closed, at(20))], None);

    let (projection, _) = Store::open_read_only(&path)
        .unwrap()
        .load_projection()
        .unwrap();
    let door = &projection.devices["door-1"];
    assert_eq!(event_count(&path), before, "repeats add no events");
    assert_eq!(
        door.last_seen,
        Some(at(30)),
        "last_seen moves to the newest repeat"
    );
    assert_eq!(
        door.last_change,
        Some(at(1)),
        "last_change stays at the change"
    );
    assert_eq!(
        projection.status_of(door, at(31), Liveness::default()),
        DeviceStatus::Normal,
        "a door heard from is normal"
    );
}

#[test]
fn bad_payload_keeps_last_state() {
    let (_dir, path) = database();
    let mut writer = writer(&path, vec![door("door-1")]);
    writer.process([live_state("door-1", ReportedState::Closed, at(1))], None);
    writer.process([data_error("door-1", "invalid_json", at(2))], None);

    let store = Store::open_read_only(&path).unwrap();
    let (projection, meta) = store.load_projection().unwrap();
    let door = &projection.devices["door-1"];
    assert_eq!(
        door.data_error.as_ref().map(|error| error.code.as_str()),
        Some("invalid_json"),
        "data error recorded with its code"
    );
    assert_eq!(
        door.reported.as_ref().map(|reported| reported.state),
        Some(ReportedState::Closed),
        "last good state kept"
    );
    assert_eq!(
        projection.status_of(door, at(3), Liveness::default()),
        DeviceStatus::DataError,
        "status shows the data error"
    );
    assert_eq!(meta.bad_payloads, 1, "bad payload counted");

    // A state a door cannot have is a data error too.
    writer.process(
        [live_state("door-1", ReportedState::VideoLoss, at(4))],
        None,
    );
    let (projection, _) = store.load_projection().unwrap();
    let door = &projection.devices["door-1"];
    assert_eq!(
        door.data_error.as_ref().map(|error| error.code.as_str()),
        Some("bad_field"),
        "a state invalid for the kind is a bad field"
    );
    assert_eq!(
        door.reported.as_ref().map(|reported| reported.state),
        Some(ReportedState::Closed),
        "last good state kept after an invalid state"
    );

    // The next good report, even an unchanged one, clears the error.
    writer.process([live_state("door-1", ReportedState::Closed, at(5))], None);
    let (projection, _) = store.load_projection().unwrap();
    let door = &projection.devices["door-1"];
    assert_eq!(door.data_error, None, "a good report clears the data error");
    assert_eq!(
        event_kinds(&path).last().map(String::as_str),
        Some("state_reported"),
        "the recovery is an event"
    );
}

#[test]
fn replay_equals_snapshots() {
    let (_dir, path) = database();
    let mut writer = writer(
        &path,
        vec![door("door-1"), camera("cam-1"), smoke("smoke-1")],
    );
    writer.process(
        [
            Inbound::Link(LinkStatus::Online { since: at(0) }),
            live_state("door-1", ReportedState::Closed, at(1)),
            availability("door-1", true, at(1)),
            live_state("cam-1", ReportedState::Ok, at(2)),
            observed(
                Observation::State {
                    device: "stray-1".into(),
                    describes: SelfDescription {
                        kind: Some(DeviceKind::Detector),
                        class: Some(DetectorClass::WaterLeak),
                        name: Some("Basement leak".into()),
                        ..SelfDescription::default()
                    },
                    reported: reported(ReportedState::Normal),
                    retained: true,
                    seen_at: None,
                },
                at(2),
            ),
        ],
        None,
    );
    writer.process(
        [
            live_state("door-1", ReportedState::Open, at(3)),
            live_state("door-1", ReportedState::Open, at(4)),
            device_event("smoke-1", "evt-1", at(5)),
            device_event("smoke-1", "evt-1", at(6)),
            data_error("cam-1", "invalid_json", at(7)),
            observed(
                Observation::GatewayAvailability {
                    gateway: "gw-1".into(),
                    online: false,
                    retained: true,
                },
                at(8),
            ),
            availability("cam-1", false, at(9)),
        ],
        None,
    );
    writer.process(
        [
            Inbound::Link(LinkStatus::Offline {
                since: at(10),
                attempt: 1,
                retry_at: at(11),
                reason: "connection refused".into(),
            }),
            live_state("door-1", ReportedState::Closed, at(12)),
            live_state("door-1", ReportedState::Closed, at(40)),
        ],
        None,
    );
    let fire = writer
        .projection()
        .alarms
        .open
        .values()
        .find(|alarm| alarm.source == "smoke-1")
        .expect("the smoke event raised an alarm")
        .id;
    let acknowledge = Action {
        id: uuid::Uuid::new_v4(),
        alarm: Some(fire),
        kind: ActionKind::Acknowledge,
        operator: "tester".into(),
        role: "guard".into(),
        console: "duty-1".into(),
        via_ssh: false,
        remark: "seen".into(),
    };
    writer.process([Input::Tick(at(400)), Input::Act(acknowledge)], None);
    drop(writer);

    let store = Store::open_read_only(&path).unwrap();
    let (snapshot, _) = store.load_projection().unwrap();
    let replayed = store.replay().unwrap();

    assert_eq!(
        snapshot.alarms, replayed.alarms,
        "alarms replay to their snapshots"
    );
    assert!(
        snapshot.alarms.open.values().any(|a| a.source == "cam-1"),
        "the camera offline since 9 s has its alarm after the debounce"
    );
    assert!(snapshot.alarms.get(fire).unwrap().acknowledged);

    assert_eq!(
        snapshot.devices.keys().collect::<Vec<_>>(),
        replayed.devices.keys().collect::<Vec<_>>(),
        "same devices"
    );
    for (id, from_snapshot) in &snapshot.devices {
        let mut from_snapshot = from_snapshot.clone();
        let mut from_log = replayed.devices[id].clone();
        // Heartbeats move last_seen without an event, so only the snapshot has them.
        from_snapshot.last_seen = None;
        from_log.last_seen = None;
        assert_eq!(
            from_snapshot, from_log,
            "device {id} replays to its snapshot"
        );
    }
    assert_eq!(snapshot.gateways, replayed.gateways, "gateways");
    assert_eq!(snapshot.link, replayed.link, "link");
    assert_eq!(snapshot.last_seq, replayed.last_seq, "last_seq");
    assert_eq!(
        snapshot.devices["door-1"].last_seen,
        Some(at(40)),
        "snapshot holds the heartbeat's last_seen"
    );
    assert_eq!(
        replayed.devices["door-1"].last_seen,
        Some(at(12)),
        "replay stops at the last change"
    );
}

#[test]
fn unreadable_file_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardroom.sqlite");
    let garbage =
        b"this is not a SQLite database, just text a user saved here by mistake\n".repeat(200);
    std::fs::write(&path, &garbage).unwrap();

    let (store, moved) = Store::open_recovering(&path).unwrap();
    let moved = moved.expect("the unreadable file is moved aside");
    assert_eq!(
        std::fs::read(&moved).unwrap(),
        garbage,
        "the old file is kept unchanged"
    );
    assert!(
        moved
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("guardroom.sqlite.unreadable-"),
        "{}",
        moved.display()
    );
    assert_eq!(
        store.summary().unwrap().event_count,
        0,
        "a fresh database is started"
    );
}

#[test]
fn empty_file_is_a_fresh_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardroom.sqlite");
    std::fs::write(&path, b"").unwrap();
    let (store, moved) = Store::open_recovering(&path).unwrap();
    assert!(
        moved.is_none(),
        "a zero-length file is a valid empty database"
    );
    assert_eq!(store.summary().unwrap().event_count, 0);
}

#[test]
fn truncated_database_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardroom.sqlite");
    {
        let store = Store::open(&path).unwrap();
        drop(store);
    }
    // Keep the header page only: the schema's tables point past the end.
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 4096, "database has more than one page");
    std::fs::write(&path, &bytes[..4096]).unwrap();
    let (_store, moved) = Store::open_recovering(&path).unwrap();
    assert!(moved.is_some(), "a truncated database is moved aside");
}
