//! Validated connections, and their expansion into the two rules AWS needs.

use std::fmt;
use std::ops::Range;

/// An expression copied from the user's source, with where it came from.
#[derive(Debug, Clone)]
pub struct Expr {
    /// The exact source text.
    pub text: String,
    pub span: Range<usize>,
}

impl Expr {
    /// Whether two expressions name the same thing, ignoring layout (`a.b` and `a . b`).
    pub fn same_as(&self, other: &Expr) -> bool {
        let squeeze = |text: &str| text.split_whitespace().collect::<String>();
        squeeze(&self.text) == squeeze(&other.text)
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
    Expr(Expr),
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
    Expr(Expr),
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

/// One validated line of intent: `source` may open connections to `target`.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The whole connection object, for diagnostics about it.
    pub span: Range<usize>,
    /// `name`, or the map key: the stable name the user chose.
    pub name: Option<(String, Range<usize>)>,
    /// The group that opens the connection: it gets the egress rule.
    pub source: Expr,
    /// The group that accepts the connection: it gets the ingress rule.
    pub target: Expr,
    pub protocol: Protocol,
    pub ports: Ports,
    /// Description of the ingress rule (on the target).
    pub ingress_description: Option<Expr>,
    /// Description of the egress rule (on the source).
    pub egress_description: Option<Expr>,
    /// A provider reference such as `aws.eu`.
    pub provider: Option<Expr>,
    /// Tags, for the `aws_vpc_*` output style.
    pub tags: Option<Expr>,
}

impl Connection {
    /// A group talking to itself: AWS wants `self = true` rather than its own id.
    pub fn is_self(&self) -> bool {
        self.source.same_as(&self.target)
    }

    /// The two rules this connection needs: egress on the source, ingress on the target.
    pub fn rules(&self) -> [Rule<'_>; 2] {
        let peer = |group: &Expr| {
            if self.is_self() {
                Peer::SelfGroup
            } else {
                Peer::Group(group.clone())
            }
        };
        [
            Rule {
                direction: Direction::Egress,
                group: &self.source,
                peer: peer(&self.target),
                description: self.egress_description.as_ref(),
                connection: self,
            },
            Rule {
                direction: Direction::Ingress,
                group: &self.target,
                peer: peer(&self.source),
                description: self.ingress_description.as_ref(),
                connection: self,
            },
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Egress,
    Ingress,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Egress => "egress",
            Direction::Ingress => "ingress",
        })
    }
}

/// Who is on the other side of a rule.
#[derive(Debug, Clone)]
pub enum Peer {
    Group(Expr),
    SelfGroup,
}

/// One security-group rule, half of a connection.
#[derive(Debug, Clone)]
pub struct Rule<'a> {
    pub direction: Direction,
    /// The group the rule is attached to.
    pub group: &'a Expr,
    pub peer: Peer,
    pub description: Option<&'a Expr>,
    pub connection: &'a Connection,
}
