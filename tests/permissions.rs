//! Who may do what: every role against every kind of action, through the
//! same check the recorder makes, and the recorder refusing, without
//! logging them, actions of unknown or disabled operators and of roles
//! that lack the permission.

use std::path::Path;
use std::sync::{Arc, Mutex};

use guardroom::domain::Observation;
use guardroom::domain::alarm::{
    Action, ActionKind, AlarmBook, Change, Condition, Disposition, EntryKind, Priority, Raise,
    Refusal,
};
use guardroom::domain::care::Outcome;
use guardroom::domain::device::{DetectorClass, DeviceKind, DeviceSpec};
use guardroom::domain::operator::{
    OperatorChange, Permission, Registered, Role, allows, authorize,
};
use guardroom::domain::privacy::DataKind;
use guardroom::domain::projection::Delta;
use guardroom::domain::ticket::{Category, NewTicket, TicketActionKind, Urgency};
use guardroom::ingest::link::Inbound;
use guardroom::recorder::writer::{Input, OnCommit, Settings, Writer};
use guardroom::store::Store;
use jiff::Timestamp;
use rusqlite::Connection;
use uuid::Uuid;

const ROLES: [Role; 3] = [Role::Guard, Role::Maintenance, Role::Supervisor];

/// Alarm 1 is active and not momentary, alarm 2 has cleared, alarm 3 is an
/// active momentary alarm (a discrete event).
fn book() -> AlarmBook {
    let at = Timestamp::from_second(1_800_000_000).unwrap();
    let mut book = AlarmBook::default();
    for (id, momentary) in [(1, false), (2, false), (3, true)] {
        book.raise(
            &Raise {
                alarm: id,
                source: format!("door-{id}"),
                condition: Condition::DoorHeldOpen,
                priority: Priority::P3,
                device: Some(format!("door-{id}")),
                name: format!("门 {id}"),
                building: "1号楼".into(),
                zone: "大堂".into(),
                text: None,
                momentary,
                active: true,
                suppressed: false,
                out_of_service: false,
            },
            at,
        );
    }
    book.change(2, &Change::Cleared, at);
    book
}

fn action(alarm: Option<u64>, kind: ActionKind) -> Action {
    Action {
        id: Uuid::new_v4(),
        alarm,
        kind,
        operator: "op".into(),
        role: "guard".into(),
        console: "duty-1".into(),
        via_ssh: false,
        remark: "备注".into(),
    }
}

/// Fails to compile when a kind of action is added without a row below.
fn listed(kind: &ActionKind) -> &'static str {
    match kind {
        ActionKind::Acknowledge => "acknowledge",
        ActionKind::Close { .. } => "close",
        ActionKind::Reset => "reset",
        ActionKind::Shelve { .. } => "shelve",
        ActionKind::Unshelve => "unshelve",
        ActionKind::Remark => "remark",
        ActionKind::Silence => "silence",
        ActionKind::OutOfService { .. } => "service",
        ActionKind::Note { .. } => "note",
        ActionKind::LogIn => "log_in",
        ActionKind::LogOut => "log_out",
        ActionKind::HandOver { .. } => "hand_over",
        ActionKind::TakeOver { .. } => "take_over",
        ActionKind::OperatorChanged { .. } => "operator_changed",
        ActionKind::TicketAct { .. } => "ticket_act",
        ActionKind::CreateTicket { .. } => "create_ticket",
        ActionKind::CareOutcome { .. } => "care_outcome",
        ActionKind::Reveal { .. } => "reveal",
    }
}

fn new_ticket(alarm: Option<u64>) -> NewTicket {
    NewTicket {
        id: String::new(),
        category: Category::DoorsAccess,
        urgency: Urgency::Normal,
        location: "1号楼大堂".into(),
        description: "门磁松动".into(),
        reporter: None,
        alarm,
        device: None,
        refers_to: None,
        out_of_service: false,
        operator: "op".into(),
        role: Role::Guard,
        remark: String::new(),
    }
}

/// Every kind of action, with the outcome expected for guard, maintenance
/// and supervisor.
fn action_table() -> Vec<(&'static str, Action, [bool; 3])> {
    let close = |disposition| ActionKind::Close { disposition };
    vec![
        (
            "acknowledge",
            action(Some(1), ActionKind::Acknowledge),
            [true, false, true],
        ),
        (
            "close cleared",
            action(Some(2), close(Disposition::Genuine)),
            [true, false, true],
        ),
        (
            "close false alarm",
            action(Some(2), close(Disposition::FalseAlarm)),
            [true, false, true],
        ),
        (
            "close momentary",
            action(Some(3), close(Disposition::Test)),
            [true, false, true],
        ),
        (
            "force-close active",
            action(Some(1), close(Disposition::DeviceFault)),
            [false, false, true],
        ),
        (
            "reset",
            action(Some(1), ActionKind::Reset),
            [true, false, true],
        ),
        (
            "shelve",
            action(Some(1), ActionKind::Shelve { until: None }),
            [false, false, true],
        ),
        (
            "unshelve",
            action(Some(1), ActionKind::Unshelve),
            [false, false, true],
        ),
        (
            "remark",
            action(Some(1), ActionKind::Remark),
            [true, true, true],
        ),
        (
            "silence",
            action(None, ActionKind::Silence),
            [true, false, true],
        ),
        (
            "out of service",
            action(
                Some(1),
                ActionKind::OutOfService {
                    device: "door-1".into(),
                    on: true,
                },
            ),
            [false, true, true],
        ),
        (
            "back in service",
            action(
                Some(1),
                ActionKind::OutOfService {
                    device: "door-1".into(),
                    on: false,
                },
            ),
            [false, true, true],
        ),
        (
            "note",
            action(
                None,
                ActionKind::Note {
                    entry: EntryKind::Patrol,
                    refers_to: None,
                },
            ),
            [true, true, true],
        ),
        (
            "log in",
            action(None, ActionKind::LogIn),
            [true, true, true],
        ),
        (
            "log out",
            action(None, ActionKind::LogOut),
            [true, true, true],
        ),
        (
            "hand over",
            action(
                None,
                ActionKind::HandOver {
                    shift: "2026-12-05T08:00".into(),
                },
            ),
            [true, false, true],
        ),
        (
            "take over",
            action(
                None,
                ActionKind::TakeOver {
                    shift: "2026-12-05T08:00".into(),
                    handover: Uuid::nil(),
                },
            ),
            [true, false, true],
        ),
        (
            "operator changed",
            action(
                None,
                ActionKind::OperatorChanged {
                    account: "g9".into(),
                    change: OperatorChange::Disabled,
                },
            ),
            [false, false, true],
        ),
        (
            "ticket note",
            action(
                None,
                ActionKind::TicketAct {
                    ticket: "T1".into(),
                    act: TicketActionKind::Note,
                },
            ),
            [true, true, true],
        ),
        (
            "ticket accept",
            action(
                None,
                ActionKind::TicketAct {
                    ticket: "T1".into(),
                    act: TicketActionKind::Accept,
                },
            ),
            [false, true, true],
        ),
        (
            "ticket from an alarm",
            action(
                Some(1),
                ActionKind::CreateTicket {
                    ticket: new_ticket(Some(1)),
                },
            ),
            [true, true, true],
        ),
        (
            "ticket of its own",
            action(
                None,
                ActionKind::CreateTicket {
                    ticket: new_ticket(None),
                },
            ),
            [true, true, true],
        ),
        (
            "ticket taking a device out of service",
            action(
                None,
                ActionKind::CreateTicket {
                    ticket: NewTicket {
                        device: Some("door-1".into()),
                        out_of_service: true,
                        ..new_ticket(None)
                    },
                },
            ),
            [false, true, true],
        ),
        (
            "eldercare outcome",
            action(
                None,
                ActionKind::CareOutcome {
                    resident: "r1".into(),
                    outcome: Outcome::Reached,
                },
            ),
            [true, false, true],
        ),
        (
            "reveal",
            action(
                None,
                ActionKind::Reveal {
                    kind: DataKind::ResidentPhone,
                    subject: "r1".into(),
                },
            ),
            [true, true, true],
        ),
    ]
}

#[test]
fn every_role_against_every_action() {
    let book = book();
    let table = action_table();
    let mut kinds: Vec<&str> = table
        .iter()
        .map(|(_, action, _)| listed(&action.kind))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), 18, "every kind of action has a row: {kinds:?}");

    for (name, action, expected) in &table {
        for (index, role) in ROLES.into_iter().enumerate() {
            let registered = Registered::Found {
                role,
                disabled: false,
            };
            let outcome = authorize(registered, action, &book);
            if expected[index] {
                assert_eq!(outcome, Ok(()), "{role} may {name}");
            } else {
                match outcome {
                    Err(Refusal::NotPermitted { role: refused, .. }) => {
                        assert_eq!(refused, role, "{name}");
                    }
                    other => panic!("{role} may not {name}, but the check gave {other:?}"),
                }
            }
        }
    }
}

#[test]
fn close_of_active_alarm_needs_force_close() {
    let book = book();
    let close = |alarm| {
        action(
            Some(alarm),
            ActionKind::Close {
                disposition: Disposition::Other,
            },
        )
    };
    let refused = authorize(
        Registered::Found {
            role: Role::Guard,
            disabled: false,
        },
        &close(1),
        &book,
    );
    assert_eq!(
        refused,
        Err(Refusal::NotPermitted {
            role: Role::Guard,
            action: Permission::ForceClose
        })
    );
    assert_eq!(
        guardroom::domain::operator::required(&close(2), &book),
        Permission::Close
    );
}

#[test]
fn every_role_against_other_permissions() {
    let table = [
        (Permission::Review, [false, false, true]),
        (Permission::Export, [false, false, true]),
        (Permission::ManageOperators, [false, false, true]),
        (Permission::RevealPersonal, [true, true, true]),
        (Permission::HandleTickets, [false, true, true]),
    ];
    for (permission, expected) in table {
        for (index, role) in ROLES.into_iter().enumerate() {
            assert_eq!(
                allows(role, permission),
                expected[index],
                "{role} × {permission}"
            );
        }
    }
    assert!(allows(Role::Supervisor, Permission::ForceClose));
    assert!(!allows(Role::Guard, Permission::ForceClose));
    assert!(!allows(Role::Maintenance, Permission::Acknowledge));
    assert!(allows(Role::Maintenance, Permission::Service));
    assert!(!allows(Role::Guard, Permission::Service));
    assert!(allows(Role::Guard, Permission::Silence));
    assert!(!allows(Role::Maintenance, Permission::Silence));
}

#[test]
fn unregistered_and_disabled_operators() {
    let book = book();
    let acknowledge = action(Some(1), ActionKind::Acknowledge);

    // A site without operators checks no role, as before logins existed.
    for (_, action, _) in action_table() {
        assert_eq!(authorize(Registered::NoOperators, &action, &book), Ok(()));
    }
    assert_eq!(
        authorize(Registered::Unknown, &acknowledge, &book),
        Err(Refusal::UnknownOperator("op".into()))
    );
    let disabled = Registered::Found {
        role: Role::Supervisor,
        disabled: true,
    };
    assert_eq!(
        authorize(disabled, &acknowledge, &book),
        Err(Refusal::DisabledOperator("op".into()))
    );
    assert_eq!(
        authorize(disabled, &action(None, ActionKind::LogOut), &book),
        Ok(())
    );
    assert_eq!(
        authorize(disabled, &action(None, ActionKind::LogIn), &book),
        Err(Refusal::DisabledOperator("op".into()))
    );

    // The command line's OS user may change operators and nothing else.
    let change = action(
        None,
        ActionKind::OperatorChanged {
            account: "g1".into(),
            change: OperatorChange::PinSet,
        },
    );
    assert_eq!(authorize(Registered::OsUser, &change, &book), Ok(()));
    assert!(matches!(
        authorize(Registered::OsUser, &acknowledge, &book),
        Err(Refusal::UnknownOperator(_))
    ));
}

// ---- The recorder ----------------------------------------------------

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

fn writer(path: &Path) -> Writer {
    let store = Store::open(path).expect("opening the store");
    let settings = Settings {
        inventory: vec![smoke("b3-smoke-1")],
        unregistered_interval_s: 300,
        ..Settings::default()
    };
    Writer::new(store, settings).expect("starting the writer")
}

fn smoke_event() -> Input {
    let now = Timestamp::now();
    Input::Link(Inbound::Observed {
        observation: Observation::DeviceEvent {
            device: "b3-smoke-1".into(),
            event_id: "e1".into(),
            event: "smoke".into(),
            text: None,
            source_ts: Some(now),
        },
        received: now,
    })
}

#[derive(Clone, Default)]
struct Screen(Arc<Mutex<Vec<Delta>>>);

impl Screen {
    fn on_commit(&self) -> OnCommit {
        let deltas = self.0.clone();
        Box::new(move |delta| deltas.lock().unwrap().push(delta))
    }

    fn refused(&self) -> Vec<(Uuid, Refusal)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .flat_map(|delta| delta.refused.clone())
            .collect()
    }
}

fn logged_actions(path: &Path) -> Vec<serde_json::Value> {
    let conn = Connection::open(path).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT body FROM events WHERE kind IN ('alarm_acted', 'duty_recorded') ORDER BY seq",
        )
        .unwrap();
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .map(|body| serde_json::from_str(&body.unwrap()).unwrap())
        .collect()
}

fn by(operator: &str, claimed_role: &str, alarm: Option<u64>, kind: ActionKind) -> Action {
    Action {
        operator: operator.into(),
        role: claimed_role.into(),
        remark: "处理".into(),
        ..action(alarm, kind)
    }
}

fn add_operators(path: &Path) {
    let mut store = Store::open(path).unwrap();
    let now = Timestamp::now();
    // The hash is never checked here, so any PHC-shaped text will do.
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    assert!(
        store
            .add_operator("g1", "值班员甲", Role::Guard, hash, now)
            .unwrap()
    );
    assert!(
        store
            .add_operator("m1", "维修工乙", Role::Maintenance, hash, now)
            .unwrap()
    );
    assert!(
        store
            .add_operator("d1", "离职保安", Role::Guard, hash, now)
            .unwrap()
    );
    assert!(store.set_operator_disabled("d1", true, now).unwrap());
}

#[test]
fn recorder_refuses_and_does_not_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardroom.db");
    add_operators(&path);
    let mut writer = writer(&path);
    let screen = Screen::default();
    writer.process([smoke_event()], Some(&mut screen.on_commit()));
    let alarm = *writer
        .projection()
        .alarms
        .open
        .keys()
        .next()
        .expect("a smoke alarm");

    let refused = [
        by("nobody", "supervisor", Some(alarm), ActionKind::Acknowledge),
        by("d1", "guard", Some(alarm), ActionKind::Acknowledge),
        by("m1", "maintenance", Some(alarm), ActionKind::Acknowledge),
        // The role an action claims does not count: g1 is a guard.
        by(
            "g1",
            "supervisor",
            Some(alarm),
            ActionKind::Shelve { until: None },
        ),
        by(
            "os:root",
            "supervisor",
            Some(alarm),
            ActionKind::Acknowledge,
        ),
    ];
    for action in &refused {
        writer.process([Input::Act(action.clone())], Some(&mut screen.on_commit()));
    }
    assert_eq!(
        logged_actions(&path),
        Vec::<serde_json::Value>::new(),
        "nothing refused is logged"
    );
    let reasons = screen.refused();
    assert_eq!(reasons.len(), refused.len(), "{reasons:?}");
    assert_eq!(reasons[0].1, Refusal::UnknownOperator("nobody".into()));
    assert_eq!(reasons[1].1, Refusal::DisabledOperator("d1".into()));
    assert_eq!(
        reasons[2].1,
        Refusal::NotPermitted {
            role: Role::Maintenance,
            action: Permission::Acknowledge
        }
    );
    assert_eq!(
        reasons[3].1,
        Refusal::NotPermitted {
            role: Role::Guard,
            action: Permission::Shelve
        }
    );
    assert_eq!(reasons[4].1, Refusal::UnknownOperator("os:root".into()));

    // Allowed actions are logged with the role from the table.
    writer.process(
        [Input::Act(by(
            "g1",
            "supervisor",
            Some(alarm),
            ActionKind::Acknowledge,
        ))],
        Some(&mut screen.on_commit()),
    );
    let logged = logged_actions(&path);
    assert_eq!(logged.len(), 1, "{logged:?}");
    let action = &logged[0]["action"];
    assert_eq!(action["operator"], "g1");
    assert_eq!(action["role"], "guard", "{logged:?}");
    assert_eq!(action["action"], "acknowledge");
}

#[test]
fn recorder_refuses_requests_of_attached_consoles() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardroom.db");
    add_operators(&path);
    let mut writer = writer(&path);
    writer.process([smoke_event()], None);
    let alarm = *writer
        .projection()
        .alarms
        .open
        .keys()
        .next()
        .expect("a smoke alarm");

    let mut attached = Store::open(&path).unwrap();
    let forbidden = by("m1", "supervisor", Some(alarm), ActionKind::Acknowledge);
    attached.request(&forbidden, Timestamp::now()).unwrap();
    let allowed = by("m1", "maintenance", Some(alarm), ActionKind::Remark);
    attached.request(&allowed, Timestamp::now()).unwrap();
    writer.process([Input::Poll], None);

    let refused = attached.refused_requests("duty-1", 0).unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].action, forbidden.id);
    assert!(
        refused[0].reason.contains("maintenance"),
        "{}",
        refused[0].reason
    );
    let logged = logged_actions(&path);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["action"]["action"], "remark");
}

#[test]
fn recorder_without_operators_keeps_old_behaviour() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardroom.db");
    let mut writer = writer(&path);
    writer.process([smoke_event()], None);
    let alarm = *writer
        .projection()
        .alarms
        .open
        .keys()
        .next()
        .expect("a smoke alarm");
    // A smoke alarm is P1 and cannot be shelved, so the guard of an open
    // site acknowledges and silences it.
    writer.process(
        [
            Input::Act(by("guard", "guard", Some(alarm), ActionKind::Acknowledge)),
            Input::Act(by("guard", "guard", Some(alarm), ActionKind::Remark)),
        ],
        None,
    );
    assert_eq!(logged_actions(&path).len(), 2);
}

#[test]
fn every_permission_and_role_translated() {
    use guardroom::i18n::Lang;
    for lang in [Lang::En, Lang::ZhCn] {
        for permission in Permission::ALL {
            let key = format!("permission.{permission}");
            assert!(lang.try_t(&key).is_some(), "{key} missing in {lang:?}");
        }
        for role in ROLES {
            let key = format!("operator_role.{role}");
            assert!(lang.try_t(&key).is_some(), "{key} missing in {lang:?}");
        }
        for code in [
            "not_permitted",
            "unknown_operator",
            "disabled_operator",
            "not_logged_in",
            "read_only",
        ] {
            let key = format!("refusal.{code}");
            assert!(lang.try_t(&key).is_some(), "{key} missing in {lang:?}");
        }
        for code in [
            "unknown",
            "wrong",
            "locked_out",
            "disabled",
            "not_permitted",
            "store",
        ] {
            let key = format!("login.error_{code}");
            assert!(lang.try_t(&key).is_some(), "{key} missing in {lang:?}");
        }
    }
}
