//! Import of the residents registry from CSV, as exported from a
//! spreadsheet.
//!
//! The first row is the header and names the columns, in any order:
//!
//! | column | required | content |
//! |---|---|---|
//! | `id`, `name`, `building`, `room` | yes | as in [`Resident`] |
//! | `unit` | no | |
//! | `phone` | no | the resident's phone |
//! | `lives_alone` | no | `yes`/`no`, `true`/`false`, `1`/`0`, `是`/`否`; empty is no |
//! | `contact1_name`, `contact1_relation`, `contact1_phone` | no | the first emergency contact; also `contact2_…` and `contact3_…` |
//! | `check_in_start`, `check_in_end` | no | `HH:MM`, both or neither; the site's window when empty |
//! | `passive_sources` | no | separated by `;` |
//! | `notes` | no | ignored, for the spreadsheet's own remarks |
//!
//! Fields are separated by commas and may be quoted with `"` (a quote
//! inside is doubled). Lines end with LF or CRLF, blank lines are skipped,
//! and a UTF-8 byte order mark before the header is ignored. Rows are
//! numbered by the line on which they start, the header being row 1, so
//! that the numbers match what a text editor shows.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Time;

use super::resident::{EmergencyContact, Resident, parse_phone};
use super::window::CheckInWindow;

const REQUIRED: [&str; 4] = ["id", "name", "building", "room"];

const OPTIONAL: [&str; 16] = [
    "unit",
    "phone",
    "lives_alone",
    "contact1_name",
    "contact1_relation",
    "contact1_phone",
    "contact2_name",
    "contact2_relation",
    "contact2_phone",
    "contact3_name",
    "contact3_relation",
    "contact3_phone",
    "check_in_start",
    "check_in_end",
    "passive_sources",
    "notes",
];

/// A problem in one row of a CSV file, with its place and the fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("row {row}{}: {message}", place(.column, .column_name))]
pub struct RowError {
    /// Line on which the row starts; the header is row 1.
    pub row: usize,
    /// 1-based, when the problem is in one field.
    pub column: Option<usize>,
    pub column_name: Option<String>,
    pub message: String,
}

fn place(column: &Option<usize>, name: &Option<String>) -> String {
    match (column, name) {
        (Some(column), Some(name)) => format!(", column {column} ({name})"),
        (Some(column), None) => format!(", column {column}"),
        _ => String::new(),
    }
}

/// Parses a residents CSV file. Returns every resident, or every problem
/// found in any row: nothing is imported while one row is wrong.
pub fn parse_csv(text: &str) -> Result<Vec<Resident>, Vec<RowError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = split_records(text).map_err(|error| vec![error])?;
    let Some((header_row, header)) = records.first() else {
        return Err(vec![RowError {
            row: 1,
            column: None,
            column_name: None,
            message: format!(
                "the file is empty; the first row must name the columns, at least {}",
                REQUIRED.join(", ")
            ),
        }]);
    };

    let columns = read_header(*header_row, header)?;
    let mut residents = Vec::new();
    let mut errors = Vec::new();
    let mut ids = BTreeSet::new();
    for (row, fields) in &records[1..] {
        let reader = Row {
            row: *row,
            fields,
            columns: &columns,
        };
        match reader.resident() {
            Ok(resident) if !ids.insert(resident.id.clone()) => errors.push(reader.error(
                "id",
                format!(
                    "{:?} is used by an earlier row; ids must be unique",
                    resident.id
                ),
            )),
            Ok(resident) => residents.push(resident),
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }
    if errors.is_empty() {
        Ok(residents)
    } else {
        Err(errors)
    }
}

/// Column index by name, from the header row.
fn read_header(row: usize, header: &[String]) -> Result<BTreeMap<String, usize>, Vec<RowError>> {
    let mut columns = BTreeMap::new();
    let mut errors = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_lowercase();
        let known = REQUIRED.contains(&name.as_str()) || OPTIONAL.contains(&name.as_str());
        let error = |message: String| RowError {
            row,
            column: Some(i + 1),
            column_name: Some(name.clone()),
            message,
        };
        if !known {
            errors.push(error(format!(
                "unknown column {name:?}; the columns are {}, {}",
                REQUIRED.join(", "),
                OPTIONAL.join(", ")
            )));
        } else if columns.insert(name.clone(), i).is_some() {
            errors.push(error(format!("column {name:?} appears twice; keep one")));
        }
    }
    for name in REQUIRED {
        if !columns.contains_key(name) {
            errors.push(RowError {
                row,
                column: None,
                column_name: Some(name.into()),
                message: format!("the header has no {name:?} column; add it"),
            });
        }
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(errors)
    }
}

/// One data row and the header's columns.
struct Row<'a> {
    row: usize,
    fields: &'a [String],
    columns: &'a BTreeMap<String, usize>,
}

impl Row<'_> {
    fn error(&self, column: &str, message: String) -> RowError {
        RowError {
            row: self.row,
            column: self.columns.get(column).map(|i| i + 1),
            column_name: Some(column.to_owned()),
            message,
        }
    }

    /// Returns the trimmed field of a column, empty when the header lacks it.
    fn get(&self, column: &str) -> &str {
        self.columns
            .get(column)
            .and_then(|i| self.fields.get(*i))
            .map_or("", |field| field.trim())
    }

    fn resident(&self) -> Result<Resident, Vec<RowError>> {
        if self.fields.len() != self.columns.len() {
            return Err(vec![RowError {
                row: self.row,
                column: None,
                column_name: None,
                message: format!(
                    "has {} fields but the header has {} columns; fill in every column, leaving optional ones empty",
                    self.fields.len(),
                    self.columns.len()
                ),
            }]);
        }

        let mut errors = Vec::new();
        for name in REQUIRED {
            if self.get(name).is_empty() {
                errors.push(self.error(name, format!("{name} is empty; it is required")));
            }
        }
        let phone = self.phone("phone", &mut errors);
        let lives_alone = match self.get("lives_alone") {
            "" | "no" | "false" | "0" | "否" => false,
            "yes" | "true" | "1" | "是" => true,
            other => {
                errors.push(self.error(
                    "lives_alone",
                    format!("{other:?} is not yes or no; write yes, no, 是 or 否"),
                ));
                false
            }
        };
        let contacts = (1..=3)
            .filter_map(|n| self.contact(n, &mut errors))
            .collect();
        let check_in = self.window(&mut errors);
        let passive_sources = self
            .get("passive_sources")
            .split(';')
            .map(str::trim)
            .filter(|source| !source.is_empty())
            .map(str::to_owned)
            .collect();

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Resident {
            id: self.get("id").to_owned(),
            name: self.get("name").to_owned(),
            building: self.get("building").to_owned(),
            unit: self.get("unit").to_owned(),
            room: self.get("room").to_owned(),
            phone,
            lives_alone,
            contacts,
            check_in,
            passive_sources,
        })
    }

    fn phone(&self, column: &str, errors: &mut Vec<RowError>) -> Option<String> {
        let text = self.get(column);
        if text.is_empty() {
            return None;
        }
        match parse_phone(text) {
            Ok(phone) => Some(phone),
            Err(message) => {
                errors.push(self.error(column, message));
                None
            }
        }
    }

    fn contact(&self, n: u8, errors: &mut Vec<RowError>) -> Option<EmergencyContact> {
        let name_column = format!("contact{n}_name");
        let phone_column = format!("contact{n}_phone");
        let name = self.get(&name_column);
        let relation = self.get(&format!("contact{n}_relation"));
        let phone_text = self.get(&phone_column);
        if name.is_empty() && phone_text.is_empty() && relation.is_empty() {
            return None;
        }
        if name.is_empty() {
            errors.push(self.error(
                &name_column,
                format!("contact {n} has a phone or relation but no name; add the name"),
            ));
        }
        if phone_text.is_empty() {
            errors.push(self.error(
                &phone_column,
                format!("contact {n} has no phone; add the number"),
            ));
        }
        let phone = self.phone(&phone_column, errors)?;
        Some(EmergencyContact {
            name: name.to_owned(),
            relation: relation.to_owned(),
            phone,
        })
    }

    fn window(&self, errors: &mut Vec<RowError>) -> Option<CheckInWindow> {
        let start = self.time("check_in_start", errors);
        let end = self.time("check_in_end", errors);
        match (start?, end?) {
            (None, None) => None,
            (Some(start), Some(end)) => match CheckInWindow::new(start, end) {
                Ok(window) => Some(window),
                Err(message) => {
                    errors.push(self.error("check_in_end", message));
                    None
                }
            },
            (Some(_), None) => {
                errors.push(
                    self.error(
                        "check_in_end",
                        "check_in_start is given but check_in_end is empty; give both or neither"
                            .into(),
                    ),
                );
                None
            }
            (None, Some(_)) => {
                errors.push(
                    self.error(
                        "check_in_start",
                        "check_in_end is given but check_in_start is empty; give both or neither"
                            .into(),
                    ),
                );
                None
            }
        }
    }

    /// `Some(None)` for an empty field, `None` after an error.
    fn time(&self, column: &str, errors: &mut Vec<RowError>) -> Option<Option<Time>> {
        let text = self.get(column);
        if text.is_empty() {
            return Some(None);
        }
        match parse_time(text) {
            Some(time) => Some(Some(time)),
            None => {
                errors.push(self.error(
                    column,
                    format!("{text:?} is not a time of day; write HH:MM from 00:00 to 23:59, such as 09:30"),
                ));
                None
            }
        }
    }
}

/// Parses `H:MM` or `HH:MM` on the 24-hour clock.
fn parse_time(text: &str) -> Option<Time> {
    let (hours, minutes) = text.split_once(':')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || hours.len() > 2 || !digits(minutes) || minutes.len() != 2 {
        return None;
    }
    Time::new(hours.parse().ok()?, minutes.parse().ok()?, 0, 0).ok()
}

/// Splits the text into records of fields, each with the line on which it
/// starts. Blank lines are skipped.
fn split_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, RowError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();

    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' if quoted => quoted = false,
            '"' if field.is_empty() => quoted = true,
            '\n' if quoted => {
                line += 1;
                field.push('\n');
            }
            '\r' if !quoted && chars.peek() == Some(&'\n') => {}
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            '\n' => {
                fields.push(std::mem::take(&mut field));
                push_record(&mut records, start, std::mem::take(&mut fields));
                line += 1;
                start = line;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(RowError {
            row: start,
            column: Some(fields.len() + 1),
            column_name: None,
            message: "a quoted field is not closed; add the closing \"".into(),
        });
    }
    fields.push(field);
    push_record(&mut records, start, fields);
    Ok(records)
}

fn push_record(records: &mut Vec<(usize, Vec<String>)>, line: usize, fields: Vec<String>) {
    let blank = fields.len() == 1 && fields[0].trim().is_empty();
    if !blank {
        records.push((line, fields));
    }
}
