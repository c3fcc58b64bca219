//! Reading whole replies and writing commands, with deadlines.
//!
//! The read path reads fixed-size chunks (a cancel-safe `read`, so it can sit
//! inside `select!`) into the sans-IO [`ReplyParser`], which owns the size
//! caps; nothing here grows a buffer waiting for a newline. A deadline covers
//! a whole reply, not each byte, so a server that drips one byte a second
//! still times out. Writes are buffered and flushed before waiting for a
//! reply, under a deadline of their own, so a server that never reads cannot
//! hang the client.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::NetError;
use super::stream::Stream;
use crate::proto::reply::{Reply, ReplyParser};

/// Bytes read from the socket at a time.
const CHUNK: usize = 16 * 1024;
/// Buffered output is written once it reaches this size.
const FLUSH_AT: usize = 64 * 1024;

/// What waiting for a reply ended with.
#[derive(Debug)]
pub enum ReadOutcome {
    /// A whole reply arrived.
    Reply(Reply),
    /// The server closed the connection (`reset`: abruptly); `partial` is
    /// what had arrived of an unfinished reply.
    Closed { partial: Option<Reply>, reset: bool },
    /// The deadline passed; the parser keeps what arrived so far, and
    /// waiting again continues the same reply.
    TimedOut,
}

/// A connection to an SMTP server, reply-wise.
#[derive(Debug)]
pub struct Transport {
    stream: Stream,
    parser: ReplyParser,
    chunk: Vec<u8>,
    out: Vec<u8>,
    write_timeout: Duration,
    closed: Option<Closed>,
    /// A write failed or timed out: nothing more is written.
    broken: bool,
    /// Bytes read from the server so far.
    received: u64,
    /// The most the server may send on this connection, if capped.
    read_limit: Option<u64>,
}

/// How the server closed the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Closed {
    Orderly,
    Reset,
}

impl Transport {
    /// Wraps a connected stream. `write_timeout` bounds each flush.
    pub fn new(stream: Stream, write_timeout: Duration) -> Self {
        Transport {
            stream,
            parser: ReplyParser::new(),
            chunk: vec![0; CHUNK],
            out: Vec::with_capacity(FLUSH_AT),
            write_timeout,
            closed: None,
            broken: false,
            received: 0,
            read_limit: None,
        }
    }

    /// Caps what the server may send on this connection (counted from its
    /// first byte): reading more ends with [`NetError::TooMuch`].
    pub fn set_read_limit(&mut self, limit: Option<u64>) {
        self.read_limit = limit;
    }

    /// Bytes read from the server so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Counts `n` bytes read; `Err` once over the cap.
    fn count(&mut self, n: usize) -> Result<(), NetError> {
        self.received = self.received.saturating_add(n as u64);
        match self.read_limit {
            Some(limit) if self.received > limit => Err(NetError::TooMuch(limit)),
            _ => Ok(()),
        }
    }

    /// Whether the stream is TLS.
    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// Whether the server has closed its side.
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Whether part of a reply has arrived and the rest is awaited.
    pub fn is_mid_reply(&self) -> bool {
        self.parser.is_mid_reply()
    }

    /// Queues bytes to send; writes them out once enough have gathered.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        self.out.extend_from_slice(bytes);
        if self.out.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), NetError> {
        if self.out.is_empty() {
            return Ok(());
        }
        let write = async {
            self.stream.write_all(&self.out).await?;
            self.stream.flush().await
        };
        let result = match tokio::time::timeout(self.write_timeout, write).await {
            Ok(Ok(())) => {
                self.out.clear();
                return Ok(());
            }
            Ok(Err(source)) => NetError::Io {
                action: "sending to the server",
                source,
            },
            Err(_) => NetError::WriteTimeout(self.write_timeout.as_secs()),
        };
        self.broken = true;
        Err(result)
    }

    /// Flushes, then waits until `deadline` for a whole reply.
    pub async fn read_reply(&mut self, deadline: Instant) -> Result<ReadOutcome, NetError> {
        self.flush().await?;
        loop {
            if let Some(limit) = self.read_limit.filter(|l| self.received > *l) {
                return Err(NetError::TooMuch(limit));
            }
            if let Some(reply) = self.parser.next_reply() {
                return Ok(ReadOutcome::Reply(reply));
            }
            if let Some(how) = self.closed {
                return Ok(ReadOutcome::Closed {
                    partial: self.parser.finish(),
                    reset: how == Closed::Reset,
                });
            }
            match tokio::time::timeout_at(deadline, self.stream.read(&mut self.chunk)).await {
                Err(_) => return Ok(ReadOutcome::TimedOut),
                Ok(Ok(0)) => self.closed = Some(Closed::Orderly),
                Ok(Ok(n)) => {
                    self.count(n)?;
                    self.parser.feed(&self.chunk[..n]);
                }
                Ok(Err(e)) if is_reset(&e) => self.closed = Some(Closed::Reset),
                Ok(Err(source)) => {
                    return Err(NetError::Io {
                        action: "reading from the server",
                        source,
                    });
                }
            }
        }
    }

    /// A whole reply that has already arrived, without waiting: one the
    /// parser holds, or one in bytes the socket has ready now. `None` when
    /// nothing complete is there (what is, stays for the next read).
    pub async fn ready_reply(&mut self) -> Option<Reply> {
        if let Some(reply) = self.parser.next_reply() {
            return Some(reply);
        }
        if self.closed.is_some() {
            return None;
        }
        // One read, polled once: it completes only if bytes are ready, and
        // a read future dropped unfinished is cancel-safe. (Not a zero
        // timeout: a timer would wait for the next tick of the clock.)
        let mut read = std::pin::pin!(self.stream.read(&mut self.chunk));
        let polled =
            std::future::poll_fn(|cx| std::task::Poll::Ready(read.as_mut().poll(cx))).await;
        match polled {
            std::task::Poll::Ready(Ok(0)) => self.closed = Some(Closed::Orderly),
            std::task::Poll::Ready(Ok(n)) => {
                // Over the cap, the next wait for a reply says so.
                let _ = self.count(n);
                self.parser.feed(&self.chunk[..n]);
            }
            std::task::Poll::Ready(Err(e)) if is_reset(&e) => self.closed = Some(Closed::Reset),
            std::task::Poll::Ready(Err(_)) | std::task::Poll::Pending => {}
        }
        self.parser.next_reply()
    }

    /// The stream (to ask a TLS stream for its saved session).
    pub fn stream(&self) -> &Stream {
        &self.stream
    }

    /// Takes the stream out (for a STARTTLS handshake), leaving the
    /// transport detached until [`Transport::set_stream`].
    pub fn take_stream(&mut self) -> Stream {
        std::mem::replace(&mut self.stream, Stream::Detached)
    }

    /// Puts a (TLS) stream in.
    pub fn set_stream(&mut self, stream: Stream) {
        self.stream = stream;
    }

    /// Takes the bytes received after the last reply returned: at STARTTLS
    /// they arrived in plaintext and must be discarded.
    pub fn take_leftover(&mut self) -> Vec<u8> {
        self.parser.take_leftover()
    }

    /// Sends what is queued and closes the write side, ignoring errors: the
    /// session is over either way.
    pub async fn shutdown(&mut self) {
        if self.broken {
            // A server that did not take the last write will not take this.
            return;
        }
        let _ = self.flush().await;
        let _ = tokio::time::timeout(Duration::from_secs(1), self.stream.shutdown()).await;
    }
}

fn is_reset(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
    )
}
