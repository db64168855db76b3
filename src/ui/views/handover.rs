//! The handover view: the shift's sheet, scrollable, above the panel of
//! the step at hand: the outgoing guard's remarks, the incoming guard's id
//! and PIN, or the two signatures.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::note::field_lines;
use crate::app::{Access, App};
use crate::i18n::width::truncate;
use crate::report::export::text::sheet_lines;
use crate::ui::handover::{Field, HandoverFlow, Stage};
use crate::ui::login::dots;
use crate::ui::widgets::{Ctx, wrap};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, flow: &HandoverFlow, ctx: &Ctx) {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let width = area.width as usize;
    let panel = panel_lines(app, flow, width.saturating_sub(2), ctx);
    let [sheet_area, panel_area] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(panel.len() as u16 + 1),
    ])
    .areas(area);

    let title = lang.tf("handover.title", &[("shift", &flow.shift.id)]);
    let block = Block::default()
        .borders(Borders::TOP)
        .title(truncate(&format!(" {title} "), width.saturating_sub(2)));
    let lines: Vec<Line> = match &flow.sheet {
        Some(sheet) => sheet_lines(sheet, width.saturating_sub(1), lang, ctx.time_zone)
            .into_iter()
            .map(Line::from)
            .collect(),
        None => vec![Line::styled(lang.t("handover.loading"), theme.dim())],
    };
    // Scroll no further than the last screenful.
    let visible = sheet_area.height.saturating_sub(1) as usize;
    let max_scroll = lines.len().saturating_sub(visible) as u16;
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((flow.scroll.min(max_scroll), 0)),
        sheet_area,
    );

    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.accent());
    let inner = block.inner(panel_area);
    frame.render_widget(block, panel_area);
    let padded = Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(2),
        ..inner
    };
    frame.render_widget(Paragraph::new(panel), padded);
}

/// The lines of the step panel, at most `width` cells each.
fn panel_lines(app: &App, flow: &HandoverFlow, width: usize, ctx: &Ctx) -> Vec<Line<'static>> {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let mut lines = Vec::new();
    let say = |lines: &mut Vec<Line<'static>>, text: &str, style| {
        for part in wrap(text, width) {
            lines.push(Line::styled(part, style));
        }
    };
    match &flow.stage {
        Stage::Loading => say(&mut lines, lang.t("handover.loading"), theme.dim()),
        Stage::Outgoing => {
            let who = match app.access {
                Access::Open => lang.tf(
                    "handover.outgoing_console_user",
                    &[("user", &app.operator.name)],
                ),
                Access::Operators { .. } => {
                    lang.tf("handover.outgoing", &[("operator", &app.operator.name)])
                }
            };
            say(&mut lines, &who, theme.base());
            lines.push(Line::styled(lang.t("handover.remarks"), theme.dim()));
            lines.extend(field_lines(&flow.remarks, width, ctx).into_iter().take(2));
        }
        Stage::Incoming { outgoing, .. } => {
            say(
                &mut lines,
                &lang.tf("handover.awaiting", &[("outgoing", outgoing)]),
                theme.base(),
            );
            if matches!(app.access, Access::Open) {
                say(
                    &mut lines,
                    lang.t("handover.needs_operators"),
                    theme.base().add_modifier(Modifier::BOLD),
                );
            } else {
                let field = |label: &str, value: String, focused: bool| {
                    let style = if focused {
                        theme.selected()
                    } else {
                        theme.base()
                    };
                    Line::from(vec![
                        Span::styled(format!("{label}: "), theme.dim()),
                        Span::styled(format!("{value}{}", if focused { "█" } else { "" }), style),
                    ])
                };
                lines.push(field(
                    lang.t("handover.incoming_id"),
                    flow.id.clone(),
                    flow.field == Field::Id,
                ));
                lines.push(field(
                    lang.t("handover.incoming_pin"),
                    dots(&flow.pin),
                    flow.field == Field::Pin,
                ));
            }
        }
        Stage::Done { outgoing, incoming } => say(
            &mut lines,
            &lang.tf(
                "handover.done",
                &[("outgoing", outgoing), ("incoming", incoming)],
            ),
            theme.accent(),
        ),
    }
    if let Some(error) = &flow.error {
        let style = theme
            .selected()
            .fg(theme.critical)
            .add_modifier(Modifier::BOLD);
        say(&mut lines, &format!("! {error}"), style);
    }
    lines
}
