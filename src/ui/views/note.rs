//! The note dialog drawn over the view: the entry type, the corrected entry
//! when it is a correction, and the text with its cursor.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::dialog::{centred, clear};
use crate::domain::alarm::EntryKind;
use crate::i18n::width::{cells, pad, truncate};
use crate::ui::note::{NoteDialog, NoteField};
use crate::ui::review::entry_key;
use crate::ui::widgets::{Ctx, wrap};

/// Maximum width of the dialog, in cells.
const DIALOG_MAX_CELLS: u16 = 68;

/// Rows of text shown at once; the rows around the cursor.
const FIELD_ROWS: usize = 4;

/// Entry types per line of the type choice.
const CHOICES_PER_LINE: usize = 3;

pub fn draw(frame: &mut Frame, area: Rect, dialog: &NoteDialog, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let width = DIALOG_MAX_CELLS.min(area.width.saturating_sub(2)).max(24);
    let text_cells = (width as usize).saturating_sub(4);

    let mut lines: Vec<Line> = Vec::new();
    let title = match &dialog.corrects {
        Some(corrected) => lang.tf("note.correct_title", &[("seq", &corrected.seq)]),
        None => lang.t("note.title").to_owned(),
    };
    if let Some(corrected) = &dialog.corrects {
        let text = lang.tf("note.corrects", &[("text", &corrected.text)]);
        for part in wrap(&text, text_cells).into_iter().take(2) {
            lines.push(Line::styled(part, theme.dim()));
        }
    }
    lines.push(Line::styled(lang.t("note.type"), theme.dim()));
    lines.extend(choice_lines(dialog, text_cells, ctx));
    lines.push(Line::styled(lang.t("note.text"), theme.dim()));
    lines.extend(field_lines(&dialog.field, text_cells, ctx));
    match &dialog.error {
        Some(error) => {
            let style = theme
                .selected()
                .fg(theme.critical)
                .add_modifier(Modifier::BOLD);
            for part in wrap(&format!("! {error}"), text_cells) {
                lines.push(Line::styled(part, style));
            }
        }
        None => lines.push(Line::styled(
            lang.tf(
                "note.count",
                &[
                    ("count", &dialog.field.text.chars().count()),
                    ("max", &crate::ui::note::NOTE_MAX_CHARS),
                ],
            ),
            theme.dim(),
        )),
    }
    for part in wrap(lang.t("note.keys"), text_cells) {
        lines.push(Line::styled(part, theme.accent()));
    }

    let height = lines.len() as u16 + 2;
    let popup = centred(area, width, height);
    clear(frame, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(truncate(
            &format!(" {title} "),
            (width as usize).saturating_sub(2),
        ))
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

/// The entry types, three to a line, the chosen one reversed and marked.
fn choice_lines(dialog: &NoteDialog, width: usize, ctx: &Ctx) -> Vec<Line<'static>> {
    let column = width / CHOICES_PER_LINE;
    EntryKind::ALL
        .chunks(CHOICES_PER_LINE)
        .enumerate()
        .map(|(row, kinds)| {
            let spans: Vec<Span> = kinds
                .iter()
                .enumerate()
                .map(|(col, kind)| {
                    let chosen = row * CHOICES_PER_LINE + col == dialog.choice;
                    let mark = if chosen { "(*)" } else { "( )" };
                    let text = format!("{mark} {}", ctx.lang.t(entry_key(*kind)));
                    let text = pad(&truncate(&text, column), column);
                    if chosen {
                        Span::styled(text, ctx.theme.selected())
                    } else {
                        Span::raw(text)
                    }
                })
                .collect();
            Line::from(spans)
        })
        .collect()
}

/// The rows of the text around the cursor, underlined, with the cursor
/// cell reversed: a wide character under the cursor is reversed whole.
pub fn field_lines(field: &NoteField, width: usize, ctx: &Ctx) -> Vec<Line<'static>> {
    let (rows, (cursor_row, cursor_col)) = field.layout(width.saturating_sub(1));
    let first = cursor_row.saturating_sub(FIELD_ROWS - 1);
    let underline = Style::default().add_modifier(Modifier::UNDERLINED);
    let cursor_style = ctx.theme.selected().add_modifier(Modifier::REVERSED);
    let mut lines = Vec::new();
    for (index, row) in rows.iter().enumerate().skip(first).take(FIELD_ROWS) {
        if index != cursor_row {
            lines.push(Line::styled(row.iter().collect::<String>(), underline));
            continue;
        }
        let mut before = String::new();
        let mut at = None;
        let mut after = String::new();
        let mut used = 0;
        for c in row {
            if at.is_none() && used == cursor_col {
                at = Some(*c);
            } else if at.is_none() {
                before.push(*c);
            } else {
                after.push(*c);
            }
            used += cells(c.encode_utf8(&mut [0; 4]));
        }
        let cursor = at.map_or_else(|| " ".to_owned(), String::from);
        lines.push(Line::from(vec![
            Span::styled(before, underline),
            Span::styled(cursor, cursor_style),
            Span::styled(after, underline),
        ]));
    }
    lines
}
