//! View state, everything on screen besides the data: the current view, selection,
//! filters, sort and open dialogs. Changed only by the event loop.

use std::collections::{BTreeSet, VecDeque};

use jiff::Timestamp;
use uuid::Uuid;

use super::dialog::Dialog;
use super::login::LoginForm;
use crate::domain::alarm::queue::Filter;
use crate::domain::alarm::{Condition, Priority, Shown};
use crate::domain::{DeviceKind, DeviceStatus};
use crate::i18n::Lang;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum View {
    /// The alarm queue, the home screen.
    #[default]
    Alarms,
    Overview,
    Devices,
    /// One device.
    Detail,
    /// One alarm, open or closed.
    AlarmDetail,
    /// Closed alarms, newest first.
    History,
    Help,
    /// The duty log browser, with statistics and export.
    Log,
    /// The handover sheet of a shift, and its signing.
    Handover,
    /// Repair tickets: the unassigned queue or my tickets.
    Tickets,
    /// One ticket with its history.
    Ticket,
    /// Today's eldercare board.
    Board,
    /// One resident's check-in history.
    Resident,
}

impl View {
    /// True for the views reached from the tab line, to which detail and
    /// help return.
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Self::Alarms
                | Self::Overview
                | Self::Devices
                | Self::History
                | Self::Log
                | Self::Tickets
                | Self::Board
        )
    }
}

/// Whether the queue folds repeats of one condition in one zone into a line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Grouping {
    /// Grouped while a flood is in progress.
    #[default]
    Auto,
    On,
    Off,
}

impl Grouping {
    pub fn next(self) -> Self {
        match self {
            Self::Auto => Self::On,
            Self::On => Self::Off,
            Self::Off => Self::Auto,
        }
    }

    /// Returns whether rows are grouped, given whether a flood is in progress.
    pub fn grouped(self, in_flood: bool) -> bool {
        match self {
            Self::Auto => in_flood,
            Self::On => true,
            Self::Off => false,
        }
    }
}

/// A group of repeats: condition, building and zone.
pub type GroupKey = (Condition, String, String);

/// The queue row the selection is on, kept by identity rather than index,
/// so that an alarm arriving above the selection never moves an action onto
/// another alarm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    Alarm(u64),
    Group(GroupKey),
}

/// A yes/no question on screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Question {
    Quit,
    /// Acknowledge these alarms; only `y` confirms.
    Acknowledge {
        ids: Vec<u64>,
        p1: usize,
    },
}

/// A line of feedback above the footer: a confirmation or a refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub error: bool,
    pub at: Timestamp,
}

/// The latest notice that could not reach the desktop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Banner {
    pub summary: String,
    pub body: String,
    /// Notices sent to the fallback so far.
    pub count: u64,
    /// True when desktop notifications are turned off in the configuration,
    /// rather than failing.
    pub desktop_off: bool,
    /// When the banner appeared; it hides itself after [`BANNER_SECS`].
    pub at: Timestamp,
}

/// Seconds the notification banner stays on screen unless dismissed.
pub const BANNER_SECS: i64 = 60;

/// Seconds a confirmation stays on screen; refusals stay until the next key.
pub const CONFIRMATION_SECS: i64 = 10;

/// Submitted actions remembered to name the alarm in a late refusal.
const SUBMITTED_KEPT: usize = 256;

/// Status filter of the device list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatusFilter {
    #[default]
    All,
    /// Anything that needs a look: not normal and not merely open.
    Abnormal,
    Only(DeviceStatus),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    /// Most urgent status first, then location.
    #[default]
    Status,
    Location,
    Name,
    /// Longest silence first.
    Age,
}

impl SortKey {
    pub fn next(self) -> Self {
        match self {
            Self::Status => Self::Location,
            Self::Location => Self::Name,
            Self::Name => Self::Age,
            Self::Age => Self::Status,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::Status => "sort.status",
            Self::Location => "sort.location",
            Self::Name => "sort.name",
            Self::Age => "sort.age",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct UiState {
    /// The language of messages the event loop writes (refusals,
    /// confirmations); the same as the frames' language.
    pub lang: Lang,
    pub view: View,
    /// The view to return to from help or detail.
    pub previous: View,
    /// The view help returns to.
    pub before_help: View,
    /// Index into the filtered device list.
    pub selected: usize,
    /// Index into the overview's attention list.
    pub attention_selected: usize,
    pub filter: String,
    /// True while the operator types into the filter of the current view.
    pub editing_filter: bool,
    pub kind: Option<DeviceKind>,
    pub status: StatusFilter,
    pub building: Option<String>,
    pub sort: SortKey,
    /// The device shown in the detail view.
    pub detail: Option<String>,
    /// The question on screen, if any.
    pub confirm: Option<Question>,
    pub help_scroll: u16,
    pub quit: bool,

    /// The queue row last selected, by identity.
    pub alarm_cursor: Option<Cursor>,
    /// Index of the selection, used when the selected row has gone.
    pub alarm_selected: usize,
    pub alarm_filter: Filter,
    pub grouping: Grouping,
    /// Groups opened to show their members.
    pub expanded: BTreeSet<GroupKey>,
    /// The alarm shown in the alarm detail.
    pub alarm_detail: Option<u64>,
    pub alarm_scroll: u16,
    pub history_selected: usize,
    pub history_filter: String,
    pub dialog: Option<Dialog>,
    pub message: Option<Message>,
    pub banner: Option<Banner>,
    /// Fallback notices already shown in a banner.
    pub banner_seen: u64,
    /// Recently submitted actions and the alarm each was for.
    pub submitted: VecDeque<(Uuid, Option<u64>)>,
    /// The login and lock screen's fields.
    pub login: LoginForm,
    /// The last key press, for the idle lock.
    pub last_input: Option<Timestamp>,
    /// The note dialog, when open.
    pub note: Option<super::note::NoteDialog>,
    /// The handover being shown or signed.
    pub handover: Option<super::handover::HandoverFlow>,
    /// The log browser.
    pub review: super::review::ReviewState,
    /// The ticket and eldercare screens.
    pub services: super::services::ServicesState,
}

impl UiState {
    pub fn show(&mut self, view: View) {
        if view == self.view {
            return;
        }
        if view == View::Help {
            self.before_help = self.view;
        }
        if self.view.is_list() {
            self.previous = self.view;
        }
        self.view = view;
        self.editing_filter = false;
    }

    pub fn back(&mut self) {
        self.editing_filter = false;
        match self.view {
            View::Help => self.view = self.before_help,
            View::Detail | View::AlarmDetail | View::Handover => self.view = self.previous,
            View::Ticket => self.view = View::Tickets,
            View::Resident => self.view = View::Board,
            View::Overview
            | View::Devices
            | View::History
            | View::Log
            | View::Tickets
            | View::Board => self.view = View::Alarms,
            View::Alarms => {}
        }
    }

    /// Returns the text filter of the current view, if it has one.
    pub fn filter_text_mut(&mut self) -> Option<&mut String> {
        match self.view {
            View::Devices => Some(&mut self.filter),
            View::Alarms => Some(&mut self.alarm_filter.text),
            View::History => Some(&mut self.history_filter),
            View::Log => Some(&mut self.review.text),
            _ => None,
        }
    }

    /// Returns the text filter of the current view, or an empty one.
    pub fn filter_text(&self) -> &str {
        match self.view {
            View::Devices => &self.filter,
            View::Alarms => &self.alarm_filter.text,
            View::History => &self.history_filter,
            View::Log => &self.review.text,
            _ => "",
        }
    }

    /// Puts the selection of the current list back on its first row.
    pub fn reset_selection(&mut self) {
        match self.view {
            View::Alarms => {
                self.alarm_cursor = None;
                self.alarm_selected = 0;
            }
            View::History => self.history_selected = 0,
            View::Log => self.review.selected = 0,
            _ => self.selected = 0,
        }
    }

    /// Steps the queue's priority filter: all, P1 … P4, all again.
    pub fn cycle_priority(&mut self) {
        let filter = &mut self.alarm_filter;
        filter.priority = match filter.priority {
            None => Some(Priority::P1),
            Some(priority) => Priority::ALL.get(priority.index() + 1).copied(),
        };
        self.reset_selection();
    }

    /// Steps the queue's state filter through every open state. Without
    /// one the queue lists the states that need handling; shelved,
    /// suppressed and out-of-service alarms are listed only when chosen.
    pub fn cycle_alarm_state(&mut self) {
        let open: Vec<Shown> = Shown::ALL
            .into_iter()
            .filter(|shown| *shown != Shown::Closed)
            .collect();
        let filter = &mut self.alarm_filter;
        filter.shown = match filter.shown {
            None => open.first().copied(),
            Some(shown) => {
                let index = open.iter().position(|s| *s == shown).unwrap_or(open.len());
                open.get(index + 1).copied()
            }
        };
        self.reset_selection();
    }

    /// Steps the queue's building filter through `buildings`, then back to all.
    pub fn cycle_alarm_building(&mut self, buildings: &[String]) {
        self.alarm_filter.building = next_building(self.alarm_filter.building.as_ref(), buildings);
        self.reset_selection();
    }

    pub fn clear_alarm_filters(&mut self) {
        self.alarm_filter = Filter::default();
        self.reset_selection();
    }

    /// Remembers a submitted action, to name its alarm if the recorder refuses it.
    pub fn remember_submitted(&mut self, id: Uuid, alarm: Option<u64>) {
        if self.submitted.len() == SUBMITTED_KEPT {
            self.submitted.pop_front();
        }
        self.submitted.push_back((id, alarm));
    }

    /// Returns the alarm a submitted action was for.
    pub fn submitted_alarm(&self, id: Uuid) -> Option<u64> {
        self.submitted
            .iter()
            .find(|(action, _)| *action == id)
            .and_then(|(_, alarm)| *alarm)
    }

    pub fn say(&mut self, text: String, now: Timestamp) {
        self.message = Some(Message {
            text,
            error: false,
            at: now,
        });
    }

    pub fn complain(&mut self, text: String, now: Timestamp) {
        self.message = Some(Message {
            text,
            error: true,
            at: now,
        });
    }

    /// Returns the message to draw at `now`: confirmations expire, refusals stay.
    pub fn message_at(&self, now: Timestamp) -> Option<&Message> {
        self.message.as_ref().filter(|message| {
            message.error || now.duration_since(message.at).as_secs() < CONFIRMATION_SECS
        })
    }

    /// Returns the notification banner to draw at `now`.
    pub fn banner_at(&self, now: Timestamp) -> Option<&Banner> {
        self.banner
            .as_ref()
            .filter(|banner| now.duration_since(banner.at).as_secs() < BANNER_SECS)
    }

    pub fn cycle_kind(&mut self) {
        self.kind = match self.kind {
            None => Some(DeviceKind::Door),
            Some(DeviceKind::Door) => Some(DeviceKind::Camera),
            Some(DeviceKind::Camera) => Some(DeviceKind::Detector),
            Some(DeviceKind::Detector) => Some(DeviceKind::Unknown),
            Some(DeviceKind::Unknown) => None,
        };
        self.selected = 0;
    }

    /// Steps the filter: all, abnormal, each status in turn, all again.
    pub fn cycle_status(&mut self) {
        self.status = match self.status {
            StatusFilter::All => StatusFilter::Abnormal,
            StatusFilter::Abnormal => StatusFilter::Only(DeviceStatus::ALL[0]),
            StatusFilter::Only(status) => {
                let index = DeviceStatus::ALL
                    .iter()
                    .position(|s| *s == status)
                    .unwrap_or(0);
                DeviceStatus::ALL
                    .get(index + 1)
                    .map_or(StatusFilter::All, |next| StatusFilter::Only(*next))
            }
        };
        self.selected = 0;
    }

    /// Steps through `buildings` (sorted), then back to all.
    pub fn cycle_building(&mut self, buildings: &[String]) {
        self.building = next_building(self.building.as_ref(), buildings);
        self.selected = 0;
    }

    pub fn clear_filters(&mut self) {
        self.filter.clear();
        self.kind = None;
        self.status = StatusFilter::All;
        self.building = None;
        self.selected = 0;
    }

    /// Moves a selection by `delta` rows within `len` rows.
    pub fn step(selected: &mut usize, delta: isize, len: usize) {
        if len == 0 {
            *selected = 0;
            return;
        }
        let target = (*selected as isize + delta).clamp(0, len as isize - 1);
        *selected = target as usize;
    }
}

/// Returns the building after `current` in `buildings`, and `None` (all)
/// after the last.
fn next_building(current: Option<&String>, buildings: &[String]) -> Option<String> {
    match current {
        None => buildings.first().cloned(),
        Some(current) => {
            let index = buildings.iter().position(|b| b == current);
            index.and_then(|i| buildings.get(i + 1)).cloned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_filter_cycles_back_to_all() {
        let mut state = UiState::default();
        let mut seen = 0;
        loop {
            state.cycle_status();
            seen += 1;
            if state.status == StatusFilter::All {
                break;
            }
            assert!(seen < 100, "status filter never returns to all");
        }
        assert_eq!(seen, DeviceStatus::ALL.len() + 2);
    }

    #[test]
    fn building_cycle_visits_each() {
        let buildings = vec!["1号楼".to_owned(), "2号楼".to_owned()];
        let mut state = UiState::default();
        state.cycle_building(&buildings);
        assert_eq!(state.building.as_deref(), Some("1号楼"));
        state.cycle_building(&buildings);
        assert_eq!(state.building.as_deref(), Some("2号楼"));
        state.cycle_building(&buildings);
        assert_eq!(state.building, None);
    }

    #[test]
    fn step_stays_in_range() {
        let mut selected = 0;
        UiState::step(&mut selected, -1, 5);
        assert_eq!(selected, 0);
        UiState::step(&mut selected, 10, 5);
        assert_eq!(selected, 4);
        UiState::step(&mut selected, 1, 0);
        assert_eq!(selected, 0);
    }

    #[test]
    fn back_returns_to_list() {
        let mut state = UiState::default();
        state.show(View::Devices);
        state.show(View::Detail);
        state.back();
        assert_eq!(state.view, View::Devices);
        state.back();
        assert_eq!(state.view, View::Alarms);
    }

    #[test]
    fn help_returns_to_alarm_detail() {
        let mut state = UiState::default();
        state.show(View::AlarmDetail);
        state.show(View::Help);
        state.back();
        assert_eq!(state.view, View::AlarmDetail);
        state.back();
        assert_eq!(state.view, View::Alarms);
    }

    #[test]
    fn priority_filter_cycles_back_to_all() {
        let mut state = UiState::default();
        let mut seen = Vec::new();
        for _ in 0..5 {
            state.cycle_priority();
            seen.push(state.alarm_filter.priority);
        }
        assert_eq!(
            seen,
            [
                Some(Priority::P1),
                Some(Priority::P2),
                Some(Priority::P3),
                Some(Priority::P4),
                None
            ]
        );
    }

    #[test]
    fn state_filter_visits_open_states() {
        let mut state = UiState::default();
        let mut seen = Vec::new();
        loop {
            state.cycle_alarm_state();
            match state.alarm_filter.shown {
                Some(shown) => seen.push(shown),
                None => break,
            }
            assert!(seen.len() < 20, "state filter never returns to all");
        }
        assert_eq!(seen.len(), Shown::ALL.len() - 1);
        assert!(!seen.contains(&Shown::Closed));
    }

    #[test]
    fn confirmations_expire_refusals_stay() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let later = now + jiff::SignedDuration::from_secs(CONFIRMATION_SECS);
        let mut state = UiState::default();
        state.say("done".into(), now);
        assert!(state.message_at(now).is_some());
        assert!(state.message_at(later).is_none());
        state.complain("refused".into(), now);
        assert!(state.message_at(later).is_some());
    }
}
