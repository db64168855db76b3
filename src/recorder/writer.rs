//! The writer thread: takes decoded messages from the link, decides with the
//! projection what changed, and commits each batch in one transaction.
//!
//! Batches form by themselves: the writer takes whatever has queued up while
//! the previous commit ran, so a quiet site commits message by message and a
//! burst commits thousands per transaction.

use std::collections::{BTreeSet, HashSet};

use jiff::Timestamp;
use tokio::sync::mpsc;

/// Called after each commit with the rows it changed.
pub type OnCommit = Box<dyn FnMut(Delta) + Send>;

use uuid::Uuid;

use super::outbound;
use crate::domain::alarm::{Action, AlarmRules, Change, Refusal, rules};
use crate::domain::device::DeviceSpec;
use crate::domain::projection::Delta;
use crate::domain::{Event, EventBody, Observation, Projection};
use crate::ingest::link::{Inbound, LinkStatus};
use crate::store::{Batch, Meta, Outgoing, Store, StoreError};

/// Most messages folded into one transaction.
const MAX_BATCH: usize = 5_000;

/// Configuration values the writer needs.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub inventory: Vec<DeviceSpec>,
    pub unregistered_interval_s: u32,
    pub rules: AlarmRules,
    /// Topics for actions and escalations.
    pub topics: Topics,
}

/// The topics the recorder publishes on, in full.
#[derive(Clone, Debug, Default)]
pub struct Topics {
    /// `…/console/<c>/act`
    pub actions: String,
    /// Escalations for the supervisor.
    pub supervisor: String,
}

/// Input of the writer thread.
#[derive(Debug)]
pub enum Input {
    /// A message from the broker link.
    Link(Inbound),
    /// The clock moved on: time-driven rules run.
    Tick(Timestamp),
    /// An operator action from a console in this process.
    Act(Action),
}

impl From<Inbound> for Input {
    fn from(inbound: Inbound) -> Self {
        Self::Link(inbound)
    }
}

pub struct Writer {
    store: Store,
    projection: Projection,
    meta: Meta,
    settings: Settings,
    /// Committed messages go to the link from here.
    publish: Option<mpsc::UnboundedSender<Outgoing>>,
    /// Outbox rows the broker has not confirmed yet.
    unsent: u64,
}

/// Rows and counters touched while folding a batch.
#[derive(Default)]
struct Pending {
    events: Vec<Event>,
    devices: BTreeSet<String>,
    gateways: BTreeSet<String>,
    alarms: BTreeSet<u64>,
    book_changed: bool,
    outbox: Vec<(usize, String, String)>,
    durable: bool,
    refused: Vec<(Uuid, Refusal)>,
    published: Vec<i64>,
    dedupe_keys: HashSet<String>,
    last_message: Option<Timestamp>,
    bad_payloads: u64,
}

impl Writer {
    /// Loads the projection and brings the log in line with the inventory.
    pub fn new(store: Store, settings: Settings) -> Result<Self, StoreError> {
        let (projection, meta) = store.load_projection()?;
        let mut writer = Self {
            store,
            projection,
            meta,
            settings,
            publish: None,
            unsent: 0,
        };
        let mut pending = Pending::default();
        let now = Timestamp::now();
        for body in writer
            .projection
            .reconcile_inventory(&writer.settings.inventory)
        {
            writer.append(&mut pending, Event::new(now, body));
        }
        writer.commit(pending, None);
        Ok(writer)
    }

    pub fn projection(&self) -> &Projection {
        &self.projection
    }

    /// Sends committed messages to `publish`, starting with those a previous
    /// run committed but never saw confirmed.
    pub fn publish_to(&mut self, publish: mpsc::UnboundedSender<Outgoing>) {
        match self.store.unsent(100_000) {
            Ok(unsent) => {
                if !unsent.is_empty() {
                    tracing::info!(
                        count = unsent.len(),
                        "publishing messages left from the last run"
                    );
                }
                self.unsent = unsent.len() as u64;
                for outgoing in unsent {
                    let _ = publish.send(outgoing);
                }
            }
            Err(error) => tracing::error!(%error, "reading the outbox failed"),
        }
        self.publish = Some(publish);
    }

    /// Runs until the link side of the channel closes, then records that the
    /// recorder stopped.
    pub fn run(mut self, mut inbound: mpsc::Receiver<Input>, mut on_commit: Option<OnCommit>) {
        let mut messages = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = inbound.blocking_recv() {
            messages.push(first);
            while messages.len() < MAX_BATCH {
                match inbound.try_recv() {
                    Ok(message) => messages.push(message),
                    Err(_) => break,
                }
            }
            self.process(messages.drain(..), on_commit.as_mut());
        }
        self.process(
            std::iter::once(Input::Link(Inbound::Link(LinkStatus::Offline {
                since: Timestamp::now(),
                attempt: 0,
                retry_at: Timestamp::now(),
                reason: "recorder stopped".into(),
            }))),
            on_commit.as_mut(),
        );
        tracing::info!("store writer stopped");
    }

    /// Folds and commits one batch of messages.
    pub fn process<M: Into<Input>>(
        &mut self,
        messages: impl IntoIterator<Item = M>,
        on_commit: Option<&mut OnCommit>,
    ) {
        let mut pending = Pending::default();
        for message in messages {
            let message = match message.into() {
                Input::Link(message) => message,
                Input::Tick(now) => {
                    self.tick(&mut pending, now);
                    continue;
                }
                Input::Act(action) => {
                    self.act(&mut pending, action);
                    continue;
                }
            };
            match message {
                Inbound::Published { seqs } => pending.published.extend(seqs),
                Inbound::Observed {
                    observation,
                    received,
                } => {
                    note_message(&mut pending, received);
                    self.observe(&mut pending, &observation, received);
                }
                Inbound::Unattributed { received, bad } => {
                    note_message(&mut pending, received);
                    pending.bad_payloads += u64::from(bad);
                }
                Inbound::Link(status) => self.link_changed(&mut pending, &status),
            }
        }
        self.commit(pending, on_commit);
    }

    fn observe(&mut self, pending: &mut Pending, observation: &Observation, received: Timestamp) {
        if matches!(observation, Observation::DataError { .. }) {
            pending.bad_payloads += 1;
        }
        if let Observation::ExternalAlarm { id, record } = observation {
            let bodies =
                rules::external(&self.projection, id, record.as_ref(), &self.settings.rules);
            for body in bodies {
                self.append(pending, Event::new(received, body));
            }
            return;
        }
        let observed = self
            .projection
            .observe(observation, self.settings.unregistered_interval_s);
        for body in observed.events {
            self.append(pending, Event::new(received, body));
        }
        if let Some((device, at)) = observed.heartbeat
            && self.projection.touch(&device, at)
        {
            pending.devices.insert(device);
        }
    }

    /// Runs the time-driven alarm rules.
    fn tick(&mut self, pending: &mut Pending, now: Timestamp) {
        for event in rules::run_tick(&mut self.projection, now, &self.settings.rules) {
            self.note(pending, event);
        }
    }

    /// Checks an operator's action against the recorded state, then logs it.
    fn act(&mut self, pending: &mut Pending, action: Action) {
        let now = Timestamp::now();
        if let Err(refusal) = self.projection.alarms.check(&action, now) {
            tracing::info!(action = %action.id, %refusal, "action rejected");
            pending.refused.push((action.id, refusal));
            return;
        }
        pending.durable = true;
        self.append(pending, Event::new(now, EventBody::AlarmActed { action }));
    }

    fn link_changed(&mut self, pending: &mut Pending, status: &LinkStatus) {
        let (online, detail, at) = match status {
            LinkStatus::Online { since } => (true, String::new(), *since),
            LinkStatus::Offline { reason, .. } => (false, reason.clone(), Timestamp::now()),
            LinkStatus::Connecting { .. } => return,
        };
        if self
            .projection
            .link
            .as_ref()
            .is_some_and(|link| link.online == online)
        {
            return;
        }
        self.append(
            pending,
            Event::new(at, EventBody::LinkChanged { online, detail }),
        );
    }

    /// Folds an event into the projection and queues it for the commit,
    /// unless it is a redelivery of one already stored.
    fn append(&mut self, pending: &mut Pending, event: Event) {
        if let Some(key) = event.body.dedupe_key() {
            let stored = self.store.has_dedupe_key(&key).unwrap_or_else(|error| {
                tracing::error!(%error, "dedupe lookup failed; keeping the event");
                false
            });
            if stored || !pending.dedupe_keys.insert(key) {
                return;
            }
        }
        for event in rules::record(&mut self.projection, event, &self.settings.rules) {
            self.note(pending, event);
        }
    }

    /// Queues an event already folded into the projection for the commit.
    fn note(&mut self, pending: &mut Pending, event: Event) {
        if let Some(device) = event.body.device() {
            pending.devices.insert(device.to_owned());
        }
        if let EventBody::GatewayAvailabilityChanged { gateway, .. } = &event.body {
            pending.gateways.insert(gateway.clone());
        }
        if let Some(alarm) = event.body.alarm() {
            pending.alarms.insert(alarm);
        }
        pending.book_changed |= event.body.is_alarm();
        if let Some((topic, payload)) = self.message_for(&event) {
            pending.outbox.push((pending.events.len(), topic, payload));
        }
        pending.events.push(event);
    }

    /// Returns the message an event is published as, if any: operator
    /// actions go to the console's action topic, escalations to the
    /// supervisor's.
    fn message_for(&self, event: &Event) -> Option<(String, String)> {
        let topics = &self.settings.topics;
        match &event.body {
            EventBody::AlarmActed { action } if !topics.actions.is_empty() => {
                Some((topics.actions.clone(), outbound::action(action, event.at)))
            }
            EventBody::AlarmChanged {
                alarm,
                change: Change::Escalated,
            } if !topics.supervisor.is_empty() => {
                let alarm = self.projection.alarms.open.get(alarm)?;
                Some((
                    topics.supervisor.clone(),
                    outbound::escalation(event.id, alarm, event.at),
                ))
            }
            _ => None,
        }
    }

    fn commit(&mut self, pending: Pending, on_commit: Option<&mut OnCommit>) {
        if !pending.published.is_empty() {
            match self.store.mark_sent(&pending.published, Timestamp::now()) {
                Ok(marked) => self.unsent = self.unsent.saturating_sub(marked as u64),
                Err(error) => tracing::error!(
                    %error,
                    "marking published messages failed; they will be sent again"
                ),
            }
        }
        if pending.events.is_empty()
            && pending.devices.is_empty()
            && pending.last_message.is_none()
            && pending.bad_payloads == 0
            && pending.refused.is_empty()
        {
            // Nothing to commit, but the console's count of waiting
            // messages may have dropped.
            if !pending.published.is_empty()
                && let Some(on_commit) = on_commit
            {
                on_commit(Delta {
                    last_seq: self.projection.last_seq,
                    unsent: Some(self.unsent),
                    ..Delta::default()
                });
            }
            return;
        }
        let batch = Batch {
            devices: pending
                .devices
                .iter()
                .filter_map(|id| self.projection.devices.get(id).cloned())
                .collect(),
            gateways: pending
                .gateways
                .iter()
                .filter_map(|id| self.projection.gateways.get(id).cloned())
                .collect(),
            events: pending.events,
            alarms: pending
                .alarms
                .iter()
                .filter_map(|id| self.projection.alarms.get(*id).cloned())
                .collect(),
            alarm_book: pending
                .book_changed
                .then(|| self.projection.alarms.state.clone()),
            outbox: pending.outbox,
            durable: pending.durable,
            last_message: pending.last_message,
            bad_payloads: pending.bad_payloads,
        };

        match self.store.commit(&batch) {
            Ok(committed) => {
                self.unsent += committed.outgoing.len() as u64;
                if let Some(publish) = &self.publish {
                    for outgoing in committed.outgoing {
                        let _ = publish.send(outgoing);
                    }
                }
                self.meta.rev = committed.rev;
                if let Some(last) = committed.events.last() {
                    self.projection.last_seq = last.seq;
                }
                self.meta.last_message = batch.last_message.or(self.meta.last_message);
                self.meta.bad_payloads += batch.bad_payloads;
            }
            Err(error) => {
                // NOTE: the batch is dropped after the error is logged; the
                // projection is reloaded so memory never runs ahead of the file.
                tracing::error!(%error, events = batch.events.len(), "commit failed; reloading state from the database");
                match self.store.load_projection() {
                    Ok((projection, meta)) => {
                        self.projection = projection;
                        self.meta = meta;
                    }
                    Err(error) => tracing::error!(%error, "reloading state failed"),
                }
                return;
            }
        }

        if let Some(on_commit) = on_commit {
            let delta = Delta {
                devices: batch.devices,
                gateways: batch.gateways,
                link: self.projection.link.clone(),
                last_message: self.meta.last_message,
                bad_payloads: self.meta.bad_payloads,
                last_seq: self.projection.last_seq,
                alarms: batch.alarms,
                alarm_book: batch.alarm_book,
                refused: pending.refused,
                unsent: Some(self.unsent),
            };
            on_commit(delta);
        }
    }
}

fn note_message(pending: &mut Pending, received: Timestamp) {
    pending.last_message = Some(
        pending
            .last_message
            .map_or(received, |last| last.max(received)),
    );
}
