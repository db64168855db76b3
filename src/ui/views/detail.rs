//! The device detail: the inventory entry, what the device last
//! reported and when, its availability, data errors and recent history.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::devices::location;
use crate::app::App;
use crate::domain::Device;
use crate::domain::device::Availability;
use crate::i18n::width::pad;
use crate::ui::widgets::{Ctx, age, local_time, status_style, status_text};

/// Width of the label column, in cells.
const LABEL_CELLS: usize = 12;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, device_id: Option<&str>, ctx: &Ctx) {
    let lang = ctx.lang;
    let Some(device) = device_id.and_then(|id| app.projection.devices.get(id)) else {
        frame.render_widget(Paragraph::new(lang.t("detail.gone")), area);
        return;
    };
    let block = Block::default()
        .borders(Borders::TOP)
        .title(format!(" {} ", device.spec.name));
    let lines = lines(app, device, ctx);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn lines<'a>(app: &App, device: &'a Device, ctx: &Ctx) -> Vec<Line<'a>> {
    let lang = ctx.lang;
    let theme = ctx.theme;
    let field = |key: &str, value: String| {
        Line::from(vec![
            Span::styled(pad(lang.t(key), LABEL_CELLS), theme.dim()),
            Span::raw("  "),
            Span::raw(value),
        ])
    };
    let yes_no = |value: bool| {
        lang.t(if value { "common.yes" } else { "common.no" })
            .to_owned()
    };
    let when = |ts: Option<jiff::Timestamp>| match ts {
        Some(ts) => lang.tf(
            "detail.when",
            &[("time", &local_time(ts, ctx)), ("age", &age(Some(ts), ctx))],
        ),
        None => lang.t("common.never").to_owned(),
    };

    let status = app.status_of(device, ctx.now);
    let mut lines = vec![Line::from(vec![
        Span::styled(pad(lang.t("detail.status"), LABEL_CELLS), theme.dim()),
        Span::raw("  "),
        Span::styled(status_text(status, lang), status_style(status, theme)),
    ])];
    lines.push(field("detail.id", device.spec.id.clone()));
    let kind = match device.spec.class {
        Some(class) => format!(
            "{} / {}",
            lang.t(&format!("kind.{}", device.spec.kind.as_str())),
            lang.t(&format!("class.{}", class.as_str()))
        ),
        None => lang
            .t(&format!("kind.{}", device.spec.kind.as_str()))
            .to_owned(),
    };
    lines.push(field("detail.kind", kind));
    lines.push(field(
        "detail.location",
        location(&device.spec.building, &device.spec.zone),
    ));
    lines.push(field("detail.registered", yes_no(device.registered)));
    if let Some(gateway) = &device.spec.gateway {
        let state = app
            .projection
            .gateways
            .get(gateway)
            .map_or(Availability::Unknown, |gateway| gateway.availability);
        lines.push(field(
            "detail.gateway",
            format!("{gateway} ({})", availability(state, lang)),
        ));
    }
    lines.push(field(
        "detail.interval",
        lang.tf("detail.seconds", &[("value", &device.spec.interval_s)]),
    ));
    lines.push(field("detail.last_seen", when(device.last_seen)));
    lines.push(field("detail.last_change", when(device.last_change)));
    let since = device
        .availability_since
        .map(|ts| format!(" · {}", local_time(ts, ctx)))
        .unwrap_or_default();
    lines.push(field(
        "detail.availability",
        format!("{}{since}", availability(device.availability, lang)),
    ));

    if let Some(reported) = &device.reported {
        let mut parts = vec![
            lang.t(&format!("state.{}", reported.state.as_str()))
                .to_owned(),
        ];
        if let Some(locked) = reported.locked {
            parts.push(
                lang.t(if locked {
                    "detail.locked"
                } else {
                    "detail.unlocked"
                })
                .to_owned(),
            );
        }
        if let Some(recording) = reported.recording {
            parts.push(
                lang.t(if recording {
                    "detail.recording"
                } else {
                    "detail.not_recording"
                })
                .to_owned(),
            );
        }
        if let Some(battery) = reported.battery {
            parts.push(lang.tf("detail.battery", &[("value", &battery)]));
        } else if reported.battery_low {
            parts.push(lang.t("device_status.battery_low").to_owned());
        }
        if let Some(signal) = reported.signal {
            parts.push(lang.tf("detail.signal", &[("value", &signal)]));
        }
        lines.push(field("detail.reported", parts.join(" · ")));
    } else {
        lines.push(field(
            "detail.reported",
            lang.t("detail.no_report").to_owned(),
        ));
    }

    if let Some(error) = &device.data_error {
        lines.push(Line::from(vec![
            Span::styled(pad(lang.t("detail.data_error"), LABEL_CELLS), theme.dim()),
            Span::raw("  "),
            Span::styled(
                format!(
                    "{} · {} · {} · {}",
                    lang.t(&format!("data_error.{}", error.code)),
                    error.topic,
                    error.reason,
                    local_time(error.at, ctx)
                ),
                status_style(crate::domain::DeviceStatus::DataError, theme),
            ),
        ]));
    }

    lines.push(Line::from(""));
    lines.push(Line::styled(lang.t("detail.recent"), theme.accent()));
    if device.recent.is_empty() {
        lines.push(Line::styled(lang.t("detail.no_recent"), theme.dim()));
    }
    for recent in device.recent.iter().rev() {
        let what = lang.t(&format!("recent.{}", recent.what));
        let detail = match recent.what.as_str() {
            "state" => lang.t(&format!("state.{}", recent.detail)).to_owned(),
            "avail" => lang.t(&format!("link.{}", recent.detail)).to_owned(),
            "data_error" => lang.t(&format!("data_error.{}", recent.detail)).to_owned(),
            "event" => event_label(&recent.detail, lang),
            _ => recent.detail.clone(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{}  ", local_time(recent.at, ctx)), theme.dim()),
            Span::raw(format!("{what}: {detail}")),
        ]));
    }
    lines
}

fn availability(state: Availability, lang: crate::i18n::Lang) -> String {
    let key = match state {
        Availability::Online => "link.online",
        Availability::Offline => "link.offline",
        Availability::Unknown => "link.unknown",
    };
    lang.t(key).to_owned()
}

/// Translates an event type where the catalog has it, else returns the raw name.
fn event_label(event: &str, lang: crate::i18n::Lang) -> String {
    lang.try_t(&format!("event.{event}"))
        .unwrap_or(event)
        .to_owned()
}
