//! The simulated Home Assistant side: its birth message, and three devices
//! announced over MQTT discovery that publish ESPHome-style on their own
//! topics: a clubhouse door with its battery, a motion sensor in the bicycle
//! shed, and the alarm panel of the shops, which triggers once.

use std::time::Duration;

use serde_json::json;

use super::message;
use crate::demo::scenario::Message;

const DOOR_STATE: &str = "clubhouse-door/binary_sensor/front_door/state";
const DOOR_BATTERY: &str = "clubhouse-door/sensor/battery/state";
const DOOR_AVAILABILITY: &str = "clubhouse-door/status";
const MOTION_STATE: &str = "bike-shed/binary_sensor/motion/state";
const MOTION_AVAILABILITY: &str = "bike-shed/status";
const PANEL_STATE: &str = "shops-alarm/state";

/// Devices announced: the door (with its battery sensor), the motion
/// sensor and the panel.
const DEVICES: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Step {
    /// Home Assistant's birth message and the discovery configs.
    Start,
    /// The first states, once the adapter has subscribed to their topics.
    States,
    /// Someone opens the clubhouse door; it closes a few seconds later.
    /// Re-arms itself.
    Traffic,
    /// The door opens (`true`) or closes.
    Door(bool),
    /// Motion in the bicycle shed starts (`true`) or ends.
    Motion(bool),
    /// The alarm panel's new state, e.g. `triggered`.
    Panel(&'static str),
}

/// Returns the steps scheduled at the start.
pub(super) fn script() -> Vec<(Duration, Step)> {
    let seconds = Duration::from_secs;
    vec![
        (Duration::ZERO, Step::Start),
        (seconds(1), Step::States),
        (seconds(5), Step::Panel("triggered")),
        (seconds(90), Step::Panel("disarmed")),
        (seconds(150), Step::Panel("armed_away")),
        (seconds(20), Step::Traffic),
        (seconds(40), Step::Motion(true)),
        (seconds(50), Step::Motion(false)),
    ]
}

pub(super) struct Hub {
    /// The discovery prefix.
    prefix: String,
}

impl Hub {
    pub fn new(base_topic: &str) -> Self {
        Self {
            prefix: base_topic.to_owned(),
        }
    }

    pub fn len(&self) -> usize {
        DEVICES
    }

    /// Runs `step`, due at `at`, and returns the steps it schedules.
    pub fn run(&self, at: Duration, step: Step, out: &mut Vec<Message>) -> Vec<(Duration, Step)> {
        match step {
            Step::Start => self.start(out),
            Step::States => {
                out.push(message(DOOR_AVAILABILITY.into(), "online", true));
                out.push(message(DOOR_STATE.into(), "OFF", true));
                out.push(message(DOOR_BATTERY.into(), "87", true));
                out.push(message(MOTION_AVAILABILITY.into(), "online", true));
                out.push(message(MOTION_STATE.into(), "OFF", true));
                out.push(message(PANEL_STATE.into(), "armed_away", true));
            }
            Step::Traffic => {
                return vec![
                    (at, Step::Door(true)),
                    (at + Duration::from_secs(8), Step::Door(false)),
                    (at + Duration::from_secs(45), Step::Traffic),
                ];
            }
            Step::Door(open) => out.push(message(DOOR_STATE.into(), on_off(open), true)),
            Step::Motion(moving) => out.push(message(MOTION_STATE.into(), on_off(moving), true)),
            Step::Panel(state) => out.push(message(PANEL_STATE.into(), state, true)),
        }
        Vec::new()
    }

    fn start(&self, out: &mut Vec<Message>) {
        out.push(message(self.topic("status"), "online", true));
        let door = json!({"identifiers": ["clubhouse_door"], "name": "Clubhouse door",
                          "suggested_area": "会所"});
        let configs = [
            (
                "binary_sensor/clubhouse_door/front_door",
                json!({"name": "Front door", "device_class": "door",
                       "state_topic": DOOR_STATE, "availability_topic": DOOR_AVAILABILITY,
                       "unique_id": "clubhouse_door_contact", "device": door}),
            ),
            (
                "sensor/clubhouse_door/battery",
                json!({"name": "Battery", "device_class": "battery",
                       "unit_of_measurement": "%", "state_topic": DOOR_BATTERY,
                       "availability_topic": DOOR_AVAILABILITY,
                       "unique_id": "clubhouse_door_battery", "device": door}),
            ),
            (
                "binary_sensor/bike_shed/motion",
                json!({"name": "红外", "device_class": "motion",
                       "state_topic": MOTION_STATE, "availability_topic": MOTION_AVAILABILITY,
                       "unique_id": "bike_shed_motion",
                       "device": {"identifiers": ["bike_shed"], "name": "非机动车棚",
                                  "suggested_area": "非机动车棚"}}),
            ),
            (
                "alarm_control_panel/shops",
                json!({"name": "Shops alarm panel", "state_topic": PANEL_STATE,
                       "command_topic": "shops-alarm/set", "unique_id": "shops_alarm_panel"}),
            ),
        ];
        for (object, config) in configs {
            out.push(message(
                self.topic(&format!("{object}/config")),
                config.to_string(),
                true,
            ));
        }
    }

    fn topic(&self, tail: &str) -> String {
        format!("{}/{tail}", self.prefix)
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "ON" } else { "OFF" }
}
