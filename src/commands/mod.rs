//! The commands, one module each and all of one shape: `run(&Args, &Context) -> ExitStatus`,
//! with the arguments' clap types in [`crate::cli`] and the shape in [`context`]. [`main`]
//! parses the command line and dispatches.
//!
//! `generate`, `check` and `diff` run the pipeline of [`crate::generate`]; `graph`, `audit`
//! and `migrate` read the tree's whole rule inventory ([`crate::inventory`]); `suggest`
//! reads flow logs beside it. Each command reads the files it alone handles (`audit`'s
//! baseline, `suggest`'s flow logs, `--state`) and prints through [`crate::report`].

pub mod audit;
pub mod check;
pub mod context;
pub mod diff;
pub mod generate;
pub mod graph;
pub mod migrate;
pub mod suggest;

use std::io::{self, IsTerminal};

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::report::Colors;
use context::{Context, ExitStatus};

/// Parses the arguments, runs the command, and returns its exit status.
pub fn main() -> ExitStatus {
    let cli = Cli::parse();
    let context = Context {
        cwd: crate::workspace::current_dir(),
        colors: Colors {
            stdout: cli.color.enabled(io::stdout().is_terminal()),
            stderr: cli.color.enabled(io::stderr().is_terminal()),
        },
    };
    match &cli.command {
        Command::Generate(args) => generate::run(args, &context),
        Command::Check(args) => check::run(args, &context),
        Command::Diff(args) => diff::run(args, &context),
        Command::Migrate(args) => migrate::run(args, &context),
        Command::Graph(args) => graph::run(args, &context),
        Command::Audit(args) => audit::run(args, &context),
        Command::Suggest(args) => suggest::run(args, &context),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "mutualsg", &mut io::stdout());
            ExitStatus::Success
        }
    }
}
