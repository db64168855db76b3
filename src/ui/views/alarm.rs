//! The alarm detail: what, where and how urgent, the state flags and
//! times, the procedure and linked cameras, and every recorded transition,
//! newest first. Scrolls with the list keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::App;
use crate::domain::alarm::{Alarm, Condition, Shown, Transition};
use crate::i18n::Lang;
use crate::i18n::width::{cells, pad, truncate};
use crate::ui::alerts::location;
use crate::ui::widgets::{
    Ctx, ack_mark, ack_style, age, condition_text, local_time, priority_style, priority_text,
    short_time, shown_text, span_text, wrap,
};

/// Maximum width of the label column, in cells.
const LABEL_MAX_CELLS: usize = 16;

/// Labels of the fields, in the order drawn.
const LABELS: [&str; 16] = [
    "alarm.state",
    "alarm.priority",
    "alarm.condition",
    "alarm.device",
    "alarm.source",
    "alarm.location",
    "alarm.flags",
    "alarm.shelved",
    "alarm.occurrences",
    "alarm.raised",
    "alarm.last",
    "alarm.acknowledged",
    "alarm.closed",
    "alarm.text",
    "alarm.sop",
    "alarm.cameras",
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App, id: Option<u64>, scroll: u16, ctx: &Ctx) {
    let lang = ctx.lang;
    let Some(alarm) = id.and_then(|id| app.projection.alarms.get(id)) else {
        frame.render_widget(Paragraph::new(lang.t("alarm.gone")), area);
        return;
    };
    let title = lang.tf(
        "alarm.title",
        &[
            ("id", &alarm.id),
            ("condition", &condition_text(alarm, lang)),
            ("name", &alarm.name),
        ],
    );
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Line::from(truncate(&title, area.width as usize)));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let lines = lines(app, alarm, inner.width as usize, ctx);
    // Scroll no further than the last screenful.
    let max_scroll = lines.len().saturating_sub(inner.height as usize);
    let scroll = (scroll as usize).min(max_scroll) as u16;
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

/// Builds every line of the detail, wrapped to `width` cells.
fn lines(app: &App, alarm: &Alarm, width: usize, ctx: &Ctx) -> Vec<Line<'static>> {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let label_cells = LABELS
        .iter()
        .map(|key| cells(lang.t(key)))
        .max()
        .unwrap_or(0)
        .min(LABEL_MAX_CELLS);
    let value_cells = width.saturating_sub(label_cells + 2).max(10);
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut field = |key: &str, value: String, style: Style| {
        for (index, part) in wrap(&value, value_cells).into_iter().enumerate() {
            let label = if index == 0 { lang.t(key) } else { "" };
            out.push(Line::from(vec![
                Span::styled(pad(label, label_cells), theme.dim()),
                Span::raw("  "),
                Span::styled(part, style),
            ]));
        }
    };

    let shown = alarm.shown();
    field(
        "alarm.state",
        format!("{} {}", ack_mark(shown), shown_text(shown, false, lang)),
        ack_style(shown),
    );
    field(
        "alarm.priority",
        priority_text(alarm.priority, lang),
        priority_style(alarm.priority, theme),
    );
    field(
        "alarm.condition",
        condition_text(alarm, lang).to_owned(),
        Style::default(),
    );
    let device = match &alarm.device {
        Some(device) if *device != alarm.name => format!("{} ({device})", alarm.name),
        _ => alarm.name.clone(),
    };
    field("alarm.device", device, Style::default());
    if alarm.device.as_deref() != Some(alarm.source.as_str()) {
        field("alarm.source", alarm.source.clone(), Style::default());
    }
    field(
        "alarm.location",
        location(&alarm.building, &alarm.zone),
        Style::default(),
    );
    field("alarm.flags", flags(alarm, lang), Style::default());
    if let Some(shelving) = &alarm.shelved {
        let text = match shelving.until {
            Some(until) => lang.tf(
                "alarm.shelved_until",
                &[
                    ("time", &local_time(until, ctx)),
                    ("by", &shelving.by),
                    ("reason", &shelving.reason),
                ],
            ),
            None => lang.tf(
                "alarm.shelved_once",
                &[("by", &shelving.by), ("reason", &shelving.reason)],
            ),
        };
        field("alarm.shelved", text, Style::default());
    }
    let occurrences = if alarm.condition == Condition::DeviceOffline && alarm.flaps > 0 {
        lang.tf(
            "alarm.flaps_value",
            &[("count", &alarm.occurrences), ("flaps", &alarm.flaps)],
        )
    } else {
        lang.tf("alarm.occurrences_value", &[("count", &alarm.occurrences)])
    };
    field("alarm.occurrences", occurrences, Style::default());
    field("alarm.raised", when(alarm.raised_at, ctx), Style::default());
    if alarm.last_at != alarm.raised_at {
        field("alarm.last", when(alarm.last_at, ctx), Style::default());
    }
    let acknowledged = match alarm.acknowledged_at {
        Some(at) => after(at, alarm, ctx),
        None => lang.t("alarm.not_acknowledged").to_owned(),
    };
    field("alarm.acknowledged", acknowledged, Style::default());
    if let Some(closure) = &alarm.closed {
        field(
            "alarm.closed",
            lang.tf(
                "alarm.closed_value",
                &[
                    ("time", &after(closure.at, alarm, ctx)),
                    (
                        "disposition",
                        &lang.t(&format!("disposition.{}", closure.disposition.as_str())),
                    ),
                    ("by", &actor(&closure.by, lang)),
                ],
            ),
            Style::default(),
        );
    }
    if let Some(text) = &alarm.text {
        field("alarm.text", text.clone(), Style::default());
    }
    let sop = app
        .alarm_guide
        .sop(alarm.condition, lang)
        .unwrap_or_else(|| lang.t(&format!("sop.{}", alarm.condition.as_str())));
    field("alarm.sop", sop.to_owned(), theme.accent());
    let cameras = app.alarm_guide.cameras(alarm);
    let cameras = if cameras.is_empty() {
        lang.t("alarm.no_cameras").to_owned()
    } else {
        cameras.join(lang.t("demo.list_separator"))
    };
    field("alarm.cameras", cameras, Style::default());

    out.push(Line::from(""));
    out.push(Line::styled(
        lang.tf("alarm.history", &[("count", &alarm.history.len())]),
        theme.accent(),
    ));
    let time_cells = alarm
        .history
        .iter()
        .map(|transition| cells(&short_time(transition.at, ctx)))
        .max()
        .unwrap_or(0);
    for transition in alarm.history.iter().rev() {
        history_lines(transition, width, time_cells, ctx, &mut out);
    }
    out
}

/// Lists the flags that are not already in the state word.
fn flags(alarm: &Alarm, lang: Lang) -> String {
    let mut parts = vec![
        lang.t(if alarm.active {
            "alarm.flag_active"
        } else {
            "alarm.flag_inactive"
        })
        .to_owned(),
        lang.t(if alarm.acknowledged {
            "alarm.flag_acknowledged"
        } else {
            "alarm.flag_unacknowledged"
        })
        .to_owned(),
    ];
    if alarm.latched {
        parts.push(lang.t("alarm.flag_latched").to_owned());
    }
    if alarm.momentary {
        parts.push(lang.t("alarm.flag_momentary").to_owned());
    }
    if alarm.escalations > 0 {
        parts.push(lang.tf("alarm.flag_escalated", &[("count", &alarm.escalations)]));
    }
    if alarm.chattering {
        parts.push(lang.t("alarm.flag_chattering").to_owned());
    }
    parts.join(" · ")
}

/// Formats a time with its age: `19:58:00 (2m ago)`.
fn when(ts: jiff::Timestamp, ctx: &Ctx) -> String {
    ctx.lang.tf(
        "detail.when",
        &[("time", &local_time(ts, ctx)), ("age", &age(Some(ts), ctx))],
    )
}

/// Formats a time with the span since the raise: `19:59:05, 1m 05s after
/// it was raised`.
fn after(ts: jiff::Timestamp, alarm: &Alarm, ctx: &Ctx) -> String {
    ctx.lang.tf(
        "alarm.after",
        &[
            ("time", &local_time(ts, ctx)),
            (
                "span",
                &span_text(ts.duration_since(alarm.raised_at), ctx.lang),
            ),
        ],
    )
}

fn actor(actor: &str, lang: Lang) -> String {
    if actor == crate::domain::alarm::change::SYSTEM {
        lang.t("alarm.system").to_owned()
    } else {
        actor.to_owned()
    }
}

/// Formats one transition: time, what, from → to and who, then its remark.
fn history_lines(
    transition: &Transition,
    width: usize,
    time_cells: usize,
    ctx: &Ctx,
    out: &mut Vec<Line<'static>>,
) {
    let lang = ctx.lang;
    let what = lang
        .try_t(&format!("transition.{}", transition.what))
        .map_or_else(|| transition.what.clone(), str::to_owned);
    let from = transition
        .from
        .map_or("-", |shown: Shown| shown_text(shown, false, lang));
    let mut who = actor(&transition.actor, lang);
    if !transition.role.is_empty() {
        who = format!("{who}/{}", transition.role);
    }
    if !transition.console.is_empty() {
        who = format!("{who} @{}", transition.console);
    }
    if transition.via_ssh {
        who.push(' ');
        who.push_str(lang.t("alarm.ssh"));
    }

    let time = short_time(transition.at, ctx);
    let to = shown_text(transition.to, false, lang);
    let text = if transition.from == Some(transition.to) {
        lang.tf(
            "alarm.history_same",
            &[("what", &what), ("state", &to), ("who", &who)],
        )
    } else {
        lang.tf(
            "alarm.history_line",
            &[("what", &what), ("from", &from), ("to", &to), ("who", &who)],
        )
    };
    let text_cells = width.saturating_sub(time_cells + 2).max(10);
    for (index, part) in wrap(&text, text_cells).into_iter().enumerate() {
        let time = if index == 0 { time.as_str() } else { "" };
        out.push(Line::from(vec![
            Span::styled(pad(time, time_cells), ctx.theme.dim()),
            Span::raw("  "),
            Span::raw(part),
        ]));
    }
    if !transition.remark.is_empty() {
        let remark = lang.tf("alarm.remark", &[("text", &transition.remark)]);
        for part in wrap(&remark, text_cells.saturating_sub(2).max(10)) {
            out.push(Line::from(vec![
                Span::raw(" ".repeat(time_cells + 2)),
                Span::styled(part, ctx.theme.accent()),
            ]));
        }
    }
}
