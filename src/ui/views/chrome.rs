//! The frame around every view: the header with site, link and clock, the
//! tab line, the footer with key hints, and the quit confirmation.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::{App, Role};
use crate::domain::alarm::Shown;
use crate::i18n::width::{cells, truncate};
use crate::ingest::link::LinkStatus;
use crate::ui::keymap::{self, Scope};
use crate::ui::state::{Banner, Message, UiState, View};
use crate::ui::widgets::{Ctx, age, local_time, wrap};

/// Draws the header: site, broker link, role, clock.
pub fn header(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let (link_text, link_style) = link_summary(app, ctx);
    let mut role = match app.role {
        Role::Recorder => lang.t("role.recorder"),
        Role::Attached if app.read_only => lang.t("role.read_only"),
        Role::Attached => lang.t("role.attached"),
    }
    .to_owned();
    // The logged-in operator, on sites with logins.
    if let Some(current) = app.access.active() {
        role = format!("{} · {role}", current.id);
    }
    let clock = ctx
        .now
        .to_zoned_datetime(ctx.time_zone.clone())
        .strftime("%m-%d %H:%M:%S")
        .to_string();

    let site = if app.site.name.is_empty() {
        app.site.id.clone()
    } else {
        app.site.name.clone()
    };

    // The link state is always shown. The clock, the role, the site name and
    // the program's name follow as far as the width allows, and the site
    // name goes before the program's name because it tells two sites apart.
    let width = area.width as usize;
    let mut used = cells(&link_text) + 2;
    let clock = take_if_fits(format!(" │ {clock}"), &mut used, width);
    let role = take_if_fits(format!(" │ {role}"), &mut used, width);
    let room = width.saturating_sub(used + 3);
    let program = " guardroom · ";
    let prefix = if cells(program) + cells(&site) <= room {
        program.to_owned()
    } else {
        " ".to_owned()
    };
    let site = truncate(&site, room.saturating_sub(cells(&prefix)));
    let site = if site.is_empty() {
        site
    } else {
        format!("{site} │")
    };

    let line = Line::from(vec![
        Span::styled(prefix, theme.header()),
        Span::styled(site, theme.header()),
        Span::styled(" ", theme.header()),
        Span::styled(link_text, theme.header().patch(link_style)),
        Span::styled(format!("{role}{clock} "), theme.header()),
    ]);
    frame.render_widget(Paragraph::new(line).style(theme.header()), area);
}

/// Returns `text` and counts its width when it still fits, else nothing.
fn take_if_fits(text: String, used: &mut usize, width: usize) -> String {
    let needed = cells(&text);
    if *used + needed > width {
        return String::new();
    }
    *used += needed;
    text
}

/// Describes the link in words, with a mark that does not depend on colour.
fn link_summary(app: &App, ctx: &Ctx) -> (String, Style) {
    let lang = ctx.lang;
    match app.link_status() {
        Some(LinkStatus::Online { since }) => (
            lang.tf("header.online", &[("since", &local_time(since, ctx))]),
            Style::default(),
        ),
        Some(LinkStatus::Offline {
            since,
            attempt,
            retry_at,
            ..
        }) => {
            let text = if app.link.is_some() {
                lang.tf(
                    "header.offline_retry",
                    &[
                        ("since", &local_time(since, ctx)),
                        ("attempt", &(attempt + 1)),
                        ("at", &local_time(retry_at, ctx)),
                    ],
                )
            } else {
                lang.tf("header.offline", &[("since", &local_time(since, ctx))])
            };
            (text, Style::default().add_modifier(Modifier::REVERSED))
        }
        Some(LinkStatus::Connecting { attempt }) => (
            lang.tf("header.connecting", &[("attempt", &attempt)]),
            Style::default(),
        ),
        None => (lang.t("header.link_unknown").to_owned(), Style::default()),
    }
}

/// The views of the tab line: the view, its key and the catalog key of its label.
const TABS: [(View, &str, &str); 7] = [
    (View::Alarms, "0", "tab.alarms"),
    (View::Overview, "1", "tab.overview"),
    (View::Devices, "2", "tab.devices"),
    (View::Log, "3", "tab.log"),
    (View::Tickets, "4", "tab.tickets"),
    (View::Board, "5", "tab.board"),
    (View::History, "H", "tab.history"),
];

/// How much of each tab's label the tab line shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TabLabels {
    All,
    /// The current tab's label; the others show only their key.
    Current,
    KeysOnly,
}

/// Draws the tab line: views on the left, with the count of alarms that
/// need acknowledging beside the alarm tab, and data freshness on the right.
/// When the labels leave no room for the last message's time, the other
/// tabs shrink to their keys, then the current one too.
pub fn tabs(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let current = tab_of(ui);
    let unacknowledged = app
        .projection
        .alarms
        .open
        .values()
        .filter(|alarm| {
            matches!(
                alarm.shown(),
                Shown::Unacknowledged | Shown::ClearedUnacknowledged
            )
        })
        .count();

    let last = match app.last_message {
        Some(at) => lang.tf(
            "tab.last_message",
            &[("time", &local_time(at, ctx)), ("age", &age(Some(at), ctx))],
        ),
        None => lang.tf("tab.last_message_never", &[]),
    };
    // Actions waiting for the broker come before the last-message time, so
    // a narrow terminal cuts the time first.
    let unsent = (app.unsent > 0).then(|| lang.tf("tab.unsent", &[("count", &app.unsent)]));
    let width = area.width as usize;
    // The time and its trailing space must fit; the count of bad payloads
    // after it may be cut.
    let reserved = cells(&last) + 1 + unsent.as_deref().map_or(0, cells);
    let labels = [TabLabels::All, TabLabels::Current, TabLabels::KeysOnly]
        .into_iter()
        .find(|labels| {
            let used: usize = tab_spans(*labels, current, unacknowledged, ctx)
                .iter()
                .map(|span| cells(&span.content))
                .sum();
            used + reserved <= width
        })
        .unwrap_or(TabLabels::KeysOnly);
    let mut spans = tab_spans(labels, current, unacknowledged, ctx);

    let mut right = last;
    if app.bad_payloads > 0 {
        right.push_str(&lang.tf("tab.bad_payloads", &[("count", &app.bad_payloads)]));
    }
    right.push(' ');
    if let Some(unsent) = unsent {
        spans.push(Span::styled(
            unsent,
            Style::default()
                .fg(theme.warning)
                .add_modifier(Modifier::REVERSED),
        ));
    }

    let used: usize = spans.iter().map(|span| cells(&span.content)).sum();
    let room = width.saturating_sub(used);
    let right = truncate(&right, room);
    let gap = room.saturating_sub(cells(&right));
    spans.push(Span::raw(" ".repeat(gap)));
    spans.push(Span::styled(right, theme.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Returns the tab a view belongs to: a detail or the help screen
/// highlights the list it was opened from.
fn tab_of(ui: &UiState) -> View {
    let view = match ui.view {
        View::Help => ui.before_help,
        view => view,
    };
    match view {
        View::Detail | View::AlarmDetail => ui.previous,
        View::Ticket => View::Tickets,
        View::Resident => View::Board,
        view => view,
    }
}

fn tab_spans(
    labels: TabLabels,
    current: View,
    unacknowledged: usize,
    ctx: &Ctx,
) -> Vec<Span<'static>> {
    let theme = ctx.theme;
    let mut spans = Vec::new();
    for (view, key, label) in TABS {
        let full = match labels {
            TabLabels::All => true,
            TabLabels::Current => view == current,
            TabLabels::KeysOnly => false,
        };
        let text = if full {
            format!(" {key} {} ", ctx.lang.t(label))
        } else {
            format!(" {key} ")
        };
        let style = if view == current {
            theme.selected().add_modifier(Modifier::BOLD)
        } else {
            theme.dim()
        };
        spans.push(Span::styled(text, style));
        if view == View::Alarms && unacknowledged > 0 {
            spans.push(Span::styled(
                format!("!{unacknowledged}"),
                Style::default()
                    .fg(theme.critical)
                    .add_modifier(Modifier::REVERSED | Modifier::BOLD),
            ));
            spans.push(Span::raw(" "));
        }
    }
    spans
}

/// Key hints for the current scopes, or the filter being typed.
/// `ticket_actions` are the ticket keys to hint, when the view limits them
/// (see [`keymap::footer`]).
pub fn footer(
    frame: &mut Frame,
    area: Rect,
    ui: &UiState,
    scopes: &[Scope],
    ticket_actions: Option<&[keymap::Action]>,
    ctx: &Ctx,
) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    if ui.editing_filter {
        let line = Line::from(vec![
            Span::styled(format!(" / {}: ", lang.t("footer.filter")), theme.accent()),
            Span::raw(ui.filter_text().to_owned()),
            Span::styled("█", theme.accent()),
            Span::styled(format!("   {}", lang.t("footer.filter_keys")), theme.dim()),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for binding in keymap::footer(scopes, ticket_actions) {
        let key = binding.keys[0].label();
        let label = lang.t(binding.help);
        let width = cells(&key) + 1 + cells(label) + 2;
        if used + width > area.width as usize {
            break;
        }
        used += width;
        spans.push(Span::styled(key, theme.accent()));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.dim()), area);
}

/// How long after a reconnect the warning about a lost session stays up.
const SESSION_LOST_SHOWN: jiff::SignedDuration = jiff::SignedDuration::from_mins(30);

/// The line that must stay in view, most urgent first: writes the database
/// refuses, a reconnect that may have missed messages, then the newest
/// warning of this session.
pub fn standing_notice(app: &App, ctx: &Ctx) -> Option<String> {
    let lang = ctx.lang;
    if let Some(fault) = &app.storage {
        let key = match fault.kind {
            crate::domain::storage::FaultKind::Full => "storage.full",
            crate::domain::storage::FaultKind::Locked => "storage.locked",
            crate::domain::storage::FaultKind::Io => "storage.io",
        };
        return Some(lang.tf(
            key,
            &[
                ("since", &local_time(fault.since, ctx)),
                ("actions", &fault.held_actions),
                ("events", &fault.held_events),
                ("at", &local_time(fault.retry_at, ctx)),
            ],
        ));
    }
    if let Some(link) = &app.projection.link
        && link.online
        && link.session_lost
        && ctx.now.duration_since(link.since) < SESSION_LOST_SHOWN
    {
        return Some(lang.tf(
            "link.session_lost",
            &[("since", &local_time(link.since, ctx))],
        ));
    }
    if let Some(text) = handover_notice(app, ctx) {
        return Some(text);
    }
    app.warnings.last().cloned()
}

/// Says that the last shift ended without a complete handover, and which
/// key starts it. A review console takes no handover, so it says nothing.
fn handover_notice(app: &App, ctx: &Ctx) -> Option<String> {
    let overdue = app.duty.overdue.as_ref().filter(|_| !app.read_only)?;
    let key = keymap::BINDINGS
        .iter()
        .find(|binding| binding.action == keymap::Action::StartHandover)
        .map_or_else(String::new, |binding| binding.keys[0].label());
    let end = overdue
        .shift
        .end
        .to_zoned_datetime(ctx.time_zone.clone())
        .strftime("%H:%M")
        .to_string();
    let template = if overdue.handed_over {
        "handover.overdue_takeover"
    } else {
        "handover.overdue"
    };
    Some(ctx.lang.tf(
        template,
        &[("shift", &overdue.shift.id), ("end", &end), ("key", &key)],
    ))
}

/// Most rows the standing warning or the feedback line may take: enough for
/// the longest refusal at 80 columns, while the view keeps most rows.
pub const MAX_NOTICE_ROWS: usize = 3;

/// Splits `text` into the rows a line of `width` cells shows it in, after
/// the three-cell mark, cutting the last row when it needs more than
/// [`MAX_NOTICE_ROWS`].
pub fn notice_rows(text: &str, width: u16) -> Vec<String> {
    let room = (width as usize).saturating_sub(3);
    let mut rows = wrap(text, room);
    if rows.len() > MAX_NOTICE_ROWS {
        let rest = rows.split_off(MAX_NOTICE_ROWS - 1).join(" ");
        rows.push(truncate(&rest, room));
    }
    rows
}

/// Rows the standing warning or the feedback line needs for `text`.
pub fn notice_height(text: &str, width: u16) -> u16 {
    u16::try_from(notice_rows(text, width).len()).unwrap_or(1)
}

/// Draws `rows` after `mark`, the following rows indented under the first.
fn marked_rows(frame: &mut Frame, area: Rect, mark: &str, rows: &[String], style: Style) {
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let lead = if index == 0 {
                format!(" {mark} ")
            } else {
                "   ".to_owned()
            };
            Line::from(format!("{lead}{row}"))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).style(style), area);
}

/// Draws the newest standing warning across the full width, reversed, so it
/// cannot be missed or mistaken for data; a long one wraps.
pub fn warning(frame: &mut Frame, area: Rect, text: &str, ctx: &Ctx) {
    let style = ctx
        .theme
        .selected()
        .fg(ctx.theme.critical)
        .add_modifier(Modifier::BOLD);
    marked_rows(frame, area, "!", &notice_rows(text, area.width), style);
}

/// Draws the latest feedback: a confirmation, or a refusal reversed so that
/// it cannot be missed; a long one wraps.
pub fn message(frame: &mut Frame, area: Rect, message: &Message, ctx: &Ctx) {
    let style = if message.error {
        ctx.theme
            .selected()
            .fg(ctx.theme.critical)
            .add_modifier(Modifier::BOLD)
    } else {
        ctx.theme.accent()
    };
    let mark = if message.error { "!" } else { "+" };
    marked_rows(
        frame,
        area,
        mark,
        &notice_rows(&message.text, area.width),
        style,
    );
}

/// Draws the latest notice that could not reach the desktop.
pub fn banner(frame: &mut Frame, area: Rect, banner: &Banner, ctx: &Ctx) {
    let key = if banner.desktop_off {
        "alert.banner_off"
    } else {
        "alert.banner"
    };
    let text = ctx.lang.tf(
        key,
        &[
            ("summary", &banner.summary),
            ("body", &banner.body),
            ("count", &banner.count),
        ],
    );
    let style = ctx
        .theme
        .selected()
        .fg(ctx.theme.warning)
        .add_modifier(Modifier::BOLD);
    let line = format!(
        " * {}",
        truncate(&text, (area.width as usize).saturating_sub(3))
    );
    frame.render_widget(Paragraph::new(line).style(style), area);
}

/// Draws the one line shown when the window is below the minimum size.
pub fn too_small(frame: &mut Frame, area: Rect, min: (u16, u16), ctx: &Ctx) {
    let text = ctx.lang.tf(
        "ui.too_small",
        &[
            ("width", &min.0),
            ("height", &min.1),
            ("now", &format!("{}×{}", area.width, area.height)),
        ],
    );
    let line = truncate(&text, area.width as usize);
    frame.render_widget(
        Paragraph::new(line),
        Rect {
            height: 1.min(area.height),
            ..area
        },
    );
}

/// Draws the quit confirmation over the view.
pub fn confirm_quit(frame: &mut Frame, area: Rect, app: &App, ctx: &Ctx) {
    let lang = ctx.lang;
    let mut lines = vec![Line::from(lang.t("quit.question")), Line::from("")];
    if app.role == Role::Recorder {
        lines.push(Line::from(lang.t("quit.recorder_note")));
        lines.push(Line::from(""));
    }
    lines.push(Line::styled(lang.t("quit.keys"), ctx.theme.accent()));

    let width = 56.min(area.width.saturating_sub(2)).max(10);
    let height = (lines.len() as u16 + 4).min(area.height);
    let popup = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    super::dialog::clear(frame, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} ", lang.t("quit.title")))
        .style(ctx.theme.base());
    let paragraph = Paragraph::new(lines)
        .block(block)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true });
    frame.render_widget(paragraph, popup);
}
