//! The command line as clap sees it: raw flags, checked and turned into a
//! [`Config`] by `TryFrom`. Nothing here runs anything.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use smtpcli::config::{Config, ConnectConfig, Input, Mode};
use smtpcli::net::target::parse_target;
use smtpcli::net::{ConnectOptions, Family};
use smtpcli::session::{SessionOptions, Stage, Timeouts};
use smtpcli::ui::theme::ColorChoice;

const AFTER_HELP: &str = "\
On a terminal, smtpcli opens a prompt: line editing, Tab completion,
history, Ctrl-D to quit; ':help' lists the meta-commands.

Lines read from stdin (or --script) are sent as typed, one per reply,
CRLF-terminated; after a 354 they are message text until a lone '.'. Between
commands, '#' starts a comment and ':' a meta-command (:expect 250, :help);
'::' sends one ':'. End of input sends QUIT.

Examples:
  smtpcli mailserver.example.com 25
  printf 'EHLO me.example.org\\nQUIT\\n' | smtpcli 127.0.0.1 2525
  smtpcli --explain 550 5.1.1
  smtpcli --explain \"550 5.7.1 Relay access denied\"
  smtpcli --explain - < bounce.eml";

/// An SMTP test client: telnet for mail servers, with every reply code
/// explained.
#[derive(Debug, Parser)]
#[command(
    name = "smtpcli",
    version,

    after_help = format!("{AFTER_HELP}\n\n{}", smtpcli::exit::HELP)
)]
pub struct Cli {
    /// The server: a name, an address, host:port or [IPv6]:port.
    #[arg(value_name = "HOST", default_value = "localhost")]
    pub host: String,

    /// The port: a number or smtp, submission, smtps, lmtp.
    #[arg(value_name = "PORT")]
    pub port: Option<String>,

    /// Use IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only.
    #[arg(short = '6')]
    pub ipv6: bool,

    /// Connect from this local address.
    #[arg(long, value_name = "ADDR")]
    pub source: Option<IpAddr>,

    /// Seconds to wait for the connection and for each reply (defaults: 10
    /// and 30; the reply after a message's final '.' waits 10 minutes).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,

    /// Show how long each reply took.
    #[arg(long)]
    pub timing: bool,

    /// Read the lines to send from FILE ('-': stdin). '#' starts a comment,
    /// ':expect 250' checks the last reply; after DATA every line up to a
    /// lone '.' is message text.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,

    /// Write one JSON object per event instead of the transcript
    /// (schema/events.v1.json).
    #[arg(long)]
    pub json: bool,

    /// Send QUIT once this stage is done (a probe).
    #[arg(long, value_enum, value_name = "STAGE")]
    pub quit_after: Option<Stage>,

    /// Interactive: neither read nor write the history file.
    #[arg(long)]
    pub no_history: bool,

    /// When to colour the output (NO_COLOR and TERM=dumb also turn it off).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Explain reply codes, enhanced status codes or whole reply lines,
    /// offline; '-' reads a pasted bounce (DSN) from stdin.
    #[arg(
        long,
        num_args = 1..,
        value_name = "CODE",
        allow_hyphen_values = true,
        conflicts_with_all = ["port", "ipv4", "ipv6", "source", "timeout", "timing", "script", "json", "quit_after"]
    )]
    pub explain: Option<Vec<String>>,
}

impl TryFrom<Cli> for Config {
    type Error = anyhow::Error;

    fn try_from(cli: Cli) -> Result<Config, Self::Error> {
        if let Some(args) = cli.explain {
            return Ok(Config {
                mode: Mode::Explain(args),
                color: cli.color,
            });
        }
        let target = parse_target(&cli.host, cli.port.as_deref(), 25)?;
        let mut timeouts = Timeouts::default();
        if let Some(secs) = cli.timeout {
            if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
                bail!("--timeout wants a number of seconds from 0 to 86400, not {secs}");
            }
            let limit = Duration::try_from_secs_f64(secs).context("--timeout")?;
            timeouts.connect = limit;
            timeouts.reply = limit;
        }
        let family = match (cli.ipv4, cli.ipv6) {
            (true, _) => Family::V4,
            (_, true) => Family::V6,
            _ => Family::Any,
        };
        Ok(Config {
            mode: Mode::Connect(ConnectConfig {
                target,
                connect: ConnectOptions {
                    family,
                    source: cli.source,
                    timeout: timeouts.connect,
                },
                session: SessionOptions {
                    timeouts,
                    quit_after: cli.quit_after,
                    keep_waiting: false,
                },
                timing: cli.timing,
                interactive: cli.script.is_none() && !cli.json,
                history: !cli.no_history,
                input: match cli.script {
                    Some(path) if path.as_os_str() != "-" => Input::File(path),
                    _ => Input::Stdin,
                },
                json: cli.json,
            }),
            color: cli.color,
        })
    }
}
