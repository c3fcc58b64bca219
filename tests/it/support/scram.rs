//! The server side of SCRAM-SHA-256 as fake-server steps: it takes the
//! client's nonce, checks the client's proof against the password (so a
//! client that computes it wrong fails the script), and then ends the
//! exchange as a test asks: rightly, with a wrong signature, with none,
//! with an `e=` error, or after a server-first whose nonce is stale.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::fake_server::{Step, answer, expect, send};

/// How the fake server ends the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finale {
    /// `334 v=` with the right signature, then `235`.
    Right,
    /// `334 v=` with a wrong signature; the client must cancel with `*`.
    WrongSignature,
    /// `235` straight after the client-final: no signature at all.
    NoSignature,
    /// `334 e=invalid-proof`, then `535`.
    ServerError,
    /// A server-first whose nonce does not extend the client's; the
    /// client must cancel with `*`.
    StaleNonce,
}

/// What the client sent, for the secrets audit: the client-final line as
/// sent (base64), decoded, and the proof.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub client_final_wire: String,
    pub client_final: String,
    pub proof: String,
}

const SALT: &[u8] = b"smtpcli-test-salt";
const ITERATIONS: u32 = 4096;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The steps from `AUTH SCRAM-SHA-256 …` to the final reply, for `user`
/// with `password`.
pub fn steps(user: &str, password: &str, finale: Finale) -> (Vec<Step>, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let state: Arc<Mutex<(String, String)>> = Arc::default(); // (client-first-bare, server-first)
    let user = user.to_string();
    let password = password.to_string();
    let first = {
        let state = Arc::clone(&state);
        answer(move |line| {
            let b64 = line.strip_prefix("AUTH SCRAM-SHA-256 ").ok_or_else(|| {
                format!("expected AUTH SCRAM-SHA-256 with a client-first, got {line:?}")
            })?;
            let decoded = String::from_utf8(STANDARD.decode(b64).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            let bare = decoded
                .strip_prefix("n,,")
                .ok_or_else(|| format!("no n,, GS2 header: {decoded:?}"))?;
            let want = format!("n={user},r=");
            let nonce = bare
                .strip_prefix(&want)
                .ok_or_else(|| format!("expected {want}…, got {bare:?}"))?;
            let server_nonce = if finale == Finale::StaleNonce {
                "someone-elses-nonce".to_string()
            } else {
                format!("{nonce}srv-nonce")
            };
            let server_first = format!(
                "r={server_nonce},s={},i={ITERATIONS}",
                STANDARD.encode(SALT)
            );
            *state.lock().unwrap() = (bare.to_string(), server_first.clone());
            Ok(format!("334 {}", STANDARD.encode(server_first)))
        })
    };
    if finale == Finale::StaleNonce {
        return (
            vec![first, expect("*"), send("501 5.7.0 Authentication aborted")],
            seen,
        );
    }
    let second = {
        let seen = Arc::clone(&seen);
        answer(move |line| {
            let (bare, server_first) = state.lock().unwrap().clone();
            let decoded = String::from_utf8(STANDARD.decode(line).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            let (without_proof, proof) = decoded
                .rsplit_once(",p=")
                .ok_or_else(|| format!("no proof in {decoded:?}"))?;
            let mut salted = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), SALT, ITERATIONS, &mut salted);
            let client_key = hmac(&salted, b"Client Key");
            let stored_key = Sha256::digest(&client_key);
            let auth_message = format!("{bare},{server_first},{without_proof}");
            let signature = hmac(&stored_key, auth_message.as_bytes());
            let want: Vec<u8> = client_key
                .iter()
                .zip(&signature)
                .map(|(k, s)| k ^ s)
                .collect();
            if STANDARD.encode(&want) != proof {
                return Err(format!("the client's proof is wrong: {decoded:?}"));
            }
            *seen.lock().unwrap() = Seen {
                client_final_wire: line.to_string(),
                client_final: decoded.clone(),
                proof: proof.to_string(),
            };
            let server_key = hmac(&salted, b"Server Key");
            let mut server_signature = hmac(&server_key, auth_message.as_bytes());
            Ok(match finale {
                Finale::NoSignature => "235 2.7.0 Authentication successful".to_string(),
                Finale::ServerError => format!("334 {}", STANDARD.encode("e=invalid-proof")),
                Finale::WrongSignature => {
                    server_signature[0] ^= 0xff;
                    let v = format!("v={}", STANDARD.encode(&server_signature));
                    format!("334 {}", STANDARD.encode(v))
                }
                Finale::Right | Finale::StaleNonce => {
                    let v = format!("v={}", STANDARD.encode(&server_signature));
                    format!("334 {}", STANDARD.encode(v))
                }
            })
        })
    };
    let mut steps = vec![first, second];
    match finale {
        Finale::Right => steps.extend([expect(""), send("235 2.7.0 Authentication successful")]),
        Finale::WrongSignature => {
            steps.extend([expect("*"), send("501 5.7.0 Authentication aborted")])
        }
        Finale::ServerError => {
            steps.extend([expect(""), send("535 5.7.8 Error: authentication failed")])
        }
        Finale::NoSignature | Finale::StaleNonce => {}
    }
    (steps, seen)
}
