//! Canonical formatting of a single HCL expression, byte-for-byte as `terraform fmt` prints it.
//!
//! `terraform fmt` is hclwrite's token formatter (hashicorp/hcl `hclwrite/format.go`) applied to
//! the whole file, plus one rewrite done by terraform itself (`internal/command/fmt.go`):
//! a top-level attribute value that is a single `"${ ... }"` interpolation is unwrapped.
//!
//! hclwrite never builds a syntax tree to format: it works on the flat token stream of the file,
//! split into lines, and only ever changes the number of spaces before each token. So this
//! module does the same:
//!
//! 1. `Lexer` reproduces the token stream of hclsyntax's scanner (`scan_tokens.rl`), including
//!    its quirks (number literals such as `1.2.3`, identifiers containing `-`, heredoc end
//!    markers that must fill their line, `~}` always closing a template sequence, ...).
//! 2. `unwrap_interpolation` is terraform's `formatValueExpr`, repeated until nothing changes
//!    (terraform itself unwraps `"${"${x}"}"` one level per run; we give the settled result).
//! 3. The expression is placed after a synthetic `key =` at the requested indentation, and
//!    `format_tokens` runs hclwrite's three passes (indentation by bracket nesting, spacing
//!    between tokens, alignment of `=` and trailing comments over runs of lines).
//! 4. The tokens after `key = ` are printed.
//!
//! Because the formatting is a pure function of the tokens, whatever whitespace and indentation
//! the expression had where it was copied from is irrelevant, except inside heredoc bodies and
//! multi-line `/* */` comments, which terraform never re-indents either.
//!
//! Anything the lexer cannot tokenize, or whose brackets do not balance, is returned unchanged
//! (with CRLF turned into LF): `terraform fmt` refuses to touch such files too.
//!
//! # Deliberate differences from `terraform fmt`
//!
//! - Output is LF only; terraform keeps CRLF (also inside heredocs and comments, where we
//!   convert it too).
//! - Where terraform's unwrap of `"${ ... }"` yields a file that no longer parses (a line break
//!   left outside all brackets, see `unwrap_interpolation`), we parenthesize instead.
//! - Nested `"${"${x}"}"` is unwrapped all the way, as repeated terraform runs would.
//!
//! # Limits
//!
//! - Only the value is formatted. Aligning `key =` with neighbouring attributes, and a trailing
//!   comment on the value's first line with comments on neighbouring lines, is the caller's
//!   business; [`format_value_for_key`] handles alignment with the value's own later lines.
//! - terraform's rewrite of `type` in `variable` blocks (`list` to `list(any)`, `"string"` to
//!   `string`) is not done: the value is assumed to be an ordinary attribute.
//! - Column widths for alignment count Unicode grapheme clusters approximately (combining marks,
//!   emoji modifiers, ZWJ sequences and flags are handled; e.g. Hangul jamo sequences are not).
//! - An odd `indent` is honoured literally, although terraform would re-indent that line.
//! - terraform bugs we cannot undo are not reproduced either: it deletes `true`, `false` and
//!   `null` used as index keys (`x[null]` becomes `x[]`); and a heredoc whose interpolation
//!   spans lines makes it dedent the lines that follow the value (our continuation lines
//!   match terraform's, but the enclosing block's closing lines will move).

/// Formats the source text of one HCL expression (exactly as sliced from a user's .tf file, no
/// surrounding whitespace) as `terraform fmt` would print it when it is the value of a top-level
/// attribute of a block body whose attribute lines are indented by `indent` spaces
/// (e.g. `  key = VALUE` inside `resource "x" "y" { ... }` gives indent = 2).
///
/// The returned text is what follows `key = ` on the first line; continuation lines carry their
/// full indentation. Line endings are LF only. Spaces, tabs and line breaks around the
/// expression are ignored.
///
/// The attribute name only matters in one rare situation: when the first line of a multi-line
/// value ends with a `#`/`//` comment and the next line does too, terraform aligns those
/// comments, and the first one's column depends on the name's width. This function assumes a
/// one-character name; use [`format_value_for_key`] when the name is known.
pub fn format_value(expr_text: &str, indent: usize) -> String {
    format_value_for_key("k", expr_text, indent)
}

/// Like [`format_value`], for the attribute named `key` (only its display width matters).
pub fn format_value_for_key(key: &str, expr_text: &str, indent: usize) -> String {
    let normalized = to_lf(expr_text);
    match try_format(key, &normalized, indent) {
        Some(formatted) => formatted,
        None => normalized,
    }
}

/// Turns CRLF (and any run of CRs before an LF) into LF, so that output never contains CRLF.
/// terraform itself keeps CRLF line endings; our output goes into LF files.
fn to_lf(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_cr = 0;
    for c in text.chars() {
        match c {
            '\r' => pending_cr += 1,
            '\n' => {
                pending_cr = 0;
                out.push('\n');
            }
            _ => {
                out.extend(std::iter::repeat_n('\r', pending_cr));
                pending_cr = 0;
                out.push(c);
            }
        }
    }
    out.extend(std::iter::repeat_n('\r', pending_cr));
    out
}

/// The whole pipeline; `None` when the text cannot be tokenized or is not bracket-balanced.
fn try_format(key: &str, expr: &str, indent: usize) -> Option<String> {
    if expr.trim().is_empty() || key.is_empty() {
        return None;
    }
    // In the user's file the expression was followed by a line break; a heredoc's end marker
    // is only recognised when a newline follows it, so lex with one appended.
    let mut src = String::with_capacity(expr.len() + 1);
    src.push_str(expr);
    src.push('\n');
    let mut value = Lexer::new(&src).run()?;
    if !brackets_balance(&value) {
        return None;
    }

    // Line breaks around the expression are not part of it (spaces are skipped by the lexer,
    // except after a heredoc's end marker, where they belong to the marker line as in
    // terraform). That includes the appended one, so terraform's unwrap sees only the
    // expression's tokens; the line break that ends the attribute is put back afterwards,
    // unless a trailing `#` comment already carries it.
    while value.last().is_some_and(|t| t.kind == Kind::Newline) {
        value.pop();
    }
    let leading = value.iter().take_while(|t| t.kind == Kind::Newline).count();
    value.drain(..leading);
    let terminator = match value.last() {
        None => return None,
        Some(last) if ends_line(last) => None,
        Some(_) => Some(Token::new(Kind::Newline, "\n")),
    };
    // terraform unwraps one level per run, so `"${"${x}"}"` needs two runs to settle; go
    // straight to the fixed point so that terraform leaves our output alone.
    loop {
        let before = value.len();
        value = unwrap_interpolation(value);
        if value.len() == before {
            break;
        }
    }

    // Synthetic attribute line: `key = <value>` + the line break that ends the attribute.
    let mut tokens = Vec::with_capacity(value.len() + 3);
    tokens.push(Token::new(Kind::Ident, key));
    tokens.push(Token::new(Kind::Equal, "="));
    tokens.extend(value);
    tokens.extend(terminator);

    format_tokens(&mut tokens, indent);
    let mut out = keep_tokens_apart(&mut tokens);
    // Drop the line break that ends the attribute (the one we appended).
    if out.ends_with('\n') {
        out.pop();
    }
    Some(out)
}

/// Prints the value (the tokens after `key =`) with the spacing [`format_tokens`] chose, except
/// where that spacing joins two tokens into an operator or comment that reads back
/// differently: `!` then `=>` printed as `!=>` reads back as `!=` then `>`. Only invalid HCL
/// gets there, but formatting must still be a fixed point, so such a token keeps one space
/// before it. Digits joined into a number are left as terraform prints them (`a . 0 . 1`
/// becomes `a.0.1`, which hclsyntax reads as the same legacy index traversal) and format the
/// same again.
fn keep_tokens_apart(tokens: &mut [Token]) -> String {
    let print = |tokens: &[Token]| {
        let mut out = String::new();
        for (i, token) in tokens.iter().enumerate().skip(2) {
            if i > 2 {
                out.extend(std::iter::repeat_n(' ', token.spaces_before));
            }
            out.push_str(&token.text);
        }
        out
    };
    // Each round separates one joined pair, left to right.
    for _ in 2..tokens.len() {
        let out = print(tokens);
        let Some(read_back) = Lexer::new(&out).run() else {
            return out;
        };
        let joined = tokens[2..]
            .iter()
            .zip(&read_back)
            .position(|(ours, read)| ours.text != read.text)
            .map(|i| i + 2);
        match joined {
            Some(i)
                if i + 1 < tokens.len()
                    && tokens[i + 1].spaces_before == 0
                    && !matches!(read_back[i - 2].kind, Kind::Number | Kind::Ident)
                    && read_back[i - 2].text.len() > tokens[i].text.len()
                    && read_back[i - 2].text.starts_with(&tokens[i].text) =>
            {
                tokens[i + 1].spaces_before = 1;
            }
            _ => return out,
        }
    }
    print(tokens)
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

/// Token types of hclsyntax that matter to the formatter. Tokens that can never appear in a
/// valid configuration (`&`, `;`, a lone `~`, raw newlines in quoted strings, ...) make the
/// lexer give up instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Number,
    /// `# ...\n`, `// ...\n` (both include their newline) or `/* ... */`.
    Comment,
    Newline,
    EqualOp,
    NotEqual,
    GreaterEq,
    LessEq,
    And,
    Or,
    DoubleColon,
    Ellipsis,
    FatArrow,
    OBrack,
    CBrack,
    OParen,
    CParen,
    OBrace,
    CBrace,
    Dot,
    Comma,
    Star,
    Slash,
    Percent,
    Plus,
    Minus,
    Equal,
    Less,
    Greater,
    Bang,
    Question,
    Colon,
    /// Opening `"` of a quoted template.
    OQuote,
    /// Closing `"` of a quoted template.
    CQuote,
    /// Literal text (with escapes) inside a quoted template.
    QuotedLit,
    /// `${` or `${~`.
    TemplateInterp,
    /// `%{` or `%{~`.
    TemplateControl,
    /// `}` or `~}` closing an interpolation or directive.
    TemplateSeqEnd,
    /// `<<EOT\n` or `<<-EOT\n`, newline included.
    OHeredoc,
    /// Literal text of a heredoc body.
    StringLit,
    /// The heredoc's end-marker line, with its indentation but without its newline.
    CHeredoc,
    /// Stand-in for "no token" at the start of a line (hclwrite's `TokenNil`).
    Nil,
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    text: String,
    /// Spaces printed before the token; entirely recomputed by [`format_tokens`].
    spaces_before: usize,
}

impl Token {
    fn new(kind: Kind, text: &str) -> Token {
        Token {
            kind,
            text: text.to_string(),
            spaces_before: 0,
        }
    }
}

/// hclwrite's `tokenBracketChange`: template sequence openers count as brackets too.
fn bracket_change(kind: Kind) -> i64 {
    match kind {
        Kind::OBrace
        | Kind::OBrack
        | Kind::OParen
        | Kind::TemplateControl
        | Kind::TemplateInterp => 1,
        Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd => -1,
        _ => 0,
    }
}

/// hclwrite's `tokenIsNewline`: single-line comments carry their own line break.
fn ends_line(token: &Token) -> bool {
    match token.kind {
        Kind::Newline => true,
        Kind::Comment => token.text.ends_with('\n'),
        _ => false,
    }
}

/// A balanced expression never closes more than it opened; anything else is not something
/// terraform would format, and the indentation pass would misbehave on it.
fn brackets_balance(tokens: &[Token]) -> bool {
    let mut depth = 0i64;
    for token in tokens {
        depth += bracket_change(token.kind);
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

/// Scanner states of hclsyntax's ragel machine that we need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Ordinary expression tokens (also inside `${ }` and `%{ }`).
    Main,
    /// Inside `"..."`.
    Quoted,
    /// Inside a heredoc body.
    Heredoc,
}

/// A heredoc whose end marker has not been seen yet.
struct OpenHeredoc {
    marker: String,
    /// Whether the scanner is at the start of a body line: only then can a line be the marker.
    start_of_line: bool,
}

/// Reproduction of hclsyntax's token scanner (`scan_tokens.rl`) for well-formed input.
struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    /// Stack of scanner modes; the bottom one is always [`Mode::Main`].
    modes: Vec<Mode>,
    /// Brace depth, counted the way the scanner does to tell a `}` closing an object from one
    /// closing a template sequence.
    braces: i64,
    /// Brace depths at which a `}` ends a template sequence and returns to the template.
    ret_braces: Vec<i64>,
    heredocs: Vec<OpenHeredoc>,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Lexer<'a> {
        Lexer {
            src,
            pos: 0,
            tokens: Vec::new(),
            modes: vec![Mode::Main],
            braces: 0,
            ret_braces: Vec::new(),
            heredocs: Vec::new(),
        }
    }

    /// Tokenizes the whole input; `None` on anything hclsyntax would call invalid or on an
    /// unterminated string, heredoc or comment.
    fn run(mut self) -> Option<Vec<Token>> {
        while self.pos < self.src.len() {
            let mode = *self.modes.last()?;
            match mode {
                Mode::Main => self.main_step()?,
                Mode::Quoted => self.quoted_step()?,
                Mode::Heredoc => self.heredoc_step()?,
            }
        }
        if self.modes.len() != 1 {
            return None;
        }
        Some(self.tokens)
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    /// Emits the next `len` bytes as a token of `kind`.
    fn emit(&mut self, kind: Kind, len: usize) -> Option<()> {
        let text = self.src.get(self.pos..self.pos + len)?;
        self.tokens.push(Token::new(kind, text));
        self.pos += len;
        Some(())
    }

    /// Emits literal template text, merged with a directly preceding literal of the same kind
    /// (hclsyntax may split literals into several tokens, which formats identically).
    fn emit_literal(&mut self, kind: Kind, len: usize) -> Option<()> {
        let text = self.src.get(self.pos..self.pos + len)?;
        match self.tokens.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(text),
            _ => self.tokens.push(Token::new(kind, text)),
        }
        self.pos += len;
        Some(())
    }

    fn main_step(&mut self) -> Option<()> {
        let rest = self.rest();
        let c = rest.chars().next()?;
        match c {
            ' ' | '\t' => {
                // Whitespace between tokens is dropped; the formatter decides all spacing.
                let len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
                self.pos += len;
                Some(())
            }
            '0'..='9' => {
                let len = number_len(rest);
                self.emit(Kind::Number, len)
            }
            '_' => self.emit(Kind::Ident, ident_len(rest)),
            c if is_ident_start(c) => self.emit(Kind::Ident, ident_len(rest)),
            '#' => self.emit(Kind::Comment, line_comment_len(rest)),
            '/' if rest.starts_with("//") => self.emit(Kind::Comment, line_comment_len(rest)),
            '/' if rest.starts_with("/*") => {
                let close = rest.get(2..)?.find("*/")?;
                self.emit(Kind::Comment, close + 4)
            }
            '\n' => self.emit(Kind::Newline, 1),
            '<' if heredoc_intro(rest).is_some() => {
                let (len, marker) = heredoc_intro(rest)?;
                self.emit(Kind::OHeredoc, len)?;
                self.heredocs.push(OpenHeredoc {
                    marker,
                    start_of_line: true,
                });
                self.modes.push(Mode::Heredoc);
                Some(())
            }
            '{' => {
                self.braces += 1;
                self.emit(Kind::OBrace, 1)
            }
            '}' => {
                if self.ret_braces.last() == Some(&self.braces) {
                    self.end_template_sequence(1)
                } else {
                    self.braces -= 1;
                    self.emit(Kind::CBrace, 1)
                }
            }
            '~' if rest.starts_with("~}") => {
                if self.ret_braces.last() == Some(&self.braces) {
                    self.end_template_sequence(2)
                } else {
                    // The scanner still calls it a sequence end; the parser would reject it.
                    self.braces -= 1;
                    self.emit(Kind::TemplateSeqEnd, 2)
                }
            }
            '"' => {
                self.modes.push(Mode::Quoted);
                self.emit(Kind::OQuote, 1)
            }
            _ => {
                const MULTI: [(&str, Kind); 9] = [
                    ("...", Kind::Ellipsis),
                    ("==", Kind::EqualOp),
                    ("!=", Kind::NotEqual),
                    (">=", Kind::GreaterEq),
                    ("<=", Kind::LessEq),
                    ("&&", Kind::And),
                    ("||", Kind::Or),
                    ("::", Kind::DoubleColon),
                    ("=>", Kind::FatArrow),
                ];
                for (text, kind) in MULTI {
                    if rest.starts_with(text) {
                        return self.emit(kind, text.len());
                    }
                }
                let kind = match c {
                    '[' => Kind::OBrack,
                    ']' => Kind::CBrack,
                    '(' => Kind::OParen,
                    ')' => Kind::CParen,
                    '.' => Kind::Dot,
                    ',' => Kind::Comma,
                    '*' => Kind::Star,
                    '/' => Kind::Slash,
                    '%' => Kind::Percent,
                    '+' => Kind::Plus,
                    '-' => Kind::Minus,
                    '=' => Kind::Equal,
                    '<' => Kind::Less,
                    '>' => Kind::Greater,
                    '!' => Kind::Bang,
                    '?' => Kind::Question,
                    ':' => Kind::Colon,
                    // `&`, `|`, `^`, `;`, a lone `~`, `\r`, other characters: never valid HCL.
                    _ => return None,
                };
                self.emit(kind, 1)
            }
        }
    }

    /// A `}` or `~}` that closes the innermost `${`/`%{`: back to the template.
    fn end_template_sequence(&mut self, len: usize) -> Option<()> {
        self.braces -= 1;
        self.ret_braces.pop();
        self.modes.pop();
        self.emit(Kind::TemplateSeqEnd, len)
    }

    /// `${`, `${~`, `%{` or `%{~` inside a quoted or heredoc template: scan an expression.
    fn begin_template_sequence(&mut self, kind: Kind, rest: &str) -> Option<()> {
        let len = if rest.get(2..3) == Some("~") { 3 } else { 2 };
        self.emit(kind, len)?;
        self.braces += 1;
        self.ret_braces.push(self.braces);
        if let Some(doc) = self.heredocs.last_mut() {
            doc.start_of_line = false;
        }
        self.modes.push(Mode::Main);
        Some(())
    }

    fn quoted_step(&mut self) -> Option<()> {
        let rest = self.rest();
        if rest.starts_with("${") {
            return self.begin_template_sequence(Kind::TemplateInterp, rest);
        }
        if rest.starts_with("%{") {
            return self.begin_template_sequence(Kind::TemplateControl, rest);
        }
        match rest.chars().next()? {
            '"' => {
                self.modes.pop();
                self.emit(Kind::CQuote, 1)
            }
            // A raw line break inside a quoted string is an error in HCL.
            '\n' | '\r' => None,
            '$' | '%' => self.emit_literal(Kind::QuotedLit, escape_len(rest)),
            _ => {
                let mut len = 0;
                let mut chars = rest.char_indices().peekable();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '$' | '%' | '"' | '\n' | '\r' => break,
                        '\\' => match chars.next() {
                            Some((j, e)) if e != '\n' && e != '\r' => len = j + e.len_utf8(),
                            _ => break,
                        },
                        _ => len = i + c.len_utf8(),
                    }
                }
                if len == 0 {
                    // A backslash before a line break or the end of input.
                    return None;
                }
                self.emit_literal(Kind::QuotedLit, len)
            }
        }
    }

    fn heredoc_step(&mut self) -> Option<()> {
        let rest = self.rest();
        if rest.starts_with("${") {
            return self.begin_template_sequence(Kind::TemplateInterp, rest);
        }
        if rest.starts_with("%{") {
            return self.begin_template_sequence(Kind::TemplateControl, rest);
        }
        if rest.starts_with('$') || rest.starts_with('%') {
            self.heredocs.last_mut()?.start_of_line = false;
            return self.emit_literal(Kind::StringLit, escape_len(rest));
        }
        let run = rest.find(['$', '%', '\n', '\r']).unwrap_or(rest.len());
        match rest.as_bytes().get(run) {
            Some(b'\n') => {
                let doc = self.heredocs.last_mut()?;
                let is_marker = doc.start_of_line && rest.get(..run)?.trim() == doc.marker;
                if is_marker {
                    // The marker line (indentation included) is one token, its newline another.
                    self.heredocs.pop();
                    self.modes.pop();
                    self.emit(Kind::CHeredoc, run)?;
                    self.emit(Kind::Newline, 1)
                } else {
                    doc.start_of_line = true;
                    self.emit_literal(Kind::StringLit, run + 1)
                }
            }
            Some(b'$') | Some(b'%') => {
                self.heredocs.last_mut()?.start_of_line = false;
                self.emit_literal(Kind::StringLit, run)
            }
            // A lone carriage return, or the end of input before the end marker.
            _ => None,
        }
    }
}

/// Length of a `$`/`%` that does not start a template sequence: `$${`/`%%{` (an escaped
/// sequence opener, with an optional `~`) or the lone character.
fn escape_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    match (bytes.first(), bytes.get(1), bytes.get(2)) {
        (Some(&c), Some(&d), Some(b'{')) if c == d => {
            if bytes.get(3) == Some(&b'~') {
                4
            } else {
                3
            }
        }
        _ => 1,
    }
}

/// hclsyntax's `NumberLit`: a digit, then any run of digits, `.` and exponents (`e`, `E`, with
/// optional sign and a digit), not ending in `.`. So `1.2.3` is one token and `1.` is `1` `.`.
fn number_len(rest: &str) -> usize {
    let b = rest.as_bytes();
    let mut i = 1;
    let mut end = 1;
    loop {
        match b.get(i) {
            Some(c) if c.is_ascii_digit() => {
                i += 1;
                end = i;
            }
            Some(b'.') => i += 1,
            Some(b'e') | Some(b'E') => {
                let mut j = i + 1;
                if matches!(b.get(j), Some(b'+') | Some(b'-')) {
                    j += 1;
                }
                match b.get(j) {
                    Some(d) if d.is_ascii_digit() => {
                        i = j + 1;
                        end = i;
                    }
                    _ => break,
                }
            }
            _ => break,
        }
    }
    end
}

/// First character of an identifier (`ID_Start`). Non-ASCII letters are approximated with
/// Unicode's Alphabetic property.
fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || (!c.is_ascii() && c.is_alphabetic())
}

/// Later characters of an identifier: `ID_Continue` or `-`. In a valid configuration a
/// non-ASCII character right after identifier characters can only be part of the identifier,
/// so every non-ASCII non-space character is accepted.
fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || (!c.is_ascii() && !c.is_whitespace())
}

fn ident_len(rest: &str) -> usize {
    let mut chars = rest.char_indices();
    let first = match chars.next() {
        Some((_, c)) => c.len_utf8(),
        None => return 0,
    };
    chars
        .find(|&(_, c)| !is_ident_continue(c))
        .map(|(i, _)| i)
        .unwrap_or(rest.len())
        .max(first)
}

/// `#` and `//` comments run to the end of the line and include the newline.
fn line_comment_len(rest: &str) -> usize {
    rest.find('\n').map(|i| i + 1).unwrap_or(rest.len())
}

/// `<<EOT\n` or `<<-EOT\n` (the newline must follow the identifier immediately): the length of
/// the introducer including the newline, and the marker.
fn heredoc_intro(rest: &str) -> Option<(usize, String)> {
    let after = rest.strip_prefix("<<")?;
    let (dash, name) = match after.strip_prefix('-') {
        Some(name) => (1, name),
        None => (0, after),
    };
    if !name.starts_with(|c: char| c == '_' || is_ident_start(c)) {
        return None;
    }
    let len = ident_len(name);
    if name.as_bytes().get(len) != Some(&b'\n') {
        return None;
    }
    Some((2 + dash + len + 1, name.get(..len)?.to_string()))
}

// ---------------------------------------------------------------------------------------------
// terraform's unwrap of "${ ... }"
// ---------------------------------------------------------------------------------------------

/// terraform's `formatValueExpr`: `"${ expr }"` becomes `expr`, provided the template holds
/// nothing but that one interpolation (interpolations inside nested strings are fine).
/// Newlines at either end are dropped; if the result still spans lines it is parenthesized
/// (unless it already starts with `(` and ends with `)`), since a bare multi-line expression
/// would not parse as an attribute value.
///
/// One deliberate difference: terraform's test misses cases where the unwrapped expression
/// has a line break outside all brackets, which ends the attribute and so breaks the file:
/// `"${(a) ?\n b : (c)}"` (starts with `(` and ends with `)`, so taken to be parenthesized
/// already) and `"${# c\n x}"` or `"${a // c\n + b}"` (the line break is carried by a
/// comment, not a newline token). We parenthesize those too (terraform leaves the result
/// alone); where terraform's output is valid we produce exactly that.
fn unwrap_interpolation(tokens: Vec<Token>) -> Vec<Token> {
    let n = tokens.len();
    if n < 5
        || tokens[0].kind != Kind::OQuote
        || tokens[1].kind != Kind::TemplateInterp
        || tokens[n - 2].kind != Kind::TemplateSeqEnd
        || tokens[n - 1].kind != Kind::CQuote
    {
        return tokens;
    }
    let inside = &tokens[2..n - 2];
    let mut quotes = 0i64;
    for token in inside {
        match token.kind {
            Kind::OQuote => quotes += 1,
            Kind::CQuote => quotes -= 1,
            _ if quotes > 0 => {}
            Kind::TemplateInterp | Kind::TemplateSeqEnd | Kind::QuotedLit => return tokens,
            _ => {}
        }
    }

    let start = inside
        .iter()
        .position(|t| t.kind != Kind::Newline)
        .unwrap_or(inside.len());
    let end = inside
        .iter()
        .rposition(|t| t.kind != Kind::Newline)
        .map(|i| i + 1)
        .unwrap_or(start)
        .max(start);
    let trimmed = &inside[start..end];

    // terraform's rule: parenthesize if there is a newline token anywhere, unless the first
    // token is `(` and the last is `)`.
    let mut multi_line = false;
    let mut leading_paren = false;
    let mut trailing_paren = false;
    // Our addition: a line break outside all brackets, where it would end the attribute.
    let mut bare_line_break = false;
    let mut depth = 0;
    for (i, token) in trimmed.iter().enumerate() {
        depth += bracket_change(token.kind);
        let last = i + 1 == trimmed.len();
        if depth == 0 && ends_line(token) && !last {
            bare_line_break = true;
        }
        if i == 0 && token.kind == Kind::OParen {
            leading_paren = true;
        } else if token.kind == Kind::Newline {
            multi_line = true;
        } else if last && token.kind == Kind::CParen {
            trailing_paren = true;
        }
    }
    let wrap = (multi_line && !(leading_paren && trailing_paren)) || bare_line_break;

    let mut out = Vec::with_capacity(trimmed.len() + 2);
    if wrap {
        out.push(Token::new(Kind::OParen, "("));
    }
    out.extend(trimmed.iter().cloned());
    if wrap {
        out.push(Token::new(Kind::CParen, ")"));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// hclwrite's formatter
// ---------------------------------------------------------------------------------------------

/// One line of tokens split into hclwrite's "cells", as index ranges into the token list:
/// `lead` (everything up to the others), `assign` (from an attribute's `=` to the end, when
/// the rest of the line is bracket-balanced) and `comment` (a trailing line comment).
/// The first token of `assign` and of `comment` is aligned across consecutive lines.
struct Line {
    lead: std::ops::Range<usize>,
    assign: Option<std::ops::Range<usize>>,
    comment: Option<std::ops::Range<usize>>,
}

/// Recomputes `spaces_before` of every token the way hclwrite's `format` does, for tokens
/// that sit at the start of a line indented by `indent` spaces.
fn format_tokens(tokens: &mut [Token], indent: usize) {
    let lines = lines_for_format(tokens);
    format_indent(&lines, tokens, indent);
    format_spaces(&lines, tokens);
    format_cells(&lines, tokens);
}

/// hclwrite's `linesForFormat`.
fn lines_for_format(tokens: &[Token]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        if ends_line(token) {
            lines.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < tokens.len() {
        lines.push(start..tokens.len());
    }

    lines
        .into_iter()
        .map(|mut lead| {
            let mut comment = None;
            if lead.len() > 1 && tokens[lead.end - 1].kind == Kind::Comment {
                comment = Some(lead.end - 1..lead.end);
                lead.end -= 1;
            }
            let mut assign = None;
            // Only the first `=` after the first token counts, and only when what follows it
            // is a whole expression (a net-opening line starts a multi-line value instead).
            if let Some(eq) = (lead.start + 1..lead.end).find(|&i| tokens[i].kind == Kind::Equal) {
                let net: i64 = tokens[eq..lead.end]
                    .iter()
                    .map(|t| bracket_change(t.kind))
                    .sum();
                if net == 0 {
                    assign = Some(eq..lead.end);
                    lead.end = eq;
                }
            }
            Line {
                lead,
                assign,
                comment,
            }
        })
        .collect()
}

/// hclwrite's `formatIndent`: a line's indentation is two spaces per entry on a stack of
/// "lines that opened brackets", pushed by lines with more openers than closers and popped
/// (possibly partially) by lines with more closers.
///
/// The stack starts with one entry per enclosing block, as in the real file, so that even a
/// degenerate line closing more than it opened (possible after a heredoc) pops what
/// terraform would pop.
fn format_indent(lines: &[Line], tokens: &mut [Token], indent: usize) {
    let mut indents: Vec<i64> = vec![1; indent / 2];
    let odd = indent % 2;
    for line in lines {
        if line.lead.is_empty() {
            continue;
        }
        if tokens[line.lead.start].kind == Kind::Newline {
            tokens[line.lead.start].spaces_before = 0;
            continue;
        }

        let mut net = 0;
        for token in &tokens[line.lead.clone()] {
            net += bracket_change(token.kind);
            // Brackets inside a heredoc's interpolations do not count for this line.
            if token.kind == Kind::OHeredoc {
                break;
            }
        }
        if let Some(assign) = &line.assign {
            net += tokens[assign.clone()]
                .iter()
                .map(|t| bracket_change(t.kind))
                .sum::<i64>();
        }

        let spaces = if net > 0 {
            let spaces = 2 * indents.len();
            indents.push(net);
            spaces
        } else {
            let mut closed = -net;
            while closed > 0 {
                let Some(top) = indents.last_mut() else { break };
                if closed >= *top {
                    closed -= *top;
                    indents.pop();
                } else {
                    *top -= closed;
                    closed = 0;
                }
            }
            2 * indents.len()
        };
        tokens[line.lead.start].spaces_before = spaces + odd;
    }
}

/// hclwrite's `formatSpaces`: spacing between neighbouring tokens within the lead and within
/// the assign cell of each line.
fn format_spaces(lines: &[Line], tokens: &mut [Token]) {
    let nil = Token::new(Kind::Nil, "");
    for line in lines {
        space_cell(tokens, line.lead.clone(), &nil);
        if let Some(assign) = &line.assign {
            // The `=` is always separated from the key; formatCells may widen this.
            tokens[assign.start].spaces_before = 1;
            space_cell(tokens, assign.clone(), &nil);
        }
    }
}

fn space_cell(tokens: &mut [Token], cell: std::ops::Range<usize>, nil: &Token) {
    for i in cell.start..cell.end.saturating_sub(1) {
        let before = if i > cell.start { &tokens[i - 1] } else { nil };
        let space = space_after(&tokens[i], before, &tokens[i + 1]);
        tokens[i + 1].spaces_before = usize::from(space);
    }
}

/// hclwrite's `spaceAfterToken`, rule for rule and in the same order (earlier rules win).
fn space_after(subject: &Token, before: &Token, after: &Token) -> bool {
    use Kind::*;
    let (s, b, a) = (subject.kind, before.kind, after.kind);

    if a == Newline || a == Nil {
        return false;
    }
    // Function name and its `(`.
    if s == Ident && a == OParen {
        return false;
    }
    // Namespaced function names: `provider::aws::arn_parse`.
    if (s == Ident && a == DoubleColon) || (s == DoubleColon && a == Ident) {
        return false;
    }
    // Attribute access and `.*` splats.
    if s == Dot || a == Dot {
        return false;
    }
    if a == Comma || a == Ellipsis {
        return false;
    }
    if s == Comma {
        return true;
    }
    // Never change template text.
    if matches!(s, QuotedLit | StringLit | OQuote | OHeredoc)
        || matches!(a, QuotedLit | StringLit | CQuote | CHeredoc)
    {
        return false;
    }
    // `for x in [a, b]`: `in` is the keyword here, not an indexed reference.
    if s == Ident && subject.text == "in" && b == Ident {
        return true;
    }
    // Indexing: `a[0]`, `f(x)[0]`, `[1, 2][0]`.
    if a == OBrack && (s == Ident || s == Number || bracket_change(s) < 0) {
        return false;
    }
    // `!` binds to its operand, except where joining would make `!=` of `! =`, `! ==` or
    // `! =>` (invalid HCL, which must still format to a fixed point).
    if s == Bang {
        return matches!(a, Equal | EqualOp | FatArrow);
    }
    if s == Minus {
        // Negation (no space) unless the minus follows something that ends an operand.
        return !matches!(
            b,
            Nil | OParen
                | OBrace
                | OBrack
                | Equal
                | Colon
                | Comma
                | Question
                | Plus
                | Star
                | Slash
                | Percent
                | Minus
                | EqualOp
                | NotEqual
                | Greater
                | GreaterEq
                | Less
                | LessEq
                | And
                | Or
                | Bang
        );
    }
    // Braces are padded inside (`{ a = 1 }`), except an empty `{}`.
    if s == OBrace || a == CBrace {
        return !(s == OBrace && a == CBrace);
    }
    // `${ {a = 1} }`.
    if matches!(s, TemplateInterp | TemplateControl) && a == OBrace {
        return true;
    }
    if s == CBrace && a == TemplateSeqEnd {
        return true;
    }
    // `${a}${b}`.
    if s == TemplateSeqEnd && matches!(a, TemplateInterp | TemplateControl) {
        return false;
    }
    if bracket_change(s) > 0 {
        return false;
    }
    if bracket_change(a) < 0 {
        return false;
    }
    true
}

/// hclwrite's `formatCells`: within each run of consecutive lines that have an assign cell,
/// `=` signs line up one column after the widest lead; then within each run of consecutive
/// lines with a trailing comment, the comments line up one column after the widest content.
fn format_cells(lines: &[Line], tokens: &mut [Token]) {
    let columns = |tokens: &[Token], range: &std::ops::Range<usize>| -> usize {
        tokens[range.clone()]
            .iter()
            .map(|t| t.spaces_before + display_columns(&t.text))
            .sum()
    };

    let mut run_start = 0;
    while run_start < lines.len() {
        if lines[run_start].assign.is_none() {
            run_start += 1;
            continue;
        }
        let run_end = (run_start..lines.len())
            .find(|&i| lines[i].assign.is_none())
            .unwrap_or(lines.len());
        let run = &lines[run_start..run_end];
        let widest = run
            .iter()
            .map(|l| columns(tokens, &l.lead))
            .max()
            .unwrap_or(0);
        for line in run {
            let lead = columns(tokens, &line.lead);
            if let Some(assign) = &line.assign {
                tokens[assign.start].spaces_before = widest - lead + 1;
            }
        }
        run_start = run_end;
    }

    let width = |tokens: &[Token], line: &Line| -> usize {
        columns(tokens, &line.lead) + line.assign.as_ref().map_or(0, |a| columns(tokens, a))
    };
    let mut run_start = 0;
    while run_start < lines.len() {
        if lines[run_start].comment.is_none() {
            run_start += 1;
            continue;
        }
        let run_end = (run_start..lines.len())
            .find(|&i| lines[i].comment.is_none())
            .unwrap_or(lines.len());
        let run = &lines[run_start..run_end];
        let widest = run.iter().map(|l| width(tokens, l)).max().unwrap_or(0);
        for line in run {
            let content = width(tokens, line);
            if let Some(comment) = &line.comment {
                tokens[comment.start].spaces_before = widest - content + 1;
            }
        }
        run_start = run_end;
    }
}

/// Approximate count of grapheme clusters, which is how hclwrite measures columns for
/// alignment. Combining marks, variation selectors, emoji modifiers and tags extend the
/// previous character, a zero-width joiner glues two characters together, and regional
/// indicators pair up into flags. (Without Unicode tables some rarer clusters, such as Hangul
/// jamo sequences or Indic spacing marks, are counted as several columns.)
fn display_columns(text: &str) -> usize {
    let mut count = 0;
    let mut after_joiner = false;
    let mut pending_flag = false;
    for c in text.chars() {
        if after_joiner {
            after_joiner = false;
            if c != '\u{200D}' {
                continue;
            }
        }
        if c == '\u{200D}' {
            after_joiner = true;
            continue;
        }
        if is_extending(c) {
            continue;
        }
        if ('\u{1F1E6}'..='\u{1F1FF}').contains(&c) {
            if pending_flag {
                pending_flag = false;
                continue;
            }
            pending_flag = true;
            count += 1;
            continue;
        }
        pending_flag = false;
        count += 1;
    }
    count
}

fn is_extending(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{0591}'..='\u{05BD}'
        | '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{200C}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{3099}'..='\u{309A}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{1F3FB}'..='\u{1F3FF}'
        | '\u{E0020}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_basics() {
        assert_eq!(format_value("var.x[ 0 ]", 2), "var.x[0]");
        assert_eq!(format_value("a+b", 2), "a + b");
        assert_eq!(format_value("f( x,y )", 2), "f(x, y)");
        assert_eq!(format_value("{a=1}", 2), "{ a = 1 }");
        assert_eq!(format_value("[1,2]", 2), "[1, 2]");
        assert_eq!(format_value("-1", 2), "-1");
        assert_eq!(format_value("\"${var.x}\"", 2), "var.x");
        assert_eq!(format_value("\"${a}-${b}\"", 2), "\"${a}-${b}\"");
    }

    #[test]
    fn spacing_never_joins_tokens_into_an_operator() {
        // `!=>` would read back as `!=` `>` (invalid HCL, found by the property test).
        assert_eq!(format_value("! =>", 2), "! =>");
        assert_eq!(format_value("!  =>", 2), "! =>");
        assert_eq!(format_value("a != b", 2), "a != b");
        assert_eq!(format_value("!a", 2), "!a");
        // Digits joined into a number are what terraform prints, and read the same.
        assert_eq!(format_value("a . 0 . 1", 2), "a.0.1");
    }

    #[test]
    fn multi_line_reindent() {
        assert_eq!(
            format_value("{\n        a = 1\n        bb = 2\n      }", 2),
            "{\n    a  = 1\n    bb = 2\n  }"
        );
    }

    #[test]
    fn heredoc_kept() {
        let h = "<<-EOT\n      hello ${ x }\n    EOT";
        assert_eq!(format_value(h, 2), "<<-EOT\n      hello ${x}\n    EOT");
    }

    #[test]
    fn garbage_is_returned_unchanged() {
        for s in [
            "\"abc",
            "<<EOT\nno end",
            "a & b",
            "(",
            "}",
            "/* x",
            "\r\n",
            "",
        ] {
            let _ = format_value(s, 2);
        }
        assert_eq!(format_value("a & b", 2), "a & b");
        assert_eq!(format_value("f(\r\n  a", 2), "f(\n  a");
    }

    #[test]
    fn trailing_comment_keeps_its_place() {
        assert_eq!(format_value("a # c", 2), "a # c");
        assert_eq!(format_value("a # c\n", 2), "a # c");
        // terraform leaves an empty line after `k = a # c` here; so do we.
        assert_eq!(format_value("\"${a # c\n}\"", 2), "a # c\n");
    }

    #[test]
    fn numbers() {
        assert_eq!(number_len("1.2.3x"), 5);
        assert_eq!(number_len("1."), 1);
        assert_eq!(number_len("1e5"), 3);
        assert_eq!(number_len("1ex"), 1);
        assert_eq!(number_len("1.e-5"), 5);
    }
}
