//! The test message `:send` builds: a real MIME message, made with the
//! `mail-builder` crate, carrying a unique token to find it by: a text
//! body, an HTML alternative, attachments (the EICAR test file among
//! them), and the tokens `%DATE%`, `%MESSAGEID%` and `%TO%` expanded in the
//! subject, the header fields and the bodies.
//!
//! Pure: the caller passes the clock reading, the token and the files'
//! bytes, so the same inputs give the same bytes.

use base64::Engine as _;
use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};

/// The GTUBE line (Generic Test for Unsolicited Bulk Email): spam filters
/// score a message holding it as spam.
pub const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/// The EICAR anti-virus test file: exactly these 68 bytes.
pub const EICAR: &str = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// A file attached to the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The file name the recipient sees.
    pub name: String,
    /// The MIME type (`application/pdf`).
    pub content_type: String,
    /// The bytes, sent as base64 and received unchanged.
    pub data: Vec<u8>,
}

impl Attachment {
    /// An attachment named `name`, its MIME type guessed from the name's
    /// extension.
    pub fn new(name: &str, data: Vec<u8>) -> Attachment {
        Attachment {
            name: name.to_string(),
            content_type: content_type_of(name).to_string(),
            data,
        }
    }

    /// The EICAR test file, as `eicar.com`.
    pub fn eicar() -> Attachment {
        Attachment {
            name: "eicar.com".into(),
            content_type: "application/octet-stream".into(),
            data: EICAR.as_bytes().to_vec(),
        }
    }
}

/// The MIME type for a file name's extension; `application/octet-stream`
/// when it is not one of the common ones.
pub fn content_type_of(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "htm" | "html" => "text/html",
        "ics" => "text/calendar",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

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
    /// An HTML alternative to the body.
    pub html: Option<String>,
    /// Files attached.
    pub attachments: Vec<Attachment>,
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
        let expand = |text: &str| self.expand(text);
        // A field given as an extra header replaces the one built here
        // (`--header 'From: Alice <a@example.org>'`), never doubles it.
        let given = |name: &str| {
            self.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        let mut builder = MessageBuilder::new();
        if !given("From") {
            builder = builder.from(self.from.as_str());
        }
        if !given("To") {
            builder = builder.to(self.to.iter().map(String::as_str).collect::<Vec<_>>());
        }
        if !given("Subject") {
            builder = builder.subject(expand(&self.subject));
        }
        if !given("Date") {
            builder = builder.date(self.date);
        }
        if !given("Message-ID") {
            builder = builder.message_id(self.message_id());
        }
        builder = builder.header("X-Smtpcli-Token", Raw::new(self.token.as_str()));
        let text = MimePart::new("text/plain", BodyPart::Text(expand(&self.body).into()));
        let main = match &self.html {
            Some(html) => MimePart::new(
                "multipart/alternative",
                vec![
                    text,
                    MimePart::new("text/html", BodyPart::Text(expand(html).into())),
                ],
            ),
            None => text,
        };
        let mut parts = vec![main];
        for attachment in &self.attachments {
            // Encoded here, not left to the builder: it would send a text
            // file as text, whose line ends the way to a mailbox may change.
            let base64 = base64::engine::general_purpose::STANDARD.encode(&attachment.data);
            let encoded = base64
                .as_bytes()
                .chunks(76)
                .collect::<Vec<_>>()
                .join(&b"\r\n"[..]);
            parts.push(
                MimePart::new(
                    attachment.content_type.clone(),
                    BodyPart::Binary(encoded.into()),
                )
                .attachment(attachment.name.clone())
                .transfer_encoding("base64"),
            );
        }
        let body = if parts.len() == 1 {
            parts.remove(0)
        } else {
            MimePart::new("multipart/mixed", parts)
        };
        builder = builder.body(body);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), Raw::new(expand(value)));
        }
        builder.write_to_vec().unwrap_or_default()
    }

    /// `<token@domain>`'s inside, as Message-ID carries it.
    fn message_id(&self) -> String {
        format!("{}@{}", self.token, self.domain)
    }

    /// The text with `%DATE%` (the Date: field's value), `%MESSAGEID%`
    /// (`<…>`, as Message-ID: carries it) and `%TO%` (the recipients,
    /// comma-separated) replaced.
    pub fn expand(&self, text: &str) -> String {
        if !text.contains('%') {
            return text.to_string();
        }
        let date = time::OffsetDateTime::from_unix_timestamp(self.date)
            .ok()
            .and_then(|d| {
                d.format(&time::format_description::well_known::Rfc2822)
                    .ok()
            })
            .unwrap_or_default();
        text.replace("%DATE%", &date)
            .replace("%MESSAGEID%", &format!("<{}>", self.message_id()))
            .replace("%TO%", &self.to.join(", "))
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
            ..TestMessage::default()
        };
        String::from_utf8(m.build()).unwrap()
    }

    #[test]
    fn a_field_given_as_a_header_replaces_the_built_one() {
        let m = TestMessage {
            from: "a@example.org".into(),
            to: vec!["b@example.org".into()],
            subject: "built".into(),
            headers: vec![
                ("Subject".into(), "given".into()),
                ("from".into(), "Alice <a@example.org>".into()),
            ],
            token: "t1".into(),
            domain: "example.com".into(),
            ..TestMessage::default()
        };
        let text = String::from_utf8(m.build()).unwrap();
        assert_eq!(text.matches("Subject:").count(), 1, "{text}");
        assert!(text.contains("Subject: given"), "{text}");
        assert_eq!(
            text.to_ascii_lowercase().matches("\nfrom:").count(),
            1,
            "{text}"
        );
        assert!(text.contains("from: Alice <a@example.org>"), "{text}");
    }

    #[test]
    fn the_test_payloads_are_the_standard_strings() {
        assert_eq!(EICAR.len(), 68);
        assert!(EICAR.starts_with("X5O!P%@AP[4\\PZX54(P^)7CC)7}$"));
        assert_eq!(GTUBE.len(), 68);
    }

    #[test]
    fn tokens_are_expanded_in_subject_headers_and_bodies() {
        let m = TestMessage {
            from: "a@example.org".into(),
            to: vec!["b@example.org".into(), "c@example.org".into()],
            subject: "for %TO%".into(),
            body: "id %MESSAGEID% on %DATE%".into(),
            html: Some("<p>%TO%</p>".into()),
            headers: vec![("X-Sent".into(), "%DATE%".into())],
            token: "t1".into(),
            date: 0,
            domain: "example.com".into(),
            ..TestMessage::default()
        };
        assert_eq!(
            m.expand("%MESSAGEID% %TO% %DATE% 100%"),
            "<t1@example.com> b@example.org, c@example.org Thu, 01 Jan 1970 00:00:00 +0000 100%"
        );
        let text = String::from_utf8(m.build()).unwrap();
        assert!(
            text.contains("X-Sent: Thu, 01 Jan 1970 00:00:00 +0000"),
            "{text}"
        );
        assert!(text.contains("multipart/alternative"), "{text}");
        assert!(!text.contains("%TO%") && !text.contains("%DATE%"), "{text}");
    }

    #[test]
    fn attachments_go_as_base64_in_a_mixed_message() {
        let m = TestMessage {
            from: "a@example.org".into(),
            to: vec!["b@example.org".into()],
            subject: "files".into(),
            body: "see attached".into(),
            attachments: vec![
                Attachment::new("notes.txt", b"line\nbare LF\n".to_vec()),
                Attachment::eicar(),
            ],
            token: "t1".into(),
            domain: "example.com".into(),
            ..TestMessage::default()
        };
        let text = String::from_utf8(m.build()).unwrap();
        assert!(text.contains("multipart/mixed"), "{text}");
        assert!(text.contains("filename=\"notes.txt\""), "{text}");
        assert!(text.contains("filename=\"eicar.com\""), "{text}");
        let eicar = base64::engine::general_purpose::STANDARD.encode(EICAR);
        assert!(text.replace("\r\n", "").contains(&eicar), "{text}");
        assert!(!text.contains("octet-stream; charset"), "{text}");
        assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
    }

    #[test]
    fn content_types_follow_the_extension() {
        for (name, ct) in [
            ("a.PDF", "application/pdf"),
            ("b.txt", "text/plain"),
            ("c", "application/octet-stream"),
            ("d.tar.gz", "application/gzip"),
        ] {
            assert_eq!(content_type_of(name), ct, "{name}");
        }
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
