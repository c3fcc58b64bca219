//! TLS-RPT (RFC 8460 §3) as values: the `_smtp._tls.DOMAIN` TXT record,
//! `v=TLSRPTv1; rua=mailto:…,https://…`, chosen from a lookup's answers by
//! [`tlsrpt_record`], with each reporting address and its scheme.

use thiserror::Error;

use super::{is_field_name, is_field_value, txt_fields};
use crate::text::Untrusted;

/// The name whose TXT record asks for reports: `_smtp._tls.DOMAIN`.
pub fn record_name(domain: &str) -> String {
    format!("_smtp._tls.{}", domain.trim_end_matches('.'))
}

/// How a report is delivered (RFC 8460 §3: `mailto:` or `https:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Mailto,
    Https,
    /// Any other scheme: senders will not report there.
    Other,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Mailto => "mailto",
            Scheme::Https => "https",
            Scheme::Other => "other",
        }
    }
}

/// One `rua` address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rua {
    pub scheme: Scheme,
    /// The whole URI, as published.
    pub uri: Untrusted,
    /// What is wrong with it, if anything (an unknown scheme, a `mailto:`
    /// without an address, an `https:` without a host). Safe to show.
    pub problem: Option<&'static str>,
}

/// A `_smtp._tls` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsRptRecord {
    /// The `rua` addresses, in order (at least one).
    pub rua: Vec<Rua>,
    /// Other fields, name and value (syntax checked), in order.
    pub extensions: Vec<(String, String)>,
}

impl TlsRptRecord {
    /// Whether a sender can deliver a report to at least one address.
    pub fn has_usable_rua(&self) -> bool {
        self.rua.iter().any(|r| r.problem.is_none())
    }
}

/// Why the `_smtp._tls` answers give no usable record (RFC 8460 §3: a
/// sender then assumes the domain wants no reports).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TlsRptError {
    #[error("{0} TXT records start with v=TLSRPTv1; exactly one may")]
    Several(usize),
    #[error("the v=TLSRPTv1 record does not read: {reason} (record: {record:?})")]
    Syntax {
        reason: &'static str,
        record: Untrusted,
    },
}

/// The TLS-RPT record among the TXT answers for `_smtp._tls.DOMAIN` (each
/// answer's strings already joined): `Ok(None)` if none starts with
/// `v=TLSRPTv1`.
pub fn tlsrpt_record<'a>(
    answers: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<TlsRptRecord>, TlsRptError> {
    let candidates: Vec<&[u8]> = answers
        .into_iter()
        .filter(|a| a.starts_with(b"v=TLSRPTv1"))
        .collect();
    match candidates.as_slice() {
        [] => Ok(None),
        [one] => TlsRptRecord::parse(one).map(Some),
        many => Err(TlsRptError::Several(many.len())),
    }
}

impl TlsRptRecord {
    /// One record's text (its strings joined).
    pub fn parse(record: &[u8]) -> Result<TlsRptRecord, TlsRptError> {
        let bad = |reason| TlsRptError::Syntax {
            reason,
            record: Untrusted::new(record),
        };
        let text = std::str::from_utf8(record).map_err(|_| bad("it is not ASCII"))?;
        let fields = txt_fields(text, "v=TLSRPTv1")
            .ok_or_else(|| bad("it does not start with v=TLSRPTv1;"))?;
        let mut rua = None;
        let mut extensions = Vec::new();
        for field in fields {
            let (name, value) = field
                .split_once('=')
                .ok_or_else(|| bad("a field is not name=value"))?;
            if name == "rua" {
                if rua.is_some() {
                    return Err(bad("rua appears twice"));
                }
                let uris: Vec<Rua> = value
                    .split(',')
                    .map(|u| u.trim_matches([' ', '\t']))
                    .map(read_uri)
                    .collect::<Option<_>>()
                    .ok_or_else(|| bad("rua is not a list of URIs separated by commas"))?;
                rua = Some(uris);
            } else if is_field_name(name) && is_field_value(value) {
                extensions.push((name.to_owned(), value.to_owned()));
            } else {
                return Err(bad("a field is not name=value"));
            }
        }
        let rua = rua.ok_or_else(|| bad("it has no rua"))?;
        Ok(TlsRptRecord { rua, extensions })
    }
}

/// One URI of a `rua` list; `None` if it is no URI at all (empty, spaces,
/// control characters, no scheme).
fn read_uri(uri: &str) -> Option<Rua> {
    if uri.is_empty() || !uri.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b';') {
        return None;
    }
    let (scheme, rest) = uri.split_once(':')?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return None;
    }
    let (scheme, problem) = if scheme.eq_ignore_ascii_case("mailto") {
        // mailto:local@domain, perhaps with ?headers.
        let address = rest.split('?').next().unwrap_or_default();
        let ok =
            matches!(address.rsplit_once('@'), Some((l, d)) if !l.is_empty() && d.contains('.'));
        (
            Scheme::Mailto,
            (!ok).then_some("the mailto: URI has no address"),
        )
    } else if scheme.eq_ignore_ascii_case("https") {
        let host = rest
            .strip_prefix("//")
            .map(|r| r.split(['/', '?', '#']).next().unwrap_or_default())
            .unwrap_or_default();
        (
            Scheme::Https,
            host.is_empty().then_some("the https: URI has no host"),
        )
    } else {
        (
            Scheme::Other,
            Some("senders report only to mailto: and https:"),
        )
    };
    Some(Rua {
        scheme,
        uri: Untrusted::new(uri.as_bytes()),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Option<TlsRptRecord>, TlsRptError> {
        tlsrpt_record([text.as_bytes()])
    }

    #[test]
    fn the_rfc_examples_read() {
        let r = one("v=TLSRPTv1;rua=mailto:reports@example.com")
            .unwrap()
            .unwrap();
        assert_eq!(r.rua.len(), 1);
        assert_eq!(r.rua[0].scheme, Scheme::Mailto);
        assert_eq!(r.rua[0].uri, "mailto:reports@example.com");
        assert!(r.has_usable_rua());
        let r = one("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt")
            .unwrap()
            .unwrap();
        assert_eq!(r.rua[0].scheme, Scheme::Https);
        assert_eq!(r.rua[0].problem, None);
    }

    #[test]
    fn several_addresses_and_extensions() {
        let r = one("v=TLSRPTv1 ; rua=mailto:a@example.com , https://r.example.com/x ;x-1=y;")
            .unwrap()
            .unwrap();
        let schemes: Vec<Scheme> = r.rua.iter().map(|u| u.scheme).collect();
        assert_eq!(schemes, [Scheme::Mailto, Scheme::Https]);
        assert_eq!(r.extensions, [("x-1".to_owned(), "y".to_owned())]);
    }

    #[test]
    fn addresses_a_sender_cannot_use_are_flagged() {
        let r = one("v=TLSRPTv1; rua=ftp://x.example.com/,mailto:nobody,https:/nohost")
            .unwrap()
            .unwrap();
        let problems: Vec<Option<&str>> = r.rua.iter().map(|u| u.problem).collect();
        assert_eq!(
            problems,
            [
                Some("senders report only to mailto: and https:"),
                Some("the mailto: URI has no address"),
                Some("the https: URI has no host"),
            ]
        );
        assert!(!r.has_usable_rua());
    }

    #[test]
    fn records_that_do_not_read() {
        for text in [
            "v=TLSRPTv1",
            "v=TLSRPTv1;",
            "v=TLSRPTv1; ruf=mailto:a@example.com",
            "v=TLSRPTv1; rua=",
            "v=TLSRPTv1; rua=mailto:a@example.com,",
            "v=TLSRPTv1; rua=a@example.com",
            "v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com",
            "v=TLSRPTv1 rua=mailto:a@example.com",
        ] {
            assert!(
                matches!(one(text), Err(TlsRptError::Syntax { .. })),
                "{text:?}: {:?}",
                one(text)
            );
        }
    }

    #[test]
    fn the_record_is_chosen_among_the_answers() {
        let spf = b"v=spf1 -all".as_slice();
        let rpt = b"v=TLSRPTv1; rua=mailto:a@example.com".as_slice();
        assert_eq!(tlsrpt_record([spf]), Ok(None));
        assert!(tlsrpt_record([spf, rpt]).unwrap().is_some());
        assert_eq!(tlsrpt_record([rpt, rpt]), Err(TlsRptError::Several(2)));
        assert_eq!(
            tlsrpt_record([b"v=TLSRPTv2; rua=mailto:a@b.c".as_slice()]),
            Ok(None)
        );
        assert_eq!(record_name("example.com."), "_smtp._tls.example.com");
    }
}
