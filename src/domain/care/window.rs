//! Daily check-in windows in the site's local time.
//!
//! A window is a start and an end time of day. When the end is earlier than
//! the start, the window crosses midnight: 22:00–02:00 opens at 22:00 on one
//! day and closes at 02:00 the next. Each daily occurrence is named by the
//! date on which it opens. An occurrence includes its opening instant and
//! excludes its closing one. Times that a DST change skips move forward by
//! the length of the gap, and repeated times take their first occurrence,
//! as jiff's `compatible` strategy does.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// Days of occurrences examined at most by one [`CheckInWindow::closing_between`] call.
// NOTE: an engine that was stopped for longer judges only the last year of
// windows; older ones cannot raise anything useful any more.
const MAX_DAYS: i64 = 366;

/// A daily check-in window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WindowFields")]
pub struct CheckInWindow {
    pub start: Time,
    pub end: Time,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowFields {
    start: Time,
    end: Time,
}

impl TryFrom<WindowFields> for CheckInWindow {
    type Error = String;

    fn try_from(fields: WindowFields) -> Result<Self, String> {
        Self::new(fields.start, fields.end)
    }
}

/// Checks in from midnight until 10:00.
impl Default for CheckInWindow {
    fn default() -> Self {
        Self {
            start: Time::midnight(),
            end: Time::constant(10, 0, 0, 0),
        }
    }
}

/// One day's occurrence of a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// The local date on which it opens.
    pub date: Date,
    pub opens: Timestamp,
    pub closes: Timestamp,
}

impl Occurrence {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.opens <= at && at < self.closes
    }
}

impl CheckInWindow {
    /// Builds a window; start and end must differ.
    pub fn new(start: Time, end: Time) -> Result<Self, String> {
        if start == end {
            return Err(format!(
                "the check-in window starts and ends at {}; give an end that differs from the start",
                start.strftime("%H:%M")
            ));
        }
        Ok(Self { start, end })
    }

    pub fn crosses_midnight(&self) -> bool {
        self.end < self.start
    }

    /// Returns the occurrence that opens on `date`.
    pub fn occurrence(&self, date: Date, tz: &TimeZone) -> Occurrence {
        let end_date = if self.crosses_midnight() {
            date.tomorrow().unwrap_or(date)
        } else {
            date
        };
        Occurrence {
            date,
            opens: local(tz, date, self.start),
            closes: local(tz, end_date, self.end),
        }
    }

    /// Returns the latest occurrence that has opened at `now`: the one open
    /// now, or else the one that closed last.
    pub fn current(&self, now: Timestamp, tz: &TimeZone) -> Occurrence {
        let today = tz.to_datetime(now).date();
        let occurrence = self.occurrence(today, tz);
        if occurrence.opens <= now {
            return occurrence;
        }
        self.occurrence(today.yesterday().unwrap_or(today), tz)
    }

    /// Returns the occurrences that close after `after` and at or before
    /// `until`, oldest first.
    pub fn closing_between(
        &self,
        after: Timestamp,
        until: Timestamp,
        tz: &TimeZone,
    ) -> Vec<Occurrence> {
        if until <= after {
            return Vec::new();
        }
        let last = tz.to_datetime(until).date();
        let mut first = tz
            .to_datetime(after)
            .date()
            .checked_sub(1.day())
            .unwrap_or(last);
        if let Ok(earliest) = last.checked_sub(MAX_DAYS.days())
            && first < earliest
        {
            first = earliest;
        }

        let mut occurrences = Vec::new();
        let mut date = first;
        while date <= last {
            let occurrence = self.occurrence(date, tz);
            if after < occurrence.closes && occurrence.closes <= until {
                occurrences.push(occurrence);
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        occurrences
    }
}

fn local(tz: &TimeZone, date: Date, time: Time) -> Timestamp {
    tz.to_timestamp(date.to_datetime(time))
        .unwrap_or(Timestamp::MAX)
}
