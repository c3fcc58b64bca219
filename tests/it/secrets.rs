//! The secrets audit: after AUTH with each mechanism, scripted and at the
//! interactive prompt, the password, its base64 forms and the AUTH PLAIN
//! blob appear nowhere: not on the screen (every byte written to the
//! terminal), not in `--json` output, not in a `:log` transcript, not in the
//! history file.

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{smtpcli, text};

const PASSWORD: &str = "Hunter2x";

/// Every form the password can leak in (alice / Hunter2x): the password,
/// its base64, the PLAIN blob, the XOAUTH2 blob, and the CRAM-MD5 response
/// to RFC 2195's challenge.
const FORMS: [&str; 5] = [
    PASSWORD,
    "SHVudGVyMng",
    "AGFsaWNlAEh1bnRlcjJ4",
    "dXNlcj1hbGljZQFhdXRoPUJlYXJlciBIdW50ZXIyeAEB",
    "YWxpY2UgYjk2YTE5OGFjYzkxZWU5NDRjMzVlYzMxMDZlZGQ0MmE",
];

const CHALLENGE: &str = "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+";

/// A server that takes PLAIN, LOGIN, CRAM-MD5 and XOAUTH2 in a row (each
/// refused but the last, so the next may follow).
fn auth_server(greeting: bool) -> FakeServer {
    let mut script = vec![send("220 fake ESMTP")];
    if greeting {
        script.extend([
            expect("EHLO client.example.org"),
            send("250-fake"),
            send("250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2"),
        ]);
    }
    script.extend([
        expect("AUTH PLAIN AGFsaWNlAEh1bnRlcjJ4"),
        send("535 5.7.8 no"),
        expect("AUTH LOGIN"),
        send("334 VXNlcm5hbWU6"),
        expect("YWxpY2U="),
        send("334 UGFzc3dvcmQ6"),
        expect("SHVudGVyMng="),
        send("535 5.7.8 no"),
        expect("AUTH CRAM-MD5"),
        send(CHALLENGE),
        expect("YWxpY2UgYjk2YTE5OGFjYzkxZWU5NDRjMzVlYzMxMDZlZGQ0MmE="),
        send("535 5.7.8 no"),
        expect("AUTH XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciBIdW50ZXIyeAEB"),
        send("235 2.7.0 ok"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    FakeServer::start(script)
}

const AUTHS: &str =
    ":auth plain alice\n:auth login alice\n:auth cram-md5 alice\n:auth xoauth2 alice\n";

fn assert_clean(what: &str, text: &str) {
    // "[secret redacted" is the marker that replaces a secret; it is not one.
    let visible = text.replace("[secret redacted", "");
    for form in FORMS {
        assert!(!visible.contains(form), "{form:?} found in {what}:\n{text}");
    }
}

#[test]
fn scripted_auth_leaves_no_secret_in_the_transcript_the_log_or_json() {
    for json in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("session.log");
        let server = auth_server(false);
        let mut args = vec!["--insecure", "--color", "never"];
        if json {
            args.push("--json");
        }
        let out = smtpcli()
            .env("SMTPCLI_PASSWORD", PASSWORD)
            .args(&args)
            .args(["127.0.0.1", &server.port()])
            .write_stdin(format!(":log {}\n{AUTHS}", log.display()))
            .output()
            .unwrap();
        server.finish();
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "the 535s count:\n{stdout}");
        assert_clean(
            if json {
                "--json output"
            } else {
                "the transcript"
            },
            &stdout,
        );
        assert_clean("stderr", &text(&out.stderr));
        assert_clean("the :log file", &std::fs::read_to_string(&log).unwrap());
    }
}

#[cfg(unix)]
#[test]
fn interactive_auth_leaves_no_secret_on_screen_in_history_or_the_log() {
    use crate::support::pty;
    let server = auth_server(true);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("session.log");
    let port = server.port();
    let mut pty = pty::spawn(&["--insecure", "127.0.0.1", &port], &[]);
    let prompt = format!("127.0.0.1:{port}> ");
    pty.wait_prompt(&prompt);
    pty.send(&format!(":log {}\r", log.display()));
    pty.wait_text("logging the transcript");
    pty.wait_prompt(&prompt);
    pty.send("EHLO client.example.org\r");
    pty.wait_text("250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2");
    for (mechanism, asked, done) in [
        ("plain", "password for alice: ", "<< 535 5.7.8 no"),
        ("login", "password for alice: ", "challenge: \"Password:\""),
        ("cram-md5", "password for alice: ", "challenge: \"<1896"),
        ("xoauth2", "OAuth2 token for alice: ", "<< 235 2.7.0 ok"),
    ] {
        pty.wait_prompt(&prompt);
        let asked_before = String::from_utf8_lossy(&pty.raw()).matches(asked).count();
        pty.send(&format!(":auth {mechanism} alice\r"));
        // Asked with echo off, on the terminal itself: wait for this
        // question, not one still on the screen from before.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while String::from_utf8_lossy(&pty.raw()).matches(asked).count() == asked_before {
            assert!(
                std::time::Instant::now() < deadline,
                "not asked:\n{}",
                pty.text()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        pty.wait_echo_off();
        pty.send(&format!("{PASSWORD}\r"));
        pty.wait_text(done);
    }
    pty.wait_prompt(&format!("127.0.0.1:{port} alice> "));
    pty.send("QUIT\r");
    pty.leave_after_quit();
    assert_eq!(pty.exit_code(), 0, "{}", pty.text());
    server.finish();
    assert_clean("the terminal", &String::from_utf8_lossy(&pty.raw()));
    let history = std::fs::read_to_string(pty.history_file()).unwrap_or_default();
    assert!(history.contains(":auth plain alice"), "{history}");
    assert_clean("the history file", &history);
    assert_clean("the :log file", &std::fs::read_to_string(&log).unwrap());
}

/// A server that echoes the credentials back (in a 535, and as a 334
/// challenge): what it says is redacted on screen and in `--json`, and the
/// echoed PLAIN blob is never decoded into the password.
#[test]
fn credentials_echoed_by_the_server_are_redacted() {
    for json in [false, true] {
        let server = FakeServer::start(vec![
            send("220 fake ESMTP"),
            expect("EHLO client.example.org"),
            send("250-fake"),
            send("250 AUTH PLAIN LOGIN"),
            expect("AUTH PLAIN AGFsaWNlAEh1bnRlcjJ4"),
            send("535 5.7.8 AGFsaWNlAEh1bnRlcjJ4 (alice/Hunter2x) is wrong"),
            expect("AUTH LOGIN"),
            send("334 VXNlcm5hbWU6"),
            expect("YWxpY2U="),
            send("334 AGFsaWNlAEh1bnRlcjJ4"),
            expect("SHVudGVyMng="),
            send("535 5.7.8 SHVudGVyMng= no"),
            expect("QUIT"),
            send("221 Bye"),
            Step::Close,
        ]);
        let mut cmd = smtpcli();
        cmd.args(["--color", "never", "--insecure", "--user", "alice"]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .args(["127.0.0.1", &server.port()])
            .env("SMTPCLI_PASSWORD", PASSWORD)
            .write_stdin("EHLO client.example.org\n:auth plain\n:auth login\n")
            .output()
            .unwrap();
        server.finish();
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        for form in FORMS {
            assert!(!all.contains(form), "json {json}: {form} shown in\n{all}");
        }
        assert!(all.contains("[secret redacted]"), "{all}");
    }
}

// SCRAM, OAUTHBEARER and bearer tokens: every form each secret goes out in
// (the password; SCRAM's client-final message, as sent and decoded, and its
// proof; the token; the OAUTHBEARER and XOAUTH2 initial responses), from
// `--token-cmd` and from `SMTPCLI_TOKEN`.

const TOKEN: &str = "Tok3n-Secret-4711";

/// A server for `:auth scram-sha-256 alice` (right signature), then
/// `:auth oauthbearer alice` (refused: the error step) and `:auth xoauth2
/// alice` (accepted). What the client sent is handed back for the audit.
fn token_server(
    greeting: bool,
) -> (
    FakeServer,
    std::sync::Arc<std::sync::Mutex<crate::support::scram::Seen>>,
    std::sync::mpsc::Receiver<String>,
) {
    use crate::support::fake_server::answer;
    use crate::support::scram::{self, Finale};
    let (scram_steps, seen) = scram::steps("alice", PASSWORD, Finale::Right);
    let (tx, rx) = std::sync::mpsc::channel();
    let mut script = vec![send("220 fake ESMTP")];
    if greeting {
        script.extend([
            expect("EHLO client.example.org"),
            send("250-fake"),
            send("250 AUTH SCRAM-SHA-256 OAUTHBEARER XOAUTH2"),
        ]);
    }
    script.extend(scram_steps);
    let oauth_tx = tx.clone();
    script.extend([
        answer(move |line| {
            oauth_tx.send(line.to_string()).map_err(|e| e.to_string())?;
            Ok("334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=".into())
        }),
        expect("AQ=="),
        send("535 5.7.8 no"),
        answer(move |line| {
            tx.send(line.to_string()).map_err(|e| e.to_string())?;
            Ok("235 2.7.0 ok".into())
        }),
    ]);
    (FakeServer::start(script), seen, rx)
}

/// Every form of the new secrets, as the server received them.
fn token_forms(
    seen: &std::sync::Arc<std::sync::Mutex<crate::support::scram::Seen>>,
    sent: &std::sync::mpsc::Receiver<String>,
) -> Vec<String> {
    let seen = seen.lock().unwrap().clone();
    let mut forms = vec![
        PASSWORD.to_string(),
        TOKEN.to_string(),
        seen.client_final_wire.clone(),
        seen.client_final.clone(),
        seen.proof.clone(),
    ];
    for line in sent.try_iter() {
        let (_, ir) = line.rsplit_once(' ').unwrap();
        forms.push(ir.trim_end_matches('=').to_string());
    }
    assert_eq!(forms.len(), 7, "both token mechanisms were seen: {forms:?}");
    assert!(forms.iter().all(|f| f.len() >= 8), "{forms:?}");
    forms
}

fn assert_absent(what: &str, text: &str, forms: &[String]) {
    let visible = text.replace("[secret redacted", "");
    for form in forms {
        assert!(
            !visible.contains(form.as_str()),
            "{form:?} found in {what}:\n{text}"
        );
    }
}

const TOKEN_AUTHS: &str =
    ":auth scram-sha-256 alice\n:auth oauthbearer alice\n:auth xoauth2 alice\n";

#[test]
fn scram_and_token_secrets_stay_out_of_the_transcript_json_log_and_save() {
    for json in [false, true] {
        for from_command in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let (log, save) = (
                dir.path().join("session.log"),
                dir.path().join("saved.smtp"),
            );
            let (server, seen, sent) = token_server(false);
            let mut cmd = smtpcli();
            cmd.env("SMTPCLI_PASSWORD", PASSWORD)
                .env_remove("SMTPCLI_TOKEN")
                .args(["--insecure", "--color", "never"]);
            if json {
                cmd.arg("--json");
            }
            if from_command {
                cmd.args(["--token-cmd", &format!("echo {TOKEN}")]);
            } else {
                cmd.env("SMTPCLI_TOKEN", TOKEN);
            }
            let out = cmd
                .args(["127.0.0.1", &server.port()])
                .write_stdin(format!(
                    ":log {}\n{TOKEN_AUTHS}:save {}\n",
                    log.display(),
                    save.display()
                ))
                .output()
                .unwrap();
            server.finish();
            let forms = token_forms(&seen, &sent);
            let stdout = text(&out.stdout);
            assert_eq!(out.status.code(), Some(1), "the 535 counts:\n{stdout}");
            let case = format!("json {json}, token from a command {from_command}");
            assert_absent(&format!("stdout ({case})"), &stdout, &forms);
            assert_absent(&format!("stderr ({case})"), &text(&out.stderr), &forms);
            assert_absent(
                "the :log file",
                &std::fs::read_to_string(&log).unwrap(),
                &forms,
            );
            let saved = std::fs::read_to_string(&save).unwrap();
            assert!(saved.contains(":auth oauthbearer alice"), "{saved}");
            assert_absent("the :save file", &saved, &forms);
        }
    }
}

#[cfg(unix)]
#[test]
fn interactive_scram_and_token_auth_leave_no_secret_on_screen_or_in_history() {
    use crate::support::pty;
    let (server, seen, sent) = token_server(true);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("session.log");
    let port = server.port();
    let command = format!("echo {TOKEN}");
    let mut pty = pty::spawn(
        &["--insecure", "--token-cmd", &command, "127.0.0.1", &port],
        &[],
    );
    let prompt = format!("127.0.0.1:{port}> ");
    pty.wait_prompt(&prompt);
    pty.send(&format!(":log {}\r", log.display()));
    pty.wait_text("logging the transcript");
    pty.wait_prompt(&prompt);
    pty.send("EHLO client.example.org\r");
    pty.wait_text("250 AUTH SCRAM-SHA-256 OAUTHBEARER XOAUTH2");
    pty.wait_prompt(&prompt);
    pty.send(":auth scram-sha-256 alice\r");
    pty.wait_text("password for alice: ");
    pty.wait_echo_off();
    pty.send(&format!("{PASSWORD}\r"));
    pty.wait_text("the server's signature verifies");
    let authed = format!("127.0.0.1:{port} alice> ");
    pty.wait_prompt(&authed);
    // The token comes from --token-cmd: nothing is asked.
    pty.send(":auth oauthbearer alice\r");
    pty.wait_text("<< 535 5.7.8 no");
    pty.wait_prompt(&authed);
    pty.send(":auth xoauth2 alice\r");
    pty.wait_text("<< 235 2.7.0 ok");
    pty.wait_prompt(&authed);
    pty.send("QUIT\r");
    pty.leave_after_quit();
    server.finish();
    let forms = token_forms(&seen, &sent);
    assert_absent("the terminal", &String::from_utf8_lossy(&pty.raw()), &forms);
    let history = std::fs::read_to_string(pty.history_file()).unwrap_or_default();
    assert!(history.contains(":auth oauthbearer alice"), "{history}");
    assert_absent("the history file", &history, &forms);
    assert_absent(
        "the :log file",
        &std::fs::read_to_string(&log).unwrap(),
        &forms,
    );
}
#[test]
fn the_one_line_send_leaves_no_secret_in_the_transcript_or_json() {
    for json in [false, true] {
        let server = FakeServer::start(vec![
            send("220 fake ESMTP"),
            expect("EHLO client.example.org"),
            send("250-fake\r\n250 AUTH PLAIN LOGIN"),
            expect("AUTH PLAIN AGFsaWNlAEh1bnRlcjJ4"),
            send("235 2.7.0 ok"),
            expect("MAIL FROM:<alice@example.org>"),
            send("250 2.1.0 Ok"),
            expect("RCPT TO:<b@example.org>"),
            send("250 2.1.5 Ok"),
            expect("DATA"),
            send("354 go ahead"),
            Step::ReadMessage,
            send("250 2.0.0 Ok: queued"),
            expect("QUIT"),
            send("221 Bye"),
            Step::Close,
        ]);
        let mut args = vec![
            "--insecure",
            "--color",
            "never",
            "--ehlo",
            "client.example.org",
            "--auth",
            "plain:alice",
            "--from",
            "alice@example.org",
            "--to",
            "b@example.org",
        ];
        if json {
            args.push("--json");
        }
        let out = smtpcli()
            .env("SMTPCLI_PASSWORD", PASSWORD)
            .args(&args)
            .args(["127.0.0.1", &server.port()])
            .output()
            .unwrap();
        server.finish();
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert!(all.contains("235"), "{all}");
        assert_clean(if json { "json" } else { "the transcript" }, &all);
    }
}
