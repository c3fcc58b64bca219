//! The SOCKS5 messages, sans-IO: encoders that give the bytes of a request,
//! and decoders that read a proxy's answer from the bytes read so far,
//! saying how many more they need. No I/O, no clock, no panic on any input.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use zeroize::Zeroizing;

use super::{Credentials, Socks5Error, Stage};
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
