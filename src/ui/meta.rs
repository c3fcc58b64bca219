//! The meta-commands: lines starting with `:`.
//!
//! One table ([`COMMANDS`]) drives parsing, `:help` and completion, so a
//! command cannot be documented one way and parsed another. `::` at the start
//! of a line is not a meta-command: it sends the rest with one literal `:`.

use thiserror::Error;

use crate::session::expect::{ExpectError, Expectation};

/// One meta-command as `:help` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetaCommand {
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
pub const COMMANDS: &[MetaCommand] = &[
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
        name: "tls",
        args: "",
        summary: "the TLS session: protocol, cipher, certificate chain and verdict",
        example: ":tls",
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
    /// `:tls`.
    Tls,
    /// `:reconnect` (interactive only).
    Reconnect,
    /// `:quit`.
    Quit,
}

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
}

/// What a typed or scripted line is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A meta-command line (without the leading colon).
    Meta(&'a str),
    /// A line to send, with a leading `::` reduced to `:`.
    Send(&'a [u8]),
}

/// Splits meta-command lines from lines to send.
pub fn classify(line: &[u8]) -> Line<'_> {
    if line.starts_with(b"::") {
        return Line::Send(&line[1..]);
    }
    match line.strip_prefix(b":") {
        Some(rest) => Line::Meta(std::str::from_utf8(rest).unwrap_or("")),
        None => Line::Send(line),
    }
}

/// Looks a command up by name.
pub fn find(name: &str) -> Option<&'static MetaCommand> {
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
        "tls" if words.is_empty() => Ok(Meta::Tls),
        "reconnect" if words.is_empty() => Ok(Meta::Reconnect),
        "quit" if words.is_empty() => Ok(Meta::Quit),
        _ => Err(usage()),
    }
}

fn on_off(arg: &str) -> Option<bool> {
    match arg.to_ascii_lowercase().as_str() {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

/// The words a command's argument can be, for completion: `on`/`off` for
/// an `on|off` switch, command names for `:help`.
pub fn argument_words(command: &MetaCommand) -> Vec<&'static str> {
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
    fn classify_lines() {
        assert_eq!(classify(b":expect 250"), Line::Meta("expect 250"));
        assert_eq!(classify(b"::literal"), Line::Send(b":literal"));
        assert_eq!(classify(b"MAIL FROM:<a@b>"), Line::Send(b"MAIL FROM:<a@b>"));
    }

    #[test]
    fn parse_commands() {
        assert_eq!(parse("help"), Ok(Meta::Help(None)));
        assert_eq!(parse("help :expect"), Ok(Meta::Help(Some("expect".into()))));
        assert!(matches!(parse("expect 250"), Ok(Meta::Expect(_))));
        assert!(matches!(parse("EXPECT 2xx"), Ok(Meta::Expect(_))));
        assert_eq!(parse("timing on"), Ok(Meta::Timing(true)));
        assert_eq!(parse("hex OFF"), Ok(Meta::Hex(false)));
        assert_eq!(parse("tls"), Ok(Meta::Tls));
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
