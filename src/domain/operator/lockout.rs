//! Wrong-PIN lockout and the idle lock, as pure rules on a clock passed in.

use jiff::{SignedDuration, Timestamp};

/// Wrong PINs counted for one operator, and the lockout they caused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempts {
    /// Wrong PINs since the last success or the last lockout.
    pub failures: u32,
    pub locked_until: Option<Timestamp>,
}

/// After `max_failures` wrong PINs in a row the operator is locked out for
/// `lockout_s` seconds; a correct PIN resets the count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub lockout_s: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lockout_s: 300,
        }
    }
}

impl LockoutPolicy {
    /// Returns the end of the lockout when the operator is locked out at `now`.
    pub fn locked_until(&self, attempts: &Attempts, now: Timestamp) -> Option<Timestamp> {
        attempts.locked_until.filter(|until| *until > now)
    }

    /// Returns the count after one more wrong PIN at `now`. Reaching the
    /// limit starts a lockout and restarts the count, so the operator has
    /// the full number of tries once the lockout ends.
    pub fn after_failure(&self, attempts: &Attempts, now: Timestamp) -> Attempts {
        let failures = attempts.failures.saturating_add(1);
        if failures >= self.max_failures.max(1) {
            return Attempts {
                failures: 0,
                locked_until: Some(now + SignedDuration::from_secs(i64::from(self.lockout_s))),
            };
        }
        Attempts {
            failures,
            locked_until: None,
        }
    }

    /// Returns the count after a correct PIN: nothing held against the operator.
    pub fn after_success(&self) -> Attempts {
        Attempts::default()
    }

    /// Returns how many wrong PINs are left before a lockout.
    pub fn remaining(&self, attempts: &Attempts) -> u32 {
        self.max_failures.max(1).saturating_sub(attempts.failures)
    }
}

/// Locks a console after `idle_lock_s` seconds without input; 0 never locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdleLock {
    pub idle_lock_s: u32,
}

impl Default for IdleLock {
    fn default() -> Self {
        Self { idle_lock_s: 600 }
    }
}

impl IdleLock {
    /// Returns whether a console last used at `last_input` locks at `now`.
    pub fn due(&self, last_input: Timestamp, now: Timestamp) -> bool {
        self.idle_lock_s > 0
            && now.duration_since(last_input)
                >= SignedDuration::from_secs(i64::from(self.idle_lock_s))
    }

    /// Returns when a console last used at `last_input` locks.
    pub fn locks_at(&self, last_input: Timestamp) -> Option<Timestamp> {
        (self.idle_lock_s > 0)
            .then(|| last_input + SignedDuration::from_secs(i64::from(self.idle_lock_s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + second).unwrap()
    }

    #[test]
    fn lockout_after_max_failures() {
        let policy = LockoutPolicy {
            max_failures: 3,
            lockout_s: 60,
        };
        let mut attempts = Attempts::default();
        assert_eq!(policy.remaining(&attempts), 3);
        attempts = policy.after_failure(&attempts, at(0));
        assert_eq!(policy.remaining(&attempts), 2);
        assert_eq!(policy.locked_until(&attempts, at(0)), None);
        attempts = policy.after_failure(&attempts, at(1));
        assert_eq!(policy.remaining(&attempts), 1);
        attempts = policy.after_failure(&attempts, at(2));
        assert_eq!(policy.locked_until(&attempts, at(2)), Some(at(62)));
        assert_eq!(policy.locked_until(&attempts, at(61)), Some(at(62)));
        assert_eq!(policy.locked_until(&attempts, at(62)), None);
        // The full number of tries again once the lockout is over.
        assert_eq!(policy.remaining(&attempts), 3);
    }

    #[test]
    fn success_resets_count() {
        let policy = LockoutPolicy::default();
        let attempts = policy.after_failure(&Attempts::default(), at(0));
        assert_eq!(attempts.failures, 1);
        assert_eq!(policy.after_success(), Attempts::default());
    }

    #[test]
    fn one_failure_limit_locks_at_once() {
        let policy = LockoutPolicy {
            max_failures: 1,
            lockout_s: 5,
        };
        let attempts = policy.after_failure(&Attempts::default(), at(0));
        assert_eq!(policy.locked_until(&attempts, at(4)), Some(at(5)));
    }

    #[test]
    fn idle_lock_after_quiet_time() {
        let idle = IdleLock { idle_lock_s: 600 };
        assert!(!idle.due(at(0), at(599)));
        assert!(idle.due(at(0), at(600)));
        assert_eq!(idle.locks_at(at(0)), Some(at(600)));
        let never = IdleLock { idle_lock_s: 0 };
        assert!(!never.due(at(0), at(1_000_000)));
        assert_eq!(never.locks_at(at(0)), None);
    }
}
