//! Scripts with expectations, `--quit-after`, and `--json` events.

use std::time::Duration;

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{need, need_server, smtpcli, text, token, wait_for_mail};

/// A fake server that answers a four-command dialog; the RCPT reply is chosen.
fn dialog_server(rcpt_reply: &str) -> FakeServer {
    FakeServer::start(vec![
        send("220 fake.example.org ESMTP"),
        expect("EHLO client.example.org"),
        send("250-fake.example.org"),
        send("250 ENHANCEDSTATUSCODES"),
        expect("MAIL FROM:<a@example.org>"),
        send("250 2.1.0 Ok"),
        expect("RCPT TO:<b@example.org>"),
        send(rcpt_reply),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ])
}

const DIALOG: &str = "\
# a comment, not sent
EHLO client.example.org
:expect 250
MAIL FROM:<a@example.org>
:expect 2xx
RCPT TO:<b@example.org>
:expect 250|251
";

fn run_script(server: &FakeServer, script: &str, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&str> = extra.to_vec();
    let port = server.port();
    args.extend(["--color", "never", "--script", "-", "127.0.0.1", &port]);
    smtpcli().args(&args).write_stdin(script).output().unwrap()
}

#[test]
fn a_clean_run_exits_0() {
    let server = dialog_server("250 2.1.5 Ok");
    let out = run_script(&server, DIALOG, &[]);
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("# expect 250|251: ok"), "{stdout}");
    assert!(
        !stdout.contains("a comment"),
        "comments are not sent or shown"
    );
}

#[test]
fn a_failed_expectation_on_a_rejection_exits_1() {
    let server = dialog_server("550 5.1.1 <b@example.org>: User unknown");
    let out = run_script(&server, DIALOG, &[]);
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("# warning: expect 250|251: FAILED, got 550 5.1.1"),
        "{stdout}"
    );
    // The last line says which step decided the exit code, and why.
    assert_eq!(
        stdout.lines().last(),
        Some(
            "# warning: exit 1: :expect 250|251 failed at RCPT TO:<b@example.org>: \
             550 5.1.1 <b@example.org>: User unknown"
        ),
        "{stdout}"
    );
}

#[test]
fn a_temporary_failure_alone_exits_75() {
    let server = dialog_server("450 4.7.1 <b@example.org>: Recipient address rejected: Greylisted");
    let out = run_script(&server, DIALOG, &[]);
    server.finish();
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stdout));
    assert_eq!(
        text(&out.stdout).lines().last(),
        Some(
            "# warning: exit 75: :expect 250|251 failed at RCPT TO:<b@example.org>: \
             450 4.7.1 <b@example.org>: Recipient address rejected: Greylisted"
        )
    );

    // Without expectations, the 450 alone also means 75.
    let server = dialog_server("450 4.7.1 Greylisted, try again later");
    let plain: String = DIALOG
        .lines()
        .filter(|l| !l.starts_with(':'))
        .map(|l| format!("{l}\n"))
        .collect();
    let out = run_script(&server, &plain, &[]);
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(75), "{stdout}");
    assert!(stdout.contains("greylisting"), "{stdout}");
}

#[test]
fn an_expected_rejection_is_success() {
    let server = dialog_server("550 5.1.1 <b@example.org>: User unknown");
    let script = DIALOG.replace(":expect 250|251", ":expect 550 5.1.1");
    let out = run_script(&server, &script, &[]);
    server.finish();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn a_refused_connection_exits_2() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let out = smtpcli()
        .args(["--script", "-", "127.0.0.1", &port.to_string()])
        .write_stdin(DIALOG)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_missing_script_file_exits_2_before_connecting() {
    let out = smtpcli()
        .args(["--script", "/nonexistent/check.smtp", "127.0.0.1", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.trim(),
        "smtpcli: cannot read the script /nonexistent/check.smtp: No such file or directory"
    );
}

#[test]
fn a_mistyped_meta_command_stops_the_script_with_exit_2() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("NOOP"),
        send("250 2.0.0 Ok"),
        // Nothing after the bad line is sent.
        Step::ReadToEnd,
    ]);
    let out = run_script(&server, "NOOP\n:expcet 250\nRSET\n", &[]);
    let received = server.finish();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown meta-command :expcet; did you mean :expect?"));
    assert!(!text(&received).contains("RSET"));
}

#[test]
fn a_double_colon_sends_one_colon() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect(":weird command"),
        send("500 5.5.2 Error: command not recognized"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = run_script(&server, "::weird command\n:expect 500\n", &[]);
    server.finish();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn quit_after_rcpt_stops_before_data() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("EHLO x"),
        send("250 fake"),
        expect("MAIL FROM:<a@example.org>"),
        send("250 2.1.0 Ok"),
        expect("RCPT TO:<b@example.org>"),
        send("250 2.1.5 Ok"),
        expect("RCPT TO:<c@example.org>"),
        send("250 2.1.5 Ok"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = run_script(
        &server,
        "EHLO x\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nRCPT TO:<c@example.org>\nDATA\nbody\n.\n",
        &["--quit-after", "rcpt"],
    );
    server.finish();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn quit_after_banner_sends_only_quit() {
    let server = FakeServer::start(vec![
        send("220 fake"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = run_script(&server, "EHLO x\n", &["--quit-after", "banner"]);
    server.finish();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

/// A fixed dialog whose JSON output is pinned (times and ports masked).
fn json_dialog() -> (FakeServer, &'static str) {
    let server = FakeServer::start(vec![
        send("220 fake.example.org ESMTP"),
        expect("EHLO client.example.org"),
        send("250-fake.example.org"),
        send("250 AUTH PLAIN"),
        expect("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
        send("235 2.7.0 Authentication successful"),
        expect("RCPT TO:<x@example.org>"),
        Step::Send(b"550 5.1.1 \x1b[2J \xff unknown\r\n".to_vec()),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ]);
    let script = "EHLO client.example.org\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\n:expect 235\n\
                  RCPT TO:<x@example.org>\n:expect 250\n";
    (server, script)
}

fn mask(line: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
    for key in ["t_ms", "latency_ms", "connect_ms"] {
        if v.get(key).is_some() {
            v[key] = serde_json::json!("*");
        }
    }
    for key in ["local", "peer", "port"] {
        if v.get(key).is_some() {
            v[key] = serde_json::json!("*");
        }
    }
    v
}

#[test]
fn json_events_validate_against_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/events.v1.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let (server, script) = json_dialog();
    let out = run_script(&server, script, &["--json"]);
    server.finish();
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    for line in stdout.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{line}\n{errors:?}");
    }
    // And the schema is not vacuous: a wrong event fails it.
    let bad = serde_json::json!({"v": 1, "event": "reply", "t_ms": 0, "code": "250"});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn json_output_is_pinned_by_a_golden_file() {
    let (server, script) = json_dialog();
    let out = run_script(&server, script, &["--json"]);
    server.finish();
    let got: Vec<serde_json::Value> = text(&out.stdout).lines().map(mask).collect();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/golden/json-dialog.jsonl"
    );
    if std::env::var_os("SMTPCLI_BLESS").is_some() {
        let lines: Vec<String> = got.iter().map(|v| v.to_string()).collect();
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }
    let want: Vec<serde_json::Value> = std::fs::read_to_string(path)
        .expect("golden file (SMTPCLI_BLESS=1 cargo test writes it)")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    // Secrets never appear, in any form.
    let raw = text(&out.stdout);
    assert!(!raw.contains("AGFsaWNlAHNlY3JldA=="));
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_delivers_body_lines_starting_with_hash_colon_and_dot_intact() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let maildir = need("SMTPCLI_IT_MAILDIR");
    let token = token("script-body");
    let script = format!(
        "EHLO pc0815.example.com\n:expect 250\nMAIL FROM:<a@example.org>\n:expect 250\n\
         RCPT TO:<empfaenger@example.org>\n:expect 250\nDATA\n:expect 354\nSubject: {token}\n\n\
         # not a comment\n:expect 999 not a meta-command\n.leading dot\n..two dots\n.\n:expect 250\n"
    );
    let out = smtpcli()
        .args(["--script", "-", &host, &port])
        .write_stdin(script)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let mail = wait_for_mail(&maildir, &token, Duration::from_secs(15)).expect("delivered");
    let mail = text(&mail);
    // The `:expect 354` right after DATA checked the 354; it is not text.
    assert!(
        !mail.contains(":expect 354")
            && mail.contains(&format!("\nSubject: {token}\n"))
            && mail.contains(
                "\n# not a comment\n:expect 999 not a meta-command\n.leading dot\n..two dots\n"
            ),
        "{mail}"
    );
}

#[cfg(feature = "demo")]
#[test]
fn json_events_of_tls_auth_and_send_validate_too() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/events.v1.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let out = smtpcli()
        .args(["--json", "--demo"])
        .write_stdin(
            "EHLO demo.example.org\n:starttls\n:auth plain demo\n\
             :send --to a@example.org --to nosuchuser@example.org\n:raw \"NOOP\\r\\n\"\n:demo inbox\n",
        )
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let mut kinds = std::collections::BTreeSet::new();
    for line in stdout.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{line}\n{errors:?}");
        kinds.insert(event["event"].as_str().unwrap_or("").to_string());
    }
    for kind in ["tls", "delivery", "info", "sent", "reply", "end"] {
        assert!(kinds.contains(kind), "no {kind} event in:\n{stdout}");
    }
}

/// A server that takes one message and checks its text line by line.
fn data_server(data_reply: &str) -> FakeServer {
    FakeServer::start(vec![
        send("220 fake.example.org ESMTP"),
        expect("MAIL FROM:<a@example.org>"),
        send("250 2.1.0 Ok"),
        expect("RCPT TO:<b@example.org>"),
        send("250 2.1.5 Ok"),
        expect("DATA"),
        send(data_reply),
        expect("Subject: checked"),
        expect(""),
        expect(":expect 250"),
        expect("."),
        send("250 2.0.0 Ok: queued"),
        expect("QUIT"),
        send("221 2.0.0 Bye"),
        Step::Close,
    ])
}

const DATA_SCRIPT: &str = "\
MAIL FROM:<a@example.org>
RCPT TO:<b@example.org>
DATA
:expect 354
Subject: checked

:expect 250
.
:expect 250
";

#[test]
fn an_expect_right_after_data_checks_the_354_and_later_ones_are_text_with_a_note() {
    let server = data_server("354 go ahead");
    let out = run_script(&server, DATA_SCRIPT, &[]);
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("# expect 354: ok"), "{stdout}");
    assert!(
        stdout.contains(">> Subject: checked"),
        "the text went out:\n{stdout}"
    );
    let sent_as_text = stdout.find(">> :expect 250").expect("sent as text");
    let note = stdout
        .find("this line went out as message text: meta-commands such as :expect")
        .expect("a note");
    assert!(sent_as_text < note, "{stdout}");
}

#[test]
fn an_expect_354_fails_on_another_reply_to_data() {
    let server = FakeServer::start(vec![
        send("220 fake.example.org ESMTP"),
        expect("MAIL FROM:<a@example.org>"),
        send("250 2.1.0 Ok"),
        expect("RCPT TO:<b@example.org>"),
        send("250 2.1.5 Ok"),
        expect("DATA"),
        send("250 2.0.0 unexpected"),
        Step::Close,
    ]);
    let out = run_script(&server, DATA_SCRIPT, &[]);
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("# warning: expect 354: FAILED, got 250"),
        "{stdout}"
    );
}

#[test]
fn timing_puts_each_replys_latency_into_the_log_and_json_always_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("session.log");
    let server = FakeServer::start(vec![
        send("220 mail.example.org ESMTP"),
        expect("NOOP"),
        send("250 2.0.0 Ok"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = smtpcli()
        .args(["--color", "never", "127.0.0.1", &server.port()])
        .write_stdin(format!(":log {}\n:set timing on\nNOOP\n", log.display()))
        .output()
        .unwrap();
    server.finish();
    assert!(out.status.success(), "{}", text(&out.stdout));
    let logged = std::fs::read_to_string(&log).unwrap();
    let after_noop = logged
        .split("<< 250 2.0.0 Ok\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{logged}"));
    let note = after_noop.lines().next().unwrap_or_default();
    assert!(note.starts_with("# ") && note.ends_with(" ms"), "{logged}");

    let server = FakeServer::start(vec![
        send("220 mail.example.org ESMTP"),
        expect("NOOP"),
        send("250 2.0.0 Ok"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = smtpcli()
        .args(["--json", "127.0.0.1", &server.port()])
        .write_stdin("NOOP\n")
        .output()
        .unwrap();
    server.finish();
    let json = text(&out.stdout);
    let noop = json
        .lines()
        .find(|l| l.contains("\"reply\"") && l.contains("2.0.0 Ok"))
        .unwrap_or_else(|| panic!("{json}"));
    assert!(noop.contains("\"latency_ms\""), "{noop}");
}
