//! Reading a recorded SMTP dialog, whatever form it was pasted in.
//!
//! People keep dialogs from tickets, blog posts, RFCs and other tools. This
//! module recognises the common forms — telnet style with `>>`/`<<` and the
//! shell noise around it, RFC style `C:`/`S:`, swaks (` -> `, `<- `, `~>`,
//! `<~`), smtpcli's own transcript, and a bare alternation of typed lines
//! and replies — and turns any of them into the same list of steps: the
//! banner, then each client line with the reply it got. What the shell,
//! telnet, nc or `openssl s_client` added is left out wherever it stands
//! ([`noise`]). Pure: text in, steps out; sending them is the replay
//! driver's business.

mod noise;

use std::fmt;

use crate::proto::reply::Reply;
use crate::text::Untrusted;

/// The form a transcript was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `>>` typed, `<<` shown, with shell and telnet noise around it.
    Telnet,
    /// RFC 5321 Appendix D: `C:` and `S:`.
    Rfc,
    /// swaks: ` -> `, `<- `, ` ~> `, `<~ `, `<** `, ` **> `.
    Swaks,
    /// smtpcli's own transcript: `>>`, `<<`, `~>`, `<~`, `#` notes.
    Smtpcli,
    /// No markers: replies are lines starting with a code.
    Plain,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Telnet => "telnet style (>> and <<)",
            Format::Rfc => "RFC style (C: and S:)",
            Format::Swaks => "swaks style (-> and <-)",
            Format::Smtpcli => "smtpcli transcript",
            Format::Plain => "plain dialog without markers",
        })
    }
}

/// One client line and what the server answered to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// 1-based line number in the transcript, for messages.
    pub line_no: usize,
    /// What the client sent.
    pub kind: StepKind,
    /// The reply recorded for it, if any.
    pub reply: Option<Reply>,
    /// Whether it was sent inside TLS (where the form says).
    pub tls: bool,
}

/// What a step sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// A command line, as the file has it: outside text.
    Command(Untrusted),
    /// A whole message: the lines between `354` and the lone `.`.
    Message(Vec<Untrusted>),
    /// A line that was redacted or is a secret in the recording.
    Secret,
}

/// A transcript, understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The form it was in.
    pub format: Format,
    /// Host and port of a recorded `telnet HOST PORT` line.
    pub target: Option<(String, Option<String>)>,
    /// The banner, if recorded.
    pub banner: Option<Reply>,
    /// Each client step in order.
    pub steps: Vec<Step>,
}

/// Which side a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

/// A transcript line with its marker removed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Marked<'a> {
    line_no: usize,
    side: Option<Side>,
    tls: bool,
    text: &'a str,
    /// Shell or tool output, not SMTP (unless it stands in a message).
    noise: bool,
}

/// Reads a transcript. Never fails: lines it does not understand are
/// skipped (a replay that finds no step says so).
pub fn read(text: &str) -> Recorded {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let format = detect(&lines);
    let mut filter = noise::Filter::default();
    let mut marked = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if format == Format::Swaks && is_swaks_note(line) {
            continue;
        }
        match mark(format, i + 1, line) {
            Some(mut m) => {
                m.noise = filter.is_noise(m.text, m.side == Some(Side::Client));
                marked.push(m);
            }
            // An unmarked line in a marked form: not dialog, but maybe the
            // command that opened the connection.
            None => {
                filter.is_noise(line, false);
            }
        }
    }
    let (banner, steps) = assemble(format, &marked);
    Recorded {
        format,
        target: filter.target,
        banner,
        steps,
    }
}

fn detect(lines: &[&str]) -> Format {
    let count = |f: &dyn Fn(&str) -> bool| lines.iter().filter(|l| f(l)).count();
    let swaks = count(&|l| l.starts_with(" -> ") || l.starts_with("<-  ") || l.starts_with("<~  "));
    let rfc = count(&|l| l.starts_with("C: ") || l.starts_with("S: "));
    let arrows = count(&|l| l.starts_with(">> ") || l.starts_with("<< ") || l == ">>");
    let ours = count(&|l| l.starts_with("~> ") || l.starts_with("<~ ") || l.starts_with("# "));
    let best = swaks.max(rfc).max(arrows);
    if best == 0 {
        Format::Plain
    } else if best == swaks {
        Format::Swaks
    } else if best == rfc {
        Format::Rfc
    } else if ours > 0 {
        Format::Smtpcli
    } else {
        Format::Telnet
    }
}

/// swaks' own lines (`=== Trying …`, `*** …`).
fn is_swaks_note(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("=== ") || t.starts_with("*** ")
}

fn mark(format: Format, line_no: usize, line: &str) -> Option<Marked<'_>> {
    let m = |side, tls, text| {
        Some(Marked {
            line_no,
            side,
            tls,
            text,
            noise: false,
        })
    };
    let after = |prefix: &str| line.strip_prefix(prefix);
    match format {
        Format::Telnet | Format::Smtpcli => {
            if line.starts_with('#') {
                return None;
            }
            if let Some(t) = after(">> ").or(after(">>").filter(|t| t.is_empty())) {
                return m(Some(Side::Client), false, t);
            }
            if let Some(t) = after("~> ") {
                return m(Some(Side::Client), true, t);
            }
            if let Some(t) = after("<< ") {
                return m(Some(Side::Server), false, t);
            }
            if let Some(t) = after("<~ ") {
                return m(Some(Side::Server), true, t);
            }
            // Unmarked lines between marked ones: prompts and the like.
            None
        }
        Format::Rfc => {
            if let Some(t) = after("C: ").or(after("C:")) {
                return m(Some(Side::Client), false, t);
            }
            if let Some(t) = after("S: ").or(after("S:")) {
                return m(Some(Side::Server), false, t);
            }
            None
        }
        Format::Swaks => {
            for (prefix, side, tls) in [
                (" -> ", Side::Client, false),
                (" ~> ", Side::Client, true),
                (" **> ", Side::Client, false),
                ("<-  ", Side::Server, false),
                ("<~  ", Side::Server, true),
                ("<** ", Side::Server, false),
                ("<~* ", Side::Server, true),
            ] {
                if let Some(t) = after(prefix) {
                    return m(Some(side), tls, t);
                }
            }
            None
        }
        Format::Plain => m(None, false, line),
    }
}

/// Whether a line looks like a reply line: three digits, then space,
/// hyphen or the end.
fn is_reply_line(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 3
        && b[..3].iter().all(u8::is_ascii_digit)
        && matches!(b.get(3), None | Some(b' ' | b'-'))
}

/// Groups marked lines into the banner and steps, tracking DATA so a body
/// line like "250 apples" stays text.
fn assemble(format: Format, lines: &[Marked<'_>]) -> (Option<Reply>, Vec<Step>) {
    let mut banner = None;
    let mut steps: Vec<Step> = Vec::new();
    let mut reply_text = String::new();
    let mut in_message: Option<(usize, Vec<Untrusted>, bool)> = None;
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        i += 1;
        if let Some((_, body, _)) = in_message.as_mut() {
            // In a message every client line (or, unmarked, every line) is
            // text until the lone dot.
            if l.side != Some(Side::Server) {
                if l.text == "." {
                    if let Some((line_no, body, tls)) = in_message.take() {
                        steps.push(Step {
                            line_no,
                            kind: StepKind::Message(body),
                            reply: None,
                            tls,
                        });
                    }
                } else {
                    body.push(unstuff(format, l.text));
                }
                continue;
            }
        }
        if l.noise {
            continue;
        }
        if l.side.is_none() && l.text.trim().is_empty() {
            // Blank lines between commands of an unmarked dialog.
            continue;
        }
        let side = l.side.unwrap_or(if is_reply_line(l.text) {
            Side::Server
        } else {
            Side::Client
        });
        match side {
            Side::Server => {
                reply_text.push_str(l.text);
                reply_text.push_str("\r\n");
                let last_line = l.text.as_bytes().get(3) != Some(&b'-');
                let next_is_server = lines.get(i).is_some_and(|n| {
                    n.side == Some(Side::Server) || (n.side.is_none() && is_reply_line(n.text))
                });
                if last_line || !next_is_server {
                    let reply = Reply::parse_all(reply_text.as_bytes()).into_iter().next();
                    reply_text.clear();
                    let go_data = reply
                        .as_ref()
                        .and_then(Reply::code)
                        .is_some_and(|c| c.value() == 354);
                    match steps.last_mut() {
                        Some(step) if step.reply.is_none() => step.reply = reply,
                        None if banner.is_none() => banner = reply,
                        _ => {}
                    }
                    if go_data {
                        in_message = Some((l.line_no + 1, Vec::new(), l.tls));
                    }
                }
            }
            Side::Client => {
                let kind =
                    if l.text.starts_with("[secret redacted") || l.text.starts_with("[redacted") {
                        StepKind::Secret
                    } else {
                        StepKind::Command(Untrusted::from(l.text))
                    };
                steps.push(Step {
                    line_no: l.line_no,
                    kind,
                    reply: None,
                    tls: l.tls,
                });
            }
        }
    }
    // A message without its final reply (the recording ended there).
    if let Some((line_no, body, tls)) = in_message {
        steps.push(Step {
            line_no,
            kind: StepKind::Message(body),
            reply: None,
            tls,
        });
    }
    (banner, steps)
}

/// Message text as typed. Transcripts show what was typed, so a `..` is
/// kept; only swaks shows the wire form, dot-stuffed, which is undone.
fn unstuff(format: Format, text: &str) -> Untrusted {
    Untrusted::from(match format {
        Format::Swaks => text
            .strip_prefix('.')
            .filter(|t| t.starts_with('.'))
            .unwrap_or(text),
        _ => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(r: &Recorded) -> Vec<String> {
        r.steps
            .iter()
            .map(|s| match &s.kind {
                StepKind::Command(c) => c.unchecked_str().into_owned(),
                StepKind::Message(lines) => format!("<message {} lines>", lines.len()),
                StepKind::Secret => "<secret>".into(),
            })
            .collect()
    }

    fn codes(r: &Recorded) -> Vec<Option<u16>> {
        r.steps
            .iter()
            .map(|s| s.reply.as_ref().and_then(Reply::code).map(|c| c.value()))
            .collect()
    }

    const PLAIN: &str = "\
220 mailserver.example.com ESMTP Postfix (Debian/GNU)
helo pc0815.example.com
250 mailserver.example.com
mail from:absender@example.org
250 2.1.0 Ok
rcpt to:empfaenger@example.org
250 2.1.5 Ok
data
354 End data with <CR><LF>.<CR><LF>
Dies ist eine Testmail.
250 apples are not a reply here
.
250 2.0.0 Ok: queued as 708D72C80BE
quit
221 2.0.0 Bye
";

    #[test]
    fn a_plain_dialog_tracks_data() {
        let r = read(PLAIN);
        assert_eq!(r.format, Format::Plain);
        assert_eq!(
            r.banner.as_ref().and_then(Reply::code).map(|c| c.value()),
            Some(220)
        );
        assert_eq!(
            commands(&r),
            [
                "helo pc0815.example.com",
                "mail from:absender@example.org",
                "rcpt to:empfaenger@example.org",
                "data",
                "<message 2 lines>",
                "quit"
            ]
        );
        assert_eq!(
            codes(&r),
            [
                Some(250),
                Some(250),
                Some(250),
                Some(354),
                Some(250),
                Some(221)
            ]
        );
        let StepKind::Message(body) = &r.steps[4].kind else {
            panic!("a message")
        };
        assert_eq!(body[1], "250 apples are not a reply here");
    }

    #[test]
    fn telnet_style_with_shell_noise() {
        let text = "\
admin@pc0815:~$ telnet mailserver.example.com 25
Trying 192.0.2.25...
Connected to mailserver.example.com.
Escape character is '^]'.
<< 220 mailserver.example.com ESMTP Postfix (Debian/GNU)
>> ehlo pc0815.example.com
<< 250-mailserver.example.com
<< 250-PIPELINING
<< 250 CHUNKING
>> data
<< 354 End data with <CR><LF>.<CR><LF>
>> Subject: x
>>
>> body
>> .
<< 250 2.0.0 Ok: queued as 1234
>> quit
<< 221 2.0.0 Bye
Connection closed by foreign host.
";
        let r = read(text);
        assert_eq!(r.format, Format::Telnet);
        assert_eq!(
            r.target,
            Some(("mailserver.example.com".into(), Some("25".into())))
        );
        assert_eq!(
            commands(&r),
            [
                "ehlo pc0815.example.com",
                "data",
                "<message 3 lines>",
                "quit"
            ]
        );
        assert_eq!(codes(&r), [Some(250), Some(354), Some(250), Some(221)]);
        assert_eq!(r.steps[0].reply.as_ref().map(|r| r.lines.len()), Some(3));
    }

    #[test]
    fn rfc_style() {
        let text = "\
S: 220 foo.com Simple Mail Transfer Service Ready
C: EHLO bar.com
S: 250-foo.com greets bar.com
S: 250-8BITMIME
S: 250 HELP
C: MAIL FROM:<Smith@bar.com>
S: 250 OK
C: RCPT TO:<Jones@foo.com>
S: 250 OK
C: RCPT TO:<Green@foo.com>
S: 550 No such user here
C: DATA
S: 354 Start mail input; end with <CRLF>.<CRLF>
C: Blah blah blah...
C: ...etc. etc. etc.
C: .
S: 250 OK
C: QUIT
S: 221 foo.com Service closing transmission channel
";
        let r = read(text);
        assert_eq!(r.format, Format::Rfc);
        assert_eq!(
            codes(&r),
            [
                Some(250),
                Some(250),
                Some(250),
                Some(550),
                Some(354),
                Some(250),
                Some(221)
            ]
        );
    }

    #[test]
    fn swaks_style_with_tls_markers() {
        let text = "\
=== Trying 127.0.0.1:2525...
=== Connected to 127.0.0.1.
<-  220 mailserver.example.com ESMTP Postfix (Debian/GNU)
 -> EHLO pc0815.example.com
<-  250-mailserver.example.com
<-  250 STARTTLS
 -> STARTTLS
<-  220 2.0.0 Ready to start TLS
=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256
 ~> EHLO pc0815.example.com
<~  250-mailserver.example.com
<~  250 AUTH PLAIN LOGIN
 ~> MAIL FROM:<a@example.org>
<~  250 2.1.0 Ok
 ~> RCPT TO:<nosuchuser@example.org>
<~* 550 5.1.1 <nosuchuser@example.org>: Recipient address rejected
 ~> QUIT
<~  221 2.0.0 Bye
=== Connection closed with remote host.
";
        let r = read(text);
        assert_eq!(r.format, Format::Swaks);
        assert_eq!(
            codes(&r),
            [
                Some(250),
                Some(220),
                Some(250),
                Some(250),
                Some(550),
                Some(221)
            ]
        );
        assert!(r.steps[2].tls && !r.steps[1].tls);
    }

    #[test]
    fn smtpcli_transcript_skips_notes_and_secrets() {
        let text = "\
# connected to 127.0.0.1 port 2525 from 127.0.0.1 port 40312 in 0.2 ms
<< 220 mailserver.example.com ESMTP Postfix (Debian/GNU)
# banner after 2.1 ms
~> AUTH LOGIN
<~ 334 VXNlcm5hbWU6
# challenge: \"Username:\"
~> [secret redacted, 8 bytes]
<~ 235 2.7.0 Authentication successful
";
        let r = read(text);
        assert_eq!(r.format, Format::Smtpcli);
        assert_eq!(commands(&r), ["AUTH LOGIN", "<secret>"]);
        assert_eq!(codes(&r), [Some(334), Some(235)]);
    }

    #[test]
    fn nothing_to_replay_in_noise() {
        let r = read("hello\nworld\n");
        assert_eq!(r.format, Format::Plain);
        assert!(r.banner.is_none());
        assert_eq!(commands(&r), ["hello", "world"]);
        assert_eq!(read("").steps, []);
    }
}
