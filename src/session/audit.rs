//! The engine's steps for `--audit` that typed lines cannot take.
//!
//! Typed lines and commands refuse a bare CR, a bare LF and a NUL on
//! purpose; a smuggling probe needs exactly those. [`Session::probe`] is the
//! one narrow way to write such bytes in the middle of a transaction: after
//! it the session's idea of the dialog is whatever the server's replies say,
//! so an audit only reads the replies and ends the session (QUIT).
//! [`Session::starttls_injection`] writes STARTTLS and a second command in
//! one write and watches whether the second is answered inside TLS
//! (CVE-2011-0411). Neither prints or judges: `proto::audit` reads the
//! replies, `ui::audit` reports.

use std::time::Duration;

use tokio::time::Instant;

use super::input::Outgoing;
use super::{Event, EventSink, Phase, ReplyTo, Sent, Session, SessionError};
use crate::net::transport::ReadOutcome;
use crate::proto::command::Command;
use crate::proto::reply::Reply;

/// What came back from a probe.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeReplies {
    /// Every reply, in order.
    pub replies: Vec<Reply>,
    /// Whether the server closed the connection after them.
    pub closed: bool,
}

/// What became of STARTTLS with a command injected behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Injection {
    /// The reply to STARTTLS.
    pub starttls: Reply,
    /// Replies that came in plaintext after the `220`, before the handshake.
    pub plaintext: Vec<Reply>,
    /// Whether the handshake finished.
    pub tls: bool,
    /// Replies that came inside TLS before anything was sent there: the
    /// answer to the injected command.
    pub inside_tls: Vec<Reply>,
}

impl<S: EventSink> Session<S> {
    /// Writes `bytes` exactly as given (bare CR, LF and NUL included) and
    /// collects the replies: the first within `first`, each later one
    /// within `quiet` of the one before, at most `max`. A message the
    /// session was in (after `354`) is over once the bytes are out: the
    /// replies say how the server took them.
    pub async fn probe(
        &mut self,
        bytes: &[u8],
        first: Duration,
        quiet: Duration,
        max: usize,
    ) -> Result<ProbeReplies, SessionError> {
        if self.dialog.phase == Phase::Closed {
            return Err(SessionError::NotConnected);
        }
        let tls = self.transport.is_tls();
        self.transport.send(bytes).await?;
        self.sink.event(Event::Sent {
            what: Sent::Raw(bytes.to_vec()),
            tls,
        });
        self.transport.flush().await?;
        self.dialog.secret_next = false;
        if self.dialog.phase != Phase::Command {
            self.dialog.phase = Phase::Command;
            self.dialog.in_transaction = false;
        }
        self.probe_replies(first, quiet, max).await
    }

    /// Collects more replies after a [`Session::probe`] (a smuggled
    /// message's final reply, which may take a content filter's time).
    pub async fn probe_replies(
        &mut self,
        first: Duration,
        quiet: Duration,
        max: usize,
    ) -> Result<ProbeReplies, SessionError> {
        self.sink.flush();
        let mut collected = ProbeReplies::default();
        let sent_at = Instant::now();
        let mut deadline = sent_at + first;
        while collected.replies.len() < max && self.dialog.phase != Phase::Closed {
            match self.transport.read_reply(deadline).await? {
                ReadOutcome::Reply(reply) => {
                    self.show_reply(&reply, ReplyTo::Command(None), sent_at.elapsed());
                    self.dialog.account(&reply, &mut self.sink);
                    collected.replies.push(reply);
                    deadline = Instant::now() + quiet;
                }
                ReadOutcome::TimedOut => break,
                ReadOutcome::Closed { partial, reset } => {
                    self.closed_by_server(partial, reset);
                    collected.closed = true;
                }
            }
        }
        Ok(collected)
    }

    /// Cancels an AUTH exchange the server answered with `334` (RFC 4954
    /// §4: a `*` line), without sending any credential.
    pub async fn cancel_auth(&mut self) -> Result<Reply, SessionError> {
        self.exchange(Outgoing::sasl(b"*", Sent::Command("* (cancel)".into())))
            .await
    }

    /// Sends `STARTTLS` and `injected` in one write. On `220`, notes any
    /// reply that came in plaintext, runs the handshake (which discards
    /// unread plaintext, as a client must), and then waits up to `wait`
    /// for a reply nobody asked for inside TLS: a server that answers
    /// there kept the injected command across the handshake.
    pub async fn starttls_injection(
        &mut self,
        injected: Command,
        wait: Duration,
    ) -> Result<Injection, SessionError> {
        if self.dialog.phase == Phase::Closed {
            return Err(SessionError::NotConnected);
        }
        let mut bytes = Command::StartTls.to_string().into_bytes();
        bytes.extend_from_slice(injected.to_string().as_bytes());
        self.transport.send(&bytes).await?;
        self.sink.event(Event::Sent {
            what: Sent::Raw(bytes),
            tls: false,
        });
        self.transport.flush().await?;
        self.sink.flush();
        let sent_at = Instant::now();
        let deadline = sent_at + self.timeouts.reply;
        let starttls = match self.transport.read_reply(deadline).await? {
            ReadOutcome::Reply(reply) => {
                self.show_reply(&reply, ReplyTo::Command(None), sent_at.elapsed());
                reply
            }
            ReadOutcome::TimedOut => {
                return Err(SessionError::Timeout(self.timeouts.reply, None));
            }
            ReadOutcome::Closed { partial, reset } => {
                self.closed_by_server(partial, reset);
                return Err(SessionError::Closed(None));
            }
        };
        let mut injection = Injection {
            starttls,
            plaintext: Vec::new(),
            tls: false,
            inside_tls: Vec::new(),
        };
        if injection.starttls.code().map(|c| c.value()) != Some(220) {
            return Ok(injection);
        }
        // A reply to the injected command may already be here in
        // plaintext: a different fault, but not the one looked for.
        while let Some(reply) = self.transport.ready_reply().await {
            self.show_reply(&reply, ReplyTo::Unsolicited, sent_at.elapsed());
            injection.plaintext.push(reply);
        }
        self.handshake().await?;
        injection.tls = true;
        let asked_at = Instant::now();
        while injection.inside_tls.len() < 4 {
            match self.transport.read_reply(asked_at + wait).await? {
                ReadOutcome::Reply(reply) => {
                    self.show_reply(&reply, ReplyTo::Unsolicited, asked_at.elapsed());
                    injection.inside_tls.push(reply);
                }
                ReadOutcome::TimedOut => break,
                ReadOutcome::Closed { partial, reset } => {
                    self.closed_by_server(partial, reset);
                    break;
                }
            }
        }
        Ok(injection)
    }
}
