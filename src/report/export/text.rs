//! Plain text lines of a handover sheet for a terminal, fitted to a width
//! in terminal cells (a Chinese character takes two).

use jiff::tz::TimeZone;

use super::log_head_text;
use crate::i18n::Lang;
use crate::i18n::width::{cells, pad, truncate};
use crate::report::handover::local_time;
use crate::report::handover::{Body, Sheet, Signature};

/// Columns are never cut below this many cells.
const MIN_COLUMN: usize = 4;

/// Label and value pairs at the top of a sheet: site, shift, generation
/// time and log head.
pub fn sheet_header(sheet: &Sheet, lang: Lang, tz: &TimeZone) -> Vec<(String, String)> {
    let shift = format!(
        "{} ({} – {})",
        sheet.shift.id,
        local_time(sheet.shift.start, tz),
        local_time(sheet.shift.end, tz)
    );
    vec![
        (lang.t("report.site").to_owned(), sheet.site.clone()),
        (lang.t("report.shift").to_owned(), shift),
        (
            lang.t("report.generated").to_owned(),
            local_time(sheet.generated_at, tz),
        ),
        (
            lang.t("report.log_head").to_owned(),
            log_head_text(&sheet.log_head, lang),
        ),
    ]
}

/// Returns a signature as `NAME  TIME`, or a blank line to sign on.
pub fn signature_text(line: &Signature, lang: Lang) -> String {
    match (&line.operator, &line.at) {
        (Some(operator), Some(at)) => format!("{operator}  {at}"),
        _ => lang.t("report.unsigned").to_owned(),
    }
}

/// Renders `sheet` as lines of at most `width` cells.
pub fn sheet_lines(sheet: &Sheet, width: usize, lang: Lang, tz: &TimeZone) -> Vec<String> {
    let width = width.max(20);
    let mut lines = Vec::new();
    let title = lang.tf("report.sheet_title", &[("shift", &sheet.shift.id)]);
    lines.push(truncate(&title, width));
    lines.push("═".repeat(width));
    for (label, value) in sheet_header(sheet, lang, tz) {
        lines.push(truncate(&format!("{label}: {value}"), width));
    }

    for section in &sheet.sections {
        lines.push(String::new());
        lines.push(truncate(&section.title, width));
        lines.push("─".repeat(cells(&section.title).min(width)));
        match &section.body {
            Body::Table {
                columns,
                rows,
                empty,
            } => {
                if rows.is_empty() {
                    lines.push(truncate(&format!("  {empty}"), width));
                } else {
                    lines.extend(table_lines(columns, rows, width));
                }
            }
            Body::Figures(figures) => {
                let label_width = figures
                    .iter()
                    .map(|(label, _)| cells(label))
                    .max()
                    .unwrap_or(0);
                for (label, value) in figures {
                    let line = format!("  {}  {value}", pad(label, label_width));
                    lines.push(truncate(&line, width));
                }
            }
            Body::Signatures(signatures) => {
                for line in signatures {
                    let text = format!("  {}: {}", line.label, signature_text(line, lang));
                    lines.push(truncate(&text, width));
                }
            }
        }
    }
    lines
}

/// Lays out a table in `width` cells: every column gets its widest cell,
/// and the widest columns give way until the row fits.
fn table_lines(columns: &[String], rows: &[Vec<String>], width: usize) -> Vec<String> {
    let count = columns.len();
    let mut widths: Vec<usize> = columns.iter().map(|column| cells(column)).collect();
    for row in rows {
        for (index, cell) in row.iter().enumerate().take(count) {
            widths[index] = widths[index].max(cells(cell));
        }
    }

    // Two cells of indent and one space between columns.
    let available = width.saturating_sub(2 + count.saturating_sub(1));
    while widths.iter().sum::<usize>() > available {
        let (widest, size) = widths
            .iter()
            .copied()
            .enumerate()
            .max_by_key(|(_, size)| *size)
            .unwrap_or((0, 0));
        if size <= MIN_COLUMN {
            break;
        }
        widths[widest] = size - 1;
    }

    let line = |cells_in_row: &[String]| {
        let padded: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(index, size)| pad(cells_in_row.get(index).map_or("", String::as_str), *size))
            .collect();
        truncate(format!("  {}", padded.join(" ")).trim_end(), width)
    };
    let mut lines = vec![line(columns)];
    for row in rows {
        lines.push(line(row));
    }
    lines
}
