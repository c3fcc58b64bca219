//! The meta-commands: lines starting with `:`.
//!
//! One table ([`COMMANDS`]) drives parsing, `:help` and completion, so a
//! command cannot be documented one way and parsed another. Which lines are
//! meta-commands (and that `::` sends one literal `:`) is decided by the
//! session's one classifier, [`crate::session::Input`].

use thiserror::Error;

use crate::session::expect::{ExpectError, Expectation};

/// One meta-command as `:help` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MetaCommand {
    /// The name without the colon.
    pub name: &'static str,
    /// The arguments, for usage lines.
    pub args: &'static str,
    /// One line: what it does.
    pub summary: &'static str,
    /// An example line.
    pub example: &'static str,
}

/// Every meta-command.
pub(crate) const COMMANDS: &[MetaCommand] = &[
    MetaCommand {
        name: "help",
        args: "[COMMAND]",
        summary: "list the meta-commands, or explain one",
        example: ":help expect",
    },
    MetaCommand {
        name: "expect",
        args: "CODE[|CODE…] [ENHANCED]",
        summary: "check the last reply (after '.', the message's final reply); codes may use x: 2xx, 25x",
        example: ":expect 550 5.1.1",
    },
    MetaCommand {
        name: "explain",
        args: "CODE…",
        summary: "explain reply codes, enhanced codes or a reply line",
        example: ":explain 451 4.7.1",
    },
    MetaCommand {
        name: "caps",
        args: "",
        summary: "the capabilities of the last EHLO, one per line with what each means",
        example: ":caps",
    },
    MetaCommand {
        name: "ehlo",
        args: "[NAME]",
        summary: "EHLO with NAME (default: --ehlo, else this machine's name); HELO only after 500/502",
        example: ":ehlo pc0815.example.com",
    },
    MetaCommand {
        name: "starttls",
        args: "",
        summary: "STARTTLS, the handshake and its report, EHLO again, and what changed in the capabilities",
        example: ":starttls",
    },
    MetaCommand {
        name: "tls",
        args: "[pem [FILE]]",
        summary: "the report of the current TLS session; 'pem' prints or writes the certificate chain",
        example: ":tls pem chain.pem",
    },
    MetaCommand {
        name: "auth",
        args: "MECH [USER]",
        summary: "authenticate with PLAIN, LOGIN, CRAM-MD5 or XOAUTH2; the password is asked for, never shown",
        example: ":auth plain alice",
    },
    MetaCommand {
        name: "send",
        args: "--to ADDR… [--from ADDR] [--subject S] [--body TEXT|--file F] [--header 'H: v']…",
        summary: "a whole test mail as an MTA sends it, then a table per recipient",
        example: ":send --from a@example.org --to b@example.org --subject Test",
    },
    MetaCommand {
        name: "again",
        args: "",
        summary: "repeat the last :send",
        example: ":again",
    },
    MetaCommand {
        name: "data",
        args: "FILE",
        summary: "DATA, then the file as the message (CRLF and dot-stuffing done), streamed",
        example: ":data message.eml",
    },
    MetaCommand {
        name: "bdat",
        args: "FILE [--chunk BYTES]",
        summary: "send the file with BDAT chunks (CHUNKING), exact byte counts",
        example: ":bdat message.eml --chunk 65536",
    },
    MetaCommand {
        name: "raw",
        args: "STRING",
        summary: "send exact bytes, no CRLF added; escapes \\r \\n \\t \\\\ \\xNN",
        example: ":raw \"MAIL FROM:<a@example.org>\\n\"",
    },
    MetaCommand {
        name: "pipeline",
        args: "",
        summary: "the following lines, up to a lone '.', go out at once; each reply is matched to its command",
        example: ":pipeline",
    },
    MetaCommand {
        name: "log",
        args: "FILE|off",
        summary: "copy the transcript (secrets redacted) to FILE, or stop",
        example: ":log session.txt",
    },
    MetaCommand {
        name: "save",
        args: "FILE",
        summary: "write what was sent so far as a script, with :expect lines, for --script",
        example: ":save check.smtp",
    },
    MetaCommand {
        name: "demo",
        args: "inbox | show N",
        summary: "with --demo: what the embedded server received, or one message",
        example: ":demo inbox",
    },
    MetaCommand {
        name: "timing",
        args: "on|off",
        summary: "show how long each reply took",
        example: ":timing on",
    },
    MetaCommand {
        name: "hex",
        args: "on|off",
        summary: "show the exact bytes sent and received as a hex dump (secrets excepted)",
        example: ":hex on",
    },
    MetaCommand {
        name: "reconnect",
        args: "",
        summary: "interactive: end this connection (QUIT if it is open) and open a new one to the same server",
        example: ":reconnect",
    },
    MetaCommand {
        name: "quit",
        args: "",
        summary: "send QUIT and end the session",
        example: ":quit",
    },
];

/// A parsed meta-command.
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
        mechanism: crate::proto::auth::Mechanism,
        user: Option<String>,
    },
    /// `:send …` (the words after it).
    Send(Vec<String>),
    /// `:again`.
    Again,
    /// `:data FILE`.
    Data(std::path::PathBuf),
    /// `:bdat FILE [--chunk N]`.
    Bdat {
        path: std::path::PathBuf,
        chunk: usize,
    },
    /// `:raw STRING`, unescaped.
    Raw(Vec<u8>),
    /// `:pipeline`: the block follows.
    Pipeline,
    /// `:log FILE` or `:log off` (`None`).
    Log(Option<std::path::PathBuf>),
    /// `:save FILE`.
    Save(std::path::PathBuf),
    /// `:starttls`.
    StartTls,
    /// `:demo …` (the words after it).
    Demo(Vec<String>),
    /// `:tls`, or `:tls pem [FILE]` (`Some(None)`: print the chain).
    Tls(Option<Option<std::path::PathBuf>>),
}

/// The default BDAT chunk size.
pub(crate) const DEFAULT_CHUNK: usize = 1024 * 1024;

/// A meta-command line that cannot be understood.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetaError {
    /// No such command.
    #[error("unknown meta-command ':{0}' (:help lists them; '::' at the start sends one ':')")]
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
    let rest = rest.trim();
    let command = find(name).ok_or_else(|| MetaError::Unknown(name.to_string()))?;
    let usage = || MetaError::Usage {
        name: command.name,
        args: command.args,
    };
    let words: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
    match command.name {
        "help" => match words.as_slice() {
            [] => Ok(Meta::Help(None)),
            [one] => Ok(Meta::Help(Some(one.trim_start_matches(':').to_string()))),
            _ => Err(usage()),
        },
        "expect" => Ok(Meta::Expect(Expectation::parse(rest)?)),
        "explain" if !words.is_empty() => Ok(Meta::Explain(words)),
        "caps" if words.is_empty() => Ok(Meta::Caps),
        "timing" => on_off(rest).map(Meta::Timing).ok_or_else(usage),
        "hex" => on_off(rest).map(Meta::Hex).ok_or_else(usage),
        "reconnect" if words.is_empty() => Ok(Meta::Reconnect),
        "quit" if words.is_empty() => Ok(Meta::Quit),
        "ehlo" => match words.as_slice() {
            [] => Ok(Meta::Ehlo(None)),
            [name] => Ok(Meta::Ehlo(Some(name.clone()))),
            _ => Err(usage()),
        },
        "auth" => match words.as_slice() {
            [mech] | [mech, _] => Ok(Meta::Auth {
                mechanism: mech.parse().map_err(|e: crate::proto::auth::AuthError| {
                    MetaError::Invalid(e.to_string())
                })?,
                user: words.get(1).cloned(),
            }),
            _ => Err(usage()),
        },
        "send" => shlex::split(rest)
            .map(Meta::Send)
            .ok_or_else(|| MetaError::Invalid("unbalanced quotes in :send".into())),
        "again" if words.is_empty() => Ok(Meta::Again),
        "data" => match shlex::split(rest).as_deref() {
            Some([path]) => Ok(Meta::Data(path.into())),
            _ => Err(usage()),
        },
        "bdat" => match shlex::split(rest).as_deref() {
            Some([path]) => Ok(Meta::Bdat {
                path: path.into(),
                chunk: DEFAULT_CHUNK,
            }),
            Some([path, flag, n]) | Some([flag, n, path]) if flag == "--chunk" => {
                let chunk = n.parse::<usize>().ok().filter(|c| *c > 0).ok_or_else(|| {
                    MetaError::Invalid(format!("--chunk wants a number of bytes, not '{n}'"))
                })?;
                Ok(Meta::Bdat {
                    path: path.into(),
                    chunk,
                })
            }
            _ => Err(usage()),
        },
        "raw" if !rest.is_empty() => Ok(Meta::Raw(unescape(strip_quotes(rest))?)),
        "pipeline" if words.is_empty() => Ok(Meta::Pipeline),
        "log" => match shlex::split(rest).as_deref() {
            Some([off]) if off == "off" => Ok(Meta::Log(None)),
            Some([path]) => Ok(Meta::Log(Some(path.into()))),
            _ => Err(usage()),
        },
        "starttls" if words.is_empty() => Ok(Meta::StartTls),
        "demo" if !words.is_empty() => Ok(Meta::Demo(words)),
        "tls" => match shlex::split(rest).as_deref() {
            Some([]) => Ok(Meta::Tls(None)),
            Some([pem]) if pem == "pem" => Ok(Meta::Tls(Some(None))),
            Some([pem, path]) if pem == "pem" => Ok(Meta::Tls(Some(Some(path.into())))),
            _ => Err(usage()),
        },
        "save" => match shlex::split(rest).as_deref() {
            Some([path]) => Ok(Meta::Save(path.into())),
            _ => Err(usage()),
        },
        _ => Err(usage()),
    }
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

/// `on` or `off`, any case.
fn on_off(arg: &str) -> Option<bool> {
    match arg.to_ascii_lowercase().as_str() {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

/// The words a command's argument can be, for completion: `on`/`off` for
/// an `on|off` switch, command names for `:help`.
pub(crate) fn argument_words(command: &MetaCommand) -> Vec<&'static str> {
    if command.args == "on|off" {
        vec!["on", "off"]
    } else if command.args == "[COMMAND]" {
        COMMANDS.iter().map(|c| c.name).collect()
    } else {
        Vec::new()
    }
}

/// The text of `:help` or `:help COMMAND`.
pub fn help(topic: Option<&str>) -> Result<Vec<String>, MetaError> {
    match topic {
        None => {
            let width = COMMANDS
                .iter()
                .map(|c| c.name.len() + c.args.len() + 2)
                .max()
                .unwrap_or(0);
            let mut lines: Vec<String> = COMMANDS
                .iter()
                .map(|c| {
                    let usage = format!(":{} {}", c.name, c.args);
                    format!("{usage:width$}  {}", c.summary)
                })
                .collect();
            lines.push("Any other line is sent as typed; '::' at the start sends one ':'.".into());
            Ok(lines)
        }
        Some(name) => {
            let c = find(name).ok_or_else(|| MetaError::Unknown(name.to_string()))?;
            Ok(vec![
                format!("usage: :{} {}", c.name, c.args)
                    .trim_end()
                    .to_string(),
                c.summary.to_string(),
                format!("example: {}", c.example),
            ])
        }
    }
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
        for c in COMMANDS {
            let lines = help(Some(c.name)).unwrap();
            assert!(lines[0].starts_with(&format!("usage: :{}", c.name)));
            let example = c.example.strip_prefix(':').unwrap();
            assert!(parse(example).is_ok(), "{}", c.example);
        }
        assert_eq!(help(None).unwrap().len(), COMMANDS.len() + 1);
    }

    #[test]
    fn argument_words_come_from_the_table() {
        assert_eq!(argument_words(find("hex").unwrap()), ["on", "off"]);
        assert!(argument_words(find("help").unwrap()).contains(&"reconnect"));
        assert!(argument_words(find("caps").unwrap()).is_empty());
    }
}
