//! The SOCKS5 messages, table-driven over byte sequences, and the handshake
//! against a scripted proxy on an in-memory stream.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::text::Untrusted;

fn creds() -> Credentials {
    Credentials::new("socksuser", Secret::new("pa55")).unwrap()
}

fn localhost() -> TargetAddr {
    TargetAddr::new("localhost", 2525).unwrap()
}

const NO_AUTH: &[Method] = &[Method::NoAuth];
const BOTH: &[Method] = &[Method::NoAuth, Method::UserPassword];

#[test]
fn requests_are_the_bytes_of_rfc_1928_and_1929() {
    let cases: &[(&str, Vec<u8>, &[u8])] = &[
        ("greeting", greeting(NO_AUTH), &[5, 1, 0]),
        ("greeting with credentials", greeting(BOTH), &[5, 2, 0, 2]),
        (
            "auth",
            auth_request(&creds()).to_vec(),
            b"\x01\x09socksuser\x04pa55",
        ),
        (
            "CONNECT to an IPv4 literal",
            connect_request(&TargetAddr::new("127.0.0.1", 25).unwrap()),
            &[5, 1, 0, 1, 127, 0, 0, 1, 0, 25],
        ),
        (
            "CONNECT to an IPv6 literal",
            connect_request(&TargetAddr::new("::1", 587).unwrap()),
            &[
                5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 75,
            ],
        ),
        (
            "CONNECT to a name: the proxy resolves it",
            connect_request(&localhost()),
            b"\x05\x01\x00\x03\x09localhost\x09\xdd",
        ),
    ];
    for (what, got, want) in cases {
        assert_eq!(got.as_slice(), *want, "{what}");
    }
}

#[test]
fn names_and_credentials_have_1_to_255_bytes() {
    let long = "a".repeat(255);
    let request = connect_request(&TargetAddr::new(&long, 25).unwrap());
    assert_eq!(request.len(), 4 + 1 + 255 + 2);
    assert_eq!(request[4], 255);
    for host in ["", &"a".repeat(256)] {
        let e = TargetAddr::new(host, 25).unwrap_err();
        assert!(matches!(e, Socks5Error::NameLength { .. }), "{e}");
        assert!(e.to_string().contains("1 to 255 bytes"), "{e}");
    }
    let e = Credentials::new("", Secret::new("x")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the SOCKS5 user name has 0 bytes; RFC 1929 allows 1 to 255"
    );
    let e = Credentials::new("u", Secret::new("x".repeat(256))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the SOCKS5 password has 256 bytes; RFC 1929 allows 1 to 255"
    );
    assert!(Credentials::new("u".repeat(255), Secret::new("p".repeat(255))).is_ok());
}

#[test]
fn credentials_do_not_show_the_password() {
    let shown = format!("{:?}", creds());
    assert!(shown.contains("socksuser"), "{shown}");
    assert!(!shown.contains("pa55"), "{shown}");
}

#[test]
fn method_selection_cases() {
    type Want = Result<Decoded<Method>, &'static str>;
    let cases: &[(&[u8], &'static [Method], Want)] = &[
        (&[], NO_AUTH, Ok(Decoded::Need(2))),
        (&[5], NO_AUTH, Ok(Decoded::Need(2))),
        (&[5, 0], NO_AUTH, Ok(Decoded::Done(Method::NoAuth))),
        (&[5, 2], BOTH, Ok(Decoded::Done(Method::UserPassword))),
        (&[5, 0], BOTH, Ok(Decoded::Done(Method::NoAuth))),
        (
            &[5, 0xff],
            NO_AUTH,
            Err(
                "the proxy accepts none of the methods offered (no authentication); it probably wants a user name and password: --socks5-user",
            ),
        ),
        (
            &[5, 0xff],
            BOTH,
            Err(
                "the proxy accepts none of the methods offered (no authentication, user name and password)",
            ),
        ),
        // An auth method the client did not offer.
        (
            &[5, 2],
            NO_AUTH,
            Err(
                "the proxy chose user name and password, which was not offered (offered: no authentication)",
            ),
        ),
        (
            &[5, 1],
            BOTH,
            Err(
                "the proxy chose GSSAPI, which was not offered (offered: no authentication, user name and password)",
            ),
        ),
        (
            &[5, 0x80],
            NO_AUTH,
            Err(
                "the proxy chose private method X'80', which was not offered (offered: no authentication)",
            ),
        ),
        // Wrong versions, known as soon as the first byte is in.
        (
            &[4],
            NO_AUTH,
            Err("the proxy answered the method selection with version 4, not 5 (a SOCKS4 proxy?)"),
        ),
        (
            b"HTTP/1.1 400",
            NO_AUTH,
            Err("the proxy answered the method selection with version 72, not 5 (an HTTP proxy?)"),
        ),
        (
            &[1, 0],
            NO_AUTH,
            Err("the proxy answered the method selection with version 1, not 5"),
        ),
    ];
    for (bytes, offered, want) in cases {
        let got = method_selection(bytes, offered).map_err(|e| e.to_string());
        assert_eq!(got, want.clone().map_err(String::from), "{bytes:?}");
    }
}

#[test]
fn auth_status_cases() {
    type Want = Result<Decoded<()>, &'static str>;
    let cases: &[(&[u8], Want)] = &[
        (&[], Ok(Decoded::Need(2))),
        (&[1], Ok(Decoded::Need(2))),
        (&[1, 0], Ok(Decoded::Done(()))),
        (
            &[1, 1],
            Err("the proxy refused the user name and password of socksuser (RFC 1929 status 1)"),
        ),
        (
            &[1, 0xff],
            Err("the proxy refused the user name and password of socksuser (RFC 1929 status 255)"),
        ),
        // Some proxies answer with the SOCKS version: not RFC 1929.
        (
            &[5, 0],
            Err("the proxy answered the user name and password with version 5, not 1 (RFC 1929)"),
        ),
    ];
    for (bytes, want) in cases {
        let got = auth_status(bytes, "socksuser").map_err(|e| e.to_string());
        assert_eq!(got, want.clone().map_err(String::from), "{bytes:?}");
    }
}

#[test]
fn connect_reply_cases() {
    let name255 = [&[5, 0, 0, 3, 255][..], &[b'n'; 255], &[0, 25]].concat();
    let v6 = [&[5, 0, 0, 4][..], &[0; 15], &[1, 0x01, 0xbb]].concat();
    type Want = Result<Decoded<TargetAddr>, String>;
    let ip = |s: &str| Ok(Decoded::Done(TargetAddr::Ip(s.parse().unwrap())));
    let cases: Vec<(&[u8], Want)> = vec![
        (&[], Ok(Decoded::Need(2))),
        (&[5, 0], Ok(Decoded::Need(4))),
        (&[5, 0, 0, 1], Ok(Decoded::Need(10))),
        (&[5, 0, 0, 1, 127, 0, 0], Ok(Decoded::Need(10))),
        (&[5, 0, 0, 1, 127, 0, 0, 1, 0xdd], Ok(Decoded::Need(10))),
        (&[5, 0, 0, 1, 127, 0, 0, 1, 0xdd, 0x21], ip("127.0.0.1:56609")),
        (&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0], ip("0.0.0.0:0")),
        (&v6, ip("[::1]:443")),
        (&[5, 0, 0, 4, 0], Ok(Decoded::Need(22))),
        (&[5, 0, 0, 3], Ok(Decoded::Need(5))),
        (&[5, 0, 0, 3, 4, b'a'], Ok(Decoded::Need(11))),
        // A name of 255 bytes is the longest reply there is.
        (
            &name255,
            Ok(Decoded::Done(TargetAddr::Domain {
                name: Untrusted::new(vec![b'n'; 255]),
                port: 25,
            })),
        ),
        (&name255[..261], Ok(Decoded::Need(262))),
        // A name the proxy sends is outside text: kept, shown escaped.
        (
            b"\x05\x00\x00\x03\x04\x1b[2J\x00\x19",
            Ok(Decoded::Done(TargetAddr::Domain {
                name: Untrusted::new(b"\x1b[2J".to_vec()),
                port: 25,
            })),
        ),
        // RSV is not checked.
        (&[5, 0, 7, 1, 127, 0, 0, 1, 0, 25], ip("127.0.0.1:25")),
        // Every REP, explained; known from two bytes.
        (
            &[5, 1],
            Err("the proxy could not connect to localhost:2525: general SOCKS server failure (the proxy does not say why; some proxies say this when they cannot resolve the name) (SOCKS5 reply 1)".into()),
        ),
        (
            &[5, 2, 0, 1, 0, 0, 0, 0, 0, 0],
            Err("the proxy could not connect to localhost:2525: connection not allowed by ruleset (the proxy's rules refuse this client or this destination) (SOCKS5 reply 2)".into()),
        ),
        (
            &[5, 3],
            Err("the proxy could not connect to localhost:2525: network unreachable (from the proxy) (SOCKS5 reply 3)".into()),
        ),
        (
            &[5, 4],
            Err("the proxy could not connect to localhost:2525: host unreachable (from the proxy; also what many proxies say when they cannot resolve the name) (SOCKS5 reply 4)".into()),
        ),
        (
            &[5, 5],
            Err("the proxy could not connect to localhost:2525: connection refused by destination host (nothing listens on that port, as the proxy sees it) (SOCKS5 reply 5)".into()),
        ),
        (
            &[5, 6],
            Err("the proxy could not connect to localhost:2525: TTL expired (the destination did not answer the proxy in time) (SOCKS5 reply 6)".into()),
        ),
        (
            &[5, 7],
            Err("the proxy could not connect to localhost:2525: command not supported (the proxy does not do CONNECT) (SOCKS5 reply 7)".into()),
        ),
        (
            &[5, 8],
            Err("the proxy could not connect to localhost:2525: address type not supported (the proxy does not take this kind of address: try a name, or an IP address) (SOCKS5 reply 8)".into()),
        ),
        (
            &[5, 9],
            Err("the proxy could not connect to localhost:2525: an unassigned reply code (SOCKS5 reply 9)".into()),
        ),
        (
            &[5, 0xff],
            Err("the proxy could not connect to localhost:2525: an unassigned reply code (SOCKS5 reply 255)".into()),
        ),
        // Hostile or broken replies.
        (
            &[5, 0, 0, 2],
            Err("the proxy's reply to CONNECT has address type 2, which SOCKS5 does not define (1, 3 and 4 are)".into()),
        ),
        (
            &[5, 0, 0, 0xff, 1, 2, 3],
            Err("the proxy's reply to CONNECT has address type 255, which SOCKS5 does not define (1, 3 and 4 are)".into()),
        ),
        (
            &[0, 0x5a],
            Err("the proxy answered the CONNECT request with version 0, not 5 (a SOCKS4 proxy?)".into()),
        ),
        (
            &[6],
            Err("the proxy answered the CONNECT request with version 6, not 5".into()),
        ),
    ];
    for (bytes, want) in cases {
        let got = connect_reply(bytes, &localhost()).map_err(|e| e.to_string());
        assert_eq!(got, want, "{bytes:?}");
    }
}

#[test]
fn every_reply_code_round_trips_and_is_explained() {
    for code in 0..=255u8 {
        let rep = ReplyCode::from_code(code);
        assert_eq!(rep.code(), code);
        assert!(!rep.meaning().is_empty());
        assert!(rep.to_string().ends_with(&format!("(SOCKS5 reply {code})")));
        let method = Method::from_code(code);
        assert_eq!(method.code(), code);
    }
}

#[test]
fn addresses_show_safely() {
    let cases: &[(TargetAddr, &str)] = &[
        (TargetAddr::new("127.0.0.1", 25).unwrap(), "127.0.0.1:25"),
        (TargetAddr::new("::1", 25).unwrap(), "[::1]:25"),
        (localhost(), "localhost:2525"),
        (
            TargetAddr::Domain {
                name: Untrusted::new(b"\x1b]0;x\x07".to_vec()),
                port: 1,
            },
            "\\e]0;x\\x07:1",
        ),
    ];
    for (addr, want) in cases {
        assert_eq!(addr.to_string(), *want);
    }
    assert!(TargetAddr::Ip("0.0.0.0:0".parse().unwrap()).is_unspecified());
    assert!(!TargetAddr::Ip("127.0.0.1:0".parse().unwrap()).is_unspecified());
}

/// What a scripted proxy expects and answers, step by step.
type Script = Vec<(Vec<u8>, Vec<u8>)>;

/// A proxy on the other end of an in-memory stream: for each step, the
/// bytes it expects and the bytes it answers; then it closes, or (`hang`)
/// stays silent. Returns the handshake's result and what the client can
/// read after it.
async fn run(
    script: Script,
    hang: bool,
    credentials: Option<&Credentials>,
    target: &TargetAddr,
    limit: Duration,
) -> (Result<Established, Socks5Error>, Vec<u8>) {
    let (mut client, mut server) = tokio::io::duplex(1024);
    let proxy = tokio::spawn(async move {
        for (expect, answer) in script {
            let mut got = vec![0; expect.len()];
            if server.read_exact(&mut got).await.is_err() {
                return Vec::new();
            }
            assert_eq!(got, expect);
            if server.write_all(&answer).await.is_err() {
                return Vec::new();
            }
        }
        if hang {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Vec::<u8>::new()
    });
    let result = handshake(&mut client, target, credentials, Instant::now() + limit).await;
    let mut rest = Vec::new();
    if result.is_ok() {
        let mut buf = [0u8; 64];
        let n = client.read(&mut buf).await.unwrap_or(0);
        rest.extend_from_slice(&buf[..n]);
    }
    proxy.abort();
    (result, rest)
}

/// A reply to CONNECT with, in the same write, the banner from behind the
/// proxy: the handshake must leave it to the session.
const OK_REPLY: &[u8] = b"\x05\x00\x00\x01\x7f\x00\x00\x01\xdd\x21220 banner\r\n";

#[tokio::test]
async fn handshake_without_auth_leaves_the_banner_unread() {
    let script = vec![
        (vec![5, 1, 0], vec![5, 0]),
        (connect_request(&localhost()), OK_REPLY.to_vec()),
    ];
    let (result, rest) = run(script, false, None, &localhost(), Duration::from_secs(5)).await;
    let established = result.unwrap();
    assert_eq!(established.method, Method::NoAuth);
    assert_eq!(established.bound.to_string(), "127.0.0.1:56609");
    assert_eq!(rest, b"220 banner\r\n");
}

#[tokio::test]
async fn handshake_with_auth() {
    let c = creds();
    let script = vec![
        (vec![5, 2, 0, 2], vec![5, 2]),
        (auth_request(&c).to_vec(), vec![1, 0]),
        (connect_request(&localhost()), OK_REPLY.to_vec()),
    ];
    let (result, rest) = run(
        script,
        false,
        Some(&c),
        &localhost(),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(result.unwrap().method, Method::UserPassword);
    assert_eq!(rest, b"220 banner\r\n");
}

#[tokio::test]
async fn handshake_failures_say_where() {
    let c = creds();
    let greet = || (vec![5, 1, 0], vec![5, 0]);
    let connect = || connect_request(&localhost());
    let cases: Vec<(Script, bool, Option<&Credentials>, &str)> = vec![
        // The proxy closes mid-handshake.
        (
            vec![],
            false,
            None,
            "the proxy closed the connection during the method selection",
        ),
        (
            vec![(vec![5, 1, 0], vec![5])],
            false,
            None,
            "the proxy closed the connection during the method selection after 1 byte of its answer",
        ),
        (
            vec![greet(), (connect(), vec![5, 0, 0, 1, 127])],
            false,
            None,
            "the proxy closed the connection during the CONNECT request after 5 bytes of its answer",
        ),
        (
            vec![
                (vec![5, 2, 0, 2], vec![5, 2]),
                (auth_request(&c).to_vec(), vec![]),
            ],
            false,
            Some(&c),
            "the proxy closed the connection during the user name and password check",
        ),
        // Wrong version, refusal, a hostile address type.
        (
            vec![(vec![5, 1, 0], vec![4, 0])],
            false,
            None,
            "the proxy answered the method selection with version 4, not 5 (a SOCKS4 proxy?)",
        ),
        (
            vec![greet(), (connect(), vec![5, 5])],
            false,
            None,
            "the proxy could not connect to localhost:2525: connection refused by destination host",
        ),
        (
            vec![greet(), (connect(), vec![5, 0, 0, 9, 1, 2, 3, 4, 5, 6])],
            false,
            None,
            "address type 9",
        ),
        // Silence: the deadline ends it.
        (
            vec![],
            true,
            None,
            "the proxy did not finish the method selection within 0.2 s",
        ),
        (
            vec![greet()],
            true,
            None,
            "the proxy did not finish the CONNECT request within 0.2 s",
        ),
    ];
    for (script, hang, credentials, want) in cases {
        let started = Instant::now();
        let (result, _) = run(
            script,
            hang,
            credentials,
            &localhost(),
            Duration::from_millis(200),
        )
        .await;
        let e = result.unwrap_err().to_string();
        assert!(e.contains(want), "{e:?} lacks {want:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "{want}");
    }
}

#[tokio::test]
async fn an_auth_method_not_offered_sends_nothing_more() {
    let (mut client, mut server) = tokio::io::duplex(1024);
    let proxy = tokio::spawn(async move {
        let mut greeting = [0u8; 3];
        server.read_exact(&mut greeting).await.unwrap();
        server.write_all(&[5, 2]).await.unwrap();
        // Nothing else may come: no credentials were given, none are made up.
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        rest
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    let e = handshake(&mut client, &localhost(), None, deadline)
        .await
        .unwrap_err();
    assert!(matches!(e, Socks5Error::MethodNotOffered { .. }), "{e}");
    drop(client);
    assert_eq!(proxy.await.unwrap(), b"");
}

#[test]
fn which_faults_are_the_destinations() {
    let refused = Socks5Error::Refused {
        target: localhost(),
        code: ReplyCode::HostUnreachable,
    };
    assert!(refused.is_destination());
    let slow = Socks5Error::Timeout {
        stage: Stage::Connect,
        secs: 1.0,
    };
    assert!(slow.is_destination());
    let auth = Socks5Error::AuthRejected {
        user: "u".into(),
        status: 1,
    };
    assert!(!auth.is_destination());
}

proptest::proptest! {
    /// Whatever a proxy sends, the decoders neither panic nor ask for
    /// fewer bytes than they have or more than a reply can hold, and the
    /// answer fed byte by byte, as the handshake reads it, is the answer
    /// fed whole.
    #[test]
    fn decoders_take_any_bytes(
        head in proptest::sample::select(vec![
            vec![],
            vec![5, 0, 0, 1],
            vec![5, 0, 0, 3],
            vec![5, 0, 0, 4],
        ]),
        tail in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
    ) {
        // Well-formed heads too, so the address decoding is reached.
        let bytes = [head, tail].concat();
        let target = localhost();
        let mut read = 0;
        let whole = loop {
            match connect_reply(&bytes[..read], &target) {
                Ok(Decoded::Need(n)) => {
                    proptest::prop_assert!(n > read && n <= MAX_REPLY);
                    if n > bytes.len() {
                        break None;
                    }
                    read = n;
                }
                other => break Some(other.map_err(|e| e.to_string())),
            }
        };
        if let Some(result) = whole {
            let at_once = connect_reply(&bytes[..read], &target).map_err(|e| e.to_string());
            proptest::prop_assert_eq!(result, at_once);
        }
        for len in 0..bytes.len().min(3) {
            for offered in [NO_AUTH, BOTH] {
                if let Ok(Decoded::Need(n)) = method_selection(&bytes[..len], offered) {
                    proptest::prop_assert!(n > len);
                }
            }
            if let Ok(Decoded::Need(n)) = auth_status(&bytes[..len], "u") {
                proptest::prop_assert!(n > len);
            }
        }
    }
}
