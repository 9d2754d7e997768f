//! The `mutual_rules` draft: observed, accepted connections as the connections a module
//! declares, one draft per module that owns the source group (the target's for traffic
//! from addresses), peers in other modules by `sg-` id.
//!
//! Choices, documented in the README:
//! - Adjacent server ports merge into one `"from-to"` range only when at least
//!   [`MERGE_RUN`] of them are consecutive: fewer stay single ports, so one observed port
//!   never opens its neighbours.
//! - An address peer is the address itself (`/32`, `/128`), several of them one list, every
//!   one of them: public addresses are aggregated only with `--max-cidrs N`, into at most N
//!   blocks where that is possible without a block that holds a private range; a private
//!   address, a subnet's block, is never merged with anything. Nothing becomes `0.0.0.0/0`.
//! - A connection to an address outside on a flagged port (IRC, SMTP, DNS: [`indicator`])
//!   is left out of the list, and named in a comment above it: a finding to look into, not
//!   a rule to apply by accident.
//! - A connection one half of which a hand-written rule already allows is not a new
//!   connection (its generated pair would duplicate that rule): the draft gives the missing
//!   half as a rule resource beside it, which `mutualsg migrate` then moves with its
//!   partner into `mutual_rules`.
//! - ICMP becomes every type and code (-1): flow logs do not record them. Other protocols
//!   without ports get `from_port = 0`, `to_port = 0`, which AWS ignores.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;

use super::connections::{ConnectionEnd, ObservedConnection};
use super::flow::{FlowStats, has_ports};
use super::names::{self, Namer, protocol_name};
use super::resolve::is_private;

/// Consecutive ports that merge into a range.
pub const MERGE_RUN: usize = 4;

/// IRC (6660–6669, 6697), SMTP (25, 465, 587), DNS (53: the Amazon resolver's queries are
/// not in flow logs, so a recorded one went to another server).
pub fn indicator(protocol: u8, port: Option<u16>) -> Option<&'static str> {
    match (protocol, port?) {
        (6, 6660..=6669 | 6697) => Some("IRC"),
        (6, 25 | 465 | 587) => Some("SMTP"),
        (6 | 17, 53) => Some("DNS"),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DraftPeer {
    Group {
        id: String,
    },
    Addresses {
        ipv6: bool,
        cidrs: Vec<String>,
    },
    /// An AWS service (`pkt-*-aws-service`): S3 and DynamoDB by their managed prefix list,
    /// any other by name only (its addresses change: left out of the list).
    Service {
        name: String,
    },
}

/// The services with a managed prefix list (`com.amazonaws.REGION.s3`, `...dynamodb`).
fn prefix_list(service: &str) -> Option<&'static str> {
    match service {
        "S3" => Some("s3"),
        "DYNAMODB" => Some("dynamodb"),
        _ => None,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DraftConnection {
    pub source: DraftPeer,
    pub target: DraftPeer,
    pub protocol: u8,
    /// Server ports (TCP, UDP), else `None`.
    pub ports: Option<(u16, u16)>,
    pub records: u64,
    pub bytes: u64,
    pub first: u64,
    pub last: u64,
    /// Distinct addresses aggregated into fewer blocks (`--max-cidrs`).
    pub aggregated_from: Option<usize>,
    /// To an address outside on a flagged port: left out of the list.
    pub flag: Option<&'static str>,
}

/// A connection whose other half a hand-written rule already allows: the missing half,
/// drafted as a rule resource for `mutualsg migrate` to pair with it.
#[derive(Debug, Clone, Serialize)]
pub struct HalfInTree {
    pub connection: DraftConnection,
    /// `egress` or `ingress`: the half to add.
    pub missing: &'static str,
    /// The hand-written rule (its address or inline block), where it is, and its type.
    pub present: String,
    pub path: String,
    pub line: usize,
    pub resource_type: String,
    /// The directory to run `mutualsg migrate` in.
    pub dir: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    /// The module (`""` root, `module.app`); `None` without a state to tell.
    pub module: Option<String>,
    pub connections: Vec<DraftConnection>,
    pub halves: Vec<HalfInTree>,
}

/// The drafts of `connections` (accepted ones are used; the rest are ignored).
pub fn drafts<'a>(
    connections: impl IntoIterator<Item = (&'a ObservedConnection, &'a FlowStats)>,
    max_cidrs: Option<usize>,
    namer: &Namer,
) -> Vec<Draft> {
    // Ports by (source, target, protocol).
    let mut ports: BTreeMap<(ConnectionEnd, ConnectionEnd, u8), BTreeMap<Option<u16>, FlowStats>> =
        BTreeMap::new();
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
    // Address peers by (group end, whether the peer is the source, whether it is a subnet's
    // block, v6, protocol, ports).
    type AddressKey = (String, bool, bool, bool, u8, Option<(u16, u16)>);
    let mut addressed: BTreeMap<AddressKey, (BTreeSet<(IpAddr, u8)>, FlowStats)> = BTreeMap::new();
    let mut connections = Vec::new();
    for ((source, target, protocol), by_port) in ports {
        for (range, stats) in merge_ports(&by_port) {
            match (&source, &target) {
                (ConnectionEnd::Group(s), ConnectionEnd::Group(t)) => {
                    connections.push(DraftConnection {
                        source: DraftPeer::Group { id: s.clone() },
                        target: DraftPeer::Group { id: t.clone() },
                        protocol,
                        ports: range,
                        records: stats.records,
                        bytes: stats.bytes,
                        first: stats.first,
                        last: stats.last,
                        aggregated_from: None,
                        flag: None,
                    })
                }
                (ConnectionEnd::Group(group), ConnectionEnd::Service(name))
                | (ConnectionEnd::Service(name), ConnectionEnd::Group(group)) => {
                    let service = DraftPeer::Service { name: name.clone() };
                    let group = DraftPeer::Group { id: group.clone() };
                    let (source, target) = if matches!(source, ConnectionEnd::Group(_)) {
                        (group, service)
                    } else {
                        (service, group)
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
                        aggregated_from: None,
                        flag: prefix_list(name).is_none().then_some("AWS service"),
                    });
                }
                (ConnectionEnd::Group(group), other) | (other, ConnectionEnd::Group(group)) => {
                    let (network, subnet) = match other {
                        ConnectionEnd::Address(address) => {
                            ((*address, if address.is_ipv4() { 32 } else { 128 }), false)
                        }
                        ConnectionEnd::Subnet(_, network) => (*network, true),
                        ConnectionEnd::Group(_) | ConnectionEnd::Service(_) => {
                            unreachable!("groups and services are matched above")
                        }
                    };
                    let from_address = !matches!(source, ConnectionEnd::Group(_));
                    let key = (
                        group.clone(),
                        from_address,
                        subnet,
                        network.0.is_ipv6(),
                        protocol,
                        range,
                    );
                    let entry = addressed.entry(key).or_default();
                    entry.0.insert(network);
                    entry.1.merge(&stats);
                }
                _ => {}
            }
        }
    }
    for ((group, from_address, subnet, ipv6, protocol, range), (networks, stats)) in addressed {
        let count = networks.len();
        let blocks = aggregate(networks, max_cidrs);
        let aggregated_from = (blocks.len() < count).then_some(count);
        let flag = if from_address || subnet {
            None
        } else {
            indicator(protocol, range.map(|(from, _)| from))
        };
        let cidrs = blocks
            .iter()
            .map(|(address, bits)| format!("{address}/{bits}"))
            .collect();
        let peer = DraftPeer::Addresses { ipv6, cidrs };
        let group = DraftPeer::Group { id: group };
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
            aggregated_from,
            flag,
        });
    }
    // One draft per owning module.
    let mut by_module: BTreeMap<Option<String>, Vec<DraftConnection>> = BTreeMap::new();
    for connection in connections {
        let owner = match (&connection.source, &connection.target) {
            (DraftPeer::Group { id }, _) | (_, DraftPeer::Group { id }) => namer.module_of(id),
            _ => None,
        };
        by_module.entry(owner).or_default().push(connection);
    }
    by_module
        .into_iter()
        .map(|(module, mut connections)| {
            connections.sort_by_key(|c| {
                let label = |peer: &DraftPeer| match peer {
                    DraftPeer::Group { id } => (0, namer.group(id)),
                    DraftPeer::Addresses { ipv6, cidrs } => (1 + u8::from(*ipv6), cidrs.join(",")),
                    DraftPeer::Service { name } => (3, name.clone()),
                };
                (label(&c.source), label(&c.target), c.protocol, c.ports)
            });
            Draft {
                module,
                connections,
                halves: Vec::new(),
            }
        })
        .collect()
}

/// Public addresses into at most `max` blocks (all of them when `max` is `None`): the two
/// neighbours with the longest common prefix merge first, and a merge whose block would
/// hold a private range is never made, so fewer blocks than that may not be reachable.
/// Private addresses and subnets' blocks are kept as they are.
fn aggregate(networks: BTreeSet<(IpAddr, u8)>, max: Option<usize>) -> Vec<(IpAddr, u8)> {
    let Some(max) = max else {
        return networks.into_iter().collect();
    };
    let width = |address: &IpAddr| if address.is_ipv4() { 32u32 } else { 128 };
    type Networks = Vec<(IpAddr, u8)>;
    let (mut public, kept): (Networks, Networks) = networks
        .into_iter()
        .partition(|(address, bits)| u32::from(*bits) == width(address) && !is_private(address));
    let value = |address: &IpAddr| match address {
        IpAddr::V4(v4) => u128::from(u32::from(*v4)),
        IpAddr::V6(v6) => u128::from(*v6),
    };
    let block = |address: &IpAddr, bits: u8| -> IpAddr {
        let width = width(address);
        let host_bits = width - u32::from(bits);
        let mask = if host_bits >= 128 {
            0
        } else {
            !((1u128 << host_bits) - 1)
        };
        let masked = value(address) & mask;
        match address {
            IpAddr::V4(_) => IpAddr::V4((masked as u32).into()),
            IpAddr::V6(_) => IpAddr::V6(masked.into()),
        }
    };
    let holds_private = |address: &IpAddr, bits: u8| -> bool {
        let private: &[(&str, u8)] = if address.is_ipv4() {
            &[
                ("10.0.0.0", 8),
                ("172.16.0.0", 12),
                ("192.168.0.0", 16),
                ("100.64.0.0", 10),
                ("169.254.0.0", 16),
                ("127.0.0.0", 8),
            ]
        } else {
            &[("fc00::", 7), ("fe80::", 10)]
        };
        bits == 0
            || private.iter().any(|(network, prefix)| {
                let network: IpAddr = network.parse().unwrap_or(*address);
                super::tree::contains((*address, bits), &network)
                    || super::tree::contains((network, *prefix), address)
            })
    };
    while public.len() + kept.len() > max && public.len() > 1 {
        public.sort();
        let best = public
            .windows(2)
            .enumerate()
            .map(|(index, pair)| {
                let (a, b) = (pair[0], pair[1]);
                let differing = 128 - (value(&a.0) ^ value(&b.0)).leading_zeros();
                let host_bits = differing.max(width(&a.0) - u32::from(a.1.min(b.1)));
                let bits = (width(&a.0) - host_bits) as u8;
                (index, block(&a.0, bits), bits)
            })
            .filter(|(_, address, bits)| !holds_private(address, *bits))
            .max_by_key(|(index, _, bits)| (*bits, std::cmp::Reverse(*index)));
        let Some((_, address, bits)) = best else {
            break;
        };
        public.retain(|(other, _)| !super::tree::contains((address, bits), other));
        public.push((address, bits));
    }
    public.sort();
    public.extend(kept);
    public
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
pub fn render(draft: &Draft, namer: &Namer, region: Option<&str>) -> String {
    let mut lists: Vec<&str> = Vec::new();
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
    for connection in draft.connections.iter().filter(|c| c.flag.is_some()) {
        let _ = writeln!(
            text,
            "# Left out, {}: {} to {} {}; {} (a finding to look into, not a rule to apply).",
            connection.flag.unwrap_or_default(),
            peer_label(&connection.source, namer),
            peer_label(&connection.target, namer),
            names::traffic_label(connection.protocol, connection.ports),
            names::count(connection.records, "record"),
        );
    }
    // Where every connection is a half beside a hand-written rule (or flagged), no list: an
    // empty `mutual_rules` would be a second definition in a module that has one.
    let listed = draft.connections.iter().any(|c| c.flag.is_none());
    if listed {
        text.push_str("locals {\n  mutual_rules = [\n");
    }
    for connection in draft.connections.iter().filter(|c| c.flag.is_none()) {
        let _ = writeln!(
            text,
            "    # {}: {}, {}, {} to {}{}",
            names::traffic_label(connection.protocol, connection.ports),
            names::count(connection.records, "record"),
            names::bytes(connection.bytes),
            names::time(connection.first),
            names::time(connection.last),
            match connection.aggregated_from {
                Some(n) => format!(", {n} distinct addresses aggregated"),
                None => String::new(),
            }
        );
        let mut attributes: Vec<(String, String)> = Vec::new();
        for (side, peer) in [
            ("source", &connection.source),
            ("target", &connection.target),
        ] {
            match peer {
                DraftPeer::Group { id } => {
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
                DraftPeer::Addresses { ipv6, cidrs } => {
                    let key = if *ipv6 {
                        "ipv6_cidr_blocks"
                    } else {
                        "cidr_blocks"
                    };
                    let list: Vec<String> = cidrs.iter().map(|c| format!("\"{c}\"")).collect();
                    attributes.push((format!("{side}_{key}"), format!("[{}]", list.join(", "))));
                }
                DraftPeer::Service { name } => {
                    let list = prefix_list(name).unwrap_or_default();
                    if !lists.contains(&list) {
                        lists.push(list);
                    }
                    attributes.push((
                        format!("{side}_prefix_list_ids"),
                        format!("[data.aws_ec2_managed_prefix_list.{list}.id]"),
                    ));
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
    if listed {
        text.push_str("  ]\n}\n");
    }
    for list in lists {
        // The prefix list AWS manages for the service in the region the records name.
        let name = match region {
            Some(region) => format!("\"com.amazonaws.{region}.{list}\""),
            None => format!("\"com.amazonaws.${{data.aws_region.current.name}}.{list}\""),
        };
        if region.is_none() && !text.contains("data \"aws_region\" \"current\"") {
            text.push_str("\ndata \"aws_region\" \"current\" {}\n");
        }
        let _ = write!(
            text,
            "\ndata \"aws_ec2_managed_prefix_list\" \"{list}\" {{\n  name = {name}\n}}\n"
        );
    }
    for half in &draft.halves {
        render_half(&mut text, half, module, namer);
    }
    text
}

fn peer_label(peer: &DraftPeer, namer: &Namer) -> String {
    match peer {
        DraftPeer::Group { id } => namer.group(id),
        DraftPeer::Addresses { cidrs, .. } => cidrs.join(", "),
        DraftPeer::Service { name } => format!("AWS service {name}"),
    }
}

/// The missing half of a connection as the rule resource of the hand-written half's family.
fn render_half(text: &mut String, half: &HalfInTree, module: Option<&str>, namer: &Namer) {
    let connection = &half.connection;
    let (own, other) = if half.missing == "egress" {
        (&connection.source, &connection.target)
    } else {
        (&connection.target, &connection.source)
    };
    let label = |peer: &DraftPeer| match peer {
        DraftPeer::Group { id } => namer
            .expression(id, module)
            .trim_end_matches(".id")
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .trim_matches('"')
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        DraftPeer::Addresses { .. } => "addresses".to_string(),
        DraftPeer::Service { name } => name.to_ascii_lowercase(),
    };
    let (from, to) = connection.ports.unwrap_or((0, 0));
    let protocol = protocol_name(connection.protocol);
    let name = format!(
        "{}_to_{}_{protocol}_{from}_{}",
        label(&connection.source),
        label(&connection.target),
        half.missing
    );
    let _ = writeln!(
        text,
        "\n# {} {}: the {} half is hand-written, {} ({}:{}).\n\
         # This is the other half, beside it; then `mutualsg migrate {}` moves the pair into\n\
         # mutual_rules with moved blocks (a connection here would duplicate that rule).",
        names::traffic_label(connection.protocol, connection.ports),
        format_args!(
            "from {} to {}",
            peer_label(&connection.source, namer),
            peer_label(&connection.target, namer)
        ),
        if half.missing == "egress" {
            "ingress"
        } else {
            "egress"
        },
        half.present,
        half.path,
        half.line,
        half.dir,
    );
    let group_expression = |peer: &DraftPeer| match peer {
        DraftPeer::Group { id } => namer.expression(id, module),
        DraftPeer::Addresses { cidrs, .. } => {
            let list: Vec<String> = cidrs.iter().map(|c| format!("\"{c}\"")).collect();
            format!("[{}]", list.join(", "))
        }
        DraftPeer::Service { name } => format!(
            "[data.aws_ec2_managed_prefix_list.{}.id]",
            prefix_list(name).unwrap_or_default()
        ),
    };
    let mut attributes: Vec<(&str, String)> = Vec::new();
    if half.resource_type == "aws_security_group_rule" {
        attributes.push(("type", format!("\"{}\"", half.missing)));
        attributes.push(("security_group_id", group_expression(own)));
        match other {
            DraftPeer::Group { .. } => {
                attributes.push(("source_security_group_id", group_expression(other)))
            }
            DraftPeer::Addresses { ipv6, .. } => attributes.push((
                if *ipv6 {
                    "ipv6_cidr_blocks"
                } else {
                    "cidr_blocks"
                },
                group_expression(other),
            )),
            DraftPeer::Service { .. } => {
                attributes.push(("prefix_list_ids", group_expression(other)))
            }
        }
        attributes.push(("protocol", format!("\"{protocol}\"")));
        attributes.push(("from_port", from.to_string()));
        attributes.push(("to_port", to.to_string()));
    } else {
        attributes.push(("security_group_id", group_expression(own)));
        if let DraftPeer::Group { .. } = other {
            attributes.push(("referenced_security_group_id", group_expression(other)));
        }
        attributes.push(("ip_protocol", format!("\"{protocol}\"")));
        attributes.push(("from_port", from.to_string()));
        attributes.push(("to_port", to.to_string()));
    }
    let width = attributes
        .iter()
        .map(|(key, _)| key.len())
        .max()
        .unwrap_or(0);
    let _ = writeln!(text, "resource \"{}\" \"{name}\" {{", half.resource_type);
    for (key, value) in attributes {
        let _ = writeln!(text, "  {key:width$} = {value}");
    }
    text.push_str("}\n");
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
    fn aggregation_never_reaches_a_private_range() {
        let networks = |list: &[&str]| -> BTreeSet<(IpAddr, u8)> {
            list.iter().map(|a| (a.parse().unwrap(), 32)).collect()
        };
        let all = networks(&["198.51.100.10", "198.51.100.11", "203.0.113.5", "10.0.0.7"]);
        // Without --max-cidrs every address stays.
        assert_eq!(aggregate(all.clone(), None).len(), 4);
        let blocks = aggregate(all.clone(), Some(3));
        let shown: Vec<String> = blocks.iter().map(|(a, b)| format!("{a}/{b}")).collect();
        assert_eq!(shown, ["198.51.100.10/31", "203.0.113.5/32", "10.0.0.7/32"]);
        // One block would hold 10.0.0.0/8 (and more): the merge is not made.
        let blocks = aggregate(all, Some(1));
        assert!(blocks.iter().all(|(_, bits)| *bits >= 8));
        assert!(blocks.len() > 1);
        assert!(blocks.contains(&("10.0.0.7".parse().unwrap(), 32)));
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
