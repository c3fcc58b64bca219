//! The user interface: reading input, rendering output, and running a mode.
//!
//! Everything that prints lives here. The layers below return values and
//! events; this layer decides how they look (through one [`theme::Theme`])
//! and writes them.

pub mod explain;
pub mod piped;
pub mod render;
pub mod sanitize;
pub mod theme;

use std::io::{self, IsTerminal, Read, Write};

use anyhow::{Context, Result};

use crate::config::{Config, Mode};
use crate::exit::Exit;
use theme::Theme;

/// Runs the configured mode and returns how it ended.
pub fn run(config: Config) -> Result<Exit> {
    let theme = Theme::new(config.color.resolve_for_stdout());
    match config.mode {
        Mode::Explain(args) => run_explain(&args, &theme),
        Mode::Connect(connect) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let mut renderer = render::Renderer::new(io::BufWriter::new(io::stdout()), theme);
            renderer.timing = connect.timing;
            runtime.block_on(piped::run(&connect, renderer))
        }
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
