//! `guardroom status` as text: the real binary on a real SQLite file with
//! repair tickets and a day of eldercare check-ins, in both languages,
//! fitting 80 columns.
//!
//! The check-in windows are set around the time the test runs. The site's
//! time zone is the fixed offset that makes that time about noon, so that
//! no window crosses midnight whenever the test runs.

mod support;

use std::path::{Path, PathBuf};

use guardroom::domain::alarm::{Action, ActionKind};
use guardroom::domain::care::{CareEvent, CareEventKind, CheckInVia, Outcome, OutcomeRecord};
use guardroom::domain::operator::Role;
use guardroom::domain::services::CareRecord;
use guardroom::domain::ticket::{
    Category, NewTicket, TicketAction, TicketActionKind, TicketEvent, Urgency,
};
use guardroom::domain::{Event, EventBody};
use guardroom::store::{Batch, Store};
use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use support::Home;
use unicode_width::UnicodeWidthStr;
use uuid::Uuid;

/// Returns the fixed-offset zone in which `now` falls between 11:00 and
/// 13:00, as an IANA `Etc/GMT±N` name (whose sign is inverted).
fn noon_zone(now: Timestamp) -> String {
    let hour = i32::from(now.to_zoned_datetime(TimeZone::UTC).hour());
    let offset = 12 - hour;
    match offset {
        0 => "Etc/UTC".to_owned(),
        east if east > 0 => format!("Etc/GMT-{east}"),
        west => format!("Etc/GMT+{}", -west),
    }
}

/// Returns today's `hh:mm` in `zone` as an instant.
fn today_at(zone: &str, now: Timestamp, hh: i8, mm: i8) -> Timestamp {
    let tz = TimeZone::get(zone).unwrap();
    let date = now.to_zoned_datetime(tz.clone()).date();
    tz.to_ambiguous_timestamp(date.to_datetime(Time::new(hh, mm, 0, 0).unwrap()))
        .later()
        .unwrap()
}

fn new_ticket(id: &str, urgency: Urgency) -> NewTicket {
    NewTicket {
        id: id.into(),
        category: Category::Plumbing,
        urgency,
        location: "3栋 2单元 1201".into(),
        description: "厨房水管漏水".into(),
        reporter: None,
        alarm: None,
        device: None,
        refers_to: None,
        out_of_service: false,
        operator: "m1".into(),
        role: Role::Maintenance,
        remark: String::new(),
    }
}

fn ticket_act(ticket: &str, kind: TicketActionKind, remark: &str) -> EventBody {
    EventBody::Ticket {
        event: TicketEvent::Acted {
            action: TicketAction {
                id: Uuid::new_v4(),
                ticket: ticket.into(),
                kind,
                operator: "m1".into(),
                role: Role::Maintenance,
                remark: remark.into(),
            },
        },
        action: None,
    }
}

fn created(ticket: NewTicket) -> EventBody {
    EventBody::Ticket {
        event: TicketEvent::Created { ticket },
        action: None,
    }
}

/// Returns the log: four tickets (an urgent one past its 2 h, an assigned
/// one, a cancelled one and a new minor one) and four residents watched
/// since 08:00. One resident checked in, one's window is still open, one's
/// window closed with the ladder running, and one was found safe after a
/// missed window.
fn events(zone: &str, now: Timestamp) -> Vec<Event> {
    let hours_ago = |hours: i64| now - SignedDuration::from_hours(hours);
    let local = |hh: i8, mm: i8| today_at(zone, now, hh, mm);
    let safe = OutcomeRecord {
        resident: "r-safe".into(),
        outcome: Outcome::ResidentSafe,
        operator: "g1".into(),
        role: Role::Guard,
        remark: String::new(),
        at: local(10, 30),
    };
    let safe_action = Action {
        id: Uuid::new_v4(),
        alarm: None,
        kind: ActionKind::CareOutcome {
            resident: "r-safe".into(),
            outcome: Outcome::ResidentSafe,
        },
        operator: "g1".into(),
        role: "guard".into(),
        console: "duty-1".into(),
        via_ssh: false,
        remark: String::new(),
    };
    let check_in = CareEvent {
        id: "e-1".into(),
        resident: "r-in".into(),
        at: now - SignedDuration::from_mins(1),
        kind: CareEventKind::CheckIn {
            via: CheckInVia::Button,
        },
        text: None,
    };
    let watching = CareRecord::Watching {
        residents: ["r-in", "r-open", "r-late", "r-safe"]
            .map(String::from)
            .to_vec(),
    };
    let log = vec![
        (hours_ago(5), created(new_ticket("T-1", Urgency::Urgent))),
        (hours_ago(4), created(new_ticket("T-2", Urgency::Normal))),
        (
            hours_ago(4),
            ticket_act(
                "T-2",
                TicketActionKind::Assign {
                    assignee: "m1".into(),
                },
                "",
            ),
        ),
        (hours_ago(3), created(new_ticket("T-3", Urgency::Minor))),
        (
            hours_ago(3),
            ticket_act("T-3", TicketActionKind::Cancel, "住户已自行修好"),
        ),
        (hours_ago(1), created(new_ticket("T-4", Urgency::Minor))),
        (
            local(8, 0),
            EventBody::Care {
                record: watching,
                action: None,
            },
        ),
        (
            local(10, 30),
            EventBody::Care {
                record: CareRecord::Outcome { record: safe },
                action: Some(safe_action),
            },
        ),
        (
            check_in.at,
            EventBody::Care {
                record: CareRecord::Event { event: check_in },
                action: None,
            },
        ),
    ];
    let mut log: Vec<Event> = log
        .into_iter()
        .map(|(at, body)| Event::new(at, body))
        .collect();
    log.sort_by_key(|event| event.at);
    log
}

/// Creates a home with a configuration in the noon zone and `language`,
/// the residents registry, and the seeded database.
fn seeded_home(language: &str, now: Timestamp) -> (Home, PathBuf, PathBuf) {
    let zone = noon_zone(now);
    let home = Home::new();
    let residents = r#"
[[residents]]
id = "r-in"
name = "测试员甲"
building = "9栋"
room = "101"
check_in = { start = "10:00", end = "14:00" }

[[residents]]
id = "r-open"
name = "测试员乙"
building = "9栋"
room = "102"
check_in = { start = "10:00", end = "14:00" }

[[residents]]
id = "r-late"
name = "测试员丙"
building = "9栋"
room = "103"
check_in = { start = "09:00", end = "10:00" }

[[residents]]
id = "r-safe"
name = "测试员丁"
building = "9栋"
room = "104"
check_in = { start = "09:00", end = "10:00" }
"#;
    std::fs::write(home.path().join("residents.toml"), residents).unwrap();
    let mut config = support::config_toml("status-test", "mqtt://127.0.0.1:1883", "status", &[])
        .replace("Asia/Shanghai", &zone)
        .replace("language = \"en\"", &format!("language = \"{language}\""));
    config.push_str("\n[care]\nresidents = \"residents.toml\"\n");
    let config_path = home.path().join("guardroom.toml");
    std::fs::write(&config_path, config).unwrap();

    let database = home.path().join("guardroom.db");
    let mut store = Store::open(&database).unwrap();
    store
        .commit(&Batch {
            events: events(&zone, now),
            ..Batch::default()
        })
        .unwrap();
    (home, config_path, database)
}

fn status_text(home: &Home, config: &Path, database: &Path) -> String {
    let output = home.run(&[
        "status",
        "--config",
        config.to_str().unwrap(),
        "--db",
        database.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "status failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Returns the line that starts with `start` and the line after it.
fn lines_after<'a>(text: &'a str, start: &str) -> (&'a str, &'a str) {
    let mut lines = text.lines();
    let first = lines
        .find(|line| line.starts_with(start))
        .unwrap_or_else(|| panic!("no line starts with {start:?}:\n{text}"));
    (first, lines.next().unwrap_or_default())
}

#[test]
fn status_counts_tickets_and_check_ins() {
    let now = Timestamp::now();
    // The binary reads the clock a moment later. Should the hour turn in
    // between, its local time is 13:00, still inside the open windows.
    let (home, config, database) = seeded_home("en", now);
    let text = status_text(&home, &config, &database);

    let (tickets, states) = lines_after(&text, "Repair tickets:");
    assert_eq!(tickets, "Repair tickets: 4 (1 overdue)", "{text}");
    assert_eq!(
        states, "  new 2, assigned 1, in progress 0, awaiting rating 0",
        "{text}"
    );
    assert!(
        text.contains("\n  closed 0, cancelled 1\n"),
        "the ended tickets: {text}"
    );

    let (check_ins, counts) = lines_after(&text, "Check-ins today:");
    assert_eq!(check_ins, "Check-ins today: 4 residents", "{text}");
    assert_eq!(
        counts, "  checked in 1, pending 1, missed 1, escalating 1",
        "{text}"
    );
}

#[test]
fn status_counts_in_chinese() {
    let now = Timestamp::now();
    let (home, config, database) = seeded_home("zh-CN", now);
    let text = status_text(&home, &config, &database);

    let (tickets, states) = lines_after(&text, "报修工单：");
    assert_eq!(tickets, "报修工单：4 张（超时 1 张）", "{text}");
    assert_eq!(states, "  待派单 2，已派单 1，处理中 0，待评价 0", "{text}");
    assert!(text.contains("\n  已办结 0，已取消 1\n"), "{text}");

    let (check_ins, counts) = lines_after(&text, "今日签到：");
    assert_eq!(check_ins, "今日签到：4 位老人", "{text}");
    assert_eq!(
        counts, "  已签到 1，待签到 1，未签到 1，升级处理中 1",
        "{text}"
    );
}

#[test]
fn service_lines_fit_80_columns() {
    let now = Timestamp::now();
    for language in ["en", "zh-CN"] {
        let (home, config, database) = seeded_home(language, now);
        let text = status_text(&home, &config, &database);
        let first = text
            .lines()
            .position(|line| line.starts_with("Repair tickets:") || line.starts_with("报修工单："))
            .unwrap_or_else(|| panic!("no ticket line:\n{text}"));
        // The ticket and check-in lines, with counts up to five digits.
        for line in text.lines().skip(first).take(5) {
            let widest = line.replace(|c: char| c.is_ascii_digit(), "99999");
            assert!(
                widest.width() <= 80,
                "{language}: {} cells with five-digit counts: {line}",
                widest.width()
            );
        }
    }
}

#[test]
fn status_json_agrees_with_text() {
    let now = Timestamp::now();
    let (home, config, database) = seeded_home("en", now);
    let output = home.run(&[
        "status",
        "--json",
        "--config",
        config.to_str().unwrap(),
        "--db",
        database.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["tickets"]["overdue"], 1, "{status}");
    assert_eq!(status["care"]["missed"], 1, "{status}");
    assert_eq!(status["care"]["in_escalation"], 1, "{status}");
    let zone = noon_zone(now);
    let local = now.to_zoned_datetime(TimeZone::get(&zone).unwrap());
    assert_eq!(local.hour(), 12, "{zone} puts the test at noon: {local}");
}
