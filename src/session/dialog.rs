//! The I/O shell of the dialog: sending, waiting for replies, and doing
//! what the state machine ([`super::state`]) decides.
//!
//! Raw lines go out as typed, one per reply; message text after `354` is
//! dot-stuffed; lines queued behind a refused `DATA` are dropped; a `220` to
//! STARTTLS starts the handshake; `--quit-after` stops at its stage. A reply
//! that is already there when a command is about to go out was not asked
//! for by that command: it is shown as unsolicited, with a warning, before
//! the command is sent, and never taken as its reply.

use std::time::Duration;

use tokio::time::Instant;

use super::input::{Input, Outgoing, Syntax, TypedLine};
use super::state::{After, Gate};
use super::{Awaited, Event, EventSink, Phase, ReplyTo, Sent, Session, SessionError};
use crate::net::tls;
use crate::net::transport::ReadOutcome;
use crate::proto::codes::ReplyCode;
use crate::proto::command::{Command, Verb};
use crate::proto::reply::Reply;

/// When a banner is this late on a port that usually speaks TLS first, a
/// hint says so.
const WRONG_MODE_HINT_AFTER: Duration = Duration::from_secs(3);

/// How often an interactive session says it is still waiting for a reply.
const WAITING_TICK: Duration = Duration::from_secs(1);

impl<S: EventSink> Session<S> {
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
                self.dialog.closed();
                return Err(e.into());
            }
            Err(_) => {
                self.dialog.closed();
                return Err(SessionError::TlsTimeout(limit));
            }
        };
        self.transport.set_stream(stream);
        self.tls_verified = report.is_trusted();
        self.dialog.tls_started();
        self.tls_report = Some(report.clone());
        self.sink.event(Event::Tls(Box::new(report)));
        Ok(())
    }

    /// Sends a command smtpcli wrote itself (no lints), waits for the
    /// reply, and applies it.
    pub(crate) async fn command(&mut self, command: Command) -> Result<Reply, SessionError> {
        self.exchange(Outgoing::command(command)).await
    }

    /// Sends DATA; on `354` the session is in message mode.
    pub async fn data_command(&mut self) -> Result<Reply, SessionError> {
        let reply = self.command(Command::Data).await?;
        if self.dialog.phase == Phase::DroppingText {
            // Nothing was queued behind a helper's DATA.
            self.dialog.phase = Phase::Command;
        }
        Ok(reply)
    }

    pub(super) async fn read_banner(&mut self) -> Result<(), SessionError> {
        self.sink.flush();
        let started = Instant::now();
        let deadline = started + self.timeouts.reply;
        let mut outcome = None;
        // A server on a port that speaks TLS from the first byte (465, or
        // any port so configured) waits in silence for a ClientHello.
        if !self.transport.is_tls() {
            let early = (started + WRONG_MODE_HINT_AFTER).min(deadline);
            match self.transport.read_reply(early).await? {
                ReadOutcome::TimedOut if !self.transport.is_mid_reply() => {
                    let secs = WRONG_MODE_HINT_AFTER.as_secs();
                    self.sink.event(Event::Note(format!(
                        "no banner after {secs} s: a port that speaks TLS from the start \
                         (like 465) needs --tls; still waiting for a plain banner"
                    )));
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
        self.dialog.banner = Some(reply.clone());
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
    pub(super) async fn expect_reply(
        &mut self,
        deadline: Instant,
        sent_at: Instant,
        to: ReplyTo,
        verb: Option<Verb>,
    ) -> Result<Reply, SessionError> {
        // What was sent is shown before the wait, whatever cuts it short.
        self.sink.flush();
        let awaited = match to {
            ReplyTo::Banner => Awaited::Banner,
            ReplyTo::Message => Awaited::Message,
            _ => Awaited::Command(verb),
        };
        // Set until the reply is in: a wait dropped by Ctrl-C leaves it.
        self.awaiting = Some(awaited);
        let mut deadline = deadline;
        let mut tick = sent_at + WAITING_TICK;
        loop {
            // Interactively, a status once a second says what is awaited.
            let until = if self.keep_waiting {
                tick.min(deadline)
            } else {
                deadline
            };
            let outcome = self.transport.read_reply(until).await?;
            if matches!(outcome, ReadOutcome::TimedOut) && until < deadline {
                self.sink.event(Event::Waiting {
                    awaited,
                    elapsed: sent_at.elapsed(),
                });
                tick += WAITING_TICK;
                continue;
            }
            if matches!(outcome, ReadOutcome::TimedOut) && self.keep_waiting {
                // Interactively a timeout never drops the session.
                let waited = sent_at.elapsed().as_secs();
                self.sink.event(Event::Warning(format!(
                    "no reply for {waited} s, still waiting (Ctrl-C stops waiting)"
                )));
                deadline += self.timeouts.reply;
                continue;
            }
            self.awaiting = None;
            return self.handle_outcome(outcome, sent_at, deadline, to, verb);
        }
    }

    /// A reply, a timeout or a close: the reply is shown and accounted (a
    /// command's reply is applied by [`Session::exchange`]).
    pub(super) fn handle_outcome(
        &mut self,
        outcome: ReadOutcome,
        sent_at: Instant,
        deadline: Instant,
        to: ReplyTo,
        verb: Option<Verb>,
    ) -> Result<Reply, SessionError> {
        match outcome {
            ReadOutcome::Reply(reply) => {
                self.show_reply(&reply, to, sent_at.elapsed());
                if !matches!(to, ReplyTo::Command(_)) {
                    self.dialog.account(&reply, &mut self.sink);
                }
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

    pub(super) fn show_reply(&mut self, reply: &Reply, to: ReplyTo, latency: Duration) {
        if matches!(to, ReplyTo::Command(_) | ReplyTo::Message) {
            self.last_latency = Some(latency);
        }
        // A server that echoes credentials back: redacted before anything
        // shows or logs the reply.
        let reply = reply
            .redacted(self.secrets.iter().map(|s| s.expose().as_bytes()))
            .unwrap_or_else(|| reply.clone());
        self.sink.event(Event::Reply {
            reply,
            to,
            tls: self.transport.is_tls(),
            latency,
        });
    }

    pub(super) fn closed_by_server(&mut self, partial: Option<Reply>, reset: bool) {
        self.dialog.closed();
        self.sink.event(Event::Closed {
            by_server: true,
            reset,
            partial,
        });
    }

    /// Reads briefly to see whether the server closed the connection.
    pub(super) async fn poll_close(&mut self, wait: Duration) {
        match self.transport.read_reply(Instant::now() + wait).await {
            Ok(ReadOutcome::Closed { partial, reset }) => self.closed_by_server(partial, reset),
            Ok(ReadOutcome::Reply(reply)) => self.unsolicited(reply),
            Ok(ReadOutcome::TimedOut) | Err(_) => {}
        }
    }

    pub(super) fn unsolicited(&mut self, reply: Reply) {
        if let Some(awaited) = self.awaiting.take() {
            return self.late(reply, awaited);
        }
        self.show_reply(&reply, ReplyTo::Unsolicited, Duration::ZERO);
        self.dialog.unsolicited(&reply, &mut self.sink);
    }

    /// The reply whose wait was stopped (Ctrl-C) came after all: it is
    /// shown as late and applied as that reply, since the server's state
    /// follows it (a late `354` means the server now takes message text).
    fn late(&mut self, reply: Reply, awaited: Awaited) {
        self.show_reply(&reply, ReplyTo::Late(awaited), Duration::ZERO);
        match awaited {
            Awaited::Command(_) => {
                if self.dialog.reply(&reply, &mut self.sink) != After::Nothing {
                    self.sink.event(Event::Warning(
                        "that reply asked for a step smtpcli no longer takes (the wait was \
                         stopped): :reconnect starts afresh"
                            .into(),
                    ));
                }
            }
            Awaited::Banner => {
                self.dialog.banner = Some(reply.clone());
                self.dialog.account(&reply, &mut self.sink);
            }
            Awaited::Message => self.dialog.account(&reply, &mut self.sink),
        }
    }

    /// Replies that are already here before a command goes out answer
    /// nothing that command asked: each is shown as unsolicited, with a
    /// warning, and none is taken for the command's reply.
    async fn early_replies(&mut self, what: &Sent) {
        while let Some(reply) = self.transport.ready_reply().await {
            if let Some(awaited) = self.awaiting.take() {
                self.late(reply, awaited);
                continue;
            }
            let code = reply
                .code()
                .map_or_else(|| "a reply".to_string(), |c| c.to_string());
            self.unsolicited(reply);
            let before = match what {
                Sent::Command(line) => format!("'{line}'"),
                Sent::Secret { .. } => "the SASL response".to_string(),
                _ => "the next line".to_string(),
            };
            self.sink.event(Event::Warning(format!(
                "{code} arrived before {before} was sent: the server answered something not asked, or twice; it is not taken as the reply to {before}"
            )));
        }
    }

    /// Waits for anything the server sends unasked while the session is
    /// idle (an idle-timeout `421`, a close). Cancel-safe: meant to sit in a
    /// `select!` beside the input. Returns once something happened.
    pub async fn idle(&mut self) -> Result<(), SessionError> {
        if self.dialog.phase == Phase::Closed {
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

    /// Handles one line of input (with or without its line ending) as a
    /// line for the server: no meta-commands, no comments. `queued` says
    /// the line was already waiting when the previous reply arrived (piped
    /// input, a paste): such lines behind a refused DATA are message text
    /// and are dropped, not sent.
    pub async fn submit(&mut self, line: &[u8], queued: bool) -> Result<(), SessionError> {
        let line = super::input::strip_line_ending(line);
        let input = self.classify(line, queued, Syntax::Wire);
        self.input(input).await
    }

    /// Does what a classified line asks of the engine. Blank lines,
    /// comments and meta-commands ask nothing of it.
    pub async fn input(&mut self, input: Input<'_>) -> Result<(), SessionError> {
        if input.is_for_server() && self.dialog.phase == Phase::DroppingText {
            if let Input::Dropped(line) = input {
                self.dialog.drop_line(line, &mut self.sink);
                return Ok(());
            }
            self.dialog.finish_dropping(&mut self.sink);
        }
        match input {
            Input::Blank | Input::Comment | Input::Meta(_) => Ok(()),
            Input::NotSendable(_) => Err(SessionError::NotConnected),
            Input::Dropped(line) => {
                self.dialog.drop_line(line, &mut self.sink);
                Ok(())
            }
            Input::Text(line) => self.message_line(line).await,
            Input::SaslResponse(line) => {
                self.remember_response(line);
                let out = Outgoing::sasl(line, Sent::Secret { len: line.len() });
                self.send_line(out).await
            }
            Input::Command(typed) => self.typed(typed).await,
        }
    }

    async fn typed(&mut self, typed: TypedLine) -> Result<(), SessionError> {
        if let Some(Command::Auth {
            initial_response: Some(ir),
            ..
        }) = typed.command()
        {
            self.remember_response(ir.as_bytes());
        }
        match self.dialog.gate(typed.verb(), false) {
            Gate::Closed => Err(SessionError::NotConnected),
            Gate::QuitInstead => self.quit_now().await,
            Gate::Send => self.send_line(Outgoing::typed(typed)).await,
        }
    }

    /// Sends a line of input and waits for its reply; a close that the
    /// reply announced (`221`, `421`) is not an error.
    async fn send_line(&mut self, out: Outgoing) -> Result<(), SessionError> {
        match self.exchange(out).await {
            Ok(_) => Ok(()),
            Err(SessionError::Closed(_)) if self.dialog.close_was_announced() => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn message_line(&mut self, line: &[u8]) -> Result<(), SessionError> {
        let tls = self.transport.is_tls();
        if line == b"." {
            let (wire, recipients) = self.dialog.end_message();
            self.transport.send(&wire).await?;
            self.sink.event(Event::Sent {
                what: Sent::EndOfMessage,
                tls,
            });
            self.transport.flush().await?;
            let sent_at = Instant::now();
            self.message_replies(sent_at, recipients).await?;
            if self.dialog.quits_after_message() && self.is_open() {
                self.quit_now().await?;
            }
            return Ok(());
        }
        let wire = self.dialog.text_line(line);
        self.transport.send(&wire).await?;
        self.sink.event(Event::Sent {
            what: Sent::Text(String::from_utf8_lossy(line).into_owned()),
            tls,
        });
        Ok(())
    }

    /// A piece of a line of message text too long to hold whole: sent as it
    /// comes (line ending excluded, `end` says whether the line ends here);
    /// the transcript shows the line once it ends, cut after its start.
    pub async fn text_piece(&mut self, piece: &[u8], end: bool) -> Result<(), SessionError> {
        const SHOWN: usize = 200;
        if self.dialog.phase != Phase::Data {
            return Err(SessionError::NotConnected);
        }
        let piece = if end {
            super::input::strip_line_ending(piece)
        } else {
            piece
        };
        let wire = self.dialog.text_piece(piece, end);
        self.transport.send(&wire).await?;
        let (shown, sent) = self.long_text.get_or_insert_with(|| {
            let head = &piece[..piece.len().min(SHOWN)];
            (String::from_utf8_lossy(head).into_owned(), 0)
        });
        *sent += piece.len() as u64;
        if end {
            let more = sent.saturating_sub(shown.len() as u64);
            let line = format!("{shown}… {more} more bytes");
            self.long_text = None;
            let tls = self.transport.is_tls();
            self.sink.event(Event::Sent {
                what: Sent::Text(line),
                tls,
            });
        }
        Ok(())
    }

    /// Sends `out` (shown as its `shown`, with its notes after it), waits
    /// for the reply, and applies its protocol consequences.
    pub(crate) async fn exchange(&mut self, out: Outgoing) -> Result<Reply, SessionError> {
        if self.dialog.phase == Phase::Closed {
            return Err(SessionError::NotConnected);
        }
        if let Some(refusal) = out.refusal() {
            return Err(SessionError::Refused(refusal));
        }
        self.early_replies(&out.shown).await;
        if self.transport.is_closed() {
            // The server hung up before this could go out.
            if let ReadOutcome::Closed { partial, reset } =
                self.transport.read_reply(Instant::now()).await?
            {
                self.closed_by_server(partial, reset);
            }
            return Err(SessionError::NotConnected);
        }
        let Outgoing {
            wire,
            shown,
            verb,
            command,
            sasl,
            notes,
            ..
        } = out;
        self.dialog.sent(verb, command, sasl);
        let tls = self.transport.is_tls();
        self.transport.send(&wire).await?;
        self.sink.event(Event::Sent { what: shown, tls });
        // A lint is said once a session: the angle-bracket note on MAIL
        // need not come again on RCPT.
        for note in notes {
            if self.lints_shown.insert(note.clone()) {
                self.sink.event(Event::Note(note));
            }
        }
        self.transport.flush().await?;
        // Latency runs from the command's last byte on the wire.
        let sent_at = Instant::now();
        let deadline = sent_at + self.timeouts.reply;
        let reply = self
            .expect_reply(deadline, sent_at, ReplyTo::Command(verb), verb)
            .await?;
        self.apply(&reply).await?;
        Ok(reply)
    }

    /// The protocol consequences of a reply to a command.
    pub(super) async fn apply(&mut self, reply: &Reply) -> Result<(), SessionError> {
        match self.dialog.reply(reply, &mut self.sink) {
            After::Nothing => {}
            After::Handshake => self.handshake().await?,
            After::PollClose => {
                self.poll_close(Duration::from_secs(2)).await;
                if self.dialog.quit_acknowledged && self.is_open() {
                    // The server said goodbye but left the line open: the
                    // session is over all the same.
                    self.close().await;
                }
            }
        }
        Ok(())
    }

    /// After the final `.` of a message: the reply to it, or with LMTP one
    /// reply per accepted recipient (RFC 2033 §4.2), matched by order and
    /// shown as a table. Returns the last reply.
    pub(crate) async fn message_replies(
        &mut self,
        sent_at: Instant,
        recipients: Vec<String>,
    ) -> Result<Reply, SessionError> {
        let deadline = sent_at + self.timeouts.data_end;
        self.sink.flush();
        let lmtp = self.dialog.is_lmtp();
        if !lmtp || recipients.len() < 2 {
            let reply = self
                .expect_reply(deadline, sent_at, ReplyTo::Message, Some(Verb::Data))
                .await?;
            if lmtp && let Some(rcpt) = recipients.into_iter().next() {
                self.dialog.per_recipient_reply(rcpt, reply.clone());
            }
            return Ok(reply);
        }
        let mut last = None;
        for (i, rcpt) in recipients.into_iter().enumerate() {
            let outcome = self.transport.read_reply(deadline).await?;
            let reply = match outcome {
                ReadOutcome::Reply(reply) if i > 0 => {
                    // The same group as the first: judged together.
                    self.show_reply(&reply, ReplyTo::Message, sent_at.elapsed());
                    self.dialog.account_more(&reply, &mut self.sink);
                    reply
                }
                other => self.handle_outcome(
                    other,
                    sent_at,
                    deadline,
                    ReplyTo::Message,
                    Some(Verb::Data),
                )?,
            };
            self.dialog.per_recipient_reply(rcpt, reply.clone());
            last = Some(reply);
        }
        self.sink
            .event(Event::PerRecipient(self.dialog.per_recipient.clone()));
        last.ok_or(SessionError::Closed(Some(Verb::Data)))
    }

    /// Sends QUIT now (for `--quit-after`), then closes.
    pub(super) async fn quit_now(&mut self) -> Result<(), SessionError> {
        self.sink
            .event(Event::Note("--quit-after: the chosen stage is done".into()));
        self.send_line(Outgoing::command(Command::Quit)).await?;
        if self.is_open() {
            self.close().await;
        }
        Ok(())
    }

    /// Ends the session from our side: QUIT if it is still open and not in a
    /// message, then close.
    pub async fn quit(&mut self) -> Result<(), SessionError> {
        match self.dialog.phase {
            Phase::Closed => Ok(()),
            Phase::Data => {
                self.sink.event(Event::Warning(
                    "input ended inside a message: closing without the final '.', so nothing is delivered".into(),
                ));
                self.fail_locally("the input ended inside a message: nothing was delivered");
                self.close().await;
                Ok(())
            }
            Phase::Command | Phase::DroppingText => {
                self.dialog.finish_dropping(&mut self.sink);
                self.sink
                    .event(Event::Note("end of input: sending QUIT".into()));
                match self.send_line(Outgoing::command(Command::Quit)).await {
                    Ok(()) => {}
                    // The server closed first, or instead of its 221: the
                    // session is over, which is what QUIT asked for.
                    Err(SessionError::Closed(_) | SessionError::NotConnected) => return Ok(()),
                    Err(e) => return Err(e),
                }
                if self.is_open() {
                    self.close().await;
                }
                Ok(())
            }
        }
    }

    /// Closes the connection from our side.
    pub async fn close(&mut self) {
        if self.dialog.phase == Phase::Closed {
            return;
        }
        self.transport.shutdown().await;
        self.dialog.closed();
        self.sink.event(Event::Closed {
            by_server: false,
            reset: false,
            partial: None,
        });
    }
}
