//! Real Terraform agrees with every generated file. Terraform is found through
//! `MUTUALSG_TERRAFORM` or `PATH`; `terraform fmt` runs with any Terraform, the rest with the
//! offline stand-in aws provider. Without them these tests are skipped with a message, unless
//! `MUTUALSG_REQUIRE_TERRAFORM=1` (as in CI) makes that a failure (`common::terraform_setup`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::Value;

/// Every golden generated file and migration file under `fixtures/`.
fn golden_outputs() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = walkdir::WalkDir::new(fixtures())
        .into_iter()
        .map(Result::unwrap)
        .filter(|entry| {
            entry.file_name() == "mutual_rules.gen.tf"
                || entry.file_name() == "mutual_rules.migrate.tf"
        })
        .filter(|entry| {
            entry
                .path()
                .components()
                .any(|c| c.as_os_str() == "expected")
        })
        .map(|entry| entry.into_path())
        .collect();
    found.sort();
    found
}

#[test]
fn terraform_fmt_leaves_every_golden_output_unchanged() {
    let Some(terraform) = terraform_for_fmt("terraform fmt") else {
        return;
    };
    let outputs = golden_outputs();
    assert!(outputs.len() >= 6, "expected goldens, found {outputs:?}");
    for output in outputs {
        let name = output.file_name().unwrap().to_str().unwrap();
        let args = ["fmt", "-check", "-diff", name];
        let result = run_terraform(&terraform, output.parent().unwrap(), &args);
        assert!(
            result.status.success(),
            "terraform fmt would change {}:\n{}{}",
            output.display(),
            text(&result.stdout),
            text(&result.stderr)
        );
    }
}

/// A generated tree in a temporary directory, driven with real Terraform.
struct Workspace {
    dir: assert_fs::TempDir,
    terraform: PathBuf,
}

impl Workspace {
    /// Copies a case's input, runs `mutualsg generate` and `terraform init`. `None` (after
    /// saying why) when Terraform or its aws provider is not available and not required.
    fn new(case: &Path, test: &str) -> Option<Workspace> {
        let terraform = terraform_with_aws(test)?;
        let dir = assert_fs::TempDir::new().unwrap();
        copy_tree(&case.join("input"), dir.path());
        let workspace = Workspace { dir, terraform };
        workspace.generate();
        workspace.ok(&["init", "-input=false", "-no-color"]);
        Some(workspace)
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn generate(&self) {
        let output = mutualsg(self.path(), &["generate"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "generate: {}",
            text(&output.stderr)
        );
    }

    fn run(&self, args: &[&str]) -> Output {
        run_terraform(&self.terraform, self.path(), args)
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        terraform_ok(&self.terraform, self.path(), args)
    }

    /// `terraform plan`, read back with `terraform show -json`.
    fn plan(&self) -> Value {
        self.ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
        serde_json::from_str(&self.ok(&["show", "-json", "tfplan"])).unwrap()
    }

    /// The plan's resource changes other than no-ops, as address → actions.
    fn planned_changes(&self) -> BTreeMap<String, Vec<String>> {
        self.plan()["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|change| {
                let actions: Vec<String> = change["change"]["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|action| action.as_str().unwrap().to_string())
                    .collect();
                (actions != ["no-op"])
                    .then(|| (change["address"].as_str().unwrap().to_string(), actions))
            })
            .collect()
    }

    fn apply(&self) {
        self.ok(&["apply", "-input=false", "-no-color", "-auto-approve"]);
    }

    /// The rules in state, each as a [`Flow`] line, with group ids mapped back to names.
    fn rules_in_state(&self) -> Vec<String> {
        let state: Value = serde_json::from_str(&self.ok(&["show", "-json"])).unwrap();
        let resources = state["values"]["root_module"]["resources"]
            .as_array()
            .unwrap()
            .clone();
        let group_names: BTreeMap<String, String> = resources
            .iter()
            .filter(|resource| resource["type"] == "aws_security_group")
            .map(|group| {
                (
                    group["values"]["id"].as_str().unwrap().to_string(),
                    group["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let name = |id: &Value| {
            let id = id.as_str().unwrap_or_default();
            group_names
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.to_string())
        };
        let mut rules: Vec<String> = resources
            .iter()
            .filter_map(|rule| {
                let values = &rule["values"];
                let group = name(&values["security_group_id"]);
                // (direction, peer, protocol) in either resource family.
                let (direction, peer, protocol) = match rule["type"].as_str().unwrap() {
                    "aws_security_group_rule" => {
                        let peer = if values["self"] == true {
                            "self".to_string()
                        } else if let Some(addresses) = address_peer(values, &LIST_ATTRIBUTES) {
                            addresses
                        } else {
                            name(&values["source_security_group_id"])
                        };
                        (
                            values["type"].as_str().unwrap().to_string(),
                            peer,
                            &values["protocol"],
                        )
                    }
                    vpc @ ("aws_vpc_security_group_ingress_rule"
                    | "aws_vpc_security_group_egress_rule") => {
                        let direction = if vpc.contains("ingress") {
                            "ingress"
                        } else {
                            "egress"
                        };
                        // These resources have no `self`: a group names itself.
                        let mut peer = address_peer(values, &SINGLE_ATTRIBUTES)
                            .unwrap_or_else(|| name(&values["referenced_security_group_id"]));
                        if peer == group {
                            peer = "self".to_string();
                        }
                        (direction.to_string(), peer, &values["ip_protocol"])
                    }
                    _ => return None,
                };
                let description = values["description"]
                    .as_str()
                    .filter(|d| !d.is_empty())
                    .unwrap_or("-");
                Some(format!(
                    "{direction} {group} {peer} {} {} {} | {description}",
                    protocol.as_str().unwrap(),
                    values["from_port"],
                    values["to_port"],
                ))
            })
            .collect();
        rules.sort();
        rules
    }
}

/// The address attributes of `aws_security_group_rule` and of the `aws_vpc_*` rules, with the
/// kind each is written as in `flows.txt`.
const LIST_ATTRIBUTES: [(&str, &str); 3] = [
    ("cidr_blocks", "cidr"),
    ("ipv6_cidr_blocks", "ipv6"),
    ("prefix_list_ids", "pl"),
];
const SINGLE_ATTRIBUTES: [(&str, &str); 3] = [
    ("cidr_ipv4", "cidr"),
    ("cidr_ipv6", "ipv6"),
    ("prefix_list_id", "pl"),
];

/// A rule's address peer as `KIND:ADDRESS[,ADDRESS...]`, when it has one; a rule with
/// addresses of several kinds (IPv4 and IPv6 in one `aws_security_group_rule`) joins them
/// with `+`.
fn address_peer(values: &Value, attributes: &[(&str, &str)]) -> Option<String> {
    let kinds: Vec<String> = attributes
        .iter()
        .filter_map(|(attribute, kind)| {
            let addresses: Vec<&str> = match &values[attribute] {
                Value::String(one) => vec![one.as_str()],
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            (!addresses.is_empty()).then(|| format!("{kind}:{}", addresses.join(",")))
        })
        .collect();
    (!kinds.is_empty()).then(|| kinds.join("+"))
}

/// A rule resource of either output style.
fn is_rule(address: &str) -> bool {
    address.starts_with("aws_security_group_rule.")
        || address.starts_with("aws_vpc_security_group_")
}

/// The rules a case's hand-written `flows.txt` says Terraform must end up with: each line is
/// one connection, `SOURCE TARGET PROTOCOL FROM TO | INGRESS DESCRIPTION | EGRESS DESCRIPTION`.
fn expected_rules(case: &Path) -> Vec<String> {
    let flows = fs::read_to_string(case.join("flows.txt")).unwrap();
    let mut rules = Vec::new();
    for line in flows
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
    {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [connection, ingress_description, egress_description] = parts[..] else {
            panic!("bad flows line: {line}")
        };
        let [source, target, protocol, from, to] =
            connection.split_whitespace().collect::<Vec<_>>()[..]
        else {
            panic!("bad flows line: {line}")
        };
        let (source_peer, target_peer) = if source == target {
            ("self", "self")
        } else {
            (source, target)
        };
        // Addresses are written KIND:ADDRESS: only the group on the other side has a rule.
        let is_group = |endpoint: &str| !endpoint.contains(':');
        if is_group(source) {
            rules.push(format!(
                "egress {source} {target_peer} {protocol} {from} {to} | {egress_description}"
            ));
        }
        if is_group(target) {
            rules.push(format!(
                "ingress {target} {source_peer} {protocol} {from} {to} | {ingress_description}"
            ));
        }
    }
    rules.sort();
    rules
}

/// Reverses the order of the connections in `mutual_rules` (list elements or map entries),
/// and of the addresses in each literal CIDR or prefix list.
fn reorder_mutual_rules(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let source = fs::read_to_string(&path).unwrap_or_default();
        if path.extension().is_none_or(|ext| ext != "tf") || !source.contains("mutual_rules =") {
            continue;
        }
        // hcl-edit rejects the byte order mark that Terraform and mutualsg accept.
        let source = source.trim_start_matches('\u{feff}');
        let mut body = hcl_edit::parser::parse_body(source).unwrap();
        for block in body.blocks_mut() {
            let Some(mut attribute) = block.body.get_attribute_mut("mutual_rules") else {
                continue;
            };
            let value = attribute.value_mut();
            if let Some(array) = value.as_array_mut() {
                reverse_array(array);
                array.iter_mut().for_each(reverse_address_lists);
            } else if let Some(object) = value.as_object_mut() {
                let mut entries: Vec<_> =
                    object.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                entries.reverse();
                object.clear();
                entries.into_iter().for_each(|(key, mut value)| {
                    reverse_address_lists(value.expr_mut());
                    object.insert(key, value);
                });
            }
        }
        fs::write(&path, body.to_string()).unwrap();
    }
}

fn reverse_array(array: &mut hcl_edit::expr::Array) {
    let mut elements: Vec<_> = array.iter().cloned().collect();
    elements.reverse();
    array.clear();
    elements.into_iter().for_each(|element| array.push(element));
}

/// Reverses the literal CIDR and prefix lists of one connection object.
fn reverse_address_lists(connection: &mut hcl_edit::expr::Expression) {
    let Some(object) = connection.as_object_mut() else {
        return;
    };
    for (_, value) in object.iter_mut() {
        if let Some(array) = value.expr_mut().as_array_mut() {
            reverse_array(array);
        }
    }
}

/// validate; plan two rules per connection and nothing else; apply and find in state exactly
/// the rules `flows.txt` asks for; then reorder the connections, regenerate, and plan nothing.
fn validate_plan_apply_reorder(case: &Path) {
    let test = format!("terraform on {}", case.display());
    let Some(workspace) = Workspace::new(case, &test) else {
        return;
    };
    workspace.ok(&["validate", "-no-color"]);
    let expected = expected_rules(case);
    let changes = workspace.planned_changes();
    let rule_creates = changes
        .iter()
        .filter(|(address, actions)| is_rule(address) && *actions == &["create"])
        .count();
    assert_eq!(
        rule_creates,
        expected.len(),
        "{test}: rules created, plan: {changes:?}"
    );
    assert!(
        changes.values().all(|actions| actions == &["create"]),
        "{test}: {changes:?}"
    );

    workspace.apply();
    assert_eq!(
        workspace.rules_in_state(),
        expected,
        "{test}: rules in state"
    );

    // Stable names, proven by Terraform: a reordered list plans no change.
    reorder_mutual_rules(workspace.path());
    workspace.generate();
    let changes = workspace.planned_changes();
    assert!(changes.is_empty(), "{test}: reordering planned {changes:?}");
    let exit = workspace.run(&["plan", "-input=false", "-detailed-exitcode", "-no-color"]);
    assert_eq!(
        exit.status.code(),
        Some(0),
        "{test}: {}",
        text(&exit.stdout)
    );
}

/// Cases that Terraform formats (above) but cannot plan here, and why.
const NOT_PLANNED: &[(&str, &str)] = &[(
    "generate/warns_about_conflicting_rule_management",
    "the stand-in aws provider has no aws_vpc_security_group_rules_exclusive resource",
)];

/// One test per case, so that cargo runs them in parallel.
macro_rules! terraform_cases {
    ($($test:ident => $case:literal,)*) => {
        $(
            #[test]
            fn $test() {
                validate_plan_apply_reorder(&fixtures().join($case));
            }
        )*

        #[test]
        fn every_case_with_output_has_a_terraform_test() {
            let tested: BTreeSet<PathBuf> = [$($case),*].iter().map(|case| fixtures().join(case)).collect();
            let with_output: BTreeSet<PathBuf> = golden_outputs()
                .iter()
                .map(|output| output.parent().unwrap().parent().unwrap().to_path_buf())
                .filter(|case| !NOT_PLANNED.iter().any(|(name, _)| case.ends_with(name)))
                // Migrations are applied, migrated and planned in tests/migrate.rs.
                .filter(|case| !case.starts_with(fixtures().join("migrate")))
                .collect();
            assert_eq!(tested, with_output, "add the case to terraform_cases! and give it a flows.txt");
        }
    };
}

terraform_cases! {
    terraform_accepts_the_example_tree => "example",
    terraform_accepts_v1_list_keys => "generate/list_v1_keys",
    terraform_accepts_v2_map_keys => "generate/map_v2_keys",
    terraform_accepts_every_protocol => "generate/protocols",
    terraform_accepts_self_connections => "generate/self_connection",
    terraform_accepts_expressions => "generate/expressions",
    terraform_accepts_the_vpc_style => "generate/vpc_style",
    terraform_accepts_cidr_and_prefix_list_peers => "generate/cidr_peers",
    terraform_accepts_cidr_peers_in_the_vpc_style => "generate/vpc_style_cidr_peers",
    terraform_accepts_dual_stack_peers => "generate/dual_stack_peers",
    terraform_accepts_dual_stack_peers_in_the_vpc_style => "generate/vpc_style_dual_stack_peers",
    terraform_accepts_61_rules_on_one_group => "generate/warns_past_the_rule_quota",
    terraform_accepts_crlf_line_endings => "generate/crlf_line_endings",
    terraform_accepts_a_utf8_byte_order_mark => "generate/utf8_byte_order_mark",
    terraform_accepts_latin1_in_a_comment => "generate/latin1_in_a_comment",
    terraform_accepts_meta_arguments => "generate/meta_arguments",
    terraform_accepts_for_each_connections => "generate/for_each",
    terraform_accepts_for_each_in_the_vpc_style => "generate/vpc_style_for_each",
    terraform_accepts_source_and_target_providers => "generate/source_and_target_providers",
    terraform_accepts_a_style_per_connection => "generate/style_per_connection",
}

/// Applies a case, edits one connection's port, regenerates, and returns the planned changes.
fn changes_after_editing(
    case: &Path,
    from: &str,
    to: &str,
) -> Option<BTreeMap<String, Vec<String>>> {
    let test = format!("port change in {}", case.display());
    let workspace = Workspace::new(case, &test)?;
    workspace.apply();
    let mut edited = 0;
    for entry in fs::read_dir(workspace.path()).unwrap() {
        let path = entry.unwrap().path();
        let source = fs::read_to_string(&path).unwrap_or_default();
        if source.contains(from) {
            fs::write(&path, source.replacen(from, to, 1)).unwrap();
            edited += 1;
        }
    }
    assert_eq!(edited, 1, "{test}: `{from}` not found once");
    workspace.generate();
    Some(workspace.planned_changes())
}

fn actions(changes: &BTreeMap<String, Vec<String>>) -> BTreeSet<(String, String)> {
    changes
        .iter()
        .map(|(address, actions)| (address.clone(), actions.join(",")))
        .collect()
}

#[test]
fn a_port_change_replaces_exactly_that_connections_two_rules() {
    // A derived name contains the port: the old pair is destroyed, the new pair created.
    let Some(changes) = changes_after_editing(
        &fixtures().join("example"),
        "destination_port = 3306",
        "destination_port = 3307",
    ) else {
        return;
    };
    let want: BTreeSet<(String, String)> = [
        (
            "aws_security_group_rule.web_to_db_tcp_3306_egress",
            "delete",
        ),
        (
            "aws_security_group_rule.web_to_db_tcp_3306_ingress",
            "delete",
        ),
        (
            "aws_security_group_rule.web_to_db_tcp_3307_egress",
            "create",
        ),
        (
            "aws_security_group_rule.web_to_db_tcp_3307_ingress",
            "create",
        ),
    ]
    .into_iter()
    .map(|(address, action)| (address.to_string(), action.to_string()))
    .collect();
    assert_eq!(actions(&changes), want);
}

#[test]
fn a_port_change_of_a_named_connection_replaces_its_two_rules_in_place() {
    let Some(changes) = changes_after_editing(
        &fixtures().join("generate/map_v2_keys"),
        "from_port          = 8443",
        "from_port          = 8444",
    ) else {
        return;
    };
    let want: BTreeSet<(String, String)> = [
        "aws_security_group_rule.frontend_to_api_egress",
        "aws_security_group_rule.frontend_to_api_ingress",
    ]
    .into_iter()
    .map(|address| (address.to_string(), "delete,create".to_string()))
    .collect();
    assert_eq!(actions(&changes), want);
}

#[test]
fn a_port_change_in_the_vpc_style_updates_its_two_rules_in_place() {
    // The reason aws_vpc_* names leave the ports out: the change is an update, not a replace.
    let Some(changes) = changes_after_editing(
        &fixtures().join("generate/vpc_style"),
        "from_port          = 8080",
        "from_port          = 8081",
    ) else {
        return;
    };
    let want: BTreeSet<(String, String)> = [
        "aws_vpc_security_group_egress_rule.lb_to_app",
        "aws_vpc_security_group_ingress_rule.lb_to_app",
    ]
    .into_iter()
    .map(|address| (address.to_string(), "update".to_string()))
    .collect();
    assert_eq!(actions(&changes), want);
}

/// The provider configuration (`aws`, `aws.network`) each rule resource of a case's plan uses.
fn rule_providers(case: &Path, test: &str) -> Option<BTreeMap<String, String>> {
    let workspace = Workspace::new(case, test)?;
    let plan = workspace.plan();
    let resources = plan["configuration"]["root_module"]["resources"]
        .as_array()
        .unwrap();
    let providers = resources
        .iter()
        .map(|resource| {
            let address = resource["address"].as_str().unwrap().to_string();
            let provider = resource["provider_config_key"].as_str().unwrap();
            (address, provider.to_string())
        })
        .filter(|(address, _)| is_rule(address))
        .collect();
    Some(providers)
}

#[test]
fn terraform_writes_each_half_with_its_own_provider() {
    let case = fixtures().join("generate/source_and_target_providers");
    let Some(providers) = rule_providers(&case, "providers of source_and_target_providers") else {
        return;
    };
    let want: BTreeMap<String, String> = [
        ("app_to_proxy_tcp_3128_egress", "aws.workload"),
        ("app_to_proxy_tcp_3128_ingress", "aws.network"),
        ("web_to_proxy_tcp_3128_egress", "aws"),
        ("web_to_proxy_tcp_3128_ingress", "aws.network"),
        ("web_to_app_tcp_each_egress", "aws"),
        ("web_to_app_tcp_each_ingress", "aws.workload"),
    ]
    .into_iter()
    .map(|(name, provider)| {
        (
            format!("aws_security_group_rule.{name}"),
            provider.to_string(),
        )
    })
    .collect();
    assert_eq!(providers, want);
}
