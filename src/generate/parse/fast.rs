//! A reader for the shape `mutual_rules` nearly always has: a list (or map) of objects whose
//! values are strings, integers, booleans, `null`, references and lists or objects of those.
//! It reads each byte once and builds no syntax tree: a 23 MB list in a few tens of
//! milliseconds, where building the full syntax tree takes far longer and far more memory.
//!
//! It answers only where it is sure that the full parser ([`crate::syntax`]) would read the same: anything else (a
//! function call, an operator, an escape in a string, a comment block, a duplicate key, any
//! error) makes it give up, and the file is read by the full parser alone, so results and
//! diagnostics are the same either way (a test compares both readers on every fixture).

use std::ops::Range;

use std::sync::Arc;

use super::{Field, LOCAL_NAME, Literal, RawConnection, SourceValue};
use crate::syntax::{Expr, ExprKind, Ident, ObjectItem, ObjectKey, Step, Traversal};

/// One `mutual_rules = ...` attribute read by this reader.
#[derive(Debug)]
pub struct Found {
    pub key_span: Range<usize>,
    pub value_span: Range<usize>,
    pub connections: Vec<RawConnection>,
}

/// Every `mutual_rules = [...]` (or `{...}`) that starts a line of `text`, read; `None` when
/// there is none or one is beyond this reader. Whether each is an attribute of a `locals`
/// block (and not, say, text in a heredoc) is for the caller to confirm with the full parser.
pub fn read(text: &str) -> Option<Vec<Found>> {
    let mut found = Vec::new();
    for key_start in memchr::memmem::find_iter(text.as_bytes(), LOCAL_NAME) {
        let mut reader = Reader::new(text, key_start);
        if let Some(value_start) = reader.attribute_value_start() {
            reader.at = value_start;
            let connections = reader.connections()?;
            found.push(Found {
                key_span: key_start..key_start + LOCAL_NAME.len(),
                value_span: value_start..reader.at,
                connections,
            });
        }
    }
    (!found.is_empty()).then_some(found)
}

/// `text` with the inside of each value span turned to spaces: what the full parser parses to check
/// the spans, in a fraction of the time the whole list would take it. Offsets are unchanged.
pub fn blank(text: &str, spans: impl IntoIterator<Item = Range<usize>>) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for span in spans {
        // The brackets stay, so the value is still a list or an object, now an empty one.
        bytes[span.start + 1..span.end - 1].fill(b' ');
    }
    // Whole characters (a value ends on an ASCII bracket) become spaces: still UTF-8.
    String::from_utf8(bytes).expect("blanking whole characters keeps UTF-8")
}

/// Nesting past this is left to the full parser, which reports its own limit.
const MAX_DEPTH: usize = 32;

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, at: usize) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            at,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.at + ahead).copied()
    }

    /// Where the value starts when the name at `self.at` is the key of an attribute on a line
    /// of its own: `  mutual_rules = [`.
    fn attribute_value_start(&mut self) -> Option<usize> {
        let line_start = self.bytes[..self.at]
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |newline| newline + 1);
        if !self.bytes[line_start..self.at]
            .iter()
            .all(|&byte| byte == b' ' || byte == b'\t')
        {
            return None;
        }
        self.at += LOCAL_NAME.len();
        self.skip_spaces();
        if self.peek()? != b'=' || self.peek_at(1) == Some(b'=') {
            return None;
        }
        self.at += 1;
        self.skip_spaces();
        matches!(self.peek()?, b'[' | b'{').then_some(self.at)
    }

    /// The list form `[{...}, ...]` or the map form `{ name = {...} ... }`.
    fn connections(&mut self) -> Option<Vec<RawConnection>> {
        let mut connections = Vec::new();
        if self.peek()? == b'[' {
            self.list(|reader| {
                connections.push(reader.connection(None)?);
                Some(())
            })?;
        } else {
            self.object_entries(|reader, key, key_span| {
                connections.push(reader.connection(Some((key.to_string(), key_span)))?);
                Some(())
            })?;
        }
        Some(connections)
    }

    /// One connection object, at `self.at`.
    fn connection(&mut self, map_key: Option<(String, Range<usize>)>) -> Option<RawConnection> {
        let start = self.at;
        let fields = self.object()?;
        Some(RawConnection {
            span: start..self.at,
            map_key,
            fields,
        })
    }

    /// Spaces and tabs.
    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    /// Spaces, line endings and line comments; `None` at a comment block or a carriage
    /// return that ends no line (the full parser reads that as a space, Terraform rejects it).
    fn skip_blank(&mut self) -> Option<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n') => self.at += 1,
                Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.at += 2,
                Some(b'#') => self.line_comment()?,
                Some(b'/') if self.peek_at(1) == Some(b'/') => self.line_comment()?,
                _ => return Some(()),
            }
        }
    }

    /// A `#` or `//` comment, up to its line ending.
    fn line_comment(&mut self) -> Option<()> {
        let rest = &self.bytes[self.at..];
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let body = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
        if memchr::memchr(b'\r', body).is_some() {
            return None;
        }
        self.at += body.len();
        Some(())
    }

    /// `[ item, item, ]`: every item read by `item`, which starts at the item.
    fn list(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.enter()?;
        self.at += 1;
        self.skip_blank()?;
        while self.peek()? != b']' {
            item(self)?;
            self.skip_blank()?;
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.skip_blank()?;
                }
                b']' => {}
                _ => return None,
            }
        }
        self.at += 1;
        self.depth -= 1;
        Some(())
    }

    /// An object's fields, each value read as a [`SourceValue`].
    fn object(&mut self) -> Option<Vec<Field>> {
        if self.peek()? != b'{' {
            return None;
        }
        let mut fields = Vec::new();
        self.object_entries(|reader, key, key_span| {
            let value = reader.value()?;
            fields.push(Field {
                key: key.to_string(),
                key_span,
                value,
            });
            Some(())
        })?;
        Some(fields)
    }

    /// `{ key = value ... }` with values read by `entry`, which starts at the value.
    fn object_entries(
        &mut self,
        mut entry: impl FnMut(&mut Self, &'a str, Range<usize>) -> Option<()>,
    ) -> Option<()> {
        let mut keys = Vec::new();
        self.object_entries_unchecked(|reader, key, span| {
            keys.push(key);
            entry(reader, key, span)
        })?;
        // The full parser rejects some keys given twice, with its own message: leave them all to it.
        keys.sort_unstable();
        keys.windows(2).all(|pair| pair[0] != pair[1]).then_some(())
    }

    fn object_entries_unchecked(
        &mut self,
        mut entry: impl FnMut(&mut Self, &'a str, Range<usize>) -> Option<()>,
    ) -> Option<()> {
        self.enter()?;
        self.at += 1;
        self.skip_blank()?;
        while self.peek()? != b'}' {
            let key_start = self.at;
            let key = match self.peek()? {
                b'"' => self.string()?,
                _ => self.ident()?,
            };
            // `for` opens a for expression; keywords are not names.
            if matches!(key, "for" | "true" | "false" | "null") && self.bytes[key_start] != b'"' {
                return None;
            }
            let key_span = key_start..self.at;
            self.skip_spaces();
            match self.peek()? {
                b'=' if self.peek_at(1) != Some(b'=') => {}
                b':' => {}
                _ => return None,
            }
            self.at += 1;
            self.skip_spaces();
            entry(self, key, key_span)?;
            self.skip_spaces();
            // What may end an item: the full parser's list, and nothing that would continue the value
            // (an operator, a traversal, a call).
            match self.peek()? {
                b'}' => break,
                b',' | b'\n' => self.at += 1,
                b'\r' if self.peek_at(1) == Some(b'\n') => self.at += 2,
                b'#' => self.line_comment_then_newline()?,
                b'/' if self.peek_at(1) == Some(b'/') => self.line_comment_then_newline()?,
                _ => return None,
            }
            self.skip_blank()?;
        }
        self.at += 1;
        self.depth -= 1;
        Some(())
    }

    fn line_comment_then_newline(&mut self) -> Option<()> {
        self.line_comment()?;
        match self.peek()? {
            b'\n' => self.at += 1,
            b'\r' if self.peek_at(1) == Some(b'\n') => self.at += 2,
            _ => return None,
        }
        Some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A value, with its literal when it is one, else its tree. What may follow it is for
    /// the caller.
    fn value(&mut self) -> Option<SourceValue> {
        let start = self.at;
        let mut tree = None;
        let literal = match self.peek()? {
            b'"' => Some(Literal::String(self.string()?.to_string())),
            b'[' => {
                let mut elements = Vec::new();
                self.list(|reader| {
                    elements.push(reader.value()?);
                    Some(())
                })?;
                Some(Literal::List(elements))
            }
            b'{' => {
                let mut items = Vec::new();
                self.object_entries(|reader, key, key_span| {
                    let quoted = reader.bytes[key_span.start] == b'"';
                    let value = reader.value()?;
                    items.push(ObjectItem {
                        key: if quoted {
                            ObjectKey::String(key.into())
                        } else {
                            ObjectKey::Ident(key.into())
                        },
                        key_span,
                        key_expr: None,
                        value: tree_of(&value),
                    });
                    Some(())
                })?;
                tree = Some(ExprKind::Object(items));
                None
            }
            b'-' => {
                self.at += 1;
                self.skip_spaces();
                Some(Literal::Int(self.integer()?.checked_neg()?))
            }
            b'0'..=b'9' => Some(Literal::Int(self.integer()?)),
            _ => match self.ident()? {
                "true" => Some(Literal::Bool(true)),
                "false" => Some(Literal::Bool(false)),
                "null" => Some(Literal::Null),
                root => {
                    let base = Expr {
                        span: start..self.at,
                        kind: ExprKind::Variable(root.into()),
                    };
                    let steps = self.traversal()?;
                    tree = Some(if steps.is_empty() {
                        base.kind
                    } else {
                        ExprKind::Traversal(Box::new(Traversal { base, steps }))
                    });
                    None
                }
            },
        };
        Some(SourceValue {
            span: start..self.at,
            text: self.text[start..self.at].to_string(),
            literal,
            tree: tree.map(|kind| {
                Arc::new(Expr {
                    span: start..self.at,
                    kind,
                })
            }),
        })
    }

    /// A quoted string without escapes or template sequences: its content.
    fn string(&mut self) -> Option<&'a str> {
        let start = self.at + 1;
        let mut at = start;
        loop {
            match *self.bytes.get(at)? {
                b'"' => break,
                b'\\' | b'\n' | b'\r' => return None,
                b'{' if matches!(self.bytes[at - 1], b'$' | b'%') => return None,
                byte if byte < 0x20 && byte != b'\t' => return None,
                _ => at += 1,
            }
        }
        self.at = at + 1;
        Some(&self.text[start..at])
    }

    /// Decimal digits, as many as surely fit an `i64`, and no fraction or exponent.
    fn integer(&mut self) -> Option<i64> {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        if self.at == start
            || self.at - start > 18
            || matches!(self.peek(), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        self.text[start..self.at].parse().ok()
    }

    /// An ASCII identifier (a Unicode one is left to the full parser).
    fn ident(&mut self) -> Option<&'a str> {
        let start = self.at;
        if !matches!(self.peek()?, b'a'..=b'z' | b'A'..=b'Z' | b'_') {
            return None;
        }
        while matches!(
            self.peek(),
            Some(b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-')
        ) {
            self.at += 1;
        }
        if self.peek().is_some_and(|byte| byte >= 0x80) {
            return None;
        }
        Some(&self.text[start..self.at])
    }

    /// `.name` and `[0]` steps right after a reference's first name.
    fn traversal(&mut self) -> Option<Vec<Step>> {
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.at += 1;
                    let start = self.at;
                    let name = self.ident()?;
                    steps.push(Step::Attribute(Ident {
                        text: name.into(),
                        span: start..self.at,
                    }));
                }
                Some(b'[') => {
                    let start = self.at;
                    self.at += 1;
                    let key_start = self.at;
                    let index = self.integer()?;
                    let key = Expr {
                        span: key_start..self.at,
                        kind: ExprKind::Number(Some(index)),
                    };
                    if self.peek()? != b']' {
                        return None;
                    }
                    self.at += 1;
                    steps.push(Step::Index {
                        key: Box::new(key),
                        span: start..self.at,
                    });
                }
                _ => return Some(steps),
            }
        }
    }
}

/// A value read by this reader as the full parser's tree: its tree, or its literal's.
fn tree_of(value: &SourceValue) -> Expr {
    if let Some(tree) = &value.tree {
        return Expr::clone(tree);
    }
    let kind = match &value.literal {
        Some(Literal::String(text)) => ExprKind::String(text.clone()),
        Some(Literal::Int(number)) => ExprKind::Number(Some(*number)),
        Some(Literal::Bool(value)) => ExprKind::Bool(*value),
        Some(Literal::List(elements)) => ExprKind::Tuple(elements.iter().map(tree_of).collect()),
        // This reader reads no other literal, and every other value has its tree.
        Some(Literal::Null | Literal::Other) | None => ExprKind::Null,
    };
    Expr {
        span: value.span.clone(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_one(value: &str) -> Option<Vec<RawConnection>> {
        let text = format!("locals {{\n  mutual_rules = {value}\n}}\n");
        let mut found = read(&text)?;
        assert_eq!(found.len(), 1);
        Some(found.remove(0).connections)
    }

    #[test]
    fn reads_the_common_shape() {
        let connections = read_one(
            "[\n  {\n    source_sg_id = aws_security_group.a.id # why\n    ports = [80, \"443\"]\n    port = -1, ok = true\n  },\n  { x = module.m.ids[0], tags = { a = \"b\" } },\n]",
        )
        .unwrap();
        assert_eq!(connections.len(), 2);
        let fields = &connections[0].fields;
        assert_eq!(fields[0].value.text, "aws_security_group.a.id");
        assert_eq!(fields[0].value.literal, None);
        let ports = Literal::List(vec![
            SourceValue {
                span: 94..96,
                text: "80".into(),
                literal: Some(Literal::Int(80)),
                tree: None,
            },
            SourceValue {
                span: 98..103,
                text: "\"443\"".into(),
                literal: Some(Literal::String("443".into())),
                tree: None,
            },
        ]);
        assert_eq!(fields[1].value.literal, Some(ports));
        assert_eq!(fields[2].value.literal, Some(Literal::Int(-1)));
        assert_eq!(fields[3].value.literal, Some(Literal::Bool(true)));
        assert_eq!(connections[1].fields[0].value.text, "module.m.ids[0]");
        assert_eq!(connections[1].fields[1].value.text, "{ a = \"b\" }");
    }

    #[test]
    fn reads_the_map_form() {
        let connections =
            read_one("{\n  a_to_b = { protocol = \"all\" }\n  \"c\" = {}\n}").unwrap();
        let keys: Vec<_> = connections
            .iter()
            .map(|c| c.map_key.clone().unwrap().0)
            .collect();
        assert_eq!(keys, ["a_to_b", "c"]);
    }

    #[test]
    fn gives_up_on_anything_else() {
        for value in [
            "concat(local.a, local.b)",
            "[{ a = \"${x}\" }]",
            "[{ a = \"\\n\" }]",
            "[{ a = 1 + 1 }]",
            "[{ a = 1.5 }]",
            "[{ a = f(1) }]",
            "[{ a = 1, a = 2 }]",
            "[{ tags = { a = 1, a = 2 } }]",
            "{\n  a = {}\n  \"a\" = {}\n}",
            "[{ a = 1 /* c */ }]",
            "[{ a = 1 }\n{ b = 2 }]",
            "[{ a = 1 \r }]",
            "[{ for = 1 }]",
            "[{ a = x .y }]",
            "[{ a = 1 }",
            "[[]]",
            "[,]",
        ] {
            assert!(read_one(value).is_none(), "{value}");
        }
    }

    #[test]
    fn finds_only_attributes_that_start_a_line() {
        assert!(read("# mutual_rules = []\nx = 1\n").is_none());
        assert!(read("locals { mutual_rules = [] }\n").is_none());
        assert!(read("locals {\n  mutual_rules == 1\n}\n").is_none());
    }

    #[test]
    fn blanking_keeps_offsets_and_brackets() {
        let text = "a = [\"é\", 1]\n";
        assert_eq!(blank(text, std::iter::once(4..13)), "a = [       ]\n");
    }
}
