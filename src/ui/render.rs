//! Session events rendered in the one transcript format.
//!
//! What the screen shows (without colour), what `:log` writes and what a
//! replay reads are the same text: `>>` for lines sent, `<<` for lines
//! received (`~>` and `<~` inside TLS), the server's text first and verbatim
//! (escaped, never raw), then explanations and notes on lines of their own
//! starting with `#`, one explanation per reply. Colour, when on, follows
//! the reply class.
//!
//! On a terminal, long lines are wrapped at its width (continuation rows
//! indented, notes keeping their `#`), and `:hex on` adds a dump of the
//! exact bytes each way, as notes. A `:log` or a pipe gets neither.

use std::io::{self, Write};
use std::time::Duration;

use super::Output;
use super::hexdump;
use super::theme::{Role, Theme};
pub(crate) use super::wrap::Wrap;
use crate::exit::Exit;
use crate::net::ConnectFacts;
use crate::proto::auth::Challenge;
use crate::proto::explain;
use crate::proto::reply::Reply;
use crate::session::{Event, EventSink, ReplyTo, Sent};
use crate::text::{escape, escape_str};

/// Renders events to a writer.
pub(crate) struct Renderer<W: Write> {
    out: W,
    theme: Theme,
    /// Show each reply's latency.
    pub timing: bool,
    /// Dump the bytes sent and received (`:hex on`).
    pub hex: bool,
    /// Wrap long lines.
    pub wrap: Wrap,
    /// The width for this event, once asked (the terminal is asked once
    /// per event, not once per line).
    width: Option<Option<usize>>,
    error: Option<io::Error>,
    log: Option<Box<dyn Write + Send>>,
}

impl<W: Write> Renderer<W> {
    /// A renderer writing to `out`, painting with `theme`.
    pub(crate) fn new(out: W, theme: Theme) -> Self {
        Renderer {
            out,
            theme,
            timing: false,
            hex: false,
            wrap: Wrap::Off,
            width: None,
            error: None,
            log: None,
        }
    }

    /// The first write error, if any (a closed pipe, usually).
    pub(crate) fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// The writer, for tests.
    #[cfg(test)]
    pub(crate) fn into_inner(self) -> W {
        self.out
    }

    /// Writes a note line (`# …`).
    pub(crate) fn note(&mut self, text: &str) {
        let text = escape_str(text);
        if text.is_empty() {
            self.line(Role::Note, "#");
        } else {
            self.line(Role::Note, &format!("# {text}"));
        }
    }

    /// Writes a warning line (`# warning: …`).
    pub(crate) fn warning(&mut self, text: &str) {
        self.line(Role::Warning, &format!("# warning: {}", escape_str(text)));
    }

    /// Starts (or, with `None`, stops) copying the transcript, uncoloured,
    /// to `log`.
    pub(crate) fn set_log(&mut self, log: Option<Box<dyn Write + Send>>) {
        if let Some(old) = self.log.as_mut() {
            let _ = old.flush();
        }
        self.log = log;
    }

    /// Writes an error line (`# error: …`), for drivers that show errors in
    /// the transcript rather than on stderr.
    pub(crate) fn error_line(&mut self, text: &str) {
        self.line(Role::Warning, &format!("# error: {}", escape_str(text)));
    }

    /// Writes everything buffered.
    pub(crate) fn flush(&mut self) {
        if let Some(log) = self.log.as_mut() {
            let _ = log.flush();
        }
        if let Err(e) = self.out.flush() {
            self.error.get_or_insert(e);
        }
    }

    /// Writes one line of the transcript (already escaped), painted for
    /// `role`, wrapped when wrapping is on: each row is painted on its own,
    /// so no colour runs past a row's end. The log gets it plain, unwrapped.
    fn line(&mut self, role: Role, text: &str) {
        if let Some(log) = self.log.as_mut()
            && writeln!(log, "{text}").is_err()
        {
            // A full disk must not end the session: stop logging.
            self.log = None;
        }
        if self.error.is_some() {
            return;
        }
        let wrap = self.wrap;
        let width = *self.width.get_or_insert_with(|| wrap.width());
        for row in super::wrap::rows(text, width) {
            let painted = self.theme.paint(role, &row);
            if let Err(e) = writeln!(self.out, "{painted}") {
                self.error = Some(e);
                return;
            }
        }
    }

    fn hex_dump(&mut self, bytes: &[u8]) {
        for row in hexdump::dump(bytes) {
            self.line(Role::Note, &format!("#   {row}"));
        }
    }

    fn connected(&mut self, facts: &ConnectFacts) {
        if facts.addresses.len() > 1 {
            let list: Vec<String> = facts.addresses.iter().map(ToString::to_string).collect();
            self.note(&format!(
                "{} has {} addresses: {}",
                facts.target.host,
                list.len(),
                list.join(", ")
            ));
        }
        if !facts.mx.is_empty() {
            match facts.mx.as_slice() {
                [own] if own.preference.is_none() => self.note(&format!(
                    "{} has no MX records: using its own address (RFC 5321 §5.1)",
                    facts.target.host
                )),
                hosts => {
                    self.note(&format!(
                        "MX hosts of {}, by preference:",
                        facts.target.host
                    ));
                    for h in hosts {
                        let addrs = match (&h.error, h.addresses.is_empty()) {
                            (Some(e), _) => e.clone(),
                            (None, true) => "no address".into(),
                            (None, false) => h
                                .addresses
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(", "),
                        };
                        self.note(&format!(
                            "  {:>5} {} ({addrs})",
                            h.preference.map(|p| p.to_string()).unwrap_or_default(),
                            h.name.escaped()
                        ));
                    }
                }
            }
        }
        for attempt in &facts.failed {
            match attempt.addr {
                Some(addr) => self.warning(&format!("{addr}: {}", attempt.error)),
                None => self.warning(&attempt.error),
            }
        }
        let to = match &facts.socks5 {
            // The proxy resolves a name: its address is not known here.
            Some(tunnel) => format!(
                "{} port {} via SOCKS5 {}{}",
                tunnel.target.host(),
                tunnel.target.port(),
                facts.peer,
                tunnel
                    .user
                    .as_ref()
                    .map(|user| format!(" as {user}"))
                    .unwrap_or_default()
            ),
            None => format!(
                "{} port {}{}",
                facts.peer.ip(),
                facts.peer.port(),
                facts
                    .via
                    .as_ref()
                    .map(|v| format!(" ({})", v.escaped()))
                    .unwrap_or_default()
            ),
        };
        self.note(&format!(
            "connected to {to} from {} port {} in {}",
            facts.local.ip(),
            facts.local.port(),
            millis(facts.connect_time)
        ));
        if let Some(bound) = facts.socks5.as_ref().and_then(|t| t.bound.as_ref()) {
            self.note(&format!(
                "the server sees the proxy's {} port {}",
                bound.host(),
                bound.port()
            ));
        }
    }

    fn sent(&mut self, what: &Sent, tls: bool) {
        let mark = if tls { "~>" } else { ">>" };
        let text = match what {
            Sent::Command(text) | Sent::Text(text) => escape_str(text),
            Sent::EndOfMessage => ".".to_string(),
            Sent::Secret { len } => format!("[secret redacted, {len} bytes]"),
            Sent::Raw(bytes) => format!("{} (raw, {} bytes)", escape(bytes), bytes.len()),
        };
        self.line(Role::Sent, &format!("{mark} {text}"));
        if self.hex
            && let Some(wire) = hexdump::sent_bytes(what)
        {
            self.hex_dump(&wire);
        }
    }

    fn reply(&mut self, reply: &Reply, to: ReplyTo, tls: bool, latency: Duration) {
        let mark = if tls { "<~" } else { "<<" };
        let role = Role::Class(reply.class_digit().unwrap_or(0));
        for line in &reply.lines {
            self.line(role, &format!("{mark} {}", escape(&line.raw)));
        }
        if self.hex {
            self.hex_dump(&hexdump::received_bytes(reply));
            let dropped: u64 = reply.lines.iter().map(|l| l.dropped).sum();
            if dropped > 0 {
                self.note(&format!("  ({dropped} bytes over the line limit not kept)"));
            }
        }
        for anomaly in &reply.anomalies {
            self.warning(&anomaly.to_string());
        }
        let mut notes = Vec::new();
        if let Some(explained) = explanation(reply) {
            notes.push(explained);
        }
        match to {
            ReplyTo::Banner => notes.push(format!("banner after {}", millis(latency))),
            ReplyTo::Unsolicited => notes.push("sent by the server unasked".into()),
            ReplyTo::Late(awaited) => notes.push(format!(
                "late reply to {awaited} (waiting had been stopped with Ctrl-C)"
            )),
            ReplyTo::Command(_) | ReplyTo::Message if self.timing => {
                notes.push(millis(latency));
            }
            _ => {}
        }
        if !notes.is_empty() {
            self.note(&notes.join(" · "));
        }
    }

    fn closed(&mut self, by_server: bool, reset: bool, partial: Option<&Reply>) {
        if let Some(partial) = partial {
            self.reply(partial, ReplyTo::Unsolicited, false, Duration::ZERO);
        }
        match (by_server, reset) {
            (true, true) => self.note("Connection reset by foreign host."),
            (true, false) => self.note("Connection closed by foreign host."),
            (false, _) => self.note("Connection closed."),
        }
    }
}

impl<W: Write> EventSink for Renderer<W> {
    fn flush(&mut self) {
        Renderer::flush(self);
    }

    fn event(&mut self, event: Event) {
        // The terminal may have been resized since the last event.
        self.width = None;
        match &event {
            Event::Connected(facts) => self.connected(facts),
            Event::ConnectedUnix { path, connect_time } => self.note(&format!(
                "connected to the UNIX socket {} in {}",
                path.display(),
                millis(*connect_time)
            )),
            Event::PerRecipient(results) => {
                for line in per_recipient_table(results) {
                    self.note(&line);
                }
            }
            Event::Sent { what, tls } => self.sent(what, *tls),
            Event::Reply {
                reply,
                to,
                tls,
                latency,
            } => self.reply(reply, *to, *tls, *latency),
            Event::Note(text) => self.note(text),
            Event::Warning(text) => self.warning(text),
            // The REPL shows it as a status line; a transcript has no use
            // for it.
            Event::Waiting { .. } => return,
            Event::Tls(report) => {
                for l in super::tls::report_lines(report) {
                    if l.warning {
                        self.warning(&l.text);
                    } else {
                        self.note(&l.text);
                    }
                }
            }
            Event::Resumption(attempt) => {
                for l in super::tls::resume_lines(attempt) {
                    if l.warning {
                        self.warning(&l.text);
                    } else {
                        self.note(&l.text);
                    }
                }
            }
            Event::Progress { sent, total } => {
                let text = match total {
                    Some(total) => format!("sent {} of {}", mib(*sent), mib(*total)),
                    None => format!("sent {}", mib(*sent)),
                };
                self.note(&text);
            }
            Event::Delivery(delivery) => {
                for line in delivery_table(delivery) {
                    self.note(&line);
                }
            }
            Event::Expect { expected, got, met } => {
                let got = match got {
                    Some((code, enhanced)) => {
                        let code = code.map_or("no code".to_string(), |c| c.to_string());
                        match enhanced {
                            Some(e) => format!("{code} {e}"),
                            None => code,
                        }
                    }
                    None => "no reply yet".to_string(),
                };
                if *met {
                    self.note(&format!("expect {expected}: ok"));
                } else {
                    self.warning(&format!("expect {expected}: FAILED, got {got}"));
                }
            }
            Event::Closed {
                by_server,
                reset,
                partial,
            } => self.closed(*by_server, *reset, partial.as_ref()),
        }
        // Written out when something arrived or happened, after which the
        // engine usually waits; what was sent and notes about it go out
        // with that, not one write each. (Drivers flush before they wait for
        // input.)
        if !matches!(event, Event::Sent { .. } | Event::Note(_)) {
            self.flush();
        }
    }
}

impl<W: Write> Output for Renderer<W> {
    fn take_error(&mut self) -> Option<io::Error> {
        Renderer::take_error(self)
    }

    fn error(&mut self, message: &str) {
        // The transcript first, so the error line comes after what led to it.
        Renderer::flush(self);
        crate::text::print_error(message);
    }

    fn info(&mut self, lines: &[String]) {
        for line in lines {
            self.note(line);
        }
        Renderer::flush(self);
    }

    fn set_timing(&mut self, on: bool) {
        self.timing = on;
    }

    fn set_hex(&mut self, on: bool) {
        self.hex = on;
    }

    fn set_colour(&mut self, on: bool) {
        self.theme = Theme::new(on);
    }

    fn set_wrap(&mut self, on: bool) {
        self.wrap = if on { Wrap::Terminal } else { Wrap::Off };
    }

    fn view(&self) -> super::View {
        super::View {
            colour: self.theme.is_colored(),
            wrap: self.wrap != Wrap::Off,
            timing: self.timing,
            hex: self.hex,
        }
    }

    fn plain(&mut self, lines: &[String]) {
        for line in lines {
            self.line(Role::Plain, &escape_str(line));
        }
        Renderer::flush(self);
    }

    fn end(&mut self, exit: Exit, why: Option<&str>) {
        if let Some(why) = why.filter(|_| exit != Exit::Success) {
            self.warning(&format!("exit {}: {why}", exit.code()));
            self.flush();
        }
    }

    fn set_log(&mut self, log: Option<Box<dyn Write + Send>>) {
        Renderer::set_log(self, log);
    }
}

/// A reply's explanation on one line (the transcript's `#` line after a
/// reply, JSON's `explanation`, the replay table's note): the parts of
/// [`crate::proto::explain::reply`], a challenge's bytes escaped.
pub(crate) fn explanation(reply: &Reply) -> Option<String> {
    let parts: Vec<String> = explain::reply(reply).iter().map(part_text).collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// One part as text; server bytes go through the sanitiser.
pub(crate) fn part_text(part: &explain::Part) -> String {
    match part {
        explain::Part::Challenge(Challenge::Empty) => "challenge: (empty)".to_string(),
        explain::Part::Challenge(Challenge::Decoded(text)) => {
            format!("challenge: \"{}\"", text.escaped())
        }
        explain::Part::Challenge(Challenge::NotBase64) => "challenge is not base64".to_string(),
        other => other.phrase().unwrap_or_default(),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// LMTP: each recipient with the final reply to the message for it.
pub(crate) fn per_recipient_table(results: &[(String, Reply)]) -> Vec<String> {
    let width = results
        .iter()
        .map(|(to, _)| to.chars().count())
        .max()
        .unwrap_or(9)
        .max(9);
    let mut lines = vec![format!(
        "{:width$}  final reply (LMTP, one per recipient)",
        "recipient"
    )];
    for (to, reply) in results {
        lines.push(format!("{to:width$}  {}", reply_summary(reply)));
    }
    lines
}

/// `550 5.1.1 refused: Bad destination mailbox address` — a reply in a
/// table cell.
fn reply_summary(r: &Reply) -> String {
    let code = r.code().map_or("???".to_string(), |c| c.to_string());
    let enhanced = r
        .enhanced_code()
        .map(|e| format!(" {e}"))
        .unwrap_or_default();
    let verdict = match r.class_digit() {
        Some(2) => "accepted",
        Some(4) => "refused for now (temporary: retry later)",
        Some(5) => "refused",
        _ => "no proper reply",
    };
    let why = match (r.class_digit(), r.enhanced_code()) {
        (Some(4 | 5), Some(e)) => e
            .explain()
            .detail
            .map(|d| format!(": {}", d.title))
            .unwrap_or_default(),
        (Some(4 | 5), None) => r
            .code()
            .and_then(|c| c.info())
            .map(|i| format!(": {}", i.title))
            .unwrap_or_default(),
        _ => String::new(),
    };
    format!("{code}{enhanced} {verdict}{why}")
}

/// The per-recipient table after `:send`: each recipient's status
/// (accepted, temporary, permanent), the code and enhanced code of the
/// reply that decided it, and at which step.
pub(crate) fn delivery_table(d: &crate::session::helpers::Delivery) -> Vec<String> {
    let outcomes = d.outcomes();
    let width = outcomes
        .iter()
        .map(|o| o.recipient.chars().count())
        .max()
        .unwrap_or(9)
        .max(9);
    let mut lines = vec![format!(
        "{:width$}  {:<9}  {:<4} {:<9} {:<7}  detail",
        "recipient", "status", "code", "enhanced", "step"
    )];
    for o in &outcomes {
        let code = o.reply.code().map_or("???".to_string(), |c| c.to_string());
        let enhanced = o
            .reply
            .enhanced_code()
            .map_or("-".to_string(), |e| e.to_string());
        lines.push(format!(
            "{:width$}  {:<9}  {code:<4} {enhanced:<9} {:<7}  {}",
            o.recipient,
            o.status.name(),
            o.step,
            reply_detail(o.reply)
        ));
    }
    if outcomes.is_empty() {
        lines.push(format!("MAIL FROM refused: {}", reply_summary(&d.mail)));
    }
    match (&d.data, &d.message) {
        (_, Some(message)) if d.finals.is_empty() => {
            lines.push(format!(
                "message: {}; token {}",
                reply_summary(message),
                d.token
            ));
        }
        (None, None)
            if !d.recipients.is_empty()
                && d.recipients.iter().all(|(_, r)| r.class_digit() != Some(2)) =>
        {
            lines.push("no recipient accepted: the message was not sent".into());
        }
        _ => {}
    }
    lines
}

/// What a reply says in a table cell: for a refusal the meaning of its
/// enhanced code (or of its code), for an acceptance the server's words.
fn reply_detail(r: &Reply) -> String {
    let meaning = match (r.class_digit(), r.enhanced_code()) {
        (Some(4 | 5), Some(e)) => e.explain().detail.map(|d| d.title.to_string()),
        (Some(4 | 5), None) => r.code().and_then(|c| c.info()).map(|i| i.title.to_string()),
        _ => None,
    };
    meaning.unwrap_or_else(|| {
        let text = r
            .lines
            .last()
            .map(|l| l.text().escaped().to_string())
            .unwrap_or_default();
        // The enhanced code has a column of its own.
        match r.enhanced_code().map(|e| e.to_string()) {
            Some(e) => text
                .strip_prefix(&e)
                .map_or(text.clone(), |rest| rest.trim_start().to_string()),
            None => text,
        }
    })
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(events: Vec<Event>, color: bool) -> String {
        let mut r = Renderer::new(Vec::new(), Theme::new(color));
        for e in events {
            r.event(e);
        }
        String::from_utf8(r.into_inner()).unwrap()
    }

    fn reply(bytes: &[u8]) -> Reply {
        Reply::parse_all(bytes).remove(0)
    }

    fn got(bytes: &[u8]) -> Event {
        Event::Reply {
            reply: reply(bytes),
            to: ReplyTo::Command(None),
            tls: false,
            latency: Duration::from_millis(3),
        }
    }

    #[test]
    fn transcript_format() {
        let out = render(
            vec![
                Event::Sent {
                    what: Sent::Command("rcpt to:<nosuchuser@example.org>".into()),
                    tls: false,
                },
                got(b"550 5.1.1 <nosuchuser@example.org>: Recipient address rejected: User unknown in local recipient table\r\n"),
            ],
            false,
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], ">> rcpt to:<nosuchuser@example.org>");
        assert!(lines[1].starts_with("<< 550 5.1.1 <nosuchuser@example.org>: Recipient"));
        assert!(lines[2].starts_with("# 550 "), "{out}");
        assert!(
            lines[2].contains("5.1.1 Bad destination mailbox address"),
            "{out}"
        );
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn tls_lines_are_marked() {
        let out = render(
            vec![
                Event::Sent {
                    what: Sent::Command("EHLO x".into()),
                    tls: true,
                },
                Event::Reply {
                    reply: reply(b"250 ok\r\n"),
                    to: ReplyTo::Command(None),
                    tls: true,
                    latency: Duration::ZERO,
                },
            ],
            false,
        );
        assert_eq!(out, "~> EHLO x\n<~ 250 ok\n");
    }

    #[test]
    fn hostile_text_is_escaped_and_uncoloured_output_has_no_control_bytes() {
        let out = render(
            vec![got(b"250-\x1b]0;pwned\x07\r\n250 \x1b[2J\x9b\xff\r\n")],
            false,
        );
        assert!(out.contains("<< 250-\\e]0;pwned\\x07"), "{out}");
        assert!(out.contains("<< 250 \\e[2J\\x9b\\xff"), "{out}");
        assert!(
            !out.bytes().any(|b| b < 0x20 && b != b'\n' || b == 0x7f),
            "{out:?}"
        );
    }

    #[test]
    fn a_connection_through_a_socks5_proxy_names_it() {
        use crate::net::socks5::{Method, TargetAddr, Tunnel};
        let facts = |bound: Option<TargetAddr>| ConnectFacts {
            target: crate::net::Target {
                host: "localhost".into(),
                port: 2525,
            },
            addresses: vec![],
            mx: vec![],
            via: None,
            failed: vec![],
            peer: "127.0.0.1:1080".parse().unwrap(),
            local: "127.0.0.1:40312".parse().unwrap(),
            resolve_time: Duration::ZERO,
            connect_time: Duration::from_millis(3),
            socks5: Some(Tunnel {
                target: TargetAddr::new("localhost", 2525).unwrap(),
                method: Method::UserPassword,
                user: Some("socksuser".into()),
                bound,
            }),
        };
        let out = render(
            vec![Event::Connected(facts(Some(TargetAddr::Domain {
                name: crate::text::Untrusted::new(b"\x1b]0;x\x07".to_vec()),
                port: 56609,
            })))],
            false,
        );
        assert_eq!(
            out,
            "# connected to localhost port 2525 via SOCKS5 127.0.0.1:1080 as socksuser from 127.0.0.1 port 40312 in 3.0 ms\n\
             # the server sees the proxy's \\e]0;x\\x07 port 56609\n"
        );
        let out = render(vec![Event::Connected(facts(None))], false);
        assert_eq!(out.lines().count(), 1, "{out}");
    }

    #[test]
    fn colour_follows_the_class() {
        let out = render(
            vec![got(b"451 4.7.1 Greylisted, try again later\r\n")],
            true,
        );
        assert!(out.starts_with("\x1b[33m<< 451"), "{out:?}");
        assert!(out.contains("greylisting"), "{out}");
    }

    #[test]
    fn secrets_are_not_shown() {
        let out = render(
            vec![Event::Sent {
                what: Sent::Secret { len: 12 },
                tls: true,
            }],
            false,
        );
        assert_eq!(out, "~> [secret redacted, 12 bytes]\n");
    }

    #[test]
    fn long_lines_wrap_with_their_marks_and_colour_per_row() {
        let mut r = Renderer::new(Vec::new(), Theme::new(true));
        r.wrap = Wrap::Width(40);
        r.event(got(
            b"550 5.1.1 <nosuchuser@example.org>: Recipient address rejected: User unknown\r\n",
        ));
        let out = String::from_utf8(r.into_inner()).unwrap();
        let rows: Vec<&str> = out.lines().collect();
        assert!(rows[0].starts_with("\x1b[31m<< 550 5.1.1"), "{out:?}");
        assert!(rows[1].starts_with("\x1b[31m   "), "{out:?}");
        for row in &rows {
            assert!(row.ends_with("\x1b[0m"), "{row:?}");
        }
        let note = rows.iter().position(|r| r.contains("# 550")).unwrap();
        assert!(rows[note + 1].contains("#   "), "{out:?}");
    }

    #[test]
    fn hex_dumps_follow_their_lines_as_notes() {
        let mut r = Renderer::new(Vec::new(), Theme::new(false));
        r.hex = true;
        r.event(got(b"250 ok\n"));
        r.event(Event::Sent {
            what: Sent::Secret { len: 8 },
            tls: false,
        });
        let out = String::from_utf8(r.into_inner()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "<< 250 ok");
        assert!(
            lines[1].starts_with("#   0000  32 35 30 20 6f 6b 0a "),
            "{out}"
        );
        assert_eq!(
            out.matches("#   0000").count(),
            1,
            "no dump of a secret: {out}"
        );
    }

    #[test]
    fn texts_of_known_servers_are_explained() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"554 SMTP synchronization error\r\n",
                "554 Transaction failed · a command arrived before the reply to the previous \
                 one, and the server allows no pipelining here: send one command per reply \
                 (smtpcli does, except in :pipeline and :raw)",
            ),
            (
                b"500 5.5.1 Invalid command: Pipelining not supported\r\n",
                "500 Syntax error, command unrecognized · 5.5.1 Invalid command · a command \
                 arrived before the reply to the previous one, and the server allows no \
                 pipelining here: send one command per reply (smtpcli does, except in \
                 :pipeline and :raw)",
            ),
            (
                b"550 Unrouteable address\r\n",
                "550 Requested action not taken: mailbox unavailable · Exim: no router \
                 accepts this address: no such user here, or a domain it neither delivers nor \
                 relays for",
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                explanation(&reply(bytes)).as_deref(),
                Some(*want),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
        // Only refusals: a 250 that happens to say the words gets no note.
        assert_eq!(
            explanation(&reply(b"250 pipelining not supported\r\n")),
            None
        );
    }

    #[test]
    fn challenges_are_decoded() {
        assert_eq!(
            explanation(&reply(b"334 VXNlcm5hbWU6\r\n")).as_deref(),
            Some("challenge: \"Username:\"")
        );
    }
}
