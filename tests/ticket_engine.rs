//! The ticket engine on a virtual clock: the table of every state and
//! action, required remarks, SLA countdown and the once-only overdue
//! notice, reconciliation with the MQTT record, replay, and devices taken
//! out of service by a ticket.

use std::collections::BTreeMap;

use guardroom::domain::alarm::Priority;
use guardroom::domain::privacy::Role;
use guardroom::domain::ticket::sla::{self, CategorySla, SlaSettings, SlaStatus};
use guardroom::domain::ticket::{
    Category, NewTicket, Origin, Reconciled, Refusal, RemoteTicket, Reporter, Side, TicketAction,
    TicketActionKind, TicketBook, TicketContent, TicketEffect, TicketEvent, TicketState, Urgency,
};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// A book, its log and a clock that moves only when a test advances it.
struct Desk {
    book: TicketBook,
    start: Timestamp,
    log: Vec<(Timestamp, TicketEvent)>,
    sla: SlaSettings,
}

impl Desk {
    fn new() -> Self {
        Self {
            book: TicketBook::default(),
            start: "2026-12-04T01:00:00Z".parse().unwrap(),
            log: Vec::new(),
            sla: SlaSettings::default(),
        }
    }

    fn at(&self, secs: i64) -> Timestamp {
        self.start + SignedDuration::from_secs(secs)
    }

    fn feed(&mut self, secs: i64, event: TicketEvent) -> Vec<TicketEffect> {
        let at = self.at(secs);
        let effects = self.book.apply(&event, at);
        self.log.push((at, event));
        effects
    }

    fn create(&mut self, secs: i64, new: NewTicket) -> Result<Vec<TicketEffect>, Refusal> {
        self.book.check_new(&new)?;
        Ok(self.feed(secs, TicketEvent::Created { ticket: new }))
    }

    /// Takes an action the way a console does: checked, then logged.
    fn act(
        &mut self,
        secs: i64,
        ticket: &str,
        kind: TicketActionKind,
        remark: &str,
    ) -> Result<Vec<TicketEffect>, Refusal> {
        let action = action(ticket, kind, remark);
        self.book.check(&action)?;
        Ok(self.feed(secs, TicketEvent::Acted { action }))
    }

    fn receive(&mut self, secs: i64, record: RemoteTicket) -> Vec<TicketEffect> {
        self.feed(secs, TicketEvent::Received { record })
    }

    fn state(&self, ticket: &str) -> TicketState {
        self.book.get(ticket).unwrap().state()
    }

    /// Raises and logs the overdue notices due at `secs`.
    fn notices(&mut self, secs: i64) -> Vec<String> {
        let now = self.at(secs);
        let notices = sla::overdue_notices(&self.book, now, &self.sla);
        let ids = notices.iter().map(|n| n.ticket.clone()).collect();
        for notice in notices {
            assert_eq!(notice.priority, Priority::P4);
            self.feed(secs, TicketEvent::OverdueNoticed { notice });
        }
        ids
    }
}

fn action(ticket: &str, kind: TicketActionKind, remark: &str) -> TicketAction {
    TicketAction {
        id: Uuid::new_v4(),
        ticket: ticket.into(),
        kind,
        operator: "值班员甲".into(),
        role: Role::Guard,
        remark: remark.into(),
    }
}

fn new_ticket(id: &str) -> NewTicket {
    NewTicket {
        id: id.into(),
        category: Category::Plumbing,
        urgency: Urgency::Urgent,
        location: "3栋 2单元 1201".into(),
        description: "厨房水管漏水".into(),
        reporter: Some(Reporter {
            name: "测试员甲".into(),
            phone: "13800000001".into(),
        }),
        alarm: None,
        device: None,
        refers_to: None,
        out_of_service: false,
        operator: "值班员甲".into(),
        role: Role::Guard,
        remark: String::new(),
    }
}

fn for_device(id: &str, device: &str, out_of_service: bool) -> NewTicket {
    NewTicket {
        category: Category::SecurityDevices,
        location: "1栋 大堂".into(),
        description: "摄像机离线".into(),
        device: Some(device.into()),
        alarm: Some(7),
        out_of_service,
        remark: if out_of_service {
            "更换电源".into()
        } else {
            String::new()
        },
        ..new_ticket(id)
    }
}

fn assign(who: &str) -> TicketActionKind {
    TicketActionKind::Assign {
        assignee: who.into(),
    }
}

/// Brings ticket `id` to `state` through legal actions.
fn bring_to(desk: &mut Desk, id: &str, state: TicketState, out_of_service: bool) {
    desk.create(0, for_device(id, &format!("cam-{id}"), out_of_service))
        .unwrap();
    let steps: &[(TicketActionKind, &str)] = match state {
        TicketState::New => &[],
        TicketState::Assigned => &[(assign("维修员乙"), "")],
        TicketState::InProgress => &[(assign("维修员乙"), ""), (TicketActionKind::Accept, "")],
        TicketState::AwaitingRating => &[
            (assign("维修员乙"), ""),
            (TicketActionKind::Accept, ""),
            (TicketActionKind::Resolve, "更换电源适配器"),
        ],
        TicketState::Closed => &[
            (assign("维修员乙"), ""),
            (TicketActionKind::Accept, ""),
            (TicketActionKind::Resolve, "更换电源适配器"),
            (TicketActionKind::Close { rating: Some(5) }, ""),
        ],
        TicketState::Cancelled => &[(TicketActionKind::Cancel, "住户已自行修好")],
    };
    for (i, (kind, remark)) in steps.iter().enumerate() {
        desk.act(60 * (i as i64 + 1), id, kind.clone(), remark)
            .unwrap();
    }
    assert_eq!(desk.state(id), state);
}

/// The expected result of one (state, action) cell.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell {
    To(TicketState),
    Refused(&'static str),
}

#[test]
fn every_state_and_action() {
    use Cell::{Refused as R, To};
    use TicketActionKind as K;
    use TicketState::{Assigned, AwaitingRating, Cancelled, Closed, InProgress, New};
    const NA: Cell = R("not_allowed");
    const NC: Cell = R("no_conflict");

    // States in the order of TicketState::ALL:
    // new, assigned, in_progress, awaiting_rating, closed, cancelled.
    let table: Vec<(K, [Cell; 6])> = vec![
        (assign("维修员丙"), [To(Assigned), NA, NA, NA, NA, NA]),
        (K::Accept, [NA, To(InProgress), NA, NA, NA, NA]),
        (K::Resolve, [NA, NA, To(AwaitingRating), NA, NA, NA]),
        (
            K::Close { rating: Some(4) },
            [NA, NA, NA, To(Closed), NA, NA],
        ),
        (K::Reopen, [NA, NA, NA, To(InProgress), NA, NA]),
        (K::Return, [NA, To(New), To(New), NA, NA, NA]),
        (
            K::Transfer {
                assignee: "维修员丙".into(),
            },
            [NA, To(Assigned), To(Assigned), NA, NA, NA],
        ),
        (
            K::Cancel,
            [To(Cancelled), To(Cancelled), To(Cancelled), NA, NA, NA],
        ),
        (
            K::Note,
            [
                To(New),
                To(Assigned),
                To(InProgress),
                To(AwaitingRating),
                To(Closed),
                To(Cancelled),
            ],
        ),
        (
            K::TakeOutOfService,
            [To(New), To(Assigned), To(InProgress), NA, NA, NA],
        ),
        (
            K::ReturnToService,
            [To(New), To(Assigned), To(InProgress), NA, NA, NA],
        ),
        (K::ResolveConflict { keep: Side::Local }, [NC; 6]),
    ];
    assert_eq!(table.len(), 12, "every action kind has a row");

    for (kind, cells) in &table {
        for (state, expected) in TicketState::ALL.into_iter().zip(cells) {
            let mut desk = Desk::new();
            let out_of_service = matches!(kind, K::ReturnToService);
            bring_to(&mut desk, "T-1", state, out_of_service);
            let before = desk.book.clone();
            let cell = format!("{} in {}", kind.as_str(), state.as_str());

            let result = desk.act(3_600, "T-1", kind.clone(), "现场处理备注");
            match (*expected, result) {
                (To(to), Ok(_)) => {
                    assert_eq!(desk.state("T-1"), to, "{cell}");
                    let step = desk.book.get("T-1").unwrap().history.last().unwrap();
                    assert_eq!(step.what, kind.as_str(), "{cell}");
                    assert_eq!(step.from, Some(state), "{cell}");
                    assert_eq!(step.to, to, "{cell}");
                    assert_eq!(step.operator, "值班员甲", "{cell}");
                    assert_eq!(step.role, Some(Role::Guard), "{cell}");
                    assert_eq!(step.remark, "现场处理备注", "{cell}");
                }
                (R(code), Err(refusal)) => {
                    assert_eq!(refusal.code(), code, "{cell}: {refusal}");
                    assert_eq!(desk.book, before, "{cell}: a refusal changes nothing");
                }
                (expected, got) => panic!("{cell}: expected {expected:?}, got {got:?}"),
            }
        }
    }
}

#[test]
fn refused_fold_changes_nothing() {
    let mut desk = Desk::new();
    bring_to(&mut desk, "T-1", TicketState::Closed, false);
    let before = desk.book.clone();
    // A logged action that no longer fits, as after a race between consoles.
    let stale = action("T-1", TicketActionKind::Accept, "");
    let effects = desk.feed(4_000, TicketEvent::Acted { action: stale });
    assert!(effects.is_empty());
    assert_eq!(desk.book, before);
}

#[test]
fn refusal_names_ticket_state_and_fix() {
    let mut desk = Desk::new();
    bring_to(&mut desk, "T-12", TicketState::Closed, false);
    let refusal = desk
        .act(4_000, "T-12", TicketActionKind::Reopen, "又漏水了")
        .unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "ticket T-12 is closed; reopen is not possible, create a new ticket referring to it"
    );

    let mut desk = Desk::new();
    bring_to(&mut desk, "T-3", TicketState::Assigned, false);
    let refusal = desk
        .act(4_000, "T-3", TicketActionKind::Resolve, "已修")
        .unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "ticket T-3 is assigned; resolve is not possible, accept it first"
    );
    let refusal = desk.act(4_000, "T-3", assign("维修员丙"), "").unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "ticket T-3 is assigned; assign is not possible, transfer it to change the assignee"
    );

    let refusal = desk
        .act(4_000, "T-9", TicketActionKind::Accept, "")
        .unwrap_err();
    assert_eq!(refusal, Refusal::Unknown("T-9".into()));
}

#[test]
fn follow_up_refers_to_closed_ticket() {
    let mut desk = Desk::new();
    bring_to(&mut desk, "T-1", TicketState::Closed, false);
    assert_eq!(desk.book.next_id(), "T-2");
    let follow_up = NewTicket {
        refers_to: Some("T-1".into()),
        ..new_ticket("T-2")
    };
    desk.create(5_000, follow_up).unwrap();
    let ticket = desk.book.get("T-2").unwrap();
    assert_eq!(ticket.content.refers_to.as_deref(), Some("T-1"));
    assert_eq!(ticket.origin, Origin::Console);

    let dangling = NewTicket {
        refers_to: Some("T-99".into()),
        ..new_ticket("T-3")
    };
    assert_eq!(
        desk.create(5_000, dangling).unwrap_err().code(),
        "unknown_reference"
    );
    assert_eq!(
        desk.create(5_000, new_ticket("T-2")).unwrap_err(),
        Refusal::Exists("T-2".into())
    );
    let empty = NewTicket {
        description: "  ".into(),
        ..new_ticket("T-4")
    };
    assert_eq!(
        desk.create(5_000, empty).unwrap_err().code(),
        "empty_description"
    );
}

#[test]
fn remarks_required_table() {
    use TicketActionKind as K;
    // (action, a state where it is legal, remark required)
    let table = [
        (assign("维修员丙"), TicketState::New, false),
        (K::Accept, TicketState::Assigned, false),
        (K::Resolve, TicketState::InProgress, true),
        (
            K::Close { rating: None },
            TicketState::AwaitingRating,
            false,
        ),
        (K::Reopen, TicketState::AwaitingRating, true),
        (K::Return, TicketState::Assigned, true),
        (
            K::Transfer {
                assignee: "维修员丙".into(),
            },
            TicketState::InProgress,
            true,
        ),
        (K::Cancel, TicketState::New, true),
        (K::Note, TicketState::Closed, true),
        (K::TakeOutOfService, TicketState::InProgress, true),
        (K::ReturnToService, TicketState::InProgress, false),
    ];
    for (kind, state, required) in table {
        for remark in ["", "   "] {
            let mut desk = Desk::new();
            let out_of_service = matches!(kind, K::ReturnToService);
            bring_to(&mut desk, "T-1", state, out_of_service);
            let result = desk.act(4_000, "T-1", kind.clone(), remark);
            if required {
                let refusal = result.unwrap_err();
                assert_eq!(
                    refusal.code(),
                    "remark_required",
                    "{} {remark:?}",
                    kind.as_str()
                );
                assert!(refusal.to_string().contains("T-1"), "{refusal}");
            } else {
                assert!(result.is_ok(), "{} {remark:?}: {result:?}", kind.as_str());
            }
        }
    }
}

#[test]
fn assignee_and_rating_checks() {
    let mut desk = Desk::new();
    bring_to(&mut desk, "T-1", TicketState::New, false);
    assert_eq!(
        desk.act(100, "T-1", assign("  "), "").unwrap_err().code(),
        "no_assignee"
    );
    desk.act(100, "T-1", assign(" 维修员乙 "), "").unwrap();
    assert_eq!(
        desk.book.get("T-1").unwrap().content.assignee.as_deref(),
        Some("维修员乙")
    );
    let same = TicketActionKind::Transfer {
        assignee: "维修员乙".into(),
    };
    assert_eq!(
        desk.act(200, "T-1", same, "换人").unwrap_err().code(),
        "same_assignee"
    );
    desk.act(300, "T-1", TicketActionKind::Return, "不在岗")
        .unwrap();
    assert_eq!(desk.book.get("T-1").unwrap().content.assignee, None);
    assert_eq!(desk.state("T-1"), TicketState::New);

    let mut desk = Desk::new();
    bring_to(&mut desk, "T-1", TicketState::AwaitingRating, false);
    for rating in [0, 6] {
        let close = TicketActionKind::Close {
            rating: Some(rating),
        };
        assert_eq!(
            desk.act(5_000, "T-1", close, "").unwrap_err().code(),
            "rating"
        );
    }
    desk.act(
        5_000,
        "T-1",
        TicketActionKind::Close { rating: Some(1) },
        "",
    )
    .unwrap();
    assert_eq!(desk.book.get("T-1").unwrap().content.rating, Some(1));
}

#[test]
fn sla_counts_down_then_overdue() {
    let mut desk = Desk::new();
    desk.create(0, new_ticket("T-1")).unwrap();
    let ticket = |desk: &Desk| desk.book.get("T-1").unwrap().clone();
    let due = desk.at(2 * 3_600);

    let at_1h = sla::status(&ticket(&desk), desk.at(3_600), &desk.sla);
    assert_eq!(
        at_1h,
        SlaStatus::Running {
            due,
            left: SignedDuration::from_hours(1)
        }
    );
    let at_due = sla::status(&ticket(&desk), due, &desk.sla);
    assert_eq!(
        at_due,
        SlaStatus::Running {
            due,
            left: SignedDuration::ZERO
        }
    );
    let past = sla::status(&ticket(&desk), desk.at(2 * 3_600 + 1), &desk.sla);
    assert_eq!(
        past,
        SlaStatus::Overdue {
            due,
            by: SignedDuration::from_secs(1)
        }
    );

    // A return and a transfer do not restart the clock.
    desk.act(600, "T-1", assign("维修员乙"), "").unwrap();
    desk.act(1_200, "T-1", TicketActionKind::Return, "不在岗")
        .unwrap();
    let after_return = sla::status(&ticket(&desk), desk.at(3_600), &desk.sla);
    assert!(matches!(after_return, SlaStatus::Running { due: d, .. } if d == due));
}

#[test]
fn sla_met_missed_and_cancelled() {
    let mut desk = Desk::new();
    bring_to(&mut desk, "T-1", TicketState::AwaitingRating, false);
    let ticket = desk.book.get("T-1").unwrap();
    let status = sla::status(ticket, desk.at(10 * 3_600), &desk.sla);
    assert_eq!(
        status,
        SlaStatus::Met {
            due: desk.at(2 * 3_600),
            resolved: desk.at(180)
        }
    );

    let mut desk = Desk::new();
    desk.create(0, new_ticket("T-1")).unwrap();
    desk.act(60, "T-1", assign("维修员乙"), "").unwrap();
    desk.act(120, "T-1", TicketActionKind::Accept, "").unwrap();
    desk.act(3 * 3_600, "T-1", TicketActionKind::Resolve, "已修复")
        .unwrap();
    let status = sla::status(desk.book.get("T-1").unwrap(), desk.at(4 * 3_600), &desk.sla);
    assert_eq!(
        status,
        SlaStatus::Missed {
            due: desk.at(2 * 3_600),
            resolved: desk.at(3 * 3_600),
            by: SignedDuration::from_hours(1)
        }
    );

    // Reopening makes the clock run again from the same start.
    desk.act(4 * 3_600, "T-1", TicketActionKind::Reopen, "仍漏水")
        .unwrap();
    let status = sla::status(desk.book.get("T-1").unwrap(), desk.at(5 * 3_600), &desk.sla);
    assert_eq!(
        status,
        SlaStatus::Overdue {
            due: desk.at(2 * 3_600),
            by: SignedDuration::from_hours(3)
        }
    );

    let mut desk = Desk::new();
    bring_to(&mut desk, "T-1", TicketState::Cancelled, false);
    let status = sla::status(
        desk.book.get("T-1").unwrap(),
        desk.at(99 * 3_600),
        &desk.sla,
    );
    assert_eq!(status, SlaStatus::None);
}

#[test]
fn sla_limits_by_urgency_and_category() {
    let settings = SlaSettings::default();
    let hours = |category, urgency| settings.limit(category, urgency).as_hours();
    for category in Category::ALL {
        assert_eq!(hours(category, Urgency::Urgent), 2, "{category:?}");
        assert_eq!(hours(category, Urgency::Normal), 24, "{category:?}");
        assert_eq!(hours(category, Urgency::Minor), 72, "{category:?}");
    }

    let settings: SlaSettings =
        toml::from_str("urgent_min = 60\n[categories.elevator]\nurgent_min = 30\n").unwrap();
    assert_eq!(
        settings.limit(Category::Elevator, Urgency::Urgent),
        SignedDuration::from_mins(30)
    );
    assert_eq!(
        settings.limit(Category::Elevator, Urgency::Normal),
        SignedDuration::from_hours(24)
    );
    assert_eq!(
        settings.limit(Category::Plumbing, Urgency::Urgent),
        SignedDuration::from_mins(60)
    );
    let expected = BTreeMap::from([(
        Category::Elevator,
        CategorySla {
            urgent_min: Some(30),
            ..CategorySla::default()
        },
    )]);
    assert_eq!(settings.categories, expected);

    let typo = toml::from_str::<SlaSettings>("urgnet_min = 60\n").unwrap_err();
    assert!(typo.to_string().contains("urgnet_min"), "{typo}");
}

#[test]
fn overdue_urgent_notice_fires_once() {
    let mut desk = Desk::new();
    desk.create(0, new_ticket("T-1")).unwrap();
    let normal = NewTicket {
        urgency: Urgency::Normal,
        ..new_ticket("T-2")
    };
    desk.create(0, normal).unwrap();
    let minor = NewTicket {
        urgency: Urgency::Minor,
        ..new_ticket("T-3")
    };
    desk.create(0, minor).unwrap();

    assert!(desk.notices(3_600).is_empty());
    assert!(
        desk.notices(2 * 3_600).is_empty(),
        "not overdue at the due time"
    );
    assert_eq!(desk.notices(2 * 3_600 + 1), ["T-1"]);
    assert!(desk.notices(2 * 3_600 + 2).is_empty(), "raised once");
    assert!(desk.book.get("T-1").unwrap().overdue_noticed);

    // Overdue again after a resolve and a reopen: still no second notice.
    desk.act(3 * 3_600, "T-1", assign("维修员乙"), "").unwrap();
    desk.act(3 * 3_600, "T-1", TicketActionKind::Accept, "")
        .unwrap();
    desk.act(3 * 3_600, "T-1", TicketActionKind::Resolve, "已修复")
        .unwrap();
    desk.act(4 * 3_600, "T-1", TicketActionKind::Reopen, "仍漏水")
        .unwrap();
    assert!(desk.notices(5 * 3_600).is_empty());

    // Normal and minor tickets never get the notice, however late.
    assert!(desk.notices(30 * 24 * 3_600).is_empty());

    // A resolved urgent ticket that was late gets none either.
    let mut desk = Desk::new();
    desk.create(0, new_ticket("T-1")).unwrap();
    desk.act(60, "T-1", assign("维修员乙"), "").unwrap();
    desk.act(120, "T-1", TicketActionKind::Accept, "").unwrap();
    desk.act(3 * 3_600, "T-1", TicketActionKind::Resolve, "已修复")
        .unwrap();
    assert!(desk.notices(4 * 3_600).is_empty());
}

fn record(id: &str, version: u64, state: TicketState, assignee: Option<&str>) -> RemoteTicket {
    let created: Timestamp = "2026-12-04T01:00:00Z".parse().unwrap();
    RemoteTicket {
        id: id.into(),
        version,
        updated_at: created + SignedDuration::from_mins(version as i64),
        created_at: created,
        content: TicketContent {
            state,
            category: Category::Plumbing,
            urgency: Urgency::Urgent,
            location: "3栋 2单元 1201".into(),
            description: "厨房水管漏水".into(),
            assignee: assignee.map(str::to_owned),
            reporter: Some(Reporter {
                name: "测试员甲".into(),
                phone: "13800000001".into(),
            }),
            alarm: None,
            device: None,
            refers_to: None,
            rating: None,
        },
    }
}

fn outcome(effects: &[TicketEffect]) -> Reconciled {
    effects
        .iter()
        .find_map(|effect| match effect {
            TicketEffect::Reconciled { outcome, .. } => Some(outcome.clone()),
            _ => None,
        })
        .expect("a received record is always reconciled")
}

/// A local ticket at version 1 that the record has echoed back.
fn agreed_desk() -> Desk {
    let mut desk = Desk::new();
    desk.create(0, new_ticket("T-1")).unwrap();
    let echo = desk.receive(10, record("T-1", 1, TicketState::New, None));
    assert_eq!(outcome(&echo), Reconciled::InSync);
    assert_eq!(desk.book.get("T-1").unwrap().agreed, 1);
    desk
}

#[test]
fn reconcile_remote_newer() {
    let mut desk = agreed_desk();
    let newer = record("T-1", 2, TicketState::Assigned, Some("维修员乙"));
    let effects = desk.receive(20, newer.clone());
    assert_eq!(
        outcome(&effects),
        Reconciled::RemoteNewer {
            from_version: 1,
            to_version: 2
        }
    );
    let ticket = desk.book.get("T-1").unwrap();
    assert_eq!(ticket.content, newer.content);
    assert_eq!(ticket.version, 2);
    assert_eq!(ticket.agreed, 2);
    assert_eq!(ticket.history.last().unwrap().what, "received");
    assert_eq!(ticket.history.last().unwrap().operator, "mqtt");
}

#[test]
fn reconcile_local_newer() {
    let mut desk = agreed_desk();
    desk.act(20, "T-1", assign("维修员乙"), "").unwrap();
    assert_eq!(desk.book.get("T-1").unwrap().version, 2);

    // A redelivery of version 1 shows an older state this console had.
    let effects = desk.receive(30, record("T-1", 1, TicketState::New, None));
    assert_eq!(
        outcome(&effects),
        Reconciled::LocalNewer {
            local_version: 2,
            remote_version: 1
        }
    );
    assert!(effects.contains(&TicketEffect::Publish {
        ticket: "T-1".into()
    }));
    let ticket = desk.book.get("T-1").unwrap();
    assert_eq!(ticket.state(), TicketState::Assigned);
    assert_eq!(ticket.content.assignee.as_deref(), Some("维修员乙"));

    // The echo of version 2 confirms it.
    let effects = desk.receive(
        40,
        record("T-1", 2, TicketState::Assigned, Some("维修员乙")),
    );
    assert_eq!(outcome(&effects), Reconciled::InSync);
    assert_eq!(desk.book.get("T-1").unwrap().agreed, 2);
    assert!(desk.book.get("T-1").unwrap().unconfirmed.is_empty());
}

#[test]
fn reconcile_equal_versions_identical() {
    let mut desk = agreed_desk();
    let before = desk.book.clone();
    let effects = desk.receive(20, record("T-1", 1, TicketState::New, None));
    assert_eq!(outcome(&effects), Reconciled::InSync);
    assert_eq!(desk.book, before);
}

#[test]
fn reconcile_equal_versions_conflicting() {
    let mut desk = agreed_desk();
    desk.act(20, "T-1", assign("维修员乙"), "").unwrap();
    let theirs = record("T-1", 2, TicketState::Assigned, Some("维修员丙"));
    let effects = desk.receive(30, theirs.clone());
    assert_eq!(
        outcome(&effects),
        Reconciled::Conflict {
            local_version: 2,
            remote_version: 2,
            local_updated_at: desk.at(20),
            remote_updated_at: theirs.updated_at,
        }
    );
    assert!(effects.contains(&TicketEffect::ConflictFlagged {
        ticket: "T-1".into()
    }));

    // Both sides are kept.
    let ticket = desk.book.get("T-1").unwrap();
    assert_eq!(ticket.content.assignee.as_deref(), Some("维修员乙"));
    assert_eq!(ticket.conflict.as_ref().unwrap().remote, theirs);
    assert_eq!(desk.book.conflicts().count(), 1);

    // Nothing but a note changes the ticket until an operator chooses.
    let refusal = desk
        .act(40, "T-1", TicketActionKind::Accept, "")
        .unwrap_err();
    assert_eq!(refusal.code(), "conflict");
    desk.act(40, "T-1", TicketActionKind::Note, "已电话确认")
        .unwrap();

    let keep = TicketActionKind::ResolveConflict { keep: Side::Remote };
    let effects = desk.act(50, "T-1", keep, "").unwrap();
    assert!(effects.contains(&TicketEffect::Publish {
        ticket: "T-1".into()
    }));
    let ticket = desk.book.get("T-1").unwrap();
    assert_eq!(ticket.content, theirs.content);
    assert_eq!(ticket.version, 3, "above both sides");
    assert!(ticket.conflict.is_none());

    // Redeliveries of either side's version 2 are stale now.
    let again = desk.receive(60, theirs);
    assert_eq!(
        outcome(&again),
        Reconciled::Stale {
            agreed: 2,
            remote_version: 2
        }
    );
    let mut echo = record("T-1", 3, TicketState::Assigned, Some("维修员丙"));
    echo.updated_at = desk.at(50);
    assert_eq!(outcome(&desk.receive(70, echo)), Reconciled::InSync);
}

#[test]
fn reconcile_keep_local_side() {
    let mut desk = agreed_desk();
    desk.act(20, "T-1", assign("维修员乙"), "").unwrap();
    desk.receive(
        30,
        record("T-1", 2, TicketState::Assigned, Some("维修员丙")),
    );
    let keep = TicketActionKind::ResolveConflict { keep: Side::Local };
    desk.act(50, "T-1", keep, "").unwrap();
    let ticket = desk.book.get("T-1").unwrap();
    assert_eq!(ticket.content.assignee.as_deref(), Some("维修员乙"));
    assert_eq!(ticket.version, 3);
    assert!(ticket.conflict.is_none());
}

#[test]
fn reconcile_newer_record_over_unconfirmed_change_conflicts() {
    let mut desk = agreed_desk();
    desk.act(20, "T-1", assign("维修员乙"), "").unwrap();
    let effects = desk.receive(30, record("T-1", 3, TicketState::Cancelled, None));
    assert!(matches!(outcome(&effects), Reconciled::Conflict { .. }));
    assert_eq!(desk.state("T-1"), TicketState::Assigned, "local kept");
}

#[test]
fn reconcile_older_version_with_other_content_conflicts() {
    let mut desk = agreed_desk();
    desk.act(20, "T-1", assign("维修员乙"), "").unwrap();
    // Version 1 as the other side has it differs from this console's version 1.
    let effects = desk.receive(30, record("T-1", 1, TicketState::Cancelled, None));
    assert!(matches!(outcome(&effects), Reconciled::Conflict { .. }));
}

#[test]
fn reconcile_stale_and_added() {
    let mut desk = agreed_desk();
    desk.receive(
        20,
        record("T-1", 5, TicketState::Assigned, Some("维修员乙")),
    );
    let before = desk.book.clone();
    let effects = desk.receive(30, record("T-1", 4, TicketState::New, None));
    assert_eq!(
        outcome(&effects),
        Reconciled::Stale {
            agreed: 5,
            remote_version: 4
        }
    );
    assert_eq!(desk.book, before);

    let effects = desk.receive(
        40,
        record("R-1001", 2, TicketState::AwaitingRating, Some("维修员乙")),
    );
    assert_eq!(outcome(&effects), Reconciled::Added);
    let added = desk.book.get("R-1001").unwrap();
    assert_eq!(added.origin, Origin::Remote);
    assert_eq!(added.version, 2);
    assert_eq!(added.agreed, 2);
    assert!(added.resolved_at.is_some());
}

#[test]
fn decode_record_shape() {
    let payload = r#"{
        "v": 1, "id": "R-1001", "version": 3,
        "ts": "2026-12-04T09:30:00+08:00", "created_at": 1764810000000,
        "state": "assigned", "category": "doors_access", "urgency": "normal",
        "location": "3栋 2单元 1201", "description": "单元门禁读卡器无反应",
        "assignee": "维修员乙",
        "reporter": { "name": "测试员甲", "phone": "138 0000 0001" },
        "device": "b3-reader-1", "rating": null,
        "added_later": { "any": "thing" }
    }"#;
    let record = RemoteTicket::decode("R-1001", payload.as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(record.version, 3);
    assert_eq!(
        record.updated_at,
        "2026-12-04T01:30:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(record.created_at.as_millisecond(), 1_764_810_000_000);
    assert_eq!(record.content.state, TicketState::Assigned);
    assert_eq!(record.content.category, Category::DoorsAccess);
    assert_eq!(record.content.urgency, Urgency::Normal);
    assert_eq!(record.content.device.as_deref(), Some("b3-reader-1"));
    assert_eq!(record.content.reporter.unwrap().phone, "138 0000 0001");

    assert_eq!(RemoteTicket::decode("R-1001", b"").unwrap(), None);
}

#[test]
fn decode_record_rejects() {
    let base = r#""version": 1, "ts": 1764810000000, "created_at": 1764810000000,
        "category": "plumbing", "urgency": "urgent", "location": "1栋", "description": "漏水""#;
    let cases = [
        (
            format!(r#"{{"v": 1, "state": "done", {base}}}"#),
            "json",
            "state",
        ),
        (
            format!(r#"{{"v": 2, "state": "new", {base}}}"#),
            "schema",
            "version 2",
        ),
        (
            format!(r#"{{"v": 1, "id": "R-2", "state": "new", {base}}}"#),
            "mismatch",
            "ticket/R-2",
        ),
        (
            format!(r#"{{"v": 1, "state": "new", "rating": 9, {base}}}"#),
            "rating",
            "rating 9",
        ),
        (
            format!(
                r#"{{"v": 1, "state": "new", {}}}"#,
                base.replace("\"version\": 1", "\"version\": 0")
            ),
            "version",
            "version 0",
        ),
        (
            format!(
                r#"{{"v": 1, "state": "new", {}}}"#,
                base.replace("\"ts\": 1764810000000", "\"ts\": \"yesterday\"")
            ),
            "json",
            "yesterday",
        ),
        (
            format!(
                r#"{{"v": 1, "state": "new", {}}}"#,
                base.replace("\"version\": 1", "\"version\": \"1\"")
            ),
            "json",
            "version",
        ),
    ];
    for (payload, case, needle) in cases {
        let error = RemoteTicket::decode("R-1", payload.as_bytes()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(needle), "{case}: {message}");
        assert!(message.contains("R-1"), "{case}: {message}");
    }
}

#[test]
fn replay_gives_same_book() {
    let mut desk = Desk::new();
    desk.create(0, for_device("T-1", "cam-1", true)).unwrap();
    desk.create(10, new_ticket("T-2")).unwrap();
    desk.act(20, "T-1", assign("维修员乙"), "").unwrap();
    desk.act(30, "T-1", TicketActionKind::Accept, "").unwrap();
    desk.act(40, "T-2", TicketActionKind::Cancel, "重复报修")
        .unwrap();
    desk.receive(50, record("R-7", 1, TicketState::New, None));
    desk.receive(
        60,
        record("R-7", 2, TicketState::Assigned, Some("维修员丙")),
    );
    desk.receive(
        70,
        record("T-1", 1, TicketState::Assigned, Some("维修员丁")),
    );
    desk.notices(3 * 3_600);
    desk.act(3 * 3_600 + 10, "T-1", TicketActionKind::Note, "等待配件")
        .unwrap();

    let replayed = TicketBook::replay(desk.log.iter().map(|(at, e)| (*at, e)));
    assert_eq!(replayed, desk.book);
    assert_eq!(replayed.next_id(), "T-3");

    // Through the log's JSON, as the store keeps it.
    let stored: Vec<(Timestamp, String)> = desk
        .log
        .iter()
        .map(|(at, e)| (*at, serde_json::to_string(e).unwrap()))
        .collect();
    let loaded: Vec<(Timestamp, TicketEvent)> = stored
        .iter()
        .map(|(at, json)| (*at, serde_json::from_str(json).unwrap()))
        .collect();
    let from_json = TicketBook::replay(loaded.iter().map(|(at, e)| (*at, e)));
    assert_eq!(from_json, desk.book);
    let twice = TicketBook::replay(loaded.iter().map(|(at, e)| (*at, e)));
    assert_eq!(twice, from_json);
}

#[test]
fn out_of_service_link() {
    let mut desk = Desk::new();
    let effects = desk.create(0, for_device("T-1", "cam-1", true)).unwrap();
    assert!(effects.contains(&TicketEffect::DeviceOutOfService {
        device: "cam-1".into(),
        ticket: "T-1".into()
    }));
    desk.create(10, for_device("T-2", "cam-2", false)).unwrap();
    assert_eq!(
        desk.book.out_of_service(),
        BTreeMap::from([("cam-1", "T-1")])
    );
    assert_eq!(desk.book.out_of_service_by("cam-1"), Some("T-1"));
    assert_eq!(desk.book.out_of_service_by("cam-2"), None);

    // One device, one ticket holding it.
    let refusal = desk
        .create(20, for_device("T-3", "cam-1", true))
        .unwrap_err();
    assert_eq!(refusal.code(), "already_out_of_service");
    let no_device = NewTicket {
        out_of_service: true,
        remark: "停用".into(),
        ..new_ticket("T-3")
    };
    assert_eq!(desk.create(20, no_device).unwrap_err().code(), "no_device");
    let no_reason = NewTicket {
        remark: String::new(),
        ..for_device("T-3", "cam-3", true)
    };
    assert_eq!(
        desk.create(20, no_reason).unwrap_err().code(),
        "remark_required"
    );
    assert_eq!(
        desk.act(30, "T-2", TicketActionKind::ReturnToService, "")
            .unwrap_err()
            .code(),
        "not_out_of_service"
    );
    desk.create(40, new_ticket("T-4")).unwrap();
    assert_eq!(
        desk.act(40, "T-4", TicketActionKind::TakeOutOfService, "停用")
            .unwrap_err()
            .code(),
        "no_device"
    );

    // Resolving returns the device; the caller re-checks its live state.
    desk.act(50, "T-1", assign("维修员乙"), "").unwrap();
    desk.act(60, "T-1", TicketActionKind::Accept, "").unwrap();
    let effects = desk
        .act(70, "T-1", TicketActionKind::Resolve, "更换电源")
        .unwrap();
    assert!(effects.contains(&TicketEffect::DeviceReturned {
        device: "cam-1".into(),
        ticket: "T-1".into()
    }));
    assert!(desk.book.out_of_service().is_empty());
    desk.act(80, "T-1", TicketActionKind::Reopen, "仍无画面")
        .unwrap();
    assert!(
        desk.book.out_of_service().is_empty(),
        "a reopen does not take it out again"
    );

    // Taking out and returning during the repair, and a cancel.
    let effects = desk
        .act(90, "T-2", TicketActionKind::TakeOutOfService, "拆机检修")
        .unwrap();
    assert!(effects.contains(&TicketEffect::DeviceOutOfService {
        device: "cam-2".into(),
        ticket: "T-2".into()
    }));
    let effects = desk
        .act(100, "T-2", TicketActionKind::ReturnToService, "")
        .unwrap();
    assert!(effects.contains(&TicketEffect::DeviceReturned {
        device: "cam-2".into(),
        ticket: "T-2".into()
    }));
    desk.act(110, "T-2", TicketActionKind::TakeOutOfService, "拆机检修")
        .unwrap();
    let effects = desk
        .act(120, "T-2", TicketActionKind::Cancel, "误报修")
        .unwrap();
    assert!(effects.contains(&TicketEffect::DeviceReturned {
        device: "cam-2".into(),
        ticket: "T-2".into()
    }));
    assert!(desk.book.out_of_service().is_empty());
}

#[test]
fn remote_close_returns_device() {
    let mut desk = Desk::new();
    desk.create(0, for_device("T-1", "cam-1", true)).unwrap();
    let mut echo = record("T-1", 1, TicketState::New, None);
    echo.content = desk.book.get("T-1").unwrap().content.clone();
    assert_eq!(outcome(&desk.receive(10, echo.clone())), Reconciled::InSync);

    let mut closed = echo;
    closed.version = 2;
    closed.content.state = TicketState::Closed;
    let effects = desk.receive(20, closed);
    assert!(effects.contains(&TicketEffect::DeviceReturned {
        device: "cam-1".into(),
        ticket: "T-1".into()
    }));
    assert!(desk.book.out_of_service().is_empty());
}
