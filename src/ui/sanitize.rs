//! Making untrusted text safe for a terminal.
//!
//! Server text, pasted bounces and file contents can carry escape sequences
//! that retitle the window, clear the screen, move the cursor or write the
//! clipboard (OSC 52). Nothing from outside reaches the terminal without going
//! through [`escape`]: every C0 and C1 control character, DEL, every Unicode
//! format character (bidirectional controls, zero-width characters, the soft
//! hyphen…), line and paragraph separators and tags are shown as visible
//! escapes, and invalid UTF-8 as `\xNN`. Printable text, non-ASCII letters
//! included, is kept as it is.

use std::fmt::Write as _;

/// Returns `bytes` as text that is safe to print: no control character
/// survives, only its escaped form.
pub fn escape(bytes: &[u8]) -> String {
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
pub fn escape_str(text: &str) -> String {
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
        // Format characters (bidirectional controls among them), line and
        // paragraph separators, and tags: invisible, or reordering what is
        // shown.
        c if is_invisible(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Whether `c` must never reach a terminal as it is: a control (Cc), a
/// format character (Cf: bidirectional controls, zero-width characters, the
/// soft hyphen, the byte order mark, interlinear annotations…), a line or
/// paragraph separator (Zl, Zp), or a tag (U+E0000–U+E007F).
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{61c}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{890}'..='\u{891}'
                | '\u{8e2}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// Prints an error line on stderr, its outside text escaped.
pub(crate) fn print_error(message: &str) {
    eprintln!("smtpcli: {}", escape_str(message));
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
            ("zero\u{200b}width".as_bytes(), "zero\\u{200b}width"),
            ("soft\u{ad}hyphen".as_bytes(), "soft\\u{ad}hyphen"),
            ("\u{feff}bom".as_bytes(), "\\u{feff}bom"),
            ("arabic\u{61c}mark".as_bytes(), "arabic\\u{61c}mark"),
            ("line\u{2028}sep".as_bytes(), "line\\u{2028}sep"),
            ("anno\u{fff9}x".as_bytes(), "anno\\u{fff9}x"),
            ("tag\u{e0041}".as_bytes(), "tag\\u{e0041}"),
            ("nel\u{85}".as_bytes(), "nel\\u{85}"),
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
