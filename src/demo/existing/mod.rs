//! The systems the demo community already runs, for `guardroom demo
//! --adapters`: a small Zigbee2MQTT network, devices announced to Home
//! Assistant over MQTT discovery, and a Frigate server with two cameras.
//! Each publishes in its own format under the base topic the adapters
//! read, so the console shows their devices and alarms beside the native
//! ones.
//!
//! Pure like the scenario: the caller passes the time since the start and
//! the wall clock, and the same configuration always gives the same
//! timeline. The first seconds follow a script, so that a short headless
//! run already contains an alarm from each source. The Home Assistant alarm
//! panel triggers at 5 s, a Frigate review item opens at 8 s and a Zigbee
//! leak sensor goes off at 9 s.
//!
//! NOTE: the embedded broker (rumqttd 0.20) forwards at most 100 retained
//! messages per filter to a subscriber that comes late, and the demo
//! starts publishing only after the recorder has subscribed. Home
//! Assistant is the exception: the recorder subscribes to each state topic
//! only once it has read the discovery config naming it, so the first
//! states follow the configs a second later, when they arrive live.

mod frigate;
mod home_assistant;
mod zigbee;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use jiff::Timestamp;

use super::scenario::Message;
use crate::ingest::adapters::AdaptersConfig;

/// Something due on the timeline of one of the systems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Zigbee(zigbee::Step),
    HomeAssistant(home_assistant::Step),
    Frigate(frigate::Step),
}

/// Steps in order of time, then of scheduling.
type Queue = BinaryHeap<Reverse<(Duration, u64, Step)>>;

/// The simulated systems whose adapters the configuration switches on.
pub struct ExistingSystems {
    zigbee: Option<zigbee::Network>,
    home_assistant: Option<home_assistant::Hub>,
    frigate: Option<frigate::Server>,
    queue: Queue,
    next_order: u64,
}

impl ExistingSystems {
    /// Builds the systems of the adapters `config` switches on, or `None`
    /// when it switches none on.
    pub fn new(config: &AdaptersConfig) -> Option<Self> {
        let home_assistant = config
            .home_assistant
            .enabled
            .then(|| home_assistant::Hub::new(&config.home_assistant.base_topic));
        // Zigbee2MQTT announces its devices to Home Assistant when both run.
        let announce_to = home_assistant
            .as_ref()
            .map(|_| config.home_assistant.base_topic.clone());
        let zigbee = config
            .zigbee2mqtt
            .enabled
            .then(|| zigbee::Network::new(&config.zigbee2mqtt.base_topic, announce_to));
        let frigate = config
            .frigate
            .enabled
            .then(|| frigate::Server::new(&config.frigate.base_topic));
        if zigbee.is_none() && home_assistant.is_none() && frigate.is_none() {
            return None;
        }

        let mut systems = Self {
            zigbee,
            home_assistant,
            frigate,
            queue: Queue::new(),
            next_order: 0,
        };
        let mut script = Vec::new();
        if systems.zigbee.is_some() {
            script.extend(wrap(zigbee::script(), Step::Zigbee));
        }
        if systems.home_assistant.is_some() {
            script.extend(wrap(home_assistant::script(), Step::HomeAssistant));
        }
        if systems.frigate.is_some() {
            script.extend(wrap(frigate::script(), Step::Frigate));
        }
        systems.schedule(script);
        Some(systems)
    }

    /// Number of devices the systems publish, ignored ones included.
    pub fn device_count(&self) -> usize {
        let zigbee = self.zigbee.as_ref().map_or(0, zigbee::Network::len);
        let home_assistant = self
            .home_assistant
            .as_ref()
            .map_or(0, home_assistant::Hub::len);
        let frigate = self.frigate.as_ref().map_or(0, frigate::Server::len);
        zigbee + home_assistant + frigate
    }

    /// When the next step is due, as time since the start.
    pub fn next_due(&self) -> Option<Duration> {
        self.queue.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Runs every step due by `elapsed` and returns the messages they send,
    /// in order. `now` and `ts` (the same time as RFC 3339 text) stamp the
    /// payloads.
    pub fn due(&mut self, elapsed: Duration, now: Timestamp, ts: &str) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some(Reverse((at, _, step))) = self.queue.peek().copied() {
            if at > elapsed {
                break;
            }
            self.queue.pop();
            let next = self.run(at, step, now, ts, &mut out);
            self.schedule(next);
        }
        out
    }

    fn run(
        &mut self,
        at: Duration,
        step: Step,
        now: Timestamp,
        ts: &str,
        out: &mut Vec<Message>,
    ) -> Vec<(Duration, Step)> {
        match step {
            Step::Zigbee(step) => match &mut self.zigbee {
                Some(network) => wrap(network.run(at, step, ts, out), Step::Zigbee),
                None => Vec::new(),
            },
            Step::HomeAssistant(step) => match &mut self.home_assistant {
                Some(hub) => wrap(hub.run(at, step, out), Step::HomeAssistant),
                None => Vec::new(),
            },
            Step::Frigate(step) => match &mut self.frigate {
                Some(server) => wrap(server.run(at, step, now, out), Step::Frigate),
                None => Vec::new(),
            },
        }
    }

    fn schedule(&mut self, steps: Vec<(Duration, Step)>) {
        for (at, step) in steps {
            self.queue.push(Reverse((at, self.next_order, step)));
            self.next_order += 1;
        }
    }
}

fn wrap<T>(steps: Vec<(Duration, T)>, into: fn(T) -> Step) -> Vec<(Duration, Step)> {
    steps
        .into_iter()
        .map(|(at, step)| (at, into(step)))
        .collect()
}

/// Builds a message; every system here publishes its states retained, as
/// each of them does by default or as commonly configured.
fn message(topic: String, payload: impl Into<Vec<u8>>, retain: bool) -> Message {
    Message {
        topic,
        payload: payload.into(),
        retain,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::domain::alarm::ExternalAlarm;
    use crate::domain::observation::Observation;
    use crate::ingest::adapters::{Adapters, Message as Incoming};

    fn config() -> AdaptersConfig {
        crate::demo::site::load(crate::i18n::Lang::En, true)
            .expect("the demo site with adapters loads")
            .adapters
    }

    fn clock(elapsed: Duration) -> Timestamp {
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        start + jiff::SignedDuration::try_from(elapsed).unwrap()
    }

    /// Runs the timeline for `until` through the adapters the demo switches
    /// on, ticking them once a second as the link does, and returns every
    /// observation with the topics the adapters asked to subscribe to.
    fn run(until: Duration) -> (Vec<Observation>, Vec<Message>) {
        let config = config();
        let mut systems = ExistingSystems::new(&config).expect("adapters are on");
        let mut adapters = Adapters::new(&config);
        let mut subscribed: BTreeSet<String> = adapters.subscriptions().into_iter().collect();
        let mut observations = Vec::new();
        let mut messages = Vec::new();
        let step = Duration::from_millis(100);
        let mut elapsed = Duration::ZERO;
        while elapsed <= until {
            let now = clock(elapsed);
            for message in systems.due(elapsed, now, &now.to_string()) {
                let owned = is_subscribed(&subscribed, &message.topic);
                if owned {
                    let incoming = Incoming {
                        topic: &message.topic,
                        payload: &message.payload,
                        retained: false,
                        received: now,
                    };
                    observations.extend(adapters.handle(&incoming).unwrap_or_default());
                    subscribed.extend(adapters.take_new_subscriptions());
                }
                messages.push(message);
            }
            if elapsed.subsec_millis() == 0 {
                observations.extend(adapters.tick(now));
            }
            elapsed += step;
        }
        (observations, messages)
    }

    /// True when a filter in `filters` matches `topic` (`+` and `#` only at
    /// whole levels, as the adapters use them).
    fn is_subscribed(filters: &BTreeSet<String>, topic: &str) -> bool {
        filters.iter().any(|filter| {
            let mut levels = topic.split('/');
            for part in filter.split('/') {
                match (part, levels.next()) {
                    ("#", _) => return true,
                    ("+", Some(_)) => {}
                    (part, Some(level)) if part == level => {}
                    _ => return false,
                }
            }
            levels.next().is_none()
        })
    }

    #[test]
    fn every_source_shows_devices_and_alarms_early() {
        let (observations, _) = run(Duration::from_secs(10));
        let mut devices: BTreeMap<String, usize> = BTreeMap::new();
        for observation in &observations {
            if let Observation::State { device, .. } = observation {
                *devices.entry(device.clone()).or_default() += 1;
            }
        }
        for prefix in ["z2m-", "ha-", "frigate-"] {
            assert!(
                devices.keys().any(|id| id.starts_with(prefix)),
                "no {prefix} device: {devices:?}"
            );
        }
        let errors: Vec<&Observation> = observations
            .iter()
            .filter(|observation| matches!(observation, Observation::DataError { .. }))
            .collect();
        assert!(errors.is_empty(), "data errors: {errors:?}");

        let alarms: Vec<&ExternalAlarm> = observations
            .iter()
            .filter_map(|observation| match observation {
                Observation::ExternalAlarm {
                    record: Some(record),
                    ..
                } => Some(record),
                _ => None,
            })
            .collect();
        assert!(
            alarms.iter().any(|alarm| alarm.id.starts_with("ha-")),
            "the panel's alarm: {alarms:?}"
        );
        assert!(
            alarms.iter().any(|alarm| alarm.id.starts_with("frigate-")),
            "the review item's alarm: {alarms:?}"
        );
        let leak = observations.iter().any(|observation| {
            matches!(observation, Observation::State { device, reported, .. }
                if device == "z2m-pump-room-leak"
                    && reported.state == crate::domain::device::ReportedState::Alarm)
        });
        assert!(leak, "the leak sensor goes off");
    }

    #[test]
    fn ignored_and_announced_devices_left_out() {
        let (observations, messages) = run(Duration::from_secs(60));
        let devices: BTreeSet<&str> = observations
            .iter()
            .filter_map(Observation::device)
            .collect();
        assert!(
            !devices.iter().any(|id| id.contains("corridor")),
            "the ignored motion sensor: {devices:?}"
        );
        assert!(
            !devices.iter().any(|id| id.contains("light")),
            "the light is no security device: {devices:?}"
        );
        assert!(
            messages
                .iter()
                .any(|message| message.topic.starts_with("homeassistant/")
                    && message.topic.contains("0x00158d0004a1c002")),
            "Zigbee2MQTT announces its devices to Home Assistant"
        );
        assert!(
            !devices.iter().any(|id| id.starts_with("ha-0x")),
            "announced Zigbee devices appear once, from Zigbee2MQTT: {devices:?}"
        );
    }

    #[test]
    fn payloads_fit_the_embedded_broker() {
        let (_, messages) = run(Duration::from_secs(300));
        for message in &messages {
            assert!(
                message.payload.len() < super::super::broker::MAX_PAYLOAD_BYTES,
                "{} is {} bytes",
                message.topic,
                message.payload.len()
            );
        }
        let retained: BTreeSet<&str> = messages
            .iter()
            .filter(|message| message.retain)
            .map(|message| message.topic.as_str())
            .collect();
        assert!(
            retained.len() < 100,
            "{} retained topics, more than a late subscriber gets",
            retained.len()
        );
    }

    #[test]
    fn same_configuration_same_timeline() {
        let (_, first) = run(Duration::from_secs(120));
        let (_, second) = run(Duration::from_secs(120));
        assert_eq!(first, second);
    }

    #[test]
    fn nothing_without_adapters() {
        assert!(ExistingSystems::new(&AdaptersConfig::default()).is_none());
    }
}
