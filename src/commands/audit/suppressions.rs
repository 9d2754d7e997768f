//! Suppression comments: `# mutualsg:ignore=CHECK[,CHECK] reason`, and the comments of
//! checkov (`checkov:skip=ID:reason`), tfsec (`tfsec:ignore:ID`) and trivy
//! (`trivy:ignore:ID`) for the findings their checks cover, on, directly above or inside
//! the rule, block or resource a finding points at.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use memchr::memmem::Finder;
use rayon::prelude::*;
use serde::Serialize;

use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::inventory::checks::{FAMILY, Finding, Scanner};
use crate::inventory::flows::Analysis;
use crate::syntax;

/// A comment that accepts a finding.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Suppression {
    /// The comment's directive: `mutualsg:ignore=open_egress`, `checkov:skip=CKV_AWS_382`,
    /// `tfsec:ignore:aws-ec2-no-public-egress-sgr`, `trivy:ignore:AVD-AWS-0104`.
    pub(super) by: String,
    pub(super) reason: String,
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

/// Each directive's prefix, its finder built once (a finding's file is searched once per
/// finding).
static DIRECTIVE_FINDERS: LazyLock<Vec<Finder<'static>>> = LazyLock::new(|| {
    PREFIXES
        .iter()
        .map(|(prefix, _)| Finder::new(prefix))
        .collect()
});

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

/// A `mutualsg:ignore` directive: its file's path and its start offset.
pub(super) type SuppressionKey = (PathBuf, usize);

/// The suppression comments of the files read, and which of them matched a finding.
pub(super) struct SuppressionComments {
    /// `mutualsg:ignore` directives, by file path and start offset.
    own: BTreeMap<SuppressionKey, (Arc<SourceFile>, Directive)>,
    used: HashSet<SuppressionKey>,
}

impl SuppressionComments {
    pub(super) fn scan(analyses: &[Analysis]) -> SuppressionComments {
        // Every file's text is searched: on every core.
        let finder = Finder::new("mutualsg:ignore");
        let own = analyses
            .par_iter()
            .flat_map_iter(|analysis| &analysis.model.files)
            .filter(|file| finder.find(file.file.text.as_bytes()).is_some())
            .flat_map_iter(|file| {
                let text = &file.file.text;
                let mut found = Vec::new();
                for comment in file.file.comments().iter() {
                    for directive in directives(&text[comment.span.clone()], comment.span.start) {
                        if directive.tool == Tool::Mutualsg {
                            found.push((
                                (file.file.path.clone(), directive.span.start),
                                (Arc::clone(&file.file), directive),
                            ));
                        }
                    }
                }
                found
            })
            .collect();
        SuppressionComments {
            own,
            used: HashSet::new(),
        }
    }

    /// The comment that accepts `finding`, if one does: a directive on, directly above or
    /// inside the rule, block or resource it points at; with its key when it is mutualsg's
    /// own, for [`SuppressionComments::mark_used`].
    pub(super) fn suppression(
        &self,
        finding: &Finding,
    ) -> Option<(Suppression, Option<SuppressionKey>)> {
        let (file, _) = finding.diagnostic.source.as_ref()?;
        let check = finding.check;
        let traffic = finding.traffic.as_ref();
        let comments = directive_comments(file)?;
        let mut found = Vec::new();
        for scope in &finding.scopes {
            found.extend(scope_directives(&file.text, comments, scope.clone()));
        }
        {
            for directive in found {
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
                let key = (directive.tool == Tool::Mutualsg)
                    .then(|| (file.path.clone(), directive.span.start));
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
                return Some((Suppression { by, reason }, key));
            }
        }
        None
    }

    /// Records that the `mutualsg:ignore` directive at `key` suppressed a finding.
    pub(super) fn mark_used(&mut self, key: SuppressionKey) {
        self.used.insert(key);
    }

    /// A warning per `mutualsg:ignore` comment that suppressed nothing.
    pub(super) fn unmatched(&self) -> Vec<Diagnostic> {
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

/// A file's comments as the parser reads them (none when the file does not parse: its error
/// is reported, and nothing in it is suppressed), where any directive could be among them:
/// most files hold none, and are not parsed again for their comments.
fn directive_comments(file: &SourceFile) -> Option<&syntax::Comments> {
    DIRECTIVE_FINDERS
        .iter()
        .any(|finder| finder.find(file.text.as_bytes()).is_some())
        .then(|| file.comments())
}

/// The directives of the comments directly above `scope`, on its first or last line, and
/// inside it: comments only, never text in a string.
fn scope_directives(
    text: &str,
    comments: &syntax::Comments,
    scope: Range<usize>,
) -> Vec<Directive> {
    let mut spans: Vec<Range<usize>> = comments
        .attached(scope.clone())
        .chain(comments.within(scope))
        .map(|comment| comment.span.clone())
        .collect();
    spans.sort_by_key(|span| span.start);
    spans.dedup();
    spans
        .into_iter()
        .flat_map(|span| directives(&text[span.clone()], span.start))
        .collect()
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
        let file = SourceFile::new("main.tf", text);
        let comments = directive_comments(&file).unwrap();
        let found: Vec<Vec<String>> = scope_directives(text, comments, start..end)
            .into_iter()
            .map(|directive| directive.ids)
            .collect();
        assert_eq!(found, [vec!["b".to_string()], vec!["C".to_string()]]);
    }

    /// A directive inside a string is text, not a comment: it suppresses nothing.
    #[test]
    fn a_directive_in_a_string_is_not_a_comment() {
        let text = "resource \"x\" \"y\" {\n  description = \"see https://wiki # mutualsg:ignore=open_egress for why\"\n}\n";
        let file = SourceFile::new("main.tf", text);
        let comments = directive_comments(&file).unwrap();
        let found = scope_directives(text, comments, 0..text.len() - 1);
        assert!(found.is_empty(), "{found:?}");
    }
}
