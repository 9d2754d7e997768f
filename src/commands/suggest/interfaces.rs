//! The network interfaces of `aws ec2 describe-network-interfaces` (its JSON output): which
//! addresses belong to which interface, and which security groups each interface has; and
//! the subnets of `aws ec2 describe-subnets` (`--subnets`, or a `Subnets` list in the same
//! document), whose CIDR blocks name an address whose interface is gone.
//!
//! Several files may be given: other VPCs, and older snapshots that still list interfaces
//! since replaced. VPCs may reuse addresses, so an address is looked up within the VPC of
//! the record that names it; an interface listed twice (two snapshots) is the later file's.

use std::collections::BTreeMap;
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::format::FlowDirection;

#[derive(Debug, Clone)]
pub struct Interface {
    pub id: String,
    /// `interface`, `nat_gateway`, `load_balancer`, `vpc_endpoint`, ...
    pub kind: String,
    pub vpc: String,
    pub subnet: String,
    /// Security group ids, sorted.
    pub groups: Vec<String>,
    /// Delegated prefixes (`Ipv4Prefixes`, `Ipv6Prefixes`: EKS pods, ...).
    pub prefixes: Vec<(IpAddr, u8)>,
}

#[derive(Debug, Clone)]
pub struct Subnet {
    pub id: String,
    pub vpc: String,
    pub cidrs: Vec<(IpAddr, u8)>,
}

/// Every known interface, by address, and every known subnet.
#[derive(Debug)]
pub struct Interfaces {
    pub list: Vec<Interface>,
    by_address: FxHashMap<IpAddr, Vec<usize>>,
    by_id: FxHashMap<String, usize>,
    /// Interfaces with delegated prefixes.
    prefixed: Vec<usize>,
    pub subnets: Vec<Subnet>,
    /// VPC ids, interned: a flow carries the index of its record's VPC (0: unknown).
    pub vpcs: Vec<String>,
    /// Group id → group name, as the interfaces name them.
    pub group_names: BTreeMap<String, String>,
}

impl Default for Interfaces {
    fn default() -> Self {
        Interfaces {
            list: Vec::new(),
            by_address: FxHashMap::default(),
            by_id: FxHashMap::default(),
            prefixed: Vec::new(),
            subnets: Vec::new(),
            vpcs: vec![String::new()],
            group_names: BTreeMap::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Document {
    #[serde(default)]
    network_interfaces: Option<Vec<RawInterface>>,
    #[serde(default)]
    subnets: Option<Vec<RawSubnet>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawInterface {
    network_interface_id: String,
    #[serde(default)]
    interface_type: Option<String>,
    #[serde(default)]
    vpc_id: Option<String>,
    #[serde(default)]
    subnet_id: Option<String>,
    #[serde(default)]
    groups: Vec<RawGroup>,
    #[serde(default)]
    private_ip_address: Option<String>,
    #[serde(default)]
    private_ip_addresses: Vec<RawPrivate>,
    #[serde(default)]
    ipv6_addresses: Vec<RawIpv6>,
    #[serde(default)]
    ipv4_prefixes: Vec<RawIpv4Prefix>,
    #[serde(default)]
    ipv6_prefixes: Vec<RawIpv6Prefix>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawGroup {
    group_id: String,
    #[serde(default)]
    group_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPrivate {
    private_ip_address: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawIpv6 {
    ipv6_address: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawIpv4Prefix {
    ipv4_prefix: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawIpv6Prefix {
    ipv6_prefix: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawSubnet {
    subnet_id: String,
    #[serde(default)]
    vpc_id: Option<String>,
    #[serde(default)]
    cidr_block: Option<String>,
    #[serde(default)]
    ipv6_cidr_block_association_set: Vec<RawIpv6Block>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawIpv6Block {
    ipv6_cidr_block: String,
}

fn parse_document(text: &str, what: &str) -> Result<Document, String> {
    serde_json::from_str(text).map_err(|error| {
        format!(
            "not the output of `aws ec2 {what}`: {error} (line {}, column {})",
            error.line(),
            error.column()
        )
    })
}

impl Interfaces {
    /// Adds the interfaces (and subnets, if it lists them) of one JSON document of
    /// `describe-network-interfaces`; the message says what is wrong with it.
    pub fn add_json(&mut self, text: &str) -> Result<(), String> {
        let document = parse_document(text, "describe-network-interfaces")?;
        if document.network_interfaces.is_none() && document.subnets.is_none() {
            return Err("not the output of `aws ec2 describe-network-interfaces`: no NetworkInterfaces list".to_string());
        }
        self.add_subnets(document.subnets.unwrap_or_default())?;
        for raw in document.network_interfaces.unwrap_or_default() {
            self.add_interface(raw)?;
        }
        Ok(())
    }

    /// Adds the subnets of `describe-subnets` output (`--subnets`).
    pub fn add_subnets_json(&mut self, text: &str) -> Result<(), String> {
        let document = parse_document(text, "describe-subnets")?;
        let Some(subnets) = document.subnets else {
            return Err(
                "not the output of `aws ec2 describe-subnets`: no Subnets list".to_string(),
            );
        };
        self.add_subnets(subnets)
    }

    fn intern_vpc(&mut self, vpc: &str) {
        if !vpc.is_empty() && !self.vpcs.iter().any(|v| v == vpc) {
            self.vpcs.push(vpc.to_string());
        }
    }

    /// The index of a VPC id (0 when no interface or subnet is in it).
    pub fn vpc_index(&self, vpc: &str) -> u16 {
        self.vpcs
            .iter()
            .position(|v| v == vpc)
            .map_or(0, |index| index as u16)
    }

    fn add_subnets(&mut self, subnets: Vec<RawSubnet>) -> Result<(), String> {
        for raw in subnets {
            let mut cidrs = Vec::new();
            let blocks = raw.cidr_block.iter().map(String::as_str).chain(
                raw.ipv6_cidr_block_association_set
                    .iter()
                    .map(|b| b.ipv6_cidr_block.as_str()),
            );
            for block in blocks {
                cidrs.push(
                    super::tree::network(block).ok_or_else(|| {
                        format!("{}: `{block}` is not a CIDR block", raw.subnet_id)
                    })?,
                );
            }
            let vpc = raw.vpc_id.unwrap_or_default();
            self.intern_vpc(&vpc);
            self.subnets.retain(|s| s.id != raw.subnet_id);
            self.subnets.push(Subnet {
                id: raw.subnet_id,
                vpc,
                cidrs,
            });
        }
        Ok(())
    }

    fn add_interface(&mut self, raw: RawInterface) -> Result<(), String> {
        let index = match self.by_id.get(&raw.network_interface_id) {
            Some(&index) => index,
            None => self.list.len(),
        };
        let mut addresses: Vec<&str> = raw.private_ip_address.iter().map(String::as_str).collect();
        addresses.extend(
            raw.private_ip_addresses
                .iter()
                .map(|p| p.private_ip_address.as_str()),
        );
        addresses.extend(raw.ipv6_addresses.iter().map(|p| p.ipv6_address.as_str()));
        for address in addresses {
            let parsed: IpAddr = address.parse().map_err(|_| {
                format!(
                    "{}: `{address}` is not an address",
                    raw.network_interface_id
                )
            })?;
            let indices = self.by_address.entry(parsed).or_default();
            indices.retain(|&i| i != index);
            indices.push(index);
        }
        let mut prefixes = Vec::new();
        let delegated = raw
            .ipv4_prefixes
            .iter()
            .map(|p| p.ipv4_prefix.as_str())
            .chain(raw.ipv6_prefixes.iter().map(|p| p.ipv6_prefix.as_str()));
        for prefix in delegated {
            prefixes.push(super::tree::network(prefix).ok_or_else(|| {
                format!("{}: `{prefix}` is not a prefix", raw.network_interface_id)
            })?);
        }
        let mut groups = Vec::new();
        for group in raw.groups {
            if let Some(name) = group.group_name {
                self.group_names.insert(group.group_id.clone(), name);
            }
            groups.push(group.group_id);
        }
        groups.sort();
        groups.dedup();
        let vpc = raw.vpc_id.unwrap_or_default();
        self.intern_vpc(&vpc);
        if !prefixes.is_empty() && !self.prefixed.contains(&index) {
            self.prefixed.push(index);
        }
        let interface = Interface {
            id: raw.network_interface_id,
            kind: raw
                .interface_type
                .unwrap_or_else(|| "interface".to_string()),
            vpc,
            subnet: raw.subnet_id.unwrap_or_default(),
            groups,
            prefixes,
        };
        if index == self.list.len() {
            self.by_id.insert(interface.id.clone(), index);
            self.list.push(interface);
        } else {
            self.list[index] = interface;
        }
        Ok(())
    }

    /// The interface of `address` in VPC `vpc` (an index of [`Interfaces::vpcs`], 0 when the
    /// record does not say): its own address first, then a delegated prefix. An address that
    /// two VPCs use, when the record does not say which, has no interface here.
    pub fn of(&self, vpc: u16, address: &IpAddr) -> Option<&Interface> {
        let wanted = (vpc != 0).then(|| self.vpcs[usize::from(vpc)].as_str());
        let in_vpc = |index: &&usize| wanted.is_none_or(|vpc| self.list[**index].vpc == vpc);
        let pick = |candidates: Vec<usize>| -> Option<&Interface> {
            let last = *candidates.last()?;
            let vpc = &self.list[last].vpc;
            candidates
                .iter()
                .all(|&i| self.list[i].vpc == *vpc)
                .then(|| &self.list[last])
        };
        if let Some(all) = self.by_address.get(address) {
            let local: Vec<usize> = all.iter().filter(in_vpc).copied().collect();
            // An address of another VPC (peering, a transit gateway) is looked up anywhere.
            return pick(if local.is_empty() { all.clone() } else { local });
        }
        let delegated: Vec<usize> = self
            .prefixed
            .iter()
            .filter(in_vpc)
            .filter(|&&i| {
                self.list[i]
                    .prefixes
                    .iter()
                    .any(|network| super::tree::contains(*network, address))
            })
            .copied()
            .collect();
        pick(delegated)
    }

    pub fn by_id(&self, id: &str) -> Option<&Interface> {
        self.by_id.get(id).map(|&index| &self.list[index])
    }

    /// The subnet `id`, or the subnet (of VPC `vpc` when known) whose block holds `address`.
    pub fn subnet(
        &self,
        vpc: u16,
        id: Option<&str>,
        address: &IpAddr,
    ) -> Option<(&Subnet, (IpAddr, u8))> {
        let wanted = (vpc != 0).then(|| self.vpcs[usize::from(vpc)].as_str());
        self.subnets
            .iter()
            .filter(|subnet| match id {
                Some(id) => subnet.id == id,
                None => wanted.is_none_or(|vpc| subnet.vpc == vpc),
            })
            .find_map(|subnet| {
                subnet
                    .cidrs
                    .iter()
                    .find(|network| super::tree::contains(**network, address))
                    .map(|network| (subnet, *network))
            })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether a record seen at `interface` is the one to count the traffic of: the same
    /// flow is logged by the interface it leaves and by the one it enters (and by a NAT
    /// gateway's in between). It is counted where it leaves (its source's interface), else,
    /// when the source is no known interface, where it enters (its destination's). Without
    /// the interface in the format, `flow-direction` tells (egress, else ingress); without
    /// either, every record counts.
    pub fn counts(
        &self,
        vpc: u16,
        src: &IpAddr,
        dst: &IpAddr,
        interface: Option<&str>,
        direction: Option<FlowDirection>,
    ) -> bool {
        Interfaces::counted(self.of(vpc, src), self.of(vpc, dst), interface, direction)
    }

    /// [`Interfaces::counts`] with the two ends' interfaces already looked up.
    pub fn counted(
        src: Option<&Interface>,
        dst: Option<&Interface>,
        interface: Option<&str>,
        direction: Option<FlowDirection>,
    ) -> bool {
        let (own, wanted) = match (src, dst) {
            (Some(own), _) => (own, FlowDirection::Egress),
            (None, Some(own)) => (own, FlowDirection::Ingress),
            (None, None) => return true,
        };
        match (interface, direction) {
            (Some(interface), _) => own.id == interface,
            (None, Some(direction)) => direction == wanted,
            (None, None) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cli_output() {
        let mut interfaces = Interfaces::default();
        interfaces
            .add_json(
                r#"{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "VpcId": "vpc-1",
                "InterfaceType": "interface", "Groups": [{"GroupId": "sg-2", "GroupName": "b"},
                {"GroupId": "sg-1", "GroupName": "a"}], "PrivateIpAddress": "10.0.0.5",
                "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.5"}, {"PrivateIpAddress": "10.0.0.6"}],
                "Ipv6Addresses": [{"Ipv6Address": "2600:1f18::5"}]}]}"#,
            )
            .unwrap();
        let one = interfaces.of(0, &"10.0.0.6".parse().unwrap()).unwrap();
        assert_eq!(one.groups, ["sg-1", "sg-2"]);
        assert!(interfaces.of(0, &"2600:1f18::5".parse().unwrap()).is_some());
        assert!(interfaces.add_json("{}").is_err());
    }
}
