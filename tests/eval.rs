//! The evaluation layer on small modules: values Terraform would compute, unknown where only
//! a plan knows, locals in dependency order, variables from defaults, tfvars and types, and
//! the instances `count` and `for_each` make. Real Terraform's answers are held in
//! `tests/eval_terraform.rs`.

use std::collections::BTreeMap;
use std::fs;

use mutualsg::eval::{
    self, EvaluatedModule, Files, InstanceKey, Instances, ModuleFile, Scope, Value, root_inputs,
};
use mutualsg::syntax::{self, Body};

fn value_of(expression: &str) -> Value {
    let text = format!("x = {expression}\n");
    let body = syntax::parse(&text).expect("parses");
    eval::eval(&body.attribute("x").unwrap().value, &Scope::new(&text)).expect("evaluates")
}

fn json(expression: &str) -> String {
    value_of(expression).to_json().to_string()
}

#[test]
fn literals_operators_templates_and_for_expressions() {
    assert_eq!(
        json(r#"{ a = [1, 2.5, -1.5e1], "b c" = true ? "x" : "y" }"#),
        r#"{"a":[1,2.5,-15],"b c":"x"}"#
    );
    assert_eq!(
        json(r#""${1 + 2 * 3}-%{ if 2 > 1 }big%{ else }small%{ endif }""#),
        r#""7-big""#
    );
    assert_eq!(
        json(r#"[for k, v in { b = 2, a = 1 } : "${k}=${v}" if v > 0]"#),
        r#"["a=1","b=2"]"#
    );
    assert_eq!(
        json(r#"{ for s in ["a", "bb", "cc"] : length(s) => s... }"#),
        r#"{"1":["a"],"2":["bb","cc"]}"#
    );
    assert_eq!(json(r#"[{ id = 1 }, { id = 2 }][*].id"#), "[1,2]");
    assert_eq!(json("true ? 1 : \"a\""), r#""1""#);
}

#[test]
fn functions_compute_what_terraform_does() {
    assert_eq!(
        json(r#"cidrsubnet("10.0.0.0/16", 8, 3)"#),
        r#""10.0.3.0/24""#
    );
    assert_eq!(json(r#"cidrhost("10.0.4.0/24", -2)"#), r#""10.0.4.254""#);
    assert_eq!(json(r#"format("%s-%03d", "web", 7)"#), r#""web-007""#);
    assert_eq!(json(r#"lookup({ a = 1 }, "b", null)"#), "null");
    assert_eq!(json(r#"flatten([[1], [[2, 3]], []])"#), "[1,2,3]");
    assert_eq!(json(r#"toset(["b", "a", "b"])"#), r#"["a","b"]"#);
    assert_eq!(json(r#"replace("a-b-c", "/-(.)/", "_$1")"#), r#""a_b_c""#);
    assert_eq!(json(r#"try(lookup({}, "b"), "fallback")"#), r#""fallback""#);
    assert_eq!(json(r#"can(tonumber("x"))"#), "false");
    assert_eq!(json(r#"yamldecode("a: [1, two]")"#), r#"{"a":[1,"two"]}"#);
    assert_eq!(json(r#"csvdecode("a,b\n1,2\n")"#), r#"[{"a":"1","b":"2"}]"#);
}

#[test]
fn what_only_a_plan_knows_is_unknown_and_so_is_what_is_built_from_it() {
    assert_eq!(
        value_of(r#""${aws_security_group.db.id}-x""#),
        Value::Unknown
    );
    assert_eq!(
        value_of(r#"upper(data.aws_vpc.main.cidr_block)"#),
        Value::Unknown
    );
    assert_eq!(
        value_of(r#"aws_instance.x.private_ip == "10.0.0.1""#),
        Value::Unknown
    );
    assert_eq!(
        value_of(r#"[for s in aws_subnet.all : s.id]"#),
        Value::Unknown
    );
    assert_eq!(
        value_of(r#"try(aws_instance.x.id, "guess")"#),
        Value::Unknown
    );
    // A known collection keeps its shape around an unknown element.
    assert_eq!(json(r#"length([aws_security_group.db.id, "b"])"#), "2");
    let merged = value_of(r#"merge({ a = "0.0.0.0/0" }, { b = aws_vpc.x.cidr_block })"#);
    assert_eq!(merged.get("a"), Some(&Value::string("0.0.0.0/0")));
    assert_eq!(merged.get("b"), Some(&Value::Unknown));
}

fn module<'a>(
    files: &'a [(String, Body)],
    inputs: &BTreeMap<String, Value>,
) -> EvaluatedModule<'a> {
    EvaluatedModule::evaluate(
        files
            .iter()
            .map(|(text, body)| ModuleFile { text, body })
            .collect(),
        inputs,
        None,
    )
}

fn parsed(texts: &[&str]) -> Vec<(String, Body)> {
    texts
        .iter()
        .map(|text| (text.to_string(), syntax::parse(text).expect("parses")))
        .collect()
}

const RULES_TF: &str = r#"
resource "aws_vpc_security_group_egress_rule" "this" {
  for_each          = local.egress
  security_group_id = aws_security_group.app.id
  cidr_ipv4         = lookup(each.value, "cidr_ipv4", null)
  from_port         = each.value.port
}

resource "aws_security_group_rule" "counted" {
  count       = length(var.cidrs)
  cidr_blocks = [var.cidrs[count.index]]
}

resource "aws_security_group_rule" "planned" {
  for_each = toset(aws_subnet.all[*].id)
}
"#;

const LOCALS_TF: &str = r#"
locals {
  egress = {
    https = { cidr_ipv4 = local.internet, port = 443 }
    ntp   = { port = var.ntp_port }
  }
  internet = "0.0.0.0/0"
  a        = local.b
  b        = local.a
}

variable "ntp_port" {
  type    = number
  default = "123"
}

variable "cidrs" {
  type = list(string)
}

variable "rules" {
  type = map(object({ cidr = optional(string, "10.0.0.0/8"), port = number }))
  default = { web = { port = 80 } }
}
"#;

#[test]
fn a_module_evaluates_locals_in_order_and_a_cycle_is_unknown() {
    let files = parsed(&[RULES_TF, LOCALS_TF]);
    let inputs = BTreeMap::from([(
        "cidrs".to_string(),
        Value::list(vec![
            Value::string("10.1.0.0/16"),
            Value::string("10.2.0.0/16"),
        ]),
    )]);
    let module = module(&files, &inputs);
    let locals = module.locals();
    assert_eq!(
        locals["egress"]
            .get("https")
            .and_then(|https| https.get("cidr_ipv4")),
        Some(&Value::string("0.0.0.0/0"))
    );
    assert_eq!(
        locals["egress"].get("ntp").and_then(|ntp| ntp.get("port")),
        Some(&Value::Number(123.0)),
        "the number type converts the default"
    );
    assert_eq!(locals["a"], Value::Unknown);
    assert_eq!(locals["b"], Value::Unknown);
    assert_eq!(
        module.variables()["rules"].to_json().to_string(),
        r#"{"web":{"cidr":"10.0.0.0/8","port":80}}"#
    );
}

#[test]
fn for_each_and_count_expand_into_instances_with_their_scope() {
    let files = parsed(&[RULES_TF, LOCALS_TF]);
    let inputs = BTreeMap::from([(
        "cidrs".to_string(),
        Value::list(vec![
            Value::string("10.1.0.0/16"),
            Value::string("10.2.0.0/16"),
        ]),
    )]);
    let module = module(&files, &inputs);
    let (text, body) = &files[0];
    let egress = &body.blocks[0];
    let Instances::Known(instances) = module.instances(egress, text) else {
        panic!("known instances");
    };
    let keys: Vec<InstanceKey> = instances.iter().map(|i| i.key.clone()).collect();
    assert_eq!(
        keys,
        [
            InstanceKey::Key("https".into()),
            InstanceKey::Key("ntp".into())
        ]
    );
    let cidr = &egress.body.attribute("cidr_ipv4").unwrap().value;
    let cidrs: Vec<Value> = instances
        .iter()
        .map(|instance| module.eval_instance(cidr, text, instance).unwrap())
        .collect();
    assert_eq!(cidrs, [Value::string("0.0.0.0/0"), Value::Null]);
    assert_eq!(instances[0].key.to_string(), r#"["https"]"#);

    let counted = &body.blocks[1];
    let Instances::Known(instances) = module.instances(counted, text) else {
        panic!("known instances");
    };
    let blocks = &counted.body.attribute("cidr_blocks").unwrap().value;
    assert_eq!(
        module.eval_instance(blocks, text, &instances[1]).unwrap(),
        Value::list(vec![Value::string("10.2.0.0/16")])
    );
    assert_eq!(module.instances(&body.blocks[2], text), Instances::Unknown);
}

#[test]
fn variables_come_from_tfvars_and_files_are_read_inside_the_tree_only() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("live");
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("terraform.tfvars"), "port = 22\nname = \"a\"\n").unwrap();
    fs::write(root.join("b.auto.tfvars"), "name = \"b\"\n").unwrap();
    fs::write(root.join("rules.json"), r#"{"ssh": {"cidr": "0.0.0.0/0"}}"#).unwrap();
    let inputs = root_inputs(&root);
    assert_eq!(inputs["port"], Value::Number(22.0));
    assert_eq!(inputs["name"], Value::string("b"), "an auto file wins");

    let files = Files::new(tree.path(), &root, &root);
    let text = "x = jsondecode(file(\"${path.module}/rules.json\"))\ny = file(\"../../outside.json\")\nz = fileexists(\"nope.json\")\n";
    let body = syntax::parse(text).unwrap();
    let mut scope = Scope::new(text);
    scope.files = Some(&files);
    let x = eval::eval(&body.attribute("x").unwrap().value, &scope).unwrap();
    assert_eq!(x.to_json().to_string(), r#"{"ssh":{"cidr":"0.0.0.0/0"}}"#);
    let y = eval::eval(&body.attribute("y").unwrap().value, &scope).unwrap();
    assert_eq!(y, Value::Unknown, "outside the tree");
    let z = eval::eval(&body.attribute("z").unwrap().value, &scope).unwrap();
    assert_eq!(z, Value::Bool(false));
}

#[test]
fn a_dynamic_block_iterates_with_its_iterator_bound() {
    let files = parsed(&[r#"
locals {
  egress = [{ port = 443, cidr = "0.0.0.0/0" }, { port = 53, cidr = "10.0.0.0/8" }]
}

resource "aws_security_group" "app" {
  dynamic "egress" {
    for_each = local.egress
    content {
      from_port   = egress.value.port
      cidr_blocks = [egress.value.cidr]
    }
  }
  dynamic "ingress" {
    for_each = toset(["a"])
    iterator = rule
    content {
      description = "from ${rule.key}"
    }
  }
  dynamic "ingress" {
    for_each = data.aws_prefix_list.all.ids
    content {}
  }
}
"#]);
    let module = module(&files, &BTreeMap::new());
    let (text, body) = &files[0];
    let group = &body.blocks[1];
    let scope = module.scope(text);
    let egress = &group.body.blocks[0];
    let iterations = eval::dynamic_iterations(egress, &scope).expect("known");
    let content = &egress.body.blocks[0].body;
    let cidrs: Vec<Value> = iterations
        .iter()
        .map(|scope| eval::eval(&content.attribute("cidr_blocks").unwrap().value, scope).unwrap())
        .collect();
    assert_eq!(
        cidrs,
        [
            Value::list(vec![Value::string("0.0.0.0/0")]),
            Value::list(vec![Value::string("10.0.0.0/8")])
        ]
    );
    let ingress = &group.body.blocks[1];
    let iterations = eval::dynamic_iterations(ingress, &scope).expect("known");
    let description = &ingress.body.blocks[0]
        .body
        .attribute("description")
        .unwrap()
        .value;
    assert_eq!(
        eval::eval(description, &iterations[0]).unwrap(),
        Value::string("from a")
    );
    assert!(eval::dynamic_iterations(&group.body.blocks[2], &scope).is_none());
}
