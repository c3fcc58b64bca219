//! The sink of an audit's sessions: the dialog as short transcript lines,
//! escaped as they are made, from which each verdict takes its evidence.

use std::io::{self, Write};

use super::reply_lines;
use crate::exit::Exit;
use crate::session::{Event, EventSink, Sent};
use crate::text::{escape, escape_str};
use crate::ui::Output;

/// The sink of an audit session: the dialog as short transcript lines
/// (escaped), from which each test takes its evidence.
#[derive(Default)]
pub(crate) struct Collector {
    /// Each line, and whether it was received (not sent or a note).
    lines: Vec<(String, bool)>,
    mark: usize,
}

impl Collector {
    pub(super) fn mark(&mut self) {
        self.mark = self.lines.len();
    }

    pub(super) fn since_mark(&self) -> Vec<String> {
        self.lines[self.mark..]
            .iter()
            .map(|(l, _)| l.clone())
            .collect()
    }

    pub(super) fn since_mark_received(&self) -> Vec<String> {
        self.lines[self.mark..]
            .iter()
            .filter(|(_, received)| *received)
            .map(|(l, _)| l.clone())
            .collect()
    }

    pub(super) fn note(&mut self, text: &str) {
        self.lines.push((format!("# {}", escape_str(text)), false));
    }
}

impl EventSink for Collector {
    fn event(&mut self, event: Event) {
        match event {
            Event::Sent { what, tls } => {
                let arrow = if tls { "~>" } else { ">>" };
                let shown = match what {
                    Sent::Command(line) | Sent::Text(line) => escape_str(&line),
                    Sent::EndOfMessage => ".".into(),
                    Sent::Secret { len } => format!("[secret, {len} bytes]"),
                    Sent::Raw(bytes) => {
                        // One line per CRLF; bare CR, LF and NUL stay
                        // visible as escapes.
                        let mut pieces: Vec<&[u8]> = Vec::new();
                        let mut rest = bytes.as_slice();
                        while let Some(at) = rest.windows(2).position(|w| w == b"\r\n") {
                            pieces.push(&rest[..at]);
                            rest = &rest[at + 2..];
                        }
                        if !rest.is_empty() {
                            pieces.push(rest);
                        }
                        for piece in &pieces[..pieces.len().saturating_sub(1)] {
                            self.lines
                                .push((format!("{arrow} {}", escape(piece)), false));
                        }
                        pieces.last().map_or_else(String::new, |p| escape(p))
                    }
                };
                self.lines.push((format!("{arrow} {shown}"), false));
            }
            Event::Reply { reply, tls, .. } => {
                let arrow = if tls { "<~" } else { "<<" };
                for line in reply_lines(arrow, &reply) {
                    self.lines.push((line, true));
                }
            }
            Event::Closed {
                by_server: true, ..
            } => self
                .lines
                .push(("-- the server closed the connection".into(), true)),
            Event::Tls(report) => self.lines.push((
                format!(
                    "-- TLS handshake done{}",
                    report
                        .protocol
                        .as_deref()
                        .map(|p| format!(": {}", escape_str(p)))
                        .unwrap_or_default()
                ),
                false,
            )),
            Event::Warning(text) => self
                .lines
                .push((format!("# warning: {}", escape_str(&text)), false)),
            _ => {}
        }
    }
}

impl Output for Collector {
    fn take_error(&mut self) -> Option<io::Error> {
        None
    }

    fn error(&mut self, message: &str) {
        self.note(message);
    }

    fn info(&mut self, lines: &[String]) {
        for line in lines {
            self.note(line);
        }
    }

    fn set_timing(&mut self, _on: bool) {}

    fn end(&mut self, _exit: Exit, _why: Option<&str>) {}

    fn set_log(&mut self, _log: Option<Box<dyn Write + Send>>) {}
}
