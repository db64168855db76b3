//! Alarms through a real mosquitto broker and a real SQLite file. A smoke
//! event reaches the queue, and an acknowledgement is committed and
//! published once with its id. The queue survives a restart. An action taken
//! while the broker is down is published from the outbox when it returns,
//! even by the next recorder.

mod support;

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use guardroom::app::ActError;
use guardroom::config::{self, Config};
use guardroom::domain::alarm::{Action, ActionKind, AlarmBook, Condition};
use guardroom::domain::projection::Delta;
use guardroom::i18n::Lang;
use guardroom::ingest::LinkState;
use guardroom::ingest::link::LinkStatus;
use guardroom::recorder::Recorder;
use guardroom::store::Store;
use serde_json::Value;
use support::{
    Broker, DEADLINE, Publisher, Subscriber, TestDevice, config_toml, unique_client_id, wait_for,
};
use tokio::sync::watch;
use uuid::Uuid;

const SITE: &str = "alarmtest";

fn topic(tail: &str) -> String {
    format!("gr/v1/{SITE}/{tail}")
}

fn config(broker: &Broker) -> Config {
    let smoke = TestDevice {
        id: "smoke-1".into(),
        name: "3号楼烟感".into(),
        kind: "detector",
        class: Some("smoke"),
    };
    let text = config_toml(SITE, &broker.url(), &unique_client_id("gr-alarm"), &[smoke]);
    config::load_str(&text, "test.toml", Path::new("."), Lang::En).expect("test config is valid")
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
    Running {
        recorder,
        deltas,
        link,
    }
}

impl Running {
    fn wait_online(&self) {
        wait_for("the link to come online", DEADLINE, || {
            matches!(self.link.borrow().status, LinkStatus::Online { .. }).then_some(())
        });
    }

    fn wait_offline(&self) {
        wait_for("the link to go offline", DEADLINE, || {
            matches!(self.link.borrow().status, LinkStatus::Offline { .. }).then_some(())
        });
    }

    /// Waits for a commit that carries an alarm matching `check`.
    fn wait_alarm(
        &self,
        what: &str,
        check: impl Fn(&guardroom::domain::alarm::Alarm) -> bool,
    ) -> u64 {
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            if let Ok(delta) = self.deltas.recv_timeout(Duration::from_millis(100))
                && let Some(alarm) = delta.alarms.iter().find(|alarm| check(alarm))
            {
                return alarm.id;
            }
        }
        panic!("no commit with {what} within {DEADLINE:?}");
    }

    fn submit(&self, alarm: u64, kind: ActionKind) -> Result<Uuid, ActError> {
        let action = Action {
            id: Uuid::new_v4(),
            alarm: Some(alarm),
            kind,
            operator: "值班员".into(),
            role: "guard".into(),
            console: "duty-1".into(),
            via_ssh: false,
            remark: String::new(),
        };
        let id = action.id;
        (self.recorder.submitter())(action).map(|()| id)
    }

    fn stop(self, runtime: &tokio::runtime::Runtime) {
        runtime.block_on(self.recorder.stop());
    }
}

fn alarms(database: &Path) -> AlarmBook {
    let store = Store::open_read_only(database).expect("opening the database");
    store.load_projection().expect("loading").0.alarms
}

fn unsent(database: &Path) -> i64 {
    Store::open_read_only(database)
        .unwrap()
        .unsent_count()
        .unwrap()
}

fn smoke_event(publisher: &mut Publisher, id: &str) {
    let payload = format!(r#"{{"v":1,"id":"{id}","type":"smoke","text":"烟雾浓度超标"}}"#);
    publisher.publish(&topic("evt/smoke-1"), payload, false);
    publisher.flush();
}

#[test]
fn smoke_event_is_queued_acknowledged_published_and_kept() {
    let broker = Broker::start_new();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("guardroom.db");
    let config = config(&broker);
    let runtime = guardroom::cli::console::runtime();
    let actions = Subscriber::connect(broker.port(), &topic("console/+/act"));

    let running = start(&config, &database, &runtime);
    running.wait_online();

    let mut publisher = Publisher::connect(broker.port());
    smoke_event(&mut publisher, "evt-1");
    let acked_at = Instant::now();
    let alarm = running.wait_alarm("a fire alarm from smoke-1", |alarm| {
        alarm.source == "smoke-1" && alarm.condition == Condition::Fire
    });
    println!(
        "smoke event in the committed queue {:?} after the broker's ack",
        acked_at.elapsed()
    );

    let action = running
        .submit(alarm, ActionKind::Acknowledge)
        .expect("the recorder takes the action");
    let (topic_seen, payload) = actions.next(DEADLINE).expect("the action is published");
    assert_eq!(topic_seen, topic("console/duty-1/act"));
    let message: Value = serde_json::from_slice(&payload).expect("the action payload is JSON");
    assert_eq!(message["id"], action.to_string(), "published with its id");
    assert_eq!(message["action"], "acknowledge");
    assert_eq!(message["alarm"], alarm);
    assert_eq!(message["operator"], "值班员");
    assert_eq!(message["v"], 1);
    wait_for("the outbox row to be confirmed", DEADLINE, || {
        (unsent(&database) == 0).then_some(())
    });
    assert!(
        actions.next(Duration::from_millis(500)).is_none(),
        "published exactly once"
    );

    let refused = running.submit(alarm, ActionKind::Acknowledge);
    assert!(
        refused.is_ok(),
        "submitting never blocks; the recorder refuses"
    );
    wait_for("the recorder's refusal", DEADLINE, || {
        running.deltas.try_iter().find(|delta| {
            delta
                .refused
                .iter()
                .any(|(_, r)| r.code() == "already_acknowledged")
        })
    });

    let before = alarms(&database);
    assert!(before.get(alarm).unwrap().acknowledged);
    running.stop(&runtime);

    // A new recorder on the same file shows the same queue.
    let again = start(&config, &database, &runtime);
    again.wait_online();
    let after = alarms(&database);
    assert_eq!(after.open, before.open, "the queue comes back from SQLite");
    smoke_event(&mut publisher, "evt-1");
    smoke_event(&mut publisher, "evt-2");
    again.wait_alarm("the repeat counted on the same alarm", |a| {
        a.id == alarm && a.occurrences == 2
    });
    again.stop(&runtime);
}

#[test]
fn offline_action_published_by_next_recorder() {
    let mut broker = Broker::start_new();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("guardroom.db");
    let config = config(&broker);
    let runtime = guardroom::cli::console::runtime();

    let running = start(&config, &database, &runtime);
    running.wait_online();
    let mut publisher = Publisher::connect(broker.port());
    smoke_event(&mut publisher, "evt-9");
    let alarm = running.wait_alarm("the fire alarm", |alarm| alarm.source == "smoke-1");
    drop(publisher);

    broker.stop();
    running.wait_offline();
    let action = running
        .submit(alarm, ActionKind::Acknowledge)
        .expect("taken while offline");
    wait_for("the action to be committed", DEADLINE, || {
        alarms(&database)
            .get(alarm)
            .is_some_and(|a| a.acknowledged)
            .then_some(())
    });
    assert_eq!(unsent(&database), 1, "the action waits in the outbox");
    wait_for("the console to learn one message waits", DEADLINE, || {
        running
            .deltas
            .try_iter()
            .any(|delta| delta.unsent == Some(1))
            .then_some(())
    });
    running.stop(&runtime);

    broker.start();
    let actions = Subscriber::connect(broker.port(), &topic("console/+/act"));
    let next = start(&config, &database, &runtime);
    let (_, payload) = actions
        .next(DEADLINE)
        .expect("the next recorder publishes it");
    let message: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(message["id"], action.to_string());
    wait_for("the outbox to empty", DEADLINE, || {
        (unsent(&database) == 0).then_some(())
    });
    wait_for("the console to learn nothing waits", DEADLINE, || {
        next.deltas
            .try_iter()
            .any(|delta| delta.unsent == Some(0))
            .then_some(())
    });
    next.stop(&runtime);
}

#[test]
fn external_alarm_record_opens_and_its_emptying_closes() {
    let broker = Broker::start_new();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("guardroom.db");
    let config = config(&broker);
    let runtime = guardroom::cli::console::runtime();

    // Retained before the recorder connects: the record is the authority.
    let mut publisher = Publisher::connect(broker.port());
    let record = r#"{"v":1,"priority":"P2","text":"电梯困人","zone":"3号楼"}"#;
    publisher.publish(&topic("alarm/lift-3"), record, true);
    publisher.flush();

    let running = start(&config, &database, &runtime);
    let alarm = running.wait_alarm("the external record", |alarm| {
        alarm.source == "ext:lift-3" && alarm.condition == Condition::External
    });
    let book = alarms(&database);
    let raised = book.get(alarm).unwrap();
    assert_eq!(raised.text.as_deref(), Some("电梯困人"));
    assert_eq!(raised.zone, "3号楼");

    publisher.publish(&topic("alarm/lift-3"), "", true);
    publisher.flush();
    running.wait_alarm("the record closed at its source", |a| {
        a.id == alarm && !a.is_open()
    });
    let closed = alarms(&database);
    assert!(closed.open.is_empty(), "nothing left open");
    running.stop(&runtime);
}

#[test]
fn unacknowledged_p1_escalates_to_the_supervisor_topic() {
    let broker = Broker::start_new();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("guardroom.db");
    let smoke = TestDevice {
        id: "smoke-1".into(),
        name: "3号楼烟感".into(),
        kind: "detector",
        class: Some("smoke"),
    };
    let mut text = config_toml(SITE, &broker.url(), &unique_client_id("gr-esc"), &[smoke]);
    text.push_str("\n[alarms]\nescalation_s = { P1 = 1 }\n");
    let config = config::load_str(&text, "test.toml", Path::new("."), Lang::En).unwrap();
    let runtime = guardroom::cli::console::runtime();
    let supervisor = Subscriber::connect(broker.port(), &topic("supervisor/escalation"));

    let running = start(&config, &database, &runtime);
    running.wait_online();
    let mut publisher = Publisher::connect(broker.port());
    smoke_event(&mut publisher, "evt-5");
    let alarm = running.wait_alarm("the fire alarm", |alarm| alarm.source == "smoke-1");

    let (_, payload) = supervisor
        .next(DEADLINE)
        .expect("the escalation is published");
    let message: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(message["alarm"], alarm);
    assert_eq!(message["priority"], "P1");
    assert_eq!(message["condition"], "fire");
    assert_eq!(message["name"], "3号楼烟感");
    assert!(
        message["id"]
            .as_str()
            .is_some_and(|id| Uuid::parse_str(id).is_ok()),
        "{message}"
    );
    assert!(
        alarms(&database).get(alarm).unwrap().escalations == 1,
        "recorded on the alarm"
    );
    assert!(
        supervisor.next(Duration::from_millis(2_500)).is_none(),
        "escalated once, not every tick"
    );
    running.stop(&runtime);
}
