//! LMTP (RFC 2033): one reply per accepted recipient after the message, and
//! UNIX domain sockets.

use crate::support::fake_server::{FakeServer, Step, expect, send};
#[cfg(unix)]
use crate::support::need;
use crate::support::{need_server, smtpcli, text};

const DIALOG: &str = "LHLO pc0815.example.com\nMAIL FROM:<a@example.org>\n\
RCPT TO:<b@example.org>\nRCPT TO:<nosuchuser@example.org>\nRCPT TO:<full@example.org>\n\
DATA\nSubject: lmtp\n\nhello\n.\n";

#[test]
fn final_replies_are_matched_to_recipients_by_order() {
    // The reply texts name no recipient: only their order can match them.
    let server = FakeServer::start(vec![
        send("220 lmtp.example.org LMTP"),
        expect("LHLO pc0815.example.com"),
        send("250 lmtp.example.org"),
        expect("MAIL FROM:<a@example.org>"),
        send("250 2.1.0 Ok"),
        expect("RCPT TO:<b@example.org>"),
        send("250 2.1.5 Ok"),
        expect("RCPT TO:<nosuchuser@example.org>"),
        send("550 5.1.1 unknown"),
        expect("RCPT TO:<full@example.org>"),
        send("250 2.1.5 Ok"),
        expect("DATA"),
        send("354 go ahead"),
        expect("Subject: lmtp"),
        expect(""),
        expect("hello"),
        expect("."),
        send("250 2.0.0 Ok"),
        send("552 5.2.2 Mailbox full"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let script =
        format!("{DIALOG}:expect 250 for b@example.org\n:expect 552 5.2.2 for full@example.org\n");
    let out = smtpcli()
        .args(["--lmtp", "--color", "never", "127.0.0.1", &server.port()])
        .write_stdin(script)
        .output()
        .unwrap();
    server.finish();
    let stdout = text(&out.stdout);
    let row = |who: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("# {who} ")))
            .unwrap_or_else(|| panic!("no row for {who}:\n{stdout}"))
            .to_string()
    };
    assert!(
        row("b@example.org").contains("250 2.0.0 accepted"),
        "{stdout}"
    );
    assert!(
        row("full@example.org").contains("552 5.2.2 refused: Mailbox full"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# expect 250 for b@example.org: ok"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# expect 552 5.2.2 for full@example.org: ok"),
        "{stdout}"
    );
    // The unexpected 550 at RCPT still counts.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
}

#[test]
fn an_expected_per_recipient_refusal_is_success() {
    let server = FakeServer::start(vec![
        send("220 lmtp"),
        expect("MAIL FROM:<a@example.org>"),
        send("250 Ok"),
        expect("RCPT TO:<b@example.org>"),
        send("250 Ok"),
        expect("RCPT TO:<c@example.org>"),
        send("250 Ok"),
        expect("DATA"),
        send("354 go"),
        expect("x"),
        expect("."),
        send("552 5.2.2 full"),
        send("250 2.0.0 Ok"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = smtpcli()
        .args(["--lmtp", "--color", "never", "127.0.0.1", &server.port()])
        .write_stdin(
            "MAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nRCPT TO:<c@example.org>\nDATA\nx\n.\n\
             :expect 552 for b@example.org\n:expect 250 for c@example.org\n",
        )
        .output()
        .unwrap();
    server.finish();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

fn check_real_lmtp(args: &[&str]) {
    let out = smtpcli()
        .args(["--lmtp", "--color", "never"])
        .args(args)
        .write_stdin(DIALOG)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the 552 (and the 550) count:\n{stdout}"
    );
    let b = stdout
        .lines()
        .find(|l| l.starts_with("# b@example.org "))
        .expect("b's row");
    let full = stdout
        .lines()
        .find(|l| l.starts_with("# full@example.org "))
        .expect("full's row");
    assert!(b.contains("250 2.0.0 accepted"), "{b}");
    assert!(full.contains("552 5.2.2 refused: Mailbox full"), "{full}");
    assert!(
        !stdout.contains("# nosuchuser@example.org "),
        "refused at RCPT: no final reply"
    );
}

#[test]
#[ignore = "needs the LMTP server: scripts/test-servers start"]
fn aiosmtpd_lmtp_over_tcp() {
    let (host, port) = need_server("SMTPCLI_IT_LMTP");
    check_real_lmtp(&[&host, &port]);
}

#[cfg(unix)]
#[test]
#[ignore = "needs the LMTP server: scripts/test-servers start"]
fn aiosmtpd_lmtp_over_a_unix_socket() {
    let socket = need("SMTPCLI_IT_LMTP_SOCKET");
    check_real_lmtp(&["--unix", &socket]);
}

#[cfg(unix)]
#[test]
fn a_missing_socket_is_one_line_and_exit_2() {
    let out = smtpcli()
        .args(["--unix", "/nonexistent/lmtp.sock"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.trim(),
        "smtpcli: cannot connect to /nonexistent/lmtp.sock: no such socket (is the server running?)"
    );
}
