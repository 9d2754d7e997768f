//! `half_open_pair`: a rule between two groups whose other half nothing in the tree
//! declares. AWS lets traffic through only when the sender's egress and the receiver's
//! ingress both allow it; the flows ([`crate::inventory::flows`]) pair the halves, and the
//! whole tree ([`crate::inventory::tree`]) judges what a module alone cannot.

use super::{Check, Detect, Detected};
use crate::diagnostics::Diagnostic;
use crate::inventory::flows::{Analysis, Flow, FlowFinding};
use crate::schema::Direction;

pub static CHECK: Check = Check {
    id: "half_open_pair",
    code: "mutualsg::audit::half_open_pair",
    summary: "A rule between two groups whose other half nothing in the tree declares",
    finds: "an egress rule to a group with no ingress rule on that group allowing it (or the reverse), on the group or any group attached with it, anywhere in the tree",
    why: "the connection does not work (AWS needs both halves), or the other half lives outside Terraform where no review sees it; a dead half is a rule nobody can explain",
    fix: "add the missing rule on the other group, or write the connection once in mutual_rules; if nothing uses it, delete this rule",
    severity: super::Severity::Error,
    can_be_unverified: true,
    equivalents: &[],
    detect: Detect::Flow(detect),
};

fn detect(analysis: &Analysis, flow: &Flow) -> Option<Detected> {
    let Some(FlowFinding::HalfOpen {
        missing,
        unverified,
        matched,
    }) = &flow.finding
    else {
        return None;
    };
    let rule = &analysis.model.rules[flow.rules[0]];
    let direction = rule.direction;
    let (group, peer) = match missing {
        Direction::Ingress => (&flow.source, &flow.target),
        Direction::Egress => (&flow.target, &flow.source),
    };
    let (group, peer, traffic) = (group.label(), peer.label(), flow.traffic.label());
    let (toward, missing_name) = match direction {
        Direction::Egress => ("to", "ingress"),
        Direction::Ingress => ("from", "egress"),
    };
    let mut claim = format!(
        "{direction} on {group} {toward} {peer} ({traffic}) has no {missing_name} rule on {peer}, or on a group attached with it, that allows it"
    );
    if let Some(matched) = matched {
        claim.push_str(&format!(" (remote state {matched})"));
    }
    let message = match unverified {
        None => claim,
        Some(why) => format!("unverified: {claim}, as far as this tree shows: {why}"),
    };
    let label = match direction {
        Direction::Egress => "no ingress rule allows this",
        Direction::Ingress => "no egress rule allows this",
    };
    let help = format!(
        "AWS lets the traffic through only when a group on the sending interface allows it out and a group on the receiving interface allows it in: add the {missing_name} rule on {peer}, or write the connection once in mutual_rules; if nothing uses it, delete this rule"
    );
    let problem = super::problem(&CHECK, message, label, help, unverified.is_some());
    let mut short = format!("no {missing}");
    if unverified.is_some() {
        short.push_str(" (unverified)");
    }
    Some(Detected {
        diagnostic: Diagnostic::at(problem, &rule.file, rule.span.clone()),
        group,
        peer,
        traffic: format!("{direction} {traffic}"),
        scopes: super::rule_scopes(rule),
        short,
        unverified: unverified.clone(),
    })
}
