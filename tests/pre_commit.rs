//! The hooks of `.pre-commit-hooks.yaml`, and the python hook of `pre-commit-mirror/`, run by
//! the real `pre-commit` in a throwaway git repository the way a user's repository runs them:
//! a run fails whenever the hook created or changed `mutual_rules.gen.tf`, and passes once the
//! generated file is staged.
//!
//! `pre-commit` is found through `MUTUALSG_PRE_COMMIT` or `PATH`; without it these tests are
//! skipped with a message, unless `MUTUALSG_REQUIRE_PRE_COMMIT=1` (as in CI), which makes a
//! missing pre-commit a failure. The python hook installs the wheel from
//! `MUTUALSG_WHEELHOUSE`, a directory standing in for PyPI (the `mutualsg` wheel built from
//! this work tree, and the mirror's build backend, setuptools); without it that test is
//! skipped, unless `MUTUALSG_REQUIRE_WHEEL=1` (as in CI). `.ci/run` fills the directory.
//!
//! pre-commit clones the hook repository at its `rev`, even a local path, so the rust and
//! system hook tests exercise this checkout's committed state (`HEAD`), not the work tree: the
//! `mutualsg` hook (`language: rust`) is built from HEAD, and a change to `src/` or
//! `.pre-commit-hooks.yaml` shows here only once committed. That build is a release
//! `cargo install` taking a minute or two the first time; pre-commit caches it by repository
//! and rev in `PRE_COMMIT_HOME`, which these tests keep under the target directory so that
//! later runs at the same HEAD reuse it (delete `target/tmp/pre-commit` for a cold install).
//! The python hook's mirror is copied from the work tree into a repository of its own.
//!
//! Each hook's first install is timed and printed, one install at a time, so that a user can
//! compare them: the rust hook's cold install compiles the crate, the python hook's installs
//! the wheel.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    let repo = UserRepo::new(
        &pre_commit,
        &checkout(),
        &rev,
        "mutualsg",
        Vec::new(),
        &example,
    );
    let cold = !cache().join("cargo-target").exists();
    let took = repo.install_hooks();
    report_install(
        "rust hook (language: rust, cargo install from source)",
        took,
        if cold {
            "cold: no cached build"
        } else {
            "not cold: reuses an earlier run's build directory or install"
        },
    );
    fail_then_pass_on_every_change(&repo, &example);
}

#[test]
fn python_hook_installs_the_wheel_with_no_cargo_on_path_and_fails_each_run_that_changes_the_generated_file()
 {
    let test = "the pre-commit python hook";
    let Some(pre_commit) = pre_commit_or_skip(test) else {
        return;
    };
    let Some(wheelhouse) = wheelhouse_or_skip(test) else {
        return;
    };
    let mirror = Mirror::new();
    // A fresh pre-commit home and no pip cache: the install is as cold as on a new machine
    // (where pip would download the same two wheels from PyPI).
    let home = assert_fs::TempDir::new().unwrap();
    let env: Vec<(&str, OsString)> = vec![
        ("PATH", path_without_rust()),
        // Even a rustup proxy reached some other way finds no toolchain.
        ("CARGO_HOME", "/nonexistent/cargo".into()),
        ("RUSTUP_HOME", "/nonexistent/rustup".into()),
        ("PRE_COMMIT_HOME", home.path().into()),
        ("PIP_NO_INDEX", "1".into()),
        ("PIP_FIND_LINKS", wheelhouse.into()),
        ("PIP_NO_CACHE_DIR", "1".into()),
        ("PIP_DISABLE_PIP_VERSION_CHECK", "1".into()),
    ];
    // The wheel is built from the work tree, so its output must match the work tree's goldens.
    let example = Example::read(|path| fs::read_to_string(checkout().join(path)).unwrap());
    let repo = UserRepo::new(
        &pre_commit,
        mirror.path(),
        &mirror.rev,
        "mutualsg",
        env,
        &example,
    );
    let took = repo.install_hooks();
    report_install(
        "python hook (language: python, the mutualsg wheel)",
        took,
        "cold: new pre-commit home, no pip cache",
    );
    // What runs is the wheel's executable, in the hook's virtualenv, not a build of this test.
    let installed: Vec<PathBuf> = walkdir::WalkDir::new(home.path())
        .into_iter()
        .map(Result::unwrap)
        .filter(|entry| entry.file_name() == "mutualsg" && !entry.file_type().is_dir())
        .map(|entry| {
            entry
                .path()
                .strip_prefix(home.path())
                .unwrap()
                .to_path_buf()
        })
        .collect();
    assert!(
        installed.len() == 1
            && installed[0]
                .components()
                .any(|part| part.as_os_str().to_string_lossy().starts_with("py_env-")),
        "expected one mutualsg executable in the hook's py_env, found {installed:?}"
    );
    fail_then_pass_on_every_change(&repo, &example);
}

#[test]
fn mirror_pins_the_version_of_this_crate_and_runs_the_main_hook() {
    let mirror = checkout().join("pre-commit-mirror");
    let pyproject = fs::read_to_string(mirror.join("pyproject.toml")).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        pyproject.contains(&format!("\nversion = \"{version}\"\n"))
            && pyproject.contains(&format!("\"mutualsg=={version}\"")),
        "pre-commit-mirror/pyproject.toml is not stamped with {version}: \
         run python3 pre-commit-mirror/stamp.py\n{pyproject}"
    );
    // The same hook as the main repository's `mutualsg`, but for how it is installed.
    let hook = |path: &Path| -> Vec<String> {
        let text = fs::read_to_string(path).unwrap();
        let start = text.find("- id: mutualsg\n").unwrap();
        text[start..]
            .lines()
            .skip(1)
            .take_while(|line| line.starts_with("  "))
            .filter(|line| !line.contains("description:") && !line.contains("language:"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        hook(&mirror.join(".pre-commit-hooks.yaml")),
        hook(&checkout().join(".pre-commit-hooks.yaml"))
    );
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
    let path = std::env::var_os("PATH").unwrap_or_default();
    let paths = binary.parent().map(Path::to_path_buf).into_iter();
    let path = std::env::join_paths(paths.chain(std::env::split_paths(&path))).unwrap();
    let repo = UserRepo::new(
        &pre_commit,
        &checkout(),
        &rev,
        "mutualsg-system",
        vec![("PATH", path)],
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
/// takes one hook from a hook repository (this checkout, or a copy of the mirror).
struct UserRepo {
    dir: assert_fs::TempDir,
    pre_commit: PathBuf,
    /// Set for pre-commit, over `isolated`'s: PATH, PRE_COMMIT_HOME, pip's settings.
    env: Vec<(&'static str, OsString)>,
}

impl UserRepo {
    fn new(
        pre_commit: &Path,
        hook_repo: &Path,
        rev: &str,
        hook: &str,
        env: Vec<(&'static str, OsString)>,
        example: &Example,
    ) -> UserRepo {
        let repo = UserRepo {
            dir: assert_fs::TempDir::new().unwrap(),
            pre_commit: pre_commit.to_path_buf(),
            env,
        };
        repo.git(&["init", "--quiet"]);
        repo.git(&["config", "user.name", "mutualsg tests"]);
        repo.git(&["config", "user.email", "tests@mutualsg.invalid"]);
        // A JSON string is a YAML scalar, so the checkout's path needs no escaping rules of
        // its own.
        let config = format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: {hook}\n",
            serde_json::to_string(hook_repo.to_str().unwrap()).unwrap()
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
        command.envs(self.env.iter().map(|(name, value)| (name, value)));
        command.output().unwrap()
    }

    /// `pre-commit install-hooks`, which must succeed; how long it took. One install at a
    /// time: the rust hook's build takes both cores, and a timing beside it would time that.
    fn install_hooks(&self) -> Duration {
        let _alone = INSTALLS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let start = Instant::now();
        let output = self.pre_commit(&["install-hooks"]);
        let took = start.elapsed();
        assert!(
            output.status.success(),
            "pre-commit install-hooks: {}",
            describe(&output)
        );
        took
    }
}

static INSTALLS: Mutex<()> = Mutex::new(());

/// Prints a hook's install time past the test harness's capture (which holds back what a
/// passing test prints with `eprintln!`), so that every run, CI's included, shows it.
fn report_install(hook: &str, took: Duration, state: &str) {
    let line = format!(
        "pre-commit install-hooks, {hook}: {:.1} s ({state})\n",
        took.as_secs_f64()
    );
    std::io::stderr().write_all(line.as_bytes()).unwrap();
}

/// A hook repository made of `pre-commit-mirror/` as it is in the work tree, stamped with this
/// crate's version by its own script and committed: what the mirror repository holds at a
/// release tag.
struct Mirror {
    dir: assert_fs::TempDir,
    rev: String,
}

impl Mirror {
    fn new() -> Mirror {
        let dir = assert_fs::TempDir::new().unwrap();
        copy_tree(&checkout().join("pre-commit-mirror"), dir.path());
        let stamp = Command::new("python3")
            .current_dir(dir.path())
            .args(["stamp.py", env!("CARGO_PKG_VERSION")])
            .output()
            .unwrap();
        assert!(stamp.status.success(), "stamp.py: {}", describe(&stamp));
        for args in [
            &["init", "--quiet"][..],
            &["add", "-A"],
            &[
                "-c",
                "user.name=mutualsg tests",
                "-c",
                "user.email=tests@mutualsg.invalid",
                "commit",
                "--quiet",
                "-m",
                "mirror",
            ],
        ] {
            let output = isolated("git", dir.path()).args(args).output().unwrap();
            assert!(
                output.status.success(),
                "git {args:?}: {}",
                describe(&output)
            );
        }
        let head = isolated("git", dir.path())
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap();
        let rev = text(&head.stdout).trim().to_owned();
        Mirror { dir, rev }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// PATH without any directory that holds `cargo` or `rustc`: the python hook must install
/// and run where no Rust toolchain can be found.
fn path_without_rust() -> OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("cargo").exists() && !dir.join("rustc").exists())
        .collect();
    std::env::join_paths(kept).unwrap()
}

/// `MUTUALSG_WHEELHOUSE`, checked to hold this version's wheel, or `None` (after saying why)
/// when it is unset and not required.
fn wheelhouse_or_skip(test: &str) -> Option<PathBuf> {
    let required = std::env::var_os("MUTUALSG_REQUIRE_WHEEL").is_some_and(|v| v == "1");
    let Some(dir) = std::env::var_os("MUTUALSG_WHEELHOUSE").map(PathBuf::from) else {
        assert!(
            !required,
            "MUTUALSG_REQUIRE_WHEEL=1 but MUTUALSG_WHEELHOUSE is unset (.ci/run sets it)"
        );
        eprintln!(
            "skipping {test}: MUTUALSG_WHEELHOUSE unset (a directory with the wheel \
             `maturin build --release` makes, and a setuptools wheel)"
        );
        return None;
    };
    let prefix = format!("mutualsg-{}-", env!("CARGO_PKG_VERSION"));
    let names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("MUTUALSG_WHEELHOUSE {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|name| name.starts_with(&prefix) && name.ends_with(".whl")),
        "MUTUALSG_WHEELHOUSE {} holds no {prefix}*.whl: {names:?}",
        dir.display()
    );
    Some(dir)
}

/// A command that sees only the repository it runs in. No global or system git config: a
/// developer's `core.hooksPath`, commit signing or templates must not change the outcome. No
/// inherited `GIT_*` variables, which a git hook running this test suite would pass on and
/// which would point git at the wrong repository. No `PRE_COMMIT*`, `SKIP` or `PIP_*` settings
/// (a developer's index or cache must not decide how the python hook installs).
fn isolated(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("GIT_")
            || name_text.starts_with("PRE_COMMIT")
            || name_text.starts_with("PIP_")
            || name == "SKIP"
        {
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
