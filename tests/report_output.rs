//! `guardroom report` on a seeded shift: the real binary writing CSV,
//! Markdown and HTML in both languages, the CSV read back, argument errors,
//! and the handover sheet as terminal lines and Markdown.

mod support;

use std::path::{Path, PathBuf};

use guardroom::domain::alarm::{
    Action, ActionKind, Change, Condition, Disposition, EntryKind, Raise,
};
use guardroom::domain::device::{DeviceKind, DeviceSpec, Liveness};
use guardroom::domain::shift::Schedule;
use guardroom::domain::{Event, EventBody};
use guardroom::i18n::Lang;
use guardroom::report::export::{self, Request, mask::Privacy};
use guardroom::store::{Batch, Store};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use support::Home;
use uuid::Uuid;

const SHIFT: &str = "2026-12-05T08:00";

/// 2026-12-05 08:00 in Shanghai.
fn t0() -> Timestamp {
    "2026-12-05T00:00:00Z".parse().unwrap()
}

fn at(seconds: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(seconds)
}

fn device(id: &str, kind: DeviceKind, name: &str) -> EventBody {
    EventBody::DeviceRegistered {
        spec: DeviceSpec {
            id: id.into(),
            kind,
            class: None,
            name: name.into(),
            building: "1号楼".into(),
            zone: "东区".into(),
            gateway: None,
            interval_s: 60,
        },
    }
}

fn raise(alarm: u64, condition: Condition, source: &str, name: &str) -> EventBody {
    EventBody::AlarmRaised {
        raise: Raise {
            alarm,
            source: source.into(),
            condition,
            priority: condition.default_priority(),
            device: Some(source.into()),
            name: name.into(),
            building: "1号楼".into(),
            zone: "东区".into(),
            text: None,
            momentary: false,
            active: true,
            suppressed: false,
            out_of_service: false,
        },
    }
}

fn action(alarm: Option<u64>, kind: ActionKind, operator: &str, remark: &str) -> Action {
    Action {
        id: Uuid::new_v4(),
        alarm,
        kind,
        operator: operator.into(),
        role: "guard".into(),
        console: "duty-pc".into(),
        via_ssh: false,
        remark: remark.into(),
    }
}

fn acted(alarm: u64, kind: ActionKind, operator: &str, remark: &str) -> EventBody {
    EventBody::AlarmActed {
        action: action(Some(alarm), kind, operator, remark),
    }
}

fn duty(kind: ActionKind, operator: &str, remark: &str) -> EventBody {
    EventBody::DutyRecorded {
        action: action(None, kind, operator, remark),
    }
}

fn note(entry: EntryKind, operator: &str, remark: &str) -> EventBody {
    duty(
        ActionKind::Note {
            entry,
            refers_to: None,
        },
        operator,
        remark,
    )
}

/// Returns the day shift of 2026-12-05 with its alarms, notes and handover.
fn seeded_events() -> Vec<Event> {
    let (alice, bob) = ("op-alice", "op-bob");
    let hand_over = action(
        None,
        ActionKind::HandOver {
            shift: SHIFT.into(),
        },
        alice,
        "交接完毕，钥匙 3 把",
    );
    let take_over = action(
        None,
        ActionKind::TakeOver {
            shift: SHIFT.into(),
            handover: hand_over.id,
        },
        bob,
        "",
    );
    let log: Vec<(i64, EventBody)> = vec![
        (-86_400, device("door-1", DeviceKind::Door, "东门")),
        (-86_400, device("door-2", DeviceKind::Door, "北门")),
        (-86_400, device("cam-1", DeviceKind::Camera, "大堂摄像机")),
        (-86_400, device("smoke-1", DeviceKind::Detector, "3楼烟感")),
        (0, duty(ActionKind::LogIn, alice, "")),
        (60, raise(1, Condition::Fire, "smoke-1", "3楼烟感")),
        (90, acted(1, ActionKind::Acknowledge, alice, "")),
        (120, raise(2, Condition::DoorForced, "door-1", "东门")),
        (180, acted(2, ActionKind::Acknowledge, alice, "")),
        (
            660,
            acted(
                1,
                ActionKind::Close {
                    disposition: Disposition::Genuine,
                },
                alice,
                "现场确认，炒菜油烟",
            ),
        ),
        (
            1000,
            EventBody::AvailabilityChanged {
                device: "cam-1".into(),
                online: false,
                retained: false,
            },
        ),
        (
            1000,
            raise(4, Condition::DeviceOffline, "cam-1", "大堂摄像机"),
        ),
        (1100, acted(4, ActionKind::Acknowledge, alice, "")),
        (
            1320,
            acted(
                2,
                ActionKind::Close {
                    disposition: Disposition::FalseAlarm,
                },
                alice,
                "风吹开门; resident called from 138 0000 0001",
            ),
        ),
        (3600, raise(3, Condition::DoorHeldOpen, "door-1", "东门")),
        (5000, raise(5, Condition::LowBattery, "smoke-1", "3楼烟感")),
        (
            5060,
            acted(
                5,
                ActionKind::Shelve {
                    until: Some(at(50_000)),
                },
                bob,
                "待更换电池",
            ),
        ),
        (5500, note(EntryKind::Patrol, alice, "巡查 1-3 号楼，正常")),
        (6000, raise(6, Condition::WaterLeak, "leak-1", "地下室水浸")),
        (
            6100,
            EventBody::AlarmChanged {
                alarm: 6,
                change: Change::Cleared,
            },
        ),
        (7000, raise(7, Condition::Fall, "care:r1", "测试员甲")),
        (7030, acted(7, ActionKind::Acknowledge, bob, "")),
        (
            8000,
            EventBody::AlarmActed {
                action: action(
                    None,
                    ActionKind::OutOfService {
                        device: "door-2".into(),
                        on: true,
                    },
                    bob,
                    "门禁维修中 <b>",
                ),
            },
        ),
        (
            14_000,
            note(
                EntryKind::Visitor,
                bob,
                "访客来访 1201，电话 139 1234 5678, \"quoted\", a|b",
            ),
        ),
        (
            42_000,
            note(EntryKind::HandoverRemark, alice, "东门闭门器需报修"),
        ),
        (42_500, EventBody::DutyRecorded { action: hand_over }),
        (43_300, EventBody::DutyRecorded { action: take_over }),
    ];
    log.into_iter()
        .map(|(offset, body)| Event::new(at(offset), body))
        .collect()
}

fn seed(dir: &Path) -> PathBuf {
    let path = dir.join("guardroom.db");
    let mut store = Store::open(&path).unwrap();
    store
        .commit(&Batch {
            events: seeded_events(),
            ..Batch::default()
        })
        .unwrap();
    path
}

/// Creates a home with a configuration for a site in Shanghai and the seeded database.
fn seeded_home() -> (Home, PathBuf, PathBuf) {
    let home = Home::new();
    let config = home.path().join("guardroom.toml");
    let text = support::config_toml("estate-7", "mqtt://127.0.0.1:1883", "report-test", &[])
        .replace("name = \"Test site\"", "name = \"Test estate\"");
    std::fs::write(&config, text).unwrap();
    let database = seed(home.path());
    (home, config, database)
}

fn report(home: &Home, config: &Path, database: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "--config",
        config.to_str().unwrap(),
        "--db",
        database.to_str().unwrap(),
        "report",
    ];
    all.extend_from_slice(args);
    home.run(&all)
}

/// Replaces each run of 64 hexadecimal digits (the log head's hash, which
/// covers random event ids) with `[hash]`.
fn without_hashes(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        if run.len() == 64 {
            out.push_str("[hash]");
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// Replaces the generation time and the log head's hash, the parts of a
/// report that change from run to run, with `[now]` and `[hash]`.
fn without_now(text: &str, before: Timestamp) -> String {
    let tz = TimeZone::get("Asia/Shanghai").unwrap();
    let mut text = text.to_owned();
    let after = Timestamp::now();
    for moment in [before, after] {
        let local = moment
            .to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string();
        text = text.replace(&local, "[now]");
    }
    without_hashes(&text)
}

fn run_ok(home: &Home, config: &Path, database: &Path, args: &[&str]) -> String {
    let before = Timestamp::now();
    let output = report(home, config, database, args);
    assert!(
        output.status.success(),
        "report {args:?} failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    without_now(&String::from_utf8(output.stdout).unwrap(), before)
}

#[test]
fn shift_report_in_each_format_and_language() {
    let (home, config, database) = seeded_home();
    for (lang, tag) in [("en", "en"), ("zh-CN", "zh")] {
        for format in ["csv", "md", "html"] {
            let text = run_ok(
                &home,
                &config,
                &database,
                &["--shift", SHIFT, "--format", format, "--lang", lang],
            );
            insta::assert_snapshot!(format!("report_{format}_{tag}"), text);
        }
    }
}

#[test]
fn html_is_self_contained_and_escaped() {
    let (home, config, database) = seeded_home();
    let html = run_ok(
        &home,
        &config,
        &database,
        &["--shift", SHIFT, "--format", "html"],
    );
    assert!(html.contains("@page { size: A4;"), "no A4 page rule");
    assert!(
        html.contains("break-before: page"),
        "sheets do not start a page"
    );
    assert!(!html.contains("<b>"), "remark markup was not escaped");
    assert!(html.contains("门禁维修中 &lt;b&gt;"));
    for external in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(external), "external asset: {external}");
    }
}

/// The rows the seeded shift must give, in log order.
fn expected_rows() -> Vec<[&'static str; 7]> {
    vec![
        [
            "2026-12-05 08:00",
            SHIFT,
            "Logged in",
            "",
            "",
            "op-alice",
            "",
        ],
        [
            "2026-12-05 08:01",
            SHIFT,
            "raised",
            "P1 urgent",
            "3楼烟感",
            "",
            "fire",
        ],
        [
            "2026-12-05 08:01",
            SHIFT,
            "acknowledged",
            "P1 urgent",
            "3楼烟感",
            "op-alice",
            "",
        ],
        [
            "2026-12-05 08:02",
            SHIFT,
            "raised",
            "P2 high",
            "东门",
            "",
            "door forced",
        ],
        [
            "2026-12-05 08:03",
            SHIFT,
            "acknowledged",
            "P2 high",
            "东门",
            "op-alice",
            "",
        ],
        [
            "2026-12-05 08:11",
            SHIFT,
            "closed",
            "P1 urgent",
            "3楼烟感",
            "op-alice",
            "genuine: 现场确认，炒菜油烟",
        ],
        [
            "2026-12-05 08:16",
            SHIFT,
            "raised",
            "P3 medium",
            "大堂摄像机",
            "",
            "device offline",
        ],
        [
            "2026-12-05 08:18",
            SHIFT,
            "acknowledged",
            "P3 medium",
            "大堂摄像机",
            "op-alice",
            "",
        ],
        [
            "2026-12-05 08:22",
            SHIFT,
            "closed",
            "P2 high",
            "东门",
            "op-alice",
            "false alarm: 风吹开门; resident called from 138****0001",
        ],
        [
            "2026-12-05 09:00",
            SHIFT,
            "raised",
            "P3 medium",
            "东门",
            "",
            "door held open",
        ],
        [
            "2026-12-05 09:23",
            SHIFT,
            "raised",
            "P4 notice",
            "3楼烟感",
            "",
            "low battery",
        ],
        [
            "2026-12-05 09:24",
            SHIFT,
            "shelved",
            "P4 notice",
            "3楼烟感",
            "op-bob",
            "待更换电池",
        ],
        [
            "2026-12-05 09:31",
            SHIFT,
            "Patrol",
            "",
            "",
            "op-alice",
            "巡查 1-3 号楼，正常",
        ],
        [
            "2026-12-05 09:40",
            SHIFT,
            "raised",
            "P2 high",
            "地下室水浸",
            "",
            "water leak",
        ],
        [
            "2026-12-05 09:41",
            SHIFT,
            "cleared",
            "P2 high",
            "地下室水浸",
            "",
            "",
        ],
        [
            "2026-12-05 09:56",
            SHIFT,
            "raised",
            "P1 urgent",
            "测**甲",
            "",
            "fall",
        ],
        [
            "2026-12-05 09:57",
            SHIFT,
            "acknowledged",
            "P1 urgent",
            "测**甲",
            "op-bob",
            "",
        ],
        [
            "2026-12-05 10:13",
            SHIFT,
            "out of service",
            "",
            "",
            "op-bob",
            "门禁维修中 <b>",
        ],
        [
            "2026-12-05 11:53",
            SHIFT,
            "Visitor",
            "",
            "",
            "op-bob",
            "访客来访 1201，电话 139****5678, \"quoted\", a|b",
        ],
        [
            "2026-12-05 19:40",
            SHIFT,
            "Handover remark",
            "",
            "",
            "op-alice",
            "东门闭门器需报修",
        ],
        [
            "2026-12-05 19:48",
            SHIFT,
            "Handed over",
            "",
            "",
            "op-alice",
            "交接完毕，钥匙 3 把",
        ],
    ]
}

fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[test]
fn csv_parses_back_with_and_without_bom() {
    let (home, config, database) = seeded_home();
    let expected: Vec<Vec<String>> = expected_rows()
        .iter()
        .map(|row| row.iter().map(|cell| (*cell).to_owned()).collect())
        .collect();
    let header = [
        "Time", "Shift", "Type", "Priority", "Source", "Operator", "Text",
    ];

    let plain = report(
        &home,
        &config,
        &database,
        &["--shift", SHIFT, "--format", "csv"],
    );
    assert!(plain.status.success());
    assert!(
        !plain.stdout.starts_with(b"\xEF\xBB\xBF"),
        "BOM without --bom"
    );
    let (columns, rows) = parse_csv(&plain.stdout);
    assert_eq!(columns, header);
    assert_eq!(rows, expected);

    let with_bom = report(
        &home,
        &config,
        &database,
        &["--shift", SHIFT, "--format", "csv", "--bom"],
    );
    assert!(with_bom.status.success());
    assert!(
        with_bom.stdout.starts_with(b"\xEF\xBB\xBF"),
        "no BOM with --bom"
    );
    let (columns, rows) = parse_csv(&with_bom.stdout[3..]);
    assert_eq!(columns, header);
    assert_eq!(rows, expected);
}

#[test]
fn reveal_personal_prints_clear_values() {
    let (home, config, database) = seeded_home();
    let masked = run_ok(
        &home,
        &config,
        &database,
        &["--shift", SHIFT, "--format", "md"],
    );
    assert!(masked.contains("测\\*\\*甲"));
    assert!(!masked.contains("测试员甲"));
    assert!(!masked.contains("139 1234 5678"));
    assert!(masked.contains("masked (use --reveal-personal to show it)"));

    let clear = run_ok(
        &home,
        &config,
        &database,
        &["--shift", SHIFT, "--format", "md", "--reveal-personal"],
    );
    assert!(clear.contains("测试员甲"));
    assert!(clear.contains("139 1234 5678"));
    assert!(clear.contains("**Personal data**: revealed"));
}

#[test]
fn date_range_covers_the_shifts_of_the_days() {
    let (home, config, database) = seeded_home();
    let md = run_ok(
        &home,
        &config,
        &database,
        &[
            "--from",
            "2026-12-05",
            "--to",
            "2026-12-05",
            "--format",
            "md",
        ],
    );
    assert!(md.contains("Handover sheet, shift 2026-12-05T08:00"));
    assert!(md.contains("Handover sheet, shift 2026-12-05T20:00"));
    assert!(!md.contains("Handover sheet, shift 2026-12-04T20:00"));
    assert!(md.contains("2026-12-05 – 2026-12-05 (2026-12-05 00:00 – 2026-12-06 00:00)"));
}

#[test]
fn output_file_is_not_overwritten_without_force() {
    let (home, config, database) = seeded_home();
    let target = home.path().join("shift.html");
    let target_arg = target.to_str().unwrap();
    let args = ["--shift", SHIFT, "--format", "html", "--output", target_arg];

    let first = report(&home, &config, &database, &args);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(first.stdout.is_empty());
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.starts_with("<!DOCTYPE html>"));

    std::fs::write(&target, "kept").unwrap();
    let second = report(&home, &config, &database, &args);
    assert_eq!(second.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains(target_arg), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept");

    let mut forced = args.to_vec();
    forced.push("--force");
    let third = report(&home, &config, &database, &forced);
    assert!(third.status.success());
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
}

#[test]
fn bad_arguments_name_the_value() {
    let (home, config, database) = seeded_home();
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["--shift", "2026-12-05T09:00"],
            &["2026-12-05T09:00", "08:00, 20:00"],
        ),
        (&["--shift", "yesterday"], &["yesterday"]),
        (
            &["--from", "2026-13-01", "--to", "2026-12-05"],
            &["2026-13-01", "--from", "YYYY-MM-DD"],
        ),
        (
            &["--from", "2026-12-06", "--to", "2026-12-05"],
            &["2026-12-06", "2026-12-05", "--to"],
        ),
        (&["--from", "2026-12-05"], &["--shift", "--from", "--to"]),
        (
            &["--shift", SHIFT, "--format", "pdf"],
            &["pdf", "csv, md or html"],
        ),
    ];
    for (args, expected) in cases {
        let output = report(&home, &config, &database, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        for part in expected {
            assert!(stderr.contains(part), "{args:?}: {stderr:?} lacks {part:?}");
        }
        assert!(output.stdout.is_empty(), "{args:?} printed a report");
    }

    let chinese = report(
        &home,
        &config,
        &database,
        &["--shift", SHIFT, "--format", "pdf", "--lang", "zh-CN"],
    );
    assert_eq!(chinese.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&chinese.stderr).contains("未知格式 pdf"));

    let missing = home.path().join("missing.db");
    let output = report(&home, &config, &missing, &["--shift", SHIFT]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing.db"), "{stderr}");
    assert!(!missing.exists(), "the report created a database");
}

/// Reads the seeded shift's report in-process, at a fixed time.
fn seeded_report(lang: Lang) -> export::Report {
    let dir = tempfile::tempdir().unwrap();
    let database = seed(dir.path());
    let tz = TimeZone::get("Asia/Shanghai").unwrap();
    let schedule = Schedule::default();
    let shift = schedule.by_id(SHIFT, &tz).unwrap();
    let store = Store::open_read_only(&database).unwrap();
    let request = Request {
        site: "estate-7".into(),
        site_name: "Test estate".into(),
        from: shift.start,
        to: shift.end,
        range_label: shift.id.clone(),
        shifts: vec![shift],
        schedule,
        now: "2026-12-06T04:00:00Z".parse().unwrap(),
        liveness: Liveness::default(),
        lang,
        tz,
        privacy: Privacy::default(),
        services: Default::default(),
    };
    export::read(&store, &request).unwrap()
}

#[test]
fn handover_sheet_snapshots() {
    for (lang, tag) in [(Lang::En, "en"), (Lang::ZhCn, "zh")] {
        let report = seeded_report(lang);
        assert_eq!(report.sheets.len(), 1);
        let sheet = &report.sheets[0];
        let lines = export::text::sheet_lines(sheet, 80, lang, &report.tz);
        for line in &lines {
            assert!(
                guardroom::i18n::width::cells(line) <= 80,
                "line wider than 80 cells: {line}"
            );
        }
        insta::assert_snapshot!(
            format!("sheet_text_{tag}_80"),
            without_hashes(&lines.join("\n"))
        );
        insta::assert_snapshot!(
            format!("sheet_md_{tag}"),
            without_hashes(&export::markdown::sheet(sheet, lang, &report.tz))
        );
    }
}

#[test]
fn handover_sheet_signed_from_the_log() {
    let report = seeded_report(Lang::En);
    let sheet = &report.sheets[0];
    let signatures = sheet
        .sections
        .iter()
        .find(|section| section.id == "signatures")
        .unwrap();
    let guardroom::report::handover::Body::Signatures(lines) = &signatures.body else {
        panic!("signatures are not signature lines");
    };
    assert_eq!(lines[0].operator.as_deref(), Some("op-alice"));
    assert_eq!(lines[0].at.as_deref(), Some("2026-12-05 19:48"));
    assert_eq!(lines[1].operator.as_deref(), Some("op-bob"));
    assert_eq!(lines[1].at.as_deref(), Some("2026-12-05 20:01"));
}

/// Creates a home whose configuration names two residents, and a database
/// with their eldercare records and a repair ticket in the day shift.
fn services_home() -> (Home, PathBuf, PathBuf) {
    use guardroom::domain::care::{
        CareCondition, CareEvent, CareEventKind, CareSignal, CheckInVia, Outcome, OutcomeRecord,
        Stage,
    };
    use guardroom::domain::operator::Role;
    use guardroom::domain::services::CareRecord;
    use guardroom::domain::ticket::{
        Category, NewTicket, TicketAction, TicketActionKind, TicketEvent, Urgency,
    };

    let home = Home::new();
    std::fs::write(
        home.path().join("residents.toml"),
        r#"
[[residents]]
id = "r-a"
name = "张测甲"
building = "9栋"
room = "101"

[[residents]]
id = "r-b"
name = "李测乙"
building = "9栋"
room = "102"
"#,
    )
    .unwrap();
    let config = home.path().join("guardroom.toml");
    let mut text = support::config_toml("estate-7", "mqtt://127.0.0.1:1883", "report-test", &[]);
    text.push_str("\n[care]\nresidents = \"residents.toml\"\n");
    std::fs::write(&config, text).unwrap();

    let care_event = |id: &str, resident: &str, offset: i64, kind: CareEventKind| EventBody::Care {
        record: CareRecord::Event {
            event: CareEvent {
                id: id.into(),
                resident: resident.into(),
                at: at(offset),
                kind,
                text: None,
            },
        },
        action: None,
    };
    let outcome = action(
        None,
        ActionKind::CareOutcome {
            resident: "r-b".into(),
            outcome: Outcome::ResidentSafe,
        },
        "op-alice",
        "女儿来电确认 138 0000 0001",
    );
    let outcome_record = OutcomeRecord {
        resident: "r-b".into(),
        outcome: Outcome::ResidentSafe,
        operator: "op-alice".into(),
        role: Role::Guard,
        remark: outcome.remark.clone(),
        at: at(3000),
    };
    let ticket = NewTicket {
        id: "T-7".into(),
        category: Category::Plumbing,
        urgency: Urgency::Urgent,
        location: "3栋 2单元 1201".into(),
        description: "厨房水管漏水".into(),
        reporter: None,
        alarm: None,
        device: None,
        refers_to: None,
        out_of_service: false,
        operator: "op-alice".into(),
        role: Role::Guard,
        remark: String::new(),
    };
    let assign = TicketAction {
        id: Uuid::new_v4(),
        ticket: "T-7".into(),
        kind: TicketActionKind::Assign {
            assignee: "m1".into(),
        },
        operator: "op-bob".into(),
        role: Role::Supervisor,
        remark: String::new(),
    };
    let log = vec![
        (
            600,
            care_event(
                "e-1",
                "r-a",
                600,
                CareEventKind::CheckIn {
                    via: CheckInVia::App,
                },
            ),
        ),
        (
            700,
            care_event(
                "e-2",
                "r-a",
                700,
                CareEventKind::Activity {
                    source: "door".into(),
                },
            ),
        ),
        (1200, care_event("e-3", "r-a", 1200, CareEventKind::Sos)),
        (1300, care_event("e-4", "r-b", 1300, CareEventKind::Fall)),
        (
            2000,
            EventBody::Care {
                record: CareRecord::Signal {
                    signal: CareSignal::Raise {
                        resident: "r-b".into(),
                        condition: CareCondition::MissedCheckIn,
                        priority: guardroom::domain::alarm::Priority::P2,
                        stage: Some(Stage::CallContact),
                    },
                },
                action: None,
            },
        ),
        (
            3000,
            EventBody::Care {
                record: CareRecord::Outcome {
                    record: outcome_record,
                },
                action: Some(outcome),
            },
        ),
        (
            4000,
            EventBody::Ticket {
                event: TicketEvent::Created { ticket },
                action: None,
            },
        ),
        (
            4100,
            EventBody::Ticket {
                event: TicketEvent::Acted { action: assign },
                action: None,
            },
        ),
    ];
    let database = home.path().join("guardroom.db");
    let mut store = Store::open(&database).unwrap();
    store
        .commit(&Batch {
            events: log
                .into_iter()
                .map(|(offset, body)| Event::new(at(offset), body))
                .collect(),
            ..Batch::default()
        })
        .unwrap();
    (home, config, database)
}

/// Runs the CSV report of the services shift with `extra` arguments and
/// returns its header, its rows and its whole text.
fn services_csv(extra: &[&str]) -> (Vec<String>, Vec<Vec<String>>, String) {
    let (home, config, database) = services_home();
    let mut args = vec!["--shift", SHIFT, "--format", "csv"];
    args.extend_from_slice(extra);
    let output = report(&home, &config, &database, &args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (header, rows) = parse_csv(&output.stdout);
    (header, rows, String::from_utf8(output.stdout).unwrap())
}

/// Returns the CSV rows of the services shift whose type is `kind`.
fn csv_rows_of(rows: &[Vec<String>], kind: &str) -> Vec<Vec<String>> {
    rows.iter().filter(|row| row[2] == kind).cloned().collect()
}

#[test]
fn care_rows_name_resident_masked() {
    let (_, rows, text) = services_csv(&[]);

    // Columns: time, shift, type, priority, source, operator, text.
    let check_in = csv_rows_of(&rows, "check-in");
    assert_eq!(check_in.len(), 1, "{rows:?}");
    assert_eq!(check_in[0][4], "r-a 张*甲");
    assert_eq!(csv_rows_of(&rows, "SOS")[0][4], "r-a 张*甲");
    assert_eq!(csv_rows_of(&rows, "fall")[0][4], "r-b 李*乙");
    let stage = &csv_rows_of(&rows, "ladder stage")[0];
    assert_eq!(stage[4], "r-b 李*乙");
    assert_eq!(stage[6], "stage 2 call contacts started");
    let outcome = &csv_rows_of(&rows, "outcome")[0];
    assert_eq!(outcome[4], "r-b 李*乙");
    assert_eq!(outcome[5], "op-alice");
    assert_eq!(outcome[6], "resident safe: 女儿来电确认 138****0001");
    assert!(
        csv_rows_of(&rows, "activity").is_empty(),
        "passive activity stays out of the report: {rows:?}"
    );
    for name in ["张测甲", "李测乙"] {
        assert!(!text.contains(name), "{name} in clear:\n{text}");
    }
}

#[test]
fn care_rows_revealed_on_request() {
    let (_, rows, _) = services_csv(&["--reveal-personal"]);
    assert_eq!(csv_rows_of(&rows, "SOS")[0][4], "r-a 张测甲");
    assert_eq!(
        csv_rows_of(&rows, "outcome")[0][6],
        "resident safe: 女儿来电确认 138 0000 0001"
    );
}

#[test]
fn ticket_rows_name_ticket() {
    let (_, rows, _) = services_csv(&[]);
    let created = &csv_rows_of(&rows, "new ticket")[0];
    assert_eq!(created[4], "T-7");
    assert_eq!(created[6], "厨房水管漏水 (3栋 2单元 1201)");
    let assigned = &csv_rows_of(&rows, "ticket step")[0];
    assert_eq!(assigned[4], "T-7");
    assert_eq!(assigned[5], "op-bob");
    assert_eq!(assigned[6], "assigned → m1");
}

#[test]
fn duty_table_names_subjects() {
    let (home, config, database) = services_home();
    for (lang, resident, kind) in [
        ("en", "r-b 李\\*乙", "fall"),
        ("zh-CN", "r-b 李\\*乙", "跌倒"),
    ] {
        let md = run_ok(
            &home,
            &config,
            &database,
            &["--shift", SHIFT, "--format", "md", "--lang", lang],
        );
        assert!(
            md.lines()
                .any(|line| line.contains(kind) && line.contains(resident)),
            "{lang}: no {kind} row naming {resident}:\n{md}"
        );
        assert!(
            md.lines().any(|line| line.contains("| T-7 |")),
            "{lang}: no row naming the ticket:\n{md}"
        );
    }
}
