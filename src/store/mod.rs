//! SQLite storage: the append-only event log, the device snapshot rows that
//! spare a full replay at start-up, and the small `meta` table.
//!
//! Writes happen on one thread at a time in `BEGIN IMMEDIATE` transactions;
//! readers (attached consoles, `status`) never block the writer thanks to WAL.

mod migrations;
mod store;

pub use store::{Batch, Committed, Meta, Store, StoreError, Summary};
