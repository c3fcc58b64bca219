//! `--replay`: recorded dialogs in every form, replayed and compared.

use std::process::Output;

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{need_server, smtpcli, text};

const FORMATS: [(&str, &str); 5] = [
    ("telnet.txt", "telnet style"),
    ("rfc.txt", "RFC style"),
    ("swaks.txt", "swaks style"),
    ("smtpcli.txt", "smtpcli transcript"),
    ("plain.txt", "plain dialog"),
];

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/it/fixtures/replay/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A recording written to a file of its own (kept while the guard lives).
fn recording(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dialog.txt");
    std::fs::write(&path, text).unwrap();
    let path = path.to_string_lossy().into_owned();
    (dir, path)
}

/// Replays `recording` against `host`:`port` with colours off, `options`
/// first.
fn replay(options: &[&str], recording: &str, host: &str, port: &str) -> Output {
    smtpcli()
        .args(["--color", "never"])
        .args(options)
        .args(["--replay", recording, host, port])
        .output()
        .unwrap()
}

/// A server that answers the fixtures' dialog, with its own queue id.
fn reference_server() -> FakeServer {
    FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP Postfix (Debian/GNU)"),
        expect("helo pc0815.example.com"),
        send("250 mailserver.example.com"),
        expect("mail from:absender@example.org"),
        send("250 2.1.0 Ok"),
        expect("rcpt to:empfaenger@example.org"),
        send("250 2.1.5 Ok"),
        expect("data"),
        send("354 End data with <CR><LF>.<CR><LF>"),
        expect("Subject: Test"),
        expect(""),
        expect("Dies ist eine Testmail."),
        // Message text is dot-stuffed on the wire, whatever the form.
        expect("..punkt am Anfang"),
        expect("."),
        send("250 2.0.0 Ok: queued as 4A1B2C3D4E"),
        expect("quit"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ])
}

/// Replays fixture `file` against the reference server; it must name its
/// `form`, match every reply and exit 0. Returns the output.
fn replays_clean(file: &str, form: &str) -> String {
    let server = reference_server();
    let out = replay(&[], &fixture(file), "127.0.0.1", &server.port());
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{file}:\n{stdout}{}",
        text(&out.stderr)
    );
    assert!(stdout.contains(form), "{file}: format not named:\n{stdout}");
    assert!(
        stdout.contains("# every recorded reply matched"),
        "{file}:\n{stdout}"
    );
    stdout
}

#[test]
fn every_form_replays_and_matches() {
    for (file, form) in FORMATS {
        let stdout = replays_clean(file, form);
        // The queue id differs: shown, not a failure.
        assert!(
            stdout.contains("ok (text differs): recorded text: 2.0.0 Ok: queued as 708D72C80BE"),
            "{file}:\n{stdout}"
        );
    }
}

/// Each form as people paste it, with the shell prompt, the command that
/// connected and what telnet, nc or ncat printed, marked as either side.
const NOISY: [(&str, &str); 5] = [
    ("noisy-telnet.txt", "telnet style"),
    ("noisy-rfc.txt", "RFC style"),
    ("noisy-swaks.txt", "swaks style"),
    ("noisy-smtpcli.txt", "smtpcli transcript"),
    ("noisy-plain.txt", "plain dialog"),
];

#[test]
fn shell_and_tool_noise_is_ignored_in_every_form() {
    for (file, form) in NOISY {
        let stdout = replays_clean(file, form);
        let banner = stdout
            .lines()
            .find(|l| l.starts_with("# banner (banner)"))
            .unwrap_or_default();
        assert!(
            banner.contains("220         220") && banner.ends_with(" ok"),
            "{file}: {banner}\n{stdout}"
        );
        for noise in [
            "Trying",
            "Ncat",
            "succeeded",
            "admin@pc0815",
            "Escape character",
        ] {
            assert!(
                !stdout
                    .lines()
                    .any(|l| l.starts_with(">> ") && l.contains(noise)),
                "{file}: {noise} was sent:\n{stdout}"
            );
        }
    }
}

#[test]
fn a_changed_reply_is_a_mismatch_with_the_explanation() {
    let server = FakeServer::start(vec![
        send("220 mailserver.example.com ESMTP Postfix (Debian/GNU)"),
        expect("helo pc0815.example.com"),
        send("250 mailserver.example.com"),
        expect("mail from:absender@example.org"),
        send("250 2.1.0 Ok"),
        expect("rcpt to:empfaenger@example.org"),
        send("550 5.1.1 <empfaenger@example.org>: Recipient address rejected: User unknown"),
        expect("data"),
        send("554 5.5.1 Error: no valid recipients"),
        // The message is not sent: DATA was refused live.
        expect("quit"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let out = replay(&[], &fixture("telnet.txt"), "127.0.0.1", &server.port());
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("# 3 "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("250 2.1.5   550 5.1.1   MISMATCH"), "{row}");
    assert!(row.contains("Bad destination mailbox address"), "{row}");
    assert!(
        stdout.contains("not sent: DATA was not accepted live"),
        "{stdout}"
    );
}

#[test]
fn strict_makes_text_differences_fail() {
    let server = reference_server();
    let out = replay(
        &["--strict"],
        &fixture("plain.txt"),
        "127.0.0.1",
        &server.port(),
    );
    server.finish();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
}

#[test]
fn the_recorded_telnet_target_is_used_without_a_host() {
    let server = reference_server();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ticket.txt");
    let recording = std::fs::read_to_string(fixture("telnet.txt"))
        .unwrap()
        .replace(
            "telnet mailserver.example.com 25",
            &format!("telnet 127.0.0.1 {}", server.port()),
        );
    std::fs::write(&path, recording).unwrap();
    let out = smtpcli()
        .args(["--color", "never", "--replay", path.to_str().unwrap()])
        .output()
        .unwrap();
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "no HOST given: using 127.0.0.1:{} from the recorded telnet command",
            server_port_of(&stdout)
        )),
        "{stdout}"
    );
}

fn server_port_of(stdout: &str) -> String {
    stdout
        .split("connected to 127.0.0.1 port ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or("")
        .to_string()
}

#[test]
fn recorded_auth_is_skipped_without_replay_auth() {
    let recording = "\
<< 220 fake ESMTP
>> EHLO pc0815.example.com
<< 250-fake
<< 250 AUTH PLAIN LOGIN
>> AUTH LOGIN
<< 334 VXNlcm5hbWU6
>> YWxpY2U=
<< 334 UGFzc3dvcmQ6
>> c2VjcmV0
<< 235 2.7.0 Authentication successful
>> NOOP
<< 250 2.0.0 Ok
";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.txt");
    std::fs::write(&path, recording).unwrap();
    let server = FakeServer::start(vec![
        send("220 fake ESMTP"),
        expect("EHLO pc0815.example.com"),
        send("250-fake"),
        send("250 AUTH PLAIN LOGIN"),
        // No AUTH, no credentials: straight to NOOP.
        expect("NOOP"),
        send("250 2.0.0 Ok"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = replay(&[], path.to_str().unwrap(), "127.0.0.1", &server.port());
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(
        stdout
            .matches("skipped: recorded AUTH is sent only with --replay-auth")
            .count(),
        3,
        "{stdout}"
    );
    assert!(
        !stdout.contains("c2VjcmV0") && !stdout.contains("YWxpY2U="),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("(SASL response, not shown)").count(),
        2,
        "{stdout}"
    );
}

#[test]
fn a_missing_recording_exits_2() {
    let out = smtpcli()
        .args(["--replay", "/nonexistent.txt", "127.0.0.1", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read the recording /nonexistent.txt"));
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_replays_the_telnet_recording() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let out = replay(&[], &fixture("telnet.txt"), &host, &port);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("# every recorded reply matched"),
        "{stdout}"
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_replays_a_telnet_paste_with_its_noise_marked() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let out = replay(&[], &fixture("noisy-telnet.txt"), &host, &port);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("# every recorded reply matched"),
        "{stdout}"
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_refusing_the_recipient_is_a_mismatch() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unknown.txt");
    let recording = std::fs::read_to_string(fixture("telnet.txt"))
        .unwrap()
        .replace("rcpt to:empfaenger@", "rcpt to:nosuchuser@");
    std::fs::write(&path, recording).unwrap();
    let out = replay(&[], path.to_str().unwrap(), &host, &port);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let row = stdout.lines().find(|l| l.starts_with("# 3 ")).unwrap();
    assert!(row.contains("250 2.1.5   550 5.1.1   MISMATCH"), "{row}");
    assert!(
        row.contains("5.1.1 Bad destination mailbox address"),
        "{row}"
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_replay_with_starttls_runs_the_recording_inside_tls() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let (_dir, file) = recording(
        "<< 220 mailserver.example.com ESMTP Postfix\n>> EHLO pc0815.example.com\n\
         << 250 mailserver.example.com\n>> MAIL FROM:<absender@example.org>\n<< 250 2.1.0 Ok\n\
         >> QUIT\n<< 221 2.0.0 Bye\n",
    );
    let out = replay(
        &["--starttls", "--ehlo", "pc0815.example.com"],
        &file,
        &host,
        &port,
    );
    let stdout = text(&out.stdout);
    let report = stdout.find("# TLS: TLSv1.").expect("a TLS report");
    let mail = stdout
        .find("~> MAIL FROM:<absender@example.org>")
        .expect("MAIL inside TLS");
    assert!(report < mail, "{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}");
}

#[test]
fn a_file_that_holds_no_dialog_is_refused_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("binary.dat");
    std::fs::write(&binary, b"\x7fELF\x02\x01\x01\x00\x00\r\nMAIL FROM:<x@y>\n").unwrap();
    let prose = dir.path().join("notes.txt");
    std::fs::write(&prose, "hello\nworld\n").unwrap();
    let endless = std::path::PathBuf::from("/dev/zero");
    let mut cases = vec![
        (&binary, "binary data"),
        (&prose, "no reply of the server's"),
    ];
    if cfg!(unix) {
        cases.push((&endless, "larger than 8 MiB"));
    }
    for (file, says) in cases {
        // Nothing listens: a connection attempt would be an error of its own.
        let out = replay(&[], &file.to_string_lossy(), "127.0.0.1", "9");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("is not a recorded dialog") && stderr.contains(says),
            "{stderr}"
        );
        assert!(!text(&out.stdout).contains("matched"));
    }
}

#[test]
fn replay_with_starttls_starts_tls_before_the_recording() {
    let server = crate::engine::refuses_starttls();
    let (_dir, file) =
        recording("<< 220 fake.example.net ESMTP\n>> MAIL FROM:<a@example.org>\n<< 250 2.1.0 Ok\n");
    let out = replay(
        &["--starttls", "--ehlo", "client.example.org"],
        &file,
        "127.0.0.1",
        &server.port(),
    );
    let received = text(&server.finish());
    let stdout = text(&out.stdout);
    assert!(!received.contains("MAIL FROM"), "{received}");
    assert!(stdout.contains("STARTTLS did not succeed"), "{stdout}");
    // The banner matched; the 454 refusal is temporary.
    assert!(stdout.contains("banner "), "{stdout}");
    assert_eq!(out.status.code(), Some(75), "{stdout}");
}

#[test]
fn a_byte_order_mark_before_a_recording_is_removed_with_a_note() {
    let server = FakeServer::start(vec![
        send("220 fake.example.net ESMTP"),
        expect("EHLO client.example.org"),
        send("250 fake.example.net"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let (_dir, file) = recording(
        "\u{feff}<< 220 fake.example.net ESMTP\n>> EHLO client.example.org\n<< 250 fake.example.net\n",
    );
    let out = replay(&[], &file, "127.0.0.1", &server.port());
    server.finish();
    let stdout = text(&out.stdout);
    assert!(stdout.contains("byte order mark"), "{stdout}");
    assert!(stdout.contains("every recorded reply matched"), "{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}");
}
