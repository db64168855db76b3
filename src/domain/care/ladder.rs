//! The missed check-in ladder and the other eldercare rules: their
//! settings, what they raise and clear, and the outcomes a guard records.
//!
//! When a resident's window closes without a check-in, the ladder starts:
//!
//! | stage | what the guard does | priority | lasts |
//! |---|---|---|---|
//! | 1 | call the resident | P3 | `call_resident_min`, then stage 2 |
//! | 2 | call the emergency contacts | P2 | `call_contact_min`, then stage 3 |
//! | 3 | send someone to the door | P2 | until an outcome ends the ladder |
//!
//! A resident without emergency contacts goes from stage 1 to stage 3.
//! Outcomes the guard records:
//!
//! | outcome | stage 1 | stage 2 | stage 3 |
//! |---|---|---|---|
//! | reached (the resident or a contact answered: all is well) | ends | ends | ends |
//! | not reached | to stage 2 now | to stage 3 now | rejected: record the visit's result |
//! | visited (someone is at the door) | to stage 3 now | to stage 3 now | recorded once |
//! | resident safe | ends | ends | ends |
//! | escalated to the family or to 120 (remark required) | ends | ends | ends |
//!
//! A check-in also ends the ladder. Ending it clears the missed check-in
//! condition; the alarm itself stays until a guard closes it.
//!
//! SOS and fall raise P1 at once. A resident with passive sources and no
//! activity at all for `inactive_h` hours raises P2, cleared by the next
//! activity.

use serde::{Deserialize, Serialize};

use super::window::CheckInWindow;
use crate::domain::alarm::Priority;
use crate::domain::privacy::Role;

/// The tunable part of the eldercare rules. Every key is optional.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CareSettings {
    /// The site's check-in window; a resident may have an own one.
    pub window: CheckInWindow,
    /// Minutes at stage 1 before stage 2.
    pub call_resident_min: u32,
    /// Minutes at stage 2 before stage 3.
    pub call_contact_min: u32,
    /// Hours without any activity before the inactivity alarm.
    pub inactive_h: u32,
    /// Seconds at stage 1, over `call_resident_min`: for drills and tests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_resident_s: Option<u32>,
    /// Seconds at stage 2, over `call_contact_min`: for drills and tests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_contact_s: Option<u32>,
}

impl Default for CareSettings {
    fn default() -> Self {
        Self {
            window: CheckInWindow::default(),
            call_resident_min: 15,
            call_contact_min: 15,
            inactive_h: 24,
            call_resident_s: None,
            call_contact_s: None,
        }
    }
}

/// A stage of the missed check-in ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    CallResident,
    CallContact,
    VisitDoor,
}

impl Stage {
    /// 1, 2 or 3.
    pub fn number(self) -> u8 {
        match self {
            Self::CallResident => 1,
            Self::CallContact => 2,
            Self::VisitDoor => 3,
        }
    }

    pub fn priority(self) -> Priority {
        match self {
            Self::CallResident => Priority::P3,
            Self::CallContact | Self::VisitDoor => Priority::P2,
        }
    }
}

/// A condition the eldercare rules raise; the alarm layer maps each to an alarm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CareCondition {
    MissedCheckIn,
    Sos,
    Fall,
    Inactive,
}

impl CareCondition {
    /// Returns the priority it is raised at. A missed check-in starts at
    /// stage 1's and rises with its stage.
    pub fn priority(self) -> Priority {
        match self {
            Self::Sos | Self::Fall => Priority::P1,
            Self::Inactive => Priority::P2,
            Self::MissedCheckIn => Stage::CallResident.priority(),
        }
    }
}

/// A request from the rules to the alarm layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "signal", rename_all = "snake_case")]
pub enum CareSignal {
    /// Raise the condition, or move a missed check-in to `stage`.
    Raise {
        resident: String,
        condition: CareCondition,
        priority: Priority,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<Stage>,
    },
    /// The condition is no longer true.
    Clear {
        resident: String,
        condition: CareCondition,
        reason: ClearReason,
    },
}

/// The reason a condition cleared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ClearReason {
    /// A check-in made inside the window arrived late.
    CheckedIn,
    /// The resident checked in after the window closed.
    CheckedInLate,
    /// A guard recorded an outcome that ends the ladder.
    Outcome { outcome: Outcome },
    /// Activity after a spell of inactivity.
    Activity,
}

/// To whom a missed check-in was handed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalatedTo {
    Family,
    /// 120
    EmergencyServices,
}

/// The result a guard records at a stage of the ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Reached,
    NotReached,
    Visited,
    ResidentSafe,
    Escalated { to: EscalatedTo },
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reached => "reached",
            Self::NotReached => "not_reached",
            Self::Visited => "visited",
            Self::ResidentSafe => "resident_safe",
            Self::Escalated {
                to: EscalatedTo::Family,
            } => "escalated_to_family",
            Self::Escalated {
                to: EscalatedTo::EmergencyServices,
            } => "escalated_to_emergency_services",
        }
    }

    /// True for the outcomes that end the ladder.
    pub fn ends_ladder(self) -> bool {
        matches!(
            self,
            Self::Reached | Self::ResidentSafe | Self::Escalated { .. }
        )
    }
}

/// An outcome as a guard records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    pub resident: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub operator: String,
    pub role: Role,
    #[serde(default)]
    pub remark: String,
    pub at: jiff::Timestamp,
}

/// Reason an outcome is rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CareRefusal {
    #[error("resident {0} is not in the registry")]
    UnknownResident(String),
    #[error("resident {0} has no missed check-in being handled; there is nothing to record")]
    NoLadder(String),
    #[error(
        "resident {0} is at the last stage (visit the door); record resident safe or escalated instead"
    )]
    NoFurtherStage(String),
    #[error("the visit to resident {0} is already recorded; record resident safe or escalated")]
    AlreadyVisited(String),
    #[error(
        "a remark is required to record {outcome} for resident {resident}: say whom you told and why"
    )]
    RemarkRequired {
        resident: String,
        outcome: &'static str,
    },
}

impl CareRefusal {
    /// Stable code for the message catalog.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownResident(_) => "unknown_resident",
            Self::NoLadder(_) => "no_ladder",
            Self::NoFurtherStage(_) => "no_further_stage",
            Self::AlreadyVisited(_) => "already_visited",
            Self::RemarkRequired { .. } => "remark_required",
        }
    }
}
