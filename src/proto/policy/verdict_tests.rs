use super::*;

const TLS: Live = Live::Tls { webpki: true };
const TLS_UNVERIFIED: Live = Live::Tls { webpki: false };

fn enforce(mx_matches: bool) -> Sts {
    Sts::Policy {
        mode: Mode::Enforce,
        mx_matches,
    }
}

fn testing(mx_matches: bool) -> Sts {
    Sts::Policy {
        mode: Mode::Testing,
        mx_matches,
    }
}

/// The fixture domains of `scripts/test-dns`, as the check sees them.
#[test]
fn the_fixture_domains() {
    use Kind::*;
    let cases: &[(&str, Dane, Sts, Live, Kind, Reason)] = &[
        (
            "dane-ok",
            Dane::Matched,
            Sts::NoPolicy,
            TLS,
            Authenticated,
            Reason::DaneMatched,
        ),
        (
            "dane-mismatch",
            Dane::NotMatched,
            Sts::NoPolicy,
            TLS,
            Defer,
            Reason::DaneNotMatched,
        ),
        (
            "dane-bogus",
            Dane::Bogus,
            Sts::NoPolicy,
            TLS,
            Defer,
            Reason::DaneBogus,
        ),
        (
            "dane-no-starttls",
            Dane::NotMatched,
            Sts::NoPolicy,
            Live::NoStarttls,
            Defer,
            Reason::DaneNoTls,
        ),
        (
            "dane-unsigned",
            Dane::Insecure,
            Sts::NoPolicy,
            TLS,
            Unauthenticated,
            Reason::Opportunistic,
        ),
        (
            "sts-enforce-ok",
            Dane::NoRecords,
            enforce(true),
            TLS,
            Authenticated,
            Reason::StsEnforced,
        ),
        (
            "sts-enforce-mx-mismatch",
            Dane::NoRecords,
            enforce(false),
            TLS,
            Defer,
            Reason::StsMxMismatch,
        ),
        (
            "sts-testing",
            Dane::NoRecords,
            testing(true),
            TLS,
            Unauthenticated,
            Reason::StsTestingPasses,
        ),
        (
            "sts-bad-cert",
            Dane::NoRecords,
            Sts::Unavailable,
            TLS,
            Unauthenticated,
            Reason::Opportunistic,
        ),
        (
            "no-policy",
            Dane::NoRecords,
            Sts::NoPolicy,
            TLS,
            Unauthenticated,
            Reason::Opportunistic,
        ),
        (
            "dead-first-mx (mx1)",
            Dane::NoRecords,
            Sts::NoPolicy,
            Live::Unreachable,
            Defer,
            Reason::Unreachable,
        ),
    ];
    for (name, dane, sts, live, kind, reason) in cases {
        let got = verdict(*dane, *sts, *live);
        assert_eq!((got.kind, got.reason), (*kind, *reason), "{name}");
    }
}

#[test]
fn dane_comes_before_mta_sts() {
    // A DANE failure is never rescued by a policy that would pass.
    let v = verdict(Dane::NotMatched, enforce(true), TLS);
    assert_eq!((v.kind, v.by), (Kind::Defer, By::Dane));
    let v = verdict(Dane::Bogus, enforce(true), TLS);
    assert_eq!((v.kind, v.by), (Kind::Defer, By::Dane));
    // A DANE match needs no web PKI and no policy match.
    let v = verdict(Dane::Matched, enforce(false), TLS_UNVERIFIED);
    assert_eq!((v.kind, v.by), (Kind::Authenticated, By::Dane));
    // DANE that does not apply leaves the decision to MTA-STS.
    for dane in [Dane::NoRecords, Dane::Insecure, Dane::InsecureMx] {
        let v = verdict(dane, enforce(false), TLS);
        assert_eq!((v.kind, v.by), (Kind::Defer, By::MtaSts), "{dane:?}");
    }
}

#[test]
fn dane_without_tls_defers() {
    for live in [Live::NoStarttls, Live::HandshakeFailed] {
        for dane in [Dane::Matched, Dane::NotMatched, Dane::Unusable] {
            let v = verdict(dane, Sts::NoPolicy, live);
            assert_eq!(
                (v.kind, v.reason),
                (Kind::Defer, Reason::DaneNoTls),
                "{dane:?} {live:?}"
            );
        }
    }
    let v = verdict(Dane::Unusable, Sts::NoPolicy, TLS);
    assert_eq!(
        (v.kind, v.reason),
        (Kind::Unauthenticated, Reason::DaneUnusable)
    );
    let v = verdict(Dane::LookupFailed, Sts::NoPolicy, TLS);
    assert_eq!((v.kind, v.reason), (Kind::Defer, Reason::DaneLookupFailed));
}

#[test]
fn mta_sts_enforce_needs_a_match_tls_and_a_valid_certificate() {
    let cases: &[(bool, Live, Kind, Reason)] = &[
        (true, TLS, Kind::Authenticated, Reason::StsEnforced),
        (true, TLS_UNVERIFIED, Kind::Defer, Reason::StsCertInvalid),
        (true, Live::NoStarttls, Kind::Defer, Reason::StsNoTls),
        (true, Live::HandshakeFailed, Kind::Defer, Reason::StsNoTls),
        (false, TLS, Kind::Defer, Reason::StsMxMismatch),
    ];
    for (mx_matches, live, kind, reason) in cases {
        let v = verdict(Dane::NoRecords, enforce(*mx_matches), *live);
        assert_eq!(
            (v.kind, v.reason),
            (*kind, *reason),
            "{mx_matches} {live:?}"
        );
    }
}

#[test]
fn mta_sts_testing_and_none_deliver_anyway() {
    let v = verdict(Dane::NoRecords, testing(false), Live::NoStarttls);
    assert_eq!(
        (v.kind, v.reason),
        (Kind::Unauthenticated, Reason::StsTestingWouldFail)
    );
    let v = verdict(Dane::NoRecords, testing(true), TLS_UNVERIFIED);
    assert_eq!(
        (v.kind, v.reason),
        (Kind::Unauthenticated, Reason::StsTestingWouldFail)
    );
    let none = Sts::Policy {
        mode: Mode::None,
        mx_matches: false,
    };
    let v = verdict(Dane::NoRecords, none, TLS);
    assert_eq!((v.kind, v.reason), (Kind::Unauthenticated, Reason::StsNone));
}

#[test]
fn without_policies_tls_is_opportunistic() {
    let v = verdict(Dane::NoRecords, Sts::NoPolicy, Live::NoStarttls);
    assert_eq!(
        (v.kind, v.reason),
        (Kind::Unauthenticated, Reason::Plaintext)
    );
    let v = verdict(Dane::Insecure, Sts::Unavailable, Live::HandshakeFailed);
    assert_eq!(
        (v.kind, v.reason),
        (Kind::Unauthenticated, Reason::Plaintext)
    );
    let v = verdict(Dane::NoRecords, Sts::NoPolicy, TLS_UNVERIFIED);
    assert_eq!(
        (v.kind, v.reason),
        (Kind::Unauthenticated, Reason::Opportunistic)
    );
}

#[test]
fn an_unreachable_address_defers_whatever_the_policies() {
    let v = verdict(Dane::Matched, enforce(true), Live::Unreachable);
    assert_eq!((v.kind, v.by), (Kind::Defer, By::Connection));
}

#[test]
fn the_words() {
    let words: Vec<&str> = [Kind::Authenticated, Kind::Unauthenticated, Kind::Defer]
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(words, ["authenticated", "unauthenticated", "defer"]);
}
