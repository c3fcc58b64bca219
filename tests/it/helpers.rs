//! The helper meta-commands: `:ehlo`, `:auth`, `:send`, `:data`, `:bdat`,
//! `:raw`, `:pipeline`, `:log`, `:save` — against the fake server (exact
//! bytes) and Postfix (delivered mail).

use std::io::Write;
use std::process::{Command as StdCommand, Stdio};
use std::time::Duration;

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{
    need, need_server, peak_rss_kib, smtpcli, text, token, wait_for_large_mail, wait_for_mail,
};

fn script(server: &FakeServer, script: &str, extra: &[&str]) -> std::process::Output {
    let port = server.port();
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["--color", "never", "--script", "-", "127.0.0.1", &port]);
    smtpcli().args(&args).write_stdin(script).output().unwrap()
}

#[test]
fn raw_sends_exactly_the_bytes_given() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        Step::Expect(b"MAIL FROM:<a@b>\n".to_vec()),
        send("250 2.1.0 Ok"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = script(&server, ":raw \"MAIL FROM:<a@b>\\n\"\n", &[]);
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(">> MAIL FROM:<a@b>\\n (raw, 16 bytes)"),
        "{stdout}"
    );
}

#[test]
fn ehlo_falls_back_to_helo_only_after_500_or_502() {
    let server = FakeServer::start(vec![
        send("220 old"),
        expect("EHLO pc0815.example.com"),
        send("502 5.5.2 Error: command not recognized"),
        expect("HELO pc0815.example.com"),
        send("250 old"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = script(&server, ":ehlo pc0815.example.com\n", &[]);
    server.finish();
    let stdout = text(&out.stdout);
    assert!(stdout.contains("falling back to HELO"), "{stdout}");

    // A 550 to EHLO is a refusal: no HELO after it.
    let server = FakeServer::start(vec![
        send("220 strict"),
        expect("EHLO pc0815.example.com"),
        send("550 5.7.1 go away"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = script(&server, ":ehlo pc0815.example.com\n", &[]);
    server.finish();
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stdout).contains("HELO"));
}

#[test]
fn ehlo_flags_a_name_that_is_not_a_fqdn() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("EHLO pc0815"),
        send("250 fake"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = script(&server, ":ehlo\n", &["--ehlo", "pc0815"]);
    server.finish();
    let stdout = text(&out.stdout);
    assert!(stdout.contains("EHLO name in use: pc0815"), "{stdout}");
    assert!(
        stdout.contains("not a fully qualified domain name"),
        "{stdout}"
    );
}

#[test]
fn pipeline_sends_the_block_at_once_and_matches_replies() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("MAIL FROM:<a@example.org>"),
        // The other two must already be there: no reply was sent yet.
        expect("RCPT TO:<b@example.org>"),
        expect("RCPT TO:<c@example.org>"),
        send("250 2.1.0 Ok"),
        send("250 2.1.5 Ok"),
        send("550 5.1.1 unknown"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = script(
        &server,
        ":pipeline\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nRCPT TO:<c@example.org>\n.\n:expect 550 5.1.1\n",
        &[],
    );
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("PIPELINING was not advertised"), "{stdout}");
    let order: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("# reply to:") || l.starts_with("<<"))
        .collect();
    assert_eq!(
        &order[1..],
        [
            "# reply to: MAIL FROM:<a@example.org>",
            "<< 250 2.1.0 Ok",
            "# reply to: RCPT TO:<b@example.org>",
            "<< 250 2.1.5 Ok",
            "# reply to: RCPT TO:<c@example.org>",
            "<< 550 5.1.1 unknown",
            "<< 221 Bye"
        ]
    );
}

#[test]
fn auth_plain_login_and_cram_md5_answer_each_step() {
    // alice / Hunter2x. PLAIN: base64("\0alice\0secret"); LOGIN: base64 of each.
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("AUTH PLAIN AGFsaWNlAEh1bnRlcjJ4"),
        send("235 2.7.0 Authentication successful"),
        expect("AUTH LOGIN"),
        send("334 VXNlcm5hbWU6"),
        expect("YWxpY2U="),
        send("334 UGFzc3dvcmQ6"),
        expect("SHVudGVyMng="),
        send("235 2.7.0 Authentication successful"),
        expect("AUTH CRAM-MD5"),
        // RFC 2195's challenge, answered for alice/Hunter2x.
        send("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"),
        expect("YWxpY2UgYjk2YTE5OGFjYzkxZWU5NDRjMzVlYzMxMDZlZGQ0MmE="),
        send("235 2.7.0 Authentication successful"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let mut cmd = smtpcli();
    let port = server.port();
    let out = cmd
        .env("SMTPCLI_PASSWORD", "Hunter2x")
        .args(["--insecure", "--color", "never", "--script", "-", "127.0.0.1", &port])
        .write_stdin(":auth plain alice\n:expect 235\n:auth login alice\n:expect 235\n:auth cram-md5 alice\n:expect 235\n")
        .output()
        .unwrap();
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("challenge: \"Username:\""), "{stdout}");
    for secret in [
        "Hunter2x",
        "SHVudGVyMng",
        "AGFsaWNlAEh1bnRlcjJ4",
        "YWxpY2UgYjk2",
    ] {
        assert!(!stdout.contains(secret), "{secret} shown:\n{stdout}");
    }
}

#[test]
fn auth_over_cleartext_is_refused_in_a_script_without_insecure() {
    let server = FakeServer::start(vec![send("220 fake"), Step::ReadToEnd]);
    let out = smtpcli()
        .env("SMTPCLI_PASSWORD", "secret")
        .args(["--script", "-", "127.0.0.1", &server.port()])
        .write_stdin(":auth plain alice\n")
        .output()
        .unwrap();
    let received = server.finish();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("refusing to send credentials over a cleartext connection"));
    assert!(!text(&received).contains("AUTH"));
}

#[test]
fn auth_without_a_password_source_or_terminal_exits_2() {
    let server = FakeServer::start(vec![send("220 fake"), Step::ReadToEnd]);
    let out = smtpcli()
        .env_remove("SMTPCLI_PASSWORD")
        .args(["--insecure", "--script", "-", "127.0.0.1", &server.port()])
        .write_stdin(":auth plain alice\n")
        .output()
        .unwrap();
    server.finish();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--password-file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn log_writes_the_transcript_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("session.log");
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
        send("235 2.7.0 ok"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let input = format!(":log {}\n:auth plain alice\n", log.display());
    let out = smtpcli()
        .env("SMTPCLI_PASSWORD", "secret")
        .args([
            "--insecure",
            "--color",
            "always",
            "--script",
            "-",
            "127.0.0.1",
            &server.port(),
        ])
        .write_stdin(input)
        .output()
        .unwrap();
    server.finish();
    assert_eq!(out.status.code(), Some(0));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains(">> AUTH PLAIN [initial response for alice redacted]"),
        "{logged}"
    );
    assert!(logged.contains("<< 235 2.7.0 ok"), "{logged}");
    assert!(!logged.contains('\u{1b}'), "the log has no colour codes");
    assert!(
        !logged.contains("secret") && !logged.contains("AGFsaWNl"),
        "{logged}"
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_send_delivers_and_tables_the_refused_recipient() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let maildir = need("SMTPCLI_IT_MAILDIR_B");
    let out = smtpcli()
        .args(["--color", "never", "--script", "-", &host, &port])
        .write_stdin(
            ":send --from a@example.org --to b@example.org --to nosuchuser@example.org --subject \"Grüße\"\n",
        )
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let row = stdout
        .lines()
        .find(|l| l.starts_with("# nosuchuser@example.org"))
        .unwrap_or_else(|| panic!("no table row:\n{stdout}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[2..6], ["permanent", "550", "5.1.1", "RCPT"], "{row}");
    assert!(row.ends_with("Bad destination mailbox address"), "{row}");
    let accepted = stdout
        .lines()
        .find(|l| l.starts_with("# b@example.org"))
        .unwrap();
    let cells: Vec<&str> = accepted.split_whitespace().collect();
    assert_eq!(
        cells[2..6],
        ["accepted", "250", "2.0.0", "message"],
        "{accepted}"
    );
    let token = stdout
        .split("token ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("a token")
        .to_string();
    let mail = wait_for_mail(&maildir, &token, Duration::from_secs(15)).expect("delivered to b");
    let mail = text(&mail);
    let subject = mail.lines().find(|l| l.starts_with("Subject: ")).unwrap();
    assert_eq!(
        decode_rfc2047(subject.trim_start_matches("Subject: ")),
        "Grüße"
    );
}

/// Decodes one `=?utf-8?b?…?=` or `=?utf-8?q?…?=` word (what mail-builder
/// writes), enough to check the subject round trip without a MIME crate.
fn decode_rfc2047(word: &str) -> String {
    use base64::Engine as _;
    let inner = word.trim().trim_start_matches("=?").trim_end_matches("?=");
    let mut parts = inner.splitn(3, '?');
    let (_, enc, data) = (
        parts.next(),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let bytes = if enc.eq_ignore_ascii_case("b") {
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap()
    } else {
        let mut out = Vec::new();
        let mut it = data.bytes();
        while let Some(b) = it.next() {
            match b {
                b'_' => out.push(b' '),
                b'=' => {
                    let hex: Vec<u8> = it.by_ref().take(2).collect();
                    out.push(u8::from_str_radix(std::str::from_utf8(&hex).unwrap(), 16).unwrap());
                }
                b => out.push(b),
            }
        }
        out
    };
    String::from_utf8(bytes).unwrap()
}

/// A message file with everything that goes wrong in naive clients: lines
/// starting with dots, mixed CRLF and LF, a line starting "From ", and no
/// final newline.
fn nasty_message(token: &str, size: usize) -> Vec<u8> {
    let mut m = format!("Subject: {token}\r\n\r\n").into_bytes();
    let mut i = 0u64;
    while m.len() < size {
        let line = match i % 7 {
            0 => format!(".dot line {i}"),
            1 => "..".to_string(),
            2 => format!("From the start of line {i}"),
            3 => ".".repeat(1 + (i % 5) as usize),
            _ => format!("plain text line {i} with some words to fill it up"),
        };
        m.extend_from_slice(line.as_bytes());
        m.extend_from_slice(if i.is_multiple_of(2) { b"\r\n" } else { b"\n" });
        i += 1;
    }
    m.extend_from_slice(b"the last line has no newline");
    m
}

/// The body of a delivered message (Postfix adds headers after ours and
/// stores LF line endings).
fn body_of(mail: &[u8], token: &str) -> String {
    let mail = text(mail);
    let header = mail
        .find(&format!("Subject: {token}\n"))
        .expect("our header");
    let body = mail[header..].find("\n\n").expect("end of header") + header + 2;
    mail[body..].to_string()
}

/// The body of a message file as Postfix will store it: LF endings, and the
/// newline smtpcli adds when the file has no final one.
fn expected_body(message: &[u8]) -> String {
    let message = text(message);
    let body = message.find("\r\n\r\n").expect("header end") + 4;
    format!("{}\n", message[body..].replace("\r\n", "\n"))
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_data_of_a_50_mib_file_arrives_intact_in_constant_memory() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let maildir = need("SMTPCLI_IT_MAILDIR");
    let token = token("data50");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.eml");
    let message = nasty_message(&token, 50 * 1024 * 1024);
    std::fs::write(&path, &message).unwrap();

    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_smtpcli"))
        .args(["--color", "never", &host, &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "EHLO pc0815.example.com\nMAIL FROM:<a@example.org>\nRCPT TO:<empfaenger@example.org>\n:data {}", path.display()).unwrap();
    // The whole message is through when the final reply is on stdout.
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !text(&seen).contains("queued as") {
        assert!(std::time::Instant::now() < deadline, "{}", text(&seen));
        let n = std::io::Read::read(&mut stdout, &mut buf).unwrap();
        assert!(n > 0, "smtpcli ended early: {}", text(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let peak = peak_rss_kib(child.id()).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success());
    // Constant memory: far below the 50 MiB sent. Most of the peak is the
    // debug binary's own code and the TLS library; it grows with features
    // (20.1 MiB with --check in, all features), not with the message.
    assert!(peak < 28 * 1024, "peak RSS {peak} KiB");

    let mail = wait_for_large_mail(&maildir, &token, Duration::from_secs(60)).expect("delivered");
    // Postfix stores LF line endings; compare with the file normalised the
    // same way, plus the newline smtpcli added at the end.
    assert_eq!(body_of(&mail, &token), expected_body(&message));
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_bdat_sends_exact_chunks() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let maildir = need("SMTPCLI_IT_MAILDIR");
    let token = token("bdat");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.eml");
    let message = nasty_message(&token, 300_000);
    std::fs::write(&path, &message).unwrap();
    let out = smtpcli()
        .args(["--color", "never", "--script", "-", &host, &port])
        .write_stdin(format!(
            "EHLO pc0815.example.com\nMAIL FROM:<a@example.org>\nRCPT TO:<empfaenger@example.org>\n:bdat {} --chunk 65536\n:expect 250\n",
            path.display()
        ))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(">> BDAT 65536\n"), "{stdout}");
    assert!(stdout.contains(" LAST\n"), "{stdout}");
    let mail = wait_for_mail(&maildir, &token, Duration::from_secs(30)).expect("delivered");
    // BDAT is not dot-stuffed: the dots arrive as they were.
    assert_eq!(body_of(&mail, &token), expected_body(&message));
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_saved_session_replays_with_the_same_codes() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.smtp");
    let input = format!(
        "EHLO pc0815.example.com\nMAIL FROM:<a@example.org>\nRCPT TO:<nosuchuser@example.org>\n\
         RCPT TO:<empfaenger@example.org>\nDATA\nSubject: replay\n\n.dot\nbody\n.\nVRFY empfaenger\n\
         :send --to b@example.org --subject again\nRSET\nNOOP\n:save {}\n",
        saved.display()
    );
    let first = smtpcli()
        .args(["--script", "-", &host, &port])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(
        first.status.code(),
        Some(1),
        "the 550 counts: {}",
        text(&first.stdout)
    );
    let script = std::fs::read_to_string(&saved).unwrap();
    assert!(script.contains(":expect 550 5.1.1"), "{script}");
    assert!(script.contains(".dot\n"), "{script}");
    let replay = smtpcli()
        .args(["--script", saved.to_str().unwrap(), &host, &port])
        .output()
        .unwrap();
    assert_eq!(
        replay.status.code(),
        Some(0),
        "{script}\n{}",
        text(&replay.stdout)
    );
}

/// Everything a password can leak as: itself, base64 of it, and the PLAIN
/// blob for alice.
fn secret_forms(password: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    vec![
        password.to_string(),
        b64(password),
        b64(&format!("\0alice\0{password}")),
    ]
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_auth_plain_login_and_cram_md5_over_starttls() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let (ca, user, password) = (
        need("SMTPCLI_IT_CA"),
        need("SMTPCLI_IT_USER"),
        need("SMTPCLI_IT_PASSWORD"),
    );
    let mut password_file = tempfile::NamedTempFile::new().unwrap();
    writeln!(password_file, "{password}").unwrap();
    // One session per mechanism: a server takes one AUTH per session.
    for mechanism in ["plain", "login", "cram-md5"] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("auth.log");
        let script = format!(
            ":log {}\n:auth {mechanism} {user}\n:expect 235\n",
            log.display()
        );
        // A verified certificate: no --insecure, no question.
        let out = smtpcli()
            .args([
                "--color",
                "never",
                "--starttls",
                "--ca-file",
                &ca,
                "--password-file",
            ])
            .arg(password_file.path())
            .args(["--script", "-", &host, &port])
            .write_stdin(script)
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{mechanism}: {stdout}{}",
            text(&out.stderr)
        );
        assert!(
            stdout.contains("<~ 235 2.7.0 Authentication successful"),
            "{stdout}"
        );
        let logged = std::fs::read_to_string(&log).unwrap();
        for form in secret_forms(&password) {
            let visible = |s: &str| s.replace("[secret redacted", "");
            assert!(
                !visible(&stdout).contains(&form),
                "{mechanism}: {form:?} on screen"
            );
            assert!(
                !visible(&logged).contains(&form),
                "{mechanism}: {form:?} in the log"
            );
        }
    }
}

#[test]
#[ignore = "needs aiosmtpd: scripts/test-servers start"]
fn aiosmtpd_xoauth2_success_and_error_step() {
    let (host, port) = need_server("SMTPCLI_IT_AIOSMTPD");
    let token = need("SMTPCLI_IT_PASSWORD");
    let run = |token: &str| {
        smtpcli()
            .env("SMTPCLI_PASSWORD", token)
            .args([
                "--color",
                "never",
                "--insecure",
                "--starttls",
                "--script",
                "-",
                &host,
                &port,
            ])
            .write_stdin(":auth xoauth2 alice\n")
            .output()
            .unwrap()
    };
    let good = run(&token);
    let stdout = text(&good.stdout);
    assert_eq!(good.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("<~ 235 2.7.0 Authentication successful"),
        "{stdout}"
    );
    assert!(
        stdout.contains("~> AUTH XOAUTH2 [token for alice redacted]"),
        "{stdout}"
    );

    let bad = run("not-the-token");
    let stdout = text(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "# XOAUTH2 error from the server: status 401, scope \"https://mail.example.org/\""
        ),
        "{stdout}"
    );
    assert!(stdout.contains("~> (empty response)"), "{stdout}");
    assert!(stdout.contains("<~ 535 5.7.8"), "{stdout}");
    assert!(!stdout.contains("not-the-token"), "{stdout}");
}

/// The submission port checks the sender against the login
/// (`reject_sender_login_mismatch`): `:send` after AUTH uses the
/// authenticated identity, and is delivered; another `--from` is refused.
#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_submission_send_after_auth_uses_the_login_as_sender() {
    let (host, port) = need_server("SMTPCLI_IT_SUBMISSION");
    let maildir = need("SMTPCLI_IT_MAILDIR");
    let mailhost = need("SMTPCLI_IT_HOSTNAME");
    let (ca, user, password) = (
        need("SMTPCLI_IT_CA"),
        need("SMTPCLI_IT_USER"),
        need("SMTPCLI_IT_PASSWORD"),
    );
    let mut password_file = tempfile::NamedTempFile::new().unwrap();
    writeln!(password_file, "{password}").unwrap();
    let run = |send: &str| {
        smtpcli()
            .args([
                "--color",
                "never",
                "--starttls",
                "--ca-file",
                &ca,
                "--user",
                &user,
            ])
            .arg("--password-file")
            .arg(password_file.path())
            .args(["--script", "-", &host, &port])
            .write_stdin(format!(":auth plain\n:expect 235\n{send}\n"))
            .output()
            .unwrap()
    };
    let token = token("login-sender");
    let out = run(&format!(
        ":send --to empfaenger@example.org --subject {token}"
    ));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let sender = format!("{user}@{mailhost}");
    assert!(
        stdout.contains(&format!("~> MAIL FROM:<{sender}>")),
        "{stdout}"
    );
    let mail = text(&wait_for_mail(&maildir, &token, Duration::from_secs(15)).expect("delivered"));
    assert!(
        mail.starts_with(&format!("Return-Path: <{sender}>")),
        "{mail}"
    );

    let out = run(":send --from someone@example.org --to empfaenger@example.org");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("not owned by user"), "{stdout}");
    assert_eq!(out.status.code(), Some(1), "{stdout}");
}
