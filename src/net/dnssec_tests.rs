use std::str::FromStr;

use hickory_resolver::proto::rr::Record;
use hickory_resolver::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
use hickory_resolver::proto::rr::rdata::{A, CNAME, MX, TLSA, TXT};

use super::*;

fn response(
    id: u16,
    name: &Name,
    rtype: RecordType,
    code: ResponseCode,
    ad: bool,
    answers: Vec<RData>,
) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Response, OpCode::Query);
    m.metadata.response_code = code;
    m.metadata.authentic_data = ad;
    m.add_query(Query::query(name.clone(), rtype));
    for data in answers {
        m.add_answer(Record::from_rdata(name.clone(), 300, data));
    }
    m.to_vec().unwrap()
}

fn tlsa(usage: u8, data: &[u8]) -> RData {
    RData::TLSA(TLSA::new(
        CertUsage::from(usage),
        Selector::from(1),
        Matching::from(1),
        data.to_vec(),
    ))
}

#[test]
fn the_query_asks_for_validation_and_dnssec_records() {
    let n = name("_25._tcp.mx.example.com").unwrap();
    for cd in [false, true] {
        let bytes = encode_query(7, &n, RecordType::TLSA, cd).unwrap();
        let m = Message::from_vec(&bytes).unwrap();
        assert_eq!(m.metadata.id, 7);
        assert!(m.metadata.recursion_desired);
        assert!(m.metadata.authentic_data);
        assert_eq!(m.metadata.checking_disabled, cd);
        assert!(
            m.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok),
            "DO bit"
        );
        assert_eq!(m.queries[0].query_type(), RecordType::TLSA);
        assert_eq!(m.queries[0].name().to_ascii(), "_25._tcp.mx.example.com.");
    }
}

#[test]
fn names() {
    assert_eq!(name("example.com.").unwrap(), name("EXAMPLE.com").unwrap());
    assert!(name("a..b").is_err());
    assert!(name(&"a".repeat(64)).is_err());
}

#[test]
fn answers_read_with_their_ad_bit() {
    let n = name("_25._tcp.mx.example.com").unwrap();
    let bytes = response(
        9,
        &n,
        RecordType::TLSA,
        ResponseCode::NoError,
        true,
        vec![tlsa(3, &[1, 2]), tlsa(2, &[3])],
    );
    let a = decode_answer(&bytes, 9, &n, RecordType::TLSA)
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.status, a.authenticated, a.records.len()),
        (Status::NoError, true, 2)
    );
    match tlsa_answer(&a) {
        TlsaAnswer::Records { records, secure } => {
            assert!(secure);
            assert_eq!(records[0].to_string(), "3 1 1 0102");
            assert_eq!(records[1].to_string(), "2 1 1 03");
        }
        other => panic!("{other:?}"),
    }
    let bytes = response(
        9,
        &n,
        RecordType::TLSA,
        ResponseCode::NoError,
        false,
        vec![tlsa(3, &[1])],
    );
    let a = decode_answer(&bytes, 9, &n, RecordType::TLSA)
        .unwrap()
        .unwrap();
    assert!(matches!(
        tlsa_answer(&a),
        TlsaAnswer::Records { secure: false, .. }
    ));
}

#[test]
fn codes_become_outcomes() {
    let n = name("_25._tcp.mx.example.com").unwrap();
    let cases = [
        (ResponseCode::NoError, Status::NoError, TlsaAnswer::None),
        (ResponseCode::NXDomain, Status::NxDomain, TlsaAnswer::None),
        (
            ResponseCode::ServFail,
            Status::Failed(2),
            TlsaAnswer::Failed,
        ),
        (ResponseCode::Refused, Status::Failed(5), TlsaAnswer::Failed),
    ];
    for (code, status, outcome) in cases {
        let bytes = response(1, &n, RecordType::TLSA, code, false, vec![]);
        let a = decode_answer(&bytes, 1, &n, RecordType::TLSA)
            .unwrap()
            .unwrap();
        assert_eq!(a.status, status, "{code:?}");
        assert_eq!(tlsa_answer(&a), outcome, "{code:?}");
    }
    let bogus = Answer {
        status: Status::Bogus,
        authenticated: false,
        records: vec![],
        canonical: None,
    };
    assert_eq!(tlsa_answer(&bogus), TlsaAnswer::Bogus);
}

#[test]
fn answers_that_are_not_ours() {
    let n = name("mx.example.com").unwrap();
    let other = name("mx.example.net").unwrap();
    let bytes = response(5, &n, RecordType::MX, ResponseCode::NoError, false, vec![]);
    assert!(matches!(
        decode_answer(&bytes, 6, &n, RecordType::MX),
        Err(DnsError::Mismatch)
    ));
    assert!(matches!(
        decode_answer(&bytes, 5, &other, RecordType::MX),
        Err(DnsError::Mismatch)
    ));
    assert!(matches!(
        decode_answer(&bytes, 5, &n, RecordType::TXT),
        Err(DnsError::Mismatch)
    ));
    // A query is no answer.
    let query = encode_query(5, &n, RecordType::MX, false).unwrap();
    assert!(matches!(
        decode_answer(&query, 5, &n, RecordType::MX),
        Err(DnsError::Mismatch)
    ));
    assert!(matches!(
        decode_answer(b"\x00\x05junk", 5, &n, RecordType::MX),
        Err(DnsError::Malformed(_))
    ));
    assert!(matches!(
        decode_answer(b"", 5, &n, RecordType::MX),
        Err(DnsError::Malformed(_))
    ));
}

#[test]
fn a_truncated_answer_asks_for_tcp() {
    let n = name("example.com").unwrap();
    let mut m = Message::new(3, MessageType::Response, OpCode::Query);
    m.metadata.truncation = true;
    m.add_query(Query::query(n.clone(), RecordType::TXT));
    let bytes = m.to_vec().unwrap();
    assert_eq!(decode_answer(&bytes, 3, &n, RecordType::TXT).unwrap(), None);
}

#[test]
fn txt_strings_join_and_mx_hosts_sort() {
    let n = name("example.com").unwrap();
    let txt = RData::TXT(TXT::new(vec!["v=STSv1; ".to_owned(), "id=1".to_owned()]));
    let bytes = response(
        2,
        &n,
        RecordType::TXT,
        ResponseCode::NoError,
        true,
        vec![txt],
    );
    let a = decode_answer(&bytes, 2, &n, RecordType::TXT)
        .unwrap()
        .unwrap();
    assert_eq!(txt_records(&a), [b"v=STSv1; id=1".to_vec()]);
    let mx = |p, host: &str| RData::MX(MX::new(p, Name::from_str(host).unwrap()));
    let bytes = response(
        2,
        &n,
        RecordType::MX,
        ResponseCode::NoError,
        true,
        vec![mx(20, "b.example.com."), mx(10, "a.example.com.")],
    );
    let a = decode_answer(&bytes, 2, &n, RecordType::MX)
        .unwrap()
        .unwrap();
    assert_eq!(
        mx_hosts(&a),
        [
            (10, "a.example.com".to_owned()),
            (20, "b.example.com".to_owned())
        ]
    );
}

/// An answer to an A question for `asked`, holding `records` as
/// (owner, data), in that order.
fn a_answer(id: u16, asked: &Name, records: &[(&Name, RData)]) -> Answer {
    let mut m = Message::new(id, MessageType::Response, OpCode::Query);
    m.add_query(Query::query(asked.clone(), RecordType::A));
    for (owner, data) in records {
        m.add_answer(Record::from_rdata((*owner).clone(), 300, data.clone()));
    }
    decode_answer(&m.to_vec().unwrap(), id, asked, RecordType::A)
        .unwrap()
        .unwrap()
}

#[test]
fn an_alias_is_followed_to_its_fully_expanded_name() {
    let n = name("mx.example.com").unwrap();
    let hop = name("relay.example.net").unwrap();
    let end = name("mail.provider.example").unwrap();
    let alias = |target: &Name| RData::CNAME(CNAME(target.clone()));
    let address = RData::A(A::new(127, 0, 0, 1));
    // Out of order, as a resolver may send them.
    let a = a_answer(
        4,
        &n,
        &[
            (&end, address.clone()),
            (&hop, alias(&end)),
            (&n, alias(&hop)),
        ],
    );
    assert_eq!(a.canonical, Some(end));
    assert_eq!(a.records.len(), 1);
    // No alias: no canonical name.
    let a = a_answer(5, &n, &[(&n, address)]);
    assert_eq!(a.canonical, None);
    // A loop has no end: no canonical name, and no hang.
    let a = a_answer(6, &n, &[(&n, alias(&hop)), (&hop, alias(&n))]);
    assert_eq!(a.canonical, None);
}

#[test]
fn the_system_resolver_is_the_first_nameserver_line() {
    let conf = "# generated\nsearch example.org\noptions trust-ad\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n";
    assert_eq!(
        first_nameserver(conf),
        Some("127.0.0.53:53".parse().unwrap())
    );
    assert_eq!(
        first_nameserver("nameserver fe80::1%eth0\n"),
        Some("[fe80::1]:53".parse().unwrap())
    );
    assert_eq!(first_nameserver("nameserver not-an-ip\n"), None);
    assert_eq!(first_nameserver(""), None);
}
