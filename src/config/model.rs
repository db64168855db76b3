//! The configuration file's shape. Each section has defaults, so a file only
//! sets what differs; unknown keys are errors, not silently ignored.

use std::path::PathBuf;
use std::time::Duration;

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::alarm::{AlarmRules, Condition, Priority};
use crate::domain::device::{DetectorClass, DeviceKind, DeviceSpec};

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it came from, if any.
    pub source: Option<PathBuf>,
    pub site: Site,
    pub broker: Broker,
    pub storage: Storage,
    pub console: Console,
    pub alarms: Alarms,
    pub operators: Operators,
    pub care: Care,
    pub tickets: Tickets,
    /// Local start times of the duty shifts, from `[shifts] starts`.
    pub shifts: crate::domain::shift::Schedule,
    pub log: Log,
    /// The eldercare residents registry, read from `care.residents`.
    pub residents: Vec<crate::domain::care::Resident>,
    /// Systems the site already runs, read in their own formats.
    pub adapters: crate::ingest::adapters::AdaptersConfig,
    pub devices: Vec<DeviceSpec>,
    /// Broker password read from the file or variable the config names.
    pub password: Option<String>,
    pub ca_pem: Option<Vec<u8>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Site {
    /// Goes into the topic root `gr/v1/<id>/`.
    pub id: String,
    pub name: String,
    /// IANA time zone in which times are shown.
    pub time_zone: String,
}

impl Default for Site {
    fn default() -> Self {
        Self {
            id: "site".into(),
            name: String::new(),
            time_zone: "Asia/Shanghai".into(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Broker {
    pub url: String,
    pub client_id: String,
    pub username: Option<String>,
    /// Name of the environment variable that contains the password.
    pub password_env: Option<String>,
    /// File whose first line is the password.
    pub password_file: Option<PathBuf>,
    /// PEM CA bundle for `mqtts://`; the system roots when absent.
    pub ca_file: Option<PathBuf>,
    pub keep_alive_s: u64,
    pub connect_timeout_s: u64,
    pub max_packet_bytes: usize,
    /// Cap of the reconnect backoff.
    pub retry_max_s: u64,
}

impl Default for Broker {
    fn default() -> Self {
        Self {
            url: "mqtt://127.0.0.1:1883".into(),
            client_id: "guardroom".into(),
            username: None,
            password_env: None,
            password_file: None,
            ca_file: None,
            keep_alive_s: 30,
            connect_timeout_s: 10,
            // A retained message over the limit makes the client drop the
            // connection, and the broker sends it again on every
            // subscribe: Zigbee2MQTT's device list of a large network
            // passes 1 MiB, so the default leaves room.
            max_packet_bytes: 16 * 1024 * 1024,
            retry_max_s: 60,
        }
    }
}

impl Broker {
    pub fn keep_alive(&self) -> Duration {
        Duration::from_secs(self.keep_alive_s)
    }
}

/// A parsed broker URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl BrokerUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let (tls, rest) = if let Some(rest) = url.strip_prefix("mqtt://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("mqtts://") {
            (true, rest)
        } else {
            return Err(format!("\"{url}\" must start with mqtt:// or mqtts://"));
        };
        let rest = rest.trim_end_matches('/');
        let default_port = if tls { 8883 } else { 1883 };
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
                let port = port
                    .parse::<u16>()
                    .ok()
                    .filter(|port| *port != 0)
                    .ok_or_else(|| {
                        format!("port \"{port}\" in \"{url}\" is not a number from 1 to 65535")
                    })?;
                (host, port)
            }
            _ => (rest, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('/') {
            return Err(format!(
                "\"{url}\" has no valid host; write it as mqtt://HOST:PORT"
            ));
        }
        Ok(Self {
            tls,
            host: host.to_owned(),
            port,
        })
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    /// The SQLite file; the user's data directory when absent.
    pub database: Option<PathBuf>,
}

/// The `[shifts]` section as written; parsed into a `Schedule`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Shifts {
    /// Local start times, `HH:MM`; each shift runs until the next start.
    pub starts: Vec<String>,
}

impl Default for Shifts {
    fn default() -> Self {
        Self {
            starts: crate::domain::shift::Schedule::day_and_night().starts(),
        }
    }
}

/// The `[log]` section: how long the duty log stays in the main database.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// Days of events `guardroom log archive` never moves out.
    pub keep_days: u32,
}

impl Default for Log {
    fn default() -> Self {
        Self { keep_days: 365 }
    }
}

/// Language of the screens and messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Language {
    /// From `LC_ALL`, `LC_MESSAGES` or `LANG`.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Console {
    pub language: Language,
    /// A built-in theme name or a path to a theme file.
    pub theme: String,
    /// A device is stale after its interval times this factor.
    pub stale_factor: f64,
    /// Report interval assumed for devices outside the inventory, in seconds.
    pub unregistered_interval_s: u32,
    /// This console's id in `console/<id>/act`.
    pub id: String,
    /// The operator recorded on actions until operators log in.
    pub user: String,
    /// Desktop notifications for new P1/P2 alarms and escalations; the bell
    /// and the banner work either way.
    pub notifications: bool,
    /// Folder for reports exported from the log browser; `reports` beside
    /// the database when absent.
    pub reports_dir: Option<PathBuf>,
}

impl Default for Console {
    fn default() -> Self {
        Self {
            language: Language::Auto,
            theme: "default".into(),
            stale_factor: 2.5,
            unregistered_interval_s: 300,
            id: "duty-1".into(),
            user: "guard".into(),
            notifications: true,
            reports_dir: None,
        }
    }
}

/// The `[operators]` section: wrong-PIN lockout and the idle lock.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Operators {
    /// Wrong PINs in a row before an operator is locked out.
    pub max_failures: u32,
    /// How long a lockout lasts, in seconds.
    pub lockout_s: u32,
    /// Seconds without input before a console locks itself; 0 never locks.
    pub idle_lock_s: u32,
}

impl Default for Operators {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lockout_s: 300,
            idle_lock_s: 600,
        }
    }
}

impl Operators {
    pub fn lockout(&self) -> crate::domain::operator::LockoutPolicy {
        crate::domain::operator::LockoutPolicy {
            max_failures: self.max_failures,
            lockout_s: self.lockout_s,
        }
    }

    pub fn idle_lock(&self) -> crate::domain::operator::IdleLock {
        crate::domain::operator::IdleLock {
            idle_lock_s: self.idle_lock_s,
        }
    }
}

/// The `[alarms]` section: priorities, timers, procedures and cameras.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Alarms {
    /// Seconds unacknowledged before escalation, by priority; 0 never escalates.
    pub escalation_s: Escalation,
    pub offline_debounce_s: u32,
    pub flap_window_s: u32,
    pub flap_count: u32,
    pub held_open_s: u32,
    pub flood_threshold: u32,
    /// Topic under the site root where escalations go.
    pub supervisor_topic: String,
    /// Condition name → `P1`…`P4`, where it differs from the default.
    pub priority: BTreeMap<String, String>,
    /// Condition name → standard operating procedure text.
    pub sop: BTreeMap<String, SopText>,
    /// Cameras linked to doors, zones or buildings.
    pub cameras: Vec<CameraLink>,
}

impl Default for Alarms {
    fn default() -> Self {
        let rules = AlarmRules::default();
        Self {
            escalation_s: Escalation::default(),
            offline_debounce_s: rules.offline_debounce_s,
            flap_window_s: rules.flap_window_s,
            flap_count: rules.flap_count,
            held_open_s: rules.held_open_s,
            flood_threshold: rules.flood_threshold,
            supervisor_topic: "supervisor/escalation".into(),
            priority: BTreeMap::new(),
            sop: BTreeMap::new(),
            cameras: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Escalation {
    #[serde(rename = "P1")]
    pub p1: u32,
    #[serde(rename = "P2")]
    pub p2: u32,
    #[serde(rename = "P3")]
    pub p3: u32,
    #[serde(rename = "P4")]
    pub p4: u32,
}

impl Default for Escalation {
    fn default() -> Self {
        Self {
            p1: 60,
            p2: 120,
            p3: 300,
            p4: 0,
        }
    }
}

/// A procedure text in both languages; either may be left out.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SopText {
    #[serde(rename = "zh-CN")]
    pub zh_cn: Option<String>,
    pub en: Option<String>,
}

/// Cameras to look at for alarms of one device, zone or building.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraLink {
    pub device: Option<String>,
    pub zone: Option<String>,
    pub building: Option<String>,
    pub cameras: Vec<String>,
}

/// One `[[devices]]` entry as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceEntry {
    pub id: String,
    pub kind: DeviceKind,
    pub class: Option<DetectorClass>,
    pub name: String,
    #[serde(default)]
    pub building: String,
    #[serde(default)]
    pub zone: String,
    pub gateway: Option<String>,
    /// Expected report interval in seconds.
    #[serde(default = "default_interval")]
    pub interval_s: u32,
}

fn default_interval() -> u32 {
    300
}

impl DeviceEntry {
    pub fn into_spec(self) -> DeviceSpec {
        DeviceSpec {
            id: self.id,
            kind: self.kind,
            class: self.class,
            name: self.name,
            building: self.building,
            zone: self.zone,
            gateway: self.gateway,
            interval_s: self.interval_s,
        }
    }
}

impl Config {
    /// Builds the alarm rules the recorder runs from the `[alarms]` section.
    pub fn alarm_rules(&self) -> AlarmRules {
        let alarms = &self.alarms;
        let escalation = |s: u32| (s > 0).then_some(s);
        AlarmRules {
            // Validation has checked every name and value.
            priorities: alarms
                .priority
                .iter()
                .filter_map(|(name, p)| Some((Condition::parse(name)?, Priority::parse(p)?)))
                .collect(),
            escalation_s: [
                escalation(alarms.escalation_s.p1),
                escalation(alarms.escalation_s.p2),
                escalation(alarms.escalation_s.p3),
                escalation(alarms.escalation_s.p4),
            ],
            offline_debounce_s: alarms.offline_debounce_s,
            flap_window_s: alarms.flap_window_s,
            flap_count: alarms.flap_count,
            held_open_s: alarms.held_open_s,
            flood_threshold: alarms.flood_threshold,
            device_priorities: crate::ingest::adapters::device_priorities(&self.adapters),
        }
    }

    pub fn broker_url(&self) -> BrokerUrl {
        // Validation has parsed it already.
        BrokerUrl::parse(&self.broker.url).expect("broker URL validated at load")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_url_forms() {
        assert_eq!(
            BrokerUrl::parse("mqtt://127.0.0.1:1884").unwrap(),
            BrokerUrl {
                tls: false,
                host: "127.0.0.1".into(),
                port: 1884
            }
        );
        assert_eq!(BrokerUrl::parse("mqtts://broker.local").unwrap().port, 8883);
        assert_eq!(BrokerUrl::parse("mqtt://[::1]:1883").unwrap().host, "::1");
        assert!(BrokerUrl::parse("http://x").is_err());
        assert!(BrokerUrl::parse("mqtt://x:99999").is_err());
        assert!(BrokerUrl::parse("mqtt://:1883").is_err());
    }
}

/// The `[care]` section: the residents registry and the eldercare rules.
///
/// ```toml
/// [care]
/// residents = "residents.toml"   # or a .csv file; relative to this file
/// window = { start = "06:00", end = "10:00" }
/// call_resident_min = 15
/// call_contact_min = 15
/// inactive_h = 24
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Care {
    /// The residents file, TOML (`[[residents]]`) or CSV. Without one, no resident is watched.
    pub residents: Option<PathBuf>,
    /// The site's daily check-in window, in the site's time zone.
    pub window: crate::domain::care::CheckInWindow,
    /// Minutes at the first stage (call the resident) before the second.
    pub call_resident_min: u32,
    /// Minutes at the second stage (call the contacts) before the third.
    pub call_contact_min: u32,
    /// Hours without activity from a resident's passive sources before the
    /// inactivity alarm.
    pub inactive_h: u32,
    /// The stage times in seconds, over the minutes: for drills and tests.
    pub call_resident_s: Option<u32>,
    pub call_contact_s: Option<u32>,
}

impl Default for Care {
    fn default() -> Self {
        let settings = crate::domain::care::CareSettings::default();
        Self {
            residents: None,
            window: settings.window,
            call_resident_min: settings.call_resident_min,
            call_contact_min: settings.call_contact_min,
            inactive_h: settings.inactive_h,
            call_resident_s: None,
            call_contact_s: None,
        }
    }
}

impl Care {
    pub fn settings(&self) -> crate::domain::care::CareSettings {
        crate::domain::care::CareSettings {
            window: self.window,
            call_resident_min: self.call_resident_min,
            call_contact_min: self.call_contact_min,
            inactive_h: self.inactive_h,
            call_resident_s: self.call_resident_s,
            call_contact_s: self.call_contact_s,
        }
    }
}

/// The `[tickets]` section: the categories and urgencies offered when a
/// ticket is created at a console, and the service levels.
///
/// ```toml
/// [tickets]
/// categories = ["plumbing", "electrical", "elevator"]
/// urgencies = ["urgent", "normal"]
/// [tickets.sla]
/// urgent_min = 120
/// [tickets.sla.categories.elevator]
/// urgent_min = 30
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tickets {
    pub categories: Vec<crate::domain::ticket::Category>,
    pub urgencies: Vec<crate::domain::ticket::Urgency>,
    pub sla: crate::domain::ticket::SlaSettings,
}

impl Default for Tickets {
    fn default() -> Self {
        Self {
            categories: crate::domain::ticket::Category::ALL.to_vec(),
            urgencies: crate::domain::ticket::Urgency::ALL.to_vec(),
            sla: crate::domain::ticket::SlaSettings::default(),
        }
    }
}

impl Config {
    /// Returns what the ticket book and the care engine need from the configuration.
    pub fn service_setup(&self) -> crate::domain::services::ServiceSetup {
        crate::domain::services::ServiceSetup {
            residents: self.residents.clone(),
            care: self.care.settings(),
            time_zone: jiff::tz::TimeZone::get(&self.site.time_zone)
                .unwrap_or(jiff::tz::TimeZone::UTC),
            sla: self.tickets.sla.clone(),
        }
    }
}
