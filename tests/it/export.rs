//! `:export swaks|curl|script`: the commands printed are run for real
//! (swaks and curl), and what the server received is compared with the
//! original session's envelope and message: against the demo (always),
//! and against aiosmtpd with STARTTLS and AUTH (its spool records the
//! envelope as it saw it).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::{need, need_server, smtpcli, text, token};

/// The lines of a session that sends one message to two recipients, with
/// lines that need dot-stuffing, then asks for both exports.
fn session_lines(subject: &str) -> String {
    format!(
        "EHLO pc0815.example.com\n\
         MAIL FROM:<absender@example.org>\n\
         RCPT TO:<empfaenger@example.org>\n\
         RCPT TO:<zweiter@example.org>\n\
         DATA\n\
         Subject: {subject}\n\
         \n\
         .a line with a leading dot\n\
         ..two dots\n\
         it's quoted \"twice\" and costs $5\n\
         .\n\
         :export swaks\n\
         :export curl\n"
    )
}

/// The commands in a transcript: from a line starting with `printf` to the
/// first line not continued with `\`.
fn commands(transcript: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in transcript.lines() {
        match current.as_mut() {
            Some(lines) => lines.push(line),
            None if line.starts_with("printf ") => current = Some(vec![line]),
            None => continue,
        }
        if !line.ends_with('\\')
            && let Some(lines) = current.take()
        {
            found.push(lines.join("\n"));
        }
    }
    found
}

/// Runs an exported command in a shell with the password in its
/// environment; panics with its output when it fails.
fn run(command: &str, env: &[(&str, &str)]) {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .envs(env.iter().copied())
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{command}\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// smtpcli reading lines from a pipe held open, its output read line by line.
struct Piped {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: String,
}

impl Piped {
    fn start(args: &[&str]) -> Piped {
        let bin = assert_cmd::cargo::cargo_bin("smtpcli");
        let mut child = Command::new(bin)
            .args(["--color", "never"])
            .args(args)
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn smtpcli");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Piped {
            child,
            stdin,
            lines,
            seen: String::new(),
        }
    }

    fn send(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(text.as_bytes()).expect("write");
        stdin.flush().expect("flush");
    }

    /// Reads until a line satisfies `done`; returns everything read so far.
    fn until(&mut self, done: impl Fn(&str) -> bool) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("timed out; so far:\n{}", self.seen));
            self.seen.push_str(&line);
            self.seen.push('\n');
            if done(&line) {
                return self.seen.clone();
            }
        }
    }

    fn finish(mut self) -> String {
        drop(self.stdin.take());
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(30)) {
            self.seen.push_str(&line);
            self.seen.push('\n');
        }
        let _ = self.child.wait();
        self.seen
    }
}

#[cfg(feature = "demo")]
#[test]
#[ignore = "needs swaks and curl: scripts/test-servers start installs them"]
fn exported_swaks_and_curl_deliver_the_same_envelope_and_message_to_the_demo() {
    let subject = token("export-demo");
    let mut smtpcli = Piped::start(&["--demo"]);
    let banner = smtpcli.until(|l| l.contains("inside this process on 127.0.0.1:"));
    let port = banner
        .split("inside this process on 127.0.0.1:")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("the demo's port")
        .to_string();
    smtpcli.send(&session_lines(&subject));
    let transcript = smtpcli.until(|l| l.trim() == "--upload-file -");
    let found = commands(&transcript);
    assert_eq!(found.len(), 2, "{transcript}");
    let (swaks, curl) = (&found[0], &found[1]);
    assert!(swaks.contains("| swaks"), "{swaks}");
    assert!(swaks.contains(&format!("--port {port}")), "{swaks}");
    assert!(curl.contains("| curl"), "{curl}");
    run(swaks, &[]);
    run(curl, &[("CURL_HOME", "/nonexistent")]);
    smtpcli.send(":demo show 1\n:demo show 2\n:demo show 3\n:demo inbox\n");
    let all = smtpcli.finish();
    let shown: Vec<&str> = all.split("\n# from ").skip(1).collect();
    assert_eq!(shown.len(), 3, "{all}");
    for message in &shown {
        assert!(
            message
                .starts_with("absender@example.org to empfaenger@example.org, zweiter@example.org"),
            "{message}"
        );
        // The message as the server stored it, line by line.
        for line in [
            &format!("# Subject: {subject}"),
            "# .a line with a leading dot",
            "# ..two dots",
            "# it's quoted \"twice\" and costs $5",
        ] {
            assert!(message.lines().any(|l| l == line), "{line}\n{message}");
        }
    }
    // From the Subject on, the three messages are the same: nothing added
    // (no empty line at the end), nothing lost.
    let bodies: Vec<String> = shown
        .iter()
        .map(|m| {
            let start = m.find("# Subject:").expect("a Subject");
            let body = &m[start..];
            body.split("\n# #")
                .next()
                .unwrap_or(body)
                .trim_end()
                .to_string()
        })
        .collect();
    assert_eq!(bodies[1], bodies[0]);
    assert_eq!(bodies[2], bodies[0]);
}

/// The aiosmtpd spool's record of the message holding `subject`: the
/// envelope as the server saw it (JSON) and the message.
fn spooled(spool: &str, subject: &str) -> Vec<(serde_json::Value, Vec<u8>)> {
    let mut found = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(spool)
        .expect("the spool")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    for eml in names {
        let message = std::fs::read(&eml).unwrap_or_default();
        if !text(&message).contains(subject) {
            continue;
        }
        let json = std::fs::read_to_string(eml.with_extension("json")).expect("the envelope");
        found.push((serde_json::from_str(&json).expect("JSON"), message));
    }
    found
}

#[test]
#[ignore = "needs aiosmtpd, swaks and curl: scripts/test-servers start"]
fn exported_swaks_and_curl_with_starttls_and_auth_match_the_original_at_aiosmtpd() {
    let (host, port) = need_server("SMTPCLI_IT_AIOSMTPD");
    let spool = need("SMTPCLI_IT_AIOSMTPD_SPOOL");
    let ca = need("SMTPCLI_IT_CA");
    let user = need("SMTPCLI_IT_USER");
    let password = need("SMTPCLI_IT_PASSWORD");
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{password}\n")).unwrap();
    let subject = token("export-aiosmtpd");
    let lines = session_lines(&subject).replacen(
        "EHLO pc0815.example.com\n",
        &format!("EHLO pc0815.example.com\n:starttls\n:auth plain {user}\n"),
        1,
    );
    let out = smtpcli()
        .args(["--color", "never", "--ca-file", &ca])
        .arg("--password-file")
        .arg(&password_file)
        .args([&host, &port])
        .write_stdin(lines)
        .output()
        .unwrap();
    let transcript = text(&out.stdout);
    assert!(out.status.success(), "{transcript}{}", text(&out.stderr));
    assert!(!transcript.contains(&password), "{transcript}");
    let found = commands(&transcript);
    assert_eq!(found.len(), 2, "{transcript}");
    for command in &found {
        assert!(command.contains("\"$SMTP_PASSWORD\"") || command.contains(":$SMTP_PASSWORD\""));
        assert!(!command.contains(&password), "{command}");
    }
    let (swaks, curl) = (&found[0], &found[1]);
    assert!(
        swaks.contains("--tls") && swaks.contains("--auth PLAIN"),
        "{swaks}"
    );
    assert!(curl.contains("--ssl-reqd"), "{curl}");
    run(swaks, &[("SMTP_PASSWORD", &password)]);
    run(
        curl,
        &[
            ("SMTP_PASSWORD", &password),
            ("CURL_CA_BUNDLE", &ca),
            ("CURL_HOME", "/nonexistent"),
        ],
    );
    let spooled = spooled(&spool, &subject);
    assert_eq!(spooled.len(), 3, "the original and two replays");
    let (original, message) = &spooled[0];
    for key in ["mail_from", "rcpt_tos", "helo", "tls", "auth"] {
        assert!(!original[key].is_null(), "{key}: {original}");
    }
    for (replayed, replayed_message) in &spooled[1..] {
        for key in ["mail_from", "rcpt_tos", "helo", "tls", "auth"] {
            assert_eq!(replayed[key], original[key], "{key}");
        }
        assert_eq!(text(replayed_message), text(message));
    }
}

#[test]
fn export_script_is_what_save_writes_and_secrets_stay_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.smtp");
    let server = crate::support::fake_server::FakeServer::start(vec![
        crate::support::fake_server::send("220 mail.example.org ESMTP"),
        crate::support::fake_server::expect("EHLO pc0815.example.com"),
        crate::support::fake_server::send("250 mail.example.org"),
        crate::support::fake_server::expect("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
        crate::support::fake_server::send("235 2.7.0 Authentication successful"),
        crate::support::fake_server::expect("QUIT"),
        crate::support::fake_server::send("221 Bye"),
        crate::support::fake_server::Step::Close,
    ]);
    let out = smtpcli()
        .args(["--color", "never", "127.0.0.1", &server.port()])
        .write_stdin(format!(
            "EHLO pc0815.example.com\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\n:export script\n:save {}\n:export swaks\n",
            saved.display()
        ))
        .output()
        .unwrap();
    server.finish();
    let transcript = text(&out.stdout);
    assert!(out.status.success(), "{transcript}");
    let script = std::fs::read_to_string(&saved).unwrap();
    for line in script.lines() {
        assert!(
            transcript.lines().any(|l| l == line),
            "{line}\n{transcript}"
        );
    }
    assert!(
        !transcript.contains("AGFsaWNlAHNlY3JldA==\n"),
        "{transcript}"
    );
    assert!(
        transcript
            .contains("--auth PLAIN --auth-user \"$SMTP_USER\" --auth-password \"$SMTP_PASSWORD\""),
        "{transcript}"
    );
    assert!(transcript.contains("--quit-after AUTH"), "{transcript}");
}

/// Every message in `maildir/new` holding `token`, once `count` are there
/// (delivery is asynchronous); panics after 30 s with what was found.
fn delivered(maildir: &str, token: &str, count: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let found: Vec<String> = std::fs::read_dir(Path::new(maildir).join("new"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.metadata().is_ok_and(|m| m.len() < 1024 * 1024))
                    .filter_map(|e| std::fs::read(e.path()).ok())
                    .map(|bytes| text(&bytes))
                    .filter(|mail| mail.contains(token))
                    .collect()
            })
            .unwrap_or_default();
        if found.len() >= count || std::time::Instant::now() > deadline {
            assert_eq!(found.len(), count, "{found:#?}");
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What Postfix says of the envelope in a delivered message (Return-Path,
/// Delivered-To), and the message from its Subject on without the headers
/// Postfix adds itself (a Message-Id and a Date differ every time).
fn envelope_and_text(mail: &str) -> (Vec<&str>, Vec<&str>) {
    let envelope = mail
        .lines()
        .filter(|l| l.starts_with("Return-Path:") || l.starts_with("Delivered-To:"))
        .collect();
    let from_subject = mail.find("Subject:").map_or("", |at| &mail[at..]);
    let text = from_subject
        .lines()
        .filter(|l| !l.starts_with("Message-Id:") && !l.starts_with("Date:"))
        .collect();
    (envelope, text)
}

#[test]
#[ignore = "needs Postfix (submission), swaks and curl: scripts/test-servers start"]
fn exported_swaks_and_curl_deliver_through_postfix_as_the_original_did() {
    let (host, port) = need_server("SMTPCLI_IT_SUBMISSION");
    let ca = need("SMTPCLI_IT_CA");
    let user = need("SMTPCLI_IT_USER");
    let password = need("SMTPCLI_IT_PASSWORD");
    let maildir_a = need("SMTPCLI_IT_MAILDIR");
    let maildir_b = need("SMTPCLI_IT_MAILDIR_B");
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, format!("{password}\n")).unwrap();
    let subject = token("export-postfix");
    let sender = format!("{user}@{}", need("SMTPCLI_IT_HOSTNAME"));
    let lines = session_lines(&subject)
        .replacen(
            "EHLO pc0815.example.com\n",
            &format!("EHLO pc0815.example.com\n:starttls\n:auth plain {user}\n"),
            1,
        )
        .replace("<zweiter@example.org>", "<b@example.org>")
        // Submission takes only the login's own address as the sender.
        .replace("<absender@example.org>", &format!("<{sender}>"));
    let out = smtpcli()
        .args(["--color", "never", "--ca-file", &ca])
        .arg("--password-file")
        .arg(&password_file)
        .args([&host, &port])
        .write_stdin(lines)
        .output()
        .unwrap();
    let transcript = text(&out.stdout);
    assert!(out.status.success(), "{transcript}{}", text(&out.stderr));
    let found = commands(&transcript);
    assert_eq!(found.len(), 2, "{transcript}");
    run(&found[0], &[("SMTP_PASSWORD", &password)]);
    run(
        &found[1],
        &[
            ("SMTP_PASSWORD", &password),
            ("CURL_CA_BUNDLE", &ca),
            ("CURL_HOME", "/nonexistent"),
        ],
    );
    for maildir in [&maildir_a, &maildir_b] {
        let mails = delivered(maildir, &subject, 3);
        let first = envelope_and_text(&mails[0]);
        assert!(
            first
                .0
                .contains(&format!("Return-Path: <{sender}>").as_str()),
            "{}",
            mails[0]
        );
        for mail in &mails[1..] {
            assert_eq!(envelope_and_text(mail), first, "{mail}");
        }
    }
}
