//! The supervisor's report over a time range, and its renderings: CSV for
//! spreadsheets, Markdown, printable HTML, and plain text lines for a
//! terminal.
//!
//! [`read`] replays the log once from its start: the replay gives the alarm
//! and device state at each shift's end for its handover sheet, and the raise
//! times behind acknowledgements inside the range. Memory stays bounded by
//! the state (devices, open alarms) and the report's own rows, not by the
//! length of the log.

pub mod csv;
pub mod html;
pub mod markdown;
pub mod mask;
pub mod text;

use std::collections::HashMap;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::handover::{self, Sheet, SheetInput, local_time};
use super::service_log;
use super::stats::{Stats, StatsBuilder};
use crate::domain::alarm::{ActionKind, Alarm, Change, Flood};
use crate::domain::device::Liveness;
use crate::domain::privacy::mask_name;
use crate::domain::services::{ServiceSetup, Services};
use crate::domain::shift::{Schedule, Shift};
use crate::domain::{Event, EventBody, Projection};
use crate::i18n::Lang;
use crate::store::{ChainHead, Store, StoreError};
use mask::Privacy;

/// How long after a shift's end its handover and takeover are looked for.
pub const SIGNING_GRACE: SignedDuration = SignedDuration::from_hours(2);

/// What to report on.
pub struct Request {
    pub site: String,
    pub site_name: String,
    pub from: Timestamp,
    pub to: Timestamp,
    /// The range as the reader asked for it: a shift id or two dates.
    pub range_label: String,
    /// Shifts to print handover sheets for.
    pub shifts: Vec<Shift>,
    /// The schedule that names the shift of each log row.
    pub schedule: Schedule,
    pub now: Timestamp,
    pub liveness: Liveness,
    pub lang: Lang,
    pub tz: TimeZone,
    pub privacy: Privacy,
    /// Residents and ticket service levels, for the sheets' ticket and
    /// eldercare sections.
    pub services: ServiceSetup,
}

/// One statistics table: section id, title, column headings and rows.
pub type StatsTable = (&'static str, String, Vec<String>, Vec<Vec<String>>);

/// The report, with every text already in the reader's language.
#[derive(Debug, Serialize)]
pub struct Report {
    pub site: String,
    pub site_name: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub range_label: String,
    pub generated_at: Timestamp,
    pub log_head: Option<ChainHead>,
    /// Personal data printed in clear.
    pub revealed: bool,
    pub stats: Stats,
    /// Alarms raised in the range.
    pub alarms: Vec<AlarmRow>,
    /// Alarm and duty-log entries of the range, in log order.
    pub log: Vec<LogRow>,
    pub sheets: Vec<Sheet>,
    #[serde(skip)]
    pub lang: Lang,
    #[serde(skip)]
    pub tz: TimeZone,
}

/// One alarm raised in the range, and what became of it within the range.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmRow {
    pub alarm: u64,
    pub raised: String,
    pub priority: String,
    pub condition: String,
    pub source: String,
    pub acknowledged: String,
    pub closed: String,
    pub disposition: String,
}

/// One entry of the log: an alarm raise, change or action, a flood, a
/// duty-log entry, or a ticket or eldercare record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogRow {
    pub seq: i64,
    pub time: String,
    pub shift: String,
    pub kind: String,
    pub priority: String,
    pub source: String,
    pub operator: String,
    pub text: String,
    /// A duty-log, ticket or eldercare entry rather than an alarm entry.
    pub duty: bool,
}

/// A shift whose sheet is being built while the log streams past.
struct ShiftWork {
    shift: Shift,
    stats: Option<StatsBuilder>,
    events: Vec<Event>,
    sheet: Option<Sheet>,
    signed: bool,
}

/// Reads the report of `request` from `store`.
pub fn read(store: &Store, request: &Request) -> Result<Report, StoreError> {
    let log_head = store.chain_head()?;
    let stream_end = request
        .shifts
        .iter()
        .map(|shift| shift.end + SIGNING_GRACE)
        .fold(request.to, Timestamp::max);
    let through = store.last_seq_before(stream_end)?;

    let mut projection = Projection {
        services: Services::new(request.services.clone()),
        ..Projection::default()
    };
    let mut range = RangeRows::new(request);
    let mut shifts: Vec<ShiftWork> = request
        .shifts
        .iter()
        .map(|shift| ShiftWork {
            shift: shift.clone(),
            stats: None,
            events: Vec::new(),
            sheet: None,
            signed: false,
        })
        .collect();

    for event in store.events_through(through) {
        let event = event?;
        for work in &mut shifts {
            advance(work, &event, &projection, request, &log_head);
        }
        range.push(&event, &projection);
        projection.apply(&event);
    }

    // Shifts the stream did not carry past their end: in progress, or no
    // event came after them.
    let live = if shifts.iter().any(|work| work.shift.end > request.now) {
        let mut live = store.load_projection()?.0;
        live.services = store.load_services(request.services.clone())?;
        Some(live)
    } else {
        None
    };
    for work in &mut shifts {
        if work.sheet.is_none() {
            let in_progress = work.shift.end > request.now;
            let (state, stale) = match &live {
                Some(live) if in_progress => (live, Some(request.liveness)),
                _ => (&projection, None),
            };
            let generated_at = if in_progress {
                request.now
            } else {
                work.shift.end
            };
            work.sheet = Some(build_sheet(
                work,
                state,
                stale,
                generated_at,
                request,
                &log_head,
            ));
        }
        if !work.signed
            && let Some(sheet) = &mut work.sheet
        {
            handover::sign(
                sheet,
                &work.events,
                request.lang,
                &request.tz,
                request.privacy,
            );
        }
    }

    Ok(Report {
        site: request.site.clone(),
        site_name: request.site_name.clone(),
        from: request.from,
        to: request.to,
        range_label: request.range_label.clone(),
        generated_at: request.now,
        log_head,
        revealed: request.privacy.reveal,
        stats: range.stats.finish(),
        alarms: range.alarms,
        log: range.log,
        sheets: shifts.into_iter().filter_map(|work| work.sheet).collect(),
        lang: request.lang,
        tz: request.tz.clone(),
    })
}

/// Moves one shift's work on by one event, before the event is applied.
fn advance(
    work: &mut ShiftWork,
    event: &Event,
    projection: &Projection,
    request: &Request,
    log_head: &Option<ChainHead>,
) {
    let (start, end) = (work.shift.start, work.shift.end);
    if event.at >= start && work.stats.is_none() && work.sheet.is_none() {
        work.stats = Some(seeded_stats(&work.shift, projection, request));
    }
    // NOTE: the sheet shows the state at the shift's end, or now for a shift
    // in progress, not at the moment the outgoing guard signed. So a
    // handover signed early also lists what changed after the signature.
    if event.at >= end && work.sheet.is_none() {
        work.sheet = Some(build_sheet(work, projection, None, end, request, log_head));
    }
    if work.signed {
        return;
    }
    if event.at >= end + SIGNING_GRACE {
        if let Some(sheet) = &mut work.sheet {
            handover::sign(
                sheet,
                &work.events,
                request.lang,
                &request.tz,
                request.privacy,
            );
        }
        work.events = Vec::new();
        work.signed = true;
        return;
    }
    if let Some(stats) = &mut work.stats {
        stats.push(event);
    }
    if event.at >= start && matches!(event.body, EventBody::DutyRecorded { .. }) {
        work.events.push(event.clone());
    }
}

/// Starts a shift's statistics with the alarms open at its start, so that
/// acknowledgements of alarms raised before the shift are timed from their raise.
fn seeded_stats(shift: &Shift, projection: &Projection, request: &Request) -> StatsBuilder {
    let mut stats =
        StatsBuilder::new(shift.start, shift.end, request.tz.clone()).until(request.now);
    for alarm in projection.alarms.open.values() {
        stats.seed_open(alarm.id, alarm.raised_at, alarm.acknowledged);
    }
    stats
}

fn build_sheet(
    work: &mut ShiftWork,
    projection: &Projection,
    stale: Option<Liveness>,
    generated_at: Timestamp,
    request: &Request,
    log_head: &Option<ChainHead>,
) -> Sheet {
    let stats = match work.stats.take() {
        Some(stats) => stats.finish(),
        None => StatsBuilder::new(work.shift.start, work.shift.end, request.tz.clone())
            .until(request.now)
            .finish(),
    };
    let mut sheet = handover::build(&SheetInput {
        site: &handover::site_label(&request.site, &request.site_name),
        shift: &work.shift,
        generated_at,
        projection,
        stale,
        events: &work.events,
        stats: &stats,
        log_head: log_head.clone(),
        lang: request.lang,
        tz: &request.tz,
        privacy: request.privacy,
    });
    handover::add_services(
        &mut sheet,
        &projection.services,
        generated_at,
        request.lang,
        &request.tz,
        request.privacy,
    );
    sheet
}

/// The range's statistics, alarm list and log rows.
struct RangeRows<'a> {
    request: &'a Request,
    stats: StatsBuilder,
    alarms: Vec<AlarmRow>,
    alarm_rows: HashMap<u64, usize>,
    log: Vec<LogRow>,
    shift: Option<Shift>,
    /// Residents' names by id, from the registry.
    residents: HashMap<&'a str, &'a str>,
}

impl<'a> RangeRows<'a> {
    fn new(request: &'a Request) -> Self {
        Self {
            request,
            stats: StatsBuilder::new(request.from, request.to, request.tz.clone())
                .until(request.now),
            alarms: Vec::new(),
            alarm_rows: HashMap::new(),
            log: Vec::new(),
            shift: None,
            residents: request
                .services
                .residents
                .iter()
                .map(|resident| (resident.id.as_str(), resident.name.as_str()))
                .collect(),
        }
    }

    /// Folds one event in; `projection` is the state before it.
    fn push(&mut self, event: &Event, projection: &Projection) {
        self.stats.push(event);
        if event.at < self.request.from || event.at >= self.request.to {
            return;
        }
        let lang = self.request.lang;
        let privacy = self.request.privacy;
        let time = local_time(event.at, &self.request.tz);

        match &event.body {
            EventBody::AlarmRaised { raise } => {
                let source = privacy.source_name(&raise.source, &raise.name);
                let priority = priority_text(lang, raise.priority);
                let condition = lang.t(&format!("condition.{}", raise.condition.as_str()));
                self.alarm_rows.insert(raise.alarm, self.alarms.len());
                self.alarms.push(AlarmRow {
                    alarm: raise.alarm,
                    raised: time.clone(),
                    priority: priority.clone(),
                    condition: condition.to_owned(),
                    source: source.clone(),
                    acknowledged: String::new(),
                    closed: String::new(),
                    disposition: String::new(),
                });
                let text = match &raise.text {
                    Some(text) => format!("{condition}: {}", privacy.text(text)),
                    None => condition.to_owned(),
                };
                self.row(
                    event,
                    "transition.raised",
                    priority,
                    source,
                    String::new(),
                    text,
                    false,
                );
            }
            EventBody::AlarmChanged { alarm, change } => {
                if matches!(change, Change::Repeated) {
                    return;
                }
                let (priority, source) = self.alarm_info(projection, *alarm);
                let key = format!("transition.{}", change.as_str());
                self.row(
                    event,
                    &key,
                    priority,
                    source,
                    String::new(),
                    String::new(),
                    false,
                );
            }
            EventBody::AlarmActed { action } => {
                let (priority, source) = match action.alarm {
                    Some(alarm) => self.alarm_info(projection, alarm),
                    None => (String::new(), String::new()),
                };
                let mut text = privacy.text(&action.remark);
                if let (Some(alarm), ActionKind::Acknowledge | ActionKind::Close { .. }) =
                    (action.alarm, &action.kind)
                {
                    self.mark_alarm(alarm, &action.kind, &time);
                }
                if let ActionKind::Close { disposition } = &action.kind {
                    let label = lang.t(&format!("disposition.{}", disposition.as_str()));
                    text = if text.is_empty() {
                        label.to_owned()
                    } else {
                        format!("{label}: {text}")
                    };
                }
                let key = format!("transition.{}", action.kind.as_str());
                let operator = action.operator.clone();
                self.row(event, &key, priority, source, operator, text, false);
            }
            EventBody::AlarmFlood { flood } => {
                let (key, text) = match flood {
                    Flood::Started { rate } => (
                        "report.log_flood_started",
                        lang.tf("report.flood_rate", &[("rate", rate)]),
                    ),
                    Flood::Ended {
                        raised, peak_rate, ..
                    } => (
                        "report.log_flood_ended",
                        lang.tf(
                            "report.flood_summary",
                            &[("raised", raised), ("peak", peak_rate)],
                        ),
                    ),
                };
                self.row(
                    event,
                    key,
                    String::new(),
                    String::new(),
                    String::new(),
                    text,
                    false,
                );
            }
            EventBody::DutyRecorded { action } => {
                let key = match &action.kind {
                    ActionKind::Note { entry, .. } => format!("report.entry_{}", entry.as_str()),
                    other => format!("report.log_{}", other.as_str()),
                };
                let operator = action.operator.clone();
                let text = privacy.text(&action.remark);
                self.row(
                    event,
                    &key,
                    String::new(),
                    String::new(),
                    operator,
                    text,
                    true,
                );
            }
            EventBody::Ticket { .. } | EventBody::Care { .. } => {
                if service_log::is_routine(&event.body) {
                    return;
                }
                let subject = |id: &str| self.resident_subject(id);
                if let Some(row) = service_log::service_row(&event.body, lang, privacy, &subject) {
                    self.push_row(
                        event,
                        row.kind,
                        String::new(),
                        row.subject,
                        row.operator.unwrap_or_default(),
                        row.text,
                        true,
                    );
                }
            }
            _ => {}
        }
    }

    /// Formats a resident as `id name`, the name masked unless revealing.
    fn resident_subject(&self, id: &str) -> String {
        match self.residents.get(id) {
            Some(name) if self.request.privacy.reveal => format!("{id} {name}"),
            Some(name) => format!("{id} {}", mask_name(name)),
            None => id.to_owned(),
        }
    }

    fn alarm_info(&self, projection: &Projection, alarm: u64) -> (String, String) {
        let book = &projection.alarms;
        let found: Option<&Alarm> = book
            .open
            .get(&alarm)
            .or_else(|| book.closed.iter().rev().find(|closed| closed.id == alarm));
        found.map_or_else(
            || (String::new(), format!("#{alarm}")),
            |alarm| {
                (
                    priority_text(self.request.lang, alarm.priority),
                    self.request.privacy.source_name(&alarm.source, &alarm.name),
                )
            },
        )
    }

    fn mark_alarm(&mut self, alarm: u64, kind: &ActionKind, time: &str) {
        let Some(row) = self
            .alarm_rows
            .get(&alarm)
            .and_then(|index| self.alarms.get_mut(*index))
        else {
            return;
        };
        if row.acknowledged.is_empty() {
            row.acknowledged = time.to_owned();
        }
        if let ActionKind::Close { disposition } = kind {
            row.closed = time.to_owned();
            row.disposition = self
                .request
                .lang
                .t(&format!("disposition.{}", disposition.as_str()))
                .to_owned();
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        event: &Event,
        kind_key: &str,
        priority: String,
        source: String,
        operator: String,
        text: String,
        duty: bool,
    ) {
        // A kind without a label of its own shows its stored name, never
        // the catalog key.
        let kind = self.request.lang.try_t(kind_key).map_or_else(
            || {
                let name = kind_key.rsplit('.').next().unwrap_or(kind_key);
                name.trim_start_matches("log_").replace('_', " ")
            },
            str::to_owned,
        );
        self.push_row(event, kind, priority, source, operator, text, duty);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_row(
        &mut self,
        event: &Event,
        kind: String,
        priority: String,
        source: String,
        operator: String,
        text: String,
        duty: bool,
    ) {
        let shift = self.shift_of(event.at);
        self.log.push(LogRow {
            seq: event.seq,
            time: local_time(event.at, &self.request.tz),
            shift,
            kind,
            priority,
            source,
            operator,
            text,
            duty,
        });
    }

    /// Returns the id of the shift holding `at`, remembering the last one
    /// because rows come in time order.
    fn shift_of(&mut self, at: Timestamp) -> String {
        let known = self
            .shift
            .as_ref()
            .filter(|shift| at >= shift.start && at < shift.end);
        if let Some(shift) = known {
            return shift.id.clone();
        }
        let shift = self.request.schedule.shift_at(at, &self.request.tz);
        let id = shift.id.clone();
        self.shift = Some(shift);
        id
    }
}

fn priority_text(lang: Lang, priority: crate::domain::alarm::Priority) -> String {
    format!(
        "{} {}",
        priority.as_str(),
        lang.t(&format!("priority.{}", priority.as_str().to_lowercase()))
    )
}

impl Report {
    /// The header lines: site, range, generation time, log head and whether
    /// personal data is shown, as label and value pairs.
    pub fn header(&self) -> Vec<(String, String)> {
        let lang = self.lang;
        let site = handover::site_label(&self.site, &self.site_name);
        let range = format!(
            "{} ({} – {})",
            self.range_label,
            local_time(self.from, &self.tz),
            local_time(self.to, &self.tz)
        );
        vec![
            (lang.t("report.site").to_owned(), site),
            (lang.t("report.range").to_owned(), range),
            (
                lang.t("report.generated").to_owned(),
                local_time(self.generated_at, &self.tz),
            ),
            (
                lang.t("report.log_head").to_owned(),
                log_head_text(&self.log_head, lang),
            ),
            (
                lang.t("report.personal").to_owned(),
                lang.t(if self.revealed {
                    "report.personal_revealed"
                } else {
                    "report.personal_masked"
                })
                .to_owned(),
            ),
        ]
    }

    /// The statistics as tables.
    pub fn stats_tables(&self) -> Vec<StatsTable> {
        let lang = self.lang;
        let t = |key: &str| lang.t(&format!("report.{key}")).to_owned();
        let stats = &self.stats;

        let figures = handover::figures(stats, lang)
            .into_iter()
            .map(|(label, value)| vec![label, value])
            .collect();
        let conditions = stats
            .by_condition
            .iter()
            .map(|(condition, count)| {
                vec![
                    lang.t(&format!("condition.{}", condition.as_str()))
                        .to_owned(),
                    count.to_string(),
                ]
            })
            .collect();
        let sources = stats
            .top_sources
            .iter()
            .map(|source| {
                vec![
                    self_source(source, self.revealed),
                    source.raised.to_string(),
                ]
            })
            .collect();
        let operators = stats
            .operators
            .iter()
            .map(|activity| {
                vec![
                    activity.operator.clone(),
                    activity.alarm_actions.to_string(),
                    activity.duty_entries.to_string(),
                ]
            })
            .collect();
        let hours = stats
            .hours_in_order()
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .map(|(hour, count)| {
                vec![
                    format!("{hour:02}:00"),
                    count.to_string(),
                    "█".repeat(count.min(60) as usize),
                ]
            })
            .collect();
        vec![
            (
                "figures",
                t("stats_figures"),
                vec![t("col_figure"), t("col_value")],
                figures,
            ),
            (
                "by_condition",
                t("stats_by_condition"),
                vec![t("col_condition"), t("col_count")],
                conditions,
            ),
            (
                "top_sources",
                t("stats_top_sources"),
                vec![t("col_source"), t("col_count")],
                sources,
            ),
            (
                "operators",
                t("stats_operators"),
                vec![
                    t("col_operator"),
                    t("col_alarm_actions"),
                    t("col_duty_entries"),
                ],
                operators,
            ),
            (
                "per_hour",
                t("stats_per_hour"),
                vec![t("col_hour"), t("col_count"), String::new()],
                hours,
            ),
        ]
    }

    /// The alarm list as columns and rows.
    pub fn alarm_table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let t = |key: &str| self.lang.t(&format!("report.col_{key}")).to_owned();
        let columns = [
            "alarm",
            "raised",
            "priority",
            "condition",
            "source",
            "acknowledged",
            "closed",
            "disposition",
        ]
        .map(t)
        .to_vec();
        let rows = self
            .alarms
            .iter()
            .map(|row| {
                vec![
                    row.alarm.to_string(),
                    row.raised.clone(),
                    row.priority.clone(),
                    row.condition.clone(),
                    row.source.clone(),
                    row.acknowledged.clone(),
                    row.closed.clone(),
                    row.disposition.clone(),
                ]
            })
            .collect();
        (columns, rows)
    }

    /// The duty-log, ticket and eldercare entries as columns and rows. The
    /// source is the ticket id or the resident of a service entry.
    pub fn duty_table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let t = |key: &str| self.lang.t(&format!("report.col_{key}")).to_owned();
        let columns = ["time", "shift", "type", "source", "operator", "text"]
            .map(t)
            .to_vec();
        let rows = self
            .log
            .iter()
            .filter(|row| row.duty)
            .map(|row| {
                vec![
                    row.time.clone(),
                    row.shift.clone(),
                    row.kind.clone(),
                    row.source.clone(),
                    row.operator.clone(),
                    row.text.clone(),
                ]
            })
            .collect();
        (columns, rows)
    }
}

fn self_source(source: &super::stats::SourceCount, revealed: bool) -> String {
    Privacy { reveal: revealed }.source_name(&source.source, &source.name)
}

/// Formats the log head as `#SEQ HASH`, or the catalog's "none".
pub fn log_head_text(head: &Option<ChainHead>, lang: Lang) -> String {
    match head {
        Some((seq, hash)) => format!("#{seq} {hash}"),
        None => lang.t("report.no_log_head").to_owned(),
    }
}
