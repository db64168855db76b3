//! The state of the recorder's writes, as the screens show it: fine, or
//! held in memory because the disk refuses them for now.

use jiff::Timestamp;
use serde::Serialize;

/// Cause of a failed write that may succeed when tried again later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The disk (or the file system holding the database) is full.
    Full,
    /// Another program holds the database locked.
    Locked,
    /// Reading or writing the file failed.
    Io,
}

/// Writes kept in memory until the database accepts them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StorageFault {
    pub kind: FaultKind,
    /// First failed commit of this spell.
    pub since: Timestamp,
    /// Next attempt.
    pub retry_at: Timestamp,
    /// Events held, operator actions among them.
    pub held_events: usize,
    pub held_actions: usize,
    /// The database's own message, in English.
    pub detail: String,
}

/// The writer's state as a delta reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Storage {
    /// Not reported by this delta (a console following the file).
    #[default]
    Unknown,
    Saved,
    Held(StorageFault),
}
