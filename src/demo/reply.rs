//! The replies the demo server sends, as values whose `Display` is the wire
//! text.
//!
//! A reply carries an enhanced status code (RFC 3463, placed as RFC 2034
//! says: at the start of every line's text) except where RFC 2034 leaves it
//! out: the banner, the replies to HELO and EHLO, `354` and the `334`
//! challenges. This module only spells replies; which one fits is the
//! session's decision.

use std::fmt;

use crate::proto::enhanced::EnhancedCode;

/// One reply: a basic code, perhaps an enhanced one, and its lines of text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Reply {
    code: u16,
    enhanced: Option<EnhancedCode>,
    lines: Vec<String>,
}

impl Reply {
    /// A one-line reply with an enhanced code: `250 2.1.0 Ok`.
    pub(super) fn new(code: u16, enhanced: (u8, u16, u16), text: impl Into<String>) -> Self {
        let (class, subject, detail) = enhanced;
        Reply {
            code,
            enhanced: Some(EnhancedCode {
                class,
                subject,
                detail,
            }),
            lines: vec![text.into()],
        }
    }

    /// A reply without an enhanced code (the banner, HELO/EHLO, 354, 334).
    pub(super) fn bare(code: u16, lines: Vec<String>) -> Self {
        Reply {
            code,
            enhanced: None,
            lines,
        }
    }

    /// 4xx or 5xx.
    pub(super) fn is_negative(&self) -> bool {
        self.code >= 400
    }
}

/// `250-first\r\n250 last\r\n`, the enhanced code on every line.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.lines.len().saturating_sub(1);
        for (i, text) in self.lines.iter().enumerate() {
            let separator = if i == last { ' ' } else { '-' };
            write!(f, "{}{separator}", self.code)?;
            if let Some(enhanced) = self.enhanced {
                write!(f, "{enhanced} ")?;
            }
            write!(f, "{text}\r\n")?;
        }
        if self.lines.is_empty() {
            write!(f, "{}\r\n", self.code)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_spelled_as_on_the_wire() {
        let cases = [
            (Reply::new(250, (2, 1, 0), "Ok"), "250 2.1.0 Ok\r\n"),
            (
                Reply::new(550, (5, 1, 1), "<a@b>: no"),
                "550 5.1.1 <a@b>: no\r\n",
            ),
            (
                Reply::bare(354, vec!["End data with <CR><LF>.<CR><LF>".into()]),
                "354 End data with <CR><LF>.<CR><LF>\r\n",
            ),
            (
                Reply::bare(250, vec!["host".into(), "PIPELINING".into()]),
                "250-host\r\n250 PIPELINING\r\n",
            ),
            (Reply::bare(334, vec![String::new()]), "334 \r\n"),
        ];
        for (reply, wire) in cases {
            assert_eq!(reply.to_string(), wire);
        }
    }
}
