//! Transport-security policies a sender looks up before it delivers to a
//! domain, and what they make a strict sender do, with no I/O: MTA-STS
//! (RFC 8461: the `_mta-sts` TXT record, the policy file, MX patterns),
//! TLS-RPT (RFC 8460: the `_smtp._tls` TXT record) and the verdict for
//! one MX address from the DANE outcome, the MTA-STS outcome and the live
//! STARTTLS result ([`verdict`]).
//!
//! The DNS answers, the HTTPS fetch and the TLS handshake are the
//! transport's; DANE's record matching is `net::tls::dane`'s. This module
//! takes their results as values. Text from DNS or a policy host stays
//! [`Untrusted`](crate::text::Untrusted) unless its syntax was checked to
//! be safe to show (an `id`, a domain name).

pub mod mta_sts;
pub mod tls_rpt;
pub mod verdict;

/// Whether `c` may appear in a TXT record's field name after the first
/// character (RFC 8461 §3.1 `sts-ext-name`, RFC 8460 §3 `tlsrpt-ext-name`).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// An extension field's name: a letter or digit, then at most 31 of
/// letters, digits, `_`, `-`, `.`.
fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && name.len() <= 32
        && chars.all(is_name_char)
}

/// An extension field's value: printable ASCII without `=`, `;` or space.
fn is_field_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| matches!(b, 0x21..=0x3a | 0x3c | 0x3e..=0x7e))
}

/// The fields of a `v=…; name=value; …` TXT record after the version
/// (`v=STSv1`, `v=TLSRPTv1`), or `None` if the record does not start with
/// that version. The version must be the first field; `;` separates
/// fields, with optional spaces and tabs around it; a last `;` is allowed.
/// Each field comes back as its text, trimmed, in order; empty fields
/// (`;;`) come back as empty strings for the caller to refuse.
fn txt_fields<'a>(record: &'a str, version: &str) -> Option<Vec<&'a str>> {
    let rest = record.strip_prefix(version)?;
    // `v=STSv1x` is another version, not STSv1.
    if !(rest.is_empty() || rest.starts_with([';', ' ', '\t'])) {
        return None;
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    if rest.is_empty() {
        return Some(Vec::new());
    }
    let rest = rest.strip_prefix(';')?;
    let mut fields: Vec<&str> = rest
        .split(';')
        .map(|f| f.trim_matches([' ', '\t']))
        .collect();
    // One `;` may end the record.
    if fields.last() == Some(&"") {
        fields.pop();
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_fields_split_after_the_version() {
        let cases: &[(&str, Option<&[&str]>)] = &[
            ("v=STSv1; id=1", Some(&["id=1"])),
            ("v=STSv1;id=1;", Some(&["id=1"])),
            ("v=STSv1 ; id=1 ;\t", Some(&["id=1"])),
            ("v=STSv1; id=1;; x=y", Some(&["id=1", "", "x=y"])),
            ("v=STSv1", Some(&[])),
            ("v=STSv10; id=1", None),
            ("id=1; v=STSv1", None),
            ("V=STSv1; id=1", None),
            ("v=STSv1 id=1", None),
        ];
        for (record, want) in cases {
            let got = txt_fields(record, "v=STSv1");
            assert_eq!(got.as_deref(), *want, "{record:?}");
        }
    }

    #[test]
    fn field_names_and_values() {
        assert!(is_field_name("id"));
        assert!(is_field_name("x-ext.1_a"));
        assert!(!is_field_name("_x"));
        assert!(!is_field_name(""));
        assert!(!is_field_name(&"a".repeat(33)));
        assert!(is_field_value("abc!:<>~"));
        assert!(!is_field_value("a b"));
        assert!(!is_field_value("a=b"));
        assert!(!is_field_value(""));
        assert!(!is_field_value("caf\u{e9}"));
    }
}
