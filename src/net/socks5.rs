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
//! [`Untrusted`](crate::text::Untrusted), and nothing it sends is
//! unwrapped. The messages are in `wire`, the errors in `error`; here are
//! the handshake and what `--socks5` asks for.
//!
//! This module does not resolve, connect, choose a proxy or print; that is
//! [`super::connect`]'s business.

use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::target::Target;
use crate::proto::auth::Secret;

mod error;
mod wire;

pub use error::{Socks5Error, Stage};
pub use wire::{
    Decoded, MAX_REPLY, Method, ReplyCode, TargetAddr, VERSION, auth_request, auth_status,
    connect_reply, connect_request, greeting, method_selection,
};

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
