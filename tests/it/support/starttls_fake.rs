//! A STARTTLS server that keeps plaintext input across the handshake (the
//! CVE-2011-0411 class), or, for comparison, one that discards it as RFC
//! 3207 §4.2 asks. No real server here does the first any more, so this is
//! the one fault the audit's injection test needs a fake for.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

/// A running fake: its port, and the thread that says what it saw.
pub struct StarttlsFake {
    pub port: u16,
    thread: Option<JoinHandle<Result<Vec<String>, String>>>,
}

impl StarttlsFake {
    /// Serves one connection. `keep_plaintext`: answer the lines that came
    /// with STARTTLS after the handshake, inside TLS (vulnerable).
    pub fn start(keep_plaintext: bool) -> StarttlsFake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let thread = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().map_err(|e| e.to_string())?;
            serve(tcp, keep_plaintext)
        });
        StarttlsFake {
            port,
            thread: Some(thread),
        }
    }

    /// The lines the server received (plaintext and inside TLS), once the
    /// client is done.
    pub fn finish(mut self) -> Vec<String> {
        let thread = self.thread.take().unwrap();
        thread.join().unwrap().unwrap()
    }
}

fn acceptor() -> openssl::ssl::SslAcceptor {
    use openssl::pkey::PKey;
    use openssl::ssl::{SslAcceptor, SslMethod};
    use openssl::x509::X509;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["fake.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    builder
        .set_certificate(&X509::from_pem(cert.pem().as_bytes()).unwrap())
        .unwrap();
    builder
        .set_private_key(&PKey::private_key_from_pem(key.serialize_pem().as_bytes()).unwrap())
        .unwrap();
    builder.build()
}

fn answer(line: &str) -> Option<&'static [u8]> {
    let verb = line
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    Some(match verb.as_str() {
        "EHLO" => b"250-fake.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
        "QUIT" => return None,
        "NOOP" => b"250 2.0.0 Ok (the NOOP sent before TLS)\r\n",
        _ => b"250 2.0.0 Ok\r\n",
    })
}

fn serve(tcp: std::net::TcpStream, keep_plaintext: bool) -> Result<Vec<String>, String> {
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .map_err(|e| e.to_string())?;
    let mut seen = Vec::new();
    let mut reader = BufReader::new(tcp);
    reader
        .get_mut()
        .write_all(b"220 fake.example ESMTP\r\n")
        .map_err(|e| e.to_string())?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Ok(seen);
        }
        seen.push(line.trim_end().to_string());
        if line.trim_end().eq_ignore_ascii_case("STARTTLS") {
            break;
        }
        match answer(&line) {
            Some(reply) => reader
                .get_mut()
                .write_all(reply)
                .map_err(|e| e.to_string())?,
            None => {
                let _ = reader.get_mut().write_all(b"221 2.0.0 Bye\r\n");
                return Ok(seen);
            }
        }
    }
    reader
        .get_mut()
        .write_all(b"220 2.0.0 Ready to start TLS\r\n")
        .map_err(|e| e.to_string())?;
    // What came in the same write as STARTTLS is still in the buffer.
    let plaintext = reader.buffer().to_vec();
    let tcp = reader.into_inner();
    let tls = acceptor().accept(tcp).map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(tls);
    let kept = String::from_utf8_lossy(&plaintext).into_owned();
    for line in kept.lines().filter(|l| !l.is_empty()) {
        seen.push(format!("(plaintext) {line}"));
        if keep_plaintext && let Some(reply) = answer(line) {
            reader
                .get_mut()
                .write_all(reply)
                .map_err(|e| e.to_string())?;
        }
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return Ok(seen),
            Ok(_) => {}
        }
        seen.push(format!("(tls) {}", line.trim_end()));
        match answer(&line) {
            Some(reply) => reader
                .get_mut()
                .write_all(reply)
                .map_err(|e| e.to_string())?,
            None => {
                let _ = reader.get_mut().write_all(b"221 2.0.0 Bye\r\n");
                let _ = reader.get_mut().flush();
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest);
                return Ok(seen);
            }
        }
    }
}
