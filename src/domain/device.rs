//! Devices: their inventory entry, their last report, and the rule that
//! judges their liveness.

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// How many recent happenings a device keeps for its detail view.
pub const RECENT_LIMIT: usize = 16;

/// How many offline drops a device remembers for flap counting.
pub const OFFLINE_TIMES_KEPT: usize = 32;

/// The broad kind of a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Door,
    Camera,
    Detector,
    /// A device that published without saying what it is.
    Unknown,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 4] = [Self::Door, Self::Camera, Self::Detector, Self::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Door => "door",
            Self::Camera => "camera",
            Self::Detector => "detector",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// The class of a detector, after the terms of GB 50394.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorClass {
    Smoke,
    Heat,
    Gas,
    WaterLeak,
    Pir,
    GlassBreak,
    PanicButton,
}

impl DetectorClass {
    pub const ALL: [DetectorClass; 7] = [
        Self::Smoke,
        Self::Heat,
        Self::Gas,
        Self::WaterLeak,
        Self::Pir,
        Self::GlassBreak,
        Self::PanicButton,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Smoke => "smoke",
            Self::Heat => "heat",
            Self::Gas => "gas",
            Self::WaterLeak => "water_leak",
            Self::Pir => "pir",
            Self::GlassBreak => "glass_break",
            Self::PanicButton => "panic_button",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|class| class.as_str() == text)
    }
}

/// The state field of a device report; which values are valid depends on the kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportedState {
    // Doors.
    Closed,
    Open,
    HeldOpen,
    Forced,
    // Cameras.
    Ok,
    VideoLoss,
    // Detectors.
    Normal,
    Alarm,
    Fault,
    // Cameras and detectors.
    Tamper,
}

impl ReportedState {
    pub const ALL: [ReportedState; 10] = [
        Self::Closed,
        Self::Open,
        Self::HeldOpen,
        Self::Forced,
        Self::Ok,
        Self::VideoLoss,
        Self::Normal,
        Self::Alarm,
        Self::Fault,
        Self::Tamper,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HeldOpen => "held_open",
            Self::Forced => "forced",
            Self::Ok => "ok",
            Self::VideoLoss => "video_loss",
            Self::Normal => "normal",
            Self::Alarm => "alarm",
            Self::Fault => "fault",
            Self::Tamper => "tamper",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }

    /// Returns the states a device of `kind` may report.
    pub fn valid_for(kind: DeviceKind) -> &'static [ReportedState] {
        match kind {
            DeviceKind::Door => &[Self::Closed, Self::Open, Self::HeldOpen, Self::Forced],
            DeviceKind::Camera => &[Self::Ok, Self::VideoLoss, Self::Tamper],
            DeviceKind::Detector => &[Self::Normal, Self::Alarm, Self::Fault, Self::Tamper],
            DeviceKind::Unknown => &Self::ALL,
        }
    }

    fn status(self) -> DeviceStatus {
        match self {
            Self::Closed | Self::Ok | Self::Normal => DeviceStatus::Normal,
            Self::Open => DeviceStatus::Open,
            Self::HeldOpen => DeviceStatus::HeldOpen,
            Self::Forced => DeviceStatus::Forced,
            Self::VideoLoss => DeviceStatus::VideoLoss,
            Self::Alarm => DeviceStatus::Alarm,
            Self::Fault => DeviceStatus::Fault,
            Self::Tamper => DeviceStatus::Tamper,
        }
    }
}

/// The last good report of a device: its content, not its time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reported {
    pub state: ReportedState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<bool>,
    /// Battery charge in percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery: Option<u8>,
    #[serde(default)]
    pub battery_low: bool,
    /// Received signal strength in dBm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i16>,
}

impl Reported {
    /// Creates a report of `state` with no optional fields.
    pub fn new(state: ReportedState) -> Self {
        Self {
            state,
            locked: None,
            recording: None,
            battery: None,
            battery_low: false,
            signal: None,
        }
    }
}

/// Availability as last published on the device's availability topic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    #[default]
    Unknown,
    Online,
    Offline,
}

/// A decode failure on one of the device's topics; the last good report stays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataError {
    pub at: Timestamp,
    pub topic: String,
    /// Stable code of the failure (`invalid_json`, `bad_field`…), translated on screen.
    pub code: String,
    /// Technical detail for the log and the detail view: the field and what was wrong.
    pub reason: String,
}

/// One line of a device's recent history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recent {
    pub at: Timestamp,
    /// Stable key of what happened (`state`, `avail`, `event`, `data_error`…).
    pub what: String,
    /// Machine-readable detail: a state name, an event type, a reason.
    pub detail: String,
}

/// Description of a device, from the inventory or from the first report of an unregistered device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSpec {
    pub id: String,
    pub kind: DeviceKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<DetectorClass>,
    pub name: String,
    #[serde(default)]
    pub building: String,
    #[serde(default)]
    pub zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Seconds between reports the device promises (heartbeat period).
    pub interval_s: u32,
}

/// A device and everything the console has recorded about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub spec: DeviceSpec,
    /// True when the device is in the configured inventory.
    pub registered: bool,
    pub reported: Option<Reported>,
    pub availability: Availability,
    pub availability_since: Option<Timestamp>,
    pub data_error: Option<DataError>,
    /// When the device last sent a valid report, repeats included.
    pub last_seen: Option<Timestamp>,
    /// When its reported state last changed.
    pub last_change: Option<Timestamp>,
    pub recent: VecDeque<Recent>,
    /// When the device last went offline, for counting drops; newest last.
    #[serde(default)]
    pub offline_times: VecDeque<Timestamp>,
}

/// A gateway that devices hang off; when it is offline its devices are unreachable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gateway {
    pub id: String,
    pub availability: Availability,
    pub since: Option<Timestamp>,
}

/// The one status the screens and `status` show for a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    Forced,
    Alarm,
    Offline,
    Tamper,
    VideoLoss,
    Fault,
    HeldOpen,
    DataError,
    Stale,
    BatteryLow,
    Open,
    Unknown,
    Normal,
}

impl DeviceStatus {
    /// Every status, most urgent first, which is also the sort order.
    pub const ALL: [DeviceStatus; 13] = [
        Self::Forced,
        Self::Alarm,
        Self::Offline,
        Self::Tamper,
        Self::VideoLoss,
        Self::Fault,
        Self::HeldOpen,
        Self::DataError,
        Self::Stale,
        Self::BatteryLow,
        Self::Open,
        Self::Unknown,
        Self::Normal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forced => "forced",
            Self::Alarm => "alarm",
            Self::Offline => "offline",
            Self::Tamper => "tamper",
            Self::VideoLoss => "video_loss",
            Self::Fault => "fault",
            Self::HeldOpen => "held_open",
            Self::DataError => "data_error",
            Self::Stale => "stale",
            Self::BatteryLow => "battery_low",
            Self::Open => "open",
            Self::Unknown => "unknown",
            Self::Normal => "normal",
        }
    }

    /// True for the statuses that need someone to look.
    pub fn is_abnormal(self) -> bool {
        !matches!(self, Self::Normal | Self::Open)
    }
}

/// Liveness rule, passed in so that it is configurable and testable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Liveness {
    /// A device is stale after `interval_s * stale_factor` seconds of silence.
    pub stale_factor: f64,
}

impl Default for Liveness {
    fn default() -> Self {
        Self { stale_factor: 2.5 }
    }
}

impl Device {
    pub fn new(spec: DeviceSpec, registered: bool) -> Self {
        Self {
            spec,
            registered,
            reported: None,
            availability: Availability::Unknown,
            availability_since: None,
            data_error: None,
            last_seen: None,
            last_change: None,
            recent: VecDeque::new(),
            offline_times: VecDeque::new(),
        }
    }

    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// Time since the last valid report, if there was one.
    pub fn age(&self, now: Timestamp) -> Option<SignedDuration> {
        self.last_seen.map(|seen| now.duration_since(seen))
    }

    /// True when the device has been silent for longer than it promised.
    pub fn is_stale(&self, now: Timestamp, liveness: Liveness) -> bool {
        let limit = f64::from(self.spec.interval_s.max(1)) * liveness.stale_factor;
        match self.age(now) {
            Some(age) => age.as_secs_f64() > limit,
            // A report whose time is unknown (retained, without a timestamp)
            // cannot be vouched for.
            None => self.reported.is_some(),
        }
    }

    /// Judges the device's status at `now`; `gateway_offline` is true when its
    /// gateway is known to be offline.
    pub fn status(
        &self,
        now: Timestamp,
        liveness: Liveness,
        gateway_offline: bool,
    ) -> DeviceStatus {
        if self.availability == Availability::Offline || gateway_offline {
            return DeviceStatus::Offline;
        }
        if self.data_error.is_some() {
            return DeviceStatus::DataError;
        }
        let Some(reported) = &self.reported else {
            return DeviceStatus::Unknown;
        };
        if self.is_stale(now, liveness) {
            return DeviceStatus::Stale;
        }
        let status = reported.state.status();
        if status == DeviceStatus::Normal && reported.battery_low {
            return DeviceStatus::BatteryLow;
        }
        status
    }

    pub(crate) fn remember(&mut self, at: Timestamp, what: &str, detail: impl Into<String>) {
        if self.recent.len() == RECENT_LIMIT {
            self.recent.pop_front();
        }
        self.recent.push_back(Recent {
            at,
            what: what.to_owned(),
            detail: detail.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn door() -> Device {
        Device::new(
            DeviceSpec {
                id: "d1".into(),
                kind: DeviceKind::Door,
                class: None,
                name: "东门".into(),
                building: "1号楼".into(),
                zone: "东门".into(),
                gateway: None,
                interval_s: 60,
            },
            true,
        )
    }

    fn closed() -> Reported {
        Reported {
            state: ReportedState::Closed,
            locked: Some(true),
            recording: None,
            battery: Some(80),
            battery_low: false,
            signal: None,
        }
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn never_heard_is_unknown() {
        let device = door();
        assert_eq!(
            device.status(at(0), Liveness::default(), false),
            DeviceStatus::Unknown
        );
    }

    #[test]
    fn silent_past_interval_is_stale() {
        let mut device = door();
        device.reported = Some(closed());
        device.last_seen = Some(at(0));
        let liveness = Liveness { stale_factor: 2.0 };
        assert_eq!(
            device.status(at(120), liveness, false),
            DeviceStatus::Normal
        );
        assert_eq!(device.status(at(121), liveness, false), DeviceStatus::Stale);
    }

    #[test]
    fn report_without_time_is_stale() {
        let mut device = door();
        device.reported = Some(closed());
        assert_eq!(
            device.status(at(0), Liveness::default(), false),
            DeviceStatus::Stale
        );
    }

    #[test]
    fn offline_beats_everything() {
        let mut device = door();
        device.reported = Some(closed());
        device.last_seen = Some(at(0));
        assert_eq!(
            device.status(at(1), Liveness::default(), true),
            DeviceStatus::Offline
        );
        device.availability = Availability::Offline;
        assert_eq!(
            device.status(at(1), Liveness::default(), false),
            DeviceStatus::Offline
        );
    }

    #[test]
    fn low_battery_only_when_otherwise_normal() {
        let mut device = door();
        let mut report = closed();
        report.battery_low = true;
        device.reported = Some(report.clone());
        device.last_seen = Some(at(0));
        assert_eq!(
            device.status(at(1), Liveness::default(), false),
            DeviceStatus::BatteryLow
        );
        report.state = ReportedState::Forced;
        device.reported = Some(report);
        assert_eq!(
            device.status(at(1), Liveness::default(), false),
            DeviceStatus::Forced
        );
    }

    #[test]
    fn recent_is_bounded() {
        let mut device = door();
        for i in 0..(RECENT_LIMIT as i64 + 5) {
            device.remember(at(i), "state", "open");
        }
        assert_eq!(device.recent.len(), RECENT_LIMIT);
        assert_eq!(device.recent.front().unwrap().at, at(5));
    }

    #[test]
    fn names_round_trip() {
        for kind in DeviceKind::ALL {
            assert_eq!(DeviceKind::parse(kind.as_str()), Some(kind));
        }
        for class in DetectorClass::ALL {
            assert_eq!(DetectorClass::parse(class.as_str()), Some(class));
        }
        for state in ReportedState::ALL {
            assert_eq!(ReportedState::parse(state.as_str()), Some(state));
        }
    }
}
