//! `mutualsg check`: writes nothing; reports every drifted or stale generated file with a
//! diff, and fails (exit 1) when there is one.

use crate::cli::CheckArgs;
use crate::generate::outcome::Mode;

use super::context::{Context, ExitStatus};
use super::generate::{How, pipeline};

pub fn run(args: &CheckArgs, context: &Context) -> ExitStatus {
    let how = How {
        mode: Mode::Check,
        format: args.format,
        changes_fail: true,
    };
    pipeline(&args.paths.paths, &args.state, how, context)
}
