//! The one keymap table. Key handling, the footer hints and the `?` help
//! screen all read it, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Something the operator asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    ForceQuit,
    Help,
    Back,
    ShowAlarms,
    ShowOverview,
    ShowDevices,
    ShowHistory,
    NextView,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Filter,
    CycleKind,
    CycleStatus,
    CycleBuilding,
    CycleSort,
    CyclePriority,
    CycleAlarmState,
    CycleGrouping,
    ClearFilters,
    Confirm,
    Cancel,
    Silence,
    Acknowledge,
    AcknowledgeAll,
    CloseAlarm,
    Reset,
    Shelve,
    Unshelve,
    Remark,
    Service,
    /// Lock the console until an operator logs in.
    Lock,
    /// Move between the login screen's fields.
    NextField,
    /// Enter in a dialog or a filter being typed.
    Submit,
    DeleteChar,
    /// Open the note dialog to write a duty-log entry.
    WriteNote,
    /// Open the handover of the shift.
    StartHandover,
    ShowLog,
    /// Move the cursor of a text field.
    CursorLeft,
    CursorRight,
    /// Step the log browser's period back or forward.
    PreviousPeriod,
    NextPeriod,
    /// Switch the log browser between a shift, a day and a week.
    CyclePeriod,
    CycleOperator,
    ToggleStats,
    /// Write the report of the log browser's period to a file.
    Export,
    CycleFormat,
    /// Correct the selected duty-log entry with a new one.
    Correct,
    ShowTickets,
    ShowBoard,
    /// Switch the ticket list between the unassigned queue and my tickets.
    ToggleMine,
    /// Assign the selected ticket to the operator (派单 to oneself).
    Claim,
    /// Accept an assigned ticket and start the repair (接单).
    StartWork,
    TicketNote,
    Resolve,
    /// 退单: back to the unassigned queue.
    ReturnTicket,
    /// 转单: to another assignee.
    Transfer,
    CancelTicket,
    /// 办结
    CloseTicket,
    /// Take the ticket's device out of service for the repair, or return it.
    TicketService,
    /// Create a ticket from the selected alarm or faulty device.
    CreateTicket,
    /// Record an outcome of the missed check-in ladder.
    RecordOutcome,
    /// Reveal masked personal data; the reveal is logged first.
    Reveal,
}

/// Screen area in which a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every screen.
    Global,
    /// Moving in lists and scrolling text.
    List,
    /// Lists whose rows open a detail view.
    Rows,
    /// The device list only.
    Devices,
    /// The alarm queue only.
    Alarms,
    /// Actions on one alarm: the queue's selected row, or the alarm detail.
    AlarmActions,
    /// The closed-alarm list.
    History,
    /// A yes/no question on screen.
    Confirm,
    /// A question about many alarms, which only `y` answers.
    ConfirmStrict,
    /// A dialog with a text field; other printable keys are typed into it.
    Dialog,
    /// A filter being typed.
    FilterEdit,
    /// Keys of a logged-in operator's session, on sites with logins.
    Session,
    /// The log browser.
    Log,
    /// The note dialog; other printable keys are typed into its text.
    Note,
    /// The handover view; other printable keys go into its fields.
    Handover,
    /// The login and lock screen; other printable keys go into its fields.
    Login,
    /// The ticket list only.
    Tickets,
    /// Actions on one ticket: the list's selected row, or the ticket detail.
    TicketActions,
    /// Today's eldercare board and a resident's history.
    Board,
}

/// A key as written in the table and on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn key(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

const fn ch(c: char) -> Key {
    key(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [Key],
    pub action: Action,
    /// Catalog key of the description (`keys.<name>`).
    pub help: &'static str,
    /// Shown in the footer line of its scope.
    pub footer: bool,
}

const fn bind(
    scope: Scope,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    footer: bool,
) -> Binding {
    Binding {
        scope,
        keys,
        action,
        help,
        footer,
    }
}

/// Every key binding. Order is the order of the help screen and the footer.
///
/// Actions that change alarms sit on letter keys that a stray press is
/// unlikely to hit, never on Space or Enter. Bulk actions and taking a
/// device out of service ask first.
pub const BINDINGS: &[Binding] = &[
    bind(
        Scope::Login,
        &[key(KeyCode::Enter)],
        Action::Submit,
        "keys.log_in",
        true,
    ),
    bind(
        Scope::Login,
        &[key(KeyCode::Tab)],
        Action::NextField,
        "keys.next_field",
        true,
    ),
    bind(
        Scope::Login,
        &[key(KeyCode::Backspace)],
        Action::DeleteChar,
        "keys.delete_char",
        false,
    ),
    bind(
        Scope::Login,
        &[key(KeyCode::Esc)],
        Action::Cancel,
        "keys.clear_login",
        true,
    ),
    bind(
        Scope::Login,
        &[ctrl('c')],
        Action::ForceQuit,
        "keys.force_quit",
        true,
    ),
    // A plain capital letter: phone terminals over SSH send it without
    // any modifier that their keyboards may lack.
    bind(Scope::Session, &[ch('L')], Action::Lock, "keys.lock", true),
    bind(
        Scope::Confirm,
        &[ch('y'), key(KeyCode::Enter)],
        Action::Confirm,
        "keys.confirm",
        true,
    ),
    bind(
        Scope::Confirm,
        &[ch('n'), key(KeyCode::Esc)],
        Action::Cancel,
        "keys.cancel",
        true,
    ),
    bind(
        Scope::ConfirmStrict,
        &[ch('y')],
        Action::Confirm,
        "keys.confirm",
        true,
    ),
    bind(
        Scope::ConfirmStrict,
        &[ch('n'), key(KeyCode::Esc)],
        Action::Cancel,
        "keys.cancel",
        true,
    ),
    bind(
        Scope::Dialog,
        &[key(KeyCode::Enter)],
        Action::Submit,
        "keys.submit",
        true,
    ),
    bind(
        Scope::Dialog,
        &[key(KeyCode::Esc)],
        Action::Cancel,
        "keys.cancel_dialog",
        true,
    ),
    bind(
        Scope::Dialog,
        &[key(KeyCode::Up)],
        Action::Up,
        "keys.choice_up",
        true,
    ),
    bind(
        Scope::Dialog,
        &[key(KeyCode::Down)],
        Action::Down,
        "keys.choice_down",
        true,
    ),
    bind(
        Scope::Dialog,
        &[key(KeyCode::Backspace)],
        Action::DeleteChar,
        "keys.delete_char",
        false,
    ),
    bind(
        Scope::FilterEdit,
        &[key(KeyCode::Enter)],
        Action::Submit,
        "keys.keep_filter",
        true,
    ),
    bind(
        Scope::FilterEdit,
        &[key(KeyCode::Esc)],
        Action::Cancel,
        "keys.clear_filter",
        true,
    ),
    bind(
        Scope::FilterEdit,
        &[key(KeyCode::Backspace)],
        Action::DeleteChar,
        "keys.delete_char",
        false,
    ),
    bind(
        Scope::AlarmActions,
        &[ch('a')],
        Action::Acknowledge,
        "keys.acknowledge",
        true,
    ),
    bind(
        Scope::Rows,
        &[key(KeyCode::Enter), ch('l')],
        Action::Open,
        "keys.open",
        true,
    ),
    bind(
        Scope::AlarmActions,
        &[ch('c')],
        Action::CloseAlarm,
        "keys.close_alarm",
        true,
    ),
    bind(
        Scope::Global,
        &[ch('m')],
        Action::Silence,
        "keys.silence",
        true,
    ),
    bind(
        Scope::AlarmActions,
        &[ch('r')],
        Action::Reset,
        "keys.reset",
        true,
    ),
    bind(
        Scope::AlarmActions,
        &[ch('s')],
        Action::Shelve,
        "keys.shelve",
        true,
    ),
    bind(
        Scope::AlarmActions,
        &[ch('u')],
        Action::Unshelve,
        "keys.unshelve",
        false,
    ),
    bind(
        Scope::AlarmActions,
        &[ch('n')],
        Action::Remark,
        "keys.remark",
        true,
    ),
    bind(
        Scope::AlarmActions,
        &[ch('O')],
        Action::Service,
        "keys.service",
        false,
    ),
    bind(
        Scope::Alarms,
        &[ch('A')],
        Action::AcknowledgeAll,
        "keys.acknowledge_all",
        false,
    ),
    bind(
        Scope::Alarms,
        &[ch('/')],
        Action::Filter,
        "keys.filter",
        true,
    ),
    bind(
        Scope::Alarms,
        &[ch('p')],
        Action::CyclePriority,
        "keys.priority",
        false,
    ),
    bind(
        Scope::Alarms,
        &[ch('f')],
        Action::CycleAlarmState,
        "keys.alarm_state",
        false,
    ),
    bind(
        Scope::Alarms,
        &[ch('b')],
        Action::CycleBuilding,
        "keys.building",
        false,
    ),
    bind(
        Scope::Alarms,
        &[ch('z')],
        Action::CycleGrouping,
        "keys.grouping",
        false,
    ),
    bind(
        Scope::Alarms,
        &[ch('x')],
        Action::ClearFilters,
        "keys.clear",
        false,
    ),
    bind(
        Scope::History,
        &[ch('/')],
        Action::Filter,
        "keys.filter",
        true,
    ),
    bind(
        Scope::Devices,
        &[ch('/')],
        Action::Filter,
        "keys.filter",
        true,
    ),
    bind(
        Scope::Devices,
        &[ch('t')],
        Action::CycleKind,
        "keys.kind",
        true,
    ),
    bind(
        Scope::Devices,
        &[ch('s')],
        Action::CycleStatus,
        "keys.status",
        true,
    ),
    bind(
        Scope::Devices,
        &[ch('b')],
        Action::CycleBuilding,
        "keys.building",
        true,
    ),
    bind(
        Scope::Devices,
        &[ch('o')],
        Action::CycleSort,
        "keys.sort",
        true,
    ),
    bind(
        Scope::Devices,
        &[ch('c')],
        Action::ClearFilters,
        "keys.clear",
        false,
    ),
    bind(
        Scope::Note,
        &[key(KeyCode::Enter)],
        Action::Submit,
        "keys.save_note",
        true,
    ),
    bind(
        Scope::Note,
        &[key(KeyCode::Esc)],
        Action::Cancel,
        "keys.cancel_dialog",
        true,
    ),
    bind(
        Scope::Note,
        &[key(KeyCode::Up)],
        Action::Up,
        "keys.entry_up",
        true,
    ),
    bind(
        Scope::Note,
        &[key(KeyCode::Down)],
        Action::Down,
        "keys.entry_down",
        true,
    ),
    bind(
        Scope::Note,
        &[key(KeyCode::Left)],
        Action::CursorLeft,
        "keys.cursor_left",
        false,
    ),
    bind(
        Scope::Note,
        &[key(KeyCode::Right)],
        Action::CursorRight,
        "keys.cursor_right",
        false,
    ),
    bind(
        Scope::Note,
        &[key(KeyCode::Home)],
        Action::Top,
        "keys.cursor_home",
        false,
    ),
    bind(
        Scope::Note,
        &[key(KeyCode::End)],
        Action::Bottom,
        "keys.cursor_end",
        false,
    ),
    bind(
        Scope::Note,
        &[key(KeyCode::Backspace)],
        Action::DeleteChar,
        "keys.delete_char",
        false,
    ),
    bind(
        Scope::Handover,
        &[key(KeyCode::Enter)],
        Action::Submit,
        "keys.sign",
        true,
    ),
    bind(
        Scope::Handover,
        &[key(KeyCode::Tab)],
        Action::NextField,
        "keys.next_field",
        true,
    ),
    bind(
        Scope::Handover,
        &[key(KeyCode::Esc)],
        Action::Back,
        "keys.leave",
        true,
    ),
    bind(
        Scope::Handover,
        &[key(KeyCode::Up)],
        Action::Up,
        "keys.scroll_up",
        true,
    ),
    bind(
        Scope::Handover,
        &[key(KeyCode::Down)],
        Action::Down,
        "keys.scroll_down",
        true,
    ),
    bind(
        Scope::Handover,
        &[key(KeyCode::PageUp)],
        Action::PageUp,
        "keys.page_up",
        false,
    ),
    bind(
        Scope::Handover,
        &[key(KeyCode::PageDown)],
        Action::PageDown,
        "keys.page_down",
        false,
    ),
    bind(
        Scope::Handover,
        &[key(KeyCode::Left)],
        Action::CursorLeft,
        "keys.cursor_left",
        false,
    ),
    bind(
        Scope::Handover,
        &[key(KeyCode::Right)],
        Action::CursorRight,
        "keys.cursor_right",
        false,
    ),
    bind(
        Scope::Handover,
        &[key(KeyCode::Backspace)],
        Action::DeleteChar,
        "keys.delete_char",
        false,
    ),
    bind(
        Scope::Log,
        &[ch('/')],
        Action::Filter,
        "keys.search_log",
        true,
    ),
    bind(
        Scope::Log,
        &[ch('[')],
        Action::PreviousPeriod,
        "keys.previous_period",
        true,
    ),
    bind(
        Scope::Log,
        &[ch(']')],
        Action::NextPeriod,
        "keys.next_period",
        true,
    ),
    bind(
        Scope::Log,
        &[ch('d')],
        Action::CyclePeriod,
        "keys.period",
        false,
    ),
    bind(
        Scope::Log,
        &[ch('s')],
        Action::ToggleStats,
        "keys.stats",
        true,
    ),
    bind(Scope::Log, &[ch('e')], Action::Export, "keys.export", true),
    bind(
        Scope::Log,
        &[ch('f')],
        Action::CycleFormat,
        "keys.format",
        false,
    ),
    bind(
        Scope::Log,
        &[ch('t')],
        Action::CycleKind,
        "keys.entry_kind",
        false,
    ),
    bind(
        Scope::Log,
        &[ch('p')],
        Action::CyclePriority,
        "keys.priority",
        false,
    ),
    bind(
        Scope::Log,
        &[ch('o')],
        Action::CycleOperator,
        "keys.operator",
        false,
    ),
    bind(
        Scope::Log,
        &[ch('x')],
        Action::ClearFilters,
        "keys.clear",
        false,
    ),
    bind(
        Scope::Log,
        &[ch('c')],
        Action::Correct,
        "keys.correct",
        false,
    ),
    bind(
        Scope::Tickets,
        &[ch('v')],
        Action::ToggleMine,
        "keys.toggle_mine",
        true,
    ),
    bind(
        Scope::Tickets,
        &[ch('W')],
        Action::CreateTicket,
        "keys.new_ticket",
        false,
    ),
    bind(
        Scope::TicketActions,
        &[ch('c')],
        Action::Claim,
        "keys.claim",
        true,
    ),
    bind(
        Scope::TicketActions,
        &[ch('s')],
        Action::StartWork,
        "keys.start_work",
        true,
    ),
    bind(
        Scope::TicketActions,
        &[ch('o')],
        Action::TicketService,
        "keys.ticket_service",
        false,
    ),
    bind(
        Scope::TicketActions,
        &[ch('n')],
        Action::TicketNote,
        "keys.ticket_note",
        false,
    ),
    bind(
        Scope::TicketActions,
        &[ch('r')],
        Action::Resolve,
        "keys.resolve",
        true,
    ),
    bind(
        Scope::TicketActions,
        &[ch('u')],
        Action::ReturnTicket,
        "keys.return_ticket",
        false,
    ),
    bind(
        Scope::TicketActions,
        &[ch('t')],
        Action::Transfer,
        "keys.transfer",
        false,
    ),
    bind(
        Scope::TicketActions,
        &[ch('x')],
        Action::CancelTicket,
        "keys.cancel_ticket",
        false,
    ),
    bind(
        Scope::TicketActions,
        &[ch('C')],
        Action::CloseTicket,
        "keys.close_ticket",
        false,
    ),
    bind(
        Scope::TicketActions,
        &[ch('v')],
        Action::Reveal,
        "keys.reveal_reporter",
        false,
    ),
    bind(
        Scope::AlarmActions,
        &[ch('W')],
        Action::CreateTicket,
        "keys.create_ticket",
        false,
    ),
    bind(
        Scope::Devices,
        &[ch('W')],
        Action::CreateTicket,
        "keys.create_ticket",
        false,
    ),
    bind(
        Scope::Board,
        &[ch('o')],
        Action::RecordOutcome,
        "keys.record_outcome",
        true,
    ),
    bind(
        Scope::Board,
        &[ch('v')],
        Action::Reveal,
        "keys.reveal",
        true,
    ),
    bind(
        Scope::Global,
        &[ch('0')],
        Action::ShowAlarms,
        "keys.alarms",
        true,
    ),
    bind(
        Scope::Global,
        &[ch('1')],
        Action::ShowOverview,
        "keys.overview",
        true,
    ),
    bind(
        Scope::Global,
        &[ch('2')],
        Action::ShowDevices,
        "keys.devices",
        true,
    ),
    bind(
        Scope::Global,
        &[ch('H')],
        Action::ShowHistory,
        "keys.history",
        true,
    ),
    bind(Scope::Global, &[ch('3')], Action::ShowLog, "keys.log", true),
    bind(
        Scope::Global,
        &[ch('4')],
        Action::ShowTickets,
        "keys.tickets",
        false,
    ),
    bind(
        Scope::Global,
        &[ch('5')],
        Action::ShowBoard,
        "keys.board",
        false,
    ),
    bind(
        Scope::Global,
        &[ch('w')],
        Action::WriteNote,
        "keys.write_note",
        true,
    ),
    bind(
        Scope::Global,
        &[ch('T')],
        Action::StartHandover,
        "keys.hand_over",
        true,
    ),
    bind(
        Scope::Global,
        &[key(KeyCode::Tab)],
        Action::NextView,
        "keys.next_view",
        false,
    ),
    bind(
        Scope::List,
        &[ch('j'), key(KeyCode::Down)],
        Action::Down,
        "keys.down",
        false,
    ),
    bind(
        Scope::List,
        &[ch('k'), key(KeyCode::Up)],
        Action::Up,
        "keys.up",
        false,
    ),
    bind(
        Scope::List,
        &[key(KeyCode::PageDown), ctrl('d')],
        Action::PageDown,
        "keys.page_down",
        false,
    ),
    bind(
        Scope::List,
        &[key(KeyCode::PageUp), ctrl('u')],
        Action::PageUp,
        "keys.page_up",
        false,
    ),
    bind(
        Scope::List,
        &[ch('g'), key(KeyCode::Home)],
        Action::Top,
        "keys.top",
        false,
    ),
    bind(
        Scope::List,
        &[ch('G'), key(KeyCode::End)],
        Action::Bottom,
        "keys.bottom",
        false,
    ),
    bind(
        Scope::Global,
        &[key(KeyCode::Esc), ch('h')],
        Action::Back,
        "keys.back",
        false,
    ),
    bind(Scope::Global, &[ch('?')], Action::Help, "keys.help", true),
    bind(Scope::Global, &[ch('q')], Action::Quit, "keys.quit", true),
    bind(
        Scope::Global,
        &[ctrl('c')],
        Action::ForceQuit,
        "keys.force_quit",
        false,
    ),
];

impl Key {
    fn matches(&self, event: &KeyEvent) -> bool {
        // No binding uses Alt: Alt+letter is how terminals send Esc followed
        // by a letter, which must not act as the letter.
        if event.modifiers.contains(KeyModifiers::ALT) {
            return false;
        }
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl != self.ctrl {
            return false;
        }
        match (self.code, event.code) {
            // Shifted letters arrive as upper-case chars, with or without SHIFT set.
            (KeyCode::Char(want), KeyCode::Char(got)) => want == got,
            (want, got) => want == got,
        }
    }

    /// Formats the key as shown on screen: `Enter`, `Ctrl-C`, `/`.
    pub fn label(&self) -> String {
        let name = match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".to_owned(),
            KeyCode::Esc => "Esc".to_owned(),
            KeyCode::Tab => "Tab".to_owned(),
            KeyCode::Up => "↑".to_owned(),
            KeyCode::Down => "↓".to_owned(),
            KeyCode::PageUp => "PgUp".to_owned(),
            KeyCode::PageDown => "PgDn".to_owned(),
            KeyCode::Home => "Home".to_owned(),
            KeyCode::End => "End".to_owned(),
            KeyCode::Left => "←".to_owned(),
            KeyCode::Right => "→".to_owned(),
            KeyCode::Backspace => "Backspace".to_owned(),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{}", name.to_uppercase())
        } else {
            name
        }
    }
}

/// Looks up the action of a key press in the given scopes, in table order.
/// Only presses match: releases and auto-repeats, which terminals with the
/// keyboard enhancement protocol report, never do.
pub fn resolve(event: &KeyEvent, scopes: &[Scope]) -> Option<Action> {
    if event.kind != KeyEventKind::Press {
        return None;
    }
    // Ctrl-C always quits, whatever is on screen.
    if event.modifiers.contains(KeyModifiers::CONTROL) && event.code == KeyCode::Char('c') {
        return Some(Action::ForceQuit);
    }
    BINDINGS
        .iter()
        .filter(|binding| scopes.contains(&binding.scope))
        .find(|binding| binding.keys.iter().any(|key| key.matches(event)))
        .map(|binding| binding.action)
}

/// Lists the bindings shown in the footer for these scopes: lock, help and
/// quit first, so a narrow footer still shows how to lock, get help and out.
/// `ticket_actions`, when given, replaces the footer marks of the ticket
/// action keys, so that exactly those actions show, because the ticket's
/// state and the operator's role allow only them.
pub fn footer<'a>(
    scopes: &'a [Scope],
    ticket_actions: Option<&'a [Action]>,
) -> impl Iterator<Item = &'static Binding> + 'a {
    let first =
        |binding: &&Binding| matches!(binding.action, Action::Help | Action::Quit | Action::Lock);
    let marked = move |binding: &Binding| match ticket_actions {
        Some(actions) if binding.scope == Scope::TicketActions => actions.contains(&binding.action),
        _ => binding.footer,
    };
    let shown =
        move |binding: &&'static Binding| marked(binding) && scopes.contains(&binding.scope);
    BINDINGS.iter().filter(shown).filter(first).chain(
        BINDINGS
            .iter()
            .filter(shown)
            .filter(move |binding| !first(binding)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn ctrl_c_quits_everywhere() {
        let event = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(resolve(&event, &[Scope::Confirm]), Some(Action::ForceQuit));
        assert_eq!(resolve(&event, &[]), Some(Action::ForceQuit));
    }

    #[test]
    fn scope_limits_bindings() {
        let slash = press(KeyCode::Char('/'), KeyModifiers::NONE);
        assert_eq!(resolve(&slash, &[Scope::Global, Scope::List]), None);
        assert_eq!(
            resolve(&slash, &[Scope::Global, Scope::Devices]),
            Some(Action::Filter)
        );
    }

    #[test]
    fn plain_c_is_not_ctrl_c() {
        let event = press(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(
            resolve(&event, &[Scope::Global, Scope::Devices]),
            Some(Action::ClearFilters)
        );
    }

    #[test]
    fn alt_letter_matches_nothing() {
        let event = press(KeyCode::Char('a'), KeyModifiers::ALT);
        assert_eq!(resolve(&event, &[Scope::Global, Scope::AlarmActions]), None);
    }

    #[test]
    fn repeat_and_release_match_nothing() {
        for kind in [KeyEventKind::Repeat, KeyEventKind::Release] {
            let mut event = press(KeyCode::Char('a'), KeyModifiers::NONE);
            event.kind = kind;
            assert_eq!(resolve(&event, &[Scope::AlarmActions]), None, "{kind:?}");
        }
    }

    #[test]
    fn enter_does_not_answer_bulk_question() {
        let enter = press(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(resolve(&enter, &[Scope::ConfirmStrict]), None);
        let yes = press(KeyCode::Char('y'), KeyModifiers::NONE);
        assert_eq!(
            resolve(&yes, &[Scope::ConfirmStrict]),
            Some(Action::Confirm)
        );
    }

    #[test]
    fn no_alarm_action_on_space_or_enter() {
        for code in [KeyCode::Char(' '), KeyCode::Enter] {
            let event = press(code, KeyModifiers::NONE);
            let action = resolve(&event, &[Scope::Global, Scope::AlarmActions, Scope::Alarms]);
            assert_eq!(action, None, "{code:?}");
        }
    }

    #[test]
    fn shifted_letter_matches() {
        let event = press(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(resolve(&event, &[Scope::List]), Some(Action::Bottom));
    }

    #[test]
    fn every_binding_has_a_key() {
        for binding in BINDINGS {
            assert!(!binding.keys.is_empty(), "{} has no key", binding.help);
        }
    }

    #[test]
    fn no_key_bound_twice_in_a_scope() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                if a.scope != b.scope {
                    continue;
                }
                for key in a.keys {
                    assert!(
                        !b.keys.contains(key),
                        "{} bound twice in {:?}",
                        key.label(),
                        a.scope
                    );
                }
            }
        }
    }
}
