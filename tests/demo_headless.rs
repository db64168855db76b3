//! Runs `guardroom demo --headless` for ten seconds against a fresh database
//! and checks what `guardroom status --json` and the database report.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use guardroom::store::Store;

/// Builds a `guardroom` command whose home, config, data and state
/// directories are inside `home`, so the test never touches the user's files.
fn guardroom(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_guardroom"));
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("GUARDROOM_CONFIG")
        .env_remove("GUARDROOM_LOG");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("running the guardroom binary")
}

#[test]
fn headless_demo_fills_database() {
    let home = tempfile::tempdir().unwrap();
    let database = home.path().join("demo.sqlite");

    let demo = run(guardroom(home.path())
        .args(["demo", "--headless", "--duration", "10", "--db"])
        .arg(&database));
    let demo_stderr = text(&demo.stderr);
    assert!(demo.status.success(), "demo failed: {demo_stderr}");
    assert!(
        demo_stderr.contains(&database.display().to_string()),
        "demo did not print the database path: {demo_stderr}"
    );
    assert!(
        demo_stderr.contains("demo ran"),
        "no summary line: {demo_stderr}"
    );

    let status = run(guardroom(home.path())
        .args(["status", "--json", "--db"])
        .arg(&database));
    assert!(
        status.status.success(),
        "status failed: {}",
        text(&status.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&status.stdout).expect("status --json prints JSON");

    let total = report["devices"]["total"].as_u64().unwrap();
    assert!(total >= 300, "only {total} devices");
    let events = report["events"].as_u64().unwrap();
    assert!(events > 0, "no events recorded");
    assert!(
        report["bad_payloads"].as_u64().unwrap() > 0,
        "no bad payload counted"
    );
    assert!(
        report["devices"]["unregistered"].as_u64().unwrap() > 0,
        "no unregistered device"
    );

    let by_status = &report["devices"]["by_status"];
    let count = |status: &str| by_status[status].as_u64().unwrap_or(0);
    assert!(count("normal") > 0, "no normal device: {by_status}");
    assert!(count("unknown") > 0, "no unknown device: {by_status}");
    assert!(count("stale") > 0, "no stale device: {by_status}");
    assert!(count("offline") > 0, "no offline device: {by_status}");
    assert!(count("data_error") > 0, "no data error: {by_status}");
    assert!(count("alarm") > 0, "no alarm: {by_status}");
    assert!(count("fault") > 0, "no fault: {by_status}");

    let by_priority = &report["alarms"]["by_priority"];
    for priority in ["P1", "P2", "P3", "P4"] {
        let open = by_priority[priority].as_u64().unwrap_or(0);
        assert!(
            open > 0,
            "no {priority} alarm in the demo's first seconds: {by_priority}"
        );
    }
    let unacknowledged = report["alarms"]["by_state"]["unacknowledged"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        unacknowledged > 0,
        "new alarms wait for the guard: {}",
        report["alarms"]
    );

    // The demo's residents live inside its process; `status` and `report`
    // on its database find them all the same.
    assert_eq!(report["care"]["residents"], 36, "{}", report["care"]);
    assert_eq!(report["site"]["name"], "星澜雅苑", "{}", report["site"]);
    let shift = current_shift();
    let sheet = run(guardroom(home.path())
        .args(["report", "--shift", &shift, "--format", "md", "--db"])
        .arg(&database));
    let sheet_text = text(&sheet.stdout);
    assert!(sheet.status.success(), "report: {}", text(&sheet.stderr));
    assert!(
        sheet_text.contains("星澜雅苑"),
        "the demo site by name: {sheet_text}"
    );
    assert!(
        sheet_text
            .lines()
            .any(|line| line.contains("r-0001") && line.contains("江\\*芬")),
        "the residents, masked: {sheet_text}"
    );

    let store = Store::open_read_only(&database).unwrap();
    let (projection, _meta) = store.load_projection().unwrap();
    let reporting_buildings: BTreeSet<&str> = projection
        .devices
        .values()
        .filter(|device| device.last_seen.is_some())
        .map(|device| device.spec.building.as_str())
        .filter(|building| building.ends_with("号楼"))
        .collect();
    assert!(
        reporting_buildings.len() >= 6,
        "devices reported from only {} residential buildings: {reporting_buildings:?}",
        reporting_buildings.len()
    );
}

#[test]
fn headless_demo_reads_adapters() {
    let home = tempfile::tempdir().unwrap();
    let database = home.path().join("demo.sqlite");

    let demo = run(guardroom(home.path())
        .args([
            "demo",
            "--headless",
            "--adapters",
            "--duration",
            "12",
            "--db",
        ])
        .arg(&database));
    let demo_stderr = text(&demo.stderr);
    assert!(demo.status.success(), "demo failed: {demo_stderr}");

    let store = Store::open_read_only(&database).unwrap();
    let (projection, _meta) = store.load_projection().unwrap();
    let from = |prefix: &str| -> Vec<&str> {
        projection
            .devices
            .keys()
            .map(String::as_str)
            .filter(|id| id.starts_with(prefix))
            .collect()
    };
    let zigbee = from("z2m-");
    let home_assistant = from("ha-");
    let frigate = from("frigate-");
    assert_eq!(zigbee.len(), 4, "Zigbee2MQTT devices: {zigbee:?}");
    assert_eq!(
        home_assistant.len(),
        3,
        "Home Assistant devices: {home_assistant:?}"
    );
    assert_eq!(frigate.len(), 2, "Frigate cameras: {frigate:?}");
    assert!(
        !home_assistant.iter().any(|id| id.starts_with("ha-0x")),
        "Zigbee devices announced to Home Assistant appear once: {home_assistant:?}"
    );
    for id in zigbee.iter().chain(&home_assistant).chain(&frigate) {
        let device = &projection.devices[*id];
        assert!(device.reported.is_some(), "{id} reported a state");
        assert!(device.data_error.is_none(), "{id}: {:?}", device.data_error);
        assert!(!device.registered, "{id} comes from an adapter");
    }
    assert_eq!(
        projection.devices["z2m-pump-room-leak"].spec.interval_s, 3_600,
        "the adapter's interval"
    );
    assert_eq!(
        projection.devices["ha-shops-alarm-panel"].spec.interval_s, 86_400,
        "the mapping's interval"
    );

    let sources: Vec<&str> = projection
        .alarms
        .open
        .values()
        .map(|alarm| alarm.source.as_str())
        .collect();
    for prefix in ["z2m-", "ext:ha-", "ext:frigate-"] {
        assert!(
            sources.iter().any(|source| source.starts_with(prefix)),
            "no open alarm from {prefix}: {sources:?}"
        );
    }

    let status = run(guardroom(home.path())
        .args(["status", "--json", "--db"])
        .arg(&database));
    let report: serde_json::Value =
        serde_json::from_slice(&status.stdout).expect("status --json prints JSON");
    let unregistered = report["devices"]["unregistered"].as_u64().unwrap();
    assert!(
        unregistered >= 9,
        "nine adapter devices outside the inventory: {unregistered}"
    );
}

#[test]
fn duration_needs_headless() {
    let home = tempfile::tempdir().unwrap();
    let database = home.path().join("demo.sqlite");
    let demo = run(guardroom(home.path())
        .args(["demo", "--duration", "1", "--db"])
        .arg(&database));
    assert_eq!(demo.status.code(), Some(2), "{}", text(&demo.stderr));
    assert!(
        text(&demo.stderr).contains("--headless"),
        "{}",
        text(&demo.stderr)
    );
    assert!(
        !database.exists(),
        "a rejected command created the database"
    );
}

/// Returns the id of the demo site's shift now: day from 08:00, night from
/// 20:00, Asia/Shanghai.
fn current_shift() -> String {
    let now = jiff::Timestamp::now().in_tz("Asia/Shanghai").unwrap();
    let (day, start) = match now.hour() {
        8..20 => (now.date(), "08:00"),
        20.. => (now.date(), "20:00"),
        _ => (now.date().yesterday().unwrap(), "20:00"),
    };
    format!("{day}T{start}")
}
