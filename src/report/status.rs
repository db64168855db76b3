//! `guardroom status`: the database's current state, as text or as a stable
//! JSON object (documented in the README).

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use serde::Serialize;

use crate::app::count;
use crate::domain::alarm::book::FLOOD_WINDOW_S;
use crate::domain::alarm::{Priority, Shown};
use crate::domain::care::DayStatus;
use crate::domain::device::Liveness;
use crate::domain::services::{ServiceSetup, Services};
use crate::domain::ticket::TicketState;
use crate::domain::ticket::sla::{self, SlaStatus};
use crate::domain::{DeviceKind, DeviceStatus};
use crate::i18n::Lang;
use crate::recorder::lock;
use crate::store::{Store, StoreError};

/// Version of the JSON layout; bumped only when a key changes meaning or goes away.
pub const STATUS_SCHEMA: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Status {
    pub schema: u32,
    pub database: String,
    pub generated_at: Timestamp,
    /// True when a process holds the recorder lock of this database.
    pub recorder_running: bool,
    pub link: LinkSummary,
    pub last_message: Option<Timestamp>,
    pub bad_payloads: u64,
    pub events: i64,
    pub devices: DeviceSummary,
    pub alarms: AlarmSummary,
    pub tickets: TicketSummary,
    pub care: CareSummary,
}

#[derive(Debug, Serialize)]
pub struct TicketSummary {
    pub total: usize,
    /// Tickets by state: `new`, `assigned`, `in_progress`,
    /// `awaiting_rating`, `closed`, `cancelled`; zeros included.
    pub by_state: BTreeMap<&'static str, usize>,
    /// Open tickets past their service level.
    pub overdue: usize,
    /// Tickets whose local and MQTT versions disagree until an operator chooses.
    pub conflicts: usize,
}

/// Today's eldercare check-ins: one count per resident watched.
#[derive(Debug, Serialize)]
pub struct CareSummary {
    pub residents: usize,
    pub checked_in: usize,
    /// The window is open and no check-in has come yet.
    pub pending: usize,
    /// The window closed without a check-in and no ladder is running.
    pub missed: usize,
    /// The missed check-in ladder is running.
    pub in_escalation: usize,
}

#[derive(Debug, Serialize)]
pub struct AlarmSummary {
    /// Every open alarm, shelved, suppressed and out of service included.
    pub open: usize,
    /// Open alarms by the state shown to the guard: `unacknowledged`,
    /// `cleared_unacknowledged`, `needs_reset`, `acknowledged`, `shelved`,
    /// `suppressed`, `out_of_service`; zeros included.
    pub by_state: BTreeMap<&'static str, usize>,
    /// Open alarms by priority, `P1` to `P4`; zeros included.
    pub by_priority: BTreeMap<&'static str, usize>,
    pub flood: bool,
    /// New alarms in the last 10 minutes.
    pub rate_10min: u32,
    /// Operator actions and escalations committed but not yet confirmed by the broker.
    pub unsent_messages: i64,
    /// Actions attached consoles handed in that the recorder has not taken yet.
    pub waiting_requests: i64,
}

#[derive(Debug, Serialize)]
pub struct LinkSummary {
    /// `online`, `offline`, or `unknown` when no recorder is running (the
    /// last recorded state may be out of date then).
    pub state: &'static str,
    /// The state in the newest link event, whatever the recorder's state.
    pub recorded_state: Option<&'static str>,
    pub since: Option<Timestamp>,
    /// The recorded online spell began with a reconnect that found no
    /// session on the broker: messages sent meanwhile may be missing.
    pub session_lost: bool,
}

#[derive(Debug, Serialize)]
pub struct DeviceSummary {
    pub total: usize,
    pub unregistered: usize,
    /// Every status, zeros included, so consumers can rely on the keys.
    pub by_status: BTreeMap<&'static str, usize>,
    /// Per kind: `total` and a count per status.
    pub by_kind: BTreeMap<&'static str, BTreeMap<&'static str, usize>>,
}

/// Reads the status of `database` at `now`, without residents: the
/// eldercare counts are then zero.
pub fn read(database: &Path, now: Timestamp, liveness: Liveness) -> Result<Status, StoreError> {
    read_with(database, now, liveness, &ServiceSetup::default())
}

/// Reads the status of `database` at `now`, with the residents and service
/// levels of `setup`.
pub fn read_with(
    database: &Path,
    now: Timestamp,
    liveness: Liveness,
    setup: &ServiceSetup,
) -> Result<Status, StoreError> {
    let store = Store::open_read_only(database)?;
    let (projection, meta) = store.load_projection()?;
    let services = store.load_services(setup.clone())?;
    let summary = store.summary()?;
    let recorder_running = lock::is_held(database);
    let counts = count(&projection, now, liveness);

    let recorded_state = projection
        .link
        .as_ref()
        .map(|link| if link.online { "online" } else { "offline" });
    let state = match (recorder_running, recorded_state) {
        (true, Some(state)) => state,
        (true, None) => "offline",
        (false, _) => "unknown",
    };

    let mut by_status = BTreeMap::new();
    for status in DeviceStatus::ALL {
        by_status.insert(status.as_str(), counts.status_total(status));
    }
    let mut by_kind = BTreeMap::new();
    for kind in DeviceKind::ALL {
        let mut row = BTreeMap::new();
        row.insert("total", counts.kind_total(kind));
        for status in DeviceStatus::ALL {
            row.insert(status.as_str(), counts.get(kind, status));
        }
        by_kind.insert(kind.as_str(), row);
    }

    let book = &projection.alarms;
    let mut by_state = BTreeMap::new();
    for shown in Shown::ALL
        .into_iter()
        .filter(|shown| *shown != Shown::Closed)
    {
        by_state.insert(shown.as_str(), 0);
    }
    let mut by_priority = BTreeMap::new();
    for priority in Priority::ALL {
        by_priority.insert(priority.as_str(), 0);
    }
    for alarm in book.open.values() {
        *by_state.entry(alarm.shown().as_str()).or_default() += 1;
        *by_priority.entry(alarm.priority.as_str()).or_default() += 1;
    }
    let alarms = AlarmSummary {
        open: book.open.len(),
        by_state,
        by_priority,
        flood: book.in_flood(),
        rate_10min: book.rate(now, FLOOD_WINDOW_S),
        unsent_messages: store.unsent_count()?,
        waiting_requests: store.pending_request_count()?,
    };

    Ok(Status {
        schema: STATUS_SCHEMA,
        database: database.display().to_string(),
        generated_at: now,
        recorder_running,
        link: LinkSummary {
            state,
            recorded_state,
            since: projection.link.as_ref().map(|link| link.since),
            session_lost: projection
                .link
                .as_ref()
                .is_some_and(|link| link.session_lost),
        },
        last_message: meta.last_message,
        bad_payloads: meta.bad_payloads,
        events: summary.event_count,
        devices: DeviceSummary {
            total: counts.total(),
            unregistered: counts.unregistered,
            by_status,
            by_kind,
        },
        alarms,
        tickets: ticket_summary(&services, now),
        care: care_summary(&services, now),
    })
}

fn ticket_summary(services: &Services, now: Timestamp) -> TicketSummary {
    let mut by_state: BTreeMap<&'static str, usize> = TicketState::ALL
        .iter()
        .map(|state| (state.as_str(), 0))
        .collect();
    let mut overdue = 0;
    for ticket in services.tickets.tickets.values() {
        *by_state.entry(ticket.state().as_str()).or_default() += 1;
        if matches!(
            sla::status(ticket, now, &services.setup.sla),
            SlaStatus::Overdue { .. }
        ) {
            overdue += 1;
        }
    }
    TicketSummary {
        total: services.tickets.tickets.len(),
        by_state,
        overdue,
        conflicts: services.tickets.conflicts().count(),
    }
}

/// Counts today's board at `now`, after the windows and ladder stages due
/// by then, as the recorder's next tick will find them.
fn care_summary(services: &Services, now: Timestamp) -> CareSummary {
    let mut care = services.care.clone();
    care.tick(now);
    let board = care.board(now);
    let count =
        |wanted: fn(&DayStatus) -> bool| board.iter().filter(|row| wanted(&row.day)).count();
    CareSummary {
        residents: board.len(),
        checked_in: count(|day| matches!(day, DayStatus::CheckedIn { .. })),
        pending: count(|day| matches!(day, DayStatus::Pending { .. })),
        missed: count(|day| matches!(day, DayStatus::Missed { .. })),
        in_escalation: count(|day| matches!(day, DayStatus::InEscalation { .. })),
    }
}

/// Renders the status as text for a terminal, in the user's language.
pub fn render_text(status: &Status, lang: Lang, tz: &jiff::tz::TimeZone) -> String {
    let time = |ts: Option<Timestamp>| {
        ts.map_or_else(
            || lang.t("common.never").to_owned(),
            |ts| {
                ts.to_zoned_datetime(tz.clone())
                    .strftime("%Y-%m-%d %H:%M:%S")
                    .to_string()
            },
        )
    };

    let mut out = String::new();
    let zone = tz
        .iana_name()
        .unwrap_or_else(|| lang.t("status.system_time_zone"));
    out.push_str(&lang.tf("status.time_zone", &[("zone", &zone)]));
    out.push('\n');
    out.push_str(&lang.tf("status.database", &[("path", &status.database)]));
    out.push('\n');
    let recorder = if status.recorder_running {
        lang.t("status.recorder_running")
    } else {
        lang.t("status.recorder_stopped")
    };
    out.push_str(recorder);
    out.push('\n');

    // Without a recorder the live state is unknown, so the text gives the
    // last recorded state instead of pairing "unknown" with a time.
    let link = match (status.recorder_running, status.link.recorded_state) {
        (false, Some(recorded)) => lang.tf(
            "status.link_last_recorded",
            &[
                ("state", &lang.t(&format!("link.{recorded}"))),
                ("since", &time(status.link.since)),
            ],
        ),
        (false, None) => lang.t("status.link_unknown").to_owned(),
        (true, _) => lang.tf(
            "status.link",
            &[
                ("state", &lang.t(&format!("link.{}", status.link.state))),
                ("since", &time(status.link.since)),
            ],
        ),
    };
    out.push_str(&link);

    out.push('\n');
    out.push_str(&lang.tf(
        "status.last_message",
        &[("time", &time(status.last_message))],
    ));
    out.push('\n');
    out.push_str(&lang.tf(
        "status.events",
        &[("events", &status.events), ("bad", &status.bad_payloads)],
    ));
    out.push('\n');
    out.push_str(&lang.tf(
        "status.devices",
        &[
            ("total", &status.devices.total),
            ("unregistered", &status.devices.unregistered),
        ],
    ));
    out.push('\n');
    for (status_name, count) in &status.devices.by_status {
        if *count > 0 {
            let label =
                crate::i18n::width::pad(lang.t(&format!("device_status.{status_name}")), 14);
            out.push_str(&format!("  {label} {count}\n"));
        }
    }
    let alarms = &status.alarms;
    let state = |name: &str| alarms.by_state.get(name).copied().unwrap_or(0);
    let priority = |name: &str| alarms.by_priority.get(name).copied().unwrap_or(0);
    out.push_str(&lang.tf(
        "status.alarms",
        &[
            ("open", &alarms.open),
            ("p1", &priority("P1")),
            ("p2", &priority("P2")),
            ("p3", &priority("P3")),
            ("p4", &priority("P4")),
        ],
    ));
    out.push('\n');
    out.push_str(&lang.tf(
        "status.alarm_states",
        &[
            ("unacknowledged", &state("unacknowledged")),
            ("cleared", &state("cleared_unacknowledged")),
            ("reset", &state("needs_reset")),
            ("acknowledged", &state("acknowledged")),
            ("shelved", &state("shelved")),
            ("suppressed", &state("suppressed")),
        ],
    ));
    out.push('\n');
    push_services(&mut out, status, lang);
    if alarms.flood {
        out.push_str(&lang.tf("status.flood", &[("rate", &alarms.rate_10min)]));
        out.push('\n');
    }
    if alarms.unsent_messages > 0 {
        out.push_str(&lang.tf("status.unsent", &[("count", &alarms.unsent_messages)]));
        out.push('\n');
    }
    out
}

/// Adds the repair tickets by state and today's check-ins, two or three
/// short lines each, so that they fit 80 columns.
fn push_services(out: &mut String, status: &Status, lang: Lang) {
    let tickets = &status.tickets;
    let state = |name: &str| tickets.by_state.get(name).copied().unwrap_or(0);
    out.push_str(&lang.tf(
        "status.tickets",
        &[("total", &tickets.total), ("overdue", &tickets.overdue)],
    ));
    out.push('\n');
    out.push_str(&lang.tf(
        "status.ticket_states",
        &[
            ("new", &state("new")),
            ("assigned", &state("assigned")),
            ("in_progress", &state("in_progress")),
            ("awaiting_rating", &state("awaiting_rating")),
        ],
    ));
    out.push('\n');
    out.push_str(&lang.tf(
        "status.ticket_ended",
        &[
            ("closed", &state("closed")),
            ("cancelled", &state("cancelled")),
        ],
    ));
    out.push('\n');

    let care = &status.care;
    out.push_str(&lang.tf("status.check_ins", &[("residents", &care.residents)]));
    out.push('\n');
    out.push_str(&lang.tf(
        "status.check_in_states",
        &[
            ("checked_in", &care.checked_in),
            ("pending", &care.pending),
            ("missed", &care.missed),
            ("in_escalation", &care.in_escalation),
        ],
    ));
    out.push('\n');
}
