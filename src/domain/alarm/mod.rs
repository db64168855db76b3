//! The alarm model: conditions and priorities, the alarm and its
//! transitions, the book of open alarms, the rules that raise and change
//! them, operator actions, and the queue order.
//!
//! After ISA-18.2: one alarm per (source, condition), state as orthogonal
//! flags (active, acknowledged, latched, shelved, suppressed, out of
//! service), every transition recorded with who, when and why.

pub mod book;
pub mod change;
pub mod condition;
pub mod queue;
pub mod record;
pub mod rules;

pub use book::{AlarmBook, BookState, Refusal};
pub use change::{Action, ActionKind, Change, EntryKind, Flood, Raise};
pub use condition::{Condition, Disposition, Priority};
pub use record::{Alarm, Shown, Transition};
pub use rules::{AlarmRules, ExternalAlarm};
