//! The back-off between desktop notification attempts, with the clock passed
//! in so that tests can drive it.

use std::time::{Duration, Instant};

/// Exponential back-off after failed desktop notification calls.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    first: Duration,
    max: Duration,
    /// Delay set by the latest failure, or `None` while the desktop works.
    delay: Option<Duration>,
    /// Earliest time of the next attempt, or `None` while the desktop works.
    retry_at: Option<Instant>,
}

impl Backoff {
    pub(crate) fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            delay: None,
            retry_at: None,
        }
    }

    /// Returns whether a desktop call may be made at `now`.
    pub(crate) fn allows_attempt(&self, now: Instant) -> bool {
        self.retry_at.is_none_or(|retry_at| now >= retry_at)
    }

    /// Returns whether the latest attempt failed.
    pub(crate) fn is_failing(&self) -> bool {
        self.delay.is_some()
    }

    /// Records a failed attempt at `now` and returns the delay before the
    /// next one: `first` after the first failure, then doubled with each
    /// further failure up to `max`.
    pub(crate) fn record_failure(&mut self, now: Instant) -> Duration {
        let delay = match self.delay {
            None => self.first,
            Some(previous) => previous.saturating_mul(2),
        }
        .min(self.max);
        self.delay = Some(delay);
        self.retry_at = Some(now.checked_add(delay).unwrap_or(now));
        delay
    }

    /// Records a successful attempt, which ends the back-off. Returns
    /// whether the attempt before it had failed.
    pub(crate) fn record_success(&mut self) -> bool {
        let was_failing = self.is_failing();
        self.delay = None;
        self.retry_at = None;
        was_failing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn delay_doubles_up_to_max() {
        let mut backoff = Backoff::new(MINUTE, 30 * MINUTE);
        let now = Instant::now();

        let delays: Vec<u32> = (0..7)
            .map(|_| backoff.record_failure(now).as_secs() as u32 / 60)
            .collect();

        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn attempts_wait_for_retry_time() {
        let mut backoff = Backoff::new(MINUTE, 30 * MINUTE);
        let now = Instant::now();
        assert!(backoff.allows_attempt(now));

        backoff.record_failure(now);

        assert!(!backoff.allows_attempt(now));
        assert!(!backoff.allows_attempt(now + MINUTE - Duration::from_millis(1)));
        assert!(backoff.allows_attempt(now + MINUTE));
    }

    #[test]
    fn success_resets_delay() {
        let mut backoff = Backoff::new(MINUTE, 30 * MINUTE);
        let now = Instant::now();
        backoff.record_failure(now);
        backoff.record_failure(now);

        assert!(backoff.record_success());
        assert!(!backoff.is_failing());
        assert!(backoff.allows_attempt(now));
        assert_eq!(backoff.record_failure(now), MINUTE);
    }

    #[test]
    fn success_without_failure_reports_no_recovery() {
        let mut backoff = Backoff::new(MINUTE, 30 * MINUTE);

        assert!(!backoff.record_success());
    }

    #[test]
    fn first_delay_is_capped_by_max() {
        let mut backoff = Backoff::new(10 * MINUTE, 5 * MINUTE);

        assert_eq!(backoff.record_failure(Instant::now()), 5 * MINUTE);
    }
}
