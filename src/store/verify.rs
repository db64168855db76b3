//! Checking the hash chain of a log file (the main database or an archive)
//! row by row, in `seq` order, in bounded memory.
//!
//! The walk reads one consistent snapshot, so it can run while a recorder
//! appends. It stops at the first row that breaks the chain and works out
//! what most likely happened to it from the rows around it.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use super::chain::{self, ChainRow, Link, ROW_COLUMNS};
use super::database::StoreError;

/// Rows read per query; bounds the memory a walk needs.
const CHUNK: i64 = 10_000;

/// Rows after a broken one that are searched for where its content went.
const LOOKAHEAD: i64 = 16;

/// The fault found at the first row that breaks the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// The row's fields differ from those that were hashed.
    Changed,
    /// Rows `from..=to` were removed before this row.
    Missing { from: i64, to: i64 },
    /// The row is not part of the chain: rows around it chain past it.
    Inserted,
    /// The row has no hash: it was written outside guardroom.
    Unhashed,
    /// The content that belongs at this row is now stored at `found_at`:
    /// rows were swapped or moved.
    OutOfOrder { found_at: i64 },
    /// The row breaks the chain, and nothing around it shows how.
    Broken,
    /// The last rows are gone: `chain_head` names row `head`, and the log
    /// now ends at the row reported.
    LastRemoved { from: i64, head: i64 },
    /// The last row differs from the one `chain_head` recorded.
    HeadMismatch,
    /// The log has rows but no `chain_head`.
    HeadMissing,
    /// No row has a hash yet: the database comes from a build before the
    /// chain and has not been opened for writing since.
    NotChained,
}

/// The first row that breaks the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Break {
    pub seq: i64,
    /// The row's time (unix ms), when the row exists.
    pub at_ms: Option<i64>,
    pub kind: Option<String>,
    #[serde(flatten)]
    pub problem: Problem,
}

/// An intact chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Intact {
    /// Rows checked.
    pub rows: u64,
    /// The point the first row chains from: genesis, or the last archived row.
    pub anchor: Link,
    /// The last row (the anchor when the file has no rows).
    pub head: Link,
    /// When the chain was added to rows written before it: the last such
    /// row and when it was hashed (unix ms).
    pub backfilled: Option<(i64, i64)>,
}

/// The result of a walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact(Intact),
    Broken { rows_before: u64, at: Break },
}

/// Opens a log file without writing to it, failing on a missing file.
pub fn open_log(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|error| StoreError::Open {
        path: path.to_path_buf(),
        error,
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Verifies the chain of the log file at `path`.
pub fn verify_file(path: &Path) -> Result<Verdict, StoreError> {
    let conn = open_log(path)?;
    verify(&conn)
}

/// Verifies the chain of an open log file, from its `chain_anchor` (or the
/// genesis hash) to its `chain_head`.
pub fn verify(conn: &Connection) -> Result<Verdict, StoreError> {
    // One read transaction: the rows and the head come from one snapshot.
    let tx = conn.unchecked_transaction()?;
    let has_hashes: bool = tx.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('events') WHERE name = 'hash'",
        [],
        |row| row.get(0),
    )?;
    if !has_hashes {
        let first: Option<i64> =
            tx.query_row("SELECT MIN(seq) FROM events", [], |row| row.get(0))?;
        return Ok(Verdict::Broken {
            rows_before: 0,
            at: Break {
                seq: first.unwrap_or(0),
                at_ms: None,
                kind: None,
                problem: Problem::NotChained,
            },
        });
    }
    let anchor = chain::read_link(&tx, chain::ANCHOR_KEY)?.unwrap_or_else(Link::genesis);
    let head = chain::read_link(&tx, chain::HEAD_KEY)?;
    let backfilled = chain::read_backfilled(&tx)?;

    let mut prev = anchor.clone();
    let mut last_row: Option<ChainRow> = None;
    let mut rows = 0u64;
    let mut after = i64::MIN;
    let mut select = tx.prepare(&format!(
        "SELECT {ROW_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))?;
    loop {
        let chunk = select
            .query_map(rusqlite::params![after, CHUNK], ChainRow::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let Some(last) = chunk.last() else {
            break;
        };
        after = last.seq;
        for row in chunk {
            let expected = row.expected_hash(&prev.hash);
            if row.seq > prev.seq && row.hash.as_deref() == Some(expected.as_str()) {
                prev = Link {
                    seq: row.seq,
                    hash: expected,
                };
                rows += 1;
                last_row = Some(row);
                continue;
            }
            let problem = if head.is_none() && rows == 0 && row.hash.is_none() {
                Problem::NotChained
            } else {
                diagnose(&tx, &prev, &row, head.as_ref())?
            };
            return Ok(Verdict::Broken {
                rows_before: rows,
                at: break_at(&row, problem),
            });
        }
    }
    drop(select);

    let broken = |problem, row: Option<&ChainRow>, seq| Verdict::Broken {
        rows_before: rows,
        at: match row {
            Some(row) => break_at(row, problem),
            None => Break {
                seq,
                at_ms: None,
                kind: None,
                problem,
            },
        },
    };
    match &head {
        None if rows > 0 => return Ok(broken(Problem::HeadMissing, last_row.as_ref(), prev.seq)),
        None => {}
        Some(head) if head.seq > prev.seq => {
            let problem = Problem::LastRemoved {
                from: prev.seq + 1,
                head: head.seq,
            };
            return Ok(broken(problem, last_row.as_ref(), prev.seq));
        }
        Some(head) if *head != prev => {
            return Ok(broken(Problem::HeadMismatch, last_row.as_ref(), prev.seq));
        }
        Some(_) => {}
    }
    Ok(Verdict::Intact(Intact {
        rows,
        anchor,
        head: prev,
        backfilled,
    }))
}

fn break_at(row: &ChainRow, problem: Problem) -> Break {
    Break {
        seq: row.seq,
        at_ms: Some(row.at_ms),
        kind: Some(row.kind.clone()),
        problem,
    }
}

/// Works out why `row`, which follows `prev`, breaks the chain.
fn diagnose(
    conn: &Connection,
    prev: &Link,
    row: &ChainRow,
    head: Option<&Link>,
) -> Result<Problem, StoreError> {
    // At or before the anchor, or past the recorded head: not a row the
    // chain ever had.
    if row.seq <= prev.seq || head.is_some_and(|head| row.seq > head.seq) {
        return Ok(Problem::Inserted);
    }
    let Some(stored) = row.hash.as_deref() else {
        return Ok(Problem::Unhashed);
    };
    let ahead = conn
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?
        .query_map(rusqlite::params![row.seq, LOOKAHEAD], ChainRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    // The content that was hashed at this seq is stored further on, with
    // its own hash or without it. When the rows after it are displaced by
    // the same distance, rows were renumbered to make room for this one.
    for (index, other) in ahead.iter().enumerate() {
        let moved = other.hash_at(&prev.hash, row.seq);
        if Some(moved.as_str()) != other.hash.as_deref() && moved != stored {
            continue;
        }
        let shift = other.seq - row.seq;
        let displaced = match (ahead.get(index + 1), other.hash.as_deref()) {
            (Some(next), Some(hash)) => {
                next.hash.as_deref() == Some(next.hash_at(hash, next.seq - shift).as_str())
            }
            _ => false,
        };
        return Ok(if displaced {
            Problem::Inserted
        } else {
            Problem::OutOfOrder {
                found_at: other.seq,
            }
        });
    }

    // The stored hash is genuine when the next row chains from it (or the
    // head records it): then the fields changed, or rows before it went.
    let genuine = match ahead.first() {
        Some(next) => next.hash.as_deref() == Some(next.expected_hash(stored).as_str()),
        None => head.is_some_and(|head| head.seq == row.seq && head.hash == stored),
    };
    if genuine {
        return Ok(if row.seq > prev.seq + 1 {
            Problem::Missing {
                from: prev.seq + 1,
                to: row.seq - 1,
            }
        } else {
            Problem::Changed
        });
    }

    // A later row chains from `prev`, as it is or renumbered to follow it:
    // this row and any between were put in.
    for other in &ahead {
        let chains = |hash: String| other.hash.as_deref() == Some(hash.as_str());
        if chains(other.expected_hash(&prev.hash))
            || chains(other.hash_at(&prev.hash, prev.seq + 1))
        {
            return Ok(Problem::Inserted);
        }
    }
    Ok(Problem::Broken)
}
