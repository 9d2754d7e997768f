//! The observed connections against the tree's rules, read through the same model as
//! `graph` and `audit` ([`crate::inventory::tree::analyse_paths`]): what would break once egress is
//! closed, and which rules saw no traffic.
//!
//! A rule's group and group peers are tied to `sg-` ids through the state: the expression
//! `aws_security_group.web.id` in the directory that declares `aws_security_group.web`, or a
//! literal `"sg-..."`. Other expressions (`var.db_sg_id`, module outputs) are not resolved:
//! such rules are counted as not judged, and allow nothing here. Closing egress means taking
//! away egress to `0.0.0.0/0` and `::/0`; every other rule stays.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::diagnostics::Diagnostic;
use crate::generate::connection::Direction;
use crate::inventory::flows::{self, Analysis};
use crate::inventory::{DeclaredRule, Origin, RulePeer};

use super::connections::{ConnectionEnd, ObservedConnection};
use super::state::StateNames;

/// A rule of the tree with its group and peers as ids and networks.
pub struct TreeRule {
    pub direction: Direction,
    pub group: String,
    pub peers: Vec<ResolvedPeer>,
    pub protocol: String,
    pub from_port: String,
    pub to_port: String,
    /// Where it is declared, for the report.
    pub path: String,
    pub line: usize,
    pub origin: String,
    /// A rule resource written by hand (not generated, not an inline block).
    pub hand_written: bool,
    /// The rule as written: group, peers and traffic.
    pub written: String,
}

impl TreeRule {
    /// `aws_security_group_rule`, `aws_vpc_security_group_ingress_rule`, ... (the origin's
    /// resource type; empty for generated rules and inline blocks).
    pub fn resource_type(&self) -> &str {
        if self.hand_written {
            self.origin.split('.').next().unwrap_or_default()
        } else {
            ""
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedPeer {
    Group(String),
    Network(IpAddr, u8),
    Unresolved,
}

impl ResolvedPeer {
    fn is_internet(&self) -> bool {
        matches!(self, ResolvedPeer::Network(_, 0))
    }
}

pub struct TreeRules {
    pub rules: Vec<TreeRule>,
    /// Rules whose group could not be tied to an id.
    pub not_judged: usize,
    pub errors: Vec<Diagnostic>,
    /// Which directory declares each group of the state.
    pub owners: Vec<(String, PathBuf)>,
}

pub fn read(paths: &[PathBuf], cwd: &Path, state: Option<&StateNames>) -> TreeRules {
    let (analyses, errors) = crate::inventory::tree::analyse_paths(paths, cwd);
    let owners = owners(&analyses, state);
    let mut rules = Vec::new();
    let mut not_judged = 0;
    for analysis in &analyses {
        let resolve = |expr: &str| -> Option<String> {
            let literal = expr.trim_matches('"');
            if literal.starts_with("sg-") && !literal.contains(['.', '$']) {
                return Some(literal.to_string());
            }
            let resource = expr.strip_suffix(".id")?;
            owners
                .iter()
                .find(|(id, dir)| {
                    *dir == analysis.dir
                        && state
                            .and_then(|s| s.groups.get(id))
                            .is_some_and(|a| a.resource == resource)
                })
                .map(|(id, _)| id.clone())
        };
        for rule in &analysis.model.rules {
            let Some(group) = resolve(&rule.group) else {
                not_judged += 1;
                continue;
            };
            let peers = rule
                .peers
                .iter()
                .map(|peer| match peer {
                    RulePeer::SelfGroup => ResolvedPeer::Group(group.clone()),
                    RulePeer::Group(expr) => {
                        resolve(expr).map_or(ResolvedPeer::Unresolved, ResolvedPeer::Group)
                    }
                    RulePeer::Address { value, .. } => network(value)
                        .map_or(ResolvedPeer::Unresolved, |(a, p)| {
                            ResolvedPeer::Network(a, p)
                        }),
                })
                .collect();
            rules.push(resolved(rule, group, peers));
        }
    }
    TreeRules {
        rules,
        not_judged,
        errors,
        owners,
    }
}

fn resolved(rule: &DeclaredRule, group: String, peers: Vec<ResolvedPeer>) -> TreeRule {
    let (line, _) = rule.file.line_column(rule.span.start);
    let origin = match &rule.origin {
        Origin::Generated { name } => format!("mutual_rules connection {name}"),
        Origin::Resource { address } => address.clone(),
        Origin::Inline { group } => {
            format!("inline {} block of {group}", direction_name(rule.direction))
        }
    };
    let written_peers: Vec<String> = rule
        .peers
        .iter()
        .map(|peer| match peer {
            RulePeer::SelfGroup => "self".to_string(),
            RulePeer::Group(expr) => flows::group_label(expr),
            RulePeer::Address { value, .. } => value.clone(),
        })
        .collect();
    let traffic = flows::Traffic {
        protocol: rule.protocol.clone(),
        from_port: rule.from_port.clone(),
        to_port: rule.to_port.clone(),
    };
    let traffic = if rule.protocol == "-1" || rule.protocol.parse::<u8>().is_ok() {
        flows::Traffic {
            from_port: String::new(),
            to_port: String::new(),
            ..traffic
        }
    } else {
        traffic
    };
    TreeRule {
        direction: rule.direction,
        written: format!(
            "{} {} {} {} ({})",
            direction_name(rule.direction),
            flows::group_label(&rule.group),
            if rule.direction == Direction::Egress {
                "to"
            } else {
                "from"
            },
            written_peers.join(", "),
            traffic.label()
        ),
        group,
        peers,
        protocol: rule.protocol.clone(),
        from_port: rule.from_port.clone(),
        to_port: rule.to_port.clone(),
        path: rule.file.path.display().to_string(),
        line,
        hand_written: matches!(rule.origin, Origin::Resource { .. }),
        origin,
    }
}

pub fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Egress => "egress",
        Direction::Ingress => "ingress",
    }
}

/// The directory that declares each group of the state: the one that declares its resource;
/// of several, the one named as the module is (`module.app` → `.../app`), or for the root
/// module the one nearest the top.
fn owners(analyses: &[Analysis], state: Option<&StateNames>) -> Vec<(String, PathBuf)> {
    let Some(state) = state else {
        return Vec::new();
    };
    let mut owners = Vec::new();
    for (id, address) in &state.groups {
        let base = address.resource.split('[').next().unwrap_or_default();
        let declaring: Vec<&Analysis> = analyses
            .iter()
            .filter(|analysis| {
                analysis
                    .model
                    .groups
                    .iter()
                    .any(|group| group.address == base)
            })
            .collect();
        let chosen = match declaring.as_slice() {
            [] => None,
            [one] => Some(*one),
            several => {
                let name = address.module.rsplit('.').next().unwrap_or_default();
                several
                    .iter()
                    .find(|a| {
                        !address.module.is_empty() && a.dir.file_name().is_some_and(|f| f == name)
                    })
                    .or_else(|| {
                        address
                            .module
                            .is_empty()
                            .then(|| several.iter().min_by_key(|a| a.dir.components().count()))
                            .flatten()
                    })
                    .copied()
            }
        };
        if let Some(analysis) = chosen {
            owners.push((id.clone(), analysis.dir.clone()));
        }
    }
    owners
}

/// `10.0.0.0/8` → (10.0.0.0, 8); a bare address is a /32 or /128.
pub fn network(text: &str) -> Option<(IpAddr, u8)> {
    let text = text.trim().trim_matches('"');
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address.parse::<IpAddr>().ok()?, prefix.parse::<u8>().ok()?),
        None => {
            let address: IpAddr = text.parse().ok()?;
            (address, if address.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if address.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some((address, prefix))
}

pub fn contains((network, prefix): (IpAddr, u8), address: &IpAddr) -> bool {
    match (network, address) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            u32::from(n) & mask == u32::from(*a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            u128::from(n) & mask == u128::from(*a) & mask
        }
        _ => false,
    }
}

/// Whether a rule's traffic lets the observed protocol and port through.
fn covers(rule: &TreeRule, protocol: u8, port: Option<u16>) -> bool {
    if rule.protocol == "-1" {
        return true;
    }
    let name = super::names::protocol_name(protocol);
    if rule.protocol != name {
        return false;
    }
    match (protocol, port) {
        (6 | 17, Some(port)) => {
            match (rule.from_port.parse::<i64>(), rule.to_port.parse::<i64>()) {
                (Ok(from), Ok(to)) => from <= i64::from(port) && i64::from(port) <= to,
                _ => false,
            }
        }
        // Flow logs carry no ICMP type: any ICMP rule is taken to cover it.
        _ => true,
    }
}

/// Whether `peer` of a rule on `group` matches the other side.
fn peer_matches(peer: &ResolvedPeer, other: &ConnectionEnd) -> bool {
    match (peer, other) {
        (ResolvedPeer::Group(id), ConnectionEnd::Group(other)) => id == other,
        (ResolvedPeer::Network(a, p), ConnectionEnd::Address(address)) => {
            contains((*a, *p), address)
        }
        (ResolvedPeer::Network(a, p), ConnectionEnd::Subnet(_, (network, bits))) => {
            p <= bits && contains((*a, *p), network)
        }
        // The whole internet includes every group's addresses.
        (ResolvedPeer::Network(_, 0), ConnectionEnd::Group(_)) => true,
        _ => false,
    }
}

impl TreeRules {
    /// The rules of `direction` on `group` that let `connection` through; egress to the
    /// internet does not count when `closing` (egress being closed).
    fn allowing<'a>(
        &'a self,
        connection: &'a ObservedConnection,
        direction: Direction,
        closing: bool,
    ) -> impl Iterator<Item = usize> + 'a {
        let (own, other) = match direction {
            Direction::Egress => (&connection.source, &connection.target),
            Direction::Ingress => (&connection.target, &connection.source),
        };
        self.rules
            .iter()
            .enumerate()
            .filter_map(move |(index, rule)| {
                let ConnectionEnd::Group(group) = own else {
                    return None;
                };
                let applies = rule.direction == direction
                    && rule.group == *group
                    && covers(rule, connection.protocol, connection.port)
                    && rule.peers.iter().any(|peer| {
                        !(closing && direction == Direction::Egress && peer.is_internet())
                            && peer_matches(peer, other)
                    });
                applies.then_some(index)
            })
    }

    /// Which halves the tree lacks for `connection` once egress is closed: `None` when it
    /// is allowed.
    pub fn missing(&self, connection: &ObservedConnection) -> Option<&'static str> {
        let needs_egress = matches!(connection.source, ConnectionEnd::Group(_));
        let needs_ingress = matches!(connection.target, ConnectionEnd::Group(_));
        let egress = !needs_egress
            || self
                .allowing(connection, Direction::Egress, true)
                .next()
                .is_some();
        let ingress = !needs_ingress
            || self
                .allowing(connection, Direction::Ingress, true)
                .next()
                .is_some();
        match (egress, ingress) {
            (true, true) => None,
            (false, true) => Some("egress"),
            (true, false) => Some("ingress"),
            (false, false) => Some("egress and ingress"),
        }
    }

    /// The hand-written rule resource that allows the half of `connection` that is not
    /// `missing`, when only one half is missing.
    pub fn hand_written_half(
        &self,
        connection: &ObservedConnection,
        missing: &str,
    ) -> Option<&TreeRule> {
        let present = match missing {
            "egress" => Direction::Ingress,
            "ingress" => Direction::Egress,
            _ => return None,
        };
        let mut allowing = self.allowing(connection, present, true);
        let rule = &self.rules[allowing.next()?];
        rule.hand_written.then_some(rule)
    }

    /// Indices of the rules some accepted connection used (open egress included).
    pub fn used<'a>(&self, connections: impl Iterator<Item = &'a ObservedConnection>) -> Vec<bool> {
        let mut used = vec![false; self.rules.len()];
        for connection in connections.filter(|c| c.accepted) {
            for direction in [Direction::Egress, Direction::Ingress] {
                for index in self.allowing(connection, direction, false) {
                    used[index] = true;
                }
            }
        }
        used
    }
}

/// A rule that saw no traffic.
#[derive(Debug, Clone, Serialize)]
pub struct Unused {
    pub path: String,
    pub line: usize,
    pub origin: String,
    pub rule: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_contain_addresses() {
        let net = network("10.0.0.0/16").unwrap();
        assert!(contains(net, &"10.0.200.1".parse().unwrap()));
        assert!(!contains(net, &"10.1.0.1".parse().unwrap()));
        assert!(contains(
            network("0.0.0.0/0").unwrap(),
            &"8.8.8.8".parse().unwrap()
        ));
        assert!(contains(
            network("2600:1f18::/32").unwrap(),
            &"2600:1f18::5".parse().unwrap()
        ));
        assert!(network("10.0.0.0/33").is_none());
        assert!(network("var.cidr").is_none());
    }
}
