//! One module per screen; each draws from the app state and never changes it.

pub mod chrome;
pub mod detail;
pub mod devices;
pub mod help;
pub mod overview;
