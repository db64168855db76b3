//! The recorder role: exactly one process per database holds the lock and
//! runs ingest into the store; other processes attach and follow the file.
//!
//! `start` wires the MQTT link to the writer thread. The writer is the only
//! code that appends to the event log for ingested data.

pub mod lock;
pub mod outbound;
pub mod writer;

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::app::{ActError, Submit};
use crate::config::Config;
use crate::ingest::adapters::Adapters;
use crate::ingest::link::{self, LinkOptions};
use crate::ingest::{Limits, LinkState, TopicRoot};
use crate::store::{Store, StoreError};
use writer::Input;

/// Capacity of the link → writer channel; when full, the link stops reading
/// from the broker until the writer catches up, which is the backpressure
/// MQTT flow control expects.
const INBOUND_CAPACITY: usize = 8_192;

/// A running recorder.
pub struct Recorder {
    /// Path an unreadable database file was moved to before a fresh one was
    /// started. The operator must be warned.
    pub moved_aside: Option<PathBuf>,
    shutdown: watch::Sender<bool>,
    link: tokio::task::JoinHandle<()>,
    ticks: tokio::task::JoinHandle<()>,
    polls: tokio::task::JoinHandle<()>,
    actions: mpsc::WeakSender<Input>,
    writer: JoinHandle<()>,
}

/// How often the time-driven alarm rules run.
const TICK: Duration = Duration::from_secs(1);

/// How often the writer looks for actions attached consoles handed in;
/// with their own follow interval, an action shows on every console within
/// about half a second.
const POLL: Duration = Duration::from_millis(200);

/// Sends the writer `input()` every `period` until shutdown. One that finds
/// the queue full is skipped: the writer is busy and the next one comes.
async fn every(
    period: Duration,
    input: fn() -> Input,
    writer: mpsc::Sender<Input>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = interval.tick() => {
                let _ = writer.try_send(input());
            }
        }
    }
}

impl Recorder {
    /// Opens the store, registers the inventory and starts the link and the
    /// writer. `on_commit` receives the changed rows when a console runs in
    /// this process.
    pub fn start(
        config: &Config,
        database: PathBuf,
        link_state: watch::Sender<LinkState>,
        on_commit: Option<writer::OnCommit>,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Self, StoreError> {
        let (store, moved_aside) = Store::open_recovering(&database)?;
        let (inbound_tx, inbound_rx) = mpsc::channel(INBOUND_CAPACITY);
        let (shutdown, shutdown_rx) = watch::channel(false);

        let root = TopicRoot::new(&config.site.id);
        let settings = writer::Settings {
            inventory: config.devices.clone(),
            unregistered_interval_s: config.console.unregistered_interval_s,
            rules: config.alarm_rules(),
            topics: writer::Topics {
                actions: format!("{}console/{}/act", root.prefix(), config.console.id),
                supervisor: format!("{}{}", root.prefix(), config.alarms.supervisor_topic),
                tickets: root.topic("ticket/"),
            },
            services: config.service_setup(),
        };
        let mut writer = writer::Writer::new(store, settings)?;
        let (publish_tx, publish_rx) = mpsc::unbounded_channel();
        writer.publish_to(publish_tx);
        let (ack_tx, ack_rx) = mpsc::unbounded_channel();
        writer.ack_to(ack_tx);
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer.run(inbound_rx, on_commit))
            .expect("spawning the writer thread");

        let url = config.broker_url();
        let options = LinkOptions {
            host: url.host,
            port: url.port,
            tls: url.tls.then(|| config.ca_pem.clone()),
            client_id: config.broker.client_id.clone(),
            username: config.broker.username.clone(),
            password: config.password.clone(),
            keep_alive: config.broker.keep_alive(),
            connect_timeout: Duration::from_secs(config.broker.connect_timeout_s),
            max_packet_bytes: config.broker.max_packet_bytes,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(config.broker.retry_max_s),
            manual_acks: true,
        };
        let ticks = runtime.spawn(every(
            TICK,
            || Input::Tick(jiff::Timestamp::now()),
            inbound_tx.clone(),
            shutdown_rx.clone(),
        ));
        let polls = runtime.spawn(every(
            POLL,
            || Input::Poll,
            inbound_tx.clone(),
            shutdown_rx.clone(),
        ));
        // Weak, so that a console still holding the submitter does not keep
        // the writer running after the link has stopped.
        let actions = inbound_tx.downgrade();
        let link = runtime.spawn(link::run_publishing(
            options,
            root,
            Limits::default(),
            Adapters::new(&config.adapters),
            inbound_tx,
            publish_rx,
            ack_rx,
            link_state,
            shutdown_rx,
        ));
        Ok(Self {
            moved_aside,
            shutdown,
            link,
            ticks,
            polls,
            actions,
            writer,
        })
    }

    /// Returns a function that hands operator actions to the writer
    /// without waiting.
    pub fn submitter(&self) -> Submit {
        let actions = self.actions.clone();
        Box::new(move |action| {
            let Some(actions) = actions.upgrade() else {
                return Err(ActError::Unavailable("the recorder has stopped".into()));
            };
            actions
                .try_send(Input::Act(action))
                .map_err(|error| ActError::Unavailable(error.to_string()))
        })
    }

    /// Stops the link, lets the writer commit what it holds, and waits for both.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.link.await;
        let _ = self.ticks.await;
        let _ = self.polls.await;
        let writer = self.writer;
        let _ = tokio::task::spawn_blocking(move || writer.join()).await;
    }
}
