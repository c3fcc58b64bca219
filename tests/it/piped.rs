//! Piped mode against the fake server: pacing, refused DATA, timeouts,
//! hostile text, banner rejections, exit codes.

use std::io::Write;
use std::process::{Command as StdCommand, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{peak_rss_kib, smtpcli, text};

const REFERENCE_INPUT: &str = "helo pc0815.example.com\nmail from:absender@example.org\n\
rcpt to:empfaenger@example.org\ndata\nDies ist eine Testmail.\n.\nquit\n";

/// A window in which the client must stay silent because it has not had its
/// reply yet. Passing cannot be luck: a client that talks out of turn is
/// caught the moment its bytes arrive.
const TURN: Duration = Duration::from_millis(150);

/// Pipes `input` into smtpcli pointed at `server`, `options` before the
/// address, then lets the server finish its script. Returns what the
/// client did and the bytes the server received.
fn pipe(server: FakeServer, options: &[&str], input: &str) -> (Output, Vec<u8>) {
    let port = server.port();
    let out = smtpcli()
        .args(options)
        .args(["127.0.0.1", &port])
        .write_stdin(input)
        .output()
        .unwrap();
    (out, server.finish())
}

#[test]
fn reference_dialog_pasted_at_once_goes_out_one_command_per_reply() {
    let server = FakeServer::start(vec![
        // Nothing may be sent before the whole banner.
        Step::Silence(Duration::from_millis(300)),
        send("220-mailserver.example.com ESMTP Postfix (Debian/GNU)"),
        Step::Silence(TURN),
        send("220 mailserver.example.com"),
        expect("helo pc0815.example.com"),
        Step::Silence(TURN),
        send("250 mailserver.example.com"),
        expect("mail from:absender@example.org"),
        Step::Silence(TURN),
        send("250 2.1.0 Ok"),
        expect("rcpt to:empfaenger@example.org"),
        Step::Silence(TURN),
        send("250 2.1.5 Ok"),
        expect("data"),
        Step::Silence(TURN),
        send("354 End data with <CR><LF>.<CR><LF>"),
        expect("Dies ist eine Testmail."),
        expect("."),
        Step::Silence(TURN),
        send("250 2.0.0 Ok: queued as 708D72C80BE"),
        expect("quit"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (out, _) = pipe(server, &[], REFERENCE_INPUT);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for line in [
        "<< 220-mailserver.example.com ESMTP Postfix (Debian/GNU)",
        ">> helo pc0815.example.com",
        "<< 250 2.1.0 Ok",
        ">> Dies ist eine Testmail.",
        ">> .",
        "<< 250 2.0.0 Ok: queued as 708D72C80BE",
        "<< 221 2.0.0 Bye",
        "# Connection closed by foreign host.",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "{line:?} missing:\n{stdout}"
        );
    }
}

#[test]
fn message_lines_behind_a_refused_data_are_dropped_not_sent() {
    let server = FakeServer::start(vec![
        send("220 fake ESMTP"),
        expect("EHLO client.example.org"),
        send("250 fake"),
        expect("MAIL FROM:<a@example.org>"),
        send("250 2.1.0 Ok"),
        expect("RCPT TO:<nosuchuser@example.org>"),
        send("550 5.1.1 <nosuchuser@example.org>: Recipient address rejected"),
        expect("DATA"),
        send("554 5.5.1 Error: no valid recipients"),
        // The next thing on the wire must be QUIT: not "Subject: x", not "RSET".
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (out, _) = pipe(
        server,
        &[],
        "EHLO client.example.org\nMAIL FROM:<a@example.org>\nRCPT TO:<nosuchuser@example.org>\n\
         DATA\nSubject: x\n\nRSET\n.\nQUIT\n",
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("# warning: DATA was refused: 3 message lines dropped, not sent"),
        "{stdout}"
    );
    assert!(
        stdout.contains("5.1.1 Bad destination mailbox address"),
        "{stdout}"
    );
}

#[test]
fn a_closed_port_is_one_line_and_exit_2() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let out = smtpcli()
        .args(["127.0.0.1", &port.to_string()])
        .timeout(Duration::from_secs(5))
        .write_stdin("QUIT\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
}

#[test]
fn a_dripping_server_hits_the_whole_reply_timeout() {
    // One byte every 300 ms: a per-byte timeout of 1 s would never fire and
    // the reply would complete after ~10 s; the whole-reply timeout fires.
    let server = FakeServer::start(vec![
        send("220 slow"),
        expect("EHLO x"),
        Step::Drip(
            b"250 this reply takes a long time\r\n".to_vec(),
            Duration::from_millis(300),
        ),
        Step::Close,
    ]);
    let (out, _) = pipe(server, &["--timeout", "1"], "EHLO x\n");
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no reply from the server within 1 s (waiting for the reply to EHLO)"),
        "{stderr}"
    );
}

#[test]
fn ten_mib_without_a_newline_stays_within_64_mib() {
    let pid = Arc::new(AtomicU32::new(0));
    let peak = Arc::new(AtomicU64::new(0));
    let mut huge = b"250 ".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    huge.extend_from_slice(b"\r\n");
    let (pid_in_server, peak_in_server) = (pid.clone(), peak.clone());
    let server = FakeServer::start(vec![
        send("220 big"),
        expect("EHLO x"),
        Step::Send(huge),
        // QUIT proves the client read the whole reply; measure it now.
        expect("QUIT"),
        Step::Call(Box::new(move || {
            let kib = peak_rss_kib(pid_in_server.load(Ordering::SeqCst)).unwrap_or(u64::MAX);
            peak_in_server.store(kib, Ordering::SeqCst);
        })),
        send("221 bye"),
        Step::Close,
    ]);
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_smtpcli"))
        .args(["--color", "never", "127.0.0.1", &server.port()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    pid.store(child.id(), Ordering::SeqCst);
    child.stdin.take().unwrap().write_all(b"EHLO x\n").unwrap();
    let out = child.wait_with_output().unwrap();
    server.finish();
    let stdout = text(&out.stdout);
    assert!(stdout.contains("was cut:"), "the cut is flagged");
    let kib = peak.load(Ordering::SeqCst);
    assert!(kib < 64 * 1024, "peak RSS {kib} KiB");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn escape_sequences_from_the_server_come_out_escaped() {
    let server = FakeServer::start(vec![
        Step::Send(b"220 \x1b]0;pwned\x07 ESMTP\r\n".to_vec()),
        expect("EHLO x"),
        Step::Send(b"250-\x1b[2J\x1b]52;c;ZXZpbA==\x07\r\n250 \xc2\x9b31m \xff\r\n".to_vec()),
        expect("QUIT"),
        send("221 bye"),
        Step::Close,
    ]);
    let (out, _) = pipe(server, &["--color", "never"], "EHLO x\n");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("<< 220 \\e]0;pwned\\x07 ESMTP"), "{stdout}");
    assert!(
        stdout.contains("<< 250-\\e[2J\\e]52;c;ZXZpbA==\\x07"),
        "{stdout}"
    );
    assert!(stdout.contains("<< 250 \\u{9b}31m \\xff"), "{stdout}");
    let bad: Vec<char> = stdout
        .chars()
        .filter(|&c| c != '\n' && (c.is_control()))
        .collect();
    assert!(bad.is_empty(), "control characters in the output: {bad:?}");
}

#[test]
fn a_554_banner_is_explained_and_exits_1() {
    let server = FakeServer::start(vec![
        send("554 5.7.1 mailserver.example.com: your address is blocklisted"),
        Step::Close,
    ]);
    let (out, _) = pipe(server, &[], "EHLO x\n");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("rejected this connection before any command"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# Connection closed by foreign host."),
        "{stdout}"
    );
}

#[test]
fn a_421_banner_is_temporary_exit_75() {
    let server = FakeServer::start(vec![
        send("421 4.3.2 Service shutting down, try later"),
        Step::Close,
    ]);
    let (out, _) = pipe(server, &[], "EHLO x\n");
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stdout));
}

#[test]
fn an_idle_421_is_shown_as_it_arrives() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("EHLO x"),
        send("250 fake"),
        send("421 4.4.2 fake Error: timeout exceeded"),
        Step::Close,
    ]);
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_smtpcli"))
        .args(["--color", "never", "127.0.0.1", &server.port()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Keep stdin open: the client is idle, waiting for input, when the 421 comes.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"EHLO x\n").unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    server.finish();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("<< 421 4.4.2 fake Error: timeout exceeded"),
        "{stdout}"
    );
    assert!(stdout.contains("sent by the server unasked"), "{stdout}");
    assert_eq!(out.status.code(), Some(75), "{stdout}");
}

#[test]
fn a_close_mid_reply_exits_2_and_shows_what_came() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("EHLO x"),
        send("250-fake"),
        Step::Close,
    ]);
    let (out, _) = pipe(server, &[], "EHLO x\n");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("<< 250-fake"), "{stdout}");
    assert!(text(&out.stderr).contains("closed the connection"));
}

#[test]
fn end_of_input_sends_quit() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("NOOP"),
        send("250 2.0.0 Ok"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let (out, _) = pipe(server, &[], "NOOP\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("# end of input: sending QUIT"));
}

#[test]
fn message_text_is_dot_stuffed_and_crlf_terminated() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("DATA"),
        send("354 go ahead"),
        expect("..leading dot"),
        expect("plain"),
        expect("."),
        send("250 2.0.0 Ok"),
        expect("QUIT"),
        send("221 bye"),
        Step::Close,
    ]);
    let (out, _) = pipe(server, &[], "DATA\n.leading dot\nplain\n.\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn input_ending_inside_a_message_sends_no_final_dot_and_exits_2() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("DATA"),
        send("354 go ahead"),
        expect("half a message"),
        Step::ReadToEnd,
    ]);
    let (out, received) = pipe(server, &[], "DATA\nhalf a message\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(!received.ends_with(b".\r\n"), "{}", text(&received));
    assert!(text(&out.stdout).contains("nothing is delivered"));
}

#[cfg(feature = "demo")]
#[test]
fn the_demo_tour_works_piped() {
    let out = smtpcli()
        .args(["--demo", "--color", "never"])
        .write_stdin(
            "EHLO demo.example.org\n:starttls\n:auth plain demo\n:expect 235\n\
             :send --to friend@example.org --to nosuchuser@example.org --subject Hello\n\
             :demo inbox\n:demo show 1\n",
        )
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    // The refused recipient makes it exit 1; everything else worked.
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    for want in [
        "# credentials: user demo, password demo-",
        "# certificate: trusted",
        "<< 220 demo.smtpcli.invalid ESMTP smtpcli demo",
        "<< 250-demo.smtpcli.invalid Hello demo.example.org [127.0.0.1]",
        "<< 250-PIPELINING",
        "<< 250 STARTTLS",
        "~> EHLO demo.example.org",
        "<~ 250 AUTH PLAIN LOGIN",
        "<~ 235 2.7.0 Authentication successful",
        "# expect 235: ok",
        "# nosuchuser@example.org  permanent  550  5.1.1     RCPT     Bad destination mailbox address",
        "# friend@example.org      accepted   250  2.0.0     message  Ok: queued as demo-1",
        "<~ 250 2.0.0 Ok: queued as demo-1",
        "# 1   demo@demo.smtpcli.invalid",
        "# Received: from demo.example.org (localhost [127.0.0.1])\n\
         #         by demo.smtpcli.invalid (smtpcli demo) with ESMTPSA id demo-1\n\
         #         for <friend@example.org>; ",
        "# Subject: Hello",
    ] {
        assert!(stdout.contains(want), "{want:?} missing:\n{stdout}");
    }
}

/// A lint is said once a session (the angle-bracket note on MAIL is not
/// repeated on each RCPT), and plain success gets no explanation lines.
#[test]
fn a_lint_is_said_once_and_success_needs_no_words() {
    let server = FakeServer::start(vec![
        send("220 fake.example.org ESMTP"),
        expect("HELO client.example.org"),
        send("250 fake.example.org"),
        expect("mail from:a@example.org"),
        send("250 2.1.0 Ok"),
        expect("rcpt to:b@example.org"),
        send("250 2.1.5 Ok"),
        expect("rcpt to:c@example.org"),
        send("250 2.1.5 Ok"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let out = smtpcli()
        .args(["--color", "never", "127.0.0.1", &server.port()])
        .write_stdin(
            "HELO client.example.org\nmail from:a@example.org\nrcpt to:b@example.org\n\
             rcpt to:c@example.org\nQUIT\n",
        )
        .output()
        .unwrap();
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(
        stdout
            .matches("wants the address in angle brackets")
            .count(),
        1,
        "{stdout}"
    );
    for noise in [
        "2.1.0 Other address status",
        "2.1.5 Destination address valid",
    ] {
        assert!(!stdout.contains(noise), "{noise}:\n{stdout}");
    }
}
