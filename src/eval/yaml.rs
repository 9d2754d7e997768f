//! `yamldecode` as Terraform reads YAML: plain scalars resolved by YAML 1.1's rules (`yes`,
//! `on` and `y` are true; `~` is null; `0x1f` is a number), as Terraform's decoder (a port of
//! go-yaml v2's) does; quoted scalars are strings.

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, EventReceiver, Parser};
use yaml_rust2::scanner::TScalarStyle;

use super::value::{Value, parse_number};

struct Events(Vec<Event>);

impl EventReceiver for Events {
    fn on_event(&mut self, event: Event) {
        self.0.push(event);
    }
}

/// The first document of `text`; an error when there is none.
pub fn decode(text: &str) -> Result<Value, String> {
    let mut events = Events(Vec::new());
    Parser::new_from_str(text)
        .load(&mut events, false)
        .map_err(|e| e.to_string())?;
    let mut builder = Builder {
        events: events.0.into_iter(),
        anchors: BTreeMap::new(),
    };
    loop {
        match builder.events.next() {
            Some(Event::DocumentStart) => return builder.node(),
            // Terraform: "missing start of document".
            Some(Event::StreamEnd) | None => return Err("missing start of document".into()),
            Some(_) => {}
        }
    }
}

struct Builder {
    events: std::vec::IntoIter<Event>,
    anchors: BTreeMap<usize, Value>,
}

impl Builder {
    fn node(&mut self) -> Result<Value, String> {
        let event = self.events.next().ok_or("unexpected end of YAML")?;
        self.node_from(event)
    }

    fn node_from(&mut self, event: Event) -> Result<Value, String> {
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let as_string = style != TScalarStyle::Plain
                    || tag.as_ref().is_some_and(|tag| tag.suffix == "str");
                let value = if as_string {
                    Value::String(text)
                } else {
                    resolve(text)
                };
                (value, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let mut elements = Vec::new();
                loop {
                    match self.events.next() {
                        Some(Event::SequenceEnd) => break,
                        Some(event) => elements.push(self.node_from(event)?),
                        None => return Err("unterminated sequence".into()),
                    }
                }
                (Value::list(elements), anchor)
            }
            Event::MappingStart(anchor, _) => {
                let mut entries = BTreeMap::new();
                loop {
                    let key = match self.events.next() {
                        Some(Event::MappingEnd) => break,
                        Some(event) => self.node_from(event)?,
                        None => return Err("unterminated mapping".into()),
                    };
                    let key = match key {
                        Value::Null => "null".to_string(),
                        other => other.to_text().ok_or("a mapping key must be a scalar")?,
                    };
                    let value = self.node()?;
                    entries.insert(key, value);
                }
                (Value::map(entries), anchor)
            }
            Event::Alias(anchor) => {
                return self
                    .anchors
                    .get(&anchor)
                    .cloned()
                    .ok_or_else(|| "unknown alias".to_string());
            }
            other => return Err(format!("unexpected YAML event {other:?}")),
        };
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
        Ok(value)
    }
}

/// A plain scalar's value by YAML 1.1's resolution.
fn resolve(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Value::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::String(text),
        _ => {}
    }
    // Hexadecimal is read; `1_000` and `0o17` stay strings (checked with Terraform 1.15).
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    if let Some(hex) = digits.strip_prefix("0x")
        && let Ok(number) = i64::from_str_radix(hex, 16)
    {
        return Value::Number(if negative { -number } else { number } as f64);
    }
    match parse_number(&text) {
        Some(number) => Value::Number(number),
        None => Value::String(text),
    }
}
