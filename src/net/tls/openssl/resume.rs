//! Session resumption: the session (or TLS 1.3 ticket) a server gave,
//! kept with the context it belongs to, and offered on a new connection.
//! Offering it is the one `unsafe` call in smtpcli.

use super::*;

/// A TLS session saved from one connection, to resume on another.
#[derive(Clone)]
pub(crate) struct Saved {
    pub(super) context: SslContext,
    session: SslSession,
    tls12_ticket: bool,
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saved")
            .field("protocol", &self.session.protocol_version())
            .field("tls12_ticket", &self.tls12_ticket)
            .finish_non_exhaustive()
    }
}

/// The session the server gave on `stream`, if any yet.
pub(crate) fn saved(ssl: &SslRef) -> Option<Saved> {
    let shared = ssl.ex_data(shared_index().ok()?)?;
    let session = shared.session.lock().ok()?.clone()?;
    let context = shared.context.lock().ok()?.clone()?;
    let tls12_ticket = *shared.tls12_ticket.lock().ok()?;
    Some(Saved {
        context,
        session,
        tls12_ticket,
    })
}

impl Saved {
    /// How the protocol resumes this session.
    pub(crate) fn kind(&self) -> &'static str {
        if self.session.protocol_version() == SslVersion::TLS1_3 {
            "TLS 1.3 PSK from a session ticket"
        } else if self.tls12_ticket {
            "TLS 1.2 session ticket (RFC 5077)"
        } else {
            "session ID (the server's session cache)"
        }
    }
}

/// Offers `saved` on `ssl`: the one use of `unsafe` in smtpcli.
#[allow(unsafe_code)]
pub(super) fn offer_session(ssl: &mut SslRef, saved: &Saved) -> Result<(), TlsError> {
    // SAFETY: the openssl crate asks only that the session belong to the
    // same SslContext as the Ssl; `ssl` was made from `saved.context`,
    // the context whose new-session callback handed over `saved.session`.
    unsafe { ssl.set_session(&saved.session) }.map_err(setup("offering the saved session"))
}
