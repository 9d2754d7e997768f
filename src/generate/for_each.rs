//! `for_each` connections: one connection written as two `for_each` rule resources that read
//! `each.value.<key>`.
//!
//! Terraform rejects `each.key` and `each.value` inside `locals` ("each.value cannot be used
//! in this context"), so a connection cannot say `from_port = each.value.port`. Instead its
//! `for_each` is a collection whose objects carry the values that vary per instance: a map of
//! objects, or an object `for` expression whose value is an object literal (which maps any
//! other shape into it). Either way the keys are visible in the source, so mutualsg knows
//! which arguments read `each.value.<key>`, and checks them as it checks any connection.

use std::ops::Range;
use std::sync::Arc;

use crate::config::Style;
use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::generate::connection::{EACH_VALUE, Protocol, SourceExpr};
use crate::generate::parse::{self, Field, Literal, RawConnection, SourceValue};
use crate::syntax::{self, ExprKind, ObjectItem, ObjectKey};

/// The connection key this module reads.
pub const KEY: &str = "for_each";

/// Keys that are one per resource block, never per instance: meta-arguments, the name, and
/// `enabled` (which becomes `count`, and Terraform takes `count` or `for_each`).
const NOT_PER_INSTANCE: &[&str] = &[
    "name",
    "provider",
    "source_provider",
    "target_provider",
    "enabled",
    "depends_on",
    "timeouts",
    "style",
    KEY,
];

/// The address-list keys: in the `aws_vpc_*` style each address is a resource of its own.
const ADDRESS_KEYS: &[&str] = &[
    "source_cidr_blocks",
    "source_ipv6_cidr_blocks",
    "source_prefix_list_ids",
    "target_cidr_blocks",
    "target_ipv6_cidr_blocks",
    "target_prefix_list_ids",
];

/// The connection's `for_each`, unless it is absent or `null` ("not set", as for any key).
pub fn field(raw: &RawConnection) -> Option<&Field> {
    raw.fields
        .iter()
        .find(|field| field.key == KEY && field.value.literal != Some(Literal::Null))
}

/// A `for_each` connection taken apart for validation.
#[derive(Debug)]
pub struct Expansion {
    /// The connection the rules are written from: its own keys, and each per-instance key as
    /// `each.value.<key>`.
    pub template: RawConnection,
    /// Each instance merged into the connection, with the span of its key: checked as a
    /// connection of its own, so a bad literal is reported where the instance gives it.
    pub instances: Vec<(Range<usize>, RawConnection)>,
    /// The collection, copied as the rules' `for_each`.
    pub collection: SourceExpr,
    /// Whether `instances` are every instance (a literal map), or the one object a `for`
    /// expression makes for each element.
    pub literal: bool,
}

/// One object of per-instance values: a map entry, or the value of a `for` expression.
struct Instance {
    /// The map key, or the `for` expression's value: what a diagnostic about the instance
    /// points at.
    span: Range<usize>,
    fields: Vec<Field>,
}

/// Reads a connection's `for_each` and checks what varies per instance. `field` is the
/// connection's `for_each` field.
pub fn expand(
    file: &Arc<SourceFile>,
    raw: &RawConnection,
    field: &Field,
    style: Style,
) -> Result<Expansion, Vec<Diagnostic>> {
    let error = |problem, span| Diagnostic::at(problem, file, span);
    let (instances, literal) = instances(file, &field.value)?;
    let own: Vec<&Field> = raw.fields.iter().filter(|f| f.key != KEY).collect();
    let mut errors = Vec::new();
    for key in own
        .iter()
        .filter(|f| f.value.literal != Some(Literal::Null))
    {
        if key.key == "enabled" {
            errors.push(error(Problem::EnabledAndForEach, key.key_span.clone()));
        }
        let list_expression = ADDRESS_KEYS.contains(&key.key.as_str())
            && !matches!(key.value.literal, Some(Literal::List(_)));
        if style == Style::VpcSecurityGroupRule && list_expression {
            errors.push(error(
                Problem::ForEachWithAddressExpression,
                key.key_span.clone(),
            ));
        }
    }

    // The per-instance keys, in the order they first appear.
    let mut keys: Vec<&Field> = Vec::new();
    for instance in &instances {
        for given in &instance.fields {
            if keys.iter().any(|seen| seen.key == given.key) {
                continue;
            }
            keys.push(given);
            if let Some(problem) = per_instance_problem(given, style) {
                errors.push(error(problem, given.key_span.clone()));
            } else if let Some(again) = own.iter().find(|f| f.key == given.key) {
                errors.push(
                    error(
                        Problem::GivenTwice(given.key.clone()),
                        given.key_span.clone(),
                    )
                    .with_note(
                        "given in the connection here",
                        file,
                        again.key_span.clone(),
                    ),
                );
            }
        }
    }
    for instance in &instances {
        for given in &instance.fields {
            if let Some(problem) = literal_problem(given) {
                errors.push(error(problem, given.value.span.clone()));
            }
        }
        // Terraform reads each.value.<key> from every instance: one without it fails there.
        for key in &keys {
            if !instance.fields.iter().any(|given| given.key == key.key) {
                errors.push(error(
                    Problem::InstanceLacksKey(key.key.clone()),
                    instance.span.clone(),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let template = RawConnection {
        span: raw.span.clone(),
        map_key: raw.map_key.clone(),
        fields: own
            .iter()
            .copied()
            .map(copy)
            .chain(keys.iter().map(|given| Field {
                key: given.key.clone(),
                key_span: given.key_span.clone(),
                value: SourceValue {
                    span: given.value.span.clone(),
                    text: format!("{EACH_VALUE}{}", given.key),
                    literal: None,
                    tree: None,
                },
            }))
            .collect(),
    };
    let instances = instances
        .into_iter()
        .map(|instance| {
            let merged = RawConnection {
                span: raw.span.clone(),
                map_key: raw.map_key.clone(),
                fields: own
                    .iter()
                    .copied()
                    .map(copy)
                    .chain(instance.fields)
                    .collect(),
            };
            (instance.span, merged)
        })
        .collect();
    Ok(Expansion {
        template,
        instances,
        collection: SourceExpr {
            text: field.value.text.clone(),
            span: field.value.span.clone(),
            tree: field.value.tree.clone(),
        },
        literal,
    })
}

fn copy(field: &Field) -> Field {
    Field {
        key: field.key.clone(),
        key_span: field.key_span.clone(),
        value: field.value.clone(),
    }
}

/// Why a key cannot be given per instance, if it cannot. (An unknown key is reported by the
/// connection's own check, with a suggestion.)
fn per_instance_problem(given: &Field, style: Style) -> Option<Problem> {
    let key = given.key.as_str();
    if NOT_PER_INSTANCE.contains(&key) {
        return Some(Problem::NotPerInstance(given.key.clone()));
    }
    if style == Style::VpcSecurityGroupRule && ADDRESS_KEYS.contains(&key) {
        return Some(Problem::PerInstanceAddresses(given.key.clone()));
    }
    None
}

/// A per-instance literal that reads well in a connection but not as `each.value.<key>`:
/// a range is not split, and a protocol is not normalised.
fn literal_problem(given: &Field) -> Option<Problem> {
    let text = match (&given.value.literal, given.key.as_str()) {
        (Some(Literal::String(text)), "destination_port") => {
            // As the connection reads it: the first `-` after a leading sign splits it.
            let text = text.trim();
            let split = text.char_indices().skip(1).find(|&(_, c)| c == '-');
            let is_range = split.is_some_and(|(at, _)| {
                text[..at].trim().parse::<i64>().is_ok()
                    && text[at + 1..].trim().parse::<i64>().is_ok()
            });
            return is_range.then_some(Problem::PerInstanceRange);
        }
        (Some(Literal::String(text)), "protocol") => text.clone(),
        (Some(Literal::Int(number)), "protocol") => number.to_string(),
        _ => return None,
    };
    // An unknown protocol is reported by the instance's own check.
    let protocol = Protocol::from_literal(&text)?;
    if matches!(protocol, Protocol::All) {
        return Some(Problem::PerInstanceAllTraffic);
    }
    let canonical = protocol.to_string();
    // A number is passed on as a number: AWS takes any IP protocol by number.
    let as_written = matches!(given.value.literal, Some(Literal::Int(_)))
        && matches!(protocol, Protocol::Number(_));
    (text != canonical && !as_written).then_some(Problem::PerInstanceSpelling {
        given: given.value.text.clone(),
        canonical: format!("\"{canonical}\""),
    })
}

/// The instances a collection shows: every entry of a literal map (`true`), or the one object
/// of an object `for` expression (`false`). Read from the collection's tree.
fn instances(
    file: &Arc<SourceFile>,
    collection: &SourceValue,
) -> Result<(Vec<Instance>, bool), Vec<Diagnostic>> {
    let error = |problem, span: Range<usize>| vec![Diagnostic::at(problem, file, span)];
    let Some(value) = collection.tree.as_deref() else {
        let problem = match collection.literal {
            Some(Literal::List(_)) => Problem::ForEachNotMap,
            _ => Problem::ForEachNotVisible,
        };
        return Err(error(problem, collection.span.clone()));
    };
    let object = |expr: &syntax::Expr, span: Range<usize>| -> Result<Instance, Vec<Diagnostic>> {
        let Some(items) = expr.object() else {
            return Err(error(Problem::InstanceNotObject, expr.span.clone()));
        };
        let fields = items
            .iter()
            .map(|item| Field {
                key: key_text(file, item),
                key_span: item.key_span.clone(),
                value: parse::value(file, &item.value),
            })
            .collect();
        Ok(Instance { span, fields })
    };
    match &value.kind {
        ExprKind::Object(entries) => {
            let mut instances = Vec::with_capacity(entries.len());
            let mut errors = Vec::new();
            for entry in entries {
                match object(&entry.value, entry.key_span.clone()) {
                    Ok(instance) => instances.push(instance),
                    Err(mut found) => errors.append(&mut found),
                }
            }
            if errors.is_empty() {
                Ok((instances, true))
            } else {
                Err(errors)
            }
        }
        ExprKind::For(for_expr) if for_expr.key.is_some() => {
            if for_expr.grouping || for_expr.value.object().is_none() {
                return Err(error(
                    Problem::ForEachNotVisible,
                    for_expr.value.span.clone(),
                ));
            }
            let instance = object(&for_expr.value, for_expr.value.span.clone())?;
            Ok((vec![instance], false))
        }
        ExprKind::Tuple(_) | ExprKind::For(_) => {
            Err(error(Problem::ForEachNotMap, collection.span.clone()))
        }
        _ => Err(error(Problem::ForEachNotVisible, collection.span.clone())),
    }
}

/// An object key as text: `key`, `"key"`, or an expression's source.
fn key_text(file: &SourceFile, item: &ObjectItem) -> String {
    match &item.key {
        ObjectKey::Ident(text) | ObjectKey::String(text) => text.to_string(),
        ObjectKey::Expr => file.text[item.key_span.clone()].to_string(),
    }
}

/// `each.key` or `each.value` in a connection's values: Terraform rejects them inside
/// `locals`, so the connection would fail `terraform validate`. One error per value: its
/// first such reference (text in a string is no reference).
pub fn each_in_locals(file: &Arc<SourceFile>, raw: &RawConnection) -> Vec<Diagnostic> {
    raw.fields
        .iter()
        .filter_map(|field| {
            let (span, what) = each_reference(field.value.tree.as_deref()?)?;
            Some(Diagnostic::at(
                Problem::EachInLocals(what.to_string()),
                file,
                span,
            ))
        })
        .collect()
}

/// The first `each.key` or `each.value` an expression reads: its span (`each.value`), and
/// `key` or `value`.
fn each_reference(expr: &syntax::Expr) -> Option<(Range<usize>, &'static str)> {
    expr.references().iter().find_map(|reference| {
        let syntax::Step::Attribute(name) = reference.steps.first()? else {
            return None;
        };
        let what = match (reference.root, name.text.as_str()) {
            ("each", "key") => "key",
            ("each", "value") => "value",
            _ => return None,
        };
        Some((reference.span.start..name.span.end, what))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_references_are_found_outside_string_text_only() {
        let find = |text: &str| {
            let body = syntax::parse(&format!("x = {text}\n")).unwrap();
            each_reference(&body.attributes[0].value).map(|(span, what)| (span.start - 4, what))
        };
        assert_eq!(find("each.value.port"), Some((0, "value")));
        assert_eq!(find("[each.key]"), Some((1, "key")));
        assert_eq!(find("\"${each.value}\""), Some((3, "value")));
        assert_eq!(find("\"each.value\""), None);
        assert_eq!(find("local.each.value"), None);
        assert_eq!(find("each.values"), None);
        assert_eq!(find("foreach.value"), None);
        assert_eq!(find("{ a = \"}\", b = each.key }"), Some((15, "key")));
    }
}
