//! View state, everything on screen besides the data: the current view, selection,
//! filters, sort and open dialogs. Changed only by the event loop.

use crate::domain::{DeviceKind, DeviceStatus};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum View {
    #[default]
    Overview,
    Devices,
    Detail,
    Help,
}

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
    pub view: View,
    /// The view to return to from help or detail.
    pub previous: View,
    /// Index into the filtered device list.
    pub selected: usize,
    /// Index into the overview's attention list.
    pub attention_selected: usize,
    pub filter: String,
    /// True while the operator types into the filter.
    pub editing_filter: bool,
    pub kind: Option<DeviceKind>,
    pub status: StatusFilter,
    pub building: Option<String>,
    pub sort: SortKey,
    /// The device shown in the detail view.
    pub detail: Option<String>,
    pub confirm_quit: bool,
    pub help_scroll: u16,
    pub quit: bool,
}

impl UiState {
    pub fn show(&mut self, view: View) {
        if view != self.view {
            if matches!(self.view, View::Overview | View::Devices) {
                self.previous = self.view;
            }
            self.view = view;
        }
    }

    pub fn back(&mut self) {
        match self.view {
            View::Detail | View::Help => self.view = self.previous,
            View::Devices => self.view = View::Overview,
            View::Overview => {}
        }
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
        self.building = match &self.building {
            None => buildings.first().cloned(),
            Some(current) => {
                let index = buildings.iter().position(|b| b == current);
                index.and_then(|i| buildings.get(i + 1)).cloned()
            }
        };
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
        assert_eq!(state.view, View::Overview);
    }
}
