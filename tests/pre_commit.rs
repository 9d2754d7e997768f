//! The hooks of `.pre-commit-hooks.yaml`, run by the real `pre-commit` in a throwaway git
//! repository the way a user's repository runs them: a run fails whenever the hook created or
//! changed `mutual_rules.gen.tf`, and passes once the generated file is staged.
//!
//! `pre-commit` is found through `MUTUALSG_PRE_COMMIT` or `PATH`; without it these tests are
//! skipped with a message, unless `MUTUALSG_REQUIRE_PRE_COMMIT=1` (as in CI), which makes a
//! missing pre-commit a failure.
//!
//! pre-commit clones the hook repository at its `rev`, even a local path, so these tests
//! exercise this checkout's committed state (`HEAD`), not the work tree: the `mutualsg` hook
//! (`language: rust`) is built from HEAD, and a change to `src/` or `.pre-commit-hooks.yaml`
//! shows here only once committed. That build is a release `cargo install` taking a minute or
//! two the first time; pre-commit caches it by repository and rev in `PRE_COMMIT_HOME`, which
//! these tests keep under the target directory so that later runs at the same HEAD reuse it.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// The module's directory in the user's repository. A subdirectory, because pre-commit passes
/// file paths and mutualsg must process the module each one belongs to.
const MODULE: &str = "network";
const RULES: &str = "network/rules.tf";
const GENERATED: &str = "network/mutual_rules.gen.tf";

#[test]
fn rust_hook_builds_mutualsg_and_fails_each_run_that_changes_the_generated_file() {
    let test = "the pre-commit rust hook";
    let Some(pre_commit) = pre_commit_or_skip(test) else {
        return;
    };
    let Some(rev) = checkout_head(test) else {
        return;
    };
    // pre-commit builds the hook from `rev`, so its output must match the goldens of `rev`.
    let example = Example::read(|path| git_show(&rev, path));
    let repo = UserRepo::new(&pre_commit, &rev, "mutualsg", None, &example);
    fail_then_pass_on_every_change(&repo, &example);
}

#[test]
fn system_hook_runs_mutualsg_from_path_and_fails_each_run_that_changes_the_generated_file() {
    let test = "the pre-commit system hook";
    let Some(pre_commit) = pre_commit_or_skip(test) else {
        return;
    };
    let Some(rev) = checkout_head(test) else {
        return;
    };
    // The system hook runs whatever `mutualsg` is first on PATH: put this build there, and
    // compare with the goldens of the work tree it was built from.
    let binary = assert_cmd::cargo::cargo_bin("mutualsg");
    let example = Example::read(|path| fs::read_to_string(checkout().join(path)).unwrap());
    let repo = UserRepo::new(
        &pre_commit,
        &rev,
        "mutualsg-system",
        binary.parent(),
        &example,
    );
    fail_then_pass_on_every_change(&repo, &example);
}

/// The life of a module under the hook: created, staged, edited, staged again.
fn fail_then_pass_on_every_change(repo: &UserRepo, example: &Example) {
    // `--all-files` first, as after installing the hooks in an existing repository. The new
    // generated file is untracked, which pre-commit alone would not notice: the hook's exit
    // code must fail the run.
    let first = repo.pre_commit(&["run", "--all-files"]);
    assert_hook_failed(&first, "creating the generated file");
    assert_eq!(repo.read(GENERATED), example.generated);

    repo.git(&["add", "-A"]);
    let staged = repo.work_tree();
    let second = repo.pre_commit(&["run", "--all-files"]);
    assert_hook_passed(&second, "with the generated file staged");
    assert_eq!(repo.work_tree(), staged, "a passing run changed files");

    // Then as `git commit` runs it, on the staged files only: here just the edited
    // `rules.tf`, whose module must be regenerated.
    let rules = repo.read(RULES);
    assert!(
        rules.contains("destination_port = 3306"),
        "the example has no 3306 connection to edit:\n{rules}"
    );
    repo.write(
        RULES,
        &rules.replace("destination_port = 3306", "destination_port = 3307"),
    );
    repo.git(&["add", "-A"]);
    let edited = repo.pre_commit(&["run"]);
    assert_hook_failed(&edited, "regenerating after a port change");
    // Only the web → db connection changes: its port, and so its derived rule names.
    assert_eq!(
        repo.read(GENERATED),
        example.generated.replace("3306", "3307")
    );

    repo.git(&["add", "-A"]);
    let regenerated = repo.work_tree();
    let last = repo.pre_commit(&["run"]);
    assert_hook_passed(&last, "with the regenerated file staged");
    assert_eq!(repo.work_tree(), regenerated, "a passing run changed files");
}

/// The bundled three-tier example (`fixtures/example`): the module's two files and the
/// generated file mutualsg makes of them.
struct Example {
    main: String,
    rules: String,
    generated: String,
}

impl Example {
    /// Reads the example with `file`, which maps a path in the checkout to its text.
    fn read(file: impl Fn(&str) -> String) -> Example {
        Example {
            main: file("fixtures/example/input/main.tf"),
            rules: file("fixtures/example/input/rules.tf"),
            generated: file("fixtures/example/expected/mutual_rules.gen.tf"),
        }
    }
}

/// A user's git repository holding the example's module and a `.pre-commit-config.yaml` that
/// takes one hook from this checkout.
struct UserRepo {
    dir: assert_fs::TempDir,
    pre_commit: PathBuf,
    /// Prepended to PATH for pre-commit, so that the system hook finds this build.
    bin_dir: Option<PathBuf>,
}

impl UserRepo {
    fn new(
        pre_commit: &Path,
        rev: &str,
        hook: &str,
        bin_dir: Option<&Path>,
        example: &Example,
    ) -> UserRepo {
        let repo = UserRepo {
            dir: assert_fs::TempDir::new().unwrap(),
            pre_commit: pre_commit.to_path_buf(),
            bin_dir: bin_dir.map(Path::to_path_buf),
        };
        repo.git(&["init", "--quiet"]);
        repo.git(&["config", "user.name", "mutualsg tests"]);
        repo.git(&["config", "user.email", "tests@mutualsg.invalid"]);
        // A JSON string is a YAML scalar, so the checkout's path needs no escaping rules of
        // its own.
        let config = format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: {hook}\n",
            serde_json::to_string(checkout().to_str().unwrap()).unwrap()
        );
        repo.write(".pre-commit-config.yaml", &config);
        repo.write(&format!("{MODULE}/main.tf"), &example.main);
        repo.write(RULES, &example.rules);
        // pre-commit only looks at tracked files.
        repo.git(&["add", "-A"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.path().join(path)).unwrap()
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Every file outside `.git/`, by relative path.
    fn work_tree(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = read_tree(self.path());
        files.retain(|path, _| !path.starts_with(".git"));
        files
    }

    fn git(&self, args: &[&str]) {
        let output = isolated("git", self.path()).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            describe(&output)
        );
    }

    fn pre_commit(&self, args: &[&str]) -> Output {
        let mut command = isolated(&self.pre_commit, self.path());
        command.args(args).args(["--color", "never"]);
        if let Some(bin_dir) = &self.bin_dir {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let paths = std::iter::once(bin_dir.clone()).chain(std::env::split_paths(&path));
            command.env("PATH", std::env::join_paths(paths).unwrap());
        }
        command.output().unwrap()
    }
}

/// A command that sees only the repository it runs in. No global or system git config: a
/// developer's `core.hooksPath`, commit signing or templates must not change the outcome. No
/// inherited `GIT_*` variables, which a git hook running this test suite would pass on and
/// which would point git at the wrong repository. No `PRE_COMMIT*` or `SKIP` settings.
fn isolated(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("GIT_") || name_text.starts_with("PRE_COMMIT") || name == "SKIP" {
            command.env_remove(&name);
        }
    }
    command
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("PRE_COMMIT_HOME", cache().join("home"))
        // `cargo install --path` would build in the `target/` of pre-commit's clone, some
        // 200 MB left behind for every new HEAD. One build directory for all revs keeps the
        // cache small and lets a new HEAD rebuild only this crate, not its dependencies.
        .env("CARGO_TARGET_DIR", cache().join("cargo-target"))
        .env("NO_COLOR", "1");
    command
}

/// Kept across test runs: pre-commit's clones of the hook repository and the hooks it built,
/// which it keys by repository and rev, so that only a new HEAD pays for the rust hook's build.
fn cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit")
}

fn required() -> bool {
    std::env::var_os("MUTUALSG_REQUIRE_PRE_COMMIT").is_some_and(|v| v == "1")
}

/// pre-commit, or `None` (after saying why) when it is missing and not required.
fn pre_commit_or_skip(test: &str) -> Option<PathBuf> {
    match pre_commit() {
        Some(path) => Some(path),
        None if required() => panic!(
            "MUTUALSG_REQUIRE_PRE_COMMIT=1 but no pre-commit on PATH or in MUTUALSG_PRE_COMMIT"
        ),
        None => {
            eprintln!("skipping {test}: pre-commit not found on PATH (set MUTUALSG_PRE_COMMIT)");
            None
        }
    }
}

/// This checkout, the hook repository.
fn checkout() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The commit pre-commit takes the hooks from: this checkout's HEAD. `None` (after saying
/// why) when the checkout is not a git repository and pre-commit is not required.
fn checkout_head(test: &str) -> Option<String> {
    let output = Command::new("git")
        .current_dir(checkout())
        .args(["rev-parse", "--verify", "HEAD"])
        .output()
        .unwrap();
    if !output.status.success() {
        let message = format!("no git HEAD in {}", checkout().display());
        assert!(!required(), "{message}: {}", describe(&output));
        eprintln!("skipping {test}: {message}");
        return None;
    }
    warn_if_uncommitted();
    Some(text(&output.stdout).trim().to_owned())
}

/// What the rust hook is built from, and the example these tests read.
const HOOK_SOURCES: [&str; 5] = [
    "src",
    "Cargo.toml",
    "Cargo.lock",
    ".pre-commit-hooks.yaml",
    "fixtures/example",
];

/// Says so when the rust hook would be built from something other than the work tree: a
/// failure may then only mean "not committed yet".
fn warn_if_uncommitted() {
    let status = Command::new("git")
        .current_dir(checkout())
        .args(["status", "--porcelain", "--"])
        .args(HOOK_SOURCES)
        .output()
        .unwrap();
    if !status.stdout.is_empty() {
        eprintln!(
            "note: pre-commit uses HEAD, without these uncommitted changes:\n{}",
            text(&status.stdout)
        );
    }
}

/// A file as committed at `rev` in this checkout.
fn git_show(rev: &str, path: &str) -> String {
    let output = Command::new("git")
        .current_dir(checkout())
        .args(["show", &format!("{rev}:{path}")])
        .output()
        .unwrap();
    assert!(output.status.success(), "git show: {}", describe(&output));
    text(&output.stdout)
}

/// The run failed because of the hook's exit code 1 ("files changed"), not because the hook
/// errored (2), could not be installed, or found nothing to run on.
fn assert_hook_failed(output: &Output, when: &str) {
    let stdout = text(&output.stdout);
    assert!(
        output.status.code() == Some(1)
            && stdout.contains("Failed")
            && stdout.contains("- exit code: 1"),
        "pre-commit should fail {when}: {}",
        describe(output)
    );
}

/// The run passed with the hook run (a hook that found no files is "Skipped").
fn assert_hook_passed(output: &Output, when: &str) {
    assert!(
        output.status.success() && text(&output.stdout).contains("Passed"),
        "pre-commit should pass {when}: {}",
        describe(output)
    );
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    )
}
