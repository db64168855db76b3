//! The log browser's state and keys: the period shown (a shift, a day or
//! a week, stepped back and forth), the filters, the rows and statistics
//! the query worker answered, and the export of a report.
//!
//! [`sync`] runs before each frame. It hands the worker the queries that
//! the current filters need, takes the answers that arrived, and checks
//! whether the last shift was handed over. The draw loop never waits for
//! the database: until an answer arrives the browser shows that it is
//! searching.

use std::sync::Arc;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use tokio::sync::Notify;

use super::handover;
use super::keymap::Action;
use super::note::{Corrected, NoteDialog};
use super::state::{UiState, View};
use crate::app::App;
use crate::app::duty::Overdue;
use crate::app::review::{Answer, ExportJob, Format, Query, Worker};
use crate::domain::EventBody;
use crate::domain::alarm::{ActionKind, EntryKind, Priority};
use crate::domain::shift::{Schedule, Shift};
use crate::report::stats::Stats;
use crate::store::log::{LogFilter, LogKind, LogRow};

/// Shortest time between two refreshes caused by new events in the log.
const REFRESH_EVERY: SignedDuration = SignedDuration::from_secs(2);

/// Shortest time between two checks of the last shift's handover.
const SIGNING_EVERY: SignedDuration = SignedDuration::from_secs(10);

/// How long a period the browser shows and steps by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Period {
    #[default]
    Shift,
    Day,
    Week,
}

impl Period {
    pub fn next(self) -> Self {
        match self {
            Self::Shift => Self::Day,
            Self::Day => Self::Week,
            Self::Week => Self::Shift,
        }
    }
}

/// The range a period covers, with the shifts that start inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    pub from: Timestamp,
    pub to: Timestamp,
    /// A shift id, a date, or two dates.
    pub label: String,
    pub shifts: Vec<Shift>,
}

/// The entry types the type filter steps through: a catalog key and the
/// log categories it selects.
pub fn kind_choices() -> Vec<(&'static str, Vec<LogKind>)> {
    let mut choices = vec![
        ("duty.kind_alarm", vec![LogKind::Alarm]),
        ("duty.kind_alarm_action", vec![LogKind::AlarmAction]),
        (
            "duty.kind_entries",
            EntryKind::ALL.into_iter().map(LogKind::Entry).collect(),
        ),
    ];
    for entry in EntryKind::ALL {
        choices.push((entry_key(entry), vec![LogKind::Entry(entry)]));
    }
    choices.extend([
        ("duty.kind_handover", vec![LogKind::Handover]),
        ("duty.kind_session", vec![LogKind::LogIn, LogKind::LogOut]),
        ("duty.kind_device", vec![LogKind::Device, LogKind::Link]),
        ("duty.kind_ticket", vec![LogKind::Ticket]),
        ("duty.kind_care", vec![LogKind::Care]),
    ]);
    choices
}

/// Catalog key of an entry type's name.
pub fn entry_key(entry: EntryKind) -> &'static str {
    match entry {
        EntryKind::Note => "report.entry_note",
        EntryKind::Patrol => "report.entry_patrol",
        EntryKind::Visitor => "report.entry_visitor",
        EntryKind::Incident => "report.entry_incident",
        EntryKind::Call => "report.entry_call",
        EntryKind::HandoverRemark => "report.entry_handover_remark",
    }
}

/// The browser's state.
#[derive(Clone, Debug, Default)]
pub struct ReviewState {
    /// Woken by the worker after each answer; the event loop waits on it.
    pub wake: Arc<Notify>,
    pub worker: Option<Arc<Worker>>,

    pub period: Period,
    /// An instant inside the shown period; `None` is the period of now.
    pub anchor: Option<Timestamp>,
    pub operator: Option<String>,
    /// Index into [`kind_choices`].
    pub kind: Option<usize>,
    pub priority: Option<Priority>,
    pub text: String,
    /// Registered operators, for the operator filter.
    pub operators: Vec<String>,

    pub rows: Vec<LogRow>,
    /// More rows match beyond the loaded ones; pass as `before`.
    pub next_before: Option<i64>,
    pub selected: usize,
    pub searching: bool,
    pub error: Option<String>,
    pub show_stats: bool,
    pub stats: Option<Stats>,
    pub stats_searching: bool,
    pub format: Format,
    pub exporting: bool,

    /// The generation of the latest page and statistics queries sent.
    pub generation: u64,
    /// What the latest queries asked for: filter and statistics range.
    pub asked: Option<LogFilter>,
    pub asked_stats: Option<(Timestamp, Timestamp)>,
    /// `last_seq` of the projection and the time when the shown rows were asked.
    pub asked_seq: i64,
    pub asked_at: Option<Timestamp>,
    pub operators_asked: bool,
    /// The shift whose handover was last checked, when, and at what `last_seq`.
    pub signing_asked: Option<(String, Timestamp, i64)>,
}

impl ReviewState {
    /// Returns the period shown at `now`.
    pub fn range(&self, schedule: &Schedule, tz: &TimeZone, now: Timestamp) -> Range {
        let anchor = self.anchor.unwrap_or(now);
        match self.period {
            Period::Shift => {
                let shift = schedule.shift_at(anchor, tz);
                Range {
                    from: shift.start,
                    to: shift.end,
                    label: shift.id.clone(),
                    shifts: vec![shift],
                }
            }
            Period::Day | Period::Week => {
                let last = anchor.to_zoned_datetime(tz.clone()).date();
                let first = if self.period == Period::Day {
                    last
                } else {
                    last.checked_sub(6.days()).unwrap_or(last)
                };
                let from = local_midnight(first, tz);
                let to = local_midnight(last.checked_add(1.day()).unwrap_or(last), tz);
                let label = if first == last {
                    first.to_string()
                } else {
                    format!("{first} – {last}")
                };
                let shifts = schedule
                    .between(from, to, tz)
                    .into_iter()
                    .filter(|shift| shift.start >= from)
                    .collect();
                Range {
                    from,
                    to,
                    label,
                    shifts,
                }
            }
        }
    }

    /// Returns the query the filters ask for at `now`.
    pub fn filter(&self, schedule: &Schedule, tz: &TimeZone, now: Timestamp) -> LogFilter {
        let range = self.range(schedule, tz, now);
        let text = self.text.trim();
        LogFilter {
            from: Some(range.from),
            to: Some(range.to),
            operator: self.operator.clone(),
            kinds: self
                .kind
                .and_then(|index| kind_choices().get(index).map(|(_, kinds)| kinds.clone()))
                .unwrap_or_default(),
            priority: self.priority,
            text: (!text.is_empty()).then(|| text.to_owned()),
        }
    }

    /// Returns the rows in the order shown: newest first, except that a
    /// correction stands right below the entry it corrects when both are
    /// loaded. Each item is an index into `rows` and whether it is such a
    /// correction.
    pub fn shown(&self) -> Vec<(usize, bool)> {
        let loaded: std::collections::HashSet<i64> = self.rows.iter().map(|row| row.seq).collect();
        let mut shown = Vec::with_capacity(self.rows.len());
        for (index, row) in self.rows.iter().enumerate() {
            if refers_to(row).is_some_and(|seq| loaded.contains(&seq)) {
                continue;
            }
            shown.push((index, false));
            self.push_corrections(row.seq, &mut shown, 0);
        }
        shown
    }

    fn push_corrections(&self, seq: i64, shown: &mut Vec<(usize, bool)>, depth: usize) {
        // A correction of a correction nests; the depth bounds a cycle that
        // a hand-edited log could hold.
        if depth > 8 {
            return;
        }
        for (index, row) in self.rows.iter().enumerate().rev() {
            if refers_to(row) == Some(seq) {
                shown.push((index, true));
                self.push_corrections(row.seq, shown, depth + 1);
            }
        }
    }

    /// Returns the row under the selection.
    pub fn selected_row(&self) -> Option<&LogRow> {
        let shown = self.shown();
        shown
            .get(self.selected)
            .and_then(|(index, _)| self.rows.get(*index))
    }
}

/// Returns the `seq` a correction refers to.
pub fn refers_to(row: &LogRow) -> Option<i64> {
    match &row.body {
        EventBody::DutyRecorded { action } => match &action.kind {
            ActionKind::Note { refers_to, .. } => *refers_to,
            _ => None,
        },
        _ => None,
    }
}

/// Returns the alarm a row is about.
pub fn row_alarm(row: &LogRow) -> Option<u64> {
    match &row.body {
        EventBody::AlarmRaised { raise } => Some(raise.alarm),
        EventBody::AlarmChanged { alarm, .. } => Some(*alarm),
        EventBody::AlarmActed { action } => action.alarm,
        _ => None,
    }
}

fn local_midnight(date: Date, tz: &TimeZone) -> Timestamp {
    // A midnight that a clock change skips resolves to the later instant.
    tz.to_ambiguous_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .later()
        .unwrap_or_default()
}

/// Returns the worker, starting it on first use.
fn worker(app: &App, ui: &mut UiState) -> Arc<Worker> {
    let wake = ui.review.wake.clone();
    ui.review
        .worker
        .get_or_insert_with(|| Arc::new(Worker::start(app.site.database.clone(), wake)))
        .clone()
}

/// Takes the worker's answers and sends the queries the screen needs now.
pub fn sync(app: &mut App, ui: &mut UiState, now: Timestamp) {
    if let Some(worker) = ui.review.worker.clone() {
        for answer in worker.answers() {
            take(app, ui, answer, now);
        }
    }
    if ui.view == View::Log {
        ask_log(app, ui, now);
    }
    if ui.handover.is_some() {
        handover::ask(app, ui, now);
    }
    if !app.read_only && !app.needs_login() {
        ask_signing(app, ui, now);
    }
}

fn ask_log(app: &App, ui: &mut UiState, now: Timestamp) {
    let schedule = &app.duty.schedule;
    let tz = &app.site.time_zone;
    let filter = ui.review.filter(schedule, tz, now);
    let seq = app.projection.last_seq;
    let review = &ui.review;
    let changed = review.asked.as_ref() != Some(&filter);
    let refresh = seq > review.asked_seq
        && review
            .asked_at
            .is_none_or(|at| now.duration_since(at) >= REFRESH_EVERY);
    let range = (filter.from.unwrap_or(now), filter.to.unwrap_or(now));
    let stats_needed =
        review.show_stats && (review.asked_stats != Some(range) || refresh || changed);
    if !changed && !refresh && !stats_needed {
        return;
    }
    let worker = worker(app, ui);
    let review = &mut ui.review;
    if !review.operators_asked {
        review.operators_asked = true;
        worker.send(Query::Operators);
    }
    review.generation += 1;
    review.asked_seq = seq;
    review.asked_at = Some(now);
    if changed || refresh {
        if changed {
            review.selected = 0;
        }
        review.searching = true;
        review.asked = Some(filter.clone());
        worker.send(Query::Page {
            generation: review.generation,
            filter,
            before: None,
        });
    }
    if review.show_stats {
        review.stats_searching = true;
        review.asked_stats = Some(range);
        worker.send(Query::Stats {
            generation: review.generation,
            from: range.0,
            to: range.1,
            tz: tz.clone(),
        });
    }
}

/// Asks whether the shift before the current one was handed over.
fn ask_signing(app: &App, ui: &mut UiState, now: Timestamp) {
    let schedule = &app.duty.schedule;
    let tz = &app.site.time_zone;
    let current = schedule.shift_at(now, tz);
    let previous = schedule.previous(&current, tz);
    let seq = app.projection.last_seq;
    let due = match &ui.review.signing_asked {
        None => true,
        Some((shift, at, asked_seq)) => {
            *shift != previous.id || (seq > *asked_seq && now.duration_since(*at) >= SIGNING_EVERY)
        }
    };
    if !due {
        return;
    }
    ui.review.signing_asked = Some((previous.id.clone(), now, seq));
    worker(app, ui).send(Query::Signing { shift: previous });
}

fn take(app: &mut App, ui: &mut UiState, answer: Answer, now: Timestamp) {
    let review = &mut ui.review;
    match answer {
        Answer::Page {
            generation,
            before,
            result,
        } => {
            if generation != review.generation && before.is_none() {
                return;
            }
            review.searching = false;
            match result {
                Ok(page) => {
                    review.error = None;
                    if before.is_some() {
                        review.rows.extend(page.rows);
                    } else {
                        review.rows = page.rows;
                    }
                    review.next_before = page.next_before;
                    let len = review.shown().len();
                    review.selected = review.selected.min(len.saturating_sub(1));
                }
                Err(error) => review.error = Some(error),
            }
        }
        Answer::Stats { generation, result } => {
            if generation != review.generation {
                return;
            }
            review.stats_searching = false;
            match result {
                Ok(stats) => review.stats = Some(stats),
                Err(error) => review.error = Some(error),
            }
        }
        Answer::Operators(operators) => review.operators = operators,
        Answer::Exported(result) => {
            review.exporting = false;
            match result {
                Ok(path) => ui.say(
                    ui.lang.tf("duty.exported", &[("path", &path.display())]),
                    now,
                ),
                Err(error) => {
                    ui.complain(ui.lang.tf("duty.export_failed", &[("error", &error)]), now)
                }
            }
        }
        Answer::Signing { shift, result } => {
            let Ok(signing) = result else {
                return;
            };
            let current = app.duty.schedule.shift_at(now, &app.site.time_zone);
            // An operator still logged in from before the end worked it too.
            let logged_in_before = app
                .access
                .active()
                .is_some_and(|operator| operator.since < shift.end);
            app.duty.overdue = ((signing.worked || logged_in_before)
                && !signing.complete()
                && shift.end <= now
                && shift.end == current.start)
                .then(|| Overdue {
                    shift,
                    handed_over: signing.handover.is_some(),
                });
        }
        Answer::Shift { generation, result } => handover::take(app, ui, generation, result, now),
    }
}

/// Moves the selection; at the last loaded row, loads the next page.
pub fn step(app: &App, ui: &mut UiState, delta: isize) {
    let len = ui.review.shown().len();
    UiState::step(&mut ui.review.selected, delta, len);
    let at_end = len > 0 && ui.review.selected + 1 == len;
    if at_end
        && delta > 0
        && let Some(before) = ui.review.next_before.take()
        && let Some(filter) = ui.review.asked.clone()
    {
        ui.review.searching = true;
        worker(app, ui).send(Query::Page {
            generation: ui.review.generation,
            filter,
            before: Some(before),
        });
    }
}

/// True for the keys the log browser takes over from other views.
pub fn handles(action: Action) -> bool {
    matches!(
        action,
        Action::Open
            | Action::ClearFilters
            | Action::CyclePriority
            | Action::CycleKind
            | Action::PreviousPeriod
            | Action::NextPeriod
            | Action::CyclePeriod
            | Action::CycleOperator
            | Action::ToggleStats
            | Action::Export
            | Action::CycleFormat
            | Action::Correct
    )
}

/// Applies a key of the log browser.
pub fn apply(app: &mut App, ui: &mut UiState, action: Action, now: Timestamp) {
    let schedule = app.duty.schedule.clone();
    let tz = app.site.time_zone.clone();
    let review = &mut ui.review;
    match action {
        Action::Open => open(app, ui, now),
        Action::ClearFilters => {
            review.operator = None;
            review.kind = None;
            review.priority = None;
            review.text.clear();
        }
        Action::CyclePriority => {
            review.priority = match review.priority {
                None => Some(Priority::P1),
                Some(priority) => Priority::ALL.get(priority.index() + 1).copied(),
            };
        }
        Action::CycleKind => {
            let count = kind_choices().len();
            review.kind = match review.kind {
                None => Some(0),
                Some(index) if index + 1 < count => Some(index + 1),
                Some(_) => None,
            };
        }
        Action::CycleOperator => {
            review.operator = match &review.operator {
                None => review.operators.first().cloned(),
                Some(current) => {
                    let index = review.operators.iter().position(|id| id == current);
                    index.and_then(|i| review.operators.get(i + 1)).cloned()
                }
            };
        }
        Action::PreviousPeriod => {
            let range = review.range(&schedule, &tz, now);
            review.anchor = Some(range.from - SignedDuration::from_secs(1));
        }
        Action::NextPeriod => {
            let range = review.range(&schedule, &tz, now);
            // The period of now is the last one with anything to show.
            if range.to <= now {
                review.anchor = Some(range.to);
            }
        }
        Action::CyclePeriod => review.period = review.period.next(),
        Action::ToggleStats => review.show_stats = !review.show_stats,
        Action::CycleFormat => review.format = review.format.next(),
        Action::Export => export(app, ui, now),
        Action::Correct => correct(app, ui, now),
        _ => {}
    }
}

/// Enter: an alarm row opens that alarm's history.
fn open(app: &App, ui: &mut UiState, now: Timestamp) {
    let Some(row) = ui.review.selected_row() else {
        return;
    };
    match row_alarm(row) {
        Some(alarm) if app.projection.alarms.get(alarm).is_some() => {
            ui.alarm_detail = Some(alarm);
            ui.alarm_scroll = 0;
            ui.show(View::AlarmDetail);
        }
        Some(alarm) => ui.complain(ui.lang.tf("duty.alarm_gone", &[("alarm", &alarm)]), now),
        None => {}
    }
}

/// Opens the note dialog to correct the selected entry.
fn correct(app: &App, ui: &mut UiState, now: Timestamp) {
    let lang = ui.lang;
    if app.read_only {
        ui.complain(lang.t("refusal.read_only").to_owned(), now);
        return;
    }
    let corrected = ui.review.selected_row().and_then(|row| match &row.body {
        EventBody::DutyRecorded { action } => match &action.kind {
            ActionKind::Note { entry, .. } => Some(Corrected {
                seq: row.seq,
                entry: *entry,
                text: action.remark.clone(),
            }),
            _ => None,
        },
        _ => None,
    });
    match corrected {
        Some(corrected) => ui.note = Some(NoteDialog::correction(corrected)),
        None => ui.complain(lang.t("duty.not_a_note").to_owned(), now),
    }
}

/// Writes the report of the shown period, if the user may export.
fn export(app: &App, ui: &mut UiState, now: Timestamp) {
    let lang = ui.lang;
    if !app.may_export() {
        let role = app
            .current_role()
            .map_or("", |role| lang.t(&format!("operator_role.{role}")));
        ui.complain(lang.tf("duty.export_denied", &[("role", &role)]), now);
        return;
    }
    if ui.review.exporting {
        return;
    }
    let range = ui
        .review
        .range(&app.duty.schedule, &app.site.time_zone, now);
    let job = ExportJob {
        site: app.site.id.clone(),
        site_name: app.site.name.clone(),
        from: range.from,
        to: range.to,
        label: range.label,
        shifts: range.shifts,
        schedule: app.duty.schedule.clone(),
        now,
        liveness: app.site.liveness,
        lang,
        tz: app.site.time_zone.clone(),
        format: ui.review.format,
        dir: app.duty.reports_dir.clone(),
        services: app.projection.services.setup.clone(),
    };
    ui.review.exporting = true;
    worker(app, ui).send(Query::Export(Box::new(job)));
    ui.say(lang.t("duty.exporting").to_owned(), now);
}
