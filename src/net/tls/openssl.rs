//! The OpenSSL backend (`openssl` + `tokio-openssl`): the full report.
//!
//! Verification runs as OpenSSL's own (system trust store plus `--ca-file`,
//! the name checked by `X509_VERIFY_PARAM_set1_host`/`_ip`), but a verify
//! callback records every fault and lets the handshake go on, so the report
//! can name them all. Under `--verify` the callback refuses at its last call
//! (the leaf's success signal), when all faults are known, so the handshake
//! still ends inside TLS with an alert and no client certificate is sent to
//! a server that failed. `--tls-min 1.0`/`1.1` lowers the security level to
//! 0, without which OpenSSL 3 will not speak those versions. Needs OpenSSL
//! 3.0 or newer (or the `vendored` feature).

use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ::openssl::error::ErrorStack;
use ::openssl::nid::Nid;
use ::openssl::pkey::{Id, PKey, Public};
use ::openssl::ssl::{
    ErrorCode, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslRef, SslVerifyMode,
    SslVersion,
};
use ::openssl::x509::verify::X509CheckFlags;
use ::openssl::x509::{X509, X509StoreContextRef, X509VerifyResult};
use openssl_sys as ffi;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use super::cert::CertInfo;
use super::report::push_unique;
use super::{
    Backend, Problem, Stream, TlsError, TlsReport, TlsSettings, TlsVersion, Verdict, Wire,
    handshake_failed, read_setting_file,
};

/// One fault the verify callback saw.
#[derive(Debug)]
struct Fault {
    code: i32,
    text: &'static str,
    depth: u32,
    cert: Option<Vec<u8>>,
}

/// What the verify callback saw, shared with the handshake.
#[derive(Debug, Default)]
struct Record {
    faults: Vec<Fault>,
    leaf_done: bool,
}

fn lock(record: &Mutex<Record>) -> MutexGuard<'_, Record> {
    record.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) async fn handshake(
    tcp: TcpStream,
    settings: &TlsSettings,
) -> Result<(Stream, TlsReport), TlsError> {
    let record = Arc::new(Mutex::new(Record::default()));
    let context = shared_context(settings)?;
    let mut ssl = Ssl::new(&context).map_err(setup("creating the TLS session"))?;
    let verify = settings.verify;
    let seen = Arc::clone(&record);
    ssl.set_verify_callback(SslVerifyMode::PEER, move |ok, ctx| {
        on_verify(&seen, verify, ok, ctx)
    });
    let sni = settings.sni_to_send();
    if let Some(name) = sni {
        ssl.set_hostname(name)
            .map_err(|_| TlsError::Config(format!("'{name}' cannot be sent as SNI")))?;
    }
    check_name(&mut ssl, &settings.check_name)?;

    let (wire, seen) = Wire::new(tcp);
    let mut stream = SslStream::new(ssl, wire).map_err(setup("creating the TLS stream"))?;
    let outcome = Pin::new(&mut stream).connect().await;
    let problems = classify(&lock(&record).faults, &settings.check_name);
    if settings.verify && !problems.is_empty() {
        return Err(TlsError::Rejected(problems));
    }
    if let Err(e) = outcome {
        return Err(handshake_failed(describe(&e), &seen.bytes(), settings));
    }
    let report = report(stream.ssl(), settings, problems);
    Ok((Stream::OpenSsl(stream), report))
}

fn setup(what: &'static str) -> impl Fn(ErrorStack) -> TlsError {
    move |e| TlsError::Config(format!("{what}: {e}"))
}

/// What a context is built from. One context serves every handshake with
/// the same settings, so the trust store is read once per run, not once
/// per handshake (a `--probe` of thousands of servers, `:reconnect`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct ContextKey {
    ca_file: Option<std::path::PathBuf>,
    client_cert: Option<std::path::PathBuf>,
    client_key: Option<std::path::PathBuf>,
    min: Option<TlsVersion>,
    max: Option<TlsVersion>,
}

/// The contexts built so far in this process (a run uses one or two).
static CONTEXTS: Mutex<Vec<(ContextKey, SslContext)>> = Mutex::new(Vec::new());

fn shared_context(settings: &TlsSettings) -> Result<SslContext, TlsError> {
    let key = ContextKey {
        ca_file: settings.ca_file.clone(),
        client_cert: settings.client_cert.clone(),
        client_key: settings.client_key.clone(),
        min: settings.min,
        max: settings.max,
    };
    let cached = |contexts: &[(ContextKey, SslContext)]| {
        contexts
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, c)| c.clone())
    };
    if let Some(context) = cached(&CONTEXTS.lock().unwrap_or_else(PoisonError::into_inner)) {
        return Ok(context);
    }
    let built = context(settings)?;
    let mut contexts = CONTEXTS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(context) = cached(&contexts) {
        return Ok(context);
    }
    contexts.push((key, built.clone()));
    Ok(built)
}

fn context(settings: &TlsSettings) -> Result<SslContext, TlsError> {
    let mut b = SslContext::builder(SslMethod::tls_client()).map_err(setup("starting OpenSSL"))?;
    b.set_default_verify_paths()
        .map_err(setup("loading the system trust store"))?;
    #[cfg(feature = "vendored")]
    probe_trust_store(&mut b);
    if let Some(path) = &settings.ca_file {
        load_ca(&mut b, path)?;
    }
    client_identity(&mut b, settings)?;

    super::check_versions(settings)?;
    b.set_min_proto_version(settings.min.map(ssl_version))
        .map_err(setup("setting --tls-min"))?;
    b.set_max_proto_version(settings.max.map(ssl_version))
        .map_err(setup("setting --tls-max"))?;
    if settings.wants_legacy() {
        // OpenSSL 3 refuses TLS 1.0/1.1 (their SHA-1 signatures) above
        // security level 0, and old servers often lack RFC 5746.
        b.set_security_level(0);
        b.set_cipher_list("DEFAULT:@SECLEVEL=0")
            .map_err(setup("allowing legacy ciphers"))?;
        b.set_options(SslOptions::from_bits_retain(
            ffi::SSL_OP_LEGACY_SERVER_CONNECT,
        ));
    }

    // Each handshake sets its own verify callback, which records its faults.
    b.set_verify(SslVerifyMode::PEER);
    Ok(b.build())
}

/// The verify callback: record each fault and carry on. OpenSSL signals
/// success for each certificate from the root down, the leaf (depth 0)
/// last; that is where `--verify` refuses, with every fault known.
fn on_verify(
    record: &Mutex<Record>,
    verify: bool,
    ok: bool,
    ctx: &mut X509StoreContextRef,
) -> bool {
    let mut record = lock(record);
    let depth = ctx.error_depth();
    if ok {
        if depth == 0 {
            record.leaf_done = true;
            return !verify || record.faults.is_empty();
        }
        return true;
    }
    let error = ctx.error();
    record.faults.push(Fault {
        code: error.as_raw(),
        text: error.error_string(),
        depth,
        cert: ctx.current_cert().and_then(|c| c.to_der().ok()),
    });
    // A fault after the leaf's success signal has no later chance.
    !(verify && record.leaf_done)
}

/// Sets the name the certificate must match.
fn check_name(ssl: &mut SslRef, name: &str) -> Result<(), TlsError> {
    if name.is_empty() {
        return Ok(());
    }
    let bad = |_| TlsError::Config(format!("'{name}' cannot be checked as a certificate name"));
    let param = ssl.param_mut();
    match name
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
    {
        Ok(ip) => param.set_ip(ip).map_err(bad),
        Err(_) => {
            param.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
            param.set_host(name.trim_end_matches('.')).map_err(bad)
        }
    }
}

fn ssl_version(v: TlsVersion) -> SslVersion {
    match v {
        TlsVersion::V1_0 => SslVersion::TLS1,
        TlsVersion::V1_1 => SslVersion::TLS1_1,
        TlsVersion::V1_2 => SslVersion::TLS1_2,
        TlsVersion::V1_3 => SslVersion::TLS1_3,
    }
}

/// With a vendored OpenSSL the compiled-in paths lead nowhere: look where
/// this system keeps its roots.
#[cfg(feature = "vendored")]
fn probe_trust_store(b: &mut SslContextBuilder) {
    let found = openssl_probe::probe();
    if let Some(file) = &found.cert_file {
        let _ = b.load_verify_locations(Some(file), None);
    }
    for dir in &found.cert_dir {
        let _ = b.load_verify_locations(None, Some(dir));
    }
}

fn load_ca(b: &mut SslContextBuilder, path: &std::path::Path) -> Result<(), TlsError> {
    if path.is_dir() {
        return b.load_verify_locations(None, Some(path)).map_err(|e| {
            TlsError::Config(format!(
                "cannot use the CA directory {}: {e}",
                path.display()
            ))
        });
    }
    let pem = read_setting_file(path, "CA file")?;
    let certs = X509::stack_from_pem(&pem).unwrap_or_default();
    if certs.is_empty() {
        return Err(TlsError::Config(format!(
            "the CA file {} holds no PEM certificate",
            path.display()
        )));
    }
    for cert in certs {
        b.cert_store_mut()
            .add_cert(cert)
            .map_err(setup("adding a --ca-file certificate"))?;
    }
    Ok(())
}

fn client_identity(b: &mut SslContextBuilder, settings: &TlsSettings) -> Result<(), TlsError> {
    let Some(cert_path) = &settings.client_cert else {
        return match &settings.client_key {
            Some(_) => Err(TlsError::Config(
                "--key needs --cert: the client certificate that goes with it".into(),
            )),
            None => Ok(()),
        };
    };
    let pem = read_setting_file(cert_path, "client certificate")?;
    let mut certs = X509::stack_from_pem(&pem).unwrap_or_default().into_iter();
    let leaf = certs.next().ok_or_else(|| {
        TlsError::Config(format!(
            "the client certificate file {} holds no PEM certificate",
            cert_path.display()
        ))
    })?;
    let (key_pem, key_path) = match &settings.client_key {
        Some(path) => (read_setting_file(path, "client key")?, path),
        None => (pem, cert_path),
    };
    // A callback that gives no passphrase: OpenSSL's default would prompt
    // on the terminal.
    let key = PKey::private_key_from_pem_callback(&key_pem, |_| Ok(0)).map_err(|_| {
        TlsError::Config(format!(
            "no unencrypted PEM private key in {}",
            key_path.display()
        ))
    })?;
    b.set_certificate(&leaf)
        .map_err(setup("using the client certificate"))?;
    for cert in certs {
        b.add_extra_chain_cert(cert)
            .map_err(setup("using the client certificate chain"))?;
    }
    b.set_private_key(&key)
        .map_err(setup("using the client key"))?;
    b.check_private_key().map_err(|_| {
        TlsError::Config(format!(
            "the key in {} does not belong to the certificate in {}",
            key_path.display(),
            cert_path.display()
        ))
    })
}

/// Names each recorded fault.
fn classify(faults: &[Fault], check_name: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for fault in faults {
        let cert = fault.cert.as_deref().map(CertInfo::describe);
        let subject = cert
            .as_ref()
            .map(|c| c.subject.clone())
            .unwrap_or_else(|| format!("the certificate at depth {}", fault.depth).into());
        let issuer = cert
            .as_ref()
            .map(|c| c.issuer.clone())
            .unwrap_or_else(|| format!("the issuer of {}", subject.escaped()).into());
        let problem = match fault.code {
            ffi::X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT => Problem::SelfSigned { subject },
            // A root the server sent that is not trusted here.
            ffi::X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN => Problem::UnknownIssuer { issuer: subject },
            // The leaf is the top of what could be built: its issuer was not
            // sent and is not known.
            ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
            | ffi::X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
                if fault.depth == 0 =>
            {
                Problem::IncompleteChain { issuer }
            }
            ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
            | ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
            | ffi::X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE => Problem::UnknownIssuer { issuer },
            ffi::X509_V_ERR_CERT_HAS_EXPIRED => Problem::Expired {
                subject,
                not_after: cert.map(|c| c.not_after).unwrap_or_default(),
            },
            ffi::X509_V_ERR_CERT_NOT_YET_VALID => Problem::NotYetValid {
                subject,
                not_before: cert.map(|c| c.not_before).unwrap_or_default(),
            },
            ffi::X509_V_ERR_HOSTNAME_MISMATCH | ffi::X509_V_ERR_IP_ADDRESS_MISMATCH => {
                Problem::NameMismatch {
                    name: check_name.to_string(),
                    sans: cert.map(|c| c.sans).unwrap_or_default(),
                }
            }
            _ => Problem::Other(format!("{} ({})", fault.text, subject.escaped())),
        };
        push_unique(&mut problems, problem);
    }
    problems
}

fn report(ssl: &SslRef, settings: &TlsSettings, mut problems: Vec<Problem>) -> TlsReport {
    let chain: Vec<CertInfo> = ssl
        .peer_cert_chain()
        .map(|stack| {
            stack
                .iter()
                .filter_map(|c| c.to_der().ok())
                .map(|der| CertInfo::describe(&der))
                .collect()
        })
        .unwrap_or_default();
    if chain.is_empty() {
        push_unique(
            &mut problems,
            Problem::Other("the server sent no certificate".into()),
        );
    }
    let result = ssl.verify_result();
    if problems.is_empty() && result != X509VerifyResult::OK {
        problems.push(Problem::Other(result.error_string().to_string()));
    }
    let cipher = ssl.current_cipher();
    let protocol = match ssl.version_str() {
        "TLSv1" => "TLSv1.0",
        other => other,
    };
    let group = ssl.peer_tmp_key().ok().map(|key| group_name(&key));
    let mut limitations = Vec::new();
    // TLS 1.3 and (EC)DHE suites have a group; RSA key exchange has none.
    let has_group = protocol == "TLSv1.3" || cipher.is_some_and(|c| c.name().contains("DHE"));
    if group.is_none() && has_group {
        limitations.push(
            "the key exchange group could not be read: the openssl crate cannot name \
             post-quantum hybrid groups such as X25519MLKEM768 (OpenSSL 3.5 and later)"
                .to_string(),
        );
    }
    TlsReport {
        backend: Backend::OpenSsl,
        protocol: Some(protocol.to_string()),
        cipher: cipher.map(|c| c.name().to_string()),
        cipher_bits: cipher.and_then(|c| u32::try_from(c.bits().secret).ok()),
        group,
        sni: settings.sni_to_send().map(str::to_string),
        checked_name: settings.check_name.clone(),
        verdict: if problems.is_empty() {
            Verdict::Trusted
        } else {
            Verdict::Untrusted(problems)
        },
        chain,
        limitations,
    }
}

/// The key exchange group, from the server's ephemeral key.
fn group_name(key: &PKey<Public>) -> String {
    match key.id() {
        Id::X25519 => "X25519".into(),
        Id::X448 => "X448".into(),
        Id::DH => format!("DH {}", key.bits()),
        Id::EC => match key.ec_key().ok().and_then(|ec| ec.group().curve_name()) {
            Some(Nid::X9_62_PRIME256V1) => "P-256".into(),
            Some(Nid::SECP384R1) => "P-384".into(),
            Some(Nid::SECP521R1) => "P-521".into(),
            Some(nid) => nid.short_name().unwrap_or("EC").to_string(),
            None => format!("EC {}", key.bits()),
        },
        other => Nid::from_raw(other.as_raw())
            .short_name()
            .map(str::to_string)
            .unwrap_or_else(|_| format!("key type {}", other.as_raw())),
    }
}

/// The backend's failure in words: the I/O error, or OpenSSL's reasons.
fn describe(e: &::openssl::ssl::Error) -> String {
    if let Some(io) = e.io_error() {
        return super::super::connect::describe_io(io);
    }
    let mut reasons: Vec<String> = Vec::new();
    if let Some(stack) = e.ssl_error() {
        for error in stack.errors() {
            let reason = error
                .reason()
                .map(str::to_string)
                .unwrap_or_else(|| error.to_string());
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
    }
    if !reasons.is_empty() {
        return reasons.join("; ");
    }
    match e.code() {
        ErrorCode::SYSCALL | ErrorCode::ZERO_RETURN => {
            "the server closed the connection during the handshake".into()
        }
        _ => e.to_string(),
    }
}
