//! Shifts: the duty periods a site's schedule cuts the day into.
//!
//! A schedule is a list of local start times, such as 08:00 and 20:00; each
//! shift runs until the next start, the last one across midnight. A shift's
//! id is its local start date and time, `2026-12-05T08:00`, so that a
//! supervisor can read it and type it.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Local start times of the shifts, sorted, without repeats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    starts: Vec<Time>,
}

/// One shift: its id, and its start and end as instants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shift {
    pub id: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("shift start {0:?} is not a time of day: write it as HH:MM, for example 08:00")]
    BadTime(String),
    #[error(
        "the shift schedule has no start time: give at least one, for example [\"08:00\", \"20:00\"]"
    )]
    Empty,
    #[error("shift start {0} is given twice")]
    Repeated(String),
    #[error(
        "shift id {0:?} is not a start of this schedule: write it as YYYY-MM-DDTHH:MM with one of the start times {1}"
    )]
    BadId(String, String),
}

impl Schedule {
    /// Parses start times written as `HH:MM`.
    pub fn parse<S: AsRef<str>>(starts: &[S]) -> Result<Self, ScheduleError> {
        let mut times = Vec::with_capacity(starts.len());
        for text in starts {
            let text = text.as_ref().trim();
            let time = parse_time(text).ok_or_else(|| ScheduleError::BadTime(text.to_owned()))?;
            if times.contains(&time) {
                return Err(ScheduleError::Repeated(text.to_owned()));
            }
            times.push(time);
        }
        if times.is_empty() {
            return Err(ScheduleError::Empty);
        }
        times.sort();
        Ok(Self { starts: times })
    }

    /// Returns the default schedule: a day shift from 08:00 and a night shift
    /// from 20:00.
    pub fn day_and_night() -> Self {
        Self {
            starts: vec![Time::constant(8, 0, 0, 0), Time::constant(20, 0, 0, 0)],
        }
    }

    /// Returns the start times as `HH:MM`.
    pub fn starts(&self) -> Vec<String> {
        self.starts.iter().map(|time| format_time(*time)).collect()
    }

    /// Returns the shift that contains `at`.
    pub fn shift_at(&self, at: Timestamp, tz: &TimeZone) -> Shift {
        let local = at.to_zoned_datetime(tz.clone()).datetime();
        let date = local.date();

        // The latest start at or before `at`, looking back to yesterday's
        // last start for the hours before today's first.
        let start = self
            .starts
            .iter()
            .rev()
            .map(|time| date.to_datetime(*time))
            .find(|start| *start <= local)
            .unwrap_or_else(|| previous_day(date).to_datetime(*self.starts.last().unwrap()));
        self.shift_from(start, tz)
    }

    /// Returns the shift after `shift`.
    pub fn next(&self, shift: &Shift, tz: &TimeZone) -> Shift {
        self.shift_at(shift.end, tz)
    }

    /// Returns the shift before `shift`.
    pub fn previous(&self, shift: &Shift, tz: &TimeZone) -> Shift {
        self.shift_at(shift.start - 1.second(), tz)
    }

    /// Returns the shift with this id, or why it is not one.
    pub fn by_id(&self, id: &str, tz: &TimeZone) -> Result<Shift, ScheduleError> {
        let bad = || ScheduleError::BadId(id.to_owned(), self.starts().join(", "));
        let (date, time) = id.trim().split_once(['T', ' ']).ok_or_else(bad)?;
        let date: Date = date.parse().map_err(|_| bad())?;
        let time = parse_time(time).ok_or_else(bad)?;
        if !self.starts.contains(&time) {
            return Err(bad());
        }
        Ok(self.shift_from(date.to_datetime(time), tz))
    }

    /// Returns the shifts that overlap `from..to`, in order.
    pub fn between(&self, from: Timestamp, to: Timestamp, tz: &TimeZone) -> Vec<Shift> {
        let mut shifts = Vec::new();
        let mut shift = self.shift_at(from, tz);
        while shift.start < to {
            let next = self.next(&shift, tz);
            shifts.push(shift);
            shift = next;
        }
        shifts
    }

    fn shift_from(&self, start: DateTime, tz: &TimeZone) -> Shift {
        let index = self
            .starts
            .iter()
            .position(|time| *time == start.time())
            .unwrap_or(0);
        let end = match self.starts.get(index + 1) {
            Some(time) => start.date().to_datetime(*time),
            None => next_day(start.date()).to_datetime(self.starts[0]),
        };
        Shift {
            id: format!("{}T{}", start.date(), format_time(start.time())),
            start: instant(start, tz),
            end: instant(end, tz),
        }
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Self::day_and_night()
    }
}

fn parse_time(text: &str) -> Option<Time> {
    let (hour, minute) = text.split_once(':')?;
    if hour.len() != 2 || minute.len() != 2 {
        return None;
    }
    let hour: i8 = hour.parse().ok()?;
    let minute: i8 = minute.parse().ok()?;
    Time::new(hour, minute, 0, 0).ok()
}

fn format_time(time: Time) -> String {
    format!("{:02}:{:02}", time.hour(), time.minute())
}

fn next_day(date: Date) -> Date {
    date.tomorrow().unwrap_or(date)
}

fn previous_day(date: Date) -> Date {
    date.yesterday().unwrap_or(date)
}

/// Converts a local start time to an instant. A time that a clock change
/// skips or repeats resolves to the later instant, so no shift has a
/// negative length.
fn instant(local: DateTime, tz: &TimeZone) -> Timestamp {
    // Only a date beyond jiff's range fails here, and a schedule never
    // reaches one.
    tz.to_ambiguous_timestamp(local).later().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn day_shift_holds_the_afternoon() {
        let shift = Schedule::day_and_night().shift_at(at("2026-12-05T06:00:00Z"), &shanghai());
        assert_eq!(shift.id, "2026-12-05T08:00");
        assert_eq!(shift.start, at("2026-12-05T00:00:00Z"));
        assert_eq!(shift.end, at("2026-12-05T12:00:00Z"));
    }

    #[test]
    fn night_shift_crosses_midnight() {
        let schedule = Schedule::day_and_night();
        // 03:00 local on the 6th belongs to the night shift of the 5th.
        let shift = schedule.shift_at(at("2026-12-05T19:00:00Z"), &shanghai());
        assert_eq!(shift.id, "2026-12-05T20:00");
        assert_eq!(shift.end, at("2026-12-06T00:00:00Z"));
        assert_eq!(schedule.next(&shift, &shanghai()).id, "2026-12-06T08:00");
        assert_eq!(
            schedule.previous(&shift, &shanghai()).id,
            "2026-12-05T08:00"
        );
    }

    #[test]
    fn ids_round_trip() {
        let schedule = Schedule::parse(&["07:00", "15:00", "23:00"]).unwrap();
        let shift = schedule.by_id("2026-12-05T23:00", &shanghai()).unwrap();
        assert_eq!(schedule.shift_at(shift.start, &shanghai()), shift);
        assert_eq!(shift.end.duration_since(shift.start).as_secs(), 8 * 3600);
        assert!(matches!(
            schedule.by_id("2026-12-05T08:00", &shanghai()),
            Err(ScheduleError::BadId(..))
        ));
    }

    #[test]
    fn between_lists_overlapping_shifts() {
        let schedule = Schedule::day_and_night();
        let shifts = schedule.between(
            at("2026-12-05T01:00:00Z"),
            at("2026-12-06T01:00:00Z"),
            &shanghai(),
        );
        let ids: Vec<_> = shifts.iter().map(|shift| shift.id.as_str()).collect();
        assert_eq!(
            ids,
            ["2026-12-05T08:00", "2026-12-05T20:00", "2026-12-06T08:00"]
        );
    }

    #[test]
    fn bad_schedules_name_the_value() {
        assert_eq!(
            Schedule::parse(&["8:00"]),
            Err(ScheduleError::BadTime("8:00".into()))
        );
        assert_eq!(
            Schedule::parse(&["25:00"]),
            Err(ScheduleError::BadTime("25:00".into()))
        );
        assert_eq!(Schedule::parse::<&str>(&[]), Err(ScheduleError::Empty));
        assert_eq!(
            Schedule::parse(&["08:00", "08:00"]),
            Err(ScheduleError::Repeated("08:00".into()))
        );
    }
}
