//! One camera's health as Frigate reports it, and the debounce that turns it
//! into `ok` or `video_loss`.
//!
//! Frigate restarts a stream's ffmpeg process whenever frames stop, and
//! reports the role `offline` until the process runs again, so a short
//! `offline` is routine. By Frigate's MQTT documentation, a camera that
//! cannot be reached alternates between `offline` and `online` with every
//! restart. The debounce therefore counts
//! a bad spell from its first `offline` and ends it only after the camera
//! stayed healthy for the whole debounce time: a single restart never shows,
//! and a camera that keeps restarting shows as video loss.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::domain::device::ReportedState;

/// Frigate's status of one role (`detect`, `record`, `audio`) of a camera.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleStatus {
    Online,
    Offline,
    /// Switched off in Frigate on purpose.
    Disabled,
}

/// A camera's condition according to the latest messages, before the debounce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Good,
    Bad,
    /// Every watched role is switched off: neither healthy nor a fault.
    Disabled,
    /// Nothing heard yet.
    Unknown,
}

/// A camera as the adapter follows it.
#[derive(Debug, Default)]
pub struct Camera {
    /// Latest status per watched role.
    roles: BTreeMap<String, RoleStatus>,
    /// Frames per second in the latest stats.
    fps: Option<f64>,
    pub recording: Option<bool>,
    /// The state last reported; `None` before the first report.
    pub reported: Option<ReportedState>,
    /// Start of the current bad spell. Short good stretches do not end it.
    bad_since: Option<Timestamp>,
    /// Start of the current good stretch.
    good_since: Option<Timestamp>,
}

impl Camera {
    /// Judges the camera from its role statuses, or from its frame rate when
    /// Frigate publishes no status topics. Any watched role offline is bad.
    pub fn health(&self, watched: &[String]) -> Health {
        let statuses: Vec<RoleStatus> = watched
            .iter()
            .filter_map(|role| self.roles.get(role).copied())
            .collect();
        if statuses.contains(&RoleStatus::Offline) {
            return Health::Bad;
        }
        if statuses.contains(&RoleStatus::Online) {
            return Health::Good;
        }
        if !statuses.is_empty() {
            return Health::Disabled;
        }
        // NOTE: without status topics, a camera switched off in Frigate
        // cannot be told from a failed one.
        match self.fps {
            Some(fps) if fps > 0.0 => Health::Good,
            Some(_) => Health::Bad,
            None => Health::Unknown,
        }
    }

    pub fn set_role(&mut self, role: &str, status: RoleStatus, at: Timestamp, watched: &[String]) {
        let before = self.health(watched);
        self.roles.insert(role.to_owned(), status);
        self.turned(before, self.health(watched), at);
    }

    pub fn set_fps(&mut self, fps: f64, at: Timestamp, watched: &[String]) {
        let before = self.health(watched);
        self.fps = Some(fps);
        self.turned(before, self.health(watched), at);
    }

    /// Starts or ends the debounce timers after a change of health.
    fn turned(&mut self, before: Health, after: Health, at: Timestamp) {
        if before == after {
            return;
        }
        match after {
            Health::Bad => {
                self.bad_since.get_or_insert(at);
                self.good_since = None;
            }
            Health::Good => self.good_since = Some(at),
            Health::Disabled | Health::Unknown => {
                self.bad_since = None;
                self.good_since = None;
            }
        }
    }

    /// Stops the timers while Frigate is down, because its cameras'
    /// statuses are not current then, and starts them again when it is back.
    pub fn gateway_changed(&mut self, online: bool, at: Timestamp, watched: &[String]) {
        self.bad_since = None;
        self.good_since = None;
        if online {
            let health = self.health(watched);
            self.turned(Health::Unknown, health, at);
        }
    }

    /// Returns the reported state when the current health agrees with it:
    /// not while a bad spell is pending, nor while the camera is switched off.
    pub fn confirmed(&self, watched: &[String]) -> Option<ReportedState> {
        match (self.health(watched), self.reported) {
            (Health::Good, Some(ReportedState::Ok)) => Some(ReportedState::Ok),
            (Health::Bad, Some(ReportedState::VideoLoss)) => Some(ReportedState::VideoLoss),
            _ => None,
        }
    }

    /// Returns the state to report at `now` when it differs from the last
    /// one reported, and records it as reported.
    pub fn settle(
        &mut self,
        now: Timestamp,
        debounce_s: u32,
        watched: &[String],
    ) -> Option<ReportedState> {
        let lasted = |since: Option<Timestamp>| {
            since.is_some_and(|since| now.duration_since(since).as_secs() >= i64::from(debounce_s))
        };
        let next = match self.health(watched) {
            Health::Good => {
                let stable = lasted(self.good_since);
                if stable {
                    self.bad_since = None;
                }
                // The first report needs no debounce: nothing flaps yet.
                (stable || self.reported.is_none()).then_some(ReportedState::Ok)
            }
            Health::Bad => lasted(self.bad_since).then_some(ReportedState::VideoLoss),
            Health::Disabled | Health::Unknown => None,
        }?;
        if self.reported == Some(next) {
            return None;
        }
        self.reported = Some(next);
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn watched() -> Vec<String> {
        vec!["detect".into(), "record".into()]
    }

    #[test]
    fn any_watched_role_offline_is_bad() {
        let mut camera = Camera::default();
        let roles = watched();
        assert_eq!(camera.health(&roles), Health::Unknown);
        camera.set_role("detect", RoleStatus::Online, at(0), &roles);
        assert_eq!(camera.health(&roles), Health::Good);
        camera.set_role("record", RoleStatus::Offline, at(1), &roles);
        assert_eq!(camera.health(&roles), Health::Bad);
        camera.set_role("record", RoleStatus::Disabled, at(2), &roles);
        assert_eq!(camera.health(&roles), Health::Good);
        camera.set_role("detect", RoleStatus::Disabled, at(3), &roles);
        assert_eq!(camera.health(&roles), Health::Disabled);
    }

    #[test]
    fn roles_outrank_frame_rate() {
        let mut camera = Camera::default();
        let roles = watched();
        camera.set_fps(0.0, at(0), &roles);
        assert_eq!(camera.health(&roles), Health::Bad);
        camera.set_role("detect", RoleStatus::Online, at(1), &roles);
        assert_eq!(camera.health(&roles), Health::Good);
    }

    #[test]
    fn restart_loop_counts_as_one_spell() {
        let mut camera = Camera::default();
        let roles = watched();
        camera.set_role("detect", RoleStatus::Online, at(0), &roles);
        assert_eq!(camera.settle(at(0), 30, &roles), Some(ReportedState::Ok));
        for start in [100, 110, 120] {
            camera.set_role("detect", RoleStatus::Offline, at(start), &roles);
            camera.set_role("detect", RoleStatus::Online, at(start + 5), &roles);
            assert_eq!(camera.settle(at(start + 5), 30, &roles), None);
        }
        camera.set_role("detect", RoleStatus::Offline, at(130), &roles);
        assert_eq!(
            camera.settle(at(130), 30, &roles),
            Some(ReportedState::VideoLoss)
        );
    }
}
