//! The network interfaces of `aws ec2 describe-network-interfaces` (its JSON output): which
//! addresses belong to which interface, and which security groups each interface has.

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
    /// Security group ids, sorted.
    pub groups: Vec<String>,
}

/// Every known interface, by address.
#[derive(Debug, Default)]
pub struct Interfaces {
    pub list: Vec<Interface>,
    by_address: FxHashMap<IpAddr, usize>,
    /// Group id → group name, as the interfaces name them.
    pub group_names: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Document {
    network_interfaces: Vec<RawInterface>,
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
    groups: Vec<RawGroup>,
    #[serde(default)]
    private_ip_address: Option<String>,
    #[serde(default)]
    private_ip_addresses: Vec<RawPrivate>,
    #[serde(default)]
    ipv6_addresses: Vec<RawIpv6>,
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

impl Interfaces {
    /// Adds the interfaces of one JSON document; the message says what is wrong with it.
    pub fn add_json(&mut self, text: &str) -> Result<(), String> {
        let document: Document = serde_json::from_str(text).map_err(|error| {
            format!(
                "not the output of `aws ec2 describe-network-interfaces`: {error} (line {}, column {})",
                error.line(),
                error.column()
            )
        })?;
        for raw in document.network_interfaces {
            let index = self.list.len();
            let mut addresses: Vec<&str> =
                raw.private_ip_address.iter().map(String::as_str).collect();
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
                self.by_address.insert(parsed, index);
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
            self.list.push(Interface {
                id: raw.network_interface_id,
                kind: raw
                    .interface_type
                    .unwrap_or_else(|| "interface".to_string()),
                vpc: raw.vpc_id.unwrap_or_default(),
                groups,
            });
        }
        Ok(())
    }

    pub fn of(&self, address: &IpAddr) -> Option<&Interface> {
        self.by_address.get(address).map(|&index| &self.list[index])
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
        src: &IpAddr,
        dst: &IpAddr,
        interface: Option<&str>,
        direction: Option<FlowDirection>,
    ) -> bool {
        let (own, wanted) = match (self.of(src), self.of(dst)) {
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
        let one = interfaces.of(&"10.0.0.6".parse().unwrap()).unwrap();
        assert_eq!(one.groups, ["sg-1", "sg-2"]);
        assert!(interfaces.of(&"2600:1f18::5".parse().unwrap()).is_some());
        assert!(interfaces.add_json("{}").is_err());
    }
}
