//! The duty log's hash chain, checked through the real binary: an untouched
//! log verifies, and each kind of edit made with plain SQL is caught at the
//! row it touched. Archiving keeps both files checkable.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use guardroom::domain::alarm::{Action, ActionKind, EntryKind};
use guardroom::domain::{Event, EventBody};
use guardroom::store::{Batch, Store};
use jiff::{Timestamp, ToSpan};
use rusqlite::{Connection, params};
use support::Home;
use uuid::Uuid;

/// Events in the test log; seq runs from 1 to this.
const ROWS: i64 = 12;

fn note(text: &str) -> EventBody {
    EventBody::DutyRecorded {
        action: Action {
            id: Uuid::new_v4(),
            alarm: None,
            kind: ActionKind::Note {
                entry: EntryKind::Patrol,
                refers_to: None,
            },
            operator: "guard-a".into(),
            role: "guard".into(),
            console: "duty-1".into(),
            via_ssh: false,
            remark: text.into(),
        },
    }
}

/// Writes `ROWS` events through the store, one per hour from `start`, in
/// three commits so the chain crosses transactions.
fn write_log(path: &Path, start: Timestamp) {
    let mut store = Store::open(path).expect("opening the store");
    let mut index = 0;
    for chunk in [4, 4, ROWS - 8] {
        let mut batch = Batch::default();
        for _ in 0..chunk {
            let at = start + (index as i64).hours();
            let body = if index % 3 == 1 {
                EventBody::LinkChanged {
                    online: index % 2 == 0,
                    detail: format!("link change {index}"),
                    session_lost: false,
                }
            } else {
                note(&format!("东门巡更 round {index}"))
            };
            batch.events.push(Event::new(at, body));
            index += 1;
        }
        store.commit(&batch).expect("committing events");
    }
}

fn start_time() -> Timestamp {
    Timestamp::now() - (30 * 24).hours()
}

struct Log {
    home: Home,
    database: PathBuf,
}

impl Log {
    fn new() -> Self {
        let home = Home::new();
        let database = home.path().join("guardroom.sqlite");
        write_log(&database, start_time());
        Self { home, database }
    }

    fn db(&self) -> &str {
        self.database.to_str().unwrap()
    }

    fn sql(&self) -> Connection {
        Connection::open(&self.database).unwrap()
    }

    fn verify(&self, extra: &[&str]) -> Output {
        let mut args = vec!["log", "verify", "--db", self.db()];
        args.extend_from_slice(extra);
        self.home.run(&args)
    }

    /// Runs `log verify --json` and returns the exit code and the report.
    fn verify_json(&self) -> (i32, serde_json::Value) {
        let output = self.verify(&["--json"]);
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "log verify --json printed invalid JSON ({error}): {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code().unwrap_or(-1), report)
    }

    /// Asserts that verify fails, naming `seq` with `problem`, in JSON and in text.
    #[track_caller]
    fn assert_broken_at(&self, seq: i64, problem: &str, case: &str) {
        let (code, report) = self.verify_json();
        assert_eq!(code, 1, "{case}: exit code; report {report}");
        let found = &report["database"]["break"];
        assert_eq!(found["seq"], seq, "{case}: break seq; report {report}");
        assert_eq!(
            found["problem"], problem,
            "{case}: problem; report {report}"
        );

        let text = self.verify(&[]);
        let stdout = String::from_utf8_lossy(&text.stdout);
        assert_eq!(text.status.code(), Some(1), "{case}: text exit code");
        assert!(
            stdout.contains(&format!("BROKEN at seq {seq} (")),
            "{case}: text names the row: {stdout}"
        );
    }
}

fn head(conn: &Connection) -> String {
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'chain_head'",
        [],
        |row| row.get(0),
    )
    .unwrap()
}

#[test]
fn untouched_log_passes() {
    let log = Log::new();
    let output = log.verify(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "exit status: {stdout}");
    let chain_head = head(&log.sql());
    let (seq, hash) = chain_head.split_once(':').unwrap();
    assert_eq!(seq, ROWS.to_string(), "chain_head seq");
    assert!(
        stdout.contains(&format!("{ROWS} events checked")),
        "{stdout}"
    );
    assert!(stdout.contains(hash), "head hash printed: {stdout}");

    let (code, report) = log.verify_json();
    assert_eq!(code, 0);
    assert_eq!(report["database"]["rows"], ROWS);
    assert_eq!(report["database"]["head"]["hash"], hash);
}

#[test]
fn edited_body_is_caught() {
    for seq in [1, 6, ROWS] {
        let log = Log::new();
        log.sql()
            .execute(
                "UPDATE events SET body = replace(body, 'round', 'r0und') WHERE seq = ?1",
                [seq],
            )
            .unwrap();
        log.assert_broken_at(seq, "changed", &format!("body of seq {seq}"));
    }
}

#[test]
fn edited_time_is_caught() {
    for seq in [1, 6, ROWS] {
        let log = Log::new();
        log.sql()
            .execute(
                "UPDATE events SET at_ms = at_ms - 60000 WHERE seq = ?1",
                [seq],
            )
            .unwrap();
        log.assert_broken_at(seq, "changed", &format!("at_ms of seq {seq}"));
    }
}

#[test]
fn deleted_row_is_caught() {
    for seq in [1, 6] {
        let log = Log::new();
        log.sql()
            .execute("DELETE FROM events WHERE seq = ?1", [seq])
            .unwrap();
        // The gap shows at the next row, which names the missing one.
        log.assert_broken_at(seq + 1, "missing", &format!("deleted seq {seq}"));
        let text = String::from_utf8_lossy(&log.verify(&[]).stdout).to_string();
        assert!(
            text.contains(&format!("rows {seq} to {seq} before it were removed")),
            "{text}"
        );
    }
}

#[test]
fn deleted_last_row_is_caught_by_head() {
    let log = Log::new();
    log.sql()
        .execute("DELETE FROM events WHERE seq = ?1", [ROWS])
        .unwrap();
    log.assert_broken_at(ROWS - 1, "last_removed", "deleted last row");
    let text = String::from_utf8_lossy(&log.verify(&[]).stdout).to_string();
    assert!(
        text.contains(&format!("chain_head records seq {ROWS}")),
        "{text}"
    );
}

#[test]
fn deleted_last_row_stays_caught_after_append() {
    let log = Log::new();
    log.sql()
        .execute("DELETE FROM events WHERE seq = ?1", [ROWS])
        .unwrap();
    let mut store = Store::open(&log.database).unwrap();
    let mut batch = Batch::default();
    batch
        .events
        .push(Event::new(Timestamp::now(), note("after the deletion")));
    store.commit(&batch).unwrap();
    drop(store);
    log.assert_broken_at(ROWS + 1, "missing", "append after deleting the last row");
}

/// Swaps every column but `seq` between two rows.
fn swap_rows(conn: &Connection, a: i64, b: i64, with_hash: bool) {
    let columns = if with_hash {
        "id, at_ms, kind, device, dedupe_key, body, hash"
    } else {
        "id, at_ms, kind, device, dedupe_key, body"
    };
    let tx = conn.unchecked_transaction().unwrap();
    tx.execute(
        "CREATE TEMP TABLE saved AS SELECT * FROM events WHERE seq IN (?1, ?2)",
        params![a, b],
    )
    .unwrap();
    // Unique columns need a free value while the rows are exchanged.
    tx.execute(
        "UPDATE events SET id = 'x' || id, dedupe_key = 'x' || dedupe_key WHERE seq IN (?1, ?2)",
        params![a, b],
    )
    .unwrap();
    for (to, from) in [(a, b), (b, a)] {
        let sets: Vec<String> = columns
            .split(", ")
            .map(|column| format!("{column} = (SELECT {column} FROM saved WHERE seq = ?2)"))
            .collect();
        tx.execute(
            &format!("UPDATE events SET {} WHERE seq = ?1", sets.join(", ")),
            params![to, from],
        )
        .unwrap();
    }
    tx.execute("DROP TABLE saved", []).unwrap();
    tx.commit().unwrap();
}

#[test]
fn swapped_rows_are_caught() {
    for (a, b) in [(1, 2), (6, 9), (ROWS - 1, ROWS)] {
        for with_hash in [false, true] {
            let log = Log::new();
            swap_rows(&log.sql(), a, b, with_hash);
            log.assert_broken_at(
                a,
                "out_of_order",
                &format!("swapped {a} and {b}, hashes moved: {with_hash}"),
            );
        }
    }
}

fn insert_row(conn: &Connection, seq: i64, hash: Option<&str>) {
    let body = serde_json::to_string(&note("inserted afterwards")).unwrap();
    let at_ms: i64 = conn
        .query_row("SELECT MIN(at_ms) FROM events", [], |row| row.get(0))
        .unwrap();
    conn.execute(
        "INSERT INTO events (seq, id, at_ms, kind, device, dedupe_key, body, hash)
         VALUES (?1, ?2, ?3, 'duty_recorded', NULL, NULL, ?4, ?5)",
        params![seq, Uuid::new_v4().to_string(), at_ms + 1, body, hash],
    )
    .unwrap();
}

#[test]
fn inserted_row_is_caught() {
    let fake = "ab".repeat(32);

    let log = Log::new();
    insert_row(&log.sql(), 0, Some(&fake));
    log.assert_broken_at(0, "inserted", "inserted before the first row");

    // In the middle, later rows are renumbered to make room.
    let log = Log::new();
    let conn = log.sql();
    for seq in (7..=ROWS).rev() {
        conn.execute("UPDATE events SET seq = seq + 1 WHERE seq = ?1", [seq])
            .unwrap();
    }
    insert_row(&conn, 7, Some(&fake));
    log.assert_broken_at(7, "inserted", "inserted in the middle");

    let log = Log::new();
    insert_row(&log.sql(), ROWS + 1, Some(&fake));
    log.assert_broken_at(ROWS + 1, "inserted", "inserted after the last row");

    let log = Log::new();
    insert_row(&log.sql(), ROWS + 1, None);
    log.assert_broken_at(ROWS + 1, "inserted", "inserted after the last row, no hash");
}

/// The schema before the hash chain (version 3), as older builds wrote it.
const SCHEMA_3: &str = "
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
    CREATE TABLE devices (id TEXT PRIMARY KEY, snapshot TEXT NOT NULL, last_seen_ms INTEGER, rev INTEGER NOT NULL);
    CREATE INDEX devices_by_rev ON devices (rev);
    CREATE TABLE gateways (id TEXT PRIMARY KEY, snapshot TEXT NOT NULL, rev INTEGER NOT NULL);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE alarms (id INTEGER PRIMARY KEY, open INTEGER NOT NULL, raised_ms INTEGER NOT NULL,
        closed_ms INTEGER, snapshot TEXT NOT NULL, rev INTEGER NOT NULL);
    CREATE INDEX alarms_by_rev ON alarms (rev);
    CREATE INDEX alarms_open ON alarms (open, closed_ms);
    CREATE INDEX events_by_kind ON events (kind, seq);
    CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_seq INTEGER NOT NULL,
        topic TEXT NOT NULL, payload TEXT NOT NULL, created_ms INTEGER NOT NULL, sent_ms INTEGER);
    CREATE INDEX outbox_unsent ON outbox (sent_ms, seq);
    CREATE TABLE requests (row INTEGER PRIMARY KEY AUTOINCREMENT, action_id TEXT NOT NULL UNIQUE,
        console TEXT NOT NULL, body TEXT NOT NULL, created_ms INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending', reason TEXT, done_ms INTEGER);
    CREATE INDEX requests_pending ON requests (state, row);
    PRAGMA user_version = 3;
";

#[test]
fn pre_chain_log_hashed_on_open() {
    let home = Home::new();
    let database = home.path().join("old.sqlite");
    let conn = Connection::open(&database).unwrap();
    conn.execute_batch(SCHEMA_3).unwrap();
    let start = start_time();
    for index in 0..20i64 {
        let event = Event::new(start + index.minutes(), note(&format!("旧记录 {index}")));
        conn.execute(
            "INSERT INTO events (id, at_ms, kind, device, dedupe_key, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                event.id.to_string(),
                guardroom::domain::time::to_millis(event.at),
                event.body.kind(),
                event.body.device(),
                event.body.dedupe_key(),
                serde_json::to_string(&event.body).unwrap(),
            ],
        )
        .unwrap();
    }
    drop(conn);
    let db = database.to_str().unwrap();

    // Not yet migrated: no row has a hash.
    let before = home.run(&["log", "verify", "--db", db]);
    assert_eq!(
        before.status.code(),
        Some(1),
        "an unhashed log does not pass"
    );
    let before_text = String::from_utf8_lossy(&before.stdout);
    assert!(
        before_text.contains("no hash chain yet"),
        "says why: {before_text}"
    );

    // Opening for writing, as the recorder does, migrates and hashes it.
    let mut store = Store::open(&database).unwrap();
    let mut batch = Batch::default();
    batch.events.push(Event::new(
        Timestamp::now(),
        note("first row written with the chain"),
    ));
    store.commit(&batch).unwrap();
    drop(store);

    let after = home.run(&["log", "verify", "--db", db]);
    let stdout = String::from_utf8_lossy(&after.stdout);
    assert!(after.status.success(), "hashed log passes: {stdout}");
    assert!(stdout.contains("21 events checked"), "{stdout}");
    assert!(
        stdout.contains("events up to seq 20 were written before the hash chain existed"),
        "{stdout}"
    );

    // The filled-in rows are protected from then on.
    Connection::open(&database)
        .unwrap()
        .execute(
            "UPDATE events SET body = replace(body, '旧', '新') WHERE seq = 3",
            [],
        )
        .unwrap();
    let tampered = home.run(&["log", "verify", "--db", db, "--json"]);
    assert_eq!(tampered.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&tampered.stdout).unwrap();
    assert_eq!(report["database"]["break"]["seq"], 3);
}

/// Writes a log with rows from 400 days ago and from the last day.
fn old_and_new_log(home: &Home) -> PathBuf {
    let database = home.path().join("guardroom.sqlite");
    write_log(&database, Timestamp::now() - (400 * 24).hours());
    write_log(&database, Timestamp::now() - 24.hours());
    database
}

fn count(database: &Path, sql: &str) -> i64 {
    Connection::open(database)
        .unwrap()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

fn date_days_ago(days: i64) -> String {
    (Timestamp::now() - (days * 24).hours())
        .to_zoned_datetime(jiff::tz::TimeZone::system())
        .date()
        .to_string()
}

#[test]
fn archive_then_verify_both() {
    let home = Home::new();
    let database = old_and_new_log(&home);
    let db = database.to_str().unwrap();
    let archive = home.path().join("old-log.sqlite");
    let archive_arg = archive.to_str().unwrap();
    let before = date_days_ago(380);

    let output = home.run(&[
        "log",
        "archive",
        "--db",
        db,
        "--before",
        &before,
        "--output",
        archive_arg,
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "archive: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("moved {ROWS} events (seq 1 to {ROWS})")),
        "{stdout}"
    );
    assert_eq!(count(&database, "SELECT COUNT(*) FROM events"), ROWS);
    assert_eq!(count(&archive, "SELECT COUNT(*) FROM events"), ROWS);
    assert_eq!(
        count(
            &database,
            "SELECT COUNT(*) FROM log_entries WHERE seq <= 12"
        ),
        0,
        "index rows of archived events"
    );
    assert_eq!(
        count(
            &database,
            "SELECT COUNT(*) FROM log_text WHERE log_text MATCH '\"round 3\"'"
        ),
        1,
        "full-text rows of archived events are gone; only the new log's 'round 3' is left"
    );

    let main = home.run(&["log", "verify", "--db", db]);
    let main_text = String::from_utf8_lossy(&main.stdout);
    assert!(main.status.success(), "main verifies: {main_text}");
    assert!(
        main_text.contains(&format!("starts after archived seq {ROWS}")),
        "{main_text}"
    );

    let both = home.run(&["log", "verify", "--db", db, "--archive", archive_arg]);
    let both_text = String::from_utf8_lossy(&both.stdout);
    assert!(
        both.status.success(),
        "archive verifies and joins: {both_text}"
    );

    let again = home.run(&[
        "log",
        "archive",
        "--db",
        db,
        "--before",
        &before,
        "--output",
        archive_arg,
    ]);
    assert!(again.status.success(), "a second run is harmless");
    assert_eq!(count(&database, "SELECT COUNT(*) FROM events"), ROWS);

    // Tampering with main after the cut is still caught.
    Connection::open(&database)
        .unwrap()
        .execute("DELETE FROM events WHERE seq = ?1", [ROWS + 1])
        .unwrap();
    let cut = home.run(&["log", "verify", "--db", db, "--json"]);
    assert_eq!(
        cut.status.code(),
        Some(1),
        "deleting main's first row after the anchor"
    );
    let report: serde_json::Value = serde_json::from_slice(&cut.stdout).unwrap();
    assert_eq!(report["database"]["break"]["seq"], ROWS + 2);
}

#[test]
fn tampered_archive_fails() {
    let home = Home::new();
    let database = old_and_new_log(&home);
    let db = database.to_str().unwrap();
    let archive = home.path().join("old-log.sqlite");
    let archive_arg = archive.to_str().unwrap();
    let output = home.run(&[
        "log",
        "archive",
        "--db",
        db,
        "--before",
        &date_days_ago(380),
        "--output",
        archive_arg,
    ]);
    assert!(output.status.success());

    Connection::open(&archive)
        .unwrap()
        .execute(
            "UPDATE events SET body = replace(body, 'round', 'r0und') WHERE seq = 6",
            [],
        )
        .unwrap();
    let checked = home.run(&[
        "log",
        "verify",
        "--db",
        db,
        "--archive",
        archive_arg,
        "--json",
    ]);
    assert_eq!(checked.status.code(), Some(1), "tampered archive fails");
    let report: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(report["archives"][0]["intact"], false);
    assert_eq!(report["archives"][0]["break"]["seq"], 6);
    assert_eq!(report["database"]["intact"], true);

    // A foreign archive does not join this database.
    let other = Home::new();
    let other_db = old_and_new_log(&other);
    let other_archive = other.path().join("other.sqlite");
    let made = other.run(&[
        "log",
        "archive",
        "--db",
        other_db.to_str().unwrap(),
        "--before",
        &date_days_ago(380),
        "--output",
        other_archive.to_str().unwrap(),
    ]);
    assert!(made.status.success());
    let joined = home.run(&[
        "log",
        "verify",
        "--db",
        db,
        "--archive",
        other_archive.to_str().unwrap(),
    ]);
    assert_eq!(
        joined.status.code(),
        Some(1),
        "an archive of another log does not join"
    );
}

#[test]
fn archive_inside_retention_is_refused() {
    let home = Home::new();
    let database = old_and_new_log(&home);
    let db = database.to_str().unwrap();
    let config = home.path().join("guardroom.toml");
    std::fs::write(
        &config,
        "[site]\ntime_zone = \"Asia/Shanghai\"\n\n[log]\nkeep_days = 500\n",
    )
    .unwrap();
    let before = date_days_ago(380);

    let output = home.run(&[
        "log",
        "archive",
        "--config",
        config.to_str().unwrap(),
        "--db",
        db,
        "--before",
        &before,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let kept = (Timestamp::now() - (500 * 24).hours())
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date()
        .to_string();
    assert!(stderr.contains(&before), "names the date given: {stderr}");
    assert!(
        stderr.contains(&kept),
        "names the retention limit {kept}: {stderr}"
    );
    assert_eq!(
        count(&database, "SELECT COUNT(*) FROM events"),
        2 * ROWS,
        "nothing moved"
    );
    assert!(
        !home
            .path()
            .join(format!("guardroom-log-before-{before}.sqlite"))
            .exists()
    );
}

#[test]
fn bad_keep_days_is_a_config_error() {
    let home = Home::new();
    let config = home.path().join("guardroom.toml");
    std::fs::write(
        &config,
        "[log]\nkeep_days = 0\n\n[shifts]\nstarts = [\"08:00\", \"25:00\"]\n",
    )
    .unwrap();
    let output = home.run(&["check-config", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("log.keep_days"), "{stderr}");
    assert!(stderr.contains("shifts.starts"), "{stderr}");
    assert!(
        stderr.contains("25:00"),
        "names the bad start time: {stderr}"
    );
}

#[test]
fn referenced_rows_stay() {
    let home = Home::new();
    let database = old_and_new_log(&home);
    // An unsent message still refers to row 5.
    Connection::open(&database)
        .unwrap()
        .execute(
            "INSERT INTO outbox (event_seq, topic, payload, created_ms) VALUES (5, 't', 'p', 0)",
            [],
        )
        .unwrap();
    let output = home.run(&[
        "log",
        "archive",
        "--db",
        database.to_str().unwrap(),
        "--before",
        &date_days_ago(380),
        "--output",
        home.path().join("a.sqlite").to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("moved 4 events (seq 1 to 4)"), "{stdout}");
    assert_eq!(count(&database, "SELECT MIN(seq) FROM events"), 5);
}
