//! Statistics of a time range, folded from the events of the log.
//!
//! The fold is pure: [`StatsBuilder::push`] takes events in `seq` order and
//! [`StatsBuilder::finish`] returns the figures, so a test can feed a log
//! written by hand. Events before the range only lend their raise time to
//! alarms acted on inside the range; events at or after its end are ignored.
//!
//! What is counted:
//! - raises: alarms raised inside the range, by condition, priority, source
//!   and local hour;
//! - time to acknowledge: alarms whose first acknowledgement (an
//!   `acknowledge` or a `close` action, which acknowledges too) falls inside
//!   the range, from their raise, wherever the raise lies;
//! - time to close: alarms closed inside the range (by an operator, or by
//!   the system that owns the record), from their raise;
//! - false alarms: closes inside the range with disposition `false_alarm`,
//!   as a share of all closes inside the range;
//! - floods: floods that started or ended inside the range, their time
//!   inside the range, and the highest rate any of them reached.
//!
//! Percentiles use the nearest-rank method: the p-th percentile of n sorted
//! values is the value at rank ⌈p·n/100⌉ (1-based). The median is the 50th
//! percentile, so with an even count it is the lower of the two middle values.

use std::collections::{BTreeMap, HashMap};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::domain::alarm::{ActionKind, Change, Condition, Disposition, Flood, Priority};
use crate::domain::{Event, EventBody};

/// Sources listed in [`Stats::top_sources`].
pub const TOP_SOURCES: usize = 10;

/// Figures of one range.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Alarms raised in the range.
    pub raised: u32,
    /// Raises by condition, most first, then in condition order.
    pub by_condition: Vec<(Condition, u32)>,
    /// Raises by priority, P1 first.
    pub by_priority: [u32; 4],
    pub acknowledge: Timing,
    pub close: Timing,
    /// Closes in the range.
    pub closed: u32,
    /// Closes in the range with disposition `false_alarm`.
    pub false_alarms: u32,
    pub floods: FloodStats,
    /// The sources that raised most, at most [`TOP_SOURCES`].
    pub top_sources: Vec<SourceCount>,
    /// Operators who acted or wrote in the range, by operator id.
    pub operators: Vec<OperatorActivity>,
    /// Raises by hour of the day in the site's time zone, index 0 = 00:00–00:59.
    pub per_hour: [u32; 24],
    /// Local hour of `from`, where a chart of `per_hour` starts.
    pub first_hour: u8,
}

/// Median and 95th percentile of a set of durations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Timing {
    /// How many alarms the figures are taken over.
    pub count: u32,
    pub median: Option<SignedDuration>,
    pub p95: Option<SignedDuration>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct FloodStats {
    pub count: u32,
    /// Time spent in flood inside the range.
    pub duration: SignedDuration,
    /// Highest rate (new alarms in the counting window) of any flood.
    pub peak_rate: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceCount {
    pub source: String,
    /// The name the source had on its latest raise.
    pub name: String,
    pub raised: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OperatorActivity {
    pub operator: String,
    /// Actions on alarms and on the sounder.
    pub alarm_actions: u32,
    /// Duty-log entries written (notes, patrols, visitors, incidents,
    /// calls, handover remarks). Logins and handovers are not entries.
    pub duty_entries: u32,
}

impl Stats {
    /// Share of closes that were false alarms, `None` when nothing closed.
    pub fn false_alarm_share(&self) -> Option<f64> {
        (self.closed > 0).then(|| f64::from(self.false_alarms) / f64::from(self.closed))
    }

    /// Returns `(hour, raises)` for the 24 hours of the day, starting at the
    /// local hour of `from`, so that a night shift's chart reads 20, 21, … 07.
    pub fn hours_in_order(&self) -> Vec<(u8, u32)> {
        (0..24)
            .map(|offset| {
                let hour = (self.first_hour + offset) % 24;
                (hour, self.per_hour[usize::from(hour)])
            })
            .collect()
    }
}

/// An alarm raised but not yet closed, as far as the fold has seen.
#[derive(Clone, Copy, Debug)]
struct Pending {
    raised_at: Timestamp,
    acknowledged: bool,
}

/// Folds events into [`Stats`].
pub struct StatsBuilder {
    from: Timestamp,
    to: Timestamp,
    tz: TimeZone,
    pending: HashMap<u64, Pending>,
    /// First acknowledgements and closes in the range of alarms whose raise
    /// the fold has not seen: alarm → (time, is a close).
    unmatched: Vec<(u64, Timestamp, bool)>,
    ack_times: Vec<SignedDuration>,
    close_times: Vec<SignedDuration>,
    stats: Stats,
    by_condition: BTreeMap<Condition, u32>,
    sources: HashMap<String, (String, u32)>,
    operators: BTreeMap<String, OperatorActivity>,
    flood_started: Option<Timestamp>,
    /// The present, for a range still in progress: a flood that has not
    /// ended counts until then rather than until the range's end.
    until: Timestamp,
}

impl StatsBuilder {
    pub fn new(from: Timestamp, to: Timestamp, tz: TimeZone) -> Self {
        let first_hour = from.to_zoned_datetime(tz.clone()).hour() as u8;
        Self {
            from,
            to,
            tz,
            pending: HashMap::new(),
            unmatched: Vec::new(),
            ack_times: Vec::new(),
            close_times: Vec::new(),
            stats: Stats {
                from,
                to,
                first_hour,
                ..Stats::default()
            },
            by_condition: BTreeMap::new(),
            sources: HashMap::new(),
            operators: BTreeMap::new(),
            flood_started: None,
            until: to,
        }
    }

    /// Counts a flood still going at the end only up to `now`, for a range
    /// that has not ended yet.
    pub fn until(mut self, now: Timestamp) -> Self {
        self.until = now.clamp(self.from, self.to);
        self
    }

    /// Notes an alarm raised before the events to be pushed, still open,
    /// so that its acknowledgement or close inside the range is timed from
    /// its raise.
    pub fn seed_open(&mut self, alarm: u64, raised_at: Timestamp, acknowledged: bool) {
        self.pending.insert(
            alarm,
            Pending {
                raised_at,
                acknowledged,
            },
        );
    }

    /// Folds one event in. Events must come in `seq` order.
    pub fn push(&mut self, event: &Event) {
        if event.at >= self.to {
            return;
        }
        let inside = event.at >= self.from;
        match &event.body {
            EventBody::AlarmRaised { raise } => {
                self.pending.insert(
                    raise.alarm,
                    Pending {
                        raised_at: event.at,
                        acknowledged: false,
                    },
                );
                if inside {
                    self.count_raise(raise, event.at);
                }
            }
            EventBody::AlarmActed { action } => {
                if inside && action.kind.is_alarm() {
                    self.operator(&action.operator).alarm_actions += 1;
                }
                let Some(alarm) = action.alarm else { return };
                match &action.kind {
                    ActionKind::Acknowledge => self.acknowledged(alarm, event.at, inside),
                    ActionKind::Close { disposition } => {
                        self.acknowledged(alarm, event.at, inside);
                        self.closed(alarm, event.at, inside, Some(*disposition));
                    }
                    _ => {}
                }
            }
            EventBody::AlarmChanged {
                alarm,
                change: Change::ClosedAtSource,
            } => self.closed(*alarm, event.at, inside, Some(Disposition::ClosedAtSource)),
            EventBody::AlarmFlood { flood } => self.flood(flood, event.at),
            EventBody::DutyRecorded { action }
                if inside && matches!(action.kind, ActionKind::Note { .. }) =>
            {
                self.operator(&action.operator).duty_entries += 1;
            }
            _ => {}
        }
    }

    /// Alarms acknowledged or closed inside the range whose raise was not
    /// among the events pushed: look their raises up and pass them to
    /// [`StatsBuilder::add_prior_raise`].
    pub fn unmatched_alarms(&self) -> std::collections::BTreeSet<u64> {
        self.unmatched.iter().map(|(alarm, ..)| *alarm).collect()
    }

    /// Supplies the raise of an alarm raised before the events pushed.
    pub fn add_prior_raise(&mut self, event: &Event) {
        let EventBody::AlarmRaised { raise } = &event.body else {
            return;
        };
        for (alarm, at, close) in &self.unmatched {
            if *alarm != raise.alarm {
                continue;
            }
            let taken = at.duration_since(event.at);
            if *close {
                self.close_times.push(taken);
            } else {
                self.ack_times.push(taken);
            }
        }
        self.unmatched.retain(|(alarm, ..)| *alarm != raise.alarm);
    }

    pub fn finish(mut self) -> Stats {
        if let Some(started) = self.flood_started {
            // Still in flood at the end of the range.
            let end = self.until.max(started);
            self.stats.floods.duration += end.duration_since(started.max(self.from));
        }

        let mut by_condition: Vec<_> = self.by_condition.into_iter().collect();
        by_condition.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.stats.by_condition = by_condition;

        let mut sources: Vec<_> = self
            .sources
            .into_iter()
            .map(|(source, (name, raised))| SourceCount {
                source,
                name,
                raised,
            })
            .collect();
        sources.sort_by(|a, b| b.raised.cmp(&a.raised).then(a.source.cmp(&b.source)));
        sources.truncate(TOP_SOURCES);
        self.stats.top_sources = sources;

        self.stats.operators = self.operators.into_values().collect();
        self.stats.acknowledge = timing(self.ack_times);
        self.stats.close = timing(self.close_times);
        self.stats
    }

    fn count_raise(&mut self, raise: &crate::domain::alarm::Raise, at: Timestamp) {
        self.stats.raised += 1;
        *self.by_condition.entry(raise.condition).or_default() += 1;
        self.stats.by_priority[raise.priority.index()] += 1;
        let source = self
            .sources
            .entry(raise.source.clone())
            .or_insert_with(|| (String::new(), 0));
        source.0 = raise.name.clone();
        source.1 += 1;
        let hour = at.to_zoned_datetime(self.tz.clone()).hour();
        self.stats.per_hour[hour as usize] += 1;
    }

    fn acknowledged(&mut self, alarm: u64, at: Timestamp, inside: bool) {
        match self.pending.get_mut(&alarm) {
            Some(pending) if pending.acknowledged => {}
            Some(pending) => {
                pending.acknowledged = true;
                if inside {
                    self.ack_times.push(at.duration_since(pending.raised_at));
                }
            }
            None => {
                // Raised before the events pushed, and not yet seen acknowledged.
                // NOTE: an acknowledgement before the events pushed is not
                // known here, so a close of such an alarm counts as its first
                // acknowledgement. Push from the start of the log (or seed the
                // open alarms) where that matters.
                let seen = self
                    .unmatched
                    .iter()
                    .any(|(id, _, close)| *id == alarm && !close);
                if inside && !seen {
                    self.unmatched.push((alarm, at, false));
                }
            }
        }
    }

    fn closed(
        &mut self,
        alarm: u64,
        at: Timestamp,
        inside: bool,
        disposition: Option<Disposition>,
    ) {
        let pending = self.pending.remove(&alarm);
        if !inside {
            return;
        }
        self.stats.closed += 1;
        if disposition == Some(Disposition::FalseAlarm) {
            self.stats.false_alarms += 1;
        }
        match pending {
            Some(pending) => self.close_times.push(at.duration_since(pending.raised_at)),
            None => self.unmatched.push((alarm, at, true)),
        }
    }

    fn flood(&mut self, flood: &Flood, at: Timestamp) {
        let inside = at >= self.from;
        match flood {
            Flood::Started { rate } => {
                self.flood_started = Some(at);
                if inside {
                    self.stats.floods.count += 1;
                    self.stats.floods.peak_rate = self.stats.floods.peak_rate.max(*rate);
                }
            }
            Flood::Ended {
                started, peak_rate, ..
            } => {
                self.flood_started = None;
                if !inside {
                    return;
                }
                if *started < self.from {
                    // Started before the range: counted here, where it ends.
                    self.stats.floods.count += 1;
                }
                self.stats.floods.peak_rate = self.stats.floods.peak_rate.max(*peak_rate);
                self.stats.floods.duration += at.duration_since((*started).max(self.from));
            }
        }
    }

    fn operator(&mut self, operator: &str) -> &mut OperatorActivity {
        self.operators
            .entry(operator.to_owned())
            .or_insert_with(|| OperatorActivity {
                operator: operator.to_owned(),
                ..OperatorActivity::default()
            })
    }
}

/// Folds `events` (in `seq` order) into the statistics of `[from, to)`.
pub fn compute<'a>(
    from: Timestamp,
    to: Timestamp,
    tz: &TimeZone,
    events: impl IntoIterator<Item = &'a Event>,
) -> Stats {
    let mut builder = StatsBuilder::new(from, to, tz.clone());
    for event in events {
        builder.push(event);
    }
    builder.finish()
}

/// Returns the nearest-rank `percent` percentile of sorted `values`.
pub fn percentile(sorted: &[SignedDuration], percent: u32) -> Option<SignedDuration> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (n * percent as usize).div_ceil(100).max(1);
    Some(sorted[rank.min(n) - 1])
}

fn timing(mut values: Vec<SignedDuration>) -> Timing {
    values.sort();
    Timing {
        count: values.len() as u32,
        median: percentile(&values, 50),
        p95: percentile(&values, 95),
    }
}

/// Priority of index `index` of [`Stats::by_priority`].
pub fn priority_at(index: usize) -> Priority {
    Priority::ALL[index]
}
