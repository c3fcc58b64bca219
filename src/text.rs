//! Outside text, and its one way to a screen, a log, JSON or a completion
//! list.
//!
//! Server replies, EHLO keywords, certificate names, AUTH challenges, DNS
//! names, pasted bounces and file contents can carry escape sequences that
//! retitle the window, clear the screen, move the cursor or write the
//! clipboard (OSC 52). Such text is held as [`Untrusted`], which has no
//! `Display`: printing it raw does not compile. It shows only through
//! [`Untrusted::escaped`], which goes through [`escape`]: every C0 and C1
//! control character, DEL, every Unicode format character (bidirectional
//! controls, zero-width characters, the soft hyphen…), line and paragraph
//! separators and tags are shown as visible escapes, and invalid UTF-8 as
//! `\xNN`. Printable text, non-ASCII letters included, is kept as it is.
//! The raw bytes stay reachable for protocol work (matching, parsing,
//! hexdumps) under names that say so.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

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

/// Text that came from outside: a server, a certificate, DNS, a file. It
/// has no `Display` and no `Deref` to `str`; see the module docs.
///
/// Shown, it is escaped, and so are the outside texts the layers hold as
/// `Untrusted` (each example below differs from a `compile_fail` one only
/// in `.escaped()`):
///
/// ```
/// use smtpcli::text::Untrusted;
/// let banner = Untrusted::from("mx \x1b]0;owned\x07 ready");
/// assert_eq!(banner.escaped().to_string(), "mx \\e]0;owned\\x07 ready");
/// let reply = &smtpcli::proto::reply::Reply::parse_all(b"220 \x1b[2J hi\r\n")[0];
/// println!("{}", reply.text().escaped());
/// let caps = smtpcli::proto::ehlo::Capabilities::from_lines(["mx \x1b[2J"]);
/// eprintln!("{}", caps.domain.escaped());
/// fn show(cert: &smtpcli::net::tls::CertInfo) -> String {
///     format!("{}", cert.subject.escaped())
/// }
/// ```
///
/// Printed raw, it does not compile:
///
/// ```compile_fail
/// use smtpcli::text::Untrusted;
/// let banner = Untrusted::from("mx \x1b]0;owned\x07 ready");
/// println!("{banner}");
/// ```
///
/// Nor does a reply's text, an EHLO greeting or a certificate's subject:
///
/// ```compile_fail
/// let reply = &smtpcli::proto::reply::Reply::parse_all(b"220 \x1b[2J hi\r\n")[0];
/// println!("{}", reply.text());
/// ```
///
/// ```compile_fail
/// let caps = smtpcli::proto::ehlo::Capabilities::from_lines(["mx \x1b[2J"]);
/// eprintln!("{}", caps.domain);
/// ```
///
/// ```compile_fail
/// fn show(cert: &smtpcli::net::tls::CertInfo) -> String {
///     format!("{}", cert.subject)
/// }
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Untrusted(Vec<u8>);

impl Untrusted {
    /// Wraps bytes as they arrived.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Untrusted(bytes.into())
    }

    /// The bytes as they arrived, for protocol work (comparing, parsing,
    /// hexdumps, sending back). Never for display.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text with invalid UTF-8 replaced, for matching and parsing. It
    /// may still hold control characters: never for display.
    pub fn unchecked_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// The text, safe to show: see [`escape`].
    pub fn escaped(&self) -> Escaped<'_> {
        Escaped(&self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text split at ASCII whitespace, each word still outside text.
    pub fn words(&self) -> impl Iterator<Item = Untrusted> + '_ {
        self.0
            .split(u8::is_ascii_whitespace)
            .filter(|w| !w.is_empty())
            .map(Untrusted::new)
    }

    /// The text upper-cased in ASCII (keywords and mechanism names).
    pub fn to_ascii_uppercase(&self) -> Untrusted {
        Untrusted(self.0.to_ascii_uppercase())
    }

    /// Whether the text is `other`, ignoring ASCII case.
    pub fn eq_ignore_ascii_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other.as_bytes())
    }

    /// The text as a `str` if every character of it passes `allowed`: a
    /// checked way out, for text whose charset makes it safe (a SASL
    /// mechanism name, a number).
    pub fn checked(&self, allowed: impl Fn(char) -> bool) -> Option<&str> {
        std::str::from_utf8(&self.0)
            .ok()
            .filter(|s| s.chars().all(|c| !is_invisible(c) && allowed(c)))
    }
}

/// Outside texts, each escaped, joined by `, `.
pub fn join_escaped(texts: &[Untrusted]) -> String {
    let texts: Vec<String> = texts.iter().map(|t| t.escaped().to_string()).collect();
    texts.join(", ")
}

impl From<&str> for Untrusted {
    fn from(text: &str) -> Self {
        Untrusted(text.as_bytes().to_vec())
    }
}

impl From<String> for Untrusted {
    fn from(text: String) -> Self {
        Untrusted(text.into_bytes())
    }
}

impl From<&Untrusted> for Untrusted {
    fn from(text: &Untrusted) -> Self {
        text.clone()
    }
}

impl From<Vec<u8>> for Untrusted {
    fn from(bytes: Vec<u8>) -> Self {
        Untrusted(bytes)
    }
}

impl PartialEq<String> for Untrusted {
    fn eq(&self, other: &String) -> bool {
        self.0 == other.as_bytes()
    }
}

impl From<&[u8]> for Untrusted {
    fn from(bytes: &[u8]) -> Self {
        Untrusted(bytes.to_vec())
    }
}

impl PartialEq<str> for Untrusted {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Untrusted {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// The text with invalid UTF-8 replaced, for the one JSON writer
/// (`ui::json`), which writes every character [`is_invisible`] names as a
/// `\uXXXX` escape: JSON readers get the real text, terminals showing the
/// JSON get nothing they would act on.
impl serde::Serialize for Untrusted {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.unchecked_str())
    }
}

/// Escaped, like the display form, so a `{:?}` in a log or a panic
/// message is as safe as `{}` of [`Untrusted::escaped`].
impl fmt::Debug for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.escaped())
    }
}

/// The display form of [`Untrusted`] text: [`escape`]d as it is written.
#[derive(Clone, Copy)]
pub struct Escaped<'a>(&'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&escape(self.0))
    }
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
