//! The projection: the fold of the event log into the state the screens draw.
//!
//! `observe` decides which events an observation produces (pure, no
//! mutation); `apply` folds one event in. The recorder runs both; an attached
//! console or a replay runs only `apply`, and ends in the same state.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::alarm::book::OutOfService;
use super::alarm::{Action, Alarm, AlarmBook, BookState, Refusal};
use super::device::{
    Availability, DataError, Device, DeviceKind, DeviceSpec, Gateway, Liveness, OFFLINE_TIMES_KEPT,
    ReportedState,
};
use super::event::{Event, EventBody};
use super::observation::{Observation, SelfDescription};
use super::services::Services;
use super::ticket::TicketEffect;

/// Upper bound on devices outside the inventory, so a misbehaving publisher
/// cannot grow memory without limit.
pub const MAX_DISCOVERED: usize = 5_000;

/// The broker link as last recorded in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRecord {
    pub online: bool,
    pub since: Timestamp,
    /// The broker had no session for us when this online spell began.
    #[serde(default)]
    pub session_lost: bool,
}

/// The outcome of one observation: events to log and a heartbeat.
#[derive(Debug, Default, PartialEq)]
pub struct Observed {
    /// Changes to append to the log, in order.
    pub events: Vec<EventBody>,
    /// A repeat that only proves the device alive at this time.
    pub heartbeat: Option<(String, Timestamp)>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Projection {
    pub devices: BTreeMap<String, Device>,
    pub gateways: BTreeMap<String, Gateway>,
    pub link: Option<LinkRecord>,
    pub alarms: AlarmBook,
    /// Repair tickets and eldercare check-ins.
    pub services: Services,
    /// Sequence number of the last event folded in.
    pub last_seq: i64,
}

impl Projection {
    /// Events that bring the log in line with the configured inventory.
    pub fn reconcile_inventory(&self, inventory: &[DeviceSpec]) -> Vec<EventBody> {
        let mut events = Vec::new();
        for spec in inventory {
            let current = self.devices.get(&spec.id);
            let unchanged = current.is_some_and(|device| device.registered && device.spec == *spec);
            if !unchanged {
                events.push(EventBody::DeviceRegistered { spec: spec.clone() });
            }
        }
        for device in self.devices.values().filter(|device| device.registered) {
            if !inventory.iter().any(|spec| spec.id == device.spec.id) {
                events.push(EventBody::DeviceUnregistered {
                    device: device.spec.id.clone(),
                });
            }
        }
        events
    }

    /// Decides what an observation changes. `interval_s` is the report
    /// interval assumed for devices outside the inventory.
    pub fn observe(&self, observation: &Observation, interval_s: u32) -> Observed {
        let mut out = Observed::default();
        match observation {
            Observation::State {
                device,
                describes,
                reported,
                retained,
                seen_at,
            } => {
                let Some(kind) = self.ensure_known(device, describes, interval_s, &mut out) else {
                    return out;
                };
                let current = self.devices.get(device);

                if !ReportedState::valid_for(kind).contains(&reported.state) {
                    let reason = invalid_state(reported.state, kind);
                    self.data_error(device, "state", "bad_field", reason, &mut out);
                    return out;
                }

                if *retained && current.is_some_and(|device| is_history(device, *seen_at)) {
                    return out;
                }

                let unchanged = current.is_some_and(|device| {
                    device.reported.as_ref() == Some(reported) && device.data_error.is_none()
                });
                if unchanged {
                    if let Some(at) = seen_at {
                        out.heartbeat = Some((device.clone(), *at));
                    }
                } else {
                    out.events.push(EventBody::StateReported {
                        device: device.clone(),
                        reported: reported.clone(),
                        retained: *retained,
                        seen_at: *seen_at,
                    });
                }
            }
            Observation::Availability {
                device,
                online,
                retained,
            } => {
                if self
                    .ensure_known(device, &SelfDescription::default(), interval_s, &mut out)
                    .is_none()
                {
                    return out;
                }
                let now = availability_of(*online);
                let current = self.devices.get(device).map(|device| device.availability);
                if current != Some(now) {
                    out.events.push(EventBody::AvailabilityChanged {
                        device: device.clone(),
                        online: *online,
                        retained: *retained,
                    });
                }
            }
            Observation::GatewayAvailability {
                gateway,
                online,
                retained,
            } => {
                let current = self
                    .gateways
                    .get(gateway)
                    .map(|gateway| gateway.availability);
                if current != Some(availability_of(*online)) {
                    out.events.push(EventBody::GatewayAvailabilityChanged {
                        gateway: gateway.clone(),
                        online: *online,
                        retained: *retained,
                    });
                }
            }
            Observation::DeviceEvent {
                device,
                event_id,
                event,
                text,
                source_ts,
            } => {
                if self
                    .ensure_known(device, &SelfDescription::default(), interval_s, &mut out)
                    .is_none()
                {
                    return out;
                }
                out.events.push(EventBody::DeviceEventRaised {
                    device: device.clone(),
                    event_id: event_id.clone(),
                    event: event.clone(),
                    text: text.clone(),
                    source_ts: *source_ts,
                });
            }
            Observation::DataError {
                device: Some(device),
                topic,
                code,
                reason,
            } => {
                if self
                    .ensure_known(device, &SelfDescription::default(), interval_s, &mut out)
                    .is_some()
                {
                    self.data_error(device, topic, code, reason.clone(), &mut out);
                }
            }
            // Alarm records change alarms only; the recorder runs their rule.
            // Tickets and care events go to the services; the recorder logs them.
            Observation::DataError { device: None, .. }
            | Observation::ExternalAlarm { .. }
            | Observation::Ticket { .. }
            | Observation::Care { .. } => {}
        }
        out
    }

    /// Folds one event into the state.
    pub fn apply(&mut self, event: &Event) {
        self.last_seq = self.last_seq.max(event.seq);
        let at = event.at;
        match &event.body {
            EventBody::DeviceRegistered { spec } => {
                let device = self
                    .devices
                    .entry(spec.id.clone())
                    .or_insert_with(|| Device::new(spec.clone(), true));
                device.spec = spec.clone();
                device.registered = true;
            }
            EventBody::DeviceUnregistered { device } => {
                if let Some(device) = self.devices.get_mut(device) {
                    device.registered = false;
                }
            }
            EventBody::DeviceDiscovered { spec } => {
                let device = self
                    .devices
                    .entry(spec.id.clone())
                    .or_insert_with(|| Device::new(spec.clone(), false));
                if !device.registered {
                    device.spec = spec.clone();
                }
            }
            EventBody::StateReported {
                device,
                reported,
                seen_at,
                ..
            } => {
                if let Some(device) = self.devices.get_mut(device) {
                    device.reported = Some(reported.clone());
                    device.data_error = None;
                    device.last_change = Some(seen_at.unwrap_or(at));
                    if let Some(seen) = seen_at {
                        device.last_seen =
                            Some(device.last_seen.map_or(*seen, |last| last.max(*seen)));
                    }
                    device.remember(at, "state", reported.state.as_str());
                }
            }
            EventBody::AvailabilityChanged { device, online, .. } => {
                if let Some(device) = self.devices.get_mut(device) {
                    device.availability = availability_of(*online);
                    device.availability_since = Some(at);
                    if !*online {
                        if device.offline_times.len() == OFFLINE_TIMES_KEPT {
                            device.offline_times.pop_front();
                        }
                        device.offline_times.push_back(at);
                    }
                    device.remember(at, "avail", if *online { "online" } else { "offline" });
                }
            }
            EventBody::GatewayAvailabilityChanged {
                gateway, online, ..
            } => {
                let entry = self
                    .gateways
                    .entry(gateway.clone())
                    .or_insert_with(|| Gateway {
                        id: gateway.clone(),
                        availability: Availability::Unknown,
                        since: None,
                    });
                entry.availability = availability_of(*online);
                entry.since = Some(at);
            }
            EventBody::DeviceEventRaised { device, event, .. } => {
                if let Some(device) = self.devices.get_mut(device) {
                    device.remember(at, "event", event.clone());
                }
            }
            EventBody::DataErrorRaised {
                device,
                topic,
                code,
                reason,
            } => {
                if let Some(device) = self.devices.get_mut(device) {
                    device.data_error = Some(DataError {
                        at,
                        topic: topic.clone(),
                        code: code.clone(),
                        reason: reason.clone(),
                    });
                    device.remember(at, "data_error", code.clone());
                }
            }
            EventBody::LinkChanged {
                online,
                session_lost,
                ..
            } => {
                self.link = Some(LinkRecord {
                    online: *online,
                    since: at,
                    session_lost: *session_lost,
                });
            }
            EventBody::AlarmRaised { raise } => self.alarms.raise(raise, at),
            EventBody::AlarmChanged { alarm, change } => self.alarms.change(*alarm, change, at),
            EventBody::AlarmActed { action } => self.alarms.act(action, at),
            EventBody::AlarmFlood { flood } => self.alarms.flood(flood, at),
            // The duty log is read from the store, not kept in memory.
            EventBody::DutyRecorded { .. } => {}
            EventBody::Ticket { .. } | EventBody::Care { .. } => self.apply_services(event),
        }
    }

    /// Folds a ticket or care event into the services, and carries out on
    /// the alarm book what a ticket's device service changes: alarms of a
    /// device out of service because of a ticket stay out of the queue.
    fn apply_services(&mut self, event: &Event) {
        self.services.apply(&event.body, event.at);
        let follow_ups = self.services.take_follow_ups();
        for effect in &follow_ups.tickets {
            match effect {
                TicketEffect::DeviceOutOfService { device, ticket } => {
                    let by = match &event.body {
                        EventBody::Ticket {
                            action: Some(action),
                            ..
                        } => action.operator.clone(),
                        _ => crate::domain::ticket::book::REMOTE.to_owned(),
                    };
                    self.alarms.state.out_of_service.insert(
                        device.clone(),
                        OutOfService {
                            since: event.at,
                            by,
                            remark: format!("ticket {ticket}"),
                        },
                    );
                    self.mark_out_of_service(device, true);
                }
                TicketEffect::DeviceReturned { device, .. } => {
                    self.alarms.state.out_of_service.remove(device);
                    self.mark_out_of_service(device, false);
                }
                _ => {}
            }
        }
        self.services.restore_follow_ups(follow_ups);
    }

    fn mark_out_of_service(&mut self, device: &str, on: bool) {
        for alarm in self.alarms.open.values_mut() {
            if alarm.device.as_deref() == Some(device) {
                alarm.out_of_service = on;
            }
        }
    }

    /// Checks an operator's action against the alarms and the services,
    /// without changing anything: the console's check and the recorder's.
    pub fn check_action(&self, action: &Action, now: Timestamp) -> Result<(), Refusal> {
        self.alarms.check(action, now)?;
        self.services.check(action, now)
    }

    /// Records a repeat report: moves `last_seen` forward, never back.
    /// Returns true when it moved.
    pub fn touch(&mut self, device: &str, at: Timestamp) -> bool {
        let Some(device) = self.devices.get_mut(device) else {
            return false;
        };
        if device.last_seen.is_some_and(|last| last >= at) {
            return false;
        }
        device.last_seen = Some(at);
        true
    }

    /// True when the device's gateway is known to be offline.
    pub fn gateway_offline(&self, device: &Device) -> bool {
        device
            .spec
            .gateway
            .as_ref()
            .and_then(|id| self.gateways.get(id))
            .is_some_and(|gateway| gateway.availability == Availability::Offline)
    }

    /// Judges the status of one device at `now`, its gateway included.
    pub fn status_of(
        &self,
        device: &Device,
        now: Timestamp,
        liveness: Liveness,
    ) -> super::DeviceStatus {
        device.status(now, liveness, self.gateway_offline(device))
    }

    /// Makes sure the device exists once the pending events are applied,
    /// adding a discovery event when needed. Returns its kind, or `None` when
    /// the discovery limit is reached.
    fn ensure_known(
        &self,
        id: &str,
        describes: &SelfDescription,
        interval_s: u32,
        out: &mut Observed,
    ) -> Option<DeviceKind> {
        if let Some(device) = self.devices.get(id) {
            if device.registered {
                return Some(device.spec.kind);
            }
            let spec = discovered_spec(id, describes, interval_s, Some(&device.spec));
            if spec != device.spec {
                out.events.push(EventBody::DeviceDiscovered { spec });
            }
            return Some(device.spec.kind);
        }

        let discovered = self
            .devices
            .values()
            .filter(|device| !device.registered)
            .count();
        if discovered >= MAX_DISCOVERED {
            return None;
        }
        let spec = discovered_spec(id, describes, interval_s, None);
        let kind = spec.kind;
        out.events.push(EventBody::DeviceDiscovered { spec });
        Some(kind)
    }

    fn data_error(
        &self,
        device: &str,
        topic: &str,
        code: &str,
        reason: String,
        out: &mut Observed,
    ) {
        let already = self.devices.get(device).is_some_and(|device| {
            device
                .data_error
                .as_ref()
                .is_some_and(|error| error.reason == reason)
        });
        if !already {
            out.events.push(EventBody::DataErrorRaised {
                device: device.to_owned(),
                topic: topic.to_owned(),
                code: code.to_owned(),
                reason,
            });
        }
    }
}

/// True when a retained report adds nothing to what the device already
/// holds: it is untimed, or older than the last report seen.
fn is_history(device: &Device, seen_at: Option<Timestamp>) -> bool {
    if device.reported.is_none() {
        return false;
    }
    match (seen_at, device.last_seen) {
        (None, _) => true,
        (Some(at), Some(last)) => at < last,
        (Some(_), None) => false,
    }
}

fn availability_of(online: bool) -> Availability {
    if online {
        Availability::Online
    } else {
        Availability::Offline
    }
}

fn invalid_state(state: ReportedState, kind: DeviceKind) -> String {
    format!(
        "state \"{}\" is not valid for a {}",
        state.as_str(),
        kind.as_str()
    )
}

/// Builds the spec of a device outside the inventory from its self-description;
/// fields it leaves out keep their previous values. `interval_s` is the
/// interval a new device gets when its description names none.
fn discovered_spec(
    id: &str,
    describes: &SelfDescription,
    interval_s: u32,
    previous: Option<&DeviceSpec>,
) -> DeviceSpec {
    let keep = |new: &Option<String>, old: Option<&String>| {
        new.clone().or_else(|| old.cloned()).unwrap_or_default()
    };
    DeviceSpec {
        id: id.to_owned(),
        kind: describes
            .kind
            .or(previous.map(|spec| spec.kind))
            .unwrap_or(DeviceKind::Unknown),
        class: describes.class.or(previous.and_then(|spec| spec.class)),
        name: describes
            .name
            .clone()
            .or_else(|| previous.map(|spec| spec.name.clone()))
            .unwrap_or_else(|| id.to_owned()),
        building: keep(&describes.building, previous.map(|spec| &spec.building)),
        zone: keep(&describes.zone, previous.map(|spec| &spec.zone)),
        gateway: describes
            .gateway
            .clone()
            .or_else(|| previous.and_then(|spec| spec.gateway.clone())),
        interval_s: describes
            .interval_s
            .or(previous.map(|spec| spec.interval_s))
            .unwrap_or(interval_s),
    }
}

/// Changed rows a console merges into its copy of the projection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Delta {
    pub devices: Vec<Device>,
    pub gateways: Vec<Gateway>,
    pub link: Option<LinkRecord>,
    pub last_message: Option<Timestamp>,
    /// Bad payloads counted so far (a total, not an increment).
    pub bad_payloads: u64,
    pub last_seq: i64,
    /// Alarms changed by the commit, open or closed.
    pub alarms: Vec<Alarm>,
    /// The book's own state, when it changed.
    pub alarm_book: Option<BookState>,
    /// Actions the recorder refused, for the console that submitted them.
    pub refused: Vec<(uuid::Uuid, Refusal)>,
    /// Operator actions and escalations waiting for the broker, when known.
    pub unsent: Option<u64>,
    /// Whether the rows above are saved or only held in memory.
    pub storage: super::storage::Storage,
    /// Ticket and care events of the commit, in order, for the console to fold.
    pub services: Vec<Event>,
}

impl Projection {
    /// Replaces the rows a delta carries.
    pub fn merge(&mut self, delta: Delta) {
        for device in delta.devices {
            self.devices.insert(device.spec.id.clone(), device);
        }
        for gateway in delta.gateways {
            self.gateways.insert(gateway.id.clone(), gateway);
        }
        if delta.link.is_some() {
            self.link = delta.link;
        }
        for alarm in delta.alarms {
            self.alarms.upsert(alarm);
        }
        if let Some(state) = delta.alarm_book {
            self.alarms.state = state;
        }
        for event in &delta.services {
            // The store assigns seq, so 0 is an event not stored yet.
            if event.seq > 0 && event.seq <= self.services.applied_seq {
                continue;
            }
            self.services.applied_seq = self.services.applied_seq.max(event.seq);
            self.services.apply(&event.body, event.at);
            self.services.take_follow_ups();
        }
        self.last_seq = self.last_seq.max(delta.last_seq);
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::domain::device::{DetectorClass, Reported};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn door_spec(id: &str) -> DeviceSpec {
        DeviceSpec {
            id: id.into(),
            kind: DeviceKind::Door,
            class: None,
            name: format!("门 {id}"),
            building: "1号楼".into(),
            zone: String::new(),
            gateway: None,
            interval_s: 60,
        }
    }

    fn state(
        device: &str,
        state: ReportedState,
        retained: bool,
        seen_at: Option<Timestamp>,
    ) -> Observation {
        Observation::State {
            device: device.into(),
            describes: SelfDescription::default(),
            reported: Reported::new(state),
            retained,
            seen_at,
        }
    }

    /// Observes and applies, as the recorder does; returns the event kinds.
    fn feed(
        projection: &mut Projection,
        observation: &Observation,
        now: Timestamp,
    ) -> Vec<&'static str> {
        let observed = projection.observe(observation, 300);
        let kinds = observed.events.iter().map(EventBody::kind).collect();
        for body in observed.events {
            projection.apply(&Event::new(now, body));
        }
        if let Some((device, at)) = observed.heartbeat {
            projection.touch(&device, at);
        }
        kinds
    }

    fn with_door() -> Projection {
        let mut projection = Projection::default();
        for body in projection.reconcile_inventory(&[door_spec("d1")]) {
            projection.apply(&Event::new(at(0), body));
        }
        projection
    }

    #[test]
    fn change_is_event_repeat_is_heartbeat() {
        let mut projection = with_door();
        let first = feed(
            &mut projection,
            &state("d1", ReportedState::Closed, false, Some(at(1))),
            at(1),
        );
        assert_eq!(first, ["state_reported"]);
        let repeat = feed(
            &mut projection,
            &state("d1", ReportedState::Closed, false, Some(at(5))),
            at(5),
        );
        assert!(repeat.is_empty(), "a repeat is not an event: {repeat:?}");
        assert_eq!(projection.devices["d1"].last_seen, Some(at(5)));
        assert_eq!(projection.devices["d1"].last_change, Some(at(1)));
    }

    #[test]
    fn older_retained_report_is_history() {
        let mut projection = with_door();
        feed(
            &mut projection,
            &state("d1", ReportedState::Open, false, Some(at(100))),
            at(100),
        );
        let events = feed(
            &mut projection,
            &state("d1", ReportedState::Closed, true, Some(at(50))),
            at(101),
        );
        assert!(events.is_empty(), "{events:?}");
        assert_eq!(
            projection.devices["d1"].reported.as_ref().unwrap().state,
            ReportedState::Open
        );
        let untimed = feed(
            &mut projection,
            &state("d1", ReportedState::Closed, true, None),
            at(102),
        );
        assert!(untimed.is_empty(), "{untimed:?}");
    }

    #[test]
    fn retained_report_keeps_its_age() {
        let mut projection = with_door();
        let old = at(100) - SignedDuration::from_hours(2);
        feed(
            &mut projection,
            &state("d1", ReportedState::Closed, true, Some(old)),
            at(100),
        );
        let device = &projection.devices["d1"];
        assert_eq!(device.last_seen, Some(old));
        assert!(device.is_stale(at(100), Default::default()));
    }

    #[test]
    fn state_invalid_for_kind_is_data_error() {
        let mut projection = with_door();
        feed(
            &mut projection,
            &state("d1", ReportedState::Closed, false, Some(at(1))),
            at(1),
        );
        let events = feed(
            &mut projection,
            &state("d1", ReportedState::VideoLoss, false, Some(at(2))),
            at(2),
        );
        assert_eq!(events, ["data_error_raised"]);
        let device = &projection.devices["d1"];
        assert_eq!(
            device.reported.as_ref().unwrap().state,
            ReportedState::Closed,
            "last good state kept"
        );
        assert_eq!(device.data_error.as_ref().unwrap().code, "bad_field");
    }

    #[test]
    fn data_error_recorded_once_then_cleared() {
        let mut projection = with_door();
        let bad = Observation::DataError {
            device: Some("d1".into()),
            topic: "dev/d1/state".into(),
            code: "invalid_json".into(),
            reason: "invalid JSON".into(),
        };
        assert_eq!(feed(&mut projection, &bad, at(1)), ["data_error_raised"]);
        assert!(
            feed(&mut projection, &bad, at(2)).is_empty(),
            "repeat errors are only counted"
        );
        let good = feed(
            &mut projection,
            &state("d1", ReportedState::Closed, false, Some(at(3))),
            at(3),
        );
        assert_eq!(good, ["state_reported"]);
        assert!(projection.devices["d1"].data_error.is_none());
    }

    #[test]
    fn unregistered_device_is_discovered() {
        let mut projection = with_door();
        let observation = Observation::State {
            device: "stray".into(),
            describes: SelfDescription {
                kind: Some(DeviceKind::Camera),
                name: Some("野摄像机".into()),
                ..SelfDescription::default()
            },
            reported: Reported::new(ReportedState::Ok),
            retained: false,
            seen_at: Some(at(1)),
        };
        assert_eq!(
            feed(&mut projection, &observation, at(1)),
            ["device_discovered", "state_reported"]
        );
        let device = &projection.devices["stray"];
        assert!(!device.registered);
        assert_eq!(device.spec.kind, DeviceKind::Camera);
        assert_eq!(device.spec.name, "野摄像机");
        assert_eq!(device.spec.interval_s, 300);
    }

    #[test]
    fn described_interval_sets_and_keeps() {
        let mut projection = with_door();
        let described =
            |interval_s: Option<u32>, state: ReportedState, at: Timestamp| Observation::State {
                device: "z2m-hall".into(),
                describes: SelfDescription {
                    kind: Some(DeviceKind::Door),
                    interval_s,
                    ..SelfDescription::default()
                },
                reported: Reported::new(state),
                retained: false,
                seen_at: Some(at),
            };
        feed(
            &mut projection,
            &described(Some(3_600), ReportedState::Closed, at(1)),
            at(1),
        );
        assert_eq!(
            projection.devices["z2m-hall"].spec.interval_s, 3_600,
            "a new device takes the described interval"
        );

        feed(
            &mut projection,
            &described(None, ReportedState::Open, at(2)),
            at(2),
        );
        assert_eq!(
            projection.devices["z2m-hall"].spec.interval_s, 3_600,
            "a description without an interval keeps the last one"
        );

        let events = feed(
            &mut projection,
            &described(Some(900), ReportedState::Open, at(3)),
            at(3),
        );
        assert_eq!(events, ["device_discovered"], "a new interval is logged");
        assert_eq!(projection.devices["z2m-hall"].spec.interval_s, 900);
    }

    #[test]
    fn described_interval_ignored_for_inventory() {
        let mut projection = with_door();
        let observation = Observation::State {
            device: "d1".into(),
            describes: SelfDescription {
                interval_s: Some(3_600),
                ..SelfDescription::default()
            },
            reported: Reported::new(ReportedState::Closed),
            retained: false,
            seen_at: Some(at(1)),
        };
        feed(&mut projection, &observation, at(1));
        assert_eq!(
            projection.devices["d1"].spec.interval_s, 60,
            "the configured inventory wins"
        );
    }

    #[test]
    fn long_interval_not_stale_before_it() {
        let mut projection = with_door();
        let observation = Observation::State {
            device: "z2m-leak".into(),
            describes: SelfDescription {
                kind: Some(DeviceKind::Detector),
                class: Some(DetectorClass::WaterLeak),
                interval_s: Some(3_600),
                ..SelfDescription::default()
            },
            reported: Reported::new(ReportedState::Normal),
            retained: false,
            seen_at: Some(at(0)),
        };
        feed(&mut projection, &observation, at(0));
        let liveness = Liveness::default();
        let device = &projection.devices["z2m-leak"];
        // Silent for 50 minutes: stale after 750 s under the 300 s default
        // interval, but not under the device's own hour.
        assert_eq!(
            projection.status_of(device, at(3_000), liveness),
            super::super::DeviceStatus::Normal
        );
        let much_later = at(3_600 * 3);
        assert_eq!(
            projection.status_of(device, much_later, liveness),
            super::super::DeviceStatus::Stale,
            "stale once its own interval times the factor has passed"
        );
    }

    #[test]
    fn availability_changes_only_on_change() {
        let mut projection = with_door();
        let offline = Observation::Availability {
            device: "d1".into(),
            online: false,
            retained: false,
        };
        assert_eq!(
            feed(&mut projection, &offline, at(1)),
            ["availability_changed"]
        );
        assert!(feed(&mut projection, &offline, at(2)).is_empty());
        assert_eq!(projection.devices["d1"].availability, Availability::Offline);
    }

    #[test]
    fn gateway_offline_makes_children_offline() {
        let mut spec = door_spec("d1");
        spec.gateway = Some("gw".into());
        let mut projection = Projection::default();
        for body in projection.reconcile_inventory(&[spec]) {
            projection.apply(&Event::new(at(0), body));
        }
        feed(
            &mut projection,
            &state("d1", ReportedState::Closed, false, Some(at(1))),
            at(1),
        );
        let gateway = Observation::GatewayAvailability {
            gateway: "gw".into(),
            online: false,
            retained: true,
        };
        feed(&mut projection, &gateway, at(2));
        let device = &projection.devices["d1"];
        assert_eq!(
            projection.status_of(device, at(3), Default::default()),
            super::super::DeviceStatus::Offline
        );
    }

    #[test]
    fn inventory_reconcile_adds_changes_removes() {
        let projection = with_door();
        assert!(
            projection
                .reconcile_inventory(&[door_spec("d1")])
                .is_empty(),
            "unchanged inventory"
        );
        let mut renamed = door_spec("d1");
        renamed.name = "新名字".into();
        let events = projection.reconcile_inventory(&[renamed, door_spec("d2")]);
        let kinds: Vec<_> = events.iter().map(EventBody::kind).collect();
        assert_eq!(kinds, ["device_registered", "device_registered"]);
        let removed = projection.reconcile_inventory(&[]);
        let kinds: Vec<_> = removed.iter().map(EventBody::kind).collect();
        assert_eq!(kinds, ["device_unregistered"]);
    }

    #[test]
    fn discovery_is_bounded() {
        let mut projection = Projection::default();
        for index in 0..MAX_DISCOVERED {
            let spec = DeviceSpec {
                id: format!("x{index}"),
                kind: DeviceKind::Unknown,
                class: None,
                name: String::new(),
                building: String::new(),
                zone: String::new(),
                gateway: None,
                interval_s: 300,
            };
            projection.apply(&Event::new(at(0), EventBody::DeviceDiscovered { spec }));
        }
        let events = feed(
            &mut projection,
            &state("one-more", ReportedState::Normal, false, Some(at(1))),
            at(1),
        );
        assert!(events.is_empty(), "{events:?}");
        assert!(!projection.devices.contains_key("one-more"));
    }
}
