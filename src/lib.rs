//! guardroom: the terminal control console of a residential community's
//! guard room.
//!
//! Where things live, following one device report from the wire to the screen:
//!
//! - [`ingest`] — the MQTT link; topics are routed and payloads decoded and
//!   sanitised into [`domain::Observation`]s.
//! - [`recorder`] — the one process per database that holds the lock; its
//!   writer thread uses the [`domain::Projection`] to find what changed and commits
//!   events and device snapshots through [`store`].
//! - [`store`] — SQLite: the append-only event log (the source of truth),
//!   snapshot rows, migrations.
//! - [`app`] — the console's state: its copy of the projection, kept current
//!   from the recorder in-process or by following the database file.
//! - [`ui`] — terminal set-up, the event loop, keymap and views; drawing is a
//!   pure function of the app state.
//! - [`notify`] — desktop notifications, with the bell and an in-console
//!   banner when there is no desktop.
//! - [`domain`] — pure types and the fold; no I/O, no clock.
//! - [`config`], [`theme`], [`i18n`] — configuration, colour themes, the
//!   zh-CN/en message catalog.
//! - [`demo`] — the embedded broker and the simulated community.
//! - [`report`] — `status` and other read-only reports.

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod i18n;
pub mod ingest;
pub mod logging;
pub mod notify;
pub mod recorder;
pub mod report;
pub mod store;
pub mod theme;
pub mod ui;
