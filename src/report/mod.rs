//! Read-only reports over a database: `guardroom status`, and the shift
//! statistics, handover sheets and exports of `guardroom report`.

pub mod care;
pub mod export;
pub mod handover;
pub mod service_log;
pub mod stats;
pub mod status;
