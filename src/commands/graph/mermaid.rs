//! The Mermaid renderer: a flowchart GitHub and GitLab render inline.

use super::select::Drawing;
use super::select::{Edge, Node};
use super::{
    ADDED_COLOR, CHANGED_COLOR, FINDING_COLOR, REMOVED_COLOR, UNCHANGED_COLOR, change_color,
};
use crate::inventory::compare::Kind;

impl Drawing<'_> {
    pub(super) fn mermaid(&self) -> String {
        // The front matter's title is the legend: GitHub, GitLab and mermaid-cli show it.
        let mut lines = vec![
            "---".to_string(),
            format!("title: \"{}\"", self.legend()),
            "---".to_string(),
            "flowchart LR".to_string(),
        ];
        for module in &self.modules {
            lines.push(format!(
                "  subgraph {}[\"{}\"]",
                module.id,
                mermaid_text(&module.dir)
            ));
            // Without it Mermaid lays a subgraph out top to bottom, whatever the chart says.
            lines.push("    direction LR".to_string());
            for node in &module.nodes {
                let label = mermaid_text(&node.label);
                let shape = if node.is_address() {
                    format!("([\"{label}\"])")
                } else {
                    format!("[\"{label}\"]")
                };
                lines.push(format!("    {}{shape}", node.id));
            }
            lines.push("  end".to_string());
        }
        for edge in self.edges() {
            let dashed = match &edge.change {
                Some((kind, ..)) => *kind == Kind::Removed,
                None => !edge.flow.generated,
            };
            let arrow = if dashed { "-.->" } else { "-->" };
            let label = mermaid_text(&edge.label);
            lines.push(format!(
                "  {} {arrow}|\"{label}\"| {}",
                edge.source, edge.target
            ));
        }
        // Mermaid styles an edge by its position in the chart.
        let positions = |keep: &dyn Fn(&Edge) -> bool| -> String {
            self.edges()
                .enumerate()
                .filter(|(_, edge)| keep(edge))
                .map(|(index, _)| index.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        if self.since.is_none() {
            let findings = positions(&|edge| edge.finding.is_some());
            if !findings.is_empty() {
                lines.push(format!(
                    "  linkStyle {findings} stroke:{FINDING_COLOR},stroke-width:2px,color:{FINDING_COLOR}"
                ));
            }
        } else {
            for color in [ADDED_COLOR, REMOVED_COLOR, CHANGED_COLOR, UNCHANGED_COLOR] {
                let edges = positions(&|edge| {
                    edge.change
                        .as_ref()
                        .is_some_and(|(kind, ..)| change_color(*kind) == color)
                });
                if !edges.is_empty() {
                    let width = if color == UNCHANGED_COLOR { 1 } else { 3 };
                    lines.push(format!(
                        "  linkStyle {edges} stroke:{color},stroke-width:{width}px,color:{color}"
                    ));
                }
            }
        }
        lines.push("  classDef address fill:#eef6ff,stroke:#5b8def".to_string());
        lines.push(format!(
            "  classDef finding stroke:{FINDING_COLOR},stroke-width:3px,color:{FINDING_COLOR}"
        ));
        let addresses = self.node_ids(Node::is_address);
        let findings = self.node_ids(|node| !node.findings.is_empty());
        for (class, ids) in [("address", addresses), ("finding", findings)] {
            if !ids.is_empty() {
                lines.push(format!("  class {} {class}", ids.join(",")));
            }
        }
        lines.join("\n") + "\n"
    }
}

/// Text inside a Mermaid `"..."` label: quotes and angle brackets as entities.
pub(super) fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}
