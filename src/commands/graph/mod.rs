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
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::ExitStatus;
use crate::diagnostics::Diagnostic;
use crate::inventory::compare::{self, Kind, Sides};
use crate::inventory::tree;

use select::{Drawing, Focus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart (renders inline on GitHub and GitLab).
    Mermaid,
    /// Graphviz DOT (`mutualsg graph --format dot | dot -Tsvg > flows.svg`).
    Dot,
    /// Nodes and edges with their attributes, rules and findings.
    Json,
    /// A summary table and the Mermaid chart, to post as a pull-request comment.
    Markdown,
}

/// What to draw.
#[derive(Debug, Clone, Default)]
pub struct GraphOptions {
    /// Draw only what changed since this git revision.
    pub since: Option<String>,
    /// With `since`: also the unchanged flows of the groups the change touches.
    pub context: bool,
    /// One group and every flow in and out of it: `ADDRESS` or `DIR:ADDRESS`.
    pub focus: Option<String>,
}

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
pub fn main(
    paths: &[PathBuf],
    format: GraphFormat,
    options: &GraphOptions,
    cwd: &Path,
    color: bool,
) -> ExitStatus {
    let colors = crate::report::Colors {
        stdout: false,
        stderr: color,
    };
    let print_errors = |errors: &[Diagnostic]| {
        let _ = crate::report::print_diagnostics(errors, crate::report::Format::Human, colors);
    };
    let (text, errors) = match render(paths, format, options, cwd) {
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
fn render(
    paths: &[PathBuf],
    format: GraphFormat,
    options: &GraphOptions,
    cwd: &Path,
) -> Result<(String, Vec<Diagnostic>), Diagnostic> {
    match &options.since {
        None => {
            let (analyses, errors) = tree::analyse_paths(paths, cwd);
            let focus = match &options.focus {
                Some(spec) => Some(Focus::resolve(spec, analyses.iter(), cwd)?),
                None => None,
            };
            let drawing = Drawing::whole(&analyses, focus.as_ref());
            Ok((drawing.text(format, cwd), errors))
        }
        Some(rev) => {
            let sides = Sides::read(rev, paths, cwd)?;
            let focus = match &options.focus {
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
                options.context,
                focus.as_ref(),
                &new_findings,
            );
            let mut errors = sides.errors_before.clone();
            errors.extend(sides.errors_after.iter().cloned());
            Ok((drawing.text(format, cwd), errors))
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
