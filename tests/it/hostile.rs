//! Hostile and broken servers: the fault-injection suite behind SECURITY.md.
//!
//! Every scenario runs the real binary with `--timeout 2 --color never`
//! against a fake server and checks what the user sees, the exit code, that
//! nothing panicked, that no control byte but `\n` reached the output, and
//! that it ended within its timeout plus a second. The table is the same as
//! SECURITY.md's.

use std::io::Write;
use std::process::{Command as StdCommand, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{peak_rss_kib, text};

/// The timeout every scenario runs with.
const TIMEOUT: Duration = Duration::from_secs(2);

struct Scenario {
    name: &'static str,
    script: Vec<Step>,
    /// What smtpcli is fed on stdin.
    input: &'static str,
    /// Extra arguments.
    args: &'static [&'static str],
    exit: i32,
    /// Text that must appear on stdout or stderr.
    shows: &'static [&'static str],
    /// Text that must not appear.
    hides: &'static [&'static str],
    /// Whether the child's peak memory must have been measured (it is still
    /// running when the server takes its last step).
    memory: bool,
}

struct Ran {
    stdout: String,
    stderr: String,
    code: Option<i32>,
    elapsed: Duration,
    peak_kib: u64,
}

/// Runs one scenario, measuring the child's peak memory just before the
/// server's last step.
fn run(mut scenario: Scenario) -> Ran {
    let pid = Arc::new(AtomicU32::new(0));
    let peak = Arc::new(AtomicU64::new(0));
    let (p, k) = (pid.clone(), peak.clone());
    let close_at = scenario.script.len().saturating_sub(1);
    scenario.script.insert(
        close_at,
        Step::Call(Box::new(move || {
            let kib = peak_rss_kib(p.load(Ordering::SeqCst)).unwrap_or(0);
            k.store(kib, Ordering::SeqCst);
        })),
    );
    let server = FakeServer::start(scenario.script);
    let started = Instant::now();
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_smtpcli"))
        .args(["--timeout", "2", "--color", "never"])
        .args(scenario.args)
        .args(["127.0.0.1", &server.port()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    pid.store(child.id(), Ordering::SeqCst);
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(scenario.input.as_bytes());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    server.finish();
    Ran {
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
        code: out.status.code(),
        elapsed,
        peak_kib: peak.load(Ordering::SeqCst),
    }
}

fn check(scenario: Scenario) {
    let name = scenario.name;
    let exit = scenario.exit;
    let shows = scenario.shows;
    let hides = scenario.hides;
    let memory = scenario.memory;
    let ran = run(scenario);
    let all = format!("{}{}", ran.stdout, ran.stderr);
    assert_eq!(ran.code, Some(exit), "{name}: exit code\n{all}");
    for want in shows {
        assert!(all.contains(want), "{name}: {want:?} not shown\n{all}");
    }
    for unwanted in hides {
        assert!(!all.contains(unwanted), "{name}: {unwanted:?} shown\n{all}");
    }
    assert!(
        !all.contains("panicked") && !all.contains("RUST_BACKTRACE"),
        "{name}: a panic\n{all}"
    );
    let bad: Vec<char> = all
        .chars()
        .filter(|&c| c != '\n' && c.is_control())
        .collect();
    assert!(
        bad.is_empty(),
        "{name}: control characters {bad:?} in the output"
    );
    assert!(
        ran.elapsed < TIMEOUT + Duration::from_secs(1),
        "{name}: took {:?}",
        ran.elapsed
    );
    assert!(
        ran.peak_kib < 64 * 1024,
        "{name}: peak RSS {} KiB",
        ran.peak_kib
    );
    if memory {
        assert!(ran.peak_kib > 0, "{name}: the peak RSS was not measured");
    }
}

fn lines(prefix: &str, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        out.extend_from_slice(format!("{prefix}{i}\r\n").as_bytes());
    }
    out
}

#[test]
fn a_multi_line_reply_that_never_ends_times_out() {
    check(Scenario {
        name: "endless multi-line reply",
        script: vec![
            send("220 fake"),
            expect("EHLO x"),
            // About 6 s of continuation lines, never a last line.
            Step::Drip(lines("250-more ", 400), Duration::from_micros(1_500)),
            Step::Close,
        ],
        input: "EHLO x\n",
        args: &[],
        exit: 2,
        shows: &["no reply from the server within 2 s (waiting for the reply to EHLO)"],
        hides: &[],
        memory: false,
    });
}

#[test]
fn binary_garbage_and_nul_bytes_are_escaped() {
    check(Scenario {
        name: "garbage banner",
        script: vec![
            Step::Send(b"\x00\x01\xfe\xff garbage \x1b[31m\r\n".to_vec()),
            expect("QUIT"),
            send("221 bye"),
            Step::Close,
        ],
        input: "",
        args: &[],
        exit: 2,
        shows: &[
            "<< \\x00\\x01\\xfe\\xff garbage \\e[31m",
            "does not start with a reply code",
        ],
        hides: &[],
        memory: false,
    });
}

#[test]
fn two_and_four_digit_codes_are_not_smtp() {
    for (reply, name) in [("25 ok", "two digits"), ("2500 ok", "four digits")] {
        check(Scenario {
            name,
            script: vec![
                send("220 fake"),
                expect("NOOP"),
                send(reply),
                expect("QUIT"),
                send("221 bye"),
                Step::Close,
            ],
            input: "NOOP\n",
            args: &[],
            exit: 2,
            shows: &["starts with a code that is not three digits"],
            hides: &[],
            memory: false,
        });
    }
}

#[test]
fn a_code_changing_mid_reply_is_flagged() {
    check(Scenario {
        name: "code changes",
        script: vec![
            send("220 fake"),
            expect("NOOP"),
            send("250-first"),
            send("550 second"),
            expect("QUIT"),
            send("221 bye"),
            Step::Close,
        ],
        input: "NOOP\n",
        args: &[],
        exit: 0,
        shows: &["line 2 changes the code from 250 to 550 inside one reply"],
        hides: &[],
        memory: false,
    });
}

#[test]
fn bare_lf_and_bare_cr_are_flagged() {
    check(Scenario {
        name: "bare LF and CR",
        script: vec![
            Step::Send(b"220 fake\n".to_vec()),
            expect("NOOP"),
            Step::Send(b"250 o\rk\r\n".to_vec()),
            expect("QUIT"),
            send("221 bye"),
            Step::Close,
        ],
        input: "NOOP\n",
        args: &[],
        exit: 0,
        shows: &[
            "line 1 ends in a bare LF, not CRLF",
            "<< 250 o\\rk",
            "line 1 contains a bare CR",
        ],
        hides: &[],
        memory: false,
    });
}

#[test]
fn close_before_the_banner_exits_2() {
    check(Scenario {
        name: "close before banner",
        script: vec![Step::Close],
        input: "EHLO x\n",
        args: &[],
        exit: 2,
        shows: &[
            "the server closed the connection",
            "Connection closed by foreign host.",
        ],
        hides: &[],
        memory: false,
    });
}

#[test]
fn a_continuation_then_close_shows_the_partial_reply() {
    check(Scenario {
        name: "250- then close",
        script: vec![
            send("220 fake"),
            expect("EHLO x"),
            send("250-half a reply"),
            Step::Close,
        ],
        input: "EHLO x\n",
        args: &[],
        exit: 2,
        shows: &[
            "<< 250-half a reply",
            "the connection closed in the middle of the reply",
        ],
        hides: &[],
        memory: false,
    });
}

#[test]
fn a_100000_line_reply_is_cut_not_hoarded() {
    let mut reply = lines("250-line ", 100_000);
    reply.extend_from_slice(b"250 end\r\n");
    check(Scenario {
        name: "100,000-line reply",
        script: vec![
            send("220 fake"),
            expect("EHLO x"),
            Step::Send(reply),
            expect("QUIT"),
            send("221 bye"),
            Step::Close,
        ],
        input: "EHLO x\n",
        args: &[],
        exit: 0,
        shows: &["reply cut: 90001 more lines", "<< 250 end"],
        hides: &[],
        memory: true,
    });
}

#[test]
fn an_enhanced_code_of_the_wrong_class_is_flagged() {
    check(Scenario {
        name: "wrong class",
        script: vec![
            send("220 fake"),
            expect("NOOP"),
            send("250 5.1.1 all is well, really"),
            expect("QUIT"),
            send("221 bye"),
            Step::Close,
        ],
        input: "NOOP\n",
        args: &[],
        exit: 0,
        shows: &["enhanced code 5.1.1 has a different class than reply code 250"],
        hides: &[],
        memory: false,
    });
}

#[test]
fn terminal_escapes_and_invalid_utf8_are_shown_escaped() {
    check(Scenario {
        name: "escape sequences",
        script: vec![
            Step::Send(
                b"220 \x1b]52;c;cm0gLXJmIH4=\x07 \x1b]0;pwned\x07 \x1b[2J \x9b1m \xc0\xaf\r\n"
                    .to_vec(),
            ),
            expect("QUIT"),
            send("221 bye"),
            Step::Close,
        ],
        input: "",
        args: &[],
        exit: 0,
        shows: &[
            "\\e]52;c;cm0gLXJmIH4=\\x07",
            "\\e]0;pwned\\x07",
            "\\e[2J",
            "\\x9b1m",
            "\\xc0\\xaf",
        ],
        hides: &[],
        memory: false,
    });
}

#[test]
fn a_334_with_invalid_base64_is_said_so() {
    check(Scenario {
        name: "bad 334",
        script: vec![
            send("220 fake"),
            expect("AUTH LOGIN"),
            send("334 ###not base64###"),
            expect("*"),
            send("501 5.7.0 cancelled"),
            expect("QUIT"),
            send("221 bye"),
            Step::Close,
        ],
        input: "AUTH LOGIN\n*\n",
        args: &[],
        exit: 1,
        shows: &["challenge is not base64"],
        hides: &[],
        memory: false,
    });
}

#[test]
fn starttls_answered_with_plaintext_garbage_fails_the_handshake() {
    check(Scenario {
        name: "220 then garbage",
        script: vec![
            send("220 fake"),
            expect("STARTTLS"),
            send("220 go ahead"),
            Step::Hold(Duration::from_millis(200)),
            send("this is not a TLS ServerHello"),
            Step::ReadToEnd,
        ],
        input: "STARTTLS\n",
        args: &[],
        exit: 2,
        shows: &["TLS handshake failed"],
        hides: &[],
        memory: false,
    });
}

#[test]
fn a_reset_mid_data_is_reported_and_nothing_claims_success() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.eml");
    std::fs::write(&path, "a line of a long message\n".repeat(400_000)).unwrap();
    let input: &'static str = Box::leak(format!(":data {}\n", path.display()).into_boxed_str());
    check(Scenario {
        name: "reset mid-DATA",
        script: vec![
            send("220 fake"),
            expect("DATA"),
            send("354 go ahead"),
            expect("a line of a long message"),
            Step::Reset,
        ],
        input,
        args: &[],
        exit: 2,
        shows: &[
            "<< 354 go ahead",
            "the message was not delivered: the connection failed after",
        ],
        hides: &["queued as", "bytes of message text sent"],
        memory: false,
    });
}

#[test]
fn a_server_that_never_reads_hits_the_write_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.eml");
    // More than the socket buffers hold, so writes block.
    std::fs::write(&path, "0123456789abcdef\n".repeat(1_000_000)).unwrap();
    let input: &'static str = Box::leak(
        format!(
            "MAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\n:data {}\n",
            path.display()
        )
        .into_boxed_str(),
    );
    check(Scenario {
        name: "never reads",
        script: vec![
            send("220 fake"),
            expect("MAIL FROM:<a@example.org>"),
            send("250 ok"),
            expect("RCPT TO:<b@example.org>"),
            send("250 ok"),
            expect("DATA"),
            send("354 go ahead"),
            // Read nothing more for longer than the timeout.
            Step::Hold(Duration::from_secs(4)),
            Step::Close,
        ],
        input,
        args: &[],
        exit: 2,
        shows: &["the server has not read what was sent for 2 s"],
        hides: &["queued as"],
        memory: false,
    });
}

#[test]
fn the_reply_after_the_final_dot_is_bounded_by_timeout() {
    check(Scenario {
        name: "final dot",
        script: vec![
            send("220 fake"),
            expect("MAIL FROM:<a@example.org>"),
            send("250 ok"),
            expect("RCPT TO:<b@example.org>"),
            send("250 ok"),
            expect("DATA"),
            send("354 go ahead"),
            expect("hello"),
            expect("."),
            // A content filter that never answers.
            Step::Hold(Duration::from_secs(4)),
            Step::Close,
        ],
        input: "MAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\nhello\n.\n",
        args: &[],
        exit: 2,
        shows: &["no reply from the server within 2 s"],
        hides: &[],
        memory: false,
    });
}
