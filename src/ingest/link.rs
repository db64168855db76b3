//! The MQTT link: one rumqttc client with a fixed id and a persistent
//! session, QoS 1 subscriptions renewed on every ConnAck, capped exponential
//! backoff with jitter, and a link state the screens show.

use std::time::Duration;

use jiff::Timestamp;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, Transport};
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::adapters::{Adapters, Message};
use super::decode::{Limits, decode};
use super::errors::BadPayloads;
use super::topic::{Route, TopicRoot};
use crate::domain::Observation;
use crate::domain::outgoing::Outgoing;

/// Connection settings of the link.
#[derive(Clone, Debug)]
pub struct LinkOptions {
    pub host: String,
    pub port: u16,
    /// TLS with this CA bundle (PEM); `Some(None)` uses the system roots.
    pub tls: Option<Option<Vec<u8>>>,
    pub client_id: String,
    pub username: Option<String>,
    /// Never logged; `Debug` of this struct is never logged either.
    pub password: Option<String>,
    pub keep_alive: Duration,
    pub connect_timeout: Duration,
    pub max_packet_bytes: usize,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Acknowledge a message to the broker only when the receiver hands its
    /// [`Ack`] back, after committing it; otherwise on arrival.
    pub manual_acks: bool,
}

/// A QoS 1 message the broker waits to hear is safe. Valid on the
/// connection it arrived on only: after a reconnect the broker sends the
/// message again and that copy is acknowledged instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ack {
    pkid: u16,
    connection: u64,
}

/// The state of the broker link, as shown in the status bar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LinkStatus {
    /// Connecting; `attempt` counts from 1.
    Connecting {
        attempt: u32,
    },
    Online {
        since: Timestamp,
    },
    /// Offline since the first failure; the next try is attempt `attempt + 1` at `retry_at`.
    Offline {
        since: Timestamp,
        attempt: u32,
        retry_at: Timestamp,
        reason: String,
    },
}

/// The link state with what the screens add to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkState {
    pub status: LinkStatus,
    /// False when the broker had no session for us at the last ConnAck:
    /// messages sent while we were away may be missing.
    pub session_present: Option<bool>,
}

impl Default for LinkState {
    fn default() -> Self {
        Self {
            status: LinkStatus::Connecting { attempt: 1 },
            session_present: None,
        }
    }
}

/// A message from the link to the recorder.
#[derive(Clone, Debug, PartialEq)]
pub enum Inbound {
    Observed {
        observation: Observation,
        received: Timestamp,
    },
    /// A message that names no device: a topic this console does not read,
    /// or (`bad`) an unusable topic id, which is counted.
    Unattributed {
        received: Timestamp,
        bad: bool,
    },
    Link(LinkStatus),
    /// Sent just before [`LinkStatus::Online`]: whether the broker still
    /// held this client's session.
    Session {
        present: bool,
    },
    /// Follows the message it belongs to: acknowledge it once that message
    /// is committed.
    Delivered(Ack),
    /// The broker confirmed these outbox rows (QoS 1 PUBACK).
    Published {
        seqs: Vec<i64>,
    },
}

/// Delay before retry `attempt` (1-based): doubled each time up to `cap`,
/// then scaled by a random factor in [0.5, 1.0) so that many consoles do not
/// reconnect in step.
pub fn backoff_delay(attempt: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(20);
    let full = base.saturating_mul(1 << exponent).min(cap);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

fn mqtt_options(options: &LinkOptions) -> MqttOptions {
    let mut mqtt = MqttOptions::new(&options.client_id, &options.host, options.port);
    mqtt.set_clean_session(false);
    mqtt.set_manual_acks(options.manual_acks);
    mqtt.set_keep_alive(options.keep_alive);
    mqtt.set_max_packet_size(options.max_packet_bytes, options.max_packet_bytes);
    if let Some(user) = &options.username {
        mqtt.set_credentials(user, options.password.clone().unwrap_or_default());
    }
    match &options.tls {
        None => {}
        Some(Some(ca)) => {
            mqtt.set_transport(Transport::tls(ca.clone(), None, None));
        }
        Some(None) => {
            mqtt.set_transport(Transport::tls_with_default_config());
        }
    }
    mqtt
}

/// Runs the link until `shutdown` turns true. Never returns early because
/// the broker is unreachable: it keeps retrying with backoff.
pub async fn run<S: From<Inbound> + Send + 'static>(
    options: LinkOptions,
    root: TopicRoot,
    limits: Limits,
    inbound: mpsc::Sender<S>,
    state: watch::Sender<LinkState>,
    shutdown: watch::Receiver<bool>,
) {
    let (_keep, outgoing) = mpsc::unbounded_channel();
    let (_keep_acks, acks) = mpsc::unbounded_channel();
    let options = LinkOptions {
        manual_acks: false,
        ..options
    };
    run_publishing(
        options,
        root,
        limits,
        Adapters::default(),
        inbound,
        outgoing,
        acks,
        state,
        shutdown,
    )
    .await;
}

/// Like [`run`], and publishes what arrives on `outgoing` with QoS 1 while
/// the broker is reachable. A message counts as sent when its PUBACK
/// arrives; the rows confirmed are reported back as [`Inbound::Published`].
/// With manual acks, each QoS 1 message is followed by an
/// [`Inbound::Delivered`] and acknowledged when that comes back on `acks`.
#[allow(clippy::too_many_arguments)]
pub async fn run_publishing<S: From<Inbound> + Send + 'static>(
    options: LinkOptions,
    root: TopicRoot,
    limits: Limits,
    mut adapters: Adapters,
    inbound: mpsc::Sender<S>,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    mut acks: mpsc::UnboundedReceiver<Vec<Ack>>,
    state: watch::Sender<LinkState>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Room for a full in-flight window of acknowledgements and the outbox
    // beside it; what does not fit waits in `Outbox` and `unacked`.
    let (client, mut eventloop) = AsyncClient::new(mqtt_options(&options), 1_024);
    eventloop
        .network_options
        .set_connection_timeout(options.connect_timeout.as_secs().max(1));
    let mut filters = root.subscriptions();
    filters.extend(adapters.subscriptions());
    let mut learned = Learned::default();
    let mut adapter_ticks = tokio::time::interval(Duration::from_secs(1));
    adapter_ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut bad = BadPayloads::default();
    let mut attempt: u32 = 1;
    let mut offline_since: Option<Timestamp> = None;
    let mut online = false;
    let mut outbox = Outbox::default();
    // Counts connections, so that an acknowledgement never reaches a later
    // connection where the same packet id may name another message.
    let mut connection: u64 = 0;
    let mut unacked: std::collections::VecDeque<Ack> = std::collections::VecDeque::new();

    tracing::info!(host = %options.host, port = options.port, client_id = %options.client_id, "connecting to broker");
    loop {
        if online {
            outbox.hand_over(&client);
            send_acks(&client, &mut unacked, connection);
            learned.subscribe(&client);
        }
        let polled = tokio::select! {
            _ = shutdown.changed() => break,
            Some(message) = outgoing.recv() => {
                outbox.waiting.push_back(message);
                continue;
            }
            Some(batch) = acks.recv() => {
                unacked.extend(batch.into_iter().filter(|ack| ack.connection == connection));
                continue;
            }
            _ = adapter_ticks.tick(), if !adapters.is_empty() => {
                let received = Timestamp::now();
                let mut closed = false;
                for observation in adapters.tick(received) {
                    let message = Inbound::Observed { observation, received };
                    closed |= inbound.send(message.into()).await.is_err();
                }
                if closed {
                    break;
                }
                continue;
            }
            polled = eventloop.poll() => polled,
        };
        match polled {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                let since = Timestamp::now();
                tracing::info!(
                    attempt,
                    session_present = ack.session_present,
                    "broker link online"
                );
                attempt = 1;
                offline_since = None;
                online = true;
                connection += 1;
                unacked.clear();
                if !ack.session_present {
                    // The client drops its unconfirmed publishes with the
                    // old session; the outbox hands them over again.
                    outbox.requeue();
                }
                for filter in &filters {
                    if let Err(error) = client.try_subscribe(filter, QoS::AtLeastOnce) {
                        tracing::error!(%filter, %error, "subscribe request failed");
                    }
                }
                learned.renew();
                state.send_replace(LinkState {
                    status: LinkStatus::Online { since },
                    session_present: Some(ack.session_present),
                });
                let session = Inbound::Session {
                    present: ack.session_present,
                };
                if inbound.send(session.into()).await.is_err()
                    || inbound
                        .send(Inbound::Link(LinkStatus::Online { since }).into())
                        .await
                        .is_err()
                {
                    break;
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let received = Timestamp::now();
                let messages = match adapted(&mut adapters, &root, &publish, received) {
                    Some(messages) => messages,
                    None => vec![route_publish(&root, &limits, &mut bad, &publish, received)],
                };
                let mut closed = false;
                for message in messages {
                    closed |= inbound.send(message.into()).await.is_err();
                }
                if closed {
                    break;
                }
                learned.add(adapters.take_new_subscriptions());
                if options.manual_acks && publish.qos != QoS::AtMostOnce {
                    let ack = Ack {
                        pkid: publish.pkid,
                        connection,
                    };
                    if inbound.send(Inbound::Delivered(ack).into()).await.is_err() {
                        break;
                    }
                }
            }
            Ok(Event::Outgoing(rumqttc::Outgoing::Publish(pkid))) => outbox.written(pkid),
            Ok(Event::Incoming(Packet::PubAck(ack))) => {
                if let Some(seq) = outbox.acknowledged(ack.pkid)
                    && inbound
                        .send(Inbound::Published { seqs: vec![seq] }.into())
                        .await
                        .is_err()
                {
                    break;
                }
            }
            Ok(_) => {}
            Err(error) => {
                let now = Timestamp::now();
                let first_failure = offline_since.is_none();
                online = false;
                unacked.clear();
                let since = *offline_since.get_or_insert(now);
                let delay = backoff_delay(
                    attempt,
                    options.backoff_base,
                    options.backoff_cap,
                    fastrand::f64(),
                );
                let retry_at = now + delay;
                let reason = error.to_string();
                tracing::warn!(attempt, %reason, retry_in_ms = delay.as_millis() as u64, "broker link down");
                let status = LinkStatus::Offline {
                    since,
                    attempt,
                    retry_at,
                    reason,
                };
                state.send_modify(|link| link.status = status.clone());
                if first_failure && inbound.send(Inbound::Link(status).into()).await.is_err() {
                    break;
                }

                tokio::select! {
                    _ = shutdown.changed() => break,
                    () = tokio::time::sleep(delay) => {}
                }
                attempt = attempt.saturating_add(1);
                state.send_modify(|link| link.status = LinkStatus::Connecting { attempt });
            }
        }
    }
    let _ = client.try_disconnect();
    tracing::info!("broker link stopped");
}

/// Hands acknowledgements for the current connection to the client while
/// its queue has room.
fn send_acks(client: &AsyncClient, unacked: &mut std::collections::VecDeque<Ack>, connection: u64) {
    while let Some(ack) = unacked.pop_front() {
        if ack.connection != connection {
            continue;
        }
        let mut publish = rumqttc::Publish::new("", QoS::AtLeastOnce, Vec::new());
        publish.pkid = ack.pkid;
        if client.try_ack(&publish).is_err() {
            unacked.push_front(ack);
            break;
        }
    }
}

/// Topic filters the adapters learned while running, such as the state
/// topics a discovery message names. They are subscribed in batches while
/// the client's queue has room, and again on every connection.
#[derive(Default)]
struct Learned {
    all: Vec<String>,
    waiting: std::collections::VecDeque<String>,
}

impl Learned {
    /// Filters per SUBSCRIBE packet.
    const BATCH: usize = 64;

    fn add(&mut self, filters: Vec<String>) {
        for filter in filters {
            if rumqttc::valid_filter(&filter) {
                self.waiting.push_back(filter.clone());
                self.all.push(filter);
            } else {
                let filter = super::sanitize::sanitize(&filter);
                tracing::warn!(%filter, "an adapter asked for an invalid topic filter; ignored");
            }
        }
    }

    /// Queues every learned filter again, for a new connection.
    fn renew(&mut self) {
        self.waiting = self.all.iter().cloned().collect();
    }

    fn subscribe(&mut self, client: &AsyncClient) {
        while !self.waiting.is_empty() {
            let take = self.waiting.len().min(Self::BATCH);
            let batch = self
                .waiting
                .iter()
                .take(take)
                .map(|filter| rumqttc::SubscribeFilter::new(filter.clone(), QoS::AtLeastOnce));
            // A full queue is retried on the next turn of the loop.
            if client.try_subscribe_many(batch).is_err() {
                break;
            }
            self.waiting.drain(..take);
        }
    }
}

/// Messages between the outbox and the broker's PUBACK.
#[derive(Default)]
struct Outbox {
    /// Not yet handed to the client.
    waiting: std::collections::VecDeque<Outgoing>,
    /// Handed to the client, not yet written: their packet ids come next, in order.
    handed: std::collections::VecDeque<Outgoing>,
    /// Written, waiting for the PUBACK, by packet id.
    in_flight: std::collections::HashMap<u16, Outgoing>,
}

impl Outbox {
    /// Hands waiting messages to the client while its queue has room.
    fn hand_over(&mut self, client: &AsyncClient) {
        while let Some(message) = self.waiting.pop_front() {
            let sent = client.try_publish(
                message.topic.clone(),
                QoS::AtLeastOnce,
                message.retained(),
                message.payload.clone().into_bytes(),
            );
            match sent {
                Ok(()) => self.handed.push_back(message),
                Err(_) => {
                    self.waiting.push_front(message);
                    break;
                }
            }
        }
    }

    /// Puts every unconfirmed message back in the waiting line, oldest
    /// first, after the client dropped them with a lost session.
    fn requeue(&mut self) {
        let mut unconfirmed: Vec<Outgoing> = self.in_flight.drain().map(|(_, m)| m).collect();
        unconfirmed.extend(self.handed.drain(..));
        unconfirmed.extend(self.waiting.drain(..));
        unconfirmed.sort_by_key(|message| message.seq);
        unconfirmed.dedup_by_key(|message| message.seq);
        self.waiting = unconfirmed.into();
    }

    /// Records that the client wrote a publish with `pkid`. A packet id
    /// seen before is a retransmission of a message already in flight:
    /// with the session kept, rumqttc resends in-flight publishes under
    /// their packet ids after a reconnect.
    fn written(&mut self, pkid: u16) {
        if pkid == 0 || self.in_flight.contains_key(&pkid) {
            return;
        }
        if let Some(message) = self.handed.pop_front() {
            self.in_flight.insert(pkid, message);
        }
    }

    fn acknowledged(&mut self, pkid: u16) -> Option<i64> {
        self.in_flight.remove(&pkid).map(|message| message.seq)
    }
}

/// Hands a message outside the native root to the adapters. `None` when
/// no adapter owns its topic.
fn adapted(
    adapters: &mut Adapters,
    root: &TopicRoot,
    publish: &rumqttc::Publish,
    received: Timestamp,
) -> Option<Vec<Inbound>> {
    if adapters.is_empty() || publish.topic.starts_with(root.prefix()) {
        return None;
    }
    let message = Message {
        topic: &publish.topic,
        payload: &publish.payload,
        retained: publish.retain,
        received,
    };
    let observations = adapters.handle(&message)?;
    if observations.is_empty() {
        // Still a sign of life from the broker.
        return Some(vec![Inbound::Unattributed {
            received,
            bad: false,
        }]);
    }
    Some(
        observations
            .into_iter()
            .map(|observation| Inbound::Observed {
                observation,
                received,
            })
            .collect(),
    )
}

/// Routes and decodes one publish into what the recorder receives.
fn route_publish(
    root: &TopicRoot,
    limits: &Limits,
    bad: &mut BadPayloads,
    publish: &rumqttc::Publish,
    received: Timestamp,
) -> Inbound {
    let topic = publish.topic.clone();
    let route = root.route(&topic);
    match decode(&route, &publish.payload, publish.retain, received, limits) {
        Ok(Some(observation)) => Inbound::Observed {
            observation,
            received,
        },
        Ok(None) if route == Route::BadId => {
            bad.record(&topic, &publish.payload, &super::DecodeError::BadTopicId);
            Inbound::Unattributed {
                received,
                bad: true,
            }
        }
        Ok(None) => Inbound::Unattributed {
            received,
            bad: false,
        },
        Err(error) => {
            bad.record(&topic, &publish.payload, &error);
            let device = match &route {
                Route::DeviceState(id) | Route::DeviceAvailability(id) | Route::DeviceEvent(id) => {
                    Some(id.clone())
                }
                _ => None,
            };
            Inbound::Observed {
                observation: Observation::DataError {
                    device,
                    topic: topic
                        .strip_prefix(root.prefix())
                        .unwrap_or(&topic)
                        .to_owned(),
                    code: error.code().to_owned(),
                    reason: error.to_string(),
                },
                received,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_cap() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(30);
        assert_eq!(backoff_delay(1, base, cap, 1.0), Duration::from_secs(1));
        assert_eq!(backoff_delay(3, base, cap, 1.0), Duration::from_secs(4));
        assert_eq!(backoff_delay(10, base, cap, 1.0), cap);
        assert_eq!(backoff_delay(u32::MAX, base, cap, 1.0), cap);
    }

    #[test]
    fn backoff_jitter_halves_at_most() {
        let base = Duration::from_secs(8);
        let cap = Duration::from_secs(60);
        assert_eq!(backoff_delay(1, base, cap, 0.0), Duration::from_secs(4));
        assert!(backoff_delay(1, base, cap, 0.7) < base);
    }
}
