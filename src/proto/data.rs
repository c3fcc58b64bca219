//! Message content on the wire: CRLF normalisation and dot-stuffing for
//! `DATA` (RFC 5321 §4.5.2, §2.3.8) and CRLF normalisation for `BDAT`
//! (RFC 3030).
//!
//! [`ContentEncoder`] is a streaming encoder: the caller feeds chunks of any
//! size, split anywhere (a CR at the end of one chunk and its LF at the start
//! of the next, a `.` that opens a line at the start of a chunk), and gets the
//! same bytes as if the whole message had been encoded at once. Its state is a
//! few flags and two counters, so a message of any size streams in constant
//! memory. Nothing is held back between chunks: a CR is written as CRLF at
//! once and a following LF is swallowed, so the bytes produced so far are
//! always final (which is what a `BDAT` chunk size must count).
//! [`decode_data`] is the inverse, for tests and for a server's view of what
//! it received. This module does no I/O and never decides *when* to send.

use thiserror::Error;

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const CRLF: &[u8] = b"\r\n";
/// What ends a DATA message once the content ends with CRLF.
const TERMINATOR: &[u8] = b".\r\n";

/// Streaming encoder of message content for `DATA` or `BDAT`.
///
/// Line endings are normalised: CRLF stays, a bare LF or a bare CR becomes
/// CRLF. For `DATA`, every line that begins with `.` gets one more `.`, and
/// [`finish`](Self::finish) appends the `.` CRLF terminator.
#[derive(Clone, Debug)]
pub struct ContentEncoder {
    /// Dot-stuff and terminate (DATA), or send the bytes as they are (BDAT).
    dot_stuff: bool,
    /// The next input byte starts a line.
    at_line_start: bool,
    /// The last input byte was a CR, already written as CRLF; an LF next is
    /// its partner and is dropped.
    after_cr: bool,
    bytes_in: u64,
    lines_ended: u64,
}

impl ContentEncoder {
    /// An encoder for `DATA`: CRLF normalisation and dot-stuffing, with the
    /// terminator added by [`finish`](Self::finish).
    pub fn for_data() -> Self {
        Self::new(true)
    }

    /// An encoder for `BDAT`: CRLF normalisation only. BDAT carries exact
    /// octets, so a leading `.` is content, not something to escape.
    pub fn for_bdat() -> Self {
        Self::new(false)
    }

    fn new(dot_stuff: bool) -> Self {
        Self {
            dot_stuff,
            at_line_start: true,
            after_cr: false,
            bytes_in: 0,
            lines_ended: 0,
        }
    }

    /// Encodes the next chunk of content, appending the wire bytes to `out`.
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        self.bytes_in += input.len() as u64;
        // Most content grows by a few bytes per line at most; Vec's doubling
        // covers the pathological all-LF case.
        out.reserve(input.len() + input.len() / 32 + 2);

        let mut rest = input;
        while let Some((&first, tail)) = rest.split_first() {
            if self.after_cr {
                self.after_cr = false;
                if first == LF {
                    rest = tail;
                    continue;
                }
            }
            if self.at_line_start {
                self.at_line_start = false;
                if self.dot_stuff && first == b'.' {
                    out.push(b'.');
                }
            }
            match find_line_end(rest) {
                None => {
                    out.extend_from_slice(rest);
                    return;
                }
                Some(pos) => {
                    out.extend_from_slice(&rest[..pos]);
                    out.extend_from_slice(CRLF);
                    self.lines_ended += 1;
                    self.at_line_start = true;
                    self.after_cr = rest[pos] == CR;
                    rest = &rest[pos + 1..];
                }
            }
        }
    }

    /// Ends the message: completes an unterminated last line with CRLF and,
    /// for DATA, appends the `.` CRLF terminator. The encoder is then back in
    /// its initial state (counters included), ready for the next message.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.at_line_start {
            out.extend_from_slice(CRLF);
        }
        if self.dot_stuff {
            out.extend_from_slice(TERMINATOR);
        }
        *self = Self::new(self.dot_stuff);
    }

    /// Content bytes fed in since the start of the message (before encoding).
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Lines of content seen since the start of the message, counting an
    /// unterminated last line, so it is already the final count before
    /// [`finish`](Self::finish).
    pub fn lines(&self) -> u64 {
        self.lines_ended + u64::from(!self.at_line_start)
    }
}

/// Position of the first CR or LF in `bytes`.
///
/// Scans fixed-size blocks with a branch-free test first, which the compiler
/// vectorises; only a block that holds a line ending is searched byte by byte.
fn find_line_end(bytes: &[u8]) -> Option<usize> {
    const BLOCK: usize = 16;
    let is_end = |b: u8| b == CR || b == LF;
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut offset = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |any, &b| any | is_end(b)) {
            return block.iter().position(|&b| is_end(b)).map(|p| offset + p);
        }
        offset += BLOCK;
    }
    blocks
        .remainder()
        .iter()
        .position(|&b| is_end(b))
        .map(|p| offset + p)
}

/// The line-ending normalisation that [`ContentEncoder`] applies, on a whole
/// buffer: CRLF stays, a bare LF or a bare CR becomes CRLF.
pub fn normalize_line_endings(input: &[u8]) -> Vec<u8> {
    // Written independently of the encoder on purpose: the property tests
    // compare the two.
    let mut out = Vec::with_capacity(input.len() + input.len() / 32 + 2);
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            CR => {
                out.extend_from_slice(CRLF);
                if input.get(i + 1) == Some(&LF) {
                    i += 1;
                }
            }
            LF => out.extend_from_slice(CRLF),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Why DATA wire bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes do not end with CRLF `.` CRLF (and are not just `.` CRLF).
    #[error("the message is not terminated by <CRLF>.<CRLF>")]
    MissingTerminator,
    /// An LF not preceded by CR.
    #[error("bare LF at offset {offset}")]
    BareLf {
        /// Offset of the LF in the wire bytes.
        offset: usize,
    },
    /// A CR not followed by LF.
    #[error("bare CR at offset {offset}")]
    BareCr {
        /// Offset of the CR in the wire bytes.
        offset: usize,
    },
    /// A lone `.` line before the end: a server would stop there and read the
    /// rest as commands.
    #[error("a lone \".\" line at offset {offset} ends the message early")]
    EarlyTerminator {
        /// Offset of the `.` in the wire bytes.
        offset: usize,
    },
}

/// Decodes DATA wire bytes back into content, as a server sees them: checks
/// and removes the final `.` CRLF, and removes one leading `.` from every line
/// that has one. The decoded content keeps the CRLF of its last line.
pub fn decode_data(wire: &[u8]) -> Result<Vec<u8>, DecodeError> {
    if wire == TERMINATOR {
        return Ok(Vec::new());
    }
    let body_len = wire
        .len()
        .checked_sub(TERMINATOR.len())
        .filter(|&n| wire[..n].ends_with(CRLF) && wire[n..] == *TERMINATOR)
        .ok_or(DecodeError::MissingTerminator)?;
    let body = &wire[..body_len];

    let mut out = Vec::with_capacity(body.len());
    let mut start = 0;
    while start < body.len() {
        // `body` ends in CRLF, so every line here has an LF.
        let lf = start
            + body[start..]
                .iter()
                .position(|&b| b == LF)
                .ok_or(DecodeError::MissingTerminator)?;
        if lf == start || body[lf - 1] != CR {
            return Err(DecodeError::BareLf { offset: lf });
        }
        let line = &body[start..lf + 1];
        if let Some(cr) = line[..line.len() - 2].iter().position(|&b| b == CR) {
            return Err(DecodeError::BareCr { offset: start + cr });
        }
        match line {
            b".\r\n" => return Err(DecodeError::EarlyTerminator { offset: start }),
            [b'.', unstuffed @ ..] => out.extend_from_slice(unstuffed),
            _ => out.extend_from_slice(line),
        }
        start = lf + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode_chunks(mut enc: ContentEncoder, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in chunks {
            enc.encode(chunk, &mut out);
        }
        enc.finish(&mut out);
        out
    }

    fn data(input: &[u8]) -> Vec<u8> {
        encode_chunks(ContentEncoder::for_data(), &[input])
    }

    fn bdat(input: &[u8]) -> Vec<u8> {
        encode_chunks(ContentEncoder::for_bdat(), &[input])
    }

    /// Shows bytes with CR and LF visible, so a failing table row is readable.
    fn show(bytes: &[u8]) -> String {
        bytes.escape_ascii().to_string()
    }

    #[test]
    fn data_vectors() {
        let table: &[(&[u8], &[u8])] = &[
            (b"", b".\r\n"),
            (b".", b"..\r\n.\r\n"),
            (b"..", b"...\r\n.\r\n"),
            (b".\r\n", b"..\r\n.\r\n"),
            (b".\n", b"..\r\n.\r\n"),
            (b"\r\n", b"\r\n.\r\n"),
            (b"a\r\n.\r\nb", b"a\r\n..\r\nb\r\n.\r\n"),
            (b"a\n.b\n", b"a\r\n..b\r\n.\r\n"),
            (b"a\r.b", b"a\r\n..b\r\n.\r\n"),
            (b"x.\n y.\n", b"x.\r\n y.\r\n.\r\n"),
            (b" .\r\n", b" .\r\n.\r\n"),
            (
                b"From me\r\n>From you\r\n",
                b"From me\r\n>From you\r\n.\r\n",
            ),
            (b"a\0b\0", b"a\0b\0\r\n.\r\n"),
            (b"a\rb", b"a\r\nb\r\n.\r\n"),
            (b"a\r\r\n", b"a\r\n\r\n.\r\n"),
            (b"a\n\rb", b"a\r\n\r\nb\r\n.\r\n"),
            (b"\n\r", b"\r\n\r\n.\r\n"),
            (b"\r", b"\r\n.\r\n"),
            (b"\xff\xfe.\n", b"\xff\xfe.\r\n.\r\n"),
            (
                b"Subject: hi\r\n\r\nDies ist eine Testmail.\n",
                b"Subject: hi\r\n\r\nDies ist eine Testmail.\r\n.\r\n",
            ),
        ];
        for &(input, want) in table {
            assert_eq!(show(&data(input)), show(want), "input {}", show(input));
        }
    }

    #[test]
    fn bdat_vectors() {
        let table: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b".", b".\r\n"),
            (b".\r\n", b".\r\n"),
            (b"a\n.\nb", b"a\r\n.\r\nb\r\n"),
            (b"a\rb\r\n", b"a\r\nb\r\n"),
            (b"a\0\n", b"a\0\r\n"),
        ];
        for &(input, want) in table {
            assert_eq!(show(&bdat(input)), show(want), "input {}", show(input));
        }
    }

    #[test]
    fn data_chunk_splits() {
        let table: &[(&[&[u8]], &[u8])] = &[
            (&[b"a\r", b"\nb"], b"a\r\nb\r\n.\r\n"),
            (&[b"a\r", b"b"], b"a\r\nb\r\n.\r\n"),
            (&[b"a\r", b"", b"\nb"], b"a\r\nb\r\n.\r\n"),
            (&[b"a\r", b"\r", b"\n"], b"a\r\n\r\n.\r\n"),
            (&[b"a\r", b"\n.", b"\r\n"], b"a\r\n..\r\n.\r\n"),
            (&[b"a\r", b".b"], b"a\r\n..b\r\n.\r\n"),
            (&[b"a\n", b".b"], b"a\r\n..b\r\n.\r\n"),
            (&[b"a\r\n", b"."], b"a\r\n..\r\n.\r\n"),
            (&[b".", b"."], b"...\r\n.\r\n"),
            (&[b"", b".", b"", b"\n"], b"..\r\n.\r\n"),
            (&[b"a", b".b"], b"a.b\r\n.\r\n"),
            (&[b"a\r", b"\n"], b"a\r\n.\r\n"),
            (&[b"a\r"], b"a\r\n.\r\n"),
            (&[b"\r", b"\n", b"\r", b"\n"], b"\r\n\r\n.\r\n"),
            (&[b"\r", b"\n\n", b"."], b"\r\n\r\n..\r\n.\r\n"),
        ];
        for &(chunks, want) in table {
            let got = encode_chunks(ContentEncoder::for_data(), chunks);
            let shown: Vec<String> = chunks.iter().map(|c| show(c)).collect();
            assert_eq!(show(&got), show(want), "chunks {shown:?}");
        }
    }

    #[test]
    fn nothing_is_held_back_between_chunks() {
        // A BDAT chunk size counts the bytes produced so far, so they must be
        // final: a trailing CR is already out as CRLF.
        let mut enc = ContentEncoder::for_bdat();
        let mut out = Vec::new();
        enc.encode(b"a\r", &mut out);
        assert_eq!(out, b"a\r\n");
        enc.encode(b"\nb", &mut out);
        assert_eq!(out, b"a\r\nb");
    }

    #[test]
    fn counters() {
        let table: &[(&[u8], u64, u64)] = &[
            (b"", 0, 0),
            (b"a", 1, 1),
            (b"a\n", 2, 1),
            (b"a\r\nb", 4, 2),
            (b"\r\n\r\n", 4, 2),
            (b"\r\r", 2, 2),
        ];
        for &(input, bytes, lines) in table {
            let mut enc = ContentEncoder::for_data();
            enc.encode(input, &mut Vec::new());
            assert_eq!(
                (enc.bytes_in(), enc.lines()),
                (bytes, lines),
                "input {}",
                show(input)
            );
        }
    }

    #[test]
    fn finish_resets_for_the_next_message() {
        let mut enc = ContentEncoder::for_data();
        let mut out = Vec::new();
        enc.encode(b"first\r", &mut out);
        enc.finish(&mut out);
        assert_eq!((enc.bytes_in(), enc.lines()), (0, 0));
        out.clear();
        // The LF must not be taken as the partner of the previous CR.
        enc.encode(b"\n.x", &mut out);
        enc.finish(&mut out);
        assert_eq!(show(&out), show(b"\r\n..x\r\n.\r\n"));
    }

    #[test]
    fn normalize_vectors() {
        let table: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"a", b"a"),
            (b"a\r\nb", b"a\r\nb"),
            (b"a\nb", b"a\r\nb"),
            (b"a\rb", b"a\r\nb"),
            (b"\r\r\n\n", b"\r\n\r\n\r\n"),
            (b"\n\r", b"\r\n\r\n"),
            (b".\n", b".\r\n"),
        ];
        for &(input, want) in table {
            assert_eq!(
                show(&normalize_line_endings(input)),
                show(want),
                "input {}",
                show(input)
            );
        }
    }

    #[test]
    fn decode_vectors() {
        type Row = (&'static [u8], Result<&'static [u8], DecodeError>);
        let table: &[Row] = &[
            (b".\r\n", Ok(b"")),
            (b"\r\n.\r\n", Ok(b"\r\n")),
            (b"a\r\n.\r\n", Ok(b"a\r\n")),
            (b"..\r\n.\r\n", Ok(b".\r\n")),
            (b"...x\r\n.\r\n", Ok(b"..x\r\n")),
            (b"a.\r\n.b\r\n.\r\n", Ok(b"a.\r\nb\r\n")),
            (b"", Err(DecodeError::MissingTerminator)),
            (b"a\r\n", Err(DecodeError::MissingTerminator)),
            (b"a.\r\n", Err(DecodeError::MissingTerminator)),
            (b"a\r\n.\n", Err(DecodeError::MissingTerminator)),
            (b"a\n.\r\n", Err(DecodeError::MissingTerminator)),
            (
                b"\r\n.\r\n.\r\n",
                Err(DecodeError::EarlyTerminator { offset: 2 }),
            ),
            (b"a\nb\r\n.\r\n", Err(DecodeError::BareLf { offset: 1 })),
            (b"\nb\r\n.\r\n", Err(DecodeError::BareLf { offset: 0 })),
            (b"ab\rc\r\n.\r\n", Err(DecodeError::BareCr { offset: 2 })),
            (b"ab\r\r\n.\r\n", Err(DecodeError::BareCr { offset: 2 })),
        ];
        for (wire, want) in table {
            let got = decode_data(wire);
            assert_eq!(got, want.clone().map(<[u8]>::to_vec), "wire {}", show(wire));
        }
    }

    /// Bytes that exercise the encoder: line endings and dots are likely.
    fn content() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            3 => Just(CR),
            3 => Just(LF),
            3 => Just(b'.'),
            2 => Just(b'a'),
            1 => Just(0u8),
            2 => any::<u8>(),
        ];
        proptest::collection::vec(byte, 0..200)
    }

    /// `input` and the same bytes cut into chunks at arbitrary points
    /// (empty chunks included).
    fn chunked() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<u8>>)> {
        (
            content(),
            proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        )
            .prop_map(|(input, cuts)| {
                let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
                cuts.sort_unstable();
                let mut chunks = Vec::new();
                let mut from = 0;
                for cut in cuts.into_iter().chain([input.len()]) {
                    chunks.push(input[from..cut].to_vec());
                    from = cut;
                }
                (input, chunks)
            })
    }

    /// What the decoded message must be: the normalised content, with its
    /// last line completed.
    fn expected_content(input: &[u8]) -> Vec<u8> {
        let mut want = normalize_line_endings(input);
        if !want.is_empty() && !want.ends_with(CRLF) {
            want.extend_from_slice(CRLF);
        }
        want
    }

    /// Offset of the first CR not followed by LF or LF not preceded by CR.
    fn bare_line_ending(wire: &[u8]) -> Option<usize> {
        (0..wire.len()).find(|&i| match wire[i] {
            CR => wire.get(i + 1) != Some(&LF),
            LF => i == 0 || wire[i - 1] != CR,
            _ => false,
        })
    }

    proptest! {
        #[test]
        fn chunking_does_not_change_the_output((input, chunks) in chunked()) {
            let slices: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
            for enc in [ContentEncoder::for_data(), ContentEncoder::for_bdat()] {
                let whole = encode_chunks(enc.clone(), &[&input]);
                let pieces = encode_chunks(enc, &slices);
                prop_assert_eq!(show(&pieces), show(&whole));
            }
        }

        #[test]
        fn data_round_trips(input in content()) {
            let decoded = decode_data(&data(&input));
            prop_assert_eq!(decoded, Ok(expected_content(&input)));
        }

        #[test]
        fn bdat_is_normalised_content(input in content()) {
            prop_assert_eq!(show(&bdat(&input)), show(&expected_content(&input)));
        }

        #[test]
        fn data_wire_is_well_formed(input in content()) {
            let wire = data(&input);
            prop_assert_eq!(bare_line_ending(&wire), None);
            // Line starts are offset 0 and every offset after an LF; the only
            // line that is a lone "." is the terminator.
            let lone_dot = (0..wire.len())
                .filter(|&i| i == 0 || wire[i - 1] == LF)
                .find(|&i| wire[i..].starts_with(TERMINATOR));
            prop_assert_eq!(lone_dot, Some(wire.len() - TERMINATOR.len()));
        }

        #[test]
        fn counters_match_the_input(input in content()) {
            let mut enc = ContentEncoder::for_data();
            enc.encode(&input, &mut Vec::new());
            let lines = expected_content(&input).windows(2).filter(|w| w == &CRLF).count();
            prop_assert_eq!(enc.bytes_in(), input.len() as u64);
            prop_assert_eq!(enc.lines(), lines as u64);
        }

        #[test]
        fn decode_never_panics(wire in content()) {
            let _ = decode_data(&wire);
        }
    }
}
