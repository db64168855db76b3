//! The login and lock screens drawn into ratatui's TestBackend at 80×24,
//! in both languages: the fields with the PIN as dots, the tries left, and
//! the alarm queue still listed below a locked console.

use guardroom::app::{Access, App, Current};
use guardroom::domain::operator::Role;
use guardroom::i18n::Lang;
use guardroom::theme::Theme;
use guardroom::ui::login::{LoginField, LoginForm};
use guardroom::ui::sample::{sample_app, sample_now};
use guardroom::ui::state::UiState;
use guardroom::ui::widgets::Ctx;
use guardroom::ui::{self, keymap::Scope};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn render(app: &App, state: &UiState, lang: Lang) -> TestBackend {
    let theme = Theme::resolve("default").unwrap();
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

/// Builds a console where no operator has logged in yet, with an id and a PIN typed.
fn login_app() -> (App, UiState) {
    let mut app = sample_app();
    app.access = Access::Operators {
        current: None,
        locked: false,
    };
    let state = UiState {
        login: LoginForm {
            id: "g1".into(),
            pin: "2468".into(),
            field: LoginField::Pin,
            error: None,
        },
        ..UiState::default()
    };
    (app, state)
}

/// Builds a console locked by its operator, after a wrong PIN at the lock screen.
fn locked_app(lang: Lang) -> (App, UiState) {
    let mut app = sample_app();
    app.access = Access::Operators {
        current: Some(Current {
            id: "g1".into(),
            name: "值班员甲".into(),
            role: Role::Guard,
            since: sample_now() - jiff::SignedDuration::from_mins(95),
        }),
        locked: true,
    };
    let error = guardroom::ui::login::error_text(
        &guardroom::app::LoginError::Wrong { remaining: 2 },
        lang,
        &app,
    );
    let state = UiState {
        login: LoginForm {
            id: "g1".into(),
            pin: String::new(),
            field: LoginField::Pin,
            error: Some(error),
        },
        ..UiState::default()
    };
    (app, state)
}

#[test]
fn login_en_80x24() {
    let (app, state) = login_app();
    insta::assert_snapshot!(render(&app, &state, Lang::En));
}

#[test]
fn login_zh_80x24() {
    let (app, state) = login_app();
    insta::assert_snapshot!(render(&app, &state, Lang::ZhCn));
}

#[test]
fn lock_en_80x24() {
    let (app, state) = locked_app(Lang::En);
    insta::assert_snapshot!(render(&app, &state, Lang::En));
}

#[test]
fn lock_zh_80x24() {
    let (app, state) = locked_app(Lang::ZhCn);
    insta::assert_snapshot!(render(&app, &state, Lang::ZhCn));
}

#[test]
fn pin_never_drawn() {
    let (app, state) = login_app();
    for lang in [Lang::En, Lang::ZhCn] {
        let backend = render(&app, &state, lang);
        let text: String = backend
            .buffer()
            .content()
            .iter()
            .map(|cell| cell.symbol())
            .collect();
        assert!(!text.contains("2468"), "the PIN is on screen");
        assert!(text.contains("••••"), "the PIN shows as dots");
    }
}

#[test]
fn lock_screen_lists_alarms() {
    let (app, state) = locked_app(Lang::En);
    let backend = render(&app, &state, Lang::En);
    let text: String = backend
        .buffer()
        .content()
        .iter()
        .map(|cell| cell.symbol())
        .collect();
    let first = app
        .projection
        .alarms
        .open
        .values()
        .next()
        .expect("the sample has open alarms");
    let name: String = first.name.chars().take(2).collect();
    assert!(text.contains(&name), "alarm {} not listed", first.name);
}

#[test]
fn logged_in_footer_shows_lock_key() {
    let mut app = sample_app();
    app.access = Access::Operators {
        current: Some(Current {
            id: "g1".into(),
            name: "值班员甲".into(),
            role: Role::Guard,
            since: sample_now(),
        }),
        locked: false,
    };
    let state = UiState::default();
    assert!(ui::session_scopes(&app, &state).contains(&Scope::Session));
    let backend = render(&app, &state, Lang::En);
    let footer: String = backend.buffer().content()[80 * 23..]
        .iter()
        .map(|cell| cell.symbol())
        .collect();
    assert!(footer.contains("L lock"), "{footer}");
    let header: String = backend.buffer().content()[..80]
        .iter()
        .map(|cell| cell.symbol())
        .collect();
    assert!(header.contains("g1"), "{header}");
}
