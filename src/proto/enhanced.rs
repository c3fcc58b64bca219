//! Enhanced mail system status codes (RFC 3463): the `class.subject.detail`
//! codes such as `5.1.1` that servers put at the start of reply text (RFC
//! 2034) and that appear in bounces, with the IANA registry (RFC 5248) that
//! says what each one means.
//!
//! This module owns the strict syntax of a code, the registry as static
//! tables (classes, subjects, and the enumerated codes), and the lookup that
//! turns a code into an explanation. It does not split reply lines (that is
//! `reply`) and it does not decide what to do about a code. Codes outside the
//! registry, such as vendor codes like Microsoft's 5.7.606, are valid codes:
//! they are explained by class and subject and marked vendor-specific.

use std::fmt;

/// An enhanced status code, `class.subject.detail` (RFC 3463 §2).
///
/// Codes from [`EnhancedCode::parse`], [`EnhancedCode::parse_prefix`] and
/// [`EnhancedCode::new`] always have a class of 2, 4 or 5 and a subject and
/// detail of at most three digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    pub class: u8,
    /// What the status is about, 0 to 999; the registry defines 0 to 7.
    pub subject: u16,
    /// The specific condition within the subject, 0 to 999.
    pub detail: u16,
}

impl EnhancedCode {
    /// Builds a code from its parts; `None` unless the class is 2, 4 or 5
    /// and subject and detail are at most 999.
    pub fn new(class: u8, subject: u16, detail: u16) -> Option<Self> {
        (matches!(class, 2 | 4 | 5) && subject <= 999 && detail <= 999).then_some(Self {
            class,
            subject,
            detail,
        })
    }

    /// Parses a string that must be exactly one code, nothing before or after.
    pub fn parse(s: &str) -> Option<Self> {
        match scan(s.as_bytes()) {
            Some((code, len)) if len == s.len() => Some(code),
            _ => None,
        }
    }

    /// Finds a code at the start of reply text (the text after "550 " or
    /// "550-"), as RFC 2034 places it. The code must be followed by a space,
    /// a tab or the end of the text, so that "2address.org" or "5.1.1." are
    /// not taken for codes. Returns the code and its length in bytes (the
    /// separator is not counted).
    pub fn parse_prefix(text: &str) -> Option<(Self, usize)> {
        let bytes = text.as_bytes();
        let (code, len) = scan(bytes)?;
        match bytes.get(len) {
            None | Some(b' ' | b'\t') => Some((code, len)),
            Some(_) => None,
        }
    }

    /// What the registry says about this code.
    pub fn explain(self) -> Explanation {
        Explanation {
            code: self,
            class: CLASSES
                .iter()
                .find(|entry| entry.class == self.class)
                .unwrap_or(&INVALID_CLASS),
            subject: SUBJECTS.iter().find(|entry| entry.subject == self.subject),
            detail: detail_entry(self.subject, self.detail),
        }
    }

    /// Whether `X.subject.detail` is one of the registry's enumerated codes
    /// (regardless of whether the registry uses it with this class).
    pub fn is_registered(self) -> bool {
        detail_entry(self.subject, self.detail).is_some()
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// Reads `class "." subject "." detail` from the start of `bytes` and returns
/// the code with the number of bytes it took. What follows is the caller's
/// business.
fn scan(bytes: &[u8]) -> Option<(EnhancedCode, usize)> {
    let class = match bytes.first()? {
        b'2' => 2,
        b'4' => 4,
        b'5' => 5,
        _ => return None,
    };
    let mut pos = 1;
    let mut field = || -> Option<u16> {
        if bytes.get(pos) != Some(&b'.') {
            return None;
        }
        let (value, len) = number(bytes.get(pos + 1..)?)?;
        pos += 1 + len;
        Some(value)
    };
    let subject = field()?;
    let detail = field()?;
    Some((
        EnhancedCode {
            class,
            subject,
            detail,
        },
        pos,
    ))
}

/// Reads a subject or detail: `"0" / (non-zero digit followed by up to two
/// digits)` (RFC 3463 §2). Leading zeros and a fourth digit are refused.
fn number(bytes: &[u8]) -> Option<(u16, usize)> {
    // Looking at four bytes is enough to tell a fourth digit is there.
    let len = bytes
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count();
    let digits = bytes.get(..len)?;
    match digits {
        [] | [b'0', _, ..] => None,
        _ if len > 3 => None,
        _ => Some((
            digits
                .iter()
                .fold(0, |acc, b| acc * 10 + u16::from(b - b'0')),
            len,
        )),
    }
}

fn detail_entry(subject: u16, detail: u16) -> Option<&'static DetailEntry> {
    REGISTRY
        .binary_search_by_key(&(subject, detail), |entry| (entry.subject, entry.detail))
        .ok()
        .and_then(|i| REGISTRY.get(i))
}

/// Everything known about one code: its class, its subject and, if the code
/// is registered, its own entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The code explained.
    pub code: EnhancedCode,
    /// The class entry (2, 4 or 5).
    pub class: &'static ClassEntry,
    /// The subject entry; `None` for subjects above 7, which the registry
    /// does not define.
    pub subject: Option<&'static SubjectEntry>,
    /// The registry entry for `X.subject.detail`, if there is one.
    pub detail: Option<&'static DetailEntry>,
}

impl Explanation {
    /// Whether the registry lists `X.subject.detail`.
    pub fn is_registered(&self) -> bool {
        self.detail.is_some()
    }

    /// Not in the registry: a code some implementation made up, explained by
    /// its class and subject only.
    pub fn is_vendor_specific(&self) -> bool {
        self.detail.is_none()
    }

    /// False when the registry does not use this detail with this class, as
    /// with 2.1.1 (a bad mailbox is never a success) or 4.1.5. True for codes
    /// outside the registry, about which nothing is known.
    ///
    /// Real servers stray from the registry here (Postfix answers 450 4.7.25
    /// to a client without reverse DNS, Microsoft 550 5.4.1 to an unknown
    /// recipient), so a false result is worth a note, not an alarm.
    pub fn class_allowed(&self) -> bool {
        self.detail
            .is_none_or(|entry| entry.classes.contains(&self.code.class))
    }
}

/// True when an enhanced code's class does not fit the basic reply code it
/// came with (RFC 2034 has them agree): a 2xx or 3xx reply goes with class
/// 2, a 4xx with 4 and a 5xx with 5. A reply whose first digit is not 2 to
/// 5 fits no enhanced code at all, so it always counts as a mismatch.
pub fn class_mismatch(reply_code_class_digit: u8, enhanced: EnhancedCode) -> bool {
    let expected = match reply_code_class_digit {
        2 | 3 => 2,
        4 => 4,
        5 => 5,
        _ => return true,
    };
    enhanced.class != expected
}

/// A class sub-code from the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassEntry {
    /// 2, 4 or 5.
    pub class: u8,
    /// The registry's summary, e.g. "Permanent Failure".
    pub title: &'static str,
    /// What it means, in our words.
    pub explanation: &'static str,
}

/// A subject sub-code from the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubjectEntry {
    /// 0 to 7.
    pub subject: u16,
    /// The registry's summary, e.g. "Addressing Status".
    pub title: &'static str,
    /// What it means, in our words.
    pub explanation: &'static str,
}

/// An enumerated status code from the registry, written `X.subject.detail`
/// because the registry lists it without a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetailEntry {
    /// The subject, 0 to 7.
    pub subject: u16,
    /// The detail within the subject.
    pub detail: u16,
    /// The registry's sample text, e.g. "Bad destination mailbox address".
    pub title: &'static str,
    /// The registry's description, condensed into our words for admins.
    pub explanation: &'static str,
    /// The registry's "Associated basic status code" column, verbatim but
    /// for line breaks (it says things like "Not given", "Any" or "5XX").
    pub basic_codes: &'static str,
    /// The classes the code is used with; see [`registry`] for the rule.
    pub classes: &'static [u8],
    /// Where the code is defined, e.g. "RFC 3463".
    pub reference: &'static str,
}

/// The registry's enumerated codes, sorted by subject, then detail.
///
/// `classes` is derived per code, because the registry has no such column:
/// it is the union of the classes of the associated basic codes ("451, 550"
/// gives 4 and 5; "5XX" gives 5) and of the classes the description names
/// ("only useful for permanent failures" gives 5, "persistent transient" 4,
/// "positive delivery reports" or a successful delivery 2). When neither
/// says anything ("Any", "Not given" and a neutral description, or ".") all
/// three classes are allowed. X.6.10, a deprecated duplicate, takes X.6.8's.
pub fn registry() -> &'static [DetailEntry] {
    REGISTRY
}

/// The subject sub-codes X.0 to X.7.
pub fn subjects() -> &'static [SubjectEntry] {
    SUBJECTS
}

/// The class sub-codes 2, 4 and 5.
pub fn classes() -> &'static [ClassEntry] {
    CLASSES
}

/// Only reachable through a hand-built `EnhancedCode` with a class other than
/// 2, 4 or 5; `explain` must still answer something.
static INVALID_CLASS: ClassEntry = ClassEntry {
    class: 0,
    title: "Invalid class",
    explanation: "RFC 3463 defines only the classes 2, 4 and 5, so this is not a valid code.",
};

static CLASSES: &[ClassEntry] = &[
    ClassEntry {
        class: 2,
        title: "Success",
        explanation: "The action succeeded: the message was accepted, relayed or delivered. \
                      The rest of the code may note something changed on the way.",
    },
    ClassEntry {
        class: 4,
        title: "Persistent Transient Failure",
        explanation: "The message is fine but a temporary condition stopped it. The sender \
                      should keep it queued and retry; a later attempt may succeed.",
    },
    ClassEntry {
        class: 5,
        title: "Permanent Failure",
        explanation: "Sending the same message again will not help: the message, the address \
                      or the destination has to change first.",
    },
];

static SUBJECTS: &[SubjectEntry] = &[
    SubjectEntry {
        subject: 0,
        title: "Other or Undefined Status",
        explanation: "No further information on what the status is about.",
    },
    SubjectEntry {
        subject: 1,
        title: "Addressing Status",
        explanation: "About the sender's or a recipient's address: its syntax or whether it \
                      is valid. Usually the sender can correct it and try again.",
    },
    SubjectEntry {
        subject: 2,
        title: "Mailbox Status",
        explanation: "About the recipient's mailbox, which is normally the recipient's to \
                      look after.",
    },
    SubjectEntry {
        subject: 3,
        title: "Mail System Status",
        explanation: "About the destination mail system, which its administrator controls.",
    },
    SubjectEntry {
        subject: 4,
        title: "Network and Routing Status",
        explanation: "About getting the message between systems: the network, routing, and \
                      services such as DNS, in the hands of the destination's or an \
                      intermediate system's administrator.",
    },
    SubjectEntry {
        subject: 5,
        title: "Mail Delivery Protocol Status",
        explanation: "About the delivery protocol itself: bad or misplaced commands, faulty \
                      implementations or an unreliable connection.",
    },
    SubjectEntry {
        subject: 6,
        title: "Message Content or Media Status",
        explanation: "About the content: media types, conversion or encodings that sender \
                      and receiver do not both support.",
    },
    SubjectEntry {
        subject: 7,
        title: "Security or Policy Status",
        explanation: "About policy or security: per-host or per-recipient filtering, \
                      authentication, or cryptographic checks; sender and recipient must both \
                      permit the exchange.",
    },
];

/// Any class: for codes the registry gives no reason to restrict.
const ANY_CLASS: &[u8] = &[2, 4, 5];

/// The registry's enumerated codes (registry of 2024-12-06), sorted by
/// (subject, detail) for `detail_entry`; a test checks the order and compares
/// titles with the registry's CSV export when it is available.
static REGISTRY: &[DetailEntry] = &[
    DetailEntry {
        subject: 0,
        detail: 0,
        title: "Other undefined Status",
        explanation: "Nothing more specific than the class is known: success, temporary or \
                      permanent failure. The reply text may say more.",
        basic_codes: "Any",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 1,
        detail: 0,
        title: "Other address status",
        explanation: "Something about an address caused this status, with no more detail given.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 1,
        detail: 1,
        title: "Bad destination mailbox address",
        explanation: "The recipient mailbox does not exist: the part left of the @ is unknown at \
                      the destination. Check the address for typos.",
        basic_codes: "451, 550",
        classes: &[4, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 1,
        detail: 2,
        title: "Bad destination system address",
        explanation: "The recipient's domain (the part right of the @) does not exist or cannot \
                      receive mail.",
        basic_codes: "Not given",
        classes: &[5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 1,
        detail: 3,
        title: "Bad destination mailbox address syntax",
        explanation: "The recipient address is not syntactically valid; check angle brackets, \
                      quoting and characters.",
        basic_codes: "501",
        classes: &[5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 1,
        detail: 4,
        title: "Destination mailbox address ambiguous",
        explanation: "The recipient address matches more than one mailbox at the destination, for \
                      example through fuzzy name matching.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 1,
        detail: 5,
        title: "Destination address valid",
        explanation: "The recipient address was accepted as valid; the usual success code after \
                      RCPT.",
        basic_codes: "250",
        classes: &[2],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 1,
        detail: 6,
        title: "Destination mailbox has moved, No forwarding address",
        explanation: "The address used to accept mail but no longer does, and no new address is \
                      known.",
        basic_codes: "Not given",
        classes: &[5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 1,
        detail: 7,
        title: "Bad sender's mailbox address syntax",
        explanation: "The sender address (MAIL FROM) is not syntactically valid.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 1,
        detail: 8,
        title: "Bad sender's system address",
        explanation: "The sender's domain does not exist or cannot receive mail, so bounces could \
                      not be returned; servers use it to refuse senders from unresolvable domains.",
        basic_codes: "451, 501",
        classes: &[4, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 1,
        detail: 9,
        title: "Message relayed to non-compliant mailer",
        explanation: "The recipient address was valid, but the message was handed to a system that \
                      does not speak this protocol, so no further status can be reported.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3886",
    },
    DetailEntry {
        subject: 1,
        detail: 10,
        title: "Recipient address has null MX",
        explanation: "The recipient's domain publishes a null MX record, declaring that it accepts \
                      no mail at all.",
        basic_codes: "556",
        classes: &[5],
        reference: "RFC 7505; RFC 7504",
    },
    DetailEntry {
        subject: 2,
        detail: 0,
        title: "Other or undefined mailbox status",
        explanation: "The mailbox exists, but something about it caused this status.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 2,
        detail: 1,
        title: "Mailbox disabled, not accepting messages",
        explanation: "The mailbox exists but does not accept messages, either for good or only for \
                      a while.",
        basic_codes: "Not given",
        classes: &[4, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 2,
        detail: 2,
        title: "Mailbox full",
        explanation: "The recipient is over quota. They can make room by deleting mail, so this is \
                      meant as a temporary failure.",
        basic_codes: "552",
        classes: &[4, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 2,
        detail: 3,
        title: "Message length exceeds administrative limit",
        explanation: "The message is larger than this mailbox's own size limit, which is below the \
                      system-wide limit. A permanent failure.",
        basic_codes: "552",
        classes: &[5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 2,
        detail: 4,
        title: "Mailing list expansion problem",
        explanation: "The recipient is a mailing list that could not be expanded into its members.",
        basic_codes: "450, 452",
        classes: &[4, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 3,
        detail: 0,
        title: "Other or undefined mail system status",
        explanation: "The destination normally accepts mail, but something about the system caused \
                      this status. Often used as a generic code.",
        basic_codes: "221, 250, 421, 451, 550, 554",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 3,
        detail: 1,
        title: "Mail system full",
        explanation: "The destination system has run out of storage; unlike a full mailbox, the \
                      recipient cannot fix it. Temporary.",
        basic_codes: "452",
        classes: &[4],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 3,
        detail: 2,
        title: "System not accepting network messages",
        explanation: "The destination host is not accepting mail, for example during shutdown, \
                      maintenance or overload, or because it never does.",
        basic_codes: "453, 521",
        classes: &[4, 5],
        reference: "RFC 3463; RFC 7504",
    },
    DetailEntry {
        subject: 3,
        detail: 3,
        title: "System not capable of selected features",
        explanation: "The destination does not support features requested for this message, \
                      typically a gateway that cannot map them to the next system.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 3,
        detail: 4,
        title: "Message too big for system",
        explanation: "The message exceeds the system's size limit. A permanent failure: send \
                      something smaller.",
        basic_codes: "552, 554",
        classes: &[5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 3,
        detail: 5,
        title: "System incorrectly configured",
        explanation: "The receiving system is not configured in a way that lets it accept this \
                      message; a matter for its administrator.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 3,
        detail: 6,
        title: "Requested priority was changed",
        explanation: "The message was accepted, but not with the priority requested; the reply \
                      text starts with the priority actually used.",
        basic_codes: "250 or 251",
        classes: &[2],
        reference: "RFC 6710",
    },
    DetailEntry {
        subject: 4,
        detail: 0,
        title: "Other or undefined network or routing status",
        explanation: "Something went wrong in networking or routing that no more specific code \
                      describes.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 4,
        detail: 1,
        title: "No answer from host",
        explanation: "The next host did not answer the connection attempt, being busy or \
                      unreachable. Temporary.",
        basic_codes: "451",
        classes: &[4],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 4,
        detail: 2,
        title: "Bad connection",
        explanation: "A connection was made but the transaction could not be completed, because of \
                      a timeout or a poor connection. Temporary.",
        basic_codes: "421",
        classes: &[4],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 4,
        detail: 3,
        title: "Directory server failure",
        explanation: "A directory server needed for routing, most often DNS, could not be reached. \
                      Meant as a temporary failure.",
        basic_codes: "451, 550",
        classes: &[4, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 4,
        detail: 4,
        title: "Unable to route",
        explanation: "The next hop could not be determined because the directory lacked the \
                      routing information, e.g. DNS has no usable MX or address record for the \
                      domain.",
        basic_codes: "Not given",
        classes: &[4, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 4,
        detail: 5,
        title: "Mail system congestion",
        explanation: "The mail system is congested and could not take the message now. Temporary.",
        basic_codes: "451",
        classes: &[4],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 4,
        detail: 6,
        title: "Routing loop detected",
        explanation: "The message was forwarded too many times, because of wrong routing tables or \
                      a forwarding loop between mailboxes.",
        basic_codes: "Not given",
        classes: &[4],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 4,
        detail: 7,
        title: "Delivery time expired",
        explanation: "The message was too old: it stayed queued too long or outlived the time \
                      limit set by its sender. A code for the actual problem is preferred when \
                      known.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 5,
        detail: 0,
        title: "Other or undefined protocol status",
        explanation: "Something went wrong in the SMTP dialog that no more specific code \
                      describes.",
        basic_codes: "220, 250, 251, 252, 253, 451, 452, 454, 458, 459, 501, 502, 503, 554",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 5,
        detail: 1,
        title: "Invalid command",
        explanation: "A command was sent out of sequence or is not supported.",
        basic_codes: "430, 500, 501, 503, 530, 550, 554, 555",
        classes: &[4, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 5,
        detail: 2,
        title: "Syntax error",
        explanation: "A command could not be understood: wrong syntax or an unknown command.",
        basic_codes: "500, 501, 502, 550, 555",
        classes: &[5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 5,
        detail: 3,
        title: "Too many recipients",
        explanation: "More recipients than the server takes in one transaction; the rest should go \
                      in a later transaction.",
        basic_codes: "451",
        classes: &[4],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 5,
        detail: 4,
        title: "Invalid command arguments",
        explanation: "A valid command had bad arguments: out of range, or naming a feature the \
                      server does not know.",
        basic_codes: "451, 501, 502, 503, 504, 550, 555",
        classes: &[4, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 5,
        detail: 5,
        title: "Wrong protocol version",
        explanation: "Client and server disagree on the protocol version and could not settle it.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 5,
        detail: 6,
        title: "Authentication Exchange line is too long",
        explanation: "An AUTH response line (base64) was longer than the server accepts for the \
                      chosen mechanism.",
        basic_codes: "500",
        classes: &[4, 5],
        reference: "RFC 4954",
    },
    DetailEntry {
        subject: 6,
        detail: 0,
        title: "Other or undefined media error",
        explanation: "Something about the message content made it undeliverable, with no more \
                      specific code.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 6,
        detail: 1,
        title: "Media not supported",
        explanation: "The message's media type is not supported by the delivery protocol or by the \
                      next system on the path.",
        basic_codes: "Not given",
        classes: &[5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 6,
        detail: 2,
        title: "Conversion required and prohibited",
        explanation: "The content would have to be converted for delivery, but the sender or the \
                      sending host forbids conversion.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 6,
        detail: 3,
        title: "Conversion required but not supported",
        explanation: "The content needs converting to be forwarded and no host on the path can do \
                      it, e.g. 8-bit mail that must be downgraded to 7 bit.",
        basic_codes: "554",
        classes: &[5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 6,
        detail: 4,
        title: "Conversion with loss performed",
        explanation: "The message was delivered, but converting it lost some data. It is a failure \
                      instead if the sender forbade lossy conversion.",
        basic_codes: "250",
        classes: &[2, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 6,
        detail: 5,
        title: "Conversion Failed",
        explanation: "A needed conversion of the content was attempted and failed.",
        basic_codes: "Not given",
        classes: &[4, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 6,
        detail: 6,
        title: "Message content not available",
        explanation: "The message content could not be fetched from the remote system holding it \
                      (BURL).",
        basic_codes: "554",
        classes: &[4, 5],
        reference: "RFC 4468",
    },
    DetailEntry {
        subject: 6,
        detail: 7,
        title: "Non-ASCII addresses not permitted for that sender/recipient",
        explanation: "A MAIL or RCPT address contains non-ASCII characters, which this sender or \
                      recipient may not use (SMTPUTF8).",
        basic_codes: "553, 550",
        classes: &[5],
        reference: "RFC 6531",
    },
    DetailEntry {
        subject: 6,
        detail: 8,
        title: "UTF-8 string reply is required, but not permitted by the SMTP client",
        explanation: "A reply would have to show a mailbox name in UTF-8, but the client has not \
                      allowed UTF-8 replies (SMTPUTF8).",
        basic_codes: "252, 553, 550",
        classes: &[2, 5],
        reference: "RFC 6531",
    },
    DetailEntry {
        subject: 6,
        detail: 9,
        title: "UTF-8 header message cannot be transferred to one or more recipients, so the message must be rejected",
        explanation: "The message has UTF-8 header fields and cannot be passed on to one or more \
                      recipients, so it failed after the final \".\" of DATA.",
        basic_codes: "550",
        classes: &[5],
        reference: "RFC 6531",
    },
    DetailEntry {
        subject: 6,
        detail: 10,
        title: "UTF-8 string reply is required, but not permitted by the SMTP client",
        explanation: "Deprecated duplicate of X.6.8, with the same meaning. The registry gives it \
                      no sample text; the title shown is that of X.6.8.",
        basic_codes: "",
        classes: &[2, 5],
        reference: "RFC 6531",
    },
    DetailEntry {
        subject: 7,
        detail: 0,
        title: "Other or undefined security status",
        explanation: "A security or policy matter caused this status and no more specific code \
                      fits, or policy forbids saying more. With 235 it is the usual code for a \
                      successful AUTH.",
        basic_codes: "220, 235, 450, 454, 500, 501, 503, 504, 530, 535, 550",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 7,
        detail: 1,
        title: "Delivery not authorized, message refused",
        explanation: "The sender may not send to this recipient: relaying denied, a blocklist, or \
                      per-host or per-recipient filtering. The most common policy refusal.",
        basic_codes: "451, 454, 502, 503, 533, 550, 551",
        classes: &[4, 5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 7,
        detail: 2,
        title: "Mailing list expansion prohibited",
        explanation: "The sender may not post to this mailing list.",
        basic_codes: "550",
        classes: &[5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 7,
        detail: 3,
        title: "Security conversion required but not possible",
        explanation: "Delivery needed a conversion from one secure messaging protocol to another, \
                      and it was not possible.",
        basic_codes: "Not given",
        classes: &[5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 7,
        detail: 4,
        title: "Security features not supported",
        explanation: "The message uses security features, such as secure authentication, that the \
                      delivery protocol cannot support.",
        basic_codes: "504",
        classes: &[5],
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 7,
        detail: 5,
        title: "Cryptographic failure",
        explanation: "A system entitled to verify or decrypt the message could not, because a key \
                      or other needed information was missing or invalid.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 7,
        detail: 6,
        title: "Cryptographic algorithm not supported",
        explanation: "A system entitled to verify or decrypt the message could not, because it \
                      does not support the algorithm used.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 7,
        detail: 7,
        title: "Message integrity failure",
        explanation: "A system entitled to check the message could not validate it because it was \
                      corrupted or altered.",
        basic_codes: "Not given",
        classes: ANY_CLASS,
        reference: "RFC 3463",
    },
    DetailEntry {
        subject: 7,
        detail: 8,
        title: "Authentication credentials invalid",
        explanation: "AUTH failed: wrong user name or password, or insufficient credentials. Check \
                      them and try again.",
        basic_codes: "535, 554",
        classes: &[5],
        reference: "RFC 4954",
    },
    DetailEntry {
        subject: 7,
        detail: 9,
        title: "Authentication mechanism is too weak",
        explanation: "The chosen AUTH mechanism is weaker than server policy permits for this \
                      user; retry with a stronger one.",
        basic_codes: "534",
        classes: &[5],
        reference: "RFC 4954",
    },
    DetailEntry {
        subject: 7,
        detail: 10,
        title: "Encryption Needed",
        explanation: "The requested AUTH mechanism, typically one that sends the password in the \
                      clear, needs an encryption layer: start TLS first or use a stronger \
                      mechanism.",
        basic_codes: "523",
        classes: &[5],
        reference: "RFC 5248",
    },
    DetailEntry {
        subject: 7,
        detail: 11,
        title: "Encryption required for requested authentication mechanism",
        explanation: "This AUTH mechanism may only be used on an encrypted connection: issue \
                      STARTTLS first.",
        basic_codes: "524, 538",
        classes: &[5],
        reference: "RFC 4954",
    },
    DetailEntry {
        subject: 7,
        detail: 12,
        title: "A password transition is needed",
        explanation: "The user must move to the chosen AUTH mechanism, usually by authenticating \
                      once with PLAIN; after that the mechanism should work.",
        basic_codes: "422, 432",
        classes: &[4],
        reference: "RFC 4954",
    },
    DetailEntry {
        subject: 7,
        detail: 13,
        title: "User Account Disabled",
        explanation: "The credentials were right but the account is disabled. Retyping the \
                      password will not help; the administrator has to re-enable it.",
        basic_codes: "525",
        classes: &[5],
        reference: "RFC 5248",
    },
    DetailEntry {
        subject: 7,
        detail: 14,
        title: "Trust relationship required",
        explanation: "The submission server needs a configured trust relationship with a \
                      third-party server to fetch the message content (BURL).",
        basic_codes: "535, 554",
        classes: &[5],
        reference: "RFC 5248",
    },
    DetailEntry {
        subject: 7,
        detail: 15,
        title: "Priority Level is too low",
        explanation: "The message's priority is below the lowest the server accepts; possibly only \
                      for now, while it takes higher priorities only.",
        basic_codes: "450, 550 (other 4XX or 5XX codes are allowed)",
        classes: &[4, 5],
        reference: "RFC 6710",
    },
    DetailEntry {
        subject: 7,
        detail: 16,
        title: "Message is too big for the specified priority",
        explanation: "The message is too large for its priority level; possibly only for now, \
                      while the server limits sizes per priority.",
        basic_codes: "552 (other 4XX or 5XX codes are allowed)",
        classes: &[4, 5],
        reference: "RFC 6710",
    },
    DetailEntry {
        subject: 7,
        detail: 17,
        title: "Mailbox owner has changed",
        explanation: "The message asked (Require-Recipient-Valid-Since or RRVS) that the mailbox \
                      have had one owner since a given date, and it has not.",
        basic_codes: "5XX",
        classes: &[5],
        reference: "RFC 7293",
    },
    DetailEntry {
        subject: 7,
        detail: 18,
        title: "Domain owner has changed",
        explanation: "The message asked for a Require-Recipient-Valid-Since (RRVS) check, and the \
                      recipient's domain has changed owner since the given date.",
        basic_codes: "5XX",
        classes: &[5],
        reference: "RFC 7293",
    },
    DetailEntry {
        subject: 7,
        detail: 19,
        title: "RRVS test cannot be completed",
        explanation: "The Require-Recipient-Valid-Since (RRVS) check could not be done because the \
                      needed timestamp was not recorded; the sender must decide whether to resend \
                      without it.",
        basic_codes: "5XX",
        classes: &[5],
        reference: "RFC 7293",
    },
    DetailEntry {
        subject: 7,
        detail: 20,
        title: "No passing DKIM signature found",
        explanation: "The message carried no DKIM signature that verified.",
        basic_codes: "550",
        classes: &[5],
        reference: "RFC 7372; RFC 6376",
    },
    DetailEntry {
        subject: 7,
        detail: 21,
        title: "No acceptable DKIM signature found",
        explanation: "The message had DKIM signatures that verified, but none the receiver \
                      accepts.",
        basic_codes: "550",
        classes: &[5],
        reference: "RFC 7372; RFC 6376",
    },
    DetailEntry {
        subject: 7,
        detail: 22,
        title: "No valid author-matched DKIM signature found",
        explanation: "The message had DKIM signatures that verified, but none from a domain \
                      matching the From: address.",
        basic_codes: "550",
        classes: &[5],
        reference: "RFC 7372; RFC 6376",
    },
    DetailEntry {
        subject: 7,
        detail: 23,
        title: "SPF validation failed",
        explanation: "The SPF check failed: the sending IP address is not allowed to send for the \
                      sender's domain, and local policy rejects that.",
        basic_codes: "550",
        classes: &[5],
        reference: "RFC 7372; RFC 7208",
    },
    DetailEntry {
        subject: 7,
        detail: 24,
        title: "SPF validation error",
        explanation: "Evaluating SPF ended in an error, such as a DNS failure or a broken SPF \
                      record.",
        basic_codes: "451/550",
        classes: &[4, 5],
        reference: "RFC 7372; RFC 7208",
    },
    DetailEntry {
        subject: 7,
        detail: 25,
        title: "Reverse DNS validation failed",
        explanation: "The client's IP address failed a reverse DNS check (no PTR record, or one \
                      that does not lead back to it), and local policy rejects that.",
        basic_codes: "550",
        classes: &[5],
        reference: "RFC 7372 §3.3",
    },
    DetailEntry {
        subject: 7,
        detail: 26,
        title: "Multiple authentication checks failed",
        explanation: "The message failed more than one authentication check, such as SPF and DKIM, \
                      and local policy rejects that; which ones is not said.",
        basic_codes: "550",
        classes: &[5],
        reference: "RFC 7372",
    },
    DetailEntry {
        subject: 7,
        detail: 27,
        title: "Sender address has null MX",
        explanation: "The sender's domain publishes a null MX, so no bounce could be returned, and \
                      the receiver refuses such senders.",
        basic_codes: "550",
        classes: &[5],
        reference: "RFC 7505",
    },
    DetailEntry {
        subject: 7,
        detail: 28,
        title: "Mail flood detected",
        explanation: "The message looks like part of a flood of similar abusive messages.",
        basic_codes: ".",
        classes: ANY_CLASS,
        reference: "draft-levine-mailbomb-header-00",
    },
    DetailEntry {
        subject: 7,
        detail: 29,
        title: "ARC validation failure",
        explanation: "The message failed ARC (Authenticated Received Chain) validation.",
        basic_codes: "550",
        classes: &[5],
        reference: "RFC 8617",
    },
    DetailEntry {
        subject: 7,
        detail: 30,
        title: "REQUIRETLS support required",
        explanation: "The message was sent with REQUIRETLS, but no server it must be forwarded to \
                      supports it, so it could not be passed on.",
        basic_codes: "550",
        classes: &[5],
        reference: "RFC 8689",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::Path;

    /// (class, subject, detail)
    type Parts = (u8, u16, u16);

    fn code(class: u8, subject: u16, detail: u16) -> EnhancedCode {
        EnhancedCode::new(class, subject, detail).unwrap()
    }

    #[test]
    fn parse_accepts_only_a_whole_valid_code() {
        let cases: &[(&str, Option<Parts>)] = &[
            ("2.0.0", Some((2, 0, 0))),
            ("4.2.2", Some((4, 2, 2))),
            ("5.1.1", Some((5, 1, 1))),
            ("5.1.10", Some((5, 1, 10))),
            ("5.7.606", Some((5, 7, 606))),
            ("4.7.500", Some((4, 7, 500))),
            ("5.999.999", Some((5, 999, 999))),
            ("5.100.0", Some((5, 100, 0))),
            ("", None),
            ("5", None),
            ("5.", None),
            ("5.1", None),
            ("5.1.", None),
            ("5..1", None),
            ("5.1..1", None),
            (".1.1", None),
            ("5.01.1", None),
            ("5.1.01", None),
            ("5.1.00", None),
            ("5.00.1", None),
            ("5.1.1000", None),
            ("5.1000.1", None),
            ("5.1.0001", None),
            ("1.1.1", None),
            ("3.1.1", None),
            ("6.1.1", None),
            ("0.0.0", None),
            ("55.1.1", None),
            ("5.1.1.1", None),
            ("5.1.1 ", None),
            (" 5.1.1", None),
            ("5.1.1\n", None),
            ("5.-1.1", None),
            ("5.+1.1", None),
            ("5.1.a", None),
            ("5,1,1", None),
            ("X.1.1", None),
            ("2address.org", None),
            ("\u{ff15}.1.1", None),
            ("5.\u{0661}.1", None),
        ];
        for (input, expected) in cases {
            let expected = expected.map(|(c, s, d)| code(c, s, d));
            assert_eq!(EnhancedCode::parse(input), expected, "{input:?}");
        }
    }

    #[test]
    fn parse_prefix_needs_a_separator_after_the_code() {
        // (reply text, the code it starts with)
        let cases: &[(&str, Option<&str>)] = &[
            ("2.0.0", Some("2.0.0")),
            ("2.0.0 Ok: queued as 708D72C80BE", Some("2.0.0")),
            ("5.1.1 User unknown", Some("5.1.1")),
            ("5.1.1\tUser unknown", Some("5.1.1")),
            ("5.1.1  two spaces", Some("5.1.1")),
            ("5.1.10 Recipient address rejected", Some("5.1.10")),
            ("4.7.500 Server busy", Some("4.7.500")),
            ("5.7.606 Access denied, banned sending IP", Some("5.7.606")),
            ("5.7.1 Unable to relay: ä", Some("5.7.1")),
            ("2address.org", None),
            ("2.0.0Ok", None),
            ("5.1.1.", None),
            ("5.1.1x", None),
            ("5.1.1:", None),
            ("5.1.1,", None),
            ("5.1.1\r", None),
            ("5.1.1\u{a0}text", None),
            ("5.1.1.1 text", None),
            ("5.1.1000 text", None),
            ("5.01.1 text", None),
            ("3.1.1 text", None),
            ("550 5.1.1 text", None),
            (" 5.1.1 text", None),
            ("", None),
            ("Ok", None),
            ("2", None),
            ("2.", None),
            ("mx.example.org ESMTP", None),
        ];
        for (input, expected) in cases {
            let expected = expected.map(|shown| (EnhancedCode::parse(shown).unwrap(), shown.len()));
            assert_eq!(EnhancedCode::parse_prefix(input), expected, "{input:?}");
        }
    }

    #[test]
    fn new_checks_the_ranges() {
        let cases = [
            ((2, 0, 0), true),
            ((4, 999, 999), true),
            ((5, 7, 30), true),
            ((0, 1, 1), false),
            ((1, 1, 1), false),
            ((3, 1, 1), false),
            ((6, 1, 1), false),
            ((5, 1000, 1), false),
            ((5, 1, 1000), false),
        ];
        for ((class, subject, detail), ok) in cases {
            assert_eq!(
                EnhancedCode::new(class, subject, detail).is_some(),
                ok,
                "{class}.{subject}.{detail}"
            );
        }
    }

    #[test]
    fn display_is_dotted() {
        for (c, shown) in [
            (code(5, 1, 1), "5.1.1"),
            (code(2, 0, 0), "2.0.0"),
            (code(4, 7, 500), "4.7.500"),
            (code(5, 1, 10), "5.1.10"),
        ] {
            assert_eq!(c.to_string(), shown);
            assert_eq!(EnhancedCode::parse(shown), Some(c));
        }
    }

    #[test]
    fn explain_registered_codes() {
        // (code, class title, subject title, detail title)
        let cases = [
            (
                "2.0.0",
                "Success",
                "Other or Undefined Status",
                "Other undefined Status",
            ),
            (
                "2.1.5",
                "Success",
                "Addressing Status",
                "Destination address valid",
            ),
            (
                "5.1.1",
                "Permanent Failure",
                "Addressing Status",
                "Bad destination mailbox address",
            ),
            (
                "4.2.2",
                "Persistent Transient Failure",
                "Mailbox Status",
                "Mailbox full",
            ),
            (
                "5.7.1",
                "Permanent Failure",
                "Security or Policy Status",
                "Delivery not authorized, message refused",
            ),
            (
                "5.7.26",
                "Permanent Failure",
                "Security or Policy Status",
                "Multiple authentication checks failed",
            ),
            (
                "5.7.30",
                "Permanent Failure",
                "Security or Policy Status",
                "REQUIRETLS support required",
            ),
        ];
        for (input, class, subject, detail) in cases {
            let e = EnhancedCode::parse(input).unwrap().explain();
            assert_eq!(e.code.to_string(), input);
            assert_eq!(e.class.title, class, "{input}");
            assert_eq!(e.subject.map(|s| s.title), Some(subject), "{input}");
            assert_eq!(e.detail.map(|d| d.title), Some(detail), "{input}");
            assert!(e.is_registered(), "{input}");
            assert!(!e.is_vendor_specific(), "{input}");
            assert!(e.code.is_registered(), "{input}");
        }
    }

    #[test]
    fn explain_vendor_codes_by_class_and_subject() {
        // (code, subject title, if any)
        let cases = [
            ("5.7.606", Some("Security or Policy Status")),
            ("4.7.500", Some("Security or Policy Status")),
            ("5.4.300", Some("Network and Routing Status")),
            ("5.1.11", Some("Addressing Status")),
            ("5.7.31", Some("Security or Policy Status")),
            ("5.0.1", Some("Other or Undefined Status")),
            ("5.8.1", None),
            ("4.999.999", None),
        ];
        for (input, subject) in cases {
            let e = EnhancedCode::parse(input).unwrap().explain();
            assert_eq!(e.subject.map(|s| s.title), subject, "{input}");
            assert_eq!(e.detail, None, "{input}");
            assert!(e.is_vendor_specific(), "{input}");
            assert!(!e.is_registered(), "{input}");
            assert!(!e.code.is_registered(), "{input}");
            assert!(e.class_allowed(), "{input}: nothing is known against it");
        }
    }

    #[test]
    fn class_allowed_follows_the_registry() {
        let cases = [
            ("2.0.0", true),
            ("4.0.0", true),
            ("5.0.0", true),
            ("2.1.1", false),
            ("4.1.1", true),
            ("5.1.1", true),
            ("2.1.5", true),
            ("5.1.5", false),
            ("4.2.2", true),
            ("5.2.2", true),
            ("4.3.1", true),
            ("5.3.1", false),
            ("4.4.2", true),
            ("5.4.2", false),
            ("5.5.2", true),
            ("4.5.2", false),
            ("2.6.4", true),
            ("4.6.4", false),
            ("2.7.0", true),
            ("4.7.1", true),
            ("2.7.1", false),
            ("5.7.8", true),
            ("4.7.12", true),
            ("5.7.12", false),
            ("5.7.17", true),
            ("4.7.17", false),
        ];
        for (input, allowed) in cases {
            let e = EnhancedCode::parse(input).unwrap().explain();
            assert_eq!(e.class_allowed(), allowed, "{input}");
        }
    }

    #[test]
    fn class_mismatch_between_reply_and_enhanced_code() {
        let cases = [
            (2, "2.0.0", false),
            (3, "2.0.0", false),
            (4, "4.7.1", false),
            (5, "5.1.1", false),
            (2, "5.1.1", true),
            (2, "4.2.2", true),
            (3, "5.0.0", true),
            (4, "5.1.1", true),
            (4, "2.0.0", true),
            (5, "4.7.1", true),
            (5, "2.0.0", true),
            (1, "2.0.0", true),
            (6, "5.0.0", true),
            (0, "2.0.0", true),
        ];
        for (digit, input, mismatch) in cases {
            let c = EnhancedCode::parse(input).unwrap();
            assert_eq!(class_mismatch(digit, c), mismatch, "{digit}xx with {input}");
        }
    }

    #[test]
    fn hand_built_invalid_class_still_explains() {
        let c = EnhancedCode {
            class: 3,
            subject: 1,
            detail: 1,
        };
        let e = c.explain();
        assert_eq!(e.class.title, "Invalid class");
        assert_eq!(e.subject.map(|s| s.subject), Some(1));
        assert!(!classes().contains(e.class));
    }

    #[test]
    fn every_registry_code_is_present_with_its_title() {
        let expected = [
            ("0.0", "Other undefined Status"),
            ("1.0", "Other address status"),
            ("1.1", "Bad destination mailbox address"),
            ("1.2", "Bad destination system address"),
            ("1.3", "Bad destination mailbox address syntax"),
            ("1.4", "Destination mailbox address ambiguous"),
            ("1.5", "Destination address valid"),
            (
                "1.6",
                "Destination mailbox has moved, No forwarding address",
            ),
            ("1.7", "Bad sender's mailbox address syntax"),
            ("1.8", "Bad sender's system address"),
            ("1.9", "Message relayed to non-compliant mailer"),
            ("1.10", "Recipient address has null MX"),
            ("2.0", "Other or undefined mailbox status"),
            ("2.1", "Mailbox disabled, not accepting messages"),
            ("2.2", "Mailbox full"),
            ("2.3", "Message length exceeds administrative limit"),
            ("2.4", "Mailing list expansion problem"),
            ("3.0", "Other or undefined mail system status"),
            ("3.1", "Mail system full"),
            ("3.2", "System not accepting network messages"),
            ("3.3", "System not capable of selected features"),
            ("3.4", "Message too big for system"),
            ("3.5", "System incorrectly configured"),
            ("3.6", "Requested priority was changed"),
            ("4.0", "Other or undefined network or routing status"),
            ("4.1", "No answer from host"),
            ("4.2", "Bad connection"),
            ("4.3", "Directory server failure"),
            ("4.4", "Unable to route"),
            ("4.5", "Mail system congestion"),
            ("4.6", "Routing loop detected"),
            ("4.7", "Delivery time expired"),
            ("5.0", "Other or undefined protocol status"),
            ("5.1", "Invalid command"),
            ("5.2", "Syntax error"),
            ("5.3", "Too many recipients"),
            ("5.4", "Invalid command arguments"),
            ("5.5", "Wrong protocol version"),
            ("5.6", "Authentication Exchange line is too long"),
            ("6.0", "Other or undefined media error"),
            ("6.1", "Media not supported"),
            ("6.2", "Conversion required and prohibited"),
            ("6.3", "Conversion required but not supported"),
            ("6.4", "Conversion with loss performed"),
            ("6.5", "Conversion Failed"),
            ("6.6", "Message content not available"),
            (
                "6.7",
                "Non-ASCII addresses not permitted for that sender/recipient",
            ),
            (
                "6.8",
                "UTF-8 string reply is required, but not permitted by the SMTP client",
            ),
            (
                "6.9",
                "UTF-8 header message cannot be transferred to one or more recipients, so the message must be rejected",
            ),
            // The registry gives X.6.10 no sample text; see `registry_titles_match_iana`.
            (
                "6.10",
                "UTF-8 string reply is required, but not permitted by the SMTP client",
            ),
            ("7.0", "Other or undefined security status"),
            ("7.1", "Delivery not authorized, message refused"),
            ("7.2", "Mailing list expansion prohibited"),
            ("7.3", "Security conversion required but not possible"),
            ("7.4", "Security features not supported"),
            ("7.5", "Cryptographic failure"),
            ("7.6", "Cryptographic algorithm not supported"),
            ("7.7", "Message integrity failure"),
            ("7.8", "Authentication credentials invalid"),
            ("7.9", "Authentication mechanism is too weak"),
            ("7.10", "Encryption Needed"),
            (
                "7.11",
                "Encryption required for requested authentication mechanism",
            ),
            ("7.12", "A password transition is needed"),
            ("7.13", "User Account Disabled"),
            ("7.14", "Trust relationship required"),
            ("7.15", "Priority Level is too low"),
            ("7.16", "Message is too big for the specified priority"),
            ("7.17", "Mailbox owner has changed"),
            ("7.18", "Domain owner has changed"),
            ("7.19", "RRVS test cannot be completed"),
            ("7.20", "No passing DKIM signature found"),
            ("7.21", "No acceptable DKIM signature found"),
            ("7.22", "No valid author-matched DKIM signature found"),
            ("7.23", "SPF validation failed"),
            ("7.24", "SPF validation error"),
            ("7.25", "Reverse DNS validation failed"),
            ("7.26", "Multiple authentication checks failed"),
            ("7.27", "Sender address has null MX"),
            ("7.28", "Mail flood detected"),
            ("7.29", "ARC validation failure"),
            ("7.30", "REQUIRETLS support required"),
        ];
        assert_eq!(registry().len(), 81);
        assert_eq!(expected.len(), 81);
        for (key, title) in expected {
            let c = EnhancedCode::parse(&format!("5.{key}")).unwrap();
            let entry = c
                .explain()
                .detail
                .unwrap_or_else(|| panic!("X.{key} missing"));
            assert_eq!(entry.title, title, "X.{key}");
        }
    }

    #[test]
    fn tables_are_well_formed() {
        assert!(
            registry()
                .windows(2)
                .all(|w| (w[0].subject, w[0].detail) < (w[1].subject, w[1].detail)),
            "registry must be sorted and unique for binary search"
        );
        let subject_numbers: Vec<u16> = subjects().iter().map(|s| s.subject).collect();
        assert_eq!(subject_numbers, [0, 1, 2, 3, 4, 5, 6, 7]);
        let class_numbers: Vec<u8> = classes().iter().map(|c| c.class).collect();
        assert_eq!(class_numbers, [2, 4, 5]);
        for entry in registry() {
            let name = format!("X.{}.{}", entry.subject, entry.detail);
            assert!(entry.subject <= 7, "{name}");
            assert!(!entry.title.is_empty(), "{name}");
            assert!(!entry.classes.is_empty(), "{name}");
            assert!(entry.classes.windows(2).all(|w| w[0] < w[1]), "{name}");
            assert!(
                entry.classes.iter().all(|c| ANY_CLASS.contains(c)),
                "{name}"
            );
            assert!(!entry.reference.is_empty(), "{name}");
            assert!(!entry.title.contains('\n'), "{name}");
            assert!(!entry.basic_codes.contains('\n'), "{name}");
        }
        let texts = classes()
            .iter()
            .map(|c| c.explanation)
            .chain(subjects().iter().map(|s| s.explanation))
            .chain(registry().iter().map(|d| d.explanation));
        for text in texts {
            assert!(text.ends_with('.'), "{text:?}");
            assert!(!text.contains("  "), "double space in {text:?}");
        }
    }

    /// The classes named by the registry's basic codes ("451, 550", "5XX")
    /// must all be allowed; "Any" must allow every class.
    #[test]
    fn classes_cover_the_associated_basic_codes() {
        for entry in registry() {
            let name = format!("X.{}.{}", entry.subject, entry.detail);
            if entry.basic_codes == "Any" {
                assert_eq!(entry.classes, ANY_CLASS, "{name}");
            }
            let implied = entry
                .basic_codes
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|token| token.len() == 3)
                .filter_map(|token| match token.as_bytes() {
                    [b'2' | b'3', ..] => Some(2),
                    [b'4', ..] => Some(4),
                    [b'5', ..] => Some(5),
                    _ => None,
                });
            for class in implied {
                assert!(
                    entry.classes.contains(&class),
                    "{name} {}",
                    entry.basic_codes
                );
            }
        }
    }

    /// Reads RFC 4180 CSV as IANA exports it: quoted fields may hold commas,
    /// line breaks and doubled quotes.
    fn read_csv(text: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let mut row = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut field)),
                (false, '\r') => {}
                (false, '\n') => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => field.push(c),
            }
        }
        if !field.is_empty() || !row.is_empty() {
            row.push(field);
            rows.push(row);
        }
        rows
    }

    #[test]
    fn read_csv_handles_quotes_and_line_breaks() {
        let rows = read_csv("\"a\",\"b, c\"\r\n\"say \"\"hi\"\"\",\"two\nlines\"\n,x");
        assert_eq!(
            rows,
            [
                vec!["a", "b, c"],
                vec!["say \"hi\"", "two\nlines"],
                vec!["", "x"]
            ]
        );
    }

    /// One of the registry's CSV exports as rows of named fields, from the
    /// copy the repository keeps for its tests.
    fn registry_csv(part: u8) -> Option<Vec<std::collections::HashMap<String, String>>> {
        let name = format!("iana-smtp-enhanced-status-codes-{part}.csv");
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/it/fixtures/iana")
            .join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut rows = read_csv(&text).into_iter();
        let header = rows.next()?;
        Some(
            rows.map(|row| header.iter().cloned().zip(row).collect())
                .collect(),
        )
    }

    fn one_line(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// "[RFC7372], Section 3.3 (Standards Track)" -> ["RFC 7372"].
    fn cited(reference: &str) -> Vec<String> {
        reference
            .split('[')
            .skip(1)
            .filter_map(|rest| rest.split(']').next())
            .map(|name| match name.strip_prefix("RFC") {
                Some(number) => format!("RFC {number}"),
                None => name.to_owned(),
            })
            .collect()
    }

    /// Our titles are the registry's "Sample Text" and "Summary" columns, with
    /// line breaks inside a title (X.6.8) turned into spaces. X.6.10 has no
    /// sample text in the registry; as a duplicate of X.6.8 it carries
    /// X.6.8's title.
    #[test]
    fn registry_titles_match_iana() {
        let (Some(class_rows), Some(subject_rows), Some(detail_rows)) =
            (registry_csv(1), registry_csv(2), registry_csv(3))
        else {
            panic!("an IANA registry CSV file has no header row");
        };

        assert_eq!(class_rows.len(), classes().len());
        for row in &class_rows {
            let class: u8 = row["Code"][..1].parse().unwrap();
            let ours = classes().iter().find(|c| c.class == class).unwrap();
            assert_eq!(ours.title, row["Summary"], "{}", row["Code"]);
        }

        assert_eq!(subject_rows.len(), subjects().len());
        for row in &subject_rows {
            let subject: u16 = row["Code"].split('.').nth(1).unwrap().parse().unwrap();
            let ours = subjects().iter().find(|s| s.subject == subject).unwrap();
            assert_eq!(ours.title, row["Summary"], "{}", row["Code"]);
        }

        assert_eq!(detail_rows.len(), registry().len());
        for row in &detail_rows {
            let key = row["Code"].strip_prefix("X.").unwrap();
            let ours = EnhancedCode::parse(&format!("5.{key}"))
                .and_then(|c| c.explain().detail)
                .unwrap_or_else(|| panic!("{} missing", row["Code"]));
            let title = one_line(&row["Sample Text"]);
            if title.is_empty() {
                assert_eq!(key, "6.10", "only X.6.10 lacks a sample text");
                assert_eq!(ours.title, registry()[detail_entry_index(6, 8)].title);
                assert_eq!(ours.classes, registry()[detail_entry_index(6, 8)].classes);
            } else {
                assert_eq!(ours.title, title, "{}", row["Code"]);
            }
            assert_eq!(
                ours.basic_codes,
                one_line(&row["Associated basic status code"]),
                "{}",
                row["Code"]
            );
            for source in cited(&row["Reference"]) {
                assert!(
                    ours.reference.contains(&source),
                    "{}: {:?} lacks {source}",
                    row["Code"],
                    ours.reference
                );
            }
        }
    }

    fn detail_entry_index(subject: u16, detail: u16) -> usize {
        registry()
            .iter()
            .position(|e| (e.subject, e.detail) == (subject, detail))
            .unwrap()
    }

    fn valid_code() -> impl Strategy<Value = EnhancedCode> {
        (
            prop::sample::select(vec![2u8, 4, 5]),
            0u16..=999,
            0u16..=999,
        )
            .prop_map(|(class, subject, detail)| code(class, subject, detail))
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(c in valid_code()) {
            prop_assert_eq!(EnhancedCode::parse(&c.to_string()), Some(c));
        }

        #[test]
        fn parse_prefix_finds_the_code_before_text(
            c in valid_code(),
            sep in prop::sample::select(vec![" ", "\t"]),
            rest in "\\PC{0,20}",
        ) {
            let shown = c.to_string();
            let text = format!("{shown}{sep}{rest}");
            prop_assert_eq!(EnhancedCode::parse_prefix(&text), Some((c, shown.len())));
        }

        #[test]
        fn parse_is_parse_prefix_of_the_whole(s in "[0-9.xX ]{0,12}") {
            let whole = EnhancedCode::parse_prefix(&s)
                .filter(|&(_, len)| len == s.len())
                .map(|(c, _)| c);
            prop_assert_eq!(EnhancedCode::parse(&s), whole);
            if let Some(c) = EnhancedCode::parse(&s) {
                prop_assert_eq!(c.to_string(), s);
            }
        }

        #[test]
        fn explain_never_panics(
            class in any::<u8>(),
            subject in any::<u16>(),
            detail in any::<u16>(),
        ) {
            let c = EnhancedCode { class, subject, detail };
            let e = c.explain();
            prop_assert_eq!(e.is_registered(), !e.is_vendor_specific());
        }
    }
}
