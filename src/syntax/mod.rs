//! The one layer that owns HCL parsing: a file's text in, its typed tree out ([`Body`],
//! [`Block`], [`Attribute`], [`Expr`], every node with its byte span, and the file's
//! [`Comments`]). Nothing else in the crate parses HCL; changing the parser is a change to this
//! module alone.

mod comments;
mod parser;
mod references;
mod tree;

pub use comments::{Comment, CommentStyle, Comments};
pub use parser::{ErrorKind, MAX_DEPTH, SyntaxError};
pub use references::Reference;
pub use tree::{
    Attribute, BinaryOperator, Block, Body, Call, Expr, ExprKind, ForExpr, Heredoc, Ident, Label,
    ObjectItem, ObjectKey, Operation, Step, TemplatePart, Traversal, UnaryOperator,
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
    parser::parse(text, &[]).map(|(body, _)| body)
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
    let (body, comments) = parser::parse(text, invalid_utf8)?;
    Ok(File {
        body,
        comments: Comments::new(text, comments),
    })
}

/// [`parse`] for a file some of whose bytes were not UTF-8 (read as `?`, at the offsets
/// given): Terraform accepts them in comments, and reports "Invalid character encoding"
/// anywhere else.
pub fn parse_with_invalid_utf8(text: &str, invalid_utf8: &[usize]) -> Result<Body, SyntaxError> {
    parser::parse(text, invalid_utf8).map(|(body, _)| body)
}
