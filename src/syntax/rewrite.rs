//! Text with some of the references it reads replaced, found in the parsed tree: never text
//! inside a string, a longer name (`foreach.value`, `each.values`) or a `for` expression's
//! own variable.

use std::ops::Range;

use super::{Body, Expr, Reference, SyntaxError};

/// What takes the place of the start of a reference: its name and its first `steps` steps
/// (`each.value.port` with one step replaced by `rule` is `rule.port`).
pub struct Replacement {
    pub steps: usize,
    pub text: String,
}

/// The text of `expr` (of a file whose text is `source`) with each reference that `replace`
/// answers for replaced.
pub fn replace_references(
    source: &str,
    expr: &Expr,
    replace: impl FnMut(&Reference<'_>) -> Option<Replacement>,
) -> String {
    replaced(&source[..expr.span.end], expr.span.start, &[expr], replace)
}

/// `text`, a whole file, with each reference of every attribute, at any depth, that
/// `replace` answers for replaced.
pub fn replace_references_in_file(
    text: &str,
    replace: impl FnMut(&Reference<'_>) -> Option<Replacement>,
) -> Result<String, SyntaxError> {
    let body = super::parse(text)?;
    let mut values = Vec::new();
    attribute_values(&body, &mut values);
    Ok(replaced(text, 0, &values, replace))
}

fn attribute_values<'a>(body: &'a Body, values: &mut Vec<&'a Expr>) {
    values.extend(body.attributes.iter().map(|attribute| &attribute.value));
    for block in &body.blocks {
        attribute_values(&block.body, values);
    }
}

/// `text[from..]` with the replacements made.
fn replaced(
    text: &str,
    from: usize,
    exprs: &[&Expr],
    mut replace: impl FnMut(&Reference<'_>) -> Option<Replacement>,
) -> String {
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for expr in exprs {
        for reference in expr.references() {
            let Some(Replacement { steps, text }) = replace(&reference) else {
                continue;
            };
            let end = match steps {
                0 => reference.span.start + reference.root.len(),
                steps => match reference.steps.get(steps - 1) {
                    Some(step) => step.span().end,
                    None => continue,
                },
            };
            edits.push((reference.span.start..end, text));
        }
    }
    edits.sort_by_key(|(range, _)| range.start);
    let mut out = String::with_capacity(text.len() - from);
    let mut at = from;
    for (range, replacement) in edits {
        // A reference inside one already replaced (`x[each.key]` replaced whole) goes with it.
        if range.start < at {
            continue;
        }
        out.push_str(&text[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn each_value_as_rule(reference: &Reference<'_>) -> Option<Replacement> {
        let names: Vec<&str> = reference.names().take(2).collect();
        (names == ["each", "value"]).then(|| Replacement {
            steps: 1,
            text: "rule".to_string(),
        })
    }

    /// The value of `x = ...` in `text`, and `text`.
    fn replaced_value(text: &str) -> String {
        let body = crate::syntax::parse(text).unwrap();
        let value = &body.attribute("x").unwrap().value;
        replace_references(text, value, each_value_as_rule)
    }

    #[test]
    fn only_whole_references_are_replaced() {
        assert_eq!(
            replaced_value(
                r#"x = lookup(each.value, "port", foreach.value) + each.values + "each.value ${each.value.x}""#
            ),
            r#"lookup(rule, "port", foreach.value) + each.values + "each.value ${rule.x}""#
        );
    }

    #[test]
    fn a_for_variable_is_not_the_object() {
        assert_eq!(
            replaced_value("x = [for each in y : each.value]"),
            "[for each in y : each.value]"
        );
    }

    #[test]
    fn a_file_is_replaced_in_every_block() {
        let text = "a = each.value\n\nresource \"x\" \"y\" {\n  b = [each.value[0]]\n}\n";
        assert_eq!(
            replace_references_in_file(text, each_value_as_rule).unwrap(),
            "a = rule\n\nresource \"x\" \"y\" {\n  b = [rule[0]]\n}\n"
        );
    }
}
