//! Expression text as `terraform fmt` prints it.

/// Formats an expression's source text as the value of an attribute indented by `indent`
/// spaces. Interim: the text is copied as it is.
pub fn format_value(expr_text: &str, _indent: usize) -> String {
    expr_text.to_string()
}
