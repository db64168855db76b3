//! The store: one SQLite connection and the operations the recorder and the
//! consoles need.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use uuid::Uuid;

use super::migrations::{self, MigrationError};
use super::{chain, log};
use crate::domain::alarm::book::CLOSED_KEPT;
use crate::domain::alarm::{Action, Alarm, AlarmBook, BookState};
pub use crate::domain::outgoing::Outgoing;
use crate::domain::projection::{LinkRecord, Projection};
use crate::domain::storage::FaultKind;
use crate::domain::time::{from_millis, to_millis};
use crate::domain::{Device, Event, EventBody, Gateway};

/// Size the WAL file is cut back to after a checkpoint, in bytes.
const WAL_SIZE_LIMIT: i64 = 8 * 1024 * 1024;

/// How long a writer waits for another writer's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the folder {path}: {error}")]
    CreateDir {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot open database {path}: {error}")]
    Open {
        path: PathBuf,
        error: rusqlite::Error,
    },
    #[error(transparent)]
    Migration(#[from] MigrationError),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cannot move the unreadable database {path} aside: {error}")]
    MoveAside {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("stored row is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl StoreError {
    /// Returns the kind of fault when the write may succeed later, `None`
    /// when retrying the same work cannot help (a bug or bad data).
    pub fn fault(&self) -> Option<FaultKind> {
        let sql = match self {
            Self::Sql(error) | Self::Open { error, .. } => error,
            Self::Migration(MigrationError::Sql(error)) => error,
            Self::CreateDir { .. } | Self::MoveAside { .. } => return Some(FaultKind::Io),
            _ => return None,
        };
        use rusqlite::ErrorCode;
        match sql.sqlite_error_code()? {
            ErrorCode::DiskFull => Some(FaultKind::Full),
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Some(FaultKind::Locked),
            ErrorCode::SystemIoFailure
            | ErrorCode::CannotOpen
            | ErrorCode::ReadOnly
            | ErrorCode::OutOfMemory
            | ErrorCode::FileLockingProtocolFailed => Some(FaultKind::Io),
            _ => None,
        }
    }
}

/// The `meta` values the screens and `status` show.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Meta {
    /// Incremented by every commit; attached readers follow it.
    pub rev: i64,
    pub last_message: Option<Timestamp>,
    pub bad_payloads: u64,
}

/// Work for one transaction, collected by the recorder.
#[derive(Debug, Default)]
pub struct Batch {
    /// Events to append, in order; `seq` is assigned on insert.
    pub events: Vec<Event>,
    /// Snapshots of the devices touched by this batch.
    pub devices: Vec<Device>,
    pub gateways: Vec<Gateway>,
    pub last_message: Option<Timestamp>,
    pub bad_payloads: u64,
    /// Snapshots of the alarms touched by this batch.
    pub alarms: Vec<Alarm>,
    /// The alarm book's own state, when it changed.
    pub alarm_book: Option<BookState>,
    /// Messages to publish once committed: (index of the event in `events`, topic, payload).
    pub outbox: Vec<(usize, String, String)>,
    /// Operator actions need `synchronous=FULL`: a power cut must not lose them.
    pub durable: bool,
    /// Requests from attached consoles settled by this batch: the row and,
    /// when refused, the reason.
    pub requests: Vec<(i64, Option<String>)>,
}

/// An action an attached console handed in, waiting for the recorder.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub row: i64,
    pub action: Action,
}

/// A request the recorder refused, for the console that made it.
#[derive(Clone, Debug, PartialEq)]
pub struct RefusedRequest {
    pub row: i64,
    pub action: Uuid,
    pub reason: String,
}

/// Changed rows since a revision, for a console that follows the file.
#[derive(Debug, Default)]
pub struct Changes {
    pub devices: Vec<Device>,
    pub gateways: Vec<Gateway>,
    pub alarms: Vec<Alarm>,
    pub alarm_book: Option<BookState>,
}

/// The result of a commit.
#[derive(Debug, Default, PartialEq)]
pub struct Committed {
    pub rev: i64,
    /// Events actually appended (redeliveries dropped), with their `seq`.
    pub events: Vec<Event>,
    /// Outbox rows written, ready to publish.
    pub outgoing: Vec<Outgoing>,
}

/// Totals for `status`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub event_count: i64,
    pub meta: Meta,
}

pub struct Store {
    pub(super) conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) and migrates the database for writing.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|error| StoreError::CreateDir {
                path: dir.to_path_buf(),
                error,
            })?;
        }
        let mut conn = Connection::open(path).map_err(|error| StoreError::Open {
            path: path.to_path_buf(),
            error,
        })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Checkpoints reuse the WAL from its start; this also cuts the file
        // back after one, so a burst does not leave a large file behind.
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        migrations::migrate(&mut conn)?;
        chain::backfill(&mut conn)?;
        log::index_missing(&mut conn)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Opens the database for writing like [`Store::open`], but when the file
    /// is not a SQLite database or is corrupt, moves it (and its `-wal` and
    /// `-shm` files) aside instead of failing, and starts a fresh one. Returns
    /// where the old file went, so the caller can warn the operator: failing
    /// here would make a service restart into a crash loop.
    pub fn open_recovering(path: &Path) -> Result<(Self, Option<PathBuf>), StoreError> {
        let error = match Self::open(path).and_then(|store| store.check_readable().map(|()| store))
        {
            Ok(store) => return Ok((store, None)),
            Err(error) if is_unreadable(&error) => error,
            Err(error) => return Err(error),
        };
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        let moved = with_suffix(path, &format!(".unreadable-{stamp}"));
        tracing::error!(path = %path.display(), moved = %moved.display(), %error, "database unreadable; moved aside");
        std::fs::rename(path, &moved).map_err(|io| StoreError::MoveAside {
            path: path.to_path_buf(),
            error: io,
        })?;
        for companion in ["-wal", "-shm"] {
            let from = with_suffix(path, companion);
            if from.exists() {
                let _ = std::fs::rename(&from, with_suffix(&moved, companion));
            }
        }
        Ok((Self::open(path)?, Some(moved)))
    }

    /// Reads every table's first page, which fails fast on a file that is
    /// damaged where it matters most. A full `integrity_check` reads the whole
    /// file, which is too slow for start-up.
    fn check_readable(&self) -> Result<(), StoreError> {
        for table in ["events", "devices", "gateways", "meta"] {
            self.conn.query_row(
                &format!("SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT 1)"),
                [],
                |row| row.get::<_, i64>(0),
            )?;
        }
        Ok(())
    }

    /// Opens an existing database without writing to it.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|error| StoreError::Open {
            path: path.to_path_buf(),
            error,
        })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > migrations::latest() {
            return Err(MigrationError::TooNew {
                found: version,
                supported: migrations::latest(),
            }
            .into());
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn connection(&self) -> &Connection {
        &self.conn
    }

    pub(super) fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// SQLite's `data_version`: changes when another connection commits.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))?)
    }

    /// Writes a batch in one transaction: events first (redeliveries skipped
    /// by their dedupe key), then the snapshots, then `meta`.
    pub fn commit(&mut self, batch: &Batch) -> Result<Committed, StoreError> {
        if batch.durable {
            self.conn.pragma_update(None, "synchronous", "FULL")?;
        }
        let result = self.commit_inner(batch);
        if batch.durable {
            self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        result
    }

    fn commit_inner(&mut self, batch: &Batch) -> Result<Committed, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut committed = Committed::default();
        {
            // Each row's hash chains from the head read in this transaction,
            // so appends by any writer extend the chain in commit order.
            let (mut prev_hash, mut next_seq) = chain::append_point(&tx)?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (seq, id, at_ms, kind, device, dedupe_key, body, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (dedupe_key) DO NOTHING",
            )?;
            let mut stored_seq = vec![None; batch.events.len()];
            for (index, event) in batch.events.iter().enumerate() {
                let body = serde_json::to_string(&event.body)?;
                let id = event.id.to_string();
                let dedupe_key = event.body.dedupe_key();
                let fields = chain::RowFields {
                    seq: next_seq,
                    id: &id,
                    at_ms: to_millis(event.at),
                    kind: event.body.kind(),
                    device: event.body.device(),
                    dedupe_key: dedupe_key.as_deref(),
                    body: &body,
                };
                let hash = chain::row_hash(&prev_hash, &fields);
                let inserted = insert.execute(params![
                    fields.seq,
                    fields.id,
                    fields.at_ms,
                    fields.kind,
                    fields.device,
                    fields.dedupe_key,
                    fields.body,
                    hash,
                ])?;
                if inserted == 1 {
                    let mut stored = event.clone();
                    stored.seq = next_seq;
                    stored_seq[index] = Some(stored.seq);
                    committed.events.push(stored);
                    prev_hash = hash;
                    next_seq += 1;
                }
            }
            if let Some(last) = committed.events.last() {
                let head = chain::Link {
                    seq: last.seq,
                    hash: prev_hash,
                };
                chain::write_link(&tx, chain::HEAD_KEY, &head)?;
            }

            let mut insert_outbox = tx.prepare_cached(
                "INSERT INTO outbox (event_seq, topic, payload, created_ms) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (index, topic, payload) in &batch.outbox {
                // A redelivered event was published when it was first stored.
                let Some(Some(event_seq)) = stored_seq.get(*index) else {
                    continue;
                };
                insert_outbox.execute(params![
                    event_seq,
                    topic,
                    payload,
                    to_millis(Timestamp::now())
                ])?;
                committed.outgoing.push(Outgoing {
                    seq: tx.last_insert_rowid(),
                    topic: topic.clone(),
                    payload: payload.clone(),
                });
            }

            let rev = read_meta_i64(&tx, "rev")?.unwrap_or(0) + 1;
            committed.rev = rev;
            let mut upsert_device = tx.prepare_cached(
                "INSERT INTO devices (id, snapshot, last_seen_ms, rev) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot,
                     last_seen_ms = excluded.last_seen_ms, rev = excluded.rev",
            )?;
            for device in &batch.devices {
                upsert_device.execute(params![
                    device.spec.id,
                    serde_json::to_string(device)?,
                    device.last_seen.map(to_millis),
                    rev
                ])?;
            }
            let mut upsert_gateway = tx.prepare_cached(
                "INSERT INTO gateways (id, snapshot, rev) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot, rev = excluded.rev",
            )?;
            for gateway in &batch.gateways {
                upsert_gateway.execute(params![
                    gateway.id,
                    serde_json::to_string(gateway)?,
                    rev
                ])?;
            }

            let mut upsert_alarm = tx.prepare_cached(
                "INSERT INTO alarms (id, open, raised_ms, closed_ms, snapshot, rev)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET open = excluded.open, closed_ms = excluded.closed_ms,
                     snapshot = excluded.snapshot, rev = excluded.rev",
            )?;
            for alarm in &batch.alarms {
                upsert_alarm.execute(params![
                    alarm.id as i64,
                    alarm.is_open(),
                    to_millis(alarm.raised_at),
                    alarm.closed.as_ref().map(|closure| to_millis(closure.at)),
                    serde_json::to_string(alarm)?,
                    rev
                ])?;
            }
            if let Some(state) = &batch.alarm_book {
                write_meta(&tx, "alarm_book", &serde_json::to_string(state)?)?;
                write_meta(&tx, "alarm_book_rev", &rev.to_string())?;
            }

            let mut settle = tx.prepare_cached(
                "UPDATE requests SET state = ?2, reason = ?3, done_ms = ?4
                 WHERE row = ?1 AND state = 'pending'",
            )?;
            for (row, refusal) in &batch.requests {
                let state = if refusal.is_some() {
                    "refused"
                } else {
                    "applied"
                };
                settle.execute(params![row, state, refusal, to_millis(Timestamp::now())])?;
            }

            log::index_events(&tx, &committed.events, &batch.devices)?;

            write_meta(&tx, "rev", &rev.to_string())?;
            if let Some(at) = batch.last_message {
                write_meta(&tx, "last_message_ms", &to_millis(at).to_string())?;
            }
            if batch.bad_payloads > 0 {
                let total =
                    read_meta_i64(&tx, "bad_payloads")?.unwrap_or(0) + batch.bad_payloads as i64;
                write_meta(&tx, "bad_payloads", &total.to_string())?;
            }
        }
        tx.commit()?;
        Ok(committed)
    }

    /// Builds the projection from the snapshot rows; the link state comes
    /// from the newest link event.
    pub fn load_projection(&self) -> Result<(Projection, Meta), StoreError> {
        let mut projection = Projection::default();
        let mut rows = self.conn.prepare("SELECT snapshot FROM devices")?;
        for snapshot in rows.query_map([], |row| row.get::<_, String>(0))? {
            let device: Device = serde_json::from_str(&snapshot?)?;
            projection.devices.insert(device.spec.id.clone(), device);
        }
        let mut rows = self.conn.prepare("SELECT snapshot FROM gateways")?;
        for snapshot in rows.query_map([], |row| row.get::<_, String>(0))? {
            let gateway: Gateway = serde_json::from_str(&snapshot?)?;
            projection.gateways.insert(gateway.id.clone(), gateway);
        }
        projection.last_seq =
            self.conn
                .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |row| {
                    row.get(0)
                })?;
        projection.link = self.last_link()?;
        projection.alarms = self.load_alarms()?;
        Ok((projection, self.meta()?))
    }

    /// Open alarms, the most recently closed ones, and the book's state.
    pub fn load_alarms(&self) -> Result<AlarmBook, StoreError> {
        let mut alarms: Vec<Alarm> = Vec::new();
        let mut rows = self.conn.prepare(
            "SELECT snapshot FROM alarms WHERE open = 1
             UNION ALL
             SELECT snapshot FROM (SELECT snapshot FROM alarms WHERE open = 0
                                   ORDER BY closed_ms DESC LIMIT ?1)",
        )?;
        for snapshot in rows.query_map([CLOSED_KEPT as i64], |row| row.get::<_, String>(0))? {
            alarms.push(serde_json::from_str(&snapshot?)?);
        }
        let state = self.alarm_book_state()?.unwrap_or_default();
        let mut book = AlarmBook::restore(alarms, state);
        let highest: i64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(id), 0) FROM alarms", [], |row| {
                    row.get(0)
                })?;
        book.state.next_id = book.state.next_id.max(highest as u64 + 1);
        Ok(book)
    }

    fn alarm_book_state(&self) -> Result<Option<BookState>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'alarm_book'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        Ok(match text {
            Some(text) => Some(serde_json::from_str(&text)?),
            None => None,
        })
    }

    /// Hands an operator's action to the recorder. Synced in full before it
    /// returns: once this succeeds, a power cut cannot lose the action. A
    /// second request with the same action id is ignored.
    pub fn request(&mut self, action: &Action, at: Timestamp) -> Result<(), StoreError> {
        let body = serde_json::to_string(action)?;
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let inserted = self.conn.execute(
            "INSERT INTO requests (action_id, console, body, created_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (action_id) DO NOTHING",
            params![action.id.to_string(), action.console, body, to_millis(at)],
        );
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        inserted?;
        Ok(())
    }

    /// Requests the recorder has not settled yet, oldest first.
    pub fn pending_requests(&self, limit: usize) -> Result<Vec<Request>, StoreError> {
        let mut rows = self.conn.prepare_cached(
            "SELECT row, body FROM requests WHERE state = 'pending' ORDER BY row LIMIT ?1",
        )?;
        let mapped = rows.query_map([limit as i64], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut requests = Vec::new();
        for pair in mapped {
            let (row, body) = pair?;
            requests.push(Request {
                row,
                action: serde_json::from_str(&body)?,
            });
        }
        Ok(requests)
    }

    /// Requests of `console` refused after row `after`, oldest first.
    pub fn refused_requests(
        &self,
        console: &str,
        after: i64,
    ) -> Result<Vec<RefusedRequest>, StoreError> {
        let mut rows = self.conn.prepare_cached(
            "SELECT row, action_id, reason FROM requests
             WHERE console = ?1 AND row > ?2 AND state = 'refused' ORDER BY row",
        )?;
        let mapped = rows.query_map(params![console, after], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut refused = Vec::new();
        for triple in mapped {
            let (row, action, reason) = triple?;
            let Ok(action) = Uuid::parse_str(&action) else {
                continue;
            };
            refused.push(RefusedRequest {
                row,
                action,
                reason: reason.unwrap_or_default(),
            });
        }
        Ok(refused)
    }

    /// Counts requests waiting for the recorder.
    pub fn pending_request_count(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM requests WHERE state = 'pending'",
            [],
            |row| row.get(0),
        )?)
    }

    /// Outbox rows not yet confirmed by the broker, oldest first.
    pub fn unsent(&self, limit: usize) -> Result<Vec<Outgoing>, StoreError> {
        let mut rows = self.conn.prepare_cached(
            "SELECT seq, topic, payload FROM outbox WHERE sent_ms IS NULL ORDER BY seq LIMIT ?1",
        )?;
        let mapped = rows.query_map([limit as i64], |row| {
            Ok(Outgoing {
                seq: row.get(0)?,
                topic: row.get(1)?,
                payload: row.get(2)?,
            })
        })?;
        Ok(mapped.collect::<Result<_, _>>()?)
    }

    /// Marks outbox rows as published.
    /// Returns how many rows were still unsent.
    pub fn mark_sent(&mut self, seqs: &[i64], at: Timestamp) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut marked = 0;
        {
            let mut update = tx.prepare_cached(
                "UPDATE outbox SET sent_ms = ?2 WHERE seq = ?1 AND sent_ms IS NULL",
            )?;
            for seq in seqs {
                marked += update.execute(params![seq, to_millis(at)])?;
            }
        }
        tx.commit()?;
        Ok(marked)
    }

    /// Counts the outbox rows waiting for the broker.
    pub fn unsent_count(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE sent_ms IS NULL",
            [],
            |row| row.get(0),
        )?)
    }

    /// Device and gateway snapshots written after revision `rev`.
    pub fn changed_since(&self, rev: i64) -> Result<Changes, StoreError> {
        let mut devices = Vec::new();
        let mut rows = self
            .conn
            .prepare_cached("SELECT snapshot FROM devices WHERE rev > ?1")?;
        for snapshot in rows.query_map([rev], |row| row.get::<_, String>(0))? {
            devices.push(serde_json::from_str(&snapshot?)?);
        }
        let mut gateways = Vec::new();
        let mut rows = self
            .conn
            .prepare_cached("SELECT snapshot FROM gateways WHERE rev > ?1")?;
        for snapshot in rows.query_map([rev], |row| row.get::<_, String>(0))? {
            gateways.push(serde_json::from_str(&snapshot?)?);
        }
        let mut alarms = Vec::new();
        let mut rows = self
            .conn
            .prepare_cached("SELECT snapshot FROM alarms WHERE rev > ?1")?;
        for snapshot in rows.query_map([rev], |row| row.get::<_, String>(0))? {
            alarms.push(serde_json::from_str(&snapshot?)?);
        }
        let book_rev = read_meta_i64(&self.conn, "alarm_book_rev")?.unwrap_or(0);
        let alarm_book = if book_rev > rev {
            self.alarm_book_state()?
        } else {
            None
        };
        Ok(Changes {
            devices,
            gateways,
            alarms,
            alarm_book,
        })
    }

    /// Up to `limit` events after `seq`, oldest first.
    pub fn events_after(&self, seq: i64, limit: usize) -> Result<Vec<Event>, StoreError> {
        let mut rows = self.conn.prepare_cached(
            "SELECT seq, id, at_ms, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let mapped = rows.query_map(params![seq, limit as i64], |row| {
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
            events.push(Event {
                seq,
                id: id.parse().unwrap_or_default(),
                at: from_millis(at_ms),
                body: serde_json::from_str(&body)?,
            });
        }
        Ok(events)
    }

    /// Folds the whole event log from the start. The result must equal the
    /// snapshot-based projection, apart from `last_seen` of heartbeats.
    pub fn replay(&self) -> Result<Projection, StoreError> {
        let mut projection = Projection::default();
        let mut after = 0;
        loop {
            let events = self.events_after(after, 10_000)?;
            let Some(last) = events.last() else {
                break;
            };
            after = last.seq;
            for event in &events {
                projection.apply(event);
            }
        }
        Ok(projection)
    }

    /// Reads the last recorded link state and the `meta` values, for followers.
    pub fn load_link_and_meta(&self) -> Result<(Option<LinkRecord>, Meta), StoreError> {
        Ok((self.last_link()?, self.meta()?))
    }

    pub fn meta(&self) -> Result<Meta, StoreError> {
        Ok(Meta {
            rev: read_meta_i64(&self.conn, "rev")?.unwrap_or(0),
            last_message: read_meta_i64(&self.conn, "last_message_ms")?.map(from_millis),
            bad_payloads: read_meta_i64(&self.conn, "bad_payloads")?
                .unwrap_or(0)
                .max(0) as u64,
        })
    }

    /// When the demo's simulated community started on this database, so
    /// that every console attached to one demo places the residents'
    /// check-in windows alike.
    pub fn demo_started(&self) -> Result<Option<jiff::Timestamp>, StoreError> {
        Ok(read_meta_i64(&self.conn, DEMO_STARTED)?.map(from_millis))
    }

    /// Records the demo's start, replacing the previous run's.
    pub fn set_demo_started(&self, at: jiff::Timestamp) -> Result<(), StoreError> {
        write_meta(&self.conn, DEMO_STARTED, &at.as_millisecond().to_string())?;
        Ok(())
    }

    pub fn summary(&self) -> Result<Summary, StoreError> {
        let event_count = self
            .conn
            .query_row("SELECT COUNT(*) FROM events", [], |row| row.get(0))?;
        Ok(Summary {
            event_count,
            meta: self.meta()?,
        })
    }

    /// True when an event with this dedupe key is already stored.
    pub fn has_dedupe_key(&self, key: &str) -> Result<bool, StoreError> {
        let found = self
            .conn
            .prepare_cached("SELECT 1 FROM events WHERE dedupe_key = ?1")?
            .exists([key])?;
        Ok(found)
    }

    /// Ids of the devices that have at least one stored event.
    pub fn devices_with_events(&self) -> Result<BTreeSet<String>, StoreError> {
        let mut rows = self
            .conn
            .prepare("SELECT DISTINCT device FROM events WHERE device IS NOT NULL")?;
        let ids = rows.query_map([], |row| row.get::<_, String>(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    /// Event counts by kind, for `status`.
    pub fn event_counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let mut rows = self
            .conn
            .prepare("SELECT kind, COUNT(*) FROM events GROUP BY kind")?;
        let pairs = rows.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        Ok(pairs.collect::<Result<_, _>>()?)
    }

    fn last_link(&self) -> Result<Option<LinkRecord>, StoreError> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT at_ms, body FROM events WHERE kind = 'link_changed' ORDER BY seq DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((at_ms, body)) = row else {
            return Ok(None);
        };
        let EventBody::LinkChanged {
            online,
            session_lost,
            ..
        } = serde_json::from_str(&body)?
        else {
            return Ok(None);
        };
        Ok(Some(LinkRecord {
            online,
            since: from_millis(at_ms),
            session_lost,
        }))
    }
}

/// True for errors that mean the file itself is not a usable database.
fn is_unreadable(error: &StoreError) -> bool {
    let sql = match error {
        StoreError::Open { error, .. } | StoreError::Sql(error) => error,
        StoreError::Migration(MigrationError::Sql(error)) => error,
        _ => return false,
    };
    matches!(
        sql.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The `meta` key of [`Store::demo_started`].
const DEMO_STARTED: &str = "demo_started_ms";

fn read_meta_i64(conn: &Connection, key: &str) -> Result<Option<i64>, rusqlite::Error> {
    let value: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(value.and_then(|value| value.parse().ok()))
}

fn write_meta(conn: &Connection, key: &str, value: &str) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
