//! `mutualsg audit`: what is wrong with a tree's security-group rules, generated or
//! hand-written: egress open to the internet, ingress open from it, halves of a connection
//! whose other half nothing in the tree declares, groups managed both inline and by separate
//! rules, groups attached to nothing. Each finding is a located diagnostic; a finding fails
//! the run (exit 1) unless it is unverified (the tree cannot tell), suppressed by a comment
//! with a reason, or recorded in the baseline.

mod baseline;
mod output;
mod suppressions;

use std::collections::BTreeMap;
use std::io::{self, Write};

use rayon::prelude::*;

use crate::cli::AuditArgs;
use crate::commands::context::{Context, ExitStatus};
use crate::diagnostics::Diagnostic;
use crate::inventory::checks::{self, Finding, Identity};
use crate::inventory::compare::Sides;
use crate::inventory::flows::Analysis;
use crate::inventory::tree;

use suppressions::{Suppression, SuppressionComments, SuppressionKey};

/// One finding and what was decided about it.
struct Decided {
    found: Finding,
    suppressed: Option<Suppression>,
    baselined: bool,
}

impl Decided {
    fn new(found: Finding) -> Decided {
        Decided {
            found,
            suppressed: None,
            baselined: false,
        }
    }

    fn check(&self) -> &'static str {
        self.found.check.id
    }

    fn diagnostic(&self) -> &Diagnostic {
        &self.found.diagnostic
    }

    fn identity(&self) -> &Identity {
        &self.found.identity
    }

    fn unverified(&self) -> bool {
        self.found.unverified
    }

    fn fails(&self, strict: bool) -> bool {
        self.suppressed.is_none() && !self.baselined && (strict || !self.unverified())
    }

    /// `error` (fails), `note` (unverified); suppressed and baselined findings keep the
    /// level they would have, and SARIF marks them suppressed.
    fn level(&self, strict: bool) -> &'static str {
        if self.unverified() && !strict {
            "note"
        } else {
            self.found.check.severity.level()
        }
    }
}

/// Audits every module under `paths` and prints the findings: 0 none that fail, 1 some,
/// 2 an error (a file that cannot be read is reported and costs only itself). With `since`,
/// only the findings that the change since that git revision introduces.
pub fn run(options: &AuditArgs, context: &Context) -> ExitStatus {
    let (paths, cwd) = (&options.paths.paths, context.cwd.as_path());
    // Each finding of the work tree, with whether it is new (all are, without `since`).
    let (analyses, mut errors, found) = match &options.since {
        None => {
            let (analyses, errors) = tree::analyse_paths(paths, cwd);
            let found = analyses
                .par_iter()
                .flat_map_iter(checks::findings)
                .map(|found| (found, true))
                .collect();
            (analyses, errors, found)
        }
        Some(rev) => match Sides::read(rev, paths, cwd) {
            Ok(sides) => {
                let found = sides.findings();
                let mut errors = sides.errors_before;
                errors.extend(sides.errors_after);
                (sides.after, errors, found)
            }
            Err(error) => (Vec::new(), vec![error], Vec::new()),
        },
    };
    // Every finding is matched with its comments, so that a comment whose finding is not new
    // still counts as used; only the new findings are reported.
    let mut comments = SuppressionComments::scan(&analyses);
    // Matched on every core; the comments that matched are then marked, in order.
    let decided: Vec<(Decided, bool, Option<SuppressionKey>)> = found
        .into_par_iter()
        .map(|(found, new)| {
            let mut finding = Decided::new(found);
            let matched = comments.suppression(&finding.found);
            let key = matched.and_then(|(suppression, key)| {
                finding.suppressed = Some(suppression);
                key
            });
            (finding, new, key)
        })
        .collect();
    let mut findings = Vec::with_capacity(decided.len());
    for (finding, new, key) in decided {
        if let Some(key) = key {
            comments.mark_used(key);
        }
        if new {
            findings.push(finding);
        }
    }
    sort(&mut findings);
    let mut warnings = comments.unmatched();
    if let Some(path) = &options.baseline {
        match baseline::read(path) {
            Ok(entries) => warnings.extend(baseline::apply(&mut findings, entries, path)),
            Err(error) => errors.push(error),
        }
    }
    let mut baseline_written = false;
    if let Some(path) = &options.write_baseline {
        match baseline::write(path, &findings) {
            Ok(()) => baseline_written = true,
            Err(error) => errors.push(error),
        }
    }
    let audited = analyses
        .iter()
        .filter(|analysis| analysis.has_endpoints())
        .count();
    let mut summary = summary(
        &findings,
        options,
        errors.len(),
        audited,
        &analyses,
        baseline_written,
    );
    if let Some(rev) = &options.since {
        summary.push_str(&format!(" (findings new since {rev})"));
    }
    let failing = findings.iter().any(|finding| finding.fails(options.strict));
    let status = if !errors.is_empty() {
        ExitStatus::Error
    } else if failing && options.write_baseline.is_none() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    // A closed pipe is not worth a panic.
    let _ = output::print(
        &findings,
        &errors,
        &warnings,
        options,
        cwd,
        context.colors,
        &summary,
    )
    .and_then(|()| writeln!(io::stderr(), "{summary}"));
    // The process ends here, and the system takes its memory back at once: freeing a large
    // tree's syntax node by node would cost a twentieth of the run.
    std::mem::forget(analyses);
    status
}

/// In the order of the files and lines they point at.
fn sort(findings: &mut [Decided]) {
    // Keys worked out on every core: a finding's line is counted through its file.
    findings.par_sort_by_cached_key(|finding| {
        (
            finding.diagnostic().path.clone(),
            finding.diagnostic().line_column(),
        )
    });
}
/// `mutualsg: 3 findings fail (1 open egress, 2 half-open pairs), 1 unverified, …`.
fn summary(
    findings: &[Decided],
    options: &AuditArgs,
    errors: usize,
    audited: usize,
    analyses: &[Analysis],
    baseline_written: bool,
) -> String {
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(count(errors, "error", "errors"));
    }
    let failing: Vec<&Decided> = findings
        .iter()
        .filter(|finding| finding.fails(options.strict))
        .collect();
    if failing.is_empty() {
        parts.push("no failing findings".to_string());
    } else {
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for finding in &failing {
            *kinds.entry(finding.check()).or_default() += 1;
        }
        let kinds: Vec<String> = kinds
            .iter()
            .map(|(check, n)| format!("{n} {check}"))
            .collect();
        parts.push(format!(
            "{} ({})",
            count(failing.len(), "finding fails", "findings fail"),
            kinds.join(", ")
        ));
    }
    let listed = |keep: &dyn Fn(&Decided) -> bool| findings.iter().filter(|f| keep(f)).count();
    let unverified = listed(&|f| f.unverified() && f.suppressed.is_none() && !f.baselined);
    if unverified > 0 && !options.strict {
        parts.push(format!("{unverified} unverified (listed, not failing)"));
    }
    let suppressed = listed(&|f| f.suppressed.is_some());
    if suppressed > 0 {
        parts.push(format!("{suppressed} suppressed"));
    }
    let baselined = listed(&|f| f.baselined);
    if baselined > 0 {
        parts.push(format!("{baselined} in the baseline"));
    }
    let unknown = analyses
        .iter()
        .flat_map(|analysis| &analysis.attachments)
        .filter(|attachment| matches!(attachment, crate::inventory::flows::Attachment::Unknown(_)))
        .count();
    if unknown > 0 {
        parts.push(format!(
            "{} whose attachment this tree cannot show (exported by an output or passed to a module outside it)",
            count(unknown, "group", "groups")
        ));
    }
    if let Some(path) = &options.write_baseline
        && baseline_written
    {
        parts.push(format!("baseline written to {}", path.display()));
    }
    parts.push(format!("{} audited", count(audited, "module", "modules")));
    format!("mutualsg: {}", parts.join(", "))
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
