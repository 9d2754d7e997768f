//! Golden tests of `mutualsg graph` and `mutualsg audit`, and the real renderers.
//!
//! Every case under `fixtures/graph/` is an `input/` tree and `expected/graph.{mmd,dot,json}`:
//! what `mutualsg graph --format F input` prints, run from the case directory. Every case
//! under `fixtures/audit/` has `expected/{exit-code,stderr}` (human format) and
//! `expected/audit.{json,github}` (stdout of the other formats). `MUTUALSG_BLESS=1 cargo
//! test` rewrites them, and the README's graph; review with `git diff`.
//!
//! The DOT goldens are rendered by Graphviz's `dot`, the Mermaid ones by mermaid-cli's
//! `mmdc` (`MUTUALSG_MMDC`, else `PATH`); each test is skipped with a message when its tool
//! is missing, unless `MUTUALSG_REQUIRE_GRAPHVIZ=1` / `MUTUALSG_REQUIRE_MERMAID=1` (CI).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// The case directories of one kind.
fn cases(kind: &str) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(fixtures().join(kind))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("input").is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases under fixtures/{kind}");
    cases
}

/// Compares `actual` with the case's `expected/NAME`, or rewrites it when blessing.
fn compare(case: &Path, name: &str, actual: &[u8], failures: &mut Vec<String>) {
    let path = case.join("expected").join(name);
    if blessing() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
        return;
    }
    let Ok(expected) = fs::read(&path) else {
        failures.push(format!(
            "{}: missing (bless with MUTUALSG_BLESS=1)",
            path.display()
        ));
        return;
    };
    if expected != actual {
        failures.push(format!(
            "{} differs\n{}",
            path.display(),
            similar::TextDiff::from_lines(text(&expected).as_str(), text(actual).as_str())
                .unified_diff()
                .header("expected", "actual")
        ));
    }
}

fn assert_no_failures(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} golden mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

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

#[test]
fn audit_cases() {
    let mut failures = Vec::new();
    for case in cases("audit") {
        let human = mutualsg(&case, &["audit", "input"]);
        let code = human.status.code().unwrap();
        assert!(
            human.stdout.is_empty(),
            "{}: human audit printed on stdout",
            case.display()
        );
        compare(
            &case,
            "exit-code",
            format!("{code}\n").as_bytes(),
            &mut failures,
        );
        compare(&case, "stderr", &human.stderr, &mut failures);
        for (format, file) in [("json", "audit.json"), ("github", "audit.github")] {
            let output = mutualsg(&case, &["audit", "--format", format, "input"]);
            assert_eq!(
                output.status.code(),
                Some(code),
                "{}: audit --format {format} exits otherwise",
                case.display()
            );
            compare(&case, file, &output.stdout, &mut failures);
        }
    }
    assert_no_failures(failures);
}

#[test]
fn audit_exit_codes_say_what_was_found() {
    let code = |case: &str| {
        let dir = fixtures()
            .join("audit")
            .join(case)
            .join("expected/exit-code");
        text(&fs::read(dir).unwrap()).trim().to_string()
    };
    assert_eq!(code("clean"), "0");
    assert_eq!(code("open_egress"), "1");
    assert_eq!(code("half_open_pair"), "1");
    assert_eq!(code("mixed_management"), "1");
    assert_eq!(code("error_and_finding"), "2");
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
    for case in cases("graph") {
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
