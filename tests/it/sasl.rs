//! SCRAM-SHA-256/-1, OAUTHBEARER and bearer tokens (`--token-cmd`,
//! `SMTPCLI_TOKEN`): against Cyrus SASL's SCRAM plugin in Postfix and an
//! aiosmtpd that checks tokens (real servers), and against a fake server
//! for what a real one will not do (a wrong signature, none at all, a stale
//! nonce).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::support::fake_server::{FakeServer, Step, answer, expect, send};
use crate::support::scram::{self, Finale};
use crate::support::{need, need_server, smtpcli, text};

/// Runs `lines` as a script against the fake server with `password`.
fn scripted(server: &FakeServer, password: &str, lines: &str) -> (Option<i32>, String) {
    let out = smtpcli()
        .env("SMTPCLI_PASSWORD", password)
        .args([
            "--color",
            "never",
            "--insecure",
            "127.0.0.1",
            &server.port(),
        ])
        .write_stdin(lines.to_string())
        .output()
        .unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    (out.status.code(), all)
}

fn scram_server(finale: Finale) -> FakeServer {
    let (steps, _) = scram::steps("alice", "pencil", finale);
    let mut script = vec![send("220 fake ESMTP")];
    script.extend(steps);
    script.extend([expect("QUIT"), send("221 Bye")]);
    FakeServer::start(script)
}

#[test]
fn scram_checks_the_servers_signature() {
    let server = scram_server(Finale::Right);
    let (code, out) = scripted(&server, "pencil", ":auth scram-sha-256 alice\nQUIT\n");
    server.finish();
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(">> AUTH SCRAM-SHA-256 [client-first n,,n=alice,r="),
        "{out}"
    );
    assert!(out.contains(">> [secret redacted, "), "{out}");
    assert!(
        out.contains("# SCRAM-SHA-256: the server's signature verifies (it knows the password)"),
        "{out}"
    );
    assert!(out.contains("<< 235 2.7.0"), "{out}");
}

/// Each way a server can fail to prove itself: a loud warning, the
/// exchange cancelled where it can be, and exit 1 with the reason last.
#[test]
fn scram_servers_that_do_not_prove_themselves_fail_loudly() {
    let table: &[(Finale, &str, &str)] = &[
        (
            Finale::WrongSignature,
            "SCRAM-SHA-256 failed: the server's signature is WRONG: it did not prove that it knows the password",
            ">> * (cancel)",
        ),
        (
            Finale::NoSignature,
            "SCRAM-SHA-256: the server said 235 without its signature: it did not prove that it knows the password",
            "<< 235 2.7.0",
        ),
        (
            Finale::ServerError,
            "SCRAM-SHA-256 failed: the server refused the SCRAM exchange: invalid-proof",
            "<< 535 5.7.8",
        ),
        (
            Finale::StaleNonce,
            "SCRAM-SHA-256 failed: the server's nonce does not extend the one smtpcli sent",
            ">> * (cancel)",
        ),
    ];
    for &(finale, warning, step) in table {
        let server = scram_server(finale);
        let (code, out) = scripted(&server, "pencil", ":auth scram-sha-256 alice\nQUIT\n");
        server.finish();
        assert_eq!(code, Some(1), "{finale:?}: {out}");
        assert!(
            out.contains(&format!("# warning: {warning}")),
            "{finale:?}: {out}"
        );
        assert!(out.contains(step), "{finale:?}: {out}");
        let last = out.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("# warning: exit 1: ") && last.contains("SCRAM-SHA-256"),
            "{finale:?}: the reason is not last: {out}"
        );
    }
}

/// OAUTHBEARER's initial response as RFC 7628 spells it (the user as
/// authorization identity, host and port of the server), and the error
/// step: the JSON challenge decoded and shown, answered with ^A.
#[test]
fn oauthbearer_sends_the_rfc7628_message_and_answers_an_error_with_ctrl_a() {
    let (tx, rx) = std::sync::mpsc::channel();
    let error = r#"{"status":"invalid_token","scope":"mail","openid-configuration":"https://auth.example.org/x"}"#;
    let server = FakeServer::start(vec![
        send("220 fake ESMTP"),
        answer(move |line| {
            tx.send(line.to_string()).map_err(|e| e.to_string())?;
            Ok(format!("334 {}", STANDARD.encode(error)))
        }),
        expect("AQ=="),
        send("535 5.7.8 Authentication credentials invalid"),
        expect("QUIT"),
        send("221 Bye"),
    ]);
    let port = server.port();
    let out = smtpcli()
        .env("SMTPCLI_TOKEN", "t0ken-from-env")
        .args(["--color", "never", "--insecure", "127.0.0.1", &port])
        .write_stdin(":auth oauthbearer alice\nQUIT\n")
        .output()
        .unwrap();
    server.finish();
    let stdout = text(&out.stdout);
    let line = rx.recv().unwrap();
    let ir = line.strip_prefix("AUTH OAUTHBEARER ").unwrap();
    assert_eq!(
        STANDARD.decode(ir).unwrap(),
        format!(
            "n,a=alice,\x01host=127.0.0.1\x01port={port}\x01auth=Bearer t0ken-from-env\x01\x01"
        )
        .into_bytes()
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(">> AUTH OAUTHBEARER [token for alice redacted]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# OAUTHBEARER error from the server: status invalid_token, scope \"mail\", openid-configuration \"https://auth.example.org/x\""),
        "{stdout}"
    );
    assert!(stdout.contains(">> AQ== (^A: "), "{stdout}");
    assert!(!stdout.contains("t0ken-from-env"), "{stdout}");
}

/// `--token-cmd` runs through the shell; a failure says how, never shows
/// what it printed, sends nothing, and ends a script with exit 2.
#[test]
fn token_cmd_failures_are_one_clear_line() {
    let table: &[(&str, &str)] = &[
        (
            "echo leaked-token-text; exit 3",
            "--token-cmd exited with 3: no token",
        ),
        ("printf '  \\n'", "--token-cmd printed nothing: no token"),
        (
            "printf 'abc\\001def'",
            ":auth oauthbearer refused: the token holds a control character",
        ),
    ];
    for &(command, want) in table {
        let server = FakeServer::start(vec![send("220 fake ESMTP"), Step::ReadToEnd]);
        let out = smtpcli()
            .args(["--color", "never", "--insecure", "--token-cmd", command])
            .args(["127.0.0.1", &server.port()])
            .write_stdin(":auth oauthbearer alice\n")
            .output()
            .unwrap();
        let received = text(&server.finish());
        assert!(!received.contains("AUTH"), "{command}: sent {received:?}");
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{command}: {all}");
        assert!(all.contains(want), "{command}: {all}");
        assert!(!all.contains("leaked-token-text"), "{command}: {all}");
        assert!(!all.contains("AUTH OAUTHBEARER"), "{command}: {all}");
    }
}

fn tls_args() -> Vec<String> {
    vec![
        "--color".into(),
        "never".into(),
        "--starttls".into(),
        "--ca-file".into(),
        need("SMTPCLI_IT_CA"),
    ]
}

/// Cyrus SASL's SCRAM plugin behind Postfix: both hashes authenticate and
/// the server's signature verifies; a wrong password is Postfix's 535.
#[test]
#[ignore = "needs Postfix with Cyrus SCRAM: scripts/test-servers start"]
fn postfix_cyrus_scram_sha256_and_sha1() {
    let (host, port) = need_server("SMTPCLI_IT_SCRAM");
    let (user, password) = (need("SMTPCLI_IT_USER"), need("SMTPCLI_IT_SCRAM_PASSWORD"));
    let run = |mechanism: &str, password: &str| {
        smtpcli()
            .env("SMTPCLI_PASSWORD", password)
            .args(tls_args())
            .args(["--script", "-", &host, &port])
            .write_stdin(format!(":auth {mechanism} {user}\n:expect 235\nQUIT\n"))
            .output()
            .unwrap()
    };
    for (mechanism, name) in [
        ("scram-sha-256", "SCRAM-SHA-256"),
        ("scram-sha-1", "SCRAM-SHA-1"),
    ] {
        let out = run(mechanism, &password);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
        assert!(
            stdout.contains(&format!("~> AUTH {name} [client-first n,,n={user},r=")),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("# {name}: the server's signature verifies")),
            "{stdout}"
        );
        assert!(
            stdout.contains("<~ 235 2.7.0 Authentication successful"),
            "{stdout}"
        );
        assert!(!stdout.contains(&password), "{stdout}");
    }
    let out = run("scram-sha-256", "not-the-password");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("<~ 535 5.7.8"), "{stdout}");
    assert!(!stdout.contains("not-the-password"), "{stdout}");
}

/// aiosmtpd with a token: OAUTHBEARER and XOAUTH2 from `--token-cmd` and
/// `SMTPCLI_TOKEN`; a wrong token gets RFC 7628's error challenge, shown
/// decoded and answered with ^A (the server refuses anything else).
#[test]
#[ignore = "needs aiosmtpd with OAuth: scripts/test-servers start"]
fn aiosmtpd_oauthbearer_and_xoauth2_with_tokens() {
    let (host, port) = need_server("SMTPCLI_IT_OAUTH");
    let token = need("SMTPCLI_IT_OAUTH_TOKEN");
    let run = |mechanism: &str, env_token: Option<&str>, command: Option<&str>| {
        let mut cmd = smtpcli();
        cmd.env_remove("SMTPCLI_TOKEN").args(tls_args());
        if let Some(t) = env_token {
            cmd.env("SMTPCLI_TOKEN", t);
        }
        if let Some(c) = command {
            cmd.args(["--token-cmd", c]);
        }
        cmd.args(["--script", "-", &host, &port])
            .write_stdin(format!(":auth {mechanism} alice\nQUIT\n"))
            .output()
            .unwrap()
    };
    let good_cmd = format!("printf '%s\\n' '{token}'");
    for (mechanism, env_token, command) in [
        ("oauthbearer", Some(token.as_str()), None),
        ("oauthbearer", None, Some(good_cmd.as_str())),
        ("xoauth2", None, Some(good_cmd.as_str())),
    ] {
        let out = run(mechanism, env_token, command);
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
        assert!(!stdout.contains(&token), "{stdout}");
    }
    let out = run("oauthbearer", None, Some(good_cmd.as_str()));
    assert!(
        text(&out.stdout).contains(&format!("(OAUTHBEARER, host=127.0.0.1 port={port})")),
        "host and port are sent: {}",
        text(&out.stdout)
    );

    let out = run("oauthbearer", Some("expired-token"), None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("# OAUTHBEARER error from the server: status invalid_token, scope \"https://mail.example.org/smtp\", openid-configuration \"https://auth.example.org/.well-known/openid-configuration\""),
        "{stdout}"
    );
    assert!(stdout.contains("~> AQ== (^A: "), "{stdout}");
    assert!(stdout.contains("<~ 535 5.7.8"), "{stdout}");
    assert!(!stdout.contains("expired-token"), "{stdout}");
}

/// `token_cmd` in the config file works as `--token-cmd` does.
#[test]
fn token_cmd_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "token_cmd = \"echo cfg-t0ken\"\n").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let server = FakeServer::start(vec![
        send("220 fake ESMTP"),
        answer(move |line| {
            tx.send(line.to_string()).map_err(|e| e.to_string())?;
            Ok("235 2.7.0 ok".into())
        }),
    ]);
    let out = smtpcli()
        .env("SMTPCLI_CONFIG", &config)
        .env("SMTPCLI_TOKEN", "not-this-one")
        .args([
            "--color",
            "never",
            "--insecure",
            "127.0.0.1",
            &server.port(),
        ])
        .write_stdin(":auth xoauth2 alice\n")
        .output()
        .unwrap();
    server.finish();
    let line = rx.recv().unwrap();
    let ir = line.strip_prefix("AUTH XOAUTH2 ").unwrap();
    assert_eq!(
        STANDARD.decode(ir).unwrap(),
        b"user=alice\x01auth=Bearer cfg-t0ken\x01\x01"
    );
    assert!(!text(&out.stdout).contains("cfg-t0ken"));
}
