//! cargo-fuzz target `script_reader`: the checks are `smtpcli_fuzz::check_script_reader`
//! (fuzz/checks.rs), the same that `cargo test --test it fuzz_corpus`
//! runs on every file of fuzz/corpus/script_reader/.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smtpcli_fuzz::check_script_reader(data));
