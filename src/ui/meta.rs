//! The meta-commands: lines starting with `:`.
//!
//! One table ([`COMMANDS`]) holds each command's name, argument kind,
//! usage, summary, example, scope and parse function, so parsing, `:help`,
//! hints and completion cannot disagree. A parsed command is a [`Meta`]
//! value; its `Display` is the line `:save` writes to replay it. Which lines
//! are meta-commands (and that `::` sends one literal `:`) is decided by the
//! session's one classifier, [`crate::session::Input`]. Which commands
//! work where is decided by [`Place`], for the runner, `:help` and
//! completion alike.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

use crate::proto::auth::Mechanism;
use crate::session::expect::{ExpectError, Expectation};

mod args;
pub(crate) mod help;
pub(crate) mod reference;

pub(crate) use args::{ExportForm, Setting, Watch};
pub(crate) use args::{SETTINGS, parse_set, parse_watch};
pub(crate) use help::help;

/// What a command's arguments are, for completion and hints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArgKind {
    /// No argument.
    Nothing,
    /// One of these words.
    Words(&'static [&'static str]),
    /// A meta-command name (`:help`).
    Command,
    /// A file (completed from the file system).
    File,
    /// A SASL mechanism, then a user.
    Mechanism,
    /// `:send` options.
    SendOptions,
    /// `NAME=` attributes of XCLIENT (`false`) or XFORWARD (`true`): those
    /// the server advertised, and `--lax`.
    Attributes(bool),
    /// Anything (codes, a name, bytes).
    Free,
}

/// Where a command can be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Anywhere: at the prompt, in a script, piped.
    Anywhere,
    /// Only at the interactive prompt.
    Interactive,
    /// Only with `--demo`.
    Demo,
}

/// Where meta-commands are typed: which of them work there, and which
/// `:help` and completion offer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Place {
    /// A person is at the prompt (`:reconnect` works).
    pub(crate) interactive: bool,
    /// `--demo` (`:demo` works).
    pub(crate) demo: bool,
}

impl Place {
    /// Whether a command of this scope can be used here.
    pub(crate) fn allows(self, scope: Scope) -> bool {
        match scope {
            Scope::Anywhere => true,
            Scope::Interactive => self.interactive,
            Scope::Demo => self.demo,
        }
    }

    /// Whether `:help` and completion offer `command` here: `:demo` only in
    /// the demo; the interactive commands also in a script, whose author
    /// may try it at the prompt (`:help` marks them).
    pub(crate) fn offers(self, command: &MetaCommand) -> bool {
        command.scope != Scope::Demo || self.demo
    }
}

/// The words after a command's name, as its parse function sees them.
pub(crate) struct Args<'a> {
    /// Everything after the name, trimmed.
    rest: &'a str,
    /// `rest` split on white space.
    words: Vec<&'a str>,
    command: &'static MetaCommand,
}

impl Args<'_> {
    fn usage(&self) -> MetaError {
        MetaError::Usage {
            name: self.command.name,
            args: self.command.args,
        }
    }

    /// Shell-like words (quotes for names with spaces).
    fn shell_words(&self) -> Result<Vec<String>, MetaError> {
        shlex::split(self.rest).ok_or_else(|| {
            MetaError::Invalid(format!("unbalanced quotes in :{}", self.command.name))
        })
    }

    fn none(&self, meta: Meta) -> Result<Meta, MetaError> {
        if self.words.is_empty() {
            Ok(meta)
        } else {
            Err(self.usage())
        }
    }

    fn one_path(&self) -> Result<PathBuf, MetaError> {
        match self.shell_words()?.as_slice() {
            [path] => Ok(path.into()),
            _ => Err(self.usage()),
        }
    }

    fn on_off(&self) -> Result<bool, MetaError> {
        match self.rest.to_ascii_lowercase().as_str() {
            "on" => Ok(true),
            "off" => Ok(false),
            _ => Err(self.usage()),
        }
    }
}

/// One meta-command: everything parsing, help, hints and completion know.
#[derive(Debug)]
pub(crate) struct MetaCommand {
    /// The name without the colon.
    pub(crate) name: &'static str,
    /// The arguments, for usage lines and hints.
    pub(crate) args: &'static str,
    /// What the arguments are, for completion.
    pub(crate) kind: ArgKind,
    /// One line: what it does.
    pub(crate) summary: &'static str,
    /// An example line.
    pub(crate) example: &'static str,
    /// Where it can be used.
    pub(crate) scope: Scope,
    /// Reads the arguments.
    parse: fn(&Args<'_>) -> Result<Meta, MetaError>,
}

/// The options of `:send`, for completion.
pub(crate) const SEND_OPTIONS: &[&str] = &[
    "--to",
    "--auth",
    "--from",
    "--subject",
    "--body",
    "--file",
    "--header",
    "--html",
    "--attach",
    "--gtube",
    "--eicar",
    "--smtputf8",
    "--ret",
    "--envid",
    "--notify",
    "--orcpt",
    "--requiretls",
    "--body-type",
    "--bdat",
    "--lax",
];

/// Every meta-command.
pub(crate) const COMMANDS: &[MetaCommand] = &[
    MetaCommand {
        name: "help",
        args: "[COMMAND|VERB]",
        kind: ArgKind::Command,
        summary: "list the meta-commands, or explain one, or an SMTP command or EHLO keyword (syntax, parameters, RFC, replies)",
        example: ":help expect",
        scope: Scope::Anywhere,
        parse: |a| match a.words.as_slice() {
            [] => Ok(Meta::Help(None)),
            [one] => Ok(Meta::Help(Some(one.trim_start_matches(':').to_string()))),
            _ => Err(a.usage()),
        },
    },
    MetaCommand {
        name: "expect",
        args: "CODE[|CODE…] [ENHANCED] [for ADDRESS]",
        kind: ArgKind::Free,
        summary: "check the last reply (right after DATA, the 354; after '.', the message's final reply); codes may use x: 2xx, 25x",
        example: ":expect 550 5.1.1",
        scope: Scope::Anywhere,
        parse: |a| Ok(Meta::Expect(Expectation::parse(a.rest)?)),
    },
    MetaCommand {
        name: "explain",
        args: "CODE…",
        kind: ArgKind::Free,
        summary: "explain reply codes, enhanced codes or a reply line",
        example: ":explain 451 4.7.1",
        scope: Scope::Anywhere,
        parse: |a| match a.words.as_slice() {
            [] => Err(a.usage()),
            words => Ok(Meta::Explain(words.iter().map(|w| w.to_string()).collect())),
        },
    },
    MetaCommand {
        name: "caps",
        args: "",
        kind: ArgKind::Nothing,
        summary: "the capabilities of the last EHLO, one per line with what each means",
        example: ":caps",
        scope: Scope::Anywhere,
        parse: |a| a.none(Meta::Caps),
    },
    MetaCommand {
        name: "ehlo",
        args: "[NAME]",
        kind: ArgKind::Free,
        summary: "EHLO with NAME (default: --ehlo, else this machine's name); HELO only after 500/502",
        example: ":ehlo pc0815.example.com",
        scope: Scope::Anywhere,
        parse: |a| match a.words.as_slice() {
            [] => Ok(Meta::Ehlo(None)),
            [name] => Ok(Meta::Ehlo(Some(name.to_string()))),
            _ => Err(a.usage()),
        },
    },
    MetaCommand {
        name: "starttls",
        args: "",
        kind: ArgKind::Nothing,
        summary: "STARTTLS, the handshake and its report, EHLO again, and what changed in the capabilities",
        example: ":starttls",
        scope: Scope::Anywhere,
        parse: |a| a.none(Meta::StartTls),
    },
    MetaCommand {
        name: "tls",
        args: "[pem [FILE] | resume]",
        kind: ArgKind::Words(&["pem", "resume"]),
        summary: "the report of the current TLS session; 'pem' prints or writes the certificate chain; 'resume' reconnects offering the session to see whether it is resumed",
        example: ":tls pem chain.pem",
        scope: Scope::Anywhere,
        parse: |a| match a.shell_words()?.as_slice() {
            [] => Ok(Meta::Tls(None)),
            [pem] if pem == "pem" => Ok(Meta::Tls(Some(None))),
            [pem, path] if pem == "pem" => Ok(Meta::Tls(Some(Some(path.into())))),
            [resume] if resume == "resume" => Ok(Meta::TlsResume),
            _ => Err(a.usage()),
        },
    },
    MetaCommand {
        name: "auth",
        args: "MECH [USER]",
        kind: ArgKind::Mechanism,
        summary: "authenticate with PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, SCRAM-SHA-1, XOAUTH2 or OAUTHBEARER; the user (without --user) and the password are asked for, the password never shown; tokens from --token-cmd or SMTPCLI_TOKEN",
        example: ":auth plain alice",
        scope: Scope::Anywhere,
        parse: |a| match a.words.as_slice() {
            [mech] | [mech, _] => Ok(Meta::Auth {
                mechanism: mech.parse().map_err(|e: crate::proto::auth::AuthError| {
                    MetaError::Invalid(e.to_string())
                })?,
                user: a.words.get(1).map(|u| u.to_string()),
            }),
            _ => Err(a.usage()),
        },
    },
    MetaCommand {
        name: "send",
        args: "--to ADDR… [--auth MECH[:USER]] [--from ADDR] [--subject S] [--body TEXT|@FILE] [--html F] [--attach F]… [--header 'H: v']… [--gtube] [--eicar] [--notify N] [--ret R] [--envid ID] [--orcpt] [--requiretls] [--smtputf8] [--body-type T] [--bdat] [--lax]",
        kind: ArgKind::SendOptions,
        summary: "a whole test mail as an MTA sends it, then a table per recipient; envelope options the server did not advertise are refused (--lax sends them); after AUTH the sender is the login",
        example: ":send --from a@example.org --to b@example.org --subject Test",
        scope: Scope::Anywhere,
        parse: |a| Ok(Meta::Send(a.shell_words()?)),
    },
    MetaCommand {
        name: "again",
        args: "[N]",
        kind: ArgKind::Free,
        summary: "repeat the last :send; with N, run entry N of :history again (at the prompt)",
        example: ":again 3",
        scope: Scope::Anywhere,
        parse: |a| match a.words.as_slice() {
            [] => Ok(Meta::Again(None)),
            [n] => n
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .map(|n| Meta::Again(Some(n)))
                .ok_or_else(|| a.usage()),
            _ => Err(a.usage()),
        },
    },
    MetaCommand {
        name: "history",
        args: "[PATTERN]",
        kind: ArgKind::Free,
        summary: "the numbered history (lines with secrets are never kept), or the entries containing PATTERN; :again N runs one",
        example: ":history rcpt",
        scope: Scope::Interactive,
        parse: |a| match a.rest {
            "" => Ok(Meta::History(None)),
            rest => Ok(Meta::History(Some(rest.to_string()))),
        },
    },
    MetaCommand {
        name: "watch",
        args: "[--reconnect] SECONDS LINE",
        kind: ArgKind::Free,
        summary: "run LINE (a command or a :helper) every SECONDS until Ctrl-C, one line per round: time, code, latency, what changed; --reconnect uses a fresh connection each round",
        example: ":watch 5 NOOP",
        scope: Scope::Interactive,
        parse: parse_watch,
    },
    MetaCommand {
        name: "edit",
        args: "[bdat]",
        kind: ArgKind::Words(&["bdat"]),
        summary: "write the message in $VISUAL or $EDITOR, then send it with DATA (or BDAT); typed alone inside DATA, the editor takes the rest of the message",
        example: ":edit",
        scope: Scope::Interactive,
        parse: |a| match a.words.as_slice() {
            [] => Ok(Meta::Edit { bdat: false }),
            [w] if w.eq_ignore_ascii_case("bdat") => Ok(Meta::Edit { bdat: true }),
            _ => Err(a.usage()),
        },
    },
    MetaCommand {
        name: "export",
        args: "swaks|curl|script",
        kind: ArgKind::Words(&["swaks", "curl", "script"]),
        summary: "print this session as one command to run again (secrets as $SMTP_PASSWORD), or as the script :save writes",
        example: ":export swaks",
        scope: Scope::Anywhere,
        parse: |a| match a.words.as_slice() {
            [w] => match w.to_ascii_lowercase().as_str() {
                "swaks" => Ok(Meta::Export(ExportForm::Swaks)),
                "curl" => Ok(Meta::Export(ExportForm::Curl)),
                "script" => Ok(Meta::Export(ExportForm::Script)),
                _ => Err(a.usage()),
            },
            _ => Err(a.usage()),
        },
    },
    MetaCommand {
        name: "set",
        args: "[NAME VALUE]",
        kind: ArgKind::Words(SETTINGS),
        summary: "change a session setting (colour on|off, wrap on|off, timeout SECONDS, hex on|off, timing on|off); alone, list them",
        example: ":set timeout 60",
        scope: Scope::Anywhere,
        parse: parse_set,
    },
    MetaCommand {
        name: "data",
        args: "FILE",
        kind: ArgKind::File,
        summary: "DATA, then the file as the message (CRLF and dot-stuffing done), streamed",
        example: ":data message.eml",
        scope: Scope::Anywhere,
        parse: |a| a.one_path().map(Meta::Data),
    },
    MetaCommand {
        name: "bdat",
        args: "FILE [--chunk BYTES]",
        kind: ArgKind::File,
        summary: "send the file with BDAT chunks (CHUNKING), exact byte counts",
        example: ":bdat message.eml --chunk 65536",
        scope: Scope::Anywhere,
        parse: |a| match a.shell_words()?.as_slice() {
            [path] => Ok(Meta::Bdat {
                path: path.into(),
                chunk: DEFAULT_CHUNK,
            }),
            [path, flag, n] | [flag, n, path] if flag == "--chunk" => {
                let chunk = n.parse::<usize>().ok().filter(|c| *c > 0).ok_or_else(|| {
                    MetaError::Invalid(format!("--chunk wants a number of bytes, not '{n}'"))
                })?;
                Ok(Meta::Bdat {
                    path: path.into(),
                    chunk,
                })
            }
            _ => Err(a.usage()),
        },
    },
    MetaCommand {
        name: "raw",
        args: "STRING",
        kind: ArgKind::Free,
        summary: "send exact bytes, no CRLF added; escapes \\r \\n \\t \\\\ \\xNN",
        example: ":raw \"MAIL FROM:<a@example.org>\\n\"",
        scope: Scope::Anywhere,
        parse: |a| match a.rest {
            "" => Err(a.usage()),
            rest => Ok(Meta::Raw(unescape(strip_quotes(rest))?)),
        },
    },
    MetaCommand {
        name: "xclient",
        args: "[--lax] NAME=… ADDR=… [PORT=… PROTO=… HELO=… LOGIN=… DESTADDR=… DESTPORT=…]",
        kind: ArgKind::Attributes(false),
        summary: "tell a Postfix that trusts this host who the client is (XCLIENT), split into lines of 512 bytes at most, then EHLO again; only attributes it advertised, unless --lax",
        example: ":xclient NAME=mail.example.org ADDR=192.0.2.7 HELO=mail.example.org",
        scope: Scope::Anywhere,
        parse: |a| attributes(a, true),
    },
    MetaCommand {
        name: "xforward",
        args: "[--lax] NAME=… ADDR=… [PORT=… PROTO=… HELO=… IDENT=… SOURCE=…]",
        kind: ArgKind::Attributes(true),
        summary: "tell a Postfix that trusts this host who the original client was (XFORWARD), before MAIL; only attributes it advertised, unless --lax",
        example: ":xforward NAME=mail.example.org ADDR=192.0.2.7 PROTO=ESMTP",
        scope: Scope::Anywhere,
        parse: |a| attributes(a, false),
    },
    MetaCommand {
        name: "pipeline",
        args: "",
        kind: ArgKind::Nothing,
        summary: "the following lines, up to a lone '.', go out at once; each reply is matched to its command",
        example: ":pipeline",
        scope: Scope::Anywhere,
        parse: |a| a.none(Meta::Pipeline),
    },
    MetaCommand {
        name: "log",
        args: "FILE|off",
        kind: ArgKind::File,
        summary: "copy the transcript (secrets redacted) to FILE, or stop",
        example: ":log session.txt",
        scope: Scope::Anywhere,
        parse: |a| match a.shell_words()?.as_slice() {
            [off] if off == "off" => Ok(Meta::Log(None)),
            [path] => Ok(Meta::Log(Some(path.into()))),
            _ => Err(a.usage()),
        },
    },
    MetaCommand {
        name: "save",
        args: "FILE",
        kind: ArgKind::File,
        summary: "write what was sent so far as a script, with :expect lines, for --script",
        example: ":save check.smtp",
        scope: Scope::Anywhere,
        parse: |a| a.one_path().map(Meta::Save),
    },
    MetaCommand {
        name: "demo",
        args: "inbox | show N",
        kind: ArgKind::Words(&["inbox", "show"]),
        summary: "what the demo's server received, or one message",
        example: ":demo inbox",
        scope: Scope::Demo,
        parse: |a| match a.words.as_slice() {
            ["inbox"] => Ok(Meta::DemoInbox),
            ["show", n] => n
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .map(Meta::DemoShow)
                .ok_or_else(|| a.usage()),
            _ => Err(a.usage()),
        },
    },
    MetaCommand {
        name: "timing",
        args: "on|off",
        kind: ArgKind::Words(&["on", "off"]),
        summary: "show how long each reply took",
        example: ":timing on",
        scope: Scope::Anywhere,
        parse: |a| a.on_off().map(Meta::Timing),
    },
    MetaCommand {
        name: "hex",
        args: "on|off",
        kind: ArgKind::Words(&["on", "off"]),
        summary: "show the exact bytes sent and received as a hex dump (secrets excepted)",
        example: ":hex on",
        scope: Scope::Anywhere,
        parse: |a| a.on_off().map(Meta::Hex),
    },
    MetaCommand {
        name: "reconnect",
        args: "",
        kind: ArgKind::Nothing,
        summary: "end this connection (QUIT if it is open) and open a new one to the same server",
        example: ":reconnect",
        scope: Scope::Interactive,
        parse: |a| a.none(Meta::Reconnect),
    },
    MetaCommand {
        name: "quit",
        args: "",
        kind: ArgKind::Nothing,
        summary: "send QUIT and end the session",
        example: ":quit",
        scope: Scope::Anywhere,
        parse: |a| a.none(Meta::Quit),
    },
];

/// A parsed meta-command. Its `Display` is the line that does it again
/// (what `:save` writes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Meta {
    /// `:help [COMMAND]`.
    Help(Option<String>),
    /// `:expect …`.
    Expect(Expectation),
    /// `:explain …`.
    Explain(Vec<String>),
    /// `:caps`.
    Caps,
    /// `:timing on|off`.
    Timing(bool),
    /// `:hex on|off`.
    Hex(bool),
    /// `:reconnect` (interactive only).
    Reconnect,
    /// `:quit`.
    Quit,
    /// `:ehlo [NAME]`.
    Ehlo(Option<String>),
    /// `:auth MECH [USER]`.
    Auth {
        mechanism: Mechanism,
        user: Option<String>,
    },
    /// `:send …` (the words after it).
    Send(Vec<String>),
    /// `:again` (the last `:send`) or `:again N` (history entry N).
    Again(Option<usize>),
    /// `:history [PATTERN]` (interactive only).
    History(Option<String>),
    /// `:watch [--reconnect] SECONDS LINE` (interactive only).
    Watch(Watch),
    /// `:edit [bdat]` (interactive only).
    Edit { bdat: bool },
    /// `:export swaks|curl|script`.
    Export(ExportForm),
    /// `:set` (`None`: list) or `:set NAME VALUE`.
    Set(Option<Setting>),
    /// `:data FILE`.
    Data(PathBuf),
    /// `:bdat FILE [--chunk N]`.
    Bdat { path: PathBuf, chunk: usize },
    /// `:raw STRING`, unescaped.
    Raw(Vec<u8>),
    /// `:xclient [--lax] NAME=VALUE…` (values as typed; encoded when sent).
    XClient {
        attributes: Vec<(String, String)>,
        lax: bool,
    },
    /// `:xforward [--lax] NAME=VALUE…`.
    XForward {
        attributes: Vec<(String, String)>,
        lax: bool,
    },
    /// `:pipeline`: the block follows.
    Pipeline,
    /// `:log FILE` or `:log off` (`None`).
    Log(Option<PathBuf>),
    /// `:save FILE`.
    Save(PathBuf),
    /// `:starttls`.
    StartTls,
    /// `:demo inbox`.
    DemoInbox,
    /// `:demo show N`.
    DemoShow(usize),
    /// `:tls`, or `:tls pem [FILE]` (`Some(None)`: print the chain).
    Tls(Option<Option<PathBuf>>),
    /// `:tls resume`.
    TlsResume,
}

impl Meta {
    /// The table entry of this command.
    pub(crate) fn command(&self) -> &'static MetaCommand {
        let name = match self {
            Meta::Help(_) => "help",
            Meta::Expect(_) => "expect",
            Meta::Explain(_) => "explain",
            Meta::Caps => "caps",
            Meta::Timing(_) => "timing",
            Meta::Hex(_) => "hex",
            Meta::Reconnect => "reconnect",
            Meta::Quit => "quit",
            Meta::Ehlo(_) => "ehlo",
            Meta::Auth { .. } => "auth",
            Meta::Send(_) => "send",
            Meta::Again(_) => "again",
            Meta::History(_) => "history",
            Meta::Watch(_) => "watch",
            Meta::Edit { .. } => "edit",
            Meta::Export(_) => "export",
            Meta::Set(_) => "set",
            Meta::Data(_) => "data",
            Meta::Bdat { .. } => "bdat",
            Meta::Raw(_) => "raw",
            Meta::XClient { .. } => "xclient",
            Meta::XForward { .. } => "xforward",
            Meta::Pipeline => "pipeline",
            Meta::Log(_) => "log",
            Meta::Save(_) => "save",
            Meta::StartTls => "starttls",
            Meta::DemoInbox | Meta::DemoShow(_) => "demo",
            Meta::Tls(_) | Meta::TlsResume => "tls",
        };
        // Every variant names an entry of the table (a unit test checks).
        find(name).unwrap_or(&COMMANDS[0])
    }
}

impl fmt::Display for Meta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ":{}", self.command().name)?;
        let path = |p: &PathBuf| quote(&p.to_string_lossy());
        match self {
            Meta::Help(Some(topic)) => write!(f, " {topic}"),
            Meta::Expect(e) => write!(f, " {e}"),
            Meta::Explain(words) => write!(f, " {}", words.join(" ")),
            Meta::Timing(on) | Meta::Hex(on) => f.write_str(if *on { " on" } else { " off" }),
            Meta::Ehlo(Some(name)) => write!(f, " {name}"),
            Meta::Auth { mechanism, user } => {
                write!(f, " {}", mechanism.name().to_ascii_lowercase())?;
                match user {
                    Some(user) => write!(f, " {user}"),
                    None => Ok(()),
                }
            }
            Meta::Send(words) => {
                let words: Vec<String> = words.iter().map(|w| quote(w)).collect();
                write!(f, " {}", words.join(" "))
            }
            Meta::Data(p) | Meta::Save(p) | Meta::Log(Some(p)) => write!(f, " {}", path(p)),
            Meta::Log(None) => f.write_str(" off"),
            Meta::Bdat { path: p, chunk } => write!(f, " {} --chunk {chunk}", path(p)),
            Meta::Raw(bytes) => write!(f, " \"{}\"", escape_raw(bytes)),
            Meta::XClient { attributes, lax } | Meta::XForward { attributes, lax } => {
                if *lax {
                    f.write_str(" --lax")?;
                }
                attributes.iter().try_for_each(|(name, value)| {
                    write!(f, " {}", quote(&format!("{name}={value}")))
                })
            }
            Meta::Again(Some(n)) => write!(f, " {n}"),
            Meta::History(Some(pattern)) => write!(f, " {pattern}"),
            Meta::Watch(w) => {
                if w.reconnect {
                    f.write_str(" --reconnect")?;
                }
                write!(f, " {} {}", w.every.as_secs(), w.line)
            }
            Meta::Edit { bdat: true } => f.write_str(" bdat"),
            Meta::Export(form) => write!(f, " {}", form.name()),
            Meta::Set(Some(setting)) => write!(f, " {setting}"),
            Meta::DemoInbox => f.write_str(" inbox"),
            Meta::DemoShow(n) => write!(f, " show {n}"),
            Meta::Tls(Some(None)) => f.write_str(" pem"),
            Meta::Tls(Some(Some(p))) => write!(f, " pem {}", path(p)),
            Meta::TlsResume => f.write_str(" resume"),
            Meta::Help(None)
            | Meta::Caps
            | Meta::Reconnect
            | Meta::Quit
            | Meta::Ehlo(None)
            | Meta::Again(None)
            | Meta::History(None)
            | Meta::Edit { bdat: false }
            | Meta::Set(None)
            | Meta::Pipeline
            | Meta::StartTls
            | Meta::Tls(None) => Ok(()),
        }
    }
}

/// The default BDAT chunk size.
pub(crate) const DEFAULT_CHUNK: usize = 1024 * 1024;

/// A meta-command line that cannot be understood.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetaError {
    /// No such command; a close one is suggested.
    #[error("unknown meta-command :{0}{hint}", hint = help::after_unknown(.0))]
    Unknown(String),
    /// Wrong arguments; the usage line follows.
    #[error("usage: :{name} {args}")]
    Usage {
        name: &'static str,
        args: &'static str,
    },
    /// `:expect` arguments.
    #[error(transparent)]
    Expect(#[from] ExpectError),
    /// Anything else wrong with the arguments, said plainly.
    #[error("{0}")]
    Invalid(String),
}

/// Looks a command up by name.
pub(crate) fn find(name: &str) -> Option<&'static MetaCommand> {
    COMMANDS.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

/// Parses the text after the `:`.
pub fn parse(text: &str) -> Result<Meta, MetaError> {
    let text = text.trim();
    let (name, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let command = find(name).ok_or_else(|| MetaError::Unknown(name.to_string()))?;
    let rest = rest.trim();
    let args = Args {
        rest,
        words: rest.split_whitespace().collect(),
        command,
    };
    (command.parse)(&args)
}

/// Quotes a word for a saved script when it needs it.
pub(crate) fn quote(word: &str) -> String {
    shlex::try_quote(word)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| word.to_string())
}

/// Bytes back into `:raw` escapes.
pub(crate) fn escape_raw(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// `"text"` → `text`; anything else as it is.
fn strip_quotes(text: &str) -> &str {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

/// Turns `:raw` escapes into bytes: `\r`, `\n`, `\t`, `\\`, `\"`, `\0`,
/// `\xNN`. Anything else after a backslash is an error, so a typo does not
/// send something other than what was meant.
pub fn unescape(text: &str) -> Result<Vec<u8>, MetaError> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let bad = |what: &str| MetaError::Invalid(format!("bad escape in :raw: {what}"));
        match bytes.next() {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'0') => out.push(0),
            Some(b'\\') => out.push(b'\\'),
            Some(b'"') => out.push(b'"'),
            Some(b'x') => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let value = std::str::from_utf8(&hex)
                    .ok()
                    .filter(|h| h.len() == 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| bad("\\x needs two hex digits"))?;
                out.push(value);
            }
            Some(other) => return Err(bad(&format!("\\{}", other as char))),
            None => return Err(bad("a lone backslash at the end")),
        }
    }
    Ok(out)
}

/// The words a command's argument can be, for completion in `place`.
pub(crate) fn argument_words(command: &MetaCommand, place: Place) -> Vec<&'static str> {
    match command.kind {
        ArgKind::Words(words) => words.to_vec(),
        // The meta-commands, then the SMTP commands and keywords `:help VERB`
        // explains (those that are not also a meta-command's name).
        ArgKind::Command => {
            let mut words: Vec<&'static str> = COMMANDS
                .iter()
                .filter(|c| place.offers(c))
                .map(|c| c.name)
                .collect();
            words.extend(
                crate::proto::reference::TOPICS
                    .iter()
                    .map(|t| t.name)
                    .filter(|name| find(name).is_none()),
            );
            words
        }
        ArgKind::Mechanism => Mechanism::all().iter().map(|m| m.name()).collect(),
        ArgKind::SendOptions => SEND_OPTIONS.to_vec(),
        ArgKind::Attributes(_) => vec!["--lax"],
        ArgKind::Nothing | ArgKind::File | ArgKind::Free => Vec::new(),
    }
}

/// `:xclient` and `:xforward` arguments: `--lax`, then `NAME=VALUE`
/// words (quotes for values with spaces); names upper-cased.
fn attributes(a: &Args<'_>, client: bool) -> Result<Meta, MetaError> {
    let mut lax = false;
    let mut attributes = Vec::new();
    for word in a.shell_words()? {
        if word == "--lax" {
            lax = true;
            continue;
        }
        let Some((name, value)) = word.split_once('=').filter(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }) else {
            return Err(MetaError::Invalid(format!(
                ":{} takes NAME=VALUE words, not {word:?}",
                a.command.name
            )));
        };
        attributes.push((name.to_ascii_uppercase(), value.to_string()));
    }
    if attributes.is_empty() {
        return Err(a.usage());
    }
    Ok(if client {
        Meta::XClient { attributes, lax }
    } else {
        Meta::XForward { attributes, lax }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_commands() {
        assert_eq!(parse("help"), Ok(Meta::Help(None)));
        assert_eq!(parse("help :expect"), Ok(Meta::Help(Some("expect".into()))));
        assert!(matches!(parse("expect 250"), Ok(Meta::Expect(_))));
        assert!(matches!(parse("EXPECT 2xx"), Ok(Meta::Expect(_))));
        assert_eq!(parse("timing on"), Ok(Meta::Timing(true)));
        assert_eq!(parse("hex OFF"), Ok(Meta::Hex(false)));
        assert_eq!(parse("tls"), Ok(Meta::Tls(None)));
        assert_eq!(parse("tls resume"), Ok(Meta::TlsResume));
        assert_eq!(parse("reconnect"), Ok(Meta::Reconnect));
        assert_eq!(
            parse("hex"),
            Err(MetaError::Usage {
                name: "hex",
                args: "on|off"
            })
        );
        assert_eq!(parse("quit"), Ok(Meta::Quit));
        assert_eq!(
            parse("explain 550 5.1.1"),
            Ok(Meta::Explain(vec!["550".into(), "5.1.1".into()]))
        );
        assert_eq!(
            parse("expcet 250"),
            Err(MetaError::Unknown("expcet".into()))
        );
        assert_eq!(
            parse("timing maybe"),
            Err(MetaError::Usage {
                name: "timing",
                args: "on|off"
            })
        );
        assert!(matches!(parse("expect"), Err(MetaError::Expect(_))));
    }

    #[test]
    fn watch_set_and_export_arguments() {
        let watch = |line: &str| match parse(line) {
            Ok(Meta::Watch(w)) => Ok((w.every.as_secs(), w.line, w.reconnect)),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e.to_string()),
        };
        assert_eq!(watch("watch 5 NOOP"), Ok((5, "NOOP".into(), false)));
        assert_eq!(
            watch("watch --reconnect 10 :starttls"),
            Ok((10, ":starttls".into(), true))
        );
        assert_eq!(
            watch("watch 10 --reconnect RCPT TO:<b@example.org>"),
            Ok((10, "RCPT TO:<b@example.org>".into(), true))
        );
        assert!(watch("watch 0 NOOP").unwrap_err().contains("once a second"));
        assert!(watch("watch 5").unwrap_err().starts_with("usage:"));
        assert!(watch("watch soon NOOP").unwrap_err().starts_with("usage:"));
        assert!(watch("watch 5 :watch 1 NOOP").is_err());
        assert!(watch("watch 5 :edit").is_err());

        assert_eq!(parse("set"), Ok(Meta::Set(None)));
        assert_eq!(
            parse("set color OFF"),
            Ok(Meta::Set(Some(Setting::Colour(false))))
        );
        assert_eq!(
            parse("set timeout 90s"),
            Ok(Meta::Set(Some(Setting::Timeout(
                std::time::Duration::from_secs(90)
            ))))
        );
        for bad in [
            "set timeout 0",
            "set timeout soon",
            "set wrap maybe",
            "set frob on",
        ] {
            assert!(matches!(parse(bad), Err(MetaError::Invalid(_))), "{bad}");
        }
        assert!(matches!(parse("set timing"), Err(MetaError::Usage { .. })));
        assert_eq!(parse("export CURL"), Ok(Meta::Export(ExportForm::Curl)));
        assert!(parse("export mutt").is_err());
        assert_eq!(parse("again"), Ok(Meta::Again(None)));
        assert_eq!(parse("again 2"), Ok(Meta::Again(Some(2))));
        assert!(parse("again 0").is_err());
        assert_eq!(parse("edit BDAT"), Ok(Meta::Edit { bdat: true }));
        assert!(parse("edit now").is_err());
    }

    #[test]
    fn raw_bytes_round_trip_through_escapes() {
        let bytes = b"MAIL FROM:<a@b>\r\n\x00\xff\"\\ ok\n";
        assert_eq!(unescape(&escape_raw(bytes)).unwrap(), bytes);
    }

    #[test]
    fn raw_escapes() {
        assert_eq!(
            parse(r#"raw "MAIL FROM:<a@b>\n""#),
            Ok(Meta::Raw(b"MAIL FROM:<a@b>\n".to_vec()))
        );
        assert_eq!(
            parse(r"raw \r\n.\r\n\x00\x7f\\ \t"),
            Ok(Meta::Raw(b"\r\n.\r\n\x00\x7f\\ \t".to_vec()))
        );
        assert!(matches!(parse(r"raw \q"), Err(MetaError::Invalid(_))));
        assert!(matches!(parse(r"raw \x4"), Err(MetaError::Invalid(_))));
        assert!(matches!(parse(r"raw abc\"), Err(MetaError::Invalid(_))));
    }

    #[test]
    fn helper_arguments() {
        assert_eq!(parse("ehlo"), Ok(Meta::Ehlo(None)));
        assert!(matches!(
            parse("auth cram-md5 alice"),
            Ok(Meta::Auth { user: Some(_), .. })
        ));
        assert!(matches!(parse("auth gssapi"), Err(MetaError::Invalid(_))));
        assert_eq!(
            parse("send --to b@example.org --subject 'Grüße aus Köln'"),
            Ok(Meta::Send(vec![
                "--to".into(),
                "b@example.org".into(),
                "--subject".into(),
                "Grüße aus Köln".into()
            ]))
        );
        assert_eq!(
            parse("bdat m.eml --chunk 100"),
            Ok(Meta::Bdat {
                path: "m.eml".into(),
                chunk: 100
            })
        );
        assert!(matches!(
            parse("bdat m.eml --chunk 0"),
            Err(MetaError::Invalid(_))
        ));
        assert_eq!(parse("log off"), Ok(Meta::Log(None)));
    }

    #[test]
    fn every_command_has_help_and_its_example_parses() {
        let everywhere = Place {
            interactive: true,
            demo: true,
        };
        for c in COMMANDS {
            let lines = help(Some(c.name), everywhere, 80).unwrap();
            assert!(lines[0].starts_with(&format!(":{}", c.name)));
            let example = c.example.strip_prefix(':').unwrap();
            assert!(parse(example).is_ok(), "{}", c.example);
        }
    }

    #[test]
    fn argument_words_come_from_the_table() {
        let prompt = Place {
            interactive: true,
            demo: false,
        };
        assert_eq!(argument_words(find("hex").unwrap(), prompt), ["on", "off"]);
        let commands = argument_words(find("help").unwrap(), prompt);
        assert!(commands.contains(&"reconnect"));
        assert!(!commands.contains(&"demo"), "{commands:?}");
        let in_demo = Place {
            demo: true,
            ..prompt
        };
        assert!(argument_words(find("help").unwrap(), in_demo).contains(&"demo"));
        assert!(argument_words(find("caps").unwrap(), prompt).is_empty());
    }

    #[test]
    fn the_display_of_a_parsed_command_is_its_save_form() {
        for line in [
            "help expect",
            "expect 550 5.1.1",
            "expect 552 5.2.2 for b@example.org",
            "explain 451 4.7.1",
            "caps",
            "ehlo pc0815.example.com",
            "ehlo",
            "starttls",
            "tls",
            "tls pem",
            "tls pem chain.pem",
            "tls resume",
            "auth plain alice",
            "auth cram-md5",
            "send --to b@example.org --subject 'Grüße aus Köln'",
            "again",
            "again 3",
            "history",
            "history rcpt to",
            "watch 5 NOOP",
            "watch --reconnect 10 :starttls",
            "edit",
            "edit bdat",
            "export swaks",
            "export script",
            "set",
            "set timeout 60",
            "set colour off",
            "data 'my message.eml'",
            "bdat m.eml --chunk 100",
            r#"raw "MAIL FROM:<a@b>\r\n\x00""#,
            "pipeline",
            "log session.txt",
            "log off",
            "save check.smtp",
            "demo inbox",
            "demo show 2",
            "timing on",
            "hex off",
            "reconnect",
            "quit",
        ] {
            let meta = parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let saved = meta.to_string();
            let again = parse(saved.strip_prefix(':').unwrap());
            assert_eq!(again.as_ref(), Ok(&meta), "{line} saved as {saved}");
        }
    }

    #[test]
    fn every_parsed_command_finds_its_table_entry() {
        for c in COMMANDS {
            let meta = parse(c.example.strip_prefix(':').unwrap()).unwrap();
            assert_eq!(meta.command().name, c.name);
        }
    }

    #[test]
    fn scopes_come_from_the_table() {
        assert_eq!(find("reconnect").unwrap().scope, Scope::Interactive);
        assert_eq!(find("demo").unwrap().scope, Scope::Demo);
        assert_eq!(find("send").unwrap().scope, Scope::Anywhere);
    }

    #[test]
    fn a_place_allows_and_offers_by_scope() {
        // (interactive, demo) → allowed, offered, for :send, :reconnect, :demo.
        let table = [
            ((false, false), [true, false, false], [true, true, false]),
            ((true, false), [true, true, false], [true, true, false]),
            ((false, true), [true, false, true], [true, true, true]),
            ((true, true), [true, true, true], [true, true, true]),
        ];
        for ((interactive, demo), allowed, offered) in table {
            let place = Place { interactive, demo };
            let commands = ["send", "reconnect", "demo"].map(|n| find(n).unwrap());
            assert_eq!(
                commands.map(|c| place.allows(c.scope)),
                allowed,
                "{place:?}"
            );
            assert_eq!(commands.map(|c| place.offers(c)), offered, "{place:?}");
        }
    }

    #[test]
    fn argument_kinds_drive_completion_words() {
        let place = Place::default();
        assert!(argument_words(find("auth").unwrap(), place).contains(&"CRAM-MD5"));
        assert!(argument_words(find("send").unwrap(), place).contains(&"--subject"));
        assert_eq!(find("data").unwrap().kind, ArgKind::File);
        assert_eq!(find("save").unwrap().kind, ArgKind::File);
    }
}
