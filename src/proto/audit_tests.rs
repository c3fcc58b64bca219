use super::*;

fn replies(text: &str) -> Vec<Reply> {
    Reply::parse_all(text.as_bytes())
}

fn reply(text: &str) -> Reply {
    replies(text).remove(0)
}

#[test]
fn tests_are_parsed_by_name_in_audit_order() {
    assert_eq!(
        Test::parse_list("relay,banner-leak").unwrap(),
        vec![Test::BannerLeak, Test::Relay]
    );
    assert_eq!(Test::parse_list("ALL").unwrap().len(), Test::ALL.len());
    assert_eq!(
        Test::parse_list("smuggling smuggling").unwrap(),
        vec![Test::Smuggling]
    );
    assert!(matches!(
        Test::parse_list("smugling"),
        Err(AuditError::UnknownTest(w)) if w == "smugling"
    ));
    assert_eq!(Test::parse_list(" , "), Err(AuditError::NoTests));
}

#[test]
fn every_variant_hides_a_second_transaction_behind_its_sequence() {
    for variant in VARIANTS {
        let payload = smuggling_payload(variant, "a@example.org", "b@example.org", "T1");
        let at = payload
            .windows(variant.ending.len())
            .position(|w| w == variant.ending)
            .unwrap();
        let after = &payload[at + variant.ending.len()..];
        assert!(
            after.starts_with(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        );
        assert!(payload.ends_with(b"\r\n.\r\n"), "{}", variant.name);
        // Before the variant, no real end of data.
        assert!(!payload[..at].windows(5).any(|w| w == b"\r\n.\r\n"));
    }
    assert_eq!(VARIANTS.iter().filter(|v| v.pipelined).count(), 1);
}

#[test]
fn smuggling_replies_are_read_apart() {
    use Smuggled::*;
    let cases: &[(&str, bool, Smuggled, Verdict)] = &[
        (
            "250 2.0.0 Ok: queued as A\r\n",
            false,
            KeptAsText,
            Verdict::Pass,
        ),
        (
            "521 5.5.2 mailserver: Error: bare <LF> received\r\n",
            true,
            Rejected,
            Verdict::Pass,
        ),
        (
            "250 Ok: queued as A\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n250 Ok: queued as B\r\n",
            false,
            Accepted,
            Verdict::Vulnerable,
        ),
        (
            "250 Ok: queued as A\r\n250 2.1.0 Ok\r\n550 5.1.1 no\r\n554 no valid recipients\r\n",
            false,
            EndedEarly,
            Verdict::Vulnerable,
        ),
        ("451 4.3.0 try later\r\n", false, Unclear, Verdict::Unknown),
        ("", true, Unclear, Verdict::Unknown),
    ];
    for (text, closed, outcome, verdict) in cases {
        let (got, finding) = read_smuggling(&replies(text), *closed);
        assert_eq!((got, finding.verdict), (*outcome, *verdict), "{text:?}");
    }
}

#[test]
fn the_relay_matrix_has_a_control_row_and_routing_tricks() {
    let rows = relay_matrix("a@example.org", "empfaenger@mailserver.example.com");
    assert!(!rows[0].foreign);
    assert_eq!(rows[0].to, "empfaenger@mailserver.example.com");
    let tos: Vec<&str> = rows.iter().map(|r| r.to.as_str()).collect();
    assert!(tos.contains(&"relay-probe%example.net@mailserver.example.com"));
    assert!(tos.contains(&"example.net!relay-probe@mailserver.example.com"));
    assert!(tos.contains(&"\"relay-probe@example.net\"@mailserver.example.com"));
    assert!(rows.iter().any(|r| r.from.is_empty()));
    // A mailbox in the usual foreign domain gets another one.
    let rows = relay_matrix("a@example.org", "me@example.net");
    assert!(
        rows[1..].iter().all(|r| r.to.contains("example.com")),
        "{rows:?}"
    );
}

#[test]
fn relay_rows_are_judged_by_the_rcpt_reply() {
    let rows = relay_matrix("a@example.org", "b@example.org");
    let ok = reply("250 2.1.0 Ok\r\n");
    let cases: &[(usize, &str, Verdict)] = &[
        (1, "250 2.1.5 Ok\r\n", Verdict::Vulnerable),
        (1, "554 5.7.1 Relay access denied\r\n", Verdict::Pass),
        (1, "450 4.7.1 greylisted\r\n", Verdict::Unknown),
        (0, "250 2.1.5 Ok\r\n", Verdict::Pass),
        (0, "550 5.1.1 unknown\r\n", Verdict::Unknown),
    ];
    for (row, rcpt, verdict) in cases {
        let finding = read_relay(&rows[*row], &ok, Some(&reply(rcpt)));
        assert_eq!(finding.verdict, *verdict, "{rcpt}");
    }
    let after_login = relay_after_auth("a@example.org", "b@example.org", false);
    let accepted = reply("250 2.1.5 Ok\r\n");
    assert_eq!(
        read_relay(&after_login, &ok, Some(&accepted)).verdict,
        Verdict::Pass
    );
    let after_failure = relay_after_auth("a@example.org", "b@example.org", true);
    assert_eq!(
        read_relay(&after_failure, &ok, Some(&accepted)).verdict,
        Verdict::Vulnerable
    );
    assert!(read_made_up_auth(&reply("535 5.7.8 Error: authentication failed\r\n")).is_none());
    assert_eq!(
        read_made_up_auth(&reply("235 2.7.0 Authentication successful\r\n")).map(|f| f.verdict),
        Some(Verdict::Vulnerable)
    );
    let refused = reply("530 5.7.0 Must issue a STARTTLS command first\r\n");
    assert_eq!(read_relay(&rows[1], &refused, None).verdict, Verdict::Pass);
}

#[test]
fn vrfy_confirms_users_when_the_answers_differ() {
    let cases: &[(&str, &str, Verdict)] = &[
        (
            "252 2.0.0 empfaenger\r\n",
            "550 5.1.1 unknown\r\n",
            Verdict::Vulnerable,
        ),
        (
            "250 2.1.5 <empfaenger@x>\r\n",
            "550 5.1.1 unknown\r\n",
            Verdict::Vulnerable,
        ),
        ("252 2.0.0 try\r\n", "252 2.0.0 try\r\n", Verdict::Pass),
        (
            "502 5.5.1 VRFY command is disabled\r\n",
            "502 5.5.1 VRFY command is disabled\r\n",
            Verdict::Pass,
        ),
        ("450 4.7.1 later\r\n", "252 2.0.0 try\r\n", Verdict::Unknown),
    ];
    for (known, unknown, verdict) in cases {
        let finding = read_verify("VRFY", &reply(known), &reply(unknown));
        assert_eq!(finding.verdict, *verdict, "{known} / {unknown}");
    }
}

#[test]
fn banners_give_away_software_and_versions_but_not_hosts() {
    let cases: &[(&str, Verdict)] = &[
        (
            "220 mailserver.example.com ESMTP Postfix (Debian/GNU)\r\n",
            Verdict::Vulnerable,
        ),
        ("220 mailserver.example.com ESMTP\r\n", Verdict::Pass),
        (
            "220 mx2.example.com ESMTP ready [10.0.0.1]\r\n",
            Verdict::Pass,
        ),
        ("220 2.0.0 mx1.example.com ready\r\n", Verdict::Pass),
        (
            "220 mx.example.com ESMTP Exim 4.96 Wed, 02 Dec 2026\r\n",
            Verdict::Vulnerable,
        ),
        (
            "220 host ESMTP Sendmail 8.15.2/8.15.2; Wed\r\n",
            Verdict::Vulnerable,
        ),
        ("220 host ESMTP v3.7.11\r\n", Verdict::Vulnerable),
    ];
    for (banner, verdict) in cases {
        let finding = read_banner(&reply(banner), None);
        assert_eq!(finding.verdict, *verdict, "{banner}: {}", finding.detail);
    }
    let ehlo = reply("250-host.example Hello there, Python SMTP 1.4.4\r\n250 SIZE 1000\r\n");
    let finding = read_banner(&reply("220 host.example ESMTP\r\n"), Some(&ehlo));
    assert_eq!(finding.verdict, Verdict::Vulnerable);
    assert!(finding.detail.contains("1.4.4"), "{}", finding.detail);
}

#[test]
fn leaked_text_is_escaped() {
    let text = Untrusted::new(b"host ESMTP 1.2\x1b[31m".to_vec());
    let found = leaks(&text, true);
    assert!(found.iter().all(|f| !f.contains('\x1b')), "{found:?}");
}
