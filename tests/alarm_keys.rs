//! Alarm actions from the keyboard, as a guard would press the keys: what
//! reaches the recorder, what needs confirmation first, and what is ignored.

use std::sync::mpsc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use guardroom::app::{ActError, App};
use guardroom::domain::alarm::{Action, ActionKind, Disposition, Refusal};
use guardroom::i18n::Lang;
use guardroom::ui::sample::{sample_app, sample_now};
use guardroom::ui::state::{Cursor, Question, UiState, View};
use guardroom::ui::{self, handle_key, handle_paste};

/// Returns the sample app with a recorder that keeps what it is handed.
fn recording_app() -> (App, mpsc::Receiver<Action>) {
    let mut app = sample_app();
    let (tx, rx) = mpsc::channel();
    app.submit = Some(Box::new(move |action| {
        tx.send(action)
            .map_err(|error| ActError::Unavailable(error.to_string()))
    }));
    (app, rx)
}

fn queue() -> UiState {
    UiState {
        lang: Lang::En,
        ..UiState::default()
    }
}

fn press(app: &mut App, ui: &mut UiState, code: KeyCode) {
    press_with(app, ui, code, KeyModifiers::NONE);
}

fn press_with(app: &mut App, ui: &mut UiState, code: KeyCode, modifiers: KeyModifiers) {
    handle_key(app, ui, &KeyEvent::new(code, modifiers), sample_now());
}

fn typed(app: &mut App, ui: &mut UiState, text: &str) {
    for c in text.chars() {
        press(app, ui, KeyCode::Char(c));
    }
}

fn submitted(rx: &mpsc::Receiver<Action>) -> Vec<Action> {
    rx.try_iter().collect()
}

fn message(ui: &UiState) -> String {
    ui.message
        .as_ref()
        .map(|message| message.text.clone())
        .unwrap_or_default()
}

#[test]
fn key_a_acknowledges_selected_alarm() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    ui.alarm_cursor = Some(Cursor::Alarm(3));
    press(&mut app, &mut ui, KeyCode::Char('a'));
    let actions = submitted(&rx);
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].alarm, Some(3));
    assert_eq!(actions[0].kind, ActionKind::Acknowledge);
    assert_eq!(message(&ui), "Alarm #3 2栋车库门 acknowledged.");
}

#[test]
fn acknowledge_all_asks_and_only_y_answers() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    press(&mut app, &mut ui, KeyCode::Char('A'));
    let Some(Question::Acknowledge { ids, p1 }) = ui.confirm.clone() else {
        panic!("A must ask first, got {:?}", ui.confirm);
    };
    assert_eq!(ids.len(), 4, "the unacknowledged alarms listed: {ids:?}");
    assert_eq!(p1, 1);
    assert!(submitted(&rx).is_empty(), "nothing before the answer");

    // Enter, Space and a second A do not answer the question.
    for code in [KeyCode::Enter, KeyCode::Char(' '), KeyCode::Char('A')] {
        press(&mut app, &mut ui, code);
        assert!(ui.confirm.is_some(), "{code:?} left the question");
    }
    assert!(submitted(&rx).is_empty());

    press(&mut app, &mut ui, KeyCode::Char('y'));
    assert_eq!(ui.confirm, None);
    let actions = submitted(&rx);
    let mut acknowledged: Vec<u64> = actions.iter().filter_map(|action| action.alarm).collect();
    acknowledged.sort_unstable();
    let mut expected = ids;
    expected.sort_unstable();
    assert_eq!(acknowledged, expected);
    assert!(
        actions
            .iter()
            .all(|action| action.kind == ActionKind::Acknowledge)
    );
    assert_eq!(message(&ui), "4 alarms acknowledged.");
}

#[test]
fn acknowledge_all_cancelled_by_n() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    press(&mut app, &mut ui, KeyCode::Char('A'));
    press(&mut app, &mut ui, KeyCode::Char('n'));
    assert_eq!(ui.confirm, None);
    assert!(submitted(&rx).is_empty());
}

#[test]
fn paste_outside_text_field_does_nothing() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    let before = format!("{ui:?}");
    assert!(!handle_paste(&mut ui, "aAyc/Oq"));
    assert_eq!(format!("{ui:?}"), before, "the view state is unchanged");
    assert!(submitted(&rx).is_empty());

    // Not even a pending question takes a pasted answer.
    press(&mut app, &mut ui, KeyCode::Char('A'));
    assert!(!handle_paste(&mut ui, "y"));
    assert!(ui.confirm.is_some());
    assert!(submitted(&rx).is_empty());
}

#[test]
fn paste_goes_into_the_open_dialog() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    ui.alarm_cursor = Some(Cursor::Alarm(3));
    press(&mut app, &mut ui, KeyCode::Char('n'));
    assert!(handle_paste(&mut ui, "门锁\n损坏"));
    press(&mut app, &mut ui, KeyCode::Enter);
    let actions = submitted(&rx);
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].kind, ActionKind::Remark);
    assert_eq!(actions[0].remark, "门锁 损坏");
}

#[test]
fn alt_letter_does_nothing() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    ui.alarm_cursor = Some(Cursor::Alarm(3));
    for c in ['a', 'A', 'c', 'm', 'q'] {
        press_with(&mut app, &mut ui, KeyCode::Char(c), KeyModifiers::ALT);
    }
    assert!(submitted(&rx).is_empty());
    assert!(ui.dialog.is_none());
    assert!(ui.confirm.is_none());
}

#[test]
fn release_and_repeat_do_nothing() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    let not_pressed = |c: char, kind: KeyEventKind| {
        let mut event = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        event.kind = kind;
        event
    };
    for kind in [KeyEventKind::Release, KeyEventKind::Repeat] {
        handle_key(&mut app, &mut ui, &not_pressed('a', kind), sample_now());
    }
    assert!(submitted(&rx).is_empty());

    // Nor do they type into a text field.
    ui.alarm_cursor = Some(Cursor::Alarm(3));
    press(&mut app, &mut ui, KeyCode::Char('n'));
    press(&mut app, &mut ui, KeyCode::Char('x'));
    for kind in [KeyEventKind::Release, KeyEventKind::Repeat] {
        handle_key(&mut app, &mut ui, &not_pressed('x', kind), sample_now());
    }
    let field = ui.dialog.as_ref().map(|dialog| dialog.field.text.clone());
    assert_eq!(field.as_deref(), Some("x"));
}

#[test]
fn close_dialog_needs_remark_for_false_alarm() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    // The water leak cleared unacknowledged: nothing else stops a close.
    ui.alarm_cursor = Some(Cursor::Alarm(5));
    press(&mut app, &mut ui, KeyCode::Char('c'));
    assert!(ui.dialog.is_some(), "c opens the close dialog");
    press(&mut app, &mut ui, KeyCode::Down);
    press(&mut app, &mut ui, KeyCode::Enter);
    assert!(submitted(&rx).is_empty(), "no remark, no submit");
    let dialog = ui.dialog.as_ref().expect("the dialog stays open");
    assert_eq!(
        dialog.error.as_deref(),
        Some("A remark is required for a false alarm.")
    );

    // Typed text goes into the field, CJK included; Backspace removes one
    // character, not one byte.
    typed(&mut app, &mut ui, "水泵检修误触发x");
    press(&mut app, &mut ui, KeyCode::Backspace);
    press(&mut app, &mut ui, KeyCode::Enter);
    let actions = submitted(&rx);
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].alarm, Some(5));
    assert_eq!(
        actions[0].kind,
        ActionKind::Close {
            disposition: Disposition::FalseAlarm
        }
    );
    assert_eq!(actions[0].remark, "水泵检修误触发");
    assert!(ui.dialog.is_none());
    assert_eq!(message(&ui), "Alarm #5 水泵房水浸 closed as false alarm.");
}

#[test]
fn close_dialog_needs_remark_to_force_close() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    // The door held open is still active: closing it is a forced close.
    ui.alarm_cursor = Some(Cursor::Alarm(6));
    press(&mut app, &mut ui, KeyCode::Char('c'));
    press(&mut app, &mut ui, KeyCode::Enter);
    assert!(submitted(&rx).is_empty());
    let error = ui.dialog.as_ref().and_then(|dialog| dialog.error.clone());
    assert_eq!(
        error.as_deref(),
        Some("The alarm is still active, so closing it is a forced close and needs a remark.")
    );
}

#[test]
fn latched_alarm_cannot_be_closed() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    ui.alarm_cursor = Some(Cursor::Alarm(1));
    press(&mut app, &mut ui, KeyCode::Char('c'));
    assert!(
        ui.dialog.is_none(),
        "no dialog for an alarm that cannot close"
    );
    assert_eq!(
        message(&ui),
        "Alarm #1 3栋101烟感 is latched and still active: wait until it clears, reset it (r), then close it."
    );
    assert!(ui.message.as_ref().unwrap().error);
    assert!(submitted(&rx).is_empty());
}

#[test]
fn shelving_p1_shows_refusal() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    ui.alarm_cursor = Some(Cursor::Alarm(1));
    press(&mut app, &mut ui, KeyCode::Char('s'));
    assert!(ui.dialog.is_none());
    assert_eq!(
        message(&ui),
        "Alarm #1 3栋101烟感 is P1 and a P1 alarm is never shelved: acknowledge it (a) and handle it."
    );
    assert!(submitted(&rx).is_empty());

    let mut ui = UiState {
        lang: Lang::ZhCn,
        ..queue()
    };
    ui.alarm_cursor = Some(Cursor::Alarm(1));
    press(&mut app, &mut ui, KeyCode::Char('s'));
    assert_eq!(
        message(&ui),
        "报警 #1 3栋101烟感 是 P1，P1 报警不能搁置：请确认（a）并处置。"
    );
}

#[test]
fn shelve_dialog_submits_chosen_duration() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    ui.alarm_cursor = Some(Cursor::Alarm(6));
    press(&mut app, &mut ui, KeyCode::Char('s'));
    press(&mut app, &mut ui, KeyCode::Down);
    press(&mut app, &mut ui, KeyCode::Enter);
    assert!(submitted(&rx).is_empty(), "a reason is required");
    typed(&mut app, &mut ui, "door closer broken");
    press(&mut app, &mut ui, KeyCode::Enter);
    let actions = submitted(&rx);
    assert_eq!(actions.len(), 1);
    let one_hour = sample_now() + jiff::SignedDuration::from_hours(1);
    assert_eq!(
        actions[0].kind,
        ActionKind::Shelve {
            until: Some(one_hour)
        }
    );
    assert_eq!(actions[0].remark, "door closer broken");
}

#[test]
fn out_of_service_asks_with_remark() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    ui.alarm_cursor = Some(Cursor::Alarm(6));
    press(&mut app, &mut ui, KeyCode::Char('O'));
    assert!(ui.dialog.is_some(), "O opens a dialog that asks first");
    press(&mut app, &mut ui, KeyCode::Enter);
    assert!(submitted(&rx).is_empty(), "a remark is required");
    typed(&mut app, &mut ui, "闭门器更换");
    press(&mut app, &mut ui, KeyCode::Enter);
    let actions = submitted(&rx);
    assert_eq!(actions.len(), 1);
    assert_eq!(
        actions[0].kind,
        ActionKind::OutOfService {
            device: "b7-door-u1".into(),
            on: true
        }
    );
}

#[test]
fn silence_is_console_wide() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    ui.show(View::Devices);
    press(&mut app, &mut ui, KeyCode::Char('m'));
    let actions = submitted(&rx);
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].alarm, None);
    assert_eq!(actions[0].kind, ActionKind::Silence);
}

#[test]
fn selection_stays_on_alarm_when_rows_move() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    // Down to the second row: the acknowledged SOS alarm.
    press(&mut app, &mut ui, KeyCode::Char('j'));
    assert_eq!(ui.alarm_cursor, Some(Cursor::Alarm(2)));

    // A new P1 arrives and sorts above it.
    let mut before = app.projection.alarms.clone();
    let raise = guardroom::domain::alarm::Raise {
        alarm: 50,
        source: "b1-gas".into(),
        condition: guardroom::domain::alarm::Condition::Gas,
        priority: guardroom::domain::alarm::Priority::P1,
        device: Some("b1-gas".into()),
        name: "1栋燃气".into(),
        building: "1栋".into(),
        zone: "1栋 东门".into(),
        text: None,
        momentary: false,
        active: true,
        suppressed: false,
        out_of_service: false,
    };
    before.raise(&raise, sample_now() - jiff::SignedDuration::from_secs(3600));
    app.projection.alarms = before;

    // `n` still acts on the SOS alarm, not on the row now in its place.
    press(&mut app, &mut ui, KeyCode::Char('n'));
    assert_eq!(ui.dialog.as_ref().map(|dialog| dialog.alarm), Some(2));
    press(&mut app, &mut ui, KeyCode::Esc);
    assert!(ui.dialog.is_none());
    assert!(submitted(&rx).is_empty());
}

#[test]
fn group_row_acknowledges_after_asking() {
    let mut app = guardroom::ui::sample::flood_app();
    let (tx, rx) = mpsc::channel();
    app.submit = Some(Box::new(move |action| {
        tx.send(action)
            .map_err(|error| ActError::Unavailable(error.to_string()))
    }));
    let mut ui = queue();
    // Past the three P1 alarms: the first group.
    for _ in 0..3 {
        press(&mut app, &mut ui, KeyCode::Down);
    }
    assert!(matches!(ui.alarm_cursor, Some(Cursor::Group(_))));
    press(&mut app, &mut ui, KeyCode::Char('a'));
    let Some(Question::Acknowledge { ids, .. }) = ui.confirm.clone() else {
        panic!("a on a group must ask first");
    };
    assert_eq!(ids.len(), 10);
    press(&mut app, &mut ui, KeyCode::Char('y'));
    assert_eq!(submitted(&rx).len(), 10);

    // c on a group explains that the group must be opened first.
    press(&mut app, &mut ui, KeyCode::Char('c'));
    assert!(ui.dialog.is_none());
    assert!(message(&ui).starts_with("A group of alarms is selected"));
    // Enter opens the group; its first member is the next row.
    press(&mut app, &mut ui, KeyCode::Enter);
    press(&mut app, &mut ui, KeyCode::Down);
    assert!(matches!(ui.alarm_cursor, Some(Cursor::Alarm(_))));
}

#[test]
fn late_refusal_names_the_alarm() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    ui.alarm_cursor = Some(Cursor::Alarm(3));
    press(&mut app, &mut ui, KeyCode::Char('a'));
    let action = submitted(&rx).remove(0);
    app.refused
        .push((action.id, Refusal::AlreadyAcknowledged(3)));
    ui::acting::take_refusals(&mut app, &mut ui, sample_now());
    assert!(app.refused.is_empty(), "refusals are shown once");
    assert_eq!(message(&ui), "Alarm #3 2栋车库门 is already acknowledged.");
    assert!(ui.message.as_ref().unwrap().error);
}

#[test]
fn attached_console_says_where_to_act() {
    let mut app = sample_app();
    app.submit = None;
    let mut ui = queue();
    ui.alarm_cursor = Some(Cursor::Alarm(3));
    press(&mut app, &mut ui, KeyCode::Char('a'));
    assert!(
        message(&ui).starts_with("This console is attached"),
        "{}",
        message(&ui)
    );
}

#[test]
fn filter_takes_typed_and_pasted_text() {
    let (mut app, rx) = recording_app();
    let mut ui = queue();
    press(&mut app, &mut ui, KeyCode::Char('/'));
    assert!(ui.editing_filter);
    typed(&mut app, &mut ui, "5栋a");
    assert!(handle_paste(&mut ui, " 水"));
    assert_eq!(ui.alarm_filter.text, "5栋a 水");
    for _ in 0..3 {
        press(&mut app, &mut ui, KeyCode::Backspace);
    }
    press(&mut app, &mut ui, KeyCode::Enter);
    assert!(!ui.editing_filter);
    assert_eq!(ui.alarm_filter.text, "5栋");
    // Typing "a" went into the filter, not to acknowledge.
    assert!(submitted(&rx).is_empty());
    let lines = ui::rows::queue_lines(&app, &ui);
    assert!(
        lines.iter().all(|line| line.lead().building == "5栋"),
        "only 5栋 alarms are listed"
    );
}

#[test]
fn no_key_bound_twice_on_one_screen() {
    use guardroom::ui::keymap::BINDINGS;
    let mut states = Vec::new();
    for view in [
        View::Alarms,
        View::AlarmDetail,
        View::History,
        View::Overview,
        View::Devices,
        View::Detail,
        View::Help,
    ] {
        let mut ui = queue();
        ui.show(view);
        states.push(ui);
    }
    for ui in states {
        let scopes = ui::scopes(&ui);
        let active: Vec<_> = BINDINGS
            .iter()
            .filter(|binding| scopes.contains(&binding.scope))
            .collect();
        for (i, a) in active.iter().enumerate() {
            for b in &active[i + 1..] {
                for key in a.keys {
                    assert!(
                        !b.keys.contains(key),
                        "{} is bound to {} and {} in {:?}",
                        key.label(),
                        a.help,
                        b.help,
                        ui.view
                    );
                }
            }
        }
    }
}

fn new_p1(id: u64) -> guardroom::domain::alarm::Raise {
    guardroom::domain::alarm::Raise {
        alarm: id,
        source: format!("gas-{id}"),
        condition: guardroom::domain::alarm::Condition::Gas,
        priority: guardroom::domain::alarm::Priority::P1,
        device: None,
        name: format!("燃气 {id}"),
        building: "1栋".into(),
        zone: "1栋 东门".into(),
        text: None,
        momentary: false,
        active: true,
        suppressed: false,
        out_of_service: false,
    }
}

#[test]
fn selection_stays_put_after_its_alarm_leaves() {
    let (mut app, _rx) = recording_app();
    let mut ui = queue();
    press(&mut app, &mut ui, KeyCode::Char('j'));
    assert_eq!(ui.alarm_cursor, Some(Cursor::Alarm(2)));

    // The selected alarm is closed elsewhere: the highlight falls to the
    // next line, and once pinned there it stays on that alarm.
    let mut book = app.projection.alarms.clone();
    let mut closed = book.get(2).unwrap().clone();
    closed.closed = Some(guardroom::domain::alarm::record::Closure {
        at: sample_now(),
        disposition: Disposition::Genuine,
        by: "another guard".into(),
    });
    book.upsert(closed);
    app.projection.alarms = book;
    ui::rows::pin_selection(&app, &mut ui);
    let pinned = ui.alarm_cursor.clone();
    assert!(
        matches!(pinned, Some(Cursor::Alarm(id)) if id != 2),
        "{pinned:?}"
    );

    // New P1 alarms sort above it; the highlight does not move with them.
    for id in [60, 61] {
        app.projection.alarms.raise(
            &new_p1(id),
            sample_now() - jiff::SignedDuration::from_secs(7200),
        );
        ui::rows::pin_selection(&app, &mut ui);
    }
    assert_eq!(ui.alarm_cursor, pinned, "still on the same alarm");
}

#[test]
fn text_filter_finds_the_condition_as_shown() {
    let app = sample_app();
    let mut ui = UiState {
        lang: Lang::ZhCn,
        ..UiState::default()
    };
    ui.alarm_filter.text = "火警".into();
    let lines = ui::rows::queue_lines(&app, &ui);
    assert!(!lines.is_empty(), "/火警 finds the fire alarms");
    for line in &lines {
        if let ui::rows::QueueLine::Alarm { alarm, .. } = line {
            assert_eq!(alarm.condition, guardroom::domain::alarm::Condition::Fire);
        }
    }

    ui.lang = Lang::En;
    ui.alarm_filter.text = "low battery".into();
    let lines = ui::rows::queue_lines(&app, &ui);
    assert!(!lines.is_empty(), "the English name as shown matches too");
}
