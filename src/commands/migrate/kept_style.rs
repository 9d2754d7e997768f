//! The style a module migrates in when no `.mutualsg.toml` decides: the resource family its
//! rules already are. A module of `aws_vpc_security_group_*_rule` resources stays one, so
//! its rules move (same type, `tags` and `count` kept) instead of being forgotten and
//! imported as `aws_security_group_rule`s, which refuses tags and counted rules.

use std::path::{Path, PathBuf};

use super::{address, is_module_call, sg_module, single_group_peer};
use crate::config::{CONFIG_FILE, Style};
use crate::inventory::{ModuleModel, Origin};
use crate::paths::join;
use crate::workspace::discover::{self, Module};

/// The `aws_vpc_*` style, when the module's rules are all of that family: at least one
/// `aws_vpc_security_group_*_rule` with a security-group peer, and nothing the default style
/// would convert instead (an `aws_security_group_rule` with a group peer, an inline
/// `ingress`/`egress` block, a call of a module `migrate` replaces), no `mutual_rules` yet
/// (a module that generates keeps the style it generates), and no module below its directory
/// (the `.mutualsg.toml` written for it would decide theirs too).
pub(super) fn kept_style(module: &Module, model: &ModuleModel) -> Option<Style> {
    if model.connections.is_some() {
        return None;
    }
    let converted_by_default = model.rules.iter().any(|rule| match &rule.origin {
        Origin::Inline { .. } => true,
        Origin::Resource { address } => {
            address.starts_with("aws_security_group_rule.") && single_group_peer(rule).is_some()
        }
        Origin::Generated { .. } => false,
    }) || model.files.iter().any(|parsed| {
        parsed
            .body
            .blocks_of("module")
            .any(|block| is_module_call(block) || sg_module::call_of(block).is_some())
    });
    let vpc_peer_rule = model.rules.iter().any(|rule| {
        address(rule).starts_with("aws_vpc_security_group_") && single_group_peer(rule).is_some()
    });
    (vpc_peer_rule && !converted_by_default && !has_module_below(module))
        .then_some(Style::VpcSecurityGroupRule)
}

/// Whether a Terraform module lives in a directory below `module`'s (walked as discovery
/// walks, so hidden and `.terraform` directories do not count).
fn has_module_below(module: &Module) -> bool {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let (modules, _) = discover::discover(std::slice::from_ref(&module.dir), &cwd);
    modules.iter().any(|below| below.dir != module.dir)
}

/// The `.mutualsg.toml` that keeps the `aws_vpc_*` style for `generate`, `check` and the
/// hook: its path in the module's directory, and its text.
pub(super) fn config_file(module_dir: &Path) -> (PathBuf, String) {
    let text = format!(
        "# Written by `mutualsg migrate`: this module's rules were aws_vpc_security_group_*_rule\n\
         # resources, and stay of that family (`generate`, `check` and the hook read this file).\n\
         style = \"{}\"\n",
        Style::VpcSecurityGroupRule.name()
    );
    (join(module_dir, CONFIG_FILE), text)
}
