//! The migration file (`mutual_rules.migrate.tf`) beside the generated one: the `moved`,
//! `import` and `removed` blocks that keep Terraform from destroying a rule, written by
//! `migrate` and by `generate` when a rename leaves a rule as it was.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::config::Style;
use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::generate::connection::squeeze;
use crate::generate::discover::{GENERATED_FILE, Module};
pub use crate::generate::migration_block::MigrationBlock;
use crate::generate::output::Change;
use crate::generate::parse::{self, Literal, ParsedFile};
use crate::generate::vpc_imports;
use crate::paths::join;
use crate::state::State;
use crate::syntax::{self, Body, ExprKind};

/// The file migration blocks go into; users delete it once the migration is applied.
pub const MIGRATION_FILE: &str = "mutual_rules.migrate.tf";

/// The migration file with the new blocks appended (an existing file keeps its blocks; a
/// block already there is not written twice; one that moves an address elsewhere is an error).
pub fn migration_file_change(
    module: &Module,
    files: &[ParsedFile],
    blocks: &[MigrationBlock],
    warnings: &mut Vec<Diagnostic>,
) -> Result<Option<Change>, Vec<Diagnostic>> {
    let existing = existing_blocks(files);
    let mut new_blocks = Vec::new();
    for block in blocks {
        if existing.contains(block) || new_blocks.contains(&block) {
            continue;
        }
        if let MigrationBlock::Moved { from, .. } = block
            && let Some(MigrationBlock::Moved { to, .. }) = existing
                .iter()
                .find(|old| matches!(old, MigrationBlock::Moved { from: f, .. } if f == from))
        {
            let path = join(&module.dir, MIGRATION_FILE);
            return Err(vec![Diagnostic::file(
                Problem::MovedCollision {
                    from: from.clone(),
                    to: to.clone(),
                },
                &path,
            )]);
        }
        new_blocks.push(block);
    }
    if new_blocks.is_empty() {
        return Ok(None);
    }
    let path = join(&module.dir, MIGRATION_FILE);
    let old = std::fs::read_to_string(&path).ok();
    let (minor, kind) = new_blocks
        .iter()
        .map(|block| block.needs())
        .max()
        .unwrap_or((1, "moved"));
    if let Some(warning) = version_warning(files, minor, kind) {
        warnings.push(warning);
    }
    let mut text = old.clone().unwrap_or_else(|| {
        format!(
            "# Written by `mutualsg migrate`: apply it with `terraform apply`, then delete this file.\n\
             # Needs Terraform >= 1.{minor} ({kind} blocks).\n"
        )
    });
    for block in new_blocks {
        text.push('\n');
        text.push_str(&block.render());
    }
    Ok(Some(Change {
        path,
        old,
        new: Some(text),
    }))
}

/// The `moved`, `import` and `removed` blocks the module already has.
pub fn existing_blocks(files: &[ParsedFile]) -> Vec<MigrationBlock> {
    let mut blocks = Vec::new();
    for parsed in files {
        for block in &parsed.body.blocks {
            let get = |key: &str| {
                block
                    .body
                    .attribute(key)
                    .map(|attribute| squeeze(&parse::value(&parsed.file, &attribute.value).text))
            };
            let found = match block.kind.text.as_str() {
                "moved" => get("from")
                    .zip(get("to"))
                    .map(|(from, to)| MigrationBlock::Moved { from, to }),
                "import" => get("to")
                    .zip(get("id"))
                    .map(|(to, id)| MigrationBlock::Import { to, id }),
                "removed" => get("from").map(|from| MigrationBlock::Removed { from }),
                _ => None,
            };
            blocks.extend(found);
        }
    }
    blocks
}

/// A warning when the module's `required_version` excludes the Terraform the blocks need.
fn version_warning(files: &[ParsedFile], minor: u32, kind: &'static str) -> Option<Diagnostic> {
    for parsed in files {
        for block in parsed.body.blocks_of("terraform") {
            let Some(attribute) = block.body.attribute("required_version") else {
                continue;
            };
            let value = parse::value(&parsed.file, &attribute.value);
            let Some(Literal::String(constraint)) = &value.literal else {
                continue;
            };
            if !allows_any_from(constraint, minor) {
                return Some(Diagnostic::at(
                    Problem::TerraformTooOld {
                        minor,
                        kind,
                        constraint: constraint.clone(),
                    },
                    &parsed.file,
                    value.span,
                ));
            }
        }
    }
    None
}

/// Whether a Terraform version constraint allows some 1.x release at or after `1.minor`.
fn allows_any_from(constraint: &str, minor: u32) -> bool {
    let candidates = (minor..=40).flat_map(|m| [(1, m, 0), (1, m, 99)]);
    candidates.into_iter().any(|version| {
        constraint
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .all(|part| satisfies(version, part))
    })
}

fn satisfies(version: (u32, u32, u32), comparator: &str) -> bool {
    let operator_end = comparator
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(comparator.len());
    let (operator, wanted) = (
        comparator[..operator_end].trim(),
        &comparator[operator_end..],
    );
    let parts: Vec<u32> = wanted
        .split('.')
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    let wanted = (
        parts.first().copied().unwrap_or(0),
        parts.get(1).copied().unwrap_or(0),
        parts.get(2).copied().unwrap_or(0),
    );
    match operator {
        "" | "=" => version == wanted,
        "!=" => version != wanted,
        ">" => version > wanted,
        ">=" => version >= wanted,
        "<" => version < wanted,
        "<=" => version <= wanted,
        // `~> 1.2` allows 1.x from 1.2; `~> 1.2.3` allows 1.2.x from 1.2.3.
        "~>" if parts.len() >= 3 => {
            version >= wanted && (version.0, version.1) == (wanted.0, wanted.1)
        }
        "~>" => version >= wanted && version.0 == wanted.0,
        _ => true,
    }
}

/// Renames that `generate` would make to resources whose attributes stay the same (a `name`
/// or map key added or changed): `moved` blocks keep Terraform from replacing them.
pub fn rename_moves(old_generated: &str, new_generated: &str) -> Vec<(String, String)> {
    let (Ok(old), Ok(new)) = (syntax::parse(old_generated), syntax::parse(new_generated)) else {
        return Vec::new();
    };
    let old = resources_with_attributes(old_generated, &old);
    let new = resources_with_attributes(new_generated, &new);
    let mut moves = Vec::new();
    for (address, attributes) in &old {
        if new.contains_key(address) {
            continue;
        }
        let resource_type = address.split('.').next().unwrap_or_default();
        let renamed = new.iter().find(|(candidate, candidate_attributes)| {
            !old.contains_key(*candidate)
                && candidate.split('.').next() == Some(resource_type)
                && *candidate_attributes == attributes
                && !moves
                    .iter()
                    .any(|(_, to): &(String, String)| to == *candidate)
        });
        if let Some((to, _)) = renamed {
            moves.push((address.clone(), to.clone()));
        }
    }
    moves
}

/// The migration-file change that records renames, if any.
pub fn rename_change(
    module: &Module,
    old_generated: &str,
    new_generated: &str,
) -> Result<Option<Change>, Vec<Diagnostic>> {
    let blocks: Vec<MigrationBlock> = rename_moves(old_generated, new_generated)
        .into_iter()
        .map(|(from, to)| MigrationBlock::Moved { from, to })
        .collect();
    if blocks.is_empty() {
        return Ok(None);
    }
    let path = join(&module.dir, MIGRATION_FILE);
    let files = match std::fs::read_to_string(&path) {
        Ok(text) => vec![reparse(&path, text)?],
        Err(_) => Vec::new(),
    };
    migration_file_change(module, &files, &blocks, &mut Vec::new())
}

/// What a `style` switch needs: the migration-file change that forgets the old resources and
/// imports the new ones, and the warning that says so.
pub struct StyleSwitch {
    pub change: Option<Change>,
    pub warning: Diagnostic,
}

/// The resource types of the other output style, which a generated file holds when `style`
/// changed since it was written.
fn is_other_style(resource_type: &str, style: Style) -> bool {
    match style {
        Style::SecurityGroupRule => resource_type.starts_with("aws_vpc_security_group_"),
        Style::VpcSecurityGroupRule => resource_type == "aws_security_group_rule",
    }
}

/// A switch of `style` between the two resource families: `moved` cannot cross resource
/// types, so each old resource is forgotten (`removed`, `destroy = false`) and each new one
/// imported, the route `migrate` takes for the skwashd module's v2. Without it every rule
/// would be destroyed and created again, and the creates fail with
/// `InvalidPermission.Duplicate` while the old rules still exist.
///
/// `aws_security_group_rule` import ids are built from the rule's own arguments. The
/// `aws_vpc_*` rules import only by their `sgr-` id, which only the state holds: a switch
/// to them takes the ids from `state` (see [`vpc_imports`]), and without it is an error
/// that writes nothing.
pub fn style_switch(
    module: &Module,
    old_generated: &str,
    new_generated: &str,
    style: Style,
    state: Option<&State>,
) -> Result<Option<StyleSwitch>, Vec<Diagnostic>> {
    let generated_path = join(&module.dir, GENERATED_FILE);
    let (Ok(old), Ok(new)) = (syntax::parse(old_generated), syntax::parse(new_generated)) else {
        return Ok(None);
    };
    let type_of = |block: &syntax::Block| block.label(0).unwrap_or_default().to_string();
    let address_of = |block: &syntax::Block| {
        format!("{}.{}", type_of(block), block.label(1).unwrap_or_default())
    };
    // A connection with its own `style` keeps its resources across a switch of the module's.
    let kept: Vec<String> = new.blocks_of("resource").map(address_of).collect();
    let forgotten: Vec<MigrationBlock> = old
        .blocks_of("resource")
        .filter(|block| {
            is_other_style(&type_of(block), style) && !kept.contains(&address_of(block))
        })
        .map(|block| MigrationBlock::Removed {
            from: address_of(block),
        })
        .collect();
    let Some(old_style) = forgotten.first().map(|_| other_style(style)) else {
        return Ok(None);
    };
    let diagnostic = |reason: String, fix: String| {
        Diagnostic::file(
            Problem::StyleSwitchNotRoutable {
                from: old_style.name(),
                to: style.name(),
                reason,
                fix,
            },
            &generated_path,
        )
    };
    let path = join(&module.dir, MIGRATION_FILE);
    let files = match std::fs::read_to_string(&path) {
        Ok(text) => vec![reparse(&path, text)?],
        Err(_) => Vec::new(),
    };
    let imported = match style {
        Style::VpcSecurityGroupRule => {
            let Some(state) = state else {
                return Err(vec![diagnostic(
                    "the aws_vpc_* rules are imported by their sgr- id, which only the Terraform state holds".into(),
                    "give it the state: `terraform show -json > state.json && mutualsg generate --state state.json` (or set `style = \"aws_security_group_rule\"` in .mutualsg.toml again)".into(),
                )]);
            };
            let existing = existing_blocks(&files);
            vpc_imports::imports(old_generated, &old, new_generated, &new, state, &existing)
                .map_err(|refused| {
                    refused
                        .into_iter()
                        .map(|unroutable| diagnostic(unroutable.reason, unroutable.fix))
                        .collect::<Vec<_>>()
                })?
        }
        Style::SecurityGroupRule => {
            let held: Vec<String> = old.blocks_of("resource").map(address_of).collect();
            security_group_rule_imports(new_generated, &new, &held).map_err(|reason| {
                vec![diagnostic(
                    reason,
                    format!("set `style = \"{}\"` in .mutualsg.toml again; to switch anyway, move each rule in the state by hand (`terraform state rm`, then `terraform import` with its sgr- id)", old_style.name()),
                )]
            })?
        }
    };
    let warning = Diagnostic::file(
        Problem::StyleSwitched {
            from: old_style.name(),
            to: style.name(),
            forgotten: forgotten.len(),
            imported: imported.len(),
        },
        &generated_path,
    );
    let mut blocks = forgotten;
    blocks.extend(imported);
    let change = migration_file_change(module, &files, &blocks, &mut Vec::new())?;
    Ok(Some(StyleSwitch { change, warning }))
}

/// The imports of the `aws_security_group_rule` resources of `text` that the state does not
/// hold already (`held`), by the ids their own arguments make, or why one cannot have one.
fn security_group_rule_imports(
    text: &str,
    body: &Body,
    held: &[String],
) -> Result<Vec<MigrationBlock>, String> {
    let mut imported = Vec::new();
    for block in body.blocks_of("resource") {
        let address = format!(
            "{}.{}",
            block.label(0).unwrap_or_default(),
            block.label(1).unwrap_or_default()
        );
        if held.contains(&address) {
            continue;
        }
        let text_of = |name: &str| {
            block
                .body
                .attribute(name)
                .map(|attribute| &text[attribute.value.span.clone()])
        };
        match text_of("count") {
            None => {}
            // No rule exists, before or after.
            Some("0") => continue,
            Some(_) => {
                return Err(format!(
                    "{address} exists on a condition (`enabled`), and whether it exists now is in the state only"
                ));
            }
        }
        imported.push(MigrationBlock::Import {
            id: import_id(text, &block.body),
            to: address,
        });
    }
    Ok(imported)
}

fn other_style(style: Style) -> Style {
    match style {
        Style::SecurityGroupRule => Style::VpcSecurityGroupRule,
        Style::VpcSecurityGroupRule => Style::SecurityGroupRule,
    }
}

/// An `aws_security_group_rule`'s import id, `SGID_TYPE_PROTOCOL_FROM_TO_SOURCE[_SOURCE...]`
/// (the provider's format: `all` for every protocol, `self`, and each CIDR block or prefix
/// list a source), from the generated block's arguments; expressions are interpolated, so
/// Terraform fills in the ids it holds.
fn import_id(text: &str, body: &Body) -> String {
    let value = |name: &str| body.attribute(name).map(|attribute| &attribute.value);
    let interpolate = |expr: &syntax::Expr| match &expr.kind {
        ExprKind::String(literal) => literal.clone(),
        ExprKind::Number(Some(number)) => number.to_string(),
        _ => format!("${{{}}}", &text[expr.span.clone()]),
    };
    let part = |name: &str| value(name).map(interpolate).unwrap_or_default();
    let protocol = match part("protocol").as_str() {
        "-1" => "all".to_string(),
        other => other.to_string(),
    };
    let mut sources = Vec::new();
    if value("self").is_some_and(|expr| matches!(expr.kind, ExprKind::Bool(true))) {
        sources.push("self".to_string());
    }
    if let Some(group) = value("source_security_group_id") {
        sources.push(interpolate(group));
    }
    for list in ["cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"] {
        match value(list) {
            None => {}
            Some(expr) => match expr.tuple() {
                Some(items) => sources.extend(items.iter().map(interpolate)),
                None => sources.push(format!("${{join(\"_\", {})}}", &text[expr.span.clone()])),
            },
        }
    }
    format!(
        "\"{}_{}_{}_{}_{}_{}\"",
        part("security_group_id"),
        part("type"),
        protocol,
        part("from_port"),
        part("to_port"),
        sources.join("_")
    )
}

/// `type.name` → the block's attributes, layout squeezed out.
fn resources_with_attributes(text: &str, body: &Body) -> BTreeMap<String, Vec<(String, String)>> {
    let mut resources = BTreeMap::new();
    for block in body.blocks_of("resource") {
        let labels: Vec<&str> = block
            .labels
            .iter()
            .map(|label| label.value.as_str())
            .collect();
        let [resource_type, name] = labels[..] else {
            continue;
        };
        let mut attributes: Vec<(String, String)> = block
            .body
            .attributes
            .iter()
            .map(|attribute| {
                let value = &text[attribute.value.span.clone()];
                (attribute.name.text.to_string(), squeeze(value))
            })
            .collect();
        attributes.sort();
        resources.insert(format!("{resource_type}.{name}"), attributes);
    }
    resources
}

pub fn reparse(path: &Path, text: String) -> Result<ParsedFile, Vec<Diagnostic>> {
    let file = Arc::new(SourceFile::new(path, text));
    let body = parse::parse_body(&file)?;
    Ok(ParsedFile {
        file,
        body: Arc::new(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constraints() {
        assert!(allows_any_from(">= 1.0.0", 7));
        assert!(!allows_any_from("~> 1.2.0", 5));
        assert!(allows_any_from("~> 1.2", 7));
        assert!(!allows_any_from(">= 1.0, < 1.5", 5));
        assert!(allows_any_from(">= 1.0, < 1.6", 5));
    }

    #[test]
    fn renames_keep_attributes() {
        let old = "resource \"aws_security_group_rule\" \"a_to_b_tcp_443_egress\" {\n  type = \"egress\"\n  from_port = 443\n}\n";
        let new = "resource \"aws_security_group_rule\" \"web_egress\" {\n  type      = \"egress\"\n  from_port = 443\n}\n";
        assert_eq!(
            rename_moves(old, new),
            [(
                "aws_security_group_rule.a_to_b_tcp_443_egress".to_string(),
                "aws_security_group_rule.web_egress".to_string()
            )]
        );
        let changed = new.replace("443", "444");
        assert!(rename_moves(old, &changed).is_empty());
    }
}
