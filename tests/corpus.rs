//! `mutualsg migrate` on real repositories, checked by a reader of its own: the public
//! repositories named in `tests/data/corpus.tsv` (by commit; never copied into this repo),
//! checked out under `MUTUALSG_CORPUS_DIR/<owner>+<name>` (`benches/corpus-migrate.sh` does it).
//! Skipped without that variable.
//!
//! Each module directory that declares a rule resource is copied, migrated with `--write`
//! (once per output style), and read before and after with hcl-rs, a parser independent of
//! mutualsg's own: every rule resource before is either still there with the same arguments,
//! or moved (by a `moved` block of `mutual_rules.migrate.tf`) to a rule with the same type,
//! group, peer, protocol, ports, description and every meta-argument, or (an `aws_vpc_*` rule
//! in the default style, which changes type) forgotten by a `removed` block and held by an
//! imported rule equal to it as `aws_security_group_rule` reads it. A group `migrate` moves
//! out of a call of `terraform-aws-modules/security-group/aws` (`moved` from
//! `module.CALL.aws_security_group.this[_name_prefix][0]`) must carry the call's name,
//! description, VPC and tags as the module's `main.tf` gives them, the call must be gone and
//! forgotten by a `removed` block (its rules adopted by `import` blocks), and the call's
//! outputs (`module.CALL.security_group_id`) read as the group's attributes. The test prints, per
//! repository and style, the egress/ingress pairs this reader finds, how many moved, and why
//! the others were left (from mutualsg's warnings).
//!
//! A third pass locks down (`migrate --add-egress --write`): every rule is kept as above or
//! adopted by an `import` block, the only new rules are generated egress halves, and the
//! coverage is printed: the share of rules with a security-group peer (rule resources, and
//! the group peers and `self` of inline blocks) that end under `mutual_rules`, the rest by
//! reason. `MUTUALSG_CORPUS_LIST` names another list than `tests/data/corpus.tsv`
//! (`tests/data/lockdown.tsv`: the trees the lockdown figures come from).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use hcl::{Block, Body, Expression};

const RULE_TYPES: [&str; 3] = [
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
];

/// The registry module whose calls `migrate` turns into a group and rules.
const GROUP_MODULE: &str = "terraform-aws-modules/security-group/aws";

/// The module's outputs that name its group, and the group's attribute each is.
const GROUP_MODULE_OUTPUTS: [(&str, &str); 6] = [
    ("security_group_id", "id"),
    ("security_group_arn", "arn"),
    ("security_group_vpc_id", "vpc_id"),
    ("security_group_owner_id", "owner_id"),
    ("security_group_name", "name"),
    ("security_group_description", "description"),
];

/// One rule resource: its type and every argument and nested block, normalised where the
/// provider reads two spellings as one (`"TCP"`/`tcp`, `"443"`/`443`, `C ? 0 : 1`/`!(C) ? 1 : 0`).
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    kind: String,
    arguments: BTreeMap<String, String>,
}

fn format(expr: &Expression) -> String {
    match expr {
        // `"${x}"` is `x` (terraform fmt unwraps it too).
        Expression::TemplateExpr(template) => {
            let text = template.to_string();
            match text
                .strip_prefix("\"${")
                .and_then(|rest| rest.strip_suffix("}\""))
            {
                Some(inner) if !inner.contains("${") => inner.trim().to_string(),
                _ => text,
            }
        }
        Expression::Parenthesis(inner) => format(inner),
        _ => hcl::format::to_string(expr).unwrap_or_else(|_| format!("{expr:?}")),
    }
}

/// An expression as hcl-rs writes it, quotes and templates as they are (no normalising).
fn raw(expr: &Expression) -> String {
    hcl::format::to_string(expr).unwrap_or_else(|_| format!("{expr:?}"))
}

fn canonical_protocol(text: &str) -> String {
    match text.to_ascii_lowercase().as_str() {
        "tcp" | "6" => "tcp".into(),
        "udp" | "17" => "udp".into(),
        "icmp" | "1" => "icmp".into(),
        "icmpv6" | "58" => "icmpv6".into(),
        "all" | "-1" => "-1".into(),
        other => other.into(),
    }
}

/// `count` as (whether the rules exist when the condition holds, the condition).
fn canonical_count(expr: &Expression) -> String {
    if let Expression::Conditional(conditional) = expr {
        let number = |expr: &Expression| match expr {
            Expression::Number(n) => n.as_i64(),
            _ => None,
        };
        let mut condition = &conditional.cond_expr;
        let mut positive = match (
            number(&conditional.true_expr),
            number(&conditional.false_expr),
        ) {
            (Some(1), Some(0)) => true,
            (Some(0), Some(1)) => false,
            _ => return format!("count:{}", format(expr)),
        };
        while let Expression::Parenthesis(inner) = condition {
            condition = inner;
        }
        if let Expression::Operation(operation) = condition
            && let hcl::expr::Operation::Unary(unary) = operation.as_ref()
            && unary.operator == hcl::expr::UnaryOperator::Not
        {
            positive = !positive;
            condition = &unary.expr;
        }
        return format!("{positive}:{}", format(condition));
    }
    format!("count:{}", format(expr))
}

fn read_rule(kind: &str, body: &Body) -> Rule {
    let mut arguments = BTreeMap::new();
    for attribute in body.attributes() {
        let (key, expr) = (attribute.key(), attribute.expr());
        let value = match (key, expr) {
            (_, Expression::Null) => continue,
            ("self", Expression::Bool(false)) => continue,
            ("protocol" | "ip_protocol", Expression::String(text)) => canonical_protocol(text),
            ("protocol" | "ip_protocol", Expression::Number(n)) => {
                canonical_protocol(&n.to_string())
            }
            ("from_port" | "to_port", Expression::String(text)) if text.parse::<i64>().is_ok() => {
                text.clone()
            }
            ("count", expr) => canonical_count(expr),
            (_, expr) => format(expr),
        };
        arguments.insert(key.to_string(), value);
    }
    for block in body.blocks() {
        for attribute in block.body().attributes() {
            arguments.insert(
                format!("{}.{}", block.identifier(), attribute.key()),
                format(attribute.expr()),
            );
        }
        if block.body().attributes().next().is_none() {
            arguments.insert(block.identifier().to_string(), String::new());
        }
    }
    // One instance at most: its `count.index` is 0.
    if arguments
        .get("count")
        .is_some_and(|count| !count.starts_with("count:"))
    {
        for (key, value) in arguments.iter_mut() {
            if key != "count" {
                *value = value.replace("count.index", "0");
            }
        }
    }
    for value in arguments.values_mut() {
        *value = first_instance(value);
    }
    Rule {
        kind: kind.to_string(),
        arguments,
    }
}

/// The rule resources and `moved` blocks of one module directory; files hcl-rs cannot read
/// are counted.
#[derive(Default)]
struct ModuleRules {
    rules: BTreeMap<String, Rule>,
    moved: Vec<(String, String)>,
    /// Rules of `mutual_rules.gen.tf`.
    generated: BTreeSet<String>,
    /// The `to` of the `import` blocks `migrate` wrote.
    imported: BTreeSet<String>,
    /// The `from` of the `removed` blocks `migrate` wrote (rules that change type).
    removed: BTreeSet<String>,
    /// Inline rules with a group peer (one per group listed, one for `self = true`), by group.
    inline_group_rules: BTreeMap<String, usize>,
    /// The arguments of each `aws_security_group`, by address.
    groups: BTreeMap<String, BTreeMap<String, String>>,
    /// The arguments of each call of `terraform-aws-modules/security-group/aws`, by call name.
    group_module_calls: BTreeMap<String, BTreeMap<String, String>>,
    unreadable: usize,
}

fn read_module(dir: &Path) -> ModuleRules {
    let mut module = ModuleRules::default();
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "tf" || ext == "tofu")
        })
        .collect();
    paths.sort();
    for path in paths {
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let Ok(body) = hcl::parse(&text) else {
            module.unreadable += usize::from(text.contains("_rule\""));
            continue;
        };
        // The moved blocks `migrate` wrote; those the repository had are not ours to check.
        let ours = path
            .file_name()
            .is_some_and(|name| name == "mutual_rules.migrate.tf");
        let generated = path
            .file_name()
            .is_some_and(|name| name == "mutual_rules.gen.tf");
        for block in body.blocks() {
            if !["moved", "import", "removed"].contains(&block.identifier()) || ours {
                let known: BTreeSet<String> = module.rules.keys().cloned().collect();
                read_block(block, &mut module);
                if generated {
                    module.generated.extend(
                        module
                            .rules
                            .keys()
                            .filter(|key| !known.contains(*key))
                            .cloned(),
                    );
                }
            }
        }
    }
    module
}

fn read_block(block: &Block, module: &mut ModuleRules) {
    let labels: Vec<&str> = block.labels().iter().map(|label| label.as_str()).collect();
    match (block.identifier(), labels.as_slice()) {
        ("resource", [kind, name]) if RULE_TYPES.contains(kind) => {
            module
                .rules
                .insert(format!("{kind}.{name}"), read_rule(kind, block.body()));
        }
        ("module", [name]) => {
            let arguments: BTreeMap<String, String> = block
                .body()
                .attributes()
                .map(|attribute| (attribute.key().to_string(), raw(attribute.expr())))
                .collect();
            let source = arguments.get("source").map_or("", |s| s.trim_matches('"'));
            if source.trim_start_matches("registry.terraform.io/") == GROUP_MODULE {
                module
                    .group_module_calls
                    .insert(name.to_string(), arguments);
            }
        }
        ("resource", ["aws_security_group", name]) => {
            module.groups.insert(
                format!("aws_security_group.{name}"),
                block
                    .body()
                    .attributes()
                    .map(|attribute| (attribute.key().to_string(), raw(attribute.expr())))
                    .collect(),
            );
            let mut count = 0;
            for inline in block.body().blocks() {
                if !["ingress", "egress"].contains(&inline.identifier()) {
                    continue;
                }
                for attribute in inline.body().attributes() {
                    count += match (attribute.key(), attribute.expr()) {
                        ("security_groups", Expression::Array(groups)) => groups.len(),
                        ("security_groups", Expression::Null) => 0,
                        ("security_groups", _) => 1,
                        ("self", Expression::Bool(true)) => 1,
                        _ => 0,
                    };
                }
            }
            if count > 0 {
                module
                    .inline_group_rules
                    .insert(format!("aws_security_group.{name}"), count);
            }
        }
        ("import", []) => {
            if let Some(to) = block
                .body()
                .attributes()
                .find(|attribute| attribute.key() == "to")
            {
                module.imported.insert(format(to.expr()));
            }
        }
        ("removed", []) => {
            if let Some(from) = block
                .body()
                .attributes()
                .find(|attribute| attribute.key() == "from")
            {
                module.removed.insert(format(from.expr()));
            }
        }
        ("moved", []) => {
            let get = |key: &str| {
                block
                    .body()
                    .attributes()
                    .find(|attribute| attribute.key() == key)
                    .map(|attribute| format(attribute.expr()))
            };
            if let (Some(from), Some(to)) = (get("from"), get("to")) {
                module.moved.push((from, to));
            }
        }
        _ => {}
    }
}

/// (direction, group, peer, traffic) of a rule, to find its pair.
type Identity = (String, String, String, String);

/// `try(X, null)`, what a connection of a rule with `count` or `for_each` reads of another
/// counted object's first instance, as `X`, what the rule read (the same value where the rule
/// has an instance).
fn first_instance(text: &str) -> String {
    let Some(start) = text.find("try(") else {
        return text.to_string();
    };
    let mut depth = 0;
    let end = text[start + 3..].char_indices().find_map(|(at, c)| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        (depth == 0).then_some(start + 3 + at)
    });
    match end.and_then(|end| Some((end, text[start + 4..end].strip_suffix(", null")?))) {
        Some((end, inner)) if inner.contains("[0]") => format!(
            "{}{inner}{}",
            &text[..start],
            first_instance(&text[end + 1..])
        ),
        _ => text.to_string(),
    }
}

fn identity(rule: &Rule) -> Option<Identity> {
    let get = |key: &str| rule.arguments.get(key).cloned();
    let group = get("security_group_id")?;
    let (direction, peer, protocol) = if rule.kind == "aws_security_group_rule" {
        let peer = if get("self").as_deref() == Some("true") {
            "self".to_string()
        } else {
            get("source_security_group_id")?
        };
        if ["cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"]
            .iter()
            .any(|key| rule.arguments.contains_key(*key))
        {
            return None;
        }
        (
            get("type")?.trim_matches('"').to_string(),
            peer,
            get("protocol")?,
        )
    } else {
        let mut peer = get("referenced_security_group_id")?;
        if peer == group {
            peer = "self".into();
        }
        let direction = if rule.kind.contains("ingress") {
            "ingress"
        } else {
            "egress"
        };
        (direction.to_string(), peer, get("ip_protocol")?)
    };
    let ports = if protocol == "-1" {
        String::new()
    } else {
        format!("{:?}-{:?}", get("from_port"), get("to_port"))
    };
    Some((direction, group, peer, format!("{protocol} {ports}")))
}

/// The egress/ingress pairs among a module's rules of one family, each as its two addresses.
fn pairs(rules: &BTreeMap<String, Rule>, vpc: bool) -> Vec<(String, String)> {
    let family = |rule: &Rule| (rule.kind != "aws_security_group_rule") == vpc;
    let identities: Vec<(&String, Identity)> = rules
        .iter()
        .filter(|(_, rule)| family(rule))
        .filter_map(|(address, rule)| Some((address, identity(rule)?)))
        .collect();
    let mut taken = BTreeSet::new();
    let mut found = Vec::new();
    for (egress, (direction, group, peer, traffic)) in &identities {
        if direction != "egress" {
            continue;
        }
        let partner = identities.iter().find(|(ingress, (d, g, p, t))| {
            d == "ingress"
                && t == traffic
                && !taken.contains(*ingress)
                && if peer == "self" {
                    p == "self" && g == group
                } else {
                    g == peer && p == group
                }
        });
        if let Some((ingress, _)) = partner {
            taken.insert((*ingress).clone());
            found.push(((*egress).clone(), (*ingress).clone()));
        }
    }
    found
}

/// mutualsg's "… is left as it is: REASON" warnings, narrated, as (file, text naming the rules,
/// reason with its varying parts elided).
fn left_warnings(stderr: &str) -> Vec<(String, String, String)> {
    let mut warnings = Vec::new();
    let mut lines = stderr.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(start) = line.trim_start().strip_prefix("⚠ ") else {
            continue;
        };
        let mut message = start.to_string();
        let mut file = String::new();
        for next in lines.by_ref() {
            let next = next.trim_start();
            if let Some(location) = next.strip_prefix("╭─[") {
                file = location.split(':').next().unwrap_or_default().to_string();
                break;
            }
            let continued = next.trim_start_matches('│').trim();
            if continued.is_empty() {
                break;
            }
            message.push(' ');
            message.push_str(continued);
        }
        if let Some((what, reason)) = message.split_once(" is left as it is: ") {
            let reason = match reason.split_once("`count = ") {
                Some((before, rest)) => format!(
                    "{before}`count = …`{}",
                    rest.split_once('`').map_or("", |(_, after)| after)
                ),
                None => reason.to_string(),
            };
            warnings.push((file, what.to_string(), reason));
        }
    }
    warnings
}

/// What one repository gave in one style.
#[derive(Default)]
struct Figures {
    modules: usize,
    found: usize,
    migrated: usize,
    left: BTreeMap<String, usize>,
    failures: Vec<String>,
    /// Lockdown: rules with a security-group peer, those under `mutual_rules` after, the
    /// egress halves written, and the rest by reason.
    peer_rules: usize,
    covered: usize,
    new_egress: usize,
    uncovered: BTreeMap<String, usize>,
}

/// A generated `for_each` rule as the rule it was moved from reads: its `for_each` is
/// `{for key, rule in X : key => { k = EXPR … }}` and its arguments read `each.value.k`,
/// which is `X` with `each.value.k` read as EXPR (`rule.` for `each.value.`).
/// Whether a rule after the migration is the rule `before`: the same arguments (a generated
/// `for_each` unfolded), but `depends_on`, which may list more (a connection made of two
/// halves waits for what either waited for; it orders operations only).
fn holds(after: &Rule, before: &Rule) -> bool {
    let items = |rule: &Rule| -> Vec<String> {
        rule.arguments
            .get("depends_on")
            .map(|list| {
                list.trim_matches(['[', ']'])
                    .split(',')
                    .map(|item| item.trim().to_string())
                    .filter(|item| !item.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut after = unfold_for_each(after);
    let waits_for_more = items(before)
        .iter()
        .all(|item| items(&after).contains(item));
    after.arguments.remove("depends_on");
    let mut before = before.clone();
    before.arguments.remove("depends_on");
    after == before && waits_for_more
}

fn unfold_for_each(rule: &Rule) -> Rule {
    let Some(for_each) = rule.arguments.get("for_each") else {
        return rule.clone();
    };
    let Some((collection, rest)) = for_each
        .strip_prefix("{for key, rule in ")
        .and_then(|rest| rest.split_once(" : key => {\n"))
    else {
        return rule.clone();
    };
    let Some(fields) = rest.strip_suffix("\n}}") else {
        return rule.clone();
    };
    // `rule` is `each.value`, whole (a set's element) or with its attributes (`rule.port`),
    // and `key` is `each.key`.
    let as_each = |text: &str| {
        let mut out = text.to_string();
        for (variable, each) in [("rule", "each.value"), ("key", "each.key")] {
            let text = std::mem::take(&mut out);
            let mut last = 0;
            for (at, _) in text.match_indices(variable) {
                let before = text[..at].chars().next_back();
                let after = text[at + variable.len()..].chars().next();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '"')
                    || after
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '"')
                {
                    continue;
                }
                out.push_str(&text[last..at]);
                out.push_str(each);
                last = at + variable.len();
            }
            out.push_str(&text[last..]);
        }
        out
    };
    let fields: BTreeMap<String, String> = fields
        .lines()
        .filter_map(|line| line.trim().split_once(" = "))
        // A string reads as its text, as a rule's own string arguments do.
        .map(|(key, value)| {
            let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(text) => text,
                None => value,
            };
            (format!("each.value.{key}"), as_each(value))
        })
        .collect();
    let mut unfolded = rule.clone();
    unfolded
        .arguments
        .insert("for_each".to_string(), collection.to_string());
    for value in unfolded.arguments.values_mut() {
        if let Some(field) = fields.get(value.as_str()) {
            *value = field.clone();
        }
    }
    unfolded
}

/// A rule as an `aws_security_group_rule` holds it in AWS, to compare an `aws_vpc_*` rule with
/// the `aws_security_group_rule` that imports it: `referenced_security_group_id` is
/// `source_security_group_id`, `ip_protocol` is `protocol`, the type is the direction, `self`
/// is the own group named, and all traffic has no ports.
fn as_security_group_rule(rule: &Rule) -> Rule {
    let mut arguments = rule.arguments.clone();
    if rule.kind != "aws_security_group_rule" {
        let direction = if rule.kind.contains("ingress") {
            "ingress"
        } else {
            "egress"
        };
        arguments.insert("type".into(), format!("\"{direction}\""));
        for (from, to) in [
            ("referenced_security_group_id", "source_security_group_id"),
            ("ip_protocol", "protocol"),
        ] {
            if let Some(value) = arguments.remove(from) {
                arguments.insert(to.into(), value);
            }
        }
    }
    if arguments.get("self").is_some_and(|value| value == "true") {
        arguments.remove("self");
        if let Some(group) = arguments.get("security_group_id").cloned() {
            arguments.insert("source_security_group_id".into(), group);
        }
    }
    if arguments.get("protocol").is_some_and(|value| value == "-1") {
        arguments.remove("from_port");
        arguments.remove("to_port");
    }
    Rule {
        kind: "aws_security_group_rule".into(),
        arguments,
    }
}

/// An HCL expression's text as hcl-rs formats it, to compare two spellings of one value.
fn normalise_expression(text: &str) -> String {
    match hcl::parse(&format!("value = {text}\n")) {
        Ok(body) => body
            .attributes()
            .next()
            .map_or_else(|| text.to_string(), |attribute| raw(attribute.expr())),
        Err(_) => text.to_string(),
    }
}

/// `text` with every whole reference `from` (not followed by more of a name) read as `to`.
fn replace_reference(text: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let after = &rest[at + from.len()..];
        out.push_str(&rest[..at]);
        if after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A group moved from `module.CALL.aws_security_group.this[_name_prefix][0]` to `to`: the
/// call was one of the security-group module's, it is gone after, forgotten whole by a
/// `removed` block (its rules are adopted by `import` blocks), and `to` says what the module's
/// `main.tf` gives its group from the call: `name` (or `name_prefix` = name + "-", the
/// module's default), `description` (default "Security Group managed by Terraform"),
/// `vpc_id`, `revoke_rules_on_delete`, and `tags` = `merge({"Name" = name}, tags)`.
fn check_group_from_call(
    call: &str,
    resource: &str,
    to: &str,
    before: &ModuleRules,
    after: &ModuleRules,
) -> Result<(), String> {
    let arguments = before
        .group_module_calls
        .get(call)
        .ok_or_else(|| format!("{call} is no call of {GROUP_MODULE}"))?;
    let get = |key: &str| arguments.get(key).map(String::as_str);
    let use_name_prefix = get("use_name_prefix") != Some("false");
    let wanted = if use_name_prefix {
        "aws_security_group.this_name_prefix[0]"
    } else {
        "aws_security_group.this[0]"
    };
    if resource != wanted || get("create_sg") == Some("false") || get("create") == Some("false") {
        return Err(format!("the call creates {wanted}, not {resource}"));
    }
    if after.group_module_calls.contains_key(call) {
        return Err("the call is still there".into());
    }
    if !after.removed.contains(&format!("module.{call}")) {
        return Err(format!("no `removed` block forgets module.{call}"));
    }
    let group = after
        .groups
        .get(to)
        .ok_or_else(|| format!("{to} is not declared"))?;
    let name = get("name").ok_or("the call has no `name`")?;
    let mut expected: Vec<(&str, Option<String>)> = vec![
        (
            "description",
            Some(
                get("description")
                    .unwrap_or("\"Security Group managed by Terraform\"")
                    .to_string(),
            ),
        ),
        ("vpc_id", get("vpc_id").map(str::to_string)),
        (
            "revoke_rules_on_delete",
            get("revoke_rules_on_delete")
                .filter(|revoke| *revoke != "false")
                .map(str::to_string),
        ),
    ];
    if use_name_prefix {
        let prefix = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
            Some(literal) => format!("\"{literal}-\""),
            None => format!("\"${{{name}}}-\""),
        };
        expected.push(("name_prefix", Some(prefix)));
    } else {
        expected.push(("name", Some(name.to_string())));
    }
    let name_tag = format!("{{ \"Name\" = {name} }}");
    let tags = match get("tags") {
        Some(tags) => format!("merge({name_tag}, {tags})"),
        None => name_tag,
    };
    expected.push(("tags", Some(normalise_expression(&tags))));
    for (key, value) in expected {
        let found = group.get(key).map(|text| {
            if key == "tags" {
                normalise_expression(text)
            } else {
                text.clone()
            }
        });
        if found != value {
            return Err(format!(
                "its `{key}` is {found:?}, the call's group {value:?}"
            ));
        }
    }
    Ok(())
}

/// Whether a rule resource's peer is a security group (or its own group).
fn has_group_peer(rule: &Rule) -> bool {
    rule.arguments.contains_key("source_security_group_id")
        || rule.arguments.contains_key("referenced_security_group_id")
        || rule
            .arguments
            .get("self")
            .is_some_and(|value| value == "true")
}

fn migrate_copy(repo: &Path, dirs: &[PathBuf], vpc: bool, lockdown: bool) -> Figures {
    let work = assert_fs::TempDir::new().unwrap();
    let mut figures = Figures::default();
    for dir in dirs {
        let relative = dir.strip_prefix(repo).unwrap();
        let target = work.path().join(relative);
        fs::create_dir_all(&target).unwrap();
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() && path.extension().is_some_and(|e| e == "tf" || e == "tofu") {
                fs::copy(&path, target.join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    if vpc {
        fs::write(
            work.path().join(".mutualsg.toml"),
            "style = \"aws_vpc_security_group_rule\"\n",
        )
        .unwrap();
    }
    let before: Vec<ModuleRules> = dirs
        .iter()
        .map(|dir| read_module(&work.path().join(dir.strip_prefix(repo).unwrap())))
        .collect();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_mutualsg"));
    let output = command
        .current_dir(work.path())
        .env("NO_GRAPHICS", "1")
        .args(["--color", "never", "migrate", "--write", "."])
        .args(lockdown.then_some("--add-egress"))
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    if output.status.code() != Some(0) {
        let errors: Vec<&str> = stderr
            .split("\n\n")
            .filter(|report| report.contains('×') || report.contains("Error:"))
            .collect();
        figures.failures.push(format!(
            "migrate exited {:?}:\n{}",
            output.status.code(),
            errors.join("\n")
        ));
    }
    let warnings = left_warnings(&stderr);
    let again = mutualsg(work.path(), &["migrate", "."]);
    if !again.stdout.is_empty() {
        figures.failures.push(format!(
            "a second migrate changed:\n{}",
            text(&again.stdout)
        ));
    }
    // What migrate wrote is a fixed point of `terraform fmt`.
    if let Some(terraform) = terraform() {
        for entry in walkdir::WalkDir::new(work.path()).into_iter().flatten() {
            let name = entry.file_name().to_string_lossy();
            if !name.starts_with("mutual_rules.") {
                continue;
            }
            let fmt = std::process::Command::new(&terraform)
                .args(["fmt", "-check", "-list=false"])
                .arg(entry.path())
                .output()
                .unwrap();
            if fmt.status.code() != Some(0) {
                figures.failures.push(format!(
                    "terraform fmt would change {}",
                    entry.path().strip_prefix(work.path()).unwrap().display()
                ));
            }
        }
    }
    for (dir, mut before) in dirs.iter().zip(before) {
        let relative = dir.strip_prefix(repo).unwrap();
        let after = read_module(&work.path().join(relative));
        let name = relative.display().to_string();
        figures.modules += 1;
        // Groups moved out of calls of the security-group module: checked against the call,
        // and what named the call's outputs names the group after.
        let mut outputs: Vec<(String, String)> = Vec::new();
        let mut groups_from_calls = BTreeSet::new();
        for (from, to) in &after.moved {
            let Some((call, resource)) = from
                .strip_prefix("module.")
                .and_then(|rest| rest.split_once('.'))
            else {
                continue;
            };
            match check_group_from_call(call, resource, to, &before, &after) {
                Ok(()) => {
                    groups_from_calls.insert(from.clone());
                    outputs.extend(GROUP_MODULE_OUTPUTS.iter().map(|(output, attribute)| {
                        (
                            format!("module.{call}.{output}"),
                            format!("{to}.{attribute}"),
                        )
                    }));
                }
                Err(why) => figures
                    .failures
                    .push(format!("{name}: {from} -> {to}: {why}")),
            }
        }
        // A call on a group it does not create (`create_sg = false`) names that group.
        for (call, arguments) in &before.group_module_calls {
            if arguments
                .get("create_sg")
                .is_some_and(|create| create == "false")
                && after.removed.contains(&format!("module.{call}"))
                && let Some(group) = arguments.get("security_group_id")
            {
                outputs.push((format!("module.{call}.security_group_id"), group.clone()));
            }
        }
        for rule in before.rules.values_mut() {
            for value in rule.arguments.values_mut() {
                for (output, attribute) in &outputs {
                    *value = replace_reference(value, output, attribute);
                }
            }
        }
        let moved: BTreeMap<&String, &String> =
            after.moved.iter().map(|(from, to)| (from, to)).collect();
        // A rule forgotten (`removed`) changes type: an imported rule holds it, equal.
        let mut retyped: BTreeMap<&String, &String> = BTreeMap::new();
        for (address, rule) in &before.rules {
            if after.rules.contains_key(address)
                || moved.contains_key(address)
                || !after.removed.contains(address)
            {
                continue;
            }
            let wanted = as_security_group_rule(rule);
            let holder = after.rules.iter().find(|(to, held)| {
                after.imported.contains(*to)
                    && !retyped.values().any(|taken| taken == to)
                    && as_security_group_rule(held) == wanted
            });
            match holder {
                Some((to, _)) => {
                    retyped.insert(address, to);
                }
                None => figures.failures.push(format!(
                    "{name}: {address} is forgotten, and no imported rule equals it:\n  before {rule:?}"
                )),
            }
        }
        for (address, rule) in &before.rules {
            if retyped.contains_key(address) {
                continue;
            }
            match (after.rules.get(address), moved.get(address)) {
                (Some(same), None) if holds(same, rule) => {}
                (None, Some(to)) => match after.rules.get(*to) {
                    Some(moved_rule) if holds(moved_rule, rule) => {}
                    Some(moved_rule) => figures.failures.push(format!(
                        "{name}: {address} -> {to} differs:\n  before {rule:?}\n  after  {moved_rule:?}"
                    )),
                    None => figures
                        .failures
                        .push(format!("{name}: {address} moves to missing {to}")),
                },
                (after_rule, to) => figures.failures.push(format!(
                    "{name}: {address} is {after_rule:?} after, moved to {to:?}"
                )),
            }
        }
        let targets: BTreeSet<&String> = moved.values().copied().collect();
        for (address, rule) in &after.rules {
            if before.rules.contains_key(address) || targets.contains(address) {
                continue;
            }
            // An egress rule of either style (a module of aws_vpc_* rules keeps that style).
            let egress_half = after.generated.contains(address)
                && (rule.kind == "aws_vpc_security_group_egress_rule"
                    || rule.arguments.get("type").map(String::as_str) == Some("\"egress\""));
            // Adopted by an `import` block: an inline block's rule, or an address rule.
            if after.imported.contains(address) {
            } else if lockdown && egress_half {
                figures.new_egress += 1;
            } else {
                figures
                    .failures
                    .push(format!("{name}: {address} is new and moved from nothing"));
            }
        }
        if lockdown {
            let reason_for = |address: &str| {
                warnings
                    .iter()
                    .find(|(file, what, _)| {
                        Path::new(file).parent() == Some(relative)
                            && what.split([' ', '(', ')']).any(|word| word == address)
                    })
                    .map_or_else(
                        || "(no warning names it)".to_string(),
                        |(.., reason)| reason.clone(),
                    )
            };
            for (address, rule) in before.rules.iter().filter(|(_, rule)| has_group_peer(rule)) {
                figures.peer_rules += 1;
                // Moved or retyped into the generated file, or generated at its own address
                // (a rule kept in its style whose derived name is its own).
                if moved
                    .get(address)
                    .or(retyped.get(address))
                    .is_some_and(|to| after.generated.contains(*to))
                    || (!moved.contains_key(address) && after.generated.contains(address))
                {
                    figures.covered += 1;
                } else {
                    let kind = &rule.kind;
                    *figures
                        .uncovered
                        .entry(format!("{kind}: {}", reason_for(address)))
                        .or_default() += 1;
                }
            }
            for (group, count) in &before.inline_group_rules {
                figures.peer_rules += count;
                if after.inline_group_rules.contains_key(group) {
                    *figures
                        .uncovered
                        .entry(format!("inline: {}", reason_for(group)))
                        .or_default() += count;
                } else {
                    figures.covered += count;
                }
            }
        }
        for (from, _) in &after.moved {
            if !before.rules.contains_key(from) && !groups_from_calls.contains(from) {
                figures
                    .failures
                    .push(format!("{name}: moved from {from}, which did not exist"));
            }
        }
        for (egress, ingress) in pairs(&before.rules, vpc) {
            figures.found += 1;
            // Moved, or generated at its own address (no move needed).
            let migrated = |address: &String| {
                moved.contains_key(address)
                    || retyped.contains_key(address)
                    || after.generated.contains(address)
            };
            if migrated(&egress) && migrated(&ingress) {
                figures.migrated += 1;
                continue;
            }
            let names = |what: &str| {
                let names_rule =
                    |address: &str| what.split([' ', '(', ')']).any(|word| word == address);
                names_rule(&egress) || names_rule(&ingress)
            };
            let reason = warnings
                .iter()
                .find(|(file, what, _)| Path::new(file).parent() == Some(relative) && names(what))
                .map_or_else(
                    || "(no warning names it)".to_string(),
                    |(.., reason)| reason.clone(),
                );
            *figures.left.entry(reason).or_default() += 1;
        }
    }
    figures
}

/// Directories (below `repo`) holding a `.tf`/`.tofu` file that declares a rule resource
/// (with `groups`, or a security group, whose inline blocks the lockdown counts).
fn rule_dirs(repo: &Path, groups: bool) -> Vec<PathBuf> {
    let mut dirs = BTreeSet::new();
    for entry in walkdir::WalkDir::new(repo)
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            entry.depth() == 0 || !(name.starts_with('.'))
        })
        .flatten()
    {
        let path = entry.path();
        if !entry.file_type().is_file()
            || !path.extension().is_some_and(|e| e == "tf" || e == "tofu")
        {
            continue;
        }
        let text = fs::read_to_string(path).unwrap_or_default();
        if RULE_TYPES
            .iter()
            .chain(groups.then_some(&"aws_security_group"))
            .any(|kind| text.contains(&format!("resource \"{kind}\"")))
        {
            dirs.insert(path.parent().unwrap().to_path_buf());
        }
    }
    dirs.into_iter().collect()
}

#[test]
fn migrating_real_repositories_keeps_every_rule() {
    let Some(root) = std::env::var_os("MUTUALSG_CORPUS_DIR") else {
        eprintln!("skipping: set MUTUALSG_CORPUS_DIR to the checkouts of tests/data/corpus.tsv");
        return;
    };
    let list = std::env::var_os("MUTUALSG_CORPUS_LIST").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus.tsv"),
        PathBuf::from,
    );
    let list = fs::read_to_string(&list).unwrap();
    let mut failures = Vec::new();
    let mut total = Figures::default();
    for line in list.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let repo_name = line.split('\t').next().unwrap();
        let repo = Path::new(&root).join(repo_name.replace('/', "+"));
        assert!(repo.is_dir(), "{} is not checked out", repo.display());
        for (vpc, lockdown) in [(false, false), (true, false), (false, true)] {
            let dirs = rule_dirs(&repo, lockdown);
            let figures = migrate_copy(&repo, &dirs, vpc, lockdown);
            let style = match (vpc, lockdown) {
                (_, true) => "--add-egress",
                (true, _) => "aws_vpc_*",
                _ => "aws_security_group_rule",
            };
            if lockdown {
                eprintln!(
                    "{repo_name} [lockdown]: {} of {} rules with a security-group peer under mutual_rules ({:.1}%), {} egress halves written",
                    figures.covered,
                    figures.peer_rules,
                    100.0 * figures.covered as f64 / figures.peer_rules.max(1) as f64,
                    figures.new_egress
                );
                for (reason, count) in &figures.uncovered {
                    eprintln!("  {count:4}  {reason}");
                }
            }
            eprintln!(
                "{repo_name} [{style}]: {} modules, {} pairs found, {} migrated, {} left",
                figures.modules,
                figures.found,
                figures.migrated,
                figures.found - figures.migrated
            );
            for (reason, count) in &figures.left {
                eprintln!("  {count:4}  {reason}");
                *total.left.entry(reason.clone()).or_default() += count;
            }
            total.found += figures.found;
            total.migrated += figures.migrated;
            failures.extend(
                figures
                    .failures
                    .into_iter()
                    .map(|failure| format!("{repo_name} [{style}]: {failure}")),
            );
        }
    }
    eprintln!(
        "total: {} pairs found, {} migrated, {} left",
        total.found,
        total.migrated,
        total.found - total.migrated
    );
    for (reason, count) in &total.left {
        eprintln!("  {count:4}  {reason}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
