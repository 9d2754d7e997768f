//! One model of every security-group rule a module declares, each with its source span:
//! the `mutual_rules` connections, hand-written `aws_security_group_rule` and
//! `aws_vpc_security_group_{ingress,egress}_rule` resources, and inline `ingress`/`egress`
//! blocks of `aws_security_group`. `migrate`, `graph` and `audit` all read rules from here.

pub mod checks;
pub mod compare;
pub mod flows;
pub mod identity;
pub mod inputs;
pub mod references;
pub mod renames;
pub mod tree;
pub mod values;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, LazyLock};

use memchr::memmem::Finder;

use crate::config::Config;
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::eval::{self, Instances, Scope};
use crate::generate::connection::SourceExpr;
use crate::generate::connection::{CidrKind, Direction, Enabled, Items, Peer, Protocol, squeeze};
use crate::generate::naming::{Definition, NamedConnection};
use crate::generate::parse::ParsedFile;
use crate::generate::parse::{self, LOCAL_NAME, Literal, SourceValue};
use crate::syntax::{Block, Body, Expr, ExprKind};
use crate::workspace::discover::Module;
use crate::workspace::source::Source;

/// Everything a module declares about its security-group rules.
pub struct ModuleModel {
    pub files: Vec<ParsedFile>,
    /// Files parsed only for what they give evaluation: variables, locals, module calls
    /// (a broken one costs nothing but its values, which are then unknown).
    pub values: Vec<ParsedFile>,
    /// The `mutual_rules` connections, named, with the file that defines them.
    pub connections: Option<Definition>,
    pub rules: Vec<DeclaredRule>,
    /// `aws_security_group` resources, by address (`aws_security_group.web`).
    pub groups: Vec<GroupDecl>,
    /// Every file that can matter was read and parsed, and `mutual_rules` is valid: what the
    /// module declares is all here.
    pub complete: bool,
    /// The files that can declare the module's backend, as read ([`ParsedModule::backend_files`]).
    pub backend_files: Option<Vec<(std::path::PathBuf, Vec<u8>)>>,
}

pub struct GroupDecl {
    pub address: String,
    /// Its name: `web` of `aws_security_group.web`.
    pub name: String,
    pub file: Arc<SourceFile>,
    pub span: Range<usize>,
    /// The whole `resource` block, for the suppression comments inside it.
    pub block_span: Range<usize>,
    pub has_inline_rules: bool,
    /// `dynamic "ingress"`/`dynamic "egress"` blocks whose collection is unknown: rules whose
    /// content only a plan knows.
    pub has_dynamic_rules: bool,
}

/// Where a rule is declared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Generated from the `mutual_rules` connection of this name.
    Generated { name: String },
    /// A rule resource: `aws_security_group_rule.x` or `aws_vpc_security_group_*_rule.x`.
    Resource { address: String },
    /// An inline `ingress`/`egress` block of this group (`aws_security_group.web`).
    Inline { group: String },
}

/// Who a rule allows, as written in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulePeer {
    /// A security group id expression.
    Group(Written),
    /// The rule's own group.
    SelfGroup,
    /// A CIDR block or prefix list (a literal without quotes, or an expression's text).
    Address { kind: CidrKind, value: String },
}

/// One declared rule (one resource, one inline block, or one generated rule).
#[derive(Debug, Clone)]
pub struct DeclaredRule {
    pub origin: Origin,
    pub direction: Direction,
    /// The group the rule belongs to, as an id expression (`aws_security_group.web.id`).
    pub group: Written,
    pub peers: Vec<RulePeer>,
    /// `tcp`, `udp`, `icmp`, `icmpv6`, `-1`, a number, or an expression's text.
    pub protocol: String,
    pub from_port: String,
    pub to_port: String,
    /// The description's source text.
    pub description: Option<String>,
    /// Declared with `count` or `for_each` (or a `dynamic` block): one declaration, several
    /// rules.
    pub repeated: bool,
    /// Which instance of its declaration this rule is, where the collection is known:
    /// `["https"]`, `[0]` (of the resource, or of the `dynamic` block).
    pub instance: Option<String>,
    /// The `count` expression's text, layout squeezed out (a generated rule's: the `count`
    /// its `enabled` condition writes): two halves under the same condition exist together,
    /// so they are judged as a pair.
    pub count: Option<String>,
    /// The `for_each` expression, for reading `each.value`.
    pub for_each: Option<Written>,
    pub file: Arc<SourceFile>,
    pub span: Range<usize>,
    /// The whole declaration (resource block, inline block or connection object), for the
    /// suppression comments directly above and inside it.
    pub block_span: Range<usize>,
    /// The resource an inline block belongs to, whose comments apply to it too.
    pub parent_span: Option<Range<usize>>,
}

/// Byte strings a file must contain to hold anything the inventory reads: a group, a rule,
/// an attachment (`vpc_security_group_ids`, `security_groups`), `mutual_rules`, a call of a
/// module `migrate` replaces, the `required_version` and the `moved`/`import`/`removed`
/// blocks `migrate` checks. A file with none of them is not parsed, so a broken file that
/// declares nothing of this cannot fail its module (real trees hold broken files).
const MARKERS: [&str; 8] = [
    "security_group",
    "security-group/aws",
    LOCAL_NAME,
    "mutual-security-groups",
    "required_version",
    "moved",
    "import",
    "removed",
];

static FINDERS: LazyLock<Vec<Finder<'static>>> =
    LazyLock::new(|| MARKERS.iter().map(Finder::new).collect());

/// Whether a file can hold anything the inventory reads.
fn can_matter(bytes: &[u8]) -> bool {
    FINDERS.iter().any(|finder| finder.find(bytes).is_some())
}

/// Reads every rule a module declares, as written: one rule per declaration, its arguments
/// as their source text (for `migrate`, which rewrites declarations, never evaluated values).
pub fn read(module: &Module, config: &Config) -> Result<ModuleModel, Vec<Diagnostic>> {
    let parsed = parse_module(&Source::Disk, module, None);
    match model_of(&parsed, &[BTreeMap::new()], None, config, false) {
        (model, errors) if errors.is_empty() => Ok(model),
        (_, errors) => Err(errors),
    }
}

/// A module's files, read and parsed once: those that can hold what the inventory reads,
/// and those that give evaluation values.
pub struct ParsedModule {
    pub files: Vec<ParsedFile>,
    pub values: Vec<ParsedFile>,
    pub errors: Vec<Diagnostic>,
    /// The files that can declare a backend (they name `terraform` and `backend` or `cloud`),
    /// with their bytes as read, in source order: remote state reads backends from them
    /// without reading the tree again. `None` when the files were not read from the disk
    /// (a revision): the disk's are read then.
    pub backend_files: Option<Vec<(std::path::PathBuf, Vec<u8>)>>,
    /// The files that hold variables or locals but were not parsed (the module's rules read
    /// none): read again and parsed by [`ParsedModule::parse_more_values`] when a module it
    /// calls needs them (rare: holding every such file's bytes until then costs more).
    unparsed_values: Vec<std::path::PathBuf>,
}

impl ParsedModule {
    /// Whether the module declares rules that read variables or locals (in their arguments,
    /// `count`, `for_each` or `dynamic` blocks): only then do its variables and locals matter.
    pub fn needs_values(&self) -> bool {
        self.files.iter().any(|parsed| {
            parsed
                .body
                .blocks_of("resource")
                .any(|block| match block.label(0) {
                    // A group's own arguments (`name`, `vpc_id`) are no rule.
                    Some("aws_security_group") => {
                        ["count", "for_each"].iter().any(|name| {
                            block
                                .body
                                .attribute(name)
                                .is_some_and(|attribute| reads_values(&attribute.value))
                        }) || block
                            .body
                            .blocks
                            .iter()
                            .any(|inner| body_reads_values(&inner.body))
                    }
                    Some(kind)
                        if kind == "aws_security_group_rule"
                            || kind.starts_with("aws_vpc_security_group_") =>
                    {
                        body_reads_values(&block.body)
                    }
                    _ => false,
                })
        })
    }

    /// The `module` blocks of every file parsed, with the file each is in.
    pub fn module_calls(&self) -> impl Iterator<Item = (&ParsedFile, &Block)> {
        self.files
            .iter()
            .chain(&self.values)
            .flat_map(|parsed| parsed.body.blocks_of("module").map(move |b| (parsed, b)))
    }
}

/// Whether an expression reads `var.*` or `local.*`.
fn reads_values(expr: &crate::syntax::Expr) -> bool {
    expr.references()
        .iter()
        .any(|reference| matches!(reference.root, "var" | "local"))
}

fn body_reads_values(body: &Body) -> bool {
    body.attributes
        .iter()
        .any(|attribute| reads_values(&attribute.value))
        || body
            .blocks
            .iter()
            .any(|block| body_reads_values(&block.body))
}

/// Whether a file may hold variables or locals (one that only mentions the words is not
/// kept for evaluation).
fn may_hold_values(bytes: &[u8]) -> bool {
    crate::syntax::may_hold_block(bytes, "variable")
        || crate::syntax::may_hold_block(bytes, "locals")
}

/// How `audit` and `graph` read a file that can hold groups: a `resource` that names no
/// group (`security_group` is in every group reference, rule type and attaching argument),
/// no module output and no remote state is read by no check, and is passed over. A local is
/// parsed when evaluation reads it, unless it names a group or a module output (which the
/// tree's index of what uses a group reads) or holds `mutual_rules`. The `terraform` block
/// is passed over.
pub fn groups_reading(kind: &str) -> crate::syntax::Reading {
    match kind {
        "resource" => crate::syntax::Reading::Mentioning(&[
            "security_group",
            "module.",
            "data.terraform_remote_state",
            "data.tfe_outputs",
        ]),
        "locals" => crate::syntax::Reading::Deferred(&["security_group", "module.", LOCAL_NAME]),
        // Read for `migrate` (its `required_version`); a backend is read from the file's
        // bytes (`ParsedModule::backend_files`).
        "terraform" => crate::syntax::Reading::Skipped,
        _ => crate::syntax::Reading::Whole,
    }
}

/// How a file parsed for its values reads each top-level block.
pub fn values_reading(kind: &str) -> crate::syntax::Reading {
    match kind {
        "variable" | "module" => crate::syntax::Reading::Whole,
        "locals" => crate::syntax::Reading::Deferred(&[]),
        _ => crate::syntax::Reading::Skipped,
    }
}

/// Byte strings of a file that calls a module of the tree (a local `source`).
const CALL_MARKERS: [&str; 2] = ["\"./", "\"../"];

static CALL_FINDERS: LazyLock<Vec<Finder<'static>>> =
    LazyLock::new(|| CALL_MARKERS.iter().map(Finder::new).collect());

fn holds_any(finders: &[Finder<'static>], bytes: &[u8]) -> bool {
    finders.iter().any(|finder| finder.find(bytes).is_some())
}

/// Reads and parses a module's files once: those that can matter to the inventory; those
/// that call a module of the tree; and, when the module declares rules, those that hold
/// variables or locals. Other files are read, and dropped unparsed. `reading`: how the files
/// that can matter read each top-level block (`None`: whole; [`groups_reading`] for a reader
/// that rewrites nothing).
pub fn parse_module(
    source: &Source,
    module: &Module,
    reading: Option<fn(&str) -> crate::syntax::Reading>,
) -> ParsedModule {
    let mut files = Vec::new();
    let mut kept: Vec<(&std::path::Path, Vec<u8>)> = Vec::new();
    let mut errors = Vec::new();
    let mut backend_files = matches!(source, Source::Disk).then(Vec::new);
    for path in &module.sources {
        // Read into the thread's buffer; only the files something reads are copied out.
        let read = source.with_bytes(path, |bytes| {
            let backend = backend_files.is_some() && crate::workspace::backends::may_declare(bytes);
            let matters = can_matter(bytes);
            let values = !matters && (may_hold_values(bytes) || holds_any(&CALL_FINDERS, bytes));
            let copy = (matters || values || backend).then(|| bytes.to_vec());
            (matters, values, backend, copy)
        });
        let (matters, values, backend, bytes) = match read {
            Ok((matters, values, backend, Some(bytes))) => (matters, values, backend, bytes),
            Ok((.., None)) => continue,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        if let Some(found) = &mut backend_files
            && backend
        {
            found.push((path.clone(), bytes.clone()));
        }
        if !matters {
            if values {
                kept.push((path, bytes));
            }
            continue;
        }
        let file = Arc::new(SourceFile::decode(path, bytes));
        match parse::parse_body_read(&file, reading) {
            Ok(body) => files.push(ParsedFile {
                file,
                body: Arc::new(body),
            }),
            Err(mut found) => errors.append(&mut found),
        }
    }
    let mut parsed = ParsedModule {
        files,
        values: Vec::new(),
        errors,
        backend_files,
        unparsed_values: Vec::new(),
    };
    let all = parsed.needs_values();
    for (path, bytes) in kept {
        if all || holds_any(&CALL_FINDERS, &bytes) {
            parsed.values.extend(parse_values_file(path, bytes));
        } else {
            parsed.unparsed_values.push(path.to_path_buf());
        }
    }
    parsed
}

impl ParsedModule {
    /// The files of a module that hold variables or locals and were not parsed yet, read
    /// again and parsed: for a module that declares no rules but calls one that does, whose
    /// arguments may read them.
    pub fn parse_more_values(&mut self, source: &Source) {
        let more = std::mem::take(&mut self.unparsed_values);
        self.values.extend(more.into_iter().filter_map(|path| {
            let bytes = source.read(&path).ok()?;
            parse_values_file(&path, bytes)
        }));
    }
}

/// A file parsed for its values only: its variables and module calls, and its locals left
/// unparsed until evaluation reads them (a module defines hundreds and reads a few); its
/// other blocks are passed over. One that does not parse gives none.
fn parse_values_file(path: &std::path::Path, bytes: Vec<u8>) -> Option<ParsedFile> {
    let file = Arc::new(SourceFile::decode(path, bytes));
    let (body, comments) =
        crate::syntax::parse_selected(&file.text, &file.invalid_utf8, values_reading).ok()?;
    file.keep_comment_spans(comments);
    Some(ParsedFile {
        file,
        body: Arc::new(body),
    })
}

/// The model of a parsed module, its variables given `inputs`, `file()` reading `access`.
/// `evaluate`: each rule is read per instance, its arguments evaluated where their values
/// are known; else as written.
pub fn model_of(
    parsed: &ParsedModule,
    inputs: &[BTreeMap<String, eval::Value>],
    access: Option<&eval::Files<'_>>,
    config: &Config,
    evaluate: bool,
) -> (ModuleModel, Vec<Diagnostic>) {
    // Shared with the parse (its files are counted references), which the tree's other
    // modules may be reading from meanwhile.
    let ParsedModule {
        files,
        values,
        errors,
        backend_files,
        unparsed_values: _,
    } = parsed;
    let (files, values) = (files.clone(), values.clone());
    let (mut errors, backend_files) = (errors.clone(), backend_files.clone());
    let connections = match crate::generate::connections_of(&files, config) {
        Ok(connections) => connections,
        Err(mut found) => {
            errors.append(&mut found);
            None
        }
    };
    let complete = errors.is_empty();
    let mut rules = Vec::new();
    let mut groups = Vec::new();
    if let Some(definition) = &connections {
        rules.extend(generated_rules(&definition.file, &definition.connections));
    }
    // A module called several ways is every one of them: its rules are the union of the
    // rules each set of inputs gives (the same rule once), its groups those of the first.
    for (index, inputs) in inputs.iter().enumerate() {
        let module = values::evaluate_for(files.iter().chain(&values), inputs, access.cloned());
        let (found, declared_groups) = declared(&files, &module, evaluate);
        let mut seen: rustc_hash::FxHashMap<RuleKey, usize> = rules
            .iter()
            .enumerate()
            .map(|(at, rule)| (rule_key(rule), at))
            .collect();
        for rule in found {
            match seen.get(&rule_key(&rule)) {
                // The same rule with more peers in this call: one rule with all of them.
                Some(&at) => {
                    for peer in rule.peers {
                        if !rules[at].peers.contains(&peer) {
                            rules[at].peers.push(peer);
                        }
                    }
                }
                None => {
                    seen.insert(rule_key(&rule), rules.len());
                    rules.push(rule);
                }
            }
        }
        if index == 0 {
            groups = declared_groups;
        } else {
            for (group, other) in groups.iter_mut().zip(declared_groups) {
                group.has_inline_rules |= other.has_inline_rules;
                group.has_dynamic_rules |= other.has_dynamic_rules;
            }
        }
    }
    identity::unify_names(&mut rules, &identity::data_aliases(&files, &groups));
    let model = ModuleModel {
        files,
        values,
        connections,
        rules,
        groups,
        complete,
        backend_files,
    };
    (model, errors)
}

/// What makes two rules the same rule (but for their peers), for the union over a module's
/// calls.
#[derive(PartialEq, Eq, Hash)]
struct RuleKey {
    origin: Origin,
    instance: Option<String>,
    direction: Direction,
    group: String,
    protocol: String,
    from_port: String,
    to_port: String,
    start: usize,
}

fn rule_key(rule: &DeclaredRule) -> RuleKey {
    RuleKey {
        origin: rule.origin.clone(),
        instance: rule.instance.clone(),
        direction: rule.direction,
        group: rule.group.text.clone(),
        protocol: rule.protocol.clone(),
        from_port: rule.from_port.clone(),
        to_port: rule.to_port.clone(),
        start: rule.span.start,
    }
}

/// The rules and groups the resources of `files` declare, read in `module`'s values
/// (`evaluate`: per instance, arguments evaluated; else as written).
fn declared(
    files: &[ParsedFile],
    module: &eval::EvaluatedModule<'_>,
    evaluate: bool,
) -> (Vec<DeclaredRule>, Vec<GroupDecl>) {
    let mut rules = Vec::new();
    let mut groups = Vec::new();
    for parsed in files {
        let text = parsed.file.text.as_str();
        for block in parsed.body.blocks_of("resource") {
            let instances = match block.label(0) {
                Some(kind)
                    if kind.starts_with("aws_security_group")
                        || kind.starts_with("aws_vpc_security_group_") =>
                {
                    if evaluate {
                        module.instances(block, text)
                    } else {
                        Instances::Single
                    }
                }
                _ => continue,
            };
            // One reader per instance where they are known; else one for the declaration,
            // whose `each` and `count` stay unknown.
            let readers: Vec<BlockReader> = match instances {
                Instances::Known(instances) => instances
                    .iter()
                    .map(|instance| BlockReader {
                        file: &parsed.file,
                        block,
                        scope: Some(module.instance_scope(text, instance)),
                        instance: Some(values::instance_name(&instance.key)),
                    })
                    .collect(),
                Instances::Single | Instances::Unknown => vec![BlockReader {
                    file: &parsed.file,
                    block,
                    scope: evaluate.then(|| module.scope(text)),
                    instance: None,
                }],
            };
            let labels: Vec<&str> = block
                .labels
                .iter()
                .map(|label| label.value.as_str())
                .collect();
            match labels.as_slice() {
                ["aws_security_group", name] => {
                    let address = format!("aws_security_group.{name}");
                    // A group is one node however many instances it has: its inline rules
                    // are read once, in the scope of its one instance where it has one.
                    let declaration;
                    let reader = match readers.as_slice() {
                        [one] => one,
                        _ => {
                            declaration = BlockReader {
                                file: &parsed.file,
                                block,
                                scope: evaluate.then(|| module.scope(text)),
                                instance: None,
                            };
                            &declaration
                        }
                    };
                    let (inline, has_dynamic_rules) = reader.inline_rules(name);
                    groups.push(GroupDecl {
                        address,
                        name: (*name).to_string(),
                        file: Arc::clone(&parsed.file),
                        span: reader.header_span(),
                        block_span: block.span.clone(),
                        has_inline_rules: !inline.is_empty(),
                        has_dynamic_rules,
                    });
                    rules.extend(inline);
                }
                ["aws_security_group_rule", name] => {
                    for reader in &readers {
                        rules.extend(reader.security_group_rule(
                            &reader.address(&format!("aws_security_group_rule.{name}")),
                        ));
                    }
                }
                [
                    kind @ ("aws_vpc_security_group_ingress_rule"
                    | "aws_vpc_security_group_egress_rule"),
                    name,
                ] => {
                    let direction = if kind.contains("ingress") {
                        Direction::Ingress
                    } else {
                        Direction::Egress
                    };
                    for reader in &readers {
                        rules.push(
                            reader.vpc_rule(&reader.address(&format!("{kind}.{name}")), direction),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    (rules, groups)
}

/// The rules `generate` writes for the `mutual_rules` connections.
fn generated_rules(file: &Arc<SourceFile>, named: &[NamedConnection]) -> Vec<DeclaredRule> {
    let source = file.text.as_str();
    let mut rules = Vec::new();
    for connection in named {
        // `enabled = false`: written with `count = 0`, so no rule exists.
        if matches!(connection.connection.enabled, Enabled::Never) {
            continue;
        }
        for rule in connection.connection.rules() {
            let peers = match rule.peer {
                Peer::Group(group) => vec![RulePeer::Group(Written::of_source(source, group))],
                Peer::SelfGroup => vec![RulePeer::SelfGroup],
                Peer::Addresses(lists) => lists
                    .iter()
                    .flat_map(|list| match &list.items {
                        Items::Literal(items) => items
                            .iter()
                            .map(|item| RulePeer::Address {
                                kind: list.kind,
                                value: literal_text(item),
                            })
                            .collect(),
                        Items::Expr(expr) => vec![RulePeer::Address {
                            kind: list.kind,
                            value: Written::of_source(source, expr).text,
                        }],
                    })
                    .collect(),
            };
            let c = &connection.connection;
            rules.push(DeclaredRule {
                origin: Origin::Generated {
                    name: connection.name.clone(),
                },
                direction: rule.direction,
                group: Written::of_source(source, rule.group),
                peers,
                protocol: c.protocol.to_string(),
                from_port: c.ports.from.to_string(),
                to_port: c.ports.to.to_string(),
                description: rule.description.map(|d| d.text.clone()),
                // `enabled = <expr>` is a `count`, as for a hand-written rule.
                repeated: matches!(c.enabled, Enabled::When(_)),
                instance: None,
                count: c.enabled.count().map(|count| squeeze(&count)),
                for_each: None,
                file: Arc::clone(file),
                span: c.span.clone(),
                block_span: c.span.clone(),
                parent_span: None,
            });
        }
    }
    rules
}

struct BlockReader<'a> {
    file: &'a Arc<SourceFile>,
    block: &'a Block,
    /// The module's values, with the instance's `each` and `count.index`.
    /// `None`: arguments are read as written (for `migrate`, which rewrites them).
    scope: Option<Scope<'a>>,
    /// The instance's name after its address (`["https"]`), where instances are known.
    instance: Option<String>,
}

impl BlockReader<'_> {
    /// A value as the inventory reads it.
    fn written(&self, value: &SourceValue) -> Written {
        Written::of_value(&self.file.text, value)
    }

    /// A literal's value as text (`"tcp"` → `tcp`, `443` → `443`), else the expression as
    /// written.
    fn scalar_text(&self, value: &SourceValue) -> String {
        match &value.literal {
            Some(Literal::String(text)) => text.clone(),
            Some(Literal::Int(number)) => number.to_string(),
            _ => self.written(value).text,
        }
    }

    /// The rule's address, with the instance's key.
    fn address(&self, declared: &str) -> String {
        format!("{declared}{}", self.instance.as_deref().unwrap_or_default())
    }

    /// `resource "type" "name"`, for the underline.
    fn header_span(&self) -> Range<usize> {
        self.block.header_span()
    }

    /// An argument's value, evaluated where it is known (else its text); `key = null` is
    /// an argument not set, as Terraform reads it.
    fn get(&self, body: &Body, key: &str) -> Option<SourceValue> {
        body.attribute(key)
            .map(|attribute| match &self.scope {
                Some(scope) => values::read(self.file, &attribute.value, scope),
                None => parse::value(self.file, &attribute.value),
            })
            .filter(|value| value.literal != Some(Literal::Null))
    }

    fn repeated(&self) -> bool {
        self.block.body.has_attribute("count") || self.block.body.has_attribute("for_each")
    }

    fn rule(
        &self,
        origin: Origin,
        direction: Direction,
        group: Written,
        peers: Vec<RulePeer>,
        body: &Body,
    ) -> DeclaredRule {
        let text = |key: &str| self.get(body, key).map(|value| self.scalar_text(&value));
        DeclaredRule {
            origin,
            direction,
            group,
            peers,
            protocol: text("protocol")
                .or_else(|| text("ip_protocol"))
                .map(|protocol| canonical_protocol(&protocol))
                .unwrap_or_default(),
            from_port: text("from_port").unwrap_or_default(),
            to_port: text("to_port").unwrap_or_default(),
            description: self.get(body, "description").map(|value| value.text),
            repeated: self.repeated(),
            instance: self.instance.clone(),
            count: self
                .get(&self.block.body, "count")
                .map(|value| self.written(&value).text),
            for_each: self
                .get(&self.block.body, "for_each")
                .map(|value| self.written(&value)),
            file: Arc::clone(self.file),
            span: self.header_span(),
            block_span: self.block.span.clone(),
            parent_span: None,
        }
    }

    /// `aws_security_group_rule`: peers from `self`, `source_security_group_id`, and the lists.
    fn security_group_rule(&self, address: &str) -> Option<DeclaredRule> {
        let body = &self.block.body;
        let direction = match self
            .get(body, "type")
            .map(|value| self.scalar_text(&value))
            .as_deref()
        {
            Some("ingress") => Direction::Ingress,
            Some("egress") => Direction::Egress,
            _ => return None,
        };
        let group = self
            .get(body, "security_group_id")
            .map(|value| self.written(&value))?;
        let mut peers = Vec::new();
        if self.get(body, "self").and_then(|value| value.literal) == Some(Literal::Bool(true)) {
            peers.push(RulePeer::SelfGroup);
        }
        if let Some(peer) = self.get(body, "source_security_group_id") {
            peers.push(RulePeer::Group(self.written(&peer)));
        }
        peers.extend(self.address_lists(body));
        let origin = Origin::Resource {
            address: address.to_string(),
        };
        Some(self.rule(origin, direction, group, peers, body))
    }

    fn vpc_rule(&self, address: &str, direction: Direction) -> DeclaredRule {
        let body = &self.block.body;
        let group = self
            .get(body, "security_group_id")
            .map_or_else(|| Written::opaque(""), |value| self.written(&value));
        let mut peers = Vec::new();
        if let Some(peer) = self.get(body, "referenced_security_group_id") {
            let peer = self.written(&peer);
            peers.push(if peer == group {
                RulePeer::SelfGroup
            } else {
                RulePeer::Group(peer)
            });
        }
        for (key, kind) in [
            ("cidr_ipv4", CidrKind::Ipv4),
            ("cidr_ipv6", CidrKind::Ipv6),
            ("prefix_list_id", CidrKind::PrefixList),
        ] {
            if let Some(value) = self.get(body, key) {
                peers.push(RulePeer::Address {
                    kind,
                    value: self.scalar_text(&value),
                });
            }
        }
        let origin = Origin::Resource {
            address: address.to_string(),
        };
        self.rule(origin, direction, group, peers, body)
    }

    /// `cidr_blocks`, `ipv6_cidr_blocks`, `prefix_list_ids`: one peer per literal element,
    /// or the list expression as one.
    fn address_lists(&self, body: &Body) -> Vec<RulePeer> {
        let mut peers = Vec::new();
        for kind in [CidrKind::Ipv4, CidrKind::Ipv6, CidrKind::PrefixList] {
            let Some(value) = self.get(body, kind.list_attribute()) else {
                continue;
            };
            match &value.literal {
                Some(Literal::List(items)) => {
                    peers.extend(items.iter().map(|item| RulePeer::Address {
                        kind,
                        value: self.scalar_text(item),
                    }))
                }
                _ => peers.push(RulePeer::Address {
                    kind,
                    value: self.written(&value).text,
                }),
            }
        }
        peers
    }

    /// Inline `ingress { ... }` and `egress { ... }` blocks of an `aws_security_group`, and
    /// the iterations of its `dynamic "ingress"`/`"egress"` blocks whose collection is known;
    /// whether a `dynamic` block's collection is unknown.
    fn inline_rules(&self, group_name: &str) -> (Vec<DeclaredRule>, bool) {
        let mut rules = Vec::new();
        let mut unknown_dynamic = false;
        for block in &self.block.body.blocks {
            match block.kind.text.as_str() {
                "ingress" | "egress" => {
                    rules.push(self.inline_rule(group_name, block, &block.body, None));
                }
                "dynamic" if matches!(block.label(0), Some("ingress" | "egress")) => {
                    let content = block.body.blocks_of("content").next();
                    let iterations = self
                        .scope
                        .as_ref()
                        .and_then(|scope| eval::dynamic_iterations(block, scope));
                    match (content, iterations) {
                        (Some(content), Some(iterations)) => {
                            for scope in iterations {
                                let key = scope
                                    .iterators
                                    .last()
                                    .and_then(|(_, iterator)| iterator.get("key"))
                                    .map(values::iteration_name);
                                let reader = BlockReader {
                                    file: self.file,
                                    block: self.block,
                                    scope: Some(scope),
                                    instance: None,
                                };
                                let mut rule =
                                    reader.inline_rule(group_name, block, &content.body, key);
                                rule.repeated = true;
                                rules.push(rule);
                            }
                        }
                        _ => unknown_dynamic = true,
                    }
                }
                _ => {}
            }
        }
        (rules, unknown_dynamic)
    }

    /// One inline rule: `block` (an `ingress`/`egress` block, or a `dynamic` one whose
    /// `content` is `body`), as iteration `key` of a `dynamic` block.
    fn inline_rule(
        &self,
        group_name: &str,
        block: &Block,
        body: &Body,
        key: Option<String>,
    ) -> DeclaredRule {
        let kind = block.label(0).unwrap_or(&block.kind.text);
        let direction = if kind == "ingress" {
            Direction::Ingress
        } else {
            Direction::Egress
        };
        let mut peers = self.address_lists(body);
        if self.get(body, "self").and_then(|value| value.literal) == Some(Literal::Bool(true)) {
            peers.push(RulePeer::SelfGroup);
        }
        if let Some(groups) = self.get(body, "security_groups") {
            match groups.literal {
                Some(Literal::List(items)) => {
                    peers.extend(items.iter().map(|item| RulePeer::Group(self.written(item))))
                }
                _ => peers.push(RulePeer::Group(self.written(&groups))),
            }
        }
        let origin = Origin::Inline {
            group: format!("aws_security_group.{group_name}"),
        };
        let group_id = Written::group_id(false, group_name);
        let mut rule = self.rule(origin, direction, group_id, peers, body);
        rule.span = block.kind.span.clone();
        rule.block_span = block.span.clone();
        rule.parent_span = Some(self.block.span.clone());
        rule.repeated = false;
        rule.count = None;
        rule.instance = key;
        rule
    }
}

/// Protocols as the provider normalises them (`"TCP"`, `"6"` → `tcp`; `"all"` → `-1`).
pub fn canonical_protocol(text: &str) -> String {
    Protocol::from_literal(text).map_or_else(|| text.to_string(), |protocol| protocol.to_string())
}

/// A literal list element of a connection as text: a string's value, else as written.
fn literal_text(item: &SourceExpr) -> String {
    match item.tree.as_deref().map(|tree| &tree.kind) {
        Some(ExprKind::String(value)) => value.clone(),
        _ => squeeze(&item.text),
    }
}

/// An expression of a rule as written: its text, which is how the inventory compares and shows
/// it (layout squeezed out, a string that is one interpolation read as the expression inside,
/// Terraform's `resource.` prefix dropped), and its syntax tree, which is how it is read
/// ([`flows::group_key`], [`tree::Tree::resolve`]): never by scanning the text. Two are equal
/// when their texts are.
#[derive(Debug, Clone)]
pub struct Written {
    pub text: String,
    /// `None` for a value mutualsg made up (`each.value.KEY` of a `for_each` connection), and
    /// for a known value of no structure (a list that evaluation gave).
    pub tree: Option<Arc<Expr>>,
}

impl Written {
    /// `expr` of a file whose text is `source`.
    pub fn read(source: &str, expr: &Expr) -> Written {
        Written {
            text: Written::text_of(source, expr),
            tree: Some(Arc::new(expr.unwrapped().clone())),
        }
    }

    /// The text [`Written::read`] gives `expr`, without its tree.
    pub fn text_of(source: &str, expr: &Expr) -> String {
        let expr = expr.unwrapped();
        let span = expr
            .as_reference()
            .map_or_else(|| expr.span.clone(), |r| r.without_resource_prefix().span);
        squeeze(&source[span])
    }

    /// A value as the inventory reads it: its tree where it has one, else its literal's.
    pub fn of_value(source: &str, value: &SourceValue) -> Written {
        match (&value.tree, &value.literal) {
            (Some(tree), None) => Written::read(source, tree),
            _ => Written {
                text: squeeze(&value.text),
                tree: value.tree_or_literal(),
            },
        }
    }

    /// A connection's expression, read from its tree where it has one.
    fn of_source(source: &str, expr: &SourceExpr) -> Written {
        match &expr.tree {
            Some(tree) => Written::read(source, tree),
            None => Written::opaque(&expr.text),
        }
    }

    /// Text that has no tree: what mutualsg made up, a key.
    pub fn opaque(text: &str) -> Written {
        Written {
            text: text.to_string(),
            tree: None,
        }
    }

    /// `aws_security_group.NAME.id` (`data`: `data.aws_security_group.NAME.id`), the id of a
    /// group known by its name.
    pub fn group_id(data: bool, name: &str) -> Written {
        let (root, names): (&str, Vec<&str>) = if data {
            ("data", vec!["aws_security_group", name, "id"])
        } else {
            ("aws_security_group", vec![name, "id"])
        };
        let text = std::iter::once(root)
            .chain(names.iter().copied())
            .collect::<Vec<_>>()
            .join(".");
        Written {
            text,
            tree: Some(Arc::new(Expr::path(root, &names))),
        }
    }
}

impl PartialEq for Written {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Written {}

impl std::hash::Hash for Written {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl PartialEq<String> for Written {
    fn eq(&self, other: &String) -> bool {
        self.text == *other
    }
}

impl PartialEq<Written> for String {
    fn eq(&self, other: &Written) -> bool {
        *self == other.text
    }
}

impl PartialEq<&str> for Written {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl PartialOrd for Written {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Written {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl PartialEq<str> for Written {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl std::ops::Deref for Written {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::Written;

    /// `x = TEXT` read as the inventory reads a rule's argument.
    fn written(text: &str) -> String {
        let source = format!("x = {text}\n");
        let body = crate::syntax::parse(&source).unwrap();
        Written::read(&source, &body.attributes[0].value).text
    }

    #[test]
    fn one_interpolation_is_its_expression() {
        assert_eq!(written("\"${var.ips}\""), "var.ips");
        assert_eq!(
            written("\"${aws_security_group.a.id}\""),
            "aws_security_group.a.id"
        );
        assert_eq!(written("\"${var.a}-${var.b}\""), "\"${var.a}-${var.b}\"");
        assert_eq!(
            written("\"${lookup(var.m, \"k\")}\""),
            "lookup(var.m,\"k\")"
        );
        assert_eq!(written("var.x [0]"), "var.x[0]");
        assert_eq!(
            written("resource.aws_security_group.a.id"),
            "aws_security_group.a.id"
        );
        assert_eq!(
            written("\"${resource.aws_security_group.a.id}\""),
            "aws_security_group.a.id"
        );
    }
}
