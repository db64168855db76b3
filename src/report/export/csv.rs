//! CSV: one row per log entry, for spreadsheets.

use super::Report;

/// The UTF-8 byte-order mark, which tells spreadsheet programs that expect a
/// legacy code page to read the file as UTF-8 (Chinese text included).
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Renders the log rows of `report`: local time, shift id, type, priority,
/// source, operator, text, under a header row in the report's language.
pub fn render(report: &Report, bom: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(BOM);
    }
    let mut writer = csv::Writer::from_writer(out);
    let t = |key: &str| report.lang.t(&format!("report.col_{key}"));
    writer.write_record(
        [
            "time", "shift", "type", "priority", "source", "operator", "text",
        ]
        .map(t),
    )?;
    for row in &report.log {
        writer.write_record([
            &row.time,
            &row.shift,
            &row.kind,
            &row.priority,
            &row.source,
            &row.operator,
            &row.text,
        ])?;
    }
    writer.flush()?;
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}
