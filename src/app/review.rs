//! The log browser's queries, run off the draw loop: a worker thread with
//! its own read-only connection answers pages of the log, statistics, the
//! events behind a handover sheet, whether a shift was handed over, and
//! report exports.
//!
//! Queries of one kind replace each other while they wait, so when the
//! operator types a search faster than the database answers, only the
//! latest search runs. Exports never replace each other. Each answer wakes
//! the event loop through a [`Notify`].

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::sync::Notify;

use super::duty::Signing;
use crate::domain::alarm::EntryKind;
use crate::domain::device::Liveness;
use crate::domain::services::ServiceSetup;
use crate::domain::shift::{Schedule, Shift};
use crate::domain::{Event, EventBody};
use crate::i18n::Lang;
use crate::report::export::{self, SIGNING_GRACE, mask::Privacy};
use crate::report::stats::{Stats, StatsBuilder};
use crate::store::log::{LogFilter, LogKind, LogPage};
use crate::store::{ChainHead, Store, StoreError};

/// Most rows one page of the browser holds.
pub const PAGE_ROWS: usize = 200;

/// File format of an exported report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Markdown,
    Html,
    Csv,
}

impl Format {
    pub fn next(self) -> Self {
        match self {
            Self::Markdown => Self::Html,
            Self::Html => Self::Csv,
            Self::Csv => Self::Markdown,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Html => "html",
            Self::Csv => "csv",
        }
    }
}

/// A report to write: the range, the shifts whose sheets it holds, and
/// where the file goes. Personal data is always masked.
#[derive(Clone, Debug)]
pub struct ExportJob {
    pub site: String,
    pub site_name: String,
    pub from: Timestamp,
    pub to: Timestamp,
    /// A shift id or a date range, as the file name and title show it.
    pub label: String,
    pub shifts: Vec<Shift>,
    pub schedule: Schedule,
    pub now: Timestamp,
    pub liveness: Liveness,
    pub lang: Lang,
    pub tz: TimeZone,
    pub format: Format,
    pub dir: PathBuf,
    pub services: ServiceSetup,
}

/// What the events of one shift give its handover sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct ShiftData {
    pub shift: Shift,
    /// Duty-log events from the shift's start to a grace period after its
    /// end, in log order: the remarks and signatures come from them.
    pub duty: Vec<Event>,
    pub stats: Stats,
    pub log_head: Option<ChainHead>,
}

/// A question for the worker. `generation` comes back with the answer, so
/// the screen can drop answers to queries it has since replaced.
#[derive(Clone, Debug)]
pub enum Query {
    Page {
        generation: u64,
        filter: LogFilter,
        /// Rows older than this `seq`, to load the next page.
        before: Option<i64>,
    },
    Stats {
        generation: u64,
        from: Timestamp,
        to: Timestamp,
        tz: TimeZone,
    },
    Shift {
        generation: u64,
        shift: Shift,
        tz: TimeZone,
    },
    /// Whether `shift` was handed over and taken over.
    Signing {
        shift: Shift,
    },
    /// The registered operators' ids, for the operator filter.
    Operators,
    Export(Box<ExportJob>),
}

impl Query {
    /// Queries of one slot replace each other while they wait.
    fn slot(&self) -> usize {
        match self {
            Self::Page { .. } => 0,
            Self::Stats { .. } => 1,
            Self::Shift { .. } => 2,
            Self::Signing { .. } => 3,
            Self::Operators => 4,
            Self::Export(_) => 5,
        }
    }
}

#[derive(Debug)]
pub enum Answer {
    Page {
        generation: u64,
        before: Option<i64>,
        result: Result<LogPage, String>,
    },
    Stats {
        generation: u64,
        result: Result<Stats, String>,
    },
    Shift {
        generation: u64,
        result: Result<ShiftData, String>,
    },
    Signing {
        shift: Shift,
        result: Result<Signing, String>,
    },
    Operators(Vec<String>),
    Exported(Result<PathBuf, String>),
}

/// The handle the screen keeps; dropping it ends the thread once it is idle.
pub struct Worker {
    queries: std_mpsc::Sender<Query>,
    answers: Mutex<std_mpsc::Receiver<Answer>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").finish_non_exhaustive()
    }
}

impl Worker {
    /// Starts the worker on `database`; it notifies `wake` after each answer.
    pub fn start(database: PathBuf, wake: Arc<Notify>) -> Self {
        let (queries, inbox) = std_mpsc::channel();
        let (outbox, answers) = std_mpsc::channel();
        std::thread::Builder::new()
            .name("review".into())
            .spawn(move || serve(&database, &inbox, &outbox, &wake))
            .expect("spawning the review thread");
        Self {
            queries,
            answers: Mutex::new(answers),
        }
    }

    /// Queues `query`; a stopped worker drops it, which the screen shows as
    /// a query that never answers.
    pub fn send(&self, query: Query) {
        if self.queries.send(query).is_err() {
            tracing::error!("the review worker has stopped; the log browser cannot query");
        }
    }

    /// Returns the answers that arrived since the last call.
    pub fn answers(&self) -> Vec<Answer> {
        match self.answers.lock() {
            Ok(answers) => answers.try_iter().collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn serve(
    database: &Path,
    inbox: &std_mpsc::Receiver<Query>,
    outbox: &std_mpsc::Sender<Answer>,
    wake: &Notify,
) {
    let mut store: Option<Store> = None;
    while let Ok(first) = inbox.recv() {
        let mut waiting: [Option<Query>; 5] = Default::default();
        let mut exports = Vec::new();
        for query in std::iter::once(first).chain(inbox.try_iter()) {
            match query {
                Query::Export(job) => exports.push(job),
                other => {
                    let slot = other.slot();
                    waiting[slot] = Some(other);
                }
            }
        }

        let queries = waiting
            .into_iter()
            .flatten()
            .chain(exports.into_iter().map(Query::Export));
        for query in queries {
            let answer = match open(&mut store, database) {
                Ok(store) => answer(store, query),
                Err(error) => failed(query, &error),
            };
            if outbox.send(answer).is_err() {
                return;
            }
            wake.notify_one();
        }
    }
}

fn open<'a>(store: &'a mut Option<Store>, database: &Path) -> Result<&'a Store, String> {
    if store.is_none() {
        let opened = Store::open_read_only(database).map_err(|error| {
            tracing::error!(%error, database = %database.display(), "the log browser cannot open the database");
            error.to_string()
        })?;
        *store = Some(opened);
    }
    Ok(store.as_ref().expect("opened above"))
}

fn answer(store: &Store, query: Query) -> Answer {
    let text = |error: StoreError| error.to_string();
    match query {
        Query::Page {
            generation,
            filter,
            before,
        } => Answer::Page {
            generation,
            before,
            result: store.log_page(&filter, before, PAGE_ROWS).map_err(text),
        },
        Query::Stats {
            generation,
            from,
            to,
            tz,
        } => Answer::Stats {
            generation,
            result: stats(store, from, to, &tz).map_err(text),
        },
        Query::Shift {
            generation,
            shift,
            tz,
        } => Answer::Shift {
            generation,
            result: shift_data(store, &shift, &tz).map_err(text),
        },
        Query::Signing { shift } => {
            let result = signing(store, &shift).map_err(text);
            Answer::Signing { shift, result }
        }
        Query::Operators => Answer::Operators(
            store
                .operators()
                .map(|accounts| accounts.into_iter().map(|account| account.id).collect())
                .unwrap_or_default(),
        ),
        Query::Export(job) => Answer::Exported(export_report(store, &job)),
    }
}

fn failed(query: Query, error: &str) -> Answer {
    fn result<T>(error: &str) -> Result<T, String> {
        Err(error.to_owned())
    }
    match query {
        Query::Page {
            generation, before, ..
        } => Answer::Page {
            generation,
            before,
            result: result(error),
        },
        Query::Stats { generation, .. } => Answer::Stats {
            generation,
            result: result(error),
        },
        Query::Shift { generation, .. } => Answer::Shift {
            generation,
            result: result(error),
        },
        Query::Signing { shift } => Answer::Signing {
            shift,
            result: result(error),
        },
        Query::Operators => Answer::Operators(Vec::new()),
        Query::Export(_) => Answer::Exported(result(error)),
    }
}

/// Folds the statistics of `[from, to)`. Alarms acted on inside the range
/// but raised before it are timed from their raise, which is read first.
pub fn stats(
    store: &Store,
    from: Timestamp,
    to: Timestamp,
    tz: &TimeZone,
) -> Result<Stats, StoreError> {
    let mut raised = BTreeSet::new();
    let mut acted = BTreeSet::new();
    for event in store.events_in_range(from, to)? {
        match event?.body {
            EventBody::AlarmRaised { raise } => {
                raised.insert(raise.alarm);
            }
            EventBody::AlarmActed { action } => acted.extend(action.alarm),
            EventBody::AlarmChanged { alarm, .. } => {
                acted.insert(alarm);
            }
            _ => {}
        }
    }
    let earlier: BTreeSet<u64> = acted.difference(&raised).copied().collect();

    let mut builder = StatsBuilder::new(from, to, tz.clone()).until(Timestamp::now());
    for event in store.raises_before(&earlier, from)? {
        builder.push(&event);
    }
    for event in store.events_in_range(from, to)? {
        builder.push(&event?);
    }
    Ok(builder.finish())
}

/// Reads what the handover sheet of `shift` needs from the log.
pub fn shift_data(store: &Store, shift: &Shift, tz: &TimeZone) -> Result<ShiftData, StoreError> {
    let mut duty = Vec::new();
    for event in store.events_in_range(shift.start, shift.end + SIGNING_GRACE)? {
        let event = event?;
        if matches!(event.body, EventBody::DutyRecorded { .. }) {
            duty.push(event);
        }
    }
    Ok(ShiftData {
        shift: shift.clone(),
        duty,
        stats: stats(store, shift.start, shift.end, tz)?,
        log_head: store.chain_head()?,
    })
}

/// Reads whether `shift` was handed over and taken over.
pub fn signing(store: &Store, shift: &Shift) -> Result<Signing, StoreError> {
    let filter = LogFilter {
        from: Some(shift.start),
        kinds: vec![LogKind::Handover],
        ..LogFilter::default()
    };
    let page = store.log_page(&filter, None, PAGE_ROWS)?;
    // The page is newest first; the signing reads in log order.
    let actions: Vec<_> = page
        .rows
        .iter()
        .rev()
        .filter_map(|row| match &row.body {
            EventBody::DutyRecorded { action } => Some(action),
            _ => None,
        })
        .collect();
    let mut signing = Signing::of(&shift.id, actions);

    let mut on_duty = vec![LogKind::LogIn, LogKind::AlarmAction, LogKind::Handover];
    on_duty.extend(EntryKind::ALL.into_iter().map(LogKind::Entry));
    let worked = LogFilter {
        from: Some(shift.start),
        to: Some(shift.end),
        kinds: on_duty,
        ..LogFilter::default()
    };
    signing.worked =
        signing.handover.is_some() || !store.log_page(&worked, None, 1)?.rows.is_empty();
    Ok(signing)
}

/// Writes the report of `job` to a new file in its folder and returns the path.
pub fn export_report(store: &Store, job: &ExportJob) -> Result<PathBuf, String> {
    let request = export::Request {
        site: job.site.clone(),
        site_name: job.site_name.clone(),
        from: job.from,
        to: job.to,
        range_label: job.label.clone(),
        shifts: job.shifts.clone(),
        schedule: job.schedule.clone(),
        now: job.now,
        liveness: job.liveness,
        lang: job.lang,
        tz: job.tz.clone(),
        privacy: Privacy { reveal: false },
        services: job.services.clone(),
    };
    let report = export::read(store, &request).map_err(|error| error.to_string())?;
    let bytes = match job.format {
        Format::Markdown => export::markdown::render(&report).into_bytes(),
        Format::Html => export::html::render(&report).into_bytes(),
        Format::Csv => export::csv::render(&report, true).map_err(|error| error.to_string())?,
    };

    std::fs::create_dir_all(&job.dir).map_err(|error| format!("{}: {error}", job.dir.display()))?;
    let stamp = job
        .now
        .to_zoned_datetime(job.tz.clone())
        .strftime("%Y%m%d-%H%M%S")
        .to_string();
    let label: String = job
        .label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = job
        .dir
        .join(format!("report-{label}-{stamp}.{}", job.format.extension()));
    write_new(&path, &bytes).map_err(|error| format!("{}: {error}", path.display()))?;
    tracing::info!(path = %path.display(), from = %job.from, to = %job.to, "report exported from the console");
    Ok(path)
}

/// Writes a file that must not exist yet, through to the disk.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
