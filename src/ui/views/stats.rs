//! The statistics of the browser's period: figures one to a line, then a
//! bar chart of alarms per hour that fits 80 columns.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Paragraph};

use crate::i18n::Lang;
use crate::i18n::width::{cells, pad, truncate};
use crate::report::handover::figures;
use crate::report::stats::Stats;
use crate::ui::review::ReviewState;
use crate::ui::widgets::Ctx;

/// Items listed in one line of sources, conditions or operators.
const LISTED: usize = 4;

/// Rows of the chart, its hour labels included.
const CHART_ROWS: u16 = 6;

pub fn draw(frame: &mut Frame, area: Rect, review: &ReviewState, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let Some(stats) = &review.stats else {
        let key = if review.stats_searching {
            "duty.searching"
        } else {
            "duty.no_stats"
        };
        frame.render_widget(
            Paragraph::new(format!(" {}", lang.t(key))).style(theme.dim()),
            area,
        );
        return;
    };
    let pairs = figure_lines(stats, lang);
    let [figures_area, title_area, chart_area] = Layout::vertical([
        Constraint::Length(pairs.len() as u16),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);

    let width = area.width as usize;
    let label_cells = pairs
        .iter()
        .map(|(label, _)| cells(label))
        .max()
        .unwrap_or(0);
    let lines: Vec<Line> = pairs
        .iter()
        .map(|(label, value)| {
            let room = width.saturating_sub(label_cells + 4);
            Line::from(format!(
                " {}  {}",
                pad(label, label_cells),
                truncate(value, room)
            ))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), figures_area);

    let hours = stats.hours_in_order();
    let peak = hours.iter().map(|(_, count)| *count).max().unwrap_or(0);
    let title = lang.tf(
        "duty.per_hour",
        &[("title", &lang.t("report.stats_per_hour")), ("peak", &peak)],
    );
    frame.render_widget(
        Paragraph::new(format!(" {}", truncate(&title, width.saturating_sub(1))))
            .style(theme.accent()),
        title_area,
    );
    draw_chart(frame, chart_area, &hours, peak, ctx);
}

/// The alarms per hour as 24 bars of two cells, labelled with the hour.
fn draw_chart(frame: &mut Frame, area: Rect, hours: &[(u8, u32)], peak: u32, ctx: &Ctx) {
    let bars: Vec<Bar> = hours
        .iter()
        .map(|(hour, count)| {
            Bar::default()
                .value(u64::from(*count))
                .label(Line::from(format!("{hour:02}")))
                .text_value(String::new())
        })
        .collect();
    let area = Rect {
        x: area.x + 1,
        width: area.width.saturating_sub(1),
        height: area.height.min(CHART_ROWS),
        ..area
    };
    let chart = BarChart::default()
        .data(BarGroup::default().bars(&bars))
        .bar_width(2)
        .bar_gap(1)
        .max(u64::from(peak.max(1)))
        .bar_style(ctx.theme.accent())
        .label_style(ctx.theme.dim());
    frame.render_widget(chart, area);
}

/// The figures as label and value pairs.
fn figure_lines(stats: &Stats, lang: Lang) -> Vec<(String, String)> {
    let mut pairs = figures(stats, lang);
    let joined = |items: Vec<String>| {
        if items.is_empty() {
            "—".to_owned()
        } else {
            items.join(" · ")
        }
    };
    let privacy = crate::report::export::mask::Privacy { reveal: false };
    pairs.insert(
        2,
        (
            lang.t("report.stats_by_condition").to_owned(),
            joined(
                stats
                    .by_condition
                    .iter()
                    .take(LISTED)
                    .map(|(condition, count)| {
                        format!(
                            "{} {count}",
                            lang.t(&format!("condition.{}", condition.as_str()))
                        )
                    })
                    .collect(),
            ),
        ),
    );
    pairs.push((
        lang.t("report.stats_top_sources").to_owned(),
        joined(
            stats
                .top_sources
                .iter()
                .take(LISTED)
                .map(|source| {
                    format!(
                        "{} {}",
                        privacy.source_name(&source.source, &source.name),
                        source.raised
                    )
                })
                .collect(),
        ),
    ));
    pairs.push((
        lang.t("report.stats_operators").to_owned(),
        joined(
            stats
                .operators
                .iter()
                .take(LISTED)
                .map(|activity| {
                    lang.tf(
                        "duty.operator_activity",
                        &[
                            ("operator", &activity.operator),
                            ("alarm", &activity.alarm_actions),
                            ("entries", &activity.duty_entries),
                        ],
                    )
                })
                .collect(),
        ),
    ));
    pairs
}
