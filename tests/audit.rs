//! `mutualsg audit`: its goldens (every case under `fixtures/audit/` has
//! `expected/{exit-code,stderr}`, the human format, and `expected/audit.{json,github}`, the
//! stdout of the other formats; `MUTUALSG_BLESS=1 cargo test` rewrites them), and beyond
//! them `--strict`, the baseline, SARIF, `--since`, suppressions, a broken file that costs
//! only itself, and the catalogue's fixtures.

mod common;
mod goldens;

use std::fs;
use std::path::Path;

use common::*;
use goldens::{assert_no_failures, cases, compare, git};

fn case(name: &str) -> std::path::PathBuf {
    fixtures().join("audit").join(name)
}

fn json(output: &std::process::Output) -> Vec<serde_json::Value> {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!("{error}: {}", text(&output.stdout));
    })
}

#[test]
fn new_checks_exit_as_their_findings_say() {
    for (name, code) in [
        ("attached_together", 1),
        ("unverified", 0),
        ("module_outputs", 1),
        ("open_ingress", 1),
        ("unattached_group", 1),
        ("unattached_comment", 1),
        ("eval_locals", 1),
        ("eval_for_each", 1),
        ("eval_dynamic", 1),
        ("eval_module_inputs", 1),
        ("eval_files", 1),
        ("suppressions", 1),
        ("plan_time", 1),
    ] {
        let output = mutualsg(&case(name), &["audit", "input"]);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{name}: {}",
            text(&output.stderr)
        );
    }
}

/// Unverified findings are listed as notes and fail only with `--strict`.
#[test]
fn strict_fails_on_unverified_findings() {
    let dir = case("unverified");
    let findings = json(&mutualsg(&dir, &["audit", "--format", "json", "input"]));
    assert_eq!(findings.len(), 5);
    assert!(findings.iter().all(|finding| finding["level"] == "note"));
    assert!(findings.iter().all(|finding| {
        finding["message"]
            .as_str()
            .unwrap()
            .starts_with("unverified: ")
    }));
    let strict = mutualsg(&dir, &["audit", "--strict", "input"]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
}

/// Groups attached together complete each other's halves; the lone worker does not.
#[test]
fn groups_attached_together_are_one_set() {
    let findings = json(&mutualsg(
        &case("attached_together"),
        &["audit", "--format", "json", "input"],
    ));
    let half_open: Vec<&str> = findings
        .iter()
        .filter(|finding| finding["check"] == "half_open_pair")
        .map(|finding| finding["message"].as_str().unwrap())
        .collect();
    assert_eq!(half_open.len(), 1, "{half_open:?}");
    assert!(half_open[0].contains("aws_security_group.worker"));
}

#[test]
fn suppressed_findings_are_listed_with_who_suppressed_them() {
    let findings = json(&mutualsg(
        &case("suppressions"),
        &["audit", "--format", "json", "input"],
    ));
    let by: Vec<&str> = findings
        .iter()
        .filter_map(|finding| finding.get("suppressed"))
        .map(|suppressed| suppressed["by"].as_str().unwrap())
        .collect();
    assert_eq!(
        by,
        [
            "mutualsg:ignore=open_egress",
            "checkov:skip=CKV_AWS_382",
            "tfsec:ignore:aws-ec2-no-public-egress-sgr",
            "trivy:ignore:AVD-AWS-0107",
            "mutualsg:ignore=open_ingress_admin,open_egress",
        ]
    );
    let reasons: Vec<&str> = findings
        .iter()
        .filter_map(|finding| finding.get("suppressed"))
        .map(|suppressed| suppressed["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons[1], "builds fetch packages from anywhere");
    let unmatched: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|finding| finding["code"] == "mutualsg::audit::unmatched_suppression")
        .collect();
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0]["kind"], "warning");
}

/// The baseline survives edits elsewhere and moving a rule; new findings fail, fixed ones
/// are reported as stale entries.
#[test]
fn baseline_accepts_what_it_recorded_and_reports_what_went() {
    let dir = tree(&[(
        "app/main.tf",
        "resource \"aws_security_group\" \"web\" {}\n\nresource \"aws_instance\" \"web\" {\n  vpc_security_group_ids = [aws_security_group.web.id]\n}\n\nresource \"aws_security_group_rule\" \"out\" {\n  type              = \"egress\"\n  security_group_id = aws_security_group.web.id\n  protocol          = \"-1\"\n  from_port         = 0\n  to_port           = 0\n  cidr_blocks       = [\"0.0.0.0/0\"]\n}\n",
    )]);
    let root = dir.path();
    let write = mutualsg(root, &["audit", "--write-baseline", "baseline.json"]);
    assert_eq!(write.status.code(), Some(0), "{}", text(&write.stderr));
    let baseline = fs::read_to_string(root.join("baseline.json")).unwrap();
    assert!(
        baseline.contains("\"check\": \"open_egress\""),
        "{baseline}"
    );
    assert!(!baseline.contains("\"line\""), "{baseline}");
    let accepted = mutualsg(root, &["audit", "--baseline", "baseline.json"]);
    assert_eq!(
        accepted.status.code(),
        Some(0),
        "{}",
        text(&accepted.stderr)
    );
    assert!(text(&accepted.stderr).contains("1 in the baseline"));

    // The rule moves to another file under another name, with lines before it.
    fs::remove_file(root.join("app/main.tf")).unwrap();
    fs::write(
        root.join("app/groups.tf"),
        "resource \"aws_security_group\" \"web\" {}\n\nresource \"aws_instance\" \"web\" {\n  vpc_security_group_ids = [aws_security_group.web.id]\n}\n",
    )
    .unwrap();
    fs::write(
        root.join("app/rules.tf"),
        "# moved here\n\nresource \"aws_vpc_security_group_egress_rule\" \"all_out\" {\n  security_group_id = aws_security_group.web.id\n  ip_protocol       = \"-1\"\n  cidr_ipv4         = \"0.0.0.0/0\"\n}\n\nresource \"aws_vpc_security_group_ingress_rule\" \"ssh\" {\n  security_group_id = aws_security_group.web.id\n  ip_protocol       = \"tcp\"\n  from_port         = 22\n  to_port           = 22\n  cidr_ipv4         = \"0.0.0.0/0\"\n}\n",
    )
    .unwrap();
    let moved = mutualsg(root, &["audit", "--baseline", "baseline.json"]);
    assert_eq!(moved.status.code(), Some(1), "{}", text(&moved.stderr));
    let stderr = text(&moved.stderr);
    assert!(stderr.contains("1 open_ingress_admin"), "{stderr}");
    assert!(stderr.contains("1 in the baseline"), "{stderr}");

    // Fixed: the entry is stale, and said so.
    fs::write(
        root.join("app/rules.tf"),
        "resource \"aws_vpc_security_group_egress_rule\" \"https\" {\n  security_group_id = aws_security_group.web.id\n  ip_protocol       = \"tcp\"\n  from_port         = 443\n  to_port           = 443\n  cidr_ipv4         = \"10.0.0.0/8\"\n}\n",
    )
    .unwrap();
    let fixed = mutualsg(root, &["audit", "--baseline", "baseline.json"]);
    assert_eq!(fixed.status.code(), Some(0), "{}", text(&fixed.stderr));
    assert!(
        text(&fixed.stderr).contains("mutualsg::audit::stale_baseline"),
        "{}",
        text(&fixed.stderr)
    );
    let missing = mutualsg(root, &["audit", "--baseline", "nope.json"]);
    assert_eq!(missing.status.code(), Some(2));
}

/// SARIF for every case: one result per finding, warning and error; suppressed findings
/// carry SARIF suppressions; locations are relative URIs. With `MUTUALSG_SARIF_OUT`, the logs
/// are written there for `.ci/run` to hand to a SARIF validator.
#[test]
fn sarif_logs_hold_every_result() {
    let out = std::env::var_os("MUTUALSG_SARIF_OUT").map(std::path::PathBuf::from);
    let cases = fs::read_dir(fixtures().join("audit")).unwrap();
    for entry in cases {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let listed = json(&mutualsg(&dir, &["audit", "--format", "json", "input"]));
        let output = mutualsg(&dir, &["audit", "--format", "sarif", "input"]);
        let log: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), listed.len(), "{name}");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        for (result, problem) in results.iter().zip(&listed) {
            assert_eq!(result["ruleId"], problem["code"], "{name}");
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap();
            assert!(!uri.starts_with('/') && uri.ends_with(".tf") || uri.ends_with(".json"));
            assert_eq!(
                result.get("suppressions").is_some(),
                problem.get("suppressed").is_some(),
                "{name}"
            );
            if problem["level"] == "note" {
                assert_eq!(result["level"], "note");
            }
        }
        if let Some(out) = &out {
            fs::create_dir_all(out).unwrap();
            fs::write(out.join(format!("audit-{name}.sarif")), &output.stdout).unwrap();
        }
    }
    // `check` speaks SARIF too: a drifted file is a result.
    let dir = tree(&[(
        "m/rules.tf",
        "locals {\n  mutual_rules = [{ source_sg_id = \"sg-1\", target_sg_id = \"sg-2\", destination_port = 443 }]\n}\n",
    )]);
    let check = mutualsg(dir.path(), &["check", "--format", "sarif"]);
    assert_eq!(check.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "mutualsg::drift");
    if let Some(out) = &out {
        fs::write(out.join("check-drift.sarif"), &check.stdout).unwrap();
    }
}

/// A file the parser rejects costs only itself: the module's other files are audited.
#[test]
fn a_broken_file_costs_only_itself() {
    let dir = tree(&[
        (
            "app/main.tf",
            "resource \"aws_security_group\" \"web\" {}\n\nresource \"aws_instance\" \"web\" {\n  vpc_security_group_ids = [aws_security_group.web.id]\n}\n\nresource \"aws_security_group_rule\" \"out\" {\n  type              = \"egress\"\n  security_group_id = aws_security_group.web.id\n  protocol          = \"-1\"\n  from_port         = 0\n  to_port           = 0\n  cidr_blocks       = [\"0.0.0.0/0\"]\n}\n",
        ),
        ("app/broken.tf", "resource \"aws_security_group\" \"b\" {\n"),
    ]);
    let audit = mutualsg(dir.path(), &["audit"]);
    assert_eq!(audit.status.code(), Some(2));
    let stderr = text(&audit.stderr);
    assert!(stderr.contains("app/broken.tf"), "{stderr}");
    assert!(stderr.contains("mutualsg::audit::open_egress"), "{stderr}");
}

/// docs/audit.md carries the catalogue's table, generated from `src/inventory/checks/`, and
/// names every code `audit` reports about its own inputs.
#[test]
fn docs_carry_the_catalogue_and_every_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("docs/audit.md");
    let page = fs::read_to_string(&path).unwrap();
    let begin = page
        .find("<!-- checks:begin")
        .expect("the checks:begin marker");
    let begin = begin + page[begin..].find("-->\n").unwrap() + 4;
    let end = page
        .find("<!-- checks:end -->")
        .expect("the checks:end marker");
    let table = mutualsg::inventory::checks::markdown_table();
    if std::env::var_os("MUTUALSG_BLESS").is_some() {
        fs::write(&path, format!("{}{table}{}", &page[..begin], &page[end..])).unwrap();
    } else {
        assert_eq!(
            page[begin..end],
            table,
            "docs/audit.md's table is stale: MUTUALSG_BLESS=1 cargo test --test audit"
        );
    }
    // The codes about audit's own inputs, as the source spells them.
    let diagnostics = fs::read_to_string(root.join("src/diagnostics.rs")).unwrap();
    let mut codes: Vec<&str> = diagnostics
        .split('"')
        .filter(|part| part.starts_with("mutualsg::audit::"))
        .collect();
    assert!(codes.len() >= 3, "{codes:?}");
    codes.extend(
        mutualsg::inventory::checks::REGISTRY
            .iter()
            .map(|check| check.id),
    );
    for code in codes {
        assert!(page.contains(code), "docs/audit.md does not mention {code}");
    }
}

/// The checks a tree's audit reports, by id.
fn checks_found(dir: &Path) -> Vec<String> {
    json(&mutualsg(dir, &["audit", "--format", "json", "."]))
        .iter()
        .filter_map(|finding| finding["check"].as_str().map(str::to_string))
        .collect()
}

/// Every check of the catalogue has a fixture that fires it and a near miss that does not,
/// and every fixture is a check's.
#[test]
fn every_check_has_a_fixture_that_fires_it_and_one_that_does_not() {
    let root = fixtures().join("checks");
    let registry = mutualsg::inventory::checks::REGISTRY;
    for check in registry {
        let fires = checks_found(&root.join(check.id).join("fires"));
        assert!(
            fires.iter().any(|found| found == check.id),
            "fixtures/checks/{}/fires: {fires:?}",
            check.id
        );
        let quiet = checks_found(&root.join(check.id).join("quiet"));
        assert!(
            !quiet.iter().any(|found| found == check.id),
            "fixtures/checks/{}/quiet: {quiet:?}",
            check.id
        );
    }
    for entry in fs::read_dir(&root).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                registry.iter().any(|check| check.id == name),
                "fixtures/checks/{name} is no check's"
            );
        }
    }
}

const OPEN_INGRESS_443: &str = r#"resource "aws_instance" "web" {
  ami                    = "ami-123"
  instance_type          = "t3.micro"
  vpc_security_group_ids = [aws_security_group.web.id]
}

resource "aws_security_group" "web" {
  name = "web"
}

DIRECTIVE
resource "aws_security_group_rule" "https" {
  type              = "ingress"
  security_group_id = aws_security_group.web.id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = ["0.0.0.0/0"]
}
"#;

/// Every id tfsec has used for open ingress suppresses it, and what follows the id is the
/// reason.
#[test]
fn legacy_tfsec_ids_suppress_with_their_reason() {
    for (directive, reason) in [
        (
            "#tfsec:ignore:aws-vpc-no-public-ingress-sgr - the public load balancer",
            "the public load balancer",
        ),
        (
            "#tfsec:ignore:AWS006:the public load balancer",
            "the public load balancer",
        ),
        (
            "#tfsec:ignore:aws-vpc-no-public-ingress-sg",
            "no reason given",
        ),
        (
            "#tfsec:ignore:aws-ec2-no-public-ingress-sgr:exp:2099-01-01 public",
            "public",
        ),
        ("#trivy:ignore:AVD-AWS-0107 public", "public"),
    ] {
        let dir = tree(&[("main.tf", &OPEN_INGRESS_443.replace("DIRECTIVE", directive))]);
        let output = mutualsg(dir.path(), &["audit", "--format", "json", "."]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{directive}: {}",
            text(&output.stdout)
        );
        let findings = json(&output);
        assert_eq!(findings.len(), 1, "{directive}");
        assert_eq!(findings[0]["suppressed"]["reason"], reason, "{directive}");
    }
}

/// A checkov id suppresses only what its check covers: CKV_AWS_260 is port 80.
#[test]
fn a_checkov_id_suppresses_only_its_port() {
    let text_of = |directive: &str| {
        format!(
            r#"resource "aws_lb" "public" {{
  security_groups = [aws_security_group.lb.id]
}}

resource "aws_security_group" "lb" {{
  {directive}
  name = "lb"

  ingress {{
    protocol    = "tcp"
    from_port   = 80
    to_port     = 80
    cidr_blocks = ["0.0.0.0/0"]
  }}

  ingress {{
    protocol    = "tcp"
    from_port   = 443
    to_port     = 443
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
"#
        )
    };
    let dir = tree(&[(
        "main.tf",
        &text_of("#checkov:skip=CKV_AWS_260:redirects to https"),
    )]);
    let output = mutualsg(dir.path(), &["audit", "--format", "json", "."]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let findings = json(&output);
    let suppressed: Vec<&str> = findings
        .iter()
        .map(|finding| {
            let message = finding["message"].as_str().unwrap();
            if finding["suppressed"].is_object() {
                message
            } else {
                ""
            }
        })
        .filter(|message| !message.is_empty())
        .collect();
    assert_eq!(suppressed.len(), 1, "{findings:#?}");
    assert!(suppressed[0].contains("80/tcp"), "{suppressed:?}");
}

/// A baseline that cannot be written is an error, and the summary does not claim it was.
#[test]
fn a_baseline_that_cannot_be_written_is_not_claimed() {
    let dir = case("open_egress");
    let output = mutualsg(
        &dir,
        &["audit", "--write-baseline", "no/such/dir/b.json", "input"],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("no/such/dir/b.json"), "{stderr}");
    assert!(!stderr.contains("baseline written"), "{stderr}");
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
        for (format, file) in [
            ("json", "audit.json"),
            ("github", "audit.github"),
            ("markdown", "audit.md"),
        ] {
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

/// `audit --since` reports only what the change introduces, in every format; the old
/// finding is left out, and a revision git does not know is an error.
#[test]
fn audit_since_reports_only_new_findings() {
    let old_open = "resource \"aws_security_group\" \"web\" {}\n\nresource \"aws_security_group\" \"db\" {}\n\nresource \"aws_security_group_rule\" \"web_out\" {\n  type = \"egress\"\n  security_group_id = aws_security_group.web.id\n  cidr_blocks = [\"0.0.0.0/0\"]\n  protocol = \"-1\"\n  from_port = 0\n  to_port = 0\n}\n";
    let half_open = "\nresource \"aws_security_group_rule\" \"db_out\" {\n  type = \"egress\"\n  security_group_id = aws_security_group.db.id\n  source_security_group_id = aws_security_group.web.id\n  protocol = \"tcp\"\n  from_port = 8080\n  to_port = 8080\n}\n";
    let dir = tree(&[("main.tf", old_open)]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(
        dir.path(),
        &["commit", "-q", "-m", "open egress, from the past"],
    );
    // Unchanged: no new finding, exit 0, though the tree has one.
    let output = mutualsg(dir.path(), &["audit", "--since", "HEAD"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(mutualsg(dir.path(), &["audit"]).status.code(), Some(1));
    // A rename of the old rule is no new finding either; the new half-open rule is.
    let renamed = old_open.replace("\"web_out\"", "\"web_egress\"");
    fs::write(dir.path().join("main.tf"), format!("{renamed}{half_open}")).unwrap();
    let human = mutualsg(dir.path(), &["audit", "--since", "HEAD"]);
    assert_eq!(human.status.code(), Some(1));
    let stderr = text(&human.stderr);
    assert!(stderr.contains("half_open_pair"), "{stderr}");
    assert!(!stderr.contains("open_egress"), "{stderr}");
    let json = mutualsg(
        dir.path(),
        &["audit", "--since", "HEAD", "--format", "json"],
    );
    assert_eq!(json.status.code(), Some(1));
    let problems: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["code"], "mutualsg::audit::half_open_pair");
    let github = mutualsg(
        dir.path(),
        &["audit", "--since", "HEAD", "--format", "github"],
    );
    assert_eq!(github.status.code(), Some(1));
    assert_eq!(
        text(&github.stdout)
            .lines()
            .filter(|l| l.starts_with("::error"))
            .count(),
        1
    );
    let unknown = mutualsg(dir.path(), &["audit", "--since", "no-such-branch"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("no revision `no-such-branch`"));
    let graph = mutualsg(dir.path(), &["graph", "--since", "no-such-branch"]);
    assert_eq!(graph.status.code(), Some(2));
}

/// An entry added to a literal `for_each` map is a new rule instance: an all-traffic entry
/// to the internet is a new open-egress finding, which fails `audit --since`, and names
/// its key (issue 25).
#[test]
fn audit_since_fails_on_a_map_entry_that_opens_egress() {
    let case = fixtures().join("graph/since/map_entry_added");
    let before = fs::read_to_string(case.join("before/main.tf")).unwrap();
    let after = fs::read_to_string(case.join("after/main.tf")).unwrap();
    let dir = tree(&[("main.tf", &before)]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "https only"]);
    let unchanged = mutualsg(dir.path(), &["audit", "--since", "HEAD"]);
    assert_eq!(
        unchanged.status.code(),
        Some(0),
        "{}",
        text(&unchanged.stderr)
    );
    fs::write(dir.path().join("main.tf"), after).unwrap();
    let output = mutualsg(
        dir.path(),
        &["audit", "--since", "HEAD", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let findings = json(&output);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["code"], "mutualsg::audit::open_egress");
    let message = findings[0]["message"].as_str().unwrap();
    assert!(
        message.contains("aws_vpc_security_group_egress_rule.app[\"all\"]"),
        "{message}"
    );
}

/// `terraform.tfvars` is read on both sides of `--since`: from the work tree, and from the
/// revision's objects. An open rule the variables file made at REV is no new finding.
#[test]
fn audit_since_reads_variables_files_at_the_revision_too() {
    let main = "resource \"aws_security_group\" \"app\" {}\n\nresource \"aws_instance\" \"app\" {\n  vpc_security_group_ids = [aws_security_group.app.id]\n}\n\nvariable \"cidrs\" {\n  type = list(string)\n}\n\nresource \"aws_security_group_rule\" \"out\" {\n  type              = \"egress\"\n  security_group_id = aws_security_group.app.id\n  cidr_blocks       = var.cidrs\n  protocol          = \"tcp\"\n  from_port         = 443\n  to_port           = 443\n}\n";
    let dir = tree(&[
        ("main.tf", main),
        ("terraform.tfvars", "cidrs = [\"0.0.0.0/0\"]\n"),
    ]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "open, from the past"]);
    assert_eq!(mutualsg(dir.path(), &["audit"]).status.code(), Some(1));
    let old = mutualsg(dir.path(), &["audit", "--since", "HEAD"]);
    assert_eq!(old.status.code(), Some(0), "{}", text(&old.stderr));
    fs::write(
        dir.path().join("terraform.tfvars"),
        "cidrs = [\"0.0.0.0/0\", \"::/0\"]\n",
    )
    .unwrap();
    let output = mutualsg(
        dir.path(),
        &["audit", "--since", "HEAD", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let findings = json(&output);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0]["message"].as_str().unwrap().contains("::/0"),
        "{findings:?}"
    );
}

/// `audit --since REV` warns of no suppression whose finding already existed at REV: the
/// comment still works, only the finding is not new.
#[test]
fn audit_since_keeps_quiet_about_suppressions_of_old_findings() {
    let open = "resource \"aws_security_group\" \"web\" {}\n\n# mutualsg:ignore=open_egress the NAT forwards\nresource \"aws_security_group_rule\" \"web_out\" {\n  type = \"egress\"\n  security_group_id = aws_security_group.web.id\n  cidr_blocks = [\"0.0.0.0/0\"]\n  protocol = \"-1\"\n  from_port = 0\n  to_port = 0\n}\n";
    let dir = tree(&[("main.tf", open)]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(
        dir.path(),
        &["commit", "-q", "-m", "suppressed open egress"],
    );
    let output = mutualsg(
        dir.path(),
        &["audit", "--since", "HEAD", "--format", "github"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(!stdout.contains("unmatched_suppression"), "{stdout}");
    // A comment that suppresses nothing at all is still reported.
    fs::write(
        dir.path().join("main.tf"),
        open.replace("open_egress the NAT", "half_open_pair the NAT"),
    )
    .unwrap();
    let output = mutualsg(
        dir.path(),
        &["audit", "--since", "HEAD", "--format", "github"],
    );
    assert!(text(&output.stdout).contains("unmatched_suppression"));
}
/// A group that only `mutual_rules` names is attached to nothing: connections are rules.
#[test]
fn a_group_named_only_in_mutual_rules_is_unattached() {
    let dir = tree(&[(
        "main.tf",
        r#"resource "aws_instance" "app" {
  ami                    = "ami-123"
  instance_type          = "t3.micro"
  vpc_security_group_ids = [aws_security_group.app.id]
}

resource "aws_security_group" "app" {
  name = "app"
}

resource "aws_security_group" "orphan" {
  name = "orphan"
}

locals {
  mutual_rules = [
    {
      source_sg_id     = aws_security_group.app.id
      target_sg_id     = aws_security_group.orphan.id
      destination_port = 443
      description      = "app to orphan"
    },
  ]
}
"#,
    )]);
    assert_eq!(
        mutualsg(dir.path(), &["generate", "."]).status.code(),
        Some(0)
    );
    let findings = json(&mutualsg(dir.path(), &["audit", "--format", "json", "."]));
    let unattached: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|finding| finding["check"] == "unattached_group")
        .collect();
    assert_eq!(unattached.len(), 1, "{findings:#?}");
    assert!(
        unattached[0]["message"]
            .as_str()
            .unwrap()
            .contains("aws_security_group.orphan")
    );
}

/// A suppression is read from comments only: the same words inside a string suppress nothing,
/// so a pull request cannot switch the gate off from inside a description.
#[test]
fn a_suppression_inside_a_string_suppresses_nothing() {
    let dir = tree(&[(
        "main.tf",
        r#"resource "aws_security_group" "app" {
  name = "app"
}

resource "aws_instance" "app" {
  vpc_security_group_ids = [aws_security_group.app.id]
}

resource "aws_security_group_rule" "out" {
  type              = "egress"
  description       = "see https://wiki mutualsg:ignore=open_egress for why"
  security_group_id = aws_security_group.app.id
  protocol          = "-1"
  from_port         = 0
  to_port           = 0
  cidr_blocks       = ["0.0.0.0/0"]
}
"#,
    )]);
    let audit = mutualsg(dir.path(), &["audit", "."]);
    let stderr = text(&audit.stderr);
    assert_eq!(audit.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 finding fails"), "{stderr}");
}
