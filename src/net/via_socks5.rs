//! `--socks5`: connecting through a SOCKS5 proxy.
//!
//! The proxy's own name is resolved here and connected to like any server
//! (`-4`/`-6`, `--source`, the connect timeout). The destination goes to
//! the proxy as the user named it, for the proxy to resolve ("socks5h"):
//! nothing about it is looked up here. With `--mx` the MX lookup stays
//! local, and each MX host goes to the proxy by name, in order of
//! preference, until one answers; a host the proxy cannot reach is said
//! and the next one tried, while a proxy that cannot be reached, refuses
//! the login or misbehaves ends the attempt at once.
//!
//! The stream that comes back is the tunnel: to the session, a TCP stream
//! like any other.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::NetError;
use super::connect::{Attempt, ConnectFacts, ConnectOptions, attempt, candidates};
use super::mx::Candidate;
use super::socks5::{self, Socks5, Socks5Error, TargetAddr, Tunnel};
use super::target::Target;
use crate::text::Untrusted;

/// Connects to `target` through `proxy`.
pub(super) async fn connect(
    target: &Target,
    options: &ConnectOptions,
    proxy: &Socks5,
    report: &mut dyn FnMut(String),
) -> Result<(TcpStream, ConnectFacts), NetError> {
    let started = Instant::now();
    let proxy_addrs = proxy_addresses(proxy, options).await?;
    // The hosts to ask the proxy for: the target itself, or its MX hosts.
    let (hosts, mx_list) = if options.mx {
        let (hosts, list) = dns(options.timeout, &target.host, candidates(target, options)).await?;
        let names = hosts.into_iter().map(|c| c.name).collect();
        (names, list)
    } else {
        (
            vec![Untrusted::from(target.host.as_str())],
            Vec::<Candidate>::new(),
        )
    };
    let resolve_time = started.elapsed();
    let hosts_limit = if options.mx {
        options.mx_limit.hosts
    } else {
        usize::MAX
    };
    let mut failed = Vec::new();
    for (i, name) in hosts.iter().enumerate() {
        if i == hosts_limit {
            let left = hosts.len() - i;
            report(format!(
                "--mx-limit: {left} more MX host{} not tried",
                if left == 1 { "" } else { "s" }
            ));
            break;
        }
        let destination = if options.mx {
            TargetAddr::domain(name.clone(), target.port)
        } else {
            TargetAddr::new(&target.host, target.port)
        };
        let destination = match destination {
            Ok(destination) => destination,
            Err(error) if options.mx => {
                failed.push(Attempt {
                    addr: None,
                    error: format!("{}: {error}", name.escaped()),
                });
                continue;
            }
            Err(error) => return Err(socks5_error(proxy, error)),
        };
        if options.mx {
            // A line per attempt, as it goes: dead MX hosts take time.
            report(format!(
                "trying {} port {} via SOCKS5 {}",
                name.escaped(),
                target.port,
                proxy.proxy
            ));
        }
        let attempt_started = Instant::now();
        let (mut stream, peer) = reach(&proxy_addrs, proxy, options).await?;
        let deadline = Instant::now() + options.timeout;
        let credentials = proxy.credentials.as_ref();
        match socks5::handshake(&mut stream, &destination, credentials, deadline).await {
            Ok(established) => {
                let local = super::connect::ready(&stream)?;
                let via = (*name != *target.host).then(|| name.clone());
                let addresses = target.host.parse::<IpAddr>().into_iter().collect();
                let tunnel = Tunnel {
                    user: (established.method == socks5::Method::UserPassword)
                        .then(|| credentials.map(|c| c.user().to_string()))
                        .flatten(),
                    method: established.method,
                    bound: (!established.bound.is_unspecified()).then_some(established.bound),
                    target: destination,
                };
                let facts = ConnectFacts {
                    target: target.clone(),
                    addresses,
                    mx: mx_list,
                    via,
                    failed,
                    peer,
                    local,
                    resolve_time,
                    connect_time: attempt_started.elapsed(),
                    socks5: Some(tunnel),
                };
                return Ok((stream, facts));
            }
            Err(error) if options.mx && error.is_destination() => {
                let why = match error {
                    Socks5Error::Refused { code, .. } => code.to_string(),
                    other => other.to_string(),
                };
                failed.push(Attempt {
                    addr: None,
                    error: format!("{} via SOCKS5: {why}", name.escaped()),
                });
            }
            Err(error) => return Err(socks5_error(proxy, error)),
        }
    }
    Err(NetError::Connect {
        target: target.to_string(),
        attempts: failed,
        reason: None,
    })
}

fn socks5_error(proxy: &Socks5, error: Socks5Error) -> NetError {
    NetError::Socks5 {
        proxy: proxy.proxy.to_string(),
        error,
    }
}

/// The proxy's addresses, in the allowed families.
async fn proxy_addresses(
    proxy: &Socks5,
    options: &ConnectOptions,
) -> Result<Vec<SocketAddr>, NetError> {
    let direct = ConnectOptions {
        mx: false,
        socks5: None,
        ..options.clone()
    };
    let (found, _) = dns(
        options.timeout,
        &proxy.proxy.host,
        candidates(&proxy.proxy, &direct),
    )
    .await?;
    let all: Vec<IpAddr> = found.into_iter().flat_map(|c| c.addresses).collect();
    let allowed: Vec<SocketAddr> = all
        .iter()
        .filter(|ip| options.family.allows(**ip))
        .map(|ip| SocketAddr::new(*ip, proxy.proxy.port))
        .collect();
    if allowed.is_empty() {
        return Err(NetError::NoAddress {
            host: proxy.proxy.host.clone(),
            found: all,
        });
    }
    Ok(allowed)
}

/// A DNS step under the connect timeout.
async fn dns<T>(
    limit: Duration,
    host: &str,
    lookup: impl Future<Output = Result<T, NetError>>,
) -> Result<T, NetError> {
    tokio::time::timeout(limit, lookup)
        .await
        .map_err(|_| NetError::Resolve {
            host: host.to_string(),
            reason: format!("no answer from DNS within {} s", limit.as_secs()),
        })?
}

/// A TCP connection to the first of the proxy's addresses that answers.
async fn reach(
    addrs: &[SocketAddr],
    proxy: &Socks5,
    options: &ConnectOptions,
) -> Result<(TcpStream, SocketAddr), NetError> {
    let mut failed = Vec::new();
    for addr in addrs {
        match attempt(*addr, options).await {
            Ok(stream) => return Ok((stream, *addr)),
            Err(error) => failed.push(Attempt {
                addr: Some(*addr),
                error,
            }),
        }
    }
    Err(NetError::Connect {
        target: format!("the SOCKS5 proxy {}", proxy.proxy),
        attempts: failed,
        reason: None,
    })
}
