//! Who an address is, within the VPC of the records that name it: an interface (by its
//! address, a delegated prefix, or the `interface-id` of a record logged at it), a subnet's
//! block, an address in the VPC that nothing names any more, or an address outside.
//!
//! An address in the VPC is never an address peer: written as a `/32`, it would stop
//! matching when the next instance takes another address, and aggregated it would open the
//! group to the internet. Its records are reported instead ("interface gone").

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::interfaces::{Interface, Interfaces};
use super::read::Seen;
use super::tree;

#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Interface(&'a Interface),
    /// No interface has the address; the subnet whose block holds it does.
    Subnet {
        id: &'a str,
        network: (IpAddr, u8),
    },
    /// In the VPC (a record was logged at its own interface, or it is inside `--vpc-cidr`),
    /// and neither an interface nor a subnet names it.
    Gone {
        /// The interface that logged it, when one did.
        interface: Option<&'a str>,
    },
    /// An address of an AWS service (`pkt-*-aws-service`): `S3`, `DYNAMODB`, `EC2`, ...
    Service(&'a str),
    Outside,
}

pub struct Resolver<'a> {
    pub interfaces: &'a Interfaces,
    pub seen: &'a FxHashMap<(u16, IpAddr), Seen>,
    pub vpc_cidrs: &'a [(IpAddr, u8)],
    pub services: &'a FxHashMap<IpAddr, String>,
}

impl<'a> Resolver<'a> {
    pub fn owner(&self, vpc: u16, address: &IpAddr) -> Owner<'a> {
        if let Some(interface) = self.interfaces.of(vpc, address) {
            return Owner::Interface(interface);
        }
        let seen = self.seen.get(&(vpc, *address));
        if let Some(interface) = seen.and_then(|seen| self.interfaces.by_id(&seen.interface)) {
            return Owner::Interface(interface);
        }
        let subnet_id = seen.and_then(|seen| seen.subnet.as_deref());
        let subnet = subnet_id
            .and_then(|id| self.interfaces.subnet(vpc, Some(id), address))
            .or_else(|| self.interfaces.subnet(vpc, None, address));
        if let Some((subnet, network)) = subnet {
            return Owner::Subnet {
                id: &subnet.id,
                network,
            };
        }
        let in_vpc = self
            .vpc_cidrs
            .iter()
            .any(|network| tree::contains(*network, address));
        match seen {
            Some(seen) => Owner::Gone {
                interface: Some(&seen.interface),
            },
            None if in_vpc => Owner::Gone { interface: None },
            None => match self.services.get(address) {
                Some(service) => Owner::Service(service),
                None => Owner::Outside,
            },
        }
    }

    /// The interface of `address`, if it has one.
    pub fn interface(&self, vpc: u16, address: &IpAddr) -> Option<&'a Interface> {
        match self.owner(vpc, address) {
            Owner::Interface(interface) => Some(interface),
            _ => None,
        }
    }
}

/// RFC 1918, RFC 6598 (100.64/10), RFC 4193 (fc00::/7) and link-local addresses: never
/// aggregated with other addresses.
pub fn is_private(address: &IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || v4.is_link_local() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80
        }
    }
}
