//! The eldercare engine: residents' check-ins and activity, the missed
//! check-in ladder, and today's board.
//!
//! The engine is driven by [`CareEngine::record`] for each event,
//! [`CareEngine::record_outcome`] for each outcome a guard records, and
//! [`CareEngine::tick`] as time passes. Each returns the signals for the
//! alarm layer. Stage changes take effect at the instant they fall due, not
//! at the tick that notices them, so the state after a series of calls does
//! not depend on how often the engine was ticked in between.

use std::collections::{BTreeMap, VecDeque};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::event::{CareEvent, CareEventKind, CheckInVia};
use super::ladder::{
    CareCondition, CareRefusal, CareSettings, CareSignal, ClearReason, Outcome, OutcomeRecord,
    Stage,
};
use super::resident::Resident;
use super::window::{CheckInWindow, Occurrence};
use crate::domain::privacy::Role;

/// History entries kept per resident; older ones stay in the event log.
pub const HISTORY_LIMIT: usize = 500;

/// Check-in times and event ids remembered per resident.
const RECENT_KEPT: usize = 64;

/// A missed check-in being handled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ladder {
    /// The window that closed without a check-in.
    pub occurrence: Occurrence,
    pub stage: Stage,
    pub stage_since: Timestamp,
    pub visited_at: Option<Timestamp>,
}

/// The end of the last ladder, or of the last missed window without one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LadderEnd {
    pub occurrence: Occurrence,
    pub at: Timestamp,
    pub reason: ClearReason,
}

/// One entry of a resident's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareEntry {
    pub at: Timestamp,
    #[serde(flatten)]
    pub what: CareEntryKind,
}

/// The content of a history entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum CareEntryKind {
    CheckedIn {
        via: CheckInVia,
    },
    Activity {
        source: String,
        counts_as_check_in: bool,
    },
    Sos,
    Fall,
    /// A window closed without a check-in.
    WindowMissed {
        occurrence: Occurrence,
    },
    StageStarted {
        stage: Stage,
    },
    Outcome {
        outcome: Outcome,
        operator: String,
        role: Role,
        remark: String,
    },
    LadderEnded {
        reason: ClearReason,
    },
    /// No activity since `since`.
    Inactive {
        since: Timestamp,
    },
    ActivityResumed,
}

/// A resident's state for today's board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DayStatus {
    /// Checked in within the current window.
    CheckedIn { at: Timestamp },
    /// The window is open and no check-in has come yet.
    Pending { closes: Timestamp },
    /// The window closed without a check-in and the ladder is over.
    /// `ended` records how, and is absent before the engine judged the window.
    Missed {
        closes: Timestamp,
        ended: Option<LadderEnd>,
    },
    /// The ladder is running.
    InEscalation {
        stage: Stage,
        since: Timestamp,
        /// Time to the next stage; absent at the last stage.
        next_stage_in: Option<SignedDuration>,
    },
}

/// A row of today's board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardRow {
    pub resident: String,
    pub day: DayStatus,
    pub last_activity: Option<Timestamp>,
    pub last_check_in: Option<Timestamp>,
    /// Set while the inactivity alarm is raised: the last activity before it.
    pub inactive_since: Option<Timestamp>,
}

/// One resident and the engine's state for them.
#[derive(Clone, Debug)]
struct Watch {
    resident: Resident,
    window: CheckInWindow,
    /// Sorted, at most [`RECENT_KEPT`].
    check_ins: VecDeque<Timestamp>,
    seen_ids: VecDeque<String>,
    last_activity: Option<Timestamp>,
    /// When the engine started watching: the baseline for inactivity
    /// before any activity.
    watched_since: Timestamp,
    /// The last activity before the inactivity alarm, while it is raised.
    inactive_since: Option<Timestamp>,
    /// Windows closing at or before this instant have been judged.
    judged_until: Timestamp,
    ladder: Option<Ladder>,
    last_end: Option<LadderEnd>,
    history: Vec<CareEntry>,
}

impl Watch {
    fn new(resident: Resident, site_window: CheckInWindow, now: Timestamp) -> Self {
        Self {
            window: resident.check_in.unwrap_or(site_window),
            resident,
            check_ins: VecDeque::new(),
            seen_ids: VecDeque::new(),
            last_activity: None,
            watched_since: now,
            inactive_since: None,
            judged_until: now,
            ladder: None,
            last_end: None,
            history: Vec::new(),
        }
    }

    fn log(&mut self, at: Timestamp, what: CareEntryKind) {
        if self.history.len() == HISTORY_LIMIT {
            self.history.remove(0);
        }
        self.history.push(CareEntry { at, what });
    }

    fn raise(&self, condition: CareCondition, stage: Option<Stage>) -> CareSignal {
        CareSignal::Raise {
            resident: self.resident.id.clone(),
            condition,
            priority: stage.map_or(condition.priority(), Stage::priority),
            stage,
        }
    }

    fn clear(&self, condition: CareCondition, reason: ClearReason) -> CareSignal {
        CareSignal::Clear {
            resident: self.resident.id.clone(),
            condition,
            reason,
        }
    }

    fn next_stage(&self, stage: Stage) -> Stage {
        match stage {
            Stage::CallResident if !self.resident.contacts.is_empty() => Stage::CallContact,
            _ => Stage::VisitDoor,
        }
    }

    fn first_check_in(&self, from: Timestamp, before: Timestamp) -> Option<Timestamp> {
        self.check_ins
            .iter()
            .copied()
            .find(|at| from <= *at && *at < before)
    }

    fn end_ladder(&mut self, at: Timestamp, reason: ClearReason) -> Option<CareSignal> {
        let ladder = self.ladder.take()?;
        self.last_end = Some(LadderEnd {
            occurrence: ladder.occurrence,
            at,
            reason: reason.clone(),
        });
        self.log(
            at,
            CareEntryKind::LadderEnded {
                reason: reason.clone(),
            },
        );
        Some(self.clear(CareCondition::MissedCheckIn, reason))
    }

    fn check_in(&mut self, at: Timestamp, signals: &mut Vec<CareSignal>) {
        let place = self.check_ins.partition_point(|t| *t <= at);
        self.check_ins.insert(place, at);
        if self.check_ins.len() > RECENT_KEPT {
            self.check_ins.pop_front();
        }

        let Some(ladder) = &self.ladder else { return };
        let reason = if ladder.occurrence.contains(at) {
            ClearReason::CheckedIn
        } else if at >= ladder.occurrence.closes {
            ClearReason::CheckedInLate
        } else {
            return;
        };
        signals.extend(self.end_ladder(at, reason));
    }
}

/// The eldercare rules over every resident of the registry.
#[derive(Clone, Debug)]
pub struct CareEngine {
    settings: CareSettings,
    tz: TimeZone,
    residents: BTreeMap<String, Watch>,
}

impl CareEngine {
    /// Starts watching `residents` at `now`. Windows that closed before
    /// `now` are not judged, and inactivity is counted from `now` until the
    /// first activity.
    pub fn new(
        residents: Vec<Resident>,
        settings: CareSettings,
        tz: TimeZone,
        now: Timestamp,
    ) -> Self {
        let mut engine = Self {
            settings,
            tz,
            residents: BTreeMap::new(),
        };
        engine.update_residents(residents, now);
        engine
    }

    /// Replaces the registry, keeping what is known of residents still in
    /// it. Residents no longer listed are dropped with their ladders.
    pub fn update_residents(&mut self, residents: Vec<Resident>, now: Timestamp) {
        let mut previous = std::mem::take(&mut self.residents);
        for resident in residents {
            let watch = match previous.remove(&resident.id) {
                Some(mut watch) => {
                    watch.window = resident.check_in.unwrap_or(self.settings.window);
                    watch.resident = resident;
                    watch
                }
                None => Watch::new(resident, self.settings.window, now),
            };
            self.residents.insert(watch.resident.id.clone(), watch);
        }
    }

    pub fn resident(&self, id: &str) -> Option<&Resident> {
        self.residents.get(id).map(|watch| &watch.resident)
    }

    pub fn ladder(&self, resident: &str) -> Option<&Ladder> {
        self.residents.get(resident)?.ladder.as_ref()
    }

    /// Returns the resident's history, oldest first, or `None` for an
    /// unknown resident.
    pub fn history(&self, resident: &str) -> Option<&[CareEntry]> {
        self.residents
            .get(resident)
            .map(|watch| watch.history.as_slice())
    }

    /// Folds an event in. Events for residents outside the registry and
    /// redeliveries of an event already seen change nothing.
    pub fn record(&mut self, event: &CareEvent) -> Vec<CareSignal> {
        let Some(watch) = self.residents.get_mut(&event.resident) else {
            return Vec::new();
        };
        if watch.seen_ids.contains(&event.id) {
            return Vec::new();
        }
        watch.seen_ids.push_back(event.id.clone());
        if watch.seen_ids.len() > RECENT_KEPT {
            watch.seen_ids.pop_front();
        }

        let at = event.at;
        let mut signals = Vec::new();
        if watch.last_activity.is_none_or(|last| at > last) {
            watch.last_activity = Some(at);
        }
        if watch.inactive_since.is_some_and(|since| at > since) {
            watch.inactive_since = None;
            watch.log(at, CareEntryKind::ActivityResumed);
            signals.push(watch.clear(CareCondition::Inactive, ClearReason::Activity));
        }

        match &event.kind {
            CareEventKind::Sos => {
                watch.log(at, CareEntryKind::Sos);
                signals.push(watch.raise(CareCondition::Sos, None));
            }
            CareEventKind::Fall => {
                watch.log(at, CareEntryKind::Fall);
                signals.push(watch.raise(CareCondition::Fall, None));
            }
            CareEventKind::CheckIn { via } => {
                watch.log(at, CareEntryKind::CheckedIn { via: *via });
                watch.check_in(at, &mut signals);
            }
            CareEventKind::Activity { source } => {
                let counts = watch.resident.passive_sources.contains(source);
                watch.log(
                    at,
                    CareEntryKind::Activity {
                        source: source.clone(),
                        counts_as_check_in: counts,
                    },
                );
                if counts {
                    watch.check_in(at, &mut signals);
                }
            }
        }
        signals
    }

    /// Judges the windows that closed since the last tick, moves ladders to
    /// the stages that fell due, and checks inactivity.
    pub fn tick(&mut self, now: Timestamp) -> Vec<CareSignal> {
        let mut signals = Vec::new();
        let inactive_after = SignedDuration::from_hours(i64::from(self.settings.inactive_h));
        for watch in self.residents.values_mut() {
            judge_windows(watch, now, &self.tz, &mut signals);
            advance(watch, &self.settings, now, &mut signals);

            if watch.resident.passive_sources.is_empty() || watch.inactive_since.is_some() {
                continue;
            }
            let since = watch.last_activity.unwrap_or(watch.watched_since);
            if now.duration_since(since) >= inactive_after {
                watch.inactive_since = Some(since);
                watch.log(now, CareEntryKind::Inactive { since });
                signals.push(watch.raise(CareCondition::Inactive, None));
            }
        }
        signals
    }

    /// Checks an outcome against the resident's ladder at the outcome's
    /// time, without changing anything.
    pub fn check_outcome(&self, record: &OutcomeRecord) -> Result<(), CareRefusal> {
        let Some(watch) = self.residents.get(&record.resident) else {
            return Err(CareRefusal::UnknownResident(record.resident.clone()));
        };
        let Some(ladder) = &watch.ladder else {
            return Err(CareRefusal::NoLadder(record.resident.clone()));
        };
        let (stage, _) = stage_at(watch, ladder, &self.settings, record.at);
        match record.outcome {
            Outcome::NotReached if stage == Stage::VisitDoor => {
                Err(CareRefusal::NoFurtherStage(record.resident.clone()))
            }
            Outcome::Visited if ladder.visited_at.is_some() => {
                Err(CareRefusal::AlreadyVisited(record.resident.clone()))
            }
            Outcome::Escalated { .. } if record.remark.trim().is_empty() => {
                Err(CareRefusal::RemarkRequired {
                    resident: record.resident.clone(),
                    outcome: record.outcome.as_str(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Records a guard's outcome: first moves the ladder to the stage it
    /// has at the outcome's time, then ends or advances it.
    pub fn record_outcome(
        &mut self,
        record: &OutcomeRecord,
    ) -> Result<Vec<CareSignal>, CareRefusal> {
        self.check_outcome(record)?;
        let Some(watch) = self.residents.get_mut(&record.resident) else {
            return Err(CareRefusal::UnknownResident(record.resident.clone()));
        };
        let at = record.at;
        let mut signals = Vec::new();
        advance(watch, &self.settings, at, &mut signals);
        watch.log(
            at,
            CareEntryKind::Outcome {
                outcome: record.outcome,
                operator: record.operator.clone(),
                role: record.role,
                remark: record.remark.clone(),
            },
        );

        if record.outcome.ends_ladder() {
            let reason = ClearReason::Outcome {
                outcome: record.outcome,
            };
            signals.extend(watch.end_ladder(at, reason));
            return Ok(signals);
        }
        let Some(stage) = watch.ladder.as_ref().map(|ladder| ladder.stage) else {
            return Ok(signals);
        };
        let next = match record.outcome {
            Outcome::Visited => Stage::VisitDoor,
            _ => watch.next_stage(stage),
        };
        if let Some(ladder) = &mut watch.ladder {
            if record.outcome == Outcome::Visited {
                ladder.visited_at = Some(at);
            }
            if next != stage {
                ladder.stage = next;
                ladder.stage_since = at;
            }
        }
        if next != stage {
            watch.log(at, CareEntryKind::StageStarted { stage: next });
            signals.push(watch.raise(CareCondition::MissedCheckIn, Some(next)));
        }
        Ok(signals)
    }

    /// Today's board at `now`, one row per resident in id order.
    pub fn board(&self, now: Timestamp) -> Vec<BoardRow> {
        self.residents
            .values()
            .map(|watch| BoardRow {
                resident: watch.resident.id.clone(),
                day: self.day_status(watch, now),
                last_activity: watch.last_activity,
                last_check_in: watch.check_ins.back().copied(),
                inactive_since: watch.inactive_since,
            })
            .collect()
    }

    fn day_status(&self, watch: &Watch, now: Timestamp) -> DayStatus {
        if let Some(ladder) = &watch.ladder {
            let (stage, since) = stage_at(watch, ladder, &self.settings, now);
            let next_stage_in = stage_due(stage, since, &self.settings)
                .map(|due| due.duration_since(now).max(SignedDuration::ZERO));
            return DayStatus::InEscalation {
                stage,
                since,
                next_stage_in,
            };
        }

        let current = watch.window.current(now, &self.tz);
        if let Some(at) = watch.first_check_in(current.opens, current.closes) {
            return DayStatus::CheckedIn { at };
        }
        if now < current.closes {
            return DayStatus::Pending {
                closes: current.closes,
            };
        }
        DayStatus::Missed {
            closes: current.closes,
            ended: watch
                .last_end
                .clone()
                .filter(|end| end.occurrence == current),
        }
    }
}

/// Judges every window that closed after the last judgement and at or
/// before `now`: one without a check-in starts the ladder, unless one is
/// running or the resident has checked in since.
fn judge_windows(watch: &mut Watch, now: Timestamp, tz: &TimeZone, signals: &mut Vec<CareSignal>) {
    let closed = watch.window.closing_between(watch.judged_until, now, tz);
    watch.judged_until = watch.judged_until.max(now);
    for occurrence in closed {
        if watch
            .first_check_in(occurrence.opens, occurrence.closes)
            .is_some()
        {
            continue;
        }
        watch.log(
            occurrence.closes,
            CareEntryKind::WindowMissed { occurrence },
        );
        if watch.ladder.is_some() {
            continue;
        }

        // A check-in between the close and this tick shows the resident is
        // well, so no ladder starts.
        if let Some(late) = watch.first_check_in(occurrence.closes, Timestamp::MAX) {
            watch.last_end = Some(LadderEnd {
                occurrence,
                at: late,
                reason: ClearReason::CheckedInLate,
            });
            continue;
        }
        watch.ladder = Some(Ladder {
            occurrence,
            stage: Stage::CallResident,
            stage_since: occurrence.closes,
            visited_at: None,
        });
        watch.log(
            occurrence.closes,
            CareEntryKind::StageStarted {
                stage: Stage::CallResident,
            },
        );
        signals.push(watch.raise(CareCondition::MissedCheckIn, Some(Stage::CallResident)));
    }
}

/// Returns when `stage`, begun at `since`, gives way to the next one.
fn stage_due(stage: Stage, since: Timestamp, settings: &CareSettings) -> Option<Timestamp> {
    let seconds = match stage {
        Stage::CallResident => settings
            .call_resident_s
            .unwrap_or(settings.call_resident_min.saturating_mul(60)),
        Stage::CallContact => settings
            .call_contact_s
            .unwrap_or(settings.call_contact_min.saturating_mul(60)),
        Stage::VisitDoor => return None,
    };
    since
        .checked_add(SignedDuration::from_secs(i64::from(seconds)))
        .ok()
}

/// Returns the stage the ladder has at `at` and when that stage began.
fn stage_at(
    watch: &Watch,
    ladder: &Ladder,
    settings: &CareSettings,
    at: Timestamp,
) -> (Stage, Timestamp) {
    let mut stage = ladder.stage;
    let mut since = ladder.stage_since;
    while let Some(due) = stage_due(stage, since, settings).filter(|due| *due <= at) {
        stage = watch.next_stage(stage);
        since = due;
    }
    (stage, since)
}

/// Moves the ladder to the stage it has at `now`, raising each stage passed.
fn advance(
    watch: &mut Watch,
    settings: &CareSettings,
    now: Timestamp,
    signals: &mut Vec<CareSignal>,
) {
    let Some(ladder) = &watch.ladder else { return };
    let mut stage = ladder.stage;
    let mut since = ladder.stage_since;
    let mut started = Vec::new();
    while let Some(due) = stage_due(stage, since, settings).filter(|due| *due <= now) {
        stage = watch.next_stage(stage);
        since = due;
        started.push((stage, since));
    }
    for (stage, since) in started {
        if let Some(ladder) = &mut watch.ladder {
            ladder.stage = stage;
            ladder.stage_since = since;
        }
        watch.log(since, CareEntryKind::StageStarted { stage });
        signals.push(watch.raise(CareCondition::MissedCheckIn, Some(stage)));
    }
}
