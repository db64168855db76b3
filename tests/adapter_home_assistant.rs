//! The Home Assistant adapter: discovery configs and states in, observations
//! out (through `build` and `handle`), then the real binary against a real
//! mosquitto, and the example configuration.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use guardroom::domain::Observation;
use guardroom::domain::alarm::{ExternalAlarm, Priority};
use guardroom::domain::device::{DetectorClass, DeviceKind, Reported, ReportedState};
use guardroom::domain::observation::SelfDescription;
use guardroom::ingest::adapters::home_assistant::{self, Config};
use guardroom::ingest::adapters::{Adapter, Adapters, AdaptersConfig, DeviceMapping, Message};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use support::{Broker, DEADLINE, Home, Publisher, projection, wait_for};

const GATEWAY: &str = "home-assistant";

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap() + SignedDuration::from_secs(secs)
}

fn enabled() -> Config {
    Config {
        enabled: true,
        ..Config::default()
    }
}

fn adapter(config: &Config) -> Box<dyn Adapter> {
    home_assistant::build(config).expect("the adapter is built when enabled")
}

/// Hands one message to the adapter at `time` and returns what it made of it.
fn feed(
    adapter: &mut Box<dyn Adapter>,
    topic: &str,
    payload: &str,
    retained: bool,
    time: Timestamp,
) -> Option<Vec<Observation>> {
    adapter.handle(&Message {
        topic,
        payload: payload.as_bytes(),
        retained,
        received: time,
    })
}

/// Feeds a message that must belong to the adapter.
#[track_caller]
fn ours(
    adapter: &mut Box<dyn Adapter>,
    topic: &str,
    payload: &str,
    retained: bool,
    time: Timestamp,
) -> Vec<Observation> {
    feed(adapter, topic, payload, retained, time)
        .unwrap_or_else(|| panic!("the adapter does not claim {topic}"))
}

/// Announces a config (retained, as Home Assistant expects them) and
/// checks it produced nothing.
#[track_caller]
fn announce(adapter: &mut Box<dyn Adapter>, topic: &str, config: &str) {
    let observations = ours(adapter, topic, config, true, at(0));
    assert!(
        observations.is_empty(),
        "config on {topic} produced {observations:?}"
    );
}

fn describes(kind: DeviceKind, class: Option<DetectorClass>, name: &str) -> SelfDescription {
    SelfDescription {
        kind: Some(kind),
        class,
        name: Some(name.to_owned()),
        building: None,
        zone: None,
        gateway: Some(GATEWAY.to_owned()),
        interval_s: None,
    }
}

fn live_state(
    device: &str,
    describes: SelfDescription,
    reported: Reported,
    time: Timestamp,
) -> Observation {
    Observation::State {
        device: device.to_owned(),
        describes,
        reported,
        retained: false,
        seen_at: Some(time),
    }
}

/// Returns the state in the only observation, which must be a state report.
#[track_caller]
fn only_state(observations: &[Observation]) -> (&str, &SelfDescription, &Reported, bool) {
    match observations {
        [
            Observation::State {
                device,
                describes,
                reported,
                retained,
                ..
            },
        ] => (device, describes, reported, *retained),
        other => panic!("expected one state, got {other:?}"),
    }
}

/// Returns the data error in the only observation.
#[track_caller]
fn only_error(observations: &[Observation]) -> (Option<&str>, &str, &str) {
    match observations {
        [
            Observation::DataError {
                device,
                code,
                reason,
                ..
            },
        ] => (device.as_deref(), code, reason),
        other => panic!("expected one data error, got {other:?}"),
    }
}

#[test]
fn subscriptions_static_and_learned() {
    let mut adapter = adapter(&enabled());
    assert_eq!(
        adapter.subscriptions(),
        [
            "homeassistant/+/+/config",
            "homeassistant/+/+/+/config",
            "homeassistant/status"
        ]
    );
    assert!(adapter.take_new_subscriptions().is_empty());
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/hall/door/config",
        r#"{"stat_t": "hall/door/state", "avty_t": "hall/lwt", "dev_cla": "door", "uniq_id": "hall-door"}"#,
    );
    assert_eq!(
        adapter.take_new_subscriptions(),
        ["hall/door/state", "hall/lwt"]
    );
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/hall/window/config",
        r#"{"stat_t": "hall/window/state", "avty_t": "hall/lwt", "dev_cla": "window", "uniq_id": "hall-window"}"#,
    );
    assert_eq!(
        adapter.take_new_subscriptions(),
        ["hall/window/state"],
        "a topic is asked for once"
    );
    assert!(adapter.take_new_subscriptions().is_empty());
}

#[test]
fn device_classes_map_to_kinds_and_states() {
    use DetectorClass as C;
    use DeviceKind as K;
    use ReportedState as S;
    let table: [(&str, K, Option<C>, S, S); 14] = [
        ("door", K::Door, None, S::Open, S::Closed),
        ("garage_door", K::Door, None, S::Open, S::Closed),
        ("opening", K::Door, None, S::Open, S::Closed),
        ("window", K::Door, None, S::Open, S::Closed),
        ("smoke", K::Detector, Some(C::Smoke), S::Alarm, S::Normal),
        ("heat", K::Detector, Some(C::Heat), S::Alarm, S::Normal),
        ("gas", K::Detector, Some(C::Gas), S::Alarm, S::Normal),
        (
            "carbon_monoxide",
            K::Detector,
            Some(C::Gas),
            S::Alarm,
            S::Normal,
        ),
        (
            "moisture",
            K::Detector,
            Some(C::WaterLeak),
            S::Alarm,
            S::Normal,
        ),
        ("motion", K::Detector, Some(C::Pir), S::Alarm, S::Normal),
        ("occupancy", K::Detector, Some(C::Pir), S::Alarm, S::Normal),
        ("tamper", K::Detector, None, S::Tamper, S::Normal),
        ("problem", K::Detector, None, S::Fault, S::Normal),
        ("safety", K::Detector, None, S::Fault, S::Normal),
    ];
    for (class, kind, detector, on, off) in table {
        let mut adapter = adapter(&enabled());
        let config = format!(
            r#"{{"state_topic": "sensors/{class}", "device_class": "{class}",
                "unique_id": "unit_{class}", "name": "Unit {class}"}}"#
        );
        announce(
            &mut adapter,
            &format!("homeassistant/binary_sensor/{class}/config"),
            &config,
        );
        let device = format!("ha-unit-{}", class.replace('_', "-"));
        let name = format!("Unit {class}");
        for (payload, state, time) in [("ON", on, at(1)), ("OFF", off, at(2))] {
            let observations = ours(
                &mut adapter,
                &format!("sensors/{class}"),
                payload,
                false,
                time,
            );
            assert_eq!(
                observations,
                [live_state(
                    &device,
                    describes(kind, detector, &name),
                    Reported::new(state),
                    time
                )],
                "{class} {payload}"
            );
        }
    }
}

#[test]
fn unwatched_and_unknown_classes() {
    let mut adapter = adapter(&enabled());
    for (component, class) in [
        ("binary_sensor", "light"),
        ("binary_sensor", "vibration"),
        ("sensor", "temperature"),
        ("light", "none"),
    ] {
        let config =
            format!(r#"{{"stat_t": "x/{class}", "dev_cla": "{class}", "uniq_id": "u-{class}"}}"#);
        announce(
            &mut adapter,
            &format!("homeassistant/{component}/{class}/config"),
            &config,
        );
    }
    assert!(
        adapter.take_new_subscriptions().is_empty(),
        "nothing to read for classes we do not watch"
    );
    assert_eq!(feed(&mut adapter, "x/light", "ON", false, at(1)), None);

    let observations = ours(
        &mut adapter,
        "homeassistant/binary_sensor/odd/config",
        r#"{"stat_t": "x/odd", "dev_cla": "bogus", "uniq_id": "odd-1"}"#,
        true,
        at(2),
    );
    let (device, code, reason) = only_error(&observations);
    assert_eq!(device, Some("ha-odd-1"));
    assert_eq!(code, "bad_field");
    assert!(reason.contains("\"bogus\""), "{reason}");
}

#[test]
fn payloads_default_custom_and_templates() {
    let cases: [(&str, &str, ReportedState); 10] = [
        (
            r#""pl_on": "open", "pl_off": "closed""#,
            "open",
            ReportedState::Open,
        ),
        (
            r#""pl_on": "open", "pl_off": "closed""#,
            "closed",
            ReportedState::Closed,
        ),
        // Zigbee2MQTT's style: JSON booleans in the config and the payload.
        (
            r#""payload_on": false, "payload_off": true, "value_template": "{{ value_json.contact }}""#,
            r#"{"contact": false, "battery": 90}"#,
            ReportedState::Open,
        ),
        (
            r#""val_tpl": "{{value_json['state']}}""#,
            r#"{"state": "ON"}"#,
            ReportedState::Open,
        ),
        (
            r#""val_tpl": "{{ value_json.a.b }}""#,
            r#"{"a": {"b": "OFF"}}"#,
            ReportedState::Closed,
        ),
        (
            r#""val_tpl": "{{ value_json.state | lower }}", "pl_on": "on", "pl_off": "off""#,
            r#"{"state": "ON"}"#,
            ReportedState::Open,
        ),
        (
            r#""val_tpl": "{{ value | upper }}""#,
            "on",
            ReportedState::Open,
        ),
        (r#""pl_on": 1, "pl_off": 0"#, "1", ReportedState::Open),
        (r#""pl_on": 1, "pl_off": 0"#, "0", ReportedState::Closed),
        ("\"name\": \"x\"", " ON\n", ReportedState::Open),
    ];
    for (options, payload, expected) in cases {
        let mut adapter = adapter(&enabled());
        let config =
            format!(r#"{{"stat_t": "d/state", "dev_cla": "door", "uniq_id": "d", {options}}}"#);
        announce(
            &mut adapter,
            "homeassistant/binary_sensor/d/config",
            &config,
        );
        let observations = ours(&mut adapter, "d/state", payload, false, at(1));
        let (device, _, reported, _) = only_state(&observations);
        assert_eq!(device, "ha-d");
        assert_eq!(reported.state, expected, "{options} with {payload:?}");
    }
}

#[test]
fn payloads_without_value_keep_state() {
    let mut adapter = adapter(&enabled());
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/d/config",
        r#"{"stat_t": "d/state", "dev_cla": "door", "uniq_id": "d", "val_tpl": "{{ value_json.contact }}",
            "pl_on": false, "pl_off": true}"#,
    );
    let first = ours(
        &mut adapter,
        "d/state",
        r#"{"contact": true}"#,
        false,
        at(1),
    );
    assert_eq!(only_state(&first).2.state, ReportedState::Closed);
    // A payload without the field, Home Assistant's "None" and an empty
    // payload carry no value: the device is heard and its state stays.
    for payload in [r#"{"battery": 80}"#, r#"{"contact": null}"#, ""] {
        let observations = ours(&mut adapter, "d/state", payload, false, at(2));
        let (_, _, reported, _) = only_state(&observations);
        assert_eq!(reported.state, ReportedState::Closed, "{payload:?}");
    }
}

#[test]
fn abbreviations_and_base_topic() {
    let mut adapter = adapter(&enabled());
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/garage/main/config",
        r#"{"~": "garage/main", "stat_t": "~/state", "avty_t": "~/lwt", "pl_avail": "up",
            "pl_not_avail": "down", "dev_cla": "garage_door", "uniq_id": "garage-main",
            "dev": {"ids": ["g1"], "name": "Garage", "sa": "Car park"}, "name": "Door"}"#,
    );
    assert_eq!(
        adapter.take_new_subscriptions(),
        ["garage/main/state", "garage/main/lwt"]
    );
    let observations = ours(&mut adapter, "garage/main/state", "ON", false, at(1));
    let (device, described, reported, _) = only_state(&observations);
    assert_eq!(device, "ha-garage-main");
    assert_eq!(described.name.as_deref(), Some("Garage Door"));
    assert_eq!(described.zone.as_deref(), Some("Car park"));
    assert_eq!(reported.state, ReportedState::Open);

    assert_eq!(
        ours(&mut adapter, "garage/main/lwt", "down", false, at(2)),
        [Observation::Availability {
            device: "ha-garage-main".into(),
            online: false,
            retained: false
        }]
    );
    assert!(
        ours(&mut adapter, "garage/main/lwt", "down", false, at(3)).is_empty(),
        "the same availability again is not repeated"
    );
    assert_eq!(
        ours(&mut adapter, "garage/main/lwt", "up", false, at(4)),
        [Observation::Availability {
            device: "ha-garage-main".into(),
            online: true,
            retained: false
        }]
    );
}

#[test]
fn availability_modes() {
    let config = |mode: &str| {
        format!(
            r#"{{"stat_t": "m/state", "dev_cla": "motion", "uniq_id": "m", "avty_mode": "{mode}",
                "avty": [{{"t": "bridge/state", "val_tpl": "{{{{ value_json.state }}}}"}},
                         {{"t": "m/availability"}}]}}"#
        )
    };
    let online = |online: bool| {
        vec![Observation::Availability {
            device: "ha-m".into(),
            online,
            retained: false,
        }]
    };
    let none: Vec<Observation> = Vec::new();
    /// A message on an availability topic and what it should give.
    type Step<'a> = (&'a str, &'a str, Vec<Observation>);
    let table: [(&str, Vec<Step>); 3] = [
        (
            "all",
            vec![
                ("bridge/state", r#"{"state": "online"}"#, none.clone()),
                ("m/availability", "online", online(true)),
                ("bridge/state", r#"{"state": "offline"}"#, online(false)),
            ],
        ),
        (
            "any",
            vec![
                ("m/availability", "offline", online(false)),
                ("bridge/state", r#"{"state": "online"}"#, online(true)),
                ("m/availability", "online", none.clone()),
            ],
        ),
        (
            "latest",
            vec![
                ("bridge/state", r#"{"state": "offline"}"#, online(false)),
                ("m/availability", "online", online(true)),
            ],
        ),
    ];
    for (mode, steps) in table {
        let mut adapter = adapter(&enabled());
        announce(
            &mut adapter,
            "homeassistant/binary_sensor/m/config",
            &config(mode),
        );
        for (index, (topic, payload, expected)) in steps.into_iter().enumerate() {
            assert_eq!(
                ours(&mut adapter, topic, payload, false, at(index as i64 + 1)),
                expected,
                "mode {mode}, step {index}: {topic} {payload}"
            );
        }
    }
}

#[test]
fn birth_and_will_are_gateway() {
    let mut adapter = adapter(&enabled());
    for (payload, online) in [("online", true), ("offline", false)] {
        assert_eq!(
            ours(&mut adapter, "homeassistant/status", payload, true, at(1)),
            [Observation::GatewayAvailability {
                gateway: GATEWAY.into(),
                online,
                retained: true
            }]
        );
    }
    let observations = ours(
        &mut adapter,
        "homeassistant/status",
        "rebooting",
        false,
        at(2),
    );
    let (device, code, _) = only_error(&observations);
    assert_eq!(device, None);
    assert_eq!(code, "bad_field");

    let without = Config {
        gateway: String::new(),
        ..enabled()
    };
    let mut adapter = self::adapter(&without);
    assert!(ours(&mut adapter, "homeassistant/status", "offline", true, at(1)).is_empty());
}

#[test]
fn device_discovery_joins_battery_and_splits_tamper() {
    let mut adapter = adapter(&enabled());
    announce(
        &mut adapter,
        "homeassistant/device/0xa1/config",
        r#"{"dev": {"ids": "0xa1", "name": "Back door"}, "o": {"name": "bridge"},
            "stat_t": "bridge/back_door", "avty_t": "bridge/back_door/availability",
            "cmps": {
                "contact": {"p": "binary_sensor", "dev_cla": "door", "uniq_id": "0xa1_contact",
                            "val_tpl": "{{ value_json.contact }}", "pl_on": false, "pl_off": true},
                "battery": {"p": "sensor", "dev_cla": "battery", "unit_of_meas": "%",
                            "uniq_id": "0xa1_battery", "val_tpl": "{{ value_json.battery }}"},
                "tamper": {"p": "binary_sensor", "dev_cla": "tamper", "uniq_id": "0xa1_tamper",
                           "val_tpl": "{{ value_json.tamper }}", "pl_on": true, "pl_off": false,
                           "name": "Tamper"},
                "temperature": {"p": "sensor", "dev_cla": "temperature", "uniq_id": "0xa1_t",
                                "val_tpl": "{{ value_json.temperature }}"}
            }}"#,
    );
    assert_eq!(
        adapter.take_new_subscriptions(),
        ["bridge/back_door", "bridge/back_door/availability"]
    );
    let observations = ours(
        &mut adapter,
        "bridge/back_door",
        r#"{"contact": false, "battery": 12, "tamper": true, "temperature": 21.5}"#,
        false,
        at(1),
    );
    let mut door = Reported::new(ReportedState::Open);
    door.battery = Some(12);
    door.battery_low = true;
    let mut tamper = Reported::new(ReportedState::Tamper);
    tamper.battery = Some(12);
    tamper.battery_low = true;
    assert_eq!(
        observations,
        [
            live_state(
                "ha-0xa1-contact",
                describes(DeviceKind::Door, None, "Back door"),
                door,
                at(1)
            ),
            live_state(
                "ha-0xa1-tamper",
                describes(DeviceKind::Detector, None, "Back door Tamper"),
                tamper,
                at(1)
            ),
        ]
    );

    // Removing one component: its config shrinks to its platform.
    announce(
        &mut adapter,
        "homeassistant/device/0xa1/config",
        r#"{"dev": {"ids": "0xa1", "name": "Back door"}, "o": {"name": "bridge"},
            "stat_t": "bridge/back_door",
            "cmps": {
                "contact": {"p": "binary_sensor", "dev_cla": "door", "uniq_id": "0xa1_contact",
                            "val_tpl": "{{ value_json.contact }}", "pl_on": false, "pl_off": true},
                "battery": {"p": "sensor", "dev_cla": "battery", "uniq_id": "0xa1_battery",
                            "val_tpl": "{{ value_json.battery }}"},
                "tamper": {"p": "binary_sensor"}
            }}"#,
    );
    let observations = ours(
        &mut adapter,
        "bridge/back_door",
        r#"{"contact": true, "battery": 80, "tamper": true}"#,
        false,
        at(2),
    );
    let (device, _, reported, _) = only_state(&observations);
    assert_eq!(device, "ha-0xa1-contact");
    assert_eq!(reported.state, ReportedState::Closed);
    assert_eq!(reported.battery, Some(80));
    assert!(!reported.battery_low);

    // An empty config removes every component of the device.
    announce(&mut adapter, "homeassistant/device/0xa1/config", "");
    assert_eq!(
        feed(
            &mut adapter,
            "bridge/back_door",
            r#"{"contact": false}"#,
            false,
            at(3)
        ),
        None,
        "a removed entity's topic is no longer ours"
    );
}

#[test]
fn lone_detector_joins_tamper_and_fault() {
    let mut adapter = adapter(&enabled());
    let device = r#""dev": {"ids": ["smk-7"], "name": "Kitchen smoke", "sa": "Kitchen"}"#;
    for (object, class, topic) in [
        ("smoke", "smoke", "k/smoke"),
        ("tamper", "tamper", "k/tamper"),
        ("fault", "problem", "k/fault"),
        ("battery_low", "battery", "k/battery_low"),
        ("link", "connectivity", "k/link"),
    ] {
        announce(
            &mut adapter,
            &format!("homeassistant/binary_sensor/smk7/{object}/config"),
            &format!(
                r#"{{"stat_t": "{topic}", "dev_cla": "{class}", "uniq_id": "smk7-{object}", {device}}}"#
            ),
        );
    }
    let state =
        |observations: Vec<Observation>| -> Reported { only_state(&observations).2.clone() };

    let smoke_off = state(ours(&mut adapter, "k/smoke", "OFF", false, at(1)));
    assert_eq!(smoke_off, Reported::new(ReportedState::Normal));
    let tamper = state(ours(&mut adapter, "k/tamper", "ON", false, at(2)));
    assert_eq!(tamper.state, ReportedState::Tamper);
    let fault = state(ours(&mut adapter, "k/fault", "ON", false, at(3)));
    assert_eq!(fault.state, ReportedState::Tamper, "tamper outranks fault");
    ours(&mut adapter, "k/tamper", "OFF", false, at(4));
    let fault = state(ours(&mut adapter, "k/fault", "ON", false, at(5)));
    assert_eq!(fault.state, ReportedState::Fault);
    let alarm = state(ours(&mut adapter, "k/smoke", "ON", false, at(6)));
    assert_eq!(alarm.state, ReportedState::Alarm, "alarm outranks fault");
    let low = state(ours(&mut adapter, "k/battery_low", "ON", false, at(7)));
    assert!(low.battery_low);

    let offline = ours(&mut adapter, "k/link", "OFF", false, at(8));
    assert_eq!(
        offline.last(),
        Some(&Observation::Availability {
            device: "ha-smk7-smoke".into(),
            online: false,
            retained: false
        }),
        "connectivity off is offline: {offline:?}"
    );
}

#[test]
fn sensors_battery_signal_and_lock() {
    let mut adapter = adapter(&enabled());
    let device = r#""dev": {"ids": "gate-1", "name": "Gate"}"#;
    for (component, object, options) in [
        ("binary_sensor", "contact", r#""dev_cla": "door""#),
        ("binary_sensor", "lock", r#""dev_cla": "lock""#),
        (
            "sensor",
            "battery",
            r#""dev_cla": "battery", "unit_of_measurement": "%""#,
        ),
        (
            "sensor",
            "rssi",
            r#""dev_cla": "signal_strength", "unit_of_measurement": "dBm""#,
        ),
    ] {
        announce(
            &mut adapter,
            &format!("homeassistant/{component}/gate/{object}/config"),
            &format!(
                r#"{{"stat_t": "gate/{object}", "uniq_id": "gate-{object}", {options}, {device}}}"#
            ),
        );
    }
    assert!(
        ours(&mut adapter, "gate/battery", "55", false, at(1)).is_empty(),
        "nothing is reported before the door's own state"
    );
    ours(&mut adapter, "gate/rssi", "-67.4", false, at(2));
    ours(&mut adapter, "gate/lock", "OFF", false, at(3));
    let observations = ours(&mut adapter, "gate/contact", "OFF", false, at(4));
    let mut expected = Reported::new(ReportedState::Closed);
    expected.battery = Some(55);
    expected.signal = Some(-67);
    expected.locked = Some(true);
    assert_eq!(only_state(&observations).2, &expected);

    for (payload, reason) in [("120", "0 to 100"), ("full", "0 to 100")] {
        let observations = ours(&mut adapter, "gate/battery", payload, false, at(5));
        let (device, code, text) = only_error(&observations);
        assert_eq!(device, Some("ha-gate-contact"));
        assert_eq!(code, "bad_field");
        assert!(text.contains(reason), "{text}");
    }
}

fn panel_config() -> &'static str {
    r#"{"stat_t": "alarm/state", "cmd_t": "alarm/set", "uniq_id": "panel-1", "name": "Block 3 alarm",
        "dev": {"ids": "panel-1", "name": "Panel"}}"#
}

#[test]
fn alarm_panel_states() {
    let mut adapter = adapter(&enabled());
    announce(
        &mut adapter,
        "homeassistant/alarm_control_panel/panel-1/config",
        panel_config(),
    );
    let panel_state = live_state(
        "ha-panel-1",
        describes(DeviceKind::Detector, None, "Panel Block 3 alarm"),
        Reported::new(ReportedState::Normal),
        at(1),
    );
    let event = |state: &str, time: Timestamp| Observation::DeviceEvent {
        device: "ha-panel-1".into(),
        event_id: format!("{}-{state}", time.as_millisecond()),
        event: state.into(),
        text: None,
        source_ts: None,
    };
    let closed = Observation::ExternalAlarm {
        id: "ha-panel-1".into(),
        record: None,
    };

    assert_eq!(
        ours(&mut adapter, "alarm/state", "armed_away", false, at(1)),
        [
            panel_state.clone(),
            event("armed_away", at(1)),
            closed.clone()
        ],
        "a first state that is not triggered closes any alarm left open"
    );
    assert_eq!(
        ours(&mut adapter, "alarm/state", "pending", false, at(2)),
        [
            live_state(
                "ha-panel-1",
                panel_state_describes(),
                Reported::new(ReportedState::Normal),
                at(2)
            ),
            event("pending", at(2))
        ]
    );
    let triggered = ours(&mut adapter, "alarm/state", "triggered", false, at(3));
    assert_eq!(
        triggered.last(),
        Some(&Observation::ExternalAlarm {
            id: "ha-panel-1".into(),
            record: Some(ExternalAlarm {
                id: "ha-panel-1".into(),
                priority: Priority::P2,
                active: true,
                text: "alarm panel triggered while armed_away".into(),
                device: Some("ha-panel-1".into()),
                building: String::new(),
                zone: String::new(),
            })
        }),
        "{triggered:?}"
    );
    assert!(triggered.contains(&event("triggered", at(3))));
    let again = ours(&mut adapter, "alarm/state", "triggered", false, at(4));
    assert!(
        !again.iter().any(|o| matches!(
            o,
            Observation::ExternalAlarm { .. } | Observation::DeviceEvent { .. }
        )),
        "a repeat raises nothing: {again:?}"
    );
    let disarmed = ours(&mut adapter, "alarm/state", "disarmed", false, at(5));
    assert_eq!(disarmed.last(), Some(&closed), "{disarmed:?}");
    assert!(disarmed.contains(&event("disarmed", at(5))));

    let observations = ours(&mut adapter, "alarm/state", "exploded", false, at(6));
    let (device, code, reason) = only_error(&observations);
    assert_eq!(device, Some("ha-panel-1"));
    assert_eq!(code, "bad_field");
    assert!(reason.contains("not an alarm panel state"), "{reason}");
}

fn panel_state_describes() -> SelfDescription {
    describes(DeviceKind::Detector, None, "Panel Block 3 alarm")
}

#[test]
fn retained_panel_after_restart() {
    // A fresh adapter has no memory: a retained triggered state raises (the
    // recorder ignores it while the alarm is still open), a retained
    // disarmed state closes.
    let mut adapter = adapter(&enabled());
    announce(
        &mut adapter,
        "homeassistant/alarm_control_panel/panel-1/config",
        panel_config(),
    );
    let triggered = ours(&mut adapter, "alarm/state", "triggered", true, at(1));
    assert!(
        !triggered
            .iter()
            .any(|o| matches!(o, Observation::DeviceEvent { .. })),
        "retained states are not events: {triggered:?}"
    );
    match triggered.as_slice() {
        [
            Observation::State {
                retained: true,
                seen_at: None,
                ..
            },
            Observation::ExternalAlarm {
                record: Some(record),
                ..
            },
        ] => assert_eq!(record.text, "alarm panel triggered"),
        other => panic!("expected the panel and its alarm, got {other:?}"),
    }

    let mut adapter = self::adapter(&enabled());
    announce(
        &mut adapter,
        "homeassistant/alarm_control_panel/panel-1/config",
        panel_config(),
    );
    assert_eq!(
        ours(&mut adapter, "alarm/state", "disarmed", true, at(1)),
        [Observation::ExternalAlarm {
            id: "ha-panel-1".into(),
            record: None
        }]
    );
}

#[test]
fn retained_states_settle_into_one_report() {
    let mut adapter = adapter(&enabled());
    let device = r#""dev": {"ids": "win-2", "name": "Window 2"}"#;
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/win2/contact/config",
        &format!(
            r#"{{"stat_t": "w2/contact", "dev_cla": "window", "uniq_id": "win2", "avty_t": "w2/lwt", {device}}}"#
        ),
    );
    announce(
        &mut adapter,
        "homeassistant/sensor/win2/battery/config",
        &format!(
            r#"{{"stat_t": "w2/battery", "dev_cla": "battery", "uniq_id": "win2-bat", {device}}}"#
        ),
    );
    for (topic, payload) in [
        ("w2/contact", "ON"),
        ("w2/battery", "97"),
        ("w2/lwt", "online"),
    ] {
        assert!(
            ours(&mut adapter, topic, payload, true, at(1)).is_empty(),
            "retained {topic} waits for the rest"
        );
    }
    assert!(adapter.tick(at(1)).is_empty(), "not settled yet");
    let mut reported = Reported::new(ReportedState::Open);
    reported.battery = Some(97);
    assert_eq!(
        adapter.tick(at(3)),
        [
            Observation::State {
                device: "ha-win2".into(),
                describes: describes(DeviceKind::Door, None, "Window 2"),
                reported,
                retained: true,
                seen_at: None,
            },
            Observation::Availability {
                device: "ha-win2".into(),
                online: true,
                retained: true
            }
        ]
    );
    assert!(adapter.tick(at(5)).is_empty(), "reported once");
}

#[test]
fn off_delay_turns_motion_off() {
    let mut adapter = adapter(&enabled());
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/pir/config",
        r#"{"stat_t": "rf/pir", "dev_cla": "motion", "uniq_id": "pir-9", "off_dly": 30}"#,
    );
    let on = ours(&mut adapter, "rf/pir", "ON", false, at(0));
    assert_eq!(only_state(&on).2.state, ReportedState::Alarm);
    assert!(adapter.tick(at(29)).is_empty());
    let off = adapter.tick(at(30));
    assert_eq!(
        off,
        [live_state(
            "ha-pir-9",
            describes(DeviceKind::Detector, Some(DetectorClass::Pir), "pir-9"),
            Reported::new(ReportedState::Normal),
            at(30)
        )]
    );
}

#[test]
fn early_messages_wait_for_their_config() {
    let mut adapter = adapter(&enabled());
    // Queued for our session while we were away: it arrives before the
    // retained config that names its topic.
    assert_eq!(
        feed(&mut adapter, "esp/door/state", "ON", false, at(0)),
        None
    );
    let observations = ours(
        &mut adapter,
        "homeassistant/binary_sensor/esp-door/config",
        r#"{"stat_t": "esp/door/state", "dev_cla": "door", "uniq_id": "esp-door"}"#,
        true,
        at(1),
    );
    assert_eq!(
        observations,
        [live_state(
            "ha-esp-door",
            describes(DeviceKind::Door, None, "esp-door"),
            Reported::new(ReportedState::Open),
            at(0)
        )]
    );
}

#[test]
fn mappings_ignore_and_ignore_topics() {
    let mut config = enabled();
    config.devices.insert(
        "lobby-door".into(),
        DeviceMapping {
            id: Some("b1-lobby".into()),
            name: Some("1号楼大堂门".into()),
            building: Some("1号楼".into()),
            zone: Some("大堂".into()),
            priority: Some("P1".into()),
            interval_s: None,
        },
    );
    config.devices.insert(
        "panel-1".into(),
        DeviceMapping {
            priority: Some("P1".into()),
            ..DeviceMapping::default()
        },
    );
    config.ignore = vec!["hall-pir".into()];
    config.ignore_topics = vec!["zigbee2mqtt".into()];
    let mut adapter = adapter(&config);
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/lobby/config",
        r#"{"stat_t": "lobby/door", "dev_cla": "door", "uniq_id": "lobby-door", "name": "Lobby"}"#,
    );
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/hall/config",
        r#"{"stat_t": "hall/pir", "dev_cla": "motion", "uniq_id": "hall-pir"}"#,
    );
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/0x01/contact/config",
        r#"{"stat_t": "zigbee2mqtt/front", "dev_cla": "door", "uniq_id": "0x01_contact"}"#,
    );
    announce(
        &mut adapter,
        "homeassistant/alarm_control_panel/panel-1/config",
        panel_config(),
    );
    assert_eq!(
        adapter.take_new_subscriptions(),
        ["lobby/door", "alarm/state"]
    );
    let observations = ours(&mut adapter, "lobby/door", "ON", false, at(1));
    let (device, described, _, _) = only_state(&observations);
    assert_eq!(device, "b1-lobby");
    assert_eq!(described.name.as_deref(), Some("1号楼大堂门"));
    assert_eq!(described.building.as_deref(), Some("1号楼"));
    assert_eq!(described.zone.as_deref(), Some("大堂"));

    let triggered = ours(&mut adapter, "alarm/state", "triggered", false, at(2));
    let priority = triggered.iter().find_map(|o| match o {
        Observation::ExternalAlarm {
            record: Some(record),
            ..
        } => Some(record.priority),
        _ => None,
    });
    assert_eq!(priority, Some(Priority::P1), "{triggered:?}");
}

#[test]
fn intervals_from_mapping_and_adapter() {
    let mut config = enabled();
    config.interval_s = Some(3_600);
    config.devices.insert(
        "lobby-door".into(),
        DeviceMapping {
            interval_s: Some(600),
            ..DeviceMapping::default()
        },
    );

    let mut adapter = adapter(&config);
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/lobby/config",
        r#"{"stat_t": "lobby/door", "dev_cla": "door", "uniq_id": "lobby-door"}"#,
    );
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/hall/config",
        r#"{"stat_t": "hall/pir", "dev_cla": "motion", "uniq_id": "hall-pir"}"#,
    );

    let door = ours(&mut adapter, "lobby/door", "OFF", false, at(1));
    let (_, described, _, _) = only_state(&door);
    assert_eq!(
        described.interval_s,
        Some(600),
        "the mapping's interval wins"
    );
    let hall = ours(&mut adapter, "hall/pir", "OFF", false, at(2));
    let (_, described, _, _) = only_state(&hall);
    assert_eq!(
        described.interval_s,
        Some(3_600),
        "an unmapped entity takes the adapter's"
    );
}

/// Feeds a message through every adapter switched on and returns what the
/// owning adapter made of it.
fn through(adapters: &mut Adapters, topic: &str, payload: &str) -> Option<Vec<Observation>> {
    adapters.handle(&Message {
        topic,
        payload: payload.as_bytes(),
        retained: true,
        received: at(0),
    })
}

#[test]
fn zigbee2mqtt_announcements_left_to_its_adapter() {
    let announcement = r#"{"stat_t": "zigbee2mqtt/Lobby door", "dev_cla": "door",
        "uniq_id": "0x0001_contact", "val_tpl": "{{ value_json.contact }}",
        "pl_on": false, "pl_off": true}"#;
    let own = r#"{"stat_t": "esp/back-door", "dev_cla": "door", "uniq_id": "back-door"}"#;

    let mut both = AdaptersConfig::default();
    both.home_assistant.enabled = true;
    both.zigbee2mqtt.enabled = true;
    assert!(
        both.home_assistant.ignore_topics.is_empty(),
        "nothing set by hand"
    );
    let mut adapters = Adapters::new(&both);
    adapters.take_new_subscriptions();
    through(
        &mut adapters,
        "homeassistant/binary_sensor/0x0001/contact/config",
        announcement,
    )
    .expect("the Home Assistant adapter owns its discovery topics");
    through(
        &mut adapters,
        "homeassistant/binary_sensor/back/config",
        own,
    )
    .unwrap();
    assert_eq!(
        adapters.take_new_subscriptions(),
        ["esp/back-door"],
        "the Zigbee2MQTT device is left to its own adapter"
    );

    let mut alone = AdaptersConfig::default();
    alone.home_assistant.enabled = true;
    let mut adapters = Adapters::new(&alone);
    adapters.take_new_subscriptions();
    through(
        &mut adapters,
        "homeassistant/binary_sensor/0x0001/contact/config",
        announcement,
    )
    .unwrap();
    assert_eq!(
        adapters.take_new_subscriptions(),
        ["zigbee2mqtt/Lobby door"],
        "without the Zigbee2MQTT adapter, Home Assistant reads it"
    );
}

#[test]
fn malformed_payloads() {
    let mut adapter = adapter(&enabled());
    announce(
        &mut adapter,
        "homeassistant/binary_sensor/d/config",
        r#"{"stat_t": "d/state", "dev_cla": "door", "uniq_id": "d", "val_tpl": "{{ value_json.contact }}",
            "pl_on": false, "pl_off": true}"#,
    );
    let big = "x".repeat(64 * 1024 + 1);
    // (topic, payload, device, code, part of the reason).
    let table: [(&str, &str, Option<&str>, &str, &str); 8] = [
        (
            "homeassistant/binary_sensor/e/config",
            "{not json",
            None,
            "invalid_json",
            "invalid JSON",
        ),
        (
            "homeassistant/binary_sensor/e/config",
            "[1, 2]",
            None,
            "not_an_object",
            "JSON object",
        ),
        (
            "homeassistant/binary_sensor/e/config",
            &big,
            None,
            "oversized",
            "over the limit",
        ),
        (
            "homeassistant/binary_sensor/e/config",
            r#"{"dev_cla": "door", "uniq_id": "e"}"#,
            Some("ha-e"),
            "bad_field",
            "missing \"state_topic\"",
        ),
        (
            "d/state",
            "{not json",
            Some("ha-d"),
            "invalid_json",
            "invalid JSON",
        ),
        (
            "d/state",
            r#"{"contact": "maybe"}"#,
            Some("ha-d"),
            "bad_field",
            "neither payload_on",
        ),
        (
            "d/state",
            r#"{"contact": {"a": 1}}"#,
            Some("ha-d"),
            "bad_field",
            "object or a list",
        ),
        ("d/state", &big, Some("ha-d"), "oversized", "over the limit"),
    ];
    for (topic, payload, device, code, reason) in table {
        let observations = ours(&mut adapter, topic, payload, false, at(1));
        let (got_device, got_code, got_reason) = only_error(&observations);
        let preview = &payload[..payload.len().min(40)];
        assert_eq!(got_device, device, "{topic} {preview}");
        assert_eq!(got_code, code, "{topic} {preview}");
        assert!(
            got_reason.contains(reason),
            "{topic} {preview}: {got_reason}"
        );
    }
    let not_utf8 = adapter.handle(&Message {
        topic: "d/state",
        payload: &[0xff, 0xfe],
        retained: false,
        received: at(2),
    });
    assert_eq!(only_error(&not_utf8.unwrap()).1, "not_utf8");
}

#[test]
fn rejected_update_keeps_entity() {
    let mut adapter = adapter(&enabled());
    let topic = "homeassistant/binary_sensor/d/config";
    announce(
        &mut adapter,
        topic,
        r#"{"stat_t": "d/state", "dev_cla": "door", "uniq_id": "d"}"#,
    );
    for update in [
        r#"{"stat_t": "d/state", "dev_cla": "doorway", "uniq_id": "d"}"#,
        r#"{"stat_t": "d/+", "dev_cla": "door", "uniq_id": "d"}"#,
    ] {
        let observations = ours(&mut adapter, topic, update, true, at(1));
        assert_eq!(only_error(&observations).0, Some("ha-d"), "{update}");
        let state = ours(&mut adapter, "d/state", "ON", false, at(2));
        assert_eq!(
            only_state(&state).2.state,
            ReportedState::Open,
            "the last good config is kept after {update}"
        );
    }
}

#[test]
fn unsupported_template_marks_entity() {
    let mut adapter = adapter(&enabled());
    let template = "{{ 'ON' if value_json.contact else 'OFF' }}";
    let config = format!(
        r#"{{"stat_t": "d/state", "dev_cla": "door", "uniq_id": "d", "val_tpl": "{template}"}}"#
    );
    let observations = ours(
        &mut adapter,
        "homeassistant/binary_sensor/d/config",
        &config,
        true,
        at(0),
    );
    let (device, code, reason) = only_error(&observations);
    assert_eq!(device, Some("ha-d"));
    assert_eq!(code, "bad_field");
    assert!(
        reason.contains(template),
        "the reason names the template: {reason}"
    );
    let state = ours(
        &mut adapter,
        "d/state",
        r#"{"contact": true}"#,
        false,
        at(1),
    );
    let (device, _, reason) = only_error(&state);
    assert_eq!(device, Some("ha-d"));
    assert!(reason.contains(template), "{reason}");
}

#[test]
fn foreign_topics_are_not_claimed() {
    let mut adapter = adapter(&enabled());
    assert_eq!(
        feed(&mut adapter, "frigate/available", "online", true, at(0)),
        None
    );
    assert_eq!(
        feed(
            &mut adapter,
            "homeassistant/binary_sensor/x/state",
            "ON",
            false,
            at(0)
        ),
        None
    );
    assert!(
        ours(
            &mut adapter,
            "homeassistant/light/kitchen/config",
            r#"{"cmd_t": "k/set"}"#,
            true,
            at(0)
        )
        .is_empty(),
        "configs of other components are ours but carry nothing"
    );
}

// --- The real binary against a real broker.

const SITE: &str = "ha-itest";

/// Writes a configuration with the Home Assistant adapter on and returns
/// its path.
fn write_config(home: &Home, broker: &Broker) -> PathBuf {
    let mut text = support::config_toml(
        SITE,
        &broker.url(),
        &support::unique_client_id("gr-ha"),
        &[],
    );
    text.push_str(
        "\n[adapters.home_assistant]\nenabled = true\n\n\
         [adapters.home_assistant.devices.\"0xd00r_contact\"]\n\
         id = \"b3-back-door\"\nname = \"3号楼后门\"\nbuilding = \"3号楼\"\n",
    );
    let path = home.path().join("guardroom.toml");
    std::fs::write(&path, text).expect("writing guardroom.toml");
    path
}

fn publish_discovery(publisher: &mut Publisher) {
    publisher.publish(
        "homeassistant/device/0xd00r/config",
        r#"{"dev": {"ids": ["0xd00r"], "name": "Back door"}, "o": {"name": "bridge"},
            "stat_t": "bridge/0xd00r", "avty_t": "bridge/0xd00r/availability",
            "cmps": {
              "contact": {"p": "binary_sensor", "dev_cla": "door", "uniq_id": "0xd00r_contact",
                          "val_tpl": "{{ value_json.contact }}", "pl_on": false, "pl_off": true},
              "battery": {"p": "sensor", "dev_cla": "battery", "unit_of_meas": "%",
                          "uniq_id": "0xd00r_battery", "val_tpl": "{{ value_json.battery }}"}
            }}"#,
        true,
    );
    publisher.publish(
        "homeassistant/binary_sensor/kitchen/smoke/config",
        r#"{"~": "home/kitchen/smoke", "stat_t": "~/state", "dev_cla": "smoke",
            "uniq_id": "kitchen-smoke", "name": "Kitchen smoke", "dev": {"ids": "k-smoke", "sa": "Kitchen"}}"#,
        true,
    );
    publisher.publish(
        "homeassistant/alarm_control_panel/block3/config",
        r#"{"stat_t": "alarm/block3/state", "cmd_t": "alarm/block3/set", "uniq_id": "block3-panel",
            "name": "Block 3 alarm"}"#,
        true,
    );
    publisher.publish(
        "homeassistant/binary_sensor/odd/config",
        r#"{"stat_t": "odd/state", "dev_cla": "door", "uniq_id": "odd-door",
            "val_tpl": "{{ value_json.a if value_json.b else 'OFF' }}"}"#,
        true,
    );
    publisher.publish("homeassistant/status", "online", true);
}

fn status_of(status: &Value, path: &[&str]) -> u64 {
    let mut value = status;
    for key in path {
        value = &value[*key];
    }
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{path:?} missing in {status}"))
}

#[test]
fn serve_reads_discovery_states_and_panel() {
    let broker = Broker::start_new();
    let home = Home::new();
    let config = write_config(&home, &broker);
    let database = home.path().join("guardroom.sqlite");

    let mut publisher = Publisher::connect(broker.port());
    publish_discovery(&mut publisher);
    publisher.publish("bridge/0xd00r", r#"{"contact": true, "battery": 64}"#, true);
    publisher.publish("bridge/0xd00r/availability", "online", true);
    publisher.publish("home/kitchen/smoke/state", "OFF", true);
    publisher.publish("alarm/block3/state", "armed_away", true);
    publisher.flush();

    let mut serve = home.serve(&config, &database);
    let seen = wait_for("discovered devices with their states", DEADLINE, || {
        serve.assert_running();
        let projection = projection(&database)?;
        let ready = ["b3-back-door", "ha-kitchen-smoke", "ha-block3-panel"]
            .iter()
            .all(|id| {
                projection
                    .devices
                    .get(*id)
                    .is_some_and(|d| d.reported.is_some())
            })
            && projection
                .devices
                .get("ha-odd-door")
                .is_some_and(|d| d.data_error.is_some());
        ready.then_some(projection)
    });
    let door = &seen.devices["b3-back-door"];
    assert_eq!(door.spec.kind, DeviceKind::Door, "{door:?}");
    assert_eq!(door.spec.name, "3号楼后门");
    assert_eq!(door.spec.building, "3号楼");
    assert_eq!(door.spec.gateway.as_deref(), Some(GATEWAY));
    let reported = door.reported.as_ref().unwrap();
    assert_eq!(
        reported.state,
        ReportedState::Closed,
        "contact true is closed"
    );
    assert_eq!(reported.battery, Some(64), "battery joined the door");
    assert_eq!(door.availability, guardroom::domain::Availability::Online);
    let smoke = &seen.devices["ha-kitchen-smoke"];
    assert_eq!(smoke.spec.class, Some(DetectorClass::Smoke));
    assert_eq!(smoke.spec.zone, "Kitchen");
    let odd = seen.devices["ha-odd-door"].data_error.as_ref().unwrap();
    assert!(odd.reason.contains("value_json.a if"), "{odd:?}");
    assert!(
        !seen.devices.contains_key("ha-0xd00r-battery"),
        "the battery is no device of its own"
    );
    assert_eq!(
        seen.gateways.get(GATEWAY).map(|g| g.availability),
        Some(guardroom::domain::Availability::Online)
    );

    let status = home.status_json(&database);
    assert_eq!(status["link"]["state"], "online");
    assert_eq!(status_of(&status, &["devices", "total"]), 4);
    assert_eq!(
        status_of(&status, &["devices", "by_kind", "door", "total"]),
        1
    );
    assert_eq!(
        status_of(&status, &["devices", "by_status", "data_error"]),
        1
    );
    assert_eq!(status_of(&status, &["alarms", "open"]), 0, "{status}");

    // Live changes: the smoke detector alarms, the panel is triggered.
    publisher.publish("home/kitchen/smoke/state", "ON", true);
    publisher.publish("alarm/block3/state", "triggered", true);
    publisher.flush();
    let alarms = wait_for("fire and panel alarms", DEADLINE, || {
        serve.assert_running();
        let projection = projection(&database)?;
        let open: Vec<(String, String)> = projection
            .alarms
            .open
            .values()
            .map(|alarm| (alarm.source.clone(), alarm.condition.as_str().to_owned()))
            .collect();
        (open.len() >= 2).then_some(open)
    });
    assert!(
        alarms.contains(&("ha-kitchen-smoke".into(), "fire".into())),
        "{alarms:?}"
    );
    assert!(
        alarms.contains(&("ext:ha-block3-panel".into(), "external".into())),
        "{alarms:?}"
    );
    let status = home.status_json(&database);
    assert_eq!(status_of(&status, &["alarms", "open"]), 2, "{status}");
    assert_eq!(status_of(&status, &["alarms", "by_priority", "P1"]), 1);
    assert_eq!(status_of(&status, &["alarms", "by_priority", "P2"]), 1);

    // Restart serve. The smoke clears while it is down: the broker queues
    // that message for the session and hands it over before the discovery
    // configs that name its topic come again. The retained states come
    // again too, and raise nothing new.
    let stopped = serve.terminate();
    assert!(stopped.success(), "serve exited with {stopped}");
    let alarm_count = projection(&database).unwrap().alarms.next_id();
    publisher.publish("home/kitchen/smoke/state", "OFF", true);
    publisher.flush();
    let mut serve = home.serve(&config, &database);
    let after = wait_for("the smoke cleared while serve was down", DEADLINE, || {
        serve.assert_running();
        let projection = projection(&database)?;
        let smoke = projection.devices.get("ha-kitchen-smoke")?;
        (smoke.reported.as_ref()?.state == ReportedState::Normal).then_some(projection)
    });
    let fire = after
        .alarms
        .open
        .values()
        .find(|alarm| alarm.source == "ha-kitchen-smoke")
        .expect("the fire alarm stays open until it is closed");
    assert!(!fire.active, "the fire alarm is cleared: {fire:?}");
    // Retained states settle a second after they arrive.
    std::thread::sleep(Duration::from_secs(4));
    serve.assert_running();
    let after = projection(&database).unwrap();
    assert_eq!(
        after.alarms.next_id(),
        alarm_count,
        "no new alarm after the restart"
    );
    assert_eq!(after.alarms.open.len(), 2, "both alarms still open");
    assert!(
        after
            .alarms
            .open
            .values()
            .any(|alarm| alarm.source == "ext:ha-block3-panel" && alarm.active),
        "the panel is still triggered"
    );

    // Disarming closes the panel's alarm at its source.
    publisher.publish("alarm/block3/state", "disarmed", true);
    publisher.flush();
    wait_for("panel alarm closed", DEADLINE, || {
        serve.assert_running();
        let projection = projection(&database)?;
        let open: Vec<String> = projection
            .alarms
            .open
            .values()
            .map(|alarm| alarm.source.clone())
            .collect();
        (!open.contains(&"ext:ha-block3-panel".to_owned())).then_some(())
    });
    let panel = &projection(&database).unwrap().devices["ha-block3-panel"];
    let events: Vec<&str> = panel
        .recent
        .iter()
        .filter(|recent| recent.what == "event")
        .map(|recent| recent.detail.as_str())
        .collect();
    assert_eq!(events, ["triggered", "disarmed"], "{:?}", panel.recent);

    // Home Assistant's last will: the devices it described are shown
    // offline. The device known only from its config error has no gateway.
    publisher.publish("homeassistant/status", "offline", true);
    publisher.flush();
    home.wait_for_status("gateway offline", &database, &mut serve, |status| {
        status_of(status, &["devices", "by_status", "offline"]) == 3
    });
    drop(publisher);
    let stopped = serve.terminate();
    assert!(stopped.success(), "serve exited with {stopped}");
}

#[test]
fn example_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/adapter-home-assistant.toml");
    let config = guardroom::config::load(&path, guardroom::i18n::Lang::En)
        .unwrap_or_else(|error| panic!("{}: {error:?}", path.display()));
    let ha = &config.adapters.home_assistant;
    assert!(ha.enabled);
    assert_eq!(ha.base_topic, "homeassistant");
    assert_eq!(ha.gateway, GATEWAY);
    assert!(!ha.devices.is_empty(), "the example shows mappings");
    assert!(home_assistant::build(ha).is_some());

    let home = Home::new();
    let output = home.run(&["check-config", "--config", path.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "check-config rejected the example: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn bad_adapter_keys_are_listed() {
    let home = Home::new();
    let path = home.path().join("bad.toml");
    std::fs::write(
        &path,
        "[adapters.home_assistant]\nenabled = true\ngateway = \"home assistant\"\n\
         ignore_topics = [\"zigbee2mqtt/#\"]\n",
    )
    .unwrap();
    let output = home.run(&["check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("adapters.home_assistant.gateway:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("adapters.home_assistant.ignore_topics[0]:"),
        "{stderr}"
    );
}
