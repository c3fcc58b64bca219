//! EHLO capabilities: what a server said it can do in its `250` reply to
//! EHLO (RFC 5321 §4.1.1.1 and the extension RFCs), read leniently into
//! typed values, explained for the `:caps` table, and compared before and
//! after STARTTLS.
//!
//! This module only reads the *texts* of the reply lines (what follows
//! `250-`/`250 `); splitting a reply into lines is the reply parser's job.
//! Parsing never fails: servers send odd case, odd spacing, bare keywords and
//! legacy forms (`AUTH=LOGIN PLAIN`), and a test client must show them rather
//! than refuse them. Unknown keywords are kept as received.

use std::borrow::Cow;
use std::fmt;

use super::auth::is_mechanism_name;
use crate::text::{Untrusted, join_escaped as joined};

/// One EHLO keyword with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capability {
    /// RFC 1870. `None`: bare `SIZE` or a parameter that is not a number.
    /// `Some(0)`: the server declares no fixed maximum.
    Size(Option<u64>),
    /// RFC 4954. Mechanism names upper-cased, in the server's order.
    Auth(Vec<Untrusted>),
    StartTls,
    Pipelining,
    EightBitMime,
    BinaryMime,
    Chunking,
    SmtpUtf8,
    Dsn,
    EnhancedStatusCodes,
    RequireTls,
    /// RFC 2852; the parameter is the minimum BY time in seconds.
    DeliverBy(Option<Untrusted>),
    /// RFC 6710; the parameter is the priority assignment policy.
    MtPriority(Option<Untrusted>),
    Prdr,
    /// Exim's early pipelining (draft-harris-early-pipe): a client that
    /// remembers this EHLO reply may send its next EHLO before the banner.
    PipeConnect,
    /// RFC 9422: `(name, value)` pairs, names upper-cased; a parameter without
    /// `=` has an empty value.
    Limits(Vec<(Untrusted, Untrusted)>),
    /// Postfix XCLIENT: the attribute names the client may set.
    XClient(Vec<Untrusted>),
    /// Postfix XFORWARD: the attribute names the client may forward.
    XForward(Vec<Untrusted>),
    Etrn,
    Vrfy,
    Help,
    Expn,
    /// A keyword smtpcli does not know, as received. The legacy
    /// `AUTH=LOGIN PLAIN` form lands here too (keyword `AUTH=LOGIN`): it is
    /// not a valid EHLO keyword, but [`Capabilities::auth_mechanisms`] reads
    /// it.
    Other {
        keyword: Untrusted,
        params: Vec<Untrusted>,
    },
}

/// Every EHLO keyword smtpcli knows by name (each parses to its own
/// [`Capability`], not [`Capability::Other`]); `help KEYWORD` covers each.
pub const KNOWN_KEYWORDS: &[&str] = &[
    "SIZE",
    "AUTH",
    "STARTTLS",
    "PIPELINING",
    "8BITMIME",
    "BINARYMIME",
    "CHUNKING",
    "SMTPUTF8",
    "DSN",
    "ENHANCEDSTATUSCODES",
    "REQUIRETLS",
    "DELIVERBY",
    "MT-PRIORITY",
    "PRDR",
    "PIPECONNECT",
    "LIMITS",
    "XCLIENT",
    "XFORWARD",
    "ETRN",
    "VRFY",
    "HELP",
    "EXPN",
];

impl Capability {
    /// Reads one EHLO line's text (after `250-`/`250 `). Never fails: a
    /// malformed parameter degrades (a non-numeric `SIZE` becomes
    /// `Size(None)`), parameters of keywords that take none are ignored, and
    /// anything unknown becomes [`Capability::Other`].
    pub fn parse(line: impl Into<Untrusted>) -> Capability {
        let line = line.into();
        let mut words = line.words();
        let keyword = words.next().unwrap_or_default();
        let params: Vec<Untrusted> = words.collect();
        let first = params.first().cloned();

        match keyword.to_ascii_uppercase().unchecked_str().as_ref() {
            "SIZE" => Capability::Size(params.first().and_then(parse_digits)),
            "AUTH" => Capability::Auth(params.iter().map(Untrusted::to_ascii_uppercase).collect()),
            "STARTTLS" => Capability::StartTls,
            "PIPELINING" => Capability::Pipelining,
            "8BITMIME" => Capability::EightBitMime,
            "BINARYMIME" => Capability::BinaryMime,
            "CHUNKING" => Capability::Chunking,
            "SMTPUTF8" => Capability::SmtpUtf8,
            "DSN" => Capability::Dsn,
            "ENHANCEDSTATUSCODES" => Capability::EnhancedStatusCodes,
            "REQUIRETLS" => Capability::RequireTls,
            "DELIVERBY" => Capability::DeliverBy(first),
            "MT-PRIORITY" => Capability::MtPriority(first),
            "PRDR" => Capability::Prdr,
            "PIPECONNECT" => Capability::PipeConnect,
            "LIMITS" => Capability::Limits(
                params
                    .iter()
                    .map(|p| match p.as_bytes().iter().position(|&b| b == b'=') {
                        Some(at) => (
                            Untrusted::new(&p.as_bytes()[..at]).to_ascii_uppercase(),
                            Untrusted::new(&p.as_bytes()[at + 1..]),
                        ),
                        None => (p.to_ascii_uppercase(), Untrusted::default()),
                    })
                    .collect(),
            ),
            "XCLIENT" => Capability::XClient(params),
            "XFORWARD" => Capability::XForward(params),
            "ETRN" => Capability::Etrn,
            "VRFY" => Capability::Vrfy,
            "HELP" => Capability::Help,
            "EXPN" => Capability::Expn,
            _ => Capability::Other { keyword, params },
        }
    }

    /// The canonical upper-case keyword (`"SIZE"`, `"8BITMIME"`, ...); for
    /// [`Capability::Other`] the keyword as received, escaped.
    pub fn keyword(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            Capability::Size(_) => "SIZE",
            Capability::Auth(_) => "AUTH",
            Capability::StartTls => "STARTTLS",
            Capability::Pipelining => "PIPELINING",
            Capability::EightBitMime => "8BITMIME",
            Capability::BinaryMime => "BINARYMIME",
            Capability::Chunking => "CHUNKING",
            Capability::SmtpUtf8 => "SMTPUTF8",
            Capability::Dsn => "DSN",
            Capability::EnhancedStatusCodes => "ENHANCEDSTATUSCODES",
            Capability::RequireTls => "REQUIRETLS",
            Capability::DeliverBy(_) => "DELIVERBY",
            Capability::MtPriority(_) => "MT-PRIORITY",
            Capability::Prdr => "PRDR",
            Capability::PipeConnect => "PIPECONNECT",
            Capability::Limits(_) => "LIMITS",
            Capability::XClient(_) => "XCLIENT",
            Capability::XForward(_) => "XFORWARD",
            Capability::Etrn => "ETRN",
            Capability::Vrfy => "VRFY",
            Capability::Help => "HELP",
            Capability::Expn => "EXPN",
            Capability::Other { keyword, .. } => {
                return Cow::Owned(keyword.escaped().to_string());
            }
        })
    }

    /// One line saying what the capability means for the client.
    pub fn description(&self) -> String {
        match self {
            Capability::Size(Some(0)) => {
                "SIZE= may be declared; no fixed message size limit".into()
            }
            Capability::Size(Some(n)) if *n < 1024 => format!("messages up to {n} bytes"),
            Capability::Size(Some(n)) => {
                format!("messages up to {} ({n} bytes)", human_size(*n))
            }
            Capability::Size(None) => "SIZE= may be declared; no maximum announced".into(),
            Capability::Auth(mechs) if mechs.is_empty() => {
                "authentication offered, but no mechanisms listed".into()
            }
            Capability::Auth(mechs) => format!("authentication: {}", joined(mechs)),
            Capability::StartTls => "the connection can be upgraded to TLS with STARTTLS".into(),
            Capability::Pipelining => "commands may be sent in batches".into(),
            Capability::EightBitMime => "8-bit message bodies accepted (BODY=8BITMIME)".into(),
            Capability::BinaryMime => {
                "binary message bodies accepted with BDAT (BODY=BINARYMIME)".into()
            }
            Capability::Chunking => "messages may be sent in chunks with BDAT".into(),
            Capability::SmtpUtf8 => {
                "UTF-8 addresses and headers accepted (MAIL ... SMTPUTF8)".into()
            }
            Capability::Dsn => {
                "delivery status notifications on request (NOTIFY=, RET=, ENVID=, ORCPT=)".into()
            }
            Capability::EnhancedStatusCodes => {
                "replies carry enhanced status codes such as 2.1.0".into()
            }
            Capability::RequireTls => {
                "REQUIRETLS on MAIL: the message may only travel over verified TLS".into()
            }
            Capability::DeliverBy(Some(secs)) => {
                format!(
                    "a delivery deadline may be requested (BY=), at least {} s",
                    secs.escaped()
                )
            }
            Capability::DeliverBy(None) => "a delivery deadline may be requested (BY=)".into(),
            Capability::MtPriority(Some(policy)) => {
                format!(
                    "message priority may be set (MT-PRIORITY=), policy {}",
                    policy.escaped()
                )
            }
            Capability::MtPriority(None) => "message priority may be set (MT-PRIORITY=)".into(),
            Capability::Prdr => "one reply per recipient after the message data".into(),
            Capability::PipeConnect => "early pipelining: a client that remembers this reply \
                 may send its next EHLO without waiting for the banner"
                .into(),
            Capability::Limits(limits) if limits.is_empty() => {
                "limits announced, none listed".into()
            }
            Capability::Limits(limits) => format!(
                "limits: {}",
                limits
                    .iter()
                    .map(|(name, value)| describe_limit(name, value))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Capability::XClient(attrs) => {
                format!("trusted clients may override {}", attr_list(attrs))
            }
            Capability::XForward(attrs) => {
                format!(
                    "trusted clients may forward the original {}",
                    attr_list(attrs)
                )
            }
            Capability::Etrn => "a queue run for a domain may be requested with ETRN".into(),
            Capability::Vrfy => "addresses may be checked with VRFY".into(),
            Capability::Help => "HELP gives help text".into(),
            Capability::Expn => "mailing lists may be expanded with EXPN".into(),
            Capability::Other { .. } => match self.legacy_auth_mechanisms() {
                Some(mechs) => format!(
                    "authentication, old-style line for old clients: {}",
                    joined(&mechs)
                ),
                None => "extension not known to smtpcli".into(),
            },
        }
    }

    /// The RFC that defines the extension, where there is one.
    pub fn rfc(&self) -> Option<&'static str> {
        match self {
            Capability::Size(_) => Some("RFC 1870"),
            Capability::Auth(_) => Some("RFC 4954"),
            Capability::StartTls => Some("RFC 3207"),
            Capability::Pipelining => Some("RFC 2920"),
            Capability::EightBitMime => Some("RFC 6152"),
            Capability::BinaryMime | Capability::Chunking => Some("RFC 3030"),
            Capability::SmtpUtf8 => Some("RFC 6531"),
            Capability::Dsn => Some("RFC 3461"),
            Capability::EnhancedStatusCodes => Some("RFC 2034"),
            Capability::RequireTls => Some("RFC 8689"),
            Capability::DeliverBy(_) => Some("RFC 2852"),
            Capability::MtPriority(_) => Some("RFC 6710"),
            Capability::Limits(_) => Some("RFC 9422"),
            Capability::Etrn => Some("RFC 1985"),
            Capability::Vrfy | Capability::Help | Capability::Expn => Some("RFC 5321"),
            // PRDR and PIPECONNECT are Internet-Drafts; XCLIENT/XFORWARD are
            // Postfix's own.
            Capability::Prdr
            | Capability::PipeConnect
            | Capability::XClient(_)
            | Capability::XForward(_)
            | Capability::Other { .. } => None,
        }
    }

    /// The mechanisms of a legacy `AUTH=MECH MECH...` line, upper-cased.
    fn legacy_auth_mechanisms(&self) -> Option<Vec<Untrusted>> {
        let Capability::Other { keyword, params } = self else {
            return None;
        };
        let bytes = keyword.as_bytes();
        if bytes.len() < 5 || !bytes[..5].eq_ignore_ascii_case(b"AUTH=") {
            return None;
        }
        Some(
            std::iter::once(Untrusted::new(&bytes[5..]))
                .chain(params.iter().cloned())
                .filter(|m| !m.is_empty())
                .map(|m| m.to_ascii_uppercase())
                .collect(),
        )
    }
}

/// Wire-like form: `SIZE 10240000`, `AUTH PLAIN LOGIN`, unknown keywords as
/// received (parameters joined by single spaces).
impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.keyword())?;
        let write_all = |f: &mut fmt::Formatter<'_>, params: &[Untrusted]| {
            params
                .iter()
                .try_for_each(|p| write!(f, " {}", p.escaped()))
        };
        match self {
            Capability::Size(Some(n)) => write!(f, " {n}"),
            Capability::DeliverBy(Some(p)) | Capability::MtPriority(Some(p)) => {
                write!(f, " {}", p.escaped())
            }
            Capability::Auth(params)
            | Capability::XClient(params)
            | Capability::XForward(params)
            | Capability::Other { params, .. } => write_all(f, params),
            Capability::Limits(limits) => limits.iter().try_for_each(|(name, value)| {
                if value.is_empty() {
                    write!(f, " {}", name.escaped())
                } else {
                    write!(f, " {}={}", name.escaped(), value.escaped())
                }
            }),
            _ => Ok(()),
        }
    }
}

/// What a server offered in one EHLO reply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The first word of the first line: the name the server gives itself.
    pub domain: Untrusted,
    /// The rest of the first line (`Hello client [192.0.2.1]`), maybe empty.
    pub greeting: Untrusted,
    /// The capabilities in the server's order, duplicates kept.
    pub list: Vec<Capability>,
}

impl Capabilities {
    /// Reads the texts of all lines of a `250` reply to EHLO; the first is
    /// `domain [greeting]`, each further non-blank one a capability.
    pub fn from_lines<T: Into<Untrusted>>(texts: impl IntoIterator<Item = T>) -> Capabilities {
        let mut texts = texts.into_iter().map(Into::into);
        let (domain, greeting) = match texts.next() {
            Some(first) => {
                let bytes = first.as_bytes().trim_ascii();
                match bytes.iter().position(u8::is_ascii_whitespace) {
                    Some(at) => (
                        Untrusted::new(&bytes[..at]),
                        Untrusted::new(bytes[at..].trim_ascii()),
                    ),
                    None => (Untrusted::new(bytes), Untrusted::default()),
                }
            }
            None => (Untrusted::default(), Untrusted::default()),
        };
        let list = texts
            .filter(|text| !text.as_bytes().trim_ascii().is_empty())
            .map(Capability::parse)
            .collect();
        Capabilities {
            domain,
            greeting,
            list,
        }
    }

    /// Whether a keyword was offered, compared case-insensitively. `AUTH`
    /// also counts as offered when only the legacy `AUTH=...` form was sent.
    pub fn has(&self, keyword: &str) -> bool {
        self.list
            .iter()
            .any(|cap| cap.keyword().eq_ignore_ascii_case(keyword))
            || (keyword.eq_ignore_ascii_case("AUTH")
                && self
                    .list
                    .iter()
                    .any(|cap| cap.legacy_auth_mechanisms().is_some()))
    }

    /// All SASL mechanisms offered, upper-cased, without duplicates, in the
    /// order first seen: the union of `AUTH` lines and legacy `AUTH=` lines.
    /// Only names in RFC 4422's charset count (see
    /// [`is_mechanism_name`]): anything else after `AUTH` is not a
    /// mechanism a client could ask for, and is shown only escaped.
    pub fn auth_mechanisms(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for cap in &self.list {
            let mechs = match cap {
                Capability::Auth(mechs) => mechs.clone(),
                other => other.legacy_auth_mechanisms().unwrap_or_default(),
            };
            for mech in &mechs {
                let Some(name) = mech
                    .checked(|c| c.is_ascii())
                    .filter(|n| is_mechanism_name(n))
                else {
                    continue;
                };
                if !all.iter().any(|known| known == name) {
                    all.push(name.to_owned());
                }
            }
        }
        all
    }

    /// The announced maximum message size in bytes. `None` when SIZE is not
    /// offered, has no usable number, or is `SIZE 0` (no fixed maximum).
    pub fn size_limit(&self) -> Option<u64> {
        self.list.iter().find_map(|cap| match cap {
            Capability::Size(Some(n)) if *n > 0 => Some(*n),
            _ => None,
        })
    }

    /// A LIMITS (RFC 9422) value as a number, `RCPTMAX` or `MAILMAX`:
    /// `None` when not announced, not a number, or 0 (which RFC 9422 does
    /// not allow, so it limits nothing).
    pub fn limit(&self, name: &str) -> Option<u64> {
        self.list.iter().find_map(|cap| match cap {
            Capability::Limits(limits) => limits.iter().find_map(|(key, value)| {
                (key.as_bytes().eq_ignore_ascii_case(name.as_bytes()))
                    .then(|| {
                        std::str::from_utf8(value.as_bytes())
                            .ok()?
                            .parse::<u64>()
                            .ok()
                    })
                    .flatten()
                    .filter(|n| *n > 0)
            }),
            _ => None,
        })
    }

    pub fn supports_pipelining(&self) -> bool {
        self.has("PIPELINING")
    }

    pub fn supports_starttls(&self) -> bool {
        self.has("STARTTLS")
    }

    pub fn supports_smtputf8(&self) -> bool {
        self.has("SMTPUTF8")
    }

    pub fn supports_chunking(&self) -> bool {
        self.has("CHUNKING")
    }

    pub fn supports_8bitmime(&self) -> bool {
        self.has("8BITMIME")
    }

    pub fn supports_dsn(&self) -> bool {
        self.has("DSN")
    }

    /// What changed from `self` to `after` (typically: before and after
    /// STARTTLS). Capabilities are matched by keyword, case-insensitively;
    /// the same keyword with other parameters is "changed". Removed and
    /// changed entries come in `self`'s order, added ones in `after`'s.
    pub fn diff(&self, after: &Capabilities) -> CapabilityDiff {
        let mut diff = CapabilityDiff::default();
        // Entries of `after` not yet paired with an entry of `self`.
        let mut unmatched: Vec<Option<&Capability>> = after.list.iter().map(Some).collect();
        for old in &self.list {
            let partner = unmatched.iter_mut().find(|slot| {
                slot.is_some_and(|new| new.keyword().eq_ignore_ascii_case(&old.keyword()))
            });
            match partner.and_then(Option::take) {
                Some(new) if new == old => {}
                Some(new) => diff.changed.push((old.clone(), new.clone())),
                None => diff.removed.push(old.clone()),
            }
        }
        diff.added = unmatched.into_iter().flatten().cloned().collect();
        diff
    }
}

/// The difference between two EHLO replies, see [`Capabilities::diff`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapabilityDiff {
    pub added: Vec<Capability>,
    pub removed: Vec<Capability>,
    /// `(before, after)` pairs with the same keyword.
    pub changed: Vec<(Capability, Capability)>,
}

impl CapabilityDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// A decimal number of ASCII digits only (`u64::from_str` would take `+5`).
fn parse_digits(text: &Untrusted) -> Option<u64> {
    text.checked(|c| c.is_ascii_digit())
        .filter(|digits| !digits.is_empty())?
        .parse()
        .ok()
}

/// `52428800` → `50 MiB`, `10240000` → `9.8 MiB`.
fn human_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (name, unit) in UNITS {
        if bytes >= unit {
            return if bytes.is_multiple_of(unit) {
                format!("{} {name}", bytes / unit)
            } else {
                // Display only: the exact count is always shown beside it.
                let value = bytes as f64 / unit as f64;
                format!("{value:.1} {name}")
            };
        }
    }
    format!("{bytes} bytes")
}

fn describe_limit(name: &Untrusted, value: &Untrusted) -> String {
    let (name, value) = (name.escaped(), value.escaped());
    match name.to_string().as_str() {
        "RCPTMAX" => format!("{value} recipients per transaction"),
        "RCPTDOMAINMAX" => format!("{value} recipient domains per transaction"),
        "MAILMAX" => format!("{value} transactions per connection"),
        name if value.to_string().is_empty() => name.to_owned(),
        name => format!("{name}={value}"),
    }
}

fn attr_list(attrs: &[Untrusted]) -> String {
    if attrs.is_empty() {
        "connection attributes".to_owned()
    } else {
        joined(attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(text: &str) -> Untrusted {
        Untrusted::from(text)
    }

    fn strings(items: &[&str]) -> Vec<Untrusted> {
        items.iter().map(|item| s(item)).collect()
    }

    const POSTFIX_PLAIN: &[&str] = &[
        "mailserver.example.com",
        "PIPELINING",
        "SIZE 10240000",
        "VRFY",
        "ETRN",
        "STARTTLS",
        "ENHANCEDSTATUSCODES",
        "8BITMIME",
        "DSN",
        "SMTPUTF8",
        "CHUNKING",
    ];

    const POSTFIX_TLS: &[&str] = &[
        "mailserver.example.com",
        "PIPELINING",
        "SIZE 10240000",
        "VRFY",
        "ETRN",
        "AUTH PLAIN LOGIN CRAM-MD5 DIGEST-MD5",
        "ENHANCEDSTATUSCODES",
        "8BITMIME",
        "DSN",
        "SMTPUTF8",
        "CHUNKING",
    ];

    const AIOSMTPD: &[&str] = &[
        "myhost.example.net",
        "SIZE 33554432",
        "8BITMIME",
        "SMTPUTF8",
        "STARTTLS",
        "AUTH LOGIN PLAIN",
        "HELP",
    ];

    const EXIM: &[&str] = &[
        "mail.example.com Hello client.example.org [192.0.2.7]",
        "SIZE 52428800",
        "8BITMIME",
        "PIPELINING",
        "AUTH PLAIN LOGIN",
        "AUTH=PLAIN LOGIN CRAM-MD5",
        "CHUNKING",
        "HELP",
    ];

    #[test]
    fn parse_lines() {
        let cases: Vec<(&str, Capability)> = vec![
            ("SIZE 10240000", Capability::Size(Some(10_240_000))),
            ("SIZE", Capability::Size(None)),
            ("SIZE abc", Capability::Size(None)),
            ("SIZE +5", Capability::Size(None)),
            ("SIZE 0", Capability::Size(Some(0))),
            ("size 1000", Capability::Size(Some(1000))),
            ("  SIZE \t 2048  ", Capability::Size(Some(2048))),
            ("SIZE 99999999999999999999999", Capability::Size(None)),
            (
                "AUTH PLAIN LOGIN",
                Capability::Auth(strings(&["PLAIN", "LOGIN"])),
            ),
            (
                "auth plain  login\t",
                Capability::Auth(strings(&["PLAIN", "LOGIN"])),
            ),
            ("AUTH", Capability::Auth(vec![])),
            ("STARTTLS", Capability::StartTls),
            ("starttls", Capability::StartTls),
            ("PIPELINING", Capability::Pipelining),
            ("PIPELINING extra", Capability::Pipelining),
            ("8BITMIME", Capability::EightBitMime),
            ("BINARYMIME", Capability::BinaryMime),
            ("CHUNKING", Capability::Chunking),
            ("SMTPUTF8", Capability::SmtpUtf8),
            ("DSN", Capability::Dsn),
            ("EnhancedStatusCodes", Capability::EnhancedStatusCodes),
            ("REQUIRETLS", Capability::RequireTls),
            ("DELIVERBY", Capability::DeliverBy(None)),
            ("DELIVERBY 240", Capability::DeliverBy(Some(s("240")))),
            (
                "MT-PRIORITY MIXER",
                Capability::MtPriority(Some(s("MIXER"))),
            ),
            ("MT-PRIORITY", Capability::MtPriority(None)),
            ("PRDR", Capability::Prdr),
            ("pipeconnect", Capability::PipeConnect),
            (
                "LIMITS RCPTMAX=10 MAILMAX=5",
                Capability::Limits(vec![(s("RCPTMAX"), s("10")), (s("MAILMAX"), s("5"))]),
            ),
            (
                "limits rcptmax=10 FUTURE",
                Capability::Limits(vec![(s("RCPTMAX"), s("10")), (s("FUTURE"), s(""))]),
            ),
            (
                "XCLIENT NAME ADDR PROTO HELO",
                Capability::XClient(strings(&["NAME", "ADDR", "PROTO", "HELO"])),
            ),
            (
                "XFORWARD NAME ADDR",
                Capability::XForward(strings(&["NAME", "ADDR"])),
            ),
            ("ETRN", Capability::Etrn),
            ("VRFY", Capability::Vrfy),
            ("HELP", Capability::Help),
            ("EXPN", Capability::Expn),
            (
                "X-EXPS GSSAPI NTLM",
                Capability::Other {
                    keyword: s("X-EXPS"),
                    params: strings(&["GSSAPI", "NTLM"]),
                },
            ),
            (
                "x-link2state",
                Capability::Other {
                    keyword: s("x-link2state"),
                    params: vec![],
                },
            ),
            (
                "AUTH=PLAIN LOGIN",
                Capability::Other {
                    keyword: s("AUTH=PLAIN"),
                    params: strings(&["LOGIN"]),
                },
            ),
            (
                "",
                Capability::Other {
                    keyword: s(""),
                    params: vec![],
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(Capability::parse(line), want, "line {line:?}");
        }
    }

    #[test]
    fn display_is_wire_like() {
        let cases = [
            ("SIZE 10240000", "SIZE 10240000"),
            ("size", "SIZE"),
            ("auth plain login", "AUTH PLAIN LOGIN"),
            ("8bitmime", "8BITMIME"),
            (
                "LIMITS rcptmax=10  MAILMAX=5",
                "LIMITS RCPTMAX=10 MAILMAX=5",
            ),
            ("DELIVERBY 240", "DELIVERBY 240"),
            ("x-Unknown  a\tb", "x-Unknown a b"),
            ("AUTH=LOGIN PLAIN", "AUTH=LOGIN PLAIN"),
        ];
        for (line, want) in cases {
            assert_eq!(Capability::parse(line).to_string(), want, "line {line:?}");
        }
    }

    #[test]
    fn every_known_keyword_parses_as_itself() {
        for keyword in KNOWN_KEYWORDS {
            let capability = Capability::parse(*keyword);
            assert!(!matches!(capability, Capability::Other { .. }), "{keyword}");
            assert_eq!(capability.keyword(), *keyword);
        }
    }

    #[test]
    fn descriptions() {
        let cases = [
            ("SIZE 52428800", "messages up to 50 MiB (52428800 bytes)"),
            ("SIZE 10240000", "messages up to 9.8 MiB (10240000 bytes)"),
            ("SIZE 33554432", "messages up to 32 MiB (33554432 bytes)"),
            ("SIZE 2048", "messages up to 2 KiB (2048 bytes)"),
            ("SIZE 1000", "messages up to 1000 bytes"),
            (
                "SIZE 0",
                "SIZE= may be declared; no fixed message size limit",
            ),
            ("SIZE", "SIZE= may be declared; no maximum announced"),
            ("AUTH PLAIN LOGIN", "authentication: PLAIN, LOGIN"),
            ("PIPELINING", "commands may be sent in batches"),
            (
                "LIMITS RCPTMAX=10 MAILMAX=5",
                "limits: 10 recipients per transaction, 5 transactions per connection",
            ),
            (
                "AUTH=LOGIN PLAIN",
                "authentication, old-style line for old clients: LOGIN, PLAIN",
            ),
            (
                "PIPECONNECT",
                "early pipelining: a client that remembers this reply may send its next EHLO \
                 without waiting for the banner",
            ),
            ("X-FOO", "extension not known to smtpcli"),
        ];
        for (line, want) in cases {
            assert_eq!(Capability::parse(line).description(), want, "line {line:?}");
        }
    }

    #[test]
    fn rfcs() {
        let cases = [
            ("SIZE 1", Some("RFC 1870")),
            ("AUTH PLAIN", Some("RFC 4954")),
            ("STARTTLS", Some("RFC 3207")),
            ("PIPELINING", Some("RFC 2920")),
            ("CHUNKING", Some("RFC 3030")),
            ("SMTPUTF8", Some("RFC 6531")),
            ("LIMITS", Some("RFC 9422")),
            ("PRDR", None),
            ("PIPECONNECT", None),
            ("XCLIENT NAME", None),
            ("X-FOO", None),
        ];
        for (line, want) in cases {
            assert_eq!(Capability::parse(line).rfc(), want, "line {line:?}");
        }
    }

    #[test]
    fn every_known_capability_describes_itself() {
        let lines = [
            "SIZE 1",
            "AUTH",
            "STARTTLS",
            "PIPELINING",
            "8BITMIME",
            "BINARYMIME",
            "CHUNKING",
            "SMTPUTF8",
            "DSN",
            "ENHANCEDSTATUSCODES",
            "REQUIRETLS",
            "DELIVERBY 60",
            "MT-PRIORITY STANAG4406",
            "PRDR",
            "PIPECONNECT",
            "LIMITS",
            "XCLIENT",
            "XFORWARD NAME",
            "ETRN",
            "VRFY",
            "HELP",
            "EXPN",
        ];
        for line in lines {
            let cap = Capability::parse(line);
            assert!(!matches!(cap, Capability::Other { .. }), "{line}");
            assert_eq!(cap.keyword(), line.split(' ').next().unwrap_or(""));
            assert!(!cap.description().is_empty(), "{line}");
        }
    }

    #[test]
    fn postfix_plain() {
        let caps = Capabilities::from_lines(POSTFIX_PLAIN.iter().copied());
        assert_eq!(caps.domain, "mailserver.example.com");
        assert_eq!(caps.greeting, "");
        assert_eq!(caps.list.len(), 10);
        assert_eq!(caps.size_limit(), Some(10_240_000));
        assert!(caps.supports_pipelining());
        assert!(caps.supports_starttls());
        assert!(caps.supports_smtputf8());
        assert!(caps.supports_chunking());
        assert!(caps.supports_8bitmime());
        assert!(caps.supports_dsn());
        assert!(caps.has("vrfy") && caps.has("ETRN") && caps.has("EnhancedStatusCodes"));
        assert!(!caps.has("AUTH"));
        assert!(caps.auth_mechanisms().is_empty());
    }

    #[test]
    fn postfix_after_starttls_diff() {
        let before = Capabilities::from_lines(POSTFIX_PLAIN.iter().copied());
        let after = Capabilities::from_lines(POSTFIX_TLS.iter().copied());
        assert_eq!(
            after.auth_mechanisms(),
            ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5"]
        );
        assert!(!after.supports_starttls());
        let diff = before.diff(&after);
        assert_eq!(
            diff,
            CapabilityDiff {
                added: vec![Capability::Auth(strings(&[
                    "PLAIN",
                    "LOGIN",
                    "CRAM-MD5",
                    "DIGEST-MD5"
                ]))],
                removed: vec![Capability::StartTls],
                changed: vec![],
            }
        );
        assert!(!diff.is_empty());
        assert!(before.diff(&before).is_empty());
    }

    #[test]
    fn aiosmtpd() {
        let caps = Capabilities::from_lines(AIOSMTPD.iter().copied());
        assert_eq!(caps.domain, "myhost.example.net");
        assert_eq!(caps.size_limit(), Some(33_554_432));
        assert!(caps.supports_8bitmime() && caps.supports_smtputf8() && caps.supports_starttls());
        assert!(caps.has("help"));
        assert!(!caps.supports_pipelining() && !caps.supports_chunking() && !caps.supports_dsn());
        assert_eq!(caps.auth_mechanisms(), ["LOGIN", "PLAIN"]);
    }

    #[test]
    fn exim_old_style_auth_is_merged() {
        let caps = Capabilities::from_lines(EXIM.iter().copied());
        assert_eq!(caps.domain, "mail.example.com");
        assert_eq!(caps.greeting, "Hello client.example.org [192.0.2.7]");
        assert_eq!(caps.auth_mechanisms(), ["PLAIN", "LOGIN", "CRAM-MD5"]);
        assert!(caps.has("AUTH"));
    }

    #[test]
    fn old_style_auth_alone_counts_as_auth() {
        let caps = Capabilities::from_lines(["x", "auth=login plain", "AUTH="]);
        assert!(caps.has("auth"));
        assert_eq!(caps.auth_mechanisms(), ["LOGIN", "PLAIN"]);
    }

    #[test]
    fn odd_input() {
        let caps = Capabilities::from_lines([
            "  mx.example.com   ESMTP  ready ",
            "size",
            "",
            "   ",
            "\tpipelining  ",
            "limits RCPTMAX=10 MAILMAX=5\r",
        ]);
        assert_eq!(caps.domain, "mx.example.com");
        assert_eq!(caps.greeting, "ESMTP  ready");
        assert_eq!(
            caps.list,
            vec![
                Capability::Size(None),
                Capability::Pipelining,
                Capability::Limits(vec![(s("RCPTMAX"), s("10")), (s("MAILMAX"), s("5"))]),
            ]
        );
        assert_eq!(caps.size_limit(), None);
        assert!(caps.has("SIZE"));
        assert_eq!(
            Capabilities::from_lines::<&str>([]),
            Capabilities::default()
        );
    }

    #[test]
    fn size_zero_is_no_limit() {
        let caps = Capabilities::from_lines(["x", "SIZE 0"]);
        assert_eq!(caps.size_limit(), None);
        assert!(caps.has("SIZE"));
    }

    #[test]
    fn diff_reports_changed_parameters() {
        let before = Capabilities::from_lines(["x", "SIZE 1000", "AUTH PLAIN", "x-foo 1"]);
        let after = Capabilities::from_lines(["x", "AUTH PLAIN LOGIN", "SIZE 1000", "X-FOO 1"]);
        let diff = before.diff(&after);
        assert!(diff.added.is_empty() && diff.removed.is_empty());
        assert_eq!(
            diff.changed,
            vec![
                (
                    Capability::Auth(strings(&["PLAIN"])),
                    Capability::Auth(strings(&["PLAIN", "LOGIN"]))
                ),
                (
                    Capability::Other {
                        keyword: s("x-foo"),
                        params: strings(&["1"])
                    },
                    Capability::Other {
                        keyword: s("X-FOO"),
                        params: strings(&["1"])
                    }
                ),
            ]
        );
    }

    #[test]
    fn diff_with_duplicate_keywords() {
        let before = Capabilities::from_lines(["x", "HELP", "HELP"]);
        let after = Capabilities::from_lines(["x", "HELP"]);
        assert_eq!(before.diff(&after).removed, vec![Capability::Help]);
        assert_eq!(after.diff(&before).added, vec![Capability::Help]);
    }

    fn canonical_capability() -> impl Strategy<Value = Capability> {
        let word = || "[A-Z0-9][A-Z0-9-]{0,11}".prop_map(Untrusted::from);
        let words = |n| proptest::collection::vec(word(), 0..n);
        prop_oneof![
            proptest::option::of(any::<u64>()).prop_map(Capability::Size),
            words(4).prop_map(Capability::Auth),
            Just(Capability::StartTls),
            Just(Capability::Pipelining),
            Just(Capability::Chunking),
            Just(Capability::PipeConnect),
            proptest::option::of("[0-9]{1,5}".prop_map(Untrusted::from))
                .prop_map(Capability::DeliverBy),
            proptest::option::of(word()).prop_map(Capability::MtPriority),
            proptest::collection::vec((word(), "[0-9]{0,3}".prop_map(Untrusted::from)), 0..3)
                .prop_map(Capability::Limits),
            words(3).prop_map(Capability::XClient),
            (
                "X-[A-Za-z0-9]{1,8}".prop_map(Untrusted::from),
                proptest::collection::vec("[!-~]{1,8}".prop_map(Untrusted::from), 0..3)
            )
                .prop_map(|(keyword, params)| Capability::Other { keyword, params }),
        ]
    }

    proptest! {
        #[test]
        fn display_parses_back(cap in canonical_capability()) {
            prop_assert_eq!(Capability::parse(cap.to_string()), cap);
        }

        #[test]
        fn parse_never_panics(line in proptest::collection::vec(any::<u8>(), 0..60)) {
            let cap = Capability::parse(Untrusted::new(line));
            let _ = (cap.to_string(), cap.description(), cap.rfc());
        }

        #[test]
        fn shown_forms_hold_no_invisible_character(line in "\\PC{0,20}[\\x00-\\x1f\\u{80}-\\u{9f}\\u{202e}]\\PC{0,20}") {
            let caps = Capabilities::from_lines(["mx.example", line.as_str()]);
            for cap in &caps.list {
                let shown = format!("{cap} {} {}", cap.keyword(), cap.description());
                prop_assert!(!shown.chars().any(crate::text::is_invisible), "{shown:?}");
            }
        }
    }
}
