//! How groups are named in the report and in the draft: by Terraform address when the state
//! says (`aws_security_group.web`), else by id with the name the interfaces give it.

use std::net::IpAddr;

use super::connections::ConnectionEnd;
use super::interfaces::Interfaces;
use super::state::StateNames;

pub struct Namer<'a> {
    pub state: Option<&'a StateNames>,
    pub interfaces: &'a Interfaces,
}

impl Namer<'_> {
    /// `aws_security_group.web`, `module.db.aws_security_group.this`, `sg-0abc (web)`.
    pub fn group(&self, id: &str) -> String {
        if let Some(address) = self.state.and_then(|state| state.groups.get(id)) {
            return address.full();
        }
        match self.interfaces.group_names.get(id) {
            Some(name) => format!("{id} ({name})"),
            None => id.to_string(),
        }
    }

    pub fn side(&self, side: &ConnectionEnd) -> String {
        match side {
            ConnectionEnd::Group(id) => self.group(id),
            ConnectionEnd::Address(address) => address.to_string(),
            ConnectionEnd::Subnet(id, (address, bits)) => format!("{address}/{bits} ({id})"),
            ConnectionEnd::Service(service) => format!("AWS service {service}"),
        }
    }

    /// The module that owns a group (`""` for the root module), when the state says.
    pub fn module_of(&self, id: &str) -> Option<String> {
        self.state
            .and_then(|state| state.groups.get(id))
            .map(|address| address.module.clone())
    }

    /// The group's id as an expression in `module`: its address there, else its id.
    pub fn expression(&self, id: &str, module: Option<&str>) -> String {
        match self.state.and_then(|state| state.groups.get(id)) {
            Some(address) if Some(address.module.as_str()) == module => {
                format!("{}.id", address.resource)
            }
            _ => format!("\"{id}\""),
        }
    }

    /// Who an address is, for the egress report: its interface's groups, else the interface.
    pub fn address_owner(&self, vpc: u16, address: &IpAddr) -> String {
        match self.interfaces.of(vpc, address) {
            Some(interface) if !interface.groups.is_empty() => interface
                .groups
                .iter()
                .map(|group| self.group(group))
                .collect::<Vec<_>>()
                .join(" + "),
            Some(interface) => format!("{} ({})", interface.id, interface.kind),
            None => address.to_string(),
        }
    }
}

/// `tcp`, `udp`, `icmp`, `icmpv6`, or the protocol number.
pub fn protocol_name(protocol: u8) -> String {
    match protocol {
        6 => "tcp".to_string(),
        17 => "udp".to_string(),
        1 => "icmp".to_string(),
        58 => "icmpv6".to_string(),
        other => other.to_string(),
    }
}

/// `443/tcp`, `8000-8100/tcp`, `icmp`, `proto 50`.
pub fn traffic_label(protocol: u8, ports: Option<(u16, u16)>) -> String {
    match (protocol, ports) {
        (6 | 17, Some((from, to))) if from == to => format!("{from}/{}", protocol_name(protocol)),
        (6 | 17, Some((from, to))) => format!("{from}-{to}/{}", protocol_name(protocol)),
        (1 | 58, _) => protocol_name(protocol),
        (other, _) => format!("proto {other}"),
    }
}

/// Unix seconds as `2026-11-01T10:00:00Z`.
pub fn time(seconds: u64) -> String {
    if seconds == u64::MAX || seconds == 0 {
        return "-".to_string();
    }
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `1 record`, `2 records`: a count with its noun, singular for one.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `840 B`, `12.3 kB`, `4.5 MB`, `1.2 GB`.
pub fn bytes(count: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{count} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_sizes() {
        assert_eq!(time(0), "-");
        assert_eq!(time(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(bytes(840), "840 B");
        assert_eq!(bytes(12_345), "12.3 kB");
        assert_eq!(traffic_label(6, Some((8000, 8100))), "8000-8100/tcp");
        assert_eq!(traffic_label(50, None), "proto 50");
    }
}
