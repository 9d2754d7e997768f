//! `mixed_management`: a group managed both by inline blocks and by separate rules.

use super::{Check, Detect, Detected, sources};
use crate::diagnostics::Diagnostic;
use crate::inventory::Origin;
use crate::inventory::flows::{Analysis, group_key};

pub static CHECK: Check = Check {
    id: "mixed_management",
    code: "mutualsg::audit::mixed_management",
    summary: "A group managed both by inline blocks and by separate rules",
    finds: "an `aws_security_group` with inline `ingress`/`egress` blocks that also gets separate rule resources (hand-written or generated)",
    why: "the AWS provider documents that inline and separate rules overwrite each other: every apply removes one set, the next adds it back",
    fix: "keep one way: move the inline blocks into mutual_rules or separate rule resources; the AWS provider documents that inline and separate rules overwrite each other",
    severity: super::Severity::Error,
    can_be_unverified: false,
    equivalents: &[
        super::tfsec("aws-vpc-disallow-mixed-sgr", sources::TFSEC_RULES),
        super::tfsec("AVD-AWS-0100", sources::TFSEC_AVD),
    ],
    detect: Detect::Group(detect),
};

fn detect(analysis: &Analysis, index: usize) -> Option<Detected> {
    let model = &analysis.model;
    let group = &model.groups[index];
    if !group.has_inline_rules {
        return None;
    }
    let id = format!("{}.id", group.address);
    let rule = model.rules.iter().find(|rule| {
        group_key(&rule.group) == id && !matches!(rule.origin, Origin::Inline { .. })
    })?;
    let message = format!(
        "{} has inline `ingress`/`egress` blocks and separate rule resources",
        group.address
    );
    let problem = super::problem(
        &CHECK,
        message,
        "has inline rules",
        CHECK.fix.to_string(),
        false,
    );
    let diagnostic = Diagnostic::at(problem, &group.file, group.span.clone()).with_note(
        "a separate rule for the same group",
        &rule.file,
        rule.span.clone(),
    );
    Some(Detected {
        diagnostic,
        group: group.address.clone(),
        peer: String::new(),
        traffic: String::new(),
        scopes: vec![group.block_span.clone()],
        short: "mixed management".to_string(),
        unverified: None,
    })
}
