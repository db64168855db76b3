//! The device list: every device with its status, location and the time
//! since it was last heard, filtered and sorted as the operator chose.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::app::App;
use crate::i18n::width::truncate;
use crate::ui::rows::{DeviceRow, device_rows_head};
use crate::ui::state::{StatusFilter, UiState};
use crate::ui::widgets::{Ctx, age, status_style, status_text};

/// Optional columns that fit the width.
#[derive(Clone, Copy, Debug)]
pub struct Columns {
    pub id: bool,
    pub kind: bool,
}

impl Columns {
    pub fn for_width(width: u16) -> Self {
        Self {
            id: width >= 110,
            kind: width >= 70,
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    // Only the rows up to the selection and one screenful are sorted.
    let wanted = ui.selected + area.height as usize;
    let (total, rows) = device_rows_head(app, ui, ctx.now, wanted);
    let title = title(app, ui, total, ctx);
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Line::from(truncate(&title, area.width as usize)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(ctx.lang.t("devices.none")).style(ctx.theme.dim()),
            inner,
        );
        return;
    }
    device_table(
        frame,
        inner,
        &rows,
        ui.selected,
        Columns::for_width(inner.width),
        ctx,
    );
}

/// `Devices 12/320 · filter "东门" · kind door · …`
fn title(app: &App, ui: &UiState, shown: usize, ctx: &Ctx) -> String {
    let lang = ctx.lang;
    let mut parts = vec![lang.tf(
        "devices.title",
        &[("shown", &shown), ("total", &app.projection.devices.len())],
    )];
    if !ui.filter.is_empty() {
        parts.push(lang.tf("devices.filter", &[("text", &ui.filter)]));
    }
    if let Some(kind) = ui.kind {
        parts.push(lang.tf(
            "devices.kind",
            &[("kind", &lang.t(&format!("kind.{}", kind.as_str())))],
        ));
    }
    match ui.status {
        StatusFilter::All => {}
        StatusFilter::Abnormal => parts.push(lang.t("devices.abnormal").to_owned()),
        StatusFilter::Only(status) => parts.push(lang.tf(
            "devices.status",
            &[(
                "status",
                &lang.t(&format!("device_status.{}", status.as_str())),
            )],
        )),
    }
    if let Some(building) = &ui.building {
        parts.push(lang.tf("devices.building", &[("building", building)]));
    }
    parts.push(lang.tf("devices.sort", &[("key", &lang.t(ui.sort.key()))]));
    format!(" {} ", parts.join(" · "))
}

/// Draws a device table with only the rows that fit, scrolled so that
/// `selected` is visible; rows outside the window are never built.
pub fn device_table(
    frame: &mut Frame,
    area: Rect,
    rows: &[DeviceRow],
    selected: usize,
    columns: Columns,
    ctx: &Ctx,
) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let visible = area.height.saturating_sub(1) as usize;
    if visible == 0 {
        return;
    }
    let selected = selected.min(rows.len().saturating_sub(1));
    let offset = selected.saturating_sub(visible - 1);
    let window = &rows[offset..rows.len().min(offset + visible)];

    let mut header = vec![Cell::from(lang.t("devices.col_status"))];
    let mut widths = vec![Constraint::Length(14)];
    if columns.id {
        header.push(Cell::from(lang.t("devices.col_id")));
        widths.push(Constraint::Length(18));
    }
    header.push(Cell::from(lang.t("devices.col_name")));
    widths.push(Constraint::Fill(2));
    if columns.kind {
        header.push(Cell::from(lang.t("devices.col_kind")));
        widths.push(Constraint::Length(10));
    }
    header.push(Cell::from(lang.t("devices.col_location")));
    widths.push(Constraint::Fill(1));
    header.push(Cell::from(lang.t("devices.col_age")));
    widths.push(Constraint::Length(5));

    let table_rows = window.iter().enumerate().map(|(index, row)| {
        let device = row.device;
        let mut cells =
            vec![Cell::from(status_text(row.status, lang)).style(status_style(row.status, theme))];
        if columns.id {
            cells.push(Cell::from(device.spec.id.clone()));
        }
        let mut name = device.spec.name.clone();
        if !device.registered {
            name = format!("{} {name}", lang.t("devices.unregistered_mark"));
        }
        cells.push(Cell::from(name));
        if columns.kind {
            let kind = match device.spec.class {
                Some(class) => lang.t(&format!("class.{}", class.as_str())),
                None => lang.t(&format!("kind.{}", device.spec.kind.as_str())),
            };
            cells.push(Cell::from(kind));
        }
        cells.push(Cell::from(location(
            &device.spec.building,
            &device.spec.zone,
        )));
        cells.push(Cell::from(age(device.last_seen, ctx)));
        let style = if offset + index == selected {
            theme.selected()
        } else {
            theme.base()
        };
        Row::new(cells).style(style)
    });

    let table = Table::new(table_rows, widths)
        .header(Row::new(header).style(theme.dim()))
        .column_spacing(1);
    frame.render_widget(table, area);
}

pub use crate::ui::alerts::location;
