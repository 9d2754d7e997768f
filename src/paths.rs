//! Paths as the user sees them, shared by configuration, discovery and diagnostics.

use std::path::{Component, Path, PathBuf};

/// `dir/name`, or just `name` in the current directory (diffs name `x.tf`, not `./x.tf`).
pub fn join(dir: &Path, name: &str) -> PathBuf {
    if dir == Path::new(".") {
        PathBuf::from(name)
    } else {
        dir.join(name)
    }
}

pub fn dir_or_dot(dir: &Path) -> PathBuf {
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
