//! The duty log end to end, as the guards and their supervisor use it: the
//! real binary in tmux at 80×24, a real mosquitto, real SQLite files.
//!
//! A guard logs in and writes a note in Chinese, hands the shift over to a
//! second guard at the same console, and a supervisor reviews the log and
//! exports a report from a read-only console on the same database. Then
//! `guardroom log verify` checks the hash chain, before and after a row is
//! changed behind guardroom's back.
//!
//! The guards' console speaks zh-CN, the supervisor's en.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::duty::{DutyRow, duty_rows};
use support::tmux::{Tmux, console_line, log_in, quit, read_logs, wait_gone};
use support::{Broker, Home};

const GUARD_A: &str = "g-zhao";
const GUARD_A_PIN: &str = "2580";
const GUARD_B: &str = "g-qian";
const GUARD_B_PIN: &str = "1397";
const SUPERVISOR: &str = "s-sun";
const SUPERVISOR_PIN: &str = "8642";

const NOTE: &str = "东门巡查完毕，车库入口有积水，已通知物业处理";
/// A two-character word of the note that the supervisor searches for.
const NOTE_WORD: &str = "积水";
const REMARKS: &str = "监控室钥匙已放回抽屉";

/// Adds operator `id` to `database` with the real command line.
fn add_operator(home: &Home, database: &Path, id: &str, name: &str, role: &str, pin: &str) {
    let mut child = home
        .command(&[
            "operator",
            "add",
            id,
            "--name",
            name,
            "--role",
            role,
            "--pin-stdin",
            "--db",
            database.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running guardroom operator add");
    writeln!(child.stdin.take().unwrap(), "{pin}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "operator add {id} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits until the last duty-log action stored is of `kind`, and returns
/// all of them.
fn wait_for_duty(database: &Path, kind: &str) -> Vec<DutyRow> {
    let start = Instant::now();
    loop {
        let rows = duty_rows(database);
        if rows.last().is_some_and(|row| row.kind() == kind) {
            return rows;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no {kind} stored last; the duty log holds {rows:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Counts the rows a console writes: events, and requests to the recorder.
fn written_rows(database: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(database).unwrap();
    let count = |table: &str| {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get::<_, i64>(0)
        })
        .unwrap()
    };
    (count("events"), count("requests"))
}

/// Returns the reports written to `folder`.
fn reports(folder: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .collect()
}

// NOTE: the note, the handover and the search all fall in the shift of
// the clock; a run across 08:00 or 20:00 Asia/Shanghai can fail.
#[test]
fn note_handover_review_and_verify() {
    let started = Instant::now();
    let broker = Broker::start_new();
    let home = Home::new();
    let config = home.write_config("dutysite", &broker.url(), &[]);
    let database = home.path().join("duty.sqlite");
    add_operator(&home, &database, GUARD_A, "赵守一", "guard", GUARD_A_PIN);
    add_operator(&home, &database, GUARD_B, "钱守二", "guard", GUARD_B_PIN);
    add_operator(
        &home,
        &database,
        SUPERVISOR,
        "孙督导",
        "supervisor",
        SUPERVISOR_PIN,
    );
    let tmux = Tmux::new(&home);

    // Guard A logs in at the duty console.
    tmux.start(
        "guard",
        &console_line(&home, &config, &database, "zh-CN", &[]),
    );
    tmux.wait_for("guard", "操作员编号");
    log_in(&tmux, "guard", GUARD_A, GUARD_A_PIN);
    tmux.wait_for("guard", &format!("{GUARD_A} · 记录器"));
    let rows = wait_for_duty(&database, "log_in");
    assert_eq!(rows.last().unwrap().operator(), GUARD_A);
    eprintln!("guard A logged in after {:?}", started.elapsed());

    // A writes a note in Chinese: one duty_recorded event with its text.
    let before_note = rows.len();
    tmux.keys("guard", &["w"]);
    tmux.wait_for("guard", "写值班记录");
    tmux.type_text("guard", NOTE);
    tmux.wait_for("guard", NOTE_WORD);
    tmux.keys("guard", &["Enter"]);
    tmux.wait_for("guard", "备注已记入值班日志");
    let rows = wait_for_duty(&database, "note");
    assert_eq!(
        rows.len(),
        before_note + 1,
        "one event for the note: {rows:#?}"
    );
    let note = rows.last().unwrap();
    assert_eq!(note.action["entry"], "note", "{note:?}");
    assert_eq!(note.action["remark"], NOTE, "{note:?}");
    assert_eq!(note.operator(), GUARD_A, "{note:?}");
    assert_eq!(note.action["role"], "guard", "{note:?}");
    assert!(
        note.action.get("refers_to").is_none(),
        "a new note corrects nothing: {note:?}"
    );
    let note_seq = note.seq;

    // A opens the handover, writes remarks and signs.
    tmux.keys("guard", &["T"]);
    tmux.wait_for("guard", "交接备注（可不填）：");
    tmux.type_text("guard", REMARKS);
    tmux.wait_for("guard", REMARKS);
    tmux.keys("guard", &["Enter"]);
    tmux.wait_for("guard", "接班人请输入操作员编号");
    let rows = wait_for_duty(&database, "hand_over");
    let after_handover = rows.len();

    // B mistypes the PIN first, which is rejected and records nothing.
    tmux.type_text("guard", GUARD_B);
    tmux.keys("guard", &["Tab"]);
    tmux.type_text("guard", "0000");
    tmux.keys("guard", &["Enter"]);
    tmux.wait_for("guard", "密码错误；再错 4 次将被锁定");
    let screen = tmux.screen("guard");
    assert!(
        !screen.contains("0000"),
        "the PIN is never shown:\n{screen}"
    );
    assert_eq!(
        duty_rows(&database).len(),
        after_handover,
        "a wrong PIN records nothing"
    );

    // The cursor stays on the PIN field: B types the right one.
    tmux.type_text("guard", GUARD_B_PIN);
    tmux.keys("guard", &["Enter"]);
    tmux.wait_for("guard", &format!("{GUARD_A} 交班，{GUARD_B} 接班，已完成"));
    tmux.wait_for("guard", &format!("{GUARD_B} · 记录器"));
    let rows = wait_for_duty(&database, "log_in");

    // Stored in order: A hands over, B takes over naming A's handover,
    // then A is logged out and B logged in, with nothing in between.
    let tail: Vec<&DutyRow> = rows[after_handover - 1..].iter().collect();
    let kinds: Vec<&str> = tail.iter().map(|row| row.kind()).collect();
    assert_eq!(
        kinds,
        ["hand_over", "take_over", "log_out", "log_in"],
        "{rows:#?}"
    );
    let operators: Vec<&str> = tail.iter().map(|row| row.operator()).collect();
    assert_eq!(operators, [GUARD_A, GUARD_B, GUARD_A, GUARD_B], "{rows:#?}");
    let (handover, takeover) = (tail[0], tail[1]);
    assert_eq!(handover.action["remark"], REMARKS, "{handover:?}");
    assert_eq!(
        takeover.action["handover"], handover.action["id"],
        "{takeover:?}"
    );
    assert_eq!(
        takeover.action["shift"], handover.action["shift"],
        "{takeover:?}"
    );
    assert_eq!(takeover.action["role"], "guard", "{takeover:?}");
    eprintln!("handover done after {:?}", started.elapsed());

    // The sheet on screen ends with both signature lines.
    let signed = |screen: &str| {
        screen.contains(&format!("交班人: {GUARD_A}"))
            && screen.contains(&format!("接班人: {GUARD_B}"))
    };
    for _ in 0..30 {
        if signed(&tmux.screen("guard")) {
            break;
        }
        tmux.keys("guard", &["NPage"]);
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.wait_until("guard", "both signature lines", signed);
    tmux.keys("guard", &["Escape"]);

    // The supervisor opens a read-only console on the same database, with
    // a console id of its own, so that any row it wrote would show it.
    let review_config = home.path().join("review.toml");
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "[console]\n",
        "[console]\nid = \"review-1\"\n",
        1,
    );
    std::fs::write(&review_config, text).unwrap();
    let written_before = written_rows(&database);
    tmux.start(
        "review",
        &console_line(&home, &review_config, &database, "en", &["--read-only"]),
    );
    tmux.wait_for("review", "read-only review, supervisors only");

    // A guard may not review.
    log_in(&tmux, "review", GUARD_B, GUARD_B_PIN);
    tmux.wait_for("review", "may not review logs");
    let screen = tmux.screen("review");
    assert!(
        screen.contains("supervisor."),
        "the refusal says what to do, in full:\n{screen}"
    );
    // Esc clears the form. A terminal reads Esc and a key right after it
    // as Alt with that key, so the next id waits for the cleared form.
    tmux.keys("review", &["Escape"]);
    tmux.wait_for("review", "Type your id");
    log_in(&tmux, "review", SUPERVISOR, SUPERVISOR_PIN);
    tmux.wait_for("review", &format!("{SUPERVISOR} · read-only"));

    // It cannot write to the log.
    tmux.keys("review", &["w"]);
    tmux.wait_for("review", "This is a read-only review console");

    // The log browser finds the note by a Chinese word.
    tmux.keys("review", &["3"]);
    tmux.wait_for("review", "Shift ");
    tmux.keys("review", &["/"]);
    tmux.type_text("review", NOTE_WORD);
    tmux.wait_for("review", &format!("/{NOTE_WORD}"));
    tmux.wait_for("review", "1 entries");
    let screen = tmux.screen("review");
    let row = screen
        .lines()
        .find(|line| line.contains(GUARD_A) && line.contains("东门巡查"))
        .unwrap_or_else(|| panic!("the note's row:\n{screen}"));
    assert!(row.contains(NOTE_WORD), "the row shows the word: {row}");
    eprintln!(
        "note found in the log browser after {:?}",
        started.elapsed()
    );

    // Enter leaves the search; e exports the shift's report.
    tmux.keys("review", &["Enter", "e"]);
    tmux.wait_for("review", "Report written to");
    let folder = home.path().join("reports");
    let written = reports(&folder);
    assert_eq!(
        written.len(),
        1,
        "one report in {}: {written:?}",
        folder.display()
    );
    let report = std::fs::read_to_string(&written[0]).unwrap();
    assert!(
        report.contains(NOTE),
        "the report holds the note:\n{report}"
    );
    assert!(
        report
            .lines()
            .any(|line| line.contains("Outgoing guard") && line.contains(GUARD_A)),
        "the report holds the outgoing signature:\n{report}"
    );
    assert!(
        report
            .lines()
            .any(|line| line.contains("Incoming guard") && line.contains(GUARD_B)),
        "the report holds the incoming signature:\n{report}"
    );

    quit(&tmux, "review", "Quit");
    assert_eq!(
        written_rows(&database),
        written_before,
        "the read-only console wrote events or requests"
    );
    let conn = rusqlite::Connection::open(&database).unwrap();
    let review_rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE body LIKE '%review-1%'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(review_rows, 0, "no event names the read-only console");

    // Quitting the duty console logs B out.
    quit(&tmux, "guard", "退出 guardroom 控制台？");
    let rows = wait_for_duty(&database, "log_out");
    assert_eq!(rows.last().unwrap().operator(), GUARD_B);
    let logs = read_logs(&home);
    assert!(!logs.contains("panicked"), "no console panicked:\n{logs}");

    // The hash chain checks out, until the note's text is changed.
    let db = database.to_str().unwrap();
    let output = home.run(&["log", "verify", "--db", db]);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("intact"),
        "verify reports the log intact: {output:?}"
    );
    assert!(
        output.status.success(),
        "verify of the untouched log: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let changed = conn
        .execute(
            "UPDATE events SET body = replace(body, ?1, '无水') WHERE seq = ?2",
            rusqlite::params![NOTE_WORD, note_seq],
        )
        .unwrap();
    assert_eq!(changed, 1, "the note's row was edited");
    let output = home.run(&["log", "verify", "--db", db]);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "verify of the edited log: {printed}"
    );
    assert!(
        printed.contains(&format!("BROKEN at seq {note_seq} ")),
        "names the edited row, seq {note_seq}: {printed}"
    );
    eprintln!("whole scenario took {:?}", started.elapsed());

    // Every row of the report's duty log names its type in words.
    let raw_keys: Vec<&str> = report
        .lines()
        .filter(|line| line.contains("report.log"))
        .collect();
    assert!(
        raw_keys.is_empty(),
        "the report shows catalog keys instead of entry types:\n{}",
        raw_keys.join("\n")
    );
}

/// A console attached to `guardroom serve` hands its actions to the
/// recorder through the database, from a thread of its own: quitting must
/// wait for that thread, or the logout is lost with the process.
#[test]
fn attached_console_records_logout_on_quit() {
    let broker = Broker::start_new();
    let home = Home::new();
    let config = home.write_config("dutysite", &broker.url(), &[]);
    let database = home.path().join("duty.sqlite");
    add_operator(&home, &database, GUARD_A, "赵守一", "guard", GUARD_A_PIN);
    let mut serve = home.serve(&config, &database);
    home.wait_for_status("serve online", &database, &mut serve, |status| {
        status["link"]["state"] == "online"
    });
    let tmux = Tmux::new(&home);

    tmux.start(
        "attached",
        &console_line(&home, &config, &database, "en", &[]),
    );
    tmux.wait_for("attached", "Operator id");
    log_in(&tmux, "attached", GUARD_A, GUARD_A_PIN);
    tmux.wait_for("attached", &format!("{GUARD_A} · attached"));
    wait_for_duty(&database, "log_in");

    // Another program locks the database while the operator quits, so the
    // logout cannot be written at once and the console must wait for it.
    let blocker = rusqlite::Connection::open(&database).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let pid = tmux.pane_pid("attached").expect("pane pid");
    tmux.keys("attached", &["q"]);
    tmux.wait_for("attached", "Quit the guardroom console?");
    tmux.keys("attached", &["y"]);
    std::thread::sleep(Duration::from_millis(700));
    blocker.execute_batch("ROLLBACK").unwrap();
    wait_gone(pid);
    let rows = wait_for_duty(&database, "log_out");
    assert_eq!(rows.last().unwrap().operator(), GUARD_A);
    serve.terminate();
}
