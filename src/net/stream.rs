//! The byte stream under a session: plain TCP now, TLS once negotiated.
//!
//! One enum so the rest of the transport does not care which it is, and so a
//! STARTTLS upgrade can take the TCP stream out ([`Stream::into_tcp`]) and
//! put a TLS stream back (from [`crate::net::tls::handshake`]). Which TLS
//! variants exist depends on the backends built (cargo features `openssl`,
//! `native-tls`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

#[cfg(any(feature = "openssl", feature = "native-tls"))]
use super::tls::Wire;

/// A connection's byte stream.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// A UNIX domain socket (LMTP servers often listen on one).
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
    /// TLS by OpenSSL.
    #[cfg(feature = "openssl")]
    OpenSsl(tokio_openssl::SslStream<Wire>),
    /// TLS by the platform's library, through native-tls.
    #[cfg(feature = "native-tls")]
    Native(Box<tokio_native_tls::TlsStream<Wire>>),
    /// Nothing: the stream was taken out for a TLS handshake that did not
    /// give one back. Reads and writes fail.
    Detached,
}

/// Runs `$body` on the stream inside whichever variant `$self` is.
macro_rules! each {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            Stream::Plain($s) => $body,
            #[cfg(unix)]
            Stream::Unix($s) => $body,
            #[cfg(feature = "openssl")]
            Stream::OpenSsl($s) => $body,
            #[cfg(feature = "native-tls")]
            Stream::Native($s) => $body,
            Stream::Detached => Poll::Ready(Err(detached())),
        }
    };
}

fn detached() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the connection was lost in a TLS handshake",
    )
}

impl Stream {
    /// Whether bytes on this stream are encrypted.
    pub fn is_tls(&self) -> bool {
        match self {
            Stream::Plain(_) | Stream::Detached => false,
            #[cfg(unix)]
            Stream::Unix(_) => false,
            #[allow(unreachable_patterns)]
            _ => true,
        }
    }

    /// The TCP stream of a plain connection, for a STARTTLS handshake; a TLS
    /// stream is handed back unchanged.
    pub fn into_tcp(self) -> Result<TcpStream, Stream> {
        match self {
            Stream::Plain(tcp) => Ok(tcp),
            #[allow(unreachable_patterns)]
            other => Err(other),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self.get_mut(), s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self.get_mut(), s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self.get_mut(), s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self.get_mut(), s => Pin::new(s).poll_shutdown(cx))
    }
}
