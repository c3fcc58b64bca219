//! What can go wrong in a SOCKS5 handshake, in words an admin can act on.

use std::fmt;

use thiserror::Error;

use super::{Method, ReplyCode, TargetAddr};

/// A step of the handshake, for saying where it went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The greeting and the proxy's choice of method.
    MethodSelection,
    /// The user name and password (RFC 1929).
    Authentication,
    /// The CONNECT request and its reply.
    Connect,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::MethodSelection => "the method selection",
            Stage::Authentication => "the user name and password check",
            Stage::Connect => "the CONNECT request",
        })
    }
}

/// Why a SOCKS5 handshake did not give a connection.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Socks5Error {
    /// A destination name SOCKS5 cannot carry.
    #[error("a host name sent to a SOCKS5 proxy has 1 to 255 bytes, not {len}")]
    NameLength {
        /// Its length in bytes.
        len: usize,
    },
    /// A user name or password RFC 1929 cannot carry.
    #[error("the SOCKS5 {what} has {len} bytes; RFC 1929 allows 1 to 255")]
    CredentialLength {
        /// `user name` or `password`.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The proxy answered with another protocol's version byte.
    #[error("the proxy answered {stage} with version {got}, not 5{}", version_hint(*got))]
    Version {
        /// Where.
        stage: Stage,
        /// The byte it sent.
        got: u8,
    },
    /// The proxy answered the user name and password with a version other
    /// than RFC 1929's.
    #[error("the proxy answered the user name and password with version {got}, not 1 (RFC 1929)")]
    AuthVersion {
        /// The byte it sent.
        got: u8,
    },
    /// The proxy accepts none of the methods offered (`X'FF'`).
    #[error(
        "the proxy accepts none of the methods offered ({}){}",
        method_list(offered),
        credentials_hint(offered)
    )]
    NoAcceptableMethod {
        /// What was offered.
        offered: &'static [Method],
    },
    /// The proxy chose a method that was not offered.
    #[error(
        "the proxy chose {chosen}, which was not offered (offered: {})",
        method_list(offered)
    )]
    MethodNotOffered {
        /// Its choice.
        chosen: Method,
        /// What was offered.
        offered: &'static [Method],
    },
    /// The proxy refused the user name and password.
    #[error("the proxy refused the user name and password of {user} (RFC 1929 status {status})")]
    AuthRejected {
        /// The user name (no secret), escaped.
        user: String,
        /// The status byte it sent.
        status: u8,
    },
    /// The proxy could not, or would not, connect to the destination.
    #[error("the proxy could not connect to {target}: {code}")]
    Refused {
        /// The destination asked for.
        target: TargetAddr,
        /// Its reply code.
        code: ReplyCode,
    },
    /// The reply to CONNECT has an address type SOCKS5 does not define.
    #[error(
        "the proxy's reply to CONNECT has address type {got}, which SOCKS5 does not define (1, 3 and 4 are)"
    )]
    AddressType {
        /// The byte it sent.
        got: u8,
    },
    /// The proxy closed the connection before its answer was complete.
    #[error("the proxy closed the connection during {stage}{}", after_bytes(*got))]
    Closed {
        /// Where.
        stage: Stage,
        /// How many bytes of the answer had come.
        got: usize,
    },
    /// The proxy did not answer in time.
    #[error("the proxy did not finish {stage} within {secs} s")]
    Timeout {
        /// Where.
        stage: Stage,
        /// The time it had, in seconds.
        secs: f32,
    },
    /// Reading or writing failed.
    #[error("{stage}: {}", crate::net::connect::describe_io(error))]
    Io {
        /// Where.
        stage: Stage,
        /// What the system said.
        error: std::io::Error,
    },
}

impl Socks5Error {
    /// Whether the fault lies with the destination (the proxy works, the
    /// host behind it does not answer), so that `--mx` tries the next host.
    pub fn is_destination(&self) -> bool {
        matches!(
            self,
            Socks5Error::Refused { .. }
                | Socks5Error::Timeout {
                    stage: Stage::Connect,
                    ..
                }
        )
    }
}

fn version_hint(got: u8) -> &'static str {
    match got {
        0 | 4 => " (a SOCKS4 proxy?)",
        b'H' => " (an HTTP proxy?)",
        _ => "",
    }
}

fn credentials_hint(offered: &[Method]) -> &'static str {
    if offered.contains(&Method::UserPassword) {
        ""
    } else {
        "; it probably wants a user name and password: --socks5-user"
    }
}

fn after_bytes(got: usize) -> String {
    match got {
        0 => String::new(),
        1 => " after 1 byte of its answer".into(),
        n => format!(" after {n} bytes of its answer"),
    }
}

fn method_list(methods: &[Method]) -> String {
    methods
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
