//! The duty log's hash chain: each `events` row carries the SHA-256 of the
//! row before it and of its own fields, so that a changed, removed, inserted
//! or reordered row breaks the chain at that row.
//!
//! The chain uses no secret key. It shows edits made outside guardroom (a
//! SQL shell, a restored backup, a damaged disk). Someone who can write the
//! file and has read this format can also recompute the hashes after an
//! edit. The head hash printed on handover sheets and by
//! `guardroom log verify` is what makes such a rewrite visible later.
//!
//! `meta` keeps two points of the chain, each written as `<seq>:<hex hash>`:
//! `chain_head`, the last row appended (updated in the transaction that
//! appends), and `chain_anchor`, the last row moved to an archive (the hash
//! the first row left in this file chains from).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use crate::domain::time::to_millis;

/// Hash the first row chains from: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `meta` key of the last appended row.
pub const HEAD_KEY: &str = "chain_head";

/// `meta` key of the last archived row.
pub const ANCHOR_KEY: &str = "chain_anchor";

/// `meta` key of the last row hashed when the chain was added to an older
/// database, with the time it was done: `<seq>:<unix ms>`.
pub const BACKFILLED_KEY: &str = "chain_backfilled";

/// `meta` key present while such a fill is unfinished: the last row to hash.
const BACKFILL_TARGET_KEY: &str = "chain_backfill_to";

/// Rows hashed per transaction when filling in an older database, so that a
/// large log does not hold the write lock for long.
const BACKFILL_BATCH: i64 = 5_000;

/// A point of the chain: a row's `seq` and its hash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    pub seq: i64,
    pub hash: String,
}

impl Link {
    /// Returns the point before the first row of a log.
    pub fn genesis() -> Self {
        Self {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }

    /// Parses the `meta` form `<seq>:<hex hash>`.
    pub fn parse(text: &str) -> Option<Self> {
        let (seq, hash) = text.split_once(':')?;
        if hash.len() != 64 || !hash.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return None;
        }
        Some(Self {
            seq: seq.parse().ok()?,
            hash: hash.to_ascii_lowercase(),
        })
    }

    /// Returns the `meta` form `<seq>:<hex hash>`.
    pub fn to_meta(&self) -> String {
        format!("{}:{}", self.seq, self.hash)
    }
}

/// The fields of an `events` row that the chain covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainRow {
    pub seq: i64,
    pub id: String,
    pub at_ms: i64,
    pub kind: String,
    pub device: Option<String>,
    pub dedupe_key: Option<String>,
    pub body: String,
    /// The stored hash; `None` for a row written without one.
    pub hash: Option<String>,
}

/// Columns read into a [`ChainRow`], in its field order.
pub const ROW_COLUMNS: &str = "seq, id, at_ms, kind, device, dedupe_key, body, hash";

impl ChainRow {
    /// Reads a row selected with [`ROW_COLUMNS`].
    pub fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            seq: row.get(0)?,
            id: row.get(1)?,
            at_ms: row.get(2)?,
            kind: row.get(3)?,
            device: row.get(4)?,
            dedupe_key: row.get(5)?,
            body: row.get(6)?,
            hash: row.get(7)?,
        })
    }

    /// Returns the hash this row has when it follows `prev`, were it at `seq`.
    pub fn hash_at(&self, prev: &str, seq: i64) -> String {
        row_hash(
            prev,
            &RowFields {
                seq,
                id: &self.id,
                at_ms: self.at_ms,
                kind: &self.kind,
                device: self.device.as_deref(),
                dedupe_key: self.dedupe_key.as_deref(),
                body: &self.body,
            },
        )
    }

    /// Returns the hash this row has when it follows `prev`.
    pub fn expected_hash(&self, prev: &str) -> String {
        self.hash_at(prev, self.seq)
    }
}

/// Borrowed fields of a row, for hashing on insert.
pub struct RowFields<'a> {
    pub seq: i64,
    pub id: &'a str,
    pub at_ms: i64,
    pub kind: &'a str,
    pub device: Option<&'a str>,
    pub dedupe_key: Option<&'a str>,
    pub body: &'a str,
}

/// Returns the lowercase hex SHA-256 of `prev` and the row's fields.
///
/// Each text field is written as its byte length (8 bytes, big-endian) and
/// then its bytes. An optional field is one 0 byte when absent, else a 1
/// byte and the text. Numbers are 8 big-endian bytes. So no two different
/// rows encode to the same bytes.
pub fn row_hash(prev: &str, row: &RowFields<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"guardroom-log-v1");
    put_text(&mut hasher, prev);
    hasher.update(row.seq.to_be_bytes());
    put_text(&mut hasher, row.id);
    hasher.update(row.at_ms.to_be_bytes());
    put_text(&mut hasher, row.kind);
    put_optional(&mut hasher, row.device);
    put_optional(&mut hasher, row.dedupe_key);
    put_text(&mut hasher, row.body);
    to_hex(&hasher.finalize())
}

fn put_text(hasher: &mut Sha256, text: &str) {
    hasher.update((text.len() as u64).to_be_bytes());
    hasher.update(text.as_bytes());
}

fn put_optional(hasher: &mut Sha256, text: Option<&str>) {
    match text {
        None => hasher.update([0u8]),
        Some(text) => {
            hasher.update([1u8]);
            put_text(hasher, text);
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    text
}

/// Reads a chain point from `meta`; a malformed value reads as absent.
pub fn read_link(conn: &Connection, key: &str) -> rusqlite::Result<Option<Link>> {
    let value: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(value.as_deref().and_then(Link::parse))
}

/// Writes a chain point to `meta`.
pub fn write_link(conn: &Connection, key: &str, link: &Link) -> rusqlite::Result<()> {
    write_value(conn, key, &link.to_meta())
}

fn write_value(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Returns where the next appended row goes: the hash it chains from and
/// its `seq`.
///
/// Reads the head from `meta` rather than from the last row, so that a row
/// removed from the end is still missing after the next append instead of
/// being papered over by it.
pub fn append_point(conn: &Connection) -> rusqlite::Result<(String, i64)> {
    let last_seq: i64 = conn.query_row(
        "SELECT MAX(COALESCE((SELECT MAX(seq) FROM events), 0),
                    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0))",
        [],
        |row| row.get(0),
    )?;
    let prev = match read_link(conn, HEAD_KEY)? {
        Some(head) => head,
        None => match read_link(conn, ANCHOR_KEY)? {
            Some(anchor) => anchor,
            None => Link::genesis(),
        },
    };
    Ok((prev.hash, last_seq.max(prev.seq) + 1))
}

/// Hashes the rows of a database written before the chain existed, oldest
/// first, in batches. Returns how many rows it hashed.
///
/// Runs only while the database has no `chain_head` (or a fill is
/// unfinished): once the chain exists, a row without a hash is an edit that
/// `log verify` reports, and hashing it here would hide it.
pub fn backfill(conn: &mut Connection) -> rusqlite::Result<u64> {
    let mut hashed = 0;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let target = match read_value(&tx, BACKFILL_TARGET_KEY)? {
            Some(target) => target,
            None => {
                if read_link(&tx, HEAD_KEY)?.is_some() {
                    return Ok(hashed);
                }
                let last: Option<i64> = tx.query_row(
                    "SELECT MAX(seq) FROM events WHERE hash IS NULL",
                    [],
                    |row| row.get(0),
                )?;
                let Some(last) = last else {
                    return Ok(hashed);
                };
                write_value(&tx, BACKFILL_TARGET_KEY, &last.to_string())?;
                last
            }
        };

        let mut prev = match read_link(&tx, HEAD_KEY)? {
            Some(head) => head,
            None => read_link(&tx, ANCHOR_KEY)?.unwrap_or_else(Link::genesis),
        };
        let rows = {
            let mut select = tx.prepare(&format!(
                "SELECT {ROW_COLUMNS} FROM events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3"
            ))?;
            select
                .query_map(
                    params![prev.seq, target, BACKFILL_BATCH],
                    ChainRow::from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        {
            let mut update = tx.prepare("UPDATE events SET hash = ?2 WHERE seq = ?1")?;
            for row in &rows {
                let hash = row.expected_hash(&prev.hash);
                update.execute(params![row.seq, hash])?;
                prev = Link { seq: row.seq, hash };
            }
        }
        hashed += rows.len() as u64;
        write_link(&tx, HEAD_KEY, &prev)?;
        let done = rows.is_empty() || prev.seq >= target;
        if done {
            tx.execute("DELETE FROM meta WHERE key = ?1", [BACKFILL_TARGET_KEY])?;
            let now = to_millis(jiff::Timestamp::now());
            write_value(&tx, BACKFILLED_KEY, &format!("{}:{now}", prev.seq))?;
        }
        tx.commit()?;
        if done {
            tracing::info!(
                rows = hashed,
                head = prev.seq,
                "hash chain added to the existing log"
            );
            return Ok(hashed);
        }
    }
}

fn read_value(conn: &Connection, key: &str) -> rusqlite::Result<Option<i64>> {
    let value: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(value.and_then(|value| value.parse().ok()))
}

/// Reads the `chain_backfilled` note: the last row hashed when the chain
/// was added, and when (unix ms).
pub fn read_backfilled(conn: &Connection) -> rusqlite::Result<Option<(i64, i64)>> {
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [BACKFILLED_KEY],
            |row| row.get(0),
        )
        .optional()?;
    Ok(value.and_then(|value| {
        let (seq, at) = value.split_once(':')?;
        Some((seq.parse().ok()?, at.parse().ok()?))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> RowFields<'_> {
        RowFields {
            seq: 7,
            id: "id",
            at_ms: 1_000,
            kind: "kind",
            device: None,
            dedupe_key: None,
            body,
        }
    }

    #[test]
    fn link_meta_round_trip() {
        let link = Link {
            seq: 42,
            hash: "ab".repeat(32),
        };
        assert_eq!(Link::parse(&link.to_meta()), Some(link));
        assert_eq!(Link::parse("42:abc"), None);
        assert_eq!(Link::parse(&format!("x:{GENESIS}")), None);
    }

    #[test]
    fn hash_depends_on_every_field() {
        let base = row_hash(GENESIS, &fields("{}"));
        assert_eq!(base.len(), 64);
        assert_ne!(base, row_hash(GENESIS, &fields("{ }")));
        assert_ne!(base, row_hash(&"1".repeat(64), &fields("{}")));
        let mut moved = fields("{}");
        moved.seq = 8;
        assert_ne!(base, row_hash(GENESIS, &moved));
        let mut device = fields("{}");
        device.device = Some("");
        assert_ne!(base, row_hash(GENESIS, &device));
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut left = fields("b");
        left.kind = "ab";
        let mut shifted = fields("b");
        shifted.kind = "a";
        shifted.body = "bb";
        assert_ne!(row_hash(GENESIS, &left), row_hash(GENESIS, &shifted));
        let mut one = fields("x");
        one.device = Some("k");
        let mut other = fields("x");
        other.dedupe_key = Some("k");
        assert_ne!(row_hash(GENESIS, &one), row_hash(GENESIS, &other));
    }
}
