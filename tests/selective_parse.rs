//! A file parsed only in part (`syntax::parse_selected`: some top-level blocks skipped, the
//! attributes of others deferred) against the same file parsed whole: every block read is
//! the same tree, every skipped block is left out, every deferred attribute spans the
//! expression the whole parse read there and parses to it, and the comments are the same.
//!
//! Over every HCL file of `fixtures/`, `tests/` and the fuzz seeds, and, when
//! `MUTUALSG_SELECTIVE_PARSE_DIRS` names directories (`:`-separated, such as the public
//! trees `benches/corpus/checkout.sh` checks out), every `.tf` file under them.

mod common;

use std::path::{Path, PathBuf};

use mutualsg::inventory;
use mutualsg::syntax::{self, Block, Body, ExprKind, Reading};

fn all_deferred(_: &str) -> Reading {
    Reading::Deferred(&[])
}

/// Deferred but for attributes that name a group or a module, or read a local.
fn deferred_but_mentions(_: &str) -> Reading {
    Reading::Deferred(&["security_group", "module.", "local."])
}

fn all_skipped(_: &str) -> Reading {
    Reading::Skipped
}

/// How each top-level block is read, by its type.
type ReadingOf = fn(&str) -> Reading;

const READINGS: [(&str, ReadingOf); 5] = [
    ("every block deferred", all_deferred),
    (
        "every block deferred, some attributes parsed",
        deferred_but_mentions,
    ),
    ("every block skipped", all_skipped),
    // As the inventory reads a file for its values, and one that can hold groups.
    ("values", inventory::values_reading),
    ("groups", inventory::groups_reading),
];

/// Whether a block of the whole parse is in the partial one.
fn kept(text: &str, block: &Block, reading: ReadingOf) -> bool {
    match reading(&block.kind.text) {
        Reading::Skipped => false,
        Reading::Mentioning(needles) => needles
            .iter()
            .any(|needle| text[block.span.clone()].contains(needle)),
        Reading::Whole | Reading::Deferred(_) => true,
    }
}

fn hcl_files(dir: &Path, any_name: bool) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0 || !entry.file_name().to_string_lossy().starts_with('.')
        })
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| entry.into_path())
        .filter(|path| {
            any_name
                || path
                    .extension()
                    .is_some_and(|ext| ext == "tf" || ext == "tofu")
        })
        .collect()
}

/// `None` when the file agrees; else what differs.
fn disagreement(text: &str, reading: ReadingOf) -> Option<String> {
    let Ok((whole, whole_comments)) = syntax::parse_with_comment_spans(text, &[]) else {
        return None;
    };
    let (selected, comments) = match syntax::parse_selected(text, &[], reading) {
        Ok(parsed) => parsed,
        Err(error) => return Some(format!("refused: {error:?}")),
    };
    if format!("{comments:?}") != format!("{whole_comments:?}") {
        return Some("comments differ".to_string());
    }
    if selected.attributes != whole.attributes {
        return Some("top-level attributes differ".to_string());
    }
    let kept: Vec<&Block> = whole
        .blocks
        .iter()
        .filter(|block| kept(text, block, reading))
        .collect();
    if kept.len() != selected.blocks.len() {
        return Some(format!(
            "{} blocks kept, {} expected",
            selected.blocks.len(),
            kept.len()
        ));
    }
    for (block, expected) in selected.blocks.iter().zip(kept) {
        let wrong = match reading(&block.kind.text) {
            Reading::Deferred(needles) => {
                deferred_disagreement(text, &block.body, &expected.body, needles).or_else(|| {
                    (block.kind != expected.kind
                        || block.labels != expected.labels
                        || block.span != expected.span)
                        .then(|| "header differs".to_string())
                })
            }
            _ => (block != expected).then(|| "block differs".to_string()),
        };
        if let Some(wrong) = wrong {
            return Some(format!("{wrong} in the block at {:?}", block.span));
        }
    }
    None
}

fn deferred_disagreement(
    text: &str,
    body: &Body,
    whole: &Body,
    needles: &[&str],
) -> Option<String> {
    if body.blocks != whole.blocks {
        return Some("nested blocks differ".to_string());
    }
    if body.attributes.len() != whole.attributes.len() {
        return Some("attributes differ".to_string());
    }
    for (attribute, expected) in body.attributes.iter().zip(&whole.attributes) {
        let mentions = needles
            .iter()
            .any(|needle| text[expected.name.span.start..expected.value.span.end].contains(needle));
        if mentions {
            if attribute != expected {
                return Some(format!(
                    "attribute {} is not parsed whole",
                    expected.name.text
                ));
            }
            continue;
        }
        if attribute.name != expected.name || !matches!(attribute.value.kind, ExprKind::Deferred) {
            return Some(format!("attribute {} differs", expected.name.text));
        }
        if attribute.value.span != expected.value.span {
            return Some(format!(
                "attribute {} spans {:?}, not {:?}",
                expected.name.text, attribute.value.span, expected.value.span
            ));
        }
        match syntax::parse_deferred(text, attribute.value.span.clone()) {
            Ok(value) if value == expected.value => {}
            _ => {
                return Some(format!(
                    "attribute {} parses differently",
                    expected.name.text
                ));
            }
        }
    }
    None
}

fn check(files: &[PathBuf]) -> usize {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        checked += 1;
        for (name, reading) in READINGS {
            if let Some(why) = disagreement(&text, reading) {
                wrong.push(format!("{} ({name}): {why}", path.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    checked
}

#[test]
fn a_file_read_in_part_reads_as_the_whole_parse_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = hcl_files(&common::fixtures(), false);
    files.extend(hcl_files(&root.join("tests"), false));
    files.extend(hcl_files(&root.join("fuzz/corpus"), true));
    files.extend(hcl_files(&root.join("fuzz/slow"), false));
    let checked = check(&files);
    // Enough real files that a skimmer which got strings, heredocs or comments wrong fails.
    assert!(checked > 300, "only {checked} files checked");
}

#[test]
fn the_public_trees_read_in_part_as_the_whole_parse_does() {
    let Some(dirs) = std::env::var_os("MUTUALSG_SELECTIVE_PARSE_DIRS") else {
        eprintln!("skipping: set MUTUALSG_SELECTIVE_PARSE_DIRS to the public trees to check");
        return;
    };
    let files: Vec<PathBuf> = std::env::split_paths(&dirs)
        .flat_map(|dir| hcl_files(&dir, false))
        .collect();
    let checked = check(&files);
    eprintln!("{checked} files checked");
}

#[test]
fn a_deferred_attribute_ends_where_its_expression_does() {
    let text = "locals {\n  a = \"}\" # }\n  b = <<EOT\n}${x}\nEOT\n  c = [\n    1, # ]\n  ]\n  d = \"${ { e = \"}\" } }\"\n  g = \"\\\"}\"\n  h = <<EOT\n${\nEOT\n}\nEOT\n}\nlocals { f = 1 }\n";
    let (body, _) = syntax::parse_selected(text, &[], all_deferred).unwrap();
    let spans: Vec<&str> = body
        .blocks
        .iter()
        .flat_map(|block| &block.body.attributes)
        .map(|attribute| &text[attribute.value.span.clone()])
        .collect();
    assert_eq!(
        spans,
        [
            "\"}\"",
            "<<EOT\n}${x}\nEOT",
            "[\n    1, # ]\n  ]",
            "\"${ { e = \"}\" } }\"",
            "\"\\\"}\"",
            "<<EOT\n${\nEOT\n}\nEOT",
            "1"
        ]
    );
    assert_eq!(disagreement(text, all_deferred), None);
    assert_eq!(disagreement(text, all_skipped), None);
}

#[test]
fn a_broken_block_that_is_passed_over_reports_the_whole_parse_error() {
    for text in [
        "resource \"aws_instance\" \"a\" {\n  ami = \"x\"\n",
        "resource \"aws_instance\" \"a\" {\n  ami = \"x\n}\n",
        "resource \"aws_instance\" \"a\" {\n  ami = [1)\n}\n",
        "locals {\n  a = (1]\n}\n",
        "locals {\n  a = <<EOT\nx\n",
    ] {
        let whole = syntax::parse(text).expect_err("broken");
        for (name, reading) in READINGS {
            let partial = syntax::parse_selected(text, &[], reading).expect_err(name);
            assert_eq!(partial, whole, "{name}: {text:?}");
        }
    }
}
