//! The repair ticket and eldercare screens: snapshots of the ticket list,
//! a ticket's detail and today's board at 80×24 in both languages, with
//! personal data masked, and behaviour tests that drive the console with
//! keys and collect the actions it hands on.

use std::sync::{Arc, Mutex};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use guardroom::app::{Access, ActError, App, Current};
use guardroom::domain::EventBody;
use guardroom::domain::alarm::{Action, ActionKind};
use guardroom::domain::care::{
    CareEvent, CareEventKind, CareSettings, CheckInVia, Outcome, OutcomeRecord, parse_toml,
};
use guardroom::domain::operator::Role;
use guardroom::domain::privacy::DataKind;
use guardroom::domain::services::{CareRecord, ServiceSetup, Services};
use guardroom::domain::ticket::{
    Category, NewTicket, Reporter, SlaSettings, TicketAction, TicketActionKind, TicketEvent,
    Urgency,
};
use guardroom::i18n::Lang;
use guardroom::report::export::mask::Privacy;
use guardroom::report::handover::{Body, Sheet, ShiftRef, add_services};
use guardroom::theme::Theme;
use guardroom::ui::rows::{QueueLine, queue_lines, selected_line};
use guardroom::ui::sample::{sample_app, sample_now};
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
    ui.services.mine = true;
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
    assert!(message.text.contains("不允许"), "{}", message.text);
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
