//! `--audit`: verdicts with their evidence, the exit codes, JSON verdicts,
//! a fake server that keeps plaintext across STARTTLS, and the two Postfix
//! services of `scripts/test-servers` (strict and permissive), whose
//! difference the audit must report exactly.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{need, need_server, smtpcli, text};

const TO: &str = "empfaenger@mailserver.example.com";
const FROM: &str = "audit@example.org";

fn audit(args: &[&str], host: &str, port: &str) -> std::process::Output {
    smtpcli()
        .args(["--color", "never", "--timeout", "20", "--audit"])
        .args(args)
        .args([host, port])
        .output()
        .unwrap()
}

fn verdicts(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "verdict")
        .collect()
}

fn validate(stdout: &str) {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../schema/events.v1.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    for line in stdout.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{line}\n{errors:?}");
    }
}

#[test]
fn tests_that_send_an_envelope_need_from_and_to() {
    let out = smtpcli()
        .args(["--audit", "--tests", "relay", "127.0.0.1", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--audit needs --from ADDRESS and --to ADDRESS for relay"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_test_name_is_a_usage_error() {
    let out = smtpcli()
        .args(["--audit", "--tests", "smugling", "127.0.0.1", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no test is called 'smugling'"));
}

#[test]
fn an_address_with_a_line_break_is_refused_before_connecting() {
    let out = smtpcli()
        .args([
            "--audit",
            "--from",
            "a@example.org",
            "--to",
            "b@example.org\r\nRCPT TO:<x@y>",
        ])
        .args(["127.0.0.1", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--to wants a plain address"));
}

#[test]
fn an_audit_that_cannot_connect_exits_2_with_unknown_verdicts() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    drop(listener);
    let out = audit(
        &["--tests", "banner-leak,auth-plaintext"],
        "127.0.0.1",
        &port,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("UNKNOWN    banner-leak: the test could not finish"),
        "{stdout}"
    );
    assert!(
        stdout.contains("audit: 0 VULNERABLE, 2 UNKNOWN, 0 PASS"),
        "{stdout}"
    );
}

#[test]
fn a_banner_naming_its_software_is_reported_with_the_line_escaped() {
    let server = FakeServer::start(vec![
        send("220 mx.example.org ESMTP Exim 4.96 \x1b[2J\x1b]0;pwned\x07"),
        expect("EHLO pc0815.example.com"),
        send("250 mx.example.org Hello"),
        expect("QUIT"),
        send("221 bye"),
    ]);
    let out = audit(
        &["--ehlo", "pc0815.example.com", "--tests", "banner-leak"],
        "127.0.0.1",
        &server.port(),
    );
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "VULNERABLE banner-leak: the server gives away software 'exim', version '4.96'"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("<< 220 mx.example.org ESMTP Exim 4.96 \\e[2J"),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\x07'),
        "{stdout:?}"
    );
}

#[cfg(feature = "openssl")]
#[test]
fn starttls_injection_is_found_when_the_server_keeps_plaintext_across_the_handshake() {
    use crate::support::starttls_fake::StarttlsFake;
    let fake = StarttlsFake::start(true);
    let out = audit(
        &["--json", "--tests", "starttls-injection"],
        "127.0.0.1",
        &fake.port.to_string(),
    );
    let seen = fake.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    validate(&stdout);
    let found = verdicts(&stdout);
    assert_eq!(found.len(), 1, "{stdout}");
    assert_eq!(found[0]["test"], "starttls-injection");
    assert_eq!(found[0]["verdict"], "VULNERABLE", "{stdout}");
    let evidence: Vec<&str> = found[0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        evidence.contains(&">> STARTTLS") && evidence.contains(&">> NOOP"),
        "{evidence:?}"
    );
    assert!(
        evidence.contains(&"<~ 250 2.0.0 Ok (the NOOP sent before TLS)"),
        "{evidence:?}"
    );
    assert!(seen.contains(&"(plaintext) NOOP".to_string()), "{seen:?}");
    assert!(stdout.contains("\"event\":\"end\"") && stdout.contains("\"exit\":1"));
}

#[cfg(feature = "openssl")]
#[test]
fn starttls_injection_passes_when_the_server_discards_plaintext() {
    use crate::support::starttls_fake::StarttlsFake;
    let fake = StarttlsFake::start(false);
    let out = audit(
        &["--tests", "starttls-injection"],
        "127.0.0.1",
        &fake.port.to_string(),
    );
    fake.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("PASS       starttls-injection: the NOOP sent in plaintext with STARTTLS was not answered inside TLS"),
        "{stdout}"
    );
}

#[test]
fn a_smuggling_probe_the_server_answers_twice_is_vulnerable_and_its_bytes_are_exact() {
    // Replies as a server that ends the data at <LF>.<LF> gives them,
    // sent at once so they are there when the probe reads.
    let mut scripts = vec![vec![
        send("220 fake.example ESMTP"),
        expect("EHLO pc0815.example.com"),
        send("250 fake.example"),
        expect(&format!("MAIL FROM:<{FROM}>")),
        send("250 ok"),
        expect(&format!("RCPT TO:<{TO}>")),
        send("250 ok"),
        expect("DATA"),
        send("354 go"),
        send("250 queued as A\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued as B"),
        Step::SkipUntil(b"QUIT\r\n".to_vec()),
        send("221 bye"),
    ]];
    // The other variants find a server that turns them away at once.
    for _ in 1..11 {
        scripts.push(vec![send("554 5.3.2 not now"), Step::Close]);
    }
    let server = FakeServer::start_each(scripts);
    let out = audit(
        &[
            "--ehlo",
            "pc0815.example.com",
            "--tests",
            "smuggling",
            "--from",
            FROM,
            "--to",
            TO,
        ],
        "127.0.0.1",
        &server.port(),
    );
    let received = server.finish();
    let stdout = text(&out.stdout);
    // Only the first variant got a transaction.
    assert!(
        stdout.contains("VULNERABLE smuggling <LF>.<LF>: accepted as end of data"),
        "{stdout}"
    );
    assert!(stdout.contains("\\n.\\nMAIL FROM:"), "{stdout}");
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let received = text(&received);
    assert!(received.contains(&format!(
        "\n.\nMAIL FROM:<{FROM}>\r\nRCPT TO:<{TO}>\r\nDATA\r\n"
    )));
    assert!(received.ends_with("\r\n.\r\nQUIT\r\n"), "{received:?}");
}

// ---------------------------------------------------------------- Postfix

/// The `(test, case)` pairs with each verdict.
fn by_verdict(found: &[serde_json::Value], verdict: &str) -> BTreeSet<String> {
    found
        .iter()
        .filter(|v| v["verdict"] == verdict)
        .map(|v| match v["case"].as_str() {
            Some(case) => format!("{} {case}", v["test"].as_str().unwrap()),
            None => v["test"].as_str().unwrap().to_string(),
        })
        .collect()
}

fn token_of(found: &[serde_json::Value], case: &str) -> String {
    let v = found
        .iter()
        .find(|v| v["test"] == "smuggling" && v["case"] == case)
        .unwrap_or_else(|| panic!("no verdict for {case}"));
    let detail = v["detail"].as_str().unwrap();
    let start = detail.find("[token ").unwrap() + 7;
    detail[start..].trim_end_matches(']').to_string()
}

/// The messages in the Maildir that mention `token`, once delivery settles
/// (it is asynchronous): waits until `want` of them are there, or 15 s.
fn messages_with(maildir: &str, token: &str, want: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut found = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(format!("{maildir}/{sub}")) else {
                continue;
            };
            for entry in entries.flatten() {
                let body = std::fs::read(entry.path()).unwrap_or_default();
                let body = String::from_utf8_lossy(&body).into_owned();
                if body.contains(token) {
                    found.push(body);
                }
            }
        }
        if found.len() >= want || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn postfix_audit(var: &str) -> (std::process::Output, Vec<serde_json::Value>) {
    let (host, port) = need_server(var);
    let out = audit(&["--json", "--from", FROM, "--to", TO], &host, &port);
    let stdout = text(&out.stdout);
    validate(&stdout);
    let found = verdicts(&stdout);
    (out, found)
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_strict_passes_every_test() {
    let maildir = need("SMTPCLI_IT_MAILDIR");
    let (out, found) = postfix_audit("SMTPCLI_IT_AUDIT_STRICT");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(
        by_verdict(&found, "VULNERABLE"),
        BTreeSet::new(),
        "{stdout}"
    );
    assert_eq!(by_verdict(&found, "UNKNOWN"), BTreeSet::new(), "{stdout}");
    // Every test has its say: 11 smuggling variants, 9 relay rows and one
    // after a failed AUTH, VRFY and EXPN, and one each for the other four.
    assert_eq!(found.len(), 11 + 10 + 2 + 4, "{stdout}");
    // A bare LF is refused: nothing of that probe is delivered.
    let token = token_of(&found, "<LF>.<LF>");
    assert!(messages_with(&maildir, &token, 1).is_empty());
    let detail = found
        .iter()
        .find(|v| v["case"] == "<LF>.<LF>")
        .map(|v| v["detail"].as_str().unwrap().to_string())
        .unwrap();
    assert!(detail.starts_with("rejected:"), "{detail}");
    // A bare CR stays text: one message, with the smuggled one inside it.
    let token = token_of(&found, "<CR>.<CR>");
    let messages = messages_with(&maildir, &token, 1);
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains(&format!("Subject: smtpcli audit carrier {token}")));
    assert!(messages[0].contains(&format!("SMUGGLED {token}")));
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_permissive_is_vulnerable_exactly_where_it_was_loosened() {
    let maildir = need("SMTPCLI_IT_MAILDIR");
    let (out, found) = postfix_audit("SMTPCLI_IT_AUDIT_PERMISSIVE");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let want: BTreeSet<String> = [
        "banner-leak",
        "auth-plaintext",
        "starttls-required",
        "vrfy-expn VRFY",
        "relay foreign recipient",
        "relay foreign recipient, null sender",
        "relay foreign recipient, local sender",
        "relay percent hack",
        "relay bang path",
        "relay quoted local part",
        "relay quoted percent hack",
        "relay source route",
        "relay foreign recipient, after a failed AUTH",
        "smuggling <LF>.<LF>",
        "smuggling <LF>.<CR><LF>",
        "smuggling <CR><LF>.<LF>",
        "smuggling pipelined <LF>.<LF>",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(by_verdict(&found, "VULNERABLE"), want, "{stdout}");
    assert_eq!(by_verdict(&found, "UNKNOWN"), BTreeSet::new(), "{stdout}");
    // Postfix fixed STARTTLS injection long ago: that stays a PASS.
    assert!(by_verdict(&found, "PASS").contains("starttls-injection"));
    // The smuggled message really arrived as a message of its own.
    for case in ["<LF>.<LF>", "pipelined <LF>.<LF>"] {
        let token = token_of(&found, case);
        let messages = messages_with(&maildir, &token, 2);
        assert_eq!(messages.len(), 2, "{case}");
        assert!(
            messages.iter().any(|m| m
                .contains(&format!("Subject: smtpcli audit SMUGGLED {token}"))
                && !m.contains("Subject: smtpcli audit carrier")),
            "{case}: no smuggled message of its own"
        );
    }
    // Kept as text: the smuggled lines are inside the one carrier.
    let token = token_of(&found, "<CR><LF>.<SP><CR><LF>");
    let messages = messages_with(&maildir, &token, 1);
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains(&format!("SMUGGLED {token}")));
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_relay_after_a_real_login_is_informational_and_the_password_never_shows() {
    let (host, port) = need_server("SMTPCLI_IT_AUDIT_PERMISSIVE");
    let user = need("SMTPCLI_IT_USER");
    let password = need("SMTPCLI_IT_PASSWORD");
    let ca = need("SMTPCLI_IT_CA");
    let out = smtpcli()
        .env("SMTPCLI_PASSWORD", &password)
        .args(["--audit", "--json", "--tests", "relay", "--user", &user])
        .args(["--ca-file", &ca, "--sni", "mailserver.example.com"])
        .args(["--from", FROM, "--to", TO, &host, &port])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    validate(&stdout);
    let found = verdicts(&stdout);
    let authenticated = found
        .iter()
        .find(|v| v["case"] == "foreign recipient, authenticated")
        .expect("an authenticated row");
    assert_eq!(authenticated["verdict"], "PASS", "{stdout}");
    assert!(stdout.contains(&format!(
        "AUTH PLAIN [initial response for {user} redacted]"
    )));
    use base64::Engine as _;
    let blob = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
    assert!(
        !stdout.contains(&password) && !stdout.contains(&blob),
        "{stdout}"
    );
}
