use super::*;

fn caps(lines: &[&str]) -> Capabilities {
    let mut all = vec!["mx.example.org"];
    all.extend_from_slice(lines);
    Capabilities::from_lines(all)
}

fn to(addresses: &[&str]) -> Request {
    Request {
        from: "a@example.org".into(),
        to: addresses.iter().map(|a| a.to_string()).collect(),
        ..Request::default()
    }
}

fn wire(params: &[Param]) -> String {
    params
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn dsn_parameters_go_on_mail_and_each_rcpt() {
    let request = Request {
        ret: Some("hdrs".into()),
        envid: Some("QQ+1 x".into()),
        notify: Some("success,failure".into()),
        orcpt: true,
        ..to(&["b+tag@example.org", "c@example.org"])
    };
    let plan = plan(&request, &caps(&["DSN"]), false).unwrap();
    assert_eq!(wire(&plan.mail_params), "RET=HDRS ENVID=QQ+2B1+20x");
    assert_eq!(plan.transactions.len(), 1);
    let rcpts = &plan.transactions[0];
    assert_eq!(
        wire(&rcpts[0].params),
        "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Btag@example.org"
    );
    assert_eq!(
        wire(&rcpts[1].params),
        "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@example.org"
    );
}

#[test]
fn an_unadvertised_parameter_is_refused_naming_the_keyword_unless_lax() {
    for (request, keyword) in [
        (
            Request {
                notify: Some("NEVER".into()),
                ..to(&["b@x.org"])
            },
            "DSN",
        ),
        (
            Request {
                orcpt: true,
                ..to(&["b@x.org"])
            },
            "DSN",
        ),
        (
            Request {
                smtputf8: true,
                ..to(&["b@x.org"])
            },
            "SMTPUTF8",
        ),
        (
            Request {
                body: Some(BodyType::EightBitMime),
                ..to(&["b@x.org"])
            },
            "8BITMIME",
        ),
        (
            Request {
                body: Some(BodyType::BinaryMime),
                ..to(&["b@x.org"])
            },
            "BINARYMIME",
        ),
        (
            Request {
                bdat: true,
                ..to(&["b@x.org"])
            },
            "CHUNKING",
        ),
        (
            Request {
                requiretls: true,
                ..to(&["b@x.org"])
            },
            "REQUIRETLS",
        ),
    ] {
        let err = plan(&request, &caps(&["PIPELINING"]), true).unwrap_err();
        assert!(
            matches!(&err, EnvelopeError::NotAdvertised { keyword: k, .. } if *k == keyword),
            "{err}"
        );
        assert!(err.to_string().contains(keyword), "{err}");
        assert!(err.to_string().contains("--lax"), "{err}");
        let lax = Request {
            lax: true,
            ..request
        };
        assert!(
            plan(&lax, &caps(&["PIPELINING"]), true).is_ok(),
            "{keyword}"
        );
    }
}

#[test]
fn requiretls_only_over_tls() {
    let request = Request {
        requiretls: true,
        lax: true,
        ..to(&["b@x.org"])
    };
    assert_eq!(
        plan(&request, &caps(&["REQUIRETLS"]), false),
        Err(EnvelopeError::RequireTlsInPlaintext)
    );
    let plan = plan(&request, &caps(&["REQUIRETLS"]), true).unwrap();
    assert_eq!(wire(&plan.mail_params), "REQUIRETLS");
}

#[test]
fn utf8_addresses_use_smtputf8_when_offered() {
    let plan = plan(&to(&["jörg@bücher.example"]), &caps(&["SMTPUTF8"]), false).unwrap();
    assert_eq!(wire(&plan.mail_params), "SMTPUTF8");
    assert_eq!(plan.transactions[0][0].address, "jörg@bücher.example");
    assert!(plan.notes.is_empty());
}

#[test]
fn without_smtputf8_an_idn_domain_becomes_its_a_label_with_a_note() {
    let plan = plan(&to(&["b@bücher.example"]), &caps(&["8BITMIME"]), false).unwrap();
    assert!(plan.mail_params.is_empty());
    assert_eq!(plan.transactions[0][0].address, "b@xn--bcher-kva.example");
    assert!(
        plan.notes[0].contains("xn--bcher-kva.example"),
        "{:?}",
        plan.notes
    );
    assert!(plan.notes[0].contains("SMTPUTF8"), "{:?}", plan.notes);
}

#[test]
fn without_smtputf8_a_utf8_local_part_is_refused_with_the_reason() {
    let err = plan(&to(&["jörg@example.org"]), &caps(&["8BITMIME"]), false).unwrap_err();
    assert!(matches!(err, EnvelopeError::Utf8LocalPart { .. }));
    let text = err.to_string();
    assert!(
        text.contains("local part") && text.contains("SMTPUTF8"),
        "{text}"
    );
}

#[test]
fn orcpt_keeps_the_address_as_given() {
    let request = Request {
        orcpt: true,
        ..to(&["b@bücher.example"])
    };
    let plan = plan(&request, &caps(&["DSN"]), false).unwrap();
    assert_eq!(plan.transactions[0][0].address, "b@xn--bcher-kva.example");
    assert_eq!(
        wire(&plan.transactions[0][0].params),
        "ORCPT=utf-8;b@b\\x{FC}cher.example"
    );
}

#[test]
fn dsn_values_are_checked() {
    for request in [
        Request {
            ret: Some("ALL".into()),
            ..to(&["b@x.org"])
        },
        Request {
            notify: Some("NEVER,SUCCESS".into()),
            ..to(&["b@x.org"])
        },
        Request {
            notify: Some("SUCCESS,SUCCESS".into()),
            ..to(&["b@x.org"])
        },
        Request {
            envid: Some("x".repeat(101)),
            ..to(&["b@x.org"])
        },
    ] {
        let err = plan(&request, &caps(&["DSN"]), false).unwrap_err();
        assert!(matches!(err, EnvelopeError::BadValue { .. }), "{err}");
    }
}

#[test]
fn binarymime_goes_with_bdat() {
    let request = Request {
        body: Some(BodyType::BinaryMime),
        ..to(&["b@x.org"])
    };
    let plan = plan(&request, &caps(&["CHUNKING", "BINARYMIME"]), false).unwrap();
    assert!(plan.bdat);
    assert_eq!(wire(&plan.mail_params), "BODY=BINARYMIME");
    assert!(plan.notes[0].contains("BDAT"));
    let no_chunking = plan_err(&request, &["BINARYMIME"]);
    assert!(no_chunking.contains("CHUNKING"), "{no_chunking}");
}

fn plan_err(request: &Request, lines: &[&str]) -> String {
    plan(request, &caps(lines), false).unwrap_err().to_string()
}

#[test]
fn rcptmax_splits_into_transactions_and_says_so() {
    let request = to(&["1@x.org", "2@x.org", "3@x.org", "4@x.org", "5@x.org"]);
    let plan = plan(&request, &caps(&["LIMITS RCPTMAX=2"]), false).unwrap();
    let sizes: Vec<usize> = plan.transactions.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1]);
    assert!(plan.left_out.is_empty());
    assert!(plan.notes[0].contains("RCPTMAX=2"), "{:?}", plan.notes);
    assert!(plan.notes[0].contains("3 transactions"), "{:?}", plan.notes);
}

#[test]
fn mailmax_leaves_the_rest_out_and_says_so() {
    let request = to(&["1@x.org", "2@x.org", "3@x.org", "4@x.org", "5@x.org"]);
    let plan = plan(&request, &caps(&["LIMITS RCPTMAX=2 MAILMAX=2"]), false).unwrap();
    assert_eq!(plan.transactions.len(), 2);
    assert_eq!(plan.left_out, ["5@x.org"]);
    assert!(plan.notes[1].contains("MAILMAX=2"), "{:?}", plan.notes);
}

#[test]
fn limits_of_zero_or_nonsense_limit_nothing() {
    let request = to(&["1@x.org", "2@x.org"]);
    for line in [
        "LIMITS RCPTMAX=0",
        "LIMITS RCPTMAX=many",
        "LIMITS MAILMAX=0",
    ] {
        let plan = plan(&request, &caps(&[line]), false).unwrap();
        assert_eq!(plan.transactions.len(), 1, "{line}");
    }
}

#[test]
fn size_and_8bitmime_follow_the_message() {
    let caps = caps(&["SIZE 1000", "8BITMIME"]);
    let mut plan = plan(&to(&["b@x.org"]), &caps, false).unwrap();
    plan.fit("Grüße\r\n".as_bytes(), &caps, false).unwrap();
    assert_eq!(wire(&plan.mail_params), "SIZE=9 BODY=8BITMIME");
    let mut plain = super::plan(&to(&["b@x.org"]), &caps, false).unwrap();
    plain.fit(b"hello\r\n", &caps, false).unwrap();
    assert_eq!(wire(&plain.mail_params), "SIZE=7");
    let mut big = super::plan(&to(&["b@x.org"]), &caps, false).unwrap();
    assert_eq!(
        big.fit(&[b'a'; 1001], &caps, false),
        Err(EnvelopeError::TooLarge {
            size: 1001,
            limit: 1000
        })
    );
    assert!(big.fit(&[b'a'; 1001], &caps, true).is_ok());
}
