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

pub mod audit;
mod auth;
pub mod check;
mod delivery;
mod dialog;
pub mod expect;
pub mod helpers;
pub mod input;
#[cfg(test)]
mod loopback_tests;
pub mod probe;
mod resume;
mod state;

use std::fmt;
use std::time::Duration;

use thiserror::Error;

use crate::exit::Exit;
use crate::net::stream::Stream;
use crate::net::tls::{TlsError, TlsReport, TlsSettings};
use crate::net::transport::ReadOutcome;
use crate::net::{ConnectFacts, ConnectOptions, NetError, Target, Transport};
use crate::proto::auth::Secret;
use crate::proto::codes::ReplyCode;
use crate::proto::command::{LintContext, Verb};
use crate::proto::ehlo::Capabilities;
use crate::proto::reply::Reply;
use expect::Expectation;
pub use input::{Input, LineRole, Syntax, TypedLine};
pub use resume::{ATTEMPTS as RESUME_ATTEMPTS, Attempt as ResumeAttempt};

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
    /// LMTP (RFC 2033): after the message, one reply per accepted
    /// recipient.
    pub lmtp: bool,
    /// On a reply timeout, say so and keep waiting instead of failing
    /// (interactive sessions: the user decides, with Ctrl-C).
    pub keep_waiting: bool,
}

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
    /// What was awaited when waiting was stopped (Ctrl-C): the reply came
    /// after all.
    Late(Awaited),
}

/// What a reply was awaited for, when it came late.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Awaited {
    Banner,
    /// A command (its verb, if smtpcli knows it).
    Command(Option<Verb>),
    /// The final `.` of a message.
    Message,
}

impl fmt::Display for Awaited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Awaited::Banner => f.write_str("the banner"),
            Awaited::Command(Some(verb)) => f.write_str(verb.name()),
            Awaited::Command(None) => f.write_str("the last command"),
            Awaited::Message => f.write_str("the message"),
        }
    }
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
    /// The UNIX socket connection is up.
    ConnectedUnix {
        /// The socket.
        path: std::path::PathBuf,
        /// How long connecting took.
        connect_time: Duration,
    },
    /// LMTP: the message's final reply for each recipient, in order.
    PerRecipient(Vec<(String, Reply)>),
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
    /// A reply is still awaited (interactive sessions, once a second after
    /// the first): for the status line.
    Waiting {
        /// What the reply is for.
        awaited: Awaited,
        /// How long it has been.
        elapsed: Duration,
    },
    /// A TLS handshake finished: the report.
    Tls(Box<TlsReport>),
    /// One attempt of a resumption test (`--resume-test`, `:tls resume`).
    Resumption(Box<ResumeAttempt>),
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

    /// Writes out what is buffered. The engine calls it before every wait,
    /// so what was sent is shown even if the run is cut short there.
    fn flush(&mut self) {}
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
    /// A line that would smuggle a second command (a bare CR or LF, a
    /// NUL): nothing was sent, and the session goes on.
    #[error("{0}")]
    Refused(String),
    /// The TLS handshake failed or the certificate was rejected.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The TLS handshake did not finish in time.
    #[error("the TLS handshake did not finish within {} s", .0.as_secs())]
    TlsTimeout(Duration),
}

impl SessionError {
    /// How a run that ends with this error exits: a null MX is the domain
    /// saying no (1); everything else is no SMTP answer (2).
    pub fn exit(&self) -> Exit {
        match self {
            SessionError::Net(NetError::NullMx { .. }) => Exit::Permanent,
            _ => Exit::Local,
        }
    }
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
    /// Whether that TLS has a certificate verified as trusted.
    pub tls_trusted: bool,
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
    /// Whether the next line is a SASL response (a `334` inside an AUTH
    /// exchange): a secret, to be masked and kept out of history.
    pub secret_next: bool,
}

impl Status {
    /// The status of a session that is not connected (yet, or any more).
    pub fn disconnected(target: &Target) -> Self {
        Status {
            host: target.host.clone(),
            port: target.port,
            tls: false,
            tls_trusted: false,
            authenticated: None,
            phase: Phase::Closed,
            message_lines: 0,
            greeted: false,
            in_transaction: false,
            secret_next: false,
        }
    }
}

/// One SMTP session: the I/O shell around the [`state::Dialog`].
pub struct Session<S: EventSink> {
    /// The local end of the connection as the server sees it (none for a
    /// UNIX socket, or a SOCKS5 proxy that does not say its own).
    local: Option<std::net::SocketAddr>,
    /// The server's address, for a resumption test's new connection (none
    /// through a SOCKS5 proxy or over a UNIX socket).
    peer: Option<std::net::SocketAddr>,
    /// Whether the session is TLS from the first byte (`--tls`).
    implicit_tls: bool,
    transport: Transport,
    sink: S,
    timeouts: Timeouts,
    target: Target,
    dialog: state::Dialog,
    /// Whether the TLS certificate verified (false until TLS).
    tls_verified: bool,
    tls_settings: TlsSettings,
    /// The report of the last handshake.
    tls_report: Option<TlsReport>,
    keep_waiting: bool,
    /// The lint notes said so far: each is said once a session.
    lints_shown: std::collections::HashSet<String>,
    /// The latency of the last reply to a command or a message.
    last_latency: Option<Duration>,
    /// What a reply is being awaited for; still set when the wait was
    /// dropped (Ctrl-C), so the reply that comes later is known as late.
    awaiting: Option<Awaited>,
    /// A long line of message text under way: its start, for the
    /// transcript, and how many bytes went out.
    long_text: Option<(String, u64)>,
    /// Credentials sent in this session, in every form they went out in:
    /// a server that echoes one back gets it redacted wherever its text is
    /// shown or logged.
    secrets: Vec<Secret>,
}

impl<S: EventSink> Session<S> {
    /// Connects to `target`, reports the connection facts, and waits for the
    /// whole banner.
    pub async fn open(
        target: &Target,
        connect: &ConnectOptions,
        mut options: SessionOptions,
        mut sink: S,
    ) -> Result<Self, (SessionError, S)> {
        let mut report = |line: String| {
            sink.event(Event::Note(line));
            sink.flush();
        };
        let connected = crate::net::connect::connect(target, connect, &mut report).await;
        let (mut tcp, facts) = match connected {
            Ok(ok) => ok,
            Err(e) => return Err((e.into(), sink)),
        };
        // What the server sees: through a SOCKS5 proxy, the proxy's side
        // (if it said) and the server's address only when it was given as
        // one (the proxy resolved a name).
        let seen_from = facts.client_addr();
        if connect.mx {
            // The certificate's name table shows the MX host and the
            // next-hop domain among the names it may be for.
            options.tls.next_hop = Some(target.host.clone());
            options.tls.mx_host = facts.via.as_ref().map(|v| v.unchecked_str().into_owned());
        }
        let seen_at = match &facts.socks5 {
            None => Some(facts.peer),
            Some(_) => target
                .host
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .ok()
                .map(|ip| std::net::SocketAddr::new(ip, target.port)),
        };
        let peer = facts.socks5.is_none().then_some(facts.peer);
        sink.event(Event::Connected(facts));
        // A PROXY header goes first, before the banner and before any TLS,
        // as a load balancer sends it.
        if let Some(request) = &connect.proxy {
            let bytes = match request.bytes(seen_from, seen_at) {
                Ok(bytes) => bytes,
                Err(e) => return Err((SessionError::Local(e.to_string()), sink)),
            };
            use tokio::io::AsyncWriteExt as _;
            if let Err(e) = tcp.write_all(&bytes).await {
                return Err((
                    SessionError::Local(format!("cannot send the PROXY header: {e}")),
                    sink,
                ));
            }
            sink.event(Event::Note(request.describe(&bytes)));
        }
        let mut session =
            Self::start(Stream::Plain(tcp), seen_from, target.clone(), options, sink).await?;
        session.peer = peer;
        Ok(session)
    }

    /// Connects to a UNIX domain socket and waits for the whole banner.
    #[cfg(unix)]
    pub async fn open_unix(
        path: &std::path::Path,
        timeout: Duration,
        options: SessionOptions,
        mut sink: S,
    ) -> Result<Self, (SessionError, S)> {
        let (stream, connect_time) = match crate::net::connect::connect_unix(path, timeout).await {
            Ok(ok) => ok,
            Err(e) => return Err((e.into(), sink)),
        };
        sink.event(Event::ConnectedUnix {
            path: path.to_path_buf(),
            connect_time,
        });
        let target = Target {
            host: "localhost".into(),
            port: 0,
        };
        Self::start(Stream::Unix(stream), None, target, options, sink).await
    }

    /// A session over a stream that is already connected (a test's
    /// loopback listener, say): waits for the whole banner.
    pub async fn over(
        stream: Stream,
        target: Target,
        options: SessionOptions,
        sink: S,
    ) -> Result<Self, (SessionError, S)> {
        Self::start(stream, None, target, options, sink).await
    }

    async fn start(
        stream: Stream,
        local: Option<std::net::SocketAddr>,
        target: Target,
        options: SessionOptions,
        sink: S,
    ) -> Result<Self, (SessionError, S)> {
        let mut session = Session {
            local,
            peer: None,
            implicit_tls: options.implicit_tls,
            transport: Transport::new(stream, options.timeouts.reply),
            sink,
            timeouts: options.timeouts,
            target,
            dialog: state::Dialog::new(options.quit_after, options.lmtp),
            tls_verified: false,
            awaiting: None,
            lints_shown: Default::default(),
            last_latency: None,
            tls_settings: options.tls.clone(),
            tls_report: None,
            keep_waiting: options.keep_waiting,
            secrets: Vec::new(),
            long_text: None,
        };
        if options.quit_after == Some(Stage::Connect) {
            session.close().await;
            return Ok(session);
        }
        if options.implicit_tls
            && let Err(e) = session.handshake().await
        {
            return Err((e, session.sink));
        }
        if let Err(e) = session.read_banner().await {
            return Err((e, session.sink));
        }
        if options.quit_after == Some(Stage::Banner)
            && session.is_open()
            && let Err(e) = session.quit_now().await
        {
            return Err((e, session.sink));
        }
        Ok(session)
    }

    /// Remembers a credential that goes out (and its base64 form), so that
    /// a server echoing it back shows `[secret redacted]` instead.
    pub(crate) fn remember_secret(&mut self, secret: &str) {
        use base64::Engine as _;
        if secret.len() < 3 || self.secrets.iter().any(|s| s.expose() == secret) {
            return;
        }
        // Unpadded, so that an echo with or without `=` padding matches.
        let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(secret);
        self.secrets.push(Secret::new(secret));
        self.secrets.push(Secret::new(encoded));
    }

    /// Remembers a SASL response or initial response as it was typed: the
    /// line, and what it decodes to (of a PLAIN blob, `authzid NUL user NUL
    /// password`, the password: the user name is no secret).
    pub(crate) fn remember_response(&mut self, response: &[u8]) {
        use base64::Engine as _;
        let text = String::from_utf8_lossy(response).into_owned();
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(text.trim()) {
            let secret = decoded.rsplit(|&b| b == 0).next().unwrap_or(&decoded);
            self.remember_secret(&String::from_utf8_lossy(secret));
        }
        self.remember_secret(&text);
    }

    /// The event sink, to read its settings.
    pub fn sink_ref(&self) -> &S {
        &self.sink
    }

    /// The event sink (for a driver that renders through it).
    pub fn sink(&mut self) -> &mut S {
        &mut self.sink
    }

    /// The phase of the dialog.
    pub fn phase(&self) -> Phase {
        self.dialog.phase
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        self.dialog.phase != Phase::Closed
    }

    /// Whether the session ended because the server answered our QUIT with
    /// `221` (like telnet's "Connection closed by foreign host.").
    pub fn ended_by_quit(&self) -> bool {
        !self.is_open() && self.dialog.quit_acknowledged
    }

    /// The host and port this session talks to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The local address and port of the connection, as the server sees
    /// it (none for a UNIX socket, or through a SOCKS5 proxy that does not
    /// say its own).
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.local
    }

    /// LMTP: the last message's reply for each recipient, in order.
    pub fn per_recipient(&self) -> &[(String, Reply)] {
        &self.dialog.per_recipient
    }

    /// The last reply received, if any.
    pub fn last_reply(&self) -> Option<&Reply> {
        self.dialog.last_reply.as_ref()
    }

    /// The greeting, once it has arrived.
    pub fn banner(&self) -> Option<&Reply> {
        self.dialog.banner.as_ref()
    }

    /// Counts an earlier reply (not the last) as not what was expected;
    /// `why` says how.
    pub fn disagree(&mut self, reply: &Reply, why: &str) {
        self.dialog.disagree(reply, why);
    }

    /// How many replies have arrived so far.
    pub fn reply_count(&self) -> u64 {
        self.dialog.reply_count
    }

    /// Caps what the server may send on this connection from now on
    /// (counted from its first byte): a wait for a reply past the cap fails
    /// with [`NetError::TooMuch`].
    pub fn limit_received(&mut self, limit: u64) {
        self.transport.set_read_limit(Some(limit));
    }

    /// Bytes read from the server on this connection so far.
    pub fn received(&self) -> u64 {
        self.transport.received()
    }

    /// The report of the last TLS handshake.
    pub fn tls_report(&self) -> Option<&TlsReport> {
        self.tls_report.as_ref()
    }

    /// Whether the connection is TLS with a certificate that verified.
    pub fn tls_verified(&self) -> bool {
        self.transport.is_tls() && self.tls_verified
    }

    /// How long each reply is waited for (`--timeout`, `:set timeout`).
    pub fn reply_timeout(&self) -> Duration {
        self.timeouts.reply
    }

    /// Changes how long each reply is waited for, from the next command on.
    pub fn set_reply_timeout(&mut self, timeout: Duration) {
        self.timeouts.reply = timeout;
    }

    /// The latency of the last reply to a command or a message (from the
    /// last byte sent to the reply's last line).
    pub fn last_latency(&self) -> Option<Duration> {
        self.last_latency
    }

    /// The capabilities of the last EHLO.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.dialog.capabilities.as_ref()
    }

    /// What a prompt shows: where, how, who, and where in the dialog.
    pub fn status(&self) -> Status {
        Status {
            host: self.target.host.clone(),
            port: self.target.port,
            tls: self.transport.is_tls(),
            tls_trusted: self.tls_verified,
            authenticated: self.dialog.authenticated.clone(),
            phase: self.dialog.phase,
            message_lines: self.dialog.message_lines(),
            greeted: self.dialog.greeted,
            in_transaction: self.dialog.in_transaction,
            secret_next: self.dialog.secret_next,
        }
    }

    /// Classifies a line of input (its line ending removed) in the dialog's
    /// state now: the one place that decides what a line is.
    pub fn classify<'a>(&self, line: &'a [u8], queued: bool, syntax: Syntax) -> Input<'a> {
        input::classify(line, self.dialog.role(queued), syntax, &self.lint_context())
    }

    pub(super) fn lint_context(&self) -> LintContext<'_> {
        LintContext {
            greeted: self.dialog.greeted,
            capabilities: self.dialog.capabilities.as_ref(),
            tls: self.transport.is_tls(),
            in_transaction: self.dialog.in_transaction,
        }
    }

    /// How the session would end now, by the exit-code table.
    pub fn outcome(&self) -> Exit {
        self.dialog.outcome().exit
    }

    /// The step that decided an exit code other than 0, and why; a
    /// credential the server echoed in its reply is redacted, as on screen.
    pub fn outcome_reason(&self) -> Option<String> {
        let mut why = self.dialog.outcome().why?;
        for secret in self.secrets.iter().map(Secret::expose) {
            if secret.len() >= 3 {
                why = why.replace(secret, "[secret redacted]");
            }
        }
        Some(why)
    }

    /// Counts a local failure into the outcome; `why` is what went wrong.
    pub fn fail_locally(&mut self, why: &str) {
        self.dialog.fail_locally(why);
    }

    /// Input that could not be sent because the server closed the
    /// connection: says so, and the run fails (see the exit-code table).
    /// `more`: the input had not ended either.
    pub fn not_sent(&mut self, lines: u64, more: bool) {
        self.dialog.not_sent(lines, more, &mut self.sink);
    }

    /// Checks the last reply against an `:expect`. Once checked, the reply
    /// counts by its expectations rather than by its class: an expected
    /// `550` is success, an unexpected `250` a failure.
    pub fn expect(&mut self, expected: Expectation) -> bool {
        self.dialog.expect(expected, &mut self.sink)
    }

    /// Judges the last reply as expected (`ok`) or not, silently: the
    /// caller reports. A failure is temporary when the reply was a 4xx.
    pub fn judge_last(&mut self, ok: bool, why: &str) {
        self.dialog.judge_last(ok, why);
    }
}
