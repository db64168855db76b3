//! Read-only reports over a database: `guardroom status`.

pub mod status;
