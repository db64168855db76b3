//! `guardroom log verify` and `guardroom log archive`: the supervisor's
//! checks of the duty log's hash chain, and moving old events out.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde_json::json;

use super::Context;
use crate::config::Config;
use crate::domain::time::from_millis;
use crate::i18n::Lang;
use crate::store::archive::{self, ArchiveError, Archived};
use crate::store::chain::Link;
use crate::store::verify::{self, Break, Intact, Problem, Verdict};

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Check the hash chain of the duty log; exit 1 at the first bad row.
    Verify {
        /// Print a stable JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Also check an archive file and that it joins the next one (or the
        /// database); give older archives first.
        #[arg(long, value_name = "FILE")]
        archive: Vec<PathBuf>,
    },
    /// Move events older than DATE into an archive file.
    Archive {
        /// Local date (YYYY-MM-DD): events before its start are moved.
        #[arg(long, value_name = "DATE")]
        before: String,
        /// Archive file to write (default: beside the database).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Settings both commands read from an optional configuration.
struct Settings {
    lang: Lang,
    tz: TimeZone,
    keep_days: u32,
    database: PathBuf,
}

pub fn run(context: &Context, command: &LogCommand) -> ExitCode {
    let settings = match settings(context) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    if !settings.database.is_file() {
        return fail(
            settings.lang,
            "log.no_database",
            &[("path", &settings.database.display())],
        );
    }
    match command {
        LogCommand::Verify { json, archive } => run_verify(&settings, archive, *json),
        LogCommand::Archive { before, output } => run_archive(&settings, before, output.as_deref()),
    }
}

/// Reads the configuration when one is named or present (like `status`),
/// else uses the defaults, so that `log verify --db FILE` works alone.
fn settings(context: &Context) -> Result<Settings, ExitCode> {
    let named = context.cli.config.is_some()
        || std::env::var_os("GUARDROOM_CONFIG").is_some_and(|value| !value.is_empty())
        || context.paths.user_config_file().is_file();
    let config: Option<Config> = if named {
        Some(context.load_config()?)
    } else {
        None
    };
    let tz = crate::config::site_time_zone(config.as_ref());
    Ok(Settings {
        lang: config
            .as_ref()
            .map_or(context.lang, |config| context.lang_for(config)),
        tz,
        keep_days: config
            .as_ref()
            .map_or(crate::config::Log::default().keep_days, |config| {
                config.log.keep_days
            }),
        database: context.database(config.as_ref()),
    })
}

fn fail(lang: Lang, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> ExitCode {
    eprintln!("{}", lang.tf(key, args));
    ExitCode::FAILURE
}

fn local_time(at_ms: i64, tz: &TimeZone) -> String {
    from_millis(at_ms)
        .to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// One file's result, for the text and JSON reports.
struct Checked {
    path: PathBuf,
    verdict: Verdict,
}

fn run_verify(settings: &Settings, archives: &[PathBuf], json: bool) -> ExitCode {
    let lang = settings.lang;
    let main = match verify::verify_file(&settings.database) {
        Ok(verdict) => Checked {
            path: settings.database.clone(),
            verdict,
        },
        Err(error) => {
            return fail(
                lang,
                "log.read_failed",
                &[("path", &settings.database.display()), ("error", &error)],
            );
        }
    };
    let mut checked = Vec::new();
    for path in archives {
        if !archive::is_archive(path) {
            return fail(lang, "log.not_archive", &[("path", &path.display())]);
        }
        match verify::verify_file(path) {
            Ok(verdict) => checked.push(Checked {
                path: path.clone(),
                verdict,
            }),
            Err(error) => {
                return fail(
                    lang,
                    "log.read_failed",
                    &[("path", &path.display()), ("error", &error)],
                );
            }
        }
    }
    let gap = first_gap(&checked, &main);

    let intact = std::iter::once(&main)
        .chain(&checked)
        .all(|file| matches!(file.verdict, Verdict::Intact(_)))
        && gap.is_none();
    if json {
        print_json(&main, &checked, gap.as_ref());
    } else {
        print_text(settings, &main, &checked, gap.as_ref());
    }
    if intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A break between two files that should join: the earlier file's head is
/// not the anchor of the file after it.
struct Gap {
    path: PathBuf,
    head: Link,
    next: PathBuf,
    next_anchor: Link,
}

/// Checks that each archive ends where the next file starts.
fn first_gap(archives: &[Checked], main: &Checked) -> Option<Gap> {
    let files: Vec<&Checked> = archives.iter().chain(std::iter::once(main)).collect();
    for pair in files.windows(2) {
        let (Verdict::Intact(earlier), Verdict::Intact(later)) =
            (&pair[0].verdict, &pair[1].verdict)
        else {
            continue;
        };
        if earlier.head != later.anchor {
            return Some(Gap {
                path: pair[0].path.clone(),
                head: earlier.head.clone(),
                next: pair[1].path.clone(),
                next_anchor: later.anchor.clone(),
            });
        }
    }
    None
}

fn print_text(settings: &Settings, main: &Checked, archives: &[Checked], gap: Option<&Gap>) {
    let lang = settings.lang;
    for file in archives.iter().chain(std::iter::once(main)) {
        let path = file.path.display();
        match &file.verdict {
            Verdict::Intact(intact) => {
                println!(
                    "{}",
                    lang.tf(
                        "log.intact",
                        &[
                            ("path", &path),
                            ("rows", &intact.rows),
                            ("seq", &intact.head.seq),
                            ("hash", &intact.head.hash),
                        ],
                    )
                );
                print_intact_notes(settings, intact);
            }
            Verdict::Broken { rows_before, at } => {
                println!(
                    "{}",
                    lang.tf(
                        "log.broken",
                        &[
                            ("path", &path),
                            ("seq", &at.seq),
                            ("row", &describe_row(at, &settings.tz, lang)),
                            ("problem", &describe_problem(&at.problem, lang)),
                            ("rows", rows_before),
                        ],
                    )
                );
            }
        }
    }
    if let Some(gap) = gap {
        println!(
            "{}",
            lang.tf(
                "log.gap",
                &[
                    ("path", &gap.path.display()),
                    ("seq", &gap.head.seq),
                    ("next", &gap.next.display()),
                    ("anchor", &gap.next_anchor.seq),
                ],
            )
        );
    }
}

fn print_intact_notes(settings: &Settings, intact: &Intact) {
    let lang = settings.lang;
    if intact.anchor.seq > 0 {
        println!(
            "{}",
            lang.tf(
                "log.anchor",
                &[("seq", &intact.anchor.seq), ("hash", &intact.anchor.hash)],
            )
        );
    }
    if let Some((seq, at_ms)) = intact.backfilled {
        println!(
            "{}",
            lang.tf(
                "log.backfilled",
                &[("seq", &seq), ("time", &local_time(at_ms, &settings.tz))],
            )
        );
    }
}

/// "2026-12-05 08:00:00 CST, alarm_raised" or, for a removed row, nothing.
fn describe_row(at: &Break, tz: &TimeZone, lang: Lang) -> String {
    match (at.at_ms, &at.kind) {
        (Some(at_ms), Some(kind)) => lang.tf(
            "log.row",
            &[("time", &local_time(at_ms, tz)), ("kind", kind)],
        ),
        _ => lang.t("log.row_unknown").to_owned(),
    }
}

fn describe_problem(problem: &Problem, lang: Lang) -> String {
    match problem {
        Problem::Changed => lang.t("log.changed").to_owned(),
        Problem::Missing { from, to } => lang.tf("log.missing", &[("from", from), ("to", to)]),
        Problem::Inserted => lang.t("log.inserted").to_owned(),
        Problem::Unhashed => lang.t("log.unhashed").to_owned(),
        Problem::OutOfOrder { found_at } => lang.tf("log.out_of_order", &[("found_at", found_at)]),
        Problem::Broken => lang.t("log.mismatch").to_owned(),
        Problem::LastRemoved { from, head } => {
            lang.tf("log.last_removed", &[("from", from), ("head", head)])
        }
        Problem::HeadMismatch => lang.t("log.head_mismatch").to_owned(),
        Problem::HeadMissing => lang.t("log.head_missing").to_owned(),
        Problem::NotChained => lang.t("log.not_chained").to_owned(),
    }
}

fn print_json(main: &Checked, archives: &[Checked], gap: Option<&Gap>) {
    let file = |checked: &Checked| match &checked.verdict {
        Verdict::Intact(intact) => json!({
            "path": checked.path,
            "intact": true,
            "rows": intact.rows,
            "anchor": intact.anchor,
            "head": intact.head,
            "backfilled_to": intact.backfilled.map(|(seq, _)| seq),
            "backfilled_at": intact.backfilled.map(|(_, at)| from_millis(at).to_string()),
        }),
        Verdict::Broken { rows_before, at } => json!({
            "path": checked.path,
            "intact": false,
            "rows_before": rows_before,
            "break": at,
            "break_at": at.at_ms.map(|at| from_millis(at).to_string()),
        }),
    };
    let all_intact = std::iter::once(main)
        .chain(archives)
        .all(|checked| matches!(checked.verdict, Verdict::Intact(_)))
        && gap.is_none();
    let report = json!({
        "intact": all_intact,
        "database": file(main),
        "archives": archives.iter().map(file).collect::<Vec<_>>(),
        "gap": gap.map(|gap| json!({
            "path": gap.path,
            "head": gap.head,
            "next": gap.next,
            "next_anchor": gap.next_anchor,
        })),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("the report serializes")
    );
}

fn run_archive(settings: &Settings, before: &str, output: Option<&Path>) -> ExitCode {
    let lang = settings.lang;
    let Ok(date) = before.trim().parse::<Date>() else {
        return fail(lang, "log.bad_date", &[("value", &before)]);
    };
    let today = Timestamp::now()
        .to_zoned_datetime(settings.tz.clone())
        .date();
    let earliest_kept = today
        .checked_sub((settings.keep_days as i64).days())
        .unwrap_or(Date::MIN);
    if date > earliest_kept {
        return fail(
            lang,
            "log.inside_retention",
            &[
                ("date", &date),
                ("keep_days", &settings.keep_days),
                ("kept", &earliest_kept),
            ],
        );
    }
    let midnight = date.to_datetime(jiff::civil::Time::midnight());
    let Ok(cutoff) = settings.tz.to_ambiguous_timestamp(midnight).later() else {
        return fail(lang, "log.bad_date", &[("value", &before)]);
    };
    let output = output.map_or_else(
        || default_output(&settings.database, date),
        Path::to_path_buf,
    );

    match archive::archive(&settings.database, cutoff, &output) {
        Ok(Archived::Moved {
            rows,
            first,
            last,
            output,
        }) => {
            println!(
                "{}",
                lang.tf(
                    "log.archived",
                    &[
                        ("rows", &rows),
                        ("first", &first),
                        ("last", &last.seq),
                        ("path", &output.display()),
                        ("hash", &last.hash),
                    ],
                )
            );
            ExitCode::SUCCESS
        }
        Ok(Archived::Nothing {
            kept_from,
            referenced,
        }) => {
            let key = if referenced {
                "log.nothing_referenced"
            } else {
                "log.nothing"
            };
            let kept = kept_from.map_or_else(String::new, |seq| seq.to_string());
            println!("{}", lang.tf(key, &[("date", &date), ("seq", &kept)]));
            ExitCode::SUCCESS
        }
        Ok(Archived::AlreadyArchived { output, last }) => {
            println!(
                "{}",
                lang.tf(
                    "log.already_archived",
                    &[("path", &output.display()), ("seq", &last.seq)],
                )
            );
            ExitCode::SUCCESS
        }
        Err(error) => archive_failed(lang, &error),
    }
}

fn archive_failed(lang: Lang, error: &ArchiveError) -> ExitCode {
    match error {
        ArchiveError::OutputExists { path } => {
            fail(lang, "log.output_exists", &[("path", &path.display())])
        }
        other => fail(lang, "log.archive_failed", &[("error", other)]),
    }
}

/// `<database dir>/<database stem>-log-before-<DATE>.sqlite`.
fn default_output(database: &Path, date: Date) -> PathBuf {
    let stem = database
        .file_stem()
        .map_or_else(|| "guardroom".into(), |stem| stem.to_string_lossy());
    database.with_file_name(format!("{stem}-log-before-{date}.sqlite"))
}
