//! The demo server's dialog, line by line, without a socket.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use time::OffsetDateTime;

use super::*;
use crate::demo::USER;
use crate::proto::enhanced::class_mismatch;
use crate::proto::reply::Reply as ParsedReply;

const PASSWORD: &str = "demo-123456";

fn session() -> Session {
    Session::new(
        IpAddr::from([127, 0, 0, 1]),
        Arc::from(PASSWORD),
        Arc::default(),
    )
}

/// Feeds `lines` as the I/O shell would: each as a command, an AUTH
/// response, the whole message text after `354` or a chunk's bytes,
/// whatever the session asked for; STARTTLS succeeds at once. The wire text
/// of every reply, in order.
fn dialog(session: &mut Session, lines: &[&str]) -> Vec<String> {
    let mut replies = Vec::new();
    let mut next = Next::Command;
    for line in lines {
        let bytes = line.as_bytes();
        let step = match next {
            Next::Command => session.command(bytes),
            Next::AuthResponse => session.auth_response(bytes),
            Next::Message { room } => Step::reply(session.message(incoming(bytes, room))),
            Next::Chunk { last, room, .. } => {
                Step::reply(session.chunk(incoming(bytes, room), last))
            }
            Next::Discard { reply, .. } => Step::reply(reply),
            Next::StartTls | Next::Close => panic!("{line:?} after the end"),
        };
        replies.extend(step.reply.map(|r| r.to_string()));
        next = step.next;
        if next == Next::StartTls {
            session.tls_started();
            next = Next::Command;
        }
    }
    replies
}

fn incoming(bytes: &[u8], room: usize) -> Incoming {
    let mut incoming = Incoming::new(room);
    incoming.push(bytes);
    incoming
}

fn plain(user: &str, password: &str) -> String {
    BASE64.encode(format!("\0{user}\0{password}"))
}

/// The last reply to `lines`.
fn last_reply(lines: &[&str]) -> String {
    dialog(&mut session(), lines).pop().unwrap_or_default()
}

#[test]
fn banner_and_ehlo_name_the_host_first() {
    let mut s = session();
    assert_eq!(
        s.banner().to_string(),
        "220 demo.smtpcli.invalid ESMTP smtpcli demo\r\n"
    );
    assert_eq!(
        dialog(&mut s, &["EHLO client.example"]),
        [
            "250-demo.smtpcli.invalid Hello client.example [127.0.0.1]\r\n\
          250-PIPELINING\r\n\
          250-SIZE 10485760\r\n\
          250-ENHANCEDSTATUSCODES\r\n\
          250-8BITMIME\r\n\
          250-DSN\r\n\
          250-CHUNKING\r\n\
          250-BINARYMIME\r\n\
          250-SMTPUTF8\r\n\
          250 STARTTLS\r\n"
        ]
    );
    assert_eq!(
        dialog(&mut s, &["HELO client.example"]),
        ["250 demo.smtpcli.invalid\r\n"]
    );
}

#[test]
fn after_starttls_auth_is_offered_and_starttls_is_not() {
    let mut s = session();
    let replies = dialog(&mut s, &["EHLO a.example", "STARTTLS", "EHLO a.example"]);
    assert_eq!(replies[1], "220 2.0.0 Ready to start TLS\r\n");
    assert!(
        replies[2].ends_with("250-REQUIRETLS\r\n250-SMTPUTF8\r\n250 AUTH PLAIN LOGIN\r\n"),
        "{}",
        replies[2]
    );
    assert!(!replies[2].contains("STARTTLS"), "{}", replies[2]);
    assert!(!replies[0].contains("REQUIRETLS"), "{}", replies[0]);
}

#[test]
fn each_command_gets_the_reply_a_real_mta_gives() {
    let too_big = "MAIL FROM:<a@b> SIZE=20000000";
    let cases: &[(&[&str], &str)] = &[
        (&["EHLO a", "MAIL FROM:<a@b>"], "250 2.1.0 Ok"),
        (&["EHLO a", "MAIL FROM:<>"], "250 2.1.0 Ok"),
        (
            &["EHLO a", "MAIL FROM:<a@b>", "RCPT TO:<c@d>"],
            "250 2.1.5 Ok",
        ),
        (
            &["EHLO a", too_big],
            "552 5.3.4 Message size exceeds fixed limit",
        ),
        (&["EHLO a", "MAIL FROM:<a@b> SIZE=10485760"], "250 2.1.0 Ok"),
        (
            &["EHLO a", "MAIL FROM:<a@b> X-FOO"],
            "555 5.5.4 Unsupported option: X-FOO",
        ),
        (
            &[
                "EHLO a",
                "MAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=x SIZE=1",
            ],
            "250 2.1.0 Ok",
        ),
        (
            &[
                "EHLO a",
                "MAIL FROM:<a@b>",
                "RCPT TO:<c@d> NOTIFY=DELAY ORCPT=rfc822;c@d",
            ],
            "250 2.1.5 Ok",
        ),
        (
            &["EHLO a", "MAIL FROM:<a@b>", "RCPT TO:<c@d> SIZE=1"],
            "555 5.5.4 Unsupported option: SIZE=1",
        ),
        (
            &[
                "EHLO a",
                "MAIL FROM:<a@b>",
                "RCPT TO:<nosuchuser@example.org>",
            ],
            "550 5.1.1 <nosuchuser@example.org>: Recipient address rejected: User unknown",
        ),
        (
            &[
                "EHLO a",
                "MAIL FROM:<a@b>",
                "RCPT TO:<NoSuchUser@other.example>",
            ],
            "550 5.1.1 <NoSuchUser@other.example>: Recipient address rejected: User unknown",
        ),
        (
            &["EHLO a", "MAIL FROM:<a@b>", "RCPT TO:<>"],
            "501 5.1.3 Bad recipient address syntax",
        ),
        (
            &["EHLO a", "MAIL FROM:<jörg@b>"],
            "553 5.6.7 Must declare SMTPUTF8 to send unicode address",
        ),
        (
            &["EHLO a", "MAIL FROM:<a@b>", "RCPT TO:<jörg@b>"],
            "553 5.6.7 Must declare SMTPUTF8 to send unicode address",
        ),
        (
            &["EHLO a", "MAIL FROM:<a@b> SMTPUTF8", "RCPT TO:<jörg@b>"],
            "250 2.1.5 Ok",
        ),
        (
            &["MAIL FROM:<a@b>"],
            "503 5.5.1 Error: send HELO/EHLO first",
        ),
        (
            &["EHLO a", "MAIL FROM:<a@b>", "MAIL FROM:<a@b>"],
            "503 5.5.1 Error: nested MAIL command",
        ),
        (
            &["EHLO a", "RCPT TO:<c@d>"],
            "503 5.5.1 Error: need MAIL command",
        ),
        (&["EHLO a", "DATA"], "503 5.5.1 Error: need MAIL command"),
        (
            &["EHLO a", "MAIL FROM:<a@b>", "DATA"],
            "503 5.5.1 Error: need RCPT command",
        ),
        (
            &["EHLO a", "MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA"],
            "354 End data with <CR><LF>.<CR><LF>",
        ),
        (
            &[
                "EHLO a",
                "MAIL FROM:<a@b> BODY=BINARYMIME",
                "RCPT TO:<c@d>",
                "DATA",
            ],
            "503 5.5.1 Error: BODY=BINARYMIME requires BDAT",
        ),
        (
            &["EHLO a", "MAIL FROM:<a@b>", "RSET", "RCPT TO:<c@d>"],
            "503 5.5.1 Error: need MAIL command",
        ),
        (
            &["EHLO a", "MAIL FROM:<a@b>", "EHLO a", "RCPT TO:<c@d>"],
            "503 5.5.1 Error: need MAIL command",
        ),
        (&["RSET"], "250 2.0.0 Ok"),
        (&["NOOP"], "250 2.0.0 Ok"),
        (
            &["VRFY demo"],
            "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery",
        ),
        (&["EXPN list"], "502 5.5.1 Error: command not implemented"),
        (&["HELP"], "502 5.5.1 Error: command not implemented"),
        (
            &["ETRN example.org"],
            "502 5.5.1 Error: command not implemented",
        ),
        (&["LHLO a"], "500 5.5.2 Error: command not recognized"),
        (&["HELLO"], "500 5.5.2 Error: command not recognized"),
        (&[""], "500 5.5.2 Error: bad syntax"),
        (&["NOOP \u{1b}[2J"], "500 5.5.2 Error: bad syntax"),
        (&["EHLO"], "501 5.5.4 Syntax: EHLO hostname"),
        (
            &["EHLO a", "MAIL FROM:a@b"],
            "501 5.5.4 Syntax: MAIL FROM:<address>",
        ),
        (&["BDAT x"], "501 5.5.4 Syntax: BDAT count [LAST]"),
        (&["QUIT"], "221 2.0.0 Bye"),
        (
            &["STARTTLS", "STARTTLS"],
            "554 5.5.1 Error: TLS already active",
        ),
        (
            &["EHLO a", "MAIL FROM:<a@b>", "STARTTLS"],
            "503 5.5.1 Error: MAIL transaction in progress",
        ),
        // After STARTTLS the dialog starts over.
        (
            &["EHLO a", "STARTTLS", "MAIL FROM:<a@b>"],
            "503 5.5.1 Error: send HELO/EHLO first",
        ),
        // REQUIRETLS (RFC 8689): offered and taken over TLS only.
        (
            &["EHLO a", "MAIL FROM:<a@b> REQUIRETLS"],
            "530 5.7.10 Error: REQUIRETLS needs a TLS connection (STARTTLS first)",
        ),
        (
            &["EHLO a", "STARTTLS", "EHLO a", "MAIL FROM:<a@b> REQUIRETLS"],
            "250 2.1.0 Ok",
        ),
    ];
    for (lines, want) in cases {
        assert_eq!(last_reply(lines), format!("{want}\r\n"), "{lines:?}");
    }
}

#[test]
fn auth_needs_tls_and_takes_the_demo_credentials() {
    let good = plain(USER, PASSWORD);
    let good = good.as_str();
    let bad = plain(USER, "guess");
    let tls: &[&str] = &["EHLO a", "STARTTLS", "EHLO a"];
    let with = |more: &[&str]| -> Vec<String> {
        let mut lines: Vec<String> = tls.iter().map(|l| l.to_string()).collect();
        lines.extend(more.iter().map(|l| l.to_string()));
        lines
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["EHLO a".into(), format!("AUTH PLAIN {good}")],
            "538 5.7.11 Encryption required for requested authentication mechanism",
        ),
        (
            with(&[&format!("AUTH PLAIN {good}")]),
            "235 2.7.0 Authentication successful",
        ),
        (with(&["AUTH PLAIN"]), "334 "),
        (
            with(&["AUTH PLAIN", good]),
            "235 2.7.0 Authentication successful",
        ),
        (
            with(&["AUTH plain", &bad]),
            "535 5.7.8 Error: authentication failed",
        ),
        (
            with(&[&format!(
                "AUTH PLAIN {}",
                BASE64.encode(format!("demo\0demo\0{PASSWORD}"))
            )]),
            "235 2.7.0 Authentication successful",
        ),
        (
            with(&[&format!(
                "AUTH PLAIN {}",
                BASE64.encode(format!("root\0demo\0{PASSWORD}"))
            )]),
            "535 5.7.8 Error: authentication failed",
        ),
        (
            with(&["AUTH PLAIN", "*"]),
            "501 5.7.0 Authentication aborted",
        ),
        (
            with(&["AUTH PLAIN", "not base64!"]),
            "501 5.5.2 Error: cannot decode response",
        ),
        (
            with(&["AUTH PLAIN ="]),
            "535 5.7.8 Error: authentication failed",
        ),
        (with(&["AUTH LOGIN"]), "334 VXNlcm5hbWU6"),
        (with(&["AUTH LOGIN", "ZGVtbw=="]), "334 UGFzc3dvcmQ6"),
        (
            with(&["AUTH LOGIN", "ZGVtbw==", &BASE64.encode(PASSWORD)]),
            "235 2.7.0 Authentication successful",
        ),
        (
            with(&["AUTH LOGIN ZGVtbw==", &BASE64.encode(PASSWORD)]),
            "235 2.7.0 Authentication successful",
        ),
        (
            with(&["AUTH LOGIN", "ZGVtbw==", &BASE64.encode("guess")]),
            "535 5.7.8 Error: authentication failed",
        ),
        (
            with(&["AUTH LOGIN", "ZGVtbw==", "*"]),
            "501 5.7.0 Authentication aborted",
        ),
        (
            with(&["AUTH CRAM-MD5"]),
            "504 5.5.4 Unrecognized authentication type",
        ),
        (
            with(&[&format!("AUTH PLAIN {good}"), &format!("AUTH PLAIN {good}")]),
            "503 5.5.1 Error: already authenticated",
        ),
        (
            with(&["MAIL FROM:<a@b>", &format!("AUTH PLAIN {good}")]),
            "503 5.5.1 Error: MAIL transaction in progress",
        ),
        (
            vec!["EHLO a".into(), "STARTTLS".into(), "AUTH LOGIN".into()],
            "503 5.5.1 Error: send EHLO first",
        ),
        // An aborted exchange leaves the session usable.
        (with(&["AUTH PLAIN", "*", "NOOP"]), "250 2.0.0 Ok"),
    ];
    for (lines, want) in cases {
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(last_reply(&lines), format!("{want}\r\n"), "{lines:?}");
    }
}

#[test]
fn messages_are_stored_under_a_received_header() {
    let mut s = session();
    let token = plain(USER, PASSWORD);
    let auth = format!("AUTH PLAIN {token}");
    let replies = dialog(
        &mut s,
        &[
            "EHLO client.example",
            "STARTTLS",
            "EHLO client.example",
            &auth,
            "MAIL FROM:<a@example.org>",
            "RCPT TO:<c@example.org>",
            "DATA",
            "Subject: Hi\r\n\r\nbody\r\n",
        ],
    );
    assert_eq!(
        replies.last().map(String::as_str),
        Some("250 2.0.0 Ok: queued as demo-1\r\n")
    );
    let stored = s.inbox.messages();
    let [message] = stored.as_slice() else {
        panic!("{stored:?}")
    };
    assert_eq!(message.from, "a@example.org");
    assert_eq!(message.to, ["c@example.org"]);
    assert!(message.authenticated);
    assert_eq!(message.subject().as_deref(), Some("Hi"));
    let text = String::from_utf8_lossy(&message.data);
    let want = "Received: from client.example (localhost [127.0.0.1])\r\n\
                \tby demo.smtpcli.invalid (smtpcli demo) with ESMTPSA id demo-1\r\n\
                \tfor <c@example.org>; ";
    assert!(text.starts_with(want), "{text}");
    assert!(
        text.ends_with(" +0000\r\nSubject: Hi\r\n\r\nbody\r\n"),
        "{text}"
    );
}

#[test]
fn the_received_header_names_the_protocol_as_rfc_3848_registers_it() {
    let epoch = OffsetDateTime::UNIX_EPOCH;
    let date = "Thu, 01 Jan 1970 00:00:00 +0000";
    let one = |to: &[&str]| Transaction {
        from: "a@b".into(),
        to: to.iter().map(|t| t.to_string()).collect(),
        ..Transaction::default()
    };
    let trace = |lines: &[&str], authenticated: bool, transaction: &Transaction| {
        let mut s = session();
        dialog(&mut s, lines);
        s.authenticated = authenticated;
        s.trace(transaction, 7, epoch)
    };
    let head = |helo: &str, with: &str| {
        format!(
            "Received: from {helo} (localhost [127.0.0.1])\r\n\tby demo.smtpcli.invalid (smtpcli demo) with {with} id demo-7"
        )
    };
    let cases = [
        (
            vec!["HELO h"],
            false,
            one(&["c@d"]),
            format!("{}\r\n\tfor <c@d>; {date}\r\n", head("h", "SMTP")),
        ),
        (
            vec!["EHLO e"],
            false,
            one(&["c@d"]),
            format!("{}\r\n\tfor <c@d>; {date}\r\n", head("e", "ESMTP")),
        ),
        (
            vec!["STARTTLS", "EHLO e"],
            false,
            one(&["c@d"]),
            format!("{}\r\n\tfor <c@d>; {date}\r\n", head("e", "ESMTPS")),
        ),
        (
            vec!["STARTTLS", "EHLO e"],
            true,
            one(&["c@d", "e@f"]),
            format!("{};\r\n\t{date}\r\n", head("e", "ESMTPSA")),
        ),
        (
            vec!["STARTTLS", "EHLO e"],
            false,
            Transaction {
                smtputf8: true,
                ..one(&["c@d"])
            },
            format!("{}\r\n\tfor <c@d>; {date}\r\n", head("e", "UTF8SMTPS")),
        ),
    ];
    for (lines, authenticated, transaction, want) in cases {
        assert_eq!(
            trace(&lines, authenticated, &transaction),
            want,
            "{lines:?}"
        );
    }
}

#[test]
fn bdat_chunks_make_one_message_and_do_not_mix_with_data() {
    let mut s = session();
    let replies = dialog(
        &mut s,
        &[
            "EHLO a",
            "MAIL FROM:<a@b> BODY=BINARYMIME",
            "RCPT TO:<c@d>",
            "BDAT 12",
            "Subject: x\r\n",
            "DATA",
            "BDAT 6 LAST",
            "\r\nbody",
        ],
    );
    assert_eq!(
        replies[3..],
        [
            "250 2.0.0 12 bytes received\r\n",
            "503 5.5.1 Error: DATA after BDAT in one transaction\r\n",
            "250 2.0.0 Ok: queued as demo-1\r\n",
        ]
    );
    let stored = s.inbox.messages();
    assert!(
        stored[0].data.ends_with(b"\r\nSubject: x\r\n\r\nbody"),
        "{stored:?}"
    );
    // A BDAT without a transaction: its bytes are read and dropped, then
    // refused.
    assert_eq!(
        s.command(b"BDAT 3"),
        Step {
            reply: None,
            next: Next::Discard {
                size: 3,
                reply: Reply::new(503, (5, 5, 1), "Error: need MAIL command"),
            },
        }
    );
}

#[test]
fn a_message_over_the_limit_is_refused_and_the_session_goes_on() {
    let mut s = session();
    let start = ["EHLO a", "MAIL FROM:<a@b>", "RCPT TO:<c@d>"];
    dialog(&mut s, &start);
    let step = s.command(b"DATA");
    assert_eq!(
        step.next,
        Next::Message {
            room: MESSAGE_LIMIT
        }
    );
    let mut big = Incoming::new(MESSAGE_LIMIT);
    big.push(&vec![b'x'; MESSAGE_LIMIT]);
    big.push(b"y");
    assert_eq!(
        s.message(big).to_string(),
        "552 5.3.4 Message size exceeds fixed limit\r\n"
    );
    // The same with BDAT, the chunk that goes over the limit ending the
    // transaction.
    dialog(&mut s, &start[1..]);
    let step = s.command(format!("BDAT {MESSAGE_LIMIT}").as_bytes());
    assert_eq!(
        step.next,
        Next::Chunk {
            size: MESSAGE_LIMIT as u64,
            last: false,
            room: MESSAGE_LIMIT
        }
    );
    let mut full = Incoming::new(MESSAGE_LIMIT);
    full.push(&vec![b'x'; MESSAGE_LIMIT]);
    assert_eq!(
        s.chunk(full, false).to_string(),
        format!("250 2.0.0 {MESSAGE_LIMIT} bytes received\r\n")
    );
    let step = s.command(b"BDAT 1 LAST");
    assert_eq!(
        step.next,
        Next::Chunk {
            size: 1,
            last: true,
            room: 0
        }
    );
    assert_eq!(
        s.chunk(incoming(b"y", 0), true).to_string(),
        "552 5.3.4 Message size exceeds fixed limit\r\n"
    );
    assert_eq!(
        dialog(&mut s, &["RCPT TO:<c@d>", "NOOP"]),
        ["503 5.5.1 Error: need MAIL command\r\n", "250 2.0.0 Ok\r\n"]
    );
    assert!(s.inbox.messages().is_empty());
}

#[test]
fn every_reply_but_greetings_354_and_334_carries_a_fitting_enhanced_code() {
    let good = plain(USER, PASSWORD);
    let lines = [
        "HELO a",
        "EHLO a",
        "MAIL FROM:<a@b> SIZE=99999999",
        "MAIL FROM:<a@b> X=1",
        "BDAT 1",
        "x",
        "AUTH PLAIN",
        "MAIL FROM:<a@b>",
        "RCPT TO:<nosuchuser@b>",
        "RCPT TO:<c@d>",
        "DATA",
        "text\r\n",
        "VRFY a",
        "EXPN a",
        "FOO",
        "EHLO",
        "RSET",
        "STARTTLS",
        "EHLO a",
        "AUTH LOGIN",
        "*",
        &format!("AUTH PLAIN {good}"),
        "NOOP",
        "QUIT",
    ];
    let replies = dialog(&mut session(), &lines);
    // BDAT and its bytes get one reply.
    assert_eq!(replies.len(), lines.len() - 1, "{replies:?}");
    for wire in &replies {
        let parsed = ParsedReply::parse_all(wire.as_bytes());
        let [reply] = parsed.as_slice() else {
            panic!("{wire:?} is not one reply")
        };
        let code = reply.code().map(|c| c.value());
        let greeting =
            wire.starts_with("250-demo.smtpcli.invalid") || wire == "250 demo.smtpcli.invalid\r\n";
        match reply.enhanced_code() {
            Some(enhanced) => {
                let class = u8::try_from(code.unwrap_or(0) / 100).unwrap_or(0);
                assert!(!class_mismatch(class, enhanced), "{wire:?}");
            }
            None => assert!(greeting || matches!(code, Some(354 | 334)), "{wire:?}"),
        }
    }
}

#[test]
fn too_many_refused_commands_end_the_session() {
    let mut s = session();
    for _ in 0..ERROR_LIMIT {
        assert_eq!(s.command(b"FOO").next, Next::Command);
    }
    assert_eq!(
        s.command(b"NOOP"),
        Step::then(
            Reply::new(
                421,
                (4, 7, 0),
                "demo.smtpcli.invalid Error: too many errors"
            ),
            Next::Close
        )
    );
}

#[test]
fn recipients_are_bounded() {
    let mut s = session();
    dialog(&mut s, &["EHLO a", "MAIL FROM:<a@b>"]);
    for i in 0..RECIPIENT_LIMIT {
        assert_eq!(
            dialog(&mut s, &[&format!("RCPT TO:<r{i}@d>")]),
            ["250 2.1.5 Ok\r\n"]
        );
    }
    assert_eq!(
        dialog(&mut s, &["RCPT TO:<one-more@d>"]),
        ["452 4.5.3 Error: too many recipients\r\n"]
    );
}
