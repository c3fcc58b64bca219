//! `--check DOMAIN` (#21), groundwork: the fixture domains of
//! `scripts/test-dns` read through smtpcli's own DNS questions
//! (`net::dnssec`) and policy parsers (`proto::policy`), against the real
//! validating resolver (unbound) in front of the real authoritative server
//! (Knot). `--check` itself is not wired yet; these pin what it will build on.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::proto::rr::RecordType;
use smtpcli::net::dnssec::{self, Answer, Status};
use smtpcli::net::tls::dane::chain::TlsaAnswer;
use smtpcli::proto::policy::mta_sts::sts_record;
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
