//! Making untrusted text safe for a terminal.
//!
//! Server text, pasted bounces and file contents can carry escape sequences
//! that retitle the window, clear the screen, move the cursor or write the
//! clipboard (OSC 52). Nothing from outside reaches the terminal without going
//! through [`escape`]: every C0 and C1 control character, DEL, and the Unicode
//! bidirectional controls are shown as visible escapes, and invalid UTF-8 as
//! `\xNN`. Printable text, non-ASCII letters included, is kept as it is.

use std::fmt::Write as _;

/// Returns `bytes` as text that is safe to print: no control character
/// survives, only its escaped form.
pub(crate) fn escape(bytes: &[u8]) -> String {
    // Most server text is printable ASCII: nothing to escape.
    if bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// [`escape`] for text that is already a `str`.
pub(crate) fn escape_str(text: &str) -> String {
    escape(text.as_bytes())
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\x1b' => out.push_str("\\e"),
        c if (c as u32) < 0x20 || c == '\x7f' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        // C1 controls: U+0080..U+009F (a terminal may honour them as CSI, OSC…).
        c if ('\u{80}'..='\u{9f}').contains(&c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        // Bidirectional overrides and isolates reorder what is shown.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_control() {
        let cases: &[(&[u8], &str)] = &[
            (b"plain text", "plain text"),
            (b"\x1b]0;pwned\x07", "\\e]0;pwned\\x07"),
            (b"\x1b[2J", "\\e[2J"),
            (b"\x1b]52;c;ZXZpbA==\x07", "\\e]52;c;ZXZpbA==\\x07"),
            (b"a\0b", "a\\x00b"),
            (b"tab\there", "tab\\there"),
            (b"bare\rcr", "bare\\rcr"),
            (b"del\x7f", "del\\x7f"),
            ("c1\u{9b}31m".as_bytes(), "c1\\u{9b}31m"),
            ("bidi\u{202e}txt".as_bytes(), "bidi\\u{202e}txt"),
            (b"\xff\xfe ok", "\\xff\\xfe ok"),
            ("Grüße".as_bytes(), "Grüße"),
        ];
        for (input, want) in cases {
            assert_eq!(escape(input), *want, "{input:?}");
        }
    }

    #[test]
    fn output_never_holds_a_control_character() {
        let all: Vec<u8> = (0..=255).collect();
        let out = escape(&all);
        assert!(!out.chars().any(|c| c.is_control()), "{out}");
    }
}
