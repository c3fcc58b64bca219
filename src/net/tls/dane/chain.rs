//! DANE for SMTP (RFC 7672) over one MX host's TLSA answer and the chain
//! its server sent: which records are usable, which record matched which
//! certificate, the record that would match when none does, and the
//! [`Dane`] outcome `proto::policy::verdict` decides with.
//!
//! Sans-IO like the rest of `dane`: the DNS lookup (and its AD bit) and
//! the handshake are the caller's; this only reads their results.

use super::Tlsa;
use crate::proto::policy::verdict::Dane;

/// A TLSA lookup's answer, as the validating resolver gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsaAnswer {
    /// NXDOMAIN or no TLSA records at the name.
    None,
    /// Records; `secure` is the AD bit of a validating resolver.
    Records { records: Vec<Tlsa>, secure: bool },
    /// The resolver found the answer bogus (SERVFAIL from a validating
    /// resolver on a signed name).
    Bogus,
    /// The lookup failed otherwise (timeout, REFUSED, a broken answer).
    Failed,
}

/// One record that matched one certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsaMatch {
    /// Index into the records.
    pub record: usize,
    /// Depth in the chain as sent (0: the server's own certificate).
    pub depth: usize,
}

/// What DANE found for one MX host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaneCheck {
    pub outcome: Dane,
    /// Every (record, certificate) pair that matched, records in order.
    pub matches: Vec<TlsaMatch>,
    /// The records SMTP DANE cannot use (indexes), when the answer was
    /// secure.
    pub unusable: Vec<usize>,
    /// When secure usable records exist and none matched: the `3 1 1`
    /// record of the server's own key, which would.
    pub suggestion: Option<Tlsa>,
}

impl Tlsa {
    /// Whether SMTP DANE uses this record (RFC 7672 §3.1): usage DANE-TA
    /// (2) or DANE-EE (3), selector 0 or 1, matching type 0, 1 or 2.
    /// PKIX-TA (0) and PKIX-EE (1) are unusable for SMTP.
    pub fn is_usable_for_smtp(&self) -> bool {
        matches!(self.usage, super::DANE_TA | super::DANE_EE)
            && self.selector <= 1
            && self.matching <= 2
    }
}

/// The usable records' matches against `chain` (DER, leaf first, as
/// sent): a DANE-EE record against the leaf only; a DANE-TA record
/// against the certificates above it (RFC 7672 §3.1.1, §3.1.2).
pub fn match_chain(records: &[Tlsa], chain: &[Vec<u8>]) -> Vec<TlsaMatch> {
    let mut found = Vec::new();
    for (record, tlsa) in records.iter().enumerate() {
        if !tlsa.is_usable_for_smtp() {
            continue;
        }
        let depths = if tlsa.usage == super::DANE_EE {
            0..chain.len().min(1)
        } else {
            1.min(chain.len())..chain.len()
        };
        for depth in depths {
            if tlsa.matches_cert(&chain[depth]) {
                found.push(TlsaMatch { record, depth });
            }
        }
    }
    found
}

/// DANE for one MX host. `mx_secure` is whether the MX answer that named
/// this host was validated (AD); `chain` is empty when no TLS came up;
/// `name_ok` is whether the server's certificate is for the MX host name,
/// which a DANE-TA match needs (RFC 7672 §3.2.2) and a DANE-EE match does
/// not (§3.2.1).
///
/// `issued(i)` says whether the certificate at depth `i` is signed by the
/// one at depth `i + 1` ([`crate::net::tls::issued_by`]): a DANE-TA match
/// at depth `d` authenticates only when every link below it holds, so a
/// CA certificate sent beside an unrelated leaf proves nothing.
pub fn check(
    answer: &TlsaAnswer,
    mx_secure: bool,
    chain: &[Vec<u8>],
    name_ok: bool,
    issued: &dyn Fn(usize) -> bool,
) -> DaneCheck {
    let done = |outcome| DaneCheck {
        outcome,
        matches: Vec::new(),
        unusable: Vec::new(),
        suggestion: None,
    };
    if !mx_secure {
        return done(Dane::InsecureMx);
    }
    let (records, secure) = match answer {
        TlsaAnswer::None => return done(Dane::NoRecords),
        TlsaAnswer::Bogus => return done(Dane::Bogus),
        TlsaAnswer::Failed => return done(Dane::LookupFailed),
        TlsaAnswer::Records { records, secure } => (records, *secure),
    };
    if records.is_empty() {
        return done(Dane::NoRecords);
    }
    if !secure {
        return done(Dane::Insecure);
    }
    let unusable: Vec<usize> = (0..records.len())
        .filter(|&i| !records[i].is_usable_for_smtp())
        .collect();
    if unusable.len() == records.len() {
        return DaneCheck {
            unusable,
            ..done(Dane::Unusable)
        };
    }
    let matches = match_chain(records, chain);
    let authenticates = matches.iter().any(|m| {
        records[m.record].usage == super::DANE_EE || (name_ok && (0..m.depth).all(issued))
    });
    let outcome = if authenticates {
        Dane::Matched
    } else {
        Dane::NotMatched
    };
    let suggestion = (!authenticates)
        .then(|| chain.first().and_then(|leaf| Tlsa::for_depth(0, leaf)))
        .flatten();
    DaneCheck {
        outcome,
        matches,
        unusable,
        suggestion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tls::dane::cert_sha256;
    use rcgen::{CertificateParams, DnType, Issuer, KeyPair};

    /// A CA and a leaf it issued: (leaf DER, CA DER).
    fn chain() -> Vec<Vec<u8>> {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["mx.example.com".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        vec![leaf.der().to_vec(), ca_cert.der().to_vec()]
    }

    /// Each link of `chain` checked by the TLS backend.
    fn links(chain: &[Vec<u8>]) -> impl Fn(usize) -> bool + '_ {
        |i| {
            chain
                .get(i + 1)
                .is_some_and(|issuer| crate::net::tls::issued_by(&chain[i], issuer) == Some(true))
        }
    }

    #[test]
    fn a_ca_sent_beside_a_leaf_it_did_not_issue_does_not_authenticate() {
        let ours = chain();
        let theirs = self::chain();
        // The server sends our leaf and their CA; the TLSA record names
        // their CA: the digest matches at depth 1, the signature does not.
        let sent = vec![ours[0].clone(), theirs[1].clone()];
        let got = check(
            &secure(vec![ta_cert(&theirs[1])]),
            true,
            &sent,
            true,
            &links(&sent),
        );
        assert_eq!(got.matches.len(), 1, "the digest matches");
        assert_eq!(got.outcome, Dane::NotMatched);
        // The CA that did issue the leaf authenticates it.
        let got = check(
            &secure(vec![ta_cert(&ours[1])]),
            true,
            &ours,
            true,
            &links(&ours),
        );
        assert_eq!(got.outcome, TA_VERIFIED);
    }

    /// A DANE-TA match with the name right: authenticated where the
    /// backend can check the chain's signatures (OpenSSL); a build without
    /// it cannot, and says not matched.
    const TA_VERIFIED: Dane = if cfg!(feature = "openssl") {
        Dane::Matched
    } else {
        Dane::NotMatched
    };

    fn secure(records: Vec<Tlsa>) -> TlsaAnswer {
        TlsaAnswer::Records {
            records,
            secure: true,
        }
    }

    fn ee(der: &[u8]) -> Tlsa {
        Tlsa::for_depth(0, der).unwrap()
    }

    fn ta_cert(der: &[u8]) -> Tlsa {
        Tlsa {
            usage: 2,
            selector: 0,
            matching: 1,
            data: cert_sha256(der).to_vec(),
        }
    }

    #[test]
    fn usable_records() {
        let cases = [
            ("3 1 1 00", true),
            ("2 0 1 00", true),
            ("3 0 0 00", true),
            ("3 1 2 00", true),
            ("1 1 1 00", false),
            ("0 0 1 00", false),
            ("3 2 1 00", false),
            ("3 1 3 00", false),
            ("4 1 1 00", false),
        ];
        for (text, want) in cases {
            let t: Tlsa = text.parse().unwrap();
            assert_eq!(t.is_usable_for_smtp(), want, "{text}");
        }
    }

    #[test]
    fn which_record_matched_which_certificate() {
        let chain = chain();
        let (leaf, ca) = (&chain[0], &chain[1]);
        let records = vec![ta_cert(ca), ee(leaf), ee(ca), ta_cert(leaf)];
        // DANE-EE only at the leaf, DANE-TA only above it.
        assert_eq!(
            match_chain(&records, &chain),
            [
                TlsaMatch {
                    record: 0,
                    depth: 1
                },
                TlsaMatch {
                    record: 1,
                    depth: 0
                }
            ]
        );
        assert_eq!(match_chain(&records, &[]), []);
    }

    #[test]
    fn outcomes() {
        let chain = chain();
        let other = self::chain();
        let (leaf, ca) = (&chain[0], &chain[1]);
        let cases: Vec<(&str, TlsaAnswer, bool, bool, Dane)> = vec![
            (
                "EE match",
                secure(vec![ee(leaf)]),
                true,
                false,
                Dane::Matched,
            ),
            (
                "TA match, name ok",
                secure(vec![ta_cert(ca)]),
                true,
                true,
                TA_VERIFIED,
            ),
            (
                "TA match, wrong name",
                secure(vec![ta_cert(ca)]),
                true,
                false,
                Dane::NotMatched,
            ),
            (
                "another key",
                secure(vec![ee(&other[0])]),
                true,
                true,
                Dane::NotMatched,
            ),
            (
                "unsigned",
                TlsaAnswer::Records {
                    records: vec![ee(leaf)],
                    secure: false,
                },
                true,
                true,
                Dane::Insecure,
            ),
            (
                "insecure MX",
                secure(vec![ee(leaf)]),
                false,
                true,
                Dane::InsecureMx,
            ),
            ("none", TlsaAnswer::None, true, true, Dane::NoRecords),
            ("empty", secure(vec![]), true, true, Dane::NoRecords),
            ("bogus", TlsaAnswer::Bogus, true, true, Dane::Bogus),
            ("failed", TlsaAnswer::Failed, true, true, Dane::LookupFailed),
            (
                "PKIX only",
                secure(vec!["1 1 1 00".parse().unwrap()]),
                true,
                true,
                Dane::Unusable,
            ),
        ];
        for (name, answer, mx_secure, name_ok, want) in cases {
            let got = check(&answer, mx_secure, &chain, name_ok, &links(&chain));
            assert_eq!(got.outcome, want, "{name}");
        }
    }

    #[test]
    fn a_mismatch_suggests_the_record_that_would_match() {
        let chain = chain();
        let other = self::chain();
        let got = check(
            &secure(vec![ee(&other[0])]),
            true,
            &chain,
            true,
            &links(&chain),
        );
        let suggestion = got.suggestion.unwrap();
        assert_eq!(
            (suggestion.usage, suggestion.selector, suggestion.matching),
            (3, 1, 1)
        );
        assert!(suggestion.matches_cert(&chain[0]));
        assert!(
            check(
                &secure(vec![ee(&chain[0])]),
                true,
                &chain,
                true,
                &links(&chain)
            )
            .suggestion
            .is_none()
        );
        // No TLS, no chain: nothing to suggest.
        let got = check(&secure(vec![ee(&other[0])]), true, &[], true, &|_| false);
        assert_eq!((got.outcome, got.suggestion), (Dane::NotMatched, None));
    }

    #[test]
    fn unusable_records_are_named() {
        let chain = chain();
        let records = vec!["1 1 1 00".parse().unwrap(), ee(&chain[0])];
        let got = check(&secure(records), true, &chain, false, &links(&chain));
        assert_eq!((got.outcome, got.unusable), (Dane::Matched, vec![0]));
    }
}
