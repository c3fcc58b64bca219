//! The interactive REPL: a prompt with line editing, completion and
//! history, on a terminal.
//!
//! Turn-based (DESIGN §6): the connection runs on the async side, rustyline
//! on a thread of its own ([`console`]), and the next prompt comes up only
//! when the engine is idle, so it shows the true TLS, AUTH and DATA state
//! and a line after `334` is known to be secret before it is typed. While a
//! prompt is up the engine still listens: an idle `421` or a close is
//! printed above the prompt through one ordered output queue ([`printer`]),
//! and the half-typed line is redrawn below it. While a reply is awaited,
//! Ctrl-C stops waiting and keeps the session.
//!
//! What is shown is the transcript of the engine's events, rendered as
//! everywhere else (coloured, wrapped at the terminal's width): a line sent
//! replaces the prompt it was typed at with its `>>` line.

mod complete;
mod console;
mod driver;
mod history;
mod printer;
mod prompt;
mod terminal;

use std::io::{self, IsTerminal};
use std::time::Duration;

use anyhow::{Context, Result};

use super::Output;
use super::render::{Renderer, Wrap};
use super::theme::Theme;
use crate::config::ConnectConfig;
use crate::exit::Exit;
use crate::proto::command::Verb;
use crate::session::{Awaited, Event, EventSink};
use crate::ui::theme::Role;
use printer::{Printer, Screen, ScreenWriter};

/// Whether the REPL can run here: stdin and stdout are terminals that can
/// edit a line.
pub(crate) fn is_possible() -> bool {
    let able = std::env::var("TERM")
        .map(|term| !matches!(term.as_str(), "dumb" | "cons25" | "emacs"))
        .unwrap_or(true);
    able && io::stdin().is_terminal() && io::stdout().is_terminal()
}

/// Runs an interactive session; it ends when the user leaves.
pub(crate) fn run(config: &ConnectConfig, theme: Theme) -> Result<Exit> {
    let runtime = super::runtime()?;
    // Ctrl-C belongs to the REPL from now on (it stops waiting for a reply);
    // taken before the terminal's settings change, so it cannot kill the
    // process with echo off.
    {
        let _runtime = runtime.enter();
        driver::listen_for_interrupts();
    }
    let echo_off = terminal::EchoOff::turn_off();
    let (editor, print) = console::editor(theme.is_colored(), config.history_size)
        .context("starting the line editor")?;
    let printer = Printer::start(print);
    let history = if config.history {
        history::path()
    } else {
        None
    };
    let ahead = terminal::Ahead::default();
    let entries = history.as_deref().map(history::load).unwrap_or_default();
    let console = console::Console::start(editor, printer.screen(), history, ahead.clone());
    let repl = driver::Repl::new(config, theme, printer.screen(), console, ahead, entries);
    let exit = runtime.block_on(repl.run());
    printer.finish();
    drop(echo_off);
    Ok(exit)
}

/// The engine's events, rendered onto the screen queue; while a reply is
/// awaited, a status line below them says what for and how long so far.
pub(crate) struct ReplOutput {
    renderer: Renderer<ScreenWriter>,
    screen: Screen,
    theme: Theme,
    /// The status line is on screen (the cursor is at its end).
    status: bool,
    /// Lines typed while a reply is awaited, read to be shown as queued.
    ahead: terminal::Ahead,
    /// `:watch`: nothing is shown but the one line each round prints.
    quiet: bool,
}

impl ReplOutput {
    fn new(screen: Screen, view: super::View, ahead: terminal::Ahead) -> Self {
        let theme = Theme::new(view.colour);
        let mut renderer = Renderer::new(ScreenWriter::new(screen.clone()), theme);
        renderer.timing = view.timing;
        renderer.hex = view.hex;
        renderer.wrap = if view.wrap { Wrap::Terminal } else { Wrap::Off };
        ReplOutput {
            renderer,
            screen,
            theme,
            status: false,
            ahead,
            quiet: false,
        }
    }

    fn note(&mut self, text: &str) {
        self.clear_status();
        self.renderer.note(text);
        self.renderer.flush();
    }

    /// Shows (or updates) the waiting line: no line end, so the next output
    /// replaces it. The renderer's buffer is empty here: every event is
    /// flushed as it is rendered.
    fn show_status(&mut self, awaited: Awaited, elapsed: Duration) {
        self.show_typed_ahead(awaited);
        let text = waiting_text(awaited, elapsed, textwrap::termwidth());
        let line = format!("\r\x1b[2K{}", self.theme.paint(Role::Note, &text));
        self.screen.print(line);
        self.status = true;
    }

    /// Lines typed while the reply is awaited (echo is off, so they were
    /// not seen) are shown, dimmed, as queued: each goes out after the
    /// reply to the one before. A line that may answer a `334` is not
    /// shown, only counted.
    fn show_typed_ahead(&mut self, awaited: Awaited) {
        let mut read = Vec::new();
        loop {
            let batch = terminal::typed_ahead();
            if batch.is_empty() {
                break;
            }
            let end = batch.contains(&terminal::TypedAhead::End);
            read.extend(batch);
            if end {
                break;
            }
        }
        if read.is_empty() {
            return;
        }
        self.clear_status();
        let secret = matches!(awaited, Awaited::Command(Some(Verb::Auth) | None));
        for typed in &read {
            match typed {
                terminal::TypedAhead::Line(line) if secret => self.renderer.note(&format!(
                    "queued: a line of {} characters, not shown (it may answer a 334)",
                    line.chars().count()
                )),
                terminal::TypedAhead::Line(line) => {
                    self.renderer.note(&format!("queued: {line}"));
                }
                terminal::TypedAhead::End => self.renderer.note("queued: Ctrl-D"),
            }
        }
        self.renderer.flush();
        self.ahead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(read);
    }

    fn clear_status(&mut self) {
        if std::mem::take(&mut self.status) {
            self.screen.print("\r\x1b[2K".to_string());
        }
    }

    /// Shows nothing (`true`) or everything again.
    fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }
}

impl EventSink for ReplOutput {
    fn flush(&mut self) {
        self.renderer.flush();
    }

    fn event(&mut self, event: Event) {
        if self.quiet {
            return;
        }
        if let Event::Waiting { awaited, elapsed } = event {
            self.show_status(awaited, elapsed);
            return;
        }
        self.clear_status();
        self.renderer.event(event);
        // Message text too is shown as it is sent, not in bulk.
        self.renderer.flush();
    }
}

impl Output for ReplOutput {
    fn take_error(&mut self) -> Option<io::Error> {
        self.renderer.take_error()
    }

    fn error(&mut self, message: &str) {
        if self.quiet {
            return;
        }
        self.clear_status();
        self.renderer.error_line(message);
        self.renderer.flush();
    }

    fn info(&mut self, lines: &[String]) {
        if self.quiet {
            return;
        }
        self.clear_status();
        for line in lines {
            self.renderer.note(line);
        }
        self.renderer.flush();
    }

    fn set_timing(&mut self, on: bool) {
        self.renderer.timing = on;
    }

    fn set_hex(&mut self, on: bool) {
        self.renderer.hex = on;
    }

    fn set_colour(&mut self, on: bool) {
        self.theme = Theme::new(on);
        self.renderer.set_colour(on);
    }

    fn set_wrap(&mut self, on: bool) {
        self.renderer.set_wrap(on);
    }

    fn view(&self) -> super::View {
        self.renderer.view()
    }

    fn plain(&mut self, lines: &[String]) {
        self.clear_status();
        self.renderer.plain(lines);
    }

    fn end(&mut self, _exit: Exit, _why: Option<&str>) {}

    fn set_log(&mut self, log: Option<Box<dyn std::io::Write + Send>>) {
        self.renderer.set_log(log);
    }
}

/// The waiting line, cut to the terminal's width so it never wraps (a
/// wrapped line could not be replaced in place).
fn waiting_text(awaited: Awaited, elapsed: Duration, width: usize) -> String {
    let text = format!(
        "# waiting {} s for the reply to {awaited} · Ctrl-C stops waiting",
        elapsed.as_secs()
    );
    text.chars().take(width.saturating_sub(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::command::Verb;

    #[test]
    fn the_waiting_line_says_what_for_and_never_wraps() {
        let rcpt = Awaited::Command(Some(Verb::Rcpt));
        assert_eq!(
            waiting_text(rcpt, Duration::from_millis(3400), 100),
            "# waiting 3 s for the reply to RCPT · Ctrl-C stops waiting"
        );
        assert_eq!(
            waiting_text(Awaited::Message, Duration::from_secs(1), 100),
            "# waiting 1 s for the reply to the message · Ctrl-C stops waiting"
        );
        assert_eq!(
            waiting_text(rcpt, Duration::from_secs(1), 20)
                .chars()
                .count(),
            19
        );
    }
}
