//! One alarm: its flags, counters and transition history.

use std::collections::VecDeque;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::change::{Raise, SYSTEM};
use super::condition::{Condition, Disposition, Priority};

/// Transitions kept per alarm; older ones stay in the event log.
pub const HISTORY_LIMIT: usize = 200;

/// Activations remembered for chattering detection.
const ACTIVATIONS_KEPT: usize = 8;

/// The state shown to the guard, derived from the flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shown {
    /// 未确认: new, sounding.
    Unacknowledged,
    /// 已恢复未确认: the condition cleared before anyone acknowledged it.
    ClearedUnacknowledged,
    /// 待复位: latched, acknowledged, cleared; needs a reset.
    NeedsReset,
    /// 处置中: acknowledged, being handled.
    Acknowledged,
    Shelved,
    Suppressed,
    OutOfService,
    Closed,
}

impl Shown {
    pub const ALL: [Shown; 8] = [
        Self::Unacknowledged,
        Self::ClearedUnacknowledged,
        Self::NeedsReset,
        Self::Acknowledged,
        Self::Shelved,
        Self::Suppressed,
        Self::OutOfService,
        Self::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unacknowledged => "unacknowledged",
            Self::ClearedUnacknowledged => "cleared_unacknowledged",
            Self::NeedsReset => "needs_reset",
            Self::Acknowledged => "acknowledged",
            Self::Shelved => "shelved",
            Self::Suppressed => "suppressed",
            Self::OutOfService => "out_of_service",
            Self::Closed => "closed",
        }
    }

    /// True for the states the queue lists (the others are only counted).
    pub fn is_queued(self) -> bool {
        matches!(
            self,
            Self::Unacknowledged
                | Self::ClearedUnacknowledged
                | Self::NeedsReset
                | Self::Acknowledged
        )
    }
}

/// A shelving in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shelving {
    /// `None`: shelved once, until the condition clears.
    pub until: Option<Timestamp>,
    pub by: String,
    pub reason: String,
}

/// Closing record: when, with which disposition, by whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub at: Timestamp,
    pub disposition: Disposition,
    pub by: String,
}

/// One line of an alarm's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub at: Timestamp,
    /// The change or action (`raised`, `cleared`, `acknowledge`…).
    pub what: String,
    pub from: Option<Shown>,
    pub to: Shown,
    pub actor: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub console: String,
    #[serde(default)]
    pub via_ssh: bool,
    #[serde(default)]
    pub remark: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Uuid>,
}

impl Transition {
    /// Builds a transition the rules made, with no operator behind it.
    pub fn by_system(at: Timestamp, what: &str, from: Option<Shown>, to: Shown) -> Self {
        Self {
            at,
            what: what.to_owned(),
            from,
            to,
            actor: SYSTEM.into(),
            role: String::new(),
            console: String::new(),
            via_ssh: false,
            remark: String::new(),
            action: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    pub id: u64,
    pub source: String,
    pub condition: Condition,
    pub priority: Priority,
    pub device: Option<String>,
    pub name: String,
    pub building: String,
    pub zone: String,
    pub text: Option<String>,
    pub momentary: bool,

    pub active: bool,
    pub acknowledged: bool,
    pub latched: bool,
    pub shelved: Option<Shelving>,
    pub suppressed: bool,
    pub out_of_service: bool,
    pub chattering: bool,
    /// How many times escalation fired while unacknowledged.
    pub escalations: u32,
    pub occurrences: u32,
    /// For an offline alarm: drops in the counting window.
    pub flaps: u32,

    pub raised_at: Timestamp,
    /// The last time the condition became true or repeated.
    pub last_at: Timestamp,
    /// Since when it has been sounding (raise, re-activation or escalation).
    pub sounding_since: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub closed: Option<Closure>,
    pub activations: VecDeque<Timestamp>,
    pub history: VecDeque<Transition>,
}

impl Alarm {
    pub fn new(raise: &Raise, at: Timestamp) -> Self {
        let mut alarm = Self {
            id: raise.alarm,
            source: raise.source.clone(),
            condition: raise.condition,
            priority: raise.priority,
            device: raise.device.clone(),
            name: raise.name.clone(),
            building: raise.building.clone(),
            zone: raise.zone.clone(),
            text: raise.text.clone(),
            momentary: raise.momentary,
            active: raise.active,
            acknowledged: false,
            latched: raise.active && raise.condition.latches(),
            shelved: None,
            suppressed: raise.suppressed && raise.priority != Priority::P1,
            out_of_service: raise.out_of_service,
            chattering: false,
            escalations: 0,
            occurrences: 1,
            flaps: 0,
            raised_at: at,
            last_at: at,
            sounding_since: at,
            acknowledged_at: None,
            closed: None,
            activations: VecDeque::new(),
            history: VecDeque::new(),
        };
        alarm.activations.push_back(at);
        alarm
    }

    /// Returns the state shown to the guard.
    pub fn shown(&self) -> Shown {
        if self.closed.is_some() {
            Shown::Closed
        } else if self.out_of_service {
            Shown::OutOfService
        } else if self.shelved.is_some() {
            Shown::Shelved
        } else if self.suppressed {
            Shown::Suppressed
        } else if !self.acknowledged {
            if self.active {
                Shown::Unacknowledged
            } else {
                Shown::ClearedUnacknowledged
            }
        } else if self.latched && !self.active {
            Shown::NeedsReset
        } else {
            Shown::Acknowledged
        }
    }

    /// True while the console should sound for it.
    pub fn sounding(&self) -> bool {
        self.shown() == Shown::Unacknowledged
    }

    /// Returns true until the alarm is closed.
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    /// Notes an activation and judges chattering: `count` activations within
    /// `window_s` seconds.
    pub(crate) fn activated(&mut self, at: Timestamp, count: usize, window_s: i64) {
        if self.activations.len() == ACTIVATIONS_KEPT {
            self.activations.pop_front();
        }
        self.activations.push_back(at);
        let recent = self
            .activations
            .iter()
            .filter(|t| at.duration_since(**t).as_secs() < window_s)
            .count();
        self.chattering = recent >= count;
    }

    pub(crate) fn record(&mut self, transition: Transition) {
        if self.history.len() == HISTORY_LIMIT {
            self.history.pop_front();
        }
        self.history.push_back(transition);
    }
}
