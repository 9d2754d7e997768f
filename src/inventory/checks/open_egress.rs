//! `open_egress`: egress to the whole internet.

use super::{Check, Covers, Detect, Detected, Equivalent, sources};
use crate::diagnostics::Diagnostic;
use crate::inventory::flows::{Analysis, Flow, FlowFinding};

pub static CHECK: Check = Check {
    id: "open_egress",
    code: "mutualsg::audit::open_egress",
    summary: "Egress to the whole internet (0.0.0.0/0 or ::/0)",
    finds: "a rule allowing egress to `0.0.0.0/0` or `::/0`",
    why: "a group that may send anywhere lets a compromised host reach any server on the internet, and hides which destinations the workload really needs",
    fix: "name the destinations instead: a CIDR block, a prefix list (S3 and DynamoDB gateway endpoints), or a security group; write connections in mutual_rules to get both halves",
    severity: super::Severity::Error,
    can_be_unverified: false,
    equivalents: &EQUIVALENTS,
    detect: Detect::Flow(detect),
};

const EQUIVALENTS: [Equivalent; 13] = [
    Equivalent {
        scanner: super::Scanner::Checkov,
        id: "CKV_AWS_382",
        covers: Covers::CheckovPort(-1),
        source: sources::CHECKOV_PORTS,
    },
    super::tfsec("aws-ec2-no-public-egress-sgr", sources::TFSEC_AVD),
    super::tfsec("aws-vpc-no-public-egress-sgr", sources::TFSEC_RULES),
    super::tfsec("aws-vpc-no-public-egress-sg", sources::TFSEC_RULES),
    super::tfsec("no-public-egress-sgr", sources::TFSEC_RULES),
    super::tfsec("AWS007", sources::TFSEC_LEGACY),
    super::tfsec("AWS009", sources::TFSEC_LEGACY),
    super::tfsec("AVD-AWS-0104", sources::TFSEC_AVD),
    super::tfsec("AVD-AWS-0103", sources::TFSEC_AVD),
    super::trivy("AVD-AWS-0104", Covers::Every, sources::TRIVY_EGRESS),
    super::trivy(
        "aws-ec2-no-public-egress-sgr",
        Covers::Every,
        sources::TRIVY_EGRESS,
    ),
    super::trivy(
        "aws-vpc-no-public-egress-sgr",
        Covers::Every,
        sources::TRIVY_EGRESS,
    ),
    super::trivy("no-public-egress-sgr", Covers::Every, sources::TRIVY_EGRESS),
];

fn detect(analysis: &Analysis, flow: &Flow) -> Option<Detected> {
    if flow.finding != Some(FlowFinding::OpenEgress) {
        return None;
    }
    let rule = &analysis.model.rules[flow.rules[0]];
    let (group, peer, traffic) = (
        flow.source.label(),
        flow.target.label(),
        flow.traffic.label(),
    );
    let message =
        format!("egress from {group} to {peer} ({traffic}) is open to the whole internet");
    let problem = super::problem(
        &CHECK,
        message,
        "open to the internet",
        CHECK.fix.to_string(),
        false,
    );
    Some(Detected {
        diagnostic: Diagnostic::at(problem, &rule.file, rule.span.clone()),
        group,
        peer,
        traffic: format!("egress {traffic}"),
        scopes: super::rule_scopes(rule),
        short: "open egress".to_string(),
        unverified: None,
    })
}
