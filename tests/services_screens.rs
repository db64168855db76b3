//! The repair ticket and eldercare screens: snapshots of the ticket list,
//! a ticket's detail and today's board at 80×24 in both languages, with
//! personal data masked, and behaviour tests that drive the console with
//! keys and collect the actions it hands on.

use std::sync::{Arc, Mutex};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use guardroom::app::{Access, ActError, App, Current};
use guardroom::domain::alarm::{Action, ActionKind};
use guardroom::domain::care::{
    CareCondition, CareEvent, CareEventKind, CareSettings, CareSignal, CheckInVia, Outcome,
    OutcomeRecord, Stage, parse_toml,
};
use guardroom::domain::operator::Role;
use guardroom::domain::privacy::DataKind;
use guardroom::domain::services::{CareRecord, ServiceSetup, Services};
use guardroom::domain::ticket::{
    Advice, Category, NewTicket, Reporter, SlaSettings, TicketAction, TicketActionKind,
    TicketEvent, TicketState, Urgency,
};
use guardroom::domain::{Event, EventBody};
use guardroom::i18n::Lang;
use guardroom::report::export::mask::Privacy;
use guardroom::report::handover::{Body, Sheet, ShiftRef, add_services};
use guardroom::store::{Batch, Store};
use guardroom::theme::Theme;
use guardroom::ui::rows::{QueueLine, queue_lines, selected_line};
use guardroom::ui::sample::{sample_app, sample_now};
use guardroom::ui::services::{TicketList, not_allowed_text};
use guardroom::ui::state::{UiState, View};
use guardroom::ui::widgets::Ctx;
use guardroom::ui::{self, handle_key};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use uuid::Uuid;

const RESIDENTS: &str = r#"
[[residents]]
id = "r-0101"
name = "江雅芬"
building = "1号楼"
unit = "2单元"
room = "301"
phone = "138 0000 0101"
check_in = { start = "19:00", end = "19:50" }
contacts = [{ name = "江德润", relation = "儿子", phone = "138 0000 0102" }]

[[residents]]
id = "r-0102"
name = "柯松年"
building = "1号楼"
unit = "2单元"
room = "302"
phone = "138 0000 0104"
check_in = { start = "19:00", end = "21:00" }

[[residents]]
id = "r-0103"
name = "温秀屏"
building = "2号楼"
unit = "1单元"
room = "1102"
check_in = { start = "19:00", end = "21:00" }

[[residents]]
id = "r-0104"
name = "欧阳德明"
building = "3号楼"
room = "501"
check_in = { start = "07:00", end = "09:00" }
"#;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn new_ticket(
    id: &str,
    category: Category,
    urgency: Urgency,
    location: &str,
    description: &str,
) -> NewTicket {
    NewTicket {
        id: id.into(),
        category,
        urgency,
        location: location.into(),
        description: description.into(),
        reporter: None,
        alarm: None,
        device: None,
        refers_to: None,
        out_of_service: false,
        operator: "g1".into(),
        role: Role::Guard,
        remark: String::new(),
    }
}

fn ticket_act(ticket: &str, kind: TicketActionKind, operator: &str, remark: &str) -> TicketEvent {
    TicketEvent::Acted {
        action: TicketAction {
            id: Uuid::new_v4(),
            ticket: ticket.into(),
            kind,
            operator: operator.into(),
            role: Role::Maintenance,
            remark: remark.into(),
        },
    }
}

fn fold_ticket(services: &mut Services, time: &str, event: TicketEvent) {
    let body = EventBody::Ticket {
        event,
        action: None,
    };
    services.apply(&body, at(time));
}

fn fold_care(services: &mut Services, time: &str, record: CareRecord) {
    let body = EventBody::Care {
        record,
        action: None,
    };
    services.apply(&body, at(time));
}

/// Four tickets and four residents at the sample's time, 20:00 in
/// Shanghai: an overdue urgent leak and a garage light in the queue, a
/// lift repair of `g1` in progress, a door of `m2` assigned; one resident
/// in the ladder, one checked in, one pending, one whose missed window
/// ended with "resident safe".
fn seeded_services() -> Services {
    let residents = parse_toml(RESIDENTS).expect("the test registry is valid");
    let setup = ServiceSetup {
        residents,
        care: CareSettings::default(),
        time_zone: TimeZone::get("Asia/Shanghai").unwrap(),
        sla: SlaSettings::default(),
    };
    let mut services = Services::new(setup);

    let mut leak = new_ticket(
        "T-1",
        Category::Plumbing,
        Urgency::Urgent,
        "3栋 2单元 1201",
        "厨房水管漏水",
    );
    leak.reporter = Some(Reporter {
        name: "测试员甲".into(),
        phone: "13800000001".into(),
    });
    fold_ticket(
        &mut services,
        "2026-12-04T09:00:00Z",
        TicketEvent::Created { ticket: leak },
    );
    fold_ticket(
        &mut services,
        "2026-12-04T09:30:00Z",
        ticket_act(
            "T-1",
            TicketActionKind::Note,
            "g1",
            "已电话联系住户，关闭总阀",
        ),
    );
    let light = new_ticket(
        "T-2",
        Category::Electrical,
        Urgency::Normal,
        "5栋 地下车库",
        "车库照明灯不亮",
    );
    fold_ticket(
        &mut services,
        "2026-12-04T10:00:00Z",
        TicketEvent::Created { ticket: light },
    );
    let lift = new_ticket(
        "T-3",
        Category::Elevator,
        Urgency::Urgent,
        "2栋 1号电梯",
        "电梯运行异响",
    );
    fold_ticket(
        &mut services,
        "2026-12-04T11:30:00Z",
        TicketEvent::Created { ticket: lift },
    );
    fold_ticket(
        &mut services,
        "2026-12-04T11:35:00Z",
        ticket_act(
            "T-3",
            TicketActionKind::Assign {
                assignee: "g1".into(),
            },
            "g1",
            "",
        ),
    );
    fold_ticket(
        &mut services,
        "2026-12-04T11:40:00Z",
        ticket_act("T-3", TicketActionKind::Accept, "g1", ""),
    );
    let door = new_ticket(
        "T-4",
        Category::DoorsAccess,
        Urgency::Minor,
        "1号楼 单元门",
        "闭门器松动",
    );
    fold_ticket(
        &mut services,
        "2026-12-03T08:00:00Z",
        TicketEvent::Created { ticket: door },
    );
    fold_ticket(
        &mut services,
        "2026-12-03T08:10:00Z",
        ticket_act(
            "T-4",
            TicketActionKind::Assign {
                assignee: "m2".into(),
            },
            "g1",
            "",
        ),
    );

    // 06:00 in Shanghai: watch the four residents from now on.
    let watching = CareRecord::Watching {
        residents: ["r-0101", "r-0102", "r-0103", "r-0104"]
            .map(String::from)
            .to_vec(),
    };
    fold_care(&mut services, "2026-12-03T22:00:00Z", watching);
    // r-0104 missed 07:00–09:00; the guard found the resident safe at 09:20.
    let safe = OutcomeRecord {
        resident: "r-0104".into(),
        outcome: Outcome::ResidentSafe,
        operator: "g1".into(),
        role: Role::Guard,
        remark: "上门确认老人在家休息".into(),
        at: at("2026-12-04T01:20:00Z"),
    };
    fold_care(
        &mut services,
        "2026-12-04T01:20:00Z",
        CareRecord::Outcome { record: safe },
    );
    // r-0102 checked in at 19:30.
    let check_in = CareEvent {
        id: "evt-1".into(),
        resident: "r-0102".into(),
        at: at("2026-12-04T11:30:00Z"),
        kind: CareEventKind::CheckIn {
            via: CheckInVia::Button,
        },
        text: None,
    };
    fold_care(
        &mut services,
        "2026-12-04T11:30:00Z",
        CareRecord::Event { event: check_in },
    );
    // r-0101's window closed at 19:50: the ladder runs at 20:00.
    services.care.tick(sample_now());
    services
}

fn seeded_app() -> App {
    let mut app = sample_app();
    app.projection.services = seeded_services();
    app
}

/// A console with `g1` logged in as `role`, whose actions are collected.
fn console(role: Role) -> (App, UiState, Arc<Mutex<Vec<Action>>>) {
    let mut app = seeded_app();
    app.access = Access::Operators {
        current: Some(Current {
            id: "g1".into(),
            name: "测试员乙".into(),
            role,
            since: sample_now(),
        }),
        locked: false,
    };
    app.operator.name = "g1".into();
    app.operator.role = role.as_str().into();
    let submitted = Arc::new(Mutex::new(Vec::new()));
    let sink = submitted.clone();
    app.submit = Some(Box::new(move |action| {
        sink.lock().unwrap().push(action);
        Ok(())
    }));
    let ui = UiState {
        lang: Lang::ZhCn,
        ..UiState::default()
    };
    (app, ui, submitted)
}

fn render(app: &App, ui: &UiState, lang: Lang, colour: bool) -> TestBackend {
    let theme = Theme::resolve("default").unwrap();
    let theme = if colour {
        theme
    } else {
        theme.without_colour()
    };
    let ctx = Ctx {
        lang,
        theme: &theme,
        now: sample_now(),
        time_zone: &app.site.time_zone,
    };
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| ui::draw(frame, app, ui, &ctx))
        .unwrap();
    terminal.backend().clone()
}

fn text(backend: &TestBackend) -> String {
    backend.to_string()
}

fn press(app: &mut App, ui: &mut UiState, code: KeyCode) {
    handle_key(
        app,
        ui,
        &KeyEvent::new(code, KeyModifiers::NONE),
        sample_now(),
    );
}

fn key(app: &mut App, ui: &mut UiState, c: char) {
    press(app, ui, KeyCode::Char(c));
}

fn taken(submitted: &Mutex<Vec<Action>>) -> Vec<Action> {
    submitted.lock().unwrap().clone()
}

fn state(view: View) -> UiState {
    let mut ui = UiState::default();
    ui.show(view);
    ui
}

fn ticket_state() -> UiState {
    let mut ui = state(View::Tickets);
    ui.services.ticket = Some("T-1".into());
    ui.show(View::Ticket);
    ui
}

// ---------------------------------------------------------------- snapshots

#[test]
fn ticket_list_zh() {
    insta::assert_snapshot!(render(
        &seeded_app(),
        &state(View::Tickets),
        Lang::ZhCn,
        true
    ));
}

#[test]
fn ticket_list_en() {
    insta::assert_snapshot!(render(&seeded_app(), &state(View::Tickets), Lang::En, true));
}

#[test]
fn my_tickets_en() {
    let (app, mut ui, _) = console(Role::Maintenance);
    ui.show(View::Tickets);
    ui.services.list = Some(TicketList::Mine);
    insta::assert_snapshot!(render(&app, &ui, Lang::En, true));
}

#[test]
fn ticket_detail_zh() {
    insta::assert_snapshot!(render(&seeded_app(), &ticket_state(), Lang::ZhCn, true));
}

#[test]
fn ticket_detail_en() {
    insta::assert_snapshot!(render(&seeded_app(), &ticket_state(), Lang::En, true));
}

#[test]
fn board_zh() {
    insta::assert_snapshot!(render(&seeded_app(), &state(View::Board), Lang::ZhCn, true));
}

#[test]
fn board_en() {
    insta::assert_snapshot!(render(&seeded_app(), &state(View::Board), Lang::En, true));
}

#[test]
fn overdue_marked_without_colour() {
    let screen = text(&render(
        &seeded_app(),
        &state(View::Tickets),
        Lang::En,
        false,
    ));
    assert!(screen.contains("! 1h over"), "{screen}");
}

#[test]
fn board_masks_names_and_rooms() {
    let screen = text(&render(
        &seeded_app(),
        &state(View::Board),
        Lang::ZhCn,
        true,
    ));
    assert!(screen.contains("江*芬"), "{screen}");
    assert!(!screen.contains("江雅芬"), "{screen}");
    assert!(!screen.contains("301"), "the room is masked: {screen}");
}

// ---------------------------------------------------------------- behaviour

#[test]
fn claim_acts_on_selected_ticket() {
    let (mut app, mut ui, submitted) = console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    assert_eq!(ui.view, View::Tickets);
    // The queue lists the overdue T-1 first, then T-2.
    key(&mut app, &mut ui, 'j');
    key(&mut app, &mut ui, 'c');

    let actions = taken(&submitted);
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0].operator, "g1");
    assert_eq!(actions[0].role, "maintenance");
    assert_eq!(
        actions[0].kind,
        ActionKind::TicketAct {
            ticket: "T-2".into(),
            act: TicketActionKind::Assign {
                assignee: "g1".into()
            },
        }
    );
    let message = ui.message.expect("a confirmation");
    assert!(!message.error, "{}", message.text);
}

#[test]
fn resolve_needs_remark_dialog() {
    let (mut app, mut ui, submitted) = console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    key(&mut app, &mut ui, 'v');
    key(&mut app, &mut ui, 'r');
    assert!(ui.services.dialog.is_some(), "resolve asks what was done");
    assert!(taken(&submitted).is_empty());
    for c in "更换轴承".chars() {
        key(&mut app, &mut ui, c);
    }
    press(&mut app, &mut ui, KeyCode::Enter);

    let actions = taken(&submitted);
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].remark, "更换轴承");
    assert_eq!(
        actions[0].kind,
        ActionKind::TicketAct {
            ticket: "T-3".into(),
            act: TicketActionKind::Resolve,
        }
    );
    assert!(ui.services.dialog.is_none());
}

#[test]
fn refused_ticket_action_shows_reason() {
    let (mut app, mut ui, submitted) = console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    // T-1 is new: starting the repair needs an assignee first.
    key(&mut app, &mut ui, 's');
    assert!(taken(&submitted).is_empty());
    let message = ui.message.expect("a refusal");
    assert!(message.error);
    assert_eq!(
        message.text,
        "工单 T-1 状态为待派单：不能接单开工；请先领单（c）。"
    );
}

#[test]
fn alarm_ticket_prefilled_and_linked() {
    let (mut app, mut ui, submitted) = console(Role::Guard);
    let lines = queue_lines(&app, &ui);
    let Some(QueueLine::Alarm { alarm, .. }) = lines.get(selected_line(&lines, &ui)) else {
        panic!("the sample queue starts with an alarm row");
    };
    let alarm = (*alarm).clone();
    key(&mut app, &mut ui, 'W');
    let dialog = ui.services.dialog.clone().expect("the new ticket dialog");
    assert!(
        dialog.field.text.contains(&alarm.name),
        "{:?}",
        dialog.field
    );
    press(&mut app, &mut ui, KeyCode::Enter);

    let actions = taken(&submitted);
    assert_eq!(actions.len(), 1, "{actions:?}");
    let ActionKind::CreateTicket { ticket } = &actions[0].kind else {
        panic!("not a new ticket: {:?}", actions[0].kind);
    };
    assert_eq!(ticket.alarm, Some(alarm.id));
    assert_eq!(ticket.device, alarm.device);
    assert!(
        ticket.location.starts_with(&alarm.building),
        "{} from {}",
        ticket.location,
        alarm.building
    );
    assert!(ticket.description.contains(&alarm.name));
}

#[test]
fn reveal_logged_before_name_shown() {
    let (mut app, mut ui, submitted) = console(Role::Guard);
    key(&mut app, &mut ui, '5');
    assert_eq!(ui.view, View::Board);
    let first = guardroom::ui::services::board_rows(&app, sample_now())[0]
        .resident
        .clone();
    assert_eq!(first, "r-0101", "the ladder comes first");
    let before = text(&render(&app, &ui, Lang::ZhCn, true));
    assert!(!before.contains("江雅芬"), "{before}");

    key(&mut app, &mut ui, 'v');
    let actions = taken(&submitted);
    assert_eq!(
        actions.first().map(|action| action.kind.clone()),
        Some(ActionKind::Reveal {
            kind: DataKind::ResidentName,
            subject: "r-0101".into(),
        })
    );
    assert_eq!(actions[0].operator, "g1");
    let after = text(&render(&app, &ui, Lang::ZhCn, true));
    assert!(after.contains("江雅芬"), "{after}");
}

#[test]
fn reveal_not_shown_when_not_recorded() {
    let (mut app, mut ui, _) = console(Role::Guard);
    app.submit = Some(Box::new(|_| {
        Err(ActError::Unavailable("queue full".into()))
    }));
    key(&mut app, &mut ui, '5');
    key(&mut app, &mut ui, 'v');
    let screen = text(&render(&app, &ui, Lang::ZhCn, true));
    assert!(!screen.contains("江雅芬"), "{screen}");
    assert!(ui.message.is_some_and(|message| message.error));
}

#[test]
fn guard_may_not_reveal_reporter() {
    let (mut app, mut ui, submitted) = console(Role::Guard);
    key(&mut app, &mut ui, '4');
    press(&mut app, &mut ui, KeyCode::Enter);
    assert_eq!(ui.view, View::Ticket);
    key(&mut app, &mut ui, 'v');

    assert!(taken(&submitted).is_empty());
    let message = ui.message.clone().expect("a refusal");
    assert!(message.error);
    assert!(message.text.contains("报修人姓名"), "{}", message.text);
    let screen = text(&render(&app, &ui, Lang::ZhCn, true));
    assert!(!screen.contains("测试员甲"), "{screen}");
}

#[test]
fn maintenance_may_not_reveal_resident() {
    let (mut app, mut ui, submitted) = console(Role::Maintenance);
    key(&mut app, &mut ui, '5');
    key(&mut app, &mut ui, 'v');
    assert!(taken(&submitted).is_empty());
    assert!(ui.message.is_some_and(|message| message.error));
}

#[test]
fn outcome_recorded_for_selected_resident() {
    let (mut app, mut ui, submitted) = console(Role::Guard);
    key(&mut app, &mut ui, '5');
    key(&mut app, &mut ui, 'o');
    assert!(ui.services.dialog.is_some());
    // The first choice is "reached".
    press(&mut app, &mut ui, KeyCode::Enter);
    let actions = taken(&submitted);
    assert_eq!(actions.len(), 1);
    assert_eq!(
        actions[0].kind,
        ActionKind::CareOutcome {
            resident: "r-0101".into(),
            outcome: Outcome::Reached,
        }
    );
}

// ---------------------------------------------------------------- handover

fn sheet_with_services(reveal: bool) -> Sheet {
    let mut sheet = Sheet {
        site: "sample".into(),
        shift: ShiftRef {
            id: "2026-12-04T08:00".into(),
            start: at("2026-12-04T00:00:00Z"),
            end: at("2026-12-04T12:00:00Z"),
        },
        generated_at: sample_now(),
        sections: Vec::new(),
        log_head: None,
    };
    add_services(
        &mut sheet,
        &seeded_services(),
        sample_now(),
        Lang::En,
        &TimeZone::get("Asia/Shanghai").unwrap(),
        Privacy { reveal },
    );
    sheet
}

fn rows_of<'a>(sheet: &'a Sheet, id: &str) -> &'a Vec<Vec<String>> {
    let section = sheet
        .sections
        .iter()
        .find(|section| section.id == id)
        .unwrap_or_else(|| panic!("no section {id}"));
    match &section.body {
        Body::Table { rows, .. } => rows,
        other => panic!("section {id} is not a table: {other:?}"),
    }
}

#[test]
fn handover_lists_open_tickets() {
    let sheet = sheet_with_services(false);
    let rows = rows_of(&sheet, "open_tickets");
    let ids: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(
        ids,
        ["T-1", "T-3", "T-2", "T-4"],
        "overdue first, then by due time"
    );
    assert!(rows[0][6].contains("overdue"), "{:?}", rows[0]);
}

#[test]
fn handover_masks_check_ins() {
    let sheet = sheet_with_services(false);
    let rows = rows_of(&sheet, "check_ins");
    let residents: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(residents, ["r-0101", "r-0104", "r-0103"]);
    assert_eq!(rows[0][1], "江*芬");
    assert!(!rows[0][2].contains("301"), "{:?}", rows[0]);

    let revealed = sheet_with_services(true);
    assert_eq!(rows_of(&revealed, "check_ins")[0][1], "江雅芬");
}

#[test]
fn create_dialog_zh() {
    let (mut app, mut ui, _) = console(Role::Guard);
    key(&mut app, &mut ui, 'W');
    assert!(ui.services.dialog.is_some());
    insta::assert_snapshot!(render(&app, &ui, Lang::ZhCn, true));
}

#[test]
fn outcome_dialog_en() {
    let (mut app, mut ui, _) = console(Role::Guard);
    key(&mut app, &mut ui, '5');
    key(&mut app, &mut ui, 'o');
    press(&mut app, &mut ui, KeyCode::Down);
    assert!(ui.services.dialog.is_some());
    insta::assert_snapshot!(render(&app, &ui, Lang::En, true));
}

#[test]
fn maintenance_reveals_reporter() {
    let (mut app, mut ui, submitted) = console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    press(&mut app, &mut ui, KeyCode::Enter);
    key(&mut app, &mut ui, 'v');

    let kinds: Vec<ActionKind> = taken(&submitted)
        .into_iter()
        .map(|action| action.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            ActionKind::Reveal {
                kind: DataKind::ReporterName,
                subject: "T-1".into(),
            },
            ActionKind::Reveal {
                kind: DataKind::ReporterPhone,
                subject: "T-1".into(),
            },
        ]
    );
    let screen = text(&render(&app, &ui, Lang::ZhCn, true));
    assert!(screen.contains("测试员甲 13800000001"), "{screen}");
}

#[test]
fn transfer_names_assignee_and_reason() {
    let (mut app, mut ui, submitted) = console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    key(&mut app, &mut ui, 'v');
    key(&mut app, &mut ui, 't');
    for c in "m2".chars() {
        key(&mut app, &mut ui, c);
    }
    press(&mut app, &mut ui, KeyCode::Tab);
    for c in "需要电梯公司配件".chars() {
        key(&mut app, &mut ui, c);
    }
    press(&mut app, &mut ui, KeyCode::Enter);

    let actions = taken(&submitted);
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0].remark, "需要电梯公司配件");
    assert_eq!(
        actions[0].kind,
        ActionKind::TicketAct {
            ticket: "T-3".into(),
            act: TicketActionKind::Transfer {
                assignee: "m2".into()
            },
        }
    );
}

#[test]
fn resident_history_zh() {
    let (mut app, mut ui, _) = console(Role::Guard);
    key(&mut app, &mut ui, '5');
    key(&mut app, &mut ui, 'j');
    press(&mut app, &mut ui, KeyCode::Enter);
    assert_eq!(ui.view, View::Resident);
    insta::assert_snapshot!(render(&app, &ui, Lang::ZhCn, true));
}

// ---------------------------------------------------------------- log browser

fn care_action(resident: &str, outcome: Outcome, remark: &str) -> Action {
    Action {
        id: Uuid::new_v4(),
        alarm: None,
        kind: ActionKind::CareOutcome {
            resident: resident.into(),
            outcome,
        },
        operator: "g1".into(),
        role: "guard".into(),
        console: "duty-1".into(),
        via_ssh: false,
        remark: remark.into(),
    }
}

fn care_event(id: &str, resident: &str, time: &str, kind: CareEventKind) -> EventBody {
    EventBody::Care {
        record: CareRecord::Event {
            event: CareEvent {
                id: id.into(),
                resident: resident.into(),
                at: at(time),
                kind,
                text: None,
            },
        },
        action: None,
    }
}

/// Writes the day shift's eldercare and ticket events of the seeded
/// residents to a new database in `dir`, and returns its path.
fn care_log(dir: &std::path::Path) -> std::path::PathBuf {
    let outcome = care_action("r-0104", Outcome::ResidentSafe, "上门确认老人在家休息");
    let outcome_record = OutcomeRecord {
        resident: "r-0104".into(),
        outcome: Outcome::ResidentSafe,
        operator: "g1".into(),
        role: Role::Guard,
        remark: outcome.remark.clone(),
        at: at("2026-12-04T01:20:00Z"),
    };
    let stage = CareSignal::Raise {
        resident: "r-0101".into(),
        condition: CareCondition::MissedCheckIn,
        priority: guardroom::domain::alarm::Priority::P3,
        stage: Some(Stage::CallResident),
    };
    let bodies = [
        (
            "2026-12-04T01:20:00Z",
            EventBody::Care {
                record: CareRecord::Outcome {
                    record: outcome_record,
                },
                action: Some(outcome),
            },
        ),
        (
            "2026-12-04T09:00:00Z",
            EventBody::Ticket {
                event: TicketEvent::Created {
                    ticket: new_ticket(
                        "T-9",
                        Category::Plumbing,
                        Urgency::Urgent,
                        "3栋 2单元 1201",
                        "厨房水管漏水",
                    ),
                },
                action: None,
            },
        ),
        (
            "2026-12-04T11:30:00Z",
            care_event(
                "e-1",
                "r-0102",
                "2026-12-04T11:30:00Z",
                CareEventKind::CheckIn {
                    via: CheckInVia::Button,
                },
            ),
        ),
        (
            "2026-12-04T11:40:00Z",
            care_event("e-2", "r-0103", "2026-12-04T11:40:00Z", CareEventKind::Sos),
        ),
        (
            "2026-12-04T11:45:00Z",
            care_event("e-3", "r-0103", "2026-12-04T11:45:00Z", CareEventKind::Fall),
        ),
        (
            "2026-12-04T11:51:00Z",
            EventBody::Care {
                record: CareRecord::Signal { signal: stage },
                action: None,
            },
        ),
    ];
    let path = dir.join("guardroom.sqlite");
    let mut store = Store::open(&path).unwrap();
    store
        .commit(&Batch {
            events: bodies
                .into_iter()
                .map(|(time, body)| Event::new(at(time), body))
                .collect(),
            ..Batch::default()
        })
        .unwrap();
    path
}

/// Opens the log browser on the day shift of the care log in `dir` and
/// waits for the worker's rows.
fn care_browser(role: Role, dir: &std::path::Path) -> (App, UiState) {
    let (mut app, mut ui, _) = console(role);
    app.site.database = care_log(dir);
    key(&mut app, &mut ui, '3');
    assert_eq!(ui.view, View::Log);
    ui.review.anchor = Some(at("2026-12-04T06:00:00Z"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        guardroom::ui::review::sync(&mut app, &mut ui, sample_now());
        if ui.review.rows.len() == 6 && !ui.review.searching {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the log browser did not load the rows: {:?}",
            ui.review.rows.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (app, ui)
}

/// Returns the screen line that contains each of `needles`.
fn line_with<'a>(screen: &'a str, needles: &[&str]) -> &'a str {
    screen
        .lines()
        .find(|line| needles.iter().all(|needle| line.contains(needle)))
        .unwrap_or_else(|| panic!("no line contains {needles:?}:\n{screen}"))
}

#[test]
fn log_rows_name_resident_masked() {
    let dir = tempfile::tempdir().unwrap();
    let (app, ui) = care_browser(Role::Guard, dir.path());
    let screen = text(&render(&app, &ui, Lang::En, true));

    line_with(&screen, &["19:30 check-in", "r-0102 柯*年"]);
    line_with(&screen, &["19:40 SOS", "r-0103 温*屏"]);
    line_with(&screen, &["19:45 fall", "r-0103 温*屏"]);
    line_with(
        &screen,
        &[
            "19:51 ladder stage",
            "r-0101 江*芬",
            "stage 1 call resident",
        ],
    );
    line_with(
        &screen,
        &["09:20 outcome", "r-0104 欧**明", "g1", "resident safe"],
    );
    for name in ["江雅芬", "柯松年", "温秀屏", "欧阳德明"] {
        assert!(!screen.contains(name), "{name} shown in clear:\n{screen}");
    }
}

#[test]
fn log_rows_name_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let (app, ui) = care_browser(Role::Guard, dir.path());
    let screen = text(&render(&app, &ui, Lang::ZhCn, true));
    line_with(&screen, &["T-9", "厨房水管漏水"]);
}

#[test]
fn log_rows_in_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let (app, ui) = care_browser(Role::Guard, dir.path());
    let screen = text(&render(&app, &ui, Lang::ZhCn, true));
    line_with(&screen, &["紧急呼叫", "r-0103 温*屏"]);
    line_with(&screen, &["跌倒", "r-0103 温*屏"]);
    line_with(&screen, &["签到", "r-0102 柯*年"]);
    line_with(&screen, &["r-0104 欧**明", "老人平安"]);
    line_with(&screen, &["签到升级", "r-0101 江*芬", "电话联系老人"]);
}

#[test]
fn log_rows_show_name_after_reveal() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, mut ui) = care_browser(Role::Guard, dir.path());
    // Reveal the first resident on the board, then come back to the log.
    key(&mut app, &mut ui, '5');
    key(&mut app, &mut ui, 'v');
    key(&mut app, &mut ui, '3');
    let screen = text(&render(&app, &ui, Lang::ZhCn, true));
    assert!(screen.contains("r-0101 江雅芬"), "{screen}");
    assert!(
        screen.contains("r-0103 温*屏"),
        "only the revealed resident is in clear: {screen}"
    );
}

#[test]
fn log_rows_masked_for_maintenance() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, mut ui) = care_browser(Role::Maintenance, dir.path());
    key(&mut app, &mut ui, '5');
    key(&mut app, &mut ui, 'v');
    key(&mut app, &mut ui, '3');
    let screen = text(&render(&app, &ui, Lang::ZhCn, true));
    assert!(screen.contains("r-0101 江*芬"), "{screen}");
    assert!(!screen.contains("江雅芬"), "{screen}");
}

// ---------------------------------------------------------------- new ticket

/// Returns a console whose configuration offers two urgencies and two
/// categories, neither of which an alarm's guess (urgent, security devices) is.
fn configured_console(role: Role) -> (App, UiState, Arc<Mutex<Vec<Action>>>) {
    let (mut app, ui, submitted) = console(role);
    app.ticket_urgencies = vec![Urgency::Normal, Urgency::Minor];
    app.ticket_categories = vec![Category::Plumbing, Category::Electrical];
    (app, ui, submitted)
}

fn created(submitted: &Mutex<Vec<Action>>) -> NewTicket {
    let actions = taken(submitted);
    assert_eq!(actions.len(), 1, "{actions:?}");
    match &actions[0].kind {
        ActionKind::CreateTicket { ticket } => ticket.clone(),
        other => panic!("not a new ticket: {other:?}"),
    }
}

#[test]
fn create_dialog_offers_configured_only() {
    let (mut app, mut ui, _) = configured_console(Role::Guard);
    key(&mut app, &mut ui, 'W');
    assert!(ui.services.dialog.is_some());
    for lang in [Lang::En, Lang::ZhCn] {
        let screen = text(&render(&app, &ui, lang, true));
        for offered in ["tickets.urgency_normal", "tickets.urgency_minor"] {
            assert!(
                screen.contains(lang.t(offered)),
                "{offered} missing:\n{screen}"
            );
        }
        for offered in ["tickets.category_plumbing", "tickets.category_electrical"] {
            assert!(
                screen.contains(lang.t(offered)),
                "{offered} missing:\n{screen}"
            );
        }
        for hidden in [
            "tickets.urgency_urgent",
            "tickets.category_elevator",
            "tickets.category_security_devices",
            "tickets.category_other",
        ] {
            assert!(
                !screen.contains(&format!(") {}", lang.t(hidden))),
                "{hidden} offered:\n{screen}"
            );
        }
    }
}

#[test]
fn create_guess_falls_back_to_first() {
    let (mut app, mut ui, submitted) = configured_console(Role::Guard);
    key(&mut app, &mut ui, 'W');
    press(&mut app, &mut ui, KeyCode::Enter);
    let ticket = created(&submitted);
    assert_eq!(ticket.urgency, Urgency::Normal);
    assert_eq!(ticket.category, Category::Plumbing);
}

#[test]
fn create_keeps_configured_guess() {
    let (mut app, mut ui, submitted) = console(Role::Guard);
    app.ticket_urgencies = vec![Urgency::Minor, Urgency::Urgent];
    app.ticket_categories = vec![Category::Other, Category::SecurityDevices];
    key(&mut app, &mut ui, 'W');
    press(&mut app, &mut ui, KeyCode::Enter);
    let ticket = created(&submitted);
    assert_eq!(ticket.urgency, Urgency::Urgent, "the P1 alarm's guess");
    assert_eq!(ticket.category, Category::SecurityDevices);
}

#[test]
fn create_chooses_urgency_and_category() {
    let (mut app, mut ui, submitted) = configured_console(Role::Guard);
    key(&mut app, &mut ui, 'W');
    // The focus starts on the description: Tab wraps to the location,
    // then the urgency, then the category.
    press(&mut app, &mut ui, KeyCode::Tab);
    press(&mut app, &mut ui, KeyCode::Tab);
    press(&mut app, &mut ui, KeyCode::Down);
    press(&mut app, &mut ui, KeyCode::Tab);
    press(&mut app, &mut ui, KeyCode::Down);
    press(&mut app, &mut ui, KeyCode::Down);
    press(&mut app, &mut ui, KeyCode::Enter);
    let ticket = created(&submitted);
    assert_eq!(ticket.urgency, Urgency::Minor);
    assert_eq!(
        ticket.category,
        Category::Electrical,
        "the last choice stays"
    );
}

#[test]
fn create_from_scratch_in_ticket_list() {
    let (mut app, mut ui, submitted) = configured_console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    key(&mut app, &mut ui, 'W');
    let dialog = ui.services.dialog.clone().expect("the new ticket dialog");
    assert!(dialog.location.text.is_empty());
    assert!(dialog.field.text.is_empty());

    for c in "5栋 地下车库".chars() {
        key(&mut app, &mut ui, c);
    }
    press(&mut app, &mut ui, KeyCode::BackTab);
    for c in "照明灯不亮".chars() {
        key(&mut app, &mut ui, c);
    }
    press(&mut app, &mut ui, KeyCode::BackTab);
    press(&mut app, &mut ui, KeyCode::Down);
    press(&mut app, &mut ui, KeyCode::Enter);

    let ticket = created(&submitted);
    assert_eq!(ticket.location, "5栋 地下车库");
    assert_eq!(ticket.description, "照明灯不亮");
    assert_eq!(ticket.category, Category::Electrical);
    assert_eq!(ticket.urgency, Urgency::Normal);
    assert_eq!(ticket.alarm, None);
    assert!(ui.services.dialog.is_none());
}

#[test]
fn guard_takes_a_walk_in_report() {
    let (mut app, mut ui, submitted) = configured_console(Role::Guard);
    key(&mut app, &mut ui, '4');
    key(&mut app, &mut ui, 'W');
    assert!(ui.services.dialog.is_some(), "the new ticket dialog");
    for c in "东门岗亭".chars() {
        key(&mut app, &mut ui, c);
    }
    press(&mut app, &mut ui, KeyCode::BackTab);
    for c in "岗亭空调漏水".chars() {
        key(&mut app, &mut ui, c);
    }
    press(&mut app, &mut ui, KeyCode::Enter);

    let ticket = created(&submitted);
    assert_eq!(ticket.location, "东门岗亭");
    assert_eq!(ticket.description, "岗亭空调漏水");
    assert!(!ticket.out_of_service);
}

#[test]
fn create_without_location_refused() {
    let (mut app, mut ui, submitted) = configured_console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    key(&mut app, &mut ui, 'W');
    press(&mut app, &mut ui, KeyCode::Tab);
    press(&mut app, &mut ui, KeyCode::Tab);
    press(&mut app, &mut ui, KeyCode::Tab);
    for c in "照明灯不亮".chars() {
        key(&mut app, &mut ui, c);
    }
    press(&mut app, &mut ui, KeyCode::Enter);
    assert!(taken(&submitted).is_empty());
    let dialog = ui.services.dialog.clone().expect("the dialog stays open");
    assert!(dialog.error.is_some());
}

#[test]
fn create_dialog_en() {
    let (mut app, mut ui, _) = configured_console(Role::Guard);
    key(&mut app, &mut ui, 'W');
    press(&mut app, &mut ui, KeyCode::Tab);
    press(&mut app, &mut ui, KeyCode::Tab);
    press(&mut app, &mut ui, KeyCode::Tab);
    insta::assert_snapshot!(render(&app, &ui, Lang::En, true));
}

#[test]
fn create_dialog_configured_zh() {
    let (mut app, mut ui, _) = configured_console(Role::Guard);
    key(&mut app, &mut ui, 'W');
    press(&mut app, &mut ui, KeyCode::Tab);
    press(&mut app, &mut ui, KeyCode::Tab);
    insta::assert_snapshot!(render(&app, &ui, Lang::ZhCn, true));
}

#[test]
fn new_ticket_dialog_en() {
    let (mut app, mut ui, _) = console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    key(&mut app, &mut ui, 'W');
    insta::assert_snapshot!(render(&app, &ui, Lang::En, true));
}

#[test]
fn create_focus_marked_without_colour() {
    let (mut app, mut ui, _) = configured_console(Role::Guard);
    key(&mut app, &mut ui, 'W');
    press(&mut app, &mut ui, KeyCode::Tab);
    press(&mut app, &mut ui, KeyCode::Tab);
    let screen = text(&render(&app, &ui, Lang::En, false));
    assert!(screen.contains("Urgency (↑/↓)"), "{screen}");
    assert!(screen.contains("Category"), "{screen}");
    assert!(!screen.contains("Category (↑/↓)"), "{screen}");
}

// ---------------------------------------------------------------- ticket ids

/// Returns the seeded console with three tickets whose ids are longer than
/// the console's own, the last one longer than the id column's cap.
fn long_id_app() -> App {
    let mut app = seeded_app();
    for (id, time) in [
        ("R-20261204-0001", "2026-12-04T10:10:00Z"),
        ("R-1001", "2026-12-04T10:20:00Z"),
        ("REPAIR-2026-12-04-000123", "2026-12-04T10:30:00Z"),
    ] {
        let ticket = new_ticket(
            id,
            Category::Elevator,
            Urgency::Normal,
            "2栋 1号电梯",
            "按钮失灵",
        );
        fold_ticket(
            &mut app.projection.services,
            time,
            TicketEvent::Created { ticket },
        );
    }
    app
}

#[test]
fn ticket_ids_not_cut() {
    let app = long_id_app();
    for lang in [Lang::En, Lang::ZhCn] {
        let screen = text(&render(&app, &state(View::Tickets), lang, true));
        for id in ["R-20261204-0001", "R-1001", "T-1", "T-2"] {
            line_with(&screen, &[&format!("{id} ")]);
        }
        // An id over the cap ends in an ellipsis, and the description
        // keeps room.
        line_with(&screen, &["REPAIR-2026-12-… ", "按钮失灵"]);
    }
}

#[test]
fn ticket_list_long_ids_en() {
    insta::assert_snapshot!(render(
        &long_id_app(),
        &state(View::Tickets),
        Lang::En,
        true
    ));
}

/// Opens a maintenance console on the detail of ticket T-9, assigned to
/// `g1` and linked to door `door-9`, which is out of service when `out` is
/// true.
fn device_ticket(out: bool) -> (App, UiState, Arc<Mutex<Vec<Action>>>) {
    let (mut app, mut ui, submitted) = console(Role::Maintenance);
    let services = &mut app.projection.services;
    let ticket = NewTicket {
        device: Some("door-9".into()),
        ..new_ticket(
            "T-9",
            Category::DoorsAccess,
            Urgency::Normal,
            "9栋 单元门",
            "门禁读卡器失灵",
        )
    };
    fold_ticket(
        services,
        "2026-12-04T12:00:00Z",
        TicketEvent::Created { ticket },
    );
    let assign = TicketActionKind::Assign {
        assignee: "g1".into(),
    };
    fold_ticket(
        services,
        "2026-12-04T12:01:00Z",
        ticket_act("T-9", assign, "g1", ""),
    );
    if out {
        fold_ticket(
            services,
            "2026-12-04T12:02:00Z",
            ticket_act(
                "T-9",
                TicketActionKind::TakeOutOfService,
                "g1",
                "拆下读卡器送修",
            ),
        );
    }
    ui.services.ticket = Some("T-9".into());
    ui.show(View::Ticket);
    (app, ui, submitted)
}

#[test]
fn ticket_takes_its_device_out_of_service() {
    let (mut app, mut ui, submitted) = device_ticket(false);
    key(&mut app, &mut ui, 'o');
    assert!(
        ui.services.dialog.is_some(),
        "the reason is asked for first"
    );
    assert!(taken(&submitted).is_empty());
    for c in "拆下读卡器送修".chars() {
        key(&mut app, &mut ui, c);
    }
    press(&mut app, &mut ui, KeyCode::Enter);

    let actions = taken(&submitted);
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0].remark, "拆下读卡器送修");
    assert_eq!(
        actions[0].kind,
        ActionKind::TicketAct {
            ticket: "T-9".into(),
            act: TicketActionKind::TakeOutOfService,
        }
    );
}

#[test]
fn ticket_returns_its_device_to_service() {
    let (mut app, mut ui, submitted) = device_ticket(true);
    key(&mut app, &mut ui, 'o');
    let actions = taken(&submitted);
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(
        actions[0].kind,
        ActionKind::TicketAct {
            ticket: "T-9".into(),
            act: TicketActionKind::ReturnToService,
        }
    );
    let message = ui.message.expect("a confirmation");
    assert!(!message.error, "{}", message.text);
}

#[test]
fn guard_cannot_take_device_out() {
    let (mut app, mut ui, submitted) = device_ticket(false);
    app.access = Access::Operators {
        current: Some(Current {
            id: "g1".into(),
            name: "测试员乙".into(),
            role: Role::Guard,
            since: sample_now(),
        }),
        locked: false,
    };
    app.operator.role = Role::Guard.as_str().into();
    key(&mut app, &mut ui, 'o');
    assert!(ui.services.dialog.is_none(), "refused before the dialog");
    assert!(taken(&submitted).is_empty());
    assert!(ui.message.expect("a refusal").error);
}

#[test]
fn handover_lists_the_shifts_ticket_steps() {
    let sheet = sheet_with_services(false);
    let rows = rows_of(&sheet, "tickets_worked");
    let steps: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|row| (row[0].as_str(), row[1].as_str(), row[2].as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("12-04 17:00", "T-1", "created"),
            ("12-04 17:30", "T-1", "note"),
            ("12-04 18:00", "T-2", "created"),
            ("12-04 19:30", "T-3", "created"),
            ("12-04 19:35", "T-3", "assigned"),
            ("12-04 19:40", "T-3", "accepted"),
        ],
        "the shift's steps in order, none of T-4 from the day before"
    );
    assert_eq!(rows[1][3], "g1");
    assert_eq!(rows[1][4], "已电话联系住户，关闭总阀");
}

#[test]
fn handover_lists_the_shifts_eldercare() {
    let sheet = sheet_with_services(false);
    let rows = rows_of(&sheet, "care_events");
    let entries: Vec<String> = rows.iter().map(|row| row.join(" | ")).collect();
    assert!(
        rows.iter().all(|row| row[1] != "r-0102"),
        "a routine check-in stays off the sheet: {entries:#?}"
    );
    let last = rows.last().expect("entries");
    assert_eq!(
        (last[0].as_str(), last[1].as_str(), last[3].as_str()),
        ("12-04 19:50", "r-0101", "stage 1 call resident started"),
        "the ladder that started in the shift: {entries:#?}"
    );
    let safe = rows
        .iter()
        .find(|row| row[1] == "r-0104" && row[3].starts_with("resident safe"))
        .unwrap_or_else(|| panic!("r-0104's outcome: {entries:#?}"));
    assert_eq!(safe[0], "12-04 09:20");
    assert_eq!(safe[2], "欧**明");
    assert_eq!(safe[3], "resident safe");
    assert_eq!(safe[4], "g1");
    assert_eq!(safe[5], "上门确认老人在家休息");

    let revealed = rows_of(&sheet_with_services(true), "care_events").clone();
    assert!(
        revealed.iter().any(|row| row[2] == "欧阳德明"),
        "{revealed:#?}"
    );
}

// ---------------------------------------------------------------- all open tickets

/// Returns the title of the ticket list on screen.
fn list_title(screen: &str) -> &str {
    line_with(screen, &["Repair tickets: "])
}

#[test]
fn guard_opens_on_all_open_tickets() {
    let (mut app, mut ui, _) = console(Role::Guard);
    fold_ticket(
        &mut app.projection.services,
        "2026-12-04T11:50:00Z",
        ticket_act("T-2", TicketActionKind::Cancel, "m1", "住户已自行更换灯泡"),
    );
    key(&mut app, &mut ui, '4');

    let screen = text(&render(&app, &ui, Lang::En, true));
    assert!(
        list_title(&screen).contains("Repair tickets: all open (3)"),
        "{screen}"
    );
    // Each open ticket shows with its assignee, the overdue one first. The
    // cancelled T-2 is gone.
    line_with(&screen, &["Assignee", "State"]);
    line_with(&screen, &["T-1 ", " - ", "new", "! 1h over"]);
    line_with(&screen, &["T-3 ", " g1 ", "in progress"]);
    line_with(&screen, &["T-4 ", " m2 ", "assigned"]);
    assert!(!screen.contains("T-2 "), "{screen}");
    let first = screen.find("T-1 ").unwrap();
    assert!(first < screen.find("T-3 ").unwrap(), "{screen}");
}

#[test]
fn maintenance_opens_on_queue() {
    let (mut app, mut ui, _) = console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    let screen = text(&render(&app, &ui, Lang::En, true));
    assert!(
        list_title(&screen).contains("Repair tickets: unassigned queue (2)"),
        "{screen}"
    );
}

#[test]
fn v_cycles_queue_mine_all_open() {
    let (mut app, mut ui, _) = console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    let mut titles = Vec::new();
    for _ in 0..4 {
        key(&mut app, &mut ui, 'v');
        let screen = text(&render(&app, &ui, Lang::En, true));
        let title = list_title(&screen).split(" ─").next().unwrap().trim();
        titles.push(title.trim_matches('"').trim().to_owned());
    }
    assert_eq!(
        titles,
        [
            "Repair tickets: mine, g1 (1)",
            "Repair tickets: all open (4)",
            "Repair tickets: unassigned queue (2)",
            "Repair tickets: mine, g1 (1)",
        ]
    );
}

#[test]
fn all_open_acts_on_selected_row() {
    let (mut app, mut ui, submitted) = console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    key(&mut app, &mut ui, 'v');
    key(&mut app, &mut ui, 'v');
    // T-1 overdue, then T-3 due at 21:30.
    key(&mut app, &mut ui, 'j');
    key(&mut app, &mut ui, 'r');
    for c in "更换轴承".chars() {
        key(&mut app, &mut ui, c);
    }
    press(&mut app, &mut ui, KeyCode::Enter);
    let actions = taken(&submitted);
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(
        actions[0].kind,
        ActionKind::TicketAct {
            ticket: "T-3".into(),
            act: TicketActionKind::Resolve,
        }
    );
}

#[test]
fn all_open_empty_says_so() {
    let (mut app, mut ui, _) = console(Role::Guard);
    app.projection.services.tickets = Default::default();
    key(&mut app, &mut ui, '4');
    for (lang, title, empty) in [
        (
            Lang::En,
            "Repair tickets: all open (0)",
            "No ticket is open.",
        ),
        (
            Lang::ZhCn,
            "报修工单：全部未完成（0）",
            "没有未完成的工单。",
        ),
    ] {
        let screen = text(&render(&app, &ui, lang, true));
        line_with(&screen, &[title]);
        line_with(&screen, &[empty]);
    }
}

#[test]
fn all_open_tickets_en() {
    let (mut app, mut ui, _) = console(Role::Guard);
    key(&mut app, &mut ui, '4');
    insta::assert_snapshot!(render(&app, &ui, Lang::En, true));
}

#[test]
fn all_open_tickets_zh() {
    let (mut app, mut ui, _) = console(Role::Guard);
    key(&mut app, &mut ui, '4');
    insta::assert_snapshot!(render(&app, &ui, Lang::ZhCn, true));
}

// ---------------------------------------------------------------- refusals in a ticket's state

/// Brings T-3, in progress with `g1`, to awaiting rating, and to closed
/// when `close` is true.
fn resolve_t3(app: &mut App, close: bool) {
    let services = &mut app.projection.services;
    fold_ticket(
        services,
        "2026-12-04T11:50:00Z",
        ticket_act("T-3", TicketActionKind::Resolve, "g1", "更换轴承"),
    );
    if close {
        fold_ticket(
            services,
            "2026-12-04T11:55:00Z",
            ticket_act("T-3", TicketActionKind::Close { rating: None }, "g1", ""),
        );
    }
}

/// Presses `c` in the detail of `ticket` and returns the refusal shown.
fn refusal_on(app: &mut App, ui: &mut UiState, ticket: &str, c: char) -> String {
    ui.services.ticket = Some(ticket.into());
    ui.show(View::Ticket);
    ui.message = None;
    key(app, ui, c);
    let message = ui.message.clone().expect("a refusal");
    assert!(message.error, "{}", message.text);
    message.text
}

#[test]
fn refusal_names_ticket_state_action() {
    let cases: [(&str, bool, bool, char, &str, &str); 5] = [
        (
            "T-1",
            false,
            false,
            'C',
            "Ticket T-1 is new: it cannot be closed; claim it (c) first.",
            "工单 T-1 状态为待派单：不能办结；请先领单（c）。",
        ),
        (
            "T-4",
            false,
            false,
            'r',
            "Ticket T-4 is assigned: it cannot be resolved; start the repair (s) first.",
            "工单 T-4 状态为已派单：不能完成维修；请先接单开工（s）。",
        ),
        (
            "T-3",
            false,
            false,
            'c',
            "Ticket T-3 is in progress: it cannot be claimed; transfer it (t) to change the assignee.",
            "工单 T-3 状态为处理中：不能领单；如需更换维修人，请转单（t）。",
        ),
        (
            "T-3",
            true,
            false,
            's',
            "Ticket T-3 is awaiting rating: the repair cannot be started; it is resolved, so close it (C).",
            "工单 T-3 状态为待评价：不能接单开工；维修已完成，请办结（C）。",
        ),
        (
            "T-3",
            true,
            true,
            'x',
            "Ticket T-3 is closed: it cannot be cancelled; create a new ticket (W in the list) for any further repair.",
            "工单 T-3 状态为已办结：不能取消；如需再次维修，请在列表中新建工单（W）。",
        ),
    ];
    for (ticket, resolved, closed, c, en, zh) in cases {
        for (lang, expected) in [(Lang::En, en), (Lang::ZhCn, zh)] {
            let (mut app, mut ui, submitted) = console(Role::Maintenance);
            if resolved {
                resolve_t3(&mut app, closed);
            }
            ui.lang = lang;
            let refusal = refusal_on(&mut app, &mut ui, ticket, c);
            assert_eq!(refusal, expected, "{c} on {ticket}");
            assert!(taken(&submitted).is_empty());

            // One sentence in at most three rows of an 80-column
            // terminal, after the three-cell mark.
            let rows = guardroom::ui::widgets::wrap(&refusal, 77);
            assert!(rows.len() <= 3, "{rows:?}");
        }
    }
}

#[test]
fn refusal_shown_in_three_rows() {
    let (mut app, mut ui, _) = console(Role::Maintenance);
    resolve_t3(&mut app, true);
    let refusal = refusal_on(&mut app, &mut ui, "T-3", 'x');
    let screen = text(&render(&app, &ui, Lang::ZhCn, true));
    let tail = refusal.chars().rev().take(6).collect::<Vec<_>>();
    let tail: String = tail.into_iter().rev().collect();
    line_with(&screen, &[tail.as_str()]);
    line_with(&screen, &["工单 T-3 状态为已办结"]);
}

// ---------------------------------------------------------------- detail footer

/// Returns the footer row of the ticket detail of `ticket`, in `lang`.
fn detail_footer(app: &App, ticket: &str, lang: Lang) -> String {
    let mut ui = UiState::default();
    ui.services.ticket = Some(ticket.into());
    ui.show(View::Ticket);
    let screen = text(&render(app, &ui, lang, true));
    screen.lines().last().unwrap().to_owned()
}

const TICKET_KEYS_EN: [&str; 9] = [
    "c claim",
    "s start",
    "n note on the ticket",
    "r resolve",
    "u return (退单)",
    "t transfer (转单)",
    "x cancel the ticket",
    "C close (办结)",
    "o device out of service",
];

/// Asserts that `footer` hints exactly the ticket keys of `shown`.
fn assert_ticket_keys(footer: &str, shown: &[&str]) {
    for hint in TICKET_KEYS_EN {
        assert_eq!(
            footer.contains(hint),
            shown.contains(&hint),
            "{hint:?} in {footer}"
        );
    }
}

#[test]
fn detail_footer_follows_state() {
    let (app, _, _) = console(Role::Maintenance);
    assert_ticket_keys(
        &detail_footer(&app, "T-1", Lang::En),
        &["c claim", "x cancel the ticket"],
    );
    // The transfer does not fit at 80 columns in English after the lock,
    // help, quit and silence keys, but it does in Chinese.
    assert_ticket_keys(
        &detail_footer(&app, "T-4", Lang::En),
        &["s start", "u return (退单)"],
    );
    let zh = detail_footer(&app, "T-4", Lang::ZhCn);
    for hint in ["s 接单开工", "u 退单", "t 转单"] {
        assert!(zh.contains(hint), "{hint:?} in {zh}");
    }
    assert!(!zh.contains("c 领单"), "{zh}");
    assert_ticket_keys(
        &detail_footer(&app, "T-3", Lang::En),
        &["n note on the ticket", "r resolve"],
    );

    let (mut app, _, _) = console(Role::Maintenance);
    resolve_t3(&mut app, false);
    assert_ticket_keys(&detail_footer(&app, "T-3", Lang::En), &["C close (办结)"]);
    let (mut app, _, _) = console(Role::Maintenance);
    resolve_t3(&mut app, true);
    assert_ticket_keys(&detail_footer(&app, "T-3", Lang::En), &[]);
}

#[test]
fn detail_footer_follows_role() {
    let (app, _, _) = console(Role::Guard);
    for ticket in ["T-1", "T-3", "T-4"] {
        assert_ticket_keys(
            &detail_footer(&app, ticket, Lang::En),
            &["n note on the ticket"],
        );
    }
    let (mut app, _, _) = console(Role::Guard);
    resolve_t3(&mut app, true);
    assert_ticket_keys(&detail_footer(&app, "T-3", Lang::En), &[]);
}

#[test]
fn read_only_detail_footer_has_no_ticket_keys() {
    let (mut app, _, _) = console(Role::Supervisor);
    app.read_only = true;
    assert_ticket_keys(&detail_footer(&app, "T-1", Lang::En), &[]);
}

#[test]
fn list_footer_follows_selected_ticket() {
    let (mut app, mut ui, _) = console(Role::Maintenance);
    key(&mut app, &mut ui, '4');
    let screen = text(&render(&app, &ui, Lang::ZhCn, true));
    let footer = screen.lines().last().unwrap();
    assert!(
        footer.contains("v 待派单 / 我的 / 全部  c 领单"),
        "{footer}"
    );

    // A guard on every open ticket is offered nothing that only
    // maintenance may do. The note the guard may write does not fit.
    let (mut app, mut ui, _) = console(Role::Guard);
    key(&mut app, &mut ui, '4');
    let screen = text(&render(&app, &ui, Lang::ZhCn, true));
    let footer = screen.lines().last().unwrap();
    assert!(footer.contains("v 待派单 / 我的 / 全部"), "{footer}");
    for hint in ["c 领单", "s 接单开工", "r 完成维修", "x 取消工单"] {
        assert!(!footer.contains(hint), "{hint:?} in {footer}");
    }
}

#[test]
fn every_state_refusal_has_text() {
    let kinds = [
        TicketActionKind::Assign {
            assignee: "m1".into(),
        },
        TicketActionKind::Accept,
        TicketActionKind::Resolve,
        TicketActionKind::Close { rating: None },
        TicketActionKind::Reopen,
        TicketActionKind::Return,
        TicketActionKind::Transfer {
            assignee: "m2".into(),
        },
        TicketActionKind::Cancel,
        TicketActionKind::TakeOutOfService,
        TicketActionKind::ReturnToService,
    ];
    let mut checked = 0;
    for state in TicketState::ALL {
        for kind in &kinds {
            if kind.next_state(state).is_some() {
                continue;
            }
            let advice = Advice::for_refused(state, kind);
            for lang in [Lang::En, Lang::ZhCn] {
                for key in [
                    format!("ticket_refusal.refused_{}", kind.as_str()),
                    format!("ticket_refusal.advice_{}", advice.code()),
                ] {
                    assert!(lang.try_t(&key).is_some(), "{key} missing in {lang:?}");
                }
                let text = not_allowed_text(
                    lang,
                    "REPAIR-2026-12-04-000123",
                    state,
                    kind.as_str(),
                    advice,
                );
                assert!(!text.contains('{'), "{text}");
                let rows = guardroom::ui::widgets::wrap(&text, 77);
                assert!(rows.len() <= 3, "{rows:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * 42, "illegal pairs of state and action");
}

#[test]
fn detail_footer_offers_the_device_key() {
    // T-9 is assigned to g1 and linked to door-9.
    let (app, ui, _) = device_ticket(false);
    let screen = text(&render(&app, &ui, Lang::En, true));
    let footer = screen.lines().last().unwrap();
    assert!(footer.contains("o device off/on"), "{footer}");
    let zh = text(&render(&app, &ui, Lang::ZhCn, true));
    let footer = zh.lines().last().unwrap();
    assert!(footer.contains("o 停用/恢复设备"), "{footer}");

    // Without a linked device there is nothing to take out of service.
    let (app, _, _) = console(Role::Maintenance);
    assert!(!detail_footer(&app, "T-4", Lang::En).contains("o device"));
}
