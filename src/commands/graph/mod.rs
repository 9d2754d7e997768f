//! `mutualsg graph`: the allowed flows as a diagram, so a reviewer sees who talks to whom
//! without reading every rule. Mermaid (GitHub and GitLab render it inline), Graphviz DOT,
//! JSON or Markdown; one node per group and per address, one edge per flow, one box per
//! module. Everything is sorted: the same tree always prints the same bytes.
//!
//! `select.rs` chooses what to draw (the whole tree, one group, a change) and lays it out
//! once; each renderer (`mermaid.rs`, `dot.rs`, `json.rs`, `markdown.rs`) only writes it.

mod dot;
mod json;
mod markdown;
mod mermaid;
mod select;

use std::io::{self, Write as _};
use std::path::Path;

use crate::cli::{GraphArgs, ReportFormat};
use crate::commands::context::{Context, ExitStatus};
use crate::diagnostics::Diagnostic;
use crate::inventory::compare::{self, Kind, Sides};
use crate::inventory::tree;

use select::{Drawing, Focus};

/// What the styles mean; Mermaid shows it as the chart's title, DOT below the graph.
const LEGEND: &str =
    "solid: generated from mutual_rules · dashed: hand-written · red: finding (mutualsg audit)";

/// The legend of a change's picture.
const CHANGE_LEGEND: &str = "green: added or fixed · red: removed (dashed) or broken · amber: widened, narrowed or changed (from → to) · grey: unchanged";

/// The colour of findings, readable on light and dark backgrounds.
const FINDING_COLOR: &str = "#d32f2f";

/// The colours of a change's edges, readable on light and dark backgrounds.
const ADDED_COLOR: &str = "#2e7d32";
const REMOVED_COLOR: &str = "#c62828";
const CHANGED_COLOR: &str = "#e68a00";
const UNCHANGED_COLOR: &str = "#9e9e9e";

/// The first line of `--format markdown`, by which a CI job finds its own comment again.
pub const MARKDOWN_MARKER: &str = "<!-- mutualsg graph -->";

/// Prints the graph of every module under `paths` to stdout, errors to stderr. Modules with
/// errors are left out of the graph; the run then exits 2.
pub fn run(args: &GraphArgs, context: &Context) -> ExitStatus {
    // The graph is never coloured; only the diagnostics on stderr are.
    let colors = crate::report::Colors {
        stdout: false,
        stderr: context.colors.stderr,
    };
    let print_errors = |errors: &[Diagnostic]| {
        let _ = crate::report::print_diagnostics(errors, ReportFormat::Human, colors);
    };
    // A path that does not exist stops the run before anything is drawn: an empty chart
    // beside the error would read as a tree without rules.
    let missing = crate::workspace::discover::missing_paths(&args.paths.paths, &context.cwd);
    if !missing.is_empty() {
        print_errors(&missing);
        return ExitStatus::Error;
    }
    let (text, errors) = match render(args, &context.cwd) {
        Ok(rendered) => rendered,
        Err(error) => {
            print_errors(&[error]);
            return ExitStatus::Error;
        }
    };
    // A closed pipe (`mutualsg graph | head`) is not worth a panic.
    let _ = io::stdout().lock().write_all(text.as_bytes());
    print_errors(&errors);
    if errors.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    }
}

/// The graph's text and the errors of the modules left out of it, or an error that stops
/// the run (a revision git cannot read, a focus that names no group).
fn render(args: &GraphArgs, cwd: &Path) -> Result<(String, Vec<Diagnostic>), Diagnostic> {
    let paths = &args.paths.paths;
    match &args.since {
        None => {
            let (analyses, errors) = tree::analyse_paths(paths, cwd);
            let focus = match &args.focus {
                Some(spec) => Some(Focus::resolve(spec, analyses.iter(), cwd)?),
                None => None,
            };
            let text = Drawing::whole(&analyses, focus.as_ref()).text(args.format, cwd);
            // The process ends once the text is written, and the system takes its memory
            // back at once: freeing a large tree's syntax node by node would cost a
            // twentieth of the run.
            std::mem::forget(analyses);
            Ok((text, errors))
        }
        Some(rev) => {
            let sides = Sides::read(rev, paths, cwd)?;
            let focus = match &args.focus {
                Some(spec) => Some(Focus::resolve(
                    spec,
                    sides.before.iter().chain(&sides.after),
                    cwd,
                )?),
                None => None,
            };
            let modules = compare::compare(&sides);
            let new_findings = sides.new_findings();
            let drawing = Drawing::change(
                &sides,
                &modules,
                args.context,
                focus.as_ref(),
                &new_findings,
            );
            let mut errors = sides.errors_before.clone();
            errors.extend(sides.errors_after.iter().cloned());
            Ok((drawing.text(args.format, cwd), errors))
        }
    }
}

fn change_color(kind: Kind) -> &'static str {
    match kind {
        Kind::Added => ADDED_COLOR,
        Kind::Removed => REMOVED_COLOR,
        Kind::Fixed => ADDED_COLOR,
        Kind::Broken => REMOVED_COLOR,
        Kind::Widened | Kind::Narrowed | Kind::Changed => CHANGED_COLOR,
        Kind::Unchanged => UNCHANGED_COLOR,
    }
}
