//! The offline SMTP reference behind `help VERB` and `:help VERB`: for
//! every command of RFC 5321 and every extension keyword smtpcli knows,
//! its syntax, its parameters (each with the EHLO keyword that makes it
//! usable), the RFC section, and the replies a client commonly gets with
//! what they mean.
//!
//! Plain data beside the codes ([`super::codes`]); nothing here formats
//! for a screen or knows which server is connected (the caller marks the
//! parameters a server advertised).

/// A parameter of a command (`SIZE=` on MAIL, `NOTIFY=` on RCPT…).
#[derive(Debug)]
pub struct Param {
    /// How it is written (`SIZE=n`).
    pub syntax: &'static str,
    /// The EHLO keyword that must be advertised for it, if any.
    pub needs: Option<&'static str>,
    /// What it does.
    pub meaning: &'static str,
}

/// One entry: a command, an extension keyword, or both (STARTTLS, AUTH).
#[derive(Debug)]
pub struct Topic {
    /// The upper-case word.
    pub name: &'static str,
    /// Sent as a command.
    pub verb: bool,
    /// Advertised in the EHLO reply.
    pub keyword: bool,
    /// How it is written (the command line, or the EHLO line).
    pub syntax: &'static [&'static str],
    /// What it is for, in a sentence.
    pub summary: &'static str,
    /// Its parameters.
    pub params: &'static [Param],
    /// Where it is specified.
    pub rfc: &'static str,
    /// The replies commonly seen, with what they mean here.
    pub replies: &'static [(u16, &'static str)],
}

/// The commands of RFC 5321 (§4.1.1 and §3.5): each has a [`Topic`].
pub const RFC5321_VERBS: &[&str] = &[
    "EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "VRFY", "EXPN", "HELP", "NOOP", "QUIT",
];

const AUTH_REPLIES: &[(u16, &str)] = &[
    (235, "authentication succeeded"),
    (
        334,
        "a challenge (base64): send the next response, or '*' to cancel",
    ),
    (432, "a password transition is needed"),
    (454, "temporary authentication failure: try again later"),
    (501, "a malformed response, or '*' cancelled the exchange"),
    (503, "already authenticated, or AUTH inside a transaction"),
    (504, "this mechanism is not supported"),
    (530, "authentication is required first"),
    (534, "this mechanism is too weak for this account"),
    (535, "the credentials were rejected"),
    (
        538,
        "this mechanism needs an encrypted connection: STARTTLS first",
    ),
];

const MAIL_PARAMS: &[Param] = &[
    Param {
        syntax: "SIZE=n",
        needs: Some("SIZE"),
        meaning: "the message's size in bytes, so an oversized one is refused early",
    },
    Param {
        syntax: "BODY=7BIT|8BITMIME|BINARYMIME",
        needs: Some("8BITMIME"),
        meaning: "the body's kind (BINARYMIME needs BINARYMIME and BDAT)",
    },
    Param {
        syntax: "SMTPUTF8",
        needs: Some("SMTPUTF8"),
        meaning: "addresses or headers in UTF-8",
    },
    Param {
        syntax: "RET=FULL|HDRS",
        needs: Some("DSN"),
        meaning: "how much of the message a failure report returns",
    },
    Param {
        syntax: "ENVID=xtext",
        needs: Some("DSN"),
        meaning: "the sender's own id, quoted in delivery reports",
    },
    Param {
        syntax: "AUTH=<mailbox>|<>",
        needs: Some("AUTH"),
        meaning: "the authenticated submitter this message is sent for",
    },
    Param {
        syntax: "REQUIRETLS",
        needs: Some("REQUIRETLS"),
        meaning: "every hop must relay this message over verified TLS",
    },
    Param {
        syntax: "BY=seconds;R|N",
        needs: Some("DELIVERBY"),
        meaning: "deliver within this time, or return (R) or notify (N)",
    },
    Param {
        syntax: "MT-PRIORITY=n",
        needs: Some("MT-PRIORITY"),
        meaning: "the message's priority, -9 to 9",
    },
    Param {
        syntax: "PRDR",
        needs: Some("PRDR"),
        meaning: "one reply per recipient after the message data",
    },
];

const RCPT_PARAMS: &[Param] = &[
    Param {
        syntax: "NOTIFY=NEVER|SUCCESS,FAILURE,DELAY",
        needs: Some("DSN"),
        meaning: "which delivery reports the sender wants for this recipient",
    },
    Param {
        syntax: "ORCPT=rfc822;address",
        needs: Some("DSN"),
        meaning: "the original recipient, as delivery reports should name it",
    },
];

/// Every entry: RFC 5321's commands first, then the extensions.
pub const TOPICS: &[Topic] = &[
    Topic {
        name: "EHLO",
        verb: true,
        keyword: false,
        syntax: &["EHLO domain", "EHLO [address-literal]"],
        summary: "open the session and ask for the server's extensions (one per reply line)",
        params: &[],
        rfc: "RFC 5321 §4.1.1.1",
        replies: &[
            (
                250,
                "greeted: the lines after the first list the extensions",
            ),
            (500, "EHLO is not known: fall back to HELO"),
            (501, "the name is malformed"),
            (502, "EHLO is not implemented: fall back to HELO"),
            (504, "the name's form is not accepted"),
            (550, "refused (policy): HELO will not help"),
            (421, "the server is closing the connection"),
        ],
    },
    Topic {
        name: "HELO",
        verb: true,
        keyword: false,
        syntax: &["HELO domain"],
        summary: "open the session without extensions (only after EHLO got 500 or 502)",
        params: &[],
        rfc: "RFC 5321 §4.1.1.1",
        replies: &[
            (250, "greeted"),
            (501, "the name is malformed"),
            (504, "the name's form is not accepted"),
            (550, "refused (policy)"),
            (421, "the server is closing the connection"),
        ],
    },
    Topic {
        name: "LHLO",
        verb: true,
        keyword: false,
        syntax: &["LHLO domain"],
        summary: "LMTP's EHLO: open the session with an LMTP server (--lmtp)",
        params: &[],
        rfc: "RFC 2033 §4.1",
        replies: &[
            (
                250,
                "greeted: the lines after the first list the extensions",
            ),
            (500, "not an LMTP server (try EHLO)"),
            (501, "the name is malformed"),
        ],
    },
    Topic {
        name: "MAIL",
        verb: true,
        keyword: false,
        syntax: &[
            "MAIL FROM:<reverse-path> [parameters]",
            "MAIL FROM:<> (a bounce)",
        ],
        summary: "start a transaction: the envelope sender, where bounces go",
        params: MAIL_PARAMS,
        rfc: "RFC 5321 §4.1.1.2",
        replies: &[
            (250, "sender accepted"),
            (451, "local error: try again later"),
            (452, "insufficient storage: try again later"),
            (455, "a parameter cannot be accommodated now"),
            (
                503,
                "bad sequence: EHLO first, or a transaction is already open (RSET)",
            ),
            (530, "authentication is required first"),
            (550, "the sender is refused (policy, SPF, unknown domain)"),
            (552, "the declared SIZE exceeds the server's limit"),
            (553, "the address is malformed or not allowed"),
            (555, "a parameter is not recognised or not implemented"),
        ],
    },
    Topic {
        name: "RCPT",
        verb: true,
        keyword: false,
        syntax: &[
            "RCPT TO:<forward-path> [parameters]",
            "RCPT TO:<postmaster>",
        ],
        summary: "add one recipient to the transaction (repeat for each)",
        params: RCPT_PARAMS,
        rfc: "RFC 5321 §4.1.1.3",
        replies: &[
            (250, "recipient accepted"),
            (251, "not local; will forward"),
            (252, "cannot verify the user, but will try to deliver"),
            (
                450,
                "mailbox unavailable now (greylisting, busy): retry later",
            ),
            (451, "local error: try again later"),
            (
                452,
                "too many recipients, or no storage: send the rest later",
            ),
            (455, "a parameter cannot be accommodated now"),
            (503, "bad sequence: MAIL first"),
            (550, "no such user, or relaying denied"),
            (551, "not local; the reply names where to send it"),
            (552, "the mailbox is full"),
            (553, "the address is malformed"),
            (554, "the transaction failed (often policy)"),
            (555, "a parameter is not recognised or not implemented"),
        ],
    },
    Topic {
        name: "DATA",
        verb: true,
        keyword: false,
        syntax: &[
            "DATA",
            "(after 354) the message, lines ending CRLF, a leading '.' doubled",
            ".",
        ],
        summary: "send the message text; a lone '.' ends it and brings the final reply",
        params: &[],
        rfc: "RFC 5321 §4.1.1.4",
        replies: &[
            (354, "go ahead: send the message, end with a lone '.'"),
            (250, "(after the '.') the message is accepted: queued"),
            (450, "(after the '.') not taken now: retry later"),
            (451, "(after the '.') local error: retry later"),
            (452, "(after the '.') insufficient storage: retry later"),
            (503, "bad sequence: no accepted recipient yet"),
            (550, "(after the '.') rejected (content, policy)"),
            (552, "(after the '.') the message is too big"),
            (
                554,
                "no valid recipients, or (after the '.') the message is rejected",
            ),
        ],
    },
    Topic {
        name: "RSET",
        verb: true,
        keyword: false,
        syntax: &["RSET"],
        summary: "abandon the current transaction; the session stays",
        params: &[],
        rfc: "RFC 5321 §4.1.1.5",
        replies: &[(250, "the transaction is reset")],
    },
    Topic {
        name: "VRFY",
        verb: true,
        keyword: true,
        syntax: &["VRFY string", "250-VRFY (advertised by some servers)"],
        summary: "ask whether a user or mailbox exists (often disabled)",
        params: &[],
        rfc: "RFC 5321 §4.1.1.6",
        replies: &[
            (250, "the mailbox exists"),
            (251, "not local; will forward"),
            (252, "cannot verify, but will accept mail for it"),
            (502, "VRFY is disabled"),
            (504, "this form is not supported"),
            (550, "no such mailbox"),
            (551, "not local"),
            (553, "ambiguous: several mailboxes match"),
        ],
    },
    Topic {
        name: "EXPN",
        verb: true,
        keyword: true,
        syntax: &["EXPN string", "250-EXPN (advertised by some servers)"],
        summary: "ask for the members of a mailing list (almost always disabled)",
        params: &[],
        rfc: "RFC 5321 §4.1.1.7",
        replies: &[
            (250, "the members, one per line"),
            (252, "cannot expand, but will accept mail for it"),
            (502, "EXPN is disabled"),
            (504, "this form is not supported"),
            (550, "no such list"),
        ],
    },
    Topic {
        name: "HELP",
        verb: true,
        keyword: true,
        syntax: &["HELP [string]", "250-HELP (advertised by some servers)"],
        summary: "ask the server for help text (what it says is up to it)",
        params: &[],
        rfc: "RFC 5321 §4.1.1.8",
        replies: &[
            (211, "system status"),
            (214, "help text"),
            (502, "HELP is not implemented"),
            (504, "no help on this topic"),
        ],
    },
    Topic {
        name: "NOOP",
        verb: true,
        keyword: false,
        syntax: &["NOOP [string]"],
        summary: "do nothing: check that the server is alive (the string is ignored)",
        params: &[],
        rfc: "RFC 5321 §4.1.1.9",
        replies: &[
            (250, "alive"),
            (421, "the server is closing the connection"),
        ],
    },
    Topic {
        name: "QUIT",
        verb: true,
        keyword: false,
        syntax: &["QUIT"],
        summary: "end the session; the server replies and closes",
        params: &[],
        rfc: "RFC 5321 §4.1.1.10",
        replies: &[(221, "goodbye: the server closes the connection")],
    },
    Topic {
        name: "STARTTLS",
        verb: true,
        keyword: true,
        syntax: &["STARTTLS", "250-STARTTLS"],
        summary: "upgrade the connection to TLS; everything said before is forgotten, EHLO again",
        params: &[],
        rfc: "RFC 3207 §4",
        replies: &[
            (220, "ready: the TLS handshake follows at once"),
            (454, "TLS is not available now"),
            (501, "STARTTLS takes no argument"),
            (503, "TLS is already active"),
        ],
    },
    Topic {
        name: "AUTH",
        verb: true,
        keyword: true,
        syntax: &[
            "AUTH mechanism [initial-response]",
            "250-AUTH PLAIN LOGIN CRAM-MD5",
        ],
        summary: "authenticate with a SASL mechanism the server listed (:auth does it safely)",
        params: &[],
        rfc: "RFC 4954 §4",
        replies: AUTH_REPLIES,
    },
    Topic {
        name: "BDAT",
        verb: true,
        keyword: false,
        syntax: &["BDAT size [LAST]", "(then exactly size bytes)"],
        summary: "send the message in chunks of exact byte counts, no dot-stuffing (needs CHUNKING)",
        params: &[],
        rfc: "RFC 3030 §2",
        replies: &[
            (250, "chunk received (after LAST: the message is accepted)"),
            (
                503,
                "bad sequence: no accepted recipient, or mixed with DATA",
            ),
            (552, "the message is too big"),
            (554, "the transaction failed"),
        ],
    },
    Topic {
        name: "ETRN",
        verb: true,
        keyword: true,
        syntax: &["ETRN domain", "ETRN @domain", "ETRN #queue"],
        summary: "ask the server to run its queue for a domain (to a host that was offline)",
        params: &[],
        rfc: "RFC 1985 §5",
        replies: &[
            (250, "the queue run has started"),
            (251, "no messages waiting"),
            (252, "pending messages for the node started"),
            (253, "pending messages started (the count follows)"),
            (458, "cannot queue messages for the node"),
            (459, "the node is not allowed"),
            (500, "ETRN is not known"),
            (501, "the argument is malformed"),
        ],
    },
    Topic {
        name: "XCLIENT",
        verb: true,
        keyword: true,
        syntax: &[
            "XCLIENT attribute=value …",
            "250-XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT",
        ],
        summary: "Postfix: a trusted proxy says who the real client is (:xclient does it)",
        params: &[],
        rfc: "Postfix XCLIENT_README",
        replies: &[
            (220, "accepted: a new greeting; EHLO again"),
            (501, "a bad attribute or value"),
            (503, "not inside a transaction"),
            (550, "this client is not authorized to use XCLIENT"),
        ],
    },
    Topic {
        name: "XFORWARD",
        verb: true,
        keyword: true,
        syntax: &[
            "XFORWARD attribute=value …",
            "250-XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE",
        ],
        summary: "Postfix: a trusted content filter passes on who the original client was",
        params: &[],
        rfc: "Postfix XFORWARD_README",
        replies: &[
            (250, "accepted"),
            (501, "a bad attribute or value"),
            (503, "not inside a transaction"),
            (550, "this client is not authorized to use XFORWARD"),
        ],
    },
    Topic {
        name: "SIZE",
        verb: false,
        keyword: true,
        syntax: &["250-SIZE [maximum]", "MAIL FROM:<a@example.org> SIZE=n"],
        summary: "the largest message accepted, in bytes (0 or none: no limit announced)",
        params: &MAIL_PARAMS_SIZE,
        rfc: "RFC 1870 §4",
        replies: &[
            (452, "not enough room now for a message this size"),
            (552, "the message exceeds the limit"),
        ],
    },
    Topic {
        name: "PIPELINING",
        verb: false,
        keyword: true,
        syntax: &["250-PIPELINING"],
        summary: "commands may be sent in a batch without waiting for each reply (:pipeline)",
        params: &[],
        rfc: "RFC 2920 §3",
        replies: &[(
            554,
            "some servers refuse a client that talks before its turn without it",
        )],
    },
    Topic {
        name: "8BITMIME",
        verb: false,
        keyword: true,
        syntax: &["250-8BITMIME", "MAIL FROM:<a@example.org> BODY=8BITMIME"],
        summary: "message bodies may carry 8-bit text",
        params: &MAIL_PARAMS_BODY,
        rfc: "RFC 6152 §2",
        replies: &[(555, "the BODY value is not recognised")],
    },
    Topic {
        name: "BINARYMIME",
        verb: false,
        keyword: true,
        syntax: &[
            "250-BINARYMIME",
            "MAIL FROM:<a@example.org> BODY=BINARYMIME",
        ],
        summary: "binary message bodies, sent with BDAT only",
        params: &MAIL_PARAMS_BODY,
        rfc: "RFC 3030 §3",
        replies: &[(503, "DATA after BODY=BINARYMIME: use BDAT")],
    },
    Topic {
        name: "CHUNKING",
        verb: false,
        keyword: true,
        syntax: &["250-CHUNKING", "BDAT size [LAST]"],
        summary: "the message may be sent with BDAT in exact-size chunks (:bdat)",
        params: &[],
        rfc: "RFC 3030 §2",
        replies: &[(250, "each chunk is acknowledged")],
    },
    Topic {
        name: "SMTPUTF8",
        verb: false,
        keyword: true,
        syntax: &["250-SMTPUTF8", "MAIL FROM:<jörg@example.org> SMTPUTF8"],
        summary: "addresses and headers may be UTF-8 when MAIL says SMTPUTF8",
        params: &MAIL_PARAMS_UTF8,
        rfc: "RFC 6531 §3.4",
        replies: &[
            (553, "a UTF-8 address without SMTPUTF8 on MAIL"),
            (555, "SMTPUTF8 is not supported"),
        ],
    },
    Topic {
        name: "DSN",
        verb: false,
        keyword: true,
        syntax: &[
            "250-DSN",
            "MAIL FROM:<a@example.org> RET=HDRS ENVID=id",
            "RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.org",
        ],
        summary: "delivery status notifications: which reports the sender wants, and how much",
        params: &DSN_PARAMS,
        rfc: "RFC 3461 §4",
        replies: &[(501, "a malformed DSN parameter")],
    },
    Topic {
        name: "ENHANCEDSTATUSCODES",
        verb: false,
        keyword: true,
        syntax: &[
            "250-ENHANCEDSTATUSCODES",
            "550 5.1.1 <b@example.org>: unknown user",
        ],
        summary: "replies carry an enhanced status code (class.subject.detail); :explain reads them",
        params: &[],
        rfc: "RFC 2034 §3",
        replies: &[],
    },
    Topic {
        name: "REQUIRETLS",
        verb: false,
        keyword: true,
        syntax: &["250-REQUIRETLS", "MAIL FROM:<a@example.org> REQUIRETLS"],
        summary: "the message must travel over verified TLS on every hop, or bounce",
        params: &MAIL_PARAMS_REQUIRETLS,
        rfc: "RFC 8689 §4",
        replies: &[(530, "REQUIRETLS needs an encrypted connection")],
    },
    Topic {
        name: "DELIVERBY",
        verb: false,
        keyword: true,
        syntax: &[
            "250-DELIVERBY [minimum]",
            "MAIL FROM:<a@example.org> BY=120;R",
        ],
        summary: "a deadline for delivery, with return or notice when it passes",
        params: &MAIL_PARAMS_BY,
        rfc: "RFC 2852 §4",
        replies: &[(501, "a malformed BY value")],
    },
    Topic {
        name: "MT-PRIORITY",
        verb: false,
        keyword: true,
        syntax: &[
            "250-MT-PRIORITY [policy]",
            "MAIL FROM:<a@example.org> MT-PRIORITY=3",
        ],
        summary: "a priority for the message, from -9 to 9",
        params: &MAIL_PARAMS_PRIORITY,
        rfc: "RFC 6710 §4",
        replies: &[(501, "a priority out of range")],
    },
    Topic {
        name: "PRDR",
        verb: false,
        keyword: true,
        syntax: &["250-PRDR", "MAIL FROM:<a@example.org> PRDR"],
        summary: "after the message, one reply per recipient, then the overall one",
        params: &MAIL_PARAMS_PRDR,
        rfc: "draft-hall-prdr §3",
        replies: &[(353, "per-recipient replies follow")],
    },
    Topic {
        name: "PIPECONNECT",
        verb: false,
        keyword: true,
        syntax: &["250-PIPECONNECT"],
        summary: "Exim: a client that remembers this may send EHLO before the banner next time",
        params: &[],
        rfc: "Exim specification §49.10",
        replies: &[],
    },
    Topic {
        name: "LIMITS",
        verb: false,
        keyword: true,
        syntax: &["250-LIMITS RCPTMAX=100 MAILMAX=10 RCPTDOMAINMAX=5"],
        summary: "how many recipients, domains and transactions the server takes",
        params: &[],
        rfc: "RFC 9422 §5",
        replies: &[(
            452,
            "too many recipients: send the rest in another transaction",
        )],
    },
];

const MAIL_PARAMS_SIZE: [Param; 1] = [param(0)];
const MAIL_PARAMS_BODY: [Param; 1] = [param(1)];
const MAIL_PARAMS_UTF8: [Param; 1] = [param(2)];
const DSN_PARAMS: [Param; 4] = [param(3), param(4), rcpt_param(0), rcpt_param(1)];
const MAIL_PARAMS_REQUIRETLS: [Param; 1] = [param(6)];
const MAIL_PARAMS_BY: [Param; 1] = [param(7)];
const MAIL_PARAMS_PRIORITY: [Param; 1] = [param(8)];
const MAIL_PARAMS_PRDR: [Param; 1] = [param(9)];

/// MAIL's parameter `i`, for an extension's entry.
const fn param(i: usize) -> Param {
    copy(&MAIL_PARAMS[i])
}

/// RCPT's parameter `i`, for an extension's entry.
const fn rcpt_param(i: usize) -> Param {
    copy(&RCPT_PARAMS[i])
}

const fn copy(p: &Param) -> Param {
    Param {
        syntax: p.syntax,
        needs: p.needs,
        meaning: p.meaning,
    }
}

/// The entry for a command or keyword, in any case.
pub fn topic(name: &str) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::command::Verb;
    use crate::proto::ehlo::KNOWN_KEYWORDS;

    #[test]
    fn every_rfc_5321_verb_every_verb_sent_and_every_known_keyword_has_an_entry() {
        let verbs = Verb::all().iter().map(|v| v.name());
        for name in RFC5321_VERBS.iter().copied().chain(verbs) {
            let t = topic(name).unwrap_or_else(|| panic!("no help for {name}"));
            assert!(t.verb, "{name} is a command");
        }
        for name in KNOWN_KEYWORDS {
            let t = topic(name).unwrap_or_else(|| panic!("no help for {name}"));
            assert!(t.keyword, "{name} is an EHLO keyword");
        }
    }

    #[test]
    fn every_entry_is_complete() {
        for t in TOPICS {
            assert!(!t.syntax.is_empty(), "{}", t.name);
            assert!(!t.summary.is_empty(), "{}", t.name);
            assert!(t.rfc.contains(' '), "{}", t.name);
            assert!(t.verb || t.keyword, "{}", t.name);
            for p in t.params {
                if let Some(keyword) = p.needs {
                    assert!(KNOWN_KEYWORDS.contains(&keyword), "{}: {keyword}", t.name);
                }
            }
            for (code, meaning) in t.replies {
                assert!((200..600).contains(code), "{}: {code}", t.name);
                assert!(!meaning.is_empty());
            }
            assert_eq!(
                TOPICS.iter().filter(|o| o.name == t.name).count(),
                1,
                "{} twice",
                t.name
            );
        }
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(topic("mail").map(|t| t.name), Some("MAIL"));
        assert_eq!(topic("8bitmime").map(|t| t.name), Some("8BITMIME"));
        assert!(topic("FROB").is_none());
    }
}
