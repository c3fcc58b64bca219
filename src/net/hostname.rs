//! This machine's name for EHLO, found without asking DNS.
//!
//! RFC 5321 §4.1.1.1 wants the client's fully qualified domain name, or an
//! address literal when it has none. Start-up must never stall on a DNS
//! lookup, so only local sources are read: the host name, `/etc/hosts`
//! aliases of it, and Debian's `/etc/mailname`. Without a dotted name, the
//! address literal of the connection's local address is used (never
//! `localhost`).

use std::net::IpAddr;

use crate::session::helpers::is_fqdn;

/// The EHLO name to use when none was given.
pub fn default_ehlo_name(local: Option<IpAddr>) -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mailname = std::fs::read_to_string("/etc/mailname").unwrap_or_default();
    choose(&host, &hosts, &mailname, local)
}

/// The choice, from the sources' contents (testable without the machine).
fn choose(host: &str, hosts: &str, mailname: &str, local: Option<IpAddr>) -> String {
    let usable = |name: &str| is_fqdn(name) && !name.starts_with("localhost");
    if usable(host) {
        return host.to_string();
    }
    // An /etc/hosts line naming this host with a dotted alias.
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or("");
        let names: Vec<&str> = line.split_whitespace().skip(1).collect();
        if !host.is_empty()
            && names.contains(&host)
            && let Some(fqdn) = names.iter().find(|n| usable(n))
        {
            return (*fqdn).to_string();
        }
    }
    let mailname = mailname.trim();
    if usable(mailname) {
        return mailname.to_string();
    }
    match local {
        Some(IpAddr::V4(ip)) => format!("[{ip}]"),
        Some(IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
        None if !host.is_empty() => host.to_string(),
        None => "[127.0.0.1]".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_a_dotted_name_from_local_sources() {
        let v4 = Some("127.0.0.1".parse().unwrap());
        assert_eq!(
            choose("pc0815.example.com", "", "", v4),
            "pc0815.example.com"
        );
        assert_eq!(
            choose("pc0815", "127.0.1.1 pc0815.example.com pc0815\n", "", v4),
            "pc0815.example.com"
        );
        assert_eq!(
            choose("pc0815", "", "mail.example.org\n", v4),
            "mail.example.org"
        );
        assert_eq!(
            choose("pc0815", "127.0.0.1 localhost.localdomain pc0815", "", v4),
            "[127.0.0.1]"
        );
        assert_eq!(
            choose("pc0815", "", "", Some("::1".parse().unwrap())),
            "[IPv6:::1]"
        );
        assert_eq!(choose("localhost", "", "", None), "localhost");
    }
}
