//! The Markdown renderer: a pull-request comment ([`crate::comment`]). For a change, a
//! summary line and a table per kind of change, most severe first (broken, new findings,
//! opened, widened, changed, fixed, closed, narrowed); rows grouped by group pair and traffic,
//! address peers folded, every row pointing at its rules; then the Mermaid chart, the first
//! thing to go when the comment would not fit. For the whole tree, a table of the flows.

use std::collections::BTreeMap;

use super::MARKDOWN_MARKER;
use super::select::Drawing;
use super::select::{Edge, ModuleDrawing, edge_label};
use crate::comment::{self, Links, ReviewComment, Table, cell, code};
use crate::inventory::compare::Kind;
use crate::inventory::flows::{Analysis, Endpoint, Flow};

/// The longest expression a cell shows whole.
const LABEL_LIMIT: usize = 80;

/// The kinds of change, most severe first, each with its table's heading and its name in
/// the summary.
const KINDS: [(Kind, &str, &str); 7] = [
    (
        Kind::Broken,
        "broken",
        "#### ⚠ Broken: a pair lost a half, the traffic stops",
    ),
    (
        Kind::Added,
        "opened",
        "#### Opened: allowed now, not before",
    ),
    (
        Kind::Widened,
        "widened",
        "#### Widened: more allowed between the same ends",
    ),
    (Kind::Changed, "changed", "#### Changed"),
    (
        Kind::Fixed,
        "fixed",
        "#### Fixed: a half-open pair completed, the traffic flows",
    ),
    (
        Kind::Removed,
        "closed",
        "#### Closed: allowed before, not now",
    ),
    (
        Kind::Narrowed,
        "narrowed",
        "#### Narrowed: less allowed between the same ends",
    ),
];

impl Drawing<'_> {
    /// A pull-request comment: a marker line (so CI finds and updates its own comment), a
    /// heading, a summary, the tables, then the Mermaid chart; under GitHub's size limit.
    pub(super) fn markdown(&self, links: &Links) -> String {
        match self.since {
            None => self.whole_markdown(),
            Some(rev) => self.change_markdown(rev, links),
        }
    }

    fn whole_markdown(&self) -> String {
        let heading = "### Security-group flows";
        let mut head = vec![MARKDOWN_MARKER.to_string()];
        let mut rows = Vec::new();
        for module in &self.modules {
            for edge in &module.edges {
                let mark = if edge.finding.is_some() { "⚠" } else { "" };
                rows.push(format!(
                    "| {mark} | {} | {} | {} | {} |",
                    code(&node_label(module, &edge.source)),
                    code(&node_label(module, &edge.target)),
                    cell(&edge.label),
                    code(&module.dir)
                ));
            }
        }
        if rows.is_empty() {
            head.push(heading.to_string());
            head.push(String::new());
            head.push("No flow between security groups or addresses.".to_string());
        }
        ReviewComment {
            head,
            tables: vec![Table {
                heading: heading.to_string(),
                columns: vec!["", "from", "to", "traffic", "module"],
                rows,
            }],
            tail: (!self.modules.is_empty()).then(|| self.chart()),
            see_all: "mutualsg graph --format json".to_string(),
        }
        .render(comment::BUDGET)
    }

    fn change_markdown(&self, rev: &str, links: &Links) -> String {
        let rev_text = rev.replace('`', "'");
        let changed: Vec<(&ModuleDrawing, &Edge)> = self
            .modules
            .iter()
            .flat_map(|module| module.edges.iter().map(move |edge| (module, edge)))
            .filter(|(_, edge)| {
                edge.change
                    .as_ref()
                    .is_some_and(|(kind, ..)| *kind != Kind::Unchanged)
            })
            .collect();
        let mut counts: Vec<String> = KINDS
            .iter()
            .filter_map(|(kind, name, _)| {
                let n = changed
                    .iter()
                    .filter(|(_, edge)| edge.change.as_ref().is_some_and(|c| c.0 == *kind))
                    .count();
                (n > 0).then(|| format!("{n} {name}"))
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
        let head = vec![
            MARKDOWN_MARKER.to_string(),
            format!("### Security-group flows since `{rev_text}`"),
            String::new(),
            format!("**{}; {findings}.**", counts.join(", ")),
        ];
        let mut tables = Vec::new();
        for (kind, _, heading) in KINDS {
            let edges: Vec<&(&ModuleDrawing, &Edge)> = changed
                .iter()
                .filter(|(_, edge)| edge.change.as_ref().is_some_and(|c| c.0 == kind))
                .collect();
            let traffic_column = match kind {
                Kind::Added | Kind::Removed | Kind::Fixed | Kind::Broken => "traffic",
                _ => "was → now",
            };
            tables.push(Table {
                heading: heading.to_string(),
                columns: vec!["from", "to", traffic_column, "rule"],
                rows: self.change_rows(kind, &edges, links),
            });
            if kind == Kind::Broken {
                tables.push(self.findings_table(links));
            }
        }
        ReviewComment {
            head,
            tables,
            tail: (!self.modules.is_empty()).then(|| self.chart()),
            see_all: format!("mutualsg graph --since {rev_text} --format json"),
        }
        .render(comment::BUDGET)
    }

    /// One row per group pair and traffic; the addresses of a group's flows with the same
    /// traffic folded into one row.
    fn change_rows(
        &self,
        kind: Kind,
        edges: &[&(&ModuleDrawing, &Edge)],
        links: &Links,
    ) -> Vec<String> {
        // (module, from, to, traffic) → the folded addresses and the rules' places.
        let mut rows: BTreeMap<RowKey, (Vec<String>, Vec<String>)> = BTreeMap::new();
        let head = kind != Kind::Removed;
        for (module, edge) in edges {
            let Some((_, before, after)) = &edge.change else {
                continue;
            };
            let traffic = match kind {
                Kind::Added | Kind::Removed | Kind::Fixed | Kind::Broken => {
                    edge_label(edge.flow, edge.analysis)
                }
                _ if edge.label.contains(": ") => format!(
                    "{}: {} → {}",
                    edge.flow.traffic.label(),
                    before.join(", "),
                    after.join(", ")
                ),
                _ => format!("{} → {}", before.join(", "), after.join(", ")),
            };
            let fold = matches!(kind, Kind::Added | Kind::Removed);
            let end = |endpoint: &Endpoint| match endpoint {
                Endpoint::Address { value, .. } if fold => (RowEnd::Addresses, Some(value.clone())),
                _ => (
                    RowEnd::Shown(self.short_label(endpoint, edge.analysis)),
                    None,
                ),
            };
            let (from, from_address) = end(&edge.flow.source);
            let (to, to_address) = end(&edge.flow.target);
            let entry = rows
                .entry((module.dir.clone(), from, to, traffic))
                .or_default();
            entry.0.extend(from_address.into_iter().chain(to_address));
            for place in rule_places(edge.flow, edge.analysis, links, head) {
                if !entry.1.contains(&place) {
                    entry.1.push(place);
                }
            }
        }
        rows.into_iter()
            .map(|((_, from, to, traffic), (addresses, places))| {
                let end = |end: &RowEnd| match end {
                    RowEnd::Shown(label) => code(label),
                    RowEnd::Addresses => comment::folded(&addresses, "address", "addresses"),
                };
                format!(
                    "| {} | {} | {} | {} |",
                    end(&from),
                    end(&to),
                    cell(&traffic),
                    places_cell(&places)
                )
            })
            .collect()
    }

    /// The findings the change introduces, verified ones first.
    fn findings_table(&self, links: &Links) -> Table {
        let mut findings: Vec<_> = self.new_findings.iter().collect();
        findings.sort_by_key(|finding| finding.unverified);
        let rows = findings
            .into_iter()
            .map(|finding| {
                let diagnostic = &finding.diagnostic;
                let place = match diagnostic.line_column() {
                    Some((line, _)) => links.place(&diagnostic.path, line, true),
                    None => code(&diagnostic.path.display().to_string()),
                };
                format!(
                    "| {} | {} | {place} |",
                    code(finding.check.id),
                    cell(&comment::clip(&diagnostic.problem.to_string(), 400)),
                )
            })
            .collect();
        Table {
            heading: "#### ⚠ New findings (`mutualsg audit`)".to_string(),
            columns: vec!["check", "finding", "rule"],
            rows,
        }
    }

    /// A group as a reader knows it: its address when the tree says which group an
    /// expression names (`aws_security_group.vpn (modules/vpn)` for another module's), else
    /// the expression, clipped.
    fn short_label(&self, endpoint: &Endpoint, analysis: &Analysis) -> String {
        let label = endpoint.label();
        let Endpoint::Group(expr) = endpoint else {
            return comment::clip(&label, LABEL_LIMIT);
        };
        let resolved = self.sides.and_then(|sides| {
            let find = |analyses: &[Analysis], names: &[crate::inventory::renames::Names]| {
                analyses
                    .iter()
                    .position(|candidate| std::ptr::eq(candidate, analysis))
                    .and_then(|index| names[index].get(expr).map(str::to_string))
            };
            find(&sides.after, &sides.names_after)
                .or_else(|| find(&sides.before, &sides.names_before))
        });
        let short = match resolved.as_deref().and_then(|key| key.split_once(':')) {
            Some((module, address)) if module == analysis.module => address.to_string(),
            Some((module, address)) => format!("{address} ({module})"),
            None => label,
        };
        comment::clip(&short, LABEL_LIMIT)
    }

    fn chart(&self) -> String {
        format!("```mermaid\n{}\n```\n", self.mermaid().trim_end())
    }
}

/// A row of a change's table: the module, its two ends and its traffic.
type RowKey = (String, RowEnd, RowEnd, String);

/// One end of a row: a group or address shown, or the addresses folded into the row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum RowEnd {
    Shown(String),
    Addresses,
}

fn node_label(module: &ModuleDrawing, id: &str) -> String {
    module
        .nodes
        .iter()
        .find(|node| node.id == id)
        .map(|node| node.label.clone())
        .unwrap_or_default()
}

/// `path:line` of each rule behind a flow: links at the head commit for the work tree's
/// rules (`head`), code for the revision's.
fn rule_places(flow: &Flow, analysis: &Analysis, links: &Links, head: bool) -> Vec<String> {
    flow.rules
        .iter()
        .map(|&index| {
            let rule = &analysis.model.rules[index];
            let (line, _) = rule.file.line_column(rule.span.start);
            links.place(&rule.file.path, line, head)
        })
        .collect()
}

/// The places of a row's rules: the first three, then how many more.
fn places_cell(places: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = places
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if places.len() > SHOWN {
        text.push_str(&format!(" and {} more", places.len() - SHOWN));
    }
    text
}
