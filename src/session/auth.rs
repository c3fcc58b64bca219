//! `:auth`: a SASL exchange done for the user, each `334` answered by the
//! mechanism's code in [`crate::proto::auth`].
//!
//! Every credential that goes out (the password or token, and every form
//! made from it: the PLAIN blob, the LOGIN and CRAM-MD5 answers, the SCRAM
//! client-final message and its proof, the OAUTHBEARER and XOAUTH2 initial
//! responses) is shown redacted and remembered, so that a server echoing
//! one back is redacted too. SCRAM is checked both ways: a server whose
//! nonce does not extend ours, whose signature is wrong, or that says `235`
//! without a signature fails the exchange loudly (a warning, and the run's
//! exit code counts it as a permanent failure).

use super::helpers::code_is;
use super::input::Outgoing;
use super::{Event, EventSink, Sent, Session, SessionError};
use crate::proto::auth::scram::{self, MIN_RECOMMENDED_ITERATIONS, Prepared};
use crate::proto::auth::{
    self, Challenge, Mechanism, OAUTHBEARER_ERROR_RESPONSE, OAuthError, ScramClient, ScramError,
    ScramHash, Secret,
};
use crate::proto::command::Command;
use crate::proto::reply::Reply;

/// A server that keeps sending `334` past this many rounds is broken.
const MAX_ROUNDS: usize = 4;

impl<S: EventSink> Session<S> {
    /// Authenticates with `mechanism` as `user`, answering each `334`
    /// itself; `secret` is the password, or the bearer token for XOAUTH2
    /// and OAUTHBEARER. Every secret goes out shown as redacted;
    /// challenges are shown decoded.
    pub async fn auth(
        &mut self,
        mechanism: Mechanism,
        user: &str,
        secret: &Secret,
    ) -> Result<Reply, SessionError> {
        if mechanism.takes_token()
            && let Some(problem) = auth::token_problem(secret)
        {
            return Err(SessionError::Refused(format!(
                ":auth {} refused: {problem}",
                mechanism.name().to_ascii_lowercase()
            )));
        }
        self.warn_unless_offered(mechanism);
        self.remember_secret(secret.expose());
        if let Some(hash) = mechanism.scram() {
            return self.auth_scram(hash, user, secret).await;
        }
        let name = mechanism.name();
        let auth = |initial_response: Option<String>| Command::Auth {
            mechanism: name.to_string(),
            initial_response,
        };
        let first = match mechanism {
            Mechanism::Plain => {
                let ir = auth::plain_response(None, user, secret);
                self.remember_secret(ir.expose());
                Outgoing::command(auth(Some(ir.expose().to_string())))
                    .shown_as(format!("AUTH PLAIN [initial response for {user} redacted]"))
            }
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => {
                let ir = if mechanism == Mechanism::XOAuth2 {
                    auth::xoauth2_response(user, secret)
                } else {
                    let target = self.target();
                    let host = Some(target.host.as_str())
                        .filter(|h| !h.is_empty() && !h.chars().any(char::is_control));
                    // A UNIX socket has no port (0): none is claimed.
                    let port = Some(target.port).filter(|&p| p != 0);
                    auth::oauthbearer_response(user, host, port, secret)
                };
                self.remember_secret(ir.expose());
                Outgoing::command(auth(Some(ir.expose().to_string())))
                    .shown_as(format!("AUTH {name} [token for {user} redacted]"))
            }
            _ => Outgoing::command(auth(None)),
        };
        let mut reply = self.exchange(first).await?;
        for round in 0..MAX_ROUNDS {
            if !code_is(&reply, &[334]) {
                break;
            }
            let challenge = reply.lines.first().map(|l| l.text()).unwrap_or_default();
            let (wire, shown) = match (mechanism, round) {
                (Mechanism::Login, 0) => (
                    auth::login_user(user),
                    Sent::Command(format!("[user {user}, base64]")),
                ),
                (Mechanism::Login, 1) => {
                    let p = auth::login_password(secret);
                    self.secret_response(p)
                }
                (Mechanism::CramMd5, 0) => {
                    match auth::cram_md5_response(user, secret, challenge.as_bytes()) {
                        Ok(r) => self.secret_response(r),
                        Err(e) => {
                            self.sink.event(Event::Warning(format!(
                                "cannot answer the CRAM-MD5 challenge ({e}): cancelling with '*'"
                            )));
                            cancel("*")
                        }
                    }
                }
                (Mechanism::XOAuth2 | Mechanism::OAuthBearer, 0) => {
                    // The 334 carries the server's JSON error (RFC 7628
                    // §3.2.2); the answer gets the final 535.
                    self.token_error(mechanism, challenge.as_bytes());
                    if mechanism == Mechanism::OAuthBearer {
                        (
                            OAUTHBEARER_ERROR_RESPONSE.to_string(),
                            Sent::Command(format!(
                                "{OAUTHBEARER_ERROR_RESPONSE} (^A: the response RFC 7628 asks for after an error)"
                            )),
                        )
                    } else {
                        (String::new(), Sent::Command("(empty response)".into()))
                    }
                }
                _ => cancel("* (cancel: unexpected challenge)"),
            };
            reply = self
                .exchange(Outgoing::sasl(wire.as_bytes(), shown))
                .await?;
        }
        if code_is(&reply, &[235]) {
            self.dialog.authenticated = Some(Some(user.to_string()));
        }
        Ok(reply)
    }

    /// Says when the server did not advertise `mechanism` (it is tried
    /// anyway: a test tool sends what it is asked to).
    fn warn_unless_offered(&mut self, mechanism: Mechanism) {
        let Some(caps) = &self.dialog.capabilities else {
            return;
        };
        let offered = caps.auth_mechanisms();
        if !offered
            .iter()
            .any(|m| m.eq_ignore_ascii_case(mechanism.name()))
        {
            self.sink.event(Event::Warning(format!(
                "the server did not advertise AUTH {mechanism} (it offers: {}); trying anyway",
                if offered.is_empty() {
                    "none".to_string()
                } else {
                    offered.join(" ")
                }
            )));
        }
    }

    /// A response that is a secret: remembered for redaction, shown as its
    /// length only.
    fn secret_response(&mut self, response: Secret) -> (String, Sent) {
        self.remember_secret(response.expose());
        let len = response.expose().len();
        (response.expose().to_string(), Sent::Secret { len })
    }

    /// Shows the error a server sends for a refused token, decoded.
    fn token_error(&mut self, mechanism: Mechanism, challenge: &[u8]) {
        let text = match auth::decode_challenge(challenge) {
            Challenge::Decoded(text) => match OAuthError::parse(&text) {
                Some(error) => error.describe(),
                None => format!("{}", text.escaped()),
            },
            Challenge::Empty | Challenge::NotBase64 => return,
        };
        self.sink.event(Event::Note(format!(
            "{mechanism} error from the server: {text}"
        )));
    }

    /// SCRAM-SHA-1 or SCRAM-SHA-256 (RFC 5802, RFC 7677): the client-first
    /// message as the initial response, the client-final in answer to the
    /// server-first, and the server's signature checked before the empty
    /// response that lets it say `235`.
    async fn auth_scram(
        &mut self,
        hash: ScramHash,
        user: &str,
        password: &Secret,
    ) -> Result<Reply, SessionError> {
        let name = hash.mechanism();
        let nonce = scram::random_nonce().map_err(|e| SessionError::Local(e.to_string()))?;
        let mut client = ScramClient::new(hash, user, password, &nonce);
        self.preparation_notes(&client);
        let first = Outgoing::command(Command::Auth {
            mechanism: name.to_string(),
            initial_response: Some(client.client_first_wire()),
        })
        .shown_as(format!(
            "AUTH {name} [client-first {}, base64]",
            client.client_first()
        ));
        let mut reply = self.exchange(first).await?;
        let mut verified = false;
        let mut failure: Option<String> = None;
        for round in 0..MAX_ROUNDS {
            if !code_is(&reply, &[334]) {
                break;
            }
            let challenge = reply.lines.first().map(|l| l.text()).unwrap_or_default();
            let (wire, shown) = match (round, &failure) {
                (0, _) => match client.client_final(challenge.as_bytes()) {
                    Ok(answer) => {
                        if answer.iterations < MIN_RECOMMENDED_ITERATIONS {
                            self.sink.event(Event::Warning(format!(
                                "the server's SCRAM iteration count is {}, below the {MIN_RECOMMENDED_ITERATIONS} RFC 7677 asks for: its stored keys are cheap to attack",
                                answer.iterations
                            )));
                        }
                        self.remember_secret(answer.message.expose());
                        self.remember_secret(answer.proof.expose());
                        self.secret_response(answer.wire())
                    }
                    Err(e) => {
                        self.scram_failed(name, &e, &mut failure);
                        cancel("* (cancel)")
                    }
                },
                (1, None) => match client.verify_server_final(challenge.as_bytes()) {
                    Ok(()) => {
                        verified = true;
                        self.sink.event(Event::Note(format!(
                            "{name}: the server's signature verifies (it knows the password)"
                        )));
                        (String::new(), Sent::Command("(empty response)".into()))
                    }
                    Err(e @ ScramError::ServerError(_)) => {
                        // Refused already: the empty answer gets its reply.
                        self.scram_failed(name, &e, &mut failure);
                        (String::new(), Sent::Command("(empty response)".into()))
                    }
                    Err(e) => {
                        self.scram_failed(name, &e, &mut failure);
                        cancel("* (cancel)")
                    }
                },
                _ => cancel("* (cancel: unexpected challenge)"),
            };
            reply = self
                .exchange(Outgoing::sasl(wire.as_bytes(), shown))
                .await?;
        }
        if code_is(&reply, &[235]) {
            self.dialog.authenticated = Some(Some(user.to_string()));
            if !verified && failure.is_none() {
                // Success data may come with the 235 itself.
                match signature_in(&reply).map(|v| client.verify_server_final(v.as_bytes())) {
                    Some(Ok(())) => self.sink.event(Event::Note(format!(
                        "{name}: the server's signature verifies (it knows the password)"
                    ))),
                    Some(Err(e)) => self.scram_failed(name, &e, &mut failure),
                    None => {
                        let why = format!(
                            "{name}: the server said 235 without its signature: it did not prove that it knows the password"
                        );
                        self.sink.event(Event::Warning(why.clone()));
                        failure = Some(why);
                    }
                }
            }
        }
        if let Some(why) = failure {
            self.dialog.disagree(&reply, &why);
        }
        Ok(reply)
    }

    /// Says what SASLprep did, never what the password is.
    fn preparation_notes(&mut self, client: &ScramClient) {
        for (what, prepared) in [
            ("user name", client.user_prepared()),
            ("password", client.password_prepared()),
        ] {
            let note = match prepared {
                Prepared::Unchanged => continue,
                Prepared::Changed => format!(
                    "SCRAM: SASLprep (RFC 4013) changed the {what} (a non-ASCII space, a character mapped to nothing, or NFKC); the prepared form is used"
                ),
                Prepared::AsTyped => format!(
                    "SCRAM: SASLprep (RFC 4013) refuses the {what} (a control or unassigned character); it is used as typed, in UTF-8"
                ),
            };
            self.sink.event(Event::Note(note));
        }
    }

    fn scram_failed(&mut self, name: &str, error: &ScramError, failure: &mut Option<String>) {
        let why = format!("{name} failed: {error}");
        self.sink.event(Event::Warning(why.clone()));
        failure.get_or_insert(why);
    }
}

/// A response that cancels the exchange.
fn cancel(shown: &str) -> (String, Sent) {
    ("*".to_string(), Sent::Command(shown.to_string()))
}

/// A base64 word in a `235` reply that decodes to `v=…`: SCRAM's
/// server-final sent as success data.
fn signature_in(reply: &Reply) -> Option<String> {
    let line = reply.lines.first()?.text();
    line.words()
        .find_map(|word| match auth::decode_challenge(word.as_bytes()) {
            Challenge::Decoded(text) if text.as_bytes().starts_with(b"v=") => {
                Some(word.unchecked_str().into_owned())
            }
            _ => None,
        })
}
