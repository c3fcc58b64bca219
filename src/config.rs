//! The resolved settings of one run.
//!
//! The binary's clap definitions hold raw flags; they are checked and turned
//! into a [`Config`] once, so nothing later has to second-guess an option.

use crate::net::{ConnectOptions, Target};
use crate::session::Timeouts;
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
    /// Reply timeouts.
    pub timeouts: Timeouts,
    /// Show the latency of each reply.
    pub timing: bool,
}

/// Everything a run needs to know, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// What to do.
    pub mode: Mode,
    /// Whether to colour the output.
    pub color: ColorChoice,
}
