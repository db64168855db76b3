//! Dialogs drawn over the view: close, shelve, remark, out of service, and
//! the question before acknowledging many alarms.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::App;
use crate::domain::alarm::Disposition;
use crate::i18n::width::{cells, truncate};
use crate::ui::acting::alarm_label;
use crate::ui::dialog::{Dialog, DialogKind, ShelveFor};
use crate::ui::widgets::{Ctx, tail_fit, wrap};

/// Maximum width of a dialog, in cells.
const DIALOG_MAX_CELLS: u16 = 68;

/// Returns a rectangle of `width` × `height` centred in `area`, cut to fit.
pub fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// Clears `popup` for a dialog. A wide character just left of it would
/// hide the dialog's left border, because a terminal draws the second half
/// of that character where the border goes, so it becomes a space.
pub fn clear(frame: &mut Frame, popup: Rect) {
    frame.render_widget(Clear, popup);
    if popup.x == 0 {
        return;
    }
    let buffer = frame.buffer_mut();
    for y in popup.top()..popup.bottom() {
        let cell = &mut buffer[(popup.x - 1, y)];
        if cells(cell.symbol()) > 1 {
            cell.set_symbol(" ");
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, dialog: &Dialog, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let width = DIALOG_MAX_CELLS.min(area.width.saturating_sub(2)).max(20);
    // Borders and one cell of padding on each side.
    let text_cells = (width as usize).saturating_sub(4);
    let alarm = app.projection.alarms.get(dialog.alarm);
    let label = alarm_label(app, dialog.alarm);

    let mut lines: Vec<Line> = Vec::new();
    let title;
    let mut field_label = "dialog.remark";
    match &dialog.kind {
        DialogKind::Close { choice } => {
            title = lang.tf("dialog.close_title", &[("alarm", &label)]);
            lines.push(Line::styled(lang.t("dialog.disposition"), theme.dim()));
            for (index, disposition) in Disposition::CHOSEN.iter().enumerate() {
                let text = lang.t(&format!("disposition.{}", disposition.as_str()));
                lines.push(choice_line(text, index == *choice, ctx));
            }
        }
        DialogKind::Shelve { choice } => {
            title = lang.tf("dialog.shelve_title", &[("alarm", &label)]);
            field_label = "dialog.reason";
            lines.push(Line::styled(lang.t("dialog.duration"), theme.dim()));
            for (index, duration) in ShelveFor::CHOICES.iter().enumerate() {
                lines.push(choice_line(lang.t(duration.key()), index == *choice, ctx));
            }
        }
        DialogKind::Remark => {
            title = lang.tf("dialog.remark_title", &[("alarm", &label)]);
        }
        DialogKind::Service { name, on, .. } => {
            let (title_key, text_key) = if *on {
                ("dialog.service_off_title", "dialog.service_off_text")
            } else {
                field_label = "dialog.remark_optional";
                ("dialog.service_on_title", "dialog.service_on_text")
            };
            title = lang.t(title_key).to_owned();
            let text = lang.tf(text_key, &[("device", name)]);
            lines.extend(wrap(&text, text_cells).into_iter().map(Line::from));
        }
    }

    lines.push(Line::from(""));
    lines.push(Line::styled(lang.t(field_label), theme.dim()));
    let shown = tail_fit(&dialog.field.text, text_cells.saturating_sub(1));
    lines.push(Line::from(vec![
        Span::styled(shown, Style::default().add_modifier(Modifier::UNDERLINED)),
        Span::styled("█", theme.accent()),
    ]));
    if let Some(error) = &dialog.error {
        let style = theme
            .selected()
            .fg(theme.critical)
            .add_modifier(Modifier::BOLD);
        for part in wrap(&format!("! {error}"), text_cells) {
            lines.push(Line::styled(part, style));
        }
    } else if let Some(key) = dialog.remark_needed(alarm)
        && dialog.field.is_blank()
    {
        for part in wrap(lang.t(key), text_cells) {
            lines.push(Line::styled(part, Style::default().fg(theme.warning)));
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(lang.t("dialog.keys"), theme.accent()));

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

/// `(*) genuine`, reversed when chosen so the choice does not rest on colour.
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

/// Draws the question before acknowledging `count` alarms, `p1` of them P1.
pub fn confirm_acknowledge(frame: &mut Frame, area: Rect, count: usize, p1: usize, ctx: &Ctx) {
    let lang = ctx.lang;
    let question = if p1 > 0 {
        lang.tf("dialog.ack_question_p1", &[("count", &count), ("p1", &p1)])
    } else {
        lang.tf("dialog.ack_question", &[("count", &count)])
    };
    let lines = vec![
        Line::from(question),
        Line::from(""),
        Line::styled(lang.t("dialog.ack_keys"), ctx.theme.accent()),
    ];
    let width = 56.min(area.width.saturating_sub(2)).max(10);
    let text_cells = width.saturating_sub(4) as usize;
    let rows: usize = lines
        .iter()
        .map(|line| {
            let text: String = line
                .spans
                .iter()
                .map(|span| span.content.as_ref())
                .collect();
            cells(&text).div_ceil(text_cells).max(1)
        })
        .sum();
    let popup = centred(area, width, rows as u16 + 2);
    clear(frame, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(lang.t("dialog.ack_title"))
        .style(ctx.theme.base());
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        popup,
    );
}
