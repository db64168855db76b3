//! Markdown: the report and handover sheets as headings, lists and tables.

use jiff::tz::TimeZone;

use super::Report;
use crate::i18n::Lang;
use crate::report::handover::{Body, Sheet};

/// Renders the whole report.
pub fn render(report: &Report) -> String {
    let lang = report.lang;
    let mut out = format!("# {}\n\n", escape(lang.t("report.title")));
    for (label, value) in report.header() {
        out.push_str(&format!("- **{}**: {}\n", escape(&label), escape(&value)));
    }

    out.push_str(&format!("\n## {}\n", escape(lang.t("report.stats"))));
    for (_, title, columns, rows) in report.stats_tables() {
        out.push_str(&format!("\n### {}\n\n", escape(&title)));
        push_table(&mut out, &columns, &rows, lang.t("report.none"));
    }

    let (columns, rows) = report.alarm_table();
    out.push_str(&format!("\n## {}\n\n", escape(lang.t("report.alarms"))));
    push_table(&mut out, &columns, &rows, lang.t("report.none"));

    let (columns, rows) = report.duty_table();
    out.push_str(&format!("\n## {}\n\n", escape(lang.t("report.duty_log"))));
    push_table(&mut out, &columns, &rows, lang.t("report.none"));

    for sheet in &report.sheets {
        out.push('\n');
        out.push_str(&sheet_with_level(sheet, lang, &report.tz, 2));
    }
    out
}

/// Renders one handover sheet, its title as a level-1 heading.
pub fn sheet(sheet: &Sheet, lang: Lang, tz: &TimeZone) -> String {
    sheet_with_level(sheet, lang, tz, 1)
}

fn sheet_with_level(sheet: &Sheet, lang: Lang, tz: &TimeZone, level: usize) -> String {
    let hashes = "#".repeat(level);
    let mut out = format!(
        "{hashes} {}\n\n",
        escape(&lang.tf("report.sheet_title", &[("shift", &sheet.shift.id)]))
    );
    for (label, value) in super::text::sheet_header(sheet, lang, tz) {
        out.push_str(&format!("- **{}**: {}\n", escape(&label), escape(&value)));
    }
    for section in &sheet.sections {
        out.push_str(&format!("\n{hashes}# {}\n\n", escape(&section.title)));
        match &section.body {
            Body::Table {
                columns,
                rows,
                empty,
            } => push_table(&mut out, columns, rows, empty),
            Body::Figures(figures) => {
                for (label, value) in figures {
                    out.push_str(&format!("- {}: {}\n", escape(label), escape(value)));
                }
            }
            Body::Signatures(lines) => {
                for line in lines {
                    out.push_str(&format!(
                        "- {}: {}\n",
                        escape(&line.label),
                        escape(&super::text::signature_text(line, lang))
                    ));
                }
            }
        }
    }
    out
}

fn push_table(out: &mut String, columns: &[String], rows: &[Vec<String>], empty: &str) {
    if rows.is_empty() {
        out.push_str(&format!("{}\n", escape(empty)));
        return;
    }
    let cells = |cells: &[String]| {
        let escaped: Vec<String> = cells.iter().map(|cell| escape(cell)).collect();
        format!("| {} |\n", escaped.join(" | "))
    };
    out.push_str(&cells(columns));
    out.push_str(&format!("|{}\n", " --- |".repeat(columns.len())));
    for row in rows {
        out.push_str(&cells(row));
    }
}

/// Escapes the characters that Markdown would read as markup, and folds
/// line breaks so that a cell stays on its row.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}
