//! cargo-fuzz target `command_reader`: the checks are `smtpcli_fuzz::check_command_reader`
//! (fuzz/checks.rs), the same that `cargo test --test it fuzz_corpus`
//! runs on every file of fuzz/corpus/command_reader/ and fuzz/regressions/command_reader/.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smtpcli_fuzz::check_command_reader(data));
