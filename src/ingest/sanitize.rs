//! Cleaning of strings that come from the network before they are stored or
//! drawn: a device name must not be able to move the cursor, recolour the
//! screen or reverse the text around it.

/// Maximum length of a string taken from a payload, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// Removes control characters, terminal escape sequences and bidirectional
/// overrides, and trims the result to [`MAX_TEXT_CHARS`].
pub fn sanitize(input: &str) -> String {
    let mut out = String::with_capacity(input.len().min(MAX_TEXT_CHARS * 4));
    let mut chars = input.chars().peekable();
    let mut kept = 0;

    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI and OSC introducers start sequences of their own.
            '\u{9b}' => skip_until_final(&mut chars),
            '\u{9d}' => skip_string(&mut chars),
            c if is_removed(c) => {}
            c => {
                if kept == MAX_TEXT_CHARS {
                    break;
                }
                out.push(c);
                kept += 1;
            }
        }
    }
    out.trim().to_owned()
}

/// True for characters that are never kept.
fn is_removed(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional embeddings, overrides and isolates, and the marks.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
            // Zero-width characters and the byte-order mark.
            | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}'
        )
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Skips the rest of a sequence that began with ESC.
fn skip_escape(chars: &mut Chars) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            skip_until_final(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        Some(_) => {
            // Two-character sequences such as ESC c (reset) or ESC 7.
            chars.next();
        }
        None => {}
    }
}

/// Skips a CSI sequence up to and including its final byte (0x40..=0x7e).
fn skip_until_final(chars: &mut Chars) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// Skips an OSC/DCS string up to BEL or ESC \ (string terminator).
fn skip_string(chars: &mut Chars) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

/// Formats a short hex preview of a payload for the log: the first bytes only.
pub fn hex_preview(payload: &[u8]) -> String {
    const PREVIEW_BYTES: usize = 24;
    let mut text: String = payload
        .iter()
        .take(PREVIEW_BYTES)
        .map(|byte| format!("{byte:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    if payload.len() > PREVIEW_BYTES {
        text.push_str(&format!(" … ({} bytes)", payload.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_kept() {
        assert_eq!(sanitize("3号楼 东门 Door-2"), "3号楼 东门 Door-2");
    }

    #[test]
    fn control_characters_removed() {
        assert_eq!(sanitize("a\u{0}b\u{7}c\nd\te\r"), "abcde");
    }

    #[test]
    fn csi_sequences_removed() {
        assert_eq!(sanitize("\u{1b}[2J\u{1b}[31;1mred\u{1b}[0m"), "red");
        assert_eq!(sanitize("x\u{9b}31my"), "xy");
    }

    #[test]
    fn osc_sequences_removed() {
        assert_eq!(sanitize("\u{1b}]0;title\u{7}name"), "name");
        assert_eq!(sanitize("\u{1b}]8;;http://x\u{1b}\\link"), "link");
        assert_eq!(sanitize("\u{1b}Pdcs\u{1b}\\ok"), "ok");
    }

    #[test]
    fn two_char_escapes_removed() {
        assert_eq!(sanitize("\u{1b}cdoor"), "door");
        assert_eq!(sanitize("door\u{1b}"), "door");
    }

    #[test]
    fn bidi_overrides_removed() {
        assert_eq!(sanitize("abc\u{202e}fed\u{202c}"), "abcfed");
        assert_eq!(sanitize("\u{2066}x\u{2069}\u{200f}"), "x");
    }

    #[test]
    fn long_text_is_cut() {
        let long = "门".repeat(MAX_TEXT_CHARS + 50);
        assert_eq!(sanitize(&long).chars().count(), MAX_TEXT_CHARS);
    }

    #[test]
    fn hex_preview_is_short() {
        assert_eq!(hex_preview(b"{\"a\""), "7b 22 61 22");
        let long = vec![0u8; 100];
        assert!(hex_preview(&long).ends_with("… (100 bytes)"));
    }
}
