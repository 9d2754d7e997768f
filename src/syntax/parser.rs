//! A recursive-descent parser for HCL's native syntax as Terraform reads it.
//!
//! It follows Terraform's parser (`hclsyntax`) where the two could differ: newlines end an
//! attribute's value and separate object items, but are ignored inside parentheses, brackets,
//! function arguments, interpolations and `for` expressions; a key may be given twice in an
//! object; a heredoc ends only at a line holding its marker alone; an attribute may not be
//! given twice in one body; a block's `{` is on its header's line, its `}` on a line of its
//! own. Each error is reported where Terraform reports it, with Terraform's summary.
//!
//! It reads every byte once and never backtracks more than one token's trivia, so its time
//! is linear in the input. Recursion is bounded by [`MAX_DEPTH`] nested expressions.

use rustc_hash::FxHashSet;
use std::ops::Range;

use compact_str::CompactString;

use super::tree::{
    Attribute, BinaryOperator, Block, Body, Call, Expr, ExprKind, ForExpr, Heredoc, Ident, Label,
    ObjectItem, ObjectKey, Operation, Step, TemplateFor, TemplatePart, Traversal, UnaryOperator,
};

/// Expressions nested deeper than this are refused, so that input like 100,000 `[` cannot
/// overflow the stack. Terraform has no such limit; real code nests a handful of levels.
pub const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub kind: ErrorKind,
    /// Terraform's summary of the error, e.g. "Missing newline after argument".
    pub message: &'static str,
    /// The offending character (empty at the end of the file).
    pub span: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ErrorKind {
    /// Terraform rejects the file too.
    Syntax,
    /// Past [`MAX_DEPTH`]: Terraform reads it, mutualsg does not.
    TooDeep,
}

type Parsed<T> = Result<T, SyntaxError>;

/// `list`, holding no more room than its elements: a tree is kept for the whole run, and a
/// list grown one push at a time holds up to twice the room it needs (four steps for a
/// traversal of one).
fn exact<T>(list: Vec<T>) -> Vec<T> {
    if list.capacity() == list.len() {
        return list;
    }
    let mut exact = Vec::with_capacity(list.len());
    exact.extend(list);
    exact
}

impl Body {
    fn exact(self) -> Body {
        Body {
            attributes: exact(self.attributes),
            blocks: exact(self.blocks),
        }
    }
}

/// How a top-level block of a type is read, for a reader that needs only some of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Parsed.
    Whole,
    /// Passed over: left out of the tree.
    Skipped,
    /// Parsed, but the value of each of its attributes is [`ExprKind::Deferred`], for
    /// [`parse_deferred`] to read when it is needed; except an attribute whose text (name
    /// and value, comments included) holds one of these, which is parsed.
    Deferred(&'static [&'static str]),
    /// Parsed when its text (comments included) holds one of these, else skipped.
    Mentioning(&'static [&'static str]),
}

/// Parses a whole file, and gives its comments' spans too. `invalid_utf8`: the offsets of bytes
/// that were not UTF-8 (ascending), which Terraform accepts inside comments only.
/// `reading`: how each top-level block is read, by its type (`None`: every one whole).
///
/// A block that is skipped, or an attribute that is deferred, is scanned only for where it
/// ends (strings, heredocs, interpolations and comments respected), not checked: a syntax
/// error inside one is reported only when the scan itself fails (then it is parsed, and the
/// error is the whole parse's).
pub fn parse(
    text: &str,
    invalid_utf8: &[usize],
    reading: Option<fn(&str) -> Reading>,
) -> Parsed<(Body, Vec<Range<usize>>)> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        comments: Vec::new(),
        reading,
    };
    let parsed = parser.body(None);
    // The comments are known up to where the parse stopped; an invalid byte outside them,
    // before that point, is the first error.
    let stopped = parsed
        .as_ref()
        .err()
        .map_or(text.len(), |error| error.span.start);
    let outside = invalid_utf8
        .iter()
        .copied()
        .find(|&at| at < stopped && !parser.comments.iter().any(|comment| comment.contains(&at)));
    match outside {
        Some(at) => Err(parser.error_at(at, "Invalid character encoding")),
        None => parsed.map(|body| (body, parser.comments)),
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    /// Every comment's span, in order (kept for the bytes that are not UTF-8).
    comments: Vec<Range<usize>>,
    /// How each top-level block is read (`None`: every one whole).
    reading: Option<fn(&str) -> Reading>,
}

/// Whether `text` holds `needle`: a block's text is short, and a searcher built for each
/// would cost more than the search.
fn holds(text: &[u8], needle: &[u8]) -> bool {
    let Some((&first, _)) = needle.split_first() else {
        return true;
    };
    memchr::memchr_iter(first, text).any(|at| text[at..].starts_with(needle))
}

/// Which bytes end a run of plain text in a context: the rest are passed over without
/// a look at each, a file being mostly such runs.
type Stops = [bool; 256];

const fn stops(bytes: &[u8]) -> Stops {
    let mut table = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
}

/// What ends plain text in a quoted string.
const QUOTED_STOPS: Stops = stops(b"\"\n\r\\$%");
/// What ends plain text in a heredoc's line.
const HEREDOC_STOPS: Stops = stops(b"\n\r$%");
/// What the skimmer must look at: trivia, strings, heredocs and brackets.
const SKIM_STOPS: Stops = stops(b" \t\r\n#/\"<([{)]}");

/// Where the first byte of `bytes` from `from` that `stops` names is (the end if none).
fn run_end(bytes: &[u8], from: usize, stops: &Stops) -> usize {
    bytes[from..]
        .iter()
        .position(|&byte| stops[usize::from(byte)])
        .map_or(bytes.len(), |at| from + at)
}

/// Parses the expression a deferred attribute's value spans in `text` (see [`Reading`]).
pub fn parse_deferred(text: &str, span: Range<usize>) -> Parsed<Expr> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: span.start,
        depth: 0,
        comments: Vec::new(),
        reading: None,
    };
    let expr = parser.expr(false)?;
    if expr.span.end != span.end {
        return Err(parser.error_at(expr.span.end, "Missing newline after argument"));
    }
    Ok(expr)
}

/// After `for` in an expression or a template directive: `k, v in coll`.
struct ForIntro {
    key_var: Option<Ident>,
    value_var: Ident,
    collection: Expr,
}

/// A template as read, before its directives are nested.
enum Token {
    Literal(String),
    /// `${…}` or `%{…}`; `~` after the opening or before the closing brace.
    Part {
        piece: Piece,
        strip_before: bool,
        strip_after: bool,
    },
}

enum Piece {
    Interpolation(Expr),
    If(Expr),
    Else,
    EndIf,
    For(ForIntro),
    EndFor,
}

/// `<<-`: removes from the first token of each line the fewest leading spaces of any line
/// (a line of spaces only is not counted), as Terraform does.
fn flush_indentation(tokens: &mut [Token]) {
    let mut fewest = usize::MAX;
    let mut adjust = Vec::new();
    let mut line_start = true;
    for (at, token) in tokens.iter().enumerate() {
        if line_start {
            line_start = false;
            let spaces = match token {
                Token::Literal(text) => {
                    let trimmed = text.trim_start();
                    if trimmed.is_empty() && text.ends_with('\n') {
                        usize::MAX
                    } else {
                        adjust.push(at);
                        text[..text.len() - trimmed.len()].chars().count()
                    }
                }
                Token::Part { .. } => 0,
            };
            fewest = fewest.min(spaces);
        }
        if let Token::Literal(text) = token {
            line_start = text.ends_with('\n');
        }
    }
    if fewest == usize::MAX {
        return;
    }
    for at in adjust {
        if let Token::Literal(text) = &mut tokens[at] {
            let cut = text
                .char_indices()
                .nth(fewest)
                .map_or(text.len(), |(byte, _)| byte);
            text.replace_range(..cut, "");
        }
    }
}

/// Applies the `~` strip markers and nests the directives (the parser has checked that they
/// pair up).
fn template_parts(mut tokens: Vec<Token>) -> Vec<TemplatePart> {
    for at in 0..tokens.len() {
        let Token::Part {
            strip_before,
            strip_after,
            ..
        } = tokens[at]
        else {
            continue;
        };
        if strip_before
            && at > 0
            && let Token::Literal(text) = &mut tokens[at - 1]
        {
            text.truncate(text.trim_end().len());
        }
        if strip_after && let Some(Token::Literal(text)) = tokens.get_mut(at + 1) {
            let cut = text.len() - text.trim_start().len();
            text.replace_range(..cut, "");
        }
    }
    // The parts being filled, and the directives open around them.
    let mut current: Vec<TemplatePart> = Vec::new();
    let mut open: Vec<(Piece, Option<Vec<TemplatePart>>, Vec<TemplatePart>)> = Vec::new();
    for token in tokens {
        let piece = match token {
            Token::Literal(text) => {
                if let Some(TemplatePart::Literal(last)) = current.last_mut() {
                    last.push_str(&text);
                } else if !text.is_empty() {
                    current.push(TemplatePart::Literal(text));
                }
                continue;
            }
            Token::Part { piece, .. } => piece,
        };
        match piece {
            Piece::Interpolation(expr) => current.push(TemplatePart::Interpolation(expr)),
            piece @ (Piece::If(_) | Piece::For(_)) => {
                open.push((piece, None, std::mem::take(&mut current)));
            }
            Piece::Else => {
                if let Some((_, then, _)) = open.last_mut() {
                    *then = Some(std::mem::take(&mut current));
                }
            }
            Piece::EndIf | Piece::EndFor => {
                let Some((opening, then, outer)) = open.pop() else {
                    continue;
                };
                let inner = std::mem::replace(&mut current, outer);
                current.push(match opening {
                    Piece::For(intro) => TemplatePart::For(Box::new(TemplateFor {
                        key_var: intro.key_var,
                        value_var: intro.value_var,
                        collection: intro.collection,
                        body: inner,
                    })),
                    Piece::If(condition) => match then {
                        Some(then) => TemplatePart::If {
                            condition: Box::new(condition),
                            then,
                            otherwise: inner,
                        },
                        None => TemplatePart::If {
                            condition: Box::new(condition),
                            then: inner,
                            otherwise: Vec::new(),
                        },
                    },
                    _ => continue,
                });
            }
        }
    }
    exact(current)
}

/// Where a template's directives stand: `%{ if }` may take one `%{ else }`.
#[derive(Clone, Copy, PartialEq)]
enum Directive {
    If,
    Else,
    For,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn looking_at(&self, text: &str) -> bool {
        self.bytes[self.pos..].starts_with(text.as_bytes())
    }

    /// The length of the newline here (`\n` or `\r\n`), if there is one.
    fn newline(&self) -> Option<usize> {
        match (self.peek(), self.at(1)) {
            (Some(b'\n'), _) => Some(1),
            (Some(b'\r'), Some(b'\n')) => Some(2),
            _ => None,
        }
    }

    fn error_at(&self, at: usize, message: &'static str) -> SyntaxError {
        let end = self.text[at..]
            .chars()
            .next()
            .map_or(at, |c| at + c.len_utf8());
        SyntaxError {
            kind: ErrorKind::Syntax,
            message,
            span: at..end,
        }
    }

    fn error(&self, message: &'static str) -> SyntaxError {
        self.error_at(self.pos, message)
    }

    /// An error at a character that cannot start what was expected: Terraform names the
    /// characters that HCL never uses.
    fn unexpected(&self, expected: &'static str) -> SyntaxError {
        let message = match self.peek() {
            Some(b'&' | b'|' | b'^' | b'~') => "Unsupported operator",
            Some(b'\'' | b';' | b'`' | b'\r' | b'@' | b'\\') => "Invalid character",
            Some(byte) if byte < b' ' && byte != b'\t' && byte != b'\n' => "Invalid character",
            _ => expected,
        };
        self.error(message)
    }

    fn enter(&mut self) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let mut error = self.error("Nested too deeply");
            error.kind = ErrorKind::TooDeep;
            return Err(error);
        }
        Ok(())
    }

    /// Skips spaces, tabs and comments, and newlines too where Terraform ignores them.
    fn skip(&mut self, newlines: bool) -> Parsed<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\n' | b'\r') if newlines && self.newline().is_some() => {
                    self.pos += self.newline().unwrap_or(1);
                }
                Some(b'#') => self.skip_line_comment(),
                Some(b'/') if self.at(1) == Some(b'/') => self.skip_line_comment(),
                Some(b'/') if self.at(1) == Some(b'*') => {
                    // Unterminated: left for the caller, which reports what it expected here,
                    // as Terraform does.
                    let Some(end) = memchr::memmem::find(&self.bytes[self.pos + 2..], b"*/") else {
                        return Ok(());
                    };
                    self.comment(self.pos..self.pos + 2 + end + 2);
                }
                _ => return Ok(()),
            }
        }
    }

    /// To the end of the line; the newline (and a `\r` before it) is left to end the item.
    fn skip_line_comment(&mut self) {
        let rest = &self.bytes[self.pos..];
        let mut end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        if end > 0 && rest[end - 1] == b'\r' && end < rest.len() {
            end -= 1;
        }
        self.comment(self.pos..self.pos + end);
    }

    /// Skips a comment, noting its span (once: trivia is sometimes skipped twice).
    fn comment(&mut self, span: Range<usize>) {
        if self
            .comments
            .last()
            .is_none_or(|last| last.start < span.start)
        {
            self.comments.push(span.clone());
        }
        self.pos = span.end;
    }

    fn char_here(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    /// A name: a letter or `_`, then letters, digits, `_` and `-` (Unicode letters too).
    fn ident(&mut self) -> Option<Ident> {
        let start = self.pos;
        let first = self.char_here()?;
        if !(first == '_' || unicode_ident::is_xid_start(first)) {
            return None;
        }
        self.pos += first.len_utf8();
        loop {
            // ASCII names are read a byte at a time; other characters decoded.
            while let Some(byte) = self.peek() {
                if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
                    self.pos += 1;
                } else {
                    break;
                }
            }
            match self.char_here() {
                Some(c) if !c.is_ascii() && unicode_ident::is_xid_continue(c) => {
                    self.pos += c.len_utf8();
                }
                _ => break,
            }
        }
        Some(Ident {
            text: CompactString::from(&self.text[start..self.pos]),
            span: start..self.pos,
        })
    }

    /// `word` here as a whole name (`for`, not `format`).
    fn keyword(&self, word: &str) -> bool {
        self.looking_at(word)
            && self.text[self.pos + word.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c == '-' || unicode_ident::is_xid_continue(c)))
    }

    // --- structure ---------------------------------------------------------------------

    /// The items of a file (`open` is `None`) or of a block opened at `open`, up to its `}`.
    fn body(&mut self, open: Option<usize>) -> Parsed<Body> {
        let mut body = Body::default();
        // Names seen, once a body has more attributes than a scan is cheap for.
        let mut names: FxHashSet<CompactString> = FxHashSet::default();
        loop {
            self.skip(true)?;
            match (self.peek(), open) {
                (None, None) => return Ok(body.exact()),
                (None, Some(open)) => {
                    return Err(self.error_at(open, "Unclosed configuration block"));
                }
                (Some(b'}'), Some(_)) => return Ok(body.exact()),
                _ => {}
            }
            if self.peek() == Some(b'"') {
                return Err(self.error("Invalid argument name"));
            }
            let Some(name) = self.ident() else {
                return Err(self.unexpected("Argument or block definition required"));
            };
            self.skip(false)?;
            if self.peek() == Some(b'=') && self.at(1) != Some(b'=') {
                self.pos += 1;
                let value = self.expr(false)?;
                let seen = if body.attributes.len() < 8 {
                    body.has_attribute(&name.text)
                } else {
                    if names.is_empty() {
                        names.extend(body.attributes.iter().map(|a| a.name.text.clone()));
                    }
                    !names.insert(name.text.clone())
                };
                if seen {
                    return Err(self.error_at(name.span.start, "Attribute redefined"));
                }
                body.attributes.push(Attribute { name, value });
                self.end_of_line("Missing newline after argument")?;
            } else {
                let reading = match (open, self.reading) {
                    (None, Some(reading)) => reading(&name.text),
                    _ => Reading::Whole,
                };
                match reading {
                    Reading::Whole => body.blocks.push(self.block(name)?),
                    Reading::Deferred(needles) => {
                        body.blocks.push(self.deferred_block(name, needles)?);
                    }
                    Reading::Skipped | Reading::Mentioning(_) => {
                        let skimmed = self.skim_block();
                        let text = &self.bytes[name.span.start..self.pos];
                        let wanted = match reading {
                            Reading::Mentioning(needles) => {
                                needles.iter().any(|needle| holds(text, needle.as_bytes()))
                            }
                            _ => false,
                        };
                        // Read again, whole, when it is wanted, or to report its error where
                        // the parser does (its comments are noted once).
                        if wanted || skimmed.is_err() {
                            self.pos = name.span.end;
                            self.skip(false)?;
                            body.blocks.push(self.block(name)?);
                        }
                    }
                }
                self.end_of_line("Missing newline after block definition")?;
            }
        }
    }

    /// Past a block's labels and its body, to after its `}`.
    fn skim_block(&mut self) -> Parsed<()> {
        self.labels()?;
        self.pos += 1;
        self.skim(Some(b'}'))
    }

    /// A block whose attributes' values are left unparsed: each is [`ExprKind::Deferred`],
    /// spanning the expression, unless its text holds one of `needles`. Its nested blocks
    /// are parsed.
    fn deferred_block(&mut self, kind: Ident, needles: &[&str]) -> Parsed<Block> {
        let labels = self.labels()?;
        let open = self.pos;
        self.pos += 1;
        let mut body = Body::default();
        loop {
            self.skip(true)?;
            match self.peek() {
                None => return Err(self.error_at(open, "Unclosed configuration block")),
                Some(b'}') => break,
                _ => {}
            }
            let Some(name) = self.ident() else {
                return Err(self.unexpected("Argument or block definition required"));
            };
            self.skip(false)?;
            if self.peek() == Some(b'=') && self.at(1) != Some(b'=') {
                self.pos += 1;
                self.skip(false)?;
                let start = self.pos;
                let skimmed = self.skim(None);
                let text = &self.bytes[name.span.start..self.pos];
                let wanted = needles.iter().any(|needle| holds(text, needle.as_bytes()));
                let value = if skimmed.is_ok() && !wanted {
                    Expr {
                        span: start..self.pos,
                        kind: ExprKind::Deferred,
                    }
                } else {
                    // Parsed when wanted, or to report its error where the parser does.
                    self.pos = start;
                    self.expr(false)?
                };
                body.attributes.push(Attribute { name, value });
            } else {
                body.blocks.push(self.block(name)?);
            }
            self.skip(false)?;
            if self.peek() != Some(b'}') {
                self.end_of_line("Missing newline after argument")?;
            }
        }
        self.pos += 1;
        let start = kind.span.start;
        Ok(Block {
            kind,
            labels,
            body: body.exact(),
            span: start..self.pos,
        })
    }

    /// Moves past what is open here without building it. `close`: the bracket that closes
    /// it (`}` of a block or an interpolation), moved past too; `None`: an attribute's value,
    /// which ends at a newline outside brackets (or at the `}` of a one-line block), left
    /// at the end of its last token. Strings, heredocs, interpolations and comments are
    /// read as the parser reads them, so a bracket inside one does not count.
    fn skim(&mut self, close: Option<u8>) -> Parsed<()> {
        let mut open: Vec<u8> = close.into_iter().collect();
        let mut end = self.pos;
        loop {
            let Some(byte) = self.peek() else {
                return match open.first() {
                    None => Ok(()),
                    Some(_) => Err(self.error("Unclosed configuration block")),
                };
            };
            match byte {
                // Indentation, a run at a time.
                b' ' | b'\t' | b'\r' => {
                    self.pos += 1;
                    while let Some(b' ' | b'\t') = self.peek() {
                        self.pos += 1;
                    }
                }
                b'\n' if open.is_empty() => break,
                b'\n' => self.pos += 1,
                b'#' | b'/' => {
                    let before = self.pos;
                    self.skip(false)?;
                    if self.pos == before {
                        // A `/` that starts no comment, or an unterminated `/*`.
                        self.pos += 1;
                        end = self.pos;
                    }
                }
                b'"' => {
                    self.skim_quoted()?;
                    end = self.pos;
                }
                b'<' if self.at(1) == Some(b'<') => {
                    self.skim_heredoc()?;
                    end = self.pos;
                }
                b'(' | b'[' | b'{' => {
                    open.push(match byte {
                        b'(' => b')',
                        b'[' => b']',
                        _ => b'}',
                    });
                    self.pos += 1;
                    end = self.pos;
                }
                b')' | b']' | b'}' => match open.last() {
                    Some(&expected) if expected == byte => {
                        open.pop();
                        self.pos += 1;
                        end = self.pos;
                        if open.is_empty() && close.is_some() {
                            return Ok(());
                        }
                    }
                    // The `}` of a one-line block.
                    None if byte == b'}' => break,
                    _ => return Err(self.unexpected("Invalid expression")),
                },
                // A `<` that starts no heredoc, then the plain text after it.
                _ => {
                    self.pos = run_end(self.bytes, self.pos + 1, &SKIM_STOPS);
                    end = self.pos;
                }
            }
        }
        self.pos = end;
        Ok(())
    }

    /// Moves past a quoted string, its interpolations and directives included.
    fn skim_quoted(&mut self) -> Parsed<()> {
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(self.error("Unterminated template string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\n' | b'\r') => return Err(self.error("Invalid multi-line string")),
                Some(b'\\') => self.pos += 2,
                Some(b'$' | b'%') => self.skim_template_part()?,
                Some(_) => self.pos = run_end(self.bytes, self.pos, &QUOTED_STOPS),
            }
        }
    }

    /// At a `$` or `%` of a template: moves past `${…}` or `%{…}`, or the escape `$${` or
    /// `%%{`, or the character alone.
    fn skim_template_part(&mut self) -> Parsed<()> {
        let byte = self.peek();
        if self.at(1) == byte && self.at(2) == Some(b'{') {
            self.pos += 3;
        } else if self.at(1) == Some(b'{') {
            self.pos += 2;
            self.skim(Some(b'}'))?;
        } else {
            self.pos += 1;
        }
        Ok(())
    }

    /// Moves past a heredoc, to the end of its closing marker.
    fn skim_heredoc(&mut self) -> Parsed<()> {
        let (marker, _) = self.heredoc_intro()?;
        loop {
            if let Some(end) = self.heredoc_end(&marker.text) {
                self.pos = end;
                return Ok(());
            }
            loop {
                match self.peek() {
                    None => return Err(self.error("Unterminated template string")),
                    Some(b'\n') => {
                        self.pos += 1;
                        break;
                    }
                    Some(b'\r') if self.at(1) != Some(b'\n') => {
                        return Err(self.error("Invalid character"));
                    }
                    Some(b'$' | b'%') => self.skim_template_part()?,
                    Some(_) => self.pos = run_end(self.bytes, self.pos + 1, &HEREDOC_STOPS),
                }
            }
        }
    }

    /// After an item: a newline or the end of the file, with only spaces and comments before.
    fn end_of_line(&mut self, message: &'static str) -> Parsed<()> {
        self.skip(false)?;
        match self.newline() {
            Some(length) => {
                self.pos += length;
                Ok(())
            }
            None if self.peek().is_none() => Ok(()),
            None => Err(self.unexpected(message)),
        }
    }

    fn block(&mut self, kind: Ident) -> Parsed<Block> {
        let labels = self.labels()?;
        let open = self.pos;
        self.pos += 1;
        self.skip(false)?;
        let body = if self.newline().is_some() || self.peek().is_none() {
            self.body(Some(open))?
        } else if self.peek() == Some(b'}') {
            Body::default()
        } else {
            self.single_line_body()?
        };
        // At the closing brace.
        self.pos += 1;
        let start = kind.span.start;
        Ok(Block {
            kind,
            labels,
            body,
            span: start..self.pos,
        })
    }

    /// Past a block's type: its labels, up to its `{`.
    fn labels(&mut self) -> Parsed<Vec<Label>> {
        let mut labels = Vec::new();
        loop {
            match self.peek() {
                Some(b'{') => break,
                Some(b'"') => {
                    let start = self.pos;
                    let label = self.quoted()?;
                    let ExprKind::String(value) = label.kind else {
                        return Err(self.error_at(start, "Invalid string literal"));
                    };
                    labels.push(Label {
                        value,
                        span: label.span,
                    });
                }
                _ => match self.ident() {
                    Some(ident) => labels.push(Label {
                        value: ident.text.into(),
                        span: ident.span,
                    }),
                    None if labels.is_empty() && self.peek() != Some(b'\n') => {
                        return Err(self.unexpected("Argument or block definition required"));
                    }
                    None => return Err(self.unexpected("Invalid block definition")),
                },
            }
            self.skip(false)?;
        }
        Ok(exact(labels))
    }

    /// `name { key = value }`: one attribute, on the block's line.
    fn single_line_body(&mut self) -> Parsed<Body> {
        let Some(name) = self.ident() else {
            return Err(self.unexpected("Argument definition required"));
        };
        self.skip(false)?;
        if !(self.peek() == Some(b'=') && self.at(1) != Some(b'=')) {
            return Err(self.unexpected("Argument definition required"));
        }
        self.pos += 1;
        let value = self.expr(false)?;
        self.skip(false)?;
        if self.peek() != Some(b'}') {
            return Err(self.unexpected("Invalid single-argument block definition"));
        }
        Ok(Body {
            attributes: vec![Attribute { name, value }],
            blocks: Vec::new(),
        })
    }

    // --- expressions -------------------------------------------------------------------

    /// An expression; `newlines` where Terraform ignores them (inside brackets and the like).
    fn expr(&mut self, newlines: bool) -> Parsed<Expr> {
        self.enter()?;
        let parsed = self.conditional(newlines);
        self.depth -= 1;
        parsed
    }

    fn conditional(&mut self, newlines: bool) -> Parsed<Expr> {
        let condition = self.binary(newlines, 0)?;
        self.skip(newlines)?;
        if self.peek() != Some(b'?') {
            return Ok(condition);
        }
        self.pos += 1;
        let then = self.expr(newlines)?;
        self.skip(newlines)?;
        if self.peek() != Some(b':') {
            return Err(self.unexpected("Missing false expression in conditional"));
        }
        self.pos += 1;
        let otherwise = self.expr(newlines)?;
        Ok(Expr {
            span: condition.span.start..otherwise.span.end,
            kind: ExprKind::Conditional(Box::new([condition, then, otherwise])),
        })
    }

    /// A binary operator here: which, its precedence (0 binds loosest) and length.
    fn binary_operator(&self) -> Option<(BinaryOperator, u8, usize)> {
        use BinaryOperator as B;
        let two = (self.peek()?, self.at(1));
        Some(match two {
            (b'|', Some(b'|')) => (B::Or, 0, 2),
            (b'&', Some(b'&')) => (B::And, 1, 2),
            (b'=', Some(b'=')) => (B::Equal, 2, 2),
            (b'!', Some(b'=')) => (B::NotEqual, 2, 2),
            (b'<', Some(b'=')) => (B::LessOrEqual, 3, 2),
            (b'>', Some(b'=')) => (B::GreaterOrEqual, 3, 2),
            (b'<', _) => (B::Less, 3, 1),
            (b'>', _) => (B::Greater, 3, 1),
            (b'+', _) => (B::Add, 4, 1),
            (b'-', _) => (B::Subtract, 4, 1),
            (b'*', _) => (B::Multiply, 5, 1),
            (b'%', _) => (B::Modulo, 5, 1),
            (b'/', next) if !matches!(next, Some(b'/' | b'*')) => (B::Divide, 5, 1),
            _ => return None,
        })
    }

    /// Operators of precedence `min` and above, left to right (precedence climbing: the
    /// recursion is bounded by the number of levels, not by the length of the chain).
    /// The chain is kept flat (`a + b - c` is `a` then `+ b`, `- c`), so that 100,000 `+ 1`
    /// make a shallow tree: each operand binds tighter than the operators around it.
    fn binary(&mut self, newlines: bool, min: u8) -> Parsed<Expr> {
        let first = self.unary(newlines)?;
        let mut rest = Vec::new();
        loop {
            self.skip(newlines)?;
            let Some((operator, level, length)) = self.binary_operator() else {
                break;
            };
            if level < min {
                break;
            }
            self.pos += length;
            rest.push((operator, self.binary(newlines, level + 1)?));
        }
        Ok(match rest.last() {
            None => first,
            Some((_, last)) => Expr {
                span: first.span.start..last.span.end,
                kind: ExprKind::Operation(Box::new(Operation::Binary {
                    first,
                    rest: exact(rest),
                })),
            },
        })
    }

    fn unary(&mut self, newlines: bool) -> Parsed<Expr> {
        self.skip(newlines)?;
        let start = self.pos;
        let negative = match self.peek() {
            Some(b'-') => true,
            Some(b'!') => false,
            _ => return self.term(newlines),
        };
        self.pos += 1;
        self.enter()?;
        let operand = self.unary(newlines);
        self.depth -= 1;
        let operand = operand?;
        let span = start..operand.span.end;
        let kind = match operand.kind {
            ExprKind::Number(int) if negative => ExprKind::Number(int.and_then(i64::checked_neg)),
            _ => ExprKind::Operation(Box::new(Operation::Unary {
                operator: if negative {
                    UnaryOperator::Negate
                } else {
                    UnaryOperator::Not
                },
                operand,
            })),
        };
        Ok(Expr { span, kind })
    }

    fn term(&mut self, newlines: bool) -> Parsed<Expr> {
        let start = self.pos;
        let base = match self.peek() {
            Some(b'"') => self.quoted()?,
            Some(b'<') if self.at(1) == Some(b'<') => self.heredoc()?,
            Some(b'0'..=b'9') => self.number()?,
            Some(b'(') => {
                self.pos += 1;
                let inner = self.expr(true)?;
                self.skip(true)?;
                if self.peek() != Some(b')') {
                    return Err(self.unexpected("Unbalanced parentheses"));
                }
                self.pos += 1;
                Expr {
                    span: start..self.pos,
                    kind: ExprKind::Parenthesis(Box::new(inner)),
                }
            }
            Some(b'[') => self.tuple()?,
            Some(b'{') => self.object()?,
            None => return Err(self.error("Missing expression")),
            _ => match self.ident() {
                Some(name) => self.named(name, newlines)?,
                None => return Err(self.unexpected("Invalid expression")),
            },
        };
        self.traversals(base, newlines)
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    /// A `.` followed by a digit: a fraction here.
    fn fraction_follows(&self) -> bool {
        self.peek() == Some(b'.') && matches!(self.at(1), Some(b'0'..=b'9'))
    }

    /// Reads `e3`, `E+3`, `e-3` if it is here; says whether it was.
    fn exponent(&mut self) -> bool {
        let sign = usize::from(matches!(self.at(1), Some(b'+' | b'-')));
        let here = matches!(self.peek(), Some(b'e' | b'E'))
            && matches!(self.at(1 + sign), Some(b'0'..=b'9'));
        if here {
            self.pos += 1 + sign;
            self.digits();
        }
        here
    }

    fn number(&mut self) -> Parsed<Expr> {
        let start = self.pos;
        self.digits();
        let mut integer = true;
        if self.fraction_follows() {
            self.pos += 1;
            self.digits();
            integer = false;
            // Terraform reads `20.0.0` as one malformed number.
            if self.fraction_follows() {
                return Err(self.error_at(start, "Invalid number literal"));
            }
        }
        if self.exponent() {
            integer = false;
        }
        let int = integer
            .then(|| self.text[start..self.pos].parse::<i64>().ok())
            .flatten();
        Ok(Expr {
            span: start..self.pos,
            kind: ExprKind::Number(int),
        })
    }

    /// After a name: a keyword, a function call (`f(…)`, `provider::p::f(…)`) or a variable.
    fn named(&mut self, name: Ident, newlines: bool) -> Parsed<Expr> {
        let start = name.span.start;
        let after_name = self.pos;
        self.skip(newlines)?;
        let call = self.peek() == Some(b'(') || self.looking_at("::");
        if !call {
            self.pos = after_name;
            let kind = match name.text.as_str() {
                "null" => ExprKind::Null,
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                _ => ExprKind::Variable(name.text),
            };
            return Ok(Expr {
                span: name.span,
                kind,
            });
        }
        let mut function = name;
        while self.looking_at("::") {
            self.pos += 2;
            self.skip(newlines)?;
            let Some(part) = self.ident() else {
                return Err(self.unexpected("Missing function name"));
            };
            function.text.push_str("::");
            function.text.push_str(&part.text);
            function.span.end = part.span.end;
            self.skip(newlines)?;
        }
        if self.peek() != Some(b'(') {
            return Err(self.unexpected("Missing open parenthesis"));
        }
        let open = self.pos;
        self.pos += 1;
        let mut args = Vec::new();
        let mut expand_final = false;
        loop {
            self.skip(true)?;
            if self.peek() == Some(b')') {
                break;
            }
            args.push(self.expr(true)?);
            self.skip(true)?;
            if self.looking_at("...") {
                self.pos += 3;
                expand_final = true;
                self.skip(true)?;
                if self.peek() != Some(b')') {
                    return Err(self.unexpected("Missing closing parenthesis"));
                }
                break;
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => break,
                None => return Err(self.error_at(open, "Unterminated function call")),
                Some(_) => return Err(self.unexpected("Missing argument separator")),
            }
        }
        self.pos += 1;
        Ok(Expr {
            span: start..self.pos,
            kind: ExprKind::Call(Box::new(Call {
                name: function,
                args: exact(args),
                expand_final,
            })),
        })
    }

    /// `.name`, `.0`, `.*`, `[index]` and `[*]` after a term.
    fn traversals(&mut self, base: Expr, newlines: bool) -> Parsed<Expr> {
        let mut end = base.span.end;
        let mut steps = Vec::new();
        loop {
            let before = self.pos;
            self.skip(newlines)?;
            let step_start = self.pos;
            match self.peek() {
                Some(b'.') if self.at(1) != Some(b'.') => {
                    self.pos += 1;
                    // `var. name` and, where newlines are ignored, `var.` at a line's end.
                    self.skip(newlines)?;
                    match self.peek() {
                        Some(b'*') => {
                            self.pos += 1;
                            steps.push(Step::Splat {
                                full: false,
                                span: step_start..self.pos,
                            });
                        }
                        Some(b'0'..=b'9') => {
                            // A legacy index is a number token: `a.0`, `a.5e3`; `a.0.1` is `a`
                            // and the number `0.1`, which Terraform refuses.
                            let digits_start = self.pos;
                            self.digits();
                            let digits_end = self.pos;
                            if self.fraction_follows() {
                                return Err(self.error("Invalid legacy index syntax"));
                            }
                            let exponent = self.exponent();
                            let index = (!exponent)
                                .then(|| self.text[digits_start..digits_end].parse().ok())
                                .flatten();
                            steps.push(Step::LegacyIndex {
                                index,
                                span: step_start..self.pos,
                            });
                        }
                        _ => {
                            let Some(name) = self.ident() else {
                                return Err(self.unexpected("Invalid attribute name"));
                            };
                            steps.push(Step::Attribute(name));
                        }
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    self.skip(true)?;
                    let key = if self.peek() == Some(b'*') {
                        self.pos += 1;
                        None
                    } else {
                        Some(self.expr(true)?)
                    };
                    self.skip(true)?;
                    if self.peek() != Some(b']') {
                        // Terraform reports it where its recovery stops: at the `]` that
                        // closes the index, or the end of the file.
                        let at = self.closing(b']');
                        return Err(self.error_at(at, "Missing close bracket on index"));
                    }
                    self.pos += 1;
                    let span = step_start..self.pos;
                    steps.push(match key {
                        Some(key) => Step::Index {
                            key: Box::new(key),
                            span,
                        },
                        None => Step::Splat { full: true, span },
                    });
                }
                _ => {
                    self.pos = before;
                    break;
                }
            }
            end = self.pos;
        }
        Ok(if steps.is_empty() {
            base
        } else {
            Expr {
                span: base.span.start..end,
                kind: ExprKind::Traversal(Box::new(Traversal {
                    base,
                    steps: exact(steps),
                })),
            }
        })
    }

    /// Where `close` closes what is open here, brackets nested inside (and strings and
    /// comments) skipped; the end of the file if nothing does. Only for locating an error.
    fn closing(&self, close: u8) -> usize {
        let mut depth = 0usize;
        let mut at = self.pos;
        while at < self.bytes.len() {
            match self.bytes[at] {
                b'"' => {
                    at += 1;
                    while at < self.bytes.len() && !matches!(self.bytes[at], b'"' | b'\n') {
                        at += if self.bytes[at] == b'\\' { 2 } else { 1 };
                    }
                }
                b'#' => {
                    at = memchr::memchr(b'\n', &self.bytes[at..])
                        .map_or(self.bytes.len(), |end| at + end);
                }
                b'(' | b'[' | b'{' => depth += 1,
                byte @ (b')' | b']' | b'}') => {
                    if depth == 0 {
                        return if byte == close { at } else { self.bytes.len() };
                    }
                    depth -= 1;
                }
                _ => {}
            }
            at += 1;
        }
        self.bytes.len()
    }

    fn tuple(&mut self) -> Parsed<Expr> {
        let open = self.pos;
        self.pos += 1;
        self.skip(true)?;
        if self.keyword("for") {
            return self.for_expr(open, b']');
        }
        let mut elements = Vec::new();
        loop {
            self.skip(true)?;
            // At the end of the file here, Terraform misses an expression.
            if self.peek() == Some(b']') {
                break;
            }
            elements.push(self.expr(true)?);
            self.skip(true)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => break,
                None => return Err(self.unterminated(open)),
                Some(_) => return Err(self.unexpected("Missing item separator")),
            }
        }
        self.pos += 1;
        Ok(Expr {
            span: open..self.pos,
            kind: ExprKind::Tuple(exact(elements)),
        })
    }

    fn unterminated(&self, open: usize) -> SyntaxError {
        let message = if self.bytes[open] == b'[' {
            "Unterminated tuple constructor expression"
        } else {
            "Unterminated object constructor expression"
        };
        self.error_at(open, message)
    }

    fn object(&mut self) -> Parsed<Expr> {
        let open = self.pos;
        self.pos += 1;
        self.skip(true)?;
        if self.keyword("for") {
            return self.for_expr(open, b'}');
        }
        let mut items = Vec::new();
        loop {
            self.skip(true)?;
            // At the end of the file here, Terraform misses an expression.
            if self.peek() == Some(b'}') {
                break;
            }
            let key_expr = self.expr(false)?;
            let key_span = key_expr.span.clone();
            let (key, key_expr) = match key_expr.kind {
                ExprKind::Variable(name) => (ObjectKey::Ident(name), None),
                ExprKind::String(value) => (ObjectKey::String(value.into()), None),
                _ => (ObjectKey::Expr, Some(Box::new(key_expr))),
            };
            self.skip(false)?;
            match self.peek() {
                Some(b'=') if self.at(1) != Some(b'=') => self.pos += 1,
                Some(b':') => self.pos += 1,
                None => return Err(self.unterminated(open)),
                Some(b'\n' | b'\r' | b'}') => return Err(self.error("Missing attribute value")),
                Some(_) => return Err(self.unexpected("Missing key/value separator")),
            }
            let value = self.expr(false)?;
            items.push(ObjectItem {
                key,
                key_span,
                key_expr,
                value,
            });
            self.skip(false)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => break,
                None => return Err(self.unterminated(open)),
                Some(_) => match self.newline() {
                    Some(length) => self.pos += length,
                    None => return Err(self.unexpected("Missing attribute separator")),
                },
            }
        }
        self.pos += 1;
        Ok(Expr {
            span: open..self.pos,
            kind: ExprKind::Object(exact(items)),
        })
    }

    /// `[for k, v in coll : value if cond]` and `{for k, v in coll : key => value... if
    /// cond}`, from the keyword `for` to the closing bracket. Newlines are ignored throughout.
    /// After `for`, in an expression or a template directive: `k, v in coll` (newlines
    /// ignored), up to the end of the collection.
    fn for_intro(&mut self, invalid: &'static str) -> Parsed<ForIntro> {
        self.skip(true)?;
        let Some(first) = self.ident() else {
            return Err(self.unexpected(invalid));
        };
        self.skip(true)?;
        let (key_var, value_var) = if self.peek() == Some(b',') {
            self.pos += 1;
            self.skip(true)?;
            let Some(second) = self.ident() else {
                return Err(self.unexpected(invalid));
            };
            self.skip(true)?;
            (Some(first), second)
        } else {
            (None, first)
        };
        if !self.keyword("in") {
            return Err(self.unexpected(invalid));
        }
        self.pos += 2;
        let collection = self.expr(true)?;
        Ok(ForIntro {
            key_var,
            value_var,
            collection,
        })
    }

    fn for_expr(&mut self, open: usize, close: u8) -> Parsed<Expr> {
        const INVALID: &str = "Invalid 'for' expression";
        self.pos += 3;
        let intro = self.for_intro(INVALID)?;
        self.skip(true)?;
        if self.peek() != Some(b':') {
            return Err(self.unexpected(INVALID));
        }
        self.pos += 1;
        let first = self.expr(true)?;
        self.skip(true)?;
        let mut grouping = false;
        let (key, value) = if close == b'}' {
            if !self.looking_at("=>") {
                return Err(self.unexpected(INVALID));
            }
            self.pos += 2;
            let value = self.expr(true)?;
            self.skip(true)?;
            if self.looking_at("...") {
                self.pos += 3;
                grouping = true;
                self.skip(true)?;
            }
            (Some(first), value)
        } else {
            (None, first)
        };
        let mut condition = None;
        if self.keyword("if") {
            self.pos += 2;
            condition = Some(self.expr(true)?);
            self.skip(true)?;
        }
        match self.peek() {
            Some(byte) if byte == close => {}
            _ => return Err(self.unexpected(INVALID)),
        }
        self.pos += 1;
        Ok(Expr {
            span: open..self.pos,
            kind: ExprKind::For(Box::new(ForExpr {
                key_var: intro.key_var,
                value_var: intro.value_var,
                collection: intro.collection,
                key,
                value,
                grouping,
                condition,
            })),
        })
    }

    // --- templates ---------------------------------------------------------------------

    /// `"…"`: a literal string (escapes decoded) or a template.
    fn quoted(&mut self) -> Parsed<Expr> {
        let start = self.pos;
        self.pos += 1;
        let mut literal = String::new();
        // Only once a `${…}` or `%{…}` is seen.
        let mut tokens = Vec::new();
        let mut directives = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("Unterminated template string"));
            };
            match byte {
                b'"' => break,
                // A carriage return too, even one that ends no line.
                // Where the line ends, which may be lines below the quote (a comment inside
                // an interpolation), as Terraform reports it.
                b'\n' | b'\r' => return Err(self.error("Invalid multi-line string")),
                b'\\' => literal.push(self.escape()?),
                // `$${` and `%%{` are written `${` and `%{`.
                b'$' | b'%' if self.at(1) == Some(byte) && self.at(2) == Some(b'{') => {
                    self.pos += 3;
                    literal.push(char::from(byte));
                    literal.push('{');
                }
                b'$' | b'%' if self.at(1) == Some(b'{') => {
                    let token = self.template_part(&mut directives)?;
                    if !literal.is_empty() {
                        tokens.push(Token::Literal(std::mem::take(&mut literal)));
                    }
                    tokens.push(token);
                }
                // A `$` or `%` that starts nothing, then the plain text after it.
                _ => {
                    let end = run_end(self.bytes, self.pos + 1, &QUOTED_STOPS);
                    literal.push_str(&self.text[self.pos..end]);
                    self.pos = end;
                }
            }
        }
        self.end_of_template(&directives)?;
        self.pos += 1;
        let kind = if tokens.is_empty() {
            ExprKind::String(literal)
        } else {
            if !literal.is_empty() {
                tokens.push(Token::Literal(literal));
            }
            ExprKind::Template(template_parts(tokens))
        };
        Ok(Expr {
            span: start..self.pos,
            kind,
        })
    }

    /// `\n`, `\"`, `\u00e9`… in a quoted string.
    fn escape(&mut self) -> Parsed<char> {
        let start = self.pos;
        self.pos += 1;
        let simple = match self.peek() {
            Some(b'n') => Some('\n'),
            Some(b'r') => Some('\r'),
            Some(b't') => Some('\t'),
            Some(b'"') => Some('"'),
            Some(b'\\') => Some('\\'),
            _ => None,
        };
        if let Some(c) = simple {
            self.pos += 1;
            return Ok(c);
        }
        let digits = match self.peek() {
            Some(b'u') => 4,
            Some(b'U') => 8,
            _ => return Err(self.error_at(start, "Invalid escape sequence")),
        };
        let hex = self
            .text
            .get(self.pos + 1..self.pos + 1 + digits)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()));
        let c = hex
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32)
            .ok_or_else(|| self.error_at(start, "Invalid escape sequence"))?;
        self.pos += 1 + digits;
        Ok(c)
    }

    /// `${…}` or `%{…}` here (the caller has seen the `{`).
    fn template_part(&mut self, directives: &mut Vec<(Directive, usize)>) -> Parsed<Token> {
        let open = self.pos;
        let interpolation = self.peek() == Some(b'$');
        self.pos += 2;
        let strip_before = self.peek() == Some(b'~');
        if strip_before {
            self.pos += 1;
        }
        self.enter()?;
        let piece = if interpolation {
            Piece::Interpolation(self.expr(true)?)
        } else {
            self.directive(open, directives)?
        };
        self.depth -= 1;
        self.skip(true)?;
        let strip_after = self.peek() == Some(b'~');
        if strip_after {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'}') => self.pos += 1,
            None if interpolation => {
                return Err(self.error_at(open, "Unclosed template interpolation sequence"));
            }
            None => return Err(self.error_at(open, "Unclosed template directive")),
            Some(_) if interpolation => {
                return Err(self.unexpected("Extra characters after interpolation expression"));
            }
            Some(_) => return Err(self.unexpected("Extra characters in template directive")),
        }
        Ok(Token::Part {
            piece,
            strip_before,
            strip_after,
        })
    }

    /// The inside of `%{ … }`: `if cond`, `else`, `endif`, `for k, v in coll`, `endfor`.
    fn directive(
        &mut self,
        open: usize,
        directives: &mut Vec<(Directive, usize)>,
    ) -> Parsed<Piece> {
        self.skip(true)?;
        let Some(word) = self.ident() else {
            return Err(self.unexpected("Invalid template directive"));
        };
        // The directives nest in the tree: bounded like nested expressions.
        if matches!(word.text.as_str(), "if" | "for") && directives.len() >= MAX_DEPTH {
            let mut error = self.error_at(open, "Nested too deeply");
            error.kind = ErrorKind::TooDeep;
            return Err(error);
        }
        Ok(match word.text.as_str() {
            "if" => {
                let condition = self.expr(true)?;
                directives.push((Directive::If, open));
                Piece::If(condition)
            }
            "else" => match directives.last_mut() {
                Some((directive @ Directive::If, _)) => {
                    *directive = Directive::Else;
                    Piece::Else
                }
                _ => return Err(self.error_at(open, "Unexpected else directive")),
            },
            "endif" => match directives.pop() {
                Some((Directive::If | Directive::Else, _)) => Piece::EndIf,
                _ => return Err(self.error_at(open, "Unexpected endif directive")),
            },
            "for" => {
                let intro = self.for_intro("Invalid 'for' directive")?;
                directives.push((Directive::For, open));
                Piece::For(intro)
            }
            "endfor" => match directives.pop() {
                Some((Directive::For, _)) => Piece::EndFor,
                _ => return Err(self.error_at(open, "Unexpected endfor directive")),
            },
            _ => return Err(self.error_at(word.span.start, "Invalid template directive")),
        })
    }

    fn end_of_template(&self, directives: &[(Directive, usize)]) -> Parsed<()> {
        match directives.last() {
            Some(&(_, open)) => Err(self.error_at(open, "Unexpected end of template")),
            None => Ok(()),
        }
    }

    /// `<<EOT` or `<<-EOT`, a newline, lines of template, and a line holding `EOT` alone
    /// (spaces around it allowed) followed by a newline. The span ends after the marker.
    fn heredoc(&mut self) -> Parsed<Expr> {
        let start = self.pos;
        let (marker, flush) = self.heredoc_intro()?;
        let mut directives = Vec::new();
        // One literal per line at most, as Terraform's scanner gives them: the indentation
        // of `<<-` is counted on the first token of each line.
        let mut tokens = Vec::new();
        loop {
            // At the start of a line.
            if let Some(end) = self.heredoc_end(&marker.text) {
                self.end_of_template(&directives)?;
                self.pos = end;
                if flush {
                    flush_indentation(&mut tokens);
                }
                return Ok(Expr {
                    span: start..end,
                    kind: ExprKind::Heredoc(Box::new(Heredoc {
                        marker: marker.text.to_string(),
                        flush,
                        parts: template_parts(tokens),
                    })),
                });
            }
            let mut literal_start = self.pos;
            let mut literal = String::new();
            loop {
                match self.peek() {
                    None => return Err(self.error("Unterminated template string")),
                    Some(b'\n') => {
                        self.pos += 1;
                        literal.push_str(&self.text[literal_start..self.pos]);
                        tokens.push(Token::Literal(literal));
                        break;
                    }
                    Some(b'\r') if self.at(1) != Some(b'\n') => {
                        return Err(self.error("Invalid character"));
                    }
                    Some(byte @ (b'$' | b'%'))
                        if self.at(1) == self.peek() && self.at(2) == Some(b'{') =>
                    {
                        literal.push_str(&self.text[literal_start..self.pos]);
                        literal.push(char::from(byte));
                        literal.push('{');
                        self.pos += 3;
                        literal_start = self.pos;
                    }
                    Some(b'$' | b'%') if self.at(1) == Some(b'{') => {
                        literal.push_str(&self.text[literal_start..self.pos]);
                        if !literal.is_empty() {
                            tokens.push(Token::Literal(std::mem::take(&mut literal)));
                        }
                        let token = self.template_part(&mut directives)?;
                        tokens.push(token);
                        literal_start = self.pos;
                    }
                    Some(_) => self.pos = run_end(self.bytes, self.pos + 1, &HEREDOC_STOPS),
                }
            }
        }
    }

    /// `<<EOT` or `<<-EOT` and the newline after it: the marker, and whether it is `<<-`.
    fn heredoc_intro(&mut self) -> Parsed<(Ident, bool)> {
        let start = self.pos;
        self.pos += 2;
        let flush = self.peek() == Some(b'-');
        if flush {
            self.pos += 1;
        }
        let Some(marker) = self.ident() else {
            return Err(self.error_at(start, "Invalid expression"));
        };
        let Some(length) = self.newline() else {
            return Err(self.error_at(start, "Invalid expression"));
        };
        self.pos += length;
        Ok((marker, flush))
    }

    /// Where the marker ends, if this line holds it alone and a newline follows.
    fn heredoc_end(&self, marker: &str) -> Option<usize> {
        let line_end = memchr::memchr(b'\n', &self.bytes[self.pos..])? + self.pos;
        let line = self.text[self.pos..line_end].trim_end_matches('\r');
        let trimmed = line.trim_start_matches([' ', '\t']);
        let after = trimmed.strip_prefix(marker)?;
        after.trim_matches([' ', '\t']).is_empty().then(|| {
            let marker_start = self.pos + (line.len() - trimmed.len());
            marker_start + marker.len()
        })
    }
}
