//! The Graphviz DOT renderer.

use super::select::Drawing;
use super::{FINDING_COLOR, change_color};
use crate::inventory::compare::Kind;

impl Drawing<'_> {
    pub(super) fn dot(&self) -> String {
        let finding_style =
            format!("color=\"{FINDING_COLOR}\", fontcolor=\"{FINDING_COLOR}\", penwidth=2");
        let mut lines = vec![
            "digraph mutualsg {".to_string(),
            "  rankdir=LR;".to_string(),
            "  fontname=\"Helvetica\";".to_string(),
            "  node [fontname=\"Helvetica\", shape=box, style=rounded];".to_string(),
            "  edge [fontname=\"Helvetica\", fontsize=10];".to_string(),
        ];
        for module in &self.modules {
            lines.push(format!("  subgraph cluster_{} {{", module.id));
            lines.push(format!("    label={};", dot_string(&module.dir)));
            for node in &module.nodes {
                let mut attributes = vec![format!("label={}", dot_string(&node.label))];
                if node.is_address() {
                    attributes.push("shape=ellipse, style=filled, fillcolor=\"#eef6ff\"".into());
                }
                if !node.findings.is_empty() {
                    attributes.push(finding_style.clone());
                }
                lines.push(format!("    {} [{}];", node.id, attributes.join(", ")));
            }
            lines.push("  }".to_string());
        }
        for edge in self.edges() {
            let mut attributes = vec![format!("label={}", dot_string(&edge.label))];
            match &edge.change {
                None => {
                    if !edge.flow.generated {
                        attributes.push("style=dashed".into());
                    }
                    if edge.finding.is_some() {
                        attributes.push(finding_style.clone());
                    }
                }
                Some((kind, ..)) => {
                    let color = change_color(*kind);
                    let width = if *kind == Kind::Unchanged { 1 } else { 2 };
                    attributes.push(format!(
                        "color=\"{color}\", fontcolor=\"{color}\", penwidth={width}"
                    ));
                    if *kind == Kind::Removed {
                        attributes.push("style=dashed".into());
                    }
                }
            }
            lines.push(format!(
                "  {} -> {} [{}];",
                edge.source,
                edge.target,
                attributes.join(", ")
            ));
        }
        // Set last: a graph label set earlier would be inherited by every cluster.
        lines.push("  labelloc=b;".to_string());
        lines.push(format!("  label={};", dot_string(&self.legend())));
        lines.push("}".to_string());
        lines.join("\n") + "\n"
    }
}

/// A DOT double-quoted string.
pub(super) fn dot_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
