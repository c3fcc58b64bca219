//! cargo-fuzz target `transcript_reader`: the checks are `smtpcli_fuzz::check_transcript_reader`
//! (fuzz/checks.rs), the same that `cargo test --test it fuzz_corpus`
//! runs on every file of fuzz/corpus/transcript_reader/.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smtpcli_fuzz::check_transcript_reader(data));
