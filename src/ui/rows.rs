//! Data to rows: the filtered, sorted device list, alarm queue and closed
//! alarms the tables draw. Pure functions of the app state, the view state
//! and the time.

use jiff::Timestamp;

use super::state::{Cursor, GroupKey, SortKey, StatusFilter, UiState};
use crate::app::App;
use crate::domain::alarm::queue::{self, Filter, Row};
use crate::domain::alarm::{Alarm, Condition, Shown};
use crate::domain::{Device, DeviceStatus};
use crate::i18n::Lang;

/// One device as a list shows it.
#[derive(Clone, Debug)]
pub struct DeviceRow<'a> {
    pub device: &'a Device,
    pub status: DeviceStatus,
    /// Position in the projection's map, which is ordered by id: comparing
    /// it is the cheap way to compare ids.
    pub id_rank: u32,
}

/// Returns the devices that pass the view's filters, sorted by its sort key.
pub fn device_rows<'a>(app: &'a App, ui: &UiState, now: Timestamp) -> Vec<DeviceRow<'a>> {
    let mut rows = filtered(app, ui, now);
    rows.sort_unstable_by(|a, b| compare(ui.sort, a, b));
    rows
}

/// Returns the first `count` rows of [`device_rows`] and the total, without sorting
/// the rows past them: a frame shows a screenful, not ten thousand rows.
pub fn device_rows_head<'a>(
    app: &'a App,
    ui: &UiState,
    now: Timestamp,
    count: usize,
) -> (usize, Vec<DeviceRow<'a>>) {
    let rows = filtered(app, ui, now);
    let total = rows.len();
    (total, head(rows, count, |a, b| compare(ui.sort, a, b)))
}

/// Sorts only the smallest `count` rows: a linear selection first, then a
/// sort of what is left.
fn head<'a>(
    mut rows: Vec<DeviceRow<'a>>,
    count: usize,
    order: impl Fn(&DeviceRow<'a>, &DeviceRow<'a>) -> std::cmp::Ordering,
) -> Vec<DeviceRow<'a>> {
    if count == 0 {
        return Vec::new();
    }
    if rows.len() > count {
        rows.select_nth_unstable_by(count - 1, &order);
        rows.truncate(count);
    }
    rows.sort_unstable_by(&order);
    rows
}

fn filtered<'a>(app: &'a App, ui: &UiState, now: Timestamp) -> Vec<DeviceRow<'a>> {
    let needle = ui.filter.trim();
    app.projection
        .devices
        .values()
        .enumerate()
        .filter(|(_, device)| ui.kind.is_none_or(|kind| device.spec.kind == kind))
        .filter(|(_, device)| {
            ui.building
                .as_ref()
                .is_none_or(|b| device.spec.building == *b)
        })
        .filter(|(_, device)| needle.is_empty() || matches_text(device, needle))
        .map(|(rank, device)| DeviceRow {
            device,
            status: app.status_of(device, now),
            id_rank: rank as u32,
        })
        .filter(|row| match ui.status {
            StatusFilter::All => true,
            StatusFilter::Abnormal => row.status.is_abnormal(),
            StatusFilter::Only(status) => row.status == status,
        })
        .collect()
}

fn compare(sort: SortKey, a: &DeviceRow, b: &DeviceRow) -> std::cmp::Ordering {
    match sort {
        SortKey::Status => a.status.cmp(&b.status).then_with(|| location_order(a, b)),
        SortKey::Location => location_order(a, b),
        SortKey::Name => natural_order(&a.device.spec.name, &b.device.spec.name)
            .then_with(|| a.id_rank.cmp(&b.id_rank)),
        // Never heard first, then the longest silence.
        SortKey::Age => a
            .device
            .last_seen
            .cmp(&b.device.last_seen)
            .then_with(|| a.id_rank.cmp(&b.id_rank)),
    }
}

/// Devices that need a look, most urgent first, for the overview: the
/// total and the first `count`.
pub fn attention_rows(app: &App, now: Timestamp, count: usize) -> (usize, Vec<DeviceRow<'_>>) {
    let rows: Vec<DeviceRow<'_>> = app
        .projection
        .devices
        .values()
        .enumerate()
        .map(|(rank, device)| DeviceRow {
            device,
            status: app.status_of(device, now),
            id_rank: rank as u32,
        })
        .filter(|row| row.status.is_abnormal())
        .collect();
    let total = rows.len();
    (
        total,
        head(rows, count, |a, b| compare(SortKey::Status, a, b)),
    )
}

/// Lists the buildings named by devices, in natural order.
pub fn buildings(app: &App) -> Vec<String> {
    let mut names: Vec<String> = app
        .projection
        .devices
        .values()
        .map(|device| device.spec.building.clone())
        .filter(|name| !name.is_empty())
        .collect();
    names.sort_by(|a, b| natural_order(a, b));
    names.dedup();
    names
}

/// One line of the alarm queue.
#[derive(Clone, Debug, PartialEq)]
pub enum QueueLine<'a> {
    /// An alarm; `member` when it is listed inside an opened group.
    Alarm { alarm: &'a Alarm, member: bool },
    /// Repeats of one condition in one zone.
    Group {
        key: GroupKey,
        /// The member that sorts first; it stands for the group.
        first: &'a Alarm,
        members: Vec<&'a Alarm>,
        unacknowledged: usize,
        expanded: bool,
    },
}

impl<'a> QueueLine<'a> {
    /// Returns the alarm that represents the line.
    pub fn lead(&self) -> &'a Alarm {
        match self {
            Self::Alarm { alarm, .. } => alarm,
            Self::Group { first, .. } => first,
        }
    }

    /// Returns every alarm the line covers.
    pub fn members(&self) -> Vec<&'a Alarm> {
        match self {
            Self::Alarm { alarm, .. } => vec![alarm],
            Self::Group { members, .. } => members.clone(),
        }
    }

    pub fn cursor(&self) -> Cursor {
        match self {
            Self::Alarm { alarm, .. } => Cursor::Alarm(alarm.id),
            Self::Group { key, .. } => Cursor::Group(key.clone()),
        }
    }
}

/// Returns the alarm queue as drawn: [`queue::rows`] with the view's filter,
/// grouped according to [`UiState::grouping`], with the members of opened
/// groups listed under them.
pub fn queue_lines<'a>(app: &'a App, ui: &UiState) -> Vec<QueueLine<'a>> {
    let book = &app.projection.alarms;
    let grouped = ui.grouping.grouped(book.in_flood());
    let filter = with_condition_labels(&ui.alarm_filter, ui.lang);
    let rows = queue::rows(book, &filter, grouped);
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        match row {
            Row::Alarm(alarm) => lines.push(QueueLine::Alarm {
                alarm,
                member: false,
            }),
            Row::Group {
                condition,
                building,
                zone,
                first,
                members,
                unacknowledged,
            } => {
                let key = (condition, building.to_owned(), zone.to_owned());
                let expanded = ui.expanded.contains(&key);
                let listed = if expanded {
                    members.clone()
                } else {
                    Vec::new()
                };
                lines.push(QueueLine::Group {
                    key,
                    first,
                    members,
                    unacknowledged,
                    expanded,
                });
                lines.extend(listed.into_iter().map(|alarm| QueueLine::Alarm {
                    alarm,
                    member: true,
                }));
            }
        }
    }
    lines
}

/// Adds to a text filter the conditions whose name, as shown in `lang`,
/// contains the text, so that `/火警` finds fire alarms.
pub fn with_condition_labels(filter: &Filter, lang: Lang) -> std::borrow::Cow<'_, Filter> {
    if filter.text.is_empty() {
        return std::borrow::Cow::Borrowed(filter);
    }
    let needle = filter.text.to_lowercase();
    let mut filter = filter.clone();
    filter.text_conditions = Condition::ALL
        .into_iter()
        .filter(|condition| {
            lang.t(&format!("condition.{}", condition.as_str()))
                .to_lowercase()
                .contains(&needle)
        })
        .collect();
    std::borrow::Cow::Owned(filter)
}

/// Returns the index of the selected line: the line the cursor names, or
/// the last selected index when that line has gone.
pub fn selected_line(lines: &[QueueLine], ui: &UiState) -> usize {
    let by_identity = ui
        .alarm_cursor
        .as_ref()
        .and_then(|cursor| lines.iter().position(|line| line.cursor() == *cursor));
    by_identity.unwrap_or_else(|| ui.alarm_selected.min(lines.len().saturating_sub(1)))
}

/// Pins the selection to the alarm or group it shows now. When the selected
/// alarm leaves the queue, the selection falls back to the line at the same
/// index. Pinning it there keeps later arrivals from moving the highlight
/// onto other alarms while the guard's hand is on `a` or `r`.
pub fn pin_selection(app: &App, ui: &mut UiState) {
    let lines = queue_lines(app, ui);
    if lines.is_empty() {
        return;
    }
    let selected = selected_line(&lines, ui);
    ui.alarm_selected = selected;
    ui.alarm_cursor = lines.get(selected).map(QueueLine::cursor);
}

/// Counts the open alarms the queue would list without the view's filters
/// but hides with them, and how many of those are P1.
pub fn hidden_alarms(app: &App, filter: &Filter) -> (usize, usize) {
    if filter.is_empty() {
        return (0, 0);
    }
    let unfiltered = Filter::default();
    app.projection
        .alarms
        .open
        .values()
        .filter(|alarm| unfiltered.matches(alarm) && !filter.matches(alarm))
        .fold((0, 0), |(all, p1), alarm| {
            (
                all + 1,
                p1 + usize::from(alarm.priority == crate::domain::alarm::Priority::P1),
            )
        })
}

/// Returns the closed alarms, newest first, that match the history view's
/// text filter.
pub fn history_rows<'a>(app: &'a App, ui: &UiState) -> Vec<&'a Alarm> {
    let filter = Filter {
        shown: Some(Shown::Closed),
        text: ui.history_filter.trim().to_owned(),
        ..Filter::default()
    };
    app.projection
        .alarms
        .closed
        .iter()
        .rev()
        .filter(|alarm| filter.matches(alarm))
        .collect()
}

/// Lists the buildings of open alarms, in natural order.
pub fn alarm_buildings(app: &App) -> Vec<String> {
    let mut names: Vec<String> = app
        .projection
        .alarms
        .open
        .values()
        .map(|alarm| alarm.building.clone())
        .filter(|name| !name.is_empty())
        .collect();
    names.sort_by(|a, b| natural_order(a, b));
    names.dedup();
    names
}

fn matches_text(device: &Device, needle: &str) -> bool {
    [
        &device.spec.id,
        &device.spec.name,
        &device.spec.building,
        &device.spec.zone,
    ]
    .iter()
    .any(|field| contains_ignoring_ascii_case(field, needle))
}

/// Substring search that ignores ASCII case and allocates nothing; Chinese
/// text has no case, so this is the whole of case folding the filter needs.
fn contains_ignoring_ascii_case(haystack: &str, needle: &str) -> bool {
    let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
    needle.len() <= haystack.len()
        && haystack
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

fn location_order(a: &DeviceRow, b: &DeviceRow) -> std::cmp::Ordering {
    let (x, y) = (&a.device.spec, &b.device.spec);
    natural_order(&x.building, &y.building)
        .then_with(|| natural_order(&x.zone, &y.zone))
        .then_with(|| a.id_rank.cmp(&b.id_rank))
}

/// Orders names with numbers the way people read them: `2号楼` before
/// `10号楼`. Runs of ASCII digits compare by value, everything else by char.
pub fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    // In a sort, many comparisons are between equal names (same building).
    if a == b {
        return std::cmp::Ordering::Equal;
    }
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (a_digits, a_rest) = split_digits(a);
                let (b_digits, b_rest) = split_digits(b);
                let a_trimmed = a_digits.trim_start_matches('0');
                let b_trimmed = b_digits.trim_start_matches('0');
                let order = a_trimmed
                    .len()
                    .cmp(&b_trimmed.len())
                    .then_with(|| a_trimmed.cmp(b_trimmed));
                if order != std::cmp::Ordering::Equal {
                    return order;
                }
                (a, b) = (a_rest, b_rest);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
            }
        }
    }
}

fn split_digits(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_search() {
        assert!(contains_ignoring_ascii_case("B2-Door-Garage", "door-g"));
        assert!(contains_ignoring_ascii_case("2号楼车库门", "车库"));
        assert!(!contains_ignoring_ascii_case("gate", "gates"));
    }

    #[test]
    fn numbers_sort_by_value() {
        let mut names = vec!["10号楼", "2号楼", "1号楼", "2号楼B", "02号楼"];
        names.sort_by(|a, b| natural_order(a, b));
        assert_eq!(names, ["1号楼", "2号楼", "02号楼", "2号楼B", "10号楼"]);
    }

    #[test]
    fn head_matches_full_sort() {
        let app = crate::ui::sample::large_app(500);
        let ui = UiState::default();
        let now = crate::ui::sample::sample_now();
        let full = device_rows(&app, &ui, now);
        let (total, top) = device_rows_head(&app, &ui, now, 37);
        assert_eq!(total, full.len());
        let full_ids: Vec<&str> = full.iter().take(37).map(|row| row.device.id()).collect();
        let top_ids: Vec<&str> = top.iter().map(|row| row.device.id()).collect();
        assert_eq!(top_ids, full_ids);
    }
}
