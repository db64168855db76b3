//! Service levels: how long each ticket may take, its time left or overdue
//! at a given moment, and the notice for overdue urgent tickets.
//!
//! The SLA runs from the ticket's creation until it is resolved. Returns and
//! transfers do not restart it, because the resident is still waiting. A
//! reopen makes it run again from the same start, and a cancelled ticket has
//! none.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::book::{Ticket, TicketBook};
use super::state::{Category, TicketState, Urgency};
use crate::domain::alarm::Priority;

/// The SLA limits, in minutes. Every key is optional.
///
/// ```toml
/// urgent_min = 120
/// normal_min = 1440
/// minor_min = 4320
/// [categories.elevator]
/// urgent_min = 30
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaSettings {
    pub urgent_min: u32,
    pub normal_min: u32,
    pub minor_min: u32,
    /// Limits for single categories, over the urgency's.
    pub categories: BTreeMap<Category, CategorySla>,
}

impl Default for SlaSettings {
    fn default() -> Self {
        Self {
            urgent_min: 2 * 60,
            normal_min: 24 * 60,
            minor_min: 72 * 60,
            categories: BTreeMap::new(),
        }
    }
}

/// A category's own limits, in minutes; an absent one falls back to the urgency's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CategorySla {
    pub urgent_min: Option<u32>,
    pub normal_min: Option<u32>,
    pub minor_min: Option<u32>,
}

impl SlaSettings {
    /// Returns how long a ticket of this category and urgency may take.
    pub fn limit(&self, category: Category, urgency: Urgency) -> SignedDuration {
        let own = self.categories.get(&category).and_then(|c| match urgency {
            Urgency::Urgent => c.urgent_min,
            Urgency::Normal => c.normal_min,
            Urgency::Minor => c.minor_min,
        });
        let minutes = own.unwrap_or(match urgency {
            Urgency::Urgent => self.urgent_min,
            Urgency::Normal => self.normal_min,
            Urgency::Minor => self.minor_min,
        });
        SignedDuration::from_mins(i64::from(minutes))
    }

    /// Returns when the ticket is due.
    pub fn due(&self, ticket: &Ticket) -> Timestamp {
        let limit = self.limit(ticket.content.category, ticket.content.urgency);
        ticket
            .created_at
            .saturating_add(limit)
            .unwrap_or(Timestamp::MAX)
    }
}

/// A ticket's SLA at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlaStatus {
    /// Not resolved; `left` until `due`. Zero at the due time itself.
    Running {
        due: Timestamp,
        left: SignedDuration,
    },
    /// Not resolved, and past `due` by `by`.
    Overdue { due: Timestamp, by: SignedDuration },
    /// Resolved by the due time.
    Met { due: Timestamp, resolved: Timestamp },
    /// Resolved `by` after the due time.
    Missed {
        due: Timestamp,
        resolved: Timestamp,
        by: SignedDuration,
    },
    /// Cancelled: no SLA applies.
    None,
}

/// Returns the ticket's SLA at `now`.
pub fn status(ticket: &Ticket, now: Timestamp, settings: &SlaSettings) -> SlaStatus {
    if ticket.state() == TicketState::Cancelled {
        return SlaStatus::None;
    }
    let due = settings.due(ticket);
    match ticket.resolved_at.or(ticket.ended_at) {
        Some(resolved) if resolved <= due => SlaStatus::Met { due, resolved },
        Some(resolved) => SlaStatus::Missed {
            due,
            resolved,
            by: resolved.duration_since(due),
        },
        None if now <= due => SlaStatus::Running {
            due,
            left: due.duration_since(now),
        },
        None => SlaStatus::Overdue {
            due,
            by: now.duration_since(due),
        },
    }
}

/// A notice for the alarm layer to raise for an overdue urgent ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueNotice {
    pub ticket: String,
    pub priority: Priority,
    pub category: Category,
    pub urgency: Urgency,
    pub location: String,
    pub due: Timestamp,
}

/// Returns a P4 notice for each urgent ticket that is overdue at `now` and
/// has had none. The caller logs each as
/// [`TicketEvent::OverdueNoticed`](super::book::TicketEvent::OverdueNoticed);
/// folding it marks the ticket, so that the notice is raised once per
/// ticket, even if the ticket is reopened and overdue again.
pub fn overdue_notices(
    book: &TicketBook,
    now: Timestamp,
    settings: &SlaSettings,
) -> Vec<OverdueNotice> {
    book.open()
        .filter(|ticket| ticket.content.urgency == Urgency::Urgent && !ticket.overdue_noticed)
        .filter_map(|ticket| match status(ticket, now, settings) {
            SlaStatus::Overdue { due, .. } => Some(OverdueNotice {
                ticket: ticket.id.clone(),
                priority: Priority::P4,
                category: ticket.content.category,
                urgency: ticket.content.urgency,
                location: ticket.content.location.clone(),
                due,
            }),
            _ => None,
        })
        .collect()
}
