//! Paths → module directories and the source files in each.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use walkdir::WalkDir;

use crate::diagnostics::{Diagnostic, Problem};
use crate::render::GENERATED_FILE;

/// A Terraform module directory: its `.tf`/`.tofu` sources, by file name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Module {
    /// The directory, relative to the current directory where possible (`.` for it).
    pub dir: PathBuf,
    /// Source files in name order, `x.tf` dropped where `x.tofu` exists (OpenTofu's rule),
    /// the generated file left out.
    pub sources: Vec<PathBuf>,
    /// Whether a `mutual_rules.gen.tf` exists (a symlink or directory by that name included).
    pub has_generated: bool,
}

/// Finds the modules under `paths`. A directory is walked recursively, skipping `.terraform/`,
/// `.git/` and other hidden directories; directory symlinks are not followed (a link-following
/// walk scans shared modules twice, or loops). A file stands for its module directory, as
/// pre-commit passes files.
pub fn discover(paths: &[PathBuf], cwd: &Path) -> (Vec<Module>, Vec<Diagnostic>) {
    let mut dirs: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let mut errors = Vec::new();
    for path in paths {
        let shown = display_path(path, cwd);
        let Ok(metadata) = fs::metadata(path) else {
            errors.push(Diagnostic::file(Problem::PathNotFound, &shown));
            continue;
        };
        if !metadata.is_dir() {
            let dir = shown
                .parent()
                .map_or_else(|| PathBuf::from("."), dir_or_dot);
            dirs.entry(dir).or_default();
            continue;
        }
        for entry in WalkDir::new(&shown)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !is_skipped_dir(entry))
        {
            match entry {
                Ok(entry) if entry.file_type().is_dir() => {
                    dirs.entry(display_path(entry.path(), cwd)).or_default();
                }
                Ok(_) => {}
                Err(error) => {
                    let path = error.path().map_or(shown.clone(), Path::to_path_buf);
                    errors.push(Diagnostic::file(
                        Problem::ReadFailed(error.to_string()),
                        &path,
                    ));
                }
            }
        }
    }
    let mut modules = Vec::new();
    for dir in dirs.into_keys() {
        match read_module(&dir) {
            Ok(Some(module)) => modules.push(module),
            Ok(None) => {}
            Err(error) => errors.push(error),
        }
    }
    (modules, errors)
}

fn is_skipped_dir(entry: &walkdir::DirEntry) -> bool {
    entry.file_type().is_dir() && entry.file_name().to_string_lossy().starts_with('.')
}

/// Lists one directory's sources. `None` when it has neither sources nor a generated file.
fn read_module(dir: &Path) -> Result<Option<Module>, Diagnostic> {
    let entries = fs::read_dir(dir)
        .map_err(|error| Diagnostic::file(Problem::ReadFailed(error.to_string()), dir))?;
    let mut names = Vec::new();
    let mut has_generated = false;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == GENERATED_FILE {
            has_generated = true;
        } else if (name.ends_with(".tf") || name.ends_with(".tofu")) && is_file(&entry.path()) {
            names.push(name);
        }
    }
    // OpenTofu reads `x.tofu` and ignores a `x.tf` beside it.
    let shadowed: Vec<String> = names
        .iter()
        .filter_map(|name| name.strip_suffix(".tofu"))
        .map(|stem| format!("{stem}.tf"))
        .collect();
    names.retain(|name| !shadowed.contains(name));
    names.sort();
    if names.is_empty() && !has_generated {
        return Ok(None);
    }
    Ok(Some(Module {
        sources: names.iter().map(|name| join(dir, name)).collect(),
        dir: dir.to_path_buf(),
        has_generated,
    }))
}

/// A regular file, or a symlink to one (modules often share a file through a symlink).
fn is_file(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|metadata| metadata.is_file())
}

/// `dir/name`, or just `name` in the current directory (diffs name `x.tf`, not `./x.tf`).
pub fn join(dir: &Path, name: &str) -> PathBuf {
    if dir == Path::new(".") {
        PathBuf::from(name)
    } else {
        dir.join(name)
    }
}

fn dir_or_dot(dir: &Path) -> PathBuf {
    if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir.to_path_buf()
    }
}

/// A path as the user should see it and as diffs name it: relative to the current
/// directory when it lies under it, without `.` components.
pub fn display_path(path: &Path, cwd: &Path) -> PathBuf {
    let path = if path.is_absolute() {
        path.strip_prefix(cwd).unwrap_or(path)
    } else {
        path
    };
    let normal: PathBuf = path
        .components()
        .filter(|component| !matches!(component, Component::CurDir))
        .collect();
    dir_or_dot(&normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_are_relative_and_normal() {
        let cwd = Path::new("/repo");
        assert_eq!(
            display_path(Path::new("/repo/a/./b"), cwd),
            PathBuf::from("a/b")
        );
        assert_eq!(display_path(Path::new("./a"), cwd), PathBuf::from("a"));
        assert_eq!(display_path(Path::new("/repo"), cwd), PathBuf::from("."));
        assert_eq!(
            display_path(Path::new("/other/x"), cwd),
            PathBuf::from("/other/x")
        );
    }
}
