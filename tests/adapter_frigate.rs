//! The Frigate adapter: payload shapes through `handle` and `tick` on a
//! virtual clock, then `guardroom serve` on a real mosquitto with Frigate's
//! messages, then the example configuration.

mod support;

use std::path::Path;

use guardroom::domain::Observation;
use guardroom::domain::alarm::{Condition, Disposition, ExternalAlarm, Priority};
use guardroom::domain::device::{DeviceKind, ReportedState};
use guardroom::domain::observation::SelfDescription;
use guardroom::i18n::Lang;
use guardroom::ingest::adapters::frigate::{self, AlarmSource, Config, GATEWAY_ID};
use guardroom::ingest::adapters::{Adapter, DeviceMapping, Mappings, Message};
use jiff::Timestamp;
use serde_json::{Value, json};
use support::{Broker, DEADLINE, Home, Publisher, projection, wait_for};

const GATE: &str = "east-gate-cam";

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

fn mappings() -> Mappings {
    let mut devices = Mappings::new();
    devices.insert(
        "gate_cam".into(),
        DeviceMapping {
            id: Some(GATE.into()),
            name: Some("东门摄像机".into()),
            building: Some("东区".into()),
            zone: Some("东门".into()),
            priority: None,
            interval_s: None,
        },
    );
    devices
}

fn config() -> Config {
    Config {
        enabled: true,
        devices: mappings(),
        ..Config::default()
    }
}

/// The adapter under test on a virtual clock, ticked once a second as the
/// link does: a message at second `t` follows the ticks before `t`.
struct Rig {
    adapter: Box<dyn Adapter>,
    /// The last second ticked.
    ticked: i64,
    /// What ticks produced and no `advance` has returned yet.
    ticks: Vec<(i64, Observation)>,
}

impl Rig {
    fn new(config: &Config) -> Self {
        Self {
            adapter: frigate::build(config).expect("an enabled adapter is built"),
            ticked: -1,
            ticks: Vec::new(),
        }
    }

    fn send(&mut self, secs: i64, topic: &str, payload: &[u8], retained: bool) -> Vec<Observation> {
        assert!(secs > self.ticked, "the clock only moves forward");
        self.tick_until(secs - 1);
        let message = Message {
            topic,
            payload,
            retained,
            received: at(secs),
        };
        self.adapter
            .handle(&message)
            .unwrap_or_else(|| panic!("the adapter owns {topic}"))
    }

    fn live(&mut self, secs: i64, topic: &str, payload: impl AsRef<[u8]>) -> Vec<Observation> {
        self.send(secs, topic, payload.as_ref(), false)
    }

    fn tick_until(&mut self, to: i64) {
        for secs in self.ticked + 1..=to {
            let out = self.adapter.tick(at(secs));
            self.ticks.extend(out.into_iter().map(|o| (secs, o)));
        }
        self.ticked = self.ticked.max(to);
    }

    /// Ticks every second up to `to` and returns what the ticks produced
    /// since the last call.
    fn advance(&mut self, to: i64) -> Vec<(i64, Observation)> {
        self.tick_until(to);
        std::mem::take(&mut self.ticks)
    }

    /// Ticks up to `to` and returns the camera states reported, with their times.
    fn states_until(&mut self, to: i64) -> Vec<(i64, ReportedState)> {
        self.advance(to)
            .into_iter()
            .filter_map(|(secs, observation)| Some((secs, reported_state(&observation)?)))
            .collect()
    }
}

fn reported_state(observation: &Observation) -> Option<ReportedState> {
    match observation {
        Observation::State { reported, .. } => Some(reported.state),
        _ => None,
    }
}

fn states(observations: &[Observation]) -> Vec<ReportedState> {
    observations.iter().filter_map(reported_state).collect()
}

fn gate_description() -> SelfDescription {
    SelfDescription {
        kind: Some(DeviceKind::Camera),
        class: None,
        name: Some("东门摄像机".into()),
        building: Some("东区".into()),
        zone: Some("东门".into()),
        gateway: Some(GATEWAY_ID.into()),
        interval_s: None,
    }
}

fn review(
    kind: &str,
    id: &str,
    camera: &str,
    severity: &str,
    objects: &[&str],
    zones: &[&str],
) -> String {
    let item = json!({
        "id": id,
        "camera": camera,
        "start_time": 1_800_000_000.25,
        "end_time": if kind == "end" { json!(1_800_000_030.5) } else { Value::Null },
        "severity": severity,
        "thumb_path": format!("/media/frigate/clips/review/thumb-{camera}-{id}.webp"),
        "data": {
            "detections": ["1800000000.1-abc123"],
            "objects": objects,
            "sub_labels": [],
            "zones": zones,
            "audio": [],
        },
    });
    json!({"type": kind, "before": item, "after": item}).to_string()
}

fn event(kind: &str, id: &str, camera: &str, label: &str, zones: &[&str]) -> String {
    let item = json!({
        "id": id,
        "camera": camera,
        "frame_time": 1_800_000_001.5,
        "label": label,
        "sub_label": null,
        "top_score": 0.91,
        "false_positive": false,
        "start_time": 1_800_000_000.25,
        "end_time": if kind == "end" { json!(1_800_000_030.5) } else { Value::Null },
        "score": 0.88,
        "box": [10, 20, 110, 220],
        "area": 20_000,
        "region": [0, 0, 320, 320],
        "current_zones": zones,
        "entered_zones": zones,
        "has_snapshot": true,
        "has_clip": false,
        "stationary": false,
    });
    json!({"type": kind, "before": item, "after": item}).to_string()
}

fn alarm_record(observations: &[Observation]) -> Vec<(&str, Option<&ExternalAlarm>)> {
    observations
        .iter()
        .filter_map(|observation| match observation {
            Observation::ExternalAlarm { id, record } => Some((id.as_str(), record.as_ref())),
            _ => None,
        })
        .collect()
}

/// A data error's device and code.
type ErrorSeen<'a> = (Option<&'a str>, &'a str);

fn data_errors(observations: &[Observation]) -> Vec<ErrorSeen<'_>> {
    observations
        .iter()
        .filter_map(|observation| match observation {
            Observation::DataError { device, code, .. } => Some((device.as_deref(), code.as_str())),
            _ => None,
        })
        .collect()
}

#[test]
fn subscriptions_follow_alarm_source() {
    let reviews = Rig::new(&config()).adapter.subscriptions();
    for filter in [
        "frigate/available",
        "frigate/stats",
        "frigate/+/status/+",
        "frigate/reviews",
    ] {
        assert!(
            reviews.iter().any(|f| f == filter),
            "{filter} in {reviews:?}"
        );
    }
    assert!(
        !reviews.iter().any(|f| f == "frigate/events"),
        "events left out: {reviews:?}"
    );

    let events = Rig::new(&Config {
        alarms_from: AlarmSource::Events,
        base_topic: "site1/nvr".into(),
        ..config()
    })
    .adapter
    .subscriptions();
    assert!(events.iter().any(|f| f == "site1/nvr/events"), "{events:?}");
    assert!(
        !events.iter().any(|f| f == "site1/nvr/reviews"),
        "{events:?}"
    );

    assert!(
        frigate::build(&Config::default()).is_none(),
        "disabled by default"
    );
}

#[test]
fn foreign_topics_left_alone() {
    let mut rig = Rig::new(&config());
    let message = Message {
        topic: "zigbee2mqtt/door",
        payload: b"{}",
        retained: false,
        received: at(0),
    };
    assert!(rig.adapter.handle(&message).is_none(), "not under frigate/");
    let quiet = rig.live(0, "frigate/gate_cam/person", "1");
    assert!(quiet.is_empty(), "object counts carry nothing: {quiet:?}");
}

#[test]
fn availability_is_the_gateway() {
    let mut rig = Rig::new(&config());
    let cases: [(&[u8], bool, Option<bool>); 5] = [
        (b"online", true, Some(true)),
        (b"offline", true, Some(false)),
        (b"\"online\"", false, Some(true)),
        (b"ONLINE\n", false, Some(true)),
        (b"maybe", false, None),
    ];
    for (payload, retained, expected) in cases {
        let out = rig.send(0, "frigate/available", payload, retained);
        let text = String::from_utf8_lossy(payload);
        match expected {
            Some(online) => assert_eq!(
                out,
                vec![Observation::GatewayAvailability {
                    gateway: GATEWAY_ID.into(),
                    online,
                    retained,
                }],
                "payload {text:?}"
            ),
            None => assert_eq!(
                data_errors(&out),
                vec![(None, "bad_field")],
                "payload {text:?}"
            ),
        }
    }
}

#[test]
fn status_table() {
    // (payload, expected observations' states or error code) for a first
    // message on a fresh camera at t = 0.
    type Expected = Result<Vec<ReportedState>, &'static str>;
    let cases: [(&[u8], Expected); 7] = [
        (b"online", Ok(vec![ReportedState::Ok])),
        (b"ONLINE", Ok(vec![ReportedState::Ok])),
        // Offline is only reported after the debounce.
        (b"offline", Ok(vec![])),
        (b"disabled", Ok(vec![])),
        (b"broken", Err("bad_field")),
        (b"", Err("empty")),
        (b"\xff\xfe", Err("not_utf8")),
    ];
    for (payload, expected) in cases {
        let mut rig = Rig::new(&config());
        let out = rig.send(0, "frigate/gate_cam/status/detect", payload, false);
        let text = String::from_utf8_lossy(payload);
        match expected {
            Ok(expected) => {
                assert_eq!(states(&out), expected, "payload {text:?}");
                assert!(data_errors(&out).is_empty(), "payload {text:?}: {out:?}");
            }
            Err(code) => assert_eq!(
                data_errors(&out),
                vec![(Some(GATE), code)],
                "payload {text:?}"
            ),
        }
    }

    let mut rig = Rig::new(&config());
    let out = rig.live(5, "frigate/gate_cam/status/detect", "online");
    assert_eq!(
        out,
        vec![Observation::State {
            device: GATE.into(),
            describes: gate_description(),
            reported: guardroom::domain::Reported::new(ReportedState::Ok),
            retained: false,
            seen_at: Some(at(5)),
        }],
        "a mapped camera takes its id, name, place and the gateway"
    );

    let unmapped = rig.live(6, "frigate/Back Yard/status/detect", "online");
    let Some(Observation::State {
        device, describes, ..
    }) = unmapped.first()
    else {
        panic!("an unmapped camera is reported: {unmapped:?}");
    };
    assert_eq!(device, "frigate-back-yard", "id from the Frigate name");
    assert_eq!(
        describes.name.as_deref(),
        Some("Back Yard"),
        "named by Frigate"
    );
    assert_eq!(describes.kind, Some(DeviceKind::Camera), "a camera");

    let audio = rig.live(7, "frigate/gate_cam/status/audio", "offline");
    assert!(audio.is_empty(), "the audio role is not watched: {audio:?}");
    let oversize = rig.live(8, "frigate/gate_cam/status/detect", vec![b'x'; 70_000]);
    assert_eq!(
        data_errors(&oversize),
        vec![(Some(GATE), "oversized")],
        "oversize"
    );
}

#[test]
fn retained_status_history_until_frigate_online() {
    let mut rig = Rig::new(&config());
    let out = rig.send(0, "frigate/gate_cam/status/detect", b"online", true);
    let Some(Observation::State {
        retained, seen_at, ..
    }) = out.first()
    else {
        panic!("a state: {out:?}");
    };
    assert!(
        *retained,
        "retained while Frigate's availability is unknown"
    );
    assert_eq!(*seen_at, None, "retained reports carry no time");

    let mut rig = Rig::new(&config());
    rig.send(0, "frigate/available", b"online", true);
    let out = rig.send(1, "frigate/gate_cam/status/detect", b"online", true);
    let Some(Observation::State {
        retained, seen_at, ..
    }) = out.first()
    else {
        panic!("a state: {out:?}");
    };
    assert!(!*retained, "current while Frigate's last will says online");
    assert_eq!(*seen_at, Some(at(1)), "timed by its arrival");
}

#[test]
fn flapping_inside_debounce_no_video_loss() {
    let mut rig = Rig::new(&config());
    let topic = "frigate/gate_cam/status/detect";
    assert_eq!(
        states(&rig.live(0, topic, "online")),
        vec![ReportedState::Ok]
    );

    // Decoder restarts: offline for a few seconds, then healthy for good.
    let mut reported = Vec::new();
    for (secs, payload) in [
        (100, "offline"),
        (104, "online"),
        (200, "offline"),
        (229, "online"),
    ] {
        reported.extend(rig.states_until(secs - 1));
        reported.extend(
            states(&rig.live(secs, topic, payload))
                .into_iter()
                .map(|s| (secs, s)),
        );
    }
    reported.extend(rig.states_until(400));
    assert!(
        reported.is_empty(),
        "restarts shorter than 30 s show nothing: {reported:?}"
    );
}

#[test]
fn bad_past_debounce_one_video_loss() {
    let mut rig = Rig::new(&config());
    let topic = "frigate/gate_cam/status/detect";
    rig.live(0, topic, "online");
    rig.live(100, topic, "offline");
    let reported = rig.states_until(300);
    assert_eq!(
        reported,
        vec![(130, ReportedState::VideoLoss)],
        "one video loss at exactly 30 s"
    );

    // Back online: ok only after staying healthy for 30 s.
    rig.live(400, topic, "online");
    assert_eq!(
        rig.states_until(500),
        vec![(430, ReportedState::Ok)],
        "recovery debounced"
    );
}

#[test]
fn restart_loop_is_video_loss() {
    let mut rig = Rig::new(&config());
    let topic = "frigate/gate_cam/status/detect";
    rig.live(0, topic, "online");
    let mut reported = Vec::new();
    // An unreachable camera: Frigate restarts its decoder every 12 s.
    for start in (100..160).step_by(12) {
        reported.extend(rig.states_until(start - 1));
        rig.live(start, topic, "offline");
        reported.extend(rig.states_until(start + 9));
        rig.live(start + 10, topic, "online");
    }
    reported.extend(rig.states_until(170));
    assert_eq!(
        reported.first(),
        Some(&(130, ReportedState::VideoLoss)),
        "30 s into the restart loop: {reported:?}"
    );
    assert_eq!(
        reported.len(),
        1,
        "reported once, not per restart: {reported:?}"
    );
}

#[test]
fn record_role_and_disabled() {
    let mut rig = Rig::new(&config());
    rig.live(0, "frigate/gate_cam/status/detect", "online");
    rig.live(1, "frigate/gate_cam/status/record", "offline");
    assert_eq!(
        rig.states_until(40),
        vec![(31, ReportedState::VideoLoss)],
        "record offline is bad"
    );

    // Switched off on purpose: no alarm, and a pending bad spell is dropped.
    let mut rig = Rig::new(&config());
    rig.live(0, "frigate/gate_cam/status/detect", "online");
    rig.live(10, "frigate/gate_cam/status/detect", "offline");
    rig.live(20, "frigate/gate_cam/status/detect", "disabled");
    assert!(
        rig.states_until(200).is_empty(),
        "disabled is no video loss"
    );
}

#[test]
fn frigate_offline_stops_debounce() {
    let mut rig = Rig::new(&config());
    let topic = "frigate/gate_cam/status/detect";
    rig.live(0, "frigate/available", "online");
    rig.live(0, topic, "online");
    rig.live(100, topic, "offline");
    rig.live(110, "frigate/available", "offline");
    // Late statuses while Frigate is down start no bad spell.
    rig.live(115, topic, "online");
    rig.live(120, topic, "offline");
    assert!(
        rig.states_until(299).is_empty(),
        "no video loss while Frigate is down"
    );
    rig.live(300, "frigate/available", "online");
    assert_eq!(
        rig.states_until(400),
        vec![(330, ReportedState::VideoLoss)],
        "the spell counts from Frigate's return"
    );
}

#[test]
fn stats_heartbeat_and_fallback() {
    let mut rig = Rig::new(&config());
    let stats = |fps: f64| {
        json!({
            "cameras": {"gate_cam": {"camera_fps": fps, "process_fps": fps, "skipped_fps": 0.0, "detection_fps": 0.0}},
            "detectors": {"cpu": {"inference_speed": 12.5}},
            "service": {"uptime": 1234, "version": "0.0.0-test"},
        })
        .to_string()
    };
    assert_eq!(
        states(&rig.live(0, "frigate/stats", stats(5.0))),
        vec![ReportedState::Ok]
    );
    assert_eq!(
        states(&rig.live(60, "frigate/stats", stats(5.0))),
        vec![ReportedState::Ok],
        "each stats message is a heartbeat"
    );
    let failing = rig.live(120, "frigate/stats", stats(0.0));
    assert!(
        states(&failing).is_empty(),
        "no heartbeat in a bad spell: {failing:?}"
    );
    assert_eq!(
        rig.states_until(160),
        vec![(150, ReportedState::VideoLoss)],
        "0 fps is bad"
    );

    // Once status topics are heard, stats only keep the camera alive.
    rig.live(200, "frigate/gate_cam/status/detect", "online");
    assert_eq!(rig.states_until(240), vec![(230, ReportedState::Ok)]);
    let out = rig.live(300, "frigate/stats", stats(0.0));
    assert_eq!(
        states(&out),
        vec![ReportedState::Ok],
        "heartbeat, not a verdict"
    );
    assert!(rig.states_until(400).is_empty(), "status outranks stats");

    let bad = rig.live(401, "frigate/stats", r#"{"service": {}}"#);
    assert_eq!(
        data_errors(&bad),
        vec![(None, "bad_field")],
        "stats without cameras"
    );
}

#[test]
fn intervals_from_mapping_and_adapter() {
    let mut mapped = mappings();
    mapped
        .get_mut("gate_cam")
        .expect("the gate camera is mapped")
        .interval_s = Some(60);
    let mut rig = Rig::new(&Config {
        devices: mapped,
        interval_s: Some(120),
        ..config()
    });
    let interval = |observations: &[Observation]| match observations {
        [Observation::State { describes, .. }] => describes.interval_s,
        other => panic!("expected one state, got {other:?}"),
    };
    let gate = rig.live(0, "frigate/gate_cam/status/detect", "online");
    assert_eq!(interval(&gate), Some(60), "the mapping's interval wins");
    let garage = rig.live(1, "frigate/garage_cam/status/detect", "online");
    assert_eq!(
        interval(&garage),
        Some(120),
        "an unmapped camera takes the adapter's"
    );

    let mut plain = Rig::new(&config());
    let gate = plain.live(0, "frigate/gate_cam/status/detect", "online");
    assert_eq!(
        interval(&gate),
        None,
        "without any interval the console's default applies"
    );
}

#[test]
fn recordings_state_sets_recording() {
    let mut rig = Rig::new(&config());
    assert!(
        rig.live(0, "frigate/gate_cam/recordings/state", "ON")
            .is_empty(),
        "no state yet"
    );
    let out = rig.live(1, "frigate/gate_cam/status/detect", "online");
    let Some(Observation::State { reported, .. }) = out.first() else {
        panic!("a state: {out:?}");
    };
    assert_eq!(
        reported.recording,
        Some(true),
        "recording kept for the first state"
    );
    let out = rig.live(2, "frigate/gate_cam/recordings/state", "OFF");
    let Some(Observation::State { reported, .. }) = out.first() else {
        panic!("a state: {out:?}");
    };
    assert_eq!(reported.recording, Some(false), "recording off reported");
    assert_eq!(reported.state, ReportedState::Ok, "state unchanged");
}

#[test]
fn review_lifecycle() {
    let mut rig = Rig::new(&config());
    let id = "1800000000.25-rv1abc";
    let out = rig.live(
        0,
        "frigate/reviews",
        review("new", id, "gate_cam", "alert", &["person"], &["gate_zone"]),
    );
    assert_eq!(
        states(&out),
        vec![ReportedState::Ok],
        "the camera appears first"
    );
    let records = alarm_record(&out);
    assert_eq!(records.len(), 1, "one alarm: {out:?}");
    let (alarm_id, Some(record)) = records[0] else {
        panic!("an open record: {out:?}");
    };
    assert_eq!(alarm_id, format!("frigate-{id}"), "stable id");
    assert_eq!(record.id, alarm_id, "record id");
    assert_eq!(record.priority, Priority::P2, "alert is P2");
    assert!(record.active, "active");
    assert_eq!(record.text, "person @ gate_zone", "label and zone");
    assert_eq!(record.device.as_deref(), Some(GATE), "our camera id");
    assert_eq!(record.building, "东区", "building from the mapping");
    assert_eq!(record.zone, "东门", "zone from the mapping");

    let update = rig.live(
        5,
        "frigate/reviews",
        review(
            "update",
            id,
            "gate_cam",
            "alert",
            &["person", "car"],
            &["gate_zone"],
        ),
    );
    assert!(
        alarm_record(&update).is_empty(),
        "update keeps the same alarm: {update:?}"
    );

    let end = rig.live(
        30,
        "frigate/reviews",
        review(
            "end",
            id,
            "gate_cam",
            "alert",
            &["person", "car"],
            &["gate_zone"],
        ),
    );
    assert_eq!(
        alarm_record(&end),
        vec![(alarm_id, None)],
        "end closes it at the source"
    );
    let later = rig.advance(2_000);
    assert!(later.is_empty(), "nothing left to time out: {later:?}");
}

#[test]
fn review_severity_and_filters() {
    let mut rig = Rig::new(&config());
    let out = rig.live(
        0,
        "frigate/reviews",
        review("new", "d1", "gate_cam", "detection", &["car"], &[]),
    );
    let records = alarm_record(&out);
    assert_eq!(
        records[0].1.map(|r| r.priority),
        Some(Priority::P3),
        "detection is P3"
    );
    assert_eq!(
        records[0].1.map(|r| r.text.as_str()),
        Some("car"),
        "no zones"
    );

    let mut quiet = Rig::new(&Config {
        detections: false,
        labels: vec!["person".into()],
        ..config()
    });
    let out = quiet.live(
        0,
        "frigate/reviews",
        review("new", "d2", "gate_cam", "detection", &["person"], &[]),
    );
    assert!(alarm_record(&out).is_empty(), "detections off: {out:?}");
    let out = quiet.live(
        1,
        "frigate/reviews",
        review("update", "d2", "gate_cam", "alert", &["person"], &[]),
    );
    assert_eq!(
        alarm_record(&out)
            .first()
            .and_then(|r| r.1)
            .map(|r| r.priority),
        Some(Priority::P2),
        "raised when it becomes an alert"
    );
    let out = quiet.live(
        2,
        "frigate/reviews",
        review("new", "d3", "gate_cam", "alert", &["car"], &[]),
    );
    assert!(
        alarm_record(&out).is_empty(),
        "car is not a wanted label: {out:?}"
    );
    let out = quiet.live(
        3,
        "frigate/reviews",
        review("end", "d3", "gate_cam", "alert", &["car"], &[]),
    );
    assert!(
        alarm_record(&out).is_empty(),
        "an end without an alarm closes nothing: {out:?}"
    );

    let mut mapped = mappings();
    mapped.get_mut("gate_cam").unwrap().priority = Some("P1".into());
    let mut rig = Rig::new(&Config {
        devices: mapped,
        ..config()
    });
    let out = rig.live(
        0,
        "frigate/reviews",
        review("new", "m1", "gate_cam", "detection", &["person"], &[]),
    );
    assert_eq!(
        alarm_record(&out)
            .first()
            .and_then(|r| r.1)
            .map(|r| r.priority),
        Some(Priority::P1),
        "the mapping's priority wins"
    );
}

#[test]
fn event_lifecycle_and_events_mode() {
    let mut rig = Rig::new(&Config {
        alarms_from: AlarmSource::Events,
        ..config()
    });
    let id = "1800000000.25-ev1abc";
    let out = rig.live(
        0,
        "frigate/events",
        event("new", id, "gate_cam", "person", &["yard"]),
    );
    let records = alarm_record(&out);
    let Some((alarm_id, Some(record))) = records.first().copied() else {
        panic!("an alarm: {out:?}");
    };
    assert_eq!(alarm_id, format!("frigate-{id}"), "stable id");
    assert_eq!(record.priority, Priority::P3, "events are P3");
    assert_eq!(record.text, "person @ yard", "label and zone");
    let update = rig.live(
        3,
        "frigate/events",
        event("update", id, "gate_cam", "person", &["yard", "driveway"]),
    );
    assert!(
        alarm_record(&update).is_empty(),
        "update keeps the alarm: {update:?}"
    );
    let end = rig.live(
        9,
        "frigate/events",
        event("end", id, "gate_cam", "person", &["yard"]),
    );
    assert_eq!(alarm_record(&end), vec![(alarm_id, None)], "end closes it");

    let reviews = rig.live(
        10,
        "frigate/reviews",
        review("new", "x", "gate_cam", "alert", &["person"], &[]),
    );
    assert!(
        reviews.is_empty(),
        "reviews ignored in events mode: {reviews:?}"
    );
}

#[test]
fn unknown_end_closes_nothing_new() {
    let mut rig = Rig::new(&config());
    let out = rig.live(
        0,
        "frigate/reviews",
        review("end", "gone1", "gate_cam", "alert", &["person"], &[]),
    );
    assert_eq!(
        alarm_record(&out),
        vec![("frigate-gone1", None)],
        "only a close, never an open record"
    );
    assert!(states(&out).is_empty(), "no camera state from an end");
}

#[test]
fn event_without_end_times_out() {
    let mut rig = Rig::new(&Config {
        event_timeout_s: 600,
        ..config()
    });
    let id = "stuck1";
    rig.live(0, "frigate/available", "online");
    rig.live(
        100,
        "frigate/reviews",
        review("new", id, "gate_cam", "alert", &["person"], &[]),
    );
    let closed: Vec<(i64, String, Option<ExternalAlarm>)> = rig
        .advance(2_000)
        .into_iter()
        .filter_map(|(secs, observation)| match observation {
            Observation::ExternalAlarm { id, record } => Some((secs, id, record)),
            _ => None,
        })
        .collect();
    assert_eq!(
        closed,
        vec![(700, format!("frigate-{id}"), None)],
        "closed once, at exactly 600 s"
    );
    let late = rig.live(
        2_001,
        "frigate/reviews",
        review("end", id, "gate_cam", "alert", &["person"], &[]),
    );
    assert!(
        alarm_record(&late)
            .iter()
            .all(|(_, record)| record.is_none()),
        "a late end opens nothing: {late:?}"
    );

    // News resets the timeout.
    let mut rig = Rig::new(&config());
    rig.live(
        0,
        "frigate/reviews",
        review("new", "busy", "gate_cam", "alert", &["person"], &[]),
    );
    rig.live(
        500,
        "frigate/reviews",
        review("update", "busy", "gate_cam", "alert", &["person"], &[]),
    );
    let early: Vec<Observation> = rig.advance(1_099).into_iter().map(|(_, o)| o).collect();
    assert!(
        alarm_record(&early).is_empty(),
        "600 s from the last update: {early:?}"
    );
    let due: Vec<Observation> = rig.advance(1_100).into_iter().map(|(_, o)| o).collect();
    assert_eq!(
        alarm_record(&due),
        vec![("frigate-busy", None)],
        "closed at 1100 s"
    );
}

#[test]
fn bad_activity_payloads() {
    let mut rig = Rig::new(&config());
    rig.live(0, "frigate/gate_cam/status/detect", "online");
    let missing_severity =
        json!({"type": "new", "after": {"id": "a1", "camera": "gate_cam"}}).to_string();
    let bad_id =
        json!({"type": "new", "after": {"id": "a b/c", "camera": "gate_cam", "severity": "alert"}})
            .to_string();
    let deep = format!("{}1{}", "[".repeat(20), "]".repeat(20));
    let cases: Vec<(&str, String, Vec<ErrorSeen>)> = vec![
        (
            "malformed JSON",
            "{\"type\": \"new\",".into(),
            vec![(None, "invalid_json")],
        ),
        (
            "not an object",
            "[1, 2]".into(),
            vec![(None, "not_an_object")],
        ),
        (
            "missing type",
            r#"{"after": {}}"#.into(),
            vec![(None, "bad_field")],
        ),
        (
            "missing after",
            r#"{"type": "new"}"#.into(),
            vec![(None, "bad_field")],
        ),
        (
            "missing camera",
            r#"{"type": "new", "after": {"id": "a1", "severity": "alert"}}"#.into(),
            vec![(None, "bad_field")],
        ),
        (
            "missing severity",
            missing_severity,
            vec![(Some(GATE), "bad_field")],
        ),
        ("unclean id", bad_id, vec![(Some(GATE), "bad_field")]),
        ("too deep", deep, vec![(None, "too_deep")]),
        (
            "oversize",
            format!("{{\"pad\": \"{}\"}}", "x".repeat(70_000)),
            vec![(None, "oversized")],
        ),
    ];
    for (what, payload, expected) in cases {
        let out = rig.live(1, "frigate/reviews", payload);
        assert_eq!(data_errors(&out), expected, "{what}");
        assert!(alarm_record(&out).is_empty(), "{what} raises nothing");
        assert!(states(&out).is_empty(), "{what} keeps the last good state");
    }
    let genai = rig.live(
        2,
        "frigate/reviews",
        r#"{"type": "genai", "after": {"id": "a1"}}"#,
    );
    assert!(
        genai.is_empty(),
        "other message types carry nothing: {genai:?}"
    );
    let retained = rig.send(
        3,
        "frigate/reviews",
        review("new", "old1", "gate_cam", "alert", &["person"], &[]).as_bytes(),
        true,
    );
    assert!(
        retained.is_empty(),
        "a retained review is history: {retained:?}"
    );
}

#[test]
fn hostile_strings_sanitised() {
    let mut rig = Rig::new(&config());
    let out = rig.live(
        0,
        "frigate/reviews",
        review(
            "new",
            "h1",
            "gate_cam",
            "alert",
            &["per\u{1b}[31mson\u{202e}"],
            &["ya\u{7}rd"],
        ),
    );
    let records = alarm_record(&out);
    let text = &records[0].1.expect("a record").text;
    assert_eq!(
        text, "person @ yard",
        "escape sequences and controls removed"
    );
    let bad_camera = rig.live(1, "frigate/gate\u{1b}cam/status/detect", "online");
    assert_eq!(
        data_errors(&bad_camera),
        vec![(None, "bad_topic")],
        "unclean camera name"
    );
}

// --- With mosquitto and `guardroom serve` ---

/// Renders a guardroom configuration with the Frigate adapter on `broker_url`.
fn frigate_config(broker_url: &str) -> String {
    let base = support::config_toml(
        "itest",
        broker_url,
        &support::unique_client_id("gr-frigate"),
        &[],
    );
    format!(
        "{base}\n[adapters.frigate]\nenabled = true\nstatus_debounce_s = 2\nevent_timeout_s = 600\n\n\
         [adapters.frigate.devices.gate_cam]\nid = \"{GATE}\"\nname = \"东门摄像机\"\nbuilding = \"东区\"\nzone = \"东门\"\n"
    )
}

#[test]
fn serve_records_frigate_cameras_and_alarms() {
    let broker = Broker::start_new();
    let home = Home::new();
    let config = home.path().join("guardroom.toml");
    std::fs::write(&config, frigate_config(&broker.url())).unwrap();
    let database = home.path().join("guardroom.sqlite");

    // Frigate's retained topics are there before guardroom starts.
    let mut publisher = Publisher::connect(broker.port());
    publisher.publish("frigate/available", "online", true);
    publisher.publish("frigate/gate_cam/status/detect", "online", true);
    publisher.publish("frigate/garage_cam/status/detect", "online", true);
    publisher.publish("frigate/gate_cam/recordings/state", "ON", true);
    publisher.flush();

    let mut serve = home.serve(&config, &database);
    wait_for("the database", DEADLINE, || {
        serve.assert_running();
        projection(&database)
    });
    let status = home.wait_for_status(
        "two Frigate cameras in status --json",
        &database,
        &mut serve,
        |status| status["devices"]["by_kind"]["camera"]["total"] == 2,
    );
    assert_eq!(
        status["devices"]["by_kind"]["camera"]["normal"], 2,
        "both ok: {status}"
    );
    assert_eq!(status["bad_payloads"], 0, "no bad payloads: {status}");
    let found = projection(&database).unwrap();
    let gate = &found.devices[GATE];
    assert_eq!(gate.spec.kind, DeviceKind::Camera, "a camera");
    assert_eq!(gate.spec.name, "东门摄像机", "mapped name");
    assert_eq!(
        gate.spec.gateway.as_deref(),
        Some(GATEWAY_ID),
        "behind the Frigate gateway"
    );
    assert_eq!(
        gate.reported.as_ref().and_then(|r| r.recording),
        Some(true),
        "recording"
    );
    assert!(
        found.devices.contains_key("frigate-garage-cam"),
        "unmapped camera by its name"
    );
    assert!(
        found.gateways.contains_key(GATEWAY_ID),
        "the gateway is recorded"
    );

    // A review item: new, update, end.
    let id = "1800000000.25-itest1";
    publisher.publish(
        "frigate/reviews",
        review("new", id, "gate_cam", "alert", &["person"], &["gate_zone"]),
        false,
    );
    publisher.flush();
    let alarm = wait_for("the review's alarm", DEADLINE, || {
        serve.assert_running();
        let found = projection(&database)?;
        found
            .alarms
            .open
            .values()
            .find(|alarm| alarm.source == format!("ext:frigate-{id}"))
            .cloned()
    });
    assert_eq!(alarm.condition, Condition::External, "an external alarm");
    assert_eq!(alarm.priority, Priority::P2, "alert is P2");
    assert_eq!(alarm.device.as_deref(), Some(GATE), "on the camera");
    assert_eq!(alarm.name, "东门摄像机", "named after the camera");
    assert_eq!(alarm.building, "东区", "building");
    assert_eq!(
        alarm.text.as_deref(),
        Some("person @ gate_zone"),
        "label and zone"
    );
    let status = home.status_json(&database);
    assert_eq!(status["alarms"]["open"], 1, "one open alarm: {status}");
    assert_eq!(status["alarms"]["by_priority"]["P2"], 1, "at P2: {status}");

    publisher.publish(
        "frigate/reviews",
        review(
            "update",
            id,
            "gate_cam",
            "alert",
            &["person", "car"],
            &["gate_zone"],
        ),
        false,
    );
    publisher.publish(
        "frigate/reviews",
        review(
            "end",
            id,
            "gate_cam",
            "alert",
            &["person", "car"],
            &["gate_zone"],
        ),
        false,
    );
    publisher.flush();
    let closed = wait_for("the alarm closed at the source", DEADLINE, || {
        serve.assert_running();
        let found = projection(&database)?;
        found
            .alarms
            .closed
            .iter()
            .find(|closed| closed.id == alarm.id)
            .cloned()
    });
    assert_eq!(
        closed.closed.as_ref().map(|closure| closure.disposition),
        Some(Disposition::ClosedAtSource),
        "closed by the end message"
    );
    assert_eq!(
        closed.occurrences, alarm.occurrences,
        "the update added no repeat"
    );
    let status = home.status_json(&database);
    assert_eq!(status["alarms"]["open"], 0, "no open alarm left: {status}");

    // A camera whose detect role stays offline past the debounce.
    publisher.publish("frigate/garage_cam/status/detect", "offline", true);
    publisher.flush();
    let status = home.wait_for_status(
        "video loss on the garage camera",
        &database,
        &mut serve,
        |status| status["devices"]["by_status"]["video_loss"] == 1,
    );
    assert_eq!(status["alarms"]["open"], 1, "a video loss alarm: {status}");
    let found = projection(&database).unwrap();
    let loss = found
        .alarms
        .open
        .values()
        .find(|alarm| alarm.condition == Condition::VideoLoss)
        .expect("a video loss alarm");
    assert_eq!(
        loss.device.as_deref(),
        Some("frigate-garage-cam"),
        "on the garage camera"
    );

    // Frigate goes down: its cameras' alarms are covered by the gateway.
    publisher.publish("frigate/available", "offline", true);
    publisher.flush();
    wait_for("the Frigate gateway offline", DEADLINE, || {
        let found = projection(&database)?;
        let gateway = found.gateways.get(GATEWAY_ID)?;
        (gateway.availability == guardroom::domain::Availability::Offline).then_some(())
    });
    let status = home.wait_for_status(
        "the video loss alarm suppressed",
        &database,
        &mut serve,
        |status| status["alarms"]["by_state"]["suppressed"] == 1,
    );
    assert_eq!(status["alarms"]["open"], 1, "still counted: {status}");

    let output = serve.output();
    let exit = serve.terminate();
    assert!(exit.success(), "serve exited with {exit}\n{output}");
}

#[test]
fn example_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/adapter-frigate.toml");
    let config = guardroom::config::load(&path, Lang::En)
        .unwrap_or_else(|error| panic!("{}", error.render(Lang::En)));
    let frigate = &config.adapters.frigate;
    assert!(frigate.enabled, "enabled");
    assert_eq!(frigate.status_debounce_s, 30, "debounce");
    assert_eq!(frigate.event_timeout_s, 600, "timeout");
    assert_eq!(frigate.devices.len(), 2, "two cameras mapped");
    assert_eq!(
        frigate.devices["gate_cam"].name.as_deref(),
        Some("东门摄像机"),
        "the gate camera's name"
    );
    assert!(frigate::build(frigate).is_some(), "the adapter is built");

    let home = Home::new();
    let output = home.run(&["check-config", "--config", path.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "check-config failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn bad_options_rejected() {
    let load = |text: &str| {
        guardroom::config::load_str(text, "test.toml", Path::new("."), Lang::En)
            .expect_err("invalid options")
            .render(Lang::En)
    };
    let ranges =
        load("[adapters.frigate]\nalert_priority = \"urgent\"\nstatus_debounce_s = 99999\n");
    for key in [
        "adapters.frigate.alert_priority",
        "adapters.frigate.status_debounce_s",
    ] {
        assert!(ranges.contains(key), "{key} named in:\n{ranges}");
    }
    let source = load("[adapters.frigate]\nalarms_from = \"both\"\n");
    assert!(
        source.contains("adapters.frigate.alarms_from"),
        "alarms_from named in:\n{source}"
    );
}
