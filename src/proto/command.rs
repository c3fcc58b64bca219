//! SMTP commands (RFC 5321 §4.1 and the extensions smtpcli drives) as
//! values whose `Display` is the exact canonical wire text, and the lenient
//! reader of lines the user types.
//!
//! Raw SMTP is smtpcli's default: a typed line goes to the server exactly as
//! typed, plus CRLF. So [`read_typed`] never refuses and never rewrites a
//! line; it only classifies it (so the engine knows when DATA, BDAT,
//! STARTTLS, AUTH or QUIT happen) and returns [`Lint`]s, warnings the user
//! may ignore. Servers accept far more than the RFC grammar, and the
//! reference dialog (`mail from:absender@example.org`) is itself off-grammar,
//! so lints are phrased as notes, never as errors. Deciding what to send,
//! and when, is the engine's job, not this module's.

use std::fmt;

use crate::proto::ehlo::Capabilities;
pub use crate::proto::param::Param;

/// A command the client sends, with its arguments.
///
/// `Debug` hides an AUTH initial response: it carries credentials.
#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    Helo(String),
    Ehlo(String),
    /// LMTP's greeting (RFC 2033).
    Lhlo(String),
    /// `reverse_path` without angle brackets; `""` for the null path `<>`.
    Mail {
        reverse_path: String,
        params: Vec<Param>,
    },
    /// `forward_path` without angle brackets.
    Rcpt {
        forward_path: String,
        params: Vec<Param>,
    },
    Data,
    /// RFC 3030.
    Bdat {
        size: u64,
        last: bool,
    },
    Rset,
    Vrfy(String),
    Expn(String),
    Help(Option<String>),
    Noop(Option<String>),
    Quit,
    /// RFC 3207.
    StartTls,
    /// RFC 4954. `mechanism` upper-cased; `initial_response` is base64 or
    /// `=` (an empty response), as typed.
    Auth {
        mechanism: String,
        initial_response: Option<String>,
    },
    /// RFC 1985.
    Etrn(String),
    /// Postfix's XCLIENT: `(NAME, value)` pairs, values as they go on the
    /// wire (xtext).
    XClient(Vec<(String, String)>),
    /// Postfix's XFORWARD, the same way.
    XForward(Vec<(String, String)>),
}

impl Command {
    pub fn verb(&self) -> Verb {
        match self {
            Command::Helo(_) => Verb::Helo,
            Command::Ehlo(_) => Verb::Ehlo,
            Command::Lhlo(_) => Verb::Lhlo,
            Command::Mail { .. } => Verb::Mail,
            Command::Rcpt { .. } => Verb::Rcpt,
            Command::Data => Verb::Data,
            Command::Bdat { .. } => Verb::Bdat,
            Command::Rset => Verb::Rset,
            Command::Vrfy(_) => Verb::Vrfy,
            Command::Expn(_) => Verb::Expn,
            Command::Help(_) => Verb::Help,
            Command::Noop(_) => Verb::Noop,
            Command::Quit => Verb::Quit,
            Command::StartTls => Verb::StartTls,
            Command::Auth { .. } => Verb::Auth,
            Command::Etrn(_) => Verb::Etrn,
            Command::XClient(_) => Verb::XClient,
            Command::XForward(_) => Verb::XForward,
        }
    }
}

/// The exact canonical wire text, trailing CRLF included:
/// `MAIL FROM:<a@b> SIZE=10\r\n`, `BDAT 100 LAST\r\n`.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.verb().name())?;
        match self {
            Command::Helo(arg)
            | Command::Ehlo(arg)
            | Command::Lhlo(arg)
            | Command::Vrfy(arg)
            | Command::Expn(arg)
            | Command::Etrn(arg) => write_optional(f, Some(arg))?,
            Command::Help(arg) | Command::Noop(arg) => write_optional(f, arg.as_deref())?,
            Command::Mail {
                reverse_path: path,
                params,
            } => write_path(f, "FROM", path, params)?,
            Command::Rcpt {
                forward_path: path,
                params,
            } => write_path(f, "TO", path, params)?,
            Command::Bdat { size, last } => {
                write!(f, " {size}")?;
                if *last {
                    f.write_str(" LAST")?;
                }
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                write!(f, " {mechanism}")?;
                write_optional(f, initial_response.as_deref())?;
            }
            Command::XClient(attributes) | Command::XForward(attributes) => {
                for (name, value) in attributes {
                    write!(f, " {name}={value}")?;
                }
            }
            Command::Data | Command::Rset | Command::Quit | Command::StartTls => {}
        }
        f.write_str("\r\n")
    }
}

fn write_optional(f: &mut fmt::Formatter<'_>, arg: Option<&str>) -> fmt::Result {
    match arg {
        Some(arg) if !arg.is_empty() => write!(f, " {arg}"),
        _ => Ok(()),
    }
}

fn write_path(f: &mut fmt::Formatter<'_>, key: &str, path: &str, params: &[Param]) -> fmt::Result {
    write!(f, " {key}:<{path}>")?;
    params.iter().try_for_each(|param| write!(f, " {param}"))
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Helo(arg) => f.debug_tuple("Helo").field(arg).finish(),
            Command::Ehlo(arg) => f.debug_tuple("Ehlo").field(arg).finish(),
            Command::Lhlo(arg) => f.debug_tuple("Lhlo").field(arg).finish(),
            Command::Mail {
                reverse_path,
                params,
            } => f
                .debug_struct("Mail")
                .field("reverse_path", reverse_path)
                .field("params", params)
                .finish(),
            Command::Rcpt {
                forward_path,
                params,
            } => f
                .debug_struct("Rcpt")
                .field("forward_path", forward_path)
                .field("params", params)
                .finish(),
            Command::Data => f.write_str("Data"),
            Command::Bdat { size, last } => f
                .debug_struct("Bdat")
                .field("size", size)
                .field("last", last)
                .finish(),
            Command::Rset => f.write_str("Rset"),
            Command::Vrfy(arg) => f.debug_tuple("Vrfy").field(arg).finish(),
            Command::Expn(arg) => f.debug_tuple("Expn").field(arg).finish(),
            Command::Help(arg) => f.debug_tuple("Help").field(arg).finish(),
            Command::Noop(arg) => f.debug_tuple("Noop").field(arg).finish(),
            Command::Quit => f.write_str("Quit"),
            Command::StartTls => f.write_str("StartTls"),
            Command::Auth {
                mechanism,
                initial_response,
            } => f
                .debug_struct("Auth")
                .field("mechanism", mechanism)
                .field(
                    "initial_response",
                    &initial_response.as_ref().map(|_| "<redacted>"),
                )
                .finish(),
            Command::Etrn(arg) => f.debug_tuple("Etrn").field(arg).finish(),
            Command::XClient(attributes) => f.debug_tuple("XClient").field(attributes).finish(),
            Command::XForward(attributes) => f.debug_tuple("XForward").field(attributes).finish(),
        }
    }
}

/// The command word alone, known even when the arguments do not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verb {
    Helo,
    Ehlo,
    Lhlo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Vrfy,
    Expn,
    Help,
    Noop,
    Quit,
    StartTls,
    Auth,
    Etrn,
    /// Postfix: who the client is, from a trusted proxy.
    XClient,
    /// Postfix: who the original client was, from a trusted content filter.
    XForward,
}

impl Verb {
    const ALL: [Verb; 18] = [
        Verb::Helo,
        Verb::Ehlo,
        Verb::Lhlo,
        Verb::Mail,
        Verb::Rcpt,
        Verb::Data,
        Verb::Bdat,
        Verb::Rset,
        Verb::Vrfy,
        Verb::Expn,
        Verb::Help,
        Verb::Noop,
        Verb::Quit,
        Verb::StartTls,
        Verb::Auth,
        Verb::Etrn,
        Verb::XClient,
        Verb::XForward,
    ];

    /// The upper-case command word.
    pub fn name(self) -> &'static str {
        match self {
            Verb::Helo => "HELO",
            Verb::Ehlo => "EHLO",
            Verb::Lhlo => "LHLO",
            Verb::Mail => "MAIL",
            Verb::Rcpt => "RCPT",
            Verb::Data => "DATA",
            Verb::Bdat => "BDAT",
            Verb::Rset => "RSET",
            Verb::Vrfy => "VRFY",
            Verb::Expn => "EXPN",
            Verb::Help => "HELP",
            Verb::Noop => "NOOP",
            Verb::Quit => "QUIT",
            Verb::StartTls => "STARTTLS",
            Verb::Auth => "AUTH",
            Verb::Etrn => "ETRN",
            Verb::XClient => "XCLIENT",
            Verb::XForward => "XFORWARD",
        }
    }

    pub fn all() -> &'static [Verb] {
        &Self::ALL
    }

    /// The verb a command word names, case-insensitively.
    pub fn from_word(word: &str) -> Option<Verb> {
        Self::ALL
            .into_iter()
            .find(|verb| verb.name().eq_ignore_ascii_case(word))
    }

    /// The syntax, for hints: `MAIL FROM:<sender> [params]`.
    pub fn usage(self) -> &'static str {
        match self {
            Verb::Helo => "HELO <domain>",
            Verb::Ehlo => "EHLO <domain>",
            Verb::Lhlo => "LHLO <domain>",
            Verb::Mail => "MAIL FROM:<sender> [params]",
            Verb::Rcpt => "RCPT TO:<recipient> [params]",
            Verb::Data => "DATA",
            Verb::Bdat => "BDAT <size> [LAST]",
            Verb::Rset => "RSET",
            Verb::Vrfy => "VRFY <user or address>",
            Verb::Expn => "EXPN <list>",
            Verb::Help => "HELP [topic]",
            Verb::Noop => "NOOP [text]",
            Verb::Quit => "QUIT",
            Verb::StartTls => "STARTTLS",
            Verb::Auth => "AUTH <mechanism> [initial-response]",
            Verb::Etrn => "ETRN <domain or #queue>",
            Verb::XClient => "XCLIENT NAME=… ADDR=… [PORT=… PROTO=… HELO=… LOGIN=…]",
            Verb::XForward => "XFORWARD NAME=… ADDR=… [PORT=… PROTO=… HELO=… IDENT=… SOURCE=…]",
        }
    }

    /// Whether servers take this verb before EHLO/HELO. RFC 5321 §4.1.4
    /// lets NOOP, HELP, EXPN, VRFY and RSET come at any time.
    pub fn is_allowed_before_greeting(self) -> bool {
        matches!(
            self,
            Verb::Helo
                | Verb::Ehlo
                | Verb::Lhlo
                | Verb::Noop
                | Verb::Help
                | Verb::Expn
                | Verb::Vrfy
                | Verb::Rset
                | Verb::Quit
        )
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A typed line, classified.
///
/// `Debug` hides the credentials of an AUTH line.
#[derive(Clone, PartialEq, Eq)]
pub struct Typed {
    /// Exactly the typed line plus CRLF (a trailing CR/LF the input carried
    /// is replaced, nothing else is touched).
    pub wire: String,
    /// `None`: unknown verb, or arguments that did not parse.
    pub command: Option<Command>,
    /// From the first word, even when the arguments did not parse.
    pub verb: Option<Verb>,
    pub lints: Vec<Lint>,
}

impl fmt::Debug for Typed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wire = if self.verb == Some(Verb::Auth) {
            let mut words = self.wire.split_ascii_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(verb), Some(mech), Some(_)) => format!("{verb} {mech} <redacted>\r\n"),
                _ => self.wire.clone(),
            }
        } else {
            self.wire.clone()
        };
        f.debug_struct("Typed")
            .field("wire", &wire)
            .field("command", &self.command)
            .field("verb", &self.verb)
            .field("lints", &self.lints)
            .finish()
    }
}

/// What the session knows when a line is typed; it decides which lints apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct LintContext<'a> {
    /// EHLO, HELO or LHLO has been answered with 250.
    pub greeted: bool,
    /// The capabilities of the last EHLO reply, if any are in force.
    pub capabilities: Option<&'a Capabilities>,
    pub tls: bool,
    /// MAIL has been accepted and the transaction not yet ended.
    pub in_transaction: bool,
}

/// A note on a typed line. Never a reason not to send it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lint {
    /// `MAIL FROM: <x>`.
    SpaceAfterColon,
    /// `mail from:x@y`, as in the reference dialog.
    MissingAngleBrackets,
    /// Non-ASCII text while SMTPUTF8 is not advertised (or nothing is).
    NonAsciiWithoutSmtpUtf8,
    /// A non-ASCII MAIL without the SMTPUTF8 parameter, though the server
    /// offers SMTPUTF8 (RFC 6531 §3.4).
    SmtpUtf8ParamMissing,
    /// A command that needs EHLO/HELO first.
    BeforeGreeting,
    /// RCPT, DATA or BDAT with no MAIL accepted.
    NoTransaction(Verb),
    /// MAIL while a transaction is open.
    NestedMail,
    AuthInCleartext,
    /// The EHLO keyword a command needs, not advertised: `STARTTLS`, `AUTH`,
    /// `CHUNKING` (for BDAT) or `ETRN`.
    ExtensionNotAdvertised(&'static str),
    /// An AUTH mechanism the server did not list.
    MechanismNotAdvertised(String),
    /// A MAIL/RCPT parameter, as typed, whose extension was not advertised.
    ParamNotAdvertised(String),
    /// `REQUIRETLS` on MAIL over a plaintext connection (RFC 8689 §4.1).
    RequireTlsInPlaintext,
    /// The first word, as typed.
    UnknownVerb(String),
    /// A known verb whose arguments do not parse.
    BadArguments(Verb),
    /// A HELO/EHLO/LHLO name that is neither a FQDN nor an address literal.
    HeloNotFqdn(String),
    /// Octets on the wire, CRLF included, over the 512 of RFC 5321 §4.5.3.1.4.
    LineTooLong(usize),
    /// A CR or LF inside the line: the server sees more than one line.
    EmbeddedLineBreak,
    /// Control characters other than a line break (NUL, VT, NEL…), shown
    /// escaped: servers may read them as line ends or refuse the line.
    ControlCharacters(String),
    EmptyLine,
}

impl Lint {
    /// One line for the user.
    pub fn message(&self) -> String {
        match self {
            Lint::SpaceAfterColon => "a space after \"FROM:\"/\"TO:\" is not allowed by RFC 5321; \
                 many servers accept it, some refuse it"
                .into(),
            Lint::MissingAngleBrackets => "RFC 5321 wants the address in angle brackets \
                 (<address>); Postfix and Exim accept it without, OpenSMTPD refuses it"
                .into(),
            Lint::NonAsciiWithoutSmtpUtf8 => "non-ASCII text, but the server has not advertised \
                 SMTPUTF8: expect a refusal or mangled bytes"
                .into(),
            Lint::SmtpUtf8ParamMissing => "a non-ASCII address needs the SMTPUTF8 parameter on \
                 MAIL (MAIL FROM:<...> SMTPUTF8); servers refuse it without"
                .into(),
            Lint::BeforeGreeting => {
                "no EHLO/HELO yet: most servers answer 503 until the client has greeted them".into()
            }
            Lint::NoTransaction(verb) => {
                format!("{verb} with no MAIL FROM accepted: the server will answer 503")
            }
            Lint::NestedMail => "a mail transaction is already open: the server will answer 503 \
                 (RSET starts over)"
                .into(),
            Lint::AuthInCleartext => "AUTH without TLS: anyone on the path can read the \
                 credentials; most servers offer AUTH only after STARTTLS"
                .into(),
            Lint::ExtensionNotAdvertised(keyword) => {
                format!("the server did not advertise {keyword} in its EHLO reply")
            }
            Lint::MechanismNotAdvertised(mechanism) => {
                format!("the server did not list {mechanism} among its AUTH mechanisms")
            }
            Lint::ParamNotAdvertised(param) => match Param::parse(param).extension() {
                Some(keyword) => format!(
                    "\"{param}\" belongs to the {keyword} extension, which the server did not \
                     advertise; expect 555"
                ),
                None => format!("\"{param}\" belongs to an extension the server did not advertise"),
            },
            Lint::RequireTlsInPlaintext => "REQUIRETLS over a plaintext connection: RFC 8689 \
                 lets a client ask for it only over TLS, so expect a refusal (STARTTLS first)"
                .into(),
            Lint::UnknownVerb(word) => format!(
                "\"{word}\" is not an SMTP command smtpcli knows; it is sent as typed \
                 (meta-commands start with \":\")"
            ),
            Lint::BadArguments(verb) => format!(
                "this does not match \"{}\"; it is sent as typed, expect 501",
                verb.usage()
            ),
            Lint::HeloNotFqdn(name) => format!(
                "\"{name}\" is not a fully qualified domain name; RFC 5321 asks for one (or an \
                 address literal like [192.0.2.1]) and many servers refuse or score a bare name"
            ),
            Lint::LineTooLong(octets) => format!(
                "the line is {octets} octets with CRLF; RFC 5321 §4.5.3.1.4 allows 512 for a \
                 command, so a server may refuse or cut it"
            ),
            Lint::EmbeddedLineBreak => "the line contains a CR or LF: the server sees more than \
                 one line (use :raw to send that on purpose)"
                .into(),
            Lint::ControlCharacters(found) => format!(
                "the line holds control characters ({found}): servers may read them as line \
                 ends or refuse the line"
            ),
            Lint::EmptyLine => "an empty line is sent as a lone CRLF; servers answer 500 or \
                 ignore it"
                .into(),
        }
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// What in a command line would end it early, or cut it, on the wire: a
/// bare CR, a bare LF or a NUL. Such a line is never sent as a command
/// (`:raw` sends such bytes on purpose); `None` when there is none.
pub fn line_breaker(line: &[u8]) -> Option<&'static str> {
    if line.contains(&b'\r') {
        Some("a bare CR")
    } else if line.contains(&b'\n') {
        Some("a bare LF")
    } else if line.contains(&0) {
        Some("a NUL")
    } else {
        None
    }
}

/// RFC 5321 §4.5.3.1.4: command line length, CRLF included.
const MAX_COMMAND_LINE: usize = 512;

/// Classifies a typed line. Never fails and never changes what is sent:
/// `wire` is the line as typed plus CRLF.
pub fn read_typed(line: &str, ctx: &LintContext<'_>) -> Typed {
    let text = line.trim_end_matches(['\r', '\n']);
    let wire = format!("{text}\r\n");
    // The server reads up to the first line break; classify that much.
    let first_line = text.split(['\r', '\n']).next().unwrap_or_default();
    let (word, rest) = split_word(first_line.trim_start_matches(is_space));

    let mut lints = Vec::new();
    let verb = Verb::from_word(word);
    let command = match verb {
        None if word.is_empty() => {
            if text.trim_matches(is_space).is_empty() {
                lints.push(Lint::EmptyLine);
            }
            None
        }
        None => {
            lints.push(Lint::UnknownVerb(word.to_owned()));
            None
        }
        Some(verb) => match parse_arguments(verb, rest) {
            Some((command, notes)) => {
                lints.extend(notes);
                Some(command)
            }
            None => {
                lints.push(Lint::BadArguments(verb));
                None
            }
        },
    };
    if let Some(verb) = verb {
        session_lints(verb, command.as_ref(), ctx, &mut lints);
    }
    if !text.is_ascii() {
        let smtputf8 = ctx
            .capabilities
            .is_some_and(Capabilities::supports_smtputf8);
        if !smtputf8 {
            lints.push(Lint::NonAsciiWithoutSmtpUtf8);
        } else if let Some(Command::Mail { params, .. }) = &command
            && !params.contains(&Param::SmtpUtf8)
        {
            lints.push(Lint::SmtpUtf8ParamMissing);
        }
    }
    if wire.len() > MAX_COMMAND_LINE {
        lints.push(Lint::LineTooLong(wire.len()));
    }
    if text.contains(['\r', '\n']) {
        lints.push(Lint::EmbeddedLineBreak);
    }
    let controls: Vec<String> = text
        .chars()
        .filter(|&c| c != '\r' && c != '\n' && c != '\t' && c.is_control())
        .map(|c| c.escape_unicode().to_string())
        .collect();
    if !controls.is_empty() {
        lints.push(Lint::ControlCharacters(controls.join(" ")));
    }
    Typed {
        wire,
        command,
        verb,
        lints,
    }
}

/// Lints that depend on the session rather than on the line's syntax.
fn session_lints(
    verb: Verb,
    command: Option<&Command>,
    ctx: &LintContext<'_>,
    lints: &mut Vec<Lint>,
) {
    if !ctx.greeted && !verb.is_allowed_before_greeting() {
        lints.push(Lint::BeforeGreeting);
    }
    if ctx.greeted {
        match verb {
            Verb::Rcpt | Verb::Data | Verb::Bdat if !ctx.in_transaction => {
                lints.push(Lint::NoTransaction(verb));
            }
            Verb::Mail if ctx.in_transaction => lints.push(Lint::NestedMail),
            _ => {}
        }
    }
    if verb == Verb::Auth && !ctx.tls {
        lints.push(Lint::AuthInCleartext);
    }
    let Some(caps) = ctx.capabilities else {
        return;
    };
    let needed = match verb {
        Verb::StartTls => Some("STARTTLS"),
        Verb::Auth => Some("AUTH"),
        Verb::Bdat => Some("CHUNKING"),
        Verb::Etrn => Some("ETRN"),
        Verb::XClient => Some("XCLIENT"),
        Verb::XForward => Some("XFORWARD"),
        _ => None,
    };
    if let Some(keyword) = needed.filter(|keyword| !caps.has(keyword)) {
        lints.push(Lint::ExtensionNotAdvertised(keyword));
    }
    match command {
        Some(Command::Auth { mechanism, .. })
            if caps.has("AUTH") && !caps.auth_mechanisms().contains(mechanism) =>
        {
            lints.push(Lint::MechanismNotAdvertised(mechanism.clone()));
        }
        Some(Command::Mail { params, .. } | Command::Rcpt { params, .. }) => {
            lints.extend(
                params
                    .iter()
                    .filter(|param| param.extension().is_some_and(|kw| !caps.has(kw)))
                    .map(|param| Lint::ParamNotAdvertised(param.to_string())),
            );
            if !ctx.tls && params.contains(&Param::RequireTls) {
                lints.push(Lint::RequireTlsInPlaintext);
            }
        }
        _ => {}
    }
}

fn is_space(c: char) -> bool {
    c.is_ascii_whitespace()
}

/// `NAME=value NAME=value…` of XCLIENT and XFORWARD: at least one pair,
/// each with a name.
fn attribute_pairs(rest: &str) -> Option<Vec<(String, String)>> {
    let pairs: Option<Vec<(String, String)>> = rest
        .split_ascii_whitespace()
        .map(|word| {
            let (name, value) = word.split_once('=')?;
            (!name.is_empty()).then(|| (name.to_ascii_uppercase(), value.to_string()))
        })
        .collect();
    pairs.filter(|pairs| !pairs.is_empty())
}

/// The first word and what follows it, leading blanks removed.
fn split_word(text: &str) -> (&str, &str) {
    match text.split_once(is_space) {
        Some((word, rest)) => (word, rest.trim_start_matches(is_space)),
        None => (text, ""),
    }
}

/// The command for a known verb, with syntax notes; `None` when the
/// arguments do not fit the verb at all.
fn parse_arguments(verb: Verb, rest: &str) -> Option<(Command, Vec<Lint>)> {
    let rest = rest.trim_end_matches(is_space);
    let argument = || (!rest.is_empty()).then(|| rest.to_owned());
    let nothing = |command: Command| rest.is_empty().then_some(command);
    let mut notes = Vec::new();
    let command = match verb {
        Verb::Helo | Verb::Ehlo | Verb::Lhlo => {
            let name = argument()?;
            if !is_fqdn_or_literal(&name) {
                notes.push(Lint::HeloNotFqdn(name.clone()));
            }
            match verb {
                Verb::Helo => Command::Helo(name),
                Verb::Ehlo => Command::Ehlo(name),
                _ => Command::Lhlo(name),
            }
        }
        Verb::Mail => {
            let (reverse_path, params) = parse_path_arguments(rest, "FROM", &mut notes)?;
            Command::Mail {
                reverse_path,
                params,
            }
        }
        Verb::Rcpt => {
            let (forward_path, params) = parse_path_arguments(rest, "TO", &mut notes)?;
            Command::Rcpt {
                forward_path,
                params,
            }
        }
        Verb::Data => nothing(Command::Data)?,
        Verb::Rset => nothing(Command::Rset)?,
        Verb::Quit => nothing(Command::Quit)?,
        Verb::StartTls => nothing(Command::StartTls)?,
        Verb::Vrfy => Command::Vrfy(argument()?),
        Verb::Expn => Command::Expn(argument()?),
        Verb::Etrn => Command::Etrn(argument()?),
        Verb::XClient => Command::XClient(attribute_pairs(rest)?),
        Verb::XForward => Command::XForward(attribute_pairs(rest)?),
        Verb::Help => Command::Help(argument()),
        Verb::Noop => Command::Noop(argument()),
        Verb::Bdat => {
            let mut words = rest.split_ascii_whitespace();
            let size = words.next().and_then(parse_digits)?;
            let last = match words.next() {
                None => false,
                Some(word) if word.eq_ignore_ascii_case("LAST") => true,
                Some(_) => return None,
            };
            if words.next().is_some() {
                return None;
            }
            Command::Bdat { size, last }
        }
        Verb::Auth => {
            let mut words = rest.split_ascii_whitespace();
            let mechanism = words.next()?.to_ascii_uppercase();
            let initial_response = words.next().map(str::to_owned);
            if words.next().is_some() {
                return None;
            }
            Command::Auth {
                mechanism,
                initial_response,
            }
        }
    };
    Some((command, notes))
}

/// `FROM:<path> params` / `TO:<path> params`, leniently: a space after the
/// colon and a path without brackets are noted, not refused.
fn parse_path_arguments(
    rest: &str,
    key: &str,
    notes: &mut Vec<Lint>,
) -> Option<(String, Vec<Param>)> {
    let after_key = rest
        .get(..key.len())
        .filter(|head| head.eq_ignore_ascii_case(key))
        .and_then(|_| rest.get(key.len()..))?;
    let after_colon = after_key.strip_prefix(':')?;
    let start = after_colon.trim_start_matches(is_space);
    let mut found = Vec::new();
    if start.len() != after_colon.len() {
        found.push(Lint::SpaceAfterColon);
    }
    let (path, remainder) = match start.strip_prefix('<') {
        Some(inner) => {
            let end = path_end(inner, |c| c == '>')?;
            (&inner[..end], &inner[end + 1..])
        }
        None => {
            found.push(Lint::MissingAngleBrackets);
            let end = path_end(start, is_space).unwrap_or(start.len());
            let path = &start[..end];
            // Only a path that reads back the same inside brackets is one:
            // `a>b` or an unclosed quote would change on the wire form.
            if path_end(&format!("{path}>"), |c| c == '>') != Some(path.len()) {
                return None;
            }
            (path, &start[end..])
        }
    };
    if (path.is_empty() && !start.starts_with('<'))
        || remainder.chars().next().is_some_and(|c| !is_space(c))
    {
        return None;
    }
    notes.extend(found);
    let params = remainder
        .split_ascii_whitespace()
        .map(Param::parse)
        .collect();
    Some((path.to_owned(), params))
}

/// The byte index of the first character ending a path, skipping quoted
/// strings (`"a>b"@x`, `"john smith"@x`) and their backslash escapes.
fn path_end(text: &str, ends: impl Fn(char) -> bool) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted {
            match c {
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
        } else if c == '"' {
            quoted = true;
        } else if ends(c) {
            return Some(index);
        }
    }
    None
}

/// A decimal number of ASCII digits only (`u64::from_str` would take `+5`).
fn parse_digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `[192.0.2.1]`, `[IPv6:...]`, or a name with a dot inside: what RFC 5321
/// §4.1.1.1 wants after EHLO.
pub fn is_fqdn_or_literal(name: &str) -> bool {
    if name.starts_with('[') && name.ends_with(']') {
        return true;
    }
    let name = name.trim_end_matches('.');
    name.contains('.') && name.split('.').all(|label| !label.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ehlo::Capabilities;
    use proptest::prelude::*;

    fn s(text: &str) -> String {
        text.to_owned()
    }

    fn mail(path: &str, params: &[&str]) -> Command {
        Command::Mail {
            reverse_path: s(path),
            params: params.iter().map(|p| Param::parse(p)).collect(),
        }
    }

    fn rcpt(path: &str, params: &[&str]) -> Command {
        Command::Rcpt {
            forward_path: s(path),
            params: params.iter().map(|p| Param::parse(p)).collect(),
        }
    }

    fn auth(mechanism: &str, initial_response: Option<&str>) -> Command {
        Command::Auth {
            mechanism: s(mechanism),
            initial_response: initial_response.map(s),
        }
    }

    const POSTFIX_PLAIN: &[&str] = &[
        "mailserver.example.com",
        "PIPELINING",
        "SIZE 10240000",
        "VRFY",
        "ETRN",
        "STARTTLS",
        "ENHANCEDSTATUSCODES",
        "8BITMIME",
        "DSN",
        "SMTPUTF8",
        "CHUNKING",
    ];

    /// The lints about the line itself, not about where the session is.
    fn without_session_lints(typed: &Typed) -> Vec<Lint> {
        typed
            .lints
            .iter()
            .filter(|lint| !matches!(lint, Lint::NestedMail | Lint::NoTransaction(_)))
            .cloned()
            .collect()
    }

    /// Postfix's offer with AUTH added: no extension is missing.
    fn everything() -> Capabilities {
        Capabilities::from_lines(
            POSTFIX_PLAIN
                .iter()
                .copied()
                .chain(["AUTH PLAIN LOGIN CRAM-MD5"]),
        )
    }

    /// Greeted with EHLO, capabilities known, over TLS, no transaction.
    fn in_session(caps: &Capabilities) -> LintContext<'_> {
        LintContext {
            greeted: true,
            capabilities: Some(caps),
            tls: true,
            in_transaction: false,
        }
    }

    /// Found by fuzzing: an address typed without brackets that holds `>`
    /// or an unclosed quote cannot be written inside brackets and read back
    /// the same, so it is not taken as a path (the line still goes out as
    /// typed; only the classification says "bad arguments").
    #[test]
    fn regression_unbracketed_paths_that_brackets_would_change() {
        let ctx = LintContext::default();
        for line in ["MAIL FROM:a>b", "MAIL FROM:\"abc def", "RCPT TO:x\"y"] {
            let typed = read_typed(line, &ctx);
            assert_eq!(typed.command, None, "{line}");
            assert_eq!(typed.wire, format!("{line}\r\n"));
        }
        let ok = read_typed("mail from:absender@example.org", &ctx);
        assert!(ok.command.is_some());
    }

    #[test]
    fn display_is_wire_text() {
        let cases = [
            (mail("a@b", &["SIZE=10"]), "MAIL FROM:<a@b> SIZE=10\r\n"),
            (mail("", &[]), "MAIL FROM:<>\r\n"),
            (rcpt("postmaster", &[]), "RCPT TO:<postmaster>\r\n"),
            (Command::Ehlo(s("x")), "EHLO x\r\n"),
            (Command::Helo(s("x.example")), "HELO x.example\r\n"),
            (Command::Lhlo(s("x")), "LHLO x\r\n"),
            (
                Command::Bdat {
                    size: 100,
                    last: true,
                },
                "BDAT 100 LAST\r\n",
            ),
            (
                Command::Bdat {
                    size: 0,
                    last: false,
                },
                "BDAT 0\r\n",
            ),
            (auth("PLAIN", Some("dGVzdA==")), "AUTH PLAIN dGVzdA==\r\n"),
            (auth("LOGIN", None), "AUTH LOGIN\r\n"),
            (Command::Data, "DATA\r\n"),
            (Command::Rset, "RSET\r\n"),
            (Command::Quit, "QUIT\r\n"),
            (Command::StartTls, "STARTTLS\r\n"),
            (Command::Help(None), "HELP\r\n"),
            (Command::Help(Some(s("MAIL"))), "HELP MAIL\r\n"),
            (Command::Noop(None), "NOOP\r\n"),
            (Command::Vrfy(s("postmaster")), "VRFY postmaster\r\n"),
            (Command::Expn(s("staff")), "EXPN staff\r\n"),
            (Command::Etrn(s("#queue")), "ETRN #queue\r\n"),
            (
                Command::XClient(vec![
                    (s("NAME"), s("a.example")),
                    (s("ADDR"), s("192.0.2.1")),
                ]),
                "XCLIENT NAME=a.example ADDR=192.0.2.1\r\n",
            ),
            (
                Command::XForward(vec![(s("PROTO"), s("ESMTP"))]),
                "XFORWARD PROTO=ESMTP\r\n",
            ),
        ];
        for (command, want) in cases {
            assert_eq!(command.to_string(), want, "{command:?}");
        }
    }

    #[test]
    fn reads_valid_lines_without_lints() {
        let caps = everything();
        let ctx = LintContext {
            in_transaction: true,
            ..in_session(&caps)
        };
        let cases = [
            ("MAIL FROM:<>", mail("", &[])),
            ("MAIL FROM:<> SIZE=1000", mail("", &["SIZE=1000"])),
            ("mail from:<x@y>", mail("x@y", &[])),
            (
                "MAIL FROM:<a@b.example> BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x1",
                mail(
                    "a@b.example",
                    &["BODY=8BITMIME", "SMTPUTF8", "RET=HDRS", "ENVID=x1"],
                ),
            ),
            ("RCPT TO:<postmaster>", rcpt("postmaster", &[])),
            (
                "RCPT TO:<\"john smith\"@example.org>",
                rcpt("\"john smith\"@example.org", &[]),
            ),
            ("RCPT TO:<\"a>b\"@x>", rcpt("\"a>b\"@x", &[])),
            ("RCPT TO:<\"a\\\">b\"@x>", rcpt("\"a\\\">b\"@x", &[])),
            ("RCPT TO:<@a,@b:user@c>", rcpt("@a,@b:user@c", &[])),
            (
                "rcpt to:<u@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;u@example.org",
                rcpt(
                    "u@example.org",
                    &["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;u@example.org"],
                ),
            ),
            ("MAIL   FROM:<x@y>  ", mail("x@y", &[])),
            ("DATA", Command::Data),
            ("data ", Command::Data),
            (
                "BDAT 100",
                Command::Bdat {
                    size: 100,
                    last: false,
                },
            ),
            (
                "BDAT 0 LAST",
                Command::Bdat {
                    size: 0,
                    last: true,
                },
            ),
            (
                "bdat 7 last",
                Command::Bdat {
                    size: 7,
                    last: true,
                },
            ),
            ("rset", Command::Rset),
            ("vrfy postmaster", Command::Vrfy(s("postmaster"))),
            ("VRFY John Smith", Command::Vrfy(s("John Smith"))),
            ("EXPN staff", Command::Expn(s("staff"))),
            ("HELP", Command::Help(None)),
            ("help mail", Command::Help(Some(s("mail")))),
            ("NOOP", Command::Noop(None)),
            ("NOOP still here", Command::Noop(Some(s("still here")))),
            ("QUIT", Command::Quit),
            ("STARTTLS", Command::StartTls),
            ("AUTH PLAIN", auth("PLAIN", None)),
            ("AUTH PLAIN =", auth("PLAIN", Some("="))),
            ("AUTH LOGIN dXNlcg==", auth("LOGIN", Some("dXNlcg=="))),
            (
                "auth plain AGFsaWNlAHNlY3JldA==",
                auth("PLAIN", Some("AGFsaWNlAHNlY3JldA==")),
            ),
            ("ETRN example.org", Command::Etrn(s("example.org"))),
            (
                "EHLO pc0815.example.com",
                Command::Ehlo(s("pc0815.example.com")),
            ),
            (
                "helo pc0815.example.com",
                Command::Helo(s("pc0815.example.com")),
            ),
            ("EHLO [192.0.2.1]", Command::Ehlo(s("[192.0.2.1]"))),
            (
                "EHLO [IPv6:2001:db8::1]",
                Command::Ehlo(s("[IPv6:2001:db8::1]")),
            ),
            (
                "LHLO client.example.net",
                Command::Lhlo(s("client.example.net")),
            ),
        ];
        for (line, want) in cases {
            let typed = read_typed(line, &ctx);
            let syntax = without_session_lints(&typed);
            assert_eq!(typed.command.as_ref(), Some(&want), "line {line:?}");
            assert_eq!(typed.verb, Some(want.verb()), "line {line:?}");
            assert!(syntax.is_empty(), "line {line:?}: {syntax:?}");
            assert_eq!(typed.wire, format!("{line}\r\n"));
        }
    }

    #[test]
    fn reference_dialog() {
        // The German admin blog's session against Postfix, typed as is.
        let mut ctx = LintContext::default();
        let helo = read_typed("helo pc0815.example.com", &ctx);
        assert_eq!(helo.command, Some(Command::Helo(s("pc0815.example.com"))));
        assert!(helo.lints.is_empty(), "{:?}", helo.lints);

        ctx.greeted = true;
        let from = read_typed("mail from:absender@example.org", &ctx);
        assert_eq!(from.wire, "mail from:absender@example.org\r\n");
        assert_eq!(from.command, Some(mail("absender@example.org", &[])));
        assert_eq!(from.lints, vec![Lint::MissingAngleBrackets]);

        ctx.in_transaction = true;
        let to = read_typed("rcpt to:empfaenger@example.org", &ctx);
        assert_eq!(to.command, Some(rcpt("empfaenger@example.org", &[])));
        assert_eq!(to.lints, vec![Lint::MissingAngleBrackets]);

        for (line, want) in [("data", Command::Data), ("quit", Command::Quit)] {
            let typed = read_typed(line, &ctx);
            assert_eq!(typed.command, Some(want));
            assert!(typed.lints.is_empty(), "{line}: {:?}", typed.lints);
        }
    }

    #[test]
    fn syntax_lints() {
        let caps = everything();
        let ctx = in_session(&caps);
        let cases: Vec<(&str, Option<Command>, Vec<Lint>)> = vec![
            (
                "MAIL FROM: <x@y>",
                Some(mail("x@y", &[])),
                vec![Lint::SpaceAfterColon],
            ),
            (
                "MAIL FROM: x@y SIZE=5",
                Some(mail("x@y", &["SIZE=5"])),
                vec![Lint::SpaceAfterColon, Lint::MissingAngleBrackets],
            ),
            (
                "RCPT TO: <postmaster>",
                Some(rcpt("postmaster", &[])),
                vec![Lint::SpaceAfterColon],
            ),
            (
                "MAIL FROM <x@y>",
                None,
                vec![Lint::BadArguments(Verb::Mail)],
            ),
            ("MAIL FROM:<x@y", None, vec![Lint::BadArguments(Verb::Mail)]),
            (
                "MAIL FROM:<x@y>SIZE=1",
                None,
                vec![Lint::BadArguments(Verb::Mail)],
            ),
            ("MAIL FROM:", None, vec![Lint::BadArguments(Verb::Mail)]),
            ("MAIL", None, vec![Lint::BadArguments(Verb::Mail)]),
            ("MAIL TO:<x@y>", None, vec![Lint::BadArguments(Verb::Mail)]),
            ("EHLO", None, vec![Lint::BadArguments(Verb::Ehlo)]),
            ("DATA now", None, vec![Lint::BadArguments(Verb::Data)]),
            ("QUIT please", None, vec![Lint::BadArguments(Verb::Quit)]),
            ("BDAT", None, vec![Lint::BadArguments(Verb::Bdat)]),
            ("BDAT -1", None, vec![Lint::BadArguments(Verb::Bdat)]),
            ("BDAT +1", None, vec![Lint::BadArguments(Verb::Bdat)]),
            ("BDAT 10 FIRST", None, vec![Lint::BadArguments(Verb::Bdat)]),
            (
                "BDAT 10 LAST more",
                None,
                vec![Lint::BadArguments(Verb::Bdat)],
            ),
            ("AUTH", None, vec![Lint::BadArguments(Verb::Auth)]),
            ("AUTH PLAIN a b", None, vec![Lint::BadArguments(Verb::Auth)]),
            ("VRFY", None, vec![Lint::BadArguments(Verb::Vrfy)]),
            ("XYZZY", None, vec![Lint::UnknownVerb(s("XYZZY"))]),
            (
                "mailfrom:<x@y>",
                None,
                vec![Lint::UnknownVerb(s("mailfrom:<x@y>"))],
            ),
            ("", None, vec![Lint::EmptyLine]),
            ("   ", None, vec![Lint::EmptyLine]),
            (
                "EHLO pc0815",
                Some(Command::Ehlo(s("pc0815"))),
                vec![Lint::HeloNotFqdn(s("pc0815"))],
            ),
            (
                "HELO localhost.",
                Some(Command::Helo(s("localhost."))),
                vec![Lint::HeloNotFqdn(s("localhost."))],
            ),
        ];
        for (line, command, lints) in cases {
            let typed = read_typed(line, &ctx);
            assert_eq!(typed.command, command, "line {line:?}");
            assert_eq!(without_session_lints(&typed), lints, "line {line:?}");
        }
    }

    #[test]
    fn verb_known_even_when_arguments_fail() {
        let typed = read_typed("DATA now", &LintContext::default());
        assert_eq!(typed.verb, Some(Verb::Data));
        assert_eq!(typed.command, None);
        assert_eq!(read_typed("XYZZY", &LintContext::default()).verb, None);
    }

    #[test]
    fn session_lints() {
        let postfix = Capabilities::from_lines(POSTFIX_PLAIN.iter().copied());
        let bare = Capabilities::from_lines(["mx.example.com", "PIPELINING"]);
        let after_tls = Capabilities::from_lines(["mx", "AUTH PLAIN LOGIN"]);
        let fresh = LintContext::default();
        let helo_only = LintContext {
            greeted: true,
            ..LintContext::default()
        };
        let requiretls = Capabilities::from_lines(["mx.example.com", "REQUIRETLS"]);
        let known = |caps| LintContext {
            greeted: true,
            capabilities: Some(caps),
            tls: false,
            in_transaction: false,
        };
        let open = |caps| LintContext {
            in_transaction: true,
            ..known(caps)
        };
        let tls = |caps| LintContext {
            tls: true,
            ..known(caps)
        };
        let cases: Vec<(&str, LintContext<'_>, Vec<Lint>)> = vec![
            ("EHLO client.example.org", fresh, vec![]),
            ("NOOP", fresh, vec![]),
            ("VRFY postmaster", fresh, vec![]),
            ("RSET", fresh, vec![]),
            ("HELP", fresh, vec![]),
            ("QUIT", fresh, vec![]),
            ("MAIL FROM:<a@b>", fresh, vec![Lint::BeforeGreeting]),
            ("STARTTLS", fresh, vec![Lint::BeforeGreeting]),
            ("DATA", fresh, vec![Lint::BeforeGreeting]),
            ("XYZZY", fresh, vec![Lint::UnknownVerb(s("XYZZY"))]),
            (
                "RCPT TO:<a@b>",
                helo_only,
                vec![Lint::NoTransaction(Verb::Rcpt)],
            ),
            ("DATA", helo_only, vec![Lint::NoTransaction(Verb::Data)]),
            ("BDAT 5", helo_only, vec![Lint::NoTransaction(Verb::Bdat)]),
            ("RCPT TO:<a@b>", open(&postfix), vec![]),
            ("MAIL FROM:<a@b>", open(&postfix), vec![Lint::NestedMail]),
            // Parameters are judged only when capabilities are known.
            ("MAIL FROM:<a@b> SIZE=10", helo_only, vec![]),
            (
                "MAIL FROM:<a@b> SIZE=10 BODY=8BITMIME",
                known(&postfix),
                vec![],
            ),
            (
                "MAIL FROM:<a@b> SIZE=10",
                known(&bare),
                vec![Lint::ParamNotAdvertised(s("SIZE=10"))],
            ),
            (
                "MAIL FROM:<a@b> REQUIRETLS",
                known(&requiretls),
                vec![Lint::RequireTlsInPlaintext],
            ),
            (
                "MAIL FROM:<a@b> REQUIRETLS",
                LintContext {
                    tls: true,
                    ..known(&requiretls)
                },
                vec![],
            ),
            (
                "MAIL FROM:<a@b> body=8bitmime SMTPUTF8 RET=FULL ENVID=q X-FOO=1",
                known(&bare),
                vec![
                    Lint::ParamNotAdvertised(s("BODY=8BITMIME")),
                    Lint::ParamNotAdvertised(s("SMTPUTF8")),
                    Lint::ParamNotAdvertised(s("RET=FULL")),
                    Lint::ParamNotAdvertised(s("ENVID=q")),
                ],
            ),
            (
                "RCPT TO:<a@b> NOTIFY=NEVER ORCPT=rfc822;a@b",
                open(&bare),
                vec![
                    Lint::ParamNotAdvertised(s("NOTIFY=NEVER")),
                    Lint::ParamNotAdvertised(s("ORCPT=rfc822;a@b")),
                ],
            ),
            (
                "MAIL FROM:<a@b> BODY=BINARYMIME",
                known(&postfix),
                vec![Lint::ParamNotAdvertised(s("BODY=BINARYMIME"))],
            ),
            ("STARTTLS", known(&postfix), vec![]),
            (
                "STARTTLS",
                known(&bare),
                vec![Lint::ExtensionNotAdvertised("STARTTLS")],
            ),
            (
                "BDAT 10 LAST",
                open(&bare),
                vec![Lint::ExtensionNotAdvertised("CHUNKING")],
            ),
            ("BDAT 10 LAST", open(&postfix), vec![]),
            (
                "AUTH PLAIN",
                known(&postfix),
                vec![Lint::AuthInCleartext, Lint::ExtensionNotAdvertised("AUTH")],
            ),
            ("AUTH PLAIN", helo_only, vec![Lint::AuthInCleartext]),
            ("AUTH PLAIN", tls(&after_tls), vec![]),
            (
                "AUTH CRAM-MD5",
                tls(&after_tls),
                vec![Lint::MechanismNotAdvertised(s("CRAM-MD5"))],
            ),
            ("auth login", tls(&after_tls), vec![]),
        ];
        for (line, ctx, lints) in cases {
            assert_eq!(
                read_typed(line, &ctx).lints,
                lints,
                "line {line:?} in {ctx:?}"
            );
        }
    }

    #[test]
    fn non_ascii() {
        let postfix = Capabilities::from_lines(POSTFIX_PLAIN.iter().copied());
        let bare = Capabilities::from_lines(["mx.example.com", "PIPELINING"]);
        let known = |caps| LintContext {
            greeted: true,
            capabilities: Some(caps),
            tls: true,
            in_transaction: true,
        };
        let helo_only = LintContext {
            greeted: true,
            in_transaction: true,
            ..LintContext::default()
        };
        let cases: Vec<(&str, LintContext<'_>, Vec<Lint>)> = vec![
            (
                "RCPT TO:<jörg@example.org>",
                known(&bare),
                vec![Lint::NonAsciiWithoutSmtpUtf8],
            ),
            (
                "RCPT TO:<jörg@example.org>",
                helo_only,
                vec![Lint::NonAsciiWithoutSmtpUtf8],
            ),
            ("RCPT TO:<jörg@example.org>", known(&postfix), vec![]),
            (
                "MAIL FROM:<jörg@example.org>",
                helo_only,
                vec![Lint::NestedMail, Lint::NonAsciiWithoutSmtpUtf8],
            ),
            (
                "MAIL FROM:<jörg@example.org>",
                LintContext {
                    in_transaction: false,
                    ..known(&postfix)
                },
                vec![Lint::SmtpUtf8ParamMissing],
            ),
            (
                "MAIL FROM:<jörg@example.org> smtputf8",
                LintContext {
                    in_transaction: false,
                    ..known(&postfix)
                },
                vec![],
            ),
        ];
        for (line, ctx, lints) in cases {
            assert_eq!(read_typed(line, &ctx).lints, lints, "line {line:?}");
        }
    }

    #[test]
    fn wire_is_the_typed_line() {
        let ctx = LintContext::default();
        let cases = [
            ("quit", "quit\r\n"),
            ("quit\n", "quit\r\n"),
            ("quit\r\n", "quit\r\n"),
            ("quit\r", "quit\r\n"),
            ("  noop  ", "  noop  \r\n"),
            ("MaIl FrOm:<X@Y>", "MaIl FrOm:<X@Y>\r\n"),
            ("", "\r\n"),
        ];
        for (line, wire) in cases {
            assert_eq!(read_typed(line, &ctx).wire, wire, "line {line:?}");
        }
    }

    #[test]
    fn embedded_line_break_is_kept_and_flagged() {
        let ctx = LintContext {
            greeted: true,
            ..LintContext::default()
        };
        let typed = read_typed("NOOP\r\nQUIT", &ctx);
        assert_eq!(typed.wire, "NOOP\r\nQUIT\r\n");
        assert_eq!(typed.command, Some(Command::Noop(None)));
        assert_eq!(typed.lints, vec![Lint::EmbeddedLineBreak]);
    }

    #[test]
    fn control_characters_are_noted_and_line_breakers_named() {
        let typed = read_typed("NOOP a\u{b}b\u{85}", &LintContext::default());
        assert!(
            typed
                .lints
                .iter()
                .any(|l| matches!(l, Lint::ControlCharacters(c) if c.contains("\\u{b}") && c.contains("\\u{85}"))),
            "{:?}",
            typed.lints
        );
        assert_eq!(
            line_breaker(b"MAIL FROM:<a@b>\rRCPT TO:<x@y>"),
            Some("a bare CR")
        );
        assert_eq!(line_breaker(b"NOOP\nQUIT"), Some("a bare LF"));
        assert_eq!(line_breaker(b"NOOP \0"), Some("a NUL"));
        assert_eq!(line_breaker(b"NOOP \x0b"), None);
    }

    #[test]
    fn line_length_counts_octets_with_crlf() {
        let ctx = LintContext {
            greeted: true,
            ..LintContext::default()
        };
        let fits = format!("NOOP {}", "x".repeat(505));
        assert!(read_typed(&fits, &ctx).lints.is_empty());
        let over = format!("NOOP {}", "x".repeat(506));
        assert_eq!(read_typed(&over, &ctx).lints, vec![Lint::LineTooLong(513)]);
    }

    #[test]
    fn xclient_lines_read_their_attributes_and_need_the_extension() {
        let typed = read_typed(
            "xclient name=a.example ADDR=192.0.2.1",
            &LintContext::default(),
        );
        assert_eq!(
            typed.command,
            Some(Command::XClient(vec![
                ("NAME".into(), "a.example".into()),
                ("ADDR".into(), "192.0.2.1".into())
            ]))
        );
        let caps = Capabilities::from_lines(["mx.example", "PIPELINING"]);
        let ctx = LintContext {
            greeted: true,
            capabilities: Some(&caps),
            ..LintContext::default()
        };
        let typed = read_typed("XFORWARD ADDR=192.0.2.1", &ctx);
        assert_eq!(typed.lints, vec![Lint::ExtensionNotAdvertised("XFORWARD")]);
        assert_eq!(read_typed("XCLIENT", &ctx).command, None);
        assert_eq!(read_typed("XCLIENT =x", &ctx).command, None);
    }

    #[test]
    fn verbs() {
        assert_eq!(Verb::all().len(), 18);
        for verb in Verb::all() {
            assert_eq!(Verb::from_word(verb.name()), Some(*verb));
            assert_eq!(Verb::from_word(&verb.name().to_lowercase()), Some(*verb));
            assert!(verb.usage().starts_with(verb.name()), "{verb}");
        }
        assert_eq!(Verb::from_word("StartTLS"), Some(Verb::StartTls));
        assert_eq!(Verb::from_word("MAIL FROM"), None);
        assert_eq!(Verb::from_word(""), None);
        assert_eq!(Verb::Mail.usage(), "MAIL FROM:<sender> [params]");
    }

    #[test]
    fn lint_messages() {
        let cases = [
            (
                Lint::SpaceAfterColon,
                "a space after \"FROM:\"/\"TO:\" is not allowed by RFC 5321; many servers accept \
                 it, some refuse it",
            ),
            (
                Lint::ParamNotAdvertised(s("SIZE=10")),
                "\"SIZE=10\" belongs to the SIZE extension, which the server did not advertise; \
                 expect 555",
            ),
            (
                Lint::BadArguments(Verb::Bdat),
                "this does not match \"BDAT <size> [LAST]\"; it is sent as typed, expect 501",
            ),
            (
                Lint::NoTransaction(Verb::Rcpt),
                "RCPT with no MAIL FROM accepted: the server will answer 503",
            ),
        ];
        for (lint, want) in cases {
            assert_eq!(lint.message(), want);
            assert_eq!(lint.to_string(), want);
        }
    }

    #[test]
    fn debug_hides_credentials() {
        let typed = read_typed("AUTH PLAIN AGFsaWNlAHNlY3JldA==", &LintContext::default());
        let shown = format!("{typed:?}");
        assert!(!shown.contains("AGFsaWNl"), "{shown}");
        assert!(shown.contains("PLAIN"), "{shown}");
        let no_ir = format!("{:?}", read_typed("AUTH LOGIN", &LintContext::default()));
        assert!(no_ir.contains("AUTH LOGIN\\r\\n"), "{no_ir}");
    }

    fn domain() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9]{1,10}(\\.[a-z0-9-]{1,10}){0,3}",
            "\\[192\\.0\\.2\\.[0-9]{1,3}\\]",
        ]
    }

    fn path() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just(s("postmaster")),
            ("[A-Za-z0-9._+-]{1,12}", domain()).prop_map(|(local, d)| format!("{local}@{d}")),
            ("\"[a-z <>@:,]{1,10}\"", domain()).prop_map(|(local, d)| format!("{local}@{d}")),
            (domain(), domain(), domain()).prop_map(|(a, b, c)| format!("@{a},@{b}:u@{c}")),
        ]
    }

    fn params() -> impl Strategy<Value = Vec<Param>> {
        proptest::collection::vec(
            prop_oneof![
                "SIZE=[0-9]{1,9}",
                Just(s("BODY=8BITMIME")),
                Just(s("SMTPUTF8")),
                "ENVID=[A-Za-z0-9+]{1,10}",
                "X-[A-Z]{1,4}=[!-~]{1,8}",
                "ORCPT=rfc822;[!-~]{1,12}",
            ]
            .prop_map(|word: String| Param::parse(&word)),
            0..4,
        )
    }

    /// Printable ASCII without blanks at either end: trailing blanks do not
    /// survive the `trim_end` of the round trip, leading ones are separators.
    fn text() -> impl Strategy<Value = String> {
        "[!-~]([ -~]{0,20}[!-~])?"
    }

    fn command() -> impl Strategy<Value = Command> {
        prop_oneof![
            domain().prop_map(Command::Helo),
            domain().prop_map(Command::Ehlo),
            domain().prop_map(Command::Lhlo),
            (path(), params()).prop_map(|(reverse_path, params)| Command::Mail {
                reverse_path,
                params
            }),
            (path(), params()).prop_map(|(forward_path, params)| Command::Rcpt {
                forward_path,
                params
            }),
            Just(Command::Data),
            (any::<u64>(), any::<bool>()).prop_map(|(size, last)| Command::Bdat { size, last }),
            Just(Command::Rset),
            text().prop_map(Command::Vrfy),
            text().prop_map(Command::Expn),
            proptest::option::of(text()).prop_map(Command::Help),
            proptest::option::of(text()).prop_map(Command::Noop),
            Just(Command::Quit),
            Just(Command::StartTls),
            (
                "[A-Z0-9_-]{1,20}",
                proptest::option::of(prop_oneof![Just(s("=")), "[A-Za-z0-9+/]{1,40}={0,2}"]),
            )
                .prop_map(|(mechanism, initial_response)| Command::Auth {
                    mechanism,
                    initial_response
                }),
            text().prop_map(Command::Etrn),
        ]
    }

    proptest! {
        #[test]
        fn display_reads_back(cmd in command()) {
            let wire = cmd.to_string();
            let typed = read_typed(wire.trim_end(), &LintContext::default());
            prop_assert_eq!(typed.command.as_ref(), Some(&cmd));
            prop_assert_eq!(typed.verb, Some(cmd.verb()));
            prop_assert_eq!(typed.wire, wire);
        }

        #[test]
        fn reader_never_panics_and_keeps_the_line(line in "\\PC{0,80}") {
            let caps = Capabilities::from_lines(POSTFIX_PLAIN.iter().copied());
            let typed = read_typed(&line, &in_session(&caps));
            prop_assert_eq!(typed.wire, format!("{}\r\n", line.trim_end_matches(['\r', '\n'])));
        }
    }
}
