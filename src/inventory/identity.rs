//! One name per group inside a module. Terraform lets a module name the same group in more
//! than one way: `resource.aws_security_group.web` (the `resource.` prefix Terraform 1.x
//! accepts) is `aws_security_group.web`, and a `data "aws_security_group"` looked up by the
//! `id` of a group the module declares is that group. Rules are read under the one name, so
//! a pair written half with each spelling is one pair, and `graph` draws one node.
//!
//! Lookups that only the whole tree can answer (by `name`, `filter` or `tags`, or by an id
//! from elsewhere) are the tree's ([`crate::inventory::tree`]).

use std::collections::HashMap;

use super::{DeclaredRule, GroupDecl, RulePeer, Written};
use crate::generate::parse::ParsedFile;
use crate::syntax::{Expr, ExprKind, Step};

/// The `data "aws_security_group"` sources of a module that look a group up by the `id` of a
/// group the module declares: `data.aws_security_group.NAME.id` → that group's id
/// expression (`aws_security_group.web.id`, `aws_security_group.web[0].id`).
pub fn data_aliases(files: &[ParsedFile], groups: &[GroupDecl]) -> HashMap<String, Written> {
    let mut aliases = HashMap::new();
    for parsed in files {
        for block in parsed.body.blocks_of("data") {
            let (Some("aws_security_group"), Some(name)) = (block.label(0), block.label(1)) else {
                continue;
            };
            // A looked-up group repeated by `count`/`for_each` is one of several: which one, an
            // index says, and the id expression may use `each`/`count` too.
            if block.body.has_attribute("count") || block.body.has_attribute("for_each") {
                continue;
            }
            let Some(id) = block.body.attribute("id") else {
                continue;
            };
            if names_declared_group(&id.value, groups) {
                aliases.insert(
                    format!("data.aws_security_group.{name}.id"),
                    Written::read(&parsed.file.text, &id.value),
                );
            }
        }
    }
    aliases
}

/// Whether an id expression names a declared group by a literal address
/// (`aws_security_group.web.id`, `aws_security_group.web["a"].id`), read from its tree.
fn names_declared_group(id: &Expr, groups: &[GroupDecl]) -> bool {
    let Some(reference) = id.unwrapped().as_reference() else {
        return false;
    };
    let reference = reference.without_resource_prefix();
    let name = match reference.steps {
        [Step::Attribute(name), Step::Attribute(id)] => Some((name, id)),
        [
            Step::Attribute(name),
            Step::Index { key, .. },
            Step::Attribute(id),
        ] if matches!(key.kind, ExprKind::Number(Some(n)) if n >= 0)
            || matches!(key.kind, ExprKind::String(_)) =>
        {
            Some((name, id))
        }
        _ => None,
    };
    reference.root == "aws_security_group"
        && name.is_some_and(|(name, id)| {
            id.text == "id" && groups.iter().any(|group| group.name == name.text)
        })
}

/// Reads every rule's group and group peers under the one name of each group.
pub fn unify_names(rules: &mut [DeclaredRule], aliases: &HashMap<String, Written>) {
    if aliases.is_empty() {
        return;
    }
    let rename = |written: &mut Written| match aliases.get(written.text.as_str()) {
        Some(to) => {
            *written = to.clone();
            true
        }
        None => false,
    };
    for rule in rules {
        let mut renamed = rename(&mut rule.group);
        for peer in &mut rule.peers {
            if let RulePeer::Group(written) = peer {
                renamed |= rename(written);
            }
        }
        // A rule whose peer is its own group under another name is a self rule.
        if renamed {
            for peer in &mut rule.peers {
                if matches!(peer, RulePeer::Group(written) if *written == rule.group) {
                    *peer = RulePeer::SelfGroup;
                }
            }
        }
    }
}
