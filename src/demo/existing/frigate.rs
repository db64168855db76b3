//! The simulated Frigate server: its availability, two cameras with their
//! stream statuses and recordings, and stats once a minute. One review item
//! (new, update, end) opens on the east gate camera, and later the garage
//! camera's detect stream is down for longer than the debounce.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::message;
use crate::demo::scenario::Message;

/// Frigate's camera names; `east_gate` has a mapping in
/// `config/demo-adapters.toml`, `garage_ramp` has none.
const CAMERAS: [&str; 2] = ["east_gate", "garage_ramp"];

/// Index of the camera whose detect stream goes down for a while.
const FLAKY: usize = 1;

/// How often Frigate publishes its stats (its default `mqtt.stats_interval`).
const STATS_EVERY: Duration = Duration::from_secs(60);

/// The review item's id, in Frigate's form (start time and a random suffix).
const REVIEW_ID: &str = "1764849600.512408-d3m0rv";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Stage {
    New,
    Update,
    End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Step {
    /// Availability, stream statuses, recordings and the first stats.
    Start,
    /// The stats. Re-arms itself.
    Stats,
    Review(Stage),
    /// The detect stream of a camera (by index) goes online (`true`) or offline.
    Detect(usize, bool),
}

/// Returns the steps scheduled at the start.
pub(super) fn script() -> Vec<(Duration, Step)> {
    let seconds = Duration::from_secs;
    vec![
        (Duration::ZERO, Step::Start),
        (STATS_EVERY, Step::Stats),
        (seconds(8), Step::Review(Stage::New)),
        (seconds(14), Step::Review(Stage::Update)),
        (seconds(25), Step::Review(Stage::End)),
        (seconds(150), Step::Detect(FLAKY, false)),
        (seconds(270), Step::Detect(FLAKY, true)),
    ]
}

pub(super) struct Server {
    base: String,
    /// Per camera: whether its detect stream runs.
    detecting: [bool; CAMERAS.len()],
    /// When the review item began, as Frigate's Unix seconds.
    review_start: Option<f64>,
}

impl Server {
    pub fn new(base_topic: &str) -> Self {
        Self {
            base: base_topic.to_owned(),
            detecting: [true; CAMERAS.len()],
            review_start: None,
        }
    }

    pub fn len(&self) -> usize {
        CAMERAS.len()
    }

    /// Runs `step`, due at `at`, and returns the steps it schedules.
    pub fn run(
        &mut self,
        at: Duration,
        step: Step,
        now: Timestamp,
        out: &mut Vec<Message>,
    ) -> Vec<(Duration, Step)> {
        match step {
            Step::Start => {
                out.push(message(self.topic("available"), "online", true));
                for camera in CAMERAS {
                    for role in ["detect", "record"] {
                        let topic = self.topic(&format!("{camera}/status/{role}"));
                        out.push(message(topic, "online", true));
                    }
                    let topic = self.topic(&format!("{camera}/recordings/state"));
                    out.push(message(topic, "ON", true));
                }
                out.push(self.stats(at));
            }
            Step::Stats => {
                out.push(self.stats(at));
                return vec![(at + STATS_EVERY, Step::Stats)];
            }
            Step::Review(stage) => out.push(self.review(stage, now)),
            Step::Detect(index, online) => {
                self.detecting[index] = online;
                let status = if online { "online" } else { "offline" };
                let topic = self.topic(&format!("{}/status/detect", CAMERAS[index]));
                out.push(message(topic, status, true));
            }
        }
        Vec::new()
    }

    fn topic(&self, tail: &str) -> String {
        format!("{}/{tail}", self.base)
    }

    /// Builds `<base>/stats`: frame rates per camera (0 while its detect
    /// stream is down) and the server's uptime.
    fn stats(&self, at: Duration) -> Message {
        let mut cameras = Map::new();
        for (camera, detecting) in CAMERAS.iter().zip(self.detecting) {
            let fps = if detecting { 5.0 } else { 0.0 };
            cameras.insert(
                (*camera).to_owned(),
                json!({"camera_fps": fps, "process_fps": fps, "skipped_fps": 0.0,
                       "detection_fps": if detecting { 0.4 } else { 0.0 }}),
            );
        }
        let stats = json!({
            "cameras": cameras,
            "service": {"uptime": at.as_secs(), "version": "0.14.1"},
        });
        message(self.topic("stats"), stats.to_string(), false)
    }

    /// Builds one message of the review item: a person at the east gate,
    /// joined by a car in the update.
    fn review(&mut self, stage: Stage, now: Timestamp) -> Message {
        let now_s = now.as_millisecond() as f64 / 1000.0;
        let start = *self.review_start.get_or_insert(now_s);
        let (kind, objects, end) = match stage {
            Stage::New => ("new", vec!["person"], Value::Null),
            Stage::Update => ("update", vec!["person", "car"], Value::Null),
            Stage::End => ("end", vec!["person", "car"], json!(now_s)),
        };
        let camera = CAMERAS[0];
        let item = json!({
            "id": REVIEW_ID,
            "camera": camera,
            "start_time": start,
            "end_time": end,
            "severity": "alert",
            "thumb_path": format!("/media/frigate/clips/review/thumb-{camera}-{REVIEW_ID}.webp"),
            "data": {"detections": [format!("{REVIEW_ID}-person")], "objects": objects,
                     "sub_labels": [], "zones": ["driveway"], "audio": []},
        });
        let payload = json!({"type": kind, "before": item, "after": item});
        message(self.topic("reviews"), payload.to_string(), false)
    }
}
