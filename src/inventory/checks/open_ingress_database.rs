//! `open_ingress_database`: a database port open to the whole internet.

use super::{Check, Detect, Detected};
use crate::inventory::flows::{Analysis, Flow, Traffic};

pub static CHECK: Check = Check {
    id: "open_ingress_database",
    code: "mutualsg::audit::open_ingress_database",
    summary: "A database port open to the whole internet",
    finds: "ingress from `0.0.0.0/0` or `::/0` whose ports hold a database port (SQL Server 1433, Oracle 1521, MySQL 3306, PostgreSQL 5432, Redis 6379, MongoDB 27017), and not SSH or RDP",
    why: "databases reachable from the internet are found by scanners and attacked with stolen or default credentials",
    fix: super::OPEN_INGRESS_FIX,
    severity: super::Severity::Error,
    can_be_unverified: false,
    equivalents: &super::OPEN_INGRESS_EQUIVALENTS,
    detect: Detect::Flow(detect),
};

/// SQL Server, Oracle, MySQL, PostgreSQL, Redis, MongoDB.
const PORTS: [i64; 6] = [1433, 1521, 3306, 5432, 6379, 27017];

pub(super) fn opens(traffic: &Traffic) -> bool {
    super::holds(traffic, &PORTS)
}

fn detect(analysis: &Analysis, flow: &Flow) -> Option<Detected> {
    if !super::is_open_ingress(flow)
        || super::open_ingress_admin::opens(&flow.traffic)
        || !opens(&flow.traffic)
    {
        return None;
    }
    Some(super::open_ingress_finding(
        &CHECK,
        analysis,
        flow,
        "opens a database port to",
    ))
}
