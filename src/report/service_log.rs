//! Log rows of repair tickets and eldercare records, as the log browser
//! and the exported report show them. A row has the kind of entry, its
//! subject and a short text, all in the reader's language. The subject is
//! the ticket id, or the resident's id and name.
//!
//! The log carries resident ids but no names. The caller formats the
//! subject of a resident, so that the name is masked or shown in clear by
//! the caller's own rule: the board's reveals on screen, `--reveal-personal`
//! in a report.

use crate::domain::EventBody;
use crate::domain::care::{CareCondition, CareEventKind, CareSignal};
use crate::domain::services::{CareRecord, care_condition};
use crate::domain::ticket::{TicketActionKind, TicketEvent};
use crate::i18n::Lang;
use crate::report::care::{reason_text, stage_text};
use crate::report::export::mask::Privacy;

/// The texts of one ticket or eldercare entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceRow {
    pub kind: String,
    /// The ticket id, or the resident's id and name.
    pub subject: String,
    pub text: String,
    /// The operator who acted, when the record names one.
    pub operator: Option<String>,
}

/// Formats a ticket or eldercare event, or returns `None` for other events.
/// `resident` returns the subject for a resident id; phone numbers in free
/// text are masked unless `privacy` reveals them.
pub fn service_row(
    body: &EventBody,
    lang: Lang,
    privacy: Privacy,
    resident: &dyn Fn(&str) -> String,
) -> Option<ServiceRow> {
    let kind = lang
        .try_t(&format!("duty.event_{}", body.kind()))
        .unwrap_or(body.kind())
        .to_owned();
    match body {
        EventBody::Ticket { event, action } => {
            let mut row = ticket_row(event, lang, privacy);
            row.kind = kind;
            row.operator = row
                .operator
                .or_else(|| action.as_ref().map(|action| action.operator.clone()));
            Some(row)
        }
        EventBody::Care { record, action } => {
            let mut row = care_row(record, lang, privacy, resident);
            if row.kind.is_empty() {
                row.kind = kind;
            }
            row.operator = row
                .operator
                .or_else(|| action.as_ref().map(|action| action.operator.clone()));
            Some(row)
        }
        _ => None,
    }
}

/// Returns true for the records a report leaves out: passive activity,
/// which a sensor sends many times a day, and the list of residents watched.
pub fn is_routine(body: &EventBody) -> bool {
    matches!(
        body,
        EventBody::Care {
            record: CareRecord::Watching { .. },
            ..
        }
    ) || matches!(
        body,
        EventBody::Care {
            record: CareRecord::Event { event },
            ..
        } if matches!(event.kind, CareEventKind::Activity { .. })
    )
}

fn ticket_row(event: &TicketEvent, lang: Lang, privacy: Privacy) -> ServiceRow {
    let label = |key: String| lang.try_t(&key).unwrap_or_default().to_owned();
    let (text, operator) = match event {
        TicketEvent::Created { ticket } => (
            joined(
                &privacy.text(&ticket.description),
                &privacy.text(&ticket.location),
            ),
            None,
        ),
        TicketEvent::Acted { action } => {
            let mut step = label(format!("tickets.step_{}", action.kind.as_str()));
            if let TicketActionKind::Assign { assignee } | TicketActionKind::Transfer { assignee } =
                &action.kind
            {
                step = format!("{step} → {assignee}");
            }
            let text = if action.remark.trim().is_empty() {
                step
            } else {
                format!("{step}: {}", privacy.text(&action.remark))
            };
            (text, Some(action.operator.clone()))
        }
        TicketEvent::Received { record } => {
            let state = label(format!("tickets.state_{}", record.content.state.as_str()));
            let description = privacy.text(&record.content.description);
            (format!("{state}: {description}"), None)
        }
        TicketEvent::OverdueNoticed { notice } => (
            joined(
                &label(format!("tickets.urgency_{}", notice.urgency.as_str())),
                &privacy.text(&notice.location),
            ),
            None,
        ),
    };
    ServiceRow {
        kind: String::new(),
        subject: event.ticket().to_owned(),
        text,
        operator,
    }
}

/// Returns `first (second)`, or whichever of them is not empty.
fn joined(first: &str, second: &str) -> String {
    match (first.is_empty(), second.is_empty()) {
        (false, false) => format!("{first} ({second})"),
        (true, _) => second.to_owned(),
        (false, true) => first.to_owned(),
    }
}

fn care_row(
    record: &CareRecord,
    lang: Lang,
    privacy: Privacy,
    resident: &dyn Fn(&str) -> String,
) -> ServiceRow {
    let free_text = |text: &Option<String>| text.as_deref().map(|text| privacy.text(text));
    match record {
        CareRecord::Event { event } => {
            let detail = match &event.kind {
                CareEventKind::Activity { source } => Some(source.clone()),
                _ => None,
            };
            let text = [detail, free_text(&event.text)]
                .into_iter()
                .flatten()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            ServiceRow {
                subject: resident(&event.resident),
                text,
                ..ServiceRow::default()
            }
        }
        CareRecord::Outcome { record } => {
            let outcome = lang
                .t(&format!("board.outcome_{}", record.outcome.as_str()))
                .to_owned();
            let text = if record.remark.trim().is_empty() {
                outcome
            } else {
                format!("{outcome}: {}", privacy.text(&record.remark))
            };
            ServiceRow {
                subject: resident(&record.resident),
                text,
                operator: Some(record.operator.clone()),
                ..ServiceRow::default()
            }
        }
        CareRecord::Signal { signal } => signal_row(signal, lang, resident),
        CareRecord::Watching { residents } => ServiceRow {
            text: lang.tf("duty.watching", &[("count", &residents.len())]),
            ..ServiceRow::default()
        },
    }
}

/// Formats a care signal: a stage of the missed check-in ladder, or its
/// end, as the board names it, and the other conditions by their alarm's name.
fn signal_row(signal: &CareSignal, lang: Lang, resident: &dyn Fn(&str) -> String) -> ServiceRow {
    let condition_name = |condition: CareCondition| {
        lang.t(&format!("condition.{}", care_condition(condition).as_str()))
            .to_owned()
    };
    match signal {
        CareSignal::Raise {
            resident: id,
            condition,
            stage,
            ..
        } => {
            let (kind, text) = match (condition, stage) {
                (CareCondition::MissedCheckIn, Some(stage)) => (
                    String::new(),
                    lang.tf("board.entry_stage", &[("stage", &stage_text(*stage, lang))]),
                ),
                (condition, _) => (condition_name(*condition), String::new()),
            };
            ServiceRow {
                kind,
                subject: resident(id),
                text,
                operator: None,
            }
        }
        CareSignal::Clear {
            resident: id,
            condition,
            reason,
        } => {
            let (kind, text) = match condition {
                CareCondition::MissedCheckIn => (
                    String::new(),
                    lang.tf(
                        "board.entry_ended",
                        &[("reason", &reason_text(reason, lang))],
                    ),
                ),
                CareCondition::Inactive => (
                    condition_name(*condition),
                    lang.t("board.entry_resumed").to_owned(),
                ),
                other => (condition_name(*other), reason_text(reason, lang)),
            };
            ServiceRow {
                kind,
                subject: resident(id),
                text,
                operator: None,
            }
        }
    }
}
