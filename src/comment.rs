//! Markdown written for a pull-request comment, shared by `graph --since --format markdown`
//! and `audit --format markdown`: a summary, one table per kind of row in order of severity,
//! every row pointing at its rule (`path:line`, a link to the file at the head commit when
//! CI says which), and a size budget. GitHub refuses a comment over 65,536 characters, so
//! past the budget the comment keeps its summary and the most severe rows, and says how many
//! it left out and how to see them all.

use std::env;
use std::path::{Path, PathBuf};

/// GitHub's limit on a comment's body, in characters.
pub const GITHUB_LIMIT: usize = 65_536;

/// What a comment may spend, in bytes (never fewer than characters), leaving room under
/// [`GITHUB_LIMIT`] for the note that says what was left out.
pub const BUDGET: usize = 60_000;

/// The most a single cell may hold (a list of thousands of addresses): one row never eats
/// the budget of the others.
const CELL_LIMIT: usize = 2_000;

/// One table: a heading, the column names, and its rows (each a whole `| … |` line).
pub struct Table {
    pub heading: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<String>,
}

/// A whole comment: its head (marker, title, summary line), its tables in order of
/// severity, and what may go first when space runs out (the chart).
pub struct ReviewComment {
    pub head: Vec<String>,
    pub tables: Vec<Table>,
    /// Shown after the tables when everything fits.
    pub tail: Option<String>,
    /// The command that lists every row (`mutualsg graph --since main --format json`).
    pub see_all: String,
}

impl ReviewComment {
    /// The comment's text, at most `budget` bytes (plus the note of what was left out):
    /// the tail goes first, then rows from the least severe table up.
    pub fn render(&self, budget: usize) -> String {
        let full = self.assemble(usize::MAX, true);
        if full.len() <= budget {
            return full;
        }
        self.assemble(budget, false)
    }

    fn assemble(&self, budget: usize, with_tail: bool) -> String {
        let mut out = self.head.join("\n");
        out.push('\n');
        let mut left_out = 0usize;
        for table in &self.tables {
            if table.rows.is_empty() {
                continue;
            }
            let top = format!(
                "\n{}\n\n| {} |\n|{}\n",
                table.heading,
                table.columns.join(" | "),
                "---|".repeat(table.columns.len())
            );
            let mut shown = 0;
            for row in &table.rows {
                let cost = row.len() + 1 + if shown == 0 { top.len() } else { 0 };
                if left_out > 0 || out.len() + cost > budget {
                    left_out += 1;
                    continue;
                }
                if shown == 0 {
                    out.push_str(&top);
                }
                out.push_str(row);
                out.push('\n');
                shown += 1;
            }
        }
        if left_out > 0 {
            out.push_str(&format!(
                "\n**{left_out} more {} left out** to keep this comment under GitHub's {GITHUB_LIMIT}-character limit; `{}` lists them all.\n",
                if left_out == 1 { "row" } else { "rows" },
                self.see_all
            ));
        }
        match &self.tail {
            Some(tail) if with_tail => {
                out.push('\n');
                out.push_str(tail);
            }
            Some(_) => out.push_str("\nThe chart is left out for size.\n"),
            None => {}
        }
        out
    }
}

/// Text in a table cell: a `|` would end the cell, a newline the row; clipped to
/// [`CELL_LIMIT`].
pub fn cell(text: &str) -> String {
    clip(
        &text.replace('|', "\\|").replace(['\n', '\r'], " "),
        CELL_LIMIT,
    )
}

/// Code in a table cell.
pub fn code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    format!("`{}`", cell(&text.replace('`', "'")))
}

/// At most `limit` bytes of `text`, cut at a character and ended with `…`.
pub fn clip(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut end = limit.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A list folded under a count: `5 addresses`, then each in a `<details>` (which GitHub
/// renders inside a table cell); a single item as itself.
pub fn folded(items: &[String], noun: &str, plural: &str) -> String {
    match items {
        [one] => code(one),
        _ => {
            let mut list = String::new();
            for (index, item) in items.iter().enumerate() {
                let next = format!("{}{}", if index == 0 { "" } else { ", " }, code(item));
                if list.len() + next.len() > CELL_LIMIT {
                    list.push_str(&format!(", … {} more", items.len() - index));
                    break;
                }
                list.push_str(&next);
            }
            let noun = if items.len() == 1 { noun } else { plural };
            format!(
                "<details><summary>{} {noun}</summary>{list}</details>",
                items.len()
            )
        }
    }
}

/// Where links point: the repository's web address and the commit whose files the rows
/// name, from the variables GitHub Actions sets (`GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`)
/// and the head commit (`MUTUALSG_HEAD_SHA`, else `GITHUB_SHA`, the commit checked out).
pub struct Links {
    base: Option<String>,
    /// The git top level, to which link paths are relative.
    top: PathBuf,
    cwd: PathBuf,
}

impl Links {
    pub fn from_env(cwd: &Path) -> Links {
        let var = |name: &str| env::var(name).ok().filter(|value| !value.trim().is_empty());
        let sha = var("MUTUALSG_HEAD_SHA").or_else(|| var("GITHUB_SHA"));
        let base = match (var("GITHUB_SERVER_URL"), var("GITHUB_REPOSITORY"), sha) {
            (Some(server), Some(repository), Some(sha)) => Some(format!(
                "{}/{}/blob/{}",
                server.trim_end_matches('/'),
                repository.trim_matches('/'),
                sha.trim()
            )),
            _ => None,
        };
        let top = crate::paths::git_top_level(cwd).unwrap_or_else(|| cwd.to_path_buf());
        Links {
            base,
            top,
            cwd: cwd.to_path_buf(),
        }
    }

    /// `path:line`, as a link to that line at the head commit when it is known and the file
    /// is of the work tree (`head`); as code otherwise (a rule of the base revision).
    pub fn place(&self, path: &Path, line: usize, head: bool) -> String {
        let shown = format!("{}:{line}", path.display());
        match &self.base {
            Some(base) if head => {
                let relative = crate::paths::relative(&self.cwd.join(path), &self.top);
                let relative: Vec<String> = relative
                    .components()
                    .map(|part| url_path_part(&part.as_os_str().to_string_lossy()))
                    .collect();
                format!("[{}]({base}/{}#L{line})", code(&shown), relative.join("/"))
            }
            _ => code(&shown),
        }
    }
}

/// A path component as a URL path segment: what is not unreserved, percent-encoded.
fn url_path_part(part: &str) -> String {
    crate::paths::percent_encode(part, b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(rows: usize, row_len: usize) -> ReviewComment {
        let row = format!("| {} |", "x".repeat(row_len));
        ReviewComment {
            head: vec!["<!-- marker -->".into(), "summary".into()],
            tables: vec![
                Table {
                    heading: "#### severe".into(),
                    columns: vec!["a"],
                    rows: vec![row.clone(); rows],
                },
                Table {
                    heading: "#### mild".into(),
                    columns: vec!["a"],
                    rows: vec![row; rows],
                },
            ],
            tail: Some("```mermaid\nchart\n```\n".into()),
            see_all: "mutualsg graph --format json".into(),
        }
    }

    #[test]
    fn a_comment_that_fits_is_whole() {
        let text = comment(3, 10).render(BUDGET);
        assert!(text.contains("#### mild") && text.contains("mermaid"));
        assert!(!text.contains("left out"));
    }

    #[test]
    fn past_the_budget_the_severe_rows_stay_and_the_rest_is_counted() {
        let text = comment(5_000, 100).render(BUDGET);
        assert!(text.len() < GITHUB_LIMIT, "{}", text.len());
        assert!(text.contains("#### severe"));
        assert!(!text.contains("#### mild"));
        assert!(!text.contains("mermaid"));
        let shown = text.lines().filter(|line| line.starts_with("| x")).count();
        assert!(text.contains(&format!("**{} more rows left out**", 10_000 - shown)));
        assert!(text.contains("mutualsg graph --format json"));
    }

    #[test]
    fn cells_are_clipped_and_lists_folded() {
        assert_eq!(clip("abcdef", 4).chars().count(), 2);
        assert!(cell(&"é".repeat(5_000)).len() <= CELL_LIMIT);
        let items: Vec<String> = (0..5).map(|n| format!("10.0.0.{n}/32")).collect();
        let text = folded(&items, "address", "addresses");
        assert!(text.starts_with("<details><summary>5 addresses</summary>`10.0.0.0/32`"));
        let many: Vec<String> = (0..10_000).map(|n| format!("10.0.{n}/32")).collect();
        assert!(folded(&many, "address", "addresses").len() < CELL_LIMIT + 200);
        assert_eq!(url_path_part("a b.tf"), "a%20b.tf");
    }
}
