//! The command line: flags in, an exit status out. Printing lives in [`crate::report`].

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::diagnostics::{Diagnostic, Problem};
use crate::report::{self, Colors, Format};
use crate::state::State;
use crate::{ExitStatus, Mode};

/// Expand `locals { mutual_rules = [...] }` into the egress and ingress security-group rules
/// each connection needs, in a generated `mutual_rules.gen.tf` beside it.
#[derive(Debug, Parser)]
#[command(name = "mutualsg", version, about, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to colour output.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write every generated file that is out of date, and delete stale ones (exit 0, or 2 on error).
    Generate(GenerateArgs),
    /// Write nothing; report every drifted or stale file with a diff (exit 0 clean, 1 drift, 2 error).
    Check(CheckArgs),
    /// Print the unified diff `generate` would apply (exit 0, or 2 on error).
    Diff(DiffArgs),
    /// Move a repo onto mutual_rules with moved/import/removed blocks, so Terraform destroys
    /// nothing: prints the diff (exit 0, or 2 on error); `--write` applies it.
    Migrate(MigrateArgs),
    /// Print the allowed flows between groups and addresses as a Mermaid, DOT, JSON or Markdown
    /// graph (exit 0, or 2 on error).
    Graph(GraphArgs),
    /// Report open egress and ingress, half-open rule pairs, groups managed both inline and
    /// by separate rules, and groups attached to nothing (exit 0 none failing, 1 findings
    /// that fail, 2 error).
    Audit(AuditArgs),
    /// Draft the mutual_rules an environment needs from its VPC Flow Logs, and report what
    /// would break once egress is closed (exit 0, 1 with --exit-code when something would
    /// break, 2 on error).
    Suggest(Box<crate::commands::suggest::SuggestArgs>),
    /// Print a shell completion script (e.g. `mutualsg completions bash > /etc/bash_completion.d/mutualsg`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

const LONG_ABOUT: &str = "\
Expand `locals { mutual_rules = [...] }` into the egress and ingress security-group rules each
connection needs, in a generated `mutual_rules.gen.tf` beside it.

Each connection (source_sg_id, target_sg_id, ports, protocol, description) becomes an egress
rule on the source group and an ingress rule on the target group. Resource names are stable:
from `name`, the map key, or the connection's content, never its position in the list.";

const AFTER_HELP: &str = "\
Examples:
  mutualsg generate                  write every out-of-date mutual_rules.gen.tf under .
  mutualsg check --format github     in CI: fail with annotations when a file drifted
  mutualsg diff modules/network      show what generate would change

Configuration: a .mutualsg.toml in the module directory or above may set
  style = \"aws_vpc_security_group_rule\"   (default: \"aws_security_group_rule\")

Exit status: 0 success, 1 drift (check; generate --exit-code), 2 error.";

#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("egress_proof").args(["without_flow_logs", "flow_logs", "flows_csv"]).multiple(false)
))]
pub struct MigrateArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    /// Apply the changes instead of printing them.
    #[arg(long)]
    pub write: bool,

    /// Write the egress half of each one-sided ingress rule whose peer is a security group
    /// (B admits A: the connection A -> B). Egress rules whose ingress half is missing are
    /// never completed: they are listed as half-open.
    #[arg(long)]
    pub add_egress: bool,

    /// Remove the open egress (to 0.0.0.0/0 or ::/0, all traffic or every port) of each
    /// group whose needed egress is now explicit; each group left open is listed with why.
    /// Needs the proof: --flow-logs (or --flows-csv) with --interfaces, or --without-flow-logs.
    #[arg(long, requires = "egress_proof")]
    pub close_egress: bool,

    /// Close egress on the rules alone, with no flow logs to prove that nothing else is sent.
    #[arg(long)]
    pub without_flow_logs: bool,

    /// With --close-egress: VPC Flow Logs (a file or a directory, read as `suggest` reads
    /// them; repeatable). A group closes only when nothing it sent would break; its
    /// destinations outside the VPC are drafted as connections.
    #[arg(long = "flow-logs", value_name = "FILE|DIR", requires_all = ["close_egress", "interfaces"])]
    pub flow_logs: Vec<PathBuf>,

    /// With --close-egress: the CSV result of `suggest --athena-sql`, instead of --flow-logs.
    #[arg(long, value_name = "FILE", requires_all = ["close_egress", "interfaces"])]
    pub flows_csv: Option<PathBuf>,

    /// `aws ec2 describe-network-interfaces` JSON (repeatable): whose addresses the flows
    /// are. A group is known by its `name`, or by its address in --state.
    #[arg(long, value_name = "FILE", requires = "close_egress")]
    pub interfaces: Vec<PathBuf>,

    /// `terraform show -json` output: ties group ids to Terraform addresses, for groups
    /// without a literal `name`.
    #[arg(long, value_name = "FILE", requires = "close_egress")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    /// Mermaid (renders inline on GitHub and GitLab), Graphviz DOT, JSON, or Markdown (a
    /// summary table and the Mermaid chart, to post as a pull-request comment).
    #[arg(long, value_enum, default_value_t = crate::commands::graph::GraphFormat::Mermaid)]
    pub format: crate::commands::graph::GraphFormat,

    /// Draw only what changed since this git revision (`origin/main`, a commit): flows
    /// added, removed, widened or narrowed, and the groups they touch. The revision is read
    /// from git's objects; the work tree is read as it is.
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,

    /// With --since: also draw the unchanged flows of the groups the change touches (grey).
    #[arg(long, requires = "since")]
    pub context: bool,

    /// Draw one group and every flow in and out of it: `aws_security_group.web`, or
    /// `DIR:aws_security_group.web` where several modules have one.
    #[arg(long, value_name = "ADDRESS")]
    pub focus: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    #[command(flatten)]
    pub state: StateArgs,

    /// How to report problems: for people, as JSON, or as GitHub Actions annotations.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    /// How to report findings: for people, as JSON, as GitHub Actions annotations, SARIF, or
    /// a pull-request comment in Markdown.
    #[arg(long, value_enum, default_value_t = crate::commands::audit::AuditFormat::Human)]
    pub format: crate::commands::audit::AuditFormat,

    /// Fail on unverified findings too (halves whose other side the tree cannot show).
    #[arg(long)]
    pub strict: bool,

    /// Fail only on findings this baseline does not record, and report its entries that
    /// match nothing any more.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record today's findings in FILE (exit 0 unless an error), for `--baseline`.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,

    /// Report only the findings that the change since this git revision introduces (a gate
    /// for a repository that cannot fix its past yet).
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    #[command(flatten)]
    pub state: StateArgs,

    /// Exit 1 when a file was created, changed or deleted (for pre-commit, which does not
    /// notice a new untracked file).
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Debug, clap::Args)]
pub struct StateArgs {
    /// The JSON of `terraform show -json` (the state), run where the module is applied: a
    /// `style` switch to the aws_vpc_* rules imports each rule by the sgr- id it holds.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

impl StateArgs {
    /// The state read from the file, if one is given; the error is a diagnostic at the file.
    fn read(&self) -> Result<Option<State>, Diagnostic> {
        let Some(path) = &self.state else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|error| Diagnostic::file(Problem::ReadFailed(error.to_string()), path))?;
        State::from_json(&text)
            .map(Some)
            .map_err(|message| Diagnostic::file(Problem::BadState(message), path))
    }
}

#[derive(Debug, clap::Args)]
pub struct PathArgs {
    /// Directories (walked recursively) or files (their module directory is processed).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Colour a stream only when it is a terminal and NO_COLOR is unset.
    Auto,
    Always,
    Never,
}

impl Color {
    fn enabled(self, is_terminal: bool) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// Parses arguments, runs, prints, and returns the exit status.
pub fn main() -> ExitStatus {
    let cli = Cli::parse();
    let cwd = crate::current_dir();
    let (mode, paths, format, changes_fail, state) = match cli.command {
        Command::Generate(args) => (
            Mode::Write,
            args.paths.paths,
            Format::Human,
            args.exit_code,
            args.state,
        ),
        Command::Check(args) => (Mode::Check, args.paths.paths, args.format, true, args.state),
        Command::Diff(args) => (
            Mode::Diff,
            args.paths.paths,
            Format::Human,
            false,
            args.state,
        ),
        Command::Migrate(args) => {
            use crate::commands::suggest::observed;
            let observed = if args.flow_logs.is_empty() && args.flows_csv.is_none() {
                None
            } else {
                let inputs = observed::Inputs {
                    flow_logs: args.flow_logs.clone(),
                    flows_csv: args.flows_csv.clone(),
                    interfaces: args.interfaces.clone(),
                    state: args.state.clone(),
                };
                match observed::read(&inputs) {
                    Ok(observed) => Some(observed),
                    Err(error) => {
                        let color = cli.color.enabled(io::stderr().is_terminal());
                        eprint!("{}", observed::render_error(&error, color));
                        return ExitStatus::Error;
                    }
                }
            };
            let outcome = crate::commands::migrate::run_migrate(
                &args.paths.paths,
                args.write,
                crate::commands::migrate::Options {
                    add_egress: args.add_egress,
                    close_egress: args.close_egress,
                    observed: observed.as_ref(),
                },
            );
            let mode = if args.write { Mode::Write } else { Mode::Diff };
            return finish(&outcome, mode, Format::Human, false, cli.color);
        }
        Command::Graph(args) => {
            let color = cli.color.enabled(io::stderr().is_terminal());
            // A path that does not exist stops the run before anything is drawn: an empty
            // chart beside the error would read as a tree without rules.
            let missing = crate::generate::discover::missing_paths(&args.paths.paths, &cwd);
            if !missing.is_empty() {
                let colors = Colors {
                    stdout: false,
                    stderr: color,
                };
                let _ = report::print_diagnostics(&missing, Format::Human, colors);
                return ExitStatus::Error;
            }
            let options = crate::commands::graph::GraphOptions {
                since: args.since,
                context: args.context,
                focus: args.focus,
            };
            return crate::commands::graph::main(
                &args.paths.paths,
                args.format,
                &options,
                &cwd,
                color,
            );
        }
        Command::Audit(args) => {
            let colors = Colors {
                stdout: cli.color.enabled(io::stdout().is_terminal()),
                stderr: cli.color.enabled(io::stderr().is_terminal()),
            };
            let options = crate::commands::audit::Options {
                format: args.format,
                strict: args.strict,
                baseline: args.baseline,
                write_baseline: args.write_baseline,
                since: args.since,
            };
            return crate::commands::audit::main(&args.paths.paths, &options, &cwd, colors);
        }
        Command::Suggest(args) => {
            let colors = Colors {
                stdout: cli.color.enabled(io::stdout().is_terminal()),
                stderr: cli.color.enabled(io::stderr().is_terminal()),
            };
            return crate::commands::suggest::main(&args, &cwd, colors);
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "mutualsg", &mut io::stdout());
            return ExitStatus::Success;
        }
    };
    let state = match state.read() {
        Ok(state) => state,
        Err(error) => {
            let colors = Colors {
                stdout: false,
                stderr: cli.color.enabled(io::stderr().is_terminal()),
            };
            let _ = report::print_diagnostics(&[error], format, colors);
            return ExitStatus::Error;
        }
    };
    let outcome = crate::generate::run_with_state(&paths, mode, state.as_ref());
    finish(&outcome, mode, format, changes_fail, cli.color)
}

/// Prints an outcome and returns its exit status.
fn finish(
    outcome: &crate::Outcome,
    mode: Mode,
    format: Format,
    changes_fail: bool,
    color: Color,
) -> ExitStatus {
    let colors = Colors {
        stdout: color.enabled(io::stdout().is_terminal()),
        stderr: color.enabled(io::stderr().is_terminal()),
    };
    // A closed pipe (`mutualsg diff | head`) is not worth a panic.
    let _ = report::print(outcome, mode, format, colors);
    outcome.status(changes_fail)
}
