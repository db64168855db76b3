//! Ingest: the MQTT link, topic routing, payload decoding and sanitising.
//!
//! A message arrives in `link`, `topic` routes it by kind and id, `decode`
//! turns its payload into an [`Observation`](crate::domain::Observation)
//! after `sanitize` has cleaned every string, and the recorder takes it from
//! there. Nothing here knows about screens or SQLite.

pub mod adapters;
pub mod decode;
pub mod errors;
pub mod link;
pub mod sanitize;
pub mod services;
pub mod topic;

pub use decode::{DecodeError, Limits, decode};
pub use link::{LinkState, LinkStatus};
pub use topic::{Route, TopicRoot};
