//! The alarm queue on the guard's screen: filtered, ordered, and grouped
//! during a flood.

use std::collections::HashMap;

use super::book::AlarmBook;
use super::condition::{Condition, Priority};
use super::record::{Alarm, Shown};

/// Queue filter. With every field empty, the queue lists every queued alarm.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub priority: Option<Priority>,
    pub shown: Option<Shown>,
    pub building: Option<String>,
    /// Case-insensitive text matched against name, source, zone, building,
    /// condition and alarm number.
    pub text: String,
    /// Conditions whose name on screen contains `text`; the screen fills it
    /// in, because names on screen are translated.
    pub text_conditions: Vec<Condition>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.priority.is_none()
            && self.shown.is_none()
            && self.building.is_none()
            && self.text.is_empty()
    }

    pub fn matches(&self, alarm: &Alarm) -> bool {
        if self.priority.is_some_and(|p| p != alarm.priority) {
            return false;
        }
        let shown = alarm.shown();
        match self.shown {
            Some(wanted) if wanted != shown => return false,
            None if !shown.is_queued() => return false,
            _ => {}
        }
        if self.building.as_ref().is_some_and(|b| *b != alarm.building) {
            return false;
        }
        if self.text.is_empty() || self.text_conditions.contains(&alarm.condition) {
            return true;
        }
        let needle = self.text.to_lowercase();
        [
            alarm.name.as_str(),
            alarm.source.as_str(),
            alarm.zone.as_str(),
            alarm.building.as_str(),
            alarm.condition.as_str(),
            alarm.text.as_deref().unwrap_or_default(),
        ]
        .iter()
        .any(|field| contains_folded(field, &needle))
            || alarm.id.to_string() == needle.trim_start_matches('#')
    }
}

/// Returns true when `field`, lowercased, contains `needle` (already
/// lowercased). Most fields have no uppercase letter, so they are searched
/// as they are, without building a lowercased copy.
fn contains_folded(field: &str, needle: &str) -> bool {
    if field.chars().any(char::is_uppercase) {
        field.to_lowercase().contains(needle)
    } else {
        field.contains(needle)
    }
}

/// Queue order: priority, then unacknowledged first, then oldest first.
pub fn order_key(alarm: &Alarm) -> (Priority, bool, jiff::Timestamp, u64) {
    (
        alarm.priority,
        alarm.acknowledged,
        alarm.raised_at,
        alarm.id,
    )
}

/// One line of the queue.
#[derive(Clone, Debug, PartialEq)]
pub enum Row<'a> {
    Alarm(&'a Alarm),
    /// Repeats of one condition in one zone, folded into a line during a flood.
    Group {
        condition: Condition,
        building: &'a str,
        zone: &'a str,
        /// The member that sorts first; it stands for the group.
        first: &'a Alarm,
        members: Vec<&'a Alarm>,
        unacknowledged: usize,
    },
}

impl<'a> Row<'a> {
    /// Returns the alarm that represents the row.
    pub fn lead(&self) -> &'a Alarm {
        match self {
            Row::Alarm(alarm) => alarm,
            Row::Group { first, .. } => first,
        }
    }

    /// Returns every alarm the row covers.
    pub fn members(&self) -> Vec<&'a Alarm> {
        match self {
            Row::Alarm(alarm) => vec![alarm],
            Row::Group { members, .. } => members.clone(),
        }
    }
}

/// Returns the queue rows for `filter`, grouped by condition and zone when
/// `grouped` is set. P1 is never grouped and always sorts first.
pub fn rows<'a>(book: &'a AlarmBook, filter: &Filter, grouped: bool) -> Vec<Row<'a>> {
    let mut alarms: Vec<&Alarm> = book.open.values().filter(|a| filter.matches(a)).collect();
    alarms.sort_unstable_by_key(|alarm| order_key(alarm));
    if !grouped {
        return alarms.into_iter().map(Row::Alarm).collect();
    }

    let mut slots: HashMap<(Condition, &str, &str), usize> = HashMap::new();
    let mut rows: Vec<Row> = Vec::new();
    for alarm in alarms {
        if alarm.priority == Priority::P1 {
            rows.push(Row::Alarm(alarm));
            continue;
        }
        let key = (
            alarm.condition,
            alarm.building.as_str(),
            alarm.zone.as_str(),
        );
        match slots.get(&key) {
            Some(&slot) => {
                let row = &mut rows[slot];
                if let Row::Alarm(first) = *row {
                    *row = Row::Group {
                        condition: first.condition,
                        building: &first.building,
                        zone: &first.zone,
                        first,
                        unacknowledged: usize::from(!first.acknowledged),
                        members: vec![first],
                    };
                }
                if let Row::Group {
                    members,
                    unacknowledged,
                    ..
                } = row
                {
                    members.push(alarm);
                    *unacknowledged += usize::from(!alarm.acknowledged);
                }
            }
            None => {
                slots.insert(key, rows.len());
                rows.push(Row::Alarm(alarm));
            }
        }
    }
    rows
}

/// The counter line: how many open alarms are in each state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub unacknowledged: usize,
    pub acknowledged: usize,
    pub cleared_unacknowledged: usize,
    pub needs_reset: usize,
    pub shelved: usize,
    pub suppressed: usize,
    pub out_of_service: usize,
    /// Open alarms by priority, P1 first.
    pub by_priority: [usize; 4],
}

pub fn counters(book: &AlarmBook) -> Counters {
    let mut counters = Counters::default();
    for alarm in book.open.values() {
        counters.by_priority[alarm.priority.index()] += 1;
        let slot = match alarm.shown() {
            Shown::Unacknowledged => &mut counters.unacknowledged,
            Shown::Acknowledged => &mut counters.acknowledged,
            Shown::ClearedUnacknowledged => &mut counters.cleared_unacknowledged,
            Shown::NeedsReset => &mut counters.needs_reset,
            Shown::Shelved => &mut counters.shelved,
            Shown::Suppressed => &mut counters.suppressed,
            Shown::OutOfService => &mut counters.out_of_service,
            Shown::Closed => continue,
        };
        *slot += 1;
    }
    counters
}
