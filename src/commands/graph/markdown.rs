//! The Markdown renderer: a summary table and the Mermaid chart, to post as a pull-request
//! comment.

use super::MARKDOWN_MARKER;
use super::select::Drawing;
use super::select::{Edge, ModuleDrawing, edge_label};
use crate::inventory::compare::Kind;

impl Drawing<'_> {
    /// A pull-request comment: a marker line (so CI finds and updates its own comment), a
    /// heading, a table of what changed and of the findings the change introduces, then the
    /// Mermaid chart. Without `since`, the table lists every flow drawn.
    pub(super) fn markdown(&self) -> String {
        let mut out = vec![MARKDOWN_MARKER.to_string()];
        let edges: Vec<(&ModuleDrawing, &Edge)> = self
            .modules
            .iter()
            .flat_map(|module| module.edges.iter().map(move |edge| (module, edge)))
            .collect();
        let node_label = |module: &ModuleDrawing, id: &str| {
            module
                .nodes
                .iter()
                .find(|node| node.id == id)
                .map(|node| node.label.clone())
                .unwrap_or_default()
        };
        let row = |first: String, module: &ModuleDrawing, edge: &Edge, traffic: String| {
            format!(
                "| {first} | {} | {} | {} | {} |",
                markdown_code(&node_label(module, &edge.source)),
                markdown_code(&node_label(module, &edge.target)),
                markdown_cell(&traffic),
                markdown_code(&module.dir)
            )
        };
        match self.since {
            None => {
                out.push("### Security-group flows".to_string());
                out.push(String::new());
                if edges.is_empty() {
                    out.push("No flow between security groups or addresses.".to_string());
                    return out.join("\n") + "\n";
                }
                out.push("| | from | to | traffic | module |".to_string());
                out.push("|---|---|---|---|---|".to_string());
                for (module, edge) in &edges {
                    let first = if edge.finding.is_some() { "⚠" } else { "" };
                    out.push(row(first.to_string(), module, edge, edge.label.clone()));
                }
            }
            Some(rev) => {
                out.push(format!(
                    "### Security-group flows since `{}`",
                    rev.replace('`', "'")
                ));
                out.push(String::new());
                let changed: Vec<&(&ModuleDrawing, &Edge)> = edges
                    .iter()
                    .filter(|(_, edge)| {
                        edge.change
                            .as_ref()
                            .is_some_and(|(kind, ..)| *kind != Kind::Unchanged)
                    })
                    .collect();
                let mut counts: Vec<String> = [
                    Kind::Added,
                    Kind::Removed,
                    Kind::Widened,
                    Kind::Narrowed,
                    Kind::Changed,
                ]
                .iter()
                .filter_map(|&kind| {
                    let n = changed
                        .iter()
                        .filter(|(_, edge)| edge.change.as_ref().is_some_and(|c| c.0 == kind))
                        .count();
                    (n > 0).then(|| format!("{n} {}", kind.name()))
                })
                .collect();
                if counts.is_empty() {
                    counts.push("No flow changed".to_string());
                }
                let findings = match self.new_findings.len() {
                    0 => "no new finding".to_string(),
                    1 => "1 new finding".to_string(),
                    n => format!("{n} new findings"),
                };
                out.push(format!("{}; {findings}.", counts.join(", ")));
                if !changed.is_empty() {
                    out.push(String::new());
                    out.push("| | from | to | traffic | module |".to_string());
                    out.push("|---|---|---|---|---|".to_string());
                    for (module, edge) in &changed {
                        let Some((kind, before, after)) = &edge.change else {
                            continue;
                        };
                        let traffic = match kind {
                            Kind::Added | Kind::Removed => edge_label(edge.flow, edge.analysis),
                            _ if edge.label.contains(": ") => format!(
                                "{}: {} → {}",
                                edge.flow.traffic.label(),
                                before.join(", "),
                                after.join(", ")
                            ),
                            _ => format!("{} → {}", before.join(", "), after.join(", ")),
                        };
                        let mark = match kind {
                            Kind::Added => "🟢",
                            Kind::Removed => "🔴",
                            _ => "🟠",
                        };
                        out.push(row(
                            format!("{mark} {}", kind.name()),
                            module,
                            edge,
                            traffic,
                        ));
                    }
                }
                if !self.new_findings.is_empty() {
                    out.push(String::new());
                    out.push("| new finding | where |".to_string());
                    out.push("|---|---|".to_string());
                    for finding in self.new_findings {
                        let finding = &finding.diagnostic;
                        let place = match finding.line_column() {
                            Some((line, _)) => format!("{}:{line}", finding.path.display()),
                            None => finding.path.display().to_string(),
                        };
                        out.push(format!(
                            "| ⚠ {} | {} |",
                            markdown_cell(&finding.problem.to_string()),
                            markdown_code(&place)
                        ));
                    }
                }
                if self.modules.is_empty() {
                    return out.join("\n") + "\n";
                }
            }
        }
        out.push(String::new());
        out.push("```mermaid".to_string());
        out.push(self.mermaid().trim_end().to_string());
        out.push("```".to_string());
        out.join("\n") + "\n"
    }
}

/// Text in a Markdown table cell: a `|` would end the cell.
pub(super) fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Code in a Markdown table cell.
pub(super) fn markdown_code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    format!("`{}`", markdown_cell(&text.replace('`', "'")))
}
