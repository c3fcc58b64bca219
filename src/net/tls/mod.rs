//! TLS on a connection: one handshake function over two backends, and the
//! report an admin reads afterwards.
//!
//! [`handshake`] takes a connected TCP stream (fresh for `--tls`, or taken
//! out of the plain [`Stream`] after a `220` to STARTTLS) and returns the TLS
//! [`Stream`] with a [`TlsReport`]: protocol, cipher, key exchange group, the
//! certificates and the verdict on them. The policy is a diagnostic tool's:
//! the handshake goes on past certificate problems and the verdict names
//! them, unless [`TlsSettings::verify`] is set, when any problem ends it with
//! [`TlsError::Rejected`].
//!
//! The backends are cargo features: `openssl` (the default; the full report,
//! TLS 1.0/1.1 for legacy servers) and `native-tls` (the platform's TLS and
//! trust store; it can report the leaf certificate only). With both built,
//! [`TlsSettings::backend`] chooses; with neither, [`handshake`] returns
//! [`TlsError::NoBackend`]. This module decides nothing about terminals and
//! prints nothing; timeouts are the caller's (wrap [`handshake`] in one).

// Without a backend, the helpers the backends share have no caller.
#![cfg_attr(
    not(any(feature = "openssl", feature = "native-tls")),
    allow(dead_code)
)]

mod cert;
pub mod dane;
// Only the openssl backend reads the server's flight.
#[cfg_attr(not(feature = "openssl"), allow(dead_code))]
mod flight;
#[cfg(feature = "native-tls")]
mod native;
#[cfg(feature = "openssl")]
mod openssl;
mod report;
#[cfg(test)]
mod tests;
mod wire;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use thiserror::Error;
use tokio::net::TcpStream;

use super::stream::Stream;

pub use cert::CertInfo;
pub use report::{KeyExchange, OcspStatus, Problem, Staple, TlsReport, Verdict, chain_pem};
pub use wire::Wire;
use wire::{is_tls_record, looks_like_smtp, printable};

/// Which TLS implementation runs the handshake (`--tls-backend`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// OpenSSL through `openssl` + `tokio-openssl`: the full report.
    OpenSsl,
    /// The platform's TLS through `native-tls` + `tokio-native-tls`.
    Native,
}

impl Backend {
    /// The backends compiled into this build, the default first.
    pub const fn built() -> &'static [Backend] {
        &[
            #[cfg(feature = "openssl")]
            Backend::OpenSsl,
            #[cfg(feature = "native-tls")]
            Backend::Native,
        ]
    }

    /// Whether this backend is compiled into this build.
    pub fn is_built(self) -> bool {
        Backend::built().contains(&self)
    }
}

impl Default for Backend {
    /// OpenSSL when it is built, else native-tls.
    fn default() -> Self {
        match Backend::built().first() {
            Some(backend) => *backend,
            None => Backend::OpenSsl,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::OpenSsl => "openssl",
            Backend::Native => "native-tls",
        })
    }
}

impl FromStr for Backend {
    type Err = ParseError;

    /// `openssl`, or `native` / `native-tls`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "openssl" => Ok(Backend::OpenSsl),
            "native" | "native-tls" => Ok(Backend::Native),
            _ => Err(ParseError::Backend(s.to_string())),
        }
    }
}

/// A TLS protocol version (`--tls-min`, `--tls-max`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    /// TLS 1.0 (RFC 2246), obsolete (RFC 8996).
    V1_0,
    /// TLS 1.1 (RFC 4346), obsolete (RFC 8996).
    V1_1,
    /// TLS 1.2 (RFC 5246).
    V1_2,
    /// TLS 1.3 (RFC 8446).
    V1_3,
}

impl TlsVersion {
    /// Whether RFC 8996 retired this version.
    pub fn is_obsolete(self) -> bool {
        self <= TlsVersion::V1_1
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::V1_0 => "TLSv1.0",
            TlsVersion::V1_1 => "TLSv1.1",
            TlsVersion::V1_2 => "TLSv1.2",
            TlsVersion::V1_3 => "TLSv1.3",
        })
    }
}

impl FromStr for TlsVersion {
    type Err = ParseError;

    /// `1.0` … `1.3`; `TLSv1.2`, `tls1.2` and `1` (for 1.0) are accepted too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let bare = lower
            .strip_prefix("tlsv")
            .or_else(|| lower.strip_prefix("tls"))
            .unwrap_or(&lower);
        match bare {
            "1" | "1.0" => Ok(TlsVersion::V1_0),
            "1.1" => Ok(TlsVersion::V1_1),
            "1.2" => Ok(TlsVersion::V1_2),
            "1.3" => Ok(TlsVersion::V1_3),
            _ => Err(ParseError::Version(s.to_string())),
        }
    }
}

/// A `--tls-backend` or `--tls-min`/`--tls-max` value that is not one.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// Not a backend name.
    #[error("'{0}' is not a TLS backend: use openssl or native")]
    Backend(String),
    /// Not a TLS version.
    #[error("'{0}' is not a TLS version: use 1.0, 1.1, 1.2 or 1.3")]
    Version(String),
}

/// How to run a handshake: the TLS flags, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// The implementation to use.
    pub backend: Backend,
    /// `--verify`: any certificate problem ends the handshake.
    pub verify: bool,
    /// The name sent as SNI; `None` for `--no-sni`. An IP address is never
    /// sent (RFC 6066 §3 allows host names only).
    pub sni: Option<String>,
    /// The name the certificate is checked against: HOST, the MX name, or
    /// `--sni`. An IP address is checked against the IP SANs. Empty: no
    /// name check.
    pub check_name: String,
    /// `--ca-file`: more trusted roots (PEM), on top of the system's. A
    /// directory of hashed certificates works with the openssl backend.
    pub ca_file: Option<PathBuf>,
    /// `--cert`: the client certificate (PEM; intermediates may follow).
    pub client_cert: Option<PathBuf>,
    /// `--key`: the client certificate's key (PEM); `None` looks for it in
    /// the `client_cert` file.
    pub client_key: Option<PathBuf>,
    /// `--tls-min`; 1.0 or 1.1 also lowers OpenSSL's security level to 0.
    pub min: Option<TlsVersion>,
    /// `--tls-max`.
    pub max: Option<TlsVersion>,
    /// `--tls-groups`: the key exchange groups to offer, in order
    /// (OpenSSL's names, `X25519:prime256v1`).
    pub groups: Option<String>,
    /// `--ciphers`: the cipher suites to offer; `TLS_…` names are TLS 1.3
    /// suites, the others OpenSSL's TLS 1.2 cipher list.
    pub ciphers: Option<String>,
    /// `--name`: more names the certificate may be for; one that matches
    /// is as good as the checked name.
    pub names: Vec<String>,
    /// With `--mx`: the MX host connected to (from DNS).
    pub mx_host: Option<String>,
    /// With `--mx`: the next-hop domain.
    pub next_hop: Option<String>,
}

impl TlsSettings {
    /// The defaults for connecting to `name`: the default backend, no
    /// `--verify`, SNI = `name` (none if it is an IP address), checked
    /// against `name`, system trust store, no client certificate, the
    /// backend's default versions.
    pub fn new(name: impl Into<String>) -> Self {
        let check_name = name.into();
        let sni = (!is_ip(&check_name) && !check_name.is_empty()).then(|| check_name.clone());
        TlsSettings {
            backend: Backend::default(),
            verify: false,
            sni,
            check_name,
            ca_file: None,
            client_cert: None,
            client_key: None,
            min: None,
            max: None,
            groups: None,
            ciphers: None,
            names: Vec::new(),
            mx_host: None,
            next_hop: None,
        }
    }

    /// The names the certificate may be for, each with where it came
    /// from: the name checked, the SNI sent, the MX host and next-hop
    /// domain (`--mx`), and `--name`.
    pub fn candidates(&self) -> Vec<dane::Candidate> {
        use dane::Source;
        let mut names = vec![(self.check_name.as_str(), Source::Checked)];
        if let Some(sni) = self.sni_to_send() {
            names.push((sni, Source::Sni));
        }
        if let Some(mx) = &self.mx_host {
            names.push((mx, Source::Mx));
        }
        if let Some(domain) = &self.next_hop {
            names.push((domain, Source::NextHop));
        }
        names.extend(self.names.iter().map(|n| (n.as_str(), Source::Given)));
        dane::candidates(names)
    }

    /// Whether a `--name` name matches the certificate `der`.
    fn given_name_matches(&self, der: &[u8]) -> bool {
        let given = dane::candidates(self.names.iter().map(|n| (n.as_str(), dane::Source::Given)));
        !given.is_empty()
            && dane::match_names(der, given)
                .is_some_and(|table| table.rows.iter().any(|(_, at)| at.is_some()))
    }

    /// The SNI actually sent: [`Self::sni`] unless empty or an IP address.
    fn sni_to_send(&self) -> Option<&str> {
        self.sni
            .as_deref()
            .filter(|name| !name.is_empty() && !is_ip(name))
    }

    /// Whether legacy versions were asked for (`--tls-min 1.0`/`1.1`).
    fn wants_legacy(&self) -> bool {
        self.min.is_some_and(TlsVersion::is_obsolete)
    }
}

fn is_ip(name: &str) -> bool {
    name.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok()
}

/// Why no TLS session came about.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The handshake failed: no version or cipher in common, the server
    /// answered in plaintext, closed the connection, sent an alert, …
    #[error("TLS handshake failed: {reason}{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Handshake {
        /// What went wrong, in words.
        reason: String,
        /// What to try, when there is a likely answer.
        hint: Option<String>,
    },
    /// `--verify` is set and the certificate has these problems.
    #[error("the server's certificate is rejected (--verify): {list}", list = report::join(.0))]
    Rejected(Vec<Problem>),
    /// A TLS setting cannot be used: an unreadable or invalid CA file,
    /// certificate or key, or versions the backend refuses.
    #[error("{0}")]
    Config(String),
    /// The backend asked for is not in this build (another one is).
    #[error("the {0} TLS backend is not in this build (built: {built})", built = built_list())]
    BackendNotBuilt(Backend),
    /// This build has no TLS backend at all.
    #[error(
        "this build of smtpcli has no TLS backend: rebuild it with the openssl or native-tls feature"
    )]
    NoBackend,
}

fn built_list() -> String {
    Backend::built()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs a client handshake on `tcp` as `settings` say.
///
/// On success the stream is `Stream::OpenSsl` or `Stream::Native`, and
/// the report says what was negotiated and what is wrong with the
/// certificate, if anything (the handshake went on regardless unless
/// `settings.verify`). On failure the connection is gone: a new one is
/// needed to try again.
pub async fn handshake(
    tcp: TcpStream,
    settings: &TlsSettings,
) -> Result<(Stream, TlsReport), TlsError> {
    match settings.backend {
        #[cfg(feature = "openssl")]
        Backend::OpenSsl => openssl::handshake(tcp, settings, None).await,
        #[cfg(feature = "native-tls")]
        Backend::Native => native::handshake(tcp, settings).await,
        #[allow(unreachable_patterns)]
        missing => {
            drop(tcp);
            Err(if Backend::built().is_empty() {
                TlsError::NoBackend
            } else {
                TlsError::BackendNotBuilt(missing)
            })
        }
    }
}

/// A TLS session saved from one connection, to offer on another
/// ([`resume`]): a TLS 1.2 session ID or ticket, or a TLS 1.3 ticket.
#[derive(Clone, Debug)]
pub struct SavedSession {
    #[cfg(feature = "openssl")]
    inner: openssl::Saved,
}

impl SavedSession {
    /// How the protocol resumes it: a TLS 1.3 PSK from a ticket, a TLS 1.2
    /// ticket, or a session ID.
    pub fn kind(&self) -> &'static str {
        #[cfg(feature = "openssl")]
        return self.inner.kind();
        #[cfg(not(feature = "openssl"))]
        "none"
    }
}

/// Whether the certificate `child` (DER) carries a signature made with
/// the key of `issuer` (DER): one link of a chain, for DANE-TA. `None`
/// when this build cannot tell (no OpenSSL backend) or a certificate does
/// not read.
pub fn issued_by(child: &[u8], issuer: &[u8]) -> Option<bool> {
    #[cfg(feature = "openssl")]
    {
        let child = ::openssl::x509::X509::from_der(child).ok()?;
        let key = ::openssl::x509::X509::from_der(issuer)
            .ok()?
            .public_key()
            .ok()?;
        child.verify(&key).ok()
    }
    #[cfg(not(feature = "openssl"))]
    {
        let _ = (child, issuer);
        None
    }
}

/// The session the server has given on `stream` so far (TLS 1.3 tickets
/// arrive after the handshake, with the first reply read); `None` for a
/// plain stream, another backend, or a server that gave none.
pub fn saved_session(stream: &Stream) -> Option<SavedSession> {
    match stream {
        #[cfg(feature = "openssl")]
        Stream::OpenSsl(tls) => openssl::saved(tls.ssl()).map(|inner| SavedSession { inner }),
        _ => None,
    }
}

/// Like [`handshake`], offering `saved` for resumption (with the openssl
/// backend; the settings' backend is not consulted). The report's
/// `resumed` says whether the server took it.
pub async fn resume(
    tcp: TcpStream,
    settings: &TlsSettings,
    saved: &SavedSession,
) -> Result<(Stream, TlsReport), TlsError> {
    #[cfg(feature = "openssl")]
    return openssl::handshake(tcp, settings, Some(&saved.inner)).await;
    #[cfg(not(feature = "openssl"))]
    {
        let _ = (tcp, settings, saved);
        Err(TlsError::NoBackend)
    }
}

/// A failed handshake in words: `reason` is the backend's, `seen` what the
/// server had sent. What the server sent wins when it was not TLS.
fn handshake_failed(reason: String, seen: &[u8], settings: &TlsSettings) -> TlsError {
    if let Some(&first) = seen.first()
        && !is_tls_record(first)
    {
        let shown = printable(seen);
        return if looks_like_smtp(seen) {
            TlsError::Handshake {
                reason: format!("the server answered in plaintext, not TLS: \"{shown}\""),
                hint: Some("this server speaks plaintext first: try --starttls".into()),
            }
        } else {
            TlsError::Handshake {
                reason: format!("the server answered with something that is not TLS: \"{shown}\""),
                hint: Some("check the port".into()),
            }
        };
    }
    let hint = hint_for(&reason.to_ascii_lowercase(), seen.is_empty(), settings);
    TlsError::Handshake { reason, hint }
}

/// What to try for a backend's failure text, if there is a likely answer.
fn hint_for(reason: &str, nothing_seen: bool, settings: &TlsSettings) -> Option<String> {
    let has = |words: &[&str]| words.iter().any(|w| reason.contains(w));
    let legacy = if settings.wants_legacy() {
        ""
    } else {
        " (an old server may need --tls-min 1.0)"
    };
    if has(&["certificate required", "peer did not return a certificate"]) {
        Some("the server wants a client certificate: --cert and --key".into())
    } else if has(&[
        "protocol version",
        "unsupported protocol",
        "no protocols available",
        "version too low",
        "wrong ssl version",
    ]) {
        Some(format!(
            "no TLS version in common: check --tls-min/--tls-max{legacy}"
        ))
    } else if has(&["unsafe legacy renegotiation"]) {
        Some("the server lacks secure renegotiation (RFC 5746): --tls-min 1.0 allows it".into())
    } else if has(&["too small", "too weak", "legacy sigalg", "security level"]) {
        Some(format!(
            "the server's keys or signatures are too weak for the default security level{}",
            if settings.wants_legacy() {
                ""
            } else {
                " (--tls-min 1.0 lowers it, for an old server)"
            }
        ))
    } else if has(&[
        "handshake failure",
        "no shared cipher",
        "no cipher",
        "insufficient security",
    ]) {
        Some(format!("no cipher or key exchange in common{legacy}"))
    } else if has(&["internal error"]) {
        Some(
            "the server failed inside its own TLS code (its key, certificate or TLS library), \
             not because of a client setting: its log says more"
                .into(),
        )
    } else if nothing_seen && has(&["closed", "eof", "unexpected eof", "reset"]) {
        Some(format!(
            "the server may not speak TLS on this port, or refused this client's hello{legacy}"
        ))
    } else {
        None
    }
}

/// Refuses `--tls-max` below `--tls-min`.
fn check_versions(settings: &TlsSettings) -> Result<(), TlsError> {
    match (settings.min, settings.max) {
        (Some(min), Some(max)) if max < min => Err(TlsError::Config(format!(
            "--tls-max {max} is below --tls-min {min}"
        ))),
        _ => Ok(()),
    }
}

/// Reads a file a TLS setting names, with the error an admin needs.
fn read_setting_file(path: &std::path::Path, what: &str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| {
        TlsError::Config(format!(
            "cannot read the {what} {}: {}",
            path.display(),
            super::connect::describe_io(&e)
        ))
    })
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn versions_parse_as_admins_type_them() {
        for (text, v) in [
            ("1.0", TlsVersion::V1_0),
            ("1", TlsVersion::V1_0),
            ("1.1", TlsVersion::V1_1),
            ("TLSv1.2", TlsVersion::V1_2),
            ("tls1.3", TlsVersion::V1_3),
        ] {
            assert_eq!(text.parse::<TlsVersion>(), Ok(v), "{text}");
        }
        assert!("1.4".parse::<TlsVersion>().is_err());
        assert!("ssl3".parse::<TlsVersion>().is_err());
        assert!(TlsVersion::V1_1.is_obsolete() && !TlsVersion::V1_2.is_obsolete());
    }

    #[test]
    fn backends_parse() {
        assert_eq!("openssl".parse(), Ok(Backend::OpenSsl));
        assert_eq!("Native".parse(), Ok(Backend::Native));
        assert_eq!("native-tls".parse(), Ok(Backend::Native));
        assert!("rustls".parse::<Backend>().is_err());
        assert_eq!(Backend::built().first().copied(), {
            let d = Backend::default();
            d.is_built().then_some(d)
        });
    }

    #[test]
    fn settings_never_send_an_ip_as_sni() {
        let s = TlsSettings::new("192.0.2.1");
        assert_eq!(s.sni, None);
        assert_eq!(s.check_name, "192.0.2.1");
        let mut s = TlsSettings::new("mx.example.org");
        assert_eq!(s.sni_to_send(), Some("mx.example.org"));
        s.sni = Some("::1".into());
        assert_eq!(s.sni_to_send(), None);
    }

    #[test]
    fn plaintext_answers_are_named() {
        let s = TlsSettings::new("h");
        let err = handshake_failed("wrong version number".into(), b"220 hello\r\n", &s);
        let text = err.to_string();
        assert!(text.contains("\"220 hello\""), "{text}");
        assert!(text.contains("try --starttls"), "{text}");
        let err = handshake_failed("x".into(), b"HTTP/1.1 400\r\n", &s);
        assert!(!err.to_string().contains("starttls"));
        // A TLS alert is TLS: the backend's reason stands.
        let err = handshake_failed(
            "tlsv1 alert protocol version".into(),
            &[0x15, 3, 1, 0, 2, 2, 70],
            &s,
        );
        assert!(err.to_string().contains("--tls-min 1.0"), "{err}");
    }
}
