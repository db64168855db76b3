//! `guardroom operator …` as an administrator runs it. The real binary adds,
//! lists, disables and enables operators and sets PINs from standard input.
//! It rejects bad input without storing anything, never stores a PIN in
//! clear, and hands each change to the duty log once a recorder runs.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use rusqlite::Connection;
use support::{Broker, DEADLINE, Home, wait_for};

/// Runs `guardroom operator ARGS --db DATABASE`, with `stdin` as standard input.
fn operator(home: &Home, database: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut full = vec!["--lang", "en", "operator"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--db", database.to_str().unwrap()]);
    let mut command = home.command(&full);
    command.env("USER", "admin-test");
    if stdin.is_some() {
        command.stdin(Stdio::piped());
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("starting guardroom operator");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {}: {}{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

#[track_caller]
fn assert_fails(output: &Output, expected: &[&str]) {
    assert!(
        !output.status.success(),
        "expected a failure: {}",
        stdout(output)
    );
    let message = stderr(output);
    for part in expected {
        assert!(message.contains(part), "{part:?} not in {message:?}");
    }
}

fn count(database: &Path, sql: &str) -> i64 {
    let conn = Connection::open(database).unwrap();
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

fn list_json(home: &Home, database: &Path) -> serde_json::Value {
    let output = operator(home, database, &["list", "--json"], None);
    assert_ok(&output);
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn add_list_disable_enable_set_pin() {
    let home = Home::new();
    let database = home.path().join("guardroom.db");

    let added = operator(
        &home,
        &database,
        &[
            "add",
            "g1",
            "--name",
            "值班员甲",
            "--role",
            "guard",
            "--pin-stdin",
        ],
        Some("482916\n"),
    );
    assert_ok(&added);
    assert!(
        stdout(&added).contains("added operator g1"),
        "{}",
        stdout(&added)
    );
    assert_ok(&operator(
        &home,
        &database,
        &[
            "add",
            "s1",
            "--name",
            "主管乙",
            "--role",
            "supervisor",
            "--pin-stdin",
        ],
        Some("7391\n"),
    ));

    let listed = list_json(&home, &database);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["id"], "g1");
    assert_eq!(listed[0]["name"], "值班员甲");
    assert_eq!(listed[0]["role"], "guard");
    assert_eq!(listed[0]["disabled"], false);
    assert_eq!(listed[1]["role"], "supervisor");
    assert!(
        listed[0].get("pin_hash").is_none(),
        "the list leaves the hash out"
    );

    let table = operator(&home, &database, &["list"], None);
    assert_ok(&table);
    assert!(stdout(&table).contains("值班员甲"), "{}", stdout(&table));

    assert_ok(&operator(&home, &database, &["disable", "g1"], None));
    assert_eq!(list_json(&home, &database)[0]["disabled"], true);
    let again = operator(&home, &database, &["disable", "g1"], None);
    assert_ok(&again);
    assert!(
        stdout(&again).contains("already disabled"),
        "{}",
        stdout(&again)
    );
    assert_ok(&operator(&home, &database, &["enable", "g1"], None));
    assert_eq!(list_json(&home, &database)[0]["disabled"], false);

    let hash_before: String = Connection::open(&database)
        .unwrap()
        .query_row(
            "SELECT pin_hash FROM operators WHERE id = 'g1'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_ok(&operator(
        &home,
        &database,
        &["set-pin", "g1", "--pin-stdin"],
        Some("550013\n"),
    ));
    let hash_after: String = Connection::open(&database)
        .unwrap()
        .query_row(
            "SELECT pin_hash FROM operators WHERE id = 'g1'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(hash_after.starts_with("$argon2id$"), "{hash_after}");
    assert_ne!(hash_before, hash_after);

    // Each change waits in the requests table for the recorder.
    assert_eq!(
        count(
            &database,
            "SELECT COUNT(*) FROM requests WHERE state = 'pending'"
        ),
        5
    );
}

#[test]
fn pin_never_stored_in_clear() {
    let home = Home::new();
    let database = home.path().join("guardroom.db");
    for (id, pin) in [("g7", "86420975"), ("g8", "13579864")] {
        assert_ok(&operator(
            &home,
            &database,
            &[
                "add",
                id,
                "--name",
                "测试员",
                "--role",
                "guard",
                "--pin-stdin",
            ],
            Some(&format!("{pin}\n")),
        ));
    }
    assert_ok(&operator(
        &home,
        &database,
        &["set-pin", "g7", "--pin-stdin"],
        Some("24681357\n"),
    ));
    // The rows may still be in the WAL file, so it is searched too.
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", database.display());
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for pin in ["86420975", "13579864", "24681357"] {
            assert!(
                !bytes
                    .windows(pin.len())
                    .any(|window| window == pin.as_bytes()),
                "PIN found in clear in {path}"
            );
        }
    }
    let logs = home.path().join("state").join("guardroom").join("logs");
    for entry in std::fs::read_dir(logs).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        assert!(!text.contains("86420975"), "PIN in the log");
    }
}

#[test]
fn bad_input_is_rejected_and_nothing_stored() {
    let home = Home::new();
    let database = home.path().join("guardroom.db");
    let add = |id: &str, name: &str, role: &str, pin: &str| {
        operator(
            &home,
            &database,
            &["add", id, "--name", name, "--role", role, "--pin-stdin"],
            Some(pin),
        )
    };

    assert_fails(
        &add("g 1", "甲", "guard", "1234\n"),
        &["\"g 1\"", "letters, digits"],
    );
    assert_fails(
        &add("g1", "甲", "janitor", "1234\n"),
        &["\"janitor\"", "guard, maintenance or supervisor"],
    );
    assert_fails(&add("g1", "  ", "guard", "1234\n"), &["invalid name"]);
    let short = add("g1", "甲", "guard", "123\n");
    assert_fails(&short, &["3 characters", "4 to 12 digits"]);
    let letters = add("g1", "甲", "guard", "12ab34\n");
    assert_fails(&letters, &["only the digits"]);
    assert!(!stderr(&letters).contains("12ab34"), "the PIN is echoed");
    let long = add("g1", "甲", "guard", "1234567890123\n");
    assert_fails(&long, &["13 characters"]);
    assert!(!stderr(&long).contains("1234567890123"));
    assert_eq!(
        count(&database, "SELECT COUNT(*) FROM operators"),
        0,
        "nothing stored after bad input"
    );

    assert_ok(&add("g1", "甲", "guard", "1234\n"));
    assert_fails(
        &add("g1", "乙", "guard", "5678\n"),
        &["g1 already exists", "set-pin g1"],
    );
    assert_fails(
        &operator(&home, &database, &["disable", "ghost"], None),
        &["ghost", "guardroom operator list"],
    );
    assert_fails(
        &operator(
            &home,
            &database,
            &["set-pin", "ghost", "--pin-stdin"],
            Some("1234\n"),
        ),
        &["ghost"],
    );
    assert_fails(
        &operator(
            &home,
            &database,
            &["set-pin", "g1", "--pin-stdin"],
            Some("12\n"),
        ),
        &["4 to 12 digits"],
    );
    // Without a terminal and without --pin-stdin, the error names the option.
    assert_fails(
        &operator(&home, &database, &["set-pin", "g1"], None),
        &["--pin-stdin"],
    );
    assert_eq!(count(&database, "SELECT COUNT(*) FROM operators"), 1);
    assert_eq!(
        count(&database, "SELECT COUNT(*) FROM requests"),
        1,
        "only the one good change goes to the duty log"
    );
}

#[test]
fn change_reaches_duty_log() {
    let broker = Broker::start_new();
    let home = Home::new();
    let config = home.write_config("clisite", &broker.url(), &[]);
    let database = home.path().join("guardroom.db");
    assert_ok(&operator(
        &home,
        &database,
        &[
            "add",
            "g1",
            "--name",
            "值班员甲",
            "--role",
            "guard",
            "--pin-stdin",
        ],
        Some("482916\n"),
    ));
    assert_ok(&operator(&home, &database, &["disable", "g1"], None));

    let mut serve = home.serve(&config, &database);
    let rows: Vec<serde_json::Value> = wait_for("the changes in the duty log", DEADLINE, || {
        serve.assert_running();
        let conn = Connection::open(&database).ok()?;
        let mut statement = conn
            .prepare("SELECT body FROM events WHERE kind = 'duty_recorded' ORDER BY seq")
            .ok()?;
        let rows: Vec<serde_json::Value> = statement
            .query_map([], |row| row.get::<_, String>(0))
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|body| serde_json::from_str(&body).ok())
            .collect();
        (rows.len() >= 2).then_some(rows)
    });
    serve.terminate();

    let first = &rows[0]["action"];
    assert_eq!(first["action"], "operator_changed", "{first}");
    assert_eq!(first["account"], "g1");
    assert_eq!(first["change"]["kind"], "added");
    assert_eq!(first["change"]["role"], "guard");
    assert_eq!(first["operator"], "os:admin-test");
    assert_eq!(rows[1]["action"]["change"]["kind"], "disabled");
    assert_eq!(
        count(
            &database,
            "SELECT COUNT(*) FROM requests WHERE state = 'pending'"
        ),
        0
    );
}
