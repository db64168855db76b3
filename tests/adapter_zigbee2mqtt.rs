//! The Zigbee2MQTT adapter: payloads decoded through `build` and `handle`,
//! the adapter on a real mosquitto under `guardroom serve`, and the example
//! configuration.

mod support;

use std::path::Path;

use guardroom::config::load_str;
use guardroom::domain::Projection;
use guardroom::domain::alarm::{Condition, Priority};
use guardroom::domain::device::{Availability, DetectorClass, DeviceKind, Reported, ReportedState};
use guardroom::domain::observation::{Observation, SelfDescription};
use guardroom::i18n::Lang;
use guardroom::ingest::adapters::zigbee2mqtt::{self, Config};
use guardroom::ingest::adapters::{Adapter, DeviceMapping, Mappings, Message};
use jiff::Timestamp;
use serde_json::{Value, json};
use support::{
    Broker, DEADLINE, Home, Publisher, config_toml, projection, unique_client_id, wait_for,
};

const LOBBY_IEEE: &str = "0x00158d0000000101";
const LEAK_IEEE: &str = "0x00158d0000a1b2c3";
const SMOKE_IEEE: &str = "0x00158d0000000103";
const GAS_IEEE: &str = "0x00158d0000000104";
const MOTION_IEEE: &str = "0x00158d0000000105";
const SAFE_IEEE: &str = "0x00158d0000000106";
const SOS_IEEE: &str = "0x00158d0000000107";
const COVER_IEEE: &str = "0x00158d0000000108";
const BULB_IEEE: &str = "0x00178801000000a1";
const STAIR_IEEE: &str = "0x00158d000000010a";
const REMOTE_IEEE: &str = "0x000b57fffe0000b1";

fn binary(name: &str, on: Value, off: Value) -> Value {
    json!({"type": "binary", "name": name, "property": name, "access": 1,
           "value_on": on, "value_off": off})
}

fn alarm_flag(name: &str) -> Value {
    binary(name, json!(true), json!(false))
}

fn contact() -> Value {
    binary("contact", json!(false), json!(true))
}

fn battery() -> Value {
    json!({"type": "numeric", "name": "battery", "property": "battery", "access": 1,
           "unit": "%", "value_min": 0, "value_max": 100})
}

fn linkquality() -> Value {
    json!({"type": "numeric", "name": "linkquality", "property": "linkquality",
           "access": 1, "value_min": 0, "value_max": 255})
}

fn entry(ieee: &str, name: &str, kind: &str, exposes: Vec<Value>) -> Value {
    json!({"ieee_address": ieee, "friendly_name": name, "type": kind,
           "network_address": 4242, "supported": true, "disabled": false,
           "interview_completed": true,
           "definition": {"model": "TEST-1", "vendor": "Invented", "description": "test device",
                          "exposes": exposes, "options": []}})
}

/// Builds the device list of the test network. `lobby` and `motion` are the
/// friendly names of two devices that the rename case changes.
fn device_list(lobby: &str, motion: &str) -> String {
    let devices = json!([
        {"ieee_address": "0x00124b0000000001", "friendly_name": "Coordinator",
         "type": "Coordinator", "definition": null},
        entry(LOBBY_IEEE, lobby, "EndDevice",
              vec![contact(), alarm_flag("tamper"), alarm_flag("battery_low"), battery(), linkquality()]),
        entry(LEAK_IEEE, "Boiler room/leak", "EndDevice",
              vec![alarm_flag("water_leak"), battery(), linkquality()]),
        entry(SMOKE_IEEE, "Kitchen smoke", "EndDevice",
              vec![alarm_flag("smoke"), alarm_flag("carbon_monoxide"), alarm_flag("tamper"),
                   alarm_flag("battery_low"), linkquality()]),
        entry(GAS_IEEE, "Garage gas", "Router", vec![alarm_flag("gas"), linkquality()]),
        entry(MOTION_IEEE, motion, "EndDevice",
              vec![alarm_flag("occupancy"), alarm_flag("tamper"), battery(), linkquality()]),
        entry(SAFE_IEEE, "Safe vibration", "EndDevice",
              vec![alarm_flag("vibration"), battery(), linkquality()]),
        entry(SOS_IEEE, "Guard booth/SOS", "EndDevice",
              vec![json!({"type": "enum", "name": "action", "property": "action", "access": 1,
                          "values": ["emergency", "single"]}), battery(), linkquality()]),
        entry(COVER_IEEE, "Meter cover", "EndDevice", vec![alarm_flag("tamper"), linkquality()]),
        entry(BULB_IEEE, "Floor1", "Router",
              vec![json!({"type": "light", "features": [
                  {"type": "binary", "name": "state", "property": "state", "access": 7,
                   "value_on": "ON", "value_off": "OFF"},
                  {"type": "numeric", "name": "brightness", "property": "brightness", "access": 7}]}),
                   linkquality()]),
        entry(STAIR_IEEE, "Floor1/door", "EndDevice", vec![contact(), battery(), linkquality()]),
        entry(REMOTE_IEEE, "Remote", "EndDevice",
              vec![json!({"type": "enum", "name": "action", "property": "action", "access": 1,
                          "values": ["on", "off", "emergency_off"]}), battery()]),
    ]);
    devices.to_string()
}

/// Mappings of the table test: the lobby door by friendly name, the boiler
/// room leak by IEEE address, the SOS button with a name only.
fn mappings() -> Mappings {
    let mut mappings = Mappings::new();
    mappings.insert(
        "Lobby door".into(),
        DeviceMapping {
            id: Some("b1-lobby-door".into()),
            name: Some("1号楼大堂门磁".into()),
            building: Some("1号楼".into()),
            zone: Some("大堂".into()),
            priority: None,
            interval_s: None,
        },
    );
    mappings.insert(
        LEAK_IEEE.into(),
        DeviceMapping {
            id: Some("b2-boiler-leak".into()),
            name: Some("2号楼锅炉房水浸".into()),
            building: Some("2号楼".into()),
            zone: Some("锅炉房".into()),
            priority: Some("P1".into()),
            interval_s: None,
        },
    );
    mappings.insert(
        "Guard booth/SOS".into(),
        DeviceMapping {
            name: Some("南门岗亭紧急按钮".into()),
            ..DeviceMapping::default()
        },
    );
    mappings
}

fn config_with(mappings: Mappings) -> Config {
    Config {
        enabled: true,
        base_topic: "zigbee2mqtt".into(),
        devices: mappings,
        ignore: Vec::new(),
        interval_s: None,
    }
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_796_385_600 + seconds).unwrap()
}

fn describes(
    kind: DeviceKind,
    class: Option<DetectorClass>,
    name: &str,
    place: Option<(&str, &str)>,
) -> SelfDescription {
    SelfDescription {
        kind: Some(kind),
        class,
        name: Some(name.into()),
        building: place.map(|(building, _)| building.into()),
        zone: place.map(|(_, zone)| zone.into()),
        gateway: Some("z2m-bridge".into()),
        interval_s: None,
    }
}

fn lobby() -> SelfDescription {
    describes(
        DeviceKind::Door,
        None,
        "1号楼大堂门磁",
        Some(("1号楼", "大堂")),
    )
}

fn leak() -> SelfDescription {
    describes(
        DeviceKind::Detector,
        Some(DetectorClass::WaterLeak),
        "2号楼锅炉房水浸",
        Some(("2号楼", "锅炉房")),
    )
}

fn smoke() -> SelfDescription {
    describes(
        DeviceKind::Detector,
        Some(DetectorClass::Smoke),
        "Kitchen smoke",
        None,
    )
}

fn motion(name: &str) -> SelfDescription {
    describes(DeviceKind::Detector, Some(DetectorClass::Pir), name, None)
}

fn sos() -> SelfDescription {
    describes(
        DeviceKind::Detector,
        Some(DetectorClass::PanicButton),
        "南门岗亭紧急按钮",
        None,
    )
}

fn report(state: ReportedState) -> Reported {
    Reported::new(state)
}

/// Builds the state observation of a live message received at `at(seconds)`.
fn live(device: &str, describes: SelfDescription, reported: Reported, seconds: i64) -> Observation {
    Observation::State {
        device: device.into(),
        describes,
        reported,
        retained: false,
        seen_at: Some(at(seconds)),
    }
}

fn event(
    device: &str,
    event: &str,
    text: Option<&str>,
    event_ms: i64,
    source_ts: Option<Timestamp>,
) -> Observation {
    Observation::DeviceEvent {
        device: device.into(),
        event_id: format!("{event}-{event_ms}"),
        event: event.into(),
        text: text.map(str::to_owned),
        source_ts,
    }
}

fn availability(device: &str, online: bool, retained: bool) -> Observation {
    Observation::Availability {
        device: device.into(),
        online,
        retained,
    }
}

/// Returns the `device` and `code` of a data error, or a description of the
/// observations found instead.
fn error_of(observations: &[Observation]) -> Result<(Option<String>, String), String> {
    match observations {
        [Observation::DataError { device, code, .. }] => Ok((device.clone(), code.clone())),
        other => Err(format!("{other:?}")),
    }
}

/// One message of the table and what it must decode to.
struct Row {
    case: &'static str,
    topic: String,
    payload: Vec<u8>,
    retained: bool,
    expected: Expect,
}

enum Expect {
    Observations(Vec<Observation>),
    /// A data error with this code, naming this device.
    Error(Option<&'static str>, &'static str),
}

fn row(
    case: &'static str,
    tail: &str,
    payload: impl Into<Vec<u8>>,
    retained: bool,
    expected: Vec<Observation>,
) -> Row {
    Row {
        case,
        topic: format!("zigbee2mqtt/{tail}"),
        payload: payload.into(),
        retained,
        expected: Expect::Observations(expected),
    }
}

fn bad_row(
    case: &'static str,
    tail: &str,
    payload: impl Into<Vec<u8>>,
    device: Option<&'static str>,
    code: &'static str,
) -> Row {
    Row {
        case,
        topic: format!("zigbee2mqtt/{tail}"),
        payload: payload.into(),
        retained: false,
        expected: Expect::Error(device, code),
    }
}

#[test]
fn payload_table_decodes() {
    let mut adapter = zigbee2mqtt::build(&config_with(mappings())).expect("the adapter is enabled");
    assert_eq!(adapter.subscriptions(), ["zigbee2mqtt/#"]);

    let last_seen: Timestamp = "2026-12-04T20:00:30.250+08:00".parse().unwrap();
    let oversized = format!(r#"{{"contact":true,"pad":"{}"}}"#, "x".repeat(70 * 1024));
    let old_motion = motion("Hall motion");
    let new_motion = motion("Hall motion 2");
    let gas = describes(
        DeviceKind::Detector,
        Some(DetectorClass::Gas),
        "Garage gas",
        None,
    );

    let rows = vec![
        // The bridge, plain and JSON.
        row("bridge online, plain", "bridge/state", "online", true,
            vec![Observation::GatewayAvailability { gateway: "z2m-bridge".into(), online: true, retained: true }]),
        row("bridge offline, JSON", "bridge/state", r#"{"state":"offline"}"#, false,
            vec![Observation::GatewayAvailability { gateway: "z2m-bridge".into(), online: false, retained: false }]),
        // Before the device list, device messages wait for it.
        row("state before the device list is held", "Lobby door",
            r#"{"contact":true,"battery":90,"linkquality":120}"#, true, vec![]),
        row("availability before the device list is held", "Lobby door/availability", "online", true, vec![]),
        row("device list replays what was held, state first", "bridge/devices",
            device_list("Lobby door", "Hall motion"), true,
            vec![
                Observation::State {
                    device: "b1-lobby-door".into(),
                    describes: lobby(),
                    reported: Reported { battery: Some(90), signal: Some(-62), ..report(ReportedState::Closed) },
                    retained: true,
                    seen_at: None,
                },
                availability("b1-lobby-door", true, true),
            ]),
        // Door contact: false means open.
        row("door contact false is open", "Lobby door",
            r#"{"contact":false,"tamper":false,"battery":90,"linkquality":120}"#, false,
            vec![live("b1-lobby-door", lobby(),
                      Reported { battery: Some(90), signal: Some(-62), ..report(ReportedState::Open) }, 0)]),
        row("door contact true is closed", "Lobby door",
            r#"{"contact":true,"tamper":false,"battery":90,"linkquality":120}"#, false,
            vec![live("b1-lobby-door", lobby(),
                      Reported { battery: Some(90), signal: Some(-62), ..report(ReportedState::Closed) }, 0)]),
        row("door tamper turning true raises tamper", "Lobby door",
            r#"{"contact":true,"tamper":true,"battery":90,"linkquality":120}"#, false,
            vec![
                live("b1-lobby-door", lobby(),
                     Reported { battery: Some(90), signal: Some(-62), ..report(ReportedState::Closed) }, 0),
                event("b1-lobby-door", "tamper", None, at(0).as_millisecond(), None),
            ]),
        row("door tamper still true raises nothing more", "Lobby door",
            r#"{"contact":true,"tamper":true,"battery":90,"linkquality":120}"#, false,
            vec![live("b1-lobby-door", lobby(),
                      Reported { battery: Some(90), signal: Some(-62), ..report(ReportedState::Closed) }, 0)]),
        row("door battery_low flag", "Lobby door",
            r#"{"contact":true,"tamper":false,"battery_low":true,"battery":90,"linkquality":255}"#, false,
            vec![live("b1-lobby-door", lobby(),
                      Reported { battery: Some(90), battery_low: true, signal: Some(-20),
                                 ..report(ReportedState::Closed) }, 0)]),
        // Detectors.
        row("leak true is alarm, mapped by IEEE address", "Boiler room/leak",
            r#"{"water_leak":true,"battery":80,"linkquality":0}"#, false,
            vec![live("b2-boiler-leak", leak(),
                      Reported { battery: Some(80), signal: Some(-100), ..report(ReportedState::Alarm) }, 0)]),
        row("leak false is normal, battery kept from before", "Boiler room/leak",
            r#"{"water_leak":false}"#, false,
            vec![live("b2-boiler-leak", leak(),
                      Reported { battery: Some(80), signal: Some(-100), ..report(ReportedState::Normal) }, 0)]),
        row("smoke true is alarm", "Kitchen smoke", r#"{"smoke":true,"tamper":false}"#, false,
            vec![live("z2m-kitchen-smoke", smoke(), report(ReportedState::Alarm), 0)]),
        row("smoke false with tamper is tamper", "Kitchen smoke", r#"{"smoke":false,"tamper":true}"#, false,
            vec![live("z2m-kitchen-smoke", smoke(), report(ReportedState::Tamper), 0)]),
        row("carbon monoxide on a smoke detector raises gas", "Kitchen smoke",
            r#"{"smoke":false,"carbon_monoxide":true,"tamper":false}"#, false,
            vec![
                live("z2m-kitchen-smoke", smoke(), report(ReportedState::Normal), 0),
                event("z2m-kitchen-smoke", "gas", None, at(0).as_millisecond(), None),
            ]),
        row("gas true is alarm", "Garage gas", r#"{"gas":true}"#, false,
            vec![live("z2m-garage-gas", gas.clone(), report(ReportedState::Alarm), 0)]),
        row("gas false is normal", "Garage gas", r#"{"gas":false}"#, false,
            vec![live("z2m-garage-gas", gas, report(ReportedState::Normal), 0)]),
        row("occupancy true is alarm", "Hall motion", r#"{"occupancy":true,"tamper":false}"#, false,
            vec![live("z2m-hall-motion", old_motion.clone(), report(ReportedState::Alarm), 0)]),
        row("low battery percentage is battery low", "Hall motion",
            r#"{"occupancy":false,"tamper":false,"battery":12}"#, false,
            vec![live("z2m-hall-motion", old_motion.clone(),
                      Reported { battery: Some(12), battery_low: true, ..report(ReportedState::Normal) }, 0)]),
        row("vibration true is alarm", "Safe vibration", r#"{"vibration":true,"battery":100}"#, false,
            vec![live("z2m-safe-vibration",
                      describes(DeviceKind::Detector, Some(DetectorClass::GlassBreak), "Safe vibration", None),
                      Reported { battery: Some(100), ..report(ReportedState::Alarm) }, 0)]),
        row("tamper-only device is a detector", "Meter cover", r#"{"tamper":true,"linkquality":255}"#, false,
            vec![live("z2m-meter-cover", describes(DeviceKind::Detector, None, "Meter cover", None),
                      Reported { signal: Some(-20), ..report(ReportedState::Tamper) }, 0)]),
        // Panic buttons.
        row("action emergency raises panic", "Guard booth/SOS", r#"{"action":"emergency","battery":95}"#, false,
            vec![
                live("z2m-guard-booth-sos", sos(), Reported { battery: Some(95), ..report(ReportedState::Normal) }, 0),
                event("z2m-guard-booth-sos", "panic", Some("emergency"), at(0).as_millisecond(), None),
            ]),
        row("other action raises nothing", "Guard booth/SOS", r#"{"action":"single","battery":95}"#, false,
            vec![live("z2m-guard-booth-sos", sos(), Reported { battery: Some(95), ..report(ReportedState::Normal) }, 0)]),
        row("retained action raises nothing", "Guard booth/SOS", r#"{"action":"sos","battery":95}"#, true,
            vec![Observation::State {
                device: "z2m-guard-booth-sos".into(),
                describes: sos(),
                reported: Reported { battery: Some(95), ..report(ReportedState::Normal) },
                retained: true,
                seen_at: None,
            }]),
        row("action sos with last_seen takes its time", "Guard booth/SOS",
            r#"{"action":"sos","battery":95,"last_seen":"2026-12-04T20:00:30.250+08:00"}"#, false,
            vec![
                live("z2m-guard-booth-sos", sos(), Reported { battery: Some(95), ..report(ReportedState::Normal) }, 0),
                event("z2m-guard-booth-sos", "panic", Some("sos"), last_seen.as_millisecond(), Some(last_seen)),
            ]),
        row("retained state keeps its last_seen", "Kitchen smoke",
            r#"{"smoke":false,"tamper":false,"last_seen":1796385590000}"#, true,
            vec![Observation::State {
                device: "z2m-kitchen-smoke".into(),
                describes: smoke(),
                reported: report(ReportedState::Normal),
                retained: true,
                seen_at: Some(at(-10)),
            }]),
        // Availability, plain and JSON.
        row("availability plain offline", "Lobby door/availability", "offline", true,
            vec![availability("b1-lobby-door", false, true)]),
        row("availability JSON online", "Lobby door/availability", r#"{"state":"online"}"#, false,
            vec![availability("b1-lobby-door", true, false)]),
        // Routing.
        row("friendly name with a slash", "Floor1/door", r#"{"contact":false,"battery":70}"#, false,
            vec![live("z2m-floor1-door", describes(DeviceKind::Door, None, "Floor1/door", None),
                      Reported { battery: Some(70), ..report(ReportedState::Open) }, 0)]),
        row("light is not watched", "Floor1", r#"{"state":"ON","brightness":200}"#, false, vec![]),
        row("set topic ignored", "Floor1/door/set", r#"{"contact":true}"#, false, vec![]),
        row("get topic ignored", "Lobby door/get", r#"{"contact":""}"#, false, vec![]),
        row("bridge info ignored", "bridge/info", r#"{"version":"2.1.0"}"#, true, vec![]),
        row("bridge logging ignored", "bridge/logging", r#"{"level":"info","message":"x"}"#, false, vec![]),
        row("remote without panic values ignored", "Remote", r#"{"action":"emergency_off"}"#, false, vec![]),
        row("unknown device or group ignored", "Nobody/here", r#"{"contact":false}"#, false, vec![]),
        row("cleared retained state ignored", "Lobby door", "", true, vec![]),
        // Malformed payloads.
        bad_row("not JSON", "Lobby door", "contact=false", Some("b1-lobby-door"), "invalid_json"),
        bad_row("JSON array", "Lobby door", "[1,2]", Some("b1-lobby-door"), "not_an_object"),
        bad_row("contact of the wrong type", "Lobby door", r#"{"contact":"open"}"#, Some("b1-lobby-door"), "bad_field"),
        bad_row("battery of the wrong type", "Lobby door", r#"{"contact":true,"battery":"full"}"#,
                Some("b1-lobby-door"), "bad_field"),
        bad_row("battery out of range", "Boiler room/leak", r#"{"water_leak":false,"battery":180}"#,
                Some("b2-boiler-leak"), "bad_field"),
        bad_row("linkquality of the wrong type", "Kitchen smoke", r#"{"smoke":false,"linkquality":"good"}"#,
                Some("z2m-kitchen-smoke"), "bad_field"),
        bad_row("action of the wrong type", "Guard booth/SOS", r#"{"action":7}"#,
                Some("z2m-guard-booth-sos"), "bad_field"),
        bad_row("oversized", "Lobby door", oversized, Some("b1-lobby-door"), "oversized"),
        bad_row("not UTF-8", "Lobby door", vec![0xff, 0xfe, 0x7b], Some("b1-lobby-door"), "not_utf8"),
        bad_row("availability word unknown", "Lobby door/availability", "maybe", Some("b1-lobby-door"), "bad_field"),
        bad_row("device list not an array", "bridge/devices", r#"{"devices":[]}"#, None, "bad_field"),
        bad_row("device list not JSON", "bridge/devices", "[{", None, "invalid_json"),
        bad_row("bridge state word unknown", "bridge/state", "sleeping", None, "bad_field"),
        bad_row("bridge event not JSON", "bridge/event", "{", None, "invalid_json"),
        // The last good values survive the bad payloads.
        row("last good state kept", "Lobby door", r#"{"linkquality":255}"#, false,
            vec![live("b1-lobby-door", lobby(),
                      Reported { battery: Some(90), battery_low: true, signal: Some(-20),
                                 ..report(ReportedState::Closed) }, 0)]),
        // Renames: the lobby door keeps its mapped id, the motion sensor
        // its derived id and gets its new name.
        row("rename describes the renamed device again", "bridge/devices",
            device_list("Lobby door east", "Hall motion 2"), true,
            vec![Observation::State {
                device: "z2m-hall-motion".into(),
                describes: new_motion.clone(),
                reported: Reported { battery: Some(12), battery_low: true, ..report(ReportedState::Normal) },
                retained: true,
                seen_at: None,
            }]),
        row("renamed door keeps its id and mapping", "Lobby door east",
            r#"{"contact":false,"battery":90}"#, false,
            vec![live("b1-lobby-door", lobby(),
                      Reported { battery: Some(90), battery_low: true, signal: Some(-20),
                                 ..report(ReportedState::Open) }, 0)]),
        row("old name no longer routes", "Lobby door", r#"{"contact":true}"#, false, vec![]),
        row("renamed motion sensor keeps its id", "Hall motion 2", r#"{"occupancy":true}"#, false,
            vec![live("z2m-hall-motion", new_motion,
                      Reported { battery: Some(12), battery_low: true, ..report(ReportedState::Alarm) }, 0)]),
        // Bridge events.
        row("device_leave is recorded", "bridge/event",
            json!({"type": "device_leave", "data": {"ieee_address": LEAK_IEEE, "friendly_name": "Boiler room/leak"}})
                .to_string(), false,
            vec![event("b2-boiler-leak", "left_network", None, at(0).as_millisecond(), None)]),
        row("retained bridge event ignored", "bridge/event",
            json!({"type": "device_leave", "data": {"ieee_address": LEAK_IEEE}}).to_string(), true, vec![]),
        row("other bridge event ignored", "bridge/event",
            json!({"type": "device_joined", "data": {"ieee_address": "0x00158d00000000ff", "friendly_name": "0x00158d00000000ff"}})
                .to_string(), false, vec![]),
    ];

    for row in rows {
        let message = Message {
            topic: &row.topic,
            payload: &row.payload,
            retained: row.retained,
            received: at(0),
        };
        let observations = adapter
            .handle(&message)
            .unwrap_or_else(|| panic!("{}: the adapter does not own {}", row.case, row.topic));
        match row.expected {
            Expect::Observations(expected) => {
                assert_eq!(observations, expected, "{}", row.case);
            }
            Expect::Error(device, code) => {
                let found = error_of(&observations);
                assert_eq!(
                    found,
                    Ok((device.map(str::to_owned), code.to_owned())),
                    "{}",
                    row.case
                );
            }
        }
    }
}

#[test]
fn other_base_topics_not_owned() {
    let mut adapter = zigbee2mqtt::build(&config_with(Mappings::new())).unwrap();
    let message = Message {
        topic: "zigbee2mqtt_other/bridge/state",
        payload: b"online",
        retained: true,
        received: at(0),
    };
    assert_eq!(
        adapter.handle(&message),
        None,
        "a similar base topic is not ours"
    );
    let native = Message {
        topic: "gr/v1/site/dev/x/state",
        ..message
    };
    assert_eq!(adapter.handle(&native), None, "native topics are not ours");
}

#[test]
fn disabled_builds_nothing() {
    let config = Config {
        enabled: false,
        ..config_with(mappings())
    };
    assert!(zigbee2mqtt::build(&config).is_none());
}

#[test]
fn other_base_topic_gateway() {
    let config = Config {
        base_topic: "site2/zigbee".into(),
        ..config_with(Mappings::new())
    };
    let mut adapter = zigbee2mqtt::build(&config).unwrap();
    assert_eq!(adapter.subscriptions(), ["site2/zigbee/#"]);
    let message = Message {
        topic: "site2/zigbee/bridge/state",
        payload: br#"{"state":"online"}"#,
        retained: true,
        received: at(0),
    };
    assert_eq!(
        adapter.handle(&message),
        Some(vec![Observation::GatewayAvailability {
            gateway: "z2m-bridge-site2-zigbee".into(),
            online: true,
            retained: true,
        }])
    );
}

#[test]
fn colliding_names_get_distinct_ids() {
    let mut adapter = zigbee2mqtt::build(&config_with(Mappings::new())).unwrap();
    let list = json!([
        entry("0x00158d0000000201", "Door 1", "EndDevice", vec![contact()]),
        entry("0x00158d0000000202", "door-1", "EndDevice", vec![contact()]),
    ])
    .to_string();
    let devices = Message {
        topic: "zigbee2mqtt/bridge/devices",
        payload: list.as_bytes(),
        retained: true,
        received: at(0),
    };
    assert_eq!(adapter.handle(&devices), Some(vec![]));
    let ids: Vec<String> = ["Door 1", "door-1"]
        .iter()
        .map(|name| {
            let topic = format!("zigbee2mqtt/{name}");
            let message = Message {
                topic: &topic,
                payload: br#"{"contact":true}"#,
                ..devices
            };
            let observations = adapter.handle(&message).unwrap();
            observations[0].device().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids[0], "z2m-door-1", "the first keeps the derived id");
    assert_eq!(
        ids[1], "z2m-door-1-0202",
        "the second gets its address appended"
    );
}

#[test]
fn rename_to_mapped_name_takes_mapping() {
    let mut mapped = Mappings::new();
    mapped.insert(
        "Hall motion 2".into(),
        DeviceMapping {
            id: Some("b3-hall-pir".into()),
            name: Some("3号楼走廊红外".into()),
            ..DeviceMapping::default()
        },
    );
    let mut adapter = zigbee2mqtt::build(&config_with(mapped)).unwrap();
    send_live(
        &mut adapter,
        "bridge/devices",
        &device_list("Lobby door", "Hall motion"),
    );
    let before = send_live(&mut adapter, "Hall motion", r#"{"occupancy":false}"#);
    assert_eq!(before[0].device(), Some("z2m-hall-motion"));

    let renamed = send_live(
        &mut adapter,
        "bridge/devices",
        &device_list("Lobby door", "Hall motion 2"),
    );
    assert_eq!(
        renamed,
        vec![Observation::State {
            device: "b3-hall-pir".into(),
            describes: describes(
                DeviceKind::Detector,
                Some(DetectorClass::Pir),
                "3号楼走廊红外",
                None
            ),
            reported: report(ReportedState::Normal),
            retained: true,
            seen_at: None,
        }],
        "the mapping of the new name gives the id, described at once"
    );
    let after = send_live(&mut adapter, "Hall motion 2", r#"{"occupancy":true}"#);
    assert_eq!(after[0].device(), Some("b3-hall-pir"));
}

#[test]
fn ignored_devices_left_out() {
    let mut upper = Mappings::new();
    upper.insert(
        LEAK_IEEE.to_ascii_uppercase().replace("0X", "0x"),
        DeviceMapping {
            id: Some("b2-boiler-leak".into()),
            ..DeviceMapping::default()
        },
    );
    let config = Config {
        ignore: vec![
            "Hall motion".into(),
            SAFE_IEEE.to_ascii_uppercase().replace("0X", "0x"),
        ],
        ..config_with(upper)
    };
    let mut adapter = zigbee2mqtt::build(&config).unwrap();
    let mut send = |tail: &str, payload: &str| send_live(&mut adapter, tail, payload);
    send("bridge/devices", &device_list("Lobby door", "Hall motion"));
    assert_eq!(
        send("Hall motion", r#"{"occupancy":true}"#),
        vec![],
        "ignored by friendly name"
    );
    assert_eq!(
        send("Safe vibration", r#"{"vibration":true}"#),
        vec![],
        "ignored by IEEE address"
    );
    let leak = send("Boiler room/leak", r#"{"water_leak":true}"#);
    assert_eq!(
        leak.first().and_then(Observation::device),
        Some("b2-boiler-leak"),
        "an IEEE key in capitals still maps"
    );
}

/// Hands the adapter a live message on `zigbee2mqtt/<tail>` at `at(0)` and
/// returns what it made of it.
fn send_live(adapter: &mut Box<dyn Adapter>, tail: &str, payload: &str) -> Vec<Observation> {
    let topic = format!("zigbee2mqtt/{tail}");
    adapter
        .handle(&Message {
            topic: &topic,
            payload: payload.as_bytes(),
            retained: false,
            received: at(0),
        })
        .expect("the adapter owns its base topic")
}

/// Returns the interval each state report in `observations` describes, by device.
fn described_intervals(observations: &[Observation]) -> Vec<(String, Option<u32>)> {
    observations
        .iter()
        .filter_map(|observation| match observation {
            Observation::State {
                device, describes, ..
            } => Some((device.clone(), describes.interval_s)),
            _ => None,
        })
        .collect()
}

#[test]
fn intervals_from_mapping_and_adapter() {
    let mut mappings = mappings();
    mappings
        .get_mut(LEAK_IEEE)
        .expect("the leak is mapped")
        .interval_s = Some(7_200);
    let mut config = config_with(mappings);
    config.interval_s = Some(3_600);
    let mut adapter = zigbee2mqtt::build(&config).expect("the adapter is enabled");
    let mut send = |tail: &str, payload: &str| send_live(&mut adapter, tail, payload);
    send("bridge/devices", &device_list("Lobby door", "Hall motion"));

    let leak = send("Boiler room/leak", r#"{"water_leak":false}"#);
    assert_eq!(
        described_intervals(&leak),
        [("b2-boiler-leak".to_owned(), Some(7_200))],
        "the mapping's interval wins"
    );
    let door = send("Lobby door", r#"{"contact":true}"#);
    assert_eq!(
        described_intervals(&door),
        [("b1-lobby-door".to_owned(), Some(3_600))],
        "a mapping without an interval takes the adapter's"
    );
    let smoke = send("Kitchen smoke", r#"{"smoke":false}"#);
    assert_eq!(
        described_intervals(&smoke),
        [("z2m-kitchen-smoke".to_owned(), Some(3_600))],
        "an unmapped device takes the adapter's"
    );

    let mut plain = zigbee2mqtt::build(&config_with(Mappings::new())).unwrap();
    let list = device_list("Lobby door", "Hall motion");
    for (tail, payload) in [
        ("bridge/devices", list.as_str()),
        ("Kitchen smoke", r#"{"smoke":false}"#),
    ] {
        let out = send_live(&mut plain, tail, payload);
        for (device, interval_s) in described_intervals(&out) {
            assert_eq!(
                interval_s, None,
                "{device}: without any interval the console's default applies"
            );
        }
    }
}

#[test]
fn held_messages_bounded() {
    let mut adapter = zigbee2mqtt::build(&config_with(Mappings::new())).unwrap();
    // Far more state messages than are held before the device list.
    for index in 0..5_000 {
        let payload = format!(r#"{{"contact":{}}}"#, index % 2 == 0);
        let held = adapter.handle(&Message {
            topic: "zigbee2mqtt/Floor1/door",
            payload: payload.as_bytes(),
            retained: false,
            received: at(index),
        });
        assert_eq!(held, Some(vec![]), "message {index} is held");
    }
    let list = device_list("Lobby door", "Hall motion");
    let replayed = adapter
        .handle(&Message {
            topic: "zigbee2mqtt/bridge/devices",
            payload: list.as_bytes(),
            retained: true,
            received: at(5_000),
        })
        .unwrap();
    assert_eq!(replayed.len(), 4_096, "only the newest messages are kept");
    let Some(Observation::State {
        seen_at, reported, ..
    }) = replayed.last()
    else {
        panic!(
            "the last replayed observation is a state: {:?}",
            replayed.last()
        );
    };
    assert_eq!(
        *seen_at,
        Some(at(4_999)),
        "the newest message is replayed last"
    );
    assert_eq!(
        reported.state,
        ReportedState::Open,
        "message 4999 said contact false"
    );
}

// --- The adapter under `guardroom serve` on a real broker.

const SITE: &str = "z2mtest";

fn z2m(tail: &str) -> String {
    format!("zigbee2mqtt/{tail}")
}

/// Renders the test site's configuration: the adapter with the example mappings
/// (`Lobby door`, the leak by IEEE address with P1, the SOS button), and a
/// short offline debounce so the gateway alarm comes quickly.
fn serve_config(broker: &Broker) -> String {
    let mut text = config_toml(SITE, &broker.url(), &unique_client_id("gr-z2m"), &[]);
    text.push_str(
        r#"
[alarms]
offline_debounce_s = 1

[adapters.zigbee2mqtt]
enabled = true

[adapters.zigbee2mqtt.devices."Lobby door"]
id = "b1-lobby-door"
name = "1号楼大堂门磁"
building = "1号楼"
zone = "大堂"

[adapters.zigbee2mqtt.devices."0x00158d0000a1b2c3"]
id = "b2-boiler-leak"
name = "2号楼锅炉房水浸"
building = "2号楼"
zone = "锅炉房"
priority = "P1"

[adapters.zigbee2mqtt.devices."Guard booth/SOS"]
name = "南门岗亭紧急按钮"
"#,
    );
    text
}

/// Open alarms as (id, condition, occurrences), for comparing before and after.
fn open_alarms(projection: &Projection) -> Vec<(u64, Condition, u32)> {
    projection
        .alarms
        .open
        .values()
        .map(|alarm| (alarm.id, alarm.condition, alarm.occurrences))
        .collect()
}

/// The devices the test network publishes states for, by our id.
const WATCHED: [&str; 5] = [
    "b1-lobby-door",
    "b2-boiler-leak",
    "z2m-kitchen-smoke",
    "z2m-hall-motion",
    "z2m-guard-booth-sos",
];

#[test]
fn serve_records_zigbee_network() {
    let broker = Broker::start_new();
    let home = Home::new();
    let config = home.path().join("guardroom.toml");
    std::fs::write(&config, serve_config(&broker)).unwrap();
    let database = home.path().join("guardroom.sqlite");
    let now = Timestamp::now().to_string();

    // What a running Zigbee2MQTT leaves retained on the broker.
    let retained: Vec<(String, String)> = vec![
        (z2m("bridge/state"), r#"{"state":"online"}"#.into()),
        (
            z2m("bridge/devices"),
            device_list("Lobby door", "Hall motion"),
        ),
        (
            z2m("Lobby door"),
            format!(
                r#"{{"contact":true,"tamper":false,"battery":90,"linkquality":120,"last_seen":"{now}"}}"#
            ),
        ),
        (z2m("Lobby door/availability"), "online".into()),
        (
            z2m("Boiler room/leak"),
            format!(r#"{{"water_leak":true,"battery":80,"linkquality":90,"last_seen":"{now}"}}"#),
        ),
        (
            z2m("Boiler room/leak/availability"),
            r#"{"state":"online"}"#.into(),
        ),
        (
            z2m("Kitchen smoke"),
            format!(r#"{{"smoke":false,"tamper":false,"linkquality":100,"last_seen":"{now}"}}"#),
        ),
        (z2m("Kitchen smoke/availability"), "online".into()),
        // Without last_seen: its age is unknown, so it shows as stale.
        (
            z2m("Hall motion"),
            r#"{"occupancy":false,"tamper":false,"battery":60}"#.into(),
        ),
        (z2m("Hall motion/availability"), "online".into()),
        (
            z2m("Guard booth/SOS"),
            format!(r#"{{"battery":95,"last_seen":"{now}"}}"#),
        ),
        (z2m("Guard booth/SOS/availability"), "online".into()),
        (z2m("Floor1"), r#"{"state":"ON","brightness":200}"#.into()),
    ];
    let mut publisher = Publisher::connect(broker.port());
    for (topic, payload) in &retained {
        publisher.publish(topic, payload.as_bytes(), true);
    }
    publisher.flush();

    let mut running = home.serve(&config, &database);
    let projection_now = wait_for("the five watched devices with states", DEADLINE, || {
        running.assert_running();
        projection(&database).filter(|projection| {
            WATCHED.iter().all(|id| {
                projection.devices.get(*id).is_some_and(|device| {
                    device.reported.is_some() && device.availability == Availability::Online
                })
            })
        })
    });

    assert_eq!(
        projection_now.devices.len(),
        WATCHED.len(),
        "only watched devices: {:?}",
        projection_now.devices.keys().collect::<Vec<_>>()
    );
    let door = &projection_now.devices["b1-lobby-door"];
    assert_eq!(
        door.spec.name, "1号楼大堂门磁",
        "door name from the mapping"
    );
    assert_eq!(
        door.spec.building, "1号楼",
        "door building from the mapping"
    );
    assert_eq!(door.spec.zone, "大堂", "door zone from the mapping");
    assert_eq!(door.spec.kind, DeviceKind::Door, "contact makes a door");
    assert_eq!(
        door.spec.gateway.as_deref(),
        Some("z2m-bridge"),
        "door hangs off the bridge"
    );
    assert_eq!(
        door.reported.as_ref().unwrap().state,
        ReportedState::Closed,
        "contact true is closed"
    );
    assert!(
        !door.registered,
        "adapter devices are outside the configured inventory"
    );
    let leak = &projection_now.devices["b2-boiler-leak"];
    assert_eq!(
        leak.spec.class,
        Some(DetectorClass::WaterLeak),
        "leak class"
    );
    assert_eq!(
        leak.reported.as_ref().unwrap().state,
        ReportedState::Alarm,
        "leak in alarm"
    );
    assert_eq!(
        projection_now.devices["z2m-guard-booth-sos"].spec.name, "南门岗亭紧急按钮",
        "SOS name from the mapping"
    );
    assert_eq!(
        projection_now.devices["z2m-hall-motion"].spec.name, "Hall motion",
        "unmapped device named by its friendly name"
    );

    let leak_alarm = wait_for("the leak alarm", DEADLINE, || {
        projection(&database)?
            .alarms
            .open_for("b2-boiler-leak", Condition::WaterLeak)
            .cloned()
    });
    assert_eq!(
        leak_alarm.priority,
        Priority::P1,
        "leak alarm takes the mapped priority"
    );
    assert_eq!(
        leak_alarm.name, "2号楼锅炉房水浸",
        "leak alarm carries the mapped name"
    );

    let status = home.status_json(&database);
    assert_eq!(
        status["devices"]["total"], 5,
        "status counts the watched devices"
    );
    assert_eq!(
        status["devices"]["unregistered"], 5,
        "all outside the inventory"
    );
    assert_eq!(status["devices"]["by_kind"]["door"]["total"], 1, "one door");
    assert_eq!(
        status["devices"]["by_kind"]["detector"]["total"], 4,
        "four detectors"
    );
    assert_eq!(
        status["devices"]["by_status"]["alarm"], 1,
        "the leak is in alarm"
    );
    assert_eq!(
        status["devices"]["by_status"]["stale"], 1,
        "the untimed retained state is stale"
    );
    assert_eq!(
        status["devices"]["by_status"]["normal"], 3,
        "door, smoke and SOS are normal"
    );
    assert_eq!(status["alarms"]["open"], 1, "one open alarm");
    assert_eq!(
        status["alarms"]["by_priority"]["P1"], 1,
        "the leak alarm is P1"
    );
    assert_eq!(status["bad_payloads"], 0, "no bad payloads");

    // Live changes, published retained as Zigbee2MQTT does with `retain`.
    let later = Timestamp::now().to_string();
    let changes: Vec<(String, String)> = vec![
        (
            z2m("Kitchen smoke"),
            format!(r#"{{"smoke":true,"tamper":false,"linkquality":100,"last_seen":"{later}"}}"#),
        ),
        (
            z2m("Guard booth/SOS"),
            format!(r#"{{"action":"emergency","battery":95,"last_seen":"{later}"}}"#),
        ),
        (
            z2m("Lobby door"),
            format!(
                r#"{{"contact":true,"tamper":true,"battery":90,"linkquality":120,"last_seen":"{later}"}}"#
            ),
        ),
    ];
    for (topic, payload) in &changes {
        publisher.publish(topic, payload.as_bytes(), true);
    }
    publisher.flush();
    let before_restart = wait_for("fire, panic and tamper alarms", DEADLINE, || {
        running.assert_running();
        let projection = projection(&database)?;
        let alarms = &projection.alarms;
        let raised = alarms
            .open_for("z2m-kitchen-smoke", Condition::Fire)
            .is_some()
            && alarms
                .open_for("z2m-guard-booth-sos", Condition::Panic)
                .is_some()
            && alarms
                .open_for("b1-lobby-door", Condition::Tamper)
                .is_some();
        raised.then_some(projection)
    });
    let status = home.status_json(&database);
    assert_eq!(status["alarms"]["open"], 4, "leak, fire, panic and tamper");
    assert_eq!(
        status["alarms"]["by_priority"]["P1"], 3,
        "leak (mapped), fire and panic are P1"
    );
    assert_eq!(status["alarms"]["by_priority"]["P2"], 1, "tamper is P2");

    // Restart serve, then publish the same retained messages again, as
    // Zigbee2MQTT does when it restarts.
    let status = running.terminate();
    assert!(status.success(), "serve exited with {status}");
    let mut running = home.serve(&config, &database);
    home.wait_for_status("serve online again", &database, &mut running, |status| {
        status["link"]["state"] == "online"
    });
    // The broker keeps the newest message per topic, and that is what
    // Zigbee2MQTT publishes again.
    let current: std::collections::BTreeMap<&String, &String> = retained
        .iter()
        .chain(&changes)
        .map(|(topic, payload)| (topic, payload))
        .collect();
    for (topic, payload) in current {
        publisher.publish(topic, payload.as_bytes(), true);
    }
    // A change published last shows that everything before it was read.
    publisher.publish(
        &z2m("Hall motion"),
        &br#"{"occupancy":false,"tamper":false,"battery":55}"#[..],
        false,
    );
    publisher.flush();
    let after_restart = wait_for("the marker state after the republish", DEADLINE, || {
        running.assert_running();
        projection(&database).filter(|projection| {
            projection.devices["z2m-hall-motion"]
                .reported
                .as_ref()
                .is_some_and(|reported| reported.battery == Some(55))
        })
    });
    assert_eq!(
        open_alarms(&after_restart),
        open_alarms(&before_restart),
        "the same retained messages raise no new alarm and repeat none"
    );
    assert_eq!(
        after_restart.alarms.next_id(),
        before_restart.alarms.next_id(),
        "no alarm was raised"
    );

    // The bridge goes offline: its devices are shown offline through the
    // gateway, not one by one.
    publisher.publish(&z2m("bridge/state"), &br#"{"state":"offline"}"#[..], true);
    publisher.flush();
    let offline = wait_for("the gateway alarm", DEADLINE, || {
        running.assert_running();
        let projection = projection(&database)?;
        projection
            .alarms
            .open_for("gw:z2m-bridge", Condition::DeviceOffline)
            .is_some()
            .then_some(projection)
    });
    assert_eq!(
        offline.gateways["z2m-bridge"].availability,
        Availability::Offline,
        "the bridge's gateway is offline"
    );
    for id in WATCHED {
        assert_eq!(
            offline.devices[id].availability,
            Availability::Online,
            "{id} keeps its own availability"
        );
        assert!(
            offline
                .alarms
                .open_for(id, Condition::DeviceOffline)
                .is_none(),
            "{id} has no offline alarm of its own"
        );
    }
    let status = home.status_json(&database);
    assert_eq!(
        status["devices"]["by_status"]["offline"], 5,
        "every watched device shows offline"
    );
    assert_eq!(
        status["alarms"]["open"], 5,
        "one gateway alarm joins the four"
    );
    assert_eq!(
        status["alarms"]["by_state"]["suppressed"], 1,
        "the P2 tamper alarm is suppressed"
    );

    // Back online, and a bad payload is counted against its device.
    publisher.publish(&z2m("bridge/state"), &b"online"[..], true);
    publisher.publish(&z2m("Kitchen smoke"), &b"{smoke: yes}"[..], false);
    publisher.flush();
    let status = home.wait_for_status(
        "the bad payload counted",
        &database,
        &mut running,
        |status| status["bad_payloads"] == 1,
    );
    assert_eq!(
        status["devices"]["by_status"]["offline"], 0,
        "the bridge is back"
    );
    assert_eq!(
        status["devices"]["by_status"]["data_error"], 1,
        "the smoke detector shows the error"
    );
    let last = projection(&database).unwrap();
    assert_eq!(
        last.devices["z2m-kitchen-smoke"]
            .reported
            .as_ref()
            .unwrap()
            .state,
        ReportedState::Alarm,
        "the last good state is kept"
    );

    let status = running.terminate();
    assert!(status.success(), "serve exited with {status}");
}

// --- The example configuration.

const EXAMPLE: &str = include_str!("../config/adapter-zigbee2mqtt.toml");

#[test]
fn example_config_loads() {
    let config = load_str(
        EXAMPLE,
        "adapter-zigbee2mqtt.toml",
        Path::new("config"),
        Lang::En,
    )
    .unwrap_or_else(|error| panic!("the example does not load: {error}"));
    let adapter = &config.adapters.zigbee2mqtt;
    assert!(adapter.enabled, "the example switches the adapter on");
    assert_eq!(adapter.base_topic, "zigbee2mqtt");
    assert_eq!(adapter.devices.len(), 3, "three mapped devices");
    let priorities = guardroom::ingest::adapters::device_priorities(&config.adapters);
    assert_eq!(
        priorities.get("b2-boiler-leak"),
        Some(&Priority::P1),
        "the boiler room leak is P1"
    );
    assert!(
        config.broker.url.starts_with("mqtt://127.0.0.1"),
        "local broker"
    );
}

#[test]
fn example_config_checks() {
    let home = Home::new();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/adapter-zigbee2mqtt.toml");
    let output = home.run(&["check-config", "--config", path.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "check-config failed with {}: {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
