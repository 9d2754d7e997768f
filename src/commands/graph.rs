//! `mutualsg graph`: the allowed flows as a diagram, so a reviewer sees who talks to whom
//! without reading every rule. Mermaid (GitHub and GitLab render it inline), Graphviz DOT,
//! or JSON; one node per group and per address, one edge per flow, one box per module.
//! Everything is sorted: the same tree always prints the same bytes.

use std::collections::HashSet;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::Serialize;

use crate::ExitStatus;
use crate::diagnostics::Diagnostic;
use crate::generate::connection::{CidrKind, Direction};
use crate::inventory::Origin;
use crate::inventory::flows::{self, Analysis, Endpoint, Flow, FlowFinding};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart (renders inline on GitHub and GitLab).
    Mermaid,
    /// Graphviz DOT (`mutualsg graph --format dot | dot -Tsvg > flows.svg`).
    Dot,
    /// Nodes and edges with their attributes, rules and findings.
    Json,
}

/// What the styles mean; Mermaid shows it as the chart's title, DOT below the graph.
const LEGEND: &str =
    "solid: generated from mutual_rules · dashed: hand-written · red: finding (mutualsg audit)";

/// The colour of findings, readable on light and dark backgrounds.
const FINDING_COLOR: &str = "#d32f2f";

/// Prints the graph of every module under `paths` to stdout, errors to stderr. Modules with
/// errors are left out of the graph; the run then exits 2.
pub fn main(paths: &[PathBuf], format: GraphFormat, cwd: &Path, color: bool) -> ExitStatus {
    let (analyses, errors) = flows::analyse_paths(paths, cwd);
    let drawing = Drawing::new(&analyses);
    let text = match format {
        GraphFormat::Mermaid => drawing.mermaid(),
        GraphFormat::Dot => drawing.dot(),
        GraphFormat::Json => drawing.json(),
    };
    // A closed pipe (`mutualsg graph | head`) is not worth a panic.
    let _ = io::stdout().lock().write_all(text.as_bytes());
    let colors = crate::report::Colors {
        stdout: false,
        stderr: color,
    };
    let _ = crate::report::print_diagnostics(&errors, crate::report::Format::Human, colors);
    if errors.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    }
}

/// The graph, laid out once for every format: ids assigned, labels written.
struct Drawing<'a> {
    modules: Vec<ModuleDrawing<'a>>,
}

struct ModuleDrawing<'a> {
    analysis: &'a Analysis,
    /// `m1`, `m2`, ... in path order.
    id: String,
    dir: String,
    nodes: Vec<Node>,
    edges: Vec<Edge<'a>>,
}

struct Node {
    id: String,
    endpoint: Endpoint,
    label: String,
    /// Findings about the group itself (inline and separate rules mixed).
    findings: Vec<Diagnostic>,
}

impl Node {
    fn is_address(&self) -> bool {
        matches!(self.endpoint, Endpoint::Address { .. })
    }
}

struct Edge<'a> {
    source: String,
    target: String,
    flow: &'a Flow,
    /// The traffic, `(count/for_each)` for repeated rules, and the finding in a few words.
    label: String,
    finding: Option<Diagnostic>,
}

impl<'a> Drawing<'a> {
    /// Modules with neither groups nor rules (a directory of variables) get no box.
    fn new(analyses: &'a [Analysis]) -> Self {
        let mut ids = Ids::default();
        let modules = analyses
            .iter()
            .filter(|analysis| !analysis.endpoints().is_empty())
            .enumerate()
            .map(|(index, analysis)| {
                ModuleDrawing::new(analysis, format!("m{}", index + 1), &mut ids)
            })
            .collect();
        Drawing { modules }
    }

    fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.modules.iter().flat_map(|module| &module.nodes)
    }

    fn edges(&self) -> impl Iterator<Item = &Edge<'a>> {
        self.modules.iter().flat_map(|module| &module.edges)
    }

    fn mermaid(&self) -> String {
        // The front matter's title is the legend: GitHub, GitLab and mermaid-cli show it.
        let mut lines = vec![
            "---".to_string(),
            format!("title: \"{LEGEND}\""),
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
            let arrow = if edge.flow.generated { "-->" } else { "-.->" };
            let label = mermaid_text(&edge.label);
            lines.push(format!(
                "  {} {arrow}|\"{label}\"| {}",
                edge.source, edge.target
            ));
        }
        // Mermaid styles an edge by its position in the chart.
        let findings: Vec<String> = self
            .edges()
            .enumerate()
            .filter(|(_, edge)| edge.finding.is_some())
            .map(|(index, _)| index.to_string())
            .collect();
        if !findings.is_empty() {
            lines.push(format!(
                "  linkStyle {} stroke:{FINDING_COLOR},stroke-width:2px,color:{FINDING_COLOR}",
                findings.join(",")
            ));
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

    fn node_ids(&self, keep: impl Fn(&Node) -> bool) -> Vec<&str> {
        self.nodes()
            .filter(|node| keep(node))
            .map(|node| node.id.as_str())
            .collect()
    }

    fn dot(&self) -> String {
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
            if !edge.flow.generated {
                attributes.push("style=dashed".into());
            }
            if edge.finding.is_some() {
                attributes.push(finding_style.clone());
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
        lines.push(format!("  label={};", dot_string(LEGEND)));
        lines.push("}".to_string());
        lines.join("\n") + "\n"
    }

    fn json(&self) -> String {
        let graph = JsonGraph {
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
        };
        let mut text = serde_json::to_string_pretty(&graph).unwrap_or_default();
        text.push('\n');
        text
    }
}

impl<'a> ModuleDrawing<'a> {
    fn new(analysis: &'a Analysis, id: String, ids: &mut Ids) -> Self {
        let nodes: Vec<Node> = analysis
            .endpoints()
            .into_iter()
            .map(|endpoint| Node {
                id: ids.fresh(&id, &endpoint),
                label: endpoint.label(),
                findings: group_findings(analysis, &endpoint),
                endpoint,
            })
            .collect();
        let id_of = |endpoint: &Endpoint| {
            nodes
                .iter()
                .find(|node| node.endpoint == *endpoint)
                .map(|node| node.id.clone())
                .unwrap_or_default()
        };
        let edges = analysis
            .flows
            .iter()
            .map(|flow| Edge {
                source: id_of(&flow.source),
                target: id_of(&flow.target),
                flow,
                label: edge_label(flow),
                finding: analysis.flow_finding(flow),
            })
            .collect();
        ModuleDrawing {
            analysis,
            id,
            dir: analysis.dir.display().to_string(),
            nodes,
            edges,
        }
    }
}

/// The findings about a group itself: mixed rule management, attached to nothing.
fn group_findings(analysis: &Analysis, endpoint: &Endpoint) -> Vec<Diagnostic> {
    let mut findings: Vec<Diagnostic> = analysis
        .mixed
        .iter()
        .filter(|mixed| analysis.mixed_endpoint(mixed) == *endpoint)
        .map(|mixed| analysis.mixed_finding(mixed))
        .collect();
    findings.extend(
        analysis
            .model
            .groups
            .iter()
            .enumerate()
            .filter(|(_, group)| Endpoint::Group(format!("{}.id", group.address)) == *endpoint)
            .filter_map(|(index, _)| analysis.unattached_finding(index)),
    );
    findings
}

/// Node ids that every format accepts unquoted: the module's id, then the label's words
/// (`m1_web` for `aws_security_group.web`), made unique with a number.
#[derive(Default)]
struct Ids {
    used: HashSet<String>,
}

impl Ids {
    fn fresh(&mut self, module: &str, endpoint: &Endpoint) -> String {
        let label = endpoint.label();
        let words = label.strip_prefix("aws_security_group.").unwrap_or(&label);
        let mut base = format!("{module}_");
        for c in words.chars() {
            if c.is_ascii_alphanumeric() {
                base.push(c);
            } else if !base.ends_with('_') {
                base.push('_');
            }
        }
        let mut base = base.trim_end_matches('_').to_string();
        if base == module {
            // A label without a letter or digit: never the module's own id.
            base.push_str("_node");
        }
        let mut id = base.clone();
        let mut n = 1;
        while !self.used.insert(id.clone()) {
            n += 1;
            id = format!("{base}_{n}");
        }
        id
    }
}

fn kind_name(endpoint: &Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Group(_) => "security_group",
        Endpoint::Address {
            kind: CidrKind::Ipv4,
            ..
        } => "cidr_ipv4",
        Endpoint::Address {
            kind: CidrKind::Ipv6,
            ..
        } => "cidr_ipv6",
        Endpoint::Address {
            kind: CidrKind::PrefixList,
            ..
        } => "prefix_list",
    }
}

/// `443/tcp`, with `(count/for_each)` for repeated rules and the finding in a few words, so
/// the diagram says what is wrong without colour too.
fn edge_label(flow: &Flow) -> String {
    let mut label = flow.traffic.label();
    if flow.repeated {
        label.push_str(" (count/for_each)");
    }
    match &flow.finding {
        Some(FlowFinding::OpenEgress) => label.push_str(" ⚠ open egress"),
        Some(FlowFinding::OpenIngress(_)) => label.push_str(" ⚠ open ingress"),
        Some(FlowFinding::HalfOpen {
            missing,
            unverified,
        }) => {
            label.push_str(match missing {
                Direction::Ingress => " ⚠ no ingress",
                Direction::Egress => " ⚠ no egress",
            });
            if unverified.is_some() {
                label.push_str(" (unverified)");
            }
        }
        None => {}
    }
    label
}

/// Text inside a Mermaid `"..."` label: quotes and angle brackets as entities.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// A DOT double-quoted string.
fn dot_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    modules: Vec<&'a str>,
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge<'a>>,
}

#[derive(Serialize)]
struct JsonNode<'a> {
    id: &'a str,
    module: &'a str,
    /// `security_group`, `cidr_ipv4`, `cidr_ipv6` or `prefix_list`.
    kind: &'static str,
    label: &'a str,
    findings: Vec<JsonFinding>,
}

impl<'a> JsonNode<'a> {
    fn new(module: &'a ModuleDrawing, node: &'a Node) -> Self {
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
struct JsonEdge<'a> {
    source: &'a str,
    target: &'a str,
    module: &'a str,
    label: &'a str,
    protocol: &'a str,
    from_port: &'a str,
    to_port: &'a str,
    /// `generated` (from `mutual_rules`) or `hand_written`.
    origin: &'static str,
    repeated: bool,
    finding: Option<JsonFinding>,
    /// The rules that declare the flow: an egress rule, an ingress rule, or both.
    rules: Vec<JsonRule>,
}

impl<'a> JsonEdge<'a> {
    fn new(module: &'a ModuleDrawing, edge: &'a Edge) -> Self {
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
                .map(|&rule| JsonRule::new(module.analysis, rule))
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct JsonFinding {
    code: &'static str,
    message: String,
}

impl JsonFinding {
    fn new(diagnostic: &Diagnostic) -> Self {
        JsonFinding {
            code: diagnostic.problem.code(),
            message: diagnostic.problem.to_string(),
        }
    }
}

#[derive(Serialize)]
struct JsonRule {
    /// `generated`, `resource` or `inline`.
    origin: &'static str,
    /// The connection's name, the resource's address, or the group of an inline block.
    name: String,
    direction: String,
    path: String,
    line: usize,
}

impl JsonRule {
    fn new(analysis: &Analysis, index: usize) -> Self {
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
