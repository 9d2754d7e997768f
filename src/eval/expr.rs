//! Evaluates one expression in a scope, as Terraform does: literals, templates, operators,
//! conditionals, `for` expressions, splats, index and attribute steps, the names a module
//! knows (`var.*`, `local.*`, `each.*`, `count.index`, `path.module`), and functions.
//! Anything else a name reaches (a resource's attribute, a data source, a module's output) is
//! [`Value::Unknown`], and what is built from an unknown is unknown.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use super::files::Files;
use super::functions;
use super::locals::Locals;
use super::value::{Value, parse_number, unify};
use crate::syntax::{
    BinaryOperator, Expr, ExprKind, ForExpr, Ident, ObjectKey, Operation, Step, TemplateFor,
    TemplatePart, Traversal, UnaryOperator,
};

/// Why an expression has no value: Terraform would report an error here.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    pub message: String,
    /// The expression at fault, in the file being evaluated.
    pub span: Range<usize>,
}

pub type Evaluated = Result<Value, EvalError>;

/// What the names of an expression stand for.
#[derive(Debug, Clone, Default)]
pub struct Scope<'a> {
    /// The file the expression was read from (number literals are read from it).
    pub source: &'a str,
    /// `var.*`; `None` leaves every variable unknown.
    pub variables: Option<&'a BTreeMap<String, Value>>,
    /// `local.*`, each evaluated when first read; `None` leaves every local unknown.
    pub locals: Option<&'a Locals<'a>>,
    /// `each.key` and `each.value`, in a `for_each` resource or module call.
    pub each: Option<(Value, Value)>,
    /// `count.index`, in a `count` resource.
    pub count_index: Option<usize>,
    /// What `file()` and its kin may read, and `path.module`; `None`: they are unknown.
    pub files: Option<&'a Files<'a>>,
    /// Names bound around the expression, innermost last: the iterator of a `dynamic` block
    /// (`ingress.key`, `ingress.value`).
    pub iterators: Vec<(String, Value)>,
}

impl<'a> Scope<'a> {
    /// A scope with no names: literals and functions only.
    pub fn new(source: &'a str) -> Scope<'a> {
        Scope {
            source,
            ..Scope::default()
        }
    }
}

/// Evaluates `expr` in `scope`.
pub fn eval(expr: &Expr, scope: &Scope<'_>) -> Evaluated {
    Evaluator {
        scope,
        bound: Vec::new(),
    }
    .eval(expr)
}

/// [`eval`], where an error is unknown too (what Terraform refuses, mutualsg does not guess).
pub fn eval_or_unknown(expr: &Expr, scope: &Scope<'_>) -> Value {
    eval(expr, scope).unwrap_or(Value::Unknown)
}

pub(super) fn error(span: &Range<usize>, message: impl Into<String>) -> EvalError {
    EvalError {
        message: message.into(),
        span: span.clone(),
    }
}

struct Evaluator<'s, 'a> {
    scope: &'s Scope<'a>,
    /// `for` variables in scope, innermost last.
    bound: Vec<(String, Value)>,
}

impl Evaluator<'_, '_> {
    fn eval(&mut self, expr: &Expr) -> Evaluated {
        let span = &expr.span;
        Ok(match &expr.kind {
            ExprKind::Null => Value::Null,
            // Read by `Locals`, which parses it first; anywhere else it is not known.
            ExprKind::Deferred => Value::Unknown,
            ExprKind::Bool(value) => Value::Bool(*value),
            ExprKind::Number(Some(int)) => Value::Number(*int as f64),
            ExprKind::Number(None) => Value::Number(self.number_literal(span)?),
            ExprKind::String(text) => Value::String(text.clone()),
            ExprKind::Template(parts) => self.template(parts)?,
            ExprKind::Heredoc(heredoc) => self.template(&heredoc.parts)?,
            ExprKind::Tuple(elements) => Value::list(
                elements
                    .iter()
                    .map(|element| self.eval(element))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::Object(items) => {
                let mut entries = BTreeMap::new();
                for item in items {
                    let key = match (&item.key, &item.key_expr) {
                        (ObjectKey::Ident(name) | ObjectKey::String(name), _) => name.to_string(),
                        (ObjectKey::Expr, Some(key)) => match self.eval(key)? {
                            Value::Unknown => return Ok(Value::Unknown),
                            value => value
                                .to_text()
                                .ok_or_else(|| error(&key.span, "Object key must be a string"))?,
                        },
                        (ObjectKey::Expr, None) => return Ok(Value::Unknown),
                    };
                    let value = self.eval(&item.value)?;
                    entries.insert(key, value);
                }
                Value::map(entries)
            }
            ExprKind::Variable(name) => self.variable(name, span)?,
            ExprKind::Traversal(traversal) => self.traversal(traversal)?,
            ExprKind::Call(call) => {
                let name = call.name.text.as_str();
                match name {
                    "try" => return self.try_call(&call.args, span),
                    "can" => return self.can_call(&call.args, span),
                    _ => {}
                }
                let mut args = call
                    .args
                    .iter()
                    .map(|arg| self.eval(arg))
                    .collect::<Result<Vec<_>, _>>()?;
                if call.expand_final {
                    match args.pop() {
                        Some(Value::List(last) | Value::Set(last)) => {
                            args.extend(Arc::unwrap_or_clone(last))
                        }
                        Some(Value::Unknown) => return Ok(Value::Unknown),
                        _ => return Err(error(span, "Invalid expanding argument value")),
                    }
                }
                functions::call(name, args, self.scope.files, span)?
            }
            ExprKind::Parenthesis(inner) => self.eval(inner)?,
            ExprKind::For(for_expr) => self.for_expr(for_expr, span)?,
            ExprKind::Operation(operation) => self.operation(operation, span)?,
            ExprKind::Conditional(parts) => {
                let [condition, then, otherwise] = &**parts;
                match self.eval(condition)? {
                    Value::Unknown => Value::Unknown,
                    value => {
                        let chosen = value.to_bool().ok_or_else(|| {
                            error(
                                &condition.span,
                                "Incorrect condition type: a bool is required",
                            )
                        })?;
                        // Both results share one type: `true ? 1 : "a"` is "1".
                        let then = self.eval(then)?;
                        let otherwise = self.eval(otherwise)?;
                        let [then, otherwise]: [Value; 2] =
                            unify(vec![then, otherwise]).try_into().expect("two values");
                        if chosen { then } else { otherwise }
                    }
                }
            }
        })
    }

    /// A number that is not a small integer: read from its text (`1.5`, `-2e3`).
    fn number_literal(&self, span: &Range<usize>) -> Result<f64, EvalError> {
        let text = self.scope.source.get(span.clone()).unwrap_or_default();
        // A folded unary minus may stand before it: `-1.5`, `- 1.5`, `--1.5`.
        let digits = text.trim_start_matches(|c: char| c == '-' || c.is_whitespace());
        let negations = text[..text.len() - digits.len()].matches('-').count();
        let number = parse_number(digits)
            .ok_or_else(|| error(span, "A number literal here needs its file's text"))?;
        Ok(if negations % 2 == 1 { -number } else { number })
    }

    fn template(&mut self, parts: &[TemplatePart]) -> Evaluated {
        let mut text = String::new();
        Ok(match self.template_into(parts, &mut text)? {
            true => Value::String(text),
            false => Value::Unknown,
        })
    }

    /// Appends the parts' text; `false` when a part is unknown.
    fn template_into(
        &mut self,
        parts: &[TemplatePart],
        text: &mut String,
    ) -> Result<bool, EvalError> {
        for part in parts {
            match part {
                TemplatePart::Literal(literal) => text.push_str(literal),
                TemplatePart::Interpolation(expr) => match self.eval(expr)? {
                    Value::Unknown => return Ok(false),
                    Value::Null => {
                        return Err(error(
                            &expr.span,
                            "Invalid template interpolation value: the value is null",
                        ));
                    }
                    value => text.push_str(&value.to_text().ok_or_else(|| {
                        error(
                            &expr.span,
                            format!(
                                "Invalid template interpolation value: a {} is not a string",
                                value.type_name()
                            ),
                        )
                    })?),
                },
                TemplatePart::If {
                    condition,
                    then,
                    otherwise,
                } => {
                    let chosen = match self.eval(condition)? {
                        Value::Unknown => return Ok(false),
                        value => value.to_bool().ok_or_else(|| {
                            error(&condition.span, "Template if condition must be a bool")
                        })?,
                    };
                    let branch = if chosen { then } else { otherwise };
                    if !self.template_into(branch, text)? {
                        return Ok(false);
                    }
                }
                TemplatePart::For(part) => {
                    let TemplateFor {
                        key_var,
                        value_var,
                        collection,
                        body,
                    } = &**part;
                    let collection_value = self.eval(collection)?;
                    let Some(pairs) = iterate(&collection_value, &collection.span)? else {
                        return Ok(false);
                    };
                    for (key, value) in pairs {
                        let depth = self.bind(key_var.as_ref(), value_var, key, value);
                        let known = self.template_into(body, text);
                        self.bound.truncate(depth);
                        if !known? {
                            return Ok(false);
                        }
                    }
                }
            }
        }
        Ok(true)
    }

    fn bind(
        &mut self,
        key_var: Option<&Ident>,
        value_var: &Ident,
        key: Value,
        value: Value,
    ) -> usize {
        let depth = self.bound.len();
        if let Some(key_var) = key_var {
            self.bound.push((key_var.text.to_string(), key));
        }
        self.bound.push((value_var.text.to_string(), value));
        depth
    }

    /// A `for` variable or an iterator shadows the module's names.
    fn is_bound(&self, name: &str) -> bool {
        self.bound
            .iter()
            .chain(&self.scope.iterators)
            .any(|(bound, _)| bound == name)
    }

    fn variable(&self, name: &str, span: &Range<usize>) -> Evaluated {
        let bound = self
            .bound
            .iter()
            .rev()
            .chain(self.scope.iterators.iter().rev());
        if let Some((_, value)) = bound.into_iter().find(|(bound, _)| bound == name) {
            return Ok(value.clone());
        }
        // `var`, `local`, `each`… alone are objects of their names; only their attributes are
        // read, in `traversal`. A bare resource type or `data` is unknown.
        match name {
            "var" => Ok(self
                .scope
                .variables
                .map_or(Value::Unknown, |vars| Value::map(vars.clone()))),
            "local" => Ok(self
                .scope
                .locals
                .map_or(Value::Unknown, |locals| Value::map(locals.all(self.scope)))),
            "each" => match &self.scope.each {
                Some((key, value)) => Ok(Value::map(BTreeMap::from([
                    ("key".to_string(), key.clone()),
                    ("value".to_string(), value.clone()),
                ]))),
                None => Err(error(span, "each is only known in a for_each block")),
            },
            "count" => match self.scope.count_index {
                Some(index) => Ok(Value::map(BTreeMap::from([(
                    "index".to_string(),
                    Value::Number(index as f64),
                )]))),
                None => Err(error(span, "count is only known in a count block")),
            },
            "path" => Ok(match self.scope.files {
                Some(files) => Value::map(BTreeMap::from([
                    ("module".to_string(), Value::string(files.path_module())),
                    ("root".to_string(), Value::string(".")),
                ])),
                None => Value::Unknown,
            }),
            _ => Ok(Value::Unknown),
        }
    }

    fn traversal(&mut self, traversal: &Traversal) -> Evaluated {
        let mut steps = traversal.steps.as_slice();
        // `var.x`, `local.x`: read the one name, not a copy of every one.
        let mut value = match (&traversal.base.kind, steps.first()) {
            (ExprKind::Variable(root), Some(Step::Attribute(name))) if !self.is_bound(root) => {
                let found = match root.as_str() {
                    "var" => Some(
                        self.scope
                            .variables
                            .map(|vars| vars.get(name.text.as_str())),
                    ),
                    "local" => Some(
                        self.scope
                            .locals
                            .map(|locals| locals.get(&name.text, self.scope)),
                    ),
                    _ => None,
                };
                match found {
                    Some(None) => Value::Unknown,
                    Some(Some(Some(value))) => {
                        // Through the steps that pick an element, borrowed: a large local is
                        // not copied to read one entry of it.
                        let (element, rest) = self.borrowed_steps(value, &steps[1..])?;
                        steps = rest;
                        element.clone()
                    }
                    Some(Some(None)) => {
                        let kind = if root == "var" {
                            "variable"
                        } else {
                            "local value"
                        };
                        return Err(error(
                            &name.span,
                            format!("Reference to undeclared {kind} {:?}", name.text),
                        ));
                    }
                    None if root == "each" && name.text == "value" => {
                        match self.scope.each.as_ref() {
                            Some((_, value)) => {
                                let (element, rest) = self.borrowed_steps(value, &steps[1..])?;
                                steps = rest;
                                element.clone()
                            }
                            None => self.eval(&traversal.base)?,
                        }
                    }
                    None => self.eval(&traversal.base)?,
                }
            }
            _ => self.eval(&traversal.base)?,
        };
        while let Some((step, rest)) = steps.split_first() {
            steps = rest;
            if let Step::Splat { full, .. } = step {
                return self.splat(value, *full, steps);
            }
            value = self.step(value, step)?;
        }
        Ok(value)
    }

    /// `[*]` and `.*`: the steps after it applied to each element (a single value is a list of
    /// one, null an empty list). After `.*`, an index step applies to the result.
    fn splat(&mut self, value: Value, full: bool, steps: &[Step]) -> Evaluated {
        let elements = match value {
            Value::Unknown => return Ok(Value::Unknown),
            Value::Null => Vec::new(),
            Value::List(elements) | Value::Set(elements) => Arc::unwrap_or_clone(elements),
            single => vec![single],
        };
        let per_element = if full {
            steps.len()
        } else {
            steps
                .iter()
                .take_while(|step| matches!(step, Step::Attribute(_) | Step::LegacyIndex { .. }))
                .count()
        };
        let mut results = Vec::with_capacity(elements.len());
        for mut element in elements {
            let mut rest = &steps[..per_element];
            while let Some((step, more)) = rest.split_first() {
                rest = more;
                if let Step::Splat { full, .. } = step {
                    element = self.splat(element, *full, rest)?;
                    break;
                }
                element = self.step(element, step)?;
            }
            results.push(element);
        }
        let mut value = Value::list(results);
        for step in &steps[per_element..] {
            value = self.step(value, step)?;
        }
        Ok(value)
    }

    /// Follows the attribute and index steps that lead to an element of `value`, without
    /// copying it; the element and the steps left (from the first that does not lead to one,
    /// which the caller applies to a copy and reports as Terraform would).
    fn borrowed_steps<'v, 't>(
        &mut self,
        mut value: &'v Value,
        mut steps: &'t [Step],
    ) -> Result<(&'v Value, &'t [Step]), EvalError> {
        while let Some((step, rest)) = steps.split_first() {
            let next = match (step, value) {
                (Step::Attribute(name), Value::Map(entries)) => entries.get(name.text.as_str()),
                (Step::Index { key, .. }, Value::Map(entries)) => match self.eval(key)? {
                    Value::String(key) => entries.get(&key),
                    _ => None,
                },
                (Step::Index { key, .. }, Value::List(elements)) => match self.eval(key)? {
                    Value::Number(index) if index >= 0.0 && index.fract() == 0.0 => {
                        elements.get(index as usize)
                    }
                    _ => None,
                },
                _ => None,
            };
            match next {
                Some(next) => {
                    value = next;
                    steps = rest;
                }
                None => break,
            }
        }
        Ok((value, steps))
    }

    fn step(&mut self, value: Value, step: &Step) -> Evaluated {
        match step {
            Step::Attribute(name) => match value {
                Value::Unknown => Ok(Value::Unknown),
                Value::Map(entries) => entries.get(name.text.as_str()).cloned().ok_or_else(|| {
                    error(
                        &name.span,
                        format!("Unsupported attribute: this object has no {:?}", name.text),
                    )
                }),
                Value::Null => Err(error(
                    &name.span,
                    "Attempt to get attribute from null value",
                )),
                other => Err(error(
                    &name.span,
                    format!(
                        "Unsupported attribute: a {} has no attributes",
                        other.type_name()
                    ),
                )),
            },
            Step::LegacyIndex { index, span } => match index {
                Some(index) => index_value(value, &Value::Number(*index as f64), span),
                None => Err(error(span, "Invalid legacy index")),
            },
            Step::Index { key, span } => {
                let key = self.eval(key)?;
                index_value(value, &key, span)
            }
            Step::Splat { .. } => unreachable!("splats are applied by `traversal`"),
        }
    }

    fn try_call(&mut self, args: &[Expr], span: &Range<usize>) -> Evaluated {
        for arg in args {
            if let Ok(value) = self.eval(arg) {
                // An unknown might fail once known: so is the result.
                return Ok(if value.is_wholly_known() {
                    value
                } else {
                    Value::Unknown
                });
            }
        }
        Err(error(span, "no expression succeeded"))
    }

    fn can_call(&mut self, args: &[Expr], span: &Range<usize>) -> Evaluated {
        let [arg] = args else {
            return Err(error(span, "can takes one argument"));
        };
        Ok(match self.eval(arg) {
            Ok(value) if !value.is_wholly_known() => Value::Unknown,
            Ok(_) => Value::Bool(true),
            Err(_) => Value::Bool(false),
        })
    }

    fn for_expr(&mut self, for_expr: &ForExpr, span: &Range<usize>) -> Evaluated {
        let collection = self.eval(&for_expr.collection)?;
        let Some(pairs) = iterate(&collection, &for_expr.collection.span)? else {
            return Ok(Value::Unknown);
        };
        let mut list = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (key, value) in pairs {
            let depth = self.bind(for_expr.key_var.as_ref(), &for_expr.value_var, key, value);
            let item = self.for_item(for_expr);
            self.bound.truncate(depth);
            let Some((key, value)) = item? else {
                continue;
            };
            match key {
                None => list.push(value),
                Some(Value::Unknown) => return Ok(Value::Unknown),
                Some(key) => {
                    let key = key
                        .to_text()
                        .ok_or_else(|| error(span, "Invalid object key: a string is required"))?;
                    if for_expr.grouping {
                        groups.entry(key).or_default().push(value);
                    } else if object.insert(key.clone(), value).is_some() {
                        return Err(error(
                            span,
                            format!("Duplicate object key {key:?}: add `...` to group them"),
                        ));
                    }
                }
            }
        }
        Ok(if for_expr.key.is_none() {
            Value::list(list)
        } else if for_expr.grouping {
            Value::map(
                groups
                    .into_iter()
                    .map(|(key, values)| (key, Value::list(values)))
                    .collect(),
            )
        } else {
            Value::map(object)
        })
    }

    /// One element of a `for`: `None` when its condition is false. An unknown condition makes
    /// the whole result unknown, signalled as an unknown key.
    #[allow(clippy::type_complexity)]
    fn for_item(
        &mut self,
        for_expr: &ForExpr,
    ) -> Result<Option<(Option<Value>, Value)>, EvalError> {
        if let Some(condition) = &for_expr.condition {
            match self.eval(condition)? {
                Value::Unknown => return Ok(Some((Some(Value::Unknown), Value::Unknown))),
                value => {
                    let keep = value.to_bool().ok_or_else(|| {
                        error(
                            &condition.span,
                            "Invalid 'for' condition: a bool is required",
                        )
                    })?;
                    if !keep {
                        return Ok(None);
                    }
                }
            }
        }
        let key = match &for_expr.key {
            Some(key) => Some(self.eval(key)?),
            None => None,
        };
        Ok(Some((key, self.eval(&for_expr.value)?)))
    }

    fn operation(&mut self, operation: &Operation, span: &Range<usize>) -> Evaluated {
        match operation {
            Operation::Unary { operator, operand } => {
                let value = self.eval(operand)?;
                if !value.is_known() {
                    return Ok(Value::Unknown);
                }
                match operator {
                    UnaryOperator::Negate => value
                        .to_number()
                        .map(|number| Value::Number(-number))
                        .ok_or_else(|| error(span, "Invalid operand: a number is required")),
                    UnaryOperator::Not => value
                        .to_bool()
                        .map(|value| Value::Bool(!value))
                        .ok_or_else(|| error(span, "Invalid operand: a bool is required")),
                }
            }
            Operation::Binary { first, rest } => {
                let mut value = self.eval(first)?;
                for (operator, operand) in rest {
                    let right = self.eval(operand)?;
                    value = binary(*operator, value, right, span)?;
                }
                Ok(value)
            }
        }
    }
}

fn binary(operator: BinaryOperator, left: Value, right: Value, span: &Range<usize>) -> Evaluated {
    use BinaryOperator as B;
    if let B::Equal | B::NotEqual = operator {
        if !(left.is_wholly_known() && right.is_wholly_known()) {
            return Ok(Value::Unknown);
        }
        let equal = left == right;
        return Ok(Value::Bool(equal == (operator == B::Equal)));
    }
    if let B::And | B::Or = operator {
        let bool_of = |value: &Value| match value {
            Value::Unknown => Ok(None),
            value => value
                .to_bool()
                .map(Some)
                .ok_or_else(|| error(span, "Invalid operand: a bool is required")),
        };
        return Ok(match (bool_of(&left)?, bool_of(&right)?, operator) {
            (Some(a), Some(b), B::And) => Value::Bool(a && b),
            (Some(a), Some(b), _) => Value::Bool(a || b),
            _ => Value::Unknown,
        });
    }
    if !(left.is_known() && right.is_known()) {
        return Ok(Value::Unknown);
    }
    let (Some(a), Some(b)) = (left.to_number(), right.to_number()) else {
        return Err(error(span, "Invalid operand: a number is required"));
    };
    Ok(match operator {
        B::Less => Value::Bool(a < b),
        B::LessOrEqual => Value::Bool(a <= b),
        B::Greater => Value::Bool(a > b),
        B::GreaterOrEqual => Value::Bool(a >= b),
        B::Add => Value::Number(a + b),
        B::Subtract => Value::Number(a - b),
        B::Multiply => Value::Number(a * b),
        B::Divide if b == 0.0 => return Err(error(span, "Division by zero")),
        B::Divide => Value::Number(a / b),
        B::Modulo if b == 0.0 => return Err(error(span, "Division by zero")),
        B::Modulo => Value::Number(a % b),
        B::Equal | B::NotEqual | B::And | B::Or => unreachable!("handled above"),
    })
}

/// `value[key]`: a list by a whole number, a map by a string.
fn index_value(value: Value, key: &Value, span: &Range<usize>) -> Evaluated {
    if !key.is_known() {
        return Ok(Value::Unknown);
    }
    match value {
        Value::Unknown => Ok(Value::Unknown),
        Value::List(elements) => {
            let index = key
                .to_number()
                .filter(|n| n.fract() == 0.0 && *n >= 0.0)
                .ok_or_else(|| error(span, "Invalid index: a whole number is required"))?;
            let index = index as usize;
            if index >= elements.len() {
                return Err(error(span, "Invalid index: out of range"));
            }
            Ok(elements[index].clone())
        }
        Value::Map(entries) => {
            let key = key
                .to_text()
                .ok_or_else(|| error(span, "Invalid index: a string is required"))?;
            entries
                .get(&key)
                .cloned()
                .ok_or_else(|| error(span, format!("Invalid index: no element {key:?}")))
        }
        Value::Set(_) => Err(error(span, "Invalid index: a set's elements have no index")),
        Value::Null => Err(error(span, "Attempt to index null value")),
        other => Err(error(
            span,
            format!("Invalid index: a {} cannot be indexed", other.type_name()),
        )),
    }
}

/// The key and value of each element, as `for` sees them; `None` when the collection is
/// unknown.
pub(super) fn iterate(
    collection: &Value,
    span: &Range<usize>,
) -> Result<Option<Vec<(Value, Value)>>, EvalError> {
    Ok(Some(match collection {
        Value::Unknown => return Ok(None),
        Value::List(elements) => elements
            .iter()
            .enumerate()
            .map(|(index, value)| (Value::Number(index as f64), value.clone()))
            .collect(),
        Value::Set(elements) => {
            if !elements.iter().all(Value::is_known) {
                return Ok(None);
            }
            elements
                .iter()
                .map(|value| (value.clone(), value.clone()))
                .collect()
        }
        Value::Map(entries) => entries
            .iter()
            .map(|(key, value)| (Value::string(key), value.clone()))
            .collect(),
        Value::Null => return Err(error(span, "Iteration over null value")),
        other => {
            return Err(error(
                span,
                format!("A {} cannot be iterated", other.type_name()),
            ));
        }
    }))
}
