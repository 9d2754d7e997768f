//! What the fuzz targets check, free of libFuzzer: `tests/fuzz_seeds.rs` includes this file,
//! so the normal test suite runs every seed of `fuzz/corpus/` through the same checks.
//!
//! - [`check_bytes`]: any bytes as a module's one `.tf` file. Whatever comes back must be
//!   sound: a generated file that hcl-rs accepts, with Terraform-valid unique labels; or
//!   errors that each point inside the file and render; the same both times.
//! - [`check_spec`]: a [`Spec`] (connections drawn by `arbitrary`) written out as a
//!   `mutual_rules` file in varying spellings. On top of the above: one rule per side that is
//!   a group, and the same file whatever the order of the connections or the line endings.

use std::collections::BTreeSet;
use std::fmt::Write;

use arbitrary::{Arbitrary, Unstructured};
use miette::{GraphicalReportHandler, GraphicalTheme};
use mutualsg::config::Style;
use mutualsg::diagnostics::Diagnostic;
use mutualsg::generate::{Generated, generate_file};

const STYLES: [Style; 2] = [Style::SecurityGroupRule, Style::VpcSecurityGroupRule];

/// Any bytes as the module's one `.tf` file, in both output styles.
pub fn check_bytes(data: &[u8]) {
    for style in STYLES {
        let result = generate_file("main.tf", data, style);
        check_result(&result);
        if style == Style::SecurityGroupRule {
            let again = generate_file("main.tf", data, style);
            assert_eq!(
                fingerprint(&result),
                fingerprint(&again),
                "two runs on the same input differ"
            );
        }
    }
}

/// A structured input: its connections in one spelling, checked as [`check_bytes`] does, and
/// checked against the other spellings of the same connections.
pub fn check_spec(spec: &Spec) {
    let text = spec.render(&spec.order(), "\n");
    for style in STYLES {
        let result = generate_file("main.tf", text.as_bytes(), style);
        check_result(&result);
        let Ok(Generated {
            text: Some(output), ..
        }) = &result
        else {
            continue;
        };
        let resources = resource_labels(output);
        assert_eq!(
            resources.len(),
            spec.expected_resources(style),
            "resource count\n{text}\n{output}"
        );
        // Output sorted by name: the order of the list changes nothing.
        let mut reversed = spec.order();
        reversed.reverse();
        for (order, eol) in [(reversed, "\n"), (spec.order(), "\r\n")] {
            let other = spec.render(&order, eol);
            match generate_file("main.tf", other.as_bytes(), style) {
                Ok(Generated {
                    text: Some(same), ..
                }) => assert_eq!(&same, output, "{other:?}"),
                changed => panic!("order or line endings changed the outcome: {changed:?}"),
            }
        }
    }
}

/// Reads a [`Spec`] from fuzzer bytes and checks it.
pub fn check_spec_bytes(data: &[u8]) {
    if let Ok(spec) = Spec::arbitrary_take_rest(Unstructured::new(data)) {
        check_spec(&spec);
    }
}

fn check_result(result: &Result<Generated, Vec<Diagnostic>>) {
    match result {
        Ok(generated) => {
            if let Some(text) = &generated.text {
                check_output(text);
            }
            for warning in &generated.warnings {
                assert!(warning.problem.is_warning(), "{warning:?}");
                check_diagnostic(warning);
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "an error result without errors");
            for error in errors {
                assert!(!error.problem.is_warning(), "{error:?}");
                check_diagnostic(error);
            }
        }
    }
}

/// The generated file: our header, LF only, one final newline, accepted by hcl-rs (a second
/// parser, though built on hcl-edit's), labels Terraform accepts, unique per resource type.
fn check_output(text: &str) {
    assert!(mutualsg::generate::render::is_generated(text), "{text}");
    assert!(!text.contains('\r'), "CR in the output: {text:?}");
    assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{text:?}");
    if let Err(error) = hcl::parse(text) {
        panic!("hcl-rs rejects the output: {error}\n{text}");
    }
    let labels = resource_labels(text);
    let unique: BTreeSet<_> = labels.iter().collect();
    assert_eq!(unique.len(), labels.len(), "duplicate resource\n{text}");
    for (_, name) in &labels {
        // Terraform: a letter or underscore, then letters, digits, underscores and dashes.
        let mut chars = name.chars();
        let first = chars.next().unwrap_or('0');
        assert!(
            (first.is_ascii_alphabetic() || first == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "invalid resource name {name:?}\n{text}"
        );
    }
}

/// `(type, name)` of every `resource "type" "name" {` line.
pub fn resource_labels(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.strip_prefix("resource \"")?.strip_suffix("\" {"))
        .filter_map(|labels| {
            let (kind, name) = labels.split_once("\" \"")?;
            Some((kind.to_string(), name.to_string()))
        })
        .collect()
}

/// A diagnostic points inside its file, on character boundaries, and renders.
fn check_diagnostic(diagnostic: &Diagnostic) {
    let mut places = Vec::new();
    if let Some((file, span)) = &diagnostic.source {
        places.push((&file.text, span));
    }
    if let (Some(note), Some(_)) = (&diagnostic.note, &diagnostic.source) {
        places.push((&note.file.text, &note.span));
    }
    for (text, span) in places {
        assert!(
            span.start <= span.end && span.end <= text.len(),
            "span {span:?} outside a file of {} bytes: {diagnostic:?}",
            text.len()
        );
        assert!(
            text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
            "span {span:?} splits a character: {diagnostic:?}"
        );
    }
    let _ = diagnostic.line_column();
    let handler =
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let mut rendered = String::new();
    handler
        .render_report(&mut rendered, diagnostic)
        .unwrap_or_else(|error| panic!("cannot render {diagnostic:?}: {error}"));
    assert!(rendered.contains(diagnostic.problem.code()), "{rendered}");
}

/// What must not differ between two runs on the same input.
fn fingerprint(result: &Result<Generated, Vec<Diagnostic>>) -> String {
    let mut out = String::new();
    let (text, diagnostics) = match result {
        Ok(generated) => (generated.text.as_deref(), &generated.warnings),
        Err(errors) => (None, errors),
    };
    let _ = writeln!(out, "{:?} {text:?}", result.is_ok());
    for diagnostic in diagnostics {
        let span = diagnostic.source.as_ref().map(|(_, span)| span.clone());
        let _ = writeln!(out, "{} {span:?}", diagnostic.problem);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Structured inputs
// ---------------------------------------------------------------------------------------------

/// A `mutual_rules` definition: its connections and how the file spells them.
#[derive(Debug, Arbitrary)]
pub struct Spec {
    /// `{ key = { ... } }` instead of `[{ ... }]`; every connection is then named by its key.
    pub map_form: bool,
    /// Connections on one line each (`{ a = 1, b = 2 }`) instead of one key per line.
    pub one_line: bool,
    pub connections: Vec<Conn>,
}

#[derive(Debug, Arbitrary)]
pub struct Conn {
    pub source: Side,
    pub target: Side,
    pub ports: Ports,
    pub protocol: Option<Proto>,
    pub description: Option<Description>,
    /// An explicit `name` (always, in the map form: the key).
    pub name: Option<u16>,
    pub provider: bool,
    /// A comment in the connection (`#`, `//` or `/* */`).
    pub comment: Option<u8>,
    /// The keys in another order.
    pub shuffle: u8,
}

#[derive(Debug, Arbitrary)]
pub enum Side {
    /// One of a few group references (`aws_security_group.web.id`, `module.db.sg_id`, ...).
    Group(u8),
    Ipv4(Vec<([u8; 4], u8)>),
    Ipv6(Vec<(u16, u8)>),
    PrefixLists(Vec<u8>),
    /// A list given as an expression (`var.office_cidrs`).
    CidrExpr,
}

#[derive(Debug, Arbitrary)]
pub enum Ports {
    Number(u16),
    Quoted(u16),
    Range(u16, u16),
    FromTo(u16, Option<u16>),
    /// `destination_port = var.port`.
    Expr,
    None,
}

#[derive(Debug, Arbitrary)]
pub enum Proto {
    Tcp,
    UpperTcp,
    Udp,
    Icmp,
    Icmpv6,
    All,
    MinusOne,
    Number(u8),
    Expr,
}

#[derive(Debug, Arbitrary)]
pub enum Description {
    Both(u8),
    Split(u8, u8),
    Null,
}

const GROUPS: [&str; 8] = [
    "aws_security_group.alb.id",
    "aws_security_group.web.id",
    "aws_security_group.db.id",
    "module.cache.security_group_id",
    "var.queue_sg_id",
    "data.aws_security_group.shared.id",
    "\"sg-0123456789abcdef0\"",
    "aws_security_group.web[0].id",
];

const WORDS: [&str; 8] = [
    "HTTPS",
    "from the ALB",
    "Redis",
    "ssh: admins (VPN)",
    "DB",
    "x",
    "ping",
    "metrics #1",
];

impl Spec {
    /// The connections' indices in list order.
    pub fn order(&self) -> Vec<usize> {
        (0..self.connections.len()).collect()
    }

    /// How many resources a successful run declares.
    pub fn expected_resources(&self, style: Style) -> usize {
        self.connections
            .iter()
            .map(|conn| match (&conn.source, &conn.target) {
                (Side::Group(_), Side::Group(_)) => 2,
                (Side::Group(_), other) | (other, Side::Group(_)) => match style {
                    Style::SecurityGroupRule => 1,
                    Style::VpcSecurityGroupRule => other.addresses().unwrap_or(1),
                },
                _ => 0,
            })
            .sum()
    }

    /// The file, the connections in `order`, lines ended by `eol`.
    pub fn render(&self, order: &[usize], eol: &str) -> String {
        let mut out = String::from("locals {\n");
        out.push_str(if self.map_form {
            "  mutual_rules = {\n"
        } else {
            "  mutual_rules = [\n"
        });
        for &index in order {
            let conn = &self.connections[index];
            let mut pairs = conn.pairs(self.map_form);
            if !pairs.is_empty() {
                let shift = usize::from(conn.shuffle) % pairs.len();
                pairs.rotate_left(shift);
            }
            let opening = if self.map_form {
                format!("    c{index}_{} = {{", conn.name.unwrap_or(0))
            } else {
                "    {".to_string()
            };
            out.push_str(&opening);
            if let Some(comment) = conn.comment {
                out.push_str(match comment % 3 {
                    0 => " # a comment, with \"quotes\" and mutual_rules",
                    1 => " // another [comment]",
                    _ => " /* block { comment } */",
                });
            }
            if self.one_line {
                let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                let _ = write!(out, " {} }}", body.join(", "));
            } else {
                out.push('\n');
                for (key, value) in &pairs {
                    let _ = writeln!(out, "      {key} = {value}");
                }
                out.push_str("    }");
            }
            out.push_str(if self.map_form { "\n" } else { ",\n" });
        }
        out.push_str(if self.map_form {
            "  }\n}\n"
        } else {
            "  ]\n}\n"
        });
        out.replace('\n', eol)
    }
}

impl Conn {
    fn pairs(&self, map_form: bool) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        self.source.push(&mut pairs, "source");
        self.target.push(&mut pairs, "target");
        match self.ports {
            Ports::Number(port) => pairs.push(("destination_port", port.to_string())),
            Ports::Quoted(port) => pairs.push(("destination_port", format!("\"{port}\""))),
            Ports::Range(a, b) => pairs.push(("destination_port", format!("\"{a}-{b}\""))),
            Ports::FromTo(from, to) => {
                pairs.push(("from_port", from.to_string()));
                if let Some(to) = to {
                    pairs.push(("to_port", to.to_string()));
                }
            }
            Ports::Expr => pairs.push(("destination_port", "var.port".to_string())),
            Ports::None => {}
        }
        if let Some(protocol) = &self.protocol {
            let text = match protocol {
                Proto::Tcp => "\"tcp\"".to_string(),
                Proto::UpperTcp => "\"TCP\"".to_string(),
                Proto::Udp => "\"udp\"".to_string(),
                Proto::Icmp => "\"icmp\"".to_string(),
                Proto::Icmpv6 => "\"icmpv6\"".to_string(),
                Proto::All => "\"all\"".to_string(),
                Proto::MinusOne => "-1".to_string(),
                Proto::Number(number) => number.to_string(),
                Proto::Expr => "var.protocol".to_string(),
            };
            pairs.push(("protocol", text));
        }
        let word = |n: u8| format!("\"{} {n}\"", WORDS[usize::from(n) % WORDS.len()]);
        match self.description {
            Some(Description::Both(n)) => pairs.push(("description", word(n))),
            Some(Description::Split(a, b)) => {
                pairs.push(("description_source", word(a)));
                pairs.push(("description_target", word(b)));
            }
            Some(Description::Null) => pairs.push(("description", "null".to_string())),
            None => {}
        }
        if let (Some(name), false) = (self.name, map_form) {
            pairs.push(("name", format!("\"n{name}\"")));
        }
        if self.provider {
            pairs.push(("provider", "aws.eu".to_string()));
        }
        pairs
    }
}

impl Side {
    fn push(&self, pairs: &mut Vec<(&'static str, String)>, side: &'static str) {
        let key = |suffix: &str| -> &'static str {
            match (side, suffix) {
                ("source", "sg") => "source_sg_id",
                ("source", "v4") => "source_cidr_blocks",
                ("source", "v6") => "source_ipv6_cidr_blocks",
                ("source", _) => "source_prefix_list_ids",
                (_, "sg") => "target_sg_id",
                (_, "v4") => "target_cidr_blocks",
                (_, "v6") => "target_ipv6_cidr_blocks",
                _ => "target_prefix_list_ids",
            }
        };
        let list = |items: Vec<String>| format!("[{}]", items.join(", "));
        match self {
            Side::Group(n) => pairs.push((
                key("sg"),
                GROUPS[usize::from(*n) % GROUPS.len()].to_string(),
            )),
            Side::Ipv4(blocks) => pairs.push((
                key("v4"),
                list(
                    blocks
                        .iter()
                        .map(|([a, b, c, d], len)| format!("\"{a}.{b}.{c}.{d}/{}\"", len % 40))
                        .collect(),
                ),
            )),
            Side::Ipv6(blocks) => pairs.push((
                key("v6"),
                list(
                    blocks
                        .iter()
                        .map(|(net, len)| format!("\"2001:db8:{net:x}::/{}\"", len % 140))
                        .collect(),
                ),
            )),
            Side::PrefixLists(ids) => pairs.push((
                key("pl"),
                list(
                    ids.iter()
                        .map(|id| format!("aws_vpc_endpoint.e{id}.prefix_list_id"))
                        .collect(),
                ),
            )),
            Side::CidrExpr => pairs.push((key("v4"), "var.office_cidrs".to_string())),
        }
    }

    /// How many literal addresses the side lists (`None`: a group or an expression).
    fn addresses(&self) -> Option<usize> {
        match self {
            Side::Ipv4(blocks) => Some(blocks.len()),
            Side::Ipv6(blocks) => Some(blocks.len()),
            Side::PrefixLists(ids) => Some(ids.len()),
            Side::Group(_) | Side::CidrExpr => None,
        }
    }
}
