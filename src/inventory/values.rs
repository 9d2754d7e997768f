//! The inventory's view of evaluation ([`crate::eval`]): a module's variables and locals
//! evaluated once ([`evaluate_for`]), and what a rule's argument reads as in one instance's
//! scope ([`read`]): its value where it is known, else the text of the part of the
//! expression that decides it (the branch a known condition picks, the argument `try`
//! takes), as the inventory read it before evaluation.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::diagnostics::SourceFile;
use crate::eval::{self, EvaluatedModule, Files, InstanceKey, ModuleFile, Scope};
use crate::generate::parse::{self, Literal, ParsedFile, SourceValue};
use crate::syntax::{Expr, ExprKind};
use crate::workspace::source::Source;

/// `file()` reads the tree the inventory reads: the disk, or a git revision.
impl eval::ReadFiles for Source {
    fn read(&self, path: &std::path::Path) -> std::io::Result<Vec<u8>> {
        Source::read(self, path)
    }

    fn is_file(&self, path: &std::path::Path) -> bool {
        Source::is_file(self, path)
    }

    fn on_disk(&self) -> bool {
        matches!(self, Source::Disk)
    }

    /// On disk, the git work tree holding the module, else the module alone; a revision's
    /// paths are relative to its top and may not climb out of it.
    fn tree_of(&self, module: &std::path::Path) -> std::path::PathBuf {
        match self {
            Source::Disk => crate::paths::git_top_level(module).unwrap_or_else(|| {
                module
                    .canonicalize()
                    .unwrap_or_else(|_| module.to_path_buf())
            }),
            Source::Memory(_) => std::path::PathBuf::new(),
        }
    }
}

/// Evaluates a module's variables (from `inputs`, else their defaults) and locals, reading
/// them from `files` (the files the inventory parsed and those that hold only variables and
/// locals).
pub fn evaluate_for<'a>(
    files: impl IntoIterator<Item = &'a ParsedFile>,
    inputs: &BTreeMap<String, eval::Value>,
    access: Option<Files<'a>>,
) -> EvaluatedModule<'a> {
    let files = files
        .into_iter()
        .map(|parsed| ModuleFile {
            text: &parsed.file.text,
            body: &parsed.body,
        })
        .collect();
    EvaluatedModule::evaluate(files, inputs, access)
}

/// What `expr` of `file` reads as in `scope`: a literal where its value is wholly known (a
/// string, number, bool, null, or a list of those), else the source text of what decides it.
pub fn read(file: &SourceFile, expr: &Expr, scope: &Scope<'_>) -> SourceValue {
    let decided = residual(expr, scope);
    match eval::eval(decided, scope) {
        Ok(value) if value.is_wholly_known() => {
            literal(&value, &decided.span).unwrap_or_else(|| parse::value(file, decided))
        }
        _ => parse::value(file, decided),
    }
}

/// The part of `expr` whose value `expr` takes: the branch of a conditional whose condition
/// is known, the first argument of `try` that Terraform would take, what a parenthesis holds.
fn residual<'e>(expr: &'e Expr, scope: &Scope<'_>) -> &'e Expr {
    match &expr.kind {
        ExprKind::Parenthesis(inner) => residual(inner, scope),
        ExprKind::Conditional(parts) => {
            let [condition, then, otherwise] = &**parts;
            match eval::eval(condition, scope)
                .ok()
                .and_then(|value| value.to_bool())
            {
                Some(true) => residual(then, scope),
                Some(false) => residual(otherwise, scope),
                None => expr,
            }
        }
        ExprKind::Call(call) if call.name.text == "try" && !call.expand_final => call
            .args
            .iter()
            .find(|arg| eval::eval(arg, scope).is_ok())
            .map_or(expr, |arg| residual(arg, scope)),
        _ => expr,
    }
}

/// A known value as the literal the inventory reads; `None` for a map (no argument the
/// inventory reads takes one).
fn literal(value: &eval::Value, span: &Range<usize>) -> Option<SourceValue> {
    let (text, literal) = match value {
        eval::Value::Null => ("null".to_string(), Literal::Null),
        eval::Value::Bool(value) => (value.to_string(), Literal::Bool(*value)),
        eval::Value::Number(number) if number.fract() == 0.0 && number.abs() < 9.0e15 => {
            (eval::format_number(*number), Literal::Int(*number as i64))
        }
        eval::Value::Number(number) => (eval::format_number(*number), Literal::Other),
        eval::Value::String(text) => (
            serde_json::Value::String(text.clone()).to_string(),
            Literal::String(text.clone()),
        ),
        eval::Value::List(elements) | eval::Value::Set(elements) => {
            let elements = elements
                .iter()
                .map(|element| literal(element, span))
                .collect::<Option<Vec<_>>>()?;
            let texts: Vec<&str> = elements
                .iter()
                .map(|element| element.text.as_str())
                .collect();
            (format!("[{}]", texts.join(", ")), Literal::List(elements))
        }
        eval::Value::Map(_) | eval::Value::Unknown => return None,
    };
    Some(SourceValue {
        span: span.clone(),
        text,
        literal: Some(literal),
        tree: None,
    })
}

/// How a rule instance is named after its resource's address: `["https"]`, `[0]`.
pub fn instance_name(key: &InstanceKey) -> String {
    key.to_string()
}

/// The name of one iteration of a `dynamic` block, by its key: `["https"]`, `[0]`.
pub fn iteration_name(key: &eval::Value) -> String {
    match key {
        eval::Value::Number(number) if number.fract() == 0.0 && *number >= 0.0 => {
            InstanceKey::Index(*number as usize).to_string()
        }
        other => InstanceKey::Key(other.to_text().unwrap_or_default()).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn read_in(locals: &str, expr: &str) -> SourceValue {
        let text = format!("locals {{\n{locals}\n}}\nx = {expr}\n");
        let file = Arc::new(SourceFile::new("main.tf", text));
        let parsed = ParsedFile {
            body: parse::parse_body(&file).unwrap().into(),
            file: Arc::clone(&file),
        };
        let module = evaluate_for([&parsed], &BTreeMap::new(), None);
        let expr = &parsed.body.attribute("x").unwrap().value;
        read(&file, expr, &module.scope(&file.text))
    }

    #[test]
    fn known_values_are_literals_and_unknown_ones_keep_their_deciding_text() {
        let cidr = read_in("internet = \"0.0.0.0/0\"", "[local.internet]");
        assert_eq!(cidr.text, "[\"0.0.0.0/0\"]");
        let port = read_in("p = { https = 443 }", "lookup(local.p, \"https\", null)");
        assert_eq!(port.literal, Some(Literal::Int(443)));
        let missing = read_in("p = {}", "lookup(local.p, \"https\", null)");
        assert_eq!(missing.literal, Some(Literal::Null));
        let chosen = read_in(
            "on = true",
            "local.on ? aws_security_group.a.id : aws_security_group.b.id",
        );
        assert_eq!(chosen.text, "aws_security_group.a.id");
        let tried = read_in("m = {}", "try(local.m.sg, aws_security_group.c.id)");
        assert_eq!(tried.text, "aws_security_group.c.id");
        let unknown = read_in("", "var.cidrs");
        assert_eq!(unknown.text, "var.cidrs");
    }
}
