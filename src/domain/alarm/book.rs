//! The alarm book: every open alarm, the recently closed ones, and the fold
//! of alarm events into them.

use std::collections::{BTreeMap, HashMap, VecDeque};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::change::{Action, ActionKind, Change, Flood, Raise, SYSTEM};
use super::condition::{Condition, Disposition, Priority};
use super::record::{Alarm, Closure, Shelving, Shown, Transition};

/// Closed alarms kept in memory for the history view; the log keeps all.
pub const CLOSED_KEPT: usize = 1_000;

/// A source toggling this many times within the window is chattering.
pub const CHATTER_COUNT: usize = 3;
pub const CHATTER_WINDOW_S: i64 = 60;

/// New alarms are counted over this window for the flood rate (EEMUA 191).
pub const FLOOD_WINDOW_S: i64 = 600;

/// A flood in progress.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloodState {
    pub started: Option<Timestamp>,
    pub raised: u32,
    pub peak_rate: u32,
    pub by_condition: BTreeMap<Condition, u32>,
}

/// A device taken out of service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutOfService {
    pub since: Timestamp,
    pub by: String,
    pub remark: String,
}

/// Book-wide state that is not one alarm's: stored as one small record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookState {
    pub next_id: u64,
    pub flood: Option<FloodState>,
    pub silenced_at: Option<Timestamp>,
    pub out_of_service: BTreeMap<String, OutOfService>,
}

#[derive(Clone, Debug, Default)]
pub struct AlarmBook {
    pub open: BTreeMap<u64, Alarm>,
    /// Most recently closed last.
    pub closed: VecDeque<Alarm>,
    pub state: BookState,
    by_source: SourceIndex,
    /// Raise times of recent alarms, for the flood rate.
    recent_raises: VecDeque<Timestamp>,
}

/// Two books are equal when their alarms and state are; the indexes and
/// the rate window are derived from those.
impl PartialEq for AlarmBook {
    fn eq(&self, other: &Self) -> bool {
        self.open == other.open && self.closed == other.closed && self.state == other.state
    }
}

/// Reason an action is rejected, translated on screen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("alarm {0} does not exist")]
    Unknown(u64),
    #[error("alarm {0} is already closed")]
    Closed(u64),
    #[error("alarm {0} is already acknowledged")]
    AlreadyAcknowledged(u64),
    #[error("a P1 alarm is never shelved")]
    ShelveP1,
    #[error("alarm {0} is already shelved")]
    AlreadyShelved(u64),
    #[error("alarm {0} is not shelved")]
    NotShelved(u64),
    #[error("the shelving must end in the future and within {max_h} h")]
    ShelveTime { max_h: u32 },
    #[error(
        "alarm {0} is latched and still active: it cannot be closed before its condition clears and it is reset"
    )]
    LatchedActive(u64),
    #[error("alarm {0} is latched: reset it before closing")]
    NeedsReset(u64),
    #[error("alarm {0} is not latched")]
    NotLatched(u64),
    #[error("alarm {0} is still active: its condition must clear before a reset")]
    StillActive(u64),
    #[error("alarm {0} is not acknowledged: acknowledge it before the reset")]
    NotAcknowledged(u64),
    #[error("a remark is required for {0}")]
    RemarkRequired(&'static str),
    #[error("no alarm is sounding")]
    NothingSounding,
    #[error("device {0} is already in that service state")]
    ServiceUnchanged(String),
    /// The operator's role lacks the permission the action needs.
    #[error("role {role} may not {action}; ask a supervisor")]
    NotPermitted {
        role: crate::domain::operator::Role,
        action: crate::domain::operator::Permission,
    },
    #[error("operator {0} is not registered; log in as a registered operator")]
    UnknownOperator(String),
    #[error("operator {0} is disabled; a supervisor can enable them again")]
    DisabledOperator(String),
    /// Operators are registered and nobody is logged in at this console.
    #[error("nobody is logged in at this console")]
    NotLoggedIn,
    /// A review console changes nothing.
    #[error("this console is read-only")]
    ReadOnly,
    /// Refused by the recorder for a console attached to it; the recorder's
    /// reason, in English.
    #[error("the recorder refused the action: {0}")]
    ByRecorder(String),
    /// The ticket book rejected a ticket action or a new ticket.
    #[error(transparent)]
    Ticket(#[from] crate::domain::ticket::Refusal),
    /// The eldercare engine rejected an outcome.
    #[error(transparent)]
    Care(#[from] crate::domain::care::CareRefusal),
    /// The operator's role may not reveal this kind of personal data.
    #[error(transparent)]
    Reveal(#[from] crate::domain::privacy::RevealRefused),
}

impl Refusal {
    /// Stable code for the message catalog.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unknown(_) => "unknown",
            Self::ByRecorder(_) => "by_recorder",
            Self::Closed(_) => "closed",
            Self::AlreadyAcknowledged(_) => "already_acknowledged",
            Self::ShelveP1 => "shelve_p1",
            Self::AlreadyShelved(_) => "already_shelved",
            Self::NotShelved(_) => "not_shelved",
            Self::ShelveTime { .. } => "shelve_time",
            Self::LatchedActive(_) => "latched_active",
            Self::NeedsReset(_) => "needs_reset",
            Self::NotLatched(_) => "not_latched",
            Self::StillActive(_) => "still_active",
            Self::NotAcknowledged(_) => "not_acknowledged",
            Self::RemarkRequired(_) => "remark_required",
            Self::NothingSounding => "nothing_sounding",
            Self::ServiceUnchanged(_) => "service_unchanged",
            Self::NotPermitted { .. } => "not_permitted",
            Self::UnknownOperator(_) => "unknown_operator",
            Self::DisabledOperator(_) => "disabled_operator",
            Self::NotLoggedIn => "not_logged_in",
            Self::ReadOnly => "read_only",
            Self::Ticket(_) => "ticket",
            Self::Care(_) => "care",
            Self::Reveal(_) => "reveal",
        }
    }
}

/// Longest timed shelving an operator may choose.
pub const MAX_SHELVE_H: u32 = 24;

impl AlarmBook {
    /// Rebuilds the book from stored alarms and its stored state.
    pub fn restore(alarms: Vec<Alarm>, state: BookState) -> Self {
        let mut book = Self {
            state,
            ..Self::default()
        };
        let mut closed: Vec<Alarm> = Vec::new();
        for alarm in alarms {
            book.state.next_id = book.state.next_id.max(alarm.id + 1);
            book.recent_raises.push_back(alarm.raised_at);
            if alarm.is_open() {
                book.by_source
                    .insert(&alarm.source, alarm.condition, alarm.id);
                book.open.insert(alarm.id, alarm);
            } else {
                closed.push(alarm);
            }
        }
        closed.sort_by_key(|alarm| (alarm.closed.as_ref().map(|c| c.at), alarm.id));
        let skip = closed.len().saturating_sub(CLOSED_KEPT);
        book.closed = closed.into_iter().skip(skip).collect();
        book.recent_raises.make_contiguous().sort();
        book
    }

    pub fn get(&self, id: u64) -> Option<&Alarm> {
        self.open
            .get(&id)
            .or_else(|| self.closed.iter().rev().find(|alarm| alarm.id == id))
    }

    /// Returns the open alarm for a source and condition.
    pub fn open_for(&self, source: &str, condition: Condition) -> Option<&Alarm> {
        self.by_source
            .get(source, condition)
            .and_then(|id| self.open.get(&id))
    }

    pub fn open_for_source<'a>(&'a self, source: &'a str) -> impl Iterator<Item = &'a Alarm> + 'a {
        Condition::ALL
            .iter()
            .filter_map(move |condition| self.open_for(source, *condition))
    }

    pub fn next_id(&self) -> u64 {
        self.state.next_id.max(1)
    }

    /// New alarms raised within `window_s` seconds before `now`.
    pub fn rate(&self, now: Timestamp, window_s: i64) -> u32 {
        let count = self
            .recent_raises
            .iter()
            .rev()
            .take_while(|at| now.duration_since(**at).as_secs() < window_s)
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    pub fn in_flood(&self) -> bool {
        self.state.flood.is_some()
    }

    pub fn is_out_of_service(&self, device: &str) -> bool {
        self.state.out_of_service.contains_key(device)
    }

    /// Alarms sounding now and not silenced since they started sounding.
    pub fn sounding(&self) -> impl Iterator<Item = &Alarm> {
        let silenced = self.state.silenced_at;
        self.open.values().filter(move |alarm| {
            alarm.sounding() && silenced.is_none_or(|at| alarm.sounding_since > at)
        })
    }

    /// Checks an action against the current state, without changing it.
    pub fn check(&self, action: &Action, now: Timestamp) -> Result<(), Refusal> {
        let remark = action.remark.trim();
        if !action.kind.is_alarm() {
            // The duty log's actions do not touch the book.
            if let ActionKind::Note { .. } = action.kind
                && remark.is_empty()
            {
                return Err(Refusal::RemarkRequired("note"));
            }
            return Ok(());
        }
        if let ActionKind::Silence = action.kind {
            return if self.sounding().next().is_some() {
                Ok(())
            } else {
                Err(Refusal::NothingSounding)
            };
        }
        if let ActionKind::OutOfService { device, on } = &action.kind {
            if self.is_out_of_service(device) == *on {
                return Err(Refusal::ServiceUnchanged(device.clone()));
            }
            if *on && remark.is_empty() {
                return Err(Refusal::RemarkRequired("out_of_service"));
            }
            return Ok(());
        }

        let id = action.alarm.unwrap_or(0);
        let alarm = match self.open.get(&id) {
            Some(alarm) => alarm,
            None if matches!(action.kind, ActionKind::Remark) && self.get(id).is_some() => {
                return if remark.is_empty() {
                    Err(Refusal::RemarkRequired("remark"))
                } else {
                    Ok(())
                };
            }
            None if self.get(id).is_some() => return Err(Refusal::Closed(id)),
            None => return Err(Refusal::Unknown(id)),
        };

        match &action.kind {
            ActionKind::Acknowledge => {
                if alarm.acknowledged {
                    return Err(Refusal::AlreadyAcknowledged(id));
                }
            }
            ActionKind::Close { disposition } => {
                if alarm.latched && alarm.active {
                    return Err(Refusal::LatchedActive(id));
                }
                if alarm.latched {
                    return Err(Refusal::NeedsReset(id));
                }
                if *disposition == Disposition::FalseAlarm && remark.is_empty() {
                    return Err(Refusal::RemarkRequired("false_alarm"));
                }
                if alarm.active && !alarm.momentary && remark.is_empty() {
                    return Err(Refusal::RemarkRequired("force_close"));
                }
            }
            ActionKind::Reset => {
                if !alarm.latched {
                    return Err(Refusal::NotLatched(id));
                }
                if alarm.active && !alarm.momentary {
                    return Err(Refusal::StillActive(id));
                }
                // The reset ends the latch; someone must have seen the alarm first.
                if !alarm.acknowledged {
                    return Err(Refusal::NotAcknowledged(id));
                }
            }
            ActionKind::Shelve { until } => {
                if alarm.priority == Priority::P1 {
                    return Err(Refusal::ShelveP1);
                }
                if alarm.shelved.is_some() {
                    return Err(Refusal::AlreadyShelved(id));
                }
                if remark.is_empty() {
                    return Err(Refusal::RemarkRequired("shelve"));
                }
                if let Some(until) = until {
                    let hours = until.duration_since(now).as_secs_f64() / 3600.0;
                    if hours <= 0.0 || hours > f64::from(MAX_SHELVE_H) {
                        return Err(Refusal::ShelveTime {
                            max_h: MAX_SHELVE_H,
                        });
                    }
                }
            }
            ActionKind::Unshelve => {
                if alarm.shelved.is_none() {
                    return Err(Refusal::NotShelved(id));
                }
            }
            ActionKind::Remark => {
                if remark.is_empty() {
                    return Err(Refusal::RemarkRequired("remark"));
                }
            }
            ActionKind::Silence
            | ActionKind::OutOfService { .. }
            | ActionKind::Note { .. }
            | ActionKind::LogIn
            | ActionKind::LogOut
            | ActionKind::HandOver { .. }
            | ActionKind::TakeOver { .. }
            | ActionKind::OperatorChanged { .. }
            | ActionKind::TicketAct { .. }
            | ActionKind::CreateTicket { .. }
            | ActionKind::CareOutcome { .. }
            | ActionKind::Reveal { .. } => {}
        }
        Ok(())
    }

    /// Folds a new alarm in.
    pub fn raise(&mut self, raise: &Raise, at: Timestamp) {
        let mut alarm = Alarm::new(raise, at);
        if self.is_out_of_service(raise.device.as_deref().unwrap_or_default()) {
            alarm.out_of_service = true;
        }
        let shown = alarm.shown();
        alarm.record(Transition::by_system(at, "raised", None, shown));
        self.state.next_id = self.state.next_id.max(raise.alarm + 1);
        self.recent_raises.push_back(at);

        // Only the flood window matters, so older raises go; what is left is
        // the rate at `at`, without walking the window for every raise.
        while self.recent_raises.len() > 20_000
            || self
                .recent_raises
                .front()
                .is_some_and(|first| at.duration_since(*first).as_secs() >= FLOOD_WINDOW_S)
        {
            self.recent_raises.pop_front();
        }
        let rate = u32::try_from(self.recent_raises.len()).unwrap_or(u32::MAX);
        if let Some(flood) = &mut self.state.flood {
            flood.peak_rate = flood.peak_rate.max(rate);
            flood.raised += 1;
            *flood.by_condition.entry(raise.condition).or_default() += 1;
        }
        if let Some(previous) = self
            .by_source
            .insert(&alarm.source, alarm.condition, alarm.id)
            .and_then(|id| self.open.remove(&id))
        {
            // Two open alarms for one source and condition cannot exist; a
            // log that shows otherwise keeps the newer one in the queue.
            self.push_closed(previous);
        }
        self.open.insert(alarm.id, alarm);
    }

    /// Folds a rule's change to an open alarm in.
    pub fn change(&mut self, id: u64, change: &Change, at: Timestamp) {
        let Some(alarm) = self.open.get_mut(&id) else {
            return;
        };
        let from = alarm.shown();
        match change {
            Change::Repeated => {
                alarm.occurrences = alarm.occurrences.saturating_add(1);
                alarm.last_at = at;
                if !alarm.active || alarm.momentary {
                    alarm.acknowledged = false;
                    alarm.acknowledged_at = None;
                    alarm.sounding_since = at;
                    alarm.escalations = 0;
                }
                alarm.active = true;
                alarm.latched |= alarm.condition.latches();
                alarm.activated(at, CHATTER_COUNT, CHATTER_WINDOW_S);
            }
            Change::Cleared => {
                alarm.active = false;
                if alarm.shelved.as_ref().is_some_and(|s| s.until.is_none()) {
                    alarm.shelved = None;
                }
            }
            Change::Escalated => {
                alarm.escalations += 1;
                alarm.sounding_since = at;
            }
            Change::ShelveExpired => alarm.shelved = None,
            Change::Suppressed { on } => {
                alarm.suppressed = *on && alarm.priority != Priority::P1;
            }
            Change::Flapped { count } => alarm.flaps = *count,
            Change::Staged { priority, .. } => {
                alarm.priority = *priority;
                alarm.last_at = at;
                alarm.acknowledged = false;
                alarm.acknowledged_at = None;
                alarm.sounding_since = at;
                alarm.escalations = 0;
                alarm.active = true;
            }
            Change::StillActive => {
                alarm.last_at = at;
                alarm.acknowledged = false;
                alarm.acknowledged_at = None;
                alarm.sounding_since = at;
                alarm.escalations = 0;
            }
            Change::ClosedAtSource => {
                alarm.active = false;
                alarm.latched = false;
                alarm.closed = Some(Closure {
                    at,
                    disposition: Disposition::ClosedAtSource,
                    by: SYSTEM.into(),
                });
            }
        }
        let to = alarm.shown();
        let quiet = matches!(change, Change::Repeated | Change::Flapped { .. }) && from == to;
        if !quiet {
            alarm.record(Transition::by_system(at, change.as_str(), Some(from), to));
        }
        if to == Shown::Closed {
            self.close_out(id);
        }
    }

    /// Folds an operator's action in. Actions in the log were checked when
    /// they were taken, so one that no longer fits changes nothing.
    pub fn act(&mut self, action: &Action, at: Timestamp) {
        if !action.kind.is_alarm() {
            return;
        }
        match &action.kind {
            ActionKind::Silence => {
                self.state.silenced_at = Some(at);
                return;
            }
            ActionKind::OutOfService { device, on } => {
                if *on {
                    self.state.out_of_service.insert(
                        device.clone(),
                        OutOfService {
                            since: at,
                            by: action.operator.clone(),
                            remark: action.remark.clone(),
                        },
                    );
                } else {
                    self.state.out_of_service.remove(device);
                }
            }
            _ => {}
        }

        let Some(id) = action.alarm else { return };
        let alarm = if let Some(alarm) = self.open.get_mut(&id) {
            alarm
        } else if let Some(alarm) = self.closed.iter_mut().rev().find(|a| a.id == id) {
            // Only a remark reaches a closed alarm.
            if matches!(action.kind, ActionKind::Remark) {
                alarm.record(transition(action, at, Shown::Closed, Shown::Closed));
            }
            return;
        } else {
            return;
        };

        let from = alarm.shown();
        match &action.kind {
            ActionKind::Acknowledge => acknowledge(alarm, at),
            ActionKind::Close { disposition } => {
                acknowledge(alarm, at);
                alarm.latched = false;
                alarm.closed = Some(Closure {
                    at,
                    disposition: *disposition,
                    by: action.operator.clone(),
                });
            }
            ActionKind::Reset => {
                alarm.latched = false;
                if alarm.momentary {
                    alarm.active = false;
                }
            }
            ActionKind::Shelve { until } => {
                alarm.shelved = Some(Shelving {
                    until: *until,
                    by: action.operator.clone(),
                    reason: action.remark.clone(),
                });
            }
            ActionKind::Unshelve => alarm.shelved = None,
            ActionKind::OutOfService { on, .. } => alarm.out_of_service = *on,
            ActionKind::Remark
            | ActionKind::Silence
            | ActionKind::Note { .. }
            | ActionKind::LogIn
            | ActionKind::LogOut
            | ActionKind::HandOver { .. }
            | ActionKind::TakeOver { .. }
            | ActionKind::OperatorChanged { .. }
            | ActionKind::TicketAct { .. }
            | ActionKind::CreateTicket { .. }
            | ActionKind::CareOutcome { .. }
            | ActionKind::Reveal { .. } => {}
        }
        let to = alarm.shown();
        alarm.record(transition(action, at, from, to));

        if let ActionKind::OutOfService { device, on } = &action.kind {
            for other in self.open.values_mut() {
                if other.device.as_deref() == Some(device) {
                    other.out_of_service = *on;
                }
            }
        }
        if to == Shown::Closed {
            self.close_out(id);
        }
    }

    /// Folds the start or end of a flood in.
    pub fn flood(&mut self, flood: &Flood, at: Timestamp) {
        match flood {
            Flood::Started { rate } => {
                // The alarms that made the flood belong to its summary.
                let mut by_condition = BTreeMap::new();
                let mut raised = 0;
                for alarm in self.open.values().chain(self.closed.iter()) {
                    if at.duration_since(alarm.raised_at).as_secs() < FLOOD_WINDOW_S {
                        *by_condition.entry(alarm.condition).or_default() += 1;
                        raised += 1;
                    }
                }
                self.state.flood = Some(FloodState {
                    started: Some(at),
                    raised,
                    peak_rate: *rate,
                    by_condition,
                });
            }
            Flood::Ended { .. } => self.state.flood = None,
        }
    }

    /// Replaces one alarm with a newer copy of it, as a console following
    /// the recorder receives it.
    pub fn upsert(&mut self, alarm: Alarm) {
        let known =
            self.open.contains_key(&alarm.id) || self.closed.iter().any(|a| a.id == alarm.id);
        if !known {
            self.recent_raises.push_back(alarm.raised_at);
        }
        self.state.next_id = self.state.next_id.max(alarm.id + 1);
        if alarm.is_open() {
            self.closed.retain(|a| a.id != alarm.id);
            self.by_source
                .insert(&alarm.source, alarm.condition, alarm.id);
            self.open.insert(alarm.id, alarm);
        } else {
            let id = alarm.id;
            self.open.remove(&id);
            self.by_source.remove(&alarm.source, alarm.condition, id);
            match self.closed.iter_mut().find(|a| a.id == id) {
                Some(slot) => *slot = alarm,
                None => self.push_closed(alarm),
            }
        }
    }

    fn close_out(&mut self, id: u64) {
        if let Some(alarm) = self.open.remove(&id) {
            self.by_source.remove(&alarm.source, alarm.condition, id);
            self.push_closed(alarm);
        }
    }

    fn push_closed(&mut self, alarm: Alarm) {
        if self.closed.len() == CLOSED_KEPT {
            self.closed.pop_front();
        }
        self.closed.push_back(alarm);
    }
}

/// Open alarm ids by source and condition, looked up by `&str` so that the
/// rules need no allocation per check.
#[derive(Clone, Debug, Default)]
struct SourceIndex(HashMap<String, Vec<(Condition, u64)>>);

impl SourceIndex {
    fn get(&self, source: &str, condition: Condition) -> Option<u64> {
        self.0
            .get(source)?
            .iter()
            .find(|(c, _)| *c == condition)
            .map(|(_, id)| *id)
    }

    /// Sets the id for a source and condition; returns the one it replaced.
    fn insert(&mut self, source: &str, condition: Condition, id: u64) -> Option<u64> {
        let entries = match self.0.get_mut(source) {
            Some(entries) => entries,
            None => self.0.entry(source.to_owned()).or_default(),
        };
        match entries.iter_mut().find(|(c, _)| *c == condition) {
            Some(entry) => Some(std::mem::replace(&mut entry.1, id)).filter(|old| *old != id),
            None => {
                entries.push((condition, id));
                None
            }
        }
    }

    /// Removes the entry if it still points at `id`.
    fn remove(&mut self, source: &str, condition: Condition, id: u64) {
        if let Some(entries) = self.0.get_mut(source) {
            entries.retain(|entry| *entry != (condition, id));
            if entries.is_empty() {
                self.0.remove(source);
            }
        }
    }
}

fn acknowledge(alarm: &mut Alarm, at: Timestamp) {
    if !alarm.acknowledged {
        alarm.acknowledged = true;
        alarm.acknowledged_at = Some(at);
    }
    // A discrete event is over once someone has seen it; a latched one
    // still waits for its reset.
    if alarm.momentary {
        alarm.active = false;
    }
}

fn transition(action: &Action, at: Timestamp, from: Shown, to: Shown) -> Transition {
    Transition {
        at,
        what: action.kind.as_str().into(),
        from: Some(from),
        to,
        actor: action.operator.clone(),
        role: action.role.clone(),
        console: action.console.clone(),
        via_ssh: action.via_ssh,
        remark: action.remark.clone(),
        action: Some(action.id),
    }
}
