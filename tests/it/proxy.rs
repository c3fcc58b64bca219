//! Who the server thinks the client is: PROXY protocol headers (v1, v2 with
//! TLVs, raw), XCLIENT and XFORWARD, against Postfix configured for each
//! (`scripts/test-servers`: a PROXY port, a port that trusts loopback with
//! XCLIENT and XFORWARD) and against a listener that records the bytes.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{need, need_server, smtpcli, text, token, wait_for_mail};

fn golden() -> Vec<(String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/fixtures/proxy/v2.golden"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(name, hex)| (name.to_string(), hex.to_string()))
        .collect()
}

/// Runs smtpcli with `args` against a listener that takes whatever comes
/// first, answers with a refusal and hangs up; returns the bytes it got
/// and smtpcli's output.
fn first_bytes(args: &[&str]) -> (Vec<u8>, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        // The header comes in one write; the read timeout only ends the
        // wait for more once it is in.
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let _ = stream.write_all(b"554 5.3.2 enough\r\n");
        got
    });
    let out = smtpcli()
        .args(["--color", "never"])
        .args(args)
        .args(["127.0.0.1", &port])
        .write_stdin("")
        .output()
        .unwrap();
    (server.join().unwrap(), text(&out.stdout))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn v2_headers_are_the_bytes_the_specification_lays_out() {
    let cases: [(&str, &[&str]); 3] = [
        (
            "tcp4-authority-alpn",
            &[
                "--proxy=v2",
                "--proxy-source=192.0.2.7:51234",
                "--proxy-dest=198.51.100.25:25",
                "--proxy-tlv=authority=mx.example.org",
                "--proxy-tlv=alpn=smtp",
            ],
        ),
        (
            "tcp6-unique-id-ssl",
            &[
                "--proxy=v2",
                "--proxy-source=[2001:db8::7]:40000",
                "--proxy-dest=[2001:db8::25]:587",
                "--proxy-tlv=unique-id=abc-123",
                "--proxy-tlv=ssl=TLSv1.3",
            ],
        ),
        ("local", &["--proxy=v2-local"]),
    ];
    let golden = golden();
    for (name, args) in cases {
        let want = &golden.iter().find(|(n, _)| n == name).unwrap().1;
        let (got, stdout) = first_bytes(args);
        assert_eq!(&hex(&got), want, "{name}:\n{stdout}");
        assert!(
            stdout.contains(&format!("header sent ({} bytes): {want}", want.len() / 2)),
            "{name}: the transcript shows the header:\n{stdout}"
        );
    }
}

#[test]
fn a_v1_header_goes_first_and_shows_as_its_line() {
    let (got, stdout) = first_bytes(&["--proxy", "v1", "--proxy-source", "192.0.2.7:1234"]);
    let line = String::from_utf8_lossy(&got).into_owned();
    assert!(
        line.starts_with("PROXY TCP4 192.0.2.7 127.0.0.1 1234 "),
        "{line:?}"
    );
    assert!(line.ends_with("\r\n"), "{line:?}");
    assert!(
        stdout.contains(&format!("# PROXY v1 header sent: {}", line.trim_end())),
        "{stdout}"
    );
    let (got, _) = first_bytes(&["--proxy", "v1", "--proxy-source", "unknown"]);
    assert_eq!(got, b"PROXY UNKNOWN\r\n");
}

#[test]
fn proxy_mistakes_are_usage_errors() {
    for (args, message) in [
        (&["--proxy", "v3"][..], "--proxy takes v1, v2 or v2-local"),
        (
            &["--proxy", "v1", "--proxy-tlv", "alpn=smtp"][..],
            "version 1 has no TLVs",
        ),
        (
            &["--proxy", "v2", "--proxy-tlv", "colour=red"][..],
            "--proxy-tlv \"colour=red\"",
        ),
        (&["--proxy-source", "192.0.2.1:5"][..], "need --proxy"),
        (
            &["--proxy", "v2", "--proxy-source", "192.0.2.1"][..],
            "is not IP:PORT",
        ),
        (&["--proxy-raw", "0g"][..], "give hex digits"),
    ] {
        let out = smtpcli()
            .args(args)
            .args(["127.0.0.1", "9"])
            .write_stdin("")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(message),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
#[ignore = "needs python3 (scripts/test-servers installs it)"]
fn the_golden_file_is_what_the_specification_script_prints() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/fixtures/proxy/v2.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .output()
        .expect("python3");
    assert_eq!(out.status.code(), Some(0));
    let printed: Vec<(String, String)> = text(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, h)| (n.to_string(), h.to_string()))
        .collect();
    assert_eq!(printed, golden());
}

/// Sends a message through Postfix's PROXY port with `args`; returns the
/// transcript and the delivered message.
fn postfix_proxied(args: &[&str]) -> (String, String) {
    let (host, port) = need_server("SMTPCLI_IT_PROXY");
    let maildir = need("SMTPCLI_IT_MAILDIR");
    let token = token("proxy");
    let out = smtpcli()
        .args(["--color", "never"])
        .args(args)
        .args(["--script", "-", &host, &port])
        .write_stdin(format!(
            "EHLO pc0815.example.com\nMAIL FROM:<a@example.org>\nRCPT TO:<empfaenger@example.org>\n\
             DATA\nSubject: {token}\n\nproxied\n.\n:expect 250\n"
        ))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let mail = wait_for_mail(&maildir, &token, Duration::from_secs(15)).expect("delivered");
    (stdout, text(&mail))
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_behind_a_proxy_sees_the_claimed_client_v1_and_v2() {
    let (_, mail) = postfix_proxied(&["--proxy", "v1", "--proxy-source", "192.0.2.31:4000"]);
    assert!(mail.contains("(unknown [192.0.2.31])"), "{mail}");
    let (_, mail) = postfix_proxied(&[
        "--proxy",
        "v2",
        "--proxy-source",
        "192.0.2.32:4000",
        "--proxy-tlv",
        "authority=mx.example.org",
        "--proxy-tlv",
        "unique-id=smtpcli-test",
    ]);
    assert!(mail.contains("(unknown [192.0.2.32])"), "{mail}");
    // Postfix logs the claimed client too.
    let logged = std::fs::read_to_string(need("SMTPCLI_IT_POSTFIX_LOG")).unwrap_or_default();
    for client in ["192.0.2.31", "192.0.2.32"] {
        assert!(
            logged.contains(&format!("connect from unknown[{client}]")),
            "{client} not in the Postfix log"
        );
    }
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_behind_a_proxy_with_starttls() {
    let ca = need("SMTPCLI_IT_CA");
    let (stdout, mail) = postfix_proxied(&[
        "--proxy",
        "v2",
        "--proxy-source",
        "192.0.2.33:4000",
        "--starttls",
        "--ca-file",
        &ca,
    ]);
    assert!(stdout.contains("# certificate: trusted"), "{stdout}");
    assert!(stdout.contains("~> MAIL FROM:<a@example.org>"), "{stdout}");
    assert!(mail.contains("(unknown [192.0.2.33])"), "{mail}");
    assert!(mail.contains("with ESMTPS"), "{mail}");
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_refuses_a_malformed_proxy_header() {
    let (host, port) = need_server("SMTPCLI_IT_PROXY");
    let out = smtpcli()
        .args([
            "--color",
            "never",
            "--proxy-raw",
            "50524f585920424f4755530d0a",
        ])
        .args([&host, &port])
        .write_stdin("EHLO pc0815.example.com\n")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("# raw PROXY bytes sent (13 bytes): 50524f585920424f4755530d0a"),
        "{stdout}"
    );
    assert!(stdout.contains("<< 421 4.3.0"), "{stdout}");
    assert_eq!(out.status.code(), Some(75), "{stdout}");
}

/// A message through the XCLIENT port with `script` before MAIL.
fn postfix_xclient(script: &str) -> (String, Option<i32>, String, String) {
    let (host, port) = need_server("SMTPCLI_IT_XCLIENT");
    let maildir = need("SMTPCLI_IT_MAILDIR");
    let token = token("xclient");
    let out = smtpcli()
        .args(["--color", "never", "--ehlo", "pc0815.example.com"])
        .args(["--script", "-", &host, &port])
        .write_stdin(format!(
            "{script}\nMAIL FROM:<a@example.org>\nRCPT TO:<empfaenger@example.org>\n\
             DATA\nSubject: {token}\n\nxclient\n.\n:expect 250\n"
        ))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let mail = wait_for_mail(&maildir, &token, Duration::from_secs(15))
        .map(|m| text(&m))
        .unwrap_or_default();
    (stdout, out.status.code(), mail, token)
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_xclient_changes_the_client_in_received_and_ehlo_is_redone() {
    let (stdout, code, mail, _) =
        postfix_xclient(":xclient NAME=client.example.net ADDR=192.0.2.41 HELO=client.example.net");
    assert_eq!(code, Some(0), "{stdout}");
    let xclient = stdout
        .find(">> XCLIENT NAME=client.example.net ADDR=192.0.2.41 HELO=client.example.net")
        .expect("XCLIENT sent");
    let again = stdout[xclient..]
        .find(">> EHLO client.example.net")
        .expect("EHLO again");
    assert!(
        stdout[xclient..xclient + again].contains("<< 220 "),
        "{stdout}"
    );
    assert!(
        mail.contains("Received: from client.example.net (client.example.net [192.0.2.41])"),
        "{mail}"
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_xforward_is_logged_with_the_forwarded_client() {
    let log = need("SMTPCLI_IT_POSTFIX_LOG");
    let (stdout, code, mail, _) =
        postfix_xclient(":xforward NAME=forwarded.example.net ADDR=192.0.2.42 PROTO=ESMTP");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains(">> XFORWARD NAME=forwarded.example.net ADDR=192.0.2.42 PROTO=ESMTP"));
    assert!(!mail.is_empty(), "{stdout}");
    let queue_id = stdout
        .split("queued as ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("a queue id")
        .to_string();
    let logged = std::fs::read_to_string(log).unwrap_or_default();
    assert!(
        logged.contains(&format!(
            "{queue_id}: client=localhost[127.0.0.1], orig_client=forwarded.example.net[192.0.2.42]"
        )),
        "no client= line for {queue_id}"
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_without_authorization_does_not_offer_xclient_and_refuses_it() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let run = |line: &str| {
        smtpcli()
            .args(["--color", "never", "--script", "-", &host, &port])
            .write_stdin(format!("EHLO pc0815.example.com\n{line}\n"))
            .output()
            .unwrap()
    };
    // Not advertised: a mistake, nothing sent.
    let out = run(":xclient ADDR=192.0.2.43");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the server does not offer XCLIENT"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains(">> XCLIENT"));
    // Sent anyway: refused, and the refusal explained.
    let out = run(":xclient --lax ADDR=192.0.2.43");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("<< 550 5.7.0 Error: insufficient authorization"),
        "{stdout}"
    );
    assert!(
        stdout.contains("smtpd_authorized_xclient_hosts"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}");
}

/// smtpcli reading a script from stdin, greeting as client.example.org.
fn script_to(server: &FakeServer) -> assert_cmd::Command {
    let mut cmd = smtpcli();
    cmd.args(["--color", "never", "--ehlo", "client.example.org"])
        .args(["--script", "-", "127.0.0.1", &server.port()]);
    cmd
}

#[test]
fn long_xclient_attributes_are_split_into_lines_of_512_bytes() {
    let login = "l".repeat(300);
    let name = "n".repeat(300);
    let server = FakeServer::start(vec![
        send("220 fake ESMTP"),
        expect("EHLO client.example.org"),
        send("250-fake"),
        send("250 XCLIENT NAME ADDR LOGIN"),
        expect(&format!("XCLIENT NAME={name}")),
        send("220 fake ESMTP again"),
        expect(&format!("XCLIENT LOGIN={login} ADDR=192.0.2.44")),
        send("220 fake ESMTP again"),
        expect("EHLO client.example.org"),
        send("250 fake"),
        expect("QUIT"),
        send("221 bye"),
        Step::Close,
    ]);
    let out = script_to(&server)
        .write_stdin(format!(
            ":xclient NAME={name} LOGIN={login} ADDR=192.0.2.44\n"
        ))
        .output()
        .unwrap();
    server.finish();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn xclient_values_are_xtext_encoded() {
    let server = FakeServer::start(vec![
        send("220 fake ESMTP"),
        expect("EHLO client.example.org"),
        send("250-fake"),
        send("250 XCLIENT NAME ADDR HELO"),
        expect("XCLIENT NAME=a+20b HELO=x+2By+3Dz"),
        send("220 again"),
        expect("EHLO x+y=z"),
        send("250 fake"),
        expect("QUIT"),
        send("221 bye"),
        Step::Close,
    ]);
    let out = script_to(&server)
        .write_stdin(":xclient 'NAME=a b' HELO=x+y=z\n")
        .output()
        .unwrap();
    server.finish();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_xclient_from_the_command_line_after_or_before_starttls() {
    let (host, port) = need_server("SMTPCLI_IT_XCLIENT");
    let ca = need("SMTPCLI_IT_CA");
    // By default XCLIENT goes inside TLS; --xclient-before-starttls sends
    // it in plaintext, before STARTTLS.
    for (before, first, second) in [
        (
            false,
            ">> STARTTLS",
            "~> XCLIENT NAME=client.example.net ADDR=192.0.2.45",
        ),
        (
            true,
            ">> XCLIENT NAME=client.example.net ADDR=192.0.2.45",
            ">> STARTTLS",
        ),
    ] {
        let mut args = vec![
            "--color",
            "never",
            "--starttls",
            "--ca-file",
            &ca,
            "--ehlo",
            "pc0815.example.com",
            "--xclient",
            "NAME=client.example.net ADDR=192.0.2.45",
        ];
        if before {
            args.push("--xclient-before-starttls");
        }
        let out = smtpcli()
            .args(&args)
            .args(["--script", "-", &host, &port])
            .write_stdin("NOOP\n")
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        let at = |what: &str| {
            stdout
                .find(what)
                .unwrap_or_else(|| panic!("{what} missing:\n{stdout}"))
        };
        assert!(at(first) < at(second), "{stdout}");
    }
}

#[test]
#[ignore = "needs Postfix and Dante: scripts/test-servers start"]
fn through_socks5_the_header_names_the_server_not_the_proxy() {
    let socks = need("SMTPCLI_IT_SOCKS5");
    let (host, port) = need_server("SMTPCLI_IT_PROXY");
    let (stdout, mail) = postfix_proxied(&[
        "--socks5",
        &socks,
        "--proxy",
        "v1",
        "--proxy-source",
        "192.0.2.34:4000",
    ]);
    assert!(
        stdout.contains(&format!(
            "# PROXY v1 header sent: PROXY TCP4 192.0.2.34 {host} 4000 {port}"
        )),
        "{stdout}"
    );
    assert!(mail.contains("(unknown [192.0.2.34])"), "{mail}");
}
