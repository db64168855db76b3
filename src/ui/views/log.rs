//! The log browser: a line with the period and filters, then the log's
//! entries newest first with time, type, priority, source, operator and
//! text, or the statistics of the period. A correction stands below the
//! entry it corrects, marked `↳`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::domain::EventBody;
use crate::domain::alarm::{ActionKind, Flood};
use crate::domain::privacy::DataKind;
use crate::i18n::width::{cells, pad, truncate};
use crate::report::service_log::service_row;
use crate::store::log::LogRow;
use crate::ui::review::{Period, ReviewState, entry_key, kind_choices};
use crate::ui::services::ServicesState;
use crate::ui::state::UiState;
use crate::ui::views::board::shown;
use crate::ui::widgets::{Ctx, priority_style};

/// Column widths in cells: time, type, priority, source, operator.
const TIME: usize = 5;
const TIME_LONG: usize = 11;
const KIND: usize = 12;
const PRIORITY: usize = 2;
const SOURCE: usize = 14;
const OPERATOR: usize = 8;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    let review = &ui.review;
    let [filters, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(area);
    draw_filters(frame, filters, app, review, ctx);
    if review.show_stats {
        super::stats::draw(frame, body, review, ctx);
    } else {
        draw_rows(frame, body, app, ui, ctx);
    }
}

/// The period and the filters on the first line, the export format and
/// the search state on the second.
fn draw_filters(frame: &mut Frame, area: Rect, app: &App, review: &ReviewState, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let all = lang.t("duty.all");
    let range = review.range(&app.duty.schedule, ctx.time_zone, ctx.now);
    let period = match review.period {
        Period::Shift => lang.tf("duty.period_shift", &[("shift", &range.label)]),
        Period::Day => lang.tf("duty.period_day", &[("day", &range.label)]),
        Period::Week => lang.tf("duty.period_week", &[("days", &range.label)]),
    };
    let kind = review
        .kind
        .and_then(|index| kind_choices().get(index).map(|(key, _)| lang.t(key)))
        .unwrap_or(all);
    let priority = review
        .priority
        .map_or_else(|| all.to_owned(), |p| format!("≤{}", p.as_str()));
    let operator = review.operator.as_deref().unwrap_or(all);
    let first = lang.tf(
        "duty.filters",
        &[
            ("kind", &kind),
            ("priority", &priority),
            ("operator", &operator),
        ],
    );
    let width = area.width as usize;
    let line = Line::from(vec![
        Span::styled(
            format!(" {period} "),
            theme.selected().add_modifier(Modifier::BOLD),
        ),
        Span::raw(" "),
        Span::raw(truncate(&first, width.saturating_sub(cells(&period) + 3))),
    ]);

    let state = if review.searching || review.stats_searching {
        lang.t("duty.searching").to_owned()
    } else if let Some(error) = &review.error {
        lang.tf("duty.query_failed", &[("error", error)])
    } else {
        let more = if review.next_before.is_some() {
            "+"
        } else {
            ""
        };
        lang.tf(
            "duty.count",
            &[("count", &format!("{}{more}", review.rows.len()))],
        )
    };
    let search = if review.text.is_empty() {
        String::new()
    } else {
        format!("/{}  ", review.text)
    };
    let format = lang.tf("duty.format", &[("format", &review.format.extension())]);
    let left = format!(" {search}{format}");
    let gap = width.saturating_sub(cells(&left) + cells(&state) + 1);
    let second = Line::from(vec![
        Span::styled(left, theme.dim()),
        Span::raw(" ".repeat(gap)),
        Span::styled(state, theme.accent()),
    ]);
    frame.render_widget(Paragraph::new(vec![line, second]), area);
}

fn draw_rows(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    let review = &ui.review;
    let lang = ctx.lang;
    let theme = ctx.theme;
    let width = area.width as usize;
    let long = review.period != Period::Shift;
    let time_cells = if long { TIME_LONG } else { TIME };
    let fixed = time_cells + KIND + PRIORITY + SOURCE + OPERATOR + 6;
    let text_cells = width.saturating_sub(fixed);

    let heading = [
        pad(lang.t("report.col_time"), time_cells),
        pad(lang.t("report.col_type"), KIND),
        pad("P", PRIORITY),
        pad(lang.t("report.col_source"), SOURCE),
        pad(lang.t("report.col_operator"), OPERATOR),
        lang.t("report.col_text").to_owned(),
    ]
    .join(" ");
    let mut lines = vec![Line::styled(
        truncate(&format!(" {heading}"), width),
        theme.dim().add_modifier(Modifier::UNDERLINED),
    )];

    let shown = review.shown();
    if shown.is_empty() && !review.searching {
        lines.push(Line::styled(
            format!(" {}", lang.t("duty.no_rows")),
            theme.dim(),
        ));
    }
    // Keep the selection in view.
    let visible = (area.height as usize).saturating_sub(1);
    let first = (review.selected + 1).saturating_sub(visible);
    for (position, (index, correction)) in shown.iter().enumerate().skip(first).take(visible) {
        let row = &review.rows[*index];
        let cells_of = row_cells(app, &ui.services, row, long, ctx);
        let text = if *correction {
            format!("↳ {}", cells_of.text)
        } else {
            cells_of.text
        };
        let mut spans = vec![
            Span::raw(" "),
            Span::raw(pad(&truncate(&cells_of.time, time_cells), time_cells)),
            Span::raw(" "),
            Span::raw(pad(&truncate(&cells_of.kind, KIND), KIND)),
            Span::raw(" "),
            Span::styled(
                pad(&cells_of.priority, PRIORITY),
                row.priority
                    .map_or_else(Style::default, |p| priority_style(p, theme)),
            ),
            Span::raw(" "),
            Span::raw(pad(&truncate(&cells_of.source, SOURCE), SOURCE)),
            Span::raw(" "),
            Span::raw(pad(&truncate(&cells_of.operator, OPERATOR), OPERATOR)),
            Span::raw(" "),
            Span::raw(truncate(&text, text_cells)),
        ];
        let used: usize = spans.iter().map(|span| cells(&span.content)).sum();
        spans.push(Span::raw(" ".repeat(width.saturating_sub(used))));
        let line = Line::from(spans);
        lines.push(if position == review.selected {
            line.style(theme.selected())
        } else {
            line
        });
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The texts of one row.
pub struct RowCells {
    pub time: String,
    pub kind: String,
    pub priority: String,
    pub source: String,
    pub operator: String,
    pub text: String,
}

/// Formats a log row for the browser. Residents' phone numbers in texts are
/// masked, as in exports. An eldercare row names the resident by id and by
/// name, masked as the board masks it: in clear only after this session
/// revealed it.
pub fn row_cells(
    app: &App,
    services: &ServicesState,
    row: &LogRow,
    long: bool,
    ctx: &Ctx,
) -> RowCells {
    let lang = ctx.lang;
    let zoned = row.at.to_zoned_datetime(ctx.time_zone.clone());
    let time = if long {
        zoned.strftime("%m-%d %H:%M").to_string()
    } else {
        zoned.strftime("%H:%M").to_string()
    };
    let privacy = crate::report::export::mask::Privacy { reveal: false };
    let alarm_name = |id: u64| {
        app.projection.alarms.get(id).map_or_else(
            || format!("#{id}"),
            |alarm| privacy.source_name(&alarm.source, &alarm.name),
        )
    };
    let device_name = |id: &str| {
        app.projection
            .devices
            .get(id)
            .map_or_else(|| id.to_owned(), |device| device.spec.name.clone())
    };
    let transition = |key: &str| {
        lang.try_t(&format!("transition.{key}"))
            .unwrap_or(key)
            .to_owned()
    };

    if let Some(service) = service_row(&row.body, lang, privacy, &|id| {
        resident_subject(app, services, id)
    }) {
        return RowCells {
            time,
            kind: service.kind,
            priority: priority_cell(row),
            source: service.subject,
            operator: row
                .operator
                .clone()
                .or(service.operator)
                .unwrap_or_default(),
            text: service.text,
        };
    }

    let (kind, source, text) = match &row.body {
        EventBody::AlarmRaised { raise } => (
            transition("raised"),
            privacy.source_name(&raise.source, &raise.name),
            match &raise.text {
                Some(text) => format!(
                    "{}: {}",
                    lang.t(&format!("condition.{}", raise.condition.as_str())),
                    privacy.text(text)
                ),
                None => lang
                    .t(&format!("condition.{}", raise.condition.as_str()))
                    .to_owned(),
            },
        ),
        EventBody::AlarmChanged { alarm, change } => (
            transition(change.as_str()),
            alarm_name(*alarm),
            String::new(),
        ),
        EventBody::AlarmActed { action } => (
            transition(action.kind.as_str()),
            action.alarm.map(alarm_name).unwrap_or_default(),
            privacy.text(&action.remark),
        ),
        EventBody::DutyRecorded { action } => {
            let kind = match &action.kind {
                ActionKind::Note { entry, .. } => lang.t(entry_key(*entry)).to_owned(),
                other => lang
                    .try_t(&format!("report.log_{}", other.as_str()))
                    .map_or_else(|| transition(other.as_str()), str::to_owned),
            };
            let source = match &action.kind {
                ActionKind::HandOver { shift } | ActionKind::TakeOver { shift, .. } => {
                    shift.clone()
                }
                _ => String::new(),
            };
            (kind, source, privacy.text(&action.remark))
        }
        EventBody::AlarmFlood { flood } => match flood {
            Flood::Started { rate } => (
                lang.t("report.log_flood_started").to_owned(),
                String::new(),
                lang.tf("report.flood_rate", &[("rate", rate)]),
            ),
            Flood::Ended {
                raised, peak_rate, ..
            } => (
                lang.t("report.log_flood_ended").to_owned(),
                String::new(),
                lang.tf(
                    "report.flood_summary",
                    &[("raised", raised), ("peak", peak_rate)],
                ),
            ),
        },
        other => (
            lang.try_t(&format!("duty.event_{}", other.kind()))
                .unwrap_or(other.kind())
                .to_owned(),
            other.device().map(device_name).unwrap_or_default(),
            String::new(),
        ),
    };
    RowCells {
        time,
        kind,
        priority: priority_cell(row),
        source,
        operator: row.operator.clone().unwrap_or_default(),
        text,
    }
}

fn priority_cell(row: &LogRow) -> String {
    row.priority
        .map_or_else(String::new, |p| p.as_str().to_owned())
}

/// Formats a resident as `id name`, the name shown as the board shows it.
fn resident_subject(app: &App, services: &ServicesState, id: &str) -> String {
    let name = app
        .projection
        .services
        .setup
        .residents
        .iter()
        .find(|resident| resident.id == id)
        .map(|resident| shown(services, DataKind::ResidentName, id, &resident.name));
    match name {
        Some(name) => format!("{id} {name}"),
        None => id.to_owned(),
    }
}
