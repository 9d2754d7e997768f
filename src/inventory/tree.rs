//! The whole tree that was given, across modules: which groups are attached together (the
//! security-group list of one instance, launch template, ECS service, Lambda function, RDS
//! instance, load balancer…), what a group expression names (locals, outputs of a module
//! called with a local `source`, variables set by the one module call in the tree), and
//! which groups no resource attaches.
//!
//! AWS evaluates the groups of a network interface together: traffic leaves when any group
//! attached to the sending interface allows it out, and enters when any group attached to
//! the receiving interface allows it in. A half of a connection is therefore completed by a
//! rule on any group attached beside its peer, and a pair is complete only when every set of
//! groups attached together that holds the one side is completed by the other.
//!
//! [`analyse_paths`] is the tree-wide analysis: every module's flows
//! ([`crate::inventory::flows`], per module), then what only the whole tree shows.

mod data_groups;
mod pattern;
mod remote_state;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
// Lookups only: nothing iterates these maps, so their order never reaches the output.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::config::ConfigFinder;
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::generate::connection::{Direction, squeeze};
use crate::generate::parse;
use crate::inventory::flows::{
    self, Analysis, Attachment, Endpoint, FlowFinding, INTERNET, Traffic,
};
use crate::inventory::{RulePeer, Written, references};
use crate::paths::normalize;
use crate::syntax::{Block, Body, Expr, ExprKind, Step, TemplatePart};
use crate::workspace::source::Source;

/// A group of the tree: the module (index into the analyses) and its address
/// (`aws_security_group.web`).
pub type GroupKey = (usize, String);

/// What a group expression names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Group(GroupKey),
    /// Nothing in the tree says which group: why, for the reader (`a variable (var.app)`).
    Unknown(String),
}

/// Attributes that attach groups to what they protect, at any depth of a resource's body
/// (`network_configuration { security_groups }`, `vpc_config { security_group_ids }`).
const ATTACHING: [&str; 3] = [
    "vpc_security_group_ids",
    "security_groups",
    "security_group_ids",
];

/// Groups attached together to one resource.
#[derive(Debug, Clone)]
struct AttachSet {
    groups: Vec<GroupKey>,
    /// Why the set may hold groups that are not listed (an element that cannot be resolved,
    /// a list built by an expression).
    open: Option<String>,
}

/// One rule of the tree, by what it resolves to.
#[derive(Debug, Clone)]
struct TreeHalf {
    direction: Direction,
    peer: TreePeer,
    traffic: Traffic,
}

#[derive(Debug, Clone)]
enum TreePeer {
    Group(GroupKey),
    Internet,
    /// A CIDR block or prefix list other than the whole internet, which may hold the peer.
    Address(String),
    Unknown(String),
}

/// A half-open finding judged across the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Some group attached beside the peer allows it.
    Complete,
    /// Nothing allows it, as far as the whole tree shows.
    Missing,
    /// The tree cannot tell: why.
    Unverified(String),
}

/// A module call of the tree: the calling module, and the `module` block in its file.
#[derive(Clone)]
struct Call {
    caller: usize,
    body: Arc<Body>,
    /// The block's index among the file's blocks.
    index: usize,
    file: Arc<SourceFile>,
}

impl Call {
    fn block(&self) -> &Block {
        &self.body.blocks[self.index]
    }
}

/// The root module a remote state reads and how it was matched (`None`: by settings known in
/// full), or why none is.
type Matched = Result<(usize, Option<String>), String>;

/// A file the inventory skipped: its text, and its tree once a lookup needed a name the
/// text holds (`None`: it does not parse).
struct ExtraFile {
    file: Arc<SourceFile>,
    body: OnceLock<Option<Body>>,
}

/// What a resource or module block of the tree reads, as the index of attachments needs it:
/// the lists that attach groups (a resource's, at any depth), the groups of its module it
/// names, and the remote state, HCP Terraform outputs and `data "aws_security_group"` lookups
/// it reads. Empty for other blocks, and for the groups and rules themselves.
#[derive(Default)]
struct BlockReads {
    lists: Vec<Expr>,
    groups: Vec<String>,
    lookups: Vec<Written>,
}

impl BlockReads {
    fn of(file: &SourceFile, block: &Block) -> BlockReads {
        let resource = match block.kind.text.as_str() {
            "resource" if !is_rule_or_group(block) => true,
            "module" => false,
            _ => return BlockReads::default(),
        };
        let mut lists = Vec::new();
        if resource {
            attaching_lists(&block.body, &mut lists);
        }
        let read = references::in_body(&block.body);
        let lookups = read
            .iter()
            .filter(|reference| {
                reference.root == "data"
                    && matches!(reference.steps.first(), Some(Step::Attribute(kind))
                        if matches!(kind.text.as_str(), "terraform_remote_state" | "tfe_outputs" | "aws_security_group"))
            })
            .map(|reference| Written::read(&file.text, &reference.to_expr()))
            .collect();
        BlockReads {
            lists,
            groups: references::groups_of(&read),
            lookups,
        }
    }
}

/// What one block adds to the index of attachments, worked out apart from the others and
/// applied in the blocks' order.
enum Change {
    Set(AttachSet),
    Use(GroupKey),
    /// The group's attachments cannot all be seen: why, unless a reason is given already.
    UnknownUnlessSaid(GroupKey, String),
    /// The same, replacing any reason given.
    Unknown(GroupKey, String),
    /// An output of a module the tree calls names groups: (module, output, groups).
    Export(usize, String, Vec<String>),
    /// An output of a module no module calls names a group: (group, output, why).
    UncalledExport(GroupKey, String, String),
}

/// A group or a rule: `aws_security_group*` or `aws_vpc_security_group_*`.
fn is_rule_or_group(block: &Block) -> bool {
    block.label(0).is_some_and(|label| {
        label.starts_with("aws_security_group") || label.starts_with("aws_vpc_security_group_")
    })
}

/// A rule: `aws_security_group_rule` or `aws_vpc_security_group_*`.
fn is_rule(block: &Block) -> bool {
    block.label(0).is_some_and(|label| {
        label.starts_with("aws_security_group_rule") || label.starts_with("aws_vpc_security_group_")
    })
}

pub struct Tree<'a> {
    modules: &'a [Analysis],
    /// Every group of the tree, by module and address (a rule names its group once per
    /// lookup, and a module may declare hundreds).
    declared: HashSet<(usize, &'a str)>,
    by_dir: HashMap<PathBuf, usize>,
    /// Module calls with a local `source`, by the called module: (caller, call block).
    callers: HashMap<usize, Vec<Call>>,
    /// Each module's files that the inventory skipped, read when a reference first leads
    /// into the module (those that cannot be read are left out).
    extra: Vec<OnceLock<Vec<ExtraFile>>>,
    sets: Vec<AttachSet>,
    member_of: HashMap<GroupKey, Vec<usize>>,
    /// Groups whose attachments cannot all be seen: why.
    attach_unknown: HashMap<GroupKey, String>,
    /// Groups used by something other than rules (attached, or named by a resource, a
    /// module call, a local).
    used: HashSet<GroupKey>,
    halves: HashMap<GroupKey, Vec<TreeHalf>>,
    /// Groups with `dynamic "ingress"`/`"egress"` blocks (by address without an index).
    dynamic: HashSet<GroupKey>,
    /// Every group's name and tags, for `data "aws_security_group"` lookups (read once, when
    /// the first lookup asks).
    named: OnceLock<Vec<data_groups::NamedGroup>>,
    /// The root module each remote state data source (module, kind, name) reads, as
    /// [`Tree::writer_of`] matched it.
    writers: Mutex<HashMap<(usize, String, String), Matched>>,
    /// Each module's backend, for remote state (read once, when the first reading asks).
    backends: OnceLock<Vec<Option<crate::workspace::backends::Backend>>>,
    /// How each remote state followed by the known parts of its settings was matched, in
    /// the order resolved: a finding that rests on one says so.
    matched: Mutex<Vec<String>>,
    /// Outputs of root modules that remote state of the tree was followed to.
    read_outputs: Mutex<HashSet<(usize, String)>>,
    /// Groups exported by outputs of modules no module of the tree calls: their attachments
    /// are unknown unless the module's state is read by the tree.
    uncalled_exports: Vec<(GroupKey, String, String)>,
}

impl<'a> Tree<'a> {
    pub fn new(modules: &'a [Analysis]) -> Tree<'a> {
        let by_dir = modules
            .iter()
            .enumerate()
            .map(|(index, analysis)| (normalize(&analysis.dir), index))
            .collect();
        let declared = modules
            .iter()
            .enumerate()
            .flat_map(|(module, analysis)| {
                analysis
                    .model
                    .groups
                    .iter()
                    .map(move |group| (module, group.address.as_str()))
            })
            .collect();
        let mut tree = Tree {
            modules,
            declared,
            by_dir,
            callers: HashMap::default(),
            extra: modules.iter().map(|_| OnceLock::new()).collect(),
            writers: Mutex::new(HashMap::default()),
            sets: Vec::new(),
            member_of: HashMap::default(),
            attach_unknown: HashMap::default(),
            used: HashSet::default(),
            halves: HashMap::default(),
            dynamic: HashSet::default(),
            named: OnceLock::new(),
            backends: OnceLock::new(),
            matched: Mutex::new(Vec::new()),
            read_outputs: Mutex::new(HashSet::default()),
            uncalled_exports: Vec::new(),
        };
        for (module, analysis) in modules.iter().enumerate() {
            for group in &analysis.model.groups {
                if group.has_dynamic_rules {
                    tree.dynamic.insert((module, group.address.clone()));
                }
            }
        }
        tree.index_calls();
        tree.index_attachments();
        tree.index_halves();
        // An output of a root module that remote state of the tree reads (followed while
        // indexing): its readers are taken to be the tree's, whose attachments are all seen.
        let read_outputs = std::mem::take(tree.read_outputs.get_mut().expect("not poisoned"));
        for (key, output, why) in std::mem::take(&mut tree.uncalled_exports) {
            if !read_outputs.contains(&(key.0, output)) {
                tree.attach_unknown.entry(key).or_insert(why);
            }
        }
        tree
    }

    fn declares(&self, module: usize, address: &str) -> bool {
        self.declared.contains(&(module, address))
    }

    /// Module calls whose `source` is a directory of the tree.
    fn index_calls(&mut self) {
        for (caller, analysis) in self.modules.iter().enumerate() {
            for parsed in &analysis.model.files {
                for (index, block) in parsed.body.blocks.iter().enumerate() {
                    if block.kind.text != "module" {
                        continue;
                    }
                    if let Some(callee) = self.callee(caller, block) {
                        self.callers.entry(callee).or_default().push(Call {
                            caller,
                            body: Arc::clone(&parsed.body),
                            index,
                            file: Arc::clone(&parsed.file),
                        });
                    }
                }
            }
        }
    }

    /// The module of the tree a `module` block calls, when its `source` is a local path.
    fn callee(&self, caller: usize, block: &Block) -> Option<usize> {
        let source = block.body.attribute("source")?.value.string()?;
        if !(source.starts_with("./") || source.starts_with("../")) {
            return None;
        }
        let dir = normalize(&self.modules[caller].dir.join(source));
        self.by_dir.get(&dir).copied()
    }

    fn index_attachments(&mut self) {
        // What each block reads, and what it resolves to, worked out on every core; applied
        // below, in order (the first reason given for a group stands).
        let tree = &*self;
        let changes: Vec<Vec<Change>> = self
            .modules
            .par_iter()
            .enumerate()
            .map(|(module, analysis)| {
                let mut changes = Vec::new();
                for parsed in &analysis.model.files {
                    for block in &parsed.body.blocks {
                        let read = BlockReads::of(&parsed.file, block);
                        tree.block_changes(module, &parsed.file, block, read, &mut changes);
                    }
                }
                changes
            })
            .collect();
        // Outputs of modules the tree calls that export groups: (module, output, groups).
        let mut exports = Vec::new();
        for change in changes.into_iter().flatten() {
            match change {
                Change::Set(set) => self.add_set(set),
                Change::Use(key) => {
                    self.used.insert(key);
                }
                Change::UnknownUnlessSaid(key, why) => {
                    self.attach_unknown.entry(key).or_insert(why);
                }
                Change::Unknown(key, why) => {
                    self.attach_unknown.insert(key, why);
                }
                Change::Export(module, output, names) => exports.push((module, output, names)),
                Change::UncalledExport(key, output, why) => {
                    self.uncalled_exports.push((key, output, why));
                }
            }
        }
        // A group exported to a caller is used when the caller names the output anywhere but
        // in a rule (a resource, a module call, a local, its own output). What each such
        // caller reads is gathered once, on all cores.
        let callers: HashSet<usize> = exports
            .iter()
            .flat_map(|(module, ..)| self.callers.get(module).into_iter().flatten())
            .map(|call| call.caller)
            .collect();
        let modules = self.modules;
        let read_by: HashMap<usize, Vec<references::OutputRead>> = callers
            .into_par_iter()
            .map(|caller| {
                let blocks = modules[caller]
                    .model
                    .files
                    .iter()
                    .flat_map(|parsed| &parsed.body.blocks);
                let read = blocks
                    .filter(|block| !is_rule(block))
                    .flat_map(|block| references::outputs_read(&block.body))
                    .collect();
                (caller, read)
            })
            .collect();
        for (module, output, names) in exports {
            let read = self.callers.get(&module).into_iter().flatten().any(|call| {
                let name = call.block().label(0).unwrap_or_default();
                read_by[&call.caller]
                    .iter()
                    .any(|read| read.reads(name, &output))
            });
            if read {
                for name in names {
                    self.used.insert((module, name));
                }
            }
        }
    }

    /// What one block of `module` adds to the index, in the order it adds it.
    fn block_changes(
        &self,
        module: usize,
        file: &Arc<SourceFile>,
        block: &Block,
        read: BlockReads,
        changes: &mut Vec<Change>,
    ) {
        match block.kind.text.as_str() {
            "resource" if !is_rule_or_group(block) => {
                for expr in read.lists {
                    changes.push(Change::Set(self.attach_set(module, file, expr, None)));
                }
                for name in read.groups {
                    changes.push(Change::Use((module, name)));
                }
                for key in self.looked_up_groups(module, &read.lookups) {
                    changes.push(Change::Use(key));
                }
            }
            "module" => {
                let local = self.callee(module, block).is_some();
                let call = block.label(0).unwrap_or_default().to_string();
                // A module passed a list of groups attaches them together, perhaps beside
                // groups of its own.
                for attribute in &block.body.attributes {
                    if ATTACHING.contains(&attribute.name.text.as_str()) {
                        let why =
                            format!("attached by module.{call}, which may add groups of its own");
                        let set = self.attach_set(module, file, attribute.value.clone(), Some(why));
                        changes.push(Change::Set(set));
                    }
                }
                // A group read from another root module and passed to a module: what the
                // module attaches it beside is not followed.
                for key in self.looked_up_groups(module, &read.lookups) {
                    changes.push(Change::Use(key.clone()));
                    changes.push(Change::UnknownUnlessSaid(
                        key,
                        format!("read from remote state and passed to module.{call}"),
                    ));
                }
                for name in read.groups {
                    let key = (module, name);
                    changes.push(Change::Use(key.clone()));
                    if !local {
                        changes.push(Change::Unknown(
                            key,
                            format!("passed to module.{call}, outside this tree"),
                        ));
                    }
                }
            }
            // A local holding a group uses it; `mutual_rules` holds connections, which are
            // rules, not attachments.
            "locals" => {
                for attribute in &block.body.attributes {
                    if attribute.name.text == parse::LOCAL_NAME {
                        continue;
                    }
                    for name in references::groups_in(&attribute.value) {
                        changes.push(Change::Use((module, name)));
                    }
                }
            }
            "output" if self.callers.contains_key(&module) => {
                let output = block.label(0).unwrap_or_default().to_string();
                let names = references::groups_in_body(&block.body);
                if !names.is_empty() {
                    changes.push(Change::Export(module, output, names));
                }
            }
            "output" => {
                let output = block.label(0).unwrap_or_default().to_string();
                for name in references::groups_in_body(&block.body) {
                    changes.push(Change::UncalledExport(
                        (module, name),
                        output.clone(),
                        format!(
                            "exported by output `{output}` of a module no module of this tree calls"
                        ),
                    ));
                }
            }
            _ => {}
        }
    }

    /// The groups of the tree that `lookups` (see [`BlockReads`]) resolve to (in another root
    /// module, where that is where they lead).
    fn looked_up_groups(&self, module: usize, lookups: &[Written]) -> Vec<GroupKey> {
        lookups
            .iter()
            .filter_map(|written| match self.resolve(module, written) {
                Resolved::Group(key) => Some(key),
                Resolved::Unknown(_) => None,
            })
            .collect()
    }

    /// One list of groups attached together: its elements resolved. `open`: why it may hold
    /// groups it does not list.
    fn attach_set(
        &self,
        module: usize,
        file: &Arc<SourceFile>,
        expr: crate::syntax::Expr,
        open: Option<String>,
    ) -> AttachSet {
        let mut set = AttachSet {
            groups: Vec::new(),
            open,
        };
        let elements: Vec<Written> = match &expr.kind {
            ExprKind::Tuple(items) => items
                .iter()
                .map(|item| Written::read(&file.text, item))
                .collect(),
            _ => {
                let text = squeeze(&file.text[expr.span.clone()]);
                set.open = Some(format!("attached by a list built by `{}`", clip(&text)));
                // The groups it names are in it, whatever else is.
                references::group_names_in(&expr)
                    .into_iter()
                    .map(|name| Written::group_id(false, name))
                    .collect()
            }
        };
        for element in elements {
            match self.resolve(module, &element) {
                Resolved::Group(key) => set.groups.push(key),
                Resolved::Unknown(why) => {
                    set.open
                        .get_or_insert_with(|| format!("attached beside {why}"));
                }
            }
        }
        set
    }

    fn add_set(&mut self, set: AttachSet) {
        let index = self.sets.len();
        for key in &set.groups {
            self.member_of.entry(key.clone()).or_default().push(index);
            // Attaching one instance of a group uses the group.
            let base = key.1.split('[').next().unwrap_or_default().to_string();
            self.used.insert((key.0, base));
        }
        self.sets.push(set);
    }

    fn index_halves(&mut self) {
        // Resolved on every core, added in order.
        let tree = &*self;
        let halves: Vec<Vec<(GroupKey, TreeHalf)>> = (0..self.modules.len())
            .into_par_iter()
            .map(|module| tree.module_halves(module))
            .collect();
        for (group, half) in halves.into_iter().flatten() {
            self.halves.entry(group).or_default().push(half);
        }
    }

    /// Each rule of `module` as the halves it adds, by the group it is on.
    fn module_halves(&self, module: usize) -> Vec<(GroupKey, TreeHalf)> {
        let mut halves = Vec::new();
        for rule in &self.modules[module].model.rules {
            let group = match self.resolve(module, &rule.group) {
                Resolved::Group(group) => group,
                // A rule on an instance chosen by an expression (`all[each.key]`) may be on
                // any instance of that group: kept under `all[*]`.
                Resolved::Unknown(_) => match self.any_instance(module, &rule.group) {
                    Some(key) => key,
                    None => continue,
                },
            };
            for peer in &rule.peers {
                let peer = match peer {
                    RulePeer::SelfGroup => TreePeer::Group(group.clone()),
                    RulePeer::Group(expr) => match self.resolve(module, expr) {
                        Resolved::Group(key) => TreePeer::Group(key),
                        Resolved::Unknown(why) => TreePeer::Unknown(why),
                    },
                    RulePeer::Address { value, .. } if INTERNET.contains(&value.as_str()) => {
                        TreePeer::Internet
                    }
                    RulePeer::Address { value, .. } => TreePeer::Address(value.clone()),
                };
                let half = TreeHalf {
                    direction: rule.direction,
                    peer,
                    traffic: Traffic::of(rule),
                };
                halves.push((group.clone(), half));
            }
        }
        halves
    }

    /// `aws_security_group.NAME[*]` for an instance of a declared group chosen by an
    /// expression.
    fn any_instance(&self, module: usize, expr: &Written) -> Option<GroupKey> {
        let reference = expr
            .tree
            .as_deref()?
            .as_reference()?
            .without_resource_prefix();
        let [Step::Attribute(name), index, ..] = reference.steps else {
            return None;
        };
        let address = format!("aws_security_group.{}", name.text);
        (reference.root == "aws_security_group"
            && is_bracket(index)
            && self.declares(module, &address))
        .then(|| (module, format!("{address}[*]")))
    }

    /// What a group expression of `module` names.
    pub fn resolve(&self, module: usize, expr: &Written) -> Resolved {
        match &expr.tree {
            Some(tree) => self.resolve_at(module, tree, &expr.text, 0),
            None => unknown("an expression", &expr.text),
        }
    }

    /// What `expr` (`text` as written) names, read from its tree.
    fn resolve_at(&self, module: usize, expr: &Expr, text: &str, depth: usize) -> Resolved {
        let expr = expr.unwrapped();
        if depth > 8 {
            return Resolved::Unknown(format!("`{}`, followed too far", clip(text)));
        }
        let Some(reference) = expr.as_reference() else {
            let literal_id = match &expr.kind {
                ExprKind::String(value) => value.starts_with("sg-"),
                ExprKind::Template(parts) => {
                    matches!(parts.first(), Some(TemplatePart::Literal(value)) if value.starts_with("sg-"))
                }
                _ => false,
            };
            let what = if literal_id {
                "a literal id"
            } else {
                "an expression"
            };
            return unknown(what, text);
        };
        let reference = reference.without_resource_prefix();
        let steps = reference.steps;
        match reference.root {
            "aws_security_group" => {
                let [Step::Attribute(name), rest @ ..] = steps else {
                    return unknown("an expression", text);
                };
                let indexes = match rest {
                    [indexes @ .., Step::Attribute(id)] if id.text == "id" => indexes,
                    _ => rest,
                };
                if !indexes.iter().all(is_bracket) {
                    return unknown("an expression", text);
                }
                let address = format!("aws_security_group.{}", name.text);
                if !self.declares(module, &address) {
                    return unknown("a group declared in no file that was read", text);
                }
                // One instance of a `count`/`for_each` group is a group of its own; one
                // chosen by an expression could be any of them.
                match indexes {
                    [] => Resolved::Group((module, address)),
                    [Step::Index { key, .. }] => match instance_index(key) {
                        Some(index) => Resolved::Group((module, format!("{address}{index}"))),
                        None => unknown("an instance chosen by an expression", text),
                    },
                    _ => unknown("an instance chosen by an expression", text),
                }
            }
            "local" => {
                let [Step::Attribute(name)] = steps else {
                    return unknown("an expression", text);
                };
                match self.find_local(module, &name.text) {
                    Some((file, value)) => {
                        let text = Written::text_of(&file.text, &value);
                        self.resolve_at(module, &value, &text, depth + 1)
                    }
                    None => unknown("a local that was not found", text),
                }
            }
            "module" => {
                let [Step::Attribute(call), rest @ ..] = steps else {
                    return unknown("an expression", text);
                };
                let rest = skip_brackets(rest);
                let [Step::Attribute(output), rest @ ..] = rest else {
                    return unknown("an expression", text);
                };
                if !skip_brackets(rest).is_empty() {
                    return unknown("an expression", text);
                }
                let Some((block, _)) = self.find_block(module, "module", &call.text) else {
                    return unknown("a module call that was not found", text);
                };
                let Some(callee) = self.callee(module, block) else {
                    return unknown("an output of a module outside this tree", text);
                };
                match self.find_block(callee, "output", &output.text) {
                    Some((block, file)) => match block.body.attribute("value") {
                        Some(value) => {
                            let text = Written::text_of(&file.text, &value.value);
                            self.resolve_at(callee, &value.value, &text, depth + 1)
                        }
                        None => unknown("an output without a value", text),
                    },
                    None => unknown("an output that was not found", text),
                }
            }
            "var" => {
                let [Step::Attribute(name)] = steps else {
                    return unknown("a variable", text);
                };
                let calls = self.callers.get(&module).cloned().unwrap_or_default();
                if calls.is_empty() {
                    return unknown("a variable", text);
                }
                let mut found = None;
                for call in calls {
                    let Some(argument) = call.block().body.attribute(&name.text) else {
                        return unknown("a variable a module call leaves unset", text);
                    };
                    let argument_text = Written::text_of(&call.file.text, &argument.value);
                    let resolved =
                        self.resolve_at(call.caller, &argument.value, &argument_text, depth + 1);
                    if let Resolved::Unknown(_) = resolved {
                        return resolved;
                    }
                    if found.as_ref().is_some_and(|found| *found != resolved) {
                        return unknown("a variable module calls set to different groups", text);
                    }
                    found = Some(resolved);
                }
                found.unwrap_or_else(|| unknown("a variable", text))
            }
            "data" => match steps {
                [Step::Attribute(kind), rest @ ..]
                    if matches!(kind.text.as_str(), "terraform_remote_state" | "tfe_outputs") =>
                {
                    self.resolve_remote_output(module, &kind.text, rest, text, depth)
                }
                [Step::Attribute(kind), rest @ ..] if kind.text == "aws_security_group" => {
                    self.resolve_data_group(module, rest, text, depth)
                }
                _ => unknown("a data source", text),
            },
            _ => unknown("an expression", text),
        }
    }

    /// The value of local `name` in `module`, with its file.
    fn find_local(&self, module: usize, name: &str) -> Option<(&SourceFile, Cow<'_, Expr>)> {
        let analysis = &self.modules[module];
        for parsed in &analysis.model.files {
            for block in parsed.body.blocks_of("locals") {
                if let Some(attribute) = block.body.attribute(name) {
                    let value = match attribute.value.kind {
                        // Left unparsed by the inventory (see `groups_reading`).
                        ExprKind::Deferred => Cow::Owned(
                            crate::syntax::parse_deferred(
                                &parsed.file.text,
                                attribute.value.span.clone(),
                            )
                            .ok()?,
                        ),
                        _ => Cow::Borrowed(&attribute.value),
                    };
                    return Some((&parsed.file, value));
                }
            }
        }
        for (file, body) in self.extra_files(module, name) {
            for block in body.blocks_of("locals") {
                if let Some(attribute) = block.body.attribute(name) {
                    return Some((file, Cow::Borrowed(&attribute.value)));
                }
            }
        }
        None
    }

    /// A `kind "label" { … }` block of `module`, from the files read or those skipped.
    fn find_block(&self, module: usize, kind: &str, label: &str) -> Option<(&Block, &SourceFile)> {
        let analysis = &self.modules[module];
        let matches = |block: &&Block| block.label(0) == Some(label);
        for parsed in &analysis.model.files {
            if let Some(block) = parsed.body.blocks_of(kind).find(matches) {
                return Some((block, &parsed.file));
            }
        }
        for (file, body) in self.extra_files(module, label) {
            if let Some(block) = body.blocks_of(kind).find(matches) {
                return Some((block, file));
            }
        }
        None
    }

    /// The files of `module` the inventory skipped that mention `needle`, parsed (each once,
    /// and only when a lookup needs a name its text holds).
    fn extra_files(&self, module: usize, needle: &str) -> Vec<(&SourceFile, &Body)> {
        let analysis = &self.modules[module];
        // Read serially: a lookup runs on a worker of the pool, and one waiting on the pool
        // inside this initialisation could be handed a lookup that needs it too.
        let files = self.extra[module].get_or_init(|| {
            let read: HashSet<&Path> = analysis
                .model
                .files
                .iter()
                .map(|parsed| parsed.file.path.as_path())
                .collect();
            analysis
                .sources
                .iter()
                .filter(|path| !read.contains(path.as_path()))
                .filter_map(|path| {
                    // Read already for evaluation (parsed in part: parsed whole if a lookup
                    // needs it).
                    let file = match analysis.model.values.iter().find(|p| p.file.path == *path) {
                        Some(parsed) => Arc::clone(&parsed.file),
                        None => Arc::new(SourceFile::decode(path, std::fs::read(path).ok()?)),
                    };
                    Some(ExtraFile {
                        file,
                        body: OnceLock::new(),
                    })
                })
                .collect()
        });
        let finder = memchr::memmem::Finder::new(needle);
        let mut found = Vec::new();
        for extra in files {
            if finder.find(extra.file.text.as_bytes()).is_none() {
                continue;
            }
            let body = extra
                .body
                .get_or_init(|| parse::parse_body(&extra.file).ok());
            if let Some(body) = body {
                found.push((&*extra.file, body));
            }
        }
        found
    }

    /// Judges a half (a rule of `module` on `group`, in `direction`, with group peer `peer`)
    /// that nothing in its module completes.
    pub fn judge(
        &self,
        module: usize,
        direction: Direction,
        group: &Written,
        peer: &Written,
        traffic: &Traffic,
    ) -> Verdict {
        let own = match self.resolve(module, group) {
            Resolved::Group(key) => key,
            Resolved::Unknown(why) => return Verdict::Unverified(format!("its group is {why}")),
        };
        let other = match self.resolve(module, peer) {
            Resolved::Group(key) => key,
            Resolved::Unknown(why) => return Verdict::Unverified(format!("the peer is {why}")),
        };
        // The sets that hold the rule's side, and those that hold the other.
        let own_sets = self.sets_of(&own);
        let other_sets = self.sets_of(&other);
        let wanted = direction.opposite();
        let mut unverified = None;
        for mine in &own_sets {
            for theirs in &other_sets {
                let mut allowing = Vec::new();
                let mut maybe = Vec::new();
                for member in &theirs.groups {
                    let any = member
                        .1
                        .split('[')
                        .next()
                        .map(|base| (member.0, format!("{base}[*]")));
                    if let Some(any) = any.filter(|any| *any != *member) {
                        for half in self.halves.get(&any).into_iter().flatten() {
                            if half.direction == wanted {
                                maybe.push((
                                    &half.traffic,
                                    format!(
                                        "a rule on an instance of {} chosen by an expression may be on {}",
                                        any.1.trim_end_matches("[*]"),
                                        member.1
                                    ),
                                ));
                            }
                        }
                    }
                    for half in self.halves.get(member).into_iter().flatten() {
                        if half.direction != wanted {
                            continue;
                        }
                        match &half.peer {
                            TreePeer::Internet => allowing.push(&half.traffic),
                            TreePeer::Group(key) if mine.groups.contains(key) => {
                                allowing.push(&half.traffic)
                            }
                            TreePeer::Group(_) => {}
                            TreePeer::Address(value) => maybe.push((
                                &half.traffic,
                                format!(
                                    "{} on {} admits {}, which may hold {}",
                                    direction_word(wanted),
                                    member.1,
                                    value,
                                    own.1
                                ),
                            )),
                            TreePeer::Unknown(why) => maybe.push((
                                &half.traffic,
                                format!(
                                    "{} on {} allows {}, which may be {}",
                                    direction_word(wanted),
                                    member.1,
                                    why,
                                    own.1
                                ),
                            )),
                        }
                    }
                }
                if traffic.covered_by(allowing.iter().copied()) {
                    continue;
                }
                let with_maybe = allowing
                    .iter()
                    .copied()
                    .chain(maybe.iter().map(|(traffic, _)| *traffic));
                if traffic.covered_by(with_maybe) && !maybe.is_empty() {
                    unverified.get_or_insert_with(|| maybe[0].1.clone());
                    continue;
                }
                let dynamic = theirs.groups.iter().find(|(module, address)| {
                    let base = address.split('[').next().unwrap_or_default().to_string();
                    self.dynamic.contains(&(*module, base))
                });
                if let Some((_, address)) = dynamic {
                    unverified.get_or_insert_with(|| {
                        format!("{address} has `dynamic` rule blocks, which only a plan expands")
                    });
                    continue;
                }
                if let Some(why) = theirs.open.as_ref().or(mine.open.as_ref()) {
                    unverified.get_or_insert_with(|| why.clone());
                    continue;
                }
                // Protocols and ports written as expressions are compared as text: another
                // expression, or a number, may have the same value.
                let guessable = |other: &Traffic| {
                    (other.protocol == traffic.protocol || !other.protocol_is_literal())
                        && (other.ports_are_expressions() || !other.protocol_is_literal())
                };
                let written_otherwise = allowing
                    .iter()
                    .copied()
                    .chain(maybe.iter().map(|(traffic, _)| *traffic))
                    .any(guessable);
                let ours = traffic.ports_are_expressions() || !traffic.protocol_is_literal();
                let any_rule = !allowing.is_empty() || !maybe.is_empty();
                if written_otherwise || (ours && any_rule) {
                    unverified.get_or_insert_with(|| {
                        "its protocol or ports, or those of a rule on the other side, are expressions"
                            .into()
                    });
                    continue;
                }
                return Verdict::Missing;
            }
        }
        match unverified {
            Some(why) => Verdict::Unverified(why),
            None => Verdict::Complete,
        }
    }

    /// The one instance of a `count`/`for_each` group that `rule` names as its peer, where the
    /// flow names the declaration: a flow draws `aws_security_group.lb[0].id` as
    /// `aws_security_group.lb.id`, but the tree indexes the rules and attachments of `lb[0]`
    /// under that instance. `None` when the rule names no one instance the tree resolves.
    fn instance_peer(
        &self,
        module: usize,
        rule: &crate::inventory::DeclaredRule,
        declaration: &Written,
    ) -> Option<Written> {
        let mut named: Vec<&Written> = rule
            .peers
            .iter()
            .filter_map(|peer| match peer {
                RulePeer::Group(expr)
                    if flows::group_key(expr) == *declaration && expr != declaration =>
                {
                    Some(expr)
                }
                _ => None,
            })
            .collect();
        named.dedup();
        let [expr] = named.as_slice() else {
            return None;
        };
        match self.resolve(module, expr) {
            Resolved::Group(_) => Some((*expr).clone()),
            Resolved::Unknown(_) => None,
        }
    }

    /// The sets of groups attached together that hold `key`; the group alone when nothing
    /// attaches it.
    fn sets_of(&self, key: &GroupKey) -> Vec<AttachSet> {
        let mut sets: Vec<AttachSet> = self
            .member_of
            .get(key)
            .into_iter()
            .flatten()
            .map(|&index| self.sets[index].clone())
            .collect();
        if sets.is_empty() {
            sets.push(AttachSet {
                groups: vec![key.clone()],
                open: None,
            });
        }
        if let Some(why) = self.attach_unknown.get(key) {
            for set in &mut sets {
                set.open
                    .get_or_insert_with(|| format!("{} is {why}", key.1));
            }
        }
        sets
    }

    /// How many remote states were matched by the known parts of their settings so far.
    fn matched_count(&self) -> usize {
        self.matched.lock().expect("not poisoned").len()
    }

    /// The first remote state matched by the known parts of its settings since
    /// [`Tree::matched_count`] was `before`.
    fn matched_since(&self, before: usize) -> Option<String> {
        let matched = self.matched.lock().expect("not poisoned");
        matched.get(before..).and_then(|new| new.first()).cloned()
    }

    /// Whether anything in the tree attaches a group of `module`.
    pub fn attachment(&self, module: usize, address: &str) -> Attachment {
        let key = (module, address.to_string());
        if self.used.contains(&key) {
            return Attachment::Attached;
        }
        if let Some(why) = self.attach_unknown.get(&key) {
            return Attachment::Unknown(why.clone());
        }
        if !self.modules[module].model.complete {
            return Attachment::Unknown("its module has files that could not be read".into());
        }
        Attachment::Unattached
    }
}

fn unknown(what: &str, text: &str) -> Resolved {
    Resolved::Unknown(format!("{what} (`{}`)", clip(text)))
}

fn clip(text: &str) -> String {
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text.to_string()
    }
}

/// `[…]` and `[*]`: a step that picks instances.
fn is_bracket(step: &Step) -> bool {
    matches!(step, Step::Index { .. } | Step::Splat { full: true, .. })
}

/// The steps after the leading `[…]` and `[*]` ones.
fn skip_brackets(steps: &[Step]) -> &[Step] {
    let at = steps
        .iter()
        .position(|step| !is_bracket(step))
        .unwrap_or(steps.len());
    &steps[at..]
}

/// `[0]`, `["web"]`: an instance a reader can see, as the tree names it.
fn instance_index(key: &Expr) -> Option<String> {
    match &key.kind {
        ExprKind::Number(Some(index)) if *index >= 0 => Some(format!("[{index}]")),
        ExprKind::String(key) => Some(format!("[{}]", serde_json::Value::String(key.clone()))),
        _ => None,
    }
}

fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Egress => "egress",
        Direction::Ingress => "ingress",
    }
}

/// The attaching attributes' values under `body`, at any depth.
fn attaching_lists(body: &Body, found: &mut Vec<crate::syntax::Expr>) {
    for attribute in &body.attributes {
        if ATTACHING.contains(&attribute.name.text.as_str()) {
            found.push(attribute.value.clone());
        }
    }
    for block in &body.blocks {
        attaching_lists(&block.body, found);
    }
}

/// Reads and analyses every module under `paths`, then judges what only the whole tree
/// shows (halves completed by groups attached together or in other modules, groups attached
/// to nothing). A file that cannot be read is reported and costs only itself: the rest of its
/// module is analysed.
pub fn analyse_paths(paths: &[PathBuf], cwd: &Path) -> (Vec<Analysis>, Vec<Diagnostic>) {
    analyse_source(&Source::Disk, paths, cwd)
}

/// [`analyse_paths`], over the files of `source` (the work tree, or a tree read from git).
pub fn analyse_source(
    source: &Source,
    paths: &[PathBuf],
    cwd: &Path,
) -> (Vec<Analysis>, Vec<Diagnostic>) {
    let (modules, mut errors) = source.discover(paths, cwd);
    let root = crate::paths::git_top_level(cwd).unwrap_or_else(|| cwd.to_path_buf());
    let root = crate::paths::canonical(&root);
    let mut configs = ConfigFinder::new(cwd);
    let configs: Vec<_> = modules
        .iter()
        .map(|module| configs.config_in(&module.dir, source))
        .collect();
    let read: Vec<_> = crate::inventory::inputs::read_tree(source, &modules, configs)
        .into_par_iter()
        .zip(modules.par_iter())
        .map(|((model, errors), module)| {
            let name = module_name(&module.dir, cwd, &root);
            (
                model.map(|model| flows::analyse(module, model, name)),
                errors,
            )
        })
        .collect();
    let mut analyses = Vec::new();
    for (analysis, mut found) in read {
        errors.append(&mut found);
        analyses.extend(analysis);
    }
    judge_tree(&mut analyses);
    (analyses, errors)
}

/// Re-judges every half-open flow across the tree, and finds the groups attached to nothing.
fn judge_tree(analyses: &mut [Analysis]) {
    let mut verdicts = Vec::new();
    let mut attachments = Vec::new();
    {
        let tree = Tree::new(analyses);
        for (module, analysis) in analyses.iter().enumerate() {
            for (index, flow) in analysis.flows.iter().enumerate() {
                let Some(FlowFinding::HalfOpen { .. }) = flow.finding else {
                    continue;
                };
                let rule = &analysis.model.rules[flow.rules[0]];
                let peer = match rule.direction {
                    Direction::Egress => flow.target.clone(),
                    Direction::Ingress => flow.source.clone(),
                };
                let Endpoint::Group(peer) = peer else {
                    continue;
                };
                let peer = tree.instance_peer(module, rule, &peer).unwrap_or(peer);
                let before = tree.matched_count();
                let verdict = tree.judge(module, rule.direction, &rule.group, &peer, &flow.traffic);
                let matched = tree.matched_since(before);
                verdicts.push((module, index, verdict, matched));
            }
            let groups: Vec<Attachment> = analysis
                .model
                .groups
                .iter()
                .map(|group| tree.attachment(module, &group.address))
                .collect();
            attachments.push(groups);
        }
    }
    for (module, index, verdict, matched) in verdicts {
        let flow = &mut analyses[module].flows[index];
        flow.finding = match (flow.finding.take(), verdict) {
            (_, Verdict::Complete) => None,
            (Some(FlowFinding::HalfOpen { missing, .. }), Verdict::Missing) => {
                Some(FlowFinding::HalfOpen {
                    missing,
                    unverified: None,
                    matched,
                })
            }
            (Some(FlowFinding::HalfOpen { missing, .. }), Verdict::Unverified(why)) => {
                Some(FlowFinding::HalfOpen {
                    missing,
                    unverified: Some(why),
                    matched,
                })
            }
            (finding, _) => finding,
        };
    }
    for (analysis, groups) in analyses.iter_mut().zip(attachments) {
        analysis.attachments = groups;
    }
}

/// A module directory as a finding's identity names it: relative to `root` (the git top
/// level, else the current directory; canonical), `/`-separated, `.` for the top.
fn module_name(dir: &Path, cwd: &Path, root: &Path) -> String {
    let relative = crate::paths::relative_to_canonical(&cwd.join(dir), root);
    let text = relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    if text.is_empty() {
        ".".to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize() {
        assert_eq!(normalize(Path::new("./a/b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("a/../../d")), PathBuf::from("../d"));
    }
}
