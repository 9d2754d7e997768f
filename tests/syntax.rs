//! The syntax layer against Terraform's parser on small files, one construct each
//! (`fixtures/syntax/`): valid Terraform that hcl-edit rejected (a key given twice, `?` at the
//! start of a line inside `for`, a heredoc line that starts with its marker), invalid
//! Terraform that a lax parser accepts (`a = 1 b = 2`, an attribute given twice, a block's `{`
//! on the next line, a newline before `?` after `=`), and the rest of HCL's corners.
//!
//! `expected.tsv` holds one verdict per file: `ok`, or the line and summary of the first
//! error. The first test holds mutualsg to it (`MUTUALSG_BLESS=1` rewrites it); the second
//! holds Terraform to it (`terraform fmt -check` parses each file), so the two agree. Without
//! Terraform the second is skipped with a message, unless `MUTUALSG_REQUIRE_TERRAFORM=1`.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use mutualsg::diagnostics::SourceFile;

fn dir() -> PathBuf {
    common::fixtures().join("syntax")
}

fn files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "tf" || ext == "tofu")
        })
        .collect();
    files.sort();
    files
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn expected() -> BTreeMap<String, String> {
    fs::read_to_string(dir().join("expected.tsv"))
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(file, verdict)| (file.to_string(), verdict.to_string()))
        .collect()
}

fn mutualsg_verdict(text: &str) -> String {
    match mutualsg::syntax::parse(text) {
        Ok(_) => "ok".to_string(),
        Err(error) => {
            let line = text[..error.span.start].matches('\n').count() + 1;
            format!("{line}\t{}", error.message)
        }
    }
}

#[test]
fn mutualsg_reads_each_construct_as_expected() {
    let actual: BTreeMap<String, String> = files()
        .iter()
        .map(|path| {
            // As every command reads a file: UTF-8, a byte order mark dropped.
            let file = SourceFile::decode(path, fs::read(path).unwrap());
            (name(path), mutualsg_verdict(&file.text))
        })
        .collect();
    if common::blessing() {
        let tsv: String = actual
            .iter()
            .map(|(file, verdict)| format!("{file}\t{verdict}\n"))
            .collect();
        fs::write(dir().join("expected.tsv"), tsv).unwrap();
        return;
    }
    assert_eq!(actual, expected());
    let rejected = actual.values().filter(|verdict| *verdict != "ok").count();
    assert!(
        rejected >= 30 && actual.len() - rejected >= 40,
        "{actual:?}"
    );
}

#[test]
fn terraform_reads_each_construct_as_expected() {
    let Some(terraform) = common::terraform_for_fmt("terraform_reads_each_construct_as_expected")
    else {
        return;
    };
    // One `terraform fmt -check` over a copy (Terraform reads `.tf` only), which reports the
    // errors of every file, each file's first error first.
    let copy = tempfile::tempdir().unwrap();
    for path in files() {
        fs::copy(&path, copy.path().join(format!("{}.tf", name(&path)))).unwrap();
    }
    let output = common::run_terraform(
        &terraform,
        copy.path(),
        &["fmt", "-check", "-list=false", "-no-color", "."],
    );
    let stderr = common::text(&output.stderr);
    let mut actual: BTreeMap<String, String> = files()
        .iter()
        .map(|path| (name(path), "ok".to_string()))
        .collect();
    let mut summary = "";
    let mut seen = Vec::new();
    for line in stderr.lines() {
        let line = line.trim_start_matches(['│', ' ']);
        if let Some(found) = line.strip_prefix("Error: ") {
            summary = found.trim();
        } else if let Some(location) = line.strip_prefix("on ") {
            // `on NAME.tf line N` or `on NAME.tf line N, in …:`
            let mut words = location.split_whitespace();
            if location.split_whitespace().nth(1) != Some("line") {
                continue;
            }
            let file = words.next().unwrap_or_default().trim_start_matches("./");
            let file = file.strip_suffix(".tf").unwrap_or(file);
            let number: String = words
                .nth(1)
                .unwrap_or_default()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if !seen.contains(&file.to_string()) {
                seen.push(file.to_string());
                actual.insert(file.to_string(), format!("{number}\t{summary}"));
            }
        }
    }
    assert_eq!(actual, expected(), "{stderr}");
}
