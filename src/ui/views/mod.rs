//! One module per screen; each draws from the app state and never changes it.

pub mod alarm;
pub mod alarms;
pub mod chrome;
pub mod detail;
pub mod devices;
pub mod dialog;
pub mod help;
pub mod history;
pub mod overview;
