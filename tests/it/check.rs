//! `--check DOMAIN` (#21): the fixture domains of `scripts/test-dns`
//! through the binary (text and JSON, exit codes), through smtpcli's own
//! DNS questions (`net::dnssec`) and policy parsers (`proto::policy`),
//! against the real validating resolver (unbound) in front of the real
//! authoritative server (Knot), the real policy hosts (nginx) and the real
//! MX (Postfix); and compared with posttls-finger and mta-sts-query on the
//! same fixtures. The tests at the end need no server: the in-process DNS
//! server of `support::dns` gives the domain-level failures.

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

use serde_json::Value;

use crate::support::{dns, need_from, smtpcli, text};

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
    need_from("SMTPCLI_IT_CHECK_MX_ADDR", SETUP)
        .parse()
        .unwrap()
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

// ------------------------------------------------------------ the binary

/// `smtpcli --check DOMAIN` against the fixtures, with the test CA.
fn run_check(domain: &str, json: bool) -> (i32, String) {
    let mut cmd = smtpcli();
    cmd.args(["--check", domain, "--resolver"])
        .arg(need_from("SMTPCLI_IT_CHECK_RESOLVER", SETUP))
        .arg("--ca-file")
        .arg(need_from("SMTPCLI_IT_CHECK_CA", SETUP))
        .args(["--ehlo", "client.check.test"]);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    (code, text(&out.stdout) + &text(&out.stderr))
}

fn read_events(stdout: &str) -> Vec<Value> {
    let schema: Value = serde_json::from_str(include_str!("../../schema/events.v1.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    stdout
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let errors: Vec<String> = validator
                .iter_errors(&event)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{line}\n{errors:?}");
            event
        })
        .collect()
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

/// Each fixture domain: its verdicts in order (one per MX address), the
/// DANE outcome of the first, and the exit code.
const FIXTURES: &[(&str, &[&str], &str, i32)] = &[
    ("dane-ok.check.test", &["authenticated"], "matched", 0),
    ("dane-mismatch.check.test", &["defer"], "not_matched", 1),
    ("dane-bogus.check.test", &["defer"], "bogus", 1),
    ("dane-no-starttls.check.test", &["defer"], "not_matched", 1),
    (
        "dane-unsigned.insecure.test",
        &["unauthenticated"],
        "insecure_mx",
        0,
    ),
    (
        "sts-enforce-ok.check.test",
        &["authenticated"],
        "no_records",
        0,
    ),
    (
        "sts-enforce-mx-mismatch.check.test",
        &["defer"],
        "no_records",
        1,
    ),
    (
        "sts-testing.check.test",
        &["unauthenticated"],
        "no_records",
        0,
    ),
    (
        "sts-bad-cert.check.test",
        &["unauthenticated"],
        "no_records",
        0,
    ),
    (
        "no-policy.check.test",
        &["unauthenticated"],
        "no_records",
        0,
    ),
    (
        "dead-first-mx.check.test",
        &["defer", "unauthenticated"],
        "no_records",
        1,
    ),
    ("dane-cname.check.test", &["authenticated"], "matched", 0),
    (
        "dane-cname-initial.check.test",
        &["authenticated"],
        "matched",
        0,
    ),
    // An alias into an unsigned zone: its own name's signed records count.
    (
        "dane-cname-insecure.check.test",
        &["authenticated"],
        "matched",
        0,
    ),
];

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn every_fixture_domain_gets_its_verdict_in_json() {
    for (domain, verdicts, dane, exit) in FIXTURES {
        let (code, out) = run_check(domain, true);
        let events = read_events(&out);
        let policies = of_kind(&events, "policy");
        let got: Vec<&str> = policies
            .iter()
            .map(|p| p["verdict"].as_str().unwrap())
            .collect();
        assert_eq!(got, *verdicts, "{domain}\n{out}");
        assert_eq!(policies[0]["dane"]["outcome"], *dane, "{domain}\n{out}");
        assert_eq!(code, *exit, "{domain}\n{out}");
        let check = of_kind(&events, "check");
        assert_eq!(check.len(), 1, "{domain}: one check event");
        assert_eq!(check[0]["domain"], *domain);
        assert_eq!(check[0]["resolver_given"], true);
        let end = of_kind(&events, "end");
        assert_eq!(end.len(), 1, "{domain}: one end event");
        assert_eq!(end[0]["exit"], *exit, "{domain}");
    }
}

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn every_fixture_domain_gets_its_verdict_in_the_table() {
    for (domain, verdicts, _, exit) in FIXTURES {
        let (code, out) = run_check(domain, false);
        assert_eq!(code, *exit, "{domain}\n{out}");
        let header = out
            .lines()
            .position(|l| l.starts_with("MX ") && l.contains("VERDICT"))
            .unwrap_or_else(|| panic!("{domain}: no table\n{out}"));
        let rows: Vec<&str> = out.lines().skip(header + 1).take(verdicts.len()).collect();
        for (row, verdict) in rows.iter().zip(verdicts.iter()) {
            assert!(
                row.trim_end().ends_with(verdict),
                "{domain}: {row:?}\n{out}"
            );
        }
        assert!(!out.contains('\u{1b}'), "no colour off a terminal:\n{out}");
    }
}

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn the_report_says_what_matched_what_would_and_why() {
    let (_, ok) = run_check("dane-ok.check.test", false);
    assert!(
        ok.contains("matches the server's certificate (depth 0)"),
        "{ok}"
    );
    assert!(ok.contains("matches the CA certificate at depth 1"), "{ok}");
    assert!(ok.contains("AD bit of 127.0.0.1:5300 (--resolver)"), "{ok}");

    let (_, mismatch) = run_check("dane-mismatch.check.test", true);
    let events = read_events(&mismatch);
    let policy = of_kind(&events, "policy")[0];
    let suggestion = policy["dane"]["suggestion"].as_str().expect("a suggestion");
    assert!(suggestion.starts_with("3 1 1 "), "{suggestion}");
    assert!(
        !policy["dane"]["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == suggestion),
        "the suggestion is not the record that failed"
    );

    let (_, sts) = run_check("sts-enforce-mx-mismatch.check.test", true);
    let events = read_events(&sts);
    let check = of_kind(&events, "check")[0];
    assert_eq!(check["mta_sts"]["status"], 200);
    assert_eq!(check["mta_sts"]["mode"], "enforce");
    assert_eq!(check["mta_sts"]["mx"][0], "mx.elsewhere.check.test");
    let schemes: Vec<&str> = check["tls_rpt"]["rua"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scheme"].as_str().unwrap())
        .collect();
    assert_eq!(schemes, ["mailto", "https"]);
    assert_eq!(
        of_kind(&events, "policy")[0]["mta_sts"]["mx_matches"],
        false
    );

    let (_, bad) = run_check("sts-bad-cert.check.test", true);
    let events = read_events(&bad);
    let check = of_kind(&events, "check")[0];
    assert!(check["mta_sts"]["mode"].is_null(), "no policy: {bad}");
    let error = check["mta_sts"]["error"].as_str().unwrap();
    assert!(error.contains("certificate"), "{error}");
}

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn an_mx_alias_has_its_tlsa_records_at_the_expanded_name_first() {
    // The records are at the alias's target only.
    let (_, out) = run_check("dane-cname.check.test", true);
    let events = read_events(&out);
    let policy = of_kind(&events, "policy")[0];
    assert_eq!(policy["mx"], "mx.dane-cname.check.test", "{out}");
    assert_eq!(
        policy["dane"]["tlsa_name"], "_25._tcp.mx.dane-ok.check.test",
        "{out}"
    );
    let (_, table) = run_check("dane-cname.check.test", false);
    assert!(
        table.contains(
            "an alias (signed CNAME) of mx.dane-ok.check.test: TLSA looked up there first"
        ),
        "{table}"
    );
    // None at the target: the alias's own name is asked.
    let (_, out) = run_check("dane-cname-initial.check.test", true);
    let events = read_events(&out);
    assert_eq!(
        of_kind(&events, "policy")[0]["dane"]["tlsa_name"],
        "_25._tcp.mx.dane-cname-initial.check.test",
        "{out}"
    );
}

#[test]
#[ignore = "needs the DNS fixtures: scripts/test-dns start"]
fn a_dead_first_mx_is_reported_and_the_rest_still_checked() {
    let (code, out) = run_check("dead-first-mx.check.test", false);
    assert_eq!(code, 1, "{out}");
    let dead = out
        .find("mx1.dead-first-mx.check.test [")
        .expect("the dead MX's details");
    let alive = out
        .find("mx2.dead-first-mx.check.test [")
        .expect("the second MX's details");
    assert!(dead < alive, "preference order:\n{out}");
    assert!(out[dead..alive].contains("connection refused"), "{out}");
    assert!(
        out[alive..].contains("TLSv1."),
        "the second MX was checked:\n{out}"
    );
}

// ------------------------------------------------------------ the tools admins trust

/// Runs `tool` with a resolv.conf naming the fixtures' resolver on port 53,
/// in a mount namespace of its own (`unshare -m`): the machine's own
/// resolv.conf is not touched.
fn with_fixture_dns(tool: &str, args: &[&str], envs: &[(&str, String)]) -> String {
    let server = need_from("SMTPCLI_IT_CHECK_SYSTEM_RESOLVER", SETUP);
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("resolv.conf");
    // trust-ad: glibc passes the AD bit on only when told to.
    std::fs::write(&conf, format!("nameserver {server}\noptions trust-ad\n")).unwrap();
    let script = format!("mount --bind \"$0\" /etc/resolv.conf && exec {tool} \"$@\"");
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .arg(&conf)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap_or_else(|e| panic!("unshare (util-linux) is needed: {e}"));
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(
        !all.contains("unshare failed") && !all.contains("mount: "),
        "a mount namespace is needed for {tool}: {all}"
    );
    all
}

/// posttls-finger's DANE verdict, in `--check`'s words.
fn posttls_finger_dane(domain: &str) -> &'static str {
    let out = with_fixture_dns("posttls-finger", &["-c", "-l", "dane", domain], &[]);
    if out.contains("TLSA lookup error") {
        "bogus"
    } else if out.contains("Verified TLS connection established") {
        "matched"
    } else if out.contains("no matching DANE TLSA records") {
        "not_matched"
    } else if out.contains("TLS connection established") {
        // Untrusted or trusted, but not by DANE: no usable records.
        "none"
    } else if out.contains("Connected to") || out.contains("< 220") || out.trim().is_empty() {
        "no_tls"
    } else {
        panic!("posttls-finger said something new for {domain}:\n{out}")
    }
}

#[test]
#[ignore = "needs the DNS fixtures (scripts/test-dns start), posttls-finger and unshare"]
fn the_dane_verdict_equals_posttls_fingers() {
    for (domain, _, _, _) in FIXTURES {
        if domain.starts_with("sts-") || *domain == "dead-first-mx.check.test" {
            continue;
        }
        let (_, out) = run_check(domain, true);
        let events = read_events(&out);
        let policy = of_kind(&events, "policy")[0];
        let ours = match (
            policy["dane"]["outcome"].as_str().unwrap(),
            policy["tls"]["result"].as_str().unwrap(),
        ) {
            ("bogus", _) => "bogus",
            (_, "no_starttls") => "no_tls",
            ("matched", _) => "matched",
            ("not_matched", _) => "not_matched",
            _ => "none",
        };
        assert_eq!(ours, posttls_finger_dane(domain), "{domain}");
    }
}

/// mta-sts-query's answer: the policy as (mode, max_age, mx), or None.
fn mta_sts_query(domain: &str) -> Option<(String, u64, Vec<String>)> {
    let ca = need_from("SMTPCLI_IT_CHECK_CA", SETUP);
    let out = with_fixture_dns("mta-sts-query", &[domain], &[("SSL_CERT_FILE", ca)]);
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with('('))
        .unwrap_or_default();
    if !line.contains("VALID") {
        assert!(
            line.contains("NONE") || line.contains("FETCH_ERROR"),
            "mta-sts-query said something new for {domain}:\n{out}"
        );
        return None;
    }
    let field = |key: &str| {
        let at = line
            .find(&format!("'{key}': "))
            .unwrap_or_else(|| panic!("{key} in {line}"))
            + key.len()
            + 4;
        line[at..].to_string()
    };
    let mode = field("mode")
        .trim_start_matches('\'')
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    let max_age: u64 = field("max_age")
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mx_list = field("mx");
    let mx = mx_list[1..mx_list.find(']').unwrap()]
        .split(", ")
        .map(|m| m.trim_matches('\'').to_string())
        .collect();
    Some((mode, max_age, mx))
}

#[test]
#[ignore = "needs the DNS fixtures (scripts/test-dns start), mta-sts-query and unshare"]
fn the_mta_sts_policy_equals_mta_sts_querys() {
    for domain in [
        "sts-enforce-ok.check.test",
        "sts-enforce-mx-mismatch.check.test",
        "sts-testing.check.test",
        "sts-bad-cert.check.test",
        "no-policy.check.test",
    ] {
        let (_, out) = run_check(domain, true);
        let events = read_events(&out);
        let sts = &of_kind(&events, "check")[0]["mta_sts"];
        let ours = sts["mode"].as_str().map(|mode| {
            (
                mode.to_string(),
                sts["max_age"].as_u64().unwrap(),
                sts["mx"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m.as_str().unwrap().to_string())
                    .collect::<Vec<_>>(),
            )
        });
        assert_eq!(ours, mta_sts_query(domain), "{domain}");
    }
}

// ------------------------------------------------------------ no server needed

fn check_with(dns_port: u16, domain: &str, extra: &[&str]) -> (i32, String, String) {
    let out = smtpcli()
        .args(["--check", domain, "--resolver"])
        .arg(format!("127.0.0.1:{dns_port}"))
        .args(["--timeout", "3"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

#[test]
fn a_domain_that_does_not_exist_cannot_be_checked() {
    let port = dns::start();
    let (code, stdout, stderr) = check_with(port, "nosuch.test", &[]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("nosuch.test does not exist (NXDOMAIN)"),
        "{stderr}"
    );
    let (code, stdout, _) = check_with(port, "nosuch.test", &["--json"]);
    assert_eq!(code, 2);
    let events = read_events(&stdout);
    assert_eq!(of_kind(&events, "error").len(), 1, "{stdout}");
    assert_eq!(of_kind(&events, "end")[0]["exit"], 2);
}

#[test]
fn a_null_mx_is_a_finding_not_a_failure_to_check() {
    let port = dns::start();
    let (code, stdout, stderr) = check_with(port, "null.test", &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("accepts no mail"), "{stderr}");
    assert!(stderr.contains("null MX"), "{stderr}");
}

#[test]
fn a_domain_without_mx_is_its_own_mx() {
    let port = dns::start();
    let (_, stdout, stderr) = check_with(port, "nomx.test", &["--json"]);
    let events = read_events(&stdout);
    let check = of_kind(&events, "check");
    assert_eq!(check.len(), 1, "{stdout}{stderr}");
    assert_eq!(check[0]["mx_source"], "implicit");
    assert_eq!(check[0]["mx"][0]["name"], "nomx.test");
    // The in-process server signs nothing: no AD bit, so DANE cannot apply.
    assert_eq!(check[0]["mx_secure"], false);
    let policy = of_kind(&events, "policy");
    assert_eq!(policy[0]["dane"]["outcome"], "insecure_mx");
}

#[test]
fn a_resolver_that_does_not_answer_is_a_failure_to_check() {
    // A UDP port nothing listens on: the kernel refuses at once.
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    drop(socket);
    let (code, stdout, stderr) = check_with(port, "example.org", &[]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("asking for the MX records of example.org"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one clear message: {stderr}");
}

#[test]
fn what_is_not_a_domain_is_a_usage_error() {
    for bad in [
        "",
        "exa mple.org",
        "user@example.org",
        "http://example.org/",
    ] {
        let out = smtpcli().args(["--check", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("--check wants a domain name"),
            "{bad:?}: {stderr}"
        );
    }
    let out = smtpcli()
        .args(["--check", "example.org", "--to", "a@example.org"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = smtpcli()
        .args(["--check", "example.org", "mx.example.org"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "--check takes no HOST");
}
