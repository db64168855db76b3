//! Small drawing helpers shared by the views: status marks, times, ages.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::style::{Modifier, Style};

use crate::domain::DeviceStatus;
use crate::i18n::Lang;
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

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

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
