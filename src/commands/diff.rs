//! `mutualsg diff`: prints the unified diff `generate` would apply, and writes nothing.

use crate::cli::{DiffArgs, ReportFormat};
use crate::generate::outcome::Mode;

use super::context::{Context, ExitStatus};
use super::generate::{How, pipeline};

pub fn run(args: &DiffArgs, context: &Context) -> ExitStatus {
    let how = How {
        mode: Mode::Diff,
        format: ReportFormat::Human,
        changes_fail: false,
    };
    pipeline(&args.paths.paths, &args.state, how, context)
}
