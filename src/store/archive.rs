//! Moving old events out of the main database into an archive file, with
//! the hash chain kept checkable across the cut.
//!
//! An archive is a SQLite file with the moved `events` rows (hashes
//! included) and a `meta` table in the main file's format: `chain_anchor`
//! is the point its first row chains from, `chain_head` its last row. The
//! main file then records that last row as its own `chain_anchor`, so
//! `log verify` checks each file alone and that the two join.
//!
//! The order of the steps is what keeps a crash harmless: the archive is
//! written under a temporary name, synced, renamed and checked before a
//! single transaction deletes the rows from the main file. Interrupted
//! anywhere, a run leaves every row in at least one file, and running it
//! again finishes the work.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::chain::{self, Link};
use super::database::{Store, StoreError};
use super::verify::{self, Verdict};
use crate::domain::alarm::{Action, ActionKind};
use crate::domain::time::to_millis;

/// How long the final delete waits for the recorder's write lock.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// `meta` key that marks a file as an archive, with its format version.
const FORMAT_KEY: &str = "archive_format";

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error in {path}: {error}")]
    Sql {
        path: PathBuf,
        error: rusqlite::Error,
    },
    #[error("cannot write {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "{path} already exists and is not the archive of this run; give another --output or move it away"
    )]
    OutputExists { path: PathBuf },
    #[error("the archive {path} failed its check after writing: {detail}")]
    Unverified { path: PathBuf, detail: String },
    #[error("another archive run changed the database meanwhile; run the command again")]
    Concurrent,
}

/// The outcome of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Archived {
    /// Rows `first..=last.seq` moved to `output`.
    Moved {
        rows: u64,
        first: i64,
        last: Link,
        output: PathBuf,
    },
    /// No row is old enough, or every old row is still referred to.
    Nothing {
        /// The oldest row the run had to keep, if any.
        kept_from: Option<i64>,
        /// True when the kept row is referred to by an unsent outbox row or
        /// a pending request rather than being too new.
        referenced: bool,
    },
    /// `output` already contains the rows up to the main file's anchor.
    AlreadyArchived { output: PathBuf, last: Link },
}

/// The rows a run moves: after `anchor`, up to and including `last`.
struct Plan {
    anchor: Link,
    first: i64,
    last: i64,
}

/// Moves the events older than `before` from the database at `database` into
/// the archive file `output`. Rows that an unsent outbox row or a pending
/// request still refers to stay, and so does everything after them, because
/// the main file keeps an unbroken tail of the chain.
pub fn archive(
    database: &Path,
    before: Timestamp,
    output: &Path,
) -> Result<Archived, ArchiveError> {
    let mut store = Store::open(database)?;
    store
        .connection()
        .busy_timeout(LOCK_WAIT)
        .map_err(StoreError::from)?;
    let conn = store.connection_mut();

    let planned = plan(conn, before)?;
    let plan = match planned {
        Ok(plan) => plan,
        Err(nothing) => {
            if let Some(done) = already_archived(conn, output)? {
                return Ok(done);
            }
            return Ok(nothing);
        }
    };

    let last = if output.exists() {
        match resumable(conn, &plan, output)? {
            Some(last) => last,
            None => {
                return Err(ArchiveError::OutputExists {
                    path: output.to_path_buf(),
                });
            }
        }
    } else {
        write_archive(conn, &plan, before, output)?
    };
    check_archive(output, &plan.anchor, &last)?;

    let rows = remove_archived(conn, &plan.anchor, &last)?;
    tracing::info!(rows, first = plan.first, last = last.seq, output = %output.display(), "events archived");
    Ok(Archived::Moved {
        rows,
        first: plan.first,
        last,
        output: output.to_path_buf(),
    })
}

/// Works out which rows to move, or why none.
fn plan(conn: &Connection, before: Timestamp) -> Result<Result<Plan, Archived>, StoreError> {
    let anchor = chain::read_link(conn, chain::ANCHOR_KEY)?.unwrap_or_else(Link::genesis);
    let first: Option<i64> = conn.query_row(
        "SELECT MIN(seq) FROM events WHERE seq > ?1",
        [anchor.seq],
        |row| row.get(0),
    )?;
    let Some(first) = first else {
        return Ok(Err(Archived::Nothing {
            kept_from: None,
            referenced: false,
        }));
    };

    // The main file keeps a contiguous tail: everything from the first row
    // that is too new or still referred to stays.
    let too_new: Option<i64> = conn.query_row(
        "SELECT MIN(seq) FROM events WHERE at_ms >= ?1 AND seq > ?2",
        params![to_millis(before), anchor.seq],
        |row| row.get(0),
    )?;
    let referenced = first_referenced(conn, anchor.seq)?;
    let keep_from = match (too_new, referenced) {
        (Some(new), Some(referred)) => Some(new.min(referred)),
        (new, referred) => new.or(referred),
    };
    let last: i64 = match keep_from {
        Some(keep) => keep - 1,
        None => conn.query_row("SELECT MAX(seq) FROM events", [], |row| row.get(0))?,
    };
    if last < first {
        return Ok(Err(Archived::Nothing {
            kept_from: keep_from,
            referenced: referenced.is_some() && referenced == keep_from,
        }));
    }
    Ok(Ok(Plan {
        anchor,
        first,
        last,
    }))
}

/// Finds the oldest event after `anchor` that an unsent outbox row or a
/// pending request refers to.
fn first_referenced(conn: &Connection, anchor: i64) -> Result<Option<i64>, StoreError> {
    let mut oldest: Option<i64> = conn.query_row(
        "SELECT MIN(event_seq) FROM outbox WHERE sent_ms IS NULL AND event_seq > ?1",
        [anchor],
        |row| row.get(0),
    )?;
    let mut keep = |seq: i64| {
        if seq > anchor {
            oldest = Some(oldest.map_or(seq, |old| old.min(seq)));
        }
    };

    let mut pending = conn.prepare("SELECT body FROM requests WHERE state = 'pending'")?;
    let bodies = pending
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for body in bodies {
        let Ok(action) = serde_json::from_str::<Action>(&body) else {
            continue;
        };
        match action.kind {
            ActionKind::Note {
                refers_to: Some(seq),
                ..
            } => keep(seq),
            ActionKind::TakeOver { handover, .. } => {
                let seq: Option<i64> = conn
                    .query_row(
                        "SELECT seq FROM events WHERE dedupe_key = ?1",
                        [format!("act:{handover}")],
                        |row| row.get(0),
                    )
                    .optional()?;
                if let Some(seq) = seq {
                    keep(seq);
                }
            }
            _ => {}
        }
    }
    Ok(oldest)
}

/// Copies the planned rows into a new archive at `output`, written under a
/// temporary name and renamed once synced. Returns its last row.
fn write_archive(
    conn: &mut Connection,
    plan: &Plan,
    before: Timestamp,
    output: &Path,
) -> Result<Link, ArchiveError> {
    let partial = with_suffix(output, ".partial");
    remove_if_present(&partial)?;
    let sql = |error| ArchiveError::Sql {
        path: partial.clone(),
        error,
    };

    let archive = Connection::open(&partial).map_err(sql)?;
    archive
        .execute_batch(
            "PRAGMA journal_mode = DELETE;
             PRAGMA synchronous = FULL;
             CREATE TABLE events (
                 seq        INTEGER PRIMARY KEY,
                 id         TEXT    NOT NULL UNIQUE,
                 at_ms      INTEGER NOT NULL,
                 kind       TEXT    NOT NULL,
                 device     TEXT,
                 dedupe_key TEXT    UNIQUE,
                 body       TEXT    NOT NULL,
                 hash       TEXT
             );
             CREATE INDEX events_by_time ON events (at_ms);
             CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )
        .map_err(sql)?;
    drop(archive);

    conn.execute("ATTACH DATABASE ?1 AS archive", [partial.to_string_lossy()])
        .map_err(sql)?;
    let copied = copy_rows(conn, plan, before);
    let detached = conn.execute("DETACH DATABASE archive", []);
    let last = copied.map_err(sql)?;
    detached.map_err(sql)?;

    sync_file(&partial)?;
    std::fs::rename(&partial, output).map_err(|error| ArchiveError::Io {
        path: output.to_path_buf(),
        error,
    })?;
    if let Some(dir) = output.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        sync_file(dir)?;
    }
    Ok(last)
}

fn copy_rows(conn: &mut Connection, plan: &Plan, before: Timestamp) -> rusqlite::Result<Link> {
    // Deferred: the copy reads the main file and writes only the archive,
    // so the recorder can keep appending meanwhile.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;

    tx.execute(
        "INSERT INTO archive.events (seq, id, at_ms, kind, device, dedupe_key, body, hash)
         SELECT seq, id, at_ms, kind, device, dedupe_key, body, hash FROM main.events
         WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
        params![plan.anchor.seq, plan.last],
    )?;
    let last: (i64, Option<String>) = tx.query_row(
        "SELECT seq, hash FROM archive.events ORDER BY seq DESC LIMIT 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let last = Link {
        seq: last.0,
        hash: last.1.unwrap_or_default(),
    };

    let mut put = tx.prepare("INSERT INTO archive.meta (key, value) VALUES (?1, ?2)")?;
    put.execute(params![FORMAT_KEY, "1"])?;
    put.execute(params![chain::ANCHOR_KEY, plan.anchor.to_meta()])?;
    put.execute(params![chain::HEAD_KEY, last.to_meta()])?;
    put.execute(params!["archived_before_ms", to_millis(before).to_string()])?;
    put.execute(params![
        "archived_at_ms",
        to_millis(Timestamp::now()).to_string()
    ])?;
    drop(put);
    tx.commit()?;
    Ok(last)
}

/// Checks for an archive left by an interrupted run of the same plan: one
/// that starts at this file's anchor and ends at a row this file still
/// contains, with the same hash. Returns that last row.
fn resumable(conn: &Connection, plan: &Plan, output: &Path) -> Result<Option<Link>, ArchiveError> {
    let Some((anchor, head)) = archive_points(output)? else {
        return Ok(None);
    };
    if anchor != plan.anchor || head.seq <= plan.anchor.seq {
        return Ok(None);
    }
    let hash: Option<Option<String>> = conn
        .query_row(
            "SELECT hash FROM events WHERE seq = ?1",
            [head.seq],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::from)?;
    Ok((hash.flatten().as_deref() == Some(head.hash.as_str())).then_some(head))
}

/// Detects a repeated run: `output` already contains the rows up to this
/// file's anchor.
fn already_archived(conn: &Connection, output: &Path) -> Result<Option<Archived>, ArchiveError> {
    if !output.exists() {
        return Ok(None);
    }
    let Some(anchor) = chain::read_link(conn, chain::ANCHOR_KEY).map_err(StoreError::from)? else {
        return Ok(None);
    };
    let Some((_, head)) = archive_points(output)? else {
        return Ok(None);
    };
    Ok((head == anchor).then(|| Archived::AlreadyArchived {
        output: output.to_path_buf(),
        last: head,
    }))
}

/// Reads an archive's anchor and head; `None` when the file is not an archive.
fn archive_points(path: &Path) -> Result<Option<(Link, Link)>, ArchiveError> {
    let Ok(conn) = verify::open_log(path) else {
        return Ok(None);
    };
    let read = || -> rusqlite::Result<Option<(Link, Link)>> {
        let format: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [FORMAT_KEY],
                |row| row.get(0),
            )
            .optional()?;
        if format.is_none() {
            return Ok(None);
        }
        let anchor = chain::read_link(&conn, chain::ANCHOR_KEY)?;
        let head = chain::read_link(&conn, chain::HEAD_KEY)?;
        Ok(anchor.zip(head))
    };
    // A file that is not a SQLite database, or has no `meta`, is not an archive.
    Ok(read().ok().flatten())
}

/// Returns true when the file at `path` is an archive written by this module.
pub fn is_archive(path: &Path) -> bool {
    matches!(archive_points(path), Ok(Some(_)))
}

/// Verifies the archive's own chain and that it runs from `anchor` to `last`.
fn check_archive(output: &Path, anchor: &Link, last: &Link) -> Result<(), ArchiveError> {
    let unverified = |detail: String| ArchiveError::Unverified {
        path: output.to_path_buf(),
        detail,
    };
    match verify::verify_file(output)? {
        Verdict::Intact(intact) if intact.anchor == *anchor && intact.head == *last => Ok(()),
        Verdict::Intact(intact) => Err(unverified(format!(
            "it runs from seq {} to seq {}, expected {} to {}",
            intact.anchor.seq, intact.head.seq, anchor.seq, last.seq
        ))),
        Verdict::Broken { at, .. } => Err(unverified(format!(
            "row seq {} breaks the chain ({:?})",
            at.seq, at.problem
        ))),
    }
}

/// Deletes the archived rows and their index rows from the main file and
/// records the new anchor, in one transaction. Returns the rows deleted.
fn remove_archived(conn: &mut Connection, anchor: &Link, last: &Link) -> Result<u64, ArchiveError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::from)?;
    let current = chain::read_link(&tx, chain::ANCHOR_KEY)
        .map_err(StoreError::from)?
        .unwrap_or_else(Link::genesis);
    let hash: Option<Option<String>> = tx
        .query_row(
            "SELECT hash FROM events WHERE seq = ?1",
            [last.seq],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::from)?;
    if current != *anchor || hash.flatten().as_deref() != Some(last.hash.as_str()) {
        return Err(ArchiveError::Concurrent);
    }
    let delete = || -> rusqlite::Result<usize> {
        tx.execute("DELETE FROM log_entries WHERE seq <= ?1", [last.seq])?;
        let rows = tx.execute("DELETE FROM events WHERE seq <= ?1", [last.seq])?;
        chain::write_link(&tx, chain::ANCHOR_KEY, last)?;
        Ok(rows)
    };
    let rows = delete().map_err(StoreError::from)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(rows as u64)
}

fn sync_file(path: &Path) -> Result<(), ArchiveError> {
    File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(|error| ArchiveError::Io {
            path: path.to_path_buf(),
            error,
        })
}

fn remove_if_present(path: &Path) -> Result<(), ArchiveError> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(ArchiveError::Io {
            path: path.to_path_buf(),
            error,
        }),
        _ => Ok(()),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
