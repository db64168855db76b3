//! Loading repair tickets and eldercare check-ins from the event log.
//!
//! Tickets and care state are rebuilt from their events at start, never
//! from a snapshot: the care engine must see each record at its own time.

use rusqlite::params_from_iter;

use super::database::{Store, StoreError};
use crate::domain::services::{ServiceSetup, Services};
use crate::domain::time::from_millis;
use crate::domain::{Event, EventBody};

/// Kinds of the events the services fold, as `EventBody::kind` names them.
pub const SERVICE_KINDS: [&str; 11] = [
    "ticket_created",
    "ticket_acted",
    "ticket_received",
    "ticket_overdue_noticed",
    "care_check_in",
    "care_activity",
    "care_sos",
    "care_fall",
    "care_outcome",
    "care_signal",
    "care_watching",
];

/// Events read per query while loading.
const PAGE: i64 = 5_000;

impl Store {
    /// Folds every ticket and care event of the log into services for `setup`.
    pub fn load_services(&self, setup: ServiceSetup) -> Result<Services, StoreError> {
        let mut services = Services::new(setup);
        let mut after = 0;
        loop {
            let events = self.service_events_after(after, PAGE)?;
            let Some(last) = events.last() else {
                break;
            };
            after = last.seq;
            for event in &events {
                services.apply(&event.body, event.at);
            }
        }
        services.take_follow_ups();
        services.applied_seq = after;
        Ok(services)
    }

    /// Returns the sequence number of the newest ticket or care event, 0 when none.
    pub fn last_service_seq(&self) -> Result<i64, StoreError> {
        let marks = vec!["?"; SERVICE_KINDS.len()].join(", ");
        let sql = format!("SELECT COALESCE(MAX(seq), 0) FROM events WHERE kind IN ({marks})");
        let seq = self
            .conn
            .query_row(&sql, params_from_iter(SERVICE_KINDS), |row| row.get(0))?;
        Ok(seq)
    }

    /// Up to `limit` ticket and care events after `seq`, oldest first.
    pub fn service_events_after(&self, seq: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
        let marks = vec!["?"; SERVICE_KINDS.len()].join(", ");
        let sql = format!(
            "SELECT seq, id, at_ms, body FROM events
             WHERE kind IN ({marks}) AND seq > ? ORDER BY seq LIMIT ?"
        );
        let mut values: Vec<rusqlite::types::Value> = SERVICE_KINDS
            .iter()
            .map(|kind| rusqlite::types::Value::Text((*kind).to_owned()))
            .collect();
        values.push(seq.into());
        values.push(limit.into());

        let mut rows = self.conn.prepare_cached(&sql)?;
        let mapped = rows.query_map(params_from_iter(values), |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?;
        let mut events = Vec::new();
        for row in mapped {
            let (seq, id, at_ms, body) = row?;
            let body: EventBody = serde_json::from_str(&body)?;
            events.push(Event {
                seq,
                id: id.parse().unwrap_or_default(),
                at: from_millis(at_ms),
                body,
            });
        }
        Ok(events)
    }
}
