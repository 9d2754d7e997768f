//! Every seed of the fuzz corpora (`fuzz/corpus/<target>/`) through the very checks the fuzz
//! targets run (`fuzz/src/lib.rs`), so the seeds, and every crash the fuzzers ever found, are
//! regression tests of the normal suite. Fuzzing itself: see `fuzz/README.md`.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod checks;

use std::fs;
use std::path::{Path, PathBuf};

fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut seeds: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

fn run_seeds(target: &str, check: fn(&[u8])) {
    for seed in seeds(target) {
        let data = fs::read(&seed).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "seed {} fails", seed.display());
    }
}

#[test]
fn generate_bytes_seeds() {
    run_seeds("generate_bytes", checks::check_bytes);
}

#[test]
fn generate_structured_seeds() {
    run_seeds("generate_structured", checks::check_spec_bytes);
}
