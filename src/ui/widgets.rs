//! Small drawing helpers shared by the views: status marks, times, ages,
//! alarm priorities and states, and text cut to terminal cells.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::style::{Modifier, Style};
use unicode_width::UnicodeWidthChar;

use crate::domain::DeviceStatus;
use crate::domain::alarm::{Alarm, Priority, Shown};
use crate::i18n::Lang;
use crate::i18n::width::cells;
use crate::theme::Theme;

/// Drawing context of every view: language, theme and the time of the frame.
pub struct Ctx<'a> {
    pub lang: Lang,
    pub theme: &'a Theme,
    /// The time the frame represents; passed in so snapshots are stable.
    pub now: Timestamp,
    pub time_zone: &'a TimeZone,
}

/// Returns a one-character ASCII mark per status, so status never depends on colour
/// and ASCII keeps its width in every terminal (CJK ones included).
pub fn status_mark(status: DeviceStatus) -> char {
    match status {
        DeviceStatus::Normal => '+',
        DeviceStatus::Open => 'o',
        DeviceStatus::HeldOpen => 'O',
        DeviceStatus::Forced | DeviceStatus::Alarm => '!',
        DeviceStatus::Tamper => 'T',
        DeviceStatus::VideoLoss => 'V',
        DeviceStatus::Fault => 'F',
        DeviceStatus::Offline => 'X',
        DeviceStatus::DataError => '#',
        DeviceStatus::Stale => '~',
        DeviceStatus::BatteryLow => 'b',
        DeviceStatus::Unknown => '?',
    }
}

/// Returns the translated status word with its mark, e.g. `! 强行开门`.
pub fn status_text(status: DeviceStatus, lang: Lang) -> String {
    format!(
        "{} {}",
        status_mark(status),
        lang.t(&format!("device_status.{}", status.as_str()))
    )
}

pub fn status_style(status: DeviceStatus, theme: &Theme) -> Style {
    match status {
        DeviceStatus::Forced | DeviceStatus::Alarm | DeviceStatus::Offline => Style::default()
            .fg(theme.critical)
            .add_modifier(Modifier::BOLD),
        DeviceStatus::Tamper
        | DeviceStatus::VideoLoss
        | DeviceStatus::Fault
        | DeviceStatus::HeldOpen => Style::default()
            .fg(theme.warning)
            .add_modifier(Modifier::BOLD),
        DeviceStatus::DataError | DeviceStatus::BatteryLow => Style::default().fg(theme.warning),
        DeviceStatus::Stale | DeviceStatus::Unknown => Style::default().fg(theme.stale),
        DeviceStatus::Open => Style::default().fg(theme.text),
        DeviceStatus::Normal => Style::default().fg(theme.ok),
    }
}

/// `HH:MM:SS` in the site's zone, with the date when it is not today.
pub fn local_time(ts: Timestamp, ctx: &Ctx) -> String {
    let zoned = ts.to_zoned_datetime(ctx.time_zone.clone());
    let today = ctx.now.to_zoned_datetime(ctx.time_zone.clone()).date();
    if zoned.date() == today {
        zoned.strftime("%H:%M:%S").to_string()
    } else {
        zoned.strftime("%Y-%m-%d %H:%M").to_string()
    }
}

/// Age of a time at the frame's `now`, e.g. `42s`; `-` when unknown.
pub fn age(ts: Option<Timestamp>, ctx: &Ctx) -> String {
    ts.map_or_else(
        || "-".to_owned(),
        |ts| short_age(ctx.now.duration_since(ts), ctx.lang),
    )
}

/// Formats a duration in its largest whole unit, in the language's short
/// form: `42s`/`42秒`, `5m`/`5分`, `3h`/`3时`, `2d`/`2天`.
pub fn short_age(age: jiff::SignedDuration, lang: Lang) -> String {
    let secs = age.as_secs().max(0);
    let (key, value) = match secs {
        0..60 => ("age.seconds", secs),
        60..3600 => ("age.minutes", secs / 60),
        3600..86_400 => ("age.hours", secs / 3600),
        _ => ("age.days", secs / 86_400),
    };
    lang.tf(key, &[("n", &value)])
}

/// Formats a duration to the second below an hour (`4m 05s`), to the
/// minute below a day and to the hour above, for response times.
pub fn span_text(span: jiff::SignedDuration, lang: Lang) -> String {
    let secs = span.as_secs().max(0);
    match secs {
        0..60 => lang.tf("age.seconds", &[("n", &secs)]),
        60..3600 => lang.tf(
            "age.min_sec",
            &[("m", &(secs / 60)), ("s", &format!("{:02}", secs % 60))],
        ),
        3600..86_400 => lang.tf(
            "age.hour_min",
            &[
                ("h", &(secs / 3600)),
                ("m", &format!("{:02}", secs % 3600 / 60)),
            ],
        ),
        _ => lang.tf(
            "age.day_hour",
            &[("d", &(secs / 86_400)), ("h", &(secs % 86_400 / 3600))],
        ),
    }
}

/// Formats a time as `HH:MM:SS` in the site's zone when it is today, else
/// as `MM-DD HH:MM`: at most 11 cells, for table columns.
pub fn short_time(ts: Timestamp, ctx: &Ctx) -> String {
    let zoned = ts.to_zoned_datetime(ctx.time_zone.clone());
    let today = ctx.now.to_zoned_datetime(ctx.time_zone.clone()).date();
    if zoned.date() == today {
        zoned.strftime("%H:%M:%S").to_string()
    } else {
        zoned.strftime("%m-%d %H:%M").to_string()
    }
}

/// Returns the style of a priority: P1 and P2 stand out in colour and
/// weight, and the views always write the priority out as well.
pub fn priority_style(priority: Priority, theme: &Theme) -> Style {
    match priority {
        Priority::P1 => Style::default()
            .fg(theme.critical)
            .add_modifier(Modifier::BOLD),
        Priority::P2 => Style::default()
            .fg(theme.warning)
            .add_modifier(Modifier::BOLD),
        Priority::P3 => Style::default().fg(theme.text),
        Priority::P4 => Style::default().fg(theme.dim),
    }
}

/// Returns the mark of an alarm that needs acknowledging: `!`, else a space.
pub fn ack_mark(shown: Shown) -> &'static str {
    match shown {
        Shown::Unacknowledged | Shown::ClearedUnacknowledged => "!",
        _ => " ",
    }
}

/// Returns the style of the mark and state of an alarm that needs
/// acknowledging: reversed, and blinking while its condition is active. It
/// does not rely on colour, so it shows with `NO_COLOR` too.
pub fn ack_style(shown: Shown) -> Style {
    match shown {
        Shown::Unacknowledged => Style::default()
            .add_modifier(Modifier::REVERSED | Modifier::SLOW_BLINK | Modifier::BOLD),
        Shown::ClearedUnacknowledged => Style::default().add_modifier(Modifier::REVERSED),
        _ => Style::default(),
    }
}

/// Returns the translated state of an alarm, short or in full.
pub fn shown_text(shown: Shown, short: bool, lang: Lang) -> &'static str {
    let section = if short { "shown_short" } else { "shown" };
    lang.t(&format!("{section}.{}", shown.as_str()))
}

pub fn condition_text(alarm: &Alarm, lang: Lang) -> &'static str {
    lang.t(&format!("condition.{}", alarm.condition.as_str()))
}

/// Formats a priority with its word: `P1 urgent` / `P1 紧急`.
pub fn priority_text(priority: Priority, lang: Lang) -> String {
    format!(
        "{} {}",
        priority.as_str(),
        lang.t(&format!(
            "priority.{}",
            priority.as_str().to_ascii_lowercase()
        ))
    )
}

/// Splits `text` into lines of at most `width` cells, breaking after a
/// space where one is near and anywhere inside a run of CJK characters.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(2);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            let rest = match line.rfind(' ') {
                // Break at the last space unless that leaves a short line.
                Some(at) if cells(&line[..at]) * 2 > width => line.split_off(at + 1),
                _ => String::new(),
            };
            lines.push(line.trim_end().to_owned());
            used = cells(&rest);
            line = rest;
        }
        if line.is_empty() && c == ' ' {
            continue;
        }
        line.push(c);
        used += w;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Returns the end of `text` that fits in `width` cells: what a text field
/// shows when its text is longer than the field.
pub fn tail_fit(text: &str, width: usize) -> String {
    let mut used = 0;
    let mut start = text.len();
    for (index, c) in text.char_indices().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        start = index;
    }
    text[start..].to_owned()
}

/// Builds the rows of a list that fit in `visible` rows around the row
/// `selected`, which is drawn with `selected_style`. Only these rows are
/// built, so a long list costs nothing per frame.
pub fn rows_around<'a, T>(
    items: &[T],
    selected: usize,
    visible: usize,
    selected_style: ratatui::style::Style,
    build: impl Fn(&T) -> ratatui::widgets::Row<'a>,
) -> Vec<ratatui::widgets::Row<'a>> {
    let selected = selected.min(items.len().saturating_sub(1));
    let first = (selected + 1).saturating_sub(visible.max(1));
    items
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(index, item)| {
            let row = build(item);
            if index == selected {
                row.style(selected_style)
            } else {
                row
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    #[test]
    fn span_text_units() {
        let en = |secs| span_text(SignedDuration::from_secs(secs), Lang::En);
        assert_eq!(en(42), "42s");
        assert_eq!(en(245), "4m 05s");
        assert_eq!(en(3 * 3600 + 60), "3h 01m");
        assert_eq!(en(2 * 86_400 + 7200), "2d 2h");
        assert_eq!(
            span_text(SignedDuration::from_secs(245), Lang::ZhCn),
            "4分05秒"
        );
    }

    #[test]
    fn wrap_breaks_cjk_and_words() {
        assert_eq!(wrap("一二三四五", 4), ["一二", "三四", "五"]);
        assert_eq!(wrap("send the patrol now", 10), ["send the", "patrol now"]);
        assert_eq!(wrap("", 10), [""]);
        for line in wrap(
            "查看摄像机画面。派巡逻岗携带灭火器到场；如有烟火，拨打 119 并组织疏散。",
            17,
        ) {
            assert!(cells(&line) <= 17, "{line:?}");
        }
    }

    #[test]
    fn tail_fit_keeps_the_end() {
        assert_eq!(tail_fit("门锁损坏", 5), "损坏");
        assert_eq!(tail_fit("abc", 5), "abc");
    }

    #[test]
    fn short_age_units() {
        let en = |secs| short_age(SignedDuration::from_secs(secs), Lang::En);
        assert_eq!(en(0), "0s");
        assert_eq!(en(59), "59s");
        assert_eq!(en(61), "1m");
        assert_eq!(en(7200), "2h");
        assert_eq!(en(200_000), "2d");
        assert_eq!(en(-5), "0s");
        assert_eq!(short_age(SignedDuration::from_secs(61), Lang::ZhCn), "1分");
        assert_eq!(
            short_age(SignedDuration::from_secs(200_000), Lang::ZhCn),
            "2天"
        );
    }
}
