//! The `import` blocks of a `style` switch to the `aws_vpc_security_group_{ingress,egress}_rule`
//! resources. They import only by their `sgr-` id, which the state holds as the old
//! `aws_security_group_rule`'s `security_group_rule_id`: each new resource is matched to the
//! old one holding the same EC2 rule (group, direction, protocol, ports, peer), and takes its id.

use crate::generate::connection::squeeze;
use crate::generate::migration_block::MigrationBlock;
use crate::state::State;
use crate::syntax::{Block, Body, ExprKind};

/// Why a new resource cannot be imported, and what the user can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unroutable {
    pub reason: String,
    pub fix: String,
}

/// One EC2 rule, as a generated block spells it: expressions as their squeezed source text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RuleKey {
    group: String,
    direction: &'static str,
    protocol: String,
    /// `None` for every protocol (`-1`), whose ports AWS does not store.
    ports: Option<(String, String)>,
    peer: Peer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Peer {
    Ipv4(String),
    Ipv6(String),
    PrefixList(String),
    Group(String),
}

const OLD_TYPE: &str = "aws_security_group_rule";

/// The imports that give each new `aws_vpc_*` resource of `new_text` the `sgr-` id of the old
/// `aws_security_group_rule` of `old_text` that holds the same EC2 rule, or every resource
/// that cannot have one. A target that `existing` already imports is left as it is (the
/// user wrote it by hand); a new resource no old one matches is a rule that did not exist,
/// which Terraform creates.
pub fn imports(
    old_text: &str,
    old: &Body,
    new_text: &str,
    new: &Body,
    state: &State,
    existing: &[MigrationBlock],
) -> Result<Vec<MigrationBlock>, Vec<Unroutable>> {
    let already = |target: &str| {
        existing
            .iter()
            .any(|block| matches!(block, MigrationBlock::Import { to, .. } if to == target))
    };
    let old_rules: Vec<(String, bool, Option<Vec<RuleKey>>)> = old
        .blocks_of("resource")
        .filter(|block| block.label(0) == Some(OLD_TYPE))
        .map(|block| {
            (
                format!("{OLD_TYPE}.{}", block.label(1).unwrap_or_default()),
                block.body.attribute("count").is_some(),
                old_keys(old_text, block),
            )
        })
        .collect();
    let mut blocks = Vec::new();
    let mut refused = Vec::new();
    for block in new.blocks_of("resource") {
        let resource_type = block.label(0).unwrap_or_default();
        let Some(direction) = vpc_direction(resource_type) else {
            continue;
        };
        let address = format!("{resource_type}.{}", block.label(1).unwrap_or_default());
        let count = block
            .body
            .attribute("count")
            .map(|attribute| squeeze(&new_text[attribute.value.span.clone()]));
        if count.as_deref() == Some("0") {
            // No rule exists, before or after.
            continue;
        }
        if block.body.attribute("for_each").is_some() {
            let prefix = format!("{address}[");
            if !existing.iter().any(
                |block| matches!(block, MigrationBlock::Import { to, .. } if to.starts_with(&prefix)),
            ) {
                refused.push(Unroutable {
                    reason: format!(
                        "{address} is one resource per element of a list expression (`for_each`), and the old rule holds them all under one id"
                    ),
                    fix: by_hand(&format!("{address}[\"<element>\"]")),
                });
            }
            continue;
        }
        let target = if count.is_some() {
            format!("{address}[0]")
        } else {
            address.clone()
        };
        if already(&target) {
            continue;
        }
        let key = new_key(new_text, block, direction);
        let Some((old_address, old_counted, keys)) = old_rules.iter().find(|(_, _, keys)| {
            keys.as_ref()
                .is_some_and(|keys| key.as_ref().is_some_and(|key| keys.contains(key)))
        }) else {
            continue;
        };
        let instance = if *old_counted {
            format!("{old_address}[0]")
        } else {
            old_address.clone()
        };
        let found = state.root_resource(&instance);
        if found.is_none() && *old_counted {
            // The condition was false: no rule exists to import.
            continue;
        }
        let rules = keys.as_ref().map_or(0, Vec::len);
        if rules > 1 {
            refused.push(several_rules(old_address, rules, &target));
            continue;
        }
        let Some(resource) = found else {
            refused.push(if state.in_child_module(&instance) {
                Unroutable {
                    reason: format!(
                        "{instance} is in the state of a module call, and Terraform reads import blocks in the root module only"
                    ),
                    fix: "move the rules in the state by hand (`terraform state rm`, then `terraform import` with each rule's sgr- id), or keep the style".into(),
                }
            } else {
                Unroutable {
                    reason: format!("{instance} is not in the state given with --state"),
                    fix: "pass the state of this directory, after `terraform apply`: `terraform show -json > state.json && mutualsg generate --state state.json`".into(),
                }
            });
            continue;
        };
        let values = &resource.values;
        let sources = ec2_rule_count(values);
        if sources > 1 {
            refused.push(several_rules(&instance, sources, &target));
            continue;
        }
        match values["security_group_rule_id"].as_str() {
            Some(id) if id.starts_with("sgr-") => blocks.push(MigrationBlock::Import {
                to: target,
                id: format!("\"{id}\""),
            }),
            _ => refused.push(Unroutable {
                reason: format!("the state holds no security_group_rule_id (sgr- id) for {instance}"),
                fix: format!(
                    "run `terraform apply -refresh-only` with a current AWS provider, then `terraform show -json > state.json` again; or {}",
                    by_hand(&target)
                ),
            }),
        }
    }
    if refused.is_empty() {
        Ok(blocks)
    } else {
        Err(refused)
    }
}

/// How many EC2 rules an `aws_security_group_rule` of the state stands for: one per CIDR
/// block, prefix list and group (`self` with its own group named again is one).
fn ec2_rule_count(values: &serde_json::Value) -> usize {
    let lists: usize = ["cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"]
        .iter()
        .map(|list| values[*list].as_array().map_or(0, Vec::len))
        .sum();
    let is_self = values["self"].as_bool() == Some(true);
    let own_group = values["security_group_id"].as_str();
    let named_again = |group: &str| is_self && own_group == Some(group);
    let other_group = values["source_security_group_id"]
        .as_str()
        .is_some_and(|group| !group.is_empty() && !named_again(group));
    lists + usize::from(is_self) + usize::from(other_group)
}

fn several_rules(instance: &str, rules: usize, target: &str) -> Unroutable {
    Unroutable {
        reason: format!(
            "{instance} holds {rules} EC2 rules (several addresses, or both families, in one resource), and the state has no sgr- id for each"
        ),
        fix: by_hand(target),
    }
}

/// Importing by hand: the ids are in AWS; an import block already in the migration file is
/// kept, and `generate` takes it as the route.
fn by_hand(target: &str) -> String {
    format!(
        "find each rule's id with `aws ec2 describe-security-group-rules --filters Name=group-id,Values=<sg- id>`, add an `import` block with `to = {target}` and `id = \"sgr-…\"` to mutual_rules.migrate.tf, and generate again"
    )
}

fn vpc_direction(resource_type: &str) -> Option<&'static str> {
    match resource_type {
        "aws_vpc_security_group_ingress_rule" => Some("ingress"),
        "aws_vpc_security_group_egress_rule" => Some("egress"),
        _ => None,
    }
}

/// The protocol as EC2 stores it: `all` is `-1`.
fn protocol(text: &str) -> String {
    match text {
        "\"all\"" | "-1" => "\"-1\"".into(),
        other => other.to_ascii_lowercase(),
    }
}

fn ports(protocol: &str, from: Option<String>, to: Option<String>) -> Option<(String, String)> {
    (protocol != "\"-1\"").then(|| (from.unwrap_or_default(), to.unwrap_or_default()))
}

/// The EC2 rules an `aws_security_group_rule` block stands for, one per peer; `None` when a
/// peer list is an expression whose elements the file does not show.
fn old_keys(text: &str, block: &Block) -> Option<Vec<RuleKey>> {
    let body = &block.body;
    let source = |name: &str| {
        body.attribute(name)
            .map(|attribute| squeeze(&text[attribute.value.span.clone()]))
    };
    let group = source("security_group_id")?;
    let direction = match body.attribute("type")?.value.string()? {
        "ingress" => "ingress",
        "egress" => "egress",
        _ => return None,
    };
    let protocol = protocol(&source("protocol")?);
    let ports = ports(&protocol, source("from_port"), source("to_port"));
    let mut peers = Vec::new();
    if body
        .attribute("self")
        .is_some_and(|attribute| matches!(attribute.value.kind, ExprKind::Bool(true)))
    {
        peers.push(Peer::Group(group.clone()));
    }
    if let Some(peer) = source("source_security_group_id") {
        peers.push(Peer::Group(peer));
    }
    for name in ["cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"] {
        let peer = match name {
            "cidr_blocks" => Peer::Ipv4,
            "ipv6_cidr_blocks" => Peer::Ipv6,
            _ => Peer::PrefixList,
        };
        if let Some(attribute) = body.attribute(name) {
            let elements = attribute.value.tuple()?;
            peers.extend(
                elements
                    .iter()
                    .map(|element| peer(squeeze(&text[element.span.clone()]))),
            );
        }
    }
    Some(
        peers
            .into_iter()
            .map(|peer| RuleKey {
                group: group.clone(),
                direction,
                protocol: protocol.clone(),
                ports: ports.clone(),
                peer,
            })
            .collect(),
    )
}

/// The EC2 rule an `aws_vpc_security_group_*_rule` block stands for.
fn new_key(text: &str, block: &Block, direction: &'static str) -> Option<RuleKey> {
    let body = &block.body;
    let source = |name: &str| {
        body.attribute(name)
            .map(|attribute| squeeze(&text[attribute.value.span.clone()]))
    };
    let protocol = protocol(&source("ip_protocol")?);
    let peer = if let Some(cidr) = source("cidr_ipv4") {
        Peer::Ipv4(cidr)
    } else if let Some(cidr) = source("cidr_ipv6") {
        Peer::Ipv6(cidr)
    } else if let Some(list) = source("prefix_list_id") {
        Peer::PrefixList(list)
    } else {
        Peer::Group(source("referenced_security_group_id")?)
    };
    Some(RuleKey {
        group: source("security_group_id")?,
        direction,
        ports: ports(&protocol, source("from_port"), source("to_port")),
        protocol,
        peer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax;

    const OLD: &str = r#"
resource "aws_security_group_rule" "db_to_db_all_ingress" {
  type              = "ingress"
  security_group_id = aws_security_group.db.id
  self              = true
  protocol          = "-1"
  from_port         = 0
  to_port           = 0
}

resource "aws_security_group_rule" "web_in" {
  count = var.on ? 1 : 0

  type              = "ingress"
  security_group_id = aws_security_group.web.id
  cidr_blocks       = ["0.0.0.0/0"]
  ipv6_cidr_blocks  = ["::/0"]
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
}
"#;

    const NEW: &str = r#"
resource "aws_vpc_security_group_ingress_rule" "db_to_db" {
  security_group_id            = aws_security_group.db.id
  referenced_security_group_id = aws_security_group.db.id
  ip_protocol                  = "-1"
}

resource "aws_vpc_security_group_ingress_rule" "web_in_ipv6" {
  count = var.on ? 1 : 0

  security_group_id = aws_security_group.web.id
  cidr_ipv6         = "::/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}
"#;

    fn state(resources: &str) -> State {
        State::from_json(&format!(
            r#"{{"values": {{"root_module": {{"resources": [{resources}]}}}}}}"#
        ))
        .unwrap()
    }

    const SELF_RULE: &str = r#"{"address": "aws_security_group_rule.db_to_db_all_ingress",
        "mode": "managed", "type": "aws_security_group_rule", "values": {
        "security_group_id": "sg-1", "self": true, "source_security_group_id": null,
        "cidr_blocks": null, "security_group_rule_id": "sgr-0a"}}"#;

    #[test]
    fn self_rule_takes_its_sgr_id_and_a_dual_stack_rule_is_refused() {
        let (old, new) = (syntax::parse(OLD).unwrap(), syntax::parse(NEW).unwrap());
        let dual = r#"{"address": "aws_security_group_rule.web_in[0]", "mode": "managed",
            "type": "aws_security_group_rule", "values": {"cidr_blocks": ["0.0.0.0/0"],
            "ipv6_cidr_blocks": ["::/0"], "security_group_rule_id": "sgr-0b"}}"#;
        let refused = imports(
            OLD,
            &old,
            NEW,
            &new,
            &state(&format!("{SELF_RULE},{dual}")),
            &[],
        )
        .unwrap_err();
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(
            refused[0]
                .reason
                .starts_with("aws_security_group_rule.web_in holds 2 EC2 rules")
        );
        assert!(
            refused[0]
                .fix
                .contains("aws_vpc_security_group_ingress_rule.web_in_ipv6[0]")
        );

        // Imported by hand: that target is routed, and the rest is found in the state.
        let by_hand = MigrationBlock::Import {
            to: "aws_vpc_security_group_ingress_rule.web_in_ipv6[0]".into(),
            id: "\"sgr-0c\"".into(),
        };
        let blocks = imports(OLD, &old, NEW, &new, &state(SELF_RULE), &[by_hand]).unwrap();
        assert_eq!(
            blocks,
            [MigrationBlock::Import {
                to: "aws_vpc_security_group_ingress_rule.db_to_db".into(),
                id: "\"sgr-0a\"".into()
            }]
        );
    }

    #[test]
    fn a_rule_missing_from_the_state_is_refused_unless_its_condition_was_false() {
        let (old, new) = (syntax::parse(OLD).unwrap(), syntax::parse(NEW).unwrap());
        let refused = imports(OLD, &old, NEW, &new, &state(""), &[]).unwrap_err();
        // The counted rule is absent (its condition was false): nothing to import.
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(
            refused[0]
                .reason
                .contains("aws_security_group_rule.db_to_db_all_ingress is not in the state")
        );
    }
}
