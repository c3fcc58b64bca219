//! The demo server's command reader: one line from a client into a
//! [`Command`] (the same values smtpcli sends), or why it is refused.
//!
//! This is the server's side of the grammar, so it is strict where the
//! client's reader (`proto::command::read_typed`) only lints: a path needs
//! its angle brackets, a parameter must be one the demo server offers, a
//! control character or bytes that are not UTF-8 refuse the line. What a
//! command means in the dialog (its order, the size limit, the credentials)
//! is the session's business, not this module's.

use crate::proto::command::{Command, Param, Verb};

/// Why a line is not a command the server takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Not a command this server knows (LHLO included: it is not LMTP).
    Unrecognized,
    /// An empty line.
    Empty,
    /// Bytes that are not UTF-8.
    BadUtf8,
    /// A control character (a bare CR, a NUL, an escape) in the line.
    Control,
    /// The verb is known, its arguments are not: the syntax to use.
    Syntax(&'static str),
    /// A MAIL or RCPT parameter the server does not take, as written.
    Unsupported(String),
}

/// Reads one command line, its line ending already removed.
pub(super) fn read(line: &[u8]) -> Result<Command, Refusal> {
    let line = std::str::from_utf8(line).map_err(|_| Refusal::BadUtf8)?;
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Refusal::Control);
    }
    let line = line.trim_end_matches([' ', '\t']);
    if line.is_empty() {
        return Err(Refusal::Empty);
    }
    let (word, rest) = match line.split_once([' ', '\t']) {
        Some((word, rest)) => (word, rest.trim_start_matches([' ', '\t'])),
        None => (line, ""),
    };
    let verb = Verb::from_word(word).ok_or(Refusal::Unrecognized)?;
    let words: Vec<&str> = rest.split_ascii_whitespace().collect();
    let text = || (!rest.is_empty()).then(|| rest.to_string());
    match verb {
        Verb::Helo => one_word(&words, "HELO hostname").map(Command::Helo),
        Verb::Ehlo => one_word(&words, "EHLO hostname").map(Command::Ehlo),
        // Not a proxy's server: as a Postfix without authorized hosts.
        Verb::Lhlo | Verb::XClient | Verb::XForward => Err(Refusal::Unrecognized),
        Verb::Mail => {
            let (reverse_path, params) = path(rest, "FROM:", "MAIL FROM:<address>")?;
            let params = params_of(&params, is_mail_param)?;
            Ok(Command::Mail {
                reverse_path,
                params,
            })
        }
        Verb::Rcpt => {
            let (forward_path, params) = path(rest, "TO:", "RCPT TO:<address>")?;
            let params = params_of(&params, is_rcpt_param)?;
            Ok(Command::Rcpt {
                forward_path,
                params,
            })
        }
        Verb::Data => no_words(&words, "DATA").map(|()| Command::Data),
        Verb::Bdat => bdat(&words),
        Verb::Rset => no_words(&words, "RSET").map(|()| Command::Rset),
        Verb::Quit => no_words(&words, "QUIT").map(|()| Command::Quit),
        Verb::StartTls => no_words(&words, "STARTTLS").map(|()| Command::StartTls),
        Verb::Noop => Ok(Command::Noop(text())),
        Verb::Help => Ok(Command::Help(text())),
        Verb::Vrfy => text()
            .map(Command::Vrfy)
            .ok_or(Refusal::Syntax("VRFY address")),
        Verb::Expn => text()
            .map(Command::Expn)
            .ok_or(Refusal::Syntax("EXPN mailing-list")),
        Verb::Etrn => text()
            .map(Command::Etrn)
            .ok_or(Refusal::Syntax("ETRN domain")),
        Verb::Auth => match words[..] {
            [mechanism] | [mechanism, _] => Ok(Command::Auth {
                mechanism: mechanism.to_ascii_uppercase(),
                initial_response: words.get(1).map(|r| r.to_string()),
            }),
            _ => Err(Refusal::Syntax("AUTH mechanism [initial-response]")),
        },
    }
}

fn one_word(words: &[&str], usage: &'static str) -> Result<String, Refusal> {
    match words {
        [word] => Ok(word.to_string()),
        _ => Err(Refusal::Syntax(usage)),
    }
}

fn no_words(words: &[&str], usage: &'static str) -> Result<(), Refusal> {
    match words {
        [] => Ok(()),
        _ => Err(Refusal::Syntax(usage)),
    }
}

/// `BDAT count [LAST]`: the count in decimal digits only.
fn bdat(words: &[&str]) -> Result<Command, Refusal> {
    let syntax = Refusal::Syntax("BDAT count [LAST]");
    let (count, last) = match words {
        [count] => (*count, false),
        [count, last] if last.eq_ignore_ascii_case("LAST") => (*count, true),
        _ => return Err(syntax),
    };
    if !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax);
    }
    let size = count.parse::<u64>().map_err(|_| syntax)?;
    Ok(Command::Bdat { size, last })
}

/// `FROM:<path> params` (or `TO:`): the path without its brackets (and
/// without a source route, which RFC 5321 §4.1.1.3 says to ignore), and the
/// parameter words.
fn path<'a>(
    rest: &'a str,
    key: &str,
    usage: &'static str,
) -> Result<(String, Vec<&'a str>), Refusal> {
    let syntax = || Refusal::Syntax(usage);
    let head = rest.get(..key.len()).ok_or_else(syntax)?;
    if !head.eq_ignore_ascii_case(key) {
        return Err(syntax());
    }
    let after = rest[key.len()..].trim_start_matches([' ', '\t']);
    let inner = after.strip_prefix('<').ok_or_else(syntax)?;
    let end = closing_bracket(inner).ok_or_else(syntax)?;
    let (address, tail) = (&inner[..end], &inner[end + 1..]);
    if !(tail.is_empty() || tail.starts_with([' ', '\t'])) {
        return Err(syntax());
    }
    let address = match address.strip_prefix('@') {
        Some(routed) => match routed.split_once(':') {
            Some((_, mailbox)) => mailbox,
            None => return Err(syntax()),
        },
        None => address,
    };
    Ok((address.to_string(), tail.split_ascii_whitespace().collect()))
}

/// Where the `>` that closes a path is, passing over quoted strings (a
/// local part such as `"a>b"`) and their backslash escapes.
fn closing_bracket(text: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '>' if !quoted => return Some(i),
            '<' if !quoted => return None,
            _ => {}
        }
    }
    None
}

fn params_of(words: &[&str], allowed: fn(&Param) -> bool) -> Result<Vec<Param>, Refusal> {
    words
        .iter()
        .map(|word| {
            let param = Param::parse(word);
            if allowed(&param) {
                Ok(param)
            } else {
                Err(Refusal::Unsupported(word.to_string()))
            }
        })
        .collect()
}

/// What MAIL takes: the parameters of SIZE, 8BITMIME/BINARYMIME, SMTPUTF8,
/// DSN, REQUIRETLS, and AUTH= (RFC 4954 §5: a server offering AUTH must
/// take it).
fn is_mail_param(param: &Param) -> bool {
    match param {
        Param::Size(_) | Param::SmtpUtf8 | Param::EnvId(_) => true,
        Param::Body(body) => matches!(body.as_str(), "7BIT" | "8BITMIME" | "BINARYMIME"),
        Param::Ret(ret) => matches!(ret.as_str(), "FULL" | "HDRS"),
        Param::Other(word) => word
            .split_once('=')
            .is_some_and(|(key, value)| key.eq_ignore_ascii_case("AUTH") && !value.is_empty()),
        // Over TLS only: the session says so.
        Param::RequireTls => true,
        Param::Notify(_) | Param::Orcpt { .. } => false,
    }
}

/// What RCPT takes: the DSN parameters (RFC 3461).
fn is_rcpt_param(param: &Param) -> bool {
    match param {
        Param::Notify(notify) => {
            notify == "NEVER"
                || notify
                    .split(',')
                    .all(|n| matches!(n, "SUCCESS" | "FAILURE" | "DELAY"))
        }
        Param::Orcpt { .. } => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(path: &str, params: &[&str]) -> Command {
        Command::Mail {
            reverse_path: path.into(),
            params: params.iter().map(|p| Param::parse(p)).collect(),
        }
    }

    fn rcpt(path: &str, params: &[&str]) -> Command {
        Command::Rcpt {
            forward_path: path.into(),
            params: params.iter().map(|p| Param::parse(p)).collect(),
        }
    }

    #[test]
    fn commands_are_read_into_values() {
        let cases: &[(&str, Command)] = &[
            (
                "EHLO client.example",
                Command::Ehlo("client.example".into()),
            ),
            (
                "ehlo client.example  ",
                Command::Ehlo("client.example".into()),
            ),
            ("HELO [127.0.0.1]", Command::Helo("[127.0.0.1]".into())),
            ("MAIL FROM:<a@b>", mail("a@b", &[])),
            ("mail from: <a@b>", mail("a@b", &[])),
            ("MAIL FROM:<>", mail("", &[])),
            (
                "MAIL FROM:<a@b> SIZE=100 BODY=8bitmime SMTPUTF8 RET=HDRS ENVID=QQ+2B1",
                mail(
                    "a@b",
                    &[
                        "SIZE=100",
                        "BODY=8BITMIME",
                        "SMTPUTF8",
                        "RET=HDRS",
                        "ENVID=QQ+2B1",
                    ],
                ),
            ),
            (
                "MAIL FROM:<a@b> BODY=BINARYMIME",
                mail("a@b", &["BODY=BINARYMIME"]),
            ),
            ("MAIL FROM:<a@b> AUTH=<>", mail("a@b", &["AUTH=<>"])),
            ("MAIL FROM:<\"a>b\"@c>", mail("\"a>b\"@c", &[])),
            ("RCPT TO:<@relay.example:c@d>", rcpt("c@d", &[])),
            (
                "RCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+2Bx@d",
                rcpt("c@d", &["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;c+2Bx@d"]),
            ),
            (
                "RCPT TO:<Postmaster> NOTIFY=never",
                rcpt("Postmaster", &["NOTIFY=NEVER"]),
            ),
            ("DATA", Command::Data),
            (
                "BDAT 100",
                Command::Bdat {
                    size: 100,
                    last: false,
                },
            ),
            (
                "bdat 0 last",
                Command::Bdat {
                    size: 0,
                    last: true,
                },
            ),
            ("RSET", Command::Rset),
            ("NOOP", Command::Noop(None)),
            (
                "NOOP hello there",
                Command::Noop(Some("hello there".into())),
            ),
            ("QUIT", Command::Quit),
            ("StartTLS", Command::StartTls),
            ("VRFY demo", Command::Vrfy("demo".into())),
            (
                "AUTH plain AGRlbW8AeA==",
                Command::Auth {
                    mechanism: "PLAIN".into(),
                    initial_response: Some("AGRlbW8AeA==".into()),
                },
            ),
            (
                "AUTH LOGIN",
                Command::Auth {
                    mechanism: "LOGIN".into(),
                    initial_response: None,
                },
            ),
            (
                "MAIL FROM:<jörg@bücher.example> SMTPUTF8",
                mail("jörg@bücher.example", &["SMTPUTF8"]),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(read(line.as_bytes()).as_ref(), Ok(want), "{line}");
        }
    }

    #[test]
    fn refusals_say_why() {
        let cases: &[(&[u8], Refusal)] = &[
            (b"", Refusal::Empty),
            (b"   ", Refusal::Empty),
            (b"HELLO", Refusal::Unrecognized),
            (b"LHLO x", Refusal::Unrecognized),
            (b"MAIL\xff", Refusal::BadUtf8),
            (b"NOOP a\rRSET", Refusal::Control),
            (b"NOOP \x1b[2J", Refusal::Control),
            (b"EHLO", Refusal::Syntax("EHLO hostname")),
            (b"HELO a b", Refusal::Syntax("HELO hostname")),
            (b"MAIL FROM:a@b", Refusal::Syntax("MAIL FROM:<address>")),
            (b"MAIL TO:<a@b>", Refusal::Syntax("MAIL FROM:<address>")),
            (b"MAIL FROM:<a@b", Refusal::Syntax("MAIL FROM:<address>")),
            (
                b"MAIL FROM:<a@b>SIZE=1",
                Refusal::Syntax("MAIL FROM:<address>"),
            ),
            (b"MAIL", Refusal::Syntax("MAIL FROM:<address>")),
            (b"RCPT TO:", Refusal::Syntax("RCPT TO:<address>")),
            (b"DATA now", Refusal::Syntax("DATA")),
            (b"BDAT", Refusal::Syntax("BDAT count [LAST]")),
            (b"BDAT -1", Refusal::Syntax("BDAT count [LAST]")),
            (b"BDAT +1", Refusal::Syntax("BDAT count [LAST]")),
            (
                b"BDAT 99999999999999999999999",
                Refusal::Syntax("BDAT count [LAST]"),
            ),
            (b"BDAT 1 FIRST", Refusal::Syntax("BDAT count [LAST]")),
            (b"STARTTLS now", Refusal::Syntax("STARTTLS")),
            (b"VRFY", Refusal::Syntax("VRFY address")),
            (
                b"AUTH",
                Refusal::Syntax("AUTH mechanism [initial-response]"),
            ),
            (
                b"MAIL FROM:<a@b> X-FOO=1",
                Refusal::Unsupported("X-FOO=1".into()),
            ),
            (
                b"MAIL FROM:<a@b> BODY=9BIT",
                Refusal::Unsupported("BODY=9BIT".into()),
            ),
            (
                b"MAIL FROM:<a@b> SIZE=ten",
                Refusal::Unsupported("SIZE=ten".into()),
            ),
            (
                b"MAIL FROM:<a@b> NOTIFY=SUCCESS",
                Refusal::Unsupported("NOTIFY=SUCCESS".into()),
            ),
            (
                b"RCPT TO:<a@b> RET=FULL",
                Refusal::Unsupported("RET=FULL".into()),
            ),
            (
                b"RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS",
                Refusal::Unsupported("NOTIFY=NEVER,SUCCESS".into()),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(
                read(line).as_ref(),
                Err(want),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
