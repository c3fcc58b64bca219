//! Basic SMTP reply codes (RFC 5321 §4.2): the three digits at the start of
//! every reply, what their class and category digits mean, and a table of
//! what each well-known code tells an administrator.
//!
//! This module owns the `ReplyCode` value type and the static table of code
//! meanings. It does not parse reply lines (that is `reply`), and it does not
//! judge whether a code fits the command it answers (that is the session's
//! business). A code outside the table is still a valid `ReplyCode`: servers
//! are free to use codes nobody registered, and we report them as received.

use std::fmt;
use std::str::FromStr;

/// A three-digit SMTP reply code, kept exactly as the digits were received
/// (0 to 999), even when its first or second digit means nothing in SMTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// Wraps a number as a reply code; `None` if it needs more than three digits.
    pub fn new(value: u16) -> Option<Self> {
        (value <= 999).then_some(Self(value))
    }

    /// Reads a reply code from exactly three ASCII digits; anything else
    /// (fewer, more, signs, spaces) gives `None`.
    pub fn from_digits(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
                let digit = |d: &u8| u16::from(d - b'0');
                Some(Self(digit(a) * 100 + digit(b) * 10 + digit(c)))
            }
            _ => None,
        }
    }

    /// The code as a number, e.g. `550`.
    pub fn value(self) -> u16 {
        self.0
    }

    /// What the first digit says about the outcome; `None` for 0 and 6–9,
    /// which SMTP does not define.
    pub fn class(self) -> Option<Class> {
        // `self.0 <= 999`, so the quotient fits in a u8.
        Class::from_digit((self.0 / 100) as u8)
    }

    /// What the second digit says the reply is about; `None` for 6–9.
    pub fn category(self) -> Option<Category> {
        Category::from_digit(((self.0 / 10) % 10) as u8)
    }

    /// 1xx, 2xx or 3xx: the command was accepted (perhaps pending more input).
    pub fn is_positive(self) -> bool {
        matches!(
            self.class(),
            Some(
                Class::PositivePreliminary
                    | Class::PositiveCompletion
                    | Class::PositiveIntermediate
            )
        )
    }

    /// 4xx: failed for now; the same request may succeed later.
    pub fn is_transient_negative(self) -> bool {
        self.class() == Some(Class::TransientNegative)
    }

    /// 5xx: failed; repeating the same request will fail again.
    pub fn is_permanent_negative(self) -> bool {
        self.class() == Some(Class::PermanentNegative)
    }

    /// The meaning of this code, if it is one we know.
    pub fn info(self) -> Option<&'static CodeInfo> {
        lookup(self.0)
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

/// Why a string is not a reply code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseReplyCodeError {
    /// The string does not have exactly three characters.
    #[error("a reply code has exactly three digits, not {found} characters")]
    Length {
        /// How many characters the string had.
        found: usize,
    },
    /// Three characters, but not all of them ASCII digits.
    #[error("a reply code is made of the digits 0-9 only")]
    NotDigit,
}

impl FromStr for ReplyCode {
    type Err = ParseReplyCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let found = s.chars().count();
        if found != 3 {
            return Err(ParseReplyCodeError::Length { found });
        }
        Self::from_digits(s.as_bytes()).ok_or(ParseReplyCodeError::NotDigit)
    }
}

/// The first digit of a reply code (RFC 5321 §4.2.1): how the command fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// 1yz: accepted, another reply follows. No SMTP command uses it.
    PositivePreliminary,
    /// 2yz: done.
    PositiveCompletion,
    /// 3yz: accepted, waiting for more input (DATA, AUTH).
    PositiveIntermediate,
    /// 4yz: not done this time; a retry may work.
    TransientNegative,
    /// 5yz: not done, and a retry as is will not work either.
    PermanentNegative,
}

impl Class {
    /// The digit this class stands for, 1 to 5.
    pub fn digit(self) -> u8 {
        match self {
            Self::PositivePreliminary => 1,
            Self::PositiveCompletion => 2,
            Self::PositiveIntermediate => 3,
            Self::TransientNegative => 4,
            Self::PermanentNegative => 5,
        }
    }

    /// The class a first digit stands for; `None` outside 1 to 5.
    pub fn from_digit(d: u8) -> Option<Self> {
        match d {
            1 => Some(Self::PositivePreliminary),
            2 => Some(Self::PositiveCompletion),
            3 => Some(Self::PositiveIntermediate),
            4 => Some(Self::TransientNegative),
            5 => Some(Self::PermanentNegative),
            _ => None,
        }
    }

    /// A short lower-case name, e.g. "permanent failure".
    pub fn title(self) -> &'static str {
        match self {
            Self::PositivePreliminary => "preliminary",
            Self::PositiveCompletion => "success",
            Self::PositiveIntermediate => "intermediate",
            Self::TransientNegative => "temporary failure",
            Self::PermanentNegative => "permanent failure",
        }
    }

    /// One sentence on what the class means for the client.
    pub fn summary(self) -> &'static str {
        match self {
            Self::PositivePreliminary => {
                "The command was accepted and a further reply will follow; no SMTP command \
                 is defined to answer like this."
            }
            Self::PositiveCompletion => "The request was carried out; go on with the next command.",
            Self::PositiveIntermediate => {
                "The command was accepted and the server now waits for more input, such as \
                 the message after DATA or the next line of an AUTH exchange."
            }
            Self::TransientNegative => {
                "The request failed for now but nothing is wrong with it: retry the same \
                 thing later."
            }
            Self::PermanentNegative => {
                "The request failed and will fail again as it is: change the command, the \
                 address or the message before trying again."
            }
        }
    }
}

/// The second digit of a reply code (RFC 5321 §4.2.1): what the reply is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// x0z: syntax errors, or commands that fit no other category.
    Syntax,
    /// x1z: replies to requests for information, such as status or help.
    Information,
    /// x2z: the transmission channel.
    Connections,
    /// x3z: not assigned by RFC 5321 (AUTH uses it, e.g. 235, 334, 535).
    Unspecified3,
    /// x4z: not assigned by RFC 5321.
    Unspecified4,
    /// x5z: the state of the receiver's mail system.
    MailSystem,
}

impl Category {
    /// The digit this category stands for, 0 to 5.
    pub fn digit(self) -> u8 {
        match self {
            Self::Syntax => 0,
            Self::Information => 1,
            Self::Connections => 2,
            Self::Unspecified3 => 3,
            Self::Unspecified4 => 4,
            Self::MailSystem => 5,
        }
    }

    /// The category a second digit stands for; `None` outside 0 to 5.
    pub fn from_digit(d: u8) -> Option<Self> {
        match d {
            0 => Some(Self::Syntax),
            1 => Some(Self::Information),
            2 => Some(Self::Connections),
            3 => Some(Self::Unspecified3),
            4 => Some(Self::Unspecified4),
            5 => Some(Self::MailSystem),
            _ => None,
        }
    }

    /// A short lower-case name, e.g. "mail system".
    pub fn title(self) -> &'static str {
        match self {
            Self::Syntax => "syntax",
            Self::Information => "information",
            Self::Connections => "connections",
            Self::Unspecified3 | Self::Unspecified4 => "unspecified",
            Self::MailSystem => "mail system",
        }
    }
}

/// What a known reply code means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CodeInfo {
    /// The code, e.g. `550`.
    pub code: u16,
    /// A short phrase, close to the defining RFC's wording.
    pub title: &'static str,
    /// One or two plain sentences for an administrator.
    pub explanation: &'static str,
    /// Where the code is defined, e.g. "RFC 5321 §4.2.3".
    pub rfc: &'static str,
}

/// The meaning of `code`, if it is in the table.
pub fn lookup(code: u16) -> Option<&'static CodeInfo> {
    CODES
        .binary_search_by_key(&code, |info| info.code)
        .ok()
        .and_then(|i| CODES.get(i))
}

/// Every code we know, in ascending order.
pub fn all() -> &'static [CodeInfo] {
    CODES
}

const RFC5321: &str = "RFC 5321 §4.2.3";

/// Sorted by code, so that `lookup` can search it; a test checks the order.
///
/// Codes that the enhanced status code registry names as "associated" but
/// that no RFC gives a meaning (422, 430, 453, 524, 533) are left out rather
/// than guessed at.
static CODES: &[CodeInfo] = &[
    CodeInfo {
        code: 211,
        title: "System status, or system help reply",
        explanation: "Status or help information, usually in answer to HELP; purely informational.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 214,
        title: "Help message",
        explanation: "Help text for a human, usually the answer to HELP; nothing to act on.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 220,
        title: "Service ready",
        explanation: "The greeting (banner) on a new connection: the server is ready for EHLO. \
                      In answer to STARTTLS it means: start the TLS handshake now.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 221,
        title: "Service closing transmission channel",
        explanation: "The server says goodbye, normally after QUIT, and closes the connection. \
                      Nothing went wrong.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 235,
        title: "Authentication succeeded",
        explanation: "AUTH worked: the session is now authenticated, and the server may now \
                      accept mail it would not relay for an anonymous client.",
        rfc: "RFC 4954 §6",
    },
    CodeInfo {
        code: 250,
        title: "Requested mail action okay, completed",
        explanation: "The command was accepted and carried out. After the final \".\" of DATA \
                      it means the server has taken responsibility for the message; the text \
                      often carries its queue id.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 251,
        title: "User not local; will forward",
        explanation: "The recipient is not local to this server, but it accepted the address \
                      and will forward the message. This is a success.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 252,
        title: "Cannot VRFY user, but will accept message and attempt delivery",
        explanation: "The server will not confirm whether the address exists (VRFY is often \
                      disabled against address harvesting) but will take mail for it and try. \
                      It means \"cannot verify, will try\", not a failure.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 253,
        title: "OK, <n> pending messages for node <x> started",
        explanation: "Answer to ETRN: the server has started delivering the mail it held for \
                      the domain you named; the text usually says how many messages.",
        rfc: "RFC 1985",
    },
    CodeInfo {
        code: 334,
        title: "Server challenge",
        explanation: "An AUTH exchange is under way and the server waits for your next line. \
                      The text is a base64 challenge (empty for PLAIN; \"Username:\" and \
                      \"Password:\" for LOGIN).",
        rfc: "RFC 4954 §4",
    },
    CodeInfo {
        code: 354,
        title: "Start mail input",
        explanation: "The server accepted DATA and now waits for the message: headers, a blank \
                      line, the body, and a line holding only \".\" to end it.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 421,
        title: "Service not available, closing transmission channel",
        explanation: "The server is closing the connection: after an idle timeout, because it \
                      is overloaded or shutting down, or because it will not talk to you now. \
                      It is temporary: reconnect later.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 432,
        title: "A password transition is needed",
        explanation: "AUTH with this mechanism is refused until the account has been moved to \
                      it: authenticate once with PLAIN (over TLS), then the mechanism should \
                      work.",
        rfc: "RFC 4954 §6",
    },
    CodeInfo {
        code: 450,
        title: "Requested mail action not taken: mailbox unavailable",
        explanation: "The mailbox cannot be used right now: busy, blocked for a while by \
                      policy, or very often greylisting, which turns away a new sender once \
                      and accepts the retry. Try again in a few minutes.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 451,
        title: "Requested action aborted: local error in processing",
        explanation: "A temporary problem on the server's side (a failed lookup, a filter or \
                      queue error), or greylisting of a sender it has not seen before. Retry \
                      later, usually after several minutes.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 452,
        title: "Requested action not taken: insufficient system storage",
        explanation: "The server is short of space, or (after RCPT) has taken as many \
                      recipients as it will in one transaction. Temporary: send the remaining \
                      recipients in a later transaction, or retry later.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 454,
        title: "TLS not available due to temporary reason; temporary authentication failure",
        explanation: "After STARTTLS: the server cannot start TLS right now. After AUTH: the \
                      server could not check the credentials for a reason of its own, such as \
                      an unreachable password database. Retry later.",
        rfc: "RFC 3207 §4; RFC 4954 §6",
    },
    CodeInfo {
        code: 455,
        title: "Server unable to accommodate parameters",
        explanation: "The server cannot handle the parameters given with MAIL or RCPT at the \
                      moment. Temporary: retry later, or without the parameter.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 458,
        title: "Unable to queue messages for node <x>",
        explanation: "Answer to ETRN: the server cannot start delivering the mail held for \
                      that domain right now. Retry later.",
        rfc: "RFC 1985",
    },
    CodeInfo {
        code: 459,
        title: "Node <x> not allowed: <reason>",
        explanation: "Answer to ETRN: the server will not release queued mail for that domain \
                      to this client; the text gives the reason.",
        rfc: "RFC 1985",
    },
    CodeInfo {
        code: 500,
        title: "Syntax error, command unrecognized",
        explanation: "The server did not recognise the command, or the line was too long. \
                      In answer to EHLO it means the server speaks only old SMTP: fall back to \
                      HELO.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 501,
        title: "Syntax error in parameters or arguments",
        explanation: "The command is known but its arguments are malformed, for instance an \
                      address without angle brackets, a stray character, or an invalid name \
                      after EHLO.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 502,
        title: "Command not implemented",
        explanation: "The server does not support this command, or has it switched off (VRFY, \
                      EXPN and ETRN often are). In answer to EHLO: fall back to HELO.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 503,
        title: "Bad sequence of commands",
        explanation: "The command came in the wrong order, e.g. RCPT before MAIL, DATA before \
                      an accepted RCPT, or MAIL before EHLO. Some servers also use it to say \
                      that AUTH is needed first.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 504,
        title: "Command parameter not implemented",
        explanation: "The command is supported but not with this parameter, e.g. an AUTH \
                      mechanism the server does not offer.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 521,
        title: "Host does not accept mail",
        explanation: "This host never accepts mail; it is sent as the greeting or to every \
                      command by machines that exist only to refuse SMTP. Do not retry here.",
        rfc: "RFC 7504",
    },
    CodeInfo {
        code: 523,
        title: "Encryption needed",
        explanation: "The requested AUTH mechanism (usually one that sends the password in \
                      the clear) needs an encrypted connection: issue STARTTLS first or use a \
                      stronger mechanism.",
        rfc: "RFC 5248",
    },
    CodeInfo {
        code: 525,
        title: "User account disabled",
        explanation: "The credentials were right but the account is disabled; retyping the \
                      password will not help, the administrator has to re-enable it.",
        rfc: "RFC 5248",
    },
    CodeInfo {
        code: 530,
        title: "Authentication required; must issue a STARTTLS command first",
        explanation: "The server wants something done before it goes on: AUTH (with 5.7.0) or \
                      STARTTLS. The text says which.",
        rfc: "RFC 3207 §4; RFC 4954 §6",
    },
    CodeInfo {
        code: 534,
        title: "Authentication mechanism is too weak",
        explanation: "Server policy does not allow this AUTH mechanism for this user; retry \
                      with a stronger one.",
        rfc: "RFC 4954 §6",
    },
    CodeInfo {
        code: 535,
        title: "Authentication credentials invalid",
        explanation: "AUTH failed: wrong user name or password, or credentials the server will \
                      not accept. Check them; repeated failures may get the client blocked.",
        rfc: "RFC 4954 §6",
    },
    CodeInfo {
        code: 538,
        title: "Encryption required for requested authentication mechanism",
        explanation: "This AUTH mechanism may only be used on an encrypted connection: issue \
                      STARTTLS first.",
        rfc: "RFC 4954 §6",
    },
    CodeInfo {
        code: 550,
        title: "Requested action not taken: mailbox unavailable",
        explanation: "The most common refusal: no such mailbox, relaying denied, or a policy \
                      check (blocklist, SPF, DKIM, DMARC, spam filter) said no. The enhanced \
                      code and the text tell which; retrying unchanged will not help.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 551,
        title: "User not local; please try <forward-path>",
        explanation: "The recipient is not handled here and the server will not forward the \
                      message; the text may name the address to use instead.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 552,
        title: "Requested mail action aborted: exceeded storage allocation",
        explanation: "The message is larger than the server accepts (see SIZE in the EHLO \
                      reply), or the recipient's mailbox is over quota.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 553,
        title: "Requested action not taken: mailbox name not allowed",
        explanation: "The address is not acceptable: bad syntax, a sender the server refuses \
                      to relay for, or non-ASCII characters without SMTPUTF8 (RFC 6531).",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 554,
        title: "Transaction failed",
        explanation: "As the greeting (\"No SMTP service here\") it means the server rejected \
                      you before any command, often because of your IP address's reputation. \
                      After DATA it means the message itself was refused, typically by a spam \
                      or content filter.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 555,
        title: "MAIL FROM/RCPT TO parameters not recognized or not implemented",
        explanation: "A parameter on MAIL or RCPT (such as SIZE=, BODY=, SMTPUTF8 or \
                      REQUIRETLS) is not supported; use only those the EHLO reply advertised.",
        rfc: RFC5321,
    },
    CodeInfo {
        code: 556,
        title: "Domain does not accept mail",
        explanation: "The recipient's domain accepts no mail at all, usually because it \
                      publishes a null MX record (RFC 7505). The address cannot be reached; do \
                      not retry.",
        rfc: "RFC 7504",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn new_accepts_three_digit_values_only() {
        for (value, ok) in [
            (0, true),
            (250, true),
            (999, true),
            (1000, false),
            (u16::MAX, false),
        ] {
            assert_eq!(ReplyCode::new(value).is_some(), ok, "{value}");
        }
    }

    #[test]
    fn from_digits_needs_exactly_three_ascii_digits() {
        let cases: &[(&[u8], Option<u16>)] = &[
            (b"250", Some(250)),
            (b"000", Some(0)),
            (b"999", Some(999)),
            (b"050", Some(50)),
            (b"25", None),
            (b"2500", None),
            (b"", None),
            (b"25a", None),
            (b" 25", None),
            (b"+25", None),
            (b"-25", None),
            (b"2 5", None),
            ("٢٥٠".as_bytes(), None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                ReplyCode::from_digits(input).map(ReplyCode::value),
                *expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn from_str_accepts_only_three_digits() {
        let cases = [
            ("550", Ok(550)),
            ("007", Ok(7)),
            ("55", Err(ParseReplyCodeError::Length { found: 2 })),
            ("5500", Err(ParseReplyCodeError::Length { found: 4 })),
            ("", Err(ParseReplyCodeError::Length { found: 0 })),
            (" 550", Err(ParseReplyCodeError::Length { found: 4 })),
            ("550 ", Err(ParseReplyCodeError::Length { found: 4 })),
            ("5x0", Err(ParseReplyCodeError::NotDigit)),
            ("+50", Err(ParseReplyCodeError::NotDigit)),
            ("５５０", Err(ParseReplyCodeError::NotDigit)),
        ];
        for (input, expected) in cases {
            assert_eq!(
                input.parse::<ReplyCode>().map(ReplyCode::value),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn display_is_three_digits_zero_padded() {
        for (value, shown) in [
            (0, "000"),
            (7, "007"),
            (42, "042"),
            (250, "250"),
            (999, "999"),
        ] {
            let code = ReplyCode::new(value).unwrap();
            assert_eq!(code.to_string(), shown);
        }
    }

    #[test]
    fn class_and_category_come_from_the_digits() {
        use Category::*;
        use Class::*;
        let cases = [
            (100, Some(PositivePreliminary), Some(Syntax)),
            (211, Some(PositiveCompletion), Some(Information)),
            (220, Some(PositiveCompletion), Some(Connections)),
            (235, Some(PositiveCompletion), Some(Unspecified3)),
            (250, Some(PositiveCompletion), Some(MailSystem)),
            (334, Some(PositiveIntermediate), Some(Unspecified3)),
            (354, Some(PositiveIntermediate), Some(MailSystem)),
            (421, Some(TransientNegative), Some(Connections)),
            (445, Some(TransientNegative), Some(Unspecified4)),
            (500, Some(PermanentNegative), Some(Syntax)),
            (550, Some(PermanentNegative), Some(MailSystem)),
            (260, Some(PositiveCompletion), None),
            (599, Some(PermanentNegative), None),
            (50, None, Some(MailSystem)),
            (650, None, Some(MailSystem)),
            (999, None, None),
        ];
        for (value, class, category) in cases {
            let code = ReplyCode::new(value).unwrap();
            assert_eq!(code.class(), class, "{code}");
            assert_eq!(code.category(), category, "{code}");
        }
    }

    #[test]
    fn outcome_predicates() {
        // (code, positive, transient, permanent)
        let cases = [
            (100, true, false, false),
            (250, true, false, false),
            (354, true, false, false),
            (421, false, true, false),
            (451, false, true, false),
            (550, false, false, true),
            (554, false, false, true),
            (0, false, false, false),
            (650, false, false, false),
        ];
        for (value, positive, transient, permanent) in cases {
            let code = ReplyCode::new(value).unwrap();
            assert_eq!(code.is_positive(), positive, "{code}");
            assert_eq!(code.is_transient_negative(), transient, "{code}");
            assert_eq!(code.is_permanent_negative(), permanent, "{code}");
        }
    }

    #[test]
    fn class_digits_round_trip_and_have_text() {
        for d in 0..=9 {
            match Class::from_digit(d) {
                Some(class) => {
                    assert!((1..=5).contains(&d));
                    assert_eq!(class.digit(), d);
                    assert!(!class.title().is_empty());
                    assert!(class.summary().ends_with('.'));
                }
                None => assert!(!(1..=5).contains(&d), "{d}"),
            }
        }
        assert_eq!(Class::PermanentNegative.title(), "permanent failure");
        assert_eq!(Class::TransientNegative.title(), "temporary failure");
    }

    #[test]
    fn category_digits_round_trip_and_have_text() {
        for d in 0..=9 {
            match Category::from_digit(d) {
                Some(category) => {
                    assert!(d <= 5);
                    assert_eq!(category.digit(), d);
                    assert!(!category.title().is_empty());
                }
                None => assert!(d > 5, "{d}"),
            }
        }
        assert_eq!(Category::MailSystem.title(), "mail system");
    }

    #[test]
    fn table_is_sorted_unique_and_complete() {
        assert!(all().windows(2).all(|w| w[0].code < w[1].code));
        for info in all() {
            let code = ReplyCode::new(info.code).unwrap();
            assert!(code.class().is_some(), "{code}");
            assert!(!info.title.is_empty(), "{code}");
            assert!(info.explanation.ends_with('.'), "{code}");
            assert!(!info.explanation.contains("  "), "{code}: double space");
            assert!(info.rfc.starts_with("RFC "), "{code}");
        }
    }

    #[test]
    fn every_code_the_tool_explains_is_known() {
        let wanted = [
            211, 214, 220, 221, 235, 250, 251, 252, 334, 354, 421, 432, 450, 451, 452, 454, 455,
            500, 501, 502, 503, 504, 521, 523, 530, 534, 535, 538, 550, 551, 552, 553, 554, 555,
            556,
        ];
        for value in wanted {
            let info = lookup(value).unwrap_or_else(|| panic!("{value} missing"));
            assert_eq!(info.code, value);
            assert_eq!(ReplyCode::new(value).unwrap().info(), Some(info));
        }
    }

    #[test]
    fn lookup_of_unknown_codes() {
        for value in [0, 199, 249, 299, 422, 599, 999, 1000] {
            assert_eq!(lookup(value), None, "{value}");
        }
    }

    #[test]
    fn meanings_an_admin_relies_on() {
        let cases = [
            (220, "RFC 5321 §4.2.3", "banner"),
            (252, "RFC 5321 §4.2.3", "not a failure"),
            (421, "RFC 5321 §4.2.3", "reconnect later"),
            (450, "RFC 5321 §4.2.3", "greylisting"),
            (451, "RFC 5321 §4.2.3", "greylisting"),
            (454, "RFC 3207 §4; RFC 4954 §6", "STARTTLS"),
            (535, "RFC 4954 §6", "password"),
            (554, "RFC 5321 §4.2.3", "before any command"),
            (556, "RFC 7504", "null MX"),
        ];
        for (value, rfc, phrase) in cases {
            let info = lookup(value).unwrap();
            assert_eq!(info.rfc, rfc, "{value}");
            assert!(
                info.explanation
                    .to_lowercase()
                    .contains(&phrase.to_lowercase()),
                "{value}: {:?} lacks {phrase:?}",
                info.explanation
            );
        }
    }

    #[test]
    fn parse_error_messages_read_well() {
        assert_eq!(
            "55".parse::<ReplyCode>().unwrap_err().to_string(),
            "a reply code has exactly three digits, not 2 characters"
        );
        assert_eq!(
            "5x5".parse::<ReplyCode>().unwrap_err().to_string(),
            "a reply code is made of the digits 0-9 only"
        );
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(value in 0u16..=999) {
            let code = ReplyCode::new(value).unwrap();
            let shown = code.to_string();
            prop_assert_eq!(shown.len(), 3);
            prop_assert_eq!(shown.parse::<ReplyCode>(), Ok(code));
            prop_assert_eq!(ReplyCode::from_digits(shown.as_bytes()), Some(code));
        }

        #[test]
        fn parse_never_accepts_other_than_three_digits(s in "\\PC{0,6}") {
            let is_code = s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(s.parse::<ReplyCode>().is_ok(), is_code);
        }

        #[test]
        fn from_digits_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..6)) {
            let parsed = ReplyCode::from_digits(&bytes);
            let three_digits = bytes.len() == 3 && bytes.iter().all(u8::is_ascii_digit);
            prop_assert_eq!(parsed.is_some(), three_digits);
        }
    }
}
