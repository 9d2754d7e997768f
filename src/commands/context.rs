//! What every command is handed besides its arguments ([`Context`]), and how every command
//! ends ([`ExitStatus`]): one shape, `run(&Args, &Context) -> ExitStatus`, for all of them.

use std::path::PathBuf;

use crate::report::Colors;

/// What a command runs in: the directory paths are shown relative to, and which streams
/// get colour (decided once, from `--color`, the terminal and `NO_COLOR`).
#[derive(Debug, Clone)]
pub struct Context {
    pub cwd: PathBuf,
    pub colors: Colors,
}

/// How a run ended, mapped to the process exit code in one place (as ruff's formatter).
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
