//! SARIF 2.1.0, the format GitHub code scanning reads: one run, a rule per diagnostic code,
//! a result per diagnostic, locations relative to the git top level (the current directory
//! outside git), suppressions as SARIF suppressions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::paths::{git_top_level, percent_encode, relative};

use serde_json::{Value, json};

/// One result.
pub struct SarifResult {
    /// The diagnostic's code, `mutualsg::audit::open_egress`.
    pub rule: &'static str,
    /// `error`, `warning` or `note`.
    pub level: &'static str,
    pub message: String,
    /// The help text of this kind of result.
    pub help: Option<String>,
    /// The path as shown (relative to the current directory, or absolute).
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    /// `(kind, justification)`: `inSource` for a comment, `external` for a baseline.
    pub suppression: Option<(&'static str, String)>,
    /// A fingerprint that survives edits elsewhere, for code scanning to follow a result.
    pub fingerprint: Option<String>,
}

/// The SARIF log of `results`, paths relative to the git top level above `cwd`.
pub fn log(results: &[SarifResult], cwd: &Path) -> Value {
    let root = git_top_level(cwd).unwrap_or_else(|| cwd.to_path_buf());
    let mut rules: BTreeMap<&str, (&str, Option<&String>)> = BTreeMap::new();
    for result in results {
        let entry = rules.entry(result.rule).or_insert((result.level, None));
        if entry.1.is_none() {
            entry.1 = result.help.as_ref();
        }
        if rank(result.level) > rank(entry.0) {
            entry.0 = result.level;
        }
    }
    let index: BTreeMap<&str, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, rule)| (*rule, i))
        .collect();
    let rules: Vec<Value> = rules
        .iter()
        .map(|(id, (level, help))| {
            let help = help.map_or_else(|| description(id).to_string(), |help| help.to_string());
            json!({
                "id": id,
                "name": id.rsplit("::").next().unwrap_or(id),
                "shortDescription": { "text": description(id) },
                "fullDescription": { "text": description(id) },
                "help": { "text": help },
                "defaultConfiguration": { "level": level },
            })
        })
        .collect();
    let results: Vec<Value> = results
        .iter()
        .map(|result| {
            let mut value = json!({
                "ruleId": result.rule,
                "ruleIndex": index[result.rule],
                "level": result.level,
                "message": { "text": result.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": uri(&relative(&cwd.join(&result.path), &root)),
                            "uriBaseId": "%SRCROOT%",
                        },
                        "region": {
                            "startLine": result.line.max(1),
                            "startColumn": result.column.max(1),
                        },
                    },
                }],
            });
            if let Some(fingerprint) = &result.fingerprint {
                value["partialFingerprints"] = json!({ "mutualsg/v1": fingerprint });
            }
            if let Some((kind, justification)) = &result.suppression {
                value["suppressions"] = json!([{
                    "kind": kind,
                    "status": "accepted",
                    "justification": justification,
                }]);
            }
            value
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "mutualsg",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn rank(level: &str) -> u8 {
    match level {
        "error" => 2,
        "warning" => 1,
        _ => 0,
    }
}

/// What a kind of result is about, in one line: an audit check's summary from the
/// catalogue (`generate`'s own open-egress warning shares its summary), else the few other
/// codes SARIF carries.
fn description(rule: &str) -> &'static str {
    let name = rule.rsplit("::").next().unwrap_or(rule);
    if let Some(check) = crate::inventory::checks::by_id(name) {
        return check.summary;
    }
    match name {
        "unmatched_suppression" => "A mutualsg:ignore comment that suppresses nothing",
        "stale_baseline" => "A baseline entry that matches no finding",
        _ => "A problem mutualsg reports",
    }
}

/// A relative URI reference: `/` separators, reserved and non-ASCII bytes percent-encoded.
fn uri(path: &Path) -> String {
    let text = path
        .components()
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    percent_encode(&text, b"/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(uri(Path::new("a b/main.tf")), "a%20b/main.tf");
        assert_eq!(uri(Path::new("é.tf")), "%C3%A9.tf");
    }
}
