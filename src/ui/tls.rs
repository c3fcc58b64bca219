//! The TLS report as a person reads it, and as JSON.
//!
//! After every handshake (and on `:tls`): protocol, cipher and bits, the key
//! exchange group, the handshake in Postfix's log form, the SNI sent and the
//! name checked; each certificate of the chain with its subject, issuer,
//! SANs, key, signature algorithm, validity with days left, SHA-256
//! fingerprint and the TLSA record it matches; then the conclusions,
//! nearest the prompt: which name matched (the whole table when there is
//! more than one name, or none matched), the OCSP staple, and the verdict —
//! loud when the certificate is not trusted. TLS 1.0 and 1.1 are flagged
//! obsolete. A resumption test's attempts have their own lines.

use serde_json::{Value, json};

use crate::net::tls::dane::{CertName, NameTable, Source};
use crate::net::tls::{OcspStatus, Staple, TlsReport, Verdict};
use crate::session::ResumeAttempt;

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
    if r.protocol.is_some() {
        out.push(line(format!("handshake: {}", r.postfix_line())));
    }
    if r.resumed {
        out.push(line("session: resumed (abbreviated handshake)".into()));
    }
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
    let tlsa = r.tlsa();
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
        // The record's data is the SHA-256 of the SPKI.
        if let Some(Some(record)) = tlsa.get(i) {
            out.push(line(format!("{pad} TLSA    {record}")));
        }
    }
    // The conclusions last, nearest the prompt: the names, the staple,
    // the verdict.
    if let Some(names) = &r.names {
        name_lines(names, &mut out);
    }
    match &r.ocsp {
        None => {}
        Some(
            staple @ (Staple::Absent
            | Staple::Status {
                status: OcspStatus::Good,
                problem: None,
                ..
            }),
        ) => {
            out.push(line(format!("OCSP staple: {staple}")));
        }
        Some(staple) => out.push(warn(format!("OCSP staple: {staple}"))),
    }
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
    for limit in &r.limitations {
        out.push(line(format!("note: {limit}")));
    }
    out
}

/// The name table: each candidate name, where it came from, and the
/// certificate name it matched (as posttls-finger's `-L certmatch`).
fn name_lines(names: &NameTable, out: &mut Vec<ReportLine>) {
    match names.first_match() {
        Some((candidate, cert_name)) => out.push(line(format!(
            "name match: {} ({}) matched {}",
            candidate.name.escaped(),
            sources(&candidate.sources),
            cert_name.shown()
        ))),
        None if names.rows.is_empty() => return,
        None => out.push(warn(
            "name match: none of the names below is a name of the certificate".into(),
        )),
    }
    // One name that matched says it all; else the whole table.
    let all_matched = names.rows.iter().all(|(_, at)| at.is_some());
    if names.rows.len() == 1 && all_matched {
        return;
    }
    let width = names
        .rows
        .iter()
        .map(|(c, _)| c.name.escaped().to_string().chars().count())
        .max()
        .unwrap_or(0)
        .max("candidate".len());
    let from_width = names
        .rows
        .iter()
        .map(|(c, _)| sources(&c.sources).len())
        .max()
        .unwrap_or(0)
        .max("from".len());
    out.push(line(format!(
        "  {:width$}  {:from_width$}  certificate name",
        "candidate", "from"
    )));
    for (candidate, at) in &names.rows {
        let matched = at
            .and_then(|i| names.cert_names.get(i))
            .map(CertName::shown)
            .unwrap_or_else(|| "no match".into());
        out.push(line(format!(
            "  {:width$}  {:from_width$}  {matched}",
            candidate.name.escaped(),
            sources(&candidate.sources)
        )));
    }
    let all: Vec<String> = names.cert_names.iter().map(CertName::shown).collect();
    let has_cn = names
        .cert_names
        .iter()
        .any(|n| matches!(n, CertName::Cn(_)));
    let cn_note = if names.cn_counts || !has_cn {
        ""
    } else {
        " (a CN counts only without DNS names)"
    };
    out.push(line(format!(
        "  certificate names: {}{cn_note}",
        if all.is_empty() {
            "none".to_string()
        } else {
            all.join(", ")
        }
    )));
}

fn sources(sources: &[Source]) -> String {
    sources
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn names_json(names: &NameTable) -> Value {
    json!({
        "certificate_names": names.cert_names.iter().map(CertName::shown).collect::<Vec<_>>(),
        "common_name_counts": names.cn_counts,
        "candidates": names.rows.iter().map(|(c, at)| json!({
            "name": c.name,
            "sources": c.sources.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "matched": at.and_then(|i| names.cert_names.get(i)).map(CertName::shown),
        })).collect::<Vec<_>>(),
    })
}

fn staple_json(staple: &Staple) -> Value {
    match staple {
        Staple::Absent => json!({"status": "absent"}),
        Staple::Invalid(why) => json!({"status": "invalid", "problem": why}),
        Staple::Status {
            status,
            revoked,
            this_update,
            next_update,
            problem,
        } => json!({
            "status": status.to_string(),
            "revoked": revoked,
            "this_update": this_update,
            "next_update": next_update,
            "problem": problem,
        }),
    }
}

/// One attempt of a resumption test, line by line.
pub(crate) fn resume_lines(a: &ResumeAttempt) -> Vec<ReportLine> {
    let head = format!("resumption test {}/{}", a.number, a.of);
    if let Some(why) = &a.failed {
        return vec![warn(format!("{head}: failed: {why}"))];
    }
    let mut out = Vec::new();
    let ehlo = match (&a.ehlo_before, &a.ehlo_now) {
        (Some(before), Some(now)) if a.ehlo_changed() => format!(
            "; EHLO name {} (was {}: another backend answered, as behind a load balancer)",
            now.escaped(),
            before.escaped()
        ),
        (Some(_), Some(now)) => format!("; EHLO name {} (unchanged)", now.escaped()),
        (None, Some(now)) => format!("; EHLO name {}", now.escaped()),
        _ => String::new(),
    };
    if a.resumed {
        out.push(line(format!("{head}: resumed: yes ({}){ehlo}", a.kind)));
    } else {
        let why = if a.ehlo_changed() {
            ": the backends do not share their session cache or ticket keys"
        } else {
            ""
        };
        out.push(warn(format!(
            "{head}: resumed: no (offered: {}){ehlo}{why}",
            a.kind
        )));
    }
    if let Some(report) = &a.report {
        out.push(line(format!("  handshake: {}", report.postfix_line())));
        if !report.is_trusted() {
            out.push(warn(format!("  certificate: {}", report.verdict)));
        }
    }
    out
}

/// One attempt of a resumption test as a JSON object.
pub(crate) fn resume_json(a: &ResumeAttempt) -> Value {
    json!({
        "attempt": a.number,
        "of": a.of,
        "kind": a.kind,
        "resumed": a.resumed,
        "ehlo_before": a.ehlo_before,
        "ehlo_now": a.ehlo_now,
        "ehlo_changed": a.ehlo_changed(),
        "handshake": a.report.as_ref().map(|r| r.postfix_line()),
        "trusted": a.report.as_ref().map(|r| r.is_trusted()),
        "failed": a.failed,
    })
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
        "cipher_alg_bits": r.cipher_alg_bits,
        "group": r.group,
        "handshake": r.protocol.is_some().then(|| r.postfix_line()),
        "key_exchange": {
            "group": r.key_exchange.group,
            "signature": r.key_exchange.signature,
            "signature_key": r.key_exchange.signature_key,
            "digest": r.key_exchange.digest,
        },
        "names": r.names.as_ref().map(names_json),
        "ocsp": r.ocsp.as_ref().map(staple_json),
        "resumed": r.resumed,
        "sni": r.sni,
        "checked_name": r.checked_name,
        "trusted": trusted,
        "problems": problems,
        "verdict": detail.unwrap_or_else(|| r.verdict.to_string()),
        "chain": r.chain.iter().zip(r.tlsa()).map(|(c, tlsa)| json!({
            "subject": c.subject,
            "issuer": c.issuer,
            "sans": c.sans,
            "key": c.key,
            "signature_algorithm": c.signature_algorithm,
            "not_before": c.not_before,
            "not_after": c.not_after,
            "days_left": c.days_left,
            "sha256": c.sha256,
            "spki_sha256": c.spki_sha256,
            "tlsa": tlsa.map(|t| t.to_string()),
        })).collect::<Vec<_>>(),
        "limitations": r.limitations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::tls::dane::{self, Source};
    use crate::net::tls::{Backend, KeyExchange};
    use crate::text::Untrusted;

    fn table(rows: &[(&str, Source, Option<usize>)]) -> NameTable {
        NameTable {
            cert_names: vec![
                CertName::Dns("mx.example.org".into()),
                CertName::Dns("*.example.net".into()),
                CertName::Cn("mx.example.org".into()),
            ],
            cn_counts: false,
            rows: rows
                .iter()
                .map(|(name, source, at)| {
                    (
                        dane::Candidate {
                            name: Untrusted::from(*name),
                            sources: vec![*source],
                        },
                        *at,
                    )
                })
                .collect(),
        }
    }

    fn texts(lines: &[ReportLine]) -> Vec<(bool, &str)> {
        lines.iter().map(|l| (l.warning, l.text.as_str())).collect()
    }

    #[test]
    fn one_name_that_matched_is_one_line() {
        let mut out = Vec::new();
        name_lines(
            &table(&[("mx.example.org", Source::Checked, Some(0))]),
            &mut out,
        );
        assert_eq!(
            texts(&out),
            [(
                false,
                "name match: mx.example.org (checked) matched DNS:mx.example.org"
            )]
        );
    }

    #[test]
    fn several_names_or_none_matching_get_the_table() {
        let mut out = Vec::new();
        name_lines(
            &table(&[
                ("example.org", Source::NextHop, None),
                ("a.example.net", Source::Given, Some(1)),
            ]),
            &mut out,
        );
        assert_eq!(
            texts(&out),
            [
                (
                    false,
                    "name match: a.example.net (--name) matched DNS:*.example.net"
                ),
                (false, "  candidate      from      certificate name"),
                (false, "  example.org    next-hop  no match"),
                (false, "  a.example.net  --name    DNS:*.example.net"),
                (
                    false,
                    "  certificate names: DNS:mx.example.org, DNS:*.example.net, \
                     CN:mx.example.org (a CN counts only without DNS names)"
                ),
            ]
        );
        let mut out = Vec::new();
        name_lines(
            &table(&[("x\u{1b}[31m.example", Source::Sni, None)]),
            &mut out,
        );
        assert!(out[0].warning, "{out:?}");
        assert!(out[0].text.starts_with("name match: none"), "{out:?}");
        // A name from outside is escaped, never raw.
        assert!(!out.iter().any(|l| l.text.contains('\u{1b}')), "{out:?}");
    }

    fn report() -> TlsReport {
        TlsReport {
            backend: Backend::OpenSsl,
            protocol: Some("TLSv1.3".into()),
            cipher: Some("TLS_AES_256_GCM_SHA384".into()),
            cipher_bits: Some(256),
            cipher_alg_bits: Some(256),
            group: Some("X25519".into()),
            sni: Some("mx.example.org".into()),
            checked_name: "mx.example.org".into(),
            verdict: Verdict::Trusted,
            chain: Vec::new(),
            limitations: Vec::new(),
            key_exchange: KeyExchange {
                group: Some("X25519".into()),
                signature: Some("RSA-PSS".into()),
                signature_key: Some("2048 bits".into()),
                digest: Some("SHA256".into()),
            },
            names: Some(table(&[("mx.example.org", Source::Checked, Some(0))])),
            ocsp: Some(Staple::Status {
                status: OcspStatus::Revoked,
                revoked: Some("on Dec  1 10:00:00 2026 GMT, key compromise".into()),
                this_update: "Dec  2 05:41:36 2026 GMT".into(),
                next_update: Some("Dec  9 05:41:36 2026 GMT".into()),
                problem: None,
            }),
            resumed: false,
        }
    }

    #[test]
    fn the_report_has_the_postfix_line_and_a_loud_revoked_staple() {
        let lines = report_lines(&report());
        assert_eq!(
            lines[1].text,
            "handshake: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) \
             key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"
        );
        let staple = lines
            .iter()
            .find(|l| l.text.starts_with("OCSP staple:"))
            .unwrap();
        assert!(staple.warning);
        assert_eq!(
            staple.text,
            "OCSP staple: REVOKED (on Dec  1 10:00:00 2026 GMT, key compromise), \
             thisUpdate Dec  2 05:41:36 2026 GMT, nextUpdate Dec  9 05:41:36 2026 GMT, \
             signature verified against the issuer"
        );
        let mut good = report();
        good.ocsp = Some(Staple::Absent);
        let lines = report_lines(&good);
        assert!(
            lines.iter().any(|l| !l.warning
                && l.text == "OCSP staple: absent: the server stapled no OCSP response")
        );
    }

    #[test]
    fn the_json_report_and_a_resumption_validate() {
        let schema: Value =
            serde_json::from_str(include_str!("../../schema/events.v1.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let mut tls = report_json(&report());
        tls["v"] = json!(1);
        tls["event"] = json!("tls");
        tls["t_ms"] = json!(3);
        let errors: Vec<String> = validator.iter_errors(&tls).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(tls["ocsp"]["status"], "revoked");
        assert_eq!(
            tls["names"]["candidates"][0]["matched"],
            "DNS:mx.example.org"
        );

        let attempt = ResumeAttempt {
            number: 2,
            of: 3,
            kind: "TLS 1.3 PSK from a session ticket",
            resumed: true,
            ehlo_before: Some("a.example.com".into()),
            ehlo_now: Some("B.example.com".into()),
            report: Some(Box::new(report())),
            failed: None,
        };
        let mut resume = resume_json(&attempt);
        resume["v"] = json!(1);
        resume["event"] = json!("resume");
        resume["t_ms"] = json!(9);
        let errors: Vec<String> = validator
            .iter_errors(&resume)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(resume["ehlo_changed"], true);
        let lines = resume_lines(&attempt);
        assert_eq!(
            lines[0].text,
            "resumption test 2/3: resumed: yes (TLS 1.3 PSK from a session ticket); EHLO name \
             B.example.com (was a.example.com: another backend answered, as behind a load balancer)"
        );
        let failed = ResumeAttempt {
            failed: Some("cannot connect to 127.0.0.1:25: refused".into()),
            report: None,
            resumed: false,
            ..attempt
        };
        assert_eq!(
            texts(&resume_lines(&failed)),
            [(
                true,
                "resumption test 2/3: failed: cannot connect to 127.0.0.1:25: refused"
            )]
        );
    }
}
