//! Time helpers shared by the store and the screens.
//!
//! Times are stored as UTC milliseconds since the Unix epoch and shown in the
//! site's time zone.

use jiff::{SignedDuration, Timestamp};

/// Converts a timestamp to the millisecond integer kept in SQLite.
pub fn to_millis(ts: Timestamp) -> i64 {
    ts.as_millisecond()
}

/// Converts stored milliseconds back, clamping values outside jiff's range.
pub fn from_millis(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Formats an age as the short form the tables use: `42s`, `5m`, `3h`, `2d`.
pub fn short_age(age: SignedDuration) -> String {
    let secs = age.as_secs().max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_age_units() {
        assert_eq!(short_age(SignedDuration::from_secs(0)), "0s");
        assert_eq!(short_age(SignedDuration::from_secs(59)), "59s");
        assert_eq!(short_age(SignedDuration::from_secs(61)), "1m");
        assert_eq!(short_age(SignedDuration::from_secs(7200)), "2h");
        assert_eq!(short_age(SignedDuration::from_secs(200_000)), "2d");
        assert_eq!(short_age(SignedDuration::from_secs(-5)), "0s");
    }

    #[test]
    fn millis_round_trip() {
        let ts: Timestamp = "2026-12-04T12:00:00.250Z".parse().unwrap();
        assert_eq!(from_millis(to_millis(ts)), ts);
    }
}
