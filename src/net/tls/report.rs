//! The TLS report: what was negotiated, the certificates, and the verdict on
//! them with each problem named in an admin's words.
//!
//! These are plain values, filled by a backend and read by the session and
//! the renderer; nothing here talks to the network or decides how a report
//! looks on screen beyond the `Display` of a problem or verdict.

use crate::text::Untrusted;
use std::fmt;

use super::Backend;
use super::cert::CertInfo;
use super::dane::NameTable;

/// What a handshake established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsReport {
    /// The backend that ran the handshake.
    pub backend: Backend,
    /// The protocol, `TLSv1.3`; `None` if the backend cannot tell.
    pub protocol: Option<String>,
    /// The cipher suite, OpenSSL's name; `None` if the backend cannot tell.
    pub cipher: Option<String>,
    /// The cipher's secret bits.
    pub cipher_bits: Option<u32>,
    /// The cipher's algorithm bits (Postfix's `256/256`: secret/algorithm).
    pub cipher_alg_bits: Option<u32>,
    /// The key exchange group, `X25519`, `P-256`, `DH 2048`.
    pub group: Option<String>,
    /// The SNI sent, if any.
    pub sni: Option<String>,
    /// The name the certificate was checked against (empty: none).
    pub checked_name: String,
    /// Whether the certificate is to be trusted, and if not, why.
    pub verdict: Verdict,
    /// The certificates the server sent, leaf first (native-tls: the leaf
    /// only).
    pub chain: Vec<CertInfo>,
    /// What this backend could not report or check, in plain words.
    pub limitations: Vec<String>,
    /// The key exchange and the server's signature, as Postfix logs them.
    pub key_exchange: KeyExchange,
    /// The names the client has for the server against the leaf's names.
    pub names: Option<NameTable>,
    /// The OCSP staple, if one was asked for.
    pub ocsp: Option<Staple>,
    /// Whether this handshake resumed an earlier session.
    pub resumed: bool,
}

/// The key exchange and the server's signature, in Postfix's words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyExchange {
    /// The group as OpenSSL and Postfix name it (`X25519`, `prime256v1`),
    /// or by its IANA number.
    pub group: Option<String>,
    /// The signature algorithm: `RSA-PSS`, `RSA`, `ECDSA`, `ED25519`.
    pub signature: Option<String>,
    /// The signing key's size: `2048 bits`, or its curve `prime256v1`.
    pub signature_key: Option<String>,
    /// The digest signed: `SHA256` (none for EdDSA).
    pub digest: Option<String>,
}

/// What the server stapled (RFC 6066 §8), checked against the issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Staple {
    /// No staple came.
    Absent,
    /// A staple came but says nothing usable about the leaf, or does not
    /// verify; the text says why.
    Invalid(String),
    /// The responder's word on the leaf, signed by the issuer (or its
    /// delegated responder).
    Status {
        /// `good`, `revoked` or `unknown`.
        status: OcspStatus,
        /// For `revoked`: when, and the reason if given.
        revoked: Option<String>,
        /// `thisUpdate`.
        this_update: String,
        /// `nextUpdate`, if given.
        next_update: Option<String>,
        /// A problem with the dates (stale, in the future), if any.
        problem: Option<String>,
    },
}

/// A certificate's status in an OCSP response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcspStatus {
    /// Not revoked.
    Good,
    /// Revoked.
    Revoked,
    /// The responder does not know the certificate.
    Unknown,
}

impl fmt::Display for OcspStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OcspStatus::Good => "good",
            OcspStatus::Revoked => "revoked",
            OcspStatus::Unknown => "unknown",
        })
    }
}

impl fmt::Display for Staple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Staple::Absent => f.write_str("absent: the server stapled no OCSP response"),
            Staple::Invalid(why) => write!(f, "INVALID: {why}"),
            Staple::Status {
                status,
                revoked,
                this_update,
                next_update,
                problem,
            } => {
                match status {
                    OcspStatus::Revoked => write!(f, "REVOKED")?,
                    other => write!(f, "{other}")?,
                }
                if let Some(when) = revoked {
                    write!(f, " ({when})")?;
                }
                write!(f, ", thisUpdate {this_update}")?;
                match next_update {
                    Some(next) => write!(f, ", nextUpdate {next}")?,
                    None => write!(f, ", no nextUpdate")?,
                }
                f.write_str(", signature verified against the issuer")?;
                if let Some(problem) = problem {
                    write!(f, "; {problem}")?;
                }
                Ok(())
            }
        }
    }
}

impl TlsReport {
    /// Whether the protocol is TLS 1.0, TLS 1.1 or SSL (RFC 8996).
    pub fn is_obsolete_protocol(&self) -> bool {
        matches!(
            self.protocol.as_deref(),
            Some("TLSv1" | "TLSv1.0" | "TLSv1.1" | "SSLv3" | "SSLv2")
        )
    }

    /// Whether the verdict is [`Verdict::Trusted`].
    pub fn is_trusted(&self) -> bool {
        self.verdict == Verdict::Trusted
    }

    /// The server's own certificate, if it sent one.
    pub fn leaf(&self) -> Option<&CertInfo> {
        self.chain.first()
    }

    /// The handshake in Postfix's log form: `TLSv1.3 with cipher
    /// TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519
    /// server-signature RSA-PSS (2048 bits) server-digest SHA256`. What the
    /// backend could not tell is left out.
    pub fn postfix_line(&self) -> String {
        let mut out = self.protocol.clone().unwrap_or_else(|| "TLS".to_string());
        if let Some(cipher) = &self.cipher {
            out.push_str(&format!(" with cipher {cipher}"));
            match (self.cipher_bits, self.cipher_alg_bits) {
                (Some(s), Some(a)) => out.push_str(&format!(" ({s}/{a} bits)")),
                (Some(s), None) => out.push_str(&format!(" ({s} bits)")),
                _ => {}
            }
        }
        let kx = &self.key_exchange;
        if let Some(group) = &kx.group {
            out.push_str(&format!(" key-exchange {group}"));
        }
        if let Some(signature) = &kx.signature {
            out.push_str(&format!(" server-signature {signature}"));
            if let Some(key) = &kx.signature_key {
                out.push_str(&format!(" ({key})"));
            }
        }
        if let Some(digest) = &kx.digest {
            out.push_str(&format!(" server-digest {digest}"));
        }
        out
    }

    /// The TLSA record (SPKI, SHA-256) each certificate of the chain
    /// matches: `3 1 1 …` for the leaf, `2 1 1 …` for an issuer.
    pub fn tlsa(&self) -> Vec<Option<super::dane::Tlsa>> {
        self.chain
            .iter()
            .enumerate()
            .map(|(depth, cert)| super::dane::Tlsa::for_depth(depth, &cert.der))
            .collect()
    }
}

/// The verdict on the server's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The chain leads to a trusted root, and the name and dates are right.
    Trusted,
    /// Not to be trusted, for these reasons (at least one).
    Untrusted(Vec<Problem>),
    /// The backend cannot say whether the chain is trusted, and the checks
    /// smtpcli could make itself found nothing wrong; the text says which.
    NotVerified(String),
}

impl Verdict {
    /// The problems found (none for `Trusted` and `NotVerified`).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Verdict::Untrusted(problems) => problems,
            _ => &[],
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Trusted => f.write_str("trusted"),
            Verdict::Untrusted(problems) => write!(f, "NOT trusted: {}", join(problems)),
            Verdict::NotVerified(what) => write!(f, "not verified by this backend: {what}"),
        }
    }
}

/// One thing wrong with the server's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The leaf is signed by itself and is not a trusted root.
    SelfSigned {
        /// The certificate's subject.
        subject: Untrusted,
    },
    /// The chain ends at a root this machine does not trust.
    UnknownIssuer {
        /// The last certificate's issuer: the root that is not trusted.
        issuer: Untrusted,
    },
    /// The leaf's issuer was neither sent nor known here: most likely the
    /// server does not send its intermediate certificate.
    IncompleteChain {
        /// The issuer that is missing.
        issuer: Untrusted,
    },
    /// A certificate of the chain has expired.
    Expired {
        /// Its subject.
        subject: Untrusted,
        /// When it expired.
        not_after: String,
    },
    /// A certificate of the chain is not valid yet.
    NotYetValid {
        /// Its subject.
        subject: Untrusted,
        /// When it becomes valid.
        not_before: String,
    },
    /// The certificate is not for the name that was checked.
    NameMismatch {
        /// The name checked.
        name: String,
        /// The names the certificate is for (its SANs).
        sans: Vec<Untrusted>,
    },
    /// The server's own OCSP staple says its certificate is revoked.
    Revoked {
        /// The certificate's subject.
        subject: Untrusted,
        /// When, and why if the responder said.
        detail: String,
    },
    /// Anything else, in the backend's words.
    Other(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::SelfSigned { subject } => write!(
                f,
                "self-signed certificate ({}): no trusted authority vouches for it",
                subject.escaped()
            ),
            Problem::UnknownIssuer { issuer } => write!(
                f,
                "unknown root: the chain ends at {}, which this machine does not trust \
                 (a private CA needs --ca-file)",
                issuer.escaped()
            ),
            Problem::IncompleteChain { issuer } => write!(
                f,
                "incomplete chain: the server did not send its issuer's certificate ({}) \
                 and this machine does not have it; the server probably does not send its \
                 intermediate certificate",
                issuer.escaped()
            ),
            Problem::Expired { subject, not_after } => {
                write!(f, "expired on {not_after} ({})", subject.escaped())
            }
            Problem::NotYetValid {
                subject,
                not_before,
            } => write!(f, "not valid before {not_before} ({})", subject.escaped()),
            Problem::NameMismatch { name, sans } if sans.is_empty() => write!(
                f,
                "name mismatch: the certificate names no host, and {} was expected",
                crate::text::escape_str(name)
            ),
            Problem::NameMismatch { name, sans } => write!(
                f,
                "name mismatch: the certificate is for {}, not for {}",
                crate::text::join_escaped(sans),
                crate::text::escape_str(name)
            ),
            Problem::Revoked { subject, detail } => write!(
                f,
                "revoked: the server's own OCSP staple says so ({detail}) ({})",
                subject.escaped()
            ),
            Problem::Other(text) => f.write_str(text),
        }
    }
}

/// Problems as one line, `; ` between them.
pub(super) fn join(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Pushes `problem` unless an equal one is there (OpenSSL may report the
/// same fault at two stages).
#[cfg_attr(not(feature = "openssl"), allow(dead_code))]
pub(super) fn push_unique(problems: &mut Vec<Problem>, problem: Problem) {
    if !problems.contains(&problem) {
        problems.push(problem);
    }
}

/// The chain the server sent as PEM, leaf first, for `:tls pem`.
pub fn chain_pem(report: &TlsReport) -> String {
    use base64::Engine as _;
    let mut out = String::new();
    for cert in &report.chain {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let text = base64::engine::general_purpose::STANDARD.encode(&cert.der);
        for line in text.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(protocol: &str, chain: Vec<CertInfo>) -> TlsReport {
        TlsReport {
            backend: Backend::OpenSsl,
            protocol: Some(protocol.into()),
            cipher: None,
            cipher_bits: None,
            cipher_alg_bits: None,
            group: None,
            sni: None,
            checked_name: String::new(),
            verdict: Verdict::Trusted,
            chain,
            limitations: Vec::new(),
            key_exchange: KeyExchange::default(),
            names: None,
            ocsp: None,
            resumed: false,
        }
    }

    #[test]
    fn obsolete_protocols() {
        for (p, old) in [
            ("TLSv1", true),
            ("TLSv1.0", true),
            ("TLSv1.1", true),
            ("TLSv1.2", false),
            ("TLSv1.3", false),
        ] {
            assert_eq!(report(p, vec![]).is_obsolete_protocol(), old, "{p}");
        }
    }

    #[test]
    fn problems_in_words() {
        let cases = [
            (
                Problem::NameMismatch {
                    name: "mx.example.org".into(),
                    sans: vec!["a.example.com".into(), "192.0.2.1".into()],
                },
                "name mismatch: the certificate is for a.example.com, 192.0.2.1, not for mx.example.org",
            ),
            (
                Problem::Expired {
                    subject: "CN=a".into(),
                    not_after: "2020-01-01 00:00:00 UTC".into(),
                },
                "expired on 2020-01-01 00:00:00 UTC (CN=a)",
            ),
            (Problem::Other("x".into()), "x"),
        ];
        for (problem, text) in cases {
            assert_eq!(problem.to_string(), text);
        }
        let v = Verdict::Untrusted(vec![
            Problem::SelfSigned {
                subject: "CN=a".into(),
            },
            Problem::Other("y".into()),
        ]);
        assert!(v.to_string().starts_with("NOT trusted: self-signed"), "{v}");
        assert!(v.to_string().ends_with("; y"), "{v}");
    }

    #[test]
    fn pem_wraps_at_64() {
        let der: Vec<u8> = (0..=255).collect();
        let cert = CertInfo::describe(&der);
        let pem = chain_pem(&report("TLSv1.3", vec![cert.clone(), cert]));
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----\n").count(), 2);
        assert!(pem.lines().all(|l| l.len() <= 64 || l.starts_with("-----")));
        let body: String = pem
            .lines()
            .take_while(|l| !l.starts_with("-----END"))
            .skip(1)
            .collect();
        use base64::Engine as _;
        let back = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        assert_eq!(back, der);
    }

    #[test]
    fn duplicates_are_dropped() {
        let mut v = Vec::new();
        push_unique(&mut v, Problem::Other("a".into()));
        push_unique(&mut v, Problem::Other("a".into()));
        assert_eq!(v.len(), 1);
    }
}
