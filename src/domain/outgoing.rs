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
