//! `open_ingress_admin`: SSH or RDP open to the whole internet.

use super::{Check, Detect, Detected};
use crate::inventory::flows::{Analysis, Flow, Traffic};

pub static CHECK: Check = Check {
    id: "open_ingress_admin",
    code: "mutualsg::audit::open_ingress_admin",
    summary: "SSH (22) or RDP (3389) open to the whole internet",
    finds: "ingress from `0.0.0.0/0` or `::/0` whose ports hold SSH (22) or RDP (3389), all traffic included",
    why: "administration ports open to the internet are scanned within minutes and brute-forced; they are the usual way in",
    fix: super::OPEN_INGRESS_FIX,
    severity: super::Severity::Error,
    can_be_unverified: false,
    equivalents: &super::OPEN_INGRESS_EQUIVALENTS,
    detect: Detect::Flow(detect),
};

/// SSH and RDP.
const PORTS: [i64; 2] = [22, 3389];

/// Whether the traffic holds SSH or RDP: all traffic does; ports given as expressions are
/// not guessed at.
pub(super) fn opens(traffic: &Traffic) -> bool {
    super::holds(traffic, &PORTS)
}

fn detect(analysis: &Analysis, flow: &Flow) -> Option<Detected> {
    if !super::is_open_ingress(flow) || !opens(&flow.traffic) {
        return None;
    }
    Some(super::open_ingress_finding(
        &CHECK,
        analysis,
        flow,
        "opens an administration port (SSH 22, RDP 3389) to",
    ))
}
