//! Connections drawn by `arbitrary`, written out as a `mutual_rules` file in varying spellings.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mutualsg_fuzz::check_spec_bytes(data));
