//! The README and the pages of docs/ as GitHub shows them: every relative link reaches a file
//! of the repository, every `#anchor` a heading of its page, the README stays a landing page,
//! and no page sends a user to a path only this project's machines have.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Markdown files users read: the README, the changelog and every page of docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md"), root().join("CHANGELOG.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(root().join("docs"))
        .expect("a docs/ directory")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    assert!(!docs.is_empty(), "docs/ has no pages");
    pages.extend(docs);
    pages
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

/// GitHub's anchor for a heading's text: lower case, punctuation other than `-` and `_`
/// dropped, each space a `-`; a repeated anchor gets `-1`, `-2`, ….
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = BTreeSet::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(text) | Event::Code(text) => {
                if let Some(heading) = heading.as_mut() {
                    heading.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let text = heading.take().unwrap();
                let slug: String = text
                    .to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
                    .map(|c| if c == ' ' { '-' } else { c })
                    .collect();
                let count = seen.entry(slug.clone()).or_insert(0);
                anchors.insert(if *count == 0 {
                    slug
                } else {
                    format!("{slug}-{count}")
                });
                *count += 1;
            }
            _ => {}
        }
    }
    anchors
}

fn links(markdown: &str) -> Vec<String> {
    Parser::new_ext(markdown, options())
        .filter_map(|event| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.into_string())
            }
            _ => None,
        })
        .collect()
}

/// `dir/target` with `.` and `..` resolved, or `None` when it leaves the repository.
fn resolve(dir: &Path, target: &str) -> Option<PathBuf> {
    let mut path = root().to_path_buf();
    for component in dir.strip_prefix(root()).unwrap().join(target).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::ParentDir => {
                if !path.pop() || !path.starts_with(root()) {
                    return None;
                }
            }
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(path)
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (target, anchor) = match link.split_once('#') {
                Some((target, anchor)) => (target, Some(anchor)),
                None => (link.as_str(), None),
            };
            let file = if target.is_empty() {
                page.clone()
            } else {
                match resolve(page.parent().unwrap(), target) {
                    Some(file) if file.exists() => file,
                    _ => {
                        broken.push(format!("{name}: {link}: no such file"));
                        continue;
                    }
                }
            };
            if let Some(anchor) = anchor {
                let is_markdown = file.extension().is_some_and(|ext| ext == "md");
                if !is_markdown || !anchors(&fs::read_to_string(&file).unwrap()).contains(anchor) {
                    broken.push(format!("{name}: {link}: no heading with that anchor"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn anchors_are_the_ones_github_makes() {
    let page = "# Configuration: `.mutualsg.toml`\n## Review a change: `graph --since REV`\n\
                ## Exit status, suppressions, baseline\n## Notes\n## Notes\n";
    let expected: BTreeSet<String> = [
        "configuration-mutualsgtoml",
        "review-a-change-graph---since-rev",
        "exit-status-suppressions-baseline",
        "notes",
        "notes-1",
    ]
    .map(String::from)
    .into();
    assert_eq!(anchors(page), expected);
}

#[test]
fn readme_is_a_landing_page() {
    let lines = fs::read_to_string(root().join("README.md"))
        .unwrap()
        .lines()
        .count();
    assert!(
        lines < 400,
        "README.md has {lines} lines: move reference into docs/"
    );
}

/// A user's clone has neither this project's shared tools nor its machines' directories.
#[test]
fn no_page_names_a_path_of_this_projects_machines() {
    let mut found = Vec::new();
    for page in pages() {
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        for (number, line) in fs::read_to_string(&page).unwrap().lines().enumerate() {
            if line.contains("../shared/") || line.contains("/work/") {
                found.push(format!("{name}:{}: {line}", number + 1));
            }
        }
    }
    assert!(found.is_empty(), "machine paths:\n{}", found.join("\n"));
}
