//! Screen snapshots: the console drawn into ratatui's TestBackend at the
//! sizes guards and maintenance staff use, in both languages.

use guardroom::app::App;
use guardroom::i18n::Lang;
use guardroom::theme::Theme;
use guardroom::ui::sample::{sample_app, sample_now};
use guardroom::ui::state::{UiState, View};
use guardroom::ui::widgets::Ctx;
use guardroom::ui::{self, keymap::Action};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

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
    let app = sample_app();
    let mut state = view(View::Devices);
    // The list is sorted by status, most urgent first: the forced door leads.
    ui::apply(&app, &mut state, Action::Open, sample_now());
    assert_eq!(state.detail.as_deref(), Some("b2-door-garage"));
    insta::assert_snapshot!(render(&app, &state, Lang::ZhCn, 80, 24));
    insta::assert_snapshot!(render(&app, &state, Lang::En, 80, 24));
}

#[test]
fn quit_asks_first() {
    let app = sample_app();
    let mut state = view(View::Overview);
    ui::apply(&app, &mut state, Action::Quit, sample_now());
    assert!(state.confirm_quit, "q must ask before quitting");
    assert!(!state.quit, "q alone must not quit");
    insta::assert_snapshot!(render(&app, &state, Lang::En, 80, 24));
    ui::apply(&app, &mut state, Action::Confirm, sample_now());
    assert!(state.quit);
}

#[test]
fn tiny_sizes_do_not_panic() {
    let app = sample_app();
    for view_kind in [View::Overview, View::Devices, View::Detail, View::Help] {
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
    let app = sample_app();
    let mut state = view(View::Help);
    let first = render(&app, &state, Lang::En, 80, 24);
    ui::apply(&app, &mut state, Action::Bottom, sample_now());
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
        !text(&first).contains("Status marks"),
        "the legend starts below the first page"
    );
    assert!(
        text(&last).contains("Status marks"),
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
