//! Filesystem faults and hostile input, through the binary as users run it. Every case ends in
//! success or in a clear error naming the path: never a panic, a hang, a stack overflow, a
//! half-written file or a temporary file left behind, and the other modules are unaffected.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

const RULES: &str = r#"locals {
  mutual_rules = [
    {
      source_sg_id     = aws_security_group.a.id
      target_sg_id     = aws_security_group.b.id
      destination_port = 443
      description      = "HTTPS"
    },
  ]
}
"#;

const GENERATED: &str = "mutual_rules.gen.tf";
const BINARY: &str = env!("CARGO_BIN_EXE_mutualsg");

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

/// No `.mutual_rules.gen.*.tmp` anywhere under `root`.
fn assert_no_temporary_files(root: &Path) {
    for entry in walkdir::WalkDir::new(root) {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !(name.starts_with(".mutual_rules.gen.") && name.ends_with(".tmp")),
            "temporary file left: {name}"
        );
    }
}

/// The generated file `mutualsg generate` writes for [`RULES`].
fn expected_output() -> Vec<u8> {
    let dir = tree(&[("main.tf", RULES)]);
    assert_eq!(code(&mutualsg(dir.path(), &["generate"])), 0);
    fs::read(dir.path().join(GENERATED)).unwrap()
}

/// Runs the binary in `dir` with a deadline: a read that blocks (a named pipe) fails the test
/// instead of hanging it.
fn mutualsg_within(dir: &Path, args: &[&str], deadline: Duration) -> Output {
    let mut child = Command::new(BINARY)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > deadline {
            child.kill().unwrap();
            panic!("mutualsg {args:?} still running after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Whether a read-only bind mount in a private mount namespace works here (as root on these
/// machines; NOTES.md: root ignores permission bits, so a 0555 directory is no test).
fn read_only_mounts_work() -> bool {
    let probe = tree(&[]);
    let status = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            r#"mount --bind -o ro "$1" "$1" && ! touch "$1/probe" 2>/dev/null"#,
            "sh",
        ])
        .arg(probe.path())
        .stderr(Stdio::null())
        .status();
    status.is_ok_and(|status| status.success())
}

/// Runs `mutualsg ARGS` in `root` with `read_only` (a directory under it) mounted read-only.
fn mutualsg_with_read_only(root: &Path, read_only: &Path, args: &[&str]) -> Output {
    Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            r#"mount --bind -o ro "$1" "$1" && cd "$2" && shift 2 && exec "$@""#,
            "sh",
        ])
        .arg(read_only)
        .arg(root)
        .arg(BINARY)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn a_read_only_module_directory_is_an_error_naming_the_file_and_the_others_proceed() {
    if !read_only_mounts_work() {
        eprintln!("skipped: no read-only bind mounts here (needs root and unshare -m)");
        return;
    }
    let dir = tree(&[("good/main.tf", RULES), ("locked/main.tf", RULES)]);
    let locked = dir.path().join("locked");
    let before = read_tree(&locked);

    let output = mutualsg_with_read_only(dir.path(), &locked, &["generate"]);
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    assert!(
        stderr.contains("cannot write locked/mutual_rules.gen.tf: Read-only file system"),
        "{stderr}"
    );
    assert_eq!(
        fs::read(dir.path().join("good").join(GENERATED)).unwrap(),
        expected_output()
    );
    assert_eq!(read_tree(&locked), before);
    assert_no_temporary_files(dir.path());

    // Up to date, a read-only checkout is fine: nothing to write, and check is clean.
    assert_eq!(code(&mutualsg(dir.path(), &["generate"])), 0);
    for command in ["generate", "check"] {
        let output = mutualsg_with_read_only(dir.path(), &locked, &[command]);
        assert_eq!(code(&output), 0, "{command}: {}", text(&output.stderr));
    }
}

#[test]
fn a_write_error_names_the_users_file_not_the_temporary_one() {
    if !read_only_mounts_work() {
        eprintln!("skipped: no read-only bind mounts here (needs root and unshare -m)");
        return;
    }
    let dir = tree(&[("locked/main.tf", RULES)]);
    let locked = dir.path().join("locked");
    let output = mutualsg_with_read_only(dir.path(), &locked, &["generate"]);
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    assert!(
        stderr.contains("cannot write locked/mutual_rules.gen.tf: Read-only file system"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(".tmp") && !stderr.contains(".mutual_rules.gen."),
        "the temporary file is named: {stderr}"
    );
}

#[test]
fn a_generated_file_that_is_a_directory_is_refused_and_kept() {
    let dir = tree(&[
        ("blocked/main.tf", RULES),
        ("blocked/mutual_rules.gen.tf/keep.txt", "mine\n"),
        ("other/main.tf", RULES),
    ]);
    let output = mutualsg(dir.path(), &["generate"]);
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    assert!(
        stderr.contains("blocked/mutual_rules.gen.tf is not a regular file"),
        "{stderr}"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("blocked/mutual_rules.gen.tf/keep.txt")).unwrap(),
        "mine\n"
    );
    assert!(dir.path().join("other").join(GENERATED).is_file());
    assert_no_temporary_files(dir.path());
}

#[test]
fn a_directory_symlink_loop_is_walked_once() {
    let dir = tree(&[("net/main.tf", RULES)]);
    std::os::unix::fs::symlink("..", dir.path().join("net/up")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("net/here")).unwrap();
    let output = mutualsg_within(dir.path(), &["generate"], Duration::from_secs(30));
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), 0, "{stderr}");
    assert!(stderr.contains("1 module with mutual_rules"), "{stderr}");
    assert_eq!(
        fs::read(dir.path().join("net").join(GENERATED)).unwrap(),
        expected_output()
    );
}

/// A `.tf` that cannot be read (a symlink whose file is gone, a symlink loop) may be the one
/// that holds `mutual_rules`: Terraform fails to read it ("Failed to read file"), and so does
/// mutualsg, naming it, rather than delete the module's generated file as stale. A dangling
/// symlink is also what a file deleted between discovery and reading looks like to the read
/// that follows, so this covers that race without a test hook.
#[test]
fn an_unreadable_tf_file_is_an_error_naming_it_and_the_generated_file_is_kept() {
    let dir = tree(&[
        ("dangling/main.tf", RULES),
        ("looping/main.tf", RULES),
        ("fine/main.tf", RULES),
    ]);
    assert_eq!(code(&mutualsg(dir.path(), &["generate"])), 0);
    // The rules move into a shared file that is then lost, and a link points at itself.
    fs::remove_file(dir.path().join("dangling/main.tf")).unwrap();
    std::os::unix::fs::symlink("../shared/rules.tf", dir.path().join("dangling/rules.tf")).unwrap();
    std::os::unix::fs::symlink("loop.tf", dir.path().join("looping/loop.tf")).unwrap();
    let before = read_tree(dir.path());

    for command in ["generate", "check"] {
        let output = mutualsg(dir.path(), &[command]);
        let stderr = text(&output.stderr);
        assert_eq!(code(&output), 2, "{command}: {stderr}");
        assert!(
            stderr.contains("dangling/rules.tf: cannot read file: No such file or directory"),
            "{stderr}"
        );
        assert!(
            stderr.contains("looping/loop.tf: cannot read file: Too many levels of symbolic links"),
            "{stderr}"
        );
        assert!(stderr.contains("2 errors"), "{stderr}");
        assert_eq!(read_tree(dir.path()), before, "{command} changed the tree");
    }
}

#[test]
fn a_named_pipe_is_not_read() {
    let dir = tree(&[("net/main.tf", RULES)]);
    let status = Command::new("mkfifo")
        .arg(dir.path().join("net/pipe.tf"))
        .status()
        .unwrap();
    assert!(status.success());
    let output = mutualsg_within(dir.path(), &["generate"], Duration::from_secs(30));
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(dir.path().join("net").join(GENERATED).is_file());
}

/// Two `generate`s (and a `check`) on one tree at once, many times over: each file is written
/// by a rename, so the result is one complete, correct file, and no run fails.
#[test]
fn racing_runs_leave_one_complete_file() {
    let expected = expected_output();
    let dir = tree(&[
        ("a/main.tf", RULES),
        ("b/main.tf", RULES),
        ("c/main.tf", RULES),
    ]);
    for round in 0..25 {
        for module in ["a", "b", "c"] {
            let _ = fs::remove_file(dir.path().join(module).join(GENERATED));
        }
        let spawn = |command: &str| {
            Command::new(BINARY)
                .current_dir(dir.path())
                .arg(command)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let runs = [spawn("generate"), spawn("generate"), spawn("check")];
        let codes: Vec<i32> = runs
            .into_iter()
            .map(|run| {
                let output = run.wait_with_output().unwrap();
                assert!(
                    !text(&output.stderr).contains("error"),
                    "round {round}: {}",
                    text(&output.stderr)
                );
                code(&output)
            })
            .collect();
        assert_eq!(&codes[..2], &[0, 0], "round {round}");
        assert!(codes[2] <= 1, "round {round}: check exited {}", codes[2]);
        for module in ["a", "b", "c"] {
            let written = fs::read(dir.path().join(module).join(GENERATED)).unwrap();
            assert_eq!(written, expected, "round {round}: {module}");
        }
        assert_no_temporary_files(dir.path());
    }
}

/// A minified or generated file: one line of 10 MB. It works when valid; an error at its end
/// is located and quotes only the neighbourhood of the error, not 10 MB of line.
#[test]
fn a_ten_megabyte_single_line_file() {
    let connection = |port: u16, sign: &str| {
        format!(
            "{{ source_sg_id = aws_security_group.a.id, target_sg_id = aws_security_group.b.id, destination_port {sign} {port} }}"
        )
    };
    let comment = format!("/* {}*/", "minified ".repeat(10 * 1024 * 1024 / 9));
    let line = |second: String| {
        format!(
            "locals {{ mutual_rules = [{}, {comment} {second}] }}\n",
            connection(443, "=")
        )
    };
    let good = line(connection(80, "="));
    let bad = line(connection(80, "= ="));
    assert!(good.len() > 10 * 1024 * 1024 && good.lines().count() == 1);
    let dir = tree(&[("good/main.tf", &good), ("bad/main.tf", &bad)]);
    let before = read_tree(&dir.path().join("bad"));

    let output = mutualsg_within(dir.path(), &["generate"], Duration::from_secs(60));
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    let generated = fs::read_to_string(dir.path().join("good").join(GENERATED)).unwrap();
    assert_eq!(generated.matches("resource ").count(), 4, "{generated}");
    let column = bad.rfind("= =").unwrap() + 3;
    assert!(
        stderr.contains(&format!("[bad/main.tf:1:{column}]")),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(stderr.len() < 4096, "stderr is {} bytes", stderr.len());
    assert_eq!(read_tree(&dir.path().join("bad")), before);
}

/// Malformed input on which hcl-edit backtracked exponentially (`fuzz/slow/`: minutes for a
/// kilobyte) is parsed in linear time, with no time limit: each file is a syntax error at the
/// line and with the summary Terraform reports (`terraform fmt -check`), and the other modules
/// are generated.
#[test]
fn input_that_stalled_hcl_edit_is_a_located_syntax_error_and_the_others_proceed() {
    let slow = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/slow");
    // What Terraform 1.11 and 1.15 report for each.
    let terraform = [
        (
            "found-by-generate_bytes-16s",
            4,
            "Invalid legacy index syntax",
        ),
        (
            "found-by-generate_bytes-375s",
            4,
            "Invalid legacy index syntax",
        ),
        (
            "found-by-generate_bytes-timeout",
            3,
            "Invalid number literal",
        ),
        ("hcl-edit-backtracking-x4", 8, "Invalid legacy index syntax"),
        ("hcl-edit-backtracking", 5, "Invalid legacy index syntax"),
    ];
    let mut files: Vec<(String, String)> = terraform
        .iter()
        .map(|(name, _, _)| {
            let text = fs::read_to_string(slow.join(format!("{name}.tf"))).unwrap();
            (format!("{name}/main.tf"), text)
        })
        .collect();
    assert_eq!(files.len(), fs::read_dir(&slow).unwrap().count());
    // Good rules (read by the fast reader) and a malformed file in the same module.
    let malformed = fs::read_to_string(slow.join("hcl-edit-backtracking-x4.tf")).unwrap();
    files.push((
        "rules-and-garbage/main.tf".into(),
        format!("{RULES}\n{malformed}"),
    ));
    files.push(("good/main.tf".into(), RULES.into()));
    let entries: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let dir = tree(&entries);
    let before = read_tree(dir.path());

    let output = mutualsg(dir.path(), &["generate"]);
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    assert_eq!(
        fs::read(dir.path().join("good").join(GENERATED)).unwrap(),
        expected_output()
    );
    let located = |path: &str, line: usize, summary: &str| {
        let at = format!("╭─[{path}:{line}:");
        let found = stderr
            .find(&at)
            .unwrap_or_else(|| panic!("{at} not in: {stderr}"));
        let heading = stderr[..found]
            .trim_end()
            .lines()
            .last()
            .unwrap_or_default();
        assert_eq!(
            heading.trim(),
            format!("× syntax error: {summary}"),
            "{stderr}"
        );
    };
    for (name, line, summary) in terraform {
        located(&format!("{name}/main.tf"), line, summary);
    }
    let line = RULES.lines().count() + 1 + 8;
    located(
        "rules-and-garbage/main.tf",
        line,
        "Invalid legacy index syntax",
    );
    let mut after = read_tree(dir.path());
    after.retain(|path, _| !path.starts_with("good"));
    let mut unchanged = before;
    unchanged.retain(|path, _| !path.starts_with("good"));
    assert_eq!(after, unchanged);
    assert_no_temporary_files(dir.path());
}

/// The parser bounds its recursion (`syntax::MAX_DEPTH` nested expressions); mutualsg reports
/// the limit where it is hit.
#[test]
fn a_hundred_thousand_brackets_do_not_overflow_the_stack() {
    let deep = format!("locals {{\n  mutual_rules = {}\n}}\n", "[".repeat(100_000));
    let dir = tree(&[("main.tf", &deep)]);
    let output = mutualsg_within(dir.path(), &["check"], Duration::from_secs(60));
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), 2, "{}", &stderr[..stderr.len().min(2000)]);
    assert!(
        stderr.contains("nested too deeply: mutualsg reads at most 128 nested expressions"),
        "{stderr}"
    );
    // At the first bracket past the limit.
    assert!(stderr.contains("[main.tf:2:146]"), "{stderr}");
    assert!(stderr.len() < 4096, "stderr is {} bytes", stderr.len());
}

/// Quoting a long line cuts it between characters, never inside one.
#[test]
fn a_long_line_of_multibyte_characters_is_quoted_in_part() {
    for filler in ["é", "€", "𝄞"] {
        let comment = format!("/* {} */", filler.repeat(3000));
        let text = format!("locals {{ mutual_rules = [{comment} {{ a = = 1 }}] }}\n");
        let dir = tree(&[("main.tf", &text)]);
        let output = mutualsg(dir.path(), &["check"]);
        let stderr = text_of(&output.stderr);
        assert_eq!(code(&output), 2, "{stderr}");
        let column = text[..text.find("= =").unwrap() + 2].chars().count() + 1;
        assert!(
            stderr.contains(&format!("[main.tf:1:{column}]")),
            "{stderr}"
        );
        assert!(stderr.len() < 4096, "stderr is {} bytes", stderr.len());
    }
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("stderr is UTF-8")
}

/// [`RULES`] with a `name` added: the same rules under new names, which `generate` records with
/// `moved` blocks in `mutual_rules.migrate.tf`.
fn renamed_rules() -> String {
    RULES.replace(
        "      description      = \"HTTPS\"\n",
        "      description      = \"HTTPS\"\n      name             = \"https\"\n",
    )
}

const MIGRATION: &str = "mutual_rules.migrate.tf";

/// A rename writes two files of one module. When the migration file cannot be written, the
/// generated file must not be written either: with the new names and no `moved` blocks, the
/// next `generate` would have nothing to write and the moves would be lost for good.
#[test]
fn a_rename_whose_migration_file_cannot_be_written_writes_nothing() {
    if !read_only_mounts_work() {
        eprintln!("skipped: no read-only bind mounts here (needs root and unshare -m)");
        return;
    }
    let dir = tree(&[("net/main.tf", RULES)]);
    assert_eq!(code(&mutualsg(dir.path(), &["generate"])), 0);
    // An earlier migration's file, still there, and read-only.
    let migration = dir.path().join("net").join(MIGRATION);
    fs::write(&migration, "# an earlier migration\n").unwrap();
    fs::write(dir.path().join("net/main.tf"), renamed_rules()).unwrap();
    let before = text_tree(dir.path());

    let output = mutualsg_with_read_only(dir.path(), &migration, &["generate"]);
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    assert!(
        stderr.contains("cannot write net/mutual_rules.migrate.tf"),
        "{stderr}"
    );
    assert_eq!(
        text_tree(dir.path()),
        before,
        "a file was written: {stderr}"
    );
    assert_no_temporary_files(dir.path());

    // The cause fixed, the next run writes both, the moves included.
    let output = mutualsg(dir.path(), &["generate"]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let moves = fs::read_to_string(&migration).unwrap();
    assert!(
        moves.contains(
            "moved {\n  from = aws_security_group_rule.a_to_b_tcp_443_egress\n  to   = aws_security_group_rule.https_egress\n}"
        ),
        "{moves}"
    );
    assert!(moves.starts_with("# an earlier migration\n"), "{moves}");
}

/// The other order: the migration file is written and then the generated file fails. The
/// migration file is rolled back, so the module is as it was, and the next run writes both.
#[test]
fn a_rename_whose_generated_file_cannot_be_written_rolls_the_migration_file_back() {
    if !read_only_mounts_work() {
        eprintln!("skipped: no read-only bind mounts here (needs root and unshare -m)");
        return;
    }
    let dir = tree(&[("net/main.tf", RULES)]);
    assert_eq!(code(&mutualsg(dir.path(), &["generate"])), 0);
    fs::write(dir.path().join("net/main.tf"), renamed_rules()).unwrap();
    let generated = dir.path().join("net").join(GENERATED);
    let before = text_tree(dir.path());

    let output = mutualsg_with_read_only(dir.path(), &generated, &["generate"]);
    let stderr = text(&output.stderr);
    assert_eq!(code(&output), 2, "{stderr}");
    assert!(
        stderr.contains("cannot write net/mutual_rules.gen.tf"),
        "{stderr}"
    );
    assert_eq!(
        text_tree(dir.path()),
        before,
        "a file was left written: {stderr}"
    );
    assert_no_temporary_files(dir.path());

    let output = mutualsg(dir.path(), &["generate"]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let moves = fs::read_to_string(dir.path().join("net").join(MIGRATION)).unwrap();
    assert!(
        moves.contains("to   = aws_security_group_rule.https_ingress"),
        "{moves}"
    );
}

/// Every file under `root` as text, to compare trees with a readable diff.
fn text_tree(root: &Path) -> std::collections::BTreeMap<std::path::PathBuf, String> {
    read_tree(root)
        .into_iter()
        .map(|(path, bytes)| (path, text(&bytes)))
        .collect()
}
