//! `--audit`: the driver that runs the security self-tests and reports a
//! verdict for each, with the lines of the dialog that prove it.
//!
//! Each test opens its own session through the runner (so `--tls`,
//! `--socks5`, `--proxy` and the timeouts apply as everywhere), and only
//! its commands go out: EHLO, STARTTLS where offered, MAIL and RCPT, VRFY
//! and EXPN, AUTH without credentials (cancelled at once), and for the
//! smuggling test the probes that deliver test messages to `--to` only.
//! What a reply means is decided in `proto::audit`; the raw writes are the
//! engine's (`session::audit`). Here: the order, the evidence, the report.

use std::io::Write;
use std::time::Duration;

mod collector;
mod report;

pub(crate) use collector::Collector;
use report::Case;
pub(crate) use report::Report;

use super::helpers::{HelperError, NoOneToAsk};
use super::runner::{self, Runner};
use crate::config::AuditConfig;
use crate::exit::Exit;
use crate::proto::audit::{self, Finding, RelayCase, Test, Variant, Verdict};
use crate::proto::auth::{Mechanism, Secret};
use crate::proto::command::Command;
use crate::proto::reply::Reply;
use crate::session::SessionError;
use crate::text::{escape, escape_str};

/// How long after one reply a probe waits for the next.
const QUIET: Duration = Duration::from_secs(2);
/// How long STARTTLS injection waits for an answer nobody asked for.
const INJECTED_WAIT: Duration = Duration::from_secs(2);

/// Runs the chosen tests against the target and reports; the exit code is
/// 1 when anything is VULNERABLE, else 2 when a test could not run (no
/// connection, no SMTP answer), else 0.
pub(crate) async fn run<W: Write>(config: &AuditConfig, mut report: Report<W>) -> Exit {
    report.intro(&[
        format!(
            "auditing {} ({}); test messages go to <{}> only",
            config.connect.target,
            config
                .tests
                .iter()
                .map(|t| t.name())
                .collect::<Vec<_>>()
                .join(", "),
            escape_str(&config.to)
        ),
        "audit only servers you run or are allowed to test".to_string(),
    ]);
    let mut auditor = Auditor {
        config,
        cases: Vec::new(),
        failed: None,
    };
    for test in &config.tests {
        let before = auditor.cases.len();
        if let Err(e) = auditor.test(*test).await {
            auditor.cases.push(Case {
                test: *test,
                case: None,
                finding: Finding {
                    verdict: Verdict::Unknown,
                    detail: format!("the test could not finish: {e}"),
                },
                evidence: Vec::new(),
            });
            auditor.failed.get_or_insert_with(|| format!("{test}: {e}"));
        }
        for case in &auditor.cases[before..] {
            report.case(case);
        }
    }
    let count = |v: Verdict| {
        auditor
            .cases
            .iter()
            .filter(|c| c.finding.verdict == v)
            .count()
    };
    let counts = [
        count(Verdict::Vulnerable),
        count(Verdict::Unknown),
        count(Verdict::Pass),
    ];
    let (exit, why) = if counts[0] > 0 {
        let first = auditor
            .cases
            .iter()
            .find(|c| c.finding.verdict == Verdict::Vulnerable)
            .map(|c| format!("{} is VULNERABLE", c.test));
        (Exit::Permanent, first)
    } else if let Some(failed) = auditor.failed.take() {
        (Exit::Local, Some(failed))
    } else {
        (Exit::Success, None)
    };
    report.end(exit, why.as_deref(), counts);
    exit
}

struct Auditor<'a> {
    config: &'a AuditConfig,
    cases: Vec<Case>,
    /// The first test that could not run, and why.
    failed: Option<String>,
}

type Session = Runner<Collector>;

impl Auditor<'_> {
    async fn test(&mut self, test: Test) -> Result<(), SessionError> {
        match test {
            Test::BannerLeak => self.banner_leak().await,
            Test::AuthPlaintext => self.auth_plaintext().await,
            Test::StarttlsRequired => self.starttls_required().await,
            Test::StarttlsInjection => self.starttls_injection().await,
            Test::VrfyExpn => self.vrfy_expn().await,
            Test::Relay => self.relay().await,
            Test::Smuggling => {
                for variant in audit::VARIANTS {
                    if let Err(e) = self.smuggling(variant).await {
                        self.cases.push(Case {
                            test,
                            case: Some(variant.name.to_string()),
                            finding: Finding {
                                verdict: Verdict::Unknown,
                                detail: format!("the probe could not finish: {e}"),
                            },
                            evidence: Vec::new(),
                        });
                        self.failed.get_or_insert_with(|| format!("{test}: {e}"));
                    }
                }
                Ok(())
            }
        }
    }

    /// How long a probe waits for the reply to its message: the reply
    /// timeout (`--timeout`), not the ten minutes a real message may take.
    fn reply_wait(&self) -> Duration {
        self.config.connect.session.timeouts.reply
    }

    fn push(&mut self, test: Test, case: Option<&str>, finding: Finding, evidence: Vec<String>) {
        self.cases.push(Case {
            test,
            case: case.map(str::to_string),
            finding,
            evidence,
        });
    }

    /// A new session, greeted (EHLO) and, when `secure` and the server
    /// offers it (and the connection is not TLS already), under STARTTLS.
    async fn open(&self, secure: bool) -> Result<Session, SessionError> {
        let mut runner = match runner::open(&self.config.connect, Collector::default(), false).await
        {
            Ok(runner) => runner,
            Err((e, _)) => return Err(e),
        };
        if !runner.session.is_open() {
            return Err(SessionError::NotConnected);
        }
        let name = runner.helpers.ehlo_name(&runner.session);
        let reply = runner
            .session
            .ehlo(&name, self.config.connect.helpers.lmtp, false)
            .await?;
        let offered = runner
            .session
            .capabilities()
            .is_some_and(|c| c.supports_starttls());
        if secure
            && offered
            && reply.is_positive_completion()
            && !runner.session.status().tls
            && !runner.session.starttls(&name, false).await?
        {
            runner
                .session
                .sink()
                .note("STARTTLS failed: going on in plaintext");
        }
        Ok(runner)
    }

    async fn banner_leak(&mut self) -> Result<(), SessionError> {
        let mut runner = self.open(false).await?;
        let session = &mut runner.session;
        let banner = session.banner().cloned();
        let ehlo = session.last_reply().cloned();
        session.quit().await?;
        let Some(banner) = banner else {
            return Err(SessionError::NotConnected);
        };
        let mut evidence = reply_lines("<<", &banner);
        if let Some(first) = ehlo.as_ref().and_then(|r| r.lines.first()) {
            evidence.push(format!("<< {}", escape(&first.raw)));
        }
        let finding = audit::read_banner(&banner, ehlo.as_ref());
        self.push(Test::BannerLeak, None, finding, evidence);
        Ok(())
    }

    async fn auth_plaintext(&mut self) -> Result<(), SessionError> {
        let mut runner = self.open(false).await?;
        let session = &mut runner.session;
        let tls = session.status().tls;
        let caps = session.capabilities().cloned().unwrap_or_default();
        let ehlo = session.last_reply().cloned();
        session.quit().await?;
        let mechanisms = caps.auth_mechanisms();
        let evidence: Vec<String> = ehlo
            .iter()
            .flat_map(|r| r.lines.iter())
            .filter(|l| {
                let text = l.text();
                let text = text.unchecked_str().to_ascii_uppercase();
                text.starts_with("AUTH") || text.starts_with("STARTTLS")
            })
            .map(|l| format!("<< {}", escape(&l.raw)))
            .collect();
        let finding = if tls {
            Finding {
                verdict: Verdict::Unknown,
                detail:
                    "the connection is TLS from the start (--tls): nothing is offered before TLS"
                        .into(),
            }
        } else if mechanisms.is_empty() {
            Finding {
                verdict: Verdict::Pass,
                detail: "no AUTH offered before TLS".into(),
            }
        } else {
            Finding {
                verdict: Verdict::Vulnerable,
                detail: format!(
                    "AUTH {} offered before TLS: a client may send its password in the clear",
                    escape_str(&mechanisms.join(" "))
                ),
            }
        };
        self.push(Test::AuthPlaintext, None, finding, evidence);
        Ok(())
    }

    async fn starttls_required(&mut self) -> Result<(), SessionError> {
        let mut runner = self.open(false).await?;
        let session = &mut runner.session;
        if session.status().tls {
            session.quit().await?;
            self.push(
                Test::StarttlsRequired,
                None,
                Finding {
                    verdict: Verdict::Unknown,
                    detail: "the connection is TLS from the start (--tls): nothing to require"
                        .into(),
                },
                Vec::new(),
            );
            return Ok(());
        }
        let offered = session
            .capabilities()
            .is_some_and(|c| c.supports_starttls());
        session.sink().mark();
        let mail = session
            .command(Command::Mail {
                reverse_path: self.config.from.clone(),
                params: Vec::new(),
            })
            .await?;
        let mut accepted = Vec::new();
        if mail.is_positive_completion() {
            accepted.push(format!("MAIL ({})", code_of(&mail)));
            let rcpt = session
                .command(Command::Rcpt {
                    forward_path: self.config.to.clone(),
                    params: Vec::new(),
                })
                .await?;
            if rcpt.is_positive_completion() {
                accepted.push(format!("RCPT ({})", code_of(&rcpt)));
            }
            session.command(Command::Rset).await?;
        }
        // AUTH with no credentials: a 334 is the server asking for them in
        // the clear; '*' cancels (RFC 4954 §4).
        let auth = session
            .command(Command::Auth {
                mechanism: "LOGIN".into(),
                initial_response: None,
            })
            .await?;
        if auth.code().map(|c| c.value()) == Some(334) {
            accepted.push("AUTH (334)".into());
            session.cancel_auth().await?;
        }
        let evidence = session.sink().since_mark();
        session.quit().await?;
        let finding = if accepted.is_empty() {
            Finding {
                verdict: Verdict::Pass,
                detail: format!(
                    "MAIL and AUTH are refused before STARTTLS ({})",
                    code_of(&mail)
                ),
            }
        } else {
            Finding {
                verdict: Verdict::Vulnerable,
                detail: format!(
                    "accepted before STARTTLS: {}{}{}",
                    accepted.join(", "),
                    if offered {
                        ""
                    } else {
                        " (STARTTLS is not even offered)"
                    },
                    if self.config.connect.target.port == 25 {
                        "; on port 25 a public MX must take mail in plaintext (RFC 3207 \
                         §4), so this matters where it should not (submission, a relay \
                         for your own users)"
                    } else {
                        ""
                    }
                ),
            }
        };
        self.push(Test::StarttlsRequired, None, finding, evidence);
        Ok(())
    }

    async fn starttls_injection(&mut self) -> Result<(), SessionError> {
        let mut runner = self.open(false).await?;
        let session = &mut runner.session;
        let offered = session
            .capabilities()
            .is_some_and(|c| c.supports_starttls());
        if session.status().tls || !offered {
            session.quit().await?;
            let detail = if offered {
                "the connection is TLS from the start (--tls): no STARTTLS to inject into"
            } else {
                "STARTTLS is not offered: nothing to inject into"
            };
            self.push(
                Test::StarttlsInjection,
                None,
                Finding {
                    verdict: Verdict::Unknown,
                    detail: detail.into(),
                },
                Vec::new(),
            );
            return Ok(());
        }
        session.sink().mark();
        let injection = session
            .starttls_injection(Command::Noop(None), INJECTED_WAIT)
            .await?;
        let evidence = session.sink().since_mark();
        session.quit().await?;
        let finding = if !injection.starttls.is_positive_completion() {
            Finding {
                verdict: Verdict::Unknown,
                detail: format!(
                    "STARTTLS was refused ({}) with a command behind it",
                    code_of(&injection.starttls)
                ),
            }
        } else if let Some(answer) = injection.inside_tls.first() {
            Finding {
                verdict: Verdict::Vulnerable,
                detail: format!(
                    "the NOOP sent in plaintext with STARTTLS was answered inside TLS ({}): \
                     the server kept plaintext input across the handshake (CVE-2011-0411)",
                    code_of(answer)
                ),
            }
        } else if let Some(answer) = injection.plaintext.first() {
            Finding {
                verdict: Verdict::Pass,
                detail: format!(
                    "the injected NOOP was answered in plaintext before TLS ({}), \
                     not inside TLS",
                    code_of(answer)
                ),
            }
        } else {
            Finding {
                verdict: Verdict::Pass,
                detail: "the NOOP sent in plaintext with STARTTLS was not answered inside TLS"
                    .into(),
            }
        };
        self.push(Test::StarttlsInjection, None, finding, evidence);
        Ok(())
    }

    async fn vrfy_expn(&mut self) -> Result<(), SessionError> {
        let mut runner = self.open(true).await?;
        let session = &mut runner.session;
        let local = self
            .config
            .to
            .rsplit_once('@')
            .map_or(self.config.to.as_str(), |(l, _)| l)
            .to_string();
        let made_up = format!("smtpcli-audit-nosuchuser-{}", std::process::id());
        for (verb, make) in [
            ("VRFY", Command::Vrfy as fn(String) -> Command),
            ("EXPN", Command::Expn as fn(String) -> Command),
        ] {
            session.sink().mark();
            let known = session.command(make(local.clone())).await?;
            let unknown = session.command(make(made_up.clone())).await?;
            let evidence = session.sink().since_mark();
            let finding = audit::read_verify(verb, &known, &unknown);
            self.push(Test::VrfyExpn, Some(verb), finding, evidence);
        }
        session.quit().await?;
        Ok(())
    }

    async fn relay(&mut self) -> Result<(), SessionError> {
        let mut runner = self.open(true).await?;
        let session = &mut runner.session;
        for case in audit::relay_matrix(&self.config.from, &self.config.to) {
            session.command(Command::Rset).await?;
            session.sink().mark();
            let (mail, rcpt) = relay_row(session, &case).await?;
            let evidence = session.sink().since_mark();
            let finding = audit::read_relay(&case, &mail, rcpt.as_ref());
            self.push(Test::Relay, Some(&case.name), finding, evidence);
            if !session.is_open() {
                break;
            }
        }
        if session.is_open() {
            self.relay_after_auth(&mut runner).await?;
        }
        runner.session.quit().await?;
        Ok(())
    }

    /// The relay rows with AUTH: after a login with made-up credentials
    /// (refused, or the server is open), and, with `--user`, after a real
    /// one (informational: an authenticated user may relay).
    async fn relay_after_auth(&mut self, runner: &mut Session) -> Result<(), SessionError> {
        let offered = runner
            .session
            .capabilities()
            .map(|c| c.auth_mechanisms())
            .unwrap_or_default();
        let mechanism = if offered.iter().any(|m| m.eq_ignore_ascii_case("PLAIN")) {
            Mechanism::Plain
        } else if offered.iter().any(|m| m.eq_ignore_ascii_case("LOGIN")) {
            Mechanism::Login
        } else {
            return Ok(());
        };
        let session = &mut runner.session;
        session.command(Command::Rset).await?;
        session.sink().mark();
        let made_up = Secret::new(token());
        let reply = session
            .auth(mechanism, "smtpcli-audit-nobody", &made_up)
            .await?;
        if let Some(finding) = audit::read_made_up_auth(&reply) {
            let evidence = session.sink().since_mark();
            self.push(
                Test::Relay,
                Some("AUTH with made-up credentials"),
                finding,
                evidence,
            );
            return Ok(());
        }
        let case = audit::relay_after_auth(&self.config.from, &self.config.to, true);
        let (mail, rcpt) = relay_row(session, &case).await?;
        let evidence = session.sink().since_mark();
        let finding = audit::read_relay(&case, &mail, rcpt.as_ref());
        self.push(Test::Relay, Some(&case.name), finding, evidence);
        if self.config.connect.helpers.user.is_none() || !session.is_open() {
            return Ok(());
        }
        session.command(Command::Rset).await?;
        runner.session.sink().mark();
        let case = audit::relay_after_auth(&self.config.from, &self.config.to, false);
        let logged_in = runner
            .helpers
            .auth(&mut runner.session, mechanism, None, &mut NoOneToAsk)
            .await;
        let session = &mut runner.session;
        let finding = match logged_in {
            Err(HelperError::Session(e)) => return Err(e),
            Err(HelperError::Local(why)) => Finding {
                verdict: Verdict::Unknown,
                detail: format!("not tried: {why}"),
            },
            Err(HelperError::NoTls) => Finding {
                verdict: Verdict::Unknown,
                detail: "not tried: no TLS".into(),
            },
            Ok(()) if session.status().authenticated.is_none() => Finding {
                verdict: Verdict::Unknown,
                detail: format!(
                    "the login as --user was refused ({})",
                    session
                        .last_reply()
                        .map_or_else(|| "no reply".into(), code_of)
                ),
            },
            Ok(()) => {
                let (mail, rcpt) = relay_row(session, &case).await?;
                audit::read_relay(&case, &mail, rcpt.as_ref())
            }
        };
        let evidence = session.sink().since_mark();
        self.push(Test::Relay, Some(&case.name), finding, evidence);
        Ok(())
    }

    async fn smuggling(&mut self, variant: &Variant) -> Result<(), SessionError> {
        let mut runner = self.open(true).await?;
        let session = &mut runner.session;
        let token = token();
        let (from, to) = (&self.config.from, &self.config.to);
        let payload = audit::smuggling_payload(variant, from, to, &token);
        let window = ending_window(&payload, variant);
        let (carrier, replies) = if variant.pipelined {
            let pipelining = session
                .capabilities()
                .is_some_and(|c| c.supports_pipelining());
            if !pipelining {
                session.quit().await?;
                self.push(
                    Test::Smuggling,
                    Some(variant.name),
                    Finding {
                        verdict: Verdict::Unknown,
                        detail: "PIPELINING is not offered: the pipelined variant does not apply"
                            .into(),
                    },
                    Vec::new(),
                );
                return Ok(());
            }
            session.sink().mark();
            let mut bytes = audit::pipelined_envelope(from, to);
            bytes.extend_from_slice(&payload);
            let mut got = session.probe(&bytes, self.reply_wait(), QUIET, 8).await?;
            let carrier: Vec<Reply> = got.replies.drain(..got.replies.len().min(3)).collect();
            (carrier, got)
        } else {
            session.sink().mark();
            let mut carrier = Vec::new();
            for command in [
                Command::Mail {
                    reverse_path: from.clone(),
                    params: Vec::new(),
                },
                Command::Rcpt {
                    forward_path: to.clone(),
                    params: Vec::new(),
                },
            ] {
                let reply = session.command(command).await?;
                let ok = reply.is_positive_completion();
                carrier.push(reply);
                if !ok {
                    break;
                }
            }
            if carrier.iter().all(Reply::is_positive_completion) {
                carrier.push(session.data_command().await?);
            }
            let ready = carrier.last().and_then(|r| r.code()).map(|c| c.value()) == Some(354);
            let got = if ready {
                session.probe(&payload, self.reply_wait(), QUIET, 5).await?
            } else {
                Default::default()
            };
            (carrier, got)
        };
        let ready = carrier.len() == 3
            && carrier[..2].iter().all(Reply::is_positive_completion)
            && carrier[2].code().map(|c| c.value()) == Some(354);
        let mut replies = replies;
        // The smuggled message was let in (354): its final reply may take a
        // content filter's time.
        if ready
            && replies.replies.len() == 4
            && replies.replies[3].code().map(|c| c.value()) == Some(354)
            && !replies.closed
        {
            let more = session.probe_replies(self.reply_wait(), QUIET, 1).await?;
            replies.replies.extend(more.replies);
            replies.closed |= more.closed;
        }
        let mut evidence = session.sink().since_mark_received();
        evidence.insert(0, format!(">> … {window}"));
        if session.is_open() {
            session.quit().await?;
        }
        let finding = if ready {
            let (_, finding) = audit::read_smuggling(&replies.replies, replies.closed);
            finding
        } else {
            Finding {
                verdict: Verdict::Unknown,
                detail: format!(
                    "the carrier message was not let in ({}): check --from and --to",
                    carrier
                        .last()
                        .map_or_else(|| "no reply".to_string(), code_of)
                ),
            }
        };
        let mut finding = finding;
        finding.detail = format!("{} [token {token}]", finding.detail);
        self.push(Test::Smuggling, Some(variant.name), finding, evidence);
        Ok(())
    }
}

/// One relay row (after an RSET): MAIL, and RCPT if MAIL was accepted.
/// Never DATA.
async fn relay_row(
    session: &mut crate::session::Session<Collector>,
    case: &RelayCase,
) -> Result<(Reply, Option<Reply>), SessionError> {
    let mail = session
        .command(Command::Mail {
            reverse_path: case.from.clone(),
            params: Vec::new(),
        })
        .await?;
    if !mail.is_positive_completion() {
        return Ok((mail, None));
    }
    let rcpt = session
        .command(Command::Rcpt {
            forward_path: case.to.clone(),
            params: Vec::new(),
        })
        .await?;
    Ok((mail, Some(rcpt)))
}

/// The bytes around a variant's sequence, escaped: what proves which
/// sequence went out.
fn ending_window(payload: &[u8], variant: &Variant) -> String {
    let marker = b"MAIL FROM:";
    let at = payload
        .windows(marker.len())
        .position(|w| w == marker)
        .unwrap_or(0);
    let start = at.saturating_sub(variant.ending.len() + 24);
    let end = (at + marker.len()).min(payload.len());
    format!("{}…", escape(&payload[start..end]))
}

fn code_of(reply: &Reply) -> String {
    reply
        .code()
        .map_or_else(|| "no code".to_string(), |c| c.to_string())
}

fn reply_lines(prefix: &str, reply: &Reply) -> Vec<String> {
    reply
        .lines
        .iter()
        .map(|l| format!("{prefix} {}", escape(&l.raw)))
        .collect()
}

/// A token unique to one probe, to find its messages by.
fn token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("audit-{}-{nanos}", std::process::id())
}
