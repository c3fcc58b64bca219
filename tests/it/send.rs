//! The one-line send (`--from`, `--to`, `--auth`), envelope parameters
//! checked against what the server advertised (DSN, SMTPUTF8, REQUIRETLS,
//! BODY, LIMITS), the composer, and the per-recipient table. Faults and
//! extensions Postfix does not offer (LIMITS, REQUIRETLS) come from the fake
//! server; DSN, SMTPUTF8 and the composer are checked against Postfix.

use std::time::Duration;

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{need, need_server, smtpcli, text, token, wait_for_mail};

/// A server's greeting and its EHLO reply with these extensions.
fn greeting(extensions: &[&str]) -> Vec<Step> {
    let mut ehlo = String::from("250-fake.example.org");
    for (i, extension) in extensions.iter().enumerate() {
        let sep = if i + 1 == extensions.len() { ' ' } else { '-' };
        ehlo.push_str(&format!("\r\n250{sep}{extension}"));
    }
    if extensions.is_empty() {
        ehlo = "250 fake.example.org".into();
    }
    vec![
        send("220 fake.example.org ESMTP"),
        expect("EHLO client.example.org"),
        send(&ehlo),
    ]
}

/// The message after a `354`, accepted.
fn message_accepted(id: &str) -> Vec<Step> {
    vec![
        expect("DATA"),
        send("354 go ahead"),
        Step::ReadMessage,
        send(&format!("250 2.0.0 Ok: queued as {id}")),
    ]
}

fn quit() -> Vec<Step> {
    vec![expect("QUIT"), send("221 2.0.0 Bye"), Step::Close]
}

fn one_line(server: &FakeServer, args: &[&str]) -> std::process::Output {
    smtpcli()
        .args(["--color", "never", "--ehlo", "client.example.org"])
        .args(["127.0.0.1", &server.port()])
        .args(args)
        .output()
        .unwrap()
}

/// The table row of a recipient, split into its cells (after the `#`).
fn row(stdout: &str, recipient: &str) -> Vec<String> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("# {recipient} ")))
        .unwrap_or_else(|| panic!("no row for {recipient}:\n{stdout}"));
    line.split_whitespace().skip(1).map(String::from).collect()
}

fn dsn_dialog() -> FakeServer {
    let mut script = greeting(&["PIPELINING", "DSN", "ENHANCEDSTATUSCODES"]);
    script.extend([
        expect("MAIL FROM:<a@example.org> RET=HDRS ENVID=QQ+2B1+20x"),
        send("250 2.1.0 Ok"),
        expect(
            "RCPT TO:<b+tag@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Btag@example.org",
        ),
        send("250 2.1.5 Ok"),
        expect("RCPT TO:<c@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@example.org"),
        send("450 4.2.0 <c@example.org>: greylisted, try again later"),
        expect("RCPT TO:<d@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;d@example.org"),
        send("550 5.1.1 <d@example.org>: no such user"),
    ]);
    script.extend(message_accepted("4Fq2yR0bZ1"));
    script.extend(quit());
    FakeServer::start(script)
}

const DSN_ARGS: &[&str] = &[
    "--from",
    "a@example.org",
    "--to",
    "b+tag@example.org",
    "--to",
    "c@example.org",
    "--to",
    "d@example.org",
    "--notify",
    "success,failure",
    "--ret",
    "hdrs",
    "--envid",
    "QQ+1 x",
    "--orcpt",
];

#[test]
fn one_line_send_runs_the_dialog_and_tables_each_recipient() {
    let server = dsn_dialog();
    let out = one_line(&server, DSN_ARGS);
    server.finish();
    let stdout = text(&out.stdout);
    // A permanent refusal outranks a temporary one (the exit-code table).
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert_eq!(
        row(&stdout, "b+tag@example.org")[1..5],
        ["accepted", "250", "2.0.0", "message"]
    );
    assert_eq!(
        row(&stdout, "c@example.org")[1..5],
        ["temporary", "450", "4.2.0", "RCPT"]
    );
    assert_eq!(
        row(&stdout, "d@example.org")[1..5],
        ["permanent", "550", "5.1.1", "RCPT"]
    );
    assert!(stdout.contains(">> QUIT"), "{stdout}");
}

#[test]
fn the_per_recipient_table_is_a_json_event_that_validates() {
    let server = dsn_dialog();
    let mut args = DSN_ARGS.to_vec();
    args.push("--json");
    let out = one_line(&server, &args);
    server.finish();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../schema/events.v1.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let stdout = text(&out.stdout);
    let mut delivery = None;
    for line in stdout.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&event)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{line}\n{errors:?}");
        if event["event"] == "delivery" {
            delivery = Some(event);
        }
    }
    let delivery = delivery.unwrap_or_else(|| panic!("no delivery event:\n{stdout}"));
    let rows: Vec<String> = delivery["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} {}",
                r["recipient"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["code"],
                r["enhanced"].as_str().unwrap(),
                r["step"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "b+tag@example.org accepted 250 2.0.0 message",
            "c@example.org temporary 450 4.2.0 RCPT",
            "d@example.org permanent 550 5.1.1 RCPT",
        ]
    );
}

#[test]
fn rcptmax_splits_the_recipients_into_transactions_and_says_so() {
    let mut script = greeting(&["LIMITS RCPTMAX=2", "ENHANCEDSTATUSCODES"]);
    for (batch, id) in [(&["1", "2"][..], "Q1"), (&["3"][..], "Q2")] {
        script.extend([expect("MAIL FROM:<a@example.org>"), send("250 2.1.0 Ok")]);
        for n in batch {
            script.extend([
                expect(&format!("RCPT TO:<{n}@example.org>")),
                send("250 2.1.5 Ok"),
            ]);
        }
        script.extend(message_accepted(id));
    }
    script.extend(quit());
    let server = FakeServer::start(script);
    let out = one_line(
        &server,
        &[
            "--from",
            "a@example.org",
            "--to",
            "1@example.org",
            "--to",
            "2@example.org",
            "--to",
            "3@example.org",
        ],
    );
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "3 recipients, and the server takes 2 per transaction (LIMITS RCPTMAX=2): sending 2 transactions"
        ),
        "{stdout}"
    );
    assert_eq!(row(&stdout, "3@example.org")[1], "accepted");
}

#[test]
fn mailmax_leaves_recipients_out_says_so_and_fails() {
    let mut script = greeting(&["LIMITS RCPTMAX=1 MAILMAX=1"]);
    script.extend([
        expect("MAIL FROM:<a@example.org>"),
        send("250 Ok"),
        expect("RCPT TO:<1@example.org>"),
        send("250 Ok"),
    ]);
    script.extend(message_accepted("Q1"));
    script.extend(quit());
    let server = FakeServer::start(script);
    let out = one_line(
        &server,
        &[
            "--from",
            "a@example.org",
            "--to",
            "1@example.org",
            "--to",
            "2@example.org",
        ],
    );
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("LIMITS MAILMAX=1"), "{stdout}");
    assert!(stdout.contains("1 recipients are left out"), "{stdout}");
}

#[test]
fn an_unadvertised_parameter_is_refused_naming_the_keyword_unless_lax() {
    let mut script = greeting(&["PIPELINING", "8BITMIME"]);
    // Refused before MAIL: the script ends there.
    script.push(Step::ReadToEnd);
    let server = FakeServer::start(script);
    let out = one_line(
        &server,
        &[
            "--from",
            "a@example.org",
            "--to",
            "b@example.org",
            "--notify",
            "never",
        ],
    );
    server.finish();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("NOTIFY needs the DSN extension, which the server did not advertise"),
        "{all}"
    );
    assert!(all.contains("--lax"), "{all}");

    let mut script = greeting(&["PIPELINING", "8BITMIME"]);
    script.extend([
        expect("MAIL FROM:<a@example.org>"),
        send("250 Ok"),
        expect("RCPT TO:<b@example.org> NOTIFY=NEVER"),
        send("555 5.5.4 Unsupported option: NOTIFY"),
        expect("RSET"),
        send("250 Ok"),
    ]);
    script.extend(quit());
    let server = FakeServer::start(script);
    let out = one_line(
        &server,
        &[
            "--from",
            "a@example.org",
            "--to",
            "b@example.org",
            "--notify",
            "never",
            "--lax",
        ],
    );
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        row(&stdout, "b@example.org")[1..5],
        ["permanent", "555", "5.5.4", "RCPT"]
    );
}

#[test]
fn requiretls_is_refused_in_plaintext_with_the_reason() {
    let mut script = greeting(&["REQUIRETLS"]);
    // Refused before MAIL: the script ends there.
    script.push(Step::ReadToEnd);
    let server = FakeServer::start(script);
    let out = one_line(&server, &["--to", "b@example.org", "--requiretls", "--lax"]);
    server.finish();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("REQUIRETLS goes only over TLS (RFC 8689"),
        "{all}"
    );
    assert!(!all.contains(">> MAIL"), "{all}");
}

#[test]
fn without_smtputf8_an_idn_domain_goes_as_its_a_label_and_a_utf8_local_part_is_refused() {
    let mut script = greeting(&["8BITMIME"]);
    script.extend([
        expect("MAIL FROM:<a@example.org>"),
        send("250 Ok"),
        expect("RCPT TO:<b@xn--bcher-kva.example>"),
        send("250 Ok"),
    ]);
    script.extend(message_accepted("Q1"));
    script.extend(quit());
    let server = FakeServer::start(script);
    let out = one_line(
        &server,
        &["--from", "a@example.org", "--to", "b@bücher.example"],
    );
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("b@bücher.example goes out as b@xn--bcher-kva.example"),
        "{stdout}"
    );

    let mut script = greeting(&["8BITMIME"]);
    // Refused before MAIL: the script ends there.
    script.push(Step::ReadToEnd);
    let server = FakeServer::start(script);
    let out = one_line(
        &server,
        &["--from", "a@example.org", "--to", "jörg@example.org"],
    );
    server.finish();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("has a non-ASCII local part, which needs SMTPUTF8"),
        "{all}"
    );
}

#[test]
fn a_utf8_address_gets_smtputf8_when_the_server_offers_it() {
    let mut script = greeting(&["SMTPUTF8", "8BITMIME"]);
    script.extend([
        // The To: field holds the UTF-8 address: the message is 8-bit.
        expect("MAIL FROM:<a@example.org> BODY=8BITMIME SMTPUTF8"),
        send("250 Ok"),
        expect("RCPT TO:<jörg@bücher.example>"),
        send("250 Ok"),
    ]);
    script.extend(message_accepted("Q1"));
    script.extend(quit());
    let server = FakeServer::start(script);
    let out = one_line(
        &server,
        &["--from", "a@example.org", "--to", "jörg@bücher.example"],
    );
    server.finish();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[cfg(feature = "demo")]
#[test]
fn binarymime_goes_with_bdat_in_the_demo() {
    let out = smtpcli()
        .args(["--color", "never", "--demo", "--to", "friend@example.org"])
        .args(["--body-type", "binarymime", "--attach", "Cargo.toml"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("BODY=BINARYMIME"), "{stdout}");
    assert!(stdout.contains("the message goes with BDAT"), "{stdout}");
    let bdat = stdout
        .lines()
        .find(|l| l.starts_with(">> BDAT "))
        .unwrap_or_else(|| panic!("no BDAT:\n{stdout}"));
    assert!(bdat.ends_with(" LAST"), "{bdat}");
    assert_eq!(
        row(&stdout, "friend@example.org")[1..5],
        ["accepted", "250", "2.0.0", "BDAT"]
    );
}

#[test]
fn one_line_send_mistakes_are_usage_errors_before_connecting() {
    for (args, says) in [
        (
            &["--to", "b@x.org", "--auth", "gssapi:u"][..],
            "unknown AUTH mechanism",
        ),
        (&["--to", "b@x.org", "--body-type", "9bit"][..], "9bit"),
        (&["--from", "a@x.org"][..], "--to"),
        (&["--to", "b@x.org", "--script", "-"][..], "--script"),
    ] {
        // Port 9 (discard) on loopback: nothing listens; a usage error
        // comes before any connection.
        let out = smtpcli()
            .args(["127.0.0.1", "9"])
            .args(args)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!text(&out.stdout).contains("connect"), "{args:?}");
    }
}

#[test]
fn a_missing_attachment_is_named_and_nothing_is_sent() {
    // The files are read before anything is sent, EHLO included.
    let script = vec![send("220 fake.example.org ESMTP"), Step::ReadToEnd];
    let server = FakeServer::start(script);
    let out = one_line(
        &server,
        &[
            "--to",
            "b@example.org",
            "--attach",
            "/nonexistent/report.pdf",
        ],
    );
    server.finish();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("/nonexistent/report.pdf"), "{all}");
}

/// Reads a delivered message with Python's `email` package and prints, per
/// attachment, its file name and the hex of its decoded bytes.
const PARSE_ATTACHMENTS: &str = r#"
import email, sys
from email import policy
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
print("subject", msg["subject"])
print("html", msg.get_body(preferencelist=("html",)) is not None)
print("text", msg.get_body(preferencelist=("plain",)).get_content().strip())
for part in msg.iter_attachments():
    print("attachment", part.get_filename(), part.get_payload(decode=True).hex())
"#;

#[test]
#[ignore = "needs Postfix and python3: scripts/test-servers start"]
fn postfix_delivers_the_composed_message_and_python_reads_it_back() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let maildir = need("SMTPCLI_IT_MAILDIR_B");
    let dir = tempfile::tempdir().unwrap();
    let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let bin_path = dir.path().join("all bytes.bin");
    std::fs::write(&bin_path, &binary).unwrap();
    let text_path = dir.path().join("notes.txt");
    std::fs::write(
        &text_path,
        b"bare LF\nand CRLF\r\n.dot line\nno newline at end",
    )
    .unwrap();
    let html_path = dir.path().join("body.html");
    std::fs::write(&html_path, "<p>Hello %TO%</p>").unwrap();
    let token = token("composer");
    let out = smtpcli()
        .args(["--color", "never", &host, &port])
        .args(["--from", "a@example.org", "--to", "b@example.org"])
        .args(["--subject", &format!("composed {token} for %TO%")])
        .args(["--body", &format!("token {token}\nsent %DATE%")])
        .args(["--html", &html_path.to_string_lossy()])
        .args(["--attach", &bin_path.to_string_lossy()])
        .args(["--attach", &text_path.to_string_lossy()])
        .args(["--eicar", "--gtube", "--header", "X-Test: %MESSAGEID%"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let mail = wait_for_mail(&maildir, &token, Duration::from_secs(15)).expect("delivered to b");
    let file = dir.path().join("delivered.eml");
    std::fs::write(&file, &mail).unwrap();
    let parsed = std::process::Command::new("python3")
        .args(["-c", PARSE_ATTACHMENTS, &file.to_string_lossy()])
        .output()
        .expect("python3");
    let parsed_text = text(&parsed.stdout);
    assert!(parsed.status.success(), "{}", text(&parsed.stderr));
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for want in [
        format!("subject composed {token} for b@example.org"),
        "html True".to_string(),
        "text token ".to_string(),
        "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X".to_string(),
        format!("attachment all bytes.bin {}", hex(&binary)),
        format!(
            "attachment notes.txt {}",
            hex(b"bare LF\nand CRLF\r\n.dot line\nno newline at end")
        ),
        format!(
            "attachment eicar.com {}",
            hex(br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
        ),
    ] {
        assert!(parsed_text.contains(&want), "{want}\n{parsed_text}");
    }
    let mail = text(&mail);
    assert!(mail.contains("X-Test: <smtpcli-"), "{mail}");
    assert!(!mail.contains("%DATE%"), "{mail}");
}

#[test]
#[ignore = "needs Postfix (port 2540): scripts/test-servers start"]
fn postfix_takes_dsn_and_its_bounce_carries_the_envid_and_orcpt_sent() {
    let (host, port) = need_server("SMTPCLI_IT_ENVELOPE");
    let maildir = need("SMTPCLI_IT_MAILDIR_B");
    // xtext on the wire: the '+', '=' and the space are encoded.
    let envid = format!("{} a+b=c", token("dsn"));
    let out = smtpcli()
        .args(["--color", "never", &host, &port])
        // b is a local user: the bounce lands in its Maildir.
        .args(["--from", "b@example.org", "--to", "bounce-me@example.org"])
        .args([
            "--notify", "failure", "--ret", "hdrs", "--envid", &envid, "--orcpt",
        ])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let encoded = envid
        .replace('+', "+2B")
        .replace('=', "+3D")
        .replace(' ', "+20");
    assert!(
        stdout.contains(">> MAIL FROM:<b@example.org> SIZE="),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("RET=HDRS ENVID={encoded}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            ">> RCPT TO:<bounce-me@example.org> NOTIFY=FAILURE ORCPT=rfc822;bounce-me@example.org"
        ),
        "{stdout}"
    );
    assert_eq!(
        row(&stdout, "bounce-me@example.org")[1..5],
        ["accepted", "250", "2.0.0", "message"]
    );
    // Accepted, then not deliverable: Postfix sends a DSN to the sender.
    let bounce = wait_for_mail(&maildir, &envid, Duration::from_secs(20)).expect("a DSN for b");
    let bounce = text(&bounce);
    assert!(
        bounce.contains(&format!("Original-Envelope-Id: {envid}")),
        "{bounce}"
    );
    assert!(
        bounce.contains("Original-Recipient: rfc822;bounce-me@example.org"),
        "{bounce}"
    );
    assert!(bounce.contains("Action: failed"), "{bounce}");
}

#[test]
#[ignore = "needs Postfix (port 2540): scripts/test-servers start"]
fn postfix_delivers_a_utf8_local_part_with_smtputf8() {
    let (host, port) = need_server("SMTPCLI_IT_ENVELOPE");
    let maildir = need("SMTPCLI_IT_MAILDIR_B");
    let token = token("utf8");
    let out = smtpcli()
        .args(["--color", "never", &host, &port])
        // b sends (a local user): the success DSN comes back to b too.
        .args(["--from", "b@example.org", "--to", "jörg@example.org"])
        .args(["--subject", &token, "--notify", "success", "--orcpt"])
        .args(["--envid", &format!("{token}-dsn"), "--ret", "hdrs"])
        // Only in the delivered message: the DSN returns the headers only.
        .args(["--body", &format!("{token}-body")])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(">> MAIL FROM:<b@example.org> SIZE="),
        "{stdout}"
    );
    assert!(stdout.contains(" SMTPUTF8 RET=HDRS ENVID="), "{stdout}");
    // RFC 6533: a UTF-8 original recipient is of type utf-8.
    assert!(
        stdout.contains(
            ">> RCPT TO:<jörg@example.org> NOTIFY=SUCCESS ORCPT=utf-8;j\\x{F6}rg@example.org\n"
        ),
        "{stdout}"
    );
    // jörg@ is an alias of b on this listener.
    let mail = wait_for_mail(&maildir, &format!("{token}-body"), Duration::from_secs(15))
        .expect("delivered to b");
    let mail = text(&mail);
    assert!(mail.contains("X-Original-To: jörg@example.org"), "{mail}");
    assert!(mail.contains("with UTF8SMTP"), "{mail}");
    let dsn = wait_for_mail(&maildir, &format!("{token}-dsn"), Duration::from_secs(15))
        .expect("a success DSN for b");
    let dsn = text(&dsn);
    assert!(
        dsn.contains("Original-Recipient: utf-8;jörg@example.org"),
        "{dsn}"
    );
}

#[test]
#[ignore = "needs Postfix submission: scripts/test-servers start"]
fn one_line_send_through_submission_with_starttls_and_auth() {
    let (host, port) = need_server("SMTPCLI_IT_SUBMISSION");
    let ca = need("SMTPCLI_IT_CA");
    let user = need("SMTPCLI_IT_USER");
    let password = need("SMTPCLI_IT_PASSWORD");
    let maildir = need("SMTPCLI_IT_MAILDIR_B");
    let token = token("submission");
    let out = smtpcli()
        .env("SMTPCLI_PASSWORD", &password)
        .args(["--color", "never", &host, &port, "--starttls"])
        .args(["--ca-file", &ca, "--sni", "mailserver.example.com"])
        .args(["--auth", &format!("plain:{user}"), "--to", "b@example.org"])
        .args(["--subject", &token])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("<~ 235 2.7.0 Authentication successful"),
        "{stdout}"
    );
    // The sender is the login, which the submission port checks.
    assert!(
        stdout.contains(&format!("~> MAIL FROM:<{user}@mailserver.example.com>")),
        "{stdout}"
    );
    assert!(!stdout.contains(&password), "{stdout}");
    assert_eq!(
        row(&stdout, "b@example.org")[1..5],
        ["accepted", "250", "2.0.0", "message"]
    );
    wait_for_mail(&maildir, &token, Duration::from_secs(15)).expect("delivered to b");
}

#[cfg(feature = "demo")]
#[test]
fn requiretls_goes_over_tls_to_the_demo() {
    let out = smtpcli()
        .args(["--color", "never", "--demo", "--starttls"])
        .args(["--to", "friend@example.org", "--requiretls"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let mail = stdout
        .lines()
        .find(|l| l.starts_with("~> MAIL FROM:"))
        .unwrap_or_else(|| panic!("no MAIL over TLS:\n{stdout}"));
    assert!(mail.ends_with(" REQUIRETLS"), "{mail}");
    assert_eq!(row(&stdout, "friend@example.org")[1], "accepted");
}

#[test]
#[ignore = "needs the LMTP server: scripts/test-servers start"]
fn with_lmtp_each_recipient_gets_its_own_final_reply_in_the_table() {
    let (host, port) = need_server("SMTPCLI_IT_LMTP");
    let out = smtpcli()
        .args(["--color", "never", "--lmtp", &host, &port])
        .args(["--from", "a@example.org", "--to", "b@example.org"])
        .args(["--to", "nosuchuser@example.org", "--to", "full@example.org"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let rows = |who: &str| {
        stdout
            .lines()
            .rfind(|l| l.starts_with(&format!("# {who} ")))
            .unwrap_or_else(|| panic!("no row for {who}:\n{stdout}"))
            .split_whitespace()
            .skip(1)
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rows("b@example.org")[1..5],
        ["accepted", "250", "2.0.0", "message"]
    );
    assert_eq!(
        rows("nosuchuser@example.org")[1..5],
        ["permanent", "550", "5.1.1", "RCPT"]
    );
    assert_eq!(
        rows("full@example.org")[1..5],
        ["permanent", "552", "5.2.2", "message"]
    );
    // Accepted for b: no RSET after the message.
    assert!(!stdout.contains(">> RSET"), "{stdout}");
}

#[test]
fn a_server_that_leaves_between_transactions_leaves_recipients_untried_and_says_so() {
    let mut script = greeting(&["LIMITS RCPTMAX=1"]);
    script.extend([
        expect("MAIL FROM:<a@example.org>"),
        send("250 Ok"),
        expect("RCPT TO:<1@example.org>"),
        send("250 Ok"),
    ]);
    script.extend(message_accepted("Q1"));
    script.extend([send("421 4.3.2 shutting down"), Step::Close]);
    let server = FakeServer::start(script);
    let out = one_line(
        &server,
        &[
            "--from",
            "a@example.org",
            "--to",
            "1@example.org,2@example.org,3@example.org",
        ],
    );
    server.finish();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("not sent to (the session failed): 2@example.org, 3@example.org"),
        "{all}"
    );
}

#[test]
fn a_failed_auth_sends_nothing_and_exits_by_the_refusal() {
    let mut script = greeting(&["AUTH PLAIN LOGIN"]);
    script.extend([
        expect("AUTH PLAIN AGFsaWNlAHdyb25n"),
        send("535 5.7.8 Error: authentication failed"),
    ]);
    script.extend(quit());
    let server = FakeServer::start(script);
    let out = smtpcli()
        .env("SMTPCLI_PASSWORD", "wrong")
        .args([
            "--color",
            "never",
            "--ehlo",
            "client.example.org",
            "--insecure",
        ])
        .args(["127.0.0.1", &server.port()])
        .args(["--auth", "plain:alice", "--to", "b@example.org"])
        .output()
        .unwrap();
    server.finish();
    let stdout = text(&out.stdout);
    // The server disagreed permanently: 1, not a local problem.
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("AUTH PLAIN did not succeed: the message was not sent"),
        "{stdout}"
    );
    assert!(!stdout.contains(">> MAIL"), "{stdout}");
}
