//! cargo-fuzz target `data_encoder`: the checks are `smtpcli_fuzz::check_data_encoder`
//! (fuzz/checks.rs), the same that `cargo test --test it fuzz_corpus`
//! runs on every file of fuzz/corpus/data_encoder/ and fuzz/regressions/data_encoder/.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smtpcli_fuzz::check_data_encoder(data));
