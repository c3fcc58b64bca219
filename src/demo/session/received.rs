//! A message's way into the inbox: the `Received:` header (RFC 5321 §4.4)
//! put in front of it, and the queue id the client is told.

use std::net::IpAddr;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use super::{Reply, Session, Transaction};
use crate::demo::{HOST, Received};

impl Session {
    /// Puts the message in the inbox under a `Received:` header.
    pub(super) fn queue(&self, transaction: Transaction, body: Vec<u8>) -> Reply {
        let now = OffsetDateTime::now_utc();
        let authenticated = self.authenticated;
        let queued = self.inbox.queue(|id| {
            let mut data = self.trace(&transaction, id, now).into_bytes();
            data.extend_from_slice(&body);
            Received {
                from: transaction.from,
                to: transaction.to,
                data,
                authenticated,
            }
        });
        match queued {
            Some(id) => Reply::new(250, (2, 0, 0), format!("Ok: queued as demo-{id}")),
            None => Reply::new(451, (4, 3, 0), "Error: queue file write error"),
        }
    }

    /// The trace header (RFC 5321 §4.4), with the protocol named as RFC
    /// 3848 and RFC 6531 register it (ESMTPS over TLS, ESMTPSA after AUTH,
    /// UTF8SMTP… for SMTPUTF8).
    pub(super) fn trace(&self, transaction: &Transaction, id: u64, date: OffsetDateTime) -> String {
        let (helo, extended) = self
            .greeting
            .as_ref()
            .map_or(("unknown", false), |g| (g.name.as_str(), g.extended));
        let mut with = String::from(match (transaction.smtputf8, extended || self.tls) {
            (true, _) => "UTF8SMTP",
            (false, true) => "ESMTP",
            (false, false) => "SMTP",
        });
        if self.tls {
            with.push('S');
        }
        if self.authenticated {
            with.push('A');
        }
        let name = if self.peer.is_loopback() {
            "localhost"
        } else {
            "unknown"
        };
        let address = match self.peer {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("IPv6:{ip}"),
        };
        let date = date
            .format(&Rfc2822)
            .unwrap_or_else(|_| "Thu, 01 Jan 1970 00:00:00 +0000".into());
        let mut header = format!(
            "Received: from {helo} ({name} [{address}])\r\n\tby {HOST} (smtpcli demo) with {with} id demo-{id}"
        );
        // Only a single recipient is named (RFC 5321 §4.4: no list of
        // everyone in each copy).
        match transaction.to.as_slice() {
            [to] => header.push_str(&format!("\r\n\tfor <{to}>; {date}\r\n")),
            _ => header.push_str(&format!(";\r\n\t{date}\r\n")),
        }
        header
    }
}
