//! The alarm engine on a virtual clock: the transition table of legal and
//! illegal actions, shelving expiry, escalation, offline debounce and flaps,
//! gateway suppression, out of service, chattering and floods.
//!
//! Events go through `rules::record` and `rules::run_tick`, the same calls
//! the recorder's writer makes, so these results are what the log records.

use guardroom::domain::alarm::queue::{self, Filter, Row};
use guardroom::domain::alarm::{
    Action, ActionKind, AlarmRules, Condition, Disposition, Flood, Priority, Refusal, Shown, rules,
};
use guardroom::domain::device::{DetectorClass, DeviceKind, DeviceSpec, Reported, ReportedState};
use guardroom::domain::{Event, EventBody, Projection};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// A small site and a clock that moves only when a test advances it.
struct Site {
    projection: Projection,
    rules: AlarmRules,
    start: Timestamp,
    log: Vec<Event>,
}

fn spec(
    id: &str,
    kind: DeviceKind,
    class: Option<DetectorClass>,
    gateway: Option<&str>,
) -> DeviceSpec {
    DeviceSpec {
        id: id.into(),
        kind,
        class,
        name: format!("测试 {id}"),
        building: "1栋".into(),
        zone: "1栋 1单元".into(),
        gateway: gateway.map(str::to_owned),
        interval_s: 60,
    }
}

impl Site {
    fn new() -> Self {
        let mut site = Self {
            projection: Projection::default(),
            rules: AlarmRules::default(),
            start: "2026-12-04T02:00:00Z".parse().unwrap(),
            log: Vec::new(),
        };
        for spec in [
            spec("door-1", DeviceKind::Door, None, None),
            spec("door-2", DeviceKind::Door, None, Some("gw-1")),
            spec(
                "smoke-1",
                DeviceKind::Detector,
                Some(DetectorClass::Smoke),
                None,
            ),
            spec(
                "smoke-2",
                DeviceKind::Detector,
                Some(DetectorClass::Smoke),
                Some("gw-1"),
            ),
            spec(
                "pir-1",
                DeviceKind::Detector,
                Some(DetectorClass::Pir),
                None,
            ),
            spec("cam-1", DeviceKind::Camera, None, None),
        ] {
            site.feed(0, EventBody::DeviceRegistered { spec });
        }
        site
    }

    fn at(&self, secs: i64) -> Timestamp {
        self.start + SignedDuration::from_secs(secs)
    }

    fn feed(&mut self, secs: i64, body: EventBody) -> Vec<Event> {
        let event = Event::new(self.at(secs), body);
        let events = rules::record(&mut self.projection, event, &self.rules);
        self.log.extend(events.iter().cloned());
        events
    }

    fn state(&mut self, secs: i64, device: &str, state: ReportedState) -> Vec<Event> {
        let body = EventBody::StateReported {
            device: device.into(),
            reported: Reported::new(state),
            retained: false,
            seen_at: Some(self.at(secs)),
        };
        self.feed(secs, body)
    }

    fn avail(&mut self, secs: i64, device: &str, online: bool) -> Vec<Event> {
        let body = EventBody::AvailabilityChanged {
            device: device.into(),
            online,
            retained: false,
        };
        self.feed(secs, body)
    }

    fn device_event(&mut self, secs: i64, device: &str, event: &str) -> Vec<Event> {
        let body = EventBody::DeviceEventRaised {
            device: device.into(),
            event_id: Uuid::new_v4().to_string(),
            event: event.into(),
            text: None,
            source_ts: None,
        };
        self.feed(secs, body)
    }

    fn tick(&mut self, secs: i64) -> Vec<Event> {
        let now = self.at(secs);
        let events = rules::run_tick(&mut self.projection, now, &self.rules);
        self.log.extend(events.iter().cloned());
        events
    }

    /// Takes an action the way a console does: checked, then recorded.
    fn act(
        &mut self,
        secs: i64,
        alarm: u64,
        kind: ActionKind,
        remark: &str,
    ) -> Result<(), Refusal> {
        let action = Action {
            id: Uuid::new_v4(),
            alarm: Some(alarm),
            kind,
            operator: "值班员甲".into(),
            role: "guard".into(),
            console: "duty-1".into(),
            via_ssh: false,
            remark: remark.into(),
        };
        self.projection.alarms.check(&action, self.at(secs))?;
        self.feed(secs, EventBody::AlarmActed { action });
        Ok(())
    }

    fn alarm_of(&self, source: &str, condition: Condition) -> u64 {
        self.projection
            .alarms
            .open_for(source, condition)
            .unwrap_or_else(|| panic!("no open {condition:?} alarm for {source}"))
            .id
    }

    fn shown(&self, id: u64) -> Shown {
        self.projection
            .alarms
            .get(id)
            .expect("alarm exists")
            .shown()
    }

    fn raised(&self, source: &str) -> usize {
        self.log
            .iter()
            .filter(
                |e| matches!(&e.body, EventBody::AlarmRaised { raise } if raise.source == source),
            )
            .count()
    }
}

fn close(disposition: Disposition) -> ActionKind {
    ActionKind::Close { disposition }
}

#[test]
fn door_forced_is_acknowledged_cleared_and_closed() {
    let mut site = Site::new();
    site.state(10, "door-1", ReportedState::Forced);
    let id = site.alarm_of("door-1", Condition::DoorForced);
    let alarm = site.projection.alarms.get(id).unwrap();
    assert_eq!(alarm.priority, Priority::P2);
    assert_eq!(alarm.shown(), Shown::Unacknowledged);

    site.act(20, id, ActionKind::Acknowledge, "").unwrap();
    assert_eq!(site.shown(id), Shown::Acknowledged);
    assert_eq!(
        site.act(21, id, ActionKind::Acknowledge, ""),
        Err(Refusal::AlreadyAcknowledged(id))
    );

    site.state(30, "door-1", ReportedState::Closed);
    assert!(!site.projection.alarms.get(id).unwrap().active);
    site.act(40, id, close(Disposition::Genuine), "").unwrap();
    assert_eq!(site.shown(id), Shown::Closed);
    assert_eq!(
        site.act(41, id, ActionKind::Acknowledge, ""),
        Err(Refusal::Closed(id))
    );
    assert!(
        site.act(42, id, ActionKind::Remark, "checked the lock")
            .is_ok()
    );
    let alarm = site.projection.alarms.get(id).unwrap();
    assert_eq!(alarm.history.back().unwrap().remark, "checked the lock");
}

#[test]
fn cleared_before_acknowledged_waits_for_acknowledgement() {
    let mut site = Site::new();
    site.state(10, "door-1", ReportedState::Forced);
    let id = site.alarm_of("door-1", Condition::DoorForced);
    site.state(15, "door-1", ReportedState::Closed);
    assert_eq!(site.shown(id), Shown::ClearedUnacknowledged);
    site.act(20, id, ActionKind::Acknowledge, "").unwrap();
    assert_eq!(site.shown(id), Shown::Acknowledged);
}

#[test]
fn latched_fire_needs_clear_then_reset_before_close() {
    let mut site = Site::new();
    site.state(10, "smoke-1", ReportedState::Alarm);
    let id = site.alarm_of("smoke-1", Condition::Fire);
    let alarm = site.projection.alarms.get(id).unwrap();
    assert_eq!(alarm.priority, Priority::P1);
    assert!(alarm.latched);

    let shelve = ActionKind::Shelve {
        until: Some(site.at(600)),
    };
    assert_eq!(site.act(11, id, shelve, "test"), Err(Refusal::ShelveP1));
    assert_eq!(
        site.act(12, id, close(Disposition::Genuine), "x"),
        Err(Refusal::LatchedActive(id))
    );
    assert_eq!(
        site.act(13, id, ActionKind::Reset, ""),
        Err(Refusal::StillActive(id))
    );

    site.state(20, "smoke-1", ReportedState::Normal);
    assert_eq!(site.shown(id), Shown::ClearedUnacknowledged);
    assert_eq!(
        site.act(21, id, ActionKind::Reset, ""),
        Err(Refusal::NotAcknowledged(id)),
        "a reset needs an acknowledgement first"
    );
    site.act(30, id, ActionKind::Acknowledge, "").unwrap();
    assert_eq!(site.shown(id), Shown::NeedsReset);
    assert_eq!(
        site.act(31, id, close(Disposition::Genuine), ""),
        Err(Refusal::NeedsReset(id))
    );
    site.act(40, id, ActionKind::Reset, "").unwrap();
    assert_eq!(site.shown(id), Shown::Acknowledged);
    assert_eq!(
        site.act(41, id, ActionKind::Reset, ""),
        Err(Refusal::NotLatched(id))
    );
    site.act(50, id, close(Disposition::Genuine), "").unwrap();
    assert_eq!(site.shown(id), Shown::Closed);
}

#[test]
fn smoke_event_is_momentary_and_latched() {
    let mut site = Site::new();
    site.device_event(10, "smoke-1", "smoke");
    let id = site.alarm_of("smoke-1", Condition::Fire);
    assert_eq!(site.shown(id), Shown::Unacknowledged);
    site.device_event(12, "smoke-1", "smoke");
    assert_eq!(
        site.projection.alarms.get(id).unwrap().occurrences,
        2,
        "a repeat counts up"
    );
    assert_eq!(
        site.raised("smoke-1"),
        1,
        "one alarm per source and condition"
    );

    site.act(20, id, ActionKind::Acknowledge, "").unwrap();
    assert_eq!(site.shown(id), Shown::NeedsReset);
    site.act(21, id, ActionKind::Reset, "").unwrap();
    site.act(22, id, close(Disposition::Test), "").unwrap();
    assert_eq!(site.shown(id), Shown::Closed);

    site.device_event(30, "smoke-1", "smoke");
    assert_ne!(
        site.alarm_of("smoke-1", Condition::Fire),
        id,
        "after closing, a new alarm"
    );
}

#[test]
fn close_needs_remark_when_false_or_forced() {
    let mut site = Site::new();
    site.state(10, "door-1", ReportedState::HeldOpen);
    let id = site.alarm_of("door-1", Condition::DoorHeldOpen);
    assert_eq!(
        site.act(11, id, close(Disposition::Genuine), ""),
        Err(Refusal::RemarkRequired("force_close"))
    );
    assert_eq!(
        site.act(12, id, close(Disposition::FalseAlarm), " "),
        Err(Refusal::RemarkRequired("false_alarm"))
    );
    site.act(13, id, close(Disposition::FalseAlarm), "门禁调试")
        .unwrap();
    let closure = site
        .projection
        .alarms
        .get(id)
        .unwrap()
        .closed
        .clone()
        .unwrap();
    assert_eq!(closure.disposition, Disposition::FalseAlarm);
    assert_eq!(closure.by, "值班员甲");
}

#[test]
fn timed_shelving_expires_by_itself() {
    let mut site = Site::new();
    site.state(0, "door-1", ReportedState::Forced);
    let id = site.alarm_of("door-1", Condition::DoorForced);
    let until = Some(site.at(15 * 60));
    assert_eq!(
        site.act(1, id, ActionKind::Shelve { until }, ""),
        Err(Refusal::RemarkRequired("shelve"))
    );
    let too_long = Some(site.at(25 * 3600));
    assert!(matches!(
        site.act(1, id, ActionKind::Shelve { until: too_long }, "维修"),
        Err(Refusal::ShelveTime { .. })
    ));
    site.act(1, id, ActionKind::Shelve { until }, "维修中")
        .unwrap();
    assert_eq!(site.shown(id), Shown::Shelved);
    assert_eq!(
        site.act(2, id, ActionKind::Shelve { until }, "again"),
        Err(Refusal::AlreadyShelved(id))
    );

    site.tick(15 * 60 - 1);
    assert_eq!(site.shown(id), Shown::Shelved, "not before its time");
    let events = site.tick(15 * 60);
    assert!(events.iter().any(|e| e.body.alarm() == Some(id)));
    assert_eq!(site.shown(id), Shown::Unacknowledged, "back in the queue");
    assert_eq!(
        site.act(15 * 60 + 1, id, ActionKind::Unshelve, ""),
        Err(Refusal::NotShelved(id))
    );
}

#[test]
fn one_shot_shelving_ends_when_the_condition_clears() {
    let mut site = Site::new();
    site.state(0, "door-1", ReportedState::Forced);
    let id = site.alarm_of("door-1", Condition::DoorForced);
    site.act(1, id, ActionKind::Shelve { until: None }, "施工")
        .unwrap();
    site.tick(24 * 3600);
    assert_eq!(
        site.shown(id),
        Shown::Shelved,
        "a one-shot shelving has no time limit"
    );
    site.state(24 * 3600 + 1, "door-1", ReportedState::Closed);
    assert_eq!(site.shown(id), Shown::ClearedUnacknowledged);
}

#[test]
fn escalation_fires_once_per_priority_limit() {
    let mut site = Site::new();
    site.state(0, "door-1", ReportedState::Forced);
    let id = site.alarm_of("door-1", Condition::DoorForced);
    let escalations = |site: &Site| site.projection.alarms.get(id).unwrap().escalations;

    site.tick(119);
    assert_eq!(escalations(&site), 0, "P2 waits two minutes");
    site.tick(120);
    assert_eq!(escalations(&site), 1);
    site.tick(600);
    assert_eq!(escalations(&site), 1, "once per unacknowledged spell");

    site.state(601, "cam-1", ReportedState::Ok);
    let mut low = Reported::new(ReportedState::Ok);
    low.battery_low = true;
    site.feed(
        602,
        EventBody::StateReported {
            device: "cam-1".into(),
            reported: low,
            retained: false,
            seen_at: None,
        },
    );
    let battery = site.alarm_of("cam-1", Condition::LowBattery);
    site.tick(10 * 3600);
    assert_eq!(
        site.projection.alarms.get(battery).unwrap().escalations,
        0,
        "P4 never escalates"
    );

    site.state(0, "smoke-1", ReportedState::Alarm);
    let fire = site.alarm_of("smoke-1", Condition::Fire);
    site.act(10 * 3600, fire, ActionKind::Acknowledge, "")
        .unwrap();
    site.tick(20 * 3600);
    assert_eq!(
        site.projection.alarms.get(fire).unwrap().escalations,
        0,
        "acknowledged in time"
    );
}

#[test]
fn offline_debounce_raises_exactly_one_alarm() {
    let mut site = Site::new();
    site.avail(0, "door-1", false);
    for secs in (0..120).step_by(10) {
        site.tick(secs);
    }
    assert_eq!(site.raised("door-1"), 0, "not before the debounce");
    for secs in (120..=1_800).step_by(1) {
        site.tick(secs);
    }
    assert_eq!(site.raised("door-1"), 1);
    let id = site.alarm_of("door-1", Condition::DeviceOffline);
    assert_eq!(
        site.projection.alarms.get(id).unwrap().priority,
        Priority::P3
    );

    site.avail(1_801, "door-1", true);
    assert!(!site.projection.alarms.get(id).unwrap().active);
}

#[test]
fn flapping_availability_is_one_aggregated_entry() {
    let mut site = Site::new();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut secs = 0;
    let mut online = true;
    let mut drops = 0;
    // The door drops and returns every 40–120 s; the PIR stays offline.
    site.avail(0, "pir-1", false);
    while secs < 30 * 60 {
        let next = secs + rng.i64(40..=120);
        while secs < next {
            secs += 1;
            site.tick(secs);
        }
        online = !online;
        drops += usize::from(!online);
        site.avail(secs, "door-1", online);
    }

    assert!(drops >= 7, "the door dropped {drops} times");
    assert_eq!(site.raised("door-1"), 1, "one entry for the flapping door");
    let id = site.alarm_of("door-1", Condition::DeviceOffline);
    let alarm = site.projection.alarms.get(id).unwrap();
    assert!(alarm.flaps >= 3, "flap count shown: {}", alarm.flaps);
    assert!(alarm.chattering || alarm.flaps > 0);

    assert_eq!(
        site.raised("pir-1"),
        1,
        "the silent PIR has exactly one alarm"
    );

    // What would notify: new P1/P2 alarms and escalations.
    let notifying = site
        .log
        .iter()
        .filter(|e| match &e.body {
            EventBody::AlarmRaised { raise } => raise.priority <= Priority::P2,
            EventBody::AlarmChanged { change, .. } => change.as_str() == "escalated",
            _ => false,
        })
        .count();
    assert!(notifying <= 2, "no storm: {notifying} notifying events");
}

#[test]
fn offline_gateway_suppresses_its_children_but_not_p1() {
    let mut site = Site::new();
    site.state(0, "door-2", ReportedState::Forced);
    site.state(0, "smoke-2", ReportedState::Alarm);
    let door = site.alarm_of("door-2", Condition::DoorForced);
    let fire = site.alarm_of("smoke-2", Condition::Fire);

    site.feed(
        10,
        EventBody::GatewayAvailabilityChanged {
            gateway: "gw-1".into(),
            online: false,
            retained: false,
        },
    );
    assert_eq!(site.shown(door), Shown::Suppressed);
    assert_eq!(
        site.shown(fire),
        Shown::Unacknowledged,
        "P1 is never suppressed"
    );
    assert_eq!(queue::counters(&site.projection.alarms).suppressed, 1);

    site.avail(20, "door-2", false);
    for secs in 20..400 {
        site.tick(secs);
    }
    assert_eq!(
        site.raised("door-2"),
        1,
        "no offline alarm for a child of an offline gateway"
    );
    assert_eq!(site.raised("gw:gw-1"), 1, "one for the gateway");

    site.feed(
        500,
        EventBody::GatewayAvailabilityChanged {
            gateway: "gw-1".into(),
            online: true,
            retained: false,
        },
    );
    assert_eq!(site.shown(door), Shown::Unacknowledged);
}

#[test]
fn out_of_service_devices_are_recorded_not_queued() {
    let mut site = Site::new();
    site.state(0, "door-1", ReportedState::Forced);
    let id = site.alarm_of("door-1", Condition::DoorForced);
    let action = |on| ActionKind::OutOfService {
        device: "door-1".into(),
        on,
    };
    assert_eq!(
        site.act(1, id, action(true), ""),
        Err(Refusal::RemarkRequired("out_of_service"))
    );
    site.act(1, id, action(true), "门锁更换").unwrap();
    assert_eq!(site.shown(id), Shown::OutOfService);

    site.state(5, "door-1", ReportedState::HeldOpen);
    let held = site.alarm_of("door-1", Condition::DoorHeldOpen);
    assert_eq!(
        site.shown(held),
        Shown::OutOfService,
        "new alarms are recorded, not queued"
    );
    let rows = queue::rows(&site.projection.alarms, &Filter::default(), false);
    assert!(rows.is_empty(), "nothing of it in the queue");

    assert_eq!(
        site.act(6, id, action(true), "again"),
        Err(Refusal::ServiceUnchanged("door-1".into()))
    );

    site.act(7, id, action(false), "").unwrap();
    assert_eq!(
        site.shown(id),
        Shown::ClearedUnacknowledged,
        "back in the queue; the door is no longer forced"
    );
    assert_eq!(site.shown(held), Shown::Unacknowledged);
}

#[test]
fn chattering_after_three_toggles_a_minute() {
    let mut site = Site::new();
    for (secs, state) in [
        (0, ReportedState::Forced),
        (10, ReportedState::Closed),
        (20, ReportedState::Forced),
        (30, ReportedState::Closed),
    ] {
        site.state(secs, "door-1", state);
    }
    let id = site.alarm_of("door-1", Condition::DoorForced);
    assert!(!site.projection.alarms.get(id).unwrap().chattering);
    site.state(40, "door-1", ReportedState::Forced);
    let alarm = site.projection.alarms.get(id).unwrap();
    assert!(alarm.chattering);
    assert_eq!(alarm.occurrences, 3);
}

#[test]
fn held_open_door_alarms_after_its_limit() {
    let mut site = Site::new();
    site.state(0, "door-1", ReportedState::Open);
    site.tick(119);
    assert!(
        site.projection
            .alarms
            .open_for("door-1", Condition::DoorHeldOpen)
            .is_none()
    );
    site.tick(120);
    let id = site.alarm_of("door-1", Condition::DoorHeldOpen);
    site.state(130, "door-1", ReportedState::Closed);
    assert!(!site.projection.alarms.get(id).unwrap().active);
}

#[test]
fn flood_banner_groups_and_keeps_p1_on_top() {
    let mut site = Site::new();
    let mut specs = Vec::new();
    for n in 0..200 {
        let mut spec = spec(&format!("door-f{n}"), DeviceKind::Door, None, None);
        spec.zone = format!("1栋 {}单元", n % 4 + 1);
        specs.push(spec);
    }
    for spec in specs {
        site.feed(0, EventBody::DeviceRegistered { spec });
    }
    for n in 0..200 {
        site.device_event(n * 60 / 200, &format!("door-f{n}"), "door_forced");
        if n == 150 {
            site.state(45, "smoke-1", ReportedState::Alarm);
        }
    }
    let started = site.tick(60);
    assert!(
        started.iter().any(|e| matches!(&e.body, EventBody::AlarmFlood { flood: Flood::Started { rate } } if *rate > 10)),
        "a flood starts"
    );
    assert!(site.projection.alarms.in_flood());

    let rows = queue::rows(&site.projection.alarms, &Filter::default(), true);
    assert_eq!(rows[0].lead().condition, Condition::Fire, "P1 on top");
    assert!(matches!(rows[0], Row::Alarm(_)), "P1 is never grouped");
    assert_eq!(rows.len(), 5, "one row for the fire, one group per zone");
    let grouped: usize = rows.iter().map(|row| row.members().len()).sum();
    assert_eq!(grouped, 201, "every alarm is in a row");

    site.tick(60 + 600);
    let ended = site.log.iter().rev().find_map(|e| match &e.body {
        EventBody::AlarmFlood {
            flood:
                Flood::Ended {
                    raised,
                    by_condition,
                    ..
                },
        } => Some((*raised, by_condition.clone())),
        _ => None,
    });
    let (raised, by_condition) = ended.expect("the flood ends with a summary");
    assert_eq!(raised, 201, "every alarm of the flood is counted");
    assert_eq!(
        by_condition.first().map(|(c, _)| *c),
        Some(Condition::DoorForced)
    );
    assert!(!site.projection.alarms.in_flood());
}

#[test]
fn replaying_the_log_gives_the_same_book() {
    let mut site = Site::new();
    site.state(0, "door-1", ReportedState::Forced);
    site.device_event(5, "smoke-1", "smoke");
    site.avail(6, "pir-1", false);
    for secs in 7..400 {
        site.tick(secs);
    }
    let door = site.alarm_of("door-1", Condition::DoorForced);
    site.act(400, door, ActionKind::Acknowledge, "").unwrap();
    site.act(401, door, ActionKind::Remark, "已到场").unwrap();

    let mut replayed = Projection::default();
    for event in &site.log {
        replayed.apply(event);
    }
    assert_eq!(replayed.alarms, site.projection.alarms);
    assert!(site.projection.alarms.open.len() >= 3);
}

#[test]
fn queue_filter_matches_text_priority_and_state() {
    let mut site = Site::new();
    site.state(0, "door-1", ReportedState::Forced);
    site.state(0, "smoke-1", ReportedState::Alarm);
    let fire = site.alarm_of("smoke-1", Condition::Fire);
    site.act(1, fire, ActionKind::Acknowledge, "").unwrap();
    let book = &site.projection.alarms;
    let listed = |filter: Filter| -> Vec<String> {
        queue::rows(book, &filter, false)
            .iter()
            .map(|row| row.lead().source.clone())
            .collect()
    };

    let text = |text: &str| Filter {
        text: text.into(),
        ..Filter::default()
    };
    assert_eq!(
        listed(text("DOOR-1")),
        ["door-1"],
        "text matches without case"
    );
    assert_eq!(listed(text("测试 smoke")), ["smoke-1"], "CJK names match");
    assert_eq!(listed(text("fire")), ["smoke-1"], "the condition matches");
    assert_eq!(
        listed(text(&format!("#{fire}"))),
        ["smoke-1"],
        "the alarm number matches"
    );
    assert!(listed(text("nowhere")).is_empty());

    let p1 = Filter {
        priority: Some(Priority::P1),
        ..Filter::default()
    };
    assert_eq!(listed(p1), ["smoke-1"]);
    let unacknowledged = Filter {
        shown: Some(Shown::Unacknowledged),
        ..Filter::default()
    };
    assert_eq!(listed(unacknowledged), ["door-1"]);
    assert_eq!(listed(Filter::default()), ["smoke-1", "door-1"], "P1 first");
}
