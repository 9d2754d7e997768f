//! Finds `locals { mutual_rules = ... }` in one file and reads it into raw connections,
//! every key and value with its byte span, nothing yet checked beyond its shape.

mod bounded;
mod fast;

use std::ops::Range;
use std::sync::Arc;

use hcl_edit::Span;
use hcl_edit::expr::{Expression, Object, ObjectKey, UnaryOperator};
use hcl_edit::structure::{Attribute, Body};

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
    parse_rules_file(file)?.definitions
}

/// A parsed file that mentions `mutual_rules`.
pub struct RulesFile {
    /// Its syntax tree, for the warnings. Its `mutual_rules` values may be blanked out.
    pub body: Body,
    pub definitions: Result<Vec<Definition>, Vec<Diagnostic>>,
}

/// Parses a file that mentions `mutual_rules`: by the fast reader when the definitions have
/// the common shape, by hcl-edit alone otherwise (and for every error).
pub fn parse_rules_file(file: &Arc<SourceFile>) -> Result<RulesFile, Vec<Diagnostic>> {
    if let Some(parsed) = confirmed_fast_read(file)? {
        return Ok(parsed);
    }
    let body = parse_body(file)?;
    let definitions = definitions(file, &body);
    Ok(RulesFile { body, definitions })
}

/// The fast reader's definitions, confirmed by hcl-edit on the file with their values
/// blanked out: each must be, at the same offsets, the `mutual_rules` of a `locals` block.
/// `None` where it does not answer. Public for the tests that compare it with hcl-edit.
pub fn read_fast(file: &Arc<SourceFile>) -> Option<RulesFile> {
    confirmed_fast_read(file).ok().flatten()
}

/// [`read_fast`], or the error that hcl-edit gave up on the rest of the file (which it would
/// again on the file as written: no second wait).
fn confirmed_fast_read(file: &Arc<SourceFile>) -> Result<Option<RulesFile>, Vec<Diagnostic>> {
    let Some(found) = fast::read(&file.text) else {
        return Ok(None);
    };
    let blanked = fast::blank(
        &file.text,
        found.iter().map(|found| found.value_span.clone()),
    );
    // A syntax error is reported from the file as written, by the slow path.
    let Ok(body) = bounded::parse(Arc::new(blanked)).map_err(|budget| timed_out(file, budget))?
    else {
        return Ok(None);
    };
    let attributes: Vec<_> = rules_attributes(&body).collect();
    let confirmed = attributes.len() == found.len()
        && attributes.iter().zip(&found).all(|(attribute, found)| {
            span_of(&attribute.key) == found.key_span
                && span_of(&attribute.value) == found.value_span
        });
    if !confirmed {
        return Ok(None);
    }
    let definitions = found
        .into_iter()
        .map(|found| Definition {
            file: Arc::clone(file),
            key_span: found.key_span,
            connections: found.connections,
        })
        .collect();
    Ok(Some(RulesFile {
        body,
        definitions: Ok(definitions),
    }))
}

/// The `mutual_rules` definitions of a parsed file.
pub fn definitions(
    file: &Arc<SourceFile>,
    body: &Body,
) -> Result<Vec<Definition>, Vec<Diagnostic>> {
    let mut definitions = Vec::new();
    let mut errors = Vec::new();
    for attribute in rules_attributes(body) {
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

/// The `mutual_rules` attribute of each `locals` block (the first, if one is given twice).
fn rules_attributes(body: &Body) -> impl Iterator<Item = &Attribute> {
    body.blocks()
        .filter(|block| block.ident.as_str() == "locals")
        .filter_map(|block| block.body.get_attribute(LOCAL_NAME))
}

/// Parses a whole file; a syntax error becomes a located diagnostic.
pub fn parse_body(file: &Arc<SourceFile>) -> Result<Body, Vec<Diagnostic>> {
    let parsed = bounded::parse(Arc::clone(file) as bounded::Text)
        .map_err(|budget| timed_out(file, budget))?;
    parsed.map_err(|error| {
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

fn timed_out(file: &Arc<SourceFile>, budget: std::time::Duration) -> Vec<Diagnostic> {
    let span = likely_syntax_error(&file.text);
    vec![Diagnostic::at(
        Problem::ParseTimeout(budget.as_secs()),
        file,
        span,
    )]
}

/// Where a file that hcl-edit gave up on most likely goes wrong: the first bracket closed by
/// the wrong one, or else the last one left open (strings and comments skipped, roughly).
fn likely_syntax_error(text: &str) -> Range<usize> {
    let bytes = text.as_bytes();
    let mut open: Vec<usize> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                at += 1;
                while at < bytes.len() && !matches!(bytes[at], b'"' | b'\n') {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => at = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |end| at + end),
            b'{' | b'[' | b'(' => open.push(at),
            close @ (b'}' | b']' | b')') => {
                let opener = open.pop().map(|opened| bytes[opened]);
                let expected = match close {
                    b'}' => b'{',
                    b']' => b'[',
                    _ => b'(',
                };
                if opener != Some(expected) {
                    return at..at + 1;
                }
            }
            _ => {}
        }
        at += 1;
    }
    open.last().map_or(0..0, |&opened| opened..opened + 1)
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

    /// The fast reader's definitions, where it answers, against hcl-edit's.
    fn fast_and_slow(file: &Arc<SourceFile>) -> Option<(String, String)> {
        let fast = read_fast(file)?.definitions;
        let slow = parse_body(file).and_then(|body| definitions(file, &body));
        Some((format!("{fast:?}"), format!("{slow:?}")))
    }

    #[test]
    fn the_fast_reader_reads_what_hcl_edit_reads_on_every_fixture_and_seed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut compared = 0;
        for dir in ["fixtures", "fuzz/corpus"] {
            for entry in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name() {
                let entry = entry.unwrap();
                let Ok(bytes) = std::fs::read(entry.path()) else {
                    continue;
                };
                let Some(file) = SourceFile::decode(entry.path(), bytes) else {
                    continue;
                };
                if let Some((fast, slow)) = fast_and_slow(&Arc::new(file)) {
                    assert_eq!(fast, slow, "{}", entry.path().display());
                    compared += 1;
                }
            }
        }
        // Most fixtures have the common shape: the comparison must have covered them.
        assert!(
            compared >= 50,
            "only {compared} files read by the fast reader"
        );
    }

    #[test]
    fn the_fast_reader_agrees_with_hcl_edit_on_edge_cases() {
        for value in [
            "[{ a = -0, b = - 5, c = 007, d = 999999999999999999 }]",
            "[{ \"a\" = \"x\", b: \"\t\u{e9}\" }]",
            "[\r\n  { a = 1 }, # c\r\n  { a = 2 } // d\r\n]",
            "{\n  x = { a = [1,\n 2,] }, # c\n  \"y\" = {}\n}",
            "[{ a = b.c[0].d, e = null, f = false, g = [[]], h = { i = { j = 1 } } }]",
            "[{ a-b = 1, _c = d-e }]",
        ] {
            let file = Arc::new(SourceFile {
                path: PathBuf::from("main.tf"),
                text: format!("locals {{\n  mutual_rules = {value}\n}}\n"),
            });
            let (fast, slow) = fast_and_slow(&file).unwrap_or_else(|| panic!("{value}"));
            assert_eq!(fast, slow, "{value}");
        }
    }

    #[test]
    fn hcl_edit_confirms_what_the_fast_reader_cannot_see() {
        for text in [
            // An operator after the list.
            "locals {\n  mutual_rules = [{ a = 1 }].b\n}\n",
            // Not in a `locals` block.
            "module \"m\" {\n  mutual_rules = [{ a = 1 }]\n}\n",
            // Inside a heredoc.
            "locals {\n  x = <<EOT\n  mutual_rules = [{ a = 1 }]\nEOT\n}\n",
        ] {
            let file = Arc::new(SourceFile {
                path: PathBuf::from("main.tf"),
                text: text.to_string(),
            });
            assert!(read_fast(&file).is_none(), "{text}");
        }
    }

    #[test]
    fn ignores_other_locals_and_reports_syntax_errors() {
        assert!(parse("locals {\n  other = 1\n}\n").unwrap().is_empty());
        let errors = parse("locals {\n  mutual_rules = [\n").unwrap_err();
        assert!(matches!(*errors[0].problem, Problem::Syntax(_)));
    }
}
