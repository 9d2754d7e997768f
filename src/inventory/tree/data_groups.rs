//! `data "aws_security_group"` sources: which group of the tree a lookup finds. By `id`, the
//! group that id names; by `name`, a `filter` (`group-name`, `group-id`, `tag:KEY`) or `tags`,
//! the tree's one group whose name and tags fit. A lookup that more than one group may
//! answer, or none, stays unknown: AWS's answer depends on groups outside the tree.

use std::collections::BTreeMap;

use super::pattern::Pattern;
use super::{GroupKey, Resolved, Tree, clip};
use crate::diagnostics::SourceFile;
use crate::inventory::Written;
use crate::inventory::flows::Analysis;
use crate::syntax::{Block, Expr, ExprKind, Step};

/// What the tree knows of one declared group's name and tags.
#[derive(Debug)]
pub struct NamedGroup {
    key: GroupKey,
    name: Pattern,
    tags: BTreeMap<String, Pattern>,
    /// Tags may hold keys not listed (`merge(local.tags, {…})`, a variable).
    open_tags: bool,
}

/// What a lookup asks for: every criterion must fit.
#[derive(Default)]
struct Criteria {
    /// The group's name is one of these.
    names: Vec<Pattern>,
    /// The tag's value is one of these.
    tags: BTreeMap<String, Vec<Pattern>>,
    /// Its id is one of these expressions.
    ids: Vec<Expr>,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Fit {
    No,
    Maybe,
    Yes,
}

/// Every group the tree declares, with its name and tags as far as the text shows.
pub fn named_groups(modules: &[Analysis]) -> Vec<NamedGroup> {
    let mut named = Vec::new();
    for (module, analysis) in modules.iter().enumerate() {
        for parsed in &analysis.model.files {
            for block in parsed.body.blocks_of("resource") {
                let (Some("aws_security_group"), Some(name)) = (block.label(0), block.label(1))
                else {
                    continue;
                };
                named.push(named_group(
                    (module, format!("aws_security_group.{name}")),
                    block,
                ));
            }
        }
    }
    named
}

impl Tree<'_> {
    /// The group `data.aws_security_group.NAME` of `module` finds (`steps`: what follows
    /// `data.aws_security_group`; `text`: the reference as written).
    pub(super) fn resolve_data_group(
        &self,
        module: usize,
        steps: &[Step],
        text: &str,
        depth: usize,
    ) -> Resolved {
        let [Step::Attribute(name), rest @ ..] = steps else {
            return super::unknown("a data source", text);
        };
        match super::skip_brackets(rest) {
            [] => {}
            [Step::Attribute(id)] if id.text == "id" => {}
            _ => return super::unknown("a data source", text),
        }
        let name = name.text.as_str();
        let Some((block, source)) = self.find_data(module, "aws_security_group", name) else {
            return super::unknown("a data source declared in no file that was read", text);
        };
        let criteria = criteria(block);
        if let Some(id) = criteria.ids.first() {
            if criteria.ids.len() > 1 {
                return super::unknown("a data source looked up by one of several ids", text);
            }
            let id_text = Written::text_of(&source.text, id);
            return match self.resolve_at(module, id, &id_text, depth + 1) {
                Resolved::Unknown(why) => Resolved::Unknown(format!(
                    "a data source (`{}`) looked up by an id that is {why}",
                    clip(text)
                )),
                found => found,
            };
        }
        if criteria.names.is_empty() && criteria.tags.is_empty() {
            return Resolved::Unknown(format!(
                "a data source (`{}`) looked up by what only AWS knows",
                clip(text)
            ));
        }
        let modules = self.modules;
        let groups = self.named.get_or_init(|| named_groups(modules));
        let mut sure = Vec::new();
        let mut maybe = 0;
        for group in groups.iter() {
            match criteria.fit(group) {
                Fit::Yes => sure.push(group.key.clone()),
                Fit::Maybe => maybe += 1,
                Fit::No => {}
            }
        }
        match (sure.as_slice(), maybe) {
            ([one], 0) => Resolved::Group(one.clone()),
            ([], 0) => Resolved::Unknown(format!(
                "a data source (`{}`) whose name and tags fit no group of this tree",
                clip(text)
            )),
            _ => Resolved::Unknown(format!(
                "a data source (`{}`) whose name and tags fit {} groups of this tree",
                clip(text),
                sure.len() + maybe
            )),
        }
    }

    /// A `data "TYPE" "NAME"` block of `module`, with the text of its file.
    pub(super) fn find_data(
        &self,
        module: usize,
        kind: &str,
        name: &str,
    ) -> Option<(&Block, &SourceFile)> {
        let matches = |block: &&Block| block.label(0) == Some(kind) && block.label(1) == Some(name);
        for parsed in &self.modules[module].model.files {
            if let Some(block) = parsed.body.blocks_of("data").find(matches) {
                return Some((block, &parsed.file));
            }
        }
        for (file, body) in self.extra_files(module, name) {
            if let Some(block) = body.blocks_of("data").find(matches) {
                return Some((block, file));
            }
        }
        None
    }
}

fn named_group(key: GroupKey, block: &Block) -> NamedGroup {
    let body = &block.body;
    // Without a name, the provider names the group from `name_prefix`, else `terraform-…`.
    let name = match (body.attribute("name"), body.attribute("name_prefix")) {
        (Some(name), _) => Pattern::of(&name.value),
        (None, Some(prefix)) => Pattern::of(&prefix.value).then_any(),
        (None, None) => Pattern::literal("terraform-").then_any(),
    };
    let mut tags = BTreeMap::new();
    let mut open_tags = false;
    match body.attribute("tags").map(|tags| &tags.value) {
        None => {}
        Some(expr) => {
            let objects: Vec<&Expr> = match &expr.kind {
                ExprKind::Object(_) => vec![expr],
                ExprKind::Call(call) if call.name.text == "merge" => {
                    open_tags = true;
                    call.args
                        .iter()
                        .filter(|arg| matches!(arg.kind, ExprKind::Object(_)))
                        .collect()
                }
                _ => {
                    open_tags = true;
                    Vec::new()
                }
            };
            for object in objects {
                for item in object.object().unwrap_or_default() {
                    match item.key.as_str() {
                        Some(key) => {
                            tags.insert(key.to_string(), Pattern::of(&item.value));
                        }
                        None => open_tags = true,
                    }
                }
            }
        }
    }
    // Instances of a repeated group share one name and set of tags as written: any of them
    // may be the one found.
    if body.has_attribute("count") || body.has_attribute("for_each") {
        open_tags = true;
    }
    NamedGroup {
        key,
        name,
        tags,
        open_tags,
    }
}

/// What a lookup's arguments and `filter` blocks ask for.
fn criteria(block: &Block) -> Criteria {
    let body = &block.body;
    let mut criteria = Criteria::default();
    if let Some(id) = body.attribute("id") {
        criteria.ids.push(id.value.clone());
    }
    if let Some(name) = body.attribute("name") {
        criteria.names.push(Pattern::of(&name.value));
    }
    if let Some(tags) = body.attribute("tags") {
        match tags.value.object() {
            Some(items) => {
                for item in items {
                    let key = item.key.as_str().unwrap_or_default().to_string();
                    criteria
                        .tags
                        .entry(key)
                        .or_default()
                        .push(Pattern::of(&item.value));
                }
            }
            // Tags only a plan knows: any group may fit.
            None => criteria.names.push(Pattern::any()),
        }
    }
    for filter in body.blocks_of("filter") {
        let Some(name) = filter.body.attribute("name").and_then(|n| n.value.string()) else {
            criteria.names.push(Pattern::any());
            continue;
        };
        let values: Vec<Expr> = match filter.body.attribute("values") {
            Some(values) => match values.value.tuple() {
                Some(items) => items.to_vec(),
                None => vec![values.value.clone()],
            },
            None => continue,
        };
        let patterns = || values.iter().map(Pattern::of).collect::<Vec<_>>();
        match name {
            "group-name" => criteria.names.extend(patterns()),
            "group-id" => criteria.ids.extend(values.iter().cloned()),
            _ => {
                if let Some(key) = name.strip_prefix("tag:") {
                    criteria
                        .tags
                        .entry(key.to_string())
                        .or_default()
                        .extend(patterns());
                }
                // Other filters (`vpc-id`, `description`…) only narrow what the name and
                // tags find.
            }
        }
    }
    criteria
}

impl Criteria {
    fn fit(&self, group: &NamedGroup) -> Fit {
        let mut fit = Fit::Yes;
        if !self.names.is_empty() {
            fit = fit.min(one_of(&self.names, &group.name));
        }
        for (key, values) in &self.tags {
            fit = fit.min(match group.tags.get(key) {
                Some(value) => one_of(values, value),
                None if group.open_tags => Fit::Maybe,
                None => Fit::No,
            });
        }
        fit
    }
}

/// How surely `value` is one of `wanted`.
fn one_of(wanted: &[Pattern], value: &Pattern) -> Fit {
    let mut fit = Fit::No;
    for pattern in wanted {
        let this = match (pattern.known(), value.known()) {
            (Some(a), Some(b)) if a == b => Fit::Yes,
            _ if pattern.may_equal(value) => Fit::Maybe,
            _ => Fit::No,
        };
        fit = fit.max(this);
    }
    fit
}
