//! `--probe` input: one target per line, `--shard` and `--resume`.
//!
//! A line is a domain (`example.org`: its MX hosts, or its own address
//! when it has none, as a sending MTA does), a host with a port
//! (`mx.example.org:587`), or an address with the name to check its
//! certificate against (`192.0.2.7,mx.example.org`, a port allowed after
//! the address). Blank lines and `#` comments are skipped. Every line is
//! checked before anything is probed, so a typo costs nothing.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use crate::config::Shard;

/// What one input line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A mail domain: MX hosts by preference, else its own addresses.
    Domain(String),
    /// A host at a port: its addresses.
    Host { host: String, port: u16 },
    /// One address, and the name for SNI and the certificate check.
    Address { addr: SocketAddr, name: String },
}

/// One target, as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// The line as given (trimmed): the key `--resume` matches on.
    pub(crate) text: String,
    /// What it asks for.
    pub(crate) kind: Kind,
}

/// Reads one line; `Ok(None)` for a blank line or a comment.
pub(crate) fn parse_line(line: &str, default_port: u16) -> Result<Option<Target>, String> {
    let text = line.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("one target per line, with no spaces".into());
    }
    let kind = if let Some((address, name)) = text.split_once(',') {
        let addr = socket_addr(address, default_port)
            .ok_or_else(|| format!("'{address}' is not an IP address (ADDRESS,NAME)"))?;
        check_name(name)?;
        Kind::Address {
            addr,
            name: name.to_ascii_lowercase(),
        }
    } else if let Some(addr) = socket_addr(text, default_port) {
        Kind::Address {
            addr,
            name: addr.ip().to_string(),
        }
    } else if let Some((host, port)) = text.rsplit_once(':') {
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("'{port}' is not a port number"))?;
        check_name(host)?;
        Kind::Host {
            host: host.to_ascii_lowercase(),
            port,
        }
    } else {
        check_name(text)?;
        Kind::Domain(text.trim_end_matches('.').to_ascii_lowercase())
    };
    Ok(Some(Target {
        text: text.to_string(),
        kind,
    }))
}

/// `192.0.2.7`, `192.0.2.7:25`, `2001:db8::1`, `[2001:db8::1]:25`.
fn socket_addr(text: &str, default_port: u16) -> Option<SocketAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, default_port));
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return inner
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, default_port));
    }
    text.parse::<SocketAddr>().ok().filter(|a| a.port() != 0)
}

/// A DNS name in its ASCII form: letters, digits, `-`, `_` and dots.
fn check_name(name: &str) -> Result<(), String> {
    let name = name.trim_end_matches('.');
    let labels_ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if labels_ok {
        Ok(())
    } else if !name.is_ascii() {
        Err(format!(
            "'{}' is not in ASCII: give an internationalised name in its xn-- form",
            crate::text::escape_str(name)
        ))
    } else {
        Err(format!(
            "'{}' is not a host name",
            crate::text::escape_str(name)
        ))
    }
}

/// The targets of a whole input, checked; the shard's share only.
/// `Err` lists the bad lines (at most a few), by number.
pub(crate) fn read(
    input: &str,
    default_port: u16,
    shard: Option<Shard>,
) -> Result<Read, Vec<String>> {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    let mut position: u64 = 0;
    for (number, line) in input.lines().enumerate() {
        match parse_line(line, default_port) {
            Ok(None) => {}
            Ok(Some(target)) => {
                let mine =
                    shard.is_none_or(|s| position % u64::from(s.count) == u64::from(s.index));
                position += 1;
                if !mine {
                    continue;
                }
                if seen.insert(target.text.clone()) {
                    targets.push(target);
                } else {
                    duplicates += 1;
                }
            }
            Err(e) => {
                if errors.len() < MAX_ERRORS {
                    errors.push(format!("line {}: {e}", number + 1));
                } else if errors.len() == MAX_ERRORS {
                    errors.push("…and more".into());
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(Read {
            targets,
            duplicates,
        })
    } else {
        Err(errors)
    }
}

const MAX_ERRORS: usize = 5;

/// What [`read`] found.
#[derive(Debug)]
pub(crate) struct Read {
    /// The targets to probe, in input order, each once.
    pub(crate) targets: Vec<Target>,
    /// Lines that repeated an earlier target.
    pub(crate) duplicates: usize,
}

/// The targets an earlier run's NDJSON output finished: every address of
/// the target has its `probe` line (`of` says how many it had). Lines that
/// are not whole `probe` events (a line cut by a killed run) are counted,
/// not trusted.
pub(crate) fn finished(ndjson: &str) -> (HashSet<String>, usize) {
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    let mut skipped = 0;
    for line in ndjson.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            skipped += 1;
            continue;
        };
        if value.get("event").and_then(|e| e.as_str()) != Some("probe") {
            continue;
        }
        let target = value.get("target").and_then(|t| t.as_str());
        let of = value.get("of").and_then(serde_json::Value::as_u64);
        match (target, of) {
            (Some(target), Some(of)) => {
                let entry = counts.entry(target.to_string()).or_insert((0, of));
                entry.0 += 1;
            }
            _ => skipped += 1,
        }
    }
    let done = counts
        .into_iter()
        .filter(|(_, (seen, of))| seen >= of)
        .map(|(target, _)| target)
        .collect();
    (done, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &str) -> Kind {
        parse_line(line, 25).unwrap().unwrap().kind
    }

    #[test]
    fn each_form_of_target_is_read() {
        assert_eq!(kind("Example.ORG."), Kind::Domain("example.org".into()));
        assert_eq!(
            kind("mx.example.org:587"),
            Kind::Host {
                host: "mx.example.org".into(),
                port: 587
            }
        );
        assert_eq!(
            kind("192.0.2.7,MX.example.org"),
            Kind::Address {
                addr: "192.0.2.7:25".parse().unwrap(),
                name: "mx.example.org".into()
            }
        );
        assert_eq!(
            kind("[2001:db8::1]:2525,mx.example.org"),
            Kind::Address {
                addr: "[2001:db8::1]:2525".parse().unwrap(),
                name: "mx.example.org".into()
            }
        );
        assert_eq!(
            kind("2001:db8::1"),
            Kind::Address {
                addr: "[2001:db8::1]:25".parse().unwrap(),
                name: "2001:db8::1".into()
            }
        );
        assert_eq!(
            kind("127.0.0.1:2525"),
            Kind::Address {
                addr: "127.0.0.1:2525".parse().unwrap(),
                name: "127.0.0.1".into()
            }
        );
        assert_eq!(parse_line("  # a comment", 25), Ok(None));
        assert_eq!(parse_line("   ", 25), Ok(None));
    }

    #[test]
    fn bad_lines_are_named_and_nothing_is_probed() {
        for bad in [
            "mx.example.org:0",
            "mx.example.org:99999",
            "a b",
            "bad_host!",
            "300.1.1.1,mx",
            "192.0.2.1,",
            "mx..example.org",
            "\u{1b}[31mred",
        ] {
            assert!(parse_line(bad, 25).is_err(), "{bad:?} accepted");
        }
        let err = read("ok.example\nbad name\n", 25, None).unwrap_err();
        assert_eq!(err, vec!["line 2: one target per line, with no spaces"]);
        let idn = parse_line("bücher.example", 25).unwrap_err();
        assert!(idn.contains("xn--"), "{idn}");
    }

    #[test]
    fn shards_split_the_targets_without_overlap_or_loss() {
        let input: String = (0..10).map(|i| format!("host{i}.example\n# c\n")).collect();
        let all: Vec<String> = read(&input, 25, None)
            .unwrap()
            .targets
            .into_iter()
            .map(|t| t.text)
            .collect();
        let mut union = Vec::new();
        for index in 0..3 {
            let shard = Shard { index, count: 3 };
            let part = read(&input, 25, Some(shard)).unwrap().targets;
            assert!(!part.is_empty());
            union.extend(part.into_iter().map(|t| t.text));
        }
        union.sort();
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(union, sorted);
        assert_eq!(
            read(&input, 25, Some("1/3".parse().unwrap()))
                .unwrap()
                .targets
                .iter()
                .map(|t| t.text.as_str())
                .collect::<Vec<_>>(),
            ["host1.example", "host4.example", "host7.example"]
        );
        for bad in ["3/3", "1", "a/b", "0/0", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn duplicates_are_probed_once() {
        let read = read("a.example\nb.example\na.example\n", 25, None).unwrap();
        assert_eq!(read.targets.len(), 2);
        assert_eq!(read.duplicates, 1);
    }

    #[test]
    fn resume_counts_a_target_done_only_with_all_its_addresses() {
        let ndjson = concat!(
            r#"{"v":1,"event":"probe","t_ms":1,"target":"a.example","of":2}"#,
            "\n",
            r#"{"v":1,"event":"probe","t_ms":2,"target":"a.example","of":2}"#,
            "\n",
            r#"{"v":1,"event":"probe","t_ms":3,"target":"b.example","of":2}"#,
            "\n",
            r#"{"v":1,"event":"probe","t_ms":3,"target":"c.example","of":1}"#,
            "\n",
            r#"{"v":1,"event":"probe","t_ms":4,"target":"d.exa"#,
        );
        let (done, skipped) = finished(ndjson);
        let mut done: Vec<_> = done.into_iter().collect();
        done.sort();
        assert_eq!(done, ["a.example", "c.example"]);
        assert_eq!(skipped, 1);
    }
}
