//! The one layer that owns HCL parsing: a file's text in, its typed tree out ([`Body`],
//! [`Block`], [`Attribute`], [`Expr`], every node with its byte span, and the file's
//! [`Comments`]). Nothing else in the crate parses HCL; changing the parser is a change to this
//! module alone.

mod comments;
mod parser;
mod references;
mod rewrite;
mod scan;
mod tree;

pub use comments::{Comment, CommentSpans, CommentStyle, Comments};
pub use parser::{ErrorKind, MAX_DEPTH, Reading, SyntaxError, parse_deferred};
pub use references::Reference;
pub use rewrite::{Replacement, replace_references, replace_references_in_file};
pub use scan::may_hold_block;
pub use tree::{
    Attribute, BinaryOperator, Block, Body, Call, Expr, ExprKind, ForExpr, Heredoc, Ident, Label,
    ObjectItem, ObjectKey, Operation, Step, TemplateFor, TemplatePart, Traversal, UnaryOperator,
};

/// A parsed file: its tree and its comments.
#[derive(Debug, Clone, Default)]
pub struct File {
    pub body: Body,
    pub comments: Comments,
}

/// Parses a whole `.tf`/`.tofu` file as Terraform does; the first error where Terraform
/// reports one.
pub fn parse(text: &str) -> Result<Body, SyntaxError> {
    parser::parse(text, &[], None).map(|(body, _)| body)
}

/// [`parse`], keeping the comments.
pub fn parse_file(text: &str) -> Result<File, SyntaxError> {
    parse_file_with_invalid_utf8(text, &[])
}

/// [`parse_with_invalid_utf8`], keeping the comments.
pub fn parse_file_with_invalid_utf8(
    text: &str,
    invalid_utf8: &[usize],
) -> Result<File, SyntaxError> {
    let (body, comments) = parser::parse(text, invalid_utf8, None)?;
    Ok(File {
        body,
        comments: Comments::new(text, comments),
    })
}

/// [`parse_with_invalid_utf8`], keeping where the comments are, for [`Comments`] built only
/// if asked for.
pub fn parse_with_comment_spans(
    text: &str,
    invalid_utf8: &[usize],
) -> Result<(Body, CommentSpans), SyntaxError> {
    parser::parse(text, invalid_utf8, None).map(|(body, spans)| (body, CommentSpans(spans)))
}

/// [`parse_with_comment_spans`] for a reader that needs only some of a file: each top-level
/// block is read as `reading` says for its type (see [`Reading`]).
pub fn parse_selected(
    text: &str,
    invalid_utf8: &[usize],
    reading: fn(&str) -> Reading,
) -> Result<(Body, CommentSpans), SyntaxError> {
    parser::parse(text, invalid_utf8, Some(reading))
        .map(|(body, spans)| (body, CommentSpans(spans)))
}

/// [`parse`] for a file some of whose bytes were not UTF-8 (read as `?`, at the offsets
/// given): Terraform accepts them in comments, and reports "Invalid character encoding"
/// anywhere else.
pub fn parse_with_invalid_utf8(text: &str, invalid_utf8: &[usize]) -> Result<Body, SyntaxError> {
    parser::parse(text, invalid_utf8, None).map(|(body, _)| body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of `x = ...` in `text`.
    fn value(text: &str) -> Expr {
        parse(text).unwrap().attributes.remove(0).value
    }

    #[test]
    fn a_for_expression_keeps_its_parts() {
        let text = "x = { for k, v in var.ports : k => { p = v }... if v != null }\n";
        let ExprKind::For(parts) = value(text).kind else {
            panic!("not a for expression");
        };
        let slice = |expr: &Expr| &text[expr.span.clone()];
        assert_eq!(parts.key_var.as_ref().map(|k| k.text.as_str()), Some("k"));
        assert_eq!(parts.value_var.text, "v");
        assert_eq!(slice(&parts.collection), "var.ports");
        assert_eq!(parts.key.as_ref().map(slice), Some("k"));
        assert_eq!(slice(&parts.value), "{ p = v }");
        assert!(parts.value.object().is_some());
        assert!(parts.grouping);
        assert_eq!(parts.condition.as_ref().map(slice), Some("v != null"));

        let text = "x = [for v in local.list : v.port]\n";
        let ExprKind::For(parts) = value(text).kind else {
            panic!("not a for expression");
        };
        assert!(parts.key_var.is_none() && parts.key.is_none() && !parts.grouping);
        assert_eq!(&text[parts.value.span.clone()], "v.port");
    }
}
