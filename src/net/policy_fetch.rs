//! Fetching an MTA-STS policy (RFC 8461 §3.3): `GET
//! /.well-known/mta-sts.txt` from `mta-sts.DOMAIN` over HTTPS with the
//! certificate verified (the system's CAs and `--ca-file`), no redirects
//! followed, the body capped.
//!
//! [`Response::parse`] reads an HTTP/1.1 answer (status, `Content-Type`,
//! a body by `Content-Length`, chunks or the end of the connection) with
//! no I/O; [`fetch`] is the I/O. Whether the answer is a policy is
//! `proto::policy::mta_sts`'s to say.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::connect::describe_io;
use super::tls::{self, TlsError, TlsSettings};
use crate::proto::policy::mta_sts::{MAX_POLICY_BYTES, POLICY_PATH};
use crate::text::Untrusted;

/// The most header bytes read before the body.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Why no HTTP answer could be had.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: SocketAddr, reason: String },
    #[error("{}", tls_reason(.0))]
    Tls(#[from] TlsError),
    #[error("{action}: {reason}")]
    Io {
        action: &'static str,
        reason: String,
    },
    #[error("no answer within {0}s")]
    Timeout(u64),
    #[error("the answer is not HTTP: {0}")]
    Http(&'static str),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
}

/// A TLS failure in a policy fetch's words: verification is not an option
/// here (RFC 8461 §3.3), so a rejected certificate names no flag.
fn tls_reason(e: &TlsError) -> String {
    match e {
        TlsError::Rejected(problems) => format!(
            "the policy host's certificate is rejected: {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => other.to_string(),
    }
}

/// An HTTP answer, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// The `Content-Type` header's value, if any.
    pub content_type: Option<Untrusted>,
    /// The `Location` header of a redirect (reported, never followed).
    pub location: Option<Untrusted>,
    pub body: Vec<u8>,
}

impl Response {
    /// An answer read to the end of the connection (the request said
    /// `Connection: close`). The body is the `Content-Length` bytes, the
    /// chunks, or the rest.
    pub fn parse(bytes: &[u8]) -> Result<Response, FetchError> {
        let head_end = find(bytes, b"\r\n\r\n")
            .map(|at| (at, at + 4))
            .or_else(|| find(bytes, b"\n\n").map(|at| (at, at + 2)))
            .ok_or(FetchError::Http("the headers do not end"))?;
        if head_end.0 > MAX_HEAD_BYTES {
            return Err(FetchError::Http("the headers are too long"));
        }
        let head = std::str::from_utf8(&bytes[..head_end.0])
            .map_err(|_| FetchError::Http("the headers are not text"))?;
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let status_line = lines.next().unwrap_or_default();
        let mut words = status_line.splitn(3, ' ');
        let version = words.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(FetchError::Http("no HTTP/1.x status line"));
        }
        let status = words
            .next()
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse().ok())
            .ok_or(FetchError::Http("no status code"))?;
        let mut content_type = None;
        let mut location = None;
        let mut length = None;
        let mut chunked = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                return Err(FetchError::Http("a header line without a colon"));
            };
            let value = value.trim_matches([' ', '\t']);
            if name.eq_ignore_ascii_case("content-type") {
                content_type = Some(Untrusted::new(value.as_bytes()));
            } else if name.eq_ignore_ascii_case("location") {
                location = Some(Untrusted::new(value.as_bytes()));
            } else if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| FetchError::Http("a Content-Length that is no number"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().ends_with("chunked");
            }
        }
        let rest = &bytes[head_end.1..];
        let body = if chunked {
            dechunk(rest)?
        } else if let Some(length) = length {
            if length > MAX_POLICY_BYTES {
                return Err(FetchError::TooLarge(MAX_POLICY_BYTES));
            }
            rest.get(..length)
                .ok_or(FetchError::Http(
                    "the body is shorter than its Content-Length",
                ))?
                .to_vec()
        } else {
            rest.to_vec()
        };
        if body.len() > MAX_POLICY_BYTES {
            return Err(FetchError::TooLarge(MAX_POLICY_BYTES));
        }
        Ok(Response {
            status,
            content_type,
            location,
            body,
        })
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A chunked body (RFC 9112 §7.1), its extensions and trailers dropped.
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, FetchError> {
    let bad = FetchError::Http("the chunks do not read");
    let mut body = Vec::new();
    loop {
        let line_end = find(rest, b"\r\n").ok_or(FetchError::Http("the chunks do not read"))?;
        let size_text = std::str::from_utf8(&rest[..line_end])
            .map_err(|_| FetchError::Http("the chunks do not read"))?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| FetchError::Http("the chunks do not read"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if body.len() + size > MAX_POLICY_BYTES {
            return Err(FetchError::TooLarge(MAX_POLICY_BYTES));
        }
        let (chunk, after) = (rest.get(..size), rest.get(size..));
        let (Some(chunk), Some(after)) = (chunk, after) else {
            return Err(bad);
        };
        body.extend_from_slice(chunk);
        rest = after
            .strip_prefix(b"\r\n")
            .ok_or(FetchError::Http("the chunks do not read"))?;
    }
}

/// The request for the policy on `host`.
pub fn request(host: &str) -> String {
    format!(
        "GET {POLICY_PATH} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: smtpcli/{}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// Fetches the policy from `host` (`mta-sts.DOMAIN`) at `addr`, its
/// certificate verified for `host` against the system's CAs and
/// `ca_file`, all within `timeout`.
pub async fn fetch(
    host: &str,
    addr: SocketAddr,
    ca_file: Option<PathBuf>,
    timeout: Duration,
) -> Result<Response, FetchError> {
    tokio::time::timeout(timeout, fetch_inner(host, addr, ca_file))
        .await
        .map_err(|_| FetchError::Timeout(timeout.as_secs().max(1)))?
}

async fn fetch_inner(
    host: &str,
    addr: SocketAddr,
    ca_file: Option<PathBuf>,
) -> Result<Response, FetchError> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| FetchError::Connect {
            addr,
            reason: describe_io(&e),
        })?;
    let mut settings = TlsSettings::new(host);
    settings.verify = true;
    settings.ca_file = ca_file;
    let (mut stream, _report) = tls::handshake(tcp, &settings).await?;
    let io = |action| {
        move |e: std::io::Error| FetchError::Io {
            action,
            reason: describe_io(&e),
        }
    };
    stream
        .write_all(request(host).as_bytes())
        .await
        .map_err(io("sending the request"))?;
    stream.flush().await.map_err(io("sending the request"))?;
    let cap = MAX_HEAD_BYTES + MAX_POLICY_BYTES + 64;
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(n) => n,
            // Servers often close without close_notify; the length checks
            // still catch a cut body.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(io("reading the answer")(e)),
        };
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&buf[..n]);
        if bytes.len() > cap {
            return Err(FetchError::TooLarge(MAX_POLICY_BYTES));
        }
    }
    Response::parse(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read() {
        let r = Response::parse(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, b"hello".as_slice()));
        assert_eq!(r.content_type.unwrap(), "text/plain");
        let r =
            Response::parse(b"HTTP/1.0 200 OK\nContent-type:text/plain\n\nto the end\n").unwrap();
        assert_eq!(r.body, b"to the end\n");
        let r = Response::parse(b"HTTP/1.1 301 Moved\r\nLocation: https://elsewhere.example/\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(r.status, 301);
        assert_eq!(r.location.unwrap(), "https://elsewhere.example/");
        assert_eq!(r.content_type, None);
    }

    #[test]
    fn chunked_bodies_read() {
        let r = Response::parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.body, b"hello world");
        for bad in [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
                .as_slice(),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nhello\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
        ] {
            assert!(
                matches!(Response::parse(bad), Err(FetchError::Http(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn what_is_not_http() {
        for bad in [
            b"".as_slice(),
            b"SSH-2.0-OpenSSH\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5",
        ] {
            assert!(
                matches!(Response::parse(bad), Err(FetchError::Http(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn large_bodies_are_refused() {
        let big = MAX_POLICY_BYTES + 1;
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {big}\r\n\r\n");
        assert!(matches!(
            Response::parse(head.as_bytes()),
            Err(FetchError::TooLarge(_))
        ));
        let mut to_end = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        to_end.extend(std::iter::repeat_n(b'x', big));
        assert!(matches!(
            Response::parse(&to_end),
            Err(FetchError::TooLarge(_))
        ));
        let chunked = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{big:x}\r\n");
        assert!(matches!(
            Response::parse(chunked.as_bytes()),
            Err(FetchError::TooLarge(_))
        ));
    }

    #[test]
    fn the_request() {
        let r = request("mta-sts.example.com");
        assert!(
            r.starts_with("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.example.com\r\n")
        );
        assert!(r.ends_with("Connection: close\r\n\r\n"));
    }
}
