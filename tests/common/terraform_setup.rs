//! Whether a test can use Terraform here, decided in one place. Two needs:
//!
//! - `terraform fmt` works with any Terraform, offline included: [`terraform_for_fmt`].
//! - `init`, `validate`, `plan` and `apply` need the `hashicorp/aws` provider. A fresh clone
//!   on an offline machine has a Terraform on `PATH` that cannot download it, and a machine
//!   with credentials must not have tests apply to a real account by accident: the tests use
//!   the offline stand-in provider (`../shared/tools/terraform/`), or whatever provider
//!   Terraform installs when `MUTUALSG_TERRAFORM_APPLY=1` says a real account is meant:
//!   [`terraform_with_aws`].
//!
//! Without what it needs a test says so on one line of stderr and passes, unless
//! `MUTUALSG_REQUIRE_TERRAFORM=1` (CI), which makes it fail.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{run_terraform, terraform, text};

/// Whether CI requires Terraform and the stand-in (`MUTUALSG_REQUIRE_TERRAFORM=1`).
fn terraform_required() -> bool {
    std::env::var_os("MUTUALSG_REQUIRE_TERRAFORM").is_some_and(|v| v == "1")
}

/// Any Terraform, for `terraform fmt`; `None` after saying why `test` is skipped.
pub fn terraform_for_fmt(test: &str) -> Option<PathBuf> {
    let found = terraform()
        .ok_or_else(|| "terraform not found on PATH (set MUTUALSG_TERRAFORM)".to_string());
    or_skip(test, found)
}

/// Terraform that installs the offline stand-in aws provider (any aws provider with
/// `MUTUALSG_TERRAFORM_APPLY=1`); `None` after saying why `test` is skipped. Probed once per
/// test binary with `terraform init` of a module that requires `hashicorp/aws`.
pub fn terraform_with_aws(test: &str) -> Option<PathBuf> {
    static PROBE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    or_skip(test, PROBE.get_or_init(probe_aws_provider).clone())
}

fn or_skip(test: &str, found: Result<PathBuf, String>) -> Option<PathBuf> {
    match found {
        Ok(path) => Some(path),
        Err(why) if terraform_required() => panic!("MUTUALSG_REQUIRE_TERRAFORM=1 but {why}"),
        Err(why) => {
            eprintln!("skipping {test}: {why}");
            None
        }
    }
}

fn probe_aws_provider() -> Result<PathBuf, String> {
    let terraform = terraform().ok_or("terraform not found on PATH (set MUTUALSG_TERRAFORM)")?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    fs::write(
        dir.path().join("main.tf"),
        "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\" }\n  }\n}\n",
    )
    .map_err(|e| e.to_string())?;
    let init = run_terraform(
        &terraform,
        dir.path(),
        &["init", "-input=false", "-no-color"],
    );
    if !init.status.success() {
        let stderr = text(&init.stderr);
        let first_error = stderr
            .lines()
            .map(|line| line.trim_start_matches(['│', ' ']))
            .find(|line| line.starts_with("Error:"))
            .unwrap_or("no message");
        return Err(format!(
            "{} cannot install the aws provider ({first_error}); put a Terraform with the offline stand-in provider on PATH or in MUTUALSG_TERRAFORM",
            terraform.display()
        ));
    }
    let real_account_meant = std::env::var_os("MUTUALSG_TERRAFORM_APPLY").is_some_and(|v| v == "1");
    if !real_account_meant && !installed_stand_in(dir.path()) {
        return Err(format!(
            "{} installs a real aws provider, not the offline stand-in (set MUTUALSG_TERRAFORM_APPLY=1 to use a real account)",
            terraform.display()
        ));
    }
    Ok(terraform)
}

/// Whether `terraform init` in `dir` installed the stand-in, whose executable is a script
/// that says so in its first lines.
fn installed_stand_in(dir: &Path) -> bool {
    walkdir::WalkDir::new(dir.join(".terraform/providers"))
        .follow_links(true)
        .into_iter()
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("terraform-provider-aws")
        })
        .any(|entry| {
            let head: Vec<u8> = fs::read(entry.path())
                .unwrap_or_default()
                .into_iter()
                .take(200)
                .collect();
            text(&head).contains("Stand-in hashicorp/aws")
        })
}
