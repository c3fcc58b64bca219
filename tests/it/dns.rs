//! `--mx`, `--resolver` and IPv6, on loopback only: an in-process DNS
//! server answers for `*.test`.

use std::process::Output;

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{TEST_SERVERS, dns, host_port, need_from, smtpcli, text};

fn greeting_server() -> FakeServer {
    FakeServer::start(vec![
        send("220 mx2.example.test ESMTP"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ])
}

/// Runs smtpcli with the in-process DNS server as its resolver and no
/// input.
fn with_resolver(dns_port: u16, args: &[&str]) -> Output {
    smtpcli()
        .arg("--resolver")
        .arg(format!("127.0.0.1:{dns_port}"))
        .args(args)
        .write_stdin("")
        .output()
        .unwrap()
}

#[test]
fn mx_hosts_are_listed_and_tried_in_preference_order() {
    let dns_port = dns::start();
    let server = greeting_server();
    let out = with_resolver(
        dns_port,
        &["--color", "never", "--mx", "example.test", &server.port()],
    );
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let port = server_port(&stdout);
    for want in [
        "# MX hosts of example.test, by preference:".to_string(),
        "#      10 mx1.example.test (127.0.0.2)".to_string(),
        "#      20 mx2.example.test (127.0.0.1)".to_string(),
        format!("# warning: 127.0.0.2:{port}: mx1.example.test: connection refused"),
        format!("# connected to 127.0.0.1 port {port} (mx2.example.test)"),
    ] {
        assert!(stdout.contains(&want), "{want:?} missing:\n{stdout}");
    }
}

#[test]
fn an_mx_name_with_escape_sequences_is_shown_escaped() {
    let dns_port = dns::start();
    let out = with_resolver(
        dns_port,
        &["--color", "never", "--json", "--mx", "hostile.test", "1"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    // The resolver gives the name in DNS presentation form (`\033`);
    // whatever form it takes, nothing of it reaches the terminal raw.
    assert!(stderr.contains("evil\\033"), "{stderr}");
    for output in [&stdout, &stderr] {
        assert!(
            !output.contains('\x1b') && !output.contains('\x07') && !output.contains('\u{202e}'),
            "raw control characters: {output:?}"
        );
    }
}

fn server_port(stdout: &str) -> String {
    stdout
        .split("connected to 127.0.0.1 port ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_domain_without_mx_falls_back_to_its_address() {
    let dns_port = dns::start();
    let server = greeting_server();
    let out = with_resolver(
        dns_port,
        &["--color", "never", "--mx", "nomx.test", &server.port()],
    );
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("# nomx.test has no MX records: using its own address (RFC 5321 §5.1)"),
        "{stdout}"
    );
}

#[test]
fn a_null_mx_exits_1_with_its_meaning() {
    let dns_port = dns::start();
    let out = with_resolver(dns_port, &["--mx", "null.test", "25"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("null.test has a null MX (RFC 7505"),
        "{stderr}"
    );
    assert!(stderr.contains("accepts no mail"), "{stderr}");
}

#[test]
fn an_unknown_domain_exits_2() {
    let dns_port = dns::start();
    let out = with_resolver(dns_port, &["--mx", "missing.test", "25"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot resolve missing.test: no such domain"));
}

#[test]
fn the_resolver_is_used_for_plain_host_names_too() {
    let dns_port = dns::start();
    let server = greeting_server();
    let out = with_resolver(
        dns_port,
        &["--color", "never", "mx2.example.test", &server.port()],
    );
    server.finish();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

fn ipv6_server() -> Option<FakeServer> {
    let server = FakeServer::start_on(
        "[::1]:0",
        vec![vec![
            send("220 six ESMTP"),
            expect("QUIT"),
            send("221 Bye"),
            Step::Close,
        ]],
    );
    if server.is_none() {
        eprintln!("skipped: ::1 cannot be bound here");
    }
    server
}

#[test]
fn ipv6_literals_and_dash_6() {
    for form in ["bracketed", "dash-6"] {
        let Some(server) = ipv6_server() else { return };
        let port = server.port();
        let mut cmd = smtpcli();
        match form {
            "bracketed" => cmd.args(["--color", "never", &format!("[::1]:{port}")]),
            _ => cmd.args(["--color", "never", "-6", "::1", &port]),
        };
        let out = cmd.write_stdin("").output().unwrap();
        server.finish();
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{form}: {stdout}");
        assert!(
            stdout.contains(&format!("# connected to ::1 port {port} from ::1 port")),
            "{form}: {stdout}"
        );
    }
}

#[test]
fn dash_6_refuses_an_ipv4_only_target() {
    let out = smtpcli()
        .args(["-6", "127.0.0.1", "25"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("127.0.0.1 has no address of the chosen family"));
}

#[test]
fn a_refused_family_is_reported_before_the_other_answers() {
    // "localhost" is ::1 and 127.0.0.1 on most machines; the server listens
    // on 127.0.0.1 only, so an IPv6 attempt (if made) fails and says so.
    let server = greeting_server();
    let port = server.port();
    let out = smtpcli()
        .args(["--color", "never", "localhost", &port])
        .write_stdin("")
        .output()
        .unwrap();
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    if stdout.contains("::1") {
        assert!(
            stdout.contains(&format!("# warning: [::1]:{port}: connection refused")),
            "{stdout}"
        );
        assert!(stdout.contains("# localhost has 2 addresses"), "{stdout}");
    } else {
        eprintln!("note: localhost has no IPv6 address here; no fallback to see");
    }
    assert!(
        stdout.contains(&format!("# connected to 127.0.0.1 port {port}")),
        "{stdout}"
    );
}

#[test]
#[ignore = "needs Postfix on ::1: scripts/test-servers start"]
fn postfix_over_ipv6() {
    // scripts/test-servers sets SMTPCLI_IT_SMTP6 only where the machine has
    // an IPv6 loopback for Postfix to listen on.
    let addr = need_from(
        "SMTPCLI_IT_SMTP6",
        &format!(
            "{TEST_SERVERS} on a machine with an IPv6 loopback (::1), \
             or leave this test out (--skip dns::postfix_over_ipv6)"
        ),
    );
    let (host, port) = host_port("SMTPCLI_IT_SMTP6", &addr);
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let out = smtpcli()
        .args(["--color", "never", "-6", &host, &port])
        .write_stdin("EHLO pc0815.example.com\n")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("# connected to ::1 port"), "{stdout}");
}

#[test]
fn mx_tries_five_hosts_of_two_addresses_and_says_each_attempt() {
    let dns_port = dns::start();
    // A port where nothing listens: every attempt is refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let out = with_resolver(dns_port, &["--color", "never", "--mx", "many.test", &port]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    let tries = stdout.matches("# trying m").count();
    assert_eq!(tries, 10, "{stdout}");
    assert!(
        stdout.contains("# trying m1.many.test (127.0.1.1)"),
        "{stdout}"
    );
    assert!(!stdout.contains("m6.many.test (127.0.6"), "{stdout}");
    assert!(!stdout.contains("(127.0.1.3)"), "{stdout}");
    assert!(
        stdout.contains("--mx-limit: 2 more MX hosts not tried"),
        "{stdout}"
    );
    let wider = with_resolver(
        dns_port,
        &[
            "--color",
            "never",
            "--mx",
            "--mx-limit",
            "7x3",
            "many.test",
            &port,
        ],
    );
    assert_eq!(text(&wider.stdout).matches("# trying m").count(), 21);
}

#[test]
fn dns_that_never_answers_is_bounded_by_timeout() {
    // A UDP port that takes queries and answers none.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns_port = silent.local_addr().unwrap().port();
    let started = std::time::Instant::now();
    let out = with_resolver(
        dns_port,
        &[
            "--color",
            "never",
            "--timeout",
            "1",
            "--mx",
            "example.test",
            "25",
        ],
    );
    let elapsed = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no answer from DNS within 1 s"), "{stderr}");
    assert!(
        elapsed < std::time::Duration::from_secs(3),
        "took {elapsed:?}"
    );
    drop(silent);
}
