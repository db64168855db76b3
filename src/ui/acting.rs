//! Alarm actions from the keyboard: which alarm a key is for, the dialog
//! or question before the action where one is needed, handing the action
//! to [`App::act`], and the message the operator sees afterwards.

use jiff::Timestamp;
use uuid::Uuid;

use super::dialog::{Dialog, DialogKind, ShelveFor};
use super::keymap::Action;
use super::rows::{QueueLine, queue_lines, selected_line};
use super::state::{Question, UiState, View};
use crate::app::{ActError, App};
use crate::domain::alarm::{self, ActionKind, Disposition, Priority, Refusal, Shown};
use crate::i18n::Lang;

/// The alarm or alarms a key acts on.
enum Target {
    None,
    One(u64),
    /// A group row of the queue: its members.
    Group(Vec<u64>),
}

fn target(app: &App, ui: &UiState) -> Target {
    match ui.view {
        View::AlarmDetail => ui.alarm_detail.map_or(Target::None, Target::One),
        View::Alarms => {
            let lines = queue_lines(app, ui);
            match lines.get(selected_line(&lines, ui)) {
                Some(QueueLine::Alarm { alarm, .. }) => Target::One(alarm.id),
                Some(QueueLine::Group { members, .. }) => {
                    Target::Group(members.iter().map(|alarm| alarm.id).collect())
                }
                None => Target::None,
            }
        }
        _ => Target::None,
    }
}

/// Applies a key's alarm action.
pub fn apply(app: &mut App, ui: &mut UiState, action: Action, now: Timestamp) {
    let lang = ui.lang;
    match action {
        Action::Silence => {
            match submit(app, ui, None, ActionKind::Silence, "", now) {
                Ok(()) => ui.say(lang.t("done.silence").to_owned(), now),
                Err(text) => ui.complain(text, now),
            }
            return;
        }
        Action::AcknowledgeAll => {
            let lines = queue_lines(app, ui);
            let ids: Vec<u64> = lines
                .iter()
                .filter(|line| !matches!(line, QueueLine::Alarm { member: true, .. }))
                .flat_map(|line| line.members())
                .map(|alarm| alarm.id)
                .collect();
            ask_acknowledge(app, ui, ids, now);
            return;
        }
        _ => {}
    }

    let id = match target(app, ui) {
        Target::None => {
            ui.complain(lang.t("done.no_alarm").to_owned(), now);
            return;
        }
        Target::Group(ids) if action == Action::Acknowledge => {
            ask_acknowledge(app, ui, ids, now);
            return;
        }
        Target::Group(_) => {
            ui.complain(lang.t("done.group_selected").to_owned(), now);
            return;
        }
        Target::One(id) => id,
    };
    match action {
        Action::Acknowledge => act_now(app, ui, id, ActionKind::Acknowledge, now),
        Action::Reset => act_now(app, ui, id, ActionKind::Reset, now),
        Action::Unshelve => act_now(app, ui, id, ActionKind::Unshelve, now),
        Action::CloseAlarm => {
            let probe = ActionKind::Close {
                disposition: Disposition::Genuine,
            };
            open_dialog(app, ui, id, probe, DialogKind::Close { choice: 0 }, now);
        }
        Action::Shelve => {
            let probe = ActionKind::Shelve {
                until: ShelveFor::CHOICES[0].until(now),
            };
            open_dialog(app, ui, id, probe, DialogKind::Shelve { choice: 0 }, now);
        }
        Action::Remark => open_dialog(app, ui, id, ActionKind::Remark, DialogKind::Remark, now),
        Action::Service => open_service(app, ui, id, now),
        _ => {}
    }
}

/// Takes an action that needs no dialog and shows the outcome.
fn act_now(app: &mut App, ui: &mut UiState, id: u64, kind: ActionKind, now: Timestamp) {
    let done = done_text(app, ui.lang, id, &kind);
    match submit(app, ui, Some(id), kind, "", now) {
        Ok(()) => ui.say(done, now),
        Err(text) => ui.complain(text, now),
    }
}

/// Opens a dialog, unless the book already rejects the action, as for
/// closing a latched alarm or shelving a P1. Then it shows the reason instead.
fn open_dialog(
    app: &App,
    ui: &mut UiState,
    id: u64,
    probe: ActionKind,
    kind: DialogKind,
    now: Timestamp,
) {
    // The probe carries a remark, so only refusals that a remark cannot
    // fix show here. The dialog itself requests the remark.
    if let Err(refusal) = check(app, Some(id), probe, "-", now) {
        ui.complain(refusal_text(app, ui.lang, Some(id), &refusal), now);
        return;
    }
    ui.dialog = Some(Dialog::new(id, kind));
}

fn open_service(app: &App, ui: &mut UiState, id: u64, now: Timestamp) {
    let lang = ui.lang;
    let book = &app.projection.alarms;
    let Some(alarm) = book.get(id) else {
        ui.complain(
            refusal_text(app, lang, Some(id), &Refusal::Unknown(id)),
            now,
        );
        return;
    };
    let Some(device) = alarm.device.clone() else {
        let label = alarm_label(app, id);
        ui.complain(lang.tf("done.no_device", &[("alarm", &label)]), now);
        return;
    };
    let name = device_name(app, &device);
    let on = !book.is_out_of_service(&device);
    ui.dialog = Some(Dialog::new(id, DialogKind::Service { device, name, on }));
}

/// Asks before acknowledging those of `ids` that need it.
fn ask_acknowledge(app: &App, ui: &mut UiState, ids: Vec<u64>, now: Timestamp) {
    let book = &app.projection.alarms;
    let mut p1 = 0;
    let ids: Vec<u64> = ids
        .into_iter()
        .filter(|id| {
            book.open.get(id).is_some_and(|alarm| {
                let needs = matches!(
                    alarm.shown(),
                    Shown::Unacknowledged | Shown::ClearedUnacknowledged
                );
                p1 += usize::from(needs && alarm.priority == Priority::P1);
                needs
            })
        })
        .collect();
    if ids.is_empty() {
        ui.say(ui.lang.t("done.nothing_to_acknowledge").to_owned(), now);
        return;
    }
    ui.confirm = Some(Question::Acknowledge { ids, p1 });
}

/// Acknowledges `ids` after the operator confirmed with `y`.
pub fn acknowledge_many(app: &mut App, ui: &mut UiState, ids: &[u64], now: Timestamp) {
    let lang = ui.lang;
    let mut done = 0;
    let mut failed = 0;
    let mut first_error = None;
    for id in ids {
        match submit(app, ui, Some(*id), ActionKind::Acknowledge, "", now) {
            Ok(()) => done += 1,
            Err(text) => {
                failed += 1;
                first_error.get_or_insert(text);
            }
        }
    }
    match first_error {
        None => ui.say(lang.tf("done.acknowledge_many", &[("count", &done)]), now),
        Some(first) => ui.complain(
            lang.tf(
                "done.acknowledge_some",
                &[("count", &done), ("failed", &failed), ("first", &first)],
            ),
            now,
        ),
    }
}

/// Submits the open dialog, or shows in it what is missing.
pub fn submit_dialog(app: &mut App, ui: &mut UiState, now: Timestamp) {
    let lang = ui.lang;
    let Some(dialog) = ui.dialog.as_mut() else {
        return;
    };
    let needed = dialog.remark_needed(app.projection.alarms.get(dialog.alarm));
    if let Some(key) = needed
        && dialog.field.is_blank()
    {
        dialog.error = Some(lang.t(key).to_owned());
        return;
    }
    let id = dialog.alarm;
    let kind = dialog.action(now);
    let remark = dialog.field.text.clone();
    let done = match &dialog.kind {
        DialogKind::Shelve { choice } => lang.tf(
            "done.shelve",
            &[
                ("alarm", &alarm_label(app, id)),
                ("duration", &lang.t(ShelveFor::CHOICES[*choice].key())),
            ],
        ),
        _ => done_text(app, lang, id, &kind),
    };
    match submit(app, ui, Some(id), kind, &remark, now) {
        Ok(()) => {
            ui.dialog = None;
            ui.say(done, now);
        }
        Err(text) => {
            if let Some(dialog) = ui.dialog.as_mut() {
                dialog.error = Some(text);
            }
        }
    }
}

/// Shows the refusals the recorder sent back since the last call.
pub fn take_refusals(app: &mut App, ui: &mut UiState, now: Timestamp) {
    let refused: Vec<(Uuid, Refusal)> = app.refused.drain(..).collect();
    for (action, refusal) in refused {
        let alarm = ui.submitted_alarm(action);
        let text = refusal_text(app, ui.lang, alarm, &refusal);
        ui.complain(text, now);
    }
}

/// Hands an action to the app; on failure returns the message to show.
fn submit(
    app: &mut App,
    ui: &mut UiState,
    alarm: Option<u64>,
    kind: ActionKind,
    remark: &str,
    now: Timestamp,
) -> Result<(), String> {
    match app.act(alarm, kind, remark, now) {
        Ok(action) => {
            ui.remember_submitted(action, alarm);
            Ok(())
        }
        Err(ActError::Refused(refusal)) => Err(refusal_text(app, ui.lang, alarm, &refusal)),
        Err(ActError::Attached) => Err(ui.lang.t("refusal.attached").to_owned()),
        Err(ActError::Unavailable(reason)) => {
            Err(ui.lang.tf("refusal.unavailable", &[("reason", &reason)]))
        }
    }
}

/// Checks an action against the book without taking it.
fn check(
    app: &App,
    alarm: Option<u64>,
    kind: ActionKind,
    remark: &str,
    now: Timestamp,
) -> Result<(), Refusal> {
    let action = alarm::Action {
        id: Uuid::nil(),
        alarm,
        kind,
        operator: app.operator.name.clone(),
        role: app.operator.role.clone(),
        console: app.operator.console.clone(),
        via_ssh: app.operator.via_ssh,
        remark: remark.to_owned(),
    };
    app.check(&action, now)
}

/// Formats a refusal: which alarm, what is wrong and what to do.
pub fn refusal_text(app: &App, lang: Lang, alarm: Option<u64>, refusal: &Refusal) -> String {
    let id = match refusal {
        Refusal::Unknown(id)
        | Refusal::Closed(id)
        | Refusal::AlreadyAcknowledged(id)
        | Refusal::AlreadyShelved(id)
        | Refusal::NotShelved(id)
        | Refusal::LatchedActive(id)
        | Refusal::NeedsReset(id)
        | Refusal::NotLatched(id)
        | Refusal::StillActive(id)
        | Refusal::NotAcknowledged(id) => Some(*id),
        _ => alarm,
    };
    let label = id.map_or_else(String::new, |id| alarm_label(app, id));
    let purpose = match refusal {
        Refusal::RemarkRequired(purpose) => lang
            .try_t(&format!("remark_for.{purpose}"))
            .unwrap_or(purpose)
            .to_owned(),
        _ => String::new(),
    };
    let device = match refusal {
        Refusal::ServiceUnchanged(device) => device_name(app, device),
        _ => String::new(),
    };
    let max_h = match refusal {
        Refusal::ShelveTime { max_h } => *max_h,
        _ => 0,
    };
    let reason = match refusal {
        Refusal::ByRecorder(reason) => reason.clone(),
        Refusal::Ticket(inner) => service_reason(lang, "ticket_refusal", inner.code(), inner),
        Refusal::Care(inner) => service_reason(lang, "care_refusal", inner.code(), inner),
        Refusal::Reveal(inner) => lang.tf(
            "refusal.reveal_reason",
            &[
                (
                    "role",
                    &lang.t(&format!("operator_role.{}", inner.role.as_str())),
                ),
                (
                    "kind",
                    &lang.t(&format!("data_kind.{}", inner.kind.as_str())),
                ),
                ("subject", &inner.subject),
            ],
        ),
        _ => String::new(),
    };
    let (role, permitted) = match refusal {
        Refusal::NotPermitted { role, action } => (
            lang.t(&format!("operator_role.{role}")),
            lang.t(&format!("permission.{action}")),
        ),
        _ => ("", ""),
    };
    let operator = match refusal {
        Refusal::UnknownOperator(id) | Refusal::DisabledOperator(id) => id.as_str(),
        _ => "",
    };
    lang.tf(
        &format!("refusal.{}", refusal.code()),
        &[
            ("alarm", &label),
            ("purpose", &purpose),
            ("device", &device),
            ("max_h", &max_h),
            ("reason", &reason),
            ("role", &role),
            ("permission", &permitted),
            ("operator", &operator),
        ],
    )
}

/// Returns the catalog's text for a ticket or care refusal, or the
/// domain's own English sentence when the catalog has none for its code.
fn service_reason(
    lang: Lang,
    section: &str,
    code: &str,
    refusal: &impl std::fmt::Display,
) -> String {
    match lang.try_t(&format!("{section}.{code}")) {
        Some(text) if lang != Lang::En => text.to_owned(),
        _ => refusal.to_string(),
    }
}

/// Formats the confirmation after `kind` was handed over for alarm `id`.
fn done_text(app: &App, lang: Lang, id: u64, kind: &ActionKind) -> String {
    let label = alarm_label(app, id);
    match kind {
        ActionKind::Close { disposition } => lang.tf(
            "done.close",
            &[
                ("alarm", &label),
                (
                    "disposition",
                    &lang.t(&format!("disposition.{}", disposition.as_str())),
                ),
            ],
        ),
        ActionKind::OutOfService { device, on } => lang.tf(
            if *on {
                "done.out_of_service"
            } else {
                "done.in_service"
            },
            &[("device", &device_name(app, device))],
        ),
        other => lang.tf(&format!("done.{}", other.as_str()), &[("alarm", &label)]),
    }
}

/// Formats an alarm as `#12 3栋101烟感`, or `#12` when it is no longer in
/// the book.
pub fn alarm_label(app: &App, id: u64) -> String {
    match app.projection.alarms.get(id) {
        Some(alarm) => format!("#{id} {}", alarm.name),
        None => format!("#{id}"),
    }
}

/// Formats a device as `3栋101烟感 (b3-smoke-101)`, or as its id when the
/// inventory lacks it.
fn device_name(app: &App, device: &str) -> String {
    match app.projection.devices.get(device) {
        Some(known) if known.spec.name != device => format!("{} ({device})", known.spec.name),
        _ => device.to_owned(),
    }
}
