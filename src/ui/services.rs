//! Repair tickets and today's eldercare board from the keyboard: the rows
//! each view lists, the dialogs before an action that needs a remark or a
//! choice, and handing each action to [`App::act`].
//!
//! Personal data stays masked until the operator reveals it. A reveal is
//! an action of its own, logged before the clear value is drawn, and only
//! for this console's session.

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use uuid::Uuid;

use super::dialog::TextField;
use super::keymap::{self, Action, Scope};
use super::rows;
use super::state::{UiState, View};
use crate::app::{ActError, App};
use crate::domain::DeviceStatus;
use crate::domain::alarm::{self, ActionKind, Condition, Priority, Refusal};
use crate::domain::care::{BoardRow, EscalatedTo, Outcome};
use crate::domain::operator::permission::{Permission, Registered, allows};
use crate::domain::privacy::{DataKind, Role};
use crate::domain::ticket::sla::{self, SlaStatus};
use crate::domain::ticket::{
    Advice, Category, NewTicket, Ticket, TicketActionKind, TicketState, Urgency,
};
use crate::i18n::Lang;

/// The outcomes a guard records on the ladder, in the dialog's order.
pub const OUTCOMES: [Outcome; 6] = [
    Outcome::Reached,
    Outcome::NotReached,
    Outcome::Visited,
    Outcome::ResidentSafe,
    Outcome::Escalated {
        to: EscalatedTo::Family,
    },
    Outcome::Escalated {
        to: EscalatedTo::EmergencyServices,
    },
];

/// The tickets the ticket list shows; `v` steps through them in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketList {
    /// New tickets, waiting for an assignee.
    Queue,
    /// The operator's own tickets not yet closed or cancelled.
    Mine,
    /// Every ticket not yet closed or cancelled, with its assignee.
    AllOpen,
}

impl TicketList {
    /// Returns the list that `v` switches to from this one.
    pub fn next(self) -> Self {
        match self {
            Self::Queue => Self::Mine,
            Self::Mine => Self::AllOpen,
            Self::AllOpen => Self::Queue,
        }
    }
}

/// The view state of the ticket and eldercare screens.
#[derive(Clone, Debug, Default)]
pub struct ServicesState {
    /// The ticket list chosen with `v`, or `None` before the first `v`,
    /// which shows the role's [`default_list`].
    pub list: Option<TicketList>,
    pub ticket_selected: usize,
    /// The ticket shown in the ticket detail.
    pub ticket: Option<String>,
    pub ticket_scroll: u16,
    pub board_selected: usize,
    /// The resident whose history is shown.
    pub resident: Option<String>,
    pub resident_scroll: u16,
    /// Personal data revealed in this session: kind and subject.
    pub revealed: BTreeSet<(DataKind, String)>,
    pub dialog: Option<ServiceDialog>,
}

impl ServicesState {
    pub fn is_revealed(&self, kind: DataKind, subject: &str) -> bool {
        self.revealed.contains(&(kind, subject.to_owned()))
    }
}

/// The action a service dialog prepares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A ticket action whose remark the dialog requests.
    Ticket {
        ticket: String,
        act: TicketActionKind,
    },
    /// A transfer: the new assignee, then the reason.
    Transfer { ticket: String },
    /// A new ticket. The field contains its description, `choice` indexes
    /// `urgencies` and `category` indexes `categories`: the ones the
    /// configuration offers.
    Create {
        ticket: Box<NewTicket>,
        urgencies: Vec<Urgency>,
        categories: Vec<Category>,
    },
    /// A ladder outcome; the choice indexes [`OUTCOMES`].
    Outcome { resident: String },
}

/// The part of a service dialog that typing or the arrow keys change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// The remark, or the description of a new ticket.
    Field,
    Assignee,
    Location,
    Urgency,
    Category,
}

/// An open dialog of the ticket or eldercare screens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceDialog {
    pub purpose: Purpose,
    /// The remark, or the description of a new ticket.
    pub field: TextField,
    /// The new assignee of a transfer.
    pub assignee: TextField,
    /// The place of the repair, for a new ticket.
    pub location: TextField,
    pub focus: Focus,
    /// The chosen outcome, or the urgency of a new ticket.
    pub choice: usize,
    /// The category of a new ticket.
    pub category: usize,
    pub error: Option<String>,
}

impl ServiceDialog {
    fn new(purpose: Purpose) -> Self {
        let focus = match purpose {
            Purpose::Transfer { .. } => Focus::Assignee,
            _ => Focus::Field,
        };
        Self {
            purpose,
            field: TextField::default(),
            assignee: TextField::default(),
            location: TextField::default(),
            focus,
            choice: 0,
            category: 0,
            error: None,
        }
    }

    /// Returns the fields Tab steps through, top to bottom.
    fn fields(&self) -> &'static [Focus] {
        match self.purpose {
            Purpose::Transfer { .. } => &[Focus::Assignee, Focus::Field],
            Purpose::Create { .. } => &[
                Focus::Location,
                Focus::Urgency,
                Focus::Category,
                Focus::Field,
            ],
            _ => &[Focus::Field],
        }
    }

    /// Moves the focus `delta` fields down, wrapping around.
    fn step_focus(&mut self, delta: isize) {
        let fields = self.fields();
        let at = fields
            .iter()
            .position(|field| *field == self.focus)
            .unwrap_or(0);
        let next = (at as isize + delta).rem_euclid(fields.len() as isize) as usize;
        self.focus = fields[next];
    }

    /// Moves the choice that the arrow keys change by `delta`, staying
    /// within the choices: the outcome, or the focused urgency or category
    /// of a new ticket.
    pub fn step_choice(&mut self, delta: isize) {
        let (choice, count) = match (&self.purpose, self.focus) {
            (Purpose::Outcome { .. }, _) => (&mut self.choice, OUTCOMES.len()),
            (Purpose::Create { urgencies, .. }, Focus::Urgency) => {
                (&mut self.choice, urgencies.len())
            }
            (Purpose::Create { categories, .. }, Focus::Category) => {
                (&mut self.category, categories.len())
            }
            _ => return,
        };
        if count > 0 {
            *choice = choice.saturating_add_signed(delta).min(count - 1);
            self.error = None;
        }
    }

    /// Returns the text field that typing goes into, if the focus is on one.
    fn focused(&mut self) -> Option<&mut TextField> {
        match self.focus {
            Focus::Field => Some(&mut self.field),
            Focus::Assignee => Some(&mut self.assignee),
            Focus::Location => Some(&mut self.location),
            Focus::Urgency | Focus::Category => None,
        }
    }
}

/// Returns the name tickets are assigned to for the operator at this
/// console: the logged-in operator's id, else the configured user.
pub fn me(app: &App) -> String {
    app.access
        .active()
        .map_or_else(|| app.operator.name.clone(), |current| current.id.clone())
}

/// Returns the ticket list an operator sees first. An operator whose role
/// does not handle tickets, such as a guard, starts on every open ticket,
/// because the queue is not theirs to take and no ticket is theirs.
pub fn default_list(app: &App) -> TicketList {
    match app.access.registered() {
        Some(Registered::Found { role, .. }) if !allows(role, Permission::HandleTickets) => {
            TicketList::AllOpen
        }
        _ => TicketList::Queue,
    }
}

/// Returns the ticket list shown: the one chosen with `v`, else the role's.
pub fn ticket_list(app: &App, ui: &UiState) -> TicketList {
    ui.services.list.unwrap_or_else(|| default_list(app))
}

/// Returns the rows of the ticket list: the unassigned queue, the
/// operator's tickets, or every ticket, in each case only those not yet
/// closed or cancelled. Overdue tickets come first, then by due time.
pub fn ticket_rows<'a>(app: &'a App, ui: &UiState, now: Timestamp) -> Vec<(&'a Ticket, SlaStatus)> {
    let services = &app.projection.services;
    let settings = &services.setup.sla;
    let list = ticket_list(app, ui);
    if list == TicketList::Queue {
        return services
            .open_tickets(now)
            .into_iter()
            .filter(|(ticket, _)| ticket.state() == TicketState::New)
            .collect();
    }
    let me = me(app);
    let mut rows: Vec<(&Ticket, SlaStatus)> = services
        .tickets
        .tickets
        .values()
        .filter(|ticket| !ticket.state().is_final())
        .filter(|ticket| {
            list == TicketList::AllOpen || ticket.content.assignee.as_deref() == Some(me.as_str())
        })
        .map(|ticket| (ticket, sla::status(ticket, now, settings)))
        .collect();
    rows.sort_by_key(|(ticket, status)| {
        let overdue = matches!(status, SlaStatus::Overdue { .. });
        (!overdue, settings.due(ticket), ticket.id.clone())
    });
    rows
}

/// Returns today's board rows: the ladder running first, then missed and
/// pending windows, then residents who checked in.
pub fn board_rows(app: &App, now: Timestamp) -> Vec<BoardRow> {
    let services = &app.projection.services;
    let mut rows = services.check_ins_needing_attention(now);
    let checked_in = services
        .care
        .board(now)
        .into_iter()
        .filter(|row| matches!(row.day, crate::domain::care::DayStatus::CheckedIn { .. }));
    rows.extend(checked_in);
    rows
}

/// Carries out a key's action on tickets or the board.
pub fn apply(app: &mut App, ui: &mut UiState, action: Action, now: Timestamp) {
    match action {
        Action::ShowTickets => ui.show(View::Tickets),
        Action::ShowBoard => ui.show(View::Board),
        Action::ToggleMine => {
            ui.services.list = Some(ticket_list(app, ui).next());
            ui.services.ticket_selected = 0;
        }
        Action::CreateTicket => create_ticket(app, ui, now),
        Action::RecordOutcome => open_outcome(app, ui, now),
        Action::Reveal => reveal(app, ui, now),
        _ => ticket_action(app, ui, action, now),
    }
}

/// Returns the ticket a key acts on: the detail's, or the selected row's.
pub fn selected_ticket(app: &App, ui: &UiState, now: Timestamp) -> Option<String> {
    match ui.view {
        View::Ticket => ui.services.ticket.clone(),
        View::Tickets => ticket_rows(app, ui, now)
            .get(ui.services.ticket_selected)
            .map(|(ticket, _)| ticket.id.clone()),
        _ => None,
    }
}

/// Returns the resident a key acts on: the history's, or the selected row's.
pub fn selected_resident(app: &App, ui: &UiState, now: Timestamp) -> Option<String> {
    match ui.view {
        View::Resident => ui.services.resident.clone(),
        View::Board => board_rows(app, now)
            .get(ui.services.board_selected)
            .map(|row| row.resident.clone()),
        _ => None,
    }
}

/// Returns the ticket action a key takes on `ticket`, or `None` for a key
/// that takes none. A transfer names a placeholder assignee, because its
/// dialog collects the real one.
fn ticket_kind(app: &App, action: Action, ticket: &str) -> Option<TicketActionKind> {
    let kind = match action {
        Action::Claim => TicketActionKind::Assign { assignee: me(app) },
        Action::StartWork => TicketActionKind::Accept,
        Action::TicketNote => TicketActionKind::Note,
        Action::Resolve => TicketActionKind::Resolve,
        Action::ReturnTicket => TicketActionKind::Return,
        Action::Transfer => TicketActionKind::Transfer {
            assignee: "-".into(),
        },
        Action::CancelTicket => TicketActionKind::Cancel,
        Action::CloseTicket => TicketActionKind::Close { rating: None },
        Action::TicketService => {
            let out = app
                .projection
                .services
                .tickets
                .get(ticket)
                .is_some_and(|ticket| ticket.out_of_service);
            if out {
                TicketActionKind::ReturnToService
            } else {
                TicketActionKind::TakeOutOfService
            }
        }
        _ => return None,
    };
    Some(kind)
}

/// Returns the keys the ticket footer offers in `state`: the steps that
/// move a ticket on. The help screen lists every key.
fn next_steps(state: TicketState) -> &'static [Action] {
    match state {
        TicketState::New => &[Action::Claim, Action::CancelTicket],
        TicketState::Assigned => &[Action::StartWork, Action::ReturnTicket, Action::Transfer],
        TicketState::InProgress => &[Action::Resolve, Action::TicketNote],
        TicketState::AwaitingRating => &[Action::CloseTicket],
        TicketState::Closed | TicketState::Cancelled => &[],
    }
}

/// Returns the ticket keys the footer offers, or `None` outside the ticket
/// list and detail, where the keymap's own footer marks apply. For the
/// detail's ticket or the selected row's, the footer offers the next steps
/// of the ticket's state that this operator may take now. An operator who
/// may take none of them, such as a guard, is offered a note on a ticket
/// that is not closed or cancelled. The detail of a ticket with a linked
/// device also offers taking it out of service, or back.
pub fn footer_ticket_actions(app: &App, ui: &UiState, now: Timestamp) -> Option<Vec<Action>> {
    if !matches!(ui.view, View::Ticket | View::Tickets) {
        return None;
    }
    let Some(ticket) =
        selected_ticket(app, ui, now).and_then(|id| app.projection.services.tickets.get(&id))
    else {
        return Some(Vec::new());
    };
    let allowed = |action: Action| {
        ticket_kind(app, action, &ticket.id).is_some_and(|act| {
            let kind = ActionKind::TicketAct {
                ticket: ticket.id.clone(),
                act,
            };
            check(app, kind, "-", now).is_ok()
        })
    };

    let mut offered: Vec<Action> = next_steps(ticket.state())
        .iter()
        .copied()
        .filter(|action| allowed(*action))
        .collect();
    if offered.is_empty() && !ticket.state().is_final() && allowed(Action::TicketNote) {
        offered.push(Action::TicketNote);
    }
    // The detail offers the linked device's service key; the keymap lists
    // it after the start of the repair, ahead of what a narrow footer cuts.
    if ui.view == View::Ticket && ticket.content.device.is_some() && allowed(Action::TicketService)
    {
        offered.push(Action::TicketService);
    }
    Some(offered)
}

fn ticket_action(app: &mut App, ui: &mut UiState, action: Action, now: Timestamp) {
    let lang = ui.lang;
    let Some(ticket) = selected_ticket(app, ui, now) else {
        ui.complain(lang.t("tickets.none_selected").to_owned(), now);
        return;
    };
    let Some(act) = ticket_kind(app, action, &ticket) else {
        return;
    };
    if let TicketActionKind::Transfer { .. } = act {
        // The probe's placeholder assignee lets only the refusals that the
        // dialog cannot fix show before it opens.
        let kind = ActionKind::TicketAct {
            ticket: ticket.clone(),
            act,
        };
        if let Err(refusal) = check(app, kind, "-", now) {
            ui.complain(refusal_text(app, ui, &refusal), now);
            return;
        }
        ui.services.dialog = Some(ServiceDialog::new(Purpose::Transfer { ticket }));
        return;
    }
    if act.remark_required().is_some() {
        let kind = ActionKind::TicketAct {
            ticket: ticket.clone(),
            act: act.clone(),
        };
        if let Err(refusal) = check(app, kind, "-", now) {
            ui.complain(refusal_text(app, ui, &refusal), now);
            return;
        }
        ui.services.dialog = Some(ServiceDialog::new(Purpose::Ticket { ticket, act }));
        return;
    }
    let done = lang.tf(
        &format!("tickets.done_{}", act.as_str()),
        &[("ticket", &ticket)],
    );
    let kind = ActionKind::TicketAct { ticket, act };
    match submit(app, ui, kind, "", now) {
        Ok(_) => ui.say(done, now),
        Err(text) => ui.complain(text, now),
    }
}

/// Opens the dialog for a new ticket: from the selected alarm or device,
/// pre-filled with its location and a description and linked to it, or
/// blank in the ticket list.
fn create_ticket(app: &mut App, ui: &mut UiState, now: Timestamp) {
    let lang = ui.lang;
    let new = match ui.view {
        View::Alarms | View::AlarmDetail => from_alarm(app, ui, now),
        View::Devices | View::Detail => from_device(app, ui, now),
        View::Tickets => Some(blank_ticket(String::new(), String::new(), Category::Other)),
        _ => None,
    };
    let Some(new) = new else {
        let key = match ui.view {
            View::Devices | View::Detail => "tickets.no_faulty_device",
            _ => "tickets.no_alarm",
        };
        ui.complain(lang.t(key).to_owned(), now);
        return;
    };
    // The probe fills in the location and description that the dialog
    // collects, so that only refusals the dialog cannot fix, such as the
    // role's, show before it opens.
    let mut probe = new.clone();
    for text in [&mut probe.location, &mut probe.description] {
        if text.trim().is_empty() {
            *text = "-".into();
        }
    }
    if let Err(refusal) = check(app, ActionKind::CreateTicket { ticket: probe }, "", now) {
        ui.complain(refusal_text(app, ui, &refusal), now);
        return;
    }
    ui.services.dialog = Some(create_dialog(app, new));
}

/// Builds the dialog of a new ticket. It offers only the urgencies and
/// categories the configuration lists; a guessed one that is not listed
/// gives way to the first listed.
fn create_dialog(app: &App, new: NewTicket) -> ServiceDialog {
    let urgencies = app.ticket_urgencies.clone();
    let categories = app.ticket_categories.clone();
    let choice = urgencies
        .iter()
        .position(|urgency| *urgency == new.urgency)
        .unwrap_or(0);
    let category = categories
        .iter()
        .position(|category| *category == new.category)
        .unwrap_or(0);
    let blank = new.location.trim().is_empty();
    let mut dialog = ServiceDialog::new(Purpose::Create {
        ticket: Box::new(new.clone()),
        urgencies,
        categories,
    });
    dialog.field.paste(&new.description);
    dialog.location.paste(&new.location);
    dialog.choice = choice;
    dialog.category = category;
    if blank {
        dialog.focus = Focus::Location;
    }
    dialog
}

fn blank_ticket(location: String, description: String, category: Category) -> NewTicket {
    NewTicket {
        id: String::new(),
        category,
        urgency: Urgency::Normal,
        location,
        description,
        reporter: None,
        alarm: None,
        device: None,
        refers_to: None,
        out_of_service: false,
        // The recorder fills in the operator and role from the action.
        operator: String::new(),
        role: Role::Guard,
        remark: String::new(),
    }
}

/// Joins a building and a zone into a location. A zone that already
/// starts with its building's name (`3栋 1单元`) is used alone.
fn place(building: &str, zone: &str) -> String {
    let (building, zone) = (building.trim(), zone.trim());
    if zone.is_empty() {
        building.to_owned()
    } else if building.is_empty() || zone.starts_with(building) {
        zone.to_owned()
    } else {
        format!("{building} {zone}")
    }
}

/// Returns the new ticket for the selected alarm.
pub fn from_alarm(app: &App, ui: &UiState, _now: Timestamp) -> Option<NewTicket> {
    let id = match ui.view {
        View::AlarmDetail => ui.alarm_detail?,
        _ => {
            let lines = rows::queue_lines(app, ui);
            match lines.get(rows::selected_line(&lines, ui))? {
                rows::QueueLine::Alarm { alarm, .. } => alarm.id,
                rows::QueueLine::Group { .. } => return None,
            }
        }
    };
    let alarm = app.projection.alarms.get(id)?;
    let condition = ui
        .lang
        .try_t(&format!("condition.{}", alarm.condition.as_str()))
        .unwrap_or(alarm.condition.as_str());
    let category = match alarm.condition {
        Condition::DoorForced | Condition::DoorHeldOpen => Category::DoorsAccess,
        _ => Category::SecurityDevices,
    };
    let mut new = blank_ticket(
        place(&alarm.building, &alarm.zone),
        format!("{condition}: {}", alarm.name),
        category,
    );
    new.urgency = match alarm.priority {
        Priority::P1 | Priority::P2 => Urgency::Urgent,
        _ => Urgency::Normal,
    };
    new.alarm = Some(id);
    new.device.clone_from(&alarm.device);
    Some(new)
}

/// Returns the new ticket for the selected device, when it is faulty or offline.
pub fn from_device(app: &App, ui: &UiState, now: Timestamp) -> Option<NewTicket> {
    let (device, status) = match ui.view {
        View::Detail => {
            let device = app.projection.devices.get(ui.detail.as_deref()?)?;
            (device, app.status_of(device, now))
        }
        _ => {
            let rows = rows::device_rows(app, ui, now);
            let row = rows.get(ui.selected)?;
            (row.device, row.status)
        }
    };
    if matches!(
        status,
        DeviceStatus::Normal | DeviceStatus::Open | DeviceStatus::Unknown
    ) {
        return None;
    }
    let spec = &device.spec;
    let status_text = ui.lang.t(&format!("device_status.{}", status.as_str()));
    let category = match spec.kind {
        crate::domain::DeviceKind::Door => Category::DoorsAccess,
        _ => Category::SecurityDevices,
    };
    let mut new = blank_ticket(
        place(&spec.building, &spec.zone),
        format!("{status_text}: {}", spec.name),
        category,
    );
    new.device = Some(spec.id.clone());
    Some(new)
}

fn open_outcome(app: &mut App, ui: &mut UiState, now: Timestamp) {
    let Some(resident) = selected_resident(app, ui, now) else {
        ui.complain(ui.lang.t("board.none_selected").to_owned(), now);
        return;
    };
    if app.projection.services.care.ladder(&resident).is_none() {
        let text = ui.lang.tf("board.no_ladder", &[("resident", &resident)]);
        ui.complain(text, now);
        return;
    }
    ui.services.dialog = Some(ServiceDialog::new(Purpose::Outcome { resident }));
}

/// Reveals the selected resident's name, phone and room on the board, or
/// the reporter's name and phone in a ticket's detail. Each kind is
/// recorded as a `Reveal` action before it is shown.
fn reveal(app: &mut App, ui: &mut UiState, now: Timestamp) {
    let lang = ui.lang;
    let (kinds, subject): (&[DataKind], Option<String>) = match ui.view {
        View::Board | View::Resident => (
            &[
                DataKind::ResidentName,
                DataKind::ResidentPhone,
                DataKind::ResidentRoom,
            ],
            selected_resident(app, ui, now),
        ),
        View::Ticket | View::Tickets => (
            &[DataKind::ReporterName, DataKind::ReporterPhone],
            selected_ticket(app, ui, now),
        ),
        _ => (&[], None),
    };
    let Some(subject) = subject else {
        ui.complain(lang.t("board.none_selected").to_owned(), now);
        return;
    };
    for kind in kinds {
        if ui.services.is_revealed(*kind, &subject) {
            continue;
        }
        let action = ActionKind::Reveal {
            kind: *kind,
            subject: subject.clone(),
        };
        match submit(app, ui, action, "", now) {
            Ok(_) => {
                ui.services.revealed.insert((*kind, subject.clone()));
            }
            Err(text) => {
                ui.complain(text, now);
                return;
            }
        }
    }
    ui.say(lang.tf("board.revealed", &[("subject", &subject)]), now);
}

/// Handles a key while a service dialog is open: Enter submits, Esc
/// cancels, ↑/↓ move the choice, Tab and Shift-Tab move between the
/// fields of a transfer or a new ticket, and other printable keys are typed
/// into the focused text field.
pub fn handle_dialog_key(app: &mut App, ui: &mut UiState, event: &KeyEvent, now: Timestamp) {
    if matches!(event.code, KeyCode::Tab | KeyCode::BackTab) {
        if let Some(dialog) = ui.services.dialog.as_mut() {
            let delta = if event.code == KeyCode::Tab { 1 } else { -1 };
            dialog.step_focus(delta);
        }
        return;
    }
    let Some(dialog) = ui.services.dialog.as_mut() else {
        return;
    };
    match keymap::resolve(event, &[Scope::Dialog]) {
        Some(Action::ForceQuit) => ui.quit = true,
        Some(Action::Submit) => submit_dialog(app, ui, now),
        Some(Action::Cancel) => ui.services.dialog = None,
        Some(action @ (Action::Up | Action::Down)) => {
            dialog.step_choice(if action == Action::Up { -1 } else { 1 });
        }
        Some(Action::DeleteChar) => {
            if let Some(field) = dialog.focused() {
                field.backspace();
                dialog.error = None;
            }
        }
        _ => {
            if let KeyCode::Char(c) = event.code
                && !event.modifiers.contains(KeyModifiers::CONTROL)
                && let Some(field) = dialog.focused()
            {
                field.insert(c);
                dialog.error = None;
            }
        }
    }
}

/// Types pasted text into the open service dialog; returns whether one was open.
pub fn paste(ui: &mut UiState, text: &str) -> bool {
    let Some(dialog) = ui.services.dialog.as_mut() else {
        return false;
    };
    if let Some(field) = dialog.focused() {
        field.paste(text);
        dialog.error = None;
    }
    true
}

/// Builds the action of the open dialog and hands it to the app; a
/// refusal stays in the dialog.
pub fn submit_dialog(app: &mut App, ui: &mut UiState, now: Timestamp) {
    let lang = ui.lang;
    let Some(dialog) = ui.services.dialog.clone() else {
        return;
    };
    let remark = dialog.field.text.clone();
    let (kind, remark, done) = match &dialog.purpose {
        Purpose::Ticket { ticket, act } => (
            ActionKind::TicketAct {
                ticket: ticket.clone(),
                act: act.clone(),
            },
            remark,
            lang.tf(
                &format!("tickets.done_{}", act.as_str()),
                &[("ticket", ticket)],
            ),
        ),
        Purpose::Transfer { ticket } => {
            let assignee = dialog.assignee.text.trim().to_owned();
            let done = lang.tf(
                "tickets.done_transfer",
                &[("ticket", ticket), ("assignee", &assignee)],
            );
            (
                ActionKind::TicketAct {
                    ticket: ticket.clone(),
                    act: TicketActionKind::Transfer { assignee },
                },
                remark,
                done,
            )
        }
        Purpose::Create {
            ticket,
            urgencies,
            categories,
        } => {
            let mut new = (**ticket).clone();
            new.location = dialog.location.text.trim().to_owned();
            if new.location.is_empty() {
                if let Some(dialog) = ui.services.dialog.as_mut() {
                    dialog.error = Some(lang.t("tickets.needs_location").to_owned());
                    dialog.focus = Focus::Location;
                }
                return;
            }
            new.description = remark.trim().to_owned();
            if let Some(urgency) = urgencies.get(dialog.choice) {
                new.urgency = *urgency;
            }
            if let Some(category) = categories.get(dialog.category) {
                new.category = *category;
            }
            let id = app.projection.services.tickets.next_id();
            (
                ActionKind::CreateTicket { ticket: new },
                String::new(),
                lang.tf("tickets.done_create", &[("ticket", &id)]),
            )
        }
        Purpose::Outcome { resident } => {
            let outcome = OUTCOMES[dialog.choice.min(OUTCOMES.len() - 1)];
            let done = lang.tf(
                "board.done_outcome",
                &[
                    ("resident", resident),
                    (
                        "outcome",
                        &lang.t(&format!("board.outcome_{}", outcome.as_str())),
                    ),
                ],
            );
            (
                ActionKind::CareOutcome {
                    resident: resident.clone(),
                    outcome,
                },
                remark,
                done,
            )
        }
    };
    match submit(app, ui, kind, &remark, now) {
        Ok(_) => {
            ui.services.dialog = None;
            ui.say(done, now);
        }
        Err(text) => {
            if let Some(dialog) = ui.services.dialog.as_mut() {
                dialog.error = Some(text);
            }
        }
    }
}

/// Hands an action to the app; on failure returns the message to show.
fn submit(
    app: &mut App,
    ui: &mut UiState,
    kind: ActionKind,
    remark: &str,
    now: Timestamp,
) -> Result<Uuid, String> {
    match app.act(None, kind, remark, now) {
        Ok(id) => {
            ui.remember_submitted(id, None);
            Ok(id)
        }
        Err(ActError::Refused(refusal)) => Err(refusal_text(app, ui, &refusal)),
        Err(ActError::Attached) => Err(ui.lang.t("refusal.attached").to_owned()),
        Err(ActError::Unavailable(reason)) => {
            Err(ui.lang.tf("refusal.unavailable", &[("reason", &reason)]))
        }
    }
}

/// Formats a refusal. An action that the ticket's state does not allow
/// gets one sentence with the ticket, its state, the action and what to do
/// instead. Other refusals read as on the alarm screens.
fn refusal_text(app: &App, ui: &UiState, refusal: &Refusal) -> String {
    if let Refusal::Ticket(crate::domain::ticket::Refusal::NotAllowed {
        ticket,
        state,
        action,
        advice,
    }) = refusal
    {
        return not_allowed_text(ui.lang, ticket, *state, action, *advice);
    }
    super::acting::refusal_text(app, ui.lang, None, refusal)
}

/// Formats an action refused in the ticket's state, such as "Ticket T-1 is
/// new: it cannot be closed; claim it (c) first." `action` is the code of
/// [`TicketActionKind::as_str`].
pub fn not_allowed_text(
    lang: Lang,
    ticket: &str,
    state: TicketState,
    action: &str,
    advice: Advice,
) -> String {
    let refused = lang
        .try_t(&format!("ticket_refusal.refused_{action}"))
        .unwrap_or(action);
    let key = advice_key(advice).map_or_else(String::new, key_label);
    let advice = lang.tf(
        &format!("ticket_refusal.advice_{}", advice.code()),
        &[("key", &key)],
    );
    lang.tf(
        "ticket_refusal.not_allowed_in_state",
        &[
            ("ticket", &ticket),
            (
                "state",
                &lang.t(&format!("tickets.state_{}", state.as_str())),
            ),
            ("refused", &refused),
            ("advice", &advice),
        ],
    )
}

/// Returns the key action that carries out `advice`, if a key does.
fn advice_key(advice: Advice) -> Option<Action> {
    match advice {
        Advice::CreateNew => Some(Action::CreateTicket),
        Advice::CloseIt => Some(Action::CloseTicket),
        Advice::ClaimFirst => Some(Action::Claim),
        Advice::StartFirst => Some(Action::StartWork),
        Advice::ResolveFirst | Advice::AlreadyStarted => Some(Action::Resolve),
        Advice::TransferInstead => Some(Action::Transfer),
        Advice::OnlyResolvedReopens | Advice::AlreadyQueued => None,
    }
}

/// Returns the first key bound to `action`, as the footer shows it.
fn key_label(action: Action) -> String {
    keymap::BINDINGS
        .iter()
        .find(|binding| binding.action == action)
        .map_or_else(String::new, |binding| binding.keys[0].label())
}

/// Checks an action as [`App::act`] would, without taking it.
fn check(app: &App, kind: ActionKind, remark: &str, now: Timestamp) -> Result<(), Refusal> {
    let action = alarm::Action {
        id: Uuid::nil(),
        alarm: None,
        kind,
        operator: app.operator.name.clone(),
        role: app.operator.role.clone(),
        console: app.operator.console.clone(),
        via_ssh: app.operator.via_ssh,
        remark: remark.to_owned(),
    };
    app.check(&action, now)
}

/// Moves the selection of the ticket list or the board, or scrolls a ticket or a history.
pub fn step(app: &App, ui: &mut UiState, delta: isize, now: Timestamp) {
    match ui.view {
        View::Tickets => {
            let len = ticket_rows(app, ui, now).len();
            UiState::step(&mut ui.services.ticket_selected, delta, len);
        }
        View::Board => {
            let len = board_rows(app, now).len();
            UiState::step(&mut ui.services.board_selected, delta, len);
        }
        View::Ticket => {
            let history = ui
                .services
                .ticket
                .as_deref()
                .and_then(|id| app.projection.services.tickets.get(id))
                .map_or(0, |ticket| ticket.history.len());
            let max = (16 + 3 * history) as isize;
            let scroll = ui.services.ticket_scroll as isize + delta;
            ui.services.ticket_scroll = scroll.clamp(0, max) as u16;
        }
        View::Resident => {
            // An upper bound of the history's lines; the view clamps what it draws.
            let history = ui
                .services
                .resident
                .as_deref()
                .and_then(|id| app.projection.services.care.history(id))
                .map_or(0, <[_]>::len);
            let max = (8 + 2 * history) as isize;
            let scroll = ui.services.resident_scroll as isize + delta;
            ui.services.resident_scroll = scroll.clamp(0, max) as u16;
        }
        _ => {}
    }
}

/// Opens the selected ticket's detail or the selected resident's history.
pub fn open(app: &App, ui: &mut UiState, now: Timestamp) {
    match ui.view {
        View::Tickets => {
            if let Some(id) = selected_ticket(app, ui, now) {
                ui.services.ticket = Some(id);
                ui.services.ticket_scroll = 0;
                ui.show(View::Ticket);
            }
        }
        View::Board => {
            if let Some(id) = selected_resident(app, ui, now) {
                ui.services.resident = Some(id);
                ui.services.resident_scroll = 0;
                ui.show(View::Resident);
            }
        }
        _ => {}
    }
}
