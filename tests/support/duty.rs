//! The duty log as the tests read it: the operators' actions stored as
//! `duty_recorded` events, straight from the SQLite file.

use std::path::Path;

/// One `duty_recorded` event: its `seq` and the action it records.
#[derive(Debug)]
pub struct DutyRow {
    pub seq: i64,
    pub action: serde_json::Value,
}

impl DutyRow {
    pub fn kind(&self) -> &str {
        self.action["action"].as_str().unwrap_or_default()
    }

    pub fn operator(&self) -> &str {
        self.action["operator"].as_str().unwrap_or_default()
    }
}

/// Reads the duty-log actions stored in `database`, oldest first.
pub fn duty_rows(database: &Path) -> Vec<DutyRow> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let mut statement = conn
        .prepare("SELECT seq, body FROM events WHERE kind = 'duty_recorded' ORDER BY seq")
        .unwrap();
    statement
        .query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .map(|(seq, body)| DutyRow {
            seq,
            action: serde_json::from_str::<serde_json::Value>(&body).unwrap()["action"].clone(),
        })
        .collect()
}
