//! The duty log as the log browser and the reports read it: one index row
//! per event (`log_entries`, same `seq`) with its category, operator,
//! priority and search text, and pages of events filtered by them.
//!
//! The index is derived from `events` and written in the transaction that
//! appends the event. A page shows the events themselves, which the hash
//! chain covers, and uses the index only to find them.

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, ToSql, params};

use super::database::{Store, StoreError};
use crate::domain::alarm::{ActionKind, Condition, EntryKind, Flood, Priority};
use crate::domain::time::{from_millis, to_millis};
use crate::domain::{Event, EventBody};
use crate::i18n::Lang;

/// Events indexed per transaction when catching up on older rows.
const INDEX_BATCH: i64 = 5_000;

/// Bound on the search text gathered from a record's fields, in bytes.
const MAX_TEXT: usize = 4_096;

/// Queries shorter than this many characters cannot use the trigram index.
const TRIGRAM: usize = 3;

/// The category of a log row, as the browser's kind filter offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogKind {
    /// An alarm raised, changed by the rules, or a flood.
    Alarm,
    /// An operator's action on an alarm or the sounder.
    AlarmAction,
    /// A duty-log entry written by an operator.
    Entry(EntryKind),
    LogIn,
    LogOut,
    /// A handover or its confirmation.
    Handover,
    /// A device or gateway registered, reported, came or went.
    Device,
    /// The broker link went up or down.
    Link,
    /// A payload that could not be decoded.
    DataError,
    /// A repair ticket created, acted on, received or overdue.
    Ticket,
    /// An eldercare check-in record.
    Care,
}

impl LogKind {
    /// Returns every category, entries in [`EntryKind::ALL`] order.
    pub fn all() -> Vec<LogKind> {
        let mut kinds = vec![Self::Alarm, Self::AlarmAction];
        kinds.extend(EntryKind::ALL.into_iter().map(Self::Entry));
        kinds.extend([
            Self::LogIn,
            Self::LogOut,
            Self::Handover,
            Self::Device,
            Self::Link,
            Self::DataError,
            Self::Ticket,
            Self::Care,
        ]);
        kinds
    }

    /// Returns the name stored in `log_entries.category`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alarm => "alarm",
            Self::AlarmAction => "alarm_action",
            Self::Entry(entry) => entry.as_str(),
            Self::LogIn => "log_in",
            Self::LogOut => "log_out",
            Self::Handover => "handover",
            Self::Device => "device",
            Self::Link => "link",
            Self::DataError => "data_error",
            Self::Ticket => "ticket",
            Self::Care => "care",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::all().into_iter().find(|kind| kind.as_str() == text)
    }

    /// Returns the category of an event.
    pub fn of(body: &EventBody) -> Self {
        match body {
            EventBody::AlarmRaised { .. }
            | EventBody::AlarmChanged { .. }
            | EventBody::AlarmFlood { .. } => Self::Alarm,
            EventBody::AlarmActed { .. } => Self::AlarmAction,
            EventBody::DutyRecorded { action } => match &action.kind {
                ActionKind::Note { entry, .. } => Self::Entry(*entry),
                ActionKind::LogIn => Self::LogIn,
                ActionKind::LogOut => Self::LogOut,
                ActionKind::HandOver { .. } | ActionKind::TakeOver { .. } => Self::Handover,
                _ => Self::AlarmAction,
            },
            EventBody::DeviceRegistered { .. }
            | EventBody::DeviceUnregistered { .. }
            | EventBody::DeviceDiscovered { .. }
            | EventBody::StateReported { .. }
            | EventBody::AvailabilityChanged { .. }
            | EventBody::GatewayAvailabilityChanged { .. }
            | EventBody::DeviceEventRaised { .. } => Self::Device,
            EventBody::DataErrorRaised { .. } => Self::DataError,
            EventBody::LinkChanged { .. } => Self::Link,
            EventBody::Ticket { .. } => Self::Ticket,
            EventBody::Care { .. } => Self::Care,
        }
    }
}

/// The browser's filter. Empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogFilter {
    /// Events at or after this instant.
    pub from: Option<Timestamp>,
    /// Events before this instant.
    pub to: Option<Timestamp>,
    /// Events of this operator (exact id).
    pub operator: Option<String>,
    /// Events of any of these categories; empty means all.
    pub kinds: Vec<LogKind>,
    /// Alarm events of this priority or a more urgent one.
    pub priority: Option<Priority>,
    /// A substring of the event's search text: operator, remark, device id
    /// and name, alarm condition and name, event text. Case-insensitive for
    /// ASCII letters.
    pub text: Option<String>,
}

/// One row of a page.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRow {
    pub seq: i64,
    pub at: Timestamp,
    pub kind: LogKind,
    pub operator: Option<String>,
    pub priority: Option<Priority>,
    pub body: EventBody,
}

/// A page of rows, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogPage {
    pub rows: Vec<LogRow>,
    /// Pass as `before_seq` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

impl Store {
    /// Returns up to `limit` rows matching `filter` with `seq` below
    /// `before_seq` (all when `None`), newest first.
    pub fn log_page(
        &self,
        filter: &LogFilter,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<LogPage, StoreError> {
        query_page(self.connection(), filter, before_seq, limit)
    }
}

fn query_page(
    conn: &Connection,
    filter: &LogFilter,
    before_seq: Option<i64>,
    limit: usize,
) -> Result<LogPage, StoreError> {
    let mut values: Vec<Box<dyn ToSql>> = Vec::new();
    let bind = |values: &mut Vec<Box<dyn ToSql>>, value: Box<dyn ToSql>| {
        values.push(value);
        format!("?{}", values.len())
    };
    let mut conditions: Vec<String> = Vec::new();

    let text = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty());
    let (from, order) = match text {
        Some(text) if text.chars().count() >= TRIGRAM => {
            let slot = bind(&mut values, Box::new(fts_phrase(text)));
            conditions.push(format!("log_text MATCH {slot}"));
            // Ordered by the full-text table's own rowid, which it yields
            // newest first without collecting every match.
            (
                "log_text JOIN log_entries l ON l.seq = log_text.rowid",
                "log_text.rowid",
            )
        }
        Some(text) => {
            // Too short for trigrams (two-character Chinese words are
            // common): a scan of the index rows, newest first, that stops
            // at the page's last match.
            let slot = bind(&mut values, Box::new(like_pattern(text)));
            conditions.push(format!("l.text LIKE {slot} ESCAPE '\\'"));
            ("log_entries l", "l.seq")
        }
        None => ("log_entries l", "l.seq"),
    };

    if let Some(before) = before_seq {
        let slot = bind(&mut values, Box::new(before));
        conditions.push(format!("l.seq < {slot}"));
    }
    if let Some(from) = filter.from {
        let slot = bind(&mut values, Box::new(to_millis(from)));
        conditions.push(format!("l.at_ms >= {slot}"));
    }
    if let Some(to) = filter.to {
        let slot = bind(&mut values, Box::new(to_millis(to)));
        conditions.push(format!("l.at_ms < {slot}"));
    }
    if let Some(operator) = &filter.operator {
        let slot = bind(&mut values, Box::new(operator.clone()));
        conditions.push(format!("l.operator = {slot}"));
    }

    // Several categories or priorities: one newest-first branch per value,
    // each walking its own index and stopping at the page size, merged
    // below. One `IN` or `<=` condition would collect and sort every
    // matching row instead.
    let mut branches: Vec<String> = Vec::new();
    for kind in &filter.kinds {
        let slot = bind(&mut values, Box::new(kind.as_str()));
        branches.push(format!("l.category = {slot}"));
    }
    if let Some(priority) = filter.priority {
        let most = priority_number(priority);
        if branches.is_empty() {
            for number in 1..=most {
                let slot = bind(&mut values, Box::new(number));
                branches.push(format!("l.priority = {slot}"));
            }
        } else {
            let slot = bind(&mut values, Box::new(most));
            conditions.push(format!("l.priority <= {slot}"));
        }
    }
    if branches.is_empty() {
        branches.push("1".to_owned());
    }
    let limit_slot = bind(&mut values, Box::new(limit as i64 + 1));

    let common = if conditions.is_empty() {
        "1".to_owned()
    } else {
        conditions.join(" AND ")
    };
    let selects: Vec<String> = branches
        .iter()
        .map(|branch| {
            format!(
                "SELECT seq FROM (SELECT l.seq AS seq FROM {from} WHERE {common} AND {branch}
                 ORDER BY {order} DESC LIMIT {limit_slot})"
            )
        })
        .collect();
    let sql = format!(
        "SELECT l.seq, e.at_ms, l.category, l.operator, l.priority, e.body
         FROM log_entries l JOIN events e ON e.seq = l.seq
         WHERE l.seq IN ({})
         ORDER BY l.seq DESC LIMIT {limit_slot}",
        selects.join(" UNION ALL ")
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let params: Vec<&dyn ToSql> = values.iter().map(|value| value.as_ref()).collect();
    let mapped = statement.query_map(params.as_slice(), |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, Option<i64>>(4)?,
            row.get::<_, String>(5)?,
        ))
    })?;

    let mut page = LogPage::default();
    for row in mapped {
        let (seq, at_ms, category, operator, priority, body) = row?;
        if page.rows.len() == limit {
            page.next_before = page.rows.last().map(|row| row.seq);
            break;
        }
        let body: EventBody = serde_json::from_str(&body)?;
        page.rows.push(LogRow {
            seq,
            at: from_millis(at_ms),
            kind: LogKind::parse(&category).unwrap_or_else(|| LogKind::of(&body)),
            operator,
            priority: priority.and_then(priority_from_number),
            body,
        });
    }
    Ok(page)
}

/// Quotes text as one FTS5 phrase, so that its punctuation is not syntax.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Returns a `LIKE` pattern for a substring, with `%`, `_` and `\` escaped.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

fn priority_number(priority: Priority) -> i64 {
    match priority {
        Priority::P1 => 1,
        Priority::P2 => 2,
        Priority::P3 => 3,
        Priority::P4 => 4,
    }
}

fn priority_from_number(number: i64) -> Option<Priority> {
    Priority::ALL
        .into_iter()
        .find(|priority| priority_number(*priority) == number)
}

/// The index row of one event.
#[derive(Debug, PartialEq)]
struct IndexRow {
    category: LogKind,
    operator: Option<String>,
    priority: Option<Priority>,
    text: String,
}

/// The facts of an alarm that the index row of an event about it needs.
struct AlarmFacts {
    priority: Option<Priority>,
    condition: Option<Condition>,
    name: String,
    device: Option<String>,
}

/// Writes the index rows of freshly appended events. Runs inside the
/// appending transaction, after the alarm and device snapshots of the same
/// batch are written, so that their names and priorities are found.
///
/// NOTE: this row, its four indexes and its full-text entry make a commit
/// roughly 2 to 4 times as costly per event as the bare event insert
/// (`benches/log.rs`). Which part weighs most is not measured yet.
pub(super) fn index_events(
    conn: &Connection,
    events: &[Event],
    devices: &[crate::domain::Device],
) -> Result<(), StoreError> {
    // Device names from the batch's own snapshots first: parsing a stored
    // snapshot's JSON for every event is what a commit would spend most on.
    let mut names: HashMap<String, Option<String>> = devices
        .iter()
        .map(|device| (device.spec.id.clone(), Some(device.spec.name.clone())))
        .collect();
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO log_entries (seq, at_ms, category, operator, priority, text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for event in events {
        let row = index_row(conn, &event.body, &mut names)?;
        insert.execute(params![
            event.seq,
            to_millis(event.at),
            row.category.as_str(),
            row.operator,
            row.priority.map(priority_number),
            row.text,
        ])?;
    }
    Ok(())
}

/// Indexes events stored before the index existed (or by a build without
/// it), oldest first, in batches. Returns how many it indexed.
pub(super) fn index_missing(conn: &mut Connection) -> Result<u64, StoreError> {
    let mut indexed = 0;
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let events = {
            let mut select = tx.prepare(
                "SELECT seq, id, at_ms, body FROM events
                 WHERE seq > (SELECT COALESCE(MAX(seq), 0) FROM log_entries)
                 ORDER BY seq LIMIT ?1",
            )?;
            let rows = select.query_map([INDEX_BATCH], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })?;
            let mut events = Vec::new();
            for row in rows {
                let (seq, id, at_ms, body) = row?;
                events.push(Event {
                    seq,
                    id: id.parse().unwrap_or_default(),
                    at: from_millis(at_ms),
                    body: serde_json::from_str(&body)?,
                });
            }
            events
        };
        if events.is_empty() {
            return Ok(indexed);
        }
        index_events(&tx, &events, &[])?;
        tx.commit()?;
        indexed += events.len() as u64;
    }
}

fn index_row(
    conn: &Connection,
    body: &EventBody,
    names: &mut HashMap<String, Option<String>>,
) -> Result<IndexRow, StoreError> {
    let mut text = SearchText {
        text: String::new(),
        names,
    };
    let mut operator = None;
    let mut priority = None;
    match body {
        EventBody::DeviceRegistered { spec } | EventBody::DeviceDiscovered { spec } => {
            text.push(&spec.id);
            text.push(&spec.name);
            text.push(&spec.building);
            text.push(&spec.zone);
        }
        EventBody::DeviceUnregistered { device }
        | EventBody::StateReported { device, .. }
        | EventBody::AvailabilityChanged { device, .. } => {
            text.device(conn, device)?;
        }
        EventBody::GatewayAvailabilityChanged { gateway, .. } => text.push(gateway),
        EventBody::DeviceEventRaised {
            device,
            event,
            text: detail,
            ..
        } => {
            text.device(conn, device)?;
            text.push(event);
            text.push_optional(detail.as_deref());
        }
        EventBody::DataErrorRaised {
            device,
            topic,
            code,
            reason,
        } => {
            text.device(conn, device)?;
            text.push(topic);
            text.push(code);
            text.push(reason);
        }
        EventBody::LinkChanged { detail, .. } => text.push(detail),
        EventBody::AlarmRaised { raise } => {
            priority = Some(raise.priority);
            text.push(&raise.source);
            text.push_optional(raise.device.as_deref());
            text.push(&raise.name);
            text.push(&raise.building);
            text.push(&raise.zone);
            text.condition(raise.condition);
            text.push_optional(raise.text.as_deref());
        }
        EventBody::AlarmChanged { alarm, change } => {
            priority = text.alarm(conn, *alarm)?;
            text.push(change.as_str());
        }
        EventBody::AlarmActed { action } | EventBody::DutyRecorded { action } => {
            operator = Some(action.operator.clone());
            text.push(&action.operator);
            text.push(action.kind.as_str());
            text.push(&action.remark);
            if let Some(alarm) = action.alarm {
                priority = text.alarm(conn, alarm)?;
            }
            match &action.kind {
                ActionKind::OutOfService { device, .. } => text.device(conn, device)?,
                ActionKind::HandOver { shift } | ActionKind::TakeOver { shift, .. } => {
                    text.push(shift);
                }
                _ => {}
            }
        }
        EventBody::Ticket { action, .. } | EventBody::Care { action, .. } => {
            if let Some(action) = action {
                operator = Some(action.operator.clone());
            }
            if let Some(device) = body.device() {
                text.device(conn, device)?;
            }
            text.push(body.kind());
            // Their records carry titles, places and notes in many fields:
            // every text value of the stored form is searchable.
            if let Ok(value) = serde_json::to_value(body) {
                text.strings_of(&value);
            }
        }
        EventBody::AlarmFlood { flood } => {
            text.push("flood");
            if let Flood::Ended { by_condition, .. } = flood {
                for (condition, _) in by_condition {
                    text.condition(*condition);
                }
            }
        }
    }
    Ok(IndexRow {
        category: LogKind::of(body),
        operator,
        priority,
        text: text.text,
    })
}

/// Search text, one item per line, and the device names looked up so far.
struct SearchText<'a> {
    text: String,
    names: &'a mut HashMap<String, Option<String>>,
}

impl SearchText<'_> {
    fn push(&mut self, item: &str) {
        let item = item.trim();
        if item.is_empty() {
            return;
        }
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(item);
    }

    /// Adds every string in a JSON value, up to [`MAX_TEXT`] bytes in all.
    fn strings_of(&mut self, value: &serde_json::Value) {
        match value {
            serde_json::Value::String(item) if self.text.len() + item.len() <= MAX_TEXT => {
                self.push(item);
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| self.strings_of(item)),
            serde_json::Value::Object(fields) => {
                fields.values().for_each(|item| self.strings_of(item));
            }
            _ => {}
        }
    }

    fn push_optional(&mut self, item: Option<&str>) {
        if let Some(item) = item {
            self.push(item);
        }
    }

    /// Adds the condition's id and its names in both languages, so that a
    /// search finds the alarm by the words the screens show.
    fn condition(&mut self, condition: Condition) {
        let key = format!("condition.{}", condition.as_str());
        self.push(condition.as_str());
        self.push(Lang::En.t(&key));
        self.push(Lang::ZhCn.t(&key));
    }

    /// Adds a device's id and its name as the snapshot has it.
    fn device(&mut self, conn: &Connection, device: &str) -> Result<(), StoreError> {
        self.push(device);
        if !self.names.contains_key(device) {
            let name: Option<Option<String>> = conn
                .prepare_cached(
                    "SELECT json_extract(snapshot, '$.spec.name') FROM devices WHERE id = ?1",
                )?
                .query_row([device], |row| row.get(0))
                .optional()?;
            self.names.insert(device.to_owned(), name.flatten());
        }
        let name = self.names.get(device).cloned().flatten();
        self.push_optional(name.as_deref());
        Ok(())
    }

    /// Adds an alarm's name, condition and device, and returns its priority.
    fn alarm(&mut self, conn: &Connection, alarm: u64) -> Result<Option<Priority>, StoreError> {
        let Some(facts) = alarm_facts(conn, alarm)? else {
            return Ok(None);
        };
        self.push(&facts.name);
        if let Some(condition) = facts.condition {
            self.condition(condition);
        }
        if let Some(device) = &facts.device {
            self.push(device);
        }
        Ok(facts.priority)
    }
}

fn alarm_facts(conn: &Connection, alarm: u64) -> Result<Option<AlarmFacts>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT json_extract(snapshot, '$.priority'), json_extract(snapshot, '$.condition'),
                    json_extract(snapshot, '$.name'), json_extract(snapshot, '$.device')
             FROM alarms WHERE id = ?1",
        )?
        .query_row([alarm as i64], |row| {
            Ok((
                row.get::<_, Option<String>>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<String>>(3)?,
            ))
        })
        .optional()?;
    Ok(row.map(|(priority, condition, name, device)| AlarmFacts {
        priority: priority.as_deref().and_then(Priority::parse),
        condition: condition.as_deref().and_then(Condition::parse),
        name: name.unwrap_or_default(),
        device,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in LogKind::all() {
            assert_eq!(LogKind::parse(kind.as_str()), Some(kind), "{kind:?}");
        }
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("5%_\\"), "%5\\%\\_\\\\%");
        assert_eq!(like_pattern("烟感"), "%烟感%");
    }

    #[test]
    fn fts_phrase_doubles_quotes() {
        assert_eq!(fts_phrase("a \"b\" c"), "\"a \"\"b\"\" c\"");
    }
}
