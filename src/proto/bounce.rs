//! Reading a pasted bounce: what `smtpcli --explain -` understands.
//!
//! People paste whatever they have: a whole delivery status notification
//! (RFC 3464, with `Status:`, `Action:`, `Diagnostic-Code:` fields), the
//! human-readable part of one ("host mx.example.org said: 550 5.1.1 …"), or
//! reply lines copied from a log, including Gmail's multi-line
//! `550-5.7.26 …` form. This module finds the facts in that text; rendering
//! them is the UI's job.

use super::codes::ReplyCode;
use super::enhanced::EnhancedCode;
use super::reply::Reply;

/// One recipient's block of a DSN (RFC 3464 §2.3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecipientStatus {
    /// `Final-Recipient:` without its address type.
    pub final_recipient: Option<String>,
    /// `Original-Recipient:` without its address type.
    pub original_recipient: Option<String>,
    /// `Action:` (failed, delayed, delivered, relayed, expanded).
    pub action: Option<String>,
    /// `Status:` as written.
    pub status_text: Option<String>,
    /// `Status:` parsed.
    pub status: Option<EnhancedCode>,
    /// `Remote-MTA:` without its type.
    pub remote_mta: Option<String>,
    /// `Diagnostic-Code:`.
    pub diagnostic: Option<Diagnostic>,
}

/// A `Diagnostic-Code:` field: usually `smtp; 550 5.1.1 …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The diagnostic type (`smtp`, `x-postfix`, …).
    pub kind: String,
    /// The text after the type, unfolded.
    pub text: String,
    /// The reply code the text starts with, if any.
    pub code: Option<ReplyCode>,
    /// The enhanced code following the reply code, if any.
    pub enhanced: Option<EnhancedCode>,
}

/// A reply code with an enhanced code found in running text, such as
/// "host mx said: 550 5.1.1 <x@y>: User unknown".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mention {
    /// The basic code.
    pub code: ReplyCode,
    /// The enhanced code, if one followed.
    pub enhanced: Option<EnhancedCode>,
    /// The rest of the text after the codes, trimmed.
    pub text: String,
}

/// Everything recognised in a pasted bounce.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bounce {
    /// `Reporting-MTA:` of the per-message block.
    pub reporting_mta: Option<String>,
    /// The per-recipient blocks, in order.
    pub recipients: Vec<RecipientStatus>,
    /// Lines that are SMTP replies by themselves (`550-5.7.26 …`), grouped
    /// into replies.
    pub replies: Vec<Reply>,
    /// Codes found inside prose lines.
    pub mentions: Vec<Mention>,
}

impl Bounce {
    /// True if nothing was recognised.
    pub fn is_empty(&self) -> bool {
        self.reporting_mta.is_none()
            && self.recipients.is_empty()
            && self.replies.is_empty()
            && self.mentions.is_empty()
    }
}

/// Reads pasted bounce text. Never fails: what it does not understand it
/// leaves out.
pub fn read(text: &str) -> Bounce {
    let mut bounce = Bounce::default();
    let mut reply_lines = String::new();
    let mut current: Option<RecipientStatus> = None;

    for (name, value) in unfold(text) {
        let Some(name) = name else {
            // Not a header field: a reply line, or prose that may mention codes.
            let line = value.trim_start_matches(['>', ' ', '\t']);
            if is_reply_line(line) {
                reply_lines.push_str(line);
                reply_lines.push_str("\r\n");
            } else {
                flush_replies(&mut bounce, &mut reply_lines);
                bounce.mentions.extend(mentions(line));
            }
            continue;
        };
        flush_replies(&mut bounce, &mut reply_lines);
        let value = value.trim().to_string();
        match name.to_ascii_lowercase().as_str() {
            "reporting-mta" => bounce.reporting_mta = Some(after_type(&value)),
            "final-recipient" => {
                // A new recipient block starts with Final-Recipient.
                if let Some(done) = current.take() {
                    bounce.recipients.push(done);
                }
                current = Some(RecipientStatus {
                    final_recipient: Some(after_type(&value)),
                    ..RecipientStatus::default()
                });
            }
            "original-recipient" => {
                recipient(&mut current).original_recipient = Some(after_type(&value));
            }
            "action" => recipient(&mut current).action = Some(value.to_ascii_lowercase()),
            "status" => {
                let first = value.split_whitespace().next().unwrap_or("");
                let r = recipient(&mut current);
                r.status = EnhancedCode::parse(first);
                r.status_text = Some(value);
            }
            "remote-mta" => recipient(&mut current).remote_mta = Some(after_type(&value)),
            "diagnostic-code" => recipient(&mut current).diagnostic = Some(diagnostic(&value)),
            _ => {}
        }
    }
    flush_replies(&mut bounce, &mut reply_lines);
    bounce.recipients.extend(current);
    bounce
}

fn recipient(current: &mut Option<RecipientStatus>) -> &mut RecipientStatus {
    current.get_or_insert_with(RecipientStatus::default)
}

fn flush_replies(bounce: &mut Bounce, pending: &mut String) {
    if !pending.is_empty() {
        bounce
            .replies
            .extend(Reply::parse_all(std::mem::take(pending).as_bytes()));
    }
}

/// Splits text into header-like fields, joining folded continuation lines
/// (RFC 5322 §2.2.3). Lines that are not `Name: value` come back with no name.
fn unfold(text: &str) -> Vec<(Option<&str>, String)> {
    let mut out: Vec<(Option<&str>, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let folded = line.starts_with([' ', '\t']);
        if folded && let Some((Some(_), value)) = out.last_mut() {
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        match field_name(line) {
            Some((name, value)) => out.push((Some(name), value.to_string())),
            None => out.push((None, line.to_string())),
        }
    }
    out
}

/// `Name: value` where the name is a header field name (no spaces).
fn field_name(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then_some((name, value))
}

/// `rfc822; user@example.org` → `user@example.org`.
fn after_type(value: &str) -> String {
    match value.split_once(';') {
        Some((_, rest)) => rest.trim().to_string(),
        None => value.trim().to_string(),
    }
}

fn diagnostic(value: &str) -> Diagnostic {
    let (kind, text) = match value.split_once(';') {
        Some((kind, text)) => (kind.trim().to_string(), text.trim().to_string()),
        None => (String::new(), value.trim().to_string()),
    };
    let leading = leading_codes(&text);
    Diagnostic {
        kind,
        code: leading.as_ref().map(|m| m.code),
        enhanced: leading.and_then(|m| m.enhanced),
        text,
    }
}

/// A line that is an SMTP reply line on its own: three digits, then a space,
/// a hyphen or the end.
fn is_reply_line(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() >= 3
        && b[..3].iter().all(u8::is_ascii_digit)
        && matches!(b[0], b'2'..=b'5')
        && matches!(b.get(3), None | Some(b' ' | b'-'))
}

/// `550 5.1.1 text` or `550-5.7.26 text` at the start of `text`.
fn leading_codes(text: &str) -> Option<Mention> {
    let code = ReplyCode::from_digits(text.as_bytes().get(..3)?)?;
    if !matches!(text.as_bytes().get(3), None | Some(b' ' | b'-')) {
        return None;
    }
    let rest = text.get(4..).unwrap_or("").trim_start();
    let (enhanced, rest) = match EnhancedCode::parse_prefix(rest) {
        Some((e, len)) => (Some(e), &rest[len..]),
        None => (None, rest),
    };
    Some(Mention {
        code,
        enhanced,
        text: rest.trim().to_string(),
    })
}

/// Codes mentioned inside prose: every place a word of three digits in the
/// 2xx–5xx range is followed by an enhanced code ("said: 550 5.1.1 …").
/// A lone three-digit number is not taken: prose is full of them.
fn mentions(line: &str) -> Vec<Mention> {
    let mut found = Vec::new();
    let mut at = 0;
    while at < line.len() {
        let rest = &line[at..];
        let word_start = at == 0 || !line.as_bytes()[at - 1].is_ascii_alphanumeric();
        if word_start
            && is_reply_line(rest)
            && let Some(m) = leading_codes(rest)
            && m.enhanced.is_some()
        {
            found.push(m);
        }
        at += rest.chars().next().map_or(1, char::len_utf8);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSTFIX_DSN: &str = "\
This is the mail system at host mailserver.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<nosuchuser@example.net>: host mx.example.net[192.0.2.1] said: 550 5.1.1
    <nosuchuser@example.net>: Recipient address rejected: User unknown (in
    reply to RCPT TO command)

Reporting-MTA: dns; mailserver.example.com
X-Postfix-Queue-ID: 708D72C80BE
Arrival-Date: Sat, 28 Nov 2026 09:00:00 +0000 (UTC)

Final-Recipient: rfc822; nosuchuser@example.net
Original-Recipient: rfc822;nosuchuser@example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <nosuchuser@example.net>: Recipient address
    rejected: User unknown
";

    #[test]
    fn reads_a_postfix_dsn() {
        let b = read(POSTFIX_DSN);
        assert_eq!(b.reporting_mta.as_deref(), Some("mailserver.example.com"));
        assert_eq!(b.recipients.len(), 1);
        let r = &b.recipients[0];
        assert_eq!(r.final_recipient.as_deref(), Some("nosuchuser@example.net"));
        assert_eq!(
            r.original_recipient.as_deref(),
            Some("nosuchuser@example.net")
        );
        assert_eq!(r.action.as_deref(), Some("failed"));
        assert_eq!(r.status.map(|s| s.to_string()).as_deref(), Some("5.1.1"));
        assert_eq!(r.remote_mta.as_deref(), Some("mx.example.net"));
        let d = r.diagnostic.as_ref().expect("diagnostic");
        assert_eq!(d.kind, "smtp");
        assert_eq!(d.code.map(|c| c.value()), Some(550));
        assert_eq!(d.enhanced.map(|e| e.to_string()).as_deref(), Some("5.1.1"));
        assert!(d.text.ends_with("Recipient address rejected: User unknown"));
        // The prose part mentions the same code.
        assert_eq!(b.mentions.len(), 1);
        assert_eq!(b.mentions[0].code.value(), 550);
    }

    #[test]
    fn reads_gmail_reply_lines() {
        let text = "\
The response from the remote server was:
550-5.7.26 This mail has been blocked because the sender is unauthenticated.
550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.
550 5.7.26  Learn more at https://support.google.com/mail/answer/81126 - gsmtp
";
        let b = read(text);
        assert_eq!(b.replies.len(), 1);
        let r = &b.replies[0];
        assert_eq!(r.lines.len(), 3);
        assert_eq!(r.code().map(|c| c.value()), Some(550));
        assert_eq!(
            r.enhanced_code().map(|e| e.to_string()).as_deref(),
            Some("5.7.26")
        );
    }

    #[test]
    fn several_recipients_and_quoted_text() {
        let text = "\
> Final-Recipient: rfc822; a@example.org
> Action: delayed
> Status: 4.4.1
>
> Final-Recipient: rfc822; b@example.org
> Action: failed
> Status: 5.2.2 (mailbox full)
";
        // Quoted DSNs are common in tickets: strip the quoting first.
        let unquoted: String = text
            .lines()
            .map(|l| l.trim_start_matches('>').trim_start())
            .collect::<Vec<_>>()
            .join("\n");
        let b = read(&unquoted);
        let statuses: Vec<String> = b
            .recipients
            .iter()
            .filter_map(|r| r.status.map(|s| s.to_string()))
            .collect();
        assert_eq!(statuses, ["4.4.1", "5.2.2"]);
        assert_eq!(b.recipients[1].action.as_deref(), Some("failed"));
    }

    #[test]
    fn prose_numbers_are_not_codes() {
        let b = read("We tried 300 times over 250 minutes.\nPort 587 was used.\n");
        assert!(b.is_empty(), "{b:?}");
    }

    #[test]
    fn nothing_recognised_in_garbage() {
        assert!(read("").is_empty());
        assert!(read("\u{1b}[2J\0\0 nonsense: here").is_empty());
    }
}
