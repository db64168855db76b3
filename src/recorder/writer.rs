//! The writer thread: takes decoded messages from the link, decides with the
//! projection what changed, and commits each batch in one transaction.
//!
//! Batches form by themselves: the writer takes whatever has queued up while
//! the previous commit ran, so a quiet site commits message by message and a
//! burst commits thousands per transaction.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::mpsc;

/// Called after each commit with the rows it changed.
pub type OnCommit = Box<dyn FnMut(Delta) + Send>;

use uuid::Uuid;

use super::outbound;
use crate::domain::services::ServiceSetup;

mod services;
use crate::domain::alarm::{Action, AlarmRules, Change, Refusal, rules};
use crate::domain::device::DeviceSpec;
use crate::domain::operator::{self, Registered};
use crate::domain::projection::Delta;
use crate::domain::storage::{Storage, StorageFault};
use crate::domain::{Event, EventBody, Observation, Projection};
use crate::ingest::link::{Ack, Inbound, LinkStatus};
use crate::store::{Batch, Meta, Outgoing, Store, StoreError};

/// Most messages folded into one transaction.
const MAX_BATCH: usize = 5_000;

/// Most requests from attached consoles taken per poll.
const MAX_REQUESTS: usize = 500;

/// Events held in memory while the disk refuses them, beyond which the
/// writer stops taking input: the link then stops reading and the broker
/// keeps the rest.
const HELD_LIMIT: usize = 200_000;

/// Pauses between commit attempts while the disk rejects writes. Each pause
/// doubles up to the cap, so a full disk gets one attempt per half-minute
/// rather than one per message.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_CAP: Duration = Duration::from_secs(30);

/// Configuration values the writer needs.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub inventory: Vec<DeviceSpec>,
    pub unregistered_interval_s: u32,
    pub rules: AlarmRules,
    /// Topics for actions and escalations.
    pub topics: Topics,
    /// Residents, eldercare rules and ticket service levels.
    pub services: ServiceSetup,
}

/// The topics the recorder publishes on, in full.
#[derive(Clone, Debug, Default)]
pub struct Topics {
    /// `…/console/<c>/act` of the recorder's own console; actions from
    /// other consoles go to their own console's topic beside it.
    pub actions: String,
    /// Escalations for the supervisor.
    pub supervisor: String,
    /// `…/ticket/`: a ticket's record goes to this prefix and its id.
    pub tickets: String,
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
    /// Look for actions attached consoles handed in through the database.
    Poll,
}

impl Topics {
    /// Returns the action topic of `console`, or the recorder's own when the
    /// id is not valid in a topic.
    fn action_topic(&self, console: &str) -> String {
        let valid =
            !console.is_empty() && !console.contains(['/', '+', '#', '\0']) && console.len() <= 64;
        match self
            .actions
            .strip_suffix("/act")
            .and_then(|rest| rest.rsplit_once('/'))
        {
            Some((prefix, _)) if valid => format!("{prefix}/{console}/act"),
            _ => self.actions.clone(),
        }
    }
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
    /// Acknowledgements go back to the link after the commit.
    acks: Option<mpsc::UnboundedSender<Vec<Ack>>>,
    /// Work the disk refused, kept for the next attempt.
    held: Option<Pending>,
    retry: Option<Retry>,
    /// Request rows taken but not yet settled in the file.
    taken_requests: HashSet<i64>,
    /// `data_version` at the last look for requests; `None` before the first.
    requests_seen: Option<i64>,
    /// The link was online before, in this run or an earlier one: a
    /// reconnect without a session then means messages may be missing.
    connected_before: bool,
    /// The coming online event follows a reconnect the broker kept no session for.
    session_lost: bool,
}

/// The retry schedule while commits fail.
#[derive(Clone, Debug)]
struct Retry {
    attempt: u32,
    at: Instant,
    fault: StorageFault,
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
    acks: Vec<Ack>,
    requests: Vec<(i64, Option<String>)>,
    actions: usize,
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
            acks: None,
            held: None,
            retry: None,
            taken_requests: HashSet::new(),
            requests_seen: None,
            connected_before: false,
            session_lost: false,
        };
        writer.connected_before = writer.projection.link.is_some();
        let mut pending = Pending::default();
        let now = Timestamp::now();
        writer.start_services(&mut pending, now)?;
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

    /// Hands acknowledgements of committed messages to the link.
    pub fn ack_to(&mut self, acks: mpsc::UnboundedSender<Vec<Ack>>) {
        self.acks = Some(acks);
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
            self.pause_while_full();
        }
        // A last attempt for what the disk refused so far.
        self.retry = None;
        self.process(
            std::iter::once(Input::Link(Inbound::Link(LinkStatus::Offline {
                since: Timestamp::now(),
                attempt: 0,
                retry_at: Timestamp::now(),
                reason: "recorder stopped".into(),
            }))),
            on_commit.as_mut(),
        );
        if let Some(held) = &self.held {
            tracing::error!(
                events = held.events.len(),
                actions = held.actions,
                "store writer stopped with work the database refused; unacknowledged messages come again from the broker"
            );
        }
        tracing::info!("store writer stopped");
    }

    /// While the disk refuses writes and much is held, waits for the next
    /// attempt instead of taking more input.
    fn pause_while_full(&self) {
        let (Some(retry), Some(held)) = (&self.retry, &self.held) else {
            return;
        };
        if held.events.len() >= HELD_LIMIT {
            let wait = retry.at.saturating_duration_since(Instant::now());
            std::thread::sleep(wait.min(Duration::from_secs(1)));
        }
    }

    /// Folds and commits one batch of messages.
    pub fn process<M: Into<Input>>(
        &mut self,
        messages: impl IntoIterator<Item = M>,
        on_commit: Option<&mut OnCommit>,
    ) {
        // Work the disk refused last time comes first, so order is kept.
        let mut pending = self.held.take().unwrap_or_default();
        for message in messages {
            let message = match message.into() {
                Input::Link(message) => message,
                Input::Tick(now) => {
                    self.tick(&mut pending, now);
                    continue;
                }
                Input::Act(action) => {
                    self.act(&mut pending, action, None);
                    continue;
                }
                Input::Poll => {
                    self.take_requests(&mut pending);
                    continue;
                }
            };
            match message {
                Inbound::Published { seqs } => pending.published.extend(seqs),
                Inbound::Delivered(ack) => pending.acks.push(ack),
                Inbound::Session { present } => {
                    self.session_lost = !present && self.connected_before;
                    self.connected_before = true;
                }
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
        if self.observe_services(pending, observation, received) {
            return;
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
        self.tick_services(pending, now);
    }

    /// Checks an operator's action against the recorded state, then logs
    /// it. `request` is the row of an attached console's request, settled
    /// in the same commit.
    fn act(&mut self, pending: &mut Pending, mut action: Action, request: Option<i64>) {
        let now = Timestamp::now();
        let checked = self
            .authorize(&mut action)
            .and_then(|()| self.projection.check_action(&action, now));
        if let Err(refusal) = checked {
            tracing::info!(action = %action.id, %refusal, "action rejected");
            match request {
                Some(row) => pending.requests.push((row, Some(refusal.to_string()))),
                None => pending.refused.push((action.id, refusal)),
            }
            return;
        }
        if let Some(row) = request {
            pending.requests.push((row, None));
        }
        pending.durable = true;
        pending.actions += 1;
        let body = if action.kind.is_alarm() {
            EventBody::AlarmActed { action }
        } else {
            EventBody::DutyRecorded { action }
        };
        self.append(pending, Event::new(now, body));
    }

    /// Checks the action's operator against the operators table. A
    /// registered operator's role comes from the table, whatever role the
    /// action claims, and is recorded with the action.
    fn authorize(&self, action: &mut Action) -> Result<(), Refusal> {
        let registered = self.store.registered(&action.operator).map_err(|error| {
            tracing::error!(%error, action = %action.id, "reading the operators failed; rejecting the action");
            Refusal::ByRecorder(format!("the operators could not be read: {error}"))
        })?;
        if let Registered::Found { role, .. } = registered {
            action.role = role.as_str().to_owned();
        }
        operator::authorize(registered, action, &self.projection.alarms)
    }

    /// Takes the actions attached consoles handed in since the last look.
    /// Cheap when nothing changed: `data_version` moves only when another
    /// connection commits.
    fn take_requests(&mut self, pending: &mut Pending) {
        let version = match self.store.data_version() {
            Ok(version) => version,
            Err(error) => {
                tracing::warn!(%error, "checking the database for requests failed");
                return;
            }
        };
        if self.requests_seen == Some(version) {
            return;
        }
        let requests = match self.store.pending_requests(MAX_REQUESTS) {
            Ok(requests) => requests,
            Err(error) => {
                tracing::warn!(%error, "reading requests failed");
                return;
            }
        };
        // A full page may leave more behind: look again on the next poll.
        self.requests_seen = (requests.len() < MAX_REQUESTS).then_some(version);
        for request in requests {
            if self.taken_requests.insert(request.row) {
                self.act(pending, request.action, Some(request.row));
            }
        }
    }

    fn link_changed(&mut self, pending: &mut Pending, status: &LinkStatus) {
        let (online, detail, at) = match status {
            LinkStatus::Online { since } => (true, String::new(), *since),
            LinkStatus::Offline { reason, .. } => (false, reason.clone(), Timestamp::now()),
            LinkStatus::Connecting { .. } => return,
        };
        let session_lost = online && std::mem::take(&mut self.session_lost);
        if session_lost {
            tracing::warn!("the broker kept no session: messages sent while away may be missing");
        }
        if !session_lost
            && self
                .projection
                .link
                .as_ref()
                .is_some_and(|link| link.online == online)
        {
            return;
        }
        self.append(
            pending,
            Event::new(
                at,
                EventBody::LinkChanged {
                    online,
                    detail,
                    session_lost,
                },
            ),
        );
    }

    /// Folds an event into the projection and queues it for the commit,
    /// unless it is a redelivery of one already stored.
    fn append(&mut self, pending: &mut Pending, event: Event) {
        let event = self.service_event(event);
        let service = matches!(
            event.body,
            EventBody::Ticket { .. } | EventBody::Care { .. }
        )
        .then(|| (event.body.clone(), event.at));
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
        if let Some((body, at)) = service {
            self.after_services(pending, &body, at);
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
            EventBody::AlarmActed { action }
            | EventBody::DutyRecorded { action }
            | EventBody::Ticket {
                action: Some(action),
                ..
            }
            | EventBody::Care {
                action: Some(action),
                ..
            } if !topics.actions.is_empty() => Some((
                topics.action_topic(&action.console),
                outbound::action(action, event.at),
            )),
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

    fn commit(&mut self, mut pending: Pending, on_commit: Option<&mut OnCommit>) {
        if !pending.published.is_empty() {
            match self.store.mark_sent(&pending.published, Timestamp::now()) {
                Ok(marked) => {
                    self.unsent = self.unsent.saturating_sub(marked as u64);
                    pending.published.clear();
                }
                Err(error) if error.fault().is_some() => {
                    // Kept for the next attempt; sent again after a restart otherwise.
                    tracing::debug!(%error, "marking published messages failed; keeping them");
                }
                Err(error) => {
                    tracing::error!(%error, "marking published messages failed; they will be sent again");
                    pending.published.clear();
                }
            }
        }
        if pending.events.is_empty()
            && pending.devices.is_empty()
            && pending.last_message.is_none()
            && pending.bad_payloads == 0
            && pending.refused.is_empty()
            && pending.requests.is_empty()
        {
            // Nothing to write but acknowledgements of messages that
            // changed nothing, and perhaps a smaller count of waiting ones.
            self.send_acks(std::mem::take(&mut pending.acks));
            if let Some(on_commit) = on_commit
                && (pending.published.is_empty() || self.retry.is_none())
            {
                on_commit(Delta {
                    last_seq: self.projection.last_seq,
                    unsent: Some(self.unsent),
                    storage: self.storage(),
                    ..Delta::default()
                });
            }
            if !pending.published.is_empty() {
                self.held = Some(pending);
            }
            return;
        }
        if self
            .retry
            .as_ref()
            .is_some_and(|retry| Instant::now() < retry.at)
        {
            self.hold(pending, on_commit);
            return;
        }

        let batch = self.batch(&mut pending);
        match self.store.commit(&batch) {
            Ok(committed) => {
                if let Some(retry) = self.retry.take() {
                    tracing::info!(
                        attempts = retry.attempt,
                        events = batch.events.len(),
                        "the database takes writes again; held work saved"
                    );
                }
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
                for (row, _) in &batch.requests {
                    self.taken_requests.remove(row);
                }
                self.send_acks(std::mem::take(&mut pending.acks));
            }
            Err(error) if error.fault().is_some() => {
                // The work goes back to be held, in its order.
                pending.events = batch.events;
                pending.outbox = batch.outbox;
                pending.requests = batch.requests;
                self.failed(&error, &pending);
                self.hold(pending, on_commit);
                return;
            }
            Err(error) => {
                // Retrying cannot help an error that is not the disk's: the
                // batch is dropped after it is logged, requests in it are
                // refused, and the projection is reloaded so memory never
                // runs ahead of the file. The messages are acknowledged, as
                // their redelivery would fail the same way.
                tracing::error!(%error, events = batch.events.len(), "commit failed; reloading state from the database");
                self.refuse_requests(&batch.requests, &error);
                self.send_acks(std::mem::take(&mut pending.acks));
                match self.store.load_projection() {
                    Ok((mut projection, meta)) => {
                        match self.store.load_services(self.settings.services.clone()) {
                            Ok(services) => projection.services = services,
                            Err(error) => {
                                tracing::error!(%error, "reloading tickets and care records failed")
                            }
                        }
                        self.projection = projection;
                        self.meta = meta;
                    }
                    Err(error) => tracing::error!(%error, "reloading state failed"),
                }
                return;
            }
        }

        if let Some(on_commit) = on_commit {
            // The meta counts the batch's bad payloads already.
            let bad_payloads = self.meta.bad_payloads;
            on_commit(self.delta(batch, pending.refused, bad_payloads));
        }
    }

    /// Builds the transaction for what `pending` holds, with snapshots of
    /// the rows as they are now. The events, messages and requests move
    /// into the batch.
    fn batch(&self, pending: &mut Pending) -> Batch {
        Batch {
            events: std::mem::take(&mut pending.events),
            outbox: std::mem::take(&mut pending.outbox),
            requests: std::mem::take(&mut pending.requests),
            ..self.snapshot(pending)
        }
    }

    /// Returns the rows `pending` touched, as they are now and without its
    /// events, for the screen.
    fn snapshot(&self, pending: &Pending) -> Batch {
        Batch {
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
            alarms: pending
                .alarms
                .iter()
                .filter_map(|id| self.projection.alarms.get(*id).cloned())
                .collect(),
            alarm_book: pending
                .book_changed
                .then(|| self.projection.alarms.state.clone()),
            durable: pending.durable,
            last_message: pending.last_message,
            bad_payloads: pending.bad_payloads,
            ..Batch::default()
        }
    }

    /// Builds the console's delta for `batch`. The caller passes the
    /// bad-payload total to show, because only a committed batch is in the
    /// meta's count.
    fn delta(&self, batch: Batch, refused: Vec<(Uuid, Refusal)>, bad_payloads: u64) -> Delta {
        Delta {
            devices: batch.devices,
            gateways: batch.gateways,
            link: self.projection.link.clone(),
            last_message: batch.last_message.or(self.meta.last_message),
            bad_payloads,
            last_seq: self.projection.last_seq,
            alarms: batch.alarms,
            alarm_book: batch.alarm_book,
            refused,
            unsent: Some(self.unsent),
            storage: self.storage(),
            services: batch
                .events
                .iter()
                .filter(|event| {
                    matches!(
                        event.body,
                        EventBody::Ticket { .. } | EventBody::Care { .. }
                    )
                })
                .cloned()
                .collect(),
        }
    }

    fn storage(&self) -> Storage {
        match &self.retry {
            Some(retry) => Storage::Held(retry.fault.clone()),
            None => Storage::Saved,
        }
    }

    /// Schedules the next attempt after a commit the disk refused. The
    /// first failure of a spell is logged as an error, later ones once
    /// per attempt, which the backoff keeps rare.
    fn failed(&mut self, error: &StoreError, pending: &Pending) {
        let kind = error
            .fault()
            .unwrap_or(crate::domain::storage::FaultKind::Io);
        let attempt = self.retry.as_ref().map_or(1, |retry| retry.attempt + 1);
        let exponent = attempt.saturating_sub(1).min(8);
        let wait = RETRY_FIRST.saturating_mul(1 << exponent).min(RETRY_CAP);
        let now = Timestamp::now();
        let since = self.retry.as_ref().map_or(now, |retry| retry.fault.since);
        if attempt == 1 {
            tracing::error!(%error, ?kind, events = pending.events.len(), actions = pending.actions, "commit failed; holding the writes in memory and retrying");
        } else {
            tracing::warn!(%error, attempt, retry_in_s = wait.as_secs(), "commit failed again; retrying later");
        }
        self.retry = Some(Retry {
            attempt,
            at: Instant::now() + wait,
            fault: StorageFault {
                kind,
                since,
                retry_at: now + wait,
                held_events: pending.events.len(),
                held_actions: pending.actions,
                detail: error.to_string(),
            },
        });
    }

    /// Keeps `pending` for the next attempt and shows the console what it
    /// holds, so the screen stays live while the disk refuses writes.
    fn hold(&mut self, pending: Pending, on_commit: Option<&mut OnCommit>) {
        if let Some(retry) = &mut self.retry {
            retry.fault.held_events = pending.events.len();
            retry.fault.held_actions = pending.actions;
        }
        if let Some(on_commit) = on_commit {
            let rows = self.snapshot(&pending);
            let refused = pending.refused.clone();
            let bad_payloads = self.meta.bad_payloads + rows.bad_payloads;
            on_commit(self.delta(rows, refused, bad_payloads));
        }
        let mut pending = pending;
        // Refusals reached the console with the delta above.
        pending.refused.clear();
        self.held = Some(pending);
    }

    /// Refuses the requests of a batch that could not be written, in a
    /// transaction of their own, so that an attached console hears of it.
    fn refuse_requests(&mut self, requests: &[(i64, Option<String>)], error: &StoreError) {
        if requests.is_empty() {
            return;
        }
        let refused = Batch {
            requests: requests
                .iter()
                .map(|(row, _)| (*row, Some(format!("not saved: {error}"))))
                .collect(),
            ..Batch::default()
        };
        if let Err(error) = self.store.commit(&refused) {
            tracing::error!(%error, "refusing requests failed");
        }
        for (row, _) in requests {
            self.taken_requests.remove(row);
        }
    }

    fn send_acks(&self, acks: Vec<Ack>) {
        if acks.is_empty() {
            return;
        }
        if let Some(link) = &self.acks {
            let _ = link.send(acks);
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
