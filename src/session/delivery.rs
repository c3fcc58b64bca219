//! What a helper's transaction is made of and what became of it: the
//! [`Envelope`] `send_message` sends, and the [`Delivery`] it reports, which
//! knows for each recipient the reply that decided it ([`Delivery::outcomes`]:
//! accepted, temporary or permanent). The per-recipient table and the JSON
//! `delivery` event only show that.

use crate::proto::envelope::Recipient;
use crate::proto::param::Param;
use crate::proto::reply::Reply;

/// An envelope for `Session::send_message`: one transaction of a
/// [`crate::proto::envelope::Plan`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse path without brackets; empty for the null sender `<>`.
    pub from: String,
    /// Forward paths without brackets, each with its RCPT parameters
    /// (`NOTIFY=…`, `ORCPT=…`).
    pub to: Vec<Recipient>,
    /// ESMTP parameters for MAIL (`SIZE=123`, `BODY=8BITMIME`, `SMTPUTF8`…).
    pub mail_params: Vec<Param>,
    /// The message goes with BDAT (CHUNKING) instead of DATA.
    pub bdat: bool,
}

/// What became of one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The reply to MAIL.
    pub mail: Reply,
    /// Each recipient with the reply to its RCPT (none if MAIL failed).
    pub recipients: Vec<(String, Reply)>,
    /// The reply to DATA, if DATA was sent.
    pub data: Option<Reply>,
    /// The final reply after the message, if it was sent.
    pub message: Option<Reply>,
    /// LMTP: the final reply for each recipient, in order.
    pub finals: Vec<(String, Reply)>,
    /// Recipients not tried because MAIL was refused.
    pub untried: Vec<String>,
    /// The token in the message, to find it by.
    pub token: String,
}

/// What became of one recipient of a [`Delivery`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecipientOutcome<'a> {
    /// The forward path.
    pub recipient: &'a str,
    /// The step whose reply decided it: `MAIL`, `RCPT`, `DATA`, `BDAT`
    /// (the message's final reply) or `message` (the reply after DATA's
    /// text, or LMTP's reply for this recipient).
    pub step: &'static str,
    /// That reply.
    pub reply: &'a Reply,
    /// Accepted, temporary or permanent.
    pub status: RecipientStatus,
}

impl<'a> RecipientOutcome<'a> {
    fn new(recipient: &'a str, step: &'static str, reply: &'a Reply) -> Self {
        RecipientOutcome {
            recipient,
            step,
            reply,
            status: RecipientStatus::of(reply),
        }
    }
}

/// How a recipient ended, by the class of the reply that decided it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecipientStatus {
    /// 2xx: the server took responsibility.
    Accepted,
    /// 4xx: try again later.
    Temporary,
    /// 5xx: not without a change.
    Permanent,
    /// No proper SMTP reply.
    Unknown,
}

impl RecipientStatus {
    /// The class of `reply`.
    pub fn of(reply: &Reply) -> RecipientStatus {
        match reply.class_digit() {
            Some(2) => RecipientStatus::Accepted,
            Some(4) => RecipientStatus::Temporary,
            Some(5) => RecipientStatus::Permanent,
            _ => RecipientStatus::Unknown,
        }
    }

    /// `accepted`, `temporary`, `permanent`, `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            RecipientStatus::Accepted => "accepted",
            RecipientStatus::Temporary => "temporary",
            RecipientStatus::Permanent => "permanent",
            RecipientStatus::Unknown => "unknown",
        }
    }
}

impl Delivery {
    /// Each recipient with the reply that decided it: its RCPT reply if
    /// that refused it, else what came of the message (LMTP: its own final
    /// reply), else the refused DATA; recipients never tried get MAIL's
    /// refusal.
    pub fn outcomes(&self) -> Vec<RecipientOutcome<'_>> {
        let mut out = Vec::new();
        let mut finals = self.finals.iter();
        for (to, rcpt) in &self.recipients {
            let decided = if !is_positive(rcpt) {
                ("RCPT", rcpt)
            } else if !self.finals.is_empty() {
                match finals.next() {
                    Some((_, reply)) => ("message", reply),
                    None => ("RCPT", rcpt),
                }
            } else {
                match (&self.data, &self.message) {
                    (Some(_), Some(message)) => ("message", message),
                    (None, Some(message)) => ("BDAT", message),
                    (Some(data), None) => ("DATA", data),
                    (None, None) => ("RCPT", rcpt),
                }
            };
            out.push(RecipientOutcome::new(to, decided.0, decided.1));
        }
        for to in &self.untried {
            out.push(RecipientOutcome::new(to, "MAIL", &self.mail));
        }
        out
    }

    /// Whether the message was accepted for at least one recipient.
    pub fn is_accepted(&self) -> bool {
        if !self.finals.is_empty() {
            return self.finals.iter().any(|(_, r)| r.is_positive_completion());
        }
        self.message
            .as_ref()
            .is_some_and(Reply::is_positive_completion)
    }
}

fn is_positive(reply: &Reply) -> bool {
    matches!(reply.class_digit(), Some(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> Reply {
        Reply::parse_all(format!("{text}\r\n").as_bytes()).remove(0)
    }

    fn delivery() -> Delivery {
        Delivery {
            mail: reply("250 2.1.0 Ok"),
            recipients: Vec::new(),
            data: None,
            message: None,
            finals: Vec::new(),
            untried: Vec::new(),
            token: "t".into(),
        }
    }

    fn rows(d: &Delivery) -> Vec<String> {
        d.outcomes()
            .iter()
            .map(|o| {
                let code = o.reply.code().map(|c| c.value()).unwrap_or(0);
                format!("{} {} {code} {}", o.recipient, o.status.name(), o.step)
            })
            .collect()
    }

    #[test]
    fn each_recipient_is_decided_by_its_rcpt_refusal_or_the_message() {
        let mut d = delivery();
        d.recipients = vec![
            ("a@x".into(), reply("250 2.1.5 Ok")),
            ("b@x".into(), reply("450 4.2.0 greylisted")),
            ("c@x".into(), reply("550 5.1.1 unknown")),
        ];
        // Nothing sent yet (every RCPT refused, say): RCPT decides.
        assert_eq!(rows(&d)[0], "a@x accepted 250 RCPT");
        d.data = Some(reply("354 go ahead"));
        d.message = Some(reply("554 5.7.1 spam"));
        assert_eq!(
            rows(&d),
            [
                "a@x permanent 554 message",
                "b@x temporary 450 RCPT",
                "c@x permanent 550 RCPT"
            ]
        );
        assert!(!d.is_accepted());
        // DATA refused.
        d.message = None;
        d.data = Some(reply("451 4.3.0 try later"));
        assert_eq!(rows(&d)[0], "a@x temporary 451 DATA");
        // BDAT: no DATA reply, the message's final reply.
        d.data = None;
        d.message = Some(reply("250 2.0.0 queued"));
        assert_eq!(rows(&d)[0], "a@x accepted 250 BDAT");
        assert!(d.is_accepted());
    }

    #[test]
    fn lmtp_gives_each_accepted_recipient_its_own_reply() {
        let mut d = delivery();
        d.recipients = vec![
            ("a@x".into(), reply("250 2.1.5 Ok")),
            ("b@x".into(), reply("550 5.1.1 unknown")),
            ("c@x".into(), reply("250 2.1.5 Ok")),
        ];
        d.data = Some(reply("354 go ahead"));
        d.message = Some(reply("552 5.2.2 full"));
        d.finals = vec![
            ("a@x".into(), reply("250 2.0.0 delivered")),
            ("c@x".into(), reply("552 5.2.2 full")),
        ];
        assert_eq!(
            rows(&d),
            [
                "a@x accepted 250 message",
                "b@x permanent 550 RCPT",
                "c@x permanent 552 message"
            ]
        );
        assert!(d.is_accepted(), "accepted for a@x");
    }

    #[test]
    fn recipients_never_tried_get_the_refusal_of_mail() {
        let mut d = delivery();
        d.mail = reply("421 4.3.2 shutting down");
        d.untried = vec!["a@x".into()];
        assert_eq!(rows(&d), ["a@x temporary 421 MAIL"]);
    }
}
