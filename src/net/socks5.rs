//! SOCKS5 (RFC 1928) with user name and password authentication (RFC 1929):
//! the messages of a CONNECT through a proxy, and the handshake that sends
//! them over a connected stream.
//!
//! The proxy resolves host names ("socks5h"): a name goes out as a name
//! (`ATYP` 3), an address literal as an address (`ATYP` 1 or 4); nothing is
//! looked up here. The encoders and decoders are sans-IO and table-tested;
//! [`handshake`] is the only part that touches a stream. It reads exactly
//! as many bytes as each message needs (whatever follows the reply to
//! CONNECT is the SMTP banner, and belongs to the session), never more than
//! [`MAX_REPLY`] at a time, and never past the deadline it is given. What
//! the proxy sends is outside text: a name in its reply is kept as
//! [`Untrusted`], and nothing it sends is unwrapped.
//!
//! This module does not resolve, connect, choose a proxy or print; that is
//! [`super::connect`]'s business.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zeroize::Zeroizing;

use super::target::Target;
use crate::proto::auth::Secret;
use crate::text::Untrusted;

/// The protocol version, first byte of every SOCKS5 message.
pub const VERSION: u8 = 0x05;
/// The version of the user name and password subnegotiation (RFC 1929).
const AUTH_VERSION: u8 = 0x01;
/// The CONNECT command.
const CONNECT: u8 = 0x01;
/// Address types (`ATYP`).
const ATYP_IPV4: u8 = 0x01;
const ATYP_DOMAIN: u8 = 0x03;
const ATYP_IPV6: u8 = 0x04;
/// The longest reply to CONNECT: VER REP RSV ATYP, a name of 255 bytes
/// after its length byte, and the port.
pub const MAX_REPLY: usize = 4 + 1 + 255 + 2;
/// The port a proxy listens on when `--socks5` names none.
pub const DEFAULT_PORT: u16 = 1080;

/// `--socks5`: the proxy to connect through, and how to log in to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socks5 {
    /// The proxy's host and port (resolved here, not by the proxy).
    pub proxy: Target,
    /// A user name and password (RFC 1929), when the proxy wants them.
    pub credentials: Option<Credentials>,
}

/// A user name and password for the proxy. The password is a [`Secret`]:
/// `Debug` shows the user only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: Secret,
}

impl Credentials {
    /// Checks the lengths RFC 1929 allows: 1 to 255 bytes each.
    pub fn new(user: impl Into<String>, password: Secret) -> Result<Self, Socks5Error> {
        let user = user.into();
        for (what, len) in [
            ("user name", user.len()),
            ("password", password.expose().len()),
        ] {
            if !(1..=255).contains(&len) {
                return Err(Socks5Error::CredentialLength { what, len });
            }
        }
        Ok(Credentials { user, password })
    }

    /// The user name (no secret).
    pub fn user(&self) -> &str {
        &self.user
    }
}

/// An authentication method (RFC 1928 §3, the IANA registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `X'00'`: no authentication required.
    NoAuth,
    /// `X'01'`: GSSAPI (RFC 1961), which this client does not do.
    Gssapi,
    /// `X'02'`: user name and password (RFC 1929).
    UserPassword,
    /// `X'FF'`: none of the methods offered is acceptable.
    NoAcceptable,
    /// Any other: IANA-assigned (`X'03'`–`X'7F'`) or private (`X'80'`–`X'FE'`).
    Other(u8),
}

impl Method {
    /// The byte on the wire.
    pub fn code(self) -> u8 {
        match self {
            Method::NoAuth => 0x00,
            Method::Gssapi => 0x01,
            Method::UserPassword => 0x02,
            Method::NoAcceptable => 0xff,
            Method::Other(code) => code,
        }
    }

    /// The method a byte stands for.
    pub fn from_code(code: u8) -> Method {
        match code {
            0x00 => Method::NoAuth,
            0x01 => Method::Gssapi,
            0x02 => Method::UserPassword,
            0xff => Method::NoAcceptable,
            other => Method::Other(other),
        }
    }

    /// The methods to offer: no authentication, and user name and password
    /// when there are credentials.
    pub fn offered(credentials: Option<&Credentials>) -> &'static [Method] {
        match credentials {
            Some(_) => &[Method::NoAuth, Method::UserPassword],
            None => &[Method::NoAuth],
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::NoAuth => f.write_str("no authentication"),
            Method::Gssapi => f.write_str("GSSAPI"),
            Method::UserPassword => f.write_str("user name and password"),
            Method::NoAcceptable => f.write_str("no acceptable method"),
            Method::Other(code @ 0x80..=0xfe) => write!(f, "private method X'{code:02X}'"),
            Method::Other(code) => write!(f, "method X'{code:02X}'"),
        }
    }
}

fn method_list(methods: &[Method]) -> String {
    methods
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// An address as SOCKS5 carries it (`ATYP`, the address, the port): the
/// destination of a CONNECT, or the address the proxy bound for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetAddr {
    /// An IPv4 or IPv6 address (`ATYP` 1 or 4).
    Ip(SocketAddr),
    /// A host name for the proxy to resolve (`ATYP` 3).
    Domain {
        /// The name, as given or as the proxy sent it.
        name: Untrusted,
        /// The port.
        port: u16,
    },
}

impl TargetAddr {
    /// The destination for `host` (a name or an address literal, IPv6
    /// without brackets) and `port`: an address literal is sent as an
    /// address, a name as a name, for the proxy to resolve.
    pub fn new(host: &str, port: u16) -> Result<TargetAddr, Socks5Error> {
        match host.parse::<IpAddr>() {
            Ok(ip) => Ok(TargetAddr::Ip(SocketAddr::new(ip, port))),
            Err(_) => TargetAddr::domain(Untrusted::from(host), port),
        }
    }

    /// A name for the proxy to resolve (a name from DNS, say): 1 to 255
    /// bytes, the most a length byte can say.
    pub fn domain(name: Untrusted, port: u16) -> Result<TargetAddr, Socks5Error> {
        let len = name.as_bytes().len();
        if !(1..=255).contains(&len) {
            return Err(Socks5Error::NameLength { len });
        }
        Ok(TargetAddr::Domain { name, port })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        match self {
            TargetAddr::Ip(addr) => addr.port(),
            TargetAddr::Domain { port, .. } => *port,
        }
    }

    /// The host, safe to show (a name escaped).
    pub fn host(&self) -> String {
        match self {
            TargetAddr::Ip(addr) => addr.ip().to_string(),
            TargetAddr::Domain { name, .. } => name.escaped().to_string(),
        }
    }

    /// Whether this says nothing: `0.0.0.0:0` or `[::]:0`, what many proxies
    /// send as the bound address.
    pub fn is_unspecified(&self) -> bool {
        match self {
            TargetAddr::Ip(addr) => addr.ip().is_unspecified() && addr.port() == 0,
            TargetAddr::Domain { name, port } => name.is_empty() && *port == 0,
        }
    }

    /// `ATYP`, the address and the port, as they go on the wire.
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            TargetAddr::Ip(SocketAddr::V4(addr)) => {
                out.push(ATYP_IPV4);
                out.extend_from_slice(&addr.ip().octets());
            }
            TargetAddr::Ip(SocketAddr::V6(addr)) => {
                out.push(ATYP_IPV6);
                out.extend_from_slice(&addr.ip().octets());
            }
            TargetAddr::Domain { name, .. } => {
                let bytes = name.as_bytes();
                out.push(ATYP_DOMAIN);
                // `domain` checked the length; a longer name is cut, never
                // sent with a length that lies.
                let len = u8::try_from(bytes.len()).unwrap_or(u8::MAX);
                out.push(len);
                out.extend_from_slice(&bytes[..usize::from(len)]);
            }
        }
        out.extend_from_slice(&self.port().to_be_bytes());
    }
}

/// `host:port`, `[v6]:port`; a name escaped.
impl fmt::Display for TargetAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetAddr::Ip(addr) => write!(f, "{addr}"),
            TargetAddr::Domain { name, port } => write!(f, "{}:{port}", name.escaped()),
        }
    }
}

/// `host:port` as text for the one JSON writer (`ui::json`), a name as the
/// proxy sent it: like [`Untrusted`], invisible characters are escaped
/// there.
impl serde::Serialize for TargetAddr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TargetAddr::Ip(addr) => serializer.collect_str(addr),
            TargetAddr::Domain { name, port } => {
                serializer.serialize_str(&format!("{}:{port}", name.unchecked_str()))
            }
        }
    }
}

/// The `REP` field of the reply to CONNECT (RFC 1928 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyCode {
    /// `X'00'`.
    Succeeded,
    /// `X'01'`.
    GeneralFailure,
    /// `X'02'`.
    NotAllowed,
    /// `X'03'`.
    NetworkUnreachable,
    /// `X'04'`.
    HostUnreachable,
    /// `X'05'`.
    ConnectionRefused,
    /// `X'06'`.
    TtlExpired,
    /// `X'07'`.
    CommandNotSupported,
    /// `X'08'`.
    AddressTypeNotSupported,
    /// `X'09'` to `X'FF'`.
    Unassigned(u8),
}

impl ReplyCode {
    /// The code a byte stands for.
    pub fn from_code(code: u8) -> ReplyCode {
        match code {
            0x00 => ReplyCode::Succeeded,
            0x01 => ReplyCode::GeneralFailure,
            0x02 => ReplyCode::NotAllowed,
            0x03 => ReplyCode::NetworkUnreachable,
            0x04 => ReplyCode::HostUnreachable,
            0x05 => ReplyCode::ConnectionRefused,
            0x06 => ReplyCode::TtlExpired,
            0x07 => ReplyCode::CommandNotSupported,
            0x08 => ReplyCode::AddressTypeNotSupported,
            other => ReplyCode::Unassigned(other),
        }
    }

    /// The byte on the wire.
    pub fn code(self) -> u8 {
        match self {
            ReplyCode::Succeeded => 0x00,
            ReplyCode::GeneralFailure => 0x01,
            ReplyCode::NotAllowed => 0x02,
            ReplyCode::NetworkUnreachable => 0x03,
            ReplyCode::HostUnreachable => 0x04,
            ReplyCode::ConnectionRefused => 0x05,
            ReplyCode::TtlExpired => 0x06,
            ReplyCode::CommandNotSupported => 0x07,
            ReplyCode::AddressTypeNotSupported => 0x08,
            ReplyCode::Unassigned(code) => code,
        }
    }

    /// What the code means, in the words of RFC 1928 and what an admin
    /// should read into it.
    pub fn meaning(self) -> &'static str {
        match self {
            ReplyCode::Succeeded => "succeeded",
            ReplyCode::GeneralFailure => {
                "general SOCKS server failure (the proxy does not say why; some proxies say this when they cannot resolve the name)"
            }
            ReplyCode::NotAllowed => {
                "connection not allowed by ruleset (the proxy's rules refuse this client or this destination)"
            }
            ReplyCode::NetworkUnreachable => "network unreachable (from the proxy)",
            ReplyCode::HostUnreachable => {
                "host unreachable (from the proxy; also what many proxies say when they cannot resolve the name)"
            }
            ReplyCode::ConnectionRefused => {
                "connection refused by destination host (nothing listens on that port, as the proxy sees it)"
            }
            ReplyCode::TtlExpired => {
                "TTL expired (the destination did not answer the proxy in time)"
            }
            ReplyCode::CommandNotSupported => {
                "command not supported (the proxy does not do CONNECT)"
            }
            ReplyCode::AddressTypeNotSupported => {
                "address type not supported (the proxy does not take this kind of address: try a name, or an IP address)"
            }
            ReplyCode::Unassigned(_) => "an unassigned reply code",
        }
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (SOCKS5 reply {})", self.meaning(), self.code())
    }
}

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
    #[error("{stage}: {}", super::connect::describe_io(error))]
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

/// A decoder's answer: the value, or how many bytes the message has in
/// all, so far as the bytes already read tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded<T> {
    /// Read until there are this many bytes, then decode again.
    Need(usize),
    /// The whole message.
    Done(T),
}

/// The greeting: the version and the methods offered.
pub fn greeting(methods: &[Method]) -> Vec<u8> {
    let mut out = vec![VERSION, 0];
    for method in methods.iter().take(255) {
        out.push(method.code());
    }
    out[1] = u8::try_from(out.len() - 2).unwrap_or(u8::MAX);
    out
}

/// The proxy's choice of method (`VER METHOD`), which must be one of
/// `offered`.
pub fn method_selection(
    bytes: &[u8],
    offered: &'static [Method],
) -> Result<Decoded<Method>, Socks5Error> {
    check_version(bytes, Stage::MethodSelection)?;
    let Some(&code) = bytes.get(1) else {
        return Ok(Decoded::Need(2));
    };
    match Method::from_code(code) {
        Method::NoAcceptable => Err(Socks5Error::NoAcceptableMethod { offered }),
        chosen if offered.contains(&chosen) => Ok(Decoded::Done(chosen)),
        chosen => Err(Socks5Error::MethodNotOffered { chosen, offered }),
    }
}

/// The user name and password request (RFC 1929 §2). The buffer is wiped
/// when dropped.
pub fn auth_request(credentials: &Credentials) -> Zeroizing<Vec<u8>> {
    let user = credentials.user.as_bytes();
    let password = credentials.password.expose().as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(3 + user.len() + password.len()));
    out.push(AUTH_VERSION);
    for field in [user, password] {
        // `Credentials::new` checked the lengths.
        let len = u8::try_from(field.len()).unwrap_or(u8::MAX);
        out.push(len);
        out.extend_from_slice(&field[..usize::from(len)]);
    }
    out
}

/// The proxy's verdict on the user name and password (`VER STATUS`): 0 is
/// success, anything else a refusal.
pub fn auth_status(bytes: &[u8], user: &str) -> Result<Decoded<()>, Socks5Error> {
    let Some(&version) = bytes.first() else {
        return Ok(Decoded::Need(2));
    };
    if version != AUTH_VERSION {
        return Err(Socks5Error::AuthVersion { got: version });
    }
    match bytes.get(1) {
        None => Ok(Decoded::Need(2)),
        Some(0) => Ok(Decoded::Done(())),
        Some(&status) => Err(Socks5Error::AuthRejected {
            user: crate::text::escape_str(user),
            status,
        }),
    }
}

/// The CONNECT request for `target`.
pub fn connect_request(target: &TargetAddr) -> Vec<u8> {
    let mut out = vec![VERSION, CONNECT, 0x00];
    target.encode(&mut out);
    out
}

/// The reply to CONNECT (`VER REP RSV ATYP BND.ADDR BND.PORT`): the address
/// the proxy bound, when `REP` says it succeeded. A failure is known, and
/// reported, from the first two bytes: a proxy that closes right after
/// `REP` is understood too. `RSV` is not checked.
pub fn connect_reply(
    bytes: &[u8],
    target: &TargetAddr,
) -> Result<Decoded<TargetAddr>, Socks5Error> {
    check_version(bytes, Stage::Connect)?;
    let Some(&rep) = bytes.get(1) else {
        return Ok(Decoded::Need(2));
    };
    let code = ReplyCode::from_code(rep);
    if code != ReplyCode::Succeeded {
        return Err(Socks5Error::Refused {
            target: target.clone(),
            code,
        });
    }
    let Some(&atyp) = bytes.get(3) else {
        return Ok(Decoded::Need(4));
    };
    let (addr_len, start) = match atyp {
        ATYP_IPV4 => (4, 4),
        ATYP_IPV6 => (16, 4),
        ATYP_DOMAIN => match bytes.get(4) {
            Some(&len) => (usize::from(len), 5),
            None => return Ok(Decoded::Need(5)),
        },
        got => return Err(Socks5Error::AddressType { got }),
    };
    let total = start + addr_len + 2;
    let (Some(addr), Some(port)) = (
        bytes.get(start..start + addr_len),
        bytes.get(start + addr_len..total),
    ) else {
        return Ok(Decoded::Need(total));
    };
    let port = u16::from_be_bytes([port[0], port[1]]);
    let bound = match (atyp, <[u8; 4]>::try_from(addr), <[u8; 16]>::try_from(addr)) {
        (ATYP_IPV4, Ok(v4), _) => TargetAddr::Ip(SocketAddr::new(Ipv4Addr::from(v4).into(), port)),
        (ATYP_IPV6, _, Ok(v6)) => TargetAddr::Ip(SocketAddr::new(Ipv6Addr::from(v6).into(), port)),
        _ => TargetAddr::Domain {
            name: Untrusted::new(addr),
            port,
        },
    };
    Ok(Decoded::Done(bound))
}

fn check_version(bytes: &[u8], stage: Stage) -> Result<(), Socks5Error> {
    match bytes.first() {
        Some(&got) if got != VERSION => Err(Socks5Error::Version { stage, got }),
        _ => Ok(()),
    }
}

/// How a connection goes through the proxy: a fact of the connection, for
/// the transcript and JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tunnel {
    /// The destination the proxy was asked for.
    pub target: TargetAddr,
    /// The method the proxy chose.
    pub method: Method,
    /// The user name it took, with [`Method::UserPassword`].
    pub user: Option<String>,
    /// The address the proxy bound for the connection, when it says one:
    /// usually what the server sees as the client.
    pub bound: Option<TargetAddr>,
}

/// What a finished handshake tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Established {
    /// The method the proxy chose.
    pub method: Method,
    /// The address the proxy bound for the connection (`BND.ADDR`,
    /// `BND.PORT`): usually what the destination sees as the client.
    pub bound: TargetAddr,
}

/// Runs the handshake over `stream`, a connection to the proxy: the
/// greeting, the user name and password if the proxy asks for them, and
/// CONNECT to `target`. Every step ends by `deadline`. On success the
/// stream is the tunnel, with nothing of the destination's data read.
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    target: &TargetAddr,
    credentials: Option<&Credentials>,
    deadline: Instant,
) -> Result<Established, Socks5Error> {
    let mut io = Exchange {
        stream,
        deadline,
        budget: deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f32(),
    };
    let offered = Method::offered(credentials);
    io.send(Stage::MethodSelection, &greeting(offered)).await?;
    let method = io
        .receive(Stage::MethodSelection, |b| method_selection(b, offered))
        .await?;
    match (method, credentials) {
        (Method::UserPassword, Some(credentials)) => {
            io.send(Stage::Authentication, &auth_request(credentials))
                .await?;
            io.receive(Stage::Authentication, |b| {
                auth_status(b, credentials.user())
            })
            .await?;
        }
        (Method::NoAuth, _) => {}
        // `method_selection` let through only what was offered.
        (chosen, _) => return Err(Socks5Error::MethodNotOffered { chosen, offered }),
    }
    io.send(Stage::Connect, &connect_request(target)).await?;
    let bound = io
        .receive(Stage::Connect, |b| connect_reply(b, target))
        .await?;
    Ok(Established { method, bound })
}

/// The stream with the handshake's deadline.
struct Exchange<'a, S> {
    stream: &'a mut S,
    deadline: Instant,
    /// The time the handshake had, for the timeout message.
    budget: f32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Exchange<'_, S> {
    async fn send(&mut self, stage: Stage, bytes: &[u8]) -> Result<(), Socks5Error> {
        let write = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout_at(self.deadline.into(), write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) if is_closed(&error) => Err(Socks5Error::Closed { stage, got: 0 }),
            Ok(Err(error)) => Err(Socks5Error::Io { stage, error }),
            Err(_) => Err(self.timeout(stage)),
        }
    }

    /// Reads one message: exactly the bytes `decode` asks for, at most
    /// [`MAX_REPLY`].
    async fn receive<T>(
        &mut self,
        stage: Stage,
        decode: impl Fn(&[u8]) -> Result<Decoded<T>, Socks5Error>,
    ) -> Result<T, Socks5Error> {
        let mut buf = [0u8; MAX_REPLY];
        let mut got = 0;
        loop {
            let need = match decode(&buf[..got])? {
                Decoded::Done(value) => return Ok(value),
                Decoded::Need(need) => need.min(MAX_REPLY),
            };
            // A decoder that asks for no more than it has would loop.
            if need <= got {
                return Err(Socks5Error::Closed { stage, got });
            }
            let read = self.stream.read(&mut buf[got..need]);
            match tokio::time::timeout_at(self.deadline.into(), read).await {
                Ok(Ok(0)) => return Err(Socks5Error::Closed { stage, got }),
                Ok(Ok(n)) => got += n,
                Ok(Err(error)) if is_closed(&error) => {
                    return Err(Socks5Error::Closed { stage, got });
                }
                Ok(Err(error)) => return Err(Socks5Error::Io { stage, error }),
                Err(_) => return Err(self.timeout(stage)),
            }
        }
    }

    fn timeout(&self, stage: Stage) -> Socks5Error {
        Socks5Error::Timeout {
            stage,
            secs: (self.budget * 10.0).round() / 10.0,
        }
    }
}

/// A reset or a broken pipe is the proxy closing, as far as a user can
/// tell.
fn is_closed(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
    )
}

#[cfg(test)]
#[path = "socks5_tests.rs"]
mod tests;
