//! One certificate, described for an admin: who it is for, who issued it,
//! its names, key, signature algorithm, validity and fingerprint.
//!
//! Parsing is `x509-parser`'s and the fingerprint `sha2`'s; this file only
//! turns their values into words, and checks what any backend can check on
//! its own (validity dates, the name against the SANs), for backends that
//! cannot say what their own verification found. It decides no trust.

use crate::text::Untrusted;
use std::net::IpAddr;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::oid_registry::{OID_EC_P256, OID_NIST_EC_P384, OID_NIST_EC_P521, Oid};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::time::ASN1Time;

/// One certificate of the chain, as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject's distinguished name, e.g. `CN=mail.example.com`.
    pub subject: Untrusted,
    /// The issuer's distinguished name.
    pub issuer: Untrusted,
    /// Subject alternative names: DNS names, then IP addresses.
    pub sans: Vec<Untrusted>,
    /// Key type and size: `RSA 2048`, `EC P-256`, `Ed25519`.
    pub key: String,
    /// The signature algorithm's name: `sha256WithRSAEncryption`,
    /// `ecdsa-with-SHA256`.
    pub signature_algorithm: String,
    /// Start of validity, `2026-01-01 09:00:00 UTC`.
    pub not_before: String,
    /// End of validity, same form.
    pub not_after: String,
    /// Whole days until `not_after`, negative once expired.
    pub days_left: i64,
    /// SHA-256 of the DER, `AA:BB:…`.
    pub sha256: String,
    /// SHA-256 of the SubjectPublicKeyInfo, same form (posttls-finger's
    /// `pkey_fingerprint`; a TLSA `x 1 1` record's data).
    pub spki_sha256: String,
    /// The certificate itself, for `:tls pem`.
    pub der: Vec<u8>,
}

impl CertInfo {
    /// Describes a DER certificate; `Err` says why it cannot be read.
    pub fn from_der(der: &[u8]) -> Result<CertInfo, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        let validity = cert.validity();
        Ok(CertInfo {
            subject: name_or_empty(cert.subject().to_string()),
            issuer: name_or_empty(cert.issuer().to_string()),
            sans: sans(&cert),
            key: key_text(&cert),
            signature_algorithm: oid_name(&cert.signature_algorithm.algorithm),
            not_before: utc_text(&validity.not_before),
            not_after: utc_text(&validity.not_after),
            days_left: days_between(&ASN1Time::now(), &validity.not_after),
            sha256: fingerprint(der),
            spki_sha256: super::dane::spki_sha256(der)
                .map(|d| super::dane::colon_hex(&d))
                .unwrap_or_default(),
            der: der.to_vec(),
        })
    }

    /// A certificate that could not be read: kept for `:tls pem`, with the
    /// reason in place of the subject.
    pub(crate) fn unreadable(der: &[u8], reason: &str) -> CertInfo {
        let unknown = || "?".to_string();
        CertInfo {
            subject: Untrusted::from(format!("(unreadable certificate: {reason})")),
            issuer: Untrusted::from("?"),
            sans: Vec::new(),
            key: unknown(),
            signature_algorithm: unknown(),
            not_before: unknown(),
            not_after: unknown(),
            days_left: 0,
            sha256: fingerprint(der),
            spki_sha256: String::new(),
            der: der.to_vec(),
        }
    }

    /// Describes `der`, or says it could not.
    pub(crate) fn describe(der: &[u8]) -> CertInfo {
        CertInfo::from_der(der).unwrap_or_else(|reason| CertInfo::unreadable(der, &reason))
    }
}

fn name_or_empty(name: String) -> Untrusted {
    if name.is_empty() {
        "(empty name)".into()
    } else {
        name.into()
    }
}

fn sans(cert: &X509Certificate<'_>) -> Vec<Untrusted> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    for name in &ext.value.general_names {
        match name {
            GeneralName::DNSName(d) => dns.push(Untrusted::from(*d)),
            GeneralName::IPAddress(bytes) => {
                if let Some(ip) = super::dane::ip_from_bytes(bytes) {
                    ips.push(Untrusted::from(ip.to_string()));
                }
            }
            _ => {}
        }
    }
    dns.extend(ips);
    dns
}

fn key_text(cert: &X509Certificate<'_>) -> String {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", bit_length(rsa.modulus)),
        Ok(PublicKey::DSA(y)) => format!("DSA {}", bit_length(y)),
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            match curve {
                Some(oid) if oid == OID_EC_P256 => "EC P-256".into(),
                Some(oid) if oid == OID_NIST_EC_P384 => "EC P-384".into(),
                Some(oid) if oid == OID_NIST_EC_P521 => "EC P-521".into(),
                Some(oid) => format!("EC {}", oid_name(&oid)),
                None => format!("EC {} bits", point.key_size()),
            }
        }
        _ => match oid_name(&spki.algorithm.algorithm).as_str() {
            "ed25519" => "Ed25519".into(),
            "ed448" => "Ed448".into(),
            other => other.to_string(),
        },
    }
}

/// The bit length of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    let significant: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(at) => &bytes[at..],
        None => return 0,
    };
    let top = significant[0];
    (significant.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
}

/// The short name of an algorithm, or its dotted number.
fn oid_name(oid: &Oid<'_>) -> String {
    oid2sn(oid, oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| oid.to_id_string())
}

/// `2026-11-28 09:00:00 UTC`.
fn utc_text(time: &ASN1Time) -> String {
    let t = time.to_datetime().to_offset(::time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Whole days from `from` to `to`, rounded down (an hour past expiry is -1).
pub(crate) fn days_between(from: &ASN1Time, to: &ASN1Time) -> i64 {
    (to.timestamp() - from.timestamp()).div_euclid(86_400)
}

fn fingerprint(der: &[u8]) -> String {
    super::dane::colon_hex(&super::dane::cert_sha256(der))
}

/// What a backend that cannot report its own verification can still check
/// on the leaf: its dates, and `name` against its SANs (or, with no DNS SAN,
/// its common name, as OpenSSL does).
#[cfg_attr(not(feature = "native-tls"), allow(dead_code))]
pub(crate) struct LeafCheck {
    /// Whether now is after `not_after`.
    pub expired: bool,
    /// Whether now is before `not_before`.
    pub not_yet_valid: bool,
    /// Whether the name matches (`true` when `name` is empty).
    pub name_matches: bool,
    /// Whether subject and issuer are the same name.
    pub self_issued: bool,
}

#[cfg_attr(not(feature = "native-tls"), allow(dead_code))]
pub(crate) fn check_leaf(der: &[u8], name: &str) -> Option<LeafCheck> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let now = ASN1Time::now();
    let validity = cert.validity();
    let sans = sans(&cert);
    let name_matches = name.is_empty()
        || match name
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
        {
            Ok(ip) => sans
                .iter()
                .any(|s| s.unchecked_str().parse::<IpAddr>().ok() == Some(ip)),
            Err(_) => {
                let dns: Vec<String> = sans
                    .iter()
                    .map(|s| s.unchecked_str().into_owned())
                    .filter(|s| s.parse::<IpAddr>().is_err())
                    .collect();
                if dns.is_empty() {
                    cert.subject()
                        .iter_common_name()
                        .filter_map(|cn| cn.as_str().ok())
                        .any(|cn| super::dane::host_matches(cn, name))
                } else {
                    dns.iter()
                        .any(|pattern| super::dane::host_matches(pattern, name))
                }
            }
        };
    Some(LeafCheck {
        expired: now.timestamp() > validity.not_after.timestamp(),
        not_yet_valid: now.timestamp() < validity.not_before.timestamp(),
        name_matches,
        self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair, date_time_ymd};

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[0x00, 0x80, 0, 0]), 24);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0, 0]), 0);
    }

    #[test]
    fn describes_a_certificate() {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["mx.example.org".into(), "192.0.2.25".into()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "mx.example.org");
        params.not_before = date_time_ymd(2020, 1, 2);
        params.not_after = date_time_ymd(2021, 3, 4);
        let cert = params.self_signed(&key).unwrap();
        let info = CertInfo::from_der(cert.der()).unwrap();
        assert_eq!(info.subject, "CN=mx.example.org");
        assert_eq!(info.issuer, "CN=mx.example.org");
        assert_eq!(info.sans, ["mx.example.org", "192.0.2.25"]);
        assert_eq!(info.key, "EC P-256");
        assert_eq!(info.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(info.not_before, "2020-01-02 00:00:00 UTC");
        assert_eq!(info.not_after, "2021-03-04 00:00:00 UTC");
        assert!(info.days_left < -365, "{}", info.days_left);
        assert_eq!(info.sha256.len(), 32 * 3 - 1);
        assert_eq!(info.der, cert.der().to_vec());

        let check = check_leaf(cert.der(), "192.0.2.25").unwrap();
        assert!(check.expired && !check.not_yet_valid && check.name_matches && check.self_issued);
        assert!(
            !check_leaf(cert.der(), "other.example.org")
                .unwrap()
                .name_matches
        );
        assert!(
            check_leaf(cert.der(), "MX.example.org")
                .unwrap()
                .name_matches
        );
    }

    #[test]
    fn garbage_is_unreadable_not_a_panic() {
        let info = CertInfo::describe(b"not a certificate");
        assert!(
            info.subject.as_bytes().starts_with(b"(unreadable"),
            "{:?}",
            info.subject
        );
        assert_eq!(info.der, b"not a certificate");
    }

    #[test]
    fn days_round_down() {
        let t = |s| ASN1Time::from_timestamp(s).unwrap();
        assert_eq!(days_between(&t(0), &t(86_400 * 2 - 1)), 1);
        assert_eq!(days_between(&t(3600), &t(0)), -1);
    }
}
