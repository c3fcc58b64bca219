//! `--check DOMAIN` (#21), groundwork: the fixture domains of
//! `scripts/test-dns` read through smtpcli's own DNS questions
//! (`net::dnssec`) and policy parsers (`proto::policy`), against the real
//! validating resolver (unbound) in front of the real authoritative server
//! (Knot). `--check` itself is not wired yet; these pin what it will build on.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::proto::rr::RecordType;
use smtpcli::net::dnssec::{self, Answer, Status};
use smtpcli::net::policy_fetch::{self, FetchError};
use smtpcli::net::tls::dane::chain::TlsaAnswer;
use smtpcli::proto::policy::mta_sts::{Mode, Policy, check_response, sts_record};
use smtpcli::proto::policy::tls_rpt::{Scheme, TlsRptError, tlsrpt_record};

use smtpcli::net::ConnectOptions;
use smtpcli::net::tls::TlsSettings;
use smtpcli::proto::policy::verdict::{Kind, Reason, Sts};
use smtpcli::session::check::{AddressCheck, check_address};
use smtpcli::session::probe::ProbeSpec;
use smtpcli::session::{SessionOptions, Timeouts};

use crate::support::need_from;

const SETUP: &str = "scripts/test-dns start";

fn resolver() -> SocketAddr {
    let addr = need_from("SMTPCLI_IT_CHECK_RESOLVER", SETUP);
    addr.parse()
        .unwrap_or_else(|_| panic!("SMTPCLI_IT_CHECK_RESOLVER is {addr:?}, not IP:PORT"))
}

fn ask(name: &str, rtype: RecordType) -> Answer {
    let server = resolver();
    let name = dnssec::name(name).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(dnssec::ask(server, &name, rtype, Duration::from_secs(5)))
        .unwrap()
}

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn tlsa_answers_carry_the_validating_resolvers_verdict() {
    let ok = dnssec::tlsa_answer(&ask("_25._tcp.mx.dane-ok.check.test", RecordType::TLSA));
    match ok {
        TlsaAnswer::Records { records, secure } => {
            assert!(secure, "the signed zone's answer has the AD bit");
            let mut usages: Vec<u8> = records.iter().map(|r| r.usage).collect();
            usages.sort();
            assert_eq!(usages, [2, 3]);
        }
        other => panic!("dane-ok: {other:?}"),
    }
    let unsigned = dnssec::tlsa_answer(&ask(
        "_25._tcp.mx.dane-unsigned.insecure.test",
        RecordType::TLSA,
    ));
    assert!(
        matches!(unsigned, TlsaAnswer::Records { secure: false, .. }),
        "the unsigned zone's answer has no AD bit: {unsigned:?}"
    );
    let bogus = ask("_25._tcp.mx.dane-bogus.check.test", RecordType::TLSA);
    assert_eq!(bogus.status, Status::Bogus);
    assert_eq!(dnssec::tlsa_answer(&bogus), TlsaAnswer::Bogus);
    let none = ask("_25._tcp.mx.no-policy.check.test", RecordType::TLSA);
    assert!(none.authenticated, "a signed denial is authenticated too");
    assert_eq!(dnssec::tlsa_answer(&none), TlsaAnswer::None);
}

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn mx_hosts_come_in_preference_order_and_validated() {
    let answer = ask("dead-first-mx.check.test", RecordType::MX);
    assert!(answer.authenticated);
    let hosts = dnssec::mx_hosts(&answer);
    assert_eq!(
        hosts,
        [
            (10, "mx1.dead-first-mx.check.test".to_owned()),
            (20, "mx2.dead-first-mx.check.test".to_owned())
        ]
    );
    let unsigned = ask("dane-unsigned.insecure.test", RecordType::MX);
    assert!(!unsigned.authenticated);
    assert_eq!(dnssec::mx_hosts(&unsigned).len(), 1);
}

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn mta_sts_and_tls_rpt_records_of_the_fixtures() {
    let txt = |name: &str| dnssec::txt_records(&ask(name, RecordType::TXT));
    for domain in [
        "sts-enforce-ok",
        "sts-enforce-mx-mismatch",
        "sts-testing",
        "sts-bad-cert",
    ] {
        let records = txt(&format!("_mta-sts.{domain}.check.test"));
        let record = sts_record(records.iter().map(Vec::as_slice))
            .unwrap_or_else(|e| panic!("{domain}: {e}"))
            .unwrap_or_else(|| panic!("{domain} has no v=STSv1 record"));
        assert_eq!(record.id, "20261202T000000", "{domain}");
    }
    let records = txt("_mta-sts.no-policy.check.test");
    assert_eq!(sts_record(records.iter().map(Vec::as_slice)), Ok(None));

    let rpt = |domain: &str| {
        let records = txt(&format!("_smtp._tls.{domain}.check.test"));
        tlsrpt_record(records.iter().map(Vec::as_slice).collect::<Vec<_>>())
    };
    let ok = rpt("sts-enforce-ok").unwrap().unwrap();
    assert_eq!(ok.rua.len(), 1);
    assert_eq!(ok.rua[0].scheme, Scheme::Mailto);
    let two = rpt("sts-enforce-mx-mismatch").unwrap().unwrap();
    let schemes: Vec<Scheme> = two.rua.iter().map(|r| r.scheme).collect();
    assert_eq!(schemes, [Scheme::Mailto, Scheme::Https]);
    assert!(matches!(
        rpt("sts-testing"),
        Err(TlsRptError::Syntax { .. })
    ));
    assert_eq!(rpt("no-policy").unwrap(), None);
}

/// Where the fixtures' policy hosts (and MX) listen.
fn web_addr() -> std::net::IpAddr {
    need_from("SMTPCLI_IT_CHECK_MX_ADDR", SETUP).parse().unwrap()
}

fn policy_host(domain: &str, ca: bool) -> Result<policy_fetch::Response, FetchError> {
    let port: u16 = need_from("SMTPCLI_IT_CHECK_HTTPS_PORT", SETUP)
        .parse()
        .unwrap();
    let ca_file = ca.then(|| need_from("SMTPCLI_IT_CHECK_CA", SETUP).into());
    let host = format!("mta-sts.{domain}.check.test");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(policy_fetch::fetch(
        &host,
        (web_addr(), port).into(),
        ca_file,
        Duration::from_secs(10),
    ))
}

fn fetched_policy(domain: &str) -> Policy {
    let response = policy_host(domain, true).unwrap_or_else(|e| panic!("{domain}: {e}"));
    check_response(
        response.status,
        response.content_type.as_ref().map(|c| c.as_bytes()),
    )
    .unwrap_or_else(|e| panic!("{domain}: {e}"));
    Policy::parse(&response.body).unwrap_or_else(|e| panic!("{domain}: {e}"))
}

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn policies_of_the_fixtures_are_fetched_and_read() {
    let ok = fetched_policy("sts-enforce-ok");
    assert_eq!((ok.mode, ok.max_age), (Mode::Enforce, 86_400));
    assert!(ok.matching_mx("mx.sts-enforce-ok.check.test").is_some());

    let mismatch = fetched_policy("sts-enforce-mx-mismatch");
    assert_eq!(mismatch.mode, Mode::Enforce);
    assert!(
        mismatch
            .matching_mx("mx.sts-enforce-mx-mismatch.check.test")
            .is_none()
    );

    let testing = fetched_policy("sts-testing");
    assert_eq!(testing.mode, Mode::Testing);
    let pattern = testing.matching_mx("mx.sts-testing.check.test").unwrap();
    assert_eq!(pattern.to_string(), "*.sts-testing.check.test");
}

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn a_policy_host_whose_certificate_does_not_verify_gives_no_policy() {
    let bad = policy_host("sts-bad-cert", true).unwrap_err();
    assert!(matches!(bad, FetchError::Tls(_)), "{bad}");
    assert!(bad.to_string().contains("certificate"), "{bad}");
    // Without --ca-file, the test CA is no CA at all.
    let untrusted = policy_host("sts-enforce-ok", false).unwrap_err();
    assert!(matches!(untrusted, FetchError::Tls(_)), "{untrusted}");
}

/// The domain's MTA-STS outcome for `mx_host`, as `--check` will find it.
async fn sts_for(domain: &str, mx_host: &str) -> Sts {
    let server = resolver();
    let name = dnssec::name(&format!("_mta-sts.{domain}")).unwrap();
    let answer = dnssec::ask(server, &name, RecordType::TXT, Duration::from_secs(5))
        .await
        .unwrap();
    let records = dnssec::txt_records(&answer);
    match sts_record(records.iter().map(Vec::as_slice)) {
        Ok(None) => return Sts::NoPolicy,
        Err(_) => return Sts::Unavailable,
        Ok(Some(_)) => {}
    }
    let port: u16 = need_from("SMTPCLI_IT_CHECK_HTTPS_PORT", SETUP)
        .parse()
        .unwrap();
    let ca = need_from("SMTPCLI_IT_CHECK_CA", SETUP);
    let fetched = policy_fetch::fetch(
        &format!("mta-sts.{domain}"),
        (web_addr(), port).into(),
        Some(ca.into()),
        Duration::from_secs(10),
    )
    .await;
    let Ok(response) = fetched else {
        return Sts::Unavailable;
    };
    let content_type = response.content_type.as_ref().map(|c| c.as_bytes());
    if check_response(response.status, content_type).is_err() {
        return Sts::Unavailable;
    }
    match Policy::parse(&response.body) {
        Ok(policy) => Sts::Policy {
            mode: policy.mode,
            mx_matches: policy.matching_mx(mx_host).is_some(),
        },
        Err(_) => Sts::Unavailable,
    }
}

/// Every MX address of `domain`, checked in preference order.
fn check_domain(domain: &str) -> Vec<(String, AddressCheck)> {
    let server = resolver();
    let port: u16 = need_from("SMTPCLI_IT_CHECK_MX_PORT", SETUP)
        .parse()
        .unwrap();
    let ca = need_from("SMTPCLI_IT_CHECK_CA", SETUP);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let t = Duration::from_secs(5);
        let mx = dnssec::ask(server, &dnssec::name(domain).unwrap(), RecordType::MX, t)
            .await
            .unwrap();
        let mut checked = Vec::new();
        for (_, host) in dnssec::mx_hosts(&mx) {
            let tlsa_name = dnssec::name(&format!("_25._tcp.{host}")).unwrap();
            let tlsa = dnssec::tlsa_answer(
                &dnssec::ask(server, &tlsa_name, RecordType::TLSA, t)
                    .await
                    .unwrap(),
            );
            let sts = sts_for(domain, &host).await;
            let a = dnssec::ask(server, &dnssec::name(&host).unwrap(), RecordType::A, t)
                .await
                .unwrap();
            for record in &a.records {
                let hickory_resolver::proto::rr::RData::A(ip) = record else {
                    continue;
                };
                let mut tls = TlsSettings::new(host.as_str());
                tls.ca_file = Some(ca.clone().into());
                let spec = ProbeSpec {
                    addr: (ip.0, port).into(),
                    connect: ConnectOptions {
                        timeout: t,
                        ..ConnectOptions::default()
                    },
                    session: SessionOptions {
                        tls,
                        implicit_tls: false,
                        timeouts: Timeouts::default(),
                        quit_after: None,
                        lmtp: false,
                        keep_waiting: false,
                    },
                    ehlo: "client.check.test".into(),
                    max_bytes: 1 << 20,
                    greeted: Default::default(),
                };
                checked.push((
                    host.clone(),
                    check_address(&spec, &tlsa, mx.authenticated, sts).await,
                ));
            }
        }
        checked
    })
}

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn each_fixture_domain_gets_its_verdict() {
    let cases: &[(&str, &[(Kind, Reason)])] = &[
        (
            "dane-ok.check.test",
            &[(Kind::Authenticated, Reason::DaneMatched)],
        ),
        (
            "dane-mismatch.check.test",
            &[(Kind::Defer, Reason::DaneNotMatched)],
        ),
        ("dane-bogus.check.test", &[(Kind::Defer, Reason::DaneBogus)]),
        (
            "dane-no-starttls.check.test",
            &[(Kind::Defer, Reason::DaneNoTls)],
        ),
        (
            "dane-unsigned.insecure.test",
            &[(Kind::Unauthenticated, Reason::Opportunistic)],
        ),
        (
            "sts-enforce-ok.check.test",
            &[(Kind::Authenticated, Reason::StsEnforced)],
        ),
        (
            "sts-enforce-mx-mismatch.check.test",
            &[(Kind::Defer, Reason::StsMxMismatch)],
        ),
        (
            "sts-testing.check.test",
            &[(Kind::Unauthenticated, Reason::StsTestingPasses)],
        ),
        (
            "sts-bad-cert.check.test",
            &[(Kind::Unauthenticated, Reason::Opportunistic)],
        ),
        (
            "no-policy.check.test",
            &[(Kind::Unauthenticated, Reason::Opportunistic)],
        ),
        (
            "dead-first-mx.check.test",
            &[
                (Kind::Defer, Reason::Unreachable),
                (Kind::Unauthenticated, Reason::Opportunistic),
            ],
        ),
    ];
    for (domain, want) in cases {
        let got: Vec<(Kind, Reason)> = check_domain(domain)
            .iter()
            .map(|(_, c)| (c.verdict.kind, c.verdict.reason))
            .collect();
        assert_eq!(got, *want, "{domain}");
    }
}

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn dane_shows_which_record_matched_and_suggests_one_that_would() {
    let ok = check_domain("dane-ok.check.test");
    let dane = &ok[0].1.dane;
    let depths: Vec<usize> = dane.matches.iter().map(|m| m.depth).collect();
    assert_eq!(depths.len(), 2, "both records match: {:?}", dane.matches);
    assert!(
        depths.contains(&0) && depths.contains(&1),
        "the leaf and the CA: {depths:?}"
    );

    let mismatch = check_domain("dane-mismatch.check.test");
    let checked = &mismatch[0].1;
    let suggestion = checked
        .dane
        .suggestion
        .as_ref()
        .expect("a record that would match");
    let leaf = &checked.probe.tls.as_ref().unwrap().chain[0].der;
    assert!(suggestion.matches_cert(leaf));
    assert!(suggestion.to_string().starts_with("3 1 1 "));
}
