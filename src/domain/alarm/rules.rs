//! The alarm rules: which events and which passing of time raise, repeat,
//! clear, escalate or expire alarms.
//!
//! The rules only read the projection and return events; the recorder
//! appends them, and folding them changes the book. The clock is an
//! argument, so tests drive hours of virtual time in microseconds.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::book::FLOOD_WINDOW_S;
use super::change::{Change, Flood, Raise};
use super::condition::{Condition, Priority};
use crate::domain::device::{Availability, Device, DeviceKind, ReportedState};
use crate::domain::event::{Event, EventBody};
use crate::domain::projection::Projection;

/// Conditions a device's state report decides, as opposed to its events.
const STATE_CONDITIONS: [Condition; 11] = [
    Condition::DoorForced,
    Condition::DoorHeldOpen,
    Condition::VideoLoss,
    Condition::Tamper,
    Condition::DetectorFault,
    Condition::Fire,
    Condition::Gas,
    Condition::WaterLeak,
    Condition::Panic,
    Condition::Intrusion,
    Condition::LowBattery,
];

/// The tunable part of the alarm model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmRules {
    /// Priorities that differ from each condition's default.
    pub priorities: BTreeMap<Condition, Priority>,
    /// Seconds an alarm may stay unacknowledged before it escalates, by
    /// priority (P1 first); `None` never escalates.
    pub escalation_s: [Option<u32>; 4],
    /// A device offline this long raises an alarm.
    pub offline_debounce_s: u32,
    /// A device that drops off `flap_count` times within `flap_window_s`
    /// raises one alarm at once, however short each drop.
    pub flap_window_s: u32,
    pub flap_count: u32,
    /// A door open longer than this is held open.
    pub held_open_s: u32,
    /// More new alarms than this within the flood window is a flood.
    pub flood_threshold: u32,
    /// Priorities set for single devices, over their condition's.
    pub device_priorities: BTreeMap<String, Priority>,
}

impl Default for AlarmRules {
    fn default() -> Self {
        Self {
            priorities: BTreeMap::new(),
            escalation_s: [Some(60), Some(120), Some(300), None],
            offline_debounce_s: 120,
            flap_window_s: 1_800,
            flap_count: 3,
            held_open_s: 120,
            flood_threshold: 10,
            device_priorities: BTreeMap::new(),
        }
    }
}

impl AlarmRules {
    /// Returns the priority of `condition` on `device`: the device's own when set.
    pub fn priority_of(&self, condition: Condition, device: &str) -> Priority {
        self.device_priorities
            .get(device)
            .copied()
            .unwrap_or_else(|| self.priority(condition))
    }

    pub fn priority(&self, condition: Condition) -> Priority {
        self.priorities
            .get(&condition)
            .copied()
            .unwrap_or_else(|| condition.default_priority())
    }
}

/// An alarm record published by another system on `alarm/<id>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalAlarm {
    pub id: String,
    pub priority: Priority,
    pub active: bool,
    /// The record's description of the alarm.
    pub text: String,
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub building: String,
    #[serde(default)]
    pub zone: String,
}

/// Collects the events of one evaluation, numbering new alarms.
struct Out<'a> {
    projection: &'a Projection,
    rules: &'a AlarmRules,
    next_id: u64,
    events: Vec<EventBody>,
}

impl<'a> Out<'a> {
    fn new(projection: &'a Projection, rules: &'a AlarmRules) -> Self {
        Self {
            projection,
            rules,
            next_id: projection.alarms.next_id(),
            events: Vec::new(),
        }
    }

    fn raise(
        &mut self,
        device: &Device,
        condition: Condition,
        active: bool,
        momentary: bool,
        text: Option<String>,
    ) {
        let spec = &device.spec;
        let priority = self.rules.priority_of(condition, &spec.id);
        let raise = Raise {
            alarm: self.next_id,
            source: spec.id.clone(),
            condition,
            priority,
            device: Some(spec.id.clone()),
            name: spec.name.clone(),
            building: spec.building.clone(),
            zone: spec.zone.clone(),
            text,
            momentary,
            active,
            suppressed: priority != Priority::P1 && self.projection.gateway_offline(device),
            out_of_service: self.projection.alarms.is_out_of_service(&spec.id),
        };
        self.next_id += 1;
        self.events.push(EventBody::AlarmRaised { raise });
    }

    fn change(&mut self, alarm: u64, change: Change) {
        self.events.push(EventBody::AlarmChanged { alarm, change });
    }

    /// Makes the (device, condition) alarm active: raises it, or repeats it.
    fn activate(
        &mut self,
        device: &Device,
        condition: Condition,
        momentary: bool,
        text: Option<String>,
    ) {
        match self.projection.alarms.open_for(&device.spec.id, condition) {
            Some(alarm) if alarm.active && !momentary => {}
            Some(alarm) => self.change(alarm.id, Change::Repeated),
            None => self.raise(device, condition, true, momentary, text),
        }
    }

    fn clear(&mut self, source: &str, condition: Condition) {
        if let Some(alarm) = self.projection.alarms.open_for(source, condition)
            && alarm.active
            && !alarm.momentary
        {
            self.change(alarm.id, Change::Cleared);
        }
    }
}

/// Returns the alarm events that follow from one event just folded into
/// `projection`.
pub fn after(
    projection: &Projection,
    event: &EventBody,
    now: Timestamp,
    rules: &AlarmRules,
) -> Vec<EventBody> {
    let mut out = Out::new(projection, rules);
    match event {
        EventBody::StateReported { device, .. } => {
            if let Some(device) = projection.devices.get(device) {
                state_rules(&mut out, device, now);
            }
        }
        EventBody::DeviceEventRaised {
            device,
            event,
            text,
            ..
        } => {
            if let (Some(device), Some(condition)) =
                (projection.devices.get(device), Condition::of_event(event))
            {
                out.activate(device, condition, true, text.clone());
            }
        }
        EventBody::AvailabilityChanged { device, online, .. } => {
            if let Some(device) = projection.devices.get(device) {
                availability_rules(&mut out, device, *online, now);
            }
        }
        EventBody::GatewayAvailabilityChanged {
            gateway, online, ..
        } => {
            gateway_rules(&mut out, gateway, *online);
        }
        _ => {}
    }
    out.events
}

/// Returns the alarm events that follow from an external alarm record.
/// `None` means the record was emptied, which closes the alarm at its source.
// NOTE: a record emptied while no recorder was connected leaves no retained
// message behind, so its alarm stays open until an operator closes it.
pub fn external(
    projection: &Projection,
    id: &str,
    record: Option<&ExternalAlarm>,
    rules: &AlarmRules,
) -> Vec<EventBody> {
    let mut out = Out::new(projection, rules);
    let source = format!("ext:{id}");
    let open = projection.alarms.open_for(&source, Condition::External);
    match (record, open) {
        (None, Some(alarm)) => out.change(alarm.id, Change::ClosedAtSource),
        (None, None) => {}
        (Some(record), Some(alarm)) => {
            if record.active && !alarm.active {
                out.change(alarm.id, Change::Repeated);
            } else if !record.active && alarm.active {
                out.change(alarm.id, Change::Cleared);
            }
        }
        (Some(record), None) => {
            let located = record
                .device
                .as_ref()
                .and_then(|d| projection.devices.get(d));
            let raise = Raise {
                alarm: out.next_id,
                source,
                condition: Condition::External,
                priority: rules
                    .priorities
                    .get(&Condition::External)
                    .copied()
                    .unwrap_or(record.priority),
                device: record.device.clone(),
                name: located.map_or_else(|| record.id.clone(), |d| d.spec.name.clone()),
                building: if record.building.is_empty() {
                    located.map(|d| d.spec.building.clone()).unwrap_or_default()
                } else {
                    record.building.clone()
                },
                zone: if record.zone.is_empty() {
                    located.map(|d| d.spec.zone.clone()).unwrap_or_default()
                } else {
                    record.zone.clone()
                },
                text: Some(record.text.clone()),
                momentary: false,
                active: record.active,
                suppressed: false,
                out_of_service: record
                    .device
                    .as_deref()
                    .is_some_and(|d| projection.alarms.is_out_of_service(d)),
            };
            out.events.push(EventBody::AlarmRaised { raise });
        }
    }
    out.events
}

/// Returns the alarm events that the passing of time causes at `now`: offline
/// debounce, doors held open, escalation, shelving expiry, flood start and end.
pub fn tick(projection: &Projection, now: Timestamp, rules: &AlarmRules) -> Vec<EventBody> {
    let mut out = Out::new(projection, rules);

    for device in projection.devices.values() {
        offline_rule(&mut out, device, now);
        held_open_rule(&mut out, device, now);
    }
    for gateway in projection.gateways.values() {
        let source = gateway_source(&gateway.id);
        let due = gateway.availability == Availability::Offline
            && gateway
                .since
                .is_some_and(|since| elapsed(since, now) >= i64::from(rules.offline_debounce_s));
        if due
            && projection
                .alarms
                .open_for(&source, Condition::DeviceOffline)
                .is_none_or(|a| !a.active)
        {
            match projection
                .alarms
                .open_for(&source, Condition::DeviceOffline)
            {
                Some(alarm) => out.change(alarm.id, Change::Repeated),
                None => {
                    let raise = Raise {
                        alarm: out.next_id,
                        source: source.clone(),
                        condition: Condition::DeviceOffline,
                        priority: rules.priority(Condition::DeviceOffline),
                        device: None,
                        name: gateway.id.clone(),
                        building: String::new(),
                        zone: String::new(),
                        text: None,
                        momentary: false,
                        active: true,
                        suppressed: false,
                        out_of_service: false,
                    };
                    out.next_id += 1;
                    out.events.push(EventBody::AlarmRaised { raise });
                }
            }
        }
    }

    for alarm in projection.alarms.open.values() {
        if let Some(shelving) = &alarm.shelved
            && shelving.until.is_some_and(|until| until <= now)
        {
            out.change(alarm.id, Change::ShelveExpired);
            continue;
        }
        let limit = rules.escalation_s[alarm.priority.index()];
        if let Some(limit) = limit
            && alarm.sounding()
            && alarm.escalations == 0
            && elapsed(alarm.sounding_since, now) >= i64::from(limit)
        {
            out.change(alarm.id, Change::Escalated);
        }
    }

    let rate = projection.alarms.rate(now, FLOOD_WINDOW_S);
    match &projection.alarms.state.flood {
        None if rate > rules.flood_threshold => {
            out.events.push(EventBody::AlarmFlood {
                flood: Flood::Started { rate },
            });
        }
        Some(flood) if rate <= rules.flood_threshold => {
            let mut by_condition: Vec<(Condition, u32)> =
                flood.by_condition.iter().map(|(c, n)| (*c, *n)).collect();
            by_condition.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            out.events.push(EventBody::AlarmFlood {
                flood: Flood::Ended {
                    started: flood.started.unwrap_or(now),
                    raised: flood.raised,
                    peak_rate: flood.peak_rate,
                    by_condition,
                },
            });
        }
        _ => {}
    }
    out.events
}

/// Folds `event` into `projection`, then the alarm events the rules derive
/// from it, each folded in turn. Returns every event folded, in order: the
/// recorder appends exactly these to the log.
pub fn record(projection: &mut Projection, event: Event, rules: &AlarmRules) -> Vec<Event> {
    projection.apply(&event);
    let at = event.at;
    // Alarm events come from the rules, so they raise nothing further.
    let follows = if event.body.is_alarm() {
        Vec::new()
    } else {
        after(projection, &event.body, at, rules)
    };
    let mut events = vec![event];
    for body in follows {
        let follow = Event::new(at, body);
        projection.apply(&follow);
        events.push(follow);
    }
    events
}

/// Runs the time-driven rules at `now` and folds what they raise; returns
/// the events folded.
pub fn run_tick(projection: &mut Projection, now: Timestamp, rules: &AlarmRules) -> Vec<Event> {
    let bodies = tick(projection, now, rules);
    let mut events = Vec::with_capacity(bodies.len());
    for body in bodies {
        let event = Event::new(now, body);
        projection.apply(&event);
        events.push(event);
    }
    events
}

pub fn gateway_source(gateway: &str) -> String {
    format!("gw:{gateway}")
}

fn elapsed(since: Timestamp, now: Timestamp) -> i64 {
    now.duration_since(since).as_secs()
}

fn state_rules(out: &mut Out, device: &Device, now: Timestamp) {
    let Some(reported) = &device.reported else {
        return;
    };
    let mut wanted: Vec<Condition> = Vec::new();
    if let Some(condition) =
        Condition::of_state(device.spec.kind, device.spec.class, reported.state)
    {
        wanted.push(condition);
    }
    if reported.battery_low {
        wanted.push(Condition::LowBattery);
    }
    if held_open_due(device, now, out.rules) {
        wanted.push(Condition::DoorHeldOpen);
    }
    for condition in STATE_CONDITIONS {
        if wanted.contains(&condition) {
            out.activate(device, condition, false, None);
        } else {
            out.clear(&device.spec.id, condition);
        }
    }
}

fn held_open_due(device: &Device, now: Timestamp, rules: &AlarmRules) -> bool {
    device.spec.kind == DeviceKind::Door
        && device
            .reported
            .as_ref()
            .is_some_and(|r| r.state == ReportedState::Open)
        && device
            .last_change
            .is_some_and(|since| elapsed(since, now) >= i64::from(rules.held_open_s))
}

fn held_open_rule(out: &mut Out, device: &Device, now: Timestamp) {
    if held_open_due(device, now, out.rules)
        && out
            .projection
            .alarms
            .open_for(&device.spec.id, Condition::DoorHeldOpen)
            .is_none_or(|alarm| !alarm.active)
    {
        out.activate(device, Condition::DoorHeldOpen, false, None);
    }
}

fn availability_rules(out: &mut Out, device: &Device, online: bool, now: Timestamp) {
    let id = &device.spec.id;
    let open = out.projection.alarms.open_for(id, Condition::DeviceOffline);
    if online {
        out.clear(id, Condition::DeviceOffline);
        return;
    }
    let window = i64::from(out.rules.flap_window_s);
    let drops = device
        .offline_times
        .iter()
        .filter(|at| elapsed(**at, now) < window)
        .count();
    let drops = u32::try_from(drops).unwrap_or(u32::MAX);
    match open {
        Some(alarm) => {
            let id = alarm.id;
            out.change(id, Change::Flapped { count: drops });
            if !alarm.active {
                out.change(id, Change::Repeated);
            }
        }
        None if drops >= out.rules.flap_count && !out.projection.gateway_offline(device) => {
            let alarm = out.next_id;
            out.raise(device, Condition::DeviceOffline, true, false, None);
            out.change(alarm, Change::Flapped { count: drops });
        }
        None => {}
    }
}

fn offline_rule(out: &mut Out, device: &Device, now: Timestamp) {
    // A device behind an offline gateway is covered by the gateway's alarm.
    if device.availability != Availability::Offline || out.projection.gateway_offline(device) {
        return;
    }
    let Some(since) = device.availability_since else {
        return;
    };
    if elapsed(since, now) < i64::from(out.rules.offline_debounce_s) {
        return;
    }
    match out
        .projection
        .alarms
        .open_for(&device.spec.id, Condition::DeviceOffline)
    {
        Some(alarm) if alarm.active => {}
        Some(alarm) => out.change(alarm.id, Change::Repeated),
        None => out.raise(device, Condition::DeviceOffline, true, false, None),
    }
}

fn gateway_rules(out: &mut Out, gateway: &str, online: bool) {
    let projection = out.projection;
    for alarm in projection.alarms.open.values() {
        let child = alarm
            .device
            .as_ref()
            .and_then(|id| projection.devices.get(id))
            .is_some_and(|device| device.spec.gateway.as_deref() == Some(gateway));
        if child && alarm.priority != Priority::P1 && alarm.suppressed == online {
            out.change(alarm.id, Change::Suppressed { on: !online });
        }
    }
    if online {
        out.clear(&gateway_source(gateway), Condition::DeviceOffline);
    }
}
