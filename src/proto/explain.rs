//! What a reply means, in structured parts: the one explainer behind the
//! transcript, JSON, the replay table and `--explain`.
//!
//! A reply is explained by its basic code (where the code says more than
//! "ok"), its enhanced code (RFC 3463, the IANA registry; a detail outside
//! the registry is vendor-specific), a `334` challenge decoded, and what the
//! text says that the codes do not: greylisting, and refusals of well-known
//! servers. Parts are values; how they look is the UI's business (a
//! challenge holds server bytes, which only the UI's sanitiser may show).

use super::auth::{self, Challenge};
use super::codes::ReplyCode;
use super::enhanced::EnhancedCode;
use super::reply::Reply;
use crate::text::Untrusted;

/// One thing a reply's codes or text mean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// The decoded challenge of a `334` (server bytes: shown escaped).
    Challenge(Challenge),
    /// What the basic code means.
    Code {
        code: ReplyCode,
        title: &'static str,
    },
    /// What the enhanced code means: its detail's title from the registry,
    /// or, for a detail outside it, its subject's.
    Enhanced {
        code: EnhancedCode,
        title: &'static str,
        /// Whether the detail is in the IANA registry (else vendor-specific).
        registered: bool,
    },
    /// A 450/451 whose text says greylisting.
    Greylisting,
    /// A refusal whose text is known from a well-known server.
    KnownText(&'static str),
}

impl Part {
    /// The part as one short phrase; `None` for a challenge, whose bytes
    /// the caller escapes.
    pub fn phrase(&self) -> Option<String> {
        Some(match self {
            Part::Challenge(_) => return None,
            Part::Code { code, title } => format!("{code} {title}"),
            Part::Enhanced {
                code,
                title,
                registered: true,
            } => format!("{code} {title}"),
            Part::Enhanced {
                code,
                title,
                registered: false,
            } => format!("{code} {title} (detail not in the registry: vendor-specific)"),
            Part::Greylisting => {
                "greylisting: a temporary refusal of a first attempt; retry in a few minutes".into()
            }
            Part::KnownText(note) => (*note).to_string(),
        })
    }
}

/// The parts that explain `reply`, most important first; empty for a plain
/// success that needs no words.
///
/// A positive reply (2xx, 3xx) is explained only where it says more than
/// "done" or "go on": its basic code when that is not plain success (251,
/// 252), its enhanced code when the detail says something the basic code
/// does not (`2.6.4` conversion with loss; not `2.1.0`, `2.1.5`, `2.7.0`
/// or `2.0.0`). So 220, 221, 250, 235 and 354 read alike: no words. A
/// refusal gets its basic and enhanced codes. `:explain` and `--explain`
/// say everything about any code.
pub fn reply(reply: &Reply) -> Vec<Part> {
    let Some(code) = reply.code() else {
        return Vec::new();
    };
    let mut parts = Vec::new();
    if code.value() == 334 {
        let text = reply
            .lines
            .first()
            .map(|l| l.text_bytes())
            .unwrap_or_default();
        parts.push(Part::Challenge(auth::decode_challenge(text)));
        return parts;
    }
    let class = code.value() / 100;
    if (class == 4 || class == 5 || matches!(code.value(), 251 | 252 | 455 | 555))
        && let Some(info) = code.info()
    {
        parts.push(Part::Code {
            code,
            title: info.title,
        });
    }
    if let Some(enhanced) = reply
        .enhanced_code()
        .filter(|e| class >= 4 || says_more_than_success(*e))
    {
        parts.extend(enhanced_part(enhanced));
    }
    parts.extend(text_notes(code, &reply.text()));
    parts
}

/// Whether a success's enhanced code tells more than that it succeeded: a
/// detail of 0 is "other or undefined" of its subject, and 2.1.5 is "the
/// destination is valid", which a 250 to RCPT says already.
fn says_more_than_success(code: EnhancedCode) -> bool {
    code.class != 2 || !(code.detail == 0 || (code.subject, code.detail) == (1, 5))
}

/// The enhanced code's part: its title, or its subject's when the detail
/// is not in the registry.
pub fn enhanced_part(code: EnhancedCode) -> Option<Part> {
    let explained = code.explain();
    match explained.detail {
        Some(detail) => Some(Part::Enhanced {
            code,
            title: detail.title,
            registered: true,
        }),
        None => Some(Part::Enhanced {
            code,
            title: explained.subject.map_or("unknown subject", |s| s.title),
            registered: false,
        }),
    }
}

/// What a refusal's text says that its codes do not: greylisting (450,
/// 451), and texts of well-known servers.
pub fn text_notes(code: ReplyCode, text: &Untrusted) -> Vec<Part> {
    let text = &text.unchecked_str();
    let mut parts = Vec::new();
    let class = code.value() / 100;
    if matches!(code.value(), 450 | 451) && looks_like_greylisting(text) {
        parts.push(Part::Greylisting);
    }
    if matches!(class, 4 | 5)
        && let Some(note) = known_text(text)
    {
        parts.push(Part::KnownText(note));
    }
    parts
}

/// What a refusal says in words its codes do not carry: texts of
/// well-known servers, matched case-insensitively.
fn known_text(text: &str) -> Option<&'static str> {
    const SENT_TOO_SOON: &str = "a command arrived before the reply to the previous one, and \
         the server allows no pipelining here: send one command per reply (smtpcli does, \
         except in :pipeline and :raw)";
    const TEXTS: &[(&str, &str)] = &[
        // Exim (smtp_enforce_sync): 554, then it hangs up.
        ("smtp synchronization error", SENT_TOO_SOON),
        // OpenSMTPD: 500 5.5.1, then it hangs up.
        ("pipelining not supported", SENT_TOO_SOON),
        // Exim's answer to RCPT for an unknown local user, with no enhanced code.
        (
            "unrouteable address",
            "Exim: no router accepts this address: no such user here, or a domain it neither \
             delivers nor relays for",
        ),
        // Postfix's refusal of XCLIENT or XFORWARD from a host not listed.
        (
            "insufficient authorization",
            "Postfix takes XCLIENT and XFORWARD only from the hosts in \
             smtpd_authorized_xclient_hosts / smtpd_authorized_xforward_hosts",
        ),
        // Postfix: XCLIENT or XFORWARD inside a mail transaction.
        (
            "mail transaction in progress",
            "XCLIENT and XFORWARD are taken only outside a mail transaction: RSET first",
        ),
    ];
    let text = text.to_ascii_lowercase();
    TEXTS
        .iter()
        .find(|(needle, _)| text.contains(needle))
        .map(|&(_, note)| note)
}

fn looks_like_greylisting(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    [
        "greylist",
        "graylist",
        "grey-list",
        "gray-list",
        "try again later",
        "please retry",
    ]
    .iter()
    .any(|w| text.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(wire: &[u8]) -> Vec<Part> {
        reply(&Reply::parse_all(wire).remove(0))
    }

    #[test]
    fn a_plain_250_needs_no_words() {
        assert!(parts(b"250 2.0.0 Ok\r\n").is_empty());
        assert!(parts(b"250 ok\r\n").is_empty());
    }

    #[test]
    fn success_reads_alike_whatever_its_code() {
        // Plain success and "go on", with or without an enhanced code.
        for wire in [
            "220 mx.example.org ESMTP",
            "220 2.0.0 Ready to start TLS",
            "221 2.0.0 Bye",
            "235 2.7.0 Authentication successful",
            "250 2.1.0 Ok",
            "250 2.1.5 Ok",
            "250 2.6.0 Queued mail for delivery",
            "250 2.0.0 Ok: queued as 4A1B",
            "354 End data with <CR><LF>.<CR><LF>",
            "354 2.0.0 go ahead",
        ] {
            let got = parts(format!("{wire}\r\n").as_bytes());
            assert!(got.is_empty(), "{wire}: {got:?}");
        }
        // Success that says more: the basic code, or the enhanced detail.
        for (wire, want) in [
            ("251 2.1.5 User not local; will forward", "251 "),
            ("252 2.1.5 Cannot VRFY user", "252 "),
            ("250 2.6.4 Conversion with loss performed", "2.6.4 "),
        ] {
            let got = parts(format!("{wire}\r\n").as_bytes());
            let phrases: Vec<String> = got.iter().filter_map(Part::phrase).collect();
            assert!(
                phrases.iter().any(|p| p.starts_with(want)),
                "{wire}: {phrases:?}"
            );
        }
    }

    #[test]
    fn a_refusal_gets_its_code_and_enhanced_code() {
        let got = parts(b"550 5.1.1 <x@example.org>: Recipient address rejected\r\n");
        assert!(matches!(got[0], Part::Code { .. }));
        assert_eq!(
            got[1].phrase().as_deref(),
            Some("5.1.1 Bad destination mailbox address")
        );
    }

    #[test]
    fn a_vendor_detail_is_marked() {
        let got = parts(b"550 5.7.606 Access denied, banned sending IP\r\n");
        assert!(matches!(
            got[1],
            Part::Enhanced {
                registered: false,
                ..
            }
        ));
    }

    #[test]
    fn greylisting_and_known_texts() {
        let got = parts(b"451 4.7.1 Greylisted, please try again later\r\n");
        assert!(got.contains(&Part::Greylisting));
        let got = parts(b"554 SMTP synchronization error\r\n");
        assert!(matches!(got.last(), Some(Part::KnownText(_))));
        // Only refusals: the words in a 250 mean nothing.
        assert!(parts(b"250 pipelining not supported\r\n").is_empty());
    }

    #[test]
    fn a_334_challenge_is_decoded() {
        assert_eq!(
            parts(b"334 VXNlcm5hbWU6\r\n"),
            [Part::Challenge(Challenge::Decoded(Untrusted::from(
                "Username:"
            )))]
        );
    }
}
