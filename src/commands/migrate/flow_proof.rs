//! `migrate --close-egress` with flow logs: a group's open egress goes when nothing the group
//! sent, as the flow logs show it (read as `suggest` reads them), would break. Each accepted
//! connection the group opened must be allowed by an egress rule that stays (declared, or
//! written by `--add-egress` in this run); destinations outside the VPC are drafted as
//! one-sided connections to their addresses (the new egress rules of the plan). Traffic to a
//! group the module does not declare, to an AWS service, to an address whose interface is
//! gone, or that the flow logs cannot put on one group keeps the group open, with why.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::close_egress::is_open_egress;
use super::{Half, OldAddresses, Planner, connection_text, quote};
use crate::commands::suggest::connections::ConnectionEnd;
use crate::commands::suggest::names::{count, traffic_label};
use crate::commands::suggest::observed::Observed;
use crate::commands::suggest::tree::{contains, network};
use crate::generate::squeeze;
use crate::inventory::{RulePeer, Written};
use crate::schema::Direction;

/// The connections a group's close adds: its outside destinations, one connection per
/// protocol and port.
pub(super) type Drafts = Vec<(String, OldAddresses)>;

impl Planner<'_> {
    /// The connections to add so that closing `group`'s open egress breaks nothing the flow
    /// logs show it sent, or why it stays open.
    pub(super) fn flow_proof(&self, observed: &Observed, group: &str) -> Result<Drafts, String> {
        let ids = self.ids_of(observed, group);
        if ids.is_empty() {
            return Err(format!(
                "no interface of --interfaces carries {} (matched by the group's `name`, or by --state), so the flow logs show nothing of what it sends",
                group_address(group)
            ));
        }
        if let Some(undecided) = observed
            .undecided
            .iter()
            .find(|u| u.side == "client" && u.candidates.iter().any(|c| ids.contains(c)))
        {
            return Err(format!(
                "{} sent {} to {} from an interface with several groups, and the flow logs cannot tell which group needs it",
                undecided.client,
                traffic_label(undecided.protocol, undecided.port.map(|p| (p, p))),
                undecided.server
            ));
        }
        let mut outside: BTreeMap<(u8, u16), (Vec<IpAddr>, u64)> = BTreeMap::new();
        for (connection, stats) in &observed.accepted {
            let ConnectionEnd::Group(source) = &connection.source else {
                continue;
            };
            if !ids.contains(source) {
                continue;
            }
            let traffic = traffic_label(connection.protocol, connection.port.map(|p| (p, p)));
            let records = count(stats.records, "record");
            match &connection.target {
                ConnectionEnd::Group(target) => {
                    let Some(peer) = self.group_expression(observed, target) else {
                        let name = observed
                            .group_names
                            .get(target)
                            .map(|name| format!(" ({name})"))
                            .unwrap_or_default();
                        return Err(format!(
                            "it sent {traffic} to the group {target}{name}, which this module does not declare ({records}): closing its egress would break that"
                        ));
                    };
                    if !self.egress_allows(
                        group,
                        |rule_peer| match rule_peer {
                            RulePeer::Group(expr) => *expr == peer,
                            RulePeer::SelfGroup => peer == group,
                            RulePeer::Address { .. } => false,
                        },
                        connection.protocol,
                        connection.port,
                    ) {
                        return Err(format!(
                            "it sent {traffic} to {} ({records}), which no egress rule of it allows once the open egress goes: write that connection (or the ingress rule `--add-egress` completes)",
                            group_address(&peer)
                        ));
                    }
                }
                ConnectionEnd::Address(address) => {
                    let allowed = self.egress_allows(
                        group,
                        |rule_peer| match rule_peer {
                            RulePeer::Address { value, .. } => {
                                network(value).is_some_and(|block| contains(block, address))
                            }
                            _ => false,
                        },
                        connection.protocol,
                        connection.port,
                    );
                    if allowed {
                        continue;
                    }
                    match (connection.protocol, connection.port) {
                        (6 | 17, Some(port)) => {
                            let entry = outside.entry((connection.protocol, port)).or_default();
                            entry.0.push(*address);
                            entry.1 += stats.records;
                        }
                        _ => {
                            return Err(format!(
                                "it sent {traffic} to {address} ({records}); mutualsg drafts connections to addresses for TCP and UDP only"
                            ));
                        }
                    }
                }
                ConnectionEnd::Subnet(subnet, _) => {
                    return Err(format!(
                        "it sent {traffic} to an address of {subnet} whose interface is gone ({records}): nothing shows which group it needs"
                    ));
                }
                ConnectionEnd::Service(service) => {
                    return Err(format!(
                        "it sent {traffic} to the AWS service {service} ({records}), whose addresses flow logs do not pin down: allow it with the service's prefix list"
                    ));
                }
            }
        }
        Ok(outside
            .into_iter()
            .map(|((protocol, port), (mut addresses, records))| {
                addresses.sort();
                addresses.dedup();
                draft(group, protocol, port, &addresses, records)
            })
            .collect())
    }

    /// Whether an egress rule of `group` that stays allows this traffic to a peer `peer`
    /// accepts, or an egress half `--add-egress` writes in this run does.
    fn egress_allows(
        &self,
        group: &str,
        peer: impl Fn(&RulePeer) -> bool,
        protocol: u8,
        port: Option<u16>,
    ) -> bool {
        let declared = self.model.rules.iter().any(|rule| {
            rule.direction == Direction::Egress
                && rule.group == group
                && !is_open_egress(rule)
                && covers(
                    &rule.protocol,
                    &rule.from_port,
                    &rule.to_port,
                    protocol,
                    port,
                )
                && rule.peers.iter().any(&peer)
        });
        declared
            || self
                .egress_written
                .iter()
                .any(|[source, target, proto, from, to]| {
                    source == group
                        && peer(&RulePeer::Group(Written::opaque(target)))
                        && covers(proto, from, to, protocol, port)
                })
    }

    /// The ids the flow logs know `group` (`aws_security_group.web.id`) by: from the state's
    /// addresses, and from the interfaces' group names matched with its literal `name`.
    fn ids_of(&self, observed: &Observed, group: &str) -> Vec<String> {
        let resource = group_address(group);
        let name = self.group_name(&resource);
        observed
            .addresses
            .iter()
            .filter(|(_, address)| **address == resource)
            .map(|(id, _)| id)
            .chain(
                observed
                    .group_names
                    .iter()
                    .filter(|(_, group_name)| Some(group_name.as_str()) == name.as_deref())
                    .map(|(id, _)| id),
            )
            .cloned()
            .collect()
    }

    /// The expression (`aws_security_group.db.id`) of the group of this module with id `id`.
    fn group_expression(&self, observed: &Observed, id: &str) -> Option<String> {
        let declared = |resource: &str| {
            self.model
                .groups
                .iter()
                .any(|group| group.address == resource)
        };
        if let Some(resource) = observed.addresses.get(id).filter(|r| declared(r)) {
            return Some(format!("{resource}.id"));
        }
        let name = observed.group_names.get(id)?;
        let mut named = self
            .model
            .groups
            .iter()
            .filter(|group| self.group_name(&group.address).as_deref() == Some(name.as_str()));
        let group = named.next()?;
        // Two groups of one name (in two VPCs): the id cannot tell them apart.
        named
            .next()
            .is_none()
            .then(|| format!("{}.id", group.address))
    }

    /// The literal `name` of the module's group at `resource` (`aws_security_group.web`).
    fn group_name(&self, resource: &str) -> Option<String> {
        let (kind, label) = resource.split_once('.')?;
        self.model
            .files
            .iter()
            .flat_map(|parsed| parsed.body.blocks_of("resource"))
            .find(|block| block.label(0) == Some(kind) && block.label(1) == Some(label))?
            .body
            .attribute("name")?
            .value
            .string()
            .map(str::to_string)
    }
}

/// `aws_security_group.web` of `aws_security_group.web.id`.
fn group_address(group: &str) -> String {
    group.strip_suffix(".id").unwrap_or(group).to_string()
}

/// Whether a rule of `rule_protocol` from `from` to `to` allows `protocol` to `port`.
fn covers(rule_protocol: &str, from: &str, to: &str, protocol: u8, port: Option<u16>) -> bool {
    let rule_protocol = rule_protocol.trim_matches('"').to_ascii_lowercase();
    if rule_protocol == "-1" || rule_protocol == "all" {
        return true;
    }
    let number = match rule_protocol.as_str() {
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "icmpv6" => Some(58),
        other => other.parse::<u8>().ok(),
    };
    if number != Some(protocol) {
        return false;
    }
    let Some(port) = port else {
        return true;
    };
    let bound = |text: &str| squeeze(text).parse::<i64>().ok();
    matches!((bound(from), bound(to)), (Some(from), Some(to)) if from <= i64::from(port) && i64::from(port) <= to)
}

/// A one-sided connection from `group` to the addresses it reached outside the VPC.
fn draft(
    group: &str,
    protocol: u8,
    port: u16,
    addresses: &[IpAddr],
    records: u64,
) -> (String, OldAddresses) {
    let blocks = |v6: bool| -> Vec<String> {
        addresses
            .iter()
            .filter(|address| address.is_ipv6() == v6)
            .map(|address| quote(&format!("{address}/{}", if v6 { 128 } else { 32 })))
            .collect()
    };
    let mut lines: Vec<(&str, String)> = vec![("source_sg_id", group.to_string())];
    let (v4, v6) = (blocks(false), blocks(true));
    if !v4.is_empty() {
        lines.push(("target_cidr_blocks", format!("[{}]", v4.join(", "))));
    }
    if !v6.is_empty() {
        lines.push(("target_ipv6_cidr_blocks", format!("[{}]", v6.join(", "))));
    }
    if protocol != 6 {
        lines.push(("protocol", quote("udp")));
    }
    lines.push(("from_port", port.to_string()));
    lines.push(("description", quote("Seen in flow logs")));
    let comment = vec![format!(
        "# Drafted by `mutualsg migrate --close-egress` from the flow logs ({}).",
        count(records, "record")
    )];
    let old = OldAddresses::Adopted {
        egress: Half::New,
        ingress: Half::New,
    };
    (connection_text(&comment, &lines), old)
}
