//! Stable resource names.
//!
//! A resource's name is its identity in Terraform state: renaming it destroys the rule and
//! creates it again. So a name never depends on a connection's position in the list. It is
//! the connection's `name` (or map key) when given, otherwise it is derived from the
//! connection's content:
//!
//! - `aws_security_group_rule` style: `<source>_to_<target>_<protocol>_<ports>`. Every
//!   argument of that resource but `description` forces a replacement anyway, so a name that
//!   changes with the ports costs nothing extra. The two rules are `<name>_egress` and
//!   `<name>_ingress`.
//! - `aws_vpc_*` style: `<source>_to_<target>`. Ports, protocol and description update in
//!   place there, so they stay out of the name; both rules (of two resource types) share it.
//!
//! Descriptions never change a name.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::Style;
use crate::connection::{Connection, Direction, Expr, Port, Protocol};
use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::validate::identity;

/// A connection and the stem of its two resource names.
#[derive(Debug, Clone)]
pub struct NamedConnection {
    pub name: String,
    pub connection: Connection,
}

/// Names every connection; two connections with one name are an error that suggests `name`.
pub fn name_connections(
    file: &Arc<SourceFile>,
    connections: Vec<Connection>,
    style: Style,
) -> Result<Vec<NamedConnection>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut named: Vec<NamedConnection> = Vec::with_capacity(connections.len());
    for connection in connections {
        let name = match &connection.name {
            Some((explicit, span)) => match sanitize(explicit) {
                Some(name) => name,
                None => {
                    errors.push(Diagnostic::at(
                        Problem::InvalidName(explicit.clone()),
                        file,
                        span.clone(),
                    ));
                    continue;
                }
            },
            None => derived_name(&connection, style),
        };
        if let Some(&first) = seen.get(&name) {
            let first = &named[first].connection;
            // Two connections with the same content are already reported as a duplicate rule.
            if identity(first) != identity(&connection) {
                let span = connection
                    .name
                    .as_ref()
                    .map_or(connection.span.clone(), |n| n.1.clone());
                let first_span = first
                    .name
                    .as_ref()
                    .map_or(first.span.clone(), |n| n.1.clone());
                errors.push(
                    Diagnostic::at(Problem::NameCollision(name.clone()), file, span).with_note(
                        "first named here",
                        file,
                        first_span,
                    ),
                );
            }
            continue;
        }
        seen.insert(name.clone(), named.len());
        named.push(NamedConnection { name, connection });
    }
    if errors.is_empty() {
        Ok(named)
    } else {
        Err(errors)
    }
}

/// The name of one of a connection's two resources.
pub fn resource_name(stem: &str, direction: Direction, style: Style) -> String {
    match style {
        Style::SecurityGroupRule => format!("{stem}_{direction}"),
        Style::VpcSecurityGroupRule => stem.to_string(),
    }
}

/// `<source>_to_<target>_<protocol>_<ports>` (e.g. `alb_to_web_tcp_443`), or `<source>_to_<target>`
/// for the `aws_vpc_*` style.
fn derived_name(connection: &Connection, style: Style) -> String {
    let groups = format!(
        "{}_to_{}",
        group_words(&connection.source),
        group_words(&connection.target)
    );
    if style == Style::VpcSecurityGroupRule {
        return sanitize(&groups).unwrap_or(groups);
    }
    let protocol_and_ports = match &connection.protocol {
        Protocol::All => "all".to_string(),
        protocol => {
            let protocol = match protocol {
                Protocol::Number(number) => format!("proto{number}"),
                Protocol::Expr(expr) => expr_words(expr),
                named => named.to_string(),
            };
            let (from, to) = (
                port_word(&connection.ports.from),
                port_word(&connection.ports.to),
            );
            // ICMP's type and code are both part of the identity, even when equal.
            if from == to && !connection.protocol.is_icmp() {
                format!("{protocol}_{from}")
            } else {
                format!("{protocol}_{from}_{to}")
            }
        }
    };
    let raw = format!("{groups}_{protocol_and_ports}");
    sanitize(&raw).unwrap_or(raw)
}

fn port_word(port: &Port) -> String {
    match port {
        Port::Number(-1) => "any".to_string(),
        Port::Number(number) => number.to_string(),
        Port::Expr(expr) => expr_words(expr),
    }
}

/// The words of a group reference that tell groups apart: `aws_security_group.web.id` → `web`,
/// `module.db.security_group_id` → `db_security_group_id`, `var.alb_sg` → `alb_sg`.
fn group_words(expr: &Expr) -> String {
    const NOISE: &[&str] = &[
        "aws_security_group",
        "data",
        "var",
        "local",
        "module",
        "id",
        "each",
        "value",
    ];
    let words: Vec<&str> = expr
        .text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .filter(|word| !word.is_empty() && !NOISE.contains(word))
        .collect();
    if words.is_empty() {
        expr_words(expr)
    } else {
        words.join("_")
    }
}

fn expr_words(expr: &Expr) -> String {
    sanitize(&expr.text).unwrap_or_else(|| "expr".to_string())
}

/// Lower-case ASCII letters, digits and single underscores; a name must not start with a
/// digit. `terraform fmt` drops labels containing `$${`, so nothing else gets through.
pub fn sanitize(text: &str) -> Option<String> {
    let mut name = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
    }
    while name.ends_with('_') {
        name.pop();
    }
    if name.is_empty() {
        return None;
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "rule_");
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_makes_terraform_identifiers() {
        assert_eq!(sanitize("Web to DB!").as_deref(), Some("web_to_db"));
        assert_eq!(sanitize("443-https").as_deref(), Some("rule_443_https"));
        assert_eq!(sanitize("--"), None);
    }

    #[test]
    fn group_words_drop_reference_noise() {
        let words = |text: &str| {
            group_words(&Expr {
                text: text.into(),
                span: 0..0,
            })
        };
        assert_eq!(words("aws_security_group.web.id"), "web");
        assert_eq!(words("module.db.security_group_id"), "db_security_group_id");
        assert_eq!(words("\"sg-0123\""), "sg-0123");
    }
}
