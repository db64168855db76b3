//! The configuration file's shape. Each section has defaults, so a file only
//! sets what differs; unknown keys are errors, not silently ignored.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

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
            max_packet_bytes: 1024 * 1024,
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
}

impl Default for Console {
    fn default() -> Self {
        Self {
            language: Language::Auto,
            theme: "default".into(),
            stale_factor: 2.5,
            unregistered_interval_s: 300,
        }
    }
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
