//! One module per screen; each draws from the app state and never changes it.

pub mod alarm;
pub mod alarms;
pub mod board;
pub mod chrome;
pub mod detail;
pub mod devices;
pub mod dialog;
pub mod handover;
pub mod help;
pub mod history;
pub mod log;
pub mod login;
pub mod note;
pub mod overview;
pub mod stats;
pub mod tickets;
