//! Screen snapshots: the console drawn into ratatui's TestBackend at the
//! sizes guards and maintenance staff use, in both languages.

use guardroom::app::App;
use guardroom::domain::{Event, Observation};
use guardroom::i18n::Lang;
use guardroom::ingest::adapters::{Adapters, AdaptersConfig, Message};
use guardroom::theme::Theme;
use guardroom::ui::sample::{flood_app, sample_app, sample_now};
use guardroom::ui::state::{Cursor, Question, UiState, View};
use guardroom::ui::widgets::Ctx;
use guardroom::ui::{self, keymap::Action};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use unicode_width::UnicodeWidthStr;

fn render(app: &App, state: &UiState, lang: Lang, width: u16, height: u16) -> TestBackend {
    let theme = Theme::resolve("default").unwrap();
    let ctx = Ctx {
        lang,
        theme: &theme,
        now: sample_now(),
        time_zone: &app.site.time_zone,
    };
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| ui::draw(frame, app, state, &ctx))
        .unwrap();
    terminal.backend().clone()
}

fn view(view: View) -> UiState {
    let mut state = UiState::default();
    state.show(view);
    state
}

/// Returns the view state of alarm `id`'s detail, opened from the queue.
fn alarm_detail(id: u64) -> UiState {
    let mut state = view(View::Alarms);
    state.alarm_detail = Some(id);
    state.show(View::AlarmDetail);
    state
}

/// Returns the screen as lines of text, without the cells a wide character
/// covers.
fn screen_text(backend: &TestBackend) -> String {
    let buffer = backend.buffer();
    let width = buffer.area.width as usize;
    let mut lines = Vec::new();
    for row in buffer.content().chunks(width) {
        let mut line = String::new();
        let mut covered = 0;
        for cell in row {
            if covered > 0 {
                covered -= 1;
                continue;
            }
            line.push_str(cell.symbol());
            covered = cell.symbol().width().saturating_sub(1);
        }
        lines.push(line);
    }
    lines.join("\n")
}

macro_rules! snapshot {
    ($name:ident, $view:expr, $lang:expr, $width:expr, $height:expr) => {
        #[test]
        fn $name() {
            let app = sample_app();
            let backend = render(&app, &$view, $lang, $width, $height);
            insta::assert_snapshot!(backend);
        }
    };
}

snapshot!(alarms_en_80x24, view(View::Alarms), Lang::En, 80, 24);
snapshot!(alarms_zh_80x24, view(View::Alarms), Lang::ZhCn, 80, 24);
snapshot!(alarms_en_160x48, view(View::Alarms), Lang::En, 160, 48);
snapshot!(alarms_zh_160x48, view(View::Alarms), Lang::ZhCn, 160, 48);
snapshot!(alarm_detail_en_80x24, alarm_detail(2), Lang::En, 80, 24);
snapshot!(alarm_detail_zh_80x24, alarm_detail(2), Lang::ZhCn, 80, 24);
snapshot!(alarm_detail_en_160x48, alarm_detail(2), Lang::En, 160, 48);
snapshot!(alarm_detail_zh_160x48, alarm_detail(2), Lang::ZhCn, 160, 48);
snapshot!(history_en_80x24, view(View::History), Lang::En, 80, 24);
snapshot!(history_zh_80x24, view(View::History), Lang::ZhCn, 80, 24);
snapshot!(history_zh_160x48, view(View::History), Lang::ZhCn, 160, 48);
snapshot!(overview_en_80x24, view(View::Overview), Lang::En, 80, 24);
snapshot!(overview_zh_80x24, view(View::Overview), Lang::ZhCn, 80, 24);
snapshot!(overview_en_160x48, view(View::Overview), Lang::En, 160, 48);
snapshot!(
    overview_zh_160x48,
    view(View::Overview),
    Lang::ZhCn,
    160,
    48
);
snapshot!(devices_en_80x24, view(View::Devices), Lang::En, 80, 24);
snapshot!(devices_zh_80x24, view(View::Devices), Lang::ZhCn, 80, 24);
snapshot!(devices_en_160x48, view(View::Devices), Lang::En, 160, 48);
snapshot!(devices_zh_160x48, view(View::Devices), Lang::ZhCn, 160, 48);
snapshot!(help_zh_80x24, view(View::Help), Lang::ZhCn, 80, 24);

#[test]
fn detail_of_forced_door() {
    let mut app = sample_app();
    let mut state = view(View::Devices);
    // The list is sorted by status, most urgent first: the forced door leads.
    ui::apply(&mut app, &mut state, Action::Open, sample_now());
    assert_eq!(state.detail.as_deref(), Some("b2-door-garage"));
    insta::assert_snapshot!(render(&app, &state, Lang::ZhCn, 80, 24));
    insta::assert_snapshot!(render(&app, &state, Lang::En, 80, 24));
}

#[test]
fn quit_asks_first() {
    let mut app = sample_app();
    let mut state = view(View::Overview);
    ui::apply(&mut app, &mut state, Action::Quit, sample_now());
    assert_eq!(
        state.confirm,
        Some(Question::Quit),
        "q must ask before quitting"
    );
    assert!(!state.quit, "q alone must not quit");
    insta::assert_snapshot!(render(&app, &state, Lang::En, 80, 24));
    ui::apply(&mut app, &mut state, Action::Confirm, sample_now());
    assert!(state.quit);
}

#[test]
fn tiny_sizes_do_not_panic() {
    let app = sample_app();
    for view_kind in [
        View::Alarms,
        View::AlarmDetail,
        View::History,
        View::Overview,
        View::Devices,
        View::Detail,
        View::Help,
    ] {
        for (width, height) in [(20, 5), (1, 1), (0, 0), (59, 11), (60, 12), (200, 3)] {
            render(&app, &view(view_kind), Lang::ZhCn, width, height);
        }
    }
}

#[test]
fn too_small_says_so() {
    let app = sample_app();
    let backend = render(&app, &view(View::Overview), Lang::En, 40, 5);
    let first_line: String = (0..40)
        .map(|x| backend.buffer()[(x, 0)].symbol().to_owned())
        .collect();
    assert!(
        first_line.starts_with("window too small"),
        "got {first_line:?}"
    );
}

#[test]
fn filter_narrows_device_list() {
    let app = sample_app();
    let mut state = view(View::Devices);
    state.filter = "GARAGE".into();
    let rows = ui::rows::device_rows(&app, &state, sample_now());
    let ids: Vec<&str> = rows.iter().map(|row| row.device.spec.id.as_str()).collect();
    assert_eq!(ids, ["b2-door-garage"]);
}

#[test]
fn no_color_theme_has_no_colours() {
    let app = sample_app();
    let theme = Theme::resolve("default").unwrap().without_colour();
    let ctx = Ctx {
        lang: Lang::En,
        theme: &theme,
        now: sample_now(),
        time_zone: &app.site.time_zone,
    };
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| ui::draw(frame, &app, &view(View::Devices), &ctx))
        .unwrap();
    for cell in terminal.backend().buffer().content() {
        assert_eq!(
            cell.fg,
            ratatui::style::Color::Reset,
            "colour at {:?}",
            cell.symbol()
        );
        assert_eq!(
            cell.bg,
            ratatui::style::Color::Reset,
            "colour at {:?}",
            cell.symbol()
        );
    }
}

#[test]
fn warning_line_is_shown() {
    let mut app = sample_app();
    app.warnings
        .push("WARNING: the database x.sqlite could not be read".into());
    let backend = render(&app, &view(View::Overview), Lang::En, 80, 24);
    let line: String = (0..80)
        .map(|x| backend.buffer()[(x, 2)].symbol().to_owned())
        .collect();
    assert!(
        line.starts_with(" ! WARNING: the database x.sqlite"),
        "got {line:?}"
    );
    assert!(
        backend.buffer()[(1, 2)]
            .modifier
            .contains(ratatui::style::Modifier::BOLD),
        "the warning stands out"
    );
}

#[test]
fn help_scrolls_to_the_legend() {
    let mut app = sample_app();
    let mut state = view(View::Help);
    let first = render(&app, &state, Lang::En, 80, 24);
    ui::apply(&mut app, &mut state, Action::Bottom, sample_now());
    let last = render(&app, &state, Lang::En, 80, 24);
    let text = |backend: &TestBackend| {
        backend
            .buffer()
            .content()
            .iter()
            .map(|cell| cell.symbol())
            .collect::<String>()
    };
    assert!(
        !text(&first).contains("Device status marks"),
        "the legend starts below the first page"
    );
    assert!(
        text(&last).contains("Device status marks"),
        "scrolling reaches the legend"
    );
}

#[test]
fn offline_header_fits_80_columns() {
    use guardroom::ingest::link::{LinkState, LinkStatus};
    use jiff::SignedDuration;
    let mut app = sample_app();
    let now = sample_now();
    app.link = Some(LinkState {
        status: LinkStatus::Offline {
            since: now - SignedDuration::from_secs(30),
            attempt: 5,
            retry_at: now + SignedDuration::from_secs(9),
            reason: "connection refused".into(),
        },
        session_present: None,
    });
    for lang in [Lang::En, Lang::ZhCn] {
        let backend = render(&app, &view(View::Overview), lang, 80, 24);
        let header: String = (0..80)
            .map(|x| backend.buffer()[(x, 0)].symbol().to_owned())
            .collect();
        assert!(header.contains("20:00:09"), "retry time shown: {header:?}");
        assert!(
            header.contains("12-04 20:00:00"),
            "clock shown whole: {header:?}"
        );
    }
}

#[test]
fn never_heard_devices_need_attention() {
    let app = sample_app();
    let (total, rows) = ui::rows::attention_rows(&app, sample_now(), 100);
    assert_eq!(total, rows.len());
    assert!(
        rows.iter().any(|row| row.device.spec.id == "b5-door-bike"),
        "a device that never reported is listed"
    );
}

#[test]
fn flood_groups_repeats_with_p1_on_top() {
    let app = flood_app();
    assert!(app.projection.alarms.in_flood());
    assert_eq!(app.projection.alarms.open.len(), 200);
    let state = view(View::Alarms);
    for lang in [Lang::ZhCn, Lang::En] {
        let backend = render(&app, &state, lang, 80, 24);
        let text = screen_text(&backend);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[3].contains("!!"),
            "the flood banner is under the counters: {text}"
        );
        // Header, tabs, counters, banner, table title, column header, then rows.
        for row in &lines[6..9] {
            assert!(row.contains("P1"), "P1 rows lead the queue: {row}\n{text}");
        }
        assert!(
            lines[9].contains("[+]"),
            "repeats after the P1 rows are grouped: {}\n{text}",
            lines[9]
        );
        let name = match lang {
            Lang::ZhCn => "flood_zh_80x24",
            Lang::En => "flood_en_80x24",
        };
        insta::assert_snapshot!(name, backend);
    }
}

#[test]
fn flood_counts_suppressed_children() {
    let app = flood_app();
    let backend = render(&app, &view(View::Alarms), Lang::En, 160, 48);
    let counters = screen_text(&backend).lines().nth(2).unwrap().to_owned();
    assert!(counters.contains("suppressed +20"), "{counters}");
}

#[test]
fn close_dialog_says_remark_is_required() {
    let mut app = sample_app();
    let mut state = view(View::Alarms);
    state.lang = Lang::ZhCn;
    // The water leak cleared unacknowledged: it can be closed.
    state.alarm_cursor = Some(Cursor::Alarm(5));
    let now = sample_now();
    ui::apply(&mut app, &mut state, Action::CloseAlarm, now);
    ui::apply(&mut app, &mut state, Action::Down, now);
    ui::apply(&mut app, &mut state, Action::Submit, now);
    assert!(state.dialog.is_some(), "the dialog stays open");
    insta::assert_snapshot!(
        "close_dialog_zh_80x24",
        render(&app, &state, Lang::ZhCn, 80, 24)
    );
    let mut english = state.clone();
    english.lang = Lang::En;
    english.dialog = None;
    ui::apply(&mut app, &mut english, Action::CloseAlarm, now);
    ui::apply(&mut app, &mut english, Action::Down, now);
    ui::apply(&mut app, &mut english, Action::Submit, now);
    let text = screen_text(&render(&app, &english, Lang::En, 80, 24));
    assert!(
        text.contains("A remark is required for a false"),
        "the dialog says why: {text}"
    );
}

#[test]
fn shelve_dialog_lists_durations() {
    let mut app = sample_app();
    let mut state = view(View::Alarms);
    state.alarm_cursor = Some(Cursor::Alarm(6));
    ui::apply(&mut app, &mut state, Action::Shelve, sample_now());
    insta::assert_snapshot!(
        "shelve_dialog_en_80x24",
        render(&app, &state, Lang::En, 80, 24)
    );
}

#[test]
fn acknowledge_all_question_counts() {
    let mut app = sample_app();
    let mut state = view(View::Alarms);
    ui::apply(&mut app, &mut state, Action::AcknowledgeAll, sample_now());
    insta::assert_snapshot!(
        "acknowledge_all_zh_80x24",
        render(&app, &state, Lang::ZhCn, 80, 24)
    );
}

#[test]
fn no_color_queue_marks_unacknowledged() {
    use ratatui::style::{Color, Modifier};
    let app = sample_app();
    let theme = Theme::resolve("default").unwrap().without_colour();
    let ctx = Ctx {
        lang: Lang::En,
        theme: &theme,
        now: sample_now(),
        time_zone: &app.site.time_zone,
    };
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| ui::draw(frame, &app, &view(View::Alarms), &ctx))
        .unwrap();

    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert_eq!(cell.fg, Color::Reset, "colour at {:?}", cell.symbol());
        assert_eq!(cell.bg, Color::Reset, "colour at {:?}", cell.symbol());
    }

    let text = screen_text(terminal.backend());
    let fire = text
        .lines()
        .position(|line| line.contains("3栋101烟感"))
        .expect("the fire alarm is listed");
    let mark = &buffer[(0, fire as u16)];
    assert_eq!(mark.symbol(), "!", "the unacknowledged mark shows: {text}");
    assert!(
        mark.modifier.contains(Modifier::REVERSED),
        "the mark is reversed, not only coloured"
    );

    let acknowledged = text
        .lines()
        .position(|line| line.contains("5栋1201"))
        .expect("the acknowledged SOS alarm is listed");
    assert_eq!(buffer[(0, acknowledged as u16)].symbol(), " ");
}

#[test]
fn queue_keeps_cjk_columns_aligned() {
    let app = sample_app();
    let backend = render(&app, &view(View::Alarms), Lang::ZhCn, 80, 24);
    let buffer = backend.buffer();
    // Every row's age column starts in the same cell: find the column of
    // the header's age title and check that each alarm row has a digit there.
    let text = screen_text(&backend);
    let header = text
        .lines()
        .position(|line| line.contains("时长"))
        .expect("column header");
    let age_x = (0..80)
        .find(|x| buffer[(*x, header as u16)].symbol() == "时")
        .unwrap();
    for y in header + 1..header + 8 {
        let cell = buffer[(age_x, y as u16)].symbol();
        assert!(
            cell.chars().all(|c| c.is_ascii_digit()),
            "row {y} has {cell:?} at the age column:\n{text}"
        );
    }
}

#[test]
fn alarm_detail_scrolls_through_history() {
    let mut app = sample_app();
    let mut state = alarm_detail(2);
    let first = screen_text(&render(&app, &state, Lang::En, 80, 24));
    ui::apply(&mut app, &mut state, Action::Bottom, sample_now());
    let last = screen_text(&render(&app, &state, Lang::En, 80, 24));
    assert!(
        !first.contains("raised  - → unacknowledged"),
        "the first transition is below the first page: {first}"
    );
    assert!(
        last.contains("raised  - → unacknowledged"),
        "scrolling reaches the first transition: {last}"
    );
}

#[test]
fn alarm_detail_shows_procedure_and_cameras() {
    let app = sample_app();
    let text = screen_text(&render(&app, &alarm_detail(1), Lang::En, 160, 48));
    assert!(
        text.contains("Cameras          南门摄像机 (b3-cam-gate), 6栋停车场摄像机 (b6-cam-park)"),
        "the zone's camera first, then the building's: {text}"
    );
    assert!(
        text.contains("Procedure        Check the cameras. Send the patrol with an extinguisher"),
        "the built-in procedure for fire: {text}"
    );
    assert!(text.contains("Acknowledged     not yet"), "{text}");
}

#[test]
fn message_line_shows_refusal() {
    let mut app = sample_app();
    let mut state = view(View::Alarms);
    state.alarm_cursor = Some(Cursor::Alarm(1));
    ui::apply(&mut app, &mut state, Action::Shelve, sample_now());
    let backend = render(&app, &state, Lang::En, 80, 24);
    let text = screen_text(&backend);
    let row = text
        .lines()
        .position(|line| line.starts_with(" ! Alarm #1 3栋101烟感 is P1"))
        .unwrap_or_else(|| panic!("the refusal: {text}"));
    let shown = wrapped_from(&text, text.lines().nth(row).unwrap());
    assert!(
        shown.starts_with("! Alarm #1 3栋101烟感 is P1 and a P1 alarm is never shelved"),
        "the whole refusal: {shown}"
    );
    assert!(
        text.lines()
            .skip(row + 1)
            .skip_while(|line| line.starts_with("   "))
            .count()
            == 1,
        "the refusal sits above the footer: {text}"
    );
    assert!(
        backend.buffer()[(1, row as u16)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED),
        "the refusal stands out without colour"
    );
}

#[test]
fn fallback_banner_shows_and_expires() {
    use guardroom::ui::state::{BANNER_SECS, Banner};
    use jiff::SignedDuration;
    let mut app = sample_app();
    let mut state = view(View::Alarms);
    state.banner = Some(Banner {
        summary: "P1 fire: 3栋101烟感".into(),
        body: "#1 3栋 1单元".into(),
        count: 3,
        desktop_off: false,
        at: sample_now(),
    });
    let text = screen_text(&render(&app, &state, Lang::En, 80, 24));
    assert!(
        text.lines()
            .nth(2)
            .unwrap()
            .starts_with(" * Desktop notifications are unavailable. Latest: P1 fire: 3栋101烟感"),
        "{text}"
    );
    let later = sample_now() + SignedDuration::from_secs(BANNER_SECS);
    assert!(state.banner_at(later).is_none(), "it hides after a minute");

    // Esc dismisses the banner before it goes back.
    state.show(View::Devices);
    ui::apply(&mut app, &mut state, Action::Back, sample_now());
    assert!(state.banner.is_none());
    assert_eq!(state.view, View::Devices);
}

#[test]
fn waiting_actions_are_counted_on_the_tab_line() {
    let mut app = sample_app();
    app.unsent = 3;
    let zh = screen_text(&render(&app, &UiState::default(), Lang::ZhCn, 80, 24));
    let tab_line = zh.lines().nth(1).unwrap_or_default();
    assert!(tab_line.contains("待发送 3 条"), "tab line: {tab_line}");
    let en = screen_text(&render(&app, &UiState::default(), Lang::En, 80, 24));
    assert!(en.contains("3 waiting to send"), "{en}");

    app.unsent = 0;
    let none = screen_text(&render(&app, &UiState::default(), Lang::ZhCn, 80, 24));
    assert!(!none.contains("待发送"), "nothing waits, nothing shown");
}

/// The sample app with its writes held because the disk is full.
fn disk_full_app() -> App {
    use guardroom::domain::storage::{FaultKind, StorageFault};
    let mut app = sample_app();
    app.storage = Some(StorageFault {
        kind: FaultKind::Full,
        since: sample_now() - jiff::SignedDuration::from_mins(3),
        retry_at: sample_now() + jiff::SignedDuration::from_secs(20),
        held_events: 412,
        held_actions: 2,
        detail: "database or disk is full".into(),
    });
    app
}

#[test]
fn disk_full_notice_zh_80x24() {
    let backend = render(&disk_full_app(), &UiState::default(), Lang::ZhCn, 80, 24);
    insta::assert_snapshot!(backend);
}

#[test]
fn disk_full_notice_en_80x24() {
    let backend = render(&disk_full_app(), &UiState::default(), Lang::En, 80, 24);
    insta::assert_snapshot!(backend);
}

#[test]
fn disk_full_notice_outranks_a_standing_warning() {
    let mut app = disk_full_app();
    app.warnings.push("an older warning".into());
    let text = screen_text(&render(&app, &UiState::default(), Lang::ZhCn, 80, 24));
    let notice = wrapped_from(&text, " ! ");
    assert!(notice.contains("磁盘已满"), "notice line: {notice}");
    assert!(notice.contains("2 条操作"), "notice line: {notice}");
    assert!(notice.contains("20:00:20 重试"), "notice line: {notice}");

    app.storage = None;
    let text = screen_text(&render(&app, &UiState::default(), Lang::ZhCn, 80, 24));
    assert!(
        text.lines()
            .nth(2)
            .unwrap_or_default()
            .contains("an older warning")
    );
}

#[test]
fn lost_session_is_shown_for_a_while_after_the_reconnect() {
    let mut app = sample_app();
    let link = app.projection.link.as_mut().expect("the sample has a link");
    link.online = true;
    link.session_lost = true;
    link.since = sample_now() - jiff::SignedDuration::from_mins(5);
    let text = screen_text(&render(&app, &UiState::default(), Lang::ZhCn, 80, 24));
    assert!(
        text.lines()
            .nth(2)
            .unwrap_or_default()
            .contains("没有保留会话"),
        "{text}"
    );
    let en = screen_text(&render(&app, &UiState::default(), Lang::En, 160, 48));
    assert!(
        en.contains("messages sent while this console was away may be missing"),
        "{en}"
    );

    let link = app.projection.link.as_mut().unwrap();
    link.since = sample_now() - jiff::SignedDuration::from_mins(45);
    let later = screen_text(&render(&app, &UiState::default(), Lang::ZhCn, 80, 24));
    assert!(
        !later.contains("没有保留会话"),
        "the notice has gone: {later}"
    );
}

// --- Devices read through the adapters, beside the native ones.

/// Returns what the three systems publish, in order, as seconds before the
/// sample's time, topic and payload. The Zigbee contact has no mapping and
/// keeps its Chinese friendly name with a `/`.
fn adapter_messages() -> Vec<(i64, &'static str, String)> {
    let contact = serde_json::json!({"type": "binary", "name": "contact", "property": "contact",
                                     "value_on": false, "value_off": true});
    let leak = serde_json::json!({"type": "binary", "name": "water_leak",
                                  "property": "water_leak", "value_on": true, "value_off": false});
    let devices = serde_json::json!([
        {"ieee_address": "0x00158d0000d00d01", "friendly_name": "3栋/天台门",
         "definition": {"exposes": [contact]}},
        {"ieee_address": "0x00158d0000d00d02", "friendly_name": "Pump room leak",
         "definition": {"exposes": [leak]}},
    ]);
    let door = r#"{"name": "Front door", "device_class": "door", "state_topic": "clubhouse/door",
                   "unique_id": "clubhouse_door", "device": {"identifiers": ["cd"], "name": "会所"}}"#;
    let battery = r#"{"name": "Battery", "device_class": "battery", "unit_of_measurement": "%",
                      "state_topic": "clubhouse/battery", "unique_id": "clubhouse_door_battery",
                      "device": {"identifiers": ["cd"], "name": "会所"}}"#;
    let motion = r#"{"name": "红外", "device_class": "motion", "state_topic": "bike-shed/motion",
                     "unique_id": "bike_shed_motion",
                     "device": {"identifiers": ["bs"], "name": "非机动车棚", "suggested_area": "车棚"}}"#;
    vec![
        (600, "zigbee2mqtt/bridge/state", "online".into()),
        (600, "zigbee2mqtt/bridge/devices", devices.to_string()),
        (600, "homeassistant/status", "online".into()),
        (600, "homeassistant/binary_sensor/clubhouse/door/config", door.into()),
        (600, "homeassistant/sensor/clubhouse/battery/config", battery.into()),
        (600, "homeassistant/binary_sensor/bike_shed/motion/config", motion.into()),
        (600, "frigate/available", "online".into()),
        (600, "frigate/east_gate/status/detect", "online".into()),
        (600, "frigate/garage_ramp/status/detect", "online".into()),
        (300, "zigbee2mqtt/3栋/天台门", r#"{"contact": true, "battery": 80}"#.into()),
        (300, "zigbee2mqtt/Pump room leak", r#"{"water_leak": false}"#.into()),
        (300, "clubhouse/door", "OFF".into()),
        (299, "clubhouse/battery", "12".into()),
        (300, "bike-shed/motion", "OFF".into()),
        (120, "frigate/garage_ramp/status/detect", "offline".into()),
        (45, "zigbee2mqtt/Pump room leak", r#"{"water_leak": true}"#.into()),
        (20, "zigbee2mqtt/3栋/天台门", r#"{"contact": false, "battery": 80}"#.into()),
        (
            10,
            "frigate/stats",
            r#"{"cameras": {"east_gate": {"camera_fps": 5.0}, "garage_ramp": {"camera_fps": 0.0}}}"#
                .into(),
        ),
    ]
}

/// Builds the sample site with two devices of each adapter added: their
/// messages go through each adapter's `handle` (and `tick`, once a
/// second), and the observations through the projection, as the recorder
/// does.
fn adapter_app() -> App {
    let config: AdaptersConfig = toml::from_str(
        r#"
[zigbee2mqtt]
enabled = true
interval_s = 3600

[zigbee2mqtt.devices."Pump room leak"]
name = "5栋水泵房水浸"
building = "5栋"
zone = "水泵房"

[home_assistant]
enabled = true

[home_assistant.devices."clubhouse_door"]
name = "会所正门"
building = "会所"
zone = "正门"

[frigate]
enabled = true

[frigate.devices.east_gate]
name = "东门车行道摄像机"
building = "东门"
zone = "车行道"
"#,
    )
    .expect("the adapters' configuration parses");
    let mut adapters = Adapters::new(&config);
    let mut app = sample_app();
    let now = sample_now();
    let at = |seconds_ago: i64| now - jiff::SignedDuration::from_secs(seconds_ago);
    let feed = |app: &mut App, observations: Vec<Observation>, time: jiff::Timestamp| {
        for observation in observations {
            let observed = app.projection.observe(&observation, 300);
            for body in observed.events {
                let mut event = Event::new(time, body);
                event.seq = app.projection.last_seq + 1;
                app.projection.apply(&event);
            }
            if let Some((device, seen)) = observed.heartbeat {
                app.projection.touch(&device, seen);
            }
        }
    };

    let mut ticked = 600;
    for (seconds_ago, topic, payload) in adapter_messages() {
        while ticked > seconds_ago {
            ticked -= 1;
            let ticks = adapters.tick(at(ticked));
            feed(&mut app, ticks, at(ticked));
        }
        let message = Message {
            topic,
            payload: payload.as_bytes(),
            retained: false,
            received: at(seconds_ago),
        };
        let observations = adapters
            .handle(&message)
            .unwrap_or_else(|| panic!("no adapter owns {topic}"));
        feed(&mut app, observations, at(seconds_ago));
    }
    app
}

#[test]
fn adapter_devices_beside_native_ones() {
    let app = adapter_app();
    let rows = ui::rows::device_rows(&app, &view(View::Devices), sample_now());
    let statuses: Vec<(&str, &str)> = rows
        .iter()
        .filter(|row| !row.device.registered)
        .map(|row| (row.device.spec.id.as_str(), row.status.as_str()))
        .collect();
    for expected in [
        ("z2m-pump-room-leak", "alarm"),
        ("z2m-3栋-天台门", "open"),
        ("ha-clubhouse-door", "battery_low"),
        ("ha-bike-shed-motion", "normal"),
        ("frigate-garage-ramp", "video_loss"),
        ("frigate-east-gate", "normal"),
    ] {
        assert!(
            statuses.contains(&expected),
            "{expected:?} not in {statuses:?}"
        );
    }
    assert_eq!(
        rows.len(),
        22,
        "sixteen native devices and six adapted ones"
    );
}

macro_rules! adapter_snapshot {
    ($name:ident, $lang:expr, $width:expr, $height:expr) => {
        #[test]
        fn $name() {
            let app = adapter_app();
            let backend = render(&app, &view(View::Devices), $lang, $width, $height);
            insta::assert_snapshot!(backend);
        }
    };
}

adapter_snapshot!(devices_adapters_en_80x24, Lang::En, 80, 24);
adapter_snapshot!(devices_adapters_zh_80x24, Lang::ZhCn, 80, 24);
adapter_snapshot!(devices_adapters_en_160x48, Lang::En, 160, 48);
adapter_snapshot!(devices_adapters_zh_160x48, Lang::ZhCn, 160, 48);

#[test]
fn adapter_rows_keep_cjk_columns_aligned() {
    let app = adapter_app();
    for (width, height) in [(80, 24), (160, 48)] {
        let backend = render(&app, &view(View::Devices), Lang::ZhCn, width, height);
        let buffer = backend.buffer();
        let text = screen_text(&backend);
        let header = text
            .lines()
            .position(|line| line.starts_with("状态"))
            .expect("column header");
        let column = |title: &str| {
            (0..width)
                .find(|x| buffer[(*x, header as u16)].symbol() == title)
                .unwrap_or_else(|| panic!("no {title} in the header:\n{text}"))
        };
        let (kind_x, age_x) = (column("类"), column("时"));
        let adapted: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, line)| {
                [
                    "水泵房水浸",
                    "天台门",
                    "会所正门",
                    "红外",
                    "车行道",
                    "garage_ramp",
                ]
                .iter()
                .any(|name| line.contains(name))
            })
            .map(|(y, _)| y)
            .collect();
        assert!(
            adapted.len() >= 4,
            "adapted rows at {width}×{height}:\n{text}"
        );
        for y in adapted {
            let kind = buffer[(kind_x, y as u16)].symbol();
            assert!(
                !kind.trim().is_empty()
                    && kind_x > 0
                    && buffer[(kind_x - 1, y as u16)].symbol() == " ",
                "row {y} at {width}×{height} has {kind:?} where its kind starts:\n{text}"
            );
            let age = buffer[(age_x, y as u16)].symbol();
            assert!(
                age.chars().all(|c| c.is_ascii_digit()),
                "row {y} at {width}×{height} has {age:?} at the age column:\n{text}"
            );
        }
    }
}

/// The views of the tab line with the catalog key of each one's label.
const TABS: [(View, &str); 7] = [
    (View::Alarms, "tab.alarms"),
    (View::Overview, "tab.overview"),
    (View::Devices, "tab.devices"),
    (View::Log, "tab.log"),
    (View::Tickets, "tab.tickets"),
    (View::Board, "tab.board"),
    (View::History, "tab.history"),
];

/// Returns the tab line of the screen: the second line.
fn tab_line(app: &App, state: &UiState, lang: Lang, width: u16) -> String {
    let text = screen_text(&render(app, state, lang, width, 24));
    text.lines().nth(1).unwrap_or_default().to_owned()
}

#[test]
fn tab_line_fits_80_columns() {
    let app = sample_app();
    for lang in [Lang::En, Lang::ZhCn] {
        for (current, label) in TABS {
            let line = tab_line(&app, &view(current), lang, 80);
            for key in ["0", "1", "2", "3", "4", "5", "H"] {
                assert!(
                    line.contains(&format!(" {key} ")),
                    "{current:?} {lang:?}: key {key} missing: {line}"
                );
            }
            assert!(
                line.contains(lang.t(label)),
                "{current:?} {lang:?}: the current tab is not named: {line}"
            );
            assert!(
                line.contains("19:59:59"),
                "{current:?} {lang:?}: the last message's time is cut: {line}"
            );
        }
    }
}

#[test]
fn tab_line_names_every_tab_when_wide() {
    let app = sample_app();
    for lang in [Lang::En, Lang::ZhCn] {
        let line = tab_line(&app, &view(View::Alarms), lang, 160);
        for (_, label) in TABS {
            assert!(line.contains(lang.t(label)), "{label} missing: {line}");
        }
        assert!(line.contains("19:59:59"), "{line}");
    }
}

#[test]
fn tab_line_marks_ticket_detail_as_tickets() {
    let app = sample_app();
    let mut state = view(View::Tickets);
    state.show(View::Ticket);
    let line = tab_line(&app, &state, Lang::En, 80);
    assert!(line.contains(" 4 Tickets "), "{line}");
}

#[test]
fn help_lists_view_and_service_keys() {
    use guardroom::i18n::width::pad;
    use guardroom::ui::keymap::{BINDINGS, Scope};

    let app = sample_app();
    let expected: Vec<_> = BINDINGS
        .iter()
        .filter(|binding| {
            matches!(
                binding.action,
                Action::ShowLog | Action::ShowTickets | Action::ShowBoard | Action::CreateTicket
            ) || matches!(
                binding.scope,
                Scope::Tickets | Scope::TicketActions | Scope::Board
            )
        })
        .collect();
    assert!(expected.len() > 10, "{} bindings", expected.len());
    for lang in [Lang::En, Lang::ZhCn] {
        let text = screen_text(&render(&app, &view(View::Help), lang, 80, 400));
        for binding in &expected {
            let keys: Vec<String> = binding.keys.iter().map(|key| key.label()).collect();
            let line = format!("  {}{}", pad(&keys.join(" / "), 16), lang.t(binding.help));
            assert!(
                text.lines().any(|shown| shown.trim_end() == line),
                "{lang:?}: help lacks {line:?}"
            );
        }
        for key in ["3", "4", "5"] {
            assert!(
                text.lines()
                    .any(|shown| shown.starts_with(&format!("  {key}    "))),
                "{lang:?}: help lacks key {key}"
            );
        }
    }
}

/// Joins the row of `text` that starts with `first` and its indented
/// continuation rows, with the indent removed.
fn wrapped_from(text: &str, first: &str) -> String {
    let mut lines = text.lines().skip_while(|line| !line.starts_with(first));
    let mut joined = lines.next().unwrap_or_default().trim().to_owned();
    for line in lines.take_while(|line| line.starts_with("   ")) {
        joined.push(' ');
        joined.push_str(line.trim());
    }
    joined
}

#[test]
fn long_notices_wrap_at_80_columns() {
    let mut app = sample_app();
    let link = app.projection.link.as_mut().expect("the sample has a link");
    link.online = true;
    link.session_lost = true;
    link.since = sample_now() - jiff::SignedDuration::from_mins(5);
    let mut ui = UiState::default();
    let refusal = Lang::En.tf("refusal.needs_reset", &[("alarm", &12)]);
    let refusal = format!("{refusal} {refusal}");
    ui.complain(refusal.clone(), sample_now());

    let text = screen_text(&render(&app, &ui, Lang::En, 80, 24));
    let notice = wrapped_from(&text, " ! ");
    let expected = Lang::En.tf("link.session_lost", &[("since", &"19:55:00")]);
    assert_eq!(notice, format!("! {expected}"), "{text}");
    assert!(
        !notice.contains('…'),
        "the whole notice is on screen:\n{text}"
    );
    let message_row = text
        .lines()
        .position(|line| line.starts_with(&format!(" ! {}", &refusal[..20])))
        .expect("the refusal");
    let shown = wrapped_from(&text, text.lines().nth(message_row).unwrap());
    assert_eq!(shown, format!("! {refusal}"), "{text}");
    assert!(
        text.lines().last().unwrap_or_default().contains('?'),
        "the footer stays last:\n{text}"
    );
}
