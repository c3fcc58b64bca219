//! `--check`'s sequence for one MX address (#21): the live attempt is
//! `--probe`'s ([`probe::probe`]: connect, banner, EHLO, STARTTLS, the
//! handshake and its report, EHLO again, QUIT), DANE is
//! `net::tls::dane::chain` over the chain the server sent, and the
//! verdict is `proto::policy::verdict`'s. The DNS answers and the MTA-STS
//! outcome are the caller's (they are per domain or per MX host, not per
//! address). Nothing here prints. [`domain`] checks a whole domain: the
//! DNS questions, the policy fetch, and every MX address at once.
//!
//! The handshake must not stop at a certificate problem (`verify` off in
//! the spec's TLS settings): DANE needs the chain even when the web PKI
//! rejects it, and the report's trust verdict is the web PKI check
//! MTA-STS needs (with the MX host as the checked name and `--ca-file`).

pub mod domain;

use crate::net::tls::dane::chain::{self, DaneCheck, TlsaAnswer};
use crate::proto::policy::verdict::{self, Live, Sts, Verdict};

use super::probe::{self, ErrorClass, Probe, ProbeSpec, Stage};

/// What the check found for one address.
#[derive(Clone, Debug)]
pub struct AddressCheck {
    /// The live attempt, with its TLS report.
    pub probe: Probe,
    /// The live attempt, as the verdict reads it.
    pub live: Live,
    /// DANE over the chain the server sent.
    pub dane: DaneCheck,
    pub verdict: Verdict,
}

/// The live attempt as the verdict reads it.
pub fn live(found: &Probe) -> Live {
    if let Some(report) = &found.tls {
        return Live::Tls {
            webpki: report.is_trusted(),
        };
    }
    let Some(error) = &found.error else {
        // The dialog completed without TLS: not offered.
        return Live::NoStarttls;
    };
    match error.stage {
        // No greeting, or EHLO refused: no sender gets as far as TLS.
        Stage::Dns | Stage::Connect | Stage::Banner | Stage::Ehlo => Live::Unreachable,
        // The probe says "STARTTLS is not offered" and "STARTTLS refused"
        // at this stage as the server's policy; a handshake that failed
        // before its 220 was seen is a TLS error here too.
        Stage::Starttls if error.class == ErrorClass::Tls => Live::HandshakeFailed,
        Stage::Starttls => Live::NoStarttls,
        Stage::Tls => Live::HandshakeFailed,
        // EHLO inside TLS or QUIT failed after TLS came up without a
        // report: count it as a failed handshake.
        _ => Live::HandshakeFailed,
    }
}

/// The certificates the server sent (DER, leaf first), if TLS came up.
pub fn chain(found: &Probe) -> Vec<Vec<u8>> {
    found
        .tls
        .as_ref()
        .map(|r| r.chain.iter().map(|c| c.der.clone()).collect())
        .unwrap_or_default()
}

/// Whether the server's certificate is for one of the names the spec
/// checks it against (the MX host): what a DANE-TA match needs.
pub fn name_ok(found: &Probe) -> bool {
    found
        .tls
        .as_ref()
        .and_then(|r| r.names.as_ref())
        .is_some_and(|t| t.first_match().is_some())
}

/// Checks one address of one MX host: `tlsa` is the host's TLSA answer,
/// `mx_secure` whether the MX answer was validated, `sts` the domain's
/// MTA-STS outcome for this host.
pub async fn check_address(
    spec: &ProbeSpec,
    tlsa: &TlsaAnswer,
    mx_secure: bool,
    sts: Sts,
) -> AddressCheck {
    let found = probe::probe(spec).await;
    judge(found, tlsa, mx_secure, sts)
}

/// The verdict for an address from a probe already made.
pub fn judge(found: Probe, tlsa: &TlsaAnswer, mx_secure: bool, sts: Sts) -> AddressCheck {
    let live = live(&found);
    let sent = chain(&found);
    let issued = |i: usize| {
        sent.get(i + 1)
            .is_some_and(|issuer| crate::net::tls::issued_by(&sent[i], issuer) == Some(true))
    };
    let dane = chain::check(tlsa, mx_secure, &sent, name_ok(&found), &issued);
    let verdict = verdict::verdict(dane.outcome, sts, live);
    AddressCheck {
        probe: found,
        live,
        dane,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::proto::policy::verdict::{Dane, Kind};
    use crate::session::probe::{ProbeError, TlsUse};

    fn found(error: Option<(Stage, ErrorClass)>) -> Probe {
        Probe {
            stages: Vec::new(),
            total: Duration::ZERO,
            banner: None,
            before: None,
            after: None,
            tls_use: TlsUse::None,
            tls: None,
            error: error.map(|(stage, class)| ProbeError {
                class,
                stage,
                message: String::new(),
            }),
            bytes: 0,
        }
    }

    #[test]
    fn how_the_live_attempt_reads() {
        let cases = [
            (
                Some((Stage::Connect, ErrorClass::Refused)),
                Live::Unreachable,
            ),
            (
                Some((Stage::Connect, ErrorClass::Timeout)),
                Live::Unreachable,
            ),
            (
                Some((Stage::Banner, ErrorClass::NoBanner)),
                Live::Unreachable,
            ),
            (Some((Stage::Banner, ErrorClass::Policy)), Live::Unreachable),
            (Some((Stage::Ehlo, ErrorClass::Protocol)), Live::Unreachable),
            (
                Some((Stage::Starttls, ErrorClass::Policy)),
                Live::NoStarttls,
            ),
            (
                Some((Stage::Starttls, ErrorClass::Protocol)),
                Live::NoStarttls,
            ),
            (
                Some((Stage::Starttls, ErrorClass::Tls)),
                Live::HandshakeFailed,
            ),
            (Some((Stage::Tls, ErrorClass::Tls)), Live::HandshakeFailed),
            (None, Live::NoStarttls),
        ];
        for (error, want) in cases {
            assert_eq!(live(&found(error)), want, "{error:?}");
        }
    }

    #[test]
    fn an_unreachable_address_is_judged_without_tls() {
        let checked = judge(
            found(Some((Stage::Connect, ErrorClass::Refused))),
            &TlsaAnswer::None,
            true,
            Sts::NoPolicy,
        );
        assert_eq!(checked.verdict.kind, Kind::Defer);
        assert_eq!(checked.dane.outcome, Dane::NoRecords);
        assert!(chain(&checked.probe).is_empty());
        assert!(!name_ok(&checked.probe));
    }
}
