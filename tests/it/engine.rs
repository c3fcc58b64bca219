//! The engine's truth, as a user sees it: regressions where a mode lost
//! track of the dialog. Each test is named after the bug, and each plays the
//! fault against the fake server with the real binary (the transitions
//! themselves are unit-tested in `session::state`).

use std::process::Output;

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{smtpcli, text};

/// Pipes `input` into smtpcli pointed at `server`, `options` before the
/// address; returns what the client did and what the server received.
fn pipe(server: FakeServer, options: &[&str], input: &str) -> (Output, String) {
    let port = server.port();
    let out = smtpcli()
        .args(["--color", "never"])
        .args(options)
        .args(["127.0.0.1", &port])
        .write_stdin(input)
        .output()
        .unwrap();
    (out, text(&server.finish()))
}

fn greeting() -> Vec<Step> {
    vec![
        send("220 fake.example.net ESMTP"),
        expect("EHLO client.example.org"),
        send("250 fake.example.net"),
    ]
}

/// The greeting, then MAIL and RCPT accepted and DATA answered `354`.
fn ready_for_text() -> Vec<Step> {
    let mut script = greeting();
    script.extend([
        expect("MAIL FROM:<a@example.org>"),
        send("250 Ok"),
        expect("RCPT TO:<b@example.org>"),
        send("250 Ok"),
        expect("DATA"),
        send("354 go"),
    ]);
    script
}

/// What the client types to get to message text with [`ready_for_text`].
const TO_TEXT: &str =
    "EHLO client.example.org\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\n";

/// smtpcli against `port` with piped stdin and stdout, for tests that
/// watch it while it runs.
fn spawn(port: &str, options: &[&str]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("smtpcli"))
        .args(["--color", "never", "--no-config"])
        .args(options)
        .args(["127.0.0.1", port])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_server_that_hangs_up_with_input_left_fails_the_run_and_says_how_much() {
    let mut script = greeting();
    script.push(Step::Close);
    let (out, _) = pipe(
        FakeServer::start(script),
        &[],
        "EHLO client.example.org\n:expect 250\nMAIL FROM:<a@example.org>\n:expect 250\n\
         RCPT TO:<b@example.org>\n:expect 250\n",
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    // MAIL may or may not have reached the socket before the close was
    // seen; everything after it cannot have.
    assert!(
        stdout.contains("the server closed the connection; 3 lines not sent")
            || stdout.contains("the server closed the connection; 4 lines not sent"),
        "{stdout}"
    );
}

#[test]
fn a_hang_up_after_a_421_with_input_left_exits_75() {
    let mut script = greeting();
    script.extend([
        expect("MAIL FROM:<a@example.org>"),
        send("421 4.3.2 shutting down"),
        Step::Close,
    ]);
    let (out, _) = pipe(
        FakeServer::start(script),
        &[],
        "EHLO client.example.org\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\n",
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(75), "{stdout}");
    assert!(stdout.contains("2 lines not sent"), "{stdout}");
}

#[test]
fn a_duplicated_reply_is_not_taken_for_the_next_commands_reply() {
    let mut script = greeting();
    script.extend([
        expect("MAIL FROM:<a@example.org>"),
        // Two replies in one write: the second answers nothing.
        Step::Send(b"250 2.1.0 Ok\r\n250 2.1.0 Ok\r\n".to_vec()),
        expect("RCPT TO:<nobody@example.org>"),
        send("550 5.1.1 unknown user"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let (out, _) = pipe(
        FakeServer::start(script),
        &[],
        "EHLO client.example.org\nMAIL FROM:<a@example.org>\nRCPT TO:<nobody@example.org>\n\
         :expect 250\n",
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the refused RCPT fails: {stdout}"
    );
    assert!(
        stdout.contains("arrived before 'RCPT TO:<nobody@example.org>' was sent"),
        "{stdout}"
    );
}

#[test]
fn an_unasked_354_never_turns_the_message_into_commands() {
    let mut script = greeting();
    script.extend([
        expect("MAIL FROM:<a@example.org>"),
        send("250 2.1.0 Ok"),
        expect("RCPT TO:<b@example.org>"),
        // A 354 nobody asked for, in the same write as the RCPT reply.
        Step::Send(b"250 2.1.5 Ok\r\n354 go ahead\r\n".to_vec()),
        expect("DATA"),
        send("554 5.5.1 no valid recipients"),
        // The message text must not arrive: the next line is QUIT.
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let (out, received) = pipe(
        FakeServer::start(script),
        &[],
        "EHLO client.example.org\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\n\
         Subject: hello\n\nRSET this line is text\n.\n",
    );
    let stdout = text(&out.stdout);
    assert!(!received.contains("Subject"), "{received}");
    assert!(stdout.contains("3 message lines dropped"), "{stdout}");
    assert_eq!(out.status.code(), Some(1), "{stdout}");
}

#[test]
fn a_334_to_mail_does_not_hide_the_next_command() {
    let mut script = greeting();
    script.extend([
        expect("MAIL FROM:<a@example.org>"),
        send("334 eA=="),
        expect("RCPT TO:<b@example.org>"),
        send("503 5.5.1 no"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let (out, _) = pipe(
        FakeServer::start(script),
        &["--json"],
        "EHLO client.example.org\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\n",
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("RCPT TO:<b@example.org>"), "{stdout}");
    assert!(!stdout.contains("redacted"), "{stdout}");
    assert!(stdout.contains("outside an AUTH exchange"), "{stdout}");
}

#[test]
fn reply_codes_outside_classes_2_to_5_exit_2() {
    for code in ["000", "100", "600", "999"] {
        let mut script = greeting();
        script.extend([
            expect("NOOP"),
            send(&format!("{code} what is this")),
            expect("QUIT"),
            send("221 Bye"),
            Step::Close,
        ]);
        let (out, _) = pipe(
            FakeServer::start(script),
            &[],
            "EHLO client.example.org\nNOOP\n",
        );
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{code}: {stdout}");
        assert!(stdout.contains("outside the classes 2 to 5"), "{stdout}");
    }
}

#[test]
fn piped_message_text_keeps_a_cr_before_the_line_end_as_data_files_do() {
    let mut script = ready_for_text();
    script.extend([
        // `text CR CR LF`: the lone CR becomes a line end of its own, as
        // `:data` makes it; the line end after it is kept too.
        expect("text"),
        expect(""),
        expect("."),
        send("250 queued"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let (out, _) = pipe(
        FakeServer::start(script),
        &[],
        &format!("{TO_TEXT}text\r\r\n.\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

/// A server that offers STARTTLS and then refuses it: enough to see
/// whether `--starttls` was applied before anything else.
pub(crate) fn refuses_starttls() -> FakeServer {
    FakeServer::start(vec![
        send("220 fake.example.net ESMTP"),
        expect("EHLO client.example.org"),
        send("250-fake.example.net"),
        send("250 STARTTLS"),
        expect("STARTTLS"),
        send("454 4.7.0 TLS not available"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ])
}

#[test]
fn a_profile_with_tls_starttls_starts_tls_in_a_script() {
    let server = refuses_starttls();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.fake]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"starttls\"\nehlo = \"client.example.org\"\n",
            server.port()
        ),
    )
    .unwrap();
    let out = smtpcli()
        .env("SMTPCLI_CONFIG", &config)
        .args(["--color", "never", "@fake"])
        .write_stdin("MAIL FROM:<a@example.org>\n")
        .output()
        .unwrap();
    let received = text(&server.finish());
    assert!(!received.contains("MAIL FROM"), "{received}");
    // A 454 refusal is temporary.
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stdout));
}

#[test]
fn a_hang_up_while_the_input_goes_on_fails_the_run() {
    let mut script = greeting();
    script.push(Step::Close);
    let server = FakeServer::start(script);
    let mut child = spawn(&server.port(), &["--timeout", "1"]);
    // One line, and the pipe stays open, as a feeder that has more to say.
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"EHLO client.example.org\n").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "smtpcli did not stop");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    drop(stdin);
    server.finish();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert_eq!(status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("and the input had not ended"), "{stdout}");
}

#[test]
fn a_bare_cr_in_a_scripted_command_is_refused_not_smuggled() {
    for (input, what) in [
        (
            "EHLO client.example.org\nMAIL FROM:<a@example.org>\rRCPT TO:<x@example.org>\n",
            "a bare CR",
        ),
        ("EHLO client.example.org\nNOOP \0\n", "a NUL"),
        (
            "EHLO client.example.org\n:send --to 'b@example.org>\rRCPT TO:<x@example.org'\n",
            "a bare CR",
        ),
    ] {
        let mut script = greeting();
        script.push(Step::ReadToEnd);
        let port_server = FakeServer::start(script);
        let port = port_server.port();
        let out = smtpcli()
            .args(["--color", "never", "127.0.0.1", &port])
            .write_stdin(input)
            .output()
            .unwrap();
        let received = text(&port_server.finish());
        let stderr = text(&out.stderr);
        assert!(
            !received.contains("RCPT") && !received.contains("NOOP"),
            "{received}"
        );
        assert!(!received.contains("MAIL"), "{received}");
        assert!(stderr.contains(what) && stderr.contains(":raw"), "{stderr}");
        assert_eq!(out.status.code(), Some(2), "{input:?}: {stderr}");
    }
}

#[test]
fn a_byte_order_mark_before_a_script_is_removed_with_a_note() {
    let mut script = greeting();
    script.extend([expect("QUIT"), send("221 Bye"), Step::Close]);
    let (out, received) = pipe(
        FakeServer::start(script),
        &[],
        "\u{feff}EHLO client.example.org\n",
    );
    let stdout = text(&out.stdout);
    assert!(received.starts_with("EHLO"), "{received:?}");
    assert!(stdout.contains("byte order mark"), "{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}");
}

#[test]
fn what_was_sent_is_shown_while_its_reply_is_awaited() {
    let (wait, go) = crate::support::fake_server::hold();
    let server = FakeServer::start(vec![
        send("220 fake.example.net ESMTP"),
        expect("EHLO client.example.org"),
        // No reply until the test has seen the line on smtpcli's stdout.
        wait,
        send("250 fake.example.net"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let mut child = spawn(&server.port(), &[]);
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"EHLO client.example.org\n").unwrap();
    drop(stdin);
    let stdout = child.stdout.take().unwrap();
    let (lines, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let shown = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match seen.recv_timeout(left) {
            Ok(line) if line == ">> EHLO client.example.org" => break true,
            Ok(_) => {}
            Err(_) => break false,
        }
    };
    let _ = go.send(());
    let status = child.wait().unwrap();
    server.finish();
    assert!(
        shown,
        "the sent line stayed in a buffer while the reply was awaited"
    );
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_command_line_over_64_kib_is_refused_not_sent() {
    let server = FakeServer::start(vec![send("220 fake.example.net ESMTP"), Step::ReadToEnd]);
    let port = server.port();
    let line = format!("NOOP {}\n", "x".repeat(100 * 1024));
    let out = smtpcli()
        .args(["--color", "never", "127.0.0.1", &port])
        .write_stdin(line)
        .output()
        .unwrap();
    let received = text(&server.finish());
    let stderr = text(&out.stderr);
    assert!(
        !received.contains("NOOP"),
        "{} bytes arrived",
        received.len()
    );
    assert!(stderr.contains("refused, not sent"), "{stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
}

/// A 32 MiB message line, piped: it streams through in pieces (dot-stuffed
/// across them), the transcript shows it cut, and memory stays bounded.
#[test]
fn a_huge_piped_message_line_streams_in_bounded_memory() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
    const LEN: usize = 32 * 1024 * 1024;
    let pid = Arc::new(AtomicU32::new(0));
    let peak = Arc::new(AtomicU64::new(0));
    let (p, k) = (pid.clone(), peak.clone());
    let mut stuffed = b"..".to_vec();
    stuffed.extend(std::iter::repeat_n(b'x', LEN));
    stuffed.extend_from_slice(b"\r\n");
    let mut script = ready_for_text();
    script.extend([
        Step::Expect(stuffed),
        expect("."),
        Step::Call(Box::new(move || {
            let kib = crate::support::peak_rss_kib(p.load(Ordering::SeqCst)).unwrap_or(u64::MAX);
            k.store(kib, Ordering::SeqCst);
        })),
        send("250 queued"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let server = FakeServer::start(script);
    let mut child = spawn(&server.port(), &[]);
    pid.store(child.id(), Ordering::SeqCst);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut input = format!("{TO_TEXT}.").into_bytes();
        input.extend(std::iter::repeat_n(b'x', LEN));
        input.extend_from_slice(b"\n.\n");
        let _ = std::io::Write::write_all(&mut stdin, &input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        &stdout[..stdout.len().min(2000)]
    );
    assert!(stdout.contains("more bytes"), "the long line is shown cut");
    assert!(
        stdout.len() < 64 * 1024,
        "the transcript holds the whole line"
    );
    let kib = peak.load(Ordering::SeqCst);
    assert!(kib < 64 * 1024, "peak RSS {kib} KiB");
}
