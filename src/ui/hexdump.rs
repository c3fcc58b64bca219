//! `:hex on`: the bytes each way as a hex dump, sixteen to a row, with
//! their printable ASCII beside them.
//!
//! Pure formatting, and the bytes of a sent line or a reply as they were on
//! the wire. The ASCII column shows only printable ASCII; everything else is
//! a dot, so a dump never carries a control character to the terminal.
//! Secrets are never dumped.

use std::fmt::Write as _;

use crate::proto::reply::{LineEnding, Reply};
use crate::session::Sent;

/// Bytes per row.
const ROW: usize = 16;

/// The rows of a dump: offset, hex bytes, ASCII column.
///
/// ```text
/// 0000  48 45 4c 4f 20 78 0d 0a                          HELO x..
/// ```
pub(crate) fn dump(bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(ROW)
        .enumerate()
        .map(|(i, chunk)| {
            let mut row = format!("{:04x} ", i * ROW);
            for (j, b) in chunk.iter().enumerate() {
                // A wider gap after eight bytes, as hexdump -C does.
                let gap = if j == ROW / 2 { "  " } else { " " };
                let _ = write!(row, "{gap}{b:02x}");
            }
            let missing = ROW - chunk.len();
            let pad = missing * 3 + usize::from(chunk.len() <= ROW / 2);
            row.push_str(&" ".repeat(pad + 2));
            row.extend(chunk.iter().map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    char::from(b)
                } else {
                    '.'
                }
            }));
            row
        })
        .collect()
}

/// The bytes a sent line went out as, rebuilt from what the event says:
/// CRLF added, message text dot-stuffed. `None` for secrets, which are
/// never shown, not even as hex.
pub(crate) fn sent_bytes(what: &Sent) -> Option<Vec<u8>> {
    let mut wire = Vec::new();
    match what {
        // The event carries the redacted text of an AUTH line with an
        // initial response; its bytes are as secret as the response.
        Sent::Command(text) if text.ends_with(REDACTED_INITIAL_RESPONSE) => return None,
        Sent::Command(text) => wire.extend_from_slice(text.as_bytes()),
        Sent::Text(text) => {
            if text.starts_with('.') {
                wire.push(b'.');
            }
            wire.extend_from_slice(text.as_bytes());
        }
        Sent::EndOfMessage => wire.push(b'.'),
        Sent::Secret { .. } => return None,
        // Exactly the bytes given, no CRLF added.
        Sent::Raw(bytes) => return Some(bytes.clone()),
    }
    wire.extend_from_slice(b"\r\n");
    Some(wire)
}

/// How the engine shows an AUTH line whose initial response it redacted.
const REDACTED_INITIAL_RESPONSE: &str = "[initial response redacted]";

/// The bytes of a reply as they arrived, line endings included (bytes over
/// the line limit were not kept).
pub(crate) fn received_bytes(reply: &Reply) -> Vec<u8> {
    let mut wire = Vec::new();
    for line in &reply.lines {
        wire.extend_from_slice(&line.raw);
        wire.extend_from_slice(match line.ending {
            LineEnding::CrLf => b"\r\n",
            LineEnding::Lf => b"\n",
            LineEnding::Missing => b"",
        });
    }
    wire
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up() {
        let rows = dump(b"EHLO client.example.org\r\n");
        assert_eq!(
            rows,
            [
                "0000  45 48 4c 4f 20 63 6c 69  65 6e 74 2e 65 78 61 6d  EHLO client.exam",
                "0010  70 6c 65 2e 6f 72 67 0d  0a                       ple.org..",
            ]
        );
        let short = dump(b"QUIT\r\n");
        assert_eq!(
            short,
            ["0000  51 55 49 54 0d 0a                                 QUIT.."]
        );
        // The ASCII column starts in the same place whatever the length.
        let at = |r: &str, text: &str| r.find(text).unwrap();
        assert_eq!(at(&rows[0], "EHLO"), at(&short[0], "QUIT"));
        assert_eq!(at(&rows[1], "ple"), at(&short[0], "QUIT"));
    }

    #[test]
    fn control_bytes_never_reach_the_ascii_column() {
        let all: Vec<u8> = (0..=255).collect();
        for row in dump(&all) {
            assert!(!row.chars().any(|c| c.is_control()), "{row:?}");
        }
    }

    #[test]
    fn bytes_each_way() {
        let text = Sent::Text(".hidden".into());
        assert_eq!(sent_bytes(&text).unwrap(), b"..hidden\r\n");
        assert_eq!(sent_bytes(&Sent::EndOfMessage).unwrap(), b".\r\n");
        assert_eq!(sent_bytes(&Sent::Secret { len: 8 }), None);
        let auth = Sent::Command("AUTH PLAIN [initial response redacted]".into());
        assert_eq!(sent_bytes(&auth), None);
        let reply = Reply::parse_all(b"250-a\n250 b\r\n").remove(0);
        assert_eq!(received_bytes(&reply), b"250-a\n250 b\r\n");
    }

    #[test]
    fn nothing_to_dump() {
        assert!(dump(b"").is_empty());
    }
}
