//! Replays the fuzz corpora under plain `cargo test`, so CI needs no fuzzer.
//!
//! Every file in `fuzz/corpus/<target>/` (seeds and what cargo-fuzz found,
//! minimised) and in `fuzz/regressions/<target>/` (inputs that once broke an
//! invariant) is run through the same check the fuzz target runs: the
//! checks live in `fuzz/checks.rs`, included here and built into the fuzz
//! crate as its library, so there is one copy. See `fuzz/README.md`.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/checks.rs"]
mod checks;

/// The files of `fuzz/<kind>/<target>/`, sorted; none if the folder is missing.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` on every input, and fails naming each input that broke it.
fn replay(kind: &str, target: &str, check: checks::Check) -> usize {
    let files = inputs(kind, target);
    let mut failed = Vec::new();
    for file in &files {
        let data = fs::read(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        if panic::catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs in fuzz/{kind}/{target}/ break an invariant \
         (reproduce with `cargo fuzz run {target} FILE` in fuzz/):\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
    files.len()
}

fn check_of(target: &str) -> checks::Check {
    checks::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|&(_, check)| check)
        .unwrap_or_else(|| panic!("no check for {target}"))
}

/// The corpus of a target: it must exist (an empty one means the seeds were
/// lost) and every file must pass.
fn corpus(target: &str) {
    let count = replay("corpus", target, check_of(target));
    assert!(count > 0, "fuzz/corpus/{target}/ is empty or missing");
}

/// Regression inputs: optional; each must pass once its bug is fixed.
fn regressions(target: &str) {
    replay("regressions", target, check_of(target));
}

#[test]
fn reply_parser_corpus() {
    corpus("reply_parser");
}

#[test]
fn reply_parser_regressions() {
    regressions("reply_parser");
}

#[test]
fn command_reader_corpus() {
    corpus("command_reader");
}

#[test]
fn command_reader_regressions() {
    regressions("command_reader");
}

#[test]
fn data_encoder_corpus() {
    corpus("data_encoder");
}

#[test]
fn data_encoder_regressions() {
    regressions("data_encoder");
}

#[test]
fn bounce_reader_corpus() {
    corpus("bounce_reader");
}

#[test]
fn bounce_reader_regressions() {
    regressions("bounce_reader");
}

#[test]
fn script_reader_corpus() {
    corpus("script_reader");
}

#[test]
fn script_reader_regressions() {
    regressions("script_reader");
}

#[test]
fn transcript_reader_corpus() {
    corpus("transcript_reader");
}

/// The chunking that the targets derive from an input covers it exactly.
#[test]
fn chunks_cover_the_input() {
    for data in [&b""[..], b"\0", b"\0\0\0", b"250 ok\r\n", &[200u8; 300]] {
        let parts = checks::chunks(data);
        assert_eq!(parts.concat(), data);
    }
}

/// Every target has its tests above.
#[test]
fn every_target_is_replayed() {
    let names: Vec<&str> = checks::TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "reply_parser",
            "command_reader",
            "data_encoder",
            "bounce_reader",
            "script_reader",
            "transcript_reader",
            "sanitizer"
        ]
    );
}

#[test]
fn sanitizer_corpus() {
    corpus("sanitizer");
}

#[test]
fn sanitizer_regressions() {
    regressions("sanitizer");
}
