//! Golden tests: every case under `fixtures/{example,generate/*,errors/*}` is an `input/`
//! tree and an `expected/` directory holding what `mutualsg generate` produces from it: the
//! generated files, its exit code and its stderr. Cases under `fixtures/migrate/*` hold what
//! `mutualsg migrate --write` produces: every file it creates or changes, its exit code and
//! its stderr (with the flags of the case's `args` file). `MUTUALSG_BLESS=1 cargo test` rewrites
//! the expectations; review them with `git diff`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;

const GENERATED: &str = "mutual_rules.gen.tf";

/// The case directories of one kind.
fn cases(kind: &str) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(fixtures().join(kind))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("input").is_dir())
        .collect();
    cases.sort();
    cases
}

/// What a case produces, as the files `expected/` holds.
struct Produced {
    files: Vec<(PathBuf, Vec<u8>)>,
}

/// Runs `generate` on a copy of the case's input; checks the invariants every case shares.
fn produce(case: &Path) -> Produced {
    let work = assert_fs::TempDir::new().unwrap();
    copy_tree(&case.join("input"), work.path());
    let before = read_tree(work.path());

    let output = mutualsg(work.path(), &["generate"]);
    let code = output.status.code().unwrap();
    let after = read_tree(work.path());

    if code == 2 {
        assert_eq!(
            before,
            after,
            "{}: an error run changed the tree",
            case.display()
        );
    } else {
        assert_eq!(code, 0, "{}: generate exited {code}", case.display());
        // What generate wrote is a fixed point: check finds nothing to do.
        let check = mutualsg(work.path(), &["check"]);
        assert_eq!(
            check.status.code(),
            Some(0),
            "{}: check after generate: {}",
            case.display(),
            text(&check.stderr)
        );
        assert!(
            check.stdout.is_empty(),
            "{}: check printed a diff",
            case.display()
        );
    }
    for (path, bytes) in &after {
        let name = path.file_name().unwrap().to_string_lossy();
        if name == GENERATED {
            // A second, independent HCL parser accepts every generated file.
            let parsed = hcl::parse(&text(bytes));
            assert!(
                parsed.is_ok(),
                "{}: hcl-rs rejects {}: {parsed:?}",
                case.display(),
                path.display()
            );
        }
        assert!(
            !name.starts_with(".mutual_rules.gen."),
            "{}: temporary file left: {}",
            case.display(),
            path.display()
        );
    }

    let mut files = vec![
        (PathBuf::from("exit-code"), format!("{code}\n").into_bytes()),
        (PathBuf::from("stderr"), output.stderr),
    ];
    files.extend(
        after
            .into_iter()
            .filter(|(path, _)| path.file_name().is_some_and(|name| name == GENERATED)),
    );
    Produced { files }
}

/// Compares (or, when blessing, rewrites) a case's `expected/`; returns a message per mismatch.
fn compare(case: &Path, produced: Produced) -> Vec<String> {
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

fn run_cases(cases: Vec<PathBuf>, want_code: &str) {
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        let produced = produce(case);
        let code = &produced.files[0].1;
        if !blessing() && text(code).trim() != want_code {
            failures.push(format!(
                "{}: exit code {}, want {want_code}",
                case.display(),
                text(code).trim()
            ));
        }
        failures.extend(compare(case, produced));
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs `migrate --write` on a copy of the case's input: every file it created or changed,
/// with its exit code and stderr. A second `migrate` must find nothing to do.
fn produce_migration(case: &Path) -> Produced {
    let work = assert_fs::TempDir::new().unwrap();
    copy_tree(&case.join("input"), work.path());
    let before = read_tree(work.path());
    let args = migrate_args(case);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = mutualsg(work.path(), &args);
    let code = output.status.code().unwrap();
    let after = read_tree(work.path());
    let again = mutualsg(work.path(), &["migrate"]);
    assert!(
        again.stdout.is_empty(),
        "{}: a second migrate changed:\n{}",
        case.display(),
        text(&again.stdout)
    );
    let mut files = vec![
        (PathBuf::from("exit-code"), format!("{code}\n").into_bytes()),
        (PathBuf::from("stderr"), output.stderr),
    ];
    files.extend(
        after
            .into_iter()
            .filter(|(path, bytes)| before.get(path) != Some(bytes)),
    );
    Produced { files }
}

/// `migrate --write`, plus the flags of the case's `args` file (one a line), if it has one.
fn migrate_args(case: &Path) -> Vec<String> {
    let mut args = vec!["migrate".to_string(), "--write".to_string()];
    if let Ok(extra) = fs::read_to_string(case.join("args")) {
        args.extend(extra.lines().map(str::to_string));
    }
    args
}

#[test]
fn migrate_cases() {
    let cases = cases("migrate");
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        let produced = produce_migration(case);
        failures.extend(compare(case, produced));
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn example_tree() {
    run_cases(vec![fixtures().join("example")], "0");
}

#[test]
fn generate_cases() {
    run_cases(cases("generate"), "0");
}

#[test]
fn error_cases() {
    run_cases(cases("errors"), "2");
}
