//! Reply parser throughput: one very long multi-line reply, and many small
//! replies back to back (what a pipelined transaction burst looks like).
//! Input is fed in the transport's socket-sized chunks, so the cost of
//! replies split across chunk boundaries is included.

mod support;

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use smtpcli::proto::reply::{Limits, ReplyParser};

/// Bytes the transport reads from the socket at a time (`net::transport`).
const SOCKET_CHUNK: usize = 16 * 1024;

/// Feeds `input` in `chunk`-sized pieces and returns the number of replies
/// and of lines parsed.
fn parse_chunked(parser: &mut ReplyParser, input: &[u8], chunk: usize) -> (usize, usize) {
    let mut replies = 0;
    let mut lines = 0;
    for piece in input.chunks(chunk) {
        parser.feed(piece);
        while let Some(reply) = parser.next_reply() {
            replies += 1;
            lines += reply.lines.len();
            black_box(&reply);
        }
    }
    (replies, lines)
}

/// One reply of `n` lines of about 70 octets (a long HELP text, a chatty
/// banner, a server's policy notice).
fn long_reply(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        out.extend_from_slice(
            format!("250-line {i:05} of a long reply: the quick brown fox jumps over it\r\n")
                .as_bytes(),
        );
    }
    out.extend_from_slice(b"250 2.0.0 end of the long reply\r\n");
    out
}

/// `n` one-line replies, cycling through what a transaction gets back.
fn small_replies(n: usize) -> Vec<u8> {
    const REPLIES: [&[u8]; 4] = [
        b"250 2.1.0 Ok\r\n",
        b"250 2.1.5 Ok\r\n",
        b"354 End data with <CR><LF>.<CR><LF>\r\n",
        b"250 2.0.0 Ok: queued as 708D72C80BE\r\n",
    ];
    REPLIES
        .iter()
        .cycle()
        .take(n)
        .flat_map(|r| r.iter())
        .copied()
        .collect()
}

fn bench_reply_parser(c: &mut Criterion) {
    let mut group = c.benchmark_group("reply");

    // 9,000 lines: under the parser's 10,000-line cap, so nothing is dropped.
    let long = long_reply(9_000);
    let big_limits = Limits {
        max_reply_bytes: 4 * 1024 * 1024,
        ..Limits::default()
    };
    group.throughput(Throughput::Bytes(long.len() as u64));
    group.bench_function("multi_line_9000_lines", |b| {
        b.iter_batched_ref(
            || ReplyParser::with_limits(big_limits),
            |parser| {
                let (replies, lines) = parse_chunked(parser, &long, SOCKET_CHUNK);
                assert_eq!((replies, lines), (1, 9_001));
            },
            BatchSize::SmallInput,
        );
    });

    // The same reply over the default caps: the cut path (lines dropped and
    // counted) must not be slower than keeping them.
    let huge = long_reply(30_000);
    group.throughput(Throughput::Bytes(huge.len() as u64));
    group.bench_function("multi_line_30000_lines_capped", |b| {
        b.iter_batched_ref(
            ReplyParser::new,
            |parser| {
                let (replies, _) = parse_chunked(parser, &huge, SOCKET_CHUNK);
                assert_eq!(replies, 1);
            },
            BatchSize::SmallInput,
        );
    });

    let small = small_replies(10_000);
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("small_10000_replies", |b| {
        b.iter_batched_ref(
            ReplyParser::new,
            |parser| {
                let (replies, _) = parse_chunked(parser, &small, SOCKET_CHUNK);
                assert_eq!(replies, 10_000);
            },
            BatchSize::SmallInput,
        );
    });

    // Lock-step: each reply arrives in a read of its own.
    group.bench_function("small_10000_replies_one_read_each", |b| {
        let pieces: Vec<&[u8]> = small.split_inclusive(|&b| b == b'\n').collect();
        b.iter_batched_ref(
            ReplyParser::new,
            |parser| {
                let mut replies = 0;
                for piece in &pieces {
                    parser.feed(piece);
                    while let Some(reply) = parser.next_reply() {
                        replies += 1;
                        black_box(&reply);
                    }
                }
                assert_eq!(replies, 10_000);
            },
            BatchSize::SmallInput,
        );
    });

    group.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = bench_reply_parser
}
criterion_main!(benches);
