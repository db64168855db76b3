//! Text measured in terminal cells, not bytes or chars: a Chinese character
//! takes two cells, and tables must still line up.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Width of `text` in terminal cells.
pub fn cells(text: &str) -> usize {
    text.width()
}

/// Cuts `text` to at most `max` cells, ending in `…` when something was cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Pads (or cuts) `text` on the right to exactly `width` cells.
pub fn pad(text: &str, width: usize) -> String {
    let mut out = truncate(text, width);
    let used = out.width();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_counts_double() {
        assert_eq!(cells("东门"), 4);
        assert_eq!(cells("A1"), 2);
    }

    #[test]
    fn truncate_respects_cells() {
        assert_eq!(truncate("一号楼东门", 5), "一号…");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn pad_fills_to_width() {
        assert_eq!(pad("东门", 6), "东门  ");
        assert_eq!(cells(&pad("一号楼东门", 5)), 5);
        assert_eq!(cells(&pad("一号楼东门", 6)), 6);
    }
}
