//! The real console in a real terminal: `guardroom` runs inside tmux at
//! 80×24 against a real mosquitto, and the test reads the screen the way a
//! guard would.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::tmux::{Tmux, console_line, process_alive, read_logs, wait_gone};
use support::{Broker, Home, Publisher, Subscriber, TestDevice};

#[test]
fn published_door_state_appears_on_screen() {
    let broker = Broker::start_new();
    let home = Home::new();
    let config = home.path().join("guard.toml");
    let text = format!(
        "[site]\nid = \"tmuxsite\"\nname = \"测试小区\"\n[broker]\nurl = \"{}\"\nclient_id = \"{}\"\n\
         [[devices]]\nid = \"b1-door-east\"\nkind = \"door\"\nname = \"一号楼东门\"\nbuilding = \"1号楼\"\ninterval_s = 60\n",
        broker.url(),
        support::unique_client_id("gr-tmux")
    );
    std::fs::write(&config, text).unwrap();
    let database = home.path().join("console.sqlite");
    let tmux = Tmux::new(&home);

    tmux.start(
        "guard",
        &console_line(&home, &config, &database, "zh-CN", &[]),
    );
    tmux.wait_for("guard", "在线");
    tmux.keys("guard", &["2"]);
    tmux.wait_for("guard", "? 未知");

    let mut publisher = Publisher::connect(broker.port());
    publisher.publish(
        "gr/v1/tmuxsite/dev/b1-door-east/state",
        r#"{"v":1,"state":"open","locked":false}"#,
        true,
    );
    publisher.flush();
    let took = tmux.wait_for("guard", "o 开启");
    eprintln!("door state on screen {took:?} after the broker acknowledged it");

    let screen = tmux.screen("guard");
    let row = screen
        .lines()
        .find(|line| line.contains("一号楼东门"))
        .expect("device row");
    assert!(row.contains("o 开启"), "row shows the new state: {row}");

    let status = home.status_json(&database);
    assert_eq!(status["devices"]["by_kind"]["door"]["open"], 1, "{status}");

    // q opens a confirmation; y quits and the process ends.
    let pid = tmux.pane_pid("guard").expect("pane pid");
    tmux.keys("guard", &["q"]);
    tmux.wait_for("guard", "退出 guardroom 控制台？");
    assert!(process_alive(pid), "q alone must not quit");
    tmux.keys("guard", &["y"]);
    wait_gone(pid);
}

#[test]
fn second_console_attaches_and_takes_over() {
    let broker = Broker::start_new();
    let home = Home::new();
    let config = home.write_config("twosite", &broker.url(), &[TestDevice::door("gate-1")]);
    let database = home.path().join("shared.sqlite");
    let tmux = Tmux::new(&home);

    tmux.start("first", &console_line(&home, &config, &database, "en", &[]));
    tmux.wait_for("first", "recorder");
    tmux.start(
        "second",
        &console_line(&home, &config, &database, "en", &[]),
    );
    tmux.wait_for("second", "attached");
    tmux.keys("second", &["2"]);

    let mut publisher = Publisher::connect(broker.port());
    publisher.publish(
        "gr/v1/twosite/dev/gate-1/state",
        r#"{"state":"forced"}"#,
        true,
    );
    publisher.flush();
    tmux.wait_for("second", "! forced open");

    // The recorder's terminal goes away (as when an SSH session drops):
    // it must exit, and the attached console must take over recording.
    let first = tmux.pane_pid("first").expect("pane pid");
    tmux.tmux(&["kill-session", "-t", "first"]);
    wait_gone(first);
    tmux.wait_for("second", "recorder");
    // Its terminal was gone when it restored it: that must not panic.
    let logs = read_logs(&home);
    assert!(
        logs.contains("termination signal") && !logs.contains("panicked"),
        "the console closed without a panic:\n{logs}"
    );

    publisher.publish(
        "gr/v1/twosite/dev/gate-1/state",
        r#"{"state":"closed"}"#,
        true,
    );
    publisher.flush();
    tmux.wait_for("second", "+ normal");
}

#[test]
fn bad_config_fails_before_the_screen() {
    let home = Home::new();
    let config = home.path().join("bad.toml");
    std::fs::write(&config, "[site]\ntime_zone = \"Nowhere/City\"\n").unwrap();
    let database = home.path().join("never.sqlite");
    let tmux = Tmux::new(&home);
    let line = format!(
        "{}; sleep 30",
        console_line(&home, &config, &database, "en", &[]).replacen("exec ", "", 1)
    );
    tmux.start("bad", &line);
    tmux.wait_for("bad", "site.time_zone");
    let screen = tmux.screen("bad");
    assert!(
        screen.contains("Nowhere/City"),
        "names the value:\n{screen}"
    );
    assert!(
        !database.exists(),
        "no database is created for an invalid config"
    );
}

#[test]
fn header_shows_offline_then_recovers() {
    let mut broker = Broker::start_new();
    let home = Home::new();
    let config = home.write_config("offsite", &broker.url(), &[TestDevice::door("gate-9")]);
    let database = home.path().join("offline.sqlite");
    let tmux = Tmux::new(&home);

    // No broker at start: the console opens anyway and shows the link as down.
    broker.stop();
    tmux.start("guard", &console_line(&home, &config, &database, "en", &[]));
    tmux.wait_for("guard", "[X] OFFLINE since");
    // The live link state, with the next retry, can follow the state
    // recorded in the database by a frame.
    tmux.wait_for("guard", ", retry ");
    let screen = tmux.screen("guard");
    assert!(
        screen.contains("? unknown") || screen.contains("no message yet"),
        "{screen}"
    );

    broker.start();
    tmux.wait_for("guard", "[+] online since");
}

#[test]
fn smoke_alarm_acknowledged_from_the_keyboard() {
    let broker = Broker::start_new();
    let home = Home::new();
    let smoke = TestDevice {
        id: "smoke-9".into(),
        name: "三号楼烟感".into(),
        kind: "detector",
        class: Some("smoke"),
    };
    let config = home.write_config("alarmsite", &broker.url(), &[smoke]);
    let database = home.path().join("alarms.sqlite");
    let actions = Subscriber::connect(broker.port(), "gr/v1/alarmsite/console/+/act");
    let tmux = Tmux::new(&home);

    tmux.start(
        "guard",
        &console_line(&home, &config, &database, "zh-CN", &[]),
    );
    tmux.wait_for("guard", "在线");

    let mut publisher = Publisher::connect(broker.port());
    publisher.publish(
        "gr/v1/alarmsite/evt/smoke-9",
        r#"{"v":1,"id":"evt-1","type":"smoke"}"#,
        false,
    );
    publisher.flush();
    let took = tmux.wait_for("guard", "三号楼烟感");
    eprintln!("smoke alarm in the queue {took:?} after the broker acknowledged it");
    // Without a desktop the notice shows as a banner that names the alarm
    // too, so the queue row is the one with the state column.
    tmux.wait_for("guard", "桌面通知不可用");
    let screen = tmux.screen("guard");
    let row = screen
        .lines()
        .find(|line| line.contains("三号楼烟感") && line.contains("未确认"))
        .unwrap_or_else(|| panic!("an unacknowledged alarm row:\n{screen}"));
    assert!(row.contains("P1"), "a fire is P1: {row}");

    tmux.keys("guard", &["a"]);
    let (topic, payload) = actions
        .next(Duration::from_secs(20))
        .expect("acknowledging publishes the action");
    assert_eq!(topic, "gr/v1/alarmsite/console/duty-1/act");
    let message: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(message["action"], "acknowledge", "{message}");
    let id = message["id"].as_str().expect("the action has an id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "the id is a UUID: {id}");
    tmux.wait_for("guard", "待复位");
    assert!(
        actions.next(Duration::from_millis(500)).is_none(),
        "one action, one message"
    );

    let pid = tmux.pane_pid("guard").expect("pane pid");
    tmux.keys("guard", &["q"]);
    tmux.wait_for("guard", "退出 guardroom 控制台？");
    tmux.keys("guard", &["y"]);
    wait_gone(pid);

    // The queue comes back from SQLite, acknowledged and waiting for reset.
    tmux.start(
        "again",
        &console_line(&home, &config, &database, "zh-CN", &[]),
    );
    tmux.wait_for("again", "三号楼烟感");
    let screen = tmux.screen("again");
    assert!(
        screen
            .lines()
            .any(|line| line.contains("三号楼烟感") && line.contains("待复位")),
        "same state after restart:\n{screen}"
    );
}

/// Adds operator `id` to `database` with the real command line.
fn add_operator(home: &Home, database: &Path, id: &str, role: &str, pin: &str) {
    use std::io::Write;
    let mut child = home
        .command(&[
            "operator",
            "add",
            id,
            "--name",
            "值班员甲",
            "--role",
            role,
            "--pin-stdin",
            "--db",
            database.to_str().unwrap(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running guardroom operator add");
    writeln!(child.stdin.take().unwrap(), "{pin}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "operator add failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The operator actions stored in `database`, oldest first.
fn stored_actions(database: &Path) -> Vec<serde_json::Value> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT body FROM events WHERE kind IN ('alarm_acted', 'duty_recorded') ORDER BY seq",
        )
        .unwrap();
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .filter_map(Result::ok)
        .map(|body| serde_json::from_str::<serde_json::Value>(&body).unwrap()["action"].clone())
        .collect()
}

#[test]
fn login_lockout_acknowledge_and_lock() {
    let broker = Broker::start_new();
    let home = Home::new();
    let smoke = TestDevice {
        id: "smoke-7".into(),
        name: "七号楼烟感".into(),
        kind: "detector",
        class: Some("smoke"),
    };
    let config = home.write_config("loginsite", &broker.url(), &[smoke]);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[operators]\nmax_failures = 3\nlockout_s = 4\n");
    std::fs::write(&config, text).unwrap();
    let database = home.path().join("login.sqlite");
    add_operator(&home, &database, "g1", "guard", "2468");
    let tmux = Tmux::new(&home);

    tmux.start("guard", &console_line(&home, &config, &database, "en", &[]));
    tmux.wait_for("guard", "Operator id");
    tmux.keys("guard", &["g1", "Enter", "0000", "Enter"]);
    tmux.wait_for("guard", "2 tries left");
    let screen = tmux.screen("guard");
    assert!(
        !screen.contains("0000"),
        "the PIN is never shown:\n{screen}"
    );
    tmux.keys("guard", &["1111", "Enter"]);
    tmux.wait_for("guard", "1 tries left");
    tmux.keys("guard", &["2222", "Enter"]);
    tmux.wait_for("guard", "locked out until");
    let locked_at = Instant::now();

    // The right PIN is refused until the lockout ends. The id stays in its
    // field after a wrong PIN, so only the PIN is typed again.
    tmux.keys("guard", &["2468", "Enter"]);
    tmux.wait_for("guard", "locked out until");
    assert!(
        !tmux.screen("guard").contains("g1 · recorder"),
        "logged in during the lockout"
    );
    std::thread::sleep(
        Duration::from_secs(4).saturating_sub(locked_at.elapsed()) + Duration::from_millis(500),
    );
    tmux.keys("guard", &["2468", "Enter"]);
    tmux.wait_for("guard", "g1 · recorder");
    tmux.wait_for("guard", "online");

    let mut publisher = Publisher::connect(broker.port());
    publisher.publish(
        "gr/v1/loginsite/evt/smoke-7",
        r#"{"v":1,"id":"evt-7","type":"smoke"}"#,
        false,
    );
    publisher.flush();
    tmux.wait_for("guard", "七号楼烟感");
    tmux.keys("guard", &["a"]);
    tmux.wait_for("guard", "to reset");

    // The operator added on the command line reached the duty log first.
    let actions = wait_for_actions(&database, 3);
    assert_eq!(actions[0]["action"], "operator_changed", "{actions:?}");
    assert_eq!(actions[1]["action"], "log_in", "{actions:?}");
    assert_eq!(actions[1]["operator"], "g1");
    let acknowledged = &actions[2];
    assert_eq!(acknowledged["action"], "acknowledge", "{actions:?}");
    assert_eq!(acknowledged["operator"], "g1");
    assert_eq!(acknowledged["role"], "guard");
    assert_eq!(acknowledged["console"], "duty-1");
    assert_eq!(acknowledged["via_ssh"], false);

    // L locks: the lock screen keeps the alarm in view and takes no action.
    tmux.keys("guard", &["L"]);
    tmux.wait_for("guard", "Locked ·");
    let screen = tmux.screen("guard");
    assert!(
        screen.lines().any(|line| line.contains("七号楼烟感")),
        "the alarm stays listed on the lock screen:\n{screen}"
    );
    tmux.keys("guard", &["m"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        stored_actions(&database).len(),
        3,
        "a locked console takes no action"
    );

    // The same operator unlocks; quitting logs them out.
    tmux.keys("guard", &["Enter", "2468", "Enter"]);
    tmux.wait_for("guard", "g1 · recorder");
    let pid = tmux.pane_pid("guard").expect("pane pid");
    tmux.keys("guard", &["q"]);
    tmux.wait_for("guard", "Quit");
    tmux.keys("guard", &["y"]);
    wait_gone(pid);
    let actions = stored_actions(&database);
    assert_eq!(actions.last().unwrap()["action"], "log_out", "{actions:?}");
}

/// Waits until `database` holds at least `count` operator actions.
fn wait_for_actions(database: &Path, count: usize) -> Vec<serde_json::Value> {
    let start = Instant::now();
    loop {
        let actions = stored_actions(database);
        if actions.len() >= count {
            return actions;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "only {} actions stored: {actions:?}",
            actions.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
