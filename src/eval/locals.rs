//! A module's locals, each evaluated the first time an expression reads it: a module may
//! define hundreds, and the inventory reads a few.

use std::cell::{Cell, OnceCell};
use std::collections::BTreeMap;

use super::expr::{Scope, eval};
use super::value::Value;
use crate::syntax::{Expr, ExprKind};

/// What a local in a cycle, or one read while it is being evaluated, reads as.
static UNKNOWN: Value = Value::Unknown;

/// The locals of one module instance.
#[derive(Debug, Default)]
pub struct Locals<'a> {
    definitions: BTreeMap<&'a str, Local<'a>>,
}

#[derive(Debug)]
struct Local<'a> {
    /// The text of the file that defines it (number literals are read from it).
    source: &'a str,
    expr: &'a Expr,
    /// A deferred expression ([`crate::syntax::Reading::Deferred`]), once parsed (`None`:
    /// it does not parse).
    parsed: OnceCell<Option<Expr>>,
    value: OnceCell<Value>,
    /// Being evaluated: a read now is a cycle.
    evaluating: Cell<bool>,
    /// Read while being evaluated: in a cycle, so unknown.
    in_cycle: Cell<bool>,
}

impl Local<'_> {
    /// Its expression, parsed now if it was deferred.
    fn expr(&self) -> Option<&Expr> {
        match self.expr.kind {
            ExprKind::Deferred => self
                .parsed
                .get_or_init(|| {
                    crate::syntax::parse_deferred(self.source, self.expr.span.clone()).ok()
                })
                .as_ref(),
            _ => Some(self.expr),
        }
    }
}

impl<'a> Locals<'a> {
    /// The locals `definitions` define: name, the text of its file, its expression. A name
    /// given twice keeps its last definition (Terraform refuses it).
    pub fn new(definitions: impl IntoIterator<Item = (&'a str, &'a str, &'a Expr)>) -> Self {
        let definitions = definitions
            .into_iter()
            .map(|(name, source, expr)| {
                let local = Local {
                    source,
                    expr,
                    parsed: OnceCell::new(),
                    value: OnceCell::new(),
                    evaluating: Cell::new(false),
                    in_cycle: Cell::new(false),
                };
                (name, local)
            })
            .collect();
        Locals { definitions }
    }

    /// The value of local `name` (`None`: no such local), evaluated in the module's scope:
    /// `scope`'s variables, locals and files, without the names bound where it is read. A
    /// local that Terraform would refuse, or that is in a cycle, is unknown.
    pub fn get(&self, name: &str, scope: &Scope<'_>) -> Option<&Value> {
        let local = self.definitions.get(name)?;
        if let Some(value) = local.value.get() {
            return Some(value);
        }
        if local.evaluating.replace(true) {
            local.in_cycle.set(true);
            return Some(&UNKNOWN);
        }
        let module_scope = Scope {
            source: local.source,
            variables: scope.variables,
            locals: scope.locals,
            files: scope.files,
            ..Scope::default()
        };
        let value = match local.expr().map(|expr| eval(expr, &module_scope)) {
            Some(Ok(_)) if local.in_cycle.get() => Value::Unknown,
            Some(Ok(value)) => value,
            Some(Err(_)) | None => Value::Unknown,
        };
        local.evaluating.set(false);
        Some(local.value.get_or_init(|| value))
    }

    /// Every local, evaluated (for `local` read whole).
    pub fn all(&self, scope: &Scope<'_>) -> BTreeMap<String, Value> {
        self.definitions
            .keys()
            .filter_map(|name| Some((name.to_string(), self.get(name, scope)?.clone())))
            .collect()
    }
}
