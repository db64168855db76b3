//! The repair ticket list (the unassigned queue, the operator's own
//! tickets, or every open ticket) and one ticket's detail with its history.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::app::App;
use crate::domain::privacy::DataKind;
use crate::domain::ticket::{SlaStatus, Ticket};
use crate::i18n::Lang;
use crate::i18n::width::{cells, truncate};
use crate::ui::services::{TicketList, me, ticket_list, ticket_rows};
use crate::ui::state::UiState;
use crate::ui::widgets::{Ctx, local_time, rows_around, short_age, short_time, span_text, wrap};

/// Column widths in cells: id, urgency, category or assignee, location,
/// state, SLA. The id column grows to the longest id listed, up to
/// [`ID_MAX_CELLS`].
const WIDTHS: [u16; 6] = [7, 7, 10, 14, 11, 11];

/// Maximum width of the id column; a longer id is cut with `…`.
const ID_MAX_CELLS: u16 = 16;

/// Minimum width of the description and location columns when a long id
/// widens the id column.
const DESCRIPTION_MIN_CELLS: u16 = 10;
const LOCATION_MIN_CELLS: u16 = 8;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    let lang = ctx.lang;
    let rows = ticket_rows(app, ui, ctx.now);
    let list = ticket_list(app, ui);
    let title = match list {
        TicketList::Queue => lang.tf("tickets.title_queue", &[("count", &rows.len())]),
        TicketList::Mine => lang.tf(
            "tickets.title_mine",
            &[("count", &rows.len()), ("operator", &me(app))],
        ),
        TicketList::AllOpen => lang.tf("tickets.title_all_open", &[("count", &rows.len())]),
    };
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Line::from(truncate(
            &format!(" {title} "),
            area.width as usize,
        )));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if rows.is_empty() {
        let key = match list {
            TicketList::Queue => "tickets.empty_queue",
            TicketList::Mine => "tickets.empty_mine",
            TicketList::AllOpen => "tickets.empty_all_open",
        };
        frame.render_widget(Paragraph::new(lang.t(key)).style(ctx.theme.dim()), inner);
        return;
    }

    let mut widths = WIDTHS;
    widths[0] = id_cells(&rows, lang);
    let fixed: u16 = widths.iter().sum::<u16>() + widths.len() as u16;
    let mut description_cells = inner.width.saturating_sub(fixed);
    // A wide id column takes its room from the location before the
    // description shrinks to nothing.
    if description_cells < DESCRIPTION_MIN_CELLS {
        let give = (DESCRIPTION_MIN_CELLS - description_cells)
            .min(widths[3].saturating_sub(LOCATION_MIN_CELLS));
        widths[3] -= give;
        description_cells += give;
    }
    let description_cells = description_cells.max(4);
    // Every open ticket shows who has it. The category gives way, because
    // this list shows who works on what, and the detail still shows it.
    let assignees = list == TicketList::AllOpen;
    let third = if assignees {
        "tickets.col_assignee"
    } else {
        "tickets.col_category"
    };
    let header = Row::new(
        [
            "tickets.col_id",
            "tickets.col_urgency",
            third,
            "tickets.col_location",
            "tickets.col_state",
            "tickets.col_sla",
            "tickets.col_description",
        ]
        .map(|key| Cell::from(lang.t(key))),
    )
    .style(ctx.theme.dim());

    // Only the rows around the selection are built.
    let table_rows = rows_around(
        &rows,
        ui.services.ticket_selected,
        inner.height.saturating_sub(1) as usize,
        ctx.theme.selected(),
        |(ticket, status)| ticket_row(ticket, status, &widths, description_cells, assignees, ctx),
    );
    let mut constraints: Vec<Constraint> = widths.iter().map(|w| Constraint::Length(*w)).collect();
    constraints.push(Constraint::Length(description_cells));
    let table = Table::new(table_rows, constraints)
        .header(header)
        .column_spacing(1);
    frame.render_widget(table, inner);
}

/// Returns the width of the id column: the heading or the longest id of
/// `rows`, whichever is wider, and at most [`ID_MAX_CELLS`].
fn id_cells(rows: &[(&Ticket, SlaStatus)], lang: Lang) -> u16 {
    let longest = rows
        .iter()
        .map(|(ticket, _)| cells(&ticket.id))
        .chain([cells(lang.t("tickets.col_id")), WIDTHS[0] as usize])
        .max()
        .unwrap_or(0);
    longest.min(ID_MAX_CELLS as usize) as u16
}

/// Builds one row of the list; `assignee` puts the assignee, or `-` for
/// none, where the category goes otherwise.
fn ticket_row<'a>(
    ticket: &Ticket,
    status: &SlaStatus,
    widths: &[u16; 6],
    description: u16,
    assignee: bool,
    ctx: &Ctx,
) -> Row<'a> {
    let lang = ctx.lang;
    let content = &ticket.content;
    let (sla, sla_style) = sla_text(status, false, ctx);
    let cut = |text: &str, width: u16| truncate(text, width as usize);
    let third = if assignee {
        Cell::from(cut(content.assignee.as_deref().unwrap_or("-"), widths[2]))
    } else {
        Cell::from(cut(
            lang.t(&format!("tickets.category_{}", content.category.as_str())),
            widths[2],
        ))
    };
    Row::new(vec![
        Cell::from(cut(&ticket.id, widths[0])),
        Cell::from(cut(urgency_text(content.urgency.as_str(), lang), widths[1])),
        third,
        Cell::from(cut(&content.location, widths[3])),
        Cell::from(cut(
            lang.t(&format!("tickets.state_{}", content.state.as_str())),
            widths[4],
        )),
        Cell::from(Span::styled(cut(&sla, widths[5]), sla_style)),
        Cell::from(cut(&content.description, description)),
    ])
}

fn urgency_text(urgency: &str, lang: Lang) -> &'static str {
    lang.t(&format!("tickets.urgency_{urgency}"))
}

/// Formats the SLA: time left, or overdue with a `!` mark so that it does
/// not rest on colour, and its style. The list rounds down to one unit to
/// fit its column; `exact` gives hours and minutes, for the detail.
pub fn sla_text(status: &SlaStatus, exact: bool, ctx: &Ctx) -> (String, Style) {
    let lang = ctx.lang;
    let span = |span| {
        if exact {
            span_text(span, lang)
        } else {
            short_age(span, lang)
        }
    };
    match status {
        SlaStatus::Running { left, .. } => (
            lang.tf("tickets.sla_left", &[("left", &span(*left))]),
            Style::default(),
        ),
        SlaStatus::Overdue { by, .. } => (
            lang.tf("tickets.sla_overdue", &[("by", &span(*by))]),
            Style::default()
                .fg(ctx.theme.critical)
                .add_modifier(Modifier::BOLD),
        ),
        SlaStatus::Met { .. } => (lang.t("tickets.sla_met").to_owned(), ctx.theme.dim()),
        SlaStatus::Missed { .. } => (lang.t("tickets.sla_missed").to_owned(), ctx.theme.dim()),
        SlaStatus::None => ("-".to_owned(), ctx.theme.dim()),
    }
}

/// Draws one ticket: every field, the linked alarm or device, and its
/// history with who did what, when, and the remark.
pub fn draw_detail(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let services = &app.projection.services;
    let Some(ticket) = ui
        .services
        .ticket
        .as_deref()
        .and_then(|id| services.tickets.get(id))
    else {
        frame.render_widget(Paragraph::new(lang.t("tickets.gone")), area);
        return;
    };
    let content = &ticket.content;
    let status = crate::domain::ticket::sla::status(ticket, ctx.now, &services.setup.sla);
    let title = lang.tf(
        "tickets.detail_title",
        &[
            ("ticket", &ticket.id),
            (
                "state",
                &lang.t(&format!("tickets.state_{}", content.state.as_str())),
            ),
        ],
    );
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
    lines.push(field(
        "tickets.field_kind",
        format!(
            "{} · {}",
            urgency_text(content.urgency.as_str(), lang),
            lang.t(&format!("tickets.category_{}", content.category.as_str()))
        ),
    ));
    lines.push(field("tickets.field_location", content.location.clone()));
    for (index, part) in wrap(&content.description, cells.saturating_sub(8))
        .into_iter()
        .enumerate()
    {
        if index == 0 {
            lines.push(field("tickets.field_description", part));
        } else {
            lines.push(Line::from(format!("        {part}")));
        }
    }
    let (sla, sla_style) = sla_text(&status, true, ctx);
    lines.push(Line::from(vec![
        Span::styled(format!("{} ", lang.t("tickets.field_created")), theme.dim()),
        Span::raw(format!("{}  ", local_time(ticket.created_at, ctx))),
        Span::styled(format!("{} ", lang.t("tickets.field_due")), theme.dim()),
        Span::raw(format!(
            "{}  ",
            local_time(services.setup.sla.due(ticket), ctx)
        )),
        Span::styled(sla, sla_style),
    ]));
    let assignee = content
        .assignee
        .clone()
        .unwrap_or_else(|| lang.t("tickets.nobody").to_owned());
    lines.push(field("tickets.field_assignee", assignee));
    if let Some(reporter) = &content.reporter {
        let shown = |kind: DataKind, value: &str| {
            if ui.services.is_revealed(kind, &ticket.id) {
                value.to_owned()
            } else {
                kind.mask(value)
            }
        };
        lines.push(field(
            "tickets.field_reporter",
            format!(
                "{} {}",
                shown(DataKind::ReporterName, &reporter.name),
                shown(DataKind::ReporterPhone, &reporter.phone)
            ),
        ));
    }
    if let Some(alarm) = content.alarm {
        lines.push(field(
            "tickets.field_alarm",
            crate::ui::acting::alarm_label(app, alarm),
        ));
    }
    if let Some(device) = &content.device {
        let name = app
            .projection
            .devices
            .get(device)
            .map_or_else(|| device.clone(), |d| format!("{} ({device})", d.spec.name));
        let out = if ticket.device_out_of_service().is_some() {
            format!(" · {}", lang.t("tickets.out_of_service"))
        } else {
            String::new()
        };
        lines.push(field("tickets.field_device", format!("{name}{out}")));
    }
    if let Some(refers_to) = &content.refers_to {
        lines.push(field("tickets.field_refers_to", refers_to.clone()));
    }
    if ticket.conflict.is_some() {
        lines.push(Line::styled(
            lang.t("tickets.conflict"),
            Style::default()
                .fg(theme.warning)
                .add_modifier(Modifier::BOLD),
        ));
    }

    lines.push(Line::from(""));
    lines.push(Line::styled(lang.t("tickets.history"), theme.accent()));
    for step in ticket.history.iter().rev() {
        let what = lang
            .try_t(&format!("tickets.step_{}", step.what))
            .unwrap_or(&step.what);
        let moved = match step.from {
            Some(from) if from != step.to => format!(
                " {}→{}",
                lang.t(&format!("tickets.state_{}", from.as_str())),
                lang.t(&format!("tickets.state_{}", step.to.as_str()))
            ),
            None => format!(
                " →{}",
                lang.t(&format!("tickets.state_{}", step.to.as_str()))
            ),
            _ => String::new(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {} ", short_time(step.at, ctx)), theme.dim()),
            Span::raw(format!("{what}{moved}  ")),
            Span::styled(step.operator.clone(), theme.dim()),
        ]));
        if !step.remark.is_empty() {
            for part in wrap(&step.remark, cells.saturating_sub(4)) {
                lines.push(Line::from(format!("    {part}")));
            }
        }
    }

    let max_scroll = lines.len().saturating_sub(inner.height as usize) as u16;
    let paragraph = Paragraph::new(lines).scroll((ui.services.ticket_scroll.min(max_scroll), 0));
    frame.render_widget(paragraph, inner);
}
