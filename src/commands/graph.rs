//! `mutualsg graph`: the allowed flows as a diagram, so a reviewer sees who talks to whom
//! without reading every rule. Mermaid (GitHub and GitLab render it inline), Graphviz DOT,
//! or JSON; one node per group and per address, one edge per flow, one box per module.
//! Everything is sorted: the same tree always prints the same bytes.

use std::collections::{BTreeSet, HashSet};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::Serialize;

use crate::ExitStatus;
use crate::commands::since::{self, Delta, Kind, ModuleDelta, Sides};
use crate::diagnostics::Diagnostic;
use crate::generate::connection::CidrKind;
use crate::inventory::Origin;
use crate::inventory::checks::{self, Found, Subject};
use crate::inventory::flows::{self, Analysis, Endpoint, Flow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart (renders inline on GitHub and GitLab).
    Mermaid,
    /// Graphviz DOT (`mutualsg graph --format dot | dot -Tsvg > flows.svg`).
    Dot,
    /// Nodes and edges with their attributes, rules and findings.
    Json,
    /// A summary table and the Mermaid chart, to post as a pull-request comment.
    Markdown,
}

/// What to draw.
#[derive(Debug, Clone, Default)]
pub struct GraphOptions {
    /// Draw only what changed since this git revision.
    pub since: Option<String>,
    /// With `since`: also the unchanged flows of the groups the change touches.
    pub context: bool,
    /// One group and every flow in and out of it: `ADDRESS` or `DIR:ADDRESS`.
    pub focus: Option<String>,
}

/// What the styles mean; Mermaid shows it as the chart's title, DOT below the graph.
const LEGEND: &str =
    "solid: generated from mutual_rules · dashed: hand-written · red: finding (mutualsg audit)";

/// The legend of a change's picture.
const CHANGE_LEGEND: &str = "green: added · red, dashed: removed · amber: widened, narrowed or changed (from → to) · grey: unchanged";

/// The colour of findings, readable on light and dark backgrounds.
const FINDING_COLOR: &str = "#d32f2f";

/// The colours of a change's edges, readable on light and dark backgrounds.
const ADDED_COLOR: &str = "#2e7d32";
const REMOVED_COLOR: &str = "#c62828";
const CHANGED_COLOR: &str = "#e68a00";
const UNCHANGED_COLOR: &str = "#9e9e9e";

/// The first line of `--format markdown`, by which a CI job finds its own comment again.
pub const MARKDOWN_MARKER: &str = "<!-- mutualsg graph -->";

/// Prints the graph of every module under `paths` to stdout, errors to stderr. Modules with
/// errors are left out of the graph; the run then exits 2.
pub fn main(
    paths: &[PathBuf],
    format: GraphFormat,
    options: &GraphOptions,
    cwd: &Path,
    color: bool,
) -> ExitStatus {
    let colors = crate::report::Colors {
        stdout: false,
        stderr: color,
    };
    let print_errors = |errors: &[Diagnostic]| {
        let _ = crate::report::print_diagnostics(errors, crate::report::Format::Human, colors);
    };
    let (text, errors) = match render(paths, format, options, cwd) {
        Ok(rendered) => rendered,
        Err(error) => {
            print_errors(&[error]);
            return ExitStatus::Error;
        }
    };
    // A closed pipe (`mutualsg graph | head`) is not worth a panic.
    let _ = io::stdout().lock().write_all(text.as_bytes());
    print_errors(&errors);
    if errors.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    }
}

/// The graph's text and the errors of the modules left out of it, or an error that stops
/// the run (a revision git cannot read, a focus that names no group).
fn render(
    paths: &[PathBuf],
    format: GraphFormat,
    options: &GraphOptions,
    cwd: &Path,
) -> Result<(String, Vec<Diagnostic>), Diagnostic> {
    match &options.since {
        None => {
            let (analyses, errors) = flows::analyse_paths(paths, cwd);
            let focus = match &options.focus {
                Some(spec) => Some(Focus::resolve(spec, analyses.iter(), cwd)?),
                None => None,
            };
            let drawing = Drawing::whole(&analyses, focus.as_ref());
            Ok((drawing.text(format), errors))
        }
        Some(rev) => {
            let sides = Sides::read(rev, paths, cwd)?;
            let focus = match &options.focus {
                Some(spec) => Some(Focus::resolve(
                    spec,
                    sides.before.iter().chain(&sides.after),
                    cwd,
                )?),
                None => None,
            };
            let modules = since::compare(&sides.before, &sides.after);
            let new_findings = sides.new_findings();
            let drawing = Drawing::change(
                &sides,
                &modules,
                options.context,
                focus.as_ref(),
                &new_findings,
            );
            let mut errors = sides.errors_before.clone();
            errors.extend(sides.errors_after.iter().cloned());
            Ok((drawing.text(format), errors))
        }
    }
}

/// `--focus`: one group of one module.
struct Focus {
    dir: PathBuf,
    /// The group's label: its address, as the nodes are labelled.
    label: String,
}

impl Focus {
    /// `ADDRESS` (`aws_security_group.web`, with or without `.id` or an index; or any other
    /// group expression, as its node is labelled) or `DIR:ADDRESS`, among the groups of
    /// `analyses`; an error when none has it, or several modules do and no DIR says which.
    fn resolve<'a>(
        spec: &str,
        analyses: impl Iterator<Item = &'a Analysis>,
        cwd: &Path,
    ) -> Result<Focus, Diagnostic> {
        let (dir, address) = match spec.rsplit_once(':') {
            Some((dir, address)) => (
                Some(crate::paths::display_path(Path::new(dir), cwd)),
                address,
            ),
            None => (None, spec),
        };
        let with_id = if address.ends_with(".id") {
            address.to_string()
        } else {
            format!("{address}.id")
        };
        let canonical = flows::group_label(&flows::group_key(&with_id));
        let mut found: Vec<(PathBuf, String)> = Vec::new();
        for analysis in analyses {
            if dir.as_ref().is_some_and(|dir| *dir != analysis.dir) {
                continue;
            }
            for endpoint in analysis.endpoints() {
                let label = endpoint.label();
                if matches!(endpoint, Endpoint::Group(_))
                    && (label == canonical || label == address)
                {
                    found.push((analysis.dir.clone(), label));
                }
            }
        }
        found.sort();
        found.dedup();
        let error = |message: String| {
            Diagnostic::file(crate::diagnostics::Problem::Focus(message), Path::new(spec))
        };
        match found.as_slice() {
            [] => Err(error(format!("no group `{address}` in the modules read"))),
            [(dir, label)] => Ok(Focus {
                dir: dir.clone(),
                label: label.clone(),
            }),
            several => Err(error(format!(
                "`{address}` is a group of {} modules: say which, as {}",
                several.len(),
                several
                    .iter()
                    .map(|(dir, _)| format!("`{}:{address}`", dir.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    fn is(&self, dir: &Path, endpoint: &Endpoint) -> bool {
        dir == self.dir && matches!(endpoint, Endpoint::Group(_)) && endpoint.label() == self.label
    }

    fn touches(&self, dir: &Path, flow: &Flow) -> bool {
        self.is(dir, &flow.source) || self.is(dir, &flow.target)
    }
}

/// The graph, laid out once for every format: ids assigned, labels written.
struct Drawing<'a> {
    modules: Vec<ModuleDrawing<'a>>,
    /// The picture of a change since this revision, else of the whole tree.
    since: Option<&'a str>,
    /// With `since`: the findings the change introduces.
    new_findings: &'a [Found],
}

struct ModuleDrawing<'a> {
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
    findings: Vec<Found>,
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
    /// The analysis the flow is of: the work tree's, or REV's for a removed flow.
    analysis: &'a Analysis,
    /// The traffic, `(count/for_each)` for repeated rules, and the finding in a few words;
    /// in a change's picture, what changed.
    label: String,
    finding: Option<Found>,
    /// In a change's picture: how the flow changed, and what it allowed before and now.
    change: Option<(Kind, Vec<String>, Vec<String>)>,
}

/// A module's part of the picture, before ids are given out.
struct Selection<'a> {
    dir: &'a Path,
    /// The endpoints drawn besides those of the edges (a group nothing talks to).
    endpoints: BTreeSet<Endpoint>,
    edges: Vec<Delta<'a>>,
    /// Findings about groups themselves, by group.
    group_findings: Vec<(Endpoint, Found)>,
}

impl<'a> Drawing<'a> {
    /// The whole tree, or one group's flows. Modules with neither groups nor rules (a
    /// directory of variables) get no box.
    fn whole(analyses: &'a [Analysis], focus: Option<&Focus>) -> Self {
        let selections = analyses
            .iter()
            .filter(|analysis| !analysis.endpoints().is_empty())
            .filter(|analysis| focus.is_none_or(|focus| focus.dir == analysis.dir))
            .map(|analysis| {
                let edges = analysis
                    .flows
                    .iter()
                    .filter(|flow| focus.is_none_or(|focus| focus.touches(&analysis.dir, flow)))
                    .map(|flow| unchanged(flow, analysis))
                    .collect();
                let endpoints = match focus {
                    None => analysis.endpoints(),
                    Some(focus) => analysis
                        .endpoints()
                        .into_iter()
                        .filter(|endpoint| focus.is(&analysis.dir, endpoint))
                        .collect(),
                };
                let group_findings = group_findings(analysis);
                Selection {
                    dir: &analysis.dir,
                    endpoints,
                    edges,
                    group_findings,
                }
            })
            .collect();
        Drawing::laid_out(selections, None, &[])
    }

    /// What changed since REV: the changed flows and the groups they touch; with `context`,
    /// the unchanged flows of those groups too; with a focus, every flow of that group,
    /// unchanged ones grey. Modules where nothing is drawn get no box.
    fn change(
        sides: &'a Sides,
        modules: &'a [ModuleDelta<'a>],
        context: bool,
        focus: Option<&Focus>,
        new_findings: &'a [Found],
    ) -> Self {
        let mut selections = Vec::new();
        for module in modules {
            let dir = module.dir.as_path();
            if focus.is_some_and(|focus| focus.dir != dir) {
                continue;
            }
            let mut edges: Vec<Delta> = Vec::new();
            for delta in &module.deltas {
                if focus.is_none_or(|focus| focus.touches(dir, delta.flow)) {
                    edges.push(delta.clone());
                }
            }
            let touched: BTreeSet<&Endpoint> = edges
                .iter()
                .flat_map(|delta| [&delta.flow.source, &delta.flow.target])
                .filter(|endpoint| matches!(endpoint, Endpoint::Group(_)))
                .collect();
            let context_edges: Vec<Delta> = module
                .unchanged
                .iter()
                .filter(|delta| match focus {
                    Some(focus) => focus.touches(dir, delta.flow),
                    None => {
                        context
                            && (touched.contains(&delta.flow.source)
                                || touched.contains(&delta.flow.target))
                    }
                })
                .cloned()
                .collect();
            edges.extend(context_edges);
            edges.sort_by(|a, b| {
                (&a.flow.source, &a.flow.target, &a.flow.traffic, a.kind).cmp(&(
                    &b.flow.source,
                    &b.flow.target,
                    &b.flow.traffic,
                    b.kind,
                ))
            });
            // The group findings the change introduces, on the groups drawn.
            let group_findings: Vec<(Endpoint, Found)> = sides
                .after
                .iter()
                .filter(|analysis| analysis.dir == dir)
                .flat_map(group_findings)
                .filter(|(_, finding)| {
                    new_findings
                        .iter()
                        .any(|new| new.identity == finding.identity)
                })
                .collect();
            let mut endpoints = BTreeSet::new();
            if let Some(focus) = focus {
                endpoints.extend(
                    sides
                        .before
                        .iter()
                        .chain(&sides.after)
                        .filter(|analysis| analysis.dir == dir)
                        .flat_map(Analysis::endpoints)
                        .filter(|endpoint| focus.is(dir, endpoint)),
                );
            }
            endpoints.extend(group_findings.iter().map(|(endpoint, _)| endpoint.clone()));
            if edges.is_empty() && endpoints.is_empty() {
                continue;
            }
            selections.push(Selection {
                dir,
                endpoints,
                edges,
                group_findings,
            });
        }
        Drawing::laid_out(selections, Some(&sides.rev), new_findings)
    }

    fn laid_out(
        selections: Vec<Selection<'a>>,
        since: Option<&'a str>,
        new_findings: &'a [Found],
    ) -> Self {
        let mut ids = Ids::default();
        let modules = selections
            .into_iter()
            .enumerate()
            .map(|(index, selection)| {
                ModuleDrawing::new(
                    selection,
                    format!("m{}", index + 1),
                    &mut ids,
                    since.is_some(),
                )
            })
            .collect();
        Drawing {
            modules,
            since,
            new_findings,
        }
    }

    fn text(&self, format: GraphFormat) -> String {
        match format {
            GraphFormat::Mermaid => self.mermaid(),
            GraphFormat::Dot => self.dot(),
            GraphFormat::Json => self.json(),
            GraphFormat::Markdown => self.markdown(),
        }
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

    /// The chart's legend: what colours and dashes mean.
    fn legend(&self) -> String {
        match self.since {
            None => LEGEND.to_string(),
            Some(rev) => format!("since {rev}: {CHANGE_LEGEND}"),
        }
    }

    /// A pull-request comment: a marker line (so CI finds and updates its own comment), a
    /// heading, a table of what changed and of the findings the change introduces, then the
    /// Mermaid chart. Without `since`, the table lists every flow drawn.
    fn markdown(&self) -> String {
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

    fn json(&self) -> String {
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

impl<'a> ModuleDrawing<'a> {
    fn new(selection: Selection<'a>, id: String, ids: &mut Ids, change: bool) -> Self {
        let mut endpoints = selection.endpoints;
        for delta in &selection.edges {
            endpoints.insert(delta.flow.source.clone());
            endpoints.insert(delta.flow.target.clone());
        }
        let nodes: Vec<Node> = endpoints
            .into_iter()
            .map(|endpoint| Node {
                id: ids.fresh(&id, &endpoint),
                label: endpoint.label(),
                findings: selection
                    .group_findings
                    .iter()
                    .filter(|(group, _)| *group == endpoint)
                    .map(|(_, finding)| finding.clone())
                    .collect(),
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
        let edges = selection
            .edges
            .into_iter()
            .map(|delta| Edge {
                source: id_of(&delta.flow.source),
                target: id_of(&delta.flow.target),
                flow: delta.flow,
                analysis: delta.analysis,
                label: if change {
                    change_label(&delta)
                } else {
                    edge_label(delta.flow, delta.analysis)
                },
                finding: checks::flow_finding(delta.analysis, delta.flow),
                change: change.then_some((delta.kind, delta.before, delta.after)),
            })
            .collect();
        ModuleDrawing {
            id,
            dir: selection.dir.display().to_string(),
            nodes,
            edges,
        }
    }
}

/// The findings about a group itself, with the group: mixed rule management, attached to
/// nothing.
fn group_findings(analysis: &Analysis) -> Vec<(Endpoint, Found)> {
    checks::group_findings(analysis)
        .into_iter()
        .filter_map(|finding| {
            let Subject::Group(index) = finding.subject else {
                return None;
            };
            let group = &analysis.model.groups[index];
            Some((Endpoint::Group(format!("{}.id", group.address)), finding))
        })
        .collect()
}

/// A flow of the whole tree, as the picture of a change holds it.
fn unchanged<'a>(flow: &'a Flow, analysis: &'a Analysis) -> Delta<'a> {
    Delta {
        kind: Kind::Unchanged,
        flow,
        analysis,
        before: Vec::new(),
        after: Vec::new(),
        peer: false,
    }
}

/// What changed, in words and signs, so the picture reads without colour too: `+ 443/tcp`,
/// `− 443/tcp`, `± 443/tcp → 443-8443/tcp (widened)`, `± 443/tcp: 10.0.0.0/8 → 0.0.0.0/0
/// (widened)`; an unchanged flow as the whole tree's picture labels it.
fn change_label(delta: &Delta) -> String {
    let repeated = if delta.flow.repeated {
        " (count/for_each)"
    } else {
        ""
    };
    match delta.kind {
        Kind::Added => format!("+ {}", edge_label(delta.flow, delta.analysis)),
        Kind::Removed => format!("− {}", edge_label(delta.flow, delta.analysis)),
        Kind::Unchanged => edge_label(delta.flow, delta.analysis),
        kind if delta.peer => format!(
            "± {}: {} → {} ({}){repeated}",
            delta.flow.traffic.label(),
            delta.before.join(", "),
            delta.after.join(", "),
            kind.name()
        ),
        kind => format!(
            "± {} → {} ({}){repeated}",
            delta.before.join(", "),
            delta.after.join(", "),
            kind.name()
        ),
    }
}

fn change_color(kind: Kind) -> &'static str {
    match kind {
        Kind::Added => ADDED_COLOR,
        Kind::Removed => REMOVED_COLOR,
        Kind::Widened | Kind::Narrowed | Kind::Changed => CHANGED_COLOR,
        Kind::Unchanged => UNCHANGED_COLOR,
    }
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
fn edge_label(flow: &Flow, analysis: &Analysis) -> String {
    let mut label = flow.traffic.label();
    if flow.repeated {
        label.push_str(" (count/for_each)");
    }
    if let Some(finding) = checks::flow_finding(analysis, flow) {
        label.push_str(" ⚠ ");
        label.push_str(&finding.short);
    }
    label
}

/// Text inside a Mermaid `"..."` label: quotes and angle brackets as entities.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// Text in a Markdown table cell: a `|` would end the cell.
fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Code in a Markdown table cell.
fn markdown_code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    format!("`{}`", markdown_cell(&text.replace('`', "'")))
}

/// A DOT double-quoted string.
fn dot_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    /// The revision a change's picture compares with.
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<&'a str>,
    modules: Vec<&'a str>,
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge<'a>>,
    /// With `since`: the findings the change introduces.
    #[serde(skip_serializing_if = "Option::is_none")]
    new_findings: Option<Vec<JsonNewFinding>>,
}

/// A finding the change introduces, where it is.
#[derive(Serialize)]
struct JsonNewFinding {
    code: &'static str,
    message: String,
    path: String,
    line: Option<usize>,
}

impl JsonNewFinding {
    fn new(finding: &Found) -> Self {
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
    /// The rules that declare the flow: an egress rule, an ingress rule, or both (of the
    /// work tree, or of the revision for a removed flow).
    rules: Vec<JsonRule>,
    /// With `since`: `added`, `removed`, `widened`, `narrowed`, `changed` or `unchanged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    change: Option<&'static str>,
    /// With `since`, for a widened, narrowed or changed flow: what was allowed (traffic, or
    /// the address at the far end) and what is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<&'a [String]>,
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
struct JsonFinding {
    code: &'static str,
    message: String,
}

impl JsonFinding {
    fn new(finding: &Found) -> Self {
        let diagnostic = &finding.diagnostic;
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
