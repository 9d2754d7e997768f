//! What the golden tests of the commands share: the cases of a kind under `fixtures/`,
//! comparing (or blessing) an expected file or a whole `expected/` directory, and git in a
//! temporary repository.

#![allow(dead_code)] // Each test binary uses some of these.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{blessing, fixtures, read_tree, text};

/// The case directories of one kind.
pub fn cases(kind: &str) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(fixtures().join(kind))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("input").is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases under fixtures/{kind}");
    cases
}

/// Compares `actual` with the case's `expected/NAME`, or rewrites it when blessing.
pub fn compare(case: &Path, name: &str, actual: &[u8], failures: &mut Vec<String>) {
    let path = case.join("expected").join(name);
    if blessing() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
        return;
    }
    let Ok(expected) = fs::read(&path) else {
        failures.push(format!(
            "{}: missing (bless with MUTUALSG_BLESS=1)",
            path.display()
        ));
        return;
    };
    if expected != actual {
        failures.push(format!(
            "{} differs\n{}",
            path.display(),
            similar::TextDiff::from_lines(text(&expected).as_str(), text(actual).as_str())
                .unified_diff()
                .header("expected", "actual")
        ));
    }
}

pub fn assert_no_failures(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} golden mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs `git ARGS` in `dir`, isolated from the machine's git configuration.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args([
            "-c",
            "user.name=mutualsg",
            "-c",
            "user.email=mutualsg@example.com",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// What a case produces, as the files `expected/` holds.
pub struct Produced {
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

/// Compares (or, when blessing, rewrites) a case's `expected/`; returns a message per mismatch.
pub fn compare_dir(case: &Path, produced: Produced) -> Vec<String> {
    let expected_dir = case.join("expected");
    if blessing() {
        let _ = fs::remove_dir_all(&expected_dir);
        for (path, bytes) in &produced.files {
            let path = expected_dir.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, bytes).unwrap();
        }
        return Vec::new();
    }
    let mut failures = Vec::new();
    let expected = read_tree(&expected_dir);
    for (path, bytes) in &produced.files {
        match expected.get(path) {
            None => failures.push(format!(
                "{}: unexpected output {}",
                case.display(),
                path.display()
            )),
            Some(want) if want != bytes => failures.push(format!(
                "{}: {} differs\n{}",
                case.display(),
                path.display(),
                similar::TextDiff::from_lines(text(want).as_str(), text(bytes).as_str())
                    .unified_diff()
                    .header("expected", "actual")
            )),
            Some(_) => {}
        }
    }
    for path in expected.keys() {
        if !produced.files.iter().any(|(produced, _)| produced == path) {
            failures.push(format!(
                "{}: expected {} was not produced",
                case.display(),
                path.display()
            ));
        }
    }
    failures
}
