//! `guardroom check-config` on the shipped example files and on broken ones,
//! run as the real binary the way an installer would.

use std::path::Path;
use std::process::{Command, Output};

fn check(path: &Path, lang: &str) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_guardroom"))
        .args(["--lang", lang, "check-config", "--config"])
        .arg(path)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env_remove("GUARDROOM_TEST_UNSET_PASSWORD")
        .output()
        .unwrap()
}

#[test]
fn shipped_examples_are_valid() {
    for file in ["config/guardroom.toml", "config/demo-site.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        if !path.exists() && file.contains("demo") {
            continue;
        }
        let output = check(&path, "en");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{file} rejected: {stderr}");
    }
}

#[test]
fn every_problem_is_listed() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs/invalid/many-problems.toml");
    let output = check(&path, "en");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for key in [
        "bogus:",
        "site.extra:",
        "site.id:",
        "site.time_zone:",
        "broker.url:",
        "broker.keep_alive_s:",
        "devices[0].class:",
        "devices[1].id:",
        "devices[1].class:",
        "devices[1].interval_s:",
        "devices[2].kind:",
        "devices[2]: missing field `id`",
    ] {
        assert!(
            stderr.contains(key),
            "no problem reported for {key}:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("Mars/Base"),
        "the bad value is named:\n{stderr}"
    );
}

#[test]
fn every_alarm_problem_is_listed() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs/invalid/alarm-problems.toml");
    let output = check(&path, "en");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "console.id:",
        "console.user:",
        "alarms.flap_count:",
        "alarms.supervisor_topic:",
        "alarms.priority.door_forced: \"P0\" is not a priority",
        "alarms.priority.earthquake: \"earthquake\" is not an alarm condition",
        "alarms.sop.flood_water:",
        "alarms.escalation_s.P2:",
        "alarms.cameras[0].device:",
        "\"cam-9\" is not a camera",
        "\"door-1\" is not a camera",
    ] {
        assert!(
            stderr.contains(expected),
            "no problem reported for {expected}:\n{stderr}"
        );
    }
    let chinese = check(&path, "zh-CN");
    let stderr = String::from_utf8_lossy(&chinese.stderr);
    assert!(stderr.contains("不是优先级"), "in Chinese too:\n{stderr}");
}

#[test]
fn syntax_error_names_line() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs/invalid/syntax.toml");
    let output = check(&path, "en");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("syntax error at 1:"), "{stderr}");
}

#[test]
fn missing_password_variable_named() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs/invalid/missing-password-env.toml");
    let output = check(&path, "zh-CN");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("GUARDROOM_TEST_UNSET_PASSWORD"), "{stderr}");
    assert!(stderr.contains("环境变量"), "message in Chinese: {stderr}");
}

#[test]
fn missing_file_fails_every_command() {
    let missing = Path::new("/nonexistent/guardroom.toml");
    for args in [vec!["check-config"], vec!["serve"], vec!["status"], vec![]] {
        let home = tempfile::tempdir().unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_guardroom"))
            .args(["--lang", "en", "--config"])
            .arg(missing)
            .args(&args)
            .env("HOME", home.path())
            .env("XDG_STATE_HOME", home.path().join("state"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("/nonexistent/guardroom.toml"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn two_mappings_claiming_one_id_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("both.toml");
    std::fs::write(
        &path,
        r#"
[site]
id = "mapsite"

[adapters.zigbee2mqtt]
enabled = true
[adapters.zigbee2mqtt.devices."Lobby door"]
id = "b1-lobby-door"

[adapters.home_assistant]
enabled = true
[adapters.home_assistant.devices."lobby_door_contact"]
id = "b1-lobby-door"
"#,
    )
    .unwrap();
    let output = check(&path, "en");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "accepted: {stderr}");
    assert!(
        stderr.contains(r#"adapters.home_assistant.devices."lobby_door_contact".id"#)
            && stderr.contains("b1-lobby-door"),
        "{stderr}"
    );

    // The shipped examples of the two adapters do not collide.
    let examples: String = [
        "config/adapter-zigbee2mqtt.toml",
        "config/adapter-home-assistant.toml",
    ]
    .iter()
    .map(|file| {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
        // Keep only the adapter sections, so the two files join into one.
        let start = text.find("[adapters.").expect("an adapters section");
        text[start..].to_owned()
    })
    .collect::<Vec<_>>()
    .join("\n");
    let joined = dir.path().join("joined.toml");
    std::fs::write(&joined, format!("[site]\nid = \"mapsite\"\n{examples}")).unwrap();
    let output = check(&joined, "en");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
