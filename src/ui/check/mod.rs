//! `--check DOMAIN`: the driver. It picks the resolver (`--resolver`, or
//! the system's first name server), runs the engine's whole-domain check
//! (`session::check::domain`) on one thread, and hands the result to the
//! text report ([`table`]) or the JSON events ([`record`]). The exit code
//! is decided here: 0 when every address is deliverable as its policies
//! require, 1 when one is `defer` or fails a policy it is only tested
//! against, 2 when the check itself could not be done.

mod record;
mod table;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Result;

use super::Output as _;
use super::theme::Theme;
use crate::config::CheckConfig;
use crate::exit::Exit;
use crate::net::dnssec;
use crate::proto::policy::verdict::{Kind, Reason};
use crate::session::EventSink as _;
use crate::session::check::domain::{self, CheckSpec, DomainCheck};

/// Each DNS question's bound.
const DNS_TIMEOUT: Duration = Duration::from_secs(5);

/// The resolver whose AD bit the check trusts, and where it came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Resolver {
    pub(crate) addr: SocketAddr,
    /// Given with `--resolver` (else read from the system's configuration).
    pub(crate) given: bool,
}

impl Resolver {
    /// The sentence that says whose AD bit is trusted.
    pub(crate) fn trust_note(&self) -> String {
        let from = if self.given {
            "--resolver"
        } else {
            "the system's resolver, from /etc/resolv.conf"
        };
        format!(
            "DNSSEC status: the AD bit of {} ({from}); it must be a validating resolver you trust",
            self.addr
        )
    }
}

/// Runs `--check`.
pub(crate) fn run(config: &CheckConfig, theme: Theme) -> Result<Exit> {
    let resolver = match config.resolver {
        Some(addr) => Resolver { addr, given: true },
        None => match dnssec::system_resolver() {
            Some(addr) => Resolver { addr, given: false },
            None => {
                crate::text::print_error(
                    "--check needs a validating resolver: no name server found in /etc/resolv.conf; give --resolver IP[:PORT]",
                );
                return Ok(Exit::Local);
            }
        },
    };
    let ehlo = config
        .ehlo
        .clone()
        .unwrap_or_else(|| crate::net::hostname::default_ehlo_name(None));
    let spec = CheckSpec {
        domain: config.domain.clone(),
        resolver: resolver.addr,
        connect: config.connect.clone(),
        session: config.session.clone(),
        ehlo,
        dns_timeout: DNS_TIMEOUT.min(config.session.timeouts.reply),
        fetch_timeout: config.session.timeouts.reply,
    };
    let runtime = super::runtime()?;
    let local = tokio::task::LocalSet::new();
    let checked = runtime.block_on(local.run_until(domain::check_domain(&spec)));
    let (exit, why) = match &checked {
        Ok(found) => exit_of(found),
        Err(e) if e.is_finding() => (Exit::Permanent, Some(e.to_string())),
        Err(e) => (Exit::Local, Some(e.to_string())),
    };
    let stdout = io::BufWriter::new(io::stdout());
    if config.json {
        let mut out = super::json::JsonOutput::new(stdout);
        out.info(&[format!("checking {}", config.domain), resolver.trust_note()]);
        match &checked {
            Ok(found) => record::write(&mut out, found, &resolver),
            Err(e) => out.error(&e.to_string()),
        }
        out.end(exit, why.as_deref());
        out.flush();
        if let Some(e) = out.take_error() {
            return Err(e.into());
        }
    } else {
        let mut out = stdout;
        match &checked {
            Ok(found) => table::write(&mut out, &theme, found, &resolver)?,
            Err(e) => {
                table::intro(&mut out, &theme, &config.domain, &resolver)?;
                out.flush()?;
                crate::text::print_error(&e.to_string());
            }
        }
        out.flush()?;
    }
    Ok(exit)
}

/// The exit code of a finished check, with the first address that
/// decided it.
fn exit_of(found: &DomainCheck) -> (Exit, Option<String>) {
    for host in &found.hosts {
        let name = crate::text::escape(host.name.as_bytes());
        if let Some(why) = &host.no_address {
            return (Exit::Permanent, Some(crate::text::escape_str(why)));
        }
        for (addr, checked) in &host.addresses {
            let v = checked.verdict;
            if v.kind == Kind::Defer || v.reason == Reason::StsTestingWouldFail {
                return (
                    Exit::Permanent,
                    Some(format!("{name} [{}]: {}: {}", addr.ip(), v.kind, v.reason)),
                );
            }
        }
    }
    (Exit::Success, None)
}
