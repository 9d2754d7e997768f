//! `unattached_group`: a security group nothing in the tree attaches. What attaches a group
//! is judged over the whole tree ([`crate::inventory::tree::Tree::attachment`]): an
//! instance, launch template, service, function, database, load balancer or module call
//! listing it. Rules naming it (`mutual_rules` connections included) are not attachments.

use super::{Check, Covers, Detect, Detected, Equivalent, Scanner, sources};
use crate::diagnostics::Diagnostic;
use crate::inventory::flows::{Analysis, Attachment};

pub static CHECK: Check = Check {
    id: "unattached_group",
    code: "mutualsg::audit::unattached_group",
    summary: "A security group that nothing in the tree attaches",
    finds: "an `aws_security_group` that no instance, launch template, service, function, database, load balancer or module call of the tree lists",
    why: "an unattached group is dead weight or a sign that what should use it does not: its rules protect nothing and mislead a reader",
    fix: "no instance, launch template, service, function, database, load balancer or module call of this tree lists it: delete it, or attach it",
    severity: super::Severity::Error,
    can_be_unverified: false,
    equivalents: &[Equivalent {
        scanner: Scanner::Checkov,
        id: "CKV2_AWS_5",
        covers: Covers::Every,
        source: sources::CHECKOV_ATTACHED,
    }],
    detect: Detect::Group(detect),
};

fn detect(analysis: &Analysis, index: usize) -> Option<Detected> {
    if analysis.attachments.get(index) != Some(&Attachment::Unattached) {
        return None;
    }
    let group = &analysis.model.groups[index];
    let message = format!("{} is attached to nothing in this tree", group.address);
    let problem = super::problem(
        &CHECK,
        message,
        "attached to nothing",
        CHECK.fix.to_string(),
        false,
    );
    Some(Detected {
        diagnostic: Diagnostic::at(problem, &group.file, group.span.clone()),
        group: group.address.clone(),
        peer: String::new(),
        traffic: String::new(),
        scopes: vec![group.block_span.clone()],
        short: "attached to nothing".to_string(),
        unverified: None,
    })
}
