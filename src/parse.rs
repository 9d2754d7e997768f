//! Finds `locals { mutual_rules = ... }` in one file and reads it into raw connections,
//! every key and value with its byte span, nothing yet checked beyond its shape.

use std::ops::Range;
use std::sync::Arc;

use hcl_edit::Span;
use hcl_edit::expr::{Expression, Object, ObjectKey, UnaryOperator};
use hcl_edit::structure::Body;

use crate::diagnostics::{Diagnostic, Problem, SourceFile};

/// One `mutual_rules = ...` attribute.
#[derive(Debug)]
pub struct Definition {
    pub file: Arc<SourceFile>,
    /// The `mutual_rules` key, for "defined again here".
    pub key_span: Range<usize>,
    pub connections: Vec<RawConnection>,
}

/// One element of the list, or one entry of the map.
#[derive(Debug)]
pub struct RawConnection {
    pub span: Range<usize>,
    /// The map key, in the map form.
    pub map_key: Option<(String, Range<usize>)>,
    pub fields: Vec<Field>,
}

#[derive(Debug)]
pub struct Field {
    pub key: String,
    pub key_span: Range<usize>,
    pub value: Value,
}

/// A value's exact source text, and its literal value when it is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub span: Range<usize>,
    pub text: String,
    pub literal: Option<Literal>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    String(String),
    /// An integer; HCL numbers with a fraction or exponent are `Other`.
    Int(i64),
    Bool(bool),
    Null,
    /// A number that is not an integer.
    Other,
    /// A literal list `[...]`, its elements read the same way.
    List(Vec<Value>),
}

/// The name of the local this tool reads.
pub const LOCAL_NAME: &str = "mutual_rules";

/// Parses a file and returns its `mutual_rules` definitions (usually none or one).
pub fn parse_file(file: &Arc<SourceFile>) -> Result<Vec<Definition>, Vec<Diagnostic>> {
    definitions(file, &parse_body(file)?)
}

/// The `mutual_rules` definitions of a parsed file.
pub fn definitions(
    file: &Arc<SourceFile>,
    body: &Body,
) -> Result<Vec<Definition>, Vec<Diagnostic>> {
    let mut definitions = Vec::new();
    let mut errors = Vec::new();
    for block in body
        .blocks()
        .filter(|block| block.ident.as_str() == "locals")
    {
        let Some(attribute) = block.body.get_attribute(LOCAL_NAME) else {
            continue;
        };
        let reader = Reader { file };
        match reader.connections(&attribute.value) {
            Ok(connections) => definitions.push(Definition {
                file: Arc::clone(file),
                key_span: span_of(&attribute.key),
                connections,
            }),
            Err(mut found) => errors.append(&mut found),
        }
    }
    if errors.is_empty() {
        Ok(definitions)
    } else {
        Err(errors)
    }
}

/// Parses a whole file; a syntax error becomes a located diagnostic.
pub fn parse_body(file: &Arc<SourceFile>) -> Result<Body, Vec<Diagnostic>> {
    hcl_edit::parser::parse_body(&file.text).map_err(|error| {
        // The offending character, whole: hcl-edit clamps an error at the end of the file to
        // its last byte, which may be inside a multi-byte character, and a span must not split
        // one.
        let mut offset = error.location().offset().min(file.text.len());
        while !file.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let end = file.text[offset..]
            .chars()
            .next()
            .map_or(offset, |c| offset + c.len_utf8());
        let message = error.message();
        let problem = match depth_limit(message) {
            Some(limit) => Problem::NestedTooDeeply(limit.to_string()),
            None => Problem::Syntax(message.to_string()),
        };
        vec![Diagnostic::at(problem, file, offset..end)]
    })
}

/// The limit in hcl-edit's errors for input nested past its bounds (64 levels, 128 chained
/// binary operators), which keep its recursive parser, and the recursive drop of the tree it
/// builds, from overflowing the stack on input like 100,000 `[`. Terraform has no such limits,
/// so this is not a syntax error.
fn depth_limit(message: &str) -> Option<&str> {
    let (what, limit) = message.split_once("; expected at most ")?;
    matches!(what, "invalid nesting depth" | "invalid binary operation").then_some(limit)
}

/// `resource "type" "name"`: where a block starts, for an underline that does not cover
/// the whole body.
pub fn header_span(block: &hcl_edit::structure::Block) -> Range<usize> {
    let start = span_of(&block.ident).start;
    let end = block
        .labels
        .last()
        .map_or(start, |label| span_of(label).end);
    start..end
}

pub fn span_of(node: &impl Span) -> Range<usize> {
    node.span().unwrap_or(0..0)
}

struct Reader<'a> {
    file: &'a Arc<SourceFile>,
}

impl Reader<'_> {
    fn error(&self, problem: Problem, span: Range<usize>) -> Diagnostic {
        Diagnostic::at(problem, self.file, span)
    }

    fn connections(&self, value: &Expression) -> Result<Vec<RawConnection>, Vec<Diagnostic>> {
        let mut connections = Vec::new();
        let mut errors = Vec::new();
        let mut push = |result: Result<RawConnection, Vec<Diagnostic>>| match result {
            Ok(connection) => connections.push(connection),
            Err(mut found) => errors.append(&mut found),
        };
        match value {
            Expression::Array(array) => {
                for element in array.iter() {
                    push(self.connection(element, None));
                }
            }
            Expression::Object(object) => {
                for (key, entry) in object.iter() {
                    let key = self.object_key(key);
                    push(key.and_then(|key| self.connection(entry.expr(), Some(key))));
                }
            }
            other => return Err(vec![self.error(Problem::NotLiteral, span_of(other))]),
        }
        if errors.is_empty() {
            Ok(connections)
        } else {
            Err(errors)
        }
    }

    /// An object key as a string: `key` or `"key"`.
    fn object_key(&self, key: &ObjectKey) -> Result<(String, Range<usize>), Vec<Diagnostic>> {
        let span = span_of(key);
        match key {
            ObjectKey::Ident(ident) => Ok((ident.as_str().to_string(), span)),
            ObjectKey::Expression(Expression::String(string)) => Ok((string.value().clone(), span)),
            ObjectKey::Expression(_) => Err(vec![self.error(
                Problem::WrongType {
                    key: "a key",
                    expected: "a name or a quoted string",
                },
                span,
            )]),
        }
    }

    fn connection(
        &self,
        value: &Expression,
        map_key: Option<(String, Range<usize>)>,
    ) -> Result<RawConnection, Vec<Diagnostic>> {
        let span = span_of(value);
        let Expression::Object(object) = value else {
            return Err(vec![self.error(Problem::ConnectionNotObject, span)]);
        };
        Ok(RawConnection {
            span,
            map_key,
            fields: self.fields(object)?,
        })
    }

    fn fields(&self, object: &Object) -> Result<Vec<Field>, Vec<Diagnostic>> {
        let mut fields: Vec<Field> = Vec::new();
        let mut errors = Vec::new();
        for (key, value) in object.iter() {
            let (key, key_span) = match self.object_key(key) {
                Ok(key) => key,
                Err(mut found) => {
                    errors.append(&mut found);
                    continue;
                }
            };
            // hcl-edit rejects `{ a = 1, a = 2 }` but not `{ a = 1, "a" = 2 }`; Terraform rejects both.
            if let Some(first) = fields.iter().find(|field| field.key == key) {
                errors.push(
                    self.error(Problem::DuplicateKey(key.clone()), key_span.clone())
                        .with_note("first given here", self.file, first.key_span.clone()),
                );
                continue;
            }
            let value = self.value(value.expr());
            // hcl-edit reads a carriage return that ends no line as a space; Terraform rejects
            // it ("Invalid character"), and it must not reach the generated file.
            if let Some(at) = stray_carriage_return(&value.text) {
                let at = value.span.start + at;
                errors.push(self.error(Problem::Syntax(STRAY_CR.to_string()), at..at + 1));
                continue;
            }
            fields.push(Field {
                key,
                key_span,
                value,
            });
        }
        if errors.is_empty() {
            Ok(fields)
        } else {
            Err(errors)
        }
    }

    fn value(&self, expr: &Expression) -> Value {
        value(self.file, expr)
    }
}

const STRAY_CR: &str = "invalid character: a carriage return that does not end a line";

/// The offset of the first `\r` not followed by `\n`.
fn stray_carriage_return(text: &str) -> Option<usize> {
    text.match_indices('\r')
        .map(|(at, _)| at)
        .find(|&at| !text[at + 1..].starts_with('\n'))
}

/// An expression's source text and, when it is one, its literal value.
pub fn value(file: &SourceFile, expr: &Expression) -> Value {
    let span = span_of(expr);
    let literal = match expr {
        Expression::Array(array) => Some(Literal::List(
            array.iter().map(|element| value(file, element)).collect(),
        )),
        scalar => literal(scalar),
    };
    Value {
        text: file.text[span.clone()].to_string(),
        literal,
        span,
    }
}

fn literal(expr: &Expression) -> Option<Literal> {
    match expr {
        Expression::String(string) => Some(Literal::String(string.value().clone())),
        Expression::Number(number) => Some(number_literal(number.value().as_i64())),
        Expression::Bool(value) => Some(Literal::Bool(*value.value())),
        Expression::Null(_) => Some(Literal::Null),
        Expression::UnaryOp(op) if *op.operator.value() == UnaryOperator::Neg => match &op.expr {
            Expression::Number(number) => Some(number_literal(
                number.value().as_i64().and_then(i64::checked_neg),
            )),
            _ => None,
        },
        _ => None,
    }
}

fn number_literal(int: Option<i64>) -> Literal {
    int.map_or(Literal::Other, Literal::Int)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn parse(text: &str) -> Result<Vec<Definition>, Vec<Diagnostic>> {
        let file = Arc::new(SourceFile {
            path: PathBuf::from("main.tf"),
            text: text.to_string(),
        });
        parse_file(&file)
    }

    #[test]
    fn reads_list_form_with_exact_text_and_literals() {
        let defs = parse(
            "locals {\n  mutual_rules = [\n    { source_sg_id = aws_security_group.a.id, destination_port = -1, protocol = \"TCP\" },\n  ]\n}\n",
        )
        .unwrap();
        let fields = &defs[0].connections[0].fields;
        assert_eq!(fields[0].key, "source_sg_id");
        assert_eq!(fields[0].value.text, "aws_security_group.a.id");
        assert_eq!(fields[0].value.literal, None);
        assert_eq!(fields[1].value.literal, Some(Literal::Int(-1)));
        assert_eq!(fields[2].value.literal, Some(Literal::String("TCP".into())));
    }

    #[test]
    fn reads_map_form_keys() {
        let defs = parse("locals {\n  mutual_rules = {\n    a_to_b = { protocol = \"all\" }\n    \"c\" = {}\n  }\n}\n").unwrap();
        let keys: Vec<_> = defs[0]
            .connections
            .iter()
            .map(|c| c.map_key.as_ref().unwrap().0.as_str())
            .collect();
        assert_eq!(keys, ["a_to_b", "c"]);
    }

    #[test]
    fn rejects_non_literal_and_quoted_duplicate_keys() {
        let errors = parse("locals {\n  mutual_rules = concat(local.a, local.b)\n}\n").unwrap_err();
        assert_eq!(*errors[0].problem, Problem::NotLiteral);
        let errors = parse("locals {\n  mutual_rules = [{ a = 1, \"a\" = 2 }]\n}\n").unwrap_err();
        assert_eq!(*errors[0].problem, Problem::DuplicateKey("a".into()));
    }

    #[test]
    fn deep_nesting_is_a_located_error_not_a_stack_overflow() {
        let deep = format!("locals {{\n  mutual_rules = {}\n}}\n", "[".repeat(100_000));
        let errors = parse(&deep).unwrap_err();
        let limit = "64 nested levels".to_string();
        assert_eq!(*errors[0].problem, Problem::NestedTooDeeply(limit));
        // At the first bracket past the limit: line 2, column 17 + 65.
        assert_eq!(errors[0].line_column(), Some((2, 82)));
        let chain = format!("locals {{\n  mutual_rules = 1{}\n}}\n", " + 1".repeat(200));
        let errors = parse(&chain).unwrap_err();
        let limit = "128 chained binary operators".to_string();
        assert_eq!(*errors[0].problem, Problem::NestedTooDeeply(limit));
    }

    #[test]
    fn a_carriage_return_that_ends_no_line_is_rejected_as_terraform_does() {
        let errors =
            parse("locals {\n  mutual_rules = [{ tags = { \rteam = \"web\" } }]\n}\n").unwrap_err();
        assert_eq!(*errors[0].problem, Problem::Syntax(STRAY_CR.into()));
        assert_eq!(errors[0].source.as_ref().unwrap().1, 38..39);
        let crlf = "locals {\r\n  mutual_rules = [{\r\n    tags = {\r\n      team = \"web\"\r\n    }\r\n  }]\r\n}\r\n";
        assert!(parse(crlf).is_ok());
    }

    #[test]
    fn a_syntax_error_span_never_splits_a_character() {
        // An unterminated string ending in "é": hcl-edit points at the file's last byte.
        let text = "locals {\n  mutual_rules = [\"é";
        let errors = parse(text).unwrap_err();
        let (_, span) = errors[0].source.clone().unwrap();
        assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        let errors = parse("locals {\n  mutual_rules = a\u{feff}b\n}\n").unwrap_err();
        let (_, span) = errors[0].source.clone().unwrap();
        assert_eq!(span, 27..30, "the whole U+FEFF character");
    }

    #[test]
    fn ignores_other_locals_and_reports_syntax_errors() {
        assert!(parse("locals {\n  other = 1\n}\n").unwrap().is_empty());
        let errors = parse("locals {\n  mutual_rules = [\n").unwrap_err();
        assert!(matches!(*errors[0].problem, Problem::Syntax(_)));
    }
}
