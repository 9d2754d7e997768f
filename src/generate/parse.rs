//! Finds `locals { mutual_rules = ... }` in one file and reads it into raw connections,
//! every key and value with its byte span, nothing yet checked beyond its shape.

mod fast;

use std::ops::Range;
use std::sync::Arc;

use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::syntax::{self, Attribute, Body, ErrorKind, Expr, ExprKind, ObjectItem, ObjectKey};

/// A parsed source file (shared: a copy is two counted references).
#[derive(Clone)]
pub struct ParsedFile {
    pub file: Arc<SourceFile>,
    pub body: Arc<Body>,
}

/// One `mutual_rules = ...` attribute.
#[derive(Debug)]
pub struct RawDefinition {
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
    pub value: SourceValue,
}

/// A value's exact source text, and its literal value when it is one, else its syntax tree.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceValue {
    pub span: Range<usize>,
    pub text: String,
    pub literal: Option<Literal>,
    /// What a value that is not a literal is made of (a reference's steps, an object's items,
    /// a call's arguments), for readers that need its structure: never read from `text`.
    /// `None` for a literal, and for a value made up by mutualsg (`each.value.KEY`).
    pub tree: Option<Arc<Expr>>,
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
    List(Vec<SourceValue>),
}

impl SourceValue {
    /// Its tree, a literal's made from its value (a list has none).
    pub fn tree_or_literal(&self) -> Option<Arc<Expr>> {
        if self.tree.is_some() {
            return self.tree.clone();
        }
        let kind = match self.literal.as_ref()? {
            Literal::String(value) => ExprKind::String(value.clone()),
            Literal::Int(value) => ExprKind::Number(Some(*value)),
            Literal::Bool(value) => ExprKind::Bool(*value),
            Literal::Null => ExprKind::Null,
            Literal::Other => ExprKind::Number(None),
            Literal::List(_) => return None,
        };
        Some(Arc::new(Expr {
            span: self.span.clone(),
            kind,
        }))
    }
}

/// The name of the local this tool reads.
pub const LOCAL_NAME: &str = "mutual_rules";

/// Parses a file and returns its `mutual_rules` definitions (usually none or one).
pub fn parse_file(file: &Arc<SourceFile>) -> Result<Vec<RawDefinition>, Vec<Diagnostic>> {
    parse_rules_file(file)?.definitions
}

/// A parsed file that mentions `mutual_rules`.
pub struct RulesFile {
    /// Its syntax tree, for the warnings. Its `mutual_rules` values may be blanked out.
    pub body: Body,
    pub definitions: Result<Vec<RawDefinition>, Vec<Diagnostic>>,
}

/// Parses a file that mentions `mutual_rules`: by the fast reader when the definitions have
/// the common shape, by the syntax layer alone otherwise (and for every error).
pub fn parse_rules_file(file: &Arc<SourceFile>) -> Result<RulesFile, Vec<Diagnostic>> {
    if let Some(parsed) = confirmed_fast_read(file)? {
        return Ok(parsed);
    }
    let body = parse_body(file)?;
    let definitions = definitions(file, &body);
    Ok(RulesFile { body, definitions })
}

/// The fast reader's definitions, confirmed by the syntax layer on the file with their values
/// blanked out: each must be, at the same offsets, the `mutual_rules` of a `locals` block.
/// `None` where it does not answer. Public for the tests that compare it with the full parse.
pub fn read_fast(file: &Arc<SourceFile>) -> Option<RulesFile> {
    confirmed_fast_read(file).ok().flatten()
}

/// [`read_fast`]; `Ok(None)` where the slow path must read the file (and report its errors).
fn confirmed_fast_read(file: &Arc<SourceFile>) -> Result<Option<RulesFile>, Vec<Diagnostic>> {
    if !file.invalid_utf8.is_empty() {
        return Ok(None);
    }
    let Some(found) = fast::read(&file.text) else {
        return Ok(None);
    };
    let blanked = fast::blank(
        &file.text,
        found.iter().map(|found| found.value_span.clone()),
    );
    // A syntax error is reported from the file as written, by the slow path.
    let Ok(body) = syntax::parse(&blanked) else {
        return Ok(None);
    };
    let attributes: Vec<_> = rules_attributes(&body).collect();
    let confirmed = attributes.len() == found.len()
        && attributes.iter().zip(&found).all(|(attribute, found)| {
            attribute.name.span == found.key_span && attribute.value.span == found.value_span
        });
    if !confirmed {
        return Ok(None);
    }
    let definitions = found
        .into_iter()
        .map(|found| RawDefinition {
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
) -> Result<Vec<RawDefinition>, Vec<Diagnostic>> {
    let mut definitions = Vec::new();
    let mut errors = Vec::new();
    for attribute in rules_attributes(body) {
        let reader = Reader { file };
        match reader.connections(&attribute.value) {
            Ok(connections) => definitions.push(RawDefinition {
                file: Arc::clone(file),
                key_span: attribute.name.span.clone(),
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
    body.blocks_of("locals")
        .filter_map(|block| block.body.attribute(LOCAL_NAME))
}

/// Parses a whole file; a syntax error becomes a located diagnostic.
pub fn parse_body(file: &Arc<SourceFile>) -> Result<Body, Vec<Diagnostic>> {
    parse_body_read(file, None)
}

/// [`parse_body`], each top-level block read as `reading` says for its type (`None`: whole).
pub fn parse_body_read(
    file: &Arc<SourceFile>,
    reading: Option<fn(&str) -> syntax::Reading>,
) -> Result<Body, Vec<Diagnostic>> {
    let parsed = match reading {
        Some(reading) => syntax::parse_selected(&file.text, &file.invalid_utf8, reading),
        None => syntax::parse_with_comment_spans(&file.text, &file.invalid_utf8),
    };
    match parsed {
        Ok((body, comments)) => {
            file.keep_comment_spans(comments);
            Ok(body)
        }
        Err(error) => {
            let problem = match error.kind {
                ErrorKind::Syntax => Problem::Syntax(error.message.to_string()),
                ErrorKind::TooDeep => Problem::NestedTooDeeply(syntax::MAX_DEPTH),
            };
            Err(vec![Diagnostic::at(problem, file, error.span)])
        }
    }
}

struct Reader<'a> {
    file: &'a Arc<SourceFile>,
}

impl Reader<'_> {
    fn error(&self, problem: Problem, span: Range<usize>) -> Diagnostic {
        Diagnostic::at(problem, self.file, span)
    }

    fn connections(&self, value: &Expr) -> Result<Vec<RawConnection>, Vec<Diagnostic>> {
        let mut connections = Vec::new();
        let mut errors = Vec::new();
        let mut push = |result: Result<RawConnection, Vec<Diagnostic>>| match result {
            Ok(connection) => connections.push(connection),
            Err(mut found) => errors.append(&mut found),
        };
        match &value.kind {
            ExprKind::Tuple(elements) => {
                for element in elements {
                    push(self.connection(element, None));
                }
            }
            ExprKind::Object(items) => {
                for item in items {
                    let key = self.object_key(item);
                    push(key.and_then(|key| self.connection(&item.value, Some(key))));
                }
            }
            _ => return Err(vec![self.error(Problem::NotLiteral, value.span.clone())]),
        }
        if errors.is_empty() {
            Ok(connections)
        } else {
            Err(errors)
        }
    }

    /// An object key as a string: `key` or `"key"`.
    fn object_key(&self, item: &ObjectItem) -> Result<(String, Range<usize>), Vec<Diagnostic>> {
        let span = item.key_span.clone();
        match &item.key {
            ObjectKey::Ident(text) | ObjectKey::String(text) => Ok((text.to_string(), span)),
            ObjectKey::Expr => Err(vec![self.error(
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
        value: &Expr,
        map_key: Option<(String, Range<usize>)>,
    ) -> Result<RawConnection, Vec<Diagnostic>> {
        let span = value.span.clone();
        let Some(items) = value.object() else {
            return Err(vec![self.error(Problem::ConnectionNotObject, span)]);
        };
        Ok(RawConnection {
            span,
            map_key,
            fields: self.fields(items)?,
        })
    }

    fn fields(&self, items: &[ObjectItem]) -> Result<Vec<Field>, Vec<Diagnostic>> {
        let mut fields: Vec<Field> = Vec::new();
        let mut errors = Vec::new();
        for item in items {
            let (key, key_span) = match self.object_key(item) {
                Ok(key) => key,
                Err(mut found) => {
                    errors.append(&mut found);
                    continue;
                }
            };
            // Terraform takes the last of a key given twice; in a connection it is surely a
            // mistake, so it is refused.
            if let Some(first) = fields.iter().find(|field| field.key == key) {
                errors.push(
                    self.error(Problem::DuplicateKey(key.clone()), key_span.clone())
                        .with_note("first given here", self.file, first.key_span.clone()),
                );
                continue;
            }
            if let Some((key, first, again)) = repeated_key(&item.value) {
                errors.push(
                    self.error(Problem::DuplicateKey(key.to_string()), again)
                        .with_note("first given here", self.file, first),
                );
                continue;
            }
            let value = self.value(&item.value);
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

    fn value(&self, expr: &Expr) -> SourceValue {
        value(self.file, expr)
    }
}

/// A key given twice in an object anywhere inside a value (`tags = { a = 1, a = 2 }`), with
/// the spans of both: Terraform takes the last, but inside `mutual_rules` it is surely a
/// mistake, and it would be copied into the generated file.
fn repeated_key(expr: &Expr) -> Option<(&str, Range<usize>, Range<usize>)> {
    match &expr.kind {
        ExprKind::Object(items) => items
            .iter()
            .enumerate()
            .find_map(|(at, item)| {
                let key = item.key.as_str()?;
                let first = items[..at]
                    .iter()
                    .find(|other| other.key.as_str() == Some(key))?;
                Some((key, first.key_span.clone(), item.key_span.clone()))
            })
            .or_else(|| items.iter().find_map(|item| repeated_key(&item.value))),
        ExprKind::Tuple(elements) => elements.iter().find_map(repeated_key),
        _ => None,
    }
}

/// An expression's source text and, when it is one, its literal value.
pub fn value(file: &SourceFile, expr: &Expr) -> SourceValue {
    let literal = match &expr.kind {
        ExprKind::Tuple(elements) => Some(Literal::List(
            elements
                .iter()
                .map(|element| value(file, element))
                .collect(),
        )),
        ExprKind::String(string) => Some(Literal::String(string.clone())),
        ExprKind::Number(int) => Some(int.map_or(Literal::Other, Literal::Int)),
        ExprKind::Bool(value) => Some(Literal::Bool(*value)),
        ExprKind::Null => Some(Literal::Null),
        _ => None,
    };
    SourceValue {
        text: file.text[expr.span.clone()].to_string(),
        tree: literal.is_none().then(|| Arc::new(expr.clone())),
        literal,
        span: expr.span.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<RawDefinition>, Vec<Diagnostic>> {
        let file = Arc::new(SourceFile::new("main.tf", text));
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
        // On a thread with the 2 MiB stack that rayon's workers have.
        let errors = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let deep = format!("locals {{\n  mutual_rules = {}\n}}\n", "[".repeat(100_000));
                parse(&deep).unwrap_err()
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(
            *errors[0].problem,
            Problem::NestedTooDeeply(crate::syntax::MAX_DEPTH)
        );
        // At the first bracket past the limit: line 2, column 17 + MAX_DEPTH.
        let column = 17 + crate::syntax::MAX_DEPTH + 1;
        assert_eq!(errors[0].line_column(), Some((2, column)));
    }

    #[test]
    fn a_long_chain_of_operators_is_read_without_a_limit() {
        let chain = format!(
            "locals {{\n  mutual_rules = 1{}\n}}\n",
            " + 1".repeat(100_000)
        );
        let errors = parse(&chain).unwrap_err();
        assert_eq!(*errors[0].problem, Problem::NotLiteral);
    }

    #[test]
    fn a_carriage_return_that_ends_no_line_is_rejected_as_terraform_does() {
        let errors =
            parse("locals {\n  mutual_rules = [{ tags = { \rteam = \"web\" } }]\n}\n").unwrap_err();
        assert_eq!(
            *errors[0].problem,
            Problem::Syntax("Invalid character".into())
        );
        assert_eq!(errors[0].source.as_ref().unwrap().1, 38..39);
        // In a string, as Terraform reports it: where the line ends.
        let errors = parse("locals {\n  mutual_rules = [{ a = \"x\ry\" }]\n}\n").unwrap_err();
        assert_eq!(
            *errors[0].problem,
            Problem::Syntax("Invalid multi-line string".into())
        );
        assert_eq!(errors[0].line_column(), Some((2, 27)));
        let crlf = "locals {\r\n  mutual_rules = [{\r\n    tags = {\r\n      team = \"web\"\r\n    }\r\n  }]\r\n}\r\n";
        assert!(parse(crlf).is_ok());
    }

    #[test]
    fn a_syntax_error_span_never_splits_a_character() {
        // An unterminated string ending in "é": the error is at the end of the file.
        let text = "locals {\n  mutual_rules = [\"é";
        let errors = parse(text).unwrap_err();
        let (_, span) = errors[0].source.clone().unwrap();
        assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        let errors = parse("locals {\n  mutual_rules = a\u{feff}b\n}\n").unwrap_err();
        let (_, span) = errors[0].source.clone().unwrap();
        assert_eq!(span, 27..30, "the whole U+FEFF character");
    }

    /// The fast reader's definitions, where it answers, against the full parser's.
    fn fast_and_slow(file: &Arc<SourceFile>) -> Option<(String, String)> {
        let fast = read_fast(file)?.definitions;
        let slow = parse_body(file).and_then(|body| definitions(file, &body));
        Some((format!("{fast:?}"), format!("{slow:?}")))
    }

    #[test]
    fn the_fast_reader_reads_what_the_parser_reads_on_every_fixture_and_seed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut compared = 0;
        for dir in ["fixtures", "fuzz/corpus"] {
            for entry in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name() {
                let entry = entry.unwrap();
                let Ok(bytes) = std::fs::read(entry.path()) else {
                    continue;
                };
                let file = SourceFile::decode(entry.path(), bytes);
                if !file.invalid_utf8.is_empty() {
                    continue;
                }
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
    fn the_fast_reader_agrees_with_the_parser_on_edge_cases() {
        for value in [
            "[{ a = -0, b = - 5, c = 007, d = 999999999999999999 }]",
            "[{ \"a\" = \"x\", b: \"\t\u{e9}\" }]",
            "[\r\n  { a = 1 }, # c\r\n  { a = 2 } // d\r\n]",
            "{\n  x = { a = [1,\n 2,] }, # c\n  \"y\" = {}\n}",
            "[{ a = b.c[0].d, e = null, f = false, g = [[]], h = { i = { j = 1 } } }]",
            "[{ a-b = 1, _c = d-e }]",
        ] {
            let file = Arc::new(SourceFile::new(
                "main.tf",
                format!("locals {{\n  mutual_rules = {value}\n}}\n"),
            ));
            let (fast, slow) = fast_and_slow(&file).unwrap_or_else(|| panic!("{value}"));
            assert_eq!(fast, slow, "{value}");
        }
    }

    #[test]
    fn the_parser_confirms_what_the_fast_reader_cannot_see() {
        for text in [
            // An operator after the list.
            "locals {\n  mutual_rules = [{ a = 1 }].b\n}\n",
            // Not in a `locals` block.
            "module \"m\" {\n  mutual_rules = [{ a = 1 }]\n}\n",
            // Inside a heredoc.
            "locals {\n  x = <<EOT\n  mutual_rules = [{ a = 1 }]\nEOT\n}\n",
        ] {
            let file = Arc::new(SourceFile::new("main.tf", text));
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
