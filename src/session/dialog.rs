//! The dialog itself: what each input does, waiting for replies, and what
//! each reply means for the session's state.
//!
//! Raw lines go out as typed, one per reply; message text after `354` is
//! dot-stuffed; lines queued behind a refused `DATA` are dropped; a `220` to
//! STARTTLS starts the handshake; `--quit-after` stops at its stage. Every
//! reply is accounted for the exit code as it arrives.

use std::time::Duration;

use tokio::time::Instant;

use super::{Event, EventSink, Phase, ReplyTo, Sent, Session, SessionError, Stage};
use crate::exit::Exit;
use crate::net::tls;
use crate::net::transport::ReadOutcome;
use crate::proto::codes::ReplyCode;
use crate::proto::command::{self, LintContext, Verb};
use crate::proto::data::ContentEncoder;
use crate::proto::ehlo::Capabilities;
use crate::proto::reply::Reply;

/// When a banner is this late on a port that usually speaks TLS first, a
/// hint says so.
const WRONG_MODE_HINT_AFTER: Duration = Duration::from_secs(3);

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

    /// Sends a command smtpcli wrote itself (no lints), waits for the
    /// reply, and applies it.
    pub(crate) async fn plain_command(
        &mut self,
        line: &str,
        verb: Verb,
    ) -> Result<Reply, SessionError> {
        self.exchange(
            format!("{line}\r\n").as_bytes(),
            Sent::Command(line.to_string()),
            Vec::new(),
            Some(verb),
        )
        .await
    }

    /// Sends DATA; on `354` the session is in message mode.
    pub async fn data_command(&mut self) -> Result<Reply, SessionError> {
        let reply = self.plain_command("DATA", Verb::Data).await?;
        if self.phase == Phase::DroppingText {
            // Nothing was queued behind a helper's DATA.
            self.phase = Phase::Command;
        }
        Ok(reply)
    }

    pub(super) async fn read_banner(&mut self) -> Result<(), SessionError> {
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
    pub(super) async fn expect_reply(
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

    /// Counts a reply into the outcome as a group of its own.
    pub(super) fn account(&mut self, reply: &Reply) {
        let group = std::mem::take(&mut self.last_group);
        self.settled = group.iter().fold(self.settled, |w, j| w.worst(j.exit));
        self.account_more(reply);
    }

    /// Counts a reply into the outcome as part of the current group (an
    /// LMTP message's reply for one more recipient).
    pub(super) fn account_more(&mut self, reply: &Reply) {
        let exit = match reply.class_digit() {
            Some(4) => Exit::Temporary,
            Some(5) => Exit::Permanent,
            Some(_) => Exit::Success,
            // Not SMTP at all.
            None => Exit::Local,
        };
        self.last_group.push(super::Judged {
            exit,
            expected: false,
        });
        self.last_reply = Some(reply.clone());
        self.reply_count += 1;
    }

    pub(super) fn closed_by_server(&mut self, partial: Option<Reply>, reset: bool) {
        self.phase = Phase::Closed;
        self.sink.event(Event::Closed {
            by_server: true,
            reset,
            partial,
        });
    }

    /// Whether a close now is what the last reply announced (`221`, `421`).
    pub(super) fn close_was_announced(&self) -> bool {
        let code = self.last_reply.as_ref().and_then(Reply::code);
        matches!(code.map(ReplyCode::value), Some(221) | Some(421))
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

    pub(super) fn finish_dropping(&mut self) {
        self.phase = Phase::Command;
        let n = std::mem::take(&mut self.dropped);
        if n > 0 {
            self.sink.event(Event::Warning(format!(
                "DATA was refused: {n} message line{} dropped, not sent",
                if n == 1 { "" } else { "s" }
            )));
        }
    }

    pub(super) async fn message_line(&mut self, line: &[u8]) -> Result<(), SessionError> {
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
            self.transport.flush().await?;
            self.message_replies(sent_at).await?;
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

    pub(super) async fn command_line(&mut self, line: &[u8]) -> Result<(), SessionError> {
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

    pub(super) async fn send_command(&mut self, line: &[u8]) -> Result<(), SessionError> {
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
        if verb == Some(Verb::Rcpt) && reply.is_positive_completion() {
            // Remembered for LMTP, whose message gets a reply per recipient.
            if let Some(command::Command::Rcpt { forward_path, .. }) =
                command::read_typed(&String::from_utf8_lossy(wire), &LintContext::default()).command
            {
                self.recipients.push(forward_path);
            }
        }
        self.after_reply(verb, &reply).await?;
        Ok(reply)
    }

    /// After the final `.` of a message: the reply to it, or with LMTP one
    /// reply per accepted recipient (RFC 2033 §4.2), matched by order and
    /// shown as a table. Returns the last reply.
    pub(crate) async fn message_replies(
        &mut self,
        sent_at: Instant,
    ) -> Result<Reply, SessionError> {
        let deadline = sent_at + self.timeouts.data_end;
        let recipients = std::mem::take(&mut self.recipients);
        self.per_recipient.clear();
        if !self.lmtp || recipients.len() < 2 {
            let reply = self
                .expect_reply(deadline, sent_at, ReplyTo::Message, Some(Verb::Data))
                .await?;
            if self.lmtp
                && let Some(rcpt) = recipients.into_iter().next()
            {
                self.per_recipient.push((rcpt, reply.clone()));
            }
            return Ok(reply);
        }
        let mut last = None;
        for (i, rcpt) in recipients.into_iter().enumerate() {
            let outcome = self.transport.read_reply(deadline).await?;
            let reply = match outcome {
                ReadOutcome::Reply(reply) if i > 0 => {
                    // The same group as the first: judged together.
                    self.account_more(&reply);
                    self.sink.event(Event::Reply {
                        reply: reply.clone(),
                        to: ReplyTo::Message,
                        tls: self.transport.is_tls(),
                        latency: sent_at.elapsed(),
                    });
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
            self.per_recipient.push((rcpt, reply.clone()));
            last = Some(reply);
        }
        self.sink
            .event(Event::PerRecipient(self.per_recipient.clone()));
        last.ok_or(SessionError::Closed(Some(Verb::Data)))
    }

    /// The protocol consequences of a reply to a command.
    pub(super) async fn after_reply(
        &mut self,
        verb: Option<Verb>,
        reply: &Reply,
    ) -> Result<(), SessionError> {
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
            (Some(Verb::Mail), _) if positive => {
                self.in_transaction = true;
                self.recipients.clear();
            }
            (Some(Verb::Rset), 250) => {
                self.in_transaction = false;
                self.recipients.clear();
            }
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
    pub(super) fn stage_is_over(&mut self, verb: Option<Verb>) -> bool {
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
    pub(super) async fn quit_now(&mut self) -> Result<(), SessionError> {
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
    pub(super) fn auth_initial_responses_are_redacted() {
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
    pub(super) fn line_endings_are_stripped_once() {
        assert_eq!(strip_line_ending(b"QUIT\r\n"), b"QUIT");
        assert_eq!(strip_line_ending(b"QUIT\n"), b"QUIT");
        assert_eq!(strip_line_ending(b"QUIT\r\r\n"), b"QUIT\r");
        assert_eq!(strip_line_ending(b"QUIT"), b"QUIT");
    }
}
