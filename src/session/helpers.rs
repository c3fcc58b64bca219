//! The helpers: whole steps of a dialog done for the user.
//!
//! `:ehlo` (with the HELO fallback RFC 5321 allows; `:auth` is in
//! [`super::auth`]), a whole transaction as an MTA sends it (`:send`),
//! streaming a message file through DATA or BDAT in constant memory,
//! `:raw` bytes and a `:pipeline` block. Each is built on the same exchange
//! the typed commands use, so events, state and exit codes stay one story.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

use super::input::{Outgoing, TypedLine};
use super::{Event, EventSink, Phase, ReplyTo, Sent, Session, SessionError};
use crate::proto::codes::ReplyCode;
use crate::proto::command::{Command, Verb};
use crate::proto::data::ContentEncoder;
use crate::proto::ehlo::Capability;
use crate::proto::param::xtext_encode;
use crate::proto::reply::Reply;

/// Bytes read from a message file at a time.
const FILE_CHUNK: usize = 64 * 1024;
/// The largest BDAT chunk `:send` sends.
const BDAT_CHUNK: usize = 1024 * 1024;
/// Files larger than this get progress events.
const PROGRESS_OVER: u64 = 4 * 1024 * 1024;
/// A progress event every this many bytes.
const PROGRESS_EVERY: u64 = 8 * 1024 * 1024;

pub use super::delivery::{Delivery, Envelope, RecipientOutcome, RecipientStatus};

fn is_positive(reply: &Reply) -> bool {
    matches!(reply.class_digit(), Some(2))
}

pub(super) fn code_is(reply: &Reply, codes: &[u16]) -> bool {
    reply
        .code()
        .map(ReplyCode::value)
        .is_some_and(|c| codes.contains(&c))
}

impl<S: EventSink> Session<S> {
    /// `EHLO name` (or `LHLO` for LMTP). Falls back to `HELO` only after a
    /// `500` or `502`, as RFC 5321 §4.1.4 allows: a `550`/`554`/`504` is a
    /// refusal, not a server that does not know EHLO. `force_helo` sends
    /// HELO straight away.
    pub async fn ehlo(
        &mut self,
        name: &str,
        lmtp: bool,
        force_helo: bool,
    ) -> Result<Reply, SessionError> {
        let verb = match (force_helo, lmtp) {
            (true, _) => Verb::Helo,
            (false, true) => Verb::Lhlo,
            (false, false) => Verb::Ehlo,
        };
        let mut notes = vec![format!("EHLO name in use: {name}")];
        if !is_fqdn(name) {
            notes.push(format!(
                "'{name}' is not a fully qualified domain name: some servers refuse it or score it as spam (--ehlo NAME)"
            ));
        }
        let command = match verb {
            Verb::Helo => Command::Helo(name.to_string()),
            Verb::Lhlo => Command::Lhlo(name.to_string()),
            _ => Command::Ehlo(name.to_string()),
        };
        let reply = self
            .exchange(Outgoing::command(command).with_notes(notes))
            .await?;
        if verb == Verb::Ehlo && code_is(&reply, &[500, 502]) {
            self.sink.event(Event::Note(
                "the server does not know EHLO: falling back to HELO (no extensions)".into(),
            ));
            return self.command(Command::Helo(name.to_string())).await;
        }
        Ok(reply)
    }

    /// STARTTLS as a helper: EHLO first if needed, STARTTLS, the handshake
    /// (with its report), EHLO again, and the capability difference. Returns
    /// whether TLS is up; `false` when the server did not offer or refused
    /// it (a permanent disagreement unless the refusal was a 4xx).
    /// XCLIENT (or, with `forward`, XFORWARD) with `attributes`, values as
    /// given (xtext-encoded here), in as many commands as keep each line
    /// within 512 bytes. Only attributes the server advertised go out,
    /// unless `lax`: `Ok(Some(why))` when something was not advertised and
    /// nothing was sent. A refusal is a reply like any other (shown,
    /// explained, counted): what is left is not sent. After XCLIENT's `220`
    /// (a new session) EHLO is sent again, with the HELO attribute's name
    /// if one was given (as the proxied client would greet), else
    /// `ehlo_name`.
    pub async fn xclient(
        &mut self,
        attributes: &[(String, String)],
        forward: bool,
        lax: bool,
        ehlo_name: &str,
        lmtp: bool,
    ) -> Result<Option<String>, SessionError> {
        let keyword = if forward { "XFORWARD" } else { "XCLIENT" };
        if !self.dialog.greeted {
            self.ehlo(ehlo_name, lmtp, false).await?;
        }
        let offered: Option<Vec<String>> = self.dialog.capabilities.as_ref().and_then(|caps| {
            caps.list
                .iter()
                .find_map(|cap| match cap {
                    Capability::XClient(names) if !forward => Some(names),
                    Capability::XForward(names) if forward => Some(names),
                    _ => None,
                })
                .map(|names| {
                    names
                        .iter()
                        .map(|n| n.unchecked_str().to_ascii_uppercase())
                        .collect()
                })
        });
        if !lax {
            let Some(offered) = &offered else {
                return Ok(Some(format!(
                    "the server does not offer {keyword} (not in its EHLO reply); --lax sends it anyway"
                )));
            };
            let missing: Vec<&str> = attributes
                .iter()
                .map(|(name, _)| name.as_str())
                .filter(|name| !offered.iter().any(|o| o == name))
                .collect();
            if !missing.is_empty() {
                return Ok(Some(format!(
                    "the server does not offer {keyword} {}: it takes {}; --lax sends them anyway",
                    missing.join(", "),
                    offered.join(", ")
                )));
            }
        }
        let encoded: Vec<(String, String)> = attributes
            .iter()
            .map(|(name, value)| (name.to_ascii_uppercase(), xtext_encode(value)))
            .collect();
        for chunk in split_attributes(keyword, &encoded) {
            let command = if forward {
                Command::XForward(chunk)
            } else {
                Command::XClient(chunk)
            };
            let reply = self.command(command).await?;
            let wanted: &[u16] = if forward { &[250] } else { &[220] };
            if !code_is(&reply, wanted) {
                return Ok(None);
            }
        }
        if !forward {
            let helo = attributes
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("HELO"))
                .map_or(ehlo_name, |(_, value)| value.as_str());
            self.ehlo(helo, lmtp, false).await?;
        }
        Ok(None)
    }

    pub async fn starttls(&mut self, ehlo_name: &str, lmtp: bool) -> Result<bool, SessionError> {
        if self.transport.is_tls() {
            self.sink.event(Event::Warning(
                "the connection is already TLS: not starting it again".into(),
            ));
            return Ok(true);
        }
        if !self.dialog.greeted {
            self.ehlo(ehlo_name, lmtp, false).await?;
        }
        let before = self.dialog.capabilities.clone().unwrap_or_default();
        if !before.supports_starttls() {
            self.sink.event(Event::Warning(
                "the server does not offer STARTTLS: not sending credentials or mail over this connection is up to you".into(),
            ));
            self.judge_last(false, "STARTTLS is not offered");
            return Ok(false);
        }
        let reply = self.command(Command::StartTls).await?;
        if !code_is(&reply, &[220]) || !self.transport.is_tls() {
            return Ok(false);
        }
        self.ehlo(ehlo_name, lmtp, false).await?;
        let after = self.dialog.capabilities.clone().unwrap_or_default();
        let diff = before.diff(&after);
        let mut parts: Vec<String> = Vec::new();
        parts.extend(diff.added.iter().map(|c| format!("+ {c}")));
        parts.extend(diff.removed.iter().map(|c| format!("− {c}")));
        parts.extend(diff.changed.iter().map(|(b, a)| format!("~ {b} → {a}")));
        let text = if parts.is_empty() {
            "capabilities after TLS: the same as before".to_string()
        } else {
            format!("capabilities after TLS: {}", parts.join("  "))
        };
        self.sink.event(Event::Note(text));
        Ok(true)
    }

    /// Sends exact bytes (no CRLF added) and shows them; then waits for as
    /// many replies as the bytes held line feeds, without failing if none
    /// comes: raw bytes are a probe, silence is an answer too.
    pub async fn raw(&mut self, bytes: &[u8]) -> Result<Vec<Reply>, SessionError> {
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
        self.sink.flush();
        let expected = bytes.iter().filter(|&&b| b == b'\n').count();
        let mut replies = Vec::new();
        let sent_at = Instant::now();
        let deadline = sent_at + self.timeouts.reply.min(Duration::from_secs(5));
        for _ in 0..expected {
            match self.transport.read_reply(deadline).await? {
                super::ReadOutcome::Reply(reply) => {
                    self.show_reply(&reply, ReplyTo::Command(None), sent_at.elapsed());
                    self.dialog.account(&reply, &mut self.sink);
                    replies.push(reply);
                }
                super::ReadOutcome::TimedOut => {
                    self.sink.event(Event::Note(format!(
                        "no reply within {} s",
                        deadline.saturating_duration_since(sent_at).as_secs()
                    )));
                    break;
                }
                super::ReadOutcome::Closed { partial, reset } => {
                    self.closed_by_server(partial, reset);
                    break;
                }
            }
        }
        Ok(replies)
    }

    /// Sends a block of commands in one write, then reads one reply per
    /// command and shows each matched to its command.
    pub async fn pipeline(&mut self, lines: &[String]) -> Result<Vec<Reply>, SessionError> {
        if self.dialog.phase == Phase::Closed {
            return Err(SessionError::NotConnected);
        }
        if !self
            .dialog
            .capabilities
            .as_ref()
            .is_some_and(|c| c.supports_pipelining())
        {
            self.sink.event(Event::Warning(
                "PIPELINING was not advertised: the server may refuse commands sent ahead".into(),
            ));
        }
        let tls = self.transport.is_tls();
        let mut sent = Vec::new();
        for line in lines {
            let typed = TypedLine::new(line.as_bytes(), &self.lint_context());
            let out = Outgoing::typed(typed);
            self.transport.send(&out.wire).await?;
            self.sink.event(Event::Sent {
                what: out.shown.clone(),
                tls,
            });
            sent.push(out);
        }
        let sent_at = Instant::now();
        self.transport.flush().await?;
        let mut replies = Vec::new();
        for out in sent {
            let deadline = Instant::now() + self.timeouts.reply;
            if let Sent::Command(shown) = &out.shown {
                self.sink.event(Event::Note(format!("reply to: {shown}")));
            }
            self.dialog.sent(out.verb, out.command, false);
            let reply = self
                .expect_reply(deadline, sent_at, ReplyTo::Command(out.verb), out.verb)
                .await?;
            self.apply(&reply).await?;
            replies.push(reply);
            if self.dialog.phase != Phase::Command {
                break;
            }
        }
        Ok(replies)
    }

    /// After a `354`: streams `reader` as message text (CRLF normalised,
    /// dot-stuffed) in constant memory, ends it, and returns the final reply.
    pub async fn stream_data<R: AsyncRead + Unpin>(
        &mut self,
        mut reader: R,
        total: Option<u64>,
    ) -> Result<Reply, SessionError> {
        if self.dialog.phase != Phase::Data {
            return Err(SessionError::NotConnected);
        }
        let mut encoder = ContentEncoder::for_data();
        let mut buf = vec![0u8; FILE_CHUNK];
        let mut wire = Vec::with_capacity(FILE_CHUNK + FILE_CHUNK / 8);
        let mut sent: u64 = 0;
        let mut next_progress = PROGRESS_EVERY;
        loop {
            let n = reader
                .read(&mut buf)
                .await
                .map_err(|source| SessionError::Local(format!("reading the message: {source}")))?;
            if n == 0 {
                break;
            }
            wire.clear();
            encoder.encode(&buf[..n], &mut wire);
            if let Err(e) = self.transport.send(&wire).await {
                self.message_failed(sent, total);
                return Err(e.into());
            }
            sent += n as u64;
            if total.is_some_and(|t| t > PROGRESS_OVER) && sent >= next_progress {
                next_progress += PROGRESS_EVERY;
                self.sink.event(Event::Progress { sent, total });
            }
        }
        wire.clear();
        encoder.finish(&mut wire);
        self.transport.send(&wire).await?;
        let tls = self.transport.is_tls();
        self.sink
            .event(Event::Note(format!("{sent} bytes of message text sent")));
        self.sink.event(Event::Sent {
            what: Sent::EndOfMessage,
            tls,
        });
        let recipients = self.dialog.take_recipients();
        self.dialog.message_sent();
        let sent_at = Instant::now();
        if let Err(e) = self.transport.flush().await {
            self.message_failed(sent, total);
            return Err(e.into());
        }
        self.message_replies(sent_at, recipients).await
    }

    /// Says plainly that a message did not get through, and how far it got.
    fn message_failed(&mut self, sent: u64, total: Option<u64>) {
        let of = total.map(|t| format!(" of {t}")).unwrap_or_default();
        self.sink.event(Event::Warning(format!(
            "the message was not delivered: the connection failed after {sent}{of} bytes had been handed to it"
        )));
    }

    /// Sends `reader` with BDAT (RFC 3030) in chunks of `chunk` bytes after
    /// CRLF normalisation (no dot-stuffing: BDAT counts exact bytes), the
    /// last one marked LAST. Returns the reply to the last BDAT.
    pub async fn stream_bdat<R: AsyncRead + Unpin>(
        &mut self,
        mut reader: R,
        chunk: usize,
        total: Option<u64>,
    ) -> Result<Reply, SessionError> {
        if !self
            .dialog
            .capabilities
            .as_ref()
            .is_some_and(|c| c.supports_chunking())
        {
            self.sink.event(Event::Warning(
                "CHUNKING was not advertised: the server will likely refuse BDAT".into(),
            ));
        }
        let chunk = chunk.max(1);
        let mut encoder = ContentEncoder::for_bdat();
        let mut buf = vec![0u8; FILE_CHUNK.min(chunk).max(1)];
        let mut pending: Vec<u8> = Vec::with_capacity(chunk + FILE_CHUNK);
        let mut read: u64 = 0;
        let mut next_progress = PROGRESS_EVERY;
        let mut eof = false;
        loop {
            while !eof && pending.len() < chunk {
                let n = reader.read(&mut buf).await.map_err(|source| {
                    SessionError::Local(format!("reading the message: {source}"))
                })?;
                if n == 0 {
                    eof = true;
                    encoder.finish(&mut pending);
                } else {
                    read += n as u64;
                    encoder.encode(&buf[..n], &mut pending);
                }
            }
            let take = pending.len().min(chunk);
            let last = eof && take == pending.len();
            let mut out = Outgoing::command(Command::Bdat {
                size: take as u64,
                last,
            });
            out.wire.extend_from_slice(&pending[..take]);
            pending.drain(..take);
            let reply = self.exchange(out).await?;
            if total.is_some_and(|t| t > PROGRESS_OVER) && read >= next_progress {
                next_progress += PROGRESS_EVERY;
                self.sink.event(Event::Progress { sent: read, total });
            }
            if last || !is_positive(&reply) {
                if last {
                    self.dialog.in_transaction = false;
                }
                return Ok(reply);
            }
        }
    }

    /// A whole transaction as an MTA sends it: MAIL, every RCPT (carrying
    /// on past refused ones; 251 and 252 count as accepted), DATA if at least
    /// one was accepted (or BDAT, as the envelope says), the message, and
    /// RSET after a failure. The result
    /// is also reported as an [`Event::Delivery`].
    pub async fn send_message(
        &mut self,
        envelope: &Envelope,
        message: &[u8],
        token: &str,
    ) -> Result<Delivery, SessionError> {
        let mail = self
            .command(Command::Mail {
                reverse_path: envelope.from.clone(),
                params: envelope.mail_params.clone(),
            })
            .await?;
        let mut delivery = Delivery {
            mail: mail.clone(),
            recipients: Vec::new(),
            data: None,
            message: None,
            finals: Vec::new(),
            untried: Vec::new(),
            token: token.to_string(),
        };
        if !is_positive(&mail) {
            delivery.untried = envelope.to.iter().map(|r| r.address.clone()).collect();
        } else {
            for to in &envelope.to {
                let reply = self
                    .command(Command::Rcpt {
                        forward_path: to.address.clone(),
                        params: to.params.clone(),
                    })
                    .await?;
                delivery.recipients.push((to.address.clone(), reply));
            }
            let any_accepted = delivery.recipients.iter().any(|(_, r)| is_positive(r));
            if any_accepted && envelope.bdat {
                // One more than the message: a message that fits goes in
                // one `BDAT n LAST`, not `BDAT n` and `BDAT 0 LAST`.
                let chunk = (message.len() + 1).min(BDAT_CHUNK);
                let final_reply = self
                    .stream_bdat(message, chunk, Some(message.len() as u64))
                    .await?;
                delivery.message = Some(final_reply);
            } else if any_accepted {
                let data = self.command(Command::Data).await?;
                let go = code_is(&data, &[354]);
                delivery.data = Some(data);
                if go {
                    let final_reply = self
                        .stream_data(message, Some(message.len() as u64))
                        .await?;
                    delivery.message = Some(final_reply);
                    if self.dialog.is_lmtp() {
                        // One reply per accepted recipient, in order.
                        delivery.finals = self.dialog.per_recipient.clone();
                    }
                } else {
                    // The refused DATA left nothing queued to drop.
                    self.dialog.phase = Phase::Command;
                }
            }
        }
        if !delivery.is_accepted() && self.is_open() {
            self.command(Command::Rset).await?;
        }
        self.sink.event(Event::Delivery(delivery.clone()));
        Ok(delivery)
    }
}

/// A name with at least one dot between non-empty labels, or an address
/// literal.
pub fn is_fqdn(name: &str) -> bool {
    crate::proto::command::is_fqdn_or_literal(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqdn() {
        for (name, want) in [
            ("pc0815.example.com", true),
            ("mail.example.org.", true),
            ("[192.0.2.1]", true),
            ("[IPv6:::1]", true),
            ("localhost", false),
            ("pc0815", false),
            ("a..b", false),
        ] {
            assert_eq!(is_fqdn(name), want, "{name}");
        }
    }
}

/// Attributes grouped into commands of at most 512 bytes each, CRLF
/// included (RFC 5321's command line limit, which Postfix applies): a
/// single attribute too long for one line still goes alone.
fn split_attributes(keyword: &str, attributes: &[(String, String)]) -> Vec<Vec<(String, String)>> {
    const LIMIT: usize = 512;
    let mut commands: Vec<Vec<(String, String)>> = Vec::new();
    let mut length = 0;
    for (name, value) in attributes {
        let word = 1 + name.len() + 1 + value.len();
        match commands.last_mut() {
            Some(current) if length + word + 2 <= LIMIT => {
                current.push((name.clone(), value.clone()));
                length += word;
            }
            _ => {
                commands.push(vec![(name.clone(), value.clone())]);
                length = keyword.len() + word;
            }
        }
    }
    commands
}

#[cfg(test)]
mod xclient_tests {
    use super::*;

    #[test]
    fn long_attributes_are_split_into_lines_of_512_bytes_at_most() {
        let attributes: Vec<(String, String)> = (0..6)
            .map(|i| (format!("NAME{i}"), "x".repeat(150)))
            .collect();
        let commands = split_attributes("XCLIENT", &attributes);
        assert!(commands.len() > 1);
        let mut seen = 0;
        for chunk in &commands {
            let line = Command::XClient(chunk.clone()).to_string();
            assert!(line.len() <= 512, "{} bytes", line.len());
            seen += chunk.len();
        }
        assert_eq!(seen, 6);
        let short = split_attributes("XCLIENT", &[("NAME".into(), "a".into())]);
        assert_eq!(short.len(), 1);
    }
}
