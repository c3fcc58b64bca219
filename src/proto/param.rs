//! ESMTP parameters of MAIL and RCPT (RFC 5321 §4.1.2 `esmtp-param`) as
//! values, and xtext (RFC 3461 §4), the encoding of `ENVID` and `ORCPT`.
//!
//! A parameter smtpcli knows is typed (`SIZE=n`, `BODY`, `SMTPUTF8`, the DSN
//! parameters, `REQUIRETLS`); any other stays as written. `Display` is the wire form, so
//! an envelope id or an original recipient with `+`, `=` or a space in it
//! goes out xtext-encoded, never raw.

use std::fmt;

/// One ESMTP parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    /// `SIZE=n` (RFC 1870).
    Size(u64),
    /// `BODY=7BIT|8BITMIME|BINARYMIME` (RFC 6152, RFC 3030), upper-cased.
    Body(String),
    /// `SMTPUTF8` (RFC 6531).
    SmtpUtf8,
    /// `RET=FULL|HDRS` (RFC 3461), upper-cased.
    Ret(String),
    /// `ENVID=…` (RFC 3461): the envelope id, decoded; xtext on the wire.
    EnvId(String),
    /// `NOTIFY=NEVER|SUCCESS,FAILURE,DELAY` (RFC 3461), upper-cased.
    Notify(String),
    /// `ORCPT=type;address` (RFC 3461): the address decoded; xtext on the
    /// wire.
    Orcpt {
        /// The address type, `rfc822` usually.
        addr_type: String,
        /// The original recipient.
        address: String,
    },
    /// `REQUIRETLS` (RFC 8689).
    RequireTls,
    /// Any other parameter, exactly as written.
    Other(String),
}

impl Param {
    /// Reads one parameter word. A known keyword with a value that is not
    /// canonical (or not valid xtext) stays [`Param::Other`], as written.
    pub fn parse(word: &str) -> Param {
        let (keyword, value) = match word.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (word, None),
        };
        let other = || Param::Other(word.to_string());
        match (keyword.to_ascii_uppercase().as_str(), value) {
            ("SIZE", Some(v)) => match v.parse::<u64>() {
                Ok(n) if n.to_string() == v => Param::Size(n),
                _ => other(),
            },
            ("BODY", Some(v)) if is_word(v) => Param::Body(v.to_ascii_uppercase()),
            ("SMTPUTF8", None) => Param::SmtpUtf8,
            ("REQUIRETLS", None) => Param::RequireTls,
            ("RET", Some(v)) if is_word(v) => Param::Ret(v.to_ascii_uppercase()),
            ("NOTIFY", Some(v)) if is_word(v) => Param::Notify(v.to_ascii_uppercase()),
            ("ENVID", Some(v)) => xtext_decode(v).map_or_else(other, Param::EnvId),
            ("ORCPT", Some(v)) => match v.split_once(';') {
                Some((addr_type, address)) if addr_type.eq_ignore_ascii_case("utf-8") => {
                    utf8_addr_decode(address).map_or_else(other, |address| Param::Orcpt {
                        addr_type: addr_type.to_string(),
                        address,
                    })
                }
                Some((addr_type, address)) if is_word(addr_type) => xtext_decode(address)
                    .map_or_else(other, |address| Param::Orcpt {
                        addr_type: addr_type.to_string(),
                        address,
                    }),
                _ => other(),
            },
            _ => other(),
        }
    }

    /// The keyword, upper-cased (`SIZE`, `ENVID`, `X-FOO`).
    pub fn keyword(&self) -> String {
        match self {
            Param::Size(_) => "SIZE".into(),
            Param::Body(_) => "BODY".into(),
            Param::SmtpUtf8 => "SMTPUTF8".into(),
            Param::Ret(_) => "RET".into(),
            Param::EnvId(_) => "ENVID".into(),
            Param::Notify(_) => "NOTIFY".into(),
            Param::Orcpt { .. } => "ORCPT".into(),
            Param::RequireTls => "REQUIRETLS".into(),
            Param::Other(word) => word
                .split_once('=')
                .map_or(word.as_str(), |(k, _)| k)
                .to_ascii_uppercase(),
        }
    }

    /// The EHLO keyword that defines this parameter, for those smtpcli
    /// knows; unknown parameters are not judged.
    pub fn extension(&self) -> Option<&'static str> {
        match self {
            Param::Size(_) => Some("SIZE"),
            Param::Body(v) if v == "BINARYMIME" => Some("BINARYMIME"),
            Param::Body(_) => Some("8BITMIME"),
            Param::SmtpUtf8 => Some("SMTPUTF8"),
            Param::Ret(_) | Param::EnvId(_) | Param::Notify(_) | Param::Orcpt { .. } => Some("DSN"),
            Param::RequireTls => Some("REQUIRETLS"),
            Param::Other(_) => match self.keyword().as_str() {
                "SIZE" => Some("SIZE"),
                "BODY" => Some("8BITMIME"),
                "SMTPUTF8" => Some("SMTPUTF8"),
                "RET" | "ENVID" | "NOTIFY" | "ORCPT" => Some("DSN"),
                "AUTH" => Some("AUTH"),
                "REQUIRETLS" => Some("REQUIRETLS"),
                "BY" => Some("DELIVERBY"),
                "MT-PRIORITY" => Some("MT-PRIORITY"),
                "PRDR" => Some("PRDR"),
                _ => None,
            },
        }
    }
}

/// The wire form: `SIZE=10`, `ENVID=QQ+2B1`, `ORCPT=rfc822;a+2Bb@example.org`.
impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Param::Size(n) => write!(f, "SIZE={n}"),
            Param::Body(v) => write!(f, "BODY={v}"),
            Param::SmtpUtf8 => f.write_str("SMTPUTF8"),
            Param::Ret(v) => write!(f, "RET={v}"),
            Param::EnvId(v) => write!(f, "ENVID={}", xtext_encode(v)),
            Param::Notify(v) => write!(f, "NOTIFY={v}"),
            Param::Orcpt { addr_type, address } if addr_type.eq_ignore_ascii_case("utf-8") => {
                write!(f, "ORCPT={addr_type};{}", utf8_addr_encode(address))
            }
            Param::Orcpt { addr_type, address } => {
                write!(f, "ORCPT={addr_type};{}", xtext_encode(address))
            }
            Param::RequireTls => f.write_str("REQUIRETLS"),
            Param::Other(word) => f.write_str(word),
        }
    }
}

/// Letters, digits, `-`, `,` and `.`: the values smtpcli upper-cases.
fn is_word(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b',' | b'.'))
}

/// Encodes text as xtext: `!` to `~` stay, except `+` and `=`; every other
/// byte (of the UTF-8 form) becomes `+XX` with upper-case hex digits.
pub fn xtext_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'!'..=b'~' if b != b'+' && b != b'=' => out.push(char::from(b)),
            _ => out.push_str(&format!("+{b:02X}")),
        }
    }
    out
}

/// Encodes an address as RFC 6533's utf-8-addr-xtext, the form of an
/// `ORCPT=utf-8;` address that needs no SMTPUTF8: `!` to `~` stay, except
/// `+`, `=` and `\`; every other character becomes `\x{HEX}` (its code
/// point, upper-case hex).
pub fn utf8_addr_encode(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    for c in address.chars() {
        match c {
            '!'..='~' if !matches!(c, '+' | '=' | '\\') => out.push(c),
            _ => out.push_str(&format!("\\x{{{:X}}}", u32::from(c))),
        }
    }
    out
}

/// Decodes RFC 6533's utf-8-addr-xtext and utf-8-addr-unitext (raw
/// UTF-8 allowed); `None` for a bare `+`, `=` or `\`, a control character,
/// or an escape that is not `\x{HEX}` of 2 to 6 digits naming a character.
pub fn utf8_addr_decode(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if chars.next()? != 'x' || chars.next()? != '{' {
                    return None;
                }
                let hex: String = chars.by_ref().take_while(|&h| h != '}').collect();
                if !(2..=6).contains(&hex.len()) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            '+' | '=' => return None,
            c if c.is_control() || c == ' ' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// Decodes xtext; `None` if it is not xtext (a bare `+`, a byte outside
/// `!` to `~`, `=`, or bytes that are not UTF-8 once decoded).
pub fn xtext_decode(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => {
                let hex = [bytes.next()?, bytes.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
            }
            b'=' => return None,
            b'!'..=b'~' => out.push(b),
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xtext_examples() {
        for (text, wire) in [
            ("QQ+1", "QQ+2B1"),
            ("a=b c", "a+3Db+20c"),
            ("plain@example.org", "plain@example.org"),
            ("Grüße", "Gr+C3+BC+C3+9Fe"),
        ] {
            assert_eq!(xtext_encode(text), wire, "{text}");
            assert_eq!(xtext_decode(wire).as_deref(), Some(text), "{wire}");
        }
        assert_eq!(xtext_decode("a+2"), None);
        assert_eq!(xtext_decode("a=b"), None);
        assert_eq!(xtext_decode("a b"), None);
        assert_eq!(xtext_decode("+ZZ"), None);
    }

    #[test]
    fn parameters_read_and_write() {
        for (word, param, wire) in [
            ("SIZE=1000", Param::Size(1000), "SIZE=1000"),
            ("size=10", Param::Size(10), "SIZE=10"),
            ("SIZE=007", Param::Other("SIZE=007".into()), "SIZE=007"),
            (
                "body=8bitmime",
                Param::Body("8BITMIME".into()),
                "BODY=8BITMIME",
            ),
            ("SMTPUTF8", Param::SmtpUtf8, "SMTPUTF8"),
            ("requiretls", Param::RequireTls, "REQUIRETLS"),
            ("RET=hdrs", Param::Ret("HDRS".into()), "RET=HDRS"),
            ("ENVID=QQ+2B1", Param::EnvId("QQ+1".into()), "ENVID=QQ+2B1"),
            (
                "NOTIFY=success,failure",
                Param::Notify("SUCCESS,FAILURE".into()),
                "NOTIFY=SUCCESS,FAILURE",
            ),
            (
                "ORCPT=rfc822;a+2Bb@example.org",
                Param::Orcpt {
                    addr_type: "rfc822".into(),
                    address: "a+b@example.org".into(),
                },
                "ORCPT=rfc822;a+2Bb@example.org",
            ),
            ("ENVID=a+b", Param::Other("ENVID=a+b".into()), "ENVID=a+b"),
            ("X-FOO=1", Param::Other("X-FOO=1".into()), "X-FOO=1"),
        ] {
            assert_eq!(Param::parse(word), param, "{word}");
            assert_eq!(param.to_string(), wire, "{word}");
        }
    }

    #[test]
    fn utf8_addresses_in_orcpt_go_out_as_rfc_6533_xtext() {
        for (address, wire) in [
            ("jörg@example.org", "j\\x{F6}rg@example.org"),
            (
                "a+b=c\\d@example.org",
                "a\\x{2B}b\\x{3D}c\\x{5C}d@example.org",
            ),
            (
                "用户@例子.广告",
                "\\x{7528}\\x{6237}@\\x{4F8B}\\x{5B50}.\\x{5E7F}\\x{544A}",
            ),
        ] {
            assert_eq!(utf8_addr_encode(address), wire, "{address}");
            assert_eq!(utf8_addr_decode(wire).as_deref(), Some(address), "{wire}");
        }
        // Raw UTF-8 (the unitext form) reads too.
        assert_eq!(utf8_addr_decode("jörg@x").as_deref(), Some("jörg@x"));
        for bad in [
            "a+b",
            "a\\x{}",
            "a\\x{1234567}",
            "a\\y{41}",
            "a\\x{D800}",
            "a b",
        ] {
            assert_eq!(utf8_addr_decode(bad), None, "{bad}");
        }
        let param = Param::Orcpt {
            addr_type: "utf-8".into(),
            address: "jörg@example.org".into(),
        };
        assert_eq!(param.to_string(), "ORCPT=utf-8;j\\x{F6}rg@example.org");
        assert_eq!(Param::parse(&param.to_string()), param);
    }

    proptest::proptest! {
        /// Any address, however odd, goes out as printable ASCII without
        /// `+`, `=` or a blank, and reads back as it was.
        #[test]
        fn utf8_addresses_round_trip(address in "\\PC{1,20}") {
            let wire = utf8_addr_encode(&address);
            proptest::prop_assert!(wire.bytes().all(|b| (b'!'..=b'~').contains(&b) && b != b'+' && b != b'='));
            proptest::prop_assert_eq!(utf8_addr_decode(&wire), Some(address));
        }

        /// Decoding never panics, whatever it is given.
        #[test]
        fn utf8_address_decoding_takes_anything(text in "\\PC{0,30}") {
            let _ = utf8_addr_decode(&text);
        }
    }

    #[test]
    fn an_envelope_id_with_plus_and_equals_goes_out_encoded() {
        assert_eq!(
            Param::EnvId("id=1+2 x".into()).to_string(),
            "ENVID=id+3D1+2B2+20x"
        );
    }

    #[test]
    fn extensions_that_define_a_parameter() {
        assert_eq!(
            Param::parse("BODY=BINARYMIME").extension(),
            Some("BINARYMIME")
        );
        assert_eq!(Param::parse("ENVID=x").extension(), Some("DSN"));
        assert_eq!(Param::parse("REQUIRETLS").extension(), Some("REQUIRETLS"));
        assert_eq!(Param::parse("X-FOO").extension(), None);
    }
}
