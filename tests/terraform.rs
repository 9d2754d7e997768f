//! Real Terraform agrees with every generated file. Terraform is found through
//! `MUTUALSG_TERRAFORM` or `PATH`; without it these tests are skipped with a message, unless
//! `MUTUALSG_REQUIRE_TERRAFORM=1` (as in CI), which makes a missing Terraform a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Terraform, or `None` (after saying why) when it is missing and not required.
fn terraform_or_skip(test: &str) -> Option<PathBuf> {
    match terraform() {
        Some(path) => Some(path),
        None if std::env::var_os("MUTUALSG_REQUIRE_TERRAFORM").is_some_and(|v| v == "1") => {
            panic!("MUTUALSG_REQUIRE_TERRAFORM=1 but no terraform on PATH or in MUTUALSG_TERRAFORM")
        }
        None => {
            eprintln!("skipping {test}: terraform not found on PATH (set MUTUALSG_TERRAFORM)");
            None
        }
    }
}

/// Every golden generated file under `fixtures/`.
fn golden_outputs() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = walkdir::WalkDir::new(fixtures())
        .into_iter()
        .map(Result::unwrap)
        .filter(|entry| entry.file_name() == "mutual_rules.gen.tf")
        .filter(|entry| {
            entry
                .path()
                .components()
                .any(|c| c.as_os_str() == "expected")
        })
        .map(|entry| entry.into_path())
        .collect();
    found.sort();
    found
}

fn terraform_command(terraform: &Path, dir: &Path) -> Command {
    let mut command = Command::new(terraform);
    command.current_dir(dir).env("CHECKPOINT_DISABLE", "1");
    if std::env::var_os("TF_CLI_CONFIG_FILE").is_none() {
        // Silences "Unable to open CLI configuration file" on a machine without one.
        command.env("TF_CLI_CONFIG_FILE", "/dev/null");
    }
    command
}

#[test]
fn terraform_fmt_leaves_every_golden_output_unchanged() {
    let Some(terraform) = terraform_or_skip("terraform fmt") else {
        return;
    };
    let outputs = golden_outputs();
    assert!(outputs.len() >= 6, "expected goldens, found {outputs:?}");
    for output in outputs {
        let result = terraform_command(&terraform, output.parent().unwrap())
            .args(["fmt", "-check", "-diff", "mutual_rules.gen.tf"])
            .output()
            .unwrap();
        assert!(
            result.status.success(),
            "terraform fmt would change {}:\n{}{}",
            output.display(),
            text(&result.stdout),
            text(&result.stderr)
        );
    }
}
