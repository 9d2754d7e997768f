//! Any bytes as a module's one .tf file, through parse → validate → name → render.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mutualsg_fuzz::check_bytes(data));
