//! Opening the TCP connection, and the facts an admin wants about it.
//!
//! Every address a name resolves to is tried in turn, within the address
//! family chosen (`-4`/`-6`), from a chosen source address if asked. What
//! happened is kept as [`ConnectFacts`]: the addresses, why each failed one
//! failed, which one answered, the local address and port used (what an
//! allow-list, PTR or SPF check sees), and how long it all took.

use crate::text::Untrusted;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::net::{TcpSocket, TcpStream};

use super::NetError;
use super::mx::{self, Candidate, MxPlan};
use super::target::Target;

/// Which address families may be used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Family {
    /// Whatever the name resolves to.
    #[default]
    Any,
    /// IPv4 only (`-4`).
    V4,
    /// IPv6 only (`-6`).
    V6,
}

impl Family {
    /// Whether `ip` is of the allowed family.
    pub fn allows(self, ip: IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }
}

/// How to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Address families allowed.
    pub family: Family,
    /// The local address to connect from (`--source`).
    pub source: Option<IpAddr>,
    /// The limit for each connection attempt.
    pub timeout: Duration,
    /// `--mx`: HOST is a mail domain; try its MX hosts by preference.
    pub mx: bool,
    /// `--resolver`: the DNS server to ask (else the system's resolver).
    pub resolver: Option<SocketAddr>,
    /// `--mx-limit`: how many MX hosts, and addresses of each, to try.
    pub mx_limit: MxLimit,
    /// `--proxy*`: what to send before anything else on the connection.
    pub proxy: Option<crate::proto::proxy::Request>,
    /// `--socks5`: the SOCKS5 proxy to connect through.
    pub socks5: Option<super::socks5::Socks5>,
}

/// How far `--mx` goes down the list: like Postfix's limits, 5 hosts and 2
/// addresses of each by default, so a domain with 40 dead MX hosts does not
/// take minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MxLimit {
    /// MX hosts tried at most.
    pub hosts: usize,
    /// Addresses of each host tried at most.
    pub addresses: usize,
}

impl Default for MxLimit {
    fn default() -> Self {
        MxLimit {
            hosts: 5,
            addresses: 2,
        }
    }
}

impl std::str::FromStr for MxLimit {
    type Err = String;

    /// `HOSTS` or `HOSTSxADDRESSES`: `5`, `5x2`.
    fn from_str(text: &str) -> Result<Self, String> {
        let number = |t: &str| t.parse::<usize>().ok().filter(|n| *n > 0);
        let (hosts, addresses) = match text.split_once(['x', 'X']) {
            Some((h, a)) => (number(h), number(a)),
            None => (number(text), Some(MxLimit::default().addresses)),
        };
        match (hosts, addresses) {
            (Some(hosts), Some(addresses)) => Ok(MxLimit { hosts, addresses }),
            _ => Err(format!(
                "'{text}' is not an MX limit: HOSTS or HOSTSxADDRESSES, like 5x2"
            )),
        }
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            family: Family::Any,
            source: None,
            timeout: Duration::from_secs(10),
            mx: false,
            resolver: None,
            mx_limit: MxLimit::default(),
            proxy: None,
            socks5: None,
        }
    }
}

/// A connected stream made ready for SMTP: no Nagle delay on its small
/// writes; returns this end's address.
pub(super) fn ready(stream: &TcpStream) -> Result<SocketAddr, NetError> {
    let local = stream.local_addr().map_err(|e| NetError::Io {
        action: "reading the local address",
        source: e,
    })?;
    // SMTP is a dialog of small writes; do not let Nagle delay them.
    let _ = stream.set_nodelay(true);
    Ok(local)
}

/// One address that was tried and failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The address tried (none when a host had no address to try).
    pub addr: Option<SocketAddr>,
    /// Why it failed, in words.
    pub error: String,
}

/// What happened while connecting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectFacts {
    /// What the user asked for.
    pub target: Target,
    /// Every address the name resolved to (in the allowed families).
    pub addresses: Vec<IpAddr>,
    /// With `--mx`: the hosts found, by preference (one entry, without a
    /// preference, when the domain had no MX and its own address is used).
    pub mx: Vec<Candidate>,
    /// The host name that answered, when it differs from the target (an MX
    /// host).
    pub via: Option<Untrusted>,
    /// Addresses that were tried and failed, in order.
    pub failed: Vec<Attempt>,
    /// The address that answered.
    pub peer: SocketAddr,
    /// The local address and port of the connection.
    pub local: SocketAddr,
    /// Time spent resolving the name.
    pub resolve_time: Duration,
    /// Time the successful attempt took.
    pub connect_time: Duration,
    /// `--socks5`: how the connection goes through the proxy. `peer` is
    /// then the proxy, and `addresses` are only an address literal's.
    pub socks5: Option<super::socks5::Tunnel>,
}

impl ConnectFacts {
    /// The address the server sees the connection come from: this end, or
    /// the one a SOCKS5 proxy says it bound (none when it does not say).
    pub fn client_addr(&self) -> Option<SocketAddr> {
        match &self.socks5 {
            None => Some(self.local),
            Some(tunnel) => match &tunnel.bound {
                Some(super::socks5::TargetAddr::Ip(addr)) => Some(*addr),
                _ => None,
            },
        }
    }
}

/// Resolves `target` (or, with `--mx`, its MX hosts) and connects to the
/// first address that answers; with `--socks5`, through the proxy.
pub async fn connect(
    target: &Target,
    options: &ConnectOptions,
    report: &mut dyn FnMut(String),
) -> Result<(TcpStream, ConnectFacts), NetError> {
    if let Some(proxy) = &options.socks5 {
        return super::via_socks5::connect(target, options, proxy, report).await;
    }
    let started = Instant::now();
    // DNS counts against the timeout too.
    let (candidates, mx_list) = tokio::time::timeout(options.timeout, candidates(target, options))
        .await
        .map_err(|_| NetError::Resolve {
            host: target.host.clone(),
            reason: format!("no answer from DNS within {} s", options.timeout.as_secs()),
        })??;
    let resolve_time = started.elapsed();
    let addresses: Vec<IpAddr> = candidates
        .iter()
        .flat_map(|c| c.addresses.iter().copied())
        .filter(|ip| options.family.allows(*ip))
        .collect();
    if addresses.is_empty() && !options.mx {
        let found = candidates
            .iter()
            .flat_map(|c| c.addresses.clone())
            .collect();
        return Err(NetError::NoAddress {
            host: target.host.clone(),
            found,
        });
    }

    let mut failed = Vec::new();
    let (hosts, per_host) = if options.mx {
        (options.mx_limit.hosts, options.mx_limit.addresses)
    } else {
        (usize::MAX, usize::MAX)
    };
    for (i, candidate) in candidates.iter().enumerate() {
        if i == hosts {
            report(format!(
                "--mx-limit: {} more MX host{} not tried",
                candidates.len() - i,
                if candidates.len() - i == 1 { "" } else { "s" }
            ));
            break;
        }
        if let Some(error) = &candidate.error {
            failed.push(Attempt {
                addr: None,
                error: format!("{}: {error}", candidate.name.escaped()),
            });
            continue;
        }
        for ip in candidate
            .addresses
            .iter()
            .filter(|ip| options.family.allows(**ip))
            .take(per_host)
        {
            let addr = SocketAddr::new(*ip, target.port);
            if options.mx {
                // A line per attempt, as it goes: dead MX hosts take time.
                report(format!(
                    "trying {} ({ip}) port {}",
                    candidate.name.escaped(),
                    target.port
                ));
            }
            let attempt_started = Instant::now();
            match attempt(addr, options).await {
                Ok(stream) => {
                    let local = ready(&stream)?;
                    let via = (candidate.name != *target.host).then(|| candidate.name.clone());
                    let facts = ConnectFacts {
                        target: target.clone(),
                        addresses,
                        mx: mx_list,
                        via,
                        failed,
                        peer: addr,
                        local,
                        resolve_time,
                        connect_time: attempt_started.elapsed(),
                        socks5: None,
                    };
                    return Ok((stream, facts));
                }
                Err(error) => {
                    let error = if options.mx {
                        format!("{}: {error}", candidate.name.escaped())
                    } else {
                        error
                    };
                    failed.push(Attempt {
                        addr: Some(addr),
                        error,
                    });
                }
            }
        }
    }
    Err(NetError::Connect {
        target: target.to_string(),
        attempts: failed,
        reason: None,
    })
}

/// The hosts to try, in order, and (with `--mx`) the MX list to show.
pub(super) async fn candidates(
    target: &Target,
    options: &ConnectOptions,
) -> Result<(Vec<Candidate>, Vec<Candidate>), NetError> {
    if let Ok(ip) = target.host.parse::<IpAddr>() {
        return Ok((vec![plain(target, vec![ip])], Vec::new()));
    }
    if options.mx {
        let resolver = mx::resolver(options.resolver)?;
        return match mx::plan(&resolver, &target.host).await? {
            MxPlan::Exchanges(hosts) => Ok((hosts.clone(), hosts)),
            MxPlan::Fallback(own) => Ok((vec![own.clone()], vec![own])),
        };
    }
    if options.resolver.is_some() {
        let resolver = mx::resolver(options.resolver)?;
        let found = mx::addresses(&resolver, &target.host)
            .await
            .map_err(|reason| NetError::Resolve {
                host: target.host.clone(),
                reason,
            })?;
        return Ok((vec![plain(target, found)], Vec::new()));
    }
    let found = resolve(target).await?;
    Ok((vec![plain(target, found)], Vec::new()))
}

fn plain(target: &Target, addresses: Vec<IpAddr>) -> Candidate {
    Candidate {
        name: target.host.as_str().into(),
        preference: None,
        addresses,
        error: None,
    }
}

/// The system resolver (getaddrinfo), each address once.
async fn resolve(target: &Target) -> Result<Vec<IpAddr>, NetError> {
    let found = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|e| NetError::Resolve {
            host: target.host.clone(),
            reason: e.to_string(),
        })?
        .map(|sa| sa.ip())
        .fold(Vec::new(), |mut v, ip| {
            if !v.contains(&ip) {
                v.push(ip);
            }
            v
        });
    Ok(found)
}

pub(super) async fn attempt(
    addr: SocketAddr,
    options: &ConnectOptions,
) -> Result<TcpStream, String> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| e.to_string())?;
    if let Some(source) = options.source {
        if source.is_ipv4() != addr.is_ipv4() {
            return Err(format!(
                "the source address {source} is of the other family"
            ));
        }
        socket
            .bind(SocketAddr::new(source, 0))
            .map_err(|e| format!("cannot bind to source {source}: {e}"))?;
    }
    match tokio::time::timeout(options.timeout, socket.connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(describe_io(&e)),
        Err(_) => Err(format!(
            "no answer within {} s",
            options.timeout.as_secs_f32()
        )),
    }
}

/// An I/O error in the words an admin expects, without the `(os error N)`.
pub fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused (nothing listens on that port)".into(),
        ConnectionReset => "connection reset by the server".into(),
        TimedOut => "timed out".into(),
        HostUnreachable => "host unreachable".into(),
        NetworkUnreachable => "network unreachable".into(),
        AddrNotAvailable => "address not available on this machine".into(),
        PermissionDenied => "permission denied".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(at) => text[..at].to_string(),
                None => text,
            }
        }
    }
}

/// Connects to a UNIX domain socket; returns the stream and how long it took.
#[cfg(unix)]
pub async fn connect_unix(
    path: &std::path::Path,
    timeout: Duration,
) -> Result<(tokio::net::UnixStream, Duration), NetError> {
    let started = Instant::now();
    match tokio::time::timeout(timeout, tokio::net::UnixStream::connect(path)).await {
        Ok(Ok(stream)) => Ok((stream, started.elapsed())),
        Ok(Err(e)) => Err(NetError::Connect {
            target: path.display().to_string(),
            attempts: vec![],
            reason: Some(describe_unix(&e)),
        }),
        Err(_) => Err(NetError::Connect {
            target: path.display().to_string(),
            attempts: vec![],
            reason: Some(format!("no answer within {} s", timeout.as_secs_f32())),
        }),
    }
}

#[cfg(unix)]
fn describe_unix(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such socket (is the server running?)".into(),
        std::io::ErrorKind::ConnectionRefused => {
            "connection refused (nothing listens on that socket)".into()
        }
        _ => describe_io(e),
    }
}
