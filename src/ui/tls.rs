//! The TLS report as a person reads it, and as JSON.
//!
//! After every handshake (and on `:tls`): protocol, cipher and bits, the key
//! exchange group, the SNI sent and the name checked, the verdict — loud
//! when the certificate is not trusted — and each certificate of the chain
//! with its subject, issuer, SANs, key, signature algorithm, validity with
//! days left, and SHA-256 fingerprint. TLS 1.0 and 1.1 are flagged obsolete.

use serde_json::{Value, json};

use crate::net::tls::{TlsReport, Verdict};

/// One line of the report; `warning` lines are meant to be seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReportLine {
    /// Whether the line is a warning.
    pub warning: bool,
    /// The text.
    pub text: String,
}

fn line(text: String) -> ReportLine {
    ReportLine {
        warning: false,
        text,
    }
}

fn warn(text: String) -> ReportLine {
    ReportLine {
        warning: true,
        text,
    }
}

/// The report, line by line.
pub(crate) fn report_lines(r: &TlsReport) -> Vec<ReportLine> {
    let mut out = Vec::new();
    let unknown = || "not reported".to_string();
    let cipher = match (&r.cipher, r.cipher_bits) {
        (Some(c), Some(bits)) => format!("{c} ({bits} bits)"),
        (Some(c), None) => c.clone(),
        _ => unknown(),
    };
    out.push(line(format!(
        "TLS: {}, cipher {cipher}, key exchange {}, backend {}",
        r.protocol.clone().unwrap_or_else(unknown),
        r.group.clone().unwrap_or_else(unknown),
        r.backend
    )));
    if r.is_obsolete_protocol() {
        out.push(warn(format!(
            "{} is obsolete (RFC 8996): the server should offer TLS 1.2 or 1.3",
            r.protocol.as_deref().unwrap_or("this protocol")
        )));
    }
    out.push(line(format!(
        "SNI sent: {}; name checked: {}",
        r.sni.as_deref().unwrap_or("none"),
        if r.checked_name.is_empty() {
            "none"
        } else {
            &r.checked_name
        }
    )));
    match &r.verdict {
        Verdict::Trusted => out.push(line("certificate: trusted".into())),
        Verdict::Untrusted(problems) => {
            out.push(warn("certificate: NOT TRUSTED".into()));
            for p in problems {
                out.push(warn(format!("  {p}")));
            }
            // What to do about it, whichever way the user wants it.
            out.push(line(
                "next: --ca-file FILE trusts a private CA's certificates; --verify refuses \
                 an untrusted certificate instead of going on"
                    .into(),
            ));
        }
        other => out.push(warn(format!("certificate: {other}"))),
    }
    for (i, cert) in r.chain.iter().enumerate() {
        let pad = " ".repeat(format!("[{i}]").len());
        out.push(line(format!("[{i}] subject {}", cert.subject.escaped())));
        out.push(line(format!("{pad} issuer  {}", cert.issuer.escaped())));
        if !cert.sans.is_empty() {
            out.push(line(format!(
                "{pad} SANs    {}",
                crate::text::join_escaped(&cert.sans)
            )));
        }
        out.push(line(format!(
            "{pad} key     {}, signed with {}",
            cert.key, cert.signature_algorithm
        )));
        let left = match cert.days_left {
            d if d < 0 => format!("EXPIRED {} days ago", -d),
            d => format!("{d} days left"),
        };
        let validity = format!(
            "{pad} valid   {} to {} ({left})",
            cert.not_before, cert.not_after
        );
        out.push(if cert.days_left < 0 {
            warn(validity)
        } else {
            line(validity)
        });
        out.push(line(format!("{pad} SHA-256 {}", cert.sha256)));
    }
    for limit in &r.limitations {
        out.push(line(format!("note: {limit}")));
    }
    out
}

/// The report as a JSON object.
pub(crate) fn report_json(r: &TlsReport) -> Value {
    let (trusted, problems, detail) = match &r.verdict {
        Verdict::Trusted => (true, Vec::new(), None),
        Verdict::Untrusted(problems) => (
            false,
            problems.iter().map(ToString::to_string).collect(),
            None,
        ),
        other => (false, Vec::new(), Some(other.to_string())),
    };
    json!({
        "backend": r.backend.to_string(),
        "protocol": r.protocol,
        "obsolete": r.is_obsolete_protocol(),
        "cipher": r.cipher,
        "cipher_bits": r.cipher_bits,
        "group": r.group,
        "sni": r.sni,
        "checked_name": r.checked_name,
        "trusted": trusted,
        "problems": problems,
        "verdict": detail.unwrap_or_else(|| r.verdict.to_string()),
        "chain": r.chain.iter().map(|c| json!({
            "subject": c.subject,
            "issuer": c.issuer,
            "sans": c.sans,
            "key": c.key,
            "signature_algorithm": c.signature_algorithm,
            "not_before": c.not_before,
            "not_after": c.not_after,
            "days_left": c.days_left,
            "sha256": c.sha256,
        })).collect::<Vec<_>>(),
        "limitations": r.limitations,
    })
}
