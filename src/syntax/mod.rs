//! The one layer that owns HCL parsing: a file's text in, its typed tree out ([`Body`],
//! [`Block`], [`Attribute`], [`Expr`], every node with its byte span). Nothing else in the
//! crate parses HCL; changing the parser is a change to this module alone.

mod parser;
mod tree;

pub use parser::{ErrorKind, MAX_DEPTH, SyntaxError};
pub use tree::{Attribute, Block, Body, Expr, ExprKind, Ident, Label, ObjectItem, ObjectKey};

/// Parses a whole `.tf`/`.tofu` file as Terraform does; the first error where Terraform
/// reports one.
pub fn parse(text: &str) -> Result<Body, SyntaxError> {
    parser::parse(text)
}
