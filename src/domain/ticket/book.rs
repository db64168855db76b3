//! The ticket book: every ticket with its history, and the fold of ticket
//! events into it. Folding the same events in the same order always gives
//! the same book.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::reconcile::{Reconciled, RemoteTicket, reconcile};
use super::sla::OverdueNotice;
use super::state::{
    Advice, Category, Refusal, Side, TicketAction, TicketActionKind, TicketState, Urgency,
};
use crate::domain::privacy::Role;

/// Steps kept per ticket; older ones stay in the event log.
pub const HISTORY_LIMIT: usize = 200;

/// Prefix of the ids this console gives the tickets it creates.
pub const LOCAL_PREFIX: &str = "T-";

/// Operator recorded on steps that came from the MQTT record.
pub const REMOTE: &str = "mqtt";

/// Operator recorded on steps the SLA rule makes.
pub const SYSTEM: &str = "system";

/// The resident who reported the fault.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
}

/// The part of a ticket that both sides edit and that reconciliation
/// compares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketContent {
    pub state: TicketState,
    pub category: Category,
    pub urgency: Urgency,
    /// Building, unit and room, or the public place.
    pub location: String,
    pub description: String,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub reporter: Option<Reporter>,
    /// The alarm the ticket was created from.
    #[serde(default)]
    pub alarm: Option<u64>,
    /// The device to repair.
    #[serde(default)]
    pub device: Option<String>,
    /// An earlier ticket this one follows up.
    #[serde(default)]
    pub refers_to: Option<String>,
    /// The resident's rating, 1 to 5 stars.
    #[serde(default)]
    pub rating: Option<u8>,
}

/// The place where a ticket was first seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Created at a console.
    Console,
    /// First seen on `ticket/<id>`: a resident's one-tap repair or another system.
    Remote,
}

/// One entry of a ticket's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub at: Timestamp,
    /// The action, or `created`, `received`, `conflict`, `overdue_notice`.
    pub what: String,
    pub from: Option<TicketState>,
    pub to: TicketState,
    pub operator: String,
    /// Absent for steps from the MQTT record and the SLA rule.
    pub role: Option<Role>,
    pub remark: String,
    /// The ticket's version after the step.
    pub version: u64,
}

/// A ticket created at a console. The caller fills in location and
/// description, from the alarm or device when the ticket is made from one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTicket {
    pub id: String,
    pub category: Category,
    pub urgency: Urgency,
    pub location: String,
    pub description: String,
    #[serde(default)]
    pub reporter: Option<Reporter>,
    #[serde(default)]
    pub alarm: Option<u64>,
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub refers_to: Option<String>,
    /// Take `device` out of service until the repair is done.
    #[serde(default)]
    pub out_of_service: bool,
    pub operator: String,
    pub role: Role,
    #[serde(default)]
    pub remark: String,
}

/// A ticket event of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ticket_event", rename_all = "snake_case")]
pub enum TicketEvent {
    Created {
        ticket: NewTicket,
    },
    Acted {
        action: TicketAction,
    },
    /// A `ticket/<id>` record arrived; the fold reconciles it.
    Received {
        record: RemoteTicket,
    },
    /// The SLA rule raised its once-only notice for an overdue ticket.
    OverdueNoticed {
        notice: OverdueNotice,
    },
}

impl TicketEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Created { .. } => "ticket_created",
            Self::Acted { .. } => "ticket_acted",
            Self::Received { .. } => "ticket_received",
            Self::OverdueNoticed { .. } => "ticket_overdue_noticed",
        }
    }

    /// Returns the ticket the event is about.
    pub fn ticket(&self) -> &str {
        match self {
            Self::Created { ticket } => &ticket.id,
            Self::Acted { action } => &action.ticket,
            Self::Received { record } => &record.id,
            Self::OverdueNoticed { notice } => &notice.ticket,
        }
    }
}

/// A follow-up that folding an event requires of the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TicketEffect {
    /// The device's alarms are now out of service because of the ticket.
    DeviceOutOfService { device: String, ticket: String },
    /// The device is back in service: re-check its live state, because
    /// alarms that would have been raised meanwhile were not.
    DeviceReturned { device: String, ticket: String },
    /// The local ticket changed or is newer than the record: publish it.
    Publish { ticket: String },
    /// The record and the local ticket disagree; an operator must choose.
    ConflictFlagged { ticket: String },
    /// The outcome of reconciling a received record.
    Reconciled { ticket: String, outcome: Reconciled },
}

/// A record kept beside a ticket whose local content it contradicts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub remote: RemoteTicket,
    pub flagged_at: Timestamp,
}

/// A repair ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: String,
    pub origin: Origin,
    pub content: TicketContent,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When the repair was last resolved; cleared by a reopen.
    pub resolved_at: Option<Timestamp>,
    /// When it was closed or cancelled.
    pub ended_at: Option<Timestamp>,
    pub version: u64,
    /// Last version both sides are known to agree on; 0 before any.
    pub agreed: u64,
    /// Contents at the versions from `agreed` up to `version` (excluded)
    /// that the record has not shown yet, oldest first.
    pub unconfirmed: Vec<(u64, TicketContent)>,
    /// `content.device` is out of service because of this ticket.
    pub out_of_service: bool,
    /// The overdue notice was raised; it is raised once per ticket.
    pub overdue_noticed: bool,
    pub conflict: Option<Conflict>,
    /// Newest last, at most [`HISTORY_LIMIT`].
    pub history: Vec<Step>,
}

impl Ticket {
    pub fn state(&self) -> TicketState {
        self.content.state
    }

    /// Returns the content this console had at `version`, if it still stores it.
    pub fn content_at(&self, version: u64) -> Option<&TicketContent> {
        if version == self.version {
            return Some(&self.content);
        }
        self.unconfirmed
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, content)| content)
    }

    /// Returns the device out of service because of this ticket, if any. The
    /// device returns to service when the ticket is resolved, closed or
    /// cancelled, because the repair is then over.
    pub fn device_out_of_service(&self) -> Option<&str> {
        self.content
            .device
            .as_deref()
            .filter(|_| self.out_of_service && self.state().is_open())
    }

    fn record(&mut self, step: Step) {
        if self.history.len() == HISTORY_LIMIT {
            self.history.remove(0);
        }
        self.history.push(step);
    }

    /// Replaces the content with a local change and counts a new version.
    fn change_locally(&mut self, content: TicketContent) {
        let previous = std::mem::replace(&mut self.content, content);
        self.unconfirmed.push((self.version, previous));
        self.version += 1;
    }

    /// Marks `version` as agreed and drops the contents before it.
    fn agree(&mut self, version: u64) {
        self.agreed = self.agreed.max(version);
        let agreed = self.agreed;
        self.unconfirmed.retain(|(v, _)| *v >= agreed);
    }

    fn stamp_times(&mut self, from: TicketState, at: Timestamp) {
        let to = self.state();
        if to == TicketState::AwaitingRating && from != to {
            self.resolved_at = Some(at);
        }
        if to == TicketState::InProgress && from == TicketState::AwaitingRating {
            self.resolved_at = None;
        }
        if to.is_final() && !from.is_final() {
            self.ended_at = Some(at);
        }
    }
}

/// Every ticket, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TicketBook {
    pub tickets: BTreeMap<String, Ticket>,
    /// Highest number `n` of a `T-<n>` id seen.
    last_local: u64,
}

impl TicketBook {
    /// Folds `events` into an empty book.
    pub fn replay<'a>(events: impl IntoIterator<Item = (Timestamp, &'a TicketEvent)>) -> Self {
        let mut book = Self::default();
        for (at, event) in events {
            book.apply(event, at);
        }
        book
    }

    pub fn get(&self, id: &str) -> Option<&Ticket> {
        self.tickets.get(id)
    }

    /// Returns the id for the next ticket created here: `T-<n>`.
    pub fn next_id(&self) -> String {
        format!("{LOCAL_PREFIX}{}", self.last_local + 1)
    }

    /// Tickets whose repair is still to be done.
    pub fn open(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets.values().filter(|t| t.state().is_open())
    }

    /// Tickets whose local and remote versions disagree.
    pub fn conflicts(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets.values().filter(|t| t.conflict.is_some())
    }

    /// Devices whose alarms are out of service because their ticket is
    /// open, with that ticket's id.
    pub fn out_of_service(&self) -> BTreeMap<&str, &str> {
        self.tickets
            .values()
            .filter_map(|t| Some((t.device_out_of_service()?, t.id.as_str())))
            .collect()
    }

    /// Returns the open ticket that keeps `device` out of service, if any.
    pub fn out_of_service_by(&self, device: &str) -> Option<&str> {
        self.tickets
            .values()
            .find(|t| t.device_out_of_service() == Some(device))
            .map(|t| t.id.as_str())
    }

    /// Returns what folding `record` would do, without changing the book.
    pub fn reconcile(&self, record: &RemoteTicket) -> Reconciled {
        reconcile(self.tickets.get(&record.id), record)
    }

    /// Checks a new ticket against the book, without changing it.
    pub fn check_new(&self, new: &NewTicket) -> Result<(), Refusal> {
        if self.tickets.contains_key(&new.id) {
            return Err(Refusal::Exists(new.id.clone()));
        }
        if new.description.trim().is_empty() {
            return Err(Refusal::EmptyDescription(new.id.clone()));
        }
        if let Some(refers_to) = &new.refers_to
            && !self.tickets.contains_key(refers_to)
        {
            return Err(Refusal::UnknownReference {
                ticket: new.id.clone(),
                refers_to: refers_to.clone(),
            });
        }
        if new.out_of_service {
            let Some(device) = &new.device else {
                return Err(Refusal::NoDevice(new.id.clone()));
            };
            if let Some(ticket) = self.out_of_service_by(device) {
                return Err(Refusal::AlreadyOutOfService {
                    ticket: ticket.to_owned(),
                    device: device.clone(),
                });
            }
            if new.remark.trim().is_empty() {
                return Err(Refusal::RemarkRequired {
                    ticket: new.id.clone(),
                    action: "take_out_of_service",
                    what: "say why the device is taken out of service",
                });
            }
        }
        Ok(())
    }

    /// Checks an action against the current state, without changing it.
    pub fn check(&self, action: &TicketAction) -> Result<(), Refusal> {
        let id = &action.ticket;
        let Some(ticket) = self.tickets.get(id) else {
            return Err(Refusal::Unknown(id.clone()));
        };
        let kind = &action.kind;

        if let TicketActionKind::ResolveConflict { .. } = kind {
            return match ticket.conflict {
                Some(_) => Ok(()),
                None => Err(Refusal::NoConflict(id.clone())),
            };
        }
        if ticket.conflict.is_some() && !matches!(kind, TicketActionKind::Note) {
            return Err(Refusal::Conflict(id.clone()));
        }
        if kind.next_state(ticket.state()).is_none() {
            return Err(Refusal::NotAllowed {
                ticket: id.clone(),
                state: ticket.state(),
                action: kind.as_str(),
                advice: Advice::for_refused(ticket.state(), kind),
            });
        }

        match kind {
            TicketActionKind::Assign { assignee } | TicketActionKind::Transfer { assignee } => {
                let assignee = assignee.trim();
                if assignee.is_empty() {
                    return Err(Refusal::NoAssignee(id.clone()));
                }
                if ticket.content.assignee.as_deref() == Some(assignee) {
                    return Err(Refusal::SameAssignee {
                        ticket: id.clone(),
                        assignee: assignee.to_owned(),
                    });
                }
            }
            TicketActionKind::Close {
                rating: Some(rating),
            } if !(1..=5).contains(rating) => {
                return Err(Refusal::Rating {
                    ticket: id.clone(),
                    rating: *rating,
                });
            }
            TicketActionKind::TakeOutOfService | TicketActionKind::ReturnToService => {
                let Some(device) = &ticket.content.device else {
                    return Err(Refusal::NoDevice(id.clone()));
                };
                let taking = matches!(kind, TicketActionKind::TakeOutOfService);
                if taking && let Some(holder) = self.out_of_service_by(device) {
                    return Err(Refusal::AlreadyOutOfService {
                        ticket: holder.to_owned(),
                        device: device.clone(),
                    });
                }
                if !taking && !ticket.out_of_service {
                    return Err(Refusal::NotOutOfService {
                        ticket: id.clone(),
                        device: device.clone(),
                    });
                }
            }
            _ => {}
        }

        if let Some(what) = kind.remark_required()
            && action.remark.trim().is_empty()
        {
            return Err(Refusal::RemarkRequired {
                ticket: id.clone(),
                action: kind.as_str(),
                what,
            });
        }
        Ok(())
    }

    /// Folds an event in and returns what the caller must do about it.
    /// Events in the log were checked when they were made, so one that no
    /// longer fits changes nothing.
    pub fn apply(&mut self, event: &TicketEvent, at: Timestamp) -> Vec<TicketEffect> {
        match event {
            TicketEvent::Created { ticket } => self.create(ticket, at),
            TicketEvent::Acted { action } => self.act(action, at),
            TicketEvent::Received { record } => self.receive(record, at),
            TicketEvent::OverdueNoticed { notice } => {
                if let Some(ticket) = self.tickets.get_mut(&notice.ticket) {
                    ticket.overdue_noticed = true;
                    let state = ticket.state();
                    let version = ticket.version;
                    ticket.record(Step {
                        at,
                        what: "overdue_notice".into(),
                        from: Some(state),
                        to: state,
                        operator: SYSTEM.into(),
                        role: None,
                        remark: String::new(),
                        version,
                    });
                }
                Vec::new()
            }
        }
    }

    fn note_local_id(&mut self, id: &str) {
        if let Some(n) = id
            .strip_prefix(LOCAL_PREFIX)
            .and_then(|n| n.parse::<u64>().ok())
        {
            self.last_local = self.last_local.max(n);
        }
    }

    fn create(&mut self, new: &NewTicket, at: Timestamp) -> Vec<TicketEffect> {
        if self.tickets.contains_key(&new.id) {
            return Vec::new();
        }
        self.note_local_id(&new.id);
        let out_of_service = new.out_of_service
            && new
                .device
                .as_deref()
                .is_some_and(|device| self.out_of_service_by(device).is_none());
        let mut ticket = Ticket {
            id: new.id.clone(),
            origin: Origin::Console,
            content: TicketContent {
                state: TicketState::New,
                category: new.category,
                urgency: new.urgency,
                location: new.location.clone(),
                description: new.description.clone(),
                assignee: None,
                reporter: new.reporter.clone(),
                alarm: new.alarm,
                device: new.device.clone(),
                refers_to: new.refers_to.clone(),
                rating: None,
            },
            created_at: at,
            updated_at: at,
            resolved_at: None,
            ended_at: None,
            version: 1,
            agreed: 0,
            unconfirmed: Vec::new(),
            out_of_service,
            overdue_noticed: false,
            conflict: None,
            history: Vec::new(),
        };
        ticket.record(Step {
            at,
            what: "created".into(),
            from: None,
            to: TicketState::New,
            operator: new.operator.clone(),
            role: Some(new.role),
            remark: new.remark.clone(),
            version: 1,
        });

        let mut effects = vec![TicketEffect::Publish {
            ticket: new.id.clone(),
        }];
        if let Some(device) = ticket.device_out_of_service() {
            effects.push(TicketEffect::DeviceOutOfService {
                device: device.to_owned(),
                ticket: new.id.clone(),
            });
        }
        self.tickets.insert(new.id.clone(), ticket);
        effects
    }

    fn act(&mut self, action: &TicketAction, at: Timestamp) -> Vec<TicketEffect> {
        if self.check(action).is_err() {
            return Vec::new();
        }
        let Some(ticket) = self.tickets.get_mut(&action.ticket) else {
            return Vec::new();
        };
        let from = ticket.state();
        let device_before = ticket.device_out_of_service().map(str::to_owned);
        let mut effects = Vec::new();

        let mut content = ticket.content.clone();
        content.state = action.kind.next_state(from).unwrap_or(from);
        match &action.kind {
            TicketActionKind::Assign { assignee } | TicketActionKind::Transfer { assignee } => {
                content.assignee = Some(assignee.trim().to_owned());
            }
            TicketActionKind::Return => content.assignee = None,
            TicketActionKind::Close { rating } => content.rating = *rating,
            TicketActionKind::TakeOutOfService => ticket.out_of_service = true,
            TicketActionKind::ReturnToService => ticket.out_of_service = false,
            TicketActionKind::ResolveConflict { keep } => {
                if let Some(conflict) = ticket.conflict.take() {
                    resolve_conflict(ticket, conflict, *keep);
                    effects.push(TicketEffect::Publish {
                        ticket: ticket.id.clone(),
                    });
                }
                content = ticket.content.clone();
            }
            TicketActionKind::Accept
            | TicketActionKind::Resolve
            | TicketActionKind::Reopen
            | TicketActionKind::Cancel
            | TicketActionKind::Note => {}
        }

        if content != ticket.content {
            ticket.change_locally(content);
            effects.push(TicketEffect::Publish {
                ticket: ticket.id.clone(),
            });
        }
        if !ticket.state().is_open() {
            ticket.out_of_service = false;
        }
        ticket.stamp_times(from, at);
        ticket.updated_at = at;
        let to = ticket.state();
        let version = ticket.version;
        ticket.record(Step {
            at,
            what: action.kind.as_str().into(),
            from: Some(from),
            to,
            operator: action.operator.clone(),
            role: Some(action.role),
            remark: action.remark.clone(),
            version,
        });

        effects.extend(device_effects(
            &ticket.id,
            device_before,
            ticket.device_out_of_service(),
        ));
        effects
    }

    fn receive(&mut self, record: &RemoteTicket, at: Timestamp) -> Vec<TicketEffect> {
        let outcome = self.reconcile(record);
        let mut effects = Vec::new();
        match &outcome {
            Reconciled::Added => {
                self.note_local_id(&record.id);
                let mut ticket = Ticket {
                    id: record.id.clone(),
                    origin: Origin::Remote,
                    content: record.content.clone(),
                    created_at: record.created_at,
                    updated_at: record.updated_at,
                    resolved_at: None,
                    ended_at: None,
                    version: record.version,
                    agreed: record.version,
                    unconfirmed: Vec::new(),
                    out_of_service: false,
                    overdue_noticed: false,
                    conflict: None,
                    history: Vec::new(),
                };
                if ticket.state() == TicketState::AwaitingRating {
                    ticket.resolved_at = Some(record.updated_at);
                }
                if ticket.state().is_final() {
                    ticket.ended_at = Some(record.updated_at);
                }
                ticket.record(received_step(record, None, at));
                self.tickets.insert(record.id.clone(), ticket);
            }
            Reconciled::RemoteNewer { .. } => {
                if let Some(ticket) = self.tickets.get_mut(&record.id) {
                    let from = ticket.state();
                    let device_before = ticket.device_out_of_service().map(str::to_owned);
                    take_remote(ticket, record);
                    ticket.stamp_times(from, record.updated_at);
                    ticket.record(received_step(record, Some(from), at));
                    effects.extend(device_effects(
                        &ticket.id,
                        device_before,
                        ticket.device_out_of_service(),
                    ));
                }
            }
            Reconciled::InSync => {
                if let Some(ticket) = self.tickets.get_mut(&record.id) {
                    ticket.agree(record.version);
                }
            }
            Reconciled::LocalNewer { .. } => {
                if let Some(ticket) = self.tickets.get_mut(&record.id) {
                    ticket.agree(record.version);
                }
                effects.push(TicketEffect::Publish {
                    ticket: record.id.clone(),
                });
            }
            Reconciled::Stale { .. } => {}
            Reconciled::Conflict { .. } => {
                if let Some(ticket) = self.tickets.get_mut(&record.id) {
                    ticket.conflict = Some(Conflict {
                        remote: record.clone(),
                        flagged_at: at,
                    });
                    let state = ticket.state();
                    let version = ticket.version;
                    ticket.record(Step {
                        at,
                        what: "conflict".into(),
                        from: Some(state),
                        to: state,
                        operator: REMOTE.into(),
                        role: None,
                        remark: format!(
                            "the record's version {} disagrees with version {version} here",
                            record.version
                        ),
                        version,
                    });
                }
                effects.push(TicketEffect::ConflictFlagged {
                    ticket: record.id.clone(),
                });
            }
        }
        effects.push(TicketEffect::Reconciled {
            ticket: record.id.clone(),
            outcome,
        });
        effects
    }
}

/// Ends a conflict with the side the operator keeps. The result gets a
/// version above both sides', so that whichever side receives it next takes it,
/// and every version up to both sides' is settled: a redelivery of either
/// is stale.
fn resolve_conflict(ticket: &mut Ticket, conflict: Conflict, keep: Side) {
    let remote = conflict.remote;
    let top = ticket.version.max(remote.version);
    if keep == Side::Remote {
        ticket.content = remote.content;
    }
    ticket.agreed = top;
    ticket.unconfirmed.clear();
    ticket.version = top + 1;
}

fn take_remote(ticket: &mut Ticket, record: &RemoteTicket) {
    ticket.content = record.content.clone();
    ticket.version = record.version;
    ticket.unconfirmed.clear();
    ticket.agreed = record.version;
    ticket.updated_at = record.updated_at;
    if !ticket.state().is_open() {
        ticket.out_of_service = false;
    }
}

fn received_step(record: &RemoteTicket, from: Option<TicketState>, at: Timestamp) -> Step {
    Step {
        at,
        what: "received".into(),
        from,
        to: record.content.state,
        operator: REMOTE.into(),
        role: None,
        remark: String::new(),
        version: record.version,
    }
}

fn device_effects(ticket: &str, before: Option<String>, after: Option<&str>) -> Vec<TicketEffect> {
    match (before, after) {
        (Some(device), None) => vec![TicketEffect::DeviceReturned {
            device,
            ticket: ticket.to_owned(),
        }],
        (None, Some(device)) => vec![TicketEffect::DeviceOutOfService {
            device: device.to_owned(),
            ticket: ticket.to_owned(),
        }],
        _ => Vec::new(),
    }
}
