//! A reference point for `mutualsg check` on a large tree: the least work any implementation
//! must do, done plainly on one thread. Walks the tree as mutualsg does (hidden directories
//! skipped, directory symlinks not followed, `.tf` and `.tofu` files) using the file types the
//! directory listing already gives (no `stat` per file), reads each file into one reused
//! buffer, and looks for `mutual_rules` with a prebuilt `memmem` finder. Parses nothing.
//!
//! ```sh
//! cargo run --release --example scan_floor -- TREE [THREADS]
//! ```
//!
//! Prints the number of files and of files that mention `mutual_rules` (the ones mutualsg must
//! parse). `benches/run.sh` times it beside `mutualsg check` and `rg -l mutual_rules`.

use std::fs::{self, File};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next().map(PathBuf::from) else {
        eprintln!("usage: scan_floor TREE [THREADS]");
        return ExitCode::from(2);
    };
    let threads = args.next().and_then(|t| t.parse().ok()).unwrap_or(1usize);
    let files = walk(root);
    let finder = memchr::memmem::Finder::new(b"mutual_rules");
    let next = AtomicUsize::new(0);
    let hits = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut buffer = Vec::with_capacity(1 << 16);
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    buffer.clear();
                    let read = File::open(path).and_then(|mut file| file.read_to_end(&mut buffer));
                    if read.is_ok() && finder.find(&buffer).is_some() {
                        hits.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    println!(
        "{} files, {} mention mutual_rules",
        files.len(),
        hits.load(Ordering::Relaxed)
    );
    ExitCode::SUCCESS
}

fn walk(root: PathBuf) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if file_type.is_dir() {
                if !name.starts_with('.') {
                    dirs.push(entry.path());
                }
            } else if name.ends_with(".tf") || name.ends_with(".tofu") {
                files.push(entry.path());
            }
        }
    }
    files
}
