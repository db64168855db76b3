//! Repair tickets and eldercare check-ins through a real mosquitto broker,
//! the real recorder and a real SQLite file. Retained ticket records are
//! stored and counted, and operators' ticket actions are published back
//! retained with their new version. Concurrent edits are kept side by side.
//! A missed check-in climbs the ladder on schedule, an SOS raises a P1 alarm
//! at once, and a new recorder on the same file replays the same tickets
//! and care state.

mod support;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use guardroom::config::{self, Config};
use guardroom::domain::alarm::{Action, ActionKind, Alarm, Condition, Priority};
use guardroom::domain::care::Stage;
use guardroom::domain::projection::Delta;
use guardroom::domain::services::Services;
use guardroom::domain::ticket::{Side, TicketActionKind, TicketState};
use guardroom::i18n::Lang;
use guardroom::ingest::LinkState;
use guardroom::ingest::link::LinkStatus;
use guardroom::recorder::Recorder;
use guardroom::store::Store;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use support::{
    Broker, DEADLINE, Home, Publisher, Subscriber, config_toml, unique_client_id, wait_for,
};
use tokio::sync::watch;
use uuid::Uuid;

const SITE: &str = "servicetest";

fn topic(tail: &str) -> String {
    format!("gr/v1/{SITE}/{tail}")
}

/// Writes a configuration with `care` appended (a `[care]` section, or
/// nothing) into `dir`, and returns its path and the loaded configuration.
fn write_config(broker: &Broker, dir: &Path, care: &str) -> (PathBuf, Config) {
    let mut text = config_toml(SITE, &broker.url(), &unique_client_id("gr-svc"), &[]);
    text.push_str(care);
    let path = dir.join("guardroom.toml");
    std::fs::write(&path, &text).unwrap();
    let config = config::load(&path, Lang::En).expect("test config is valid");
    (path, config)
}

/// A recorder in this process, with its commits and link state observable.
struct Running {
    recorder: Recorder,
    deltas: mpsc::Receiver<Delta>,
    link: watch::Receiver<LinkState>,
}

fn start(config: &Config, database: &Path, runtime: &tokio::runtime::Runtime) -> Running {
    let (link_tx, link) = watch::channel(LinkState::default());
    let (tx, deltas) = mpsc::channel();
    let on_commit = Box::new(move |delta| {
        let _ = tx.send(delta);
    });
    let recorder = Recorder::start(
        config,
        database.to_path_buf(),
        link_tx,
        Some(on_commit),
        runtime.handle(),
    )
    .expect("the recorder starts");
    let running = Running {
        recorder,
        deltas,
        link,
    };
    wait_for("the link to come online", DEADLINE, || {
        matches!(running.link.borrow().status, LinkStatus::Online { .. }).then_some(())
    });
    running
}

impl Running {
    /// Waits for a commit that carries an alarm matching `check`.
    fn wait_alarm(&self, what: &str, check: impl Fn(&Alarm) -> bool) -> Alarm {
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            if let Ok(delta) = self.deltas.recv_timeout(Duration::from_millis(50))
                && let Some(alarm) = delta.alarms.iter().find(|alarm| check(alarm))
            {
                return alarm.clone();
            }
        }
        panic!("no commit with {what} within {DEADLINE:?}");
    }

    fn submit(&self, action: Action) {
        (self.recorder.submitter())(action).expect("the recorder takes the action");
    }

    fn stop(self, runtime: &tokio::runtime::Runtime) {
        runtime.block_on(self.recorder.stop());
    }
}

fn action(kind: ActionKind, role: &str, remark: &str) -> Action {
    Action {
        id: Uuid::new_v4(),
        alarm: None,
        kind,
        operator: "测试员丁".into(),
        role: role.into(),
        console: "duty-1".into(),
        via_ssh: false,
        remark: remark.into(),
    }
}

fn services(database: &Path, config: &Config) -> Services {
    Store::open_read_only(database)
        .unwrap()
        .load_services(config.service_setup())
        .unwrap()
}

fn ticket_payload(id: &str, version: u64, state: &str, assignee: Option<&str>) -> String {
    let assignee = assignee.map_or(String::new(), |a| format!(r#","assignee":"{a}""#));
    format!(
        r#"{{"v":1,"id":"{id}","version":{version},"ts":"2026-12-04T09:3{version}:00+08:00","created_at":"2026-12-04T09:00:00+08:00","state":"{state}","category":"plumbing","urgency":"urgent","location":"3栋 2单元 1201","description":"厨房水管漏水","reporter":{{"name":"测试员甲","phone":"13800000001"}}{assignee}}}"#
    )
}

/// Waits for the retained record of `ticket/<id>` with `version`, read by a
/// new subscriber: a retained message is what a new subscriber gets first.
fn retained_record(broker: &Broker, id: &str, version: u64) -> Value {
    wait_for("the retained ticket record", DEADLINE, || {
        let subscriber = Subscriber::connect(broker.port(), &topic(&format!("ticket/{id}")));
        let (_, payload) = subscriber.next(Duration::from_secs(2))?;
        let record: Value = serde_json::from_slice(&payload).expect("the record is JSON");
        (record["version"] == version).then_some(record)
    })
}

#[test]
fn retained_ticket_is_stored_and_claim_published_back() {
    let broker = Broker::start_new();
    let home = Home::new();
    let (_, config) = write_config(&broker, home.path(), "");
    let database = home.path().join("guardroom.db");
    let runtime = guardroom::cli::console::runtime();

    let mut publisher = Publisher::connect(broker.port());
    publisher.publish(
        &topic("ticket/R-1001"),
        ticket_payload("R-1001", 1, "new", None),
        true,
    );
    publisher.flush();

    let running = start(&config, &database, &runtime);
    wait_for("the ticket in the store", DEADLINE, || {
        services(&database, &config).tickets.get("R-1001").cloned()
    });
    let status = home.status_json(&database);
    assert_eq!(status["tickets"]["total"], 1, "{status}");
    assert_eq!(status["tickets"]["by_state"]["new"], 1, "{status}");
    assert_eq!(status["tickets"]["by_state"]["closed"], 0, "zeros are kept");
    assert_eq!(
        status["tickets"]["overdue"], 1,
        "an urgent ticket created on 2026-12-04 is past its 2 h"
    );
    assert!(status["devices"]["total"].is_number(), "existing keys stay");

    let actions = Subscriber::connect(broker.port(), &topic("console/+/act"));
    let claim = action(
        ActionKind::TicketAct {
            ticket: "R-1001".into(),
            act: TicketActionKind::Assign {
                assignee: "测试员丁".into(),
            },
        },
        "maintenance",
        "",
    );
    let claim_id = claim.id;
    running.submit(claim);

    let record = retained_record(&broker, "R-1001", 2);
    assert_eq!(record["state"], "assigned");
    assert_eq!(record["assignee"], "测试员丁");
    assert_eq!(record["description"], "厨房水管漏水", "the rest is kept");
    let (act_topic, payload) = actions.next(DEADLINE).expect("the action is published");
    assert_eq!(act_topic, topic("console/duty-1/act"));
    let published: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(published["id"], claim_id.to_string());
    assert_eq!(published["action"], "ticket_act");

    // The record comes back to the recorder and is in sync: nothing to flag.
    std::thread::sleep(Duration::from_millis(500));
    let ticket = services(&database, &config)
        .tickets
        .get("R-1001")
        .cloned()
        .unwrap();
    assert_eq!(ticket.version, 2);
    assert_eq!(
        ticket.agreed, 2,
        "the echo of its own record confirms version 2"
    );
    assert!(ticket.conflict.is_none());
    running.stop(&runtime);
}

#[test]
fn concurrent_updates_are_kept_side_by_side() {
    let broker = Broker::start_new();
    let home = Home::new();
    let (_, config) = write_config(&broker, home.path(), "");
    let database = home.path().join("guardroom.db");
    let runtime = guardroom::cli::console::runtime();
    let running = start(&config, &database, &runtime);

    let mut publisher = Publisher::connect(broker.port());
    publisher.publish(
        &topic("ticket/R-2001"),
        ticket_payload("R-2001", 1, "new", None),
        true,
    );
    publisher.flush();
    wait_for("the ticket in the store", DEADLINE, || {
        services(&database, &config).tickets.get("R-2001").cloned()
    });

    // A console attached to the recorder hands in its action as a request row.
    let local = action(
        ActionKind::TicketAct {
            ticket: "R-2001".into(),
            act: TicketActionKind::Assign {
                assignee: "测试员丁".into(),
            },
        },
        "maintenance",
        "",
    );
    Store::open(&database)
        .unwrap()
        .request(&local, Timestamp::now())
        .unwrap();
    retained_record(&broker, "R-2001", 2);

    // The property system made its own version 2 meanwhile.
    publisher.publish(
        &topic("ticket/R-2001"),
        ticket_payload("R-2001", 2, "assigned", Some("测试员戊")),
        true,
    );
    publisher.flush();
    let ticket = wait_for("the conflict to be flagged", DEADLINE, || {
        let ticket = services(&database, &config)
            .tickets
            .get("R-2001")
            .cloned()?;
        ticket.conflict.is_some().then_some(ticket)
    });
    assert_eq!(
        ticket.content.assignee.as_deref(),
        Some("测试员丁"),
        "the local side is kept"
    );
    let remote = &ticket.conflict.as_ref().unwrap().remote;
    assert_eq!(
        remote.content.assignee.as_deref(),
        Some("测试员戊"),
        "the MQTT side is kept beside it"
    );
    let home_status = home.status_json(&database);
    assert_eq!(home_status["tickets"]["conflicts"], 1, "{home_status}");

    let resolve = action(
        ActionKind::TicketAct {
            ticket: "R-2001".into(),
            act: TicketActionKind::ResolveConflict { keep: Side::Remote },
        },
        "supervisor",
        "",
    );
    Store::open(&database)
        .unwrap()
        .request(&resolve, Timestamp::now())
        .unwrap();
    let record = retained_record(&broker, "R-2001", 3);
    assert_eq!(
        record["assignee"], "测试员戊",
        "the chosen side is published"
    );

    // A later MQTT version is taken as it is.
    publisher.publish(
        &topic("ticket/R-2001"),
        ticket_payload("R-2001", 4, "in_progress", Some("测试员戊")),
        true,
    );
    publisher.flush();
    let ticket = wait_for("the newer record to be taken", DEADLINE, || {
        let ticket = services(&database, &config)
            .tickets
            .get("R-2001")
            .cloned()?;
        (ticket.version == 4).then_some(ticket)
    });
    assert_eq!(ticket.state(), TicketState::InProgress);
    assert!(ticket.conflict.is_none());
    running.stop(&runtime);
}

/// Writes a residents file into `dir` and returns the `[care]` section that
/// names it. `r-late` misses a window that closes `closes_in` after now,
/// `r-ok` checks in, and the ladder's stages last `stage_s` seconds.
fn care_config(dir: &Path, closes_in: SignedDuration, stage_s: u32) -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let closes = Timestamp::now()
        .checked_add(closes_in)
        .unwrap()
        .to_zoned_datetime(tz.clone())
        .time();
    let opens = closes.saturating_sub(SignedDuration::from_hours(1));
    let fmt = |t: jiff::civil::Time| t.strftime("%H:%M:%S").to_string();
    let residents = format!(
        r#"[[residents]]
id = "r-late"
name = "测试员甲"
building = "9栋"
room = "101"
phone = "13800000011"
check_in = {{ start = "{opens}", end = "{closes}" }}
contacts = [{{ name = "测试员乙", relation = "女儿", phone = "13800000012" }}]

[[residents]]
id = "r-ok"
name = "测试员丙"
building = "9栋"
room = "102"
check_in = {{ start = "{opens}", end = "{later}" }}
"#,
        opens = fmt(opens),
        closes = fmt(closes),
        later = fmt(closes.saturating_add(SignedDuration::from_mins(30))),
    );
    std::fs::write(dir.join("residents.toml"), residents).unwrap();
    format!(
        "\n[care]\nresidents = \"residents.toml\"\ncall_resident_s = {stage_s}\ncall_contact_s = {stage_s}\n"
    )
}

#[test]
fn missed_check_in_escalates_on_schedule_and_replays() {
    let broker = Broker::start_new();
    let home = Home::new();
    let stage = Duration::from_secs(3);
    let care = care_config(home.path(), SignedDuration::from_secs(4), 3);
    let (config_path, config) = write_config(&broker, home.path(), &care);
    let database = home.path().join("guardroom.db");
    let runtime = guardroom::cli::console::runtime();
    let running = start(&config, &database, &runtime);

    let mut publisher = Publisher::connect(broker.port());
    publisher.publish(
        &topic("care/r-ok/evt"),
        r#"{"v":1,"id":"ci-1","type":"check_in","via":"button"}"#,
        false,
    );
    publisher.flush();

    let first = running.wait_alarm("the missed check-in alarm", |alarm| {
        alarm.source == "care:r-late" && alarm.condition == Condition::MissedCheckIn
    });
    let stage_1_at = Instant::now();
    assert_eq!(first.priority, Priority::P3, "stage 1 is P3");

    let second = running.wait_alarm("stage 2", |alarm| {
        alarm.source == "care:r-late" && alarm.priority == Priority::P2
    });
    let waited = stage_1_at.elapsed();
    assert_eq!(second.id, first.id, "one alarm climbs the ladder");
    assert!(
        waited + Duration::from_millis(1_200) >= stage,
        "stage 2 came after {waited:?}, before its {stage:?}"
    );
    assert!(
        waited <= stage + Duration::from_secs(2),
        "stage 2 came late, after {waited:?}"
    );

    let ladder = wait_for("stage 3", DEADLINE, || {
        let services = services(&database, &config);
        let ladder = services.care.ladder("r-late").cloned()?;
        (ladder.stage == Stage::VisitDoor).then_some(ladder)
    });
    let stage_2_lasted = ladder.stage_since.duration_since(ladder.occurrence.closes);
    assert_eq!(
        stage_2_lasted,
        SignedDuration::from_secs(6),
        "stage 3 begins two stage times after the window closed"
    );

    let config_arg = config_path.to_str().unwrap();
    let db_arg = database.to_str().unwrap();
    let output = home.run(&["status", "--json", "--config", config_arg, "--db", db_arg]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["care"]["residents"], 2, "{status}");
    assert_eq!(status["care"]["in_escalation"], 1, "{status}");
    assert_eq!(status["care"]["checked_in"], 1, "{status}");
    assert_eq!(status["care"]["pending"], 0, "{status}");

    // The guard records that the resident is safe: the ladder ends.
    let outcome = action(
        ActionKind::CareOutcome {
            resident: "r-late".into(),
            outcome: guardroom::domain::care::Outcome::ResidentSafe,
        },
        "guard",
        "",
    );
    running.submit(outcome);
    wait_for("the ladder to end", DEADLINE, || {
        services(&database, &config)
            .care
            .ladder("r-late")
            .is_none()
            .then_some(())
    });

    // Recording the outcome is handling the alarm: it is acknowledged by
    // the guard, so it neither sounds nor waits as cleared but
    // unacknowledged.
    let alarms = wait_for("the alarm acknowledged", DEADLINE, || {
        let (projection, _) = Store::open_read_only(&database)
            .ok()?
            .load_projection()
            .ok()?;
        let alarm = projection
            .alarms
            .open
            .values()
            .find(|alarm| alarm.source == "care:r-late")?
            .clone();
        alarm.acknowledged.then_some(alarm)
    });
    assert!(!alarms.active, "the ladder's end cleared it: {alarms:#?}");
    assert_eq!(
        alarms.shown(),
        guardroom::domain::alarm::Shown::Acknowledged
    );

    let before = services(&database, &config);
    let events_before = Store::open_read_only(&database)
        .unwrap()
        .event_counts()
        .unwrap();
    running.stop(&runtime);

    let again = start(&config, &database, &runtime);
    std::thread::sleep(Duration::from_secs(2));
    let after = services(&database, &config);
    let events_after = Store::open_read_only(&database)
        .unwrap()
        .event_counts()
        .unwrap();
    again.stop(&runtime);

    assert_eq!(after, before, "the replay gives the same care state");
    assert!(
        !after.care.history("r-late").unwrap().is_empty(),
        "the compared history is not empty"
    );
    for kind in ["alarm_raised", "care_signal", "care_watching"] {
        assert_eq!(
            events_after.get(kind),
            events_before.get(kind),
            "the second recorder logs no new {kind}"
        );
    }
}

#[test]
fn sos_raises_p1_at_once() {
    let broker = Broker::start_new();
    let home = Home::new();
    let care = care_config(home.path(), SignedDuration::from_hours(2), 60);
    let (_, config) = write_config(&broker, home.path(), &care);
    let database = home.path().join("guardroom.db");
    let runtime = guardroom::cli::console::runtime();
    let running = start(&config, &database, &runtime);

    let mut publisher = Publisher::connect(broker.port());
    publisher.publish(
        &topic("care/r-ok/evt"),
        r#"{"v":1,"id":"sos-1","type":"sos","text":"卧室"}"#,
        false,
    );
    publisher.flush();
    let sent = Instant::now();
    let alarm = running.wait_alarm("the SOS alarm", |alarm| {
        alarm.source == "care:r-ok" && alarm.condition == Condition::Panic
    });
    let latency = sent.elapsed();
    println!("SOS alarm committed {latency:?} after the broker's ack");
    assert_eq!(alarm.priority, Priority::P1);
    assert!(
        latency < Duration::from_secs(1),
        "raised at once, not on a tick: {latency:?}"
    );

    // A redelivery of the same event raises nothing more.
    publisher.publish(
        &topic("care/r-ok/evt"),
        r#"{"v":1,"id":"sos-1","type":"sos","text":"卧室"}"#,
        false,
    );
    publisher.flush();
    std::thread::sleep(Duration::from_millis(500));
    let counts = Store::open_read_only(&database)
        .unwrap()
        .event_counts()
        .unwrap();
    assert_eq!(counts.get("care_sos"), Some(&1), "{counts:?}");
    running.stop(&runtime);
}
