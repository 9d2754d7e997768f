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
//! Descriptions never change a name. In a `for_each` connection a value that varies per
//! instance is the word `each` (`web_to_db_tcp_each`); its instances are keyed by the
//! collection, not named.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::Style;
use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::generate::connection::{
    AddressList, CidrKind, Connection, ConnectionSide, Direction, Items, Peer, Port, Protocol,
    Rule, SourceExpr,
};

/// A connection and the stem of its two resource names.
#[derive(Debug, Clone)]
pub struct NamedConnection {
    pub name: String,
    pub connection: Connection,
}

/// A module's named connections and the file that defines them.
#[derive(Debug, Clone)]
pub struct Definition {
    pub file: Arc<SourceFile>,
    pub connections: Vec<NamedConnection>,
}

/// Names every connection. Two resources of one type with one name are an error that
/// suggests `name`.
pub fn name_connections(
    file: &Arc<SourceFile>,
    connections: Vec<Connection>,
) -> Result<Vec<NamedConnection>, Vec<Diagnostic>> {
    let names: Vec<Result<NamedConnection, Diagnostic>> = connections
        .into_par_iter()
        .map(|connection| {
            let name = match &connection.name {
                Some((explicit, span)) => sanitize(explicit).ok_or_else(|| {
                    Diagnostic::at(Problem::InvalidName(explicit.clone()), file, span.clone())
                })?,
                None => derived_name(&connection, None),
            };
            Ok(NamedConnection { name, connection })
        })
        .collect();
    let mut errors = Vec::new();
    let mut named: Vec<NamedConnection> = Vec::with_capacity(names.len());
    for name in names {
        match name {
            Ok(connection) => named.push(connection),
            Err(error) => errors.push(error),
        }
    }
    errors.extend(collisions(file, &named));
    if errors.is_empty() {
        Ok(named)
    } else {
        Err(errors)
    }
}

/// One error per connection whose resource name another connection already took.
/// (Validation has already rejected two connections with the same content.)
fn collisions(file: &Arc<SourceFile>, named: &[NamedConnection]) -> Vec<Diagnostic> {
    let name_span = |connection: &Connection| {
        connection
            .name
            .as_ref()
            .map_or(connection.span.clone(), |(_, span)| span.clone())
    };
    // A name is taken per resource type: the family and, for `aws_vpc_*`, the direction.
    let mut first_owner: HashMap<(&str, Direction, Style), &Connection> = HashMap::new();
    let mut reported: Vec<&Connection> = Vec::new();
    let mut errors = Vec::new();
    // In list order: the first connection to take a name keeps it.
    for resource in &unsorted_resources(named) {
        let connection = resource.rule.connection;
        let key = (
            resource.name.as_str(),
            resource.rule.direction,
            connection.style,
        );
        let first = *first_owner.entry(key).or_insert(connection);
        let already = reported.iter().any(|seen| std::ptr::eq(*seen, connection));
        if !std::ptr::eq(first, connection) && !already {
            reported.push(connection);
            errors.push(
                Diagnostic::at(
                    Problem::NameCollision(resource.name.clone()),
                    file,
                    name_span(connection),
                )
                .with_note("first named here", file, name_span(first)),
            );
        }
    }
    errors
}

/// One resource of the generated file.
#[derive(Debug, Clone)]
pub struct Resource<'a> {
    pub name: String,
    pub rule: Rule<'a>,
    /// For an `aws_vpc_*` rule to addresses: the one CIDR block or prefix list it allows
    /// (those resources take one peer each).
    pub address: Option<&'a SourceExpr>,
}

/// Every resource of the generated file, sorted by name (egress first), so reordering the
/// list leaves the file as it is. Each connection's resources are of its own style:
///
/// - `aws_security_group_rule` style: `<name>_egress` and `<name>_ingress`; a rule to CIDR
///   blocks or prefix lists carries the whole list.
/// - `aws_vpc_*` style: both rules are `<name>` (two resource types); a rule to addresses
///   becomes one resource per literal address, `<name>_<address>`, so adding an address never
///   renames the others (a list expression becomes one resource with `for_each`).
pub fn resources(connections: &[NamedConnection]) -> Vec<Resource<'_>> {
    let mut resources = unsorted_resources(connections);
    // Unstable but total: equal names and directions (an error, reported) keep list order, as
    // a connection's address is its place in the list.
    fn key<'r>(resource: &'r Resource) -> (&'r str, Direction, *const Connection) {
        (
            &resource.name,
            resource.rule.direction,
            resource.rule.connection,
        )
    }
    resources.par_sort_unstable_by(|a, b| key(a).cmp(&key(b)));
    resources
}

/// The resources in list order (each connection's in the order of its rules).
fn unsorted_resources(connections: &[NamedConnection]) -> Vec<Resource<'_>> {
    connections
        .par_iter()
        .flat_map_iter(connection_resources)
        .collect()
}

/// One connection's resources, in the order of its rules.
fn connection_resources(named: &NamedConnection) -> Vec<Resource<'_>> {
    let mut resources = Vec::with_capacity(2);
    for rule in named.connection.rules() {
        match (named.connection.style, rule.peer) {
            (Style::SecurityGroupRule, _) => resources.push(Resource {
                name: format!("{}_{}", named.name, rule.direction),
                rule,
                address: None,
            }),
            // One resource per address: each gets the one list its address is in.
            (Style::VpcSecurityGroupRule, Peer::Addresses(lists)) => {
                for list in lists {
                    let rule = Rule {
                        peer: Peer::Addresses(std::slice::from_ref(list)),
                        ..rule.clone()
                    };
                    match &list.items {
                        Items::Literal(items) => {
                            for item in items {
                                let name = match named.connection.name {
                                    Some(_) => format!("{}_{}", named.name, address_word(item)),
                                    None => derived_name(&named.connection, Some(item)),
                                };
                                resources.push(Resource {
                                    name,
                                    rule: rule.clone(),
                                    address: Some(item),
                                });
                            }
                        }
                        // A derived name comes from the list's own expression, so adding the
                        // other family renames nothing; a chosen name is the IPv4 list's, and
                        // the IPv6 list beside it adds `_ipv6`.
                        Items::Expr(list_expr) => {
                            let name = match named.connection.name {
                                None => derived_name(&named.connection, Some(list_expr)),
                                Some(_) if lists.len() > 1 && list.kind == CidrKind::Ipv6 => {
                                    format!("{}_ipv6", named.name)
                                }
                                Some(_) => named.name.clone(),
                            };
                            resources.push(Resource {
                                name,
                                rule,
                                address: None,
                            });
                        }
                    }
                }
            }
            (Style::VpcSecurityGroupRule, _) => resources.push(Resource {
                name: named.name.clone(),
                rule,
                address: None,
            }),
        }
    }
    resources
}

/// `<source>_to_<target>_<protocol>_<ports>` (e.g. `alb_to_web_tcp_443`), or `<source>_to_<target>`
/// for the `aws_vpc_*` style, where `address` names the one address of a resource.
fn derived_name(connection: &Connection, address: Option<&SourceExpr>) -> String {
    let words = |endpoint: &ConnectionSide| match (endpoint, address) {
        (ConnectionSide::Addresses(_), Some(address)) => address_word(address),
        _ => endpoint_words(endpoint),
    };
    let groups = format!(
        "{}_to_{}",
        words(&connection.source),
        words(&connection.target)
    );
    if connection.style == Style::VpcSecurityGroupRule {
        return sanitize(&groups).unwrap_or(groups);
    }
    let protocol_and_ports = match &connection.protocol {
        Protocol::All => "all".to_string(),
        protocol => {
            let protocol = match protocol {
                Protocol::Number(number) => format!("proto{number}"),
                Protocol::Expr(expr) if expr.is_per_instance() => PER_INSTANCE.to_string(),
                Protocol::Expr(expr) => expr_words(expr),
                named => named.to_string(),
            };
            let (from, to) = (
                port_word(&connection.ports.from),
                port_word(&connection.ports.to),
            );
            // ICMP's type and code are both part of the identity, even when equal.
            if from == to && from == PER_INSTANCE && protocol == PER_INSTANCE {
                protocol
            } else if from == to && !connection.protocol.is_icmp() {
                format!("{protocol}_{from}")
            } else {
                format!("{protocol}_{from}_{to}")
            }
        }
    };
    let raw = format!("{groups}_{protocol_and_ports}");
    sanitize(&raw).unwrap_or(raw)
}

/// A group's words, or the addresses' (`anywhere` for `0.0.0.0/0`; a long list by its first
/// address and a count; an IPv4 and an IPv6 list one after the other).
fn endpoint_words(endpoint: &ConnectionSide) -> String {
    match endpoint {
        ConnectionSide::Group(group) => group_words(group),
        ConnectionSide::Addresses(lists) => {
            lists.iter().map(list_words).collect::<Vec<_>>().join("_")
        }
    }
}

fn list_words(list: &AddressList) -> String {
    match &list.items {
        Items::Expr(expr) => group_words(expr),
        Items::Literal(items) => match items.as_slice() {
            [one] => address_word(one),
            [first, second] => format!("{}_{}", address_word(first), address_word(second)),
            [first, rest @ ..] => format!("{}_and_{}_more", address_word(first), rest.len()),
            [] => "none".to_string(),
        },
    }
}

/// An address in a name: `10_0_0_0_16`, `anywhere` (`0.0.0.0/0`), `anywhere_ipv6` (`::/0`),
/// or the words of an expression (`aws_vpc_endpoint.s3.prefix_list_id` → `s3_prefix_list_id`).
pub fn address_word(item: &SourceExpr) -> String {
    match item.text.trim_matches('"') {
        "0.0.0.0/0" => "anywhere".to_string(),
        "::/0" => "anywhere_ipv6".to_string(),
        _ if item.text.starts_with('"') => expr_words(item),
        _ => group_words(item),
    }
}

/// The word of a value that varies per instance of a `for_each` connection.
const PER_INSTANCE: &str = "each";

fn port_word(port: &Port) -> String {
    match port {
        Port::Expr(expr) if expr.is_per_instance() => PER_INSTANCE.to_string(),
        Port::Number(-1) => "any".to_string(),
        Port::Number(number) => number.to_string(),
        Port::Expr(expr) => expr_words(expr),
    }
}

/// The words of a group reference that tell groups apart: `aws_security_group.web.id` → `web`,
/// `module.db.security_group_id` → `db_security_group_id`, `var.alb_sg` → `alb_sg`.
fn group_words(expr: &SourceExpr) -> String {
    if expr.is_per_instance() {
        return PER_INSTANCE.to_string();
    }
    const NOISE: &[&str] = &[
        "aws_security_group",
        "aws_vpc_endpoint",
        "aws_ec2_managed_prefix_list",
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

fn expr_words(expr: &SourceExpr) -> String {
    let words = words(&expr.text);
    if words.is_empty() {
        "expr".to_string()
    } else {
        words
    }
}

/// Lower-case ASCII letters, digits and single underscores.
fn words(text: &str) -> String {
    let mut words = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            words.push(c.to_ascii_lowercase());
        } else if !words.is_empty() && !words.ends_with('_') {
            words.push('_');
        }
    }
    while words.ends_with('_') {
        words.pop();
    }
    words
}

/// A resource name: [`words`], not starting with a digit. `terraform fmt` drops labels
/// containing `$${`, so nothing else gets through.
pub fn sanitize(text: &str) -> Option<String> {
    let mut name = words(text);
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
            group_words(&SourceExpr {
                text: text.into(),
                span: 0..0,
                tree: None,
            })
        };
        assert_eq!(words("aws_security_group.web.id"), "web");
        assert_eq!(words("module.db.security_group_id"), "db_security_group_id");
        assert_eq!(words("\"sg-0123\""), "sg-0123");
    }
}
