//! The one layer that owns HCL parsing: a file's text in, its typed tree out ([`Body`],
//! [`Block`], [`Attribute`], [`Expr`], every node with its byte span). Nothing else in the
//! crate parses HCL; changing the parser is a change to this module alone.

mod parser;
mod tree;

pub use parser::{ErrorKind, MAX_DEPTH, SyntaxError};
pub use tree::{
    Attribute, Block, Body, Expr, ExprKind, ForExpr, Ident, Label, ObjectItem, ObjectKey,
};

/// Parses a whole `.tf`/`.tofu` file as Terraform does; the first error where Terraform
/// reports one.
pub fn parse(text: &str) -> Result<Body, SyntaxError> {
    parser::parse(text, &[])
}

/// [`parse`] for a file some of whose bytes were not UTF-8 (read as `?`, at the offsets
/// given): Terraform accepts them in comments, and reports "Invalid character encoding"
/// anywhere else.
pub fn parse_with_invalid_utf8(text: &str, invalid_utf8: &[usize]) -> Result<Body, SyntaxError> {
    parser::parse(text, invalid_utf8)
}
