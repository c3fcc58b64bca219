//! The client side of SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677),
//! without channel binding (the GS2 header is `n,,`: this client does not
//! offer the `-PLUS` variants).
//!
//! [`ScramClient`] is the whole exchange as values: the client-first message
//! (user name and a random nonce), the client-final message computed from
//! the server-first (SaltedPassword by PBKDF2-HMAC, then the ClientProof),
//! and the check of the server-final (`v=`, the ServerSignature, which
//! proves the server knows the password; `e=`, an error the server names).
//! Sending, prompting and showing belong to the session.
//!
//! SASLprep (RFC 4013) is applied to the password and the user name, as
//! RFC 5802 §5.1 asks. When SASLprep refuses a string (a control character,
//! an unassigned code point, bidirectional text it forbids), the string is
//! used as typed, as UTF-8: the server may well store it that way, and
//! refusing outright would make such a login impossible to test. The caller
//! learns which happened ([`Prepared`]) and says so.
//!
//! Every value derived from the password (SaltedPassword, ClientKey, the
//! proof, the client-final message) is wiped from memory when dropped; the
//! proof and the client-final message leave only as [`Secret`]s.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use thiserror::Error;
use zeroize::Zeroizing;

use super::Secret;
use crate::text::Untrusted;

/// Iteration counts above this are refused: a hostile server could
/// otherwise keep the client hashing for minutes (PBKDF2 takes no deadline).
pub const MAX_ITERATIONS: u32 = 1_000_000;

/// The lowest iteration count RFC 7677 §4 and RFC 5802 §5.1 recommend;
/// below it a note says the server's stored secrets are weak.
pub const MIN_RECOMMENDED_ITERATIONS: u32 = 4096;

/// The GS2 header: no channel binding, no authorization identity.
const GS2_HEADER: &str = "n,,";

/// Bytes of randomness in the client nonce (32 base64 characters).
const NONCE_BYTES: usize = 24;

/// The hash a SCRAM mechanism is built on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScramHash {
    /// SCRAM-SHA-1 (RFC 5802).
    Sha1,
    /// SCRAM-SHA-256 (RFC 7677).
    Sha256,
}

impl ScramHash {
    /// The mechanism name.
    pub fn mechanism(self) -> &'static str {
        match self {
            Self::Sha1 => "SCRAM-SHA-1",
            Self::Sha256 => "SCRAM-SHA-256",
        }
    }

    fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>, ScramError> {
        fn run<M: Mac + hmac::digest::KeyInit>(
            key: &[u8],
            parts: &[&[u8]],
        ) -> Result<Vec<u8>, ScramError> {
            // HMAC takes keys of any length: this is not expected to fail.
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
                .map_err(|_| ScramError::HmacKey)?;
            for part in parts {
                mac.update(part);
            }
            Ok(mac.finalize().into_bytes().to_vec())
        }
        Ok(Zeroizing::new(match self {
            Self::Sha1 => run::<Hmac<Sha1>>(key, parts)?,
            Self::Sha256 => run::<Hmac<Sha256>>(key, parts)?,
        }))
    }

    fn hash(self, data: &[u8]) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match self {
            Self::Sha1 => Sha1::digest(data).to_vec(),
            Self::Sha256 => Sha256::digest(data).to_vec(),
        })
    }

    /// Hi() of RFC 5802 §2.2: PBKDF2 with HMAC of this hash.
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![0u8; self.len()]);
        match self {
            Self::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
            Self::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out),
        }
        out
    }

    fn len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }
}

/// Why a SCRAM step failed. Every one of them means: do not authenticate
/// (cancel, or treat a success as unproven).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ScramError {
    /// The server-first or server-final message is not base64.
    #[error("the server's SCRAM message is not valid base64")]
    NotBase64,
    /// The server sent nothing where a SCRAM message belongs.
    #[error("the server sent an empty SCRAM message")]
    Empty,
    /// The server-first message does not have the form RFC 5802 gives it.
    #[error("the server-first message is malformed: {0}")]
    MalformedServerFirst(&'static str),
    /// The server's nonce does not start with ours, or adds nothing to it:
    /// a replayed or forged exchange.
    #[error(
        "the server's nonce does not extend the one smtpcli sent: the exchange is not fresh (a replay or someone in between); not answering"
    )]
    NonceNotExtended,
    /// `m=`: an extension the client must understand and does not.
    #[error("the server requires a SCRAM extension (m=) that smtpcli does not know; not answering")]
    MandatoryExtension,
    /// More iterations than [`MAX_ITERATIONS`].
    #[error(
        "the server asks for {0} PBKDF2 iterations, more than the {MAX_ITERATIONS} smtpcli computes; not answering"
    )]
    TooManyIterations(u64),
    /// The server-final message is neither `v=` nor `e=`.
    #[error("the server-final message is malformed: {0}")]
    MalformedServerFinal(&'static str),
    /// `e=`: the server names why it refused.
    #[error("the server refused the SCRAM exchange: {}", .0.escaped())]
    ServerError(Untrusted),
    /// `v=` does not match: the server does not know the password (or
    /// someone in between changed the exchange).
    #[error(
        "the server's signature is WRONG: it did not prove that it knows the password (a fake server, or someone in between)"
    )]
    WrongServerSignature,
    /// The server-final message came before the client-final was made.
    #[error("a SCRAM server-final message before the server-first")]
    OutOfOrder,
    /// The HMAC implementation refused a key (HMAC takes any length: not
    /// expected).
    #[error("a SCRAM key could not be used for HMAC")]
    HmacKey,
    /// The random number generator failed.
    #[error("no random nonce could be made: {0}")]
    Random(String),
}

/// What SASLprep did to a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prepared {
    /// Nothing to change (ASCII text, for one).
    Unchanged,
    /// Mapped or normalised (a non-ASCII space, a soft hyphen, NFKC).
    Changed,
    /// Refused by SASLprep: used as typed.
    AsTyped,
}

fn prepare(text: &str) -> (Cow<'_, str>, Prepared) {
    match stringprep::saslprep(text) {
        Ok(Cow::Borrowed(same)) => (Cow::Borrowed(same), Prepared::Unchanged),
        Ok(Cow::Owned(changed)) if changed == text => (Cow::Borrowed(text), Prepared::Unchanged),
        Ok(Cow::Owned(changed)) => (Cow::Owned(changed), Prepared::Changed),
        Err(_) => (Cow::Borrowed(text), Prepared::AsTyped),
    }
}

/// A user name as a SCRAM `saslname`: `=` and `,` escaped (RFC 5802 §5.1).
fn saslname(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

/// A fresh client nonce: 24 random bytes in base64 (printable, no comma).
pub fn random_nonce() -> Result<String, ScramError> {
    let mut bytes = [0u8; NONCE_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| ScramError::Random(e.to_string()))?;
    Ok(STANDARD.encode(bytes))
}

/// The client-final message and what went into it.
#[derive(Debug)]
pub struct ClientFinal {
    /// The client-final message as text (`c=biws,r=…,p=…`).
    pub message: Secret,
    /// The ClientProof, base64 (the `p=` value).
    pub proof: Secret,
    /// The iteration count the server asked for.
    pub iterations: u32,
}

impl ClientFinal {
    /// The message as it goes on the wire: base64.
    pub fn wire(&self) -> Secret {
        Secret::new(STANDARD.encode(self.message.expose()))
    }
}

/// One SCRAM exchange, from the client's side.
pub struct ScramClient {
    hash: ScramHash,
    client_first_bare: String,
    nonce: String,
    password: Zeroizing<Vec<u8>>,
    /// The ServerSignature expected in `v=`, once the client-final is made.
    server_signature: Option<Zeroizing<Vec<u8>>>,
    user_prepared: Prepared,
    password_prepared: Prepared,
}

impl std::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramClient")
            .field("hash", &self.hash)
            .field("client_first_bare", &self.client_first_bare)
            .finish_non_exhaustive()
    }
}

impl ScramClient {
    /// An exchange for `user` with `password`, and `nonce` as the client
    /// nonce (use [`random_nonce`]; a fixed one only in tests).
    pub fn new(hash: ScramHash, user: &str, password: &Secret, nonce: &str) -> Self {
        let (user, user_prepared) = prepare(user);
        let (prepared, password_prepared) = prepare(password.expose());
        let password = Zeroizing::new(prepared.as_bytes().to_vec());
        if let Cow::Owned(copy) = prepared {
            drop(Zeroizing::new(copy));
        }
        ScramClient {
            hash,
            client_first_bare: format!("n={},r={nonce}", saslname(&user)),
            nonce: nonce.to_string(),
            password,
            server_signature: None,
            user_prepared,
            password_prepared,
        }
    }

    /// What SASLprep did to the user name.
    pub fn user_prepared(&self) -> Prepared {
        self.user_prepared
    }

    /// What SASLprep did to the password.
    pub fn password_prepared(&self) -> Prepared {
        self.password_prepared
    }

    /// The client-first message as text (`n,,n=user,r=nonce`): no secret.
    pub fn client_first(&self) -> String {
        format!("{GS2_HEADER}{}", self.client_first_bare)
    }

    /// The client-first message as it goes on the wire: base64.
    pub fn client_first_wire(&self) -> String {
        STANDARD.encode(self.client_first())
    }

    /// Answers the server-first message (the `334` text, base64): checks
    /// it, and computes the client-final message with the proof.
    pub fn client_final(&mut self, challenge_b64: &[u8]) -> Result<ClientFinal, ScramError> {
        let server_first = decode(challenge_b64)?;
        let first = ServerFirst::parse(&server_first)?;
        if !first.nonce.starts_with(&self.nonce) || first.nonce.len() <= self.nonce.len() {
            return Err(ScramError::NonceNotExtended);
        }
        let hash = self.hash;
        let salted = hash.salted_password(&self.password, &first.salt, first.iterations);
        let client_key = hash.hmac(&salted, &[b"Client Key"])?;
        let stored_key = hash.hash(&client_key);
        // "biws" is base64 of the GS2 header "n,,".
        let without_proof = format!("c={},r={}", STANDARD.encode(GS2_HEADER), first.nonce);
        let auth_message: [&[u8]; 5] = [
            self.client_first_bare.as_bytes(),
            b",",
            &server_first,
            b",",
            without_proof.as_bytes(),
        ];
        let client_signature = hash.hmac(&stored_key, &auth_message)?;
        let proof: Zeroizing<Vec<u8>> = Zeroizing::new(
            client_key
                .iter()
                .zip(client_signature.iter())
                .map(|(k, s)| k ^ s)
                .collect(),
        );
        let server_key = hash.hmac(&salted, &[b"Server Key"])?;
        self.server_signature = Some(hash.hmac(&server_key, &auth_message)?);
        let proof = Secret::new(STANDARD.encode(&*proof));
        let message = Secret::new(format!("{without_proof},p={}", proof.expose()));
        Ok(ClientFinal {
            message,
            proof,
            iterations: first.iterations,
        })
    }

    /// Checks the server-final message (base64): `Ok` only when `v=`
    /// carries the signature this exchange expects.
    pub fn verify_server_final(&self, challenge_b64: &[u8]) -> Result<(), ScramError> {
        let expected = self
            .server_signature
            .as_ref()
            .ok_or(ScramError::OutOfOrder)?;
        let text = decode(challenge_b64)?;
        let first = text.split(|&b| b == b',').next().unwrap_or_default();
        match first {
            [b'e', b'=', value @ ..] => Err(ScramError::ServerError(Untrusted::new(value))),
            [b'v', b'=', value @ ..] => {
                let got = STANDARD
                    .decode(value)
                    .map_err(|_| ScramError::MalformedServerFinal("v= is not base64"))?;
                if constant_time_eq(&got, expected) {
                    Ok(())
                } else {
                    Err(ScramError::WrongServerSignature)
                }
            }
            _ => Err(ScramError::MalformedServerFinal("neither v= nor e=")),
        }
    }
}

fn decode(challenge_b64: &[u8]) -> Result<Vec<u8>, ScramError> {
    match super::decode_challenge(challenge_b64) {
        super::Challenge::Decoded(text) => Ok(text.as_bytes().to_vec()),
        super::Challenge::Empty => Err(ScramError::Empty),
        super::Challenge::NotBase64 => Err(ScramError::NotBase64),
    }
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The parts of a server-first message the client uses.
struct ServerFirst {
    nonce: String,
    salt: Vec<u8>,
    iterations: u32,
}

impl ServerFirst {
    /// `[m=…,]r=NONCE,s=SALT,i=COUNT[,extensions]`.
    fn parse(text: &[u8]) -> Result<ServerFirst, ScramError> {
        use ScramError::MalformedServerFirst as Bad;
        let text = std::str::from_utf8(text).map_err(|_| Bad("not UTF-8"))?;
        let mut parts = text.split(',');
        let mut next = parts.next();
        if next.is_some_and(|p| p.starts_with("m=")) {
            return Err(ScramError::MandatoryExtension);
        }
        let mut take = |name: &'static str, why: &'static str| {
            let value = next.and_then(|p| p.strip_prefix(name)).ok_or(Bad(why))?;
            next = parts.next();
            Ok::<&str, ScramError>(value)
        };
        let nonce = take("r=", "no nonce (r=) first")?;
        let salt = take("s=", "no salt (s=) after the nonce")?;
        let iterations = take("i=", "no iteration count (i=) after the salt")?;
        if nonce.is_empty() || !nonce.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(Bad("the nonce is empty or not printable"));
        }
        let salt = STANDARD
            .decode(salt)
            .map_err(|_| Bad("the salt is not base64"))?;
        if salt.is_empty() {
            return Err(Bad("the salt is empty"));
        }
        if iterations.is_empty() || !iterations.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Bad("the iteration count is not a number"));
        }
        let count: u64 = iterations.parse().unwrap_or(u64::MAX);
        if count == 0 {
            return Err(Bad("the iteration count is 0"));
        }
        let iterations = u32::try_from(count)
            .ok()
            .filter(|&n| n <= MAX_ITERATIONS)
            .ok_or(ScramError::TooManyIterations(count))?;
        Ok(ServerFirst {
            nonce: nonce.to_string(),
            salt,
            iterations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        STANDARD.encode(text)
    }

    /// RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3 (SCRAM-SHA-256): user
    /// "user", password "pencil".
    const VECTORS: [(ScramHash, &str, &str, &str, &str); 2] = [
        (
            ScramHash::Sha1,
            "fyko+d2lbbFgONRv9qkxdawL",
            "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
        ),
        (
            ScramHash::Sha256,
            "rOprNGfwEbeRWgbNEkqO",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        ),
    ];

    #[test]
    fn rfc_test_vectors() {
        for (hash, nonce, server_first, client_final, server_final) in VECTORS {
            let mut client = ScramClient::new(hash, "user", &Secret::new("pencil"), nonce);
            assert_eq!(client.client_first(), format!("n,,n=user,r={nonce}"));
            assert_eq!(client.client_first_wire(), b64(&client.client_first()));
            let answer = client.client_final(b64(server_first).as_bytes());
            let answer = answer.unwrap_or_else(|e| panic!("{hash:?}: {e}"));
            assert_eq!(answer.message.expose(), client_final, "{hash:?}");
            assert_eq!(answer.wire().expose(), b64(client_final));
            assert!(client_final.ends_with(answer.proof.expose()));
            assert_eq!(answer.iterations, 4096);
            assert_eq!(
                client.verify_server_final(b64(server_final).as_bytes()),
                Ok(())
            );
            // One bit off in the signature: refused loudly.
            let mut wrong = server_final.as_bytes().to_vec();
            wrong[3] ^= 1;
            let wrong = String::from_utf8(wrong).unwrap();
            assert_eq!(
                client.verify_server_final(b64(&wrong).as_bytes()),
                Err(ScramError::WrongServerSignature),
                "{hash:?}"
            );
            assert_eq!(client.password_prepared(), Prepared::Unchanged);
        }
    }

    #[test]
    fn server_first_is_checked() {
        let nonce = "abc";
        let table: &[(&str, ScramError)] = &[
            (
                "r=xyzdef,s=QSXCR+Q6sek8bf92,i=4096",
                ScramError::NonceNotExtended,
            ),
            (
                "r=abc,s=QSXCR+Q6sek8bf92,i=4096",
                ScramError::NonceNotExtended,
            ),
            (
                "r=ab,s=QSXCR+Q6sek8bf92,i=4096",
                ScramError::NonceNotExtended,
            ),
            (
                "m=x,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096",
                ScramError::MandatoryExtension,
            ),
            (
                "r=abcdef,s=QSXCR+Q6sek8bf92,i=4294967296",
                ScramError::TooManyIterations(4_294_967_296),
            ),
            (
                "r=abcdef,s=QSXCR+Q6sek8bf92,i=1000001",
                ScramError::TooManyIterations(1_000_001),
            ),
            (
                "r=abcdef,s=QSXCR+Q6sek8bf92,i=0",
                ScramError::MalformedServerFirst("the iteration count is 0"),
            ),
            (
                "r=abcdef,s=QSXCR+Q6sek8bf92,i=-1",
                ScramError::MalformedServerFirst("the iteration count is not a number"),
            ),
            (
                "r=abcdef,s=not base64!,i=4096",
                ScramError::MalformedServerFirst("the salt is not base64"),
            ),
            (
                "r=abcdef,s=,i=4096",
                ScramError::MalformedServerFirst("the salt is empty"),
            ),
            (
                "s=QSXCR+Q6sek8bf92,r=abcdef,i=4096",
                ScramError::MalformedServerFirst("no nonce (r=) first"),
            ),
            (
                "r=abcdef,i=4096",
                ScramError::MalformedServerFirst("no salt (s=) after the nonce"),
            ),
            (
                "r=abcdef,s=QSXCR+Q6sek8bf92",
                ScramError::MalformedServerFirst("no iteration count (i=) after the salt"),
            ),
            (
                "r=abc\x1bdef,s=QSXCR+Q6sek8bf92,i=1",
                ScramError::MalformedServerFirst("the nonce is empty or not printable"),
            ),
        ];
        for (server_first, want) in table {
            let mut client = ScramClient::new(ScramHash::Sha256, "u", &Secret::new("p"), nonce);
            let got = client.client_final(b64(server_first).as_bytes());
            assert_eq!(got.err().as_ref(), Some(want), "{server_first:?}");
            // Nothing to verify against: a server-final is out of order.
            assert_eq!(
                client.verify_server_final(b64("v=AAAA").as_bytes()),
                Err(ScramError::OutOfOrder)
            );
        }
        let mut client = ScramClient::new(ScramHash::Sha1, "u", &Secret::new("p"), nonce);
        assert_eq!(
            client.client_final(b"").err(),
            Some(ScramError::Empty),
            "empty"
        );
        assert_eq!(
            client.client_final(b"!!").err(),
            Some(ScramError::NotBase64)
        );
        // Extensions after the iteration count are ignored.
        let ok = client.client_final(b64("r=abcdef,s=QSXCR+Q6sek8bf92,i=1,x=y").as_bytes());
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn server_final_errors_are_named() {
        let (hash, nonce, server_first, _, _) = VECTORS[1];
        let mut client = ScramClient::new(hash, "user", &Secret::new("pencil"), nonce);
        assert!(client.client_final(b64(server_first).as_bytes()).is_ok());
        let got = client.verify_server_final(b64("e=invalid-proof").as_bytes());
        assert_eq!(
            got,
            Err(ScramError::ServerError(Untrusted::from("invalid-proof")))
        );
        let shown = got.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            shown,
            "the server refused the SCRAM exchange: invalid-proof"
        );
        // A hostile server's error cannot reach the terminal raw.
        let evil = client
            .verify_server_final(b64("e=\x1b[2Jgone").as_bytes())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(!evil.contains('\x1b'), "{evil:?}");
        for (text, want) in [
            ("x=1", ScramError::MalformedServerFinal("neither v= nor e=")),
            (
                "v=***",
                ScramError::MalformedServerFinal("v= is not base64"),
            ),
            ("v=", ScramError::WrongServerSignature),
        ] {
            assert_eq!(
                client.verify_server_final(b64(text).as_bytes()),
                Err(want),
                "{text}"
            );
        }
    }

    #[test]
    fn user_names_are_escaped_and_prepared() {
        let table: &[(&str, &str, Prepared)] = &[
            ("alice", "n=alice", Prepared::Unchanged),
            ("a=b,c", "n=a=3Db=2Cc", Prepared::Unchanged),
            // A non-ASCII space becomes a space; a soft hyphen goes.
            ("al\u{a0}ice", "n=al ice", Prepared::Changed),
            ("al\u{ad}ice", "n=alice", Prepared::Changed),
            // SASLprep refuses a control character: used as typed.
            ("al\u{7}ice", "n=al\u{7}ice", Prepared::AsTyped),
        ];
        for &(user, want, prepared) in table {
            let client = ScramClient::new(ScramHash::Sha256, user, &Secret::new("p"), "N");
            assert_eq!(client.client_first(), format!("n,,{want},r=N"), "{user:?}");
            assert_eq!(client.user_prepared(), prepared, "{user:?}");
        }
    }

    #[test]
    fn passwords_are_prepared_before_hashing() {
        // RFC 4013 §3's examples: "I<U+00AD>X" is "IX", "<U+2168>" is "IX"
        // too (NFKC): all three give the same proof.
        let (hash, nonce, server_first, client_final, _) = VECTORS[1];
        let proof = |password: &str| {
            let mut client = ScramClient::new(hash, "user", &Secret::new(password), nonce);
            let prepared = client.password_prepared();
            let answer = client.client_final(b64(server_first).as_bytes());
            (answer.map(|a| a.proof.expose().to_string()).ok(), prepared)
        };
        let (ix, prepared) = proof("IX");
        assert_eq!(prepared, Prepared::Unchanged);
        assert_eq!(proof("I\u{ad}X"), (ix.clone(), Prepared::Changed));
        assert_eq!(proof("\u{2168}"), (ix.clone(), Prepared::Changed));
        assert_ne!(proof("ix").0, ix);
        // The vector's own password still gives the vector's proof.
        let (pencil, _) = proof("pencil");
        assert!(client_final.ends_with(&pencil.unwrap_or_default()));
        // Refused by SASLprep (a control character): the bytes as typed.
        assert_eq!(proof("pen\u{7}cil").1, Prepared::AsTyped);
    }

    #[test]
    fn nonces_are_fresh_and_printable() {
        let a = random_nonce().unwrap();
        let b = random_nonce().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| (0x21..=0x7e).contains(&c) && c != b','));
    }

    #[test]
    fn debug_shows_no_password() {
        let client = ScramClient::new(ScramHash::Sha1, "u", &Secret::new("hunter2"), "N");
        let shown = format!("{client:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
