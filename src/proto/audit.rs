//! `--audit` without a socket: the tests, their verdicts, the smuggling
//! variants and their payloads, the relay matrix, and the readings of what
//! a server answered.
//!
//! Every decision an audit makes about a server is a pure function here,
//! table-tested; the engine (`session::audit`) only sends and collects, and
//! the driver (`ui::audit`) only prints. The end-of-data variants are the
//! ones published with the SMTP smuggling research of December 2023 (and
//! the padded forms discussed after it).

use std::fmt;

use thiserror::Error;

use super::reply::Reply;
use crate::text::Untrusted;

/// One test of `--audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Test {
    /// End-of-data variants, each followed by a smuggled second message.
    Smuggling,
    /// MAIL, RCPT or AUTH accepted before STARTTLS.
    StarttlsRequired,
    /// STARTTLS with a second command in the same write (CVE-2011-0411).
    StarttlsInjection,
    /// MAIL/RCPT combinations that would relay (no DATA is ever sent).
    Relay,
    /// VRFY or EXPN that tell existing users from others.
    VrfyExpn,
    /// AUTH offered before TLS.
    AuthPlaintext,
    /// Software or version named in the banner or the EHLO greeting.
    BannerLeak,
}

impl Test {
    /// Every test, in the order an audit runs them.
    pub const ALL: [Test; 7] = [
        Test::BannerLeak,
        Test::AuthPlaintext,
        Test::StarttlsRequired,
        Test::StarttlsInjection,
        Test::VrfyExpn,
        Test::Relay,
        Test::Smuggling,
    ];

    /// The name `--tests` takes and the report shows.
    pub fn name(self) -> &'static str {
        match self {
            Test::Smuggling => "smuggling",
            Test::StarttlsRequired => "starttls-required",
            Test::StarttlsInjection => "starttls-injection",
            Test::Relay => "relay",
            Test::VrfyExpn => "vrfy-expn",
            Test::AuthPlaintext => "auth-plaintext",
            Test::BannerLeak => "banner-leak",
        }
    }

    /// Whether the test sends an envelope (and so needs `--from`/`--to`).
    pub fn needs_envelope(self) -> bool {
        matches!(
            self,
            Test::Smuggling | Test::StarttlsRequired | Test::Relay | Test::VrfyExpn
        )
    }

    /// `--tests LIST`: names separated by commas (or spaces), `all` for
    /// every test; the result is in the order of [`Test::ALL`], each once.
    pub fn parse_list(list: &str) -> Result<Vec<Test>, AuditError> {
        let mut chosen = Vec::new();
        let words = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty());
        for word in words {
            if word.eq_ignore_ascii_case("all") {
                chosen.extend(Test::ALL);
                continue;
            }
            let test = Test::ALL
                .into_iter()
                .find(|t| t.name().eq_ignore_ascii_case(word))
                .ok_or_else(|| AuditError::UnknownTest(word.to_string()))?;
            chosen.push(test);
        }
        if chosen.is_empty() {
            return Err(AuditError::NoTests);
        }
        Ok(Test::ALL
            .into_iter()
            .filter(|t| chosen.contains(t))
            .collect())
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names `--tests` takes, for messages and help.
pub fn test_names() -> String {
    Test::ALL.map(Test::name).join(", ")
}

/// A mistake in what `--audit` was asked.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditError {
    /// A name `--tests` does not know.
    #[error("--tests: no test is called '{0}' (the tests: {names}, or all)", names = test_names())]
    UnknownTest(String),
    /// `--tests` with nothing in it.
    #[error("--tests names no test (the tests: {names}, or all)", names = test_names())]
    NoTests,
}

/// What a test found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// The server behaved as it should.
    Pass,
    /// The test could not tell (no TLS to test, a temporary refusal, a
    /// reply that fits no reading).
    Unknown,
    /// The server did what the test looks for.
    Vulnerable,
}

impl Verdict {
    /// The word the report shows.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Unknown => "UNKNOWN",
            Verdict::Vulnerable => "VULNERABLE",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A verdict with the reason for it, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in one sentence (outside text in it is escaped).
    pub detail: String,
}

impl Finding {
    fn new(verdict: Verdict, detail: impl Into<String>) -> Self {
        Finding {
            verdict,
            detail: detail.into(),
        }
    }
}

fn code(reply: &Reply) -> Option<u16> {
    reply.code().map(|c| c.value())
}

fn shown_code(reply: &Reply) -> String {
    code(reply).map_or_else(|| "a reply without a code".to_string(), |c| c.to_string())
}

// ---------------------------------------------------------------- smuggling

/// One end-of-data variant: the bytes a sloppy server may take for
/// `<CR><LF>.<CR><LF>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    /// How the report names it.
    pub name: &'static str,
    /// The bytes between the carrier message's last text and the smuggled
    /// `MAIL FROM`.
    pub ending: &'static [u8],
    /// Whether MAIL, RCPT, DATA and the message go out in one write
    /// (PIPELINING), instead of the message after the `354`.
    pub pipelined: bool,
}

/// The variants of the smuggling research: bare LF and bare CR forms, the
/// mixed ones, NUL- and space-padded dots, and the pipelined form.
pub const VARIANTS: &[Variant] = &[
    Variant {
        name: "<LF>.<LF>",
        ending: b"\n.\n",
        pipelined: false,
    },
    Variant {
        name: "<CR>.<CR>",
        ending: b"\r.\r",
        pipelined: false,
    },
    Variant {
        name: "<CR><LF>.<CR>",
        ending: b"\r\n.\r",
        pipelined: false,
    },
    Variant {
        name: "<LF>.<CR><LF>",
        ending: b"\n.\r\n",
        pipelined: false,
    },
    Variant {
        name: "<CR>.<CR><LF>",
        ending: b"\r.\r\n",
        pipelined: false,
    },
    Variant {
        name: "<CR><LF>.<LF>",
        ending: b"\r\n.\n",
        pipelined: false,
    },
    Variant {
        name: "<CR><LF>.<NUL><CR><LF>",
        ending: b"\r\n.\0\r\n",
        pipelined: false,
    },
    Variant {
        name: "<CR><LF><NUL>.<CR><LF>",
        ending: b"\r\n\0.\r\n",
        pipelined: false,
    },
    Variant {
        name: "<CR><LF>.<SP><CR><LF>",
        ending: b"\r\n. \r\n",
        pipelined: false,
    },
    Variant {
        name: "<CR><LF><SP>.<CR><LF>",
        ending: b"\r\n .\r\n",
        pipelined: false,
    },
    Variant {
        name: "pipelined <LF>.<LF>",
        ending: b"\n.\n",
        pipelined: true,
    },
];

/// The message text of a smuggling probe after the `354` (for the
/// pipelined form, after `DATA`): a carrier message ending in the variant's
/// sequence, a smuggled `MAIL`/`RCPT`/`DATA` and message for `to`, and the
/// real end of data. `token` marks both messages so that a mailbox shows
/// which arrived.
pub fn smuggling_payload(variant: &Variant, from: &str, to: &str, token: &str) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(
        format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: smtpcli audit carrier {token}\r\n\
             Message-ID: <carrier.{token}@smtpcli.invalid>\r\n\r\n\
             smtpcli --audit: this message carries the end-of-data variant {name}.\r\n\
             carrier {token}",
            name = variant.name
        )
        .as_bytes(),
    );
    out.extend_from_slice(variant.ending);
    out.extend_from_slice(
        format!(
            "MAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\nDATA\r\n\
             From: <{from}>\r\nTo: <{to}>\r\nSubject: smtpcli audit SMUGGLED {token}\r\n\
             Message-ID: <smuggled.{token}@smtpcli.invalid>\r\n\r\n\
             smuggled {token}: if this arrived as a message of its own, the server ended \
             the carrier's data at {name}.\r\n.\r\n",
            name = variant.name
        )
        .as_bytes(),
    );
    out
}

/// The commands that open the pipelined variant's carrier transaction.
pub fn pipelined_envelope(from: &str, to: &str) -> Vec<u8> {
    format!("MAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\nDATA\r\n").into_bytes()
}

/// What a server made of a smuggling probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Smuggled {
    /// It ended the data at the variant and accepted the smuggled message.
    Accepted,
    /// It ended the data at the variant but refused the smuggled
    /// transaction somewhere.
    EndedEarly,
    /// It refused the message (a bare CR or LF, say).
    Rejected,
    /// One message: the sequence stayed text.
    KeptAsText,
    /// The replies fit no reading (silence, a close, a temporary refusal).
    Unclear,
}

/// Reads the replies to a smuggling probe's message text (for the pipelined
/// form, after the three envelope replies); `closed`: the server closed
/// the connection after them.
pub fn read_smuggling(replies: &[Reply], closed: bool) -> (Smuggled, Finding) {
    let codes: Vec<Option<u16>> = replies.iter().map(code).collect();
    let Some(first) = replies.first() else {
        let why = if closed {
            "the server closed the connection without a reply to the message"
        } else {
            "no reply to the message in time"
        };
        return (Smuggled::Unclear, Finding::new(Verdict::Unknown, why));
    };
    match first.class_digit() {
        Some(5) => {
            return (
                Smuggled::Rejected,
                Finding::new(
                    Verdict::Pass,
                    format!(
                        "rejected: the server refused the message ({}){}",
                        shown_code(first),
                        if closed {
                            " and closed the connection"
                        } else {
                            ""
                        }
                    ),
                ),
            );
        }
        Some(2) => {}
        _ => {
            return (
                Smuggled::Unclear,
                Finding::new(
                    Verdict::Unknown,
                    format!(
                        "the message got {} (not a final answer): try again later",
                        shown_code(first)
                    ),
                ),
            );
        }
    }
    if replies.len() == 1 {
        return (
            Smuggled::KeptAsText,
            Finding::new(
                Verdict::Pass,
                "kept as text: one message accepted, nothing answered the smuggled commands",
            ),
        );
    }
    let mail = codes.get(1).copied().flatten();
    let rcpt = codes.get(2).copied().flatten();
    let data = codes.get(3).copied().flatten();
    let end = codes.get(4).copied().flatten();
    let positive = |c: Option<u16>| c.is_some_and(|c| (200..300).contains(&c));
    let said = |c: Option<u16>| c.map_or_else(|| "nothing".to_string(), |c| c.to_string());
    if positive(mail) && positive(rcpt) && data == Some(354) && positive(end) {
        return (
            Smuggled::Accepted,
            Finding::new(
                Verdict::Vulnerable,
                format!(
                    "accepted as end of data: the smuggled MAIL ({}), RCPT ({}), DATA (354) \
                     and message ({}) were all accepted",
                    said(mail),
                    said(rcpt),
                    said(end)
                ),
            ),
        );
    }
    (
        Smuggled::EndedEarly,
        Finding::new(
            Verdict::Vulnerable,
            format!(
                "ended the data early: the server answered the smuggled commands (MAIL {}, \
                 RCPT {}, DATA {}, message {}), so it took the sequence for the end of data, \
                 though this smuggled message was not accepted",
                said(mail),
                said(rcpt),
                said(data),
                said(end)
            ),
        ),
    )
}

// ---------------------------------------------------------------- relay

/// One row of the relay matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayCase {
    /// What the row tries, for the report.
    pub name: String,
    /// The reverse path (without brackets; empty for `<>`).
    pub from: String,
    /// The forward path (without brackets).
    pub to: String,
    /// Whether accepting the recipient means relaying (the control row,
    /// the audited mailbox itself, must be accepted).
    pub foreign: bool,
    /// Whether the row runs after a successful AUTH, where relaying is
    /// what a submission service does.
    pub authenticated: bool,
}

/// The domain relay rows address: reserved (RFC 2606), never delivered to
/// (no DATA is sent anyway); [`OTHER_FOREIGN_DOMAIN`] when the audited
/// mailbox is in it.
pub const FOREIGN_DOMAIN: &str = "example.net";
/// The foreign domain for a mailbox in [`FOREIGN_DOMAIN`].
pub const OTHER_FOREIGN_DOMAIN: &str = "example.com";

/// The relay matrix for a server that takes mail for `to` (the audited
/// mailbox) from `from`: a control row (`to` itself), then foreign
/// recipients with a foreign, the null and a local sender, and the old
/// routing tricks (`%`, `!`, quoted local parts, a source route) aimed
/// at the local domain.
pub fn relay_matrix(from: &str, to: &str) -> Vec<RelayCase> {
    let local = to.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let other = if local.eq_ignore_ascii_case(FOREIGN_DOMAIN) {
        OTHER_FOREIGN_DOMAIN
    } else {
        FOREIGN_DOMAIN
    };
    let foreign = format!("relay-probe@{other}");
    let row = |name: &str, from: &str, to: String, foreign: bool| RelayCase {
        name: name.to_string(),
        from: from.to_string(),
        to,
        foreign,
        authenticated: false,
    };
    let local_sender = format!("postmaster@{local}");
    vec![
        row("control: the audited mailbox", from, to.to_string(), false),
        row("foreign recipient", from, foreign.clone(), true),
        row("foreign recipient, null sender", "", foreign.clone(), true),
        row(
            "foreign recipient, local sender",
            &local_sender,
            foreign.clone(),
            true,
        ),
        row(
            "percent hack",
            from,
            format!("relay-probe%{other}@{local}"),
            true,
        ),
        row(
            "bang path",
            from,
            format!("{other}!relay-probe@{local}"),
            true,
        ),
        row(
            "quoted local part",
            from,
            format!("\"relay-probe@{other}\"@{local}"),
            true,
        ),
        row(
            "quoted percent hack",
            from,
            format!("\"relay-probe%{other}\"@{local}"),
            true,
        ),
        row(
            "source route",
            from,
            format!("@{local}:relay-probe@{other}"),
            true,
        ),
    ]
}

/// The row tried after AUTH: after a refused login with made-up
/// credentials (`failed`), relaying is as wrong as before it; after a
/// successful one (`--user`), it is what a submission service does.
pub fn relay_after_auth(from: &str, to: &str, failed: bool) -> RelayCase {
    let mut case = relay_matrix(from, to).swap_remove(1);
    if failed {
        case.name = "foreign recipient, after a failed AUTH".into();
    } else {
        case.name = "foreign recipient, authenticated".into();
        case.authenticated = true;
    }
    case
}

/// Reads the reply to AUTH with made-up credentials: accepting them is a
/// hole of its own.
pub fn read_made_up_auth(reply: &Reply) -> Option<Finding> {
    match reply.class_digit() {
        Some(2) => Some(Finding::new(
            Verdict::Vulnerable,
            format!("AUTH accepted made-up credentials ({})", shown_code(reply)),
        )),
        _ => None,
    }
}

/// Reads one row: the replies to its MAIL and (if MAIL was accepted) RCPT.
pub fn read_relay(case: &RelayCase, mail: &Reply, rcpt: Option<&Reply>) -> Finding {
    if !mail.is_positive_completion() {
        let verdict = if case.foreign {
            Verdict::Pass
        } else {
            Verdict::Unknown
        };
        return Finding::new(
            verdict,
            format!("MAIL refused ({}): no recipient tried", shown_code(mail)),
        );
    }
    let Some(rcpt) = rcpt else {
        return Finding::new(Verdict::Unknown, "no reply to RCPT");
    };
    match (case.foreign, rcpt.class_digit()) {
        (true, Some(2)) if case.authenticated => Finding::new(
            Verdict::Pass,
            format!(
                "accepted for the authenticated user ({}), as a submission service does",
                shown_code(rcpt)
            ),
        ),
        (true, Some(2)) => Finding::new(
            Verdict::Vulnerable,
            format!(
                "relays: the foreign recipient was accepted ({})",
                shown_code(rcpt)
            ),
        ),
        (true, Some(5)) => Finding::new(Verdict::Pass, format!("refused ({})", shown_code(rcpt))),
        (false, Some(2)) => Finding::new(
            Verdict::Pass,
            format!("the audited mailbox is accepted ({})", shown_code(rcpt)),
        ),
        (false, _) => Finding::new(
            Verdict::Unknown,
            format!(
                "the audited mailbox itself was refused ({}): the other rows cannot be trusted \
                 (is --to a mailbox on this server?)",
                shown_code(rcpt)
            ),
        ),
        (true, _) => Finding::new(
            Verdict::Unknown,
            format!(
                "{}: neither accepted nor refused for good",
                shown_code(rcpt)
            ),
        ),
    }
}

// ---------------------------------------------------------------- VRFY / EXPN

/// Reads VRFY (or EXPN) for an existing mailbox and for one that cannot
/// exist: users are confirmed when the existing one gets `250`/`251`, or
/// when the two answers differ in class (Postfix answers `252` for a user
/// it knows and `550` for one it does not).
pub fn read_verify(verb: &str, known: &Reply, unknown: &Reply) -> Finding {
    let (k, u) = (code(known), code(unknown));
    let shown = format!(
        "{} for the audited mailbox, {} for a made-up one",
        shown_code(known),
        shown_code(unknown)
    );
    if matches!(k, Some(250 | 251)) {
        return Finding::new(
            Verdict::Vulnerable,
            format!("{verb} confirms the user: {shown}"),
        );
    }
    if known.class_digit() == Some(2) && unknown.class_digit() == Some(5) {
        return Finding::new(
            Verdict::Vulnerable,
            format!("{verb} tells existing users from others: {shown}"),
        );
    }
    if matches!(k, Some(500 | 502 | 504 | 550 | 530 | 554)) || k == u {
        return Finding::new(
            Verdict::Pass,
            format!("{verb} does not confirm users: {shown}"),
        );
    }
    if known.class_digit() == Some(4) {
        return Finding::new(
            Verdict::Unknown,
            format!("{verb} got a temporary refusal: {shown}"),
        );
    }
    Finding::new(
        Verdict::Pass,
        format!("{verb} answers alike for both: {shown}"),
    )
}

// ---------------------------------------------------------------- banner

/// Names of SMTP server software (and the words that give one away), as
/// banners and EHLO greetings show them.
const SOFTWARE: &[&str] = &[
    "postfix",
    "exim",
    "sendmail",
    "qmail",
    "netqmail",
    "opensmtpd",
    "haraka",
    "microsoft",
    "exchange",
    "hmailserver",
    "mdaemon",
    "zimbra",
    "courier",
    "kerio",
    "communigate",
    "icewarp",
    "axigen",
    "mailenable",
    "smartermail",
    "james",
    "aiosmtpd",
    "python",
    "stalwart",
    "maddy",
    "chasquid",
    "postal",
    "smtp-sink",
    "debian",
    "ubuntu",
    "centos",
    "red hat",
    "freebsd",
];

/// What a banner or EHLO greeting gives away: software names and version
/// numbers, in the order found.
pub fn leaks(text: &Untrusted, skip_first_word: bool) -> Vec<String> {
    let raw = text.unchecked_str();
    let lower = raw.to_ascii_lowercase();
    let mut words: Vec<&str> = raw.split_whitespace().collect();
    let mut lower_words: Vec<&str> = lower.split_whitespace().collect();
    if skip_first_word && !words.is_empty() {
        // The host name: its digits are no version.
        words.remove(0);
        lower_words.remove(0);
    }
    let mut found = Vec::new();
    let rest = lower_words.join(" ");
    for name in SOFTWARE {
        if contains_word(&rest, name) {
            found.push(format!("software '{name}'"));
        }
    }
    for word in words {
        let word = word.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | ',' | ';'));
        if is_version(word) {
            found.push(format!("version '{}'", crate::text::escape_str(word)));
        }
    }
    found
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        edge(before) && edge(after)
    })
}

/// `3.7.11`, `v8.15.2`, `Exim-4.96`, `8.15.2/8.15.2`: a dotted number that
/// is not an IPv4 address or an enhanced status code.
fn is_version(word: &str) -> bool {
    let start = word.find(|c: char| c.is_ascii_digit());
    let Some(start) = start else {
        return false;
    };
    let tail = &word[start..];
    let number: String = tail
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let parts: Vec<&str> = number.trim_end_matches('.').split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
        return false;
    }
    // An IPv4 address (or a part of one) names a host, not a version.
    if parts.len() == 4 && parts.iter().all(|p| p.parse::<u8>().is_ok()) {
        return false;
    }
    // An enhanced status code standing alone.
    let enhanced = parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && start == 0
        && number.len() == word.len();
    !enhanced
}

/// Reads the banner and the EHLO greeting line.
pub fn read_banner(banner: &Reply, ehlo: Option<&Reply>) -> Finding {
    let mut found = leaks(&banner.text(), true);
    if let Some(greeting) = ehlo.and_then(|r| r.lines.first()) {
        for leak in leaks(&greeting.text(), true) {
            if !found.contains(&leak) {
                found.push(leak);
            }
        }
    }
    if found.is_empty() {
        Finding::new(
            Verdict::Pass,
            "the banner and the EHLO greeting name no software and no version",
        )
    } else {
        Finding::new(
            Verdict::Vulnerable,
            format!("the server gives away {}", found.join(", ")),
        )
    }
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
