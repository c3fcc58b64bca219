//! One classifier for every line of input, and what goes out on the wire.
//!
//! Each line a person types, a script holds, a pipe carries or a replay
//! sends is classified here, once, by the dialog's state: blank, comment,
//! meta-command, command, SASL response, message text, or text to drop
//! behind a refused `DATA`. A command line is parsed once, and the parsed
//! [`TypedLine`] travels to the engine; it knows whether it is secret
//! ([`Input::is_secret`]), so the screen, the log, JSON, history and
//! `:save` ask it rather than sniffing for `AUTH` themselves.
//!
//! [`Outgoing`] is what the engine sends: wire bytes from a
//! [`Command`] value (its `Display` is the wire text), a typed line as typed,
//! or a SASL response, with what the transcript shows for it.

use super::Sent;
use crate::proto::command::{self, Command, LintContext, Typed, Verb};

/// Whether `:` and `#` lines mean something (typed and scripted input) or
/// every line is for the server (a replayed recording).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// `:` starts a meta-command, `#` a comment, between commands.
    Interactive,
    /// Every line goes to the server.
    Wire,
}

/// What a line of input is, in the dialog's current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineRole {
    /// A command line.
    Command,
    /// The answer to a `334` inside an AUTH exchange: a secret.
    SaslResponse,
    /// Message text after `354` (a lone `.` ends the message).
    Text,
    /// The first line after `354`, before any text: message text, but an
    /// `:expect` here (in scripts and at the prompt) checks the `354`.
    TextStart,
    /// Text queued behind a refused DATA: dropped, never sent as commands.
    Dropped,
    /// The first line queued behind a refused DATA: dropped, but an
    /// `:expect` here checks the reply to DATA, as it would a `354`.
    DroppedStart,
    /// Nothing can be sent: the connection is closed.
    Closed,
}

/// A classified line of input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// Nothing but white space, between commands.
    Blank,
    /// A `#` comment, between commands.
    Comment,
    /// A meta-command: the text after the `:`.
    Meta(&'a str),
    /// A command line, parsed.
    Command(TypedLine),
    /// The answer to a `334` inside an AUTH exchange.
    SaslResponse(&'a [u8]),
    /// A line of message text (a lone `.` ends the message).
    Text(&'a [u8]),
    /// Message text queued behind a refused DATA: never sent.
    Dropped(&'a [u8]),
    /// The connection is closed: nothing can be sent.
    NotSendable(&'a [u8]),
}

impl Input<'_> {
    /// Whether the line carries a credential: a SASL response, or an AUTH
    /// line with an initial response. Such a line is never kept in history
    /// or in `:save`, and is shown redacted.
    pub fn is_secret(&self) -> bool {
        match self {
            Input::SaslResponse(_) => true,
            Input::Command(typed) => typed.is_secret(),
            _ => false,
        }
    }

    /// Whether the line is meant for the server (as opposed to a blank
    /// line, a comment or a meta-command).
    pub fn is_for_server(&self) -> bool {
        !matches!(self, Input::Blank | Input::Comment | Input::Meta(_))
    }
}

/// A command line as typed, parsed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedLine {
    /// The line without its line ending, as it goes out (a leading `::`
    /// already reduced to `:`).
    bytes: Vec<u8>,
    typed: Typed,
}

impl TypedLine {
    /// Parses a line (without its line ending) with lints for `context`.
    pub fn new(bytes: &[u8], context: &LintContext<'_>) -> Self {
        let text = String::from_utf8_lossy(bytes);
        TypedLine {
            bytes: bytes.to_vec(),
            typed: command::read_typed(&text, context),
        }
    }

    /// The command word, when smtpcli knows it.
    pub fn verb(&self) -> Option<Verb> {
        self.typed.verb
    }

    /// The parsed command, when its arguments parsed.
    pub fn command(&self) -> Option<&Command> {
        self.typed.command.as_ref()
    }

    /// The line as typed (lossy UTF-8), for `:save` and history.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// `AUTH MECHANISM INITIAL-RESPONSE`: the third word is a credential.
    pub fn is_secret(&self) -> bool {
        self.verb() == Some(Verb::Auth) && self.text().split_whitespace().nth(2).is_some()
    }

    /// What the transcript shows: the line, with an AUTH initial response
    /// redacted.
    pub fn shown(&self) -> String {
        let text = self.text();
        if !self.is_secret() {
            return text;
        }
        let mut words = text.split_whitespace();
        match (words.next(), words.next()) {
            (Some(auth), Some(mechanism)) => {
                format!("{auth} {mechanism} [initial response redacted]")
            }
            _ => "[redacted]".to_string(),
        }
    }

    /// The lints on the line, as notes.
    pub fn notes(&self) -> Vec<String> {
        self.typed.lints.iter().map(|l| l.message()).collect()
    }
}

/// Classifies one line (its line ending already removed) in the role the
/// dialog gives it now.
pub fn classify<'a>(
    line: &'a [u8],
    role: LineRole,
    syntax: Syntax,
    context: &LintContext<'_>,
) -> Input<'a> {
    match role {
        LineRole::TextStart if syntax == Syntax::Interactive && is_expect(line) => {
            return Input::Meta(std::str::from_utf8(&line[1..]).unwrap_or(""));
        }
        LineRole::DroppedStart if syntax == Syntax::Interactive && is_expect(line) => {
            return Input::Meta(std::str::from_utf8(&line[1..]).unwrap_or(""));
        }
        LineRole::Text | LineRole::TextStart => return Input::Text(line),
        LineRole::Dropped | LineRole::DroppedStart => return Input::Dropped(line),
        LineRole::Closed | LineRole::Command | LineRole::SaslResponse => {}
    }
    let mut line = line;
    if syntax == Syntax::Interactive {
        if line.trim_ascii().is_empty() {
            return Input::Blank;
        }
        if line.trim_ascii_start().starts_with(b"#") {
            return Input::Comment;
        }
        if line.starts_with(b"::") {
            line = &line[1..];
        } else if let Some(rest) = line.strip_prefix(b":") {
            return Input::Meta(std::str::from_utf8(rest).unwrap_or(""));
        }
    }
    match role {
        LineRole::Closed => Input::NotSendable(line),
        LineRole::SaslResponse => Input::SaslResponse(line),
        _ => Input::Command(TypedLine::new(line, context)),
    }
}

/// Whether a line is an `:expect` meta-command.
fn is_expect(line: &[u8]) -> bool {
    line.strip_prefix(b":expect")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(b" ") || rest.starts_with(b"\t"))
}

/// Removes one line ending (LF, or CRLF); a CR before it stays.
pub fn strip_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// What the engine sends, and how the transcript shows it.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    pub(crate) wire: Vec<u8>,
    /// How much of `wire` is the command line (before its CRLF; a BDAT
    /// chunk follows it).
    pub(crate) line_len: usize,
    pub(crate) shown: Sent,
    pub(crate) verb: Option<Verb>,
    pub(crate) command: Option<Command>,
    /// A SASL response (the line after a `334`).
    pub(crate) sasl: bool,
    /// Notes shown after it (lints, the EHLO name in use).
    pub(crate) notes: Vec<String>,
}

impl Outgoing {
    /// A command smtpcli writes: its `Display` is the wire text.
    pub(crate) fn command(command: Command) -> Self {
        let wire = command.to_string();
        let shown = Sent::Command(wire.trim_end_matches("\r\n").to_string());
        Outgoing {
            line_len: wire.len().saturating_sub(2),
            wire: wire.into_bytes(),
            shown,
            verb: Some(command.verb()),
            command: Some(command),
            sasl: false,
            notes: Vec::new(),
        }
    }

    /// A typed line, sent exactly as typed plus CRLF.
    pub(crate) fn typed(line: TypedLine) -> Self {
        let mut wire = Vec::with_capacity(line.bytes.len() + 2);
        wire.extend_from_slice(&line.bytes);
        wire.extend_from_slice(b"\r\n");
        Outgoing {
            line_len: line.bytes.len(),
            shown: Sent::Command(line.shown()),
            notes: line.notes(),
            verb: line.verb(),
            command: line.typed.command,
            wire,
            sasl: false,
        }
    }

    /// A SASL response: shown as `shown` (its length, or a redacted form).
    pub(crate) fn sasl(response: &[u8], shown: Sent) -> Self {
        let mut wire = Vec::with_capacity(response.len() + 2);
        wire.extend_from_slice(response);
        wire.extend_from_slice(b"\r\n");
        Outgoing {
            line_len: response.len(),
            wire,
            shown,
            verb: None,
            command: None,
            sasl: true,
            notes: Vec::new(),
        }
    }

    /// Shown differently from its wire text (a redacted credential).
    pub(crate) fn shown_as(mut self, shown: String) -> Self {
        self.shown = Sent::Command(shown);
        self
    }

    /// What in the command line would smuggle another command, if
    /// anything: it is then not sent.
    pub(crate) fn refusal(&self) -> Option<String> {
        let line = self.wire.get(..self.line_len).unwrap_or(&self.wire);
        crate::proto::command::line_breaker(line).map(|what| {
            format!(
                "not sent: the line holds {what}, which would end it early and start another \
                 command; :raw sends such bytes on purpose"
            )
        })
    }

    /// With notes after it.
    pub(crate) fn with_notes(mut self, notes: Vec<String>) -> Self {
        self.notes = notes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(line: &str, role: LineRole, syntax: Syntax) -> Input<'_> {
        classify(line.as_bytes(), role, syntax, &LintContext::default())
    }

    fn command(line: &str) -> Input<'_> {
        class(line, LineRole::Command, Syntax::Interactive)
    }

    #[test]
    fn blank_lines_and_comments_between_commands() {
        assert_eq!(command("   "), Input::Blank);
        assert_eq!(command("# a note"), Input::Comment);
        assert_eq!(command("  # indented"), Input::Comment);
    }

    #[test]
    fn a_colon_starts_a_meta_command_and_two_send_one() {
        assert_eq!(command(":expect 250"), Input::Meta("expect 250"));
        let Input::Command(typed) = command("::literal") else {
            panic!("not a command");
        };
        assert_eq!(typed.text(), ":literal");
    }

    #[test]
    fn a_command_line_is_parsed_once() {
        let Input::Command(typed) = command("mail from:<a@example.org>") else {
            panic!("not a command");
        };
        assert_eq!(typed.verb(), Some(Verb::Mail));
        assert!(matches!(typed.command(), Some(Command::Mail { .. })));
        assert!(!typed.is_secret());
    }

    #[test]
    fn inside_a_message_every_line_is_text() {
        for line in ["# not a comment", ":expect 250", "", "."] {
            assert_eq!(
                class(line, LineRole::Text, Syntax::Interactive),
                Input::Text(line.as_bytes())
            );
        }
    }

    #[test]
    fn an_expect_before_any_message_text_checks_the_354() {
        let table = [
            (
                ":expect 354",
                LineRole::TextStart,
                Syntax::Interactive,
                true,
            ),
            (":expect", LineRole::TextStart, Syntax::Interactive, true),
            (":expect 354", LineRole::Text, Syntax::Interactive, false),
            (":expect 354", LineRole::TextStart, Syntax::Wire, false),
            (
                ":expected text",
                LineRole::TextStart,
                Syntax::Interactive,
                false,
            ),
            (":caps", LineRole::TextStart, Syntax::Interactive, false),
            (
                "Subject: x",
                LineRole::TextStart,
                Syntax::Interactive,
                false,
            ),
        ];
        for (line, role, syntax, meta) in table {
            let input = class(line, role, syntax);
            if meta {
                assert_eq!(input, Input::Meta(&line[1..]), "{line}");
            } else {
                assert_eq!(
                    input,
                    Input::Text(line.as_bytes()),
                    "{line} {role:?} {syntax:?}"
                );
            }
        }
    }

    #[test]
    fn queued_text_behind_a_refused_data_is_dropped() {
        assert_eq!(
            class(":expect 250", LineRole::Dropped, Syntax::Interactive),
            Input::Dropped(b":expect 250")
        );
    }

    #[test]
    fn a_sasl_response_is_secret() {
        let input = class("c2VjcmV0", LineRole::SaslResponse, Syntax::Interactive);
        assert_eq!(input, Input::SaslResponse(b"c2VjcmV0"));
        assert!(input.is_secret());
    }

    #[test]
    fn an_auth_initial_response_is_secret_and_redacted() {
        let input = command("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
        assert!(input.is_secret());
        let Input::Command(typed) = input else {
            panic!("not a command");
        };
        assert_eq!(typed.shown(), "AUTH PLAIN [initial response redacted]");
        let Input::Command(plain) = command("auth login") else {
            panic!("not a command");
        };
        assert!(!plain.is_secret());
        assert_eq!(plain.shown(), "auth login");
    }

    #[test]
    fn replayed_lines_are_all_for_the_server() {
        let Input::Command(typed) = class("# HELO", LineRole::Command, Syntax::Wire) else {
            panic!("not a command");
        };
        assert_eq!(typed.text(), "# HELO");
        assert!(matches!(
            class(":x", LineRole::Command, Syntax::Wire),
            Input::Command(_)
        ));
    }

    #[test]
    fn after_the_close_meta_commands_still_run_and_commands_cannot_go() {
        assert_eq!(
            class(":expect 221", LineRole::Closed, Syntax::Interactive),
            Input::Meta("expect 221")
        );
        assert_eq!(
            class("NOOP", LineRole::Closed, Syntax::Interactive),
            Input::NotSendable(b"NOOP")
        );
    }

    #[test]
    fn line_endings_are_stripped_once() {
        assert_eq!(strip_line_ending(b"QUIT\r\n"), b"QUIT");
        assert_eq!(strip_line_ending(b"QUIT\n"), b"QUIT");
        assert_eq!(strip_line_ending(b"QUIT\r\r\n"), b"QUIT\r");
        assert_eq!(strip_line_ending(b"QUIT"), b"QUIT");
    }

    #[test]
    fn commands_go_out_as_their_display() {
        let out = Outgoing::command(Command::Bdat {
            size: 10,
            last: true,
        });
        assert_eq!(out.wire, b"BDAT 10 LAST\r\n");
        assert_eq!(out.shown, Sent::Command("BDAT 10 LAST".into()));
        let out = Outgoing::command(Command::Mail {
            reverse_path: String::new(),
            params: vec![crate::proto::param::Param::Size(10)],
        });
        assert_eq!(out.wire, b"MAIL FROM:<> SIZE=10\r\n");
    }
}
