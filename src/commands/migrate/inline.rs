//! Inline `ingress`/`egress` blocks of an `aws_security_group`: each becomes connections in
//! `mutual_rules` (one-sided where the peer is an address), the group keeps no inline blocks,
//! and the rules, which stay in the account when their blocks leave the configuration (the
//! attributes are optional and computed), are adopted with `import` blocks.
//!
//! Each direction of a group migrates whole or not at all: a group with both inline blocks
//! and separate rules of one direction has the provider fight itself on every apply. The
//! provider manages `ingress` and `egress` each on its own (a direction the configuration
//! leaves out is read from AWS, never revoked), so a group whose ingress blocks must stay (a
//! `dynamic` one, say) can still give up its egress blocks, and the other way round.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;

use super::sg_module::{self, CallMigration};
use super::{
    Carried, Half, OldAddresses, Planner, address, carried, connection_text, is_symlink,
    leading_comment, quote, removal_range, single_group_peer,
};
use crate::config::Style;
use crate::diagnostics::SourceFile;
use crate::generate::squeeze;
use crate::inventory::{DeclaredRule, ModuleModel};
use crate::inventory::{RulePeer, canonical_protocol};
use crate::schema::Direction;
use crate::syntax::{Block, ExprKind};

/// The arguments an inline rule block may hold, all of which a connection carries.
const BLOCK_ARGUMENTS: &[&str] = &[
    "from_port",
    "to_port",
    "protocol",
    "description",
    "cidr_blocks",
    "ipv6_cidr_blocks",
    "prefix_list_ids",
    "security_groups",
    "self",
];

/// Who is on the other side of one rule of an inline block.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum InlinePeer {
    /// A group's id, as written.
    Group(String),
    SelfGroup,
    /// `cidr_blocks` and/or `ipv6_cidr_blocks` (one AWS rule per address, one
    /// `aws_security_group_rule` for both lists), or `prefix_list_ids`: (key suffix, list text).
    Addresses(Vec<(&'static str, String)>),
}

/// One rule an inline block declares: one per group peer, one for `self`, one for its
/// addresses, one for its prefix lists.
#[derive(Debug, Clone)]
pub(super) struct InlineRule {
    /// Index into `groups`.
    pub group: usize,
    pub direction: Direction,
    pub peer: InlinePeer,
    /// The protocol, canonical when literal (`"TCP"` → `tcp`, `"all"` → `-1`), else its text.
    pub protocol: String,
    pub protocol_is_literal: bool,
    /// The literal strings of its address lists (a literal list's only).
    pub literal_addresses: Vec<String>,
    pub from_port: String,
    pub to_port: String,
    pub description: Option<String>,
    /// The comment lines directly above the block: they travel with its connections.
    pub comment: Vec<String>,
}

impl InlineRule {
    fn same_traffic(&self, other: &InlineRule) -> bool {
        self.protocol == other.protocol
            && (self.protocol == "-1"
                || (squeeze(&self.from_port) == squeeze(&other.from_port)
                    && squeeze(&self.to_port) == squeeze(&other.to_port)))
    }
}

/// An `aws_security_group` with inline rule blocks, or a call of the registry module
/// `terraform-aws-modules/security-group/aws` (its group and the rules it owns).
pub(super) struct InlineGroup {
    pub file: Arc<SourceFile>,
    pub header: Range<usize>,
    /// `aws_security_group.NAME` (a call: `module.NAME`).
    pub address: String,
    /// `aws_security_group.NAME.id`: how its rules and its peers name it (a call:
    /// `module.NAME.security_group_id`, or the `security_group_id` it adds rules to).
    pub id: String,
    pub provider: Option<String>,
    /// The blocks' ranges to remove, with their comments.
    pub blocks: Vec<Range<usize>>,
    /// The direction of the blocks this entry holds: each group is read as two entries, one
    /// per direction, which migrate or stay each on its own (`None`: a module call, whole).
    pub direction: Option<Direction>,
    /// Why the group keeps its blocks, once known.
    pub refused: Option<String>,
    /// A module call: what its migration writes.
    pub call: Option<CallMigration>,
}

impl<'a> Planner<'a> {
    /// Every `aws_security_group` with inline rule blocks: migrated whole, or listed with why.
    pub(super) fn inline_groups(&mut self) {
        let mut groups: Vec<InlineGroup> = Vec::new();
        let mut rules: Vec<InlineRule> = Vec::new();
        // Groups whose `egress = []` (or `ingress = []`) tells the provider to revoke every
        // rule of that direction: a separate rule written for them would be revoked.
        let mut exclusive: BTreeSet<(String, Direction)> = BTreeSet::new();
        // Groups with inline egress blocks (static or `dynamic`): while they keep them, a
        // separate egress rule on them would be revoked.
        let mut egress_blocks: BTreeSet<String> = BTreeSet::new();
        for parsed in &self.model.files {
            for block in parsed.body.blocks_of("resource") {
                if block.label(0) != Some("aws_security_group") {
                    continue;
                }
                let address = format!("aws_security_group.{}", block.label(1).unwrap_or_default());
                for (name, direction) in [
                    ("ingress", Direction::Ingress),
                    ("egress", Direction::Egress),
                ] {
                    if block.body.has_attribute(name) {
                        exclusive.insert((format!("{address}.id"), direction));
                    }
                }
                if has_egress_blocks(block) {
                    egress_blocks.insert(format!("{address}.id"));
                }
                let first = groups.len();
                groups.extend(read_group(&parsed.file, block, &address, first, &mut rules));
            }
        }
        // Calls of the registry module: a group with its rules, as a group with inline blocks.
        for parsed in &self.model.files {
            for block in parsed.body.blocks_of("module") {
                let group = groups.len();
                let Some(mut call) =
                    sg_module::read_call(&parsed.file, block, group, &self.module.dir, &mut rules)
                else {
                    continue;
                };
                let creates_group = call
                    .call
                    .as_ref()
                    .is_some_and(|migration| !migration.resource.is_empty());
                if call.refused.is_none()
                    && let Some(reason) = self.call_referenced(block, creates_group)
                {
                    call.refused = Some(reason);
                }
                groups.push(call);
            }
        }
        self.exclusive = exclusive.clone();
        // Each group-peer rule is paired with its other half among the inline rules.
        let mut partner: Vec<Option<usize>> = vec![None; rules.len()];
        for egress in 0..rules.len() {
            if rules[egress].direction != Direction::Egress {
                continue;
            }
            let found = (0..rules.len()).find(|&ingress| {
                let (e, i) = (&rules[egress], &rules[ingress]);
                i.direction == Direction::Ingress
                    && partner[ingress].is_none()
                    && e.same_traffic(i)
                    && match (&e.peer, &i.peer) {
                        (InlinePeer::SelfGroup, InlinePeer::SelfGroup) => {
                            groups[e.group].id == groups[i.group].id
                        }
                        (InlinePeer::Group(target), InlinePeer::Group(source)) => {
                            squeeze(target) == groups[i.group].id
                                && squeeze(source) == groups[e.group].id
                        }
                        _ => false,
                    }
            });
            if let Some(ingress) = found {
                partner[egress] = Some(ingress);
                partner[ingress] = Some(egress);
            }
        }
        // One AWS rule declared twice (an address listed twice, or two blocks alike): two
        // connections of one rule cannot both be generated, so the group stays whole.
        for (index, rule) in rules.iter().enumerate() {
            if groups[rule.group].refused.is_none()
                && let Some(twice) = declared_twice(rule, &rules[..index])
            {
                groups[rule.group].refused = Some(format!(
                    "it declares one AWS rule twice ({twice}; AWS holds it once): write it once, then migrate"
                ));
            }
        }
        // Refuse what cannot migrate; a pair whose other group is refused is refused too,
        // until nothing changes.
        for rule in &rules {
            if groups[rule.group].refused.is_some() {
                continue;
            }
            let reason = self.why_not(
                rule,
                &groups,
                &exclusive,
                &egress_blocks,
                partner_of(&partner, rule, &rules),
            );
            if let Some(reason) = reason {
                groups[rule.group].refused = Some(reason);
            }
        }
        loop {
            let mut changed = false;
            for (index, rule) in rules.iter().enumerate() {
                // A one-sided ingress rule whose source now keeps its egress blocks: its
                // egress half would be revoked.
                if partner[index].is_none()
                    && rule.direction == Direction::Ingress
                    && groups[rule.group].refused.is_none()
                    && let InlinePeer::Group(source) = &rule.peer
                    && keeps_egress_blocks(&squeeze(source), &groups, &egress_blocks)
                {
                    groups[rule.group].refused = Some(format!(
                        "its egress half would be a separate rule on {}, which keeps inline egress blocks",
                        squeeze(source)
                    ));
                    changed = true;
                    continue;
                }
                let Some(other) = partner[index] else {
                    continue;
                };
                let other_group = rules[other].group;
                if groups[rule.group].refused.is_none() && groups[other_group].refused.is_some() {
                    let other = &groups[other_group];
                    groups[rule.group].refused = Some(match other.call {
                        Some(_) => format!(
                            "its {} rule pairs with a rule of {}, which stays",
                            rule.direction, other.address
                        ),
                        None => format!(
                            "its {} rule pairs with an inline block of {}, which stays",
                            rule.direction, other.address
                        ),
                    });
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // A call that stays keeps its rules as separate resources: an egress half beside
        // them is no conflict.
        self.inline_egress_kept = egress_blocks
            .iter()
            .filter(|id| keeps_egress_blocks(id, &groups, &egress_blocks))
            .cloned()
            .collect();
        for (index, group) in groups.iter().enumerate() {
            let Some(reason) = &group.refused else {
                continue;
            };
            // A direction with no blocks leaves nothing; a group's two directions staying for
            // one reason are listed once.
            let other = groups.iter().enumerate().find(|(at, other)| {
                *at != index
                    && group.call.is_none()
                    && other.call.is_none()
                    && other.address == group.address
                    && !other.blocks.is_empty()
            });
            let what = match (group.call.is_some(), group.direction, other) {
                (true, ..) => group.address.clone(),
                _ if group.blocks.is_empty() => continue,
                (false, _, Some((at, other))) if other.refused.as_ref() == Some(reason) => {
                    if at < index {
                        continue;
                    }
                    format!("{} (its inline rules)", group.address)
                }
                (false, Some(direction), Some(_)) => {
                    format!("{} (its inline {direction} rules)", group.address)
                }
                (false, ..) => format!("{} (its inline rules)", group.address),
            };
            self.skip(&group.file, group.header.clone(), what, reason.clone());
        }
        // The migrating groups lose their blocks; their rules become connections. A call
        // becomes its group resource, and the references to its outputs name that resource.
        // A group's blocks of both directions leave in one pass: ranges that touch join.
        let mut removals: Vec<(Arc<SourceFile>, Vec<Range<usize>>)> = Vec::new();
        for group in groups.iter().filter(|group| group.refused.is_none()) {
            match removals
                .iter_mut()
                .find(|(file, _)| Arc::ptr_eq(file, &group.file))
            {
                Some((_, ranges)) => ranges.extend(group.blocks.iter().cloned()),
                None => removals.push((Arc::clone(&group.file), group.blocks.clone())),
            }
        }
        for (file, mut ranges) in removals {
            ranges.sort_by_key(|range| range.start);
            for range in merged_removals(&file.text, &ranges) {
                self.edit(&file, range, String::new());
            }
        }
        for group in groups.iter().filter(|group| group.refused.is_none()) {
            if let Some(call) = &group.call {
                if call.resource.is_empty() {
                    // It added rules to a group it did not create: nothing of it stays.
                    let start = leading_comment(&group.file, call.span.start)
                        .map_or(call.span.start, |(start, _)| start);
                    let range = removal_range(&group.file.text, start..call.span.end);
                    self.edit(&group.file, range, String::new());
                } else {
                    let crlf = group.file.text[call.span.clone()].contains("\r\n");
                    let text = if crlf {
                        call.resource.replace('\n', "\r\n")
                    } else {
                        call.resource.clone()
                    };
                    self.edit(&group.file, call.span.clone(), text);
                }
                self.extra_blocks.extend(call.blocks.iter().cloned());
                self.renames.extend(call.renames.iter().cloned());
            }
        }
        // Every rule read, for `--close-egress` to tell who admits a group and what egress it
        // declares.
        self.seen_rules
            .extend(rules.iter().map(|rule| SeenRule::of(rule, &groups)));
        // A migrating call's open egress rules, each a connection `--close-egress` may drop.
        let mut open_egress: Vec<(usize, usize)> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if groups[rule.group].refused.is_some() {
                continue;
            }
            if groups[rule.group].call.is_some() && partner[index].is_none() && is_open_egress(rule)
            {
                open_egress.push((index, self.connections.len()));
            }
            match partner[index] {
                // A pair is written once, from its egress half.
                Some(_) if rule.direction == Direction::Ingress => {}
                Some(other) => self.inline_connection(Some(rule), Some(&rules[other]), &groups),
                None if rule.direction == Direction::Egress => {
                    self.inline_connection(Some(rule), None, &groups);
                }
                None => self.inline_connection(None, Some(rule), &groups),
            }
        }
        if self.close_egress {
            self.record_open_egress(&open_egress, &groups);
        }
    }

    /// The calls' open egress, by the module resource that holds it, for `--close-egress`.
    fn record_open_egress(&mut self, open_egress: &[(usize, usize)], groups: &[InlineGroup]) {
        let mut found: Vec<CallOpenEgress> = Vec::new();
        for &(rule, connection) in open_egress {
            let Some(call) = self.rule_call(rule, groups) else {
                continue;
            };
            let (group, migration) = call;
            let Some((_, resource)) = migration
                .rule_resources
                .iter()
                .find(|(index, _)| *index == rule)
            else {
                continue;
            };
            match found
                .iter_mut()
                .find(|open| open.group == group && open.resource == *resource)
            {
                Some(open) => open.connections.push(connection),
                None => found.push(CallOpenEgress {
                    group,
                    id: groups[group].id.clone(),
                    address: groups[group].address.clone(),
                    file: Arc::clone(&groups[group].file),
                    header: groups[group].header.clone(),
                    state_prefix: migration.state_prefix.clone(),
                    resource: resource.clone(),
                    resources: migration
                        .rule_resources
                        .iter()
                        .map(|(_, resource)| resource.clone())
                        .collect(),
                    held: migration
                        .rule_resources
                        .iter()
                        .filter(|(_, held)| held == resource)
                        .count(),
                    connections: vec![connection],
                }),
            }
        }
        self.call_open_egress = found;
    }

    /// The call a rule (by index) was read from.
    fn rule_call<'g>(
        &self,
        rule: usize,
        groups: &'g [InlineGroup],
    ) -> Option<(usize, &'g CallMigration)> {
        groups.iter().enumerate().find_map(|(index, group)| {
            let call = group.call.as_ref()?;
            call.rule_resources
                .iter()
                .any(|(held, _)| *held == rule)
                .then_some((index, call))
        })
    }

    /// Why one inline rule keeps its group's blocks where they are, if it does.
    fn why_not(
        &self,
        rule: &InlineRule,
        groups: &[InlineGroup],
        exclusive: &BTreeSet<(String, Direction)>,
        egress_blocks: &BTreeSet<String>,
        partner: Option<&InlineRule>,
    ) -> Option<String> {
        let own = &groups[rule.group].id;
        match (&rule.peer, rule.direction, partner) {
            (InlinePeer::Addresses(_), ..) | (_, _, Some(_)) => None,
            (InlinePeer::Group(peer), Direction::Egress, None) => Some(format!(
                "its egress to {} has no ingress half: half-open, and never completed automatically (that would open traffic blocked today)",
                squeeze(peer)
            )),
            (InlinePeer::SelfGroup, Direction::Egress, None) => Some(
                "its egress to itself (self) has no ingress half: half-open, and never completed automatically"
                    .into(),
            ),
            (peer, Direction::Ingress, None) => {
                let source = match peer {
                    InlinePeer::Group(source) => squeeze(source),
                    _ => own.clone(),
                };
                if !self.add_egress {
                    return Some(format!(
                        "its ingress from {source} has no egress half (`migrate --add-egress` writes it)"
                    ));
                }
                if exclusive.contains(&(source.clone(), Direction::Egress)) {
                    return Some(format!(
                        "{source} sets `egress`, which revokes every egress rule it does not list: the new egress half would be revoked"
                    ));
                }
                if keeps_egress_blocks(&source, groups, egress_blocks) {
                    return Some(format!(
                        "its egress half would be a separate rule on {source}, which keeps inline egress blocks"
                    ));
                }
                if self.egress_declared(&source, own, rule)
                    && self.separate_egress_half(&source, rule, groups).is_none()
                {
                    return Some(format!(
                        "its egress half on {source} is a separate resource: migrate that pair first"
                    ));
                }
                None
            }
        }
    }

    /// Whether the module already declares (outside inline blocks) the egress half from
    /// `source` to `target` of this traffic: writing it again would be a duplicate in AWS.
    fn egress_declared(&self, source: &str, target: &str, rule: &InlineRule) -> bool {
        self.model.rules.iter().any(|declared| {
            declared.direction == Direction::Egress
                && declared.group == source
                && declared.protocol == rule.protocol
                && (rule.protocol == "-1"
                    || (declared.from_port == squeeze(&rule.from_port)
                        && declared.to_port == squeeze(&rule.to_port)))
                && declared.peers.iter().any(|peer| match peer {
                    RulePeer::Group(group) => group == target,
                    RulePeer::SelfGroup => source == target,
                    _ => false,
                })
        })
    }

    /// The separate egress resource that is the other half of an inline ingress rule from
    /// `source`, when it can move into the connection the rule makes: an
    /// `aws_security_group_rule` from `source` to the rule's group alone, of the same traffic,
    /// with no argument the connection would give the imported ingress rule differently
    /// (`description` and `depends_on` aside), in a file mutualsg may edit.
    fn separate_egress_half(
        &self,
        source: &str,
        rule: &InlineRule,
        groups: &[InlineGroup],
    ) -> Option<(&'a DeclaredRule, Carried)> {
        let model: &'a ModuleModel = self.model;
        let own = &groups[rule.group];
        let egress = model.rules.iter().find(|declared| {
            declared.direction == Direction::Egress
                && declared.group == source
                && address(declared).starts_with("aws_security_group_rule.")
                && declared.protocol == rule.protocol
                && (rule.protocol == "-1"
                    || (declared.from_port == squeeze(&rule.from_port)
                        && declared.to_port == squeeze(&rule.to_port)))
                && matches!(single_group_peer(declared), Some(RulePeer::Group(group)) if group == own.id.as_str())
        })?;
        if is_symlink(&egress.file.path) || own.call.is_some() {
            return None;
        }
        let args = carried(
            &egress.file,
            self.block_of(egress)?,
            Style::SecurityGroupRule,
        )
        .ok()?;
        let movable = args.count.is_none()
            && args.for_each.is_none()
            && args.tags.is_none()
            && args.region.is_none()
            && args.timeout_create.is_none()
            && args.provider.as_deref() == own.provider.as_deref().map(squeeze).as_deref()
            && (args.depends_on.is_none() || args.depends_on_items.is_some());
        movable.then_some((egress, args))
    }

    /// The connection one inline rule (or an inline pair) makes, added to `mutual_rules`.
    fn inline_connection(
        &mut self,
        egress: Option<&InlineRule>,
        ingress: Option<&InlineRule>,
        groups: &[InlineGroup],
    ) {
        let rule = egress.or(ingress).expect("a connection has a rule");
        let mut lines: Vec<(&str, String)> = Vec::new();
        // The peer's keys, by suffix after `source_`/`target_` (empty: the `_sg_id` key).
        let side = |peer: &InlinePeer, own: &str| -> Vec<(String, String)> {
            match peer {
                InlinePeer::Group(group) => vec![(String::new(), group.clone())],
                InlinePeer::SelfGroup => vec![(String::new(), own.to_string())],
                InlinePeer::Addresses(lists) => lists
                    .iter()
                    .map(|(suffix, text)| (suffix.to_string(), text.clone()))
                    .collect(),
            }
        };
        let mut keys: Vec<(String, String)> = Vec::new();
        match (egress, ingress) {
            (Some(e), _) => {
                let own = groups[e.group].id.clone();
                keys.push(("source_sg_id".into(), own.clone()));
                for (suffix, text) in side(&e.peer, &own) {
                    let key = if suffix.is_empty() {
                        "target_sg_id".to_string()
                    } else {
                        format!("target_{suffix}")
                    };
                    keys.push((key, text));
                }
            }
            (None, Some(i)) => {
                let own = groups[i.group].id.clone();
                for (suffix, text) in side(&i.peer, &own) {
                    let key = if suffix.is_empty() {
                        "source_sg_id".to_string()
                    } else {
                        format!("source_{suffix}")
                    };
                    keys.push((key, text));
                }
                keys.push(("target_sg_id".into(), own));
            }
            (None, None) => return,
        }
        let key_names: Vec<&'static str> = keys.iter().map(|(key, _)| static_key(key)).collect();
        for ((_, text), key) in keys.into_iter().zip(key_names) {
            lines.push((key, text));
        }
        if rule.protocol_is_literal {
            if rule.protocol != "tcp" {
                lines.push(("protocol", quote(&rule.protocol)));
            }
        } else {
            lines.push(("protocol", rule.protocol.clone()));
        }
        if rule.protocol != "-1" || !rule.protocol_is_literal {
            lines.push(("from_port", rule.from_port.clone()));
            if squeeze(&rule.to_port) != squeeze(&rule.from_port) {
                lines.push(("to_port", rule.to_port.clone()));
            }
        }
        // An inline ingress rule whose egress half is a separate resource: that resource moves
        // into the connection, and the inline rule is imported beside it.
        let separate = match (egress, ingress) {
            (None, Some(i)) => match &i.peer {
                InlinePeer::Group(source) => self.separate_egress_half(&squeeze(source), i, groups),
                _ => None,
            },
            _ => None,
        };
        let ingress_description = ingress.and_then(|i| i.description.clone());
        let egress_description = match &separate {
            Some((_, args)) => args.description.clone(),
            None => egress.and_then(|e| e.description.clone()),
        };
        match (egress.is_some() || separate.is_some(), ingress) {
            (true, Some(_)) if ingress_description != egress_description => {
                if let Some(text) = ingress_description {
                    lines.push(("description_source", text));
                }
                if let Some(text) = egress_description {
                    lines.push(("description_target", text));
                }
            }
            _ => {
                if let Some(text) = ingress_description.or(egress_description) {
                    lines.push(("description", text));
                }
            }
        }
        if let Some(provider) = &groups[rule.group].provider {
            lines.push(("provider", quote(provider)));
        }
        if let Some(depends_on) = separate
            .as_ref()
            .and_then(|(_, args)| args.depends_on.clone())
        {
            lines.push(("depends_on", depends_on));
        }
        let mut comment = rule.comment.clone();
        if let Some((_, args)) = &separate {
            for line in &args.comment {
                if !comment.contains(line) {
                    comment.push(line.clone());
                }
            }
        }
        for line in ingress.map(|i| i.comment.as_slice()).unwrap_or_default() {
            if !comment.contains(line) {
                comment.push(line.clone());
            }
        }
        let text = connection_text(&comment, &lines);
        if let Some((half, _)) = &separate {
            let moved = address(half);
            if let Some(span) = self.resource_span(half) {
                let range = removal_range(&half.file.text, span);
                self.edit(&half.file, range, String::new());
            }
            self.moved_into_inline.push(moved.clone());
            self.connections.push((
                text,
                OldAddresses::Adopted {
                    egress: Half::Move(moved),
                    ingress: Half::Import,
                },
            ));
            return;
        }
        if let (None, Some(i)) = (egress, ingress)
            && !one_sided_rule(i)
        {
            let source = match &i.peer {
                InlinePeer::Group(source) => squeeze(source),
                _ => groups[i.group].id.clone(),
            };
            self.egress_written.push([
                source,
                groups[i.group].id.clone(),
                i.protocol.clone(),
                squeeze(&i.from_port),
                squeeze(&i.to_port),
            ]);
        }
        let adopted = |rule: Option<&InlineRule>| match rule {
            Some(_) => Half::Import,
            None => Half::New,
        };
        // A one-sided connection has one rule: the missing side is no new rule.
        let one_sided = matches!(rule.peer, InlinePeer::Addresses(_));
        let old = OldAddresses::Adopted {
            egress: if one_sided && egress.is_none() {
                Half::Import
            } else {
                adopted(egress)
            },
            ingress: if one_sided && ingress.is_none() {
                Half::Import
            } else {
                adopted(ingress)
            },
        };
        self.connections.push((text, old));
    }
}

/// What `rule` declares that AWS holds once with another rule of its group (`earlier`), or
/// within its own address lists.
fn declared_twice(rule: &InlineRule, earlier: &[InlineRule]) -> Option<String> {
    let mut seen = BTreeSet::new();
    for address in rule.literal_addresses.clone() {
        if !seen.insert(address.clone()) {
            return Some(format!("{address} is listed twice"));
        }
    }
    earlier
        .iter()
        .filter(|other| {
            other.group == rule.group
                && other.direction == rule.direction
                && other.protocol_is_literal
                && rule.protocol_is_literal
                && other.same_traffic(rule)
        })
        .find_map(|other| match (&rule.peer, &other.peer) {
            (InlinePeer::SelfGroup, InlinePeer::SelfGroup) => {
                Some("self, in two blocks".to_string())
            }
            (InlinePeer::Group(a), InlinePeer::Group(b)) if squeeze(a) == squeeze(b) => {
                Some(format!("{}, in two blocks", squeeze(a)))
            }
            (InlinePeer::Addresses(mine), InlinePeer::Addresses(theirs))
                if let Some((_, list)) = mine.iter().find(|(key, list)| {
                    theirs.iter().any(|(their_key, their_list)| {
                        key == their_key && squeeze(list) == squeeze(their_list)
                    })
                }) =>
            {
                // The same list in both, an expression's too (`[var.vpc_cidr]`): one rule,
                // as `generate` would find of the two connections.
                Some(format!("{}, in two blocks", squeeze(list)))
            }
            (InlinePeer::Addresses(_), InlinePeer::Addresses(_)) => {
                let theirs = other.literal_addresses.clone();
                rule.literal_addresses
                    .clone()
                    .into_iter()
                    .find(|address| theirs.contains(address))
                    .map(|address| format!("{address}, in two blocks"))
            }
            _ => None,
        })
}

fn partner_of<'r>(
    partner: &[Option<usize>],
    rule: &InlineRule,
    rules: &'r [InlineRule],
) -> Option<&'r InlineRule> {
    let index = rules.iter().position(|r| std::ptr::eq(r, rule))?;
    partner[index].map(|other| &rules[other])
}

fn static_key(key: &str) -> &'static str {
    [
        "source_sg_id",
        "target_sg_id",
        "source_cidr_blocks",
        "source_ipv6_cidr_blocks",
        "source_prefix_list_ids",
        "target_cidr_blocks",
        "target_ipv6_cidr_blocks",
        "target_prefix_list_ids",
    ]
    .into_iter()
    .find(|known| *known == key)
    .unwrap_or("source_sg_id")
}

/// Whether an `aws_security_group` block has inline egress blocks, static or `dynamic`.
fn has_egress_blocks(block: &Block) -> bool {
    block.body.blocks.iter().any(|nested| {
        nested.kind.text == "egress"
            || (nested.kind.text == "dynamic" && nested.label(0) == Some("egress"))
    })
}

/// Whether the group `id` keeps inline egress blocks, as far as known: it has some, and its
/// egress blocks do not migrate (refused, or none static: only `dynamic` blocks).
fn keeps_egress_blocks(id: &str, groups: &[InlineGroup], egress_blocks: &BTreeSet<String>) -> bool {
    egress_blocks.contains(id)
        && !groups.iter().any(|group| {
            group.id == id && group.refused.is_none() && group.direction != Some(Direction::Ingress)
        })
}

/// Reads a group's inline blocks into rules, as two entries (ingress, then egress) at
/// `first` and `first + 1`; none when it has no static blocks.
fn read_group(
    file: &Arc<SourceFile>,
    block: &Block,
    address: &str,
    first: usize,
    rules: &mut Vec<InlineRule>,
) -> Vec<InlineGroup> {
    let inline: Vec<&Block> = block
        .body
        .blocks
        .iter()
        .filter(|nested| matches!(nested.kind.text.as_str(), "ingress" | "egress"))
        .collect();
    if inline.is_empty() {
        return Vec::new();
    }
    let text = |span: &Range<usize>| file.text[span.clone()].to_string();
    let entry = |direction: Direction| InlineGroup {
        file: Arc::clone(file),
        header: block.header_span(),
        address: address.to_string(),
        id: format!("{address}.id"),
        provider: block
            .body
            .attribute("provider")
            .map(|provider| squeeze(&text(&provider.value.span))),
        blocks: Vec::new(),
        direction: Some(direction),
        refused: None,
        call: None,
    };
    let mut entries = [entry(Direction::Ingress), entry(Direction::Egress)];
    let at = |direction: Direction| match direction {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    };
    let refuse = |group: &mut InlineGroup, reason: String| {
        if group.refused.is_none() {
            group.refused = Some(reason);
        }
    };
    for inline_group in &mut entries {
        if block.body.has_attribute("count") || block.body.has_attribute("for_each") {
            refuse(
                inline_group,
                "the group uses count or for_each: its rules' import ids are not known statically"
                    .into(),
            );
        }
        if super::is_symlink(&file.path) {
            refuse(
                inline_group,
                "the file is a symlink; mutualsg never edits through one".into(),
            );
        }
    }
    for direction in [Direction::Ingress, Direction::Egress] {
        let name = direction.to_string();
        let inline_group = &mut entries[at(direction)];
        if block.body.has_attribute(&name) {
            refuse(
                inline_group,
                format!(
                    "it sets `{name} = ...` as well as blocks: as an attribute it makes the provider revoke every {name} rule it does not list"
                ),
            );
        }
        if block
            .body
            .blocks_of("dynamic")
            .any(|dynamic| dynamic.label(0) == Some(name.as_str()))
        {
            refuse(
                inline_group,
                format!("it has `dynamic` {name} blocks, whose content only a plan knows"),
            );
        }
    }
    for nested in inline {
        let direction = if nested.kind.text == "ingress" {
            Direction::Ingress
        } else {
            Direction::Egress
        };
        let group = first + at(direction);
        let inline_group = &mut entries[at(direction)];
        let start =
            leading_comment(file, nested.span.start).map_or(nested.span.start, |(start, _)| start);
        inline_group
            .blocks
            .push(removal_range(&file.text, start..nested.span.end));
        let comment = leading_comment(file, nested.span.start)
            .map(|(_, lines)| lines)
            .unwrap_or_default();
        if let Some(nested_block) = nested.body.blocks.first() {
            refuse(
                inline_group,
                format!(
                    "its {} block holds a `{}` block",
                    nested.kind.text, nested_block.kind.text
                ),
            );
            continue;
        }
        if let Some(unknown) = nested
            .body
            .attributes
            .iter()
            .find(|attribute| !BLOCK_ARGUMENTS.contains(&attribute.name.text.as_str()))
        {
            refuse(
                inline_group,
                format!(
                    "its {} block's `{}` has no key in mutual_rules",
                    nested.kind.text, unknown.name.text
                ),
            );
            continue;
        }
        let get = |name: &str| {
            nested
                .body
                .attribute(name)
                .filter(|attribute| !matches!(attribute.value.kind, ExprKind::Null))
        };
        let protocol_text = get("protocol").map(|p| text(&p.value.span));
        let protocol_literal = get("protocol").and_then(|p| match &p.value.kind {
            ExprKind::String(value) => Some(value.clone()),
            ExprKind::Number(Some(number)) => Some(number.to_string()),
            _ => None,
        });
        let (protocol, protocol_is_literal) = match (&protocol_literal, &protocol_text) {
            (Some(literal), _) => (canonical_protocol(literal), true),
            (None, Some(expression)) => (expression.clone(), false),
            (None, None) => {
                refuse(inline_group, "an inline block has no `protocol`".into());
                continue;
            }
        };
        let (Some(from), Some(to)) = (get("from_port"), get("to_port")) else {
            refuse(inline_group, "an inline block has no ports".into());
            continue;
        };
        let base = InlineRule {
            group,
            direction,
            peer: InlinePeer::SelfGroup,
            protocol,
            protocol_is_literal,
            from_port: text(&from.value.span),
            to_port: text(&to.value.span),
            description: get("description").map(|d| text(&d.value.span)),
            comment,
            literal_addresses: Vec::new(),
        };
        let mut peers = Vec::new();
        if let Some(groups) = get("security_groups") {
            match &groups.value.kind {
                ExprKind::Tuple(items) => {
                    peers.extend(items.iter().map(|item| InlinePeer::Group(text(&item.span))))
                }
                _ => {
                    refuse(
                        inline_group,
                        "an inline block's `security_groups` is not a literal list: its groups are not known statically".into(),
                    );
                    continue;
                }
            }
        }
        match get("self").map(|value| &value.value.kind) {
            Some(ExprKind::Bool(true)) => peers.push(InlinePeer::SelfGroup),
            Some(ExprKind::Bool(false)) | None => {}
            Some(_) => {
                refuse(
                    inline_group,
                    "an inline block's `self` is not a literal true or false".into(),
                );
                continue;
            }
        }
        let addresses: Vec<(&'static str, String)> = [
            ("cidr_blocks", "cidr_blocks"),
            ("ipv6_cidr_blocks", "ipv6_cidr_blocks"),
        ]
        .into_iter()
        .filter_map(|(name, suffix)| get(name).map(|list| (suffix, text(&list.value.span))))
        .filter(|(_, list)| squeeze(list) != "[]")
        .collect();
        if !addresses.is_empty() {
            peers.push(InlinePeer::Addresses(addresses));
        }
        if let Some(lists) = get("prefix_list_ids")
            && squeeze(&text(&lists.value.span)) != "[]"
        {
            peers.push(InlinePeer::Addresses(vec![(
                "prefix_list_ids",
                text(&lists.value.span),
            )]));
        }
        if peers.is_empty() {
            refuse(inline_group, "an inline block has no peer".into());
            continue;
        }
        for peer in peers {
            // Only a literal list's literal strings: an expression's
            // (`split(",", join(",", ...))`) are no addresses.
            let literal_addresses = match &peer {
                InlinePeer::Addresses(lists) => lists
                    .iter()
                    .filter_map(|(name, _)| get(name))
                    .flat_map(|list| list.value.literal_strings())
                    .collect(),
                _ => Vec::new(),
            };
            rules.push(InlineRule {
                peer,
                literal_addresses,
                ..base.clone()
            });
        }
    }
    entries.into()
}

/// The blocks' removal ranges, those that touch joined into one; where nothing but the
/// closing `}` follows one, the blank line above it goes too, so the body does not end in a
/// blank line.
fn merged_removals(text: &str, ranges: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut merged: Vec<Range<usize>> = Vec::new();
    for range in ranges {
        match merged.last_mut() {
            Some(last) if last.end == range.start => last.end = range.end,
            _ => merged.push(range.clone()),
        }
    }
    for range in &mut merged {
        let closes = text[range.end..]
            .trim_start_matches([' ', '\t'])
            .starts_with('}');
        let before = &text[..range.start];
        if closes && before.ends_with("\r\n\r\n") {
            range.start -= 2;
        } else if closes && before.ends_with("\n\n") {
            range.start -= 1;
        }
    }
    merged
}

fn one_sided_rule(rule: &InlineRule) -> bool {
    matches!(rule.peer, InlinePeer::Addresses(_))
}

/// A rule of an inline block or a module call, as `--close-egress` compares it: its group's
/// id, direction, group peer (the group's own id for `self`), protocol and ports, squeezed.
#[derive(Debug, Clone)]
pub(super) struct SeenRule {
    pub group: String,
    pub direction: Direction,
    pub peer_group: Option<String>,
    pub protocol: String,
    pub from_port: String,
    pub to_port: String,
}

impl SeenRule {
    fn of(rule: &InlineRule, groups: &[InlineGroup]) -> SeenRule {
        let own = groups[rule.group].id.clone();
        SeenRule {
            peer_group: match &rule.peer {
                InlinePeer::Group(group) => Some(squeeze(group)),
                InlinePeer::SelfGroup => Some(own.clone()),
                InlinePeer::Addresses(_) => None,
            },
            group: own,
            direction: rule.direction,
            protocol: rule.protocol.clone(),
            from_port: squeeze(&rule.from_port),
            to_port: squeeze(&rule.to_port),
        }
    }
}

/// A migrating call's open egress rules held by one of the module's resources
/// (`egress_rules`): their connections, dropped when the group closes.
#[derive(Debug, Clone)]
pub(super) struct CallOpenEgress {
    /// Index of the call among the groups read.
    pub group: usize,
    /// `module.NAME.security_group_id`.
    pub id: String,
    /// `module.NAME`.
    pub address: String,
    pub file: Arc<SourceFile>,
    pub header: Range<usize>,
    pub state_prefix: String,
    /// The module resource that holds them.
    pub resource: String,
    /// Every module resource that holds a rule of the call (one entry per rule).
    pub resources: Vec<String>,
    /// How many rules that resource holds (all must be open for it to go).
    pub held: usize,
    /// Their connections' indexes in the planner's list.
    pub connections: Vec<usize>,
}

/// An egress rule to `0.0.0.0/0` or `::/0` for all traffic or every port.
fn is_open_egress(rule: &InlineRule) -> bool {
    let anywhere = matches!(&rule.peer, InlinePeer::Addresses(lists)
        if lists.iter().any(|(_, list)| list.contains("\"0.0.0.0/0\"") || list.contains("\"::/0\"")));
    let wide = rule.protocol_is_literal
        && (rule.protocol == "-1"
            || (squeeze(&rule.from_port) == "0" && squeeze(&rule.to_port) == "65535"));
    rule.direction == Direction::Egress && anywhere && wide
}
