//! The reply parser: bytes from the server in, whole SMTP replies out.
//!
//! It is incremental (feed any chunking, take replies as they complete),
//! understands multi-line replies (`250-` … `250 `), keeps every line's raw
//! bytes, and flags anything that does not follow RFC 5321 §4.2 instead of
//! rejecting it: a test client has to show a broken server as it is.
//!
//! It also owns the memory caps. A hostile server can send a line that never
//! ends or a reply that never ends; the parser keeps at most
//! [`Limits::max_line`] bytes of a line and [`Limits::max_reply_bytes`] /
//! [`Limits::max_reply_lines`] of a reply, counts what it dropped, and says
//! so. Unconsumed input never grows past one caller's chunk plus one line.
//!
//! Time is not its business: the transport puts a deadline around waiting for
//! a whole reply.

use std::fmt;

use super::codes::ReplyCode;
use super::enhanced::{self, EnhancedCode};
use crate::text::Untrusted;

/// RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets including CRLF.
pub const RFC_MAX_LINE: usize = 512;

/// Hard caps that keep a hostile server from exhausting memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes kept of one line (the rest is dropped and counted).
    pub max_line: usize,
    /// Bytes kept of one reply, over all its lines.
    pub max_reply_bytes: usize,
    /// Lines kept of one reply.
    pub max_reply_lines: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_reply_bytes: 1024 * 1024,
            max_reply_lines: 10_000,
        }
    }
}

/// How a line was terminated on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    /// `CRLF`, as RFC 5321 requires.
    CrLf,
    /// A bare `LF`.
    Lf,
    /// No ending: the connection closed mid-line.
    Missing,
}

/// What follows the three-digit code on a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Separator {
    /// `250 text`: the last line of a reply.
    Space,
    /// `250-text`: more lines follow.
    Hyphen,
    /// `250` and nothing else: a last line without text (tolerated by RFC 5321).
    End,
    /// Something else right after the code (`250ok`): flagged, taken as last line.
    Other(u8),
    /// The line does not start with a three-digit code at all.
    NoCode,
}

/// One line of a reply as it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyLine {
    /// The bytes of the line without its line ending (cut at the line cap).
    pub raw: Vec<u8>,
    /// The code at the start of the line, if it has a well-formed one.
    pub code: Option<ReplyCode>,
    /// What followed the code.
    pub separator: Separator,
    /// How the line ended on the wire.
    pub ending: LineEnding,
    /// Bytes of this line that were dropped because of [`Limits::max_line`].
    pub dropped: u64,
}

impl ReplyLine {
    /// The text after the code and its separator, as bytes.
    pub fn text_bytes(&self) -> &[u8] {
        match self.separator {
            Separator::Space | Separator::Hyphen => &self.raw[4..],
            Separator::End => &[],
            Separator::Other(_) => &self.raw[3..],
            Separator::NoCode => &self.raw,
        }
    }

    /// The text after the code: outside text, shown only escaped.
    pub fn text(&self) -> Untrusted {
        Untrusted::new(self.text_bytes())
    }

    /// Length on the wire, including the line ending.
    pub fn wire_len(&self) -> u64 {
        let ending = match self.ending {
            LineEnding::CrLf => 2,
            LineEnding::Lf => 1,
            LineEnding::Missing => 0,
        };
        self.raw.len() as u64 + self.dropped + ending
    }

    fn is_last(&self) -> bool {
        !matches!(self.separator, Separator::Hyphen | Separator::NoCode)
    }
}

/// Something about a reply that does not follow RFC 5321. `line` is the
/// zero-based index into [`Reply::lines`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Anomaly {
    /// A line ended in LF without CR.
    BareLf { line: usize },
    /// A CR inside a line that is not followed by LF.
    BareCr { line: usize },
    /// A line does not start with three digits.
    MissingCode { line: usize },
    /// Digits at the start, but not exactly three (`25 ok`, `2500 ok`).
    MalformedCode { line: usize },
    /// No space or hyphen after the code.
    MissingSeparator { line: usize },
    /// A continuation line carries a different code than the first line.
    CodeChanged {
        line: usize,
        first: ReplyCode,
        now: ReplyCode,
    },
    /// The line is longer than the 512 octets RFC 5321 allows.
    LineTooLong { line: usize, len: u64 },
    /// The line was longer than the parser keeps; the rest was dropped.
    LineCut { line: usize, dropped: u64 },
    /// The line is not valid UTF-8.
    InvalidUtf8 { line: usize },
    /// The reply had more lines or bytes than the parser keeps.
    ReplyCut {
        dropped_lines: u64,
        dropped_bytes: u64,
    },
    /// The connection closed before the reply was complete.
    Unterminated,
    /// The enhanced status code's class differs from the reply code's.
    EnhancedClassMismatch {
        code: ReplyCode,
        enhanced: EnhancedCode,
    },
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |line: &usize| line + 1;
        match self {
            Anomaly::BareLf { line } => write!(f, "line {} ends in a bare LF, not CRLF", n(line)),
            Anomaly::BareCr { line } => write!(f, "line {} contains a bare CR", n(line)),
            Anomaly::MissingCode { line } => {
                write!(f, "line {} does not start with a reply code", n(line))
            }
            Anomaly::MalformedCode { line } => write!(
                f,
                "line {} starts with a code that is not three digits",
                n(line)
            ),
            Anomaly::MissingSeparator { line } => {
                write!(f, "line {} has no space or hyphen after the code", n(line))
            }
            Anomaly::CodeChanged { line, first, now } => write!(
                f,
                "line {} changes the code from {first} to {now} inside one reply",
                n(line)
            ),
            Anomaly::LineTooLong { line, len } => write!(
                f,
                "line {} is {len} octets, over the {RFC_MAX_LINE} RFC 5321 allows",
                n(line)
            ),
            Anomaly::LineCut { line, dropped } => {
                write!(f, "line {} was cut: {dropped} more bytes dropped", n(line))
            }
            Anomaly::InvalidUtf8 { line } => write!(f, "line {} is not valid UTF-8", n(line)),
            Anomaly::ReplyCut {
                dropped_lines,
                dropped_bytes,
            } => write!(
                f,
                "reply cut: {dropped_lines} more lines ({dropped_bytes} bytes) dropped"
            ),
            Anomaly::Unterminated => write!(f, "the connection closed in the middle of the reply"),
            Anomaly::EnhancedClassMismatch { code, enhanced } => write!(
                f,
                "enhanced code {enhanced} has a different class than reply code {code}"
            ),
        }
    }
}

/// One complete SMTP reply: one or more lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The lines kept, in order (at least one).
    pub lines: Vec<ReplyLine>,
    /// Everything about the reply that does not follow the RFC.
    pub anomalies: Vec<Anomaly>,
}

impl Reply {
    /// The reply code: the first line's, if it had a well-formed one.
    pub fn code(&self) -> Option<ReplyCode> {
        self.lines.first().and_then(|l| l.code)
    }

    /// The enhanced status code (RFC 2034) at the start of the first line's text.
    pub fn enhanced_code(&self) -> Option<EnhancedCode> {
        let first = self.lines.first()?;
        first.code?;
        // Only the start matters: invalid UTF-8 later in the line is no reason
        // to miss the code.
        let bytes = first.text_bytes();
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        };
        EnhancedCode::parse_prefix(text).map(|(code, _)| code)
    }

    /// The text of every line, joined by newlines.
    pub fn text(&self) -> Untrusted {
        let texts: Vec<&[u8]> = self.lines.iter().map(ReplyLine::text_bytes).collect();
        Untrusted::new(texts.join(&b'\n'))
    }

    /// The text of each line (for EHLO capability parsing and the like).
    pub fn line_texts(&self) -> Vec<Untrusted> {
        self.lines.iter().map(ReplyLine::text).collect()
    }

    /// The reply with every occurrence of a secret in its text replaced by
    /// `[secret redacted]` (a server that echoes credentials back); `None`
    /// when no secret occurs. Secrets shorter than 3 bytes are not looked
    /// for: they would match by chance.
    pub fn redacted<'a>(
        &self,
        secrets: impl IntoIterator<Item = &'a [u8]> + Clone,
    ) -> Option<Reply> {
        const MARK: &[u8] = b"[secret redacted]";
        let mut changed = false;
        let mut reply = self.clone();
        for line in &mut reply.lines {
            let start = line.raw.len() - line.text_bytes().len();
            let mut text = line.raw[start..].to_vec();
            for secret in secrets.clone().into_iter().filter(|s| s.len() >= 3) {
                while let Some(at) = text.windows(secret.len()).position(|w| w == secret) {
                    text.splice(at..at + secret.len(), MARK.iter().copied());
                    changed = true;
                }
            }
            line.raw.truncate(start);
            line.raw.extend_from_slice(&text);
        }
        changed.then_some(reply)
    }

    /// True if the reply has a code of the 2xx class.
    pub fn is_positive_completion(&self) -> bool {
        self.class_digit() == Some(2)
    }

    /// The first digit of the reply code.
    pub fn class_digit(&self) -> Option<u8> {
        self.code().map(|c| (c.value() / 100) as u8)
    }

    /// Parses a reply from complete text, for tests, pasted bounces and
    /// examples. Lines without an ending at the end are taken as complete.
    pub fn parse_all(input: &[u8]) -> Vec<Reply> {
        let mut parser = ReplyParser::new();
        parser.feed(input);
        let mut replies: Vec<Reply> = std::iter::from_fn(|| parser.next_reply()).collect();
        if let Some(partial) = parser.finish() {
            replies.push(partial);
        }
        replies
    }
}

/// An incremental reply parser. Feed it bytes as they arrive; take replies
/// with [`ReplyParser::next_reply`] until it returns `None`.
#[derive(Debug, Default)]
pub struct ReplyParser {
    limits: Limits,
    /// Bytes fed; those before `start` are already split into lines.
    input: Vec<u8>,
    start: usize,
    /// The line being assembled (already capped).
    line: Vec<u8>,
    /// Bytes of the current line dropped at the cap.
    line_dropped: u64,
    /// Lines of the reply in progress.
    lines: Vec<ReplyLine>,
    /// Bytes kept of the reply in progress.
    reply_bytes: usize,
    dropped_lines: u64,
    dropped_bytes: u64,
}

impl ReplyParser {
    /// A parser with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser with chosen limits.
    pub fn with_limits(limits: Limits) -> Self {
        ReplyParser {
            limits,
            ..Self::default()
        }
    }

    /// Adds bytes received from the server.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.input.drain(..self.start);
            self.start = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// True if part of a reply has arrived but not all of it.
    pub fn is_mid_reply(&self) -> bool {
        !self.lines.is_empty()
            || !self.line.is_empty()
            || self.line_dropped > 0
            || self.dropped_lines > 0
    }

    /// True if nothing at all is buffered.
    pub fn is_empty(&self) -> bool {
        !self.is_mid_reply() && self.input.len() == self.start
    }

    /// Returns the next complete reply, if the bytes fed so far hold one.
    /// Call it until it returns `None` after each [`feed`](Self::feed).
    pub fn next_reply(&mut self) -> Option<Reply> {
        loop {
            let unread = &self.input[self.start..];
            let Some(offset) = unread.iter().position(|&b| b == b'\n') else {
                self.absorb_partial();
                return None;
            };
            // A CR right before the LF is always still unread: see absorb_partial.
            let crlf = offset > 0 && unread[offset - 1] == b'\r';
            self.append_to_line(self.start, self.start + offset - usize::from(crlf));
            self.start += offset + 1;
            let ending = if crlf {
                LineEnding::CrLf
            } else {
                LineEnding::Lf
            };
            if let Some(reply) = self.complete_line(ending) {
                return Some(reply);
            }
        }
    }

    /// The connection closed: returns whatever partial reply there was,
    /// flagged [`Anomaly::Unterminated`].
    pub fn finish(&mut self) -> Option<Reply> {
        self.append_to_line(self.start, self.input.len());
        self.input.clear();
        self.start = 0;
        if (!self.line.is_empty() || self.line_dropped > 0)
            && let Some(reply) = self.complete_line(LineEnding::Missing)
        {
            return Some(self.mark_unterminated(reply));
        }
        if self.lines.is_empty() {
            return None;
        }
        let reply = self.take_reply();
        Some(self.mark_unterminated(reply))
    }

    /// Takes every byte received but not yet part of a returned reply, raw:
    /// the lines of a reply in progress, the partial line, the unread input.
    /// At STARTTLS these arrived in plaintext after the `220` and must not be
    /// trusted (RFC 3207 §4.2, CVE-2011-0411).
    pub fn take_leftover(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        for line in self.lines.drain(..) {
            out.extend_from_slice(&line.raw);
            out.extend_from_slice(match line.ending {
                LineEnding::CrLf => b"\r\n",
                LineEnding::Lf => b"\n",
                LineEnding::Missing => b"",
            });
        }
        out.append(&mut self.line);
        out.extend_from_slice(&self.input[self.start..]);
        self.input.clear();
        self.start = 0;
        self.line_dropped = 0;
        self.reply_bytes = 0;
        self.dropped_lines = 0;
        self.dropped_bytes = 0;
        out
    }

    /// Moves unterminated input into the (capped) line buffer, so that input
    /// without a newline never grows past one line cap.
    fn absorb_partial(&mut self) {
        let len = self.input.len();
        // Keep a trailing CR unread so a CRLF split across chunks is seen whole.
        let keep_cr = usize::from(self.input.last() == Some(&b'\r') && len > self.start);
        self.append_to_line(self.start, len - keep_cr);
        self.input.drain(..len - keep_cr);
        self.start = 0;
    }

    /// Appends `input[from..to]` to the current line, up to the line cap.
    fn append_to_line(&mut self, from: usize, to: usize) {
        let room = self.limits.max_line.saturating_sub(self.line.len());
        let take = room.min(to - from);
        self.line.extend_from_slice(&self.input[from..from + take]);
        self.line_dropped += (to - from - take) as u64;
    }

    fn complete_line(&mut self, ending: LineEnding) -> Option<Reply> {
        let raw = std::mem::take(&mut self.line);
        let dropped = std::mem::take(&mut self.line_dropped);
        let (code, separator) = classify(&raw);
        let line = ReplyLine {
            raw,
            code,
            separator,
            ending,
            dropped,
        };
        let last = line.is_last() || (self.lines.is_empty() && line.separator == Separator::NoCode);
        self.push_line(line, last);
        last.then(|| self.take_reply())
    }

    /// Keeps a line of the reply in progress, within the caps. A reply
    /// keeps at least one line, and always the line that ends it (it
    /// carries the final status), in place of the one before it when the
    /// reply is full.
    fn push_line(&mut self, line: ReplyLine, last: bool) {
        let size = line.raw.len();
        let full = self.lines.len() >= self.limits.max_reply_lines
            || self.reply_bytes + size > self.limits.max_reply_bytes;
        if full && !self.lines.is_empty() {
            if !last {
                self.dropped_lines += 1;
                self.dropped_bytes += line.wire_len();
                return;
            }
            if let Some(old) = self.lines.pop() {
                self.dropped_lines += 1;
                self.dropped_bytes += old.wire_len();
                self.reply_bytes -= old.raw.len();
            }
        }
        self.reply_bytes += size;
        self.lines.push(line);
    }

    fn take_reply(&mut self) -> Reply {
        let lines = std::mem::take(&mut self.lines);
        self.reply_bytes = 0;
        let mut reply = Reply {
            lines,
            anomalies: Vec::new(),
        };
        reply.anomalies = anomalies_of(&reply);
        if self.dropped_lines > 0 {
            reply.anomalies.push(Anomaly::ReplyCut {
                dropped_lines: std::mem::take(&mut self.dropped_lines),
                dropped_bytes: std::mem::take(&mut self.dropped_bytes),
            });
        }
        reply
    }

    fn mark_unterminated(&self, mut reply: Reply) -> Reply {
        reply.anomalies.push(Anomaly::Unterminated);
        reply
    }
}

/// Splits the start of a line into its code and separator.
fn classify(raw: &[u8]) -> (Option<ReplyCode>, Separator) {
    let Some(code) = raw.get(..3).and_then(ReplyCode::from_digits) else {
        return (None, Separator::NoCode);
    };
    match raw.get(3) {
        None => (Some(code), Separator::End),
        Some(b' ') => (Some(code), Separator::Space),
        Some(b'-') => (Some(code), Separator::Hyphen),
        Some(d) if d.is_ascii_digit() => (None, Separator::NoCode),
        Some(&other) => (Some(code), Separator::Other(other)),
    }
}

fn anomalies_of(reply: &Reply) -> Vec<Anomaly> {
    let mut found = Vec::new();
    let first_code = reply.code();
    for (i, line) in reply.lines.iter().enumerate() {
        if line.ending == LineEnding::Lf {
            found.push(Anomaly::BareLf { line: i });
        }
        if line.raw.contains(&b'\r') {
            found.push(Anomaly::BareCr { line: i });
        }
        match line.separator {
            Separator::NoCode => {
                let digits = line.raw.iter().take_while(|b| b.is_ascii_digit()).count();
                found.push(if digits > 0 {
                    Anomaly::MalformedCode { line: i }
                } else {
                    Anomaly::MissingCode { line: i }
                });
            }
            Separator::Other(_) => found.push(Anomaly::MissingSeparator { line: i }),
            _ => {}
        }
        if let (Some(first), Some(now)) = (first_code, line.code)
            && first != now
        {
            found.push(Anomaly::CodeChanged {
                line: i,
                first,
                now,
            });
        }
        if line.wire_len() > RFC_MAX_LINE as u64 {
            found.push(Anomaly::LineTooLong {
                line: i,
                len: line.wire_len(),
            });
        }
        if line.dropped > 0 {
            found.push(Anomaly::LineCut {
                line: i,
                dropped: line.dropped,
            });
        }
        if std::str::from_utf8(&line.raw).is_err() {
            found.push(Anomaly::InvalidUtf8 { line: i });
        }
    }
    if let (Some(code), Some(enhanced)) = (first_code, reply.enhanced_code())
        && enhanced::class_mismatch((code.value() / 100) as u8, enhanced)
    {
        found.push(Anomaly::EnhancedClassMismatch { code, enhanced });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_secrets_are_redacted_in_the_text_only() {
        let reply =
            Reply::parse_all(b"535-5.7.8 bad: hunter2\r\n535 AGFsaWNlAGh1bnRlcjI= rejected\r\n")
                .remove(0);
        let redacted = reply
            .redacted([&b"hunter2"[..], b"AGFsaWNlAGh1bnRlcjI=", b"53"])
            .unwrap();
        assert_eq!(
            redacted.text().unchecked_str(),
            "5.7.8 bad: [secret redacted]\n[secret redacted] rejected"
        );
        assert_eq!(redacted.code(), reply.code());
        assert!(reply.redacted([&b"nothing"[..]]).is_none());
    }

    fn parse(input: &[u8]) -> Vec<Reply> {
        Reply::parse_all(input)
    }

    fn one(input: &[u8]) -> Reply {
        let mut replies = parse(input);
        assert_eq!(replies.len(), 1, "expected one reply from {input:?}");
        replies.remove(0)
    }

    fn code(n: u16) -> Option<ReplyCode> {
        ReplyCode::new(n)
    }

    #[test]
    fn single_and_multi_line_replies() {
        let r = one(b"250 2.1.0 Ok\r\n");
        assert_eq!(r.code(), code(250));
        assert_eq!(r.lines[0].text().unchecked_str(), "2.1.0 Ok");
        assert!(r.anomalies.is_empty());
        assert_eq!(
            r.enhanced_code().map(|e| e.to_string()),
            Some("2.1.0".into())
        );

        let r = one(b"250-mailserver.example.com\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n");
        assert_eq!(r.lines.len(), 3);
        assert_eq!(
            r.line_texts(),
            ["mailserver.example.com", "PIPELINING", "SMTPUTF8"]
        );
        assert!(r.anomalies.is_empty());
        assert_eq!(r.enhanced_code(), None);
    }

    #[test]
    fn a_code_alone_ends_a_reply() {
        let r = one(b"250\r\n");
        assert_eq!(r.lines[0].separator, Separator::End);
        assert_eq!(r.lines[0].text().unchecked_str(), "");
        assert!(r.anomalies.is_empty());
    }

    #[test]
    fn every_chunking_gives_the_same_replies() {
        let input: &[u8] = b"220 hi\r\n250-a\r\n250-b\r\n250 c\r\n354 go\r\n";
        let whole = parse(input);
        for split in 0..input.len() {
            let mut p = ReplyParser::new();
            let mut got = Vec::new();
            for part in [&input[..split], &input[split..]] {
                p.feed(part);
                got.extend(std::iter::from_fn(|| p.next_reply()));
            }
            assert_eq!(got, whole, "split at {split}");
        }
        // One byte at a time.
        let mut p = ReplyParser::new();
        let mut got = Vec::new();
        for b in input {
            p.feed(std::slice::from_ref(b));
            got.extend(std::iter::from_fn(|| p.next_reply()));
        }
        assert_eq!(got, whole);
    }

    #[test]
    fn anomalies_are_flagged_not_rejected() {
        let cases: &[(&[u8], Anomaly)] = &[
            (b"250 ok\n", Anomaly::BareLf { line: 0 }),
            (b"250 o\rk\r\n", Anomaly::BareCr { line: 0 }),
            (b"hello\r\n", Anomaly::MissingCode { line: 0 }),
            (b"25 ok\r\n", Anomaly::MalformedCode { line: 0 }),
            (b"2500 ok\r\n", Anomaly::MalformedCode { line: 0 }),
            (b"2x0 ok\r\n", Anomaly::MalformedCode { line: 0 }),
            (b"250ok\r\n", Anomaly::MissingSeparator { line: 0 }),
            (
                b"250-a\r\n251 b\r\n",
                Anomaly::CodeChanged {
                    line: 1,
                    first: ReplyCode::new(250).unwrap(),
                    now: ReplyCode::new(251).unwrap(),
                },
            ),
            (b"250 \xff\xfe\r\n", Anomaly::InvalidUtf8 { line: 0 }),
            (
                b"250 5.1.1 odd\r\n",
                Anomaly::EnhancedClassMismatch {
                    code: ReplyCode::new(250).unwrap(),
                    enhanced: EnhancedCode::parse_prefix("5.1.1").unwrap().0,
                },
            ),
        ];
        for (input, anomaly) in cases {
            let r = one(input);
            assert!(
                r.anomalies.contains(anomaly),
                "{input:?}: wanted {anomaly:?}, got {:?}",
                r.anomalies
            );
        }
    }

    #[test]
    fn no_false_anomalies_on_good_replies() {
        for input in [
            &b"550 5.1.1 <x@example.org>: Recipient address rejected\r\n"[..],
            b"354 End data with <CR><LF>.<CR><LF>\r\n",
            b"421 4.4.2 mailserver.example.com Error: timeout exceeded\r\n",
            b"250 2address.org\r\n",
        ] {
            assert_eq!(one(input).anomalies, [], "{input:?}");
        }
    }

    #[test]
    fn enhanced_code_survives_invalid_utf8_later_in_the_line() {
        let r = one(b"550 5.1.1 \xff unknown\r\n");
        assert_eq!(
            r.enhanced_code().map(|e| e.to_string()),
            Some("5.1.1".into())
        );
    }

    #[test]
    fn line_over_512_octets_is_flagged() {
        let mut input = b"250 ".to_vec();
        input.extend(std::iter::repeat_n(b'a', 600));
        input.extend_from_slice(b"\r\n");
        let r = one(&input);
        assert_eq!(r.anomalies, [Anomaly::LineTooLong { line: 0, len: 606 }]);
    }

    #[test]
    fn ten_mib_without_newline_stays_within_the_caps() {
        let mut p = ReplyParser::new();
        let chunk = vec![b'x'; 64 * 1024];
        p.feed(b"250 ");
        for _ in 0..160 {
            p.feed(&chunk);
            assert!(p.next_reply().is_none());
            assert!(p.input.len() <= 1, "input buffer grew");
            assert!(p.line.len() <= Limits::default().max_line);
        }
        p.feed(b"\r\n");
        let r = p.next_reply().expect("the line ends eventually");
        assert_eq!(r.lines[0].raw.len(), Limits::default().max_line);
        assert_eq!(r.lines[0].dropped, 10 * 1024 * 1024 + 4 - 64 * 1024);
        assert!(
            r.anomalies
                .iter()
                .any(|a| matches!(a, Anomaly::LineCut { .. }))
        );
    }

    #[test]
    fn a_reply_that_never_ends_is_cut_and_keeps_its_last_line() {
        let limits = Limits {
            max_line: 100,
            max_reply_bytes: 1000,
            max_reply_lines: 5,
        };
        let mut p = ReplyParser::with_limits(limits);
        for i in 0..100_000 {
            p.feed(format!("250-line {i}\r\n").as_bytes());
            assert!(p.next_reply().is_none());
            assert!(p.lines.len() <= 5);
        }
        p.feed(b"250 end\r\n");
        let r = p.next_reply().expect("complete");
        assert_eq!(r.lines.len(), 5);
        assert_eq!(r.lines[4].text().unchecked_str(), "end");
        assert!(matches!(
            r.anomalies.last(),
            Some(Anomaly::ReplyCut {
                dropped_lines: 99_996,
                ..
            })
        ));
    }

    #[test]
    fn byte_cap_on_a_reply() {
        let limits = Limits {
            max_line: 1000,
            max_reply_bytes: 50,
            max_reply_lines: 100,
        };
        let mut p = ReplyParser::with_limits(limits);
        p.feed(b"250-0123456789012345678901234567890\r\n250-0123456789012345678901234567890\r\n250 x\r\n");
        let r = p.next_reply().expect("complete");
        assert_eq!(r.lines.len(), 2);
        assert!(r.lines.iter().map(|l| l.raw.len()).sum::<usize>() <= 50);
    }

    /// Found by fuzzing: a line alone over the reply's byte cap was dropped,
    /// leaving a reply with no line, or none at all at close.
    #[test]
    fn regression_a_line_over_the_reply_byte_cap_still_makes_a_reply() {
        let limits = Limits {
            max_line: 1000,
            max_reply_bytes: 100,
            max_reply_lines: 100,
        };
        let mut p = ReplyParser::with_limits(limits);
        p.feed(&[b'x'; 200]);
        p.feed(b"\r\n");
        let r = p.next_reply().expect("a reply");
        assert_eq!(r.lines.len(), 1);

        let mut p = ReplyParser::with_limits(limits);
        p.feed(b"250-");
        p.feed(&[b'a'; 200]);
        p.feed(b"\r\n");
        assert!(p.next_reply().is_none());
        assert!(p.is_mid_reply());
        let r = p.finish().expect("the partial reply");
        assert_eq!(r.lines.len(), 1);
        assert!(r.anomalies.contains(&Anomaly::Unterminated));
    }

    #[test]
    fn close_mid_reply_returns_the_partial_reply() {
        let mut p = ReplyParser::new();
        p.feed(b"250-first\r\n250-sec");
        assert!(p.next_reply().is_none());
        let r = p.finish().expect("partial");
        assert_eq!(r.lines.len(), 2);
        assert_eq!(r.lines[1].ending, LineEnding::Missing);
        assert!(r.anomalies.contains(&Anomaly::Unterminated));
        assert!(p.finish().is_none());
    }

    #[test]
    fn leftover_after_a_reply_is_returned_raw() {
        let mut p = ReplyParser::new();
        p.feed(b"220 2.0.0 Ready to start TLS\r\n250 injected\r\n250-par");
        let r = p.next_reply().expect("220");
        assert_eq!(r.code(), code(220));
        assert_eq!(p.take_leftover(), b"250 injected\r\n250-par");
        assert!(p.is_empty());
        assert!(p.next_reply().is_none());
    }

    #[test]
    fn a_garbage_line_in_a_multi_line_reply_continues_it() {
        let r = one(b"250-a\r\ngarbage\r\n250 b\r\n");
        assert_eq!(r.lines.len(), 3);
        assert!(r.anomalies.contains(&Anomaly::MissingCode { line: 1 }));
    }

    #[test]
    fn gmail_style_bounce_lines() {
        let r = one(
            b"550-5.7.26 This mail is unauthenticated, which poses a security risk to the\r\n\
              550-5.7.26 sender and Gmail users, and has been blocked.\r\n\
              550 5.7.26 https://support.google.com/mail/answer/81126 - gsmtp\r\n",
        );
        assert_eq!(r.code(), code(550));
        assert_eq!(
            r.enhanced_code().map(|e| e.to_string()),
            Some("5.7.26".into())
        );
        assert!(r.anomalies.is_empty());
    }
}
