//! Golden tests of `mutualsg graph`, and the real renderers.
//!
//! Every case under `fixtures/graph/` is an `input/` tree and `expected/graph.{mmd,dot,json}`:
//! what `mutualsg graph --format F input` prints, run from the case directory.
//! `MUTUALSG_BLESS=1 cargo test` rewrites them, and the README's graph; review with
//! `git diff`. `audit`'s goldens are in tests/audit.rs.
//!
//! The DOT goldens are rendered by Graphviz's `dot`, the Mermaid ones by mermaid-cli's
//! `mmdc` (`MUTUALSG_MMDC`, else `PATH`); each test is skipped with a message when its tool
//! is missing, unless `MUTUALSG_REQUIRE_GRAPHVIZ=1` / `MUTUALSG_REQUIRE_MERMAID=1` (CI).

mod common;
mod goldens;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

use common::*;
use goldens::{assert_no_failures, cases, compare, git};

const GRAPH_FORMATS: [(&str, &str); 3] = [
    ("mermaid", "graph.mmd"),
    ("dot", "graph.dot"),
    ("json", "graph.json"),
];

#[test]
fn graph_cases() {
    let mut failures = Vec::new();
    for case in cases("graph") {
        for (format, file) in GRAPH_FORMATS {
            let output = mutualsg(&case, &["graph", "--format", format, "input"]);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{}: graph --format {format}: {}",
                case.display(),
                text(&output.stderr)
            );
            assert!(
                output.stderr.is_empty(),
                "{}: {}",
                case.display(),
                text(&output.stderr)
            );
            compare(&case, file, &output.stdout, &mut failures);
        }
    }
    assert_no_failures(failures);
}

/// Every finding of `audit` is drawn by `graph`, and only those: the two read one analysis.
#[test]
fn graph_highlights_what_audit_reports() {
    for case in cases("audit").into_iter().chain(cases("graph")) {
        let audit = mutualsg(&case, &["audit", "--format", "json", "input"]);
        let findings: Vec<serde_json::Value> = serde_json::from_slice(&audit.stdout).unwrap();
        let findings: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|problem| problem["kind"] == "finding")
            .collect();
        let graph = mutualsg(&case, &["graph", "--format", "json", "input"]);
        let graph: serde_json::Value = serde_json::from_slice(&graph.stdout).unwrap();
        let mut drawn: Vec<&serde_json::Value> = graph["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|edge| edge.get("finding").filter(|finding| !finding.is_null()))
            .collect();
        for node in graph["nodes"].as_array().unwrap() {
            drawn.extend(node["findings"].as_array().unwrap());
        }
        let mut reported: Vec<&str> = findings
            .iter()
            .map(|finding| finding["message"].as_str().unwrap())
            .collect();
        let mut drawn: Vec<&str> = drawn
            .iter()
            .map(|finding| finding["message"].as_str().unwrap())
            .collect();
        reported.sort_unstable();
        drawn.sort_unstable();
        assert_eq!(reported, drawn, "{}", case.display());
    }
}

#[test]
fn graph_json_edges_join_known_nodes() {
    for case in cases("graph") {
        let json = fs::read(case.join("expected/graph.json")).unwrap();
        let graph: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let ids: Vec<&str> = graph["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|node| node["id"].as_str().unwrap())
            .collect();
        for edge in graph["edges"].as_array().unwrap() {
            for end in ["source", "target"] {
                let id = edge[end].as_str().unwrap();
                assert!(ids.contains(&id), "{}: unknown {end} {id}", case.display());
            }
            assert!(!edge["rules"].as_array().unwrap().is_empty());
        }
    }
}

/// The order in which rules are declared changes nothing: reversing the resources of a
/// file prints the same graph (in JSON, but for the rules' line numbers).
#[test]
fn graph_does_not_depend_on_declaration_order() {
    let input = fixtures().join("graph/hand_written/input");
    let rules = fs::read_to_string(input.join("rules.tf")).unwrap();
    let mut blocks: Vec<&str> = rules.split("\n\n").collect();
    blocks.reverse();
    let reversed = blocks.join("\n\n");
    let main = fs::read_to_string(input.join("main.tf")).unwrap();
    let dir = tree(&[("input/main.tf", &main), ("input/rules.tf", &reversed)]);
    for (format, file) in GRAPH_FORMATS {
        let output = mutualsg(dir.path(), &["graph", "--format", format, "input"]);
        let expected = fs::read(input.parent().unwrap().join("expected").join(file)).unwrap();
        let without_lines = |bytes: &[u8]| {
            text(bytes)
                .lines()
                .filter(|line| !line.trim_start().starts_with("\"line\":"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            without_lines(&output.stdout),
            without_lines(&expected),
            "{format}"
        );
    }
}

/// A module that cannot be read is reported and left out; the others are still drawn.
#[test]
fn graph_draws_the_readable_modules_and_exits_2() {
    let dir = tree(&[
        (
            "broken/main.tf",
            "resource \"aws_security_group\" \"x\" {\n",
        ),
        ("fine/main.tf", "resource \"aws_security_group\" \"y\" {}\n"),
    ]);
    let output = mutualsg(dir.path(), &["graph"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("broken/main.tf"),
        "{}",
        text(&output.stderr)
    );
    let graph = text(&output.stdout);
    assert!(graph.contains("subgraph m1[\"fine\"]"), "{graph}");
    assert!(!graph.contains("broken"), "{graph}");
}

/// A broken file that declares no group, rule, attachment or `mutual_rules` is not parsed:
/// it cannot fail its module, for `graph`, `audit` or `migrate`.
#[test]
fn a_broken_file_that_declares_nothing_they_read_is_not_parsed() {
    let dir = tree(&[
        (
            "app/main.tf",
            "resource \"aws_security_group\" \"web\" {}\n\nresource \"aws_security_group_rule\" \"out\" {\n  type              = \"egress\"\n  security_group_id = aws_security_group.web.id\n  protocol          = \"-1\"\n  from_port         = 0\n  to_port           = 0\n  cidr_blocks       = [\"0.0.0.0/0\"]\n}\n",
        ),
        // Terraform 0.11 syntax in a file about something else.
        (
            "app/legacy.tf",
            "variable \"x\" { default = \"${var.y\" }\nresource \"aws_s3_bucket\" \"b\" {\n",
        ),
    ]);
    let graph = mutualsg(dir.path(), &["graph", "--format", "json"]);
    assert_eq!(graph.status.code(), Some(0), "{}", text(&graph.stderr));
    assert!(text(&graph.stdout).contains("aws_security_group.web"));
    let audit = mutualsg(dir.path(), &["audit"]);
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit.stderr));
    assert!(text(&audit.stderr).contains("mutualsg::audit::open_egress"));
    let migrate = mutualsg(dir.path(), &["migrate"]);
    assert_eq!(migrate.status.code(), Some(0), "{}", text(&migrate.stderr));
    // Where the same file does declare a group, its error is reported.
    fs::write(
        dir.path().join("app/legacy.tf"),
        "resource \"aws_security_group\" \"b\" {\n",
    )
    .unwrap();
    let graph = mutualsg(dir.path(), &["graph"]);
    assert_eq!(graph.status.code(), Some(2));
    assert!(text(&graph.stderr).contains("app/legacy.tf"));
}

/// The README shows the example's graph; it must be what `mutualsg graph` prints today.
#[test]
fn readme_graph_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = mutualsg(root, &["graph", "fixtures/example/input"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let graph = text(&output.stdout);
    let readme_path = root.join("README.md");
    let readme = fs::read_to_string(&readme_path).unwrap();
    let (before, block, after) = readme_graph(&readme);
    if blessing() {
        fs::write(&readme_path, format!("{before}{graph}{after}")).unwrap();
        return;
    }
    assert_eq!(
        block, graph,
        "README.md's \"See the flows\" graph differs from `mutualsg graph fixtures/example/input`; \
         bless with MUTUALSG_BLESS=1 cargo test"
    );
}

/// The README split around the text of the first ```mermaid block after "## See the flows".
fn readme_graph(readme: &str) -> (&str, &str, &str) {
    let section = readme
        .find("## See the flows")
        .expect("README.md has a \"## See the flows\" section");
    let fence = "```mermaid\n";
    let start = section + readme[section..].find(fence).expect("a ```mermaid block") + fence.len();
    let end = start + readme[start..].find("```\n").expect("the block's end");
    (&readme[..start], &readme[start..end], &readme[end..])
}

/// A tool from `env_var` or `PATH`, or `None` with a message (a failure when `require_var`
/// is `1`).
fn tool(name: &str, env_var: &str, require_var: &str) -> Option<PathBuf> {
    let found = std::env::var_os(env_var).map(PathBuf::from).or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
    });
    if found.is_none() {
        let required = std::env::var_os(require_var).is_some_and(|v| v == "1");
        assert!(
            !required,
            "{require_var}=1 but no {name} (set {env_var} or PATH)"
        );
        eprintln!("skipped: no {name} on PATH (set {env_var}, or {require_var}=1 to fail)");
    }
    found
}

#[test]
fn graphviz_renders_every_dot_golden() {
    let Some(dot) = tool("dot", "MUTUALSG_DOT", "MUTUALSG_REQUIRE_GRAPHVIZ") else {
        return;
    };
    let since = since_cases();
    for case in cases("graph").iter().chain(&since) {
        let file = case.join("expected/graph.dot");
        let output = Command::new(&dot).arg("-Tsvg").arg(&file).output().unwrap();
        assert!(
            output.status.success(),
            "dot rejects {}: {}",
            file.display(),
            text(&output.stderr)
        );
        assert!(
            text(&output.stdout).contains("<svg"),
            "{}: no svg",
            file.display()
        );
        assert!(
            output.stderr.is_empty(),
            "{}: {}",
            file.display(),
            text(&output.stderr)
        );
    }
}

#[test]
fn mermaid_cli_renders_every_mermaid_golden_and_the_readme() {
    let Some(mmdc) = tool("mmdc", "MUTUALSG_MMDC", "MUTUALSG_REQUIRE_MERMAID") else {
        return;
    };
    let work = assert_fs::TempDir::new().unwrap();
    // mermaid-cli drives Chromium through Puppeteer; as root it needs --no-sandbox.
    let config = work.path().join("puppeteer.json");
    fs::write(&config, r#"{"args": ["--no-sandbox"]}"#).unwrap();
    let mut charts: Vec<PathBuf> = cases("graph")
        .iter()
        .chain(&since_cases())
        .map(|case| case.join("expected/graph.mmd"))
        .collect();
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let readme_chart = work.path().join("readme.mmd");
    fs::write(&readme_chart, readme_graph(&readme).1).unwrap();
    charts.push(readme_chart);
    for chart in charts {
        let svg = work.path().join("out.svg");
        let mut command = Command::new(&mmdc);
        command
            .arg("--puppeteerConfigFile")
            .arg(&config)
            .arg("--input")
            .arg(&chart)
            .arg("--output")
            .arg(&svg)
            .arg("--quiet");
        if std::env::var_os("PUPPETEER_EXECUTABLE_PATH").is_none()
            && Path::new("/usr/bin/chromium").exists()
        {
            command.env("PUPPETEER_EXECUTABLE_PATH", "/usr/bin/chromium");
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "mmdc rejects {}: {}{}",
            chart.display(),
            text(&output.stdout),
            text(&output.stderr)
        );
        let rendered = fs::read_to_string(&svg).unwrap();
        assert!(rendered.contains("<svg"), "{}: no svg", chart.display());
        // A chart Mermaid cannot lay out renders as its error picture, not as a failure.
        assert!(
            !rendered.contains("Syntax error"),
            "{}: error picture",
            chart.display()
        );
        fs::remove_file(&svg).unwrap();
    }
}

/// The cases of `graph --since` under `fixtures/graph/since/`: each a `before/` and an
/// `after/` tree, an optional `args` file (one argument a line), and
/// `expected/graph.{mmd,dot,json,md}`.
fn since_cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(fixtures().join("graph/since"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("before").is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases under fixtures/graph/since");
    cases
}

/// A new repository with `from` committed as `input/`, then `input/` replaced by `to` in
/// the work tree (not committed).
fn since_repo(from: &Path, to: &Path) -> assert_fs::TempDir {
    let dir = assert_fs::TempDir::new().unwrap();
    git(dir.path(), &["init", "-q"]);
    copy_tree(from, &dir.path().join("input"));
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "before"]);
    fs::remove_dir_all(dir.path().join("input")).unwrap();
    copy_tree(to, &dir.path().join("input"));
    dir
}

const SINCE_FORMATS: [(&str, &str); 4] = [
    ("mermaid", "graph.mmd"),
    ("dot", "graph.dot"),
    ("json", "graph.json"),
    ("markdown", "graph.md"),
];

#[test]
fn graph_since_cases() {
    let mut failures = Vec::new();
    for case in since_cases() {
        let repo = since_repo(&case.join("before"), &case.join("after"));
        let extra = fs::read_to_string(case.join("args")).unwrap_or_default();
        for (format, file) in SINCE_FORMATS {
            let mut args = vec!["graph", "--since", "HEAD", "--format", format];
            args.extend(extra.lines());
            args.push("input");
            let output = mutualsg(repo.path(), &args);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{}: {args:?}: {}",
                case.display(),
                text(&output.stderr)
            );
            assert!(
                output.stderr.is_empty(),
                "{}: {}",
                case.display(),
                text(&output.stderr)
            );
            compare(&case, file, &output.stdout, &mut failures);
        }
    }
    assert_no_failures(failures);
}

/// What each case must show, in the JSON: the kinds of change of its edges, and its new
/// findings. The goldens say the same; this says it where a reader checks the intent.
#[test]
fn graph_since_cases_show_what_they_say() {
    let expect: &[(&str, &[&str], usize)] = &[
        ("added", &["added"], 0),
        ("removed", &["removed"], 0),
        ("widened", &["widened"], 0),
        ("narrowed", &["narrowed"], 0),
        ("protocol_changed", &["changed"], 0),
        ("peer_widened", &["widened"], 1),
        ("migrated_pair", &[], 0),
        ("renamed", &[], 0),
        ("half_open", &["broken"], 1),
        ("count_broken", &["broken"], 1),
        (
            "addresses_folded",
            &[
                "added", "added", "added", "added", "added", "added", "added", "added", "added",
                "added", "added", "added", "added", "added", "added",
            ],
            0,
        ),
        ("inverted_fixed", &["fixed"], 0),
        ("moved_group", &[], 0),
        ("moved_chain", &[], 0),
        ("rules_moved", &[], 0),
        ("interpolation_unwrapped", &[], 0),
        ("peer_same_group", &[], 0),
        ("peer_other_group", &["added", "removed"], 1),
        ("context", &["added", "unchanged", "unchanged"], 0),
        ("focus", &["added", "unchanged", "unchanged"], 0),
        ("count_group", &[], 0),
        ("map_entry_added", &["added"], 1),
        ("file_entry_added", &["added"], 1),
    ];
    assert_eq!(
        expect.len(),
        since_cases().len(),
        "a case without an expectation"
    );
    for (case, kinds, findings) in expect {
        let json = fs::read(
            fixtures()
                .join("graph/since")
                .join(case)
                .join("expected/graph.json"),
        )
        .unwrap();
        let graph: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let mut drawn: Vec<&str> = graph["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edge| edge["change"].as_str().unwrap())
            .collect();
        drawn.sort_unstable();
        let mut kinds = kinds.to_vec();
        kinds.sort_unstable();
        assert_eq!(drawn, kinds, "{case}");
        assert_eq!(
            graph["new_findings"].as_array().unwrap().len(),
            *findings,
            "{case}"
        );
    }
}

/// Two commits in a repository: the second adds, removes and widens a connection, moves a
/// hand-written pair into mutual_rules and renames a rule. `--since HEAD~1` (the work tree
/// is the second commit) draws exactly the first three, from the top and from the module's
/// directory; neither the work tree nor the index is touched.
#[test]
fn graph_since_reads_a_revision_and_touches_neither_work_tree_nor_index() {
    let groups = "resource \"aws_security_group\" \"alb\" {}\n\nresource \"aws_security_group\" \"web\" {}\n\nresource \"aws_security_group\" \"db\" {}\n\nresource \"aws_security_group\" \"cache\" {}\n";
    let hand_pair = |name: &str, from: &str, to: &str, port: u16| {
        format!(
            "resource \"aws_security_group_rule\" \"{name}_out\" {{\n  type = \"egress\"\n  security_group_id = aws_security_group.{from}.id\n  source_security_group_id = aws_security_group.{to}.id\n  protocol = \"tcp\"\n  from_port = {port}\n  to_port = {port}\n}}\n\nresource \"aws_security_group_rule\" \"{name}_in\" {{\n  type = \"ingress\"\n  security_group_id = aws_security_group.{to}.id\n  source_security_group_id = aws_security_group.{from}.id\n  protocol = \"tcp\"\n  from_port = {port}\n  to_port = {port}\n}}\n"
        )
    };
    let first = format!(
        "{}\n{}\n{}\nlocals {{\n  mutual_rules = [\n    {{\n      source_sg_id = aws_security_group.alb.id\n      target_sg_id = aws_security_group.web.id\n      destination_port = 443\n    }},\n  ]\n}}\n",
        hand_pair("web_db", "web", "db", 5432),
        hand_pair("old_name", "web", "cache", 6379),
        hand_pair("alb_cache", "alb", "cache", 11211),
    );
    let second = format!(
        "{}\nlocals {{\n  mutual_rules = [\n    {{\n      source_sg_id = aws_security_group.alb.id\n      target_sg_id = aws_security_group.web.id\n      destination_port = \"443-8443\"\n    }},\n    {{\n      source_sg_id = aws_security_group.web.id\n      target_sg_id = aws_security_group.db.id\n      destination_port = 5432\n    }},\n    {{\n      source_sg_id = aws_security_group.db.id\n      target_sg_id = aws_security_group.cache.id\n      destination_port = 6379\n    }},\n  ]\n}}\n",
        hand_pair("new_name", "web", "cache", 6379),
    );
    let dir = tree(&[("app/groups.tf", groups), ("app/rules.tf", &first)]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "first"]);
    fs::write(dir.path().join("app/rules.tf"), &second).unwrap();
    git(dir.path(), &["commit", "-q", "-a", "-m", "second"]);
    // An uncommitted, unstaged edit that the picture must not see (HEAD~1 against the work
    // tree, as `git diff HEAD~1`), staged elsewhere: the index must stay as it is.
    fs::write(dir.path().join("notes.txt"), "staged\n").unwrap();
    git(dir.path(), &["add", "notes.txt"]);
    let index = fs::read(dir.path().join(".git/index")).unwrap();
    let work_tree = read_tree(&dir.path().join("app"));

    let edges = |cwd: &Path, path: &str| {
        let output = mutualsg(
            cwd,
            &["graph", "--since", "HEAD~1", "--format", "json", path],
        );
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let graph: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let label = |id: &str| {
            graph["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|node| node["id"] == id)
                .unwrap()["label"]
                .as_str()
                .unwrap()
                .trim_start_matches("aws_security_group.")
                .to_string()
        };
        let mut edges: Vec<String> = graph["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edge| {
                format!(
                    "{} {} -> {} {}",
                    edge["change"].as_str().unwrap(),
                    label(edge["source"].as_str().unwrap()),
                    label(edge["target"].as_str().unwrap()),
                    edge["label"].as_str().unwrap()
                )
            })
            .collect();
        edges.sort();
        edges
    };
    let expected = [
        "added db -> cache + 6379/tcp",
        "removed alb -> cache − 11211/tcp",
        "widened alb -> web ± 443/tcp → 443-8443/tcp (widened)",
    ];
    assert_eq!(edges(dir.path(), "."), expected);
    assert_eq!(edges(&dir.path().join("app"), "."), expected);
    // Against the last commit, nothing changed.
    let output = mutualsg(
        dir.path(),
        &["graph", "--since", "HEAD", "--format", "json"],
    );
    let graph: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(graph["edges"].as_array().unwrap().len(), 0, "{graph}");

    assert_eq!(fs::read(dir.path().join(".git/index")).unwrap(), index);
    assert_eq!(read_tree(&dir.path().join("app")), work_tree);
}

/// `--focus` names one group; where several modules have it, `DIR:ADDRESS` says which, and
/// a name that is no group is an error that says so.
#[test]
fn graph_focus_draws_one_group() {
    let module = "resource \"aws_security_group\" \"web\" {}\n\nresource \"aws_security_group\" \"db\" {}\n\nresource \"aws_security_group\" \"batch\" {}\n\nlocals {\n  mutual_rules = [\n    {\n      source_sg_id = aws_security_group.web.id\n      target_sg_id = aws_security_group.db.id\n      destination_port = 5432\n    },\n    {\n      source_sg_id = aws_security_group.batch.id\n      target_sg_id = aws_security_group.db.id\n      destination_port = 5432\n    },\n  ]\n}\n";
    let dir = tree(&[("a/main.tf", module), ("b/main.tf", module)]);
    let ambiguous = mutualsg(dir.path(), &["graph", "--focus", "aws_security_group.web"]);
    assert_eq!(ambiguous.status.code(), Some(2));
    let stderr = text(&ambiguous.stderr);
    assert!(stderr.contains("`a:aws_security_group.web`"), "{stderr}");
    let unknown = mutualsg(dir.path(), &["graph", "--focus", "aws_security_group.nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    let focused = mutualsg(
        dir.path(),
        &["graph", "--focus", "b:aws_security_group.web[0]"],
    );
    assert_eq!(focused.status.code(), Some(0), "{}", text(&focused.stderr));
    let chart = text(&focused.stdout);
    assert!(chart.contains("subgraph m1[\"b\"]"), "{chart}");
    assert!(!chart.contains("\"a\""), "{chart}");
    assert!(chart.contains("m1_web -->|\"5432/tcp\"| m1_db"), "{chart}");
    assert!(!chart.contains("batch"), "{chart}");
}

/// A change's comment links every rule to its line at the head commit when CI names the
/// server, the repository and the commit; a closed flow's rule (of the base revision) is
/// named without a link.
#[test]
fn graph_since_markdown_links_rules_at_the_head_commit() {
    let case = fixtures().join("graph/since/protocol_changed");
    let repo = since_repo(&case.join("before"), &case.join("after"));
    fs::write(
        repo.path().join("input/extra.tf"),
        "resource \"aws_security_group_rule\" \"web_https\" {\n  type              = \"ingress\"\n  security_group_id = aws_security_group.web.id\n  protocol          = \"tcp\"\n  from_port         = 443\n  to_port           = 443\n  cidr_blocks       = [\"10.0.0.0/8\"]\n}\n",
    )
    .unwrap();
    let output = Command::cargo_bin("mutualsg")
        .unwrap()
        .current_dir(repo.path().join("input"))
        .env("NO_COLOR", "1")
        .env("GITHUB_SERVER_URL", "https://github.example.com/")
        .env("GITHUB_REPOSITORY", "acme/infra")
        .env("GITHUB_SHA", "merge0000")
        .env("MUTUALSG_HEAD_SHA", "0123abcd")
        .args(["graph", "--since", "HEAD", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let comment = text(&output.stdout);
    // Shown relative to where it ran, linked relative to the repository's top.
    assert!(
        comment.contains(
            "[`extra.tf:1`](https://github.example.com/acme/infra/blob/0123abcd/input/extra.tf#L1)"
        ),
        "{comment}"
    );
    let without_head = Command::cargo_bin("mutualsg")
        .unwrap()
        .current_dir(repo.path())
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/infra")
        .env("GITHUB_SHA", "merge0000")
        .env_remove("MUTUALSG_HEAD_SHA")
        .args(["graph", "--since", "HEAD", "--format", "markdown", "input"])
        .output()
        .unwrap();
    let comment = text(&without_head.stdout);
    assert!(
        comment.contains("(https://github.com/acme/infra/blob/merge0000/input/extra.tf#L1)"),
        "{comment}"
    );
    let local = mutualsg(
        repo.path(),
        &["graph", "--since", "HEAD", "--format", "markdown", "input"],
    );
    let comment = text(&local.stdout);
    assert!(comment.contains("| `input/extra.tf:1` |"), "{comment}");
    assert!(!comment.contains("](http"), "{comment}");
}

/// Whatever the change, the comment fits a GitHub comment: a change that breaks 40 pairs and
/// opens 3,000 flows keeps its summary and every broken row (the most severe), leaves out
/// the rest, and says how many and how to see them.
#[test]
fn graph_since_markdown_stays_under_githubs_limit_on_a_huge_change() {
    let pair = |n: usize, ingress: bool| {
        let mut text = format!(
            "resource \"aws_security_group\" \"app{n}\" {{}}\n\nresource \"aws_security_group\" \"db{n}\" {{}}\n\nresource \"aws_security_group_rule\" \"out{n}\" {{\n  type                     = \"egress\"\n  security_group_id        = aws_security_group.app{n}.id\n  source_security_group_id = aws_security_group.db{n}.id\n  protocol                 = \"tcp\"\n  from_port                = 5432\n  to_port                  = 5432\n}}\n"
        );
        if ingress {
            text.push_str(&format!("\nresource \"aws_security_group_rule\" \"in{n}\" {{\n  type                     = \"ingress\"\n  security_group_id        = aws_security_group.db{n}.id\n  source_security_group_id = aws_security_group.app{n}.id\n  protocol                 = \"tcp\"\n  from_port                = 5432\n  to_port                  = 5432\n}}\n"));
        }
        text
    };
    let before: String = (0..40).map(|n| pair(n, true)).collect();
    let mut after: String = (0..40).map(|n| pair(n, false)).collect();
    for n in 0..3_000 {
        after.push_str(&format!(
            "\nresource \"aws_security_group_rule\" \"open{n}\" {{\n  type              = \"ingress\"\n  security_group_id = aws_security_group.app{}.id\n  protocol          = \"tcp\"\n  from_port         = {}\n  to_port           = {}\n  cidr_blocks       = [\"10.{}.{}.0/24\"]\n}}\n",
            n % 40,
            1000 + n,
            1000 + n,
            n / 250,
            n % 250
        ));
    }
    let from = assert_fs::TempDir::new().unwrap();
    let to = assert_fs::TempDir::new().unwrap();
    fs::write(from.path().join("main.tf"), before).unwrap();
    fs::write(to.path().join("main.tf"), after).unwrap();
    let repo = since_repo(from.path(), to.path());
    let output = mutualsg(
        repo.path(),
        &["graph", "--since", "HEAD", "--format", "markdown", "input"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let comment = text(&output.stdout);
    assert!(
        comment.chars().count() < 65_536,
        "{} characters",
        comment.chars().count()
    );
    assert!(
        comment.contains("**40 broken, 3000 opened; 40 new findings.**"),
        "{}",
        &comment[..400]
    );
    let broken = comment
        .lines()
        .filter(|line| line.contains("⚠ no ingress"))
        .count();
    assert_eq!(broken, 40);
    let rows = comment
        .lines()
        .filter(|line| {
            line.starts_with("| ") && !line.starts_with("| from") && !line.starts_with("| check")
        })
        .count();
    let opened = comment
        .lines()
        .filter(|line| line.starts_with("| `10."))
        .count();
    assert!(opened > 100, "{opened} opened rows shown");
    assert_eq!(rows, 40 + 40 + opened, "broken, new findings, opened");
    let left_out = 3_000 - opened;
    assert!(
        comment.contains(&format!(
            "**{left_out} more rows left out** to keep this comment under GitHub's 65536-character limit; `mutualsg graph --since HEAD --format json` lists them all."
        )),
        "{}",
        &comment[comment.len() - 600..]
    );
    assert!(!comment.contains("```mermaid"));
}

#[test]
fn graph_of_a_missing_path_is_an_error_and_draws_nothing() {
    let dir = tree(&[("main.tf", "resource \"aws_security_group\" \"a\" {}\n")]);
    for args in [
        &["graph", "does/not/exist"][..],
        &["graph", "--format", "dot", ".", "does/not/exist"][..],
    ] {
        let output = mutualsg(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(
            text(&output.stdout),
            "",
            "{args:?}: a chart beside the error"
        );
        assert!(
            text(&output.stderr).contains("does/not/exist: path does not exist"),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
}
