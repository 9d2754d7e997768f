//! `mutualsg generate`: writes every generated file that is out of date and deletes stale
//! ones. Also the steps `check`, `diff` and `migrate` share with it: reading `--state`, and
//! printing an [`Outcome`] with the exit status it earns.

use std::path::PathBuf;

use crate::cli::{GenerateArgs, ReportFormat, StateArgs};
use crate::diagnostics::{Diagnostic, Problem};
use crate::generate::outcome::{Mode, Outcome};
use crate::state::State;

use super::context::{Context, ExitStatus};

pub fn run(args: &GenerateArgs, context: &Context) -> ExitStatus {
    let how = How {
        mode: Mode::Write,
        format: ReportFormat::Human,
        changes_fail: args.exit_code,
    };
    pipeline(&args.paths.paths, &args.state, how, context)
}

/// What a run of the pipeline does with out-of-date files, and how it reports them.
pub(super) struct How {
    pub mode: Mode,
    pub format: ReportFormat,
    /// Whether an out-of-date file fails the run (`check`, `generate --exit-code`).
    pub changes_fail: bool,
}

/// Runs the pipeline over `paths` (with the state, if one is given), prints, and returns
/// the exit status.
pub(super) fn pipeline(
    paths: &[PathBuf],
    state: &StateArgs,
    how: How,
    context: &Context,
) -> ExitStatus {
    let state = match read_state(state) {
        Ok(state) => state,
        Err(error) => {
            let colors = crate::report::Colors {
                stdout: false,
                stderr: context.colors.stderr,
            };
            let _ = crate::report::print_diagnostics(&[error], how.format, colors);
            return ExitStatus::Error;
        }
    };
    let outcome = crate::generate::run_with_state(paths, how.mode, state.as_ref());
    finish(&outcome, how, context)
}

/// Prints an outcome and returns its exit status: error over failure over success.
pub(super) fn finish(outcome: &Outcome, how: How, context: &Context) -> ExitStatus {
    // A closed pipe (`mutualsg diff | head`) is not worth a panic.
    let _ = crate::report::print(outcome, how.mode, how.format, context.colors);
    if outcome.errors() > 0 {
        ExitStatus::Error
    } else if how.changes_fail && !outcome.changes.is_empty() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// The state read from `--state`, if one is given; the error is a diagnostic at the file.
fn read_state(args: &StateArgs) -> Result<Option<State>, Diagnostic> {
    let Some(path) = &args.state else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|error| Diagnostic::file(Problem::ReadFailed(error.to_string()), path))?;
    State::from_json(&text)
        .map(Some)
        .map_err(|message| Diagnostic::file(Problem::BadState(message), path))
}
