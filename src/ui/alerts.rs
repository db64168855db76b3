//! Alerts outside the screen when alarms arrive: desktop notices and the
//! terminal bell.
//!
//! Pure functions of the alarm book before and after a merge, so they are
//! tested without a terminal. The event loop captures [`Before`] for the
//! alarms a batch of deltas carries, merges, calls [`assess`], sends the
//! notices and rings the bell through [`Bell`].

use std::collections::HashMap;

use jiff::Timestamp;

use super::state::Banner;
use crate::domain::alarm::{Alarm, AlarmBook, Priority};
use crate::i18n::Lang;
use crate::notify::{DesktopState, Notice, NotifyState};

/// More new alarms than this in one merge go out as one notice.
pub const COALESCE_ABOVE: usize = 3;

/// Shortest time between two rings of the bell, in seconds.
pub const BELL_INTERVAL_S: i64 = 2;

/// Alarms named in the body of a coalesced notice.
const NAMED_IN_SUMMARY: usize = 3;

/// An alarm's escalation count and sounding time before the merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    escalations: u32,
    sounding_since: Timestamp,
}

/// The alarms a merge is about to change, as they were before it. `None`
/// for an alarm that was not open.
#[derive(Clone, Debug, Default)]
pub struct Before {
    alarms: HashMap<u64, Option<Seen>>,
}

impl Before {
    /// Notes alarms `ids` as `book` has them now. An alarm already noted
    /// keeps its first state, so a batch of deltas compares with the state
    /// before the whole batch.
    pub fn capture(&mut self, book: &AlarmBook, ids: impl IntoIterator<Item = u64>) {
        for id in ids {
            self.alarms.entry(id).or_insert_with(|| {
                book.open.get(&id).map(|alarm| Seen {
                    escalations: alarm.escalations,
                    sounding_since: alarm.sounding_since,
                })
            });
        }
    }

    /// Notes every open alarm of `book`.
    pub fn whole(book: &AlarmBook) -> Self {
        let mut before = Self::default();
        before.capture(book, book.open.keys().copied());
        before
    }

    pub fn is_empty(&self) -> bool {
        self.alarms.is_empty()
    }
}

/// The reason an alarm is notified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A new P1 or P2 alarm that sounds.
    New,
    /// A P1 or P2 alarm that sounds again after it cleared or was acknowledged.
    Again,
    /// Unacknowledged past its priority's limit.
    Escalated,
}

/// The outcome of one merge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alerts {
    pub notices: Vec<Notice>,
    /// True when a sounding, not silenced alarm is among those notified.
    pub ring: bool,
    /// The alarms notified, most urgent first.
    pub alarms: Vec<(u64, Reason)>,
}

/// Compares the alarms noted in `before` with `after` and returns the
/// notices to send and whether to ring.
pub fn assess(before: &Before, after: &AlarmBook, lang: Lang) -> Alerts {
    let mut found: Vec<(&Alarm, Reason)> = Vec::new();
    for (id, seen) in &before.alarms {
        let Some(alarm) = after.open.get(id) else {
            continue;
        };
        if let Some(reason) = reason(*seen, alarm) {
            found.push((alarm, reason));
        }
    }
    found.sort_by_key(|(alarm, _)| (alarm.priority, alarm.raised_at, alarm.id));

    let silenced_at = after.state.silenced_at;
    let ring = found.iter().any(|(alarm, _)| {
        alarm.sounding() && silenced_at.is_none_or(|at| alarm.sounding_since > at)
    });
    let notices = if found.len() > COALESCE_ABOVE {
        vec![coalesced(&found, lang)]
    } else {
        found
            .iter()
            .map(|(alarm, reason)| notice(alarm, *reason, lang))
            .collect()
    };
    Alerts {
        notices,
        ring,
        alarms: found
            .iter()
            .map(|(alarm, reason)| (alarm.id, *reason))
            .collect(),
    }
}

fn reason(seen: Option<Seen>, alarm: &Alarm) -> Option<Reason> {
    let urgent = matches!(alarm.priority, Priority::P1 | Priority::P2);
    match seen {
        None => (urgent && alarm.sounding()).then_some(Reason::New),
        Some(seen) if alarm.escalations > seen.escalations => Some(Reason::Escalated),
        Some(seen) => (urgent && alarm.sounding() && alarm.sounding_since > seen.sounding_since)
            .then_some(Reason::Again),
    }
}

fn notice(alarm: &Alarm, reason: Reason, lang: Lang) -> Notice {
    let key = match reason {
        Reason::New => "alert.new",
        Reason::Again => "alert.again",
        Reason::Escalated => "alert.escalated",
    };
    Notice {
        summary: lang.tf(
            key,
            &[
                ("priority", &alarm.priority.as_str()),
                ("condition", &condition_name(alarm, lang)),
                ("name", &alarm.name),
            ],
        ),
        body: lang.tf(
            "alert.body",
            &[
                ("id", &alarm.id),
                ("location", &location(&alarm.building, &alarm.zone)),
            ],
        ),
        urgent: alarm.priority == Priority::P1,
    }
}

/// Builds one notice for many alarms: how many, and the most urgent few
/// by name.
fn coalesced(found: &[(&Alarm, Reason)], lang: Lang) -> Notice {
    let new = found
        .iter()
        .filter(|(_, reason)| *reason != Reason::Escalated)
        .count();
    let escalated = found.len() - new;
    let summary = if escalated == 0 {
        lang.tf("alert.many", &[("count", &found.len())])
    } else {
        lang.tf(
            "alert.many_mixed",
            &[
                ("count", &found.len()),
                ("new", &new),
                ("escalated", &escalated),
            ],
        )
    };
    let named: Vec<String> = found
        .iter()
        .take(NAMED_IN_SUMMARY)
        .map(|(alarm, _)| {
            format!(
                "{} {} {}",
                alarm.priority.as_str(),
                condition_name(alarm, lang),
                alarm.name
            )
        })
        .collect();
    let body = lang.tf(
        "alert.many_body",
        &[
            ("first", &named.join(lang.t("demo.list_separator"))),
            ("more", &(found.len() - named.len())),
        ],
    );
    Notice {
        summary,
        body,
        urgent: found
            .iter()
            .any(|(alarm, _)| alarm.priority == Priority::P1),
    }
}

fn condition_name(alarm: &Alarm, lang: Lang) -> &'static str {
    lang.t(&format!("condition.{}", alarm.condition.as_str()))
}

/// Returns the place of an alarm as shown: the zone when it already names
/// the building (`3栋 1单元`), else building and zone, else `-`.
pub fn location(building: &str, zone: &str) -> String {
    match (building.is_empty(), zone.is_empty()) {
        (false, false) if zone.starts_with(building) => zone.to_owned(),
        (false, false) => format!("{building} {zone}"),
        (false, true) => building.to_owned(),
        (true, false) => zone.to_owned(),
        (true, true) => "-".to_owned(),
    }
}

/// Returns the banner for the latest notice that went to the fallback, when
/// more notices went there than the `seen` already shown.
pub fn banner(state: &NotifyState, seen: u64, now: Timestamp) -> Option<Banner> {
    let fallback = state
        .fallback
        .as_ref()
        .filter(|fallback| fallback.count > seen)?;
    Some(Banner {
        summary: fallback.summary.clone(),
        body: fallback.body.clone(),
        count: fallback.count,
        desktop_off: state.desktop == DesktopState::Disabled,
        at: now,
    })
}

/// The terminal bell, rung at most once per [`BELL_INTERVAL_S`].
#[derive(Clone, Debug, Default)]
pub struct Bell {
    last: Option<Timestamp>,
}

impl Bell {
    /// Returns whether to ring now, and notes the ring when it does.
    pub fn ring(&mut self, now: Timestamp) -> bool {
        let due = self
            .last
            .is_none_or(|last| now.duration_since(last).as_secs() >= BELL_INTERVAL_S);
        if due {
            self.last = Some(now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::domain::alarm::{Action, ActionKind, Change, Condition, Raise};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn raise(id: u64, condition: Condition) -> Raise {
        Raise {
            alarm: id,
            source: format!("dev-{id}"),
            condition,
            priority: condition.default_priority(),
            device: Some(format!("dev-{id}")),
            name: format!("3栋{id}号探测器"),
            building: "3栋".into(),
            zone: "3栋 1单元".into(),
            text: None,
            momentary: false,
            active: true,
            suppressed: false,
            out_of_service: false,
        }
    }

    fn silence(book: &mut AlarmBook, when: Timestamp) {
        let action = Action {
            id: uuid::Uuid::from_u128(1),
            alarm: None,
            kind: ActionKind::Silence,
            operator: "guard-a".into(),
            role: "guard".into(),
            console: "duty-1".into(),
            via_ssh: false,
            remark: String::new(),
        };
        book.act(&action, when);
    }

    #[test]
    fn new_p1_gives_one_notice_and_bell() {
        let book = AlarmBook::default();
        let mut before = Before::default();
        before.capture(&book, [1]);
        let mut after = book.clone();
        after.raise(&raise(1, Condition::Fire), at(0));

        let alerts = assess(&before, &after, Lang::En);
        assert_eq!(alerts.notices.len(), 1);
        assert_eq!(alerts.notices[0].summary, "P1 fire: 3栋1号探测器");
        assert_eq!(alerts.notices[0].body, "#1 3栋 1单元");
        assert!(alerts.notices[0].urgent);
        assert!(alerts.ring);
    }

    #[test]
    fn new_p3_not_notified() {
        let book = AlarmBook::default();
        let mut before = Before::default();
        before.capture(&book, [1]);
        let mut after = book.clone();
        after.raise(&raise(1, Condition::DeviceOffline), at(0));
        let alerts = assess(&before, &after, Lang::En);
        assert!(alerts.notices.is_empty());
        assert!(!alerts.ring);
    }

    #[test]
    fn many_new_alarms_coalesce() {
        let book = AlarmBook::default();
        let mut before = Before::default();
        before.capture(&book, 1..=200);
        let mut after = book.clone();
        for id in 1..=200 {
            let condition = if id % 50 == 0 {
                Condition::Fire
            } else {
                Condition::DoorForced
            };
            after.raise(&raise(id, condition), at(id as i64 / 4));
        }
        let alerts = assess(&before, &after, Lang::En);
        assert_eq!(alerts.notices.len(), 1, "{:?}", alerts.notices);
        assert_eq!(alerts.notices[0].summary, "200 new alarms");
        assert!(
            alerts.notices[0].body.starts_with("P1 fire 3栋50号探测器"),
            "the most urgent come first: {}",
            alerts.notices[0].body
        );
        assert!(alerts.notices[0].body.ends_with("and 197 more"));
        assert!(alerts.notices[0].urgent);
        assert_eq!(alerts.alarms.len(), 200);
    }

    #[test]
    fn three_new_alarms_stay_separate() {
        let book = AlarmBook::default();
        let mut before = Before::default();
        before.capture(&book, 1..=3);
        let mut after = book.clone();
        for id in 1..=3 {
            after.raise(&raise(id, Condition::DoorForced), at(0));
        }
        assert_eq!(assess(&before, &after, Lang::En).notices.len(), 3);
    }

    #[test]
    fn silenced_alarm_does_not_ring() {
        let mut book = AlarmBook::default();
        book.raise(&raise(1, Condition::Fire), at(0));
        let before = Before::whole(&book);
        let mut after = book.clone();
        // A repeat after the silence would sound again; one before it does not.
        after.change(1, &Change::Escalated, at(60));
        silence(&mut after, at(61));

        let alerts = assess(&before, &after, Lang::En);
        assert_eq!(alerts.notices.len(), 1, "the escalation is still told");
        assert!(!alerts.ring, "silenced: no bell");
    }

    #[test]
    fn escalation_gives_notice() {
        let mut book = AlarmBook::default();
        book.raise(&raise(1, Condition::DeviceOffline), at(0));
        let before = Before::whole(&book);
        let mut after = book.clone();
        after.change(1, &Change::Escalated, at(300));

        let alerts = assess(&before, &after, Lang::ZhCn);
        assert_eq!(alerts.alarms, [(1, Reason::Escalated)]);
        assert_eq!(
            alerts.notices[0].summary,
            "P3 仍未确认：设备离线：3栋1号探测器"
        );
        assert!(alerts.ring);
    }

    #[test]
    fn unchanged_alarm_not_notified() {
        let mut book = AlarmBook::default();
        book.raise(&raise(1, Condition::Fire), at(0));
        let before = Before::whole(&book);
        let mut after = book.clone();
        after.change(1, &Change::Repeated, at(5));
        let alerts = assess(&before, &after, Lang::En);
        assert!(alerts.notices.is_empty(), "{:?}", alerts.notices);
    }

    #[test]
    fn capture_keeps_first_state() {
        let mut book = AlarmBook::default();
        let mut before = Before::default();
        before.capture(&book, [1]);
        book.raise(&raise(1, Condition::Fire), at(0));
        before.capture(&book, [1]);
        let alerts = assess(&before, &book, Lang::En);
        assert_eq!(alerts.alarms, [(1, Reason::New)]);
    }

    #[test]
    fn banner_shows_new_fallback_only() {
        let mut state = NotifyState {
            desktop: DesktopState::Disabled,
            ..NotifyState::default()
        };
        assert_eq!(banner(&state, 0, at(0)), None, "no fallback yet");
        state.fallback = Some(crate::notify::Fallback {
            summary: "P1 fire: 3栋101烟感".into(),
            body: "#1 3栋 1单元".into(),
            urgent: true,
            at: at(0),
            count: 2,
        });
        let shown = banner(&state, 1, at(5)).expect("a new fallback notice");
        assert_eq!(shown.count, 2);
        assert_eq!(shown.summary, "P1 fire: 3栋101烟感");
        assert!(shown.desktop_off);
        assert_eq!(shown.at, at(5));
        assert_eq!(banner(&state, 2, at(6)), None, "already shown");
    }

    #[test]
    fn bell_rings_at_most_every_two_seconds() {
        let mut bell = Bell::default();
        assert!(bell.ring(at(0)));
        assert!(!bell.ring(at(1)));
        assert!(bell.ring(at(0) + SignedDuration::from_secs(BELL_INTERVAL_S)));
    }

    #[test]
    fn location_avoids_repeating_building() {
        assert_eq!(location("3栋", "3栋 1单元"), "3栋 1单元");
        assert_eq!(location("3栋", "大堂"), "3栋 大堂");
        assert_eq!(location("", ""), "-");
    }
}
