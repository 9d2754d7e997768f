//! The `mutual_rules` draft: observed, accepted connections as the connections a module
//! declares, one draft per module that owns the source group (the target's for traffic
//! from addresses), peers in other modules by `sg-` id.
//!
//! Choices, documented in the README:
//! - Adjacent server ports merge into one `"from-to"` range only when at least
//!   [`MERGE_RUN`] of them are consecutive: fewer stay single ports, so one observed port
//!   never opens its neighbours.
//! - An address peer is the address itself (`/32`, `/128`), several of them one list; more
//!   than [`ADDRESS_LIMIT`] distinct addresses for one group, protocol and port become the
//!   whole internet (`0.0.0.0/0`, `::/0`) for that port only.
//! - ICMP becomes every type and code (-1): flow logs do not record them. Other protocols
//!   without ports get `from_port = 0`, `to_port = 0`, which AWS ignores.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;

use super::connections::{Connection, Side};
use super::names::{self, Namer, protocol_name};
use super::opener::has_ports;
use super::read::FlowStats;

/// Consecutive ports that merge into a range.
pub const MERGE_RUN: usize = 4;
/// Distinct addresses beyond which an address peer becomes the whole internet.
pub const ADDRESS_LIMIT: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Peer {
    Group { id: String },
    Addresses { ipv6: bool, cidrs: Vec<String> },
}

#[derive(Debug, Clone, Serialize)]
pub struct DraftConnection {
    pub source: Peer,
    pub target: Peer,
    pub protocol: u8,
    /// Server ports (TCP, UDP), else `None`.
    pub ports: Option<(u16, u16)>,
    pub records: u64,
    pub bytes: u64,
    pub first: u64,
    pub last: u64,
    /// Addresses seen before a peer became the whole internet.
    pub collapsed_from: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    /// The module (`""` root, `module.app`); `None` without a state to tell.
    pub module: Option<String>,
    pub connections: Vec<DraftConnection>,
}

/// The drafts of `connections` (accepted ones are used; the rest are ignored).
pub fn drafts<'a>(
    connections: impl IntoIterator<Item = (&'a Connection, &'a FlowStats)>,
    namer: &Namer,
) -> Vec<Draft> {
    // Ports by (source, target, protocol).
    let mut ports: BTreeMap<(Side, Side, u8), BTreeMap<Option<u16>, FlowStats>> = BTreeMap::new();
    for (connection, stats) in connections {
        if !connection.accepted {
            continue;
        }
        let key = (
            connection.source.clone(),
            connection.target.clone(),
            connection.protocol,
        );
        ports
            .entry(key)
            .or_default()
            .entry(connection.port)
            .or_default()
            .merge(stats);
    }
    // Address peers by (group end, whether the address is the source, v6, protocol, ports).
    type AddressKey = (String, bool, bool, u8, Option<(u16, u16)>);
    let mut addressed: BTreeMap<AddressKey, (BTreeSet<IpAddr>, FlowStats)> = BTreeMap::new();
    let mut connections = Vec::new();
    for ((source, target, protocol), by_port) in ports {
        for (range, stats) in merge_ports(&by_port) {
            match (&source, &target) {
                (Side::Group(s), Side::Group(t)) => connections.push(DraftConnection {
                    source: Peer::Group { id: s.clone() },
                    target: Peer::Group { id: t.clone() },
                    protocol,
                    ports: range,
                    records: stats.records,
                    bytes: stats.bytes,
                    first: stats.first,
                    last: stats.last,
                    collapsed_from: None,
                }),
                (Side::Group(group), Side::Address(address))
                | (Side::Address(address), Side::Group(group)) => {
                    let from_address = matches!(source, Side::Address(_));
                    let key = (
                        group.clone(),
                        from_address,
                        address.is_ipv6(),
                        protocol,
                        range,
                    );
                    let entry = addressed.entry(key).or_default();
                    entry.0.insert(*address);
                    entry.1.merge(&stats);
                }
                (Side::Address(_), Side::Address(_)) => {}
            }
        }
    }
    for ((group, from_address, ipv6, protocol, range), (addresses, stats)) in addressed {
        let (cidrs, collapsed_from) = if addresses.len() > ADDRESS_LIMIT {
            let all = if ipv6 { "::/0" } else { "0.0.0.0/0" };
            (vec![all.to_string()], Some(addresses.len()))
        } else {
            let bits = if ipv6 { 128 } else { 32 };
            (
                addresses.iter().map(|a| format!("{a}/{bits}")).collect(),
                None,
            )
        };
        let peer = Peer::Addresses { ipv6, cidrs };
        let group = Peer::Group { id: group };
        let (source, target) = if from_address {
            (peer, group)
        } else {
            (group, peer)
        };
        connections.push(DraftConnection {
            source,
            target,
            protocol,
            ports: range,
            records: stats.records,
            bytes: stats.bytes,
            first: stats.first,
            last: stats.last,
            collapsed_from,
        });
    }
    // One draft per owning module.
    let mut by_module: BTreeMap<Option<String>, Vec<DraftConnection>> = BTreeMap::new();
    for connection in connections {
        let owner = match (&connection.source, &connection.target) {
            (Peer::Group { id }, _) | (_, Peer::Group { id }) => namer.module_of(id),
            _ => None,
        };
        by_module.entry(owner).or_default().push(connection);
    }
    by_module
        .into_iter()
        .map(|(module, mut connections)| {
            connections.sort_by_key(|c| {
                let label = |peer: &Peer| match peer {
                    Peer::Group { id } => (0, namer.group(id)),
                    Peer::Addresses { ipv6, cidrs } => (1 + u8::from(*ipv6), cidrs.join(",")),
                };
                (label(&c.source), label(&c.target), c.protocol, c.ports)
            });
            Draft {
                module,
                connections,
            }
        })
        .collect()
}

/// Server ports into ranges: runs of at least [`MERGE_RUN`] consecutive ports merge.
fn merge_ports(by_port: &BTreeMap<Option<u16>, FlowStats>) -> Vec<(Option<(u16, u16)>, FlowStats)> {
    let mut out = Vec::new();
    let mut run: Vec<(u16, FlowStats)> = Vec::new();
    let flush = |run: &mut Vec<(u16, FlowStats)>,
                 out: &mut Vec<(Option<(u16, u16)>, FlowStats)>| {
        if run.len() >= MERGE_RUN {
            let mut stats = FlowStats::default();
            for (_, s) in run.iter() {
                stats.merge(s);
            }
            out.push((Some((run[0].0, run[run.len() - 1].0)), stats));
        } else {
            out.extend(
                run.iter()
                    .map(|(port, stats)| (Some((*port, *port)), *stats)),
            );
        }
        run.clear();
    };
    for (port, stats) in by_port {
        match port {
            None => out.push((None, *stats)),
            Some(port) => {
                if run.last().is_some_and(|(last, _)| last + 1 != *port) {
                    flush(&mut run, &mut out);
                }
                run.push((*port, *stats));
            }
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The draft as HCL that `terraform fmt` leaves alone: a `locals` block with the list.
pub fn render(draft: &Draft, namer: &Namer) -> String {
    let module = draft.module.as_deref();
    let mut text = String::new();
    let where_ = match module {
        Some("") => "the root module".to_string(),
        Some(module) => module.to_string(),
        None => "the module that owns these groups (no --state: groups by id)".to_string(),
    };
    let _ = writeln!(
        text,
        "# Drafted by mutualsg suggest from VPC Flow Logs, for {where_}."
    );
    text.push_str("locals {\n  mutual_rules = [\n");
    for connection in &draft.connections {
        let _ = writeln!(
            text,
            "    # {}: {} records, {}, {} to {}{}",
            names::traffic_label(connection.protocol, connection.ports),
            connection.records,
            names::bytes(connection.bytes),
            names::time(connection.first),
            names::time(connection.last),
            match connection.collapsed_from {
                Some(n) => format!(", {n} distinct addresses"),
                None => String::new(),
            }
        );
        let mut attributes: Vec<(String, String)> = Vec::new();
        for (side, peer) in [
            ("source", &connection.source),
            ("target", &connection.target),
        ] {
            match peer {
                Peer::Group { id } => {
                    let value = namer.expression(id, module);
                    if value.starts_with('"') {
                        // A group of another module, or not in the state: say which it is.
                        let known = namer.group(id);
                        if known != *id {
                            let _ = writeln!(text, "    # {id}: {known}");
                        }
                    }
                    attributes.push((format!("{side}_sg_id"), value));
                }
                Peer::Addresses { ipv6, cidrs } => {
                    let key = if *ipv6 {
                        "ipv6_cidr_blocks"
                    } else {
                        "cidr_blocks"
                    };
                    let list: Vec<String> = cidrs.iter().map(|c| format!("\"{c}\"")).collect();
                    attributes.push((format!("{side}_{key}"), format!("[{}]", list.join(", "))));
                }
            }
        }
        match (connection.protocol, connection.ports) {
            (_, Some((from, to))) if from == to => {
                attributes.push(("destination_port".into(), from.to_string()))
            }
            (_, Some((from, to))) => {
                attributes.push(("destination_port".into(), format!("\"{from}-{to}\"")))
            }
            (1 | 58, None) => {
                attributes.push(("from_port".into(), "-1".into()));
                attributes.push(("to_port".into(), "-1".into()));
            }
            (protocol, None) if !has_ports(protocol) => {
                attributes.push(("from_port".into(), "0".into()));
                attributes.push(("to_port".into(), "0".into()));
            }
            _ => {}
        }
        attributes.push((
            "protocol".into(),
            format!("\"{}\"", protocol_name(connection.protocol)),
        ));
        let width = attributes
            .iter()
            .map(|(key, _)| key.len())
            .max()
            .unwrap_or(0);
        text.push_str("    {\n");
        for (key, value) in attributes {
            let _ = writeln!(text, "      {key:width$} = {value}");
        }
        text.push_str("    },\n");
    }
    text.push_str("  ]\n}\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> FlowStats {
        FlowStats {
            records: 1,
            ..FlowStats::default()
        }
    }

    #[test]
    fn only_long_runs_merge() {
        let by_port: BTreeMap<Option<u16>, FlowStats> =
            [80, 443, 444, 445, 8000, 8001, 8002, 8003, 8005]
                .into_iter()
                .map(|p| (Some(p), stats()))
                .collect();
        let ranges: Vec<Option<(u16, u16)>> =
            merge_ports(&by_port).into_iter().map(|(r, _)| r).collect();
        assert_eq!(
            ranges,
            [
                Some((80, 80)),
                Some((443, 443)),
                Some((444, 444)),
                Some((445, 445)),
                Some((8000, 8003)),
                Some((8005, 8005))
            ]
        );
    }
}
