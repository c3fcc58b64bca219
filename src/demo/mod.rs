//! `--demo`: a real SMTP server inside the process, to try everything with
//! one command and no mail server installed.
//!
//! The server is the `mailin-embedded` crate (with its OpenSSL backend, so
//! no third TLS stack comes in), listening on 127.0.0.1 port 0. STARTTLS
//! uses a certificate from a throw-away CA made at start (rcgen, ECDSA),
//! which the demo's own client trusts, so the verdict reads "trusted". AUTH
//! PLAIN and LOGIN take the demo credentials. What the server receives goes
//! into an in-memory inbox that `:demo inbox` and `:demo show N` read.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use mailin_embedded::response::{self, Response};
use mailin_embedded::{AuthMechanism, Handler, Server, SslConfig};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use thiserror::Error;

/// The demo user.
pub const USER: &str = "demo";

/// Messages kept at most; the oldest go first.
const INBOX_LIMIT: usize = 100;
/// Bytes kept of one message.
const MESSAGE_LIMIT: usize = 10 * 1024 * 1024;

/// A message the demo server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The message as received (dot-unstuffed).
    pub data: Vec<u8>,
    /// Whether it came over TLS, as far as the server knows.
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

fn inbox() -> &'static Mutex<Vec<Received>> {
    static INBOX: OnceLock<Mutex<Vec<Received>>> = OnceLock::new();
    INBOX.get_or_init(|| Mutex::new(Vec::new()))
}

/// The messages received so far.
pub fn messages() -> Vec<Received> {
    inbox().lock().map(|m| m.clone()).unwrap_or_default()
}

/// Starts the demo server on a thread of its own.
pub fn start() -> Result<Demo, DemoError> {
    let dir = tempfile::tempdir().map_err(|e| DemoError::Certificates(e.to_string()))?;
    let (ca_pem, cert_pem, key_pem) = certificates()?;
    let write = |name: &str, text: &str| -> Result<String, DemoError> {
        let path = dir.path().join(name);
        std::fs::write(&path, text).map_err(|e| DemoError::Certificates(e.to_string()))?;
        Ok(path.to_string_lossy().into_owned())
    };
    let ca_file = write("demo-ca.pem", &ca_pem)?;
    let cert_path = write("demo-cert.pem", &cert_pem)?;
    let key_path = write("demo-key.pem", &key_pem)?;

    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| DemoError::Server(e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| DemoError::Server(e.to_string()))?;
    let password = password();
    let mut server = Server::new(DemoHandler::new(password.clone()));
    server
        .with_name("demo.smtpcli.invalid")
        .with_ssl(SslConfig::Trusted {
            cert_path,
            key_path,
            chain_path: ca_file.clone(),
        })
        .map_err(|e| DemoError::Server(e.to_string()))?
        .with_auth(AuthMechanism::Plain)
        .with_auth(AuthMechanism::Login)
        .with_num_threads(4)
        .with_tcp_listener(listener);
    std::thread::Builder::new()
        .name("demo-smtp-server".into())
        .spawn(move || {
            // It serves until the process ends; an error here has no one to
            // tell but the client, which will see the connection fail.
            let _ = server.serve();
        })
        .map_err(|e| DemoError::Server(e.to_string()))?;
    Ok(Demo {
        addr,
        ca_file: PathBuf::from(ca_file),
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

/// The server's side of each connection.
#[derive(Clone)]
struct DemoHandler {
    password: String,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
    authenticated: bool,
}

impl DemoHandler {
    fn new(password: String) -> Self {
        DemoHandler {
            password,
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
            authenticated: false,
        }
    }

    fn login(&mut self, user: &str, password: &str) -> Response {
        if user == USER && password == self.password {
            self.authenticated = true;
            response::AUTH_OK
        } else {
            response::INVALID_CREDENTIALS
        }
    }
}

impl Handler for DemoHandler {
    fn rcpt(&mut self, to: &str) -> Response {
        // One address that does not exist, to see a refusal explained.
        if to.to_ascii_lowercase().starts_with("nosuchuser@") {
            return Response::custom(550, "5.1.1 No such user here".to_string());
        }
        response::OK
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let room = MESSAGE_LIMIT.saturating_sub(self.data.len());
        self.data.extend_from_slice(&buf[..buf.len().min(room)]);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let message = Received {
            from: std::mem::take(&mut self.from),
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
            authenticated: self.authenticated,
        };
        let n = match inbox().lock() {
            Ok(mut inbox) => {
                if inbox.len() >= INBOX_LIMIT {
                    inbox.remove(0);
                }
                inbox.push(message);
                inbox.len()
            }
            Err(_) => return response::INTERNAL_ERROR,
        };
        Response::custom(250, format!("2.0.0 Ok: queued as demo-{n}"))
    }

    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        self.login(user, password)
    }

    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        self.login(user, password)
    }
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
