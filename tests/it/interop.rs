//! Interop against real servers (Postfix, aiosmtpd) started by `.ci/run` or
//! `scripts/test-servers start`. Each test is ignored unless asked for
//! (`--include-ignored`) and reads its server's address from the
//! environment; a variable not set is a failure.

use std::time::Duration;

use crate::support::{need, need_server, smtpcli, text, token, wait_for_mail};

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_reference_dialog_piped_delivers_the_message() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let maildir = need("SMTPCLI_IT_MAILDIR");
    let token = token("reference");
    let input = format!(
        "helo pc0815.example.com\nmail from:absender@example.org\nrcpt to:empfaenger@example.org\n\
         data\nSubject: {token}\n\nDies ist eine Testmail.\n.leading dot\n.\nquit\n"
    );
    let out = smtpcli()
        .args(["--color", "never", &host, &port])
        .write_stdin(input)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("<< 220 mailserver.example.com ESMTP Postfix (Debian/GNU)"));
    assert!(stdout.contains("<< 250 2.1.5 Ok"), "{stdout}");
    assert!(stdout.contains("<< 221 2.0.0 Bye"), "{stdout}");
    let mail = wait_for_mail(&maildir, &token, Duration::from_secs(15))
        .expect("the message is in the Maildir");
    let mail = text(&mail);
    assert!(
        mail.contains("\nDies ist eine Testmail.\n.leading dot\n"),
        "{mail}"
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_sees_no_pipelining_when_the_dialog_is_pasted_at_once() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let log = need("SMTPCLI_IT_POSTFIX_LOG");
    let token = token("pacing");
    // Postfix names the out-of-turn text in its complaint; the token in the
    // sender address lets this test find a complaint about its own session.
    let input = format!(
        "ehlo pc0815.example.com\nmail from:<{token}@example.org>\nrcpt to:<empfaenger@example.org>\n\
         data\nSubject: {token}\n\nbody\n.\nquit\n"
    );
    let out = smtpcli()
        .args([&host, &port])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // Postfix logs when the session ends, which it has (221 seen, closed).
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let complaints: Vec<&str> = logged
        .lines()
        .filter(|l| l.contains("improper command pipelining") && l.contains(&token))
        .collect();
    assert!(complaints.is_empty(), "{complaints:?}");
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_refuses_an_unknown_user_with_5_1_1_explained() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let out = smtpcli()
        .args(["--color", "never", &host, &port])
        .write_stdin(
            "ehlo pc0815.example.com\nmail from:<a@example.org>\nrcpt to:<nosuchuser@example.org>\n\
             data\nSubject: never sent\n\n.\nquit\n",
        )
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("<< 550 5.1.1 <nosuchuser@example.org>"),
        "{stdout}"
    );
    assert!(
        stdout.contains("5.1.1 Bad destination mailbox address"),
        "{stdout}"
    );
    assert!(stdout.contains("message lines dropped"), "{stdout}");
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_idle_timeout_421_arrives_unasked() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP_IDLE");
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_smtpcli"))
        .args(["--color", "never", &host, &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"ehlo pc0815.example.com\n").unwrap();
    // Postfix (smtpd_timeout=5s) sends 421 and closes; smtpcli then exits
    // by itself although its input is still open.
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("<< 421 4.4.2 mailserver.example.com Error: timeout exceeded"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# Connection closed by foreign host."),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(75), "{stdout}");
}
