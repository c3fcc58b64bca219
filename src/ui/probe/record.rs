//! How one probed address is written: an NDJSON `probe` event
//! (`schema/events.v1.json`), or one text line; and the writer that puts
//! them, the progress display and the summary where they belong.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use super::Outcome;
use super::summary::{Summary, Verdict, ms};
use super::targets::Kind;
use crate::config::ProbeConfig;
use crate::exit::Exit;
use crate::session::probe::{Stage, TlsUse};
use crate::text::escape_str;
use crate::ui::theme::{Role, Theme};

/// The `probe` event of one address.
pub(crate) fn json(outcome: &Outcome) -> Value {
    let probe = &outcome.probe;
    let mut ms = serde_json::Map::new();
    for stage in Stage::ALL {
        if let Some(took) = probe.stage(stage) {
            ms.insert(stage.name().into(), json!(millis(took)));
        }
    }
    ms.insert("total".into(), json!(millis(probe.total + outcome.dns)));
    let caps = |c: &Option<crate::proto::ehlo::Capabilities>| {
        c.as_ref()
            .map(|c| c.list.iter().map(ToString::to_string).collect::<Vec<_>>())
    };
    let mechanisms = |c: &Option<crate::proto::ehlo::Capabilities>| {
        c.as_ref()
            .map(crate::proto::ehlo::Capabilities::auth_mechanisms)
    };
    let tls = probe.tls.as_ref().map(|report| {
        let leaf = report.leaf();
        json!({
            "protocol": report.protocol,
            "cipher": report.cipher,
            "group": report.group,
            "trusted": report.is_trusted(),
            "problems": report.verdict.problems().iter().map(ToString::to_string).collect::<Vec<_>>(),
            "subject": leaf.map(|c| &c.subject),
            "not_after": leaf.map(|c| &c.not_after),
            "days_left": leaf.map(|c| c.days_left),
        })
    });
    json!({
        "target": outcome.target.text,
        "kind": match outcome.target.kind {
            Kind::Domain(_) => "domain",
            Kind::Host { .. } => "host",
            Kind::Address { .. } => "address",
        },
        "index": outcome.index,
        "of": outcome.of,
        "mx": outcome.mx.as_ref().map(|(name, _)| name),
        "preference": outcome.mx.as_ref().and_then(|(_, p)| *p),
        "address": outcome.addr.map(|a| a.ip().to_string()),
        "port": outcome.addr.map(|a| a.port()),
        "name": outcome.name,
        "passed": outcome.passed(),
        "verdict": Verdict::of(outcome).name(),
        "error": probe.error.as_ref().map(|e| json!({
            "class": e.class.name(),
            "stage": e.stage.name(),
            "message": e.message,
        })),
        "ms": ms,
        "banner": probe.banner.as_ref().and_then(|r| r.lines.first()).map(|l| crate::text::escape(&l.raw)),
        "tls_mode": match probe.tls_use {
            TlsUse::None => "none",
            TlsUse::Starttls => "starttls",
            TlsUse::Implicit => "implicit",
        },
        "tls": tls,
        "capabilities": {"before_tls": caps(&probe.before), "after_tls": caps(&probe.after)},
        "auth": {"before_tls": mechanisms(&probe.before), "after_tls": mechanisms(&probe.after)},
        "bytes": probe.bytes,
    })
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// One text line: verdict, then [`label`], then the time taken.
pub(crate) fn line(outcome: &Outcome, theme: &Theme) -> String {
    let mark = if outcome.passed() {
        theme.paint(Role::Class(2), "PASS")
    } else {
        theme.paint(Role::Class(5), "FAIL")
    };
    format!(
        "{mark}  {}  {}",
        label(outcome),
        ms(outcome.probe.total + outcome.dns)
    )
}

/// Target, MX, address and what was found, escaped.
pub(crate) fn label(outcome: &Outcome) -> String {
    let probe = &outcome.probe;
    let mx = match &outcome.mx {
        Some((name, Some(preference))) => format!("{} ({preference})", name.escaped()),
        Some((name, None)) => name.escaped().to_string(),
        None => "-".into(),
    };
    let addr = outcome
        .addr
        .map_or_else(|| "-".to_string(), |a| a.to_string());
    let mut found = Vec::new();
    if let Some(report) = &probe.tls {
        let protocol = report.protocol.as_deref().unwrap_or("TLS");
        let days = report
            .leaf()
            .map(|c| format!(", {} days left", c.days_left))
            .unwrap_or_default();
        found.push(format!(
            "{protocol} {}{days}",
            verdict_in_brief(&report.verdict)
        ));
    }
    if let Some(e) = &probe.error {
        if e.class.name() == e.stage.name() {
            found.push(format!("{}: {}", e.class.name(), e.message));
        } else {
            found.push(format!(
                "{} at {}: {}",
                e.class.name(),
                e.stage.name(),
                e.message
            ));
        }
    }
    let auth_before = probe
        .before
        .as_ref()
        .is_some_and(|c| !c.auth_mechanisms().is_empty());
    if auth_before && probe.tls_use == TlsUse::Starttls {
        found.push("AUTH offered before TLS".into());
    }
    format!(
        "{}  {mx}  {addr}  {}",
        outcome.target.text,
        escape_str(&found.join("; "))
    )
}

/// A verdict in a few words, for one line: `trusted`, or `NOT trusted`
/// with each problem named (the JSON has them in full).
fn verdict_in_brief(verdict: &crate::net::tls::Verdict) -> String {
    use crate::net::tls::{Problem, Verdict};
    match verdict {
        Verdict::Trusted => "trusted".into(),
        Verdict::NotVerified(_) => "not verified".into(),
        Verdict::Untrusted(problems) => {
            let names: Vec<&str> = problems
                .iter()
                .map(|p| match p {
                    Problem::SelfSigned { .. } => "self-signed",
                    Problem::UnknownIssuer { .. } => "unknown issuer",
                    Problem::IncompleteChain { .. } => "incomplete chain",
                    Problem::Expired { .. } => "expired",
                    Problem::NotYetValid { .. } => "not yet valid",
                    Problem::NameMismatch { .. } => "name mismatch",
                    _ => "other problem",
                })
                .collect();
            format!("NOT trusted ({})", names.join(", "))
        }
    }
}

/// Where results, progress and the summary go.
pub(crate) struct Writer {
    json: bool,
    theme: Theme,
    /// Stdout is a terminal (and not `--json`): a live display, failures
    /// only, then the summary on stdout.
    live: bool,
    progress: Option<ProgressBar>,
    summary: Summary,
    targets: u64,
    started: Instant,
    stdout: io::StdoutLock<'static>,
    error: Option<io::Error>,
}

impl Writer {
    pub(crate) fn new(config: &ProbeConfig, theme: Theme, total: u64) -> Writer {
        let stdout_tty = io::stdout().is_terminal();
        let stderr_tty = io::stderr().is_terminal();
        let live = stdout_tty && !config.json;
        // Piped text gets one line per result and no display; --json gets
        // the display on a terminal's stderr.
        let progress = ((live || config.json) && stderr_tty).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} {pos}/{len} targets [{wide_bar}] {per_sec} · ETA {eta} · {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Writer {
            json: config.json,
            theme,
            live,
            progress,
            summary: Summary::default(),
            targets: 0,
            started: Instant::now(),
            stdout: io::stdout().lock(),
            error: None,
        }
    }

    /// Lines that say what the run will do, before it starts.
    pub(crate) fn notes(&mut self, notes: &[String]) {
        for note in notes {
            let text = self.theme.paint(Role::Note, &format!("# {note}"));
            self.above(&text);
        }
    }

    /// A line above the progress display (stderr).
    fn above(&self, text: &str) {
        match &self.progress {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub(crate) fn in_flight(&mut self, n: usize) {
        if let Some(bar) = &self.progress {
            bar.set_message(format!("{n} in flight"));
        }
    }

    pub(crate) fn outcome(&mut self, outcome: &Outcome) {
        self.summary.add(outcome, &label(outcome));
        if self.json {
            let t_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let bytes = crate::ui::json::event_line("probe", t_ms, json(outcome));
            self.write(&bytes);
        } else if self.live {
            if !outcome.passed() {
                let text = line(outcome, &self.theme);
                match &self.progress {
                    Some(bar) => bar.println(text),
                    None => self.write(format!("{text}\n").as_bytes()),
                }
            }
        } else {
            let text = line(outcome, &self.theme);
            self.write(format!("{text}\n").as_bytes());
        }
    }

    pub(crate) fn target_done(&mut self) {
        self.targets += 1;
        if let Some(bar) = &self.progress {
            bar.inc(1);
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        // Each result is flushed: a run cut short keeps what it found.
        let result = self
            .stdout
            .write_all(bytes)
            .and_then(|()| self.stdout.flush());
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// The summary; how the run exits.
    pub(crate) fn finish(
        mut self,
        elapsed: Duration,
        interrupted: Option<usize>,
    ) -> io::Result<Exit> {
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let lines = self.summary.lines(self.targets, elapsed, interrupted);
        let painted: Vec<String> = lines
            .iter()
            .map(|l| self.theme.paint(Role::Note, &format!("# {l}")))
            .collect();
        if self.live {
            for l in &painted {
                self.write(format!("{l}\n").as_bytes());
            }
        } else {
            let mut stderr = io::stderr().lock();
            for l in &lines {
                let _ = writeln!(stderr, "# {l}");
            }
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(if self.summary.passed == self.summary.addresses {
            Exit::Success
        } else {
            Exit::Permanent
        })
    }
}
