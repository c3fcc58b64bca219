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
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use ::openssl::error::ErrorStack;
use ::openssl::ex_data::Index;
use ::openssl::hash::MessageDigest;
use ::openssl::nid::Nid;
use ::openssl::ocsp::{
    OcspCertId, OcspCertStatus, OcspFlag, OcspResponse, OcspResponseStatus, OcspRevokedStatus,
};
use ::openssl::pkey::{Id, PKey, Public};
use ::openssl::ssl::SslFiletype;
use ::openssl::ssl::{
    ErrorCode, Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslRef, SslSession,
    SslSessionCacheMode, SslVerifyMode, SslVersion, StatusType,
};
use ::openssl::stack::Stack;
use ::openssl::symm::{Cipher, decrypt_aead};
use ::openssl::x509::store::{X509Lookup, X509Store, X509StoreBuilder};
use ::openssl::x509::verify::{X509CheckFlags, X509VerifyFlags};
use ::openssl::x509::{X509, X509Ref, X509StoreContext, X509StoreContextRef, X509VerifyResult};
use openssl_sys as ffi;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;
use zeroize::Zeroizing;

mod kx;
mod resume;
mod staple;
mod trust;

use super::cert::CertInfo;
use super::dane;
use super::flight::{self, Flight};
use super::report::push_unique;
use super::{
    Backend, KeyExchange, OcspStatus, Problem, Staple, Stream, TlsError, TlsReport, TlsSettings,
    TlsVersion, Verdict, Wire, handshake_failed, read_setting_file,
};
use kx::{group_name, key_exchange, read_flight};
use resume::offer_session;
pub(crate) use resume::{Saved, saved};
use staple::staple;
use trust::{is_missing_issuer, lazy_bundle, load_ca, recheck, trust_store};

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
    /// The chain's top was not in the hashed directory, and the chain
    /// verified against every root (the bundle file too, read then).
    bundle_ok: bool,
}

fn lock(record: &Mutex<Record>) -> MutexGuard<'_, Record> {
    record.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What one handshake's callbacks saw, shared with the handshake through
/// the `Ssl`'s ex data (the context, and its callbacks, are reused).
#[derive(Default)]
struct Shared {
    record: Mutex<Record>,
    /// The server's handshake traffic secret (TLS 1.3), from the key log
    /// callback: only to read the signature scheme of the server's
    /// CertificateVerify, then dropped (zeroed).
    server_secret: Mutex<Option<Zeroizing<Vec<u8>>>>,
    /// The latest session (or TLS 1.3 ticket) the server gave, for a
    /// resumption test; tickets of TLS 1.3 come after the handshake.
    session: Mutex<Option<SslSession>>,
    /// Whether the server sent a TLS 1.2 NewSessionTicket.
    tls12_ticket: Mutex<bool>,
    /// The context the session belongs to.
    context: Mutex<Option<SslContext>>,
}

fn shared_index() -> Result<Index<Ssl, Arc<Shared>>, TlsError> {
    static INDEX: OnceLock<Index<Ssl, Arc<Shared>>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = Ssl::new_ex_index().map_err(setup("starting OpenSSL"))?;
    Ok(*INDEX.get_or_init(|| index))
}

pub(super) async fn handshake(
    tcp: TcpStream,
    settings: &TlsSettings,
    resume: Option<&Saved>,
) -> Result<(Stream, TlsReport), TlsError> {
    let shared = Arc::new(Shared::default());
    let context = match resume {
        Some(saved) => saved.context.clone(),
        None => context(settings)?,
    };
    let mut ssl = Ssl::new(&context).map_err(setup("creating the TLS session"))?;
    *shared
        .context
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(context.clone());
    ssl.set_ex_data(shared_index()?, Arc::clone(&shared));
    if let Some(saved) = resume {
        offer_session(&mut ssl, saved)?;
    }
    let callback_shared = Arc::clone(&shared);
    let callback_settings = settings.clone();
    let lazy = lazy_bundle(&context);
    ssl.set_verify_callback(SslVerifyMode::PEER, move |ok, ctx| {
        on_verify(&callback_shared.record, &callback_settings, lazy, ok, ctx)
    });
    ssl.set_status_type(StatusType::OCSP)
        .map_err(setup("asking for an OCSP staple"))?;
    let sni = settings.sni_to_send();
    if let Some(name) = sni {
        ssl.set_hostname(name)
            .map_err(|_| TlsError::Config(format!("'{name}' cannot be sent as SNI")))?;
    }
    check_name(&mut ssl, &settings.check_name)?;

    let (wire, seen) = Wire::new(tcp);
    let tap = wire.tap();
    let mut stream = SslStream::new(ssl, wire).map_err(setup("creating the TLS stream"))?;
    let outcome = Pin::new(&mut stream).connect().await;
    let rechecked = lock(&shared.record).bundle_ok;
    let problems = classify(&lock(&shared.record).faults, &settings.check_name);
    if settings.verify && !problems.is_empty() {
        return Err(TlsError::Rejected(problems));
    }
    if let Err(e) = outcome {
        return Err(handshake_failed(describe(&e), &seen.bytes(), settings));
    }
    let secret = shared
        .server_secret
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let flight = read_flight(&tap.take(), secret.as_deref().map(Vec::as_slice));
    if flight.tls12_ticket {
        *shared
            .tls12_ticket
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
    }
    let report = report(stream.ssl(), settings, problems, &flight, rechecked);
    if settings.verify && !report.is_trusted() {
        // Only a revoked staple finds a fault this late.
        return Err(TlsError::Rejected(report.verdict.problems().to_vec()));
    }
    Ok((Stream::OpenSsl(stream), report))
}

fn setup(what: &'static str) -> impl Fn(ErrorStack) -> TlsError {
    move |e| TlsError::Config(format!("{what}: {e}"))
}

/// The context for `settings`, built once and reused while the settings
/// that shape it stay the same: loading trust roots is most of the CPU a
/// handshake costs.
fn context(settings: &TlsSettings) -> Result<SslContext, TlsError> {
    static BUILT: Mutex<Option<(TlsSettings, SslContext)>> = Mutex::new(None);
    let key = TlsSettings {
        verify: false,
        sni: None,
        check_name: String::new(),
        names: Vec::new(),
        mx_host: None,
        next_hop: None,
        ..settings.clone()
    };
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((k, context)) = built.as_ref()
        && *k == key
    {
        return Ok(context.clone());
    }
    let context = build_context(settings)?;
    *built = Some((key, context.clone()));
    Ok(context)
}

fn build_context(settings: &TlsSettings) -> Result<SslContext, TlsError> {
    let mut b = SslContext::builder(SslMethod::tls_client()).map_err(setup("starting OpenSSL"))?;
    trust_store(&mut b)?;
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
    if let Some(groups) = &settings.groups {
        let list = openssl_list(groups);
        b.set_groups_list(&list).map_err(|_| {
            TlsError::Config(format!(
                "--tls-groups {groups}: OpenSSL does not know all of these groups \
                 (names like X25519, prime256v1, secp384r1, ffdhe2048; \
                 `openssl list -tls-groups` lists them)"
            ))
        })?;
    }
    if let Some(ciphers) = &settings.ciphers {
        set_ciphers(&mut b, ciphers, settings.wants_legacy())?;
    }
    // Sessions (TLS 1.3: tickets, after the handshake) are kept for a
    // resumption test, in the connection's shared record.
    b.set_session_cache_mode(SslSessionCacheMode::CLIENT | SslSessionCacheMode::NO_INTERNAL);
    b.set_new_session_callback(|ssl, session| {
        if let Ok(index) = shared_index()
            && let Some(shared) = ssl.ex_data(index)
        {
            *shared
                .session
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(session);
        }
    });
    // The key log gives the server's handshake traffic secret: with it the
    // report reads the signature scheme from the encrypted flight.
    b.set_keylog_callback(|ssl, line| {
        if let Some(secret) = line.strip_prefix("SERVER_HANDSHAKE_TRAFFIC_SECRET ")
            && let Some((_, hex)) = secret.split_once(' ')
            && let Ok(index) = shared_index()
            && let Some(shared) = ssl.ex_data(index)
        {
            *shared
                .server_secret
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = unhex(hex).map(Zeroizing::new);
        }
    });
    Ok(b.build())
}

/// `A,B C` or `A:B` as OpenSSL's `A:B`.
fn openssl_list(list: &str) -> String {
    list.split([',', ':', ' '])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(":")
}

/// `--ciphers`: `TLS_…` names are TLS 1.3 suites, the rest OpenSSL's TLS
/// 1.2 cipher list; a kind not named keeps its defaults.
fn set_ciphers(b: &mut SslContextBuilder, ciphers: &str, legacy: bool) -> Result<(), TlsError> {
    let list = openssl_list(ciphers);
    let (tls13, tls12): (Vec<&str>, Vec<&str>) =
        list.split(':').partition(|name| name.starts_with("TLS_"));
    let refused = |what: &str, _: ErrorStack| {
        TlsError::Config(format!(
            "--ciphers {ciphers}: OpenSSL accepts none of the {what} named \
             (`openssl ciphers -v` lists them)"
        ))
    };
    if !tls13.is_empty() {
        b.set_ciphersuites(&tls13.join(":"))
            .map_err(|e| refused("TLS 1.3 suites", e))?;
    }
    if !tls12.is_empty() {
        let mut list = tls12.join(":");
        if legacy {
            list.push_str(":@SECLEVEL=0");
        }
        b.set_cipher_list(&list)
            .map_err(|e| refused("TLS 1.2 ciphers", e))?;
    }
    Ok(())
}

fn unhex(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The verify callback: record each fault and carry on. OpenSSL signals
/// success for each certificate from the root down, the leaf (depth 0)
/// last; that is where `--verify` refuses, with every fault known.
fn on_verify(
    record: &Mutex<Record>,
    settings: &TlsSettings,
    lazy_bundle: bool,
    ok: bool,
    ctx: &mut X509StoreContextRef,
) -> bool {
    let verify = settings.verify;
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
    if lazy_bundle && is_missing_issuer(error.as_raw()) {
        if record.bundle_ok {
            return true;
        }
        match recheck(ctx, settings) {
            None => {
                record.bundle_ok = true;
                return true;
            }
            // Known now, and wrong in another way (an expired root).
            Some(fault) if !is_missing_issuer(fault.code) => {
                record.faults.push(fault);
                return !(verify && record.leaf_done);
            }
            Some(_) => {}
        }
    }
    let name_fault = matches!(
        error.as_raw(),
        ffi::X509_V_ERR_HOSTNAME_MISMATCH | ffi::X509_V_ERR_IP_ADDRESS_MISMATCH
    );
    // A --name the leaf is for is as good as the checked name.
    if name_fault
        && ctx
            .current_cert()
            .and_then(|c| c.to_der().ok())
            .is_some_and(|der| settings.given_name_matches(&der))
    {
        return true;
    }
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

fn report(
    ssl: &SslRef,
    settings: &TlsSettings,
    mut problems: Vec<Problem>,
    flight: &Flight,
    rechecked: bool,
) -> TlsReport {
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
    // A --name the leaf is for settles the name.
    if let Some(leaf) = chain.first()
        && settings.given_name_matches(&leaf.der)
    {
        problems.retain(|p| !matches!(p, Problem::NameMismatch { .. }));
    }
    let result = ssl.verify_result();
    let name_only = matches!(
        result.as_raw(),
        ffi::X509_V_ERR_HOSTNAME_MISMATCH | ffi::X509_V_ERR_IP_ADDRESS_MISMATCH
    ) && !settings.names.is_empty();
    // After a recheck OpenSSL's own result is the first, partial one.
    if problems.is_empty() && result != X509VerifyResult::OK && !name_only && !rechecked {
        problems.push(Problem::Other(result.error_string().to_string()));
    }
    let cipher = ssl.current_cipher();
    let protocol = match ssl.version_str() {
        "TLSv1" => "TLSv1.0",
        other => other,
    };
    let group = ssl
        .peer_tmp_key()
        .ok()
        .map(|key| group_name(&key))
        .or_else(|| flight.group.map(flight::group_name));
    let mut limitations = Vec::new();
    // TLS 1.3 and (EC)DHE suites have a group; RSA key exchange has none.
    let has_group = protocol == "TLSv1.3" || cipher.is_some_and(|c| c.name().contains("DHE"));
    if group.is_none() && has_group {
        limitations.push("the key exchange group could not be read".to_string());
    }
    let names = chain
        .first()
        .and_then(|leaf| dane::match_names(&leaf.der, settings.candidates()));
    let ocsp = staple(ssl);
    if let (
        Staple::Status {
            status: OcspStatus::Revoked,
            revoked,
            ..
        },
        Some(leaf),
    ) = (&ocsp, chain.first())
    {
        push_unique(
            &mut problems,
            Problem::Revoked {
                subject: leaf.subject.clone(),
                detail: revoked.clone().unwrap_or_default(),
            },
        );
    }
    TlsReport {
        backend: Backend::OpenSsl,
        protocol: Some(protocol.to_string()),
        cipher: cipher.map(|c| c.name().to_string()),
        cipher_bits: cipher.and_then(|c| u32::try_from(c.bits().secret).ok()),
        cipher_alg_bits: cipher.and_then(|c| u32::try_from(c.bits().algorithm).ok()),
        group,
        sni: settings.sni_to_send().map(str::to_string),
        checked_name: settings.check_name.clone(),
        verdict: if problems.is_empty() {
            Verdict::Trusted
        } else {
            Verdict::Untrusted(problems)
        },
        key_exchange: key_exchange(ssl, flight),
        ocsp: Some(ocsp),
        chain,
        limitations,
        names,
        resumed: ssl.session_reused(),
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
