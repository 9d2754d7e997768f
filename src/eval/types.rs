//! A variable's `type` constraint, applied as Terraform applies it to the value it receives:
//! `"443"` for a `number` is 443, an `object` attribute left out is null (or its
//! `optional(…, default)`), an attribute the type does not name is dropped.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::expr::{Scope, eval};
use super::value::Value;
use crate::syntax::{Expr, ExprKind};

/// Converts `value` to the type `constraint` writes; what does not convert is left as it is.
pub fn convert(value: Value, constraint: &Expr, source: &str) -> Value {
    if matches!(value, Value::Unknown | Value::Null) {
        return value;
    }
    match &constraint.kind {
        ExprKind::Variable(name) => match name.as_str() {
            "string" => value.to_text().map_or(value, Value::String),
            "number" => value.to_number().map_or(value, Value::Number),
            "bool" => value.to_bool().map_or(value, Value::Bool),
            _ => value,
        },
        ExprKind::Call(call) => {
            let inner = call.args.first();
            match (call.name.text.as_str(), inner, value) {
                ("list", Some(inner), Value::List(elements) | Value::Set(elements)) => Value::list(
                    Arc::unwrap_or_clone(elements)
                        .into_iter()
                        .map(|element| convert(element, inner, source))
                        .collect(),
                ),
                ("set", Some(inner), Value::List(elements) | Value::Set(elements)) => Value::set(
                    Arc::unwrap_or_clone(elements)
                        .into_iter()
                        .map(|element| convert(element, inner, source))
                        .collect(),
                ),
                ("map", Some(inner), Value::Map(entries)) => Value::map(
                    Arc::unwrap_or_clone(entries)
                        .into_iter()
                        .map(|(key, element)| (key, convert(element, inner, source)))
                        .collect(),
                ),
                ("object", Some(attributes), Value::Map(mut entries)) => {
                    let Some(items) = attributes.object() else {
                        return Value::Map(entries);
                    };
                    let mut converted = BTreeMap::new();
                    for item in items {
                        let Some(name) = item.key.as_str() else {
                            continue;
                        };
                        let given = Arc::make_mut(&mut entries).remove(name);
                        converted.insert(name.to_string(), attribute(given, &item.value, source));
                    }
                    Value::map(converted)
                }
                ("tuple", Some(elements), Value::List(values)) => match elements.tuple() {
                    Some(types) if types.len() == values.len() => Value::list(
                        Arc::unwrap_or_clone(values)
                            .into_iter()
                            .zip(types)
                            .map(|(value, element)| convert(value, element, source))
                            .collect(),
                    ),
                    _ => Value::List(values),
                },
                (_, _, value) => value,
            }
        }
        _ => value,
    }
}

/// An object attribute: `optional(type, default)` fills in what was left out or null.
fn attribute(given: Option<Value>, constraint: &Expr, source: &str) -> Value {
    if let ExprKind::Call(call) = &constraint.kind
        && call.name.text == "optional"
    {
        let Some(inner) = call.args.first() else {
            return given.unwrap_or(Value::Null);
        };
        let value = match given {
            Some(value) if value != Value::Null => value,
            _ => match call.args.get(1) {
                Some(default) => eval(default, &Scope::new(source)).unwrap_or(Value::Unknown),
                None => Value::Null,
            },
        };
        return convert(value, inner, source);
    }
    convert(given.unwrap_or(Value::Null), constraint, source)
}
