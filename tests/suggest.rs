//! `mutualsg suggest` on the flow logs of a known topology (`examples/flowlogs.rs`):
//! the draft holds exactly the topology's connections; `generate` on the draft and `graph`
//! on the result show exactly the observed flows; real Terraform validates and plans it; the
//! Athena query, run by DuckDB on the same records, reduces them to what the streaming reader
//! finds. Golden cases under `fixtures/suggest/<case>/`: `args` (one argument a line, run in
//! a copy of the generated data with the case's `input/` over it) and `expected/{stdout,
//! stderr,exit-code}`, and `requires` for a case that needs the `parquet` feature (`parquet`) or
//! its absence (`!parquet`). `MUTUALSG_BLESS=1 cargo test` rewrites them.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;

/// The generator, built beside the binary by `cargo test` (examples are built with the tests).
fn generator() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_mutualsg"));
    let path = bin.parent().unwrap().join("examples").join("flowlogs");
    assert!(
        path.is_file(),
        "{} missing: run the tests with `cargo test` (which builds the examples)",
        path.display()
    );
    path
}

/// Generates into `dir` with extra flags.
fn generate_data(dir: &Path, flags: &[&str]) {
    let status = Command::new(generator())
        .arg("--out")
        .arg(dir)
        .args(flags)
        .status()
        .unwrap();
    assert!(status.success(), "flowlogs generator failed");
}

/// The default small data set, generated once per run.
fn data() -> &'static Path {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("suggest-data");
        generate_data(&dir, &[]);
        dir
    })
}

fn log_format() -> String {
    fs::read_to_string(data().join("log-format.txt"))
        .unwrap()
        .trim()
        .to_string()
}

/// A fresh copy of the generated data.
fn workspace() -> assert_fs::TempDir {
    let dir = assert_fs::TempDir::new().unwrap();
    copy_tree(data(), dir.path());
    dir
}

fn suggest_json(dir: &Path, extra: &[&str]) -> Value {
    let format = log_format();
    let mut args = vec![
        "suggest",
        "--flow-logs",
        "logs",
        "--log-format",
        &format,
        "--interfaces",
        "interfaces.json",
        "--state",
        "state.json",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = mutualsg(dir, &args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "suggest: {}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A draft connection as the generator's `expected-connections.txt` writes it.
fn connection_line(module: &str, connection: &Value, names: &Value) -> String {
    let peer = |peer: &Value| match peer["kind"].as_str().unwrap() {
        "group" => {
            let id = peer["id"].as_str().unwrap();
            names["NetworkInterfaces"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|i| i["Groups"].as_array().unwrap().iter())
                .find(|g| g["GroupId"] == id)
                .map(|g| g["GroupName"].as_str().unwrap().to_string())
                .unwrap_or_else(|| id.to_string())
        }
        _ => peer["cidrs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(","),
    };
    let protocol = match connection["protocol"].as_u64().unwrap() {
        6 => "tcp".to_string(),
        17 => "udp".to_string(),
        other => other.to_string(),
    };
    let ports = &connection["ports"];
    let traffic = if ports.is_null() {
        protocol
    } else if ports[0] == ports[1] {
        format!("{}/{protocol}", ports[0])
    } else {
        format!("{}-{}/{protocol}", ports[0], ports[1])
    };
    format!(
        "{module}: {} -> {} {traffic}",
        peer(&connection["source"]),
        peer(&connection["target"])
    )
}

fn draft_lines(report: &Value, interfaces: &Value) -> Vec<String> {
    let mut lines: Vec<String> = report["drafts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|draft| {
            let module = draft["module"].as_str().unwrap_or("?").to_string();
            draft["connections"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |c| (module.clone(), c.clone()))
                .collect::<Vec<_>>()
        })
        .map(|(module, c)| connection_line(&module, &c, interfaces))
        .collect();
    lines.sort();
    lines
}

/// Whether an expected connection goes to a flagged destination (IRC, SMTP, DNS outside):
/// the draft names it in a comment and leaves it out of the list.
fn flagged(line: &str) -> bool {
    let traffic = line.rsplit(' ').next().unwrap();
    let port: u16 = traffic
        .split(['/', '-'])
        .next()
        .unwrap()
        .parse()
        .unwrap_or(0);
    let to_address = line
        .split(" -> ")
        .nth(1)
        .is_some_and(|target| target.contains('/'));
    to_address
        && (matches!(port, 6660..=6669 | 6697 | 25 | 465 | 587)
            || (port == 53 && (traffic.ends_with("udp") || traffic.ends_with("tcp"))))
}

fn expected_lines(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("expected-connections.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_draft_is_the_topology() {
    let dir = workspace();
    let report = suggest_json(dir.path(), &[]);
    let interfaces: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("interfaces.json")).unwrap())
            .unwrap();
    assert_eq!(
        draft_lines(&report, &interfaces),
        expected_lines(dir.path())
    );
    // The noise is where it belongs: the ICMP echo undecided, the two-group ops interface
    // undecided with its candidates, the probes rejected, the NAT gateway without a group.
    assert_eq!(report["undecided"].as_array().unwrap().len(), 1);
    let groups = report["undecided_groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        groups[0]["candidates"],
        serde_json::json!(["aws_security_group.ops", "aws_security_group.mgmt"])
    );
    assert_eq!(report["rejected"], 3);
    assert!(report["without_group"].as_u64().unwrap() > 0);
    let flagged: BTreeSet<(String, String)> = report["egress"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["indicator"].is_null())
        .map(|e| {
            (
                e["indicator"].as_str().unwrap().to_string(),
                e["destination"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("DNS", "8.8.8.8"),
        ("IRC", "198.51.100.77"),
        ("SMTP", "203.0.113.25"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(flagged, want);
}

#[test]
fn plain_files_and_more_windows_give_the_same_draft() {
    let dir = assert_fs::TempDir::new().unwrap();
    generate_data(
        dir.path(),
        &[
            "--plain",
            "--windows",
            "30",
            "--windows-per-file",
            "7",
            "--concurrent",
            "5",
        ],
    );
    let report = suggest_json(dir.path(), &[]);
    let interfaces: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("interfaces.json")).unwrap())
            .unwrap();
    assert!(report["input"]["files"].as_u64().unwrap() > 4);
    assert_eq!(
        draft_lines(&report, &interfaces),
        expected_lines(dir.path())
    );
}

/// Writes the drafts into the generated tree (the root module's into `tf/`, the
/// monitoring module's into `tf/modules/monitoring/`), as a user would commit them.
fn commit_drafts(dir: &Path) {
    let report = suggest_json(dir, &[]);
    for draft in report["drafts"].as_array().unwrap() {
        let module_dir = match draft["module"].as_str().unwrap() {
            "" => dir.join("tf"),
            "module.monitoring" => dir.join("tf/modules/monitoring"),
            other => panic!("unexpected module {other}"),
        };
        fs::write(
            module_dir.join("suggested.tf"),
            draft["hcl"].as_str().unwrap(),
        )
        .unwrap();
    }
}

#[test]
fn generate_and_graph_show_exactly_the_observed_flows() {
    let dir = workspace();
    commit_drafts(dir.path());
    let output = mutualsg(&dir.path().join("tf"), &["generate"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let output = mutualsg(&dir.path().join("tf"), &["graph", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let graph: Value = serde_json::from_slice(&output.stdout).unwrap();
    let label = |id: &Value| {
        let node = graph["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == *id)
            .unwrap();
        let label = node["label"].as_str().unwrap().to_string();
        label
            .strip_prefix("aws_security_group.")
            .map(str::to_string)
            .unwrap_or(label)
    };
    let mut edges: Vec<String> = graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let module = if e["module"].as_str().unwrap().ends_with("monitoring") {
                "module.monitoring"
            } else {
                ""
            };
            format!(
                "{module}: {} -> {} {}",
                label(&e["source"]),
                label(&e["target"]),
                // The traffic, without the audit's marker (`⚠ open ingress`).
                e["label"].as_str().unwrap().split(" ⚠").next().unwrap()
            )
        })
        .collect();
    edges.sort();
    // The graph names the monitoring module's peer by the id the draft wrote, and lists
    // each address of a list as its own edge.
    let mut want: Vec<String> = Vec::new();
    for line in expected_lines(dir.path()) {
        if flagged(&line) {
            continue;
        }
        let (head, traffic) = line.rsplit_once(' ').unwrap();
        let (module_source, target) = head.split_once(" -> ").unwrap();
        // In its own module the monitoring group is `aws_security_group.this`.
        let (module_source, target) = if module_source.starts_with("module.monitoring") {
            (
                "module.monitoring: this".to_string(),
                "\"sg-0a1b000000000eb00\"".to_string(),
            )
        } else {
            (module_source.to_string(), target.to_string())
        };
        let (module, source) = module_source.split_once(": ").unwrap();
        for source in source.split(',') {
            for one in target.split(',') {
                want.push(format!("{module}: {source} -> {one} {traffic}"));
            }
        }
    }
    want.sort();
    assert_eq!(edges, want);
}

#[test]
fn real_terraform_validates_and_plans_the_draft() {
    let Some(terraform) = terraform_with_aws("real_terraform_validates_and_plans_the_draft") else {
        return;
    };
    let dir = workspace();
    commit_drafts(dir.path());
    let tf = dir.path().join("tf");
    let output = mutualsg(&tf, &["generate"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    terraform_ok(&terraform, &tf, &["init", "-input=false", "-no-color"]);
    terraform_ok(&terraform, &tf, &["validate", "-no-color"]);
    terraform_ok(&terraform, &tf, &["fmt", "-check", "-recursive"]);
    terraform_ok(
        &terraform,
        &tf,
        &["plan", "-input=false", "-no-color", "-out=tfplan"],
    );
    let plan: Value =
        serde_json::from_str(&terraform_ok(&terraform, &tf, &["show", "-json", "tfplan"])).unwrap();
    let rules = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "aws_security_group_rule")
        .inspect(|c| assert_eq!(c["change"]["actions"], serde_json::json!(["create"])))
        .count();
    // Two rules per group-to-group connection, one per connection with an address peer;
    // none for a flagged destination (named in a comment only).
    let expected: Vec<String> = expected_lines(dir.path())
        .into_iter()
        .filter(|line| !flagged(line))
        .collect();
    assert_eq!(expected.len(), 11, "{expected:?}");
    let two_sided = expected
        .iter()
        .filter(|line| !line.contains('/') || line.matches('/').count() == 1)
        .count();
    let one_sided = expected.len() - two_sided;
    assert_eq!(rules, 2 * two_sided + one_sided, "{expected:?}");
}

/// DuckDB's Python package, from `MUTUALSG_DUCKDB_PYTHON` (CI installs it in a venv).
fn duckdb_python() -> Option<PathBuf> {
    let python = std::env::var_os("MUTUALSG_DUCKDB_PYTHON").map(PathBuf::from);
    let required = std::env::var_os("MUTUALSG_REQUIRE_DUCKDB").is_some_and(|v| v == "1");
    match python {
        Some(python) => Some(python),
        None if required => panic!("MUTUALSG_REQUIRE_DUCKDB=1 but MUTUALSG_DUCKDB_PYTHON is unset"),
        None => {
            eprintln!("skipping: set MUTUALSG_DUCKDB_PYTHON to a python with duckdb");
            None
        }
    }
}

/// Loads every record file of one format into a DuckDB table named `vpc_flow_logs`, runs
/// the query `--athena-sql` prints for that format, and writes the result as Athena does.
fn run_athena_sql(
    python: &Path,
    dir: &Path,
    files: &[PathBuf],
    fields: &[&str],
    sql: &str,
    csv: &Path,
) {
    let script = r#"
import duckdb, sys, json
files, fields, sql, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
types = {"version": "INTEGER", "srcport": "INTEGER", "dstport": "INTEGER", "protocol": "BIGINT",
         "packets": "BIGINT", "bytes": "BIGINT", "start": "BIGINT", "end": "BIGINT", "tcp-flags": "INTEGER"}
columns = {f.replace("-", "_"): types.get(f, "VARCHAR") for f in fields}
con = duckdb.connect()
con.execute("CREATE TABLE vpc_flow_logs AS SELECT * FROM read_csv(?, delim=' ', header=true, nullstr='-', columns=?, auto_detect=false)", [files, columns])
con.execute(f"COPY ({sql}) TO '{out}' (HEADER, DELIMITER ',', QUOTE '\"', FORCE_QUOTE *)")
"#;
    let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let output = Command::new(python)
        .current_dir(dir)
        .args(["-c", script])
        .arg(serde_json::to_string(&files).unwrap())
        .arg(serde_json::to_string(fields).unwrap())
        .arg(sql)
        .arg(csv)
        .output()
        .unwrap();
    assert!(output.status.success(), "duckdb: {}", text(&output.stderr));
}

#[test]
fn athena_sql_in_duckdb_agrees_with_the_streaming_reader() {
    let Some(python) = duckdb_python() else {
        return;
    };
    // The S3 files of both formats (DuckDB reads gzip itself); one query per format, as one
    // Athena table per flow-log format; the CloudWatch export is left out of both sides.
    let dir = workspace();
    fs::remove_dir_all(dir.path().join("logs/cloudwatch")).unwrap();
    let streaming = suggest_json(dir.path(), &[]);
    let mut combined = String::new();
    for (sub, format) in [
        ("logs/s3/fl-public", None),
        ("logs/s3/fl-app", None),
        ("logs/s3/fl-data", Some(log_format())),
    ] {
        let mut args = vec![
            "suggest".to_string(),
            "--athena-sql".to_string(),
            "vpc_flow_logs".to_string(),
        ];
        if let Some(format) = &format {
            args.extend(["--log-format".to_string(), format.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = mutualsg(dir.path(), &args);
        assert_eq!(output.status.code(), Some(0));
        let sql = text(&output.stdout);
        let files: Vec<PathBuf> = fs::read_dir(dir.path().join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        let fields: Vec<String> = match &format {
            Some(f) => f
                .split_whitespace()
                .map(|t| t.trim_start_matches("${").trim_end_matches('}').to_string())
                .collect(),
            None => "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
                .split(' ')
                .map(str::to_string)
                .collect(),
        };
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let csv = dir.path().join(format!("{}.csv", sub.replace('/', "_")));
        run_athena_sql(&python, dir.path(), &files, &fields, &sql, &csv);
        // One CSV for --flows-csv: the columns of the richer query, blanks where the other
        // lacks them (as a UNION of the two tables' results would have).
        let content = fs::read_to_string(&csv).unwrap();
        let mut lines = content.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let all = [
            "interface_id",
            "flow_direction",
            "vpc_id",
            "srcaddr",
            "dstaddr",
            "srcport",
            "dstport",
            "protocol",
            "action",
            "records",
            "packets",
            "bytes",
            "first",
            "last",
            "syn",
            "synack",
        ];
        if combined.is_empty() {
            combined.push_str(
                &all.iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            combined.push('\n');
        }
        for line in lines {
            let values: Vec<&str> = line.split(',').collect();
            let row: Vec<String> = all
                .iter()
                .map(|column| {
                    header
                        .iter()
                        .position(|h| h.trim_matches('"') == *column)
                        .map_or("\"\"".to_string(), |i| values[i].to_string())
                })
                .collect();
            combined.push_str(&row.join(","));
            combined.push('\n');
        }
    }
    fs::write(dir.path().join("flows.csv"), combined).unwrap();
    let output = mutualsg(
        dir.path(),
        &[
            "suggest",
            "--flows-csv",
            "flows.csv",
            "--interfaces",
            "interfaces.json",
            "--state",
            "state.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let from_sql: Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in [
        "drafts",
        "undecided",
        "undecided_groups",
        "egress",
        "flows",
        "opened",
        "rejected",
        "without_group",
    ] {
        assert_eq!(
            from_sql[key], streaming[key],
            "{key} differs between SQL and streaming"
        );
    }
    assert_eq!(from_sql["input"]["records"], streaming["input"]["records"]);
}

fn golden_cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(fixtures().join("suggest"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("args").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10);
    cases
}

#[test]
fn golden_cases_of_every_section_and_malformed_input() {
    let mut failures = Vec::new();
    for case in golden_cases() {
        // `requires`: `parquet` (read only with the feature) or `!parquet` (the reason shown
        // without it).
        if let Ok(requires) = fs::read_to_string(case.join("requires")) {
            let wanted = !requires.trim().starts_with('!');
            if wanted != cfg!(feature = "parquet") {
                eprintln!("skipping {}: {}", case.display(), requires.trim());
                continue;
            }
        }
        let dir = workspace();
        if case.join("input").is_dir() {
            copy_tree(&case.join("input"), dir.path());
        }
        let args: Vec<String> = fs::read_to_string(case.join("args"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = mutualsg(dir.path(), &args);
        let code = output.status.code().unwrap();
        let produced = [
            ("exit-code", format!("{code}\n").into_bytes()),
            ("stdout", output.stdout),
            ("stderr", output.stderr),
        ];
        for (name, bytes) in produced {
            let path = case.join("expected").join(name);
            if blessing() {
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(&path, &bytes).unwrap();
                continue;
            }
            match fs::read(&path) {
                Ok(want) if want == bytes => {}
                Ok(want) => failures.push(format!(
                    "{} differs\n{}",
                    path.display(),
                    similar::TextDiff::from_lines(text(&want).as_str(), text(&bytes).as_str())
                        .unified_diff()
                        .header("expected", "actual")
                )),
                Err(_) => failures.push(format!(
                    "{} missing (bless with MUTUALSG_BLESS=1)",
                    path.display()
                )),
            }
        }
        // Bad input never panics.
        assert!(code <= 2, "{}: exit {code}", case.display());
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every field AWS documents (`fixtures/suggest/documented_fields.txt`) is read: in a file's
/// header line, in `--log-format` (a CloudWatch Logs export), and in `--athena-sql`.
#[test]
fn every_documented_field_is_read_and_queried() {
    let listed = fs::read_to_string(fixtures().join("suggest/documented_fields.txt")).unwrap();
    let fields: Vec<&str> = listed
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .collect();
    assert!(fields.len() >= 42, "{} fields", fields.len());
    // One record: web -> db 5432, with a value in every field.
    let value = |field: &str| match field {
        "version" => "10",
        "account-id" => "123456789012",
        "interface-id" => "eni-0web",
        "srcaddr" | "pkt-srcaddr" => "10.1.1.10",
        "dstaddr" | "pkt-dstaddr" => "10.1.2.10",
        "srcport" => "41000",
        "dstport" => "5432",
        "protocol" => "6",
        "packets" | "tcp-flags" | "traffic-path" | "encryption-status" => "2",
        "bytes" => "900",
        "start" => "1793527200",
        "end" => "1793527260",
        "action" => "ACCEPT",
        "log-status" => "OK",
        "flow-direction" => "egress",
        "vpc-id" => "vpc-0aaa",
        "subnet-id" => "subnet-0a01",
        "region" => "eu-west-1",
        _ => "-",
    };
    let record: Vec<&str> = fields.iter().map(|f| value(f)).collect();
    let format: Vec<String> = fields.iter().map(|f| format!("${{{f}}}")).collect();
    let interfaces = r#"{"NetworkInterfaces": [
        {"NetworkInterfaceId": "eni-0web", "VpcId": "vpc-0aaa", "SubnetId": "subnet-0a01",
         "Groups": [{"GroupId": "sg-0web", "GroupName": "web"}], "PrivateIpAddress": "10.1.1.10",
         "PrivateIpAddresses": [{"PrivateIpAddress": "10.1.1.10"}]},
        {"NetworkInterfaceId": "eni-0db", "VpcId": "vpc-0aaa", "SubnetId": "subnet-0a02",
         "Groups": [{"GroupId": "sg-0db", "GroupName": "db"}], "PrivateIpAddress": "10.1.2.10",
         "PrivateIpAddresses": [{"PrivateIpAddress": "10.1.2.10"}]}]}"#;
    let s3 = format!("{}\n{}\n", fields.join(" "), record.join(" "));
    let cloudwatch = format!("2026-11-01T10:01:00.000Z {}\n", record.join(" "));
    let dir = tree(&[
        ("interfaces.json", interfaces),
        ("s3/flows.log", &s3),
        ("cloudwatch/flows.log", &cloudwatch),
    ]);
    let format = format.join(" ");
    for args in [
        vec!["--flow-logs", "s3"],
        vec!["--flow-logs", "cloudwatch", "--log-format", &format],
    ] {
        let mut all = vec![
            "suggest",
            "--interfaces",
            "interfaces.json",
            "--format",
            "json",
        ];
        all.extend(args);
        let output = mutualsg(dir.path(), &all);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["input"]["records"], 1, "{all:?}");
        assert_eq!(report["input"]["malformed"], 0, "{all:?}");
        assert_eq!(
            report["drafts"][0]["connections"].as_array().unwrap().len(),
            1
        );
    }
    let output = mutualsg(
        dir.path(),
        &[
            "suggest",
            "--athena-sql",
            "flowlogs.vpc_flow_logs",
            "--log-format",
            &format,
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // Each field alone beside the ones mutualsg needs.
    for field in &fields {
        let one = format!(
            "${{srcaddr}} ${{dstaddr}} ${{srcport}} ${{dstport}} ${{protocol}} ${{action}} ${{{field}}}"
        );
        let output = mutualsg(
            dir.path(),
            &["suggest", "--athena-sql", "t", "--log-format", &one],
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{field}: {}",
            text(&output.stderr)
        );
    }
}

/// Through `--athena-sql` and `--flows-csv`, the same draft as the streaming reader's: a NAT
/// gateway seen through and AWS services named (`traffic_path`), addresses of replaced
/// interfaces resolved through their subnet (`subnet_peers`) or reported gone
/// (`gone_interfaces`). Each case's own arguments, with `--flows-csv` for `--flow-logs`.
#[test]
fn athena_sql_reads_flows_as_the_streaming_reader_does() {
    let Some(python) = duckdb_python() else {
        return;
    };
    for case in ["traffic_path", "subnet_peers", "gone_interfaces"] {
        let case_dir = fixtures().join("suggest").join(case);
        let dir = assert_fs::TempDir::new().unwrap();
        copy_tree(&case_dir.join("input"), dir.path());
        let log = dir.path().join("mini/logs/flows.log");
        let header = fs::read_to_string(&log).unwrap();
        let fields: Vec<&str> = header.lines().next().unwrap().split(' ').collect();
        let format: Vec<String> = fields.iter().map(|f| format!("${{{f}}}")).collect();
        let format = format.join(" ");
        let output = mutualsg(
            dir.path(),
            &[
                "suggest",
                "--athena-sql",
                "vpc_flow_logs",
                "--log-format",
                &format,
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let csv = dir.path().join("result.csv");
        run_athena_sql(
            &python,
            dir.path(),
            &[log],
            &fields,
            &text(&output.stdout),
            &csv,
        );
        let args = fs::read_to_string(case_dir.join("args")).unwrap();
        let streaming_args: Vec<&str> = args.lines().collect();
        let queried_args: Vec<&str> = streaming_args
            .iter()
            .map(|arg| match *arg {
                "--flow-logs" => "--flows-csv",
                "mini/logs" => "result.csv",
                other => other,
            })
            .collect();
        let streaming = mutualsg(dir.path(), &streaming_args);
        let queried = mutualsg(dir.path(), &queried_args);
        assert_eq!(
            queried.status.code(),
            streaming.status.code(),
            "{case}: {}",
            text(&queried.stderr)
        );
        let draft = text(&streaming.stdout);
        if case == "traffic_path" {
            assert!(
                draft.contains("data.aws_ec2_managed_prefix_list.s3.id"),
                "{draft}"
            );
        }
        assert_eq!(text(&queried.stdout), draft, "{case}");
    }
}
