//! A message the recorder committed and still has to publish.

/// One row of the outbox on its way to the broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Row of the outbox; the message counts as sent once the broker has it.
    pub seq: i64,
    /// The full topic.
    pub topic: String,
    pub payload: String,
}

impl Outgoing {
    /// Returns true for messages the broker keeps for new subscribers: a
    /// ticket record on `gr/v1/<site>/ticket/<id>` is the ticket's current
    /// state, while every other message is an action or a notice.
    pub fn retained(&self) -> bool {
        let parts: Vec<&str> = self.topic.split('/').collect();
        matches!(parts.as_slice(), ["gr", "v1", _, "ticket", id] if !id.is_empty())
    }
}
