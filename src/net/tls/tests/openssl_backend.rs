//! The openssl backend against an OpenSSL server: a trusted chain fully
//! reported, each certificate problem named (and refused under `--verify`,
//! inside the handshake), client certificates, unreadable files, and TLS 1.0
//! against `openssl s_server`.

use super::*;

#[tokio::test]
async fn a_complete_chain_to_the_ca_file_is_trusted_and_fully_reported() {
    let pki = Pki::new();
    let (addr, server) = serve(&pki, Serve::leaf(Leaf::Good)).await;
    let mut s = settings(Backend::OpenSsl, "localhost");
    s.ca_file = Some(pki.ca_file());
    let (stream, report) = run(addr, &s).await.unwrap();
    assert!(stream.is_tls());
    assert_eq!(report.verdict, Verdict::Trusted, "{}", report.verdict);
    assert_eq!(report.protocol.as_deref(), Some("TLSv1.3"));
    assert!(
        report
            .cipher
            .as_deref()
            .is_some_and(|c| c.starts_with("TLS_"))
    );
    assert!(report.cipher_bits.is_some_and(|b| b >= 128));
    assert_eq!(report.group.as_deref(), Some("X25519"));
    assert_eq!(report.sni.as_deref(), Some("localhost"));
    assert_eq!(report.checked_name, "localhost");
    assert!(!report.is_obsolete_protocol());
    assert!(report.limitations.is_empty());
    let names: Vec<String> = report
        .chain
        .iter()
        .map(|c| c.subject.unchecked_str().into_owned())
        .collect();
    assert_eq!(names, ["CN=localhost", &format!("CN={INTER}")]);
    assert_eq!(report.chain[0].sans, ["localhost", "127.0.0.1"]);
    assert_eq!(report.chain[0].issuer, format!("CN={INTER}"));
    assert_eq!(chain_pem(&report).matches("BEGIN CERTIFICATE").count(), 2);
    drop(stream);
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_ip_address_is_checked_against_the_ip_sans_and_not_sent_as_sni() {
    let pki = Pki::new();
    let (addr, _server) = serve(&pki, Serve::leaf(Leaf::Good)).await;
    let mut s = settings(Backend::OpenSsl, "127.0.0.1");
    s.ca_file = Some(pki.ca_file());
    let (_, report) = run(addr, &s).await.unwrap();
    assert_eq!(report.verdict, Verdict::Trusted, "{}", report.verdict);
    assert_eq!(report.sni, None);
}

/// Each fault named as an admin needs it, alone; and under `--verify`
/// the same list refuses the certificate inside the handshake (the
/// server sees it fail).
#[tokio::test]
async fn each_problem_is_named_and_verify_refuses_it() {
    let pki = Pki::new();
    let cases: Vec<(&str, Serve, bool, Problem)> = vec![
        (
            "self-signed",
            Serve::leaf(Leaf::SelfSigned),
            true,
            Problem::SelfSigned {
                subject: "CN=localhost".into(),
            },
        ),
        (
            "expired",
            Serve::leaf(Leaf::Expired),
            true,
            Problem::Expired {
                subject: "CN=localhost".into(),
                not_after: "2001-01-01 00:00:00 UTC".into(),
            },
        ),
        (
            "not yet valid",
            Serve::leaf(Leaf::NotYetValid),
            true,
            Problem::NotYetValid {
                subject: "CN=localhost".into(),
                not_before: "2090-01-01 00:00:00 UTC".into(),
            },
        ),
        (
            "wrong name",
            Serve::leaf(Leaf::WrongName),
            true,
            Problem::NameMismatch {
                name: "localhost".into(),
                sans: vec!["mail.example.org".into()],
            },
        ),
        (
            "intermediate not sent",
            Serve {
                with_intermediate: false,
                ..Serve::leaf(Leaf::Good)
            },
            true,
            Problem::IncompleteChain {
                issuer: format!("CN={INTER}").into(),
            },
        ),
        (
            "root not trusted",
            Serve::leaf(Leaf::Good),
            false,
            Problem::UnknownIssuer {
                issuer: format!("CN={ROOT}").into(),
            },
        ),
    ];
    for (what, serving, trust_root, want) in cases {
        for verify in [false, true] {
            let (addr, server) = serve(&pki, serving.clone()).await;
            let mut s = settings(Backend::OpenSsl, "localhost");
            s.verify = verify;
            s.ca_file = trust_root.then(|| pki.ca_file());
            let outcome = run(addr, &s).await;
            if verify {
                match outcome {
                    Err(TlsError::Rejected(problems)) => {
                        assert_eq!(problems, std::slice::from_ref(&want), "{what}");
                    }
                    other => panic!("{what}: wanted Rejected, got {other:?}"),
                }
                let served = server.await.unwrap();
                assert!(served.is_err(), "{what}: the server finished its handshake");
            } else {
                let (_, report) = outcome.unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(
                    report.verdict,
                    Verdict::Untrusted(vec![want.clone()]),
                    "{what}: {}",
                    report.verdict
                );
            }
        }
    }
}

#[tokio::test]
async fn several_problems_are_all_named() {
    let pki = Pki::new();
    let (addr, _server) = serve(&pki, Serve::leaf(Leaf::Expired)).await;
    let s = settings(Backend::OpenSsl, "mx.example.org");
    let (_, report) = run(addr, &s).await.unwrap();
    let problems = report.verdict.problems();
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::UnknownIssuer { .. })),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::Expired { .. })),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::NameMismatch { name, .. } if name == "mx.example.org")),
        "{problems:?}"
    );
}

#[tokio::test]
async fn a_client_certificate_is_presented_when_given() {
    let pki = Pki::new();
    let (cert, key) = pki.client_files();
    let demanding = || Serve {
        client_ca: Some(pki.root_pem.clone()),
        ..Serve::leaf(Leaf::Good)
    };

    let (addr, server) = serve(&pki, demanding()).await;
    let mut s = settings(Backend::OpenSsl, "localhost");
    s.ca_file = Some(pki.ca_file());
    s.client_cert = Some(cert);
    s.client_key = Some(key);
    let (mut stream, report) = run(addr, &s).await.unwrap();
    assert!(report.is_trusted(), "{}", report.verdict);
    // TLS 1.3 checks the client certificate after the client's side is done.
    stream.write_all(b"x").await.unwrap();
    drop(stream);
    server.await.unwrap().unwrap();

    let (addr, _server) = serve(&pki, demanding()).await;
    s.client_cert = None;
    s.client_key = None;
    let outcome = match run(addr, &s).await {
        // TLS 1.3: the refusal arrives after the handshake, on first read.
        Ok((mut stream, _)) => {
            let mut buf = [0; 16];
            stream
                .read(&mut buf)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    assert!(outcome.is_err(), "{outcome:?}");
}

#[tokio::test]
async fn unreadable_files_are_config_errors_naming_the_file() {
    let pki = Pki::new();
    let (addr, _server) = serve(&pki, Serve::leaf(Leaf::Good)).await;
    let mut s = settings(Backend::OpenSsl, "localhost");
    s.ca_file = Some(pki.dir.path().join("missing.pem"));
    let err = run(addr, &s).await.unwrap_err();
    assert!(matches!(err, TlsError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("missing.pem"), "{err}");

    let (addr, _server) = serve(&pki, Serve::leaf(Leaf::Good)).await;
    s.ca_file = Some(pki.write("junk.pem", "not pem"));
    let err = run(addr, &s).await.unwrap_err();
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
}

/// `--tls-min 1.0` really speaks TLS 1.0 to a server that speaks
/// nothing else (`openssl s_server -tls1`), which the defaults refuse.
#[tokio::test]
async fn tls_1_0_works_against_a_legacy_server_when_asked() {
    let pki = Pki::new();
    let (leaf, key) = pki.leaf(Leaf::Good);
    let (cert_file, key_file) = (pki.write("leaf.pem", &leaf), pki.write("leaf.key", &key));

    let Some(server) = SServer::start(&cert_file, &key_file) else {
        eprintln!("notice: no `openssl` binary; TLS 1.0 interop test skipped");
        return;
    };
    let mut s = settings(Backend::OpenSsl, "localhost");
    s.min = Some(TlsVersion::V1_0);
    let (_, report) = run(server.addr, &s).await.unwrap();
    assert_eq!(report.protocol.as_deref(), Some("TLSv1.0"));
    assert!(report.is_obsolete_protocol());
    drop(server);

    let server = SServer::start(&cert_file, &key_file).unwrap();
    let s = settings(Backend::OpenSsl, "localhost");
    let err = run(server.addr, &s).await.unwrap_err();
    assert!(err.to_string().contains("--tls-min 1.0"), "{err}");
}

/// `openssl s_server` offering TLS 1.0 only, at security level 0.
struct SServer {
    child: std::process::Child,
    addr: SocketAddr,
}

impl SServer {
    fn start(cert: &std::path::Path, key: &std::path::Path) -> Option<SServer> {
        use std::io::BufRead;
        let mut child = std::process::Command::new("openssl")
            .args(["s_server", "-accept", "127.0.0.1:0", "-naccept", "1"])
            .args(["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"])
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let out = child.stdout.take()?;
        let mut server = SServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        for line in std::io::BufReader::new(out).lines() {
            let line = line.ok()?;
            if let Some(addr) = line.strip_prefix("ACCEPT ") {
                server.addr = addr.trim().parse().ok()?;
                return Some(server);
            }
        }
        None
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server that staples a responder's refusal (OCSP `tryLater`): the
/// staple is named invalid, the verdict stands; no staple is absent.
#[tokio::test]
async fn a_staple_that_is_not_ocsp_is_invalid_and_none_is_absent() {
    use ::openssl::pkey::PKey;
    use ::openssl::ssl::{Ssl, SslAcceptor, SslMethod};
    use ::openssl::x509::X509;
    let pki = Pki::new();
    // OCSPResponse { responseStatus tryLater(3) }, no body.
    for staple in [None, Some(vec![0x30, 0x03, 0x0a, 0x01, 0x03])] {
        let (leaf_pem, key_pem) = pki.leaf(Leaf::Good);
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
        b.set_groups_list("X25519").unwrap();
        b.set_certificate(&X509::from_pem(leaf_pem.as_bytes()).unwrap())
            .unwrap();
        b.set_private_key(&PKey::private_key_from_pem(key_pem.as_bytes()).unwrap())
            .unwrap();
        b.add_extra_chain_cert(X509::from_pem(pki.inter_pem.as_bytes()).unwrap())
            .unwrap();
        if let Some(bytes) = staple.clone() {
            b.set_status_callback(move |ssl| {
                ssl.set_ocsp_status(&bytes)?;
                Ok(true)
            })
            .unwrap();
        }
        let acceptor = b.build();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let ssl = Ssl::new(acceptor.context()).unwrap();
            let mut tls = tokio_openssl::SslStream::new(ssl, tcp).unwrap();
            let _ = std::pin::Pin::new(&mut tls).accept().await;
            let _ = tls.read(&mut [0; 1]).await;
        });
        let mut s = settings(Backend::OpenSsl, "localhost");
        s.ca_file = Some(pki.ca_file());
        let (stream, report) = run(addr, &s).await.unwrap();
        assert_eq!(report.verdict, Verdict::Trusted, "{}", report.verdict);
        let want = match staple {
            None => Staple::Absent,
            Some(_) => Staple::Invalid("the responder answered with an error (status 3)".into()),
        };
        assert_eq!(report.ocsp, Some(want));
        // The leaf's TLSA record and the names, from the same chain.
        let tlsa = report.tlsa();
        assert!(tlsa[0].as_ref().unwrap().to_string().starts_with("3 1 1 "));
        assert!(tlsa[1].as_ref().unwrap().to_string().starts_with("2 1 1 "));
        let names = report.names.as_ref().unwrap();
        assert_eq!(names.first_match().unwrap().1.shown(), "DNS:localhost");
        drop(stream);
        server.await.unwrap();
    }
}
