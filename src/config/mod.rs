//! Configuration: where the file is found, what it may contain, and the
//! validation that reports every problem with its key before anything starts.

mod load;
mod model;
mod paths;
pub mod residents;

pub use load::{ConfigError, Problem, load, load_str, locate};
pub use model::{BrokerUrl, Care, Config, Console, Language, Log, Storage, Tickets};
pub use paths::Paths;
