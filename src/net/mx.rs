//! `--mx` and `--resolver`: from a mail domain to the hosts to try.
//!
//! HOST is a mail domain: its MX records are looked up and sorted by
//! preference, each exchange's addresses resolved; without MX records the
//! domain's own addresses are used (RFC 5321 §5.1); a null MX (RFC 7505,
//! `MX 0 .`) means the domain accepts no mail. Lookups go to the system's
//! resolver, or to the DNS server given with `--resolver` (so tests can run
//! one on loopback). The result is a list of candidates for
//! [`super::connect`] to try in order.

use crate::text::Untrusted;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::NetError as DnsNetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::{Resolver, TokioResolver};

use super::NetError;

/// A host to try, with its addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The name (an MX exchange from DNS, or the host itself).
    pub name: Untrusted,
    /// Its MX preference, when it came from an MX record.
    pub preference: Option<u16>,
    /// Its addresses (possibly none, see `error`).
    pub addresses: Vec<IpAddr>,
    /// Why it has no addresses.
    pub error: Option<String>,
}

/// How a domain's mail is to be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MxPlan {
    /// MX hosts, by preference.
    Exchanges(Vec<Candidate>),
    /// No MX records: the domain's own addresses (RFC 5321 §5.1).
    Fallback(Candidate),
}

/// A resolver: the system's, or one DNS server.
pub fn resolver(server: Option<SocketAddr>) -> Result<TokioResolver, NetError> {
    resolver_tuned(server, None)
}

/// How `--probe` tunes its one shared resolver: many names, short waits.
#[derive(Clone, Copy, Debug)]
pub struct Tuning {
    /// Each query's wait.
    pub timeout: Duration,
    /// Tries per query.
    pub attempts: usize,
    /// Answers kept.
    pub cache_size: u64,
}

/// A resolver with `tuning` (else the defaults: the system's options, or
/// 3 s and one try for `--resolver`).
pub fn resolver_tuned(
    server: Option<SocketAddr>,
    tuning: Option<Tuning>,
) -> Result<TokioResolver, NetError> {
    let dns = |e: DnsNetError| NetError::Dns(e.to_string());
    let tune = |opts: &mut ResolverOpts| {
        if let Some(t) = tuning {
            opts.timeout = t.timeout;
            opts.attempts = t.attempts;
            opts.cache_size = t.cache_size;
        }
    };
    match server {
        Some(addr) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            let ns = NameServerConfig::new(addr.ip(), true, vec![udp]);
            let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
            let mut opts = ResolverOpts::default();
            opts.use_hosts_file = ResolveHosts::Never;
            opts.timeout = Duration::from_secs(3);
            opts.attempts = 1;
            tune(&mut opts);
            Resolver::builder_with_config(config, TokioRuntimeProvider::default())
                .with_options(opts)
                .build()
                .map_err(dns)
        }
        None => {
            let mut builder = TokioResolver::builder_tokio().map_err(|e| {
                NetError::Dns(format!(
                    "the system's DNS configuration is unusable ({e}); try --resolver IP"
                ))
            })?;
            tune(builder.options_mut());
            builder.build().map_err(dns)
        }
    }
}

/// Looks up the addresses of a host name.
pub async fn addresses(resolver: &TokioResolver, host: &str) -> Result<Vec<IpAddr>, String> {
    match resolver.lookup_ip(fqdn(host)).await {
        Ok(found) => Ok(found.iter().collect()),
        Err(e) if e.is_nx_domain() => Err("no such host".into()),
        Err(e) if e.is_no_records_found() => Err("no address records".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Finds where mail for `domain` goes.
pub async fn plan(resolver: &TokioResolver, domain: &str) -> Result<MxPlan, NetError> {
    let lookup = match resolver.mx_lookup(fqdn(domain)).await {
        Ok(lookup) => Some(lookup),
        Err(e) if e.is_nx_domain() => {
            return Err(NetError::Resolve {
                host: domain.to_string(),
                reason: "no such domain".into(),
            });
        }
        Err(e) if e.is_no_records_found() => None,
        Err(e) => {
            return Err(NetError::Dns(format!("MX lookup for {domain} failed: {e}")));
        }
    };
    let mut exchanges: Vec<(u16, Untrusted, bool)> = lookup
        .iter()
        .flat_map(|l| l.answers().iter())
        .filter_map(|r| match &r.data {
            RData::MX(mx) => Some((
                mx.preference,
                Untrusted::from(mx.exchange.to_utf8().trim_end_matches('.')),
                mx.exchange.is_root(),
            )),
            _ => None,
        })
        .collect();
    if exchanges.iter().any(|(_, _, root)| *root) {
        return Err(NetError::NullMx {
            domain: domain.to_string(),
        });
    }
    if exchanges.is_empty() {
        let addresses = addresses(resolver, domain).await;
        return Ok(MxPlan::Fallback(candidate(domain.into(), None, addresses)));
    }
    exchanges.sort_by_key(|(preference, _, _)| *preference);
    let mut hosts = Vec::with_capacity(exchanges.len());
    for (preference, name, _) in exchanges {
        let found = addresses(resolver, &name.unchecked_str()).await;
        hosts.push(candidate(name, Some(preference), found));
    }
    Ok(MxPlan::Exchanges(hosts))
}

fn candidate(
    name: Untrusted,
    preference: Option<u16>,
    found: Result<Vec<IpAddr>, String>,
) -> Candidate {
    match found {
        Ok(addresses) => Candidate {
            name,
            preference,
            addresses,
            error: None,
        },
        Err(error) => Candidate {
            name,
            preference,
            addresses: Vec::new(),
            error: Some(error),
        },
    }
}

/// A name with a trailing dot, so no search domain is appended.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}
