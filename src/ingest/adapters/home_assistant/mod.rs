//! Home Assistant: devices announced by MQTT discovery, read from the state
//! and availability topics the announcements name.
//!
//! Discovery configs (`<base>/<component>/[<node_id>/]<object_id>/config`,
//! retained) describe each entity and the topic of its state, so a new
//! device of a known class needs no configuration here. The adapter
//! subscribes to those topics as it learns them. `<base>/status`, Home
//! Assistant's own birth and last will, is the gateway of every device read
//! this way. See `devices` for how entities become devices of ours, and
//! `entity` for the device classes read.
//!
//! Retained states arrive in a burst after each subscription, one entity
//! at a time. They are gathered until a second passes without more for the
//! same Home Assistant device, and then reported together. A door and its
//! battery, published on two topics, so make one report, which matters
//! because the projection keeps only a device's first untimed retained
//! report.

mod devices;
mod discovery;
mod entity;
mod template;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Map, Value};

use self::devices::Target;
use self::discovery::{DiscoveryTopic, EntityConfig};
use self::entity::{Entity, PanelState, Reading, Role};
use self::template::Payload;
use super::{Adapter, Mappings, Message, device_id};
use crate::config::Problem;
use crate::domain::Observation;
use crate::domain::alarm::{ExternalAlarm, Priority};
use crate::i18n::Lang;
use crate::ingest::errors::BadPayloads;
use crate::ingest::sanitize::sanitize;
use crate::ingest::topic::MAX_ID_BYTES;
use crate::ingest::{DecodeError, Limits};

/// Prefix of our ids for this source's devices, e.g. `ha-front-door`.
pub const ID_PREFIX: &str = "ha";

/// Entities kept at most, so a misbehaving publisher cannot grow memory
/// without limit; the projection keeps as many discovered devices.
const MAX_ENTITIES: usize = crate::domain::projection::MAX_DISCOVERED;

/// How long retained states of one Home Assistant device are gathered.
const RETAINED_SETTLE: SignedDuration = SignedDuration::from_secs(1);

/// After a restart the broker hands over the messages it queued for our
/// session before the retained discovery configs arrive again. For this
/// long after the first message, messages on topics not yet known are kept
/// so that a state change from while we were away is not lost.
const EARLY_WINDOW: SignedDuration = SignedDuration::from_secs(120);
const EARLY_MAX_TOPICS: usize = 1_024;
const EARLY_MAX_BYTES: usize = 4 * 1_024;

/// Priority of the alarm a triggered alarm panel raises, unless its
/// mapping sets one: an intrusion while armed.
const PANEL_PRIORITY: Priority = Priority::P2;

/// The `[adapters.home_assistant]` section.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub enabled: bool,
    /// Home Assistant's discovery prefix.
    pub base_topic: String,
    /// Our inventory's view of the source's devices, by the entity's
    /// unique id (or `<component>/[<node_id>/]<object_id>` without one).
    pub devices: Mappings,
    /// Our gateway id for Home Assistant, whose `<base>/status` reports
    /// whether it runs. Empty when its devices do not depend on it.
    pub gateway: String,
    /// Entities left out, by the same names as `devices`.
    pub ignore: Vec<String>,
    /// Topics another adapter reads: entities whose state topic is one of
    /// these or under one are left out, e.g. `zigbee2mqtt`. While the
    /// Zigbee2MQTT adapter is on, its base topic is added to these.
    pub ignore_topics: Vec<String>,
    /// Seconds between the reports its devices promise, unless a mapping
    /// sets its own; `None` for `console.unregistered_interval_s`.
    pub interval_s: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            enabled: false,
            base_topic: "homeassistant".into(),
            devices: Mappings::new(),
            gateway: "home-assistant".into(),
            ignore: Vec::new(),
            ignore_topics: Vec::new(),
            interval_s: None,
        }
    }
}

impl Config {
    /// Checks the keys only this adapter has; `base_topic` and `devices`
    /// are checked with every adapter's.
    pub fn check(&self, lang: Lang, problems: &mut Vec<Problem>) {
        let gateway = &self.gateway;
        let clean_gateway = gateway.len() <= MAX_ID_BYTES
            && sanitize(gateway) == *gateway
            && !gateway.contains(['/', '+', '#', ' ']);
        if !clean_gateway {
            problems.push(Problem {
                key: "adapters.home_assistant.gateway".into(),
                reason: lang.tf("config.bad_id", &[("value", gateway)]),
            });
        }
        for (index, topic) in self.ignore_topics.iter().enumerate() {
            let clean = !topic.is_empty()
                && !topic.starts_with('/')
                && !topic.ends_with('/')
                && !topic.contains(['+', '#'])
                && sanitize(topic) == *topic;
            if !clean {
                problems.push(Problem {
                    key: format!("adapters.home_assistant.ignore_topics[{index}]"),
                    reason: lang.tf("config.bad_topic", &[("value", topic)]),
                });
            }
        }
    }
}

/// The adapter when the configuration switches it on.
pub fn build(config: &Config) -> Option<Box<dyn Adapter>> {
    if !config.enabled {
        return None;
    }
    Some(Box::new(HomeAssistant::new(config.clone())))
}

/// Outcome of one message on a learned topic for the entities reading it.
#[derive(Default)]
struct Read {
    /// Entities that received it, with or without a new value.
    heard: BTreeSet<String>,
    errors: Vec<(String, DecodeError)>,
    /// Panels with a new reading: their id and previous reading.
    panels: Vec<(String, Option<Reading>, PanelState)>,
}

/// A message kept until its topic is announced.
struct Early {
    payload: Vec<u8>,
    received: Timestamp,
}

struct HomeAssistant {
    config: Config,
    /// `<base>/`.
    prefix: String,
    status_topic: String,
    /// Watched entities by discovery id.
    entities: BTreeMap<String, Entity>,
    /// Discovery ids announced on each discovery topic.
    announced: HashMap<String, Vec<String>>,
    /// Discovery ids of the entities of each Home Assistant device.
    groups: HashMap<String, BTreeSet<String>>,
    state_topics: HashMap<String, BTreeSet<String>>,
    availability_topics: HashMap<String, BTreeSet<String>>,
    subscribed: HashSet<String>,
    new_subscriptions: Vec<String>,
    /// Groups with retained updates not yet reported, and when the last came.
    settling: BTreeMap<String, Timestamp>,
    /// Availability last reported for each device of ours.
    availability_sent: HashMap<String, bool>,
    early: HashMap<String, Early>,
    early_until: Option<Timestamp>,
    bad: BadPayloads,
    limits: Limits,
}

impl HomeAssistant {
    fn new(config: Config) -> Self {
        let base = config.base_topic.trim_end_matches('/');
        Self {
            prefix: format!("{base}/"),
            status_topic: format!("{base}/status"),
            config,
            entities: BTreeMap::new(),
            announced: HashMap::new(),
            groups: HashMap::new(),
            state_topics: HashMap::new(),
            availability_topics: HashMap::new(),
            subscribed: HashSet::new(),
            new_subscriptions: Vec::new(),
            settling: BTreeMap::new(),
            availability_sent: HashMap::new(),
            early: HashMap::new(),
            early_until: None,
            bad: BadPayloads::default(),
            limits: Limits::default(),
        }
    }

    fn is_ignored(&self, config: &EntityConfig) -> bool {
        let named = |name: &str| self.config.ignore.iter().any(|ignored| ignored == name);
        let under = |base: &String| {
            config.state_topic == *base
                || config
                    .state_topic
                    .strip_prefix(base.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        config.unique_id.as_deref().is_some_and(named)
            || named(&config.discovery_id)
            || self.config.ignore_topics.iter().any(under)
    }

    fn device_id(&self, source: &str) -> String {
        device_id(ID_PREFIX, source, &self.config.devices)
    }

    fn subscribe(&mut self, topic: &str) {
        if self.subscribed.insert(topic.to_owned()) {
            self.new_subscriptions.push(topic.to_owned());
        }
    }

    /// Checks size and encoding. An empty payload is valid text here: it
    /// removes a discovery config, and on a state topic carries no value.
    fn text<'p>(&self, payload: &'p [u8]) -> Result<&'p str, DecodeError> {
        if payload.len() > self.limits.max_payload_bytes {
            return Err(DecodeError::Oversized {
                size: payload.len(),
                limit: self.limits.max_payload_bytes,
            });
        }
        std::str::from_utf8(payload).map_err(|_| DecodeError::NotUtf8)
    }

    /// Counts and logs one bad payload, once per topic, and reports it
    /// against `devices` (or against no device).
    fn bad_payload(
        &mut self,
        message: &Message<'_>,
        error: &DecodeError,
        devices: &[String],
        out: &mut Vec<Observation>,
    ) {
        self.bad.record(message.topic, message.payload, error);
        let data_error = |device: Option<String>| Observation::DataError {
            device,
            topic: sanitize(message.topic),
            code: error.code().to_owned(),
            reason: error.to_string(),
        };
        if devices.is_empty() {
            out.push(data_error(None));
        }
        for device in devices {
            out.push(data_error(Some(device.clone())));
        }
    }

    fn group_of(config: &EntityConfig) -> String {
        match &config.device {
            Some(device) => format!("device:{device}"),
            None => format!("entity:{}", config.discovery_id),
        }
    }

    /// Lays out the devices of ours in `group`.
    fn layout(&self, group: &str) -> Vec<Target> {
        let Some(members) = self.groups.get(group) else {
            return Vec::new();
        };
        let members: Vec<&Entity> = members
            .iter()
            .filter_map(|id| self.entities.get(id))
            .collect();
        devices::layout(&members, &self.config.devices)
    }

    /// Returns the devices of ours that any of `ids` (discovery ids) is part of.
    fn targets_of(&self, ids: &BTreeSet<String>) -> Vec<Target> {
        self.groups_of(ids)
            .iter()
            .flat_map(|group| self.layout(group))
            .filter(|target| ids.iter().any(|id| target.contains(id)))
            .collect()
    }

    fn groups_of(&self, ids: &BTreeSet<String>) -> BTreeSet<String> {
        ids.iter()
            .filter_map(|id| self.entities.get(id))
            .map(|entity| Self::group_of(&entity.config))
            .collect()
    }

    fn report_states(
        &self,
        targets: &[Target],
        retained: bool,
        seen_at: Option<Timestamp>,
        out: &mut Vec<Observation>,
    ) {
        for target in targets {
            if let Some((describes, reported)) =
                devices::compose(target, &self.entities, &self.config)
            {
                out.push(Observation::State {
                    device: target.id.clone(),
                    describes,
                    reported,
                    retained,
                    seen_at,
                });
            }
        }
    }

    fn report_availability(
        &mut self,
        targets: &[Target],
        retained: bool,
        out: &mut Vec<Observation>,
    ) {
        for target in targets {
            let Some(online) = devices::availability(target, &self.entities) else {
                continue;
            };
            if self.availability_sent.insert(target.id.clone(), online) != Some(online) {
                out.push(Observation::Availability {
                    device: target.id.clone(),
                    online,
                    retained,
                });
            }
        }
    }

    fn on_status(&self, message: &Message<'_>, out: &mut Vec<Observation>) -> Option<DecodeError> {
        let text = match self.text(message.payload) {
            Ok(text) => text.trim(),
            Err(error) => return Some(error),
        };
        let online = match text {
            "online" => true,
            "offline" => false,
            other => {
                return Some(DecodeError::BadField {
                    field: "status",
                    reason: format!(
                        "expected \"online\" or \"offline\", got \"{}\"",
                        sanitize(other)
                    ),
                });
            }
        };
        if !self.config.gateway.is_empty() {
            out.push(Observation::GatewayAvailability {
                gateway: self.config.gateway.clone(),
                online,
                retained: message.retained,
            });
        }
        None
    }

    fn on_discovery(
        &mut self,
        message: &Message<'_>,
        topic: &DiscoveryTopic<'_>,
        out: &mut Vec<Observation>,
    ) {
        if message.payload.is_empty() {
            self.replace(message, Vec::new(), &[], out);
            return;
        }
        let root = match self.text(message.payload).and_then(parse_object) {
            Ok(root) => root,
            Err(error) => {
                self.bad_payload(message, &error, &[], out);
                return;
            }
        };
        let announcement = discovery::parse(topic, &root);
        // An entity whose new config is rejected keeps its last good one.
        let mut keep: Vec<String> = Vec::new();
        for rejected in &announcement.rejected {
            keep.push(rejected.discovery_id.clone());
            let device = rejected.unique_id.as_deref().map(|id| self.device_id(id));
            let error = DecodeError::BadField {
                field: "config",
                reason: format!("{}: {}", rejected.discovery_id, rejected.reason),
            };
            self.bad_payload(message, &error, device.as_slice(), out);
        }
        let mut entities = Vec::new();
        for config in announcement.entities {
            if self.is_ignored(&config) {
                continue;
            }
            match Role::of(&config) {
                Ok(Some(role)) => entities.push(Entity::new(config, role)),
                Ok(None) => {}
                Err(reason) => {
                    keep.push(config.discovery_id.clone());
                    let source = config.unique_id.as_deref().unwrap_or(&config.discovery_id);
                    let device = self.device_id(source);
                    let error = DecodeError::BadField {
                        field: "device_class",
                        reason,
                    };
                    self.bad_payload(message, &error, &[device], out);
                }
            }
        }
        self.replace(message, entities, &keep, out);
    }

    /// Makes `entities` the ones announced on the message's discovery topic,
    /// removing those it no longer announces except the ones in `keep`.
    fn replace(
        &mut self,
        message: &Message<'_>,
        entities: Vec<Entity>,
        keep: &[String],
        out: &mut Vec<Observation>,
    ) {
        let old_ids = self.announced.remove(message.topic).unwrap_or_default();
        let new_ids: Vec<String> = entities
            .iter()
            .map(|entity| entity.config.discovery_id.clone())
            .collect();
        let mut touched = BTreeSet::new();
        let mut announced: Vec<String> = old_ids
            .iter()
            .filter(|id| keep.contains(id) && !new_ids.contains(id))
            .cloned()
            .collect();

        for id in old_ids
            .iter()
            .filter(|id| !new_ids.contains(id) && !keep.contains(id))
        {
            if let Some(entity) = self.remove_entity(id) {
                touched.insert(Self::group_of(&entity.config));
                // A panel that goes away cannot clear its alarm later.
                if entity.reading == Some(Reading::Panel(PanelState::Triggered)) {
                    out.push(Observation::ExternalAlarm {
                        id: self.device_id(&entity.source),
                        record: None,
                    });
                }
            }
        }

        let mut fresh_topics = Vec::new();
        for mut entity in entities {
            let id = entity.config.discovery_id.clone();
            if let Some(old) = self.entities.get(&id) {
                if old.config == entity.config {
                    announced.push(id);
                    continue;
                }
                if old.config.state_topic == entity.config.state_topic && old.role == entity.role {
                    entity.reading = old.reading;
                    entity.last_armed = old.last_armed;
                }
                if let Some(old) = self.remove_entity(&id) {
                    touched.insert(Self::group_of(&old.config));
                }
            } else if self.entities.len() >= MAX_ENTITIES {
                let error = DecodeError::BadField {
                    field: "config",
                    reason: format!(
                        "more than {MAX_ENTITIES} entities announced; {id} is left out"
                    ),
                };
                self.bad_payload(message, &error, &[], out);
                continue;
            }

            if let Err(reason) = &entity.template {
                let error = DecodeError::BadField {
                    field: "value_template",
                    reason: reason.clone(),
                };
                if entity.role.is_primary() {
                    let device = self.device_id(&entity.source);
                    self.bad_payload(message, &error, &[device], out);
                } else {
                    // Marking the device would hide its state for a detail
                    // such as its battery level, so this is only logged.
                    self.bad.record(message.topic, message.payload, &error);
                }
            }

            let mut topics = vec![entity.config.state_topic.clone()];
            self.state_topics
                .entry(entity.config.state_topic.clone())
                .or_default()
                .insert(id.clone());
            for source in &entity.config.availability {
                topics.push(source.topic.clone());
                self.availability_topics
                    .entry(source.topic.clone())
                    .or_default()
                    .insert(id.clone());
            }
            for topic in topics {
                if !self.subscribed.contains(&topic) {
                    fresh_topics.push(topic.clone());
                }
                self.subscribe(&topic);
            }
            let group = Self::group_of(&entity.config);
            self.groups
                .entry(group.clone())
                .or_default()
                .insert(id.clone());
            touched.insert(group);
            self.entities.insert(id.clone(), entity);
            announced.push(id);
        }
        if !announced.is_empty() {
            self.announced.insert(message.topic.to_owned(), announced);
        }

        // A group whose make-up changed after its entities reported is
        // reported again once it settles.
        for group in touched {
            let reported = self.groups.get(&group).is_some_and(|members| {
                members
                    .iter()
                    .filter_map(|id| self.entities.get(id))
                    .any(|entity| entity.reading.is_some())
            });
            if reported {
                self.settling.insert(group, message.received);
            }
        }
        for topic in fresh_topics {
            if let Some(early) = self.early.remove(&topic) {
                let replay = Message {
                    topic: &topic,
                    payload: &early.payload,
                    retained: false,
                    received: early.received,
                };
                self.on_topic(&replay, out);
            }
        }
    }

    fn remove_entity(&mut self, id: &str) -> Option<Entity> {
        let entity = self.entities.remove(id)?;
        let unindex = |index: &mut HashMap<String, BTreeSet<String>>, topic: &str| {
            if let Some(ids) = index.get_mut(topic) {
                ids.remove(id);
                if ids.is_empty() {
                    index.remove(topic);
                }
            }
        };
        unindex(&mut self.state_topics, &entity.config.state_topic);
        for source in &entity.config.availability {
            unindex(&mut self.availability_topics, &source.topic);
        }
        unindex(&mut self.groups, &Self::group_of(&entity.config));
        Some(entity)
    }

    /// Handles a message on a state or availability topic learned from
    /// discovery.
    fn on_topic(&mut self, message: &Message<'_>, out: &mut Vec<Observation>) {
        let text = match self.text(message.payload) {
            Ok(text) => text,
            Err(error) => {
                let mut ids: BTreeSet<String> = BTreeSet::new();
                for index in [&self.state_topics, &self.availability_topics] {
                    ids.extend(index.get(message.topic).into_iter().flatten().cloned());
                }
                let devices: Vec<String> =
                    self.targets_of(&ids).into_iter().map(|t| t.id).collect();
                self.bad_payload(message, &error, &devices, out);
                return;
            }
        };
        let payload = Payload::new(text);
        let mut read = Read::default();
        let state_ids = self
            .state_topics
            .get(message.topic)
            .cloned()
            .unwrap_or_default();
        self.read_states(message, &payload, &state_ids, &mut read);
        self.read_availability(message, &payload, &mut read);
        let failed = self.report_errors(message, &read.errors, out);

        let targets: Vec<Target> = self
            .targets_of(&read.heard)
            .into_iter()
            .filter(|target| !failed.contains(&target.id))
            .collect();
        if message.retained {
            for group in self.groups_of(&read.heard) {
                self.settling.insert(group, message.received);
            }
        } else {
            let reporting: Vec<Target> = targets
                .iter()
                .filter(|target| state_ids.iter().any(|id| target.contains(id)))
                .cloned()
                .collect();
            self.report_states(&reporting, false, Some(message.received), out);
            self.report_availability(&targets, false, out);
        }

        for (id, previous, state) in read.panels {
            self.on_panel(message, &id, previous, state, out);
        }
    }

    /// Decodes the message for each entity whose state topic it is.
    fn read_states(
        &mut self,
        message: &Message<'_>,
        payload: &Payload<'_>,
        ids: &BTreeSet<String>,
        read: &mut Read,
    ) {
        for id in ids {
            let Some(entity) = self.entities.get_mut(id) else {
                continue;
            };
            match entity.decode(payload) {
                Ok(Some(reading)) => {
                    let previous = entity.reading;
                    entity.reading = Some(reading);
                    entity.off_at = match (reading, entity.config.off_delay_s) {
                        (Reading::On(true), Some(delay)) => {
                            Some(message.received + SignedDuration::from_secs(i64::from(delay)))
                        }
                        _ => None,
                    };
                    if let Reading::Panel(state) = reading {
                        read.panels.push((id.clone(), previous, state));
                    }
                    read.heard.insert(id.clone());
                }
                // The entity received the message, which carried no new value.
                Ok(None) => {
                    read.heard.insert(id.clone());
                }
                Err(error) => read.errors.push((id.clone(), error)),
            }
        }
    }

    /// Records the message for each entity whose availability topic it is.
    fn read_availability(&mut self, message: &Message<'_>, payload: &Payload<'_>, read: &mut Read) {
        let Some(ids) = self.availability_topics.get(message.topic) else {
            return;
        };
        for id in ids {
            let Some(entity) = self.entities.get_mut(id) else {
                continue;
            };
            match entity.observe_availability(message.topic, payload) {
                Ok(()) => {
                    read.heard.insert(id.clone());
                }
                Err(error) => read.errors.push((id.clone(), error)),
            }
        }
    }

    /// Reports each entity's error against its devices, once per device,
    /// and returns those devices: they keep their last good report, as a
    /// native device does after a bad payload.
    fn report_errors(
        &mut self,
        message: &Message<'_>,
        errors: &[(String, DecodeError)],
        out: &mut Vec<Observation>,
    ) -> Vec<String> {
        let mut failed: Vec<String> = Vec::new();
        for (id, error) in errors {
            let devices: Vec<String> = self
                .targets_of(&BTreeSet::from([id.clone()]))
                .into_iter()
                .map(|target| target.id)
                .collect();
            let fresh: Vec<String> = devices
                .iter()
                .filter(|device| !failed.contains(device))
                .cloned()
                .collect();
            // An entity that is part of no device of ours is still counted.
            if devices.is_empty() || !fresh.is_empty() {
                self.bad_payload(message, error, &fresh, out);
            }
            failed.extend(fresh);
        }
        failed
    }

    /// Logs a panel's arm state changes as events of its device, and opens
    /// or closes the alarm of a triggered panel.
    fn on_panel(
        &mut self,
        message: &Message<'_>,
        id: &str,
        previous: Option<Reading>,
        state: PanelState,
        out: &mut Vec<Observation>,
    ) {
        let Some(entity) = self.entities.get(id) else {
            return;
        };
        let device = self.device_id(&entity.source);
        let was = match previous {
            Some(Reading::Panel(was)) => Some(was),
            _ => None,
        };
        let last_armed = entity.last_armed;
        let mapping = self.config.devices.get(&entity.source);
        let zone = mapping
            .and_then(|m| m.zone.clone())
            .or_else(|| entity.config.suggested_area.clone())
            .unwrap_or_default();
        let building = mapping.and_then(|m| m.building.clone()).unwrap_or_default();
        let priority = mapping
            .and_then(|m| m.priority.as_deref())
            .and_then(Priority::parse)
            .unwrap_or(PANEL_PRIORITY);

        if !message.retained && was != Some(state) {
            out.push(Observation::DeviceEvent {
                device: device.clone(),
                event_id: format!("{}-{}", message.received.as_millisecond(), state.as_str()),
                event: state.as_str().to_owned(),
                text: None,
                source_ts: None,
            });
        }
        // NOTE: after a restart a retained `triggered` is reported again. The
        // recorder ignores it while the panel's alarm is open, but an alarm a
        // guard closed while the panel stayed triggered is raised anew.
        if state == PanelState::Triggered {
            if was != Some(PanelState::Triggered) {
                // A retained state waits to settle, but the alarm does not:
                // the device goes first so the alarm finds its name and place.
                if message.retained {
                    let targets = self.targets_of(&BTreeSet::from([id.to_owned()]));
                    self.report_states(&targets, true, None, out);
                }
                let text = match last_armed {
                    Some(armed) => format!("alarm panel triggered while {}", armed.as_str()),
                    None => "alarm panel triggered".to_owned(),
                };
                out.push(Observation::ExternalAlarm {
                    id: device.clone(),
                    record: Some(ExternalAlarm {
                        id: device.clone(),
                        priority,
                        active: true,
                        text,
                        device: Some(device),
                        building,
                        zone,
                    }),
                });
            }
        } else if was.is_none_or(|was| was == PanelState::Triggered) {
            // Also after a restart, when the alarm may be open from before.
            out.push(Observation::ExternalAlarm {
                id: device,
                record: None,
            });
        }
        if state.is_armed()
            && let Some(entity) = self.entities.get_mut(id)
        {
            entity.last_armed = Some(state);
        }
    }

    /// Keeps a message on a topic not yet announced, while the broker may
    /// still be handing over what it queued for us.
    fn keep_early(&mut self, message: &Message<'_>) {
        let open = self
            .early_until
            .is_some_and(|until| message.received <= until);
        let fits = message.payload.len() <= EARLY_MAX_BYTES
            && (self.early.len() < EARLY_MAX_TOPICS || self.early.contains_key(message.topic));
        if open && fits && !message.retained {
            self.early.insert(
                message.topic.to_owned(),
                Early {
                    payload: message.payload.to_vec(),
                    received: message.received,
                },
            );
        }
    }
}

/// Parses a discovery config: a JSON object.
fn parse_object(text: &str) -> Result<Map<String, Value>, DecodeError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(DecodeError::NotAnObject),
        Err(error) => Err(DecodeError::InvalidJson(error.to_string())),
    }
}

impl Adapter for HomeAssistant {
    fn subscriptions(&self) -> Vec<String> {
        vec![
            format!("{}+/+/config", self.prefix),
            format!("{}+/+/+/config", self.prefix),
            self.status_topic.clone(),
        ]
    }

    fn handle(&mut self, message: &Message<'_>) -> Option<Vec<Observation>> {
        self.early_until
            .get_or_insert(message.received + EARLY_WINDOW);
        let mut out = Vec::new();
        if let Some(topic) = message
            .topic
            .strip_prefix(&self.prefix)
            .and_then(discovery::split_topic)
        {
            self.on_discovery(message, &topic, &mut out);
            return Some(out);
        }

        let mut ours = false;
        if message.topic == self.status_topic {
            ours = true;
            if let Some(error) = self.on_status(message, &mut out) {
                self.bad_payload(message, &error, &[], &mut out);
            }
        }
        if self.state_topics.contains_key(message.topic)
            || self.availability_topics.contains_key(message.topic)
        {
            ours = true;
            self.on_topic(message, &mut out);
        }
        if !ours {
            self.keep_early(message);
            return None;
        }
        Some(out)
    }

    fn tick(&mut self, now: Timestamp) -> Vec<Observation> {
        let mut out = Vec::new();

        let expired: BTreeSet<String> = self
            .entities
            .iter_mut()
            .filter(|(_, entity)| entity.off_at.is_some_and(|at| at <= now))
            .map(|(id, entity)| {
                entity.off_at = None;
                entity.reading = Some(Reading::On(false));
                id.clone()
            })
            .collect();
        if !expired.is_empty() {
            let targets = self.targets_of(&expired);
            self.report_states(&targets, false, Some(now), &mut out);
        }

        let settled: Vec<String> = self
            .settling
            .iter()
            .filter(|(_, last)| now.duration_since(**last) >= RETAINED_SETTLE)
            .map(|(group, _)| group.clone())
            .collect();
        for group in settled {
            self.settling.remove(&group);
            let targets = self.layout(&group);
            self.report_states(&targets, true, None, &mut out);
            self.report_availability(&targets, true, &mut out);
        }

        if self.early_until.is_some_and(|until| now > until) {
            self.early.clear();
        }
        out
    }

    fn take_new_subscriptions(&mut self) -> Vec<String> {
        std::mem::take(&mut self.new_subscriptions)
    }
}
