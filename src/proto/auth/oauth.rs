//! OAuth 2.0 bearer tokens over SASL: OAUTHBEARER (RFC 7628) and Google's
//! older XOAUTH2, and the JSON error a server sends as a `334` challenge
//! when it refuses a token (RFC 7628 §3.2.2; XOAUTH2 does the same).
//!
//! After such an error the client owes one more response before the server
//! gives its final reply: OAUTHBEARER's is the single byte `^A` (0x01,
//! [`OAUTHBEARER_ERROR_RESPONSE`]), XOAUTH2's an empty line.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::Secret;
use crate::text::Untrusted;

/// The response to an OAUTHBEARER error challenge: base64 of `^A`.
pub const OAUTHBEARER_ERROR_RESPONSE: &str = "AQ==";

/// The OAUTHBEARER initial response (RFC 7628 §3.1): base64 of
/// `n,a=USER,^Ahost=HOST^Aport=PORT^Aauth=Bearer TOKEN^A^A`. The user is
/// the authorization identity (`=` and `,` escaped); `host` and `port` are
/// the server as connected to, left out when unknown.
pub fn oauthbearer_response(
    user: &str,
    host: Option<&str>,
    port: Option<u16>,
    token: &Secret,
) -> Secret {
    let mut message = Zeroizing::new(String::new());
    message.push_str("n,");
    if !user.is_empty() {
        message.push_str("a=");
        message.push_str(&user.replace('=', "=3D").replace(',', "=2C"));
    }
    message.push_str(",\x01");
    if let Some(host) = host {
        message.push_str("host=");
        message.push_str(host);
        message.push('\x01');
    }
    if let Some(port) = port {
        message.push_str(&format!("port={port}\x01"));
    }
    // Reserved up front so that no reallocation leaves a copy of the token.
    message.reserve(token.expose().len() + 16);
    message.push_str("auth=Bearer ");
    message.push_str(token.expose());
    message.push_str("\x01\x01");
    Secret::new(STANDARD.encode(message.as_bytes()))
}

/// Why a token cannot go into a SASL message: its framing uses control
/// characters (`^A`), so a token holding one would change the message.
/// The token itself is never part of the answer.
pub fn token_problem(token: &Secret) -> Option<&'static str> {
    let token = token.expose();
    if token.is_empty() {
        Some("the token is empty")
    } else if token.chars().any(char::is_control) {
        Some("the token holds a control character (a line break, ^A…)")
    } else if token.contains(' ') {
        Some("the token holds a space")
    } else {
        None
    }
}

/// The error a server sends, as a `334` challenge, when it refuses a
/// token: a JSON object with `status`, `scope` and
/// `openid-configuration` (RFC 7628 §3.2.2). Every value is outside text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    /// `status`: `invalid_token`, `insufficient_scope`, or (XOAUTH2) an
    /// HTTP status such as `401`.
    pub status: Option<Untrusted>,
    /// `scope`: the scope a token needs.
    pub scope: Option<Untrusted>,
    /// `openid-configuration`: where to discover how to get a token.
    pub openid_configuration: Option<Untrusted>,
    /// The challenge as it was decoded.
    pub raw: Untrusted,
}

impl OAuthError {
    /// Reads a decoded challenge. `None` when it is not a JSON object: it
    /// is then shown as it is.
    pub fn parse(decoded: &Untrusted) -> Option<OAuthError> {
        let value: serde_json::Value = serde_json::from_slice(decoded.as_bytes()).ok()?;
        let object = value.as_object()?;
        let field = |name: &str| {
            object.get(name).map(|v| match v {
                serde_json::Value::String(s) => Untrusted::from(s.as_str()),
                other => Untrusted::from(other.to_string().as_str()),
            })
        };
        Some(OAuthError {
            status: field("status"),
            scope: field("scope"),
            openid_configuration: field("openid-configuration"),
            raw: decoded.clone(),
        })
    }

    /// One line for the transcript, every server value escaped:
    /// `status invalid_token, scope "…", openid-configuration "…"`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(status) = &self.status {
            parts.push(format!("status {}", status.escaped()));
        }
        if let Some(scope) = &self.scope {
            parts.push(format!("scope \"{}\"", scope.escaped()));
        }
        if let Some(url) = &self.openid_configuration {
            parts.push(format!("openid-configuration \"{}\"", url.escaped()));
        }
        if parts.is_empty() {
            format!("{}", self.raw.escaped())
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(secret: &Secret) -> Vec<u8> {
        STANDARD.decode(secret.expose()).unwrap()
    }

    #[test]
    fn oauthbearer_rfc7628_example() {
        // RFC 7628 §4.1, with the user as authorization identity.
        let token = Secret::new("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
        let got = oauthbearer_response(
            "user@example.com",
            Some("server.example.com"),
            Some(143),
            &token,
        );
        assert_eq!(
            decoded(&got),
            b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
        );
        assert_eq!(
            got.expose(),
            "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
        );
    }

    #[test]
    fn oauthbearer_shapes() {
        let token = Secret::new("t0k");
        /// (user, host, port, the message).
        type Case = (
            &'static str,
            Option<&'static str>,
            Option<u16>,
            &'static [u8],
        );
        let table: &[Case] = &[
            ("", None, None, b"n,,\x01auth=Bearer t0k\x01\x01"),
            (
                "a,b=c",
                None,
                Some(587),
                b"n,a=a=2Cb=3Dc,\x01port=587\x01auth=Bearer t0k\x01\x01",
            ),
            (
                "alice",
                Some("127.0.0.1"),
                None,
                b"n,a=alice,\x01host=127.0.0.1\x01auth=Bearer t0k\x01\x01",
            ),
        ];
        for &(user, host, port, want) in table {
            let got = oauthbearer_response(user, host, port, &token);
            assert_eq!(decoded(&got), want, "{user:?}");
        }
    }

    #[test]
    fn tokens_that_would_break_the_framing_are_refused() {
        let table: &[(&str, Option<&str>)] = &[
            ("ya29.a0AfH6SM-x_y~z+/=", None),
            ("", Some("the token is empty")),
            (
                "abc\x01auth=Bearer x",
                Some("the token holds a control character (a line break, ^A…)"),
            ),
            (
                "abc\n",
                Some("the token holds a control character (a line break, ^A…)"),
            ),
            ("abc def", Some("the token holds a space")),
        ];
        for &(token, want) in table {
            let problem = token_problem(&Secret::new(token));
            assert_eq!(problem, want, "{token:?}");
            // The answer never holds the token.
            if let Some(text) = problem {
                assert!(token.is_empty() || !text.contains(token));
            }
        }
    }

    #[test]
    fn error_challenges_are_read_and_escaped() {
        let json = br#"{"status":"invalid_token","scope":"example_scope","openid-configuration":"https://example.com/.well-known/openid-configuration"}"#;
        let error = OAuthError::parse(&Untrusted::new(json.to_vec())).unwrap();
        assert_eq!(
            error.describe(),
            "status invalid_token, scope \"example_scope\", openid-configuration \"https://example.com/.well-known/openid-configuration\""
        );
        // XOAUTH2's numeric status, and hostile text.
        let json = br#"{"status":401,"scope":"a\u001b[2Jb","schemes":"bearer"}"#;
        let error = OAuthError::parse(&Untrusted::new(json.to_vec())).unwrap();
        let shown = error.describe();
        assert!(shown.starts_with("status 401, scope \"a"), "{shown}");
        assert!(!shown.contains('\x1b'), "{shown}");
        // Not an object: shown as it is, by the caller.
        for text in [&b"not json"[..], b"[1,2]", b"\"x\""] {
            assert_eq!(OAuthError::parse(&Untrusted::new(text.to_vec())), None);
        }
        // An object without the known fields: its text, escaped.
        let other = OAuthError::parse(&Untrusted::new(br#"{"x":"\u0007"}"#.to_vec()));
        let shown = other.map(|e| e.describe()).unwrap_or_default();
        assert!(
            !shown.contains('\x07') && shown.contains("\"x\""),
            "{shown}"
        );
    }
}
