//! The command line: flags, and printing an [`Outcome`] (diffs to stdout, diagnostics and the
//! summary to stderr, so a diff can be piped).

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::output::ChangeKind;
use crate::{ExitStatus, Mode, Outcome};

/// Expand `locals { mutual_rules = [...] }` into the egress and ingress security-group rules
/// each connection needs, in a generated `mutual_rules.gen.tf` beside it.
#[derive(Debug, Parser)]
#[command(name = "mutualsg", version, about, long_about = None)]
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
    Check(PathArgs),
    /// Print the unified diff `generate` would apply (exit 0, or 2 on error).
    Diff(PathArgs),
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub paths: PathArgs,

    /// Exit 1 when a file was created, changed or deleted (for pre-commit, which does not
    /// notice a new untracked file).
    #[arg(long)]
    pub exit_code: bool,
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
    let (mode, paths, changes_fail) = match cli.command {
        Command::Generate(args) => (Mode::Write, args.paths.paths, args.exit_code),
        Command::Check(args) => (Mode::Check, args.paths, true),
        Command::Diff(args) => (Mode::Diff, args.paths, false),
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let outcome = crate::run(&paths, mode, &cwd);
    let stdout_color = cli.color.enabled(io::stdout().is_terminal());
    let stderr_color = cli.color.enabled(io::stderr().is_terminal());
    // A closed pipe (`mutualsg diff | head`) is not worth a panic.
    let _ = print_outcome(&outcome, mode, stdout_color, stderr_color);
    outcome.status(changes_fail)
}

fn print_outcome(
    outcome: &Outcome,
    mode: Mode,
    stdout_color: bool,
    stderr_color: bool,
) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    let mut stderr = io::stderr().lock();
    if mode != Mode::Write {
        for change in &outcome.changes {
            write_diff(&mut stdout, &change.diff(), stdout_color)?;
        }
    }
    stdout.flush()?;
    for change in &outcome.changes {
        let verb = match (mode, change.kind()) {
            (Mode::Write, ChangeKind::Create) => "created",
            (Mode::Write, ChangeKind::Update) => "updated",
            (Mode::Write, ChangeKind::Delete) => "deleted stale",
            (_, ChangeKind::Create) => "would create",
            (_, ChangeKind::Update) => "would update",
            (_, ChangeKind::Delete) => "would delete stale",
        };
        writeln!(stderr, "{verb} {}", change.path.display())?;
    }
    let handler = report_handler(stderr_color);
    for diagnostic in &outcome.diagnostics {
        let mut text = String::new();
        if handler.render_report(&mut text, diagnostic).is_ok() {
            write!(stderr, "{text}")?;
        }
    }
    writeln!(stderr, "{}", summary(outcome, mode))
}

fn summary(outcome: &Outcome, mode: Mode) -> String {
    let errors = outcome.diagnostics.len();
    let changed = outcome.changes.len();
    let modules = outcome.modules_with_rules;
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(format!("{errors} error{}", plural(errors)));
    } else if modules == 0 && changed == 0 {
        parts.push("no mutual_rules found".to_string());
    }
    if modules > 0 {
        parts.push(format!(
            "{modules} module{} with mutual_rules",
            plural(modules)
        ));
    }
    if changed > 0 || (errors == 0 && modules > 0) {
        parts.push(match mode {
            Mode::Write if changed == 0 => "nothing to write".to_string(),
            Mode::Write => format!("{changed} file{} written or deleted", plural(changed)),
            _ if changed == 0 => "all generated files up to date".to_string(),
            _ => format!("{changed} file{} out of date", plural(changed)),
        });
    }
    format!("mutualsg: {}", parts.join(", "))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Renders diagnostics as miette's graphical report; without colour, plain Unicode.
fn report_handler(color: bool) -> GraphicalReportHandler {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme).with_width(100)
}

fn write_diff(out: &mut impl Write, diff: &str, color: bool) -> io::Result<()> {
    if !color {
        return out.write_all(diff.as_bytes());
    }
    for line in diff.split_inclusive('\n') {
        let (text, newline) = line
            .strip_suffix('\n')
            .map_or((line, ""), |text| (text, "\n"));
        let code = if text.starts_with("+++") || text.starts_with("---") {
            "1"
        } else if text.starts_with('+') {
            "32"
        } else if text.starts_with('-') {
            "31"
        } else if text.starts_with("@@") {
            "36"
        } else {
            ""
        };
        if code.is_empty() {
            write!(out, "{text}{newline}")?;
        } else {
            write!(out, "\x1b[{code}m{text}\x1b[0m{newline}")?;
        }
    }
    Ok(())
}
