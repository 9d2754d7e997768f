//! Warnings about a module's generated rules that Terraform would accept but that work
//! against the user: egress re-opened to the internet, too many rules for one group, and
//! groups whose rules are also managed some other way. Warnings never change the exit code.

use std::collections::HashMap;
use std::sync::Arc;

use hcl_edit::Span;
use hcl_edit::structure::{Block, Body};

use crate::connection::{Direction, Items, Peer, Rule, squeeze};
use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::model::ParsedFile;
use crate::naming::NamedConnection;

/// AWS's default quota of inbound (and, separately, outbound) rules per security group.
const RULES_PER_GROUP: usize = 60;

/// Byte strings that a file must contain to declare a rule-managing resource we warn about.
pub const MARKERS: [&str; 2] = [
    "aws_security_group\"",
    "aws_vpc_security_group_rules_exclusive",
];

pub fn warnings(
    rules_file: &Arc<SourceFile>,
    connections: &[NamedConnection],
    files: &[ParsedFile],
) -> Vec<Diagnostic> {
    let rules: Vec<Rule> = connections
        .iter()
        .flat_map(|named| named.connection.rules())
        .collect();
    let mut warnings = open_egress_warnings(rules_file, &rules);
    warnings.extend(quota_warnings(rules_file, &rules));
    for parsed in files {
        warnings.extend(management_warnings(&parsed.file, &parsed.body, &rules));
    }
    warnings
}

/// Egress to `0.0.0.0/0` or `::/0` is the default this tool exists to remove.
fn open_egress_warnings(file: &Arc<SourceFile>, rules: &[Rule]) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for rule in rules
        .iter()
        .filter(|rule| rule.direction == Direction::Egress)
    {
        let Peer::Addresses(list) = rule.peer else {
            continue;
        };
        let Items::Literal(items) = &list.items else {
            continue;
        };
        for item in items {
            let address = item.text.trim_matches('"');
            if address == "0.0.0.0/0" || address == "::/0" {
                warnings.push(Diagnostic::at(
                    Problem::OpenEgress {
                        group: rule.group.text.clone(),
                        peer: address.to_string(),
                    },
                    file,
                    item.span.clone(),
                ));
            }
        }
    }
    warnings
}

/// One warning per group and direction that passes the quota, at the connection that does.
/// AWS counts each CIDR block of a rule as a rule of its own.
fn quota_warnings(file: &Arc<SourceFile>, rules: &[Rule]) -> Vec<Diagnostic> {
    let size = |rule: &Rule| rule.peer.identities(rule.group).len();
    let mut counts: HashMap<(String, Direction), usize> = HashMap::new();
    let mut warnings = Vec::new();
    for rule in rules {
        let count = counts
            .entry((squeeze(&rule.group.text), rule.direction))
            .or_default();
        let before = *count;
        *count += size(rule);
        if before <= RULES_PER_GROUP && *count > RULES_PER_GROUP {
            let total: usize = rules
                .iter()
                .filter(|other| {
                    other.direction == rule.direction && other.group.same_as(rule.group)
                })
                .map(size)
                .sum();
            let direction = match rule.direction {
                Direction::Egress => "outbound",
                Direction::Ingress => "inbound",
            };
            warnings.push(Diagnostic::at(
                Problem::TooManyRules {
                    group: rule.group.text.clone(),
                    direction,
                    count: total,
                },
                file,
                rule.connection.span.clone(),
            ));
        }
    }
    warnings
}

/// Groups that get generated rules but also have inline `ingress`/`egress` blocks, or are
/// managed by `aws_vpc_security_group_rules_exclusive`: either would remove the generated
/// rules on its next apply, and the generated rules would come back on theirs.
fn management_warnings(file: &Arc<SourceFile>, body: &Body, rules: &[Rule]) -> Vec<Diagnostic> {
    let targets_group = |reference: &str| {
        rules
            .iter()
            .any(|rule| squeeze(&rule.group.text) == reference)
    };
    let mut warnings = Vec::new();
    for block in body
        .blocks()
        .filter(|block| block.ident.as_str() == "resource")
    {
        match labels(block).as_slice() {
            ["aws_security_group", name] => {
                let has_inline = ["ingress", "egress"]
                    .iter()
                    .any(|key| block.body.has_blocks(key) || block.body.has_attribute(key));
                let group = format!("aws_security_group.{name}");
                if has_inline && targets_group(&format!("{group}.id")) {
                    warnings.push(Diagnostic::at(
                        Problem::InlineRules { group },
                        file,
                        crate::parse::header_span(block),
                    ));
                }
            }
            ["aws_vpc_security_group_rules_exclusive", _] => {
                let Some(attribute) = block.body.get_attribute("security_group_id") else {
                    continue;
                };
                let span = attribute.value.span().unwrap_or(0..0);
                let group = &file.text[span];
                if targets_group(&squeeze(group)) {
                    warnings.push(Diagnostic::at(
                        Problem::ExclusiveRules {
                            group: group.to_string(),
                        },
                        file,
                        crate::parse::header_span(block),
                    ));
                }
            }
            _ => {}
        }
    }
    warnings
}

fn labels(block: &Block) -> Vec<&str> {
    block.labels.iter().map(|label| label.as_str()).collect()
}
