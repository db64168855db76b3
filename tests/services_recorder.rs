//! Repair tickets driven through the recorder with a real SQLite file and,
//! where the recorder reads MQTT, a real mosquitto.
//!
//! A ticket that takes its device out of service keeps the device's alarms
//! out of the queue until the repair is resolved. The device's live state is
//! then checked again, so a device still faulty raises its alarm again and a
//! healthy one raises nothing. An urgent ticket past its service level raises
//! one P4 notice, whether it was created at a console or arrived on
//! `ticket/<id>` already overdue, and resolving the ticket clears the notice.
//! A second recorder on the same file replays to the same alarms and tickets.

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use guardroom::config::{self, Config};
use guardroom::domain::alarm::{
    Action, ActionKind, Alarm, AlarmBook, Condition, Disposition, Priority, Shown,
};
use guardroom::domain::operator::Role;
use guardroom::domain::projection::Delta;
use guardroom::domain::services::{ServiceSetup, Services};
use guardroom::domain::ticket::sla;
use guardroom::domain::ticket::{
    Category, NewTicket, SlaStatus, TicketActionKind, TicketEvent, TicketState, Urgency,
};
use guardroom::domain::{Event, EventBody};
use guardroom::i18n::Lang;
use guardroom::ingest::LinkState;
use guardroom::ingest::link::LinkStatus;
use guardroom::recorder::Recorder;
use guardroom::recorder::writer::{Input, OnCommit, Settings, Writer};
use guardroom::store::Store;
use jiff::{SignedDuration, Timestamp};
use support::{
    Broker, DEADLINE, Home, Publisher, TestDevice, config_toml, unique_client_id, wait_for,
};
use tokio::sync::watch;
use uuid::Uuid;

const SITE: &str = "repairtest";

/// The water-leak detector under repair.
const DETECTOR: &str = "b5-water-1";

fn topic(tail: &str) -> String {
    format!("gr/v1/{SITE}/{tail}")
}

/// Writes a configuration with one water-leak detector into `dir` and loads it.
fn write_config(broker: &Broker, dir: &Path) -> Config {
    let detector = TestDevice {
        id: DETECTOR.into(),
        name: "5号楼水浸探测器".into(),
        kind: "detector",
        class: Some("water_leak"),
    };
    let text = config_toml(
        SITE,
        &broker.url(),
        &unique_client_id("gr-rep"),
        &[detector],
    );
    let path = dir.join("guardroom.toml");
    std::fs::write(&path, text).unwrap();
    config::load(&path, Lang::En).expect("test config is valid")
}

/// Registers the guard `g1`, the maintenance worker `m1` and the
/// supervisor `s1`, so that the recorder checks every action's role.
fn add_operators(database: &Path) {
    let mut store = Store::open(database).unwrap();
    let now = Timestamp::now();
    // The PIN is never checked here, so any PHC-shaped text will do.
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    for (id, name, role) in [
        ("g1", "值班员甲", Role::Guard),
        ("m1", "维修工乙", Role::Maintenance),
        ("s1", "主管丙", Role::Supervisor),
    ] {
        assert!(store.add_operator(id, name, role, hash, now).unwrap());
    }
}

/// Builds an action of a registered operator. The recorder takes the role
/// from the operators table, whatever the action claims.
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

fn ticket_act(operator: &str, ticket: &str, act: TicketActionKind, remark: &str) -> Action {
    let kind = ActionKind::TicketAct {
        ticket: ticket.into(),
        act,
    };
    action(operator, None, kind, remark)
}

/// The alarms and tickets as a console attached to the file reads them.
#[derive(Debug, PartialEq)]
struct Stored {
    alarms: AlarmBook,
    services: Services,
}

/// Reads the tickets before the alarms, because the two reads are separate
/// and a commit may land between them. In this order the alarms are at
/// least as new as the tickets, so the alarm events that share a ticket
/// event's commit are always there.
fn stored(database: &Path, setup: &ServiceSetup) -> Stored {
    let store = Store::open_read_only(database).unwrap();
    let services = store.load_services(setup.clone()).unwrap();
    let (projection, _) = store.load_projection().unwrap();
    Stored {
        alarms: projection.alarms,
        services,
    }
}

impl Stored {
    fn alarm(&self, id: u64) -> &Alarm {
        self.alarms
            .get(id)
            .unwrap_or_else(|| panic!("alarm {id} is stored"))
    }

    fn open_of(&self, source: &str) -> Vec<&Alarm> {
        self.alarms
            .open
            .values()
            .filter(|alarm| alarm.source == source)
            .collect()
    }

    fn ticket_state(&self, id: &str) -> Option<TicketState> {
        Some(self.services.tickets.get(id)?.state())
    }
}

fn events(database: &Path) -> Vec<Event> {
    Store::open_read_only(database)
        .unwrap()
        .events_after(0, 100_000)
        .unwrap()
}

fn count_of(database: &Path, kind: &str) -> i64 {
    let counts = Store::open_read_only(database)
        .unwrap()
        .event_counts()
        .unwrap();
    counts.get(kind).copied().unwrap_or(0)
}

/// Returns one line per device, alarm and ticket event of the log, in log
/// order: what happened, to which alarm or ticket, and the operator who
/// acted. The echoes of the ticket records the recorder publishes
/// (`ticket_received`) are left out, because the broker returns them at no
/// fixed place in the order.
fn log_lines(database: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for event in events(database) {
        let line = match &event.body {
            EventBody::Ticket {
                event: TicketEvent::Received { .. },
                ..
            } => continue,
            EventBody::StateReported {
                device, reported, ..
            } => format!("state_reported {device} {}", reported.state.as_str()),
            EventBody::AlarmRaised { raise } => format!(
                "alarm_raised {} {} {}{}",
                raise.alarm,
                raise.condition.as_str(),
                raise.priority.as_str(),
                if raise.out_of_service {
                    " out_of_service"
                } else {
                    ""
                }
            ),
            EventBody::AlarmChanged { alarm, change } => {
                format!("alarm_changed {alarm} {}", change.as_str())
            }
            EventBody::AlarmActed { action } => format!(
                "alarm_acted {} {} {}",
                action.alarm.unwrap_or(0),
                action.kind.as_str(),
                action.operator
            ),
            EventBody::Ticket { event, action } => {
                let by = action
                    .as_ref()
                    .map_or("", |action| action.operator.as_str());
                let what = match event {
                    TicketEvent::Acted { action } => action.kind.as_str().to_owned(),
                    TicketEvent::Created { ticket } => {
                        format!("out_of_service={}", ticket.out_of_service)
                    }
                    _ => String::new(),
                };
                format!("{} {} {what} {by}", event.kind(), event.ticket())
                    .trim_end()
                    .to_owned()
            }
            _ => continue,
        };
        lines.push(line);
    }
    lines
}

/// A recorder in this process, as a console on the duty PC runs it.
struct Running {
    recorder: Recorder,
    deltas: mpsc::Receiver<Delta>,
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
    wait_for("the link to come online", DEADLINE, || {
        matches!(link.borrow().status, LinkStatus::Online { .. }).then_some(())
    });
    Running { recorder, deltas }
}

impl Running {
    /// Hands `action` to the recorder as the console's keys do.
    fn submit(&self, action: Action) {
        (self.recorder.submitter())(action).expect("the recorder takes the action");
    }

    /// Polls the file until `check` passes and returns what it read, and
    /// fails at once when the recorder rejects an action.
    #[track_caller]
    fn wait(
        &self,
        what: &str,
        database: &Path,
        setup: &ServiceSetup,
        check: impl Fn(&Stored) -> bool,
    ) -> Stored {
        wait_for(what, DEADLINE, || {
            while let Ok(delta) = self.deltas.try_recv() {
                assert!(
                    delta.refused.is_empty(),
                    "the recorder rejected an action while waiting for {what}: {:?}",
                    delta.refused
                );
            }
            let now = stored(database, setup);
            check(&now).then_some(now)
        })
    }

    fn stop(self, runtime: &tokio::runtime::Runtime) {
        runtime.block_on(self.recorder.stop());
    }
}

/// Publishes the detector's retained state, as the device does.
fn report(publisher: &mut Publisher, state: &str) {
    publisher.publish(
        &topic(&format!("dev/{DETECTOR}/state")),
        format!(r#"{{"v":1,"state":"{state}"}}"#),
        true,
    );
    publisher.flush();
}

/// Waits until the stored detector shows `state` heard after `after`.
fn wait_reported(database: &Path, state: &str, after: Option<Timestamp>) -> Option<Timestamp> {
    wait_for(&format!("the detector to report {state}"), DEADLINE, || {
        let store = Store::open_read_only(database).ok()?;
        let (projection, _) = store.load_projection().ok()?;
        let device = projection.devices.get(DETECTOR)?;
        let reported = device.reported.as_ref()?;
        let heard_at = device.last_seen;
        (reported.state.as_str() == state && heard_at > after).then_some(heard_at)
    })
}

/// Returns the ticket the console's `W` builds from the detector's alarm,
/// with `out_of_service` set, which that dialog leaves off.
fn ticket_from_alarm(alarm: u64) -> NewTicket {
    NewTicket {
        id: String::new(),
        category: Category::SecurityDevices,
        urgency: Urgency::Normal,
        location: "B1 Z1".into(),
        description: "Detector fault: 5号楼水浸探测器".into(),
        reporter: None,
        alarm: Some(alarm),
        device: Some(DETECTOR.into()),
        refers_to: None,
        out_of_service: true,
        operator: String::new(),
        role: Role::Guard,
        remark: String::new(),
    }
}

/// Runs a repair: the detector's fault raises an alarm, a ticket takes the
/// detector out of service, its new faults stay out of the queue, the
/// recorder restarts in the middle, and the ticket is worked up to the
/// repair. `repaired` sets whether the detector reports normal before the
/// repair is resolved.
fn repair_detector(repaired: bool) {
    let broker = Broker::start_new();
    let home = Home::new();
    let config = write_config(&broker, home.path());
    let setup = config.service_setup();
    let database = home.path().join("guardroom.db");
    add_operators(&database);
    let runtime = guardroom::cli::console::runtime();
    let running = start(&config, &database, &runtime);
    let mut publisher = Publisher::connect(broker.port());

    // The detector reports a fault: alarm 1 comes in unacknowledged, and
    // the guard acknowledges it.
    report(&mut publisher, "fault");
    let raised = running.wait("the fault alarm", &database, &setup, |stored| {
        !stored.open_of(DETECTOR).is_empty()
    });
    let fault = raised.open_of(DETECTOR)[0].clone();
    assert_eq!(fault.condition, Condition::DetectorFault);
    assert_eq!(fault.shown(), Shown::Unacknowledged);
    running.submit(action("g1", Some(fault.id), ActionKind::Acknowledge, ""));
    running.wait("the acknowledgement", &database, &setup, |stored| {
        stored.alarm(fault.id).acknowledged
    });

    // Maintenance opens a repair ticket from the alarm and takes the
    // detector out of service.
    let create = ActionKind::CreateTicket {
        ticket: ticket_from_alarm(fault.id),
    };
    running.submit(action("m1", None, create, "探头进水，待更换"));
    let after_create = running.wait("the ticket", &database, &setup, |stored| {
        stored.services.tickets.get("T-1").is_some()
    });
    let ticket = after_create.services.tickets.get("T-1").unwrap();
    assert!(ticket.out_of_service, "the ticket holds the detector");
    assert_eq!(ticket.content.alarm, Some(fault.id), "linked to its alarm");
    let holder = after_create.alarms.state.out_of_service.get(DETECTOR);
    assert_eq!(
        holder.map(|held| held.remark.as_str()),
        Some("ticket T-1"),
        "the book names the ticket that holds the detector"
    );
    assert_eq!(
        after_create.alarm(fault.id).shown(),
        Shown::OutOfService,
        "the open alarm leaves the queue"
    );

    // New faults while the ticket is open: a tamper raises alarm 2, and
    // the fault coming back repeats alarm 1. Neither reaches the queue.
    report(&mut publisher, "tamper");
    wait_reported(&database, "tamper", None);
    report(&mut publisher, "fault");
    let heard_at = wait_reported(&database, "fault", None);
    let during = running.wait("the repeated fault", &database, &setup, |stored| {
        let alarm = stored.alarm(fault.id);
        alarm.active && alarm.occurrences == 2
    });
    let alarms = during.open_of(DETECTOR);
    assert_eq!(alarms.len(), 2, "the fault and the tamper: {alarms:#?}");
    let tamper = alarms
        .iter()
        .find(|alarm| alarm.condition == Condition::Tamper)
        .expect("the tamper alarm");
    assert!(tamper.out_of_service, "raised out of service");
    assert!(
        !during.alarm(fault.id).acknowledged,
        "the repeat needs a new acknowledgement, so only the service state keeps it quiet"
    );
    for alarm in &alarms {
        assert_eq!(alarm.shown(), Shown::OutOfService, "{alarm:#?}");
        assert!(!alarm.sounding(), "alarm {} does not sound", alarm.id);
    }
    assert_eq!(during.alarms.sounding().count(), 0, "nothing sounds");
    let status = home.status_json(&database);
    assert_eq!(
        status["alarms"]["by_state"]["out_of_service"], 2,
        "{status}"
    );
    assert_eq!(
        status["alarms"]["by_state"]["unacknowledged"], 0,
        "{status}"
    );

    // A restart while the ticket is open keeps the detector out of service.
    running.stop(&runtime);
    let running = start(&config, &database, &runtime);
    let restarted = stored(&database, &setup);
    assert!(restarted.alarms.is_out_of_service(DETECTOR));
    assert_eq!(
        restarted.services.tickets.out_of_service_by(DETECTOR),
        Some("T-1")
    );

    // The supervisor force-closes the fault as a known device fault, and
    // the guard closes the cleared tamper: nothing of the detector is
    // open while it is repaired.
    let close = |disposition| ActionKind::Close { disposition };
    running.submit(action(
        "s1",
        Some(fault.id),
        close(Disposition::DeviceFault),
        "报修中，见工单 T-1",
    ));
    running.submit(action(
        "g1",
        Some(tamper.id),
        close(Disposition::DeviceFault),
        "维修人员开盖检查",
    ));
    running.wait("both alarms closed", &database, &setup, |stored| {
        stored.open_of(DETECTOR).is_empty()
    });

    // Maintenance claims the ticket and starts the repair.
    running.submit(ticket_act(
        "m1",
        "T-1",
        TicketActionKind::Assign {
            assignee: "m1".into(),
        },
        "",
    ));
    running.submit(ticket_act("m1", "T-1", TicketActionKind::Accept, ""));
    running.wait("the repair to start", &database, &setup, |stored| {
        stored.ticket_state("T-1") == Some(TicketState::InProgress)
    });

    // The detector reports again before the repair is resolved: the same
    // fault (a heartbeat, no event), or normal after a good repair.
    let last_state = if repaired { "normal" } else { "fault" };
    report(&mut publisher, last_state);
    wait_reported(&database, last_state, heard_at);
    running.submit(ticket_act(
        "m1",
        "T-1",
        TicketActionKind::Resolve,
        "更换水浸探头",
    ));
    running.wait("the repair resolved", &database, &setup, |stored| {
        stored.ticket_state("T-1") == Some(TicketState::AwaitingRating)
    });
    let after = stored(&database, &setup);
    assert!(
        !after.alarms.is_out_of_service(DETECTOR),
        "the resolved repair returns the detector"
    );
    assert_eq!(after.services.tickets.out_of_service_by(DETECTOR), None);
    let open = after.open_of(DETECTOR);
    if repaired {
        assert!(
            open.is_empty(),
            "a healthy detector raises nothing: {open:#?}"
        );
        assert_eq!(after.alarms.sounding().count(), 0);
    } else {
        assert_eq!(open.len(), 1, "the fault is raised again: {open:#?}");
        let again = open[0];
        assert_eq!(again.condition, Condition::DetectorFault);
        assert_eq!(again.priority, Priority::P3);
        assert!(again.id > tamper.id, "a new alarm, not the closed one");
        assert!(!again.out_of_service);
        assert_eq!(again.shown(), Shown::Unacknowledged);
        assert!(again.sounding(), "the guard hears it");
    }

    // Maintenance closes the ticket with the resident's rating.
    running.submit(ticket_act(
        "m1",
        "T-1",
        TicketActionKind::Close { rating: Some(5) },
        "",
    ));
    // The broker returns each record the recorder published, and the last
    // one confirms the closed ticket.
    let closed = running.wait("the closed ticket confirmed", &database, &setup, |stored| {
        stored.services.tickets.get("T-1").is_some_and(|ticket| {
            ticket.state() == TicketState::Closed && ticket.agreed == ticket.version
        })
    });
    let ticket = closed.services.tickets.get("T-1").unwrap();
    assert!(
        ticket.conflict.is_none(),
        "the echoes agree with the ticket"
    );
    assert!(!ticket.out_of_service);

    let mut expected = vec![
        "state_reported b5-water-1 fault",
        "alarm_raised 1 detector_fault P3",
        "alarm_acted 1 acknowledge g1",
        "ticket_created T-1 out_of_service=true m1",
        "state_reported b5-water-1 tamper",
        "alarm_raised 2 tamper P2 out_of_service",
        "alarm_changed 1 cleared",
        "state_reported b5-water-1 fault",
        "alarm_changed 2 cleared",
        "alarm_changed 1 repeated",
        "alarm_acted 1 close s1",
        "alarm_acted 2 close g1",
        "ticket_acted T-1 assign m1",
        "ticket_acted T-1 accept m1",
    ];
    if repaired {
        expected.extend([
            "state_reported b5-water-1 normal",
            "ticket_acted T-1 resolve m1",
        ]);
    } else {
        expected.extend([
            "ticket_acted T-1 resolve m1",
            "alarm_raised 3 detector_fault P3",
        ]);
    }
    expected.push("ticket_acted T-1 close m1");
    assert_eq!(log_lines(&database), expected);

    // The whole log folded from the start gives the alarms the recorder
    // keeps, and a second recorder on the file changes nothing.
    let before = stored(&database, &setup);
    let replayed = Store::open_read_only(&database).unwrap().replay().unwrap();
    assert_eq!(
        replayed.alarms, before.alarms,
        "the log replays to the book"
    );
    running.stop(&runtime);
    let lines = log_lines(&database);
    let again = start(&config, &database, &runtime);
    std::thread::sleep(Duration::from_millis(1_500));
    again.stop(&runtime);
    assert_eq!(
        stored(&database, &setup),
        before,
        "the replay gives the same state"
    );
    assert_eq!(
        log_lines(&database),
        lines,
        "the second recorder logs nothing new"
    );
}

#[test]
fn repaired_device_still_faulty_alarms_again() {
    repair_detector(false);
}

/// An alarm acknowledged before the repair and still true afterwards must
/// not stay quiet: the guard would take the silence for a fix.
#[test]
fn acknowledged_fault_sounds_again_after_a_failed_repair() {
    let broker = Broker::start_new();
    let home = Home::new();
    let config = write_config(&broker, home.path());
    let setup = config.service_setup();
    let database = home.path().join("guardroom.db");
    add_operators(&database);
    let runtime = guardroom::cli::console::runtime();
    let running = start(&config, &database, &runtime);
    let mut publisher = Publisher::connect(broker.port());

    report(&mut publisher, "fault");
    let raised = running.wait("the fault alarm", &database, &setup, |stored| {
        !stored.open_of(DETECTOR).is_empty()
    });
    let fault = raised.open_of(DETECTOR)[0].id;
    running.submit(action("g1", Some(fault), ActionKind::Acknowledge, ""));
    running.wait("the acknowledgement", &database, &setup, |stored| {
        stored.alarm(fault).acknowledged
    });
    let create = ActionKind::CreateTicket {
        ticket: ticket_from_alarm(fault),
    };
    running.submit(action("m1", None, create, "探头进水，待更换"));
    for act in [
        TicketActionKind::Assign {
            assignee: "m1".into(),
        },
        TicketActionKind::Accept,
    ] {
        running.submit(ticket_act("m1", "T-1", act, ""));
    }
    running.wait("the repair to start", &database, &setup, |stored| {
        stored.ticket_state("T-1") == Some(TicketState::InProgress)
    });
    let during = stored(&database, &setup);
    assert_eq!(during.alarm(fault).shown(), Shown::OutOfService);

    // The repair is resolved, but the detector still reports its fault.
    running.submit(ticket_act(
        "m1",
        "T-1",
        TicketActionKind::Resolve,
        "清理了探头触点",
    ));
    let after = running.wait("the repair resolved", &database, &setup, |stored| {
        stored.ticket_state("T-1") == Some(TicketState::AwaitingRating)
    });
    let alarm = after.alarm(fault);
    assert!(alarm.active, "the fault is still true");
    assert_eq!(
        alarm.shown(),
        Shown::Unacknowledged,
        "it needs acknowledging again: {alarm:#?}"
    );
    assert!(alarm.sounding(), "the guard hears it");
    let lines = log_lines(&database);
    let resolved = lines
        .iter()
        .position(|line| line == "ticket_acted T-1 resolve m1")
        .expect("the resolve in the log");
    assert_eq!(
        lines.get(resolved + 1).map(String::as_str),
        Some(format!("alarm_changed {fault} still_active").as_str()),
        "{lines:#?}"
    );
    let replayed = Store::open_read_only(&database).unwrap().replay().unwrap();
    assert_eq!(replayed.alarms, after.alarms, "the log replays to the book");
    running.stop(&runtime);
}

#[test]
fn repaired_device_healthy_raises_nothing() {
    repair_detector(true);
}

// ---- Service levels ------------------------------------------------------

/// Collects the deltas a writer run by hand reports after each commit, to
/// see the actions it rejected.
#[derive(Clone, Default)]
struct Screen(Arc<Mutex<Vec<Delta>>>);

impl Screen {
    fn on_commit(&self) -> OnCommit {
        let deltas = self.0.clone();
        Box::new(move |delta| deltas.lock().unwrap().push(delta))
    }

    fn assert_nothing_refused(&self) {
        let deltas = self.0.lock().unwrap();
        let refused: Vec<_> = deltas.iter().flat_map(|delta| &delta.refused).collect();
        assert!(refused.is_empty(), "the writer rejected {refused:?}");
    }
}

fn new_ticket(urgency: Urgency, description: &str) -> NewTicket {
    NewTicket {
        id: String::new(),
        category: Category::Elevator,
        urgency,
        location: "7号楼 1号电梯".into(),
        description: description.into(),
        reporter: None,
        alarm: None,
        device: None,
        refers_to: None,
        out_of_service: false,
        operator: String::new(),
        role: Role::Maintenance,
        remark: String::new(),
    }
}

fn notices_of(writer: &Writer) -> Vec<&Alarm> {
    let book = &writer.projection().alarms;
    book.open
        .values()
        .chain(book.closed.iter())
        .filter(|alarm| alarm.condition == Condition::TicketOverdue)
        .collect()
}

/// The writer's clock is the time of each tick it is handed, so this test
/// runs a day of ticks in virtual time.
#[test]
fn console_ticket_overdue_notice_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("guardroom.db");
    add_operators(&database);
    let screen = Screen::default();
    let mut writer = Writer::new(Store::open(&database).unwrap(), Settings::default()).unwrap();

    let created = Timestamp::now();
    for (urgency, description) in [
        (Urgency::Urgent, "电梯困人后停运"),
        (Urgency::Normal, "电梯按钮失灵"),
    ] {
        let create = ActionKind::CreateTicket {
            ticket: new_ticket(urgency, description),
        };
        writer.process(
            [Input::Act(action("m1", None, create, ""))],
            Some(&mut screen.on_commit()),
        );
    }
    screen.assert_nothing_refused();
    let tickets = &writer.projection().services.tickets;
    assert_eq!(tickets.get("T-1").unwrap().content.urgency, Urgency::Urgent);
    assert_eq!(tickets.get("T-2").unwrap().content.urgency, Urgency::Normal);

    let at = |minutes: i64| created + SignedDuration::from_mins(minutes);
    let tick = |writer: &mut Writer, minutes: i64| {
        writer.process([Input::Tick(at(minutes))], Some(&mut screen.on_commit()));
    };

    // The urgent limit is 120 minutes by default.
    tick(&mut writer, 119);
    assert_eq!(
        count_of(&database, "ticket_overdue_noticed"),
        0,
        "not due yet"
    );
    assert!(notices_of(&writer).is_empty());

    tick(&mut writer, 121);
    assert_eq!(
        count_of(&database, "ticket_overdue_noticed"),
        1,
        "due a minute ago"
    );
    let notices = notices_of(&writer);
    assert_eq!(notices.len(), 1, "{notices:#?}");
    let notice = notices[0];
    assert_eq!(notice.priority, Priority::P4);
    assert_eq!(notice.source, "ticket:T-1");
    assert_eq!(notice.name, "T-1", "the alarm names the ticket");
    assert!(
        notice
            .text
            .as_deref()
            .is_some_and(|text| text.contains("urgent")),
        "{:?}",
        notice.text
    );
    assert_eq!(notice.device, None);
    assert_eq!(notice.shown(), Shown::Unacknowledged);

    // Every ten minutes for the rest of a day and more: no second notice,
    // also not for the normal ticket once past its 24 hours.
    for minutes in (130..=26 * 60).step_by(10) {
        tick(&mut writer, minutes);
    }
    assert_eq!(
        count_of(&database, "ticket_overdue_noticed"),
        1,
        "one notice in 139 ticks"
    );
    assert_eq!(notices_of(&writer).len(), 1);
    let services = &writer.projection().services;
    let normal = services.tickets.get("T-2").unwrap();
    assert!(
        matches!(
            sla::status(normal, at(26 * 60), &services.setup.sla),
            SlaStatus::Overdue { .. }
        ),
        "the normal ticket is overdue too, and raises no notice"
    );

    // A writer started again on the file raises no second notice, because
    // the log records the first.
    drop(writer);
    let mut writer = Writer::new(Store::open(&database).unwrap(), Settings::default()).unwrap();
    tick(&mut writer, 27 * 60);
    assert_eq!(
        count_of(&database, "ticket_overdue_noticed"),
        1,
        "none after the restart"
    );
    assert_eq!(count_of(&database, "alarm_raised"), 1, "one alarm in all");
    screen.assert_nothing_refused();
}

/// Returns a `ticket/<id>` record created `age` ago, whose `version` was
/// made that many minutes after the creation.
fn ticket_record(
    id: &str,
    version: u64,
    state: &str,
    urgency: &str,
    age: SignedDuration,
) -> String {
    let created = Timestamp::now() - age;
    let changed = created + SignedDuration::from_mins(i64::try_from(version).unwrap());
    format!(
        r#"{{"v":1,"id":"{id}","version":{version},"ts":"{changed}","created_at":"{created}","state":"{state}","category":"plumbing","urgency":"{urgency}","location":"3栋 2单元 1201","description":"厨房水管漏水"}}"#
    )
}

fn notice_for<'a>(stored: &'a Stored, ticket: &str) -> Option<&'a Alarm> {
    let source = format!("ticket:{ticket}");
    stored
        .alarms
        .open
        .values()
        .chain(stored.alarms.closed.iter())
        .find(|alarm| alarm.source == source && alarm.condition == Condition::TicketOverdue)
}

#[test]
fn mqtt_ticket_overdue_notice_until_resolved() {
    let broker = Broker::start_new();
    let home = Home::new();
    let config = write_config(&broker, home.path());
    let setup = config.service_setup();
    let database = home.path().join("guardroom.db");
    add_operators(&database);

    // Already overdue when they arrive: two urgent tickets 3 and 4 hours
    // old (limit 2 h), and a normal one 25 hours old (limit 24 h).
    let mut publisher = Publisher::connect(broker.port());
    let hours = SignedDuration::from_hours;
    for (id, urgency, age) in [
        ("R-1", "urgent", hours(3)),
        ("R-2", "urgent", hours(4)),
        ("R-3", "normal", hours(25)),
    ] {
        publisher.publish(
            &topic(&format!("ticket/{id}")),
            ticket_record(id, 1, "new", urgency, age),
            true,
        );
    }
    publisher.flush();

    let runtime = guardroom::cli::console::runtime();
    let running = start(&config, &database, &runtime);
    running.wait("both notices", &database, &setup, |stored| {
        notice_for(stored, "R-1").is_some() && notice_for(stored, "R-2").is_some()
    });
    // The recorder ticks every second: three more ticks raise nothing more.
    std::thread::sleep(Duration::from_millis(3_500));
    let noticed = stored(&database, &setup);
    assert_eq!(
        count_of(&database, "ticket_overdue_noticed"),
        2,
        "one notice per urgent ticket"
    );
    assert_eq!(count_of(&database, "alarm_raised"), 2, "one alarm each");
    assert!(
        notice_for(&noticed, "R-3").is_none(),
        "a normal ticket raises none"
    );
    let notice = notice_for(&noticed, "R-1").unwrap().clone();
    assert_eq!(notice.priority, Priority::P4);
    assert_eq!(notice.name, "R-1", "the alarm names the ticket");
    assert!(notice.active);
    let status = home.status_json(&database);
    assert_eq!(status["tickets"]["overdue"], 3, "{status}");

    // Maintenance works R-1 to resolved at the console.
    running.submit(ticket_act(
        "m1",
        "R-1",
        TicketActionKind::Assign {
            assignee: "m1".into(),
        },
        "",
    ));
    running.submit(ticket_act("m1", "R-1", TicketActionKind::Accept, ""));
    running.submit(ticket_act(
        "m1",
        "R-1",
        TicketActionKind::Resolve,
        "更换水管接头",
    ));
    let resolved = running.wait("R-1 resolved", &database, &setup, |stored| {
        stored.ticket_state("R-1") == Some(TicketState::AwaitingRating)
    });
    let ticket = resolved.services.tickets.get("R-1").unwrap();
    assert!(
        matches!(
            sla::status(ticket, Timestamp::now(), &setup.sla),
            SlaStatus::Missed { .. }
        ),
        "resolved after its due time"
    );
    let notice = notice_for(&resolved, "R-1").unwrap();
    assert!(
        !notice.active,
        "the notice's condition has ended: {notice:#?}"
    );
    assert_eq!(notice.shown(), Shown::ClearedUnacknowledged);

    // The property system closes R-2 on its side: its notice clears too.
    publisher.publish(
        &topic("ticket/R-2"),
        ticket_record("R-2", 2, "closed", "urgent", hours(4)),
        true,
    );
    publisher.flush();
    let closed = running.wait("R-2 closed", &database, &setup, |stored| {
        stored.ticket_state("R-2") == Some(TicketState::Closed)
    });
    assert!(
        !notice_for(&closed, "R-2").unwrap().active,
        "a record from the property system ends the notice too"
    );
    let status = home.status_json(&database);
    assert_eq!(
        status["tickets"]["overdue"], 1,
        "only R-3 is left: {status}"
    );

    // No new notice, neither from the ticks nor from a second recorder.
    std::thread::sleep(Duration::from_millis(2_500));
    running.stop(&runtime);
    let before = stored(&database, &setup);
    let again = start(&config, &database, &runtime);
    std::thread::sleep(Duration::from_millis(2_500));
    again.stop(&runtime);
    assert_eq!(
        count_of(&database, "ticket_overdue_noticed"),
        2,
        "no notice after the resolve or the restart"
    );
    assert_eq!(count_of(&database, "alarm_raised"), 2, "no new alarm");
    assert_eq!(
        stored(&database, &setup),
        before,
        "the replay gives the same state"
    );
    let replayed = Store::open_read_only(&database).unwrap().replay().unwrap();
    assert_eq!(
        replayed.alarms, before.alarms,
        "the log replays to the book"
    );
}

/// The recorder's own console must show the bad-payload total stored in the
/// database, because a commit must not add its batch to a total that already
/// includes it.
#[test]
fn console_counts_each_bad_payload_once() {
    let broker = Broker::start_new();
    let home = Home::new();
    let config = write_config(&broker, home.path());
    let database = home.path().join("guardroom.db");
    let runtime = guardroom::cli::console::runtime();
    let running = start(&config, &database, &runtime);
    let mut publisher = Publisher::connect(broker.port());
    publisher.publish(&topic(&format!("dev/{DETECTOR}/state")), "{not json", false);
    publisher.flush();

    let stored = wait_for("the bad payload counted", DEADLINE, || {
        let meta = Store::open_read_only(&database).ok()?.meta().ok()?;
        (meta.bad_payloads > 0).then_some(meta.bad_payloads)
    });
    assert_eq!(stored, 1, "one bad payload stored");
    std::thread::sleep(Duration::from_millis(300));
    let shown = running
        .deltas
        .try_iter()
        .map(|delta| delta.bad_payloads)
        .max();
    assert_eq!(shown, Some(1), "the console shows the stored count");
    running.stop(&runtime);
}
