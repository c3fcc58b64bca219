//! Where to connect: the HOST and PORT a user typed, understood.
//!
//! Accepts what admins type: `mail.example.com`, `mail.example.com:587`,
//! `192.0.2.1`, `[2001:db8::1]:25`, a bare IPv6 address, and service names
//! (`smtp`, `submission`, `smtps`, `lmtp`) for the port. Pure parsing: no
//! name is resolved here.

use std::fmt;

use thiserror::Error;

/// A host and port to connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// A name or an address literal (IPv6 without brackets).
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A HOST or PORT that cannot be understood.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetError {
    /// Not a number from 1 to 65535 nor a known service name.
    #[error("'{0}' is not a port: use a number from 1 to 65535 or smtp, submission, smtps, lmtp")]
    BadPort(String),
    /// A port given both in HOST and as PORT, differently.
    #[error("the port is given twice: {0} in the host and {1} as PORT")]
    TwoPorts(u16, u16),
    /// `[` without `]`, or an empty host.
    #[error("'{0}' is not a host: try a name, an IPv4 address, or [IPv6]:port")]
    BadHost(String),
}

/// The port a service name or number stands for.
pub fn parse_port(text: &str) -> Result<u16, TargetError> {
    match text.to_ascii_lowercase().as_str() {
        "smtp" => Ok(25),
        "submission" => Ok(587),
        "smtps" | "submissions" => Ok(465),
        "lmtp" => Ok(24),
        other => other
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| TargetError::BadPort(text.to_string())),
    }
}

/// Reads HOST and an optional PORT; `default_port` applies when neither says.
pub fn parse_target(
    host: &str,
    port: Option<&str>,
    default_port: u16,
) -> Result<Target, TargetError> {
    let (name, port_in_host) = split_host(host)?;
    let explicit = port.map(parse_port).transpose()?;
    let port = match (port_in_host, explicit) {
        (Some(a), Some(b)) if a != b => return Err(TargetError::TwoPorts(a, b)),
        (Some(p), _) | (None, Some(p)) => p,
        (None, None) => default_port,
    };
    Ok(Target {
        host: name.to_string(),
        port,
    })
}

fn split_host(host: &str) -> Result<(&str, Option<u16>), TargetError> {
    let bad = || TargetError::BadHost(host.to_string());
    if let Some(rest) = host.strip_prefix('[') {
        let (addr, after) = rest.split_once(']').ok_or_else(bad)?;
        if addr.is_empty() {
            return Err(bad());
        }
        return match after {
            "" => Ok((addr, None)),
            _ => {
                let port = after.strip_prefix(':').ok_or_else(bad)?;
                Ok((addr, Some(parse_port(port)?)))
            }
        };
    }
    // More than one colon: a bare IPv6 address, no port.
    if host.matches(':').count() > 1 {
        return Ok((host, None));
    }
    match host.split_once(':') {
        Some((name, port)) if !name.is_empty() => Ok((name, Some(parse_port(port)?))),
        Some(_) => Err(bad()),
        None if host.is_empty() => Err(bad()),
        None => Ok((host, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_admins_type() {
        let t = |h: &str, p: Option<&str>| parse_target(h, p, 25).map(|t| (t.host, t.port));
        let ok = |h: &str, port| Ok((h.to_string(), port));
        assert_eq!(t("mail.example.com", None), ok("mail.example.com", 25));
        assert_eq!(
            t("mail.example.com", Some("587")),
            ok("mail.example.com", 587)
        );
        assert_eq!(
            t("mail.example.com:2525", None),
            ok("mail.example.com", 2525)
        );
        assert_eq!(t("127.0.0.1", Some("submission")), ok("127.0.0.1", 587));
        assert_eq!(t("[::1]:2525", None), ok("::1", 2525));
        assert_eq!(t("[::1]", Some("smtps")), ok("::1", 465));
        assert_eq!(t("::1", None), ok("::1", 25));
        assert_eq!(t("2001:db8::1", Some("25")), ok("2001:db8::1", 25));
        assert_eq!(t("h:25", Some("25")), ok("h", 25));
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(
            parse_target("h", Some("0"), 25),
            Err(TargetError::BadPort("0".into()))
        );
        assert_eq!(
            parse_target("h", Some("http"), 25),
            Err(TargetError::BadPort("http".into()))
        );
        assert_eq!(
            parse_target("h:25", Some("587"), 25),
            Err(TargetError::TwoPorts(25, 587))
        );
        assert_eq!(
            parse_target("[::1", None, 25),
            Err(TargetError::BadHost("[::1".into()))
        );
        assert_eq!(
            parse_target("", None, 25),
            Err(TargetError::BadHost("".into()))
        );
    }

    #[test]
    fn display_brackets_ipv6() {
        let t = parse_target("[::1]:25", None, 25).unwrap();
        assert_eq!(t.to_string(), "[::1]:25");
    }
}
