//! One SMTP session of the demo server, without a socket: the state of the
//! dialog (greeting, TLS, AUTH, the transaction) and the reply to each
//! input, with what the I/O shell must read next.
//!
//! The shell (`server.rs`) reads a command line and hands it to
//! [`Session::command`]; the [`Step`] it gets back holds the reply to send
//! and the [`Next`] thing to read: another command, message text after
//! `354`, a BDAT chunk of an exact size, an AUTH response, or a TLS
//! handshake. Every rule of the dialog lives here, so the tests drive it
//! with lines and see replies, no network involved.

use std::net::IpAddr;
use std::sync::Arc;

use super::command::{self, Refusal};
use super::reply::Reply;
use super::{HOST, Inbox, MESSAGE_LIMIT};
use crate::proto::command::{Command, Param};

mod auth;
mod received;

use auth::AuthStep;

/// Recipients of one transaction at most.
const RECIPIENT_LIMIT: usize = 100;
/// Refused commands before the server hangs up (Postfix's
/// `smtpd_hard_error_limit`).
const ERROR_LIMIT: u32 = 20;

/// What the I/O shell does once the step's reply is queued.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Read the next command.
    Command,
    /// Read message text up to CRLF `.` CRLF, dot-unstuffed, keeping at
    /// most `room` bytes; then [`Session::message`].
    Message { room: usize },
    /// Read exactly `size` bytes, keeping at most `room`; then
    /// [`Session::chunk`] with `last`.
    Chunk { size: u64, last: bool, room: usize },
    /// Read and drop `size` bytes (the chunk of a refused BDAT, which RFC
    /// 3030 still makes the client send), then send `reply`.
    Discard { size: u64, reply: Reply },
    /// Read one line of the AUTH exchange; then [`Session::auth_response`].
    AuthResponse,
    /// Send the reply, drop whatever input is already buffered (a command
    /// pipelined after STARTTLS must not run under TLS), shake hands; then
    /// [`Session::tls_started`].
    StartTls,
    /// Send the reply and close the connection.
    Close,
}

/// A reply to send (if any) and what to read next.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Step {
    pub(super) reply: Option<Reply>,
    pub(super) next: Next,
}

impl Step {
    pub(super) fn reply(reply: Reply) -> Step {
        Step {
            reply: Some(reply),
            next: Next::Command,
        }
    }

    fn then(reply: Reply, next: Next) -> Step {
        Step {
            reply: Some(reply),
            next,
        }
    }

    fn is_refusal(&self) -> bool {
        match (&self.reply, &self.next) {
            (Some(reply), _) | (None, Next::Discard { reply, .. }) => reply.is_negative(),
            _ => false,
        }
    }
}

/// Message text as read: what fitted in the room it had, and how much came.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Incoming {
    data: Vec<u8>,
    room: usize,
    len: u64,
    overflowed: bool,
}

impl Incoming {
    pub(super) fn new(room: usize) -> Self {
        Incoming {
            room,
            ..Incoming::default()
        }
    }

    /// Keeps `bytes` while they fit; past the room, only counts them.
    pub(super) fn push(&mut self, bytes: &[u8]) {
        self.len = self.len.saturating_add(bytes.len() as u64);
        if self.overflowed {
            return;
        }
        if self.data.len() + bytes.len() > self.room {
            self.overflowed = true;
            self.data = Vec::new();
        } else {
            self.data.extend_from_slice(bytes);
        }
    }
}

#[derive(Debug)]
struct Greeting {
    name: String,
    extended: bool,
}

#[derive(Debug, Default)]
struct Transaction {
    from: String,
    smtputf8: bool,
    binary: bool,
    to: Vec<String>,
    /// The chunks so far, once a BDAT came.
    chunks: Option<Vec<u8>>,
}

/// One connection's dialog. (No `Debug`: it holds the password.)
pub(super) struct Session {
    peer: IpAddr,
    password: Arc<str>,
    inbox: Arc<Inbox>,
    tls: bool,
    greeting: Option<Greeting>,
    authenticated: bool,
    transaction: Option<Transaction>,
    auth: Option<AuthStep>,
    errors: u32,
}

impl Session {
    pub(super) fn new(peer: IpAddr, password: Arc<str>, inbox: Arc<Inbox>) -> Self {
        Session {
            peer,
            password,
            inbox,
            tls: false,
            greeting: None,
            authenticated: false,
            transaction: None,
            auth: None,
            errors: 0,
        }
    }

    /// The banner: the host name first, as MTAs write it.
    pub(super) fn banner(&self) -> Reply {
        Reply::bare(220, vec![format!("{HOST} ESMTP smtpcli demo")])
    }

    /// The `421` when the client has been silent too long.
    pub(super) fn timeout(&self) -> Reply {
        Reply::new(421, (4, 4, 2), format!("{HOST} Error: timeout exceeded"))
    }

    /// The `421` for a connection over the server's limit.
    pub(super) fn busy() -> Reply {
        Reply::new(
            421,
            (4, 7, 0),
            format!("{HOST} Error: too many connections"),
        )
    }

    /// The reply to a command line (its line ending removed).
    pub(super) fn command(&mut self, line: &[u8]) -> Step {
        if self.errors >= ERROR_LIMIT {
            return Step::then(
                Reply::new(421, (4, 7, 0), format!("{HOST} Error: too many errors")),
                Next::Close,
            );
        }
        let step = match command::read(line) {
            Ok(command) => self.execute(command),
            Err(refusal) => Step::reply(refused(refusal)),
        };
        self.count(step)
    }

    /// The reply to a command line longer than the server reads.
    pub(super) fn line_too_long(&mut self) -> Step {
        self.count(Step::reply(Reply::new(500, (5, 5, 0), "Line too long")))
    }

    fn count(&mut self, step: Step) -> Step {
        if step.is_refusal() {
            self.errors += 1;
        }
        step
    }

    fn execute(&mut self, command: Command) -> Step {
        match command {
            Command::Ehlo(name) => {
                let reply = self.ehlo(&name);
                self.greet(name, true);
                Step::reply(reply)
            }
            Command::Helo(name) => {
                self.greet(name, false);
                Step::reply(Reply::bare(250, vec![HOST.to_string()]))
            }
            Command::Mail {
                reverse_path,
                params,
            } => Step::reply(self.mail(reverse_path, &params)),
            Command::Rcpt { forward_path, .. } => Step::reply(self.rcpt(forward_path)),
            Command::Data => self.data(),
            Command::Bdat { size, last } => self.bdat(size, last),
            Command::Rset => {
                self.transaction = None;
                Step::reply(ok())
            }
            Command::Noop(_) => Step::reply(ok()),
            Command::Vrfy(_) => Step::reply(Reply::new(
                252,
                (2, 0, 0),
                "Cannot VRFY user, but will accept message and attempt delivery",
            )),
            Command::Expn(_) | Command::Help(_) | Command::Etrn(_) => {
                Step::reply(Reply::new(502, (5, 5, 1), "Error: command not implemented"))
            }
            Command::Lhlo(_) | Command::XClient(_) | Command::XForward(_) => {
                Step::reply(refused(Refusal::Unrecognized))
            }
            Command::Quit => Step::then(Reply::new(221, (2, 0, 0), "Bye"), Next::Close),
            Command::StartTls => self.starttls(),
            Command::Auth {
                mechanism,
                initial_response,
            } => self.auth(&mechanism, initial_response.as_deref()),
        }
    }

    /// HELO and EHLO start over: no transaction (RFC 5321 §4.1.4).
    fn greet(&mut self, name: String, extended: bool) {
        self.transaction = None;
        self.greeting = Some(Greeting { name, extended });
    }

    fn ehlo(&self, name: &str) -> Reply {
        // As a submission server does: credentials only over TLS.
        let tls_or_auth = if self.tls {
            "AUTH PLAIN LOGIN"
        } else {
            "STARTTLS"
        };
        let mut lines = vec![
            format!("{HOST} Hello {name} [{}]", self.peer),
            "PIPELINING".into(),
            format!("SIZE {MESSAGE_LIMIT}"),
            "ENHANCEDSTATUSCODES".into(),
            "8BITMIME".into(),
            "DSN".into(),
            "CHUNKING".into(),
            "BINARYMIME".into(),
        ];
        // RFC 8689 §4.1: offered only over TLS.
        if self.tls {
            lines.push("REQUIRETLS".into());
        }
        lines.extend(["SMTPUTF8".into(), tls_or_auth.into()]);
        Reply::bare(250, lines)
    }

    fn mail(&mut self, from: String, params: &[Param]) -> Reply {
        if self.greeting.is_none() {
            return Reply::new(503, (5, 5, 1), "Error: send HELO/EHLO first");
        }
        if self.transaction.is_some() {
            return Reply::new(503, (5, 5, 1), "Error: nested MAIL command");
        }
        let mut transaction = Transaction {
            from,
            ..Transaction::default()
        };
        for param in params {
            match param {
                Param::Size(size) if *size > MESSAGE_LIMIT as u64 => {
                    return too_big();
                }
                Param::SmtpUtf8 => transaction.smtputf8 = true,
                Param::Body(body) => transaction.binary = body == "BINARYMIME",
                Param::RequireTls if !self.tls => {
                    return Reply::new(
                        530,
                        (5, 7, 10),
                        "Error: REQUIRETLS needs a TLS connection (STARTTLS first)",
                    );
                }
                _ => {}
            }
        }
        if !transaction.smtputf8 && !transaction.from.is_ascii() {
            return needs_smtputf8();
        }
        self.transaction = Some(transaction);
        Reply::new(250, (2, 1, 0), "Ok")
    }

    fn rcpt(&mut self, to: String) -> Reply {
        let Some(transaction) = self.transaction.as_mut() else {
            return need_mail();
        };
        if transaction.chunks.is_some() {
            return Reply::new(503, (5, 5, 1), "Error: RCPT after BDAT");
        }
        if to.is_empty() {
            return Reply::new(501, (5, 1, 3), "Bad recipient address syntax");
        }
        if !transaction.smtputf8 && !to.is_ascii() {
            return needs_smtputf8();
        }
        let local = to.rsplit_once('@').map_or(to.as_str(), |(local, _)| local);
        // One address that does not exist, to see a refusal explained.
        if local.eq_ignore_ascii_case("nosuchuser") {
            return Reply::new(
                550,
                (5, 1, 1),
                format!("<{to}>: Recipient address rejected: User unknown"),
            );
        }
        if transaction.to.len() >= RECIPIENT_LIMIT {
            return Reply::new(452, (4, 5, 3), "Error: too many recipients");
        }
        transaction.to.push(to);
        Reply::new(250, (2, 1, 5), "Ok")
    }

    fn data(&mut self) -> Step {
        let refusal = match &self.transaction {
            None => need_mail(),
            Some(t) if t.chunks.is_some() => {
                Reply::new(503, (5, 5, 1), "Error: DATA after BDAT in one transaction")
            }
            Some(t) if t.to.is_empty() => need_rcpt(),
            Some(t) if t.binary => {
                Reply::new(503, (5, 5, 1), "Error: BODY=BINARYMIME requires BDAT")
            }
            Some(_) => {
                return Step::then(
                    Reply::bare(354, vec!["End data with <CR><LF>.<CR><LF>".into()]),
                    Next::Message {
                        room: MESSAGE_LIMIT,
                    },
                );
            }
        };
        Step::reply(refusal)
    }

    /// The end of the message text after `354`.
    pub(super) fn message(&mut self, incoming: Incoming) -> Reply {
        let Some(transaction) = self.transaction.take() else {
            return need_mail();
        };
        if incoming.overflowed {
            return too_big();
        }
        self.queue(transaction, incoming.data)
    }

    fn bdat(&mut self, size: u64, last: bool) -> Step {
        let refusal = match &mut self.transaction {
            None => need_mail(),
            Some(t) if t.to.is_empty() => need_rcpt(),
            Some(t) => {
                let used = t.chunks.get_or_insert_with(Vec::new).len();
                return Step {
                    reply: None,
                    next: Next::Chunk {
                        size,
                        last,
                        room: MESSAGE_LIMIT.saturating_sub(used),
                    },
                };
            }
        };
        Step {
            reply: None,
            next: Next::Discard {
                size,
                reply: refusal,
            },
        }
    }

    /// A BDAT chunk as read.
    pub(super) fn chunk(&mut self, incoming: Incoming, last: bool) -> Reply {
        let Some(transaction) = self.transaction.as_mut() else {
            return need_mail();
        };
        if incoming.overflowed {
            // The transaction is over (RFC 3030 §2); chunks the client
            // pipelined after this one find no MAIL.
            self.transaction = None;
            return too_big();
        }
        transaction
            .chunks
            .get_or_insert_with(Vec::new)
            .extend_from_slice(&incoming.data);
        if !last {
            return Reply::new(250, (2, 0, 0), format!("{} bytes received", incoming.len));
        }
        match self.transaction.take() {
            Some(mut transaction) => {
                let data = transaction.chunks.take().unwrap_or_default();
                self.queue(transaction, data)
            }
            None => need_mail(),
        }
    }

    fn starttls(&mut self) -> Step {
        if self.tls {
            return Step::reply(Reply::new(554, (5, 5, 1), "Error: TLS already active"));
        }
        if self.transaction.is_some() {
            return Step::reply(in_transaction());
        }
        Step::then(
            Reply::new(220, (2, 0, 0), "Ready to start TLS"),
            Next::StartTls,
        )
    }

    /// After the handshake the dialog starts over (RFC 3207 §4.2): the
    /// client must send EHLO again.
    pub(super) fn tls_started(&mut self) {
        self.tls = true;
        self.greeting = None;
        self.transaction = None;
        self.auth = None;
    }
}

fn refused(refusal: Refusal) -> Reply {
    match refusal {
        Refusal::Unrecognized => Reply::new(500, (5, 5, 2), "Error: command not recognized"),
        Refusal::Empty | Refusal::Control => Reply::new(500, (5, 5, 2), "Error: bad syntax"),
        Refusal::BadUtf8 => Reply::new(500, (5, 5, 2), "Error: bad UTF-8 syntax"),
        Refusal::Syntax(usage) => Reply::new(501, (5, 5, 4), format!("Syntax: {usage}")),
        Refusal::Unsupported(param) => {
            Reply::new(555, (5, 5, 4), format!("Unsupported option: {param}"))
        }
    }
}

fn ok() -> Reply {
    Reply::new(250, (2, 0, 0), "Ok")
}

fn too_big() -> Reply {
    Reply::new(552, (5, 3, 4), "Message size exceeds fixed limit")
}

fn need_mail() -> Reply {
    Reply::new(503, (5, 5, 1), "Error: need MAIL command")
}

fn need_rcpt() -> Reply {
    Reply::new(503, (5, 5, 1), "Error: need RCPT command")
}

fn in_transaction() -> Reply {
    Reply::new(503, (5, 5, 1), "Error: MAIL transaction in progress")
}

fn needs_smtputf8() -> Reply {
    Reply::new(
        553,
        (5, 6, 7),
        "Must declare SMTPUTF8 to send unicode address",
    )
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
