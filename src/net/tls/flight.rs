//! The server's side of a TLS handshake as it crossed the wire, read for
//! what the TLS library does not tell through a safe API: the key exchange
//! group's IANA number (so that a group the library cannot name, such as a
//! post-quantum hybrid, still has a name or a number), and the signature
//! scheme the server signed the handshake with (its algorithm and digest,
//! as Postfix logs them).
//!
//! Sans-IO: bytes in, numbers out. TLS 1.2 sends the scheme in clear (in
//! ServerKeyExchange); TLS 1.3 sends it encrypted (in CertificateVerify),
//! and the caller opens those records with the handshake traffic secret
//! ([`traffic_key`], and its own AEAD). Anything that does not parse is
//! skipped: this is a report's detail, never a verdict.

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384};

/// What the server's flight said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Flight {
    /// The version chosen (`0x0304` for TLS 1.3, from supported_versions).
    pub(super) version: Option<u16>,
    /// The cipher suite chosen.
    pub(super) cipher: Option<u16>,
    /// The key exchange group (TLS 1.3 key_share, TLS 1.2 ECDHE curve).
    pub(super) group: Option<u16>,
    /// The signature scheme of ServerKeyExchange or CertificateVerify.
    pub(super) signature: Option<u16>,
    /// Whether a TLS 1.2 NewSessionTicket came (in clear).
    pub(super) tls12_ticket: bool,
}

/// Bytes of the server's flight kept at most.
pub(super) const FLIGHT_CAP: usize = 64 * 1024;

const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;
const CHANGE_CIPHER_SPEC: u8 = 20;
const TLS13: u16 = 0x0304;

/// Reads the server's bytes of a handshake. `open` decrypts one TLS 1.3
/// record (its sequence number, its 5-byte header, its body) into the
/// inner plaintext, or returns `None` (no key: the encrypted part is
/// skipped).
pub(super) fn read(
    bytes: &[u8],
    mut open: impl FnMut(u64, &[u8], &[u8]) -> Option<Vec<u8>>,
) -> Flight {
    let mut flight = Flight::default();
    let mut clear = Vec::new();
    let mut secret = Vec::new();
    let mut seq = 0u64;
    let mut rest = bytes;
    while rest.len() >= 5 {
        let (header, after) = rest.split_at(5);
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        let Some(body) = after.get(..len) else { break };
        rest = &after[len..];
        match header[0] {
            HANDSHAKE => clear.extend_from_slice(body),
            CHANGE_CIPHER_SPEC => {
                // Before TLS 1.3 what follows is encrypted (Finished), and
                // must not be read as clear messages.
                messages(&clear, &mut flight);
                if flight.version != Some(TLS13) {
                    break;
                }
            }
            APPLICATION_DATA => {
                if flight.version.is_none() {
                    // The ServerHello is complete before any encrypted record.
                    messages(&clear, &mut flight);
                }
                if flight.version != Some(TLS13) {
                    break;
                }
                let Some(inner) = open(seq, header, body) else {
                    break;
                };
                seq += 1;
                // TLSInnerPlaintext: content, the real type, zero padding.
                let end = inner.iter().rposition(|b| *b != 0);
                if let Some(end) = end
                    && inner[end] == HANDSHAKE
                {
                    secret.extend_from_slice(&inner[..end]);
                    if flight_done(&secret) {
                        break;
                    }
                }
            }
            _ => break,
        }
    }
    messages(&clear, &mut flight);
    messages(&secret, &mut flight);
    flight
}

/// Whether a TLS 1.3 encrypted flight has reached Finished.
fn flight_done(bytes: &[u8]) -> bool {
    let mut done = false;
    each_message(bytes, |kind, _| done |= kind == 20);
    done
}

fn each_message(mut bytes: &[u8], mut f: impl FnMut(u8, &[u8])) {
    while bytes.len() >= 4 {
        let len = usize::from(bytes[1]) << 16 | usize::from(bytes[2]) << 8 | usize::from(bytes[3]);
        let Some(body) = bytes.get(4..4 + len) else {
            return;
        };
        f(bytes[0], body);
        bytes = &bytes[4 + len..];
    }
}

fn messages(bytes: &[u8], flight: &mut Flight) {
    each_message(bytes, |kind, body| match kind {
        2 => server_hello(body, flight),
        12 => server_key_exchange(body, flight),
        4 if flight.version != Some(TLS13) => flight.tls12_ticket = true,
        15 => {
            if let Some(scheme) = u16_at(body, 0) {
                flight.signature = Some(scheme);
            }
        }
        _ => {}
    });
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

fn server_hello(body: &[u8], flight: &mut Flight) {
    let Some(&sid_len) = body.get(34) else { return };
    let at = 35 + usize::from(sid_len);
    let Some(cipher) = u16_at(body, at) else {
        return;
    };
    flight.cipher = Some(cipher);
    if flight.version.is_none() {
        flight.version = u16_at(body, 0);
    }
    let mut at = at + 3;
    let Some(total) = u16_at(body, at) else {
        return;
    };
    at += 2;
    let end = (at + usize::from(total)).min(body.len());
    while at + 4 <= end {
        let (Some(kind), Some(len)) = (u16_at(body, at), u16_at(body, at + 2)) else {
            return;
        };
        let data = body.get(at + 4..at + 4 + usize::from(len)).unwrap_or(&[]);
        match kind {
            // supported_versions
            43 => flight.version = u16_at(data, 0).or(flight.version),
            // key_share: a KeyShareEntry, or a HelloRetryRequest's group
            51 => flight.group = u16_at(data, 0).or(flight.group),
            _ => {}
        }
        at += 4 + usize::from(len);
    }
}

/// TLS 1.2 ServerKeyExchange: ECDHE (named curve, point, scheme) or DHE
/// (p, g, Ys, scheme). Each form is taken only if it accounts for every
/// byte, so the other one is not misread.
fn server_key_exchange(body: &[u8], flight: &mut Flight) {
    let signed_tail = |at: usize| -> Option<u16> {
        let scheme = u16_at(body, at)?;
        let len = usize::from(u16_at(body, at + 2)?);
        (at + 4 + len == body.len()).then_some(scheme)
    };
    if body.first() == Some(&3)
        && let (Some(curve), Some(&point)) = (u16_at(body, 1), body.get(3))
        && let Some(scheme) = signed_tail(4 + usize::from(point))
    {
        flight.group = Some(curve);
        flight.signature = Some(scheme);
        return;
    }
    let mut at = 0;
    for _ in 0..3 {
        let Some(len) = u16_at(body, at) else { return };
        at += 2 + usize::from(len);
    }
    if let Some(scheme) = signed_tail(at) {
        flight.signature = Some(scheme);
    }
}

/// A TLS 1.3 cipher suite's record key: `(key length, hash is SHA-384)`.
pub(super) fn suite_key(cipher: u16) -> Option<(usize, bool)> {
    match cipher {
        0x1301 => Some((16, false)),
        0x1302 => Some((32, true)),
        0x1303 => Some((32, false)),
        _ => None,
    }
}

/// The record key and IV from a TLS 1.3 traffic secret (RFC 8446 §7.3).
pub(super) fn traffic_key(
    secret: &[u8],
    key_len: usize,
    sha384: bool,
) -> Option<(Vec<u8>, Vec<u8>)> {
    Some((
        expand_label(secret, b"key", key_len, sha384)?,
        expand_label(secret, b"iv", 12, sha384)?,
    ))
}

/// The nonce of record `seq`: the IV with the sequence number XORed into
/// its end.
pub(super) fn nonce(iv: &[u8], seq: u64) -> Vec<u8> {
    let mut nonce = iv.to_vec();
    let offset = nonce.len().saturating_sub(8);
    for (n, s) in nonce[offset..].iter_mut().zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    nonce
}

/// HKDF-Expand-Label with an empty context, for outputs of one hash block.
fn expand_label(secret: &[u8], label: &[u8], len: usize, sha384: bool) -> Option<Vec<u8>> {
    let mut info = Vec::with_capacity(10 + label.len());
    info.extend_from_slice(&u16::try_from(len).ok()?.to_be_bytes());
    info.push(u8::try_from(6 + label.len()).ok()?);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label);
    info.push(0);
    info.push(1);
    let block = if sha384 {
        let mut mac = Hmac::<Sha384>::new_from_slice(secret).ok()?;
        mac.update(&info);
        mac.finalize().into_bytes().to_vec()
    } else {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
        mac.update(&info);
        mac.finalize().into_bytes().to_vec()
    };
    block.get(..len).map(<[u8]>::to_vec)
}

/// A group's name as OpenSSL and Postfix log it; a group without a name
/// here by its IANA number.
pub(super) fn group_name(group: u16) -> String {
    let name = match group {
        0x0017 => "prime256v1",
        0x0018 => "secp384r1",
        0x0019 => "secp521r1",
        0x001d => "X25519",
        0x001e => "X448",
        0x001a => "brainpoolP256r1",
        0x001b => "brainpoolP384r1",
        0x001c => "brainpoolP512r1",
        0x0100 => "ffdhe2048",
        0x0101 => "ffdhe3072",
        0x0102 => "ffdhe4096",
        0x0103 => "ffdhe6144",
        0x0104 => "ffdhe8192",
        0x11eb => "SecP256r1MLKEM768",
        0x11ec => "X25519MLKEM768",
        0x11ed => "SecP384r1MLKEM1024",
        0x6399 => "X25519Kyber768Draft00",
        _ => return format!("group {group} (0x{group:04x})"),
    };
    name.to_string()
}

/// A signature scheme as Postfix logs it: the algorithm, and the digest
/// (none for EdDSA). Unknown schemes by their IANA number.
pub(super) fn signature_parts(scheme: u16) -> (String, Option<&'static str>) {
    let digest = |hash: u8| match hash {
        2 => Some("SHA1"),
        3 => Some("SHA224"),
        4 => Some("SHA256"),
        5 => Some("SHA384"),
        6 => Some("SHA512"),
        _ => None,
    };
    let [hi, lo] = scheme.to_be_bytes();
    match (hi, lo) {
        (8, 4..=6) => ("RSA-PSS".into(), digest(lo)),
        (8, 9..=11) => ("RSA-PSS".into(), digest(lo - 5)),
        (8, 7) => ("ED25519".into(), None),
        (8, 8) => ("ED448".into(), None),
        (8, 0x1a..=0x1c) => ("ECDSA".into(), digest(lo - 0x16)),
        (_, 1) => ("RSA".into(), digest(hi)),
        (_, 2) => ("DSA".into(), digest(hi)),
        (_, 3) => ("ECDSA".into(), digest(hi)),
        _ => (format!("scheme 0x{scheme:04x}"), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![kind, 3, 3];
        r.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let len = body.len();
        let mut m = vec![kind, (len >> 16) as u8, (len >> 8) as u8, len as u8];
        m.extend_from_slice(body);
        m
    }

    fn hello(cipher: u16, exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7; 32]);
        b.push(0);
        b.extend_from_slice(&cipher.to_be_bytes());
        b.push(0);
        let mut e = Vec::new();
        for (kind, data) in exts {
            e.extend_from_slice(&kind.to_be_bytes());
            e.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
            e.extend_from_slice(data);
        }
        b.extend_from_slice(&u16::try_from(e.len()).unwrap().to_be_bytes());
        b.extend_from_slice(&e);
        message(2, &b)
    }

    #[test]
    fn tls13_hello_and_encrypted_certificate_verify() {
        let mut key_share = 0x11ecu16.to_be_bytes().to_vec();
        key_share.extend_from_slice(&[0, 2, 9, 9]);
        let sh = hello(0x1302, &[(43, vec![3, 4]), (51, key_share)]);
        let mut wire = record(HANDSHAKE, &sh);
        wire.extend(record(CHANGE_CIPHER_SPEC, &[1]));
        // "Encrypted" records: the test's open() just strips a marker byte.
        let mut inner = message(8, &[0, 0]);
        inner.extend(message(11, &[0; 10]));
        inner.push(HANDSHAKE);
        inner.extend_from_slice(&[0, 0, 0]);
        wire.extend(record(APPLICATION_DATA, &[&[0xee][..], &inner].concat()));
        let mut inner = message(15, &[0x08, 0x04, 0, 1, 0]);
        inner.extend(message(20, &[0; 48]));
        inner.push(HANDSHAKE);
        wire.extend(record(APPLICATION_DATA, &[&[0xee][..], &inner].concat()));
        // After Finished: not read.
        wire.extend(record(APPLICATION_DATA, &[0xee, 1, 2, 3]));
        let mut seqs = Vec::new();
        let flight = read(&wire, |seq, header, body| {
            assert_eq!(header[0], APPLICATION_DATA);
            seqs.push(seq);
            Some(body[1..].to_vec())
        });
        assert_eq!(seqs, [0, 1]);
        assert_eq!(
            flight,
            Flight {
                version: Some(TLS13),
                cipher: Some(0x1302),
                group: Some(0x11ec),
                signature: Some(0x0804),
                tls12_ticket: false,
            }
        );
        assert_eq!(group_name(0x11ec), "X25519MLKEM768");
        assert_eq!(group_name(0x0a0a), "group 2570 (0x0a0a)");
        // No key: what is in clear is still read.
        let flight = read(&wire, |_, _, _| None);
        assert_eq!(flight.group, Some(0x11ec));
        assert_eq!(flight.signature, None);
    }

    #[test]
    fn tls12_server_key_exchange_in_clear() {
        let sh = hello(0xc02f, &[]);
        let mut ske = vec![3, 0, 0x17, 3, 1, 2, 3];
        ske.extend_from_slice(&[0x04, 0x01, 0, 2, 5, 5]);
        let mut flight_bytes = sh;
        flight_bytes.extend(message(11, &[0; 3]));
        flight_bytes.extend(message(12, &ske));
        flight_bytes.extend(message(14, &[]));
        let mut wire = record(HANDSHAKE, &flight_bytes);
        // After ChangeCipherSpec: an encrypted Finished, never read.
        wire.extend(record(CHANGE_CIPHER_SPEC, &[1]));
        wire.extend(record(
            HANDSHAKE,
            &message(12, &[3, 0, 0x1d, 0, 0x08, 0x07, 0, 0]),
        ));
        let flight = read(&wire, |_, _, _| unreachable!());
        assert_eq!(flight.version, Some(0x0303));
        assert_eq!(flight.group, Some(0x17));
        assert_eq!(flight.signature, Some(0x0401));
        // DHE: p, g, Ys, then the scheme.
        let dhe = [0, 1, 9, 0, 1, 2, 0, 1, 7, 0x06, 0x01, 0, 1, 0];
        let wire = record(HANDSHAKE, &message(12, &dhe));
        let flight = read(&wire, |_, _, _| None);
        assert_eq!((flight.group, flight.signature), (None, Some(0x0601)));
    }

    #[test]
    fn garbage_reads_as_nothing() {
        for bytes in [
            &b""[..],
            b"\x16\x03\x03\xff\xff",
            b"\x16\x03\x03\x00\x04\x02\x00\x00\x09",
        ] {
            assert_eq!(read(bytes, |_, _, _| None), Flight::default());
        }
        // A record cut short, every length.
        let wire = record(HANDSHAKE, &hello(0x1301, &[(43, vec![3, 4])]));
        for cut in 0..wire.len() {
            let _ = read(&wire[..cut], |_, _, _| None);
        }
    }

    proptest::proptest! {
        /// A hostile server's bytes, as records or not, opened or not:
        /// never a panic.
        #[test]
        fn any_flight_reads_without_a_panic(
            records in proptest::collection::vec(
                (20u8..=24, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)),
                0..12,
            ),
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            let mut wire: Vec<u8> = records.iter().flat_map(|(t, b)| record(*t, b)).collect();
            let _ = read(&wire, |_, _, body| Some(body.to_vec()));
            wire.extend(noise);
            let _ = read(&wire, |_, _, _| None);
        }
    }

    #[test]
    fn schemes_in_postfix_words() {
        assert_eq!(signature_parts(0x0804), ("RSA-PSS".into(), Some("SHA256")));
        assert_eq!(signature_parts(0x080b), ("RSA-PSS".into(), Some("SHA512")));
        assert_eq!(signature_parts(0x0403), ("ECDSA".into(), Some("SHA256")));
        assert_eq!(signature_parts(0x0201), ("RSA".into(), Some("SHA1")));
        assert_eq!(signature_parts(0x0807), ("ED25519".into(), None));
        assert_eq!(signature_parts(0xfe00).0, "scheme 0xfe00");
    }

    #[test]
    fn rfc_8448_server_handshake_key() {
        // RFC 8448 §3, simple 1-RTT: server_handshake_traffic_secret and the
        // key and IV derived from it.
        let secret = unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
        let (key, iv) = traffic_key(&secret, 16, false).unwrap();
        assert_eq!(key, unhex("3fce516009c21727d0f2e4e86ee403bc"));
        assert_eq!(iv, unhex("5d313eb2671276ee13000b30"));
        assert_eq!(nonce(&iv, 1)[11], 0x30 ^ 1);
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
