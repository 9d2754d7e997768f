//! `open_ingress`: ingress from the whole internet on ports that are neither administration
//! nor database ports (a web server's 443, say: often meant, so often suppressed).

use super::{Check, Detect, Detected};
use crate::inventory::flows::{Analysis, Flow};

pub static CHECK: Check = Check {
    id: "open_ingress",
    code: "mutualsg::audit::open_ingress",
    summary: "Ingress from the whole internet (0.0.0.0/0 or ::/0)",
    finds: "ingress from `0.0.0.0/0` or `::/0` on other ports (a public load balancer's 443, say)",
    why: "everything on the internet can reach the port; when that is meant (a public load balancer), say so with a suppression comment and its reason",
    fix: super::OPEN_INGRESS_FIX,
    severity: super::Severity::Error,
    can_be_unverified: false,
    equivalents: &super::OPEN_INGRESS_EQUIVALENTS,
    detect: Detect::Flow(detect),
};

fn detect(analysis: &Analysis, flow: &Flow) -> Option<Detected> {
    if !super::is_open_ingress(flow)
        || super::open_ingress_admin::opens(&flow.traffic)
        || super::open_ingress_database::opens(&flow.traffic)
    {
        return None;
    }
    Some(super::open_ingress_finding(
        &CHECK,
        analysis,
        flow,
        "is open to",
    ))
}
