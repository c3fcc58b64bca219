//! The resolved settings of one run.
//!
//! The binary's clap definitions hold raw flags; they are checked and turned
//! into a [`Config`] once, so nothing later has to second-guess an option.

use std::path::PathBuf;

use crate::net::{ConnectOptions, Target};
use crate::session::SessionOptions;
use crate::ui::theme::ColorChoice;

/// What this run does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `--explain ARG…`: explain codes offline. `-` reads a pasted bounce
    /// from stdin.
    Explain(Vec<String>),
    /// Talk to a server.
    Connect(ConnectConfig),
}

/// How to reach the server and how to talk to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectConfig {
    /// Host and port.
    pub target: Target,
    /// Address family, source address, connect timeout.
    pub connect: ConnectOptions,
    /// Timeouts and `--quit-after`.
    pub session: SessionOptions,
    /// Show the latency of each reply.
    pub timing: bool,
    /// Where the lines to send come from.
    pub input: Input,
    /// Write JSON events instead of the transcript.
    pub json: bool,
    /// Whether the interactive REPL may run: no `--script`, no `--json`.
    /// It runs when stdin and stdout are also terminals.
    pub interactive: bool,
    /// Whether the REPL keeps its history in a file (`--no-history`: no).
    pub history: bool,
}

/// Where the lines to send come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input (`--script -`, or no `--script`).
    Stdin,
    /// A script file.
    File(PathBuf),
}

/// Everything a run needs to know, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// What to do.
    pub mode: Mode,
    /// Whether to colour the output.
    pub color: ColorChoice,
}
