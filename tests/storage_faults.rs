//! Storage faults: a database another program holds locked, a disk that
//! fills up, and actions attached consoles hand in through the file. The
//! writer must hold what the disk refuses, keep the screen live, retry
//! without a storm and save everything once the disk takes writes again.
//! Messages are acknowledged to the broker only once they are saved, so a
//! recorder killed while the disk refuses writes loses nothing.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use guardroom::domain::alarm::{Action, ActionKind};
use guardroom::domain::device::{DetectorClass, DeviceKind, DeviceSpec};
use guardroom::domain::projection::Delta;
use guardroom::domain::storage::{FaultKind, Storage, StorageFault};
use guardroom::domain::{Observation, ReportedState};
use guardroom::ingest::link::Inbound;
use guardroom::recorder::writer::{Input, OnCommit, Settings, Writer};
use guardroom::store::Store;
use jiff::Timestamp;
use rusqlite::Connection;
use support::{Broker, DEADLINE, Home, Publisher, TestDevice, wait_for};
use uuid::Uuid;

fn smoke(id: &str) -> DeviceSpec {
    DeviceSpec {
        id: id.into(),
        kind: DeviceKind::Detector,
        class: Some(DetectorClass::Smoke),
        name: format!("烟感 {id}"),
        building: "3号楼".into(),
        zone: "楼道".into(),
        gateway: None,
        interval_s: 60,
    }
}

fn writer(path: &Path, devices: &[&str]) -> Writer {
    let store = Store::open(path).expect("opening the store");
    let settings = Settings {
        inventory: devices.iter().map(|id| smoke(id)).collect(),
        unregistered_interval_s: 300,
        ..Settings::default()
    };
    Writer::new(store, settings).expect("starting the writer")
}

fn smoke_event(device: &str, event_id: &str) -> Input {
    let now = Timestamp::now();
    Input::Link(Inbound::Observed {
        observation: Observation::DeviceEvent {
            device: device.into(),
            event_id: event_id.into(),
            event: "smoke".into(),
            text: None,
            source_ts: Some(now),
        },
        received: now,
    })
}

fn door_state(device: &str, state: ReportedState) -> Input {
    let now = Timestamp::now();
    Input::Link(Inbound::Observed {
        observation: Observation::State {
            device: device.into(),
            describes: Default::default(),
            reported: guardroom::domain::Reported {
                state,
                locked: None,
                recording: None,
                battery: None,
                battery_low: false,
                signal: None,
            },
            retained: false,
            seen_at: Some(now),
        },
        received: now,
    })
}

fn action(alarm: u64, kind: ActionKind, console: &str) -> Action {
    Action {
        id: Uuid::new_v4(),
        alarm: Some(alarm),
        kind,
        operator: "值班员甲".into(),
        role: "guard".into(),
        console: console.into(),
        via_ssh: false,
        remark: String::new(),
    }
}

/// Deltas the writer hands the screen, collected for the test.
#[derive(Clone, Default)]
struct Screen(Arc<Mutex<Vec<Delta>>>);

impl Screen {
    fn on_commit(&self) -> OnCommit {
        let deltas = self.0.clone();
        Box::new(move |delta| deltas.lock().unwrap().push(delta))
    }

    fn last(&self) -> Delta {
        self.0.lock().unwrap().last().cloned().expect("a delta")
    }
}

fn held(delta: &Delta) -> StorageFault {
    match &delta.storage {
        Storage::Held(fault) => fault.clone(),
        other => panic!("expected held writes, found {other:?}"),
    }
}

fn count(path: &Path, sql: &str) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

fn integrity(path: &Path) -> String {
    let conn = Connection::open(path).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap()
}

/// Ticks the writer until a delta says everything is saved again.
fn tick_until_saved(writer: &mut Writer, screen: &Screen) {
    let mut on_commit = screen.on_commit();
    wait_for("the held writes to be saved", DEADLINE * 2, || {
        writer.process([Input::Tick(Timestamp::now())], Some(&mut on_commit));
        (screen.last().storage == Storage::Saved).then_some(())
    });
}

/// The writer's first alarm, raised by a smoke event.
fn raise_alarm(writer: &mut Writer, device: &str) -> u64 {
    writer.process([smoke_event(device, "first")], None);
    *writer
        .projection()
        .alarms
        .open
        .keys()
        .next()
        .expect("the smoke event opened an alarm")
}

#[test]
fn locked_database_holds_the_action_and_saves_it_later() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardroom.sqlite");
    let mut writer = writer(&path, &["smoke-1"]);
    let alarm = raise_alarm(&mut writer, "smoke-1");
    let screen = Screen::default();
    let mut on_commit = screen.on_commit();

    // Another program takes the write lock and keeps it.
    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let acknowledge = action(alarm, ActionKind::Acknowledge, "duty-1");
    writer.process([Input::Act(acknowledge.clone())], Some(&mut on_commit));

    let fault = held(&screen.last());
    assert_eq!(fault.kind, FaultKind::Locked, "{fault:?}");
    assert_eq!(fault.held_actions, 1, "the action is held, not dropped");
    assert!(
        writer.projection().alarms.open[&alarm].acknowledged,
        "the screen already shows the acknowledgement"
    );

    // Before the pause is over the writer does not try again.
    writer.process([Input::Tick(Timestamp::now())], Some(&mut on_commit));
    assert_eq!(
        held(&screen.last()).retry_at,
        fault.retry_at,
        "no early retry"
    );

    other.execute_batch("COMMIT").unwrap();
    drop(other);
    tick_until_saved(&mut writer, &screen);

    let stored = count(
        &path,
        &format!(
            "SELECT COUNT(*) FROM events WHERE dedupe_key = 'act:{}'",
            acknowledge.id
        ),
    );
    assert_eq!(stored, 1, "the acknowledgement is saved once");
}

/// A small tmpfs of its own, unmounted on drop: a disk that really fills.
struct SmallDisk {
    mount: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("disk");
        std::fs::create_dir(&mount).unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&mount)
            .output()
            .expect("running mount");
        assert!(
            output.status.success(),
            "the full-disk test mounts a small tmpfs and needs root for it: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Self { mount, _dir: dir }
    }

    /// Writes a filler file until the disk is full.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.mount.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0_u8; 4096];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mount).status();
    }
}

#[test]
fn full_disk_gives_one_alert_keeps_the_screen_live_and_recovers() {
    let disk = SmallDisk::mount("2m");
    let path = disk.mount.join("guardroom.sqlite");
    let devices: Vec<String> = (0..20).map(|index| format!("smoke-{index}")).collect();
    let names: Vec<&str> = devices.iter().map(String::as_str).collect();
    let mut writer = writer(&path, &names);
    let alarm = raise_alarm(&mut writer, "smoke-0");
    let screen = Screen::default();
    let mut on_commit = screen.on_commit();

    let filler = disk.fill();
    let mut burst: Vec<Input> = (0..400)
        .map(|index| smoke_event(&devices[index % devices.len()], &format!("burst-{index}")))
        .collect();
    let remark = Action {
        remark: "已派人到现场查看".into(),
        ..action(alarm, ActionKind::Remark, "duty-1")
    };
    burst.push(Input::Act(remark.clone()));
    writer.process(burst, Some(&mut on_commit));

    let fault = held(&screen.last());
    assert_eq!(fault.kind, FaultKind::Full, "{fault:?}");
    assert_eq!(fault.held_actions, 1);
    assert!(fault.held_events >= 400, "{fault:?}");
    let live = screen.last();
    assert!(
        live.alarms.len() >= devices.len(),
        "the screen gets the new alarms while the disk is full: {} rows",
        live.alarms.len()
    );

    // More input while the disk is full: still one spell, no new attempt.
    writer.process([smoke_event("smoke-1", "during")], Some(&mut on_commit));
    let later = held(&screen.last());
    assert_eq!(
        (later.since, later.retry_at),
        (fault.since, fault.retry_at),
        "input before the pause is over does not retry"
    );

    std::fs::remove_file(filler).unwrap();
    tick_until_saved(&mut writer, &screen);

    let burst_events = count(
        &path,
        "SELECT COUNT(*) FROM events WHERE dedupe_key LIKE 'evt:%:burst-%'",
    );
    assert_eq!(burst_events, 400, "every held event saved once");
    let remarks = count(
        &path,
        &format!(
            "SELECT COUNT(*) FROM events WHERE dedupe_key = 'act:{}'",
            remark.id
        ),
    );
    assert_eq!(remarks, 1, "the remark is saved once");
    assert_eq!(integrity(&path), "ok");
}

#[test]
fn attached_console_requests_are_applied_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardroom.sqlite");
    let mut writer = writer(&path, &["smoke-1"]);
    let alarm = raise_alarm(&mut writer, "smoke-1");

    // The attached console writes to the same file through its own connection.
    let mut attached = Store::open(&path).unwrap();
    let first = action(alarm, ActionKind::Acknowledge, "guard-2");
    attached.request(&first, Timestamp::now()).unwrap();
    attached.request(&first, Timestamp::now()).unwrap();
    assert_eq!(
        attached.pending_request_count().unwrap(),
        1,
        "one row per action id"
    );

    writer.process([Input::Poll], None);
    assert!(writer.projection().alarms.open[&alarm].acknowledged);
    assert_eq!(attached.pending_request_count().unwrap(), 0);

    let again = action(alarm, ActionKind::Acknowledge, "guard-2");
    attached.request(&again, Timestamp::now()).unwrap();
    writer.process([Input::Poll], None);
    let refused = attached.refused_requests("guard-2", 0).unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].action, again.id);
    assert!(
        refused[0].reason.contains("already acknowledged"),
        "{}",
        refused[0].reason
    );
    assert!(attached.refused_requests("duty-1", 0).unwrap().is_empty());

    let acted = count(
        &path,
        "SELECT COUNT(*) FROM events WHERE kind = 'alarm_acted'",
    );
    assert_eq!(acted, 1, "the refused request left no event");

    // Nothing happened in the file since: the next poll reads nothing.
    writer.process(
        [Input::Poll, door_state("smoke-1", ReportedState::Normal)],
        None,
    );
    assert_eq!(
        count(
            &path,
            "SELECT COUNT(*) FROM requests WHERE state = 'applied'"
        ),
        1
    );
}

#[test]
fn message_is_acknowledged_only_after_it_is_saved() {
    let broker = Broker::start_new();
    let home = Home::new();
    let smoke = TestDevice {
        id: "smoke-1".into(),
        name: "3号楼烟感".into(),
        kind: "detector",
        class: Some("smoke"),
    };
    let config = home.write_config("acksite", &broker.url(), &[smoke]);
    let database = home.path().join("guardroom.sqlite");
    let args = [
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--db",
        database.to_str().unwrap(),
    ];
    let mut serve = home.spawn("serve-1", &args);
    wait_for("serve to create the database", DEADLINE, || {
        // The file exists a moment before its tables do.
        if !database.exists() {
            return None;
        }
        let conn = Connection::open(&database).ok()?;
        let events: i64 = conn
            .query_row("SELECT COUNT(*) FROM events", [], |row| row.get(0))
            .ok()?;
        (events > 0).then_some(())
    });
    wait_for("serve to come online", DEADLINE, || {
        (home.status_json(&database)["link"]["recorded_state"] == "online").then_some(())
    });

    // Another program holds the database while the event arrives; the
    // recorder can only hold it in memory, and is then killed.
    let other = Connection::open(&database).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let mut publisher = Publisher::connect(broker.port());
    publisher.publish(
        "gr/v1/acksite/evt/smoke-1",
        r#"{"v":1,"id":"held-1","type":"smoke","text":"烟雾浓度超标"}"#,
        false,
    );
    publisher.flush();
    let started = Instant::now();
    wait_for(
        "the recorder to report the locked database",
        DEADLINE,
        || {
            serve.assert_running();
            serve
                .output()
                .contains("commit failed; holding the writes in memory")
                .then_some(())
        },
    );
    let pid = serve.pid().to_string();
    let killed = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
    assert!(killed.success());
    drop(serve);
    other.execute_batch("ROLLBACK").unwrap();
    drop(other);
    let stored = || {
        count(
            &database,
            "SELECT COUNT(*) FROM events WHERE dedupe_key = 'evt:smoke-1:held-1'",
        )
    };
    assert_eq!(stored(), 0, "the killed recorder never saved it");

    // The broker never had the acknowledgement, so it delivers the event
    // again to the next recorder.
    let _serve = home.spawn("serve-2", &args);
    wait_for(
        "the event to be delivered again and saved",
        DEADLINE,
        || (stored() == 1).then_some(()),
    );
    eprintln!(
        "event saved by the second recorder {:?} after it was first published",
        started.elapsed()
    );
}

#[test]
fn wal_stays_bounded_while_a_console_follows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardroom.sqlite");
    let devices: Vec<String> = (0..50).map(|index| format!("smoke-{index}")).collect();
    let names: Vec<&str> = devices.iter().map(String::as_str).collect();
    let mut writer = writer(&path, &names);

    // An attached console follows the file the whole time.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let follower = {
        let path = path.clone();
        std::thread::spawn(move || {
            let mut seen = 0_usize;
            guardroom::app::follow::follow(
                path,
                0,
                None,
                "duty-2",
                |_| {
                    seen += 1;
                    true
                },
                stopped,
            )
            .expect("following the file");
            seen
        })
    };

    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let mut largest = 0;
    for batch in 0..120 {
        let events: Vec<Input> = (0..250)
            .map(|index| {
                smoke_event(
                    &devices[index % devices.len()],
                    &format!("b{batch}-{index}"),
                )
            })
            .collect();
        writer.process(events, None);
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |meta| meta.len()));
    }
    let _ = stop.send(true);
    let deltas = follower.join().expect("the follower thread");

    let database = std::fs::metadata(&path).unwrap().len();
    eprintln!(
        "largest WAL {largest} bytes, database {database} bytes, follower saw {deltas} deltas"
    );
    assert!(deltas > 0, "the follower saw the commits");
    assert!(
        database > 2 * largest,
        "the WAL ({largest} bytes) stays well below the log it wrote ({database} bytes)"
    );
    assert!(largest < 16 * 1024 * 1024, "WAL grew to {largest} bytes");
    assert_eq!(integrity(&path), "ok");
}
