//! One question to a validating resolver, with its answer's AD bit: what
//! DANE and the policy checks of `--check` trust, the way Postfix does
//! (RFC 7672 §2.1: DNSSEC status from the resolver's AD bit, so the
//! resolver given with `--resolver` must validate and be trusted).
//!
//! hickory-resolver hides the header, so this asks directly: a query with
//! RD, AD (RFC 6840 §5.7) and EDNS0's DO bit over UDP, again over TCP when
//! the answer is truncated. [`encode_query`] and [`decode_answer`] are
//! sans-IO; [`ask`] is the I/O. A SERVFAIL is asked again with CD (no
//! validation): if that one answers, the data is there and failed
//! validation, so the answer was bogus ([`Status::Bogus`]).

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::tls::dane::Tlsa;
use super::tls::dane::chain::TlsaAnswer;

/// The largest UDP answer asked for (the DNS flag day 2020 size).
const UDP_PAYLOAD: u16 = 1232;

/// Why no answer could be had.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DnsError {
    #[error("'{0}' is not a domain name")]
    Name(String),
    #[error("the resolver {server} did not answer within {seconds}s")]
    Timeout { server: SocketAddr, seconds: u64 },
    #[error("asking the resolver {server}: {source}")]
    Io {
        server: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the resolver's answer does not read: {0}")]
    Malformed(String),
    #[error("the resolver's answer is not for the question asked")]
    Mismatch,
}

/// How the resolver answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// NOERROR (with records or none: NODATA).
    NoError,
    /// NXDOMAIN: the name does not exist.
    NxDomain,
    /// SERVFAIL, and the same question with CD answers: validation failed.
    Bogus,
    /// SERVFAIL for another reason, REFUSED, or another code (its number).
    Failed(u16),
}

/// A resolver's answer to one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: Status,
    /// The AD bit: the resolver validated the answer (or the denial).
    pub authenticated: bool,
    /// The answer section's records of the type asked (after any CNAME).
    pub records: Vec<RData>,
    /// Where the answer's CNAME chain from the name asked ends, when that
    /// name is an alias: its fully expanded name (RFC 7672 §2.2.2).
    pub canonical: Option<Name>,
}

/// The most CNAME records followed from the name asked.
const MAX_CNAME_HOPS: usize = 16;

/// The name as a fully qualified DNS name.
pub fn name(text: &str) -> Result<Name, DnsError> {
    let fq = if text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.")
    };
    Name::from_ascii(&fq).map_err(|_| DnsError::Name(text.chars().take(80).collect()))
}

/// The query's bytes: RD, AD and DO set, and CD if `no_validation`.
pub fn encode_query(
    id: u16,
    name: &Name,
    rtype: RecordType,
    no_validation: bool,
) -> Result<Vec<u8>, DnsError> {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.metadata.authentic_data = true;
    message.metadata.checking_disabled = no_validation;
    message.add_query(Query::query(name.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_dnssec_ok(true).set_max_payload(UDP_PAYLOAD);
    message.set_edns(edns);
    message
        .to_vec()
        .map_err(|e| DnsError::Malformed(e.to_string()))
}

/// The answer in `bytes` to query `id` for `name`/`rtype`: its code, AD
/// bit and records; `Ok(None)` if it was truncated (ask again over TCP).
/// A SERVFAIL comes back as `Failed(2)`: only [`ask`] can tell bogus.
pub fn decode_answer(
    bytes: &[u8],
    id: u16,
    name: &Name,
    rtype: RecordType,
) -> Result<Option<Answer>, DnsError> {
    let message = Message::from_vec(bytes).map_err(|e| DnsError::Malformed(e.to_string()))?;
    let meta = &message.metadata;
    let asked = message
        .queries
        .first()
        .is_some_and(|q| q.query_type() == rtype && q.name() == name);
    if meta.id != id || meta.message_type != MessageType::Response || !asked {
        return Err(DnsError::Mismatch);
    }
    if meta.truncation {
        return Ok(None);
    }
    let status = match meta.response_code {
        ResponseCode::NoError => Status::NoError,
        ResponseCode::NXDomain => Status::NxDomain,
        other => Status::Failed(u16::from(other)),
    };
    let records = message
        .answers
        .iter()
        .filter(|r| r.record_type() == rtype)
        .map(|r| r.data.clone())
        .collect();
    Ok(Some(Answer {
        status,
        authenticated: meta.authentic_data,
        records,
        canonical: cname_target(&message.answers, name),
    }))
}

/// The end of the CNAME chain from `name` in `answers`, if `name` is an
/// alias. A chain that loops, or runs past [`MAX_CNAME_HOPS`], has no end:
/// `None`, as for no alias.
fn cname_target(answers: &[Record], name: &Name) -> Option<Name> {
    let mut seen = vec![name.clone()];
    loop {
        let current = seen.last()?;
        let next = answers.iter().find_map(|r| match &r.data {
            RData::CNAME(target) if r.name == *current => Some(target.0.clone()),
            _ => None,
        });
        match next {
            None => break,
            Some(target) if seen.contains(&target) || seen.len() > MAX_CNAME_HOPS => return None,
            Some(target) => seen.push(target),
        }
    }
    if seen.len() > 1 { seen.pop() } else { None }
}

/// Asks `server` about `name`/`rtype`, within `timeout` for each exchange.
pub async fn ask(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    timeout: Duration,
) -> Result<Answer, DnsError> {
    let answer = exchange(server, name, rtype, false, timeout).await?;
    if answer.status != Status::Failed(2) {
        return Ok(answer);
    }
    let unchecked = exchange(server, name, rtype, true, timeout).await?;
    Ok(match unchecked.status {
        Status::NoError | Status::NxDomain => Answer {
            status: Status::Bogus,
            authenticated: false,
            records: Vec::new(),
            canonical: None,
        },
        _ => answer,
    })
}

async fn exchange(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    no_validation: bool,
    timeout: Duration,
) -> Result<Answer, DnsError> {
    let id = getrandom::u32().map_or(0x5a5a, |r| (r & 0xffff) as u16);
    let query = encode_query(id, name, rtype, no_validation)?;
    let io = |source| DnsError::Io { server, source };
    let late = || DnsError::Timeout {
        server,
        seconds: timeout.as_secs().max(1),
    };
    let bind: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let udp = tokio::time::timeout(timeout, async {
        let socket = UdpSocket::bind(bind).await.map_err(io)?;
        socket.connect(server).await.map_err(io)?;
        socket.send(&query).await.map_err(io)?;
        let mut buf = vec![0u8; usize::from(UDP_PAYLOAD) * 4];
        loop {
            let n = socket.recv(&mut buf).await.map_err(io)?;
            // A stray datagram (another id) is not the answer: keep waiting.
            match decode_answer(&buf[..n], id, name, rtype) {
                Err(DnsError::Mismatch) => continue,
                other => return other,
            }
        }
    })
    .await
    .map_err(|_| late())??;
    if let Some(answer) = udp {
        return Ok(answer);
    }
    tokio::time::timeout(timeout, async {
        let mut stream = TcpStream::connect(server).await.map_err(io)?;
        let len =
            u16::try_from(query.len()).map_err(|_| DnsError::Malformed("query too long".into()))?;
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(&query);
        stream.write_all(&framed).await.map_err(io)?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.map_err(io)?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut buf).await.map_err(io)?;
        decode_answer(&buf, id, name, rtype)?
            .ok_or_else(|| DnsError::Malformed("a truncated answer over TCP".into()))
    })
    .await
    .map_err(|_| late())?
}

/// The first `nameserver` of a resolv.conf text, on port 53.
pub fn first_nameserver(resolv_conf: &str) -> Option<SocketAddr> {
    resolv_conf.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some("nameserver"))
            .then(|| words.next())
            .flatten()
            // A link-local IPv6 server carries its interface: fe80::1%eth0.
            .and_then(|ip| ip.split('%').next()?.parse::<std::net::IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

/// The system's first name server (`/etc/resolv.conf`), if there is one.
pub fn system_resolver() -> Option<SocketAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    first_nameserver(&text)
}

/// The TLSA outcome of an answer for `_25._tcp.MXHOST`.
pub fn tlsa_answer(answer: &Answer) -> TlsaAnswer {
    match answer.status {
        Status::Bogus => TlsaAnswer::Bogus,
        Status::Failed(_) => TlsaAnswer::Failed,
        Status::NxDomain => TlsaAnswer::None,
        Status::NoError => {
            let records: Vec<Tlsa> = answer
                .records
                .iter()
                .filter_map(|r| match r {
                    RData::TLSA(t) => Some(Tlsa {
                        usage: u8::from(t.cert_usage),
                        selector: u8::from(t.selector),
                        matching: u8::from(t.matching),
                        data: t.cert_data.clone(),
                    }),
                    _ => None,
                })
                .collect();
            if records.is_empty() {
                TlsaAnswer::None
            } else {
                TlsaAnswer::Records {
                    records,
                    secure: answer.authenticated,
                }
            }
        }
    }
}

/// Each TXT record of an answer, its strings joined (RFC 8461 §3.1, RFC
/// 8460 §3), for `proto::policy`.
pub fn txt_records(answer: &Answer) -> Vec<Vec<u8>> {
    answer
        .records
        .iter()
        .filter_map(|r| match r {
            RData::TXT(t) => Some(t.txt_data.iter().flat_map(|s| s.iter().copied()).collect()),
            _ => None,
        })
        .collect()
}

/// The MX hosts of an answer, by preference (lowest first), names without
/// the final dot.
pub fn mx_hosts(answer: &Answer) -> Vec<(u16, String)> {
    let mut hosts: Vec<(u16, String)> = answer
        .records
        .iter()
        .filter_map(|r| match r {
            RData::MX(mx) => Some((
                mx.preference,
                mx.exchange.to_ascii().trim_end_matches('.').to_owned(),
            )),
            _ => None,
        })
        .collect();
    hosts.sort();
    hosts
}

#[cfg(test)]
#[path = "dnssec_tests.rs"]
mod tests;
