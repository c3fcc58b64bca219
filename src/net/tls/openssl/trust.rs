//! The trust store: OpenSSL's hashed directory, read root by root as
//! chains need them, with the bundle file read only when a chain's top is
//! not in the directory (checked inside the verify callback); `--ca-file`.

use super::*;

/// The system's trust roots, as OpenSSL's hashed directory when there is
/// one: a root is then read from disk only when a chain needs it, where
/// loading the whole bundle file (what `set_default_verify_paths` does)
/// costs OpenSSL 3 tens of milliseconds of CPU on every run. The bundle
/// (`SSL_CERT_FILE`, or OpenSSL's default file) is read only when a chain's
/// top is not in the directory ([`recheck`]). Without a hashed directory,
/// OpenSSL's defaults.
pub(super) fn trust_store(b: &mut SslContextBuilder) -> Result<(), TlsError> {
    if let Some(dir) = hashed_cert_dir() {
        b.load_verify_locations(None, Some(&dir))
            .map_err(setup("loading the system trust store"))?;
        b.set_ex_data(lazy_index()?, true);
        return Ok(());
    }
    b.set_default_verify_paths()
        .map_err(setup("loading the system trust store"))?;
    #[cfg(feature = "vendored")]
    probe_trust_store(b);
    Ok(())
}

/// Whether the context's trust store leaves the bundle file for later.
pub(super) fn lazy_bundle(context: &SslContext) -> bool {
    lazy_index()
        .ok()
        .and_then(|index| context.ex_data(index).copied())
        .unwrap_or(false)
}

pub(super) fn lazy_index() -> Result<Index<SslContext, bool>, TlsError> {
    static INDEX: OnceLock<Index<SslContext, bool>> = OnceLock::new();
    if let Some(index) = INDEX.get() {
        return Ok(*index);
    }
    let index = SslContext::new_ex_index().map_err(setup("starting OpenSSL"))?;
    Ok(*INDEX.get_or_init(|| index))
}

/// The hashed certificate directory: `SSL_CERT_DIR`'s first, or OpenSSL's,
/// or `/etc/ssl/certs`, if it has hashed links (`c_rehash`, Debian's
/// `update-ca-certificates`).
pub(super) fn hashed_cert_dir() -> Option<std::path::PathBuf> {
    cert_dir_candidates().into_iter().find(|d| is_hashed(d))
}

pub(super) fn cert_dir_candidates() -> Vec<std::path::PathBuf> {
    if let Some(dirs) = std::env::var_os("SSL_CERT_DIR") {
        // The variable wins, as it does for OpenSSL.
        return std::env::split_paths(&dirs).take(1).collect();
    }
    let mut dirs = Vec::new();
    let openssl_dir = ::openssl::version::dir();
    if let Some(path) = openssl_dir
        .strip_prefix("OPENSSLDIR: \"")
        .and_then(|rest| rest.strip_suffix('"'))
    {
        dirs.push(std::path::Path::new(path).join("certs"));
    }
    dirs.push("/etc/ssl/certs".into());
    dirs
}

/// Whether `dir` has a hashed link (`8-hex-digits.N`) that resolves.
pub(super) fn is_hashed(dir: &std::path::Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().take(4096).any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let hashed = name.len() == 10
            && name.as_bytes()[8] == b'.'
            && name[..8].bytes().all(|b| b.is_ascii_hexdigit())
            && name.as_bytes()[9].is_ascii_digit();
        hashed && entry.path().metadata().is_ok()
    })
}

/// A fault that only says the chain's top is not known here.
pub(super) fn is_missing_issuer(code: i32) -> bool {
    matches!(
        code,
        ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
            | ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
            | ffi::X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
            | ffi::X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
            | ffi::X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    )
}

/// The chain's top was not in the hashed directory: verifies the chain
/// built so far again against every root (the bundle file too, read once
/// per run, and `--ca-file`), from inside the verify callback, so that
/// `--verify` still refuses within the handshake. `None` when it verifies,
/// else its fault.
pub(super) fn recheck(ctx: &X509StoreContextRef, settings: &TlsSettings) -> Option<Fault> {
    // A check that cannot run changes nothing.
    let unchanged = || {
        Some(Fault {
            code: ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
            text: "",
            depth: 0,
            cert: None,
        })
    };
    let Some(chain) = ctx.chain() else {
        return unchanged();
    };
    let (Some(leaf), Some(store), Ok(mut check)) = (
        chain.iter().next(),
        full_store(settings),
        X509StoreContext::new(),
    ) else {
        return unchanged();
    };
    let outcome = check.init(&store, leaf, chain, |check| {
        Ok(match check.verify_cert()? {
            true => None,
            false => {
                let error = check.error();
                Some(Fault {
                    code: error.as_raw(),
                    text: error.error_string(),
                    depth: check.error_depth(),
                    cert: check.current_cert().and_then(|c| c.to_der().ok()),
                })
            }
        })
    });
    outcome.unwrap_or_else(|_| unchanged())
}

/// Every root OpenSSL would load (`SSL_CERT_FILE`/`SSL_CERT_DIR` or its
/// defaults) and `--ca-file`: built once per run, when a chain needs it.
pub(super) fn full_store(settings: &TlsSettings) -> Option<Arc<X509Store>> {
    type Built = Option<(Option<std::path::PathBuf>, Arc<X509Store>)>;
    static BUILT: Mutex<Built> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((ca, store)) = built.as_ref()
        && *ca == settings.ca_file
    {
        return Some(Arc::clone(store));
    }
    let mut b = X509StoreBuilder::new().ok()?;
    b.set_default_paths().ok()?;
    // A vendored OpenSSL's compiled-in paths lead nowhere: where this
    // system keeps its roots.
    #[cfg(feature = "vendored")]
    {
        let found = openssl_probe::probe();
        if let Some(file) = &found.cert_file {
            let _ = b
                .add_lookup(X509Lookup::file())
                .map(|l| l.load_cert_file(file, SslFiletype::PEM));
        }
        for dir in &found.cert_dir {
            let _ = b
                .add_lookup(X509Lookup::hash_dir())
                .map(|l| l.add_dir(&dir.to_string_lossy(), SslFiletype::PEM));
        }
    }
    if let Some(path) = &settings.ca_file {
        if path.is_dir() {
            b.add_lookup(X509Lookup::hash_dir())
                .ok()?
                .add_dir(&path.to_string_lossy(), SslFiletype::PEM)
                .ok()?;
        } else {
            let pem = std::fs::read(path).ok()?;
            for cert in X509::stack_from_pem(&pem).ok()? {
                b.add_cert(cert).ok()?;
            }
        }
    }
    let store = Arc::new(b.build());
    *built = Some((settings.ca_file.clone(), Arc::clone(&store)));
    Some(store)
}

/// With a vendored OpenSSL the compiled-in paths lead nowhere: look where
/// this system keeps its roots.
#[cfg(feature = "vendored")]
pub(super) fn probe_trust_store(b: &mut SslContextBuilder) {
    let found = openssl_probe::probe();
    if let Some(file) = &found.cert_file {
        let _ = b.load_verify_locations(Some(file), None);
    }
    for dir in &found.cert_dir {
        let _ = b.load_verify_locations(None, Some(dir));
    }
}

pub(super) fn load_ca(b: &mut SslContextBuilder, path: &std::path::Path) -> Result<(), TlsError> {
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
