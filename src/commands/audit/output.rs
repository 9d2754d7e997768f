//! `audit`'s findings in each format: people (miette reports with what was decided about
//! each), JSON, GitHub annotations and SARIF.

use std::fmt;
use std::io;
use std::path::Path;

use serde::Serialize;

use super::suppressions::Suppression;
use super::{Decided, Options};
use crate::diagnostics::Diagnostic;
use crate::inventory::checks::{FAMILY, Identity};
use crate::report::{self, Colors, Format};
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
    options: &Options,
    cwd: &Path,
    colors: Colors,
) -> io::Result<()> {
    let strict = options.strict;
    match options.format {
        Format::Human => {
            let shown: Vec<Shown> = findings
                .iter()
                .map(|finding| Shown { finding, strict })
                .collect();
            let reports = errors
                .iter()
                .map(|d| d as &dyn miette::Diagnostic)
                .chain(shown.iter().map(|d| d as &dyn miette::Diagnostic))
                .chain(warnings.iter().map(|d| d as &dyn miette::Diagnostic));
            report::write_reports(&mut io::stderr().lock(), reports, colors.stderr)?;
        }
        Format::Json => {
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
        Format::Github => {
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
        Format::Sarif => {
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
