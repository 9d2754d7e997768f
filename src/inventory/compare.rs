//! Two trees compared (`graph --since REV`, `audit --since REV`): what a change does to the flows AWS allows, and which findings it
//! introduces. The tree at REV is read from git's objects ([`read_revision`]) and the work
//! tree as it is, both through the same analysis ([`tree::analyse_source`]); flows are then
//! compared as connections (ends, protocol, ports, whether both halves allow it), never as
//! the resources that declare them, so moving a hand-written pair into `mutual_rules`, or
//! renaming a rule, changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::generate::connection::{CidrKind, Direction};
use crate::inventory::checks::{self, Finding};
use crate::inventory::flows::{Analysis, Endpoint, Flow, FlowFinding, Traffic};
use crate::inventory::renames::{self, Moves, Names};
use crate::inventory::tree;
use crate::workspace::source::{Source, read_revision};

/// Both sides of a change, analysed.
pub struct Sides {
    pub rev: String,
    pub before: Vec<Analysis>,
    pub after: Vec<Analysis>,
    /// Errors reading the tree at REV (its modules with errors are left out).
    pub errors_before: Vec<Diagnostic>,
    /// Errors reading the work tree.
    pub errors_after: Vec<Diagnostic>,
    /// What the groups of each module of `before` are called now (the work tree's `moved`
    /// blocks applied), and of `after`: a refactor compares equal.
    pub names_before: Vec<Names>,
    pub names_after: Vec<Names>,
}

impl Sides {
    /// Reads the tree at `rev` and the work tree, under the same `paths`.
    pub fn read(rev: &str, paths: &[PathBuf], cwd: &Path) -> Result<Sides, Diagnostic> {
        let old = read_revision(rev, cwd)?;
        let (before, errors_before) = tree::analyse_source(&old, paths, cwd);
        let (after, errors_after) = tree::analyse_source(&Source::Disk, paths, cwd);
        Ok(Sides::of(rev, before, after, errors_before, errors_after))
    }

    /// Both sides, named alike.
    pub fn of(
        rev: &str,
        before: Vec<Analysis>,
        after: Vec<Analysis>,
        errors_before: Vec<Diagnostic>,
        errors_after: Vec<Diagnostic>,
    ) -> Sides {
        let moves = Moves::of(&after);
        let names_before = renames::names(&before, Some(&moves));
        let names_after = renames::names(&after, None);
        Sides {
            rev: rev.to_string(),
            before,
            after,
            errors_before,
            errors_after,
            names_before,
            names_after,
        }
    }

    /// The findings of the work tree, each with whether it is new: the tree at REV has no
    /// finding of the same identity (module, check, group, peer, traffic; where it is
    /// declared, and by which resource, does not matter). Counted: a second identical
    /// finding is new.
    pub fn findings(&self) -> Vec<(Finding, bool)> {
        let before: Vec<Finding> = named_findings(&self.before, &self.names_before)
            .into_iter()
            .map(|(_, named)| named)
            .collect();
        let (after, named_after): (Vec<Finding>, Vec<Finding>) =
            named_findings(&self.after, &self.names_after)
                .into_iter()
                .unzip();
        let new = checks::new_since(&before, &named_after);
        after.into_iter().zip(new).collect()
    }

    /// The findings of the work tree that the tree at REV does not have.
    pub fn new_findings(&self) -> Vec<Finding> {
        self.findings()
            .into_iter()
            .filter_map(|(finding, new)| new.then_some(finding))
            .collect()
    }
}

/// Every finding of `analyses`, as found and with its identity's groups by the names both
/// sides agree on.
fn named_findings(analyses: &[Analysis], names: &[Names]) -> Vec<(Finding, Finding)> {
    let mut found = Vec::new();
    for (analysis, names) in analyses.iter().zip(names) {
        for finding in checks::findings(analysis) {
            let mut named = finding.clone();
            let identity = &mut named.identity;
            for part in [&mut identity.group, &mut identity.peer] {
                if let Some(name) = names.get(part) {
                    *part = name.to_string();
                }
            }
            found.push((finding, named));
        }
    }
    found
}

/// What AWS allows between two ends: the connection, not the rules that write it. A
/// half-open flow allows nothing, and is a connection of its own (what it lacks is part of
/// it), so completing or breaking a pair is a change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Allowed {
    pub source: Endpoint,
    pub target: Endpoint,
    pub traffic: Traffic,
    pub missing: Option<Direction>,
}

impl Allowed {
    /// The connection a flow allows, its groups by the names both sides agree on.
    pub fn of(flow: &Flow, names: &Names) -> Allowed {
        Allowed {
            source: names.endpoint(&flow.source),
            target: names.endpoint(&flow.target),
            traffic: flow.traffic.clone(),
            missing: match flow.finding {
                Some(FlowFinding::HalfOpen { missing, .. }) => Some(missing),
                _ => None,
            },
        }
    }
}

/// How a connection changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Added,
    Removed,
    /// Between the same ends, what is allowed now covers all that was, and more.
    Widened,
    /// Between the same ends, what was allowed covers all that is now.
    Narrowed,
    /// Between the same ends, a pair that lacked a half has both now: the traffic flows.
    Fixed,
    /// Between the same ends, a pair that had both halves lacks one now: it flows no more.
    Broken,
    /// Between the same ends, something else; or the same traffic to another address.
    Changed,
    /// Shown for context only.
    Unchanged,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Removed => "removed",
            Kind::Widened => "widened",
            Kind::Narrowed => "narrowed",
            Kind::Fixed => "fixed",
            Kind::Broken => "broken",
            Kind::Changed => "changed",
            Kind::Unchanged => "unchanged",
        }
    }
}

/// One edge of the picture of a change: a flow of the work tree (or, removed, of REV).
#[derive(Clone)]
pub struct Delta<'a> {
    pub kind: Kind,
    /// The flow drawn: the work tree's, or REV's when removed.
    pub flow: &'a Flow,
    pub analysis: &'a Analysis,
    /// For widened, narrowed and changed edges: what was allowed (traffic labels), or the
    /// address the same traffic went to.
    pub before: Vec<String>,
    /// For widened, narrowed and changed edges between the same ends: every label allowed
    /// now (the drawn flow is the first).
    pub after: Vec<String>,
    /// `before` and `after` are the address at the far end, not the traffic.
    pub peer: bool,
}

/// A module's change: its edges, and the work tree's analysis (or REV's, for a module gone).
pub struct ModuleDelta<'a> {
    pub dir: PathBuf,
    pub deltas: Vec<Delta<'a>>,
    /// The unchanged connections of the work tree, for `--context` and `--focus`.
    pub unchanged: Vec<Delta<'a>>,
}

/// A module of one side, with the names of its groups.
type Side<'a> = (&'a Analysis, &'a Names);

/// Every module's change, in directory order; modules with no change are kept (with their
/// unchanged flows) so that `--focus` can draw a group that did not change.
pub fn compare(sides: &Sides) -> Vec<ModuleDelta<'_>> {
    let mut dirs: BTreeMap<&Path, (Option<Side>, Option<Side>)> = BTreeMap::new();
    for side in sides.before.iter().zip(&sides.names_before) {
        dirs.entry(&side.0.dir).or_default().0 = Some(side);
    }
    for side in sides.after.iter().zip(&sides.names_after) {
        dirs.entry(&side.0.dir).or_default().1 = Some(side);
    }
    dirs.into_iter()
        .map(|(dir, (old, new))| compare_module(dir, old, new))
        .collect()
}

/// Each connection once, with the first flow that declares it.
fn connections<'a>(side: Option<Side<'a>>) -> BTreeMap<Allowed, (&'a Flow, &'a Analysis)> {
    let mut map = BTreeMap::new();
    if let Some((analysis, names)) = side {
        for flow in &analysis.flows {
            map.entry(Allowed::of(flow, names))
                .or_insert((flow, analysis));
        }
    }
    map
}

fn compare_module<'a>(dir: &Path, old: Option<Side<'a>>, new: Option<Side<'a>>) -> ModuleDelta<'a> {
    let old = connections(old);
    let new = connections(new);
    let delta = |kind, (flow, analysis): (&'a Flow, &'a Analysis)| Delta {
        kind,
        flow,
        analysis,
        before: Vec::new(),
        after: Vec::new(),
        peer: false,
    };
    let unchanged: Vec<Delta> = new
        .iter()
        .filter(|(connection, _)| old.contains_key(*connection))
        .map(|(_, &found)| delta(Kind::Unchanged, found))
        .collect();
    let removed: Vec<(&Allowed, (&Flow, &Analysis))> = old
        .iter()
        .filter(|(connection, _)| !new.contains_key(*connection))
        .map(|(connection, &found)| (connection, found))
        .collect();
    let added: Vec<(&Allowed, (&Flow, &Analysis))> = new
        .iter()
        .filter(|(connection, _)| !old.contains_key(*connection))
        .map(|(connection, &found)| (connection, found))
        .collect();

    // Between the same two ends, what was allowed and what is: one edge, from → to.
    let ends = |connection: &Allowed| (connection.source.clone(), connection.target.clone());
    let removed_ends: BTreeSet<(Endpoint, Endpoint)> = removed
        .iter()
        .map(|(connection, _)| ends(connection))
        .collect();
    let added_ends: BTreeSet<(Endpoint, Endpoint)> = added
        .iter()
        .map(|(connection, _)| ends(connection))
        .collect();
    let mut deltas = Vec::new();
    for pair in removed_ends.intersection(&added_ends) {
        let was: Vec<&Allowed> = removed
            .iter()
            .filter(|(connection, _)| ends(connection) == *pair)
            .map(|(connection, _)| *connection)
            .collect();
        let now: Vec<(&Allowed, (&Flow, &Analysis))> = added
            .iter()
            .filter(|(connection, _)| ends(connection) == *pair)
            .copied()
            .collect();
        let was_traffic: Vec<&Traffic> = was.iter().map(|c| &c.traffic).collect();
        let now_traffic: Vec<&Traffic> = now.iter().map(|(c, _)| &c.traffic).collect();
        let allowing = |connections: &[&Allowed]| connections.iter().all(|c| c.missing.is_none());
        let now_connections: Vec<&Allowed> = now.iter().map(|(c, _)| *c).collect();
        let (allowed_then, allowed_now) = (allowing(&was), allowing(&now_connections));
        let wider = was_traffic
            .iter()
            .all(|traffic| traffic.covered_by(now_traffic.iter().copied()));
        let narrower = now_traffic
            .iter()
            .all(|traffic| traffic.covered_by(was_traffic.iter().copied()));
        let none_then = was.iter().all(|c| c.missing.is_some());
        let none_now = now_connections.iter().all(|c| c.missing.is_some());
        let kind = match (allowed_then == allowed_now, wider, narrower) {
            (true, true, false) => Kind::Widened,
            (true, false, true) => Kind::Narrowed,
            (false, ..) if none_then && allowed_now => Kind::Fixed,
            (false, ..) if allowed_then && none_now => Kind::Broken,
            _ => Kind::Changed,
        };
        deltas.push(Delta {
            kind,
            before: was.iter().map(|c| connection_label(c)).collect(),
            after: now_connections
                .iter()
                .map(|c| connection_label(c))
                .collect(),
            ..delta(kind, now[0].1)
        });
    }
    let paired = |connection: &Allowed| {
        let pair = ends(connection);
        removed_ends.contains(&pair) && added_ends.contains(&pair)
    };
    let mut removed: Vec<_> = removed.into_iter().filter(|(c, _)| !paired(c)).collect();
    let mut added: Vec<_> = added.into_iter().filter(|(c, _)| !paired(c)).collect();

    // The same traffic of the same group, to or from another address: the peer changed.
    let mut index = 0;
    while index < added.len() {
        let (now, found) = added[index];
        let mate = address_side(now).and_then(|side| {
            removed.iter().position(|(was, _)| {
                address_side(was).as_ref() == Some(&side)
                    && was.traffic == now.traffic
                    && was.missing == now.missing
            })
        });
        let Some(mate) = mate else {
            index += 1;
            continue;
        };
        let (was, _) = removed.remove(mate);
        added.remove(index);
        let was_peer = address_of(was);
        let now_peer = address_of(now);
        let kind = if is_internet(&now_peer) && !is_internet(&was_peer) {
            Kind::Widened
        } else if is_internet(&was_peer) && !is_internet(&now_peer) {
            Kind::Narrowed
        } else {
            Kind::Changed
        };
        deltas.push(Delta {
            kind,
            before: vec![was_peer],
            after: vec![now_peer],
            peer: true,
            ..delta(kind, found)
        });
    }
    deltas.extend(
        added
            .into_iter()
            .map(|(_, found)| delta(Kind::Added, found)),
    );
    deltas.extend(
        removed
            .into_iter()
            .map(|(_, found)| delta(Kind::Removed, found)),
    );
    deltas.sort_by(|a, b| {
        (&a.flow.source, &a.flow.target, &a.flow.traffic, a.kind).cmp(&(
            &b.flow.source,
            &b.flow.target,
            &b.flow.traffic,
            b.kind,
        ))
    });
    ModuleDelta {
        dir: dir.to_path_buf(),
        deltas,
        unchanged,
    }
}

/// `443/tcp`, with what a half-open connection lacks.
fn connection_label(connection: &Allowed) -> String {
    let mut label = connection.traffic.label();
    match connection.missing {
        Some(Direction::Ingress) => label.push_str(" ⚠ no ingress"),
        Some(Direction::Egress) => label.push_str(" ⚠ no egress"),
        None => {}
    }
    label
}

/// For a flow between a group and an address: the group and which way the address is.
fn address_side(connection: &Allowed) -> Option<(Endpoint, bool, CidrKindKey)> {
    match (&connection.source, &connection.target) {
        (Endpoint::Group(_), Endpoint::Address { kind, .. }) => {
            Some((connection.source.clone(), true, CidrKindKey::of(*kind)))
        }
        (Endpoint::Address { kind, .. }, Endpoint::Group(_)) => {
            Some((connection.target.clone(), false, CidrKindKey::of(*kind)))
        }
        _ => None,
    }
}

/// The address family of a peer, so that an IPv4 peer is never paired with an IPv6 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CidrKindKey(u8);

impl CidrKindKey {
    fn of(kind: CidrKind) -> Self {
        CidrKindKey(match kind {
            CidrKind::Ipv4 => 4,
            CidrKind::Ipv6 => 6,
            CidrKind::PrefixList => 0,
        })
    }
}

fn address_of(connection: &Allowed) -> String {
    match (&connection.source, &connection.target) {
        (address @ Endpoint::Address { .. }, _) | (_, address @ Endpoint::Address { .. }) => {
            address.label()
        }
        _ => String::new(),
    }
}

fn is_internet(address: &str) -> bool {
    address == "0.0.0.0/0" || address == "::/0"
}
