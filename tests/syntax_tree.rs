//! The syntax tree keeps what the parser reads: traversal steps, call arguments, operators,
//! templates and `for` clauses, and comments as nodes that a suppression reader can ask for
//! by node (above it, on its line, inside it). Text inside a string is never a comment.

use mutualsg::syntax::{
    self, BinaryOperator, Body, CommentStyle, Expr, ExprKind, Operation, Step, TemplatePart,
};

fn body(text: &str) -> Body {
    syntax::parse(text).expect("parses")
}

fn value(text: &str) -> Expr {
    body(&format!("x = {text}\n"))
        .attribute("x")
        .expect("x")
        .value
        .clone()
}

#[test]
fn a_traversal_keeps_its_root_and_every_step() {
    let expr = value(r#"aws_security_group.db[0].ingress[*].cidr_blocks.0"#);
    let ExprKind::Traversal(traversal) = &expr.kind else {
        panic!("a traversal: {expr:?}");
    };
    assert_eq!(
        traversal.base.kind,
        ExprKind::Variable("aws_security_group".into())
    );
    let steps: Vec<String> = traversal
        .steps
        .iter()
        .map(|step| match step {
            Step::Attribute(name) => format!(".{}", name.text),
            Step::Index { key, .. } => format!("[{:?}]", key.kind),
            Step::LegacyIndex { index, .. } => format!(".{index:?}"),
            Step::Splat { full, .. } => format!("splat(full={full})"),
        })
        .collect();
    assert_eq!(
        steps,
        [
            ".db",
            "[Number(Some(0))]",
            ".ingress",
            "splat(full=true)",
            ".cidr_blocks",
            ".Some(0)"
        ]
    );
    let reference = expr.as_reference().expect("a reference");
    assert_eq!(
        reference.names().collect::<Vec<_>>(),
        ["aws_security_group", "db"]
    );
    assert_eq!(value("var.x.*.id").as_reference().unwrap().steps.len(), 3);
    let prefixed = value("resource.aws_security_group.db.id");
    let prefixed = prefixed.as_reference().unwrap();
    assert_eq!(prefixed.names().next(), Some("resource"));
    assert_eq!(
        prefixed.address().collect::<Vec<_>>(),
        ["aws_security_group", "db", "id"]
    );
}

#[test]
fn a_call_keeps_its_name_and_arguments() {
    let expr = value(r#"lookup(each.value, "cidr_ipv4", null)"#);
    let ExprKind::Call(call) = &expr.kind else {
        panic!("a call: {expr:?}");
    };
    assert_eq!(call.name.text, "lookup");
    assert_eq!(call.args.len(), 3);
    assert_eq!(call.args[1].string(), Some("cidr_ipv4"));
    assert!(!call.expand_final);
    let ExprKind::Call(call) = value("provider::aws::arn_parse(concat(a, b)...)").kind else {
        panic!("a call");
    };
    assert_eq!(call.name.text, "provider::aws::arn_parse");
    assert!(call.expand_final);
}

#[test]
fn operators_conditionals_and_for_keep_their_parts() {
    let ExprKind::Operation(operation) = value("1 + 2 * 3").kind else {
        panic!("an operation");
    };
    let Operation::Binary { first, rest } = *operation else {
        panic!("binary");
    };
    assert_eq!(first.kind, ExprKind::Number(Some(1)));
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].0, BinaryOperator::Add);
    assert!(
        matches!(rest[0].1.kind, ExprKind::Operation(_)),
        "2 * 3 binds tighter"
    );
    let ExprKind::Operation(chain) = value("1 - 2 + 3 * 4 - 5").kind else {
        panic!("an operation");
    };
    let Operation::Binary { rest, .. } = *chain else {
        panic!("binary");
    };
    let operators: Vec<BinaryOperator> = rest.iter().map(|(operator, _)| *operator).collect();
    assert_eq!(
        operators,
        [
            BinaryOperator::Subtract,
            BinaryOperator::Add,
            BinaryOperator::Subtract
        ]
    );
    let ExprKind::For(for_expr) =
        value(r#"{ for k, v in local.rules : k => v.cidr... if v.open }"#).kind
    else {
        panic!("a for expression");
    };
    assert_eq!(for_expr.key_var.unwrap().text, "k");
    assert_eq!(for_expr.value_var.text, "v");
    assert!(for_expr.grouping && for_expr.key.is_some() && for_expr.condition.is_some());
}

#[test]
fn a_template_keeps_its_literals_interpolations_and_directives() {
    let ExprKind::Template(parts) = value(r#""a-${var.x}-%{ if y }b%{ else }c%{ endif }\n""#).kind
    else {
        panic!("a template");
    };
    assert_eq!(parts.len(), 5);
    assert_eq!(parts[0], TemplatePart::Literal("a-".into()));
    assert!(matches!(parts[1], TemplatePart::Interpolation(_)));
    let TemplatePart::If {
        then, otherwise, ..
    } = &parts[3]
    else {
        panic!("an if directive: {parts:?}");
    };
    assert_eq!(then, &[TemplatePart::Literal("b".into())]);
    assert_eq!(otherwise, &[TemplatePart::Literal("c".into())]);
    assert_eq!(parts[4], TemplatePart::Literal("\n".into()));
}

#[test]
fn a_flush_heredoc_loses_its_common_indentation() {
    let body = body("x = <<-EOT\n    a ${b}\n\n      c\n    EOT\n");
    let ExprKind::Heredoc(heredoc) = &body.attribute("x").unwrap().value.kind else {
        panic!("a heredoc");
    };
    assert!(heredoc.flush);
    assert_eq!(heredoc.parts[0], TemplatePart::Literal("a ".into()));
    assert_eq!(heredoc.parts[2], TemplatePart::Literal("\n\n  c\n".into()));
}

#[test]
fn references_skip_for_variables() {
    let expr = value(r#"[for s in var.groups : "${s.id}-${local.suffix}"]"#);
    let names: Vec<String> = expr
        .references()
        .iter()
        .map(|r| r.names().collect::<Vec<_>>().join("."))
        .collect();
    assert_eq!(names, ["var.groups", "local.suffix"]);
}

const RULE: &str = r#"# mutualsg:ignore=open_egress
#tfsec:ignore:aws-ec2-no-public-egress-sgr
resource "aws_security_group_rule" "out" {
  description = "see https://wiki mutualsg:ignore=open_egress for why"
  cidr_blocks = ["0.0.0.0/0"] // checkov:skip=CKV_AWS_23
  /* block */ type = "egress"
  policy = <<EOT
  # not a comment either
  EOT
}

resource "aws_instance" "app" {
  # TODO: aws_security_group.db.id
  ami = "x"
}
"#;

#[test]
fn a_string_that_reads_like_a_suppression_is_not_a_comment() {
    let file = syntax::parse_file(RULE).expect("parses");
    let texts: Vec<&str> = file.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            " mutualsg:ignore=open_egress",
            "tfsec:ignore:aws-ec2-no-public-egress-sgr",
            " checkov:skip=CKV_AWS_23",
            " block ",
            " TODO: aws_security_group.db.id",
        ]
    );
    let rule = &file.body.blocks[0];
    let description = rule.body.attribute("description").unwrap();
    assert_eq!(file.comments.attached(description.span()).count(), 0);
    assert!(file.comments.within(description.span()).is_empty());
}

#[test]
fn comments_are_found_above_on_and_inside_a_node() {
    let file = syntax::parse_file(RULE).expect("parses");
    let rule = &file.body.blocks[0];
    let above: Vec<&str> = file
        .comments
        .above(rule.span.clone())
        .iter()
        .map(|c| c.text.as_str())
        .collect();
    assert_eq!(
        above,
        [
            " mutualsg:ignore=open_egress",
            "tfsec:ignore:aws-ec2-no-public-egress-sgr"
        ]
    );
    let cidr = rule.body.attribute("cidr_blocks").unwrap();
    let on_line: Vec<_> = file.comments.on_line(cidr.span()).collect();
    assert_eq!(on_line.len(), 1);
    assert_eq!(on_line[0].style, CommentStyle::Slashes);
    let kind = rule.body.attribute("type").unwrap();
    let attached: Vec<_> = file.comments.attached(kind.span()).collect();
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].style, CommentStyle::Block);
    assert!(!attached[0].own_line);
    assert_eq!(file.comments.within(rule.span.clone()).len(), 2);
}

#[test]
fn a_todo_comment_naming_a_group_is_a_comment_not_a_reference() {
    let file = syntax::parse_file(RULE).expect("parses");
    let instance = &file.body.blocks[1];
    let inside = file.comments.within(instance.span.clone());
    assert_eq!(inside.len(), 1);
    assert_eq!(inside[0].text, " TODO: aws_security_group.db.id");
    let mut references = Vec::new();
    for attribute in &instance.body.attributes {
        references.extend(
            attribute
                .value
                .references()
                .iter()
                .map(|r| r.root.to_string()),
        );
    }
    assert!(references.is_empty(), "{references:?}");
}

#[test]
fn a_blank_line_ends_the_comments_above() {
    let file = syntax::parse_file("# far\n\n# near\nx = 1\n").expect("parses");
    let x = file.body.attribute("x").unwrap();
    let above: Vec<&str> = file
        .comments
        .above(x.span())
        .iter()
        .map(|c| c.text.as_str())
        .collect();
    assert_eq!(above, [" near"]);
}

#[test]
fn long_chains_and_deep_directives_never_overflow_the_stack() {
    // Terraform reads both; the tree stays shallow for the first and refuses the second as
    // too deep, the limit nested expressions have.
    let chain = format!("x = 1{}\n", " + 1".repeat(100_000));
    let body = body(&chain);
    let text = chain.clone();
    let value = mutualsg::eval::eval(
        &body.attribute("x").unwrap().value,
        &mutualsg::eval::Scope::new(&text),
    );
    assert_eq!(value, Ok(mutualsg::eval::Value::Number(100_001.0)));
    let nested = format!(
        "x = \"{}{}\"\n",
        "%{ if true }".repeat(10_000),
        "%{ endif }".repeat(10_000)
    );
    let error = syntax::parse(&nested).unwrap_err();
    assert_eq!(error.kind, syntax::ErrorKind::TooDeep);
}
