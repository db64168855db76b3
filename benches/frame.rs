//! Drawing one frame into an off-screen buffer of a full-HD-sized terminal
//! (200×60): the device list and the overview with 10,000 devices, and the
//! alarm queue with 10,000 open alarms, grouped and not.

use criterion::{Criterion, criterion_group, criterion_main};
use guardroom::i18n::Lang;
use guardroom::theme::Theme;
use guardroom::ui::sample::{large_alarm_app, large_app, sample_now};
use guardroom::ui::state::{Grouping, UiState, View};
use guardroom::ui::widgets::Ctx;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn frames(c: &mut Criterion) {
    let app = large_app(10_000);
    let theme = Theme::resolve("default").unwrap();
    let ctx = Ctx {
        lang: Lang::ZhCn,
        theme: &theme,
        now: sample_now(),
        time_zone: &app.site.time_zone,
    };
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();

    for (name, view) in [
        ("devices_10k", View::Devices),
        ("overview_10k", View::Overview),
    ] {
        let mut state = UiState::default();
        state.show(view);
        c.bench_function(name, |b| {
            b.iter(|| {
                terminal
                    .draw(|frame| guardroom::ui::draw(frame, &app, &state, &ctx))
                    .unwrap();
            });
        });
    }

    let mut filtered = UiState::default();
    filtered.show(View::Devices);
    filtered.filter = "3栋".into();
    c.bench_function("devices_10k_filtered", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| guardroom::ui::draw(frame, &app, &filtered, &ctx))
                .unwrap();
        });
    });

    let alarms = large_alarm_app(10_000);
    assert_eq!(alarms.projection.alarms.open.len(), 10_000);
    for (name, grouping) in [
        ("alarms_10k_grouped", Grouping::On),
        ("alarms_10k_ungrouped", Grouping::Off),
    ] {
        let state = UiState {
            grouping,
            ..UiState::default()
        };
        c.bench_function(name, |b| {
            b.iter(|| {
                terminal
                    .draw(|frame| guardroom::ui::draw(frame, &alarms, &state, &ctx))
                    .unwrap();
            });
        });
    }
}

criterion_group!(benches, frames);
criterion_main!(benches);
