//! The invariants the fuzz targets check, shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/*.rs`, through the `smtpcli_fuzz` library of the fuzz
//! crate) and by the corpus replay in `tests/it/fuzz_corpus.rs` (which
//! includes this file with `#[path]`), so a corpus file is checked the same
//! way by `cargo fuzz run` and by `cargo test`.
//!
//! Every `check_*` function takes one raw fuzz input, runs the code under test
//! on it and panics (through `assert!`) when an invariant does not hold.
//! Where a target needs chunk boundaries or limits, they are derived from the
//! first bytes of the input ([`chunks`], [`small_limits`]) without consuming
//! them, so a seed that is a real server reply is fed whole.

use smtpcli::fuzzing::{self as explain, Explainer, Theme};
use smtpcli::proto::bounce;
use smtpcli::proto::command::{self, Command, LintContext, Typed};
use smtpcli::proto::data::{self, ContentEncoder};
use smtpcli::proto::ehlo::Capabilities;
use smtpcli::proto::reply::{Anomaly, Limits, LineEnding, Reply, ReplyParser, Separator};

/// A target's check: panics if the input breaks an invariant.
pub type Check = fn(&[u8]);

/// The fuzz targets: corpus directory name and check.
pub const TARGETS: &[(&str, Check)] = &[
    ("reply_parser", check_reply_parser),
    ("command_reader", check_command_reader),
    ("data_encoder", check_data_encoder),
    ("bounce_reader", check_bounce_reader),
    ("script_reader", check_script_reader),
    ("transcript_reader", check_transcript_reader),
    ("sanitizer", check_sanitizer),
];

/// Cuts `data` into chunks whose lengths cycle through the first (up to)
/// eight bytes of the input, each taken modulo 64. A length of 0 gives an
/// empty chunk (callers feed it too: `feed(&[])` must be harmless); if every
/// length is 0, the chunks are single bytes.
pub fn chunks(data: &[u8]) -> Vec<&[u8]> {
    let plan: Vec<usize> = data.iter().take(8).map(|&b| usize::from(b % 64)).collect();
    let all_zero = plan.iter().all(|&n| n == 0);
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = if all_zero { 1 } else { plan[i % plan.len()] };
        let (head, tail) = rest.split_at(n.min(rest.len()));
        out.push(head);
        rest = tail;
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------
// reply_parser

/// Tiny parser limits derived from bytes 1 to 3 of the input, so the line,
/// byte and line-count caps are reached by inputs of a few hundred bytes.
pub fn small_limits(data: &[u8]) -> Limits {
    let byte = |i: usize| usize::from(data.get(i).copied().unwrap_or(0));
    Limits {
        max_line: 1 + byte(1) % 128,
        max_reply_bytes: byte(2) * 2,
        max_reply_lines: 1 + byte(3) % 12,
    }
}

/// Feeds `parts` one after the other, taking every complete reply after each
/// feed, then closes the connection with `finish`.
fn parse_fed<'a>(parts: impl IntoIterator<Item = &'a [u8]>, limits: Limits) -> Vec<Reply> {
    let mut parser = ReplyParser::with_limits(limits);
    let mut replies = Vec::new();
    for part in parts {
        parser.feed(part);
        replies.extend(std::iter::from_fn(|| parser.next_reply()));
    }
    replies.extend(parser.finish());
    assert!(parser.is_empty(), "parser not empty after finish");
    assert!(!parser.is_mid_reply(), "mid reply after finish");
    assert_eq!(parser.next_reply(), None, "a reply after finish");
    assert_eq!(parser.finish(), None, "a second finish returned a reply");
    replies
}

/// The bytes a reply's lines stood for on the wire (without what a cap dropped).
fn rebuild(replies: &[Reply]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in replies.iter().flat_map(|r| &r.lines) {
        out.extend_from_slice(&line.raw);
        out.extend_from_slice(match line.ending {
            LineEnding::CrLf => b"\r\n",
            LineEnding::Lf => b"\n",
            LineEnding::Missing => b"",
        });
    }
    out
}

/// Invariants of the replies parsed from `len` bytes, all of them fed and
/// the parser finished.
fn check_replies(replies: &[Reply], limits: &Limits, len: usize) {
    let mut wire = 0u64;
    for (i, reply) in replies.iter().enumerate() {
        let is_final = i + 1 == replies.len();
        assert!(!reply.lines.is_empty(), "reply {i} has no line: {reply:?}");
        assert!(
            reply.lines.len() <= limits.max_reply_lines.max(1),
            "reply {i} has {} lines, over the cap {limits:?}",
            reply.lines.len()
        );
        let kept: usize = reply.lines.iter().map(|l| l.raw.len()).sum();
        assert!(
            kept <= limits.max_reply_bytes + limits.max_line,
            "reply {i} keeps {kept} bytes, over the cap {limits:?}"
        );
        let unterminated = reply.anomalies.contains(&Anomaly::Unterminated);
        // Only the reply that `finish` returned may be unterminated.
        assert!(
            !unterminated || is_final,
            "reply {i} unterminated but not last"
        );
        for (n, line) in reply.lines.iter().enumerate() {
            assert!(
                line.raw.len() <= limits.max_line,
                "reply {i} line {n} keeps {} bytes, over max_line {}",
                line.raw.len(),
                limits.max_line
            );
            let last_line = n + 1 == reply.lines.len();
            assert!(
                line.ending != LineEnding::Missing || (unterminated && last_line),
                "reply {i} line {n}: no line ending, but not the unterminated end"
            );
            assert!(!line.raw.contains(&b'\n'), "reply {i} line {n} holds an LF");
            // The accessors must not panic whatever the line holds, and the
            // shown form of the text holds no control character.
            let shown = line.text().escaped().to_string();
            assert!(
                !shown.chars().any(char::is_control),
                "reply {i} line {n} shows a control character: {shown:?}"
            );
            wire += line.wire_len();
        }
        if !unterminated {
            let last = reply.lines.last().map(|l| l.separator);
            assert_ne!(
                last,
                Some(Separator::Hyphen),
                "reply {i} ends with a '-' line"
            );
        }
        for anomaly in &reply.anomalies {
            let _ = anomaly.to_string();
            if let Anomaly::ReplyCut { dropped_bytes, .. } = anomaly {
                wire += dropped_bytes;
            }
        }
        let _ = (reply.code(), reply.enhanced_code(), reply.class_digit());
        let _ = (
            reply.text(),
            reply.line_texts(),
            reply.is_positive_completion(),
        );
    }
    // Every byte fed is accounted for: kept, or counted as dropped.
    assert!(
        wire == len as u64,
        "bytes kept + dropped ({wire}) != bytes fed ({len})"
    );
}

/// `ReplyParser`: any chunking gives the same replies as one-shot
/// `Reply::parse_all`; every reply has a line; caps hold; every byte is
/// accounted for; `take_leftover` returns exactly the unconsumed bytes.
pub fn check_reply_parser(data: &[u8]) {
    let defaults = Limits::default();
    let whole = Reply::parse_all(data);
    check_replies(&whole, &defaults, data.len());
    let parts = chunks(data);
    assert_eq!(
        parse_fed(parts.iter().copied(), defaults),
        whole,
        "chunked != whole"
    );
    assert_eq!(
        parse_fed(data.chunks(1), defaults),
        whole,
        "bytewise != whole"
    );
    check_leftover(data, &parts, defaults);

    // The same with caps small enough to be reached.
    let small = small_limits(data);
    let capped = parse_fed([data], small);
    check_replies(&capped, &small, data.len());
    assert_eq!(
        parse_fed(parts.iter().copied(), small),
        capped,
        "chunked != whole (caps {small:?})"
    );
    assert_eq!(
        parse_fed(data.chunks(1), small),
        capped,
        "bytewise != whole (caps {small:?})"
    );
    check_leftover(data, &parts, small);
}

/// Stops after a number of chunks (byte 4 of the input decides), takes the
/// leftover as at STARTTLS, and goes on with the same parser.
fn check_leftover(data: &[u8], parts: &[&[u8]], limits: Limits) {
    let stop = usize::from(data.get(4).copied().unwrap_or(0)) % (parts.len() + 1);
    let mut parser = ReplyParser::with_limits(limits);
    let mut before = Vec::new();
    for part in &parts[..stop] {
        parser.feed(part);
        before.extend(std::iter::from_fn(|| parser.next_reply()));
    }
    let leftover = parser.take_leftover();
    assert!(parser.is_empty(), "parser not empty after take_leftover");
    assert_eq!(parser.next_reply(), None, "a reply after take_leftover");
    assert!(
        parser.take_leftover().is_empty(),
        "second take_leftover not empty"
    );
    let fed: usize = parts[..stop].iter().map(|p| p.len()).sum();
    check_replies(&before, &limits, rebuild_len(&before));

    // Without a cap at work nothing is lost: the replies and the leftover
    // are the bytes fed, and the leftover parses as the rest would have.
    let lines = data.iter().filter(|&&b| b == b'\n').count();
    let uncapped = data.len() <= limits.max_line
        && data.len() <= limits.max_reply_bytes
        && lines < limits.max_reply_lines;
    if uncapped {
        let mut seen = rebuild(&before);
        seen.extend_from_slice(&leftover);
        assert_eq!(seen, &data[..fed], "replies + leftover != bytes fed");
        let mut rest = leftover;
        rest.extend_from_slice(&data[fed..]);
        before.extend(Reply::parse_all(&rest));
        assert_eq!(
            before,
            Reply::parse_all(data),
            "parse after leftover differs"
        );
    }
}

/// Wire bytes of replies taken with `next_reply` (all lines terminated).
fn rebuild_len(replies: &[Reply]) -> usize {
    let dropped: u64 = replies
        .iter()
        .flat_map(|r| &r.anomalies)
        .map(|a| match a {
            Anomaly::ReplyCut { dropped_bytes, .. } => *dropped_bytes,
            _ => 0,
        })
        .sum();
    let lines: u64 = replies
        .iter()
        .flat_map(|r| &r.lines)
        .map(|l| l.wire_len())
        .sum();
    usize::try_from(lines + dropped).unwrap_or(usize::MAX)
}

// ---------------------------------------------------------------------------
// command_reader

/// The EHLO offer of the reference Postfix, with AUTH.
const POSTFIX_EHLO: &[&str] = &[
    "mailserver.example.com",
    "PIPELINING",
    "SIZE 10240000",
    "VRFY",
    "ETRN",
    "STARTTLS",
    "AUTH PLAIN LOGIN",
    "ENHANCEDSTATUSCODES",
    "8BITMIME",
    "DSN",
    "SMTPUTF8",
    "CHUNKING",
];

/// `read_typed`: never panics; `wire` is the line with its trailing CRs and
/// LFs replaced by one CRLF; a parsed command's canonical text reads back
/// as the same command. Checked without capabilities, with Postfix's, and
/// with capabilities read from the input's own lines.
pub fn check_command_reader(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let flags = data.first().copied().unwrap_or(0);
    let postfix = Capabilities::from_lines(POSTFIX_EHLO.iter().copied());
    let own = Capabilities::from_lines(text.split('\n'));
    check_capabilities(&own);
    let contexts = [
        LintContext::default(),
        LintContext {
            greeted: flags & 1 != 0,
            capabilities: Some(&postfix),
            tls: flags & 2 != 0,
            in_transaction: flags & 4 != 0,
        },
        LintContext {
            greeted: true,
            capabilities: Some(&own),
            tls: flags & 8 != 0,
            in_transaction: flags & 16 != 0,
        },
    ];
    for ctx in &contexts {
        check_typed(&text, ctx);
        // Also each line on its own, as the prompt would pass them.
        for line in text.split_inclusive('\n').take(16) {
            check_typed(line, ctx);
        }
    }
}

fn check_typed(line: &str, ctx: &LintContext<'_>) {
    let typed = command::read_typed(line, ctx);
    let text = line.trim_end_matches(['\r', '\n']);
    assert_eq!(
        typed.wire,
        format!("{text}\r\n"),
        "wire is not the line + CRLF"
    );
    // Reading the wire text again changes nothing.
    assert_eq!(
        command::read_typed(&typed.wire, ctx),
        typed,
        "wire reads differently"
    );
    for lint in &typed.lints {
        let _ = lint.message();
    }
    let _ = format!("{typed:?}");
    if let Some(cmd) = &typed.command {
        assert_eq!(typed.verb, Some(cmd.verb()), "verb and command disagree");
        check_round_trip(cmd, ctx);
    }
}

/// `Display` gives the canonical wire text; typed without its CRLF it must
/// read back as the same command. (Only the CRLF is cut: `trim_end` would
/// also cut Unicode spaces that belong to an argument.)
fn check_round_trip(cmd: &Command, ctx: &LintContext<'_>) {
    let wire = cmd.to_string();
    assert!(wire.ends_with("\r\n"), "Display lacks CRLF: {wire:?}");
    let line = wire.strip_suffix("\r\n").unwrap_or(&wire);
    let again: Typed = command::read_typed(line, ctx);
    assert_eq!(
        again.command.as_ref(),
        Some(cmd),
        "{wire:?} does not read back"
    );
    assert_eq!(again.wire, wire, "canonical text changed on reading");
}

fn check_capabilities(caps: &Capabilities) {
    assert!(
        caps.diff(caps).is_empty(),
        "capabilities differ from themselves"
    );
    for cap in &caps.list {
        let _ = (cap.keyword(), cap.description(), cap.rfc());
    }
    let _ = (caps.auth_mechanisms(), caps.size_limit(), caps.has("AUTH"));
}

// ---------------------------------------------------------------------------
// data_encoder

/// What the content must be after the server undoes DATA's encoding (and
/// what BDAT sends): line endings normalised, an unterminated last line
/// completed with CRLF.
pub fn expected_content(input: &[u8]) -> Vec<u8> {
    let mut want = data::normalize_line_endings(input);
    if !want.is_empty() && !want.ends_with(b"\r\n") {
        want.extend_from_slice(b"\r\n");
    }
    want
}

fn encode(mut encoder: ContentEncoder, parts: &[&[u8]], len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        let before = out.len();
        encoder.encode(part, &mut out);
        // Nothing is held back: every byte but the LF of a CRLF (which may
        // come in this part, after a CR already written) gives output.
        let lfs = part.iter().filter(|&&b| b == b'\n').count();
        assert!(
            out.len() - before + lfs >= part.len(),
            "encode held bytes back"
        );
    }
    assert_eq!(encoder.bytes_in(), len as u64, "bytes_in");
    encoder.finish(&mut out);
    assert_eq!(
        (encoder.bytes_in(), encoder.lines()),
        (0, 0),
        "finish did not reset"
    );
    out
}

/// `ContentEncoder`: for DATA, `decode_data(encode(x))` is the normalised
/// content, the wire has no bare CR or LF and no early lone "."; for BDAT the
/// output is exactly the normalised content. Chunking changes nothing.
pub fn check_data_encoder(data: &[u8]) {
    let parts = chunks(data);
    let want = expected_content(data);
    let want_lines = want.windows(2).filter(|w| w == b"\r\n").count() as u64;

    let mut counting = ContentEncoder::for_data();
    counting.encode(data, &mut Vec::new());
    assert_eq!(counting.lines(), want_lines, "lines() before finish");

    let wire = encode(ContentEncoder::for_data(), &[data], data.len());
    assert_eq!(
        encode(ContentEncoder::for_data(), &parts, data.len()),
        wire,
        "DATA: chunked != whole"
    );
    assert_eq!(
        data::decode_data(&wire),
        Ok(want.clone()),
        "DATA: decode(encode(x))"
    );
    assert!(wire.ends_with(b".\r\n"), "DATA: no terminator");
    for (i, &b) in wire.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(wire.get(i + 1), Some(&b'\n'), "DATA: bare CR at {i}"),
            b'\n' => assert!(i > 0 && wire[i - 1] == b'\r', "DATA: bare LF at {i}"),
            _ => {}
        }
    }

    let bdat = encode(ContentEncoder::for_bdat(), &[data], data.len());
    assert_eq!(bdat, want, "BDAT: output != normalised content");
    assert_eq!(
        encode(ContentEncoder::for_bdat(), &parts, data.len()),
        bdat,
        "BDAT: chunked != whole"
    );

    // One encoder, two messages: the second must not see the first's state.
    let mut reused = ContentEncoder::for_data();
    let mut out = Vec::new();
    reused.encode(data, &mut out);
    reused.finish(&mut out);
    out.clear();
    reused.encode(data, &mut out);
    reused.finish(&mut out);
    assert_eq!(out, wire, "DATA: a reused encoder differs");

    // The decoder takes any bytes without panicking.
    let _ = data::decode_data(data).map_err(|e| e.to_string());
}

// ---------------------------------------------------------------------------
// bounce_reader

/// `bounce::read` and `explain::parse_args` never panic, and what
/// `--explain` prints from them reaches the terminal without any control
/// character from the input.
pub fn check_bounce_reader(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let found = bounce::read(&text);
    for reply in &found.replies {
        assert!(!reply.lines.is_empty(), "a bounce reply without lines");
    }
    let _ = explain::read_bounce(&text).map_err(|e| e.to_string());
    let items = explain::items_from_bounce(&found);
    for color in [false, true] {
        let theme = Theme::new(color);
        let explainer =
            Explainer::new(&theme, 40 + usize::from(data.first().copied().unwrap_or(0)));
        let mut out = Vec::new();
        assert!(
            explainer.bounce(&found, &mut out).is_ok(),
            "writing to a Vec failed"
        );
        assert!(
            explainer.items(&items, &mut out).is_ok(),
            "writing to a Vec failed"
        );
        check_terminal_safe(&out, color);
    }

    // The words of the input as `--explain` arguments, and its lines (an
    // argument with a space is a whole reply line).
    let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for args in [words, lines] {
        match explain::parse_args(&args) {
            Ok(items) => {
                let theme = Theme::new(false);
                let mut out = Vec::new();
                assert!(Explainer::new(&theme, 80).items(&items, &mut out).is_ok());
                check_terminal_safe(&out, false);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
}

/// Output for a terminal: UTF-8, and no control character but LF, nor a
/// bidirectional control; with colour, ESC only as the start of an SGR
/// sequence (`ESC [ digits/semicolons m`).
fn check_terminal_safe(out: &[u8], color: bool) {
    let text = std::str::from_utf8(out);
    assert!(text.is_ok(), "output is not UTF-8");
    let text = text.unwrap_or_default();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && color {
            assert_eq!(
                chars.next(),
                Some('['),
                "ESC not starting a CSI in {text:?}"
            );
            let end = chars.find(|c| !(c.is_ascii_digit() || *c == ';'));
            assert_eq!(end, Some('m'), "escape sequence other than SGR in {text:?}");
            continue;
        }
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}');
        assert!(
            c == '\n' || !(c.is_control() || bidi),
            "control character {c:?} reaches the terminal in {text:?}"
        );
    }
}

/// Script lines (`--script`, piped input): every line is classified as a
/// meta-command or a line to send, and a meta-command either parses or is
/// refused with a message; `:expect` arguments round-trip through their
/// display form; `:raw` escapes round-trip.
pub fn check_script_reader(data: &[u8]) {
    use smtpcli::fuzzing as meta;
    use smtpcli::session::expect::Expectation;
    use smtpcli::session::input::{Input, LineRole, Syntax, classify};
    for line in data.split(|&b| b == b'\n') {
        let input = classify(
            line,
            LineRole::Command,
            Syntax::Interactive,
            &LintContext::default(),
        );
        match input {
            Input::Command(typed) => assert!(typed.text().len() <= line.len() * 3),
            Input::Meta(text) => match meta::parse_meta(text) {
                Ok(meta::Meta::Expect(e)) => {
                    let again = Expectation::parse(&e.to_string());
                    assert_eq!(again.as_ref(), Ok(&e), "{e} does not read back");
                }
                Ok(_) => {}
                Err(e) => assert!(!e.to_string().is_empty()),
            },
            Input::Blank | Input::Comment => {}
            other => panic!(
                "between commands, {other:?} is not a command, a meta-command, a blank or a comment"
            ),
        }
        if let Ok(text) = std::str::from_utf8(line) {
            if let Ok(bytes) = meta::unescape(text) {
                let _ = bytes.len();
            }
            // A name or a typo: the detail, or an error that says something.
            match meta::help(Some(text), 80) {
                Ok(lines) => assert!(!lines.is_empty()),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
    }
}

/// Recorded dialogs (`--replay`): any text reads without a panic, every
/// recorded reply has a line, and steps point at lines that exist.
pub fn check_transcript_reader(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count();
    let recorded = smtpcli::transcript::read(&text);
    let _ = recorded.format.to_string();
    if let Some(banner) = &recorded.banner {
        assert!(!banner.lines.is_empty(), "a banner without lines");
    }
    for step in &recorded.steps {
        assert!(
            step.line_no >= 1 && step.line_no <= lines + 1,
            "step at line {} of {lines}",
            step.line_no
        );
        if let Some(reply) = &step.reply {
            assert!(!reply.lines.is_empty(), "a reply without lines");
        }
    }
}

/// The sanitiser (`text::escape`, behind every `Untrusted::escaped`): whatever bytes go in, nothing comes out
/// that a terminal would act on or hide: no control character, no format
/// character (bidirectional controls, zero-width characters, the byte order
/// mark), no line or paragraph separator, no tag; and printable ASCII comes
/// out as it went in.
pub fn check_sanitizer(data: &[u8]) {
    use smtpcli::fuzzing::{escape, escape_str, is_invisible};
    let forbidden = |c: char| {
        c.is_control()
            || is_invisible(c)
            || matches!(
                c,
                '\u{200b}'..='\u{200f}'
                    | '\u{2028}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{feff}'
                    | '\u{e0000}'..='\u{e007f}'
            )
    };
    let untrusted = smtpcli::text::Untrusted::new(data);
    for out in [
        escape(data),
        escape_str(&String::from_utf8_lossy(data)),
        untrusted.escaped().to_string(),
        format!("{untrusted:?}"),
    ] {
        if let Some(c) = out.chars().find(|&c| forbidden(c)) {
            panic!("{c:?} reaches the terminal in {out:?}");
        }
    }
    if data.iter().all(|b| (0x20..0x7f).contains(b)) {
        assert_eq!(escape(data).as_bytes(), data, "printable ASCII changed");
    }
}
