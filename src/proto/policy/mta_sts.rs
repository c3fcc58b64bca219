//! MTA-STS (RFC 8461) as values: the `_mta-sts.DOMAIN` TXT record
//! ([`StsRecord`], chosen from a lookup's answers by [`sts_record`]), the
//! policy file served at `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`
//! ([`Policy`], with what a fetch must look like in [`check_response`]),
//! and the MX patterns a policy lists ([`MxPattern`]).
//!
//! Strict where the RFC makes a sender give up on a policy (a missing or
//! unknown `version`, `mode` or `max_age`, a malformed `mx`), and lenient
//! with a note ([`Policy::notes`]) where senders differ (a repeated field,
//! a blank line, a key in the wrong case), because an admin wants to hear
//! about both.

use std::fmt;

use thiserror::Error;

use super::{is_field_name, is_field_value, txt_fields};
use crate::text::Untrusted;

/// The URL path of the policy on `mta-sts.DOMAIN` (RFC 8461 §3.3).
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

/// The most policy bytes smtpcli reads. RFC 8461 sets no number; a policy
/// is a few lines, and senders cap the body they accept (64 KiB is the
/// common cap, and the one `postfix-mta-sts-resolver` uses).
pub const MAX_POLICY_BYTES: usize = 64 * 1024;

/// The longest `max_age` (RFC 8461 §3.2: one year, 31557600 seconds).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;

/// The name whose TXT record announces a policy: `_mta-sts.DOMAIN`.
pub fn record_name(domain: &str) -> String {
    format!("_mta-sts.{}", domain.trim_end_matches('.'))
}

/// The host that serves the policy: `mta-sts.DOMAIN`.
pub fn policy_host(domain: &str) -> String {
    format!("mta-sts.{}", domain.trim_end_matches('.'))
}

/// A `_mta-sts` TXT record: `v=STSv1; id=…;` (RFC 8461 §3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsRecord {
    /// The policy instance: 1 to 32 letters and digits (checked, safe to
    /// show).
    pub id: String,
    /// Other fields, in order, name and value (syntax checked).
    pub extensions: Vec<(String, String)>,
}

/// Why the `_mta-sts` TXT answers give no usable record.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StsRecordError {
    /// More than one record starts with `v=STSv1`: a sender must then
    /// assume there is no policy.
    #[error("{0} TXT records start with v=STSv1; exactly one may")]
    Several(usize),
    /// The one record does not read.
    #[error("the v=STSv1 record does not read: {reason} (record: {record:?})")]
    Syntax {
        reason: &'static str,
        record: Untrusted,
    },
}

/// The MTA-STS record among the TXT answers for `_mta-sts.DOMAIN` (each
/// answer's strings already joined): `Ok(None)` if none starts with
/// `v=STSv1` (the domain has no policy), an error if several do or the one
/// that does is malformed (RFC 8461 §3.1: in both cases a sender assumes
/// no policy, but an admin wants to know why).
pub fn sts_record<'a>(
    answers: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<StsRecord>, StsRecordError> {
    let candidates: Vec<&[u8]> = answers
        .into_iter()
        .filter(|a| a.starts_with(b"v=STSv1"))
        .collect();
    match candidates.as_slice() {
        [] => Ok(None),
        [one] => StsRecord::parse(one).map(Some),
        many => Err(StsRecordError::Several(many.len())),
    }
}

impl StsRecord {
    /// One record's text (its strings joined).
    pub fn parse(record: &[u8]) -> Result<StsRecord, StsRecordError> {
        let bad = |reason| StsRecordError::Syntax {
            reason,
            record: Untrusted::new(record),
        };
        let text = std::str::from_utf8(record).map_err(|_| bad("it is not ASCII"))?;
        let fields =
            txt_fields(text, "v=STSv1").ok_or_else(|| bad("it does not start with v=STSv1;"))?;
        let mut id = None;
        let mut extensions = Vec::new();
        for field in fields {
            let (name, value) = field
                .split_once('=')
                .ok_or_else(|| bad("a field is not name=value"))?;
            if name == "id" {
                if id.is_some() {
                    return Err(bad("id appears twice"));
                }
                if value.is_empty()
                    || value.len() > 32
                    || !value.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(bad("the id is not 1 to 32 letters and digits"));
                }
                id = Some(value.to_owned());
            } else if is_field_name(name) && is_field_value(value) {
                extensions.push((name.to_owned(), value.to_owned()));
            } else {
                return Err(bad("a field is not name=value"));
            }
        }
        let id = id.ok_or_else(|| bad("it has no id"))?;
        Ok(StsRecord { id, extensions })
    }
}

/// A policy's `mode` (RFC 8461 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Deliver only to a matching MX over verified TLS.
    Enforce,
    /// Deliver anyway, report failures (TLS-RPT).
    Testing,
    /// The domain withdrew its policy.
    None,
}

impl Mode {
    /// The word in the policy file.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `mx:` line: a host name, or `*.` and a domain, which matches one
/// more label on the left (RFC 8461 §4.1). Lower case, without a final
/// dot; its syntax is checked, so it is safe to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MxPattern {
    wildcard: bool,
    domain: String,
}

impl MxPattern {
    /// `mail.example.com` or `*.example.com`; `None` if it is neither.
    pub fn parse(text: &str) -> Option<MxPattern> {
        let (wildcard, domain) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        is_domain(domain).then(|| MxPattern {
            wildcard,
            domain: domain.to_ascii_lowercase(),
        })
    }

    /// Whether the MX host `host` matches: equal, ignoring case and a
    /// final dot; for `*.domain`, exactly one label and `.domain`
    /// (`*.example.com` matches `mx.example.com`, not `example.com` nor
    /// `a.mx.example.com`).
    pub fn matches(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        if !self.wildcard {
            return host == self.domain;
        }
        match host.split_once('.') {
            Some((label, rest)) => !label.is_empty() && rest == self.domain,
            None => false,
        }
    }

    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }
}

impl fmt::Display for MxPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.domain)
    }
}

/// A host name in A-label form: dot-separated labels of letters, digits
/// and inner hyphens, each at most 63 bytes, at most 253 bytes in all, at
/// least two labels.
fn is_domain(name: &str) -> bool {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    name.len() <= 253 && name.contains('.') && name.split('.').all(label_ok)
}

/// A policy file (RFC 8461 §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    /// Seconds a sender may cache the policy (at most [`MAX_AGE_LIMIT`]).
    pub max_age: u64,
    /// The `mx:` patterns, in order (none only with `mode: none`).
    pub mx: Vec<MxPattern>,
    /// Fields this version does not define, name and value, in order.
    pub extensions: Vec<(String, Untrusted)>,
    /// What senders may read differently: a repeated field (the first
    /// counts), a blank line, a known key in the wrong case. Safe to show.
    pub notes: Vec<String>,
}

/// Why a policy file is no policy.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("the policy is larger than {MAX_POLICY_BYTES} bytes")]
    TooLarge,
    #[error("the policy is not UTF-8 text")]
    NotText,
    #[error("line {line}: {reason} ({text:?})")]
    Line {
        line: usize,
        reason: &'static str,
        text: Untrusted,
    },
    #[error("the policy has no {0} field")]
    Missing(&'static str),
    #[error("the policy's mode is {0} but it has no mx field")]
    NoMx(Mode),
}

impl Policy {
    /// The policy file's bytes. Lines end in LF or CRLF; each is
    /// `key: value` with optional spaces or tabs after the colon and at the
    /// end of the line.
    pub fn parse(body: &[u8]) -> Result<Policy, PolicyError> {
        if body.len() > MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge);
        }
        let text = std::str::from_utf8(body).map_err(|_| PolicyError::NotText)?;
        let mut version = None;
        let mut mode = None;
        let mut max_age = None;
        let mut mx = Vec::new();
        let mut extensions = Vec::new();
        let mut notes = Vec::new();
        let lines: Vec<&str> = text.split('\n').collect();
        let last = lines.len() - 1;
        for (n, raw) in lines.into_iter().enumerate() {
            let line_no = n + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let bad = |reason| PolicyError::Line {
                line: line_no,
                reason,
                text: Untrusted::new(raw.as_bytes()),
            };
            if line.trim_matches([' ', '\t']).is_empty() {
                // The text after the last line end is no line.
                if n != last {
                    notes.push(format!("line {line_no} is blank"));
                }
                continue;
            }
            if line.contains('\r') {
                return Err(bad("a CR inside a line"));
            }
            let (key, value) = line.split_once(':').ok_or_else(|| bad("not key: value"))?;
            let value = value.trim_matches([' ', '\t']);
            if !is_field_name(key) {
                return Err(bad("the key is not a field name"));
            }
            let mut first = |slot: bool, name: &str| {
                if slot {
                    notes.push(format!(
                        "line {line_no}: {name} appears again; the first one counts"
                    ));
                }
                !slot
            };
            match key {
                "version" => {
                    if first(version.is_some(), key) {
                        if value != "STSv1" {
                            return Err(bad("the version is not STSv1"));
                        }
                        version = Some(());
                    }
                }
                "mode" => {
                    if first(mode.is_some(), key) {
                        mode = Some(match value {
                            "enforce" => Mode::Enforce,
                            "testing" => Mode::Testing,
                            "none" => Mode::None,
                            _ => return Err(bad("the mode is not enforce, testing or none")),
                        });
                    }
                }
                "max_age" => {
                    if first(max_age.is_some(), key) {
                        if value.is_empty()
                            || value.len() > 10
                            || !value.bytes().all(|b| b.is_ascii_digit())
                        {
                            return Err(bad("max_age is not a number of seconds"));
                        }
                        let seconds: u64 = value
                            .parse()
                            .map_err(|_| bad("max_age is not a number of seconds"))?;
                        if seconds > MAX_AGE_LIMIT {
                            return Err(bad("max_age is more than a year (31557600)"));
                        }
                        max_age = Some(seconds);
                    }
                }
                "mx" => {
                    let pattern = MxPattern::parse(value)
                        .ok_or_else(|| bad("the mx is not a host name or *.domain"))?;
                    if mx.contains(&pattern) {
                        notes.push(format!("line {line_no}: mx {pattern} appears again"));
                    } else {
                        mx.push(pattern);
                    }
                }
                other => {
                    if ["version", "mode", "max_age", "mx"]
                        .iter()
                        .any(|k| k.eq_ignore_ascii_case(other))
                    {
                        notes.push(format!(
                            "line {line_no}: {other} is not {}: keys are case-sensitive, so it is ignored",
                            other.to_ascii_lowercase()
                        ));
                    }
                    if value.is_empty() {
                        return Err(bad("an extension field has no value"));
                    }
                    extensions.push((other.to_owned(), Untrusted::new(value.as_bytes())));
                }
            }
        }
        version.ok_or(PolicyError::Missing("version"))?;
        let mode = mode.ok_or(PolicyError::Missing("mode"))?;
        let max_age = max_age.ok_or(PolicyError::Missing("max_age"))?;
        if mx.is_empty() && mode != Mode::None {
            return Err(PolicyError::NoMx(mode));
        }
        Ok(Policy {
            mode,
            max_age,
            mx,
            extensions,
            notes,
        })
    }

    /// The first pattern that `host` (an MX host name) matches.
    pub fn matching_mx(&self, host: &str) -> Option<&MxPattern> {
        self.mx.iter().find(|p| p.matches(host))
    }
}

/// Why a policy fetch's answer is not a policy, before its body is read
/// (RFC 8461 §3.3).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Anything but 200, redirects included: senders must not follow them.
    #[error("HTTP status {0}, not 200 (senders follow no redirects)")]
    Status(u16),
    #[error("no Content-Type; the policy must be text/plain")]
    NoContentType,
    #[error("Content-Type {0:?}, not text/plain")]
    ContentType(Untrusted),
}

/// Whether an HTTP answer with this status and `Content-Type` header may
/// carry a policy: 200 and `text/plain` (any parameters, such as a
/// charset; case-insensitive).
pub fn check_response(status: u16, content_type: Option<&[u8]>) -> Result<(), FetchError> {
    if status != 200 {
        return Err(FetchError::Status(status));
    }
    let header = content_type.ok_or(FetchError::NoContentType)?;
    let media = header.split(|&b| b == b';').next().unwrap_or_default();
    if media.trim_ascii().eq_ignore_ascii_case(b"text/plain") {
        Ok(())
    } else {
        Err(FetchError::ContentType(Untrusted::new(header)))
    }
}

#[cfg(test)]
#[path = "mta_sts_tests.rs"]
mod tests;
