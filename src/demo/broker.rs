//! The demo's embedded MQTT broker: rumqttd with one MQTT 3.1.1 listener on
//! 127.0.0.1 and a free port, running in its own threads until the process
//! exits. Its tracing output goes wherever ours goes (the log file).
//!
//! NOTE: rumqttd 0.20 forwards at most 100 retained messages per filter to a
//! QoS 1 subscriber when it subscribes, because it caps a subscriber's
//! in-flight window at 100 and drops the retained messages that do not fit.
//! The demo therefore starts the simulator only after the recorder has
//! subscribed, so that the start-up snapshot reaches it as live messages.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::thread::JoinHandle;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet};
use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use tokio::time::Instant;

/// How long the broker may take to accept its first MQTT connection.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Pause between connection attempts while the listener comes up.
const PROBE_RETRY: Duration = Duration::from_millis(50);

/// Largest payload the broker accepts, in bytes, the same as the decoder's limit.
pub(super) const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// Failure to start the embedded broker.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("no free TCP port on 127.0.0.1: {0}")]
    NoPort(std::io::Error),
    #[error("cannot start the broker thread: {0}")]
    Thread(std::io::Error),
    #[error("the broker stopped while starting on {address}; the log file has its error")]
    Stopped { address: SocketAddr },
    #[error("the broker did not accept an MQTT connection on {address} within {secs} s")]
    NotReady { address: SocketAddr, secs: u64 },
}

/// A running embedded broker.
pub struct EmbeddedBroker {
    address: SocketAddr,
    // rumqttd has no shutdown call, so its threads end with the process.
    _thread: JoinHandle<()>,
}

impl EmbeddedBroker {
    /// Starts the broker and waits until it accepts an MQTT connection.
    pub async fn start() -> Result<Self, BrokerError> {
        let address = free_address().map_err(BrokerError::NoPort)?;
        let config = broker_config(address);
        let thread = std::thread::Builder::new()
            .name("demo-broker".into())
            .spawn(move || {
                let mut broker = Broker::new(config);
                // `start` returns only when every listener has stopped. A
                // listener that cannot bind logs its error and stops.
                if let Err(error) = broker.start() {
                    tracing::error!(%error, "embedded broker failed");
                }
                tracing::warn!(%address, "embedded broker stopped");
            })
            .map_err(BrokerError::Thread)?;
        wait_until_ready(address, &thread).await?;
        tracing::info!(%address, "embedded broker listening");
        Ok(Self {
            address,
            _thread: thread,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Formats the broker's address as a configuration URL (`mqtt://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("mqtt://{}", self.address)
    }
}

/// Picks a free port by binding port 0 and releasing it.
///
/// NOTE: another process could take the port between this call and the
/// broker's bind; the broker thread then stops and `start` reports it.
fn free_address() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.local_addr()
}

fn broker_config(address: SocketAddr) -> Config {
    let connections = ConnectionSettings {
        connection_timeout_ms: 5_000,
        max_payload_size: MAX_PAYLOAD_BYTES,
        max_inflight_count: 100,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let listener = ServerSettings {
        name: "demo-v4".into(),
        listen: address,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 64,
            max_outgoing_packet_count: 200,
            // Segments of the in-memory commit log, 10 MiB at most in all.
            max_segment_size: 1024 * 1024,
            max_segment_count: 10,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("1".to_owned(), listener)])),
        ..Config::default()
    }
}

/// Connects an MQTT client until the broker sends a ConnAck, the broker
/// thread ends, or [`READY_TIMEOUT`] passes.
async fn wait_until_ready(address: SocketAddr, thread: &JoinHandle<()>) -> Result<(), BrokerError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut options = MqttOptions::new(
        "guardroom-demo-probe",
        address.ip().to_string(),
        address.port(),
    );
    options.set_clean_session(true);
    let (client, mut eventloop) = AsyncClient::new(options, 4);
    loop {
        if thread.is_finished() {
            return Err(BrokerError::Stopped { address });
        }
        if Instant::now() >= deadline {
            return Err(BrokerError::NotReady {
                address,
                secs: READY_TIMEOUT.as_secs(),
            });
        }
        match tokio::time::timeout_at(deadline, eventloop.poll()).await {
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => break,
            Ok(Ok(_)) => {}
            Ok(Err(_)) => tokio::time::sleep(PROBE_RETRY).await,
            Err(_elapsed) => {}
        }
    }
    let _ = client.try_disconnect();
    // Let the disconnect go out so the broker does not log a dropped link.
    let _ = tokio::time::timeout(Duration::from_millis(200), eventloop.poll()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rumqttc::QoS;

    use super::*;

    /// Polls until `count` publishes arrived or five seconds passed without one.
    async fn collect(eventloop: &mut rumqttc::EventLoop, count: usize) -> Vec<rumqttc::Publish> {
        let mut received = Vec::new();
        while received.len() < count {
            match tokio::time::timeout(Duration::from_secs(5), eventloop.poll()).await {
                Ok(Ok(Event::Incoming(Packet::Publish(publish)))) => received.push(publish),
                Ok(Ok(_)) => {}
                Ok(Err(error)) => panic!("subscriber link failed: {error}"),
                Err(_) => break,
            }
        }
        received
    }

    fn client(broker: &EmbeddedBroker, id: &str) -> (AsyncClient, rumqttc::EventLoop) {
        let mut options = MqttOptions::new(id, "127.0.0.1", broker.address().port());
        options.set_clean_session(true);
        AsyncClient::new(options, 1024)
    }

    #[tokio::test]
    async fn stopped_broker_thread_reported() {
        let address = free_address().unwrap();
        let thread = std::thread::spawn(|| {});
        while !thread.is_finished() {
            std::thread::yield_now();
        }
        let result = wait_until_ready(address, &thread).await;
        assert!(
            matches!(result, Err(BrokerError::Stopped { .. })),
            "{result:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retained_and_qos1_reach_subscriber() {
        let broker = EmbeddedBroker::start().await.expect("broker starts");
        assert!(broker.address().ip().is_loopback());

        // A retained message published before anyone subscribes.
        let (publisher, mut publisher_loop) = client(&broker, "test-publisher");
        let (acks_tx, mut acks) = tokio::sync::mpsc::unbounded_channel();
        let pump = tokio::spawn(async move {
            loop {
                match publisher_loop.poll().await {
                    Ok(Event::Incoming(packet @ (Packet::ConnAck(_) | Packet::PubAck(_)))) => {
                        let _ = acks_tx.send(matches!(packet, Packet::PubAck(_)));
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        });
        // Publish only once connected, so that the test does not depend on
        // what the client does with a publish queued before a failed first
        // connection attempt (one run saw no PubAck within 10 s).
        let connected = tokio::time::timeout(Duration::from_secs(10), acks.recv())
            .await
            .expect("the publisher connects within 10 s");
        assert_eq!(connected, Some(false), "a ConnAck comes first");
        publisher
            .publish("t/retained/a", QoS::AtLeastOnce, true, "kept")
            .await
            .unwrap();
        // Subscribe only once the broker has acknowledged the retained
        // message; a fixed sleep was too short on a loaded machine.
        let acked = tokio::time::timeout(Duration::from_secs(10), acks.recv())
            .await
            .expect("broker acknowledges the retained publish within 10 s");
        assert_eq!(acked, Some(true), "a PubAck for the retained publish");

        let (subscriber, mut subscriber_loop) = client(&broker, "test-subscriber");
        subscriber.subscribe("t/#", QoS::AtLeastOnce).await.unwrap();
        let retained = collect(&mut subscriber_loop, 1).await;
        assert_eq!(retained.len(), 1, "retained message not delivered");
        assert!(retained[0].retain);
        assert_eq!(&retained[0].payload[..], b"kept");

        // More live QoS 1 messages than one in-flight window holds.
        for index in 0..450 {
            publisher
                .publish(format!("t/live/{index}"), QoS::AtLeastOnce, false, "x")
                .await
                .unwrap();
        }
        let live = collect(&mut subscriber_loop, 450).await;
        assert_eq!(live.len(), 450, "live QoS 1 messages lost");
        assert!(live.iter().all(|publish| publish.qos == QoS::AtLeastOnce));
        pump.abort();
    }
}
