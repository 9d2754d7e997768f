//! Prints an [`Outcome`]: diffs on stdout, diagnostics and a summary on stderr (so a diff can
//! be piped), or one machine-readable report on stdout.

use std::io::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme};
use rayon::prelude::*;
use serde::Serialize;

use crate::cli::ReportFormat;
use crate::diagnostics::Diagnostic;
use crate::generate::outcome::{Mode, Outcome};
use crate::generate::output::{Change, ChangeKind};

/// Whether each stream gets colour.
#[derive(Debug, Clone, Copy)]
pub struct Colors {
    pub stdout: bool,
    pub stderr: bool,
}

pub fn print(
    outcome: &Outcome,
    mode: Mode,
    format: ReportFormat,
    colors: Colors,
) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match format {
        ReportFormat::Human => {
            if mode != Mode::Write {
                for change in &outcome.changes {
                    write_diff(&mut stdout, &change.diff(), colors.stdout)?;
                }
            }
        }
        ReportFormat::Json => write_json(&mut stdout, &problems(outcome))?,
        ReportFormat::Github => write_github(&mut stdout, outcome)?,
        ReportFormat::Sarif => {
            let results: Vec<crate::sarif::SarifResult> = outcome
                .changes
                .iter()
                .map(change_result)
                .chain(outcome.diagnostics.iter().map(sarif_result))
                .collect();
            write_sarif(&mut stdout, &results, &crate::workspace::current_dir())?;
        }
    }
    stdout.flush()?;

    let mut stderr = io::stderr().lock();
    for change in &outcome.changes {
        writeln!(
            stderr,
            "{} {}",
            verb(mode, change.kind()),
            change.path.display()
        )?;
    }
    if format == ReportFormat::Human {
        write_reports(
            &mut stderr,
            outcome
                .diagnostics
                .iter()
                .map(|d| d as &(dyn miette::Diagnostic + Sync)),
            colors.stderr,
        )?;
    }
    writeln!(stderr, "{}", summary(outcome, mode))
}

fn verb(mode: Mode, kind: ChangeKind) -> &'static str {
    match (mode, kind) {
        (Mode::Write, ChangeKind::Create) => "created",
        (Mode::Write, ChangeKind::Update) => "updated",
        (Mode::Write, ChangeKind::Delete) => "deleted stale",
        (_, ChangeKind::Create) => "would create",
        (_, ChangeKind::Update) => "would update",
        (_, ChangeKind::Delete) => "would delete stale",
    }
}

fn summary(outcome: &Outcome, mode: Mode) -> String {
    let (errors, warnings) = (outcome.errors(), outcome.warnings());
    let changed = outcome.changes.len();
    let modules = outcome.modules_with_rules;
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(count(errors, "error"));
    } else if modules == 0 && changed == 0 {
        parts.push("no mutual_rules found".to_string());
    }
    if warnings > 0 {
        parts.push(count(warnings, "warning"));
    }
    if modules > 0 {
        parts.push(format!("{} with mutual_rules", count(modules, "module")));
    }
    if changed > 0 || (errors == 0 && modules > 0) {
        parts.push(match mode {
            Mode::Write if changed == 0 => "nothing to write".to_string(),
            Mode::Write => format!("{} written or deleted", count(changed, "file")),
            _ if changed == 0 => "all generated files up to date".to_string(),
            _ => format!("{} out of date", count(changed, "file")),
        });
    }
    format!("mutualsg: {}", parts.join(", "))
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Renders diagnostics as miette's graphical report; without colour, plain Unicode.
pub(crate) fn report_handler(color: bool) -> GraphicalReportHandler {
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
        // Colour only the text, never the newline, so `less -R` and terminals stay aligned.
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

/// One problem for machines: a drifted or stale file, or a diagnostic.
#[derive(Debug, Serialize)]
pub struct ProblemRecord {
    /// `drift`, `stale`, `error`, `warning`, or `finding` (from `audit`).
    pub kind: &'static str,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The diagnostic's code, e.g. `mutualsg::unknown_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// For a drifted or stale file, the diff `generate` would apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

pub fn problems(outcome: &Outcome) -> Vec<ProblemRecord> {
    let changes = outcome.changes.iter().map(change_problem);
    let diagnostics = outcome.diagnostics.iter().map(diagnostic_problem);
    changes.chain(diagnostics).collect()
}

fn change_problem(change: &Change) -> ProblemRecord {
    let (kind, message) = match change.kind() {
        ChangeKind::Delete => (
            "stale",
            "generated file is stale: its module no longer defines mutual_rules; run `mutualsg generate` to delete it",
        ),
        ChangeKind::Create => (
            "drift",
            "generated file is missing; run `mutualsg generate`",
        ),
        ChangeKind::Update => (
            "drift",
            "generated file is out of date; run `mutualsg generate`",
        ),
    };
    ProblemRecord {
        kind,
        path: change.path.display().to_string(),
        line: 1,
        column: 1,
        message: message.to_string(),
        code: None,
        help: None,
        diff: Some(change.diff()),
    }
}

pub(crate) fn diagnostic_problem(diagnostic: &Diagnostic) -> ProblemRecord {
    let (line, column) = diagnostic.line_column().unwrap_or((1, 1));
    ProblemRecord {
        kind: if diagnostic.problem.is_finding() {
            "finding"
        } else if diagnostic.problem.is_warning() {
            "warning"
        } else {
            "error"
        },
        path: diagnostic.path.display().to_string(),
        line,
        column,
        message: diagnostic.problem.to_string(),
        code: Some(diagnostic.problem.code()),
        help: diagnostic.problem.help(),
        diff: None,
    }
}

/// GitHub Actions workflow commands: an annotation per problem, then the diffs in a
/// collapsed group so the log still shows what to change.
fn write_github(out: &mut impl Write, outcome: &Outcome) -> io::Result<()> {
    for problem in problems(outcome) {
        let level = if problem.kind == "warning" {
            "warning"
        } else {
            "error"
        };
        write_annotation(out, &problem, level)?;
    }
    for change in &outcome.changes {
        writeln!(
            out,
            "::group::{}",
            escape_data(&change.path.display().to_string())
        )?;
        out.write_all(change.diff().as_bytes())?;
        writeln!(out, "::endgroup::")?;
    }
    Ok(())
}

/// One GitHub Actions annotation at `level`: `error` for what fails the run, `warning`,
/// `notice` for what is listed only.
pub(crate) fn write_annotation(
    out: &mut impl Write,
    problem: &ProblemRecord,
    level: &str,
) -> io::Result<()> {
    let title = problem.code.unwrap_or("mutualsg");
    let mut message = problem.message.clone();
    if let Some(help) = &problem.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    writeln!(
        out,
        "::{level} file={},line={},col={},title={}::{}",
        escape_property(&problem.path),
        problem.line,
        problem.column,
        escape_property(title),
        escape_data(&message)
    )
}

/// Prints diagnostics alone (`audit`'s findings, `graph`'s errors) in `format`: located
/// reports on stderr, or one JSON array or annotations on stdout.
pub fn print_diagnostics(
    diagnostics: &[Diagnostic],
    format: ReportFormat,
    colors: Colors,
) -> io::Result<()> {
    match format {
        ReportFormat::Human => write_reports(
            &mut io::stderr().lock(),
            diagnostics
                .iter()
                .map(|d| d as &(dyn miette::Diagnostic + Sync)),
            colors.stderr,
        )?,
        ReportFormat::Json => {
            let problems: Vec<ProblemRecord> = diagnostics.iter().map(diagnostic_problem).collect();
            write_json(&mut io::stdout().lock(), &problems)?;
        }
        ReportFormat::Github => {
            let mut stdout = io::stdout().lock();
            for diagnostic in diagnostics {
                let problem = diagnostic_problem(diagnostic);
                let level = if problem.kind == "warning" {
                    "warning"
                } else {
                    "error"
                };
                write_annotation(&mut stdout, &problem, level)?;
            }
        }
        ReportFormat::Sarif => {
            let results: Vec<crate::sarif::SarifResult> =
                diagnostics.iter().map(sarif_result).collect();
            write_sarif(
                &mut io::stdout().lock(),
                &results,
                &crate::workspace::current_dir(),
            )?;
        }
    }
    Ok(())
}

/// The emitters every command's output goes through, one per format.
///
/// People: each diagnostic as a located miette report (rendered on all cores: a large tree's
/// audit renders hundreds, each laid out and wrapped line by line).
pub(crate) fn write_reports<'a>(
    out: &mut impl Write,
    diagnostics: impl IntoIterator<Item = &'a (dyn miette::Diagnostic + Sync)>,
    color: bool,
) -> io::Result<()> {
    let diagnostics: Vec<_> = diagnostics.into_iter().collect();
    let rendered: Vec<String> = diagnostics
        .par_iter()
        .map_init(
            || report_handler(color),
            |handler, diagnostic| {
                let mut text = String::new();
                match handler.render_report(&mut text, *diagnostic) {
                    Ok(()) => text,
                    Err(_) => String::new(),
                }
            },
        )
        .collect();
    // One write: standard error is not buffered, and a write per report is a system call
    // per report.
    out.write_all(rendered.concat().as_bytes())
}

/// Machines: one pretty-printed JSON value and a newline.
pub(crate) fn write_json(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// Code scanning: the SARIF log of `results`.
pub(crate) fn write_sarif(
    out: &mut impl Write,
    results: &[crate::sarif::SarifResult],
    cwd: &std::path::Path,
) -> io::Result<()> {
    write_json(out, &crate::sarif::log(results, cwd))
}

/// A diagnostic as a SARIF result: errors and findings `error`, warnings `warning`.
pub(crate) fn sarif_result(diagnostic: &Diagnostic) -> crate::sarif::SarifResult {
    let (line, column) = diagnostic.line_column().unwrap_or((1, 1));
    crate::sarif::SarifResult {
        rule: diagnostic.problem.code(),
        level: if diagnostic.problem.is_note() {
            "note"
        } else if diagnostic.problem.is_warning() {
            "warning"
        } else {
            "error"
        },
        message: diagnostic.problem.to_string(),
        help: diagnostic.problem.help(),
        path: diagnostic.path.clone(),
        line,
        column,
        suppression: None,
        fingerprint: None,
    }
}

/// A drifted or stale generated file as a SARIF result.
fn change_result(change: &Change) -> crate::sarif::SarifResult {
    let problem = change_problem(change);
    crate::sarif::SarifResult {
        rule: match change.kind() {
            ChangeKind::Delete => "mutualsg::stale",
            _ => "mutualsg::drift",
        },
        level: "error",
        message: problem.message,
        help: Some("run `mutualsg generate`".to_string()),
        path: change.path.clone(),
        line: 1,
        column: 1,
        suppression: None,
        fingerprint: None,
    }
}

/// Escapes a workflow command's message, as the Actions toolkit does.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
