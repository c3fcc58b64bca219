//! The transport: TCP connections (direct or through a SOCKS5 proxy), TLS
//! on them, and reading whole replies off them.
//!
//! This layer knows sockets, TLS, deadlines and bytes; it knows nothing of
//! terminals, and it never prints. Replies are parsed by [`crate::proto`];
//! what they mean is the session's business.

pub mod connect;
pub mod dnssec;
pub mod hostname;
pub mod mx;
pub mod policy_fetch;
pub mod socks5;
pub mod stream;
pub mod target;
pub mod tls;
pub mod transport;
mod via_socks5;

use thiserror::Error;

pub use connect::{Attempt, ConnectFacts, ConnectOptions, Family, MxLimit};
pub use stream::Stream;
pub use target::Target;
pub use tls::{TlsError, TlsReport, TlsSettings};
pub use transport::{ReadOutcome, Transport};

/// A transport failure: no SMTP answer could be had.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NetError {
    /// The name did not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    /// The name resolved, but not to an address of the allowed family.
    #[error("{host} has no address of the chosen family (found: {})", list(found))]
    NoAddress {
        host: String,
        found: Vec<std::net::IpAddr>,
    },
    /// Every address was tried and none answered (or, for a UNIX socket,
    /// the socket did not answer: `reason`).
    #[error("cannot connect to {target}: {}", reason.clone().unwrap_or_else(|| attempts_text(attempts)))]
    Connect {
        target: String,
        attempts: Vec<Attempt>,
        reason: Option<String>,
    },
    /// A DNS lookup failed (not: the name does not exist).
    #[error("DNS: {0}")]
    Dns(String),
    /// The domain has a null MX (RFC 7505): it accepts no mail at all.
    #[error(
        "{domain} has a null MX (RFC 7505: MX 0 .): the domain declares that it accepts no mail"
    )]
    NullMx { domain: String },
    /// Reading or writing failed.
    #[error("{action}: {}", connect::describe_io(source))]
    Io {
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The SOCKS5 proxy did not give a connection (`--socks5`).
    #[error("SOCKS5 proxy {proxy}: {error}")]
    Socks5 {
        proxy: String,
        error: socks5::Socks5Error,
    },
    /// Writing did not finish in time: the server is not reading.
    #[error("the server has not read what was sent for {0} s")]
    WriteTimeout(u64),
    /// The server sent more than the connection's byte cap (`--probe`'s
    /// `--max-bytes`).
    #[error("the server sent more than {0} bytes (the cap per server): cut off")]
    TooMuch(u64),
}

fn list(found: &[std::net::IpAddr]) -> String {
    if found.is_empty() {
        return "none".into();
    }
    found
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn attempts_text(attempts: &[Attempt]) -> String {
    match attempts {
        [one] => one.error.clone(),
        many => many
            .iter()
            .map(|a| match a.addr {
                Some(addr) => format!("{addr}: {}", a.error),
                None => a.error.clone(),
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}
