//! `--explain`: offline explanations of codes, reply lines and bounces.

use crate::support::{smtpcli, text};
use smtpcli::proto::enhanced;

/// The class to try a registry code with: one the registry allows.
fn class_for(classes: &[u8]) -> u8 {
    classes.first().copied().unwrap_or(5)
}

#[test]
fn every_registry_code_prints_its_title() {
    for entry in enhanced::registry() {
        let code = format!(
            "{}.{}.{}",
            class_for(entry.classes),
            entry.subject,
            entry.detail
        );
        let out = smtpcli().args(["--explain", &code]).output().unwrap();
        assert!(out.status.success(), "{code}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains(entry.title),
            "{code}: title {:?} not in\n{stdout}",
            entry.title
        );
    }
}

/// Reads the IANA registry's CSV (a copy in tests/it/fixtures/iana), so the
/// titles are checked against the registry itself, not our table.
#[test]
fn registry_titles_match_the_iana_csv() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/fixtures/iana/iana-smtp-enhanced-status-codes-3.csv"
    );
    let csv = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let rows = parse_csv(&csv);
    let mut checked = 0;
    for row in rows.iter().skip(1) {
        let (Some(code), Some(title)) = (row.first(), row.get(1)) else {
            continue;
        };
        let Some(rest) = code.strip_prefix("X.") else {
            continue;
        };
        if title.trim().is_empty() {
            continue; // X.6.10: deprecated, no sample text of its own
        }
        let (subject, detail) = rest.split_once('.').unwrap();
        let entry = enhanced::registry()
            .iter()
            .find(|e| e.subject.to_string() == subject && e.detail.to_string() == detail)
            .unwrap_or_else(|| panic!("{code} missing from our table"));
        let code = format!("{}.{subject}.{detail}", class_for(entry.classes));
        let out = smtpcli().args(["--explain", &code]).output().unwrap();
        let stdout = text(&out.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let want = title.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(stdout.contains(&want), "{code}: {want:?} not in {stdout}");
        checked += 1;
    }
    assert_eq!(
        checked, 80,
        "the registry has 81 codes, one (X.6.10) without a title"
    );
}

/// A small CSV reader for the registry file: quoted fields, doubled quotes,
/// newlines inside quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[test]
fn basic_and_enhanced_code_together() {
    let out = smtpcli()
        .args(["--explain", "550", "5.1.1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Bad destination mailbox address"),
        "{stdout}"
    );
    assert!(
        stdout.starts_with("550  Requested action not taken: mailbox unavailable"),
        "{stdout}"
    );
}

#[test]
fn a_whole_reply_line() {
    let out = smtpcli()
        .args(["--explain", "550 5.7.1 Relay access denied"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(stdout.contains("text: Relay access denied"), "{stdout}");
    assert!(
        stdout.contains("Delivery not authorized, message refused"),
        "{stdout}"
    );
}

#[test]
fn a_malformed_code_is_one_clear_line_and_exit_2() {
    for bad in ["9.9", "hello", "650", "5.1"] {
        let out = smtpcli().args(["--explain", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(out.stdout.is_empty(), "{bad}");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{bad}: {stderr}");
        assert!(stderr.contains(bad), "{bad}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn vendor_codes_fall_back_to_class_and_subject() {
    let out = smtpcli().args(["--explain", "5.7.606"]).output().unwrap();
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("vendor-specific"), "{stdout}");
    assert!(stdout.contains("Security or Policy Status"), "{stdout}");
}

const GMAIL_BOUNCE: &str = "\
Delivery to the following recipient failed permanently:

     someone@gmail.example

Technical details of permanent failure:
The response from the remote server was:
550-5.7.26 This mail has been blocked because the sender is unauthenticated.
550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.
550-5.7.26
550 5.7.26 Learn more at https://support.google.com/mail/answer/81126 - gsmtp

Reporting-MTA: dns; mailserver.example.com
Final-Recipient: rfc822; someone@gmail.example
Action: failed
Status: 5.7.26
Diagnostic-Code: smtp; 550-5.7.26 This mail has been blocked because the sender
    is unauthenticated.
";

#[test]
fn a_pasted_gmail_bounce_names_5_7_26() {
    let out = smtpcli()
        .args(["--explain", "-"])
        .write_stdin(GMAIL_BOUNCE)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Multiple authentication checks failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Recipient someone@gmail.example: failed"),
        "{stdout}"
    );
}

#[test]
fn pasted_text_without_codes_exits_2() {
    let out = smtpcli()
        .args(["--explain", "-"])
        .write_stdin("hello, nothing here\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no reply code"));
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let plain = smtpcli().args(["--explain", "550"]).output().unwrap();
    assert!(
        !plain.stdout.contains(&0x1b),
        "piped output is not coloured"
    );
    let forced = smtpcli()
        .args(["--color", "always", "--explain", "550"])
        .output()
        .unwrap();
    assert!(text(&forced.stdout).starts_with("\x1b[31m550"));
}

#[cfg(unix)]
#[test]
fn an_endless_pasted_bounce_is_refused_not_hoarded() {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("smtpcli"))
        .args(["--no-config", "--explain", "-"])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    let stderr = crate::support::text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("larger than 16 MiB"), "{stderr}");
}

#[test]
fn help_verb_explains_a_command_offline() {
    let out = smtpcli().args(["help", "mail"]).output().unwrap();
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("MAIL (command, RFC 5321 §4.1.1.2)"),
        "{stdout}"
    );
    assert!(stdout.contains("SIZE=n"), "{stdout}");
    assert!(
        stdout.contains("552  the declared SIZE exceeds"),
        "{stdout}"
    );
    // No server: nothing is marked as advertised.
    assert!(!stdout.contains(" * "), "{stdout}");

    let list = text(&smtpcli().arg("help").output().unwrap().stdout);
    for verb in [
        "EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "VRFY", "EXPN", "HELP", "NOOP", "QUIT",
    ] {
        assert!(
            list.lines().any(|l| l.trim_start().starts_with(verb)),
            "{verb}\n{list}"
        );
    }

    let unknown = smtpcli().args(["help", "frob"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("smtpcli help"),
        "{}",
        text(&unknown.stderr)
    );
}
