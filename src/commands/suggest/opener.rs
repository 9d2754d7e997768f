//! Who opened each flow. The client gets the egress rule and the server the ingress rule,
//! so every flow is turned around to run from the side that opened it.
//!
//! The evidence, in order: TCP flags (a SYN without ACK comes from the opener, a SYN-ACK
//! from the server), where the format has `tcp-flags`; else the port pattern: a server
//! port meets many client ports, a client port one server port, so the end whose
//! (address, port) is in more flows is the server; else the ports' classes: a well-known
//! port (< 1024) serves a registered (1024–32767) or ephemeral (≥ 32768, the Linux and
//! Windows ranges both start there or above) one, a registered port serves an ephemeral
//! one. Protocols without ports (ICMP, ESP, ...): a flow seen in one direction only was
//! opened by its source. What none of these decides is listed as undecided.

use std::collections::BTreeMap;
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::read::{FlowKey, FlowStats};

/// TCP and UDP: the protocols whose security-group rules have ports.
pub fn has_ports(protocol: u8) -> bool {
    protocol == 6 || protocol == 17
}

/// A connection as opened: one per client address, server address, protocol and server
/// port (client ports dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Opened {
    pub client: IpAddr,
    pub server: IpAddr,
    pub protocol: u8,
    /// The server's port, for TCP and UDP.
    pub port: Option<u16>,
    pub accepted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    Syn,
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

pub fn decide(flows: &FxHashMap<FlowKey, FlowStats>) -> Decisions {
    let mut conversations: FxHashMap<(End, End, u8, bool), Conversation> = FxHashMap::default();
    for (key, stats) in flows {
        let src = (key.src, key.srcport);
        let dst = (key.dst, key.dstport);
        let (low, high, forward) = if src <= dst {
            (src, dst, true)
        } else {
            (dst, src, false)
        };
        let conversation = conversations
            .entry((low, high, key.protocol, key.accepted))
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
    for ((low, high, protocol, accepted), conversation) in conversations {
        let mut stats = FlowStats::default();
        for side in [&conversation.forward, &conversation.backward]
            .into_iter()
            .flatten()
        {
            stats.merge(side);
        }
        let verdict = if has_ports(protocol) {
            let by_flags = syn_opener(&conversation);
            by_flags
                .map(|low_opened| (low_opened, Evidence::Syn))
                .or_else(|| {
                    let fan = |end: End| fan_in.get(&(end, protocol)).copied().unwrap_or(0);
                    port_pattern(low, high, fan(low), fan(high))
                        .map(|low_opened| (low_opened, Evidence::PortPattern))
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
                accepted,
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
            client: client.0,
            server: server.0,
            protocol,
            port: has_ports(protocol).then_some(server.1),
            accepted,
        };
        let entry = decisions
            .opened
            .entry(opened)
            .or_insert((FlowStats::default(), evidence));
        entry.0.merge(&stats);
        entry.1 = entry.1.min(evidence);
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

/// Whether the lower end is the client, by the ports: the end in more flows serves, else
/// the end whose port is of a lower class.
fn port_pattern(low: End, high: End, low_fan: u32, high_fan: u32) -> Option<bool> {
    if high_fan > 1 && low_fan == 1 {
        return Some(true);
    }
    if low_fan > 1 && high_fan == 1 {
        return Some(false);
    }
    let class = |port: u16| match port {
        0..=1023 => 0,
        1024..=32767 => 1,
        _ => 2,
    };
    match class(low.1).cmp(&class(high.1)) {
        std::cmp::Ordering::Greater => Some(true),
        std::cmp::Ordering::Less => Some(false),
        std::cmp::Ordering::Equal => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(src: &str, srcport: u16, dst: &str, dstport: u16, protocol: u8) -> FlowKey {
        FlowKey {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            srcport,
            dstport,
            protocol,
            accepted: true,
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

    #[test]
    fn syn_decides_against_the_ports() {
        // A server on a high port (8443) answering a client on a low one (1000): only the
        // flags can tell.
        let mut flows = FxHashMap::default();
        flows.insert(
            key("10.0.0.1", 1000, "10.0.0.2", 40000, 6),
            stats(true, false),
        );
        flows.insert(
            key("10.0.0.2", 40000, "10.0.0.1", 1000, 6),
            stats(false, true),
        );
        let decisions = decide(&flows);
        let (opened, (_, evidence)) = decisions.opened.iter().next().unwrap();
        assert_eq!(opened.client.to_string(), "10.0.0.1");
        assert_eq!(opened.port, Some(40000));
        assert_eq!(*evidence, Evidence::Syn);
    }

    #[test]
    fn fan_in_and_port_classes() {
        let mut flows = FxHashMap::default();
        for client_port in [40001, 40002, 40003] {
            flows.insert(
                key("10.0.0.1", client_port, "10.0.0.2", 5000, 17),
                stats(false, false),
            );
            flows.insert(
                key("10.0.0.2", 5000, "10.0.0.1", client_port, 17),
                stats(false, false),
            );
        }
        // Both ends in the same class and in one flow each: undecided.
        flows.insert(
            key("10.0.0.3", 40000, "10.0.0.4", 50000, 17),
            stats(false, false),
        );
        let decisions = decide(&flows);
        assert_eq!(decisions.opened.len(), 1);
        let (opened, (stats, evidence)) = decisions.opened.iter().next().unwrap();
        assert_eq!(
            (opened.server.to_string(), opened.port),
            ("10.0.0.2".into(), Some(5000))
        );
        assert_eq!(stats.records, 6);
        assert_eq!(*evidence, Evidence::PortPattern);
        assert_eq!(decisions.undecided.len(), 1);
    }

    #[test]
    fn portless_protocols_one_way() {
        let mut flows = FxHashMap::default();
        flows.insert(key("10.0.0.1", 0, "10.0.0.2", 0, 50), stats(false, false));
        flows.insert(key("10.0.0.3", 0, "10.0.0.4", 0, 1), stats(false, false));
        flows.insert(key("10.0.0.4", 0, "10.0.0.3", 0, 1), stats(false, false));
        let decisions = decide(&flows);
        assert_eq!(decisions.opened.len(), 1);
        assert_eq!(decisions.undecided.len(), 1);
    }
}
