//! The AUTH exchange (RFC 4954) of the demo server: PLAIN (RFC 4616) and
//! LOGIN, with or without an initial response, `*` to cancel; only over
//! TLS, as a submission server does.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{Next, Reply, Session, Step, in_transaction};
use crate::demo::USER;

/// Where an exchange stands between a `334` and the client's answer.
#[derive(Debug)]
pub(super) enum AuthStep {
    Plain,
    LoginUser,
    LoginPassword { user: String },
}

impl Session {
    /// `AUTH mechanism [initial-response]`.
    pub(super) fn auth(&mut self, mechanism: &str, initial: Option<&str>) -> Step {
        let refusal = if !self.tls {
            Reply::new(
                538,
                (5, 7, 11),
                "Encryption required for requested authentication mechanism",
            )
        } else if !self.greeting.as_ref().is_some_and(|g| g.extended) {
            Reply::new(503, (5, 5, 1), "Error: send EHLO first")
        } else if self.authenticated {
            Reply::new(503, (5, 5, 1), "Error: already authenticated")
        } else if self.transaction.is_some() {
            in_transaction()
        } else {
            return match (mechanism, initial) {
                ("PLAIN", Some(response)) => self.plain(response),
                ("PLAIN", None) => self.challenge(AuthStep::Plain, ""),
                ("LOGIN", Some(user)) => self.login_user(user),
                ("LOGIN", None) => self.challenge(AuthStep::LoginUser, "VXNlcm5hbWU6"),
                _ => Step::reply(Reply::new(
                    504,
                    (5, 5, 4),
                    "Unrecognized authentication type",
                )),
            };
        };
        Step::reply(refusal)
    }

    fn challenge(&mut self, step: AuthStep, challenge: &str) -> Step {
        self.auth = Some(step);
        Step::then(
            Reply::bare(334, vec![challenge.to_string()]),
            Next::AuthResponse,
        )
    }

    /// A line of the AUTH exchange.
    pub(in crate::demo) fn auth_response(&mut self, line: &[u8]) -> Step {
        let Some(step) = self.auth.take() else {
            return self.command(line);
        };
        let response = String::from_utf8_lossy(line);
        let response = response.trim_matches([' ', '\t']);
        let step = if response == "*" {
            Step::reply(Reply::new(501, (5, 7, 0), "Authentication aborted"))
        } else {
            match step {
                AuthStep::Plain => self.plain(response),
                AuthStep::LoginUser => self.login_user(response),
                AuthStep::LoginPassword { user } => match decode(response) {
                    Some(password) => self.login(&user, &password, ""),
                    None => Step::reply(undecodable()),
                },
            }
        };
        self.count(step)
    }

    /// An AUTH response longer than the server reads.
    pub(in crate::demo) fn auth_line_too_long(&mut self) -> Step {
        self.auth = None;
        self.count(Step::reply(Reply::new(
            500,
            (5, 5, 6),
            "Authentication Exchange line is too long",
        )))
    }

    /// `authzid NUL authcid NUL password` (RFC 4616).
    fn plain(&mut self, response: &str) -> Step {
        let Some(decoded) = decode(response) else {
            return Step::reply(undecodable());
        };
        let mut parts = decoded.split('\0');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(authzid), Some(user), Some(password), None) => {
                self.login(user, password, authzid)
            }
            _ => Step::reply(auth_failed()),
        }
    }

    fn login_user(&mut self, response: &str) -> Step {
        match decode(response) {
            Some(user) => self.challenge(AuthStep::LoginPassword { user }, "UGFzc3dvcmQ6"),
            None => Step::reply(undecodable()),
        }
    }

    fn login(&mut self, user: &str, password: &str, authzid: &str) -> Step {
        let may_act_as = authzid.is_empty() || authzid == user;
        if user == USER && password == &*self.password && may_act_as {
            self.authenticated = true;
            Step::reply(Reply::new(235, (2, 7, 0), "Authentication successful"))
        } else {
            Step::reply(auth_failed())
        }
    }
}

/// Base64 (`=` alone is an empty response, RFC 4954 §4) to text.
fn decode(response: &str) -> Option<String> {
    if response == "=" {
        return Some(String::new());
    }
    let bytes = BASE64.decode(response).ok()?;
    String::from_utf8(bytes).ok()
}

fn undecodable() -> Reply {
    Reply::new(501, (5, 5, 2), "Error: cannot decode response")
}

fn auth_failed() -> Reply {
    Reply::new(535, (5, 7, 8), "Error: authentication failed")
}
