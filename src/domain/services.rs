//! Repair tickets and eldercare check-ins as part of the projection: the
//! ticket book and the care engine, folded from their logged events, the
//! checks of operators' actions on them, and the alarms their signals raise.
//!
//! The care engine is time-driven. A replay reaches the live state because
//! every logged care record ticks the engine at the record's time before it
//! is folded, and the recorder logs each signal a plain tick produces. So
//! the replay ticks at every instant at which the live engine changed. The
//! engine itself moves its ladders at the instants they fall due, whatever
//! the tick rate. Residents come from the configuration, not from the log,
//! so that the log carries no personal data. A `watching` record names the
//! resident ids watched from its time on.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::alarm::{Action, ActionKind, AlarmBook, AlarmRules, Change, Condition, Raise, Refusal};
use super::care::{
    BoardRow, CareCondition, CareEngine, CareEvent, CareSettings, CareSignal, DayStatus,
    OutcomeRecord, Resident,
};
use super::event::EventBody;
use super::privacy::{Role, may_reveal};
use super::ticket::sla::{self, SlaStatus};
use super::ticket::{
    NewTicket, OverdueNotice, SlaSettings, Ticket, TicketAction, TicketBook, TicketEffect,
    TicketEvent,
};

/// Prefix of the alarm source of a resident: `care:<resident>`.
pub const CARE_SOURCE: &str = "care:";

/// Prefix of the alarm source of a ticket's SLA notice: `ticket:<id>`.
pub const TICKET_SOURCE: &str = "ticket:";

/// The configuration of the services: the residents registry, the
/// eldercare rules, the site's time zone and the ticket service levels.
#[derive(Clone, Debug)]
pub struct ServiceSetup {
    pub residents: Vec<Resident>,
    pub care: CareSettings,
    pub time_zone: TimeZone,
    pub sla: SlaSettings,
}

impl Default for ServiceSetup {
    fn default() -> Self {
        Self {
            residents: Vec::new(),
            care: CareSettings::default(),
            time_zone: TimeZone::UTC,
            sla: SlaSettings::default(),
        }
    }
}

/// An eldercare record of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "care", rename_all = "snake_case")]
pub enum CareRecord {
    /// A check-in, activity, SOS or fall from `care/<person>/evt`.
    Event { event: CareEvent },
    /// A guard's outcome at a stage of the missed check-in ladder.
    Outcome { record: OutcomeRecord },
    /// A plain tick raised or cleared a condition.
    Signal { signal: CareSignal },
    /// The residents watched from now on.
    Watching { residents: Vec<String> },
}

impl CareRecord {
    pub fn kind(&self) -> &'static str {
        use super::care::CareEventKind as K;
        match self {
            Self::Event { event } => match event.kind {
                K::CheckIn { .. } => "care_check_in",
                K::Activity { .. } => "care_activity",
                K::Sos => "care_sos",
                K::Fall => "care_fall",
            },
            Self::Outcome { .. } => "care_outcome",
            Self::Signal { .. } => "care_signal",
            Self::Watching { .. } => "care_watching",
        }
    }
}

/// The follow-ups that folding the last service event requires of the
/// recorder. Every fold replaces them, so a console that never takes them
/// holds only one event's worth.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FollowUps {
    pub tickets: Vec<TicketEffect>,
    pub signals: Vec<CareSignal>,
}

/// The ticket book and the care engine.
#[derive(Clone, Debug)]
pub struct Services {
    pub tickets: TicketBook,
    pub care: CareEngine,
    pub setup: ServiceSetup,
    /// Resident ids of the last `watching` record.
    pub watched: Vec<String>,
    /// The newest stored event folded in, so that a delta repeating an
    /// event already loaded from the store is not folded twice.
    pub applied_seq: i64,
    follow_ups: FollowUps,
}

impl Default for Services {
    fn default() -> Self {
        Self::new(ServiceSetup::default())
    }
}

/// Two services are equal when their tickets and every resident's care
/// history and ladder are. The engine's record of how far it has ticked is
/// left out, because it differs between a live run and its replay.
impl PartialEq for Services {
    fn eq(&self, other: &Self) -> bool {
        self.tickets == other.tickets
            && self.watched == other.watched
            && self.watched.iter().all(|id| {
                self.care.history(id) == other.care.history(id)
                    && self.care.ladder(id) == other.care.ladder(id)
            })
    }
}

impl Services {
    /// Creates empty services for `setup`: no tickets, and no resident
    /// watched until a `watching` record is folded.
    pub fn new(setup: ServiceSetup) -> Self {
        let care = CareEngine::new(
            Vec::new(),
            setup.care.clone(),
            setup.time_zone.clone(),
            Timestamp::UNIX_EPOCH,
        );
        Self {
            tickets: TicketBook::default(),
            care,
            setup,
            watched: Vec::new(),
            applied_seq: 0,
            follow_ups: FollowUps::default(),
        }
    }

    /// Returns the `watching` record to log when the configured registry
    /// differs from the residents watched now.
    pub fn registry_change(&self) -> Option<CareRecord> {
        let mut configured: Vec<String> = self
            .setup
            .residents
            .iter()
            .map(|resident| resident.id.clone())
            .collect();
        configured.sort();
        (configured != self.watched).then_some(CareRecord::Watching {
            residents: configured,
        })
    }

    /// Takes the follow-ups of the last fold.
    pub fn take_follow_ups(&mut self) -> FollowUps {
        std::mem::take(&mut self.follow_ups)
    }

    /// Puts follow-ups back after the projection has carried out its part.
    pub(crate) fn restore_follow_ups(&mut self, follow_ups: FollowUps) {
        self.follow_ups = follow_ups;
    }

    /// Folds one event in; events that are not about tickets or care change nothing.
    pub fn apply(&mut self, body: &EventBody, at: Timestamp) {
        let follow_ups = match body {
            EventBody::Ticket { event, .. } => FollowUps {
                tickets: self.tickets.apply(event, at),
                signals: Vec::new(),
            },
            EventBody::Care { record, .. } => FollowUps {
                tickets: Vec::new(),
                signals: self.fold_care(record, at),
            },
            _ => return,
        };
        self.follow_ups = follow_ups;
    }

    fn fold_care(&mut self, record: &CareRecord, at: Timestamp) -> Vec<CareSignal> {
        let mut signals = self.care.tick(at);
        match record {
            CareRecord::Event { event } => signals.extend(self.care.record(event)),
            CareRecord::Outcome { record } => {
                signals.extend(self.care.record_outcome(record).unwrap_or_default());
            }
            CareRecord::Signal { .. } => {}
            CareRecord::Watching { residents } => {
                let watched: Vec<Resident> = self
                    .setup
                    .residents
                    .iter()
                    .filter(|resident| residents.contains(&resident.id))
                    .cloned()
                    .collect();
                self.care.update_residents(watched, at);
                self.watched = residents.clone();
            }
        }
        signals
    }

    /// Checks an operator's action on tickets, care or personal data
    /// against the current state. Other actions pass.
    pub fn check(&self, action: &Action, now: Timestamp) -> Result<(), Refusal> {
        match &action.kind {
            ActionKind::TicketAct { .. } => {
                let ticket_action = ticket_action(action).ok_or_else(|| bad_role(action))?;
                self.tickets.check(&ticket_action)?;
            }
            ActionKind::CreateTicket { .. } => {
                let new = self.new_ticket(action).ok_or_else(|| bad_role(action))?;
                self.tickets.check_new(&new)?;
            }
            ActionKind::CareOutcome { .. } => {
                let record = outcome_record(action, now).ok_or_else(|| bad_role(action))?;
                self.care.check_outcome(&record)?;
            }
            ActionKind::Reveal { kind, subject } => {
                let role = role_of(action).ok_or_else(|| bad_role(action))?;
                if !may_reveal(role, *kind) {
                    return Err(Refusal::Reveal(super::privacy::RevealRefused {
                        role,
                        kind: *kind,
                        subject: subject.clone(),
                    }));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Returns the new ticket an action creates, with its id filled in.
    pub fn new_ticket(&self, action: &Action) -> Option<NewTicket> {
        let ActionKind::CreateTicket { ticket } = &action.kind else {
            return None;
        };
        let mut new = ticket.clone();
        if new.id.trim().is_empty() {
            new.id = self.tickets.next_id();
        }
        new.operator = action.operator.clone();
        new.role = role_of(action)?;
        new.remark = action.remark.clone();
        Some(new)
    }

    /// Returns the body an operator's action is logged as: its ticket or
    /// care record, or `None` for the duty log's own actions.
    pub fn body_of(&self, action: &Action, at: Timestamp) -> Option<EventBody> {
        let record = match &action.kind {
            ActionKind::TicketAct { .. } => {
                return Some(EventBody::Ticket {
                    event: TicketEvent::Acted {
                        action: ticket_action(action)?,
                    },
                    action: Some(action.clone()),
                });
            }
            ActionKind::CreateTicket { .. } => {
                return Some(EventBody::Ticket {
                    event: TicketEvent::Created {
                        ticket: self.new_ticket(action)?,
                    },
                    action: Some(action.clone()),
                });
            }
            ActionKind::CareOutcome { .. } => CareRecord::Outcome {
                record: outcome_record(action, at)?,
            },
            _ => return None,
        };
        Some(EventBody::Care {
            record,
            action: Some(action.clone()),
        })
    }

    /// Returns the tickets still to be repaired (new, assigned, in
    /// progress) with their service level at `now`: overdue ones first,
    /// then by due time. The handover sheet's ticket section lists these.
    pub fn open_tickets(&self, now: Timestamp) -> Vec<(&Ticket, SlaStatus)> {
        let mut open: Vec<(&Ticket, SlaStatus)> = self
            .tickets
            .open()
            .map(|ticket| (ticket, sla::status(ticket, now, &self.setup.sla)))
            .collect();
        open.sort_by_key(|(ticket, status)| {
            let overdue = matches!(status, SlaStatus::Overdue { .. });
            (!overdue, self.setup.sla.due(ticket), ticket.id.clone())
        });
        open
    }

    /// Returns today's board rows at `now` of the residents whose check-in
    /// needs attention: the ladder running first, then missed windows,
    /// then windows still open without a check-in. The handover sheet's
    /// eldercare section lists these.
    pub fn check_ins_needing_attention(&self, now: Timestamp) -> Vec<BoardRow> {
        let mut rows: Vec<BoardRow> = self
            .care
            .board(now)
            .into_iter()
            .filter(|row| !matches!(row.day, DayStatus::CheckedIn { .. }))
            .collect();
        rows.sort_by_key(|row| match row.day {
            DayStatus::InEscalation { .. } => 0,
            DayStatus::Missed { .. } => 1,
            _ => 2,
        });
        rows
    }

    /// Returns the SLA notices due at `now`, as events to log.
    pub fn overdue(&self, now: Timestamp) -> Vec<EventBody> {
        sla::overdue_notices(&self.tickets, now, &self.setup.sla)
            .into_iter()
            .map(|notice| EventBody::Ticket {
                event: TicketEvent::OverdueNoticed { notice },
                action: None,
            })
            .collect()
    }
}

fn role_of(action: &Action) -> Option<Role> {
    Role::parse(&action.role)
}

fn bad_role(action: &Action) -> Refusal {
    Refusal::ByRecorder(format!(
        "role {:?} is not guard, maintenance or supervisor",
        action.role
    ))
}

/// Returns the ticket action an operator's action carries.
pub fn ticket_action(action: &Action) -> Option<TicketAction> {
    let ActionKind::TicketAct { ticket, act } = &action.kind else {
        return None;
    };
    Some(TicketAction {
        id: action.id,
        ticket: ticket.clone(),
        kind: act.clone(),
        operator: action.operator.clone(),
        role: role_of(action)?,
        remark: action.remark.clone(),
    })
}

/// Returns the ladder outcome an operator's action records at `at`.
pub fn outcome_record(action: &Action, at: Timestamp) -> Option<OutcomeRecord> {
    let ActionKind::CareOutcome { resident, outcome } = &action.kind else {
        return None;
    };
    Some(OutcomeRecord {
        resident: resident.clone(),
        outcome: *outcome,
        operator: action.operator.clone(),
        role: role_of(action)?,
        remark: action.remark.clone(),
        at,
    })
}

/// Returns the alarm condition a care condition raises: SOS is a panic.
pub fn care_condition(condition: CareCondition) -> Condition {
    match condition {
        CareCondition::Sos => Condition::Panic,
        CareCondition::Fall => Condition::Fall,
        CareCondition::MissedCheckIn => Condition::MissedCheckIn,
        CareCondition::Inactive => Condition::Inactive,
    }
}

/// Returns the alarm events that a care signal causes. The alarm names the
/// resident's id and building. The name and room stay out of it, because
/// every role sees alarms and personal data is masked.
pub fn care_alarm(
    book: &AlarmBook,
    setup: &ServiceSetup,
    signal: &CareSignal,
    rules: &AlarmRules,
) -> Vec<EventBody> {
    match signal {
        CareSignal::Raise {
            resident,
            condition,
            priority,
            stage,
        } => {
            let source = format!("{CARE_SOURCE}{resident}");
            let alarm_condition = care_condition(*condition);
            // A stage sets its own priority; the configuration may only
            // change the priority of the other conditions.
            let priority = match stage {
                Some(_) => *priority,
                None => rules
                    .priorities
                    .get(&alarm_condition)
                    .copied()
                    .unwrap_or(*priority),
            };
            match book.open_for(&source, alarm_condition) {
                Some(alarm) => match stage {
                    Some(stage) => vec![EventBody::AlarmChanged {
                        alarm: alarm.id,
                        change: Change::Staged {
                            stage: stage.number(),
                            priority,
                        },
                    }],
                    None if alarm.active && !alarm.momentary => Vec::new(),
                    None => vec![EventBody::AlarmChanged {
                        alarm: alarm.id,
                        change: Change::Repeated,
                    }],
                },
                None => {
                    let building = setup
                        .residents
                        .iter()
                        .find(|r| r.id == *resident)
                        .map(|r| r.building.clone())
                        .unwrap_or_default();
                    vec![EventBody::AlarmRaised {
                        raise: Raise {
                            alarm: book.next_id(),
                            source,
                            condition: alarm_condition,
                            priority,
                            device: None,
                            name: resident.clone(),
                            building,
                            zone: String::new(),
                            // The stage shows in the transitions, translated on screen.
                            text: None,
                            momentary: matches!(
                                condition,
                                CareCondition::Sos | CareCondition::Fall
                            ),
                            active: true,
                            suppressed: false,
                            out_of_service: false,
                        },
                    }]
                }
            }
        }
        CareSignal::Clear {
            resident,
            condition,
            ..
        } => {
            let source = format!("{CARE_SOURCE}{resident}");
            match book.open_for(&source, care_condition(*condition)) {
                Some(alarm) if alarm.active && !alarm.momentary => {
                    vec![EventBody::AlarmChanged {
                        alarm: alarm.id,
                        change: Change::Cleared,
                    }]
                }
                _ => Vec::new(),
            }
        }
    }
}

/// Returns the P4 notice an overdue urgent ticket raises.
pub fn overdue_alarm(
    book: &AlarmBook,
    notice: &OverdueNotice,
    rules: &AlarmRules,
) -> Vec<EventBody> {
    let source = format!("{TICKET_SOURCE}{}", notice.ticket);
    if book.open_for(&source, Condition::TicketOverdue).is_some() {
        return Vec::new();
    }
    let priority = rules
        .priorities
        .get(&Condition::TicketOverdue)
        .copied()
        .unwrap_or(notice.priority);
    vec![EventBody::AlarmRaised {
        raise: Raise {
            alarm: book.next_id(),
            source,
            condition: Condition::TicketOverdue,
            priority,
            device: None,
            name: notice.ticket.clone(),
            building: notice.location.clone(),
            zone: String::new(),
            text: Some(format!(
                "{} {} due {}",
                notice.category.as_str(),
                notice.urgency.as_str(),
                notice.due
            )),
            momentary: true,
            active: true,
            suppressed: false,
            out_of_service: false,
        },
    }]
}

/// Returns the change that clears a ticket's overdue notice once the ticket
/// is resolved, closed or cancelled. The notice's condition is an open
/// ticket past its due time, so without this the alarm would stay active
/// after the repair. A reopen does not activate it again, because the
/// notice is raised once per ticket.
pub fn overdue_ended(book: &AlarmBook, tickets: &TicketBook, ticket: &str) -> Vec<EventBody> {
    if tickets.get(ticket).is_none_or(|t| t.state().is_open()) {
        return Vec::new();
    }
    let source = format!("{TICKET_SOURCE}{ticket}");
    match book.open_for(&source, Condition::TicketOverdue) {
        Some(alarm) if alarm.active => vec![EventBody::AlarmChanged {
            alarm: alarm.id,
            change: Change::Cleared,
        }],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Projection;
    use crate::domain::alarm::Shown;
    use crate::domain::device::{DeviceKind, DeviceSpec};
    use crate::domain::event::Event;
    use crate::domain::ticket::{Category, TicketActionKind, Urgency};
    use uuid::Uuid;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn action(kind: ActionKind, remark: &str) -> Action {
        Action {
            id: Uuid::new_v4(),
            alarm: None,
            kind,
            operator: "测试员丁".into(),
            role: "maintenance".into(),
            console: "duty-1".into(),
            via_ssh: false,
            remark: remark.into(),
        }
    }

    /// Checks the action, then logs it as the recorder does.
    fn act(projection: &mut Projection, action: Action, now: Timestamp) {
        projection
            .check_action(&action, now)
            .expect("the action passes");
        let body = projection
            .services
            .body_of(&action, now)
            .expect("a ticket action");
        projection.apply(&Event::new(now, body));
    }

    fn with_door() -> Projection {
        let mut projection = Projection::default();
        let spec = DeviceSpec {
            id: "door-9".into(),
            kind: DeviceKind::Door,
            class: None,
            name: "9号楼单元门".into(),
            building: "9号楼".into(),
            zone: String::new(),
            gateway: None,
            interval_s: 60,
        };
        for body in projection.reconcile_inventory(&[spec]) {
            projection.apply(&Event::new(at(0), body));
        }
        projection
    }

    fn raise_forced(projection: &mut Projection, now: Timestamp) -> u64 {
        let alarm = projection.alarms.next_id();
        let raise = Raise {
            alarm,
            source: "door-9".into(),
            condition: Condition::DoorForced,
            priority: crate::domain::alarm::Priority::P2,
            device: Some("door-9".into()),
            name: "9号楼单元门".into(),
            building: "9号楼".into(),
            zone: String::new(),
            text: None,
            momentary: false,
            active: true,
            suppressed: false,
            out_of_service: projection.alarms.is_out_of_service("door-9"),
        };
        projection.apply(&Event::new(now, EventBody::AlarmRaised { raise }));
        alarm
    }

    #[test]
    fn ticket_keeps_device_out_of_service() {
        let mut projection = with_door();
        let new = NewTicket {
            id: String::new(),
            category: Category::DoorsAccess,
            urgency: Urgency::Normal,
            location: "9号楼".into(),
            description: "门锁损坏".into(),
            reporter: None,
            alarm: None,
            device: Some("door-9".into()),
            refers_to: None,
            out_of_service: true,
            operator: String::new(),
            role: Role::Maintenance,
            remark: String::new(),
        };
        let create = action(ActionKind::CreateTicket { ticket: new }, "锁芯待更换");
        act(&mut projection, create, at(1));
        assert!(projection.alarms.is_out_of_service("door-9"));

        let alarm = raise_forced(&mut projection, at(2));
        assert_eq!(
            projection.alarms.get(alarm).unwrap().shown(),
            Shown::OutOfService,
            "the device's alarm stays out of the queue"
        );

        for (kind, remark) in [
            (
                TicketActionKind::Assign {
                    assignee: "测试员丁".into(),
                },
                "",
            ),
            (TicketActionKind::Accept, ""),
            (TicketActionKind::Resolve, "更换锁芯"),
        ] {
            let ticket = action(
                ActionKind::TicketAct {
                    ticket: "T-1".into(),
                    act: kind,
                },
                remark,
            );
            act(&mut projection, ticket, at(3));
        }
        assert!(
            !projection.alarms.is_out_of_service("door-9"),
            "resolving the repair returns the device"
        );
        assert!(!projection.alarms.get(alarm).unwrap().out_of_service);
    }

    #[test]
    fn overdue_notice_cleared_when_resolved() {
        let mut projection = Projection::default();
        let new = NewTicket {
            id: String::new(),
            category: Category::Elevator,
            urgency: Urgency::Urgent,
            location: "7号楼".into(),
            description: "电梯停运".into(),
            reporter: None,
            alarm: None,
            device: None,
            refers_to: None,
            out_of_service: false,
            operator: String::new(),
            role: Role::Maintenance,
            remark: String::new(),
        };
        act(
            &mut projection,
            action(ActionKind::CreateTicket { ticket: new }, ""),
            at(0),
        );
        let late = at(3 * 3600);
        for body in projection.services.overdue(late) {
            let EventBody::Ticket {
                event: TicketEvent::OverdueNoticed { notice },
                ..
            } = &body
            else {
                panic!("an overdue notice: {body:?}");
            };
            let raised = overdue_alarm(&projection.alarms, notice, &AlarmRules::default());
            projection.apply(&Event::new(late, body.clone()));
            for raise in raised {
                projection.apply(&Event::new(late, raise));
            }
        }
        let notice = *projection.alarms.open.keys().next().expect("the notice");
        assert!(
            overdue_ended(&projection.alarms, &projection.services.tickets, "T-1").is_empty(),
            "the ticket is still open"
        );

        for (kind, remark) in [
            (
                TicketActionKind::Assign {
                    assignee: "测试员丁".into(),
                },
                "",
            ),
            (TicketActionKind::Accept, ""),
            (TicketActionKind::Resolve, "更换控制板"),
        ] {
            let ticket = action(
                ActionKind::TicketAct {
                    ticket: "T-1".into(),
                    act: kind,
                },
                remark,
            );
            act(&mut projection, ticket, at(4 * 3600));
        }
        let ended = overdue_ended(&projection.alarms, &projection.services.tickets, "T-1");
        assert_eq!(
            ended,
            vec![EventBody::AlarmChanged {
                alarm: notice,
                change: Change::Cleared,
            }]
        );
        for body in ended {
            projection.apply(&Event::new(at(4 * 3600), body));
        }
        assert!(!projection.alarms.get(notice).unwrap().active);
        assert!(
            overdue_ended(&projection.alarms, &projection.services.tickets, "T-1").is_empty(),
            "a cleared notice is cleared once"
        );
    }

    #[test]
    fn ticket_action_checked_against_book() {
        let projection = with_door();
        let unknown = action(
            ActionKind::TicketAct {
                ticket: "T-9".into(),
                act: TicketActionKind::Accept,
            },
            "",
        );
        let refusal = projection.check_action(&unknown, at(1)).unwrap_err();
        assert_eq!(refusal.code(), "ticket");
    }

    #[test]
    fn reveal_checked_by_role() {
        let projection = Projection::default();
        let mut reveal = action(
            ActionKind::Reveal {
                kind: crate::domain::privacy::DataKind::ResidentPhone,
                subject: "r-0101".into(),
            },
            "",
        );
        assert_eq!(
            projection.check_action(&reveal, at(1)).unwrap_err().code(),
            "reveal",
            "maintenance staff have no part in eldercare"
        );
        reveal.role = "guard".into();
        assert!(projection.check_action(&reveal, at(1)).is_ok());
    }
}
