//! The dialog's state machine: what the session knows, and what each input
//! and each reply does to it, with no socket.
//!
//! [`Dialog`] owns the phase (commands, message text, text dropped behind a
//! refused `DATA`, closed), the greeting and capabilities, the transaction,
//! the AUTH exchange (a `334` makes the next line a secret only inside one),
//! `--quit-after` stages, LMTP recipients and the exit-code accounting. The
//! I/O shell ([`super::Session`]) asks it before sending ([`Dialog::gate`]),
//! tells it what went out ([`Dialog::sent`]) and what came back
//! ([`Dialog::reply`]), and does what the answer says ([`After`]): run a TLS
//! handshake, or look whether the server closed. Everything here is tested
//! table-driven without a network.

use super::expect::Expectation;
use super::input::LineRole;
use super::{Event, EventSink, Phase, Stage};
use crate::exit::Exit;
use crate::proto::codes::ReplyCode;
use crate::proto::command::{Command, Verb};
use crate::proto::data::ContentEncoder;
use crate::proto::ehlo::Capabilities;
use crate::proto::reply::Reply;
use crate::text::escape_str;

/// One reply's share of the outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Judged {
    exit: Exit,
    /// Whether an `:expect` judged it (then it counts by the expectation).
    expected: bool,
    /// Why it counts as it does, when that is not success.
    why: String,
}

/// An exit code with the step that decided it: of two outcomes the worse
/// wins, and of two as bad the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) exit: Exit,
    /// The step that decided a code other than 0, and why.
    pub(crate) why: Option<String>,
}

impl Outcome {
    fn worst(self, exit: Exit, why: impl FnOnce() -> String) -> Outcome {
        if exit > self.exit {
            Outcome {
                exit,
                why: Some(why()),
            }
        } else {
            self
        }
    }
}

/// What the I/O shell must do after a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    /// Nothing more.
    Nothing,
    /// `220` to STARTTLS: the TLS handshake, now.
    Handshake,
    /// `221` or `421`: the server is about to close; look whether it did.
    PollClose,
}

/// Whether a command may go out now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Send it.
    Send,
    /// `--quit-after`: the chosen stage is done; QUIT instead.
    QuitInstead,
    /// The connection is closed.
    Closed,
}

/// What was sent last and is waiting for its reply.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct Pending {
    verb: Option<Verb>,
    /// The parsed command, when it parsed (for RCPT's address).
    command: Option<Command>,
    /// A SASL response (the line after a `334`).
    sasl: bool,
}

/// The session's knowledge of the dialog.
#[derive(Debug)]
pub(crate) struct Dialog {
    pub(crate) phase: Phase,
    pub(crate) greeted: bool,
    pub(crate) capabilities: Option<Capabilities>,
    pub(crate) in_transaction: bool,
    /// `Some` after a 235 to AUTH: the user, when known.
    pub(crate) authenticated: Option<Option<String>>,
    /// An AUTH exchange is running: AUTH or a SASL response was the last
    /// thing sent.
    in_auth: bool,
    /// The next line answers a `334` inside an AUTH exchange.
    pub(crate) secret_next: bool,
    /// Message text is encoded here (dot-stuffing, CRLF).
    encoder: ContentEncoder,
    /// Message lines dropped after a refused DATA.
    dropped: u64,
    pending: Pending,
    /// The last reply, for `:expect` and for expected closes.
    pub(crate) last_reply: Option<Reply>,
    /// The greeting.
    pub(crate) banner: Option<Reply>,
    /// Whether a 421 has been received (the server is going away).
    got_421: bool,
    /// The outcome of everything before the last group of replies.
    settled: Outcome,
    /// What the next reply answers, for the reason of an exit code.
    step: String,
    /// The last group's share of the outcome, one entry per reply: the last
    /// reply alone, or an LMTP message's reply for each recipient.
    last_group: Vec<Judged>,
    pub(crate) reply_count: u64,
    quit_after: Option<Stage>,
    /// The stage of the last command sent.
    stage: Option<Stage>,
    lmtp: bool,
    /// Recipients accepted in the current transaction, in order.
    recipients: Vec<String>,
    /// LMTP: the last message's reply for each recipient.
    pub(crate) per_recipient: Vec<(String, Reply)>,
    /// The server said goodbye to our QUIT (221).
    pub(crate) quit_acknowledged: bool,
    /// We sent QUIT: the end of the dialog is ours, not the server's.
    pub(crate) quit_sent: bool,
}

impl Dialog {
    /// A dialog before the banner.
    pub(crate) fn new(quit_after: Option<Stage>, lmtp: bool) -> Self {
        Dialog {
            phase: Phase::Command,
            greeted: false,
            capabilities: None,
            in_transaction: false,
            authenticated: None,
            in_auth: false,
            secret_next: false,
            encoder: ContentEncoder::for_data(),
            dropped: 0,
            pending: Pending::default(),
            last_reply: None,
            banner: None,
            got_421: false,
            settled: Outcome {
                exit: Exit::Success,
                why: None,
            },
            step: "the banner".into(),
            last_group: Vec::new(),
            reply_count: 0,
            quit_after,
            stage: None,
            lmtp,
            recipients: Vec::new(),
            per_recipient: Vec::new(),
            quit_acknowledged: false,
            quit_sent: false,
        }
    }

    /// Message lines sent so far in this message.
    pub(crate) fn message_lines(&self) -> u64 {
        if self.phase == Phase::Data {
            self.encoder.lines()
        } else {
            0
        }
    }

    /// What a line of input is now. `queued` says it was already waiting
    /// when the last reply came (piped input, a paste): only such lines
    /// behind a refused DATA are taken for message text and dropped; a
    /// line typed after the refusal was typed knowing it.
    pub(crate) fn role(&self, queued: bool) -> LineRole {
        match self.phase {
            Phase::Closed => LineRole::Closed,
            Phase::Data if self.encoder.lines() == 0 => LineRole::TextStart,
            Phase::Data => LineRole::Text,
            Phase::DroppingText if queued && self.dropped == 0 => LineRole::DroppedStart,
            Phase::DroppingText if queued => LineRole::Dropped,
            Phase::DroppingText | Phase::Command if self.secret_next => LineRole::SaslResponse,
            Phase::DroppingText | Phase::Command => LineRole::Command,
        }
    }

    /// A queued line behind a refused DATA: counted, not sent; a lone `.`
    /// ends the dropping.
    pub(crate) fn drop_line(&mut self, line: &[u8], sink: &mut dyn EventSink) {
        if line == b"." {
            self.finish_dropping(sink);
        } else {
            self.dropped += 1;
        }
    }

    /// Back to commands after a refused DATA, saying how many message lines
    /// were dropped.
    pub(crate) fn finish_dropping(&mut self, sink: &mut dyn EventSink) {
        if self.phase == Phase::DroppingText {
            self.phase = Phase::Command;
        }
        let n = std::mem::take(&mut self.dropped);
        if n > 0 {
            sink.event(Event::Warning(format!(
                "DATA was refused: {n} message line{} dropped, not sent",
                plural(n)
            )));
        }
    }

    /// The wire bytes of one line of message text: dot-stuffed, and ended
    /// with CRLF after whatever the line held (a CR before the line's end
    /// is data, as it is for `:data`).
    pub(crate) fn text_line(&mut self, line: &[u8]) -> Vec<u8> {
        let mut wire = Vec::with_capacity(line.len() + 3);
        self.encoder.encode(line, &mut wire);
        self.encoder.encode(b"\r\n", &mut wire);
        wire
    }

    /// A piece of a long line of message text: dot-stuffed, and, when it
    /// ends the line, ended with CRLF after whatever the line held.
    pub(crate) fn text_piece(&mut self, piece: &[u8], end: bool) -> Vec<u8> {
        let mut wire = Vec::with_capacity(piece.len() + 3);
        self.encoder.encode(piece, &mut wire);
        if end {
            self.encoder.encode(b"\r\n", &mut wire);
        }
        wire
    }

    /// The final `.` of a message: its wire bytes. The dialog is back to
    /// commands and the transaction is over; the recipients are returned
    /// for LMTP's per-recipient replies.
    pub(crate) fn end_message(&mut self) -> (Vec<u8>, Vec<String>) {
        let mut wire = Vec::new();
        self.encoder.finish(&mut wire);
        self.message_sent();
        (wire, std::mem::take(&mut self.recipients))
    }

    /// A whole message went out (streamed by a helper).
    pub(crate) fn message_sent(&mut self) {
        self.step = "the message".into();
        self.phase = Phase::Command;
        self.in_transaction = false;
        self.per_recipient.clear();
    }

    /// The recipients accepted so far (for a streamed message's LMTP
    /// replies).
    pub(crate) fn take_recipients(&mut self) -> Vec<String> {
        std::mem::take(&mut self.recipients)
    }

    /// Whether LMTP replies per recipient are due after a message.
    pub(crate) fn is_lmtp(&self) -> bool {
        self.lmtp
    }

    /// Whether a command of `verb` may go out now. With `--quit-after`,
    /// once a command of the chosen stage was sent, any command of another
    /// stage ends the session instead. A SASL response belongs to AUTH.
    pub(crate) fn gate(&mut self, verb: Option<Verb>, sasl: bool) -> Gate {
        if self.phase == Phase::Closed {
            return Gate::Closed;
        }
        if sasl {
            return Gate::Send;
        }
        let (Some(limit), Some(stage)) = (self.quit_after, verb.and_then(Stage::of)) else {
            return Gate::Send;
        };
        if stage > limit || (self.stage == Some(limit) && stage != limit) {
            return Gate::QuitInstead;
        }
        self.stage = Some(stage);
        Gate::Send
    }

    /// `--quit-after data`: the message's final reply ends the session.
    pub(crate) fn quits_after_message(&self) -> bool {
        self.quit_after == Some(Stage::Data)
    }

    /// A command (or SASL response) went out; its reply is awaited.
    pub(crate) fn sent(&mut self, verb: Option<Verb>, command: Option<Command>, sasl: bool) {
        if self.phase == Phase::DroppingText {
            // A line typed (not queued) after a refused DATA is a command.
            self.phase = Phase::Command;
        }
        self.in_auth = sasl || verb == Some(Verb::Auth);
        self.quit_sent |= verb == Some(Verb::Quit);
        self.secret_next = false;
        self.step = describe_step(verb, command.as_ref(), sasl);
        self.pending = Pending {
            verb,
            command,
            sasl,
        };
    }

    /// A reply to what was sent: accounted, and its protocol consequences
    /// applied. Returns what the I/O shell must do next.
    pub(crate) fn reply(&mut self, reply: &Reply, sink: &mut dyn EventSink) -> After {
        self.account(reply, sink);
        let pending = std::mem::take(&mut self.pending);
        let code = reply.code().map(ReplyCode::value).unwrap_or(0);
        let positive = (200..400).contains(&code);
        let mut after = After::Nothing;
        match (pending.verb, code) {
            (_, 334) if self.in_auth => self.secret_next = true,
            (_, 334) => sink.event(Event::Warning(
                "a 334 outside an AUTH exchange: the next line is not treated as a SASL response"
                    .into(),
            )),
            // A 235 may answer the AUTH line or the last SASL response.
            (_, 235) if self.in_auth => self.authenticated = Some(None),
            (Some(Verb::Data), 354) => {
                self.phase = Phase::Data;
                self.encoder = ContentEncoder::for_data();
            }
            (Some(Verb::Data), _) => self.phase = Phase::DroppingText,
            // XCLIENT's 220 is a new session: greet again.
            (Some(Verb::XClient), 220) => {
                self.greeted = false;
                self.capabilities = None;
                self.in_transaction = false;
                self.authenticated = None;
                self.recipients.clear();
            }
            (Some(Verb::Ehlo | Verb::Lhlo), 250) => {
                self.greeted = true;
                self.capabilities = Some(Capabilities::from_lines(reply.line_texts()));
            }
            (Some(Verb::Helo), 250) => {
                self.greeted = true;
                self.capabilities = None;
            }
            (Some(Verb::Mail), _) if positive => {
                self.in_transaction = true;
                self.recipients.clear();
            }
            (Some(Verb::Rcpt), _) if reply.is_positive_completion() => {
                // Remembered for LMTP, whose message gets a reply per
                // recipient.
                if let Some(Command::Rcpt { forward_path, .. }) = pending.command {
                    self.recipients.push(forward_path);
                }
            }
            (Some(Verb::Rset), 250) => {
                self.in_transaction = false;
                self.recipients.clear();
            }
            (Some(Verb::StartTls), 220) => after = After::Handshake,
            (Some(Verb::Quit), 221) => {
                self.quit_acknowledged = true;
                after = After::PollClose;
            }
            _ => {}
        }
        if code == 421 {
            // RFC 5321 §3.8: the server closes after a 421.
            after = After::PollClose;
        }
        if code != 334 {
            self.in_auth = false;
        }
        after
    }

    /// A reply nobody asked for (an idle 421, or one that arrived before
    /// the command it would otherwise be taken for).
    pub(crate) fn unsolicited(&mut self, reply: &Reply, sink: &mut dyn EventSink) {
        self.step = "nothing (the server spoke unasked)".into();
        self.account(reply, sink);
    }

    /// The TLS handshake finished: what the server said before it is
    /// forgotten (RFC 3207 §4.2).
    pub(crate) fn tls_started(&mut self) {
        self.capabilities = None;
        self.greeted = false;
        self.in_transaction = false;
        self.recipients.clear();
    }

    /// The connection is gone.
    pub(crate) fn closed(&mut self) {
        self.phase = Phase::Closed;
        self.secret_next = false;
        self.in_auth = false;
    }

    /// Whether a close now is what the last reply announced (`221`, `421`).
    pub(crate) fn close_was_announced(&self) -> bool {
        let code = self.last_reply.as_ref().and_then(Reply::code);
        matches!(code.map(ReplyCode::value), Some(221 | 421))
    }

    /// Counts a reply into the outcome as a group of its own.
    pub(crate) fn account(&mut self, reply: &Reply, sink: &mut dyn EventSink) {
        self.settle_last_group();
        self.account_more(reply, sink);
    }

    /// Counts a reply into the outcome as part of the current group (an
    /// LMTP message's reply for one more recipient). A code outside the
    /// classes 2 to 5 is not SMTP: an anomaly, and a local failure.
    pub(crate) fn account_more(&mut self, reply: &Reply, sink: &mut dyn EventSink) {
        let exit = match reply.class_digit() {
            Some(2 | 3) => Exit::Success,
            Some(4) => Exit::Temporary,
            Some(5) => Exit::Permanent,
            Some(class) => {
                sink.event(Event::Warning(format!(
                    "reply code {} is outside the classes 2 to 5 that SMTP defines: not a valid reply",
                    reply.code().map(ReplyCode::value).unwrap_or(u16::from(class) * 100)
                )));
                Exit::Local
            }
            // Not SMTP at all.
            None => Exit::Local,
        };
        if reply.code().map(ReplyCode::value) == Some(421) {
            self.got_421 = true;
        }
        let why = match exit {
            Exit::Success => String::new(),
            Exit::Local => format!("{}: not an SMTP reply", self.step),
            _ => format!("{}: {}", self.step, reply_summary(reply)),
        };
        self.last_group.push(Judged {
            exit,
            expected: false,
            why,
        });
        self.last_reply = Some(reply.clone());
        self.reply_count += 1;
    }

    /// LMTP: the message's reply for one recipient.
    pub(crate) fn per_recipient_reply(&mut self, rcpt: String, reply: Reply) {
        self.per_recipient.push((rcpt, reply));
    }

    /// How the session would end now, by the exit-code table, and why.
    pub(crate) fn outcome(&self) -> Outcome {
        self.last_group
            .iter()
            .fold(self.settled.clone(), |worst, j| {
                worst.worst(j.exit, || j.why.clone())
            })
    }

    /// Counts a local failure into the outcome; `why` is what went wrong.
    pub(crate) fn fail_locally(&mut self, why: &str) {
        self.settle_last_group();
        self.settled = self.settled.clone().worst(Exit::Local, || why.to_string());
    }

    /// The last group's judgement becomes final (the run is ending): what
    /// comes after it counts after it, so a reply keeps its place as the
    /// first cause.
    fn settle_last_group(&mut self) {
        let group = std::mem::take(&mut self.last_group);
        self.settled = group.into_iter().fold(self.settled.clone(), |w, j| {
            let why = j.why;
            w.worst(j.exit, || why)
        });
    }

    /// Input that could not be sent because the server closed the
    /// connection (`lines` of it, and `more` when the input had not even
    /// ended): said once, and the run fails by what the server said last:
    /// 75 after a 421 (it is going away for now), 1 after a 5xx (a 554
    /// banner), otherwise 2, a dialog cut short. After our own QUIT nothing
    /// is owed.
    pub(crate) fn not_sent(&mut self, lines: u64, more: bool, sink: &mut dyn EventSink) {
        if (lines == 0 && !more) || self.quit_sent {
            return;
        }
        let rest = if more {
            ", and the input had not ended"
        } else {
            ""
        };
        sink.event(Event::Warning(format!(
            "the server closed the connection; {lines} line{} not sent{rest}",
            plural(lines)
        )));
        let exit = match self.last_reply.as_ref().and_then(Reply::class_digit) {
            _ if self.got_421 => Exit::Temporary,
            Some(5) => Exit::Permanent,
            _ => Exit::Local,
        };
        self.settle_last_group();
        self.settled = self.settled.clone().worst(exit, || {
            format!(
                "the server closed the connection with {lines} line{} not sent",
                plural(lines)
            )
        });
    }

    /// Checks the last reply against an `:expect`. Once checked, the reply
    /// counts by its expectations rather than by its class: an expected
    /// `550` is success, an unexpected `250` a failure.
    pub(crate) fn expect(&mut self, expected: Expectation, sink: &mut dyn EventSink) -> bool {
        // Which reply of the last group: the recipient's, or the last one.
        let index = match &expected.recipient {
            Some(rcpt) => self
                .per_recipient
                .iter()
                .position(|(r, _)| r.eq_ignore_ascii_case(rcpt))
                .filter(|_| self.last_group.len() == self.per_recipient.len()),
            None => self.last_group.len().checked_sub(1),
        };
        let got = match (&expected.recipient, index) {
            (Some(_), Some(i)) => self.per_recipient.get(i).map(|(_, r)| r),
            (Some(_), None) => None,
            (None, _) => self.last_reply.as_ref(),
        };
        let met = got.is_some_and(|r| expected.is_met_by(r));
        let class = got.and_then(Reply::class_digit);
        let why = match got {
            Some(reply) => format!(
                ":expect {expected} failed at {}: {}",
                self.step,
                reply_summary(reply)
            ),
            None => format!(":expect {expected} failed: no such reply"),
        };
        let got = got.map(|r| (r.code(), r.enhanced_code()));
        self.judge(index, class, met, why);
        sink.event(Event::Expect { expected, got, met });
        met
    }

    /// Judges the last reply as expected (`ok`) or not, silently: the
    /// caller reports. A failure is temporary when the reply was a 4xx.
    /// `why` says what was wrong with it.
    pub(crate) fn judge_last(&mut self, ok: bool, why: &str) {
        let class = self.last_reply.as_ref().and_then(Reply::class_digit);
        let why = format!("{}: {why}", self.step);
        self.judge(self.last_group.len().checked_sub(1), class, ok, why);
    }

    /// An earlier reply (not the last) did not match what was expected:
    /// a failure by its class, on top of how it already counted.
    pub(crate) fn disagree(&mut self, reply: &Reply, why: &str) {
        let why = format!("{why}: {}", reply_summary(reply));
        self.judge(None, reply.class_digit(), false, why);
    }

    fn judge(&mut self, index: Option<usize>, class: Option<u8>, ok: bool, why: String) {
        let exit = match (ok, class) {
            (true, _) => Exit::Success,
            (false, Some(4)) => Exit::Temporary,
            (false, _) => Exit::Permanent,
        };
        match index.and_then(|i| self.last_group.get_mut(i)) {
            Some(judged) => {
                let before = if judged.expected {
                    judged.exit
                } else {
                    Exit::Success
                };
                if exit > before {
                    judged.why = why;
                }
                judged.exit = before.worst(exit);
                judged.expected = true;
            }
            // Nothing to judge (no reply yet, an unknown recipient): a
            // failed expectation still counts.
            None => self.settled = self.settled.clone().worst(exit, || why),
        }
    }
}

/// A reply as a reason names it: its code, enhanced code and the start of
/// its text, escaped.
fn reply_summary(reply: &Reply) -> String {
    const MAX: usize = 100;
    let text = reply
        .lines
        .last()
        .map(|l| l.text().escaped().to_string())
        .unwrap_or_default();
    let text = match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    };
    match reply.code() {
        Some(code) if text.is_empty() => code.to_string(),
        Some(code) => format!("{code} {text}"),
        None => format!("\"{text}\""),
    }
}

/// What a command's reply answers, for reasons: MAIL and RCPT with their
/// address, anything else by its verb (an AUTH line never with its
/// initial response).
fn describe_step(verb: Option<Verb>, command: Option<&Command>, sasl: bool) -> String {
    match (command, verb) {
        _ if sasl => "the SASL response".into(),
        (Some(Command::Mail { reverse_path, .. }), _) => {
            format!("MAIL FROM:<{}>", escape_str(reverse_path))
        }
        (Some(Command::Rcpt { forward_path, .. }), _) => {
            format!("RCPT TO:<{}>", escape_str(forward_path))
        }
        (_, Some(verb)) => verb.name().to_string(),
        (_, None) => "a command smtpcli does not know".into(),
    }
}

pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
