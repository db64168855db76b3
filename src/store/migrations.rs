//! Versioned schema migrations, tracked in SQLite's `user_version`.
//!
//! A migration is appended, never edited: existing databases have already run
//! the old text.

use rusqlite::Connection;

/// Each entry moves the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: event log, device and gateway snapshots, metadata.
    "
    CREATE TABLE events (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        id         TEXT    NOT NULL UNIQUE,
        at_ms      INTEGER NOT NULL,
        kind       TEXT    NOT NULL,
        device     TEXT,
        dedupe_key TEXT    UNIQUE,
        body       TEXT    NOT NULL
    );
    CREATE INDEX events_by_device ON events (device, seq);
    CREATE INDEX events_by_time ON events (at_ms);

    CREATE TABLE devices (
        id           TEXT    PRIMARY KEY,
        snapshot     TEXT    NOT NULL,
        last_seen_ms INTEGER,
        rev          INTEGER NOT NULL
    );
    CREATE INDEX devices_by_rev ON devices (rev);

    CREATE TABLE gateways (
        id       TEXT    PRIMARY KEY,
        snapshot TEXT    NOT NULL,
        rev      INTEGER NOT NULL
    );

    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    ",
    // 2: alarm snapshots and the outbox of messages to publish.
    "
    CREATE TABLE alarms (
        id        INTEGER PRIMARY KEY,
        open      INTEGER NOT NULL,
        raised_ms INTEGER NOT NULL,
        closed_ms INTEGER,
        snapshot  TEXT    NOT NULL,
        rev       INTEGER NOT NULL
    );
    CREATE INDEX alarms_by_rev ON alarms (rev);
    CREATE INDEX alarms_open ON alarms (open, closed_ms);
    CREATE INDEX events_by_kind ON events (kind, seq);

    CREATE TABLE outbox (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        event_seq  INTEGER NOT NULL,
        topic      TEXT    NOT NULL,
        payload    TEXT    NOT NULL,
        created_ms INTEGER NOT NULL,
        sent_ms    INTEGER
    );
    CREATE INDEX outbox_unsent ON outbox (sent_ms, seq);
    ",
    // 3: operator actions handed in by attached consoles for the recorder.
    "
    CREATE TABLE requests (
        row        INTEGER PRIMARY KEY AUTOINCREMENT,
        action_id  TEXT    NOT NULL UNIQUE,
        console    TEXT    NOT NULL,
        body       TEXT    NOT NULL,
        created_ms INTEGER NOT NULL,
        state      TEXT    NOT NULL DEFAULT 'pending',
        reason     TEXT,
        done_ms    INTEGER
    );
    CREATE INDEX requests_pending ON requests (state, row);
    ",
    // 4: the duty log's hash chain and the operators who log in.
    "
    ALTER TABLE events ADD COLUMN hash TEXT;

    CREATE TABLE operators (
        id              TEXT    PRIMARY KEY,
        name            TEXT    NOT NULL,
        role            TEXT    NOT NULL,
        pin_hash        TEXT    NOT NULL,
        disabled        INTEGER NOT NULL DEFAULT 0,
        failures        INTEGER NOT NULL DEFAULT 0,
        locked_until_ms INTEGER,
        created_ms      INTEGER NOT NULL,
        changed_ms      INTEGER NOT NULL
    );
    ",
    // 5: the log browser's index of events and its full-text search. Rows
    // are derived from `events` (same `seq`); existing events are indexed
    // when the database is next opened for writing. The trigram tokenizer
    // matches any substring of 3 or more characters, Chinese included.
    "
    CREATE TABLE log_entries (
        seq      INTEGER PRIMARY KEY,
        at_ms    INTEGER NOT NULL,
        category TEXT    NOT NULL,
        operator TEXT,
        priority INTEGER,
        text     TEXT    NOT NULL
    );
    CREATE INDEX log_by_time ON log_entries (at_ms);
    CREATE INDEX log_by_category ON log_entries (category, seq);
    CREATE INDEX log_by_operator ON log_entries (operator, seq);
    CREATE INDEX log_by_priority ON log_entries (priority, seq);

    CREATE VIRTUAL TABLE log_text USING fts5 (
        text, content = 'log_entries', content_rowid = 'seq', tokenize = 'trigram'
    );
    CREATE TRIGGER log_entries_added AFTER INSERT ON log_entries BEGIN
        INSERT INTO log_text (rowid, text) VALUES (new.seq, new.text);
    END;
    CREATE TRIGGER log_entries_removed AFTER DELETE ON log_entries BEGIN
        INSERT INTO log_text (log_text, rowid, text) VALUES ('delete', old.seq, old.text);
    END;
    ",
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the schema up to date. Fails on a database from a newer build
/// instead of guessing at its layout.
pub fn migrate(conn: &mut Connection) -> Result<(), MigrationError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > latest() {
        return Err(MigrationError::TooNew {
            found: current,
            supported: latest(),
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "database schema migrated");
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "database schema version {found} is newer than this build supports ({supported}); upgrade guardroom"
    )]
    TooNew { found: i64, supported: i64 },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}
