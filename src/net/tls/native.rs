//! The native-tls backend (`native-tls` + `tokio-native-tls`): the
//! platform's TLS and trust store (SChannel, Security.framework; OpenSSL on
//! Linux), reporting what native-tls can, which is the leaf certificate.
//!
//! native-tls cannot report the protocol, the cipher or the chain (its
//! issue #343, PR #117), nor why it would reject a certificate. So:
//! under `--verify` the platform verifies and a pass is `Trusted`; without
//! it the platform is told to accept anything, and the verdict comes from
//! what smtpcli can check on the leaf itself (dates, name, self-signed),
//! `NotVerified` when those find nothing. The report's `limitations` say so.

use native_tls::{Certificate, Identity, Protocol, TlsConnector};
use tokio::net::TcpStream;
use x509_parser::pem::Pem;

use super::cert::{CertInfo, check_leaf};
use super::{
    Backend, Problem, Stream, TlsError, TlsReport, TlsSettings, TlsVersion, Verdict, Wire,
    handshake_failed, read_setting_file,
};

pub(super) async fn handshake(
    tcp: TcpStream,
    settings: &TlsSettings,
) -> Result<(Stream, TlsReport), TlsError> {
    super::check_versions(settings)?;
    if settings.groups.is_some() || settings.ciphers.is_some() {
        return Err(TlsError::Config(
            "--tls-groups and --ciphers need the openssl TLS backend (native-tls cannot set them)"
                .into(),
        ));
    }
    let sni = settings.sni_to_send();
    // native-tls checks the certificate against the name it sends as SNI;
    // when that is not the name to check, the name check is smtpcli's.
    let domain = sni.unwrap_or(&settings.check_name);
    let platform_checks_name = !settings.check_name.is_empty()
        && domain == settings.check_name
        && settings.names.is_empty();

    let mut b = TlsConnector::builder();
    b.danger_accept_invalid_certs(!settings.verify)
        .danger_accept_invalid_hostnames(!settings.verify || !platform_checks_name)
        .use_sni(sni.is_some());
    if let Some(min) = settings.min {
        b.min_protocol_version(Some(protocol(min)));
    }
    if let Some(max) = settings.max {
        b.max_protocol_version(Some(protocol(max)));
    }
    if let Some(path) = &settings.ca_file {
        for cert in ca_certs(path)? {
            b.add_root_certificate(cert);
        }
    }
    if let Some(identity) = identity(settings)? {
        b.identity(identity);
    }
    let connector = b
        .build()
        .map_err(|e| TlsError::Config(format!("setting up native-tls: {e}")))?;
    let connector = tokio_native_tls::TlsConnector::from(connector);

    let (wire, seen) = Wire::new(tcp);
    let stream = match connector.connect(domain, wire).await {
        Ok(stream) => stream,
        Err(e) => {
            let text = tidy(&e.to_string());
            if settings.verify && is_certificate_failure(&text) {
                return Err(TlsError::Rejected(vec![Problem::Other(format!(
                    "the platform refused it: {text}"
                ))]));
            }
            return Err(handshake_failed(text, &seen.bytes(), settings));
        }
    };

    let leaf = stream
        .get_ref()
        .peer_certificate()
        .ok()
        .flatten()
        .and_then(|c| c.to_der().ok());
    let verdict = if settings.verify {
        // The platform verified the chain, the dates, and the name unless
        // it was not the SNI name; then that check is left to smtpcli.
        if !platform_checks_name {
            let mismatch: Vec<Problem> = leaf
                .as_deref()
                .map(|der| leaf_problems(der, settings))
                .unwrap_or_default()
                .into_iter()
                .filter(|p| matches!(p, Problem::NameMismatch { .. }))
                .collect();
            if !mismatch.is_empty() {
                return Err(TlsError::Rejected(mismatch));
            }
        }
        Verdict::Trusted
    } else {
        let problems = match &leaf {
            Some(der) => leaf_problems(der, settings),
            None => vec![Problem::Other("the server sent no certificate".into())],
        };
        if problems.is_empty() {
            Verdict::NotVerified(
                "native-tls was told to accept any certificate (no --verify), so whether a \
                 trusted authority issued it is unknown; smtpcli checked its dates and name \
                 itself"
                    .into(),
            )
        } else {
            Verdict::Untrusted(problems)
        }
    };

    let report = TlsReport {
        backend: Backend::Native,
        protocol: None,
        cipher: None,
        cipher_bits: None,
        cipher_alg_bits: None,
        group: None,
        sni: sni.map(str::to_string),
        checked_name: settings.check_name.clone(),
        verdict,
        names: leaf
            .as_deref()
            .and_then(|der| super::dane::match_names(der, settings.candidates())),
        chain: leaf.iter().map(|der| CertInfo::describe(der)).collect(),
        limitations: limitations(settings),
        key_exchange: super::KeyExchange::default(),
        ocsp: None,
        resumed: false,
    };
    Ok((Stream::Native(Box::new(stream)), report))
}

/// What smtpcli can check on the leaf by itself.
fn leaf_problems(der: &[u8], settings: &TlsSettings) -> Vec<Problem> {
    let info = CertInfo::describe(der);
    let Some(check) = check_leaf(der, &settings.check_name) else {
        return vec![Problem::Other(info.subject.escaped().to_string())];
    };
    let mut problems = Vec::new();
    if check.self_issued {
        problems.push(Problem::SelfSigned {
            subject: info.subject.clone(),
        });
    }
    if check.expired {
        problems.push(Problem::Expired {
            subject: info.subject.clone(),
            not_after: info.not_after.clone(),
        });
    }
    if check.not_yet_valid {
        problems.push(Problem::NotYetValid {
            subject: info.subject.clone(),
            not_before: info.not_before.clone(),
        });
    }
    if !check.name_matches && !settings.given_name_matches(der) {
        problems.push(Problem::NameMismatch {
            name: settings.check_name.clone(),
            sans: info.sans,
        });
    }
    problems
}

fn limitations(settings: &TlsSettings) -> Vec<String> {
    let mut out = vec![
        "native-tls cannot report the protocol version, the cipher or the key exchange group"
            .to_string(),
        "native-tls shows only the server's own certificate, not the chain it sent".to_string(),
    ];
    if !settings.verify {
        out.push(
            "without --verify native-tls does not check the chain of trust: an unknown root or \
             a missing intermediate would go unnoticed (use --verify or --tls-backend openssl)"
                .to_string(),
        );
    }
    if settings.wants_legacy() {
        out.push(
            "native-tls cannot lower OpenSSL's security level, so TLS 1.0/1.1 may be refused \
             on this side (the openssl backend can)"
                .to_string(),
        );
    }
    out
}

fn protocol(v: TlsVersion) -> Protocol {
    match v {
        TlsVersion::V1_0 => Protocol::Tlsv10,
        TlsVersion::V1_1 => Protocol::Tlsv11,
        TlsVersion::V1_2 => Protocol::Tlsv12,
        TlsVersion::V1_3 => Protocol::Tlsv13,
    }
}

/// native-tls over OpenSSL words a failure as OpenSSL's error line,
/// `error:0A000086:SSL routines:func:reason:file:line:`, and then the
/// verification result in parentheses: keep the reason and the result.
/// Other platforms' words are kept as they are.
fn tidy(text: &str) -> String {
    let Some(rest) = text.strip_prefix("error:") else {
        return text.to_string();
    };
    let reason = rest.split(':').nth(3).unwrap_or(rest);
    match text.rfind(" (") {
        Some(at) if text.ends_with(')') => format!("{reason} ({})", &text[at + 2..text.len() - 1]),
        _ => reason.to_string(),
    }
}

fn is_certificate_failure(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    ["certificate", "verify failed", "trust", "hostname mismatch"]
        .iter()
        .any(|w| text.contains(w))
        && !text.contains("certificate required")
}

/// The certificates of a PEM `--ca-file`.
fn ca_certs(path: &std::path::Path) -> Result<Vec<Certificate>, TlsError> {
    if path.is_dir() {
        return Err(TlsError::Config(format!(
            "native-tls needs a PEM file for --ca-file, and {} is a directory",
            path.display()
        )));
    }
    let pem = read_setting_file(path, "CA file")?;
    let certs: Vec<Certificate> = Pem::iter_from_buffer(&pem)
        .filter_map(Result::ok)
        .filter(|block| block.label == "CERTIFICATE")
        .filter_map(|block| Certificate::from_der(&block.contents).ok())
        .collect();
    if certs.is_empty() {
        return Err(TlsError::Config(format!(
            "the CA file {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// The client certificate and key, if given (`--key` defaults to the
/// certificate file).
fn identity(settings: &TlsSettings) -> Result<Option<Identity>, TlsError> {
    let Some(cert_path) = &settings.client_cert else {
        return match &settings.client_key {
            Some(_) => Err(TlsError::Config(
                "--key needs --cert: the client certificate that goes with it".into(),
            )),
            None => Ok(None),
        };
    };
    let cert = read_setting_file(cert_path, "client certificate")?;
    let key = match &settings.client_key {
        Some(path) => read_setting_file(path, "client key")?,
        None => cert.clone(),
    };
    Identity::from_pkcs8(&cert, &key).map(Some).map_err(|e| {
        TlsError::Config(format!(
            "native-tls cannot use the client certificate {}: {e} (it needs an unencrypted \
             PKCS#8 key, \"BEGIN PRIVATE KEY\": openssl pkcs8 -topk8 -nocrypt converts one)",
            cert_path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_error_lines_are_tidied() {
        assert_eq!(
            tidy(
                "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate \
                 verify failed:ssl/statem/statem_clnt.c:2125: (self-signed certificate)"
            ),
            "certificate verify failed (self-signed certificate)"
        );
        assert_eq!(
            tidy("error:0A00010B:SSL routines:ssl3_get_record:wrong version number:x.c:1:"),
            "wrong version number"
        );
        assert_eq!(
            tidy("The certificate chain was issued by an authority that is not trusted."),
            "The certificate chain was issued by an authority that is not trusted."
        );
    }
}
