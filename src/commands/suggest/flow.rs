//! The values the reader and the opener share: a flow as its records name it, a flow as
//! opened (client port folded away), and what the records of one add up to.

use std::net::IpAddr;

/// TCP and UDP: the protocols whose security-group rules have ports.
pub fn has_ports(protocol: u8) -> bool {
    protocol == 6 || protocol == 17
}

/// A port's class: well-known (< 1024) 0, registered (1024–32767) 1, ephemeral (≥ 32768,
/// where the Linux and Windows ranges both start or above) 2. A lower class serves a higher.
pub fn port_class(port: u16) -> u8 {
    match port {
        0..=1023 => 0,
        1024..=32767 => 1,
        _ => 2,
    }
}

/// A flow in one direction, as the records name it: AWS aggregates a flow's packets per
/// interface and window, so several records (windows, the two interfaces) share a key.
/// `vpc` is the index of the records' VPC in [`super::interfaces::Interfaces::vpcs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub vpc: u16,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub srcport: u16,
    pub dstport: u16,
    pub protocol: u8,
}

/// A connection as opened: one per client address, server address, protocol and server
/// port (client ports folded away).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Opened {
    pub vpc: u16,
    pub client: IpAddr,
    pub server: IpAddr,
    pub protocol: u8,
    /// The server's port, for TCP and UDP.
    pub port: Option<u16>,
}

/// What the records of one flow add up to. Traffic is counted once, at one interface
/// ([`super::interfaces::Interfaces::counts`]); times, TCP flags and rejections are taken
/// from every record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowStats {
    pub records: u64,
    pub packets: u64,
    pub bytes: u64,
    /// Start of the first window and end of the last, Unix seconds.
    pub first: u64,
    pub last: u64,
    /// A SYN without ACK was seen: this direction's source opened the connection.
    pub syn: bool,
    /// A SYN-ACK was seen: this direction's destination opened it.
    pub synack: bool,
    /// Records with `action` REJECT, at any interface: a flow rejected anywhere is rejected.
    pub rejected: u64,
}

impl Default for FlowStats {
    fn default() -> Self {
        FlowStats {
            records: 0,
            packets: 0,
            bytes: 0,
            first: u64::MAX,
            last: 0,
            syn: false,
            synack: false,
            rejected: 0,
        }
    }
}

impl FlowStats {
    pub fn merge(&mut self, other: &FlowStats) {
        self.records += other.records;
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.syn |= other.syn;
        self.synack |= other.synack;
        self.rejected += other.rejected;
    }

    pub fn accepted(&self) -> bool {
        self.rejected == 0
    }
}

/// `tcp-flags` is the OR of the flags of a window's packets. AWS records FIN (1), SYN (2),
/// RST (4) and SYN-ACK (18) only: a SYN without the ACK bit is the opener's.
pub fn syn_flags(flags: Option<u16>) -> (bool, bool) {
    match flags {
        Some(flags) => (flags & 2 != 0 && flags & 16 == 0, flags & 16 != 0),
        None => (false, false),
    }
}

/// Who opened a TCP or UDP flow, told from one record alone: the port classes, when they
/// differ, and a SYN or SYN-ACK does not say otherwise. `Some(true)`: the source did.
/// `None`: the flow waits for all its records (its ports are of one class, or its flags
/// contradict them).
pub fn opened_by_source(srcport: u16, dstport: u16, syn: bool, synack: bool) -> Option<bool> {
    let by_class = match port_class(srcport).cmp(&port_class(dstport)) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => return None,
    };
    let contradicted = (syn && !by_class) || (synack && by_class);
    (!contradicted).then_some(by_class)
}
