//! The simulated Zigbee2MQTT network: the bridge, two door contacts, a leak
//! sensor, a smoke detector with a low battery, a motion sensor the site
//! ignores and a light, which is no security device. Zigbee2MQTT publishes
//! the device list and every state retained, with `last_seen`.

use std::time::Duration;

use serde_json::{Value, json};

use super::message;
use crate::demo::scenario::Message;

/// Kind of sensor of a simulated device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sensor {
    Contact,
    Leak,
    Smoke,
    Motion,
    Light,
}

struct Device {
    ieee: &'static str,
    friendly_name: &'static str,
    sensor: Sensor,
    battery: Option<u8>,
    linkquality: u8,
}

/// The network. The friendly names are the keys of the mappings in
/// `config/demo-adapters.toml`. The second contact has no mapping and keeps
/// its Chinese name with a `/`, which Zigbee2MQTT allows.
const DEVICES: [Device; 6] = [
    Device {
        ieee: "0x00158d0004a1c001",
        friendly_name: "Garage side door",
        sensor: Sensor::Contact,
        battery: Some(91),
        linkquality: 132,
    },
    Device {
        ieee: "0x00158d0004a1c002",
        friendly_name: "3号楼/天台门",
        sensor: Sensor::Contact,
        battery: Some(78),
        linkquality: 87,
    },
    Device {
        ieee: "0x00158d0004a1c003",
        friendly_name: "Pump room leak",
        sensor: Sensor::Leak,
        battery: Some(64),
        linkquality: 54,
    },
    Device {
        ieee: "0x00158d0004a1c004",
        friendly_name: "Clubhouse kitchen smoke",
        sensor: Sensor::Smoke,
        // At or under 15 %: shown as low battery.
        battery: Some(12),
        linkquality: 101,
    },
    Device {
        ieee: "0x00158d0004a1c005",
        friendly_name: "3F corridor motion",
        sensor: Sensor::Motion,
        battery: Some(88),
        linkquality: 120,
    },
    Device {
        ieee: "0x0017880100a1c006",
        friendly_name: "Lobby light",
        sensor: Sensor::Light,
        battery: None,
        linkquality: 160,
    },
];

/// Index of the leak sensor in [`DEVICES`].
const LEAK: usize = 2;

/// How often every device checks in with an unchanged state, a little
/// under the hour many battery-powered Zigbee sensors use.
const CHECK_IN: Duration = Duration::from_secs(50 * 60);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Step {
    /// The bridge, its device list, and every device's availability and state.
    Start,
    /// Someone opens the door contact at this index of [`DEVICES`]; it
    /// closes a few seconds later. Re-arms itself for the next contact.
    Traffic(usize),
    /// A contact (by index) opens (`true`) or closes.
    Contact(usize, bool),
    /// The leak sensor gets wet (`true`) or dries.
    Leak(bool),
    /// Every device reports its unchanged state. Re-arms itself.
    CheckIn,
}

/// Returns the steps scheduled at the start.
pub(super) fn script() -> Vec<(Duration, Step)> {
    let seconds = Duration::from_secs;
    vec![
        (Duration::ZERO, Step::Start),
        (seconds(9), Step::Leak(true)),
        (seconds(120), Step::Leak(false)),
        (seconds(12), Step::Traffic(0)),
        (CHECK_IN, Step::CheckIn),
    ]
}

pub(super) struct Network {
    base: String,
    /// Home Assistant's discovery prefix, when the demo runs Home Assistant
    /// too: Zigbee2MQTT then announces its devices there.
    announce_to: Option<String>,
    /// Per device: a contact open, a leak wet.
    active: [bool; DEVICES.len()],
}

impl Network {
    pub fn new(base_topic: &str, announce_to: Option<String>) -> Self {
        Self {
            base: base_topic.to_owned(),
            announce_to,
            active: [false; DEVICES.len()],
        }
    }

    pub fn len(&self) -> usize {
        DEVICES.len()
    }

    /// Runs `step`, due at `at`, and returns the steps it schedules.
    pub fn run(
        &mut self,
        at: Duration,
        step: Step,
        ts: &str,
        out: &mut Vec<Message>,
    ) -> Vec<(Duration, Step)> {
        match step {
            Step::Start => {
                self.start(ts, out);
                Vec::new()
            }
            Step::Traffic(index) => {
                let next = next_contact(index);
                vec![
                    (at, Step::Contact(index, true)),
                    (at + Duration::from_secs(6), Step::Contact(index, false)),
                    (at + Duration::from_secs(35), Step::Traffic(next)),
                ]
            }
            Step::Contact(index, open) => {
                self.active[index] = open;
                out.push(self.state(index, ts));
                Vec::new()
            }
            Step::Leak(wet) => {
                self.active[LEAK] = wet;
                out.push(self.state(LEAK, ts));
                Vec::new()
            }
            Step::CheckIn => {
                for index in 0..DEVICES.len() {
                    out.push(self.state(index, ts));
                }
                vec![(at + CHECK_IN, Step::CheckIn)]
            }
        }
    }

    fn start(&self, ts: &str, out: &mut Vec<Message>) {
        out.push(message(
            self.topic("bridge/state"),
            json!({"state": "online"}).to_string(),
            true,
        ));
        out.push(message(
            self.topic("bridge/devices"),
            device_list().to_string(),
            true,
        ));
        for (index, device) in DEVICES.iter().enumerate() {
            out.push(message(
                self.topic(&format!("{}/availability", device.friendly_name)),
                json!({"state": "online"}).to_string(),
                true,
            ));
            out.push(self.state(index, ts));
        }
        if let Some(prefix) = &self.announce_to {
            for device in &DEVICES {
                out.extend(self.announcement(prefix, device));
            }
        }
    }

    fn topic(&self, tail: &str) -> String {
        format!("{}/{tail}", self.base)
    }

    /// Builds the retained state of the device at `index`, as Zigbee2MQTT
    /// caches it: every property, and `last_seen`.
    fn state(&self, index: usize, ts: &str) -> Message {
        let device = &DEVICES[index];
        let active = self.active[index];
        let mut state = match device.sensor {
            // Zigbee2MQTT's `contact` is true while the contact is closed.
            Sensor::Contact => json!({"contact": !active}),
            Sensor::Leak => json!({"water_leak": active}),
            Sensor::Smoke => json!({"smoke": false}),
            Sensor::Motion => json!({"occupancy": false}),
            Sensor::Light => json!({"state": "ON", "brightness": 180}),
        };
        if let Some(battery) = device.battery {
            state["battery"] = json!(battery);
        }
        state["linkquality"] = json!(device.linkquality);
        state["last_seen"] = json!(ts);
        message(self.topic(device.friendly_name), state.to_string(), true)
    }

    /// Builds the Home Assistant discovery config Zigbee2MQTT publishes for
    /// the security property of `device`.
    fn announcement(&self, prefix: &str, device: &Device) -> Option<Message> {
        let (property, class, on, off) = match device.sensor {
            Sensor::Contact => ("contact", "door", json!(false), json!(true)),
            Sensor::Leak => ("water_leak", "moisture", json!(true), json!(false)),
            Sensor::Smoke => ("smoke", "smoke", json!(true), json!(false)),
            Sensor::Motion => ("occupancy", "motion", json!(true), json!(false)),
            Sensor::Light => return None,
        };
        let config = json!({
            "name": null,
            "device_class": class,
            "state_topic": self.topic(device.friendly_name),
            "value_template": format!("{{{{ value_json.{property} }}}}"),
            "payload_on": on,
            "payload_off": off,
            "unique_id": format!("{}_{property}_zigbee2mqtt", device.ieee),
            "device": {
                "identifiers": [format!("zigbee2mqtt_{}", device.ieee)],
                "name": device.friendly_name,
            },
            "availability": [{"topic": self.topic("bridge/state"),
                              "value_template": "{{ value_json.state }}"}],
        });
        let topic = format!("{prefix}/binary_sensor/{}/{property}/config", device.ieee);
        Some(message(topic, config.to_string(), true))
    }
}

/// Returns the index of the contact after `index`, round the network.
fn next_contact(index: usize) -> usize {
    (1..=DEVICES.len())
        .map(|step| (index + step) % DEVICES.len())
        .find(|&next| DEVICES[next].sensor == Sensor::Contact)
        .unwrap_or(index)
}

/// Builds `bridge/devices`: the coordinator and every device with the
/// exposes of its definition.
fn device_list() -> Value {
    let mut list = vec![json!({
        "ieee_address": "0x00124b0024c1a000",
        "friendly_name": "Coordinator",
        "type": "Coordinator",
        "definition": null,
    })];
    for device in &DEVICES {
        let mut exposes = match device.sensor {
            Sensor::Contact => vec![binary("contact", false, true)],
            Sensor::Leak => vec![binary("water_leak", true, false)],
            Sensor::Smoke => vec![binary("smoke", true, false)],
            Sensor::Motion => vec![binary("occupancy", true, false)],
            Sensor::Light => vec![json!({"type": "light", "features": [
                {"type": "binary", "name": "state", "property": "state", "access": 7,
                 "value_on": "ON", "value_off": "OFF"},
                {"type": "numeric", "name": "brightness", "property": "brightness", "access": 7}
            ]})],
        };
        if device.battery.is_some() {
            exposes.push(numeric("battery", "%"));
        }
        exposes.push(numeric("linkquality", "lqi"));
        let kind = if device.battery.is_some() {
            "EndDevice"
        } else {
            "Router"
        };
        list.push(json!({
            "ieee_address": device.ieee,
            "friendly_name": device.friendly_name,
            "type": kind,
            "supported": true,
            "disabled": false,
            "interview_completed": true,
            "definition": {"vendor": "Invented", "model": "DEMO-1",
                           "description": "simulated device", "exposes": exposes},
        }));
    }
    Value::Array(list)
}

fn binary(name: &str, on: bool, off: bool) -> Value {
    json!({"type": "binary", "name": name, "property": name, "access": 1,
           "value_on": on, "value_off": off})
}

fn numeric(name: &str, unit: &str) -> Value {
    json!({"type": "numeric", "name": name, "property": name, "access": 1, "unit": unit})
}
