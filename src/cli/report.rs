//! `guardroom report`: the duty report of a shift or of a range of local
//! dates, as CSV, Markdown or HTML. Reads the database without writing to
//! it, so it works while a recorder runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::Context;
use crate::config::Config;
use crate::domain::device::Liveness;
use crate::domain::shift::Schedule;
use crate::i18n::Lang;
use crate::report::export::{self, Request, mask::Privacy};
use crate::store::Store;

/// Exit code for a mistake in the arguments.
const USAGE: u8 = 2;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Shift id, its local start date and time, for example 2026-12-05T08:00.
    #[arg(long, value_name = "ID", conflicts_with_all = ["from", "to"])]
    pub shift: Option<String>,
    /// First local date of the range (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last local date of the range, included (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Output format: csv, md or html.
    #[arg(long, value_name = "FORMAT", default_value = "md")]
    pub format: String,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the --output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Start CSV output with a UTF-8 byte-order mark, for spreadsheet programs.
    #[arg(long)]
    pub bom: bool,
    /// Print residents' names, phone numbers and rooms in clear.
    #[arg(long)]
    pub reveal_personal: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Markdown,
    Html,
}

impl Format {
    fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "md" | "markdown" => Some(Self::Markdown),
            "html" | "htm" => Some(Self::Html),
            _ => None,
        }
    }
}

/// The range to report on, and the shifts whose sheets it prints.
struct Range {
    from: Timestamp,
    to: Timestamp,
    label: String,
    shifts: Vec<crate::domain::shift::Shift>,
}

pub fn run(context: &Context, args: &ReportArgs) -> ExitCode {
    let config = match context.optional_config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let lang = config
        .as_ref()
        .map_or(context.lang, |config| context.lang_for(config));
    let fail = |key: &str, code: u8, values: &[(&str, &dyn std::fmt::Display)]| {
        eprintln!("{}", lang.tf(&format!("report.{key}"), values));
        ExitCode::from(code)
    };

    let Some(format) = Format::parse(&args.format) else {
        return fail("bad_format", USAGE, &[("value", &args.format)]);
    };
    let tz = match time_zone(config.as_ref()) {
        Ok(tz) => tz,
        Err(zone) => return fail("bad_time_zone", USAGE, &[("zone", &zone)]),
    };
    let schedule = schedule(config.as_ref());
    let range = match range(args, &schedule, &tz, lang) {
        Ok(range) => range,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(USAGE);
        }
    };
    if let Some(path) = &args.output
        && path.exists()
        && !args.force
    {
        return fail("exists", USAGE, &[("path", &path.display())]);
    }

    let database = context.database(config.as_ref());
    if !database.is_file() {
        return fail("no_database", 1, &[("path", &database.display())]);
    }
    let (site, site_name) = config.as_ref().map_or_else(
        || ("site".to_owned(), String::new()),
        |config| (config.site.id.clone(), config.site.name.clone()),
    );
    let services = config
        .as_ref()
        .map(Config::service_setup)
        .unwrap_or_default();
    let request = Request {
        services,
        site,
        site_name,
        from: range.from,
        to: range.to,
        range_label: range.label,
        shifts: range.shifts,
        schedule,
        now: Timestamp::now(),
        liveness: Liveness {
            stale_factor: config
                .as_ref()
                .map_or(Liveness::default().stale_factor, |c| c.console.stale_factor),
        },
        lang,
        tz,
        privacy: Privacy {
            reveal: args.reveal_personal,
        },
    };

    let report = Store::open_read_only(&database).and_then(|store| export::read(&store, &request));
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            return fail(
                "read_failed",
                1,
                &[("path", &database.display()), ("error", &error)],
            );
        }
    };
    tracing::info!(
        from = %request.from, to = %request.to, revealed = args.reveal_personal,
        "report generated"
    );

    let bytes = match format {
        Format::Csv => match export::csv::render(&report, args.bom) {
            Ok(bytes) => bytes,
            Err(error) => {
                return fail("write_failed", 1, &[("path", &"-"), ("error", &error)]);
            }
        },
        Format::Markdown => export::markdown::render(&report).into_bytes(),
        Format::Html => export::html::render(&report).into_bytes(),
    };
    match &args.output {
        Some(path) => match write_file(path, &bytes, args.force) {
            Ok(()) => {
                eprintln!(
                    "{}",
                    lang.tf("report.written", &[("path", &path.display())])
                );
                ExitCode::SUCCESS
            }
            Err(error) => fail(
                "write_failed",
                1,
                &[("path", &path.display()), ("error", &error)],
            ),
        },
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => fail("write_failed", 1, &[("path", &"-"), ("error", &error)]),
            }
        }
    }
}

/// Reads the configuration when one is named or present; a report works
/// with `--db FILE` alone, in the system's time zone.
fn time_zone(config: Option<&Config>) -> Result<TimeZone, String> {
    match config {
        Some(config) => {
            TimeZone::get(&config.site.time_zone).map_err(|_| config.site.time_zone.clone())
        }
        None => Ok(crate::config::site_time_zone(None)),
    }
}

/// Returns the site's shift schedule: the configured one, else day and
/// night shifts from 08:00 and 20:00.
fn schedule(config: Option<&Config>) -> Schedule {
    config.map_or_else(Schedule::default, |config| config.shifts.clone())
}

fn range(
    args: &ReportArgs,
    schedule: &Schedule,
    tz: &TimeZone,
    lang: Lang,
) -> Result<Range, String> {
    if let Some(id) = &args.shift {
        let shift = schedule
            .by_id(id, tz)
            .map_err(|error| lang.tf("report.bad_shift", &[("error", &error)]))?;
        return Ok(Range {
            from: shift.start,
            to: shift.end,
            label: shift.id.clone(),
            shifts: vec![shift],
        });
    }
    let (Some(from_text), Some(to_text)) = (&args.from, &args.to) else {
        return Err(lang.t("report.need_range").to_owned());
    };
    let from = parse_date(from_text, "--from", lang)?;
    let to = parse_date(to_text, "--to", lang)?;
    if to < from {
        return Err(lang.tf("report.bad_range", &[("from", &from), ("to", &to)]));
    }
    let start = local_midnight(from, tz);
    let end = local_midnight(to.checked_add(1.day()).unwrap_or(to), tz);
    // The shifts that start inside the range: the night shift before the
    // first morning belongs to the day before.
    let shifts = schedule
        .between(start, end, tz)
        .into_iter()
        .filter(|shift| shift.start >= start)
        .collect();
    Ok(Range {
        from: start,
        to: end,
        label: format!("{from} – {to}"),
        shifts,
    })
}

fn parse_date(text: &str, option: &str, lang: Lang) -> Result<Date, String> {
    text.trim()
        .parse::<Date>()
        .map_err(|_| lang.tf("report.bad_date", &[("value", &text), ("option", &option)]))
}

fn local_midnight(date: Date, tz: &TimeZone) -> Timestamp {
    // A midnight that a clock change skips resolves to the later instant.
    tz.to_ambiguous_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .later()
        .unwrap_or_default()
}

/// Writes the whole file, refusing to replace one unless `force` is set.
fn write_file(path: &Path, bytes: &[u8], force: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // Checked again here: the file may have appeared since the first check.
        options.create_new(true);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
