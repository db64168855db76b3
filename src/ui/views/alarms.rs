//! The alarm queue, the home screen: a counter line, the flood banner, the
//! filters in force, and the open alarms in queue order (priority, then
//! unacknowledged first, then oldest first).

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::app::App;
use crate::domain::alarm::queue::{self, Counters};
use crate::domain::alarm::{Alarm, Condition, Shown};
use crate::domain::privacy::DataKind;
use crate::i18n::Lang;
use crate::i18n::width::{cells, truncate};
use crate::ui::alerts::location;
use crate::ui::rows::{
    QueueLine, hidden_alarms, queue_lines, selected_line, with_condition_labels,
};
use crate::ui::state::{Grouping, UiState};
use crate::ui::widgets::{
    Ctx, ack_mark, ack_style, age, condition_text, priority_style, priority_text, short_time,
    shown_text,
};

/// Optional columns that fit the width.
#[derive(Clone, Copy, Debug)]
struct Columns {
    id: bool,
    raised: bool,
    priority_word: bool,
}

impl Columns {
    fn for_width(width: u16) -> Self {
        Self {
            id: width >= 100,
            raised: width >= 120,
            priority_word: width >= 120,
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    let book = &app.projection.alarms;
    let filters = filter_line(app, ui, ctx);
    let [counter_area, flood_area, filter_area, list_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(book.in_flood())),
        Constraint::Length(u16::from(filters.is_some())),
        Constraint::Min(0),
    ])
    .areas(area);

    draw_counters(frame, counter_area, &queue::counters(book), ctx);
    if book.in_flood() {
        draw_flood(frame, flood_area, app, ctx);
    }
    if let Some(filters) = filters {
        frame.render_widget(Paragraph::new(filters), filter_area);
    }

    let lines = queue_lines(app, ui);
    let listed: usize = lines
        .iter()
        .map(|line| match line {
            QueueLine::Alarm { member: false, .. } => 1,
            QueueLine::Alarm { member: true, .. } => 0,
            QueueLine::Group { members, .. } => members.len(),
        })
        .sum();
    let title = ctx.lang.tf(
        "queue.title",
        &[("shown", &listed), ("open", &book.open.len())],
    );
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Line::from(truncate(&title, list_area.width as usize)));
    let inner = block.inner(list_area);
    frame.render_widget(block, list_area);
    if lines.is_empty() {
        let key = if ui.alarm_filter.is_empty() {
            "queue.none"
        } else {
            "queue.none_filtered"
        };
        frame.render_widget(
            Paragraph::new(ctx.lang.t(key)).style(ctx.theme.dim()),
            inner,
        );
        return;
    }
    let selected = selected_line(&lines, ui);
    let name_of = |alarm: &Alarm| source_name(app, ui, alarm);
    queue_table(frame, inner, &lines, selected, &name_of, ctx);
}

/// Names an alarm's source in the queue: an eldercare alarm carries the
/// resident's registry id, so the name joins it, masked unless this
/// session revealed it, for the guard to know whom to call.
fn source_name(app: &App, ui: &UiState, alarm: &Alarm) -> String {
    let resident = alarm
        .source
        .strip_prefix("care:")
        .and_then(|id| app.projection.services.care.resident(id));
    match resident {
        Some(resident) => format!(
            "{} {}",
            alarm.name,
            super::board::shown(
                &ui.services,
                DataKind::ResidentName,
                &resident.id,
                &resident.name
            )
        ),
        None => alarm.name.clone(),
    }
}

/// Draws the counts of open alarms by state; unacknowledged ones first and
/// marked, suppressed ones as `+N`.
fn draw_counters(frame: &mut Frame, area: Rect, counters: &Counters, ctx: &Ctx) {
    let lang = ctx.lang;
    let args: [(&str, &dyn std::fmt::Display); 7] = [
        ("unacknowledged", &counters.unacknowledged),
        ("acknowledged", &counters.acknowledged),
        ("cleared", &counters.cleared_unacknowledged),
        ("reset", &counters.needs_reset),
        ("shelved", &counters.shelved),
        ("suppressed", &counters.suppressed),
        ("out_of_service", &counters.out_of_service),
    ];
    let width = area.width as usize;
    let long = lang.tf("queue.counters", &args);
    let text = if cells(&long) + 3 <= width {
        long
    } else {
        lang.tf("queue.counters_short", &args)
    };
    let unacknowledged = counters.unacknowledged + counters.cleared_unacknowledged;
    let (mark, mark_style) = if unacknowledged > 0 {
        (
            "!",
            Style::default()
                .fg(ctx.theme.critical)
                .add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )
    } else {
        (" ", Style::default())
    };
    let line = Line::from(vec![
        Span::styled(mark, mark_style),
        Span::raw(" "),
        Span::raw(truncate(&text, width.saturating_sub(2))),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// Draws the flood banner across the width: the live rate over the flood
/// window and the peak.
fn draw_flood(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx) {
    let book = &app.projection.alarms;
    let rate = book.rate(ctx.now, crate::domain::alarm::book::FLOOD_WINDOW_S);
    let peak = book
        .state
        .flood
        .as_ref()
        .map_or(rate, |flood| flood.peak_rate.max(rate));
    let args: [(&str, &dyn std::fmt::Display); 2] = [("rate", &rate), ("peak", &peak)];
    let width = (area.width as usize).saturating_sub(4);
    let long = ctx.lang.tf("queue.flood", &args);
    let text = if cells(&long) <= width {
        long
    } else {
        ctx.lang.tf("queue.flood_short", &args)
    };
    let style = ctx
        .theme
        .selected()
        .fg(ctx.theme.critical)
        .add_modifier(Modifier::BOLD);
    frame.render_widget(
        Paragraph::new(format!(" !! {}", truncate(&text, width))).style(style),
        area,
    );
}

/// Describes the filters in force and how many open alarms they hide, or
/// returns `None` when the queue is unfiltered and grouped as usual.
fn filter_line(app: &App, ui: &UiState, ctx: &Ctx) -> Option<Line<'static>> {
    let lang = ctx.lang;
    let filter = &ui.alarm_filter;
    let mut parts = Vec::new();
    if !filter.text.is_empty() {
        parts.push(lang.tf("queue.filter", &[("text", &filter.text)]));
    }
    if let Some(priority) = filter.priority {
        parts.push(lang.tf("queue.priority", &[("priority", &priority.as_str())]));
    }
    if let Some(shown) = filter.shown {
        parts.push(lang.tf("queue.state", &[("state", &shown_text(shown, false, lang))]));
    }
    if let Some(building) = &filter.building {
        parts.push(lang.tf("queue.building", &[("building", building)]));
    }
    match ui.grouping {
        Grouping::Auto => {}
        Grouping::On => parts.push(lang.t("queue.grouping_on").to_owned()),
        Grouping::Off => parts.push(lang.t("queue.grouping_off").to_owned()),
    }
    if parts.is_empty() {
        return None;
    }

    let mut spans = vec![Span::styled(
        format!(" {}", parts.join(" · ")),
        ctx.theme.accent(),
    )];
    let labelled = with_condition_labels(filter, lang);
    let (hidden, hidden_p1) = hidden_alarms(app, &labelled);
    if hidden > 0 {
        let (text, style) = if hidden_p1 > 0 {
            (
                lang.tf("queue.hidden_p1", &[("count", &hidden), ("p1", &hidden_p1)]),
                Style::default()
                    .fg(ctx.theme.critical)
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            )
        } else {
            (
                lang.tf("queue.hidden", &[("count", &hidden)]),
                ctx.theme.dim(),
            )
        };
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(text, style));
    }
    Some(Line::from(spans))
}

/// The text of one queue line's cells.
struct LineText {
    mark: &'static str,
    /// The state that decides how the mark and state cells are styled.
    shown: Shown,
    priority: String,
    id: String,
    state: String,
    age: String,
    raised: String,
    location: String,
    name: String,
    condition: String,
    count: String,
    bold: bool,
}

fn line_text(
    line: &QueueLine,
    columns: Columns,
    name_of: &dyn Fn(&Alarm) -> String,
    ctx: &Ctx,
) -> LineText {
    let lang = ctx.lang;
    let lead = line.lead();
    let priority = if columns.priority_word {
        priority_text(lead.priority, lang)
    } else {
        lead.priority.as_str().to_owned()
    };
    match line {
        QueueLine::Alarm { alarm, member } => {
            let shown = alarm.shown();
            let indent = if *member { "  " } else { "" };
            LineText {
                mark: ack_mark(shown),
                shown,
                priority,
                id: format!("#{}", alarm.id),
                state: shown_text(shown, true, lang).to_owned(),
                age: age(Some(alarm.raised_at), ctx),
                raised: short_time(alarm.raised_at, ctx),
                location: location(&alarm.building, &alarm.zone),
                name: format!("{indent}{}", name_of(alarm)),
                condition: condition_text(alarm, lang).to_owned(),
                count: count_text(alarm, lang),
                bold: shown == Shown::Unacknowledged,
            }
        }
        QueueLine::Group {
            key: (condition, building, zone),
            first,
            members,
            unacknowledged,
            expanded,
        } => {
            let shown = group_shown(members);
            let place = location(building, zone);
            let open = if *expanded { "[-]" } else { "[+]" };
            let occurrences: u32 = members.iter().map(|alarm| alarm.occurrences).sum();
            LineText {
                mark: ack_mark(shown),
                shown,
                priority,
                id: format!("#{}", first.id),
                state: lang.tf("queue.group_state", &[("count", unacknowledged)]),
                age: age(Some(first.raised_at), ctx),
                raised: short_time(first.raised_at, ctx),
                location: place.clone(),
                name: format!(
                    "{open} {}",
                    lang.tf(
                        "queue.group",
                        &[
                            ("count", &members.len()),
                            ("condition", &condition_name(*condition, lang)),
                            ("zone", &place),
                        ],
                    )
                ),
                condition: condition_name(*condition, lang).to_owned(),
                count: if occurrences as usize > members.len() {
                    lang.tf("queue.occurrences", &[("n", &occurrences)])
                } else {
                    String::new()
                },
                bold: shown == Shown::Unacknowledged,
            }
        }
    }
}

/// Returns the state a group is drawn with: unacknowledged while any
/// member is.
fn group_shown(members: &[&Alarm]) -> Shown {
    let states = || members.iter().map(|alarm| alarm.shown());
    if states().any(|shown| shown == Shown::Unacknowledged) {
        Shown::Unacknowledged
    } else if states().any(|shown| shown == Shown::ClearedUnacknowledged) {
        Shown::ClearedUnacknowledged
    } else {
        members
            .first()
            .map_or(Shown::Acknowledged, |alarm| alarm.shown())
    }
}

fn condition_name(condition: Condition, lang: Lang) -> &'static str {
    lang.t(&format!("condition.{}", condition.as_str()))
}

/// Formats the count column: `x3` for repeats, the drop count for a device
/// that keeps dropping off, and a chattering note; empty for one occurrence.
fn count_text(alarm: &Alarm, lang: Lang) -> String {
    let mut parts = Vec::new();
    if alarm.condition == Condition::DeviceOffline && alarm.flaps > 0 {
        parts.push(lang.tf("queue.flaps", &[("n", &alarm.flaps)]));
    } else if alarm.occurrences > 1 {
        parts.push(lang.tf("queue.occurrences", &[("n", &alarm.occurrences)]));
    }
    if alarm.chattering {
        parts.push(lang.t("queue.chattering").to_owned());
    }
    parts.join(" ")
}

/// Draws the rows that fit, scrolled so that `selected` is visible; rows
/// outside the window are never built.
fn queue_table(
    frame: &mut Frame,
    area: Rect,
    lines: &[QueueLine],
    selected: usize,
    name_of: &dyn Fn(&Alarm) -> String,
    ctx: &Ctx,
) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let visible = area.height.saturating_sub(1) as usize;
    if visible == 0 {
        return;
    }
    let columns = Columns::for_width(area.width);
    let selected = selected.min(lines.len().saturating_sub(1));
    let offset = selected.saturating_sub(visible - 1);
    let window = &lines[offset..lines.len().min(offset + visible)];
    let texts: Vec<LineText> = window
        .iter()
        .map(|line| line_text(line, columns, name_of, ctx))
        .collect();

    // Widths of the short columns follow what the window holds, never
    // narrower than the header.
    let fit = |header: &str, cell: fn(&LineText) -> &str| -> u16 {
        let widest = texts
            .iter()
            .map(|text| cells(cell(text)))
            .max()
            .unwrap_or(0);
        widest.max(cells(lang.t(header))) as u16
    };
    let mut header = vec![Cell::from(""), Cell::from(lang.t("queue.col_priority"))];
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(fit("queue.col_priority", |t| &t.priority)),
    ];
    if columns.id {
        header.push(Cell::from(lang.t("queue.col_id")));
        widths.push(Constraint::Length(fit("queue.col_id", |t| &t.id)));
    }
    header.push(Cell::from(lang.t("queue.col_state")));
    widths.push(Constraint::Length(fit("queue.col_state", |t| &t.state)));
    header.push(Cell::from(lang.t("queue.col_age")));
    widths.push(Constraint::Length(fit("queue.col_age", |t| &t.age)));
    if columns.raised {
        header.push(Cell::from(lang.t("queue.col_raised")));
        widths.push(Constraint::Length(fit("queue.col_raised", |t| &t.raised)));
    }
    let location = fit("queue.col_location", |t| &t.location);
    let name = fit("queue.col_name", |t| &t.name);
    let condition = fit("queue.col_condition", |t| &t.condition);
    let count = fit("queue.col_count", |t| &t.count);
    header.push(Cell::from(lang.t("queue.col_location")));
    header.push(Cell::from(lang.t("queue.col_name")));
    header.push(Cell::from(lang.t("queue.col_condition")));
    header.push(Cell::from(lang.t("queue.col_count")));
    let [location, name] = share(
        &widths,
        [location, name],
        [1, 2],
        &[condition, count],
        area.width,
    );
    widths.extend([
        location,
        name,
        Constraint::Length(condition),
        Constraint::Length(count),
    ]);

    let cut = column_widths(&widths, area.width);
    let rows = window
        .iter()
        .zip(texts)
        .enumerate()
        .map(|(index, (line, text))| {
            let alert = ack_style(text.shown);
            let priority = priority_style(line.lead().priority, theme);
            let plain = Style::default();
            let mut row_cells = vec![
                (text.mark.to_owned(), alert),
                (text.priority, priority.patch(alert)),
            ];
            if columns.id {
                row_cells.push((text.id, plain));
            }
            row_cells.push((text.state, alert));
            row_cells.push((text.age, plain));
            if columns.raised {
                row_cells.push((text.raised, plain));
            }
            row_cells.extend([
                (text.location, plain),
                (text.name, plain),
                (text.condition, plain),
                (text.count, plain),
            ]);
            let mut style = if offset + index == selected {
                theme.selected()
            } else {
                theme.base()
            };
            if text.bold {
                style = style.add_modifier(Modifier::BOLD);
            }
            Row::new(cut_cells(row_cells, &cut)).style(style)
        });
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.dim()))
        .column_spacing(1);
    frame.render_widget(table, area);
}

/// Computes the widths the table gives its columns, with the same layout
/// as [`Table`] and one cell between columns.
pub fn column_widths(widths: &[Constraint], width: u16) -> Vec<u16> {
    Layout::horizontal(widths.iter().copied())
        .flex(Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, width, 1))
        .iter()
        .map(|column| column.width)
        .collect()
}

/// Builds cells with their text cut to the column widths, ending in `…`
/// where something was cut.
pub fn cut_cells(cells: Vec<(String, Style)>, widths: &[u16]) -> Vec<Cell<'static>> {
    cells
        .into_iter()
        .zip(widths)
        .map(|((text, style), width)| Cell::from(truncate(&text, *width as usize)).style(style))
        .collect()
}

/// Chooses the widths of the two text columns: as wide as their text when
/// everything fits, else shares (`fill`) of the room the other columns leave.
pub fn share(
    before: &[Constraint],
    natural: [u16; 2],
    fill: [u16; 2],
    after: &[u16],
    width: u16,
) -> [Constraint; 2] {
    let fixed: u16 = before
        .iter()
        .map(|constraint| match constraint {
            Constraint::Length(cells) => *cells,
            _ => 0,
        })
        .chain(after.iter().copied())
        .sum();
    // One cell between each pair of columns.
    let spacing = (before.len() + after.len() + 1) as u16;
    if fixed + spacing + natural[0] + natural[1] <= width {
        natural.map(Constraint::Length)
    } else {
        fill.map(Constraint::Fill)
    }
}
