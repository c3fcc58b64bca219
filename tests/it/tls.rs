//! TLS through the binary: implicit TLS, STARTTLS (typed and `--starttls`),
//! the report, `--verify`, `--ca-file`, STARTTLS injection, and the native
//! backend when it is built. The certificate verdicts themselves are tested
//! against rcgen certificates in `net::tls`.

use crate::support::fake_server::{FakeServer, Step, expect, send};
use crate::support::{need, need_server, smtpcli, text};

fn postfix() -> (String, String) {
    need_server("SMTPCLI_IT_SMTP")
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_starttls_report_says_self_signed() {
    let (host, port) = postfix();
    let out = smtpcli()
        .args(["--color", "never", "--starttls", &host, &port])
        .write_stdin("")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for want in [
        "# TLS: TLSv1.3, cipher TLS_",
        "# warning: certificate: NOT TRUSTED",
        "self-signed certificate (CN=mailserver.example.com)",
        "# [0] subject CN=mailserver.example.com",
        "SANs    mailserver.example.com, localhost, 127.0.0.1",
        " days left)",
        "SHA-256 ",
        "# capabilities after TLS: + AUTH PLAIN LOGIN CRAM-MD5  − STARTTLS",
        "~> QUIT",
    ] {
        assert!(stdout.contains(want), "{want:?} missing:\n{stdout}");
    }
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_starttls_with_verify_exits_2_naming_the_problem() {
    let (host, port) = postfix();
    let out = smtpcli()
        .args(["--starttls", "--verify", &host, &port])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("rejected (--verify): self-signed certificate"),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_starttls_with_ca_file_is_trusted() {
    let (host, port) = postfix();
    let ca = need("SMTPCLI_IT_CA");
    let out = smtpcli()
        .args([
            "--color",
            "never",
            "--starttls",
            "--verify",
            "--ca-file",
            &ca,
            &host,
            &port,
        ])
        .write_stdin("")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("# certificate: trusted"), "{stdout}");
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_implicit_tls_port_without_tls_gets_the_hint() {
    let (host, port) = need_server("SMTPCLI_IT_SMTPS");
    assert_ne!(port, "465", "the point is a port other than 465");
    let out = smtpcli()
        .args(["--color", "never", "--timeout", "4", &host, &port])
        .write_stdin("")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "# no banner after 3 s: a port that speaks TLS from the start (like 465) needs --tls"
        ),
        "{stdout}{}",
        text(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0));
}

#[test]
fn a_silent_server_on_any_port_gets_the_implicit_tls_hint() {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    // Like a server waiting for a ClientHello: it says nothing until the
    // client goes away.
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = Vec::new();
        let _ = stream.read_to_end(&mut buf);
    });
    let out = smtpcli()
        .args(["--color", "never", "--timeout", "4", "127.0.0.1", &port])
        .write_stdin("")
        .output()
        .unwrap();
    server.join().unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "# no banner after 3 s: a port that speaks TLS from the start (like 465) needs --tls"
        ),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("no reply from the server within 4 s"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_implicit_tls_port() {
    let (host, port) = need_server("SMTPCLI_IT_SMTPS");
    let out = smtpcli()
        .args(["--color", "never", "--tls", &host, &port])
        .write_stdin("EHLO pc0815.example.com\n")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("<~ 220 mailserver.example.com ESMTP"),
        "the banner is inside TLS:\n{stdout}"
    );
    assert!(
        stdout.contains("<~ 250-AUTH PLAIN LOGIN CRAM-MD5"),
        "{stdout}"
    );
}

#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_typed_starttls_shows_the_second_ehlo_inside_tls() {
    let (host, port) = postfix();
    let out = smtpcli()
        .args(["--color", "never", &host, &port])
        .write_stdin("EHLO pc0815.example.com\nSTARTTLS\nEHLO pc0815.example.com\n")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let first = stdout.find(">> EHLO").unwrap();
    let second = stdout.find("~> EHLO").expect("the second EHLO inside TLS");
    assert!(
        !stdout[first..second].contains("AUTH"),
        "AUTH offered before TLS:\n{stdout}"
    );
    assert!(
        stdout[second..].contains("<~ 250-AUTH PLAIN LOGIN CRAM-MD5"),
        "{stdout}"
    );
}

#[test]
fn tls_against_a_plaintext_port_says_try_starttls() {
    let server = FakeServer::start(vec![send("220 plain.example.org ESMTP"), Step::ReadToEnd]);
    let out = smtpcli()
        .args(["--tls", "--timeout", "5", "127.0.0.1", &server.port()])
        .write_stdin("")
        .output()
        .unwrap();
    server.finish();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("try --starttls"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn bytes_after_the_starttls_220_are_discarded_and_reported() {
    let server = FakeServer::start(vec![
        send("220 fake ESMTP"),
        expect("STARTTLS"),
        // The injection: a reply smuggled in the same write as the 220.
        Step::Send(b"220 2.0.0 Ready to start TLS\r\n250 injected\r\n".to_vec()),
        // The client now starts a handshake this server cannot finish.
        Step::ReadToEnd,
    ]);
    let out = smtpcli()
        .args([
            "--color",
            "never",
            "--timeout",
            "2",
            "127.0.0.1",
            &server.port(),
        ])
        .write_stdin("STARTTLS\n")
        .output()
        .unwrap();
    server.finish();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "# warning: 14 bytes arrived in plaintext before the TLS handshake and were discarded"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("CVE-2011-0411"), "{stdout}");
    assert!(
        !stdout.contains("<< 250 injected"),
        "shown as a reply:\n{stdout}"
    );
    assert_eq!(out.status.code(), Some(2), "the handshake never finished");
}

#[test]
fn starttls_not_offered_exits_1() {
    let server = FakeServer::start(vec![
        send("220 fake ESMTP"),
        expect("EHLO pc0815.example.com"),
        send("250-fake"),
        send("250 PIPELINING"),
        expect("QUIT"),
        send("221 Bye"),
        Step::Close,
    ]);
    let out = smtpcli()
        .args([
            "--color",
            "never",
            "--starttls",
            "--ehlo",
            "pc0815.example.com",
            "127.0.0.1",
            &server.port(),
        ])
        .write_stdin("MAIL FROM:<never@example.org>\n")
        .output()
        .unwrap();
    server.finish();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("does not offer STARTTLS"), "{stdout}");
    assert!(
        !stdout.contains("MAIL FROM"),
        "nothing goes out in plaintext after a failed --starttls"
    );
}

#[cfg(feature = "native-tls")]
#[test]
#[ignore = "needs Postfix: scripts/test-servers start"]
fn postfix_starttls_with_the_native_backend() {
    let (host, port) = postfix();
    let out = smtpcli()
        .args([
            "--color",
            "never",
            "--tls-backend",
            "native",
            "--starttls",
            &host,
            &port,
        ])
        .write_stdin("")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("backend native-tls"), "{stdout}");
    assert!(
        stdout.contains("# [0] subject CN=mailserver.example.com"),
        "{stdout}"
    );
    assert!(stdout.contains("self-signed"), "{stdout}");
}

#[cfg(not(feature = "native-tls"))]
#[test]
fn a_backend_not_built_is_refused() {
    let out = smtpcli()
        .args(["--tls-backend", "native", "127.0.0.1", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("this build has no native-tls TLS backend"));
}

/// A TLS server on loopback presenting a self-signed certificate whose
/// names carry escape sequences (a window title, a screen clear, an OSC 52
/// clipboard write); it serves one handshake and returns the port.
#[cfg(feature = "openssl")]
fn hostile_certificate_server() -> u16 {
    use openssl::pkey::PKey;
    use openssl::ssl::{SslAcceptor, SslMethod};
    use openssl::x509::X509;
    let evil = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7}";
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![format!("{evil}.example")]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, evil);
    let cert = params.self_signed(&key).unwrap();
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    builder
        .set_certificate(&X509::from_pem(cert.pem().as_bytes()).unwrap())
        .unwrap();
    builder
        .set_private_key(&PKey::private_key_from_pem(key.serialize_pem().as_bytes()).unwrap())
        .unwrap();
    let acceptor = builder.build();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((tcp, _)) = listener.accept() {
            // The client refuses the certificate: the handshake fails here.
            let _ = acceptor.accept(tcp);
        }
    });
    port
}

#[cfg(feature = "openssl")]
#[test]
fn certificate_names_in_a_verify_refusal_are_escaped() {
    let port = hostile_certificate_server();
    let out = smtpcli()
        .args(["--color", "never", "--tls", "--verify", "--timeout", "5"])
        .args(["127.0.0.1", &port.to_string()])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("evil\\e]0;pwned"), "{stderr}");
    let all = format!("{stderr}{}", text(&out.stdout));
    assert!(
        !all.contains('\u{1b}') && !all.contains('\u{7}'),
        "a raw escape reached the terminal: {all:?}"
    );
}
