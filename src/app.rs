//! The application: which mode a run is, and the driver that runs it.
//!
//! [`run`] takes the resolved [`Config`] and dispatches: `--explain`
//! (offline), `--replay`, `--demo` (the embedded server, then the prompt or
//! a script), the interactive prompt when stdin and stdout are terminals,
//! and otherwise the line-by-line driver for `--script` or piped input.
//! Everything a mode shares (opening the session, `--starttls`, handling a
//! line) is in the runner (`ui::runner`); this module only chooses, and
//! reads the files a mode needs before any connection is made.

use std::io::{self, IsTerminal, Read, Write};

use anyhow::{Context, Result};

use crate::config::{AuditConfig, Config, ConnectConfig, Input, Mode};
use crate::exit::Exit;
use crate::ui::theme::Theme;
use crate::ui::{Output, audit, explain, json, render, repl, replay, runtime, script};

/// Runs the configured mode and returns how it ended.
pub fn run(config: Config) -> Result<Exit> {
    let theme = Theme::new(config.color.resolve_for_stdout());
    match config.mode {
        Mode::Explain(args) => run_explain(&args, &theme),
        Mode::Connect(connect) => run_connect(&connect, theme),
        Mode::Audit(audit) => run_audit(&audit, theme),
        Mode::Probe(probe) => crate::ui::probe::run(&probe, theme),
        Mode::Check(check) => crate::ui::check::run(&check, theme),
    }
}

fn run_audit(config: &AuditConfig, theme: Theme) -> Result<Exit> {
    let runtime = runtime()?;
    let stdout = io::BufWriter::new(io::stdout());
    let report = if config.connect.json {
        audit::Report::Json(json::JsonOutput::new(stdout))
    } else {
        audit::Report::Text { out: stdout, theme }
    };
    Ok(runtime.block_on(audit::run(config, report)))
}

fn run_connect(config: &ConnectConfig, theme: Theme) -> Result<Exit> {
    if let Some(replay) = &config.replay {
        return run_replay(config, replay, theme);
    }
    // `_demo` holds the demo's certificate files until the session ends.
    #[cfg(feature = "demo")]
    let (demo_config, notes, _demo) = if config.demo {
        let (with_demo, tour, demo) = start_demo(config)?;
        (Some(with_demo), tour, Some(demo))
    } else {
        (None, Vec::new(), None)
    };
    #[cfg(feature = "demo")]
    let config = demo_config.as_ref().unwrap_or(config);
    #[cfg(not(feature = "demo"))]
    let notes: Vec<String> = Vec::new();
    if config.interactive && repl::is_possible() {
        if !notes.is_empty() {
            let mut intro = render::Renderer::new(io::stdout(), theme);
            intro.info(&notes);
        }
        return repl::run(config, theme);
    }
    // Open the script before connecting: a typo in its name is not the
    // server's problem.
    let input: Box<dyn Read + Send> = match &config.input {
        Input::Stdin => Box::new(io::stdin()),
        Input::Lines(lines) => Box::new(io::Cursor::new(lines.join("\n").into_bytes())),
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
    let runtime = runtime()?;
    let stdout = io::BufWriter::with_capacity(64 * 1024, io::stdout());
    if config.json {
        let mut output = json::JsonOutput::new(stdout);
        if !notes.is_empty() {
            output.info(&notes);
        }
        runtime.block_on(script::run(config, input, output))
    } else {
        let mut output = render::Renderer::new(stdout, theme);
        output.timing = config.timing;
        if !notes.is_empty() {
            output.info(&notes);
        }
        runtime.block_on(script::run(config, input, output))
    }
}

/// Starts the embedded server and points the configuration at it; returns
/// the configuration and the tour to print.
#[cfg(feature = "demo")]
fn start_demo(config: &ConnectConfig) -> Result<(ConnectConfig, Vec<String>, crate::demo::Demo)> {
    let demo = crate::demo::start()?;
    let mut config = config.clone();
    config.target = crate::net::Target {
        host: demo.addr.ip().to_string(),
        port: demo.addr.port(),
    };
    let mut tls = crate::net::TlsSettings::new("localhost");
    tls.ca_file = Some(demo.ca_file.clone());
    tls.backend = config.session.tls.backend;
    config.session.tls = tls;
    // The demo listens inside this process: a config file's proxy cannot reach it.
    config.connect.socks5 = None;
    config.helpers.user = Some(crate::demo::USER.to_string());
    config.helpers.password_hint = Some(demo.password.clone());
    let tour = vec![
        format!(
            "smtpcli demo: a real SMTP server inside this process on {} (STARTTLS, AUTH PLAIN and LOGIN)",
            demo.addr
        ),
        format!("credentials: user {}, password {}", crate::demo::USER, demo.password),
        "try: EHLO demo.example.org   then :starttls   then :auth plain demo".to_string(),
        "then: :send --to friend@example.org --subject Hello   and :demo inbox (nosuchuser@… is refused)".to_string(),
        ":help lists everything; Ctrl-D or :quit ends the session".to_string(),
    ];
    Ok((config, tour, demo))
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
        // A bounce is a mail: 16 MiB is plenty, and /dev/zero never ends.
        let mut bytes = Vec::new();
        io::stdin()
            .take(MAX_BOUNCE + 1)
            .read_to_end(&mut bytes)
            .context("reading the bounce from stdin")?;
        if bytes.len() as u64 > MAX_BOUNCE {
            return usage_error("the pasted bounce is larger than 16 MiB: paste the DSN part");
        }
        let text = String::from_utf8_lossy(&bytes);
        let (text, _) = strip_bom(&text);
        let bounce = match explain::read_bounce(text) {
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

fn run_replay(
    config: &ConnectConfig,
    replay: &crate::config::Replay,
    theme: Theme,
) -> Result<Exit> {
    let text = match read_capped(&replay.path, MAX_RECORDING) {
        Ok(bytes) if bytes.len() as u64 > MAX_RECORDING => {
            return usage_error(&format!(
                "{} is not a recorded dialog: it is larger than 8 MiB",
                replay.path.display()
            ));
        }
        // A transcript is text: a NUL says this is something else.
        Ok(bytes) if bytes.contains(&0) => {
            return usage_error(&format!(
                "{} is not a recorded dialog: it holds binary data",
                replay.path.display()
            ));
        }
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            return usage_error(&format!(
                "cannot read the recording {}: {}",
                replay.path.display(),
                crate::net::connect::describe_io(&e)
            ));
        }
    };
    let (text, bom) = strip_bom(&text);
    let recorded = crate::transcript::read(text);
    let mut config = config.clone();
    let mut notes = vec![format!(
        "replaying {}: {}, {} steps",
        replay.path.display(),
        recorded.format,
        recorded.steps.len()
    )];
    if bom {
        notes.push(BOM_NOTE.to_string());
    }
    if !config.host_given
        && let Some((host, port)) = &recorded.target
    {
        config.target = crate::net::target::parse_target(host, port.as_deref(), 25)?;
        config.connect.timeout = config.session.timeouts.connect;
        notes.push(format!(
            "no HOST given: using {} from the recorded telnet command",
            config.target
        ));
    }
    if recorded.steps.is_empty() {
        return usage_error(&format!(
            "nothing to replay in {}: no client lines found",
            replay.path.display()
        ));
    }
    if recorded.banner.is_none() && recorded.steps.iter().all(|step| step.reply.is_none()) {
        // Nothing to compare with: the lines would go out unchecked.
        return usage_error(&format!(
            "{} is not a recorded dialog: it has lines to send but no reply of the server's",
            replay.path.display()
        ));
    }
    let runtime = runtime()?;
    let stdout = io::BufWriter::with_capacity(64 * 1024, io::stdout());
    if config.json {
        let mut output = json::JsonOutput::new(stdout);
        output.info(&notes);
        runtime.block_on(replay::run(&config, recorded, replay.options, output))
    } else {
        let mut output = render::Renderer::new(stdout, theme);
        output.timing = config.timing;
        output.info(&notes);
        runtime.block_on(replay::run(&config, recorded, replay.options, output))
    }
}

/// The most `--replay` reads of a recording: a dialog is a few kilobytes.
const MAX_RECORDING: u64 = 8 * 1024 * 1024;

/// Reads at most `limit + 1` bytes of `path` (a FIFO or /dev/zero too), so
/// the caller can tell a file over the limit without holding all of it.
fn read_capped(path: &std::path::Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The most `--explain -` reads of a pasted bounce.
const MAX_BOUNCE: u64 = 16 * 1024 * 1024;

/// What is said when a file started with a byte order mark.
pub(crate) const BOM_NOTE: &str =
    "a UTF-8 byte order mark at the start of the input was removed (an editor's, not SMTP)";

/// Text without a leading byte order mark, and whether it had one.
pub(crate) fn strip_bom(text: &str) -> (&str, bool) {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

fn usage_error(message: &str) -> Result<Exit> {
    crate::text::print_error(message);
    Ok(Exit::Local)
}
