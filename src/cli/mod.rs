//! Command line: argument parsing and the commands it runs.

mod check;
pub mod console;
mod log;
mod operator;
mod report;
mod residents;
pub(crate) mod serve;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::config::{self, Config, ConfigError, Language, Paths};
use crate::i18n::Lang;

#[derive(Debug, Parser)]
#[command(
    name = "guardroom",
    version,
    about = "Guard room console for a residential community / 智慧社区值班室控制台"
)]
pub struct Cli {
    /// Configuration file (else $GUARDROOM_CONFIG, else the user's config directory).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// SQLite database file, overriding the configuration.
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// Language of screens and messages: en or zh-CN (else config, else LANG).
    #[arg(long, global = true, value_name = "LANG")]
    pub lang: Option<String>,

    /// Colour theme: default, high-contrast, light, mono, or a theme file path.
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,

    /// Open a review console that changes nothing and needs no recorder.
    #[arg(long, global = true)]
    pub read_only: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Embedded broker and a simulated community, with the console on it.
    Demo(crate::demo::DemoArgs),
    /// The recorder alone (ingest and storage), without a screen.
    Serve,
    /// Print link state, last message time, device counts and event count.
    Status {
        /// Print a stable JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Validate the configuration and print every problem.
    CheckConfig,
    /// Add, list, disable and enable operators, and set their PINs.
    Operator(operator::OperatorArgs),
    /// Check the duty log's hash chain, or archive old events.
    Log {
        #[command(subcommand)]
        command: log::LogCommand,
    },
    /// Write the duty report of a shift or of a range of dates: statistics,
    /// alarms, duty log and handover sheets.
    Report(report::ReportArgs),
    /// Manage the eldercare residents registry.
    Residents {
        #[command(subcommand)]
        command: residents::ResidentsCommand,
    },
}

/// Settings every command needs before it starts.
pub struct Context {
    pub lang: Lang,
    pub paths: Paths,
    pub cli: Cli,
}

impl Context {
    /// Chooses the language for messages printed before the configuration is read:
    /// `--lang`, else the locale.
    fn early_lang(cli: &Cli) -> Result<Lang, String> {
        match &cli.lang {
            Some(text) => Lang::parse(text)
                .ok_or_else(|| Lang::from_env().tf("cli.bad_lang", &[("value", text)])),
            None => Ok(Lang::from_env()),
        }
    }

    /// Returns the configured language unless `--lang` was given.
    pub fn lang_for(&self, config: &Config) -> Lang {
        if self.cli.lang.is_some() {
            return self.lang;
        }
        match config.console.language {
            Language::Auto => self.lang,
            Language::ZhCn => Lang::ZhCn,
            Language::En => Lang::En,
        }
    }

    /// Finds and validates the configuration, printing the problems on failure.
    pub fn load_config(&self) -> Result<Config, ExitCode> {
        let located = config::locate(self.cli.config.as_deref(), &self.paths);
        let loaded = located.and_then(|path| config::load(&path, self.lang));
        loaded.map_err(|error| self.config_failed(&error))
    }

    /// Returns the configuration for commands that can run without one
    /// (`status --db FILE`, `report`). A named or present file must be valid.
    /// Without one, a demo database named by `--db` gets the demo's own site,
    /// because the demo builds its site and residents inside its process.
    pub fn optional_config(&self) -> Result<Option<Config>, ExitCode> {
        let named = self.cli.config.is_some()
            || std::env::var_os("GUARDROOM_CONFIG").is_some_and(|value| !value.is_empty())
            || self.paths.user_config_file().is_file();
        if named {
            return self.load_config().map(Some);
        }
        let demo = self
            .cli
            .db
            .as_deref()
            .filter(|database| database.is_file())
            .and_then(|database| crate::store::Store::open_read_only(database).ok())
            .and_then(|store| store.demo_started().ok().flatten());
        Ok(demo.and_then(|started| {
            crate::demo::site::load_started(self.lang, false, started)
                .inspect_err(|error| tracing::warn!(error = %error.render(self.lang), "the demo site did not load"))
                .ok()
        }))
    }

    pub fn config_failed(&self, error: &ConfigError) -> ExitCode {
        eprintln!("{}", error.render(self.lang));
        ExitCode::from(2)
    }

    /// Chooses the database: `--db`, else the configuration, else the data directory.
    pub fn database(&self, config: Option<&Config>) -> PathBuf {
        self.cli
            .db
            .clone()
            .or_else(|| config.and_then(|config| config.storage.database.clone()))
            .unwrap_or_else(|| self.paths.default_database())
    }

    /// Chooses the theme: `--theme`, else the configuration.
    pub fn theme_name(&self, config: &Config) -> String {
        self.cli
            .theme
            .clone()
            .unwrap_or_else(|| config.console.theme.clone())
    }

    pub fn fail(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> ExitCode {
        eprintln!("{}", self.lang.tf(key, args));
        ExitCode::FAILURE
    }
}

/// Parses the arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = parse_localized();
    let lang = match Context::early_lang(&cli) {
        Ok(lang) => lang,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let paths = Paths::discover();
    let _log = match crate::logging::init(&paths.log_dir()) {
        Ok(guard) => Some(guard),
        Err(error) => {
            eprintln!(
                "{}",
                lang.tf(
                    "cli.log_failed",
                    &[("path", &paths.log_dir().display()), ("error", &error)]
                )
            );
            None
        }
    };
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "guardroom starting");
    let context = Context { lang, paths, cli };

    let code = match &context.cli.command {
        None => console::run(&context),
        Some(Command::Demo(args)) => crate::demo::run(&context, args),
        Some(Command::Serve) => serve::run(&context),
        Some(Command::Status { json }) => status::run(&context, *json),
        Some(Command::CheckConfig) => check::run(&context),
        Some(Command::Operator(args)) => operator::run(&context, args),
        Some(Command::Log { command }) => log::run(&context, command),
        Some(Command::Report(args)) => report::run(&context, args),
        Some(Command::Residents { command }) => residents::run(&context, command),
    };
    tracing::info!("guardroom exiting");
    code
}

/// Parses the command line, with help text in the language chosen by
/// `--lang` among the arguments or else by the locale.
fn parse_localized() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let lang = lang_in_args(&args).unwrap_or_else(Lang::from_env);
    let command = localize(Cli::command(), lang);
    let matches = command.get_matches_from(args);
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// Finds the value of `--lang X` or `--lang=X` before clap runs, so
/// that `--help` itself can be translated.
fn lang_in_args(args: &[std::ffi::OsString]) -> Option<Lang> {
    let args: Vec<&str> = args.iter().filter_map(|arg| arg.to_str()).collect();
    args.iter()
        .enumerate()
        .find_map(|(index, arg)| match arg.strip_prefix("--lang") {
            Some("") => args.get(index + 1).and_then(|value| Lang::parse(value)),
            Some(value) => value.strip_prefix('=').and_then(Lang::parse),
            None => None,
        })
}

/// Replaces the about and help texts with the catalog's; clap's own
/// headings ("Usage", "Options") stay as clap writes them.
fn localize(command: clap::Command, lang: Lang) -> clap::Command {
    let args = ["config", "db", "lang", "theme", "read_only"];
    let mut command = command.about(lang.t("cli.about"));
    for arg in args {
        command = command.mut_arg(arg, |a| a.help(lang.t(&format!("cli.help_{arg}"))));
    }
    for (name, sub_args) in [
        ("demo", &["headless", "duration", "adapters"][..]),
        ("serve", &[][..]),
        ("status", &["json"][..]),
        ("check-config", &[][..]),
        (
            "report",
            &[
                "shift",
                "from",
                "to",
                "format",
                "output",
                "force",
                "bom",
                "reveal_personal",
            ][..],
        ),
    ] {
        let key = name.replace('-', "_");
        command = command.mut_subcommand(name, |sub| {
            let mut sub = sub.about(lang.t(&format!("cli.{key}_about")));
            for arg in sub_args {
                sub = sub.mut_arg(*arg, |a| a.help(lang.t(&format!("cli.{key}_{arg}"))));
            }
            sub
        });
    }
    residents::localize(localize_operator(localize_log(command, lang), lang), lang)
}

/// Translates `operator` and its own subcommands.
fn localize_operator(command: clap::Command, lang: Lang) -> clap::Command {
    command.mut_subcommand("operator", |operator| {
        let mut operator = operator.about(lang.t("cli.operator_about"));
        for (name, args) in [
            ("add", &["id", "name", "role", "pin_stdin"][..]),
            ("list", &["json"][..]),
            ("disable", &["id"][..]),
            ("enable", &["id"][..]),
            ("set-pin", &["id", "pin_stdin"][..]),
        ] {
            let key = name.replace('-', "_");
            operator = operator.mut_subcommand(name, |sub| {
                let mut sub = sub.about(lang.t(&format!("cli.operator_{key}_about")));
                for arg in args {
                    sub = sub.mut_arg(*arg, |a| {
                        a.help(lang.t(&format!("cli.operator_{key}_{arg}")))
                    });
                }
                sub
            });
        }
        operator
    })
}

/// Translates `log` and its own subcommands.
fn localize_log(command: clap::Command, lang: Lang) -> clap::Command {
    command.mut_subcommand("log", |log| {
        let mut log = log.about(lang.t("cli.log_about"));
        for (name, args) in [
            ("verify", &["json", "archive"][..]),
            ("archive", &["before", "output"][..]),
        ] {
            log = log.mut_subcommand(name, |sub| {
                let mut sub = sub.about(lang.t(&format!("cli.log_{name}_about")));
                for arg in args {
                    sub = sub.mut_arg(*arg, |a| a.help(lang.t(&format!("cli.log_{name}_{arg}"))));
                }
                sub
            });
        }
        log
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_found_before_parsing() {
        let args = |list: &[&str]| {
            list.iter()
                .map(std::ffi::OsString::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            lang_in_args(&args(&["guardroom", "--lang", "zh-CN", "--help"])),
            Some(Lang::ZhCn)
        );
        assert_eq!(
            lang_in_args(&args(&["guardroom", "--lang=en"])),
            Some(Lang::En)
        );
        assert_eq!(lang_in_args(&args(&["guardroom", "status"])), None);
    }

    #[test]
    fn help_is_translated() {
        let mut command = localize(Cli::command(), Lang::ZhCn);
        let help = command.render_long_help().to_string();
        assert!(help.contains("配置文件"), "{help}");
        let mut status = command.find_subcommand_mut("status").unwrap().clone();
        let status_help = status.render_long_help().to_string();
        assert!(status_help.contains("JSON"), "{status_help}");
        let mut demo = command.find_subcommand_mut("demo").unwrap().clone();
        let demo_help = demo.render_long_help().to_string();
        assert!(demo_help.contains("--adapters"), "{demo_help}");
        assert!(demo_help.contains("经适配器接入"), "{demo_help}");
    }
}
