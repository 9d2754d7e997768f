//! The catalogue of `mutualsg audit`'s checks: one file per check, each with its id, its
//! documentation (what it finds, why it matters, how to fix it, the checkov, tfsec and trivy
//! ids of the same check), its severity, whether it can be unverified, and its detection
//! over a module's [`Analysis`]. [`REGISTRY`] lists them all; `audit`, SARIF's rule list,
//! `graph`'s labels, the baseline and `--since` read them from here.
//!
//! Adding a check is one file here, one line in [`REGISTRY`], and its fixtures under
//! `fixtures/checks/<id>/` (one tree that fires it, one that does not).

mod half_open_pair;
mod inverted_port_range;
mod mixed_management;
mod open_egress;
mod open_ingress;
mod open_ingress_admin;
mod open_ingress_database;
mod unattached_group;

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::diagnostics::{Diagnostic, Problem};
use crate::inventory::DeclaredRule;
use crate::inventory::flows::{Analysis, Flow, FlowFinding, Traffic};

/// Every check, in the order their findings are listed when two point at the same place.
pub static REGISTRY: [&Check; 8] = [
    &inverted_port_range::CHECK,
    &open_egress::CHECK,
    &open_ingress_admin::CHECK,
    &open_ingress_database::CHECK,
    &open_ingress::CHECK,
    &half_open_pair::CHECK,
    &mixed_management::CHECK,
    &unattached_group::CHECK,
];

/// The `mutualsg::audit::` family's prefix of a check's code; suppressions and baselines
/// name checks without it.
pub const FAMILY: &str = "mutualsg::audit::";

/// One check.
pub struct Check {
    /// `open_egress`: what suppressions and baselines name.
    pub id: &'static str,
    /// `mutualsg::audit::open_egress`: the diagnostic's code.
    pub code: &'static str,
    /// One line, for SARIF's rule list: "Egress to the whole internet".
    pub summary: &'static str,
    /// What it finds.
    pub finds: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it (the hint under each finding).
    pub fix: &'static str,
    pub severity: Severity,
    /// Whether a finding can be unverified: listed, failing only with `--strict`.
    pub can_be_unverified: bool,
    /// The ids of other scanners' checks that cover (part of) what this one finds, and for
    /// each, which of its findings: a comment naming one suppresses only those.
    pub equivalents: &'static [Equivalent],
    pub detect: Detect,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

impl PartialEq for Check {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

/// What a verified finding does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Fails the audit (exit 1).
    Error,
}

impl Severity {
    /// SARIF's level and `--format json`'s.
    pub fn level(self) -> &'static str {
        match self {
            Severity::Error => "error",
        }
    }
}

/// How a check judges a module.
pub enum Detect {
    /// One flow at a time: at most one check fires on a flow.
    Flow(fn(&Analysis, &Flow) -> Option<Detected>),
    /// One declared group at a time (an index into the model's groups).
    Group(fn(&Analysis, usize) -> Option<Detected>),
    /// One declared rule at a time (an index into the model's rules): what is wrong with a
    /// rule that allows nothing, so has no flow.
    Rule(fn(&Analysis, usize) -> Option<Detected>),
}

/// What a check reports about one flow or group, before it is placed in the tree.
pub struct Detected {
    pub diagnostic: Diagnostic,
    pub group: String,
    pub peer: String,
    /// The direction and traffic (`egress 443/tcp`), empty for findings about a group.
    pub traffic: String,
    /// The spans whose comments may suppress it: the rule, block or resource, and the
    /// resource an inline block belongs to.
    pub scopes: Vec<Range<usize>>,
    /// The finding in a few words, for `graph`'s edge labels: `open egress`.
    pub short: String,
    /// Why the tree cannot tell for sure, when it cannot.
    pub unverified: Option<String>,
}

/// The scanner whose suppression comment names an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scanner {
    Checkov,
    Tfsec,
    Trivy,
}

/// Another scanner's id for (part of) a check, and which findings it covers.
pub struct Equivalent {
    pub scanner: Scanner,
    pub id: &'static str,
    pub covers: Covers,
    /// Where the id and what it covers were read: repository, commit and path.
    pub source: &'static str,
}

/// Which findings of a check an other scanner's id covers, judged on the finding's traffic
/// as that scanner judges the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covers {
    /// Every finding of the check.
    Every,
    /// checkov's `port=N` checks: all traffic (protocol `-1`), or a rule whose port range
    /// holds N (checkov reads ports `0`–`0` as every port, and ignores the protocol).
    /// `N = -1` is checkov's "any port": all traffic only.
    CheckovPort(i64),
}

impl Covers {
    /// Whether the id covers a finding about `traffic` (`None`: a finding about a group).
    /// Ports given as expressions are covered only by [`Covers::Every`]: the other scanner
    /// cannot read them either.
    pub fn covers(self, traffic: Option<&Traffic>) -> bool {
        let range = |traffic: &Traffic| -> Option<(i64, i64)> {
            let from = traffic.from_port.parse().ok()?;
            let to = traffic.to_port.parse().ok()?;
            Some(if (from, to) == (0, 0) {
                (0, 65535)
            } else {
                (from, to)
            })
        };
        match (self, traffic) {
            (Covers::Every, _) => true,
            (_, None) => false,
            (Covers::CheckovPort(port), Some(traffic)) => {
                traffic.protocol == "-1"
                    || range(traffic).is_some_and(|(from, to)| from <= port && port <= to)
            }
        }
    }
}

/// A finding of the tree: what a check found, in which module.
#[derive(Debug, Clone)]
pub struct Finding {
    pub check: &'static Check,
    pub diagnostic: Diagnostic,
    pub identity: Identity,
    /// The spans whose comments may suppress it.
    pub scopes: Vec<Range<usize>>,
    /// The traffic of the flow it is about (for what another scanner's id covers).
    pub traffic: Option<Traffic>,
    /// The finding in a few words, for `graph`'s edge labels.
    pub short: String,
    pub unverified: bool,
    /// What it is about: a flow or a group of the module, by index.
    pub subject: Subject,
    /// The order of the analysis: flows first, then each group check in registry order.
    order: (usize, usize),
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// An index into [`Analysis::flows`].
    Flow(usize),
    /// An index into the module's groups.
    Group(usize),
    /// An index into the module's rules.
    Rule(usize),
}

/// A finding's identity: what it is about, not where it is written. The baseline records
/// it; `--since`, suppressions and `graph` compare findings by it, so moving a rule or
/// rewording a message changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    /// The module directory, relative to the git top level (else the current directory).
    pub module: String,
    pub check: String,
    pub group: String,
    #[serde(default)]
    pub peer: String,
    /// The direction and traffic (`egress 443/tcp`), empty for findings about a group.
    #[serde(default)]
    pub traffic: String,
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}: {}", self.check, self.module, self.group)?;
        if !self.peer.is_empty() {
            write!(f, " / {}", self.peer)?;
        }
        if !self.traffic.is_empty() {
            write!(f, " ({})", self.traffic)?;
        }
        Ok(())
    }
}

impl Identity {
    /// A stable hash of the identity (FNV-1a, 64 bits), for SARIF's partial fingerprints.
    pub fn fingerprint(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for part in [
            &self.module,
            &self.check,
            &self.group,
            &self.peer,
            &self.traffic,
        ] {
            for byte in part.bytes().chain([0]) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{hash:016x}")
    }
}

/// The check of this id (`open_egress`) or code (`mutualsg::audit::open_egress`).
pub fn by_id(id: &str) -> Option<&'static Check> {
    let id = id.strip_prefix(FAMILY).unwrap_or(id);
    REGISTRY.iter().copied().find(|check| check.id == id)
}

/// The finding of a flow of `analysis`, if a check has one.
pub fn flow_finding(analysis: &Analysis, flow: &Flow) -> Option<Finding> {
    let index = analysis
        .flows
        .iter()
        .position(|candidate| std::ptr::eq(candidate, flow))?;
    judge_flow(analysis, index)
}

/// The finding of the flow at `index`, if a check has one.
fn judge_flow(analysis: &Analysis, index: usize) -> Option<Finding> {
    let flow = &analysis.flows[index];
    REGISTRY.iter().find_map(|check| match check.detect {
        Detect::Flow(detect) => {
            let finding = detect(analysis, flow)?;
            Some(place(
                check,
                analysis,
                finding,
                Subject::Flow(index),
                (0, index),
            ))
        }
        Detect::Group(_) | Detect::Rule(_) => None,
    })
}

/// The findings about groups of the module, check by check in registry order.
pub fn group_findings(analysis: &Analysis) -> Vec<Finding> {
    let mut found = Vec::new();
    for (position, check) in REGISTRY.iter().enumerate() {
        let Detect::Group(detect) = check.detect else {
            continue;
        };
        for group in 0..analysis.model.groups.len() {
            if let Some(finding) = detect(analysis, group) {
                let order = (1 + position, group);
                found.push(place(
                    check,
                    analysis,
                    finding,
                    Subject::Group(group),
                    order,
                ));
            }
        }
    }
    found
}

/// The findings about rules of the module that draw no flow, check by check.
fn rule_findings(analysis: &Analysis) -> Vec<Finding> {
    let mut found = Vec::new();
    for (position, check) in REGISTRY.iter().enumerate() {
        let Detect::Rule(detect) = check.detect else {
            continue;
        };
        for rule in 0..analysis.model.rules.len() {
            if let Some(finding) = detect(analysis, rule) {
                let order = (1 + REGISTRY.len() + position, rule);
                found.push(place(check, analysis, finding, Subject::Rule(rule), order));
            }
        }
    }
    found
}

/// Every finding of a module, in the order of the files and lines they point at.
pub fn findings(analysis: &Analysis) -> Vec<Finding> {
    let mut found: Vec<Finding> = (0..analysis.flows.len())
        .filter_map(|index| judge_flow(analysis, index))
        .collect();
    found.extend(group_findings(analysis));
    found.extend(rule_findings(analysis));
    found.sort_by_cached_key(|finding| {
        (
            finding.diagnostic.path.clone(),
            finding.diagnostic.line_column(),
            finding.order,
        )
    });
    found
}

fn place(
    check: &'static Check,
    analysis: &Analysis,
    finding: Detected,
    subject: Subject,
    order: (usize, usize),
) -> Finding {
    let traffic = match subject {
        Subject::Flow(index) => Some(analysis.flows[index].traffic.clone()),
        Subject::Group(_) => None,
        Subject::Rule(index) => Some(Traffic::of(&analysis.model.rules[index])),
    };
    let rules: Vec<usize> = match subject {
        Subject::Flow(index) => analysis.flows[index].rules.clone(),
        Subject::Rule(index) => vec![index],
        Subject::Group(_) => Vec::new(),
    };
    let mut finding = finding;
    let instances: Vec<String> = rules
        .iter()
        .filter_map(|rule| instance_name(&analysis.model.rules[*rule]))
        .collect();
    if !instances.is_empty()
        && let Problem::Finding { message, .. } = &mut *finding.diagnostic.problem
    {
        message.push_str(&format!(" ({})", instances.join(", ")));
    }
    Finding {
        check,
        identity: Identity {
            module: analysis.module.clone(),
            check: check.id.to_string(),
            group: finding.group,
            peer: finding.peer,
            traffic: finding.traffic,
        },
        diagnostic: finding.diagnostic,
        scopes: finding.scopes,
        traffic,
        short: finding.short,
        unverified: finding.unverified.is_some(),
        subject,
        order,
    }
}

/// The instance of its declaration a rule is, where its `count`, `for_each` or `dynamic`
/// collection is known: `aws_vpc_security_group_egress_rule.x["https"]`,
/// `aws_security_group.web dynamic "egress"[0]`.
fn instance_name(rule: &DeclaredRule) -> Option<String> {
    let key = rule.instance.as_deref()?;
    Some(match &rule.origin {
        crate::inventory::Origin::Resource { address } => address.clone(),
        crate::inventory::Origin::Inline { group } => {
            let kind = match rule.direction {
                crate::generate::connection::Direction::Ingress => "ingress",
                crate::generate::connection::Direction::Egress => "egress",
            };
            format!("{group} dynamic \"{kind}\"{key}")
        }
        crate::inventory::Origin::Generated { name } => format!("{name}{key}"),
    })
}

/// The problem of a finding: its check's code and label, the message and hint given.
pub(crate) fn problem(
    check: &Check,
    message: String,
    label: &'static str,
    help: String,
    unverified: bool,
) -> Problem {
    Problem::Finding {
        code: check.code,
        message,
        label,
        help,
        unverified,
    }
}

/// The spans whose comments may suppress a finding about a rule: the rule, block or
/// resource, and the resource an inline block belongs to.
fn rule_scopes(rule: &DeclaredRule) -> Vec<Range<usize>> {
    [Some(rule.block_span.clone()), rule.parent_span.clone()]
        .into_iter()
        .flatten()
        .collect()
}

/// The hint of the three open-ingress checks.
const OPEN_INGRESS_FIX: &str = "admit the addresses that need it (a CIDR block, a prefix list, or a security group such as a load balancer's); reach administration ports through SSM Session Manager or a bastion";

/// Ingress from `0.0.0.0/0` or `::/0`.
fn is_open_ingress(flow: &Flow) -> bool {
    flow.finding == Some(FlowFinding::OpenIngress)
}

/// Whether the traffic holds one of `ports`: all traffic holds every port; ports given as
/// expressions are not guessed at.
fn holds(traffic: &Traffic, ports: &[i64]) -> bool {
    match traffic.protocol.as_str() {
        "-1" => true,
        "tcp" | "udp" => traffic
            .range()
            .is_some_and(|(from, to)| ports.iter().any(|port| (from..=to).contains(port))),
        _ => false,
    }
}

/// `ingress on A from 0.0.0.0/0 (22/tcp) opens SSH/RDP to the whole internet`.
fn open_ingress_finding(
    check: &'static Check,
    analysis: &Analysis,
    flow: &Flow,
    what: &str,
) -> Detected {
    let rule = &analysis.model.rules[flow.rules[0]];
    let (group, peer, traffic) = (
        flow.target.label(),
        flow.source.label(),
        flow.traffic.label(),
    );
    let message = format!("ingress on {group} from {peer} ({traffic}) {what} the whole internet");
    let problem = problem(
        check,
        message,
        "open to the internet",
        check.fix.to_string(),
        false,
    );
    Detected {
        diagnostic: Diagnostic::at(problem, &rule.file, rule.span.clone()),
        group,
        peer,
        traffic: format!("ingress {traffic}"),
        scopes: rule_scopes(rule),
        short: "open ingress".to_string(),
        unverified: None,
    }
}

/// For each finding of `after`, whether it is new: `before` has no finding of the same
/// identity left to match it (counted, so a second identical finding is new).
pub fn new_since(before: &[Finding], after: &[Finding]) -> Vec<bool> {
    let mut known: HashMap<&Identity, usize> = HashMap::new();
    for finding in before {
        *known.entry(&finding.identity).or_default() += 1;
    }
    after
        .iter()
        .map(|finding| match known.get_mut(&finding.identity) {
            Some(count) if *count > 0 => {
                *count -= 1;
                false
            }
            _ => true,
        })
        .collect()
}

/// The catalogue as a Markdown table, for the documentation.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| check | finds | severity | can be unverified | checkov | tfsec / trivy |\n|---|---|---|---|---|---|\n",
    );
    for check in REGISTRY {
        let ids = |scanners: &[Scanner]| {
            let mut ids: Vec<String> = Vec::new();
            for equivalent in check.equivalents {
                let id = format!("`{}`", equivalent.id);
                if scanners.contains(&equivalent.scanner) && !ids.contains(&id) {
                    ids.push(id);
                }
            }
            if ids.is_empty() {
                "—".to_string()
            } else {
                ids.join(", ")
            }
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            check.id,
            check.finds,
            check.severity.level(),
            if check.can_be_unverified { "yes" } else { "no" },
            ids(&[Scanner::Checkov]),
            ids(&[Scanner::Tfsec, Scanner::Trivy]),
        ));
    }
    out
}

/// Where the ids of other scanners were read.
pub(crate) mod sources {
    /// checkov's port checks (`AbsSecurityGroupUnrestrictedIngress`/`Egress` and the checks
    /// built on them, one file per id).
    pub const CHECKOV_PORTS: &str = "bridgecrewio/checkov@03d5fdad8d6154b1565799a7b1fb8070c158866f checkov/terraform/checks/resource/aws/AbsSecurityGroupUnrestrictedIngress.py, AbsSecurityGroupUnrestrictedEgress.py, SecurityGroupUnrestrictedIngress{22,3389,80,Any}.py, SecurityGroupUnrestrictedEgressAny.py";
    pub const CHECKOV_ATTACHED: &str = "bridgecrewio/checkov@03d5fdad8d6154b1565799a7b1fb8070c158866f checkov/terraform/checks/graph_checks/aws/SGAttachedToResource.yaml";
    /// tfsec's own rules before the move to defsec: the names (`ShortCode`) and numbered
    /// ids (`LegacyID`).
    pub const TFSEC_RULES: &str = "aquasecurity/tfsec@3b76f993fb4628a5b502573a5920d512682ca456 internal/app/tfsec/rules/aws/vpc/no_public_{ingress,egress}_{sg,sgr}_rule.go, disallow_mixed_sgr_rule.go";
    /// tfsec's map of numbered ids to names, at its last commit.
    pub const TFSEC_LEGACY: &str =
        "aquasecurity/tfsec@1ade1215f0411885832574ac0ac3339f7452e589 internal/pkg/legacy/map.go";
    /// tfsec's map of names to AVD ids.
    pub const TFSEC_AVD: &str =
        "aquasecurity/tfsec@3b76f993fb4628a5b502573a5920d512682ca456 pkg/externalscan/id_map.go";
    pub const TRIVY_EGRESS: &str = "aquasecurity/trivy-checks@80e5382269707262f35cf893bdc0805cb72217e9 checks/cloud/aws/ec2/no_public_egress_sgr.rego";
    pub const TRIVY_INGRESS: &str = "aquasecurity/trivy-checks@80e5382269707262f35cf893bdc0805cb72217e9 checks/cloud/aws/ec2/no_public_ingress_sgr.rego, lib/cloud/net.rego";
}

/// The ids of other scanners for ingress from the whole internet: checkov's per-port checks,
/// and every name tfsec and trivy have used. tfsec judged every port, on separate rules
/// (`-sgr`, AWS006) and inline blocks (`-sg`, AWS008) alike, and so did trivy's AVD-AWS-0107
/// until trivy-checks 3802bf82 (2024-12-24) narrowed it to SSH and RDP: a comment written
/// before then means every port, so these ids cover every open-ingress finding.
pub(crate) const OPEN_INGRESS_EQUIVALENTS: [Equivalent; 15] = [
    checkov("CKV_AWS_24", Covers::CheckovPort(22)),
    checkov("CKV_AWS_25", Covers::CheckovPort(3389)),
    checkov("CKV_AWS_260", Covers::CheckovPort(80)),
    checkov("CKV_AWS_277", Covers::CheckovPort(-1)),
    tfsec("aws-ec2-no-public-ingress-sgr", sources::TFSEC_AVD),
    tfsec("aws-vpc-no-public-ingress-sgr", sources::TFSEC_RULES),
    tfsec("aws-vpc-no-public-ingress-sg", sources::TFSEC_RULES),
    tfsec("no-public-ingress-sgr", sources::TFSEC_RULES),
    tfsec("AWS006", sources::TFSEC_LEGACY),
    tfsec("AWS008", sources::TFSEC_LEGACY),
    tfsec("AVD-AWS-0107", sources::TFSEC_AVD),
    tfsec("AVD-AWS-0106", sources::TFSEC_AVD),
    trivy("AVD-AWS-0107", Covers::Every, sources::TRIVY_INGRESS),
    trivy(
        "aws-ec2-no-public-ingress-sgr",
        Covers::Every,
        sources::TRIVY_INGRESS,
    ),
    trivy(
        "no-public-ingress-sgr",
        Covers::Every,
        sources::TRIVY_INGRESS,
    ),
];

const fn checkov(id: &'static str, covers: Covers) -> Equivalent {
    Equivalent {
        scanner: Scanner::Checkov,
        id,
        covers,
        source: sources::CHECKOV_PORTS,
    }
}

/// A tfsec id: tfsec's checks judged every port.
pub(crate) const fn tfsec(id: &'static str, source: &'static str) -> Equivalent {
    Equivalent {
        scanner: Scanner::Tfsec,
        id,
        covers: Covers::Every,
        source,
    }
}

pub(crate) const fn trivy(id: &'static str, covers: Covers, source: &'static str) -> Equivalent {
    Equivalent {
        scanner: Scanner::Trivy,
        id,
        covers,
        source,
    }
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
    fn checkov_port_checks_cover_what_checkov_judges() {
        let port_80 = Covers::CheckovPort(80);
        assert!(port_80.covers(Some(&traffic("tcp", "80", "80"))));
        assert!(port_80.covers(Some(&traffic("tcp", "0", "0"))));
        assert!(port_80.covers(Some(&traffic("-1", "", ""))));
        assert!(!port_80.covers(Some(&traffic("tcp", "443", "443"))));
        assert!(!port_80.covers(Some(&traffic("tcp", "var.port", "var.port"))));
        assert!(!port_80.covers(None));
        let any = Covers::CheckovPort(-1);
        assert!(any.covers(Some(&traffic("-1", "", ""))));
        assert!(!any.covers(Some(&traffic("tcp", "0", "65535"))));
    }

    #[test]
    fn ids_and_codes_are_unique_and_agree() {
        for (i, check) in REGISTRY.iter().enumerate() {
            assert_eq!(check.code, format!("{FAMILY}{}", check.id));
            assert!(REGISTRY[..i].iter().all(|other| other.id != check.id));
            assert_eq!(by_id(check.code), Some(*check));
            assert!(!check.finds.is_empty() && !check.why.is_empty() && !check.fix.is_empty());
        }
    }

    /// The documentation's table names every check and every id of other scanners.
    #[test]
    fn the_table_names_every_check_and_equivalent() {
        let table = markdown_table();
        println!("{table}");
        for check in REGISTRY {
            assert!(table.contains(&format!("| `{}` |", check.id)));
            for equivalent in check.equivalents {
                assert!(
                    table.contains(&format!("`{}`", equivalent.id)),
                    "{}",
                    equivalent.id
                );
            }
        }
    }
}
