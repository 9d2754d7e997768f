//! `mutualsg migrate`: moves a module onto `mutual_rules` without Terraform destroying a rule.
//!
//! Three sources: a `skwashd/mutual-security-groups/aws` module call (v1 list or v2 map),
//! and hand-written egress/ingress pairs. Each becomes connections in `mutual_rules`, the
//! generated file, and `moved` (or `removed` + `import`) blocks in `mutual_rules.migrate.tf`
//! that map the old state addresses to the generated ones, so the plan is moves, imports and
//! forgets only. Files are edited span by span: everything else in them stays as it is.

use std::collections::{BTreeMap, BTreeSet};

mod close_egress;
mod flow_proof;
mod inline;
mod kept_style;
mod sg_module;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::commands::suggest::observed::Observed;
use crate::config::{Config, Style};
use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::generate::{
    self, Change, Definition, Items, LOCAL_NAME, Literal, MigrationBlock, Mode, ParsedFile, Peer,
    Port, migration_file_change, reparse, squeeze,
};
use crate::inventory::{self, DeclaredRule, ModuleModel, Origin, RulePeer};
use crate::paths::join;
use crate::schema::Direction;
use crate::syntax::{self, Block, Expr, ExprKind, ObjectItem, Reference, Replacement, Step};
use crate::workspace::discover::Module;

/// Where `migrate` puts a new `mutual_rules` local when the module has none.
const NEW_RULES_FILE: &str = "mutual_rules.tf";
/// The module this tool replaces, as its registry source.
const MODULE_SOURCE: &str = "skwashd/mutual-security-groups/aws";

/// What migrating one module changes, and what it leaves alone (as warnings).
#[derive(Debug, Default)]
pub struct Migration {
    pub changes: Vec<Change>,
    pub warnings: Vec<Diagnostic>,
    /// Whether the module defines `mutual_rules` once the changes are applied.
    pub has_rules: bool,
}

/// Where the migrated connections' state lives now.
#[derive(Debug, Clone)]
enum OldAddresses {
    /// v1: `module.NAME.aws_security_group_rule.{ingress,egress}[i]`.
    ModuleList { module: String, index: usize },
    /// v2: `module.NAME.aws_vpc_security_group_{ingress,egress}_rule.this["key"]`.
    ModuleMap { module: String, key: String },
    /// A hand-written pair: the egress and the ingress resource's addresses.
    Pair { egress: String, ingress: String },
    /// Each half on its own: moved from a resource, imported (an inline block's rule), or new
    /// (the egress half `--add-egress` writes).
    Adopted { egress: Half, ingress: Half },
}

/// Where one generated rule's state comes from.
#[derive(Debug, Clone)]
enum Half {
    Move(String),
    Import,
    /// A resource of another type (an `aws_vpc_*` rule in the default style): `moved` refuses
    /// a change of type, so it is forgotten (`removed`, `destroy = false`) and its AWS rule
    /// imported.
    Retype(String),
    New,
}

/// What `migrate` does beyond moving what exists.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'o> {
    /// Write the egress half of each one-sided ingress rule with a security-group peer.
    pub add_egress: bool,
    /// Remove the open egress of each group whose needed egress is explicit.
    pub close_egress: bool,
    /// What the flow logs show the groups sent: with `close_egress`, the proof that closing
    /// breaks nothing (without it, the rules alone decide: `--without-flow-logs`).
    pub observed: Option<&'o Observed>,
}

/// A text edit in one file.
#[derive(Debug, Clone)]
struct Edit {
    range: Range<usize>,
    text: String,
}

/// Plans the migration of one module.
pub fn migrate_module(
    module: &Module,
    config: &Config,
    options: Options,
) -> Result<Migration, Vec<Diagnostic>> {
    let model = inventory::read(module, config)?;
    // Without a `.mutualsg.toml`, a module of aws_vpc_* rules keeps that family: read without
    // `mutual_rules`, the model is the same in either style.
    let kept = match config.decided_by {
        Some(_) => None,
        None => kept_style::kept_style(module, &model),
    };
    let config = &match kept {
        Some(style) => Config {
            style,
            ..config.clone()
        },
        None => config.clone(),
    };
    let mut planner = Planner {
        config,
        add_egress: options.add_egress,
        observed: options.observed,
        drafted_for: BTreeSet::new(),
        egress_written: Vec::new(),
        inline_egress_kept: BTreeSet::new(),
        exclusive: BTreeSet::new(),
        model: &model,
        module,
        renames: Vec::new(),
        close_egress: options.close_egress,
        seen_rules: Vec::new(),
        call_open_egress: Vec::new(),
        edits: BTreeMap::new(),
        warnings: Vec::new(),
        connections: Vec::new(),
        vpc_names: BTreeSet::new(),
        new_rules_text: None,
        extra_blocks: Vec::new(),
        moved_into_inline: Vec::new(),
    };
    planner.module_calls()?;
    if config.style == Style::SecurityGroupRule {
        planner.inline_groups();
    } else {
        planner.sg_module_calls_left();
    }
    planner.hand_written_pairs();
    if options.close_egress {
        planner.close_egress();
    }
    let mut migration = planner.finish(module)?;
    if kept.is_some() && !migration.changes.is_empty() {
        let (path, text) = kept_style::config_file(&module.dir);
        migration.warnings.push(Diagnostic::file(
            Problem::StyleKept {
                style: config.style.name(),
            },
            &path,
        ));
        migration.changes.push(Change {
            path,
            old: None,
            new: Some(text),
        });
    }
    Ok(migration)
}

struct Planner<'a> {
    config: &'a Config,
    add_egress: bool,
    /// The flow logs' proof for `--close-egress`.
    observed: Option<&'a Observed>,
    /// Groups whose outside destinations the flow logs drafted as connections already.
    drafted_for: BTreeSet<String>,
    /// The egress halves `--add-egress` writes: (source, target, protocol, from, to).
    egress_written: Vec<[String; 5]>,
    /// Groups (by id, `aws_security_group.x.id`) that keep inline `egress` blocks (or
    /// `dynamic "egress"` ones): the provider revokes any separate egress rule on them. Kept
    /// `ingress` blocks alone leave egress unmanaged by the group, so an egress half is safe.
    inline_egress_kept: BTreeSet<String>,
    /// Groups that set `ingress = [...]`/`egress = [...]` as an attribute: the provider
    /// revokes every rule of that direction they do not list.
    exclusive: BTreeSet<(String, Direction)>,
    model: &'a ModuleModel,
    module: &'a Module,
    /// References to rewrite in every file once the edits are made: a migrated
    /// `terraform-aws-modules/security-group/aws` call's outputs, as its group resource's
    /// attributes.
    renames: Vec<(String, String)>,
    /// `--close-egress`: the calls' open egress is recorded for it.
    close_egress: bool,
    /// The rules of inline blocks and module calls, for `--close-egress`.
    seen_rules: Vec<inline::SeenRule>,
    /// The migrating calls' open egress, which `--close-egress` may remove.
    call_open_egress: Vec<inline::CallOpenEgress>,
    edits: BTreeMap<PathBuf, Vec<Edit>>,
    warnings: Vec<Diagnostic>,
    /// Connections to add to `mutual_rules`, as HCL object text, with their old addresses.
    connections: Vec<(String, OldAddresses)>,
    /// The names given to `aws_vpc_*` connections so far, each once.
    vpc_names: BTreeSet<String>,
    /// A module call's `rules` value, which becomes the `mutual_rules` value.
    new_rules_text: Option<(PathBuf, Range<usize>, String, Vec<OldAddresses>)>,
    /// `removed` blocks for module calls whose rules change resource type.
    extra_blocks: Vec<MigrationBlock>,
    /// Rule resources moved into a connection with an inline block's rule (the egress half
    /// of an inline ingress rule): no longer hand-written rules to pair.
    moved_into_inline: Vec<String>,
}

impl<'a> Planner<'a> {
    fn skip(
        &mut self,
        file: &Arc<SourceFile>,
        span: Range<usize>,
        what: String,
        reason: impl Into<String>,
    ) {
        self.warnings.push(Diagnostic::at(
            Problem::NotMigrated {
                what,
                reason: reason.into(),
            },
            file,
            span,
        ));
    }

    /// `module "NAME" { source = "skwashd/mutual-security-groups/aws" ... }` calls.
    fn module_calls(&mut self) -> Result<(), Vec<Diagnostic>> {
        for parsed in &self.model.files {
            for block in parsed
                .body
                .blocks
                .iter()
                .filter(|block| is_module_call(block))
            {
                self.module_call(parsed, block)?;
            }
        }
        Ok(())
    }

    fn module_call(&mut self, parsed: &ParsedFile, block: &Block) -> Result<(), Vec<Diagnostic>> {
        let file = &parsed.file;
        let name = block
            .labels
            .first()
            .map(|label| label.value.clone())
            .unwrap_or_default();
        let what = format!("module.{name}");
        let header = block.header_span();
        if block.body.has_attribute("count") || block.body.has_attribute("for_each") {
            self.skip(
                file,
                header,
                what,
                "a module call with count or for_each has no static addresses",
            );
            return Ok(());
        }
        if self.model.connections.is_some() || self.new_rules_text.is_some() {
            self.skip(
                file,
                header,
                what,
                "the module already defines mutual_rules: migrate one source at a time",
            );
            return Ok(());
        }
        if is_symlink(&file.path) {
            self.skip(
                file,
                header,
                what,
                "the file is a symlink; mutualsg never edits through one",
            );
            return Ok(());
        }
        let Some(rules) = block.body.attribute("rules") else {
            self.skip(file, header, what, "the call has no `rules`");
            return Ok(());
        };
        let old: Vec<OldAddresses> = match &rules.value.kind {
            ExprKind::Tuple(list) => (0..list.len())
                .map(|index| OldAddresses::ModuleList {
                    module: name.clone(),
                    index,
                })
                .collect(),
            ExprKind::Object(map) => map
                .iter()
                .map(|item| OldAddresses::ModuleMap {
                    module: name.clone(),
                    key: object_key(file, item),
                })
                .collect(),
            _ => {
                self.skip(
                    file,
                    header,
                    what,
                    "its `rules` are not a literal list or map",
                );
                return Ok(());
            }
        };
        let is_v2 = matches!(rules.value.kind, ExprKind::Object(_));
        // v1's rules are aws_security_group_rule: the aws_vpc_* style would change their type,
        // which `moved` refuses.
        if !is_v2 && self.config.style == Style::VpcSecurityGroupRule {
            self.skip(file, header, what, "v1 rules are aws_security_group_rule resources: migrate them with the default style");
            return Ok(());
        }
        let mut rules_text = generate::source_value(file, &rules.value).text;
        if let Some(tags) = block.body.attribute("tags") {
            let tags = generate::source_value(file, &tags.value);
            let empty = tags.literal == Some(Literal::Null) || squeeze(&tags.text) == "{}";
            if !empty {
                if self.config.style == Style::SecurityGroupRule {
                    return Err(vec![Diagnostic::at(
                        Problem::TagsNeedVpcStyle,
                        file,
                        tags.span.clone(),
                    )]);
                }
                rules_text = add_tags(file, &rules.value, &tags.text);
            }
        }
        if is_v2 && self.config.style == Style::SecurityGroupRule {
            self.extra_blocks.push(MigrationBlock::Removed {
                from: format!("module.{name}"),
            });
        }
        self.new_rules_text = Some((file.path.clone(), block.span.clone(), rules_text, old));
        Ok(())
    }

    /// Hand-written egress/ingress pairs of one protocol and port range between two groups.
    fn hand_written_pairs(&mut self) {
        let family: &[&str] = match self.config.style {
            // The aws_vpc_* rules too: they change type, forgotten and imported.
            Style::SecurityGroupRule => &[
                "aws_security_group_rule.",
                "aws_vpc_security_group_egress_rule.",
                "aws_vpc_security_group_ingress_rule.",
            ],
            Style::VpcSecurityGroupRule => &[
                "aws_vpc_security_group_egress_rule.",
                "aws_vpc_security_group_ingress_rule.",
            ],
        };
        let candidates: Vec<&DeclaredRule> = self
            .model
            .rules
            .iter()
            .filter(|rule| matches!(&rule.origin, Origin::Resource { address } if family.iter().any(|prefix| address.starts_with(prefix)) && !self.moved_into_inline.contains(address)))
            .collect();
        // Rules already listed (paired, or left with the reason their pair gives).
        let mut handled: Vec<&DeclaredRule> = Vec::new();
        let seen = |handled: &[&DeclaredRule], rule: &DeclaredRule| {
            handled.iter().any(|seen| std::ptr::eq(*seen, rule))
        };
        // The same AWS rule written twice: AWS holds it once, so it is migrated once; the
        // later declarations are held (two connections of one rule cannot both be generated).
        for (index, rule) in candidates.iter().enumerate() {
            let Some(first) = candidates[..index]
                .iter()
                .find(|first| same_aws_rule(first, rule))
            else {
                continue;
            };
            handled.push(rule);
            let (file, span, what) = (Arc::clone(&rule.file), rule.span.clone(), address(rule));
            self.skip(
                &file,
                span,
                what,
                format!(
                    "it is the same AWS rule as {} (AWS holds it once), which is migrated in its place: forget this declaration with a `removed` block (lifecycle destroy = false), since destroying it revokes the rule",
                    address(first)
                ),
            );
        }
        for egress in candidates
            .iter()
            .filter(|rule| rule.direction == Direction::Egress)
        {
            let Some(peer) = single_group_peer(egress) else {
                continue;
            };
            let partner = candidates.iter().find(|ingress| {
                ingress.direction == Direction::Ingress
                    && !seen(&handled, ingress)
                    && same_traffic(egress, ingress)
                    // A for_each pair moves whole resource to whole resource: one collection.
                    && ingress.for_each == egress.for_each
                    && match (&peer, single_group_peer(ingress)) {
                        (RulePeer::SelfGroup, Some(RulePeer::SelfGroup)) => {
                            ingress.group == egress.group
                        }
                        (RulePeer::Group(target), Some(RulePeer::Group(source))) => {
                            ingress.group == *target && source == egress.group
                        }
                        _ => false,
                    }
            });
            let Some(ingress) = partner else {
                continue;
            };
            handled.push(egress);
            handled.push(ingress);
            let style = self.style_of(&[egress, ingress]);
            if let Some((half, reason)) = [egress, ingress]
                .into_iter()
                .find_map(|half| Some((half, self.retype_refusal(half, style)?)))
            {
                let other = if std::ptr::eq(*half, *egress) {
                    ingress
                } else {
                    egress
                };
                let what = format!("{} (and its pair {})", address(half), address(other));
                self.skip(&half.file, half.span.clone(), what, reason);
                continue;
            }
            if is_symlink(&egress.file.path) || is_symlink(&ingress.file.path) {
                let what = address(egress);
                self.skip(
                    &egress.file,
                    egress.span.clone(),
                    what,
                    "a half sits in a symlinked file; mutualsg never edits through one",
                );
                continue;
            }
            let halves = [egress, ingress].map(|half| {
                let block = self
                    .block_of(half)
                    .expect("a declared rule comes from a block");
                carried(&half.file, block, style)
            });
            match halves {
                [Ok(egress_args), Ok(ingress_args)] => {
                    if let Some(argument) = egress_args.disagreement(&ingress_args) {
                        let what = format!("the pair {} and {}", address(egress), address(ingress));
                        self.skip(
                            &egress.file,
                            egress.span.clone(),
                            what,
                            format!("the halves differ in `{argument}`, which a connection gives both rules alike"),
                        );
                        continue;
                    }
                    self.pair(Some((egress, &egress_args)), ingress, &ingress_args);
                }
                [Err((argument_span, reason)), _] => {
                    let what = format!("{} (and its pair {})", address(egress), address(ingress));
                    self.skip(&egress.file, argument_span, what, reason);
                }
                [_, Err((argument_span, reason))] => {
                    let what = format!("{} (and its pair {})", address(ingress), address(egress));
                    self.skip(&ingress.file, argument_span, what, reason);
                }
            }
        }
        // Everything hand-written that was not paired stays, and is listed; with
        // `--add-egress` a one-sided ingress rule from a group gets its egress half.
        for rule in &candidates {
            if seen(&handled, rule) {
                continue;
            }
            if self.add_egress && rule.direction == Direction::Ingress {
                match self.egress_half_writable(rule) {
                    Ok(args) => {
                        self.pair(None, rule, &args);
                        continue;
                    }
                    Err(Some((file, span, reason))) => {
                        self.skip(&file, span, address(rule), reason);
                        continue;
                    }
                    Err(None) => {}
                }
            }
            let reason = if has_for_each(self.block_of(rule)) {
                "it uses for_each, and no rule in the other direction has the same for_each"
            } else if rule
                .peers
                .iter()
                .any(|peer| matches!(peer, RulePeer::Address { .. }))
            {
                "its peer is a CIDR block or prefix list"
            } else if rule.peers.len() != 1 {
                "it has several peers"
            } else {
                "it has no matching rule in the other direction"
            };
            let (file, span, what) = (Arc::clone(&rule.file), rule.span.clone(), address(rule));
            self.skip(&file, span, what, reason);
        }
        // Rule resources the inventory cannot read as a rule: listed too.
        if self.config.style == Style::SecurityGroupRule {
            self.unreadable_rules();
        }
    }

    /// Whether `--add-egress` can write the egress half of a one-sided ingress rule: its
    /// arguments, or why not (`None`: it is not the shape, and the usual reason applies).
    #[allow(clippy::type_complexity)]
    fn egress_half_writable(
        &self,
        ingress: &DeclaredRule,
    ) -> Result<Carried, Option<(Arc<SourceFile>, Range<usize>, String)>> {
        let source = match single_group_peer(ingress) {
            Some(RulePeer::Group(source)) => source,
            Some(RulePeer::SelfGroup) => ingress.group.clone(),
            _ => return Err(None),
        };
        let block = self.block_of(ingress);
        let fail = |reason: String| {
            Err(Some((
                Arc::clone(&ingress.file),
                ingress.span.clone(),
                reason,
            )))
        };
        let style = self.style_of(&[ingress]);
        if let Some(reason) = self.retype_refusal(ingress, style) {
            return fail(reason);
        }
        if is_symlink(&ingress.file.path) {
            return fail("it sits in a symlinked file; mutualsg never edits through one".into());
        }
        if self
            .exclusive
            .contains(&(source.text.clone(), Direction::Egress))
        {
            return fail(format!(
                "{source} sets `egress`, which revokes every egress rule it does not list: the new egress half would be revoked"
            ));
        }
        if self.inline_egress_kept.contains(&source.text) {
            return fail(format!(
                "its egress half would be a separate rule on {source}, which keeps inline egress blocks"
            ));
        }
        // A source read per instance (`each.value.sg`) may be any of the module's groups: none
        // of them may revoke a separate egress rule.
        if source
            .tree
            .as_ref()
            .is_some_and(|tree| reads_object(tree, "each", false))
            && let Some(group) = self.inline_egress_kept.iter().next().or_else(|| {
                self.exclusive
                    .iter()
                    .find(|(_, direction)| *direction == Direction::Egress)
                    .map(|(group, _)| group)
            })
        {
            return fail(format!(
                "its egress half's group is read per instance ({source}), and {group} keeps inline egress blocks or sets `egress`, which would revoke it"
            ));
        }
        let declared = self.model.rules.iter().any(|other| {
            other.direction == Direction::Egress
                && other.group == source
                && may_be_same_traffic(other, ingress)
                && other.peers.iter().any(|peer| match peer {
                    RulePeer::Group(group) => *group == ingress.group,
                    RulePeer::SelfGroup => source == ingress.group,
                    _ => false,
                })
        });
        if declared {
            return fail(format!(
                "an egress rule on {source} already allows it, or may (ports only a plan knows), in a form that does not pair (for_each, several peers, or another resource type)"
            ));
        }
        let block = block.expect("a declared rule comes from a block");
        match carried(&ingress.file, block, style) {
            Ok(args) => Ok(args),
            Err((span, reason)) => Err(Some((Arc::clone(&ingress.file), span, reason))),
        }
    }

    /// The style of the connection that `halves` (its existing rule resources) become: the
    /// module's, except that in a module no `.mutualsg.toml` decides, `aws_vpc_*` halves keep
    /// their family (the connection says `style`), so they move, `tags`, `count` and
    /// `for_each` kept, rather than being forgotten and imported as `aws_security_group_rule`s.
    /// A module holding both families (which the default style does not give up) keeps each
    /// rule's type; a pair of one half of each takes the module's.
    fn style_of(&self, halves: &[&DeclaredRule]) -> Style {
        let vpc = |rule: &&DeclaredRule| address(rule).starts_with("aws_vpc_security_group_");
        if self.config.decided_by.is_none() && halves.iter().all(vpc) {
            Style::VpcSecurityGroupRule
        } else {
            self.config.style
        }
    }

    /// Why a rule of another type than the connection's `style` cannot be forgotten and
    /// imported, if it cannot: an `import` block needs one static address, which `count` and
    /// `for_each` instances do not have.
    fn retype_refusal(&self, rule: &DeclaredRule, style: Style) -> Option<String> {
        if !retyped(style, rule) {
            return None;
        }
        let block = self.block_of(rule)?;
        let meta = ["count", "for_each"]
            .into_iter()
            .find(|name| block.body.has_attribute(name))?;
        Some(format!(
            "it is an aws_vpc_* rule, which the default style forgets and imports as an aws_security_group_rule, and its `{meta}` instances have no static import address: migrate it with style = \"aws_vpc_security_group_rule\""
        ))
    }

    /// `aws_security_group_rule` resources with no literal `type` or no `security_group_id`,
    /// which the inventory does not hold: never migrated, always listed.
    fn unreadable_rules(&mut self) {
        let mut unread = Vec::new();
        for parsed in &self.model.files {
            for block in parsed.body.blocks_of("resource") {
                if block.label(0) != Some("aws_security_group_rule") {
                    continue;
                }
                let header = block.header_span();
                let known = self
                    .model
                    .rules
                    .iter()
                    .any(|rule| Arc::ptr_eq(&rule.file, &parsed.file) && rule.span == header);
                if known {
                    continue;
                }
                let reason = match block.body.attribute("type") {
                    Some(kind) if kind.value.string().is_none() => {
                        "its `type` is an expression, so its direction is not known statically"
                    }
                    Some(_) if !block.body.has_attribute("security_group_id") => {
                        "it has no `security_group_id`"
                    }
                    Some(_) => "its `type` is neither \"ingress\" nor \"egress\"",
                    None => "it has no `type`",
                };
                let what = format!(
                    "aws_security_group_rule.{}",
                    block.label(1).unwrap_or_default()
                );
                unread.push((Arc::clone(&parsed.file), header, what, reason));
            }
        }
        for (file, span, what, reason) in unread {
            self.skip(&file, span, what, reason);
        }
    }

    /// The resource block a declared rule comes from.
    fn block_of(&self, rule: &DeclaredRule) -> Option<&'a Block> {
        let model: &'a ModuleModel = self.model;
        let parsed = model
            .files
            .iter()
            .find(|parsed| Arc::ptr_eq(&parsed.file, &rule.file))?;
        parsed
            .body
            .blocks
            .iter()
            .find(|block| block.header_span() == rule.span)
    }

    /// Removes both halves (and the comments directly above them) from their files and adds
    /// the connection they make, with every argument they carry.
    /// With no egress half (`--add-egress`), the ingress half moves and the egress half is
    /// the connection's one new rule.
    fn pair(
        &mut self,
        egress_half: Option<(&DeclaredRule, &Carried)>,
        ingress: &DeclaredRule,
        ingress_args: &Carried,
    ) {
        let egress = egress_half.map_or(ingress, |(rule, _)| rule);
        let egress_args = egress_half.map_or(ingress_args, |(_, args)| args);
        let halves: &[&DeclaredRule] = match egress_half {
            Some(_) => &[egress, ingress],
            None => &[ingress],
        };
        for &half in halves {
            if let Some(span) = self.resource_span(half) {
                self.edit(
                    &half.file,
                    removal_range(&half.file.text, span),
                    String::new(),
                );
            }
        }
        let args = egress_args;
        let source = match egress_half {
            Some(_) => egress_args.group.clone(),
            None => ingress_args
                .peer
                .clone()
                .unwrap_or_else(|| ingress_args.group.clone()),
        };
        let source_key = squeeze(&source);
        let style = self.style_of(halves);
        let mut lines = Vec::new();
        // aws_vpc_* names leave out the ports (they update in place), so two connections
        // between the same groups would collide: the egress half's name keeps them apart.
        if style == Style::VpcSecurityGroupRule {
            let name = address(egress);
            let name = name.rsplit('.').next().unwrap_or_default();
            let name = self.free_vpc_name(name, halves);
            lines.push(("name", quote(&name)));
        }
        if style != self.config.style {
            lines.push(("style", quote(style.name())));
        }
        lines.extend([
            ("source_sg_id", source),
            ("target_sg_id", ingress_args.group.clone()),
        ]);
        // A rule naming its own group by id holds `self = false` in state; `self` forces
        // replacement, so the generated rule must name the group by id too.
        if style == Style::SecurityGroupRule
            && matches!(single_group_peer(egress), Some(RulePeer::Group(peer)) if peer == egress.group)
        {
            lines.push(("self", "false".to_string()));
        }
        // A literal protocol is written canonically; an expression as it is.
        let literal_protocol = !args.protocol_is_expression;
        if !literal_protocol {
            lines.push(("protocol", args.protocol.clone().unwrap_or_default()));
        } else if egress.protocol != "tcp" {
            lines.push(("protocol", quote(&egress.protocol)));
        }
        if egress.protocol != "-1" || !literal_protocol {
            let from = args.from_port.clone().unwrap_or_default();
            let to = args.to_port.clone().unwrap_or_else(|| from.clone());
            lines.push(("from_port", from.clone()));
            if squeeze(&to) != squeeze(&from) {
                lines.push(("to_port", to));
            }
        }
        let egress_description = match egress_half {
            Some(_) => &egress_args.description,
            None => &ingress_args.description,
        };
        match (&ingress_args.description, egress_description) {
            (Some(a), Some(b)) if a == b => lines.push(("description", a.clone())),
            (ingress_description, egress_description) => {
                if let Some(text) = ingress_description {
                    lines.push(("description_source", text.clone()));
                }
                if let Some(text) = egress_description {
                    lines.push(("description_target", text.clone()));
                }
            }
        }
        if let Some(condition) = &args.enabled {
            lines.push(("enabled", condition.clone()));
        }
        // Halves with different providers (groups in two accounts) keep each its own.
        match (&egress_args.provider, &ingress_args.provider) {
            (source, target) if source == target => {
                if let Some(provider) = source {
                    lines.push(("provider", quote(provider)));
                }
            }
            (source, target) => {
                if let Some(provider) = source {
                    lines.push(("source_provider", quote(provider)));
                }
                if let Some(provider) = target {
                    lines.push(("target_provider", quote(provider)));
                }
            }
        }
        if let Some(region) = &args.region {
            lines.push(("region", region.clone()));
        }
        if let Some(tags) = &args.tags {
            lines.push(("tags", tags.clone()));
        }
        if let Some(create) = &args.timeout_create {
            lines.push(("timeouts", format!("{{ create = {create} }}")));
        }
        let depends_on = egress_args
            .joined_depends_on(ingress_args)
            .expect("the halves' depends_on were checked to join");
        if let Some(depends_on) = depends_on {
            lines.push(("depends_on", depends_on));
        }
        let mut comment = egress_args.comment.clone();
        for line in &ingress_args.comment {
            if !comment.contains(line) {
                comment.push(line.clone());
            }
        }
        if let Some(collection) = &args.for_each {
            let mut per_instance = ingress_args.per_instance.clone();
            per_instance.extend(egress_args.per_instance.clone());
            lines = per_instance_lines(lines, collection, &per_instance);
        }
        let text = connection_text(&comment, &lines);
        let half = |rule: &DeclaredRule| match retyped(style, rule) {
            true => Half::Retype(address(rule)),
            false => Half::Move(address(rule)),
        };
        let old = match egress_half {
            Some(_) if retyped(style, egress) || retyped(style, ingress) => OldAddresses::Adopted {
                egress: half(egress),
                ingress: half(ingress),
            },
            Some(_) => OldAddresses::Pair {
                egress: address(egress),
                ingress: address(ingress),
            },
            None => {
                self.egress_written.push([
                    source_key,
                    ingress.group.text.clone(),
                    ingress.protocol.clone(),
                    ingress.from_port.clone(),
                    ingress.to_port.clone(),
                ]);
                OldAddresses::Adopted {
                    egress: Half::New,
                    ingress: half(ingress),
                }
            }
        };
        self.connections.push((text, old));
    }

    /// `name`, or `name_2`, `name_3`...: the first whose generated addresses
    /// (`aws_vpc_security_group_{egress,ingress}_rule.NAME`) no other connection takes and no
    /// resource of the module declares, apart from the halves moving into it. An `--add-egress`
    /// egress half named after its ingress rule would otherwise land on an unrelated egress
    /// rule of that name (found on modernisation-platform-environments' delius-mis).
    fn free_vpc_name(&mut self, name: &str, halves: &[&DeclaredRule]) -> String {
        let moving: Vec<String> = halves.iter().map(|half| address(half)).collect();
        let taken = |candidate: &str| {
            self.vpc_names.contains(candidate)
                || ["egress", "ingress"].iter().any(|direction| {
                    let kind = format!("aws_vpc_security_group_{direction}_rule");
                    let held = format!("{kind}.{candidate}");
                    !moving.contains(&held) && self.declares(&kind, candidate)
                })
        };
        let free = std::iter::once(name.to_string())
            .chain((2..).map(|n| format!("{name}_{n}")))
            .find(|candidate| !taken(candidate))
            .expect("an unbounded sequence of names has a free one");
        self.vpc_names.insert(free.clone());
        free
    }

    /// Whether a `resource "KIND" "NAME"` block sits in the module's files.
    fn declares(&self, kind: &str, name: &str) -> bool {
        self.model.files.iter().any(|parsed| {
            parsed.body.blocks.iter().any(|block| {
                block.kind.text == "resource"
                    && block.label(0) == Some(kind)
                    && block.label(1) == Some(name)
            })
        })
    }

    /// The whole resource block a declared rule comes from, with the comment lines directly
    /// above it (they travel with it).
    fn resource_span(&self, rule: &DeclaredRule) -> Option<Range<usize>> {
        let block = self.block_of(rule)?;
        let start = leading_comment(&rule.file, block.span.start)
            .map_or(block.span.start, |(start, _)| start);
        Some(start..block.span.end)
    }

    fn edit(&mut self, file: &Arc<SourceFile>, range: Range<usize>, text: String) {
        self.edits
            .entry(file.path.clone())
            .or_default()
            .push(Edit { range, text });
    }

    /// Applies the edits, regenerates, and writes the migration blocks.
    fn finish(mut self, module: &Module) -> Result<Migration, Vec<Diagnostic>> {
        if self.new_rules_text.is_none() && self.connections.is_empty() {
            // A module call whose group alone migrates (it owned no rule, or only closed ones).
            if !self.extra_blocks.is_empty() {
                return self.changes(module, None, Vec::new());
            }
            return Ok(Migration {
                changes: Vec::new(),
                warnings: self.warnings,
                has_rules: self.model.connections.is_some(),
            });
        }
        let mut old_addresses = Vec::new();
        let mut new_file: Option<(PathBuf, String)> = None;
        let pair_entries: String = self
            .connections
            .iter()
            .map(|(text, _)| text.as_str())
            .collect();
        let pair_addresses: Vec<OldAddresses> = self
            .connections
            .iter()
            .map(|(_, old)| old.clone())
            .collect();
        if let Some((path, block_span, rules_text, old)) = self.new_rules_text.take() {
            let file = self.file(&path);
            let is_map = rules_text.trim_start().starts_with('{');
            let rules_text = if pair_entries.is_empty() || is_map {
                rules_text
            } else {
                insert_before_closing(&rules_text, &pair_entries)
            };
            if is_map && !pair_entries.is_empty() {
                // Pairs go into lists only; a v2 map keeps its keys as names.
                self.warn_pairs_left(&file);
                old_addresses.extend(old);
            } else {
                old_addresses.extend(old);
                old_addresses.extend(pair_addresses);
            }
            let locals = format!("locals {{\n  {LOCAL_NAME} = {rules_text}\n}}");
            self.edit(&file, block_span, locals);
        } else if let Some(definition) = &self.model.connections {
            // Append to the existing list, before its closing bracket.
            let file = Arc::clone(&definition.file);
            let Some(close) = closing_bracket_of_list(&self.model.files, &file) else {
                self.warn_pairs_left(&file);
                return self.changes(module, None, Vec::new());
            };
            let existing = definition.connections.len();
            old_addresses.extend((0..existing).map(|_| OldAddresses::Pair {
                egress: String::new(),
                ingress: String::new(),
            }));
            old_addresses.extend(pair_addresses);
            let line_start = file.text[..close].rfind('\n').map_or(0, |i| i + 1);
            self.edit(&file, line_start..line_start, pair_entries);
        } else {
            let text = format!("locals {{\n  {LOCAL_NAME} = [\n{pair_entries}  ]\n}}\n");
            new_file = Some((join(&module.dir, NEW_RULES_FILE), text));
            old_addresses.extend(pair_addresses);
        }
        self.changes(module, new_file, old_addresses)
    }

    fn warn_pairs_left(&mut self, file: &Arc<SourceFile>) {
        for (_, old) in std::mem::take(&mut self.connections) {
            if let OldAddresses::Pair { egress, .. } = old {
                self.skip(
                    file,
                    0..0,
                    egress,
                    "mutualsg adds pairs to a mutual_rules list only",
                );
            }
        }
        self.edits
            .retain(|_, edits| edits.iter().any(|edit| !edit.text.is_empty()));
    }

    fn file(&self, path: &Path) -> Arc<SourceFile> {
        let parsed = self
            .model
            .files
            .iter()
            .find(|parsed| parsed.file.path == path);
        Arc::clone(&parsed.expect("edited files come from the model").file)
    }

    /// A file's text with the references [`Self::renames`] names renamed: the connections
    /// copied a replaced call's outputs as the rules read them. A file that no longer parses
    /// is left for the parse that follows to report.
    fn renamed_in(&self, text: String) -> String {
        if self.renames.is_empty() {
            return text;
        }
        syntax::replace_references_in_file(&text, |reference| renamed(reference, &self.renames))
            .unwrap_or(text)
    }

    /// The edited sources, the regenerated file and the migration file, as changes.
    fn changes(
        self,
        module: &Module,
        new_file: Option<(PathBuf, String)>,
        old_addresses: Vec<OldAddresses>,
    ) -> Result<Migration, Vec<Diagnostic>> {
        // The module's files as they will be, parsed again to generate from them.
        let mut files = Vec::new();
        let mut changes = Vec::new();
        for parsed in &self.model.files {
            let edits = self
                .edits
                .get(&parsed.file.path)
                .map_or(&[][..], Vec::as_slice);
            let text = self.renamed_in(apply_edits(&parsed.file.text, edits));
            if edits.is_empty() && text == parsed.file.text {
                files.push(ParsedFile {
                    file: Arc::clone(&parsed.file),
                    body: parsed.body.clone(),
                });
                continue;
            }
            // Its bytes that are not UTF-8 are read as `?`: writing it back would change them.
            if !parsed.file.invalid_utf8.is_empty() {
                return Err(vec![Diagnostic::file(Problem::NotUtf8, &parsed.file.path)]);
            }
            changes.push(Change {
                path: parsed.file.path.clone(),
                old: Some(parsed.file.text.clone()),
                new: Some(text.clone()),
            });
            files.push(reparse(&parsed.file.path, text)?);
        }
        if let Some((path, text)) = new_file {
            let text = self.renamed_in(text);
            changes.push(Change {
                path: path.clone(),
                old: None,
                new: Some(text.clone()),
            });
            files.push(reparse(&path, text)?);
        }
        let Some((definition, generated)) =
            generate::generate_from_files(module, &files, self.config)?
        else {
            return Ok(Migration {
                changes,
                warnings: self.warnings,
                has_rules: false,
            });
        };
        changes.extend(generated);

        let mut blocks = self.extra_blocks.clone();
        blocks.extend(migration_blocks(&definition, &old_addresses));
        let mut warnings = self.warnings;
        if let Some(change) =
            migration_file_change(module, &self.model.files, &blocks, &mut warnings)?
        {
            changes.push(change);
        }
        Ok(Migration {
            changes,
            warnings,
            has_rules: true,
        })
    }
}

/// The `moved` (or `import`) blocks from each connection's old addresses to its generated
/// resources.
fn migration_blocks(
    definition: &Definition,
    old_addresses: &[OldAddresses],
) -> Vec<MigrationBlock> {
    let resources = generate::generated_resources(definition);
    let mut blocks = Vec::new();
    for (named, old) in definition.connections.iter().zip(old_addresses) {
        for (resource, address) in resources
            .iter()
            .filter(|(r, _)| std::ptr::eq(r.rule.connection, &named.connection))
        {
            let direction = resource.rule.direction;
            let to = address.clone();
            let from = match old {
                OldAddresses::ModuleList { module, index } => {
                    format!("module.{module}.aws_security_group_rule.{direction}[{index}]")
                }
                OldAddresses::ModuleMap { module, key }
                    if named.connection.style == Style::VpcSecurityGroupRule =>
                {
                    format!(
                        "module.{module}.aws_vpc_security_group_{direction}_rule.this[{}]",
                        quote(key)
                    )
                }
                OldAddresses::ModuleMap { .. } => {
                    blocks.push(MigrationBlock::Import {
                        to,
                        id: import_id(&resource.rule),
                    });
                    continue;
                }
                OldAddresses::Pair { egress, .. } if direction == Direction::Egress => {
                    egress.clone()
                }
                OldAddresses::Pair { ingress, .. } => ingress.clone(),
                OldAddresses::Adopted { egress, ingress } => {
                    let half = match direction {
                        Direction::Egress => egress,
                        Direction::Ingress => ingress,
                    };
                    match half {
                        Half::Move(from) => from.clone(),
                        Half::Retype(from) => {
                            blocks.push(MigrationBlock::Removed { from: from.clone() });
                            blocks.push(MigrationBlock::Import {
                                to,
                                id: import_id(&resource.rule),
                            });
                            continue;
                        }
                        Half::Import => {
                            blocks.push(MigrationBlock::Import {
                                to,
                                id: import_id(&resource.rule),
                            });
                            continue;
                        }
                        Half::New => continue,
                    }
                }
            };
            if !from.is_empty() && from != to {
                blocks.push(MigrationBlock::Moved { from, to });
            }
        }
    }
    blocks
}

/// `aws_security_group_rule`'s import id, `SGID_TYPE_PROTOCOL_FROM_TO_SOURCE`, interpolating
/// the groups' ids from state.
fn import_id(rule: &generate::Rule) -> String {
    let interpolate = |text: &str| match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(literal) => literal.to_string(),
        None => format!("${{{text}}}"),
    };
    let connection = rule.connection;
    let peer = match rule.peer {
        Peer::Group(group) => interpolate(&group.text),
        Peer::SelfGroup => "self".to_string(),
        // Each address is a source of its own, in the order the rule lists them.
        Peer::Addresses(lists) => lists
            .iter()
            .map(|list| match &list.items {
                Items::Literal(items) => items
                    .iter()
                    .map(|item| interpolate(&item.text))
                    .collect::<Vec<_>>()
                    .join("_"),
                Items::Expr(expr) => format!("${{join(\"_\", {})}}", expr.text),
            })
            .collect::<Vec<_>>()
            .join("_"),
    };
    let protocol = match connection.protocol.to_string().as_str() {
        "-1" => "all".to_string(),
        other => other.to_string(),
    };
    let port = |port: &Port| match port {
        Port::Number(number) => number.to_string(),
        Port::Expr(expr) => interpolate(&expr.text),
    };
    format!(
        "\"{}_{}_{}_{}_{}_{}\"",
        interpolate(&rule.group.text),
        rule.direction,
        protocol,
        port(&connection.ports.from),
        port(&connection.ports.to),
        peer
    )
}

fn is_module_call(block: &Block) -> bool {
    if block.kind.text != "module" {
        return false;
    }
    let Some(source) = block
        .body
        .attribute("source")
        .and_then(|source| source.value.string())
    else {
        return false;
    };
    // Recognised by its registry source, never by a local path.
    let source = source.trim();
    let source = source
        .strip_prefix("registry.terraform.io/")
        .unwrap_or(source);
    source.eq_ignore_ascii_case(MODULE_SOURCE)
}

/// A module-call map key as a string.
fn object_key(file: &SourceFile, item: &ObjectItem) -> String {
    match item.key.as_str() {
        Some(key) => key.to_string(),
        None => squeeze(&file.text[item.key_span.clone()]),
    }
}

/// Adds `tags = TAGS` (after a blank line, which keeps `terraform fmt`'s alignment as it is) to
/// every connection object of a module call's `rules`.
fn add_tags(file: &SourceFile, rules: &Expr, tags: &str) -> String {
    let rules_start = rules.span.start;
    let mut text = file.text[rules.span.clone()].to_string();
    let objects: Vec<Range<usize>> = match &rules.kind {
        ExprKind::Tuple(list) => list.iter().map(|element| element.span.clone()).collect(),
        ExprKind::Object(map) => map.iter().map(|item| item.value.span.clone()).collect(),
        _ => Vec::new(),
    };
    // From the last object back, so earlier offsets stay valid.
    for object in objects.iter().rev() {
        let close = object.end - 1 - rules_start;
        let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
        let closing_indent = &text[line_start..close];
        if !closing_indent.trim().is_empty() {
            continue;
        }
        let tags = generate::format_value(tags, closing_indent.len() + 2);
        let insert = format!("\n{closing_indent}  tags = {tags}\n");
        text.insert_str(line_start, &insert);
    }
    text
}

/// Inserts list entries before the closing `]` of a list's text.
fn insert_before_closing(list: &str, entries: &str) -> String {
    let close = list.rfind(']').unwrap_or(list.len());
    let line_start = list[..close].rfind('\n').map_or(close, |i| i + 1);
    format!("{}{}{}", &list[..line_start], entries, &list[line_start..])
}

/// The offset of the closing `]` of the module's `mutual_rules` list.
fn closing_bracket_of_list(files: &[ParsedFile], file: &Arc<SourceFile>) -> Option<usize> {
    let parsed = files
        .iter()
        .find(|parsed| Arc::ptr_eq(&parsed.file, file))?;
    parsed
        .body
        .blocks_of("locals")
        .find_map(|block| block.body.attribute(LOCAL_NAME))
        .and_then(|attribute| {
            attribute.value.tuple()?;
            Some(attribute.value.span.end - 1)
        })
}

/// A block's range widened to its whole lines, with one blank line after it, so removing it
/// leaves no gap. Line ends are `\n` or `\r\n`, whichever the file has.
fn removal_range(text: &str, span: Range<usize>) -> Range<usize> {
    let start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let start = if text[start..span.start].trim().is_empty() {
        start
    } else {
        span.start
    };
    let mut end = span.end;
    for _ in 0..2 {
        let rest = &text[end..];
        let trailing = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let rest = &rest[trailing..];
        if rest.starts_with("\r\n") {
            end += trailing + 2;
        } else if rest.starts_with('\n') {
            end += trailing + 1;
        } else {
            break;
        }
    }
    start..end
}

/// The comments directly above the node that starts at `start` (each alone on its lines,
/// no blank line between), as the parser read them: where their first line begins, and the
/// text of each line. They describe the block below them, so they travel with it.
fn leading_comment(file: &SourceFile, start: usize) -> Option<(usize, Vec<String>)> {
    let above = file.comments().above(start..start);
    let first = above.first()?;
    let begin = file.text[..first.span.start]
        .rfind('\n')
        .map_or(0, |at| at + 1);
    let lines = above
        .iter()
        .flat_map(|comment| file.text[comment.span.clone()].lines())
        .map(|line| line.trim().to_string())
        .collect();
    Some((begin, lines))
}

/// One connection object of a `mutual_rules` list, as `terraform fmt` writes it: its comment
/// lines above it, `=` aligned over each run of single-line values.
fn connection_text(comment: &[String], lines: &[(&str, String)]) -> String {
    let values: Vec<String> = lines
        .iter()
        .map(|(key, value)| generate::format_value_for_key(key, value, 6))
        .collect();
    let mut widths = vec![0; lines.len()];
    let mut run_start = 0;
    for at in 0..=lines.len() {
        let ends_run = at == lines.len() || values[at].contains('\n');
        if ends_run {
            let width = lines[run_start..at]
                .iter()
                .map(|(key, _)| key.len())
                .max()
                .unwrap_or(0);
            widths[run_start..at].fill(width);
            if at < lines.len() {
                widths[at] = lines[at].0.len();
            }
            run_start = at + 1;
        }
    }
    let mut text = String::new();
    for line in comment {
        text.push_str("    ");
        text.push_str(line);
        text.push('\n');
    }
    text.push_str("    {\n");
    for (((key, _), value), width) in lines.iter().zip(&values).zip(widths) {
        text.push_str(&format!("      {key:width$} = {value}\n"));
    }
    text.push_str("    },\n");
    text
}

/// Whether a rule resource uses `for_each`: its keys are not known statically.
fn has_for_each(block: Option<&Block>) -> bool {
    block.is_some_and(|block| block.body.has_attribute("for_each"))
}

/// What a hand-written rule says beyond its direction, group, peer, protocol, ports and
/// description: every other argument and meta-argument, carried into its connection, and the
/// source text of the values the connection copies.
#[derive(Debug, Default)]
struct Carried {
    /// The values (as written) that read `each`, each with `each.value` read as `rule` and
    /// `each.key` as `key`: what the connection's own `for_each` objects hold.
    per_instance: BTreeMap<String, String>,
    /// The protocol is an expression, not a literal: the connection copies it as written.
    protocol_is_expression: bool,
    /// `count = C ? 1 : 0` as `C`, `C ? 0 : 1` as `!(C)`.
    enabled: Option<String>,
    /// The `count` as written, layout squeezed out, to compare the halves.
    count: Option<String>,
    /// The provider reference, unquoted (`aws.core-vpc`).
    provider: Option<String>,
    /// The `for_each` collection as written: its values are read per instance.
    for_each: Option<String>,
    region: Option<String>,
    tags: Option<String>,
    timeout_create: Option<String>,
    depends_on: Option<String>,
    /// `depends_on`'s references as written, when it is a list (as Terraform requires).
    depends_on_items: Option<Vec<String>>,
    /// The comment lines directly above the resource.
    comment: Vec<String>,
    /// `security_group_id`, `protocol` (`ip_protocol`), `from_port` and `to_port` as written.
    group: String,
    /// `source_security_group_id` / `referenced_security_group_id` as written.
    peer: Option<String>,
    protocol: Option<String>,
    from_port: Option<String>,
    to_port: Option<String>,
    description: Option<String>,
}

impl Carried {
    /// The first argument the two halves of a pair give differently: a connection gives both
    /// its rules the same.
    fn disagreement(&self, other: &Carried) -> Option<&'static str> {
        let same = |a: &Option<String>, b: &Option<String>| {
            a.as_deref().map(squeeze) == b.as_deref().map(squeeze)
        };
        [
            ("count", &self.count, &other.count),
            ("for_each", &self.for_each, &other.for_each),
            ("region", &self.region, &other.region),
            ("tags", &self.tags, &other.tags),
            ("timeouts", &self.timeout_create, &other.timeout_create),
        ]
        .into_iter()
        .find(|(_, a, b)| !same(a, b))
        .map(|(name, ..)| name)
        .or_else(|| {
            (!same(&self.depends_on, &other.depends_on) && self.joined_depends_on(other).is_none())
                .then_some("depends_on")
        })
    }

    /// The `depends_on` of a connection made of this half and `other`: the references of
    /// both, each once, when each half's is a list (or absent). `depends_on` only orders
    /// operations and is no attribute of the rule, so a half that waits for more than it did
    /// plans no change; Terraform reports a cycle, should one arise, at `validate`.
    fn joined_depends_on(&self, other: &Carried) -> Option<Option<String>> {
        let items = |half: &Carried| match (&half.depends_on, &half.depends_on_items) {
            (None, _) => Some(Vec::new()),
            (Some(_), Some(items)) => Some(items.clone()),
            (Some(_), None) => None,
        };
        let mut joined = items(self)?;
        for item in items(other)? {
            if !joined.iter().any(|seen| squeeze(seen) == squeeze(&item)) {
                joined.push(item);
            }
        }
        if same_text(&self.depends_on, &other.depends_on) || joined.is_empty() {
            return Some(self.depends_on.clone().or_else(|| other.depends_on.clone()));
        }
        Some(Some(format!("[{}]", joined.join(", "))))
    }
}

/// Whether two optional expressions are the same text, layout aside.
fn same_text(a: &Option<String>, b: &Option<String>) -> bool {
    a.as_deref().map(squeeze) == b.as_deref().map(squeeze)
}

/// The arguments a connection rebuilds from its keys, by resource type.
const SECURITY_GROUP_RULE_ARGUMENTS: &[&str] = &[
    "type",
    "security_group_id",
    "source_security_group_id",
    "self",
    "protocol",
    "from_port",
    "to_port",
    "description",
    "region",
];
const VPC_RULE_ARGUMENTS: &[&str] = &[
    "security_group_id",
    "referenced_security_group_id",
    "ip_protocol",
    "from_port",
    "to_port",
    "description",
    "region",
    "tags",
];

/// Reads every argument and meta-argument of a rule resource into what its connection
/// carries, or the first one it cannot carry with the same meaning: where it is, and why.
fn carried(
    file: &SourceFile,
    block: &Block,
    style: Style,
) -> Result<Carried, (Range<usize>, String)> {
    // With `count = C ? 1 : 0` (or `C ? 0 : 1`) the one instance there can be has index 0:
    // `count.index` is `0`, which is what the connection copies (locals have no `count`).
    let single_instance = block
        .body
        .attribute("count")
        .is_some_and(|count| enabled_of(file, &count.value).is_some());
    // With `for_each`, `each` is read per instance: the connection's own `for_each` carries it.
    let with_for_each = block.body.has_attribute("for_each");
    let text = |expr: &Expr| {
        if single_instance || with_for_each {
            as_single_instance(&file.text, expr)
        } else {
            file.text[expr.span.clone()].to_string()
        }
    };
    // By the resource's own type: an aws_vpc_* rule in the default style changes type.
    let arguments = match block.label(0) {
        Some("aws_security_group_rule") => SECURITY_GROUP_RULE_ARGUMENTS,
        _ => VPC_RULE_ARGUMENTS,
    };
    let mut carried = Carried {
        comment: leading_comment(file, block.span.start)
            .map(|(_, lines)| lines)
            .unwrap_or_default(),
        ..Carried::default()
    };
    for attribute in &block.body.attributes {
        let name = attribute.name.text.as_str();
        let value = &attribute.value;
        let span = attribute.span();
        // `null` is an argument not set: the generated rule omits it too.
        if matches!(value.kind, ExprKind::Null) {
            continue;
        }
        // Copied into `locals`, where `count`, `each` and `self` have no value.
        if name != "count"
            && let Some(object) = ["count", "each", "self"]
                .into_iter()
                .filter(|object| !(with_for_each && *object == "each"))
                .find(|object| reads_object(value, object, single_instance))
        {
            return Err((
                span,
                format!("`{name}` refers to `{object}`, which has no value inside locals"),
            ));
        }
        if with_for_each && name != "for_each" && reads_object(value, "each", false) {
            carried
                .per_instance
                .insert(text(value), per_instance_text(&file.text, value));
        }
        match name {
            "self" if !matches!(value.kind, ExprKind::Bool(_)) => {
                return Err((span, "its `self` is not a literal true or false".into()));
            }
            "count" => {
                carried.count = Some(squeeze(&text(value)));
                carried.enabled = Some(enabled_of(file, value).ok_or_else(|| {
                    (
                        span.clone(),
                        format!(
                            "its `count = {}` is not `C ? 1 : 0` or `C ? 0 : 1`",
                            text(value).split_whitespace().collect::<Vec<_>>().join(" ")
                        ),
                    )
                })?);
            }
            "provider" => carried.provider = Some(squeeze(&text(value))),
            "for_each" => carried.for_each = Some(text(value)),
            "depends_on" => {
                carried.depends_on = Some(text(value));
                if let ExprKind::Tuple(items) = &value.kind {
                    carried.depends_on_items = Some(items.iter().map(text).collect());
                }
            }
            "region" => carried.region = Some(text(value)),
            "tags" if style == Style::VpcSecurityGroupRule => carried.tags = Some(text(value)),
            "tags" => {
                return Err((
                    span,
                    "its `tags` have no form on aws_security_group_rule (the default style): with style = \"aws_vpc_security_group_rule\" the connection carries them".into(),
                ));
            }
            "security_group_id" => carried.group = text(value),
            "source_security_group_id" | "referenced_security_group_id" => {
                carried.peer = Some(text(value));
            }
            "protocol" | "ip_protocol" if arguments.contains(&name) => {
                carried.protocol = Some(text(value));
                carried.protocol_is_expression =
                    !matches!(value.kind, ExprKind::String(_) | ExprKind::Number(Some(_)));
            }
            "from_port" => carried.from_port = Some(text(value)),
            "description" => carried.description = Some(text(value)),
            "to_port" => carried.to_port = Some(text(value)),
            _ if arguments.contains(&name) => {}
            "lifecycle" | "provisioner" | "connection" => {
                return Err((span, format!("its `{name}` has no form inside locals")));
            }
            _ => {
                return Err((
                    span,
                    format!("its argument `{name}` has no key in mutual_rules"),
                ));
            }
        }
    }
    for nested in &block.body.blocks {
        let name = nested.kind.text.as_str();
        match name {
            "timeouts" if style == Style::SecurityGroupRule => {
                let create = nested.body.attribute("create");
                match (
                    create,
                    nested.body.attributes.len(),
                    nested.body.blocks.len(),
                ) {
                    (Some(create), 1, 0) => carried.timeout_create = Some(text(&create.value)),
                    _ => {
                        return Err((
                            nested.header_span(),
                            "its `timeouts` block holds more than `create`".into(),
                        ));
                    }
                }
            }
            "lifecycle" => {
                return Err((
                    nested.header_span(),
                    "its `lifecycle` block has no form inside locals that Terraform validates (ignore_changes and the like are not values)".into(),
                ));
            }
            _ => {
                return Err((
                    nested.header_span(),
                    format!("its `{name}` block has no key in mutual_rules"),
                ));
            }
        }
    }
    Ok(carried)
}

/// A for_each pair's connection lines: those that read `each` go into the objects of the
/// connection's `for_each`, an object `for` over the pair's own collection, so the instance
/// keys stay the same (`each.key` is `key`, `each.value` is `rule`); the rest stay as they are.
fn per_instance_lines<'k>(
    lines: Vec<(&'k str, String)>,
    collection: &str,
    per_instance: &BTreeMap<String, String>,
) -> Vec<(&'k str, String)> {
    let (read_per_instance, mut fixed): (Vec<_>, Vec<_>) = lines
        .into_iter()
        .partition(|(_, text)| per_instance.contains_key(text));
    let values: Vec<String> = read_per_instance
        .iter()
        .map(|(key, text)| format!("{key} = {}", per_instance[text]))
        .collect();
    let object = match values.as_slice() {
        [] => "{}".to_string(),
        values => format!("{{ {} }}", values.join(", ")),
    };
    fixed.push((
        "for_each",
        format!("{{ for key, rule in {collection} : key => {object} }}"),
    ));
    fixed
}

/// `count = C ? 1 : 0` as `C`; `count = C ? 0 : 1` as `!(C)`. Anything else is `None`.
fn enabled_of(file: &SourceFile, count: &Expr) -> Option<String> {
    let ExprKind::Conditional(parts) = &count.kind else {
        return None;
    };
    let [condition, then, otherwise] = parts.as_ref();
    let number = |expr: &Expr| match expr.kind {
        ExprKind::Number(number) => number,
        _ => None,
    };
    let condition_text = &file.text[condition.span.clone()];
    match (number(then), number(otherwise)) {
        (Some(1), Some(0)) => Some(condition_text.to_string()),
        (Some(0), Some(1)) => Some(format!("!({condition_text})")),
        _ => None,
    }
}

/// The replacement of a reference whose names start with one of `renames`' `from`.
fn renamed(reference: &Reference<'_>, renames: &[(String, String)]) -> Option<Replacement> {
    renames.iter().find_map(|(from, to)| {
        let from: Vec<&str> = from.split('.').collect();
        reference
            .names()
            .take(from.len())
            .eq(from.iter().copied())
            .then(|| Replacement {
                steps: from.len() - 1,
                text: to.clone(),
            })
    })
}

/// An expression's text as the connection of a rule with `count = C ? 1 : 0` or `for_each`
/// holds it, read from its tree (text in a string, `var.count.index`, stay as they are):
/// `count.index` is `0`, and the first instance of another counted object
/// (`aws_security_group.x[0].id`, `x[count.index]`) is `try(aws_security_group.x[0].id,
/// null)`, null where it has none. Inside the rule it was read only where the rule has an
/// instance; `locals` are evaluated everywhere, and an index into no instances fails the plan
/// ("Invalid index").
fn as_single_instance(source: &str, expr: &Expr) -> String {
    syntax::replace_references(source, expr, |reference| {
        if is_count_index(reference) {
            return Some(Replacement {
                steps: 1,
                text: "0".to_string(),
            });
        }
        first_instance(source, reference)
    })
}

/// `try(X[0]Y, null)` for a reference `X[0]Y` (or `X[count.index]Y`) to a resource, data
/// source or module call.
fn first_instance(source: &str, reference: &Reference<'_>) -> Option<Replacement> {
    if matches!(
        reference.root,
        "var" | "local" | "each" | "count" | "self" | "path" | "terraform"
    ) {
        return None;
    }
    let at = reference
        .steps
        .iter()
        .position(|step| !matches!(step, Step::Attribute(_)))?;
    let Step::Index { key, span } = &reference.steps[at] else {
        return None;
    };
    let first = matches!(key.kind, ExprKind::Number(Some(0)))
        || key.as_reference().is_some_and(|key| is_count_index(&key));
    if !first || at == 0 {
        return None;
    }
    let before = &source[reference.span.start..span.start];
    let after = &source[span.end..reference.span.end];
    Some(Replacement {
        steps: reference.steps.len(),
        text: format!("try({before}[0]{after}, null)"),
    })
}

/// An expression's text as a `for_each` connection's object holds it, over the rule's own
/// collection: `each.value` read as `rule`, `each.key` as `key`, from its tree.
fn per_instance_text(source: &str, expr: &Expr) -> String {
    let for_variables = [
        ("each.value".to_string(), "rule".to_string()),
        ("each.key".to_string(), "key".to_string()),
    ];
    syntax::replace_references(source, expr, |reference| renamed(reference, &for_variables))
}

/// Whether an expression reads the object `name` (`count`, `each`, `self`): a reference to
/// it, never text in a string or a name that ends in it (`var.count.x`, `local.min_count`).
/// `single_instance`: `count.index` is `0` ([`as_single_instance`]), so it reads nothing.
fn reads_object(expr: &Expr, name: &str, single_instance: bool) -> bool {
    expr.references()
        .iter()
        .any(|reference| reference.root == name && !(single_instance && is_count_index(reference)))
}

fn is_count_index(reference: &crate::syntax::Reference<'_>) -> bool {
    reference.root == "count"
        && matches!(reference.steps.first(), Some(Step::Attribute(index)) if index.text == "index")
}

fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut edits = edits.to_vec();
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.range.start));
    let mut text = text.to_string();
    for edit in edits {
        text.replace_range(edit.range, &edit.text);
    }
    text
}

fn single_group_peer(rule: &DeclaredRule) -> Option<RulePeer> {
    match rule.peers.as_slice() {
        [peer @ (RulePeer::Group(_) | RulePeer::SelfGroup)] => Some(peer.clone()),
        _ => None,
    }
}

fn same_traffic(a: &DeclaredRule, b: &DeclaredRule) -> bool {
    a.protocol == b.protocol
        && (a.protocol == "-1" || (a.from_port == b.from_port && a.to_port == b.to_port))
}

/// Whether two rules may hold the same traffic: one protocol, and the same ports or ports
/// only a plan knows (`each.value` of one may be `var.ports[0]` of the other, and AWS holds
/// the two as one rule, refusing the second with `InvalidPermission.Duplicate`).
fn may_be_same_traffic(a: &DeclaredRule, b: &DeclaredRule) -> bool {
    let known = |rule: &DeclaredRule| {
        rule.from_port.parse::<i64>().is_ok() && rule.to_port.parse::<i64>().is_ok()
    };
    same_traffic(a, b) || (a.protocol == b.protocol && !(known(a) && known(b)))
}

/// Whether two declarations are one rule in AWS: group, direction, protocol, ports and peers
/// (descriptions do not count), each a single rule (no `for_each`) under the same `count`.
fn same_aws_rule(a: &DeclaredRule, b: &DeclaredRule) -> bool {
    a.for_each.is_none()
        && b.for_each.is_none()
        && a.count == b.count
        && a.group == b.group
        && a.direction == b.direction
        && same_traffic(a, b)
        && a.peers.len() == b.peers.len()
        && a.peers.iter().all(|peer| b.peers.contains(peer))
}

/// Whether a rule resource is of another type than `style`'s rules: an `aws_vpc_*` rule in
/// the default style.
fn retyped(style: Style, rule: &DeclaredRule) -> bool {
    style == Style::SecurityGroupRule && address(rule).starts_with("aws_vpc_security_group_")
}

fn address(rule: &DeclaredRule) -> String {
    match &rule.origin {
        Origin::Resource { address } => address.clone(),
        Origin::Inline { group } => group.clone(),
        Origin::Generated { name } => name.clone(),
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink())
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `mutualsg migrate`: the changes that move each module onto `mutual_rules`, written with
/// `--write`, else only reported (as a diff).
pub fn run(
    args: &crate::cli::MigrateArgs,
    context: &super::context::Context,
) -> super::context::ExitStatus {
    use super::suggest::observed;
    use crate::generate::{Planned, run_modules};
    let observed = if args.flow_logs.is_empty() && args.flows_csv.is_none() {
        None
    } else {
        let inputs = observed::Inputs {
            flow_logs: args.flow_logs.clone(),
            flows_csv: args.flows_csv.clone(),
            interfaces: args.interfaces.clone(),
            state: args.state.clone(),
        };
        match observed::read(&inputs) {
            Ok(observed) => Some(observed),
            Err(error) => {
                eprint!("{}", observed::render_error(&error, context.colors.stderr));
                return super::context::ExitStatus::Error;
            }
        }
    };
    let mode = if args.write { Mode::Write } else { Mode::Diff };
    let options = Options {
        add_egress: args.add_egress,
        close_egress: args.close_egress,
        observed: observed.as_ref(),
    };
    let outcome = run_modules(&args.paths.paths, mode, |module, config| {
        let migration = migrate_module(module, config, options)?;
        Ok(Planned {
            has_rules: migration.has_rules,
            changes: migration.changes,
            warnings: migration.warnings,
        })
    });
    let how = super::generate::How {
        mode,
        format: crate::cli::ReportFormat::Human,
        changes_fail: false,
    };
    super::generate::finish(&outcome, how, context)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `x = TEXT`'s value, with the file's text.
    fn value(text: &str) -> (String, Expr) {
        let source = format!("x = {text}\n");
        let value = crate::syntax::parse(&source)
            .unwrap()
            .attributes
            .remove(0)
            .value;
        (source, value)
    }

    #[test]
    fn count_index_is_a_reference_not_text() {
        let (source, expr) = value("\"rule ${count.index} of count.index\"");
        assert_eq!(
            as_single_instance(&source, &expr),
            "\"rule ${0} of count.index\""
        );
        assert!(reads_object(&expr, "count", false));
        assert!(!reads_object(&expr, "count", true));
        let (source, expr) = value("[var.count.index, count.index, local.min_count]");
        assert_eq!(
            as_single_instance(&source, &expr),
            "[var.count.index, 0, local.min_count]"
        );
        let (source, expr) = value(
            "[aws_security_group.x[count.index].id, data.aws_security_group.y[0].id, var.ids[0]]",
        );
        assert_eq!(
            as_single_instance(&source, &expr),
            "[try(aws_security_group.x[0].id, null), try(data.aws_security_group.y[0].id, null), var.ids[0]]"
        );
        let (_, expr) = value("\"see count.index and each.key\"");
        assert!(!reads_object(&expr, "count", false) && !reads_object(&expr, "each", false));
        let (_, expr) = value("local.min_count.index");
        assert!(!reads_object(&expr, "count", false));
    }
}
