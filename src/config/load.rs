//! Finding, reading and validating the configuration file.
//!
//! Each section and each `[[devices]]` entry is checked on its own, so one
//! mistake does not hide the next: the user gets the whole list at once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::model::{
    Alarms, Broker, BrokerUrl, Care, Config, Console, DeviceEntry, Log, Operators, Shifts, Site,
    Storage, Tickets,
};
use super::paths::Paths;
use crate::domain::alarm::{Condition, Priority};
use crate::domain::device::DeviceKind;
use crate::i18n::Lang;
use crate::ingest::sanitize::sanitize;
use crate::ingest::topic::MAX_ID_BYTES;

/// One problem in a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the key, e.g. `devices[3].kind`.
    pub key: String,
    pub reason: String,
}

/// Failure to find, read or validate the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path} given by {origin} does not exist")]
    NotFound { path: PathBuf, origin: &'static str },
    #[error("no configuration file; looked for {looked}")]
    NoConfig { looked: PathBuf },
    #[error("cannot read {path}: {error}")]
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("invalid configuration in {file}")]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// Renders the error for the user, in their language.
    pub fn render(&self, lang: Lang) -> String {
        match self {
            Self::NotFound { path, origin } => lang.tf(
                "config.not_found",
                &[("path", &path.display()), ("origin", origin)],
            ),
            Self::NoConfig { looked } => lang.tf("config.none", &[("path", &looked.display())]),
            Self::Unreadable { path, error } => lang.tf(
                "config.unreadable",
                &[("path", &path.display()), ("error", error)],
            ),
            Self::Invalid { file, problems } => {
                let mut text = lang.tf(
                    "config.invalid",
                    &[("file", file), ("count", &problems.len())],
                );
                for problem in problems {
                    text.push_str(&format!("\n  {file}: {}: {}", problem.key, problem.reason));
                }
                text
            }
        }
    }
}

/// Finds the configuration file: `--config`, then `$GUARDROOM_CONFIG`, then
/// the user's config directory. A path given explicitly must exist.
pub fn locate(cli: Option<&Path>, paths: &Paths) -> Result<PathBuf, ConfigError> {
    if let Some(path) = cli {
        return existing(path.to_path_buf(), "--config");
    }
    if let Some(value) = std::env::var_os("GUARDROOM_CONFIG").filter(|value| !value.is_empty()) {
        return existing(PathBuf::from(value), "GUARDROOM_CONFIG");
    }
    let user = paths.user_config_file();
    if user.is_file() {
        return Ok(user);
    }
    Err(ConfigError::NoConfig { looked: user })
}

fn existing(path: PathBuf, origin: &'static str) -> Result<PathBuf, ConfigError> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(ConfigError::NotFound { path, origin })
    }
}

/// Reads and validates a configuration file.
pub fn load(path: &Path, lang: Lang) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Unreadable {
        path: path.to_path_buf(),
        error,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut config = load_str(&text, &path.display().to_string(), base, lang)?;
    config.source = Some(path.to_path_buf());
    Ok(config)
}

/// Validates configuration text; `file` names it in messages and relative
/// paths in it are taken from `base`.
pub fn load_str(text: &str, file: &str, base: &Path, lang: Lang) -> Result<Config, ConfigError> {
    let invalid = |problems| ConfigError::Invalid {
        file: file.to_owned(),
        problems,
    };
    let table: toml::Table = toml::from_str(text).map_err(|error| {
        invalid(vec![Problem {
            key: "-".into(),
            reason: lang.tf(
                "config.syntax",
                &[
                    ("error", &error.message()),
                    ("where", &location(text, error.span())),
                ],
            ),
        }])
    })?;

    let mut problems = Vec::new();
    for key in table.keys() {
        if ![
            "site",
            "broker",
            "storage",
            "console",
            "alarms",
            "adapters",
            "devices",
            "operators",
            "care",
            "tickets",
            "shifts",
            "log",
        ]
        .contains(&key.as_str())
        {
            problems.push(Problem {
                key: key.clone(),
                reason: lang.t("config.unknown_section").to_owned(),
            });
        }
    }

    let site: Site = section(&table, "site", &mut problems);
    let broker: Broker = section(&table, "broker", &mut problems);
    let mut storage: Storage = section(&table, "storage", &mut problems);
    let mut console: Console = section(&table, "console", &mut problems);
    let alarms: Alarms = section(&table, "alarms", &mut problems);
    let operators: Operators = section(&table, "operators", &mut problems);
    let mut care: Care = section(&table, "care", &mut problems);
    let tickets: Tickets = section(&table, "tickets", &mut problems);
    let shifts: Shifts = section(&table, "shifts", &mut problems);
    let log: Log = section(&table, "log", &mut problems);
    let adapters: crate::ingest::adapters::AdaptersConfig =
        section(&table, "adapters", &mut problems);
    let entries = device_entries(&table, &mut problems);

    check_site(&site, lang, &mut problems);
    check_broker(&broker, lang, &mut problems);
    check_console(&console, lang, &mut problems);
    check_operators(&operators, lang, &mut problems);
    check_tickets(&tickets, lang, &mut problems);
    let schedule = parse_shifts(&shifts, lang, &mut problems);
    check_log(&log, lang, &mut problems);
    let residents = super::residents::load(&mut care, base, lang, &mut problems);
    check_devices(&entries, lang, &mut problems);
    check_alarms(&alarms, &entries, lang, &mut problems);
    check_adapters(&adapters, lang, &mut problems);
    adapters.home_assistant.check(lang, &mut problems);
    adapters.frigate.check(lang, &mut problems);

    let password = read_password(&broker, base, lang, &mut problems);
    let ca_pem = broker.ca_file.as_ref().and_then(|path| {
        let path = base.join(path);
        std::fs::read(&path)
            .map_err(|error| {
                problems.push(Problem {
                    key: "broker.ca_file".into(),
                    reason: lang.tf(
                        "config.file_unreadable",
                        &[("path", &path.display()), ("error", &error)],
                    ),
                })
            })
            .ok()
    });

    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    if let Some(database) = &storage.database {
        storage.database = Some(base.join(database));
    }
    if let Some(reports) = &console.reports_dir {
        console.reports_dir = Some(base.join(reports));
    }
    Ok(Config {
        source: None,
        site,
        broker,
        storage,
        console,
        alarms,
        operators,
        care,
        tickets,
        shifts: schedule,
        log,
        residents,
        adapters,
        devices: entries
            .into_iter()
            .map(|(_, entry)| entry.into_spec())
            .collect(),
        password,
        ca_pem,
    })
}

/// "line L, column C" for a byte span of the text.
fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    format!("{line}:{column}")
}

/// Deserializes one section, recording its problems and falling back to
/// the defaults so that the other sections are still checked.
fn section<T: DeserializeOwned + Default>(
    table: &toml::Table,
    name: &str,
    problems: &mut Vec<Problem>,
) -> T {
    match table.get(name) {
        Some(value) => lenient(value.clone(), name, problems).unwrap_or_default(),
        None => T::default(),
    }
}

/// Deserializes a table, and after each failure drops the offending key and
/// tries again, so that one bad key does not hide the problems after it.
/// Returns what parsed in the end (dropped keys take their defaults) so the
/// remaining values still get their own checks; `None` when nothing parsed.
fn lenient<T: DeserializeOwned>(
    mut value: toml::Value,
    prefix: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let mut removed: Vec<String> = Vec::new();
    // Bounded: each round removes one key, and a table has few.
    for _ in 0..32 {
        match deserialize::<T>(value.clone()) {
            Ok(parsed) => return Some(parsed),
            Err((path, reason)) => {
                // A required key dropped after its own error is not a second problem.
                let echo = removed
                    .iter()
                    .any(|key| reason == format!("missing field `{key}`"));
                if !echo {
                    problems.push(Problem {
                        key: join_key(prefix, &path),
                        reason,
                    });
                }
                let key = path.split('.').next().unwrap_or_default().to_owned();
                let dropped = value.as_table_mut().and_then(|table| table.remove(&key));
                if key.is_empty() || dropped.is_none() {
                    return None;
                }
                removed.push(key);
            }
        }
    }
    None
}

fn deserialize<T: DeserializeOwned>(value: toml::Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        (path, error.into_inner().message().to_owned())
    })
}

fn join_key(prefix: &str, path: &str) -> String {
    if path.is_empty() || path == "." {
        prefix.to_owned()
    } else {
        format!("{prefix}.{path}")
    }
}

/// Parses the `[[devices]]` entries, keeping each one's index.
fn device_entries(table: &toml::Table, problems: &mut Vec<Problem>) -> Vec<(usize, DeviceEntry)> {
    let Some(value) = table.get("devices") else {
        return Vec::new();
    };
    let Some(array) = value.as_array() else {
        problems.push(Problem {
            key: "devices".into(),
            reason: "expected an array of tables ([[devices]])".into(),
        });
        return Vec::new();
    };
    let mut entries = Vec::new();
    for (index, item) in array.iter().enumerate() {
        if let Some(entry) =
            lenient::<DeviceEntry>(item.clone(), &format!("devices[{index}]"), problems)
        {
            entries.push((index, entry));
        }
    }
    entries
}

/// Checks each adapter's base topic and device mappings.
fn check_adapters(
    adapters: &crate::ingest::adapters::AdaptersConfig,
    lang: Lang,
    problems: &mut Vec<Problem>,
) {
    // Two mappings, in one adapter or in two, must not claim one id: the
    // sources would silently feed one device.
    let mut claimed = HashSet::new();
    for section in adapters.sections() {
        let name = section.name;
        let base_topic = section.base_topic;
        if base_topic.is_empty()
            || base_topic.starts_with('/')
            || base_topic.ends_with('/')
            || base_topic.contains(['+', '#'])
            || sanitize(base_topic) != base_topic
        {
            problems.push(Problem {
                key: format!("adapters.{name}.base_topic"),
                reason: lang.tf("config.bad_topic", &[("value", &base_topic)]),
            });
        }
        if section.interval_s == Some(0) {
            problems.push(Problem {
                key: format!("adapters.{name}.interval_s"),
                reason: zero_interval(lang),
            });
        }
        for (source, mapping) in section.mappings {
            let key = |field: &str| format!("adapters.{name}.devices.\"{source}\".{field}");
            if mapping.interval_s == Some(0) {
                problems.push(Problem {
                    key: key("interval_s"),
                    reason: zero_interval(lang),
                });
            }
            if let Some(id) = &mapping.id
                && (!is_clean_id(id) || id.len() > MAX_ID_BYTES || id.contains(['+', '#']))
            {
                problems.push(Problem {
                    key: key("id"),
                    reason: lang.tf("config.bad_id", &[("value", id)]),
                });
            }
            if let Some(id) = &mapping.id
                && !claimed.insert(id.clone())
            {
                problems.push(Problem {
                    key: key("id"),
                    reason: lang.tf("config.duplicate_id", &[("value", id)]),
                });
            }
            if let Some(priority) = &mapping.priority
                && Priority::parse(priority).is_none()
            {
                problems.push(Problem {
                    key: key("priority"),
                    reason: lang.tf("config.bad_priority", &[("value", priority)]),
                });
            }
        }
    }
}

/// Returns the reason given for an interval of 0 seconds.
fn zero_interval(lang: Lang) -> String {
    lang.tf(
        "config.out_of_range",
        &[("value", &0), ("min", &1), ("max", &u32::MAX)],
    )
}

fn check_site(site: &Site, lang: Lang, problems: &mut Vec<Problem>) {
    if !is_clean_id(&site.id) || site.id.contains(['+', '#']) {
        problems.push(Problem {
            key: "site.id".into(),
            reason: lang.tf("config.bad_id", &[("value", &site.id)]),
        });
    }
    if jiff::tz::TimeZone::get(&site.time_zone).is_err() {
        problems.push(Problem {
            key: "site.time_zone".into(),
            reason: lang.tf("config.bad_time_zone", &[("value", &site.time_zone)]),
        });
    }
}

fn check_broker(broker: &Broker, lang: Lang, problems: &mut Vec<Problem>) {
    if let Err(reason) = BrokerUrl::parse(&broker.url) {
        problems.push(Problem {
            key: "broker.url".into(),
            reason: lang.tf("config.bad_url", &[("reason", &reason)]),
        });
    }
    if broker.client_id.is_empty() || broker.client_id.len() > 64 || !is_clean_id(&broker.client_id)
    {
        problems.push(Problem {
            key: "broker.client_id".into(),
            reason: lang.tf("config.bad_id", &[("value", &broker.client_id)]),
        });
    }
    let ranges: [(&str, u64, u64, u64); 4] = [
        ("broker.keep_alive_s", broker.keep_alive_s, 5, 3600),
        ("broker.connect_timeout_s", broker.connect_timeout_s, 1, 300),
        (
            "broker.max_packet_bytes",
            broker.max_packet_bytes as u64,
            1024,
            256 * 1024 * 1024,
        ),
        ("broker.retry_max_s", broker.retry_max_s, 1, 3600),
    ];
    for (key, value, min, max) in ranges {
        if !(min..=max).contains(&value) {
            problems.push(Problem {
                key: key.into(),
                reason: lang.tf(
                    "config.out_of_range",
                    &[("value", &value), ("min", &min), ("max", &max)],
                ),
            });
        }
    }
    if broker.password_env.is_some() && broker.password_file.is_some() {
        problems.push(Problem {
            key: "broker.password_file".into(),
            reason: lang.t("config.two_passwords").to_owned(),
        });
    }
}

fn check_console(console: &Console, lang: Lang, problems: &mut Vec<Problem>) {
    if !(1.0..=100.0).contains(&console.stale_factor) {
        problems.push(Problem {
            key: "console.stale_factor".into(),
            reason: lang.tf(
                "config.out_of_range",
                &[("value", &console.stale_factor), ("min", &1), ("max", &100)],
            ),
        });
    }
    if !is_clean_id(&console.id)
        || console.id.len() > MAX_ID_BYTES
        || console.id.contains(['+', '#'])
    {
        problems.push(Problem {
            key: "console.id".into(),
            reason: lang.tf("config.bad_id", &[("value", &console.id)]),
        });
    }
    if console.user.trim().is_empty() {
        problems.push(Problem {
            key: "console.user".into(),
            reason: lang.t("config.user_empty").to_owned(),
        });
    }
    if console.unregistered_interval_s == 0 {
        problems.push(Problem {
            key: "console.unregistered_interval_s".into(),
            reason: zero_interval(lang),
        });
    }
    if crate::theme::Theme::resolve(&console.theme).is_err() {
        problems.push(Problem {
            key: "console.theme".into(),
            reason: lang.tf(
                "config.bad_theme",
                &[
                    ("value", &console.theme),
                    ("names", &crate::theme::BUILT_IN.join(", ")),
                ],
            ),
        });
    }
}

/// Parses `[shifts] starts`, falling back to the default schedule after
/// recording the problem, so that the other sections are still checked.
fn parse_shifts(
    shifts: &Shifts,
    lang: Lang,
    problems: &mut Vec<Problem>,
) -> crate::domain::shift::Schedule {
    use crate::domain::shift::{Schedule, ScheduleError};
    match Schedule::parse(&shifts.starts) {
        Ok(schedule) => schedule,
        Err(error) => {
            let reason = match &error {
                ScheduleError::BadTime(value) => {
                    lang.tf("config.shift_bad_time", &[("value", value)])
                }
                ScheduleError::Repeated(value) => {
                    lang.tf("config.shift_repeated", &[("value", value)])
                }
                ScheduleError::Empty => lang.t("config.shift_empty").to_owned(),
                ScheduleError::BadId(..) => error.to_string(),
            };
            problems.push(Problem {
                key: "shifts.starts".into(),
                reason,
            });
            Schedule::day_and_night()
        }
    }
}

/// Longest `[log] keep_days`: a century.
const MAX_KEEP_DAYS: u32 = 36_500;

fn check_log(log: &Log, lang: Lang, problems: &mut Vec<Problem>) {
    if !(1..=MAX_KEEP_DAYS).contains(&log.keep_days) {
        problems.push(Problem {
            key: "log.keep_days".into(),
            reason: lang.tf(
                "config.out_of_range",
                &[
                    ("value", &log.keep_days),
                    ("min", &1),
                    ("max", &MAX_KEEP_DAYS),
                ],
            ),
        });
    }
}

/// Largest lockout and idle lock, in seconds: one day.
const MAX_OPERATOR_S: u32 = 86_400;

fn check_tickets(tickets: &Tickets, lang: Lang, problems: &mut Vec<Problem>) {
    if tickets.categories.is_empty() {
        problems.push(Problem {
            key: "tickets.categories".into(),
            reason: lang.t("config.empty_list").to_owned(),
        });
    }
    if tickets.urgencies.is_empty() {
        problems.push(Problem {
            key: "tickets.urgencies".into(),
            reason: lang.t("config.empty_list").to_owned(),
        });
    }
    let sla = &tickets.sla;
    let mut limits = vec![
        ("tickets.sla.urgent_min".to_owned(), Some(sla.urgent_min)),
        ("tickets.sla.normal_min".to_owned(), Some(sla.normal_min)),
        ("tickets.sla.minor_min".to_owned(), Some(sla.minor_min)),
    ];
    for (category, own) in &sla.categories {
        let key = format!("tickets.sla.categories.{}", category.as_str());
        limits.push((format!("{key}.urgent_min"), own.urgent_min));
        limits.push((format!("{key}.normal_min"), own.normal_min));
        limits.push((format!("{key}.minor_min"), own.minor_min));
    }
    for (key, minutes) in limits {
        if minutes == Some(0) {
            problems.push(Problem {
                key,
                reason: lang.t("config.zero_minutes").to_owned(),
            });
        }
    }
}

fn check_operators(operators: &Operators, lang: Lang, problems: &mut Vec<Problem>) {
    for (key, value, min, max) in [
        ("operators.max_failures", operators.max_failures, 1, 100),
        (
            "operators.lockout_s",
            operators.lockout_s,
            1,
            MAX_OPERATOR_S,
        ),
        (
            "operators.idle_lock_s",
            operators.idle_lock_s,
            0,
            MAX_OPERATOR_S,
        ),
    ] {
        if !(min..=max).contains(&value) {
            problems.push(Problem {
                key: key.into(),
                reason: lang.tf(
                    "config.out_of_range",
                    &[("value", &value), ("min", &min), ("max", &max)],
                ),
            });
        }
    }
}

fn check_devices(entries: &[(usize, DeviceEntry)], lang: Lang, problems: &mut Vec<Problem>) {
    let mut seen = HashSet::new();
    for (index, entry) in entries {
        let key = |field: &str| format!("devices[{index}].{field}");
        if !is_clean_id(&entry.id) || entry.id.len() > MAX_ID_BYTES || entry.id.contains(['+', '#'])
        {
            problems.push(Problem {
                key: key("id"),
                reason: lang.tf("config.bad_id", &[("value", &entry.id)]),
            });
        }
        if !seen.insert(entry.id.as_str()) {
            problems.push(Problem {
                key: key("id"),
                reason: lang.tf("config.duplicate_id", &[("value", &entry.id)]),
            });
        }
        if entry.kind == DeviceKind::Unknown {
            problems.push(Problem {
                key: key("kind"),
                reason: lang.t("config.kind_unknown").to_owned(),
            });
        }
        match (entry.kind, entry.class) {
            (DeviceKind::Detector, None) => problems.push(Problem {
                key: key("class"),
                reason: lang.t("config.class_missing").to_owned(),
            }),
            (DeviceKind::Door | DeviceKind::Camera, Some(_)) => problems.push(Problem {
                key: key("class"),
                reason: lang.t("config.class_not_detector").to_owned(),
            }),
            _ => {}
        }
        if entry.interval_s == 0 {
            problems.push(Problem {
                key: key("interval_s"),
                reason: zero_interval(lang),
            });
        }
    }
}

fn check_alarms(
    alarms: &Alarms,
    entries: &[(usize, DeviceEntry)],
    lang: Lang,
    problems: &mut Vec<Problem>,
) {
    let conditions = Condition::ALL.map(Condition::as_str).join(", ");
    for (name, priority) in &alarms.priority {
        if Condition::parse(name).is_none() {
            problems.push(Problem {
                key: format!("alarms.priority.{name}"),
                reason: lang.tf(
                    "config.unknown_condition",
                    &[("value", name), ("valid", &conditions)],
                ),
            });
        }
        if Priority::parse(priority).is_none() {
            problems.push(Problem {
                key: format!("alarms.priority.{name}"),
                reason: lang.tf("config.bad_priority", &[("value", priority)]),
            });
        }
    }
    for name in alarms.sop.keys() {
        if Condition::parse(name).is_none() {
            problems.push(Problem {
                key: format!("alarms.sop.{name}"),
                reason: lang.tf(
                    "config.unknown_condition",
                    &[("value", name), ("valid", &conditions)],
                ),
            });
        }
    }
    let ranges: [(&str, u32, u32, u32); 9] = [
        ("offline_debounce_s", alarms.offline_debounce_s, 1, 86_400),
        ("flap_window_s", alarms.flap_window_s, 60, 86_400),
        ("flap_count", alarms.flap_count, 2, 1_000),
        ("held_open_s", alarms.held_open_s, 1, 86_400),
        ("flood_threshold", alarms.flood_threshold, 1, 100_000),
        ("escalation_s.P1", alarms.escalation_s.p1, 0, 86_400),
        ("escalation_s.P2", alarms.escalation_s.p2, 0, 86_400),
        ("escalation_s.P3", alarms.escalation_s.p3, 0, 86_400),
        ("escalation_s.P4", alarms.escalation_s.p4, 0, 86_400),
    ];
    for (key, value, min, max) in ranges {
        if !(min..=max).contains(&value) {
            problems.push(Problem {
                key: format!("alarms.{key}"),
                reason: lang.tf(
                    "config.out_of_range",
                    &[("value", &value), ("min", &min), ("max", &max)],
                ),
            });
        }
    }
    let topic = &alarms.supervisor_topic;
    if topic.is_empty()
        || topic.starts_with('/')
        || topic.contains(['+', '#'])
        || sanitize(topic) != *topic
    {
        problems.push(Problem {
            key: "alarms.supervisor_topic".into(),
            reason: lang.tf("config.bad_topic", &[("value", topic)]),
        });
    }
    for (index, link) in alarms.cameras.iter().enumerate() {
        let key = |field: &str| format!("alarms.cameras[{index}].{field}");
        let targets = [&link.device, &link.zone, &link.building]
            .iter()
            .filter(|t| t.is_some())
            .count();
        if targets != 1 {
            problems.push(Problem {
                key: key("device"),
                reason: lang.t("config.camera_target").to_owned(),
            });
        }
        for camera in &link.cameras {
            let known = entries
                .iter()
                .any(|(_, entry)| entry.id == *camera && entry.kind == DeviceKind::Camera);
            if !known {
                problems.push(Problem {
                    key: key("cameras"),
                    reason: lang.tf("config.unknown_camera", &[("value", camera)]),
                });
            }
        }
    }
}

/// Checks that an id is usable in a topic: non-empty, without `/`, spaces or anything the
/// sanitiser would remove.
fn is_clean_id(id: &str) -> bool {
    !id.is_empty() && !id.contains(['/', ' ']) && sanitize(id) == id
}

fn read_password(
    broker: &Broker,
    base: &Path,
    lang: Lang,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    if let Some(name) = &broker.password_env {
        return match std::env::var(name) {
            Ok(value) => Some(value),
            Err(_) => {
                problems.push(Problem {
                    key: "broker.password_env".into(),
                    reason: lang.tf("config.env_missing", &[("name", name)]),
                });
                None
            }
        };
    }
    let path = base.join(broker.password_file.as_ref()?);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text.lines().next().unwrap_or("").to_owned()),
        Err(error) => {
            problems.push(Problem {
                key: "broker.password_file".into(),
                reason: lang.tf(
                    "config.file_unreadable",
                    &[("path", &path.display()), ("error", &error)],
                ),
            });
            None
        }
    }
}
