//! The user interface: reading input, rendering output, and running a mode.
//!
//! Everything that prints lives here. The layers below return values and
//! events; this layer decides how they look (through one [`theme::Theme`])
//! and writes them.

pub mod actions;
pub mod explain;
pub mod hexdump;
pub mod json;
pub mod meta;
pub mod render;
pub mod repl;
pub mod sanitize;
pub mod script;
pub mod theme;
pub mod wrap;

use std::io::{self, IsTerminal, Read, Write};

use anyhow::{Context, Result};

use crate::config::{Config, ConnectConfig, Input, Mode};
use crate::exit::Exit;
use crate::session::EventSink;
use theme::Theme;

/// Where a driver's output goes: the transcript renderer or JSON lines.
pub trait Output: EventSink {
    /// Writes everything buffered.
    fn flush(&mut self);
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
    /// The run is over, with this exit code.
    fn end(&mut self, exit: Exit);
}

/// Runs the configured mode and returns how it ended.
pub fn run(config: Config) -> Result<Exit> {
    let theme = Theme::new(config.color.resolve_for_stdout());
    match config.mode {
        Mode::Explain(args) => run_explain(&args, &theme),
        Mode::Connect(connect) => run_connect(&connect, theme),
    }
}

fn run_connect(config: &ConnectConfig, theme: Theme) -> Result<Exit> {
    if config.interactive && repl::is_possible() {
        return repl::run(config, theme);
    }
    // Open the script before connecting: a typo in its name is not the
    // server's problem.
    let input: Box<dyn Read + Send> = match &config.input {
        Input::Stdin => Box::new(io::stdin()),
        Input::File(path) => match std::fs::File::open(path) {
            Ok(file) => Box::new(file),
            Err(e) => {
                return usage_error(&format!(
                    "cannot read the script {}: {}",
                    path.display(),
                    crate::net::connect::describe_io(&e)
                ));
            }
        },
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let stdout = io::BufWriter::with_capacity(64 * 1024, io::stdout());
    if config.json {
        let output = json::JsonOutput::new(stdout);
        runtime.block_on(script::run(config, input, output))
    } else {
        let mut output = render::Renderer::new(stdout, theme);
        output.timing = config.timing;
        runtime.block_on(script::run(config, input, output))
    }
}

fn run_explain(args: &[String], theme: &Theme) -> Result<Exit> {
    let width = if io::stdout().is_terminal() {
        textwrap::termwidth().min(100)
    } else {
        80
    };
    let explainer = explain::Explainer::new(theme, width);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.iter().any(|a| a == "-") {
        let mut bytes = Vec::new();
        io::stdin()
            .read_to_end(&mut bytes)
            .context("reading the bounce from stdin")?;
        let text = String::from_utf8_lossy(&bytes);
        let bounce = match explain::read_bounce(&text) {
            Ok(bounce) => bounce,
            Err(e) => return usage_error(&e.to_string()),
        };
        explainer.bounce(&bounce, &mut out)?;
    } else {
        let items = match explain::parse_args(args) {
            Ok(items) => items,
            Err(e) => return usage_error(&e.to_string()),
        };
        explainer.items(&items, &mut out)?;
    }
    out.flush()?;
    Ok(Exit::Success)
}

fn usage_error(message: &str) -> Result<Exit> {
    eprintln!("smtpcli: {message}");
    Ok(Exit::Local)
}
