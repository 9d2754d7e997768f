//! The security-group slice of one module directory: the part of a real module that the
//! offline stand-in provider can plan. A real module also declares instances, data sources,
//! module calls and variables nobody set here, which no offline plan can evaluate; the
//! rules, their groups and the `moved`/`import`/`removed` blocks are what a migration
//! changes, so the slice keeps those, with the locals and variables they read, and writes a
//! stand-in literal for every reference it cannot evaluate. A reference's stand-in is chosen
//! from its text alone, so the slice of the module before a migration and the slice after
//! read the same values wherever the two modules say the same thing.
//!
//! Parsed and rewritten with hcl-edit (a real HCL parser), never by text search.

use std::collections::{BTreeMap, BTreeSet};

use hcl_edit::expr::{Expression, ForExpr, Traversal, TraversalOperator};
use hcl_edit::structure::{Attribute, AttributeMut, Block, BlockLabel, Body};
use hcl_edit::template::{Element, ForDirective, StringTemplate, Template};
use hcl_edit::visit_mut::{self, VisitMut};
use hcl_edit::{Decorate, Ident};

/// How a stand-in string begins, so an error that names one is known for the slice's own.
pub const STAND_IN_PREFIX: &str = "standin-";

/// The resource types the stand-in provider knows.
pub const KEPT_TYPES: [&str; 4] = [
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
];

/// The file `migrate` writes its `moved`, `import` and `removed` blocks to.
const MIGRATE_FILE: &str = "mutual_rules.migrate.tf";

/// One `.tf` file of a module: its name and text.
pub struct File {
    pub name: String,
    pub text: String,
}

/// The slice's text, or why this module has none. `set`: the variables the module's
/// `terraform.tfvars` and `*.auto.tfvars` files set (Terraform reads them beside the slice).
pub fn slice(files: &[File], set: &BTreeSet<String>) -> Result<String, String> {
    let mut parsed = Vec::new();
    for file in files {
        let body = hcl_edit::parser::parse_body(&file.text)
            .map_err(|_| format!("{} is a file hcl-edit cannot parse", file.name))?;
        parsed.push((file.name.as_str(), body));
    }
    let mut module = Module {
        set: set.clone(),
        ..Module::default()
    };
    for (name, body) in &parsed {
        module.declare(name, body)?;
    }
    if module.blocks.is_empty() {
        return Err("no security-group resource".into());
    }
    Ok(module.render())
}

/// What one module declares, and the blocks the slice keeps.
#[derive(Default)]
struct Module {
    /// `TYPE.NAME` of each kept resource.
    resources: BTreeSet<String>,
    /// Each variable and whether it has a value (a default, or set by a variables file).
    variables: BTreeMap<String, (bool, Block)>,
    set: BTreeSet<String>,
    locals: BTreeMap<String, Expression>,
    aliases: BTreeSet<String>,
    blocks: Vec<Block>,
}

impl Module {
    fn declare(&mut self, file: &str, body: &Body) -> Result<(), String> {
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels.iter().map(BlockLabel::as_str).collect();
            match (block.ident.as_str(), labels.as_slice()) {
                ("resource", [kind, name]) if KEPT_TYPES.contains(kind) => {
                    self.resources.insert(format!("{kind}.{name}"));
                    self.blocks.push(resource(block));
                }
                ("variable", [name]) => {
                    let has_value = block.body.has_attribute("default") || self.set.contains(*name);
                    self.variables
                        .insert(name.to_string(), (has_value, block.clone()));
                }
                ("locals", []) => {
                    for attribute in block.body.attributes() {
                        self.locals
                            .insert(attribute.key.as_str().to_string(), attribute.value.clone());
                    }
                }
                ("provider", ["aws"]) => {
                    if let Some(alias) = block.body.get_attribute("alias")
                        && let Some(alias) = alias.value.as_str()
                    {
                        self.aliases.insert(alias.to_string());
                    }
                }
                ("moved" | "import" | "removed", []) => {
                    let ours = file == MIGRATE_FILE;
                    let names: Vec<String> = ["from", "to"]
                        .iter()
                        .filter_map(|key| block.body.get_attribute(key))
                        .map(|attribute| attribute.value.to_string().trim().to_string())
                        .collect();
                    let kept = |address: &String| {
                        KEPT_TYPES.iter().any(|kind| {
                            address
                                .strip_prefix(kind)
                                .is_some_and(|rest| rest.starts_with('.'))
                        })
                    };
                    if names.iter().all(kept) {
                        // The repository's own imports would read rules the stand-in never
                        // created; the slice's first apply creates them instead.
                        if ours || block.ident.as_str() != "import" {
                            self.blocks.push(block.clone());
                        }
                    } else if ours {
                        return Err(format!(
                            "`{}` names what the slice does not hold ({})",
                            block.ident.as_str(),
                            names.join(" -> ")
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The slice: the kept blocks rewritten, then the locals and variables they read, a
    /// provider for each alias, and the stand-in provider required.
    fn render(mut self) -> String {
        let mut rewriter = Rewriter {
            resources: &self.resources,
            defaults: self
                .variables
                .iter()
                .filter(|(_, (has_value, _))| *has_value)
                .map(|(name, _)| name.clone())
                .collect(),
            tainted: BTreeSet::new(),
            replaced: false,
            strict: false,
            scopes: Vec::new(),
            locals: BTreeSet::new(),
            variables: BTreeSet::new(),
            aliases: BTreeSet::new(),
        };
        rewriter.tainted = self.tainted_locals(&rewriter);
        let mut body = Body::new();
        for mut block in std::mem::take(&mut self.blocks) {
            rewriter.visit_block_mut(&mut block);
            body.push(block);
        }
        // `mutual_rules` is evaluated by Terraform whether or not a resource reads it.
        if self.locals.contains_key("mutual_rules") {
            rewriter.locals.insert("mutual_rules".into());
        }
        let mut locals = Block::new(Ident::new("locals"));
        let mut done = BTreeSet::new();
        while let Some(name) = rewriter.locals.difference(&done).next().cloned() {
            done.insert(name.clone());
            if let Some(mut value) = self.locals.get(&name).cloned() {
                rewriter.visit_expr_mut(&mut value);
                locals.body.push(Attribute::new(Ident::new(name), value));
            }
        }
        if !locals.body.is_empty() {
            body.push(locals);
        }
        for name in &rewriter.variables.clone() {
            if let Some((_, block)) = self.variables.get(name) {
                let mut block = block.clone();
                rewriter.visit_block_mut(&mut block);
                body.push(block);
            }
        }
        let mut text = String::from(
            "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\" }\n  }\n}\n\nprovider \"aws\" {}\n",
        );
        for alias in self.aliases.union(&rewriter.aliases) {
            text.push_str(&format!(
                "\nprovider \"aws\" {{\n  alias = \"{alias}\"\n}}\n"
            ));
        }
        text.push('\n');
        text.push_str(&body.to_string());
        text
    }
}

/// A kept resource without what only the whole module can honour: `depends_on` (which may
/// name anything) and the lifecycle's conditions and replacement triggers.
fn resource(block: &Block) -> Block {
    let mut block = block.clone();
    block.body.remove_attribute("depends_on");
    for lifecycle in block.body.get_blocks_mut("lifecycle") {
        lifecycle.body.remove_attribute("replace_triggered_by");
        lifecycle.body.remove_blocks("precondition");
        lifecycle.body.remove_blocks("postcondition");
    }
    block
}

/// Replaces each reference the slice cannot evaluate by its stand-in, and records the
/// locals, variables and provider aliases the slice reads.
struct Rewriter<'a> {
    resources: &'a BTreeSet<String>,
    /// Variables with a value.
    defaults: BTreeSet<String>,
    /// Locals that read a stand-in, directly or through other locals.
    tainted: BTreeSet<String>,
    /// Whether this rewriter replaced a reference.
    replaced: bool,
    /// Whether a tainted local is read as a stand-in (where a value is replaced whole);
    /// elsewhere the slice keeps it, with the stand-ins it reads.
    strict: bool,
    /// Names bound by the enclosing `for` expressions, `for` directives and `dynamic` blocks.
    scopes: Vec<String>,
    locals: BTreeSet<String>,
    variables: BTreeSet<String>,
    aliases: BTreeSet<String>,
}

impl Rewriter<'_> {
    /// Whether a reference from `root` through `steps` (its attribute names) evaluates in
    /// the slice; records what it reads.
    fn evaluates(&mut self, root: &str, steps: &[&str]) -> bool {
        if ["each", "count", "self", "path", "terraform"].contains(&root)
            || self.scopes.iter().any(|name| name == root)
        {
            return true;
        }
        match (root, steps) {
            ("local", [name, ..]) => {
                self.locals.insert(name.to_string());
                !(self.strict && self.tainted.contains(*name))
            }
            ("var", [name, ..]) if self.defaults.contains(*name) => {
                self.variables.insert(name.to_string());
                true
            }
            ("resource", [kind, name, ..]) => self.resources.contains(&format!("{kind}.{name}")),
            (kind, [name, ..]) => self.resources.contains(&format!("{kind}.{name}")),
            _ => false,
        }
    }
}

impl Rewriter<'_> {
    /// The stand-in for `traversal` if the slice cannot evaluate it.
    fn replacement(&mut self, traversal: &Traversal, kind: Option<Kind>) -> Option<Expression> {
        let Expression::Variable(root) = &traversal.expr else {
            return None;
        };
        let steps: Vec<&str> = traversal
            .operators
            .iter()
            .map_while(|operator| match &**operator {
                TraversalOperator::GetAttr(name) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        let evaluates = self.evaluates(root.as_str(), &steps);
        self.replaced |= !evaluates;
        (!evaluates).then(|| stand_in(traversal, kind))
    }

    /// A rewriter that reads as this one and records afresh.
    fn fresh(&self) -> Self {
        Rewriter {
            resources: self.resources,
            defaults: self.defaults.clone(),
            tainted: self.tainted.clone(),
            replaced: false,
            strict: true,
            scopes: self.scopes.clone(),
            locals: BTreeSet::new(),
            variables: BTreeSet::new(),
            aliases: BTreeSet::new(),
        }
    }

    /// Whether `expr` reads a stand-in, directly or through a tainted local.
    fn reads_stand_in(&self, expr: &Expression) -> bool {
        let mut dry = self.fresh();
        dry.visit_expr_mut(&mut expr.clone());
        dry.replaced
    }

    /// Replaces what `value`, the value of an argument taking `kind`, reads from stand-ins:
    /// a reference by its stand-in of that kind, a list element by element, a template
    /// interpolation by interpolation, anything else built from a stand-in by one literal
    /// (functions and operators then get no value of the wrong type).
    fn replace_value(&mut self, value: &mut Expression, kind: Kind) {
        let replacement = match &*value {
            Expression::Traversal(traversal) => {
                let strict = std::mem::replace(&mut self.strict, true);
                let replacement = self.replacement(traversal, Some(kind));
                self.strict = strict;
                replacement
            }
            Expression::Array(_) | Expression::StringTemplate(_) => None,
            _ if kind != Kind::One && self.reads_stand_in(value) => {
                self.replaced = true;
                Some(literal(hash(&normalised(value)), kind))
            }
            _ => None,
        };
        match (replacement, value) {
            (Some(mut literal), value) => {
                *literal.decor_mut() = value.decor().clone();
                *value = literal;
            }
            (None, Expression::Array(elements)) if kind.element() != kind => {
                for element in elements.iter_mut() {
                    self.replace_value(element, kind.element());
                }
            }
            (None, value) => self.visit_expr_mut(value),
        }
    }
}

impl Module {
    /// The locals that read a stand-in, directly or through other locals.
    fn tainted_locals(&self, rewriter: &Rewriter) -> BTreeSet<String> {
        let mut reader = rewriter.fresh();
        loop {
            let more: Vec<String> = self
                .locals
                .iter()
                .filter(|(name, value)| {
                    !reader.tainted.contains(*name) && reader.reads_stand_in(value)
                })
                .map(|(name, _)| name.clone())
                .collect();
            if more.is_empty() {
                return reader.tainted;
            }
            reader.tainted.extend(more);
        }
    }
}

impl VisitMut for Rewriter<'_> {
    fn visit_block_mut(&mut self, block: &mut Block) {
        match block.ident.as_str() {
            // Addresses and argument names, not values.
            "lifecycle" => {}
            "moved" | "removed" => {}
            "dynamic" => {
                let iterator = block
                    .body
                    .get_attribute("iterator")
                    .map(|attribute| attribute.value.to_string().trim().to_string())
                    .or_else(|| block.labels.first().map(|label| label.as_str().to_string()));
                self.scopes.extend(iterator.clone());
                visit_mut::visit_block_mut(self, block);
                if iterator.is_some() {
                    self.scopes.pop();
                }
            }
            "import" => {
                for mut attribute in block.body.attributes_mut() {
                    if attribute.get().key.as_str() != "to" {
                        self.visit_expr_mut(attribute.value_mut());
                    }
                }
            }
            _ => visit_mut::visit_block_mut(self, block),
        }
    }

    fn visit_attr_mut(&mut self, mut attribute: AttributeMut) {
        match attribute.get().key.as_str() {
            "provider" => {
                let text = attribute.get().value.to_string();
                if let Some(alias) = text.trim().strip_prefix("aws.") {
                    self.aliases.insert(alias.to_string());
                }
            }
            "iterator" => {}
            key => {
                // A reference that is the whole value of a rule's argument reads what the
                // argument takes.
                let kind = ARGUMENT_KINDS
                    .iter()
                    .find(|(argument, _)| *argument == key)
                    .map(|(_, kind)| *kind);
                match kind {
                    Some(kind) => self.replace_value(attribute.value_mut(), kind),
                    None => self.visit_expr_mut(attribute.value_mut()),
                }
            }
        }
    }

    fn visit_for_expr_mut(&mut self, node: &mut ForExpr) {
        self.visit_expr_mut(&mut node.intro.collection_expr);
        let bound = [node.intro.key_var.as_ref(), Some(&node.intro.value_var)]
            .into_iter()
            .flatten()
            .map(|ident| ident.as_str().to_string())
            .collect::<Vec<_>>();
        let depth = self.scopes.len();
        self.scopes.extend(bound);
        if let Some(key) = &mut node.key_expr {
            self.visit_expr_mut(key);
        }
        self.visit_expr_mut(&mut node.value_expr);
        if let Some(cond) = &mut node.cond {
            self.visit_expr_mut(&mut cond.expr);
        }
        self.scopes.truncate(depth);
    }

    fn visit_for_directive_mut(&mut self, node: &mut ForDirective) {
        let expr = &mut node.for_expr;
        self.visit_expr_mut(&mut expr.collection_expr);
        let depth = self.scopes.len();
        self.scopes.extend(
            [expr.key_var.as_ref(), Some(&expr.value_var)]
                .into_iter()
                .flatten()
                .map(|ident| ident.as_str().to_string()),
        );
        self.visit_template_mut(&mut expr.template);
        self.scopes.truncate(depth);
    }

    /// An interpolation built from a stand-in (`${jsondecode(data.http.x.body)["ip"]}/32`)
    /// is one literal: an address when a `/` follows it, else a string.
    fn visit_string_template_mut(&mut self, template: &mut StringTemplate) {
        self.visit_template_mut(template);
    }

    fn visit_template_mut(&mut self, template: &mut Template) {
        for at in 0..template.len() {
            let address = matches!(
                template.get(at + 1),
                Some(Element::Literal(text)) if text.starts_with('/')
            );
            let Some(element) = template.get_mut(at) else {
                continue;
            };
            match element {
                Element::Interpolation(interpolation)
                    if !matches!(interpolation.expr, Expression::Traversal(_))
                        && self.reads_stand_in(&interpolation.expr) =>
                {
                    self.replaced = true;
                    let h = hash(&normalised(&interpolation.expr));
                    interpolation.expr = if address {
                        format!("10.{}.{}.{}", (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff).into()
                    } else {
                        literal(h, Kind::Text)
                    };
                }
                // A reference read as a string reads a tainted local's stand-in, as the
                // same reference does where an argument takes it whole.
                Element::Interpolation(interpolation) => {
                    let strict = std::mem::replace(&mut self.strict, true);
                    self.visit_expr_mut(&mut interpolation.expr);
                    self.strict = strict;
                }
                element => self.visit_element_mut(element),
            }
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut Expression) {
        let replacement = match &*expr {
            Expression::Traversal(traversal) => self.replacement(traversal, None),
            _ => None,
        };
        match replacement {
            Some(mut literal) => {
                *literal.decor_mut() = expr.decor().clone();
                *expr = literal;
            }
            None => visit_mut::visit_expr_mut(self, expr),
        }
    }
}

/// A reference's text without comments or spacing, as both slices spell it.
fn reference_text(traversal: &Traversal) -> String {
    let mut text = traversal.expr.to_string().trim().to_string();
    for operator in &traversal.operators {
        match &**operator {
            TraversalOperator::GetAttr(name) => text.push_str(&format!(".{}", name.as_str())),
            TraversalOperator::Index(index) => {
                text.push_str(&format!("[{}]", index.to_string().trim()))
            }
            TraversalOperator::LegacyIndex(index) => text.push_str(&format!(".{}", **index)),
            TraversalOperator::AttrSplat(_) => text.push_str(".*"),
            TraversalOperator::FullSplat(_) => text.push_str("[*]"),
        }
    }
    text
}

/// An expression's text as hcl-rs formats it, without comments or the author's spacing.
fn normalised(expr: &Expression) -> String {
    let expr = hcl::Expression::from(expr.clone());
    hcl::format::to_string(&expr).unwrap_or_else(|_| format!("{expr:?}"))
}

/// FNV-1a: a hash that stays the same across runs and Rust versions.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// What a stand-in is, when the argument it is the value of says.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Group,
    Groups,
    Cidr,
    Cidrs,
    Ipv6,
    Ipv6s,
    PrefixList,
    PrefixLists,
    Port,
    Protocol,
    Vpc,
    On,
    One,
    Map,
    Text,
}

impl Kind {
    /// What each element of a list of this kind is.
    fn element(self) -> Kind {
        match self {
            Kind::Groups => Kind::Group,
            Kind::Cidrs => Kind::Cidr,
            Kind::Ipv6s => Kind::Ipv6,
            Kind::PrefixLists => Kind::PrefixList,
            kind => kind,
        }
    }
}

/// The rule and group arguments whose value says what a stand-in must be.
const ARGUMENT_KINDS: [(&str, Kind); 22] = [
    ("tags", Kind::Map),
    ("name", Kind::Text),
    ("name_prefix", Kind::Text),
    ("description", Kind::Text),
    ("security_group_id", Kind::Group),
    ("source_security_group_id", Kind::Group),
    ("referenced_security_group_id", Kind::Group),
    ("security_groups", Kind::Groups),
    ("cidr_ipv4", Kind::Cidr),
    ("cidr_blocks", Kind::Cidrs),
    ("cidr_ipv6", Kind::Ipv6),
    ("ipv6_cidr_blocks", Kind::Ipv6s),
    ("prefix_list_id", Kind::PrefixList),
    ("prefix_list_ids", Kind::PrefixLists),
    ("from_port", Kind::Port),
    ("to_port", Kind::Port),
    ("protocol", Kind::Protocol),
    ("ip_protocol", Kind::Protocol),
    ("vpc_id", Kind::Vpc),
    ("self", Kind::On),
    ("revoke_rules_on_delete", Kind::On),
    ("count", Kind::One),
];

/// The literal of `kind` for the text hashing to `h`.
fn literal(h: u64, kind: Kind) -> Expression {
    let hex = format!("{h:017x}");
    let hex = &hex[hex.len() - 17..];
    let cidr = format!("10.{}.{}.0/24", (h >> 8) & 0xff, h & 0xff);
    let ipv6 = format!("2001:db8:{:x}::/48", h & 0xffff);
    let one = |element: String| Expression::from(vec![Expression::from(element)]);
    match kind {
        Kind::Group => format!("sg-{hex}").into(),
        Kind::Groups => one(format!("sg-{hex}")),
        Kind::Cidr => cidr.into(),
        Kind::Cidrs => one(cidr),
        Kind::Ipv6 => ipv6.into(),
        Kind::Ipv6s => one(ipv6),
        Kind::PrefixList => format!("pl-{hex}").into(),
        Kind::PrefixLists => one(format!("pl-{hex}")),
        Kind::Port => hcl_edit::Number::from(1024 + h % 60_000).into(),
        Kind::Protocol => "tcp".into(),
        Kind::Vpc => format!("vpc-{hex}").into(),
        Kind::On => true.into(),
        Kind::One => hcl_edit::Number::from(1u64).into(),
        Kind::Map => {
            let mut map = hcl_edit::expr::Object::new();
            map.insert(
                hcl_edit::expr::ObjectKey::Ident(Ident::new("standin").into()),
                hcl_edit::expr::ObjectValue::new(format!("{h:016x}")),
            );
            map.into()
        }
        Kind::Text => format!("{STAND_IN_PREFIX}{:08x}", h & 0xffff_ffff).into(),
    }
}

/// The literal a reference is read as: what the argument it is the whole value of takes,
/// else what the name of what it reads says (its last attribute, or a string key): an id
/// of that kind, an address block, a port, a switch that is on, or a string; a list of one
/// when it reads a list (a splat, a plural name).
fn stand_in(traversal: &Traversal, kind: Option<Kind>) -> Expression {
    let text = reference_text(traversal);
    let h = hash(&text);
    if let Some(kind) = kind {
        return literal(h, kind);
    }
    let name = traversal
        .operators
        .iter()
        .rev()
        .find_map(|operator| match &**operator {
            TraversalOperator::GetAttr(name) => Some(name.as_str().to_ascii_lowercase()),
            TraversalOperator::Index(Expression::String(key)) => Some(key.to_ascii_lowercase()),
            _ => None,
        })
        .unwrap_or_default();
    let splat = traversal.operators.iter().any(|operator| {
        matches!(
            &**operator,
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_)
        )
    });
    let plural = splat
        || [
            "ids",
            "blocks",
            "cidrs",
            "ranges",
            "groups",
            "subnets",
            "ips",
            "addresses",
        ]
        .iter()
        .any(|end| name.ends_with(end));
    let is = |part: &str| name.contains(part);
    let (single, list) = if is("cidr") && is("ipv6") {
        (Kind::Ipv6, Kind::Ipv6s)
    } else if is("cidr") || is("ip_range") || name.ends_with("ips") || is("address") {
        (Kind::Cidr, Kind::Cidrs)
    } else if is("prefix_list") || text.contains("prefix_list") {
        (Kind::PrefixList, Kind::PrefixLists)
    } else if is("port") {
        (Kind::Port, Kind::Port)
    } else if ["enable", "create", "is_", "use_", "has_"]
        .iter()
        .any(|start| name.starts_with(start))
    {
        (Kind::On, Kind::On)
    } else if is("vpc") {
        (Kind::Vpc, Kind::Vpc)
    } else if name == "id"
        || name.ends_with("_id")
        || name.ends_with("ids")
        || is("security_group")
        || is("sg")
    {
        (Kind::Group, Kind::Groups)
    } else {
        (Kind::Text, Kind::Text)
    };
    literal(h, if plural { list } else { single })
}
