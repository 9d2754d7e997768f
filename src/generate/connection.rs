//! Validated connections, and their expansion into the two rules AWS needs.

use std::fmt;
use std::ops::Range;

use crate::config::Style;

/// An expression copied from the user's source, with where it came from.
#[derive(Debug, Clone)]
pub struct SourceExpr {
    /// The exact source text.
    pub text: String,
    pub span: Range<usize>,
    /// Its syntax tree (a literal's too), for readers that need its structure: never read
    /// from `text`. `None` for what mutualsg made up (`each.value.KEY`).
    pub tree: Option<std::sync::Arc<crate::syntax::Expr>>,
}

impl SourceExpr {
    /// Whether two expressions name the same thing, ignoring layout (`a.b` and `a . b`).
    pub fn same_as(&self, other: &SourceExpr) -> bool {
        fn visible(text: &str) -> impl Iterator<Item = char> + '_ {
            text.chars().filter(|c| !c.is_whitespace())
        }
        visible(&self.text).eq(visible(&other.text))
    }
}

/// Source text without its layout, to compare expressions: `a . b` and `a.b` are one.
pub fn squeeze(text: &str) -> String {
    if text.contains(char::is_whitespace) {
        text.split_whitespace().collect()
    } else {
        text.to_string()
    }
}

/// A protocol, written canonically in the output.
#[derive(Debug, Clone)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    /// All traffic: `"-1"`, every protocol and port.
    All,
    /// Another IP protocol, by number.
    Number(u8),
    /// An expression, copied as it is.
    Expr(SourceExpr),
}

impl Protocol {
    /// Reads a literal protocol: a name in any case, `all`, `-1`, or a number (6, 17, 1 and
    /// 58 become their names, which the AWS provider treats as equal, so nothing is replanned).
    pub fn from_literal(text: &str) -> Option<Protocol> {
        let protocol = match text.trim().to_ascii_lowercase().as_str() {
            "tcp" | "6" => Protocol::Tcp,
            "udp" | "17" => Protocol::Udp,
            "icmp" | "1" => Protocol::Icmp,
            "icmpv6" | "58" => Protocol::Icmpv6,
            "all" | "-1" => Protocol::All,
            number => Protocol::Number(number.parse().ok()?),
        };
        Some(protocol)
    }

    /// The range allowed for from_port/to_port: ICMP uses them for type and code.
    pub fn port_bounds(&self) -> (i64, i64) {
        match self {
            Protocol::Icmp | Protocol::Icmpv6 => (-1, 255),
            _ => (0, 65535),
        }
    }

    pub fn is_icmp(&self) -> bool {
        matches!(self, Protocol::Icmp | Protocol::Icmpv6)
    }
}

impl fmt::Display for Protocol {
    /// The protocol as the AWS provider spells it (without HCL quotes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::Tcp => f.write_str("tcp"),
            Protocol::Udp => f.write_str("udp"),
            Protocol::Icmp => f.write_str("icmp"),
            Protocol::Icmpv6 => f.write_str("icmpv6"),
            Protocol::All => f.write_str("-1"),
            Protocol::Number(number) => write!(f, "{number}"),
            Protocol::Expr(expr) => f.write_str(&expr.text),
        }
    }
}

/// One end of a port range: a number, or an expression copied as it is.
#[derive(Debug, Clone)]
pub enum Port {
    Number(i64),
    Expr(SourceExpr),
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Port::Number(number) => write!(f, "{number}"),
            Port::Expr(expr) => f.write_str(&expr.text),
        }
    }
}

/// The ports of a connection. For ICMP, `from` is the type and `to` the code.
#[derive(Debug, Clone)]
pub struct Ports {
    pub from: Port,
    pub to: Port,
}

impl Ports {
    /// The ports an all-traffic rule is written with (the AWS provider's convention).
    pub fn all_traffic() -> Ports {
        Ports {
            from: Port::Number(0),
            to: Port::Number(0),
        }
    }
}

/// Which kind of address list a CIDR-style peer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CidrKind {
    Ipv4,
    Ipv6,
    PrefixList,
}

impl CidrKind {
    /// The list's key after `source_`/`target_` in a connection.
    pub fn key_suffix(self) -> &'static str {
        match self {
            CidrKind::Ipv4 => "cidr_blocks",
            CidrKind::Ipv6 => "ipv6_cidr_blocks",
            CidrKind::PrefixList => "prefix_list_ids",
        }
    }

    /// The list attribute of `aws_security_group_rule`.
    pub fn list_attribute(self) -> &'static str {
        self.key_suffix()
    }

    /// The single-peer attribute of the `aws_vpc_*` rules.
    pub fn single_attribute(self) -> &'static str {
        match self {
            CidrKind::Ipv4 => "cidr_ipv4",
            CidrKind::Ipv6 => "cidr_ipv6",
            CidrKind::PrefixList => "prefix_list_id",
        }
    }
}

/// CIDR blocks or prefix lists on one side of a connection.
#[derive(Debug, Clone)]
pub struct AddressList {
    pub kind: CidrKind,
    pub items: Items,
}

/// A list's elements: written out (sorted, because the AWS provider replaces an
/// `aws_security_group_rule` whose `cidr_blocks` order changes), or one expression.
#[derive(Debug, Clone)]
pub enum Items {
    Literal(Vec<SourceExpr>),
    Expr(SourceExpr),
}

/// One side of a connection: a security group, or addresses outside any group: one list, or
/// an IPv4 and an IPv6 list (dual stack), in the order of [`CidrKind`].
#[derive(Debug, Clone)]
pub enum ConnectionSide {
    Group(SourceExpr),
    Addresses(Vec<AddressList>),
}

impl ConnectionSide {
    pub fn group(&self) -> Option<&SourceExpr> {
        match self {
            ConnectionSide::Group(group) => Some(group),
            ConnectionSide::Addresses(_) => None,
        }
    }
}

/// One validated line of intent: `source` may open connections to `target`.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The whole connection object, for diagnostics about it.
    pub span: Range<usize>,
    /// `name`, or the map key: the stable name the user chose.
    pub name: Option<(String, Range<usize>)>,
    /// Who opens the connection: a group gets the egress rule.
    pub source: ConnectionSide,
    /// Who accepts it: a group gets the ingress rule.
    pub target: ConnectionSide,
    pub protocol: Protocol,
    pub ports: Ports,
    /// Description of the ingress rule (on the target).
    pub ingress_description: Option<SourceExpr>,
    /// Description of the egress rule (on the source).
    pub egress_description: Option<SourceExpr>,
    /// A provider reference such as `aws.eu`, unquoted (it is given quoted).
    pub provider: Option<SourceExpr>,
    /// Tags, for the `aws_vpc_*` output style.
    pub tags: Option<SourceExpr>,
    /// Whether the rules exist: `enabled = <expr>` becomes `count = <expr> ? 1 : 0`.
    pub enabled: Enabled,
    /// `depends_on`, a list of references copied as it is.
    pub depends_on: Option<SourceExpr>,
    /// `timeouts { create = ... }` of `aws_security_group_rule`: the `create` value.
    pub timeout_create: Option<SourceExpr>,
    /// The per-resource `region` of the AWS provider v6.
    pub region: Option<SourceExpr>,
    /// `self = false`: a connection from a group to itself names the group by id
    /// (`source_security_group_id`) rather than `self = true`. Rules written that way hold
    /// `self = false` in state, and `self` forces replacement.
    pub self_by_id: bool,
    /// `for_each`: the rules are written once per instance, reading `each.value.<key>`.
    /// Boxed: rare, and a module may hold 100,000 connections.
    pub for_each: Option<Box<ForEach>>,
    /// `source_provider`: the provider of the egress rule, when the source group is in
    /// another account or region than the target (unquoted, as `provider`).
    pub source_provider: Option<SourceExpr>,
    /// `target_provider`: the provider of the ingress rule.
    pub target_provider: Option<SourceExpr>,
    /// The resource family of its rules: its `style` key, or the module's.
    pub style: Style,
}

/// A connection's `enabled` key.
#[derive(Debug, Clone)]
pub enum Enabled {
    /// Absent, or literally `true`: plain resources.
    Always,
    /// Literally `false`: the resources are written with `count = 0`, so no rule exists.
    Never,
    /// An expression: `count = <expr> ? 1 : 0`.
    When(SourceExpr),
}

impl Enabled {
    /// The `count` meta-argument the rules get, if any.
    pub fn count(&self) -> Option<String> {
        match self {
            Enabled::Always => None,
            Enabled::Never => Some("0".to_string()),
            Enabled::When(condition) => {
                Some(format!("{} ? 1 : 0", condition_text(&condition.text)))
            }
        }
    }
}

/// A condition as it can stand before `? 1 : 0`: in parentheses when it is itself a
/// conditional at its top level (`a ? b : c ? 1 : 0` would read as `a ? b : (c ? 1 : 0)`).
fn condition_text(text: &str) -> String {
    let mut depth = 0i32;
    let mut in_string = false;
    let mut previous = '\0';
    let mut top_level_question = false;
    for c in text.chars() {
        match c {
            '"' if previous != '\\' => in_string = !in_string,
            '(' | '[' | '{' if !in_string => depth += 1,
            ')' | ']' | '}' if !in_string => depth -= 1,
            '?' if !in_string && depth == 0 => top_level_question = true,
            _ => {}
        }
        previous = c;
    }
    if top_level_question {
        format!("({text})")
    } else {
        text.to_string()
    }
}

impl Connection {
    /// A group talking to itself, written `self = true` (unless the connection says
    /// `self = false`: then the group is named by its id).
    pub fn is_self(&self) -> bool {
        if self.self_by_id {
            return false;
        }
        match (&self.source, &self.target) {
            (ConnectionSide::Group(source), ConnectionSide::Group(target)) => {
                source.same_as(target)
            }
            _ => false,
        }
    }

    /// The rules this connection needs: an egress rule on the source if it is a group, an
    /// ingress rule on the target if it is a group (two for group to group, one otherwise).
    pub fn rules(&self) -> Vec<Rule<'_>> {
        let is_self = self.is_self();
        let peer = |endpoint| peer_of(endpoint, is_self);
        let mut rules = Vec::with_capacity(2);
        if let ConnectionSide::Group(source) = &self.source {
            rules.push(Rule {
                direction: Direction::Egress,
                group: source,
                peer: peer(&self.target),
                description: self.egress_description.as_ref(),
                connection: self,
            });
        }
        if let ConnectionSide::Group(target) = &self.target {
            rules.push(Rule {
                direction: Direction::Ingress,
                group: target,
                peer: peer(&self.source),
                description: self.ingress_description.as_ref(),
                connection: self,
            });
        }
        rules
    }
}

fn peer_of(endpoint: &ConnectionSide, is_self: bool) -> Peer<'_> {
    match endpoint {
        _ if is_self => Peer::SelfGroup,
        ConnectionSide::Group(group) => Peer::Group(group),
        ConnectionSide::Addresses(lists) => Peer::Addresses(lists),
    }
}

pub use crate::schema::Direction;

/// Who is on the other side of a rule.
#[derive(Debug, Clone, Copy)]
pub enum Peer<'a> {
    Group(&'a SourceExpr),
    SelfGroup,
    /// One list, or an IPv4 and an IPv6 list (an `aws_security_group_rule` carries both).
    Addresses(&'a [AddressList]),
}

impl Peer<'_> {
    /// The peer as AWS identifies it, one entry per address (a list expression is one entry).
    pub fn identities(&self, group: &SourceExpr) -> Vec<String> {
        match self {
            Peer::Group(peer) => vec![format!("sg:{}", squeeze(&peer.text))],
            Peer::SelfGroup => vec![format!("sg:{}", squeeze(&group.text))],
            Peer::Addresses(lists) => lists
                .iter()
                .flat_map(|list| match &list.items {
                    Items::Literal(items) => items
                        .iter()
                        .map(|item| format!("{:?}:{}", list.kind, squeeze(&item.text)))
                        .collect(),
                    Items::Expr(expr) => vec![format!("{:?}:{}", list.kind, squeeze(&expr.text))],
                })
                .collect(),
        }
    }
}

/// One security-group rule, half of a connection (or all of a one-sided one).
#[derive(Debug, Clone)]
pub struct Rule<'a> {
    pub direction: Direction,
    /// The group the rule is attached to.
    pub group: &'a SourceExpr,
    pub peer: Peer<'a>,
    pub description: Option<&'a SourceExpr>,
    pub connection: &'a Connection,
}

/// The start of a value read per instance: inside `locals` a connection cannot say
/// `each.value`, so mutualsg writes it, and no user text in a connection starts with it.
pub const EACH_VALUE: &str = "each.value.";

impl SourceExpr {
    /// `each.value.<key>`: a value that varies with the instance of a `for_each` connection.
    pub fn per_instance(key: &str, span: Range<usize>) -> SourceExpr {
        SourceExpr {
            text: format!("{EACH_VALUE}{key}"),
            span,
            tree: None,
        }
    }

    pub fn is_per_instance(&self) -> bool {
        self.text.starts_with(EACH_VALUE)
    }
}

/// A connection's `for_each`: the collection, written as the rules' `for_each`.
#[derive(Debug, Clone)]
pub struct ForEach {
    /// The collection as the user wrote it: a map of objects, or an object `for` expression.
    pub collection: SourceExpr,
    /// What makes the instances' rules unique in AWS's eyes: each literal instance's
    /// identities, or, for a `for` expression, the rules' with the collection's text.
    pub identities: Vec<String>,
}

impl<'a> Rule<'a> {
    /// The provider the rule is written with: its side's own, or the connection's.
    pub fn provider(&self) -> Option<&'a SourceExpr> {
        let connection = self.connection;
        let own = match self.direction {
            Direction::Egress => &connection.source_provider,
            Direction::Ingress => &connection.target_provider,
        };
        own.as_ref().or(connection.provider.as_ref())
    }
}
