//! `--probe`: one address of one mail server, met the way a sending MTA
//! meets it, measured stage by stage.
//!
//! [`probe`] connects, reads the banner, sends EHLO, STARTTLS when it is
//! offered (or runs implicit TLS), the handshake and its report, EHLO
//! again, and QUIT; it times each stage and stops at the first that fails,
//! naming the failure's [`ErrorClass`]. Every stage is bounded by the
//! session's timeouts; QUIT by [`QUIT_LIMIT`]; everything the server sends
//! by [`ProbeSpec::max_bytes`]. Nothing here prints: the driver
//! (`ui::probe`) schedules probes and writes what they found.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Event, EventSink, ReplyTo, Session, SessionError, SessionOptions};
use crate::net::tls::{TlsError, TlsReport};
use crate::net::{ConnectOptions, NetError, Target};
use crate::proto::command::Command;
use crate::proto::ehlo::Capabilities;
use crate::proto::reply::Reply;

/// How long QUIT may take: the probe's findings are in by then.
pub const QUIT_LIMIT: Duration = Duration::from_secs(1);

/// One address to probe.
#[derive(Clone, Debug)]
pub struct ProbeSpec {
    /// Where to connect.
    pub addr: SocketAddr,
    /// Connection options (family, source address, connect timeout); the
    /// address is connected to directly.
    pub connect: ConnectOptions,
    /// TLS settings (SNI and the name the certificate is checked against
    /// are the server's name), timeouts, implicit TLS.
    pub session: SessionOptions,
    /// The name to greet with.
    pub ehlo: String,
    /// The most the server may send before the probe gives up on it.
    pub max_bytes: u64,
    /// Set once the server has greeted (for a scheduler that sets aside
    /// servers that keep a connection open without a word).
    pub greeted: Arc<AtomicBool>,
}

/// A stage of the probe, in dialog order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Resolving a domain's MX hosts and their addresses (the driver's).
    Dns,
    /// The TCP connection.
    Connect,
    /// The greeting.
    Banner,
    /// EHLO.
    Ehlo,
    /// The reply to STARTTLS.
    Starttls,
    /// The TLS handshake (implicit TLS: before the banner).
    Tls,
    /// EHLO again, inside TLS.
    EhloTls,
    /// QUIT.
    Quit,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 8] = [
        Stage::Dns,
        Stage::Connect,
        Stage::Banner,
        Stage::Ehlo,
        Stage::Starttls,
        Stage::Tls,
        Stage::EhloTls,
        Stage::Quit,
    ];

    /// The name in JSON and in the summary.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Dns => "dns",
            Stage::Connect => "connect",
            Stage::Tls => "tls",
            Stage::Banner => "banner",
            Stage::Ehlo => "ehlo",
            Stage::Starttls => "starttls",
            Stage::EhloTls => "ehlo_tls",
            Stage::Quit => "quit",
        }
    }
}

/// Why a probe failed, in the classes a fleet report counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorClass {
    /// The name did not resolve, or has no usable address or MX.
    Dns,
    /// The connection was refused (or the host or network unreachable).
    Refused,
    /// A stage got no answer in time.
    Timeout,
    /// The connection was accepted and closed without a greeting.
    NoBanner,
    /// The TLS handshake failed.
    Tls,
    /// The server said no: a 4xx/5xx banner, EHLO or STARTTLS refused, or
    /// STARTTLS not offered.
    Policy,
    /// The server broke the protocol: a malformed reply, a close in the
    /// middle of the dialog, more than the byte cap.
    Protocol,
}

impl ErrorClass {
    /// Every class, in report order.
    pub const ALL: [ErrorClass; 7] = [
        ErrorClass::Dns,
        ErrorClass::Refused,
        ErrorClass::Timeout,
        ErrorClass::NoBanner,
        ErrorClass::Tls,
        ErrorClass::Policy,
        ErrorClass::Protocol,
    ];

    /// The name in JSON and in the summary.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Dns => "dns",
            ErrorClass::Refused => "refused",
            ErrorClass::Timeout => "timeout",
            ErrorClass::NoBanner => "no_banner",
            ErrorClass::Tls => "tls",
            ErrorClass::Policy => "policy",
            ErrorClass::Protocol => "protocol",
        }
    }
}

/// What stopped a probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeError {
    /// The class, for counting.
    pub class: ErrorClass,
    /// The stage it happened in.
    pub stage: Stage,
    /// In words (server text in it is already escaped).
    pub message: String,
}

/// How TLS was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsUse {
    /// No TLS (not offered, refused, or the probe stopped before it).
    None,
    /// STARTTLS.
    Starttls,
    /// TLS from the first byte.
    Implicit,
}

/// What one probe found.
#[derive(Clone, Debug)]
pub struct Probe {
    /// Milliseconds per stage, for the stages that ran.
    pub stages: Vec<(Stage, Duration)>,
    /// The whole probe (not counting DNS).
    pub total: Duration,
    /// The greeting, if one came.
    pub banner: Option<Reply>,
    /// The capabilities before TLS.
    pub before: Option<Capabilities>,
    /// The capabilities inside TLS.
    pub after: Option<Capabilities>,
    /// How TLS was used.
    pub tls_use: TlsUse,
    /// The TLS report, when a handshake finished.
    pub tls: Option<TlsReport>,
    /// What stopped the probe, if anything did.
    pub error: Option<ProbeError>,
    /// Bytes read from the server (0 when no session was opened).
    pub bytes: u64,
}

impl Probe {
    /// Whether the address passed: the dialog completed over TLS with a
    /// trusted certificate.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.tls.as_ref().is_some_and(TlsReport::is_trusted)
    }

    /// The time a stage took, if it ran.
    pub fn stage(&self, stage: Stage) -> Option<Duration> {
        self.stages
            .iter()
            .find(|(s, _)| *s == stage)
            .map(|(_, took)| *took)
    }
}

/// What the probe's session reports, kept small.
#[derive(Debug, Default)]
struct Findings {
    greeted: Arc<AtomicBool>,
    connect_time: Option<Duration>,
    banner_latency: Option<Duration>,
    last_latency: Option<Duration>,
    tls_seen: bool,
}

impl EventSink for Findings {
    fn event(&mut self, event: Event) {
        match event {
            Event::Connected(facts) => self.connect_time = Some(facts.connect_time),
            Event::Reply { to, latency, .. } => {
                if to == ReplyTo::Banner {
                    self.banner_latency = Some(latency);
                    self.greeted.store(true, Ordering::Relaxed);
                }
                self.last_latency = Some(latency);
            }
            Event::Tls(_) => self.tls_seen = true,
            _ => {}
        }
    }
}

/// Probes one address: connect, banner, EHLO, TLS, EHLO, QUIT.
pub async fn probe(spec: &ProbeSpec) -> Probe {
    let started = Instant::now();
    let mut found = Probe {
        stages: Vec::new(),
        total: Duration::ZERO,
        banner: None,
        before: None,
        after: None,
        tls_use: TlsUse::None,
        tls: None,
        error: None,
        bytes: 0,
    };
    let implicit = spec.session.implicit_tls;
    let timeout = spec.session.timeouts.reply;
    let target = Target {
        host: spec.addr.ip().to_string(),
        port: spec.addr.port(),
    };
    let opened = Session::open(
        &target,
        &spec.connect,
        spec.session.clone(),
        Findings {
            greeted: Arc::clone(&spec.greeted),
            ..Findings::default()
        },
    )
    .await;
    let mut session = match opened {
        Ok(session) => session,
        Err((e, findings)) => {
            let stage = match (findings.connect_time, findings.tls_seen) {
                (None, _) => Stage::Connect,
                (Some(_), false) if implicit => Stage::Tls,
                _ => Stage::Banner,
            };
            record_open(&mut found, &findings, started.elapsed(), implicit);
            found.error = Some(classify(&e, stage, timeout, implicit));
            found.total = started.elapsed();
            return found;
        }
    };
    session.limit_received(spec.max_bytes);
    record_open(&mut found, session.sink(), started.elapsed(), implicit);
    if implicit {
        found.tls_use = TlsUse::Implicit;
        found.tls = session.tls_report().cloned();
    }
    found.banner = session.banner().cloned();
    let outcome = dialog(&mut session, spec, &mut found).await;
    if let Err(error) = outcome {
        found.error = Some(error);
    }
    if session.is_open() {
        let quit_started = Instant::now();
        if tokio::time::timeout(QUIT_LIMIT, session.quit())
            .await
            .is_ok()
        {
            found.stages.push((Stage::Quit, quit_started.elapsed()));
        }
    }
    session.close().await;
    found.bytes = session.received();
    found.total = started.elapsed();
    found
}

/// The stages after the banner; `Err` says which failed and why.
async fn dialog(
    session: &mut Session<Findings>,
    spec: &ProbeSpec,
    found: &mut Probe,
) -> Result<(), ProbeError> {
    let timeout = spec.session.timeouts.reply;
    let banner = found.banner.clone();
    match banner.as_ref().and_then(Reply::class_digit) {
        Some(2) => {}
        Some(_) => {
            return Err(ProbeError {
                class: ErrorClass::Policy,
                stage: Stage::Banner,
                message: format!(
                    "the banner refuses service: {}",
                    first_line(banner.as_ref())
                ),
            });
        }
        None => {
            return Err(ProbeError {
                class: ErrorClass::Protocol,
                stage: Stage::Banner,
                message: format!(
                    "the banner is not an SMTP reply: {}",
                    first_line(banner.as_ref())
                ),
            });
        }
    }

    let began = Instant::now();
    let result = session.ehlo(&spec.ehlo, false, false).await;
    found.stages.push((Stage::Ehlo, began.elapsed()));
    let reply = result.map_err(|e| classify(&e, Stage::Ehlo, timeout, false))?;
    refused(&reply, Stage::Ehlo, "EHLO")?;
    let capabilities = session.capabilities().cloned();
    if found.tls_use == TlsUse::Implicit {
        found.after = capabilities;
        return Ok(());
    }
    found.before = capabilities;
    if !found
        .before
        .as_ref()
        .is_some_and(Capabilities::supports_starttls)
    {
        return Err(ProbeError {
            class: ErrorClass::Policy,
            stage: Stage::Starttls,
            message: "STARTTLS is not offered".into(),
        });
    }

    let began = Instant::now();
    let result = session.command(Command::StartTls).await;
    let elapsed = began.elapsed();
    let latency = session.sink().last_latency.unwrap_or(elapsed).min(elapsed);
    if session.sink().tls_seen {
        found.stages.push((Stage::Starttls, latency));
        found
            .stages
            .push((Stage::Tls, elapsed.saturating_sub(latency)));
        found.tls = session.tls_report().cloned();
        found.tls_use = TlsUse::Starttls;
    }
    let reply = match result {
        Ok(reply) => reply,
        Err(e) => {
            let stage = if session.sink().last_latency.is_some() && reply_was_220(session) {
                Stage::Tls
            } else {
                Stage::Starttls
            };
            return Err(classify(&e, stage, timeout, false));
        }
    };
    if !found.stages.iter().any(|(s, _)| *s == Stage::Starttls) {
        found.stages.push((Stage::Starttls, elapsed));
    }
    refused(&reply, Stage::Starttls, "STARTTLS")?;
    if found.tls.is_none() {
        return Err(ProbeError {
            class: ErrorClass::Protocol,
            stage: Stage::Starttls,
            message: format!(
                "STARTTLS was answered {} but TLS did not start",
                first_line(Some(&reply))
            ),
        });
    }

    let began = Instant::now();
    let result = session.ehlo(&spec.ehlo, false, false).await;
    found.stages.push((Stage::EhloTls, began.elapsed()));
    let reply = result.map_err(|e| classify(&e, Stage::EhloTls, timeout, false))?;
    refused(&reply, Stage::EhloTls, "EHLO inside TLS")?;
    found.after = session.capabilities().cloned();
    Ok(())
}

fn reply_was_220(session: &Session<Findings>) -> bool {
    session
        .last_reply()
        .and_then(Reply::code)
        .is_some_and(|c| c.value() == 220)
}

/// A refusal (not 2xx) ends the probe as the server's policy.
fn refused(reply: &Reply, stage: Stage, what: &str) -> Result<(), ProbeError> {
    match reply.class_digit() {
        Some(2) => Ok(()),
        Some(_) => Err(ProbeError {
            class: ErrorClass::Policy,
            stage,
            message: format!("{what} refused: {}", first_line(Some(reply))),
        }),
        None => Err(ProbeError {
            class: ErrorClass::Protocol,
            stage,
            message: format!(
                "the reply to {what} is not an SMTP reply: {}",
                first_line(Some(reply))
            ),
        }),
    }
}

fn record_open(found: &mut Probe, findings: &Findings, elapsed: Duration, implicit: bool) {
    let Some(connect) = findings.connect_time else {
        found.stages.push((Stage::Connect, elapsed));
        return;
    };
    found.stages.push((Stage::Connect, connect));
    let banner = findings.banner_latency;
    if implicit && findings.tls_seen {
        let tls = elapsed
            .saturating_sub(connect)
            .saturating_sub(banner.unwrap_or_default());
        found.stages.push((Stage::Tls, tls));
    }
    let banner_took = banner.unwrap_or_else(|| elapsed.saturating_sub(connect));
    found.stages.push((Stage::Banner, banner_took));
}

/// The first line of a reply, escaped and cut, for an error message.
fn first_line(reply: Option<&Reply>) -> String {
    let Some(line) = reply.and_then(|r| r.lines.first()) else {
        return "(nothing)".into();
    };
    let shown = crate::text::escape(&line.raw);
    match shown.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &shown[..at]),
        None => shown,
    }
}

/// The class of a session error in `stage`.
fn classify(e: &SessionError, stage: Stage, timeout: Duration, implicit: bool) -> ProbeError {
    let class = match e {
        SessionError::Net(NetError::Connect {
            attempts, reason, ..
        }) => {
            let timed_out = reason.iter().any(|r| r.contains("no answer within"))
                || attempts
                    .iter()
                    .any(|a| a.error.contains("no answer within"));
            if timed_out {
                ErrorClass::Timeout
            } else {
                ErrorClass::Refused
            }
        }
        SessionError::Net(
            NetError::Resolve { .. }
            | NetError::NoAddress { .. }
            | NetError::Dns(_)
            | NetError::NullMx { .. },
        ) => ErrorClass::Dns,
        SessionError::Net(NetError::TooMuch(_)) => ErrorClass::Protocol,
        SessionError::Net(NetError::WriteTimeout(_))
        | SessionError::Timeout(..)
        | SessionError::TlsTimeout(_) => ErrorClass::Timeout,
        SessionError::Tls(TlsError::Handshake { .. } | TlsError::Rejected(_)) => ErrorClass::Tls,
        SessionError::Closed(_) if stage == Stage::Banner => ErrorClass::NoBanner,
        SessionError::Net(NetError::Io { .. }) if stage == Stage::Banner => ErrorClass::NoBanner,
        _ => ErrorClass::Protocol,
    };
    let message = match class {
        ErrorClass::Timeout if matches!(e, SessionError::Net(NetError::Connect { .. })) => {
            format!("no answer to the connection within {} s", secs(timeout))
        }
        ErrorClass::Timeout if stage == Stage::Banner && !implicit => format!(
            "no banner within {} s (a port that speaks TLS from the first byte, like 465, needs --tls)",
            secs(timeout)
        ),
        _ => e.to_string(),
    };
    ProbeError {
        class,
        stage,
        message,
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    }
}
