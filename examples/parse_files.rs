//! Parses each file named on the command line (or one path per line on stdin) with
//! mutualsg's syntax layer alone and prints one line per file: `PATH<TAB>ok`, or
//! `PATH<TAB>error<TAB>LINE<TAB>MESSAGE` for the first syntax error. The totals (files, bytes,
//! seconds of parsing, MB/s) go to stderr. Used by `benches/corpus/differential.py`, which
//! asks Terraform the same question of the same files.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mutualsg::diagnostics::SourceFile;

fn main() {
    let mut paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        paths = std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .filter(|line| !line.is_empty())
            .map(PathBuf::from)
            .collect();
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut bytes, mut parsing) = (0usize, Duration::ZERO);
    for path in &paths {
        let Ok(raw) = std::fs::read(path) else {
            writeln!(out, "{}\tunreadable", path.display()).unwrap();
            continue;
        };
        bytes += raw.len();
        let file = Arc::new(SourceFile::decode(path, raw));
        let started = Instant::now();
        let verdict = mutualsg::generate::parse::parse_body(&file).map(drop);
        parsing += started.elapsed();
        match verdict {
            Ok(()) => writeln!(out, "{}\tok", path.display()).unwrap(),
            Err(errors) => {
                let first = &errors[0];
                let line = first.line_column().map_or(0, |(line, _)| line);
                let message = first.to_string().replace(['\t', '\n'], " ");
                writeln!(out, "{}\terror\t{line}\t{message}", path.display()).unwrap();
            }
        }
    }
    out.flush().unwrap();
    let seconds = parsing.as_secs_f64();
    eprintln!(
        "{} files, {:.1} MB, {seconds:.3} s parsing, {:.1} MB/s",
        paths.len(),
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / seconds.max(1e-9)
    );
}
