//! The handover sheet (交接班记录): what the outgoing guard hands to the
//! incoming one, built from the alarm and device state at the handover and
//! from the shift's own events.
//!
//! A sheet is a list of sections in a few generic shapes (a table, a list of
//! figures, signature lines), already in the reader's language. A new kind
//! of section (repair tickets, eldercare) is one more builder that returns a
//! [`Section`]; the renderers need no change.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::care::{entry_text, reason_text};
use super::export::mask::Privacy;
use super::stats::Stats;
use crate::domain::alarm::{ActionKind, Alarm, EntryKind, Shown};
use crate::domain::care::{CareEntryKind, DayStatus};
use crate::domain::device::Liveness;
use crate::domain::privacy::{mask_name, mask_room};
use crate::domain::services::Services;
use crate::domain::shift::Shift;
use crate::domain::ticket::{SlaStatus, Step};
use crate::domain::{DeviceStatus, Event, EventBody, Projection};
use crate::i18n::Lang;
use crate::store::ChainHead;

/// A handover sheet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sheet {
    pub site: String,
    pub shift: ShiftRef,
    pub generated_at: Timestamp,
    pub sections: Vec<Section>,
    /// The newest link of the log's hash chain when the sheet was made.
    pub log_head: Option<ChainHead>,
}

/// The shift a sheet is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShiftRef {
    pub id: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

impl From<&Shift> for ShiftRef {
    fn from(shift: &Shift) -> Self {
        Self {
            id: shift.id.clone(),
            start: shift.start,
            end: shift.end,
        }
    }
}

/// One section: a stable id (`open_alarms`, `signatures`…), its title in
/// the reader's language, and its content.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Section {
    pub id: &'static str,
    pub title: String,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Body {
    /// Rows under column headings; `empty` is shown when there are no rows.
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
        empty: String,
    },
    /// Label and value pairs.
    Figures(Vec<(String, String)>),
    /// Lines to sign, filled from the log when signed there.
    Signatures(Vec<Signature>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// "Outgoing" or "Incoming", in the reader's language.
    pub label: String,
    pub operator: Option<String>,
    /// Local time of the signature.
    pub at: Option<String>,
}

/// What a sheet is built from.
pub struct SheetInput<'a> {
    pub site: &'a str,
    pub shift: &'a Shift,
    pub generated_at: Timestamp,
    /// Alarm and device state at the handover (or now, for a shift in progress).
    pub projection: &'a Projection,
    /// Judges devices stale at `generated_at` when set. A projection replayed
    /// from the log lacks heartbeat times, so it must not be judged for staleness.
    pub stale: Option<Liveness>,
    /// The shift's events; only duty-log events are read. Handover and
    /// takeover actions are matched by their shift id, so events just after
    /// the shift's end may be included.
    pub events: &'a [Event],
    pub stats: &'a Stats,
    pub log_head: Option<ChainHead>,
    pub lang: Lang,
    pub tz: &'a TimeZone,
    pub privacy: Privacy,
}

/// Builds the sheet of `input.shift`.
pub fn build(input: &SheetInput<'_>) -> Sheet {
    let sections = vec![
        alarms_section(input, "open_alarms", |shown| {
            matches!(
                shown,
                Shown::Unacknowledged | Shown::Acknowledged | Shown::NeedsReset
            )
        }),
        alarms_section(input, "cleared_unacknowledged", |shown| {
            shown == Shown::ClearedUnacknowledged
        }),
        shelved_section(input),
        out_of_service_section(input),
        devices_section(input),
        counts_section(input),
    ];
    let mut sheet = Sheet {
        site: input.site.to_owned(),
        shift: input.shift.into(),
        generated_at: input.generated_at,
        sections,
        log_head: input.log_head.clone(),
    };
    sign(
        &mut sheet,
        input.events,
        input.lang,
        input.tz,
        input.privacy,
    );
    sheet
}

/// Fills (or refills) the remarks and signatures of `sheet` from the duty-log
/// events in `events`: a takeover is often recorded after the shift ends,
/// so a sheet built at the end of its shift is signed again later.
pub fn sign(sheet: &mut Sheet, events: &[Event], lang: Lang, tz: &TimeZone, privacy: Privacy) {
    sheet
        .sections
        .retain(|section| !matches!(section.id, "remarks" | "signatures"));
    sheet
        .sections
        .push(remarks_section(&sheet.shift, events, lang, tz, privacy));
    sheet
        .sections
        .push(signatures_section(&sheet.shift, events, lang, tz));
}

/// Adds the repair ticket and eldercare sections from the live `services`
/// at `now`, before the remarks and signatures. Only a sheet built from the
/// live state takes them: a replayed projection has no residents, so its
/// eldercare section would be empty whatever happened.
pub fn add_services(
    sheet: &mut Sheet,
    services: &Services,
    now: Timestamp,
    lang: Lang,
    tz: &TimeZone,
    privacy: Privacy,
) {
    sheet.sections.retain(|section| {
        !matches!(
            section.id,
            "open_tickets" | "tickets_worked" | "check_ins" | "care_events"
        )
    });
    let at = sheet
        .sections
        .iter()
        .position(|section| matches!(section.id, "remarks" | "signatures"))
        .unwrap_or(sheet.sections.len());
    let shift = (sheet.shift.start, sheet.shift.end.min(now));
    let added = [
        tickets_section(services, now, lang, tz),
        tickets_worked_section(services, shift, lang, tz),
        check_ins_section(services, now, lang, tz, privacy),
        care_events_section(services, shift, lang, tz, privacy),
    ];
    sheet.sections.splice(at..at, added);
}

/// Tickets still to be repaired, overdue first.
fn tickets_section(services: &Services, now: Timestamp, lang: Lang, tz: &TimeZone) -> Section {
    let rows = services
        .open_tickets(now)
        .into_iter()
        .map(|(ticket, status)| {
            let content = &ticket.content;
            let due = match status {
                SlaStatus::Overdue { by, .. } => {
                    label(lang, "overdue_by").replace("{by}", &duration_text(by))
                }
                _ => local_time(services.setup.sla.due(ticket), tz),
            };
            vec![
                ticket.id.clone(),
                lang.t(&format!("tickets.urgency_{}", content.urgency.as_str()))
                    .to_owned(),
                lang.t(&format!("tickets.category_{}", content.category.as_str()))
                    .to_owned(),
                content.location.clone(),
                lang.t(&format!("tickets.state_{}", content.state.as_str()))
                    .to_owned(),
                content.assignee.clone().unwrap_or_default(),
                due,
            ]
        })
        .collect();
    table(
        lang,
        "open_tickets",
        &[
            "ticket", "urgency", "category", "location", "state", "assignee", "due",
        ],
        rows,
    )
}

/// Lists every ticket step taken between the two times of `shift` (its
/// start, and its end or now), oldest first, so that the incoming guard can
/// tell a resident about a repair that is already closed.
fn tickets_worked_section(
    services: &Services,
    (start, end): (Timestamp, Timestamp),
    lang: Lang,
    tz: &TimeZone,
) -> Section {
    let mut steps: Vec<(Timestamp, &str, &Step)> = services
        .tickets
        .tickets
        .values()
        .flat_map(|ticket| {
            ticket
                .history
                .iter()
                .filter(|step| step.at >= start && step.at < end)
                .map(|step| (step.at, ticket.id.as_str(), step))
        })
        .collect();
    steps.sort_by_key(|(at, id, _)| (*at, *id));
    let rows = steps
        .into_iter()
        .map(|(at, id, step)| {
            vec![
                day_time(at, tz),
                id.to_owned(),
                lang.t(&format!("tickets.step_{}", step.what)).to_owned(),
                step.operator.clone(),
                step.remark.clone(),
            ]
        })
        .collect();
    table(
        lang,
        "tickets_worked",
        &["time", "ticket", "step", "by", "remark"],
        rows,
    )
}

/// Lists the residents' events of the shift apart from routine check-ins,
/// oldest first: SOS and falls, missed windows, ladder stages, the outcomes
/// guards recorded and how each ladder ended.
fn care_events_section(
    services: &Services,
    (start, end): (Timestamp, Timestamp),
    lang: Lang,
    tz: &TimeZone,
    privacy: Privacy,
) -> Section {
    let mut entries: Vec<(Timestamp, &str, &CareEntryKind)> = services
        .setup
        .residents
        .iter()
        .flat_map(|resident| {
            services
                .care
                .history(&resident.id)
                .unwrap_or_default()
                .iter()
                .filter(|entry| entry.at >= start && entry.at < end)
                .filter(|entry| {
                    !matches!(
                        entry.what,
                        CareEntryKind::CheckedIn { .. }
                            | CareEntryKind::Activity { .. }
                            | CareEntryKind::ActivityResumed
                    )
                })
                .map(|entry| (entry.at, resident.id.as_str(), &entry.what))
        })
        .collect();
    entries.sort_by_key(|(at, id, _)| (*at, *id));
    let rows = entries
        .into_iter()
        .map(|(at, id, what)| {
            let name = services
                .care
                .resident(id)
                .map_or_else(String::new, |resident| {
                    if privacy.reveal {
                        resident.name.clone()
                    } else {
                        mask_name(&resident.name)
                    }
                });
            // The board shows who recorded an outcome inline; the sheet
            // gives it a column, as for tickets.
            let (what, by, remark) = match what {
                CareEntryKind::Outcome {
                    outcome,
                    operator,
                    remark,
                    ..
                } => (
                    lang.t(&format!("board.outcome_{}", outcome.as_str()))
                        .to_owned(),
                    operator.clone(),
                    remark.clone(),
                ),
                other => {
                    let (what, remark) = entry_text(other, lang);
                    (what, String::new(), remark)
                }
            };
            vec![day_time(at, tz), id.to_owned(), name, what, by, remark]
        })
        .collect();
    table(
        lang,
        "care_events",
        &["time", "resident", "name", "what", "by", "remark"],
        rows,
    )
}

/// Formats `at` as local `MM-DD HH:MM`, short enough for a shift's tables.
fn day_time(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned_datetime(tz.clone())
        .strftime("%m-%d %H:%M")
        .to_string()
}

/// Residents whose check-in is missed, escalating or still pending; names
/// and rooms masked unless `privacy` reveals them.
fn check_ins_section(
    services: &Services,
    now: Timestamp,
    lang: Lang,
    tz: &TimeZone,
    privacy: Privacy,
) -> Section {
    let rows = services
        .check_ins_needing_attention(now)
        .into_iter()
        .map(|row| {
            let resident = services.care.resident(&row.resident);
            let name = resident.map_or_else(String::new, |r| {
                if privacy.reveal {
                    r.name.clone()
                } else {
                    mask_name(&r.name)
                }
            });
            let home = resident.map_or_else(String::new, |r| {
                let room = if privacy.reveal {
                    r.room.clone()
                } else {
                    mask_room(&r.room)
                };
                [r.building.as_str(), r.unit.as_str(), room.as_str()]
                    .iter()
                    .filter(|part| !part.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            let (state, detail) = match &row.day {
                DayStatus::CheckedIn { at } => ("checked_in", local_time(*at, tz)),
                DayStatus::Pending { closes } => ("pending", local_time(*closes, tz)),
                DayStatus::Missed {
                    ended: Some(end), ..
                } => (
                    "missed",
                    format!(
                        "{} · {}",
                        reason_text(&end.reason, lang),
                        local_time(end.at, tz)
                    ),
                ),
                DayStatus::Missed { closes, .. } => ("missed", local_time(*closes, tz)),
                DayStatus::InEscalation { stage, since, .. } => (
                    "in_escalation",
                    format!(
                        "{} {} · {}",
                        stage.number(),
                        lang.t(&format!("board.stage_{}", stage.number())),
                        local_time(*since, tz)
                    ),
                ),
            };
            vec![
                row.resident.clone(),
                name,
                home,
                lang.t(&format!("board.{state}")).to_owned(),
                detail,
            ]
        })
        .collect();
    table(
        lang,
        "check_ins",
        &["resident", "name", "home", "check_in", "stage"],
        rows,
    )
}

/// Names a site for a sheet's header: its name with the id, or the id
/// alone when no name is configured.
pub fn site_label(id: &str, name: &str) -> String {
    if name.is_empty() {
        id.to_owned()
    } else {
        format!("{name} ({id})")
    }
}

/// Formats `at` as local `YYYY-MM-DD HH:MM`.
pub fn local_time(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

fn label(lang: Lang, key: &str) -> String {
    lang.t(&format!("report.{key}")).to_owned()
}

fn columns(lang: Lang, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|key| label(lang, &format!("col_{key}")))
        .collect()
}

fn section(lang: Lang, id: &'static str, body: Body) -> Section {
    Section {
        id,
        title: label(lang, &format!("section_{id}")),
        body,
    }
}

fn table(lang: Lang, id: &'static str, keys: &[&str], rows: Vec<Vec<String>>) -> Section {
    section(
        lang,
        id,
        Body::Table {
            columns: columns(lang, keys),
            rows,
            empty: label(lang, "none"),
        },
    )
}

/// Open alarms in queue order (priority, then oldest first).
fn queued<'a>(input: &'a SheetInput<'_>, keep: impl Fn(Shown) -> bool) -> Vec<&'a Alarm> {
    let mut alarms: Vec<&Alarm> = input
        .projection
        .alarms
        .open
        .values()
        .filter(|alarm| keep(alarm.shown()))
        .collect();
    alarms.sort_by_key(|alarm| (alarm.priority, alarm.raised_at, alarm.id));
    alarms
}

fn alarm_cells(input: &SheetInput<'_>, alarm: &Alarm) -> Vec<String> {
    let lang = input.lang;
    vec![
        format!(
            "{} {}",
            alarm.priority.as_str(),
            lang.t(&format!(
                "priority.{}",
                alarm.priority.as_str().to_lowercase()
            ))
        ),
        lang.t(&format!("condition.{}", alarm.condition.as_str()))
            .to_owned(),
        input.privacy.source_name(&alarm.source, &alarm.name),
        local_time(alarm.raised_at, input.tz),
        lang.t(&format!("shown.{}", alarm.shown().as_str()))
            .to_owned(),
    ]
}

fn alarms_section(
    input: &SheetInput<'_>,
    id: &'static str,
    keep: impl Fn(Shown) -> bool,
) -> Section {
    let rows = queued(input, keep)
        .into_iter()
        .map(|alarm| alarm_cells(input, alarm))
        .collect();
    table(
        input.lang,
        id,
        &["priority", "condition", "source", "raised", "state"],
        rows,
    )
}

fn shelved_section(input: &SheetInput<'_>) -> Section {
    let rows = queued(input, |shown| shown == Shown::Shelved)
        .into_iter()
        .map(|alarm| {
            let mut cells = alarm_cells(input, alarm);
            cells.pop();
            let shelving = alarm.shelved.as_ref();
            cells.push(shelving.map_or_else(String::new, |shelving| {
                shelving.until.map_or_else(
                    || label(input.lang, "until_cleared"),
                    |until| local_time(until, input.tz),
                )
            }));
            cells.push(shelving.map_or_else(String::new, |s| s.by.clone()));
            cells.push(shelving.map_or_else(String::new, |s| input.privacy.text(&s.reason)));
            cells
        })
        .collect();
    table(
        input.lang,
        "shelved",
        &[
            "priority",
            "condition",
            "source",
            "raised",
            "until",
            "operator",
            "reason",
        ],
        rows,
    )
}

fn out_of_service_section(input: &SheetInput<'_>) -> Section {
    let projection = input.projection;
    let rows = projection
        .alarms
        .state
        .out_of_service
        .iter()
        .map(|(device, record)| {
            let name = projection
                .devices
                .get(device)
                .map_or(device.as_str(), |device| device.spec.name.as_str());
            vec![
                name.to_owned(),
                local_time(record.since, input.tz),
                record.by.clone(),
                input.privacy.text(&record.remark),
            ]
        })
        .collect();
    table(
        input.lang,
        "out_of_service",
        &["device", "since", "operator", "reason"],
        rows,
    )
}

fn devices_section(input: &SheetInput<'_>) -> Section {
    let projection = input.projection;
    let mut rows = Vec::new();
    for device in projection
        .devices
        .values()
        .filter(|device| device.registered)
    {
        let offline = projection.status_of(device, input.generated_at, Liveness::default())
            == DeviceStatus::Offline;
        let stale = input.stale.is_some_and(|liveness| {
            device.status(input.generated_at, liveness, false) == DeviceStatus::Stale
        });
        if !offline && !stale {
            continue;
        }
        let status = if offline {
            DeviceStatus::Offline
        } else {
            DeviceStatus::Stale
        };
        let since = if offline {
            device.availability_since
        } else {
            device.last_seen
        };
        rows.push(vec![
            device.spec.name.clone(),
            [device.spec.building.as_str(), device.spec.zone.as_str()]
                .iter()
                .filter(|part| !part.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
            input
                .lang
                .t(&format!("device_status.{}", status.as_str()))
                .to_owned(),
            since.map_or_else(String::new, |at| local_time(at, input.tz)),
        ]);
    }
    table(
        input.lang,
        "devices",
        &["device", "place", "state", "since"],
        rows,
    )
}

fn counts_section(input: &SheetInput<'_>) -> Section {
    section(
        input.lang,
        "counts",
        Body::Figures(figures(input.stats, input.lang)),
    )
}

/// The main figures of `stats` as label and value pairs.
pub fn figures(stats: &Stats, lang: Lang) -> Vec<(String, String)> {
    let priorities = stats
        .by_priority
        .iter()
        .enumerate()
        .map(|(index, count)| format!("P{} {count}", index + 1))
        .collect::<Vec<_>>()
        .join(" · ");
    let share = stats
        .false_alarm_share()
        .map_or_else(|| "—".to_owned(), |share| format!("{:.0}%", share * 100.0));
    vec![
        (label(lang, "fig_raised"), stats.raised.to_string()),
        (label(lang, "fig_by_priority"), priorities),
        (
            label(lang, "fig_acknowledge"),
            timing_text(&stats.acknowledge, lang),
        ),
        (label(lang, "fig_close"), timing_text(&stats.close, lang)),
        (
            label(lang, "fig_false"),
            lang.tf(
                "report.false_value",
                &[
                    ("false", &stats.false_alarms),
                    ("closed", &stats.closed),
                    ("share", &share),
                ],
            ),
        ),
        (
            label(lang, "fig_floods"),
            lang.tf(
                "report.floods_value",
                &[
                    ("count", &stats.floods.count),
                    ("duration", &duration_text(stats.floods.duration)),
                    ("peak", &stats.floods.peak_rate),
                ],
            ),
        ),
    ]
}

/// Formats a median and 95th percentile with the count they are taken over.
pub fn timing_text(timing: &super::stats::Timing, lang: Lang) -> String {
    match (timing.median, timing.p95) {
        (Some(median), Some(p95)) => lang.tf(
            "report.timing_value",
            &[
                ("median", &duration_text(median)),
                ("p95", &duration_text(p95)),
                ("count", &timing.count),
            ],
        ),
        _ => "—".to_owned(),
    }
}

/// Formats a duration as `1h 02m 03s`, `2m 05s` or `45s`.
pub fn duration_text(duration: jiff::SignedDuration) -> String {
    let seconds = duration.as_secs().max(0);
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}h {minutes:02}m {seconds:02}s")
    } else if minutes > 0 {
        format!("{minutes}m {seconds:02}s")
    } else {
        format!("{seconds}s")
    }
}

fn remarks_section(
    shift: &ShiftRef,
    events: &[Event],
    lang: Lang,
    tz: &TimeZone,
    privacy: Privacy,
) -> Section {
    let mut rows = Vec::new();
    for event in events {
        let EventBody::DutyRecorded { action } = &event.body else {
            continue;
        };
        let in_shift = event.at >= shift.start && event.at < shift.end;
        let kind = match &action.kind {
            ActionKind::Note {
                entry: EntryKind::HandoverRemark,
                ..
            } if in_shift => "report.entry_handover_remark",
            ActionKind::HandOver { shift: id } if *id == shift.id => "report.log_hand_over",
            _ => continue,
        };
        if action.remark.trim().is_empty() {
            continue;
        }
        rows.push(vec![
            local_time(event.at, tz),
            action.operator.clone(),
            lang.t(kind).to_owned(),
            privacy.text(&action.remark),
        ]);
    }
    table(lang, "remarks", &["time", "operator", "type", "text"], rows)
}

fn signatures_section(shift: &ShiftRef, events: &[Event], lang: Lang, tz: &TimeZone) -> Section {
    let mut outgoing = None;
    let mut incoming = None;
    for event in events {
        let EventBody::DutyRecorded { action } = &event.body else {
            continue;
        };
        match &action.kind {
            ActionKind::HandOver { shift: id } if *id == shift.id => {
                outgoing = Some((action.id, action.operator.clone(), event.at));
            }
            ActionKind::TakeOver {
                shift: id,
                handover,
            } if *id == shift.id
                // A takeover confirms one handover; an older one no longer counts.
                && outgoing
                    .as_ref()
                    .is_none_or(|(signed, ..)| signed == handover) =>
            {
                incoming = Some((action.operator.clone(), event.at));
            }
            _ => {}
        }
    }
    let line = |key: &str, signed: Option<(String, Timestamp)>| Signature {
        label: label(lang, key),
        operator: signed.as_ref().map(|(operator, _)| operator.clone()),
        at: signed.map(|(_, at)| local_time(at, tz)),
    };
    section(
        lang,
        "signatures",
        Body::Signatures(vec![
            line("outgoing", outgoing.map(|(_, operator, at)| (operator, at))),
            line("incoming", incoming),
        ]),
    )
}
