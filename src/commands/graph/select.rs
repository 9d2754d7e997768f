//! What `graph` draws: the whole tree, one group's flows (`--focus`), or what changed since
//! a revision; laid out once (ids given out, labels written) for every renderer.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use super::{CHANGE_LEGEND, LEGEND};
use crate::cli::GraphFormat;
use crate::diagnostics::Diagnostic;
use crate::generate::connection::CidrKind;
use crate::inventory::Written;
use crate::inventory::checks::{self, Finding, Subject};
use crate::inventory::compare::{Delta, Kind, ModuleDelta, Sides};
use crate::inventory::flows::{self, Analysis, Endpoint, Flow};

/// `--focus`: one group of one module.
pub(super) struct Focus {
    pub(super) dir: PathBuf,
    /// The group's label: its address, as the nodes are labelled.
    pub(super) label: String,
}

impl Focus {
    /// `ADDRESS` (`aws_security_group.web`, with or without `.id` or an index; or any other
    /// group expression, as its node is labelled) or `DIR:ADDRESS`, among the groups of
    /// `analyses`; an error when none has it, or several modules do and no DIR says which.
    pub(super) fn resolve<'a>(
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
        // An address names the declared group whatever instance it adds
        // (`aws_security_group.web[0]`).
        let canonical = flows::group_label(with_id.split('[').next().unwrap_or_default());
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

    pub(super) fn is(&self, dir: &Path, endpoint: &Endpoint) -> bool {
        dir == self.dir && matches!(endpoint, Endpoint::Group(_)) && endpoint.label() == self.label
    }

    pub(super) fn touches(&self, dir: &Path, flow: &Flow) -> bool {
        self.is(dir, &flow.source) || self.is(dir, &flow.target)
    }
}

/// The graph, laid out once for every format: ids assigned, labels written.
pub(super) struct Drawing<'a> {
    pub(super) modules: Vec<ModuleDrawing<'a>>,
    /// The picture of a change since this revision, else of the whole tree.
    pub(super) since: Option<&'a str>,
    /// With `since`: the findings the change introduces.
    pub(super) new_findings: &'a [Finding],
    /// With `since`: both sides, for what their group expressions name.
    pub(super) sides: Option<&'a Sides>,
}

pub(super) struct ModuleDrawing<'a> {
    /// `m1`, `m2`, ... in path order.
    pub(super) id: String,
    pub(super) dir: String,
    pub(super) nodes: Vec<Node>,
    pub(super) edges: Vec<Edge<'a>>,
}

pub(super) struct Node {
    pub(super) id: String,
    pub(super) endpoint: Endpoint,
    pub(super) label: String,
    /// Findings about the group itself (inline and separate rules mixed).
    pub(super) findings: Vec<Finding>,
}

impl Node {
    pub(super) fn is_address(&self) -> bool {
        matches!(self.endpoint, Endpoint::Address { .. })
    }
}

pub(super) struct Edge<'a> {
    pub(super) source: String,
    pub(super) target: String,
    pub(super) flow: &'a Flow,
    /// The analysis the flow is of: the work tree's, or REV's for a removed flow.
    pub(super) analysis: &'a Analysis,
    /// The traffic, `(count/for_each)` for repeated rules, and the finding in a few words;
    /// in a change's picture, what changed.
    pub(super) label: String,
    pub(super) finding: Option<Finding>,
    /// In a change's picture: how the flow changed, and what it allowed before and now.
    pub(super) change: Option<(Kind, Vec<String>, Vec<String>)>,
}

/// A module's part of the picture, before ids are given out.
pub(super) struct Selection<'a> {
    pub(super) dir: &'a Path,
    /// The endpoints drawn besides those of the edges (a group nothing talks to).
    pub(super) endpoints: BTreeSet<Endpoint>,
    pub(super) edges: Vec<Delta<'a>>,
    /// Findings about groups themselves, by group.
    pub(super) group_findings: Vec<(Endpoint, Finding)>,
}

impl<'a> Drawing<'a> {
    /// The whole tree, or one group's flows. Modules with neither groups nor rules (a
    /// directory of variables) get no box.
    pub(super) fn whole(analyses: &'a [Analysis], focus: Option<&Focus>) -> Self {
        let selections = analyses
            .iter()
            .filter(|analysis| analysis.has_endpoints())
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
    pub(super) fn change(
        sides: &'a Sides,
        modules: &'a [ModuleDelta<'a>],
        context: bool,
        focus: Option<&Focus>,
        new_findings: &'a [Finding],
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
            let group_findings: Vec<(Endpoint, Finding)> = sides
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
        let mut drawing = Drawing::laid_out(selections, Some(&sides.rev), new_findings);
        drawing.sides = Some(sides);
        drawing
    }

    pub(super) fn laid_out(
        selections: Vec<Selection<'a>>,
        since: Option<&'a str>,
        new_findings: &'a [Finding],
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
            sides: None,
        }
    }

    /// The drawing in `format`; Markdown links rules to files under `cwd`'s repository.
    pub(super) fn text(&self, format: GraphFormat, cwd: &Path) -> String {
        match format {
            GraphFormat::Mermaid => self.mermaid(),
            GraphFormat::Dot => self.dot(),
            GraphFormat::Json => self.json(),
            GraphFormat::Markdown => self.markdown(&crate::comment::Links::from_env(cwd)),
        }
    }

    pub(super) fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.modules.iter().flat_map(|module| &module.nodes)
    }

    pub(super) fn edges(&self) -> impl Iterator<Item = &Edge<'a>> {
        self.modules.iter().flat_map(|module| &module.edges)
    }

    /// The chart's legend: what colours and dashes mean.
    pub(super) fn legend(&self) -> String {
        match self.since {
            None => LEGEND.to_string(),
            Some(rev) => format!("since {rev}: {CHANGE_LEGEND}"),
        }
    }

    pub(super) fn node_ids(&self, keep: impl Fn(&Node) -> bool) -> Vec<&str> {
        self.nodes()
            .filter(|node| keep(node))
            .map(|node| node.id.as_str())
            .collect()
    }
}

impl<'a> ModuleDrawing<'a> {
    pub(super) fn new(selection: Selection<'a>, id: String, ids: &mut Ids, change: bool) -> Self {
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
pub(super) fn group_findings(analysis: &Analysis) -> Vec<(Endpoint, Finding)> {
    checks::group_findings(analysis)
        .into_iter()
        .filter_map(|finding| {
            let Subject::Group(index) = finding.subject else {
                return None;
            };
            let group = &analysis.model.groups[index];
            Some((
                Endpoint::Group(Written::group_id(false, &group.name)),
                finding,
            ))
        })
        .collect()
}

/// A flow of the whole tree, as the picture of a change holds it.
pub(super) fn unchanged<'a>(flow: &'a Flow, analysis: &'a Analysis) -> Delta<'a> {
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
pub(super) fn change_label(delta: &Delta) -> String {
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

/// Node ids that every format accepts unquoted: the module's id, then the label's words
/// (`m1_web` for `aws_security_group.web`), made unique with a number.
#[derive(Default)]
pub(super) struct Ids {
    pub(super) used: HashSet<String>,
}

impl Ids {
    pub(super) fn fresh(&mut self, module: &str, endpoint: &Endpoint) -> String {
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

pub(super) fn kind_name(endpoint: &Endpoint) -> &'static str {
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
pub(super) fn edge_label(flow: &Flow, analysis: &Analysis) -> String {
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
