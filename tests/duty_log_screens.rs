//! The duty log's screens: the note dialog, the handover, the log browser
//! and its statistics. Snapshots at 80×24 in both languages, and behaviour
//! tests that drive the console's state with keys, without a terminal,
//! against real SQLite files.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use guardroom::app::duty::Overdue;
use guardroom::app::review::ShiftData;
use guardroom::app::{Access, App, LoginSettings, Role as AppRole, SiteInfo};
use guardroom::domain::alarm::{
    Action, ActionKind, Alarm, Condition, Disposition, EntryKind, Priority, Raise,
};
use guardroom::domain::device::Liveness;
use guardroom::domain::operator::pin::Pin;
use guardroom::domain::operator::{IdleLock, LockoutPolicy, Role};
use guardroom::domain::shift::Schedule;
use guardroom::domain::{Event, EventBody, Projection};
use guardroom::i18n::Lang;
use guardroom::report::stats;
use guardroom::store::log::{LogKind, LogRow};
use guardroom::store::{Batch, Store};
use guardroom::theme::Theme;
use guardroom::ui::handover::{HandoverFlow, Stage};
use guardroom::ui::note::{Corrected, NoteDialog};
use guardroom::ui::review::kind_choices;
use guardroom::ui::sample::{sample_app, sample_now};
use guardroom::ui::state::{UiState, View};
use guardroom::ui::widgets::Ctx;
use guardroom::ui::{self, handle_key, handle_paste};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use uuid::Uuid;

fn render(app: &App, state: &UiState, lang: Lang, colour: bool) -> TestBackend {
    let theme = Theme::resolve("default").unwrap();
    let theme = if colour {
        theme
    } else {
        theme.without_colour()
    };
    let ctx = Ctx {
        lang,
        theme: &theme,
        now: sample_now(),
        time_zone: &app.site.time_zone,
    };
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| ui::draw(frame, app, state, &ctx))
        .unwrap();
    terminal.backend().clone()
}

fn screen(app: &App, state: &UiState, lang: Lang) -> TestBackend {
    render(app, state, lang, true)
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn action(operator: &str, kind: ActionKind, remark: &str) -> Action {
    Action {
        id: Uuid::new_v4(),
        alarm: None,
        kind,
        operator: operator.into(),
        role: "guard".into(),
        console: "duty-1".into(),
        via_ssh: false,
        remark: remark.into(),
    }
}

fn note_body(operator: &str, entry: EntryKind, refers_to: Option<i64>, text: &str) -> EventBody {
    EventBody::DutyRecorded {
        action: action(operator, ActionKind::Note { entry, refers_to }, text),
    }
}

fn row(seq: i64, time: &str, body: EventBody) -> LogRow {
    let (operator, priority) = match &body {
        EventBody::DutyRecorded { action } | EventBody::AlarmActed { action } => {
            (Some(action.operator.clone()), None)
        }
        EventBody::AlarmRaised { raise } => (None, Some(raise.priority)),
        _ => (None, None),
    };
    LogRow {
        seq,
        at: at(time),
        kind: LogKind::of(&body),
        operator,
        priority,
        body,
    }
}

fn raise(alarm: u64, condition: Condition, priority: Priority, name: &str) -> Raise {
    Raise {
        alarm,
        source: format!("dev-{name}"),
        condition,
        priority,
        device: Some(format!("dev-{alarm}")),
        name: name.into(),
        building: "3号楼".into(),
        zone: "A区".into(),
        text: None,
        momentary: false,
        active: true,
        suppressed: false,
        out_of_service: false,
    }
}

// ---------------------------------------------------------------- snapshots

fn note_state() -> UiState {
    let mut state = UiState::default();
    let mut dialog = NoteDialog {
        choice: 1,
        ..NoteDialog::default()
    };
    dialog
        .field
        .paste("巡更至3号楼北门，门禁正常，地下车库积水已报修");
    for _ in 0..6 {
        dialog.field.left();
    }
    state.note = Some(dialog);
    state
}

#[test]
fn note_dialog_zh_80x24() {
    let app = sample_app();
    insta::assert_snapshot!(screen(&app, &note_state(), Lang::ZhCn));
}

#[test]
fn note_dialog_en_80x24() {
    let app = sample_app();
    insta::assert_snapshot!(screen(&app, &note_state(), Lang::En));
}

/// The day shift of the sample day, which ends at the sample time, with its
/// remark, handover and takeover.
fn signed_shift(app: &App, lang: Lang) -> UiState {
    let schedule = Schedule::day_and_night();
    let tz = &app.site.time_zone;
    let shift = schedule.previous(&schedule.shift_at(sample_now(), tz), tz);
    let handover = action(
        "g1",
        ActionKind::HandOver {
            shift: shift.id.clone(),
        },
        "北门门禁待维修",
    );
    let takeover = action(
        "g2",
        ActionKind::TakeOver {
            shift: shift.id.clone(),
            handover: handover.id,
        },
        "",
    );
    let duty = vec![
        Event {
            seq: 40,
            id: Uuid::nil(),
            at: at("2026-12-04T10:30:00Z"),
            body: note_body("g1", EntryKind::HandoverRemark, None, "车库积水已报修"),
        },
        Event {
            seq: 41,
            id: Uuid::nil(),
            at: at("2026-12-04T11:58:00Z"),
            body: EventBody::DutyRecorded { action: handover },
        },
        Event {
            seq: 42,
            id: Uuid::nil(),
            at: at("2026-12-04T12:01:00Z"),
            body: EventBody::DutyRecorded { action: takeover },
        },
    ];
    let data = ShiftData {
        stats: stats::compute(shift.start, shift.end, tz, &[]),
        shift: shift.clone(),
        duty,
        log_head: None,
    };
    let mut flow = HandoverFlow::new(shift);
    flow.set_data(app, &data, lang, sample_now());
    assert_eq!(
        flow.stage,
        Stage::Done {
            outgoing: "g1".into(),
            incoming: "g2".into()
        }
    );
    // The signatures are at the end of the sheet.
    flow.scroll = u16::MAX;
    let mut state = UiState {
        lang,
        handover: Some(flow),
        ..UiState::default()
    };
    state.show(View::Handover);
    state
}

#[test]
fn handover_sheet_zh_80x24() {
    let app = sample_app();
    let state = signed_shift(&app, Lang::ZhCn);
    insta::assert_snapshot!(screen(&app, &state, Lang::ZhCn));
}

#[test]
fn handover_sheet_en_80x24() {
    let app = sample_app();
    let state = signed_shift(&app, Lang::En);
    insta::assert_snapshot!(screen(&app, &state, Lang::En));
}

/// The browser on the sample day shift, searching for 巡更, with a
/// correction below the entry it corrects.
fn browser_state() -> UiState {
    let mut state = UiState::default();
    state.show(View::Log);
    let review = &mut state.review;
    review.anchor = Some(at("2026-12-04T06:00:00Z"));
    review.text = "巡更".into();
    review.kind = kind_choices()
        .iter()
        .position(|(key, _)| *key == "duty.kind_entries");
    review.rows = vec![
        row(
            31,
            "2026-12-04T09:40:00Z",
            note_body("g1", EntryKind::Patrol, Some(12), "更正：巡更时间为17:10"),
        ),
        row(
            25,
            "2026-12-04T07:05:00Z",
            note_body(
                "g2",
                EntryKind::Patrol,
                None,
                "夜间巡更 night patrol, all gates locked",
            ),
        ),
        row(
            12,
            "2026-12-04T03:10:00Z",
            note_body("g1", EntryKind::Patrol, None, "巡更3号楼，一切正常"),
        ),
    ];
    review.selected = 1;
    state
}

#[test]
fn log_browser_zh_80x24() {
    let app = sample_app();
    insta::assert_snapshot!(screen(&app, &browser_state(), Lang::ZhCn));
}

#[test]
fn log_browser_en_80x24() {
    let app = sample_app();
    insta::assert_snapshot!(screen(&app, &browser_state(), Lang::En));
}

#[test]
fn log_browser_no_color_marks_the_selection() {
    let app = sample_app();
    let plain = render(&app, &browser_state(), Lang::ZhCn, false);
    // The selected row is reversed, not coloured, without colours.
    let buffer = plain.buffer();
    let selected_y = (0..24)
        .find(|y| {
            (0..80)
                .map(|x| buffer[(x, *y)].symbol().to_owned())
                .collect::<String>()
                .contains(" 11:10 ")
        })
        .unwrap();
    let cell = &buffer[(2, selected_y)];
    assert!(
        cell.modifier.contains(ratatui::style::Modifier::REVERSED),
        "selected row is not reversed without colour: {cell:?}"
    );
    assert_eq!(cell.fg, ratatui::style::Color::Reset);
}

/// Statistics of a day shift with alarms in four hours.
fn stats_state(app: &App) -> UiState {
    let tz = &app.site.time_zone;
    let from = at("2026-12-04T00:00:00Z");
    let to = at("2026-12-04T12:00:00Z");
    let mut events = Vec::new();
    let mut seq = 0;
    let mut push = |time: &str, body: EventBody| {
        seq += 1;
        events.push(Event {
            seq,
            id: Uuid::nil(),
            at: at(time),
            body,
        });
    };
    let alarms = [
        (
            1,
            Condition::Fire,
            Priority::P1,
            "3号楼烟感",
            "2026-12-04T00:20:00Z",
        ),
        (
            2,
            Condition::DoorHeldOpen,
            Priority::P3,
            "北门门磁",
            "2026-12-04T01:05:00Z",
        ),
        (
            3,
            Condition::DoorHeldOpen,
            Priority::P3,
            "北门门磁",
            "2026-12-04T01:40:00Z",
        ),
        (
            4,
            Condition::DoorForced,
            Priority::P2,
            "车库门",
            "2026-12-04T05:10:00Z",
        ),
        (
            5,
            Condition::DoorHeldOpen,
            Priority::P3,
            "北门门磁",
            "2026-12-04T09:30:00Z",
        ),
    ];
    for (alarm, condition, priority, name, time) in alarms {
        push(
            time,
            EventBody::AlarmRaised {
                raise: raise(alarm, condition, priority, name),
            },
        );
        let raised = at(time);
        let acked = raised + SignedDuration::from_secs(30 + 20 * alarm as i64);
        let mut ack = action("g1", ActionKind::Acknowledge, "");
        ack.alarm = Some(alarm);
        push(&acked.to_string(), EventBody::AlarmActed { action: ack });
        let disposition = if alarm == 3 {
            Disposition::FalseAlarm
        } else {
            Disposition::Genuine
        };
        let mut close = action("g2", ActionKind::Close { disposition }, "已处理");
        close.alarm = Some(alarm);
        push(
            &(acked + SignedDuration::from_mins(4 * alarm as i64)).to_string(),
            EventBody::AlarmActed { action: close },
        );
    }
    push(
        "2026-12-04T08:00:00Z",
        note_body("g1", EntryKind::Patrol, None, "巡更正常"),
    );
    let mut state = UiState::default();
    state.show(View::Log);
    state.review.anchor = Some(at("2026-12-04T06:00:00Z"));
    state.review.show_stats = true;
    state.review.stats = Some(stats::compute(from, to, tz, &events));
    state
}

#[test]
fn stats_panel_zh_80x24() {
    let app = sample_app();
    insta::assert_snapshot!(screen(&app, &stats_state(&app), Lang::ZhCn));
}

#[test]
fn stats_panel_en_80x24() {
    let app = sample_app();
    insta::assert_snapshot!(screen(&app, &stats_state(&app), Lang::En));
}

fn overdue_app() -> App {
    let mut app = sample_app();
    let schedule = Schedule::day_and_night();
    let tz = app.site.time_zone.clone();
    let shift = schedule.previous(&schedule.shift_at(sample_now(), &tz), &tz);
    app.duty.overdue = Some(Overdue {
        shift,
        handed_over: false,
    });
    app
}

#[test]
fn shift_ended_without_handover_zh_80x24() {
    let app = overdue_app();
    insta::assert_snapshot!(screen(&app, &UiState::default(), Lang::ZhCn));
}

#[test]
fn shift_ended_without_handover_en_80x24() {
    let app = overdue_app();
    insta::assert_snapshot!(screen(&app, &UiState::default(), Lang::En));
}

#[test]
fn review_console_shows_no_handover_line() {
    let mut app = overdue_app();
    app.read_only = true;
    let text = format!("{:?}", screen(&app, &UiState::default(), Lang::En));
    assert!(!text.contains("without handover"), "{text}");
}

// ---------------------------------------------------------------- behaviour

const POLICY: LockoutPolicy = LockoutPolicy {
    max_failures: 3,
    lockout_s: 60,
};

/// A database with two guards and a supervisor.
fn database(dir: &Path) -> PathBuf {
    let path = dir.join("guardroom.sqlite");
    let mut store = Store::open(&path).unwrap();
    for (id, name, role, pin) in [
        ("g1", "值班员甲", Role::Guard, "2468"),
        ("g2", "值班员乙", Role::Guard, "1357"),
        ("s1", "主管丙", Role::Supervisor, "9999"),
    ] {
        let hash = Pin::parse(pin).unwrap().hash().unwrap();
        assert!(
            store
                .add_operator(id, name, role, &hash, at("2026-12-01T00:00:00Z"))
                .unwrap()
        );
    }
    path
}

/// A console on `path` whose submitted actions are collected, with `g1`
/// logged in.
fn console(path: &Path, now: Timestamp) -> (App, UiState, Arc<Mutex<Vec<Action>>>) {
    let site = SiteInfo {
        id: "test".into(),
        name: "测试小区".into(),
        time_zone: TimeZone::get("Asia/Shanghai").unwrap(),
        liveness: Liveness::default(),
        database: path.to_path_buf(),
    };
    let mut app = App::new(site, AppRole::Recorder, Projection::default());
    app.access = Access::Operators {
        current: None,
        locked: false,
    };
    app.login = LoginSettings {
        lockout: POLICY,
        idle: IdleLock { idle_lock_s: 600 },
    };
    let submitted = Arc::new(Mutex::new(Vec::new()));
    let sink = submitted.clone();
    app.submit = Some(Box::new(move |action| {
        sink.lock().unwrap().push(action);
        Ok(())
    }));
    app.log_in("g1", "2468", now).unwrap();
    submitted.lock().unwrap().clear();
    let state = UiState {
        lang: Lang::ZhCn,
        ..UiState::default()
    };
    (app, state, submitted)
}

fn press(app: &mut App, ui: &mut UiState, code: KeyCode, now: Timestamp) {
    handle_key(app, ui, &KeyEvent::new(code, KeyModifiers::NONE), now);
}

fn type_text(app: &mut App, ui: &mut UiState, text: &str, now: Timestamp) {
    for c in text.chars() {
        press(app, ui, KeyCode::Char(c), now);
    }
}

fn taken(submitted: &Mutex<Vec<Action>>) -> Vec<Action> {
    submitted.lock().unwrap().clone()
}

/// Runs the screen's sync until `done` or five seconds have passed.
fn sync_until(app: &mut App, ui: &mut UiState, now: Timestamp, done: impl Fn(&UiState) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        ui::review::sync(app, ui, now);
        if done(ui) {
            return;
        }
        assert!(Instant::now() < deadline, "the worker did not answer");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn note_records_one_action_with_type_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let now = at("2026-12-04T03:00:00Z");
    let (mut app, mut ui, submitted) = console(&database(dir.path()), now);

    press(&mut app, &mut ui, KeyCode::Char('w'), now);
    assert!(ui.note.is_some(), "w opens the note dialog");
    // Visitor is the third type.
    press(&mut app, &mut ui, KeyCode::Down, now);
    press(&mut app, &mut ui, KeyCode::Down, now);
    type_text(&mut app, &mut ui, "快递员送件", now);
    assert!(handle_paste(&mut ui, "，已登记"));
    // Keys typed into the text are not commands: `q` does not quit.
    type_text(&mut app, &mut ui, " q", now);
    assert!(!ui.quit);
    press(&mut app, &mut ui, KeyCode::Enter, now);

    assert!(ui.note.is_none(), "the dialog closes on save");
    let actions = taken(&submitted);
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(
        actions[0].kind,
        ActionKind::Note {
            entry: EntryKind::Visitor,
            refers_to: None
        }
    );
    assert_eq!(actions[0].remark, "快递员送件，已登记 q");
    assert_eq!(actions[0].operator, "g1");
}

#[test]
fn empty_note_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let now = at("2026-12-04T03:00:00Z");
    let (mut app, mut ui, submitted) = console(&database(dir.path()), now);
    press(&mut app, &mut ui, KeyCode::Char('w'), now);
    type_text(&mut app, &mut ui, "  ", now);
    press(&mut app, &mut ui, KeyCode::Enter, now);
    assert!(ui.note.as_ref().is_some_and(|note| note.error.is_some()));
    assert!(taken(&submitted).is_empty());
}

#[test]
fn correction_refers_to_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let now = at("2026-12-04T03:00:00Z");
    let (mut app, mut ui, submitted) = console(&database(dir.path()), now);
    ui.show(View::Log);
    ui.review.rows = vec![
        row(
            9,
            "2026-12-04T02:00:00Z",
            note_body("g1", EntryKind::Patrol, None, "巡更北门正常"),
        ),
        row(
            8,
            "2026-12-04T01:00:00Z",
            EventBody::DutyRecorded {
                action: action("g1", ActionKind::LogIn, ""),
            },
        ),
    ];

    // A login is not an entry: nothing to correct.
    ui.review.selected = 1;
    press(&mut app, &mut ui, KeyCode::Char('c'), now);
    assert!(ui.note.is_none());

    ui.review.selected = 0;
    press(&mut app, &mut ui, KeyCode::Char('c'), now);
    assert_eq!(
        ui.note.as_ref().and_then(|note| note.corrects.clone()),
        Some(Corrected {
            seq: 9,
            entry: EntryKind::Patrol,
            text: "巡更北门正常".into()
        })
    );
    type_text(&mut app, &mut ui, "应为南门", now);
    press(&mut app, &mut ui, KeyCode::Enter, now);

    let actions = taken(&submitted);
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(
        actions[0].kind,
        ActionKind::Note {
            entry: EntryKind::Patrol,
            refers_to: Some(9)
        }
    );
    assert_eq!(actions[0].remark, "应为南门");
}

#[test]
fn handover_then_takeover_with_pin() {
    let dir = tempfile::tempdir().unwrap();
    // 19:50 local, ten minutes before the day shift ends.
    let now = at("2026-12-04T11:50:00Z");
    let (mut app, mut ui, submitted) = console(&database(dir.path()), now);

    press(&mut app, &mut ui, KeyCode::Char('T'), now);
    assert_eq!(ui.view, View::Handover);
    sync_until(&mut app, &mut ui, now, |ui| {
        ui.handover
            .as_ref()
            .is_some_and(|flow| flow.stage != Stage::Loading)
    });
    let flow = ui.handover.as_ref().unwrap();
    assert_eq!(flow.stage, Stage::Outgoing);
    assert_eq!(flow.shift.id, "2026-12-04T08:00");
    assert!(flow.sheet.is_some());

    type_text(&mut app, &mut ui, "北门门禁待修", now);
    press(&mut app, &mut ui, KeyCode::Enter, now);
    let actions = taken(&submitted);
    assert_eq!(actions.len(), 1, "{actions:?}");
    let handover = actions[0].clone();
    assert_eq!(
        handover.kind,
        ActionKind::HandOver {
            shift: "2026-12-04T08:00".into()
        }
    );
    assert_eq!(handover.operator, "g1");
    assert_eq!(handover.remark, "北门门禁待修");

    // A wrong PIN records nothing and keeps g1 logged in.
    type_text(&mut app, &mut ui, "g2", now);
    press(&mut app, &mut ui, KeyCode::Tab, now);
    type_text(&mut app, &mut ui, "0000", now);
    press(&mut app, &mut ui, KeyCode::Enter, now);
    assert_eq!(taken(&submitted).len(), 1);
    assert!(ui.handover.as_ref().unwrap().error.is_some());
    assert_eq!(app.access.active().unwrap().id, "g1");

    type_text(&mut app, &mut ui, "1357", now);
    press(&mut app, &mut ui, KeyCode::Enter, now);
    let actions = taken(&submitted);
    let kinds: Vec<(&str, &str)> = actions
        .iter()
        .map(|action| (action.kind.as_str(), action.operator.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("hand_over", "g1"),
            ("take_over", "g2"),
            ("log_out", "g1"),
            ("log_in", "g2")
        ]
    );
    assert_eq!(
        actions[1].kind,
        ActionKind::TakeOver {
            shift: "2026-12-04T08:00".into(),
            handover: handover.id
        }
    );
    assert_eq!(actions[1].role, "guard");
    assert_eq!(app.access.active().unwrap().id, "g2");
    assert!(matches!(
        ui.handover.as_ref().unwrap().stage,
        Stage::Done { .. }
    ));
}

#[test]
fn takeover_by_the_outgoing_operator_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let now = at("2026-12-04T11:50:00Z");
    let (mut app, mut ui, submitted) = console(&database(dir.path()), now);
    press(&mut app, &mut ui, KeyCode::Char('T'), now);
    sync_until(&mut app, &mut ui, now, |ui| {
        ui.handover
            .as_ref()
            .is_some_and(|flow| flow.stage != Stage::Loading)
    });
    press(&mut app, &mut ui, KeyCode::Enter, now);
    type_text(&mut app, &mut ui, "g1", now);
    press(&mut app, &mut ui, KeyCode::Tab, now);
    type_text(&mut app, &mut ui, "2468", now);
    press(&mut app, &mut ui, KeyCode::Enter, now);
    assert_eq!(taken(&submitted).len(), 1, "only the handover is recorded");
    assert!(ui.handover.as_ref().unwrap().error.is_some());
}

/// Seeds a log around the day shift of 2026-12-04 (08:00–20:00 local):
/// four events in it, two in the night shift before.
fn seed_log(path: &Path) {
    let mut store = Store::open(path).unwrap();
    let smoke = raise(1, Condition::Fire, Priority::P1, "3号楼烟感");
    let door = raise(2, Condition::DoorHeldOpen, Priority::P3, "北门门磁");
    let events = [
        (
            "2026-12-03T14:00:00Z",
            note_body("g2", EntryKind::Patrol, None, "夜班巡更，车库正常"),
        ),
        (
            "2026-12-03T20:00:00Z",
            EventBody::AlarmRaised { raise: door },
        ),
        (
            "2026-12-04T01:00:00Z",
            EventBody::AlarmRaised { raise: smoke },
        ),
        (
            "2026-12-04T01:30:00Z",
            note_body("g1", EntryKind::Patrol, None, "巡更3号楼，烟感已复位"),
        ),
        (
            "2026-12-04T02:00:00Z",
            note_body("g1", EntryKind::Visitor, None, "访客：快递员"),
        ),
        (
            "2026-12-04T03:00:00Z",
            note_body("s1", EntryKind::Incident, None, "北门积水"),
        ),
    ];
    for (time, body) in events {
        let mut batch = Batch::default();
        if let EventBody::AlarmRaised { raise } = &body {
            batch.alarms.push(Alarm::new(raise, at(time)));
        }
        batch.events.push(Event::new(at(time), body));
        store.commit(&batch).unwrap();
    }
}

fn texts(ui: &UiState) -> Vec<String> {
    ui.review
        .rows
        .iter()
        .map(|row| match &row.body {
            EventBody::DutyRecorded { action } => action.remark.clone(),
            EventBody::AlarmRaised { raise } => raise.name.clone(),
            other => other.kind().to_owned(),
        })
        .collect()
}

/// Waits for the answer to the query the current filters ask for.
fn query(app: &mut App, ui: &mut UiState, now: Timestamp) -> Vec<String> {
    sync_until(app, ui, now, |ui| {
        ui.review.asked.is_some() && !ui.review.searching
    });
    // The filters may have changed since the last answer: ask again.
    sync_until(app, ui, now, |ui| !ui.review.searching);
    texts(ui)
}

#[test]
fn browser_filters_on_a_seeded_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path());
    seed_log(&path);
    // 12:00 local, in the day shift.
    let now = at("2026-12-04T04:00:00Z");
    let (mut app, mut ui, _) = console(&path, now);
    press(&mut app, &mut ui, KeyCode::Char('3'), now);
    assert_eq!(ui.view, View::Log);

    // The current shift, newest first.
    assert_eq!(
        query(&mut app, &mut ui, now),
        [
            "北门积水",
            "访客：快递员",
            "巡更3号楼，烟感已复位",
            "3号楼烟感",
        ]
    );

    // A two-character Chinese search, typed.
    press(&mut app, &mut ui, KeyCode::Char('/'), now);
    type_text(&mut app, &mut ui, "巡更", now);
    press(&mut app, &mut ui, KeyCode::Enter, now);
    assert_eq!(query(&mut app, &mut ui, now), ["巡更3号楼，烟感已复位"]);

    // The shift before: the night patrol matches the same search.
    press(&mut app, &mut ui, KeyCode::Char('['), now);
    assert_eq!(query(&mut app, &mut ui, now), ["夜班巡更，车库正常"]);
    press(&mut app, &mut ui, KeyCode::Char(']'), now);
    press(&mut app, &mut ui, KeyCode::Char('x'), now);
    assert_eq!(query(&mut app, &mut ui, now).len(), 4);

    // Priority P1 and more urgent: the smoke alarm only.
    press(&mut app, &mut ui, KeyCode::Char('p'), now);
    assert_eq!(query(&mut app, &mut ui, now), ["3号楼烟感"]);
    press(&mut app, &mut ui, KeyCode::Char('x'), now);

    // Entry type: visitors.
    let visitor = kind_choices()
        .iter()
        .position(|(_, kinds)| kinds == &[LogKind::Entry(EntryKind::Visitor)])
        .unwrap();
    for _ in 0..=visitor {
        press(&mut app, &mut ui, KeyCode::Char('t'), now);
    }
    assert_eq!(query(&mut app, &mut ui, now), ["访客：快递员"]);
    press(&mut app, &mut ui, KeyCode::Char('x'), now);

    // Operator: the registered ones in id order, g1 first.
    press(&mut app, &mut ui, KeyCode::Char('o'), now);
    assert_eq!(ui.review.operator.as_deref(), Some("g1"));
    assert_eq!(
        query(&mut app, &mut ui, now),
        ["访客：快递员", "巡更3号楼，烟感已复位"]
    );

    // A day covers both shifts' events of the local date 2026-12-04.
    press(&mut app, &mut ui, KeyCode::Char('x'), now);
    press(&mut app, &mut ui, KeyCode::Char('d'), now);
    assert_eq!(query(&mut app, &mut ui, now).len(), 5);
}

#[test]
fn enter_on_an_alarm_row_opens_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path());
    seed_log(&path);
    let now = at("2026-12-04T04:00:00Z");
    let (mut app, mut ui, _) = console(&path, now);
    app.projection = Store::open_read_only(&path)
        .unwrap()
        .load_projection()
        .unwrap()
        .0;
    press(&mut app, &mut ui, KeyCode::Char('3'), now);
    query(&mut app, &mut ui, now);
    ui.review.selected = 3;
    press(&mut app, &mut ui, KeyCode::Enter, now);
    assert_eq!(ui.view, View::AlarmDetail);
    assert_eq!(ui.alarm_detail, Some(1));
}

#[test]
fn export_needs_the_permission_and_writes_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path());
    seed_log(&path);
    let now = at("2026-12-04T04:00:00Z");
    let (mut app, mut ui, _) = console(&path, now);
    app.duty.reports_dir = dir.path().join("reports");
    press(&mut app, &mut ui, KeyCode::Char('3'), now);

    // A guard may not export.
    press(&mut app, &mut ui, KeyCode::Char('e'), now);
    assert!(ui.message.as_ref().is_some_and(|message| message.error));
    assert!(!app.duty.reports_dir.exists());

    app.lock();
    app.log_in("s1", "9999", now).unwrap();
    press(&mut app, &mut ui, KeyCode::Char('e'), now);
    sync_until(&mut app, &mut ui, now, |ui| !ui.review.exporting);
    let files: Vec<PathBuf> = std::fs::read_dir(&app.duty.reports_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].extension().is_some_and(|ext| ext == "md"));
    let report = std::fs::read_to_string(&files[0]).unwrap();
    assert!(report.contains("巡更3号楼"), "{report}");
    let message = ui.message.as_ref().unwrap();
    assert!(!message.error, "{message:?}");
    assert!(message.text.contains(&files[0].display().to_string()));
}
