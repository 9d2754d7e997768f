//! The module graph, made from the code: every `crate::` path a source file names (comments
//! and test modules left out), drawn one node per module (two levels inside the families).
//! docs/architecture.md holds it as DOT and docs/modules.svg as a picture; this test keeps
//! both current (`MUTUALSG_BLESS=1` rewrites them, the SVG with Graphviz's `dot`), and fails
//! on an import circle or on a module that imports a later stage than its own.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Modules drawn two levels deep (`inventory::checks`); the others are one node each.
const FAMILIES: [&str; 5] = ["commands", "generate", "inventory", "syntax", "workspace"];

/// The stages, lowest first: a module may import its own stage and the ones before it,
/// never a later one. The parser and the leaves; the diagnostics; the files of a tree; what
/// every family reads (configuration, Terraform state, expression evaluation); the generate
/// pipeline; the inventory; the face (output formats, the command line's types); the
/// commands; the crate root, which only declares modules.
const STAGES: [&[&str]; 9] = [
    &["syntax", "schema", "paths"],
    &["diagnostics"],
    &["workspace"],
    &["config", "state", "eval"],
    &["generate"],
    &["inventory"],
    &["sarif", "report", "comment", "cli"],
    &["commands"],
    &["crate"],
];

/// The stage of a node: `inventory::checks` is in `inventory`'s.
fn stage(node: &str) -> usize {
    let family = node.split("::").next().unwrap_or(node);
    STAGES
        .iter()
        .position(|stage| stage.contains(&family))
        .unwrap_or_else(|| panic!("module {node} is in no stage of STAGES: add it"))
}

/// The module a source file is: `src/inventory/checks/open_egress.rs` → `inventory::checks::open_egress`.
fn module_of(path: &Path, src: &Path) -> Vec<String> {
    let relative = path.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The node a module is drawn as.
fn node(parts: &[String]) -> String {
    match parts.first() {
        None => "crate".to_string(),
        Some(first) if FAMILIES.contains(&first.as_str()) && parts.len() > 1 => {
            format!("{first}::{}", parts[1])
        }
        Some(first) => first.clone(),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without its `#[cfg(test)]` module.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The path at the start of `text`: `inventory::checks::Found` → `[inventory, checks, Found]`.
fn path_at(text: &str) -> Vec<String> {
    let path: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    path.split("::")
        .filter(|part| !part.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every path named after `prefix` (`crate::`, `super::`), a group `crate::{a::X, b}` read
/// as its members.
fn paths_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        // `super::super::x` is read once, from its first `super`.
        let before = &text[..text.len() - rest.len() + at];
        rest = &rest[at + prefix.len()..];
        if before.ends_with("::") {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        found.push(path_at(group[start..i].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(path_at(group[start..i].trim()));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            found.push(path_at(rest));
        }
    }
    found
}

/// Which node names which, from `crate::` paths (the longest prefix that is a module).
fn edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|path| module_of(path, src)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &files {
        let me = module_of(path, src);
        let from = node(&me);
        edges.entry(from.clone()).or_default();
        let text = code(&fs::read_to_string(path).unwrap());
        let mut named = paths_after(&text, "crate::");
        // `super::x` in `a::b::c` is `a::b::x`; `super::super::x` is `a::x`.
        for path in paths_after(&text, "super::") {
            let mut base = me.clone();
            base.pop();
            let mut rest = path.as_slice();
            while let Some(("super", tail)) = rest.split_first().map(|(h, t)| (h.as_str(), t)) {
                base.pop();
                rest = tail;
            }
            base.extend(rest.iter().cloned());
            named.push(base);
        }
        if me.is_empty() {
            // The crate root names its modules without `crate::` (`use generate::output::…`).
            for line in text.lines() {
                let line = line.trim_start().trim_start_matches("pub ");
                if let Some(rest) = line.strip_prefix("use ") {
                    named.push(path_at(rest));
                }
            }
        }
        for mut target in named {
            while !target.is_empty() && !modules.contains(&target) {
                target.pop();
            }
            let to = node(&target);
            if to != from {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

/// The strongly connected components with more than one node (Tarjan).
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a str) {
        let next = state.index.len();
        state.index.insert(node, next);
        state.low.insert(node, next);
        state.stack.push(node);
        for target in state.edges.get(node).into_iter().flatten() {
            if !state.index.contains_key(target.as_str()) {
                visit(state, target);
                let low = state.low[node].min(state.low[target.as_str()]);
                state.low.insert(node, low);
            } else if state.stack.contains(&target.as_str()) {
                let low = state.low[node].min(state.index[target.as_str()]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(top) = state.stack.pop() {
                component.push(top.to_string());
                if top == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in edges.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.found.sort();
    state.found
}

/// The graph as DOT: a box per family, an edge per import.
fn dot(edges: &BTreeMap<String, BTreeSet<String>>) -> String {
    let id = |name: &str| format!("\"{name}\"");
    let mut lines = vec![
        "digraph modules {".to_string(),
        "  rankdir=BT;".to_string(),
        "  node [shape=box, fontname=\"Helvetica\", fontsize=10];".to_string(),
    ];
    let nodes: BTreeSet<&String> = edges
        .iter()
        .flat_map(|(from, to)| std::iter::once(from).chain(to))
        .collect();
    for family in FAMILIES {
        let members: Vec<&&String> = nodes
            .iter()
            .filter(|name| name.starts_with(&format!("{family}::")) || name.as_str() == family)
            .collect();
        if members.is_empty() {
            continue;
        }
        lines.push(format!("  subgraph \"cluster_{family}\" {{"));
        lines.push(format!("    label=\"{family}\";"));
        for member in members {
            lines.push(format!("    {};", id(member)));
        }
        lines.push("  }".to_string());
    }
    for (from, targets) in edges {
        for to in targets {
            lines.push(format!("  {} -> {};", id(from), id(to)));
        }
    }
    lines.push("}".to_string());
    lines.join("\n") + "\n"
}

/// Where the ```dot block of docs/architecture.md is.
fn documented_span(text: &str) -> Option<std::ops::Range<usize>> {
    let start = text.find("```dot\n")? + "```dot\n".len();
    let end = start + text[start..].find("```")?;
    Some(start..end)
}

/// The ```dot block of docs/architecture.md.
fn documented(text: &str) -> Option<&str> {
    documented_span(text).map(|span| &text[span])
}

#[test]
fn no_import_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = circles(&edges(&root.join("src")));
    assert_eq!(
        found,
        Vec::<Vec<String>>::new(),
        "import circles between modules"
    );
}

#[test]
fn nothing_imports_upward() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut upward = Vec::new();
    for (from, targets) in edges(&root.join("src")) {
        for to in targets {
            if stage(&to) > stage(&from) {
                upward.push(format!("{from} -> {to}"));
            }
        }
    }
    assert_eq!(
        upward,
        Vec::<String>::new(),
        "imports of a later stage (see STAGES in tests/architecture.rs)"
    );
}

#[test]
fn the_module_graph_in_docs_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = dot(&edges(&root.join("src")));
    let doc_path = root.join("docs/architecture.md");
    let doc = fs::read_to_string(&doc_path).unwrap_or_default();
    if common::blessing() {
        let span = documented_span(&doc).expect("docs/architecture.md has a ```dot block");
        let rewritten = format!("{}{graph}{}", &doc[..span.start], &doc[span.end..]);
        fs::write(&doc_path, rewritten).unwrap();
        let svg = Command::new("dot")
            .args(["-Tsvg", "-o"])
            .arg(root.join("docs/modules.svg"))
            .stdin(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(graph.as_bytes())?;
                child.wait()
            })
            .expect("Graphviz's dot renders docs/modules.svg");
        assert!(svg.success());
        return;
    }
    assert_eq!(
        documented(&doc),
        Some(graph.as_str()),
        "docs/architecture.md's module graph differs from the code; bless with MUTUALSG_BLESS=1 cargo test --test architecture"
    );
}

/// A type's name says what it is, so no two public types (`pub`, `pub(crate)`, `pub(super)`
/// structs, enums, type aliases and traits) share one: a reader who meets `Connection` knows
/// which it is without looking at the imports.
#[test]
fn no_two_public_types_share_a_name() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut defined: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in &files {
        let text = code(&fs::read_to_string(path).unwrap());
        for line in text.lines() {
            let line = line.trim_start();
            let Some(rest) = line.strip_prefix("pub") else {
                continue;
            };
            let rest = match rest.strip_prefix('(') {
                Some(scoped) => scoped.split_once(')').map_or("", |(_, rest)| rest),
                None => rest,
            };
            let mut words = rest.split_whitespace();
            if let (Some("struct" | "enum" | "type" | "trait"), Some(name)) =
                (words.next(), words.next())
            {
                let name: String = name
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let file = path.strip_prefix(root).unwrap().display().to_string();
                defined.entry(name).or_default().push(file);
            }
        }
    }
    let twice: Vec<String> = defined
        .into_iter()
        .filter(|(_, files)| files.len() > 1)
        .map(|(name, files)| format!("{name}: {}", files.join(", ")))
        .collect();
    assert_eq!(
        twice,
        Vec::<String>::new(),
        "public type names defined twice"
    );
}

/// Outside `src/syntax/`, the parser reads whole files only (a module's file, a variables
/// file, a generated file): what an expression is made of is read from its tree, never by
/// parsing its text again. Each place that parses, with what it parses.
const WHOLE_FILE_PARSES: &[(&str, usize, &str)] = &[
    (
        "src/generate/parse.rs",
        2,
        "a module's file, and the same file with its `mutual_rules` values blanked",
    ),
    (
        "src/generate/migration_file.rs",
        4,
        "the generated file before and after a change",
    ),
    ("src/eval/module.rs", 1, "a variables file"),
    ("src/diagnostics.rs", 1, "a file, for its comments"),
    (
        "src/commands/migrate.rs",
        1,
        "a file after the migration's edits, to rename a replaced call's outputs",
    ),
];

/// Text scanners the syntax tree replaced (issue 25): splitting a reference on `.`,
/// matching its brackets, stripping `resource.` or `"${…}"` from its text, reparsing an
/// expression's text. None may come back outside `src/syntax/`.
const REPLACED_SCANNERS: &[&str] = &[
    "find('[')",
    "rfind('[')",
    "'[' => depth",
    "']' => depth",
    "strip_prefix(\"\\\"${\")",
    "strip_prefix(\"resource.\")",
    "strip_prefix(\"data.aws_security_group.\")",
    "format!(\"x = {",
    "format!(\"{PREFIX}{}",
    "find(\"count.index\")",
];

#[test]
fn only_the_syntax_layer_reads_hcl_structure() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for path in &files {
        let file = path.strip_prefix(root).unwrap().display().to_string();
        if file.starts_with("src/syntax/") {
            continue;
        }
        let text = code(&fs::read_to_string(path).unwrap());
        let parses = [
            "syntax::parse(",
            "syntax::parse_file",
            "syntax::parse_with",
            "syntax::replace_references_in_file",
        ]
        .iter()
        .map(|call| text.matches(call).count())
        .sum::<usize>();
        let allowed = WHOLE_FILE_PARSES
            .iter()
            .find(|(allowed, _, _)| *allowed == file)
            .map_or(0, |(_, count, _)| *count);
        if parses != allowed {
            wrong.push(format!(
                "{file}: {parses} parser calls, {allowed} allowed (whole files only; read an expression's tree instead)"
            ));
        }
        for scanner in REPLACED_SCANNERS {
            if text.contains(scanner) {
                wrong.push(format!(
                    "{file}: `{scanner}` scans HCL text; read the syntax tree"
                ));
            }
        }
    }
    assert_eq!(wrong, Vec::<String>::new());
}
