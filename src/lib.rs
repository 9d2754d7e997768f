//! mutualsg: expands `locals { mutual_rules = [...] }` into the egress and ingress
//! `aws_security_group_rule` pairs each connection needs, in `mutual_rules.gen.tf`.
//!
//! Three families, each below the next: [`syntax`] owns the HCL parser and its typed tree;
//! [`generate`] is the pipeline (discover → parse → validate → name → render → write, check
//! or diff); [`inventory`] is every rule of a tree, with the audit checks' catalogue
//! ([`inventory::checks`]) and the comparison of two trees ([`inventory::compare`]), which
//! the [`commands`] (`graph`, `audit`, `migrate`, `suggest`) read. [`diagnostics`] and
//! [`config`] serve all; [`cli`] and [`report`] are the face: argv, output formats, the exit
//! status.

pub mod cli;
pub mod commands;
pub mod comment;
pub mod config;
pub mod diagnostics;
pub mod eval;
pub mod generate;
pub mod inventory;
pub mod paths;
pub mod report;
pub mod sarif;
pub mod schema;
pub mod state;
pub mod syntax;
pub mod workspace;

use std::path::PathBuf;

use diagnostics::Diagnostic;
use generate::output::Change;

/// What a run does with out-of-date generated files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write them (and delete stale ones).
    Write,
    /// Report them, with a diff, and fail.
    Check,
    /// Print the diff `Write` would apply.
    Diff,
}

/// How a run ended, mapped to the process exit code in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// 0: everything up to date (or written).
    Success,
    /// 1: the input is fine and the tree is not: `check` found drifted or stale files
    /// (`generate --exit-code` changed some), `audit` failing findings, `suggest
    /// --exit-code` rules the logs would break.
    Failure,
    /// 2: an error in the input or on the filesystem.
    Error,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        }
    }
}

/// Everything a run found and did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Out-of-date generated files: written in `Write` mode, reported otherwise.
    pub changes: Vec<Change>,
    /// Errors and warnings, in the order found.
    pub diagnostics: Vec<Diagnostic>,
    /// Modules that define `mutual_rules`.
    pub modules_with_rules: usize,
}

impl Outcome {
    /// The worst thing that happened: error over drift over clean. `changes_fail`: whether an
    /// out-of-date file is a failure (`check`, `generate --exit-code`).
    pub fn status(&self, changes_fail: bool) -> ExitStatus {
        if self.errors() > 0 {
            ExitStatus::Error
        } else if changes_fail && !self.changes.is_empty() {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        }
    }

    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| !d.problem.is_warning())
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// The process's current directory (`.` if it cannot be read, e.g. after it was deleted).
pub fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}
