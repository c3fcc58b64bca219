//! `--probe FILE|-`: many mail servers at once.
//!
//! The driver reads and checks every target first ([`targets`]), takes its
//! `--shard` and skips what `--resume` says is done, then keeps up to
//! `--concurrency` targets in flight on one thread. Each target resolves
//! through one shared, caching resolver with short timeouts, then probes
//! its addresses one after another (MX hosts in preference order), each
//! behind a per-address cap of connections (`--per-host`), with
//! [`crate::session::probe::probe`]. Results come back over a channel to
//! the one writer: NDJSON lines (`--json`), one text line per address when
//! piped, or a live progress display on a terminal; then a summary
//! ([`summary`]). Ctrl-C stops starting new work, drops what is in flight,
//! writes what is done and says how much was not.

mod record;
mod summary;
pub(crate) mod targets;

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use hickory_resolver::TokioResolver;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::theme::Theme;
use crate::config::{Input, ProbeConfig};
use crate::exit::Exit;
use crate::net::mx::{self, MxPlan, Tuning};
use crate::net::{Family, NetError};
use crate::session::probe::{self, ErrorClass, Probe, ProbeError, ProbeSpec, Stage};
use crate::text::Untrusted;
use targets::{Kind, Target};

/// The shared resolver: short waits, a cache big enough for a fleet.
const DNS_TUNING: Tuning = Tuning {
    timeout: Duration::from_secs(2),
    attempts: 2,
    cache_size: 16 * 1024,
};

/// The most `--probe` reads of its list, or of a `--resume` file.
const MAX_INPUT: u64 = 512 * 1024 * 1024;

/// One address probed (or a target that could not be resolved).
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The target as given.
    target: Rc<Target>,
    /// Which of the target's results this is, and how many it has.
    index: usize,
    of: usize,
    /// The MX host and its preference, for a domain target.
    mx: Option<(Untrusted, Option<u16>)>,
    /// The address, if there was one to probe.
    addr: Option<SocketAddr>,
    /// The name for SNI and the certificate check.
    name: String,
    /// Resolving the target took this long.
    dns: Duration,
    /// What the probe found.
    probe: Probe,
}

impl Outcome {
    fn passed(&self) -> bool {
        self.probe.passed()
    }
}

enum Message {
    Outcome(Box<Outcome>),
    TargetDone,
}

/// Runs `--probe`.
pub(crate) fn run(config: &ProbeConfig, theme: Theme) -> Result<Exit> {
    let text = match read_input(&config.input) {
        Ok(text) => text,
        Err(message) => return usage_error(&message),
    };
    let read = match targets::read(&text, config.default_port, config.shard) {
        Ok(read) => read,
        Err(lines) => {
            for line in &lines {
                crate::text::print_error(&format!("--probe: {line}"));
            }
            return Ok(Exit::Local);
        }
    };
    let mut notes = Vec::new();
    if read.duplicates > 0 {
        notes.push(format!(
            "{} repeated target line(s) are probed once",
            read.duplicates
        ));
    }
    let mut targets = read.targets;
    if let Some(path) = &config.resume {
        let earlier = match read_capped(path) {
            Ok(text) => text,
            Err(e) => {
                return usage_error(&format!(
                    "cannot read the --resume file {}: {e}",
                    path.display()
                ));
            }
        };
        let (done, unreadable) = targets::finished(&earlier);
        let before = targets.len();
        targets.retain(|t| !done.contains(&t.text));
        let mut note = format!(
            "resuming from {}: {} target(s) already done, {} to go",
            path.display(),
            before - targets.len(),
            targets.len()
        );
        if unreadable > 0 {
            note.push_str(&format!(
                " ({unreadable} unfinished or unreadable line(s) there ignored)"
            ));
        }
        notes.push(note);
    }
    let runtime = super::runtime()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, drive(config, targets, notes, theme))
}

fn read_input(input: &Input) -> Result<String, String> {
    match input {
        Input::Stdin => {
            let mut bytes = Vec::new();
            io::stdin()
                .take(MAX_INPUT + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read the targets from stdin: {e}"))?;
            check_size(bytes, "stdin")
        }
        Input::File(path) => read_capped(path)
            .map_err(|e| format!("cannot read the target list {}: {e}", path.display())),
        Input::Lines(lines) => Ok(lines.join("\n")),
    }
}

fn read_capped(path: &std::path::Path) -> Result<String, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_INPUT + 1).read_to_end(&mut bytes))
        .map_err(|e| crate::net::connect::describe_io(&e))?;
    check_size(bytes, &path.display().to_string())
}

fn check_size(bytes: Vec<u8>, what: &str) -> Result<String, String> {
    if bytes.len() as u64 > MAX_INPUT {
        return Err(format!(
            "{what} is larger than 512 MiB: split it with --shard"
        ));
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

fn usage_error(message: &str) -> Result<Exit> {
    crate::text::print_error(message);
    Ok(Exit::Local)
}

/// What every target task shares.
struct Shared {
    resolver: TokioResolver,
    config: ProbeConfig,
    ehlo: String,
    /// One semaphore per server (address and port): `--per-host`.
    hosts: RefCell<HashMap<SocketAddr, Arc<Semaphore>>>,
    /// `--concurrency`: probes under way.
    active: Arc<Semaphore>,
    /// Slow probes, set aside to wait out their timeout: up to ten times
    /// `--concurrency`, as the open-file limit allows.
    parked: Arc<Semaphore>,
    /// How long servers usually take to greet.
    usual: RefCell<Usual>,
}

/// A moving average of how long servers took to greet: what "much longer
/// than the usual" is measured against.
#[derive(Debug, Default)]
struct Usual {
    average: Option<Duration>,
}

impl Usual {
    /// Before anything is known, a probe is slow after this long.
    const FIRST: Duration = Duration::from_secs(1);
    /// Never slow before this.
    const FLOOR: Duration = Duration::from_millis(50);

    fn add(&mut self, took: Duration) {
        self.average = Some(match self.average {
            None => took,
            Some(average) => (average * 7 + took) / 8,
        });
    }

    /// After how long a server that has not greeted is slow: twice the
    /// usual.
    fn slow_after(&self) -> Duration {
        self.average
            .map_or(Self::FIRST, |a| (a * 2).max(Self::FLOOR))
    }
}

impl Shared {
    fn host(&self, server: SocketAddr) -> Arc<Semaphore> {
        let mut hosts = self.hosts.borrow_mut();
        Arc::clone(
            hosts
                .entry(server)
                .or_insert_with(|| Arc::new(Semaphore::new(self.config.per_host))),
        )
    }
}

async fn drive(
    config: &ProbeConfig,
    targets: Vec<Target>,
    notes: Vec<String>,
    theme: Theme,
) -> Result<Exit> {
    let resolver = match mx::resolver_tuned(config.connect.resolver, Some(DNS_TUNING)) {
        Ok(resolver) => resolver,
        Err(e) => return usage_error(&e.to_string()),
    };
    let ehlo = config
        .ehlo
        .clone()
        .unwrap_or_else(|| crate::net::hostname::default_ehlo_name(None));
    let parked_places = slow_places(config.concurrency);
    let shared = Rc::new(Shared {
        resolver,
        config: config.clone(),
        ehlo,
        hosts: RefCell::new(HashMap::new()),
        active: Arc::new(Semaphore::new(config.concurrency)),
        parked: Arc::new(Semaphore::new(parked_places)),
        usual: RefCell::new(Usual::default()),
    });
    let total = targets.len();
    let mut writer = record::Writer::new(config, theme, total as u64);
    writer.notes(&notes);

    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let mut pending = targets.into_iter().map(Rc::new);
    let mut tasks = JoinSet::new();
    let mut done = 0usize;
    let started = Instant::now();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut interrupted = false;
    loop {
        // Targets wait for a place in their tasks: as many tasks as places
        // keep every place taken.
        while tasks.len() < config.concurrency + parked_places {
            let Some(target) = pending.next() else { break };
            let tx = tx.clone();
            let shared = Rc::clone(&shared);
            tasks.spawn_local(async move { probe_target(target, shared, tx).await });
        }
        writer.in_flight(
            config.concurrency + parked_places
                - shared.active.available_permits()
                - shared.parked.available_permits(),
        );
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            _ = &mut ctrl_c => {
                interrupted = true;
                break;
            }
            Some(message) = rx.recv() => match message {
                Message::Outcome(outcome) => writer.outcome(&outcome),
                Message::TargetDone => {
                    done += 1;
                    writer.target_done();
                }
            },
            Some(_) = tasks.join_next() => {}
        }
    }
    tasks.abort_all();
    drop(tx);
    // Whatever finished before the stop is written.
    while let Ok(message) = rx.try_recv() {
        match message {
            Message::Outcome(outcome) => writer.outcome(&outcome),
            Message::TargetDone => {
                done += 1;
                writer.target_done();
            }
        }
    }
    let not_done = total - done;
    let exit = writer.finish(started.elapsed(), interrupted.then_some(not_done))?;
    Ok(if interrupted { Exit::Interrupted } else { exit })
}

/// One target: resolve, then probe each address in order.
async fn probe_target(target: Rc<Target>, shared: Rc<Shared>, tx: mpsc::UnboundedSender<Message>) {
    let began = Instant::now();
    let jobs = expand(&target, &shared).await;
    let dns = match target.kind {
        Kind::Domain(_) | Kind::Host { .. } => began.elapsed(),
        Kind::Address { .. } => Duration::ZERO,
    };
    let of = jobs.len();
    for (index, job) in jobs.into_iter().enumerate() {
        let (addr, probe) = match job.addr {
            Err(error) => (None, failed(error, dns)),
            Ok(addr) => {
                let host = shared.host(addr);
                let _host_place = host.acquire_owned().await;
                let spec = spec(&shared, addr, &job.name);
                let mut probe = run_probe(&shared, &spec).await;
                if dns > Duration::ZERO {
                    probe.stages.insert(0, (Stage::Dns, dns));
                }
                (Some(addr), probe)
            }
        };
        let outcome = Outcome {
            target: Rc::clone(&target),
            index,
            of,
            mx: job.mx,
            addr,
            name: job.name,
            dns,
            probe,
        };
        if tx.send(Message::Outcome(Box::new(outcome))).is_err() {
            return;
        }
    }
    let _ = tx.send(Message::TargetDone);
}

/// How many slow probes may wait aside: ten times `--concurrency`, within
/// the open-file limit (raised to its hard limit first, as scanners do),
/// and never fewer than `--concurrency`.
fn slow_places(concurrency: usize) -> usize {
    let wanted = concurrency.saturating_mul(10);
    match open_file_limit() {
        Some(limit) => limit
            .saturating_sub(concurrency + 128)
            .min(wanted)
            .max(concurrency),
        None => concurrency,
    }
}

#[cfg(unix)]
fn open_file_limit() -> Option<usize> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    let want = hard.min(1 << 20);
    let soft = if soft < want && setrlimit(Resource::RLIMIT_NOFILE, want, hard).is_ok() {
        want
    } else {
        soft
    };
    usize::try_from(soft).ok()
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<usize> {
    None
}

/// Runs one probe in one of the `--concurrency` places. A server that has
/// not greeted in twice the usual time moves to a place among the slow
/// ones, if one is free, and frees its own for the next target.
async fn run_probe(shared: &Shared, spec: &ProbeSpec) -> Probe {
    let Ok(place) = Arc::clone(&shared.active).acquire_owned().await else {
        return probe::probe(spec).await;
    };
    let started = Instant::now();
    let running = probe::probe(spec);
    tokio::pin!(running);
    let mut place = Some(place);
    let mut slow_place = None;
    // What "usual" is changes as answers come in: look again every tick.
    let mut tick = tokio::time::interval(Usual::FLOOR);
    let found = loop {
        tokio::select! {
            found = &mut running => break found,
            _ = tick.tick(), if place.is_some() => {
                if spec.greeted.load(Ordering::Relaxed) {
                    continue;
                }
                let slow_after = shared.usual.borrow().slow_after();
                if started.elapsed() >= slow_after
                    && let Ok(slow) = Arc::clone(&shared.parked).try_acquire_owned()
                {
                    slow_place = Some(slow);
                    place = None;
                }
            }
        }
    };
    drop((place, slow_place));
    if let Some(banner) = found.stage(Stage::Banner)
        && found.banner.is_some()
    {
        shared.usual.borrow_mut().add(banner);
    }
    found
}

/// A probe that never connected: a DNS failure.
fn failed(error: ProbeError, dns: Duration) -> Probe {
    Probe {
        stages: vec![(Stage::Dns, dns)],
        total: Duration::ZERO,
        banner: None,
        before: None,
        after: None,
        tls_use: probe::TlsUse::None,
        tls: None,
        error: Some(error),
        bytes: 0,
    }
}

fn spec(shared: &Shared, addr: SocketAddr, name: &str) -> ProbeSpec {
    let config = &shared.config;
    let mut session = config.session.clone();
    session.tls.check_name = name.to_string();
    session.tls.sni = Some(name.to_string());
    ProbeSpec {
        addr,
        connect: config.connect.clone(),
        session,
        ehlo: shared.ehlo.clone(),
        max_bytes: config.max_bytes,
        greeted: Arc::new(AtomicBool::new(false)),
    }
}

/// One address to probe, or why there is none.
struct Job {
    mx: Option<(Untrusted, Option<u16>)>,
    addr: Result<SocketAddr, ProbeError>,
    name: String,
}

fn dns_error(message: String) -> ProbeError {
    ProbeError {
        class: ErrorClass::Dns,
        stage: Stage::Dns,
        message,
    }
}

/// The addresses of a target, in the order a sending MTA tries them.
async fn expand(target: &Target, shared: &Shared) -> Vec<Job> {
    let family = shared.config.connect.family;
    let port = shared.config.default_port;
    match &target.kind {
        Kind::Address { addr, name } => vec![Job {
            mx: None,
            addr: Ok(*addr),
            name: name.clone(),
        }],
        Kind::Host { host, port } => {
            let found = mx::addresses(&shared.resolver, host).await;
            addresses_of(None, host, found, family, *port)
        }
        Kind::Domain(domain) => match mx::plan(&shared.resolver, domain).await {
            Ok(MxPlan::Fallback(candidate)) => {
                let found = match candidate.error {
                    Some(e) => Err(e),
                    None => Ok(candidate.addresses),
                };
                addresses_of(None, domain, found, family, port)
            }
            Ok(MxPlan::Exchanges(candidates)) => candidates
                .into_iter()
                .flat_map(|c| {
                    let name = c.name.unchecked_str().to_ascii_lowercase();
                    let found = match c.error {
                        Some(e) => Err(e),
                        None => Ok(c.addresses),
                    };
                    addresses_of(Some((c.name, c.preference)), &name, found, family, port)
                })
                .collect(),
            Err(e) => {
                let mut error = dns_error(e.to_string());
                if matches!(e, NetError::NullMx { .. }) {
                    error.class = ErrorClass::Policy;
                }
                vec![Job {
                    mx: None,
                    addr: Err(error),
                    name: domain.clone(),
                }]
            }
        },
    }
}

fn addresses_of(
    mx: Option<(Untrusted, Option<u16>)>,
    name: &str,
    found: Result<Vec<IpAddr>, String>,
    family: Family,
    port: u16,
) -> Vec<Job> {
    let shown = crate::text::escape_str(name);
    let fail = |mx, message: String| {
        vec![Job {
            mx,
            addr: Err(dns_error(message)),
            name: name.to_string(),
        }]
    };
    let found = match found {
        Ok(found) => found,
        Err(e) => return fail(mx, format!("{shown}: {e}")),
    };
    let usable: Vec<IpAddr> = found
        .iter()
        .copied()
        .filter(|ip| family.allows(*ip))
        .collect();
    if usable.is_empty() {
        return fail(
            mx,
            format!(
                "{shown}: no address of the chosen family (found {})",
                found.len()
            ),
        );
    }
    usable
        .into_iter()
        .map(|ip| Job {
            mx: mx.clone(),
            addr: Ok(SocketAddr::new(ip, port)),
            name: name.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_slow_after_twice_the_usual_banner_wait() {
        let mut usual = Usual::default();
        assert_eq!(usual.slow_after(), Usual::FIRST);
        usual.add(Duration::from_millis(400));
        assert_eq!(usual.slow_after(), Duration::from_millis(800));
        for _ in 0..100 {
            usual.add(Duration::from_millis(1));
        }
        assert_eq!(usual.slow_after(), Usual::FLOOR);
    }
}
