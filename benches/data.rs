//! DATA encoder throughput (CRLF normalisation and dot-stuffing), fed in the
//! chunks `:data FILE` reads. The worst realistic case is a message full of
//! lines that start with a dot; ordinary text and bare-LF text (a Unix file)
//! are measured beside it.

mod support;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use smtpcli::proto::data::ContentEncoder;

/// Bytes `:data FILE` reads from the file at a time (`session::helpers`).
const FILE_CHUNK: usize = 64 * 1024;

/// Size of each test message.
const MESSAGE: usize = 8 * 1024 * 1024;

/// Builds about `size` bytes of lines from `line(i)`, each ended by `eol`.
fn message(size: usize, eol: &[u8], line: impl Fn(usize) -> String) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 128);
    let mut i = 0;
    while out.len() < size {
        out.extend_from_slice(line(i).as_bytes());
        out.extend_from_slice(eol);
        i += 1;
    }
    out
}

/// Every line starts with a dot (every one gets stuffed); some are a lone
/// dot, the line that would end the message early if left alone.
fn dot_lines() -> Vec<u8> {
    message(MESSAGE, b"\r\n", |i| match i % 4 {
        0 => ".".to_string(),
        1 => "..".to_string(),
        _ => format!(".line {i} begins with a dot and must be stuffed"),
    })
}

/// Ordinary text: 76-column lines (quoted-printable or base64 bodies look
/// like this).
fn plain_lines() -> Vec<u8> {
    message(MESSAGE, b"\r\n", |i| {
        format!("{i:08} Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiu")
    })
}

/// Text with bare LF endings, each turned into CRLF.
fn lf_lines() -> Vec<u8> {
    message(MESSAGE, b"\n", |i| {
        format!("{i:08} Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiu")
    })
}

/// Encodes `input` as `:data FILE` does: file-sized chunks into a reused
/// buffer that is handed on (here: dropped) after each chunk.
fn encode_streaming(input: &[u8]) -> u64 {
    let mut encoder = ContentEncoder::for_data();
    let mut wire = Vec::with_capacity(FILE_CHUNK + FILE_CHUNK / 8);
    let mut total = 0;
    for chunk in input.chunks(FILE_CHUNK) {
        wire.clear();
        encoder.encode(chunk, &mut wire);
        total += wire.len() as u64;
        black_box(&wire);
    }
    wire.clear();
    encoder.finish(&mut wire);
    total + wire.len() as u64
}

fn bench_data_encoder(c: &mut Criterion) {
    let mut group = c.benchmark_group("data");
    for (name, input) in [
        ("dot_lines", dot_lines()),
        ("plain_crlf", plain_lines()),
        ("bare_lf", lf_lines()),
    ] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(encode_streaming(black_box(&input))));
        });
    }
    // Message text typed or scripted line by line (a script's body): one
    // encode call per line plus its newline, as the session does.
    let input = dot_lines();
    let lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("dot_lines_line_by_line", |b| {
        b.iter(|| {
            let mut encoder = ContentEncoder::for_data();
            let mut total = 0;
            for line in &lines {
                let mut wire = Vec::with_capacity(line.len() + 3);
                encoder.encode(line, &mut wire);
                encoder.encode(b"\n", &mut wire);
                total += wire.len();
                black_box(&wire);
            }
            total
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = bench_data_encoder
}
criterion_main!(benches);
