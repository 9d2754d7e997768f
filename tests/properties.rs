//! Properties of generation, for any valid set of connections that proptest draws: the output
//! parses (hcl-rs), is the same twice, has two rules per group-to-group connection and one
//! per one-sided connection, unique names, does not depend on the order of the list, and
//! `check` after `generate` is clean.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::sync::Arc;

use mutualsg::config::Style;
use mutualsg::diagnostics::SourceFile;
use mutualsg::generate::Mode;
use mutualsg::generate::generate_file;
use mutualsg::generate::parse;
use proptest::prelude::*;
use proptest::sample::select;

/// Group references whose words (`alb`, `db_security_group_id`, ...) differ, so derived names
/// of different connections do too.
const GROUPS: [&str; 6] = [
    "aws_security_group.alb.id",
    "aws_security_group.web.id",
    "module.db.security_group_id",
    "var.queue_sg_id",
    "data.aws_security_group.shared.id",
    "\"sg-0123456789abcdef0\"",
];

/// Network addresses (host bits clear), one per connection side.
const CIDRS: [&str; 5] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.1.0/24",
    "198.51.100.0/24",
    "0.0.0.0/0",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Peer {
    Group(usize),
    Cidr(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Proto {
    /// TCP, spelt `"tcp"`, `"TCP"`, `6` or `"6"` (the spelling is not part of the identity).
    Tcp,
    Udp,
    Icmp,
    All,
    /// GRE, by number.
    Gre,
}

#[derive(Debug, Clone)]
struct Conn {
    source: Peer,
    target: Peer,
    protocol: Proto,
    /// TCP/UDP: a port range; ICMP: type and code; ignored for all traffic and GRE.
    ports: (i64, i64),
    /// How the ports and protocol are spelt (several spellings mean the same).
    spelling: u8,
    description: Option<String>,
}

impl Conn {
    /// What AWS identifies the connection's rules by, as the output style names them: the
    /// classic style names a rule by its whole identity, the aws_vpc_* style by its two ends.
    fn key(&self, style: Style) -> (Peer, Peer, Option<(Proto, i64, i64)>) {
        let traffic = match self.protocol {
            Proto::All | Proto::Gre => (self.protocol, 0, 0),
            _ => (self.protocol, self.ports.0, self.ports.1),
        };
        match style {
            Style::SecurityGroupRule => (self.source, self.target, Some(traffic)),
            Style::VpcSecurityGroupRule => (self.source, self.target, None),
        }
    }

    fn rules(&self) -> usize {
        [self.source, self.target]
            .iter()
            .filter(|peer| matches!(peer, Peer::Group(_)))
            .count()
    }

    fn hcl(&self) -> String {
        let mut lines = Vec::new();
        let side = |peer: Peer, group_key: &str, cidr_key: &str| match peer {
            Peer::Group(i) => format!("{group_key} = {}", GROUPS[i]),
            Peer::Cidr(i) => format!("{cidr_key} = [\"{}\"]", CIDRS[i]),
        };
        lines.push(side(self.source, "source_sg_id", "source_cidr_blocks"));
        lines.push(side(self.target, "target_sg_id", "target_cidr_blocks"));
        let (from, to) = self.ports;
        let spelling = self.spelling % 4;
        match self.protocol {
            Proto::Tcp | Proto::Udp => {
                if self.protocol == Proto::Tcp {
                    let tcp = ["\"tcp\"", "\"TCP\"", "6", "\"6\""][usize::from(spelling)];
                    if spelling > 0 || self.spelling >= 4 {
                        lines.push(format!("protocol = {tcp}"));
                    }
                } else {
                    lines.push(
                        ["protocol = \"udp\"", "protocol = 17"][usize::from(spelling % 2)].into(),
                    );
                }
                lines.push(match (spelling, from == to) {
                    (0, true) => format!("destination_port = {from}"),
                    (1, true) => format!("destination_port = \"{from}\""),
                    (0 | 1, false) => format!("destination_port = \"{from}-{to}\""),
                    (2, _) => format!("from_port = {from}\nto_port = {to}"),
                    _ => format!("destination_port = {from}\nto_port = \"{to}\""),
                });
            }
            Proto::Icmp => {
                lines.push("protocol = \"icmp\"".into());
                lines.push(format!("from_port = {from}\nto_port = {to}"));
            }
            Proto::All => lines.push(
                [
                    "protocol = \"all\"",
                    "protocol = \"-1\"",
                    "protocol = -1",
                    "protocol = \"ALL\"",
                ][usize::from(spelling)]
                .into(),
            ),
            Proto::Gre => lines.push("protocol = 47\nfrom_port = 0\nto_port = 0".into()),
        }
        if let Some(description) = &self.description {
            lines.push(format!("description = \"{description}\""));
        }
        let body: Vec<String> = lines
            .join("\n")
            .lines()
            .map(|line| format!("      {line}\n"))
            .collect();
        format!("    {{\n{}    }},\n", body.concat())
    }
}

fn file(connections: &[Conn]) -> String {
    locals(&connections.iter().map(Conn::hcl).collect::<String>())
}

/// A file holding the list's elements, one per line (each ending in a comma).
fn locals(list: &str) -> String {
    format!("locals {{\n  mutual_rules = [\n{list}  ]\n}}\n")
}

fn peer() -> impl Strategy<Value = Peer> {
    prop_oneof![
        3 => (0..GROUPS.len()).prop_map(Peer::Group),
        1 => (0..CIDRS.len()).prop_map(Peer::Cidr),
    ]
}

fn connection() -> impl Strategy<Value = Conn> {
    let protocol = select(vec![
        Proto::Tcp,
        Proto::Tcp,
        Proto::Udp,
        Proto::Icmp,
        Proto::All,
        Proto::Gre,
    ]);
    let description = proptest::option::of(select(vec![
        "HTTPS from the ALB".to_string(),
        "ssh: admins (VPN) #1".to_string(),
        "Redis".to_string(),
        "metrics/exporter [9100]".to_string(),
    ]));
    (
        peer(),
        peer(),
        protocol,
        0..=65535_i64,
        0..=200_i64,
        any::<u8>(),
        description,
    )
        .prop_filter("one side is a group", |(source, target, ..)| {
            matches!(source, Peer::Group(_)) || matches!(target, Peer::Group(_))
        })
        .prop_map(
            |(source, target, protocol, from, width, spelling, description)| {
                let ports = match protocol {
                    Proto::Icmp => (from % 257 - 1, width % 257 - 1),
                    _ => (from, (from + width * (from % 3)).min(65535)),
                };
                Conn {
                    source,
                    target,
                    protocol,
                    ports,
                    spelling: spelling % 8,
                    description,
                }
            },
        )
}

/// Valid sets: no two connections that make the same AWS rule or, in the style, the same name.
fn connections(style: Style) -> impl Strategy<Value = Vec<Conn>> {
    proptest::collection::vec(connection(), 0..12).prop_map(move |connections| {
        let mut unique = BTreeMap::new();
        for connection in connections {
            unique.entry(connection.key(style)).or_insert(connection);
        }
        unique.into_values().collect()
    })
}

/// Every generated file of `text`, after a successful generation.
fn generated(text: &str, style: Style) -> String {
    match generate_file("main.tf", text.as_bytes(), style) {
        Ok(generated) => generated.text.expect("mutual_rules is defined"),
        Err(errors) => panic!("{text}\nfails: {errors:#?}"),
    }
}

/// `(resource type, name, rule type)` of every resource block.
fn resources(output: &str) -> Vec<(String, String, String)> {
    let body = hcl::parse(output).unwrap_or_else(|error| panic!("hcl-rs: {error}\n{output}"));
    body.blocks()
        .map(|block| {
            let labels: Vec<&str> = block.labels().iter().map(|label| label.as_str()).collect();
            let rule_type = block
                .body()
                .attributes()
                .find(|attribute| attribute.key() == "type")
                .map_or(String::new(), |attribute| attribute.expr().to_string());
            (labels[0].to_string(), labels[1].to_string(), rule_type)
        })
        .collect()
}

fn check_properties(connections: Vec<Conn>, permuted: Vec<Conn>, style: Style) {
    let text = file(&connections);
    let output = generated(&text, style);
    assert_eq!(generated(&text, style), output, "a second run differs");

    let resources = resources(&output);
    let rules: usize = connections.iter().map(Conn::rules).sum();
    assert_eq!(resources.len(), rules, "{text}\n{output}");
    let names: BTreeSet<_> = resources
        .iter()
        .map(|(kind, name, _)| (kind, name))
        .collect();
    assert_eq!(names.len(), resources.len(), "duplicate names\n{output}");
    // An egress rule per connection from a group, an ingress rule per connection to one.
    let count = |kind: &str| {
        let classic = format!("\"{kind}\"");
        let vpc = format!("aws_vpc_security_group_{kind}_rule");
        resources
            .iter()
            .filter(|(resource, _, rule)| *rule == classic || *resource == vpc)
            .count()
    };
    let sources = connections
        .iter()
        .filter(|c| matches!(c.source, Peer::Group(_)))
        .count();
    let targets = connections
        .iter()
        .filter(|c| matches!(c.target, Peer::Group(_)))
        .count();
    assert_eq!(
        (count("egress"), count("ingress")),
        (sources, targets),
        "{output}"
    );

    // Sorted by name: the order of the list changes nothing, not even a byte.
    assert_eq!(
        generated(&file(&permuted), style),
        output,
        "a reordered list differs"
    );
}

fn with_permutation(style: Style) -> impl Strategy<Value = (Vec<Conn>, Vec<Conn>)> {
    connections(style).prop_flat_map(|connections| {
        let permuted = Just(connections.clone()).prop_shuffle();
        (Just(connections), permuted)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn classic_style_output_is_sound_and_order_free((connections, permuted) in with_permutation(Style::SecurityGroupRule)) {
        check_properties(connections, permuted, Style::SecurityGroupRule);
    }

    #[test]
    fn vpc_style_output_is_sound_and_order_free((connections, permuted) in with_permutation(Style::VpcSecurityGroupRule)) {
        check_properties(connections, permuted, Style::VpcSecurityGroupRule);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The library's whole run, files and all: `check` after `generate` finds nothing to do.
    #[test]
    fn check_after_generate_is_clean(connections in connections(Style::SecurityGroupRule)) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("main.tf"), file(&connections)).unwrap();
        let paths = [dir.path().to_path_buf()];
        let generate = mutualsg::generate::run(&paths, Mode::Write);
        prop_assert_eq!(generate.errors(), 0, "{:?}", generate.diagnostics);
        prop_assert_eq!(generate.changes.len(), 1);
        let check = mutualsg::generate::run(&paths, Mode::Check);
        prop_assert_eq!(check.errors(), 0);
        prop_assert!(check.changes.is_empty(), "{:?}", check.changes);
    }
}

/// The list with each connection on one line: `{ a = b, c = d },`.
fn compact_file(connections: &[Conn]) -> String {
    let list: String = connections
        .iter()
        .map(|connection| {
            let hcl = connection.hcl();
            let fields: Vec<&str> = hcl
                .lines()
                .map(str::trim)
                .filter(|line| !line.starts_with(['{', '}']))
                .collect();
            format!("    {{ {} }},\n", fields.join(", "))
        })
        .collect();
    locals(&list)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The fast reader of `mutual_rules` and hcl-edit read the same.
    #[test]
    fn both_readers_read_the_same(connections in connections(Style::SecurityGroupRule), compact in any::<bool>()) {
        let text = if compact { compact_file(&connections) } else { file(&connections) };
        let file = Arc::new(SourceFile::new("main.tf", text));
        // Every generated list has the usual shape: the fast reader must answer.
        let fast = parse::read_fast(&file).map(|read| read.definitions);
        prop_assert!(fast.is_some(), "{}", file.text);
        let slow = parse::parse_body(&file).and_then(|body| parse::definitions(&file, &body));
        prop_assert_eq!(format!("{:?}", fast.unwrap()), format!("{slow:?}"));
    }
}
