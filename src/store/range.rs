//! Reading the log by time: the events of a range in `seq` order, read in
//! pages so that a year of events never sits in memory at once, and the
//! raises of older alarms that were acted on inside a range.

use std::collections::{BTreeSet, VecDeque};

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::database::{Store, StoreError};
use crate::domain::time::{from_millis, to_millis};
use crate::domain::{Event, EventBody};

/// Events read per query.
const PAGE: usize = 2_000;

/// The newest link of the log's hash chain: its `seq` and hash.
pub type ChainHead = (i64, String);

/// Events in `seq` order, read a page at a time. Yields `Err` once and
/// then stops when a page cannot be read.
pub struct EventPages<'a> {
    store: &'a Store,
    /// The last `seq` already read.
    after: i64,
    /// The last `seq` to read.
    through: i64,
    /// Only events with `at` in this range, when set.
    window: Option<(i64, i64)>,
    buffer: VecDeque<Event>,
    failed: bool,
}

impl Iterator for EventPages<'_> {
    type Item = Result<Event, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.buffer.is_empty() && self.after < self.through {
            match self.store.page(self.after, self.through, self.window) {
                Ok((page, last)) => {
                    self.after = last.unwrap_or(self.through);
                    self.buffer = page.into();
                }
                Err(error) => {
                    self.failed = true;
                    return Some(Err(error));
                }
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}

impl Store {
    /// Returns the first and last `seq` of the events with `at` in
    /// `[from, to)`, or `None` when there are none.
    pub fn seq_bounds(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let bounds: (Option<i64>, Option<i64>) = self.conn.query_row(
            "SELECT MIN(seq), MAX(seq) FROM events WHERE at_ms >= ?1 AND at_ms < ?2",
            params![to_millis(from), to_millis(to)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok(match bounds {
            (Some(first), Some(last)) => Some((first, last)),
            _ => None,
        })
    }

    /// Streams the events with `at` in `[from, to)`, in `seq` order.
    ///
    /// Times come from the recording console's clock, so `seq` order and
    /// time order can differ by a clock step; an event is in the range by
    /// its own time, wherever it sits in the log.
    pub fn events_in_range(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<EventPages<'_>, StoreError> {
        let (first, last) = self.seq_bounds(from, to)?.unwrap_or((1, 0));
        Ok(EventPages {
            store: self,
            after: first - 1,
            through: last,
            window: Some((to_millis(from), to_millis(to))),
            buffer: VecDeque::new(),
            failed: false,
        })
    }

    /// Streams every event from the start of the log through `through`, in
    /// `seq` order: the input of a replay up to a point in the log.
    pub fn events_through(&self, through: i64) -> EventPages<'_> {
        EventPages {
            store: self,
            after: 0,
            through,
            window: None,
            buffer: VecDeque::new(),
            failed: false,
        }
    }

    /// Returns the highest `seq` of an event with `at` before `before`, or 0.
    pub fn last_seq_before(&self, before: Timestamp) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM events WHERE at_ms < ?1",
            [to_millis(before)],
            |row| row.get(0),
        )?)
    }

    /// Returns the `alarm_raised` events of `alarms` recorded before
    /// `before`, in `seq` order: the raises behind acknowledgements and
    /// closes inside a range whose alarms were raised earlier.
    pub fn raises_before(
        &self,
        alarms: &BTreeSet<u64>,
        before: Timestamp,
    ) -> Result<Vec<Event>, StoreError> {
        let mut found = Vec::new();
        let mut missing = BTreeSet::new();

        // The `alarms` table keeps each alarm's raise time, and the time
        // index finds the raise event from it.
        let mut raised_ms = self
            .conn
            .prepare_cached("SELECT raised_ms FROM alarms WHERE id = ?1")?;
        for alarm in alarms {
            let at: Option<i64> = raised_ms
                .query_row([*alarm as i64], |row| row.get(0))
                .optional()?;
            let raise = match at {
                Some(at) if at < to_millis(before) => self.raise_at(*alarm, at)?,
                _ => None,
            };
            match raise {
                Some(event) => found.push(event),
                None => {
                    missing.insert(*alarm);
                }
            }
        }

        if !missing.is_empty() {
            found.extend(self.scan_raises(&missing, before)?);
        }
        found.sort_by_key(|event| event.seq);
        Ok(found)
    }

    /// Reads the `chain_head` meta value: the `seq` and hash of the newest
    /// event in the hash chain, stored as `SEQ:HASH` or as a JSON object
    /// `{"seq": SEQ, "hash": HASH}`.
    pub fn chain_head(&self) -> Result<Option<ChainHead>, StoreError> {
        let value: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'chain_head'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        Ok(value.as_deref().and_then(parse_chain_head))
    }

    fn raise_at(&self, alarm: u64, at_ms: i64) -> Result<Option<Event>, StoreError> {
        let mut rows = self.conn.prepare_cached(
            "SELECT seq, id, at_ms, body FROM events
             WHERE at_ms = ?1 AND kind = 'alarm_raised' ORDER BY seq",
        )?;
        let events = read_events(rows.query(params![at_ms])?)?;
        Ok(events
            .into_iter()
            .find(|event| event.body.alarm() == Some(alarm)))
    }

    /// Walks the raises before `before`, newest first, until all of
    /// `alarms` are found: for alarms the `alarms` table no longer holds.
    fn scan_raises(
        &self,
        alarms: &BTreeSet<u64>,
        before: Timestamp,
    ) -> Result<Vec<Event>, StoreError> {
        let mut rows = self.conn.prepare_cached(
            "SELECT seq, id, at_ms, body FROM events
             WHERE kind = 'alarm_raised' AND seq < ?1 AND at_ms < ?2
             ORDER BY seq DESC LIMIT ?3",
        )?;
        let mut found = Vec::new();
        let mut below = i64::MAX;
        while found.len() < alarms.len() {
            let page = read_events(rows.query(params![below, to_millis(before), PAGE as i64])?)?;
            let Some(last) = page.last() else { break };
            below = last.seq;
            found.extend(page.into_iter().filter(|event| {
                matches!(&event.body, EventBody::AlarmRaised { raise } if alarms.contains(&raise.alarm))
            }));
        }
        Ok(found)
    }

    /// Reads one page after `after` up to `through`; returns the events in
    /// the window and the last `seq` looked at. Bodies outside the window
    /// are not parsed.
    fn page(
        &self,
        after: i64,
        through: i64,
        window: Option<(i64, i64)>,
    ) -> Result<(Vec<Event>, Option<i64>), StoreError> {
        let (from, to) = window.unwrap_or((i64::MIN, i64::MAX));
        let mut rows = self.conn.prepare_cached(
            "SELECT seq, id, at_ms, body FROM events
             WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
        )?;
        let mut rows = rows.query(params![after, through, PAGE as i64])?;
        let mut events = Vec::new();
        let mut last = None;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let at_ms: i64 = row.get(2)?;
            last = Some(seq);
            if at_ms < from || at_ms >= to {
                continue;
            }
            events.push(event_of(row)?);
        }
        Ok((events, last))
    }
}

fn event_of(row: &rusqlite::Row<'_>) -> Result<Event, StoreError> {
    let id: String = row.get(1)?;
    let body: String = row.get(3)?;
    Ok(Event {
        seq: row.get(0)?,
        id: id.parse().unwrap_or_default(),
        at: from_millis(row.get(2)?),
        body: serde_json::from_str(&body)?,
    })
}

fn read_events(mut rows: rusqlite::Rows<'_>) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        events.push(event_of(row)?);
    }
    Ok(events)
}

fn parse_chain_head(value: &str) -> Option<ChainHead> {
    let value = value.trim();
    if value.starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(value).ok()?;
        let seq = json.get("seq")?.as_i64()?;
        let hash = json.get("hash")?.as_str()?;
        return Some((seq, hash.to_owned()));
    }
    let (seq, hash) = value.split_once([':', ' '])?;
    Some((seq.trim().parse().ok()?, hash.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_head_forms() {
        assert_eq!(parse_chain_head("42:abc"), Some((42, "abc".into())));
        assert_eq!(
            parse_chain_head(r#"{"seq": 7, "hash": "ff"}"#),
            Some((7, "ff".into()))
        );
        assert_eq!(parse_chain_head("abc"), None);
    }
}
