//! What every command shares, the binary driven as users drive it: a missing path, colour,
//! `--help`, `--version` and completions. Each command's own behaviour is in its test binary
//! (`tests/generate.rs`, `tests/migrate.rs`, `tests/graph.rs`, `tests/audit.rs`,
//! `tests/suggest.rs`).

mod common;

use common::*;

fn code(output: &std::process::Output) -> i32 {
    output.status.code().unwrap()
}

#[test]
fn a_missing_path_is_an_error() {
    let dir = tree(&[("main.tf", RULES)]);
    let output = mutualsg(dir.path(), &["check", "nope"]);
    assert_eq!(code(&output), 2);
    assert!(
        text(&output.stderr).contains("nope: path does not exist"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let dir = tree(&[("main.tf", &RULES.replace("443", "99999"))]);
    let plain = mutualsg(dir.path(), &["check"]);
    assert!(
        !plain.stderr.contains(&0x1b),
        "no colour when stderr is not a terminal"
    );
    let mut command = assert_cmd::Command::cargo_bin("mutualsg").unwrap();
    let coloured = command
        .current_dir(dir.path())
        .args(["--color", "always", "check"])
        .output()
        .unwrap();
    assert!(coloured.stderr.contains(&0x1b));
}

#[test]
fn completions_and_version() {
    let dir = tree(&[]);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = mutualsg(dir.path(), &["completions", shell]);
        assert_eq!(code(&output), 0, "{shell}");
        assert!(text(&output.stdout).contains("generate"), "{shell}");
    }
    let version = mutualsg(dir.path(), &["--version"]);
    assert_eq!(
        text(&version.stdout).trim(),
        format!("mutualsg {}", env!("CARGO_PKG_VERSION"))
    );
    let help = text(&mutualsg(dir.path(), &["--help"]).stdout);
    assert!(help.contains("Exit status: 0 success; 1 failure"), "{help}");
}

/// The command list of `--help` names every format `graph --format` takes.
#[test]
fn help_summary_of_graph_names_every_format() {
    let dir = tree(&[]);
    let help = text(&mutualsg(dir.path(), &["--help"]).stdout);
    // The entry, with the lines clap wraps it onto, ends where the next command's begins.
    let start = help.find("  graph ").expect("graph in the command list");
    let end = start + help[start..].find("  audit ").expect("audit after graph");
    let graph = &help[start..end];
    for format in ["Mermaid", "DOT", "JSON", "Markdown"] {
        assert!(graph.contains(format), "{format} missing from: {graph}");
    }
}
