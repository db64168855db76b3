//! The `?` help screen, generated from the keymap table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::i18n::width::cells;
use crate::i18n::width::pad;
use crate::ui::keymap::{BINDINGS, Scope};
use crate::ui::widgets::{Ctx, wrap};

pub fn draw(frame: &mut Frame, area: Rect, scroll: u16, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let mut lines = Vec::new();
    for (scopes, title) in [
        (&[Scope::Global][..], "help.global"),
        (&[Scope::Session], "help.session"),
        (&[Scope::List, Scope::Rows], "help.list"),
        (&[Scope::Alarms], "help.alarms"),
        (&[Scope::AlarmActions], "help.alarm_actions"),
        (&[Scope::History], "help.history"),
        (&[Scope::Log], "help.log"),
        (&[Scope::Handover], "help.handover"),
        (&[Scope::Note], "help.note"),
        (&[Scope::Devices], "help.devices"),
        (&[Scope::Tickets, Scope::TicketActions], "help.tickets"),
        (&[Scope::Board], "help.board"),
        (&[Scope::Dialog], "help.dialog"),
        (&[Scope::FilterEdit], "help.filter_edit"),
        (&[Scope::Confirm], "help.confirm"),
        (&[Scope::ConfirmStrict], "help.confirm_strict"),
        (&[Scope::Login], "help.login"),
    ] {
        lines.push(Line::styled(lang.t(title), theme.accent()));
        for binding in BINDINGS
            .iter()
            .filter(|binding| scopes.contains(&binding.scope))
        {
            let keys: Vec<String> = binding.keys.iter().map(|key| key.label()).collect();
            lines.push(Line::from(vec![
                Span::raw("  "),
                Span::styled(pad(&keys.join(" / "), 16), theme.base()),
                Span::raw(lang.t(binding.help)),
            ]));
        }
        lines.push(Line::from(""));
    }
    let legend_cells = (area.width as usize).saturating_sub(2);
    for (title, legend) in [
        ("help.alarm_legend_title", "help.alarm_legend"),
        ("help.legend_title", "help.legend"),
    ] {
        lines.push(Line::styled(lang.t(title), theme.accent()));
        for part in pack(lang.t(legend), legend_cells) {
            lines.push(Line::from(format!("  {part}")));
        }
        lines.push(Line::from(""));
    }

    let block = Block::default()
        .borders(Borders::TOP)
        .title(format!(" {} ", lang.t("help.title")));
    // Scroll no further than the last screenful.
    let visible = area.height.saturating_sub(1) as usize;
    let max_scroll = lines.len().saturating_sub(visible) as u16;
    let paragraph = Paragraph::new(lines)
        .block(block)
        .scroll((scroll.min(max_scroll), 0));
    frame.render_widget(paragraph, area);
}

/// Packs the entries of a legend, separated by two spaces, into lines of
/// at most `width` cells without splitting an entry unless it is too long.
fn pack(legend: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for entry in legend.split("  ").filter(|entry| !entry.is_empty()) {
        if !line.is_empty() && cells(&line) + 2 + cells(entry) > width {
            lines.push(std::mem::take(&mut line));
        }
        if line.is_empty() {
            if cells(entry) > width {
                lines.extend(wrap(entry, width));
            } else {
                line.push_str(entry);
            }
        } else {
            line.push_str("  ");
            line.push_str(entry);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
