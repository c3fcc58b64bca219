//! `--check DOMAIN` for a whole domain: the DNS questions (to the
//! validating resolver, AD bit read), the MTA-STS policy fetch and the
//! TLS-RPT record, and every address of every MX host checked
//! ([`super::check_address`]), all at once: the domain takes as long as
//! its slowest MX address, not the sum.
//!
//! Nothing here prints; [`DomainCheck`] is what the UI shows.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use hickory_resolver::proto::rr::{RData, RecordType};
use thiserror::Error;
use tokio::task::JoinSet;

use super::{AddressCheck, judge};
use crate::net::dnssec::{self, Answer, DnsError, Status};
use crate::net::policy_fetch;
use crate::net::tls::dane::chain::TlsaAnswer;
use crate::net::{ConnectOptions, Family};
use crate::proto::policy::mta_sts::{self, Policy, StsRecord, check_response, sts_record};
use crate::proto::policy::tls_rpt::{self, TlsRptRecord, tlsrpt_record};
use crate::proto::policy::verdict::{Dane, Kind, Sts};
use crate::session::SessionOptions;
use crate::session::probe::{self, ProbeSpec};
use crate::text::Untrusted;

/// The port DANE's TLSA name and the live attempt use (RFC 7672 §2.2).
pub const SMTP_PORT: u16 = 25;
/// Where a policy host serves its policy (RFC 8461 §3.3).
pub const HTTPS_PORT: u16 = 443;

/// The most one MX server may send during the check.
const MAX_BYTES: u64 = 256 * 1024;

/// What to check and how.
#[derive(Clone, Debug)]
pub struct CheckSpec {
    /// The domain (ASCII, A-labels), without a final dot.
    pub domain: String,
    /// The validating resolver whose AD bit is trusted.
    pub resolver: SocketAddr,
    /// `-4`/`-6`, `--source` and the connect timeout for the MX hosts.
    pub connect: ConnectOptions,
    /// TLS settings (`--ca-file` and the like; the name is set per MX
    /// host) and the reply timeouts.
    pub session: SessionOptions,
    /// The name to greet with.
    pub ehlo: String,
    /// Each DNS question's bound.
    pub dns_timeout: Duration,
    /// The policy fetch's bound.
    pub fetch_timeout: Duration,
}

/// Why the domain could not be checked at all.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error("asking for the MX records of {domain}: {source}")]
    Dns {
        domain: String,
        #[source]
        source: DnsError,
    },
    #[error("{0} does not exist (NXDOMAIN)")]
    NoSuchDomain(String),
    #[error("the resolver could not answer for the MX records of {domain} (rcode {rcode})")]
    Failed { domain: String, rcode: u16 },
    #[error(
        "the MX answer for {0} failed DNSSEC validation (bogus): a validating sender defers all mail to it"
    )]
    BogusMx(String),
    #[error("{0} accepts no mail: its MX record is the null MX (RFC 7505)")]
    NullMx(String),
    #[error("{0} has no MX record and no address: there is nowhere to deliver")]
    NoMx(String),
}

impl CheckError {
    /// Whether the domain's own DNS says mail cannot be delivered (a
    /// finding), rather than the check failing.
    pub fn is_finding(&self) -> bool {
        matches!(
            self,
            CheckError::BogusMx(_) | CheckError::NullMx(_) | CheckError::NoMx(_)
        )
    }
}

/// Where the MX hosts came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MxSource {
    /// MX records.
    Records,
    /// No MX records: the domain itself (RFC 5321 §5.1, implicit MX).
    Implicit,
}

/// The whole check of a domain.
#[derive(Debug)]
pub struct DomainCheck {
    pub domain: String,
    pub mx_source: MxSource,
    /// The MX answer (or the implicit MX's address answer) was validated.
    pub mx_secure: bool,
    /// MX hosts in preference order.
    pub hosts: Vec<HostCheck>,
    pub sts: StsFinding,
    pub tls_rpt: TlsRptFinding,
    pub took: Duration,
}

/// One MX host.
#[derive(Debug)]
pub struct HostCheck {
    pub preference: u16,
    /// The host name, as the MX record gave it.
    pub name: Untrusted,
    /// The TLSA answer for `_25._tcp.` [`Self::tlsa_base`].
    pub tlsa: TlsaAnswer,
    /// Where the TLSA records were found when not at the host name: the
    /// name's fully CNAME-expanded name (RFC 7672 §2.2.2).
    pub tlsa_base: Option<Untrusted>,
    /// The MTA-STS outcome for this host.
    pub sts: Sts,
    /// Why the host has no address to check, if it has none.
    pub no_address: Option<String>,
    /// Each address, checked.
    pub addresses: Vec<(SocketAddr, AddressCheck)>,
}

/// The MTA-STS side of the domain.
#[derive(Debug, Default)]
pub struct StsFinding {
    /// The `_mta-sts` TXT record; `None` when there is none.
    pub record: Option<StsRecord>,
    /// Why the TXT answers give no usable record (or could not be had).
    pub record_error: Option<String>,
    /// The fetch, when a record asked for one.
    pub fetch: Option<Fetch>,
    /// The policy, when one was fetched and read.
    pub policy: Option<Policy>,
    /// Why there is no policy although a record exists.
    pub error: Option<String>,
}

/// What the policy host answered.
#[derive(Debug, Default)]
pub struct Fetch {
    /// `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`.
    pub url: String,
    /// The address that answered (or was tried last).
    pub address: Option<SocketAddr>,
    pub status: Option<u16>,
    pub content_type: Option<Untrusted>,
}

impl DomainCheck {
    /// How many addresses are authenticated, unauthenticated and defer; a
    /// host with no address counts as one defer.
    pub fn counts(&self) -> [usize; 3] {
        let mut counts = [0; 3];
        for host in &self.hosts {
            if host.no_address.is_some() {
                counts[2] += 1;
            }
            for (_, checked) in &host.addresses {
                counts[match checked.verdict.kind {
                    Kind::Authenticated => 0,
                    Kind::Unauthenticated => 1,
                    Kind::Defer => 2,
                }] += 1;
            }
        }
        counts
    }
}

impl HostCheck {
    /// The name TLSA records were asked for under (`_25._tcp.` this).
    pub fn tlsa_base(&self) -> &Untrusted {
        self.tlsa_base.as_ref().unwrap_or(&self.name)
    }

    /// The DANE outcome the host's answers give before any chain is seen:
    /// `None` when signed records exist (only a chain can say).
    pub fn dane_without_chain(&self, mx_secure: bool) -> Option<Dane> {
        match &self.tlsa {
            _ if !mx_secure => Some(Dane::InsecureMx),
            TlsaAnswer::None => Some(Dane::NoRecords),
            TlsaAnswer::Bogus => Some(Dane::Bogus),
            TlsaAnswer::Failed => Some(Dane::LookupFailed),
            TlsaAnswer::Records { secure: false, .. } => Some(Dane::Insecure),
            TlsaAnswer::Records { .. } => None,
        }
    }
}

impl StsFinding {
    /// The MTA-STS outcome for the MX host `host`.
    pub fn for_host(&self, host: &str) -> Sts {
        match (&self.record, &self.policy) {
            (None, _) if self.record_error.is_none() => Sts::NoPolicy,
            (_, Some(policy)) => Sts::Policy {
                mode: policy.mode,
                mx_matches: policy.matching_mx(host).is_some(),
            },
            _ => Sts::Unavailable,
        }
    }
}

/// The TLS-RPT side of the domain.
#[derive(Debug, Default)]
pub struct TlsRptFinding {
    pub record: Option<TlsRptRecord>,
    /// Why the TXT answers give no usable record.
    pub error: Option<String>,
}

/// Checks `spec.domain`.
pub async fn check_domain(spec: &CheckSpec) -> Result<DomainCheck, CheckError> {
    let started = Instant::now();
    let domain = spec.domain.trim_end_matches('.').to_owned();
    let ask = |name: String, rtype: RecordType| {
        let server = spec.resolver;
        let timeout = spec.dns_timeout;
        async move {
            let name = dnssec::name(&name)?;
            dnssec::ask(server, &name, rtype, timeout).await
        }
    };
    let (mx, sts_txt, rpt_txt) = tokio::join!(
        ask(domain.clone(), RecordType::MX),
        ask(mta_sts::record_name(&domain), RecordType::TXT),
        ask(tls_rpt::record_name(&domain), RecordType::TXT),
    );
    let mx = mx.map_err(|source| CheckError::Dns {
        domain: domain.clone(),
        source,
    })?;
    let (mx_source, mx_secure, hosts) = mx_hosts(spec, &domain, &mx).await?;

    // The policy fetch runs beside the MX hosts' checks.
    let fetch_spec = spec.clone();
    let fetch_domain = domain.clone();
    let sts_task = tokio::task::spawn_local(async move {
        let mut found = StsFinding::default();
        read_sts_record(&mut found, sts_txt);
        if found.record.is_some() {
            fetch_policy(&fetch_spec, &fetch_domain, &mut found).await;
        }
        found
    });

    let mut tasks = JoinSet::new();
    for (index, (preference, name)) in hosts.iter().enumerate() {
        let spec = spec.clone();
        let name = name.clone();
        let preference = *preference;
        tasks.spawn_local(async move { (index, probe_host(&spec, preference, name).await) });
    }
    let mut probed: Vec<Option<ProbedHost>> = (0..hosts.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, host)) = joined {
            probed[index] = Some(host);
        }
    }
    let sts = match sts_task.await {
        Ok(found) => found,
        Err(e) => StsFinding {
            error: Some(format!("the policy fetch stopped: {e}")),
            ..StsFinding::default()
        },
    };

    let hosts = probed
        .into_iter()
        .flatten()
        .map(|host| {
            let name = host.name.unchecked_str().into_owned();
            let host_sts = sts.for_host(&name);
            let addresses = host
                .probes
                .into_iter()
                .map(|(addr, found)| (addr, judge(found, &host.tlsa, mx_secure, host_sts)))
                .collect();
            HostCheck {
                preference: host.preference,
                name: host.name,
                tlsa: host.tlsa,
                tlsa_base: host.tlsa_base.map(|b| Untrusted::new(b.as_bytes())),
                sts: host_sts,
                no_address: host.no_address,
                addresses,
            }
        })
        .collect();
    Ok(DomainCheck {
        tls_rpt: read_tls_rpt(rpt_txt),
        domain,
        mx_source,
        mx_secure,
        hosts,
        sts,
        took: started.elapsed(),
    })
}

/// The MX hosts by preference, from the MX answer, or the domain itself
/// when it has none; the answer's AD bit.
async fn mx_hosts(
    spec: &CheckSpec,
    domain: &str,
    mx: &Answer,
) -> Result<(MxSource, bool, Vec<(u16, String)>), CheckError> {
    match mx.status {
        Status::NoError => {}
        Status::NxDomain => return Err(CheckError::NoSuchDomain(domain.to_owned())),
        Status::Bogus => return Err(CheckError::BogusMx(domain.to_owned())),
        Status::Failed(rcode) => {
            return Err(CheckError::Failed {
                domain: domain.to_owned(),
                rcode,
            });
        }
    }
    let hosts = dnssec::mx_hosts(mx);
    // RFC 7505: one MX record with the root as its exchange.
    if hosts.len() == 1 && hosts[0].1.is_empty() {
        return Err(CheckError::NullMx(domain.to_owned()));
    }
    if !hosts.is_empty() {
        return Ok((MxSource::Records, mx.authenticated, hosts));
    }
    // No MX: the domain's own address is the MX (with DNSSEC status of the
    // address answer).
    let own = addresses(spec, domain).await;
    match own.found {
        Ok(found) if !found.is_empty() => {
            Ok((MxSource::Implicit, own.secure, vec![(0, domain.to_owned())]))
        }
        _ => Err(CheckError::NoMx(domain.to_owned())),
    }
}

/// What one MX host's checks found before the verdicts.
struct ProbedHost {
    preference: u16,
    name: Untrusted,
    tlsa: TlsaAnswer,
    tlsa_base: Option<String>,
    no_address: Option<String>,
    probes: Vec<(SocketAddr, probe::Probe)>,
}

/// The TLSA answer for `_25._tcp.BASE`.
async fn tlsa_at(spec: &CheckSpec, base: &str) -> TlsaAnswer {
    match dnssec::name(&format!("_{SMTP_PORT}._tcp.{base}")) {
        Ok(n) => match dnssec::ask(spec.resolver, &n, RecordType::TLSA, spec.dns_timeout).await {
            Ok(answer) => dnssec::tlsa_answer(&answer),
            Err(_) => TlsaAnswer::Failed,
        },
        Err(_) => TlsaAnswer::Failed,
    }
}

/// One MX host: its TLSA records and addresses, then every address probed
/// at once.
///
/// An MX name that is an alias whose expansion validated has its TLSA
/// records looked for at the fully expanded name first, then at the name
/// itself (RFC 7672 §2.2.2); the SNI sent is the name the records were
/// found at. The records at the MX name are asked for beside the
/// addresses, so an alias costs one more question, none otherwise.
async fn probe_host(spec: &CheckSpec, preference: u16, name: String) -> ProbedHost {
    let (addresses, initial) = tokio::join!(addresses(spec, &name), tlsa_at(spec, &name));
    let (tlsa, tlsa_base) = match addresses.canonical {
        Some(expanded) if addresses.secure => match tlsa_at(spec, &expanded).await {
            TlsaAnswer::None => (initial, None),
            found => (found, Some(expanded)),
        },
        _ => (initial, None),
    };
    let mut host = ProbedHost {
        preference,
        name: Untrusted::new(name.as_bytes()),
        tlsa,
        tlsa_base,
        no_address: None,
        probes: Vec::new(),
    };
    let addresses = match addresses.found {
        Ok(found) if found.is_empty() => {
            host.no_address = Some(format!("{name} has no address"));
            return host;
        }
        Ok(found) => found,
        Err(why) => {
            host.no_address = Some(why);
            return host;
        }
    };
    let sni = host.tlsa_base.as_deref().unwrap_or(&name);
    let mut tasks = JoinSet::new();
    for (index, ip) in addresses.iter().enumerate() {
        let probe_spec = probe_spec(spec, &name, sni, SocketAddr::new(*ip, SMTP_PORT));
        tasks.spawn_local(async move { (index, probe::probe(&probe_spec).await) });
    }
    let mut found: Vec<Option<(SocketAddr, probe::Probe)>> =
        (0..addresses.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, probed)) = joined {
            found[index] = Some((SocketAddr::new(addresses[index], SMTP_PORT), probed));
        }
    }
    host.probes = found.into_iter().flatten().collect();
    host
}

/// The probe of one MX address: STARTTLS whatever the certificate (DANE
/// needs the chain), the certificate checked against the MX host name
/// (MTA-STS's name), `sni` sent (DANE's TLSA base name, also a name the
/// certificate may be for).
fn probe_spec(spec: &CheckSpec, host: &str, sni: &str, addr: SocketAddr) -> ProbeSpec {
    let mut session = spec.session.clone();
    let mut tls = session.tls.clone();
    tls.check_name = host.to_owned();
    tls.sni = Some(sni.to_owned());
    tls.mx_host = Some(host.to_owned());
    tls.next_hop = Some(spec.domain.clone());
    tls.verify = false;
    session.tls = tls;
    session.implicit_tls = false;
    ProbeSpec {
        addr,
        connect: spec.connect.clone(),
        session,
        ehlo: spec.ehlo.clone(),
        max_bytes: MAX_BYTES,
        greeted: Arc::new(AtomicBool::new(false)),
    }
}

/// A host's addresses through the resolver (A and AAAA, as `-4`/`-6`
/// allow).
struct Addresses {
    /// The addresses; an error says why none could be had.
    found: Result<Vec<IpAddr>, String>,
    /// Every answer was validated.
    secure: bool,
    /// The host name's fully CNAME-expanded name, when it is an alias
    /// (without the final dot).
    canonical: Option<String>,
}

async fn addresses(spec: &CheckSpec, host: &str) -> Addresses {
    let name = match dnssec::name(host) {
        Ok(name) => name,
        Err(e) => {
            return Addresses {
                found: Err(e.to_string()),
                secure: false,
                canonical: None,
            };
        }
    };
    let want_v4 = spec.connect.family != Family::V6;
    let want_v6 = spec.connect.family != Family::V4;
    let ask = |rtype, wanted: bool| {
        let name = name.clone();
        async move {
            if wanted {
                Some(dnssec::ask(spec.resolver, &name, rtype, spec.dns_timeout).await)
            } else {
                None
            }
        }
    };
    let (v4, v6) = tokio::join!(ask(RecordType::A, want_v4), ask(RecordType::AAAA, want_v6));
    let mut found = Vec::new();
    let mut secure = true;
    let mut canonical = None;
    let mut errors = Vec::new();
    for answer in [v4, v6].into_iter().flatten() {
        match answer {
            Ok(answer) => {
                secure &= answer.authenticated;
                match answer.status {
                    Status::Bogus => errors.push(format!("the address of {host} is bogus")),
                    Status::Failed(rcode) => {
                        errors.push(format!("the address lookup failed (rcode {rcode})"))
                    }
                    Status::NoError | Status::NxDomain => {}
                }
                canonical = canonical.or(answer.canonical);
                for record in &answer.records {
                    match record {
                        RData::A(a) => found.push(IpAddr::V4(a.0)),
                        RData::AAAA(a) => found.push(IpAddr::V6(a.0)),
                        _ => {}
                    }
                }
            }
            Err(e) => {
                secure = false;
                errors.push(e.to_string());
            }
        }
    }
    let canonical = canonical.map(|n| n.to_ascii().trim_end_matches('.').to_owned());
    if found.is_empty() && !errors.is_empty() {
        return Addresses {
            found: Err(errors.join("; ")),
            secure: false,
            canonical,
        };
    }
    Addresses {
        found: Ok(found),
        secure,
        canonical,
    }
}

fn read_sts_record(found: &mut StsFinding, answer: Result<Answer, DnsError>) {
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => {
            found.record_error = Some(e.to_string());
            return;
        }
    };
    match answer.status {
        Status::NoError | Status::NxDomain => {}
        Status::Bogus => {
            found.record_error = Some("the _mta-sts answer is bogus".into());
            return;
        }
        Status::Failed(rcode) => {
            found.record_error = Some(format!("the _mta-sts lookup failed (rcode {rcode})"));
            return;
        }
    }
    let records = dnssec::txt_records(&answer);
    match sts_record(records.iter().map(Vec::as_slice)) {
        Ok(record) => found.record = record,
        Err(e) => found.record_error = Some(e.to_string()),
    }
}

/// Fetches and reads the policy from `mta-sts.DOMAIN`, trying its
/// addresses in turn.
async fn fetch_policy(spec: &CheckSpec, domain: &str, found: &mut StsFinding) {
    let host = mta_sts::policy_host(domain);
    let mut fetch = Fetch {
        url: format!("https://{host}{}", mta_sts::POLICY_PATH),
        ..Fetch::default()
    };
    let addresses = match addresses(spec, &host).await.found {
        Ok(found) if !found.is_empty() => found,
        Ok(_) => {
            found.error = Some(format!("{host} has no address"));
            found.fetch = Some(fetch);
            return;
        }
        Err(why) => {
            found.error = Some(format!("{host}: {why}"));
            found.fetch = Some(fetch);
            return;
        }
    };
    let mut last_error = String::new();
    for ip in addresses {
        let addr = SocketAddr::new(ip, HTTPS_PORT);
        fetch.address = Some(addr);
        let ca_file = spec.session.tls.ca_file.clone();
        match policy_fetch::fetch(&host, addr, ca_file, spec.fetch_timeout).await {
            Ok(response) => {
                fetch.status = Some(response.status);
                fetch.content_type = response.content_type.clone();
                let content_type = response.content_type.as_ref().map(|c| c.as_bytes());
                let read = check_response(response.status, content_type)
                    .map_err(|e| e.to_string())
                    .and_then(|()| Policy::parse(&response.body).map_err(|e| e.to_string()));
                match read {
                    Ok(policy) => found.policy = Some(policy),
                    Err(e) => found.error = Some(e),
                }
                found.fetch = Some(fetch);
                return;
            }
            Err(e) => last_error = format!("{addr}: {e}"),
        }
    }
    found.error = Some(last_error);
    found.fetch = Some(fetch);
}

fn read_tls_rpt(answer: Result<Answer, DnsError>) -> TlsRptFinding {
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => {
            return TlsRptFinding {
                record: None,
                error: Some(e.to_string()),
            };
        }
    };
    if let Status::Failed(rcode) = answer.status {
        return TlsRptFinding {
            record: None,
            error: Some(format!("the _smtp._tls lookup failed (rcode {rcode})")),
        };
    }
    if answer.status == Status::Bogus {
        return TlsRptFinding {
            record: None,
            error: Some("the _smtp._tls answer is bogus".into()),
        };
    }
    let records = dnssec::txt_records(&answer);
    match tlsrpt_record(records.iter().map(Vec::as_slice).collect::<Vec<_>>()) {
        Ok(record) => TlsRptFinding {
            record,
            error: None,
        },
        Err(e) => TlsRptFinding {
            record: None,
            error: Some(e.to_string()),
        },
    }
}
