//! The typed tree the parser builds: bodies, blocks, attributes and every expression with its
//! parts (traversal steps, call arguments, operands, template parts, `for` clauses), each with
//! its byte span in the file. Comments are in [`super::Comments`].

use std::ops::Range;

use compact_str::CompactString;

/// A file, or the inside of a block: attributes and blocks in source order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Body {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<Block>,
}

impl Body {
    /// The attribute named `name` (Terraform rejects one given twice, so there is at most one).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name.text == name)
    }

    pub fn has_attribute(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }

    /// The blocks of one type (`resource`, `locals`…).
    pub fn blocks_of<'a, 'k>(
        &'a self,
        kind: &'k str,
    ) -> impl Iterator<Item = &'a Block> + use<'a, 'k> {
        self.blocks
            .iter()
            .filter(move |block| block.kind.text == kind)
    }
}

/// A name as written: a block type, an attribute name, an identifier key. Most names are
/// short and held inline, without an allocation of their own.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub text: CompactString,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: Ident,
    pub value: Expr,
}

impl Attribute {
    /// From the name to the end of the value.
    pub fn span(&self) -> Range<usize> {
        self.name.span.start..self.value.span.end
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The block type: `resource`, `locals`, `moved`…
    pub kind: Ident,
    pub labels: Vec<Label>,
    pub body: Body,
    /// From the type to the closing brace.
    pub span: Range<usize>,
}

impl Block {
    /// `resource "type" "name"`: where a block starts, for an underline that does not cover
    /// the whole body.
    pub fn header_span(&self) -> Range<usize> {
        let end = self
            .labels
            .last()
            .map_or(self.kind.span.end, |label| label.span.end);
        self.kind.span.start..end
    }

    pub fn label(&self, index: usize) -> Option<&str> {
        self.labels.get(index).map(|label| label.value.as_str())
    }
}

/// A block label: `"aws_security_group_rule"` or a bare identifier. The span includes the
/// quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub value: String,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// Without surrounding whitespace and comments.
    pub span: Range<usize>,
    pub kind: ExprKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    /// A number; `Some` for an integer that fits an `i64` (written without fraction or
    /// exponent, a leading `-` included).
    Number(Option<i64>),
    /// A quoted string without interpolations or directives, its escapes decoded.
    String(String),
    /// A quoted string with `${…}` or `%{…}`: its parts, escapes decoded.
    Template(Vec<TemplatePart>),
    Heredoc(Box<Heredoc>),
    Tuple(Vec<Expr>),
    Object(Vec<ObjectItem>),
    /// A bare name: `local`, `var`, `each`, `some_name`.
    Variable(CompactString),
    /// A name, call or parenthesis followed by `.attr`, `[index]`, `.*` or `[*]`.
    Traversal(Box<Traversal>),
    Call(Box<Call>),
    Parenthesis(Box<Expr>),
    For(Box<ForExpr>),
    /// A unary or binary operation.
    Operation(Box<Operation>),
    /// `condition ? then : otherwise`, its three parts.
    Conditional(Box<[Expr; 3]>),
    /// Not parsed yet: an attribute of a block that [`crate::syntax::parse_selected`] was
    /// asked to defer. [`crate::syntax::parse_deferred`] reads it when it is needed.
    Deferred,
}

/// `base.step[step]…`: what is traversed, and each step in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Traversal {
    pub base: Expr,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `.name`
    Attribute(Ident),
    /// `[expr]`; the span covers the brackets.
    Index { key: Box<Expr>, span: Range<usize> },
    /// `.0`: Terraform's legacy index, an integer; `None` when it is not one (`.5e3`).
    LegacyIndex {
        index: Option<u64>,
        span: Range<usize>,
    },
    /// `[*]` (`full`: every later step applies to each element) or `.*` (only the attribute
    /// and legacy-index steps that follow it do).
    Splat { full: bool, span: Range<usize> },
}

impl Step {
    pub fn span(&self) -> Range<usize> {
        match self {
            Step::Attribute(name) => name.span.clone(),
            Step::Index { span, .. }
            | Step::LegacyIndex { span, .. }
            | Step::Splat { span, .. } => span.clone(),
        }
    }
}

/// `name(arg, …)`, `provider::p::name(…)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The whole name, `provider::aws::arn_parse` included.
    pub name: Ident,
    pub args: Vec<Expr>,
    /// `f(list...)`: the last argument's elements are the final arguments.
    pub expand_final: bool,
}

/// `[for k, v in coll : value if cond]` or `{for k, v in coll : key => value... if cond}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForExpr {
    /// The first name of `for k, v`; `None` for `for v in`.
    pub key_var: Option<Ident>,
    pub value_var: Ident,
    pub collection: Expr,
    /// The object's key (`key => …`); `None` builds a tuple.
    pub key: Option<Expr>,
    pub value: Expr,
    /// `...` after an object's value: values of the same key are grouped in a list.
    pub grouping: bool,
    pub condition: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    Unary {
        operator: UnaryOperator,
        operand: Expr,
    },
    /// `a + b - c`: `first`, then each operator with its right operand, applied left to
    /// right. Each operand binds tighter than the operators around it (`a + b * c` is `a`,
    /// then `+ (b * c)`), so a long chain stays one level deep.
    Binary {
        first: Expr,
        rest: Vec<(BinaryOperator, Expr)>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOperator {
    /// `-x`
    Negate,
    /// `!x`
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOperator {
    Or,
    And,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
}

/// `<<EOT` or `<<-EOT` (`flush`: the common indentation of its lines is removed, already in
/// the parts).
#[derive(Debug, Clone, PartialEq)]
pub struct Heredoc {
    pub marker: String,
    pub flush: bool,
    pub parts: Vec<TemplatePart>,
}

/// A piece of a template. `~` strip markers are already applied to the literal parts.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    /// Text, escapes decoded (`$${` read as `${`).
    Literal(String),
    /// `${expr}`
    Interpolation(Expr),
    /// `%{ if cond }…%{ else }…%{ endif }`
    If {
        condition: Box<Expr>,
        then: Vec<TemplatePart>,
        otherwise: Vec<TemplatePart>,
    },
    /// `%{ for k, v in coll }…%{ endfor }`
    For(Box<TemplateFor>),
}

/// `%{ for k, v in coll }…%{ endfor }`: the names, the collection, and what is repeated.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateFor {
    pub key_var: Option<Ident>,
    pub value_var: Ident,
    pub collection: Expr,
    pub body: Vec<TemplatePart>,
}

/// One `key = value` of an object. A key given twice stays twice, in order: Terraform takes
/// the last value, and a reader that must refuse the repetition can see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectItem {
    pub key: ObjectKey,
    pub key_span: Range<usize>,
    /// The key's expression when it is not a name or a literal string ([`ObjectKey::Expr`]).
    pub key_expr: Option<Box<Expr>>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ObjectKey {
    /// `key = …`
    Ident(CompactString),
    /// `"key" = …`
    String(CompactString),
    /// `(var.key) = …`, `"${x}" = …`
    Expr,
}

impl ObjectKey {
    /// The key as a literal string, where it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ObjectKey::Ident(text) | ObjectKey::String(text) => Some(text),
            ObjectKey::Expr => None,
        }
    }
}

impl Expr {
    /// The items of an object, the elements of a tuple.
    pub fn object(&self) -> Option<&[ObjectItem]> {
        match &self.kind {
            ExprKind::Object(items) => Some(items),
            _ => None,
        }
    }

    pub fn tuple(&self) -> Option<&[Expr]> {
        match &self.kind {
            ExprKind::Tuple(elements) => Some(elements),
            _ => None,
        }
    }

    /// The literal strings among a tuple's elements (none for anything else).
    pub fn literal_strings(&self) -> Vec<String> {
        self.tuple()
            .unwrap_or_default()
            .iter()
            .filter_map(|element| element.string().map(str::to_string))
            .collect()
    }

    pub fn string(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::String(value) => Some(value),
            _ => None,
        }
    }

    /// The value of `key` in an object: the last one given, as Terraform evaluates it.
    pub fn get(&self, key: &str) -> Option<&Expr> {
        self.object()?
            .iter()
            .rev()
            .find(|item| item.key.as_str() == Some(key))
            .map(|item| &item.value)
    }
}
