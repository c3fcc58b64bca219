//! What a strict sender does with one MX address: Postfix with
//! `smtp_tls_security_level = dane` and an MTA-STS resolver, read as a
//! pure function ([`verdict`]) of three outcomes the caller found: DANE
//! (RFC 7672), MTA-STS (RFC 8461) and the live STARTTLS attempt.
//!
//! The order is the RFCs': DANE first, when the MX host has usable TLSA
//! records in a signed zone (RFC 8461 §2: MTA-STS never overrides a DANE
//! failure); else MTA-STS; else opportunistic TLS. A `testing` policy is
//! not enforced, so it never makes a delivery `authenticated`: the reason
//! says whether it would pass.

use std::fmt;

use super::mta_sts::Mode;

/// The DANE outcome for one MX host (`_25._tcp.MXHOST` TLSA).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dane {
    /// No TLSA records (or the lookup proved there are none).
    NoRecords,
    /// The MX lookup was not validated (no AD bit): the MX name cannot be
    /// trusted, so DANE does not apply (RFC 7672 §2.2.1).
    InsecureMx,
    /// TLSA records in an unsigned zone (no AD bit): ignored.
    Insecure,
    /// The resolver found the answer bogus (validation failed).
    Bogus,
    /// The TLSA lookup failed otherwise (SERVFAIL, timeout): Postfix defers.
    LookupFailed,
    /// Signed records, but none usable (usage 0 or 1, an unknown selector
    /// or matching type): mandatory TLS without authentication.
    Unusable,
    /// Signed usable records, and one matched the chain the server sent
    /// (with the name check DANE-TA needs).
    Matched,
    /// Signed usable records, and none matched.
    NotMatched,
}

/// The MTA-STS outcome for the domain, with whether this MX host matches
/// one of the policy's `mx` patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sts {
    /// No `_mta-sts` record.
    NoPolicy,
    /// A record, but no policy could be had (bad record, the fetch failed
    /// or was refused, the policy did not read): with nothing cached, a
    /// sender delivers as if there were none.
    Unavailable,
    /// A policy with this mode.
    Policy { mode: Mode, mx_matches: bool },
}

/// What the live attempt on this address found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Live {
    /// No connection, no greeting, or a refusing greeting.
    Unreachable,
    /// EHLO did not offer STARTTLS (or STARTTLS was refused).
    NoStarttls,
    /// STARTTLS was offered, the handshake failed.
    HandshakeFailed,
    /// TLS is up; `webpki` is whether the certificate is valid for the MX
    /// host name under the web PKI (the system's CAs and `--ca-file`).
    Tls { webpki: bool },
}

impl Live {
    fn has_tls(self) -> bool {
        matches!(self, Live::Tls { .. })
    }
}

/// The three answers (the words of `--json`'s `verdict`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Deliver over verified TLS.
    Authenticated,
    /// Deliver with opportunistic TLS (or none).
    Unauthenticated,
    /// Do not deliver to this address now.
    Defer,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Authenticated => "authenticated",
            Kind::Unauthenticated => "unauthenticated",
            Kind::Defer => "defer",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which policy decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Dane,
    MtaSts,
    /// Neither applies: opportunistic TLS.
    Neither,
    /// The address could not be reached; no policy was needed to say so.
    Connection,
}

/// Why: one sentence each, safe to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    Unreachable,
    DaneMatched,
    DaneNotMatched,
    DaneBogus,
    DaneLookupFailed,
    DaneNoTls,
    DaneUnusable,
    StsEnforced,
    StsMxMismatch,
    StsNoTls,
    StsCertInvalid,
    StsTestingPasses,
    StsTestingWouldFail,
    StsNone,
    Opportunistic,
    Plaintext,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Unreachable => "the address could not be reached; a sender tries the next one",
            Reason::DaneMatched => "a signed TLSA record matches the server's certificate chain",
            Reason::DaneNotMatched => {
                "signed TLSA records exist, but none matches the server's certificate chain"
            }
            Reason::DaneBogus => "the TLSA answer failed DNSSEC validation (bogus)",
            Reason::DaneLookupFailed => {
                "the TLSA lookup failed; a DANE sender defers until it works"
            }
            Reason::DaneNoTls => "signed TLSA records require TLS, and TLS could not be set up",
            Reason::DaneUnusable => {
                "the signed TLSA records are all unusable: TLS is required but not authenticated"
            }
            Reason::StsEnforced => {
                "MTA-STS enforce: the MX matches the policy and its certificate is valid"
            }
            Reason::StsMxMismatch => {
                "MTA-STS enforce: the MX host matches no mx pattern of the policy"
            }
            Reason::StsNoTls => "MTA-STS enforce requires TLS, and TLS could not be set up",
            Reason::StsCertInvalid => {
                "MTA-STS enforce: the certificate is not valid for the MX host name"
            }
            Reason::StsTestingPasses => "MTA-STS testing: not enforced (it would pass)",
            Reason::StsTestingWouldFail => {
                "MTA-STS testing: not enforced (it would fail, and a sender would report it)"
            }
            Reason::StsNone => "MTA-STS mode none: the policy was withdrawn",
            Reason::Opportunistic => "no DANE or MTA-STS policy applies: opportunistic TLS",
            Reason::Plaintext => {
                "no DANE or MTA-STS policy applies and TLS could not be set up: delivery in plaintext"
            }
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict for one MX address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub kind: Kind,
    pub by: By,
    pub reason: Reason,
}

/// What a sender enforcing DANE and MTA-STS does with this address.
pub fn verdict(dane: Dane, sts: Sts, live: Live) -> Verdict {
    let v = |kind, by, reason| Verdict { kind, by, reason };
    use Kind::{Authenticated, Defer, Unauthenticated};
    if live == Live::Unreachable {
        return v(Defer, By::Connection, Reason::Unreachable);
    }
    match dane {
        Dane::Bogus => return v(Defer, By::Dane, Reason::DaneBogus),
        Dane::LookupFailed => return v(Defer, By::Dane, Reason::DaneLookupFailed),
        Dane::Matched | Dane::NotMatched | Dane::Unusable if !live.has_tls() => {
            return v(Defer, By::Dane, Reason::DaneNoTls);
        }
        Dane::Matched => return v(Authenticated, By::Dane, Reason::DaneMatched),
        Dane::NotMatched => return v(Defer, By::Dane, Reason::DaneNotMatched),
        Dane::Unusable => return v(Unauthenticated, By::Dane, Reason::DaneUnusable),
        Dane::NoRecords | Dane::InsecureMx | Dane::Insecure => {}
    }
    // Why an MTA-STS check of this address would fail, if it would.
    let sts_failure = |mx_matches: bool| {
        if !mx_matches {
            Some(Reason::StsMxMismatch)
        } else {
            match live {
                Live::Tls { webpki: true } => None,
                Live::Tls { webpki: false } => Some(Reason::StsCertInvalid),
                _ => Some(Reason::StsNoTls),
            }
        }
    };
    match sts {
        Sts::Policy {
            mode: Mode::Enforce,
            mx_matches,
        } => match sts_failure(mx_matches) {
            None => v(Authenticated, By::MtaSts, Reason::StsEnforced),
            Some(reason) => v(Defer, By::MtaSts, reason),
        },
        Sts::Policy {
            mode: Mode::Testing,
            mx_matches,
        } => match sts_failure(mx_matches) {
            None => v(Unauthenticated, By::MtaSts, Reason::StsTestingPasses),
            Some(_) => v(Unauthenticated, By::MtaSts, Reason::StsTestingWouldFail),
        },
        Sts::Policy {
            mode: Mode::None, ..
        } => v(Unauthenticated, By::MtaSts, Reason::StsNone),
        Sts::NoPolicy | Sts::Unavailable => {
            if live.has_tls() {
                v(Unauthenticated, By::Neither, Reason::Opportunistic)
            } else {
                v(Unauthenticated, By::Neither, Reason::Plaintext)
            }
        }
    }
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
