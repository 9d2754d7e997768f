//! Opened flows between addresses → connections between security groups and addresses.
//!
//! An address is an interface (its groups), a subnet's block (an interface gone, in a known
//! subnet), an address in the VPC nothing names (reported, never drafted), or outside (an
//! address peer). AWS allows traffic on an interface when any of its groups does, so an
//! interface with several groups leaves a choice: the connection goes on the one group that
//! every interface with several groups on that side of it shares (among every client of that
//! server and port, or every server that client reaches on that port; an interface with one
//! group decides for itself); when there is no single such group, the flow is listed as
//! undecided with its candidates. Interfaces without groups (NAT gateways, ...)
//! can carry no rule: their flows are counted and left out.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::flow::{FlowStats, Opened};
use super::opener::Evidence;
use super::resolve::{Owner, Resolver};

/// One side of a connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConnectionEnd {
    /// A security group id.
    Group(String),
    /// An address outside the VPC and every known interface.
    Address(IpAddr),
    /// The block of a subnet (its id) that holds addresses whose interfaces are gone.
    Subnet(String, (IpAddr, u8)),
    /// An AWS service's addresses, by the service's name (`pkt-*-aws-service`).
    Service(String),
}

/// A connection at the level of rules: groups (or addresses), protocol, server port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObservedConnection {
    pub source: ConnectionEnd,
    pub target: ConnectionEnd,
    pub protocol: u8,
    pub port: Option<u16>,
    /// No record of it was rejected, at either interface.
    pub accepted: bool,
}

/// A flow whose group could not be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndecidedGroup {
    pub client: String,
    pub server: String,
    pub protocol: u8,
    pub port: Option<u16>,
    /// `client` or `server`: the side whose interface has several groups.
    pub side: &'static str,
    pub candidates: Vec<String>,
    pub records: u64,
    pub bytes: u64,
}

/// A flow with an end in the VPC that no interface or subnet names: not drafted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoneFlow {
    pub client: String,
    pub server: String,
    pub protocol: u8,
    pub port: Option<u16>,
    /// The address whose interface is gone, and the interface that logged it, if any.
    pub address: String,
    pub interface: Option<String>,
    pub accepted: bool,
    pub records: u64,
    pub bytes: u64,
    pub first: u64,
    pub last: u64,
}

#[derive(Debug, Default)]
pub struct Grouped {
    pub connections: BTreeMap<ObservedConnection, FlowStats>,
    pub undecided: Vec<UndecidedGroup>,
    pub gone: Vec<GoneFlow>,
    /// Flows with an end on an interface without groups.
    pub without_group: u64,
}

type SideKey = (u16, IpAddr, u8, Option<u16>);

/// The groups every interface in `interfaces` shares, when they all have groups.
fn shared<'a>(mut groups: impl Iterator<Item = &'a [String]>) -> Vec<String> {
    let Some(first) = groups.next() else {
        return Vec::new();
    };
    let mut common: BTreeSet<&String> = first.iter().collect();
    for more in groups {
        common.retain(|group| more.contains(group));
    }
    common.into_iter().cloned().collect()
}

pub fn group(opened: &BTreeMap<Opened, (FlowStats, Evidence)>, resolver: &Resolver) -> Grouped {
    // The interfaces on each side of each (server, port) and (client, port).
    let mut clients_of: FxHashMap<SideKey, BTreeSet<IpAddr>> = FxHashMap::default();
    let mut servers_of: FxHashMap<SideKey, BTreeSet<IpAddr>> = FxHashMap::default();
    let grouped_interface = |vpc: u16, address: &IpAddr| {
        resolver
            .interface(vpc, address)
            .filter(|interface| !interface.groups.is_empty())
    };
    for flow in opened.keys() {
        if grouped_interface(flow.vpc, &flow.client).is_some() {
            clients_of
                .entry((flow.vpc, flow.server, flow.protocol, flow.port))
                .or_default()
                .insert(flow.client);
        }
        if grouped_interface(flow.vpc, &flow.server).is_some() {
            servers_of
                .entry((flow.vpc, flow.client, flow.protocol, flow.port))
                .or_default()
                .insert(flow.server);
        }
    }
    let mut grouped = Grouped::default();
    for (flow, (stats, _)) in opened {
        // Ok(None): no rule can carry it (an interface without groups); Err(Ok(..)):
        // several groups, no single one shared; Err(Err(..)): an interface gone.
        type Choice = Result<Option<ConnectionEnd>, Result<Vec<String>, Option<String>>>;
        let choose = |address: &IpAddr, others: Option<&BTreeSet<IpAddr>>| -> Choice {
            let interface = match resolver.owner(flow.vpc, address) {
                Owner::Interface(interface) => interface,
                Owner::Subnet { id, network } => {
                    return Ok(Some(ConnectionEnd::Subnet(id.to_string(), network)));
                }
                Owner::Gone { interface } => return Err(Err(interface.map(str::to_string))),
                Owner::Service(service) => {
                    return Ok(Some(ConnectionEnd::Service(service.to_string())));
                }
                Owner::Outside => return Ok(Some(ConnectionEnd::Address(*address))),
            };
            match interface.groups.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some(ConnectionEnd::Group(one.clone()))),
                several => {
                    let common = shared(
                        others
                            .into_iter()
                            .flatten()
                            .filter_map(|other| resolver.interface(flow.vpc, other))
                            .filter(|interface| interface.groups.len() > 1)
                            .map(|interface| interface.groups.as_slice()),
                    );
                    match common.as_slice() {
                        [one] => Ok(Some(ConnectionEnd::Group(one.clone()))),
                        _ => Err(Ok(several.to_vec())),
                    }
                }
            }
        };
        let client = choose(
            &flow.client,
            clients_of.get(&(flow.vpc, flow.server, flow.protocol, flow.port)),
        );
        let server = choose(
            &flow.server,
            servers_of.get(&(flow.vpc, flow.client, flow.protocol, flow.port)),
        );
        let undecided = |side: &'static str, candidates: Vec<String>| UndecidedGroup {
            client: flow.client.to_string(),
            server: flow.server.to_string(),
            protocol: flow.protocol,
            port: flow.port,
            side,
            candidates,
            records: stats.records,
            bytes: stats.bytes,
        };
        let gone = |address: &IpAddr, interface: Option<String>| GoneFlow {
            client: flow.client.to_string(),
            server: flow.server.to_string(),
            protocol: flow.protocol,
            port: flow.port,
            address: address.to_string(),
            interface,
            accepted: stats.accepted(),
            records: stats.records,
            bytes: stats.bytes,
            first: stats.first,
            last: stats.last,
        };
        match (client, server) {
            (Err(Err(interface)), _) => grouped.gone.push(gone(&flow.client, interface)),
            (_, Err(Err(interface))) => grouped.gone.push(gone(&flow.server, interface)),
            (Ok(Some(source)), Ok(Some(target))) => {
                let connection = ObservedConnection {
                    source,
                    target,
                    protocol: flow.protocol,
                    port: flow.port,
                    accepted: stats.accepted(),
                };
                grouped
                    .connections
                    .entry(connection)
                    .or_default()
                    .merge(stats);
            }
            (Err(Ok(candidates)), _) => grouped.undecided.push(undecided("client", candidates)),
            (_, Err(Ok(candidates))) => grouped.undecided.push(undecided("server", candidates)),
            _ => grouped.without_group += 1,
        }
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::suggest::interfaces::Interfaces;

    fn group_of(flows: &[(&str, &str)]) -> Grouped {
        let interfaces = interfaces();
        let seen = FxHashMap::default();
        let services = FxHashMap::default();
        let resolver = Resolver {
            interfaces: &interfaces,
            seen: &seen,
            vpc_cidrs: &[],
            services: &services,
        };
        group(&opened(flows), &resolver)
    }

    fn interfaces() -> Interfaces {
        let mut interfaces = Interfaces::default();
        interfaces
            .add_json(
                r#"{"NetworkInterfaces": [
                {"NetworkInterfaceId": "eni-1", "Groups": [{"GroupId": "sg-web"}, {"GroupId": "sg-ssm"}], "PrivateIpAddress": "10.0.0.1"},
                {"NetworkInterfaceId": "eni-2", "Groups": [{"GroupId": "sg-web"}, {"GroupId": "sg-ssm"}], "PrivateIpAddress": "10.0.0.2"},
                {"NetworkInterfaceId": "eni-3", "Groups": [{"GroupId": "sg-web"}, {"GroupId": "sg-logs"}], "PrivateIpAddress": "10.0.0.3"},
                {"NetworkInterfaceId": "eni-4", "Groups": [{"GroupId": "sg-db"}], "PrivateIpAddress": "10.0.0.4"},
                {"NetworkInterfaceId": "eni-5", "Groups": [], "PrivateIpAddress": "10.0.0.5"}]}"#,
            )
            .unwrap();
        interfaces
    }

    fn opened(flows: &[(&str, &str)]) -> BTreeMap<Opened, (FlowStats, Evidence)> {
        flows
            .iter()
            .map(|(client, server)| {
                let flow = Opened {
                    vpc: 0,
                    client: client.parse().unwrap(),
                    server: server.parse().unwrap(),
                    protocol: 6,
                    port: Some(5432),
                };
                (flow, (FlowStats::default(), Evidence::Syn))
            })
            .collect()
    }

    #[test]
    fn the_shared_group_takes_the_connection() {
        let grouped = group_of(&[("10.0.0.1", "10.0.0.4"), ("10.0.0.3", "10.0.0.4")]);
        assert!(grouped.undecided.is_empty());
        assert_eq!(grouped.connections.len(), 1);
        let connection = grouped.connections.keys().next().unwrap();
        assert_eq!(connection.source, ConnectionEnd::Group("sg-web".into()));
    }

    #[test]
    fn no_single_shared_group_is_undecided() {
        let grouped = group_of(&[("10.0.0.1", "10.0.0.4"), ("10.0.0.2", "10.0.0.4")]);
        assert_eq!(grouped.undecided.len(), 2);
        assert_eq!(grouped.undecided[0].candidates, ["sg-ssm", "sg-web"]);
        let grouped = group_of(&[("10.0.0.5", "10.0.0.4"), ("203.0.113.9", "10.0.0.4")]);
        assert_eq!(grouped.without_group, 1);
        assert!(
            grouped
                .connections
                .keys()
                .any(|c| c.source == ConnectionEnd::Address("203.0.113.9".parse().unwrap()))
        );
    }
}
