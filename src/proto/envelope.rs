//! The envelope a helper sends (`:send`, the one-line send): MAIL and RCPT
//! parameters chosen from what was asked for and what the server offers.
//!
//! Sans-IO: [`plan`] takes the request, the server's capabilities and
//! whether the connection is encrypted, and returns the transactions to run
//! (or why not); [`Plan::fit`] adds what depends on the message (`SIZE`,
//! `BODY=8BITMIME`). A parameter whose extension the server did not
//! advertise is refused, naming the keyword, unless the request is `lax`;
//! `REQUIRETLS` never goes out in plaintext. Typed `MAIL`/`RCPT` lines are
//! not planned here: they go out as typed, with a lint.

use thiserror::Error;

use super::ehlo::Capabilities;
use super::param::{Param, xtext_encode};

/// The longest `ENVID` value on the wire (RFC 3461 §4.4: 100 characters).
const ENVID_MAX: usize = 100;

/// `BODY=` (RFC 6152, RFC 3030).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyType {
    /// `7BIT`.
    SevenBit,
    /// `8BITMIME`.
    EightBitMime,
    /// `BINARYMIME`: only with BDAT.
    BinaryMime,
}

impl BodyType {
    /// Reads `7bit`, `8bitmime` or `binarymime`, ignoring case.
    pub fn parse(text: &str) -> Option<BodyType> {
        match text.to_ascii_uppercase().as_str() {
            "7BIT" => Some(BodyType::SevenBit),
            "8BITMIME" => Some(BodyType::EightBitMime),
            "BINARYMIME" => Some(BodyType::BinaryMime),
            _ => None,
        }
    }

    /// The value on the wire.
    pub fn wire(self) -> &'static str {
        match self {
            BodyType::SevenBit => "7BIT",
            BodyType::EightBitMime => "8BITMIME",
            BodyType::BinaryMime => "BINARYMIME",
        }
    }
}

/// What the user asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The reverse path without brackets; empty for `<>`.
    pub from: String,
    /// The recipients, as given.
    pub to: Vec<String>,
    /// `SMTPUTF8` even when every address is ASCII.
    pub smtputf8: bool,
    /// DSN `RET=FULL|HDRS`.
    pub ret: Option<String>,
    /// DSN `ENVID`, decoded (xtext on the wire).
    pub envid: Option<String>,
    /// DSN `NOTIFY=NEVER` or a list of `SUCCESS`, `FAILURE`, `DELAY`.
    pub notify: Option<String>,
    /// DSN `ORCPT=rfc822;…` on each RCPT, carrying the address as given
    /// (`utf-8;` for a UTF-8 address, RFC 6533).
    pub orcpt: bool,
    /// `REQUIRETLS` (RFC 8689).
    pub requiretls: bool,
    /// `BODY=`; without it `8BITMIME` is declared for an 8-bit message.
    pub body: Option<BodyType>,
    /// The message goes with BDAT (CHUNKING) instead of DATA.
    pub bdat: bool,
    /// Send parameters the server did not advertise.
    pub lax: bool,
}

/// One recipient and its RCPT parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// The forward path without brackets, as it goes out.
    pub address: String,
    /// `NOTIFY`, `ORCPT`.
    pub params: Vec<Param>,
}

/// The transactions to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The reverse path as it goes out (an IDN domain as its A-label when
    /// the server lacks SMTPUTF8).
    pub from: String,
    /// MAIL's parameters, the same in every transaction.
    pub mail_params: Vec<Param>,
    /// The recipients of each transaction (more than one when LIMITS
    /// RCPTMAX is below their number).
    pub transactions: Vec<Vec<Recipient>>,
    /// Recipients left out: more transactions than LIMITS MAILMAX allows.
    pub left_out: Vec<String>,
    /// The message goes with BDAT.
    pub bdat: bool,
    /// What the user should know (an A-label, a split, BDAT chosen).
    pub notes: Vec<String>,
}

/// Why a helper's envelope cannot go out.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// An extension the server did not advertise (without `lax`).
    #[error(
        "{what} needs the {keyword} extension, which the server did not advertise in its EHLO reply; --lax sends it anyway"
    )]
    NotAdvertised {
        /// The parameter or option.
        what: String,
        /// The missing EHLO keyword.
        keyword: &'static str,
    },
    /// `REQUIRETLS` asked for over a plaintext connection.
    #[error(
        "REQUIRETLS goes only over TLS (RFC 8689 §4.1): this connection is in plaintext; use STARTTLS (--starttls) first"
    )]
    RequireTlsInPlaintext,
    /// A non-ASCII local part without SMTPUTF8.
    #[error(
        "the address {address} has a non-ASCII local part, which needs SMTPUTF8 (RFC 6531), and the server does not advertise it; unlike a domain, a local part has no ASCII form"
    )]
    Utf8LocalPart {
        /// The address, escaped.
        address: String,
    },
    /// A non-ASCII domain that is no valid IDN.
    #[error(
        "the domain of {address} is not a valid internationalized domain name, so it has no ASCII form (and the server does not advertise SMTPUTF8)"
    )]
    BadDomain {
        /// The address, escaped.
        address: String,
    },
    /// A DSN value outside what RFC 3461 allows.
    #[error("{param}={value} is not valid: {expected}")]
    BadValue {
        /// `RET`, `NOTIFY`, `ENVID`.
        param: &'static str,
        /// As given, escaped.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
    /// The message is over the server's SIZE.
    #[error(
        "the message is {size} bytes, over the {limit} the server takes (SIZE {limit}); --lax sends it anyway"
    )]
    TooLarge {
        /// The message's size.
        size: u64,
        /// The server's limit.
        limit: u64,
    },
}

/// Plans the transactions for `request` on a server with `caps`, over TLS
/// or not.
pub fn plan(request: &Request, caps: &Capabilities, tls: bool) -> Result<Plan, EnvelopeError> {
    let lax = request.lax;
    let needs = |what: &str, keyword: &'static str| -> Result<(), EnvelopeError> {
        if lax || caps.has(keyword) {
            Ok(())
        } else {
            Err(EnvelopeError::NotAdvertised {
                what: what.to_string(),
                keyword,
            })
        }
    };
    let mut notes = Vec::new();
    let mut mail_params = Vec::new();

    // BODY and the way the message goes.
    let mut bdat = request.bdat;
    if bdat {
        needs("BDAT", "CHUNKING")?;
    }
    if let Some(body) = request.body {
        let what = format!("BODY={}", body.wire());
        match body {
            BodyType::SevenBit | BodyType::EightBitMime => needs(&what, "8BITMIME")?,
            BodyType::BinaryMime => {
                needs(&what, "BINARYMIME")?;
                needs(&what, "CHUNKING")?;
                if !bdat {
                    bdat = true;
                    notes.push(
                        "BODY=BINARYMIME: the message goes with BDAT (RFC 3030: DATA cannot carry it)"
                            .to_string(),
                    );
                }
            }
        }
        mail_params.push(Param::Body(body.wire().to_string()));
    }

    // SMTPUTF8, or ASCII forms of the addresses.
    let utf8_addresses = !request.from.is_ascii() || request.to.iter().any(|t| !t.is_ascii());
    let smtputf8 = caps.supports_smtputf8() || lax;
    if request.smtputf8 {
        needs("SMTPUTF8", "SMTPUTF8")?;
    }
    let ascii = |address: &str, notes: &mut Vec<String>| -> Result<String, EnvelopeError> {
        if address.is_ascii() || smtputf8 {
            return Ok(address.to_string());
        }
        let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
        if !local.is_ascii() {
            return Err(EnvelopeError::Utf8LocalPart {
                address: address.escape_debug().to_string(),
            });
        }
        let a_label = idna::domain_to_ascii(domain).map_err(|_| EnvelopeError::BadDomain {
            address: address.escape_debug().to_string(),
        })?;
        let converted = format!("{local}@{a_label}");
        notes.push(format!(
            "{} goes out as {converted}: the server does not advertise SMTPUTF8, so the domain takes its ASCII form (A-label, RFC 5890)",
            address.escape_debug()
        ));
        Ok(converted)
    };
    let from = ascii(&request.from, &mut notes)?;
    let mut to = Vec::with_capacity(request.to.len());
    for address in &request.to {
        to.push((address, ascii(address, &mut notes)?));
    }
    if request.smtputf8 || (utf8_addresses && smtputf8) {
        mail_params.push(Param::SmtpUtf8);
    }

    // DSN (RFC 3461): RET and ENVID on MAIL, NOTIFY and ORCPT on each RCPT.
    if let Some(ret) = &request.ret {
        let ret = ret.to_ascii_uppercase();
        if !matches!(ret.as_str(), "FULL" | "HDRS") {
            return Err(EnvelopeError::BadValue {
                param: "RET",
                value: ret.escape_debug().to_string(),
                expected: "FULL or HDRS",
            });
        }
        needs("RET", "DSN")?;
        mail_params.push(Param::Ret(ret));
    }
    if let Some(envid) = &request.envid {
        if envid.is_empty() || xtext_encode(envid).len() > ENVID_MAX {
            return Err(EnvelopeError::BadValue {
                param: "ENVID",
                value: envid.escape_debug().to_string(),
                expected: "1 to 100 characters once xtext-encoded (RFC 3461 §4.4)",
            });
        }
        needs("ENVID", "DSN")?;
        mail_params.push(Param::EnvId(envid.clone()));
    }
    let notify = match &request.notify {
        Some(notify) => {
            let notify = notify.to_ascii_uppercase();
            let words: Vec<&str> = notify.split(',').collect();
            let valid = notify == "NEVER"
                || (words
                    .iter()
                    .all(|w| matches!(*w, "SUCCESS" | "FAILURE" | "DELAY"))
                    && (1..words.len()).all(|i| !words[..i].contains(&words[i])));
            if !valid {
                return Err(EnvelopeError::BadValue {
                    param: "NOTIFY",
                    value: notify.escape_debug().to_string(),
                    expected: "NEVER, or SUCCESS, FAILURE and DELAY joined by commas",
                });
            }
            needs("NOTIFY", "DSN")?;
            Some(Param::Notify(notify))
        }
        None => None,
    };
    if request.orcpt {
        needs("ORCPT", "DSN")?;
    }

    if request.requiretls {
        if !tls {
            return Err(EnvelopeError::RequireTlsInPlaintext);
        }
        needs("REQUIRETLS", "REQUIRETLS")?;
        mail_params.push(Param::RequireTls);
    }

    let recipients: Vec<Recipient> = to
        .into_iter()
        .map(|(given, address)| {
            let mut params: Vec<Param> = notify.iter().cloned().collect();
            if request.orcpt {
                // RFC 6533: a UTF-8 address is of type utf-8.
                let addr_type = if given.is_ascii() { "rfc822" } else { "utf-8" };
                params.push(Param::Orcpt {
                    addr_type: addr_type.into(),
                    address: given.clone(),
                });
            }
            Recipient { address, params }
        })
        .collect();

    // LIMITS (RFC 9422): RCPTMAX recipients per transaction, MAILMAX
    // transactions per session.
    let per = caps
        .limit("RCPTMAX")
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(usize::MAX);
    let mut transactions: Vec<Vec<Recipient>> =
        recipients.chunks(per).map(<[Recipient]>::to_vec).collect();
    if transactions.len() > 1 {
        notes.push(format!(
            "{} recipients, and the server takes {per} per transaction (LIMITS RCPTMAX={per}): sending {} transactions",
            recipients.len(),
            transactions.len()
        ));
    }
    let mut left_out = Vec::new();
    if let Some(max) = caps.limit("MAILMAX").and_then(|n| usize::try_from(n).ok())
        && transactions.len() > max
    {
        left_out = transactions
            .split_off(max)
            .into_iter()
            .flatten()
            .map(|r| r.address)
            .collect();
        notes.push(format!(
            "the server takes {max} transactions per session (LIMITS MAILMAX={max}): {} recipients are left out; send to them in a new session (:reconnect)",
            left_out.len()
        ));
    }
    Ok(Plan {
        from,
        mail_params,
        transactions,
        left_out,
        bdat,
        notes,
    })
}

impl Plan {
    /// What depends on the message: `SIZE=` its length when the server
    /// takes SIZE (refused over the server's limit unless `lax`), and
    /// `BODY=8BITMIME` for a message with 8-bit bytes when no `BODY` was
    /// asked for and the server offers 8BITMIME.
    pub fn fit(
        &mut self,
        message: &[u8],
        caps: &Capabilities,
        lax: bool,
    ) -> Result<(), EnvelopeError> {
        let size = message.len() as u64;
        if let Some(limit) = caps.size_limit()
            && size > limit
            && !lax
        {
            return Err(EnvelopeError::TooLarge { size, limit });
        }
        let has_body = self.mail_params.iter().any(|p| matches!(p, Param::Body(_)));
        if !has_body && !message.is_ascii() {
            if caps.supports_8bitmime() {
                self.mail_params.insert(0, Param::Body("8BITMIME".into()));
            } else {
                self.notes.push(
                    "the message has 8-bit bytes and the server does not advertise 8BITMIME: it may refuse or alter them"
                        .into(),
                );
            }
        }
        if caps.has("SIZE") {
            self.mail_params.insert(0, Param::Size(size));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
