//! The overview: device counts by kind and status, the link and data
//! freshness, and the devices that need a look now.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::devices::{Columns, device_table};
use crate::app::{App, Counts};
use crate::domain::device::Availability;
use crate::domain::{DeviceKind, DeviceStatus};
use crate::ui::rows::attention_rows;
use crate::ui::widgets::{Ctx, status_mark};

/// Statuses summed into the "abnormal" column.
const ABNORMAL: [DeviceStatus; 7] = [
    DeviceStatus::Forced,
    DeviceStatus::Alarm,
    DeviceStatus::Tamper,
    DeviceStatus::VideoLoss,
    DeviceStatus::Fault,
    DeviceStatus::HeldOpen,
    DeviceStatus::BatteryLow,
];

/// The columns of the counts table: a label key and the statuses summed.
const COLUMNS: [(&str, &[DeviceStatus]); 7] = [
    ("overview.col_normal", &[DeviceStatus::Normal]),
    ("overview.col_open", &[DeviceStatus::Open]),
    ("overview.col_abnormal", &ABNORMAL),
    ("overview.col_stale", &[DeviceStatus::Stale]),
    ("overview.col_offline", &[DeviceStatus::Offline]),
    ("overview.col_unknown", &[DeviceStatus::Unknown]),
    ("overview.col_data_error", &[DeviceStatus::DataError]),
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App, selected: usize, ctx: &Ctx) {
    let counts = app.counts(ctx.now);
    let [table_area, info_area, list_area] = Layout::vertical([
        // Title, column header, one row per kind shown, and the total.
        Constraint::Length(kinds_shown(&counts) as u16 + 3),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);

    draw_counts(frame, table_area, &counts, ctx);
    draw_info(frame, info_area, app, &counts, ctx);

    // Only the rows up to the selection and one screenful are sorted.
    let wanted = selected + list_area.height as usize;
    let (total, attention) = attention_rows(app, ctx.now, wanted);
    let title = ctx.lang.tf("overview.attention", &[("count", &total)]);
    let block = Block::default().borders(Borders::TOP).title(title);
    let inner = block.inner(list_area);
    frame.render_widget(block, list_area);
    if attention.is_empty() {
        frame.render_widget(
            Paragraph::new(ctx.lang.t("overview.all_clear")).style(ctx.theme.dim()),
            inner,
        );
    } else {
        device_table(
            frame,
            inner,
            &attention,
            selected,
            Columns::for_width(inner.width),
            ctx,
        );
    }
}

/// Kinds with a row in the table: unknown-kind devices only when there are some.
fn kinds_shown(counts: &Counts) -> usize {
    DeviceKind::ALL
        .iter()
        .filter(|kind| **kind != DeviceKind::Unknown || counts.kind_total(**kind) > 0)
        .count()
}

fn draw_counts(frame: &mut Frame, area: Rect, counts: &Counts, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let mut header = vec![Cell::from(""), Cell::from(lang.t("overview.col_total"))];
    header.extend(COLUMNS.iter().map(|(label, _)| Cell::from(lang.t(label))));

    let sum = |kind: Option<DeviceKind>, statuses: &[DeviceStatus]| -> usize {
        statuses
            .iter()
            .map(|status| match kind {
                Some(kind) => counts.get(kind, *status),
                None => counts.status_total(*status),
            })
            .sum()
    };
    let number_cell = |value: usize, statuses: &[DeviceStatus]| {
        let style = if value > 0 && statuses.iter().any(|status| status.is_abnormal()) {
            crate::ui::widgets::status_style(statuses[0], theme)
        } else if value == 0 {
            theme.dim()
        } else {
            theme.base()
        };
        Cell::from(value.to_string()).style(style)
    };

    let mut rows = Vec::new();
    for kind in DeviceKind::ALL {
        if kind == DeviceKind::Unknown && counts.kind_total(kind) == 0 {
            continue;
        }
        let mut cells = vec![
            Cell::from(lang.t(&format!("kind.{}", kind.as_str()))),
            Cell::from(counts.kind_total(kind).to_string()),
        ];
        cells.extend(
            COLUMNS
                .iter()
                .map(|(_, statuses)| number_cell(sum(Some(kind), statuses), statuses)),
        );
        rows.push(Row::new(cells));
    }
    let mut total = vec![
        Cell::from(lang.t("overview.row_total")),
        Cell::from(counts.total().to_string()),
    ];
    total.extend(
        COLUMNS
            .iter()
            .map(|(_, statuses)| number_cell(sum(None, statuses), statuses)),
    );
    rows.push(Row::new(total).style(theme.base().add_modifier(Modifier::BOLD)));

    let mut widths = vec![Constraint::Length(10), Constraint::Length(6)];
    widths.extend(COLUMNS.iter().map(|_| Constraint::Length(8)));
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.dim()))
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(lang.t("overview.devices_title")),
        )
        .column_spacing(1);
    frame.render_widget(table, area);
}

fn draw_info(frame: &mut Frame, area: Rect, app: &App, counts: &Counts, ctx: &Ctx) {
    let lang = ctx.lang;
    let gateways = app.projection.gateways.len();
    let gateways_offline = app
        .projection
        .gateways
        .values()
        .filter(|gateway| gateway.availability == Availability::Offline)
        .count();
    let mut spans = vec![Span::raw(lang.tf(
        "overview.gateways",
        &[("total", &gateways), ("offline", &gateways_offline)],
    ))];
    if gateways_offline > 0 {
        spans[0] = Span::styled(
            format!(
                "{} {}",
                status_mark(DeviceStatus::Offline),
                spans[0].content
            ),
            crate::ui::widgets::status_style(DeviceStatus::Offline, ctx.theme),
        );
    }
    spans.push(Span::raw("   "));
    spans.push(Span::raw(
        lang.tf("overview.unregistered", &[("count", &counts.unregistered)]),
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
