//! cargo-fuzz target `sanitizer`: the checks are `smtpcli_fuzz::check_sanitizer`
//! (fuzz/checks.rs), the same that `cargo test --test it fuzz_corpus`
//! runs on every file of fuzz/corpus/sanitizer/ and fuzz/regressions/sanitizer/.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smtpcli_fuzz::check_sanitizer(data));
