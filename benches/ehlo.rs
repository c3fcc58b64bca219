//! EHLO parsing: the reply bytes of a typical EHLO answer to typed
//! capabilities, as the session does after every EHLO (reply parser, line
//! texts, `Capabilities::from_lines`), and the capability step alone.

mod support;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smtpcli::proto::ehlo::Capabilities;
use smtpcli::proto::reply::Reply;

/// A Postfix EHLO reply with the usual extensions, a few with parameters.
const POSTFIX: &[u8] = b"250-mailserver.example.com Hello pc0815.example.com [192.0.2.15]\r\n\
250-PIPELINING\r\n\
250-SIZE 10240000\r\n\
250-VRFY\r\n\
250-ETRN\r\n\
250-STARTTLS\r\n\
250-AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2\r\n\
250-AUTH=PLAIN LOGIN\r\n\
250-ENHANCEDSTATUSCODES\r\n\
250-8BITMIME\r\n\
250-DSN\r\n\
250-SMTPUTF8\r\n\
250-CHUNKING\r\n\
250-LIMITS RCPTMAX=100 MAILMAX=10\r\n\
250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN\r\n\
250-X-UNKNOWN-EXTENSION some params\r\n\
250 REQUIRETLS\r\n";

fn bench_ehlo(c: &mut Criterion) {
    let mut group = c.benchmark_group("ehlo");
    group.throughput(Throughput::Elements(1));

    group.bench_function("reply_bytes_to_capabilities", |b| {
        b.iter(|| {
            let replies = Reply::parse_all(black_box(POSTFIX));
            let texts = replies[0].line_texts();
            let caps = Capabilities::from_lines(texts.iter());
            assert!(caps.supports_pipelining());
            caps
        });
    });

    let reply = Reply::parse_all(POSTFIX).remove(0);
    let texts = reply.line_texts();
    group.bench_function("capabilities_from_lines", |b| {
        b.iter(|| Capabilities::from_lines(black_box(&texts).iter()));
    });

    let caps = Capabilities::from_lines(texts.iter());
    group.bench_function("queries", |b| {
        b.iter(|| {
            let caps = black_box(&caps);
            (
                caps.supports_pipelining(),
                caps.size_limit(),
                caps.auth_mechanisms(),
                caps.has("xclient"),
            )
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = bench_ehlo
}
criterion_main!(benches);
