//! The `?` help screen, generated from the keymap table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::i18n::width::pad;
use crate::ui::keymap::{BINDINGS, Scope};
use crate::ui::widgets::Ctx;

pub fn draw(frame: &mut Frame, area: Rect, scroll: u16, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let mut lines = Vec::new();
    for (scope, title) in [
        (Scope::Global, "help.global"),
        (Scope::List, "help.list"),
        (Scope::Devices, "help.devices"),
        (Scope::Confirm, "help.confirm"),
    ] {
        lines.push(Line::styled(lang.t(title), theme.accent()));
        for binding in BINDINGS.iter().filter(|binding| binding.scope == scope) {
            let keys: Vec<String> = binding.keys.iter().map(|key| key.label()).collect();
            lines.push(Line::from(vec![
                Span::raw("  "),
                Span::styled(pad(&keys.join(" / "), 16), theme.base()),
                Span::raw(lang.t(binding.help)),
            ]));
        }
        lines.push(Line::from(""));
    }
    lines.push(Line::styled(lang.t("help.legend_title"), theme.accent()));
    lines.push(Line::from(format!("  {}", lang.t("help.legend"))));

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
