//! The duty log at scale. Builds a log of a million events through
//! `Store::commit`: a year of a mid-sized site, with device events, alarms
//! and actions, and Chinese duty notes. Then times `log verify`, the log
//! browser's first page under each filter, and archiving half of the log.
//!
//! It also compares the cost of one commit with the hash chain and the
//! browser's index against the plain insert the store did before them.
//!
//! Run with `cargo bench --bench log` (or `-- 200000` for fewer events).
//! Figures and the machine they were measured on are in BENCHMARKS.md.

use std::path::Path;
use std::time::{Duration, Instant};

use guardroom::domain::alarm::{
    Action, ActionKind, Alarm, Condition, Disposition, EntryKind, Priority, Raise,
};
use guardroom::domain::device::Liveness;
use guardroom::domain::device::{Device, DeviceKind, DeviceSpec};
use guardroom::domain::shift::Schedule;
use guardroom::domain::time::to_millis;
use guardroom::domain::{Event, EventBody};
use guardroom::i18n::Lang;
use guardroom::report::export::{self, mask::Privacy};
use guardroom::store::log::{LogFilter, LogKind};
use guardroom::store::{Batch, Store, archive, verify};
use jiff::{Timestamp, ToSpan};
use uuid::Uuid;

/// Events per commit while building: the recorder's busy-hour batches.
const BATCH: usize = 500;

/// Devices of the simulated site.
const DEVICES: usize = 400;

/// Rows per page of the browser.
const PAGE: usize = 50;

/// Runs per query; the median is reported.
const RUNS: usize = 5;

const PLACES: [&str; 6] = ["东门", "西门", "北门", "地下车库", "3号楼大堂", "中心花园"];
const THINGS: [&str; 5] = [
    "楼道灯不亮",
    "消防通道堆放杂物",
    "电梯异响",
    "快递堆放",
    "车辆违停",
];
const VISITORS: [&str; 4] = ["快递员", "外卖员", "维修工", "亲友"];
const OPERATORS: usize = 12;

fn main() {
    let events: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let database = dir.path().join("log.sqlite");
    let start: Timestamp = "2025-12-01T00:00:00Z".parse().unwrap();
    // A year, whatever the count: one event every `step` milliseconds.
    let step = 365 * 24 * 3_600_000 / events as i64;

    println!("commit cost, 100,000 events in batches of {BATCH}:");
    commit_cost(dir.path(), start, step);

    let began = Instant::now();
    build(&database, events, start, step);
    let built = began.elapsed();
    println!(
        "built {events} events in {:.1} s ({:.1} µs per event), file {} MB",
        built.as_secs_f64(),
        built.as_secs_f64() * 1e6 / events as f64,
        file_mb(&database)
    );

    let began = Instant::now();
    let verdict = verify::verify_file(&database).expect("verifying");
    report(
        "log verify",
        began.elapsed(),
        &format!("{verdict:?}").chars().take(60).collect::<String>(),
    );

    filters(&database, start);
    year_report(&database, start);

    let half = start + ((events as i64 / 2) * step).milliseconds();
    let output = dir.path().join("archive.sqlite");
    let began = Instant::now();
    let archived = archive::archive(&database, half, &output).expect("archiving");
    report(
        "archive half",
        began.elapsed(),
        &format!("{archived:?}").chars().take(80).collect::<String>(),
    );

    let began = Instant::now();
    let main = verify::verify_file(&database).expect("verifying");
    let intact = matches!(main, verify::Verdict::Intact(_));
    report(
        "log verify, main after archive",
        began.elapsed(),
        &format!("intact: {intact}"),
    );
    let began = Instant::now();
    let archive_verdict = verify::verify_file(&output).expect("verifying the archive");
    let intact = matches!(archive_verdict, verify::Verdict::Intact(_));
    report(
        "log verify, the archive",
        began.elapsed(),
        &format!("intact: {intact}"),
    );
    println!(
        "files after archive: main {} MB (free pages kept), archive {} MB",
        file_mb(&database),
        file_mb(&output)
    );
}

/// Times `guardroom report` over the whole year: the log read once, the
/// statistics, and a handover sheet for each of the 730 shifts.
fn year_report(database: &Path, start: Timestamp) {
    let store = Store::open_read_only(database).expect("opening the log");
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let schedule = Schedule::default();
    let to = start + (365 * 24).hours();
    let request = export::Request {
        site: "bench".into(),
        site_name: String::new(),
        from: start,
        to,
        range_label: "year".into(),
        shifts: schedule.between(start, to, &tz),
        schedule,
        now: to + 1.hour(),
        liveness: Liveness::default(),
        lang: Lang::ZhCn,
        tz,
        privacy: Privacy::default(),
        services: Default::default(),
    };

    let began = Instant::now();
    let year = export::read(&store, &request).expect("reading the report");
    report(
        "report, a year: read and fold",
        began.elapsed(),
        &format!("{} log rows, {} sheets", year.log.len(), year.sheets.len()),
    );
    let began = Instant::now();
    let csv = export::csv::render(&year, true).expect("writing CSV");
    report(
        "report, a year: CSV",
        began.elapsed(),
        &format!("{} MB", csv.len() >> 20),
    );
    let began = Instant::now();
    let html = export::html::render(&year);
    report(
        "report, a year: HTML",
        began.elapsed(),
        &format!("{} MB", html.len() >> 20),
    );
}

fn report(what: &str, took: Duration, detail: &str) {
    println!("{what:<44} {:>9.1} ms  {detail}", took.as_secs_f64() * 1e3);
}

fn file_mb(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len() / 1_000_000)
}

/// Times `Store::commit` (chain and index included) against the insert
/// statement the store ran before them, on the same events.
fn commit_cost(dir: &Path, start: Timestamp, step: i64) {
    const EVENTS: usize = 100_000;
    let mut site = Site::new(start, step);
    let batches: Vec<Batch> = (0..EVENTS / BATCH).map(|_| site.batch(BATCH)).collect();

    let plain_path = dir.join("plain.sqlite");
    let mut plain = rusqlite::Connection::open(&plain_path).unwrap();
    plain
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
             CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
                 at_ms INTEGER NOT NULL, kind TEXT NOT NULL, device TEXT, dedupe_key TEXT UNIQUE,
                 body TEXT NOT NULL, hash TEXT);
             CREATE INDEX events_by_device ON events (device, seq);
             CREATE INDEX events_by_time ON events (at_ms);
             CREATE INDEX events_by_kind ON events (kind, seq);",
        )
        .unwrap();
    let began = Instant::now();
    for batch in &batches {
        let tx = plain.transaction().unwrap();
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (id, at_ms, kind, device, dedupe_key, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (dedupe_key) DO NOTHING",
                )
                .unwrap();
            for event in &batch.events {
                insert
                    .execute(rusqlite::params![
                        event.id.to_string(),
                        to_millis(event.at),
                        event.body.kind(),
                        event.body.device(),
                        event.body.dedupe_key(),
                        serde_json::to_string(&event.body).unwrap(),
                    ])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let plain_time = began.elapsed();

    let mut store = Store::open(&dir.join("chained.sqlite")).unwrap();
    store.commit(&site.devices_batch()).unwrap();
    let began = Instant::now();
    for batch in &batches {
        store.commit(batch).unwrap();
    }
    let chained_time = began.elapsed();

    let per_event = |took: Duration| took.as_secs_f64() * 1e6 / EVENTS as f64;
    println!(
        "  plain insert (events only, as before):  {:>6.1} µs per event",
        per_event(plain_time)
    );
    println!(
        "  Store::commit (chain, index, snapshots): {:>6.1} µs per event",
        per_event(chained_time)
    );
}

fn build(database: &Path, events: usize, start: Timestamp, step: i64) {
    let mut store = Store::open(database).expect("opening the store");
    let mut site = Site::new(start, step);
    store.commit(&site.devices_batch()).unwrap();
    let mut written = 0;
    while written < events {
        let count = BATCH.min(events - written);
        store.commit(&site.batch(count)).expect("committing");
        written += count;
    }
}

fn filters(database: &Path, start: Timestamp) {
    let store = Store::open_read_only(database).expect("opening read-only");
    let mid = start + (180 * 24).hours();
    let cases: Vec<(&str, LogFilter)> = vec![
        ("no filter", LogFilter::default()),
        (
            "date range, one day mid-year",
            LogFilter {
                from: Some(mid),
                to: Some(mid + 24.hours()),
                ..LogFilter::default()
            },
        ),
        (
            "date range, one month",
            LogFilter {
                from: Some(mid),
                to: Some(mid + (30 * 24).hours()),
                ..LogFilter::default()
            },
        ),
        (
            "operator guard-07",
            LogFilter {
                operator: Some("guard-07".into()),
                ..LogFilter::default()
            },
        ),
        (
            "kind patrol",
            LogFilter {
                kinds: vec![LogKind::Entry(EntryKind::Patrol)],
                ..LogFilter::default()
            },
        ),
        (
            "kinds log in + handover",
            LogFilter {
                kinds: vec![LogKind::LogIn, LogKind::Handover],
                ..LogFilter::default()
            },
        ),
        (
            "priority P1",
            LogFilter {
                priority: Some(Priority::P1),
                ..LogFilter::default()
            },
        ),
        ("text 东门巡更 (common)", text("东门巡更")),
        ("text 消防通道 (about 3 %)", text("消防通道")),
        ("text 通知维修 (rare)", text("通知维修")),
        ("text door-0123 (one device)", text("door-0123")),
        ("text 不存在的词 (no match)", text("不存在的词")),
        ("text 巡更 (2 chars, common)", text("巡更")),
        ("text 漏水 (2 chars, rare)", text("漏水")),
        ("text 无此 (2 chars, no match)", text("无此")),
        (
            "2 chars 漏水 within one month",
            LogFilter {
                from: Some(mid),
                to: Some(mid + (30 * 24).hours()),
                text: Some("漏水".into()),
                ..LogFilter::default()
            },
        ),
        (
            "operator guard-07 + text 电梯",
            LogFilter {
                operator: Some("guard-07".into()),
                text: Some("电梯".into()),
                ..LogFilter::default()
            },
        ),
        (
            "priority P3 or more urgent",
            LogFilter {
                priority: Some(Priority::P3),
                ..LogFilter::default()
            },
        ),
        (
            "priority P1 + one month",
            LogFilter {
                priority: Some(Priority::P1),
                from: Some(mid),
                to: Some(mid + (30 * 24).hours()),
                ..LogFilter::default()
            },
        ),
    ];
    println!("first page ({PAGE} rows), median of {RUNS} runs:");
    for (name, filter) in cases {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..RUNS {
            let began = Instant::now();
            let page = store.log_page(&filter, None, PAGE).expect("querying");
            times.push(began.elapsed());
            rows = page.rows.len();
        }
        times.sort();
        report(
            &format!("  {name}"),
            times[RUNS / 2],
            &format!("{rows} rows"),
        );
    }
}

fn text(query: &str) -> LogFilter {
    LogFilter {
        text: Some(query.into()),
        ..LogFilter::default()
    }
}

/// A simulated site writing its log: deterministic, so runs compare.
struct Site {
    rng: fastrand::Rng,
    at: Timestamp,
    step: i64,
    next_alarm: u64,
    devices: Vec<DeviceSpec>,
}

impl Site {
    fn new(start: Timestamp, step: i64) -> Self {
        let devices = (0..DEVICES)
            .map(|n| {
                let (kind, word) = match n % 4 {
                    0 | 1 => (DeviceKind::Door, "门磁"),
                    2 => (DeviceKind::Camera, "摄像机"),
                    _ => (DeviceKind::Detector, "烟感"),
                };
                DeviceSpec {
                    id: format!("door-{n:04}"),
                    kind,
                    class: None,
                    name: format!("{}号楼{}{word}", n % 20 + 1, PLACES[n % PLACES.len()]),
                    building: format!("{}号楼", n % 20 + 1),
                    zone: String::new(),
                    gateway: None,
                    interval_s: 300,
                }
            })
            .collect();
        Self {
            rng: fastrand::Rng::with_seed(7),
            at: start,
            step,
            next_alarm: 1,
            devices,
        }
    }

    fn devices_batch(&self) -> Batch {
        Batch {
            devices: self
                .devices
                .iter()
                .map(|spec| Device::new(spec.clone(), true))
                .collect(),
            ..Batch::default()
        }
    }

    fn batch(&mut self, count: usize) -> Batch {
        let mut batch = Batch::default();
        for _ in 0..count {
            self.at += self.step.milliseconds();
            let body = self.body(&mut batch);
            batch.events.push(Event::new(self.at, body));
        }
        batch
    }

    fn operator(&mut self) -> String {
        format!("guard-{:02}", self.rng.usize(1..=OPERATORS))
    }

    fn action(&mut self, alarm: Option<u64>, kind: ActionKind, remark: String) -> Action {
        Action {
            id: Uuid::from_u128(self.rng.u128(..)),
            alarm,
            kind,
            operator: self.operator(),
            role: "guard".into(),
            console: "duty-1".into(),
            via_ssh: false,
            remark,
        }
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.usize(..items.len())]
    }

    /// Returns one event of the mix: 35 % device events, 10 % alarms raised, 15 %
    /// actions on them, 30 % duty notes, 5 % logins, 3 % link changes and
    /// 2 % data errors.
    fn body(&mut self, batch: &mut Batch) -> EventBody {
        let device = self.devices[self.rng.usize(..DEVICES)].id.clone();
        match self.rng.u32(..100) {
            0..35 => {
                if self.rng.bool() {
                    EventBody::AvailabilityChanged {
                        device,
                        online: self.rng.bool(),
                        retained: false,
                    }
                } else {
                    EventBody::DeviceEventRaised {
                        device,
                        event_id: Uuid::from_u128(self.rng.u128(..)).to_string(),
                        event: "door_forced".into(),
                        text: Some("门被强行打开".into()),
                        source_ts: None,
                    }
                }
            }
            35..45 => {
                let (condition, priority) = match self.rng.u32(..20) {
                    0 => (Condition::Fire, Priority::P1),
                    1..5 => (Condition::DoorForced, Priority::P2),
                    5..15 => (Condition::DoorHeldOpen, Priority::P3),
                    _ => (Condition::LowBattery, Priority::P4),
                };
                let raise = Raise {
                    alarm: self.next_alarm,
                    source: device.clone(),
                    condition,
                    priority,
                    device: Some(device.clone()),
                    name: device,
                    building: String::new(),
                    zone: String::new(),
                    text: None,
                    momentary: false,
                    active: true,
                    suppressed: false,
                    out_of_service: false,
                };
                self.next_alarm += 1;
                batch.alarms.push(Alarm::new(&raise, self.at));
                EventBody::AlarmRaised { raise }
            }
            45..60 if self.next_alarm > 1 => {
                let alarm = self.next_alarm - 1 - self.rng.u64(..(self.next_alarm - 1).min(20));
                let (kind, remark) = if self.rng.bool() {
                    (ActionKind::Acknowledge, String::new())
                } else {
                    let thing = self.pick(&THINGS);
                    (
                        ActionKind::Close {
                            disposition: Disposition::Genuine,
                        },
                        format!("已到现场处理，{thing}"),
                    )
                };
                let action = self.action(Some(alarm), kind, remark);
                EventBody::AlarmActed { action }
            }
            45..90 => {
                let place = self.pick(&PLACES);
                let (entry, remark) = match self.rng.u32(..100) {
                    0..50 => (EntryKind::Patrol, format!("{place}巡更正常")),
                    50..75 => {
                        let who = self.pick(&VISITORS);
                        (EntryKind::Visitor, format!("访客登记：{who}来访{place}"))
                    }
                    75..85 => {
                        let thing = self.pick(&THINGS);
                        (EntryKind::Call, format!("接到住户电话，反映{thing}"))
                    }
                    85..99 => {
                        let thing = self.pick(&THINGS);
                        (
                            EntryKind::Incident,
                            format!("{place}巡更发现{thing}，已处理"),
                        )
                    }
                    // One note in a hundred: about 3 events in a thousand.
                    _ => (EntryKind::Incident, format!("{place}漏水，已通知维修处理")),
                };
                let action = self.action(
                    None,
                    ActionKind::Note {
                        entry,
                        refers_to: None,
                    },
                    remark,
                );
                EventBody::DutyRecorded { action }
            }
            90..95 => {
                let kind = if self.rng.bool() {
                    ActionKind::LogIn
                } else {
                    ActionKind::LogOut
                };
                let action = self.action(None, kind, String::new());
                EventBody::DutyRecorded { action }
            }
            95..98 => EventBody::LinkChanged {
                online: self.rng.bool(),
                detail: "connection reset by peer".into(),
                session_lost: false,
            },
            _ => EventBody::DataErrorRaised {
                device,
                topic: "gr/v1/site/dev/x/state".into(),
                code: "json".into(),
                reason: "invalid JSON at line 1".into(),
            },
        }
    }
}
