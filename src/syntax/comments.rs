//! A file's comments as nodes (`#`, `//`, `/* */`), with the questions a suppression reader
//! asks: which comments stand directly above a node, which share its line, which lie inside
//! it. Text in a string or heredoc is never a comment: only what the parser skipped as one is.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentStyle {
    /// `# …`
    Hash,
    /// `// …`
    Slashes,
    /// `/* … */`
    Block,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// From the marker to the end of the line (newline excluded), or to `*/` included.
    pub span: Range<usize>,
    pub style: CommentStyle,
    /// Without the markers (`#`, `//`, `/*`, `*/`), spaces kept.
    pub text: String,
    /// Alone on its lines: only spaces before and after it.
    pub own_line: bool,
    /// The 0-based lines of its first and last character.
    pub lines: Range<usize>,
}

/// Where a parse found a file's comments, kept by a reader that may ask for the
/// [`Comments`] later: building them costs a pass over the text, parsing again costs more.
#[derive(Debug, Clone, Default)]
pub struct CommentSpans(pub(super) Vec<Range<usize>>);

impl CommentSpans {
    /// The comments of `text`, the file these spans were parsed from.
    pub fn comments(&self, text: &str) -> Comments {
        Comments::new(text, self.0.clone())
    }
}

/// Every comment of a file in source order, with the file's line starts to place nodes.
#[derive(Debug, Clone, Default)]
pub struct Comments {
    list: Vec<Comment>,
    line_starts: Vec<usize>,
}

impl Comments {
    pub(super) fn new(text: &str, spans: Vec<Range<usize>>) -> Comments {
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|at| at + 1))
            .collect();
        let line_of = |at: usize| line_starts.partition_point(|&start| start <= at) - 1;
        let list = spans
            .into_iter()
            .map(|span| {
                let raw = &text[span.clone()];
                let (style, inner) = if let Some(rest) = raw.strip_prefix('#') {
                    (CommentStyle::Hash, rest)
                } else if let Some(rest) = raw.strip_prefix("//") {
                    (CommentStyle::Slashes, rest)
                } else {
                    let inner = raw.strip_prefix("/*").unwrap_or(raw);
                    (
                        CommentStyle::Block,
                        inner.strip_suffix("*/").unwrap_or(inner),
                    )
                };
                let first = line_of(span.start);
                let last = line_of(span.end.saturating_sub(1).max(span.start));
                let blank = |part: &str| {
                    part.bytes()
                        .all(|byte| matches!(byte, b' ' | b'\t' | b'\r'))
                };
                let line_end = line_starts
                    .get(last + 1)
                    .map_or(text.len(), |next| next - 1);
                let own_line = blank(&text[line_starts[first]..span.start])
                    && blank(&text[span.end..line_end.max(span.end)]);
                Comment {
                    style,
                    text: inner.trim_end_matches('\r').to_string(),
                    own_line,
                    lines: first..last + 1,
                    span,
                }
            })
            .collect();
        Comments { list, line_starts }
    }

    pub fn all(&self) -> &[Comment] {
        &self.list
    }

    pub fn iter(&self) -> impl Iterator<Item = &Comment> {
        self.list.iter()
    }

    /// The 0-based line of a byte offset.
    pub fn line_of(&self, at: usize) -> usize {
        // Saturating: the comments of no file (`Comments::default()`) know no lines.
        self.line_starts
            .partition_point(|&start| start <= at)
            .saturating_sub(1)
    }

    /// The comments inside `span` (a block's body, an attribute's value).
    pub fn within(&self, span: Range<usize>) -> &[Comment] {
        let from = self.list.partition_point(|c| c.span.start < span.start);
        let to = self.list.partition_point(|c| c.span.end <= span.end);
        &self.list[from..to.max(from)]
    }

    /// The run of comments that each stand on their own line, the last one on the line just
    /// above the node's first line, with no blank line between them: what reads as "the
    /// comment above" a block or an attribute.
    pub fn above(&self, span: Range<usize>) -> &[Comment] {
        let before = self.list.partition_point(|c| c.span.end <= span.start);
        let mut line = self.line_of(span.start);
        let mut from = before;
        while from > 0 {
            let comment = &self.list[from - 1];
            if !comment.own_line || comment.lines.end != line {
                break;
            }
            line = comment.lines.start;
            from -= 1;
        }
        &self.list[from..before]
    }

    /// The comments outside the node on its first or last line: `/* x */ resource …` and
    /// `cidr_blocks = ["0.0.0.0/0"] # why`.
    pub fn on_line(&self, span: Range<usize>) -> impl Iterator<Item = &Comment> {
        let first = self.line_of(span.start);
        let last = self.line_of(span.end.saturating_sub(1).max(span.start));
        self.list.iter().filter(move |c| {
            let outside = c.span.end <= span.start || c.span.start >= span.end;
            outside && (c.lines.contains(&first) || c.lines.contains(&last))
        })
    }

    /// What a reader of suppressions takes as a node's own comments: [`Self::above`] and
    /// [`Self::on_line`], in source order.
    pub fn attached(&self, span: Range<usize>) -> impl Iterator<Item = &Comment> {
        let above = self.above(span.clone());
        let above_start = above.first().map(|c| c.span.start);
        above.iter().chain(
            self.on_line(span)
                .filter(move |c| above_start.is_none_or(|start| c.span.start > start)),
        )
    }
}
