//! The key exchange and the server's signature in Postfix's words, from
//! OpenSSL and from the server's flight ([`super::super::flight`]).

use super::*;

/// The server's flight as sent, read for the group's number and the
/// signature scheme; TLS 1.3's encrypted part opened with the server's
/// handshake traffic secret.
pub(super) fn read_flight(bytes: &[u8], secret: Option<&[u8]>) -> Flight {
    let mut keys: Option<(Cipher, Vec<u8>, Vec<u8>)> = None;
    let mut tried = false;
    let mut cipher_id = None;
    // The cipher suite is in the clear part: read it first.
    let clear = flight::read(bytes, |_, _, _| None);
    if let Some(id) = clear.cipher {
        cipher_id = Some(id);
    }
    flight::read(bytes, |seq, header, body| {
        if !tried {
            tried = true;
            let (key_len, sha384) = flight::suite_key(cipher_id?)?;
            let (key, iv) = flight::traffic_key(secret?, key_len, sha384)?;
            let cipher = match cipher_id? {
                0x1301 => Cipher::aes_128_gcm(),
                0x1302 => Cipher::aes_256_gcm(),
                _ => Cipher::chacha20_poly1305(),
            };
            keys = Some((cipher, key, iv));
        }
        let (cipher, key, iv) = keys.as_ref()?;
        let split = body.len().checked_sub(16)?;
        let (data, tag) = body.split_at(split);
        decrypt_aead(
            *cipher,
            key,
            Some(&flight::nonce(iv, seq)),
            header,
            data,
            tag,
        )
        .ok()
    })
}

/// The group and the server's signature in Postfix's words.
pub(super) fn key_exchange(ssl: &SslRef, flight: &Flight) -> KeyExchange {
    let group = flight.group.map(flight::group_name).or_else(|| {
        ssl.peer_tmp_key().ok().and_then(|key| match key.id() {
            Id::X25519 => Some("X25519".to_string()),
            Id::X448 => Some("X448".to_string()),
            Id::DH => Some(format!("DHE ({} bits)", key.bits())),
            Id::EC => key
                .ec_key()
                .ok()
                .and_then(|ec| ec.group().curve_name())
                .and_then(|nid| nid.short_name().ok())
                .map(str::to_string),
            _ => None,
        })
    });
    let (signature, digest) = match flight.signature.map(flight::signature_parts) {
        Some((name, digest)) => (Some(name), digest.map(str::to_string)),
        None => (None, None),
    };
    let signature_key = signature
        .as_ref()
        .and(ssl.peer_certificate())
        .and_then(|leaf| {
            let key = leaf.public_key().ok()?;
            match key.id() {
                Id::RSA | Id::RSA_PSS | Id::DSA => Some(format!("{} bits", key.bits())),
                Id::EC => key
                    .ec_key()
                    .ok()
                    .and_then(|ec| ec.group().curve_name())
                    .and_then(|nid| nid.short_name().ok())
                    .map(str::to_string),
                _ => None,
            }
        });
    KeyExchange {
        group,
        signature,
        signature_key,
        digest,
    }
}

/// The key exchange group, from the server's ephemeral key.
pub(super) fn group_name(key: &PKey<Public>) -> String {
    match key.id() {
        Id::X25519 => "X25519".into(),
        Id::X448 => "X448".into(),
        Id::DH => format!("DH {}", key.bits()),
        Id::EC => match key.ec_key().ok().and_then(|ec| ec.group().curve_name()) {
            Some(Nid::X9_62_PRIME256V1) => "P-256".into(),
            Some(Nid::SECP384R1) => "P-384".into(),
            Some(Nid::SECP521R1) => "P-521".into(),
            Some(nid) => nid.short_name().unwrap_or("EC").to_string(),
            None => format!("EC {}", key.bits()),
        },
        other => Nid::from_raw(other.as_raw())
            .short_name()
            .map(str::to_string)
            .unwrap_or_else(|_| format!("key type {}", other.as_raw())),
    }
}
