//! The test message `:send` builds: a real MIME message, made with the
//! `mail-builder` crate, carrying a unique token to find it by.
//!
//! Pure: the caller passes the clock reading and the token, so the same
//! inputs give the same bytes.

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;

/// What the message says and who it is from and to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestMessage {
    /// The From: address (the envelope sender, or a stand-in for `<>`).
    pub from: String,
    /// The To: addresses.
    pub to: Vec<String>,
    /// The subject (any Unicode; encoded as RFC 2047 where needed).
    pub subject: String,
    /// The body text (any Unicode; encoded as needed).
    pub body: String,
    /// Extra header fields, name and value.
    pub headers: Vec<(String, String)>,
    /// The token to find the message by.
    pub token: String,
    /// Seconds since the Unix epoch, for Date:.
    pub date: i64,
    /// The domain part of the Message-ID.
    pub domain: String,
}

impl TestMessage {
    /// The message as bytes on the wire before dot-stuffing (CRLF lines).
    pub fn build(&self) -> Vec<u8> {
        let mut builder = MessageBuilder::new()
            .from(self.from.as_str())
            .to(self.to.iter().map(String::as_str).collect::<Vec<_>>())
            .subject(self.subject.as_str())
            .date(self.date)
            .message_id(format!("{}@{}", self.token, self.domain))
            .header("X-Smtpcli-Token", Raw::new(self.token.as_str()))
            .text_body(self.body.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), Raw::new(value.as_str()));
        }
        builder.write_to_vec().unwrap_or_default()
    }
}

/// A token unique to this process and moment: `smtpcli-<time>-<pid>-<n>`.
pub fn token(unix_nanos: u128, pid: u32, n: u32) -> String {
    format!("smtpcli-{unix_nanos:x}-{pid:x}-{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(subject: &str) -> String {
        let m = TestMessage {
            from: "a@example.org".into(),
            to: vec!["b@example.org".into(), "c@example.org".into()],
            subject: subject.into(),
            body: "Hallo Welt.\nToken: t1\n".into(),
            headers: vec![("X-Test".into(), "yes".into())],
            token: "t1".into(),
            date: 1_795_000_000,
            domain: "pc0815.example.com".into(),
        };
        String::from_utf8(m.build()).unwrap()
    }

    #[test]
    fn has_the_headers_an_mta_expects() {
        let text = message("Test");
        for header in [
            "From: <a@example.org>",
            "To: <b@example.org>, <c@example.org>",
            "Subject: Test",
            "Message-ID: <t1@pc0815.example.com>",
            "X-Smtpcli-Token: t1",
            "X-Test: yes",
            "MIME-Version: 1.0",
            "Date: ",
        ] {
            assert!(text.contains(header), "{header} missing:\n{text}");
        }
        assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
    }

    #[test]
    fn non_ascii_subject_is_encoded() {
        let text = message("Grüße");
        assert!(text.contains("Subject: =?utf-8?"), "{text}");
        assert!(!text.contains("Grüße"), "{text}");
    }
}
