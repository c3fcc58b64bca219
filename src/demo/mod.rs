//! `--demo`: a real SMTP server inside the process, to try everything with
//! one command and no mail server installed.
//!
//! The server is smtpcli's own, on tokio and OpenSSL (the crates the client
//! uses already): an embedded crate (mailin-embedded, before) could not
//! offer PIPELINING, CHUNKING, SIZE or an enhanced code on every reply, so
//! the demo did not look like the servers smtpcli is for. It listens on
//! 127.0.0.1 port 0 and answers as a Postfix submission port would: the
//! host name first in the banner and EHLO, PIPELINING, SIZE, DSN, CHUNKING,
//! BINARYMIME, SMTPUTF8, REQUIRETLS (over TLS only), STARTTLS with a certificate from a throw-away CA made at start
//! (rcgen, ECDSA, which the demo's own client trusts, so the verdict reads
//! "trusted"), and AUTH PLAIN and LOGIN only over TLS with the demo
//! credentials. What it receives goes, under a `Received:` header, into an
//! in-memory inbox that `:demo inbox` and `:demo show N` read.
//!
//! `session` holds the dialog's rules without a socket, `command` reads a
//! client's line, `reply` spells the answers, `server` is the I/O shell (one
//! thread, one tokio runtime, a task per connection). Nothing here prints;
//! it does not know the client's `ui`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use thiserror::Error;

mod command;
mod reply;
mod server;
mod session;

/// The demo user.
pub const USER: &str = "demo";

/// The server's name, in the banner, EHLO and `Received:` headers.
const HOST: &str = "demo.smtpcli.invalid";
/// Messages kept at most; the oldest go first.
const INBOX_LIMIT: usize = 100;
/// The largest message taken (EHLO's SIZE): 10 MiB.
const MESSAGE_LIMIT: usize = 10 * 1024 * 1024;
/// How long the server waits for a client that says nothing.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Connections served at once.
const CONNECTION_LIMIT: usize = 20;

/// A message the demo server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The message as received (dot-unstuffed), under the server's
    /// `Received:` header.
    pub data: Vec<u8>,
    /// Whether the client had authenticated (AUTH succeeded).
    pub authenticated: bool,
}

impl Received {
    /// The Subject: header, if any.
    pub fn subject(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.data);
        let header = text.split("\r\n\r\n").next().unwrap_or("");
        header
            .lines()
            .find_map(|l| l.strip_prefix("Subject:").map(|s| s.trim().to_string()))
    }
}

/// The running demo: where it listens and how to get in.
#[derive(Clone, Debug)]
pub struct Demo {
    /// The server's address.
    pub addr: SocketAddr,
    /// The throw-away CA the client trusts.
    pub ca_file: PathBuf,
    /// The demo password.
    pub password: String,
    /// Keeps the certificate files until the process ends.
    _dir: Arc<tempfile::TempDir>,
}

/// Why the demo did not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DemoError {
    /// Making the certificates failed.
    #[error("cannot make the demo certificates: {0}")]
    Certificates(String),
    /// The listener or the server failed.
    #[error("cannot start the demo server: {0}")]
    Server(String),
}

/// The messages a server received, numbered as it queued them.
#[derive(Debug, Default)]
struct Inbox {
    state: Mutex<InboxState>,
}

#[derive(Debug, Default)]
struct InboxState {
    messages: VecDeque<Received>,
    queued: u64,
}

impl Inbox {
    /// Keeps the message `make` builds under the next queue id (1, 2, …),
    /// dropping the oldest past [`INBOX_LIMIT`]; the id, or `None` if the
    /// inbox is unusable.
    fn queue(&self, make: impl FnOnce(u64) -> Received) -> Option<u64> {
        let mut state = self.state.lock().ok()?;
        state.queued += 1;
        let id = state.queued;
        if state.messages.len() >= INBOX_LIMIT {
            state.messages.pop_front();
        }
        state.messages.push_back(make(id));
        Some(id)
    }

    fn messages(&self) -> Vec<Received> {
        self.state
            .lock()
            .map(|state| state.messages.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// The inbox of the process's demo server.
fn inbox() -> &'static Arc<Inbox> {
    static INBOX: OnceLock<Arc<Inbox>> = OnceLock::new();
    INBOX.get_or_init(Arc::default)
}

/// The messages received so far.
pub fn messages() -> Vec<Received> {
    inbox().messages()
}

/// Starts the demo server on a thread of its own, where it serves until the
/// process ends.
pub fn start() -> Result<Demo, DemoError> {
    let dir = tempfile::tempdir().map_err(|e| DemoError::Certificates(e.to_string()))?;
    let (ca_pem, cert_pem, key_pem) = certificates()?;
    // Only the CA goes to a file, for the client; the server's key stays
    // in memory.
    let ca_file = dir.path().join("demo-ca.pem");
    std::fs::write(&ca_file, &ca_pem).map_err(|e| DemoError::Certificates(e.to_string()))?;
    let acceptor = server::acceptor(&cert_pem, &key_pem, &ca_pem)
        .map_err(|e| DemoError::Certificates(e.to_string()))?;

    let password = password();
    let server = server::Server {
        acceptor,
        password: Arc::from(password.as_str()),
        inbox: Arc::clone(inbox()),
        idle: IDLE_TIMEOUT,
    };
    let addr = server
        .spawn("127.0.0.1:0")
        .map_err(|e| DemoError::Server(e.to_string()))?;
    Ok(Demo {
        addr,
        ca_file,
        password,
        _dir: Arc::new(dir),
    })
}

/// A throw-away CA and a leaf for localhost and 127.0.0.1 (ECDSA: fast).
fn certificates() -> Result<(String, String, String), DemoError> {
    let err = |e: rcgen::Error| DemoError::Certificates(e.to_string());
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::CommonName, "smtpcli demo CA (throw-away)");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = time::OffsetDateTime::now_utc();
    ca.not_before = now - time::Duration::days(1);
    ca.not_after = now + time::Duration::days(31);
    let ca_key = KeyPair::generate().map_err(err)?;
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca, ca_key);

    let mut leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(err)?;
    leaf.distinguished_name = DistinguishedName::new();
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Valid for a month from yesterday: a report with sensible dates.
    leaf.not_before = now - time::Duration::days(1);
    leaf.not_after = now + time::Duration::days(30);
    let leaf_key = KeyPair::generate().map_err(err)?;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(err)?;
    Ok((ca_cert.pem(), leaf_cert.pem(), leaf_key.serialize_pem()))
}

/// A password for this run, easy to type: six digits from the standard
/// library's per-process random hasher seed (OS randomness), so another
/// local user cannot derive it from the clock or the process id.
fn password() -> String {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("demo-{:06}", random % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_read_from_the_header_only() {
        let m = Received {
            from: "a@b".into(),
            to: vec!["c@d".into()],
            data: b"From: a@b\r\nSubject: Hello\r\n\r\nSubject: not this\r\n".to_vec(),
            authenticated: false,
        };
        assert_eq!(m.subject().as_deref(), Some("Hello"));
    }
}
