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

use crate::domain::device::DeviceSpec;
use crate::domain::projection::Delta;
use crate::domain::{Event, EventBody, Observation, Projection};
use crate::ingest::link::{Inbound, LinkStatus};
use crate::store::{Batch, Meta, Store, StoreError};

/// Most messages folded into one transaction.
const MAX_BATCH: usize = 5_000;

/// Configuration values the writer needs.
#[derive(Clone, Debug)]
pub struct Settings {
    pub inventory: Vec<DeviceSpec>,
    pub unregistered_interval_s: u32,
}

pub struct Writer {
    store: Store,
    projection: Projection,
    meta: Meta,
    settings: Settings,
}

/// Rows and counters touched while folding a batch.
#[derive(Default)]
struct Pending {
    events: Vec<Event>,
    devices: BTreeSet<String>,
    gateways: BTreeSet<String>,
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

    /// Runs until the link side of the channel closes, then records that the
    /// recorder stopped.
    pub fn run(mut self, mut inbound: mpsc::Receiver<Inbound>, mut on_commit: Option<OnCommit>) {
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
            std::iter::once(Inbound::Link(LinkStatus::Offline {
                since: Timestamp::now(),
                attempt: 0,
                retry_at: Timestamp::now(),
                reason: "recorder stopped".into(),
            })),
            on_commit.as_mut(),
        );
        tracing::info!("store writer stopped");
    }

    /// Folds and commits one batch of messages.
    pub fn process(
        &mut self,
        messages: impl IntoIterator<Item = Inbound>,
        on_commit: Option<&mut OnCommit>,
    ) {
        let mut pending = Pending::default();
        for message in messages {
            match message {
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
        self.projection.apply(&event);
        if let Some(device) = event.body.device() {
            pending.devices.insert(device.to_owned());
        }
        if let EventBody::GatewayAvailabilityChanged { gateway, .. } = &event.body {
            pending.gateways.insert(gateway.clone());
        }
        pending.events.push(event);
    }

    fn commit(&mut self, pending: Pending, on_commit: Option<&mut OnCommit>) {
        if pending.events.is_empty()
            && pending.devices.is_empty()
            && pending.last_message.is_none()
            && pending.bad_payloads == 0
        {
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
            last_message: pending.last_message,
            bad_payloads: pending.bad_payloads,
        };

        match self.store.commit(&batch) {
            Ok(committed) => {
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
