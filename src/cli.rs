//! The command line as clap sees it: raw flags, checked and turned into a
//! [`Config`] by `TryFrom`. Nothing here runs anything.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use smtpcli::config::{ColorChoice, ReplayOptions};
use smtpcli::config::{Config, ConnectConfig, HelperConfig, Input, Mode, Replay};
use smtpcli::net::target::parse_target;
use smtpcli::net::tls::{Backend, TlsSettings, TlsVersion};
use smtpcli::net::{ConnectOptions, Family};
use smtpcli::session::{SessionOptions, Stage, Timeouts};

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
    /// The server: a name, an address, host:port or [IPv6]:port (default:
    /// localhost, or the host of a replayed telnet recording); @NAME uses the
    /// config file's [profiles.NAME].
    #[arg(value_name = "HOST")]
    pub host: Option<String>,

    /// The port: a number or smtp, submission, smtps, lmtp.
    #[arg(value_name = "PORT")]
    pub port: Option<String>,

    /// Use IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only.
    #[arg(short = '6')]
    pub ipv6: bool,

    /// HOST is a mail domain: look up its MX records and try them by
    /// preference (its own address without MX; a null MX exits 1).
    #[arg(long)]
    pub mx: bool,

    /// The DNS server to ask, IP or IP:PORT (default: the system's).
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_resolver)]
    pub resolver: Option<std::net::SocketAddr>,

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

    /// Implicit TLS from the first byte (port 465 by default).
    #[arg(long, conflicts_with = "starttls")]
    pub tls: bool,

    /// After the banner: EHLO, STARTTLS, the handshake, EHLO again; fail if
    /// STARTTLS is not offered.
    #[arg(long)]
    pub starttls: bool,

    /// Abort on any certificate problem (by default the handshake goes on
    /// and the verdict is printed loudly).
    #[arg(long)]
    pub verify: bool,

    /// The name to send as SNI and check the certificate against (default:
    /// HOST).
    #[arg(long, value_name = "NAME", conflicts_with = "no_sni")]
    pub sni: Option<String>,

    /// Send no SNI.
    #[arg(long)]
    pub no_sni: bool,

    /// Also trust the CA certificates in FILE (PEM).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Present this client certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// The key of --cert (PEM; default: in the --cert file).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// The lowest TLS version to offer: 1.0, 1.1, 1.2, 1.3 (1.0 and 1.1 also
    /// lower OpenSSL's security level, for legacy servers).
    #[arg(long, value_name = "VERSION")]
    pub tls_min: Option<TlsVersion>,

    /// The highest TLS version to offer.
    #[arg(long, value_name = "VERSION")]
    pub tls_max: Option<TlsVersion>,

    /// The TLS implementation: openssl (full report) or native (the
    /// platform's; leaf certificate only). Only those built in are accepted.
    #[arg(long, value_name = "BACKEND")]
    pub tls_backend: Option<Backend>,

    /// Read the lines to send from FILE ('-': stdin). '#' starts a comment,
    /// ':expect 250' checks the last reply; after DATA every line up to a
    /// lone '.' is message text.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,

    /// Write one JSON object per event instead of the transcript
    /// (schema/events.v1.json).
    #[arg(long)]
    pub json: bool,

    /// The name to greet with in :ehlo and :send (default: this machine's
    /// fully qualified name, found without DNS, or its address literal).
    #[arg(long, value_name = "NAME")]
    pub ehlo: Option<String>,

    /// Greet with HELO NAME instead of EHLO (no extensions).
    #[arg(long, value_name = "NAME", conflicts_with = "ehlo")]
    pub helo: Option<String>,

    /// LMTP (RFC 2033): LHLO in the helpers, and after a message one reply
    /// per accepted recipient, each matched to it (default port 24).
    #[arg(long)]
    pub lmtp: bool,

    /// Connect to a UNIX domain socket instead of HOST and PORT (LMTP
    /// servers often listen on one).
    #[cfg(unix)]
    #[arg(long, value_name = "PATH", conflicts_with_all = ["host", "port", "ipv4", "ipv6", "source", "tls"])]
    pub unix: Option<PathBuf>,

    /// The user for :auth.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Read the password (or OAuth2 token) for :auth from the first line of
    /// FILE; SMTPCLI_PASSWORD works too. Otherwise it is asked for, with
    /// echo off.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Allow credentials over cleartext or unverified TLS without asking.
    #[arg(long)]
    pub insecure: bool,

    /// Start an SMTP server inside smtpcli (STARTTLS and AUTH included) on
    /// 127.0.0.1 and talk to it: a playground, no mail server needed.
    #[cfg(feature = "demo")]
    #[arg(long, conflicts_with_all = ["host", "port", "tls", "replay", "ca_file", "sni", "no_sni"])]
    pub demo: bool,

    /// Replay the client side of a recorded dialog (telnet, RFC, swaks or
    /// smtpcli style, or plain) and compare each reply with the recorded one.
    #[arg(long, value_name = "FILE", conflicts_with = "script")]
    pub replay: Option<PathBuf>,

    /// With --replay: reply texts must match too, not only the codes.
    #[arg(long, requires = "replay")]
    pub strict: bool,

    /// With --replay: also send recorded AUTH exchanges.
    #[arg(long, requires = "replay")]
    pub replay_auth: bool,

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
        conflicts_with_all = ["port", "ipv4", "ipv6", "source", "timeout", "timing", "script", "json", "quit_after", "ehlo", "helo", "user", "password_file", "insecure", "replay", "mx", "resolver", "tls", "verify", "sni", "no_sni", "ca_file", "cert", "key", "tls_min", "tls_max", "tls_backend"]
    )]
    pub explain: Option<Vec<String>>,

    /// Print shell completions or the man page to stdout and exit.
    #[arg(long, value_enum, value_name = "WHAT", exclusive = true)]
    pub generate: Option<crate::generate::Artifact>,

    /// Do not read the config file ($XDG_CONFIG_HOME/smtpcli/config.toml,
    /// or the file SMTPCLI_CONFIG names).
    #[arg(long)]
    pub no_config: bool,

    /// The config file's `history_size`, carried into the config; no flag.
    #[arg(skip)]
    pub history_size: Option<usize>,
}

/// The command line, parsed, with clap's matches (which tell a flag given
/// from a default). Usage errors exit 2 with clap's message.
pub(crate) fn parse() -> (Cli, ArgMatches) {
    let matches = Cli::command().get_matches();
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => (cli, matches),
        Err(e) => e.format(&mut Cli::command()).exit(),
    }
}

/// `IP` or `IP:PORT` (`[v6]:PORT`); port 53 by default.
fn parse_resolver(text: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
        return Ok(addr);
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| std::net::SocketAddr::new(ip, 53))
        .map_err(|_| format!("'{text}' is not an IP address or IP:PORT"))
}

fn built_backends() -> String {
    let names: Vec<String> = Backend::built().iter().map(ToString::to_string).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
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
        let host_given = cli.host.is_some();
        let host = cli.host.as_deref().unwrap_or("localhost");
        let default_port = match (cli.tls, cli.lmtp) {
            (true, _) => 465,
            (false, true) => 24,
            (false, false) => 25,
        };
        let target = parse_target(host, cli.port.as_deref(), default_port)?;
        let mut tls = TlsSettings::new(cli.sni.clone().unwrap_or_else(|| target.host.clone()));
        if cli.no_sni {
            tls.sni = None;
        }
        if let Some(backend) = cli.tls_backend {
            if !backend.is_built() {
                bail!(
                    "this build has no {backend} TLS backend (built: {})",
                    built_backends()
                );
            }
            tls.backend = backend;
        }
        tls.verify = cli.verify;
        tls.ca_file = cli.ca_file;
        tls.client_cert = cli.cert;
        tls.client_key = cli.key;
        tls.min = cli.tls_min;
        tls.max = cli.tls_max;
        if let (Some(min), Some(max)) = (tls.min, tls.max)
            && min > max
        {
            bail!("--tls-min {min} is above --tls-max {max}");
        }
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
            mode: Mode::Connect(Box::new(ConnectConfig {
                target,
                connect: ConnectOptions {
                    family,
                    source: cli.source,
                    timeout: timeouts.connect,
                    mx: cli.mx,
                    resolver: cli.resolver,
                },
                starttls: cli.starttls,
                #[cfg(unix)]
                unix: cli.unix,
                #[cfg(not(unix))]
                unix: None,
                #[cfg(feature = "demo")]
                demo: cli.demo,
                #[cfg(not(feature = "demo"))]
                demo: false,
                session: SessionOptions {
                    tls,
                    implicit_tls: cli.tls,
                    timeouts,
                    quit_after: cli.quit_after,
                    lmtp: cli.lmtp,
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
                replay: cli.replay.map(|path| Replay {
                    path,
                    options: ReplayOptions {
                        strict: cli.strict,
                        replay_auth: cli.replay_auth,
                    },
                }),
                host_given,
                history_size: cli.history_size,
                helpers: HelperConfig {
                    ehlo: cli.ehlo,
                    helo: cli.helo,
                    lmtp: cli.lmtp,
                    user: cli.user,
                    password_file: cli.password_file,
                    insecure: cli.insecure,
                    password: None,
                },
            })),
            color: cli.color,
        })
    }
}
