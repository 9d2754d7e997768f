//! Warnings about a module's generated rules that Terraform would accept but that work
//! against the user: egress re-opened to the internet, too many rules for one group, and
//! groups whose rules are also managed some other way. Warnings never change the exit code.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::generate::connection::{Direction, Items, Peer, Rule, squeeze};
use crate::generate::naming::NamedConnection;
use crate::syntax::{Block, Body};

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
    managed: &[ManagedGroup],
) -> Vec<Diagnostic> {
    let rules: Vec<Rule> = connections
        .iter()
        .flat_map(|named| named.connection.rules())
        .collect();
    let mut warnings = open_egress_warnings(rules_file, &rules);
    warnings.extend(quota_warnings(rules_file, &rules));
    warnings.extend(management_warnings(managed, &rules));
    warnings
}

/// Egress to `0.0.0.0/0` or `::/0` is the default this tool exists to remove.
fn open_egress_warnings(file: &Arc<SourceFile>, rules: &[Rule]) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for rule in rules
        .iter()
        .filter(|rule| rule.direction == Direction::Egress)
    {
        let Peer::Addresses(lists) = rule.peer else {
            continue;
        };
        let literal = lists.iter().filter_map(|list| match &list.items {
            Items::Literal(items) => Some(items),
            Items::Expr(_) => None,
        });
        for item in literal.flatten() {
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
    // Each group's total, counted once: a warning names it without another pass over the
    // rules (one per warning made 1,098 warnings cost 200,000 rules each).
    let key = |rule: &Rule| (squeeze(&rule.group.text), rule.direction);
    let mut totals: HashMap<(String, Direction), usize> = HashMap::new();
    for rule in rules {
        *totals.entry(key(rule)).or_default() += size(rule);
    }
    let mut counts: HashMap<(String, Direction), usize> = HashMap::new();
    let mut warnings = Vec::new();
    for rule in rules {
        let group = key(rule);
        let total = totals.get(&group).copied().unwrap_or_default();
        if total <= RULES_PER_GROUP {
            continue;
        }
        let count = counts.entry(group).or_default();
        let before = *count;
        *count += size(rule);
        if before <= RULES_PER_GROUP && *count > RULES_PER_GROUP {
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

/// A group whose rules a file also manages some other way: inline `ingress`/`egress` blocks,
/// or `aws_vpc_security_group_rules_exclusive`. Either would remove the generated rules on
/// its next apply, and the generated rules would come back on theirs.
pub struct ManagedGroup {
    /// The group's id expression, layout squeezed out (`aws_security_group.web.id`).
    reference: String,
    warning: Diagnostic,
}

/// The groups a parsed file manages some other way. Read right after parsing, so that the
/// syntax tree (large for a big module) need not be kept for the warnings.
pub fn managed_groups(file: &Arc<SourceFile>, body: &Body) -> Vec<ManagedGroup> {
    let mut managed = Vec::new();
    for block in body.blocks_of("resource") {
        let span = block.header_span();
        match labels(block).as_slice() {
            ["aws_security_group", name] => {
                let has_inline = ["ingress", "egress"].iter().any(|key| {
                    block.body.blocks_of(key).next().is_some() || block.body.has_attribute(key)
                });
                if has_inline {
                    let group = format!("aws_security_group.{name}");
                    managed.push(ManagedGroup {
                        reference: format!("{group}.id"),
                        warning: Diagnostic::at(Problem::InlineRules { group }, file, span),
                    });
                }
            }
            ["aws_vpc_security_group_rules_exclusive", _] => {
                let Some(attribute) = block.body.attribute("security_group_id") else {
                    continue;
                };
                let group = &file.text[attribute.value.span.clone()];
                managed.push(ManagedGroup {
                    reference: squeeze(group),
                    warning: Diagnostic::at(
                        Problem::ExclusiveRules {
                            group: group.to_string(),
                        },
                        file,
                        span,
                    ),
                });
            }
            _ => {}
        }
    }
    managed
}

/// Warnings for the managed groups that also get generated rules.
fn management_warnings(managed: &[ManagedGroup], rules: &[Rule]) -> Vec<Diagnostic> {
    managed
        .iter()
        .filter(|group| {
            rules
                .iter()
                .any(|rule| squeeze(&rule.group.text) == group.reference)
        })
        .map(|group| group.warning.clone())
        .collect()
}

fn labels(block: &Block) -> Vec<&str> {
    block
        .labels
        .iter()
        .map(|label| label.value.as_str())
        .collect()
}
