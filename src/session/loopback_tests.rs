//! A few whole `Session`s in-process, over a loopback listener, with the
//! `Vec<Event>` sink: the I/O shell and the state machine together, no
//! process started.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use super::*;
use crate::net::tls::TlsSettings;

/// One step of the listener's side.
enum Peer {
    Send(&'static str),
    Expect(&'static str),
    /// Keep the line open until the client closes it.
    AwaitClose,
    Close,
}

/// Serves one connection on a thread, following `script`; returns the
/// address. A line that differs from the expected one panics the thread,
/// which the test sees as a close.
fn listener(script: Vec<Peer>) -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("a connection");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
        let mut writer = stream;
        for step in script {
            match step {
                Peer::Send(text) => writer.write_all(text.as_bytes()).expect("write"),
                Peer::Expect(line) => {
                    let mut got = String::new();
                    reader.read_line(&mut got).expect("read");
                    assert_eq!(got, format!("{line}\r\n"));
                }
                Peer::AwaitClose => {
                    let mut rest = String::new();
                    let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
                    return;
                }
                Peer::Close => return,
            }
        }
    });
    (addr, handle)
}

fn options() -> SessionOptions {
    SessionOptions {
        tls: TlsSettings::new("localhost"),
        implicit_tls: false,
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            reply: Duration::from_secs(5),
            data_end: Duration::from_secs(5),
        },
        quit_after: None,
        lmtp: false,
        keep_waiting: false,
    }
}

/// Runs `work` against a fresh session over the listener.
fn session<T>(
    script: Vec<Peer>,
    work: impl AsyncFnOnce(&mut Session<Vec<Event>>) -> T,
) -> (T, Vec<Event>) {
    let (addr, server) = listener(script);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let result = runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let target = Target {
            host: "127.0.0.1".into(),
            port: addr.port(),
        };
        let mut session = Session::over(Stream::Plain(tcp), target, options(), Vec::new())
            .await
            .map_err(|(e, _)| e)
            .expect("the banner");
        let result = work(&mut session).await;
        (result, std::mem::take(session.sink()))
    });
    let _ = server.join();
    result
}

fn warnings(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Warning(w) => Some(w.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_dialog_over_loopback_ends_with_the_servers_goodbye() {
    let script = vec![
        Peer::Send("220 loopback ESMTP\r\n"),
        Peer::Expect("EHLO client.example.org"),
        Peer::Send("250-loopback\r\n250 PIPELINING\r\n"),
        Peer::Expect("QUIT"),
        Peer::Send("221 2.0.0 Bye\r\n"),
        Peer::Close,
    ];
    let ((ehlo, quit, ended, exit), events) = session(script, async |s| {
        let ehlo = s.submit(b"EHLO client.example.org\n", false).await;
        let quit = s.submit(b"QUIT", false).await;
        (ehlo.is_ok(), quit.is_ok(), s.ended_by_quit(), s.outcome())
    });
    assert!(ehlo && quit, "{events:?}");
    assert!(ended, "{events:?}");
    assert_eq!(exit, Exit::Success);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Closed {
            by_server: true,
            ..
        }
    )));
}

#[test]
fn a_reply_already_there_is_unsolicited_not_the_next_commands() {
    let script = vec![
        Peer::Send("220 loopback ESMTP\r\n"),
        Peer::Expect("MAIL FROM:<a@example.org>"),
        Peer::Send("250 2.1.0 Ok\r\n250 2.1.0 Ok\r\n"),
        Peer::Expect("RCPT TO:<nobody@example.org>"),
        Peer::Send("550 5.1.1 unknown\r\n"),
        Peer::Close,
    ];
    let (last, events) = session(script, async |s| {
        s.submit(b"MAIL FROM:<a@example.org>", false).await.ok();
        s.submit(b"RCPT TO:<nobody@example.org>", false).await.ok();
        s.last_reply().and_then(Reply::code).map(ReplyCode::value)
    });
    assert_eq!(last, Some(550));
    let unsolicited = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Reply {
                    to: ReplyTo::Unsolicited,
                    ..
                }
            )
        })
        .count();
    assert_eq!(unsolicited, 1, "{events:?}");
    assert!(
        warnings(&events)
            .iter()
            .any(|w| w.contains("arrived before 'RCPT TO:<nobody@example.org>'")),
        "{events:?}"
    );
}

#[test]
fn a_close_while_a_reply_is_awaited_is_an_error_and_closes_the_session() {
    let script = vec![
        Peer::Send("220 loopback ESMTP\r\n"),
        Peer::Expect("NOOP"),
        Peer::Close,
    ];
    let ((closed, open), _) = session(script, async |s| {
        let result = s.submit(b"NOOP", false).await;
        (
            matches!(result, Err(SessionError::Closed(Some(Verb::Noop)))),
            s.is_open(),
        )
    });
    assert!(closed);
    assert!(!open);
}

#[test]
fn a_221_to_quit_ends_the_session_even_if_the_server_keeps_the_line_open() {
    let script = vec![
        Peer::Send("220 loopback ESMTP\r\n"),
        Peer::Expect("QUIT"),
        Peer::Send("221 2.0.0 Bye\r\n"),
        Peer::AwaitClose,
    ];
    let ((open, ended), events) = session(script, async |s| {
        s.submit(b"QUIT", false).await.ok();
        (s.is_open(), s.ended_by_quit())
    });
    assert!(!open && ended, "{events:?}");
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Closed {
            by_server: false,
            ..
        }
    )));
}

#[test]
fn an_audit_probe_sends_bare_line_ends_as_given_and_collects_every_reply() {
    let script = vec![
        Peer::Send("220 loopback ESMTP\r\n"),
        Peer::Expect("DATA"),
        Peer::Send("354 go\r\n"),
        Peer::Send("250 queued as A\r\n250 2.1.0 Ok\r\n"),
        Peer::AwaitClose,
    ];
    let ((replies, phase, shown), events) = session(script, async |s| {
        s.data_command().await.expect("354");
        let got = s
            .probe(
                b"text\n.\nMAIL FROM:<a@example.org>\r\n.\r\n",
                Duration::from_secs(5),
                Duration::from_millis(300),
                5,
            )
            .await
            .expect("replies");
        let phase = s.phase();
        s.close().await;
        let shown = s.sink().iter().any(|e| {
            matches!(e, Event::Sent { what: Sent::Raw(bytes), .. } if bytes.starts_with(b"text\n.\n"))
        });
        (got, phase, shown)
    });
    let codes: Vec<u16> = replies
        .replies
        .iter()
        .filter_map(|r| r.code().map(|c| c.value()))
        .collect();
    assert_eq!(codes, [250, 250], "{events:?}");
    assert!(!replies.closed);
    // The message is over once the bytes are out: back to commands.
    assert_eq!(phase, Phase::Command);
    assert!(shown, "{events:?}");
}

#[test]
fn starttls_with_an_injected_command_stops_at_a_refusal() {
    let script = vec![
        Peer::Send("220 loopback ESMTP\r\n"),
        Peer::Expect("STARTTLS"),
        Peer::Expect("NOOP"),
        Peer::Send("454 4.7.0 TLS not available\r\n"),
        Peer::AwaitClose,
    ];
    let (injection, events) = session(script, async |s| {
        let got = s
            .starttls_injection(
                crate::proto::command::Command::Noop(None),
                Duration::from_millis(300),
            )
            .await
            .expect("a reply");
        s.close().await;
        got
    });
    assert_eq!(
        injection.starttls.code().map(|c| c.value()),
        Some(454),
        "{events:?}"
    );
    assert!(!injection.tls && injection.inside_tls.is_empty());
}
