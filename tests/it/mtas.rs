//! The interop scripts, the same for every real MTA: the reference dialog,
//! the EHLO dialog, STARTTLS with the report, AUTH, a refused recipient and
//! the reference dialog pasted at once. Each script runs against
//!
//! - `mta::*`: the MTA of `.ci/run`'s stage "interop beyond Postfix" (Exim,
//!   then OpenSMTPD), from `SMTPCLI_IT_MTA*` (`scripts/test-mtas X env`);
//! - `postfix::*` and `aiosmtpd::*`: the servers of the main test run
//!   (`scripts/test-servers env`).
//!
//! Every test is ignored unless asked for (`--include-ignored`, or its name
//! with `--ignored`); then a server missing from the environment is a
//! failure. What differs between the servers is data (see [`Mta`]), not
//! code: the same assertions hold for all four.

use std::time::{Duration, Instant};

use crate::support::{TEST_SERVERS, host_port, need_from, smtpcli, text, token};

/// Where an accepted message shows up, to check delivery.
enum Delivery {
    /// A Maildir: one file per message under `new/`.
    Maildir(String),
    /// aiosmtpd's spool: one `.eml` file per message.
    Spool(String),
}

/// What STARTTLS does on this server.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Starttls {
    /// Offered, and the handshake completes.
    Works,
    /// Offered, but every handshake fails on the server's side (OpenSMTPD
    /// 6.8 on Debian 12 with OpenSSL 3: an internal_error alert).
    Broken,
}

/// How to get the settings of `scripts/test-mtas` into the environment.
const TEST_MTAS: &str =
    "scripts/test-mtas exim start and eval \"$(scripts/test-mtas exim env)\" (or opensmtpd)";

/// A real server under test and the facts the scripts need about it.
struct Mta {
    name: String,
    /// What starts it and sets its variables, for the message when one is
    /// missing.
    setup: &'static str,
    host: String,
    port: String,
    delivery: Delivery,
    /// The server's log, to look for complaints about the client's pacing.
    log: Option<String>,
    /// AUTH PLAIN/LOGIN for `SMTPCLI_IT_USER` after STARTTLS.
    auth: bool,
    starttls: Starttls,
}

impl Mta {
    /// The stage's MTA: `SMTPCLI_IT_MTA` and friends.
    fn from_stage() -> Mta {
        let var = |name: &str| need_from(name, TEST_MTAS);
        let (host, port) = host_port("SMTPCLI_IT_MTA", &var("SMTPCLI_IT_MTA"));
        Mta {
            name: var("SMTPCLI_IT_MTA_NAME"),
            setup: TEST_MTAS,
            host,
            port,
            delivery: Delivery::Maildir(var("SMTPCLI_IT_MTA_MAILDIR")),
            log: Some(var("SMTPCLI_IT_MTA_LOG")),
            auth: var("SMTPCLI_IT_MTA_AUTH") == "1",
            starttls: match var("SMTPCLI_IT_MTA_STARTTLS").as_str() {
                "works" => Starttls::Works,
                "broken" => Starttls::Broken,
                other => panic!("SMTPCLI_IT_MTA_STARTTLS is {other:?}, not works or broken"),
            },
        }
    }

    /// Postfix of `scripts/test-servers`.
    fn postfix() -> Mta {
        let var = |name: &str| need_from(name, TEST_SERVERS);
        let (host, port) = host_port("SMTPCLI_IT_SMTP", &var("SMTPCLI_IT_SMTP"));
        Mta {
            name: "postfix".into(),
            setup: TEST_SERVERS,
            host,
            port,
            delivery: Delivery::Maildir(var("SMTPCLI_IT_MAILDIR")),
            log: Some(var("SMTPCLI_IT_POSTFIX_LOG")),
            auth: true,
            starttls: Starttls::Works,
        }
    }

    /// aiosmtpd of `scripts/test-servers` (no log worth reading: it does
    /// not check the client's pacing).
    fn aiosmtpd() -> Mta {
        let var = |name: &str| need_from(name, TEST_SERVERS);
        let (host, port) = host_port("SMTPCLI_IT_AIOSMTPD", &var("SMTPCLI_IT_AIOSMTPD"));
        Mta {
            name: "aiosmtpd".into(),
            setup: TEST_SERVERS,
            host,
            port,
            delivery: Delivery::Spool(var("SMTPCLI_IT_AIOSMTPD_SPOOL")),
            log: None,
            auth: true,
            starttls: Starttls::Works,
        }
    }

    /// A setting that comes with this server (the CA file, the AUTH user);
    /// a failure naming the server's setup when it is not set.
    fn need(&self, var: &str) -> String {
        need_from(var, self.setup)
    }

    /// OpenSMTPD refuses `mail from:x@y` without angle brackets (`553 5.1.0
    /// Sender address syntax error`), as RFC 5321 allows; the others take it.
    fn wants_angle_brackets(&self) -> bool {
        self.name == "opensmtpd"
    }

    /// smtpcli with `--color never`, these arguments, then host and port.
    fn run(&self, args: &[&str], input: &str) -> Outcome {
        let out = smtpcli()
            .args(["--color", "never"])
            .args(args)
            .args([&self.host, &self.port])
            .write_stdin(input.to_string())
            .output()
            .unwrap();
        Outcome {
            code: out.status.code(),
            stdout: text(&out.stdout),
            stderr: text(&out.stderr),
        }
    }

    /// Waits for the message carrying `token`; whether it came.
    fn delivered(&self, token: &str) -> bool {
        let (dir, suffix) = match &self.delivery {
            Delivery::Maildir(maildir) => (std::path::Path::new(maildir).join("new"), ""),
            Delivery::Spool(spool) => (std::path::PathBuf::from(spool), ".eml"),
        };
        wait_for_file_with(&dir, suffix, token, Duration::from_secs(20))
    }
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn all(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// The server's lines (`<<`/`<~`) answering the first line sent that
    /// starts with `sent` (case-insensitive), and the `#` notes after them.
    fn reply_to(&self, sent: &str) -> (Vec<&str>, Vec<&str>) {
        let lines: Vec<&str> = self.stdout.lines().collect();
        let start = lines
            .iter()
            .position(|l| {
                (l.starts_with(">> ") || l.starts_with("~> "))
                    && l[3..]
                        .to_ascii_lowercase()
                        .starts_with(&sent.to_ascii_lowercase())
            })
            .unwrap_or_else(|| panic!("{sent:?} was not sent:\n{}", self.all()));
        let rest = &lines[start + 1..];
        let first = rest
            .iter()
            .position(|l| l.starts_with("<< ") || l.starts_with("<~ "))
            .unwrap_or_else(|| panic!("no reply to {sent:?}:\n{}", self.all()));
        let replies: Vec<&str> = rest[first..]
            .iter()
            .take_while(|l| l.starts_with("<< ") || l.starts_with("<~ "))
            .copied()
            .collect();
        let notes: Vec<&str> = rest[first + replies.len()..]
            .iter()
            .take_while(|l| l.starts_with("# "))
            .copied()
            .collect();
        (replies, notes)
    }
}

/// Polls `dir` for a file (name ending in `suffix`) that contains `token`.
fn wait_for_file_with(dir: &std::path::Path, suffix: &str, token: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    // A delivered file does not change: each is read once. Large ones (the
    // 50 MiB message of another test, left from earlier runs) are not ours
    // and would make every pass take seconds.
    let mut seen = std::collections::HashSet::new();
    loop {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if !name.to_string_lossy().ends_with(suffix)
                    || entry.metadata().is_ok_and(|m| m.len() > 1024 * 1024)
                    || !seen.insert(name)
                {
                    continue;
                }
                if let Ok(bytes) = std::fs::read(entry.path())
                    && bytes.windows(token.len()).any(|w| w == token.as_bytes())
                {
                    return true;
                }
            }
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The reference dialog (DESIGN.md), with `token` in the subject; `<>`
/// around the addresses when `brackets`.
fn reference_dialog(token: &str, sender: &str, brackets: bool) -> String {
    let path = |a: &str| {
        if brackets {
            format!("<{a}>")
        } else {
            a.to_string()
        }
    };
    format!(
        "helo pc0815.example.com\nmail from:{}\nrcpt to:{}\ndata\nSubject: {token}\n\n\
         Dies ist eine Testmail.\n.\nquit\n",
        path(sender),
        path("empfaenger@example.org")
    )
}

// ---------------------------------------------------------------- the scripts

/// The reference dialog typed exactly as in the blog post: it works (and is
/// delivered) where the server takes addresses without angle brackets;
/// where it does not, smtpcli warned before sending and explains the
/// refusal.
fn script_reference_dialog(mta: &Mta) {
    let token = token(&format!("{}-reference", mta.name));
    let out = mta.run(
        &[],
        &reference_dialog(&token, "absender@example.org", false),
    );
    assert!(out.stdout.contains("<< 220 "), "{}", out.all());
    assert!(out.stdout.contains("<< 221 "), "{}", out.all());
    let (reply, notes) = out.reply_to("mail from:absender@example.org");
    if mta.wants_angle_brackets() {
        assert_eq!(out.code, Some(1), "{}", out.all());
        assert!(reply[0].starts_with("<< 553 5.1.0 "), "{}", out.all());
        assert!(
            notes
                .iter()
                .any(|n| n.contains("553 Requested action not taken")),
            "{}",
            out.all()
        );
        // The warning came before the line went out.
        let warned = out
            .stdout
            .find("# RFC 5321 wants the address in angle brackets")
            .expect("the angle-bracket warning");
        assert!(warned < out.stdout.find("<< 553").unwrap(), "{}", out.all());
        assert!(
            out.stdout.contains("message lines dropped"),
            "{}",
            out.all()
        );
    } else {
        assert_eq!(out.code, Some(0), "{}", out.all());
        assert!(reply[0].starts_with("<< 250"), "{}", out.all());
        let (reply, _) = out.reply_to(".");
        assert!(reply[0].starts_with("<< 250"), "{}", out.all());
        assert!(
            mta.delivered(&token),
            "{}: not delivered:\n{}",
            mta.name,
            out.all()
        );
    }
}

/// The reference dialog with `<>` around the addresses: accepted and
/// delivered everywhere.
fn script_reference_dialog_with_brackets(mta: &Mta) {
    let token = token(&format!("{}-brackets", mta.name));
    let out = mta.run(&[], &reference_dialog(&token, "absender@example.org", true));
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        !out.stdout.contains("angle brackets"),
        "no warning:\n{}",
        out.all()
    );
    let (reply, _) = out.reply_to("data");
    assert!(reply[0].starts_with("<< 354"), "{}", out.all());
    let (reply, _) = out.reply_to(".");
    assert!(reply[0].starts_with("<< 250"), "{}", out.all());
    assert!(
        mta.delivered(&token),
        "{}: not delivered:\n{}",
        mta.name,
        out.all()
    );
}

/// EHLO: the capabilities as received, and `:caps` explaining each one.
fn script_ehlo_dialog(mta: &Mta) {
    let out = mta.run(&[], "ehlo pc0815.example.com\n:caps\nquit\n");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let (reply, _) = out.reply_to("ehlo pc0815.example.com");
    assert!(reply.len() > 1, "a multiline 250:\n{}", out.all());
    assert!(
        reply.iter().all(|l| l.starts_with("<< 250")),
        "{}",
        out.all()
    );
    assert!(
        reply.iter().any(|l| l.contains("STARTTLS")),
        "{} offers STARTTLS:\n{}",
        mta.name,
        out.all()
    );
    // :caps: one explained line per keyword after the greeting line.
    let notes: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("# ")).collect();
    for line in &reply[1..] {
        let keyword = line[7..].split_whitespace().next().unwrap();
        let explained = notes
            .iter()
            .find(|n| n[2..].starts_with(keyword))
            .unwrap_or_else(|| panic!("{keyword} not in :caps:\n{}", out.all()));
        assert!(
            explained.len() > keyword.len() + 6,
            "{keyword} unexplained:\n{}",
            out.all()
        );
    }
    assert!(
        !out.stdout.contains("not known to smtpcli"),
        "{} offers an extension smtpcli cannot explain:\n{}",
        mta.name,
        out.all()
    );
}

/// `--starttls`: the report (protocol, cipher, the self-signed verdict);
/// with `--ca-file --verify` the certificate is trusted. Where the server's
/// TLS is broken, smtpcli says the handshake failed and sends nothing more.
fn script_starttls_report(mta: &Mta) {
    let out = mta.run(&["--starttls"], "");
    let (reply, _) = out.reply_to("STARTTLS");
    assert!(reply[0].starts_with("<< 220"), "{}", out.all());
    if mta.starttls == Starttls::Broken {
        assert_eq!(out.code, Some(2), "{}", out.all());
        assert!(out.stderr.contains("TLS handshake failed"), "{}", out.all());
        assert!(!out.stdout.contains("~> "), "{}", out.all());
        eprintln!(
            "notice: {}'s STARTTLS handshake fails on the server's side; the report is not checked",
            mta.name
        );
        return;
    }
    assert_eq!(out.code, Some(0), "{}", out.all());
    for want in [
        "# TLS: TLSv1.",
        ", cipher ",
        "# warning: certificate: NOT TRUSTED",
        "self-signed certificate (CN=mailserver.example.com)",
        "# [0] subject CN=mailserver.example.com",
        "# capabilities after TLS:",
        "~> EHLO ",
        "~> QUIT",
    ] {
        assert!(
            out.stdout.contains(want),
            "{want:?} missing:\n{}",
            out.all()
        );
    }
    let ca = mta.need("SMTPCLI_IT_CA");
    let out = mta.run(&["--starttls", "--verify", "--ca-file", &ca], "");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout.contains("# certificate: trusted"),
        "{}",
        out.all()
    );
}

/// `:auth plain` and `:auth login` over `--starttls` with a trusted
/// certificate, the password from SMTPCLI_PASSWORD, never shown.
fn script_auth(mta: &Mta) {
    if !mta.auth || mta.starttls != Starttls::Works {
        // OpenSMTPD: AUTH only inside TLS, whose handshake fails on the
        // server's side (`starttls_report` checks how smtpcli says so).
        eprintln!(
            "notice: {} offers no AUTH that can be reached (see scripts/test-mtas); nothing to check",
            mta.name
        );
        return;
    }
    let (ca, user, password) = (
        mta.need("SMTPCLI_IT_CA"),
        mta.need("SMTPCLI_IT_USER"),
        mta.need("SMTPCLI_IT_PASSWORD"),
    );
    for mechanism in ["plain", "login"] {
        let out = smtpcli()
            .env("SMTPCLI_PASSWORD", &password)
            .args(["--color", "never", "--starttls", "--ca-file", &ca])
            .args([&mta.host, &mta.port])
            .write_stdin(format!(":auth {mechanism} {user}\n:expect 235\nquit\n"))
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        let all = format!("{mechanism}:\n{stdout}{}", text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert!(stdout.contains("<~ 235 "), "{all}");
        assert!(
            stdout.contains(&format!("~> AUTH {}", mechanism.to_ascii_uppercase())),
            "{all}"
        );
        let visible = stdout.replace("[secret redacted", "");
        assert!(
            !visible.contains(&password),
            "the password is shown:\n{all}"
        );
    }
}

/// `rcpt to:<nosuchuser@example.org>` is refused with a 5xx, and smtpcli
/// explains it: the enhanced code when the server sends one, the basic code
/// otherwise; DATA then sends nothing.
fn script_refused_recipient(mta: &Mta) {
    let out = mta.run(
        &[],
        "ehlo pc0815.example.com\nmail from:<absender@example.org>\n\
         rcpt to:<nosuchuser@example.org>\ndata\nSubject: never sent\n\n.\nquit\n",
    );
    assert_eq!(out.code, Some(1), "{}", out.all());
    let (reply, notes) = out.reply_to("rcpt to:<nosuchuser@example.org>");
    let line = reply[0];
    assert!(line.starts_with("<< 55"), "{}", out.all());
    let code = &line[3..6];
    let note = notes
        .iter()
        .find(|n| n.starts_with(&format!("# {code} ")))
        .unwrap_or_else(|| panic!("{code} not explained:\n{}", out.all()));
    assert!(note.len() > 12, "{}", out.all());
    let enhanced = line[7..]
        .split_whitespace()
        .next()
        .filter(|w| w.split('.').count() == 3 && w.starts_with('5'));
    match enhanced {
        Some(enhanced) => {
            assert!(
                note.contains(&format!(" · {enhanced} ")),
                "{enhanced} not explained:\n{}",
                out.all()
            );
            assert!(!note.contains("not in the registry"), "{}", out.all());
            if enhanced == "5.1.1" {
                assert!(note.contains("Bad destination mailbox address"), "{note}");
            }
        }
        None => eprintln!(
            "notice: {} refuses the recipient without an enhanced code: {line}",
            mta.name
        ),
    }
    assert!(
        out.stdout.contains("message lines dropped"),
        "{}",
        out.all()
    );
}

/// Complaints an MTA logs when a client talks out of turn.
const PACING_COMPLAINTS: &[&str] = &[
    // Exim (smtp_enforce_sync), in mainlog and rejectlog.
    "SMTP protocol synchronization error",
    // Postfix.
    "improper command pipelining",
    // OpenSMTPD, which also answers it and hangs up.
    "Pipelining not supported",
];

/// The reference dialog (HELO, so no pipelining is allowed) written to
/// smtpcli at once: smtpcli waits for each reply, so the server has nothing
/// to complain about.
fn script_pasted_at_once(mta: &Mta) {
    let token = token(&format!("{}-pasted", mta.name));
    let log_start = mta
        .log
        .as_ref()
        .map(|log| std::fs::metadata(log).map(|m| m.len()).unwrap_or(0));
    let sender = format!("{token}@example.org");
    let out = mta.run(&[], &reference_dialog(&token, &sender, true));
    assert_eq!(out.code, Some(0), "{}", out.all());
    for pattern in PACING_COMPLAINTS {
        assert!(!out.stdout.contains(pattern), "{}", out.all());
    }
    let (Some(log), Some(start)) = (mta.log.as_ref(), log_start) else {
        eprintln!(
            "notice: no log for {}: only the replies were checked",
            mta.name
        );
        return;
    };
    // The log names the sender once the message is in; complaints about the
    // session come before that.
    let deadline = Instant::now() + Duration::from_secs(20);
    let logged = loop {
        let bytes = std::fs::read(log).unwrap_or_default();
        let new = text(bytes.get(start as usize..).unwrap_or(&bytes));
        if new.contains(&sender) || Instant::now() > deadline {
            break new;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        logged.contains(&sender),
        "{log} never mentions {sender}; is it {}'s log?",
        mta.name
    );
    let complaints: Vec<&str> = logged
        .lines()
        .filter(|l| PACING_COMPLAINTS.iter().any(|p| l.contains(p)))
        .collect();
    assert!(complaints.is_empty(), "{}: {complaints:#?}", mta.name);
}

// ---------------------------------------------------------------- the tests

/// One test per (server, script): `mta::reference_dialog`,
/// `postfix::ehlo_dialog`, ..., each ignored with the server it needs as the
/// reason, so that plain `cargo test` lists them as ignored.
macro_rules! interop_scripts {
    ($($server:ident => $from_env:expr, $needs:literal;)*) => {
        $(
            mod $server {
                use super::*;

                fn server() -> Mta {
                    $from_env
                }

                #[test]
                #[ignore = $needs]
                fn reference_dialog() {
                    script_reference_dialog(&server());
                }

                #[test]
                #[ignore = $needs]
                fn reference_dialog_with_angle_brackets() {
                    script_reference_dialog_with_brackets(&server());
                }

                #[test]
                #[ignore = $needs]
                fn ehlo_dialog() {
                    script_ehlo_dialog(&server());
                }

                #[test]
                #[ignore = $needs]
                fn starttls_report() {
                    script_starttls_report(&server());
                }

                #[test]
                #[ignore = $needs]
                fn auth_plain_and_login() {
                    script_auth(&server());
                }

                #[test]
                #[ignore = $needs]
                fn refused_recipient_explained() {
                    script_refused_recipient(&server());
                }

                #[test]
                #[ignore = $needs]
                fn pasted_at_once_without_pacing_complaints() {
                    script_pasted_at_once(&server());
                }
            }
        )*
    };
}

interop_scripts! {
    mta => Mta::from_stage(), "needs Exim or OpenSMTPD: scripts/test-mtas exim|opensmtpd start";
    postfix => Mta::postfix(), "needs Postfix: scripts/test-servers start";
    aiosmtpd => Mta::aiosmtpd(), "needs aiosmtpd: scripts/test-servers start";
}
