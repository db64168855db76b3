//! Closed alarms, newest first: how each ended, who closed it, and how long
//! it took to acknowledge and to close.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::app::App;
use crate::domain::alarm::Alarm;
use crate::i18n::width::{cells, truncate};
use crate::ui::alerts::location;
use crate::ui::rows::history_rows;
use crate::ui::state::UiState;
use crate::ui::views::alarms::{column_widths, cut_cells, share};
use crate::ui::widgets::{Ctx, condition_text, priority_style, short_time, span_text};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    let lang = ctx.lang;
    let rows = history_rows(app, ui);
    let mut title = lang.tf(
        "history.title",
        &[
            ("shown", &rows.len()),
            ("total", &app.projection.alarms.closed.len()),
        ],
    );
    if !ui.history_filter.is_empty() {
        title = format!(
            "{title}· {} ",
            lang.tf("queue.filter", &[("text", &ui.history_filter)])
        );
    }
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Line::from(truncate(&title, area.width as usize)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        let key = if ui.history_filter.is_empty() {
            "history.none"
        } else {
            "history.none_filtered"
        };
        frame.render_widget(Paragraph::new(lang.t(key)).style(ctx.theme.dim()), inner);
        return;
    }
    table(frame, inner, &rows, ui.history_selected, ctx);
}

/// The text of one row's cells.
struct RowText {
    closed: String,
    priority: &'static str,
    id: String,
    condition: String,
    name: String,
    location: String,
    disposition: String,
    by: String,
    to_ack: String,
    to_close: String,
}

fn row_text(alarm: &Alarm, ctx: &Ctx) -> RowText {
    let lang = ctx.lang;
    let closure = alarm.closed.as_ref();
    let span = |at: Option<jiff::Timestamp>| {
        at.map_or_else(
            || "-".to_owned(),
            |at| span_text(at.duration_since(alarm.raised_at), lang),
        )
    };
    RowText {
        closed: closure.map_or_else(|| "-".to_owned(), |c| short_time(c.at, ctx)),
        priority: alarm.priority.as_str(),
        id: format!("#{}", alarm.id),
        condition: condition_text(alarm, lang).to_owned(),
        name: alarm.name.clone(),
        location: location(&alarm.building, &alarm.zone),
        disposition: closure.map_or_else(
            || "-".to_owned(),
            |c| {
                lang.t(&format!("disposition.{}", c.disposition.as_str()))
                    .to_owned()
            },
        ),
        by: closure.map_or_else(
            || "-".to_owned(),
            |c| {
                if c.by == crate::domain::alarm::change::SYSTEM {
                    lang.t("alarm.system").to_owned()
                } else {
                    c.by.clone()
                }
            },
        ),
        to_ack: span(alarm.acknowledged_at),
        to_close: span(closure.map(|c| c.at)),
    }
}

fn table(frame: &mut Frame, area: Rect, rows: &[&Alarm], selected: usize, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let visible = area.height.saturating_sub(1) as usize;
    if visible == 0 {
        return;
    }
    let wide = area.width >= 100;
    let selected = selected.min(rows.len().saturating_sub(1));
    let offset = selected.saturating_sub(visible - 1);
    let window = &rows[offset..rows.len().min(offset + visible)];
    let texts: Vec<RowText> = window.iter().map(|alarm| row_text(alarm, ctx)).collect();
    let fit = |header: &str, cell: fn(&RowText) -> &str| -> Constraint {
        let widest = texts
            .iter()
            .map(|text| cells(cell(text)))
            .max()
            .unwrap_or(0);
        Constraint::Length(widest.max(cells(lang.t(header))) as u16)
    };

    let mut header = vec![
        Cell::from(lang.t("history.col_closed")),
        Cell::from(lang.t("queue.col_priority")),
    ];
    let mut widths = vec![
        fit("history.col_closed", |t| &t.closed),
        Constraint::Length(2),
    ];
    if wide {
        header.push(Cell::from(lang.t("queue.col_id")));
        widths.push(fit("queue.col_id", |t| &t.id));
    }
    header.push(Cell::from(lang.t("queue.col_condition")));
    widths.push(fit("queue.col_condition", |t| &t.condition));
    let natural = |cell: fn(&RowText) -> &str| -> u16 {
        texts
            .iter()
            .map(|text| cells(cell(text)))
            .max()
            .unwrap_or(0) as u16
    };
    let after: Vec<u16> = [
        (|t: &RowText| t.disposition.as_str()) as fn(&RowText) -> &str,
        |t| &t.by,
        |t| &t.to_ack,
        |t| &t.to_close,
    ]
    .into_iter()
    .zip([
        "history.col_disposition",
        "history.col_by",
        "history.col_to_ack",
        "history.col_to_close",
    ])
    .map(|(cell, key)| natural(cell).max(cells(lang.t(key)) as u16))
    .collect();
    let name_cells = natural(|t| &t.name).max(cells(lang.t("queue.col_name")) as u16);
    let location_cells = if wide {
        natural(|t| &t.location).max(cells(lang.t("queue.col_location")) as u16)
    } else {
        0
    };
    let [name, location] = share(
        &widths,
        [name_cells, location_cells],
        [2, 1],
        &after,
        area.width,
    );
    header.push(Cell::from(lang.t("queue.col_name")));
    widths.push(name);
    if wide {
        header.push(Cell::from(lang.t("queue.col_location")));
        widths.push(location);
    }
    for (key, cells) in [
        "history.col_disposition",
        "history.col_by",
        "history.col_to_ack",
        "history.col_to_close",
    ]
    .into_iter()
    .zip(after)
    {
        header.push(Cell::from(lang.t(key)));
        widths.push(Constraint::Length(cells));
    }

    let cut = column_widths(&widths, area.width);
    let table_rows = window
        .iter()
        .zip(texts)
        .enumerate()
        .map(|(index, (alarm, text))| {
            let plain = Style::default();
            let mut cells = vec![
                (text.closed, plain),
                (
                    text.priority.to_owned(),
                    priority_style(alarm.priority, theme),
                ),
            ];
            if wide {
                cells.push((text.id, plain));
            }
            cells.push((text.condition, plain));
            cells.push((text.name, plain));
            if wide {
                cells.push((text.location, plain));
            }
            cells.extend([
                (text.disposition, plain),
                (text.by, plain),
                (text.to_ack, plain),
                (text.to_close, plain),
            ]);
            let style = if offset + index == selected {
                theme.selected()
            } else {
                theme.base()
            };
            Row::new(cut_cells(cells, &cut)).style(style)
        });
    let table = Table::new(table_rows, widths)
        .header(Row::new(header).style(theme.dim()))
        .column_spacing(1);
    frame.render_widget(table, area);
}
