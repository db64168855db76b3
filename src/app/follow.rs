//! Following the database from an attached console: poll SQLite's
//! `data_version`, and when another connection has committed, read the
//! snapshot rows written since the last revision seen.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::watch;

use crate::domain::alarm::Refusal;
use crate::domain::projection::Delta;
use crate::store::{Store, StoreError};

/// How often the file is checked for commits; a cheap PRAGMA, so a short
/// period keeps an attached console within a fraction of a second.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Follows `database` from revision `rev` until `stop` turns true or
/// `deliver` returns false. Refusals of requests `console` handed in come
/// with the deltas. Ticket and care events come from after `service_seq`,
/// the newest the console loaded, or from now when it is `None`.
pub fn follow(
    database: PathBuf,
    mut rev: i64,
    service_seq: Option<i64>,
    console: &str,
    mut deliver: impl FnMut(Delta) -> bool,
    stop: watch::Receiver<bool>,
) -> Result<(), StoreError> {
    let store = Store::open_read_only(&database)?;
    let mut version = store.data_version()?;
    // Refusals from before this console started are not news.
    let mut refused_after = store
        .refused_requests(console, 0)?
        .last()
        .map_or(0, |refused| refused.row);
    let mut service_seq = match service_seq {
        Some(seq) => seq,
        None => store.last_service_seq()?,
    };
    while !*stop.borrow() {
        std::thread::sleep(POLL_INTERVAL);
        let now = store.data_version()?;
        if now == version {
            continue;
        }
        version = now;
        let changes = store.changed_since(rev)?;
        let (link, meta) = store.load_link_and_meta()?;
        rev = meta.rev;
        let refused = store.refused_requests(console, refused_after)?;
        if let Some(last) = refused.last() {
            refused_after = last.row;
        }
        let services = store.service_events_after(service_seq, 10_000)?;
        if let Some(last) = services.last() {
            service_seq = last.seq;
        }
        let delta = Delta {
            devices: changes.devices,
            gateways: changes.gateways,
            alarms: changes.alarms,
            alarm_book: changes.alarm_book,
            link,
            last_message: meta.last_message,
            bad_payloads: meta.bad_payloads,
            last_seq: 0,
            refused: refused
                .into_iter()
                .map(|refused| (refused.action, Refusal::ByRecorder(refused.reason)))
                .collect(),
            // Actions handed in but not yet taken by the recorder wait too.
            unsent: waiting(&store),
            storage: Default::default(),
            services,
        };
        if !deliver(delta) {
            break;
        }
    }
    Ok(())
}

/// Actions waiting anywhere between this console and the broker: handed
/// in but not yet taken by the recorder, or taken but not yet confirmed.
fn waiting(store: &Store) -> Option<u64> {
    let unsent = store.unsent_count().ok()?;
    let requests = store.pending_request_count().ok()?;
    Some((unsent + requests).max(0) as u64)
}
