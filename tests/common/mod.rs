//! Helpers shared by the integration tests: temporary copies of fixture trees, running the
//! built binary in them, and reading trees back.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

mod terraform_setup;
// Each test binary uses some of these.
#[allow(unused_imports)]
pub use terraform_setup::{terraform_for_fmt, terraform_with_aws};

/// A module with two groups and one connection between them: the tests' smallest tree.
pub const RULES: &str = r#"resource "aws_security_group" "a" {}

resource "aws_security_group" "b" {}

locals {
  mutual_rules = [
    {
      source_sg_id     = aws_security_group.a.id
      target_sg_id     = aws_security_group.b.id
      destination_port = 443
      description      = "HTTPS"
    },
  ]
}
"#;

/// The project's `fixtures/` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Whether goldens should be rewritten instead of compared (`MUTUALSG_BLESS=1`).
pub fn blessing() -> bool {
    std::env::var_os("MUTUALSG_BLESS").is_some_and(|v| v == "1")
}

/// Copies a directory tree (files and directories; symlinks are copied as links).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else if entry.file_type().is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under `root` with its bytes, by relative path.
pub fn read_tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .map(Result::unwrap)
        .filter(|entry| !entry.file_type().is_dir())
        .map(|entry| {
            let bytes = fs::read(entry.path()).unwrap_or_default();
            (
                entry.path().strip_prefix(root).unwrap().to_path_buf(),
                bytes,
            )
        })
        .collect()
}

/// Runs `mutualsg ARGS` in `dir` without colour.
pub fn mutualsg(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("mutualsg")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("MUTUALSG_BLESS")
        // Comments link rules when CI names the repository and commit: not in goldens.
        .env_remove("GITHUB_SERVER_URL")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_SHA")
        .env_remove("MUTUALSG_HEAD_SHA")
        .args(args)
        .output()
        .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `files` (relative path → text) under a new temporary directory.
pub fn tree(files: &[(&str, &str)]) -> assert_fs::TempDir {
    let dir = assert_fs::TempDir::new().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

/// `terraform` to test with: `MUTUALSG_TERRAFORM`, else the first on `PATH`.
pub fn terraform() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MUTUALSG_TERRAFORM") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("terraform"))
            .find(|candidate| candidate.is_file())
    })
}

/// `pre-commit` to test with: `MUTUALSG_PRE_COMMIT`, else the first on `PATH`.
pub fn pre_commit() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MUTUALSG_PRE_COMMIT") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("pre-commit"))
            .find(|candidate| candidate.is_file())
    })
}

/// Runs `terraform ARGS` in `dir`.
pub fn run_terraform(terraform: &Path, dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(terraform)
        .args(args)
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .unwrap()
}

/// Runs `terraform ARGS` in `dir`, which must succeed; returns its stdout.
pub fn terraform_ok(terraform: &Path, dir: &Path, args: &[&str]) -> String {
    let output = run_terraform(terraform, dir, args);
    assert!(
        output.status.success(),
        "terraform {} failed:\n{}{}",
        args.join(" "),
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}
