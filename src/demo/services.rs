//! The demo's residents and the messages about them and about repairs.
//! Check-ins arrive over the run, one resident misses the window and one
//! presses SOS in the first minutes. A simulated property system creates
//! repair tickets on `ticket/<id>` and works them through to the end.
//!
//! Every name, phone number and room is invented. Check-in windows are set
//! around the time the demo starts, so that the missed check-in and its
//! ladder happen within a short run.

use std::time::Duration;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::scenario::Message;
use crate::domain::care::{CareSettings, CheckInWindow, EmergencyContact, Resident};
use crate::ingest::TopicRoot;

/// Residents in the demo registry.
pub const RESIDENT_COUNT: usize = 36;

/// The resident who never checks in, and when the window closes for them.
const MISSER: usize = 0;
const MISSER_CLOSES: Duration = Duration::from_secs(75);

/// The resident who presses the SOS button, and when.
const SOS_RESIDENT: usize = 1;
const SOS_AT: Duration = Duration::from_secs(40);

/// Stage times of the demo's ladder, short so that a run shows them.
const DEMO_STAGE_S: u32 = 60;

const SURNAMES: [&str; 12] = [
    "江", "柯", "舒", "温", "岑", "骆", "卜", "甘", "庞", "鲍", "费", "詹",
];
const GIVEN: [&str; 12] = [
    "雅芬", "德润", "桂英", "松年", "秀屏", "振邦", "玉梅", "福海", "淑贞", "鹤龄", "惠兰", "长庚",
];
const RELATIONS: [&str; 3] = ["女儿", "儿子", "邻居"];

/// Builds the demo registry with windows around `now` in `tz`: the window
/// of the resident who misses it closes [`MISSER_CLOSES`] after `now`, the
/// others' twenty minutes after.
pub fn residents(now: Timestamp, tz: &TimeZone) -> Vec<Resident> {
    let local = |after: Duration| -> Time {
        let at = now
            .checked_add(SignedDuration::try_from(after).unwrap_or(SignedDuration::ZERO))
            .unwrap_or(now);
        at.to_zoned_datetime(tz.clone()).time()
    };
    let opens = now
        .checked_sub(SignedDuration::from_hours(2))
        .unwrap_or(now)
        .to_zoned_datetime(tz.clone())
        .time();
    let window = |closes: Time| CheckInWindow::new(opens, closes).ok();
    let everyone_closes = window(local(Duration::from_secs(20 * 60)));

    (0..RESIDENT_COUNT)
        .map(|index| {
            let name = format!(
                "{}{}",
                SURNAMES[index % SURNAMES.len()],
                GIVEN[(index * 5 + index / SURNAMES.len()) % GIVEN.len()]
            );
            let building = format!("{}号楼", index % 6 + 1);
            let room = format!("{}{:02}", index / 6 + 1, index % 4 + 1);
            let contacts = if index % 3 == 2 {
                Vec::new()
            } else {
                vec![EmergencyContact {
                    name: format!("{}{}", SURNAMES[(index + 5) % SURNAMES.len()], "女士"),
                    relation: RELATIONS[index % RELATIONS.len()].to_owned(),
                    phone: format!("1380000{:04}", 5000 + index),
                }]
            };
            Resident {
                id: format!("r-{:04}", index + 1),
                name,
                building,
                unit: format!("{}单元", index % 2 + 1),
                room,
                phone: Some(format!("1380000{:04}", 1000 + index)),
                lives_alone: index.is_multiple_of(2),
                contacts,
                check_in: if index == MISSER {
                    window(local(MISSER_CLOSES))
                } else {
                    everyone_closes
                },
                passive_sources: Vec::new(),
            }
        })
        .collect()
}

/// Returns the demo's eldercare rules, whose ladder stages last a minute each.
pub fn care_settings() -> CareSettings {
    CareSettings {
        call_resident_s: Some(DEMO_STAGE_S),
        call_contact_s: Some(DEMO_STAGE_S),
        ..CareSettings::default()
    }
}

/// One scripted message.
#[derive(Clone, Debug)]
enum Step {
    CheckIn {
        resident: usize,
    },
    Sos {
        resident: usize,
    },
    /// The property system publishes ticket `ticket` at its next stage.
    Ticket {
        ticket: usize,
        stage: usize,
    },
}

/// A ticket the property system owns, with what it last published.
#[derive(Clone, Debug)]
struct DemoTicket {
    id: String,
    category: &'static str,
    urgency: &'static str,
    location: &'static str,
    description: &'static str,
    /// How far the property system takes it: 1 leaves it new.
    stages: usize,
    version: u64,
    created: Option<String>,
}

/// Stages a ticket passes through, with the assignee at each.
const TICKET_STAGES: [(&str, Option<&str>); 5] = [
    ("new", None),
    ("assigned", Some("维修工小骆")),
    ("in_progress", Some("维修工小骆")),
    ("awaiting_rating", Some("维修工小骆")),
    ("closed", Some("维修工小骆")),
];

/// The residents' and the property system's script.
pub struct ServiceScript {
    root: TopicRoot,
    steps: Vec<(Duration, Step)>,
    next: usize,
    tickets: Vec<DemoTicket>,
}

impl ServiceScript {
    /// Schedules check-ins for every resident but one, the SOS, and the tickets.
    pub fn new(root: TopicRoot, residents: usize, rng: &mut fastrand::Rng) -> Self {
        let mut steps = Vec::new();
        for resident in 0..residents {
            if resident == MISSER {
                continue;
            }
            // Three in four check in within three minutes, the rest within ten.
            let seconds = if resident % 4 == 3 {
                rng.u64(180..=600)
            } else {
                rng.u64(10..=180)
            };
            steps.push((Duration::from_secs(seconds), Step::CheckIn { resident }));
        }
        if residents > SOS_RESIDENT {
            steps.push((
                SOS_AT,
                Step::Sos {
                    resident: SOS_RESIDENT,
                },
            ));
        }

        let tickets = demo_tickets();
        for (ticket, item) in tickets.iter().enumerate() {
            let created = Duration::from_secs(12 + 45 * ticket as u64);
            for stage in 0..item.stages {
                let at = created + Duration::from_secs(35 * stage as u64);
                steps.push((at, Step::Ticket { ticket, stage }));
            }
        }
        steps.sort_by_key(|(at, _)| *at);
        Self {
            root,
            steps,
            next: 0,
            tickets,
        }
    }

    /// When the next message is due, as time since the start.
    pub fn next_due(&self) -> Option<Duration> {
        self.steps.get(self.next).map(|(at, _)| *at)
    }

    /// Returns the messages due by `elapsed`; `ts` stamps them.
    pub fn due(&mut self, elapsed: Duration, ts: &str) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some((at, step)) = self.steps.get(self.next).cloned() {
            if at > elapsed {
                break;
            }
            self.next += 1;
            out.push(self.message(&step, ts));
        }
        out
    }

    fn message(&mut self, step: &Step, ts: &str) -> Message {
        match step {
            Step::CheckIn { resident } => self.care(*resident, "check_in", ts),
            Step::Sos { resident } => self.care(*resident, "sos", ts),
            Step::Ticket { ticket, stage } => self.ticket(*ticket, *stage, ts),
        }
    }

    fn care(&self, resident: usize, kind: &str, ts: &str) -> Message {
        let id = format!("r-{:04}", resident + 1);
        let mut payload = json!({
            "v": 1,
            "id": format!("demo-{kind}-{id}"),
            "ts": ts,
            "type": kind,
        });
        if kind == "check_in" {
            let via = if resident.is_multiple_of(2) {
                "button"
            } else {
                "app"
            };
            payload["via"] = json!(via);
        } else {
            payload["text"] = json!("卧室紧急按钮");
        }
        Message {
            topic: self.root.topic(&format!("care/{id}/evt")),
            payload: payload.to_string().into_bytes(),
            retain: false,
        }
    }

    fn ticket(&mut self, index: usize, stage: usize, ts: &str) -> Message {
        let ticket = &mut self.tickets[index];
        ticket.version += 1;
        let created = ticket.created.get_or_insert_with(|| ts.to_owned()).clone();
        let (state, assignee) = TICKET_STAGES[stage.min(TICKET_STAGES.len() - 1)];
        let mut payload = json!({
            "v": 1,
            "id": ticket.id,
            "version": ticket.version,
            "ts": ts,
            "created_at": created,
            "state": state,
            "category": ticket.category,
            "urgency": ticket.urgency,
            "location": ticket.location,
            "description": ticket.description,
            "reporter": { "name": "鲍惠兰", "phone": format!("1380000{:04}", 8000 + index) },
        });
        if let Some(assignee) = assignee {
            payload["assignee"] = json!(assignee);
        }
        if state == "closed" {
            payload["rating"] = json!(5);
        }
        Message {
            topic: self.root.topic(&format!("ticket/{}", ticket.id)),
            payload: payload.to_string().into_bytes(),
            retain: true,
        }
    }
}

fn demo_tickets() -> Vec<DemoTicket> {
    let ticket = |n: usize, category, urgency, location, description, stages| -> DemoTicket {
        DemoTicket {
            id: format!("R-{}", 1000 + n),
            category,
            urgency,
            location,
            description,
            stages,
            version: 0,
            created: None,
        }
    };
    vec![
        ticket(
            1,
            "plumbing",
            "urgent",
            "3号楼 2单元 1201",
            "厨房水管漏水",
            5,
        ),
        ticket(
            2,
            "elevator",
            "urgent",
            "5号楼 1单元 电梯",
            "电梯按钮失灵",
            3,
        ),
        ticket(
            3,
            "electrical",
            "normal",
            "1号楼 1单元 402",
            "客厅插座没电",
            5,
        ),
        ticket(
            4,
            "public_facilities",
            "minor",
            "2号楼 楼下花园",
            "路灯不亮",
            1,
        ),
        ticket(
            5,
            "doors_access",
            "normal",
            "6号楼 单元门",
            "门禁读卡器反应慢",
            2,
        ),
    ]
}
