//! The demo site: an invented residential community, compiled in so that
//! `guardroom demo` works from any directory.

use std::path::Path;

use super::broker::EmbeddedBroker;
use crate::config::{self, Config, ConfigError};
use crate::i18n::Lang;

/// The demo community's configuration and inventory.
pub const SITE_TOML: &str = include_str!("../../config/demo-site.toml");

/// The `[adapters]` section that `guardroom demo --adapters` adds to the site.
pub const ADAPTERS_TOML: &str = include_str!("../../config/demo-adapters.toml");

/// Loads and validates the demo site, with the adapters switched on when
/// `adapters` is true and the residents' windows placed around now.
pub fn load(lang: Lang, adapters: bool) -> Result<Config, ConfigError> {
    load_started(lang, adapters, jiff::Timestamp::now())
}

/// Loads the demo site for a run that started at `started`: a console
/// attached to a running demo passes that demo's start, so that it agrees
/// with the recorder about every resident's window.
pub fn load_started(
    lang: Lang,
    adapters: bool,
    started: jiff::Timestamp,
) -> Result<Config, ConfigError> {
    load_devices(lang, adapters).map(|config| with_residents(config, started))
}

/// Adds the invented residents, with check-in windows around `started`,
/// and the demo's short ladder stages.
fn with_residents(mut config: Config, started: jiff::Timestamp) -> Config {
    let tz = jiff::tz::TimeZone::get(&config.site.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    config.residents = super::services::residents(started, &tz);
    let settings = super::services::care_settings();
    config.care.call_resident_s = settings.call_resident_s;
    config.care.call_contact_s = settings.call_contact_s;
    config
}

fn load_devices(lang: Lang, adapters: bool) -> Result<Config, ConfigError> {
    if !adapters {
        return config::load_str(SITE_TOML, "config/demo-site.toml", Path::new("."), lang);
    }
    // The adapters file contains only `[adapters…]` tables, so appending it
    // after the site's last `[[devices]]` entry gives one valid document.
    let text = format!("{SITE_TOML}\n{ADAPTERS_TOML}");
    config::load_str(
        &text,
        "config/demo-site.toml + config/demo-adapters.toml",
        Path::new("."),
        lang,
    )
}

/// Points the configuration at the embedded broker.
pub(super) fn use_broker(mut config: Config, broker: &EmbeddedBroker) -> Config {
    config.broker.url = broker.url();
    config
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::DeviceKind;

    #[test]
    fn site_is_valid_and_large() {
        let config =
            load(Lang::En, false).unwrap_or_else(|error| panic!("{}", error.render(Lang::En)));
        assert!(
            config.devices.len() >= 300,
            "{} devices",
            config.devices.len()
        );
        let buildings: BTreeSet<&str> = config
            .devices
            .iter()
            .map(|device| device.building.as_str())
            .filter(|building| building.ends_with("号楼"))
            .collect();
        assert!(buildings.len() >= 6, "residential buildings: {buildings:?}");
        for kind in [DeviceKind::Door, DeviceKind::Camera, DeviceKind::Detector] {
            assert!(config.devices.iter().any(|device| device.kind == kind));
        }
        let gateways: BTreeSet<_> = config
            .devices
            .iter()
            .filter_map(|device| device.gateway.as_deref())
            .collect();
        assert!(gateways.len() >= 3, "gateways: {gateways:?}");
        assert!(config.devices.iter().any(|device| device.interval_s <= 4));
    }

    #[test]
    fn adapters_switched_on_by_flag() {
        let plain = load(Lang::En, false).unwrap();
        assert!(!plain.adapters.zigbee2mqtt.enabled, "off without the flag");

        let config =
            load(Lang::En, true).unwrap_or_else(|error| panic!("{}", error.render(Lang::En)));
        let adapters = &config.adapters;
        assert!(adapters.zigbee2mqtt.enabled, "Zigbee2MQTT on");
        assert!(adapters.home_assistant.enabled, "Home Assistant on");
        assert!(adapters.frigate.enabled, "Frigate on");
        assert_eq!(
            config.devices.len(),
            plain.devices.len(),
            "the native inventory is unchanged"
        );
    }
}
