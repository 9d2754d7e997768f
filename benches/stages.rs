//! The pipeline's stages in process, on one module of 20,000 connections of the usual shape
//! (the 100,000-connection case of `benches/run.sh`, a fifth of it): the fast reader of
//! `mutual_rules` against the full parse (the syntax layer) of the same file, then validation, naming and rendering.
//!
//! Also the syntax layer alone on each file of `fuzz/slow/` (malformed input on which hcl-edit
//! took seconds to minutes: milliseconds or less is expected, as parsing is linear).
//!
//! `cargo bench --bench stages` (divan prints the median of each).

use std::sync::Arc;

use divan::Bencher;
use mutualsg::config::Style;
use mutualsg::diagnostics::SourceFile;
use mutualsg::generate::connection::Connection;
use mutualsg::generate::parse::{self, RawDefinition};
use mutualsg::generate::{naming, render, validate};

const CONNECTIONS: usize = 20_000;
const STYLE: Style = Style::SecurityGroupRule;

fn main() {
    divan::main();
}

/// A `rules.tf` like `examples/monorepo.rs` writes: groups, ports, ranges, descriptions.
fn rules_file() -> Arc<SourceFile> {
    let mut text = String::from("locals {\n  mutual_rules = [\n");
    for i in 0..CONNECTIONS {
        let (source, target) = (i % 997, (i * 7 + 1) % 991);
        let port = match i % 3 {
            0 => format!("{}", 1024 + i % 60_000),
            1 => format!("\"{}-{}\"", 2000 + i % 1000, 3000 + i % 1000),
            _ => "443".to_string(),
        };
        text.push_str(&format!(
            "    {{\n      source_sg_id     = aws_security_group.s{source}.id\n      target_sg_id     = aws_security_group.t{target}.id\n      destination_port = {port}\n      description      = \"connection {i}\"\n    }},\n"
        ));
    }
    text.push_str("  ]\n}\n");
    Arc::new(SourceFile::new("rules.tf", text))
}

fn definition(file: &Arc<SourceFile>) -> RawDefinition {
    parse::read_fast(file)
        .expect("the usual shape")
        .definitions
        .expect("no error")
        .remove(0)
}

fn connections(file: &Arc<SourceFile>) -> Vec<Connection> {
    validate::validate(file, &definition(file).connections, STYLE).expect("valid")
}

#[divan::bench]
fn read_fast_reader(bencher: Bencher) {
    let file = rules_file();
    bencher.bench(|| parse::read_fast(&file).expect("the usual shape"));
}

#[divan::bench]
fn read_full_parse(bencher: Bencher) {
    let file = rules_file();
    bencher.bench(|| {
        let body = parse::parse_body(&file).expect("parses");
        parse::definitions(&file, &body).expect("no error")
    });
}

/// The files of `fuzz/slow/`, by name.
const SLOW: [&str; 5] = [
    "found-by-generate_bytes-16s",
    "found-by-generate_bytes-375s",
    "found-by-generate_bytes-timeout",
    "hcl-edit-backtracking",
    "hcl-edit-backtracking-x4",
];

#[divan::bench(args = SLOW)]
fn parse_slow_input(bencher: Bencher, name: &str) {
    let path = format!("{}/fuzz/slow/{name}.tf", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("a fuzz/slow file");
    bencher.bench(|| mutualsg::syntax::parse(&text).expect_err("malformed"));
}

#[divan::bench]
fn validate(bencher: Bencher) {
    let file = rules_file();
    let definition = definition(&file);
    bencher.bench(|| validate::validate(&file, &definition.connections, STYLE).expect("valid"));
}

#[divan::bench]
fn name(bencher: Bencher) {
    let file = rules_file();
    let connections = connections(&file);
    bencher
        .with_inputs(|| connections.clone())
        .bench_values(|connections| naming::name_connections(&file, connections));
}

#[divan::bench]
fn render(bencher: Bencher) {
    let file = rules_file();
    let connections = connections(&file);
    let named = naming::name_connections(&file, connections).expect("unique names");
    bencher.bench(|| render::render("rules.tf", &named));
}
