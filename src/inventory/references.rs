//! What the expressions of a block name, read from the syntax tree's references: a group
//! (`aws_security_group.db`), an output of a module call. Never from text: a comment or a
//! string that spells a group's address names nothing.

use crate::syntax::{Body, Expr, Reference, Step};

/// The groups `expr` refers to, as `aws_security_group.NAME` (Terraform's `resource.` prefix
/// dropped; `aws_security_group_rule` and data sources are other things), in source order.
pub fn groups_in(expr: &Expr) -> Vec<String> {
    expr.references()
        .iter()
        .filter_map(group_of)
        .collect::<Vec<_>>()
}

/// The names of the groups `expr` refers to (`db` of `aws_security_group.db`), in source
/// order.
pub fn group_names_in(expr: &Expr) -> Vec<&str> {
    expr.references()
        .iter()
        .filter_map(|reference| {
            let mut names = reference.address();
            (names.next()? == "aws_security_group")
                .then(|| names.next())
                .flatten()
        })
        .collect()
}

/// [`groups_in`] every argument of `body`, nested blocks included.
pub fn groups_in_body(body: &Body) -> Vec<String> {
    groups_of(&in_body(body))
}

/// The references of every argument of `body`, nested blocks included, in source order.
pub fn in_body(body: &Body) -> Vec<Reference<'_>> {
    let mut found = Vec::new();
    each_expr(body, &mut |expr| found.extend(expr.references()));
    found
}

/// The groups `references` name, as [`groups_in`] gives them.
pub fn groups_of(references: &[Reference<'_>]) -> Vec<String> {
    references.iter().filter_map(group_of).collect()
}

/// A module output an argument reads.
pub struct OutputRead {
    pub call: String,
    /// `None`: the whole module object, which holds every output.
    pub output: Option<String>,
}

impl OutputRead {
    pub fn reads(&self, call: &str, output: &str) -> bool {
        self.call == call && self.output.as_deref().is_none_or(|read| read == output)
    }
}

/// The module outputs the arguments of `body` read: by name (`module.db.sg_id`,
/// `module.db[0].sg_id`), or the whole module object (`module.db`, `module.db[0]`), which
/// holds every output.
pub fn outputs_read(body: &Body) -> Vec<OutputRead> {
    let mut found = Vec::new();
    each_expr(body, &mut |expr| {
        found.extend(expr.references().iter().filter_map(output_of));
    });
    found
}

fn output_of(reference: &Reference<'_>) -> Option<OutputRead> {
    if reference.root != "module" {
        return None;
    }
    let mut steps = reference.steps.iter();
    let Some(Step::Attribute(call)) = steps.next() else {
        return None;
    };
    let mut rest = steps.skip_while(|step| !matches!(step, Step::Attribute(_)));
    let output = match rest.next() {
        Some(Step::Attribute(name)) => Some(name.text.to_string()),
        _ => None,
    };
    Some(OutputRead {
        call: call.text.to_string(),
        output,
    })
}

fn group_of(reference: &Reference<'_>) -> Option<String> {
    let mut names = reference.address();
    (names.next()? == "aws_security_group")
        .then(|| names.next())
        .flatten()
        .map(|name| format!("aws_security_group.{name}"))
}

fn each_expr<'a>(body: &'a Body, visit: &mut impl FnMut(&'a Expr)) {
    for attribute in &body.attributes {
        visit(&attribute.value);
    }
    for block in &body.blocks {
        each_expr(&block.body, visit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Body {
        crate::syntax::parse(text).unwrap()
    }

    #[test]
    fn groups_are_read_from_references_only() {
        let found = groups_in_body(&body(
            "x = [aws_security_group.a.id, aws_security_group_rule.x.id, aws_security_group.b[0].id]\n\
             # aws_security_group.in_comment.id\n\
             d = \"aws_security_group.in_string.id\"\n\
             y = data.aws_security_group.x.id\n\
             z = resource.aws_security_group.c.id\n\
             nested { w = \"${aws_security_group.d.id}\" }\n",
        ));
        assert_eq!(
            found,
            [
                "aws_security_group.a",
                "aws_security_group.b",
                "aws_security_group.c",
                "aws_security_group.d"
            ]
        );
    }

    /// Whether any argument of `body` reads output `output` of module call `call`.
    fn reads_output(body: &Body, call: &str, output: &str) -> bool {
        outputs_read(body)
            .iter()
            .any(|read| read.reads(call, output))
    }

    #[test]
    fn outputs_are_read_by_name_or_with_the_whole_module() {
        assert!(reads_output(&body("x = module.db.sg_id"), "db", "sg_id"));
        assert!(reads_output(&body("x = module.db[0].sg_id"), "db", "sg_id"));
        assert!(reads_output(&body("value = module.db"), "db", "sg_id"));
        assert!(reads_output(&body("value = module.db[0]"), "db", "sg_id"));
        assert!(!reads_output(&body("x = module.db.other"), "db", "sg_id"));
        assert!(!reads_output(&body("x = module.dba.sg_id"), "db", "sg_id"));
        assert!(!reads_output(
            &body("# module.db.sg_id\nx = 1"),
            "db",
            "sg_id"
        ));
    }
}
