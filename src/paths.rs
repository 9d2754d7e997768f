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

/// A path without `.` and with `..` applied (lexically), for comparing module directories.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
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

/// The git work tree's top level above `dir`: the first directory holding `.git`.
pub fn git_top_level(dir: &Path) -> Option<PathBuf> {
    let dir = std::fs::canonicalize(dir).ok()?;
    dir.ancestors()
        .find(|candidate| candidate.join(".git").exists())
        .map(Path::to_path_buf)
}

/// `path` relative to `root`, both made absolute and without `.`/`..`.
pub fn relative(path: &Path, root: &Path) -> PathBuf {
    relative_to_canonical(path, &canonical(root))
}

/// `path` with symbolic links followed, absolute and without `.`/`..` (as written, without
/// `.`/`..`, when it does not exist).
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| lexical(path))
}

/// [`relative`] to a `root` that is [`canonical`] already (one root for many paths).
pub fn relative_to_canonical(path: &Path, root: &Path) -> PathBuf {
    let path = canonical(path);
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or(path)
}

fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `text` for a URL: every byte but the unreserved ones (letters, digits, `-._~`) and those
/// in `keep` (`/` for a whole path) percent-encoded, as RFC 3986 asks of a path.
pub fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || keep.contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
