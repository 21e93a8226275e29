//! Untrusted text (anything an API server, a fleet file or a PostgreSQL server sends)
//! is made safe here before it can reach a terminal, the journal or an error message.
//!
//! Control characters (C0, DEL, C1) and invisible formatting characters (bidi overrides,
//! zero-width characters, line separators) become visible escapes such as `\x1b` or
//! `\u{202e}`, so an instance named "\x1b[2J" can neither clear the screen nor hide
//! what it is. Printable text, CJK and emoji pass through unchanged.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for characters that must never reach a terminal as themselves.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}'                  // soft hyphen (invisible)
            | '\u{061C}'                // Arabic letter mark
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
            | '\u{2028}'..='\u{202E}'   // line/paragraph separators, bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}'   // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}'   // bidi isolates
            | '\u{206A}'..='\u{206F}'   // deprecated format characters
            | '\u{FEFF}'                // zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotations
            | '\u{034F}'                // combining grapheme joiner
            | '\u{115F}' | '\u{1160}'    // Hangul fillers (render as blank)
            | '\u{3164}' | '\u{FFA0}'
            | '\u{0600}'..='\u{0605}'   // Arabic prepended format characters
            | '\u{06DD}' | '\u{070F}' | '\u{0890}' | '\u{0891}' | '\u{08E2}'
            | '\u{2065}'
            | '\u{FE00}'..='\u{FE0F}'   // variation selectors
            | '\u{110BD}' | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}' // Egyptian hieroglyph format controls
            | '\u{1BCA0}'..='\u{1BCA3}' // shorthand format controls
            | '\u{1D173}'..='\u{1D17A}' // musical format controls
            | '\u{E0000}'..='\u{E007F}' // tag characters
            | '\u{E0100}'..='\u{E01EF}' // variation selectors supplement
        )
}

/// Make untrusted text safe to display: unsafe characters become visible escapes.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            let n = c as u32;
            // Writing to a String cannot fail.
            let _ = if n < 0x100 {
                write!(out, "\\x{n:02x}")
            } else {
                write!(out, "\\u{{{n:04x}}}")
            };
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Sanitize an optional field, owned.
pub fn clean(s: &str) -> String {
    sanitize(s).into_owned()
}

/// A short, safe excerpt of a reply body for an error message: lossy UTF-8,
/// sanitized, whitespace runs collapsed, at most `max` characters.
pub fn excerpt(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let safe = sanitize(&collapsed);
    truncate(&safe, max)
}

/// At most `max` characters, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls_and_bidi() {
        assert_eq!(sanitize("db\x1b[2Jx"), "db\\x1b[2Jx");
        assert_eq!(sanitize("a\u{202E}gnp.exe"), "a\\u{202e}gnp.exe");
        assert_eq!(
            sanitize("bell\x07 del\x7f c1\u{9b}"),
            "bell\\x07 del\\x7f c1\\x9b"
        );
        assert_eq!(sanitize("line\nbreak\r"), "line\\x0abreak\\x0d");
        assert_eq!(sanitize("zero\u{200B}width"), "zero\\u{200b}width");
    }

    #[test]
    fn escapes_invisible_look_alike_makers() {
        for c in [
            '\u{E0041}',
            '\u{3164}',
            '\u{FE0F}',
            '\u{034F}',
            '\u{115F}',
            '\u{0600}',
        ] {
            let s = format!("ap-seoul{c}");
            assert_ne!(sanitize(&s), s, "{:x}", c as u32);
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        let s = "orders-db 测试实例 🐘 ünïcödé";
        assert!(matches!(sanitize(s), Cow::Borrowed(_)));
        assert_eq!(sanitize(s), s);
    }

    #[test]
    fn output_never_contains_unsafe_characters() {
        // Every code point in the ranges that matter, one at a time and all together.
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(!sanitize(&all).chars().any(is_unsafe));
        for c in all.chars() {
            let s = c.to_string();
            assert!(!sanitize(&s).chars().any(is_unsafe), "{:x}", c as u32);
        }
    }

    #[test]
    fn excerpt_is_short_and_safe() {
        let body = b"<html>\n  <body>\x1b]0;pwned\x07 Bad   Gateway</body></html>";
        let e = excerpt(body, 30);
        assert!(e.chars().count() <= 30);
        assert!(!e.contains('\x1b'));
        assert!(e.starts_with("<html> <body>\\x1b]0;pwned"));
        assert_eq!(excerpt(&[0xff, 0xfe, b'o', b'k'], 10), "\u{fffd}\u{fffd}ok");
    }
}
