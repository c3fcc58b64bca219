//! Every file in `examples/` runs here, against a real server where it
//! talks to one, and does what it says: each `:expect` of a script is
//! evaluated, a piped dialog delivers, a probe says OK.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{need, need_server, smtpcli, text, token, wait_for_mail};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// The examples this file runs; a new one must be added here (and run).
const RUN_HERE: &[&str] = &[
    "README.md",
    "audit-gate.sh",
    "health-check.smtp",
    "monitor.sh",
    "one-line-send.sh",
    "parse_reply.rs",
    "reference-dialog.txt",
];

#[test]
fn every_example_is_run_by_a_test() {
    let mut found: Vec<String> = std::fs::read_dir(example(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(found, RUN_HERE, "examples/ changed: run the new one here");
    let readme = std::fs::read_to_string(example("README.md")).unwrap();
    for name in RUN_HERE.iter().filter(|n| **n != "README.md") {
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} not in examples/README.md"
        );
    }
}

#[test]
fn the_examples_readme_names_no_file_outside_the_repository() {
    let readme = std::fs::read_to_string(example("README.md")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for word in readme.split(|c: char| c.is_whitespace() || c == '`' || c == '(' || c == ')') {
        let word = word.trim_end_matches(['.', ',', ':', ';']);
        let looks_like_path = word.contains('/') && !word.contains("://") && !word.starts_with('-');
        let looks_like_file = [".md", ".txt", ".smtp", ".sh", ".rs", ".toml"]
            .iter()
            .any(|ext| word.ends_with(ext));
        if (looks_like_path || looks_like_file) && !word.contains('$') {
            let path = word.trim_start_matches("./");
            let exists = root.join(path).exists() || example(path).exists();
            assert!(
                !path.starts_with("..") && !path.starts_with('/') && exists,
                "examples/README.md names {word:?}, which is not in the repository"
            );
        }
    }
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn the_health_check_evaluates_each_expect_and_delivers_its_subject() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let maildir = need("SMTPCLI_IT_MAILDIR");
    let token = token("health-check");
    let original = std::fs::read_to_string(example("health-check.smtp")).unwrap();
    // The same script, with a token in the subject to find the message by.
    let script = original.replace(
        "Subject: smtpcli health check",
        &format!("Subject: smtpcli health check {token}"),
    );
    assert_ne!(script, original, "the example has no Subject line any more");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("health-check.smtp");
    std::fs::write(&path, &script).unwrap();
    let out = smtpcli()
        .args(["--color", "never", "--script"])
        .arg(&path)
        .args([&host, &port])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let expects: Vec<&str> = script
        .lines()
        .filter_map(|l| l.strip_prefix(":expect "))
        .collect();
    let evaluated: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("# expect "))
        .filter_map(|l| l.strip_suffix(": ok"))
        .collect();
    assert_eq!(evaluated, expects, "{stdout}");
    assert!(!stdout.contains("went out as message text"), "{stdout}");
    let mail = wait_for_mail(&maildir, &token, Duration::from_secs(15))
        .expect("the message is in the Maildir");
    assert!(
        text(&mail).contains(&format!("\nSubject: smtpcli health check {token}\n")),
        "{}",
        text(&mail)
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn the_monitor_probe_says_ok() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let binary = assert_cmd::cargo::cargo_bin("smtpcli");
    let bin_dir = binary.parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .arg(example("monitor.sh"))
        .args([&host, &port])
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert_eq!(stdout.trim(), format!("OK - {host}:{port} accepts mail"));
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn the_audit_gate_passes_the_strict_postfix() {
    let (host, port) = need_server("SMTPCLI_IT_AUDIT_STRICT");
    let binary = assert_cmd::cargo::cargo_bin("smtpcli");
    let bin_dir = binary.parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .arg(example("audit-gate.sh"))
        .args([
            &host,
            &port,
            "audit@example.org",
            "empfaenger@mailserver.example.com",
        ])
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert_eq!(
        stdout.trim(),
        format!("OK - {host}:{port} passed the audit")
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn the_reference_dialog_piped_is_delivered() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let dialog = std::fs::read(example("reference-dialog.txt")).unwrap();
    let out = smtpcli()
        .args(["--color", "never", &host, &port])
        .write_stdin(dialog)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("<< 250 2.0.0 Ok: queued as "), "{stdout}");
    assert!(stdout.contains("<< 221 2.0.0 Bye"), "{stdout}");
}

#[test]
fn the_reply_parser_example_decodes_its_capture() {
    // `cargo test` builds the examples next to the test binary's directory.
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    let binary = examples.join(format!("parse_reply{}", std::env::consts::EXE_SUFFIX));
    let out = std::process::Command::new(&binary)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo test builds it)", binary.display()));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("reply 550"), "{stdout}");
    assert!(stdout.contains("5.1.1"), "{stdout}");
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn the_one_line_send_example_delivers_with_its_attachment() {
    let (host, port) = need_server("SMTPCLI_IT_SMTP");
    let maildir = need("SMTPCLI_IT_MAILDIR_B");
    let binary = assert_cmd::cargo::cargo_bin("smtpcli");
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .arg(example("one-line-send.sh"))
        .args([&host, &port])
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let row = stdout
        .lines()
        .find(|l| l.starts_with("# b@example.org "))
        .unwrap_or_else(|| panic!("no table row:\n{stdout}"));
    assert!(row.contains(" accepted "), "{row}");
    let token = stdout
        .split("token ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("a token");
    let mail = text(&wait_for_mail(&maildir, token, Duration::from_secs(15)).expect("delivered"));
    assert!(mail.contains("X-Example: one-line-send"), "{mail}");
    assert!(mail.contains("filename=\"one-line-send.sh\""), "{mail}");
}
