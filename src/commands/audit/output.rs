//! `audit`'s findings in each format: people (miette reports with what was decided about
//! each), JSON, GitHub annotations and SARIF.

use std::fmt;
use std::io::{self, Write as _};
use std::path::Path;

use serde::Serialize;

use super::Decided;
use super::suppressions::Suppression;
use crate::cli::{AuditArgs, AuditFormat};
use crate::comment::{self, Links, ReviewComment, Table, cell, code};
use crate::diagnostics::Diagnostic;
use crate::inventory::checks::{FAMILY, Identity};
use crate::report::{self, Colors};
use crate::sarif;

/// A finding as printed for people: its status in the message, and never an error once
/// accepted.
struct Shown<'a> {
    finding: &'a Decided,
    strict: bool,
}

impl Shown<'_> {
    fn status(&self) -> Option<String> {
        let finding = self.finding;
        if let Some(suppression) = &finding.suppressed {
            let equivalent = if suppression.by.starts_with("mutualsg:") {
                String::new()
            } else {
                format!(", the equivalent of {}{}", FAMILY, finding.check())
            };
            Some(format!(
                "suppressed by `{}`{equivalent}: {}",
                suppression.by, suppression.reason
            ))
        } else if finding.baselined {
            Some("in the baseline".to_string())
        } else if finding.unverified() && !self.strict {
            Some("listed, not failing: pass --strict to fail on unverified findings".to_string())
        } else {
            None
        }
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let finding = self.finding;
        if finding.suppressed.is_some() {
            write!(f, "[suppressed] ")?;
        } else if finding.baselined {
            write!(f, "[baseline] ")?;
        }
        write!(f, "{}", finding.diagnostic())
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(if self.finding.fails(self.strict) {
            miette::Severity::Error
        } else {
            miette::Severity::Advice
        })
    }

    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        miette::Diagnostic::code(self.finding.diagnostic())
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let help = self.finding.diagnostic().problem.help();
        let text = match (self.status(), help) {
            (Some(status), Some(help)) => format!("{status}\n{help}"),
            (Some(status), None) => status,
            (None, Some(help)) => help,
            (None, None) => return None,
        };
        Some(Box::new(text))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        miette::Diagnostic::source_code(self.finding.diagnostic())
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        miette::Diagnostic::labels(self.finding.diagnostic())
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        miette::Diagnostic::related(self.finding.diagnostic())
    }
}

/// A finding for machines: the fields `check` prints, and what was decided about it.
#[derive(Serialize)]
struct JsonFinding {
    #[serde(flatten)]
    problem: report::ProblemRecord,
    /// The check without its family: `open_egress`.
    check: &'static str,
    /// `error` (fails the run) or `note` (unverified: listed, failing only with --strict).
    level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<Suppression>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    baseline: bool,
    fingerprint: Identity,
}

pub(super) fn print(
    findings: &[Decided],
    errors: &[Diagnostic],
    warnings: &[Diagnostic],
    options: &AuditArgs,
    cwd: &Path,
    colors: Colors,
    summary: &str,
) -> io::Result<()> {
    let strict = options.strict;
    match options.format {
        AuditFormat::Markdown => {
            let text = markdown(
                findings,
                errors,
                warnings,
                options,
                summary,
                &Links::from_env(cwd),
            );
            io::stdout().lock().write_all(text.as_bytes())?;
        }
        AuditFormat::Human => {
            let shown: Vec<Shown> = findings
                .iter()
                .map(|finding| Shown { finding, strict })
                .collect();
            let reports = errors
                .iter()
                .map(|d| d as &(dyn miette::Diagnostic + Sync))
                .chain(shown.iter().map(|d| d as &(dyn miette::Diagnostic + Sync)))
                .chain(
                    warnings
                        .iter()
                        .map(|d| d as &(dyn miette::Diagnostic + Sync)),
                );
            report::write_reports(&mut io::stderr().lock(), reports, colors.stderr)?;
        }
        AuditFormat::Json => {
            let mut out: Vec<serde_json::Value> = Vec::new();
            for diagnostic in errors {
                out.push(serde_json::to_value(report::diagnostic_problem(
                    diagnostic,
                ))?);
            }
            for finding in findings {
                let problem = report::diagnostic_problem(finding.diagnostic());
                out.push(serde_json::to_value(JsonFinding {
                    problem,
                    check: finding.check(),
                    level: finding.level(strict),
                    suppressed: finding.suppressed.clone(),
                    baseline: finding.baselined,
                    fingerprint: finding.identity().clone(),
                })?);
            }
            for diagnostic in warnings {
                out.push(serde_json::to_value(report::diagnostic_problem(
                    diagnostic,
                ))?);
            }
            report::write_json(&mut io::stdout().lock(), &out)?;
        }
        AuditFormat::Github => {
            let mut stdout = io::stdout().lock();
            for diagnostic in errors {
                let problem = report::diagnostic_problem(diagnostic);
                report::write_annotation(&mut stdout, &problem, "error")?;
            }
            for finding in findings {
                let mut problem = report::diagnostic_problem(finding.diagnostic());
                let level = if finding.fails(strict) {
                    "error"
                } else {
                    "notice"
                };
                if let Some(status) = (Shown { finding, strict }).status() {
                    problem.message = format!("{} ({status})", problem.message);
                }
                report::write_annotation(&mut stdout, &problem, level)?;
            }
            for diagnostic in warnings {
                let problem = report::diagnostic_problem(diagnostic);
                report::write_annotation(&mut stdout, &problem, "warning")?;
            }
        }
        AuditFormat::Sarif => {
            let mut results: Vec<sarif::SarifResult> =
                errors.iter().map(report::sarif_result).collect();
            for finding in findings {
                let mut result = report::sarif_result(finding.diagnostic());
                result.level = finding.level(strict);
                result.fingerprint = Some(finding.identity().fingerprint());
                if let Some(suppression) = &finding.suppressed {
                    result.suppression = Some((
                        "inSource",
                        format!("{}: {}", suppression.by, suppression.reason),
                    ));
                } else if finding.baselined {
                    result.suppression = Some(("external", "in the baseline".to_string()));
                }
                results.push(result);
            }
            results.extend(warnings.iter().map(report::sarif_result));
            report::write_sarif(&mut io::stdout().lock(), &results, cwd)?;
        }
    }
    Ok(())
}

/// The first line of `--format markdown`, by which a CI job finds its own comment again.
pub const MARKDOWN_MARKER: &str = "<!-- mutualsg audit -->";

/// A pull-request comment: the summary, then a table per status in the style of `graph
/// --since`'s (errors, failing, unverified, suppressed or in the baseline, warnings), every
/// row linking its rule; under GitHub's size limit.
fn markdown(
    findings: &[Decided],
    errors: &[Diagnostic],
    warnings: &[Diagnostic],
    options: &AuditArgs,
    summary: &str,
    links: &Links,
) -> String {
    let strict = options.strict;
    let heading = match &options.since {
        Some(rev) => format!(
            "### Security-group audit: new since `{}`",
            rev.replace('`', "'")
        ),
        None => "### Security-group audit".to_string(),
    };
    let place = |diagnostic: &Diagnostic| match diagnostic.line_column() {
        Some((line, _)) => links.place(&diagnostic.path, line, true),
        None => code(&diagnostic.path.display().to_string()),
    };
    let row = |id: &str, diagnostic: &Diagnostic, status: Option<String>| {
        let mut text = diagnostic.problem.to_string();
        if let Some(status) = status {
            text.push_str(&format!(" ({status})"));
        }
        format!(
            "| {} | {} | {} |",
            code(id),
            cell(&comment::clip(&text, 400)),
            place(diagnostic)
        )
    };
    let problems = |diagnostics: &[Diagnostic]| -> Vec<String> {
        diagnostics
            .iter()
            .map(|diagnostic| {
                let code_text = diagnostic.problem.code();
                row(
                    code_text.strip_prefix(FAMILY).unwrap_or(code_text),
                    diagnostic,
                    None,
                )
            })
            .collect()
    };
    let findings_where = |keep: &dyn Fn(&Decided) -> bool| -> Vec<String> {
        findings
            .iter()
            .filter(|finding| keep(finding))
            .map(|finding| {
                let status = (Shown { finding, strict }).status();
                row(finding.check(), finding.diagnostic(), status)
            })
            .collect()
    };
    let columns = vec!["check", "finding", "rule"];
    let table = |heading: &str, rows: Vec<String>| Table {
        heading: heading.to_string(),
        columns: columns.clone(),
        rows,
    };
    let quiet = |finding: &Decided| finding.suppressed.is_some() || finding.baselined;
    let tables = vec![
        table("#### ⚠ Errors: what could not be read", problems(errors)),
        table(
            "#### ⚠ Failing",
            findings_where(&|finding| finding.fails(strict)),
        ),
        table(
            "#### Unverified: listed, not failing (`--strict` fails them)",
            findings_where(&|finding| !finding.fails(strict) && !quiet(finding)),
        ),
        table(
            "#### Suppressed or in the baseline",
            findings_where(&|finding| !finding.fails(strict) && quiet(finding)),
        ),
        table("#### Warnings", problems(warnings)),
    ];
    let summary = summary.strip_prefix("mutualsg: ").unwrap_or(summary);
    ReviewComment {
        head: vec![
            MARKDOWN_MARKER.to_string(),
            heading,
            String::new(),
            format!("**{}.**", cell(summary)),
        ],
        tables,
        tail: None,
        see_all: "mutualsg audit --format json".to_string(),
    }
    .render(comment::BUDGET)
}
