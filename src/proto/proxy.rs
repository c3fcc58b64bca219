//! The PROXY protocol header (HAProxy's "PROXY protocol", versions 1 and
//! 2): what a load balancer sends before the SMTP dialog to tell the server
//! who the client really is.
//!
//! Sans-IO: a [`Header`] is built from what the user asked for and the
//! connection's own addresses, and encodes itself to bytes. Version 1 is one
//! text line (`PROXY TCP4 192.0.2.1 198.51.100.2 51234 25`); version 2 is a
//! binary block: the 12-byte signature, version and command, family and
//! transport, the length of what follows, the addresses, then TLVs (type,
//! 16-bit length, value). [`Tlv`]s are read from `NAME=VALUE` words.

use std::fmt;
use std::net::SocketAddr;

use thiserror::Error;

/// The 12 bytes that open every version 2 header.
pub const V2_SIGNATURE: [u8; 12] = [
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
];

/// Which header, and for version 2 which command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// The text line.
    V1,
    /// The binary block, command PROXY.
    V2,
    /// The binary block, command LOCAL: the connection is the proxy's own
    /// (a health check); the server uses the real addresses.
    V2Local,
}

impl std::str::FromStr for Version {
    type Err = ProxyError;

    fn from_str(text: &str) -> Result<Self, ProxyError> {
        match text.to_ascii_lowercase().as_str() {
            "v1" | "1" => Ok(Version::V1),
            "v2" | "2" => Ok(Version::V2),
            "v2-local" | "local" => Ok(Version::V2Local),
            _ => Err(ProxyError::Version(text.to_string())),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
            Version::V2Local => "v2-local",
        })
    }
}

/// The addresses a header carries: the client and the server the proxy
/// claims, or none (`UNKNOWN` in version 1, `UNSPEC` in version 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addresses {
    Known {
        source: SocketAddr,
        destination: SocketAddr,
    },
    Unknown,
}

/// A version 2 TLV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tlv {
    pub kind: u8,
    pub value: Vec<u8>,
}

/// `PP2_TYPE_*` from the specification, by the names `--proxy-tlv` takes.
const TLV_NAMES: &[(&str, u8)] = &[
    ("alpn", 0x01),
    ("authority", 0x02),
    ("noop", 0x04),
    ("unique-id", 0x05),
    ("netns", 0x30),
];

/// `PP2_TYPE_SSL`, and its sub-types.
const TYPE_SSL: u8 = 0x20;
const SUBTYPE_SSL_VERSION: u8 = 0x21;
const SUBTYPE_SSL_CN: u8 = 0x22;
const SUBTYPE_SSL_CIPHER: u8 = 0x23;
/// `PP2_CLIENT_SSL`: the client connected over TLS.
const CLIENT_SSL: u8 = 0x01;
/// `PP2_CLIENT_CERT_CONN`: it sent a certificate on this connection.
const CLIENT_CERT_CONN: u8 = 0x02;

impl Tlv {
    /// Reads one `--proxy-tlv` word:
    ///
    /// - `authority=mx.example.org`, `alpn=smtp`, `unique-id=abc`,
    ///   `netns=name`: the value as text; `noop=N`: N zero bytes;
    /// - `ssl=TLSv1.3[,cipher=NAME][,cn=NAME]`: the client side was TLS
    ///   (`PP2_TYPE_SSL` with the version, and a cipher and a client
    ///   certificate's CN when given);
    /// - `0xNN=HEX`: any type, the value in hex (malformed on purpose if you
    ///   like).
    pub fn parse(word: &str) -> Result<Tlv, ProxyError> {
        let bad = || ProxyError::Tlv(word.to_string());
        let (name, value) = word.split_once('=').ok_or_else(bad)?;
        let name = name.to_ascii_lowercase();
        if let Some(hex) = name.strip_prefix("0x") {
            let kind = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
            return Ok(Tlv {
                kind,
                value: decode_hex(value).ok_or_else(bad)?,
            });
        }
        if name == "ssl" {
            return ssl_tlv(value).ok_or_else(bad);
        }
        if name == "noop" {
            let n: usize = value.parse().map_err(|_| bad())?;
            return Ok(Tlv {
                kind: 0x04,
                value: vec![0; n.min(1024)],
            });
        }
        let kind = TLV_NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, kind)| *kind)
            .ok_or_else(bad)?;
        Ok(Tlv {
            kind,
            value: value.as_bytes().to_vec(),
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.kind);
        let len = u16::try_from(self.value.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.value[..usize::from(len)]);
    }
}

/// `ssl=TLSv1.3,cipher=…,cn=…` as `PP2_TYPE_SSL`: the client flags, a
/// verify result of 0 (verified), then the sub-TLVs.
fn ssl_tlv(value: &str) -> Option<Tlv> {
    let mut parts = value.split(',');
    let version = parts.next().filter(|v| !v.is_empty())?;
    let mut client = CLIENT_SSL;
    let mut subs = Vec::new();
    Tlv {
        kind: SUBTYPE_SSL_VERSION,
        value: version.as_bytes().to_vec(),
    }
    .encode(&mut subs);
    for part in parts {
        let (key, text) = part.split_once('=')?;
        let kind = match key.to_ascii_lowercase().as_str() {
            "cipher" => SUBTYPE_SSL_CIPHER,
            "cn" => {
                client |= CLIENT_CERT_CONN;
                SUBTYPE_SSL_CN
            }
            _ => return None,
        };
        Tlv {
            kind,
            value: text.as_bytes().to_vec(),
        }
        .encode(&mut subs);
    }
    let mut value = vec![client];
    value.extend_from_slice(&0u32.to_be_bytes());
    value.extend_from_slice(&subs);
    Some(Tlv {
        kind: TYPE_SSL,
        value,
    })
}

/// A header to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub version: Version,
    pub addresses: Addresses,
    /// Version 2 only.
    pub tlvs: Vec<Tlv>,
}

impl Header {
    /// The bytes to send before anything else on the connection.
    pub fn encode(&self) -> Result<Vec<u8>, ProxyError> {
        match self.version {
            Version::V1 => self.encode_v1(),
            Version::V2 | Version::V2Local => Ok(self.encode_v2()),
        }
    }

    fn encode_v1(&self) -> Result<Vec<u8>, ProxyError> {
        if !self.tlvs.is_empty() {
            return Err(ProxyError::TlvInV1);
        }
        let line = match self.addresses {
            Addresses::Unknown => "PROXY UNKNOWN\r\n".to_string(),
            Addresses::Known {
                source,
                destination,
            } => {
                let family = match (source, destination) {
                    (SocketAddr::V4(_), SocketAddr::V4(_)) => "TCP4",
                    (SocketAddr::V6(_), SocketAddr::V6(_)) => "TCP6",
                    _ => return Err(ProxyError::MixedFamilies),
                };
                format!(
                    "PROXY {family} {} {} {} {}\r\n",
                    source.ip(),
                    destination.ip(),
                    source.port(),
                    destination.port()
                )
            }
        };
        Ok(line.into_bytes())
    }

    fn encode_v2(&self) -> Vec<u8> {
        let command = match self.version {
            Version::V2Local => 0x20,
            _ => 0x21,
        };
        let mut body = Vec::new();
        let family = match self.addresses {
            Addresses::Known {
                source: SocketAddr::V4(s),
                destination: SocketAddr::V4(d),
            } => {
                body.extend_from_slice(&s.ip().octets());
                body.extend_from_slice(&d.ip().octets());
                body.extend_from_slice(&s.port().to_be_bytes());
                body.extend_from_slice(&d.port().to_be_bytes());
                0x11
            }
            Addresses::Known {
                source,
                destination,
            } => {
                let v6 = |a: SocketAddr| match a {
                    SocketAddr::V4(v4) => v4.ip().to_ipv6_mapped(),
                    SocketAddr::V6(v6) => *v6.ip(),
                };
                body.extend_from_slice(&v6(source).octets());
                body.extend_from_slice(&v6(destination).octets());
                body.extend_from_slice(&source.port().to_be_bytes());
                body.extend_from_slice(&destination.port().to_be_bytes());
                0x21
            }
            Addresses::Unknown => 0x00,
        };
        for tlv in &self.tlvs {
            tlv.encode(&mut body);
        }
        let mut out = Vec::with_capacity(16 + body.len());
        out.extend_from_slice(&V2_SIGNATURE);
        out.push(command);
        out.push(family);
        let len = u16::try_from(body.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&body[..usize::from(len)]);
        out
    }
}

/// An address a header claims: a socket address, or `unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    Address(SocketAddr),
    Unknown,
}

impl std::str::FromStr for Claim {
    type Err = ProxyError;

    fn from_str(text: &str) -> Result<Self, ProxyError> {
        if text.eq_ignore_ascii_case("unknown") {
            return Ok(Claim::Unknown);
        }
        text.parse()
            .map(Claim::Address)
            .map_err(|_| ProxyError::Address(text.to_string()))
    }
}

/// What the user asked to send before the dialog: a header built from the
/// connection (with claimed addresses in place of its own, if given), or
/// raw bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Header {
        version: Version,
        /// The client address to claim (default: this end of the
        /// connection).
        source: Option<Claim>,
        /// The server address to claim (default: the address connected
        /// to).
        destination: Option<Claim>,
        tlvs: Vec<Tlv>,
    },
    /// Bytes sent as they are (`--proxy-raw`): a malformed header on
    /// purpose.
    Raw(Vec<u8>),
}

impl Request {
    /// The bytes for a connection from `local` to `peer`, as the server
    /// sees them (`None`: not known, as behind a SOCKS5 proxy that resolved
    /// the name; the header then says `unknown` unless a claim is given).
    pub fn bytes(
        &self,
        local: Option<SocketAddr>,
        peer: Option<SocketAddr>,
    ) -> Result<Vec<u8>, ProxyError> {
        let (version, source, destination, tlvs) = match self {
            Request::Raw(bytes) => return Ok(bytes.clone()),
            Request::Header {
                version,
                source,
                destination,
                tlvs,
            } => (version, source, destination, tlvs),
        };
        // A LOCAL header is the proxy's own connection: no addresses unless
        // some are claimed.
        let default = |own: Option<SocketAddr>| match (version, own) {
            (Version::V2Local, _) | (_, None) => Claim::Unknown,
            (_, Some(own)) => Claim::Address(own),
        };
        let source = source.unwrap_or_else(|| default(local));
        let destination = destination.unwrap_or_else(|| default(peer));
        let addresses = match (source, destination) {
            (Claim::Address(source), Claim::Address(destination)) => Addresses::Known {
                source,
                destination,
            },
            _ => Addresses::Unknown,
        };
        Header {
            version: *version,
            addresses,
            tlvs: tlvs.clone(),
        }
        .encode()
    }

    /// How the transcript shows `bytes` sent for this request: version 1
    /// as its text line, anything else in hex.
    pub fn describe(&self, bytes: &[u8]) -> String {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        match self {
            Request::Header {
                version: Version::V1,
                ..
            } => format!(
                "PROXY v1 header sent: {}",
                String::from_utf8_lossy(bytes).trim_end()
            ),
            Request::Header { version, .. } => {
                format!("PROXY {version} header sent ({} bytes): {hex}", bytes.len())
            }
            Request::Raw(_) => format!("raw PROXY bytes sent ({} bytes): {hex}", bytes.len()),
        }
    }
}

/// Bytes from hex digits (spaces and colons between pairs allowed).
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b':' | b'\n' | b'\r' | b'\t'))
        .collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

/// Why a header cannot be built.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    #[error("--proxy takes v1, v2 or v2-local, not {0:?}")]
    Version(String),
    #[error(
        "--proxy-tlv {0:?}: use authority=, alpn=, unique-id=, netns=, noop=N, \
         ssl=VERSION[,cipher=NAME][,cn=NAME] or 0xNN=HEX"
    )]
    Tlv(String),
    #[error("--proxy-tlv needs --proxy v2: version 1 has no TLVs")]
    TlvInV1,
    #[error("the PROXY source and destination must both be IPv4 or both IPv6 in version 1")]
    MixedFamilies,
    #[error("{0:?} is not IP:PORT ([IPv6]:PORT) or unknown")]
    Address(String),
    #[error("--proxy-raw {0:?}: give hex digits, or @FILE")]
    Raw(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn known(source: &str, destination: &str) -> Addresses {
        Addresses::Known {
            source: addr(source),
            destination: addr(destination),
        }
    }

    #[test]
    fn version_1_lines() {
        let header = |addresses| Header {
            version: Version::V1,
            addresses,
            tlvs: Vec::new(),
        };
        let cases = [
            (
                known("192.0.2.1:51234", "198.51.100.2:25"),
                "PROXY TCP4 192.0.2.1 198.51.100.2 51234 25\r\n",
            ),
            (
                known("[2001:db8::1]:40000", "[2001:db8::25]:587"),
                "PROXY TCP6 2001:db8::1 2001:db8::25 40000 587\r\n",
            ),
            (Addresses::Unknown, "PROXY UNKNOWN\r\n"),
        ];
        for (addresses, want) in cases {
            assert_eq!(header(addresses).encode().unwrap(), want.as_bytes());
        }
        assert_eq!(
            header(known("192.0.2.1:1", "[2001:db8::25]:25")).encode(),
            Err(ProxyError::MixedFamilies)
        );
    }

    #[test]
    fn version_2_blocks_byte_by_byte() {
        let header = Header {
            version: Version::V2,
            addresses: known("192.0.2.1:51234", "198.51.100.2:25"),
            tlvs: vec![Tlv::parse("authority=mx.example").unwrap()],
        };
        let mut want = V2_SIGNATURE.to_vec();
        want.extend_from_slice(&[0x21, 0x11, 0x00, 12 + 3 + 10]);
        want.extend_from_slice(&[192, 0, 2, 1, 198, 51, 100, 2]);
        want.extend_from_slice(&[0xc8, 0x22, 0x00, 0x19]);
        want.extend_from_slice(&[0x02, 0x00, 0x0a]);
        want.extend_from_slice(b"mx.example");
        assert_eq!(header.encode().unwrap(), want);

        let local = Header {
            version: Version::V2Local,
            addresses: Addresses::Unknown,
            tlvs: Vec::new(),
        };
        let mut want = V2_SIGNATURE.to_vec();
        want.extend_from_slice(&[0x20, 0x00, 0x00, 0x00]);
        assert_eq!(local.encode().unwrap(), want);
    }

    #[test]
    fn tlv_words() {
        let ssl = Tlv::parse("ssl=TLSv1.3,cipher=TLS_AES_128_GCM_SHA256").unwrap();
        assert_eq!(ssl.kind, 0x20);
        assert_eq!(ssl.value[0], 0x01, "PP2_CLIENT_SSL");
        assert_eq!(&ssl.value[1..5], &[0, 0, 0, 0], "verified");
        assert_eq!(&ssl.value[5..8], &[0x21, 0x00, 0x07]);
        assert_eq!(&ssl.value[8..15], b"TLSv1.3");
        assert_eq!(ssl.value[15], 0x23);
        assert_eq!(
            Tlv::parse("0xE0=dead BEEF").unwrap().value,
            [0xde, 0xad, 0xbe, 0xef]
        );
        assert_eq!(Tlv::parse("noop=3").unwrap().value, [0, 0, 0]);
        assert_eq!(Tlv::parse("unique-id=abc").unwrap().kind, 0x05);
        for bad in [
            "authority",
            "colour=red",
            "0xZZ=00",
            "0x01=abc",
            "ssl=",
            "ssl=TLSv1.3,x=y",
        ] {
            assert!(Tlv::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_fill_in_the_connection_and_describe_what_went_out() {
        let local = Some(addr("127.0.0.1:40000"));
        let peer = Some(addr("127.0.0.1:2525"));
        let v1 = Request::Header {
            version: Version::V1,
            source: Some("192.0.2.7:1234".parse().unwrap()),
            destination: None,
            tlvs: Vec::new(),
        };
        let bytes = v1.bytes(local, peer).unwrap();
        assert_eq!(bytes, b"PROXY TCP4 192.0.2.7 127.0.0.1 1234 2525\r\n");
        assert_eq!(
            v1.describe(&bytes),
            "PROXY v1 header sent: PROXY TCP4 192.0.2.7 127.0.0.1 1234 2525"
        );
        let unknown = Request::Header {
            version: Version::V1,
            source: Some(Claim::Unknown),
            destination: None,
            tlvs: Vec::new(),
        };
        assert_eq!(unknown.bytes(local, peer).unwrap(), b"PROXY UNKNOWN\r\n");
        let local_v2 = Request::Header {
            version: Version::V2Local,
            source: None,
            destination: None,
            tlvs: Vec::new(),
        };
        let bytes = local_v2.bytes(local, peer).unwrap();
        assert_eq!(bytes.len(), 16);
        assert!(local_v2.describe(&bytes).starts_with(
            "PROXY v2-local header sent (16 bytes): 0d0a0d0a000d0a515549540a20000000"
        ));
        let unknown_peer = Request::Header {
            version: Version::V1,
            source: None,
            destination: None,
            tlvs: Vec::new(),
        };
        assert_eq!(
            unknown_peer.bytes(local, None).unwrap(),
            b"PROXY UNKNOWN\r\n"
        );
        let raw = Request::Raw(b"PROXY BOGUS\r\n".to_vec());
        assert_eq!(raw.bytes(local, peer).unwrap(), b"PROXY BOGUS\r\n");
        assert!("1.2.3.4".parse::<Claim>().is_err());
    }

    #[test]
    fn v1_refuses_tlvs() {
        let header = Header {
            version: Version::V1,
            addresses: Addresses::Unknown,
            tlvs: vec![Tlv::parse("alpn=smtp").unwrap()],
        };
        assert_eq!(header.encode(), Err(ProxyError::TlvInV1));
    }
}
