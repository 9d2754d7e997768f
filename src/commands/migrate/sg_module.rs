//! Calls of the registry module `terraform-aws-modules/security-group/aws`, read as a group
//! with its rules so that they migrate as an `aws_security_group` with inline blocks does
//! ([`super::inline`]): the group leaves the module with a `moved` block to a plain
//! `aws_security_group` written in place of the call, the module's rules are forgotten with a
//! `removed` block and adopted with `import` blocks by the connections that replace them.
//!
//! Named rules (`rule = "https-443-tcp"`, `ingress_rules`) are read from the module's own
//! table at the pinned release (`sg_module_rules.tsv`, made from its `rules.tf` by
//! `benches/sg-module-rules.py`), and a `//modules/NAME` preset's automatic rules from
//! `sg_module_presets.tsv` (its `auto_values.tf` at each release). The module's resources, their `count`s and defaults are
//! those of its `main.tf` and `variables.tf` from v4.0.0 to v5.3.1. A call that says anything
//! this cannot carry over is left as it is, with the reason.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::inline::{InlineGroup, InlinePeer, InlineRule};
use super::quote;
use crate::diagnostics::SourceFile;
use crate::generate::connection::{Direction, squeeze};
use crate::generate::migration_block::MigrationBlock;
use crate::inventory::canonical_protocol;
use crate::syntax::{Block, Expr, ExprKind};

/// An address list's text, as the module reads it, and its literal addresses.
type AddressList = (String, Vec<String>);

/// The module, as its registry source.
pub(super) const SOURCE: &str = "terraform-aws-modules/security-group/aws";

/// The named-rule table: one line per name and value, with the releases that hold it.
const RULES_TABLE: &str = include_str!("sg_module_rules.tsv");

/// The presets' automatic rules: one line per preset and value, with the releases that hold
/// it.
const PRESETS_TABLE: &str = include_str!("sg_module_presets.tsv");

/// The automatic rules a `//modules/NAME` preset adds at release `version`:
/// `auto_ingress_rules`, `auto_ingress_with_self`, `auto_egress_rules`,
/// `auto_egress_with_self` (rule names).
pub(super) fn preset_rules(version: &str, preset: &str) -> Option<[Vec<&'static str>; 4]> {
    let versions = known_versions();
    let at = versions.iter().position(|known| *known == version)?;
    PRESETS_TABLE
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let fields: Vec<&'static str> = line.split('\t').collect();
            let [name, a, b, c, d, runs] = fields.as_slice() else {
                return None;
            };
            if *name != preset || !held_at(runs, &versions, at) {
                return None;
            }
            let names = |list: &'static str| -> Vec<&'static str> {
                list.split(',').filter(|name| !name.is_empty()).collect()
            };
            Some([names(a), names(b), names(c), names(d)])
        })
}

/// Whether a table line's release runs (`4.0.0-4.6.1,4.8.0`) hold the release at `at`.
fn held_at(runs: &str, versions: &[&str], at: usize) -> bool {
    runs.split(',').any(|run| {
        let (first, last) = run.split_once('-').unwrap_or((run, run));
        let position = |v: &str| versions.iter().position(|known| *known == v);
        matches!((position(first), position(last)), (Some(a), Some(b)) if a <= at && at <= b)
    })
}

/// The module's outputs that name its group, and the group's attribute each is.
const OUTPUTS: &[(&str, &str)] = &[
    ("security_group_id", "id"),
    ("security_group_arn", "arn"),
    ("security_group_vpc_id", "vpc_id"),
    ("security_group_owner_id", "owner_id"),
    ("security_group_name", "name"),
    ("security_group_description", "description"),
];

/// The call's arguments about the group itself.
const GROUP_ARGUMENTS: &[&str] = &[
    "source",
    "version",
    "providers",
    "create",
    "putin_khuylo",
    "create_sg",
    "security_group_id",
    "name",
    "use_name_prefix",
    "description",
    "vpc_id",
    "revoke_rules_on_delete",
    "tags",
    "create_timeout",
    "delete_timeout",
];

/// The rule lists a call may hold, by the module resource each feeds.
const RULE_LISTS: &[&str] = &[
    "ingress_rules",
    "egress_rules",
    "ingress_with_self",
    "egress_with_self",
    "ingress_with_source_security_group_id",
    "egress_with_source_security_group_id",
    "ingress_with_cidr_blocks",
    "egress_with_cidr_blocks",
    "ingress_with_ipv6_cidr_blocks",
    "egress_with_ipv6_cidr_blocks",
];

/// The address lists the `*_rules` (and, where an entry names none, `*_with_cidr_blocks`)
/// rules read, with each direction's default.
const ADDRESS_LISTS: &[(&str, &[&str])] = &[
    ("ingress_cidr_blocks", &[]),
    ("ingress_ipv6_cidr_blocks", &[]),
    ("egress_cidr_blocks", &["0.0.0.0/0"]),
    ("egress_ipv6_cidr_blocks", &["::/0"]),
];

/// The keys a `*_with_*` entry may hold.
const ENTRY_KEYS: &[&str] = &[
    "rule",
    "from_port",
    "to_port",
    "protocol",
    "description",
    "source_security_group_id",
    "cidr_blocks",
    "ipv6_cidr_blocks",
    "self",
];

/// What a call's migration writes, once its group migrates.
#[derive(Debug, Clone)]
pub(super) struct CallMigration {
    /// The `module` block.
    pub span: Range<usize>,
    /// The `aws_security_group` written in its place (empty where the call adds rules to a
    /// group it does not create).
    pub resource: String,
    /// `moved` for the group, `removed` for the rest of the module.
    pub blocks: Vec<MigrationBlock>,
    /// `module.NAME.security_group_id` → `aws_security_group.NAME.id`, and the other outputs.
    pub renames: Vec<(String, String)>,
    /// Where the module's resources are in state: `module.NAME` (a preset: `module.NAME.module.sg`).
    pub state_prefix: String,
    /// Each rule read (its index among the rules) with the module resource that holds it
    /// (`egress_rules`, `computed_ingress_with_self`, ...).
    pub rule_resources: Vec<(usize, String)>,
}

/// The named rule `name` at release `version`: (from_port, to_port, protocol, description).
pub(super) fn named_rule(version: &str, name: &str) -> Option<[&'static str; 4]> {
    let versions = known_versions();
    let at = versions.iter().position(|known| *known == version)?;
    RULES_TABLE
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [rule, from, to, protocol, description, runs] = fields.as_slice() else {
                return None;
            };
            let held = held_at(runs, &versions, at);
            (*rule == name && held).then_some([*from, *to, *protocol, *description])
        })
}

/// The releases the table was read at, oldest first.
pub(super) fn known_versions() -> Vec<&'static str> {
    RULES_TABLE
        .lines()
        .find_map(|line| line.strip_prefix("# versions\t"))
        .map(|list| list.split(' ').collect())
        .unwrap_or_default()
}

/// Whether a `module` block calls the module (its root or a `//modules/NAME` preset); the
/// preset's name when it is one.
pub(super) fn call_of(block: &Block) -> Option<Option<String>> {
    if block.kind.text != "module" {
        return None;
    }
    let source = block.body.attribute("source")?.value.string()?.trim();
    let source = source
        .strip_prefix("registry.terraform.io/")
        .unwrap_or(source);
    let (root, preset) = match source.split_once("//") {
        Some((root, preset)) => (root, Some(preset)),
        None => (source, None),
    };
    if !root.eq_ignore_ascii_case(SOURCE) {
        return None;
    }
    Some(preset.map(|preset| preset.trim_start_matches("modules/").to_string()))
}

/// The release a call runs: its `version` when it names one release, else what `terraform
/// init` installed (`.terraform/modules/modules.json` of the module's directory).
fn pinned_version(block: &Block, name: &str, dir: &Path) -> Result<String, String> {
    let Some(version) = block.body.attribute("version") else {
        return Err("it has no `version`, so the module's rules table is not known".into());
    };
    let Some(text) = version.value.string() else {
        return Err("its `version` is not a literal".into());
    };
    let exact = text
        .trim()
        .trim_start_matches('=')
        .trim()
        .trim_start_matches('v');
    let is_release = |v: &str| {
        let parts: Vec<&str> = v.split('.').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if is_release(exact) {
        return Ok(exact.to_string());
    }
    let manifest = dir.join(".terraform/modules/modules.json");
    let installed = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| {
            json["Modules"].as_array()?.iter().find_map(|module| {
                (module["Key"].as_str() == Some(name))
                    .then(|| module["Version"].as_str().map(str::to_string))
                    .flatten()
            })
        });
    match installed {
        Some(version) if is_release(&version) => Ok(version),
        _ => Err(format!(
            "its `version = \"{text}\"` names no single release: pin one (`terraform init` records the installed one in .terraform/modules/modules.json, which mutualsg reads too)"
        )),
    }
}

/// Reads one call into a group and its rules (pushed onto `rules`, their group `group`).
/// The group comes back refused, with why, where the call cannot migrate; `None` when the
/// block is no call of the module.
pub(super) fn read_call(
    file: &Arc<SourceFile>,
    block: &Block,
    group: usize,
    dir: &Path,
    rules: &mut Vec<InlineRule>,
) -> Option<InlineGroup> {
    let preset = call_of(block)?;
    let name = block.label(0).unwrap_or_default().to_string();
    let text = |expr: &Expr| file.text[expr.span.clone()].to_string();
    let mut inline = InlineGroup {
        file: Arc::clone(file),
        header: block.header_span(),
        address: format!("module.{name}"),
        id: format!("module.{name}.security_group_id"),
        provider: None,
        blocks: Vec::new(),
        direction: None,
        refused: None,
        // Filled in once read; a call from the start, for what its warnings call it.
        call: Some(CallMigration {
            span: block.span.clone(),
            resource: String::new(),
            blocks: Vec::new(),
            renames: Vec::new(),
            state_prefix: String::new(),
            rule_resources: Vec::new(),
        }),
    };
    let refuse = |inline: &mut InlineGroup, reason: String| {
        inline.refused.get_or_insert(reason);
    };
    let version = match pinned_version(block, &name, dir) {
        Ok(version) => version,
        Err(reason) => {
            refuse(&mut inline, reason);
            return Some(inline);
        }
    };
    if !known_versions().contains(&version.as_str()) {
        let versions = known_versions();
        refuse(
            &mut inline,
            format!(
                "its version {version} is not one whose rules table and resources mutualsg knows ({} to {})",
                versions.first().unwrap_or(&""),
                versions.last().unwrap_or(&"")
            ),
        );
        return Some(inline);
    }
    // A preset calls the module as `module.sg`, with its automatic rules added.
    let auto = match &preset {
        Some(preset) => match preset_rules(&version, preset) {
            Some(auto) => Some(auto),
            None => {
                refuse(
                    &mut inline,
                    format!("the module has no preset `{preset}` at {version}"),
                );
                return Some(inline);
            }
        },
        None => None,
    };
    let state_prefix = match preset {
        Some(_) => format!("module.{name}.module.sg"),
        None => format!("module.{name}"),
    };
    if super::is_symlink(&file.path) {
        refuse(
            &mut inline,
            "the file is a symlink; mutualsg never edits through one".into(),
        );
    }
    if let Some(meta) = ["count", "for_each", "depends_on"]
        .into_iter()
        .find(|meta| block.body.has_attribute(meta))
    {
        refuse(
            &mut inline,
            format!("the call uses `{meta}`, which its resources would need to carry"),
        );
    }
    if let Some(nested) = block.body.blocks.first() {
        refuse(
            &mut inline,
            format!("the call holds a `{}` block", nested.kind.text),
        );
    }
    let get = |name: &str| {
        block
            .body
            .attribute(name)
            .filter(|attribute| !matches!(attribute.value.kind, ExprKind::Null))
    };
    let literal_bool = |name: &str, default: bool| match get(name).map(|a| &a.value.kind) {
        None => Some(default),
        Some(ExprKind::Bool(value)) => Some(*value),
        Some(_) => None,
    };
    for (flag, default) in [("create", true), ("putin_khuylo", true)] {
        if literal_bool(flag, default) != Some(true) {
            refuse(
                &mut inline,
                format!(
                    "its `{flag}` is not a literal true: what it creates is not known statically"
                ),
            );
        }
    }
    let Some(create_sg) = literal_bool("create_sg", true) else {
        refuse(
            &mut inline,
            "its `create_sg` is not a literal true or false".into(),
        );
        return Some(inline);
    };
    let Some(use_name_prefix) = literal_bool("use_name_prefix", true) else {
        refuse(
            &mut inline,
            "its `use_name_prefix` is not a literal true or false".into(),
        );
        return Some(inline);
    };
    for attribute in &block.body.attributes {
        let argument = attribute.name.text.as_str();
        let known = GROUP_ARGUMENTS.contains(&argument)
            || (auto.is_some() && AUTO_LISTS.contains(&argument))
            || RULE_LISTS.contains(&argument)
            || ADDRESS_LISTS.iter().any(|(list, _)| *list == argument)
            // Refused below, with their own reason, unless empty.
            || ["ingress_prefix_list_ids", "egress_prefix_list_ids"].contains(&argument)
            || computed_of(argument).is_some()
            || argument.starts_with("number_of_computed_");
        if !known {
            refuse(
                &mut inline,
                format!("its argument `{argument}` has no form mutualsg carries over"),
            );
        }
    }
    for list in ["ingress_prefix_list_ids", "egress_prefix_list_ids"] {
        if let Some(value) = get(list)
            && squeeze(&text(&value.value)) != "[]"
        {
            refuse(
                &mut inline,
                format!(
                    "its `{list}` joins every rule of that direction, which a connection does not write"
                ),
            );
        }
    }
    if let Some(providers) = get("providers") {
        match &providers.value.kind {
            ExprKind::Object(items) if items.len() == 1 && items[0].key.as_str() == Some("aws") => {
                inline.provider = Some(squeeze(&text(&items[0].value)));
            }
            _ => refuse(
                &mut inline,
                "its `providers` passes more than one `aws` provider".into(),
            ),
        }
    }
    // The group: created by the call, or named by `security_group_id`.
    let module_address = format!("module.{name}");
    let mut blocks = Vec::new();
    let mut renames = Vec::new();
    let resource = if create_sg {
        let Some(group_name) = get("name") else {
            refuse(&mut inline, "it has no `name`".into());
            return Some(inline);
        };
        let group_name = text(&group_name.value);
        let resource_kind = if use_name_prefix {
            "this_name_prefix"
        } else {
            "this"
        };
        blocks.push(MigrationBlock::Moved {
            from: format!("{state_prefix}.aws_security_group.{resource_kind}[0]"),
            to: format!("aws_security_group.{name}"),
        });
        renames = OUTPUTS
            .iter()
            .map(|(output, attribute)| {
                (
                    format!("{module_address}.{output}"),
                    format!("aws_security_group.{name}.{attribute}"),
                )
            })
            .collect();
        let timeouts = version_at_least(&version, (4, 4, 0)).then(|| {
            let value = |name: &str, default: &str| {
                get(name).map_or_else(|| quote(default), |a| text(&a.value))
            };
            (
                value("create_timeout", "10m"),
                value("delete_timeout", "15m"),
            )
        });
        let comments = body_comments(file, block);
        group_resource(GroupResource {
            name: &name,
            group_name: &group_name,
            use_name_prefix,
            description: get("description").map(|a| text(&a.value)),
            vpc_id: get("vpc_id").map(|a| text(&a.value)),
            revoke: get("revoke_rules_on_delete").map(|a| text(&a.value)),
            tags: get("tags").map(|a| text(&a.value)),
            provider: inline.provider.clone(),
            timeouts,
            comments,
        })
    } else {
        let Some(id) = get("security_group_id") else {
            refuse(
                &mut inline,
                "`create_sg = false` without `security_group_id`".into(),
            );
            return Some(inline);
        };
        inline.id = squeeze(&text(&id.value));
        String::new()
    };
    blocks.push(MigrationBlock::Removed {
        from: module_address.clone(),
    });
    inline.address = module_address;
    // The rules, in the order of the module's resources.
    // Each list's text, and its literal addresses.
    let defaults: Vec<(&str, AddressList)> = ADDRESS_LISTS
        .iter()
        .map(|(list, default)| {
            let value = match get(list) {
                Some(given) => (text(&given.value), given.value.literal_strings()),
                None => (
                    format!(
                        "[{}]",
                        default
                            .iter()
                            .map(|a| quote(a))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    default.iter().map(|a| a.to_string()).collect(),
                ),
            };
            (*list, value)
        })
        .collect();
    let default_of = |list: &str| -> AddressList {
        defaults
            .iter()
            .find(|(name, _)| *name == list)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    let base = InlineRule {
        group,
        direction: Direction::Ingress,
        peer: InlinePeer::SelfGroup,
        protocol: String::new(),
        protocol_is_literal: true,
        from_port: String::new(),
        to_port: String::new(),
        description: None,
        comment: Vec::new(),
        literal_addresses: Vec::new(),
    };
    // A named rule (`ingress_rules`) on the direction's address lists.
    let named = |rule_name: &str, direction: Direction, argument: &str| {
        let word = direction_word(direction);
        let [from, to, protocol, description] =
            named_rule(&version, rule_name).ok_or_else(|| {
                format!("the rule `{rule_name}` is not in the module's rules table at {version}")
            })?;
        let lists: Vec<(&'static str, AddressList)> = [
            ("cidr_blocks", format!("{word}_cidr_blocks")),
            ("ipv6_cidr_blocks", format!("{word}_ipv6_cidr_blocks")),
        ]
        .into_iter()
        .map(|(suffix, list)| (suffix, default_of(&list)))
        .filter(|(_, (list, _))| squeeze(list) != "[]")
        .collect();
        let literal_addresses = lists
            .iter()
            .flat_map(|(_, (_, literals))| literals.clone())
            .collect();
        let addresses: Vec<(&'static str, String)> = lists
            .into_iter()
            .map(|(suffix, (list, _))| (suffix, list))
            .collect();
        if addresses.is_empty() {
            return Err(format!(
                "`{argument}` names rules with no `{word}_cidr_blocks` to apply them to"
            ));
        }
        Ok(InlineRule {
            direction,
            peer: InlinePeer::Addresses(addresses),
            protocol: canonical_protocol(protocol),
            from_port: from.to_string(),
            to_port: to.to_string(),
            description: Some(quote(description)),
            literal_addresses,
            ..base.clone()
        })
    };
    // A preset's automatic lists, unless the call gives its own.
    let mut auto_lists: Vec<(&str, Vec<String>)> = Vec::new();
    if let Some(auto) = &auto {
        for (list, names) in AUTO_LISTS.iter().zip(auto) {
            let names = match get(list) {
                None => names.iter().map(|name| name.to_string()).collect(),
                Some(given) => match given.value.tuple().map(|items| {
                    items
                        .iter()
                        .map(literal_rule_name)
                        .collect::<Option<Vec<String>>>()
                }) {
                    Some(Some(names)) => names,
                    _ => {
                        refuse(
                            &mut inline,
                            format!("its `{list}` is not a literal list of rules"),
                        );
                        continue;
                    }
                },
            };
            auto_lists.push((list, names));
        }
    }
    let mut rule_resources: Vec<(usize, String)> = Vec::new();
    for (list, names) in &auto_lists {
        let kind = list.trim_start_matches("auto_");
        let direction = direction_of(kind);
        for rule_name in names {
            let rule = if kind.ends_with("_rules") {
                named(rule_name, direction, list)
            } else {
                named_rule(&version, rule_name)
                    .map(|[from, to, protocol, _]| InlineRule {
                        direction,
                        peer: InlinePeer::SelfGroup,
                        protocol: canonical_protocol(protocol),
                        from_port: from.to_string(),
                        to_port: to.to_string(),
                        description: Some(quote(default_description(direction))),
                        ..base.clone()
                    })
                    .ok_or_else(|| {
                        format!(
                            "the rule `{rule_name}` is not in the module's rules table at {version}"
                        )
                    })
            };
            match rule {
                Ok(rule) => {
                    rule_resources.push((rules.len(), kind.to_string()));
                    rules.push(rule);
                }
                Err(reason) => refuse(&mut inline, reason),
            }
        }
    }
    for attribute in &block.body.attributes {
        let argument = attribute.name.text.as_str();
        let kind = computed_of(argument).unwrap_or(argument);
        if !RULE_LISTS.contains(&kind) {
            continue;
        }
        let direction = direction_of(kind);
        let Some(entries) = attribute.value.tuple() else {
            refuse(
                &mut inline,
                format!("its `{argument}` is not a literal list"),
            );
            continue;
        };
        if argument.starts_with("computed_") {
            let count = format!("number_of_{argument}");
            let number = get(&count).and_then(|a| match a.value.kind {
                ExprKind::Number(number) => number,
                _ => None,
            });
            if number != Some(entries.len() as i64) {
                refuse(
                    &mut inline,
                    format!("its `{count}` is not the literal length of `{argument}`"),
                );
                continue;
            }
        }
        for entry in entries {
            let rule = if kind.ends_with("_rules") {
                let Some(rule_name) = entry.string() else {
                    refuse(
                        &mut inline,
                        format!("an entry of `{argument}` is not a literal rule name"),
                    );
                    continue;
                };
                // A preset lists each named rule once (`distinct`), its own ones included.
                let automatic = auto_lists.iter().any(|(list, names)| {
                    list.ends_with(argument) && names.iter().any(|n| n == rule_name)
                });
                if automatic {
                    continue;
                }
                match named(rule_name, direction, argument) {
                    Ok(rule) => rule,
                    Err(reason) => {
                        refuse(&mut inline, reason);
                        continue;
                    }
                }
            } else {
                match entry_rule(file, entry, kind, direction, &version, &default_of, &base) {
                    Ok(rule) => rule,
                    Err(reason) => {
                        refuse(&mut inline, format!("an entry of `{argument}`: {reason}"));
                        continue;
                    }
                }
            };
            rule_resources.push((rules.len(), argument.to_string()));
            rules.push(rule);
        }
    }
    inline.call = Some(CallMigration {
        span: block.span.clone(),
        resource,
        blocks,
        renames,
        state_prefix,
        rule_resources,
    });
    Some(inline)
}

/// The automatic lists a preset adds, in the order of the presets table's columns.
const AUTO_LISTS: &[&str] = &[
    "auto_ingress_rules",
    "auto_ingress_with_self",
    "auto_egress_rules",
    "auto_egress_with_self",
];

fn direction_of(kind: &str) -> Direction {
    if kind.starts_with("ingress") {
        Direction::Ingress
    } else {
        Direction::Egress
    }
}

fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Ingress => "ingress",
        Direction::Egress => "egress",
    }
}

/// The description the module gives an entry that has none.
fn default_description(direction: Direction) -> &'static str {
    match direction {
        Direction::Ingress => "Ingress Rule",
        Direction::Egress => "Egress Rule",
    }
}

/// A rule name as an automatic list holds it: `"ssh-tcp"`, or `{ rule = "all-all" }`.
fn literal_rule_name(item: &Expr) -> Option<String> {
    match &item.kind {
        ExprKind::String(name) => Some(name.clone()),
        ExprKind::Object(items) => match items.as_slice() {
            [item] if item.key.as_str() == Some("rule") => item.value.string().map(str::to_string),
            _ => None,
        },
        _ => None,
    }
}

/// `computed_X` → `X`, for the rule lists.
fn computed_of(argument: &str) -> Option<&str> {
    argument
        .strip_prefix("computed_")
        .filter(|kind| RULE_LISTS.contains(kind))
}

/// One `*_with_*` entry (an object) as a rule: its own ports and protocol, else its named
/// rule's; its description, else the module's default.
fn entry_rule(
    file: &SourceFile,
    entry: &Expr,
    kind: &str,
    direction: Direction,
    version: &str,
    default_of: &dyn Fn(&str) -> AddressList,
    base: &InlineRule,
) -> Result<InlineRule, String> {
    let ExprKind::Object(items) = &entry.kind else {
        return Err("it is not a literal object".into());
    };
    let text = |expr: &Expr| file.text[expr.span.clone()].to_string();
    let mut get = std::collections::BTreeMap::new();
    for item in items {
        let key = super::object_key(file, item);
        if !ENTRY_KEYS.contains(&key.as_str()) {
            return Err(format!("its key `{key}` has no form mutualsg carries over"));
        }
        if !matches!(item.value.kind, ExprKind::Null) {
            get.insert(key, &item.value);
        }
    }
    let named = match get.get("rule") {
        Some(rule) => {
            let Some(rule) = rule.string() else {
                return Err("its `rule` is not a literal".into());
            };
            Some(named_rule(version, rule).ok_or_else(|| {
                format!("the rule `{rule}` is not in the module's rules table at {version}")
            })?)
        }
        None => None,
    };
    let field = |key: &str, at: usize| -> Result<(String, bool), String> {
        match (get.get(key), named) {
            (Some(value), _) => Ok((text(value), true)),
            (None, Some(named)) => Ok((named[at].to_string(), false)),
            (None, None) => Err(format!("it has neither `{key}` nor a `rule`")),
        }
    };
    let (from_port, _) = field("from_port", 0)?;
    let (to_port, _) = field("to_port", 1)?;
    let (protocol_text, written) = field("protocol", 2)?;
    let literal = match get.get("protocol") {
        Some(value) => match &value.kind {
            ExprKind::String(text) => Some(text.clone()),
            ExprKind::Number(Some(number)) => Some(number.to_string()),
            _ => None,
        },
        None => Some(protocol_text.clone()),
    };
    let (protocol, protocol_is_literal) = match literal {
        Some(literal) => (canonical_protocol(&literal), true),
        None => (protocol_text.clone(), !written),
    };
    let description = Some(get.get("description").map_or_else(
        || {
            quote(if direction == Direction::Ingress {
                "Ingress Rule"
            } else {
                "Egress Rule"
            })
        },
        |value| text(value),
    ));
    let direction_word = if direction == Direction::Ingress {
        "ingress"
    } else {
        "egress"
    };
    let addresses =
        |key: &str, suffix: &'static str| -> Result<(InlinePeer, Vec<String>), String> {
            let (list, literals) = match get.get(key) {
                Some(value) => match &value.kind {
                    // The module splits its entries' address strings on commas.
                    ExprKind::String(literal) => {
                        let items: Vec<String> = literal
                            .split(',')
                            .filter(|item| !item.is_empty())
                            .map(str::to_string)
                            .collect();
                        let quoted: Vec<String> = items.iter().map(|item| quote(item)).collect();
                        (format!("[{}]", quoted.join(", ")), items)
                    }
                    _ => (
                        format!("compact(split(\",\", {}))", text(value)),
                        Vec::new(),
                    ),
                },
                None => default_of(&format!("{direction_word}_{suffix}")),
            };
            if squeeze(&list) == "[]" {
                return Err(format!("it has no `{key}`"));
            }
            Ok((InlinePeer::Addresses(vec![(suffix, list)]), literals))
        };
    let (peer, literal_addresses) = if kind.ends_with("_with_self") {
        match get.get("self").map(|value| &value.kind) {
            None | Some(ExprKind::Bool(true)) => (InlinePeer::SelfGroup, Vec::new()),
            Some(_) => return Err("its `self` is not a literal true".into()),
        }
    } else if kind.ends_with("_with_source_security_group_id") {
        let Some(source) = get.get("source_security_group_id") else {
            return Err("it has no `source_security_group_id`".into());
        };
        (InlinePeer::Group(text(source)), Vec::new())
    } else if kind.ends_with("_with_cidr_blocks") {
        addresses("cidr_blocks", "cidr_blocks")?
    } else {
        addresses("ipv6_cidr_blocks", "ipv6_cidr_blocks")?
    };
    // Keys the module's resource for this list does not read would be dropped silently by
    // the module; a connection would write them.
    let read_by_kind: &[&str] = if kind.ends_with("_with_self") {
        &["self"]
    } else if kind.ends_with("_with_source_security_group_id") {
        &["source_security_group_id"]
    } else if kind.ends_with("_with_cidr_blocks") {
        &["cidr_blocks"]
    } else {
        &["ipv6_cidr_blocks"]
    };
    if let Some(ignored) = [
        "self",
        "source_security_group_id",
        "cidr_blocks",
        "ipv6_cidr_blocks",
    ]
    .into_iter()
    .find(|key| get.contains_key(*key) && !read_by_kind.contains(key))
    {
        return Err(format!(
            "its `{ignored}` is one the module ignores in this list"
        ));
    }
    Ok(InlineRule {
        direction,
        peer,
        protocol,
        protocol_is_literal,
        from_port,
        to_port,
        description,
        literal_addresses,
        ..base.clone()
    })
}

fn version_at_least(version: &str, at: (u32, u32, u32)) -> bool {
    let parts: Vec<u32> = version.split('.').filter_map(|p| p.parse().ok()).collect();
    matches!(parts.as_slice(), [a, b, c] if (*a, *b, *c) >= at)
}

/// The full-line comments directly in a call's body (not inside an argument's value): they
/// travel to the resource written in its place.
fn body_comments(file: &SourceFile, block: &Block) -> Vec<String> {
    let body_start = file.text[block.span.clone()]
        .find('{')
        .map_or(block.span.start, |at| block.span.start + at + 1);
    let body = &file.text[body_start..block.span.end.saturating_sub(1)];
    let mut comments = Vec::new();
    let mut offset = body_start;
    for line in body.split_inclusive('\n') {
        let inside = block.body.attributes.iter().any(|attribute| {
            attribute.value.span.start < offset && offset < attribute.value.span.end
        });
        let trimmed = line.trim();
        if !inside && (trimmed.starts_with('#') || trimmed.starts_with("//")) {
            comments.push(trimmed.to_string());
        }
        offset += line.len();
    }
    comments
}

/// What the group resource written in place of a call says.
struct GroupResource<'t> {
    name: &'t str,
    group_name: &'t str,
    use_name_prefix: bool,
    description: Option<String>,
    vpc_id: Option<String>,
    revoke: Option<String>,
    tags: Option<String>,
    provider: Option<String>,
    timeouts: Option<(String, String)>,
    comments: Vec<String>,
}

/// The `aws_security_group` the module's `main.tf` declares for a call, with the call's values
/// (the module's defaults where it gives none), as `terraform fmt` writes it.
fn group_resource(group: GroupResource) -> String {
    let name_tag = format!("{{ \"Name\" = {} }}", group.group_name);
    let mut lines: Vec<(&str, String)> = Vec::new();
    if let Some(provider) = &group.provider {
        lines.push(("provider", provider.clone()));
    }
    if group.use_name_prefix {
        let prefix = match group
            .group_name
            .strip_prefix('"')
            .and_then(|n| n.strip_suffix('"'))
        {
            Some(literal) => format!("\"{literal}-\""),
            None => format!("\"${{{}}}-\"", group.group_name),
        };
        lines.push(("name_prefix", prefix));
    } else {
        lines.push(("name", group.group_name.to_string()));
    }
    lines.push((
        "description",
        group
            .description
            .unwrap_or_else(|| quote("Security Group managed by Terraform")),
    ));
    if let Some(vpc_id) = group.vpc_id {
        lines.push(("vpc_id", vpc_id));
    }
    if let Some(revoke) = group.revoke {
        lines.push(("revoke_rules_on_delete", revoke));
    }
    lines.push((
        "tags",
        match &group.tags {
            Some(tags) => format!("merge({name_tag}, {tags})"),
            None => name_tag,
        },
    ));
    let mut text = format!("resource \"aws_security_group\" \"{}\" {{\n", group.name);
    for comment in &group.comments {
        text.push_str(&format!("  {comment}\n"));
    }
    if !group.comments.is_empty() {
        text.push('\n');
    }
    text.push_str(&aligned(&lines));
    if let Some((create, delete)) = &group.timeouts {
        text.push_str(&format!(
            "\n  timeouts {{\n    create = {create}\n    delete = {delete}\n  }}\n"
        ));
    }
    if group.use_name_prefix {
        text.push_str("\n  lifecycle {\n    create_before_destroy = true\n  }\n");
    }
    text.push('}');
    text
}

/// Attribute lines at two spaces, `=` aligned over each run of single-line values.
fn aligned(lines: &[(&str, String)]) -> String {
    let values: Vec<String> = lines
        .iter()
        .map(|(key, value)| crate::generate::hclfmt::format_value_for_key(key, value, 2))
        .collect();
    let mut text = String::new();
    let mut run_start = 0;
    for at in 0..=lines.len() {
        if at == lines.len() || values[at].contains('\n') {
            let width = lines[run_start..at]
                .iter()
                .map(|(key, _)| key.len())
                .max()
                .unwrap_or(0);
            for index in run_start..at {
                text.push_str(&format!(
                    "  {:width$} = {}\n",
                    lines[index].0, values[index]
                ));
            }
            if at < lines.len() {
                text.push_str(&format!("  {} = {}\n", lines[at].0, values[at]));
            }
            run_start = at + 1;
        }
    }
    text
}

impl super::Planner<'_> {
    /// Why a call cannot become a group resource because of how the module refers to it: a
    /// reference to the whole call or to an output that is no attribute of its group, or a
    /// group resource of its name already there.
    pub(super) fn call_referenced(&self, block: &Block, creates_group: bool) -> Option<String> {
        let name = block.label(0).unwrap_or_default();
        let taken = self.model.files.iter().any(|parsed| {
            parsed.body.blocks_of("resource").any(|resource| {
                resource.label(0) == Some("aws_security_group") && resource.label(1) == Some(name)
            })
        });
        if taken && creates_group {
            return Some(format!(
                "the module already declares aws_security_group.{name}, the name its group would take"
            ));
        }
        let reference = format!("module.{name}");
        for path in &self.module.sources {
            let text = match self
                .model
                .files
                .iter()
                .find(|parsed| parsed.file.path == *path)
            {
                Some(parsed) => parsed.file.text.clone(),
                None => std::fs::read_to_string(path).unwrap_or_default(),
            };
            for (at, _) in text.match_indices(&reference) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) {
                    continue;
                }
                let rest = &text[at + reference.len()..];
                if rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    continue;
                }
                let output: String = rest
                    .strip_prefix('.')
                    .unwrap_or_default()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                let known = OUTPUTS.iter().any(|(known, _)| *known == output);
                if !creates_group || !known {
                    let what = if output.is_empty() {
                        reference.clone()
                    } else {
                        format!("{reference}.{output}")
                    };
                    return Some(format!(
                        "{} refers to `{what}`, which no attribute of a group resource replaces",
                        path.display()
                    ));
                }
            }
        }
        None
    }

    /// In the `aws_vpc_*` style, every call stays: its rules are `aws_security_group_rule`s.
    pub(super) fn sg_module_calls_left(&mut self) {
        let mut left = Vec::new();
        for parsed in &self.model.files {
            for block in parsed.body.blocks_of("module") {
                if call_of(block).is_some() {
                    let what = format!("module.{}", block.label(0).unwrap_or_default());
                    left.push((Arc::clone(&parsed.file), block.header_span(), what));
                }
            }
        }
        for (file, span, what) in left {
            self.skip(
                &file,
                span,
                what,
                "the module's rules are aws_security_group_rule resources: migrate its calls with the default style",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_rules_are_read_at_their_release() {
        assert_eq!(
            named_rule("5.3.1", "https-443-tcp"),
            Some(["443", "443", "tcp", "HTTPS"])
        );
        assert_eq!(
            named_rule("4.13.0", "all-all"),
            Some(["-1", "-1", "-1", "All protocols"])
        );
        // Changed between releases: each release reads its own value.
        assert_eq!(
            named_rule("4.17.1", "loki-grafana-grpc").map(|r| r[0]),
            Some("9096")
        );
        assert_eq!(
            named_rule("4.17.2", "loki-grafana-grpc").map(|r| r[0]),
            Some("9095")
        );
        // Added in 4.13.0.
        assert_eq!(named_rule("4.12.0", "kafka-broker-sasl-iam-tcp"), None);
        assert!(named_rule("4.13.0", "kafka-broker-sasl-iam-tcp").is_some());
        // A release the table was not read at.
        assert_eq!(named_rule("3.18.0", "https-443-tcp"), None);
        assert_eq!(known_versions().first(), Some(&"4.0.0"));
        // A preset's automatic rules, at the releases that have it.
        let [ingress, ingress_self, egress, egress_self] = preset_rules("5.3.1", "ssh").unwrap();
        assert_eq!(
            (ingress, ingress_self, egress, egress_self),
            (vec!["ssh-tcp"], vec!["all-all"], vec!["all-all"], vec![])
        );
        assert!(preset_rules("4.16.0", "loki").is_none());
        assert!(preset_rules("4.17.0", "loki").is_some());
        assert_eq!(known_versions().last(), Some(&"5.3.1"));
    }
}
