//! SQLite storage: the append-only event log, the device snapshot rows that
//! spare a full replay at start-up, and the small `meta` table.
//!
//! Writes happen on one thread at a time in `BEGIN IMMEDIATE` transactions;
//! in WAL mode, readers (attached consoles, `status`) do not block the writer.

pub mod archive;
pub mod chain;
mod database;
pub mod log;
mod migrations;
mod operators;
mod range;
mod services;
pub mod verify;

pub use crate::domain::storage::FaultKind;
pub use database::{
    Batch, Changes, Committed, Meta, Outgoing, RefusedRequest, Request, Store, StoreError, Summary,
};
pub use operators::LoginOutcome;
pub use range::{ChainHead, EventPages};
pub use services::SERVICE_KINDS;
