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
        ([127, 0, 0, 1], port).into(),
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
