//! The JSON renderer: nodes and edges with their attributes, rules and findings.

use super::select::Drawing;
use serde::Serialize;

use super::select::{Edge, ModuleDrawing, Node, kind_name};
use crate::inventory::Origin;
use crate::inventory::checks::Finding;
use crate::inventory::flows::Analysis;

impl Drawing<'_> {
    pub(super) fn json(&self) -> String {
        let graph = JsonGraph {
            since: self.since,
            modules: self
                .modules
                .iter()
                .map(|module| module.dir.as_str())
                .collect(),
            nodes: self
                .modules
                .iter()
                .flat_map(|module| module.nodes.iter().map(|node| JsonNode::new(module, node)))
                .collect(),
            edges: self
                .modules
                .iter()
                .flat_map(|module| module.edges.iter().map(|edge| JsonEdge::new(module, edge)))
                .collect(),
            new_findings: self
                .since
                .map(|_| self.new_findings.iter().map(JsonNewFinding::new).collect()),
        };
        let mut text = serde_json::to_string_pretty(&graph).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[derive(Serialize)]
pub(super) struct JsonGraph<'a> {
    /// The revision a change's picture compares with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) since: Option<&'a str>,
    pub(super) modules: Vec<&'a str>,
    pub(super) nodes: Vec<JsonNode<'a>>,
    pub(super) edges: Vec<JsonEdge<'a>>,
    /// With `since`: the findings the change introduces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) new_findings: Option<Vec<JsonNewFinding>>,
}

/// A finding the change introduces, where it is.
#[derive(Serialize)]
pub(super) struct JsonNewFinding {
    pub(super) code: &'static str,
    pub(super) message: String,
    pub(super) path: String,
    pub(super) line: Option<usize>,
}

impl JsonNewFinding {
    pub(super) fn new(finding: &Finding) -> Self {
        let diagnostic = &finding.diagnostic;
        JsonNewFinding {
            code: diagnostic.problem.code(),
            message: diagnostic.problem.to_string(),
            path: diagnostic.path.display().to_string(),
            line: diagnostic.line_column().map(|(line, _)| line),
        }
    }
}

#[derive(Serialize)]
pub(super) struct JsonNode<'a> {
    pub(super) id: &'a str,
    pub(super) module: &'a str,
    /// `security_group`, `cidr_ipv4`, `cidr_ipv6` or `prefix_list`.
    pub(super) kind: &'static str,
    pub(super) label: &'a str,
    pub(super) findings: Vec<JsonFinding>,
}

impl<'a> JsonNode<'a> {
    pub(super) fn new(module: &'a ModuleDrawing, node: &'a Node) -> Self {
        JsonNode {
            id: &node.id,
            module: &module.dir,
            kind: kind_name(&node.endpoint),
            label: &node.label,
            findings: node.findings.iter().map(JsonFinding::new).collect(),
        }
    }
}

#[derive(Serialize)]
pub(super) struct JsonEdge<'a> {
    pub(super) source: &'a str,
    pub(super) target: &'a str,
    pub(super) module: &'a str,
    pub(super) label: &'a str,
    pub(super) protocol: &'a str,
    pub(super) from_port: &'a str,
    pub(super) to_port: &'a str,
    /// `generated` (from `mutual_rules`) or `hand_written`.
    pub(super) origin: &'static str,
    pub(super) repeated: bool,
    pub(super) finding: Option<JsonFinding>,
    /// The rules that declare the flow: an egress rule, an ingress rule, or both (of the
    /// work tree, or of the revision for a removed flow).
    pub(super) rules: Vec<JsonRule>,
    /// With `since`: `added`, `removed`, `widened`, `narrowed`, `changed` or `unchanged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) change: Option<&'static str>,
    /// With `since`, for a widened, narrowed or changed flow: what was allowed (traffic, or
    /// the address at the far end) and what is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) before: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) after: Option<&'a [String]>,
}

impl<'a> JsonEdge<'a> {
    pub(super) fn new(module: &'a ModuleDrawing, edge: &'a Edge) -> Self {
        let rules = edge.flow.rules.iter();
        let traffic = &edge.flow.traffic;
        JsonEdge {
            source: &edge.source,
            target: &edge.target,
            module: &module.dir,
            label: &edge.label,
            protocol: &traffic.protocol,
            from_port: &traffic.from_port,
            to_port: &traffic.to_port,
            origin: if edge.flow.generated {
                "generated"
            } else {
                "hand_written"
            },
            repeated: edge.flow.repeated,
            finding: edge.finding.as_ref().map(JsonFinding::new),
            rules: rules
                .map(|&rule| JsonRule::new(edge.analysis, rule))
                .collect(),
            change: edge.change.as_ref().map(|(kind, ..)| kind.name()),
            before: edge
                .change
                .as_ref()
                .filter(|(_, before, _)| !before.is_empty())
                .map(|(_, before, _)| before.as_slice()),
            after: edge
                .change
                .as_ref()
                .filter(|(_, _, after)| !after.is_empty())
                .map(|(_, _, after)| after.as_slice()),
        }
    }
}

#[derive(Serialize)]
pub(super) struct JsonFinding {
    pub(super) code: &'static str,
    pub(super) message: String,
}

impl JsonFinding {
    pub(super) fn new(finding: &Finding) -> Self {
        let diagnostic = &finding.diagnostic;
        JsonFinding {
            code: diagnostic.problem.code(),
            message: diagnostic.problem.to_string(),
        }
    }
}

#[derive(Serialize)]
pub(super) struct JsonRule {
    /// `generated`, `resource` or `inline`.
    pub(super) origin: &'static str,
    /// The connection's name, the resource's address, or the group of an inline block.
    pub(super) name: String,
    pub(super) direction: String,
    pub(super) path: String,
    pub(super) line: usize,
}

impl JsonRule {
    pub(super) fn new(analysis: &Analysis, index: usize) -> Self {
        let rule = &analysis.model.rules[index];
        let (origin, name) = match &rule.origin {
            Origin::Generated { name } => ("generated", name.clone()),
            Origin::Resource { address } => ("resource", address.clone()),
            Origin::Inline { group } => ("inline", group.clone()),
        };
        JsonRule {
            origin,
            name,
            direction: rule.direction.to_string(),
            path: rule.file.path.display().to_string(),
            line: rule.file.line_column(rule.span.start).0,
        }
    }
}
