//! Counting and logging of bad payloads: every one is counted, the first on
//! each topic is logged with a short hex preview, and the rest only counted,
//! so a device that sends garbage every second cannot flood the log.

use std::collections::HashMap;

use super::decode::DecodeError;
use super::sanitize::{hex_preview, sanitize};

/// Topics remembered for "logged once"; past this every error is counted
/// but only every thousandth is logged.
const MAX_TRACKED_TOPICS: usize = 10_000;

#[derive(Debug, Default)]
pub struct BadPayloads {
    per_topic: HashMap<String, u64>,
    total: u64,
}

impl BadPayloads {
    /// Counts one bad payload and logs it if it is the first on its topic.
    pub fn record(&mut self, topic: &str, payload: &[u8], error: &DecodeError) {
        self.total += 1;
        let tracked = self.per_topic.len();
        let first = match self.per_topic.get_mut(topic) {
            Some(count) => {
                *count += 1;
                false
            }
            None if tracked < MAX_TRACKED_TOPICS => {
                self.per_topic.insert(topic.to_owned(), 1);
                true
            }
            None => self.total % 1000 == 1,
        };
        if first {
            tracing::warn!(
                topic = %sanitize(topic),
                code = error.code(),
                error = %error,
                preview = %hex_preview(payload),
                "bad payload; further errors on this topic are only counted"
            );
        }
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn on_topic(&self, topic: &str) -> u64 {
        self.per_topic.get(topic).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_topic_and_total() {
        let mut bad = BadPayloads::default();
        bad.record("a", b"x", &DecodeError::Empty);
        bad.record("a", b"x", &DecodeError::Empty);
        bad.record("b", b"x", &DecodeError::NotUtf8);
        assert_eq!(bad.total(), 3);
        assert_eq!(bad.on_topic("a"), 2);
        assert_eq!(bad.on_topic("b"), 1);
        assert_eq!(bad.on_topic("c"), 0);
    }
}
