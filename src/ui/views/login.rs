//! The login and lock screen: the header, the id and PIN fields, and the
//! alarm queue below them, so that a locked console still shows what is
//! wrong. The PIN shows as one dot per digit.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::{Access, App};
use crate::i18n::width::{cells, pad, truncate};
use crate::ui::keymap::Scope;
use crate::ui::login::{LoginField, dots, hint};
use crate::ui::state::UiState;
use crate::ui::widgets::{Ctx, local_time, wrap};

/// Rows of the login box, borders included.
const BOX_HEIGHT: u16 = 6;

/// Maximum rows of the hint or login error under the fields.
const HINT_ROWS: usize = 2;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    let notice = super::chrome::standing_notice(app, ctx);
    let message = ui.message_at(ctx.now);
    let [header, warning, form, queue, message_area, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(
            notice
                .as_deref()
                .map_or(0, |text| super::chrome::notice_height(text, area.width)),
        ),
        Constraint::Length(BOX_HEIGHT),
        Constraint::Min(0),
        Constraint::Length(message.map_or(0, |message| {
            super::chrome::notice_height(&message.text, area.width)
        })),
        Constraint::Length(1),
    ])
    .areas(area);

    super::chrome::header(frame, header, app, ctx);
    if let Some(text) = &notice {
        super::chrome::warning(frame, warning, text, ctx);
    }
    draw_form(frame, form, app, ui, ctx);
    super::alarms::draw(frame, queue, app, ui, ctx);
    if let Some(message) = message {
        super::chrome::message(frame, message_area, message, ctx);
    }
    super::chrome::footer(frame, footer, ui, &[Scope::Login], None, ctx);
}

/// Returns the box title: a plain login, or the lock of a session.
fn title(app: &App, ctx: &Ctx) -> String {
    let lang = ctx.lang;
    let mode = if app.read_only {
        lang.t("login.read_only")
    } else {
        ""
    };
    match &app.access {
        Access::Operators {
            current: Some(current),
            locked: true,
        } => lang.tf(
            "login.locked_title",
            &[
                ("name", &current.name),
                ("id", &current.id),
                ("since", &local_time(current.since, ctx)),
            ],
        ),
        _ => format!("{}{mode}", lang.t("login.title")),
    }
}

fn draw_form(frame: &mut Frame, area: Rect, app: &App, ui: &UiState, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let inner_width = area.width.saturating_sub(2) as usize;
    let labels = [lang.t("login.id"), lang.t("login.pin")];
    let label_width = labels.iter().map(|label| cells(label)).max().unwrap_or(0) + 2;

    let field = |label: &str, value: String, focused: bool| {
        let cursor = if focused { "█" } else { "" };
        let marker = if focused { "▶ " } else { "  " };
        Line::from(vec![
            Span::styled(marker.to_owned(), theme.accent()),
            Span::raw(pad(label, label_width)),
            Span::styled(
                truncate(&value, inner_width.saturating_sub(label_width + 3)),
                theme.base().add_modifier(Modifier::BOLD),
            ),
            Span::styled(cursor.to_owned(), theme.accent()),
        ])
    };
    let form = &ui.login;
    let (hint_text, is_error) = hint(ui, ctx);
    let hint_style = if is_error {
        theme
            .selected()
            .fg(theme.critical)
            .add_modifier(Modifier::BOLD)
    } else {
        theme.dim()
    };
    let mut lines = vec![
        field(labels[0], form.id.clone(), form.field == LoginField::Id),
        field(labels[1], dots(&form.pin), form.field == LoginField::Pin),
    ];
    // A refusal ends with what to do, so a long one takes the blank row
    // above it instead of being cut at the box's edge.
    let mut hint_rows = wrap(&hint_text, inner_width);
    if hint_rows.len() > HINT_ROWS {
        let rest = hint_rows.split_off(HINT_ROWS - 1).join(" ");
        hint_rows.push(truncate(&rest, inner_width));
    }
    if hint_rows.len() == 1 {
        lines.push(Line::from(""));
    }
    for row in hint_rows {
        lines.push(Line::styled(row, hint_style));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(
            " {} ",
            truncate(&title(app, ctx), inner_width.saturating_sub(2))
        ))
        .style(theme.base());
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
