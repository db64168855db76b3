//! Home Assistant.

use serde::Deserialize;

use super::{Adapter, Mappings};

/// Prefix of our ids for this source's devices, e.g. `ha-front-door`.
pub const ID_PREFIX: &str = "ha";

/// The `[adapters.home_assistant]` section.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub enabled: bool,
    pub base_topic: String,
    /// Our inventory's view of the source's devices, by their source name.
    pub devices: Mappings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            enabled: false,
            base_topic: "homeassistant".into(),
            devices: Mappings::new(),
        }
    }
}

/// The adapter when the configuration switches it on.
pub fn build(config: &Config) -> Option<Box<dyn Adapter>> {
    if !config.enabled {
        return None;
    }
    // TODO: decode Home Assistant messages.
    None
}
