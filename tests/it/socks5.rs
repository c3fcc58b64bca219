//! `--socks5`: through a scripted proxy (the fake server speaking SOCKS5,
//! then SMTP as the destination behind it) for what real proxies will not
//! do on demand, and through Dante to Postfix (`#[ignore]`d: run with
//! `--include-ignored` once `scripts/test-servers start` has started them).

use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::fake_server::{FakeServer, Step, expect, hold, send};
use crate::support::{dns, need, need_server, smtpcli, text, token, wait_for_mail};

const GREETING: &[u8] = &[5, 1, 0];
const GREETING_WITH_LOGIN: &[u8] = &[5, 2, 0, 2];
/// Success, bound to 127.0.0.1 port 56609.
const CONNECTED: &[u8] = &[5, 0, 0, 1, 127, 0, 0, 1, 0xdd, 0x21];

fn bytes(b: &[u8]) -> Step {
    Step::Send(b.to_vec())
}

fn expect_bytes(b: &[u8]) -> Step {
    Step::ExpectBytes(b.to_vec())
}

/// A CONNECT request to a name, written out by hand from RFC 1928.
fn connect_name(name: &str, port: u16) -> Vec<u8> {
    let mut out = vec![5, 1, 0, 3, u8::try_from(name.len()).unwrap()];
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&port.to_be_bytes());
    out
}

/// The same for 127.0.0.1.
fn connect_loopback(port: u16) -> Vec<u8> {
    let mut out = vec![5, 1, 0, 1, 127, 0, 0, 1];
    out.extend_from_slice(&port.to_be_bytes());
    out
}

/// What the destination says behind the proxy: a banner, then QUIT.
fn smtp_behind() -> Vec<Step> {
    vec![
        send("220 mail.example.invalid ESMTP"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]
}

fn proxy_arg(proxy: &FakeServer) -> String {
    format!("127.0.0.1:{}", proxy.port())
}

/// smtpcli through `proxy` with no input.
fn through(proxy: &FakeServer, args: &[&str]) -> Output {
    smtpcli()
        .args(["--color", "never", "--socks5", &proxy_arg(proxy)])
        .args(args)
        .write_stdin("")
        .output()
        .unwrap()
}

#[test]
fn the_server_name_goes_to_the_proxy_unresolved() {
    // `.invalid` never resolves: only the proxy is asked about it.
    let mut script = vec![
        expect_bytes(GREETING),
        bytes(&[5, 0]),
        expect_bytes(&connect_name("mail.example.invalid", 25)),
        bytes(CONNECTED),
    ];
    script.extend(smtp_behind());
    let proxy = FakeServer::start(script);
    let at = proxy_arg(&proxy);
    let out = through(&proxy, &["mail.example.invalid"]);
    proxy.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for want in [
        format!(
            "# connected to mail.example.invalid port 25 via SOCKS5 {} from 127.0.0.1 port ",
            at
        ),
        "# the server sees the proxy's 127.0.0.1 port 56609\n".to_string(),
        "<< 220 mail.example.invalid ESMTP".to_string(),
        "<< 221 Bye".to_string(),
    ] {
        assert!(stdout.contains(&want), "{want:?} missing:\n{stdout}");
    }
}

#[test]
fn json_names_the_proxy_and_fits_the_schema() {
    let mut script = vec![
        expect_bytes(GREETING),
        bytes(&[5, 0]),
        expect_bytes(&connect_loopback(2525)),
        // A proxy that does not say what it bound.
        bytes(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ];
    script.extend(smtp_behind());
    let proxy = FakeServer::start(script);
    let at = proxy_arg(&proxy);
    let out = through(&proxy, &["--json", "127.0.0.1", "2525"]);
    proxy.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../schema/events.v1.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for event in &events {
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{event}\n{errors:?}");
    }
    let connected = events
        .iter()
        .find(|e| e["event"] == "connected")
        .expect("a connected event");
    assert_eq!(
        connected["socks5"],
        serde_json::json!({
            "proxy": at,
            "target": "127.0.0.1:2525",
            "method": "no authentication",
            "user": null,
            "bound": null,
        })
    );
    assert_eq!(connected["peer"], at);
}

#[test]
fn the_proxy_login_goes_out_as_rfc_1929_and_the_password_is_never_shown() {
    let password = "pa55-w0rd-never-shown";
    let mut login = vec![1, 9];
    login.extend_from_slice(b"socksuser");
    login.push(u8::try_from(password.len()).unwrap());
    login.extend_from_slice(password.as_bytes());
    let script = || {
        let mut script = vec![
            expect_bytes(GREETING_WITH_LOGIN),
            bytes(&[5, 2]),
            expect_bytes(&login),
            bytes(&[1, 0]),
            expect_bytes(&connect_loopback(25)),
            bytes(CONNECTED),
        ];
        script.extend(smtp_behind());
        script
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("socks-password");
    std::fs::write(&file, format!("{password}\nsecond line ignored\n")).unwrap();

    // From a file, and from the environment (into JSON).
    let proxy = FakeServer::start(script());
    let args = ["--socks5-user", "socksuser", "--socks5-password-file"];
    let from_file = smtpcli()
        .args(["--color", "never", "--socks5", &proxy_arg(&proxy)])
        .args(args)
        .arg(&file)
        .arg("127.0.0.1")
        .write_stdin("")
        .output()
        .unwrap();
    proxy.finish();
    let proxy = FakeServer::start(script());
    let from_env = smtpcli()
        .args(["--json", "--socks5", &proxy_arg(&proxy)])
        .args(["--socks5-user", "socksuser", "127.0.0.1"])
        .env("SMTPCLI_SOCKS5_PASSWORD", password)
        .write_stdin("")
        .output()
        .unwrap();
    proxy.finish();
    for out in [&from_file, &from_env] {
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
        assert!(!stdout.contains(password) && !stderr.contains(password));
    }
    assert!(
        text(&from_file.stdout).contains(" as socksuser from 127.0.0.1 port "),
        "{}",
        text(&from_file.stdout)
    );
    assert!(
        text(&from_env.stdout).contains(r#""method":"user name and password","user":"socksuser""#),
        "{}",
        text(&from_env.stdout)
    );
}

#[test]
fn hostile_or_broken_proxies_get_one_clear_message_and_exit_2() {
    let after_greeting = |answer: Vec<Step>| {
        let mut script = vec![expect_bytes(GREETING)];
        script.extend(answer);
        script
    };
    let after_method = |answer: Vec<Step>| {
        let mut script = vec![
            expect_bytes(GREETING),
            bytes(&[5, 0]),
            expect_bytes(&connect_loopback(25)),
        ];
        script.extend(answer);
        script
    };
    let cases: Vec<(&str, Vec<Step>, &str)> = vec![
        (
            "a SOCKS4 answer",
            after_greeting(vec![bytes(&[4, 0]), Step::Close]),
            "the proxy answered the method selection with version 4, not 5 (a SOCKS4 proxy?)",
        ),
        (
            "an HTTP proxy",
            after_greeting(vec![
                bytes(b"HTTP/1.1 400 Bad Request\r\n\r\n"),
                Step::Close,
            ]),
            "the proxy answered the method selection with version 72, not 5 (an HTTP proxy?)",
        ),
        (
            "no acceptable method",
            after_greeting(vec![bytes(&[5, 0xff]), Step::Close]),
            "the proxy accepts none of the methods offered (no authentication); it probably wants a user name and password: --socks5-user",
        ),
        (
            "a method not offered: nothing more is sent",
            after_greeting(vec![bytes(&[5, 2]), Step::ReadToEnd]),
            "the proxy chose user name and password, which was not offered (offered: no authentication)",
        ),
        (
            "closed after the greeting",
            after_greeting(vec![Step::Close]),
            "the proxy closed the connection during the method selection",
        ),
        (
            "reset after the greeting",
            after_greeting(vec![Step::Reset]),
            "the proxy closed the connection during the method selection",
        ),
        (
            "closed before the reply to CONNECT",
            after_method(vec![Step::Close]),
            "the proxy closed the connection during the CONNECT request",
        ),
        (
            "a truncated reply",
            after_method(vec![bytes(&[5, 0, 0, 1, 127, 0]), Step::Close]),
            "the proxy closed the connection during the CONNECT request after 6 bytes of its answer",
        ),
        (
            "an unknown address type",
            after_method(vec![bytes(&[5, 0, 0, 7, 1, 2, 3, 4]), Step::Close]),
            "the proxy's reply to CONNECT has address type 7, which SOCKS5 does not define (1, 3 and 4 are)",
        ),
        (
            "a wrong version in the reply",
            after_method(vec![bytes(&[0, 0x5a, 0, 25, 127, 0, 0, 1]), Step::Close]),
            "the proxy answered the CONNECT request with version 0, not 5 (a SOCKS4 proxy?)",
        ),
        (
            "refused",
            after_method(vec![bytes(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]), Step::Close]),
            "the proxy could not connect to 127.0.0.1:25: connection refused by destination host (nothing listens on that port, as the proxy sees it) (SOCKS5 reply 5)",
        ),
    ];
    for (what, script, want) in cases {
        let proxy = FakeServer::start(script);
        let at = proxy_arg(&proxy);
        let started = Instant::now();
        let out = through(&proxy, &["127.0.0.1"]);
        let sent = proxy.finish();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{what}: {stdout}{stderr}");
        assert_eq!(
            stderr,
            format!("smtpcli: SOCKS5 proxy {at}: {want}\n"),
            "{what}"
        );
        assert!(!stdout.contains("connected to"), "{what}: {stdout}");
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        if what.starts_with("a method not offered") {
            assert_eq!(sent, GREETING, "{what}");
        }
    }
}

#[test]
fn a_silent_proxy_is_given_up_on_within_the_timeout() {
    let (wait, go) = hold();
    let proxy = FakeServer::start(vec![expect_bytes(GREETING), wait, Step::Close]);
    let started = Instant::now();
    let out = through(&proxy, &["--timeout", "1", "127.0.0.1"]);
    let took = started.elapsed();
    go.send(()).unwrap();
    proxy.finish();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the proxy did not finish the method selection within 1 s"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_long_bound_name_with_escapes_is_shown_escaped() {
    // The longest name a reply can carry, with a terminal escape in it.
    let mut name = b"\x1b]0;owned\x07".to_vec();
    name.resize(255, b'n');
    let mut reply = vec![5, 0, 0, 3, 255];
    reply.extend_from_slice(&name);
    reply.extend_from_slice(&[0, 25]);
    let mut script = vec![
        expect_bytes(GREETING),
        bytes(&[5, 0]),
        expect_bytes(&connect_loopback(25)),
        bytes(&reply),
    ];
    script.extend(smtp_behind());
    let proxy = FakeServer::start(script);
    let out = through(&proxy, &["127.0.0.1"]);
    proxy.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("# the server sees the proxy's \\e]0;owned\\x07nnnn"),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b') && !stdout.contains('\x07'));
}

#[test]
fn with_mx_each_mx_name_goes_to_the_proxy_in_order() {
    let dns_port = dns::start();
    let mut second = vec![
        expect_bytes(GREETING),
        bytes(&[5, 0]),
        expect_bytes(&connect_name("mx2.example.test", 2525)),
        bytes(CONNECTED),
    ];
    second.extend(smtp_behind());
    let proxy = FakeServer::start_each(vec![
        vec![
            expect_bytes(GREETING),
            bytes(&[5, 0]),
            expect_bytes(&connect_name("mx1.example.test", 2525)),
            bytes(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]),
            Step::Close,
        ],
        second,
    ]);
    let at = proxy_arg(&proxy);
    let out = through(
        &proxy,
        &[
            "--resolver",
            &format!("127.0.0.1:{dns_port}"),
            "--mx",
            "example.test",
            "2525",
        ],
    );
    proxy.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for want in [
        "# MX hosts of example.test, by preference:".to_string(),
        format!("# trying mx1.example.test port 2525 via SOCKS5 {at}"),
        "# warning: mx1.example.test via SOCKS5: host unreachable (from the proxy; also what many proxies say when they cannot resolve the name) (SOCKS5 reply 4)".to_string(),
        format!("# connected to mx2.example.test port 2525 via SOCKS5 {at} from "),
    ] {
        assert!(stdout.contains(&want), "{want:?} missing:\n{stdout}");
    }
}

#[test]
fn proxy_mistakes_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let empty = empty.to_str().unwrap();
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--socks5", "127.0.0.1:1", "--socks5-user", "u"],
            "smtpcli: --socks5-user needs a password: --socks5-password-file FILE or SMTPCLI_SOCKS5_PASSWORD",
        ),
        (
            &["--socks5", "127.0.0.1:1", "--socks5-password-file", empty],
            "smtpcli: --socks5-password-file needs --socks5-user",
        ),
        (
            &["--socks5-user", "u"],
            "smtpcli: --socks5-user and --socks5-password-file need --socks5 HOST:PORT",
        ),
        (
            &["--socks5", "[::1"],
            "smtpcli: --socks5: '[::1' is not a host",
        ),
        (
            &[
                "--socks5",
                "127.0.0.1:1",
                "--socks5-user",
                "u",
                "--socks5-password-file",
                empty,
            ],
            "smtpcli: the SOCKS5 password has 0 bytes; RFC 1929 allows 1 to 255",
        ),
        (
            &[
                "--socks5",
                "127.0.0.1:1",
                "--socks5-user",
                "u",
                "--socks5-password-file",
                missing,
            ],
            "smtpcli: cannot read the SOCKS5 password file",
        ),
    ];
    for (args, want) in cases {
        let out = smtpcli()
            .args(*args)
            .env_remove("SMTPCLI_SOCKS5_PASSWORD")
            .write_stdin("")
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with(want), "{args:?}: {stderr}");
    }
}

#[test]
fn a_proxy_that_is_not_there_is_named() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let out = smtpcli()
        .args(["--socks5", &format!("127.0.0.1:{port}"), "127.0.0.1"])
        .write_stdin("")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "smtpcli: cannot connect to the SOCKS5 proxy 127.0.0.1:{port}: connection refused (nothing listens on that port)\n"
        )
    );
}

// ---------------------------------------------------------------- Dante

/// A whole dialog through `proxy` to Postfix with `--starttls` and the test
/// CA: returns the output and the token of the message.
fn deliver_through(
    proxy: &str,
    host: &str,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> (Output, String) {
    let (_, port) = need_server("SMTPCLI_IT_SMTP");
    let ca = need("SMTPCLI_IT_CA");
    let token = token("socks5");
    let input = format!(
        "mail from:<a@example.org>\nrcpt to:<empfaenger@example.org>\ndata\nSubject: {token}\n\n\
         through a SOCKS5 proxy\n.\nquit\n"
    );
    let mut cmd = smtpcli();
    cmd.args([
        "--color",
        "never",
        "--socks5",
        proxy,
        "--starttls",
        "--verify",
    ])
    .args(["--ca-file", &ca])
    .args(extra)
    .args([host, &port])
    .env_remove("SMTPCLI_SOCKS5_PASSWORD")
    .write_stdin(input);
    for (key, value) in envs {
        cmd.env(key, value);
    }
    (cmd.output().unwrap(), token)
}

/// Asserts what every delivery through Dante shows: the proxy in the
/// transcript, trusted TLS, the message delivered, and Dante's log line of
/// this very connection (this end's port on the proxy's side, the port the
/// proxy connected from on Postfix's).
fn assert_delivered(out: &Output, token: &str, proxy: &str, host: &str) {
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let (_, port) = need_server("SMTPCLI_IT_SMTP");
    for want in [
        format!("# connected to {host} port {port} via SOCKS5 {proxy}"),
        "# certificate: trusted".to_string(),
        "<< 220 2.0.0 Ready to start TLS".to_string(),
        "<~ 250 2.0.0 Ok: queued as ".to_string(),
        "<~ 221 2.0.0 Bye".to_string(),
    ] {
        assert!(stdout.contains(&want), "{want:?} missing:\n{stdout}");
    }
    let maildir = need("SMTPCLI_IT_MAILDIR");
    wait_for_mail(&maildir, token, Duration::from_secs(15)).expect("the message is in the Maildir");

    let number_after = |marker: &str| -> String {
        stdout
            .split(marker)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{marker:?} missing:\n{stdout}"))
            .to_string()
    };
    let local_port = number_after(" from 127.0.0.1 port ");
    let bound_port = number_after("# the server sees the proxy's 127.0.0.1 port ");
    let (proxy_ip, proxy_port) = proxy.rsplit_once(':').unwrap();
    let client_side = format!("127.0.0.1.{local_port} {proxy_ip}.{proxy_port} -> ");
    let server_side = format!("-> 127.0.0.1.{bound_port} 127.0.0.1.{port}");
    let log = need("SMTPCLI_IT_SOCKS5_LOG");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        if logged.lines().any(|l| {
            l.contains("tcp/connect [") && l.contains(&client_side) && l.contains(&server_side)
        }) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no Dante log line with {client_side:?} and {server_side:?} in {log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "needs Dante: scripts/test-servers start"]
fn dante_carries_a_starttls_dialog_to_postfix() {
    let proxy = need("SMTPCLI_IT_SOCKS5");
    let (out, token) = deliver_through(&proxy, "127.0.0.1", &[], &[]);
    assert_delivered(&out, &token, &proxy, "127.0.0.1");
}

#[test]
#[ignore = "needs Dante: scripts/test-servers start"]
fn dante_resolves_the_server_name() {
    let proxy = need("SMTPCLI_IT_SOCKS5");
    let (out, token) = deliver_through(&proxy, "localhost", &[], &[]);
    assert_delivered(&out, &token, &proxy, "localhost");
    // The certificate was checked against the name, not an address.
    let stdout = text(&out.stdout);
    assert!(stdout.contains("SNI sent: localhost"), "{stdout}");
}

#[test]
#[ignore = "needs Dante: scripts/test-servers start"]
fn dante_with_a_login_carries_the_dialog_and_keeps_the_password_off_screen() {
    let proxy = need("SMTPCLI_IT_SOCKS5_AUTH");
    let user = need("SMTPCLI_IT_SOCKS5_USER");
    let password = need("SMTPCLI_IT_SOCKS5_PASSWORD");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, format!("{password}\n")).unwrap();
    let file = file.to_str().unwrap();
    let args = ["--socks5-user", &user, "--socks5-password-file", file];
    let (out, token) = deliver_through(&proxy, "127.0.0.1", &args, &[]);
    assert_delivered(&out, &token, &proxy, "127.0.0.1");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("via SOCKS5 {proxy} as {user} from ")),
        "{stdout}"
    );
    assert!(!stdout.contains(&password) && !text(&out.stderr).contains(&password));
}

#[test]
#[ignore = "needs Dante: scripts/test-servers start"]
fn dante_refuses_a_wrong_password_clearly() {
    let proxy = need("SMTPCLI_IT_SOCKS5_AUTH");
    let user = need("SMTPCLI_IT_SOCKS5_USER");
    let wrong = "not-the-socks-password";
    let (out, _) = deliver_through(
        &proxy,
        "127.0.0.1",
        &["--socks5-user", &user],
        &[("SMTPCLI_SOCKS5_PASSWORD", wrong)],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert_eq!(
        stderr,
        format!(
            "smtpcli: SOCKS5 proxy {proxy}: the proxy refused the user name and password of {user} (RFC 1929 status 1)\n"
        )
    );
    assert!(!stdout.contains(wrong) && !stderr.contains(wrong));
    assert!(
        !stdout.contains(">>"),
        "nothing was sent to a server: {stdout}"
    );
}

#[test]
#[ignore = "needs Dante: scripts/test-servers start"]
fn dante_explains_an_unreachable_destination() {
    let proxy = need("SMTPCLI_IT_SOCKS5");
    let cases = [
        // Nothing listens on port 1.
        (
            "1",
            "127.0.0.1",
            "the proxy could not connect to 127.0.0.1:1: connection refused by destination host (nothing listens on that port, as the proxy sees it) (SOCKS5 reply 5)",
        ),
        // Outside loopback, Dante's rules refuse before anything leaves.
        (
            "25",
            "192.0.2.1",
            "the proxy could not connect to 192.0.2.1:25: connection not allowed by ruleset (the proxy's rules refuse this client or this destination) (SOCKS5 reply 2)",
        ),
    ];
    for (port, host, want) in cases {
        let out = smtpcli()
            .args(["--socks5", &proxy, host, port])
            .write_stdin("")
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr, format!("smtpcli: SOCKS5 proxy {proxy}: {want}\n"));
    }
}

#[test]
#[ignore = "needs Dante: scripts/test-servers start"]
fn dante_carries_implicit_tls() {
    let proxy = need("SMTPCLI_IT_SOCKS5");
    let (host, port) = need_server("SMTPCLI_IT_SMTPS");
    let ca = need("SMTPCLI_IT_CA");
    let out = smtpcli()
        .args(["--color", "never", "--socks5", &proxy, "--tls", "--verify"])
        .args(["--ca-file", &ca, &host, &port])
        .write_stdin("EHLO pc0815.example.com\n")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for want in [
        format!("# connected to {host} port {port} via SOCKS5 {proxy}"),
        "# certificate: trusted".to_string(),
        "<~ 220 mailserver.example.com ESMTP".to_string(),
        "<~ 221 2.0.0 Bye".to_string(),
    ] {
        assert!(stdout.contains(&want), "{want:?} missing:\n{stdout}");
    }
}
