//! Paths → module directories and the source files in each.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diagnostics::{Diagnostic, Problem};
use crate::paths::{dir_or_dot, display_path, join};

/// The generated file's name, beside the rules.
pub const GENERATED_FILE: &str = "mutual_rules.gen.tf";

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

/// An error for each of `paths` that does not exist, for a command that stops before doing
/// anything when one is missing.
pub fn missing_paths(paths: &[PathBuf], cwd: &Path) -> Vec<Diagnostic> {
    paths
        .iter()
        .filter(|path| fs::metadata(path).is_err())
        .map(|path| path_not_found(path, cwd))
        .collect()
}

fn path_not_found(path: &Path, cwd: &Path) -> Diagnostic {
    Diagnostic::file(Problem::PathNotFound, &display_path(path, cwd))
}

/// Finds the modules under `paths`. `cwd` must be the process's current directory: module
/// paths are shown relative to it, and used as shown. A directory is walked recursively,
/// skipping `.terraform/`, `.git/` and other hidden directories; directory symlinks are not
/// followed (a link-following walk scans shared modules twice, or loops). A file stands for
/// its module directory, as pre-commit passes files, and only that directory is listed: the
/// tree is not walked.
pub fn discover(paths: &[PathBuf], cwd: &Path) -> (Vec<Module>, Vec<Diagnostic>) {
    let mut listings: BTreeMap<PathBuf, Listing> = BTreeMap::new();
    let mut errors = Vec::new();
    for path in paths {
        let shown = display_path(path, cwd);
        let Ok(metadata) = fs::metadata(path) else {
            errors.push(path_not_found(path, cwd));
            continue;
        };
        if !metadata.is_dir() {
            let dir = shown
                .parent()
                .map_or_else(|| PathBuf::from("."), dir_or_dot);
            if let std::collections::btree_map::Entry::Vacant(entry) = listings.entry(dir) {
                // Only this directory: entries it cannot read are skipped, not reported.
                match list_dir(entry.key()) {
                    Ok(listed) => {
                        entry.insert(listed.listing);
                    }
                    Err(error) => errors.push(error),
                }
            }
            continue;
        }
        walk(&shown, cwd, &mut listings, &mut errors);
    }
    let modules = listings
        .into_iter()
        .filter_map(|(dir, listing)| listing.into_module(dir))
        .collect();
    (modules, errors)
}

/// Finds the modules under `paths` among a listing of files (a tree read from git), as
/// [`discover`] finds them on disk: a directory is every file below it, hidden directories
/// skipped; a file stands for its own directory. A path the listing does not hold is no
/// error: the directory may be new since.
pub fn discover_listed<'a>(
    files: impl Iterator<Item = &'a Path> + Clone,
    paths: &[PathBuf],
    cwd: &Path,
) -> Vec<Module> {
    let mut listings: BTreeMap<PathBuf, Listing> = BTreeMap::new();
    for path in paths {
        let shown = display_path(path, cwd);
        let as_file = files.clone().any(|file| file == shown);
        for file in files.clone() {
            let dir = file.parent().map_or_else(|| PathBuf::from("."), dir_or_dot);
            let below = if as_file {
                file == shown
            } else if shown == Path::new(".") {
                file.is_relative() && !file.starts_with("..")
            } else {
                file.starts_with(&shown)
            };
            let skipped = || {
                let inner = dir.strip_prefix(&shown).unwrap_or(&dir);
                inner.components().any(|part| {
                    part.as_os_str().to_string_lossy().starts_with('.') && part.as_os_str() != "."
                })
            };
            if !below || (!as_file && skipped()) {
                continue;
            }
            let Some(name) = file.file_name() else {
                continue;
            };
            listings
                .entry(dir)
                .or_default()
                .add(name.to_string_lossy().into_owned(), || true);
        }
        if as_file {
            // The rest of the file's directory.
            let dir = shown
                .parent()
                .map_or_else(|| PathBuf::from("."), dir_or_dot);
            for file in files.clone() {
                let parent = file.parent().map_or_else(|| PathBuf::from("."), dir_or_dot);
                if parent == dir
                    && file != shown
                    && let Some(name) = file.file_name()
                {
                    listings
                        .entry(dir.clone())
                        .or_default()
                        .add(name.to_string_lossy().into_owned(), || true);
                }
            }
        }
    }
    for listing in listings.values_mut() {
        listing.names.sort();
        listing.names.dedup();
    }
    listings
        .into_iter()
        .filter_map(|(dir, listing)| listing.into_module(dir))
        .collect()
}

/// What one directory holds that matters here.
#[derive(Debug, Default)]
struct Listing {
    /// `.tf`/`.tofu` file names.
    names: Vec<String>,
    has_generated: bool,
}

impl Listing {
    fn merge(&mut self, other: Listing) {
        self.names.extend(other.names);
        self.has_generated |= other.has_generated;
    }

    fn add(&mut self, name: String, is_file: impl FnOnce() -> bool) {
        if name == GENERATED_FILE {
            self.has_generated = true;
        } else if (name.ends_with(".tf") || name.ends_with(".tofu")) && is_file() {
            self.names.push(name);
        }
    }

    /// The module, or `None` when the directory has neither sources nor a generated file.
    fn into_module(mut self, dir: PathBuf) -> Option<Module> {
        // OpenTofu reads `x.tofu` and ignores a `x.tf` beside it.
        let shadowed: Vec<String> = self
            .names
            .iter()
            .filter_map(|name| name.strip_suffix(".tofu"))
            .map(|stem| format!("{stem}.tf"))
            .collect();
        self.names.retain(|name| !shadowed.contains(name));
        self.names.sort();
        if self.names.is_empty() && !self.has_generated {
            return None;
        }
        Some(Module {
            sources: self.names.iter().map(|name| join(&dir, name)).collect(),
            dir,
            has_generated: self.has_generated,
        })
    }
}

/// Walks a directory tree, listing each directory's files: each directory is one task, its
/// subdirectories walked on all cores (a monorepo is often one deep tree under one top-level
/// directory).
fn walk(
    root: &Path,
    cwd: &Path,
    listings: &mut BTreeMap<PathBuf, Listing>,
    errors: &mut Vec<Diagnostic>,
) {
    let walked = walk_dir(root, cwd);
    for (dir, listing) in walked.listings {
        listings.entry(dir).or_default().merge(listing);
    }
    errors.extend(walked.errors);
}

/// The directories of one subtree, listed.
#[derive(Default)]
struct Walked {
    listings: Vec<(PathBuf, Listing)>,
    errors: Vec<Diagnostic>,
}

fn walk_dir(dir: &Path, cwd: &Path) -> Walked {
    let listed = match list_dir(dir) {
        Ok(listed) => listed,
        Err(error) => {
            return Walked {
                listings: Vec::new(),
                errors: vec![error],
            };
        }
    };
    let mut walked = Walked {
        listings: vec![(display_path(dir, cwd), listed.listing)],
        errors: listed.errors,
    };
    let below: Vec<Walked> = listed
        .subdirs
        .par_iter()
        .map(|subdir| walk_dir(subdir, cwd))
        .collect();
    for mut subtree in below {
        walked.listings.append(&mut subtree.listings);
        walked.errors.append(&mut subtree.errors);
    }
    walked
}

fn read_failed(path: &Path, error: String) -> Diagnostic {
    Diagnostic::file(Problem::ReadFailed(error), path)
}

/// One directory, listed.
struct Listed {
    listing: Listing,
    /// Its subdirectories, hidden ones left out (not symlinks: they are not followed).
    subdirs: Vec<PathBuf>,
    /// Entries that could not be read.
    errors: Vec<Diagnostic>,
}

/// Lists one directory: a file argument's module, or the root of a walk.
fn list_dir(dir: &Path) -> Result<Listed, Diagnostic> {
    let entries = fs::read_dir(dir).map_err(|error| read_failed(dir, error.to_string()))?;
    let mut listed = Listed {
        listing: Listing::default(),
        subdirs: Vec::new(),
        errors: Vec::new(),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                listed.errors.push(read_failed(dir, error.to_string()));
                continue;
            }
        };
        let file_type = entry.file_type().ok();
        let name = entry.file_name().to_string_lossy().into_owned();
        if file_type.is_some_and(|file_type| file_type.is_dir()) {
            // A directory by the generated file's name is refused by name, as in `walk`.
            if name == GENERATED_FILE {
                listed.listing.has_generated = true;
            }
            if !name.starts_with('.') {
                listed.subdirs.push(entry.path());
            }
        } else {
            let is_regular = file_type.is_some_and(|file_type| file_type.is_file());
            listed
                .listing
                .add(name, || is_regular || is_file(&entry.path()));
        }
    }
    Ok(listed)
}

/// A regular file, or a symlink to one (modules often share a file through a symlink). A
/// symlink that leads nowhere (dangling, or a loop) counts too: Terraform fails to read it, and
/// so does mutualsg, rather than skip a file that may hold `mutual_rules` (and so delete the
/// module's generated file as stale).
fn is_file(path: &Path) -> bool {
    fs::metadata(path).map_or(true, |metadata| metadata.is_file())
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
