//! The simulator: publishes the scenario's messages on its timeline through
//! its own MQTT client, at QoS 1.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use jiff::Timestamp;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, QoS};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::scenario::Scenario;

const CLIENT_ID: &str = "guardroom-demo-simulator";

/// Room for queued publishes. The start-up snapshot is about 650 messages.
const REQUEST_CAPACITY: usize = 1024;

/// How long the client may take to send its disconnect on stop.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A running simulator.
pub struct Simulator {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Simulator {
    /// Connects to the broker at `address` and starts the scenario's clock
    /// once `ready` completes.
    pub fn start(
        scenario: Scenario,
        address: SocketAddr,
        ready: impl Future<Output = ()> + Send + 'static,
        runtime: &tokio::runtime::Handle,
    ) -> Self {
        let (stop, stop_rx) = watch::channel(false);
        let task = runtime.spawn(run(scenario, address, ready, stop_rx));
        Self { stop, task }
    }

    /// Stops publishing and disconnects.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "demo simulator task failed");
        }
    }
}

async fn run(
    mut scenario: Scenario,
    address: SocketAddr,
    ready: impl Future<Output = ()>,
    mut stop: watch::Receiver<bool>,
) {
    let mut options = MqttOptions::new(CLIENT_ID, address.ip().to_string(), address.port());
    options.set_clean_session(true);
    options.set_keep_alive(Duration::from_secs(30));
    let (client, eventloop) = AsyncClient::new(options, REQUEST_CAPACITY);
    let mut pump = tokio::spawn(drive(eventloop));

    let started = tokio::select! {
        () = ready => true,
        _ = stop.changed() => false,
    };
    let mut published: u64 = 0;
    if started {
        tracing::info!(devices = scenario.device_count(), "demo simulator started");
        published = publish_timeline(&mut scenario, &client, &mut stop).await;
    }

    tracing::info!(published, "demo simulator stopping");
    let _ = client.try_disconnect();
    if tokio::time::timeout(DISCONNECT_TIMEOUT, &mut pump)
        .await
        .is_err()
    {
        pump.abort();
    }
}

/// Publishes each message when it is due until `stop` turns true or the
/// client fails. Returns how many messages were handed to the client.
async fn publish_timeline(
    scenario: &mut Scenario,
    client: &AsyncClient,
    stop: &mut watch::Receiver<bool>,
) -> u64 {
    let start = Instant::now();
    let mut published = 0;
    while let Some(due) = scenario.next_due() {
        tokio::select! {
            () = tokio::time::sleep_until(start + due) => {}
            _ = stop.changed() => return published,
        }
        for message in scenario.due(start.elapsed(), Timestamp::now()) {
            let publish = client.publish(
                message.topic,
                QoS::AtLeastOnce,
                message.retain,
                message.payload,
            );
            // Waits while the request queue is full, so a slow broker slows
            // the simulation down instead of losing messages.
            tokio::select! {
                result = publish => {
                    if let Err(error) = result {
                        tracing::error!(%error, "demo simulator cannot publish; stopping it");
                        return published;
                    }
                }
                _ = stop.changed() => return published,
            }
            published += 1;
        }
    }
    published
}

/// Polls the client's event loop until it has sent its disconnect. rumqttc
/// reconnects on the next poll after an error, so errors only pause it.
async fn drive(mut eventloop: EventLoop) {
    let mut failures: u64 = 0;
    loop {
        match eventloop.poll().await {
            Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
            Ok(_) => failures = 0,
            Err(error) => {
                failures += 1;
                // The first failure and then one a minute, not one a second.
                if failures % 60 == 1 {
                    tracing::warn!(%error, failures, "demo simulator lost the broker; retrying every second");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
