//! The simulated community as a timeline of MQTT messages.
//!
//! Pure: the caller passes in the time since the start and the wall clock,
//! and all randomness comes from one seeded generator, so the same inventory
//! and seed always give the same timeline. The first ten seconds follow a
//! script: a device goes offline, a detector reports a fault, another raises
//! a smoke alarm, a door sends a bad payload, another is forced open, a
//! fast-reporting beam falls silent, and two unregistered devices appear. After that, door traffic and
//! random incidents keep the site busy. When the configuration switches
//! adapters on, the systems they read publish on the same timeline.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

mod incidents;

use super::cast::{Cast, Presence, STRANGERS, SimDevice};
use super::existing::ExistingSystems;
use super::payload;
use super::services::ServiceScript;
use crate::config::Config;
use crate::domain::device::{DeviceKind, ReportedState};
use crate::ingest::TopicRoot;

/// The seed of the demo's randomness.
pub const SEED: u64 = 0x6775_6172_6472_6f6f;

/// One message to publish, always at QoS 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

/// Something due at a point of the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// Gateways, availability and state of every reporting device.
    Snapshot,
    /// A heartbeat armed under the given generation of the device.
    Heartbeat(usize, u64),
    /// The device's state changes and, if it can, it reports.
    Report(usize, ReportedState),
    /// A discrete event on `evt/<id>`: its type and text.
    Raise(usize, &'static str, &'static str),
    Availability(usize, bool),
    GatewayAvailability(usize, bool),
    /// A state payload that is not valid JSON.
    Malformed(usize),
    FallSilent(usize),
    /// An unregistered publisher's first message.
    Appear(usize),
    /// Someone walks through a door. Re-arms itself.
    DoorTraffic,
    /// A random incident. Re-arms itself.
    Incident,
}

#[derive(Debug)]
struct Scheduled {
    at: Duration,
    /// Insertion order, so actions due at the same time run as scheduled.
    order: u64,
    action: Action,
}

// Reversed, so the max-heap yields the earliest action first.
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}

impl Eq for Scheduled {}

/// A gateway and whether it is up.
#[derive(Clone, Debug)]
struct SimGateway {
    id: String,
    online: bool,
}

/// Every how many heartbeats the flaky device sends a bad payload.
const FLAKY_EVERY: u32 = 3;

pub struct Scenario {
    root: TopicRoot,
    time_zone: TimeZone,
    devices: Vec<SimDevice>,
    gateways: Vec<SimGateway>,
    queue: BinaryHeap<Scheduled>,
    next_order: u64,
    rng: fastrand::Rng,
    /// The device that sends a bad payload every [`FLAKY_EVERY`] heartbeats.
    flaky: Option<usize>,
    /// The systems read through adapters, when the configuration switches
    /// any adapter on.
    existing: Option<ExistingSystems>,
    /// Residents' check-ins and the property system's repair tickets.
    services: ServiceScript,
}

impl Scenario {
    /// Builds the community from the configured inventory plus the
    /// unregistered publishers, and schedules the script.
    pub fn new(config: &Config, seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut devices: Vec<SimDevice> = config
            .devices
            .iter()
            .map(|spec| SimDevice::new(spec.clone(), true, &mut rng))
            .collect();
        for stranger in &STRANGERS {
            if devices.iter().all(|device| device.spec.id != stranger.id) {
                let mut device = SimDevice::new(stranger.spec(), false, &mut rng);
                device.presence = Presence::Absent;
                devices.push(device);
            }
        }

        let mut gateways: Vec<SimGateway> = Vec::new();
        for device in &mut devices {
            let Some(id) = &device.spec.gateway else {
                continue;
            };
            let index = match gateways.iter().position(|gateway| &gateway.id == id) {
                Some(index) => index,
                None => {
                    gateways.push(SimGateway {
                        id: id.clone(),
                        online: true,
                    });
                    gateways.len() - 1
                }
            };
            device.gateway = Some(index);
        }

        let cast = Cast::pick(&devices, &mut rng);
        let time_zone = TimeZone::get(&config.site.time_zone).unwrap_or(TimeZone::UTC);
        let mut scenario = Self {
            root: TopicRoot::new(&config.site.id),
            time_zone,
            devices,
            gateways,
            queue: BinaryHeap::new(),
            next_order: 0,
            rng,
            flaky: cast.flaky,
            existing: ExistingSystems::new(&config.adapters),
            // A generator of its own, so the devices' timeline stays as it was.
            services: ServiceScript::new(
                TopicRoot::new(&config.site.id),
                config.residents.len(),
                &mut fastrand::Rng::with_seed(seed.rotate_left(17)),
            ),
        };
        scenario.prepare(&cast);
        scenario
    }

    /// Number of devices that take part, unregistered publishers and those
    /// of the systems read through adapters included.
    pub fn device_count(&self) -> usize {
        let existing = self
            .existing
            .as_ref()
            .map_or(0, ExistingSystems::device_count);
        self.devices.len() + existing
    }

    /// When the next action is due, as time since the start.
    pub fn next_due(&self) -> Option<Duration> {
        let native = self.queue.peek().map(|scheduled| scheduled.at);
        let existing = self.existing.as_ref().and_then(ExistingSystems::next_due);
        [native, existing, self.services.next_due()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs every action due by `elapsed` and returns the messages they
    /// send, in order. `now` stamps the payloads.
    pub fn due(&mut self, elapsed: Duration, now: Timestamp) -> Vec<Message> {
        let ts = now
            .to_zoned_datetime(self.time_zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string();
        let mut out = Vec::new();
        while self
            .queue
            .peek()
            .is_some_and(|scheduled| scheduled.at <= elapsed)
        {
            let Some(scheduled) = self.queue.pop() else {
                break;
            };
            self.run(scheduled.at, scheduled.action, &ts, &mut out);
        }
        if let Some(existing) = &mut self.existing {
            out.extend(existing.due(elapsed, now, &ts));
        }
        out.extend(self.services.due(elapsed, &ts));
        out
    }

    fn schedule(&mut self, at: Duration, action: Action) {
        self.queue.push(Scheduled {
            at,
            order: self.next_order,
            action,
        });
        self.next_order += 1;
    }

    /// Draws a random duration from `low` to `high` seconds.
    fn between(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(self.rng.u64(low * 1000..=high * 1000))
    }

    /// Sets the cast up and schedules the scripted first seconds.
    fn prepare(&mut self, cast: &Cast) {
        for &index in &cast.never_report {
            self.devices[index].presence = Presence::Absent;
        }
        for &index in &cast.low_battery {
            self.devices[index].battery = Some(self.rng.u8(6..=14));
        }
        self.schedule(Duration::ZERO, Action::Snapshot);
        for &(index, at) in &cast.falls_silent {
            self.schedule(at, Action::FallSilent(index));
        }
        for index in 0..self.devices.len() {
            if !self.devices[index].registered {
                let appears_at = STRANGERS
                    .iter()
                    .find(|stranger| stranger.id == self.devices[index].spec.id)
                    .map_or(Duration::ZERO, |stranger| stranger.appears_at);
                self.schedule(appears_at, Action::Appear(index));
            }
        }

        let seconds = Duration::from_secs;
        if let Some(index) = cast.goes_offline {
            self.reserve(index, seconds(93));
            self.schedule(seconds(3), Action::Availability(index, false));
            self.schedule(seconds(93), Action::Availability(index, true));
        }
        if let Some(index) = cast.develops_fault {
            self.reserve(index, seconds(244));
            self.schedule(seconds(4), Action::Report(index, ReportedState::Fault));
            self.schedule(seconds(244), Action::Report(index, ReportedState::Normal));
        }
        if let Some(index) = cast.flaky {
            // Door traffic would replace the bad payload with a good one.
            self.reserve(index, seconds(60));
            self.schedule(seconds(5), Action::Malformed(index));
        }
        if let Some(index) = cast.smoke_alarm {
            self.reserve(index, seconds(96));
            self.schedule(
                seconds(6),
                Action::Raise(index, "smoke", "烟雾浓度超过报警阈值"),
            );
            self.schedule(seconds(6), Action::Report(index, ReportedState::Alarm));
            self.schedule(seconds(96), Action::Report(index, ReportedState::Normal));
        }
        // A forced door, so that every priority is in the queue within ten
        // seconds: fire (P1), forced door (P2), fault (P3), low battery (P4).
        if let Some(index) = self.pick(seconds(8), |device| {
            device.spec.kind == DeviceKind::Door && device.state == ReportedState::Closed
        }) {
            self.reserve(index, seconds(38));
            self.schedule(seconds(8), Action::Report(index, ReportedState::Forced));
            self.schedule(
                seconds(8),
                Action::Raise(index, "door_forced", "门被强行打开"),
            );
            self.schedule(seconds(38), Action::Report(index, ReportedState::Closed));
        }
        self.schedule(Duration::from_millis(1500), Action::DoorTraffic);
        self.schedule(seconds(15), Action::Incident);
    }

    /// Keeps random incidents and door traffic off a device until `until`.
    fn reserve(&mut self, index: usize, until: Duration) {
        let device = &mut self.devices[index];
        device.busy_until = device.busy_until.max(until);
    }

    fn run(&mut self, at: Duration, action: Action, ts: &str, out: &mut Vec<Message>) {
        match action {
            Action::Snapshot => self.snapshot(at, ts, out),
            Action::Heartbeat(index, generation) => self.heartbeat(at, index, generation, ts, out),
            Action::Report(index, state) => {
                self.devices[index].state = state;
                if self.reachable(index) {
                    self.publish_state(at, index, ts, out);
                }
            }
            Action::Raise(index, event, text) => {
                if self.reachable(index) {
                    out.push(Message {
                        topic: self
                            .root
                            .topic(&format!("evt/{}", self.devices[index].spec.id)),
                        payload: payload::event(event, text, ts),
                        retain: false,
                    });
                }
            }
            Action::Availability(index, online) => {
                self.devices[index].online = online;
                if self.devices[index].presence == Presence::Reporting {
                    self.publish_availability(index, out);
                    if online {
                        self.publish_state(at, index, ts, out);
                    }
                }
            }
            Action::GatewayAvailability(gateway, online) => {
                self.gateways[gateway].online = online;
                out.push(Message {
                    topic: self
                        .root
                        .topic(&format!("gw/{}/avail", self.gateways[gateway].id)),
                    payload: payload::gateway_availability(online),
                    retain: true,
                });
            }
            Action::Malformed(index) => {
                if self.reachable(index) {
                    self.publish_malformed(at, index, ts, out);
                }
            }
            Action::FallSilent(index) => self.devices[index].presence = Presence::Silent,
            Action::Appear(index) => {
                self.devices[index].presence = Presence::Reporting;
                self.publish_availability(index, out);
                self.publish_state(at, index, ts, out);
            }
            Action::DoorTraffic => {
                self.door_traffic(at);
                let next = at + Duration::from_millis(self.rng.u64(800..=3000));
                self.schedule(next, Action::DoorTraffic);
            }
            Action::Incident => {
                self.incident(at);
                let next = at + self.between(20, 50);
                self.schedule(next, Action::Incident);
            }
        }
    }

    /// True when the device is publishing and its link is up.
    fn reachable(&self, index: usize) -> bool {
        let device = &self.devices[index];
        let gateway_up = device
            .gateway
            .is_none_or(|gateway| self.gateways[gateway].online);
        device.presence == Presence::Reporting && device.online && gateway_up
    }

    fn snapshot(&mut self, at: Duration, ts: &str, out: &mut Vec<Message>) {
        for gateway in 0..self.gateways.len() {
            self.run(at, Action::GatewayAvailability(gateway, true), ts, out);
        }
        let reporting: Vec<usize> = (0..self.devices.len())
            .filter(|&index| {
                self.devices[index].registered
                    && self.devices[index].presence == Presence::Reporting
            })
            .collect();
        for &index in &reporting {
            self.publish_availability(index, out);
        }
        for &index in &reporting {
            self.publish_state(at, index, ts, out);
            // Devices switched on at different times send their first
            // heartbeats spread over one period. This timer fires before the
            // one `publish_state` armed, and its report voids that one.
            let device = &self.devices[index];
            let generation = device.generation;
            let period = device.heartbeat_period(&mut self.rng);
            let first = at + period.mul_f64(self.rng.f64());
            self.schedule(first, Action::Heartbeat(index, generation));
        }
    }

    fn heartbeat(
        &mut self,
        at: Duration,
        index: usize,
        generation: u64,
        ts: &str,
        out: &mut Vec<Message>,
    ) {
        let device = &self.devices[index];
        if device.generation != generation || device.presence != Presence::Reporting {
            return;
        }
        if !self.reachable(index) {
            // Offline devices try again a period later.
            let period = self.devices[index].heartbeat_period(&mut self.rng);
            self.schedule(at + period, Action::Heartbeat(index, generation));
            return;
        }
        let device = &mut self.devices[index];
        device.beats += 1;
        if self.flaky == Some(index) && device.beats.is_multiple_of(FLAKY_EVERY) {
            self.publish_malformed(at, index, ts, out);
        } else {
            self.publish_state(at, index, ts, out);
        }
    }

    /// Publishes the device's state and restarts its heartbeat timer.
    fn publish_state(&mut self, at: Duration, index: usize, ts: &str, out: &mut Vec<Message>) {
        let device = &self.devices[index];
        out.push(Message {
            topic: self.state_topic(index),
            payload: payload::state(device, ts),
            retain: true,
        });
        self.rearm(at, index);
    }

    fn publish_malformed(&mut self, at: Duration, index: usize, ts: &str, out: &mut Vec<Message>) {
        out.push(Message {
            topic: self.state_topic(index),
            payload: payload::truncated_state(&self.devices[index], ts),
            retain: true,
        });
        self.rearm(at, index);
    }

    fn rearm(&mut self, at: Duration, index: usize) {
        let device = &mut self.devices[index];
        device.generation += 1;
        let generation = device.generation;
        let period = self.devices[index].heartbeat_period(&mut self.rng);
        self.schedule(at + period, Action::Heartbeat(index, generation));
    }

    fn publish_availability(&self, index: usize, out: &mut Vec<Message>) {
        let device = &self.devices[index];
        out.push(Message {
            topic: self.root.topic(&format!("dev/{}/avail", device.spec.id)),
            payload: payload::availability(device.online),
            retain: true,
        });
    }

    fn state_topic(&self, index: usize) -> String {
        self.root
            .topic(&format!("dev/{}/state", self.devices[index].spec.id))
    }

    /// Picks a random device that matches and is free for a new incident at `at`.
    fn pick(&mut self, at: Duration, matches: impl Fn(&SimDevice) -> bool) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.devices.len())
            .filter(|&index| {
                let device = &self.devices[index];
                device.registered
                    && device.busy_until <= at
                    && self.reachable(index)
                    && matches(device)
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        Some(candidates[self.rng.usize(..candidates.len())])
    }

    /// Opens a closed door and closes it again a few seconds later.
    fn door_traffic(&mut self, at: Duration) {
        let Some(index) = self.pick(at, |device| {
            device.is_passage_door() && device.state == ReportedState::Closed
        }) else {
            return;
        };
        let closes = at + self.between(3, 8);
        self.devices[index].busy_until = closes;
        self.schedule(at, Action::Report(index, ReportedState::Open));
        self.schedule(closes, Action::Report(index, ReportedState::Closed));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::app::count;
    use crate::domain::device::Liveness;
    use crate::domain::{DeviceStatus, Event, EventBody, Observation, Projection};
    use crate::ingest::{Limits, Route, decode};

    /// Maps time since the start to a fixed wall clock, so payload times are
    /// reproducible.
    fn clock(elapsed: Duration) -> Timestamp {
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        start + jiff::SignedDuration::try_from(elapsed).unwrap()
    }

    /// The outcome of a scenario run, folded into a projection the way the
    /// recorder folds it.
    struct Replay {
        projection: Projection,
        messages: Vec<Message>,
        /// Devices named by payloads that failed to decode.
        bad_payload_devices: BTreeSet<String>,
        raised_events: usize,
    }

    fn replay(until: Duration) -> Replay {
        let config = crate::demo::site::load(crate::i18n::Lang::En, false).unwrap();
        let mut scenario = Scenario::new(&config, SEED);
        let root = TopicRoot::new(&config.site.id);
        let mut projection = Projection::default();
        for body in projection.reconcile_inventory(&config.devices) {
            projection.apply(&Event::new(clock(Duration::ZERO), body));
        }
        let mut out = Replay {
            projection,
            messages: Vec::new(),
            bad_payload_devices: BTreeSet::new(),
            raised_events: 0,
        };
        let step = Duration::from_millis(100);
        let mut elapsed = Duration::ZERO;
        while elapsed <= until {
            let now = clock(elapsed);
            for message in scenario.due(elapsed, now) {
                let route = root.route(&message.topic);
                let observation =
                    match decode(&route, &message.payload, false, now, &Limits::default()) {
                        Ok(Some(observation)) => observation,
                        Ok(None) => panic!("nothing to decode on {}", message.topic),
                        Err(error) => {
                            let Route::DeviceState(device) = &route else {
                                panic!("bad payload on {}: {error}", message.topic);
                            };
                            out.bad_payload_devices.insert(device.clone());
                            Observation::DataError {
                                device: Some(device.clone()),
                                topic: message.topic.clone(),
                                code: error.code().to_owned(),
                                reason: error.to_string(),
                            }
                        }
                    };
                let observed = out
                    .projection
                    .observe(&observation, config.console.unregistered_interval_s);
                for body in observed.events {
                    if matches!(body, EventBody::DeviceEventRaised { .. }) {
                        out.raised_events += 1;
                    }
                    out.projection.apply(&Event::new(now, body));
                }
                if let Some((device, at)) = observed.heartbeat {
                    out.projection.touch(&device, at);
                }
                out.messages.push(message);
            }
            elapsed += step;
        }
        out
    }

    fn status_count(replay: &Replay, at: Duration, status: DeviceStatus) -> usize {
        let liveness = Liveness::default();
        count(&replay.projection, clock(at), liveness).status_total(status)
    }

    #[test]
    fn first_ten_seconds_show_every_trouble() {
        let ten = Duration::from_secs(10);
        let run = replay(ten);
        let at = |status| status_count(&run, ten, status);
        assert!(
            at(DeviceStatus::Normal) >= 250,
            "normal: {}",
            at(DeviceStatus::Normal)
        );
        assert_eq!(at(DeviceStatus::Unknown), 4);
        assert!(at(DeviceStatus::Stale) >= 1, "no stale device");
        assert_eq!(at(DeviceStatus::Offline), 1);
        assert_eq!(at(DeviceStatus::Fault), 1);
        assert_eq!(at(DeviceStatus::Alarm), 1);
        assert_eq!(at(DeviceStatus::DataError), 1);
        assert_eq!(at(DeviceStatus::BatteryLow), 3);
        assert!(run.raised_events >= 1, "no device event");
        let unregistered = run
            .projection
            .devices
            .values()
            .filter(|device| !device.registered)
            .count();
        assert_eq!(unregistered, 2);
    }

    #[test]
    fn snapshot_is_retained_and_events_are_not() {
        let run = replay(Duration::from_secs(10));
        for message in &run.messages {
            let is_event = message.topic.contains("/evt/");
            assert_eq!(message.retain, !is_event, "{}", message.topic);
        }
        let states = run
            .messages
            .iter()
            .filter(|message| message.topic.ends_with("/state"))
            .count();
        assert!(states >= 300, "{states} state messages");
    }

    #[test]
    fn same_seed_same_timeline() {
        let first = replay(Duration::from_secs(30));
        let second = replay(Duration::from_secs(30));
        assert_eq!(first.messages.len(), second.messages.len());
        for (a, b) in first.messages.iter().zip(&second.messages) {
            assert_eq!((&a.topic, a.retain), (&b.topic, b.retain));
            // Event payloads carry a fresh id, and everything else is identical.
            if !a.topic.contains("/evt/") {
                assert_eq!(a.payload, b.payload, "{}", a.topic);
            }
        }
    }

    #[test]
    fn long_run_stays_believable() {
        let half_hour = Duration::from_secs(30 * 60);
        let run = replay(half_hour);

        // Only the flaky device sends bad payloads.
        assert_eq!(
            run.bad_payload_devices.len(),
            1,
            "{:?}",
            run.bad_payload_devices
        );
        assert!(
            run.raised_events >= 10,
            "{} device events",
            run.raised_events
        );

        let at = |status| status_count(&run, half_hour, status);
        assert_eq!(at(DeviceStatus::Unknown), 4);
        // Incidents end, so only a few devices are in trouble at any time
        // unless a gateway is down.
        let gateways_down = run
            .projection
            .gateways
            .values()
            .filter(|gateway| gateway.availability == crate::domain::Availability::Offline)
            .count();
        if gateways_down == 0 {
            assert!(
                at(DeviceStatus::Offline) <= 5,
                "offline: {}",
                at(DeviceStatus::Offline)
            );
        }
        assert!(
            at(DeviceStatus::Normal) >= 250,
            "normal: {}",
            at(DeviceStatus::Normal)
        );

        let opened = run
            .messages
            .iter()
            .filter(|message| {
                std::str::from_utf8(&message.payload)
                    .is_ok_and(|text| text.contains("\"state\":\"open\""))
            })
            .count();
        assert!(opened >= 300, "{opened} door openings in half an hour");
    }
}
