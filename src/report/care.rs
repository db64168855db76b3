//! The wording of eldercare stages, outcomes and history in the operator's
//! language, shared by the board, the log browser and the handover sheet.

use crate::domain::care::{CareEntryKind, ClearReason, Stage};
use crate::i18n::Lang;

/// Names a ladder stage with its number: "2 call contacts".
pub fn stage_text(stage: Stage, lang: Lang) -> String {
    format!(
        "{} {}",
        stage.number(),
        lang.t(&format!("board.stage_{}", stage.number()))
    )
}

/// Says how a missed window or a ladder ended.
pub fn reason_text(reason: &ClearReason, lang: Lang) -> String {
    match reason {
        ClearReason::CheckedIn => lang.t("board.checked_in").to_owned(),
        ClearReason::CheckedInLate => lang.t("board.checked_in_late").to_owned(),
        ClearReason::Outcome { outcome } => lang
            .t(&format!("board.outcome_{}", outcome.as_str()))
            .to_owned(),
        ClearReason::Activity => lang.t("board.activity_seen").to_owned(),
    }
}

/// Formats a history entry, and its remark if it has one.
pub fn entry_text(entry: &CareEntryKind, lang: Lang) -> (String, String) {
    match entry {
        CareEntryKind::CheckedIn { .. } => (lang.t("board.checked_in").to_owned(), String::new()),
        CareEntryKind::Activity { source, .. } => (
            lang.tf("board.entry_activity", &[("source", source)]),
            String::new(),
        ),
        CareEntryKind::Sos => (lang.t("board.entry_sos").to_owned(), String::new()),
        CareEntryKind::Fall => (lang.t("board.entry_fall").to_owned(), String::new()),
        CareEntryKind::WindowMissed { .. } => (lang.t("board.missed").to_owned(), String::new()),
        CareEntryKind::StageStarted { stage } => (
            lang.tf("board.entry_stage", &[("stage", &stage_text(*stage, lang))]),
            String::new(),
        ),
        CareEntryKind::Outcome {
            outcome,
            operator,
            remark,
            ..
        } => (
            format!(
                "{}  {operator}",
                lang.t(&format!("board.outcome_{}", outcome.as_str()))
            ),
            remark.clone(),
        ),
        CareEntryKind::LadderEnded { reason } => (
            lang.tf(
                "board.entry_ended",
                &[("reason", &reason_text(reason, lang))],
            ),
            String::new(),
        ),
        CareEntryKind::Inactive { .. } => {
            (lang.t("board.entry_inactive").to_owned(), String::new())
        }
        CareEntryKind::ActivityResumed => (lang.t("board.entry_resumed").to_owned(), String::new()),
    }
}
