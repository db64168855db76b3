//! The native payload decoders, one table per topic kind: each row is a
//! payload as it could arrive from the broker and the exact result or error
//! code it must give.

use guardroom::domain::alarm::{ExternalAlarm, Priority};
use guardroom::domain::device::{DeviceKind, Reported, ReportedState};
use guardroom::domain::observation::SelfDescription;
use guardroom::domain::projection::Projection;
use guardroom::domain::{Event, EventBody, Observation};
use guardroom::ingest::{Limits, Route, decode};
use jiff::Timestamp;

/// Returns the receive time every row is decoded at.
fn now() -> Timestamp {
    "2026-12-04T01:00:00Z".parse().unwrap()
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// What a row must decode to: an observation, nothing, or an error code.
#[derive(Debug, PartialEq)]
enum Expect {
    Observed(Observation),
    Ignored,
    Error(&'static str),
}

struct Case {
    name: &'static str,
    payload: Vec<u8>,
    retained: bool,
    expect: Expect,
}

fn case(name: &'static str, payload: impl Into<Vec<u8>>, retained: bool, expect: Expect) -> Case {
    Case {
        name,
        payload: payload.into(),
        retained,
        expect,
    }
}

/// Decodes every row on `route` and asserts its result, reporting each
/// mismatch by row name.
fn check(route: &Route, cases: &[Case]) {
    let limits = Limits::default();
    let mut failures = Vec::new();
    for case in cases {
        let got = match decode(route, &case.payload, case.retained, now(), &limits) {
            Ok(Some(observation)) => Expect::Observed(observation),
            Ok(None) => Expect::Ignored,
            Err(error) => Expect::Error(error.code()),
        };
        if got != case.expect {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                case.name, case.expect, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed on {route:?}:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Builds a JSON object `{…"pad": "xxx…"}` of exactly `size` bytes.
fn object_of_size(size: usize, prefix: &str) -> Vec<u8> {
    let frame = format!("{{{prefix}\"pad\":\"\"}}").len();
    let pad = "x".repeat(size - frame);
    format!("{{{prefix}\"pad\":\"{pad}\"}}").into_bytes()
}

fn state(
    reported: Reported,
    describes: SelfDescription,
    retained: bool,
    seen_at: Option<Timestamp>,
) -> Expect {
    Expect::Observed(Observation::State {
        device: "door-1".into(),
        describes,
        reported,
        retained,
        seen_at,
    })
}

#[test]
fn device_state_payloads() {
    let plain = SelfDescription::default;
    let closed = || Reported::new(ReportedState::Closed);
    let limit = Limits::default().max_payload_bytes;

    let full = Reported {
        state: ReportedState::Open,
        locked: Some(false),
        recording: Some(true),
        battery: Some(80),
        battery_low: false,
        signal: Some(-70),
    };
    let described = SelfDescription {
        kind: Some(DeviceKind::Door),
        class: None,
        name: Some("East gate".into()),
        building: Some("B3".into()),
        zone: Some("north".into()),
        gateway: Some("gw-1".into()),
        interval_s: None,
    };
    let low = |battery| Reported {
        battery: Some(battery),
        battery_low: true,
        ..Reported::new(ReportedState::Closed)
    };

    let cases = [
        // Good payloads.
        case(
            "live uses receive time",
            r#"{"v":1,"ts":"2026-12-04T08:00:00+08:00","state":"closed"}"#,
            false,
            state(closed(), plain(), false, Some(now())),
        ),
        case(
            "all fields",
            r#"{"v":1,"state":"open","kind":"door","name":"East gate","building":"B3",
               "zone":"north","gw":"gw-1","locked":false,"recording":true,"battery":80,
               "battery_low":false,"signal":-70}"#,
            false,
            state(full, described, false, Some(now())),
        ),
        case(
            "retained RFC 3339 ts",
            r#"{"ts":"2026-12-04T08:30:00+08:00","state":"closed"}"#,
            true,
            state(closed(), plain(), true, Some(ts("2026-12-04T00:30:00Z"))),
        ),
        case(
            "retained Unix ms ts",
            r#"{"ts":1796345100250,"state":"closed"}"#,
            true,
            state(
                closed(),
                plain(),
                true,
                Some(Timestamp::from_millisecond(1_796_345_100_250).unwrap()),
            ),
        ),
        case(
            "retained future ts clamped",
            r#"{"ts":"2026-12-05T00:00:00Z","state":"closed"}"#,
            true,
            state(closed(), plain(), true, Some(now())),
        ),
        case(
            "retained without ts",
            r#"{"state":"closed"}"#,
            true,
            state(closed(), plain(), true, None),
        ),
        case(
            "null optional fields",
            r#"{"v":null,"ts":null,"state":"closed","battery":null,"name":null,"locked":null}"#,
            false,
            state(closed(), plain(), false, Some(now())),
        ),
        case(
            "battery at threshold is low",
            r#"{"state":"closed","battery":15}"#,
            false,
            state(low(15), plain(), false, Some(now())),
        ),
        case(
            "battery above threshold",
            r#"{"state":"closed","battery":16}"#,
            false,
            state(
                Reported {
                    battery: Some(16),
                    ..closed()
                },
                plain(),
                false,
                Some(now()),
            ),
        ),
        case(
            "escapes stripped from name",
            "{\"state\":\"closed\",\"name\":\"\\u001b[31mEast\\u001b[0m gate\\u202e\"}",
            false,
            state(
                closed(),
                SelfDescription {
                    name: Some("East gate".into()),
                    ..plain()
                },
                false,
                Some(now()),
            ),
        ),
        case(
            "name of only controls dropped",
            r#"{"state":"closed","name":"\u0007\u0007"}"#,
            false,
            state(closed(), plain(), false, Some(now())),
        ),
        case(
            "brackets inside strings not nesting",
            r#"{"state":"closed","zone":"[[[[[[[[[[{{{{{{{{{{"}"#,
            false,
            state(
                closed(),
                SelfDescription {
                    zone: Some("[[[[[[[[[[{{{{{{{{{{".into()),
                    ..plain()
                },
                false,
                Some(now()),
            ),
        ),
        case(
            "nesting at the limit",
            r#"{"state":"closed","x":[[[[[[[1]]]]]]]}"#,
            false,
            state(closed(), plain(), false, Some(now())),
        ),
        case(
            "size at the limit",
            object_of_size(limit, r#""state":"closed","#),
            false,
            state(closed(), plain(), false, Some(now())),
        ),
        // Invalid JSON.
        case(
            "truncated",
            r#"{"state":"closed""#,
            false,
            Expect::Error("invalid_json"),
        ),
        case(
            "trailing comma",
            r#"{"state":"closed",}"#,
            false,
            Expect::Error("invalid_json"),
        ),
        case("bare word", "closed", false, Expect::Error("invalid_json")),
        case(
            "array",
            r#"["closed"]"#,
            false,
            Expect::Error("not_an_object"),
        ),
        case(
            "JSON string",
            r#""closed""#,
            false,
            Expect::Error("not_an_object"),
        ),
        // Wrong types and values.
        case(
            "state is a number",
            r#"{"state":1}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "battery is a string",
            r#"{"state":"closed","battery":"80"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "battery over 100",
            r#"{"state":"closed","battery":101}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "battery negative",
            r#"{"state":"closed","battery":-1}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "signal out of range",
            r#"{"state":"closed","signal":-200}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "locked is a string",
            r#"{"state":"closed","locked":"yes"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "name is an object",
            r#"{"state":"closed","name":{"en":"x"}}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "unknown kind",
            r#"{"state":"closed","kind":"toaster"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "unknown detector class",
            r#"{"state":"normal","kind":"detector","class":"laser"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        // Null and missing required fields.
        case(
            "state is null",
            r#"{"state":null}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "state missing",
            r#"{"battery":80}"#,
            false,
            Expect::Error("bad_field"),
        ),
        // Encoding, size and depth.
        case(
            "not UTF-8",
            b"\xff\xfe\xfd".to_vec(),
            false,
            Expect::Error("not_utf8"),
        ),
        case(
            "not UTF-8 inside a string",
            b"{\"state\":\"clo\xc3sed\"}".to_vec(),
            false,
            Expect::Error("not_utf8"),
        ),
        case("empty", "", false, Expect::Error("empty")),
        case("whitespace only", " \n\t", false, Expect::Error("empty")),
        case(
            "nested one past the limit",
            r#"{"state":"closed","x":[[[[[[[[1]]]]]]]]}"#,
            false,
            Expect::Error("too_deep"),
        ),
        case(
            "deeply nested",
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
            false,
            Expect::Error("too_deep"),
        ),
        case(
            "one byte over the size limit",
            object_of_size(limit + 1, r#""state":"closed","#),
            false,
            Expect::Error("oversized"),
        ),
        // Unknown states.
        case(
            "unknown state",
            r#"{"state":"exploded"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "state in wrong case",
            r#"{"state":"CLOSED"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        // Schema versions.
        case(
            "version 2",
            r#"{"v":2,"state":"closed"}"#,
            false,
            Expect::Error("unsupported_version"),
        ),
        case(
            "version 0",
            r#"{"v":0,"state":"closed"}"#,
            false,
            Expect::Error("unsupported_version"),
        ),
        case(
            "version as string",
            r#"{"v":"1","state":"closed"}"#,
            false,
            Expect::Error("unsupported_version"),
        ),
        case(
            "version as float",
            r#"{"v":1.5,"state":"closed"}"#,
            false,
            Expect::Error("unsupported_version"),
        ),
        // Timestamps.
        case(
            "ts without offset",
            r#"{"ts":"2026-12-04T08:00:00","state":"closed"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "ts is a word",
            r#"{"ts":"yesterday","state":"closed"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "ts is a boolean",
            r#"{"ts":true,"state":"closed"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "ts is fractional",
            r#"{"ts":1796345100250.5,"state":"closed"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "ts past year 9999",
            r#"{"ts":999999999999999999,"state":"closed"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "bad ts on live message",
            r#"{"ts":"soon","state":"closed"}"#,
            false,
            Expect::Error("bad_field"),
        ),
    ];
    check(&Route::DeviceState("door-1".into()), &cases);
}

fn device_avail(online: bool, retained: bool) -> Expect {
    Expect::Observed(Observation::Availability {
        device: "cam-1".into(),
        online,
        retained,
    })
}

fn gateway_avail(online: bool, retained: bool) -> Expect {
    Expect::Observed(Observation::GatewayAvailability {
        gateway: "gw-1".into(),
        online,
        retained,
    })
}

/// Rows shared by device and gateway availability, built with `expect`.
fn availability_cases(expect: fn(bool, bool) -> Expect) -> Vec<Case> {
    let limit = Limits::default().max_payload_bytes;
    vec![
        // Good payloads.
        case("plain online", "online", true, expect(true, true)),
        case("plain offline", "offline", true, expect(false, true)),
        case("live offline", "offline", false, expect(false, false)),
        case("upper case", "ONLINE", true, expect(true, true)),
        case("surrounding space", " offline\n", true, expect(false, true)),
        case("JSON string", r#""online""#, true, expect(true, true)),
        case(
            "JSON object",
            r#"{"state":"offline"}"#,
            true,
            expect(false, true),
        ),
        case(
            "JSON object with version and ts",
            r#"{"v":1,"ts":1796345100250,"state":"online"}"#,
            true,
            expect(true, true),
        ),
        // Invalid JSON.
        case(
            "truncated object",
            r#"{"state":"online""#,
            true,
            Expect::Error("invalid_json"),
        ),
        case(
            "unterminated string",
            r#""online"#,
            true,
            Expect::Error("invalid_json"),
        ),
        // Wrong types and unknown words.
        case(
            "state is a boolean",
            r#"{"state":true}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "state is null",
            r#"{"state":null}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "state missing",
            r#"{"status":"online"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case("unknown word", "maybe", true, Expect::Error("bad_field")),
        case("number", "1", true, Expect::Error("bad_field")),
        case("array", r#"["online"]"#, true, Expect::Error("bad_field")),
        case(
            "unknown word in object",
            r#"{"state":"sleeping"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        // Encoding, size and depth.
        case(
            "not UTF-8",
            b"onl\xffine".to_vec(),
            true,
            Expect::Error("not_utf8"),
        ),
        case("empty", "", true, Expect::Error("empty")),
        case("whitespace only", "   ", true, Expect::Error("empty")),
        case(
            "deeply nested",
            r#"{"state":"online","x":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{}}}}}}}}}"#,
            true,
            Expect::Error("too_deep"),
        ),
        case(
            "oversized",
            object_of_size(limit + 1, r#""state":"online","#),
            true,
            Expect::Error("oversized"),
        ),
        // The object form is version-checked, but availability never reads `ts`.
        case(
            "version 2",
            r#"{"v":2,"state":"online"}"#,
            true,
            Expect::Error("unsupported_version"),
        ),
    ]
}

#[test]
fn device_availability_payloads() {
    check(
        &Route::DeviceAvailability("cam-1".into()),
        &availability_cases(device_avail),
    );
}

#[test]
fn gateway_availability_payloads() {
    check(
        &Route::GatewayAvailability("gw-1".into()),
        &availability_cases(gateway_avail),
    );
}

fn event(event_id: &str, event: &str, text: Option<&str>, source_ts: Option<Timestamp>) -> Expect {
    Expect::Observed(Observation::DeviceEvent {
        device: "smoke-9".into(),
        event_id: event_id.into(),
        event: event.into(),
        text: text.map(str::to_owned),
        source_ts,
    })
}

#[test]
fn device_event_payloads() {
    let limit = Limits::default().max_payload_bytes;
    let long_id = "e".repeat(65);
    let max_id = "e".repeat(64);
    let cases = [
        // Good payloads.
        case(
            "minimal",
            r#"{"id":"e1","type":"smoke"}"#,
            false,
            event("e1", "smoke", None, None),
        ),
        case(
            "RFC 3339 ts and text",
            r#"{"v":1,"id":"e2","type":"door_forced","ts":"2026-12-04T08:59:59+08:00","text":"Gate 3"}"#,
            false,
            event(
                "e2",
                "door_forced",
                Some("Gate 3"),
                Some(ts("2026-12-04T00:59:59Z")),
            ),
        ),
        case(
            "Unix ms ts",
            r#"{"id":"e3","type":"sos","ts":1796345100250}"#,
            false,
            event(
                "e3",
                "sos",
                None,
                Some(Timestamp::from_millisecond(1_796_345_100_250).unwrap()),
            ),
        ),
        case(
            "future ts kept as sent",
            r#"{"id":"e4","type":"sos","ts":"2030-01-01T00:00:00Z"}"#,
            false,
            event("e4", "sos", None, Some(ts("2030-01-01T00:00:00Z"))),
        ),
        case(
            "id of 64 characters",
            format!(r#"{{"id":"{max_id}","type":"smoke"}}"#),
            false,
            event(&max_id, "smoke", None, None),
        ),
        case(
            "escapes stripped from text",
            "{\"id\":\"e5\",\"type\":\"smoke\",\"text\":\"\\u001b]0;pwned\\u0007Kitchen\"}",
            false,
            event("e5", "smoke", Some("Kitchen"), None),
        ),
        // Retained events are history, not alarms.
        case(
            "retained event ignored",
            r#"{"id":"e6","type":"smoke"}"#,
            true,
            Expect::Ignored,
        ),
        case(
            "retained bad event still counted",
            r#"{"id":"e7"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        // Invalid JSON.
        case(
            "truncated",
            r#"{"id":"e1","type":"#,
            false,
            Expect::Error("invalid_json"),
        ),
        case("number", "42", false, Expect::Error("not_an_object")),
        // Wrong types, nulls and bad values.
        case(
            "id is a number",
            r#"{"id":5,"type":"smoke"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "id is null",
            r#"{"id":null,"type":"smoke"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "type is null",
            r#"{"id":"e1","type":null}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "type missing",
            r#"{"id":"e1"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "id empty",
            r#"{"id":"","type":"smoke"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "id too long",
            format!(r#"{{"id":"{long_id}","type":"smoke"}}"#),
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "type not snake_case",
            r#"{"id":"e1","type":"Door Forced"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "text is a number",
            r#"{"id":"e1","type":"smoke","text":3}"#,
            false,
            Expect::Error("bad_field"),
        ),
        // Encoding, size and depth.
        case(
            "not UTF-8",
            b"\xc0\xaf".to_vec(),
            false,
            Expect::Error("not_utf8"),
        ),
        case("empty", "", false, Expect::Error("empty")),
        case(
            "deeply nested",
            r#"{"id":"e1","type":"smoke","x":[[[[[[[[[]]]]]]]]]}"#,
            false,
            Expect::Error("too_deep"),
        ),
        case(
            "oversized",
            object_of_size(limit + 1, r#""id":"e1","type":"smoke","#),
            false,
            Expect::Error("oversized"),
        ),
        // Schema versions and timestamps.
        case(
            "version 2",
            r#"{"v":2,"id":"e1","type":"smoke"}"#,
            false,
            Expect::Error("unsupported_version"),
        ),
        case(
            "ts without offset",
            r#"{"id":"e1","type":"smoke","ts":"2026-12-04 08:00"}"#,
            false,
            Expect::Error("bad_field"),
        ),
        case(
            "ts is an array",
            r#"{"id":"e1","type":"smoke","ts":[]}"#,
            false,
            Expect::Error("bad_field"),
        ),
    ];
    check(&Route::DeviceEvent("smoke-9".into()), &cases);
}

fn external(
    priority: Priority,
    active: bool,
    text: &str,
    device: Option<&str>,
    zone: &str,
) -> Expect {
    Expect::Observed(Observation::ExternalAlarm {
        id: "a-7".into(),
        record: Some(ExternalAlarm {
            id: "a-7".into(),
            priority,
            active,
            text: text.into(),
            device: device.map(str::to_owned),
            building: String::new(),
            zone: zone.into(),
        }),
    })
}

#[test]
fn external_alarm_payloads() {
    let closed = Expect::Observed(Observation::ExternalAlarm {
        id: "a-7".into(),
        record: None,
    });
    let cases = [
        case(
            "minimal",
            r#"{"priority":"P2","text":"Lift 3 trapped passenger"}"#,
            true,
            external(Priority::P2, true, "Lift 3 trapped passenger", None, ""),
        ),
        case(
            "numeric priority, inactive, device and zone",
            r#"{"v":1,"priority":1,"active":false,"text":"Pump fault","device":"pump-1","zone":"B2"}"#,
            true,
            external(Priority::P1, false, "Pump fault", Some("pump-1"), "B2"),
        ),
        case(
            "escapes stripped from text",
            "{\"priority\":\"p3\",\"text\":\"\\u001b[2JFence\"}",
            false,
            external(Priority::P3, true, "Fence", None, ""),
        ),
        case("emptied record closes it", "", true, closed),
        case(
            "state closed closes it",
            r#"{"priority":"P2","text":"x","state":"closed"}"#,
            true,
            Expect::Observed(Observation::ExternalAlarm {
                id: "a-7".into(),
                record: None,
            }),
        ),
        case(
            "priority missing",
            r#"{"text":"x"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "priority P5",
            r#"{"priority":"P5","text":"x"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "text missing",
            r#"{"priority":"P2"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "unknown state",
            r#"{"priority":"P2","text":"x","state":"gone"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "device with a slash",
            r#"{"priority":"P2","text":"x","device":"a/b"}"#,
            true,
            Expect::Error("bad_field"),
        ),
        case(
            "version 2",
            r#"{"v":2,"priority":"P2","text":"x"}"#,
            true,
            Expect::Error("unsupported_version"),
        ),
        case("not JSON", "{", true, Expect::Error("invalid_json")),
    ];
    check(&Route::Alarm("a-7".into()), &cases);
}

#[test]
fn unrouted_topics_ignored() {
    let limits = Limits::default();
    for route in [Route::Other, Route::BadId] {
        for payload in [&b"{\"state\":\"closed\"}"[..], b"\xff", b""] {
            let result = decode(&route, payload, false, now(), &limits);
            assert_eq!(
                result,
                Ok(None),
                "{route:?} with payload {payload:?} must decode to nothing"
            );
        }
    }
}

/// The decoder accepts any known state. Whether it suits the device's kind
/// is decided by the projection, which raises a data error instead.
#[test]
fn state_invalid_for_kind() {
    let door = guardroom::domain::device::DeviceSpec {
        id: "door-1".into(),
        kind: DeviceKind::Door,
        class: None,
        name: "Door 1".into(),
        building: String::new(),
        zone: String::new(),
        gateway: None,
        interval_s: 60,
    };
    let mut projection = Projection::default();
    projection.apply(&Event::new(
        now(),
        EventBody::DeviceRegistered { spec: door },
    ));

    let decoded = decode(
        &Route::DeviceState("door-1".into()),
        br#"{"state":"video_loss"}"#,
        false,
        now(),
        &Limits::default(),
    );
    let Ok(Some(observation)) = decoded else {
        panic!("a known state must decode, got {decoded:?}");
    };

    let observed = projection.observe(&observation, 300);
    assert_eq!(
        observed.events.len(),
        1,
        "one event expected, got {:?}",
        observed.events
    );
    let EventBody::DataErrorRaised { device, code, .. } = &observed.events[0] else {
        panic!("a data error expected, got {:?}", observed.events[0]);
    };
    assert_eq!(device, "door-1", "data error names the device");
    assert_eq!(code, "bad_field", "data error code");
    assert_eq!(
        observed.heartbeat, None,
        "an invalid report is no heartbeat"
    );
}
