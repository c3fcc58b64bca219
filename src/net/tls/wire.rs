//! The TCP stream under a TLS session, and what it tells about a server
//! that did not answer in TLS.
//!
//! [`Wire`] passes bytes through unchanged; it only keeps the first bytes
//! the server sent, so that a failed handshake can say what came instead of
//! TLS (an SMTP greeting: the port wants STARTTLS). It decides nothing.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The TCP stream under a TLS session. It remembers the first bytes the
/// server sent, so that a failed handshake can say what came instead of TLS
/// (an SMTP greeting: the port wants STARTTLS).
#[derive(Debug)]
pub struct Wire {
    tcp: TcpStream,
    seen: Seen,
    seen_full: bool,
    tap: Tap,
}

/// The server's bytes of the handshake, kept (up to
/// [`super::flight::FLIGHT_CAP`]) until the backend takes them, for what
/// the TLS library does not report ([`super::flight`]).
#[derive(Clone, Debug, Default)]
pub(super) struct Tap(Arc<Mutex<Option<Vec<u8>>>>);

impl Tap {
    /// What was kept; nothing more is kept after this.
    #[cfg_attr(not(feature = "openssl"), allow(dead_code))]
    pub(super) fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_default()
    }
}

/// Bytes of the server's first answer kept for the error message.
const SEEN_CAP: usize = 64;

/// A handle on the first bytes a [`Wire`] read; it outlives the wire when a
/// backend consumes it on failure.
#[derive(Clone, Debug, Default)]
pub(super) struct Seen(Arc<Mutex<Vec<u8>>>);

impl Seen {
    pub(super) fn bytes(&self) -> Vec<u8> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Wire {
    pub(super) fn new(tcp: TcpStream) -> (Wire, Seen) {
        let seen = Seen::default();
        let wire = Wire {
            tcp,
            seen: seen.clone(),
            seen_full: false,
            tap: Tap::default(),
        };
        (wire, seen)
    }

    /// Starts keeping the server's bytes (until [`Tap::take`]), and
    /// returns the handle on them.
    #[cfg_attr(not(feature = "openssl"), allow(dead_code))]
    pub(super) fn tap(&self) -> Tap {
        *self.tap.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(Vec::new());
        self.tap.clone()
    }

    /// The TCP stream (for its addresses).
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.tcp).poll_read(cx, buf))?;
        {
            let mut tap = this.tap.0.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(kept) = tap.as_mut() {
                let new = &buf.filled()[before..];
                let room = super::flight::FLIGHT_CAP.saturating_sub(kept.len());
                kept.extend_from_slice(&new[..new.len().min(room)]);
            }
        }
        if !this.seen_full {
            let mut seen = this.seen.0.lock().unwrap_or_else(PoisonError::into_inner);
            let new = &buf.filled()[before..];
            let room = SEEN_CAP.saturating_sub(seen.len());
            seen.extend_from_slice(&new[..new.len().min(room)]);
            this.seen_full = seen.len() >= SEEN_CAP;
            if seen.first().is_some_and(|b| !is_tls_record(*b)) {
                // Not TLS: the handshake fails on these bytes anyway. Take
                // what else has arrived, without waiting, so the error can
                // show the server's whole line and not the 5 bytes a TLS
                // record header takes.
                let mut more = [0; SEEN_CAP];
                while let Some(room) = SEEN_CAP.checked_sub(seen.len()).filter(|r| *r > 0) {
                    match this.tcp.try_read(&mut more[..room]) {
                        Ok(n) if n > 0 => seen.extend_from_slice(&more[..n]),
                        _ => break,
                    }
                }
                this.seen_full = true;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// Whether `first` can start a TLS record: its content type, 20 to 24.
pub(super) fn is_tls_record(first: u8) -> bool {
    (0x14..=0x18).contains(&first)
}

/// Three digits then a space, a dash or a line end: an SMTP reply.
pub(super) fn looks_like_smtp(bytes: &[u8]) -> bool {
    matches!(bytes, [a, b, c, rest @ ..]
        if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit()
            && matches!(rest.first(), None | Some(b' ' | b'-' | b'\r' | b'\n')))
}

/// Server bytes fit for an error line: up to the first line end, printable
/// ASCII kept, the rest as `\xNN`.
pub(super) fn printable(bytes: &[u8]) -> String {
    let line = bytes
        .split(|b| *b == b'\r' || *b == b'\n')
        .next()
        .unwrap_or_default();
    let mut out = String::new();
    for &b in line {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes() {
        assert_eq!(printable(b"220 a\x1b[31m\"b\r\nx"), "220 a\\x1b[31m\\x22b");
        assert!(looks_like_smtp(b"421-busy"));
        assert!(looks_like_smtp(b"554\r\n"));
        assert!(!looks_like_smtp(b"22"));
        assert!(!looks_like_smtp(b"2200"));
    }
}
