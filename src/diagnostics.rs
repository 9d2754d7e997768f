//! Everything that can go wrong, as miette diagnostics that point at the user's source.
//!
//! [`Problem`] is the catalogue: one variant per thing that can go wrong, each with its
//! message, code, label and hint in one place. [`Diagnostic`] adds where it happened.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// A file read from the user's tree, kept whole so diagnostics can quote it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user should see it: relative to the current directory where possible.
    pub path: PathBuf,
    pub text: String,
    /// Offsets of the bytes that were not UTF-8, each read as one `?` so that offsets stay
    /// those of the file: Terraform accepts them in comments only.
    pub invalid_utf8: Vec<usize>,
    /// The byte offset of each line's start, built the first time a position is asked for,
    /// so that locating a diagnostic costs O(log n), not a scan from the start of the file.
    lines: OnceLock<Vec<usize>>,
    /// The file's comments, built the first time they are asked for.
    comments: OnceLock<crate::syntax::Comments>,
    /// Where they are, when a parse of the file kept them: the comments are then built from
    /// these instead of parsing the file again.
    comment_spans: OnceLock<crate::syntax::CommentSpans>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            path: path.into(),
            text: text.into(),
            invalid_utf8: Vec::new(),
            lines: OnceLock::new(),
            comments: OnceLock::new(),
            comment_spans: OnceLock::new(),
        }
    }

    /// Line starts, in bytes; the first is 0.
    fn line_starts(&self) -> &[usize] {
        self.lines.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|i| i + 1))
                .collect()
        })
    }

    /// 0-based line of a byte offset, and the offset where that line starts.
    fn line_of(&self, offset: usize) -> (usize, usize) {
        let starts = self.line_starts();
        let line = starts.partition_point(|&start| start <= offset) - 1;
        (line, starts[line])
    }

    /// A source file from its bytes, as Terraform reads it: UTF-8 (bytes that are not are
    /// kept as `?` and their offsets recorded), and a leading byte order mark (editors on
    /// Windows write one) dropped; spans and the line:column positions of diagnostics count
    /// the text without it, as editors do.
    pub fn decode(path: &Path, mut bytes: Vec<u8>) -> SourceFile {
        const BOM: &[u8] = "\u{feff}".as_bytes();
        if bytes.starts_with(BOM) {
            bytes.drain(..BOM.len());
        }
        let (text, invalid_utf8) = match String::from_utf8(bytes) {
            Ok(text) => (text, Vec::new()),
            Err(error) => {
                let bytes = error.into_bytes();
                let mut text = String::with_capacity(bytes.len());
                let mut invalid = Vec::new();
                for chunk in bytes.utf8_chunks() {
                    text.push_str(chunk.valid());
                    for _ in chunk.invalid() {
                        invalid.push(text.len());
                        text.push('?');
                    }
                }
                (text, invalid)
            }
        };
        SourceFile {
            invalid_utf8,
            ..SourceFile::new(path, text)
        }
    }

    /// The file's comments as the parser reads them (none where it does not parse).
    pub fn comments(&self) -> &crate::syntax::Comments {
        self.comments
            .get_or_init(|| match self.comment_spans.get() {
                Some(spans) => spans.comments(&self.text),
                None => crate::syntax::parse_file_with_invalid_utf8(&self.text, &self.invalid_utf8)
                    .map(|file| file.comments)
                    .unwrap_or_default(),
            })
    }

    /// Keeps where a parse of this file found its comments, for [`Self::comments`].
    pub fn keep_comment_spans(&self, spans: crate::syntax::CommentSpans) {
        let _ = self.comment_spans.set(spans);
    }

    /// 1-based line and column of a byte offset, counted in characters as editors do.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let (line, line_start) = self.line_of(offset);
        (line + 1, self.text[line_start..offset].chars().count() + 1)
    }
}

impl AsRef<str> for SourceFile {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl SourceCode for SourceFile {
    /// The lines of `span` with context, as miette's own `str` implementation gives them, but
    /// found through the line index: miette's scans the file from its start every time.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // miette's `str` implementation, run on the lines around the span alone (found
        // through the index), so its output is miette's own, shifted back into the file.
        let text = &self.text;
        let starts = self.line_starts();
        let start = span.offset().min(text.len());
        let end = (span.offset() + span.len()).min(text.len());
        let (first, _) = self.line_of(start);
        let (last, _) = self.line_of(end);
        // One line more than asked for: miette's scan treats a span at its input's very first
        // byte otherwise than one further in.
        let from_line = first.saturating_sub(context_lines_before + 1);
        let from = starts[from_line];
        let to = starts
            .get(last + context_lines_after + 2)
            .copied()
            .unwrap_or(text.len());
        let window = &text[from..to];
        let inner_span = SourceSpan::from((span.offset() - from.min(span.offset()), span.len()));
        let inner = window.read_span(&inner_span, context_lines_before, context_lines_after)?;
        if inner.data().len() > MAX_QUOTED {
            return Ok(Box::new(self.clipped(span)));
        }
        let offset = from + inner.span().offset();
        // miette counts the column in bytes; editors (and `line_column`) count characters.
        let (_, column) = self.line_column(offset);
        Ok(Box::new(MietteSpanContents::new_named(
            self.path.display().to_string(),
            inner.data(),
            (offset, inner.span().len()).into(),
            from_line + inner.line(),
            column - 1,
            from_line + inner.line_count(),
        )))
    }
}

/// The most source a diagnostic quotes before it is cut down to the span's own lines and
/// [`QUOTED_AROUND`] bytes either side: a minified or generated file can be one line of
/// megabytes, all of which would otherwise land in the terminal or the CI log.
const MAX_QUOTED: usize = 4096;
const QUOTED_AROUND: usize = 160;

impl SourceFile {
    /// The lines of `span` alone, cut to [`QUOTED_AROUND`] bytes either side of it (the span
    /// itself is never cut, so its label still fits).
    fn clipped(&self, span: &SourceSpan) -> MietteSpanContents<'_> {
        let text = &self.text;
        let start = floor_char_boundary(text, span.offset().min(text.len()));
        let end = ceil_char_boundary(text, (span.offset() + span.len()).clamp(start, text.len()));
        let (_, line_start) = self.line_of(start);
        let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
        let from = floor_char_boundary(text, start.saturating_sub(QUOTED_AROUND).max(line_start));
        let to = ceil_char_boundary(text, (end + QUOTED_AROUND).min(line_end));
        let (line, column) = self.line_column(from);
        MietteSpanContents::new_named(
            self.path.display().to_string(),
            &text.as_bytes()[from..to],
            (from, to - from).into(),
            line - 1,
            column - 1,
            text[from..to].matches('\n').count() + 1,
        )
    }
}

fn ceil_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset += 1;
    }
    offset
}

/// One thing that can go wrong. The message is the `Display`; [`Problem::code`],
/// [`Problem::label`] and [`Problem::help`] complete the diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("path does not exist")]
    PathNotFound,
    #[error("cannot read file: {0}")]
    ReadFailed(String),
    #[error("file is not valid UTF-8")]
    NotUtf8,
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error("nested too deeply: mutualsg reads at most {0} nested expressions")]
    NestedTooDeeply(usize),
    #[error("`mutual_rules` is defined more than once in this module")]
    DuplicateDefinition,
    #[error("`mutual_rules` is defined in an override file")]
    InOverrideFile,
    #[error("`mutual_rules` must be a literal list or object of connections")]
    NotLiteral,
    #[error("a connection must be an object `{{ ... }}`")]
    ConnectionNotObject,
    #[error("unknown key `{key}` in a connection")]
    UnknownKey {
        key: String,
        suggestion: Option<&'static str>,
    },
    #[error("key `{0}` is given twice in one connection")]
    DuplicateKey(String),
    #[error("missing key `{0}`")]
    MissingKey(&'static str),
    #[error("`{0}` and `{1}` cannot be used together")]
    ConflictingKeys(&'static str, &'static str),
    #[error("`{key}` must be {expected}")]
    WrongType {
        key: &'static str,
        expected: &'static str,
    },
    #[error("port {value} is outside {min}–{max}")]
    PortOutOfRange { value: i64, min: i64, max: i64 },
    #[error("reversed port range: {from} is greater than {to}")]
    ReversedRange { from: i64, to: i64 },
    #[error("`{0}` is not a port or a \"from-to\" range")]
    BadPortSyntax(String),
    #[error("unknown protocol `{0}`")]
    UnknownProtocol(String),
    #[error("ports given with an all-traffic protocol")]
    PortsWithAllTraffic,
    #[error("ports are required for protocol `{0}`")]
    MissingPorts(String),
    #[error("a range in `destination_port` cannot be combined with `to_port`")]
    RangeWithToPort,
    #[error("description is {0} characters long; AWS accepts at most 255")]
    DescriptionTooLong(usize),
    #[error("description contains {0:?}, which AWS rejects")]
    DescriptionBadChar(char),
    #[error("`{0}` is only supported by the aws_vpc_* output style")]
    UnsupportedKey(&'static str),
    #[error("`{key} = {reference}` is evaluated inside locals, where Terraform rejects it")]
    BareProvider {
        key: &'static str,
        reference: String,
    },
    #[error("`{0}` is not a provider reference")]
    BadProvider(String),
    #[error("`timeouts` is not an argument of the aws_vpc_* rules")]
    TimeoutsNeedDefaultStyle,
    #[error("`self` is for a connection from a group to itself")]
    SelfNeedsOneGroup,
    #[error(
        "`enabled` cannot be combined with a list expression of addresses in the aws_vpc_* style"
    )]
    EnabledWithForEach,
    #[error("mutualsg cannot see which keys each instance of this `for_each` carries")]
    ForEachNotVisible,
    #[error("`for_each` takes a map here, not a list")]
    ForEachNotMap,
    #[error("an instance of `for_each` must be an object of the keys that vary per instance")]
    InstanceNotObject,
    #[error("`{0}` cannot vary per instance")]
    NotPerInstance(String),
    #[error("`{0}` is given both in the connection and per instance")]
    GivenTwice(String),
    #[error("this instance lacks `{0}`, which other instances of `for_each` give")]
    InstanceLacksKey(String),
    #[error("`each.{0}` cannot be used inside locals")]
    EachInLocals(String),
    #[error("a port range cannot vary per instance in `destination_port`")]
    PerInstanceRange,
    #[error("all traffic cannot vary per instance")]
    PerInstanceAllTraffic,
    #[error("a per-instance protocol is written as given: `{given}` is spelt `{canonical}` by AWS")]
    PerInstanceSpelling { given: String, canonical: String },
    #[error("`{0}` cannot vary per instance in the aws_vpc_* style")]
    PerInstanceAddresses(String),
    #[error("`enabled` cannot be combined with `for_each`")]
    EnabledAndForEach,
    #[error(
        "`for_each` cannot be combined with a list expression of addresses in the aws_vpc_* style"
    )]
    ForEachWithAddressExpression,
    #[error(
        "`{key}` names the provider of a rule this connection does not write: its {side} is addresses"
    )]
    ProviderOfNoRule {
        key: &'static str,
        side: &'static str,
    },
    #[error("two connections produce the same AWS rule")]
    DuplicateRule,
    #[error("two connections are both named `{0}`")]
    NameCollision(String),
    #[error("`{0}` cannot be used as a resource name")]
    InvalidName(String),
    #[error("refusing to overwrite {0}: it was not generated by mutualsg")]
    NotGenerated(String),
    #[error("refusing to write through a symlink: {0}")]
    Symlink(String),
    #[error("{0} is not a regular file")]
    NotAFile(String),
    #[error("cannot write {path}: {error}")]
    WriteFailed { path: String, error: String },
    #[error("neither side of the connection is a security group")]
    NoGroup,
    #[error("`{0}` is an empty list")]
    EmptyList(&'static str),
    #[error("`{0}` is not a CIDR block")]
    InvalidCidr(String),
    #[error("`{cidr}` is the wrong address family for `{key}`")]
    WrongAddressFamily { cidr: String, key: &'static str },
    #[error("`{cidr}`: the prefix length must be at most {max}")]
    PrefixLengthOutOfRange { cidr: String, max: u32 },
    #[error("`{cidr}` is not a network address")]
    NotNetworkAddress { cidr: String, network: String },
    #[error("egress from {group} to {peer} re-opens egress to the whole internet")]
    OpenEgress { group: String, peer: String },
    #[error("{what} is left as it is: {reason}")]
    NotMigrated { what: String, reason: String },
    #[error("{what} is removed: the open egress of {group}, whose needed egress is now explicit")]
    EgressClosed {
        what: String,
        group: String,
        by_flow_logs: bool,
    },
    #[error(
        "the module's rules are aws_vpc_security_group_*_rule resources: migrated with style = \"{style}\", which this new .mutualsg.toml keeps"
    )]
    StyleKept { style: &'static str },
    #[error("the module call sets `tags`, which aws_security_group_rule cannot carry")]
    TagsNeedVpcStyle,
    #[error(
        "the style changed from {from} to {to}: {forgotten} resources are forgotten and {imported} imported, none destroyed"
    )]
    StyleSwitched {
        from: &'static str,
        to: &'static str,
        forgotten: usize,
        imported: usize,
    },
    #[error(
        "the style changed from {from} to {to}, which Terraform cannot do without replacing the rules: {reason}"
    )]
    StyleSwitchNotRoutable {
        from: &'static str,
        to: &'static str,
        reason: String,
        /// What the user can do, which depends on the reason.
        fix: String,
    },
    #[error("not a Terraform state: {0}")]
    BadState(String),
    #[error("{from} already moves to {to}")]
    MovedCollision { from: String, to: String },
    #[error(
        "the migration needs Terraform >= 1.{minor} ({kind} blocks), which required_version \"{constraint}\" excludes"
    )]
    TerraformTooOld {
        minor: u32,
        kind: &'static str,
        constraint: String,
    },
    #[error("invalid .mutualsg.toml: {0}")]
    BadConfig(String),
    #[error(
        "{group} would get {count} {direction} rules from this module; AWS allows 60 by default"
    )]
    TooManyRules {
        group: String,
        direction: &'static str,
        count: usize,
    },
    #[error("{group} has inline `ingress`/`egress` blocks, which fight the generated rules")]
    InlineRules { group: String },
    #[error(
        "{group} is managed by aws_vpc_security_group_rules_exclusive, which removes the generated rules"
    )]
    ExclusiveRules { group: String },
    /// A finding of `mutualsg audit`: one of the checks of [`crate::inventory::checks`],
    /// which gives its code, message, label and hint.
    #[error("{message}")]
    Finding {
        code: &'static str,
        message: String,
        label: &'static str,
        help: String,
        /// The tree cannot tell for sure: listed, never failing (unless `--strict`).
        unverified: bool,
    },
    #[error("`{directive}` suppresses nothing here")]
    UnmatchedSuppression { directive: String },
    #[error("baseline entry matches no finding any more: {entry}")]
    StaleBaseline { entry: String },
    #[error("cannot read baseline {path}: {error}")]
    BadBaseline { path: String, error: String },
    #[error("{0}")]
    Git(String),
    #[error("{0}")]
    Focus(String),
}

impl Problem {
    /// Warnings are printed but leave the exit code as it is.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            Problem::TooManyRules { .. }
                | Problem::InlineRules { .. }
                | Problem::ExclusiveRules { .. }
                | Problem::OpenEgress { .. }
                | Problem::NotMigrated { .. }
                | Problem::EgressClosed { .. }
                | Problem::StyleSwitched { .. }
                | Problem::StyleKept { .. }
                | Problem::TerraformTooOld { .. }
                | Problem::UnmatchedSuppression { .. }
                | Problem::StaleBaseline { .. }
        )
    }

    /// Findings listed for a reader to look at, which never fail a run: what the tree
    /// cannot confirm.
    pub fn is_note(&self) -> bool {
        matches!(
            self,
            Problem::Finding {
                unverified: true,
                ..
            }
        )
    }

    /// Findings of `mutualsg audit`: the input is valid Terraform, but the rules it declares
    /// are unsafe or broken. They fail an audit (exit 1), never `generate` or `check`.
    pub fn is_finding(&self) -> bool {
        matches!(self, Problem::Finding { .. })
    }

    /// A stable code, for searching the README and for machine-readable output.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::PathNotFound => "mutualsg::path_not_found",
            Problem::ReadFailed(_) => "mutualsg::read_failed",
            Problem::NotUtf8 => "mutualsg::not_utf8",
            Problem::Syntax(_) => "mutualsg::syntax",
            Problem::NestedTooDeeply(_) => "mutualsg::nested_too_deeply",
            Problem::DuplicateDefinition => "mutualsg::duplicate_definition",
            Problem::InOverrideFile => "mutualsg::override_file",
            Problem::NotLiteral => "mutualsg::not_literal",
            Problem::ConnectionNotObject => "mutualsg::connection_not_object",
            Problem::UnknownKey { .. } => "mutualsg::unknown_key",
            Problem::DuplicateKey(_) => "mutualsg::duplicate_key",
            Problem::MissingKey(_) => "mutualsg::missing_key",
            Problem::ConflictingKeys(..) => "mutualsg::conflicting_keys",
            Problem::WrongType { .. } => "mutualsg::wrong_type",
            Problem::PortOutOfRange { .. } => "mutualsg::port_out_of_range",
            Problem::ReversedRange { .. } => "mutualsg::reversed_range",
            Problem::BadPortSyntax(_) => "mutualsg::bad_port",
            Problem::UnknownProtocol(_) => "mutualsg::unknown_protocol",
            Problem::PortsWithAllTraffic => "mutualsg::ports_with_all_traffic",
            Problem::MissingPorts(_) => "mutualsg::missing_ports",
            Problem::RangeWithToPort => "mutualsg::range_with_to_port",
            Problem::DescriptionTooLong(_) => "mutualsg::description_too_long",
            Problem::DescriptionBadChar(_) => "mutualsg::description_bad_char",
            Problem::UnsupportedKey(_) => "mutualsg::unsupported_key",
            Problem::BareProvider { .. } => "mutualsg::bare_provider",
            Problem::BadProvider(_) => "mutualsg::bad_provider",
            Problem::TimeoutsNeedDefaultStyle => "mutualsg::timeouts_need_default_style",
            Problem::SelfNeedsOneGroup => "mutualsg::self_needs_one_group",
            Problem::EnabledWithForEach => "mutualsg::enabled_with_for_each",
            Problem::ForEachNotVisible => "mutualsg::for_each_not_visible",
            Problem::ForEachNotMap => "mutualsg::for_each_not_map",
            Problem::InstanceNotObject => "mutualsg::instance_not_object",
            Problem::NotPerInstance(_) => "mutualsg::not_per_instance",
            Problem::GivenTwice(_) => "mutualsg::given_twice",
            Problem::InstanceLacksKey(_) => "mutualsg::instance_lacks_key",
            Problem::EachInLocals(_) => "mutualsg::each_in_locals",
            Problem::PerInstanceRange => "mutualsg::per_instance_range",
            Problem::PerInstanceAllTraffic => "mutualsg::per_instance_all_traffic",
            Problem::PerInstanceSpelling { .. } => "mutualsg::per_instance_spelling",
            Problem::PerInstanceAddresses(_) => "mutualsg::per_instance_addresses",
            Problem::EnabledAndForEach => "mutualsg::enabled_and_for_each",
            Problem::ForEachWithAddressExpression => "mutualsg::for_each_with_address_expression",
            Problem::ProviderOfNoRule { .. } => "mutualsg::provider_of_no_rule",
            Problem::DuplicateRule => "mutualsg::duplicate_rule",
            Problem::NameCollision(_) => "mutualsg::name_collision",
            Problem::InvalidName(_) => "mutualsg::invalid_name",
            Problem::NotGenerated(_) => "mutualsg::not_generated",
            Problem::Symlink(_) => "mutualsg::symlink",
            Problem::NotAFile(_) => "mutualsg::not_a_file",
            Problem::WriteFailed { .. } => "mutualsg::write_failed",
            Problem::BadConfig(_) => "mutualsg::bad_config",
            Problem::NoGroup => "mutualsg::no_group",
            Problem::EmptyList(_) => "mutualsg::empty_list",
            Problem::InvalidCidr(_) => "mutualsg::invalid_cidr",
            Problem::WrongAddressFamily { .. } => "mutualsg::wrong_address_family",
            Problem::PrefixLengthOutOfRange { .. } => "mutualsg::prefix_length",
            Problem::NotNetworkAddress { .. } => "mutualsg::not_network_address",
            Problem::OpenEgress { .. } => "mutualsg::open_egress",
            Problem::NotMigrated { .. } => "mutualsg::not_migrated",
            Problem::EgressClosed { .. } => "mutualsg::egress_closed",
            Problem::StyleSwitched { .. } => "mutualsg::style_switched",
            Problem::StyleKept { .. } => "mutualsg::style_kept",
            Problem::StyleSwitchNotRoutable { .. } => "mutualsg::style_switch_not_routable",
            Problem::BadState(_) => "mutualsg::state",
            Problem::TagsNeedVpcStyle => "mutualsg::tags_need_vpc_style",
            Problem::MovedCollision { .. } => "mutualsg::moved_collision",
            Problem::TerraformTooOld { .. } => "mutualsg::terraform_too_old",
            Problem::TooManyRules { .. } => "mutualsg::too_many_rules",
            Problem::InlineRules { .. } => "mutualsg::inline_rules",
            Problem::ExclusiveRules { .. } => "mutualsg::exclusive_rules",
            Problem::Finding { code, .. } => code,
            Problem::UnmatchedSuppression { .. } => "mutualsg::audit::unmatched_suppression",
            Problem::StaleBaseline { .. } => "mutualsg::audit::stale_baseline",
            Problem::BadBaseline { .. } => "mutualsg::audit::bad_baseline",
            Problem::Git(_) => "mutualsg::git",
            Problem::Focus(_) => "mutualsg::focus",
        }
    }

    /// The text under the underlined source.
    pub fn label(&self) -> &'static str {
        match self {
            Problem::Syntax(_) => "here",
            Problem::NestedTooDeeply(_) => "one level too deep",
            Problem::DuplicateDefinition => "defined again here",
            Problem::InOverrideFile => "in an override file",
            Problem::NotLiteral => "not a literal list or object",
            Problem::ConnectionNotObject => "not an object",
            Problem::UnknownKey { .. } => "unknown key",
            Problem::DuplicateKey(_) => "given again here",
            Problem::MissingKey(_) => "in this connection",
            Problem::ConflictingKeys(..) => "conflicts",
            Problem::WrongType { .. } => "wrong type",
            Problem::SelfNeedsOneGroup => "two different sides",
            Problem::PortOutOfRange { .. } => "out of range",
            Problem::ReversedRange { .. } => "reversed range",
            Problem::BadPortSyntax(_) => "not a port",
            Problem::UnknownProtocol(_) => "unknown protocol",
            Problem::PortsWithAllTraffic => "all traffic covers every port",
            Problem::MissingPorts(_) => "in this connection",
            Problem::RangeWithToPort => "to_port given here",
            Problem::DescriptionTooLong(_) => "too long",
            Problem::DescriptionBadChar(_) => "rejected by AWS",
            Problem::UnsupportedKey(_) => "not supported here",
            Problem::ForEachNotVisible => "not a map of objects or an object `for`",
            Problem::ForEachNotMap => "a list",
            Problem::InstanceNotObject => "not an object",
            Problem::NotPerInstance(_) => "per instance",
            Problem::GivenTwice(_) => "given again per instance",
            Problem::InstanceLacksKey(_) => "in this instance",
            Problem::EachInLocals(_) => "inside locals",
            Problem::PerInstanceRange => "a range",
            Problem::PerInstanceAllTraffic => "all traffic",
            Problem::PerInstanceSpelling { .. } => "written as given",
            Problem::PerInstanceAddresses(_) => "per instance",
            Problem::EnabledAndForEach => "with for_each",
            Problem::ForEachWithAddressExpression => "with for_each",
            Problem::ProviderOfNoRule { .. } => "no rule",
            Problem::DuplicateRule => "same rule as another connection",
            Problem::NameCollision(_) => "name used again here",
            Problem::InvalidName(_) => "invalid name",
            Problem::BadConfig(_) => "invalid",
            Problem::NoGroup => "in this connection",
            Problem::EmptyList(_) => "empty",
            Problem::InvalidCidr(_) | Problem::PrefixLengthOutOfRange { .. } => {
                "invalid CIDR block"
            }
            Problem::WrongAddressFamily { .. } => "wrong family",
            Problem::NotNetworkAddress { .. } => "host bits set",
            Problem::OpenEgress { .. } => "open to the internet",
            Problem::NotMigrated { .. } => "left as it is",
            Problem::EgressClosed { .. } => "removed",
            Problem::TagsNeedVpcStyle => "module-wide tags",
            Problem::TerraformTooOld { .. } => "this constraint",
            Problem::TooManyRules { .. } => "the connection past the limit",
            Problem::InlineRules { .. } | Problem::ExclusiveRules { .. } => "declared here",
            Problem::Finding { label, .. } => label,
            Problem::UnmatchedSuppression { .. } => "suppresses nothing",
            _ => "here",
        }
    }

    pub fn help(&self) -> Option<String> {
        let text = match self {
            Problem::PathNotFound => "check the path; mutualsg takes directories and .tf/.tofu files".into(),
            Problem::ReadFailed(_) => "check that the file exists, is readable, and that a symlink leads to a file".into(),
            Problem::NotUtf8 => "Terraform reads only UTF-8: re-encode the file".into(),
            Problem::Syntax(_) => "fix the syntax; `terraform validate` reports it too".into(),
            Problem::NestedTooDeeply(_) => "Terraform reads it, but mutualsg's HCL parser stops here rather than run out of stack: flatten the expression, or move it to a file that does not mention mutual_rules".into(),
            Problem::DuplicateDefinition => "Terraform allows one `mutual_rules` local per module: merge the two lists".into(),
            Problem::InOverrideFile => "Terraform merges override files, mutualsg does not: move `mutual_rules` to a regular .tf file".into(),
            Problem::NotLiteral => "mutualsg expands rules statically: write the connections out as `[{ ... }, ...]` or `{ name = { ... } }`".into(),
            Problem::ConnectionNotObject => "write each connection as `{ source_sg_id = ..., target_sg_id = ..., ... }`".into(),
            Problem::UnknownKey { suggestion: Some(s), .. } => format!("did you mean `{s}`?"),
            Problem::UnknownKey { .. } => format!("known keys: {}", crate::schema::KNOWN_KEYS.join(", ")),
            Problem::DuplicateKey(_) => "remove one of the two".into(),
            Problem::MissingKey("source_sg_id") => "add `source_sg_id`: the group that opens the connection (it gets the egress rule)".into(),
            Problem::MissingKey("target_sg_id") => "add `target_sg_id`: the group that accepts the connection (it gets the ingress rule)".into(),
            Problem::MissingKey(key) => format!("add `{key}`"),
            Problem::ConflictingKeys("description", _) => "use either `description` for both rules, or `description_source` (ingress rule) and `description_target` (egress rule)".into(),
            Problem::ConflictingKeys(a, b) => format!("keep `{a}` or `{b}`, not both"),
            Problem::WrongType { key: "self", .. } => "write `self = false` (or leave it out for `self = true`): it decides how a rule is written, so it cannot be an expression".into(),
            Problem::WrongType { key: "style", .. } => "name the resource family of this connection's rules, as `style` in .mutualsg.toml does; it decides their resource types, so it cannot be an expression".into(),
            Problem::WrongType { key: "protocol", .. } => "use \"tcp\", \"udp\", \"icmp\", \"icmpv6\", \"all\", \"-1\" or an IP protocol number".into(),
            Problem::WrongType { .. } => "write a literal of the expected type, or an expression".into(),
            Problem::PortOutOfRange { min: -1, .. } => "ICMP types and codes are -1 (any) to 255".into(),
            Problem::PortOutOfRange { .. } => "TCP and UDP ports are 0 to 65535".into(),
            Problem::ReversedRange { to, from } => format!("write the range low to high: \"{to}-{from}\""),
            Problem::BadPortSyntax(_) => "write a port (443, \"443\") or a range (\"8000-8100\")".into(),
            Problem::UnknownProtocol(_) => "use \"tcp\", \"udp\", \"icmp\", \"icmpv6\", \"all\", \"-1\" or an IP protocol number 0–255".into(),
            Problem::PortsWithAllTraffic => "remove the ports: an all-traffic rule is written with from_port = 0 and to_port = 0".into(),
            Problem::MissingPorts(_) => "add `destination_port` (a port or \"from-to\" range) or `from_port` (with an optional `to_port`)".into(),
            Problem::RangeWithToPort => "write the range either as `destination_port = \"from-to\"` or as `from_port` and `to_port`".into(),
            Problem::DescriptionTooLong(_) => "shorten the description to 255 characters".into(),
            Problem::DescriptionBadChar(_) => "AWS allows only A-Za-z0-9, space and ._-:/()#,@[]+=&;{}!$*".into(),
            Problem::UnsupportedKey("tags") => "aws_security_group_rule has no tags: set `style = \"aws_vpc_security_group_rule\"` in .mutualsg.toml to generate the aws_vpc_* resources, which carry them".into(),
            Problem::UnsupportedKey(key) => format!("remove `{key}`"),
            Problem::BareProvider { key: "provider", reference } => format!("quote it: `provider = \"{reference}\"`; mutualsg writes it unquoted, as the meta-argument of both rules"),
            Problem::BareProvider { key, reference } => format!("quote it: `{key} = \"{reference}\"`; mutualsg writes it unquoted, as the rule's provider meta-argument"),
            Problem::BadProvider(_) => "write a provider's local name and optional alias, e.g. \"aws\" or \"aws.eu\"".into(),
            Problem::SelfNeedsOneGroup => "remove `self`: it only chooses how a rule from a group to itself names its peer (`self = false`: by the group's id)".into(),
            Problem::TimeoutsNeedDefaultStyle => "remove `timeouts`, or generate aws_security_group_rule (the default style), whose `timeouts` block has `create`".into(),
            Problem::EnabledWithForEach => "the rule for a list expression is written with for_each, which cannot be combined with count: list the addresses literally, or split the connection".into(),
            Problem::ForEachNotVisible => "write a map of objects (`{ http = { from_port = 80 } }`) or a `for` expression whose value is an object literal (`{ for k, v in var.ports : k => { from_port = v.port } }`): the rules read each.value.<key> for exactly the keys it names".into(),
            Problem::ForEachNotMap => "Terraform's for_each takes a map: key the instances by name, e.g. `{ for r in LIST : r.name => { from_port = r.port } }`".into(),
            Problem::InstanceNotObject => "write the instance as `{ from_port = 443, description = \"...\" }`".into(),
            Problem::NotPerInstance(key) => format!("give `{key}` in the connection, beside `for_each`: it is the same for every instance"),
            Problem::GivenTwice(_) => "remove one: a key in the connection holds for every instance, a key per instance is read as each.value.<key>".into(),
            Problem::InstanceLacksKey(key) => format!("Terraform reads each.value.{key} from every instance: give it here too, or once in the connection"),
            Problem::EachInLocals(_) => "Terraform rejects each.key and each.value in locals: give the connection a `for_each` whose objects carry the per-instance values; mutualsg writes each.value.<key> in the rules".into(),
            Problem::PerInstanceRange => "give `from_port` and `to_port` per instance: a per-instance value is copied as each.value.<key>, not split".into(),
            Problem::PerInstanceAllTraffic => "give all-traffic its own connection (`protocol = \"all\"`, no ports): its rules are written with other ports than the rest".into(),
            Problem::PerInstanceSpelling { canonical, .. } => format!("write {canonical}: mutualsg copies each.value.protocol as it is and cannot normalise it"),
            Problem::PerInstanceAddresses(_) => "each address is a resource of its own in the aws_vpc_* style: list the addresses in the connection, or give each set of addresses its own connection".into(),
            Problem::EnabledAndForEach => "Terraform takes count or for_each, not both: filter the instances instead, e.g. `{ for k, v in X : k => v if var.enabled }`".into(),
            Problem::ForEachWithAddressExpression => "the rules for a list expression are written with a for_each of their own: list the addresses literally".into(),
            Problem::ProviderOfNoRule { key, .. } => format!("remove `{key}`: a side given as addresses gets no rule"),
            Problem::DuplicateRule => "AWS identifies a rule by group, direction, protocol, ports and peer (InvalidPermission.Duplicate): remove one connection, or merge their descriptions".into(),
            Problem::NameCollision(_) => "give one of the connections an explicit `name = \"...\"` (or a different map key)".into(),
            Problem::InvalidName(_) => "use letters, digits and underscores".into(),
            Problem::NotGenerated(_) => "rename or remove the file, or add `mutual_rules` under another directory; mutualsg only replaces files whose first line is its header".into(),
            Problem::Symlink(_) => "replace the symlink with a regular file or remove it".into(),
            Problem::NotAFile(_) => "remove or rename it so mutualsg can write its file".into(),
            Problem::WriteFailed { .. } => "check the directory's permissions and free space".into(),
            Problem::NoGroup => "a rule belongs to a security group: give `source_sg_id` or `target_sg_id`".into(),
            Problem::EmptyList(_) => "list at least one CIDR block or prefix list, or remove the connection".into(),
            Problem::InvalidCidr(_) => "write a CIDR block such as \"10.0.0.0/16\" or \"2001:db8::/32\"".into(),
            Problem::WrongAddressFamily { key, .. } if key.contains("ipv6") => {
                format!("IPv4 blocks go in `{}`", key.replace("ipv6_", ""))
            }
            Problem::WrongAddressFamily { key, .. } => {
                format!("IPv6 blocks go in `{}`", key.replace("cidr_blocks", "ipv6_cidr_blocks"))
            }
            Problem::PrefixLengthOutOfRange { max, .. } => format!("use a prefix length from 0 to {max}"),
            Problem::NotNetworkAddress { network, .. } => format!("did you mean {network}?"),
            Problem::OpenEgress { .. } => "name the destinations instead: a CIDR block, a prefix list (S3 and DynamoDB gateway endpoints), or a security group".into(),
            Problem::StyleSwitched { .. } => "the removed and import blocks are in mutual_rules.migrate.tf (Terraform >= 1.7): review the plan, apply it, then delete that file".into(),
            Problem::StyleSwitchNotRoutable { fix, .. } => fix.clone(),
            Problem::BadState(_) => "pass the JSON of `terraform show -json`, run in the module's directory after `terraform apply` (the state, not a plan file)".into(),
            Problem::NotMigrated { .. } => "move it by hand, or leave it: mutualsg only migrates what it can move without a destroy".into(),
            Problem::EgressClosed { by_flow_logs: false, .. } => "the plan destroys it, the one intended destroy; with --without-flow-logs nothing proved the group sends nothing else: review before applying".into(),
            Problem::EgressClosed { by_flow_logs: true, .. } => "the plan destroys it, the one intended destroy; the flow logs show nothing the group sent that its explicit egress does not allow, in the time they cover".into(),
            Problem::StyleKept { .. } => "the rules move with moved blocks, same type, keeping their tags and count; `generate`, `check` and the pre-commit hook read .mutualsg.toml, so commit it with the migration (for aws_security_group_rule instead, set style = \"aws_security_group_rule\" in it before migrating)".into(),
            Problem::TagsNeedVpcStyle => "set `style = \"aws_vpc_security_group_rule\"` in .mutualsg.toml: the aws_vpc_* rules carry the tags (dropping them silently is not an option)".into(),
            Problem::MovedCollision { .. } => "remove the older moved block once it is applied, then migrate again".into(),
            Problem::TerraformTooOld { .. } => "raise required_version (and Terraform) before applying the migration".into(),
            Problem::BadConfig(_) => "the file holds `style = \"aws_security_group_rule\"` (default) or `style = \"aws_vpc_security_group_rule\"`".into(),
            Problem::TooManyRules { .. } => "ask AWS for a higher rules-per-group quota, or split the group; applies fail with RulesPerSecurityGroupLimitExceeded".into(),
            Problem::InlineRules { .. } => "move the inline rules into mutual_rules or separate rule resources: the AWS provider documents that inline and separate rules overwrite each other".into(),
            Problem::ExclusiveRules { .. } => "drop aws_vpc_security_group_rules_exclusive for this group, or list the generated rules in it".into(),
            Problem::Finding { help, .. } => help.clone(),
            Problem::UnmatchedSuppression { .. } => "put the comment on or directly above the rule, block or resource the finding points at, or remove it".into(),
            Problem::StaleBaseline { .. } => "the finding was fixed or moved: rewrite the baseline with `mutualsg audit --write-baseline FILE`".into(),
            Problem::BadBaseline { .. } => "write it with `mutualsg audit --write-baseline FILE`".into(),
            Problem::Git(_) => "`--since` takes a revision of the git repository the command runs in (`origin/main`, a commit); a shallow clone may lack it: fetch it first".into(),
            Problem::Focus(_) => "`--focus` takes a group's address (`aws_security_group.web`), or `DIR:ADDRESS` where several modules have one".into(),
        };
        Some(text)
    }
}

/// A [`Problem`] and where it happened.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Boxed: diagnostics travel in `Result`s, and a problem can be large.
    pub problem: Box<Problem>,
    /// The file the problem is about (for filesystem problems, the path only).
    pub path: PathBuf,
    /// The source and the span the problem points at, when there is one.
    pub source: Option<(Arc<SourceFile>, Range<usize>)>,
    /// A second place involved, e.g. the first of two duplicates.
    pub note: Option<Box<Note>>,
}

/// A second, labelled place in a diagnostic ("first defined here").
#[derive(Debug, Clone)]
pub struct Note {
    pub label: &'static str,
    pub file: Arc<SourceFile>,
    pub span: Range<usize>,
}

impl Diagnostic {
    /// A problem located in a source file.
    pub fn at(problem: Problem, file: &Arc<SourceFile>, span: Range<usize>) -> Self {
        Diagnostic {
            problem: Box::new(problem),
            path: file.path.clone(),
            source: Some((Arc::clone(file), span)),
            note: None,
        }
    }

    /// A problem about a path as a whole (a file that cannot be read or written).
    pub fn file(problem: Problem, path: &Path) -> Self {
        Diagnostic {
            problem: Box::new(problem),
            path: path.to_path_buf(),
            source: None,
            note: None,
        }
    }

    /// Adds a second labelled place.
    pub fn with_note(
        mut self,
        label: &'static str,
        file: &Arc<SourceFile>,
        span: Range<usize>,
    ) -> Self {
        self.note = Some(Box::new(Note {
            label,
            file: Arc::clone(file),
            span,
        }));
        self
    }

    /// 1-based line and column, when the diagnostic points into a source.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        self.source
            .as_ref()
            .map(|(file, span)| file.line_column(span.start))
    }

    /// The note, when it lies in another file than the main span (miette draws such a
    /// place as a related diagnostic rather than a second label).
    fn note_elsewhere(&self) -> Option<&Note> {
        let (file, _) = self.source.as_ref()?;
        self.note
            .as_deref()
            .filter(|note| !Arc::ptr_eq(&note.file, file))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.source.is_some() {
            write!(f, "{}", self.problem)
        } else {
            write!(f, "{}: {}", self.path.display(), self.problem)
        }
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn severity(&self) -> Option<miette::Severity> {
        Some(if self.problem.is_note() {
            miette::Severity::Advice
        } else if self.problem.is_warning() {
            miette::Severity::Warning
        } else {
            miette::Severity::Error
        })
    }

    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.problem.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem
            .help()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source
            .as_ref()
            .map(|(file, _)| file.as_ref() as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (file, span) = self.source.as_ref()?;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(self.problem.label().to_string()),
            to_source_span(span),
        )];
        if let Some(note) = &self.note
            && Arc::ptr_eq(&note.file, file)
        {
            labels.push(LabeledSpan::new_with_span(
                Some(note.label.to_string()),
                to_source_span(&note.span),
            ));
        }
        Some(Box::new(labels.into_iter()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        let note = self.note_elsewhere()?;
        Some(Box::new(std::iter::once(note as &dyn miette::Diagnostic)))
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.label)
    }
}

impl std::error::Error for Note {}

impl miette::Diagnostic for Note {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.file.as_ref())
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.to_string()),
            to_source_span(&self.span),
        ))))
    }
}

fn to_source_span(span: &Range<usize>) -> SourceSpan {
    (span.start, span.end.saturating_sub(span.start)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The indexed lookups give what a scan from the start of the file gives.
    #[test]
    fn line_index_agrees_with_a_scan() {
        let text = "a = 1\r\nbé = \"x\"\n\n  c {\n    d = 2\n  }\nlast";
        let file = SourceFile::new("main.tf", text);
        for offset in 0..=text.len() {
            let offset = floor_char_boundary(text, offset);
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let expected = (line, before[start..].chars().count() + 1);
            assert_eq!(file.line_column(offset), expected, "offset {offset}");
            for len in [0, 1, 5, 12] {
                let len = len.min(text.len() - offset);
                let span = SourceSpan::from((offset, len));
                for context in [0, 1, 2] {
                    let ours = file.read_span(&span, context, context).unwrap();
                    let theirs = text.read_span(&span, context, context).unwrap();
                    assert_eq!(ours.data(), theirs.data(), "{offset}+{len}, {context}");
                    assert_eq!(ours.span(), theirs.span());
                    assert_eq!(ours.line(), theirs.line());
                    assert_eq!(ours.line_count(), theirs.line_count());
                }
            }
        }
    }
}
