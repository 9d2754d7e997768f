//! What an expression refers to: every traversal from a name (`aws_security_group.db.id`,
//! `var.cidrs[0]`, `each.value`), read from the tree, never from the text.

use std::ops::Range;

use super::tree::{Expr, ExprKind, Operation, Step, TemplateFor, TemplatePart};

/// A name and the steps after it, as written: `local.rules["a"].cidr` is `local` with three
/// steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference<'a> {
    pub root: &'a str,
    pub steps: &'a [Step],
    /// The name and its steps.
    pub span: Range<usize>,
}

impl<'a> Reference<'a> {
    /// The reference without Terraform's optional `resource.` prefix: `resource.aws_security_group.x.id`
    /// is `aws_security_group` with the steps `.x.id`. Any other reference as it is.
    pub fn without_resource_prefix(&self) -> Reference<'a> {
        match self.steps {
            [Step::Attribute(kind), rest @ ..]
                if self.root == "resource" && matches!(rest.first(), Some(Step::Attribute(_))) =>
            {
                Reference {
                    root: &kind.text,
                    steps: rest,
                    span: kind.span.start..self.span.end,
                }
            }
            _ => self.clone(),
        }
    }

    /// The reference as an expression of its own: its name, then its steps.
    pub fn to_expr(&self) -> Expr {
        let base = Expr {
            span: self.span.start..self.span.start + self.root.len(),
            kind: ExprKind::Variable(self.root.into()),
        };
        if self.steps.is_empty() {
            return base;
        }
        Expr {
            span: self.span.clone(),
            kind: ExprKind::Traversal(Box::new(super::tree::Traversal {
                base,
                steps: self.steps.to_vec(),
            })),
        }
    }

    /// [`Self::names`] without Terraform's optional `resource.` prefix:
    /// `resource.aws_security_group.x.id` and `aws_security_group.x.id` name one group.
    pub fn address(&self) -> impl Iterator<Item = &'a str> + '_ {
        let prefixed = self.root == "resource"
            && matches!(self.steps.first(), Some(Step::Attribute(_)))
            && matches!(self.steps.get(1), Some(Step::Attribute(_)));
        self.names().skip(usize::from(prefixed))
    }

    /// The root and every attribute name after it, indexes left out, as an address names a
    /// resource whatever its instance: `module.a[0].aws_security_group.b["x"]` →
    /// `["module", "a", "aws_security_group", "b"]`.
    pub fn names_without_indexes(&self) -> Vec<&'a str> {
        std::iter::once(self.root)
            .chain(self.steps.iter().filter_map(|step| match step {
                Step::Attribute(name) => Some(name.text.as_str()),
                _ => None,
            }))
            .collect()
    }

    /// The root and the attribute names that follow it, up to the first other step:
    /// `["aws_security_group", "db", "id"]`.
    pub fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        std::iter::once(self.root).chain(self.steps.iter().map_while(|step| match step {
            Step::Attribute(name) => Some(name.text.as_str()),
            _ => None,
        }))
    }
}

impl Expr {
    /// What the expression evaluates as, without what leaves a value unchanged: a string that
    /// is one interpolation (`"${var.x}"`, Terraform 0.11's spelling, which `terraform fmt`
    /// rewrites to `var.x`) is the expression inside it.
    pub fn unwrapped(&self) -> &Expr {
        match &self.kind {
            ExprKind::Template(parts) => match parts.as_slice() {
                [TemplatePart::Interpolation(inner)] => inner.unwrapped(),
                _ => self,
            },
            _ => self,
        }
    }

    /// A reference built from names, for a value the tree knows by address
    /// (`aws_security_group.web.id`): no source, every span empty.
    pub fn path(root: &str, names: &[&str]) -> Expr {
        let base = Expr {
            span: 0..0,
            kind: ExprKind::Variable(root.into()),
        };
        if names.is_empty() {
            return base;
        }
        let steps = names
            .iter()
            .map(|name| {
                Step::Attribute(super::tree::Ident {
                    text: (*name).into(),
                    span: 0..0,
                })
            })
            .collect();
        Expr {
            span: 0..0,
            kind: ExprKind::Traversal(Box::new(super::tree::Traversal { base, steps })),
        }
    }

    /// This expression and every expression inside it, parents first, in source order.
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Expr)) {
        visit(self);
        match &self.kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Number(_)
            | ExprKind::String(_)
            | ExprKind::Variable(_)
            | ExprKind::Deferred => {}
            ExprKind::Template(parts) => walk_parts(parts, visit),
            ExprKind::Heredoc(heredoc) => walk_parts(&heredoc.parts, visit),
            ExprKind::Tuple(elements) => elements.iter().for_each(|e| e.walk(visit)),
            ExprKind::Object(items) => items.iter().for_each(|item| {
                if let Some(key) = &item.key_expr {
                    key.walk(visit);
                }
                item.value.walk(visit);
            }),
            ExprKind::Traversal(traversal) => {
                traversal.base.walk(visit);
                for step in &traversal.steps {
                    if let Step::Index { key, .. } = step {
                        key.walk(visit);
                    }
                }
            }
            ExprKind::Call(call) => call.args.iter().for_each(|arg| arg.walk(visit)),
            ExprKind::Parenthesis(inner) => inner.walk(visit),
            ExprKind::For(for_expr) => {
                for_expr.collection.walk(visit);
                if let Some(key) = &for_expr.key {
                    key.walk(visit);
                }
                for_expr.value.walk(visit);
                if let Some(condition) = &for_expr.condition {
                    condition.walk(visit);
                }
            }
            ExprKind::Operation(operation) => match &**operation {
                Operation::Unary { operand, .. } => operand.walk(visit),
                Operation::Binary { first, rest } => {
                    first.walk(visit);
                    rest.iter().for_each(|(_, operand)| operand.walk(visit));
                }
            },
            ExprKind::Conditional(parts) => parts.iter().for_each(|part| part.walk(visit)),
        }
    }

    /// The names this expression reads, each with its steps (`for` variables excluded
    /// inside their `for`), in source order.
    pub fn references(&self) -> Vec<Reference<'_>> {
        let mut found = Vec::new();
        collect(self, &mut Vec::new(), &mut found);
        found
    }

    /// This expression as a reference, if it is one: a name, or a name with steps.
    pub fn as_reference(&self) -> Option<Reference<'_>> {
        match &self.kind {
            ExprKind::Variable(name) => Some(Reference {
                root: name,
                steps: &[],
                span: self.span.clone(),
            }),
            ExprKind::Traversal(traversal) => match &traversal.base.kind {
                ExprKind::Variable(name) => Some(Reference {
                    root: name,
                    steps: &traversal.steps,
                    span: self.span.clone(),
                }),
                _ => None,
            },
            _ => None,
        }
    }
}

fn walk_parts<'a>(parts: &'a [TemplatePart], visit: &mut impl FnMut(&'a Expr)) {
    for part in parts {
        match part {
            TemplatePart::Literal(_) => {}
            TemplatePart::Interpolation(expr) => expr.walk(visit),
            TemplatePart::If {
                condition,
                then,
                otherwise,
            } => {
                condition.walk(visit);
                walk_parts(then, visit);
                walk_parts(otherwise, visit);
            }
            TemplatePart::For(part) => {
                part.collection.walk(visit);
                walk_parts(&part.body, visit);
            }
        }
    }
}

/// `bound`: the `for` variables in scope here.
fn collect<'a>(expr: &'a Expr, bound: &mut Vec<&'a str>, found: &mut Vec<Reference<'a>>) {
    if let Some(reference) = expr.as_reference() {
        if !bound.contains(&reference.root) {
            found.push(reference.clone());
        }
        for step in reference.steps {
            if let Step::Index { key, .. } = step {
                collect(key, bound, found);
            }
        }
        return;
    }
    match &expr.kind {
        ExprKind::For(for_expr) => {
            collect(&for_expr.collection, bound, found);
            let depth = bound.len();
            bound.extend(for_expr.key_var.iter().map(|name| name.text.as_str()));
            bound.push(&for_expr.value_var.text);
            if let Some(key) = &for_expr.key {
                collect(key, bound, found);
            }
            collect(&for_expr.value, bound, found);
            if let Some(condition) = &for_expr.condition {
                collect(condition, bound, found);
            }
            bound.truncate(depth);
        }
        ExprKind::Template(parts) => collect_parts(parts, bound, found),
        ExprKind::Heredoc(heredoc) => collect_parts(&heredoc.parts, bound, found),
        _ => {
            // Every direct child, each once: `walk` visits all descendants, so take only the
            // children and recurse with the bindings.
            for child in children(expr) {
                collect(child, bound, found);
            }
        }
    }
}

fn collect_parts<'a>(
    parts: &'a [TemplatePart],
    bound: &mut Vec<&'a str>,
    found: &mut Vec<Reference<'a>>,
) {
    for part in parts {
        match part {
            TemplatePart::Literal(_) => {}
            TemplatePart::Interpolation(expr) => collect(expr, bound, found),
            TemplatePart::If {
                condition,
                then,
                otherwise,
            } => {
                collect(condition, bound, found);
                collect_parts(then, bound, found);
                collect_parts(otherwise, bound, found);
            }
            TemplatePart::For(part) => {
                let TemplateFor {
                    key_var,
                    value_var,
                    collection,
                    body,
                } = &**part;
                collect(collection, bound, found);
                let depth = bound.len();
                bound.extend(key_var.iter().map(|name| name.text.as_str()));
                bound.push(&value_var.text);
                collect_parts(body, bound, found);
                bound.truncate(depth);
            }
        }
    }
}

/// The direct sub-expressions of an expression that binds no names.
fn children(expr: &Expr) -> Vec<&Expr> {
    match &expr.kind {
        ExprKind::Tuple(elements) => elements.iter().collect(),
        ExprKind::Object(items) => items
            .iter()
            .flat_map(|item| {
                item.key_expr
                    .as_deref()
                    .into_iter()
                    .chain(std::iter::once(&item.value))
            })
            .collect(),
        ExprKind::Traversal(traversal) => std::iter::once(&traversal.base)
            .chain(traversal.steps.iter().filter_map(|step| match step {
                Step::Index { key, .. } => Some(&**key),
                _ => None,
            }))
            .collect(),
        ExprKind::Call(call) => call.args.iter().collect(),
        ExprKind::Parenthesis(inner) => vec![inner],
        ExprKind::Operation(operation) => match &**operation {
            Operation::Unary { operand, .. } => vec![operand],
            Operation::Binary { first, rest } => std::iter::once(first)
                .chain(rest.iter().map(|(_, operand)| operand))
                .collect(),
        },
        ExprKind::Conditional(parts) => parts.iter().collect(),
        _ => Vec::new(),
    }
}
