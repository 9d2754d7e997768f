//! Raw connections → validated [`Connection`]s, collecting every error rather than the first.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::Style;
use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::generate::connection::{
    AddressList, CidrKind, Connection, ConnectionSide, Enabled, ForEach, Items, Port, Ports,
    Protocol, SourceExpr, squeeze,
};
use crate::generate::for_each;
use crate::generate::parse::{Field, Literal, RawConnection, SourceValue};
use crate::schema::KNOWN_KEYS;
use crate::syntax::{self, ExprKind, Step};

/// Validates every connection of one definition. Also rejects two connections that AWS
/// would see as the same rule.
pub fn validate(
    file: &Arc<SourceFile>,
    raw: &[RawConnection],
    style: Style,
) -> Result<Vec<Connection>, Vec<Diagnostic>> {
    // Connections are checked on every core (a module may have 100,000); errors keep the
    // order of the list.
    let checked: Vec<(Option<Connection>, Vec<Diagnostic>)> = raw
        .par_iter()
        .map(|raw| {
            let style = own_style(raw).unwrap_or(style);
            let (connection, mut errors) = match for_each::field(raw) {
                Some(field) => check_for_each(file, raw, field, style),
                None => check_connection(file, raw, style),
            };
            errors.extend(for_each::each_in_locals(file, raw));
            (connection.filter(|_| errors.is_empty()), errors)
        })
        .collect();
    let mut connections = Vec::with_capacity(checked.len());
    let mut errors = Vec::new();
    for (connection, mut found) in checked {
        connections.extend(connection);
        errors.append(&mut found);
    }
    errors.extend(duplicate_rules(file, &connections));
    if errors.is_empty() {
        Ok(connections)
    } else {
        Err(errors)
    }
}

/// The resource family a connection's `style` key names, when it names one (the checker
/// reports any other value). Read first: the style decides which keys are allowed.
fn own_style(raw: &RawConnection) -> Option<Style> {
    let field = raw.fields.iter().find(|field| field.key == "style")?;
    match &field.value.literal {
        Some(Literal::String(name)) => Style::from_name(name),
        _ => None,
    }
}

/// Validates one connection that has no `for_each`.
pub(crate) fn check_connection(
    file: &Arc<SourceFile>,
    raw: &RawConnection,
    style: Style,
) -> (Option<Connection>, Vec<Diagnostic>) {
    let mut errors = Vec::new();
    let mut checker = Checker {
        file,
        errors: &mut errors,
        misspelt: Vec::new(),
        style,
    };
    (checker.connection(raw), errors)
}

/// A `for_each` connection: its rules read `each.value.<key>` for the keys its instances
/// carry, and each instance is checked as a connection of its own, so a bad literal is
/// reported where the instance gives it, and two instances that are one AWS rule are caught.
fn check_for_each(
    file: &Arc<SourceFile>,
    raw: &RawConnection,
    field: &Field,
    style: Style,
) -> (Option<Connection>, Vec<Diagnostic>) {
    let expansion = match for_each::expand(file, raw, field, style) {
        Ok(expansion) => expansion,
        Err(errors) => return (None, errors),
    };
    let (connection, errors) = check_connection(file, &expansion.template, style);
    let Some(mut connection) = connection else {
        return (None, errors);
    };
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut owners: HashMap<String, Range<usize>> = HashMap::new();
    let mut rule_identities = Vec::new();
    for (instance_span, instance) in &expansion.instances {
        let (checked, found) = check_connection(file, instance, style);
        // A problem of the connection's own keys shows in every instance: reported once.
        for error in found {
            let place = |error: &Diagnostic| error.source.as_ref().map(|(_, span)| span.clone());
            let seen = errors
                .iter()
                .any(|seen| seen.problem == error.problem && place(seen) == place(&error));
            if !seen {
                errors.push(error);
            }
        }
        let Some(checked) = checked.filter(|_| expansion.literal) else {
            continue;
        };
        let mut duplicate = None;
        for identity in identities(&checked) {
            match owners.get(&identity) {
                Some(first) if first != instance_span => duplicate = Some(first.clone()),
                Some(_) => {}
                None => {
                    owners.insert(identity.clone(), instance_span.clone());
                    rule_identities.push(identity);
                }
            }
        }
        if let Some(first) = duplicate {
            errors.push(
                Diagnostic::at(Problem::DuplicateRule, file, instance_span.clone()).with_note(
                    "first here",
                    file,
                    first,
                ),
            );
        }
    }
    if !errors.is_empty() {
        return (None, errors);
    }
    if !expansion.literal {
        // Unknown until Terraform evaluates the `for`: unique to this collection.
        let collection = squeeze(&expansion.collection.text);
        rule_identities = identities(&connection)
            .into_iter()
            .map(|identity| format!("{identity}|for_each:{collection}"))
            .collect();
    }
    connection.for_each = Some(Box::new(ForEach {
        collection: expansion.collection,
        identities: rule_identities,
    }));
    (Some(connection), errors)
}

/// AWS identifies a rule by group, direction, protocol, ports and peer (each CIDR block of a
/// list on its own), so two connections that share one fail at apply with
/// `InvalidPermission.Duplicate`, whatever their descriptions.
fn duplicate_rules(file: &Arc<SourceFile>, connections: &[Connection]) -> Vec<Diagnostic> {
    let identities: Vec<Vec<String>> = connections.par_iter().map(identities).collect();
    let mut seen: HashMap<String, &Connection> = HashMap::with_capacity(identities.len() * 2);
    let mut errors = Vec::new();
    for (connection, identities) in connections.iter().zip(identities) {
        let first = identities
            .into_iter()
            .find_map(|identity| seen.insert(identity, connection));
        if let Some(first) = first {
            errors.push(
                Diagnostic::at(Problem::DuplicateRule, file, connection.span.clone()).with_note(
                    "first here",
                    file,
                    first.span.clone(),
                ),
            );
        }
    }
    errors
}

/// What makes each of a connection's rules unique in AWS's eyes, ignoring source layout.
pub fn identities(connection: &Connection) -> Vec<String> {
    if let Some(for_each) = &connection.for_each {
        return for_each.identities.clone();
    }
    let ports = format!(
        "{}|{}|{}",
        squeeze(&connection.protocol.to_string()),
        squeeze(&connection.ports.from.to_string()),
        squeeze(&connection.ports.to.to_string()),
    );
    let mut identities = Vec::new();
    for rule in connection.rules() {
        for peer in rule.peer.identities(rule.group) {
            identities.push(format!(
                "{}|{}|{peer}|{ports}",
                rule.direction,
                squeeze(&rule.group.text)
            ));
        }
    }
    identities
}

/// One side of a connection: its group key and the address-list keys that may replace it.
struct Side {
    group_key: &'static str,
    list_keys: [(&'static str, CidrKind); 3],
}

const SOURCE: Side = Side {
    group_key: "source_sg_id",
    list_keys: [
        ("source_cidr_blocks", CidrKind::Ipv4),
        ("source_ipv6_cidr_blocks", CidrKind::Ipv6),
        ("source_prefix_list_ids", CidrKind::PrefixList),
    ],
};

const TARGET: Side = Side {
    group_key: "target_sg_id",
    list_keys: [
        ("target_cidr_blocks", CidrKind::Ipv4),
        ("target_ipv6_cidr_blocks", CidrKind::Ipv6),
        ("target_prefix_list_ids", CidrKind::PrefixList),
    ],
};

struct Checker<'a> {
    file: &'a Arc<SourceFile>,
    errors: &'a mut Vec<Diagnostic>,
    /// Keys suggested for misspelt keys of the current connection.
    misspelt: Vec<&'static str>,
    style: Style,
}

impl Checker<'_> {
    fn report(&mut self, problem: Problem, span: Range<usize>) {
        self.errors.push(Diagnostic::at(problem, self.file, span));
    }

    /// Reports a missing key, unless a misspelt key already points at it (one error, not two).
    fn report_missing(&mut self, problem: Problem, keys: &[&str], span: Range<usize>) {
        if !keys.iter().any(|key| self.misspelt.contains(key)) {
            self.report(problem, span);
        }
    }

    fn connection(&mut self, raw: &RawConnection) -> Option<Connection> {
        let errors_before = self.errors.len();
        let mut fields: HashMap<&str, &Field> = HashMap::new();
        // Keys that a misspelt key probably meant: not also reported missing.
        let mut suggested = Vec::new();
        for field in &raw.fields {
            if KNOWN_KEYS.contains(&field.key.as_str()) {
                // `key = null` means "not set", as for an optional attribute in Terraform.
                if field.value.literal != Some(Literal::Null) {
                    fields.insert(field.key.as_str(), field);
                }
            } else {
                let suggestion = suggest_key(&field.key);
                suggested.extend(suggestion);
                self.report(
                    Problem::UnknownKey {
                        key: field.key.clone(),
                        suggestion,
                    },
                    field.key_span.clone(),
                );
            }
        }
        let get = |key: &str| fields.get(key).map(|field| &field.value);

        self.misspelt = suggested;
        let source = self.endpoint(&fields, &SOURCE, raw);
        let target = self.endpoint(&fields, &TARGET, raw);
        if let (Some(ConnectionSide::Addresses(_)), Some(ConnectionSide::Addresses(_))) =
            (&source, &target)
        {
            self.report(Problem::NoGroup, raw.span.clone());
        }
        let protocol = self.protocol(get("protocol"));
        let ports = protocol
            .as_ref()
            .and_then(|protocol| self.ports(&fields, protocol, raw));
        let (ingress_description, egress_description) = self.descriptions(&fields);
        let name = self.name(get("name"), raw);
        let tags = fields.get("tags").map(|field| &field.value);
        if let (Some(tags), Style::SecurityGroupRule) = (fields.get("tags"), self.style) {
            self.report(Problem::UnsupportedKey("tags"), tags.key_span.clone());
        }
        let provider = get("provider").and_then(|value| self.provider("provider", value));
        let source_provider = self.side_provider(&fields, "source_provider", &source);
        let target_provider = self.side_provider(&fields, "target_provider", &target);
        let enabled = self.enabled(get("enabled"));
        let depends_on = get("depends_on").and_then(|value| self.depends_on(value));
        let timeout_create = fields
            .get("timeouts")
            .and_then(|field| self.timeouts(field));
        let region = get("region").map(expr);
        let self_by_id = self.self_by_id(fields.get("self"), source.as_ref(), target.as_ref());
        if let Some(value) = get("style")
            && own_style(raw).is_none()
        {
            self.report(
                Problem::WrongType {
                    key: "style",
                    expected: "\"aws_security_group_rule\" or \"aws_vpc_security_group_rule\"",
                },
                value.span.clone(),
            );
        }
        if let (Some(Enabled::When(_) | Enabled::Never), Style::VpcSecurityGroupRule) =
            (&enabled, self.style)
            && [&source, &target].iter().any(|side| {
                matches!(side, Some(ConnectionSide::Addresses(lists))
                    if lists.iter().any(|list| matches!(list.items, Items::Expr(_))))
            })
        {
            let span = fields["enabled"].key_span.clone();
            self.report(Problem::EnabledWithForEach, span);
        }

        if self.errors.len() > errors_before {
            return None;
        }
        Some(Connection {
            span: raw.span.clone(),
            name,
            source: source?,
            target: target?,
            protocol: protocol?,
            ports: ports?,
            ingress_description,
            egress_description,
            provider,
            tags: tags.map(expr),
            enabled: enabled?,
            depends_on,
            timeout_create,
            region,
            self_by_id: self_by_id?,
            for_each: None,
            source_provider,
            target_provider,
            style: self.style,
        })
    }

    /// `self`: a literal bool, on a connection from a group to itself only. `true` is what
    /// such a connection writes anyway; `false` names the group by id instead.
    fn self_by_id(
        &mut self,
        field: Option<&&Field>,
        source: Option<&ConnectionSide>,
        target: Option<&ConnectionSide>,
    ) -> Option<bool> {
        let Some(field) = field else {
            return Some(false);
        };
        let Some(Literal::Bool(value)) = field.value.literal else {
            self.report(
                Problem::WrongType {
                    key: "self",
                    expected: "true or false",
                },
                field.value.span.clone(),
            );
            return None;
        };
        match (source, target) {
            (Some(ConnectionSide::Group(source)), Some(ConnectionSide::Group(target)))
                if source.same_as(target) =>
            {
                Some(!value)
            }
            // The sides are reported already.
            (None, _) | (_, None) => None,
            _ => {
                self.report(Problem::SelfNeedsOneGroup, field.key_span.clone());
                None
            }
        }
    }

    /// `source_provider` or `target_provider`: the provider of one half, for a group in
    /// another account or region. Instead of `provider`, and only for a side with a rule.
    fn side_provider(
        &mut self,
        fields: &HashMap<&str, &Field>,
        key: &'static str,
        endpoint: &Option<ConnectionSide>,
    ) -> Option<SourceExpr> {
        let field = fields.get(key)?;
        if fields.contains_key("provider") {
            self.report(
                Problem::ConflictingKeys("provider", key),
                field.key_span.clone(),
            );
            return None;
        }
        if let Some(ConnectionSide::Addresses(_)) = endpoint {
            let side = if key == "source_provider" {
                "source"
            } else {
                "target"
            };
            self.report(
                Problem::ProviderOfNoRule { key, side },
                field.key_span.clone(),
            );
            return None;
        }
        self.provider(key, &field.value)
    }

    /// A side's group, or its CIDR blocks or prefix lists: exactly one of the side's keys.
    fn endpoint(
        &mut self,
        fields: &HashMap<&str, &Field>,
        side: &Side,
        raw: &RawConnection,
    ) -> Option<ConnectionSide> {
        let keys = std::iter::once((side.group_key, None))
            .chain(side.list_keys.iter().map(|&(key, kind)| (key, Some(kind))));
        let given: Vec<(&'static str, Option<CidrKind>, &Field)> = keys
            .filter_map(|(key, kind)| fields.get(key).map(|field| (key, kind, *field)))
            .collect();
        match given.as_slice() {
            [] => {
                let mut keys = vec![side.group_key];
                keys.extend(side.list_keys.iter().map(|(key, _)| *key));
                self.report_missing(Problem::MissingKey(side.group_key), &keys, raw.span.clone());
                None
            }
            [(key, None, field)] => self.group(&field.value, key).map(ConnectionSide::Group),
            [(key, Some(kind), field)] => self
                .address_list(&field.value, key, *kind)
                .map(|list| ConnectionSide::Addresses(vec![list])),
            // Dual stack: `aws_security_group_rule` takes `cidr_blocks` and `ipv6_cidr_blocks`
            // in one rule; the aws_vpc_* style writes a rule per address anyway.
            [
                (ipv4_key, Some(CidrKind::Ipv4), ipv4),
                (ipv6_key, Some(CidrKind::Ipv6), ipv6),
            ] => {
                let ipv4 = self.address_list(&ipv4.value, ipv4_key, CidrKind::Ipv4);
                let ipv6 = self.address_list(&ipv6.value, ipv6_key, CidrKind::Ipv6);
                Some(ConnectionSide::Addresses(vec![ipv4?, ipv6?]))
            }
            [(first, ..), (second, _, field), ..] => {
                self.report(
                    Problem::ConflictingKeys(first, second),
                    field.key_span.clone(),
                );
                None
            }
        }
    }

    fn group(&mut self, value: &SourceValue, key: &'static str) -> Option<SourceExpr> {
        match value.literal {
            None | Some(Literal::String(_)) => Some(expr(value)),
            Some(_) => {
                self.report(
                    Problem::WrongType {
                        key,
                        expected: "a security group id (a reference or a string)",
                    },
                    value.span.clone(),
                );
                None
            }
        }
    }

    /// `["10.0.0.0/8", ...]`, checked and sorted, or an expression copied as it is.
    fn address_list(
        &mut self,
        value: &SourceValue,
        key: &'static str,
        kind: CidrKind,
    ) -> Option<AddressList> {
        let elements = match &value.literal {
            None => {
                return Some(AddressList {
                    kind,
                    items: Items::Expr(expr(value)),
                });
            }
            Some(Literal::List(elements)) => elements,
            Some(_) => {
                self.report(
                    Problem::WrongType {
                        key,
                        expected: "a list, e.g. [\"10.0.0.0/16\"]",
                    },
                    value.span.clone(),
                );
                return None;
            }
        };
        if elements.is_empty() {
            self.report(Problem::EmptyList(key), value.span.clone());
            return None;
        }
        let mut items: Vec<(&SourceValue, SourceExpr)> = Vec::with_capacity(elements.len());
        let mut ok = true;
        for element in elements {
            match &element.literal {
                Some(Literal::String(text)) if kind != CidrKind::PrefixList => {
                    if let Err(problem) = check_cidr(text, kind, key) {
                        self.report(problem, element.span.clone());
                        ok = false;
                    }
                }
                Some(Literal::String(_)) | None => {}
                Some(_) => {
                    self.report(
                        Problem::WrongType {
                            key,
                            expected: "a list of strings",
                        },
                        element.span.clone(),
                    );
                    ok = false;
                }
            }
            if let Some((first, _)) = items
                .iter()
                .find(|(seen, _)| seen.literal.is_some() && seen.literal == element.literal)
            {
                let first_span = first.span.clone();
                self.errors.push(
                    Diagnostic::at(Problem::DuplicateRule, self.file, element.span.clone())
                        .with_note("first here", self.file, first_span),
                );
                ok = false;
            }
            items.push((element, expr(element)));
        }
        // The AWS provider replaces a rule whose `cidr_blocks` order changes
        // (terraform-provider-aws #19082): one canonical order keeps reorders free.
        let mut items: Vec<SourceExpr> = items.into_iter().map(|(_, item)| item).collect();
        items.sort_by(|a, b| a.text.cmp(&b.text));
        ok.then_some(AddressList {
            kind,
            items: Items::Literal(items),
        })
    }

    fn protocol(&mut self, value: Option<&SourceValue>) -> Option<Protocol> {
        let Some(value) = value else {
            return Some(Protocol::Tcp);
        };
        let literal = match &value.literal {
            None => return Some(Protocol::Expr(expr(value))),
            Some(Literal::String(text)) => text.clone(),
            Some(Literal::Int(number)) => number.to_string(),
            Some(_) => {
                self.report(
                    Problem::WrongType {
                        key: "protocol",
                        expected: "a protocol name or number",
                    },
                    value.span.clone(),
                );
                return None;
            }
        };
        let protocol = Protocol::from_literal(&literal);
        if protocol.is_none() {
            self.report(Problem::UnknownProtocol(literal), value.span.clone());
        }
        protocol
    }

    fn ports(
        &mut self,
        fields: &HashMap<&str, &Field>,
        protocol: &Protocol,
        raw: &RawConnection,
    ) -> Option<Ports> {
        let destination = fields.get("destination_port");
        let from = fields.get("from_port");
        let to = fields.get("to_port");
        if let (Some(_), Some(from)) = (destination, from) {
            self.report(
                Problem::ConflictingKeys("destination_port", "from_port"),
                from.key_span.clone(),
            );
            return None;
        }
        if matches!(protocol, Protocol::All) {
            if let Some(field) = destination.or(from).or(to) {
                self.report(Problem::PortsWithAllTraffic, field.key_span.clone());
                return None;
            }
            return Some(Ports::all_traffic());
        }
        let Some(first) = destination.or(from) else {
            let problem = match to {
                Some(_) => Problem::MissingKey("from_port"),
                None => Problem::MissingPorts(protocol.to_string()),
            };
            self.report_missing(
                problem,
                &["destination_port", "from_port"],
                raw.span.clone(),
            );
            return None;
        };

        let (start, range_end) = self.port_or_range(&first.value, destination.is_some())?;
        let end = match (range_end, to) {
            (Some(_), Some(to)) => {
                self.report(Problem::RangeWithToPort, to.key_span.clone());
                return None;
            }
            (Some(end), None) => end,
            (None, Some(to)) => self.port_or_range(&to.value, false)?.0,
            (None, None) => start.clone(),
        };
        self.check_bounds(protocol, &first.value, &start, to.map(|to| &to.value), &end)?;
        Some(Ports {
            from: start,
            to: end,
        })
    }

    /// A port (`443`, `"443"`), an expression, or, where ranges are allowed, `"from-to"`.
    fn port_or_range(
        &mut self,
        value: &SourceValue,
        range_allowed: bool,
    ) -> Option<(Port, Option<Port>)> {
        let text = match &value.literal {
            None => return Some((Port::Expr(expr(value)), None)),
            Some(Literal::Int(number)) => return Some((Port::Number(*number), None)),
            Some(Literal::String(text)) => text.trim(),
            Some(_) => {
                self.report(
                    Problem::BadPortSyntax(value.text.clone()),
                    value.span.clone(),
                );
                return None;
            }
        };
        if let Ok(number) = text.parse::<i64>() {
            return Some((Port::Number(number), None));
        }
        // A range: "8000-8100" (the first `-` after a leading sign separates the two ends).
        let split = text.char_indices().skip(1).find(|&(_, c)| c == '-');
        if let (true, Some((at, _))) = (range_allowed, split) {
            let (low, high) = (text[..at].trim().parse(), text[at + 1..].trim().parse());
            if let (Ok(low), Ok(high)) = (low, high) {
                return Some((Port::Number(low), Some(Port::Number(high))));
            }
        }
        self.report(Problem::BadPortSyntax(text.to_string()), value.span.clone());
        None
    }

    fn check_bounds(
        &mut self,
        protocol: &Protocol,
        from_value: &SourceValue,
        from: &Port,
        to_value: Option<&SourceValue>,
        to: &Port,
    ) -> Option<()> {
        if matches!(protocol, Protocol::Expr(_)) {
            return Some(());
        }
        let (min, max) = protocol.port_bounds();
        let mut ok = true;
        let to_span = to_value.unwrap_or(from_value).span.clone();
        // Without `to_port` both ends come from one value: report it once.
        let ends = [(from, from_value.span.clone()), (to, to_span.clone())];
        let ends = if to_value.is_some() || range_end_differs(from, to) {
            &ends[..]
        } else {
            &ends[..1]
        };
        for (port, span) in ends.iter().cloned() {
            if let Port::Number(value) = *port
                && !(min..=max).contains(&value)
            {
                self.report(Problem::PortOutOfRange { value, min, max }, span);
                ok = false;
            }
        }
        // For ICMP the two numbers are a type and a code, not a range.
        if let (true, false, Port::Number(low), Port::Number(high)) =
            (ok, protocol.is_icmp(), from, to)
            && low > high
        {
            let span = from_value.span.start..to_span.end.max(from_value.span.end);
            self.report(
                Problem::ReversedRange {
                    from: *low,
                    to: *high,
                },
                span,
            );
            ok = false;
        }
        ok.then_some(())
    }

    /// Returns the (ingress, egress) descriptions: `description` for both, or
    /// `description_source` for the ingress rule and `description_target` for the egress
    /// rule, as in the module's v2.
    fn descriptions(
        &mut self,
        fields: &HashMap<&str, &Field>,
    ) -> (Option<SourceExpr>, Option<SourceExpr>) {
        let both = fields.get("description");
        let ingress = fields.get("description_source");
        let egress = fields.get("description_target");
        if let Some(specific) = ingress.or(egress)
            && both.is_some()
        {
            let other = if ingress.is_some() {
                "description_source"
            } else {
                "description_target"
            };
            self.report(
                Problem::ConflictingKeys("description", other),
                specific.key_span.clone(),
            );
            return (None, None);
        }
        let mut check = |field: Option<&&Field>| {
            let value = &field?.value;
            self.description(value);
            Some(expr(value))
        };
        match both {
            Some(_) => {
                let description = check(both);
                (description.clone(), description)
            }
            None => (check(ingress), check(egress)),
        }
    }

    /// AWS rejects descriptions over 255 characters or outside its character set; a
    /// description that is an expression is copied unchecked.
    fn description(&mut self, value: &SourceValue) {
        match &value.literal {
            Some(Literal::String(text)) => {
                let length = text.chars().count();
                if length > 255 {
                    self.report(Problem::DescriptionTooLong(length), value.span.clone());
                } else if let Some(bad) = text.chars().find(|&c| !description_char(c)) {
                    self.report(Problem::DescriptionBadChar(bad), value.span.clone());
                }
            }
            None => {}
            Some(_) => self.report(
                Problem::WrongType {
                    key: "description",
                    expected: "a string",
                },
                value.span.clone(),
            ),
        }
    }

    fn name(
        &mut self,
        value: Option<&SourceValue>,
        raw: &RawConnection,
    ) -> Option<(String, Range<usize>)> {
        match value {
            None => raw.map_key.clone(),
            Some(SourceValue {
                literal: Some(Literal::String(name)),
                span,
                ..
            }) => Some((name.clone(), span.clone())),
            Some(value) => {
                self.report(
                    Problem::WrongType {
                        key: "name",
                        expected: "a literal string",
                    },
                    value.span.clone(),
                );
                None
            }
        }
    }

    /// `provider = "aws.eu"`, written unquoted as the meta-argument requires. Quoted because
    /// Terraform evaluates `locals`: a bare `aws.eu` there is a reference to an undeclared
    /// resource, and `terraform validate` fails.
    fn provider(&mut self, key: &'static str, value: &SourceValue) -> Option<SourceExpr> {
        match &value.literal {
            Some(Literal::String(text)) if is_provider_reference(text) => Some(SourceExpr {
                text: text.clone(),
                span: value.span.clone(),
                tree: None,
            }),
            Some(Literal::String(text)) => {
                self.report(Problem::BadProvider(text.clone()), value.span.clone());
                None
            }
            None if value.tree.as_deref().is_some_and(is_bare_provider) => {
                self.report(
                    Problem::BareProvider {
                        key,
                        reference: squeeze(&value.text),
                    },
                    value.span.clone(),
                );
                None
            }
            _ => {
                self.report(
                    Problem::WrongType {
                        key,
                        expected: "a quoted provider reference, e.g. \"aws.eu\"",
                    },
                    value.span.clone(),
                );
                None
            }
        }
    }

    /// `enabled`: a literal bool is decided here; an expression becomes the rules' `count`.
    /// `None` after an error.
    fn enabled(&mut self, value: Option<&SourceValue>) -> Option<Enabled> {
        let Some(value) = value else {
            return Some(Enabled::Always);
        };
        match value.literal {
            Some(Literal::Bool(true)) => Some(Enabled::Always),
            Some(Literal::Bool(false)) => Some(Enabled::Never),
            None => Some(Enabled::When(expr(value))),
            Some(_) => {
                self.report(
                    Problem::WrongType {
                        key: "enabled",
                        expected: "true, false or a bool expression",
                    },
                    value.span.clone(),
                );
                None
            }
        }
    }

    /// `depends_on = [aws_iam_role.x, module.y]`: a literal list of references, as the
    /// meta-argument requires; copied as it is.
    fn depends_on(&mut self, value: &SourceValue) -> Option<SourceExpr> {
        let ok = match &value.literal {
            Some(Literal::List(items)) => items
                .iter()
                .all(|item| item.tree.as_deref().is_some_and(is_static_reference)),
            _ => false,
        };
        if ok {
            Some(expr(value))
        } else {
            self.report(
                Problem::WrongType {
                    key: "depends_on",
                    expected: "a list of references, e.g. [aws_iam_role.x, module.y]",
                },
                value.span.clone(),
            );
            None
        }
    }

    /// `timeouts = { create = "5m" }`: `aws_security_group_rule`'s `timeouts` block, whose one
    /// operation is `create`.
    fn timeouts(&mut self, field: &Field) -> Option<SourceExpr> {
        if self.style == Style::VpcSecurityGroupRule {
            self.report(Problem::TimeoutsNeedDefaultStyle, field.key_span.clone());
            return None;
        }
        let value = &field.value;
        let create = match value.tree.as_deref().and_then(syntax::Expr::object) {
            Some([item]) if item.key.as_str() == Some("create") => {
                let at = item.value.span.start - value.span.start;
                let text = value.text[at..at + item.value.span.len()].to_string();
                Some((text, std::sync::Arc::new(item.value.clone())))
            }
            _ => None,
        };
        match create {
            Some((text, tree)) => Some(SourceExpr {
                text,
                span: value.span.clone(),
                tree: Some(tree),
            }),
            None => {
                self.report(
                    Problem::WrongType {
                        key: "timeouts",
                        expected: "an object with one key, e.g. { create = \"5m\" }",
                    },
                    value.span.clone(),
                );
                None
            }
        }
    }
}

/// `aws`, `aws.eu`, `aws.core-vpc`: a provider configuration's local name and alias.
fn is_provider_reference(text: &str) -> bool {
    let mut parts = text.split('.');
    let name_ok = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_alphabetic())
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let name = parts.next().is_some_and(name_ok);
    let alias = parts.next().is_none_or(name_ok);
    name && alias && parts.next().is_none()
}

/// `aws.eu` written bare: a reference to at most a name and an alias.
fn is_bare_provider(tree: &syntax::Expr) -> bool {
    tree.as_reference().is_some_and(|reference| {
        reference.steps.len() <= 1
            && reference
                .steps
                .iter()
                .all(|step| matches!(step, Step::Attribute(_)))
    })
}

/// A static reference as `depends_on` takes it: `aws_iam_role.x`, `module.y`,
/// `aws_instance.z[0]`, without calls, operators or splats.
fn is_static_reference(tree: &syntax::Expr) -> bool {
    tree.as_reference().is_some_and(|reference| {
        !reference.steps.is_empty()
            && reference.steps.iter().all(|step| match step {
                Step::Attribute(_) | Step::LegacyIndex { .. } => true,
                Step::Index { key, .. } => {
                    matches!(key.kind, ExprKind::Number(Some(_)) | ExprKind::String(_))
                }
                Step::Splat { .. } => false,
            })
    })
}

/// Whether a single value (`"8000-9000"`) gave two different ends.
fn range_end_differs(from: &Port, to: &Port) -> bool {
    !matches!((from, to), (Port::Number(a), Port::Number(b)) if a == b)
}

fn expr(value: &SourceValue) -> SourceExpr {
    SourceExpr {
        text: value.text.clone(),
        span: value.span.clone(),
        tree: value.tree_or_literal(),
    }
}

/// A CIDR block must be a network address of its key's family, as the AWS provider checks.
fn check_cidr(text: &str, kind: CidrKind, key: &'static str) -> Result<(), Problem> {
    let invalid = || Problem::InvalidCidr(text.to_string());
    let (address, length) = text.split_once('/').ok_or_else(invalid)?;
    let length: u32 = length.parse().map_err(|_| invalid())?;
    let address: IpAddr = address.parse().map_err(|_| invalid())?;
    let (max, network) = match (kind, address) {
        (CidrKind::Ipv4, IpAddr::V4(v4)) => {
            let mask = u32::MAX.checked_shl(32 - length.min(32)).unwrap_or(0);
            (32, IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask)))
        }
        (CidrKind::Ipv6, IpAddr::V6(v6)) => {
            let mask = u128::MAX.checked_shl(128 - length.min(128)).unwrap_or(0);
            (128, IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask)))
        }
        _ => {
            return Err(Problem::WrongAddressFamily {
                cidr: text.to_string(),
                key,
            });
        }
    };
    if length > max {
        return Err(Problem::PrefixLengthOutOfRange {
            cidr: text.to_string(),
            max,
        });
    }
    if network != address {
        return Err(Problem::NotNetworkAddress {
            cidr: text.to_string(),
            network: format!("{network}/{length}"),
        });
    }
    Ok(())
}

/// AWS's character set for rule descriptions.
fn description_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c)
}

/// The known key closest to a misspelt one, or the v1/v2 spelling of a common alias.
fn suggest_key(key: &str) -> Option<&'static str> {
    let alias = match key {
        "port" | "ports" => Some("destination_port"),
        "source" | "source_security_group_id" => Some("source_sg_id"),
        "target" | "destination" | "destination_sg_id" => Some("target_sg_id"),
        "ip_protocol" => Some("protocol"),
        _ => None,
    };
    alias.or_else(|| {
        KNOWN_KEYS
            .iter()
            .map(|known| (strsim::damerau_levenshtein(key, known), *known))
            .filter(|(distance, _)| *distance <= 3)
            .min()
            .map(|(_, known)| known)
    })
}
