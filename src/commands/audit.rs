//! `mutualsg audit`: what is wrong with a tree's security-group rules, generated or
//! hand-written: egress open to the internet, halves of a connection whose other half is
//! missing, and groups managed both inline and by separate rules. Each finding is a located
//! diagnostic; any finding fails the run (exit 1), so CI can hold a tree to it.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::ExitStatus;
use crate::commands::since::Sides;
use crate::diagnostics::{Diagnostic, Problem};
use crate::inventory::flows::{self, Analysis};
use crate::report::{self, Colors, Format};

/// Audits every module under `paths` and prints the findings: 0 none, 1 findings, 2 an
/// error (a module that cannot be read is not audited; the others are). With `since`, only
/// the findings that the change since that git revision introduces.
pub fn main(
    paths: &[PathBuf],
    format: Format,
    since: Option<&str>,
    cwd: &Path,
    colors: Colors,
) -> ExitStatus {
    let (analyses, errors, findings) = match since {
        None => {
            let (analyses, errors) = flows::analyse_paths(paths, cwd);
            let findings: Vec<Diagnostic> = analyses.iter().flat_map(Analysis::findings).collect();
            (analyses, errors, findings)
        }
        Some(rev) => match Sides::read(rev, paths, cwd) {
            Ok(sides) => {
                let findings = sides.new_findings();
                let mut errors = sides.errors_before;
                errors.extend(sides.errors_after);
                (sides.after, errors, findings)
            }
            Err(error) => (Vec::new(), vec![error], Vec::new()),
        },
    };
    let audited = analyses
        .iter()
        .filter(|analysis| !analysis.endpoints().is_empty())
        .count();
    let mut summary = summary(&findings, errors.len(), audited);
    if let Some(rev) = since {
        summary.push_str(&format!(" (findings new since {rev})"));
    }
    let status = if !errors.is_empty() {
        ExitStatus::Error
    } else if !findings.is_empty() {
        // Exit 1, as `check` exits on drift: the input is fine, the tree is not.
        ExitStatus::Drift
    } else {
        ExitStatus::Success
    };
    let mut diagnostics = errors;
    diagnostics.extend(findings);
    // A closed pipe is not worth a panic.
    let _ = report::print_diagnostics(&diagnostics, format, colors)
        .and_then(|()| writeln!(io::stderr(), "{summary}"));
    status
}

/// `mutualsg: 2 findings (1 open egress, 1 half-open pair), 3 modules audited`.
fn summary(findings: &[Diagnostic], errors: usize, audited: usize) -> String {
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(count(errors, "error", "errors"));
    }
    if findings.is_empty() {
        parts.push("no findings".to_string());
    } else {
        let kinds: Vec<String> = [
            ("open egress", "open egress"),
            ("half-open pair", "half-open pairs"),
            ("mixed management", "mixed management"),
        ]
        .iter()
        .filter_map(|&(one, many)| {
            let n = findings
                .iter()
                .filter(|finding| kind(&finding.problem) == one)
                .count();
            (n > 0).then(|| count(n, one, many))
        })
        .collect();
        parts.push(format!(
            "{} ({})",
            count(findings.len(), "finding", "findings"),
            kinds.join(", ")
        ));
    }
    parts.push(format!("{} audited", count(audited, "module", "modules")));
    format!("mutualsg: {}", parts.join(", "))
}

/// The finding's kind, as the summary counts it.
fn kind(problem: &Problem) -> &'static str {
    match problem {
        Problem::OpenEgressFinding { .. } => "open egress",
        Problem::HalfOpenPair { .. } => "half-open pair",
        Problem::MixedManagement { .. } => "mixed management",
        _ => "other",
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
