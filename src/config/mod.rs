//! Configuration: where the file is found, what it may contain, and the
//! validation that reports every problem with its key before anything starts.

mod load;
mod model;
mod paths;
pub mod residents;

pub use load::{ConfigError, Problem, load, load_str, locate};
pub use model::{BrokerUrl, Care, Config, Console, Language, Log, Storage, Tickets};
pub use paths::Paths;

/// Returns the time zone times are shown in: the configured site's, or
/// without a configuration the default site's, the same zone a console
/// started from an empty configuration would use. An invalid zone is
/// rejected when the configuration loads, so it is not met here.
pub fn site_time_zone(config: Option<&Config>) -> jiff::tz::TimeZone {
    let name = config.map_or_else(
        || model::Site::default().time_zone,
        |config| config.site.time_zone.clone(),
    );
    jiff::tz::TimeZone::get(&name).unwrap_or(jiff::tz::TimeZone::UTC)
}
