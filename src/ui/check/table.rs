//! `--check`'s text report: what the domain publishes (MX, MTA-STS,
//! TLS-RPT), a table of MX × address with TLS, DANE, MTA-STS and the
//! verdict in colour, then the details under each address (which TLSA
//! record matched which certificate, the record that would match, the
//! policy's pattern, the verdict's reason) and a summary line. Every name
//! from DNS or a server is escaped.

use std::io::{self, Write};

use super::Resolver;
use crate::net::tls::dane::chain::TlsaAnswer;
use crate::proto::policy::mta_sts::Mode;
use crate::proto::policy::verdict::{By, Dane, Kind, Live, Sts};
use crate::session::check::AddressCheck;
use crate::session::check::domain::{DomainCheck, HostCheck, MxSource};
use crate::text::{escape, escape_str};
use crate::ui::theme::{Role, Theme};

/// The first lines: what is checked and whose DNSSEC status is trusted.
pub(super) fn intro<W: Write>(
    out: &mut W,
    theme: &Theme,
    domain: &str,
    resolver: &Resolver,
) -> io::Result<()> {
    writeln!(
        out,
        "{}",
        theme.paint(Role::Strong, &format!("check {}", escape_str(domain)))
    )?;
    writeln!(
        out,
        "{}",
        theme.paint(Role::Note, &format!("# {}", resolver.trust_note()))
    )
}

/// The whole report.
pub(super) fn write<W: Write>(
    out: &mut W,
    theme: &Theme,
    found: &DomainCheck,
    resolver: &Resolver,
) -> io::Result<()> {
    intro(out, theme, &found.domain, resolver)?;
    published(out, theme, found)?;
    writeln!(out)?;
    grid(out, theme, found)?;
    for host in &found.hosts {
        details(out, theme, found, host)?;
    }
    writeln!(out)?;
    summary(out, theme, found)
}

/// What the domain publishes in DNS and on its policy host.
fn published<W: Write>(out: &mut W, theme: &Theme, found: &DomainCheck) -> io::Result<()> {
    let label = |l: &str| theme.paint(Role::Strong, &format!("{l:<8}"));
    let signed = if found.mx_secure {
        theme.paint(Role::Class(2), "signed (AD)")
    } else {
        theme.paint(Role::Class(4), "not signed (no AD): DANE cannot apply")
    };
    let hosts: Vec<String> = found
        .hosts
        .iter()
        .map(|h| format!("{} {}", h.preference, escape(h.name.as_bytes())))
        .collect();
    let source = match found.mx_source {
        MxSource::Records => hosts.join(", "),
        MxSource::Implicit => format!("no MX record: the domain itself ({})", hosts.join(", ")),
    };
    writeln!(out, "{} {source}; {signed}", label("MX"))?;

    let sts = &found.sts;
    match (&sts.record, &sts.record_error) {
        (None, None) => writeln!(out, "{} no _mta-sts record: no policy", label("MTA-STS"))?,
        (_, Some(e)) => writeln!(
            out,
            "{} {}",
            label("MTA-STS"),
            theme.paint(
                Role::Class(4),
                &format!("_mta-sts record unusable: {}", escape_str(e))
            )
        )?,
        (Some(record), None) => {
            writeln!(out, "{} v=STSv1; id={}", label("MTA-STS"), record.id)?;
            if let Some(fetch) = &sts.fetch {
                let answer = match (fetch.status, &fetch.content_type) {
                    (Some(status), Some(ct)) => format!("HTTP {status}, {}", ct.escaped()),
                    (Some(status), None) => format!("HTTP {status}, no Content-Type"),
                    _ => "no HTTP answer".to_string(),
                };
                let at = fetch.address.map(|a| format!(" [{a}]")).unwrap_or_default();
                writeln!(out, "{:8} {answer} from {}{at}", "", fetch.url)?;
            }
            match (&sts.policy, &sts.error) {
                (Some(policy), _) => {
                    let mx: Vec<String> = policy.mx.iter().map(ToString::to_string).collect();
                    let mode = match policy.mode {
                        Mode::Enforce => theme.paint(Role::Class(2), "enforce"),
                        Mode::Testing => theme.paint(Role::Class(4), "testing"),
                        Mode::None => theme.paint(Role::Class(4), "none"),
                    };
                    writeln!(
                        out,
                        "{:8} mode {mode}, max_age {}, mx {}",
                        "",
                        policy.max_age,
                        if mx.is_empty() {
                            "(none)".to_string()
                        } else {
                            mx.join(", ")
                        }
                    )?;
                    for note in &policy.notes {
                        writeln!(out, "{:8} {}", "", theme.paint(Role::Note, &format!("# {note}")))?;
                    }
                }
                (None, Some(e)) => writeln!(
                    out,
                    "{:8} {}",
                    "",
                    theme.paint(
                        Role::Class(5),
                        &format!(
                            "no policy: {}; senders without a cached policy deliver as if there were none",
                            escape_str(e)
                        )
                    )
                )?,
                (None, None) => {}
            }
        }
    }

    let rpt = &found.tls_rpt;
    match (&rpt.record, &rpt.error) {
        (Some(record), _) => {
            let rua: Vec<String> = record
                .rua
                .iter()
                .map(|r| match r.problem {
                    Some(problem) => format!("{} ({problem})", r.uri.escaped()),
                    None => r.uri.escaped().to_string(),
                })
                .collect();
            let line = format!("v=TLSRPTv1; rua {}", rua.join(", "));
            if record.has_usable_rua() {
                writeln!(out, "{} {line}", label("TLS-RPT"))?;
            } else {
                writeln!(
                    out,
                    "{} {}",
                    label("TLS-RPT"),
                    theme.paint(Role::Class(4), &format!("{line}: no address takes reports"))
                )?;
            }
        }
        (None, Some(e)) => writeln!(
            out,
            "{} {}",
            label("TLS-RPT"),
            theme.paint(
                Role::Class(4),
                &format!("_smtp._tls record unusable: {}", escape_str(e))
            )
        )?,
        (None, None) => writeln!(
            out,
            "{} no _smtp._tls record: failures are not reported to you",
            label("TLS-RPT")
        )?,
    }
    Ok(())
}

/// One row of the table: the cells' text and colour.
struct Row {
    cells: Vec<(String, Role)>,
}

const HEADINGS: [&str; 6] = ["MX", "ADDRESS", "TLS", "DANE", "MTA-STS", "VERDICT"];

fn grid<W: Write>(out: &mut W, theme: &Theme, found: &DomainCheck) -> io::Result<()> {
    let mut rows = Vec::new();
    for host in &found.hosts {
        let mx = format!("{} {}", host.preference, escape(host.name.as_bytes()));
        if host.no_address.is_some() {
            rows.push(Row {
                cells: vec![
                    (mx, Role::Plain),
                    ("-".into(), Role::Plain),
                    ("no address".into(), Role::Class(5)),
                    (dane_word(host, found.mx_secure), Role::Plain),
                    sts_cell(host.sts),
                    ("defer".into(), Role::Class(5)),
                ],
            });
            continue;
        }
        for (addr, checked) in &host.addresses {
            rows.push(Row {
                cells: vec![
                    (mx.clone(), Role::Plain),
                    (addr.ip().to_string(), Role::Plain),
                    tls_cell(checked),
                    dane_cell(checked),
                    sts_cell(host.sts),
                    verdict_cell(checked.verdict.kind),
                ],
            });
        }
    }
    let mut widths: Vec<usize> = HEADINGS.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (i, (text, _)) in row.cells.iter().enumerate() {
            widths[i] = widths[i].max(text.chars().count());
        }
    }
    let line = |cells: Vec<(String, Role)>| {
        let last = cells.len() - 1;
        cells
            .into_iter()
            .enumerate()
            .map(|(i, (text, role))| {
                let pad = if i == last {
                    0
                } else {
                    widths[i] - text.chars().count()
                };
                format!("{}{}", theme.paint(role, &text), " ".repeat(pad))
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(
        out,
        "{}",
        line(
            HEADINGS
                .iter()
                .map(|h| (h.to_string(), Role::Strong))
                .collect()
        )
    )?;
    for row in rows {
        writeln!(out, "{}", line(row.cells).trim_end())?;
    }
    Ok(())
}

fn tls_cell(checked: &AddressCheck) -> (String, Role) {
    let protocol = checked
        .probe
        .tls
        .as_ref()
        .and_then(|r| r.protocol.clone())
        .unwrap_or_else(|| "TLS".into());
    match checked.live {
        Live::Tls { webpki: true } => (format!("{protocol}, trusted"), Role::Class(2)),
        Live::Tls { webpki: false } => (format!("{protocol}, untrusted"), Role::Class(4)),
        Live::NoStarttls => ("no STARTTLS".into(), Role::Class(5)),
        Live::HandshakeFailed => ("handshake failed".into(), Role::Class(5)),
        Live::Unreachable => ("unreachable".into(), Role::Class(5)),
    }
}

fn dane_cell(checked: &AddressCheck) -> (String, Role) {
    let requires_tls = matches!(
        checked.dane.outcome,
        Dane::Matched | Dane::NotMatched | Dane::Unusable
    );
    if requires_tls && checked.probe.tls.is_none() {
        return ("TLS required".into(), Role::Class(5));
    }
    let role = match checked.dane.outcome {
        Dane::Matched => Role::Class(2),
        Dane::NotMatched | Dane::Bogus | Dane::LookupFailed => Role::Class(5),
        Dane::Unusable => Role::Class(4),
        Dane::NoRecords | Dane::InsecureMx | Dane::Insecure => Role::Plain,
    };
    (dane_outcome_word(checked.dane.outcome).to_string(), role)
}

/// The DANE cell of a host whose addresses were not checked.
fn dane_word(host: &HostCheck, mx_secure: bool) -> String {
    host.dane_without_chain(mx_secure)
        .map_or("records", dane_outcome_word)
        .to_string()
}

/// A DANE outcome in the table's words.
fn dane_outcome_word(outcome: Dane) -> &'static str {
    match outcome {
        Dane::NoRecords => "no TLSA",
        Dane::InsecureMx => "MX unsigned",
        Dane::Insecure => "TLSA unsigned (ignored)",
        Dane::Bogus => "bogus",
        Dane::LookupFailed => "lookup failed",
        Dane::Unusable => "unusable records",
        Dane::Matched => "matched",
        Dane::NotMatched => "NOT matched",
    }
}

fn sts_cell(sts: Sts) -> (String, Role) {
    match sts {
        Sts::NoPolicy => ("no policy".into(), Role::Plain),
        Sts::Unavailable => ("unavailable".into(), Role::Class(4)),
        Sts::Policy {
            mode: Mode::None, ..
        } => ("mode none".into(), Role::Plain),
        Sts::Policy { mode, mx_matches } => {
            let mode = mode.as_str();
            if mx_matches {
                (format!("{mode}, MX listed"), Role::Class(2))
            } else {
                (format!("{mode}, MX NOT listed"), Role::Class(5))
            }
        }
    }
}

fn verdict_cell(kind: Kind) -> (String, Role) {
    let role = match kind {
        Kind::Authenticated => Role::Class(2),
        Kind::Unauthenticated => Role::Class(4),
        Kind::Defer => Role::Class(5),
    };
    (kind.as_str().to_string(), role)
}

/// The lines under one host: its TLSA records, then per address what
/// matched, the certificate, the policy's pattern and the reason.
fn details<W: Write>(
    out: &mut W,
    theme: &Theme,
    found: &DomainCheck,
    host: &HostCheck,
) -> io::Result<()> {
    let name = escape(host.name.as_bytes());
    let records = match &host.tlsa {
        TlsaAnswer::Records { records, .. } => records.as_slice(),
        _ => &[],
    };
    let note = |text: String| theme.paint(Role::Note, &text);
    if let Some(why) = &host.no_address {
        writeln!(out)?;
        writeln!(out, "{}", theme.paint(Role::Strong, &name))?;
        writeln!(
            out,
            "  {}",
            theme.paint(
                Role::Class(5),
                &format!("{}: a sender skips this host", escape_str(why))
            )
        )?;
        return Ok(());
    }
    for (addr, checked) in &host.addresses {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            theme.paint(
                Role::Strong,
                &format!("{name} [{}]:{}", addr.ip(), addr.port())
            )
        )?;
        // The live attempt.
        match (&checked.probe.tls, &checked.probe.error) {
            (Some(report), _) => {
                let mut facts: Vec<String> = [
                    report.protocol.clone(),
                    report.cipher.clone(),
                    report.group.clone(),
                ]
                .into_iter()
                .flatten()
                .collect();
                if facts.is_empty() {
                    facts.push("TLS".into());
                }
                writeln!(out, "  TLS      {}", facts.join(" "))?;
                let verdict = if report.is_trusted() {
                    theme.paint(
                        Role::Class(2),
                        &format!("valid for {name} under the web PKI"),
                    )
                } else {
                    theme.paint(
                        Role::Class(4),
                        &format!(
                            "NOT valid for {name} under the web PKI: {}",
                            escape_str(&report.verdict.to_string())
                        ),
                    )
                };
                writeln!(out, "  cert     {verdict}")?;
            }
            (None, Some(e)) => writeln!(
                out,
                "  TLS      {}",
                theme.paint(
                    Role::Class(5),
                    &format!("{}: {}", e.stage.name(), escape_str(&e.message))
                )
            )?,
            (None, None) => writeln!(
                out,
                "  TLS      {}",
                theme.paint(Role::Class(5), "STARTTLS is not offered")
            )?,
        }
        // DANE.
        let dane = &checked.dane;
        let tlsa_name = format!("_25._tcp.{}", escape(host.tlsa_base().as_bytes()));
        if let Some(base) = &host.tlsa_base {
            writeln!(
                out,
                "  DANE     an alias (signed CNAME) of {}: TLSA looked up there first",
                escape(base.as_bytes())
            )?;
        }
        match &host.tlsa {
            TlsaAnswer::Records { records, secure } => {
                let signed = if *secure { "signed" } else { "NOT signed" };
                writeln!(
                    out,
                    "  DANE     {tlsa_name}: {} TLSA record(s), {signed}",
                    records.len()
                )?;
                for (i, record) in records.iter().enumerate() {
                    let hits: Vec<String> = dane
                        .matches
                        .iter()
                        .filter(|m| m.record == i)
                        .map(|m| match m.depth {
                            0 => "matches the server's certificate (depth 0)".to_string(),
                            d => format!("matches the CA certificate at depth {d}"),
                        })
                        .collect();
                    let state = if dane.unusable.contains(&i) {
                        theme.paint(Role::Class(4), "unusable for SMTP (usage 0/1 or unknown)")
                    } else if hits.is_empty() {
                        note("matches nothing sent".into())
                    } else {
                        theme.paint(Role::Class(2), &hits.join(", "))
                    };
                    writeln!(out, "           {}  {state}", short(record))?;
                }
            }
            TlsaAnswer::None => writeln!(out, "  DANE     {tlsa_name}: no TLSA records")?,
            TlsaAnswer::Bogus => writeln!(
                out,
                "  DANE     {}",
                theme.paint(
                    Role::Class(5),
                    &format!("{tlsa_name}: the answer is bogus (DNSSEC validation failed)")
                )
            )?,
            TlsaAnswer::Failed => writeln!(
                out,
                "  DANE     {}",
                theme.paint(Role::Class(5), &format!("{tlsa_name}: the lookup failed"))
            )?,
        }
        if !found.mx_secure && !records.is_empty() {
            writeln!(
                out,
                "           {}",
                note("# the MX answer is not signed, so these records do not apply".into())
            )?;
        }
        if let Some(suggestion) = &dane.suggestion {
            writeln!(
                out,
                "           would match: {tlsa_name}. IN TLSA {suggestion}"
            )?;
        }
        // MTA-STS.
        if let (Some(policy), Sts::Policy { mx_matches, .. }) = (&found.sts.policy, host.sts) {
            let line = match policy.matching_mx(&host.name.unchecked_str()) {
                Some(pattern) if mx_matches => format!("{name} matches mx {pattern}"),
                _ => format!("{name} matches no mx pattern of the policy"),
            };
            writeln!(out, "  MTA-STS  {line}")?;
        }
        // The verdict.
        let v = checked.verdict;
        let by = match v.by {
            By::Dane => "DANE",
            By::MtaSts => "MTA-STS",
            By::Neither => "no policy",
            By::Connection => "connection",
        };
        let (word, role) = verdict_cell(v.kind);
        writeln!(
            out,
            "  verdict  {} ({by}): {}",
            theme.paint(role, &word),
            v.reason
        )?;
    }
    Ok(())
}

/// A TLSA record with its data shortened for the screen.
fn short(record: &crate::net::tls::dane::Tlsa) -> String {
    let full = record.to_string();
    match full.char_indices().nth(32) {
        Some((cut, _)) if full.len() > 40 => format!("{}…", &full[..cut]),
        _ => full,
    }
}

fn summary<W: Write>(out: &mut W, theme: &Theme, found: &DomainCheck) -> io::Result<()> {
    let counts = found.counts();
    let total: usize = counts.iter().sum();
    let parts = [
        theme.paint(Role::Class(2), &format!("{} authenticated", counts[0])),
        theme.paint(Role::Class(4), &format!("{} unauthenticated", counts[1])),
        theme.paint(Role::Class(5), &format!("{} defer", counts[2])),
    ];
    writeln!(
        out,
        "{} {total} address(es) of {} MX host(s): {} ({:.2} s)",
        theme.paint(Role::Strong, "check:"),
        found.hosts.len(),
        parts.join(", "),
        found.took.as_secs_f64()
    )
}
