//! Drawing one frame of the device list and the overview with 10,000
//! devices into an off-screen buffer of a full-HD-sized terminal.

use criterion::{Criterion, criterion_group, criterion_main};
use guardroom::i18n::Lang;
use guardroom::theme::Theme;
use guardroom::ui::sample::{large_app, sample_now};
use guardroom::ui::state::{UiState, View};
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
    filtered.filter = "3号楼".into();
    c.bench_function("devices_10k_filtered", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| guardroom::ui::draw(frame, &app, &filtered, &ctx))
                .unwrap();
        });
    });
}

criterion_group!(benches, frames);
criterion_main!(benches);
