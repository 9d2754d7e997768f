//! `inverted_port_range`: a TCP or UDP rule whose `from_port` is above its `to_port`. AWS
//! rejects it (`InvalidParameterValue`), so the rule allows nothing: the flows leave it out,
//! and this check points at it.

use super::{Check, Detect, Detected};
use crate::diagnostics::Diagnostic;
use crate::inventory::flows::{Analysis, Traffic};

pub static CHECK: Check = Check {
    id: "inverted_port_range",
    code: "mutualsg::audit::inverted_port_range",
    summary: "A TCP or UDP rule whose from_port is above its to_port",
    finds: "a hand-written TCP or UDP rule with `from_port` greater than `to_port` (`6479`–`6379`)",
    why: "AWS rejects the rule, so the apply fails or the rule was never created: the connection it was written for does not exist",
    fix: "swap the ports: from_port is the lowest port of the range, to_port the highest",
    severity: super::Severity::Error,
    can_be_unverified: false,
    equivalents: &[],
    detect: Detect::Rule(detect),
};

fn detect(analysis: &Analysis, index: usize) -> Option<Detected> {
    let rule = &analysis.model.rules[index];
    let traffic = Traffic::of(rule);
    if !traffic.is_inverted() {
        return None;
    }
    let group = crate::inventory::flows::group_label(&rule.group);
    let (from, to) = (&traffic.from_port, &traffic.to_port);
    let message = format!(
        "{} on {group}: from_port {from} is above to_port {to}; AWS rejects the rule, so it allows nothing",
        rule.direction
    );
    let help = format!("{}: from_port = {to}, to_port = {from}", CHECK.fix);
    let problem = super::problem(&CHECK, message, "an inverted port range", help, false);
    Some(Detected {
        diagnostic: Diagnostic::at(problem, &rule.file, rule.span.clone()),
        group,
        peer: String::new(),
        traffic: format!("{} {from}-{to}/{}", rule.direction, traffic.protocol),
        scopes: super::rule_scopes(rule),
        short: "inverted ports".to_string(),
        unverified: None,
    })
}
