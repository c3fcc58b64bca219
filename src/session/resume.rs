//! The resumption test (`--resume-test`, `:tls resume`): new connections to
//! the same server address, each offering the TLS session (or ticket) the
//! last one was given, as posttls-finger's reconnection does.
//!
//! Each attempt is a short dialog of its own beside the session (which stays
//! as it was): the banner, EHLO and STARTTLS (or TLS from the first byte),
//! the handshake offering the saved session, EHLO again (its domain tells
//! which backend answered behind a load balancer; TLS 1.3 tickets arrive with
//! its reply), QUIT. Attempts stop at the first resumption.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{Event, EventSink, Session, SessionError};
use crate::net::stream::Stream;
use crate::net::tls::{self, SavedSession, TlsReport};
use crate::net::transport::{ReadOutcome, Transport};
use crate::proto::command::Command;
use crate::proto::ehlo::Capabilities;
use crate::proto::reply::Reply;
use crate::text::Untrusted;

/// Attempts at most, as posttls-finger's default reconnections.
pub const ATTEMPTS: u32 = 3;

/// One reconnection of a resumption test.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// 1 for the first.
    pub number: u32,
    /// Of how many at most.
    pub of: u32,
    /// How the session offered resumes (TLS 1.3 PSK, TLS 1.2 ticket or ID).
    pub kind: &'static str,
    /// Whether the server resumed it.
    pub resumed: bool,
    /// The EHLO domain of the session being tested (before any EHLO, its
    /// banner's first word).
    pub ehlo_before: Option<Untrusted>,
    /// The EHLO domain on this connection (after TLS).
    pub ehlo_now: Option<Untrusted>,
    /// The handshake's report.
    pub report: Option<Box<TlsReport>>,
    /// Why the attempt did not get as far as a handshake, if it did not.
    pub failed: Option<String>,
}

impl Attempt {
    /// Whether the EHLO domain differs from the tested session's: another
    /// backend behind a load balancer.
    pub fn ehlo_changed(&self) -> bool {
        match (&self.ehlo_before, &self.ehlo_now) {
            (Some(a), Some(b)) => !a.as_bytes().eq_ignore_ascii_case(b.as_bytes()),
            _ => false,
        }
    }
}

impl<S: EventSink> Session<S> {
    /// Reconnects up to `attempts` times offering the TLS session, until
    /// one is resumed; each attempt is an [`Event::Resumption`]. Returns
    /// whether one was. A server that gave no session is said in a note;
    /// the session itself is not touched.
    pub async fn resume_test(
        &mut self,
        ehlo_name: &str,
        attempts: u32,
    ) -> Result<bool, SessionError> {
        if !self.transport.is_tls() {
            return Err(SessionError::Local(
                "no TLS session to resume: start one first (--starttls, --tls or :starttls)".into(),
            ));
        }
        let Some(peer) = self.peer else {
            return Err(SessionError::Local(
                "a resumption test needs a direct TCP connection (not a UNIX socket or a SOCKS5 proxy)"
                    .into(),
            ));
        };
        let Some(mut saved) = tls::saved_session(self.transport.stream()) else {
            self.sink.event(Event::Warning(
                "resumption: the server gave no session ID or ticket to resume (no session \
                 cache, no tickets), or this TLS backend cannot keep one (openssl can)"
                    .into(),
            ));
            return Ok(false);
        };
        // The EHLO domain, or before any EHLO the banner's first word.
        let ehlo_before = self
            .dialog
            .capabilities
            .as_ref()
            .map(|c| c.domain.clone())
            .or_else(|| {
                let banner = self.dialog.banner.as_ref()?;
                let text = banner.line_texts().into_iter().next()?;
                let domain = text.unchecked_str().split_whitespace().next()?.to_string();
                Some(Untrusted::from(domain))
            });
        for number in 1..=attempts {
            let mut attempt = Attempt {
                number,
                of: attempts,
                kind: saved.kind(),
                resumed: false,
                ehlo_before: ehlo_before.clone(),
                ehlo_now: None,
                report: None,
                failed: None,
            };
            match self.reconnect_resuming(peer, ehlo_name, &saved).await {
                Ok((report, ehlo_now, next)) => {
                    attempt.resumed = report.resumed;
                    attempt.report = Some(Box::new(report));
                    attempt.ehlo_now = ehlo_now;
                    if let Some(next) = next {
                        saved = next;
                    }
                }
                Err(why) => attempt.failed = Some(why),
            }
            let resumed = attempt.resumed;
            self.sink.event(Event::Resumption(Box::new(attempt)));
            self.sink.flush();
            if resumed {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// One new connection offering `saved`: the report, the EHLO domain
    /// after TLS, and the session the server gave on it.
    async fn reconnect_resuming(
        &self,
        peer: std::net::SocketAddr,
        ehlo_name: &str,
        saved: &SavedSession,
    ) -> Result<(TlsReport, Option<Untrusted>, Option<SavedSession>), String> {
        let limit = self.timeouts.reply;
        let tcp = tokio::time::timeout(self.timeouts.connect, TcpStream::connect(peer))
            .await
            .map_err(|_| format!("connecting to {peer} timed out"))?
            .map_err(|e| format!("cannot connect to {peer}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let mut transport = Transport::new(Stream::Plain(tcp), limit);
        if !self.implicit_tls {
            expect(&mut transport, limit, 220, "the banner").await?;
            let ehlo = Command::Ehlo(ehlo_name.to_string()).to_string();
            send(&mut transport, &ehlo).await?;
            expect(&mut transport, limit, 250, "EHLO").await?;
            send(&mut transport, &Command::StartTls.to_string()).await?;
            expect(&mut transport, limit, 220, "STARTTLS").await?;
        }
        let tcp = transport
            .take_stream()
            .into_tcp()
            .map_err(|_| "the connection cannot start TLS".to_string())?;
        let (stream, report) =
            tokio::time::timeout(limit, tls::resume(tcp, &self.tls_settings, saved))
                .await
                .map_err(|_| format!("the TLS handshake took over {} s", limit.as_secs()))?
                .map_err(|e| e.to_string())?;
        let mut transport = Transport::new(stream, limit);
        if self.implicit_tls {
            expect(&mut transport, limit, 220, "the banner").await?;
        }
        send(
            &mut transport,
            &Command::Ehlo(ehlo_name.to_string()).to_string(),
        )
        .await?;
        let ehlo = expect(&mut transport, limit, 250, "EHLO after TLS").await?;
        let domain = Capabilities::from_lines(ehlo.line_texts()).domain;
        let next = tls::saved_session(transport.stream());
        if send(&mut transport, &Command::Quit.to_string())
            .await
            .is_ok()
        {
            let _ = read(&mut transport, Duration::from_secs(2)).await;
        }
        transport.shutdown().await;
        Ok((report, Some(domain), next))
    }
}

/// Sends a command's wire text (its `Display`, CRLF included).
async fn send(transport: &mut Transport, wire: &str) -> Result<(), String> {
    transport
        .send(wire.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    transport.flush().await.map_err(|e| e.to_string())
}

async fn read(transport: &mut Transport, limit: Duration) -> Result<Reply, String> {
    match transport
        .read_reply(Instant::now() + limit)
        .await
        .map_err(|e| e.to_string())?
    {
        ReadOutcome::Reply(reply) => Ok(reply),
        ReadOutcome::Closed { .. } => Err("the server closed the connection".into()),
        ReadOutcome::TimedOut => Err(format!("no reply within {} s", limit.as_secs())),
    }
}

/// Reads a reply and wants `code`; otherwise says what came instead.
async fn expect(
    transport: &mut Transport,
    limit: Duration,
    code: u16,
    what: &str,
) -> Result<Reply, String> {
    let reply = read(transport, limit)
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    match reply.code().map(|c| c.value()) {
        Some(got) if got == code => Ok(reply),
        _ => Err(format!(
            "{what}: the server answered {}",
            reply
                .lines
                .first()
                .map(|l| Untrusted::from(l.raw.clone()).escaped().to_string())
                .unwrap_or_default()
        )),
    }
}
