//! cargo-fuzz target `reply_parser`: the checks are `smtpcli_fuzz::check_reply_parser`
//! (fuzz/checks.rs), the same that `cargo test --test it fuzz_corpus`
//! runs on every file of fuzz/corpus/reply_parser/ and fuzz/regressions/reply_parser/.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smtpcli_fuzz::check_reply_parser(data));
