//! Device messages kept while the device list is unknown, because only
//! `bridge/devices` shows which part of a topic is the friendly name (names
//! may contain `/`). The buffer is bounded in messages and bytes and
//! drops the oldest first.

use std::collections::VecDeque;

use jiff::Timestamp;

use super::super::Message;

/// Maximum number of messages kept.
pub const MAX_MESSAGES: usize = 4_096;

/// Maximum payload bytes kept, in total.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

/// A copy of one device message.
pub struct HeldMessage {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retained: bool,
    pub received: Timestamp,
}

impl HeldMessage {
    pub fn message(&self) -> Message<'_> {
        Message {
            topic: &self.topic,
            payload: &self.payload,
            retained: self.retained,
            received: self.received,
        }
    }
}

/// The messages kept, oldest first.
#[derive(Default)]
pub struct Held {
    messages: VecDeque<HeldMessage>,
    bytes: usize,
    dropped: u64,
}

impl Held {
    /// Keeps a copy of `message`, dropping the oldest while over a bound.
    pub fn push(&mut self, message: &Message<'_>) {
        let size = message.payload.len();
        if size > MAX_BYTES {
            self.count_dropped();
            return;
        }
        while self.messages.len() >= MAX_MESSAGES || self.bytes + size > MAX_BYTES {
            let Some(oldest) = self.messages.pop_front() else {
                break;
            };
            self.bytes -= oldest.payload.len();
            self.count_dropped();
        }
        self.bytes += size;
        self.messages.push_back(HeldMessage {
            topic: message.topic.to_owned(),
            payload: message.payload.to_vec(),
            retained: message.retained,
            received: message.received,
        });
    }

    /// Takes every message kept, states before availability, so that each
    /// device is described before its availability creates it.
    pub fn take(&mut self) -> Vec<HeldMessage> {
        let mut messages: Vec<HeldMessage> = std::mem::take(&mut self.messages).into();
        self.bytes = 0;
        messages.sort_by_key(|held| held.topic.ends_with("/availability"));
        messages
    }

    /// Returns the receive time of the oldest message kept.
    pub fn oldest(&self) -> Option<Timestamp> {
        self.messages.front().map(|held| held.received)
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    fn count_dropped(&mut self) {
        self.dropped += 1;
        if self.dropped == 1 {
            tracing::warn!(
                max_messages = MAX_MESSAGES,
                max_bytes = MAX_BYTES,
                "too many Zigbee2MQTT device messages before the device list; the oldest are dropped"
            );
        }
    }
}
