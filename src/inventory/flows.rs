//! A module's declared rules ([`crate::inventory`]) as flows: who may open a connection to whom,
//! on which protocol and ports, and what is wrong with it. `graph` draws the flows, `audit`
//! reports their findings; both read them from here, so the two always agree.
//!
//! AWS allows a connection between two groups only when the source's egress rule and the
//! target's ingress rule both allow it. An egress half and the ingress half that matches it
//! are one flow; a half that nothing on the other side allows is a flow with a finding.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::generate::connection::{CidrKind, Direction};
use crate::workspace::discover::Module;

use crate::inventory::{DeclaredRule, ModuleModel, Origin, RulePeer, Written};
use crate::syntax::{Expr, ExprKind, Reference, Step, Traversal};

/// The whole internet, IPv4 and IPv6: egress there is what a locked-down group never needs,
/// and a rule to or from there reaches every group too.
pub(crate) const INTERNET: [&str; 2] = ["0.0.0.0/0", "::/0"];

/// One end of a flow. Sorted groups first, then IPv4, IPv6 and prefix-list peers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A security group, by its id expression ([`group_key`]).
    Group(Written),
    /// A CIDR block or prefix list, by its value or expression text.
    Address { kind: CidrKind, value: String },
}

impl Ord for Endpoint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for Endpoint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Endpoint {
    fn sort_key(&self) -> (u8, &str) {
        match self {
            Endpoint::Group(expr) => (0, expr),
            Endpoint::Address { kind, value } => {
                let rank = match kind {
                    CidrKind::Ipv4 => 1,
                    CidrKind::Ipv6 => 2,
                    CidrKind::PrefixList => 3,
                };
                (rank, value)
            }
        }
    }

    /// How a reader knows the endpoint: a group by its Terraform address
    /// (`aws_security_group.web`, the `.id` dropped), an address by itself.
    pub fn label(&self) -> String {
        match self {
            Endpoint::Group(expr) => group_label(expr),
            Endpoint::Address { value, .. } => value.clone(),
        }
    }
}

/// One group, however a rule references it: `aws_security_group.x.id`, `x[0].id`,
/// `x[count.index].id`, `x["key"].id`, `x[*].id`, `x.*.id[0]`, `one(x[*].id)`,
/// `element(x.*.id, 0)` and `tolist(x[*].id)[0]` are all `aws_security_group.x.id`, the
/// declared resource (a `count` or `for_each` group is one declaration, drawn as one node;
/// which instance an index picks is known only at plan time). The same for data sources
/// (`data.aws_security_group.x`); any other expression is left as it is. Read from the
/// expression's tree: an index holding a `.`, a `]` or a comment changes nothing.
pub fn group_key(expr: &Written) -> Written {
    expr.tree.as_deref().and_then(group_id).map_or_else(
        || expr.clone(),
        |(data, name)| Written::group_id(data, name),
    )
}

/// [`group_key`] of a group expression of `rule`, where `each.value` is an element of the
/// rule's `for_each` (`for_each = aws_security_group.workers` makes `each.value.id` that group).
fn rule_group_key(rule: &DeclaredRule, expr: &Written) -> Written {
    let each_value = expr.tree.as_deref().and_then(|tree| {
        let reference = tree.as_reference()?;
        match reference.steps {
            [Step::Attribute(value), rest @ ..]
                if reference.root == "each" && value.text == "value" =>
            {
                Some(rest)
            }
            _ => None,
        }
    });
    let for_each = rule.for_each.as_ref().and_then(|w| w.tree.as_deref());
    if let (Some(rest), Some(for_each)) = (each_value, for_each) {
        // `each.value.id` over `for_each = X` reads `X.id` of each element.
        let element = match &for_each.kind {
            ExprKind::Traversal(traversal) => {
                let mut traversal = (**traversal).clone();
                traversal.steps.extend(rest.iter().cloned());
                Expr {
                    span: for_each.span.clone(),
                    kind: ExprKind::Traversal(Box::new(traversal)),
                }
            }
            _ => Expr {
                span: for_each.span.clone(),
                kind: ExprKind::Traversal(Box::new(Traversal {
                    base: for_each.clone(),
                    steps: rest.to_vec(),
                })),
            },
        };
        if let Some((data, name)) = group_id(&element) {
            return Written::group_id(data, name);
        }
    }
    group_key(expr)
}

/// The group an id expression names: `(data source, name)`. Calls that pick an element
/// (`one`, `element`, `tolist`, `toset`, `sort`) are seen through, and indexes after the id.
fn group_id(expr: &Expr) -> Option<(bool, &str)> {
    let expr = expr.unwrapped();
    match &expr.kind {
        ExprKind::Parenthesis(inner) => group_id(inner),
        ExprKind::Call(call)
            if matches!(
                call.name.text.as_str(),
                "one" | "element" | "tolist" | "toset" | "sort"
            ) =>
        {
            group_id(call.args.first()?)
        }
        ExprKind::Traversal(traversal) => {
            let mut steps = traversal.steps.as_slice();
            while let [
                rest @ ..,
                Step::Index { .. } | Step::Splat { full: true, .. },
            ] = steps
            {
                steps = rest;
            }
            if steps.is_empty() {
                return group_id(&traversal.base);
            }
            let ExprKind::Variable(root) = &traversal.base.kind else {
                return None;
            };
            let reference = Reference {
                root,
                steps,
                span: expr.span.clone(),
            }
            .without_resource_prefix();
            let (data, steps) = match (reference.root, reference.steps) {
                ("aws_security_group", steps) => (false, steps),
                ("data", [Step::Attribute(kind), steps @ ..])
                    if kind.text == "aws_security_group" =>
                {
                    (true, steps)
                }
                _ => return None,
            };
            let [Step::Attribute(name), between @ .., Step::Attribute(id)] = steps else {
                return None;
            };
            let instances = between.iter().all(|step| {
                matches!(
                    step,
                    Step::Index { .. } | Step::Splat { .. } | Step::LegacyIndex { .. }
                )
            });
            (id.text == "id" && instances).then_some((data, name.text.as_str()))
        }
        _ => None,
    }
}

/// A group's id expression as a reader knows the group: `aws_security_group.web.id` →
/// `aws_security_group.web`; other expressions as they are.
pub fn group_label(expr: &str) -> String {
    expr.strip_suffix(".id").unwrap_or(expr).to_string()
}

/// What a flow's rules allow: a protocol and its ports, as declared. All traffic and
/// protocols without ports (ESP, GRE, ...) carry no ports, however they were written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Traffic {
    /// `tcp`, `udp`, `icmp`, `icmpv6`, `-1`, a number, or an expression's text.
    pub protocol: String,
    pub from_port: String,
    pub to_port: String,
}

impl Traffic {
    pub(crate) fn of(rule: &DeclaredRule) -> Traffic {
        let protocol = rule.protocol.clone();
        let (from_port, to_port) = if has_ports(&protocol) {
            (rule.from_port.clone(), rule.to_port.clone())
        } else {
            (String::new(), String::new())
        };
        Traffic {
            protocol,
            from_port,
            to_port,
        }
    }

    /// `443/tcp`, `8000-8100/tcp`, `all`, `icmp 8/0`, `icmp` (every type), `proto 50`.
    pub fn label(&self) -> String {
        let ports = if self.from_port == self.to_port {
            self.from_port.clone()
        } else {
            format!("{}-{}", self.from_port, self.to_port)
        };
        match self.protocol.as_str() {
            "" => "?".to_string(),
            "-1" => "all".to_string(),
            "icmp" | "icmpv6" => icmp_label(&self.protocol, &self.from_port, &self.to_port),
            protocol if !has_ports(protocol) => format!("proto {protocol}"),
            protocol if ports.is_empty() => protocol.to_string(),
            protocol => format!("{ports}/{protocol}"),
        }
    }

    /// Whether a rule allowing `self` lets through everything a rule allowing `other` does.
    /// All traffic covers everything; a port range covers its sub-ranges; ICMP type or code
    /// -1 covers every type or code. Expressions are compared as text.
    pub fn covers(&self, other: &Traffic) -> bool {
        if self.protocol == "-1" {
            return true;
        }
        if self.protocol != other.protocol {
            return false;
        }
        match self.protocol.as_str() {
            "icmp" | "icmpv6" => {
                let any_or_same = |mine: &str, theirs: &str| mine == "-1" || mine == theirs;
                any_or_same(&self.from_port, &other.from_port)
                    && any_or_same(&self.to_port, &other.to_port)
            }
            _ => match (self.range(), other.range()) {
                (Some((from, to)), Some((other_from, other_to))) => {
                    from <= other_from && other_to <= to
                }
                // Every port covers a port given as an expression, whatever its value.
                (Some((0, 65535)), None) => true,
                _ => self == other,
            },
        }
    }

    /// Whether the rules allowing `others` together let through everything this allows: one
    /// of them covers it, or (TCP, UDP) their port ranges add up to it (8000-8049 and
    /// 8050-8100 cover 8000-8100).
    pub fn covered_by<'a>(&self, others: impl IntoIterator<Item = &'a Traffic>) -> bool {
        let others: Vec<&Traffic> = others.into_iter().collect();
        if others.iter().any(|other| other.covers(self)) {
            return true;
        }
        let Some((from, to)) = self
            .range()
            .filter(|_| self.protocol != "icmp" && self.protocol != "icmpv6")
        else {
            return false;
        };
        let mut ranges: Vec<(i64, i64)> = others
            .iter()
            .filter(|other| other.protocol == self.protocol)
            .filter_map(|other| other.range())
            .collect();
        ranges.sort_unstable();
        let mut next = from;
        for (start, end) in ranges {
            if start > next {
                break;
            }
            next = next.max(end + 1);
        }
        next > to
    }

    /// Whether the protocol is a literal (a name or number), not an expression.
    pub fn protocol_is_literal(&self) -> bool {
        matches!(
            self.protocol.as_str(),
            "tcp" | "udp" | "icmp" | "icmpv6" | "-1"
        ) || self.protocol.parse::<u8>().is_ok()
    }

    /// Whether the ports are given as expressions, whose values only a plan knows.
    pub fn ports_are_expressions(&self) -> bool {
        has_ports(&self.protocol) && self.range().is_none()
    }

    /// A TCP or UDP range whose first port is above its last: AWS rejects the rule, so it
    /// allows nothing.
    pub fn is_inverted(&self) -> bool {
        matches!(self.protocol.as_str(), "tcp" | "udp")
            && self.range().is_some_and(|(from, to)| from > to)
    }

    pub(crate) fn range(&self) -> Option<(i64, i64)> {
        Some((self.from_port.parse().ok()?, self.to_port.parse().ok()?))
    }
}

/// Ports mean something for TCP, UDP and ICMP (type and code) only; for all traffic and for
/// other protocol numbers AWS allows every port. An expression may be either: keep its ports.
fn has_ports(protocol: &str) -> bool {
    !(protocol == "-1" || protocol.parse::<u8>().is_ok())
}

fn icmp_label(protocol: &str, icmp_type: &str, code: &str) -> String {
    match (icmp_type, code) {
        ("-1" | "", _) => protocol.to_string(),
        (icmp_type, "-1" | "") => format!("{protocol} {icmp_type}"),
        (icmp_type, code) => format!("{protocol} {icmp_type}/{code}"),
    }
}

/// What is wrong with a flow, when something is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum FlowFinding {
    /// Egress to `0.0.0.0/0` or `::/0`.
    OpenEgress,
    /// Ingress from `0.0.0.0/0` or `::/0` (which ports it opens, the checks judge).
    OpenIngress,
    /// A group-to-group half that no rule on the other side allows; the missing direction,
    /// why the tree cannot tell for sure, when it cannot, and how remote state it rests on
    /// was matched to a root module, when by the known parts of its settings.
    HalfOpen {
        missing: Direction,
        unverified: Option<String>,
        matched: Option<String>,
    },
}

/// One allowed (or half-allowed) connection: the rules that declare it, one or two.
#[derive(Debug, Clone)]
pub struct Flow {
    pub source: Endpoint,
    pub target: Endpoint,
    pub traffic: Traffic,
    /// Indices into [`ModuleModel::rules`]: an egress rule, an ingress rule, or both.
    pub rules: Vec<usize>,
    /// Every rule is generated from `mutual_rules` (else one at least is hand-written).
    pub generated: bool,
    /// A rule is declared with `count` or `for_each`.
    pub repeated: bool,
    pub finding: Option<FlowFinding>,
}

/// Whether a group is attached to anything, as the whole tree shows
/// ([`crate::inventory::tree`] judges it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attachment {
    Attached,
    Unattached,
    /// Cannot be known from this tree: why.
    Unknown(String),
}

/// A module's flows and findings.
pub struct Analysis {
    pub model: ModuleModel,
    pub dir: PathBuf,
    /// The module directory, relative to the git top level (else the current directory),
    /// `/`-separated, `.` for the top: how a finding's identity names its module.
    pub module: String,
    /// The module's source files (the inventory reads only those that can matter).
    pub sources: Vec<PathBuf>,
    /// For each of [`ModuleModel::groups`]: whether the tree attaches it.
    pub attachments: Vec<Attachment>,
    /// Sorted by source, target, traffic: output never depends on declaration order.
    pub flows: Vec<Flow>,
}

impl Analysis {
    /// Whether the module has any endpoint: a group, or a flow (which has two).
    pub fn has_endpoints(&self) -> bool {
        !self.model.groups.is_empty() || !self.flows.is_empty()
    }

    /// Every endpoint of the module, declared groups included (a group nothing talks to is
    /// worth seeing too), sorted: groups first, then addresses.
    pub fn endpoints(&self) -> BTreeSet<Endpoint> {
        let mut endpoints: BTreeSet<Endpoint> = self
            .model
            .groups
            .iter()
            .map(|group| Endpoint::Group(Written::group_id(false, &group.name)))
            .collect();
        for flow in &self.flows {
            endpoints.insert(flow.source.clone());
            endpoints.insert(flow.target.clone());
        }
        endpoints
    }
}

/// A module's flows and findings.
pub fn analyse(module: &Module, model: ModuleModel, name: String) -> Analysis {
    let mut flows = group_flows(&model.rules);
    flows.extend(address_flows(&model.rules));
    flows.sort_by(|a, b| flow_order(a).cmp(&flow_order(b)));
    let attachments = vec![Attachment::Attached; model.groups.len()];
    Analysis {
        model,
        dir: module.dir.clone(),
        module: name,
        sources: module.sources.clone(),
        attachments,
        flows,
    }
}

fn flow_order(flow: &Flow) -> impl Ord + '_ {
    (
        &flow.source,
        &flow.target,
        &flow.traffic,
        !flow.generated,
        &flow.finding,
        &flow.rules,
    )
}

/// One side of a connection between groups: a rule, the group it is on, and the group it
/// allows.
struct Half {
    rule: usize,
    direction: Direction,
    group: Written,
    /// The group on the other side, or `None` for the whole internet (`0.0.0.0/0`, `::/0`),
    /// which includes every group: such a half completes others, and is drawn as an address
    /// flow rather than here.
    peer: Option<Written>,
    traffic: Traffic,
    /// Never reported: a self rule is not a pair, and what a `for_each` rule expands to is
    /// known only at plan time.
    exempt: bool,
    /// The rule's `count` condition: it exists exactly when the halves under the same
    /// condition do.
    count: Option<String>,
}

impl Half {
    /// Whether `other` is on the far side of this half: the opposite direction, on this
    /// half's peer, allowing this half's group (or the whole internet).
    fn faces(&self, other: &Half) -> bool {
        other.direction != self.direction
            && self.peer.as_ref() == Some(&other.group)
            && other.peer.as_ref().is_none_or(|peer| *peer == self.group)
    }

    /// Whether `other` exists whenever this half does: it is unconditional, or under the
    /// same `count` condition.
    fn exists_with(&self, other: &Half) -> bool {
        other.count.is_none() || other.count == self.count
    }

    /// `(source, target)` of the flow a half with a group peer declares.
    fn ends(&self) -> (Endpoint, Endpoint) {
        let group = Endpoint::Group(self.group.clone());
        let peer = Endpoint::Group(self.peer.clone().unwrap_or_else(|| Written::opaque("")));
        match self.direction {
            Direction::Egress => (group, peer),
            Direction::Ingress => (peer, group),
        }
    }
}

/// The halves of every rule whose peer is a group (its own group included) or the internet.
fn halves(rules: &[DeclaredRule]) -> Vec<Half> {
    let mut halves = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let traffic = Traffic::of(rule);
        if traffic.is_inverted() {
            continue;
        }
        let group = rule_group_key(rule, &rule.group);
        for peer in &rule.peers {
            let peer = match peer {
                RulePeer::Group(peer) => Some(rule_group_key(rule, peer)),
                RulePeer::SelfGroup => Some(group.clone()),
                RulePeer::Address { value, .. } if INTERNET.contains(&value.as_str()) => None,
                RulePeer::Address { .. } => continue,
            };
            halves.push(Half {
                rule: index,
                direction: rule.direction,
                // What a `for_each` expands to only a plan knows; a `count` is judged
                // against the halves under the same condition (or none).
                exempt: peer.as_ref() == Some(&group) || (rule.repeated && rule.count.is_none()),
                group: group.clone(),
                peer,
                traffic: traffic.clone(),
                count: rule.count.clone(),
            });
        }
    }
    halves
}

/// Group-to-group flows: each egress half joined with the ingress half that declares the
/// same flow (generated halves with each other first, so a hand-written duplicate stays
/// visible), and every half left over as a flow of its own, a finding unless the rules on
/// the other group allow what it declares.
fn group_flows(rules: &[DeclaredRule]) -> Vec<Flow> {
    let halves = halves(rules);
    let is_generated = |half: &Half| matches!(rules[half.rule].origin, Origin::Generated { .. });
    let mut paired: Vec<bool> = halves.iter().map(|half| half.peer.is_none()).collect();
    let mut flows = Vec::new();
    for generated_pass in [true, false] {
        for (e, egress) in halves.iter().enumerate() {
            if paired[e]
                || egress.direction != Direction::Egress
                || is_generated(egress) != generated_pass
            {
                continue;
            }
            let mate = halves.iter().enumerate().position(|(i, ingress)| {
                !paired[i]
                    && is_generated(ingress) == generated_pass
                    && egress.faces(ingress)
                    && ingress.traffic == egress.traffic
                    && (egress.exists_with(ingress) || ingress.exists_with(egress))
            });
            if let Some(i) = mate {
                paired[e] = true;
                paired[i] = true;
                flows.push(flow_of(rules, &[egress, &halves[i]], None));
            }
        }
    }
    for (half, _) in halves.iter().zip(&paired).filter(|(_, paired)| !**paired) {
        // A counted half is completed only by what exists whenever it does; an
        // unconditional one by any rule across (which condition holds only a plan knows).
        let allowed = || {
            let across = halves
                .iter()
                .filter(|other| half.faces(other))
                .filter(|other| half.count.is_none() || half.exists_with(other));
            half.traffic.covered_by(across.map(|other| &other.traffic))
        };
        let finding = (!half.exempt && !allowed()).then_some(FlowFinding::HalfOpen {
            missing: half.direction.opposite(),
            unverified: None,
            matched: None,
        });
        flows.push(flow_of(rules, &[half], finding));
    }
    flows
}

fn flow_of(rules: &[DeclaredRule], halves: &[&Half], finding: Option<FlowFinding>) -> Flow {
    let first = halves[0];
    let declared = || halves.iter().map(|half| &rules[half.rule]);
    let (source, target) = first.ends();
    Flow {
        source,
        target,
        traffic: first.traffic.clone(),
        rules: halves.iter().map(|half| half.rule).collect(),
        generated: declared().all(|rule| matches!(rule.origin, Origin::Generated { .. })),
        repeated: declared().any(|rule| rule.repeated),
        finding,
    }
}

/// Flows to or from addresses: one per rule and address. Ingress comes from the address,
/// egress goes to it; egress to the whole internet is a finding.
fn address_flows(rules: &[DeclaredRule]) -> Vec<Flow> {
    let mut flows = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        for peer in &rule.peers {
            let RulePeer::Address { kind, value } = peer else {
                continue;
            };
            let address = Endpoint::Address {
                kind: *kind,
                value: value.clone(),
            };
            let group = Endpoint::Group(rule_group_key(rule, &rule.group));
            let open = INTERNET.contains(&value.as_str());
            let traffic = Traffic::of(rule);
            if traffic.is_inverted() {
                continue;
            }
            let (source, target, finding) = match rule.direction {
                Direction::Ingress => (address, group, open.then_some(FlowFinding::OpenIngress)),
                Direction::Egress => (group, address, open.then_some(FlowFinding::OpenEgress)),
            };
            flows.push(Flow {
                source,
                target,
                traffic,
                rules: vec![index],
                generated: matches!(rule.origin, Origin::Generated { .. }),
                repeated: rule.repeated,
                finding,
            });
        }
    }
    flows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traffic(protocol: &str, from: &str, to: &str) -> Traffic {
        Traffic {
            protocol: protocol.into(),
            from_port: from.into(),
            to_port: to.into(),
        }
    }

    #[test]
    fn labels_read_as_people_write_them() {
        assert_eq!(traffic("tcp", "443", "443").label(), "443/tcp");
        assert_eq!(traffic("tcp", "8000", "8100").label(), "8000-8100/tcp");
        assert_eq!(traffic("-1", "", "").label(), "all");
        assert_eq!(traffic("icmp", "8", "0").label(), "icmp 8/0");
        assert_eq!(traffic("icmp", "-1", "-1").label(), "icmp");
        assert_eq!(traffic("icmpv6", "128", "-1").label(), "icmpv6 128");
        assert_eq!(traffic("50", "", "").label(), "proto 50");
        assert_eq!(
            traffic("udp", "var.port", "var.port").label(),
            "var.port/udp"
        );
    }

    #[test]
    fn all_traffic_and_ranges_cover_what_they_contain() {
        assert!(traffic("-1", "", "").covers(&traffic("tcp", "443", "443")));
        assert!(traffic("tcp", "0", "65535").covers(&traffic("tcp", "443", "443")));
        assert!(traffic("tcp", "8000", "8100").covers(&traffic("tcp", "8000", "8010")));
        assert!(!traffic("tcp", "8000", "8100").covers(&traffic("tcp", "7999", "8010")));
        assert!(!traffic("tcp", "443", "443").covers(&traffic("udp", "443", "443")));
        assert!(!traffic("tcp", "443", "443").covers(&traffic("-1", "", "")));
        assert!(traffic("icmp", "-1", "-1").covers(&traffic("icmp", "8", "0")));
        assert!(!traffic("icmp", "8", "0").covers(&traffic("icmp", "3", "0")));
        assert!(traffic("tcp", "var.p", "var.p").covers(&traffic("tcp", "var.p", "var.p")));
        assert!(!traffic("tcp", "var.p", "var.p").covers(&traffic("tcp", "443", "443")));
        assert!(traffic("tcp", "0", "65535").covers(&traffic("tcp", "var.p", "var.p")));
        assert!(!traffic("udp", "0", "65535").covers(&traffic("tcp", "var.p", "var.p")));
        assert!(!traffic("tcp", "1", "65535").covers(&traffic("tcp", "var.p", "var.p")));
    }

    #[test]
    fn ranges_add_up() {
        let wanted = traffic("tcp", "8000", "8100");
        let low = traffic("tcp", "8000", "8049");
        let high = traffic("tcp", "8050", "8100");
        let udp = traffic("udp", "8050", "8100");
        assert!(wanted.covered_by([&high, &low]));
        assert!(!wanted.covered_by([&low]));
        assert!(!wanted.covered_by([&low, &udp]));
        assert!(!wanted.covered_by([&traffic("tcp", "8000", "8048"), &high]));
        assert!(!wanted.covered_by([]));
    }

    /// [`group_key`] of `x = TEXT`, as its text.
    fn group_key(text: &str) -> String {
        let source = format!("x = {text}\n");
        let body = crate::syntax::parse(&source).unwrap();
        super::group_key(&Written::read(&source, &body.attributes[0].value)).text
    }

    #[test]
    fn a_group_is_one_key_however_it_is_referenced() {
        let web = "aws_security_group.web.id";
        for expr in [
            "aws_security_group.web.id",
            "aws_security_group.web[0].id",
            "aws_security_group.web[count.index].id",
            "aws_security_group.web[\"a\"].id",
            "aws_security_group.web[each.key].id",
            "aws_security_group.web[*].id[0]",
            "aws_security_group.web.*.id[0]",
            "one(aws_security_group.web[*].id)",
            "element(aws_security_group.web.*.id,count.index)",
            "tolist(aws_security_group.web[*].id)[0]",
            // Read from the tree: what splitting or bracket-matching the text got wrong.
            "aws_security_group.web[\"a.b]\"].id",
            "aws_security_group.web /* the web tier */ .id",
            "one(resource.aws_security_group.web[*].id)",
            "aws_security_group.web.0.id",
            "(aws_security_group.web.id)",
            "\"${aws_security_group.web.id}\"",
        ] {
            assert_eq!(group_key(expr), web, "{expr}");
        }
        assert_eq!(
            group_key("data.aws_security_group.shared[0].id"),
            "data.aws_security_group.shared.id"
        );
        for other in [
            "module.db.security_group_id",
            "var.sg_id",
            "aws_security_group.web.arn",
            "aws_security_group.web[0].name",
            "coalesce(var.a,aws_security_group.web.id)",
            "aws_security_group_rule.x.id",
            "\"aws_security_group.web.id\"",
        ] {
            assert_eq!(group_key(other), other);
        }
    }

    #[test]
    fn group_labels_drop_the_id() {
        assert_eq!(
            group_label("aws_security_group.web.id"),
            "aws_security_group.web"
        );
        assert_eq!(
            group_label("module.db.security_group_id"),
            "module.db.security_group_id"
        );
    }
}
