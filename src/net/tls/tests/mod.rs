//! Handshakes against servers the tests start on loopback: certificates
//! made by rcgen at test time (a root, an intermediate, and leaves that are
//! good, expired, not yet valid, for the wrong name, or self-signed), a TLS
//! server from OpenSSL's `SslAcceptor` (native-tls's acceptor when only that
//! backend is built), `openssl s_server` for TLS 1.0, and a plaintext SMTP
//! greeter. Each asserts what an admin would read: the verdict's problems,
//! `--verify` turning them into a refusal, the hint for a wrong port.

// The client-certificate test needs the openssl server; without it, its
// helpers have no caller.
#![cfg_attr(not(feature = "openssl"), allow(dead_code))]

use std::net::SocketAddr;
use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, date_time_ymd,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::*;

/// The leaves the tests serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leaf {
    /// For localhost and 127.0.0.1, issued by the intermediate.
    Good,
    /// Like `Good`, but expired in 2001.
    Expired,
    /// Like `Good`, but valid from 2090.
    NotYetValid,
    /// For mail.example.org only.
    WrongName,
    /// For localhost, signed by itself.
    SelfSigned,
}

/// A test PKI: root → intermediate → leaves, and a directory for files.
struct Pki {
    dir: tempfile::TempDir,
    root_pem: String,
    inter_pem: String,
    root: Issuer<'static, KeyPair>,
    inter: Issuer<'static, KeyPair>,
}

const ROOT: &str = "smtpcli test root";
const INTER: &str = "smtpcli test intermediate";

fn named(cn: &str, sans: &[&str]) -> CertificateParams {
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2080, 1, 1);
    params
}

fn ca(cn: &str) -> CertificateParams {
    let mut params = named(cn, &[]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl Pki {
    fn new() -> Pki {
        let root_key = KeyPair::generate().unwrap();
        let root_params = ca(ROOT);
        let root_cert = root_params.self_signed(&root_key).unwrap();
        let root = Issuer::new(root_params, root_key);
        let inter_key = KeyPair::generate().unwrap();
        let inter_params = ca(INTER);
        let inter_cert = inter_params.signed_by(&inter_key, &root).unwrap();
        Pki {
            dir: tempfile::tempdir().unwrap(),
            root_pem: root_cert.pem(),
            inter_pem: inter_cert.pem(),
            root,
            inter: Issuer::new(inter_params, inter_key),
        }
    }

    /// The leaf's PEM and its PKCS#8 key.
    fn leaf(&self, leaf: Leaf) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let sans: &[&str] = match leaf {
            Leaf::WrongName => &["mail.example.org"],
            _ => &["localhost", "127.0.0.1"],
        };
        let mut params = named(sans[0], sans);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        match leaf {
            Leaf::Expired => {
                params.not_before = date_time_ymd(2000, 1, 1);
                params.not_after = date_time_ymd(2001, 1, 1);
            }
            Leaf::NotYetValid => {
                params.not_before = date_time_ymd(2090, 1, 1);
                params.not_after = date_time_ymd(2091, 1, 1);
            }
            _ => {}
        }
        let cert = match leaf {
            Leaf::SelfSigned => params.self_signed(&key).unwrap(),
            _ => params.signed_by(&key, &self.inter).unwrap(),
        };
        (cert.pem(), key.serialize_pem())
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn ca_file(&self) -> PathBuf {
        self.write("root.pem", &self.root_pem)
    }

    /// A client certificate issued by the root, and its key, as files.
    fn client_files(&self) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().unwrap();
        let mut params = named("smtpcli test client", &[]);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.root).unwrap();
        (
            self.write("client.pem", &cert.pem()),
            self.write("client.key", &key.serialize_pem()),
        )
    }
}

/// What a test server sends and wants.
#[derive(Clone)]
struct Serve {
    leaf: Leaf,
    with_intermediate: bool,
    /// Demand a client certificate issued by the root.
    client_ca: Option<String>,
}

impl Serve {
    fn leaf(leaf: Leaf) -> Serve {
        Serve {
            leaf,
            with_intermediate: true,
            client_ca: None,
        }
    }
}

/// Starts a one-connection TLS server; the handle says how its side of the
/// handshake ended.
async fn serve(pki: &Pki, how: Serve) -> (SocketAddr, JoinHandle<Result<(), String>>) {
    let (leaf_pem, key_pem) = pki.leaf(how.leaf);
    let chain = if how.with_intermediate && how.leaf != Leaf::SelfSigned {
        vec![pki.inter_pem.clone()]
    } else {
        vec![]
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = acceptor(&leaf_pem, &key_pem, &chain, how.client_ca.as_deref());
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
        accept(tcp).await
    });
    (addr, task)
}

type Accept = Box<
    dyn FnOnce(TcpStream) -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
        + Send,
>;

#[cfg(feature = "openssl")]
fn acceptor(leaf: &str, key: &str, chain: &[String], client_ca: Option<&str>) -> Accept {
    use ::openssl::pkey::PKey;
    use ::openssl::ssl::{Ssl, SslAcceptor, SslMethod, SslVerifyMode};
    use ::openssl::x509::X509;
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    // A group every OpenSSL can name (3.5 prefers a hybrid the crate cannot).
    b.set_groups_list("X25519").unwrap();
    b.set_certificate(&X509::from_pem(leaf.as_bytes()).unwrap())
        .unwrap();
    b.set_private_key(&PKey::private_key_from_pem(key.as_bytes()).unwrap())
        .unwrap();
    for cert in chain {
        b.add_extra_chain_cert(X509::from_pem(cert.as_bytes()).unwrap())
            .unwrap();
    }
    if let Some(ca) = client_ca {
        b.cert_store_mut()
            .add_cert(X509::from_pem(ca.as_bytes()).unwrap())
            .unwrap();
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    }
    let acceptor = b.build();
    Box::new(move |tcp| {
        Box::pin(async move {
            let ssl = Ssl::new(acceptor.context()).map_err(|e| e.to_string())?;
            let mut tls = tokio_openssl::SslStream::new(ssl, tcp).map_err(|e| e.to_string())?;
            std::pin::Pin::new(&mut tls)
                .accept()
                .await
                .map_err(|e| e.to_string())?;
            // Hold the connection until the client goes.
            let _ = tls.read(&mut [0; 1]).await;
            Ok(())
        })
    })
}

#[cfg(all(feature = "native-tls", not(feature = "openssl")))]
fn acceptor(leaf: &str, key: &str, chain: &[String], client_ca: Option<&str>) -> Accept {
    assert!(
        client_ca.is_none(),
        "native test server: no client certificates"
    );
    let full = format!("{leaf}{}", chain.concat());
    let identity = native_tls::Identity::from_pkcs8(full.as_bytes(), key.as_bytes()).unwrap();
    let acceptor =
        tokio_native_tls::TlsAcceptor::from(native_tls::TlsAcceptor::new(identity).unwrap());
    Box::new(move |tcp| {
        Box::pin(async move {
            let mut tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
            let _ = tls.read(&mut [0; 1]).await;
            Ok(())
        })
    })
}

#[cfg(not(any(feature = "openssl", feature = "native-tls")))]
fn acceptor(_: &str, _: &str, _: &[String], _: Option<&str>) -> Accept {
    Box::new(|_| Box::pin(async { Err("no TLS in this build".to_string()) }))
}

fn settings(backend: Backend, name: &str) -> TlsSettings {
    TlsSettings {
        backend,
        ..TlsSettings::new(name)
    }
}

async fn run(addr: SocketAddr, s: &TlsSettings) -> Result<(Stream, TlsReport), TlsError> {
    handshake(TcpStream::connect(addr).await.unwrap(), s).await
}

#[cfg(feature = "native-tls")]
mod native_backend;
#[cfg(feature = "openssl")]
mod openssl_backend;

#[tokio::test]
async fn a_plaintext_greeting_says_try_starttls() {
    for &backend in Backend::built() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            tcp.write_all(b"220 hello\r\n").await.unwrap();
            let _ = tcp.read(&mut [0; 512]).await;
        });
        let err = run(addr, &settings(backend, "localhost"))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, TlsError::Handshake { hint: Some(h), .. } if h.contains("try --starttls")),
            "{backend}: {text}"
        );
        assert!(text.contains("\"220 hello\""), "{backend}: {text}");
        server.abort();
    }
}

#[tokio::test]
async fn a_backend_not_built_is_named() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    for backend in [Backend::OpenSsl, Backend::Native] {
        if backend.is_built() {
            continue;
        }
        let err = run(addr, &settings(backend, "localhost"))
            .await
            .unwrap_err();
        if Backend::built().is_empty() {
            assert!(matches!(err, TlsError::NoBackend), "{err:?}");
            assert!(err.to_string().contains("no TLS backend"), "{err}");
        } else {
            assert!(
                matches!(err, TlsError::BackendNotBuilt(b) if b == backend),
                "{err:?}"
            );
        }
    }
}

/// OpenSMTPD on Debian 12 answers every handshake with an internal-error
/// alert (its bug, not ours): the hint says whose side failed.
#[test]
fn an_internal_error_alert_is_the_servers_side() {
    let hint = hint_for(
        "tlsv1 alert internal error",
        false,
        &TlsSettings::new("localhost"),
    );
    assert!(hint.is_some_and(|h| h.contains("the server failed inside its own TLS code")));
}
