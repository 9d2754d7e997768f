//! Terraform's functions that a tree's rules and locals use, as Terraform defines them. A
//! function mutualsg does not know (or one whose answer depends on the machine or the clock:
//! `timestamp`, `uuid`) is unknown, never guessed.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::Arc;

use super::expr::{EvalError, Evaluated, error};
use super::files::Files;
use super::value::{Value, format_number, unify};

type Args = Vec<Value>;

/// Calls `name` with arguments already evaluated. `try` and `can` are not here: they
/// evaluate their arguments themselves.
pub(super) fn call(
    name: &str,
    args: Args,
    files: Option<&Files<'_>>,
    span: &Range<usize>,
) -> Evaluated {
    // A function given an unknown argument returns an unknown (Terraform's rule for every
    // function here); unknown elements inside a collection are handled by each function.
    if args.iter().any(|arg| !arg.is_known()) {
        return Ok(Value::Unknown);
    }
    let call = Call { name, span };
    match name {
        "lookup" => call.lookup(args),
        "merge" => call.merge(args),
        "concat" => call.concat(args),
        "flatten" => call.flatten(args),
        "distinct" => call.distinct(args),
        "toset" => call.convert(args, Conversion::Set),
        "tolist" => call.convert(args, Conversion::List),
        "tomap" => call.convert(args, Conversion::Map),
        "keys" => call.keys(args),
        "values" => call.values(args),
        "length" => call.length(args),
        "element" => call.element(args),
        "one" => call.one(args),
        "coalesce" => call.coalesce(args),
        "coalescelist" => call.coalescelist(args),
        "compact" => call.compact(args),
        "contains" => call.contains(args),
        "zipmap" => call.zipmap(args),
        "setproduct" => call.setproduct(args),
        "range" => call.range(args),
        "format" => call.format(args),
        "formatlist" => call.formatlist(args),
        "join" => call.join(args),
        "split" => call.split(args),
        "lower" => call.map_string(args, |text| simple_case(text, char::to_lowercase)),
        "upper" => call.map_string(args, |text| simple_case(text, char::to_uppercase)),
        "trimspace" => call.map_string(args, |text| text.trim().to_string()),
        "replace" => call.replace(args),
        "substr" => call.substr(args),
        "startswith" | "endswith" | "strcontains" => call.string_test(args),
        "trimprefix" | "trimsuffix" => call.trim_affix(args),
        "tostring" => call.tostring(args),
        "tonumber" => call.tonumber(args),
        "tobool" => call.tobool(args),
        "abs" | "ceil" | "floor" => call.math(args),
        "max" | "min" => call.extreme(args),
        "reverse" => call.reverse(args),
        "slice" => call.slice(args),
        "sort" => call.sort(args),
        "index" => call.index(args),
        "cidrsubnet" => call.cidrsubnet(args),
        "cidrhost" => call.cidrhost(args),
        "jsonencode" => call.jsonencode(args),
        "jsondecode" => call.decode(args, Format::Json),
        "yamldecode" => call.decode(args, Format::Yaml),
        "csvdecode" => call.decode(args, Format::Csv),
        "file" => call.file(args, files),
        "fileexists" => call.fileexists(args, files),
        _ => Ok(Value::Unknown),
    }
}

/// Changes case one character at a time, as Go's `strings.ToUpper` does: a character whose
/// mapping is longer than one character (`ß` to `SS`) stays as it is.
fn simple_case<I: Iterator<Item = char>>(text: &str, change: fn(char) -> I) -> String {
    text.chars()
        .map(|c| {
            let mut mapped = change(c);
            match (mapped.next(), mapped.next()) {
                (Some(one), None) => one,
                _ => c,
            }
        })
        .collect()
}

struct Call<'a> {
    name: &'a str,
    span: &'a Range<usize>,
}

enum Conversion {
    List,
    Set,
    Map,
}

enum Format {
    Json,
    Yaml,
    Csv,
}

impl Call<'_> {
    fn fail(&self, message: impl std::fmt::Display) -> EvalError {
        error(
            self.span,
            format!("Invalid function argument: {}: {message}", self.name),
        )
    }

    fn arity(&self, args: &Args, min: usize, max: usize) -> Result<(), EvalError> {
        if args.len() < min || args.len() > max {
            return Err(self.fail(format!("wrong number of arguments ({})", args.len())));
        }
        Ok(())
    }

    fn text(&self, value: &Value) -> Result<String, EvalError> {
        value
            .to_text()
            .ok_or_else(|| self.fail(format!("a string is required, not a {}", value.type_name())))
    }

    fn number(&self, value: &Value) -> Result<f64, EvalError> {
        value
            .to_number()
            .ok_or_else(|| self.fail(format!("a number is required, not a {}", value.type_name())))
    }

    fn integer(&self, value: &Value) -> Result<i128, EvalError> {
        let number = self.number(value)?;
        if number.fract() != 0.0 {
            return Err(self.fail("a whole number is required"));
        }
        Ok(number as i128)
    }

    fn list(&self, value: Value) -> Result<Vec<Value>, EvalError> {
        match value {
            Value::List(elements) | Value::Set(elements) => Ok(Arc::unwrap_or_clone(elements)),
            other => Err(self.fail(format!("a list is required, not a {}", other.type_name()))),
        }
    }

    fn map(&self, value: Value) -> Result<BTreeMap<String, Value>, EvalError> {
        match value {
            Value::Map(entries) => Ok(Arc::unwrap_or_clone(entries)),
            other => Err(self.fail(format!("a map is required, not a {}", other.type_name()))),
        }
    }

    fn lookup(&self, mut args: Args) -> Evaluated {
        self.arity(&args, 2, 3)?;
        let default = (args.len() == 3).then(|| args.pop()).flatten();
        let key = self.text(&args[1])?;
        let map = self.map(args.swap_remove(0))?;
        match (map.get(&key), default) {
            (Some(value), _) => Ok(value.clone()),
            (None, Some(default)) => Ok(default),
            (None, None) => Err(self.fail(format!("the map has no element {key:?}"))),
        }
    }

    fn merge(&self, args: Args) -> Evaluated {
        let mut merged = BTreeMap::new();
        for arg in args {
            if arg == Value::Null {
                continue;
            }
            merged.extend(self.map(arg)?);
        }
        Ok(Value::map(merged))
    }

    fn concat(&self, args: Args) -> Evaluated {
        let mut all = Vec::new();
        for arg in args {
            all.extend(self.list(arg)?);
        }
        Ok(Value::list(all))
    }

    fn flatten(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        fn flatten_into(value: Value, out: &mut Vec<Value>) -> bool {
            match value {
                Value::List(elements) | Value::Set(elements) => Arc::unwrap_or_clone(elements)
                    .into_iter()
                    .all(|element| flatten_into(element, out)),
                Value::Unknown => false,
                other => {
                    out.push(other);
                    true
                }
            }
        }
        let mut out = Vec::new();
        for element in self.list(args.into_iter().next().unwrap_or(Value::Null))? {
            if !flatten_into(element, &mut out) {
                return Ok(Value::Unknown);
            }
        }
        Ok(Value::list(out))
    }

    fn distinct(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let list = self.list(args.into_iter().next().unwrap_or(Value::Null))?;
        if !list.iter().all(Value::is_wholly_known) {
            return Ok(Value::Unknown);
        }
        let mut distinct: Vec<Value> = Vec::new();
        for element in unify(list) {
            if !distinct.contains(&element) {
                distinct.push(element);
            }
        }
        Ok(Value::list(distinct))
    }

    fn convert(&self, args: Args, to: Conversion) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let value = args.into_iter().next().unwrap_or(Value::Null);
        if value == Value::Null {
            return Ok(Value::Null);
        }
        match to {
            Conversion::List => Ok(Value::list(unify(self.list(value)?))),
            Conversion::Set => {
                let elements = unify(self.list(value)?);
                if elements.iter().any(|element| !element.is_known()) {
                    return Ok(Value::Unknown);
                }
                if elements.contains(&Value::Null) {
                    return Err(self.fail("a set cannot contain null"));
                }
                Ok(Value::set(elements))
            }
            Conversion::Map => {
                let map = self.map(value)?;
                let (keys, values): (Vec<String>, Vec<Value>) = map.into_iter().unzip();
                Ok(Value::map(keys.into_iter().zip(unify(values)).collect()))
            }
        }
    }

    fn keys(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let map = self.map(args.into_iter().next().unwrap_or(Value::Null))?;
        Ok(Value::list(map.into_keys().map(Value::String).collect()))
    }

    fn values(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let map = self.map(args.into_iter().next().unwrap_or(Value::Null))?;
        Ok(Value::list(map.into_values().collect()))
    }

    fn length(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let length = match &args[0] {
            Value::String(text) => text.chars().count(),
            Value::List(elements) | Value::Set(elements) => elements.len(),
            Value::Map(entries) => entries.len(),
            other => {
                return Err(self.fail(format!("a {} has no length", other.type_name())));
            }
        };
        Ok(Value::Number(length as f64))
    }

    fn element(&self, args: Args) -> Evaluated {
        self.arity(&args, 2, 2)?;
        let index = self.integer(&args[1])?;
        let list = self.list(args.into_iter().next().unwrap_or(Value::Null))?;
        if list.is_empty() {
            return Err(self.fail("cannot use element function with an empty list"));
        }
        if index < 0 {
            return Err(self.fail("cannot use element function with a negative index"));
        }
        Ok(list[(index as usize) % list.len()].clone())
    }

    fn one(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let list = self.list(args.into_iter().next().unwrap_or(Value::Null))?;
        match list.len() {
            0 => Ok(Value::Null),
            1 => Ok(list.into_iter().next().unwrap_or(Value::Null)),
            _ => {
                Err(self
                    .fail("must be a list, set, or tuple value with either zero or one elements"))
            }
        }
    }

    fn coalesce(&self, args: Args) -> Evaluated {
        for arg in unify(args) {
            match arg {
                Value::Null => continue,
                Value::String(ref text) if text.is_empty() => continue,
                other => return Ok(other),
            }
        }
        Err(self.fail("no non-null, non-empty-string arguments"))
    }

    fn coalescelist(&self, args: Args) -> Evaluated {
        for arg in args {
            match arg.elements() {
                Some([]) => continue,
                Some(_) => return Ok(arg),
                None if arg == Value::Null => continue,
                None => return Err(self.fail("a list is required")),
            }
        }
        Ok(Value::list(Vec::new()))
    }

    fn compact(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let list = self.list(args.into_iter().next().unwrap_or(Value::Null))?;
        if !list.iter().all(Value::is_known) {
            return Ok(Value::Unknown);
        }
        let mut kept = Vec::new();
        for element in list {
            match element {
                Value::Null => {}
                Value::String(text) if text.is_empty() => {}
                other => kept.push(Value::String(self.text(&other)?)),
            }
        }
        Ok(Value::list(kept))
    }

    fn contains(&self, mut args: Args) -> Evaluated {
        self.arity(&args, 2, 2)?;
        let wanted = args.pop().unwrap_or(Value::Null);
        let list = self.list(args.pop().unwrap_or(Value::Null))?;
        if list.contains(&wanted) {
            return Ok(Value::Bool(true));
        }
        if !(wanted.is_wholly_known() && list.iter().all(Value::is_wholly_known)) {
            return Ok(Value::Unknown);
        }
        Ok(Value::Bool(false))
    }

    fn zipmap(&self, mut args: Args) -> Evaluated {
        self.arity(&args, 2, 2)?;
        let values = self.list(args.pop().unwrap_or(Value::Null))?;
        let keys = self.list(args.pop().unwrap_or(Value::Null))?;
        if keys.len() != values.len() {
            return Err(self.fail("number of keys and values do not match"));
        }
        if !keys.iter().all(Value::is_known) {
            return Ok(Value::Unknown);
        }
        let mut map = BTreeMap::new();
        for (key, value) in keys.iter().zip(values) {
            map.insert(self.text(key)?, value);
        }
        Ok(Value::map(map))
    }

    fn setproduct(&self, args: Args) -> Evaluated {
        if args.is_empty() {
            return Err(self.fail("at least one argument is required"));
        }
        let all_sets = args.iter().all(|arg| matches!(arg, Value::Set(_)));
        let mut product: Vec<Vec<Value>> = vec![Vec::new()];
        for arg in args {
            let elements = self.list(arg)?;
            product = product
                .into_iter()
                .flat_map(|prefix| {
                    elements.iter().map(move |element| {
                        let mut row = prefix.clone();
                        row.push(element.clone());
                        row
                    })
                })
                .collect();
        }
        let rows = product.into_iter().map(Value::list).collect();
        Ok(if all_sets {
            Value::set(rows)
        } else {
            Value::list(rows)
        })
    }

    fn range(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 3)?;
        let numbers: Vec<f64> = args
            .iter()
            .map(|arg| self.number(arg))
            .collect::<Result<_, _>>()?;
        let (start, limit, step) = match numbers[..] {
            [limit] => (0.0, limit, 1.0),
            [start, limit] => (start, limit, if start > limit { -1.0 } else { 1.0 }),
            [start, limit, step] => (start, limit, step),
            _ => unreachable!("arity checked"),
        };
        if step == 0.0 {
            return Err(self.fail("step must not be zero"));
        }
        if (step > 0.0 && start > limit) || (step < 0.0 && start < limit) {
            return Err(self.fail("the step moves away from the limit"));
        }
        let mut out = Vec::new();
        let mut at = start;
        while (step > 0.0 && at < limit) || (step < 0.0 && at > limit) {
            if out.len() >= 1024 {
                return Err(self.fail("more than 1024 elements"));
            }
            out.push(Value::Number(at));
            at += step;
        }
        Ok(Value::list(out))
    }

    fn format(&self, args: Args) -> Evaluated {
        if args.is_empty() {
            return Err(self.fail("a format string is required"));
        }
        let spec = self.text(&args[0])?;
        if !args[1..].iter().all(Value::is_wholly_known) {
            return Ok(Value::Unknown);
        }
        Ok(Value::String(self.format_one(&spec, &args[1..])?))
    }

    fn formatlist(&self, args: Args) -> Evaluated {
        if args.is_empty() {
            return Err(self.fail("a format string is required"));
        }
        let spec = self.text(&args[0])?;
        let rest = &args[1..];
        let length = rest
            .iter()
            .find_map(|arg| arg.elements().map(<[Value]>::len));
        let Some(length) = length else {
            return Ok(Value::list(vec![Value::String(
                self.format_one(&spec, rest)?,
            )]));
        };
        let mut out = Vec::with_capacity(length);
        for index in 0..length {
            let row: Vec<Value> = rest
                .iter()
                .map(|arg| match arg.elements() {
                    Some(elements) => elements.get(index).cloned().unwrap_or(Value::Null),
                    None => arg.clone(),
                })
                .collect();
            if !row.iter().all(Value::is_wholly_known) {
                out.push(Value::Unknown);
                continue;
            }
            out.push(Value::String(self.format_one(&spec, &row)?));
        }
        Ok(Value::list(out))
    }

    /// `%s`, `%d`, `%v`, `%q`, `%t`, `%f`, `%x`… with flags, width and precision, as
    /// Terraform's `format` reads them.
    fn format_one(&self, spec: &str, args: &[Value]) -> Result<String, EvalError> {
        let mut out = String::new();
        let mut chars = spec.chars().peekable();
        let mut next_arg = 0usize;
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            if chars.peek() == Some(&'%') {
                chars.next();
                out.push('%');
                continue;
            }
            let mut flags = String::new();
            while let Some(&flag @ ('-' | '+' | ' ' | '#' | '0')) = chars.peek() {
                flags.push(flag);
                chars.next();
            }
            if chars.peek() == Some(&'[') {
                chars.next();
                let index: String = chars.by_ref().take_while(|c| *c != ']').collect();
                next_arg = index
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .ok_or_else(|| self.fail("invalid argument index"))?;
            }
            let mut width = String::new();
            while let Some(&digit @ '0'..='9') = chars.peek() {
                width.push(digit);
                chars.next();
            }
            let mut precision = None;
            if chars.peek() == Some(&'.') {
                chars.next();
                let mut digits = String::new();
                while let Some(&digit @ '0'..='9') = chars.peek() {
                    digits.push(digit);
                    chars.next();
                }
                precision = Some(digits.parse::<usize>().unwrap_or(0));
            }
            let verb = chars
                .next()
                .ok_or_else(|| self.fail("unterminated format verb"))?;
            let arg = args
                .get(next_arg)
                .ok_or_else(|| self.fail("not enough arguments for the format"))?;
            next_arg += 1;
            let body = match verb {
                'v' if flags.contains('#') => arg.to_json().to_string(),
                'v' => match arg {
                    Value::String(text) => text.clone(),
                    Value::Null => "null".to_string(),
                    other => other
                        .to_text()
                        .unwrap_or_else(|| other.to_json().to_string()),
                },
                's' => self.text(arg)?,
                'q' => serde_json::Value::String(self.text(arg)?).to_string(),
                't' => arg
                    .to_bool()
                    .ok_or_else(|| self.fail("%t needs a bool"))?
                    .to_string(),
                'd' => {
                    let number = self.integer(arg)?;
                    let sign = if flags.contains('+') && number >= 0 {
                        "+"
                    } else {
                        ""
                    };
                    format!("{sign}{number}")
                }
                'x' | 'X' | 'o' | 'b' => {
                    let number = self.integer(arg)?;
                    let digits = match verb {
                        'x' => format!("{:x}", number.unsigned_abs()),
                        'X' => format!("{:X}", number.unsigned_abs()),
                        'o' => format!("{:o}", number.unsigned_abs()),
                        _ => format!("{:b}", number.unsigned_abs()),
                    };
                    if number < 0 {
                        format!("-{digits}")
                    } else {
                        digits
                    }
                }
                'f' | 'F' => {
                    let number = self.number(arg)?;
                    let text = format!("{number:.*}", precision.unwrap_or(6));
                    if flags.contains('+') && number >= 0.0 {
                        format!("+{text}")
                    } else {
                        text
                    }
                }
                'e' => format!("{:.*e}", precision.unwrap_or(6), self.number(arg)?),
                'g' => format_number(self.number(arg)?),
                other => return Err(self.fail(format!("unsupported format verb %{other}"))),
            };
            let body = match (verb, precision) {
                ('s' | 'v', Some(precision)) => body.chars().take(precision).collect(),
                _ => body,
            };
            let width: usize = width.parse().unwrap_or(0);
            let pad = width.saturating_sub(body.chars().count());
            if flags.contains('-') {
                out.push_str(&body);
                out.extend(std::iter::repeat_n(' ', pad));
            } else if flags.contains('0') && matches!(verb, 'd' | 'f' | 'F' | 'x' | 'X') {
                let (sign, digits) = match body.strip_prefix(['-', '+']) {
                    Some(rest) => (&body[..1], rest),
                    None => ("", body.as_str()),
                };
                out.push_str(sign);
                out.extend(std::iter::repeat_n('0', pad));
                out.push_str(digits);
            } else {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(&body);
            }
        }
        Ok(out)
    }

    fn join(&self, args: Args) -> Evaluated {
        if args.len() < 2 {
            return Err(self.fail("a separator and at least one list are required"));
        }
        let mut args = args.into_iter();
        let separator = self.text(&args.next().unwrap_or(Value::Null))?;
        let mut parts = Vec::new();
        for list in args {
            for element in self.list(list)? {
                match element {
                    Value::Unknown => return Ok(Value::Unknown),
                    Value::Null => return Err(self.fail("a list element is null")),
                    other => parts.push(self.text(&other)?),
                }
            }
        }
        Ok(Value::String(parts.join(&separator)))
    }

    fn split(&self, args: Args) -> Evaluated {
        self.arity(&args, 2, 2)?;
        let separator = self.text(&args[0])?;
        let text = self.text(&args[1])?;
        let parts: Vec<Value> = if separator.is_empty() {
            text.chars().map(|c| Value::String(c.to_string())).collect()
        } else {
            text.split(separator.as_str()).map(Value::string).collect()
        };
        Ok(Value::list(parts))
    }

    fn map_string(&self, args: Args, change: impl Fn(&str) -> String) -> Evaluated {
        self.arity(&args, 1, 1)?;
        Ok(Value::String(change(&self.text(&args[0])?)))
    }

    fn replace(&self, args: Args) -> Evaluated {
        self.arity(&args, 3, 3)?;
        let text = self.text(&args[0])?;
        let search = self.text(&args[1])?;
        let replacement = self.text(&args[2])?;
        // `/…/`: a regular expression (RE2 syntax, which the regex crate reads too).
        if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
            let pattern = regex::Regex::new(&search[1..search.len() - 1])
                .map_err(|e| self.fail(format!("invalid regular expression: {e}")))?;
            return Ok(Value::String(
                pattern
                    .replace_all(&text, replacement.as_str())
                    .into_owned(),
            ));
        }
        Ok(Value::String(text.replace(&search, &replacement)))
    }

    fn substr(&self, args: Args) -> Evaluated {
        self.arity(&args, 3, 3)?;
        let chars: Vec<char> = self.text(&args[0])?.chars().collect();
        let mut offset = self.integer(&args[1])?;
        let length = self.integer(&args[2])?;
        if offset < 0 {
            offset += chars.len() as i128;
        }
        let start = (offset.max(0) as usize).min(chars.len());
        let end = if length < 0 {
            chars.len()
        } else {
            (start + length as usize).min(chars.len())
        };
        Ok(Value::String(chars[start..end].iter().collect()))
    }

    fn string_test(&self, args: Args) -> Evaluated {
        self.arity(&args, 2, 2)?;
        let text = self.text(&args[0])?;
        let part = self.text(&args[1])?;
        Ok(Value::Bool(match self.name {
            "startswith" => text.starts_with(&part),
            "endswith" => text.ends_with(&part),
            _ => text.contains(&part),
        }))
    }

    fn trim_affix(&self, args: Args) -> Evaluated {
        self.arity(&args, 2, 2)?;
        let text = self.text(&args[0])?;
        let affix = self.text(&args[1])?;
        let trimmed = if self.name == "trimprefix" {
            text.strip_prefix(affix.as_str())
        } else {
            text.strip_suffix(affix.as_str())
        };
        Ok(Value::String(trimmed.unwrap_or(&text).to_string()))
    }

    fn tostring(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        match &args[0] {
            Value::Null => Ok(Value::Null),
            other => Ok(Value::String(self.text(other)?)),
        }
    }

    fn tonumber(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        match &args[0] {
            Value::Null => Ok(Value::Null),
            other => Ok(Value::Number(self.number(other)?)),
        }
    }

    fn tobool(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        match &args[0] {
            Value::Null => Ok(Value::Null),
            other => other
                .to_bool()
                .map(Value::Bool)
                .ok_or_else(|| self.fail("a bool is required")),
        }
    }

    fn math(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let number = self.number(&args[0])?;
        Ok(Value::Number(match self.name {
            "abs" => number.abs(),
            "ceil" => number.ceil(),
            _ => number.floor(),
        }))
    }

    fn extreme(&self, args: Args) -> Evaluated {
        let numbers: Vec<f64> = args
            .iter()
            .map(|arg| self.number(arg))
            .collect::<Result<_, _>>()?;
        let pick = if self.name == "max" {
            f64::max
        } else {
            f64::min
        };
        numbers
            .into_iter()
            .reduce(pick)
            .map(Value::Number)
            .ok_or_else(|| self.fail("at least one number is required"))
    }

    fn reverse(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let mut list = self.list(args.into_iter().next().unwrap_or(Value::Null))?;
        list.reverse();
        Ok(Value::list(list))
    }

    fn slice(&self, args: Args) -> Evaluated {
        self.arity(&args, 3, 3)?;
        let start = self.integer(&args[1])?;
        let end = self.integer(&args[2])?;
        let list = self.list(args.into_iter().next().unwrap_or(Value::Null))?;
        if start < 0 || end < start || end as usize > list.len() {
            return Err(self.fail("the indices are out of range"));
        }
        Ok(Value::list(list[start as usize..end as usize].to_vec()))
    }

    fn sort(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let list = self.list(args.into_iter().next().unwrap_or(Value::Null))?;
        if !list.iter().all(Value::is_known) {
            return Ok(Value::Unknown);
        }
        let mut texts: Vec<String> = list
            .iter()
            .map(|element| self.text(element))
            .collect::<Result<_, _>>()?;
        texts.sort();
        Ok(Value::list(texts.into_iter().map(Value::String).collect()))
    }

    fn index(&self, mut args: Args) -> Evaluated {
        self.arity(&args, 2, 2)?;
        let wanted = args.pop().unwrap_or(Value::Null);
        let list = self.list(args.pop().unwrap_or(Value::Null))?;
        match list.iter().position(|element| *element == wanted) {
            Some(at) => Ok(Value::Number(at as f64)),
            None if list.iter().all(Value::is_wholly_known) => Err(self.fail("item not found")),
            None => Ok(Value::Unknown),
        }
    }

    /// `a.b.c.d/n` or an IPv6 prefix: the network address, its length and the address width.
    fn prefix(&self, value: &Value) -> Result<(u128, u32, u32), EvalError> {
        let text = self.text(value)?;
        let (address, length) = text
            .split_once('/')
            .ok_or_else(|| self.fail(format!("invalid CIDR address {text:?}")))?;
        let address: IpAddr = address
            .parse()
            .map_err(|_| self.fail(format!("invalid CIDR address {text:?}")))?;
        let (bits, width) = match address {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
            IpAddr::V6(v6) => (u128::from(v6), 128),
        };
        let length: u32 = length
            .parse()
            .ok()
            .filter(|length| *length <= width)
            .ok_or_else(|| self.fail(format!("invalid CIDR address {text:?}")))?;
        let host_bits = width - length;
        let network = if host_bits >= 128 {
            0
        } else {
            (bits >> host_bits) << host_bits
        };
        Ok((network, length, width))
    }

    fn address(bits: u128, width: u32) -> String {
        if width == 32 {
            Ipv4Addr::from(bits as u32).to_string()
        } else {
            Ipv6Addr::from(bits).to_string()
        }
    }

    fn cidrsubnet(&self, args: Args) -> Evaluated {
        self.arity(&args, 3, 3)?;
        let (network, length, width) = self.prefix(&args[0])?;
        let new_bits = self.integer(&args[1])?;
        let number = self.integer(&args[2])?;
        let new_length = i128::from(length) + new_bits;
        if new_bits < 0 || new_length > i128::from(width) {
            return Err(self.fail(format!(
                "insufficient address space to extend prefix of {length} by {new_bits}"
            )));
        }
        if number < 0 || (new_bits < 127 && number >= 1i128 << new_bits) {
            return Err(self.fail(format!(
                "prefix extension of {new_bits} does not accommodate a subnet numbered {number}"
            )));
        }
        let new_length = new_length as u32;
        let subnet = network | ((number as u128) << (width - new_length));
        Ok(Value::String(format!(
            "{}/{new_length}",
            Self::address(subnet, width)
        )))
    }

    fn cidrhost(&self, args: Args) -> Evaluated {
        self.arity(&args, 2, 2)?;
        let (network, length, width) = self.prefix(&args[0])?;
        let number = self.integer(&args[1])?;
        let host_bits = width - length;
        let hosts: i128 = if host_bits >= 127 {
            i128::MAX
        } else {
            1i128 << host_bits
        };
        let host = if number < 0 { hosts + number } else { number };
        if host < 0 || host >= hosts {
            return Err(self.fail(format!(
                "prefix of {length} does not accommodate a host numbered {number}"
            )));
        }
        Ok(Value::String(Self::address(network | host as u128, width)))
    }

    fn jsonencode(&self, args: Args) -> Evaluated {
        self.arity(&args, 1, 1)?;
        if !args[0].is_wholly_known() {
            return Ok(Value::Unknown);
        }
        // Go's encoder escapes these for HTML, and Terraform keeps them escaped.
        let text = args[0]
            .to_json()
            .to_string()
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        Ok(Value::String(text))
    }

    fn decode(&self, args: Args, format: Format) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let text = self.text(&args[0])?;
        match format {
            Format::Json => serde_json::from_str::<serde_json::Value>(&text)
                .map(|json| Value::from_json(&json))
                .map_err(|e| self.fail(e)),
            Format::Yaml => super::yaml::decode(&text).map_err(|e| self.fail(e)),
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(text.as_bytes());
                let headers = reader.headers().map_err(|e| self.fail(e))?.clone();
                let mut rows = Vec::new();
                for record in reader.records() {
                    let record = record.map_err(|e| self.fail(e))?;
                    rows.push(Value::map(
                        headers
                            .iter()
                            .zip(record.iter())
                            .map(|(key, value)| (key.to_string(), Value::string(value)))
                            .collect(),
                    ));
                }
                Ok(Value::list(rows))
            }
        }
    }

    fn file(&self, args: Args, files: Option<&Files<'_>>) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let path = self.text(&args[0])?;
        let Some((files, resolved)) = files.and_then(|files| Some((files, files.resolve(&path)?)))
        else {
            return Ok(Value::Unknown);
        };
        let bytes = files
            .read(&resolved)
            .map_err(|e| self.fail(format!("cannot read {path:?}: {e}")))?;
        String::from_utf8(bytes)
            .map(Value::String)
            .map_err(|_| self.fail(format!("{path:?} is not UTF-8")))
    }

    fn fileexists(&self, args: Args, files: Option<&Files<'_>>) -> Evaluated {
        self.arity(&args, 1, 1)?;
        let path = self.text(&args[0])?;
        Ok(
            match files.and_then(|files| Some((files, files.resolve(&path)?))) {
                Some((files, resolved)) => Value::Bool(files.is_file(&resolved)),
                None => Value::Unknown,
            },
        )
    }
}
