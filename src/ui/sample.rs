//! A small invented site for screen snapshots and the frame benchmark,
//! built by folding events so it exercises the same path as live data.
//!
//! The community (星澜雅苑), its buildings, devices and operators are
//! invented; no real names, phone numbers or addresses appear here.

use std::path::PathBuf;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use uuid::Uuid;

use crate::app::{AlarmGuide, App, Role, SiteInfo};
use crate::domain::alarm::{Action, ActionKind, Change, Condition, Disposition, Flood, Raise};
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
    fn new() -> Self {
        Self {
            projection: Projection::default(),
            now: sample_now(),
            seq: 0,
        }
    }

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

    fn raise(&mut self, seconds_ago: i64, raise: Raise) {
        self.apply(seconds_ago, EventBody::AlarmRaised { raise });
    }

    fn change(&mut self, seconds_ago: i64, alarm: u64, change: Change) {
        self.apply(seconds_ago, EventBody::AlarmChanged { alarm, change });
    }

    /// Folds an operator's action in, as the recorder would after checking it.
    fn act(
        &mut self,
        seconds_ago: i64,
        alarm: Option<u64>,
        kind: ActionKind,
        who: Who,
        remark: &str,
    ) {
        let action = Action {
            id: Uuid::from_u128(self.seq as u128 + 1),
            alarm,
            kind,
            operator: who.operator.into(),
            role: who.role.into(),
            console: who.console.into(),
            via_ssh: who.via_ssh,
            remark: remark.into(),
        };
        self.apply(seconds_ago, EventBody::AlarmActed { action });
    }
}

/// An invented operator at a console.
#[derive(Clone, Copy)]
struct Who {
    operator: &'static str,
    role: &'static str,
    console: &'static str,
    via_ssh: bool,
}

const GUARD_A: Who = Who {
    operator: "guard-a",
    role: "guard",
    console: "duty-1",
    via_ssh: false,
};

const GUARD_B: Who = Who {
    operator: "guard-b",
    role: "guard",
    console: "duty-1",
    via_ssh: false,
};

const SUPERVISOR: Who = Who {
    operator: "sup-1",
    role: "supervisor",
    console: "ssh-sup",
    via_ssh: true,
};

/// Builds a raise of `condition` at its default priority, active, for a
/// device whose id is also the alarm's source.
fn raise(id: u64, device: &str, condition: Condition, name: &str, zone: &str) -> Raise {
    let building = zone.split(' ').next().unwrap_or_default();
    Raise {
        alarm: id,
        source: device.into(),
        condition,
        priority: condition.default_priority(),
        device: Some(device.into()),
        name: name.into(),
        building: building.into(),
        zone: zone.into(),
        text: None,
        momentary: false,
        active: true,
        suppressed: false,
        out_of_service: false,
    }
}

/// Thirteen devices covering every device status, and alarms in every
/// priority and state, with closed ones for the history.
pub fn sample_app() -> App {
    let mut b = Builder::new();
    sample_devices(&mut b);
    sample_alarms(&mut b);
    finish(b)
}

/// Builds the devices of [`sample_app`] with 200 alarms raised within the
/// last minute: a flood, with repeats of one condition in one zone, P1
/// alarms among them and alarms suppressed behind an offline gateway.
pub fn flood_app() -> App {
    let mut b = Builder::new();
    sample_devices(&mut b);
    let mut id = 100;
    let mut raised = 0;
    let mut flood_started = false;
    // (condition, zones, alarms per zone)
    let plan: [(Condition, &[&str], usize); 5] = [
        (
            Condition::DeviceOffline,
            &[
                "8栋 1单元",
                "8栋 2单元",
                "8栋 3单元",
                "7栋 1单元",
                "7栋 2单元",
                "7栋 3单元",
            ],
            20,
        ),
        (
            Condition::Tamper,
            &["8栋 1单元", "8栋 2单元", "8栋 3单元", "8栋 4单元"],
            10,
        ),
        (
            Condition::VideoLoss,
            &["地下车库 A区", "地下车库 B区", "地下车库 C区"],
            10,
        ),
        (Condition::DoorHeldOpen, &["7栋 1单元"], 7),
        (Condition::Fire, &["8栋 2单元"], 3),
    ];
    for (condition, zones, per_zone) in plan {
        for (zone_index, zone) in zones.iter().enumerate() {
            for unit in 0..per_zone {
                id += 1;
                raised += 1;
                let device = format!("flood-{}-{zone_index}-{unit}", condition.as_str());
                let name = match condition {
                    Condition::DeviceOffline => format!("{zone} {}楼门禁", unit + 1),
                    Condition::Tamper => format!("{zone} {}楼读卡器", unit + 1),
                    Condition::VideoLoss => format!("{zone} {}号摄像机", unit + 1),
                    Condition::DoorHeldOpen => format!("{zone} {}号门", unit + 1),
                    _ => format!("{zone} {}0{} 烟感", unit + 1, unit + 2),
                };
                let mut alarm = raise(id, &device, condition, &name, zone);
                // The gateway of 7栋 3单元 is down: its devices' alarms are
                // suppressed and only counted.
                alarm.suppressed = *zone == "7栋 3单元";
                // 200 alarms over the last 60 s, spread by a fixed stride.
                let seconds_ago = 60 - (raised * 60 / 200) as i64;
                b.raise(seconds_ago.max(0), alarm);
                if raised == 11 && !flood_started {
                    flood_started = true;
                    b.apply(
                        seconds_ago,
                        EventBody::AlarmFlood {
                            flood: Flood::Started { rate: 11 },
                        },
                    );
                }
            }
        }
    }
    // The guard has begun: the first five offline alarms of 8栋 1单元 are acknowledged.
    for alarm in 101..106 {
        b.act(5, Some(alarm), ActionKind::Acknowledge, GUARD_A, "");
    }
    finish(b)
}

/// Builds `count` open alarms across twelve buildings, six units each, with
/// a few P1 alarms and a third acknowledged, for the frame benchmark.
pub fn large_alarm_app(count: usize) -> App {
    let mut b = Builder::new();
    let conditions = [
        Condition::DeviceOffline,
        Condition::DoorHeldOpen,
        Condition::VideoLoss,
        Condition::Tamper,
        Condition::LowBattery,
        Condition::DoorForced,
    ];
    let span_s = 7200;
    for index in 0..count {
        let building = format!("{}栋", index % 12 + 1);
        let zone = format!("{building} {}单元", index / 12 % 6 + 1);
        let condition = if index % 97 == 0 {
            Condition::Fire
        } else {
            conditions[index / 72 % conditions.len()]
        };
        let name = format!("{zone} {}号设备", index / 72 + 1);
        let alarm = raise(
            index as u64 + 1,
            &format!("dev-{index:05}"),
            condition,
            &name,
            &zone,
        );
        let seconds_ago = span_s - (index as i64 * span_s / count.max(1) as i64);
        b.raise(seconds_ago, alarm);
        if index % 3 == 0 {
            b.act(
                seconds_ago.saturating_sub(1).max(0),
                Some(index as u64 + 1),
                ActionKind::Acknowledge,
                GUARD_A,
                "",
            );
        }
    }
    b.apply(
        0,
        EventBody::AlarmFlood {
            flood: Flood::Started { rate: 11 },
        },
    );
    App::new(sample_site(), Role::Recorder, b.projection)
}

/// Builds the app of a sample with the link online and one bad payload.
fn finish(b: Builder) -> App {
    let now = b.now;
    let mut app = App::new(sample_site(), Role::Recorder, b.projection);
    app.link = Some(LinkState {
        status: LinkStatus::Online {
            since: now - SignedDuration::from_secs(3600),
        },
        session_present: Some(true),
    });
    app.last_message = Some(now - SignedDuration::from_secs(1));
    app.bad_payloads = 1;
    app.alarm_guide = sample_guide();
    app
}

/// Builds the cameras linked to the sample's zones and buildings, as the
/// configuration's `[[alarms.cameras]]` would link them.
fn sample_guide() -> AlarmGuide {
    const GUIDE_TOML: &str = r#"
[[devices]]
id = "b2-cam-lobby"
kind = "camera"
name = "2栋大堂摄像机"
building = "2栋"

[[devices]]
id = "b3-cam-gate"
kind = "camera"
name = "南门摄像机"
building = "3栋"

[[devices]]
id = "b6-cam-park"
kind = "camera"
name = "6栋停车场摄像机"
building = "6栋"

[[alarms.cameras]]
zone = "3栋 1单元"
cameras = ["b3-cam-gate"]

[[alarms.cameras]]
building = "3栋"
cameras = ["b3-cam-gate", "b6-cam-park"]

[[alarms.cameras]]
building = "2栋"
cameras = ["b2-cam-lobby"]
"#;
    let config = crate::config::load_str(
        GUIDE_TOML,
        "sample-guide.toml",
        std::path::Path::new("."),
        crate::i18n::Lang::En,
    )
    .expect("the sample guide configuration is valid");
    AlarmGuide::from_config(&config)
}

/// Registers the devices of the sample site, with reports covering every
/// status.
fn sample_devices(b: &mut Builder) {
    let now = b.now;
    use DeviceKind::{Camera, Detector, Door};
    use ReportedState as S;

    let mut locked = Reported::new(S::Closed);
    locked.locked = Some(true);
    locked.battery = Some(87);
    locked.signal = Some(-61);
    b.device(
        spec("b1-door-east", Door, None, "1栋东门", "1栋", "1栋 东门"),
        Some((locked, 10)),
    );
    b.device(
        spec("b1-door-west", Door, None, "1栋西门", "1栋", "1栋 西门"),
        Some((Reported::new(S::Open), 5)),
    );
    b.device(
        spec("b2-door-garage", Door, None, "2栋车库门", "2栋", "2栋 车库"),
        Some((Reported::new(S::Forced), 20)),
    );
    let mut recording = Reported::new(S::Ok);
    recording.recording = Some(true);
    b.device(
        spec(
            "b2-cam-lobby",
            Camera,
            None,
            "2栋大堂摄像机",
            "2栋",
            "2栋 大堂",
        ),
        Some((recording, 15)),
    );
    b.device(
        spec("b3-cam-gate", Camera, None, "南门摄像机", "3栋", "3栋 南门"),
        Some((Reported::new(S::VideoLoss), 30)),
    );
    b.device(
        spec(
            "b3-smoke-101",
            Detector,
            Some(DetectorClass::Smoke),
            "3栋101烟感",
            "3栋",
            "3栋 1单元",
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
            "4栋",
            "4栋 食堂",
        ),
        Some((low, 40)),
    );
    b.device(
        spec(
            "b4-pir-roof",
            Detector,
            Some(DetectorClass::Pir),
            "4栋天台红外",
            "4栋",
            "4栋 天台",
        ),
        Some((Reported::new(S::Normal), 1000)),
    );
    b.device(
        spec(
            "b5-water-pump",
            Detector,
            Some(DetectorClass::WaterLeak),
            "水泵房水浸",
            "5栋",
            "5栋 水泵房",
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
            "5栋非机动车库门",
            "5栋",
            "5栋 车棚",
        ),
        None,
    );
    b.device(
        spec(
            "b6-cam-park",
            Camera,
            None,
            "6栋停车场摄像机",
            "6栋",
            "6栋 停车场",
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
        "6栋玻璃破碎",
        "6栋",
        "6栋 门厅",
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
            session_lost: false,
        },
    );
    let mut sos = spec(
        "b5-sos-1201",
        Detector,
        Some(DetectorClass::PanicButton),
        "5栋1201紧急按钮",
        "5栋",
        "5栋 2单元",
    );
    sos.interval_s = 300;
    b.device(sos, Some((Reported::new(S::Alarm), 900)));
    b.device(
        spec("b7-door-u1", Door, None, "7栋1单元门禁", "7栋", "7栋 1单元"),
        Some((Reported::new(S::HeldOpen), 20)),
    );
    b.device(
        spec(
            "b8-smoke-301",
            Detector,
            Some(DetectorClass::Smoke),
            "8栋301烟感",
            "8栋",
            "8栋 1单元",
        ),
        Some((Reported::new(S::Fault), 4000)),
    );
}

/// Folds in alarms of every priority and state, and closed ones with each
/// disposition.
fn sample_alarms(b: &mut Builder) {
    use Condition as C;

    // The closed alarms first: a raise for a source and condition that is
    // still open would close the open one.
    closed_alarms(b);

    // P1 fire, unacknowledged and latched, repeated and escalated once.
    b.raise(
        140,
        raise(1, "b3-smoke-101", C::Fire, "3栋101烟感", "3栋 1单元"),
    );
    b.change(80, 1, Change::Escalated);
    b.change(60, 1, Change::Repeated);

    // P1 SOS, acknowledged and being handled, with a history of remarks.
    b.raise(
        900,
        raise(2, "b5-sos-1201", C::Panic, "5栋1201紧急按钮", "5栋 2单元"),
    );
    b.change(840, 2, Change::Escalated);
    b.act(
        830,
        Some(2),
        ActionKind::Acknowledge,
        GUARD_A,
        "已回拨住户，无人接听；派巡逻岗前往",
    );
    b.act(
        600,
        Some(2),
        ActionKind::Remark,
        GUARD_A,
        "巡逻岗到场：住户在家中跌倒，神志清醒，已叫救护车",
    );
    b.act(
        420,
        Some(2),
        ActionKind::Remark,
        SUPERVISOR,
        "主管已知悉，请巡逻岗陪同至救护车到达",
    );
    b.act(120, Some(2), ActionKind::Remark, GUARD_B, "救护车已到达");

    // P2 door forced, new and unacknowledged.
    b.raise(
        20,
        raise(3, "b2-door-garage", C::DoorForced, "2栋车库门", "2栋 车库"),
    );

    // P2 intrusion, acknowledged and cleared: latched, it needs a reset.
    b.raise(
        3000,
        raise(4, "b4-pir-roof", C::Intrusion, "4栋天台红外", "4栋 天台"),
    );
    b.act(
        2900,
        Some(4),
        ActionKind::Acknowledge,
        GUARD_A,
        "巡逻岗前往天台",
    );
    b.change(2000, 4, Change::Cleared);

    // P2 water leak that cleared before anyone acknowledged it.
    b.raise(
        1500,
        raise(5, "b5-water-pump", C::WaterLeak, "水泵房水浸", "5栋 水泵房"),
    );
    b.change(1200, 5, Change::Cleared);

    // P3 door held open, toggling: chattering.
    b.raise(
        55,
        raise(
            6,
            "b7-door-u1",
            C::DoorHeldOpen,
            "7栋1单元门禁",
            "7栋 1单元",
        ),
    );
    b.change(50, 6, Change::Cleared);
    b.change(40, 6, Change::Repeated);
    b.change(35, 6, Change::Cleared);
    b.change(20, 6, Change::Repeated);

    // P3 offline, acknowledged, and the device keeps dropping off.
    b.raise(
        700,
        raise(
            7,
            "b5-door-bike",
            C::DeviceOffline,
            "5栋非机动车库门",
            "5栋 车棚",
        ),
    );
    b.act(650, Some(7), ActionKind::Acknowledge, GUARD_B, "");
    b.change(100, 7, Change::Flapped { count: 5 });

    // P3 video loss, shelved for an hour.
    b.raise(
        1800,
        raise(8, "b3-cam-gate", C::VideoLoss, "南门摄像机", "3栋 南门"),
    );
    b.act(
        1700,
        Some(8),
        ActionKind::Shelve {
            until: Some(b.now + SignedDuration::from_secs(3600 - 1700)),
        },
        GUARD_A,
        "摄像机维修中，已报修",
    );

    // P3 offline behind the offline gateway gw-6: suppressed.
    let mut glass = raise(9, "b6-glass", C::DeviceOffline, "6栋玻璃破碎", "6栋 门厅");
    glass.suppressed = true;
    b.raise(300, glass);
    let mut door = raise(
        10,
        "b6-door-hall",
        C::DeviceOffline,
        "6栋门厅门禁",
        "6栋 门厅",
    );
    door.suppressed = true;
    b.raise(290, door);

    // P4 low battery, acknowledged hours ago.
    b.raise(
        18_000,
        raise(
            11,
            "b4-gas-kitchen",
            C::LowBattery,
            "食堂燃气探测器",
            "4栋 食堂",
        ),
    );
    b.act(
        17_000,
        Some(11),
        ActionKind::Acknowledge,
        GUARD_B,
        "已报修更换电池",
    );

    // P3 detector fault on a detector taken out of service.
    b.raise(
        4000,
        raise(
            12,
            "b8-smoke-301",
            C::DetectorFault,
            "8栋301烟感",
            "8栋 1单元",
        ),
    );
    b.act(
        3900,
        Some(12),
        ActionKind::OutOfService {
            device: "b8-smoke-301".into(),
            on: true,
        },
        GUARD_A,
        "探测器返厂维修，工单 R-0031",
    );
}

/// Folds in closed alarms for the history view, one per disposition, in
/// the order they were closed.
fn closed_alarms(b: &mut Builder) {
    use Condition as C;
    let close = |disposition| ActionKind::Close { disposition };

    b.raise(
        30_000,
        raise(23, "b5-sos-1201", C::Panic, "5栋1201紧急按钮", "5栋 2单元"),
    );
    b.act(29_970, Some(23), ActionKind::Acknowledge, GUARD_A, "");
    b.change(29_960, 23, Change::Cleared);
    b.act(29_950, Some(23), ActionKind::Reset, GUARD_A, "");
    b.act(
        29_940,
        Some(23),
        close(Disposition::Test),
        GUARD_A,
        "月度按钮测试",
    );

    b.raise(
        20_000,
        raise(21, "b3-smoke-101", C::Fire, "3栋101烟感", "3栋 1单元"),
    );
    b.act(19_990, Some(21), ActionKind::Acknowledge, GUARD_B, "");
    b.change(19_800, 21, Change::Cleared);
    b.act(19_700, Some(21), ActionKind::Reset, GUARD_B, "");
    b.act(
        19_650,
        Some(21),
        close(Disposition::FalseAlarm),
        SUPERVISOR,
        "厨房油烟引起，住户已确认",
    );

    b.raise(
        10_000,
        raise(
            22,
            "b6-cam-park",
            C::VideoLoss,
            "6栋停车场摄像机",
            "6栋 停车场",
        ),
    );
    b.act(9_000, Some(22), ActionKind::Acknowledge, GUARD_A, "");
    b.change(8_000, 22, Change::Cleared);
    b.act(
        7_900,
        Some(22),
        close(Disposition::DeviceFault),
        GUARD_A,
        "电源适配器损坏，已更换",
    );

    b.raise(
        7000,
        raise(20, "b1-door-east", C::DoorForced, "1栋东门", "1栋 东门"),
    );
    b.act(6950, Some(20), ActionKind::Acknowledge, GUARD_A, "");
    b.change(6900, 20, Change::Cleared);
    b.act(
        6500,
        Some(20),
        close(Disposition::Genuine),
        GUARD_A,
        "门锁被撬，已报警并通知物业维修",
    );

    b.raise(
        5_000,
        raise(24, "b1-door-west", C::DoorHeldOpen, "1栋西门", "1栋 西门"),
    );
    b.act(4_950, Some(24), ActionKind::Acknowledge, GUARD_B, "");
    b.change(4_800, 24, Change::Cleared);
    b.act(
        4_700,
        Some(24),
        close(Disposition::Other),
        GUARD_B,
        "搬家公司临时开门",
    );

    let mut external = raise(
        25,
        "ext:fire-panel-7",
        C::External,
        "消防主机 7 号回路",
        "7栋 1单元",
    );
    external.device = None;
    external.text = Some("消防主机报告：7 号回路故障".into());
    b.raise(2_500, external);
    b.change(2_000, 25, Change::ClosedAtSource);
}

/// `count` devices in twelve buildings with a spread of states, for the
/// frame benchmark.
pub fn large_app(count: usize) -> App {
    let mut b = Builder::new();
    let states = [
        ReportedState::Closed,
        ReportedState::Open,
        ReportedState::Forced,
        ReportedState::HeldOpen,
    ];
    for index in 0..count {
        let building = format!("{}栋", index % 12 + 1);
        let spec = spec(
            &format!("door-{index:05}"),
            DeviceKind::Door,
            None,
            &format!("{building}{}单元门禁", index % 6 + 1),
            &building,
            &format!("{building} {}单元", index % 6 + 1),
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
        name: "星澜雅苑".into(),
        time_zone: TimeZone::get("Asia/Shanghai").expect("bundled time zone"),
        liveness: Liveness::default(),
        database: PathBuf::from("sample.sqlite"),
    }
}
