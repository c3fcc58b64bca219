//! What DANE (RFC 6698, RFC 7671, RFC 7672) and posttls-finger's
//! `certmatch` look at in a certificate chain, with no I/O: the SHA-256 of
//! a certificate and of its public key (SPKI), the TLSA records that would
//! match them, and which of the names a client has for a server the
//! certificate is for.
//!
//! Pure functions over DER bytes and names, so that the TLS report and a
//! DANE check can share them. Nothing here decides trust or prints; text
//! from a certificate stays [`Untrusted`].

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use sha2::{Digest, Sha256, Sha512};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

use crate::text::Untrusted;

pub mod chain;

/// SHA-256 of the whole certificate (DER).
pub fn cert_sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// The certificate's SubjectPublicKeyInfo (DER), if the certificate can be
/// read.
pub fn spki(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    Some(cert.public_key().raw.to_vec())
}

/// SHA-256 of the certificate's SubjectPublicKeyInfo.
pub fn spki_sha256(der: &[u8]) -> Option<[u8; 32]> {
    spki(der).map(|spki| Sha256::digest(spki).into())
}

/// Bytes as lower-case hex, as TLSA records are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes as upper-case hex pairs joined by `:`, as fingerprints are shown.
pub fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A TLSA record's data (RFC 6698 §2.1): usage, selector, matching type,
/// and the association data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tlsa {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    pub usage: u8,
    /// 0 the whole certificate, 1 its SubjectPublicKeyInfo.
    pub selector: u8,
    /// 0 exact bytes, 1 SHA-256, 2 SHA-512.
    pub matching: u8,
    /// What the selected bytes must equal, after the matching type.
    pub data: Vec<u8>,
}

/// DANE-TA(2): a trust anchor, an issuer in the chain (RFC 7218).
pub const DANE_TA: u8 = 2;
/// DANE-EE(3): the server's own certificate (RFC 7218).
pub const DANE_EE: u8 = 3;

impl Tlsa {
    /// The `USAGE 1 1` record (SPKI, SHA-256) that matches `der`: DANE-EE
    /// (3) for a leaf, DANE-TA (2) for an issuer. `None` if the certificate
    /// cannot be read.
    pub fn spki_sha256(usage: u8, der: &[u8]) -> Option<Tlsa> {
        Some(Tlsa {
            usage,
            selector: 1,
            matching: 1,
            data: spki_sha256(der)?.to_vec(),
        })
    }

    /// The record a certificate at `depth` (0: the leaf) of the chain as
    /// sent matches with SPKI and SHA-256: `3 1 1` for the leaf, `2 1 1`
    /// for an issuer.
    pub fn for_depth(depth: usize, der: &[u8]) -> Option<Tlsa> {
        Tlsa::spki_sha256(if depth == 0 { DANE_EE } else { DANE_TA }, der)
    }

    /// Whether this record's data matches `der` by its selector and
    /// matching type (the usage, which says where in the chain, is the
    /// caller's).
    pub fn matches_cert(&self, der: &[u8]) -> bool {
        let selected = match self.selector {
            0 => der.to_vec(),
            1 => match spki(der) {
                Some(spki) => spki,
                None => return false,
            },
            _ => return false,
        };
        match self.matching {
            0 => selected == self.data,
            1 => Sha256::digest(&selected).as_slice() == self.data.as_slice(),
            2 => Sha512::digest(&selected).as_slice() == self.data.as_slice(),
            _ => false,
        }
    }
}

impl fmt::Display for Tlsa {
    /// The presentation form, `3 1 1 a0b1…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.usage,
            self.selector,
            self.matching,
            hex(&self.data)
        )
    }
}

/// A TLSA line that does not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a TLSA record: USAGE SELECTOR MATCHING HEX, like '3 1 1 ab12…'")]
pub struct TlsaParseError(pub String);

impl FromStr for Tlsa {
    type Err = TlsaParseError;

    /// `3 1 1 HEX`, the hex possibly split by spaces (as `dig` prints it),
    /// optionally after `… IN TLSA`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || TlsaParseError(s.chars().take(80).collect());
        let words: Vec<&str> = s.split_whitespace().collect();
        let start = words
            .iter()
            .position(|w| w.eq_ignore_ascii_case("TLSA"))
            .map_or(0, |at| at + 1);
        let words = &words[start..];
        let [usage, selector, matching, data @ ..] = words else {
            return Err(bad());
        };
        let number = |w: &str| w.parse::<u8>().map_err(|_| bad());
        let hex: String = data.concat();
        if hex.is_empty() || !hex.len().is_multiple_of(2) {
            return Err(bad());
        }
        let data = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(bad)?;
        Ok(Tlsa {
            usage: number(usage)?,
            selector: number(selector)?,
            matching: number(matching)?,
            data,
        })
    }
}

/// Where a candidate name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// The name the certificate is checked against (HOST, or `--sni`).
    Checked,
    /// The name sent as SNI.
    Sni,
    /// The MX host connected to (`--mx`).
    Mx,
    /// The next-hop domain (`--mx`'s domain).
    NextHop,
    /// A name given with `--name`.
    Given,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Checked => "checked",
            Source::Sni => "SNI",
            Source::Mx => "MX host",
            Source::NextHop => "next-hop",
            Source::Given => "--name",
        })
    }
}

/// A name the certificate may be for, and where the client got it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The name (an MX host's name came from DNS).
    pub name: Untrusted,
    /// Where it came from: one name may come from several places.
    pub sources: Vec<Source>,
}

/// Candidates in order, a name given twice kept once with both sources
/// (names compare without case and a trailing dot). Empty names are left
/// out.
pub fn candidates<'a>(names: impl IntoIterator<Item = (&'a str, Source)>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for (name, source) in names {
        let key = normalize(name);
        if key.is_empty() {
            continue;
        }
        match out
            .iter_mut()
            .find(|c| normalize(&c.name.unchecked_str()) == key)
        {
            Some(c) if !c.sources.contains(&source) => c.sources.push(source),
            Some(_) => {}
            None => out.push(Candidate {
                name: Untrusted::from(name),
                sources: vec![source],
            }),
        }
    }
    out
}

fn normalize(name: &str) -> String {
    name.trim()
        .trim_matches(|c| c == '[' || c == ']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// One name a certificate is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertName {
    /// A DNS subjectAltName (may be a wildcard).
    Dns(Untrusted),
    /// An IP address subjectAltName.
    Ip(IpAddr),
    /// A subject common name, used only when there is no DNS SAN (RFC
    /// 6125 §6.4.4).
    Cn(Untrusted),
}

impl CertName {
    /// `DNS:mx.example.org`, `IP:192.0.2.1`, `CN:mx.example.org`, escaped.
    pub fn shown(&self) -> String {
        match self {
            CertName::Dns(name) => format!("DNS:{}", name.escaped()),
            CertName::Ip(ip) => format!("IP:{ip}"),
            CertName::Cn(name) => format!("CN:{}", name.escaped()),
        }
    }
}

/// Which candidate matched which certificate name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameTable {
    /// The names the certificate is for: DNS SANs, IP SANs, then common
    /// names.
    pub cert_names: Vec<CertName>,
    /// Whether the common names count: only without DNS SANs.
    pub cn_counts: bool,
    /// Each candidate and the first certificate name it matched (an index
    /// into `cert_names`), or `None`.
    pub rows: Vec<(Candidate, Option<usize>)>,
}

impl NameTable {
    /// The first candidate that matched, and the name it matched.
    pub fn first_match(&self) -> Option<(&Candidate, &CertName)> {
        self.rows
            .iter()
            .find_map(|(c, at)| at.and_then(|i| self.cert_names.get(i)).map(|n| (c, n)))
    }

    /// Whether `name` matches the certificate (as a candidate would).
    pub fn matches(&self, name: &str) -> bool {
        self.index_for(name).is_some()
    }

    fn index_for(&self, name: &str) -> Option<usize> {
        let ip = normalize(name).parse::<IpAddr>().ok();
        self.cert_names
            .iter()
            .position(|cert_name| match (cert_name, ip) {
                (CertName::Ip(cert_ip), Some(ip)) => *cert_ip == ip,
                (CertName::Dns(pattern), None) => host_matches(&pattern.unchecked_str(), name),
                (CertName::Cn(cn), None) => {
                    self.cn_counts && host_matches(&cn.unchecked_str(), name)
                }
                _ => false,
            })
    }
}

/// The names of the certificate `der` against `candidates`; `None` if it
/// cannot be read.
pub fn match_names(der: &[u8], candidates: Vec<Candidate>) -> Option<NameTable> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => dns.push(CertName::Dns(Untrusted::from(*d))),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        ips.push(CertName::Ip(ip));
                    }
                }
                _ => {}
            }
        }
    }
    let cn_counts = dns.is_empty();
    let mut cert_names = dns;
    cert_names.extend(ips);
    cert_names.extend(
        cert.subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok())
            .map(|cn| CertName::Cn(Untrusted::from(cn))),
    );
    let mut table = NameTable {
        cert_names,
        cn_counts,
        rows: Vec::new(),
    };
    table.rows = candidates
        .into_iter()
        .map(|c| {
            let at = table.index_for(&c.name.unchecked_str());
            (c, at)
        })
        .collect();
    Some(table)
}

pub(crate) fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// RFC 6125 §6.4: case-insensitive, a trailing dot ignored, and `*` only as
/// the whole leftmost label, standing for exactly one label.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(rest) => match host.split_once('.') {
            Some((first, host_rest)) => {
                !first.is_empty() && host_rest == rest && rest.contains('.')
            }
            None => false,
        },
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair};

    fn cert(sans: &[&str], cn: &str) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn names_match_like_rfc_6125() {
        let cases = [
            ("mail.example.com", "MAIL.example.com.", true),
            ("*.example.com", "mx.example.com", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "a.b.example.com", false),
            ("*.com", "example.com", false),
            ("m*.example.com", "mx.example.com", false),
            ("example.com", "example.org", false),
            ("", "", false),
        ];
        for (pattern, host, want) in cases {
            assert_eq!(host_matches(pattern, host), want, "{pattern} vs {host}");
        }
    }

    #[test]
    fn the_table_says_which_pair_matched() {
        let der = cert(&["*.example.org", "192.0.2.25"], "ignored.example.net");
        let candidates = candidates([
            ("example.org", Source::NextHop),
            ("mx1.example.org", Source::Mx),
            ("MX1.example.org.", Source::Sni),
            ("ignored.example.net", Source::Given),
            ("192.0.2.25", Source::Checked),
            ("", Source::Given),
        ]);
        let table = match_names(&der, candidates).unwrap();
        assert!(!table.cn_counts);
        let shown: Vec<_> = table.cert_names.iter().map(CertName::shown).collect();
        assert_eq!(
            shown,
            [
                "DNS:*.example.org",
                "IP:192.0.2.25",
                "CN:ignored.example.net"
            ]
        );
        let rows: Vec<_> = table
            .rows
            .iter()
            .map(|(c, at)| (c.name.unchecked_str().into_owned(), c.sources.clone(), *at))
            .collect();
        assert_eq!(
            rows,
            [
                ("example.org".into(), vec![Source::NextHop], None),
                (
                    "mx1.example.org".into(),
                    vec![Source::Mx, Source::Sni],
                    Some(0)
                ),
                ("ignored.example.net".into(), vec![Source::Given], None),
                ("192.0.2.25".into(), vec![Source::Checked], Some(1)),
            ]
        );
        let (c, name) = table.first_match().unwrap();
        assert_eq!(c.name, "mx1.example.org");
        assert_eq!(name.shown(), "DNS:*.example.org");
    }

    #[test]
    fn the_common_name_counts_only_without_dns_names() {
        let der = cert(&["192.0.2.1"], "mx.example.org");
        let table = match_names(&der, candidates([("mx.example.org", Source::Checked)])).unwrap();
        assert!(table.cn_counts);
        assert_eq!(table.rows[0].1, Some(1));
        assert!(match_names(b"junk", Vec::new()).is_none());
    }

    #[test]
    fn tlsa_records_match_what_they_were_made_from() {
        let leaf = cert(&["mx.example.org"], "mx.example.org");
        let other = cert(&["mx.example.org"], "mx.example.org");
        let record = Tlsa::for_depth(0, &leaf).unwrap();
        assert_eq!(record.usage, 3);
        let text = record.to_string();
        assert!(text.starts_with("3 1 1 "), "{text}");
        assert_eq!(text.len(), "3 1 1 ".len() + 64);
        assert!(record.matches_cert(&leaf));
        assert!(!record.matches_cert(&other));
        assert_eq!(Tlsa::for_depth(1, &leaf).unwrap().usage, 2);

        let parsed: Tlsa = text.parse().unwrap();
        assert_eq!(parsed, record);
        // As dig prints it: owner, class, type, the hex split in two.
        let (a, b) = text[6..].split_at(20);
        let dig = format!(
            "_25._tcp.mx.example.org. 300 IN TLSA 3 1 1 {a} {}",
            b.to_uppercase()
        );
        assert_eq!(dig.parse::<Tlsa>().unwrap(), record);
        let full = Tlsa {
            usage: 3,
            selector: 0,
            matching: 2,
            data: Sha512::digest(&leaf).to_vec(),
        };
        assert!(full.matches_cert(&leaf));
        for bad in [
            "",
            "3 1 1",
            "3 1 1 abc",
            "3 1 x ab",
            "3 1 1 zz",
            "300 1 1 ab",
        ] {
            assert!(bad.parse::<Tlsa>().is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Whatever a zone file or a person gives: a record or an error.
        #[test]
        fn any_text_parses_or_is_refused(text in ".{0,120}") {
            let _ = text.parse::<Tlsa>();
        }

        /// Whatever a server sends as its certificate: a table or none.
        #[test]
        fn any_der_matches_or_is_unreadable(
            der in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
        ) {
            let _ = match_names(&der, candidates([("a.example", Source::Checked)]));
            let _ = Tlsa::for_depth(0, &der).map(|t| t.matches_cert(&der));
        }
    }

    #[test]
    fn digests_have_their_forms() {
        let der = cert(&["a.example"], "a");
        assert_eq!(hex(&cert_sha256(&der)).len(), 64);
        assert_eq!(colon_hex(&[0xab, 0x01]), "AB:01");
        assert!(spki_sha256(b"junk").is_none());
    }
}
