//! One module instance as Terraform evaluates it: its variables (defaults, then the values its
//! caller gives: `terraform.tfvars` and `*.auto.tfvars` for a root module, the arguments of a
//! `module` block for a child), its locals in dependency order, and the instances `count` and
//! `for_each` make of a resource.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use super::expr::{Evaluated, Scope, eval};
use super::files::Files;
use super::locals::Locals;
use super::types;
use super::value::Value;
use crate::syntax::{Block, Body, Expr};

/// A parsed file of the module, with the text it was parsed from.
#[derive(Debug, Clone, Copy)]
pub struct ModuleFile<'a> {
    pub text: &'a str,
    pub body: &'a Body,
}

/// A module's variables, evaluated, and its locals, evaluated as they are read.
#[derive(Debug)]
pub struct EvaluatedModule<'a> {
    variables: BTreeMap<String, Value>,
    locals: Locals<'a>,
    access: Option<Files<'a>>,
}

impl<'a> EvaluatedModule<'a> {
    /// Evaluates a module's variables from `inputs` (by name; a variable given no value and
    /// no default is unknown); its locals are evaluated when first read. `access`: what
    /// `file()` may read and what `path.module` is (`None`: both unknown).
    pub fn evaluate(
        files: Vec<ModuleFile<'a>>,
        inputs: &BTreeMap<String, Value>,
        access: Option<Files<'a>>,
    ) -> EvaluatedModule<'a> {
        let definitions = files.iter().flat_map(|file| {
            file.body.blocks_of("locals").flat_map(move |block| {
                block.body.attributes.iter().map(move |attribute| {
                    (attribute.name.text.as_str(), file.text, &attribute.value)
                })
            })
        });
        EvaluatedModule {
            variables: variables(&files, inputs),
            locals: Locals::new(definitions),
            access,
        }
    }

    /// `var.*`, as the module sees them.
    pub fn variables(&self) -> &BTreeMap<String, Value> {
        &self.variables
    }

    /// Every `local.*`, evaluated: a local in a cycle, or whose expression Terraform would
    /// refuse, is unknown.
    pub fn locals(&self) -> BTreeMap<String, Value> {
        self.locals.all(&self.scope(""))
    }

    /// The module's scope, for an expression read from `source` (one of its files' text).
    pub fn scope<'s>(&'s self, source: &'s str) -> Scope<'s> {
        Scope {
            source,
            variables: Some(&self.variables),
            locals: Some(&self.locals),
            each: None,
            count_index: None,
            files: self.access.as_ref(),
            iterators: Vec::new(),
        }
    }

    /// Evaluates an expression of the module (outside any `count` or `for_each`).
    pub fn eval(&self, expr: &Expr, source: &str) -> Evaluated {
        eval(expr, &self.scope(source))
    }

    /// Evaluates an expression of one instance of a resource.
    pub fn eval_instance(&self, expr: &Expr, source: &str, instance: &Instance) -> Evaluated {
        eval(expr, &self.instance_scope(source, instance))
    }

    pub fn instance_scope<'s>(&'s self, source: &'s str, instance: &Instance) -> Scope<'s> {
        let mut scope = self.scope(source);
        scope.each = instance.each.clone();
        scope.count_index = instance.count_index;
        scope
    }

    /// The instances `count` or `for_each` make of a block (a resource, a module call),
    /// where the collection is known.
    pub fn instances(&self, block: &Block, source: &str) -> Instances {
        if let Some(count) = block.body.attribute("count") {
            return match self.eval(&count.value, source) {
                Ok(Value::Number(n)) if n >= 0.0 && n.fract() == 0.0 => Instances::Known(
                    (0..n as usize)
                        .map(|index| Instance {
                            key: InstanceKey::Index(index),
                            each: None,
                            count_index: Some(index),
                        })
                        .collect(),
                ),
                _ => Instances::Unknown,
            };
        }
        let Some(for_each) = block.body.attribute("for_each") else {
            return Instances::Single;
        };
        match self.eval(&for_each.value, source) {
            Ok(Value::Map(entries)) => Instances::Known(
                Arc::unwrap_or_clone(entries)
                    .into_iter()
                    .map(|(key, value)| Instance {
                        key: InstanceKey::Key(key.clone()),
                        each: Some((Value::String(key), value)),
                        count_index: None,
                    })
                    .collect(),
            ),
            Ok(Value::Set(elements)) => {
                let keys: Option<Vec<String>> = elements
                    .iter()
                    .map(|element| element.as_str().map(str::to_string))
                    .collect();
                match keys {
                    Some(keys) => Instances::Known(
                        keys.into_iter()
                            .map(|key| Instance {
                                key: InstanceKey::Key(key.clone()),
                                each: Some((Value::string(key.clone()), Value::String(key))),
                                count_index: None,
                            })
                            .collect(),
                    ),
                    None => Instances::Unknown,
                }
            }
            // A list, or what Terraform refuses: not expanded.
            _ => Instances::Unknown,
        }
    }

    /// The inputs a `module` block in this module gives its child (the arguments that are not
    /// Terraform's own), for one instance of the call where it has `count` or `for_each`.
    pub fn call_inputs(
        &self,
        call: &Block,
        source: &str,
        instance: Option<&Instance>,
    ) -> BTreeMap<String, Value> {
        const META: [&str; 6] = [
            "source",
            "version",
            "count",
            "for_each",
            "providers",
            "depends_on",
        ];
        let scope = match instance {
            Some(instance) => self.instance_scope(source, instance),
            None => self.scope(source),
        };
        call.body
            .attributes
            .iter()
            .filter(|attribute| !META.contains(&attribute.name.text.as_str()))
            .map(|attribute| {
                let value = eval(&attribute.value, &scope).unwrap_or(Value::Unknown);
                (attribute.name.text.to_string(), value)
            })
            .collect()
    }
}

/// A module's variables: each from `inputs` (by name), else its default, else unknown,
/// converted to its type.
fn variables(
    files: &[ModuleFile<'_>],
    inputs: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    let mut variables = BTreeMap::new();
    for file in files {
        for block in file.body.blocks_of("variable") {
            let Some(name) = block.label(0) else {
                continue;
            };
            let given = inputs.get(name).cloned();
            let value = match (given, block.body.attribute("default")) {
                (Some(value), _) => value,
                (None, Some(default)) => {
                    eval(&default.value, &Scope::new(file.text)).unwrap_or(Value::Unknown)
                }
                (None, None) => Value::Unknown,
            };
            let value = match block.body.attribute("type") {
                Some(constraint) => types::convert(value, &constraint.value, file.text),
                None => value,
            };
            variables.insert(name.to_string(), value);
        }
    }
    variables
}

/// The iterations of a `dynamic "ingress" { for_each = … content { … } }` block, evaluated in
/// `scope` (the enclosing resource instance's): the iterator's name (`ingress`, or the
/// `iterator` argument) and, per element, the scope of its `content` with
/// `<iterator>.key` and `<iterator>.value` bound. `None` when the collection is unknown.
pub fn dynamic_iterations<'s>(dynamic: &Block, scope: &Scope<'s>) -> Option<Vec<Scope<'s>>> {
    let name = match dynamic.body.attribute("iterator") {
        Some(iterator) => match &iterator.value.kind {
            crate::syntax::ExprKind::Variable(name) => name.clone(),
            _ => return None,
        },
        None => dynamic.label(0)?.into(),
    };
    let collection = eval(&dynamic.body.attribute("for_each")?.value, scope).ok()?;
    let pairs = super::expr::iterate(&collection, &dynamic.span).ok()??;
    Some(
        pairs
            .into_iter()
            .map(|(key, value)| {
                let mut inner = scope.clone();
                let iterator =
                    BTreeMap::from([("key".to_string(), key), ("value".to_string(), value)]);
                inner
                    .iterators
                    .push((name.to_string(), Value::map(iterator)));
                inner
            })
            .collect(),
    )
}

/// What `count` or `for_each` make of a block.
#[derive(Debug, Clone, PartialEq)]
pub enum Instances {
    /// Neither argument: the block is one instance, without a key.
    Single,
    /// The collection is known: one instance per element.
    Known(Vec<Instance>),
    /// The collection is unknown (or refused by Terraform): instances a plan decides.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub key: InstanceKey,
    /// `each.key`, `each.value`.
    pub each: Option<(Value, Value)>,
    /// `count.index`.
    pub count_index: Option<usize>,
}

/// The part of an address that names an instance: `[0]` or `["web"]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum InstanceKey {
    Index(usize),
    Key(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Index(index) => write!(f, "[{index}]"),
            InstanceKey::Key(key) => write!(f, "[{}]", serde_json::Value::String(key.clone())),
        }
    }
}

/// The values one variables file gives (`terraform.tfvars`, `x.auto.tfvars`, or their `.json`
/// form): its attributes, evaluated without any names in scope.
pub fn tfvars(file_name: &str, text: &str) -> Result<BTreeMap<String, Value>, String> {
    if file_name.ends_with(".json") {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        return match Value::from_json(&json) {
            Value::Map(entries) => Ok(Arc::unwrap_or_clone(entries)),
            _ => Err("a variables file in JSON holds an object".to_string()),
        };
    }
    let body = crate::syntax::parse(text).map_err(|e| e.message.to_string())?;
    let scope = Scope::new(text);
    Ok(body
        .attributes
        .iter()
        .map(|attribute| {
            let value = eval(&attribute.value, &scope).unwrap_or(Value::Unknown);
            (attribute.name.text.to_string(), value)
        })
        .collect())
}

/// The values Terraform reads for a root module without `-var` options:
/// `terraform.tfvars`, `terraform.tfvars.json`, then `*.auto.tfvars` and `*.auto.tfvars.json`
/// in lexical order, a later file's value winning. A file that cannot be read gives nothing.
pub fn root_inputs(dir: &Path) -> BTreeMap<String, Value> {
    let mut auto: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json"))
        .collect();
    auto.sort();
    let mut inputs = BTreeMap::new();
    let names = [
        "terraform.tfvars".to_string(),
        "terraform.tfvars.json".to_string(),
    ];
    for name in names.iter().chain(&auto) {
        let Ok(text) = std::fs::read_to_string(dir.join(name)) else {
            continue;
        };
        if let Ok(values) = tfvars(name, &text) {
            inputs.extend(values);
        }
    }
    inputs
}
