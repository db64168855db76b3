//! HTML: one self-contained file that prints on A4, with no external
//! assets. Every text is escaped.

use super::Report;
use crate::report::handover::{Body, Sheet};

/// Print and screen styles. Each handover sheet starts a new page, and
/// table rows and signature blocks are kept whole across page breaks.
const STYLE: &str = "
@page { size: A4; margin: 15mm 12mm 18mm 12mm; }
body { font-family: 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif;
       font-size: 10pt; color: #000; background: #fff; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 16pt; margin: 0 0 4mm; }
h2 { font-size: 13pt; margin: 6mm 0 2mm; border-bottom: 1px solid #444; }
h3 { font-size: 11pt; margin: 4mm 0 1mm; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm; }
th, td { border: 1px solid #888; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eee; }
tr, .signature { break-inside: avoid; page-break-inside: avoid; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.5mm 4mm; margin: 0 0 3mm; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
section.sheet { break-before: page; page-break-before: always; }
.signatures { display: flex; gap: 10mm; margin-top: 6mm; }
.signature { flex: 1; }
.signature .line { border-bottom: 1px solid #000; min-height: 9mm; padding-top: 3mm; }
.empty { color: #555; }
@media print { body { max-width: none; } }
";

/// Renders the whole report as one HTML document.
pub fn render(report: &Report) -> String {
    let lang = report.lang;
    let title = lang.t("report.title");
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        lang.code(),
        escape(&format!("{title} {}", report.range_label))
    );
    out.push_str(&format!("<h1>{}</h1>\n", escape(title)));
    push_facts(&mut out, &report.header());

    out.push_str(&format!("<h2>{}</h2>\n", escape(lang.t("report.stats"))));
    for (_, title, columns, rows) in report.stats_tables() {
        out.push_str(&format!("<h3>{}</h3>\n", escape(&title)));
        push_table(&mut out, &columns, &rows, lang.t("report.none"));
    }

    let (columns, rows) = report.alarm_table();
    out.push_str(&format!("<h2>{}</h2>\n", escape(lang.t("report.alarms"))));
    push_table(&mut out, &columns, &rows, lang.t("report.none"));

    let (columns, rows) = report.duty_table();
    out.push_str(&format!("<h2>{}</h2>\n", escape(lang.t("report.duty_log"))));
    push_table(&mut out, &columns, &rows, lang.t("report.none"));

    for sheet in &report.sheets {
        push_sheet(&mut out, sheet, report);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn push_sheet(out: &mut String, sheet: &Sheet, report: &Report) {
    let lang = report.lang;
    out.push_str("<section class=\"sheet\">\n");
    out.push_str(&format!(
        "<h2>{}</h2>\n",
        escape(&lang.tf("report.sheet_title", &[("shift", &sheet.shift.id)]))
    ));
    push_facts(out, &super::text::sheet_header(sheet, lang, &report.tz));
    for section in &sheet.sections {
        out.push_str(&format!("<h3>{}</h3>\n", escape(&section.title)));
        match &section.body {
            Body::Table {
                columns,
                rows,
                empty,
            } => push_table(out, columns, rows, empty),
            Body::Figures(figures) => push_facts(out, figures),
            Body::Signatures(lines) => {
                out.push_str("<div class=\"signatures\">\n");
                for line in lines {
                    let name = line.operator.as_deref().unwrap_or("");
                    let at = line.at.as_deref().unwrap_or("");
                    out.push_str(&format!(
                        "<div class=\"signature\"><div>{}</div><div class=\"line\">{}</div><div>{}: {}</div></div>\n",
                        escape(&line.label),
                        escape(name),
                        escape(lang.t("report.col_time")),
                        escape(at),
                    ));
                }
                out.push_str("</div>\n");
            }
        }
    }
    out.push_str("</section>\n");
}

fn push_facts(out: &mut String, facts: &[(String, String)]) {
    out.push_str("<dl class=\"facts\">\n");
    for (label, value) in facts {
        out.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            escape(label),
            escape(value)
        ));
    }
    out.push_str("</dl>\n");
}

fn push_table(out: &mut String, columns: &[String], rows: &[Vec<String>], empty: &str) {
    if rows.is_empty() {
        out.push_str(&format!("<p class=\"empty\">{}</p>\n", escape(empty)));
        return;
    }
    out.push_str("<table>\n<thead><tr>");
    for column in columns {
        out.push_str(&format!("<th>{}</th>", escape(column)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            out.push_str(&format!("<td>{}</td>", escape(cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
