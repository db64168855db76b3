//! Zigbee2MQTT, Home Assistant and Frigate at once beside native devices,
//! under `guardroom serve` on a real mosquitto: every source's devices are
//! counted, each raises its alarm, and a Zigbee device that Zigbee2MQTT
//! also announces to Home Assistant appears once.

mod support;

use std::collections::BTreeMap;

use guardroom::domain::Projection;
use guardroom::domain::alarm::Condition;
use guardroom::domain::device::DeviceKind;
use jiff::Timestamp;
use serde_json::json;
use support::{
    Broker, DEADLINE, Home, Publisher, TestDevice, config_toml, projection, unique_client_id,
    wait_for,
};

const SITE: &str = "together";

const LOBBY_IEEE: &str = "0x00158d0000c0ffe1";
const LEAK_IEEE: &str = "0x00158d0000c0ffe2";

fn native(tail: &str) -> String {
    format!("gr/v1/{SITE}/{tail}")
}

/// Renders the site: two native devices, and the three adapters with the
/// Home Assistant one left at its defaults (no `ignore_topics`).
fn site_config(broker: &Broker) -> String {
    let devices = [
        TestDevice::door("b1-door-east"),
        TestDevice {
            id: "b1-smoke-101".into(),
            name: "1号楼101烟感".into(),
            kind: "detector",
            class: Some("smoke"),
        },
    ];
    let mut text = config_toml(
        SITE,
        &broker.url(),
        &unique_client_id("gr-together"),
        &devices,
    );
    text.push_str(
        r#"
[adapters.zigbee2mqtt]
enabled = true
interval_s = 3600

[adapters.zigbee2mqtt.devices."Pump room leak"]
name = "2号楼水泵房水浸"
building = "2号楼"
interval_s = 7200

[adapters.home_assistant]
enabled = true

[adapters.frigate]
enabled = true
"#,
    );
    text
}

fn binary(name: &str, on: bool, off: bool) -> serde_json::Value {
    json!({"type": "binary", "name": name, "property": name, "access": 1,
           "value_on": on, "value_off": off})
}

/// Returns the messages the four systems leave retained on the broker
/// before guardroom starts.
fn retained(now: &str) -> Vec<(String, String)> {
    let devices = json!([
        {"ieee_address": LOBBY_IEEE, "friendly_name": "Lobby door", "type": "EndDevice",
         "definition": {"exposes": [binary("contact", false, true)]}},
        {"ieee_address": LEAK_IEEE, "friendly_name": "Pump room leak", "type": "EndDevice",
         "definition": {"exposes": [binary("water_leak", true, false)]}},
    ]);
    // Zigbee2MQTT's own announcements of its devices to Home Assistant.
    let announce = |ieee: &str, name: &str, property: &str, class: &str, on: bool| {
        json!({"name": null, "device_class": class,
               "state_topic": format!("zigbee2mqtt/{name}"),
               "value_template": format!("{{{{ value_json.{property} }}}}"),
               "payload_on": on, "payload_off": !on,
               "unique_id": format!("{ieee}_{property}_zigbee2mqtt"),
               "device": {"identifiers": [format!("zigbee2mqtt_{ieee}")], "name": name},
               "availability": [{"topic": "zigbee2mqtt/bridge/state",
                                 "value_template": "{{ value_json.state }}"}]})
        .to_string()
    };
    vec![
        (
            native("dev/b1-door-east/state"),
            json!({"v": 1, "ts": now, "state": "closed"}).to_string(),
        ),
        (
            native("dev/b1-smoke-101/state"),
            json!({"v": 1, "ts": now, "state": "normal"}).to_string(),
        ),
        ("zigbee2mqtt/bridge/state".into(), "online".into()),
        ("zigbee2mqtt/bridge/devices".into(), devices.to_string()),
        (
            "zigbee2mqtt/Lobby door".into(),
            json!({"contact": true, "battery": 90, "last_seen": now}).to_string(),
        ),
        (
            "zigbee2mqtt/Pump room leak".into(),
            json!({"water_leak": false, "battery": 70, "last_seen": now}).to_string(),
        ),
        (
            format!("homeassistant/binary_sensor/{LOBBY_IEEE}/contact/config"),
            announce(LOBBY_IEEE, "Lobby door", "contact", "door", false),
        ),
        (
            format!("homeassistant/binary_sensor/{LEAK_IEEE}/water_leak/config"),
            announce(LEAK_IEEE, "Pump room leak", "water_leak", "moisture", true),
        ),
        ("homeassistant/status".into(), "online".into()),
        (
            "homeassistant/binary_sensor/clubhouse/door/config".into(),
            json!({"name": "Clubhouse door", "device_class": "door",
                   "state_topic": "clubhouse-door/state", "unique_id": "clubhouse_door"})
            .to_string(),
        ),
        (
            "homeassistant/alarm_control_panel/shops/config".into(),
            json!({"name": "Shops alarm panel", "state_topic": "shops-alarm/state",
                   "command_topic": "shops-alarm/set", "unique_id": "shops_panel"})
            .to_string(),
        ),
        ("clubhouse-door/state".into(), "OFF".into()),
        ("shops-alarm/state".into(), "armed_away".into()),
        ("frigate/available".into(), "online".into()),
        ("frigate/east_gate/status/detect".into(), "online".into()),
        ("frigate/east_gate/recordings/state".into(), "ON".into()),
    ]
}

/// Lists the topic filters guardroom subscribed to, from mosquitto's log
/// lines `<time>: <client id> <QoS> <filter>`.
fn subscriptions(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| line.split_once(": ").map(|(_, rest)| rest))
        .filter(|rest| rest.starts_with("gr-together-"))
        .filter_map(|rest| rest.splitn(3, ' ').nth(2))
        .map(str::to_owned)
        .collect()
}

/// Counts the devices of `projection` by the source their id names.
fn by_source(projection: &Projection) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for id in projection.devices.keys() {
        let source = ["z2m-", "ha-", "frigate-"]
            .into_iter()
            .find(|prefix| id.starts_with(prefix))
            .unwrap_or("native");
        *counts.entry(source).or_default() += 1;
    }
    counts
}

fn review(kind: &str) -> String {
    let item = json!({"id": "1800000000.5-tgthr1", "camera": "east_gate",
                      "start_time": 1_800_000_000.5, "end_time": null,
                      "severity": "alert",
                      "data": {"objects": ["person"], "zones": ["driveway"], "audio": []}});
    json!({"type": kind, "before": item, "after": item}).to_string()
}

#[test]
fn serve_reads_every_source_at_once() {
    // The broker logs every subscription, which shows what the Home
    // Assistant adapter asked to read.
    let broker = Broker::start_with(&[
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type subscribe",
    ]);
    let home = Home::new();
    let config = home.path().join("guardroom.toml");
    std::fs::write(&config, site_config(&broker)).unwrap();
    let database = home.path().join("guardroom.sqlite");

    let mut publisher = Publisher::connect(broker.port());
    for (topic, payload) in retained(&Timestamp::now().to_string()) {
        publisher.publish(&topic, payload, true);
    }
    publisher.flush();

    let mut serve = home.serve(&config, &database);
    let expected = BTreeMap::from([("frigate-", 1), ("ha-", 2), ("native", 2), ("z2m-", 2)]);
    let seen = wait_for("a state from every device", DEADLINE, || {
        serve.assert_running();
        let projection = projection(&database)?;
        let reported = projection
            .devices
            .values()
            .all(|device| device.reported.is_some());
        (reported && by_source(&projection) == expected).then_some(projection)
    });
    assert!(
        !seen.devices.keys().any(|id| id.starts_with("ha-0x")),
        "the Zigbee devices announced to Home Assistant appear once: {:?}",
        seen.devices.keys().collect::<Vec<_>>()
    );
    let subscribed = subscriptions(&broker.log());
    assert!(
        subscribed.contains(&"clubhouse-door/state".to_owned()),
        "the adapter reads the topics Home Assistant announces: {subscribed:?}"
    );
    assert!(
        !subscribed
            .iter()
            .any(|topic| topic.starts_with("zigbee2mqtt/") && topic != "zigbee2mqtt/#"),
        "the Zigbee2MQTT topics announced to Home Assistant are left to its adapter: {subscribed:?}"
    );
    let lobby = &seen.devices["z2m-lobby-door"];
    assert_eq!(lobby.spec.kind, DeviceKind::Door, "the contact is a door");
    assert_eq!(lobby.spec.interval_s, 3_600, "the adapter's interval");
    let leak = &seen.devices["z2m-pump-room-leak"];
    assert_eq!(leak.spec.interval_s, 7_200, "the mapping's interval");
    assert_eq!(leak.spec.name, "2号楼水泵房水浸", "the mapping's name");
    assert_eq!(
        seen.devices["ha-clubhouse-door"].spec.interval_s, 300,
        "Home Assistant devices keep console.unregistered_interval_s"
    );
    assert_eq!(
        seen.devices["frigate-east-gate"].spec.kind,
        DeviceKind::Camera,
        "a Frigate camera"
    );

    let status = home.status_json(&database);
    assert_eq!(status["devices"]["total"], 7, "{status}");
    assert_eq!(
        status["devices"]["unregistered"], 5,
        "every adapter device is outside the inventory: {status}"
    );
    let kinds = &status["devices"]["by_kind"];
    assert_eq!(
        kinds["door"]["total"], 3,
        "a native, a Zigbee and a Home Assistant door: {kinds}"
    );
    assert_eq!(
        kinds["detector"]["total"], 3,
        "the native smoke detector, the leak sensor and the panel: {kinds}"
    );
    assert_eq!(kinds["camera"]["total"], 1, "the Frigate camera: {kinds}");
    assert_eq!(status["bad_payloads"], 0, "{status}");
    assert_eq!(status["alarms"]["open"], 0, "{status}");

    // One alarm from each source.
    publisher.publish(
        &native("evt/b1-smoke-101"),
        json!({"v": 1, "id": "together-smoke-1", "type": "smoke"}).to_string(),
        false,
    );
    let later = Timestamp::now().to_string();
    publisher.publish(
        "zigbee2mqtt/Pump room leak",
        json!({"water_leak": true, "battery": 70, "last_seen": later}).to_string(),
        true,
    );
    publisher.publish("shops-alarm/state", "triggered", true);
    publisher.publish("frigate/reviews", review("new"), false);
    publisher.flush();

    let alarms = wait_for("an alarm from every source", DEADLINE, || {
        serve.assert_running();
        let projection = projection(&database)?;
        let alarms = &projection.alarms;
        let external = |prefix: &str| {
            alarms
                .open
                .values()
                .any(|alarm| alarm.source.starts_with(prefix))
        };
        let all = alarms.open_for("b1-smoke-101", Condition::Fire).is_some()
            && alarms
                .open_for("z2m-pump-room-leak", Condition::WaterLeak)
                .is_some()
            && external("ext:ha-shops-panel")
            && external("ext:frigate-");
        all.then_some(projection)
    });
    assert_eq!(alarms.alarms.open.len(), 4, "{:?}", alarms.alarms.open);

    let status = home.status_json(&database);
    assert_eq!(status["alarms"]["open"], 4, "{status}");
    assert_eq!(
        status["alarms"]["by_priority"]["P1"], 1,
        "the native fire alarm: {status}"
    );
    assert_eq!(
        status["alarms"]["by_priority"]["P2"], 3,
        "the leak, the panel and the review item: {status}"
    );
    assert_eq!(
        status["devices"]["total"], 7,
        "no device added by the alarms: {status}"
    );

    drop(publisher);
    let stopped = serve.terminate();
    assert!(stopped.success(), "serve exited with {stopped}");
}

#[test]
fn zero_intervals_named() {
    let text = r#"
[adapters.zigbee2mqtt]
interval_s = 0

[adapters.home_assistant.devices."hall_door"]
interval_s = 0

[adapters.frigate]
interval_s = 60

[adapters.frigate.devices.gate]
interval_s = 0
"#;
    let error = guardroom::config::load_str(
        text,
        "zero.toml",
        std::path::Path::new("."),
        guardroom::i18n::Lang::En,
    )
    .expect_err("an interval of 0 is rejected");
    let rendered = error.render(guardroom::i18n::Lang::En);
    for key in [
        "adapters.zigbee2mqtt.interval_s",
        "adapters.home_assistant.devices.\"hall_door\".interval_s",
        "adapters.frigate.devices.\"gate\".interval_s",
    ] {
        assert!(rendered.contains(key), "{key} named in:\n{rendered}");
    }
    assert!(
        !rendered.contains("adapters.frigate.interval_s"),
        "60 is valid:\n{rendered}"
    );
}
