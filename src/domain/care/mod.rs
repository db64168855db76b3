//! Eldercare check-ins (智慧养老签到): the residents registry, daily
//! check-in windows, events from `care/<person>/evt`, the missed check-in
//! ladder, and today's board.
//!
//! The engine returns [`CareSignal`]s (raise or clear a condition) that the
//! alarm layer turns into alarms. Times are passed in and windows are
//! computed in the site's time zone, so tests drive days of virtual time.

pub mod csv;
pub mod engine;
pub mod event;
pub mod ladder;
pub mod resident;
pub mod window;

pub use csv::{RowError, parse_csv};
pub use engine::{BoardRow, CareEngine, CareEntry, CareEntryKind, DayStatus, Ladder, LadderEnd};
pub use event::{CareDecodeError, CareEvent, CareEventKind, CheckInVia};
pub use ladder::{
    CareCondition, CareRefusal, CareSettings, CareSignal, ClearReason, EscalatedTo, Outcome,
    OutcomeRecord, Stage,
};
pub use resident::{EmergencyContact, Problem, Resident, parse_phone, parse_toml};
pub use window::{CheckInWindow, Occurrence};
