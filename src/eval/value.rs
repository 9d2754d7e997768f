//! What an expression evaluates to, as Terraform's type system sees it, with one addition that
//! Terraform has too: [`Value::Unknown`], a value only a plan knows.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A Terraform value. Lists and tuples are one kind here, maps and objects another: the
/// difference matters to type checks, not to the values a rule reads. Collections are shared:
/// reading a large local (`lookup(local.presets, …)`, `for v in local.rules`) copies no
/// element of it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// Known only after apply (an attribute of a resource, a data source that reads AWS), or
    /// something mutualsg does not evaluate: never guessed.
    Unknown,
    Bool(bool),
    Number(f64),
    String(String),
    /// A list or a tuple.
    List(Arc<Vec<Value>>),
    /// Distinct elements in Terraform's set order (strings by their bytes, numbers by value).
    Set(Arc<Vec<Value>>),
    /// A map or an object: keys in lexical order, as Terraform iterates them.
    Map(Arc<BTreeMap<String, Value>>),
}

impl Value {
    pub fn string(text: impl Into<String>) -> Value {
        Value::String(text.into())
    }

    pub fn list(elements: Vec<Value>) -> Value {
        Value::List(Arc::new(elements))
    }

    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Arc::new(entries))
    }

    /// A set of these values: duplicates dropped, in set order.
    pub fn set(mut elements: Vec<Value>) -> Value {
        elements.sort_by(set_order);
        elements.dedup();
        Value::Set(Arc::new(elements))
    }

    pub fn is_known(&self) -> bool {
        !matches!(self, Value::Unknown)
    }

    /// Known, and every element known, all the way down.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(elements) | Value::Set(elements) => {
                elements.iter().all(Value::is_wholly_known)
            }
            Value::Map(entries) => entries.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// The elements of a list, tuple or set.
    pub fn elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(elements) | Value::Set(elements) => Some(elements),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value `key` names in a map, where it is one.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map()?.get(key)
    }

    /// What Terraform calls the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
        }
    }

    /// The value as a string, where Terraform converts it to one: a string, a number or a bool.
    pub fn to_text(&self) -> Option<String> {
        match self {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(format_number(*number)),
            Value::Bool(value) => Some(value.to_string()),
            _ => None,
        }
    }

    /// The value as a number, where Terraform converts it to one (`"443"` is 443).
    pub fn to_number(&self) -> Option<f64> {
        match self {
            Value::Number(number) => Some(*number),
            Value::String(text) => parse_number(text),
            _ => None,
        }
    }

    pub fn to_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(value) => Some(*value),
            Value::String(text) if text == "true" => Some(true),
            Value::String(text) if text == "false" => Some(false),
            _ => None,
        }
    }

    /// As `terraform output -json` writes it (an unknown value as JSON `null`: callers check
    /// [`Self::is_wholly_known`] first).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match self {
            Value::Null | Value::Unknown => Json::Null,
            Value::Bool(value) => Json::Bool(*value),
            Value::Number(number) => number_to_json(*number),
            Value::String(text) => Json::String(text.clone()),
            Value::List(elements) | Value::Set(elements) => {
                Json::Array(elements.iter().map(Value::to_json).collect())
            }
            Value::Map(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json()))
                    .collect(),
            ),
        }
    }

    /// From decoded JSON or YAML: objects become maps, arrays lists.
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as Json;
        match json {
            Json::Null => Value::Null,
            Json::Bool(value) => Value::Bool(*value),
            Json::Number(number) => number.as_f64().map_or(Value::Unknown, Value::Number),
            Json::String(text) => Value::String(text.clone()),
            Json::Array(elements) => Value::list(elements.iter().map(Value::from_json).collect()),
            Json::Object(entries) => Value::map(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), Value::from_json(value)))
                    .collect(),
            ),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unknown => f.write_str("(known after apply)"),
            other => write!(f, "{}", other.to_json()),
        }
    }
}

fn number_to_json(number: f64) -> serde_json::Value {
    if number.fract() == 0.0 && number.abs() < 9.0e15 {
        // Exact: below 2^53.
        serde_json::Value::from(number as i64)
    } else {
        serde_json::Number::from_f64(number).map_or(serde_json::Value::Null, Into::into)
    }
}

/// As Terraform prints a number in a string: `5`, `0.5`, `1e+21` never (all digits).
pub fn format_number(number: f64) -> String {
    if number == 0.0 {
        // `-0` prints as `0`.
        return "0".to_string();
    }
    format!("{number}")
}

/// A number as Terraform reads one from a string: decimal, optional sign, fraction, exponent.
pub fn parse_number(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let starts_with_digit = digits.bytes().next().is_some_and(|b| b.is_ascii_digit());
    let plain = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !(starts_with_digit && plain) {
        return None;
    }
    text.parse::<f64>().ok().filter(|number| number.is_finite())
}

/// Terraform's set order: numbers by value, strings by their bytes, then everything else by
/// its JSON text (a stable order for sets of collections).
pub fn set_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.total_cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.to_json().to_string().cmp(&b.to_json().to_string()),
    }
}

/// The type Terraform unifies values of different primitive types to: strings win over numbers
/// and bools (`[1, "a"]` as a list is `["1", "a"]`). Collections stay as they are.
pub fn unify(values: Vec<Value>) -> Vec<Value> {
    let has_string = values.iter().any(|v| matches!(v, Value::String(_)));
    let has_other_primitive = values
        .iter()
        .any(|v| matches!(v, Value::Number(_) | Value::Bool(_)));
    if !(has_string && has_other_primitive) {
        return values;
    }
    values
        .into_iter()
        .map(|value| match value {
            Value::Number(_) | Value::Bool(_) => Value::String(value.to_text().unwrap_or_default()),
            other => other,
        })
        .collect()
}
