//! The demo server's I/O shell: the listener, one task per connection, the
//! reads the session asks for, and STARTTLS.
//!
//! Every read is bounded: a command line by [`COMMAND_LINE_LIMIT`], message
//! text by the room the session gives (the rest is read and dropped, so
//! the dialog goes on), each wait by the idle timeout. Replies are queued
//! and go out when the client's input is used up, so commands pipelined in
//! one packet get their replies in order and in one write (RFC 2920 §3).
//! The dialog itself, every reply and every rule, is `session.rs`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use openssl::error::ErrorStack;
use openssl::pkey::PKey;
use openssl::ssl::{Ssl, SslAcceptor, SslMethod};
use openssl::x509::X509;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;
use tokio_openssl::SslStream;

use super::reply::Reply;
use super::session::{Incoming, Next, Session, Step};
use super::{CONNECTION_LIMIT, Inbox};

/// The longest command line read, its CRLF included.
const COMMAND_LINE_LIMIT: usize = 4096;
/// The longest line of an AUTH exchange (RFC 4954 §4: 12288 octets).
const AUTH_LINE_LIMIT: usize = 12288;
/// Message text is taken in pieces of at most this much: a longer line
/// does not grow a buffer.
const TEXT_PIECE: usize = 64 * 1024;
/// Replies held back while pipelined commands are answered, at most.
const OUTPUT_LIMIT: usize = 64 * 1024;

/// The TLS side of STARTTLS: the leaf and its key, and the CA sent along as
/// the chain.
pub(super) fn acceptor(
    cert_pem: &str,
    key_pem: &str,
    ca_pem: &str,
) -> Result<SslAcceptor, ErrorStack> {
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    let cert = X509::from_pem(cert_pem.as_bytes())?;
    let key = PKey::private_key_from_pem(key_pem.as_bytes())?;
    builder.set_certificate(&cert)?;
    builder.set_private_key(&key)?;
    builder.add_extra_chain_cert(X509::from_pem(ca_pem.as_bytes())?)?;
    builder.check_private_key()?;
    Ok(builder.build())
}

/// What every connection shares.
pub(super) struct Server {
    pub(super) acceptor: SslAcceptor,
    pub(super) password: Arc<str>,
    pub(super) inbox: Arc<Inbox>,
    pub(super) idle: Duration,
}

impl Server {
    /// Listens on `addr` and serves on a thread of its own, with a runtime
    /// of its own, until the process ends; the address it listens on.
    pub(super) fn spawn(self, addr: &str) -> io::Result<SocketAddr> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _context = runtime.enter();
            TcpListener::from_std(listener)?
        };
        let server = Arc::new(self);
        std::thread::Builder::new()
            .name("demo-smtp-server".into())
            .spawn(move || runtime.block_on(server.serve(listener)))?;
        Ok(local)
    }

    async fn serve(self: Arc<Self>, listener: TcpListener) {
        let slots = Arc::new(Semaphore::new(CONNECTION_LIMIT));
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                // Out of file descriptors, say: wait rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let server = Arc::clone(&self);
            let slot = Arc::clone(&slots).try_acquire_owned();
            tokio::spawn(async move {
                match slot {
                    Ok(_slot) => server.connection(tcp, peer.ip()).await,
                    Err(_) => {
                        let mut wire = Wire::new(tcp, server.idle);
                        wire.queue(&Session::busy());
                        wire.close().await;
                    }
                }
            });
        }
    }

    async fn connection(&self, tcp: TcpStream, peer: IpAddr) {
        let mut session = Session::new(peer, Arc::clone(&self.password), Arc::clone(&self.inbox));
        let mut wire = Wire::new(tcp, self.idle);
        wire.queue(&session.banner());
        if drive(&mut wire, &mut session).await != End::StartTls {
            return;
        }
        // Whatever the client pipelined after STARTTLS goes with the
        // buffer: it must not run as if it had come under TLS.
        let tcp = wire.into_inner();
        let Some(tls) = self.handshake(tcp).await else {
            return;
        };
        session.tls_started();
        let mut wire = Wire::new(tls, self.idle);
        drive(&mut wire, &mut session).await;
    }

    async fn handshake(&self, tcp: TcpStream) -> Option<SslStream<TcpStream>> {
        let ssl = Ssl::new(self.acceptor.context()).ok()?;
        let mut tls = SslStream::new(ssl, tcp).ok()?;
        match timeout(self.idle, Pin::new(&mut tls).accept()).await {
            Ok(Ok(())) => Some(tls),
            _ => None,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum End {
    Closed,
    StartTls,
}

/// Serves the dialog on one stream until it closes or turns to TLS.
async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
    session: &mut Session,
) -> End {
    match dialog(wire, session).await {
        Ok(End::StartTls) => match wire.flush().await {
            Ok(()) => End::StartTls,
            Err(_) => End::Closed,
        },
        Ok(End::Closed) => {
            wire.close().await;
            End::Closed
        }
        Err(Closed::Timeout) => {
            wire.queue(&session.timeout());
            wire.close().await;
            End::Closed
        }
        Err(Closed::Gone) => End::Closed,
    }
}

async fn dialog<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
    session: &mut Session,
) -> Result<End, Closed> {
    loop {
        let mut step = match wire.line(COMMAND_LINE_LIMIT).await? {
            Line::Complete(line) => session.command(&line),
            Line::TooLong => session.line_too_long(),
        };
        loop {
            if let Some(reply) = &step.reply {
                wire.queue(reply);
            }
            step = match step.next {
                Next::Command => break,
                Next::Close => return Ok(End::Closed),
                Next::StartTls => return Ok(End::StartTls),
                Next::Message { room } => {
                    let text = wire.message(room).await?;
                    Step::reply(session.message(text))
                }
                Next::Chunk { size, last, room } => {
                    let chunk = wire.chunk(size, room).await?;
                    Step::reply(session.chunk(chunk, last))
                }
                Next::Discard { size, reply } => {
                    wire.chunk(size, 0).await?;
                    Step::reply(reply)
                }
                Next::AuthResponse => match wire.line(AUTH_LINE_LIMIT).await? {
                    Line::Complete(line) => session.auth_response(&line),
                    Line::TooLong => session.auth_line_too_long(),
                },
            };
        }
    }
}

/// Why a connection's dialog stopped.
#[derive(Debug)]
enum Closed {
    /// The client said nothing for the idle timeout.
    Timeout,
    /// The client went away, or the connection failed.
    Gone,
}

enum Line {
    /// The line without its LF or CRLF.
    Complete(Vec<u8>),
    /// Longer than the limit; read to its end and dropped.
    TooLong,
}

/// One connection's bytes: buffered input, queued replies.
struct Wire<S> {
    io: BufReader<S>,
    out: Vec<u8>,
    idle: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    fn new(stream: S, idle: Duration) -> Self {
        Wire {
            io: BufReader::new(stream),
            out: Vec::new(),
            idle,
        }
    }

    /// The stream, and the input buffered so far dropped.
    fn into_inner(self) -> S {
        self.io.into_inner()
    }

    fn queue(&mut self, reply: &Reply) {
        self.out.extend_from_slice(reply.to_string().as_bytes());
    }

    async fn flush(&mut self) -> Result<(), Closed> {
        if self.out.is_empty() {
            return Ok(());
        }
        let stream = self.io.get_mut();
        let write = async {
            stream.write_all(&self.out).await?;
            stream.flush().await
        };
        // A client that does not read its replies is as good as gone.
        match timeout(self.idle, write).await {
            Ok(Ok(())) => {
                self.out.clear();
                Ok(())
            }
            _ => Err(Closed::Gone),
        }
    }

    /// Sends what is queued and closes (with TLS's close_notify).
    async fn close(&mut self) {
        if self.flush().await.is_ok() {
            let _ = timeout(self.idle, self.io.get_mut().shutdown()).await;
        }
    }

    /// The input buffered, reading more if there is none. Queued replies go
    /// out before the server waits: the client gets an answer to all it has
    /// sent so far.
    async fn fill(&mut self) -> Result<&[u8], Closed> {
        if self.io.buffer().is_empty() || self.out.len() >= OUTPUT_LIMIT {
            self.flush().await?;
        }
        match timeout(self.idle, self.io.fill_buf()).await {
            Err(_) => Err(Closed::Timeout),
            Ok(Err(_) | Ok([])) => Err(Closed::Gone),
            Ok(Ok(buffered)) => Ok(buffered),
        }
    }

    /// One line, ended by LF (a CR before it is dropped too).
    async fn line(&mut self, limit: usize) -> Result<Line, Closed> {
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            let buffered = self.fill().await?;
            let (take, ended) = match buffered.iter().position(|&b| b == b'\n') {
                Some(lf) => (lf + 1, true),
                None => (buffered.len(), false),
            };
            if !too_long && line.len() + take <= limit {
                line.extend_from_slice(&buffered[..take]);
            } else {
                too_long = true;
                line = Vec::new();
            }
            self.io.consume(take);
            if ended {
                break;
            }
        }
        if too_long {
            return Ok(Line::TooLong);
        }
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Line::Complete(line))
    }

    /// Message text up to CRLF `.` CRLF, dot-unstuffed (RFC 5321 §4.5.2).
    /// Only a CRLF starts a line: a `.` after a bare LF is text, so the
    /// message ends where the client meant it to and no later command can
    /// be smuggled inside it.
    async fn message(&mut self, room: usize) -> Result<Incoming, Closed> {
        let mut incoming = Incoming::new(room);
        let mut line = Vec::new();
        let mut at_start = true;
        loop {
            let buffered = self.fill().await?;
            let (take, ended) = match buffered.iter().position(|&b| b == b'\n') {
                Some(lf) => (lf + 1, true),
                None => (buffered.len(), false),
            };
            line.extend_from_slice(&buffered[..take]);
            self.io.consume(take);
            if ended {
                if at_start && line == b".\r\n" {
                    return Ok(incoming);
                }
                push_text(&mut incoming, &line, at_start);
                at_start = line.ends_with(b"\r\n");
                line.clear();
            } else if line.len() >= TEXT_PIECE {
                // A long line goes on in pieces; a CR at the end waits for
                // the LF that may follow.
                let cut = line.len() - usize::from(line.ends_with(b"\r"));
                push_text(&mut incoming, &line[..cut], at_start);
                line.drain(..cut);
                at_start = false;
            }
        }
    }

    /// Exactly `size` bytes (a BDAT chunk), keeping at most `room`.
    async fn chunk(&mut self, size: u64, room: usize) -> Result<Incoming, Closed> {
        let mut incoming = Incoming::new(room);
        let mut left = size;
        while left > 0 {
            let buffered = self.fill().await?;
            let take = buffered
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            incoming.push(&buffered[..take]);
            self.io.consume(take);
            left -= take as u64;
        }
        Ok(incoming)
    }
}

/// Text from the start of a line loses one leading dot.
fn push_text(incoming: &mut Incoming, text: &[u8], at_start: bool) {
    match text {
        [b'.', rest @ ..] if at_start => incoming.push(rest),
        _ => incoming.push(text),
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
