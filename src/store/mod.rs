//! SQLite storage: the append-only event log, the device snapshot rows that
//! spare a full replay at start-up, and the small `meta` table.
//!
//! Writes happen on one thread at a time in `BEGIN IMMEDIATE` transactions;
//! in WAL mode, readers (attached consoles, `status`) do not block the writer.

mod database;
mod migrations;

pub use crate::domain::storage::FaultKind;
pub use database::{
    Batch, Changes, Committed, Meta, Outgoing, RefusedRequest, Request, Store, StoreError, Summary,
};
