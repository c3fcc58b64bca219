//! The resolved settings of one run.
//!
//! The binary's clap definitions hold raw flags; they are checked and turned
//! into a [`Config`] once, so nothing later has to second-guess an option.

use std::path::PathBuf;

use crate::net::{ConnectOptions, Target};
use crate::session::SessionOptions;

/// What this run does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `--explain ARG…`: explain codes offline. `-` reads a pasted bounce
    /// from stdin.
    Explain(Vec<String>),
    /// Talk to a server.
    Connect(Box<ConnectConfig>),
    /// `--audit`: security self-tests of a server.
    Audit(Box<AuditConfig>),
    /// `--probe FILE|-`: check many servers at once.
    Probe(Box<ProbeConfig>),
    /// `--check DOMAIN`: DANE, MTA-STS and TLS-RPT per MX address, with
    /// the live STARTTLS result.
    Check(Box<CheckConfig>),
}

/// What `--check DOMAIN` needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckConfig {
    /// The domain, in ASCII (A-labels), without a final dot.
    pub domain: String,
    /// `--resolver`: the validating resolver (else the system's first).
    pub resolver: Option<std::net::SocketAddr>,
    /// Family, source address, connect timeout.
    pub connect: ConnectOptions,
    /// `--ca-file` and the other TLS settings (the name is set per MX
    /// host), the timeouts.
    pub session: SessionOptions,
    /// `--ehlo NAME` (else this machine's name).
    pub ehlo: Option<String>,
    /// `--json`: one `policy` event per MX address, then `check`.
    pub json: bool,
}

/// What `--audit` runs, against what, with which envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditConfig {
    /// How to reach the server (each test opens its own session).
    pub connect: ConnectConfig,
    /// `--tests`: the tests, in the order they run.
    pub tests: Vec<crate::proto::audit::Test>,
    /// `--from`: the sender of every probe.
    pub from: String,
    /// `--to`: the one mailbox probes are addressed to (the smuggling test
    /// delivers test messages there).
    pub to: String,
}

/// What `--probe` needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeConfig {
    /// The list of targets (`-`: stdin).
    pub input: Input,
    /// The port of targets that name none (25; 465 with `--tls`).
    pub default_port: u16,
    /// Family, source address, connect timeout, `--resolver`.
    pub connect: ConnectOptions,
    /// TLS settings (the name is set per server), timeouts, `--tls`.
    pub session: SessionOptions,
    /// `--ehlo NAME` (else this machine's name, as for a session).
    pub ehlo: Option<String>,
    /// `--concurrency N`: connections at once.
    pub concurrency: usize,
    /// `--per-host N`: connections at once to one server (address and port).
    pub per_host: usize,
    /// `--max-bytes N`: the most one server may send.
    pub max_bytes: u64,
    /// `--resume FILE`: skip the targets an earlier NDJSON output finished.
    pub resume: Option<PathBuf>,
    /// `--shard I/N`.
    pub shard: Option<Shard>,
    /// `--json`: NDJSON, one line per address.
    pub json: bool,
}

/// `--shard I/N`: every N-th target, starting with the I-th (counted from
/// 0), so N machines share one list with no coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which share (0 to N-1).
    pub index: u32,
    /// Of how many.
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let wrong = || format!("'{text}' is not I/N (share I of N, I counted from 0: 0/4 … 3/4)");
        let (index, count) = text.split_once('/').ok_or_else(wrong)?;
        let index: u32 = index.trim().parse().map_err(|_| wrong())?;
        let count: u32 = count.trim().parse().map_err(|_| wrong())?;
        if count == 0 || index >= count {
            return Err(wrong());
        }
        Ok(Shard { index, count })
    }
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
    /// Defaults for the helper meta-commands.
    pub helpers: HelperConfig,
    /// `--replay FILE` and how to compare.
    pub replay: Option<Replay>,
    /// Whether HOST was given (a replay may take it from the recording).
    pub host_given: bool,
    /// `--starttls`: EHLO, STARTTLS, handshake, EHLO again, before input.
    pub starttls: bool,
    /// `--xclient 'NAME=… ADDR=…'`: XCLIENT before input, after
    /// `--starttls` unless `xclient_before_starttls`.
    pub xclient: Option<String>,
    /// `--xclient-before-starttls`.
    pub xclient_before_starttls: bool,
    /// `--resume-test`: after TLS is up, reconnect offering its session.
    pub resume_test: bool,
    /// `--demo`: start the embedded server and talk to it.
    pub demo: bool,
    /// `--unix PATH`: a UNIX domain socket instead of the target.
    pub unix: Option<PathBuf>,
    /// Whether the interactive REPL may run: no `--script`, no `--json`, no
    /// `--replay`. It runs when stdin and stdout are also terminals.
    pub interactive: bool,
    /// Whether the REPL keeps its history in a file (`--no-history`: no).
    pub history: bool,
    /// How many lines the interactive history keeps (the config file's
    /// `history_size`; `None`: the REPL's default).
    pub history_size: Option<usize>,
}

/// What `--replay` needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    /// The recorded dialog.
    pub path: PathBuf,
    /// `--strict`, `--replay-auth`.
    pub options: ReplayOptions,
}

/// What the helpers (`:ehlo`, `:auth`, `:send`…) take from the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HelperConfig {
    /// `--ehlo NAME`.
    pub ehlo: Option<String>,
    /// `--helo NAME`: greet with HELO instead of EHLO.
    pub helo: Option<String>,
    /// `--lmtp`: LHLO instead of EHLO.
    pub lmtp: bool,
    /// `--user`.
    pub user: Option<String>,
    /// `--password-file`.
    pub password_file: Option<PathBuf>,
    /// `--token-cmd`: a shell command that prints an OAuth 2.0 token.
    pub token_cmd: Option<String>,
    /// `--insecure`: credentials over cleartext or unverified TLS without
    /// asking.
    pub insecure: bool,
    /// A password known in advance; otherwise it is read from
    /// `--password-file`, `SMTPCLI_PASSWORD` or a prompt.
    pub password: Option<crate::proto::auth::Secret>,
    /// A password that may be shown (the demo's): the prompt offers it, an
    /// empty answer takes it, and it is used when nobody can be asked.
    pub password_hint: Option<String>,
}

/// Where the lines to send come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input (`--script -`, or no `--script`).
    Stdin,
    /// A script file.
    File(PathBuf),
    /// Lines made from the command line: the one-line send (`--to`).
    Lines(Vec<String>),
}

/// Everything a run needs to know, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// What to do.
    pub mode: Mode,
    /// Whether to colour the output.
    pub color: ColorChoice,
}

/// How to compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Reply text must match too.
    pub strict: bool,
    /// Send recorded AUTH exchanges.
    pub replay_auth: bool,
}

/// What the user asked for with `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when the output is a terminal and nothing in the environment
    /// says otherwise.
    #[default]
    Auto,
    /// Always colour, even into a pipe.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Resolves the choice. `no_color` is whether `NO_COLOR` is set to a
    /// non-empty value; `dumb` whether `TERM=dumb`.
    pub fn resolve(self, is_terminal: bool, no_color: bool, dumb: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && !no_color && !dumb,
        }
    }

    /// Resolves the choice for stdout from the process environment.
    pub fn resolve_for_stdout(self) -> bool {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|v| v == "dumb");
        let terminal = std::io::stdout().is_terminal();
        // A Windows console shows colours only once it is told to read
        // escape sequences (virtual terminal processing, Windows 10 and
        // later); a console that refuses is not coloured unless asked to.
        #[cfg(windows)]
        let terminal = terminal && crossterm::ansi_support::supports_ansi();
        self.resolve(terminal, no_color, dumb)
    }
}
