//! `migrate --close-egress`: removes the open egress (to `0.0.0.0/0` or `::/0`, all traffic
//! or every port) of each group whose needed egress is explicit: every ingress rule in the
//! module that admits the group has its egress half, written before or by `--add-egress` in
//! the same run. Each group left open is listed with why; each rule removed is named, the
//! one intended destroy in the plan.
//!
//! A `terraform-aws-modules/security-group/aws` call's open egress (`egress_rules =
//! ["all-all"]`) closes the same way: its connection is not written, and the module's other
//! rule resources are forgotten one by one so that Terraform destroys the one that held it.
//!
//! Only the rules prove the need here (`--without-flow-logs`): a group that no rule of the
//! module admits anywhere is left open, since nothing shows what it sends.

use std::sync::Arc;

use super::inline::CallOpenEgress;
use super::{Planner, address, has_for_each, is_symlink, same_traffic};
use crate::diagnostics::{Diagnostic, Problem};
use crate::generate::migration_block::MigrationBlock;
use crate::generate::squeeze;
use crate::inventory::{DeclaredRule, Origin, RulePeer};
use crate::schema::Direction;

/// The addresses that mean "anywhere".
const ANYWHERE: &[&str] = &["0.0.0.0/0", "::/0"];

impl Planner<'_> {
    pub(super) fn close_egress(&mut self) {
        let open: Vec<&DeclaredRule> = self
            .model
            .rules
            .iter()
            .filter(|rule| is_open_egress(rule))
            .collect();
        for rule in open {
            let group = rule.group.text.clone();
            let mut why = self.why_open(rule);
            if why.is_none()
                && let Some(observed) = self.observed
            {
                match self.flow_proof(observed, &group) {
                    Ok(drafts) => {
                        if self.drafted_for.insert(group.clone()) {
                            self.connections.extend(drafts);
                        }
                    }
                    Err(reason) => why = Some(reason),
                }
            }
            // It was listed as not migrated (an address peer): it is listed once, as open
            // egress left with its reason, or removed instead.
            self.unlist(rule);
            match why {
                Some(reason) => {
                    let what = format!("the open egress {} of {group}", address(rule));
                    self.skip(&rule.file, rule.span.clone(), what, reason);
                }
                None => {
                    if let Some(span) = self.resource_span(rule) {
                        let range = super::removal_range(&rule.file.text, span);
                        self.edit(&rule.file, range, String::new());
                        self.warnings.push(Diagnostic::at(
                            Problem::EgressClosed {
                                what: address(rule),
                                group,
                                by_flow_logs: self.observed.is_some(),
                            },
                            &rule.file,
                            rule.span.clone(),
                        ));
                    }
                }
            }
        }
        self.close_calls();
    }

    /// The open egress of migrating `terraform-aws-modules/security-group/aws` calls
    /// (`egress_rules = ["all-all"]`): where the group closes, its connections are not written
    /// and the module resource that held them is left out of the `removed` blocks, so
    /// Terraform destroys it: the one intended destroy, named.
    fn close_calls(&mut self) {
        let mut pending: std::collections::VecDeque<CallOpenEgress> =
            std::mem::take(&mut self.call_open_egress).into();
        while let Some(open) = pending.pop_front() {
            let rule = format!(
                "{}.aws_security_group_rule.{}",
                open.state_prefix, open.resource
            );
            let mut why = self.why_call_open(&open);
            if why.is_none()
                && let Some(observed) = self.observed
            {
                match self.flow_proof(observed, &open.id) {
                    Ok(drafts) => {
                        if self.drafted_for.insert(open.id.clone()) {
                            self.connections.extend(drafts);
                        }
                    }
                    Err(reason) => why = Some(reason),
                }
            }
            if let Some(reason) = why {
                let what = format!("the open egress {rule} of {}", open.address);
                self.skip(&open.file, open.header.clone(), what, reason);
                continue;
            }
            // Its connections go; the module's other resources are forgotten one by one.
            let mut connections = open.connections.clone();
            connections.sort_unstable();
            for index in connections.into_iter().rev() {
                self.connections.remove(index);
            }
            for other in pending.iter_mut() {
                for index in other.connections.iter_mut() {
                    *index -= open
                        .connections
                        .iter()
                        .filter(|gone| **gone < *index)
                        .count();
                }
            }
            let module = open.address.clone();
            let mut kept: Vec<&String> = open
                .resources
                .iter()
                .filter(|resource| **resource != open.resource)
                .collect();
            kept.sort();
            kept.dedup();
            let at = self.extra_blocks.iter().position(
                |block| matches!(block, MigrationBlock::Removed { from } if *from == module),
            );
            if let Some(at) = at {
                let removed: Vec<MigrationBlock> = kept
                    .into_iter()
                    .map(|resource| MigrationBlock::Removed {
                        from: format!("{}.aws_security_group_rule.{resource}", open.state_prefix),
                    })
                    .collect();
                self.extra_blocks.splice(at..=at, removed);
            }
            for instance in 0..open.held {
                self.warnings.push(Diagnostic::at(
                    Problem::EgressClosed {
                        what: format!("{rule}[{instance}]"),
                        group: open.address.clone(),
                        by_flow_logs: self.observed.is_some(),
                    },
                    &open.file,
                    open.header.clone(),
                ));
            }
        }
    }

    /// The module's ingress rules of other groups that admit `group` (by its text).
    fn rules_admitting<'m>(&'m self, group: &'m str) -> impl Iterator<Item = &'m DeclaredRule> {
        self.model.rules.iter().filter(move |ingress| {
            ingress.direction == Direction::Ingress
                && ingress.group.text != group
                && ingress
                    .peers
                    .iter()
                    .any(|peer| matches!(peer, RulePeer::Group(source) if source.text == group))
        })
    }

    /// Why a call's open egress stays, if it does.
    fn why_call_open(&self, open: &CallOpenEgress) -> Option<String> {
        let held_open = open.connections.len();
        if held_open != open.held {
            return Some(format!(
                "`{}` also holds rules that are not open egress, which destroying it would revoke",
                open.resource
            ));
        }
        let group = &open.id;
        // Who admits the group: rule resources, inline blocks and calls.
        let mut admitting: Vec<(String, String, String, String)> = self
            .rules_admitting(group)
            .map(|ingress| {
                (
                    ingress.group.text.clone(),
                    ingress.protocol.clone(),
                    ingress.from_port.clone(),
                    ingress.to_port.clone(),
                )
            })
            .collect();
        admitting.extend(
            self.seen_rules
                .iter()
                .filter(|seen| {
                    seen.direction == Direction::Ingress
                        && seen.group != *group
                        && seen.peer_group.as_deref() == Some(group)
                })
                .map(|seen| {
                    (
                        seen.group.clone(),
                        seen.protocol.clone(),
                        seen.from_port.clone(),
                        seen.to_port.clone(),
                    )
                }),
        );
        if admitting.is_empty() && self.observed.is_none() {
            return Some(format!(
                "no rule of the module admits {}, so nothing shows what it sends (flow logs would)",
                open.address
            ));
        }
        let same =
            |protocol: &str, from: &str, to: &str, other: &(String, String, String, String)| {
                protocol == other.1 && (protocol == "-1" || (from == other.2 && to == other.3))
            };
        let missing =
            admitting.iter().find(|ingress| {
                let declared =
                    self.model.rules.iter().any(|egress| {
                        egress.direction == Direction::Egress
                    && egress.group == *group
                    && same(&egress.protocol, &egress.from_port, &egress.to_port, ingress)
                    && egress
                        .peers
                        .iter()
                        .any(|peer| matches!(peer, RulePeer::Group(target) if *target == ingress.0))
                    });
                let seen = self.seen_rules.iter().any(|egress| {
                    egress.direction == Direction::Egress
                        && egress.group == *group
                        && egress.peer_group.as_deref() == Some(ingress.0.as_str())
                        && same(
                            &egress.protocol,
                            &egress.from_port,
                            &egress.to_port,
                            ingress,
                        )
                });
                let written =
                    self.egress_written
                        .iter()
                        .any(|[source, target, protocol, from, to]| {
                            source == group
                                && *target == ingress.0
                                && same(protocol, &squeeze(from), &squeeze(to), ingress)
                        });
                !(declared || seen || written)
            });
        missing.map(|(target, ..)| {
            format!(
                "{target} admits it, and its egress half is not written (`--add-egress` writes it where it can)"
            )
        })
    }

    /// Drops the "not migrated" warning already given for `rule`.
    fn unlist(&mut self, rule: &DeclaredRule) {
        self.warnings.retain(|warning| {
            !matches!(*warning.problem, Problem::NotMigrated { .. })
                || !warning
                    .source
                    .as_ref()
                    .is_some_and(|(file, span)| Arc::ptr_eq(file, &rule.file) && *span == rule.span)
        });
    }

    /// Why an open egress rule stays, if it does.
    fn why_open(&self, rule: &DeclaredRule) -> Option<String> {
        let is_resource = matches!(&rule.origin, Origin::Resource { address } if address.starts_with("aws_security_group_rule."));
        if !is_resource {
            return Some(match rule.origin {
                Origin::Inline { .. } => "it is an inline block: apply the migration that imports it, then remove its connection from mutual_rules".into(),
                Origin::Generated { .. } => "it is a connection of mutual_rules: remove it there".into(),
                Origin::Resource { .. } => "only aws_security_group_rule resources are removed".into(),
            });
        }
        let block = self.block_of(rule);
        if has_for_each(block) || block.is_some_and(|block| block.body.has_attribute("count")) {
            return Some("it uses count or for_each".into());
        }
        if is_symlink(&rule.file.path) {
            return Some("it sits in a symlinked file; mutualsg never edits through one".into());
        }
        if rule
            .peers
            .iter()
            .any(|peer| !matches!(peer, RulePeer::Address { value, .. } if ANYWHERE.contains(&value.as_str())))
        {
            return Some("it also names other peers".into());
        }
        let group = &rule.group;
        let admitting: Vec<&DeclaredRule> = self.rules_admitting(&group.text).collect();
        // With flow logs, what the group sent decides instead ([`Planner::flow_proof`]).
        if admitting.is_empty() && self.observed.is_none() {
            return Some(format!(
                "no rule of the module admits {group} anywhere, so nothing shows what it sends (flow logs would)"
            ));
        }
        if let Some(missing) = admitting
            .iter()
            .find(|ingress| !self.egress_explicit(group, ingress))
        {
            return Some(format!(
                "{} admits it, and its egress half is not written (`--add-egress` writes it where it can)",
                address(missing)
            ));
        }
        None
    }

    /// Whether `group`'s egress to the group of `ingress`, of its traffic, is explicit: a
    /// declared egress rule, or one `--add-egress` writes in this run.
    fn egress_explicit(&self, group: &str, ingress: &DeclaredRule) -> bool {
        let declared = self.model.rules.iter().any(|egress| {
            egress.direction == Direction::Egress
                && egress.group == group
                && same_traffic(egress, ingress)
                && egress
                    .peers
                    .iter()
                    .any(|peer| matches!(peer, RulePeer::Group(target) if *target == ingress.group))
        });
        declared
            || self
                .egress_written
                .iter()
                .any(|[source, target, protocol, from, to]| {
                    source == group
                        && *target == ingress.group
                        && *protocol == ingress.protocol
                        && (protocol == "-1"
                            || (squeeze(from) == ingress.from_port
                                && squeeze(to) == ingress.to_port))
                })
    }
}

/// A rule to anywhere for all traffic or every port.
pub(super) fn is_open_egress(rule: &DeclaredRule) -> bool {
    let anywhere = rule
        .peers
        .iter()
        .any(|peer| matches!(peer, RulePeer::Address { value, .. } if ANYWHERE.contains(&value.as_str())));
    let wide = rule.protocol == "-1" || (rule.from_port == "0" && rule.to_port == "65535");
    rule.direction == Direction::Egress && anywhere && wide
}
