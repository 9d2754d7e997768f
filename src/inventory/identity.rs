//! One name per group inside a module. Terraform lets a module name the same group in more
//! than one way: `resource.aws_security_group.web` (the `resource.` prefix Terraform 1.x
//! accepts) is `aws_security_group.web`, and a `data "aws_security_group"` looked up by the
//! `id` of a group the module declares is that group. Rules are read under the one name, so
//! a pair written half with each spelling is one pair, and `graph` draws one node.
//!
//! Lookups that only the whole tree can answer (by `name`, `filter` or `tags`, or by an id
//! from elsewhere) are the tree's ([`crate::inventory::tree`]).

use std::collections::HashMap;

use super::{DeclaredRule, GroupDecl, RulePeer, expression};
use crate::generate::parse::ParsedFile;

/// Terraform 1.x's optional prefix for a managed resource's address.
const RESOURCE_PREFIX: &str = "resource.";

/// `resource.aws_security_group.web.id` → `aws_security_group.web.id`; any other text as it
/// is. Only a reference to a resource starts with it: `resource` is a reserved name, never a
/// variable or a module.
pub fn without_resource_prefix(text: &str) -> &str {
    text.strip_prefix(RESOURCE_PREFIX).unwrap_or(text)
}

/// The `data "aws_security_group"` sources of a module that look a group up by the `id` of a
/// group the module declares: `data.aws_security_group.NAME.id` → that group's id
/// expression (`aws_security_group.web.id`, `aws_security_group.web[0].id`).
pub fn data_aliases(files: &[ParsedFile], groups: &[GroupDecl]) -> HashMap<String, String> {
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
            let id = expression(&parsed.file.text[id.value.span.clone()]);
            if names_declared_group(&id, groups) {
                aliases.insert(format!("data.aws_security_group.{name}.id"), id);
            }
        }
    }
    aliases
}

/// Whether an id expression names a declared group by a literal address
/// (`aws_security_group.web.id`, `aws_security_group.web["a"].id`).
fn names_declared_group(id: &str, groups: &[GroupDecl]) -> bool {
    let Some(address) = id.strip_suffix(".id") else {
        return false;
    };
    let base = address.split('[').next().unwrap_or_default();
    let index = &address[base.len()..];
    let literal_index = index.is_empty()
        || index
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .is_some_and(|inner| {
                inner.parse::<u64>().is_ok()
                    || (inner.starts_with('"') && inner.ends_with('"') && !inner.contains("${"))
            });
    literal_index && groups.iter().any(|group| group.address == base)
}

/// Reads every rule's group and group peers under the one name of each group.
pub fn unify_names(rules: &mut [DeclaredRule], aliases: &HashMap<String, String>) {
    if aliases.is_empty() {
        return;
    }
    let rename = |text: &mut String| match aliases.get(text.as_str()) {
        Some(to) => {
            *text = to.clone();
            true
        }
        None => false,
    };
    for rule in rules {
        let mut renamed = rename(&mut rule.group);
        for peer in &mut rule.peers {
            if let RulePeer::Group(text) = peer {
                renamed |= rename(text);
            }
        }
        // A rule whose peer is its own group under another name is a self rule.
        if renamed {
            for peer in &mut rule.peers {
                if matches!(peer, RulePeer::Group(text) if *text == rule.group) {
                    *peer = RulePeer::SelfGroup;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_prefix_is_dropped() {
        assert_eq!(
            without_resource_prefix("resource.aws_security_group.web.id"),
            "aws_security_group.web.id"
        );
        assert_eq!(
            without_resource_prefix("aws_security_group.web.id"),
            "aws_security_group.web.id"
        );
        assert_eq!(without_resource_prefix("var.resource"), "var.resource");
    }
}
