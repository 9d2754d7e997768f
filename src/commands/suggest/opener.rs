//! Who opened each flow. The client gets the egress rule and the server the ingress rule,
//! so every flow is turned around to run from the side that opened it.
//!
//! Most flows are decided as their records are read ([`super::flow::opened_by_source`]):
//! the port classes, when they differ (a well-known port (< 1024) serves a registered
//! (1024–32767) or ephemeral (≥ 32768) one, a registered port an ephemeral one) and no SYN
//! says otherwise. The rest wait for every record; the evidence, in order: TCP flags (a SYN
//! without ACK comes from the opener, a SYN-ACK from the server), where the format has
//! `tcp-flags`; else the port pattern: a server port meets many client ports, a client port
//! one server port, so the end whose (address, port) is in more flows is the server. The
//! classes come before the pattern: a scanner's fixed source port meets many ports too.
//! Protocols without ports (ICMP, ESP, ...): a flow seen in one direction only was opened
//! by its source. What none of these decides is listed as undecided.

use std::collections::BTreeMap;
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::flow::{FlowStats, port_class};
pub use super::flow::{Opened, has_ports};
use super::read::FlowTable;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    Syn,
    PortClass,
    PortPattern,
    OneWay,
}

/// A flow whose opener could not be told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undecided {
    pub a: String,
    pub b: String,
    pub protocol: u8,
    pub accepted: bool,
    pub records: u64,
    pub bytes: u64,
    pub reason: &'static str,
}

#[derive(Debug, Default)]
pub struct Decisions {
    pub opened: BTreeMap<Opened, (FlowStats, Evidence)>,
    pub undecided: Vec<Undecided>,
}

type End = (IpAddr, u16);

#[derive(Default)]
struct Conversation {
    /// Traffic from the lower end to the higher, and back.
    forward: Option<FlowStats>,
    backward: Option<FlowStats>,
}

pub fn decide(table: &FlowTable) -> Decisions {
    let mut conversations: FxHashMap<(End, End, u8, u16), Conversation> = FxHashMap::default();
    for (key, stats) in &table.flows {
        let src = (key.src, key.srcport);
        let dst = (key.dst, key.dstport);
        let (low, high, forward) = if src <= dst {
            (src, dst, true)
        } else {
            (dst, src, false)
        };
        let conversation = conversations
            .entry((low, high, key.protocol, key.vpc))
            .or_default();
        let slot = if forward {
            &mut conversation.forward
        } else {
            &mut conversation.backward
        };
        slot.get_or_insert_with(FlowStats::default).merge(stats);
    }
    let mut fan_in: FxHashMap<(End, u8), u32> = FxHashMap::default();
    for (low, high, protocol, _) in conversations.keys() {
        if has_ports(*protocol) {
            *fan_in.entry((*low, *protocol)).or_default() += 1;
            *fan_in.entry((*high, *protocol)).or_default() += 1;
        }
    }
    let mut decisions = Decisions::default();
    // Where a SYN contradicted the port classes, the windows without it were folded the
    // other way round as they were read: (vpc, server as folded client, client, client
    // port) → the connection the SYN tells.
    let mut turned: FxHashMap<Opened, Opened> = FxHashMap::default();
    for ((low, high, protocol, vpc), conversation) in conversations {
        let mut stats = FlowStats::default();
        for side in [&conversation.forward, &conversation.backward]
            .into_iter()
            .flatten()
        {
            stats.merge(side);
        }
        let verdict = if has_ports(protocol) {
            syn_opener(&conversation)
                .map(|low_opened| (low_opened, Evidence::Syn))
                .or_else(|| {
                    let fan = |end: End| fan_in.get(&(end, protocol)).copied().unwrap_or(0);
                    port_class_opener(low, high)
                        .map(|low_opened| (low_opened, Evidence::PortClass))
                        .or_else(|| {
                            port_pattern(fan(low), fan(high))
                                .map(|low_opened| (low_opened, Evidence::PortPattern))
                        })
                })
        } else {
            match (&conversation.forward, &conversation.backward) {
                (Some(_), None) => Some((true, Evidence::OneWay)),
                (None, Some(_)) => Some((false, Evidence::OneWay)),
                _ => None,
            }
        };
        let Some((low_opened, evidence)) = verdict else {
            let show = |(address, port): End| {
                if has_ports(protocol) {
                    format!("{address}:{port}")
                } else {
                    address.to_string()
                }
            };
            decisions.undecided.push(Undecided {
                a: show(low),
                b: show(high),
                protocol,
                accepted: stats.accepted(),
                records: stats.records,
                bytes: stats.bytes,
                reason: if has_ports(protocol) {
                    "no SYN recorded, and neither port looks like the server's"
                } else {
                    "seen in both directions, and the protocol has no ports"
                },
            });
            continue;
        };
        let (client, server) = if low_opened { (low, high) } else { (high, low) };
        let opened = Opened {
            vpc,
            client: client.0,
            server: server.0,
            protocol,
            port: has_ports(protocol).then_some(server.1),
        };
        if evidence == Evidence::Syn && port_class(client.1) < port_class(server.1) {
            let folded = Opened {
                vpc,
                client: server.0,
                server: client.0,
                protocol,
                port: Some(client.1),
            };
            turned.entry(folded).or_insert(opened);
        }
        let entry = decisions
            .opened
            .entry(opened)
            .or_insert((FlowStats::default(), evidence));
        entry.0.merge(&stats);
        entry.1 = entry.1.min(evidence);
    }
    for (folded, stats) in &table.opened {
        let opened = turned.get(folded).copied().unwrap_or(*folded);
        let entry = decisions
            .opened
            .entry(opened)
            .or_insert((FlowStats::default(), Evidence::PortClass));
        entry.0.merge(stats);
    }
    decisions
        .undecided
        .sort_by(|a, b| (b.bytes, &a.a, &a.b, a.protocol).cmp(&(a.bytes, &b.a, &b.b, b.protocol)));
    decisions
}

/// Whether the lower end opened the flow, by its TCP flags; `None` when they do not tell
/// (no flags in the format, or both ends claim the SYN).
fn syn_opener(conversation: &Conversation) -> Option<bool> {
    let forward = conversation.forward.unwrap_or_default();
    let backward = conversation.backward.unwrap_or_default();
    let low = forward.syn || backward.synack;
    let high = backward.syn || forward.synack;
    match (low, high) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// Whether the lower end is the client, by the ports' classes: the higher class is the
/// client's.
fn port_class_opener(low: End, high: End) -> Option<bool> {
    match port_class(low.1).cmp(&port_class(high.1)) {
        std::cmp::Ordering::Greater => Some(true),
        std::cmp::Ordering::Less => Some(false),
        std::cmp::Ordering::Equal => None,
    }
}

/// Whether the lower end is the client, by the port pattern: the end in more flows serves.
fn port_pattern(low_fan: u32, high_fan: u32) -> Option<bool> {
    if high_fan > 1 && low_fan == 1 {
        return Some(true);
    }
    if low_fan > 1 && high_fan == 1 {
        return Some(false);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::suggest::flow::FlowKey;

    fn key(src: &str, srcport: u16, dst: &str, dstport: u16, protocol: u8) -> FlowKey {
        FlowKey {
            vpc: 0,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            srcport,
            dstport,
            protocol,
        }
    }

    fn stats(syn: bool, synack: bool) -> FlowStats {
        FlowStats {
            records: 1,
            bytes: 100,
            first: 1,
            last: 2,
            syn,
            synack,
            ..FlowStats::default()
        }
    }

    fn table(flows: &[(FlowKey, FlowStats)]) -> FlowTable {
        let mut table = FlowTable::default();
        for (key, stats) in flows {
            table.add(*key, stats);
        }
        table
    }

    #[test]
    fn syn_decides_against_the_ports() {
        // A server on a high port (40000) answering a client on a low one (1000): only the
        // flags can tell; the windows without a SYN, folded by their ports as they were
        // read, join the connection the SYN tells.
        let decisions = decide(&table(&[
            (
                key("10.0.0.1", 1000, "10.0.0.2", 40000, 6),
                stats(true, false),
            ),
            (
                key("10.0.0.2", 40000, "10.0.0.1", 1000, 6),
                stats(false, true),
            ),
            (
                key("10.0.0.1", 1000, "10.0.0.2", 40000, 6),
                stats(false, false),
            ),
            (
                key("10.0.0.2", 40000, "10.0.0.1", 1000, 6),
                stats(false, false),
            ),
        ]));
        assert_eq!(decisions.opened.len(), 1);
        let (opened, (stats, evidence)) = decisions.opened.iter().next().unwrap();
        assert_eq!(opened.client.to_string(), "10.0.0.1");
        assert_eq!(opened.port, Some(40000));
        assert_eq!(stats.records, 4);
        assert_eq!(*evidence, Evidence::Syn);
    }

    #[test]
    fn classes_then_fan_in() {
        let mut flows = Vec::new();
        for client_port in [40001, 40002, 40003] {
            flows.push((
                key("10.0.0.1", client_port, "10.0.0.2", 50000, 17),
                stats(false, false),
            ));
            flows.push((
                key("10.0.0.2", 50000, "10.0.0.1", client_port, 17),
                stats(false, false),
            ));
        }
        // Both ends in the same class and in one flow each: undecided.
        flows.push((
            key("10.0.0.3", 40000, "10.0.0.4", 50000, 17),
            stats(false, false),
        ));
        // A scanner's fixed source port meets many ports, but 22 is the server's.
        for port in [22, 23, 80] {
            flows.push((
                key("203.0.113.9", 51515, "10.0.0.5", port, 6),
                stats(false, false),
            ));
            flows.push((
                key("10.0.0.5", port, "203.0.113.9", 51515, 6),
                stats(false, false),
            ));
        }
        let decisions = decide(&table(&flows));
        let servers: Vec<(String, Option<u16>, Evidence)> = decisions
            .opened
            .iter()
            .map(|(o, (_, e))| (o.server.to_string(), o.port, *e))
            .collect();
        assert_eq!(
            servers,
            [
                ("10.0.0.2".to_string(), Some(50000), Evidence::PortPattern),
                ("10.0.0.5".to_string(), Some(22), Evidence::PortClass),
                ("10.0.0.5".to_string(), Some(23), Evidence::PortClass),
                ("10.0.0.5".to_string(), Some(80), Evidence::PortClass),
            ]
        );
        assert_eq!(decisions.opened.values().next().unwrap().0.records, 6);
        assert_eq!(decisions.undecided.len(), 1);
    }

    #[test]
    fn portless_protocols_one_way() {
        let decisions = decide(&table(&[
            (key("10.0.0.1", 0, "10.0.0.2", 0, 50), stats(false, false)),
            (key("10.0.0.3", 0, "10.0.0.4", 0, 1), stats(false, false)),
            (key("10.0.0.4", 0, "10.0.0.3", 0, 1), stats(false, false)),
        ]));
        assert_eq!(decisions.opened.len(), 1);
        assert_eq!(decisions.undecided.len(), 1);
    }

    #[test]
    fn a_flow_rejected_anywhere_is_one_rejected_connection() {
        // Accepted at the client's open egress, rejected at the server: one connection, and
        // no reply of its own.
        let rejected = FlowStats {
            rejected: 1,
            ..stats(false, false)
        };
        let decisions = decide(&table(&[
            (
                key("10.0.0.1", 45000, "10.0.0.2", 6379, 6),
                stats(false, false),
            ),
            (key("10.0.0.1", 45000, "10.0.0.2", 6379, 6), rejected),
        ]));
        assert_eq!(decisions.opened.len(), 1);
        assert!(!decisions.opened.values().next().unwrap().0.accepted());
    }
}
