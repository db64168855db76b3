//! Today's eldercare board, one resident's history, and the dialogs of the
//! ticket and eldercare screens. Names, phone numbers and rooms are masked
//! unless this session revealed them.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::dialog::{centred, clear};
use crate::app::App;
use crate::domain::care::{BoardRow, DayStatus, Resident};
use crate::domain::privacy::DataKind;
use crate::i18n::width::{cells, truncate};
use crate::report::care::{entry_text, reason_text, stage_text};
use crate::ui::services::{Focus, OUTCOMES, Purpose, ServiceDialog, ServicesState, board_rows};
use crate::ui::state::UiState;
use crate::ui::widgets::{Ctx, rows_around, short_age, short_time, tail_fit, wrap};

/// Column widths in cells: status, name, location, last activity.
const WIDTHS: [u16; 4] = [12, 8, 16, 11];

/// Returns `value` in clear when this session revealed it, else masked.
pub fn shown(services: &ServicesState, kind: DataKind, subject: &str, value: &str) -> String {
    if services.is_revealed(kind, subject) {
        value.to_owned()
    } else {
        kind.mask(value)
    }
}

/// Formats where a resident lives: building and unit, and the room masked
/// unless revealed.
fn location(services: &ServicesState, resident: &Resident) -> String {
    let room = shown(
        services,
        DataKind::ResidentRoom,
        &resident.id,
        &resident.room,
    );
    [
        resident.building.as_str(),
        resident.unit.as_str(),
        room.as_str(),
    ]
    .iter()
    .filter(|part| !part.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(" ")
}

/// Formats a day status with a mark, so that it does not rest on colour,
/// and its style.
fn day_text(day: &DayStatus, ctx: &Ctx) -> (String, Style) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    match day {
        DayStatus::CheckedIn { .. } => (
            format!("+ {}", lang.t("board.checked_in")),
            Style::default().fg(theme.ok),
        ),
        DayStatus::Pending { .. } => (format!("? {}", lang.t("board.pending")), Style::default()),
        DayStatus::Missed { .. } => (
            format!("X {}", lang.t("board.missed")),
            Style::default()
                .fg(theme.warning)
                .add_modifier(Modifier::BOLD),
        ),
        DayStatus::InEscalation { .. } => (
            format!("! {}", lang.t("board.in_escalation")),
            Style::default()
                .fg(theme.critical)
                .add_modifier(Modifier::BOLD),
        ),
    }
}

/// Formats the last column: the ladder stage and its timer, the window's
/// closing time, or how a missed window ended.
fn detail_text(day: &DayStatus, ctx: &Ctx) -> String {
    let lang = ctx.lang;
    match day {
        DayStatus::CheckedIn { at } => lang.tf("board.at", &[("time", &short_time(*at, ctx))]),
        DayStatus::Pending { closes } => {
            lang.tf("board.closes", &[("time", &short_time(*closes, ctx))])
        }
        DayStatus::Missed { ended, .. } => match ended {
            Some(end) => reason_text(&end.reason, lang),
            None => lang.t("board.not_judged").to_owned(),
        },
        DayStatus::InEscalation {
            stage,
            since,
            next_stage_in,
        } => match next_stage_in {
            Some(left) => lang.tf(
                "board.stage_next",
                &[
                    ("stage", &stage_text(*stage, lang)),
                    ("left", &short_age(*left, lang)),
                ],
            ),
            None => lang.tf(
                "board.stage_since",
                &[
                    ("stage", &stage_text(*stage, lang)),
                    ("age", &short_age(ctx.now.duration_since(*since), lang)),
                ],
            ),
        },
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    let lang = ctx.lang;
    let rows = board_rows(app, ctx.now);
    let attention = rows
        .iter()
        .filter(|row| !matches!(row.day, DayStatus::CheckedIn { .. }))
        .count();
    let title = lang.tf(
        "board.title",
        &[("count", &rows.len()), ("attention", &attention)],
    );
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Line::from(truncate(
            &format!(" {title} "),
            area.width as usize,
        )));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(lang.t("board.empty")).style(ctx.theme.dim()),
            inner,
        );
        return;
    }

    let fixed: u16 = WIDTHS.iter().sum::<u16>() + WIDTHS.len() as u16;
    let last_cells = inner.width.saturating_sub(fixed).max(4);
    let header = Row::new(
        [
            "board.col_status",
            "board.col_name",
            "board.col_location",
            "board.col_activity",
            "board.col_stage",
        ]
        .map(|key| Cell::from(lang.t(key))),
    )
    .style(ctx.theme.dim());
    let table_rows = rows_around(
        &rows,
        ui.services.board_selected,
        inner.height.saturating_sub(1) as usize,
        ctx.theme.selected(),
        |row| board_row(app, ui, row, last_cells, ctx),
    );
    let mut widths: Vec<Constraint> = WIDTHS.iter().map(|w| Constraint::Length(*w)).collect();
    widths.push(Constraint::Length(last_cells));
    let table = Table::new(table_rows, widths)
        .header(header)
        .column_spacing(1);
    frame.render_widget(table, inner);
}

fn board_row<'a>(app: &App, ui: &UiState, row: &BoardRow, last: u16, ctx: &Ctx) -> Row<'a> {
    let services = &ui.services;
    let resident = app.projection.services.care.resident(&row.resident);
    let name = resident.map_or_else(
        || row.resident.clone(),
        |r| shown(services, DataKind::ResidentName, &r.id, &r.name),
    );
    let place = resident.map_or_else(String::new, |r| location(services, r));
    let (status, style) = day_text(&row.day, ctx);
    let activity = row
        .last_activity
        .map_or_else(|| "-".to_owned(), |at| short_time(at, ctx));
    let cut = |text: &str, width: u16| truncate(text, width as usize);
    Row::new(vec![
        Cell::from(Span::styled(cut(&status, WIDTHS[0]), style)),
        Cell::from(cut(&name, WIDTHS[1])),
        Cell::from(cut(&place, WIDTHS[2])),
        Cell::from(cut(&activity, WIDTHS[3])),
        Cell::from(cut(&detail_text(&row.day, ctx), last)),
    ])
}

/// Draws one resident: masked contact data, today's state, and the
/// history newest first.
pub fn draw_resident(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let care = &app.projection.services.care;
    let Some(id) = ui.services.resident.as_deref() else {
        return;
    };
    let services = &ui.services;
    let resident = care.resident(id);
    let name = resident.map_or_else(
        || id.to_owned(),
        |r| shown(services, DataKind::ResidentName, id, &r.name),
    );
    let title = lang.tf("board.resident_title", &[("name", &name), ("id", &id)]);
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Line::from(truncate(
            &format!(" {title} "),
            area.width as usize,
        )));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let cells = inner.width as usize;

    let mut lines: Vec<Line> = Vec::new();
    let field = |key: &str, value: String| -> Line<'static> {
        Line::from(vec![
            Span::styled(format!("{} ", lang.t(key)), theme.dim()),
            Span::raw(value),
        ])
    };
    if let Some(resident) = resident {
        lines.push(field("board.field_location", location(services, resident)));
        let phone = resident.phone.as_deref().map_or_else(
            || "-".to_owned(),
            |phone| shown(services, DataKind::ResidentPhone, id, phone),
        );
        lines.push(field("board.field_phone", phone));
        for contact in &resident.contacts {
            // Contacts are revealed with the resident's name and phone.
            let name = shown(services, DataKind::ResidentName, id, &contact.name);
            let phone = shown(services, DataKind::ResidentPhone, id, &contact.phone);
            lines.push(field(
                "board.field_contact",
                format!("{name} ({}) {phone}", contact.relation),
            ));
        }
    }
    if let Some(row) = care
        .board(ctx.now)
        .into_iter()
        .find(|row| row.resident == id)
    {
        let (status, style) = day_text(&row.day, ctx);
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", lang.t("board.field_today")), theme.dim()),
            Span::styled(status, style),
            Span::raw(format!("  {}", detail_text(&row.day, ctx))),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(lang.t("board.history"), theme.accent()));
    for entry in care.history(id).unwrap_or_default().iter().rev() {
        let (what, remark) = entry_text(&entry.what, lang);
        lines.push(Line::from(vec![
            Span::styled(format!(" {} ", short_time(entry.at, ctx)), theme.dim()),
            Span::raw(what),
        ]));
        if !remark.is_empty() {
            for part in wrap(&remark, cells.saturating_sub(4)) {
                lines.push(Line::from(format!("    {part}")));
            }
        }
    }
    let max_scroll = lines.len().saturating_sub(inner.height as usize) as u16;
    let scroll = ui.services.resident_scroll.min(max_scroll);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

/// Maximum width of a dialog, in cells.
const DIALOG_MAX_CELLS: u16 = 64;

/// Draws the open dialog of the ticket or eldercare screens.
pub fn draw_dialog(frame: &mut Frame, area: Rect, app: &App, dialog: &ServiceDialog, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let width = DIALOG_MAX_CELLS.min(area.width.saturating_sub(2)).max(20);
    let text_cells = (width as usize).saturating_sub(4);
    let mut lines: Vec<Line> = Vec::new();
    let mut field_label = "tickets.dialog_remark";
    let title = match &dialog.purpose {
        Purpose::Ticket { ticket, act } => {
            lines.push(Line::styled(
                lang.t(&format!("tickets.needs_{}", act.as_str())),
                theme.dim(),
            ));
            lang.tf(
                &format!("tickets.dialog_{}", act.as_str()),
                &[("ticket", ticket)],
            )
        }
        Purpose::Transfer { ticket } => {
            lines.push(Line::styled(lang.t("tickets.dialog_assignee"), theme.dim()));
            lines.push(field_line(
                &dialog.assignee.text,
                dialog.focus == Focus::Assignee,
                text_cells,
                ctx,
            ));
            field_label = "tickets.dialog_reason";
            lang.tf("tickets.dialog_transfer", &[("ticket", ticket)])
        }
        Purpose::Create { .. } => {
            lines.extend(create_lines(app, dialog, text_cells, ctx));
            field_label = "tickets.field_description";
            lang.tf(
                "tickets.dialog_create",
                &[("ticket", &app.projection.services.tickets.next_id())],
            )
        }
        Purpose::Outcome { resident } => {
            for (index, outcome) in OUTCOMES.iter().enumerate() {
                let text = lang.t(&format!("board.outcome_{}", outcome.as_str()));
                lines.push(choice_line(text, index == dialog.choice, ctx));
            }
            lang.tf("board.dialog_outcome", &[("resident", resident)])
        }
    };
    lines.push(Line::from(""));
    lines.push(Line::styled(lang.t(field_label), theme.dim()));
    lines.push(field_line(
        &dialog.field.text,
        dialog.focus == Focus::Field,
        text_cells,
        ctx,
    ));
    if let Some(error) = &dialog.error {
        let style = Style::default()
            .fg(theme.critical)
            .add_modifier(Modifier::BOLD);
        for part in wrap(&format!("! {error}"), text_cells) {
            lines.push(Line::styled(part, style));
        }
    }
    lines.push(Line::from(""));
    let keys = match dialog.purpose {
        Purpose::Transfer { .. } => "tickets.dialog_keys_fields",
        Purpose::Create { .. } => "tickets.dialog_keys_create",
        _ => "dialog.keys",
    };
    lines.push(Line::styled(lang.t(keys), theme.accent()));

    let height = lines.len() as u16 + 2;
    let popup = centred(area, width, height);
    clear(frame, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(truncate(&title, (width as usize).saturating_sub(2)))
        .style(theme.base());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let padded = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };
    frame.render_widget(Paragraph::new(lines), padded);
}

/// A text field, with the cursor block when it has the focus.
fn field_line(text: &str, focused: bool, cells: usize, ctx: &Ctx) -> Line<'static> {
    let shown = tail_fit(text, cells.saturating_sub(1));
    let mut spans = vec![Span::styled(
        shown,
        Style::default().add_modifier(Modifier::UNDERLINED),
    )];
    if focused {
        spans.push(Span::styled("█", ctx.theme.accent()));
    }
    Line::from(spans)
}

/// `(*) choice`, reversed when chosen so the choice does not rest on colour.
fn choice_line(text: &str, chosen: bool, ctx: &Ctx) -> Line<'static> {
    if chosen {
        Line::from(vec![
            Span::raw(" "),
            Span::styled(format!("(*) {text}"), ctx.theme.selected()),
        ])
    } else {
        Line::from(format!(" ( ) {text}"))
    }
}

/// Builds the lines of a new ticket's dialog above its description: the
/// location, the linked alarm or device, and the configured urgencies and
/// categories to choose from.
fn create_lines(
    app: &App,
    dialog: &ServiceDialog,
    text_cells: usize,
    ctx: &Ctx,
) -> Vec<Line<'static>> {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let Purpose::Create {
        ticket,
        urgencies,
        categories,
    } = &dialog.purpose
    else {
        return Vec::new();
    };
    let mut lines = Vec::new();

    let label = format!("{} ", lang.t("tickets.field_location"));
    let mut location = field_line(
        &dialog.location.text,
        dialog.focus == Focus::Location,
        text_cells.saturating_sub(cells(&label)),
        ctx,
    );
    location.spans.insert(0, Span::styled(label, theme.dim()));
    lines.push(location);

    let mut link = Vec::new();
    if let Some(alarm) = ticket.alarm {
        link.push(crate::ui::acting::alarm_label(app, alarm));
    }
    if let Some(device) = &ticket.device {
        link.push(device.clone());
    }
    if !link.is_empty() {
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", lang.t("tickets.field_link")), theme.dim()),
            Span::raw(truncate(&link.join(" · "), text_cells)),
        ]));
    }

    let urgency_texts: Vec<&str> = urgencies
        .iter()
        .map(|urgency| lang.t(&format!("tickets.urgency_{}", urgency.as_str())))
        .collect();
    lines.push(group_label(
        lang.t("tickets.col_urgency"),
        dialog.focus == Focus::Urgency,
        ctx,
    ));
    lines.extend(choice_rows(&urgency_texts, dialog.choice, text_cells, ctx));

    let category_texts: Vec<&str> = categories
        .iter()
        .map(|category| lang.t(&format!("tickets.category_{}", category.as_str())))
        .collect();
    lines.push(group_label(
        lang.t("tickets.col_category"),
        dialog.focus == Focus::Category,
        ctx,
    ));
    lines.extend(choice_rows(
        &category_texts,
        dialog.category,
        text_cells,
        ctx,
    ));
    lines
}

/// Formats the heading of a group of choices. While the arrow keys change
/// the group, its heading names them, so that the focus does not rest on
/// colour.
fn group_label(text: &str, focused: bool, ctx: &Ctx) -> Line<'static> {
    if focused {
        Line::styled(
            ctx.lang.tf("tickets.dialog_choose", &[("field", &text)]),
            ctx.theme.accent().add_modifier(Modifier::BOLD),
        )
    } else {
        Line::styled(text.to_owned(), ctx.theme.dim())
    }
}

/// Choices side by side, `(*) chosen  ( ) other`, wrapped to `cells`.
fn choice_rows(texts: &[&str], chosen: usize, cells_max: usize, ctx: &Ctx) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (index, text) in texts.iter().enumerate() {
        let item = if index == chosen {
            format!("(*) {text}")
        } else {
            format!("( ) {text}")
        };
        let width = cells(&item) + 2;
        if used > 1 && used + width > cells_max {
            lines.push(Line::from(std::mem::take(&mut spans)));
            spans.push(Span::raw(" "));
            used = 1;
        }
        let style = if index == chosen {
            ctx.theme.selected()
        } else {
            Style::default()
        };
        spans.push(Span::styled(item, style));
        spans.push(Span::raw("  "));
        used += width;
    }
    lines.push(Line::from(spans));
    lines
}
