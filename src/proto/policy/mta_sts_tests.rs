use super::*;

fn record(text: &str) -> Result<Option<StsRecord>, StsRecordError> {
    sts_record([text.as_bytes()])
}

#[test]
fn records_that_read() {
    let cases: &[(&str, &str)] = &[
        ("v=STSv1; id=20160831085700Z;", "20160831085700Z"),
        ("v=STSv1;id=1", "1"),
        ("v=STSv1 ;\tid=abc ; ", "abc"),
        ("v=STSv1; id=A1; ext-1=x!y", "A1"),
    ];
    for (text, id) in cases {
        let got = record(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(got.map(|r| r.id).as_deref(), Some(*id), "{text:?}");
    }
    let with_ext = record("v=STSv1; id=A1; ext-1=x!y").unwrap().unwrap();
    assert_eq!(
        with_ext.extensions,
        [("ext-1".to_owned(), "x!y".to_owned())]
    );
}

#[test]
fn records_that_do_not_read() {
    let cases = [
        "v=STSv1",
        "v=STSv1;",
        "v=STSv1; id=",
        "v=STSv1; id=has space",
        "v=STSv1; id=a-b",
        "v=STSv1; id=123456789012345678901234567890123",
        "v=STSv1; id=1; id=2",
        "v=STSv1; id=1; novalue",
        "v=STSv1; id=1;; x=y",
        "v=STSv1; id=1; x=a=b",
        "v=STSv1 id=1",
    ];
    for text in cases {
        assert!(
            matches!(record(text), Err(StsRecordError::Syntax { .. })),
            "{text:?} should not read: {:?}",
            record(text)
        );
    }
}

#[test]
fn the_record_is_chosen_among_the_answers() {
    let spf = b"v=spf1 -all".as_slice();
    let sts = b"v=STSv1; id=1".as_slice();
    assert_eq!(sts_record([spf]), Ok(None));
    assert_eq!(sts_record(std::iter::empty()), Ok(None));
    assert_eq!(sts_record([spf, sts]).unwrap().unwrap().id, "1");
    assert_eq!(sts_record([sts, sts]), Err(StsRecordError::Several(2)));
    // Another version is not this one, and is no record at all.
    assert_eq!(sts_record([b"v=STSv2; id=1".as_slice()]), Ok(None));
}

#[test]
fn a_record_error_keeps_the_text_outside() {
    let err = record("v=STSv1; id=\x1b[31m").unwrap_err();
    assert!(!err.to_string().contains('\x1b'), "{err}");
}

#[test]
fn mx_patterns() {
    let cases: &[(&str, &str, bool)] = &[
        ("mail.example.com", "mail.example.com", true),
        ("mail.example.com", "MAIL.Example.COM.", true),
        ("mail.example.com", "mail2.example.com", false),
        ("*.example.com", "mx.example.com", true),
        ("*.example.com", "MX.EXAMPLE.COM.", true),
        ("*.example.com", "example.com", false),
        ("*.example.com", "a.mx.example.com", false),
        ("*.example.com", ".example.com", false),
        ("*.example.com", "mx.example.net", false),
        ("mx.example.com.", "mx.example.com", true),
    ];
    for (pattern, host, want) in cases {
        let p = MxPattern::parse(pattern).unwrap_or_else(|| panic!("{pattern:?}"));
        assert_eq!(p.matches(host), *want, "{pattern} ~ {host}");
    }
    for bad in [
        "",
        "*",
        "*.",
        "*.com.*",
        "a.*.example.com",
        "mx",
        "-mx.example.com",
        "mx_1.example.com",
        "mx..example.com",
        "**.example.com",
        "mx.example.com ",
    ] {
        assert_eq!(MxPattern::parse(bad), None, "{bad:?}");
    }
    assert_eq!(
        MxPattern::parse("*.Example.COM").unwrap().to_string(),
        "*.example.com"
    );
}

fn policy(text: &str) -> Result<Policy, PolicyError> {
    Policy::parse(text.as_bytes())
}

#[test]
fn the_rfc_examples_read() {
    let p = policy(
        "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n",
    )
    .unwrap();
    assert_eq!(p.mode, Mode::Enforce);
    assert_eq!(p.max_age, 604_800);
    let shown: Vec<String> = p.mx.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        ["mail.example.com", "*.example.net", "backupmx.example.com"]
    );
    assert!(p.notes.is_empty(), "{:?}", p.notes);
    assert_eq!(
        p.matching_mx("foo.example.net")
            .map(|m| m.to_string())
            .as_deref(),
        Some("*.example.net")
    );
    assert_eq!(p.matching_mx("foo.bar.example.net"), None);
}

#[test]
fn line_ends_and_spaces() {
    for text in [
        "version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400",
        "version:STSv1\nmode:\ttesting \nmx: mx.example.com\t\nmax_age: 86400\n",
        "version: STSv1\r\nmode: testing\nmx: mx.example.com\r\nmax_age: 86400\r\n",
    ] {
        let p = policy(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!((p.mode, p.max_age), (Mode::Testing, 86_400), "{text:?}");
        assert!(p.notes.is_empty(), "{text:?}: {:?}", p.notes);
    }
}

#[test]
fn mode_none_needs_no_mx() {
    let p = policy("version: STSv1\nmode: none\nmax_age: 0\n").unwrap();
    assert_eq!((p.mode, p.max_age, p.mx.len()), (Mode::None, 0, 0));
}

#[test]
fn policies_that_are_no_policy() {
    let ok = "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n";
    assert!(policy(ok).is_ok());
    let cases: &[(&str, &str)] = &[
        ("", "no version"),
        (
            "mode: enforce\nmx: mx.example.com\nmax_age: 1\n",
            "no version",
        ),
        (
            "version: STSv1\nmx: mx.example.com\nmax_age: 1\n",
            "no mode",
        ),
        (
            "version: STSv1\nmode: enforce\nmx: mx.example.com\n",
            "no max_age",
        ),
        ("version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx"),
        ("version: STSv1\nmode: testing\nmax_age: 1\n", "no mx"),
        (
            "version: STSv2\nmode: enforce\nmx: mx.example.com\nmax_age: 1\n",
            "not STSv1",
        ),
        (
            "version: STSv1\nmode: Enforce\nmx: mx.example.com\nmax_age: 1\n",
            "not enforce",
        ),
        (
            "version: STSv1\nmode: strict\nmx: mx.example.com\nmax_age: 1\n",
            "not enforce",
        ),
        (
            "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: -1\n",
            "number",
        ),
        (
            "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 1d\n",
            "number",
        ),
        (
            "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 12345678901\n",
            "number",
        ),
        (
            "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 31557601\n",
            "more than a year",
        ),
        (
            "version: STSv1\nmode: enforce\nmx: mx.*.example.com\nmax_age: 1\n",
            "host name",
        ),
        (
            "version: STSv1\nmode: enforce\nmx: mx.example.com, mx2.example.com\nmax_age: 1\n",
            "host name",
        ),
        (
            "version: STSv1\nmode enforce\nmx: mx.example.com\nmax_age: 1\n",
            "key: value",
        ),
        (
            "version: STSv1\nmode: enforce\rmx: mx.example.com\nmax_age: 1\n",
            "CR",
        ),
        ("<html>\n<body>404</body>\n", "key"),
    ];
    for (text, want) in cases {
        let err = policy(text).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains(want), "{text:?}: {err:?} should say {want:?}");
    }
    assert_eq!(Policy::parse(&[0xff, 0xfe]), Err(PolicyError::NotText));
    let big = format!("{ok}{}", "x-pad: y\n".repeat(MAX_POLICY_BYTES / 9 + 1));
    assert_eq!(policy(&big), Err(PolicyError::TooLarge));
    assert_eq!(
        Policy::parse(&b"x".repeat(MAX_POLICY_BYTES + 1)),
        Err(PolicyError::TooLarge)
    );
}

#[test]
fn max_age_at_the_limit_reads() {
    let p =
        policy("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 31557600\n").unwrap();
    assert_eq!(p.max_age, MAX_AGE_LIMIT);
}

#[test]
fn what_senders_may_read_differently_is_noted() {
    let p = policy(
        "version: STSv1\nmode: testing\nmode: enforce\n\nmx: mx.example.com\nmx: MX.example.com\nMax_Age: 5\nmax_age: 86400\nx-note: hello world\n",
    )
    .unwrap();
    assert_eq!(p.mode, Mode::Testing, "the first mode counts");
    assert_eq!(p.mx.len(), 1);
    assert_eq!(p.extensions.len(), 2);
    let notes = p.notes.join("\n");
    for want in [
        "line 3: mode appears again",
        "line 4 is blank",
        "mx mx.example.com appears again",
        "line 7: Max_Age is not max_age",
    ] {
        assert!(notes.contains(want), "{notes:?} should say {want:?}");
    }
}

#[test]
fn a_policy_error_keeps_the_text_outside() {
    let err = policy("version: STSv1\nmode: \x1b]0;pwned\x07\n").unwrap_err();
    let shown = err.to_string();
    assert!(
        !shown.contains('\x1b') && !shown.contains('\x07'),
        "{shown:?}"
    );
}

#[test]
fn fetch_answers() {
    assert_eq!(check_response(200, Some(b"text/plain")), Ok(()));
    assert_eq!(
        check_response(200, Some(b"Text/Plain; charset=utf-8")),
        Ok(())
    );
    assert_eq!(check_response(200, Some(b" text/plain ")), Ok(()));
    assert_eq!(
        check_response(301, Some(b"text/plain")),
        Err(FetchError::Status(301))
    );
    assert_eq!(check_response(404, None), Err(FetchError::Status(404)));
    assert_eq!(check_response(200, None), Err(FetchError::NoContentType));
    assert!(matches!(
        check_response(200, Some(b"text/html")),
        Err(FetchError::ContentType(_))
    ));
    assert!(matches!(
        check_response(200, Some(b"text/plainx")),
        Err(FetchError::ContentType(_))
    ));
}

#[test]
fn names_to_look_up() {
    assert_eq!(record_name("example.com."), "_mta-sts.example.com");
    assert_eq!(policy_host("example.com"), "mta-sts.example.com");
}
