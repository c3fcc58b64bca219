//! SASL for SMTP AUTH (RFC 4954): the client side of PLAIN (RFC 4616),
//! LOGIN (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195), SCRAM-SHA-1 and
//! SCRAM-SHA-256 (RFC 5802, RFC 7677: [`scram`]), OAUTHBEARER (RFC 7628) and
//! Google's XOAUTH2 ([`oauth`]), the decoding of `334` challenges, and
//! [`Secret`], the type every password, token and AUTH payload travels in.
//!
//! Functions here only turn credentials into the base64 text a client sends
//! and a challenge's text into bytes; choosing a mechanism, prompting and
//! sending belong to the session. A [`Secret`] never shows its value through
//! `Debug` or `Display`, so it cannot leak into a log or an error message by
//! accident; only [`Secret::expose`] gives it out. Its memory is wiped on drop,
//! and so are the intermediate buffers built here from one.

pub mod oauth;
pub mod scram;

pub use oauth::{OAUTHBEARER_ERROR_RESPONSE, OAuthError, oauthbearer_response, token_problem};
pub use scram::{ScramClient, ScramError, ScramHash};

use crate::text::Untrusted;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use md5::Md5;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// Decodes challenges whether or not the server padded them: an odd server
/// is something to show, not a reason to give up.
const CHALLENGE_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A password, token or AUTH payload. `Debug` and `Display` never show the
/// value; its memory is zeroed when it is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The value itself, for the one place that must send or check it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty (an empty password is worth a warning).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Why an AUTH step could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A mechanism name this client does not implement.
    #[error("unknown AUTH mechanism {name:?} (supported: {})", supported_names())]
    UnknownMechanism {
        /// The name as given.
        name: String,
    },
    /// The server's challenge is not base64.
    #[error("the server's challenge is not valid base64")]
    ChallengeNotBase64,
    /// The server sent no challenge where the mechanism needs one. Answering
    /// would give away a response that does not depend on any nonce.
    #[error("the server sent an empty challenge")]
    EmptyChallenge,
    /// The HMAC implementation refused the key. HMAC takes keys of any length,
    /// so this is not expected to happen; it exists so that nothing panics.
    #[error("the password could not be used as an HMAC key")]
    HmacKey,
}

/// A SASL mechanism this client implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// RFC 4616: authzid, user and password in one message.
    Plain,
    /// The LOGIN draft: user and password each answer a challenge.
    Login,
    /// RFC 2195: an HMAC-MD5 of the server's challenge keyed by the password.
    CramMd5,
    /// RFC 5802: a salted challenge-response; the server proves it knows
    /// the password too.
    ScramSha1,
    /// RFC 7677: SCRAM with SHA-256.
    ScramSha256,
    /// Google's OAuth 2.0 bearer token mechanism.
    XOAuth2,
    /// RFC 7628: an OAuth 2.0 bearer token.
    OAuthBearer,
}

impl Mechanism {
    /// The name as it appears in `AUTH` and in the EHLO `AUTH` capability.
    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::Login => "LOGIN",
            Self::CramMd5 => "CRAM-MD5",
            Self::ScramSha1 => "SCRAM-SHA-1",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::XOAuth2 => "XOAUTH2",
            Self::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// Every mechanism, in the order they are offered to a user.
    pub fn all() -> &'static [Mechanism] {
        &[
            Self::Plain,
            Self::Login,
            Self::CramMd5,
            Self::ScramSha256,
            Self::ScramSha1,
            Self::XOAuth2,
            Self::OAuthBearer,
        ]
    }

    /// The SCRAM hash, for the SCRAM mechanisms.
    pub fn scram(self) -> Option<ScramHash> {
        match self {
            Self::ScramSha1 => Some(ScramHash::Sha1),
            Self::ScramSha256 => Some(ScramHash::Sha256),
            _ => None,
        }
    }

    /// Whether the secret is an OAuth 2.0 bearer token, not a password.
    pub fn takes_token(self) -> bool {
        matches!(self, Self::XOAuth2 | Self::OAuthBearer)
    }

    /// Whether this client sends its first response on the `AUTH` line
    /// (RFC 4954 §4) instead of waiting for a `334`. CRAM-MD5 needs the
    /// server's challenge first; LOGIN is answered step by step because that
    /// is what every server expects. SCRAM's initial response is the
    /// client-first message.
    pub fn has_initial_response(self) -> bool {
        !matches!(self, Self::Login | Self::CramMd5)
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mechanism {
    type Err = AuthError;

    /// Parses a mechanism name, ignoring case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::all()
            .iter()
            .copied()
            .find(|m| m.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| AuthError::UnknownMechanism { name: s.to_owned() })
    }
}

/// `MECH` or `MECH:USER` (`--auth plain:alice`): a mechanism smtpcli knows
/// (any of [`Mechanism::all`]) and the user, if given. A user must be
/// non-empty, without blanks or control characters.
pub fn mechanism_and_user(text: &str) -> Result<(Mechanism, Option<String>), String> {
    let (name, user) = match text.split_once(':') {
        Some((name, user)) => (name, Some(user.to_string())),
        None => (text, None),
    };
    let mechanism = name
        .parse::<Mechanism>()
        .map_err(|e| format!("--auth: {e}"))?;
    if let Some(user) = &user
        && (user.is_empty() || user.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(format!(
            "--auth {name}:USER: the user name must be non-empty, without blanks or control characters"
        ));
    }
    Ok((mechanism, user))
}

fn supported_names() -> String {
    Mechanism::all()
        .iter()
        .map(|m| m.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The PLAIN response (RFC 4616): base64 of `authzid NUL user NUL password`.
/// `None` and `Some("")` both mean "act as `user`". Values containing NUL
/// make a message the server will reject; they are not checked here.
pub fn plain_response(authzid: Option<&str>, user: &str, password: &Secret) -> Secret {
    let authzid = authzid.unwrap_or("");
    let pass = password.expose();
    // Sized up front so no reallocation leaves an unwiped copy behind.
    let mut message = Zeroizing::new(Vec::with_capacity(
        authzid.len() + user.len() + pass.len() + 2,
    ));
    for (i, part) in [authzid, user, pass].iter().enumerate() {
        if i > 0 {
            message.push(0);
        }
        message.extend_from_slice(part.as_bytes());
    }
    Secret(STANDARD.encode(&*message))
}

/// The LOGIN answer to the user name challenge: base64 of `user`.
pub fn login_user(user: &str) -> String {
    STANDARD.encode(user)
}

/// The LOGIN answer to the password challenge: base64 of the password.
pub fn login_password(password: &Secret) -> Secret {
    Secret(STANDARD.encode(password.expose()))
}

/// The CRAM-MD5 response (RFC 2195) to a `334` challenge given as its base64
/// text: base64 of `user SP hex(HMAC-MD5(password, challenge))`.
pub fn cram_md5_response(
    user: &str,
    password: &Secret,
    challenge_b64: impl AsRef<[u8]>,
) -> Result<Secret, AuthError> {
    let challenge = match decode_challenge(challenge_b64) {
        Challenge::Decoded(bytes) => bytes,
        Challenge::Empty => return Err(AuthError::EmptyChallenge),
        Challenge::NotBase64 => return Err(AuthError::ChallengeNotBase64),
    };
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(password.expose().as_bytes())
        .map_err(|_| AuthError::HmacKey)?;
    mac.update(challenge.as_bytes());
    let digest = mac.finalize().into_bytes();

    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut answer = Zeroizing::new(Vec::with_capacity(user.len() + 1 + 2 * digest.len()));
    answer.extend_from_slice(user.as_bytes());
    answer.push(b' ');
    for byte in digest {
        answer.push(HEX[usize::from(byte >> 4)]);
        answer.push(HEX[usize::from(byte & 0x0f)]);
    }
    Ok(Secret(STANDARD.encode(&*answer)))
}

/// The XOAUTH2 initial response: base64 of
/// `user=USER ^A auth=Bearer TOKEN ^A ^A` (^A is byte 0x01).
pub fn xoauth2_response(user: &str, token: &Secret) -> Secret {
    const PARTS: [&str; 3] = ["user=", "\x01auth=Bearer ", "\x01\x01"];
    let token = token.expose();
    let len = PARTS.iter().map(|p| p.len()).sum::<usize>() + user.len() + token.len();
    let mut message = Zeroizing::new(Vec::with_capacity(len));
    for part in [PARTS[0], user, PARTS[1], token, PARTS[2]] {
        message.extend_from_slice(part.as_bytes());
    }
    Secret(STANDARD.encode(&*message))
}

/// Whether `name` is a SASL mechanism name as RFC 4422 §3.1 spells them:
/// 1 to 20 upper-case letters, digits, `-` and `_`. (A server may send
/// anything after `AUTH`; only such names are offered for completion.)
pub fn is_mechanism_name(name: &str) -> bool {
    (1..=20).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// What a `334` reply's text decodes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// No text (after trimming): the server waits for a response.
    Empty,
    /// The decoded bytes, e.g. `Username:` for LOGIN, a nonce for CRAM-MD5,
    /// or a JSON error for XOAUTH2.
    Decoded(Untrusted),
    /// The text is not base64; show it as it is.
    NotBase64,
}

/// Decodes the text of a `334` reply (the part after `334 `). Surrounding
/// whitespace is ignored; padding may be present or missing.
pub fn decode_challenge(text: impl AsRef<[u8]>) -> Challenge {
    let text = text.as_ref().trim_ascii();
    if text.is_empty() {
        return Challenge::Empty;
    }
    match CHALLENGE_ENGINE.decode(text) {
        Ok(bytes) => Challenge::Decoded(Untrusted::new(bytes)),
        Err(_) => Challenge::NotBase64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cram_md5_rfc2195_example() {
        let challenge = "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+";
        assert_eq!(
            decode_challenge(challenge),
            Challenge::Decoded(Untrusted::from(
                &b"<1896.697170952@postoffice.reston.mci.net>"[..]
            ))
        );
        let response = cram_md5_response("tim", &Secret::new("tanstaaftanstaaf"), challenge);
        assert_eq!(
            response.as_ref().map(Secret::expose),
            Ok("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw")
        );
    }

    #[test]
    fn cram_md5_errors() {
        let table: &[(&str, AuthError)] = &[
            ("", AuthError::EmptyChallenge),
            ("   ", AuthError::EmptyChallenge),
            ("not base64!", AuthError::ChallengeNotBase64),
            ("PDE4OTY=garbage", AuthError::ChallengeNotBase64),
        ];
        for (challenge, want) in table {
            let got = cram_md5_response("tim", &Secret::new("pw"), challenge);
            assert_eq!(got, Err(want.clone()), "challenge {challenge:?}");
        }
    }

    #[test]
    fn cram_md5_long_password_is_fine() {
        // Keys longer than the MD5 block are hashed first by HMAC; no error.
        let password = Secret::new("x".repeat(200));
        assert!(cram_md5_response("tim", &password, "PDE+").is_ok());
    }

    #[test]
    fn plain_vectors() {
        let table: &[(Option<&str>, &str, &str, &str)] = &[
            (
                None,
                "tim",
                "tanstaaftanstaaf",
                "AHRpbQB0YW5zdGFhZnRhbnN0YWFm",
            ),
            (
                Some(""),
                "tim",
                "tanstaaftanstaaf",
                "AHRpbQB0YW5zdGFhZnRhbnN0YWFm",
            ),
            (
                Some("Ursel"),
                "Kurt",
                "xipj3plmq",
                "VXJzZWwAS3VydAB4aXBqM3BsbXE=",
            ),
            (None, "Kurt", "xipj3plmq", "AEt1cnQAeGlwajNwbG1x"),
        ];
        for &(authzid, user, pass, want) in table {
            let got = plain_response(authzid, user, &Secret::new(pass));
            assert_eq!(got.expose(), want, "{authzid:?} {user:?}");
        }
    }

    #[test]
    fn login_steps() {
        let table: &[(&str, &[u8])] = &[
            ("VXNlcm5hbWU6", b"Username:"),
            ("UGFzc3dvcmQ6", b"Password:"),
            (" VXNlcm5hbWU6 \r\n", b"Username:"),
        ];
        for &(text, want) in table {
            assert_eq!(
                decode_challenge(text),
                Challenge::Decoded(want.to_vec().into()),
                "{text:?}"
            );
        }
        assert_eq!(login_user("tim"), "dGlt");
        assert_eq!(login_user("jürgen"), "asO8cmdlbg==");
        assert_eq!(
            login_password(&Secret::new("tanstaaftanstaaf")).expose(),
            "dGFuc3RhYWZ0YW5zdGFhZg=="
        );
    }

    #[test]
    fn xoauth2_format() {
        let got = xoauth2_response(
            "someuser@example.com",
            &Secret::new("ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
        );
        assert_eq!(
            got.expose(),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        );
        let short = xoauth2_response("a", &Secret::new("t"));
        assert_eq!(
            decode_challenge(short.expose()),
            Challenge::Decoded(b"user=a\x01auth=Bearer t\x01\x01".to_vec().into())
        );
    }

    #[test]
    fn decode_challenge_vectors() {
        let table: &[(&str, Challenge)] = &[
            ("", Challenge::Empty),
            (" \t\r\n", Challenge::Empty),
            ("PDE+", Challenge::Decoded(b"<1>".to_vec().into())),
            ("dGlt", Challenge::Decoded(b"tim".to_vec().into())),
            // Padding is optional when decoding.
            ("dGltdA", Challenge::Decoded(b"timt".to_vec().into())),
            ("dGltdA==", Challenge::Decoded(b"timt".to_vec().into())),
            ("not base64", Challenge::NotBase64),
            ("Username:", Challenge::NotBase64),
            ("====", Challenge::NotBase64),
            ("a", Challenge::NotBase64),
            ("dGlt\u{e9}", Challenge::NotBase64),
            ("dGlt dGlt", Challenge::NotBase64),
        ];
        for (text, want) in table {
            assert_eq!(&decode_challenge(text), want, "{text:?}");
        }
    }

    #[test]
    fn secret_is_never_shown() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Login {
            user: String,
            password: Secret,
        }
        let secret = Secret::new("hunter2");
        let login = Login {
            user: "tim".into(),
            password: secret.clone(),
        };
        let shown = [
            format!("{secret:?}"),
            format!("{secret}"),
            format!("{secret:#?}"),
            format!("{login:?}"),
            format!("{login:#?}"),
            format!("{:?}", Some(&secret)),
        ];
        for text in shown {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
        }
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn secret_basics() {
        assert!(Secret::new("").is_empty());
        assert!(!Secret::from("x").is_empty());
        assert_eq!(Secret::from("a"), Secret::from(String::from("a")));
        assert_ne!(Secret::from("a"), Secret::from("b"));
    }

    #[test]
    fn mechanism_names_round_trip() {
        let table: &[(&str, Mechanism)] = &[
            ("PLAIN", Mechanism::Plain),
            ("plain", Mechanism::Plain),
            ("Login", Mechanism::Login),
            ("CRAM-MD5", Mechanism::CramMd5),
            ("cram-md5", Mechanism::CramMd5),
            ("XOAUTH2", Mechanism::XOAuth2),
            ("xoauth2", Mechanism::XOAuth2),
            ("scram-sha-256", Mechanism::ScramSha256),
            ("SCRAM-SHA-1", Mechanism::ScramSha1),
            ("OAuthBearer", Mechanism::OAuthBearer),
        ];
        for &(text, want) in table {
            assert_eq!(text.parse::<Mechanism>(), Ok(want), "{text:?}");
        }
        for &m in Mechanism::all() {
            assert_eq!(m.to_string().parse::<Mechanism>(), Ok(m));
            assert_eq!(m.to_string(), m.name());
        }
    }

    #[test]
    fn unknown_mechanism_names_the_supported_ones() {
        for text in ["", "cram_md5", "GSSAPI", "SCRAM-SHA-512", " plain"] {
            let err = text.parse::<Mechanism>();
            assert_eq!(
                err,
                Err(AuthError::UnknownMechanism {
                    name: text.to_owned()
                })
            );
        }
        let message = "gssapi".parse::<Mechanism>().err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some(
                "unknown AUTH mechanism \"gssapi\" (supported: PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, SCRAM-SHA-1, XOAUTH2, OAUTHBEARER)"
            )
        );
    }

    #[test]
    fn initial_responses() {
        let table = [
            (Mechanism::Plain, true),
            (Mechanism::Login, false),
            (Mechanism::CramMd5, false),
            (Mechanism::XOAuth2, true),
            (Mechanism::ScramSha1, true),
            (Mechanism::ScramSha256, true),
            (Mechanism::OAuthBearer, true),
        ];
        for (m, want) in table {
            assert_eq!(m.has_initial_response(), want, "{m}");
        }
    }
}
