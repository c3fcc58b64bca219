//! Opening the TCP connection, and the facts an admin wants about it.
//!
//! Every address a name resolves to is tried in turn, within the address
//! family chosen (`-4`/`-6`), from a chosen source address if asked. What
//! happened is kept as [`ConnectFacts`]: the addresses, why each failed one
//! failed, which one answered, the local address and port used (what an
//! allow-list, PTR or SPF check sees), and how long it all took.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::net::{TcpSocket, TcpStream};

use super::NetError;
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
    fn allows(self, ip: IpAddr) -> bool {
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
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            family: Family::Any,
            source: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// One address that was tried and failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The address tried.
    pub addr: SocketAddr,
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
}

/// Resolves `target` and connects to the first address that answers.
pub async fn connect(
    target: &Target,
    options: &ConnectOptions,
) -> Result<(TcpStream, ConnectFacts), NetError> {
    let started = Instant::now();
    let addresses = resolve(target, options.family).await?;
    let resolve_time = started.elapsed();

    let mut failed = Vec::new();
    for ip in &addresses {
        let addr = SocketAddr::new(*ip, target.port);
        let attempt_started = Instant::now();
        match attempt(addr, options).await {
            Ok(stream) => {
                let local = stream.local_addr().map_err(|e| NetError::Io {
                    action: "reading the local address",
                    source: e,
                })?;
                // SMTP is a dialog of small writes; do not let Nagle delay them.
                let _ = stream.set_nodelay(true);
                let facts = ConnectFacts {
                    target: target.clone(),
                    addresses: addresses.clone(),
                    failed,
                    peer: addr,
                    local,
                    resolve_time,
                    connect_time: attempt_started.elapsed(),
                };
                return Ok((stream, facts));
            }
            Err(error) => failed.push(Attempt { addr, error }),
        }
    }
    Err(NetError::Connect {
        target: target.to_string(),
        attempts: failed,
        reason: None,
    })
}

async fn resolve(target: &Target, family: Family) -> Result<Vec<IpAddr>, NetError> {
    let all: Vec<IpAddr> = match target.host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((target.host.as_str(), target.port))
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
            }),
    };
    let allowed: Vec<IpAddr> = all
        .iter()
        .copied()
        .filter(|ip| family.allows(*ip))
        .collect();
    if allowed.is_empty() {
        return Err(NetError::NoAddress {
            host: target.host.clone(),
            found: all,
        });
    }
    Ok(allowed)
}

async fn attempt(addr: SocketAddr, options: &ConnectOptions) -> Result<TcpStream, String> {
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
