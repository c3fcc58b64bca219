//! The command line as clap sees it: raw flags, checked and turned into a
//! [`Config`] by `TryFrom`. Nothing here runs anything.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use std::io::Write;

use anyhow::{Context, bail};
use clap::{CommandFactory, FromArgMatches, Parser};
use smtpcli::config::ReplayOptions;
use smtpcli::config::{
    AuditConfig, CheckConfig, Config, ConnectConfig, HelperConfig, Input, Mode, ProbeConfig, Replay,
};
use smtpcli::exit::Exit;
use smtpcli::net::socks5::{self, Socks5};
use smtpcli::net::target::parse_target;
use smtpcli::net::tls::{Backend, TlsSettings};
use smtpcli::net::{ConnectOptions, Family};
use smtpcli::proto::audit::Test;
use smtpcli::proto::auth::Secret;
use smtpcli::proto::proxy;
use smtpcli::session::{SessionOptions, Stage, Timeouts};
use smtpcli::settings::{Options, TlsMode};

mod send;

const AFTER_HELP: &str = "\
On a terminal, smtpcli opens a prompt: line editing, Tab completion,
history, Ctrl-D to quit; ':help' lists the meta-commands.

Lines read from stdin (or --script) are sent as typed, one per reply,
CRLF-terminated; after a 354 they are message text until a lone '.'. Between
commands, '#' starts a comment and ':' a meta-command (:expect 250, :help);
'::' sends one ':'. End of input sends QUIT.

Files:
  config   config.toml in smtpcli's config directory: $XDG_CONFIG_HOME/smtpcli/
           (~/.config/smtpcli/) on Linux, ~/Library/Application Support/smtpcli/
           on macOS, %APPDATA%\\smtpcli\\config\\ on Windows; SMTPCLI_CONFIG names
           another file, --no-config skips it
  history  the prompt's history: $XDG_STATE_HOME/smtpcli/history
           (~/.local/state/smtpcli/history) on Linux, history in the data
           directory elsewhere (~/Library/Application Support/smtpcli/,
           %LOCALAPPDATA%\\smtpcli\\data\\); readable only by you; --no-history

Examples:
  smtpcli mailserver.example.com 25
  printf 'EHLO me.example.org\\nQUIT\\n' | smtpcli 127.0.0.1 2525
  smtpcli --explain 550 5.1.1
  smtpcli help MAIL        (offline: syntax, parameters, RFC, replies)
  smtpcli --explain \"550 5.7.1 Relay access denied\"
  smtpcli --explain - < bounce.eml
  smtpcli --audit --from me@example.org --to me@mail.example.org mail.example.org 25
  smtpcli mx.example.org 587 --starttls --auth plain:alice --from alice@example.org \\
          --to bob@example.org --subject Hi --attach report.pdf";

/// An SMTP test client: telnet for mail servers, with every reply code
/// explained.
#[derive(Debug, Parser)]
#[command(
    name = "smtpcli",
    version,

    after_help = format!("{AFTER_HELP}\n\n{}", smtpcli::exit::HELP)
)]
pub(crate) struct Cli {
    /// What the config file can set too (HOST, PORT, --timeout, --verify,
    /// the TLS files and versions, --ehlo, --user…): one declaration,
    /// [`Options`].
    #[command(flatten)]
    pub options: Options,

    /// Use IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only.
    #[arg(short = '6')]
    pub ipv6: bool,

    /// The DNS server to ask, IP or IP:PORT (default: the system's).
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_resolver)]
    pub resolver: Option<std::net::SocketAddr>,

    /// Connect from this local address.
    #[arg(long, value_name = "ADDR")]
    pub source: Option<IpAddr>,

    /// Show how long each reply took.
    #[arg(long)]
    pub timing: bool,

    /// Implicit TLS from the first byte (port 465 by default).
    #[arg(long, conflicts_with = "starttls")]
    pub tls: bool,

    /// After the banner, before any input (at the prompt, in scripts and
    /// replays): EHLO, STARTTLS, the handshake, EHLO again; fail if STARTTLS
    /// is not offered.
    #[arg(long)]
    pub starttls: bool,

    /// Send no SNI.
    #[arg(long)]
    pub no_sni: bool,

    /// Another name the certificate may be for (repeatable), as
    /// posttls-finger's match names: the report's name table shows it, and
    /// a match is as good as the checked name.
    #[arg(long = "name", value_name = "NAME")]
    pub names: Vec<String>,

    /// After the TLS session, connect again with its session or ticket and
    /// report whether it was resumed and whether the EHLO name changed
    /// (another backend behind a load balancer); needs --tls or --starttls.
    #[arg(long)]
    pub resume_test: bool,

    /// Read the lines to send from FILE ('-': stdin). '#' starts a comment,
    /// ':expect 250' checks the last reply; after DATA every line up to a
    /// lone '.' is message text.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,

    /// Write one JSON object per event instead of the transcript
    /// (schema/events.v1.json).
    #[arg(long)]
    pub json: bool,

    /// Greet with HELO NAME instead of EHLO (no extensions).
    #[arg(long, value_name = "NAME", conflicts_with = "ehlo")]
    pub helo: Option<String>,

    /// Connect to a UNIX domain socket instead of HOST and PORT (LMTP
    /// servers often listen on one).
    #[cfg(unix)]
    #[arg(long, value_name = "PATH", conflicts_with_all = ["host", "port", "ipv4", "ipv6", "source", "tls", "socks5", "probe", "check"])]
    pub unix: Option<PathBuf>,

    /// Allow credentials over cleartext or unverified TLS without asking.
    #[arg(long)]
    pub insecure: bool,

    /// Start an SMTP server inside smtpcli (STARTTLS and AUTH included) on
    /// 127.0.0.1 and talk to it: a playground, no mail server needed.
    #[cfg(feature = "demo")]
    #[arg(long, conflicts_with_all = ["host", "port", "tls", "replay", "ca_file", "sni", "no_sni", "socks5", "check"])]
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

    /// With --mx: try at most HOSTS MX hosts and ADDRESSES addresses of
    /// each (default 5x2, like Postfix).
    #[arg(long, value_name = "HOSTS[xADDRESSES]")]
    pub mx_limit: Option<smtpcli::net::MxLimit>,

    /// Send QUIT once this stage is done (a probe).
    #[arg(long, value_enum, value_name = "STAGE")]
    pub quit_after: Option<Stage>,

    /// Interactive: neither read nor write the history file.
    #[arg(long)]
    pub no_history: bool,

    /// Explain reply codes, enhanced status codes or whole reply lines,
    /// offline; '-' reads a pasted bounce (DSN) from stdin.
    #[arg(
        long,
        num_args = 1..,
        value_name = "CODE",
        allow_hyphen_values = true,
        conflicts_with_all = ["port", "ipv4", "ipv6", "source", "timeout", "timing", "script", "json", "quit_after", "ehlo", "helo", "user", "password_file", "token_cmd", "insecure", "replay", "mx", "resolver", "tls", "verify", "sni", "no_sni", "ca_file", "cert", "key", "tls_min", "tls_max", "tls_backend", "probe", "tls_groups", "ciphers", "names", "resume_test", "check"]
    )]
    pub explain: Option<Vec<String>>,

    /// Security self-tests of your own server: smuggling, STARTTLS
    /// required and injection, relay, VRFY/EXPN, AUTH in plaintext, banner
    /// leaks; each prints VULNERABLE, PASS or UNKNOWN with the dialog lines
    /// that prove it. Exits 1 when anything is VULNERABLE, 2 when the audit
    /// could not run. Audit only servers you run or may test.
    #[arg(
        long,
        conflicts_with_all = ["script", "replay", "quit_after", "starttls", "explain"]
    )]
    pub audit: bool,

    /// With --audit: the tests to run, comma-separated (default: all):
    /// smuggling, starttls-required, starttls-injection, relay, vrfy-expn,
    /// auth-plaintext, banner-leak.
    #[arg(long, value_name = "LIST", requires = "audit")]
    pub tests: Option<String>,

    /// Print shell completions or the man page to stdout and exit.
    #[arg(long, value_enum, value_name = "WHAT", exclusive = true)]
    pub generate: Option<crate::generate::Artifact>,

    /// Do not read the config file ($XDG_CONFIG_HOME/smtpcli/config.toml,
    /// or the file SMTPCLI_CONFIG names).
    #[arg(long)]
    pub no_config: bool,

    /// Check every target listed in FILE ('-': stdin), many at once: a
    /// domain (its MX hosts), HOST:PORT, or ADDRESS,NAME per line. Each
    /// address: connect, banner, EHLO, STARTTLS or implicit TLS, the certificate
    /// verdict, EHLO again, QUIT. A PORT argument sets the port of targets
    /// that name none: 25 by default, 465 with --tls as well.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["script", "replay", "mx", "starttls", "lmtp", "quit_after", "helo", "user", "password_file", "xclient", "proxy", "proxy_raw", "socks5", "sni", "no_sni", "timing", "strict", "replay_auth"]
    )]
    pub probe: Option<PathBuf>,

    /// With --probe: connections under way at once (default 100); servers
    /// that do not greet in twice the usual time wait aside, up to ten times
    /// as many.
    #[arg(long, value_name = "N", requires = "probe", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: Option<u32>,

    /// With --probe: connections at once to one server, address and port
    /// (default 2).
    #[arg(long, value_name = "N", requires = "probe", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub per_host: Option<u32>,

    /// With --probe: the most bytes one server may send before it is cut
    /// off (default 65536).
    #[arg(long, value_name = "BYTES", requires = "probe", value_parser = clap::value_parser!(u64).range(1024..))]
    pub max_bytes: Option<u64>,

    /// With --probe: skip the targets an earlier --json output (FILE)
    /// finished, so an interrupted run picks up where it stopped.
    #[arg(long, value_name = "FILE", requires = "probe")]
    pub resume: Option<PathBuf>,

    /// With --probe: take every N-th target, starting with the I-th
    /// (counted from 0), to split one list over N machines.
    #[arg(long, value_name = "I/N", requires = "probe")]
    pub shard: Option<smtpcli::config::Shard>,

    /// Would a strict sender deliver to DOMAIN, and why not? For each
    /// address of each MX host (all at once): STARTTLS and the certificate,
    /// DANE (TLSA records, DNSSEC status from the resolver's AD bit), the
    /// MTA-STS policy (fetched over verified HTTPS) and TLS-RPT; then a
    /// verdict per address: authenticated, unauthenticated or defer. Exits
    /// 1 when an address is defer or fails its policy, 2 when the check
    /// could not be done. Give --resolver a validating resolver you trust.
    #[arg(
        long,
        value_name = "DOMAIN",
        conflicts_with_all = ["host", "port", "script", "replay", "mx", "mx_limit", "starttls", "tls", "lmtp", "quit_after", "helo", "user", "password_file", "token_cmd", "xclient", "proxy", "proxy_raw", "socks5", "sni", "no_sni", "timing", "strict", "replay_auth", "probe", "audit", "resume_test", "names"]
    )]
    pub check: Option<String>,

    /// `--from`, `--to`, `--auth` and the composer's options.
    #[command(flatten)]
    pub send: send::SendFlags,
}

/// The command line, parsed. Usage errors exit 2 with clap's message.
pub(crate) fn parse() -> Cli {
    let matches = Cli::command().get_matches();
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.format(&mut Cli::command()).exit(),
    }
}

/// `smtpcli help [VERB]`: the offline SMTP reference, printed, instead of
/// connecting to a host named `help`. `None` when the words are not that
/// (`smtpcli help 25` still means the host `help`, port 25).
pub(crate) fn offline_help() -> Option<Exit> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (first, rest) = args.split_first()?;
    if first != "help" {
        return None;
    }
    let name = match rest {
        [] => None,
        [name] if !name.bytes().all(|b| b.is_ascii_digit()) => Some(name.as_str()),
        _ => return None,
    };
    let Some(lines) = smtpcli::verb_help(name) else {
        smtpcli::print_error(&format!(
            "no SMTP command or EHLO keyword {:?} in the reference ('smtpcli help' lists them)",
            name.unwrap_or_default()
        ));
        return Some(Exit::Local);
    };
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    Some(Exit::Success)
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

/// The flags as the top layer of options: `--tls`/`--starttls` say what a
/// file's `tls` says, and an `@NAME` host names a profile, not a server.
pub(crate) fn flag_layer(cli: &Cli) -> Options {
    let mut options = cli.options.clone();
    if options.host.as_deref().is_some_and(|h| h.starts_with('@')) {
        options.host = None;
    }
    options.tls = match (cli.tls, cli.starttls) {
        (true, _) => Some(TlsMode::Implicit),
        (_, true) => Some(TlsMode::Starttls),
        _ => None,
    };
    options
}

/// Checks the flags, with the config file's options under them
/// (`file`: the profile over the top level), and resolves them into the
/// [`Config`] of this run. The file is never written into the flags.
pub(crate) fn resolve(cli: Cli, file: Options) -> anyhow::Result<Config> {
    let o = flag_layer(&cli).or(file);
    let proxy = proxy_request(&o)?;
    let color = o.color.unwrap_or_default();
    if let Some(args) = cli.explain {
        return Ok(Config {
            mode: Mode::Explain(args),
            color,
        });
    }
    let socks5 = socks5_proxy(&o)?;
    let implicit_tls = o.tls == Some(TlsMode::Implicit);
    if cli.resume_test && o.tls.is_none_or(|t| t == TlsMode::Plain) {
        bail!("--resume-test needs a TLS session to resume: add --starttls or --tls");
    }
    let lmtp = o.lmtp.unwrap_or(false);
    let host_given = o.host.is_some();
    let host = o.host.as_deref().unwrap_or("localhost");
    let default_port = match (implicit_tls, lmtp) {
        (true, _) => 465,
        (false, true) => 24,
        (false, false) => 25,
    };
    let target = parse_target(host, o.port.as_deref(), default_port)?;
    let mut tls = TlsSettings::new(o.sni.clone().unwrap_or_else(|| target.host.clone()));
    if cli.no_sni {
        tls.sni = None;
    }
    if let Some(backend) = o.tls_backend {
        if !backend.is_built() {
            bail!(
                "this build has no {backend} TLS backend (built: {})",
                built_backends()
            );
        }
        tls.backend = backend;
    }
    tls.verify = o.verify.unwrap_or(false);
    tls.ca_file = o.ca_file;
    tls.client_cert = o.cert;
    tls.client_key = o.key;
    tls.min = o.tls_min;
    tls.max = o.tls_max;
    tls.groups = o.tls_groups;
    tls.ciphers = o.ciphers;
    tls.names = cli.names.clone();
    if let (Some(min), Some(max)) = (tls.min, tls.max)
        && min > max
    {
        bail!("--tls-min {min} is above --tls-max {max}");
    }
    let mut timeouts = Timeouts::default();
    if let Some(secs) = o.timeout {
        if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
            bail!("--timeout wants a number of seconds from 0 to 86400, not {secs}");
        }
        let limit = Duration::try_from_secs_f64(secs).context("--timeout")?;
        timeouts.connect = limit;
        timeouts.reply = limit;
        // Given, it bounds every wait: the reply after the final '.' too.
        timeouts.data_end = limit;
    }
    // With --audit, --from and --to are the probes' envelope.
    let send_lines = if cli.send.is_send() && !cli.audit {
        if cli.script.is_some() || cli.replay.is_some() {
            bail!(
                "--to sends one message and ends: it does not go with --script or --replay (:send in a script does)"
            );
        }
        Some(cli.send.lines()?)
    } else {
        None
    };
    let family = match (cli.ipv4, cli.ipv6) {
        (true, _) => Family::V4,
        (_, true) => Family::V6,
        _ => Family::Any,
    };
    if let Some(domain) = cli.check.clone() {
        if cli.send.is_send() {
            bail!("--check looks at a domain and sends no mail: leave out --to");
        }
        return check_config(
            &cli,
            &domain,
            o.ehlo.clone(),
            tls,
            o.timeout.is_some().then_some(timeouts),
            family,
        )
        .map(|check| Config {
            mode: Mode::Check(Box::new(check)),
            color,
        });
    }
    if let Some(path) = cli.probe.clone() {
        return probe_config(
            &cli,
            path,
            implicit_tls,
            o.ehlo.clone(),
            tls,
            o.timeout.is_some().then_some(timeouts),
            family,
        )
        .map(|probe| Config {
            mode: Mode::Probe(Box::new(probe)),
            color,
        });
    }
    let connect = ConnectConfig {
        target,
        connect: ConnectOptions {
            family,
            source: cli.source,
            timeout: timeouts.connect,
            mx: o.mx.unwrap_or(false),
            resolver: cli.resolver,
            mx_limit: cli.mx_limit.unwrap_or_default(),
            proxy,
            socks5,
        },
        starttls: o.tls == Some(TlsMode::Starttls),
        xclient: o.xclient.clone(),
        xclient_before_starttls: o.xclient_before_starttls.unwrap_or(false),
        resume_test: cli.resume_test,
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
            implicit_tls,
            timeouts,
            quit_after: cli.quit_after,
            lmtp,
            keep_waiting: false,
        },
        timing: cli.timing,
        interactive: cli.script.is_none() && !cli.json && send_lines.is_none(),
        history: !cli.no_history,
        input: match (send_lines, cli.script) {
            (Some(lines), _) => Input::Lines(lines),
            (None, Some(path)) if path.as_os_str() != "-" => Input::File(path),
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
        history_size: o.history_size,
        helpers: HelperConfig {
            // --helo is a choice of greeting: a file's EHLO name stays out.
            ehlo: if cli.helo.is_some() { None } else { o.ehlo },
            helo: cli.helo,
            lmtp,
            user: o.user,
            password_file: o.password_file,
            token_cmd: o.token_cmd,
            insecure: cli.insecure,
            password: None,
            password_hint: None,
        },
    };
    #[cfg(feature = "demo")]
    if cli.audit && cli.demo {
        bail!("--audit tests a server of yours, not the demo: leave out --demo");
    }
    if cli.audit {
        return Ok(Config {
            mode: Mode::Audit(Box::new(audit_config(
                connect,
                cli.tests.as_deref(),
                cli.send.from,
                audit_recipient(cli.send.to)?,
            )?)),
            color,
        });
    }
    Ok(Config {
        mode: Mode::Connect(Box::new(connect)),
        color,
    })
}

/// `--audit` sends test messages to one mailbox: the one `--to`.
fn audit_recipient(to: Vec<String>) -> anyhow::Result<Option<String>> {
    match <[String; 1]>::try_from(to) {
        Ok([one]) => Ok(Some(one)),
        Err(many) if many.is_empty() => Ok(None),
        Err(_) => bail!("--audit sends its test messages to one mailbox: give one --to"),
    }
}

/// `--audit` with its tests and envelope, checked: the tests that send an
/// envelope need both addresses, and an address is one word without
/// brackets or line breaks.
fn audit_config(
    connect: ConnectConfig,
    tests: Option<&str>,
    from: Option<String>,
    to: Option<String>,
) -> anyhow::Result<AuditConfig> {
    let tests = match tests {
        Some(list) => Test::parse_list(list)?,
        None => Test::ALL.to_vec(),
    };
    let needs = tests
        .iter()
        .filter(|t| t.needs_envelope())
        .map(|t| t.name());
    let needs: Vec<&str> = needs.collect();
    let (from, to) = match (from, to) {
        (Some(from), Some(to)) => (from, to),
        _ if needs.is_empty() => (String::new(), String::new()),
        _ => bail!(
            "--audit needs --from ADDRESS and --to ADDRESS for {} (--to: a mailbox of yours on \
             the audited server; test messages go there and nowhere else)",
            needs.join(", ")
        ),
    };
    for (flag, address) in [("--from", &from), ("--to", &to)] {
        let bad = address
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>'));
        if bad || (!address.is_empty() && !address.contains('@')) {
            bail!(
                "{flag} wants a plain address like user@example.org, not '{}'",
                address.escape_debug()
            );
        }
    }
    Ok(AuditConfig {
        connect,
        tests,
        from,
        to,
    })
}

/// `--probe`: the targets come from a file; a lone positional argument is
/// the default port.
fn probe_config(
    cli: &Cli,
    path: PathBuf,
    implicit_tls: bool,
    ehlo: Option<String>,
    tls: TlsSettings,
    timeouts: Option<Timeouts>,
    family: Family,
) -> anyhow::Result<ProbeConfig> {
    let port = match (&cli.options.host, &cli.options.port) {
        (None, None) => None,
        (Some(port), None) => Some(port.as_str()),
        (Some(_), Some(_)) => {
            bail!("--probe takes its targets from FILE: give at most a PORT, not HOST PORT")
        }
        (None, Some(port)) => Some(port.as_str()),
    };
    let default_port = match port {
        Some(text) => text
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .with_context(|| format!("--probe: '{text}' is not a port number"))?,
        None if implicit_tls => 465,
        None => 25,
    };
    let (connect, session) = direct(cli, tls, implicit_tls, timeouts, family);
    Ok(ProbeConfig {
        input: if path.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::File(path)
        },
        default_port,
        connect,
        session,
        ehlo,
        concurrency: cli.concurrency.map_or(100, |n| n as usize),
        per_host: cli.per_host.map_or(2, |n| n as usize),
        max_bytes: cli.max_bytes.unwrap_or(64 * 1024),
        resume: cli.resume.clone(),
        shard: cli.shard,
        json: cli.json,
    })
}

/// `--check DOMAIN`: the domain in its ASCII form (a U-label becomes its
/// A-label), each stage bounded like `--probe`'s.
fn check_config(
    cli: &Cli,
    domain: &str,
    ehlo: Option<String>,
    tls: TlsSettings,
    timeouts: Option<Timeouts>,
    family: Family,
) -> anyhow::Result<CheckConfig> {
    let bare = domain.trim_end_matches('.');
    let name = (!bare.is_empty() && !bare.contains(['/', ':', '@', ' ']))
        .then(|| hickory_resolver::proto::rr::Name::from_utf8(bare).ok())
        .flatten()
        .filter(|n| n.num_labels() >= 1)
        .with_context(|| {
            format!(
                "--check wants a domain name like example.org, not '{}'",
                domain.escape_debug()
            )
        })?;
    let (connect, session) = direct(cli, tls, false, timeouts, family);
    Ok(CheckConfig {
        domain: name.to_ascii().trim_end_matches('.').to_ascii_lowercase(),
        resolver: cli.resolver,
        connect,
        session,
        ehlo,
        json: cli.json,
    })
}

/// How `--probe` and `--check` reach each server: straight to the address
/// (no MX lookup of their own, no proxy), every stage bounded by
/// `--timeout` or 10 s.
fn direct(
    cli: &Cli,
    tls: TlsSettings,
    implicit_tls: bool,
    timeouts: Option<Timeouts>,
    family: Family,
) -> (ConnectOptions, SessionOptions) {
    let timeouts = timeouts.unwrap_or(Timeouts {
        connect: PROBE_TIMEOUT,
        reply: PROBE_TIMEOUT,
        data_end: PROBE_TIMEOUT,
    });
    let connect = ConnectOptions {
        family,
        source: cli.source,
        timeout: timeouts.connect,
        mx: false,
        resolver: cli.resolver,
        mx_limit: smtpcli::net::MxLimit::default(),
        proxy: None,
        socks5: None,
    };
    let session = SessionOptions {
        tls,
        implicit_tls,
        timeouts,
        quit_after: None,
        lmtp: false,
        keep_waiting: false,
    };
    (connect, session)
}

/// Each `--probe` and `--check` stage's bound without `--timeout`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// What `--proxy*` asks to send before the dialog, read and checked here so
/// a mistake is a usage error before anything connects.
fn proxy_request(o: &Options) -> anyhow::Result<Option<proxy::Request>> {
    if let Some(raw) = &o.proxy_raw {
        let bytes = match raw.strip_prefix('@') {
            Some(path) => std::fs::read(path)
                .with_context(|| format!("cannot read the --proxy-raw file {path}"))?,
            None => proxy::decode_hex(raw).ok_or_else(|| proxy::ProxyError::Raw(raw.clone()))?,
        };
        return Ok(Some(proxy::Request::Raw(bytes)));
    }
    let Some(version) = o.proxy else {
        if o.proxy_source.is_some() || o.proxy_dest.is_some() || !o.proxy_tlv.is_empty() {
            bail!("--proxy-source, --proxy-dest and --proxy-tlv need --proxy v1|v2");
        }
        return Ok(None);
    };
    let tlvs = o
        .proxy_tlv
        .iter()
        .map(|word| proxy::Tlv::parse(word))
        .collect::<Result<Vec<_>, _>>()?;
    if version == proxy::Version::V1 && !tlvs.is_empty() {
        bail!(proxy::ProxyError::TlvInV1);
    }
    Ok(Some(proxy::Request::Header {
        version,
        source: o.proxy_source,
        destination: o.proxy_dest,
        tlvs,
    }))
}

/// `--socks5` with its login, read and checked here: a mistake is a usage
/// error before anything connects. The password comes from a file or the
/// environment, never from a flag (`ps` would show it).
fn socks5_proxy(o: &Options) -> anyhow::Result<Option<Socks5>> {
    let Some(address) = &o.socks5 else {
        if o.socks5_user.is_some() || o.socks5_password_file.is_some() {
            bail!("--socks5-user and --socks5-password-file need --socks5 HOST:PORT");
        }
        return Ok(None);
    };
    let proxy = parse_target(address, None, socks5::DEFAULT_PORT).context("--socks5")?;
    let Some(user) = &o.socks5_user else {
        if o.socks5_password_file.is_some() {
            bail!("--socks5-password-file needs --socks5-user");
        }
        return Ok(Some(Socks5 {
            proxy,
            credentials: None,
        }));
    };
    let password = match (
        &o.socks5_password_file,
        std::env::var("SMTPCLI_SOCKS5_PASSWORD"),
    ) {
        (Some(path), _) => first_line(path)
            .with_context(|| format!("cannot read the SOCKS5 password file {}", path.display()))?,
        (None, Ok(password)) => Secret::new(password),
        (None, Err(std::env::VarError::NotUnicode(_))) => {
            bail!("SMTPCLI_SOCKS5_PASSWORD is not UTF-8")
        }
        (None, Err(std::env::VarError::NotPresent)) => bail!(
            "--socks5-user needs a password: --socks5-password-file FILE or SMTPCLI_SOCKS5_PASSWORD"
        ),
    };
    let credentials = socks5::Credentials::new(user.clone(), password)?;
    Ok(Some(Socks5 {
        proxy,
        credentials: Some(credentials),
    }))
}

/// The first line of a small file (or a pipe, as `<(pass show …)` gives),
/// as a secret; what was read is wiped.
fn first_line(path: &std::path::Path) -> anyhow::Result<Secret> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!(smtpcli::net::connect::describe_io(&e)))?;
    let mut text = zeroize::Zeroizing::new(String::new());
    file.take(4096)
        .read_to_string(&mut text)
        .map_err(|e| anyhow::anyhow!(smtpcli::net::connect::describe_io(&e)))?;
    let line = text.lines().next().unwrap_or("");
    Ok(Secret::new(line))
}
