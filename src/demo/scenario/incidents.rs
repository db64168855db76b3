//! Random incidents: what can go wrong on the site after the scripted first
//! seconds, how often, and the steps of each.

use std::time::Duration;

use super::{Action, Scenario};
use crate::demo::cast::SimDevice;
use crate::domain::device::{DetectorClass, DeviceKind, ReportedState};

/// How long a door stays open before the door itself reports it held open.
const HELD_OPEN_AFTER: Duration = Duration::from_secs(60);

/// A kind of random incident.
#[derive(Clone, Copy, Debug)]
enum Incident {
    DeviceOffline,
    VideoLoss,
    DoorHeldOpen,
    DoorForced,
    DetectorFault,
    SmokeAlarm,
    WaterLeak,
    PanicButtonTest,
    LineCrossing,
    GatewayOutage,
}

/// Each kind of incident with its relative frequency.
const INCIDENTS: [(Incident, u32); 10] = [
    (Incident::DeviceOffline, 3),
    (Incident::VideoLoss, 2),
    (Incident::DoorHeldOpen, 2),
    (Incident::DoorForced, 1),
    (Incident::DetectorFault, 1),
    (Incident::SmokeAlarm, 1),
    (Incident::WaterLeak, 1),
    (Incident::PanicButtonTest, 1),
    (Incident::LineCrossing, 3),
    (Incident::GatewayOutage, 1),
];

impl Scenario {
    /// Rolls a random incident and schedules its steps.
    pub(super) fn incident(&mut self, at: Duration) {
        let total: u32 = INCIDENTS.iter().map(|(_, weight)| weight).sum();
        let mut roll = self.rng.u32(..total);
        let mut chosen = Incident::DeviceOffline;
        for (incident, weight) in INCIDENTS {
            if roll < weight {
                chosen = incident;
                break;
            }
            roll -= weight;
        }
        tracing::debug!(?chosen, at_s = at.as_secs(), "demo incident");
        self.stage(at, chosen);
    }

    /// Schedules the steps of one incident, or nothing when no device fits.
    fn stage(&mut self, at: Duration, incident: Incident) {
        use ReportedState::{Alarm, Closed, Fault, Forced, HeldOpen, Normal, Open, VideoLoss};
        let detector = |class: DetectorClass| move |device: &SimDevice| device.is_class(class);
        match incident {
            Incident::DeviceOffline => {
                let Some(index) = self.pick(at, |_| true) else {
                    return;
                };
                let back = at + self.between(30, 120);
                self.devices[index].busy_until = back;
                self.schedule(at, Action::Availability(index, false));
                self.schedule(back, Action::Availability(index, true));
            }
            Incident::VideoLoss => {
                let Some(index) = self.pick(at, |device| device.spec.kind == DeviceKind::Camera)
                else {
                    return;
                };
                let back = at + self.between(15, 60);
                self.devices[index].busy_until = back;
                self.schedule(at, Action::Report(index, VideoLoss));
                self.schedule(back, Action::Report(index, ReportedState::Ok));
            }
            Incident::DoorHeldOpen => {
                let Some(index) = self.pick(at, |device| {
                    device.is_passage_door() && device.state == Closed
                }) else {
                    return;
                };
                let closes = at + HELD_OPEN_AFTER + self.between(15, 60);
                self.devices[index].busy_until = closes;
                self.schedule(at, Action::Report(index, Open));
                self.schedule(at + HELD_OPEN_AFTER, Action::Report(index, HeldOpen));
                self.schedule(closes, Action::Report(index, Closed));
            }
            Incident::DoorForced => {
                let Some(index) = self.pick(at, |device| {
                    device.spec.kind == DeviceKind::Door && device.state == Closed
                }) else {
                    return;
                };
                let closes = at + self.between(20, 40);
                self.devices[index].busy_until = closes;
                self.schedule(at, Action::Report(index, Forced));
                self.schedule(at, Action::Raise(index, "door_forced", "门被强行打开"));
                self.schedule(closes, Action::Report(index, Closed));
            }
            Incident::DetectorFault => {
                let Some(index) = self.pick(at, |device| {
                    device.is_class(DetectorClass::Smoke) || device.is_class(DetectorClass::Heat)
                }) else {
                    return;
                };
                let fixed = at + self.between(120, 300);
                self.devices[index].busy_until = fixed;
                self.schedule(at, Action::Report(index, Fault));
                self.schedule(fixed, Action::Report(index, Normal));
            }
            Incident::SmokeAlarm => {
                let Some(index) = self.pick(at, detector(DetectorClass::Smoke)) else {
                    return;
                };
                let clears = at + self.between(30, 90);
                self.devices[index].busy_until = clears;
                self.schedule(at, Action::Raise(index, "smoke", "烟雾浓度超过报警阈值"));
                self.schedule(at, Action::Report(index, Alarm));
                self.schedule(clears, Action::Report(index, Normal));
            }
            Incident::WaterLeak => {
                let Some(index) = self.pick(at, detector(DetectorClass::WaterLeak)) else {
                    return;
                };
                let clears = at + self.between(60, 180);
                self.devices[index].busy_until = clears;
                self.schedule(at, Action::Raise(index, "water_leak", "检测到地面积水"));
                self.schedule(at, Action::Report(index, Alarm));
                self.schedule(clears, Action::Report(index, Normal));
            }
            Incident::PanicButtonTest => {
                let Some(index) = self.pick(at, detector(DetectorClass::PanicButton)) else {
                    return;
                };
                let clears = at + self.between(15, 30);
                self.devices[index].busy_until = clears;
                self.schedule(at, Action::Raise(index, "sos", "紧急按钮被按下"));
                self.schedule(at, Action::Report(index, Alarm));
                self.schedule(clears, Action::Report(index, Normal));
            }
            Incident::LineCrossing => {
                // Perimeter cameras: the demo site names their zone after a
                // wall (北墙, 东墙…).
                let Some(index) = self.pick(at, |device| {
                    device.spec.kind == DeviceKind::Camera && device.spec.zone.ends_with('墙')
                }) else {
                    return;
                };
                self.devices[index].busy_until = at + Duration::from_secs(10);
                self.schedule(at, Action::Raise(index, "line_crossing", "周界越线"));
            }
            Incident::GatewayOutage => {
                let candidates: Vec<usize> = (0..self.gateways.len())
                    .filter(|&gateway| self.gateways[gateway].online)
                    .collect();
                if candidates.is_empty() {
                    return;
                }
                let gateway = candidates[self.rng.usize(..candidates.len())];
                let back = at + self.between(30, 60);
                self.schedule(at, Action::GatewayAvailability(gateway, false));
                self.schedule(back, Action::GatewayAvailability(gateway, true));
            }
        }
    }
}
