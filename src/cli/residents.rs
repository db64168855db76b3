//! `guardroom residents import FILE.csv`: turns a spreadsheet export into
//! the TOML residents file that `[care] residents` names.
//!
//! Every bad row is reported with its line and column, and nothing is
//! written while one is bad. The file is written whole (a temporary file
//! renamed over the old one), so a failure never leaves half a registry.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;

use super::Context;
use crate::config;
use crate::domain::care::{Resident, RowError, parse_csv, parse_toml};
use crate::i18n::Lang;

/// File name used when neither `--to` nor the configuration names one.
const DEFAULT_FILE: &str = "residents.toml";

#[derive(Debug, Subcommand)]
pub enum ResidentsCommand {
    /// Import residents from a CSV file into the residents file.
    Import {
        /// The CSV file: a header row naming the columns, then one row per resident.
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        /// The TOML file to write (else `[care] residents`, else residents.toml beside the configuration).
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
}

#[derive(Serialize)]
struct ResidentsFile<'a> {
    residents: &'a [Resident],
}

/// Translates `residents` and `residents import`.
pub fn localize(command: clap::Command, lang: Lang) -> clap::Command {
    command.mut_subcommand("residents", |sub| {
        sub.about(lang.t("cli.residents_about"))
            .mut_subcommand("import", |import| {
                import
                    .about(lang.t("cli.residents_import_about"))
                    .mut_arg("file", |a| a.help(lang.t("cli.residents_import_file")))
                    .mut_arg("to", |a| a.help(lang.t("cli.residents_import_to")))
            })
    })
}

pub fn run(context: &Context, command: &ResidentsCommand) -> ExitCode {
    match command {
        ResidentsCommand::Import { file, to } => import(context, file, to.as_deref()),
    }
}

fn import(context: &Context, file: &Path, to: Option<&Path>) -> ExitCode {
    let lang = context.lang;
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) => {
            return context.fail(
                "residents.read_failed",
                &[("path", &file.display()), ("error", &error)],
            );
        }
    };
    let residents = match parse_csv(&text) {
        Ok(residents) => residents,
        Err(errors) => {
            eprintln!(
                "{}",
                lang.tf(
                    "residents.bad_rows",
                    &[("count", &errors.len()), ("path", &file.display())]
                )
            );
            for error in &errors {
                eprintln!("  {}", row_error(lang, error));
            }
            return ExitCode::FAILURE;
        }
    };
    if residents.is_empty() {
        return context.fail("residents.empty", &[("path", &file.display())]);
    }

    let (target, configured) = target(context, to);
    let body = match toml::to_string(&ResidentsFile {
        residents: &residents,
    }) {
        Ok(body) => body,
        Err(error) => {
            return context.fail(
                "residents.write_failed",
                &[("path", &target.display()), ("error", &error)],
            );
        }
    };
    // The written file must read back as exactly what was imported.
    if parse_toml(&body).as_ref() != Ok(&residents) {
        return context.fail(
            "residents.write_failed",
            &[
                ("path", &target.display()),
                ("error", &"the TOML does not read back"),
            ],
        );
    }
    let header = lang.t("residents.file_header");
    if let Err(error) = write_whole(&target, &format!("# {header}\n\n{body}")) {
        return context.fail(
            "residents.write_failed",
            &[("path", &target.display()), ("error", &error)],
        );
    }

    println!(
        "{}",
        lang.tf(
            "residents.imported",
            &[("count", &residents.len()), ("path", &target.display())]
        )
    );
    if !configured {
        println!(
            "{}",
            lang.tf("residents.configure", &[("path", &target.display())])
        );
    }
    ExitCode::SUCCESS
}

/// Formats a bad row with its line and column in the user's language.
fn row_error(lang: Lang, error: &RowError) -> String {
    match (&error.column, &error.column_name) {
        (Some(column), Some(name)) => lang.tf(
            "residents.row_field",
            &[
                ("row", &error.row),
                ("column", column),
                ("field", name),
                ("message", &error.message),
            ],
        ),
        (Some(column), None) => lang.tf(
            "residents.row_column",
            &[
                ("row", &error.row),
                ("column", column),
                ("message", &error.message),
            ],
        ),
        _ => lang.tf(
            "residents.row",
            &[("row", &error.row), ("message", &error.message)],
        ),
    }
}

/// Chooses the file to write, and whether the configuration already names it.
fn target(context: &Context, to: Option<&Path>) -> (PathBuf, bool) {
    let located = config::locate(context.cli.config.as_deref(), &context.paths).ok();
    let configured = located.as_deref().and_then(configured_residents);
    if let Some(to) = to {
        let same = configured
            .as_deref()
            .is_some_and(|path| same_file(path, to));
        return (to.to_path_buf(), same);
    }
    if let Some(path) = configured.filter(|path| {
        path.extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("toml"))
    }) {
        return (path, true);
    }
    let directory = located
        .as_deref()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    (directory.join(DEFAULT_FILE), false)
}

/// Reads `[care] residents` of a configuration file without validating
/// the rest: the import must work while the old registry is the problem.
fn configured_residents(config: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(config).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let name = table.get("care")?.get("residents")?.as_str()?;
    Some(config.parent().unwrap_or(Path::new(".")).join(name))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn write_whole(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(directory) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(directory)?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
    }
}
