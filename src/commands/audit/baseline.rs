//! The baseline: the findings a team has accepted for now, by identity (module, check,
//! group, peer, traffic), so that only new ones fail.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Decided;
use crate::diagnostics::{Diagnostic, Problem};
use crate::inventory::checks::Identity;

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    /// `mutualsg audit --write-baseline`'s format: 1.
    version: u32,
    findings: Vec<Identity>,
}

pub(super) fn read(path: &Path) -> Result<Vec<Identity>, Diagnostic> {
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
pub(super) fn apply(
    findings: &mut [Decided],
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
pub(super) fn write(path: &Path, findings: &[Decided]) -> Result<(), Diagnostic> {
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
