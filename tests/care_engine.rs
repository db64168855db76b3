//! The eldercare engine on a virtual clock: check-in windows (one crossing
//! midnight, one in a zone with DST), the missed check-in ladder and its
//! outcomes, SOS and fall, passive inactivity, the board, and the registry
//! from TOML and CSV.

use guardroom::domain::alarm::Priority;
use guardroom::domain::care::{
    CareCondition, CareEngine, CareEntryKind, CareEvent, CareEventKind, CareSettings, CareSignal,
    CheckInVia, CheckInWindow, ClearReason, DayStatus, EmergencyContact, EscalatedTo, Outcome,
    OutcomeRecord, Resident, Stage, parse_csv, parse_phone, parse_toml,
};
use guardroom::domain::privacy::Role;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

fn shanghai() -> TimeZone {
    TimeZone::get("Asia/Shanghai").unwrap()
}

/// Returns the instant of a local wall-clock time such as `2026-12-04 09:59`.
fn local(tz: &TimeZone, text: &str) -> Timestamp {
    let datetime: DateTime = text.replace(' ', "T").parse().unwrap();
    tz.to_timestamp(datetime).unwrap()
}

fn hm(text: &str) -> Time {
    text.parse().unwrap()
}

fn resident(id: &str) -> Resident {
    Resident {
        id: id.into(),
        name: "测试员甲".into(),
        building: "1栋".into(),
        unit: "2单元".into(),
        room: "301".into(),
        phone: Some("13800000001".into()),
        lives_alone: true,
        contacts: vec![EmergencyContact {
            name: "测试员乙".into(),
            relation: "女儿".into(),
            phone: "13800000002".into(),
        }],
        check_in: None,
        passive_sources: Vec::new(),
    }
}

/// An engine and its zone, started at a local time.
struct Care {
    engine: CareEngine,
    tz: TimeZone,
    next_id: u32,
}

impl Care {
    fn new(residents: Vec<Resident>, tz: TimeZone, start: &str) -> Self {
        let now = local(&tz, start);
        Self {
            engine: CareEngine::new(residents, CareSettings::default(), tz.clone(), now),
            tz,
            next_id: 0,
        }
    }

    fn at(&self, text: &str) -> Timestamp {
        local(&self.tz, text)
    }

    fn tick(&mut self, text: &str) -> Vec<CareSignal> {
        let now = self.at(text);
        self.engine.tick(now)
    }

    fn event(&mut self, resident: &str, text: &str, kind: CareEventKind) -> Vec<CareSignal> {
        self.next_id += 1;
        let event = CareEvent {
            id: format!("e-{}", self.next_id),
            resident: resident.into(),
            at: self.at(text),
            kind,
            text: None,
        };
        self.engine.record(&event)
    }

    fn check_in(&mut self, resident: &str, text: &str) -> Vec<CareSignal> {
        self.event(
            resident,
            text,
            CareEventKind::CheckIn {
                via: CheckInVia::Button,
            },
        )
    }

    fn outcome(
        &mut self,
        resident: &str,
        text: &str,
        outcome: Outcome,
        remark: &str,
    ) -> Result<Vec<CareSignal>, String> {
        let record = OutcomeRecord {
            resident: resident.into(),
            outcome,
            operator: "值班员甲".into(),
            role: Role::Guard,
            remark: remark.into(),
            at: self.at(text),
        };
        self.engine
            .record_outcome(&record)
            .map_err(|refusal| refusal.code().to_owned())
    }

    fn day(&self, resident: &str, text: &str) -> DayStatus {
        self.engine
            .board(self.at(text))
            .into_iter()
            .find(|row| row.resident == resident)
            .unwrap()
            .day
    }
}

fn missed(resident: &str, stage: Stage) -> CareSignal {
    CareSignal::Raise {
        resident: resident.into(),
        condition: CareCondition::MissedCheckIn,
        priority: stage.priority(),
        stage: Some(stage),
    }
}

fn cleared(resident: &str, reason: ClearReason) -> CareSignal {
    CareSignal::Clear {
        resident: resident.into(),
        condition: CareCondition::MissedCheckIn,
        reason,
    }
}

#[test]
fn stage_priorities() {
    assert_eq!(Stage::CallResident.priority(), Priority::P3);
    assert_eq!(Stage::CallContact.priority(), Priority::P2);
    assert_eq!(Stage::VisitDoor.priority(), Priority::P2);
    assert_eq!(CareCondition::Sos.priority(), Priority::P1);
    assert_eq!(CareCondition::Fall.priority(), Priority::P1);
    assert_eq!(CareCondition::Inactive.priority(), Priority::P2);
}

#[test]
fn default_window_closes_at_ten() {
    let mut care = Care::new(vec![resident("r-1")], shanghai(), "2026-12-03 12:00");
    assert!(care.tick("2026-12-04 09:59:59").is_empty());
    assert_eq!(
        care.day("r-1", "2026-12-04 09:59:59"),
        DayStatus::Pending {
            closes: care.at("2026-12-04 10:00")
        }
    );
    assert_eq!(
        care.tick("2026-12-04 10:00"),
        [missed("r-1", Stage::CallResident)]
    );
    assert!(care.tick("2026-12-04 10:00:01").is_empty(), "raised once");
}

#[test]
fn check_in_within_window_counts() {
    let mut care = Care::new(vec![resident("r-1")], shanghai(), "2026-12-03 12:00");
    assert!(care.check_in("r-1", "2026-12-04 00:00").is_empty());
    assert!(care.tick("2026-12-04 10:00").is_empty());
    assert_eq!(
        care.day("r-1", "2026-12-04 15:00"),
        DayStatus::CheckedIn {
            at: care.at("2026-12-04 00:00")
        }
    );
    // The next day starts pending again.
    assert_eq!(
        care.day("r-1", "2026-12-05 06:00"),
        DayStatus::Pending {
            closes: care.at("2026-12-05 10:00")
        }
    );
    // A check-in at the closing instant is outside the window.
    care.check_in("r-1", "2026-12-05 10:00");
    assert!(
        care.tick("2026-12-05 10:00").is_empty(),
        "the late check-in came before the tick: no ladder"
    );
    assert!(matches!(
        care.day("r-1", "2026-12-05 11:00"),
        DayStatus::Missed { ended: Some(end), .. } if end.reason == ClearReason::CheckedInLate
    ));
}

#[test]
fn window_crossing_midnight_occurrences() {
    let tz = shanghai();
    let window = CheckInWindow::new(hm("22:00"), hm("02:00")).unwrap();
    assert!(window.crosses_midnight());
    let occurrence = window.occurrence(Date::constant(2026, 12, 4), &tz);
    assert_eq!(occurrence.opens, local(&tz, "2026-12-04 22:00"));
    assert_eq!(occurrence.closes, local(&tz, "2026-12-05 02:00"));
    for (at, inside) in [
        ("2026-12-04 21:59:59", false),
        ("2026-12-04 22:00", true),
        ("2026-12-04 23:30", true),
        ("2026-12-05 01:30", true),
        ("2026-12-05 01:59:59", true),
        ("2026-12-05 02:00", false),
        ("2026-12-05 02:30", false),
    ] {
        assert_eq!(occurrence.contains(local(&tz, at)), inside, "{at}");
    }

    // Before 22:00 the current occurrence is the one that opened yesterday.
    let current = window.current(local(&tz, "2026-12-05 15:00"), &tz);
    assert_eq!(current.date, Date::constant(2026, 12, 4));
    let current = window.current(local(&tz, "2026-12-05 22:00"), &tz);
    assert_eq!(current.date, Date::constant(2026, 12, 5));

    assert!(CheckInWindow::new(hm("08:00"), hm("08:00")).is_err());
}

fn night_owl() -> Resident {
    Resident {
        check_in: Some(CheckInWindow::new(hm("22:00"), hm("02:00")).unwrap()),
        ..resident("r-2")
    }
}

#[test]
fn midnight_window_check_in_at_2330_counts() {
    let mut care = Care::new(vec![night_owl()], shanghai(), "2026-12-04 12:00");
    care.check_in("r-2", "2026-12-04 23:30");
    assert!(care.tick("2026-12-05 02:00").is_empty());
    assert_eq!(
        care.day("r-2", "2026-12-05 09:00"),
        DayStatus::CheckedIn {
            at: care.at("2026-12-04 23:30")
        }
    );
}

#[test]
fn midnight_window_check_in_at_0130_counts() {
    let mut care = Care::new(vec![night_owl()], shanghai(), "2026-12-04 12:00");
    care.check_in("r-2", "2026-12-05 01:30");
    assert!(care.tick("2026-12-05 02:00").is_empty());
    assert_eq!(
        care.day("r-2", "2026-12-05 02:00"),
        DayStatus::CheckedIn {
            at: care.at("2026-12-05 01:30")
        }
    );
}

#[test]
fn midnight_window_check_in_at_0230_is_late() {
    let mut care = Care::new(vec![night_owl()], shanghai(), "2026-12-04 12:00");
    // 21:30 is before the window opens and does not count either.
    care.check_in("r-2", "2026-12-04 21:30");
    assert_eq!(
        care.tick("2026-12-05 02:00"),
        [missed("r-2", Stage::CallResident)]
    );
    assert_eq!(
        care.check_in("r-2", "2026-12-05 02:30"),
        [cleared("r-2", ClearReason::CheckedInLate)]
    );
    let DayStatus::Missed { closes, ended } = care.day("r-2", "2026-12-05 03:00") else {
        panic!("a late check-in leaves the window missed");
    };
    assert_eq!(closes, care.at("2026-12-05 02:00"));
    let ended = ended.unwrap();
    assert_eq!(ended.reason, ClearReason::CheckedInLate);
    assert_eq!(ended.at, care.at("2026-12-05 02:30"));
}

#[test]
fn ladder_timers_and_visit_outcomes() {
    let mut care = Care::new(vec![resident("r-1")], shanghai(), "2026-12-03 12:00");
    assert_eq!(
        care.tick("2026-12-04 10:00"),
        [missed("r-1", Stage::CallResident)]
    );
    assert_eq!(
        care.day("r-1", "2026-12-04 10:05"),
        DayStatus::InEscalation {
            stage: Stage::CallResident,
            since: care.at("2026-12-04 10:00"),
            next_stage_in: Some(SignedDuration::from_mins(10)),
        }
    );
    assert!(care.tick("2026-12-04 10:14:59").is_empty());
    assert_eq!(
        care.tick("2026-12-04 10:15"),
        [missed("r-1", Stage::CallContact)]
    );
    assert!(care.tick("2026-12-04 10:29:59").is_empty());
    assert_eq!(
        care.tick("2026-12-04 10:30"),
        [missed("r-1", Stage::VisitDoor)]
    );
    assert!(
        care.tick("2026-12-04 12:00").is_empty(),
        "stage 3 has no timer"
    );
    assert_eq!(
        care.day("r-1", "2026-12-04 12:00"),
        DayStatus::InEscalation {
            stage: Stage::VisitDoor,
            since: care.at("2026-12-04 10:30"),
            next_stage_in: None,
        }
    );

    assert_eq!(
        care.outcome("r-1", "2026-12-04 10:40", Outcome::Visited, ""),
        Ok(vec![])
    );
    assert_eq!(
        care.outcome("r-1", "2026-12-04 10:41", Outcome::Visited, ""),
        Err("already_visited".into())
    );
    assert_eq!(
        care.outcome("r-1", "2026-12-04 10:42", Outcome::NotReached, ""),
        Err("no_further_stage".into())
    );
    let to_120 = Outcome::Escalated {
        to: EscalatedTo::EmergencyServices,
    };
    assert_eq!(
        care.outcome("r-1", "2026-12-04 10:43", to_120, "  "),
        Err("remark_required".into())
    );
    assert_eq!(
        care.outcome("r-1", "2026-12-04 10:45", to_120, "敲门无应答，已拨打120"),
        Ok(vec![cleared(
            "r-1",
            ClearReason::Outcome { outcome: to_120 }
        )])
    );
    assert_eq!(
        care.outcome("r-1", "2026-12-04 10:46", Outcome::ResidentSafe, ""),
        Err("no_ladder".into())
    );
    assert!(matches!(
        care.day("r-1", "2026-12-04 11:00"),
        DayStatus::Missed { ended: Some(end), .. }
            if end.reason == ClearReason::Outcome { outcome: to_120 }
    ));

    let history: Vec<_> = care
        .engine
        .history("r-1")
        .unwrap()
        .iter()
        .map(|entry| (entry.at, entry.what.clone()))
        .collect();
    let kinds: Vec<&str> = history
        .iter()
        .map(|(_, what)| match what {
            CareEntryKind::WindowMissed { .. } => "window_missed",
            CareEntryKind::StageStarted { stage } => match stage {
                Stage::CallResident => "stage_1",
                Stage::CallContact => "stage_2",
                Stage::VisitDoor => "stage_3",
            },
            CareEntryKind::Outcome { .. } => "outcome",
            CareEntryKind::LadderEnded { .. } => "ended",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "window_missed",
            "stage_1",
            "stage_2",
            "stage_3",
            "outcome",
            "outcome",
            "ended"
        ]
    );
    assert_eq!(history[2].0, care.at("2026-12-04 10:15"));
}

#[test]
fn outcome_at_each_stage() {
    #[derive(Debug, PartialEq)]
    enum Then {
        Ends,
        To(Stage),
        Stays,
        Refused(&'static str),
    }
    use Then::{Ends, Refused, Stays, To};
    let family = Outcome::Escalated {
        to: EscalatedTo::Family,
    };
    // (outcome, at stage 1, at stage 2, at stage 3)
    let table = [
        (Outcome::Reached, [Ends, Ends, Ends]),
        (
            Outcome::NotReached,
            [
                To(Stage::CallContact),
                To(Stage::VisitDoor),
                Refused("no_further_stage"),
            ],
        ),
        (
            Outcome::Visited,
            [To(Stage::VisitDoor), To(Stage::VisitDoor), Stays],
        ),
        (Outcome::ResidentSafe, [Ends, Ends, Ends]),
        (family, [Ends, Ends, Ends]),
    ];
    let stage_times = ["2026-12-04 10:05", "2026-12-04 10:20", "2026-12-04 10:35"];
    let stages = [Stage::CallResident, Stage::CallContact, Stage::VisitDoor];

    for (outcome, cells) in table {
        for ((expected, time), stage) in cells.into_iter().zip(stage_times).zip(stages) {
            let mut care = Care::new(vec![resident("r-1")], shanghai(), "2026-12-03 12:00");
            care.tick("2026-12-04 10:00");
            care.tick(time);
            assert_eq!(care.engine.ladder("r-1").unwrap().stage, stage);
            let cell = format!("{} at stage {}", outcome.as_str(), stage.number());

            let result = care.outcome("r-1", time, outcome, "已通知家属");
            let ladder = care.engine.ladder("r-1").map(|l| l.stage);
            match expected {
                Ends => {
                    assert_eq!(
                        result,
                        Ok(vec![cleared("r-1", ClearReason::Outcome { outcome })]),
                        "{cell}"
                    );
                    assert_eq!(ladder, None, "{cell}");
                }
                To(next) => {
                    assert_eq!(result, Ok(vec![missed("r-1", next)]), "{cell}");
                    assert_eq!(ladder, Some(next), "{cell}");
                }
                Stays => {
                    assert_eq!(result, Ok(vec![]), "{cell}");
                    assert_eq!(ladder, Some(stage), "{cell}");
                }
                Refused(code) => {
                    assert_eq!(result, Err(code.to_owned()), "{cell}");
                    assert_eq!(ladder, Some(stage), "{cell}");
                }
            }
        }
    }
}

#[test]
fn not_reached_restarts_stage_timer() {
    let mut care = Care::new(vec![resident("r-1")], shanghai(), "2026-12-03 12:00");
    care.tick("2026-12-04 10:00");
    assert_eq!(
        care.outcome("r-1", "2026-12-04 10:05", Outcome::NotReached, ""),
        Ok(vec![missed("r-1", Stage::CallContact)])
    );
    assert!(care.tick("2026-12-04 10:19:59").is_empty());
    assert_eq!(
        care.tick("2026-12-04 10:20"),
        [missed("r-1", Stage::VisitDoor)]
    );
}

#[test]
fn outcome_after_missed_tick_takes_due_stage() {
    let mut care = Care::new(vec![resident("r-1")], shanghai(), "2026-12-03 12:00");
    care.tick("2026-12-04 10:00");
    // No tick since 10:00: at 10:31 the ladder is at stage 3, so the calls
    // are over and "not reached" no longer fits.
    assert_eq!(
        care.outcome("r-1", "2026-12-04 10:31", Outcome::NotReached, ""),
        Err("no_further_stage".into())
    );
    assert_eq!(
        care.outcome("r-1", "2026-12-04 10:31", Outcome::ResidentSafe, ""),
        Ok(vec![
            missed("r-1", Stage::CallContact),
            missed("r-1", Stage::VisitDoor),
            cleared(
                "r-1",
                ClearReason::Outcome {
                    outcome: Outcome::ResidentSafe
                }
            ),
        ])
    );
}

#[test]
fn no_contacts_skips_to_door() {
    let alone = Resident {
        contacts: Vec::new(),
        ..resident("r-1")
    };
    let mut care = Care::new(vec![alone], shanghai(), "2026-12-03 12:00");
    care.tick("2026-12-04 10:00");
    assert_eq!(
        care.tick("2026-12-04 10:15"),
        [missed("r-1", Stage::VisitDoor)]
    );
}

#[test]
fn check_in_ends_running_ladder() {
    let mut care = Care::new(vec![resident("r-1")], shanghai(), "2026-12-03 12:00");
    care.tick("2026-12-04 10:00");
    care.tick("2026-12-04 10:15");
    assert_eq!(
        care.check_in("r-1", "2026-12-04 10:20"),
        [cleared("r-1", ClearReason::CheckedInLate)]
    );
    assert!(care.engine.ladder("r-1").is_none());
    assert!(
        care.tick("2026-12-04 10:30").is_empty(),
        "no stage 3 after the end"
    );

    // A check-in made inside the window that arrives after the close.
    care.tick("2026-12-05 10:00");
    assert_eq!(
        care.check_in("r-1", "2026-12-05 09:58"),
        [cleared("r-1", ClearReason::CheckedIn)]
    );
    assert_eq!(
        care.day("r-1", "2026-12-05 11:00"),
        DayStatus::CheckedIn {
            at: care.at("2026-12-05 09:58")
        }
    );
}

#[test]
fn ticking_rarely_gives_same_state() {
    let mut often = Care::new(vec![resident("r-1")], shanghai(), "2026-12-03 12:00");
    let mut rarely = Care::new(vec![resident("r-1")], shanghai(), "2026-12-03 12:00");
    let mut signals = Vec::new();
    let start = often.at("2026-12-04 09:00");
    for minute in 0..=120 {
        signals.extend(often.engine.tick(start + SignedDuration::from_mins(minute)));
    }
    let at_once = rarely.tick("2026-12-04 11:00");
    assert_eq!(signals, at_once);
    assert_eq!(
        often.engine.board(often.at("2026-12-04 11:00")),
        rarely.engine.board(rarely.at("2026-12-04 11:00"))
    );
    assert_eq!(often.engine.history("r-1"), rarely.engine.history("r-1"));
}

#[test]
fn sos_and_fall_raise_p1_at_once() {
    let mut care = Care::new(vec![resident("r-1")], shanghai(), "2026-12-03 12:00");
    for (kind, condition) in [
        (CareEventKind::Sos, CareCondition::Sos),
        (CareEventKind::Fall, CareCondition::Fall),
    ] {
        assert_eq!(
            care.event("r-1", "2026-12-04 03:00", kind),
            [CareSignal::Raise {
                resident: "r-1".into(),
                condition,
                priority: Priority::P1,
                stage: None,
            }]
        );
    }
    // Neither is a check-in.
    assert_eq!(
        care.tick("2026-12-04 10:00"),
        [missed("r-1", Stage::CallResident)]
    );

    // A redelivery with the same id is dropped.
    let event = CareEvent {
        id: "e-sos-1".into(),
        resident: "r-1".into(),
        at: care.at("2026-12-04 11:00"),
        kind: CareEventKind::Sos,
        text: None,
    };
    assert_eq!(care.engine.record(&event).len(), 1);
    assert!(care.engine.record(&event).is_empty());

    // Events for someone outside the registry change nothing.
    let stranger = CareEvent {
        resident: "r-404".into(),
        id: "e-x".into(),
        ..event
    };
    assert!(care.engine.record(&stranger).is_empty());
}

fn with_door() -> Resident {
    Resident {
        passive_sources: vec!["door".into()],
        ..resident("r-3")
    }
}

#[test]
fn inactivity_at_exactly_24_hours() {
    let mut care = Care::new(vec![with_door()], shanghai(), "2026-12-04 07:00");
    let door = || CareEventKind::Activity {
        source: "door".into(),
    };
    assert!(care.event("r-3", "2026-12-04 08:00", door()).is_empty());
    assert!(
        care.tick("2026-12-04 10:00").is_empty(),
        "door activity checked in"
    );
    assert!(care.tick("2026-12-05 07:59").is_empty(), "23:59 is not yet");
    assert_eq!(
        care.tick("2026-12-05 08:00"),
        [CareSignal::Raise {
            resident: "r-3".into(),
            condition: CareCondition::Inactive,
            priority: Priority::P2,
            stage: None,
        }]
    );
    assert!(care.tick("2026-12-05 08:01").is_empty(), "raised once");
    let row = &care.engine.board(care.at("2026-12-05 08:01"))[0];
    assert_eq!(row.inactive_since, Some(care.at("2026-12-04 08:00")));
    assert_eq!(row.last_activity, Some(care.at("2026-12-04 08:00")));

    // Any activity clears it, and also checks in when its source counts.
    assert_eq!(
        care.event("r-3", "2026-12-05 08:30", door()),
        [CareSignal::Clear {
            resident: "r-3".into(),
            condition: CareCondition::Inactive,
            reason: ClearReason::Activity,
        }]
    );
    assert!(care.tick("2026-12-05 10:00").is_empty());
}

fn raises_inactive(signals: &[CareSignal]) -> bool {
    signals.iter().any(|signal| {
        matches!(
            signal,
            CareSignal::Raise {
                condition: CareCondition::Inactive,
                ..
            }
        )
    })
}

#[test]
fn inactivity_counts_from_start_without_activity() {
    let mut care = Care::new(vec![with_door()], shanghai(), "2026-12-04 11:00");
    assert!(!raises_inactive(&care.tick("2026-12-05 10:59")));
    assert!(raises_inactive(&care.tick("2026-12-05 11:00")));
}

#[test]
fn unlisted_source_is_activity_not_check_in() {
    let mut care = Care::new(vec![with_door()], shanghai(), "2026-12-04 11:00");
    let water = CareEventKind::Activity {
        source: "water".into(),
    };
    assert!(care.event("r-3", "2026-12-05 06:00", water).is_empty());
    assert_eq!(
        care.tick("2026-12-05 10:00"),
        [missed("r-3", Stage::CallResident)]
    );
    let row = &care.engine.board(care.at("2026-12-05 10:00"))[0];
    assert_eq!(row.last_activity, Some(care.at("2026-12-05 06:00")));
    assert_eq!(row.last_check_in, None);
    assert!(!raises_inactive(&care.tick("2026-12-06 05:59")));
    assert!(raises_inactive(&care.tick("2026-12-06 06:00")));
}

#[test]
fn no_passive_sources_no_inactivity() {
    let mut care = Care::new(vec![resident("r-1")], shanghai(), "2026-12-04 11:00");
    for day in 5..=8 {
        let signals = care.tick(&format!("2026-12-{day:02} 09:00"));
        assert!(!raises_inactive(&signals), "day {day}: {signals:?}");
    }
}

#[test]
fn windows_follow_local_time_across_dst() {
    let tz = TimeZone::get("America/New_York").unwrap();
    let utc = |text: &str| text.parse::<Timestamp>().unwrap();
    let mut care = Care::new(vec![resident("r-1")], tz.clone(), "2026-03-06 12:00");

    // 10:00 EST is 15:00 UTC.
    assert!(care.engine.tick(utc("2026-03-07T14:59:59Z")).is_empty());
    assert_eq!(
        care.engine.tick(utc("2026-03-07T15:00:00Z")),
        [missed("r-1", Stage::CallResident)]
    );
    care.outcome("r-1", "2026-03-07 10:05", Outcome::Reached, "")
        .unwrap();

    // Clocks go forward on 8 March: 10:00 EDT is 14:00 UTC.
    assert_eq!(
        care.engine.tick(utc("2026-03-08T14:00:00Z")),
        [missed("r-1", Stage::CallResident)]
    );
    care.outcome("r-1", "2026-03-08 10:05", Outcome::Reached, "")
        .unwrap();
    assert!(care.engine.tick(utc("2026-03-09T13:59:59Z")).is_empty());
    assert_eq!(
        care.engine.tick(utc("2026-03-09T14:00:00Z")),
        [missed("r-1", Stage::CallResident)]
    );

    // A window ending in the skipped hour closes as much later as the gap.
    let window = CheckInWindow::new(hm("22:00"), hm("02:30")).unwrap();
    let occurrence = window.occurrence(Date::constant(2026, 3, 7), &tz);
    assert_eq!(occurrence.opens, utc("2026-03-08T03:00:00Z"));
    assert_eq!(occurrence.closes, utc("2026-03-08T07:30:00Z"));
    assert_eq!(occurrence.closes, local(&tz, "2026-03-08 03:30"));
}

#[test]
fn shanghai_windows_are_fixed_utc() {
    let tz = shanghai();
    let window = CheckInWindow::default();
    for date in [Date::constant(2026, 3, 8), Date::constant(2026, 11, 1)] {
        let occurrence = window.occurrence(date, &tz);
        let closes = occurrence.closes.to_string();
        assert!(closes.ends_with("T02:00:00Z"), "{date}: {closes}");
    }
}

#[test]
fn decode_care_events() {
    let received: Timestamp = "2026-12-04T02:00:00Z".parse().unwrap();
    let decode = |payload: &str| CareEvent::decode("r-1", payload.as_bytes(), received);

    let event = decode(
        r#"{"v":1,"id":"e-1","ts":"2026-12-04T08:01:00+08:00","type":"check_in","via":"app","extra":1}"#,
    )
    .unwrap();
    assert_eq!(
        event.at,
        "2026-12-04T00:01:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(
        event.kind,
        CareEventKind::CheckIn {
            via: CheckInVia::App
        }
    );
    assert_eq!(event.resident, "r-1");

    let event =
        decode(r#"{"v":1,"id":"e-2","ts":1764806460000,"type":"activity","source":"door"}"#)
            .unwrap();
    assert_eq!(event.at.as_millisecond(), 1_764_806_460_000);
    assert_eq!(
        event.kind,
        CareEventKind::Activity {
            source: "door".into()
        }
    );

    let event = decode(r#"{"v":1,"id":"e-3","type":"sos"}"#).unwrap();
    assert_eq!(event.at, received, "no ts: the arrival time");
    assert_eq!(event.kind, CareEventKind::Sos);

    let event =
        decode(r#"{"v":1,"id":"e-4","ts":"2026-12-05T00:00:00Z","type":"fall","text":"卧室"}"#)
            .unwrap();
    assert_eq!(
        event.at, received,
        "a time after the arrival is the arrival"
    );
    assert_eq!(event.text.as_deref(), Some("卧室"));

    for (payload, needle) in [
        (r#"{"v":1,"id":"e-5","type":"dance"}"#, "dance"),
        (
            r#"{"v":1,"id":"e-6","type":"check_in","via":"pigeon"}"#,
            "pigeon",
        ),
        (r#"{"v":2,"id":"e-7","type":"sos"}"#, "version 2"),
        (r#"{"v":1,"id":" ","type":"sos"}"#, "id is empty"),
        (r#"{"v":1,"type":"sos"}"#, "id"),
        (r#"not json"#, "invalid JSON"),
    ] {
        let message = decode(payload).unwrap_err().to_string();
        assert!(message.contains(needle), "{payload}: {message}");
        assert!(message.contains("r-1"), "{payload}: {message}");
    }
}

#[test]
fn residents_from_toml() {
    let text = r#"
        [[residents]]
        id = "r-0101"
        name = "测试员甲"
        building = "1栋"
        unit = "2单元"
        room = "301"
        phone = "138 0000 0001"
        lives_alone = true
        check_in = { start = "22:00", end = "02:00" }
        passive_sources = ["door"]
        contacts = [{ name = "测试员乙", relation = "女儿", phone = "138-0000-0002" }]

        [[residents]]
        id = "r-0102"
        name = "测试员丙"
        building = "1栋"
        room = "302"
    "#;
    let residents = parse_toml(text).unwrap();
    assert_eq!(residents.len(), 2);
    let first = &residents[0];
    assert_eq!(first.phone.as_deref(), Some("13800000001"));
    assert_eq!(first.contacts[0].phone, "13800000002");
    assert_eq!(
        first.check_in,
        Some(CheckInWindow::new(hm("22:00"), hm("02:00")).unwrap())
    );
    assert!(first.lives_alone);
    let second = &residents[1];
    assert_eq!(second.check_in, None);
    assert!(second.contacts.is_empty());
    assert!(!second.lives_alone);

    let bad = r#"
        [[residents]]
        id = "r-1"
        name = "测试员甲"
        building = "1栋"
        room = "301"
        phone = "12345"

        [[residents]]
        id = "r-1"
        name = ""
        building = "1栋"
        room = "302"
        contacts = [{ name = "测试员乙", phone = "abc" }]
    "#;
    let problems = parse_toml(bad).unwrap_err();
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "residents[0].phone",
            "residents[1].id",
            "residents[1].name",
            "residents[1].contacts[0].phone"
        ]
    );
    assert!(problems[0].message.contains("\"12345\""), "{}", problems[0]);

    let same_times = r#"
        [[residents]]
        id = "r-1"
        name = "测试员甲"
        building = "1栋"
        room = "301"
        check_in = { start = "08:00", end = "08:00" }
    "#;
    let problems = parse_toml(same_times).unwrap_err();
    assert!(problems[0].message.contains("08:00"), "{}", problems[0]);
    let unknown =
        "[[residents]]\nid = \"r-1\"\nname = \"甲\"\nbuilding = \"1\"\nroom = \"1\"\nage = 80\n";
    let problems = parse_toml(unknown).unwrap_err();
    assert!(problems[0].message.contains("age"), "{}", problems[0]);
}

#[test]
fn phone_numbers() {
    for (text, compact) in [
        ("13800000001", "13800000001"),
        ("138 0000 0001", "13800000001"),
        ("138-0000-0001", "13800000001"),
        ("010-6000 0001", "01060000001"),
        ("(0755) 6000 0001", "075560000001"),
        ("60000001", "60000001"),
        ("+852 6000 0001", "+85260000001"),
    ] {
        assert_eq!(parse_phone(text).as_deref(), Ok(compact), "{text}");
    }
    for text in ["", "1380000", "12000000001", "1380000000a", "+12", "000"] {
        assert!(parse_phone(text).is_err(), "{text}");
    }
}

const HEADER: &str = "id,name,building,unit,room,phone,lives_alone,contact1_name,contact1_relation,contact1_phone,check_in_start,check_in_end,passive_sources";

#[test]
fn csv_import_good_rows() {
    let text = format!(
        "{HEADER}\r\n\
         r-1,测试员甲,1栋,2单元,301,138 0000 0001,是,测试员乙,女儿,13800000002,,,door\r\n\
         \r\n\
         r-2,\"测试员丙, 老\",1栋,2单元,302,,no,,,,22:00,02:00,door;water\r\n"
    );
    let residents = parse_csv(&text).unwrap();
    assert_eq!(residents.len(), 2);

    assert_eq!(residents[0].id, "r-1");
    assert_eq!(residents[0].phone.as_deref(), Some("13800000001"));
    assert!(residents[0].lives_alone);
    assert_eq!(
        residents[0].contacts,
        [EmergencyContact {
            name: "测试员乙".into(),
            relation: "女儿".into(),
            phone: "13800000002".into()
        }]
    );
    assert_eq!(residents[0].check_in, None);
    assert_eq!(residents[0].passive_sources, ["door"]);

    assert_eq!(residents[1].name, "测试员丙, 老");
    assert_eq!(residents[1].phone, None);
    assert!(!residents[1].lives_alone);
    assert!(residents[1].contacts.is_empty());
    assert_eq!(
        residents[1].check_in,
        Some(CheckInWindow::new(hm("22:00"), hm("02:00")).unwrap())
    );
    assert_eq!(residents[1].passive_sources, ["door", "water"]);
}

#[test]
fn csv_import_bom_any_order() {
    let text = "\u{feff}room,name,id,building\n301,测试员甲,r-1,1栋\n";
    let residents = parse_csv(text).unwrap();
    assert_eq!(residents.len(), 1);
    assert_eq!(residents[0].id, "r-1");
    assert_eq!(residents[0].room, "301");
    assert_eq!(residents[0].unit, "");
}

#[test]
fn csv_import_bad_rows_are_row_precise() {
    let text = format!(
        "{HEADER}\n\
         r-1,测试员甲,1栋,2单元,301,138 0000 0001,yes,测试员乙,女儿,13800000002,,,\n\
         r-2,测试员乙,1栋,2单元,302\n\
         r-3,测试员丙,1栋,2单元,303,1380000,no,,,,,,\n\
         r-4,测试员丁,1栋,2单元,304,,no,,,,25:00,9点,\n\
         r-5,测试员戊,1栋,2单元,305,,maybe,测试员己,,,08:00,,\n\
         r-1,测试员庚,1栋,2单元,306,,,,,,,,\n"
    );
    let errors = parse_csv(&text).unwrap_err();

    let places: Vec<(usize, Option<usize>, Option<&str>)> = errors
        .iter()
        .map(|e| (e.row, e.column, e.column_name.as_deref()))
        .collect();
    assert_eq!(
        places,
        [
            (3, None, None),
            (4, Some(6), Some("phone")),
            (5, Some(11), Some("check_in_start")),
            (5, Some(12), Some("check_in_end")),
            (6, Some(7), Some("lives_alone")),
            (6, Some(10), Some("contact1_phone")),
            (6, Some(12), Some("check_in_end")),
            (7, Some(1), Some("id")),
        ]
    );

    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages[0],
        "row 3: has 5 fields but the header has 13 columns; fill in every column, leaving optional ones empty"
    );
    assert!(
        messages[1].starts_with("row 4, column 6 (phone): \"1380000\" is not a phone number;"),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].contains("\"25:00\" is not a time of day"),
        "{}",
        messages[2]
    );
    assert!(messages[3].contains("\"9点\""), "{}", messages[3]);
    assert!(messages[4].contains("\"maybe\""), "{}", messages[4]);
    assert!(
        messages[6].contains("give both or neither"),
        "{}",
        messages[6]
    );
    assert!(
        messages[7].contains("\"r-1\" is used by an earlier row"),
        "{}",
        messages[7]
    );
}

#[test]
fn csv_import_header_problems() {
    let errors = parse_csv("id,name,floor,room\nr-1,测试员甲,3,301\n").unwrap_err();
    let places: Vec<(usize, Option<usize>, Option<&str>)> = errors
        .iter()
        .map(|e| (e.row, e.column, e.column_name.as_deref()))
        .collect();
    assert_eq!(
        places,
        [(1, Some(3), Some("floor")), (1, None, Some("building"))]
    );
    assert!(errors[0].message.contains("unknown column \"floor\""));
    assert!(errors[1].to_string().contains("no \"building\" column"));

    let errors = parse_csv("").unwrap_err();
    assert_eq!(errors[0].row, 1);
    assert!(errors[0].message.contains("empty"));

    let errors = parse_csv("id,name,building,room\nr-1,\"测试员甲,1栋,301\n").unwrap_err();
    assert_eq!((errors[0].row, errors[0].column), (2, Some(2)));
    assert!(errors[0].message.contains("not closed"));
}

#[test]
fn csv_rows_count_lines_inside_quotes() {
    let text = "id,name,building,room,phone\nr-1,\"测试员甲\n(备注)\",1栋,301,\nr-2,测试员乙,1栋,302,123\n";
    let errors = parse_csv(text).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].row, 4, "the second record starts on line 4");
}

#[test]
fn registry_update_keeps_state() {
    let mut care = Care::new(vec![resident("r-1")], shanghai(), "2026-12-03 12:00");
    care.tick("2026-12-04 10:00");
    let moved = Resident {
        room: "401".into(),
        ..resident("r-1")
    };
    let now = care.at("2026-12-04 10:01");
    care.engine
        .update_residents(vec![moved, resident("r-9")], now);
    assert_eq!(care.engine.resident("r-1").unwrap().room, "401");
    assert!(
        care.engine.ladder("r-1").is_some(),
        "the running ladder stays"
    );
    assert!(care.engine.ladder("r-9").is_none());
    assert_eq!(care.engine.board(now).len(), 2);
}

#[test]
fn signals_and_outcomes_round_trip_json() {
    let to_family = Outcome::Escalated {
        to: EscalatedTo::Family,
    };
    let signals = [
        missed("r-1", Stage::CallContact),
        cleared("r-1", ClearReason::Outcome { outcome: to_family }),
        cleared("r-1", ClearReason::CheckedInLate),
    ];
    for signal in signals {
        let json = serde_json::to_string(&signal).unwrap();
        let back: CareSignal = serde_json::from_str(&json).unwrap();
        assert_eq!(back, signal, "{json}");
    }

    let record = OutcomeRecord {
        resident: "r-1".into(),
        outcome: to_family,
        operator: "值班员甲".into(),
        role: Role::Guard,
        remark: "已联系女儿".into(),
        at: "2026-12-04T02:10:00Z".parse().unwrap(),
    };
    let json = serde_json::to_string(&record).unwrap();
    assert!(
        json.contains(r#""outcome":"escalated","to":"family""#),
        "{json}"
    );
    let back: OutcomeRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, record);
}
