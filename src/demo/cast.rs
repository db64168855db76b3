//! The cast of the simulated community: what each device is doing, which
//! devices play the scripted incidents of the first seconds, and two
//! publishers that are missing from the inventory.

use std::collections::HashSet;
use std::time::Duration;

use crate::domain::device::{DetectorClass, DeviceKind, DeviceSpec, ReportedState};

/// Whether a device publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Presence {
    /// Has not published yet: an inventory device that never reports, or an
    /// unregistered publisher before its first message.
    Absent,
    Reporting,
    /// Published, then went quiet for good.
    Silent,
}

/// One simulated device and its current condition.
#[derive(Clone, Debug)]
pub(super) struct SimDevice {
    pub spec: DeviceSpec,
    /// False for the publishers outside the inventory.
    pub registered: bool,
    /// Index into the scenario's gateways.
    pub gateway: Option<usize>,
    pub presence: Presence,
    pub state: ReportedState,
    /// Availability last published on the device's `avail` topic.
    pub online: bool,
    /// Battery charge in percent, for battery-powered detectors.
    pub battery: Option<u8>,
    /// Received signal strength in dBm, for wireless detectors.
    pub signal: Option<i16>,
    /// Bumped by every state publish. A heartbeat timer armed under an older
    /// generation is void, because any report restarts a device's timer.
    pub generation: u64,
    /// Heartbeats sent, for the flaky device's cadence of bad payloads.
    pub beats: u32,
    /// No new incident starts on this device before this time.
    pub busy_until: Duration,
}

impl SimDevice {
    pub fn new(spec: DeviceSpec, registered: bool, rng: &mut fastrand::Rng) -> Self {
        let state = match spec.kind {
            DeviceKind::Door => ReportedState::Closed,
            DeviceKind::Camera => ReportedState::Ok,
            DeviceKind::Detector | DeviceKind::Unknown => ReportedState::Normal,
        };
        let wireless = spec.kind == DeviceKind::Detector;
        Self {
            battery: wireless.then(|| rng.u8(35..=100)),
            signal: wireless.then(|| rng.i16(-88..=-42)),
            spec,
            registered,
            gateway: None,
            presence: Presence::Reporting,
            state,
            online: true,
            generation: 0,
            beats: 0,
            busy_until: Duration::ZERO,
        }
    }

    /// Time between heartbeats: a little under the promised interval, as
    /// real devices do so that one late message does not make them stale.
    pub fn heartbeat_period(&self, rng: &mut fastrand::Rng) -> Duration {
        let interval_ms = u64::from(self.spec.interval_s.max(1)) * 1000;
        Duration::from_millis(interval_ms * rng.u64(76..=84) / 100)
    }

    pub fn is_passage_door(&self) -> bool {
        // Fire-escape and plant-room doors stay shut, and people use the rest.
        self.spec.kind == DeviceKind::Door
            && !self.spec.id.contains("fire")
            && !self.spec.id.starts_with("plant-")
    }

    pub fn is_class(&self, class: DetectorClass) -> bool {
        self.spec.class == Some(class)
    }
}

/// Inventory devices with a part in the scripted first seconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Cast {
    /// Never publish anything, so they show as unknown.
    pub never_report: Vec<usize>,
    /// Fast-reporting devices that go quiet, and when.
    pub falls_silent: Vec<(usize, Duration)>,
    /// Sends a truncated payload now and then.
    pub flaky: Option<usize>,
    pub goes_offline: Option<usize>,
    pub develops_fault: Option<usize>,
    pub smoke_alarm: Option<usize>,
    /// Start with a battery at or under the low-battery threshold.
    pub low_battery: Vec<usize>,
}

/// The kinds of the inventory devices that never report, one entry each.
const NEVER_REPORT: [DeviceKind; 4] = [
    DeviceKind::Camera,
    DeviceKind::Door,
    DeviceKind::Detector,
    DeviceKind::Detector,
];

/// When the fast-reporting devices that go quiet fall silent, quickest
/// first: the first right after the start-up snapshot.
const FALLS_SILENT_AT: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_secs(20),
    Duration::from_secs(45),
];

/// Devices reporting at least this often count as fast-reporting.
const FAST_INTERVAL_S: u32 = 4;

impl Cast {
    /// Picks the cast from the devices, reproducibly for a given `rng` seed.
    /// A part with no fitting device stays empty.
    pub fn pick(devices: &[SimDevice], rng: &mut fastrand::Rng) -> Self {
        let mut assigned = HashSet::new();
        let mut cast = Cast::default();

        let mut fast: Vec<usize> = (0..devices.len())
            .filter(|&index| devices[index].registered)
            .filter(|&index| devices[index].spec.interval_s <= FAST_INTERVAL_S)
            .collect();
        fast.sort_by_key(|&index| (devices[index].spec.interval_s, index));
        for (index, at) in fast.into_iter().zip(FALLS_SILENT_AT) {
            assigned.insert(index);
            cast.falls_silent.push((index, at));
        }

        let slow = |device: &SimDevice| device.spec.interval_s > FAST_INTERVAL_S;
        for kind in NEVER_REPORT {
            let found = pick_one(devices, &mut assigned, rng, |device| {
                device.spec.kind == kind && slow(device)
            });
            cast.never_report.extend(found);
        }

        cast.flaky = pick_one(devices, &mut assigned, rng, |device| {
            device.is_passage_door() && slow(device)
        });
        cast.goes_offline = pick_one(devices, &mut assigned, rng, |device| {
            device.spec.kind == DeviceKind::Camera
        });
        cast.develops_fault = pick_one(devices, &mut assigned, rng, |device| {
            device.is_class(DetectorClass::Smoke)
        });
        cast.smoke_alarm = pick_one(devices, &mut assigned, rng, |device| {
            device.is_class(DetectorClass::Smoke)
        });
        for _ in 0..3 {
            let found = pick_one(devices, &mut assigned, rng, |device| {
                device.battery.is_some() && slow(device)
            });
            cast.low_battery.extend(found);
        }
        cast
    }
}

/// Picks a random registered device that matches and has no part yet, and
/// marks it assigned.
fn pick_one(
    devices: &[SimDevice],
    assigned: &mut HashSet<usize>,
    rng: &mut fastrand::Rng,
    matches: impl Fn(&SimDevice) -> bool,
) -> Option<usize> {
    let candidates: Vec<usize> = (0..devices.len())
        .filter(|index| !assigned.contains(index))
        .filter(|&index| devices[index].registered && matches(&devices[index]))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let chosen = candidates[rng.usize(..candidates.len())];
    assigned.insert(chosen);
    Some(chosen)
}

/// A publisher missing from the inventory, as it describes itself.
pub(super) struct Stranger {
    pub id: &'static str,
    pub kind: DeviceKind,
    pub class: Option<DetectorClass>,
    pub name: &'static str,
    pub building: &'static str,
    pub zone: &'static str,
    pub interval_s: u32,
    /// When it first publishes.
    pub appears_at: Duration,
}

/// The unregistered publishers: a contractor's camera on a building site and
/// a sensor someone paired without telling the guard room.
pub(super) const STRANGERS: [Stranger; 2] = [
    Stranger {
        id: "tmp-cam-b6-site",
        kind: DeviceKind::Camera,
        class: None,
        name: "6号楼外立面施工临时摄像机",
        building: "6号楼",
        zone: "施工围挡",
        interval_s: 30,
        appears_at: Duration::from_secs(1),
    },
    Stranger {
        id: "zb-00158d0007c3a1",
        kind: DeviceKind::Detector,
        class: Some(DetectorClass::WaterLeak),
        name: "水浸传感器（未登记）",
        building: "",
        zone: "",
        interval_s: 60,
        appears_at: Duration::from_secs(7),
    },
];

impl Stranger {
    pub fn spec(&self) -> DeviceSpec {
        DeviceSpec {
            id: self.id.to_owned(),
            kind: self.kind,
            class: self.class,
            name: self.name.to_owned(),
            building: self.building.to_owned(),
            zone: self.zone.to_owned(),
            gateway: None,
            interval_s: self.interval_s,
        }
    }
}
