//! `mutualsg audit`: what is wrong with a tree's security-group rules, generated or
//! hand-written: egress open to the internet, ingress open from it, halves of a connection
//! whose other half nothing in the tree declares, groups managed both inline and by separate
//! rules, groups attached to nothing. Each finding is a located diagnostic; a finding fails
//! the run (exit 1) unless it is unverified (the tree cannot tell), suppressed by a comment
//! with a reason, or recorded in the baseline.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ExitStatus;
use crate::commands::since::Sides;
use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::inventory::checks::{self, FAMILY, Found, Identity, Scanner};
use crate::inventory::flows::{self, Analysis};
use crate::report::{self, Colors, Format};
use crate::sarif;

/// How `audit` was asked to run.
pub struct Options {
    pub format: Format,
    /// Unverified findings fail too.
    pub strict: bool,
    /// Findings recorded here do not fail; entries that match nothing are reported.
    pub baseline: Option<PathBuf>,
    /// Record today's findings here (and fail on none).
    pub write_baseline: Option<PathBuf>,
    /// Only the findings that the change since this git revision introduces.
    pub since: Option<String>,
}

/// One finding and what was decided about it.
struct Finding {
    found: Found,
    suppressed: Option<Suppression>,
    baselined: bool,
}

impl Finding {
    fn new(found: Found) -> Finding {
        Finding {
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

/// A comment that accepts a finding.
#[derive(Debug, Clone, Serialize)]
struct Suppression {
    /// The comment's directive: `mutualsg:ignore=open_egress`, `checkov:skip=CKV_AWS_382`,
    /// `tfsec:ignore:aws-ec2-no-public-egress-sgr`, `trivy:ignore:AVD-AWS-0104`.
    by: String,
    reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    /// `mutualsg audit --write-baseline`'s format: 1.
    version: u32,
    findings: Vec<Identity>,
}

/// Audits every module under `paths` and prints the findings: 0 none that fail, 1 some,
/// 2 an error (a file that cannot be read is reported and costs only itself). With `since`,
/// only the findings that the change since that git revision introduces.
pub fn main(paths: &[PathBuf], options: &Options, cwd: &Path, colors: Colors) -> ExitStatus {
    // Each finding of the work tree, with whether it is new (all are, without `since`).
    let (analyses, mut errors, found) = match &options.since {
        None => {
            let (analyses, errors) = flows::analyse_paths(paths, cwd);
            let found = analyses
                .iter()
                .flat_map(checks::findings)
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
    let mut comments = Comments::scan(&analyses);
    let mut findings = Vec::new();
    for (found, new) in found {
        let mut finding = Finding::new(found);
        finding.suppressed = comments.suppression(&finding);
        if new {
            findings.push(finding);
        }
    }
    sort(&mut findings);
    let mut warnings = comments.unmatched();
    if let Some(path) = &options.baseline {
        match read_baseline(path) {
            Ok(entries) => warnings.extend(apply_baseline(&mut findings, entries, path)),
            Err(error) => errors.push(error),
        }
    }
    let mut baseline_written = false;
    if let Some(path) = &options.write_baseline {
        match write_baseline(path, &findings) {
            Ok(()) => baseline_written = true,
            Err(error) => errors.push(error),
        }
    }
    let audited = analyses
        .iter()
        .filter(|analysis| !analysis.endpoints().is_empty())
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
        // Exit 1, as `check` exits on drift: the input is fine, the tree is not.
        ExitStatus::Drift
    } else {
        ExitStatus::Success
    };
    // A closed pipe is not worth a panic.
    let _ = print(&findings, &errors, &warnings, options, cwd, colors)
        .and_then(|()| writeln!(io::stderr(), "{summary}"));
    status
}

/// In the order of the files and lines they point at.
fn sort(findings: &mut [Finding]) {
    findings.sort_by_key(|finding| {
        (
            finding.diagnostic().path.clone(),
            finding.diagnostic().line_column(),
        )
    });
}

/// One suppression comment.
#[derive(Debug, Clone)]
struct Directive {
    tool: Tool,
    /// The checks or the other tool's ids it names.
    ids: Vec<String>,
    reason: String,
    /// The directive's text, as written.
    text: String,
    span: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Mutualsg,
    Checkov,
    Tfsec,
    Trivy,
}

const PREFIXES: [(&str, Tool); 4] = [
    ("mutualsg:ignore=", Tool::Mutualsg),
    ("checkov:skip=", Tool::Checkov),
    ("tfsec:ignore:", Tool::Tfsec),
    ("trivy:ignore:", Tool::Trivy),
];

/// The directives of one line of comment text (`line` starts at byte `offset` of the file).
fn directives(line: &str, offset: usize) -> Vec<Directive> {
    let Some(comment) = line.find('#').or_else(|| line.find("//")) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (prefix, tool) in PREFIXES {
        let mut from = comment;
        while let Some(at) = line[from..].find(prefix) {
            let start = from + at;
            let rest = &line[start + prefix.len()..];
            from = start + prefix.len();
            let (ids, reason, len) = match tool {
                Tool::Mutualsg => {
                    let ids_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    let reason = rest[ids_end..].trim();
                    let ids = rest[..ids_end]
                        .split(',')
                        .filter(|id| !id.is_empty())
                        .map(|id| id.strip_prefix(FAMILY).unwrap_or(id).to_string())
                        .collect();
                    (ids, reason.to_string(), rest.trim_end().len())
                }
                Tool::Checkov => {
                    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    let word = &rest[..end];
                    let (ids, reason) = word.split_once(':').unwrap_or((word, ""));
                    let reason = format!("{reason}{}", &rest[end..]).trim().to_string();
                    let ids = ids.split(',').map(str::to_string).collect();
                    (ids, reason, rest.trim_end().len())
                }
                Tool::Tfsec | Tool::Trivy => {
                    let end = rest
                        .find(|c: char| c.is_whitespace() || c == ':')
                        .unwrap_or(rest.len());
                    (
                        vec![rest[..end].to_string()],
                        scanner_reason(&rest[end..]),
                        rest.trim_end().len(),
                    )
                }
            };
            let span = offset + start..offset + start + prefix.len() + len;
            found.push(Directive {
                tool,
                ids,
                reason,
                text: line[start..start + prefix.len() + len].to_string(),
                span,
            });
        }
    }
    found
}

/// The reason of a tfsec or trivy directive: what follows its id (`- reason`, `:reason`, or
/// the words after it), without tfsec's expiry (`:exp:2026-01-01`).
fn scanner_reason(after_id: &str) -> String {
    let mut rest = after_id;
    if let Some(expiry) = rest.strip_prefix(":exp:") {
        rest = expiry.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    }
    rest.trim_start_matches(|c: char| c == ':' || c == '-' || c.is_whitespace())
        .trim_end()
        .to_string()
}

/// The suppression comments of the files read, and which of them matched a finding.
struct Comments {
    /// `mutualsg:ignore` directives, by file path and start offset.
    own: BTreeMap<(PathBuf, usize), (Arc<SourceFile>, Directive)>,
    used: HashSet<(PathBuf, usize)>,
}

impl Comments {
    fn scan(analyses: &[Analysis]) -> Comments {
        let mut own = BTreeMap::new();
        for analysis in analyses {
            for parsed in &analysis.model.files {
                let text = &parsed.file.text;
                if !text.contains("mutualsg:ignore") {
                    continue;
                }
                let mut offset = 0;
                for line in text.split_inclusive('\n') {
                    for directive in directives(line, offset) {
                        if directive.tool == Tool::Mutualsg {
                            own.insert(
                                (parsed.file.path.clone(), directive.span.start),
                                (Arc::clone(&parsed.file), directive),
                            );
                        }
                    }
                    offset += line.len();
                }
            }
        }
        Comments {
            own,
            used: HashSet::new(),
        }
    }

    /// The comment that accepts `finding`, if one does: a directive on, directly above or
    /// inside the rule, block or resource it points at.
    fn suppression(&mut self, finding: &Finding) -> Option<Suppression> {
        let (file, _) = finding.diagnostic().source.as_ref()?;
        let check = finding.found.check;
        let traffic = finding.found.traffic.as_ref();
        for scope in &finding.found.scopes {
            for directive in scope_directives(&file.text, scope.clone()) {
                // Another scanner's id suppresses only the findings its check covers.
                let matches = |id: &String| {
                    let scanner = match directive.tool {
                        Tool::Mutualsg => return id == check.id,
                        Tool::Checkov => Scanner::Checkov,
                        Tool::Tfsec => Scanner::Tfsec,
                        Tool::Trivy => Scanner::Trivy,
                    };
                    check.equivalents.iter().any(|equivalent| {
                        equivalent.scanner == scanner
                            && equivalent.id.eq_ignore_ascii_case(id)
                            && equivalent.covers.covers(traffic)
                    })
                };
                if !directive.ids.iter().any(matches) {
                    continue;
                }
                if directive.tool == Tool::Mutualsg {
                    self.used.insert((file.path.clone(), directive.span.start));
                }
                let reason = if directive.reason.is_empty() {
                    "no reason given".to_string()
                } else {
                    directive.reason.clone()
                };
                let by = match directive.tool {
                    Tool::Checkov => format!("checkov:skip={}", directive.ids.join(",")),
                    _ => directive
                        .text
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                };
                return Some(Suppression { by, reason });
            }
        }
        None
    }

    /// A warning per `mutualsg:ignore` comment that suppressed nothing.
    fn unmatched(&self) -> Vec<Diagnostic> {
        self.own
            .iter()
            .filter(|(key, _)| !self.used.contains(key))
            .map(|(_, (file, directive))| {
                Diagnostic::at(
                    Problem::UnmatchedSuppression {
                        directive: directive.text.clone(),
                    },
                    file,
                    directive.span.clone(),
                )
            })
            .collect()
    }
}

/// The directives of the comment lines directly above `scope` and of the lines it covers.
fn scope_directives(text: &str, scope: Range<usize>) -> Vec<Directive> {
    let start = scope.start.min(text.len());
    let end = scope.end.clamp(start, text.len());
    let first_line = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let last_line = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let mut found = Vec::new();
    // Upwards, while the lines are comments.
    let mut above = first_line;
    while above > 0 {
        let line_start = text[..above - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[line_start..above];
        let trimmed = line.trim_start();
        if !(trimmed.starts_with('#') || trimmed.starts_with("//")) {
            break;
        }
        found.extend(directives(line, line_start));
        above = line_start;
    }
    let mut offset = first_line;
    for line in text[first_line..last_line].split_inclusive('\n') {
        if line.contains("ignore") || line.contains("skip=") {
            found.extend(directives(line, offset));
        }
        offset += line.len();
    }
    found
}

fn read_baseline(path: &Path) -> Result<Vec<Identity>, Diagnostic> {
    let bad = |error: String| {
        Diagnostic::file(
            Problem::BadBaseline {
                path: path.display().to_string(),
                error,
            },
            path,
        )
    };
    let text = std::fs::read_to_string(path).map_err(|error| bad(error.to_string()))?;
    let file: BaselineFile = serde_json::from_str(&text).map_err(|error| bad(error.to_string()))?;
    if file.version != 1 {
        return Err(bad(format!("unknown version {}", file.version)));
    }
    Ok(file.findings)
}

/// Marks the findings the baseline records (each entry matches one finding), and returns a
/// warning per entry that matched none.
fn apply_baseline(
    findings: &mut [Finding],
    entries: Vec<Identity>,
    path: &Path,
) -> Vec<Diagnostic> {
    let mut left: HashMap<Identity, usize> = HashMap::new();
    for entry in entries {
        *left.entry(entry).or_default() += 1;
    }
    for finding in findings.iter_mut() {
        if finding.suppressed.is_some() {
            continue;
        }
        if let Some(count) = left.get_mut(finding.identity())
            && *count > 0
        {
            *count -= 1;
            finding.baselined = true;
        }
    }
    let mut stale: Vec<(Identity, usize)> = left.into_iter().filter(|(_, n)| *n > 0).collect();
    stale.sort();
    stale
        .into_iter()
        .flat_map(|(entry, count)| std::iter::repeat_n(entry, count))
        .map(|entry| {
            Diagnostic::file(
                Problem::StaleBaseline {
                    entry: entry.to_string(),
                },
                path,
            )
        })
        .collect()
}

/// Writes every finding no comment suppresses, sorted, so the file changes only when the
/// findings do.
fn write_baseline(path: &Path, findings: &[Finding]) -> Result<(), Diagnostic> {
    let mut entries: Vec<Identity> = findings
        .iter()
        .filter(|finding| finding.suppressed.is_none())
        .map(|finding| finding.identity().clone())
        .collect();
    entries.sort();
    let file = BaselineFile {
        version: 1,
        findings: entries,
    };
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    std::fs::write(path, text).map_err(|error| {
        Diagnostic::file(
            Problem::WriteFailed {
                path: path.display().to_string(),
                error: error.to_string(),
            },
            path,
        )
    })
}

/// A finding as printed for people: its status in the message, and never an error once
/// accepted.
struct Shown<'a> {
    finding: &'a Finding,
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
    problem: report::Problem,
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

fn print(
    findings: &[Finding],
    errors: &[Diagnostic],
    warnings: &[Diagnostic],
    options: &Options,
    cwd: &Path,
    colors: Colors,
) -> io::Result<()> {
    let strict = options.strict;
    match options.format {
        Format::Human => {
            report::print_diagnostics(errors, Format::Human, colors)?;
            let handler = report::report_handler(colors.stderr);
            let mut stderr = io::stderr().lock();
            for finding in findings {
                let mut text = String::new();
                let shown = Shown { finding, strict };
                if handler.render_report(&mut text, &shown).is_ok() {
                    write!(stderr, "{text}")?;
                }
            }
            drop(stderr);
            report::print_diagnostics(warnings, Format::Human, colors)?;
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
            let mut stdout = io::stdout().lock();
            serde_json::to_writer_pretty(&mut stdout, &out)?;
            writeln!(stdout)?;
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
            let mut stdout = io::stdout().lock();
            serde_json::to_writer_pretty(&mut stdout, &sarif::log(&results, cwd))?;
            writeln!(stdout)?;
        }
    }
    Ok(())
}

/// `mutualsg: 3 findings fail (1 open egress, 2 half-open pairs), 1 unverified, …`.
fn summary(
    findings: &[Finding],
    options: &Options,
    errors: usize,
    audited: usize,
    analyses: &[Analysis],
    baseline_written: bool,
) -> String {
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(count(errors, "error", "errors"));
    }
    let failing: Vec<&Finding> = findings
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
    let listed = |keep: &dyn Fn(&Finding) -> bool| findings.iter().filter(|f| keep(f)).count();
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
        .filter(|attachment| matches!(attachment, crate::inventory::tree::Attachment::Unknown(_)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_read_from_comments() {
        let found = directives(
            "  # mutualsg:ignore=open_egress,half_open_pair NAT needs it\n",
            0,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].ids, ["open_egress", "half_open_pair"]);
        assert_eq!(found[0].reason, "NAT needs it");
        let found = directives("#checkov:skip=CKV_AWS_382:egress to pypi", 10);
        assert_eq!(found[0].ids, ["CKV_AWS_382"]);
        assert_eq!(found[0].reason, "egress to pypi");
        assert_eq!(found[0].span, 11..50);
        let found = directives(
            "  #tfsec:ignore:aws-ec2-no-public-egress-sgr:exp:2026-01-01",
            0,
        );
        assert_eq!(found[0].ids, ["aws-ec2-no-public-egress-sgr"]);
        let found = directives("// trivy:ignore:AVD-AWS-0104", 0);
        assert_eq!(found[0].tool, Tool::Trivy);
        assert!(directives("description = \"mutualsg:ignore=x\"", 0).is_empty());
    }

    #[test]
    fn comments_directly_above_count_and_a_blank_line_stops_them() {
        let text = "# mutualsg:ignore=a far\n\n# mutualsg:ignore=b near\nresource \"x\" \"y\" {\n  # checkov:skip=C:in\n}\n";
        let start = text.find("resource").unwrap();
        let end = text.len() - 1;
        let found: Vec<Vec<String>> = scope_directives(text, start..end)
            .into_iter()
            .map(|directive| directive.ids)
            .collect();
        assert_eq!(found, [vec!["b".to_string()], vec!["C".to_string()]]);
    }
}
