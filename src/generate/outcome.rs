//! What a run of the pipeline was asked to do with out-of-date files ([`Mode`]) and what it
//! found and did ([`Outcome`]): the values `generate`, `check`, `diff` and `migrate` hand to
//! the report.

use crate::diagnostics::Diagnostic;

use super::output::Change;

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
