//! `guardroom operator …`: add, list, disable and enable operators, and set
//! their PINs.
//!
//! A PIN is read twice from the terminal without echo, or once from a line
//! of standard input with `--pin-stdin` for scripts. It is hashed at once
//! and never printed or logged. Each change is written to the operators
//! table and handed to the recorder through the `requests` table, so that
//! it reaches the duty log when a recorder runs. The actor recorded for a
//! change is the OS user that ran the command, as `os:<user>`.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;
use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

use super::Context;
use crate::domain::alarm::{Action, ActionKind};
use crate::domain::operator::pin::{Pin, PinError};
use crate::domain::operator::{
    Account, OS_ACTOR_PREFIX, OperatorChange, Role, valid_id, valid_name,
};
use crate::i18n::Lang;
use crate::i18n::width::pad;
use crate::store::Store;

/// Console id recorded on command-line changes.
const CLI_CONSOLE: &str = "cli";

#[derive(Debug, clap::Args)]
pub struct OperatorArgs {
    #[command(subcommand)]
    pub command: OperatorCommand,
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Add an operator and set their PIN.
    Add {
        /// Operator id, used to log in: letters, digits, - and _.
        id: String,
        /// Name shown on screens and in the duty log.
        #[arg(long)]
        name: String,
        /// guard, maintenance or supervisor.
        #[arg(long)]
        role: String,
        /// Read the PIN from one line of standard input instead of the terminal.
        #[arg(long)]
        pin_stdin: bool,
    },
    /// List the operators.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Stop an operator from logging in and acting.
    Disable { id: String },
    /// Let a disabled operator log in again.
    Enable { id: String },
    /// Set a new PIN; this also ends a lockout.
    SetPin {
        id: String,
        /// Read the PIN from one line of standard input instead of the terminal.
        #[arg(long)]
        pin_stdin: bool,
    },
}

/// One operator as `operator list --json` prints it; the PIN hash is left out.
#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    name: &'a str,
    role: Role,
    disabled: bool,
    failures: u32,
    locked_until: Option<Timestamp>,
    created: Timestamp,
    changed: Timestamp,
}

pub fn run(context: &Context, args: &OperatorArgs) -> ExitCode {
    // A configuration is optional (`--db FILE` is enough), but one that is
    // named or present must be valid.
    let named = context.cli.config.is_some()
        || std::env::var_os("GUARDROOM_CONFIG").is_some_and(|value| !value.is_empty())
        || context.paths.user_config_file().is_file();
    let config = if named {
        match context.load_config() {
            Ok(config) => Some(config),
            Err(code) => return code,
        }
    } else {
        None
    };
    let lang = config
        .as_ref()
        .map_or(context.lang, |config| context.lang_for(config));
    let database = context.database(config.as_ref());
    let command = Command {
        lang,
        database: &database,
    };
    match &args.command {
        OperatorCommand::Add {
            id,
            name,
            role,
            pin_stdin,
        } => command.add(id, name, role, *pin_stdin),
        OperatorCommand::List { json } => command.list(*json),
        OperatorCommand::Disable { id } => command.set_disabled(id, true),
        OperatorCommand::Enable { id } => command.set_disabled(id, false),
        OperatorCommand::SetPin { id, pin_stdin } => command.set_pin(id, *pin_stdin),
    }
}

struct Command<'a> {
    lang: Lang,
    database: &'a Path,
}

impl Command<'_> {
    fn fail(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> ExitCode {
        eprintln!("{}", self.lang.tf(key, args));
        ExitCode::FAILURE
    }

    fn open(&self) -> Result<Store, ExitCode> {
        Store::open(self.database).map_err(|error| {
            self.fail(
                "operator.store_failed",
                &[("path", &self.database.display()), ("error", &error)],
            )
        })
    }

    fn check_id(&self, id: &str) -> Result<(), ExitCode> {
        if valid_id(id) {
            Ok(())
        } else {
            Err(self.fail("operator.bad_id", &[("value", &id)]))
        }
    }

    fn add(&self, id: &str, name: &str, role: &str, pin_stdin: bool) -> ExitCode {
        if let Err(code) = self.check_id(id) {
            return code;
        }
        if !valid_name(name) {
            return self.fail("operator.bad_name", &[("value", &name.escape_debug())]);
        }
        let Some(role) = Role::parse(role.trim()) else {
            return self.fail("operator.bad_role", &[("value", &role)]);
        };

        let mut store = match self.open() {
            Ok(store) => store,
            Err(code) => return code,
        };

        // Rejected before the PIN is requested, so no one types one in vain.
        match store.operator(id) {
            Ok(Some(_)) => return self.fail("operator.exists", &[("id", &id)]),
            Ok(None) => {}
            Err(error) => return self.store_failed(&error),
        }
        let hash = match self.read_pin(id, pin_stdin) {
            Ok(hash) => hash,
            Err(code) => return code,
        };

        let now = Timestamp::now();
        match store.add_operator(id, name, role, &hash, now) {
            Ok(true) => {}
            Ok(false) => return self.fail("operator.exists", &[("id", &id)]),
            Err(error) => return self.store_failed(&error),
        }
        tracing::info!(operator = id, %role, "operator added");
        println!(
            "{}",
            self.lang.tf(
                "operator.added",
                &[
                    ("id", &id),
                    ("name", &name.trim()),
                    ("role", &self.lang.t(&format!("operator_role.{role}"))),
                ],
            )
        );

        let change = OperatorChange::Added {
            name: name.trim().to_owned(),
            role,
        };
        self.log_change(&mut store, id, change, now)
    }

    fn list(&self, json: bool) -> ExitCode {
        if !self.database.is_file() {
            return self.fail(
                "operator.no_database",
                &[("path", &self.database.display())],
            );
        }
        let accounts =
            match Store::open_read_only(self.database).and_then(|store| store.operators()) {
                Ok(accounts) => accounts,
                Err(error) => return self.store_failed(&error),
            };
        if json {
            let listed: Vec<Listed<'_>> = accounts.iter().map(listed).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&listed).expect("operators serialize")
            );
            return ExitCode::SUCCESS;
        }
        if accounts.is_empty() {
            println!("{}", self.lang.t("operator.list_empty"));
            return ExitCode::SUCCESS;
        }
        print!("{}", self.table(&accounts, Timestamp::now()));
        ExitCode::SUCCESS
    }

    fn table(&self, accounts: &[Account], now: Timestamp) -> String {
        let lang = self.lang;
        let mut text = format!(
            "{}{}{}{}\n",
            pad(lang.t("operator.col_id"), 16),
            pad(lang.t("operator.col_name"), 20),
            pad(lang.t("operator.col_role"), 14),
            lang.t("operator.col_state"),
        );
        for account in accounts {
            let state = if account.disabled {
                lang.t("operator.state_disabled").to_owned()
            } else if let Some(until) = account.attempts.locked_until.filter(|until| *until > now) {
                lang.tf("operator.state_locked", &[("until", &until)])
            } else {
                lang.t("operator.state_active").to_owned()
            };
            text.push_str(&format!(
                "{}{}{}{}\n",
                pad(&account.id, 16),
                pad(&account.name, 20),
                pad(lang.t(&format!("operator_role.{}", account.role)), 14),
                state
            ));
        }
        text
    }

    fn set_disabled(&self, id: &str, disabled: bool) -> ExitCode {
        if let Err(code) = self.check_id(id) {
            return code;
        }
        let mut store = match self.open() {
            Ok(store) => store,
            Err(code) => return code,
        };
        let account = match store.operator(id) {
            Ok(Some(account)) => account,
            Ok(None) => return self.fail("operator.unknown", &[("id", &id)]),
            Err(error) => return self.store_failed(&error),
        };
        let (done, already, change) = if disabled {
            (
                "operator.disabled",
                "operator.already_disabled",
                OperatorChange::Disabled,
            )
        } else {
            (
                "operator.enabled",
                "operator.already_enabled",
                OperatorChange::Enabled,
            )
        };
        if account.disabled == disabled {
            println!("{}", self.lang.tf(already, &[("id", &id)]));
            return ExitCode::SUCCESS;
        }
        let now = Timestamp::now();
        if let Err(error) = store.set_operator_disabled(id, disabled, now) {
            return self.store_failed(&error);
        }
        tracing::info!(operator = id, disabled, "operator changed");
        println!("{}", self.lang.tf(done, &[("id", &id)]));
        self.log_change(&mut store, id, change, now)
    }

    fn set_pin(&self, id: &str, pin_stdin: bool) -> ExitCode {
        if let Err(code) = self.check_id(id) {
            return code;
        }
        let mut store = match self.open() {
            Ok(store) => store,
            Err(code) => return code,
        };
        match store.operator(id) {
            Ok(Some(_)) => {}
            Ok(None) => return self.fail("operator.unknown", &[("id", &id)]),
            Err(error) => return self.store_failed(&error),
        }
        let hash = match self.read_pin(id, pin_stdin) {
            Ok(hash) => hash,
            Err(code) => return code,
        };
        let now = Timestamp::now();
        match store.set_operator_pin(id, &hash, now) {
            Ok(true) => {}
            Ok(false) => return self.fail("operator.unknown", &[("id", &id)]),
            Err(error) => return self.store_failed(&error),
        }
        tracing::info!(operator = id, "operator PIN set");
        println!("{}", self.lang.tf("operator.pin_set", &[("id", &id)]));
        self.log_change(&mut store, id, OperatorChange::PinSet, now)
    }

    /// Reads a PIN, checks the rule and returns its hash.
    fn read_pin(&self, id: &str, pin_stdin: bool) -> Result<String, ExitCode> {
        let text = if pin_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|error| self.fail("operator.pin_read_failed", &[("error", &error)]))?;
            line
        } else {
            if !std::io::stdin().is_terminal() {
                return Err(self.fail("operator.pin_no_terminal", &[]));
            }
            let prompt = self.lang.tf("operator.pin_prompt", &[("id", &id)]);
            let first = rpassword::prompt_password(prompt)
                .map_err(|error| self.fail("operator.pin_read_failed", &[("error", &error)]))?;
            let second = rpassword::prompt_password(self.lang.t("operator.pin_again"))
                .map_err(|error| self.fail("operator.pin_read_failed", &[("error", &error)]))?;
            if first != second {
                return Err(self.pin_error(PinError::Mismatch));
            }
            first
        };
        let pin = Pin::parse(&text).map_err(|error| self.pin_error(error))?;
        pin.hash()
            .map_err(|error| self.fail("operator.hash_failed", &[("error", &error)]))
    }

    fn pin_error(&self, error: PinError) -> ExitCode {
        let length = match error {
            PinError::Length { length } => length,
            _ => 0,
        };
        self.fail(
            &format!("operator.{}", error.code()),
            &[("length", &length)],
        )
    }

    fn store_failed(&self, error: &crate::store::StoreError) -> ExitCode {
        self.fail(
            "operator.store_failed",
            &[("path", &self.database.display()), ("error", error)],
        )
    }

    /// Hands the change to the recorder for the duty log. The change itself
    /// is already saved, so a failure here is reported but not undone.
    fn log_change(
        &self,
        store: &mut Store,
        id: &str,
        change: OperatorChange,
        now: Timestamp,
    ) -> ExitCode {
        let action = Action {
            id: Uuid::new_v4(),
            alarm: None,
            kind: ActionKind::OperatorChanged {
                account: id.to_owned(),
                change,
            },
            operator: os_actor(),
            role: String::new(),
            console: CLI_CONSOLE.to_owned(),
            via_ssh: std::env::var_os("SSH_CONNECTION").is_some()
                || std::env::var_os("SSH_TTY").is_some(),
            remark: String::new(),
        };
        match store.request(&action, now) {
            Ok(()) => {
                println!("{}", self.lang.t("operator.logged"));
                ExitCode::SUCCESS
            }
            Err(error) => self.fail("operator.not_logged", &[("error", &error)]),
        }
    }
}

fn listed(account: &Account) -> Listed<'_> {
    Listed {
        id: &account.id,
        name: &account.name,
        role: account.role,
        disabled: account.disabled,
        failures: account.attempts.failures,
        locked_until: account.attempts.locked_until,
        created: account.created,
        changed: account.changed,
    }
}

/// Returns the actor of a command-line change: `os:` and the OS user name,
/// from `USER` or `LOGNAME`, with any character outside an id's replaced.
fn os_actor() -> String {
    let user = ["USER", "LOGNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    let clean: String = user
        .trim()
        .chars()
        .take(32)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{OS_ACTOR_PREFIX}{clean}")
}
