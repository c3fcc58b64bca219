//! `:expect`: what a script says the last reply should have been.
//!
//! Forms: `250`, `2xx` (a class), `25x`, `250|251` (alternatives), an
//! enhanced code after the basic one (`550 5.1.1`, `4xx 4.7.1`), and, for an
//! LMTP message, `for ADDRESS` to check that recipient's reply
//! (`:expect 552 5.2.2 for b@example.org`). Pure logic: parsing an
//! expectation and checking a reply against it.

use std::fmt;

use thiserror::Error;

use crate::proto::enhanced::EnhancedCode;
use crate::proto::reply::Reply;

/// A pattern for a basic reply code: digits or `x` wildcards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodePattern([Option<u8>; 3]);

impl CodePattern {
    fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 3 {
            return None;
        }
        let mut digits = [None; 3];
        for (slot, b) in digits.iter_mut().zip(bytes) {
            *slot = match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'x' | b'X' => None,
                _ => return None,
            };
        }
        // The class digit must be a real class or a wildcard.
        if matches!(digits[0], Some(0) | Some(6..=9)) {
            return None;
        }
        Some(CodePattern(digits))
    }

    fn matches(&self, code: u16) -> bool {
        let got = [code / 100, code / 10 % 10, code % 10];
        self.0
            .iter()
            .zip(got)
            .all(|(want, got)| want.is_none_or(|w| u16::from(w) == got))
    }
}

impl fmt::Display for CodePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0 {
            match d {
                Some(d) => write!(f, "{d}")?,
                None => write!(f, "x")?,
            }
        }
        Ok(())
    }
}

/// What `:expect` asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// Any of these basic codes.
    pub codes: Vec<CodePattern>,
    /// And, if given, this enhanced code.
    pub enhanced: Option<EnhancedCode>,
    /// LMTP: the recipient whose reply to check (else the last reply).
    pub recipient: Option<String>,
}

/// An `:expect` argument that is not understood.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpectError {
    /// Nothing after `:expect`.
    #[error(":expect needs a reply code, like 250, 2xx, 250|251 or 550 5.1.1")]
    Empty,
    /// A word that is not a code pattern.
    #[error("'{0}' is not a reply code pattern (like 250, 2xx or 250|251)")]
    BadCode(String),
    /// A second word that is not an enhanced code.
    #[error("'{0}' is not an enhanced status code (like 5.1.1)")]
    BadEnhanced(String),
    /// More words than a code, an enhanced code and `for ADDRESS`.
    #[error("too many words after :expect: '{0}'")]
    Extra(String),
    /// `for` without an address.
    #[error(":expect … for needs a recipient address")]
    NoRecipient,
}

impl Expectation {
    /// Reads the words after `:expect`.
    pub fn parse(text: &str) -> Result<Self, ExpectError> {
        let mut words: Vec<&str> = text.split_whitespace().collect();
        let mut recipient = None;
        if let Some(at) = words.iter().position(|w| w.eq_ignore_ascii_case("for")) {
            let rest = words.split_off(at);
            recipient = match rest.as_slice() {
                [_, addr] => {
                    let addr = addr.trim_start_matches('<').trim_end_matches('>');
                    if addr.is_empty() {
                        return Err(ExpectError::NoRecipient);
                    }
                    Some(addr.to_string())
                }
                [_] => return Err(ExpectError::NoRecipient),
                [_, _, extra, ..] => return Err(ExpectError::Extra((*extra).into())),
                [] => None,
            };
        }
        let mut words = words.into_iter();
        let first = words.next().ok_or(ExpectError::Empty)?;
        let codes = first
            .split('|')
            .map(|alt| CodePattern::parse(alt).ok_or_else(|| ExpectError::BadCode(first.into())))
            .collect::<Result<Vec<_>, _>>()?;
        let enhanced = match words.next() {
            Some(word) => Some(
                EnhancedCode::parse(word).ok_or_else(|| ExpectError::BadEnhanced(word.into()))?,
            ),
            None => None,
        };
        if let Some(extra) = words.next() {
            return Err(ExpectError::Extra(extra.into()));
        }
        Ok(Expectation {
            codes,
            enhanced,
            recipient,
        })
    }

    /// Whether `reply` is what was expected.
    pub fn is_met_by(&self, reply: &Reply) -> bool {
        let Some(code) = reply.code() else {
            return false;
        };
        self.codes.iter().any(|p| p.matches(code.value()))
            && self
                .enhanced
                .is_none_or(|want| reply.enhanced_code() == Some(want))
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes: Vec<String> = self.codes.iter().map(ToString::to_string).collect();
        write!(f, "{}", codes.join("|"))?;
        if let Some(e) = self.enhanced {
            write!(f, " {e}")?;
        }
        if let Some(r) = &self.recipient {
            write!(f, " for {r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> Reply {
        Reply::parse_all(format!("{text}\r\n").as_bytes()).remove(0)
    }

    #[test]
    fn patterns() {
        let table = [
            ("250", "250 2.1.0 Ok", true),
            ("250", "251 ok", false),
            ("2xx", "252 maybe", true),
            ("2xx", "354 go", false),
            ("25x", "251 forwarded", true),
            ("250|251", "251 ok", true),
            ("250|251", "550 no", false),
            ("550 5.1.1", "550 5.1.1 unknown", true),
            ("550 5.1.1", "550 5.7.1 relay", false),
            ("5xx 5.7.1", "554 5.7.1 no", true),
            ("550 5.1.1", "550 unknown, no enhanced code", false),
        ];
        for (pattern, got, want) in table {
            let e = Expectation::parse(pattern).unwrap();
            assert_eq!(e.is_met_by(&reply(got)), want, "{pattern} vs {got}");
            assert_eq!(e.to_string(), pattern.replace('X', "x"));
        }
    }

    #[test]
    fn a_recipient_for_lmtp() {
        let e = Expectation::parse("552 5.2.2 for <b@example.org>").unwrap();
        assert_eq!(e.recipient.as_deref(), Some("b@example.org"));
        assert_eq!(e.to_string(), "552 5.2.2 for b@example.org");
        assert_eq!(Expectation::parse("250 for"), Err(ExpectError::NoRecipient));
        // Found by fuzzing: `for <>` named no recipient, and did not read
        // back from its display form.
        assert_eq!(
            Expectation::parse("250 for <>"),
            Err(ExpectError::NoRecipient)
        );
        assert_eq!(
            Expectation::parse("250 for a@b c"),
            Err(ExpectError::Extra("c".into()))
        );
    }

    #[test]
    fn mistakes() {
        assert_eq!(Expectation::parse(""), Err(ExpectError::Empty));
        assert_eq!(
            Expectation::parse("25"),
            Err(ExpectError::BadCode("25".into()))
        );
        assert_eq!(
            Expectation::parse("650"),
            Err(ExpectError::BadCode("650".into()))
        );
        assert_eq!(
            Expectation::parse("250|"),
            Err(ExpectError::BadCode("250|".into()))
        );
        assert_eq!(
            Expectation::parse("550 5.1"),
            Err(ExpectError::BadEnhanced("5.1".into()))
        );
        assert_eq!(
            Expectation::parse("550 5.1.1 x"),
            Err(ExpectError::Extra("x".into()))
        );
    }

    #[test]
    fn a_garbage_reply_meets_nothing() {
        let e = Expectation::parse("xxx").unwrap();
        assert!(!e.is_met_by(&reply("hello")));
    }
}
