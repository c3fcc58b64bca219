//! `--check --json`: one `policy` event per MX address (its `verdict` is
//! `authenticated`, `unauthenticated` or `defer`), then one `check` event
//! with what the domain publishes and the counts; the driver adds `end`.
//! The fields are in `schema/events.v1.json`.

use std::io::Write;

use serde_json::{Value, json};

use super::Resolver;
use crate::net::tls::dane::chain::TlsaAnswer;
use crate::proto::policy::verdict::{By, Dane, Kind, Live, Sts};
use crate::session::check::AddressCheck;
use crate::session::check::domain::{DomainCheck, HostCheck, MxSource};
use crate::text::{escape, escape_str};
use crate::ui::json::JsonOutput;

/// Every event of a finished check but `end`.
pub(super) fn write<W: Write>(out: &mut JsonOutput<W>, found: &DomainCheck, resolver: &Resolver) {
    for host in &found.hosts {
        if let Some(why) = &host.no_address {
            out.policy(json!({
                "domain": found.domain,
                "mx": escape(host.name.as_bytes()),
                "preference": host.preference,
                "address": Value::Null,
                "port": Value::Null,
                "tls": {"result": "no_address", "error": escape_str(why)},
                "dane": tlsa_json(host, found.mx_secure, None),
                "mta_sts": sts_json(host.sts),
                "verdict": Kind::Defer.as_str(),
                "by": "connection",
                "reason": escape_str(why),
            }));
            continue;
        }
        for (addr, checked) in &host.addresses {
            out.policy(json!({
                "domain": found.domain,
                "mx": escape(host.name.as_bytes()),
                "preference": host.preference,
                "address": addr.ip().to_string(),
                "port": addr.port(),
                "tls": tls_json(checked),
                "dane": tlsa_json(host, found.mx_secure, Some(checked)),
                "mta_sts": sts_json(host.sts),
                "verdict": checked.verdict.kind.as_str(),
                "by": by_word(checked.verdict.by),
                "reason": checked.verdict.reason.as_str(),
            }));
        }
    }
    out.check(summary_json(found, resolver));
}

fn by_word(by: By) -> &'static str {
    match by {
        By::Dane => "dane",
        By::MtaSts => "mta-sts",
        By::Neither => "none",
        By::Connection => "connection",
    }
}

fn tls_json(checked: &AddressCheck) -> Value {
    let result = match checked.live {
        Live::Tls { .. } => "tls",
        Live::NoStarttls => "no_starttls",
        Live::HandshakeFailed => "handshake_failed",
        Live::Unreachable => "unreachable",
    };
    let report = checked.probe.tls.as_ref();
    json!({
        "result": result,
        "protocol": report.and_then(|r| r.protocol.clone()),
        "cipher": report.and_then(|r| r.cipher.clone()),
        "webpki_valid": report.map(|r| r.is_trusted()),
        "problems": report.map(|r| r.verdict.problems().iter().map(ToString::to_string).collect::<Vec<_>>()),
        "error": checked.probe.error.as_ref().map(|e| json!({
            "class": e.class.name(),
            "stage": e.stage.name(),
            "message": escape_str(&e.message),
        })),
    })
}

/// The DANE outcome's word in JSON.
fn dane_word(outcome: Dane) -> &'static str {
    match outcome {
        Dane::NoRecords => "no_records",
        Dane::InsecureMx => "insecure_mx",
        Dane::Insecure => "insecure",
        Dane::Bogus => "bogus",
        Dane::LookupFailed => "lookup_failed",
        Dane::Unusable => "unusable",
        Dane::Matched => "matched",
        Dane::NotMatched => "not_matched",
    }
}

fn tlsa_json(host: &HostCheck, mx_secure: bool, checked: Option<&AddressCheck>) -> Value {
    let (records, secure) = match &host.tlsa {
        TlsaAnswer::Records { records, secure } => (records.as_slice(), Some(*secure)),
        _ => (&[][..], None),
    };
    let outcome = match (checked, host.dane_without_chain(mx_secure)) {
        (Some(c), _) => dane_word(c.dane.outcome),
        (None, Some(outcome)) => dane_word(outcome),
        (None, None) => "not_checked",
    };
    json!({
        "outcome": outcome,
        "tlsa_name": format!("_25._tcp.{}", escape(host.tlsa_base().as_bytes())),
        "secure": secure,
        "records": records.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "matches": checked.map(|c| c.dane.matches.iter().map(|m| json!({
            "record": records.get(m.record).map(ToString::to_string),
            "depth": m.depth,
        })).collect::<Vec<_>>()).unwrap_or_default(),
        "suggestion": checked.and_then(|c| c.dane.suggestion.as_ref()).map(ToString::to_string),
    })
}

fn sts_json(sts: Sts) -> Value {
    match sts {
        Sts::NoPolicy => json!({"policy": "none", "mode": Value::Null, "mx_matches": Value::Null}),
        Sts::Unavailable => {
            json!({"policy": "unavailable", "mode": Value::Null, "mx_matches": Value::Null})
        }
        Sts::Policy { mode, mx_matches } => {
            json!({"policy": "found", "mode": mode.as_str(), "mx_matches": mx_matches})
        }
    }
}

fn summary_json(found: &DomainCheck, resolver: &Resolver) -> Value {
    let counts = found.counts();
    let sts = &found.sts;
    let fetch = sts.fetch.as_ref();
    let policy = sts.policy.as_ref();
    let rpt = &found.tls_rpt;
    json!({
        "domain": found.domain,
        "resolver": resolver.addr.to_string(),
        "resolver_given": resolver.given,
        "mx_source": match found.mx_source {
            MxSource::Records => "mx",
            MxSource::Implicit => "implicit",
        },
        "mx_secure": found.mx_secure,
        "mx": found.hosts.iter().map(|h| json!({
            "preference": h.preference,
            "name": escape(h.name.as_bytes()),
        })).collect::<Vec<_>>(),
        "mta_sts": {
            "record_id": sts.record.as_ref().map(|r| r.id.clone()),
            "record_error": sts.record_error.as_deref().map(escape_str),
            "url": fetch.map(|f| f.url.clone()),
            "address": fetch.and_then(|f| f.address).map(|a| a.to_string()),
            "status": fetch.and_then(|f| f.status),
            "content_type": fetch.and_then(|f| f.content_type.as_ref()).map(|c| c.escaped().to_string()),
            "mode": policy.map(|p| p.mode.as_str()),
            "max_age": policy.map(|p| p.max_age),
            "mx": policy.map(|p| p.mx.iter().map(ToString::to_string).collect::<Vec<_>>()),
            "error": sts.error.as_deref().map(escape_str),
        },
        "tls_rpt": {
            "rua": rpt.record.as_ref().map(|r| r.rua.iter().map(|u| json!({
                "scheme": u.scheme.as_str(),
                "uri": u.uri.escaped().to_string(),
                "problem": u.problem,
            })).collect::<Vec<_>>()),
            "error": rpt.error.as_deref().map(escape_str),
        },
        "counts": {
            "authenticated": counts[0],
            "unauthenticated": counts[1],
            "defer": counts[2],
        },
        "ms": u64::try_from(found.took.as_millis()).unwrap_or(u64::MAX),
    })
}
