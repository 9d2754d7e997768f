//! `mutualsg generate`, `check` and `diff`: the golden cases (every case under
//! `fixtures/{example,generate/*,errors/*}` is an `input/` tree and an `expected/` directory
//! holding what `generate` produces from it: the generated files, its exit code and its
//! stderr; `MUTUALSG_BLESS=1 cargo test --test generate` rewrites them, review them with
//! `git diff`), and the binary driven as users drive it on temporary trees: exit codes, what
//! is printed where, and what is (and is not) written.

mod common;
mod goldens;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::*;
use goldens::{Produced, cases, compare_dir};

const GENERATED: &str = "mutual_rules.gen.tf";

fn code(output: &std::process::Output) -> i32 {
    output.status.code().unwrap()
}

#[test]
fn check_reports_drift_with_a_diff_and_generate_fixes_it() {
    let dir = tree(&[("net/main.tf", RULES)]);
    let check = mutualsg(dir.path(), &["check"]);
    assert_eq!(code(&check), 1);
    let diff = text(&check.stdout);
    assert!(
        diff.starts_with("--- /dev/null\n+++ b/net/mutual_rules.gen.tf\n"),
        "{diff}"
    );
    assert!(text(&check.stderr).contains("would create net/mutual_rules.gen.tf"));
    assert!(
        !dir.path().join("net").join(GENERATED).exists(),
        "check wrote a file"
    );

    let generate = mutualsg(dir.path(), &["generate"]);
    assert_eq!(code(&generate), 0, "{}", text(&generate.stderr));
    assert_eq!(code(&mutualsg(dir.path(), &["check"])), 0);

    // Change a port: check shows an a/ b/ diff of the update.
    let edited = RULES.replace("443", "8443");
    fs::write(dir.path().join("net/main.tf"), edited).unwrap();
    let check = mutualsg(dir.path(), &["check"]);
    assert_eq!(code(&check), 1);
    let diff = text(&check.stdout);
    assert!(
        diff.starts_with("--- a/net/mutual_rules.gen.tf\n+++ b/net/mutual_rules.gen.tf\n"),
        "{diff}"
    );
    assert!(
        diff.contains("+  from_port                = 8443"),
        "{diff}"
    );
}

#[test]
fn diff_prints_what_check_prints_and_writes_nothing() {
    let dir = tree(&[("main.tf", RULES)]);
    let before = read_tree(dir.path());
    let diff = mutualsg(dir.path(), &["diff"]);
    let check = mutualsg(dir.path(), &["check"]);
    assert_eq!(code(&diff), 0);
    assert_eq!(diff.stdout, check.stdout);
    assert!(!diff.stdout.is_empty());
    assert_eq!(read_tree(dir.path()), before);
}

#[test]
fn git_apply_accepts_the_diff() {
    let dir = tree(&[("mod/main.tf", RULES)]);
    let diff = mutualsg(dir.path(), &["diff"]).stdout;
    fs::write(dir.path().join("changes.patch"), &diff).unwrap();
    let status = std::process::Command::new("git")
        .args(["apply", "changes.patch"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    fs::remove_file(dir.path().join("changes.patch")).unwrap();
    assert_eq!(
        code(&mutualsg(dir.path(), &["check"])),
        0,
        "git apply of the diff must equal generate"
    );
}

#[test]
fn unchanged_files_are_not_rewritten() {
    let dir = tree(&[("main.tf", RULES)]);
    mutualsg(dir.path(), &["generate"]);
    let inode = fs::metadata(dir.path().join(GENERATED)).unwrap().ino();
    let again = mutualsg(dir.path(), &["generate"]);
    assert_eq!(code(&again), 0);
    assert!(
        text(&again.stderr).contains("nothing to write"),
        "{}",
        text(&again.stderr)
    );
    // An atomic write renames a new file into place: the same inode means no write.
    assert_eq!(
        fs::metadata(dir.path().join(GENERATED)).unwrap().ino(),
        inode
    );
}

#[test]
fn a_file_without_the_header_is_never_overwritten_or_deleted() {
    let mine = "# my own rules\nresource \"aws_security_group_rule\" \"x\" {}\n";
    let dir = tree(&[
        ("with_rules/main.tf", RULES),
        ("with_rules/mutual_rules.gen.tf", mine),
        ("stale/main.tf", ""),
        ("stale/mutual_rules.gen.tf", mine),
    ]);
    let output = mutualsg(dir.path(), &["generate"]);
    assert_eq!(code(&output), 2);
    assert!(
        text(&output.stderr).contains("refusing to overwrite with_rules/mutual_rules.gen.tf"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("with_rules").join(GENERATED)).unwrap(),
        mine
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("stale").join(GENERATED)).unwrap(),
        mine
    );
}

#[test]
fn stale_generated_files_are_reported_by_check_and_deleted_by_generate() {
    let dir = tree(&[("main.tf", RULES)]);
    mutualsg(dir.path(), &["generate"]);
    fs::write(
        dir.path().join("main.tf"),
        "resource \"aws_security_group\" \"a\" {}\n",
    )
    .unwrap();
    let check = mutualsg(dir.path(), &["check"]);
    assert_eq!(code(&check), 1);
    assert!(text(&check.stdout).starts_with("--- a/mutual_rules.gen.tf\n+++ /dev/null\n"));
    assert!(text(&check.stderr).contains("would delete stale mutual_rules.gen.tf"));
    assert_eq!(code(&mutualsg(dir.path(), &["generate"])), 0);
    assert!(!dir.path().join(GENERATED).exists());
}

#[test]
fn a_module_with_an_error_gets_nothing_and_the_others_proceed() {
    let bad = RULES.replace("destination_port = 443", "destination_port = 99999");
    let dir = tree(&[
        ("good/main.tf", RULES),
        ("bad/main.tf", &bad),
        ("worse/main.tf", &RULES.replace("443", "\"x\"")),
    ]);
    let output = mutualsg(dir.path(), &["generate"]);
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    // Every error of the run, each located.
    assert!(stderr.contains("[bad/main.tf:10:26]"), "{stderr}");
    assert!(stderr.contains("[worse/main.tf:10:26]"), "{stderr}");
    assert!(stderr.contains("2 errors"), "{stderr}");
    assert!(dir.path().join("good").join(GENERATED).exists());
    assert!(!dir.path().join("bad").join(GENERATED).exists());
}

#[test]
fn drift_and_error_together_exit_2() {
    let dir = tree(&[
        ("good/main.tf", RULES),
        ("bad/main.tf", &RULES.replace("443", "-5")),
    ]);
    let output = mutualsg(dir.path(), &["check"]);
    assert_eq!(code(&output), 2);
    assert!(text(&output.stdout).contains("+++ b/good/mutual_rules.gen.tf"));
}

#[test]
fn a_tree_without_mutual_rules_is_clean_and_says_so() {
    let dir = tree(&[("main.tf", "resource \"aws_security_group\" \"a\" {}\n")]);
    let output = mutualsg(dir.path(), &["check"]);
    assert_eq!(code(&output), 0);
    assert!(text(&output.stderr).contains("no mutual_rules found"));
}

#[test]
fn a_file_argument_processes_its_module_only() {
    let dir = tree(&[
        ("one/main.tf", RULES),
        ("one/other.tf", ""),
        ("two/main.tf", RULES),
    ]);
    let output = mutualsg(dir.path(), &["generate", "one/other.tf"]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(dir.path().join("one").join(GENERATED).exists());
    assert!(!dir.path().join("two").join(GENERATED).exists());
}

#[test]
fn paths_in_diffs_are_relative_to_the_current_directory() {
    let dir = tree(&[("live/prod/main.tf", RULES)]);
    let absolute = dir.path().join("live/./prod");
    let output = mutualsg(dir.path(), &["diff", absolute.to_str().unwrap()]);
    assert!(
        text(&output.stdout).contains("+++ b/live/prod/mutual_rules.gen.tf\n"),
        "{}",
        text(&output.stdout)
    );
    let output = mutualsg(&dir.path().join("live"), &["diff", "./prod"]);
    assert!(text(&output.stdout).contains("+++ b/prod/mutual_rules.gen.tf\n"));
}

#[test]
fn hidden_and_terraform_directories_are_skipped() {
    let dir = tree(&[
        (".terraform/modules/x/main.tf", RULES),
        (".hidden/main.tf", RULES),
        ("visible/main.tf", RULES),
    ]);
    assert_eq!(code(&mutualsg(dir.path(), &["generate"])), 0);
    assert!(dir.path().join("visible").join(GENERATED).exists());
    assert!(
        !dir.path()
            .join(".terraform/modules/x")
            .join(GENERATED)
            .exists()
    );
    assert!(!dir.path().join(".hidden").join(GENERATED).exists());
}

#[test]
fn tofu_files_shadow_tf_files_of_the_same_name() {
    let dir = tree(&[
        ("rules.tf", RULES),
        ("rules.tofu", &RULES.replace("443", "8443")),
    ]);
    let output = mutualsg(dir.path(), &["generate"]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let generated = fs::read_to_string(dir.path().join(GENERATED)).unwrap();
    assert!(generated.contains("from rules.tofu"));
    assert!(generated.contains("8443"));
}

#[test]
fn files_that_do_not_mention_mutual_rules_are_not_parsed() {
    let dir = tree(&[
        ("main.tf", RULES),
        ("legacy.tf", "resource \"x\" \"y\" { a = \"${\" }\n"),
    ]);
    let output = mutualsg(dir.path(), &["generate"]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
}

#[test]
fn a_symlinked_generated_file_is_refused() {
    let dir = tree(&[("main.tf", RULES), ("elsewhere.tf", "# keep\n")]);
    std::os::unix::fs::symlink("elsewhere.tf", dir.path().join(GENERATED)).unwrap();
    let output = mutualsg(dir.path(), &["generate"]);
    assert_eq!(code(&output), 2);
    assert!(text(&output.stderr).contains("symlink"));
    assert_eq!(
        fs::read_to_string(dir.path().join("elsewhere.tf")).unwrap(),
        "# keep\n"
    );
    assert!(
        fs::symlink_metadata(dir.path().join(GENERATED))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn bytes_that_are_not_utf8_are_accepted_in_comments_only_as_terraform_does() {
    let dir = tree(&[("main.tf", RULES)]);
    fs::write(dir.path().join("extra.tf"), b"# mutual_rules \xff\n").unwrap();
    let output = mutualsg(dir.path(), &["generate"]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    fs::write(
        dir.path().join("extra.tf"),
        b"# mutual_rules\nlocals {\n  x = \"\xff\"\n}\n",
    )
    .unwrap();
    let output = mutualsg(dir.path(), &["check"]);
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("syntax error: Invalid character encoding"),
        "{stderr}"
    );
    assert!(stderr.contains("[extra.tf:3:8]"), "{stderr}");
}

#[test]
fn generated_files_are_written_whole_with_no_temporary_files_left() {
    let dir = tree(&[("a/main.tf", RULES), ("b/main.tf", RULES)]);
    mutualsg(dir.path(), &["generate"]);
    for entry in walkdir::WalkDir::new(dir.path()) {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "left behind: {name}");
    }
    let text = fs::read_to_string(Path::new(dir.path()).join("a").join(GENERATED)).unwrap();
    assert!(text.starts_with("# Code generated by mutualsg from main.tf. DO NOT EDIT.\n"));
    assert!(text.ends_with("}\n"));
}

#[test]
fn generate_exit_code_fails_only_when_a_file_changed() {
    let dir = tree(&[("main.tf", RULES)]);
    assert_eq!(
        code(&mutualsg(dir.path(), &["generate", "--exit-code"])),
        1,
        "created"
    );
    assert_eq!(
        code(&mutualsg(dir.path(), &["generate", "--exit-code"])),
        0,
        "unchanged"
    );
    fs::write(dir.path().join("main.tf"), RULES.replace("443", "444")).unwrap();
    assert_eq!(
        code(&mutualsg(dir.path(), &["generate", "--exit-code"])),
        1,
        "changed"
    );
    fs::write(dir.path().join("main.tf"), "").unwrap();
    assert_eq!(
        code(&mutualsg(dir.path(), &["generate", "--exit-code"])),
        1,
        "deleted"
    );
    assert!(!dir.path().join(GENERATED).exists());
}

#[test]
fn check_format_json_lists_every_drifted_file_and_diagnostic() {
    let dir = tree(&[
        ("good/main.tf", RULES),
        ("bad/main.tf", &RULES.replace("443", "\"https\"")),
    ]);
    let output = mutualsg(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&output), 2);
    let problems: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let problems = problems.as_array().unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0]["kind"], "drift");
    assert_eq!(problems[0]["path"], "good/mutual_rules.gen.tf");
    assert!(
        problems[0]["diff"]
            .as_str()
            .unwrap()
            .contains("+++ b/good/mutual_rules.gen.tf")
    );
    assert_eq!(problems[1]["kind"], "error");
    assert_eq!(problems[1]["path"], "bad/main.tf");
    assert_eq!(
        (problems[1]["line"].as_u64(), problems[1]["column"].as_u64()),
        (Some(10), Some(26))
    );
    assert_eq!(problems[1]["code"], "mutualsg::bad_port");
    assert!(problems[1]["message"].as_str().unwrap().contains("https"));
}

#[test]
fn check_format_github_prints_one_annotation_per_problem() {
    let dir = tree(&[
        ("good/main.tf", RULES),
        ("bad/main.tf", &RULES.replace("443", "\"https\"")),
    ]);
    let output = mutualsg(dir.path(), &["check", "--format", "github"]);
    assert_eq!(code(&output), 2);
    let stdout = text(&output.stdout);
    let annotations: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("::error "))
        .collect();
    assert_eq!(annotations.len(), 2, "{stdout}");
    assert!(
        annotations[0]
            .starts_with("::error file=good/mutual_rules.gen.tf,line=1,col=1,title=mutualsg::"),
        "{stdout}"
    );
    assert!(
        annotations[1]
            .starts_with("::error file=bad/main.tf,line=10,col=26,title=mutualsg%3A%3Abad_port::"),
        "{stdout}"
    );
    // Multi-line text is escaped onto the annotation's one line.
    assert!(annotations[1].contains("%0Ahelp: "), "{stdout}");
    assert!(stdout.contains("::group::good/mutual_rules.gen.tf\n--- /dev/null\n"));
}

#[test]
fn warnings_are_reported_but_do_not_fail_the_run() {
    let inline = "resource \"aws_security_group\" \"b\" {\n  egress {\n    from_port = 0\n    to_port = 0\n    protocol = \"-1\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n";
    let rules = RULES.replace("resource \"aws_security_group\" \"b\" {}\n", "");
    let dir = tree(&[("main.tf", &rules), ("groups.tf", inline)]);
    let output = mutualsg(dir.path(), &["generate"]);
    assert_eq!(code(&output), 0);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("aws_security_group.b has inline `ingress`/`egress` blocks"),
        "{stderr}"
    );
    assert!(stderr.contains("1 warning"), "{stderr}");
    let json = mutualsg(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&json), 0);
    let problems: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(problems[0]["kind"], "warning");
}

#[test]
fn the_style_is_read_from_the_nearest_config_file_up_the_tree() {
    let config = "style = \"aws_vpc_security_group_rule\"\n";
    let dir = tree(&[
        ("live/.mutualsg.toml", config),
        ("live/prod/net/main.tf", RULES),
        ("legacy/main.tf", RULES),
    ]);
    assert_eq!(code(&mutualsg(dir.path(), &["generate"])), 0);
    let vpc = fs::read_to_string(dir.path().join("live/prod/net").join(GENERATED)).unwrap();
    assert!(
        vpc.contains("resource \"aws_vpc_security_group_ingress_rule\" \"a_to_b\""),
        "{vpc}"
    );
    let classic = fs::read_to_string(dir.path().join("legacy").join(GENERATED)).unwrap();
    assert!(
        classic.contains("resource \"aws_security_group_rule\" \"a_to_b_tcp_443_ingress\""),
        "{classic}"
    );
}

/// Switching to the `aws_vpc_*` style would replace every rule: those resources import only by
/// their `sgr-` id, which only the state holds. `generate` refuses, says why, and writes nothing
/// (today's rules stay as they are); `check` reports the same error.
#[test]
fn switching_style_to_the_vpc_rules_is_refused_and_writes_nothing() {
    let dir = tree(&[("net/main.tf", RULES)]);
    assert_eq!(code(&mutualsg(dir.path(), &["generate"])), 0);
    fs::write(
        dir.path().join(".mutualsg.toml"),
        "style = \"aws_vpc_security_group_rule\"\n",
    )
    .unwrap();
    let before = read_tree(dir.path());
    for command in ["generate", "check"] {
        let output = mutualsg(dir.path(), &[command]);
        let stderr = text(&output.stderr);
        assert_eq!(code(&output), 2, "{command}: {stderr}");
        let message = stderr
            .split_whitespace()
            .filter(|word| *word != "│")
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            message.contains("net/mutual_rules.gen.tf: the style changed from aws_security_group_rule to aws_vpc_security_group_rule, which Terraform cannot do without replacing the rules"),
            "{stderr}"
        );
        assert!(message.contains("sgr- id"), "{stderr}");
        assert!(
            message.contains(
                "terraform show -json > state.json && mutualsg generate --state state.json"
            ),
            "{stderr}"
        );
        assert_eq!(read_tree(dir.path()), before, "{command} changed the tree");
    }
    // A file that is not a state stops generate, check and diff before anything is read.
    fs::write(
        dir.path().join("plan.json"),
        "{\"format_version\": \"1.2\"}",
    )
    .unwrap();
    for command in ["generate", "check", "diff"] {
        let output = mutualsg(dir.path(), &[command, "--state", "plan.json"]);
        let stderr = text(&output.stderr);
        assert_eq!(code(&output), 2, "{command}: {stderr}");
        assert!(stderr.contains("mutualsg::state"), "{stderr}");
        assert!(
            stderr.contains(
                "plan.json: not a Terraform state: not the output of `terraform show -json`"
            ),
            "{stderr}"
        );
    }
    let _ = fs::remove_file(dir.path().join("plan.json"));
    // Back to the style the state holds: up to date again.
    fs::remove_file(dir.path().join(".mutualsg.toml")).unwrap();
    assert_eq!(code(&mutualsg(dir.path(), &["check"])), 0);
}

/// Runs `generate` on a copy of the case's input; checks the invariants every case shares.
fn produce(case: &Path) -> Produced {
    let work = assert_fs::TempDir::new().unwrap();
    copy_tree(&case.join("input"), work.path());
    let before = read_tree(work.path());

    let output = mutualsg(work.path(), &["generate"]);
    let code = output.status.code().unwrap();
    let after = read_tree(work.path());

    if code == 2 {
        assert_eq!(
            before,
            after,
            "{}: an error run changed the tree",
            case.display()
        );
    } else {
        assert_eq!(code, 0, "{}: generate exited {code}", case.display());
        // What generate wrote is a fixed point: check finds nothing to do.
        let check = mutualsg(work.path(), &["check"]);
        assert_eq!(
            check.status.code(),
            Some(0),
            "{}: check after generate: {}",
            case.display(),
            text(&check.stderr)
        );
        assert!(
            check.stdout.is_empty(),
            "{}: check printed a diff",
            case.display()
        );
    }
    for (path, bytes) in &after {
        let name = path.file_name().unwrap().to_string_lossy();
        if name == GENERATED {
            // A second, independent HCL parser accepts every generated file.
            let parsed = hcl::parse(&text(bytes));
            assert!(
                parsed.is_ok(),
                "{}: hcl-rs rejects {}: {parsed:?}",
                case.display(),
                path.display()
            );
        }
        assert!(
            !name.starts_with(".mutual_rules.gen."),
            "{}: temporary file left: {}",
            case.display(),
            path.display()
        );
    }

    let mut files = vec![
        (PathBuf::from("exit-code"), format!("{code}\n").into_bytes()),
        (PathBuf::from("stderr"), output.stderr),
    ];
    files.extend(
        after
            .into_iter()
            .filter(|(path, _)| path.file_name().is_some_and(|name| name == GENERATED)),
    );
    Produced { files }
}

fn run_cases(cases: Vec<PathBuf>, want_code: &str) {
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        let produced = produce(case);
        let code = &produced.files[0].1;
        if !blessing() && text(code).trim() != want_code {
            failures.push(format!(
                "{}: exit code {}, want {want_code}",
                case.display(),
                text(code).trim()
            ));
        }
        failures.extend(compare_dir(case, produced));
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn example_tree() {
    run_cases(vec![fixtures().join("example")], "0");
}

#[test]
fn generate_cases() {
    run_cases(cases("generate"), "0");
}

#[test]
fn error_cases() {
    run_cases(cases("errors"), "2");
}
