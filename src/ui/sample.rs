//! A small invented site for screen snapshots and the frame benchmark,
//! built by folding events so it exercises the same path as live data.

use std::path::PathBuf;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::app::{App, Role, SiteInfo};
use crate::domain::device::{
    DetectorClass, DeviceKind, DeviceSpec, Liveness, Reported, ReportedState,
};
use crate::domain::projection::Projection;
use crate::domain::{Event, EventBody};
use crate::ingest::link::{LinkState, LinkStatus};

/// Returns the fixed time the sample is seen at: 2026-12-04 20:00 in Shanghai.
pub fn sample_now() -> Timestamp {
    "2026-12-04T12:00:00Z".parse().expect("valid timestamp")
}

fn spec(
    id: &str,
    kind: DeviceKind,
    class: Option<DetectorClass>,
    name: &str,
    building: &str,
    zone: &str,
) -> DeviceSpec {
    DeviceSpec {
        id: id.to_owned(),
        kind,
        class,
        name: name.to_owned(),
        building: building.to_owned(),
        zone: zone.to_owned(),
        gateway: None,
        interval_s: 60,
    }
}

struct Builder {
    projection: Projection,
    now: Timestamp,
    seq: i64,
}

impl Builder {
    fn apply(&mut self, seconds_ago: i64, body: EventBody) {
        self.seq += 1;
        let mut event = Event::new(self.now - SignedDuration::from_secs(seconds_ago), body);
        event.seq = self.seq;
        self.projection.apply(&event);
    }

    fn device(&mut self, spec: DeviceSpec, reported: Option<(Reported, i64)>) {
        let id = spec.id.clone();
        self.apply(7200, EventBody::DeviceRegistered { spec });
        if let Some((reported, seconds_ago)) = reported {
            let seen_at = Some(self.now - SignedDuration::from_secs(seconds_ago));
            self.apply(
                seconds_ago,
                EventBody::StateReported {
                    device: id,
                    reported,
                    retained: false,
                    seen_at,
                },
            );
        }
    }
}

/// Thirteen devices covering every status.
pub fn sample_app() -> App {
    let now = sample_now();
    let mut b = Builder {
        projection: Projection::default(),
        now,
        seq: 0,
    };
    use DeviceKind::{Camera, Detector, Door};
    use ReportedState as S;

    let mut locked = Reported::new(S::Closed);
    locked.locked = Some(true);
    locked.battery = Some(87);
    locked.signal = Some(-61);
    b.device(
        spec("b1-door-east", Door, None, "1号楼东门", "1号楼", "东门"),
        Some((locked, 10)),
    );
    b.device(
        spec("b1-door-west", Door, None, "1号楼西门", "1号楼", "西门"),
        Some((Reported::new(S::Open), 5)),
    );
    b.device(
        spec("b2-door-garage", Door, None, "2号楼车库门", "2号楼", "车库"),
        Some((Reported::new(S::Forced), 20)),
    );
    let mut recording = Reported::new(S::Ok);
    recording.recording = Some(true);
    b.device(
        spec(
            "b2-cam-lobby",
            Camera,
            None,
            "2号楼大堂摄像机",
            "2号楼",
            "大堂",
        ),
        Some((recording, 15)),
    );
    b.device(
        spec("b3-cam-gate", Camera, None, "南门摄像机", "3号楼", "南门"),
        Some((Reported::new(S::VideoLoss), 30)),
    );
    b.device(
        spec(
            "b3-smoke-101",
            Detector,
            Some(DetectorClass::Smoke),
            "3号楼101烟感",
            "3号楼",
            "1单元",
        ),
        Some((Reported::new(S::Alarm), 8)),
    );
    let mut low = Reported::new(S::Normal);
    low.battery = Some(9);
    low.battery_low = true;
    b.device(
        spec(
            "b4-gas-kitchen",
            Detector,
            Some(DetectorClass::Gas),
            "食堂燃气探测器",
            "4号楼",
            "食堂",
        ),
        Some((low, 40)),
    );
    b.device(
        spec(
            "b4-pir-roof",
            Detector,
            Some(DetectorClass::Pir),
            "4号楼天台红外",
            "4号楼",
            "天台",
        ),
        Some((Reported::new(S::Normal), 1000)),
    );
    b.device(
        spec(
            "b5-water-pump",
            Detector,
            Some(DetectorClass::WaterLeak),
            "水泵房水浸",
            "5号楼",
            "水泵房",
        ),
        Some((Reported::new(S::Normal), 50)),
    );
    b.apply(
        600,
        EventBody::AvailabilityChanged {
            device: "b5-water-pump".into(),
            online: false,
            retained: false,
        },
    );
    b.device(
        spec(
            "b5-door-bike",
            Door,
            None,
            "5号楼非机动车库门",
            "5号楼",
            "车棚",
        ),
        None,
    );
    b.device(
        spec(
            "b6-cam-park",
            Camera,
            None,
            "6号楼停车场摄像机",
            "6号楼",
            "停车场",
        ),
        Some((Reported::new(S::Ok), 25)),
    );
    b.apply(
        12,
        EventBody::DataErrorRaised {
            device: "b6-cam-park".into(),
            topic: "dev/b6-cam-park/state".into(),
            code: "invalid_json".into(),
            reason: "invalid JSON: EOF while parsing an object at line 1 column 9".into(),
        },
    );
    let mut glass = spec(
        "b6-glass",
        Detector,
        Some(DetectorClass::GlassBreak),
        "6号楼玻璃破碎",
        "6号楼",
        "门厅",
    );
    glass.gateway = Some("gw-6".into());
    b.device(glass, Some((Reported::new(S::Normal), 20)));
    b.apply(
        300,
        EventBody::GatewayAvailabilityChanged {
            gateway: "gw-6".into(),
            online: false,
            retained: false,
        },
    );
    b.apply(
        40,
        EventBody::DeviceDiscovered {
            spec: spec(
                "stray-sensor-9",
                DeviceKind::Unknown,
                None,
                "stray-sensor-9",
                "",
                "",
            ),
        },
    );
    b.apply(
        3,
        EventBody::StateReported {
            device: "stray-sensor-9".into(),
            reported: Reported::new(S::Normal),
            retained: false,
            seen_at: Some(now - SignedDuration::from_secs(3)),
        },
    );
    b.apply(
        9,
        EventBody::DeviceEventRaised {
            device: "b2-door-garage".into(),
            event_id: "e-1".into(),
            event: "door_forced".into(),
            text: None,
            source_ts: None,
        },
    );
    b.apply(
        3600,
        EventBody::LinkChanged {
            online: true,
            detail: String::new(),
        },
    );

    let mut app = App::new(sample_site(), Role::Recorder, b.projection);
    app.link = Some(LinkState {
        status: LinkStatus::Online {
            since: now - SignedDuration::from_secs(3600),
        },
        session_present: Some(true),
    });
    app.last_message = Some(now - SignedDuration::from_secs(1));
    app.bad_payloads = 1;
    app
}

/// `count` devices in twelve buildings with a spread of states, for the
/// frame benchmark.
pub fn large_app(count: usize) -> App {
    let now = sample_now();
    let mut b = Builder {
        projection: Projection::default(),
        now,
        seq: 0,
    };
    let states = [
        ReportedState::Closed,
        ReportedState::Open,
        ReportedState::Forced,
        ReportedState::HeldOpen,
    ];
    for index in 0..count {
        let building = format!("{}号楼", index % 12 + 1);
        let spec = spec(
            &format!("door-{index:05}"),
            DeviceKind::Door,
            None,
            &format!("{building}{}单元门禁", index % 6 + 1),
            &building,
            &format!("{}单元", index % 6 + 1),
        );
        // Every seventh device never reports; the rest report at various ages.
        let reported = (index % 7 != 0).then(|| {
            (
                Reported::new(states[index % states.len()]),
                (index % 400) as i64,
            )
        });
        b.device(spec, reported);
    }
    App::new(sample_site(), Role::Recorder, b.projection)
}

fn sample_site() -> SiteInfo {
    SiteInfo {
        id: "sample".into(),
        name: "示例花园".into(),
        time_zone: TimeZone::get("Asia/Shanghai").expect("bundled time zone"),
        liveness: Liveness::default(),
        database: PathBuf::from("sample.sqlite"),
    }
}
