//! The user interface: reading input, rendering output, and the drivers
//! of each mode.
//!
//! Everything that prints lives here. The layers below return values and
//! events; this layer decides how they look (through one [`theme::Theme`])
//! and writes them. Every driver opens its session and handles its lines
//! through the one [`runner`]; [`crate::app`] picks the driver.

pub(crate) mod actions;
pub(crate) mod audit;
pub(crate) mod check;
pub(crate) mod explain;
pub(crate) mod export;
pub(crate) mod helpers;
pub(crate) mod hexdump;
pub(crate) mod json;
pub(crate) mod meta;
pub(crate) mod probe;
pub(crate) mod render;
pub(crate) mod repl;
pub(crate) mod replay;
mod runner;
pub(crate) mod script;
pub(crate) mod theme;
pub(crate) mod tls;
pub(crate) mod wrap;

use std::io::{self, Write};

use anyhow::{Context, Result};

use crate::exit::Exit;
use crate::session::EventSink;

/// Where a driver's output goes: the transcript renderer or JSON lines.
pub(crate) trait Output: EventSink {
    /// The first write error, if any (a closed pipe, usually).
    fn take_error(&mut self) -> Option<io::Error>;
    /// A problem that ends the run: one line on stderr (and, for machine
    /// readers, an event).
    fn error(&mut self, message: &str);
    /// Lines a meta-command prints (`:help`, `:caps`, `:explain`).
    fn info(&mut self, lines: &[String]);
    /// `:timing on|off`.
    fn set_timing(&mut self, on: bool);
    /// `:hex on|off`: outputs that cannot show a dump ignore it.
    fn set_hex(&mut self, _on: bool) {}
    /// `:set colour on|off`: outputs without colour ignore it.
    fn set_colour(&mut self, _on: bool) {}
    /// `:set wrap on|off`: outputs that never wrap ignore it.
    fn set_wrap(&mut self, _on: bool) {}
    /// What `:set` lists: the display settings now.
    fn view(&self) -> View {
        View::default()
    }
    /// Lines to copy as they are (`:export`): no `#` before them, escaped.
    fn plain(&mut self, lines: &[String]) {
        self.info(lines);
    }
    /// The run is over, with this exit code; `why` names the step that
    /// decided a code other than 0.
    fn end(&mut self, exit: Exit, why: Option<&str>);
    /// Starts (or, with `None`, stops) copying the output to a log.
    fn set_log(&mut self, log: Option<Box<dyn Write + Send>>);
}

/// The display settings `:set` lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct View {
    pub(crate) colour: bool,
    pub(crate) wrap: bool,
    pub(crate) timing: bool,
    pub(crate) hex: bool,
}

/// Reports a session that could not be opened: one line (and, for machine
/// readers, the end event); returns how the run ends.
pub(crate) fn report_open_failure<O: Output>(
    e: crate::session::SessionError,
    mut output: O,
) -> Exit {
    output.error(&e.to_string());
    // The error line above says why.
    output.end(e.exit(), None);
    output.flush();
    e.exit()
}

/// Ends a driver's run: the exit code, reported and flushed; a failed
/// write to the output (a closed pipe) comes back as the error.
pub(crate) fn finish<O: Output>(session: &mut crate::session::Session<O>) -> io::Result<Exit> {
    let exit = session.outcome();
    let why = session.outcome_reason();
    session.sink().end(exit, why.as_deref());
    session.sink().flush();
    if let Some(e) = session.sink().take_error() {
        return Err(e);
    }
    Ok(exit)
}

/// The single-threaded runtime a run's session lives on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
