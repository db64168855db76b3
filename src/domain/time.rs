//! Time helpers shared by the store and the screens.
//!
//! Times are stored as UTC milliseconds since the Unix epoch and shown in the
//! site's time zone.

use jiff::Timestamp;

/// Converts a timestamp to the millisecond integer kept in SQLite.
pub fn to_millis(ts: Timestamp) -> i64 {
    ts.as_millisecond()
}

/// Converts stored milliseconds back, clamping values outside jiff's range.
pub fn from_millis(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip() {
        let ts: Timestamp = "2026-12-04T12:00:00.250Z".parse().unwrap();
        assert_eq!(from_millis(to_millis(ts)), ts);
    }
}
