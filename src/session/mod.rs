//! The engine: one SMTP session, its state, and what each input does.
//!
//! Input is what a user types (or pipes, or a script holds): raw SMTP lines,
//! sent as typed. The engine follows the protocol around them: it sends
//! nothing before the whole banner, one command per reply, message text only
//! after `354`, dot-stuffed; it drops message lines queued behind a refused
//! `DATA` instead of sending them as commands; it knows that the line after a
//! `334` is a secret. What happens comes out as [`Event`]s to an
//! [`EventSink`]; the engine never prints and never waits on the UI.
//!
//! Negative replies are data: a `550` is an event like a `250`. Only a
//! transport failure (no SMTP answer) is an `Err`.

pub mod expect;
pub mod helpers;

use std::time::Duration;

use thiserror::Error;
use tokio::time::Instant;

use crate::exit::Exit;
use crate::net::stream::Stream;
use crate::net::tls::{self, TlsError, TlsReport, TlsSettings};
use crate::net::transport::ReadOutcome;
use crate::net::{ConnectFacts, ConnectOptions, NetError, Target, Transport};
use crate::proto::codes::ReplyCode;
use crate::proto::command::{self, LintContext, Verb};
use crate::proto::data::ContentEncoder;
use crate::proto::ehlo::Capabilities;
use crate::proto::reply::Reply;
use expect::Expectation;

/// How long to wait for what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Each connection attempt.
    pub connect: Duration,
    /// Each reply, the banner included.
    pub reply: Duration,
    /// The reply after the final `.` of a message (RFC 5321 §4.5.3.2.6:
    /// content filters are slow).
    pub data_end: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            reply: Duration::from_secs(30),
            data_end: Duration::from_secs(600),
        }
    }
}

/// A point in the dialog, for `--quit-after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Stage {
    /// The TCP connection (closed before the banner is read).
    Connect,
    /// The banner.
    Banner,
    /// EHLO, HELO or LHLO.
    Ehlo,
    /// STARTTLS.
    Tls,
    /// AUTH.
    Auth,
    /// MAIL FROM.
    Mail,
    /// RCPT TO (all of them).
    Rcpt,
    /// DATA or BDAT, through the message's final reply.
    Data,
}

impl Stage {
    /// The stage a command belongs to, if any.
    pub fn of(verb: Verb) -> Option<Stage> {
        match verb {
            Verb::Ehlo | Verb::Helo | Verb::Lhlo => Some(Stage::Ehlo),
            Verb::StartTls => Some(Stage::Tls),
            Verb::Auth => Some(Stage::Auth),
            Verb::Mail => Some(Stage::Mail),
            Verb::Rcpt => Some(Stage::Rcpt),
            Verb::Data | Verb::Bdat => Some(Stage::Data),
            _ => None,
        }
    }
}

/// How the session behaves, beyond the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionOptions {
    /// How to run TLS handshakes (implicit TLS and STARTTLS alike).
    pub tls: TlsSettings,
    /// `--tls`: TLS from the first byte.
    pub implicit_tls: bool,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Stop (QUIT) once this stage is done.
    pub quit_after: Option<Stage>,
    /// On a reply timeout, say so and keep waiting instead of failing
    /// (interactive sessions: the user decides, with Ctrl-C).
    pub keep_waiting: bool,
}

/// When a banner is this late on a port that usually speaks TLS first, a
/// hint says so.
const WRONG_MODE_HINT_AFTER: Duration = Duration::from_secs(3);

/// What a reply answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyTo {
    /// The greeting.
    Banner,
    /// A command (its verb, if it was one smtpcli knows).
    Command(Option<Verb>),
    /// The final `.` of a message.
    Message,
    /// Nothing: the server spoke unasked (an idle `421`, say).
    Unsolicited,
}

/// What was sent, for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// A command line as typed (already redacted if it held a secret).
    Command(String),
    /// A line of message text, as typed (before dot-stuffing).
    Text(String),
    /// The end of a message.
    EndOfMessage,
    /// A secret (a line after `334`): only its length is shown.
    Secret { len: usize },
    /// Exact bytes from `:raw`, line endings and all.
    Raw(Vec<u8>),
}

/// Everything the UI is told.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event {
    /// The TCP connection is up.
    Connected(ConnectFacts),
    /// Bytes went out.
    Sent { what: Sent, tls: bool },
    /// A whole reply arrived.
    Reply {
        reply: Reply,
        to: ReplyTo,
        tls: bool,
        /// From the end of sending to the end of the reply.
        latency: Duration,
    },
    /// Something worth knowing that is not a problem.
    Note(String),
    /// Something the user should not miss.
    Warning(String),
    /// A TLS handshake finished: the report.
    Tls(Box<TlsReport>),
    /// Progress of a large message.
    Progress {
        /// Bytes of the message sent so far.
        sent: u64,
        /// The message size, if known.
        total: Option<u64>,
    },
    /// What became of a whole transaction (`:send`).
    Delivery(helpers::Delivery),
    /// An `:expect` was checked against the last reply.
    Expect {
        /// What was expected.
        expected: Expectation,
        /// The reply's code and enhanced code, if there was a reply.
        got: Option<(
            Option<ReplyCode>,
            Option<crate::proto::enhanced::EnhancedCode>,
        )>,
        /// Whether the expectation held.
        met: bool,
    },
    /// The connection is gone.
    Closed {
        /// Whether the server closed it (as opposed to us).
        by_server: bool,
        /// Whether it was reset rather than closed in order.
        reset: bool,
        /// A partial reply that arrived before the close.
        partial: Option<Reply>,
    },
}

/// Where events go. The renderer implements it; tests collect into a `Vec`.
pub trait EventSink {
    /// Takes one event.
    fn event(&mut self, event: Event);
}

impl EventSink for Vec<Event> {
    fn event(&mut self, event: Event) {
        self.push(event);
    }
}

/// Why the session cannot go on.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Connecting, reading or writing failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// No reply in time.
    #[error("no reply from the server within {} s{}", .0.as_secs(), waiting_for(.1))]
    Timeout(Duration, Option<Verb>),
    /// The server closed the connection while a reply was awaited.
    #[error("the server closed the connection{}", waiting_for(.0))]
    Closed(Option<Verb>),
    /// The session is over; nothing more can be sent.
    #[error("the connection is closed")]
    NotConnected,
    /// A local problem while sending (an unreadable message file).
    #[error("{0}")]
    Local(String),
    /// The TLS handshake failed or the certificate was rejected.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The TLS handshake did not finish in time.
    #[error("the TLS handshake did not finish within {} s", .0.as_secs())]
    TlsTimeout(Duration),
}

fn waiting_for(verb: &Option<Verb>) -> String {
    match verb {
        Some(v) => format!(" (waiting for the reply to {})", v.name()),
        None => String::new(),
    }
}

/// Where in the dialog the session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Commands are sent one per reply.
    Command,
    /// After `354`: lines are message text until a lone `.`.
    Data,
    /// After a refused `DATA`: queued message lines are being dropped.
    DroppingText,
    /// The connection is closed.
    Closed,
}

/// A snapshot of the session for a prompt or a completer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The host as given.
    pub host: String,
    /// The port.
    pub port: u16,
    /// Whether the connection is TLS now.
    pub tls: bool,
    /// `Some` after a successful AUTH; the user inside when known.
    pub authenticated: Option<Option<String>>,
    /// Where in the dialog.
    pub phase: Phase,
    /// Message lines sent so far, in DATA.
    pub message_lines: u64,
    /// Whether EHLO/HELO succeeded.
    pub greeted: bool,
    /// Whether a MAIL was accepted and the transaction is open.
    pub in_transaction: bool,
    /// Whether the next line is a SASL response (the last reply was 334):
    /// a secret, to be masked and kept out of history.
    pub secret_next: bool,
}

/// One SMTP session.
pub struct Session<S: EventSink> {
    /// The local end of the connection.
    local: std::net::SocketAddr,
    transport: Transport,
    sink: S,
    timeouts: Timeouts,
    target: Target,
    phase: Phase,
    encoder: ContentEncoder,
    greeted: bool,
    capabilities: Option<Capabilities>,
    in_transaction: bool,
    /// Set by a 235 to AUTH: the user, when known (`None` inside means the
    /// AUTH line was typed raw and the user is not known).
    authenticated: Option<Option<String>>,
    /// The next command line is a SASL response (the last reply was `334`).
    secret_next: bool,
    /// Message lines dropped after a refused DATA.
    dropped: u64,
    /// The last reply, for `:expect` and for expected closes.
    last_reply: Option<Reply>,
    /// The outcome of everything before the last reply.
    settled: Exit,
    /// The last reply's share of the outcome: by its class, or by the
    /// `:expect`s that checked it.
    last_exit: Exit,
    /// Whether an `:expect` has judged the last reply.
    last_expected: bool,
    reply_count: u64,
    /// Whether the TLS certificate verified (false until TLS).
    tls_verified: bool,
    tls_settings: TlsSettings,
    /// The report of the last handshake.
    tls_report: Option<TlsReport>,
    quit_after: Option<Stage>,
    keep_waiting: bool,
    /// The stage of the last command sent.
    stage: Option<Stage>,
}

impl<S: EventSink> Session<S> {
    /// Connects to `target`, reports the connection facts, and waits for the
    /// whole banner.
    pub async fn open(
        target: &Target,
        connect: &ConnectOptions,
        options: SessionOptions,
        mut sink: S,
    ) -> Result<Self, (SessionError, S)> {
        let (tcp, facts) = match crate::net::connect::connect(target, connect).await {
            Ok(ok) => ok,
            Err(e) => return Err((e.into(), sink)),
        };
        let local = facts.local;
        sink.event(Event::Connected(facts));
        let mut session = Session {
            local,
            transport: Transport::new(Stream::Plain(tcp), options.timeouts.reply),
            sink,
            timeouts: options.timeouts,
            target: target.clone(),
            phase: Phase::Command,
            encoder: ContentEncoder::for_data(),
            greeted: false,
            capabilities: None,
            in_transaction: false,
            authenticated: None,
            secret_next: false,
            dropped: 0,
            last_reply: None,
            settled: Exit::Success,
            last_exit: Exit::Success,
            last_expected: false,
            reply_count: 0,
            tls_verified: false,
            tls_settings: options.tls.clone(),
            tls_report: None,
            quit_after: options.quit_after,
            keep_waiting: options.keep_waiting,
            stage: None,
        };
        if options.quit_after == Some(Stage::Connect) {
            session.close().await;
            return Ok(session);
        }
        if options.implicit_tls {
            if let Err(e) = session.handshake().await {
                return Err((e, session.sink));
            }
        }
        match session.read_banner().await {
            Ok(()) => {}
            Err(e) => return Err((e, session.sink)),
        }
        if options.quit_after == Some(Stage::Banner) && session.is_open() {
            if let Err(e) = session.quit_now().await {
                return Err((e, session.sink));
            }
        }
        Ok(session)
    }

    /// The event sink (for a driver that renders through it).
    pub fn sink(&mut self) -> &mut S {
        &mut self.sink
    }

    /// The phase of the dialog.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        self.phase != Phase::Closed
    }

    /// The local address and port of the connection.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.local
    }

    /// The last reply received, if any.
    pub fn last_reply(&self) -> Option<&Reply> {
        self.last_reply.as_ref()
    }

    /// How many replies have arrived so far.
    pub fn reply_count(&self) -> u64 {
        self.reply_count
    }

    /// The report of the last TLS handshake.
    pub fn tls_report(&self) -> Option<&TlsReport> {
        self.tls_report.as_ref()
    }

    /// Runs the TLS handshake on the connection (implicit TLS, or after a
    /// `220` to STARTTLS). Bytes already received in plaintext are dropped
    /// and reported: after the `220` they can only be an injection
    /// (RFC 3207 §4.2, CVE-2011-0411). What the server said before TLS is
    /// forgotten.
    pub(crate) async fn handshake(&mut self) -> Result<(), SessionError> {
        let leftover = self.transport.take_leftover();
        if !leftover.is_empty() {
            let preview: Vec<u8> = leftover.iter().copied().take(80).collect();
            self.sink.event(Event::Warning(format!(
                "{} bytes arrived in plaintext before the TLS handshake and were discarded, unread: \
                 a possible STARTTLS command injection (CVE-2011-0411): {:?}",
                leftover.len(),
                String::from_utf8_lossy(&preview)
            )));
        }
        let tcp = match self.transport.take_stream().into_tcp() {
            Ok(tcp) => tcp,
            Err(stream) => {
                self.transport.set_stream(stream);
                self.sink.event(Event::Warning(
                    "the connection is already TLS: not starting it again".into(),
                ));
                return Ok(());
            }
        };
        let limit = self.timeouts.reply;
        let result = tokio::time::timeout(limit, tls::handshake(tcp, &self.tls_settings)).await;
        let (stream, report) = match result {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => {
                self.phase = Phase::Closed;
                return Err(e.into());
            }
            Err(_) => {
                self.phase = Phase::Closed;
                return Err(SessionError::TlsTimeout(limit));
            }
        };
        self.transport.set_stream(stream);
        self.tls_verified = report.is_trusted();
        self.capabilities = None;
        self.greeted = false;
        self.in_transaction = false;
        self.tls_report = Some(report.clone());
        self.sink.event(Event::Tls(Box::new(report)));
        Ok(())
    }

    /// Whether the connection is TLS with a certificate that verified.
    pub fn tls_verified(&self) -> bool {
        self.transport.is_tls() && self.tls_verified
    }

    /// Sends DATA; on `354` the session is in message mode.
    pub async fn data_command(&mut self) -> Result<Reply, SessionError> {
        let reply = self
            .exchange(
                b"DATA\r\n",
                Sent::Command("DATA".into()),
                Vec::new(),
                Some(Verb::Data),
            )
            .await?;
        if self.phase == Phase::DroppingText {
            // Nothing was queued behind a helper's DATA.
            self.phase = Phase::Command;
        }
        Ok(reply)
    }

    /// The capabilities of the last EHLO.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.capabilities.as_ref()
    }

    /// What a prompt shows: where, how, who, and where in the dialog.
    pub fn status(&self) -> Status {
        Status {
            host: self.target.host.clone(),
            port: self.target.port,
            tls: self.transport.is_tls(),
            authenticated: self.authenticated.clone(),
            phase: self.phase,
            message_lines: if self.phase == Phase::Data {
                self.encoder.lines()
            } else {
                0
            },
            greeted: self.greeted,
            in_transaction: self.in_transaction,
            secret_next: self.secret_next,
        }
    }

    /// How the session would end now, by the exit-code table.
    pub fn outcome(&self) -> Exit {
        self.settled.worst(self.last_exit)
    }

    /// Counts a local failure into the outcome.
    pub fn fail_locally(&mut self) {
        self.settled = self.settled.worst(Exit::Local);
    }

    /// Checks the last reply against an `:expect`. Once checked, the reply
    /// counts by its expectations rather than by its class: an expected
    /// `550` is success, an unexpected `250` a failure.
    pub fn expect(&mut self, expected: Expectation) -> bool {
        let got = self.last_reply.as_ref();
        let met = got.is_some_and(|r| expected.is_met_by(r));
        let got = got.map(|r| (r.code(), r.enhanced_code()));
        self.judge_last(met);
        self.sink.event(Event::Expect { expected, got, met });
        met
    }

    /// Judges the last reply as expected (`ok`) or not, silently: the
    /// caller reports. A failure is temporary when the reply was a 4xx.
    pub fn judge_last(&mut self, ok: bool) {
        let exit = match (ok, self.last_reply.as_ref().and_then(Reply::class_digit)) {
            (true, _) => Exit::Success,
            (false, Some(4)) => Exit::Temporary,
            (false, _) => Exit::Permanent,
        };
        self.last_exit = if self.last_expected {
            self.last_exit.worst(exit)
        } else {
            exit
        };
        self.last_expected = true;
    }

    async fn read_banner(&mut self) -> Result<(), SessionError> {
        let started = Instant::now();
        let deadline = started + self.timeouts.reply;
        let mut outcome = None;
        if self.target.port == 465 {
            let early = (started + WRONG_MODE_HINT_AFTER).min(deadline);
            match self.transport.read_reply(early).await? {
                ReadOutcome::TimedOut if !self.transport.is_mid_reply() => {
                    self.sink.event(Event::Note(
                        "no banner yet: port 465 usually wants implicit TLS (--tls)".into(),
                    ));
                }
                ReadOutcome::TimedOut => {}
                arrived => outcome = Some(arrived),
            }
        }
        let outcome = match outcome {
            Some(arrived) => arrived,
            None => self.transport.read_reply(deadline).await?,
        };
        let reply = self.handle_outcome(outcome, started, deadline, ReplyTo::Banner, None)?;
        let code = reply.code().map(ReplyCode::value);
        match code {
            Some(421 | 554) => {
                self.sink.event(Event::Warning(
                    "the server rejected this connection before any command".into(),
                ));
                // Such a server usually closes at once; see whether it did.
                self.poll_close(Duration::from_millis(200)).await;
            }
            Some(220) => {}
            _ => self.sink.event(Event::Warning(
                "a banner should be a 220 reply (RFC 5321 §4.3.1)".into(),
            )),
        }
        Ok(())
    }

    /// Waits for a reply, emits it, and accounts for it.
    async fn expect_reply(
        &mut self,
        deadline: Instant,
        sent_at: Instant,
        to: ReplyTo,
        verb: Option<Verb>,
    ) -> Result<Reply, SessionError> {
        let mut deadline = deadline;
        loop {
            let outcome = self.transport.read_reply(deadline).await?;
            if matches!(outcome, ReadOutcome::TimedOut) && self.keep_waiting {
                // Interactively a timeout never drops the session.
                let waited = sent_at.elapsed().as_secs();
                self.sink.event(Event::Warning(format!(
                    "no reply for {waited} s, still waiting (Ctrl-C stops waiting)"
                )));
                deadline += self.timeouts.reply;
                continue;
            }
            return self.handle_outcome(outcome, sent_at, deadline, to, verb);
        }
    }

    fn handle_outcome(
        &mut self,
        outcome: ReadOutcome,
        sent_at: Instant,
        deadline: Instant,
        to: ReplyTo,
        verb: Option<Verb>,
    ) -> Result<Reply, SessionError> {
        match outcome {
            ReadOutcome::Reply(reply) => {
                self.account(&reply);
                self.sink.event(Event::Reply {
                    reply: reply.clone(),
                    to,
                    tls: self.transport.is_tls(),
                    latency: sent_at.elapsed(),
                });
                Ok(reply)
            }
            ReadOutcome::TimedOut => Err(SessionError::Timeout(
                deadline.saturating_duration_since(sent_at),
                verb,
            )),
            ReadOutcome::Closed { partial, reset } => {
                self.closed_by_server(partial, reset);
                Err(SessionError::Closed(verb))
            }
        }
    }

    fn account(&mut self, reply: &Reply) {
        self.settled = self.settled.worst(self.last_exit);
        self.last_exit = match reply.class_digit() {
            Some(4) => Exit::Temporary,
            Some(5) => Exit::Permanent,
            Some(_) => Exit::Success,
            // Not SMTP at all.
            None => Exit::Local,
        };
        self.last_expected = false;
        self.last_reply = Some(reply.clone());
        self.reply_count += 1;
    }

    fn closed_by_server(&mut self, partial: Option<Reply>, reset: bool) {
        self.phase = Phase::Closed;
        self.sink.event(Event::Closed {
            by_server: true,
            reset,
            partial,
        });
    }

    /// Whether a close now is what the last reply announced (`221`, `421`).
    fn close_was_announced(&self) -> bool {
        let code = self.last_reply.as_ref().and_then(Reply::code);
        matches!(code.map(ReplyCode::value), Some(221) | Some(421))
    }

    /// Reads briefly to see whether the server closed the connection.
    async fn poll_close(&mut self, wait: Duration) {
        match self.transport.read_reply(Instant::now() + wait).await {
            Ok(ReadOutcome::Closed { partial, reset }) => self.closed_by_server(partial, reset),
            Ok(ReadOutcome::Reply(reply)) => self.unsolicited(reply),
            Ok(ReadOutcome::TimedOut) | Err(_) => {}
        }
    }

    fn unsolicited(&mut self, reply: Reply) {
        self.account(&reply);
        self.sink.event(Event::Reply {
            reply,
            to: ReplyTo::Unsolicited,
            tls: self.transport.is_tls(),
            latency: Duration::ZERO,
        });
    }

    /// Waits for anything the server sends unasked while the session is
    /// idle (an idle-timeout `421`, a close). Cancel-safe: meant to sit in a
    /// `select!` beside the input. Returns once something happened.
    pub async fn idle(&mut self) -> Result<(), SessionError> {
        if self.phase == Phase::Closed {
            return Err(SessionError::NotConnected);
        }
        // A far deadline: idling has no timeout of its own.
        let far = Instant::now() + Duration::from_secs(24 * 3600);
        match self.transport.read_reply(far).await? {
            ReadOutcome::Reply(reply) => self.unsolicited(reply),
            ReadOutcome::Closed { partial, reset } => self.closed_by_server(partial, reset),
            ReadOutcome::TimedOut => {}
        }
        Ok(())
    }

    /// Handles one line of input. `queued` says the line was already waiting
    /// when the previous reply arrived (piped input, a paste): such lines
    /// behind a refused DATA are message text and are dropped, not sent.
    pub async fn submit(&mut self, line: &[u8], queued: bool) -> Result<(), SessionError> {
        let line = strip_line_ending(line);
        match self.phase {
            Phase::Closed => Err(SessionError::NotConnected),
            Phase::Data => self.message_line(line).await,
            Phase::DroppingText if queued => {
                if line == b"." {
                    self.finish_dropping();
                } else {
                    self.dropped += 1;
                }
                Ok(())
            }
            Phase::DroppingText | Phase::Command => {
                if self.phase == Phase::DroppingText {
                    self.finish_dropping();
                }
                self.command_line(line).await
            }
        }
    }

    fn finish_dropping(&mut self) {
        self.phase = Phase::Command;
        let n = std::mem::take(&mut self.dropped);
        if n > 0 {
            self.sink.event(Event::Warning(format!(
                "DATA was refused: {n} message line{} dropped, not sent",
                if n == 1 { "" } else { "s" }
            )));
        }
    }

    async fn message_line(&mut self, line: &[u8]) -> Result<(), SessionError> {
        let tls = self.transport.is_tls();
        if line == b"." {
            let mut wire = Vec::new();
            self.encoder.finish(&mut wire);
            self.transport.send(&wire).await?;
            self.sink.event(Event::Sent {
                what: Sent::EndOfMessage,
                tls,
            });
            self.phase = Phase::Command;
            self.in_transaction = false;
            let sent_at = Instant::now();
            let deadline = sent_at + self.timeouts.data_end;
            self.transport.flush().await?;
            self.expect_reply(deadline, sent_at, ReplyTo::Message, Some(Verb::Data))
                .await?;
            if self.quit_after == Some(Stage::Data) {
                self.quit_now().await?;
            }
            return Ok(());
        }
        let mut wire = Vec::with_capacity(line.len() + 3);
        self.encoder.encode(line, &mut wire);
        self.encoder.encode(b"\n", &mut wire);
        self.transport.send(&wire).await?;
        self.sink.event(Event::Sent {
            what: Sent::Text(String::from_utf8_lossy(line).into_owned()),
            tls,
        });
        Ok(())
    }

    async fn command_line(&mut self, line: &[u8]) -> Result<(), SessionError> {
        if !self.secret_next {
            let verb = command::Verb::from_word(
                String::from_utf8_lossy(line)
                    .split_whitespace()
                    .next()
                    .unwrap_or(""),
            );
            if self.stage_is_over(verb) {
                return self.quit_now().await;
            }
        }
        self.send_command(line).await
    }

    async fn send_command(&mut self, line: &[u8]) -> Result<(), SessionError> {
        let text = String::from_utf8_lossy(line).into_owned();
        let secret = self.secret_next;
        let typed = command::read_typed(
            &text,
            &LintContext {
                greeted: self.greeted,
                capabilities: self.capabilities.as_ref(),
                tls: self.transport.is_tls(),
                in_transaction: self.in_transaction,
            },
        );
        let (verb, what, notes) = if secret {
            (None, Sent::Secret { len: line.len() }, Vec::new())
        } else {
            let notes = typed.lints.iter().map(|l| l.message()).collect();
            (
                typed.verb,
                Sent::Command(redact_command(&text, typed.verb)),
                notes,
            )
        };
        let mut wire = Vec::with_capacity(line.len() + 2);
        wire.extend_from_slice(line);
        wire.extend_from_slice(b"\r\n");
        match self.exchange(&wire, what, notes, verb).await {
            Ok(_) => Ok(()),
            Err(SessionError::Closed(_)) if self.close_was_announced() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Sends `wire` (shown as `what`, with `notes` after it), waits for the
    /// reply, and applies its protocol consequences.
    pub(crate) async fn exchange(
        &mut self,
        wire: &[u8],
        what: Sent,
        notes: Vec<String>,
        verb: Option<Verb>,
    ) -> Result<Reply, SessionError> {
        if self.phase == Phase::Closed {
            return Err(SessionError::NotConnected);
        }
        self.secret_next = false;
        let tls = self.transport.is_tls();
        self.transport.send(wire).await?;
        self.sink.event(Event::Sent { what, tls });
        for note in notes {
            self.sink.event(Event::Note(note));
        }
        let sent_at = Instant::now();
        self.transport.flush().await?;
        let deadline = sent_at + self.timeouts.reply;
        let reply = self
            .expect_reply(deadline, sent_at, ReplyTo::Command(verb), verb)
            .await?;
        self.after_reply(verb, &reply).await?;
        Ok(reply)
    }

    /// The protocol consequences of a reply to a command.
    async fn after_reply(&mut self, verb: Option<Verb>, reply: &Reply) -> Result<(), SessionError> {
        let code = reply.code().map(ReplyCode::value).unwrap_or(0);
        let positive = (200..400).contains(&code);
        match (verb, code) {
            (_, 334) => self.secret_next = true,
            (Some(Verb::Data), 354) => {
                self.phase = Phase::Data;
                self.encoder = ContentEncoder::for_data();
            }
            (Some(Verb::Data), _) => self.phase = Phase::DroppingText,
            (Some(Verb::Ehlo | Verb::Lhlo), 250) => {
                self.greeted = true;
                let texts = reply.line_texts();
                self.capabilities =
                    Some(Capabilities::from_lines(texts.iter().map(String::as_str)));
            }
            (Some(Verb::Helo), 250) => {
                self.greeted = true;
                self.capabilities = None;
            }
            (Some(Verb::Mail), _) if positive => self.in_transaction = true,
            (Some(Verb::Rset), 250) => self.in_transaction = false,
            // A 235 may answer the AUTH line or the last SASL response.
            (_, 235) => self.authenticated = Some(None),
            (Some(Verb::StartTls), 220) => self.handshake().await?,
            (Some(Verb::Quit), 221) => self.poll_close(Duration::from_secs(2)).await,
            _ => {}
        }
        if code == 421 {
            // RFC 5321 §3.8: the server closes after a 421.
            self.poll_close(Duration::from_secs(2)).await;
        }
        Ok(())
    }

    /// Whether `--quit-after` says to stop instead of sending a command of
    /// `verb`: once a command of the chosen stage was sent, any command of
    /// another stage ends the session.
    fn stage_is_over(&mut self, verb: Option<Verb>) -> bool {
        let Some(limit) = self.quit_after else {
            return false;
        };
        let Some(stage) = verb.and_then(Stage::of) else {
            return false;
        };
        let over = stage > limit || (self.stage == Some(limit) && stage != limit);
        if !over {
            self.stage = Some(stage);
        }
        over
    }

    /// Sends QUIT now (for `--quit-after`), then closes.
    async fn quit_now(&mut self) -> Result<(), SessionError> {
        self.sink
            .event(Event::Note("--quit-after: the chosen stage is done".into()));
        self.send_command(b"QUIT").await?;
        if self.phase != Phase::Closed {
            self.close().await;
        }
        Ok(())
    }

    /// Ends the session from our side: QUIT if it is still open and not in a
    /// message, then close.
    pub async fn quit(&mut self) -> Result<(), SessionError> {
        match self.phase {
            Phase::Closed => Ok(()),
            Phase::Data => {
                self.sink.event(Event::Warning(
                    "input ended inside a message: closing without the final '.', so nothing is delivered".into(),
                ));
                self.fail_locally();
                self.close().await;
                Ok(())
            }
            Phase::Command | Phase::DroppingText => {
                if self.phase == Phase::DroppingText {
                    self.finish_dropping();
                }
                self.sink
                    .event(Event::Note("end of input: sending QUIT".into()));
                self.submit(b"QUIT", false).await?;
                if self.phase != Phase::Closed {
                    self.close().await;
                }
                Ok(())
            }
        }
    }

    /// Closes the connection from our side.
    pub async fn close(&mut self) {
        if self.phase == Phase::Closed {
            return;
        }
        self.transport.shutdown().await;
        self.phase = Phase::Closed;
        self.sink.event(Event::Closed {
            by_server: false,
            reset: false,
            partial: None,
        });
    }
}

/// A command line for display: an `AUTH` initial response is a secret.
#[doc(hidden)]
pub fn redact_command(text: &str, verb: Option<Verb>) -> String {
    if verb != Some(Verb::Auth) {
        return text.to_string();
    }
    let mut words = text.split_whitespace();
    let (Some(auth), Some(mechanism)) = (words.next(), words.next()) else {
        return text.to_string();
    };
    match words.next() {
        Some(_) => format!("{auth} {mechanism} [initial response redacted]"),
        None => text.to_string(),
    }
}

fn strip_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_initial_responses_are_redacted() {
        let auth = Some(Verb::Auth);
        assert_eq!(
            redact_command("AUTH PLAIN AGFsaWNlAHNlY3JldA==", auth),
            "AUTH PLAIN [initial response redacted]"
        );
        assert_eq!(redact_command("auth login", auth), "auth login");
        assert_eq!(
            redact_command("MAIL FROM:<a@b>", Some(Verb::Mail)),
            "MAIL FROM:<a@b>"
        );
    }

    #[test]
    fn line_endings_are_stripped_once() {
        assert_eq!(strip_line_ending(b"QUIT\r\n"), b"QUIT");
        assert_eq!(strip_line_ending(b"QUIT\n"), b"QUIT");
        assert_eq!(strip_line_ending(b"QUIT\r\r\n"), b"QUIT\r");
        assert_eq!(strip_line_ending(b"QUIT"), b"QUIT");
    }
}
