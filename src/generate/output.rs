//! Compares what a module's generated file should hold with what it holds, and writes,
//! checks or diffs the difference. The only stage besides `discover` that touches files.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::diagnostics::{Diagnostic, Problem};
use crate::generate::discover::Module;
use crate::generate::render::{GENERATED_FILE, is_generated};

/// A generated file that is out of date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: PathBuf,
    /// The current text; `None` when the file does not exist yet.
    pub old: Option<String>,
    /// The wanted text; `None` when the file is stale and goes.
    pub new: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Create,
    Update,
    Delete,
}

impl Change {
    pub fn kind(&self) -> ChangeKind {
        match (&self.old, &self.new) {
            (None, _) => ChangeKind::Create,
            (Some(_), Some(_)) => ChangeKind::Update,
            (Some(_), None) => ChangeKind::Delete,
        }
    }

    /// A unified diff that `git apply` accepts: `a/`/`b/` prefixes, `/dev/null` for a
    /// created or deleted file.
    pub fn diff(&self) -> String {
        let path = self.path.display();
        let old_name = match self.old {
            Some(_) => format!("a/{path}"),
            None => "/dev/null".to_string(),
        };
        let new_name = match self.new {
            Some(_) => format!("b/{path}"),
            None => "/dev/null".to_string(),
        };
        let old = self.old.as_deref().unwrap_or("");
        let new = self.new.as_deref().unwrap_or("");
        TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header(&old_name, &new_name)
            .to_string()
    }
}

/// Works out the change that brings a module's generated file to `wanted` (`None`: the module
/// has no `mutual_rules`, so a generated file there is stale). `Ok(None)`: up to date.
pub fn plan(module: &Module, wanted: Option<String>) -> Result<Option<Change>, Diagnostic> {
    let path = crate::paths::join(&module.dir, GENERATED_FILE);
    let old = if module.has_generated {
        read_generated(&path, wanted.is_some())?
    } else {
        None
    };
    if old == wanted {
        return Ok(None);
    }
    Ok(Some(Change {
        path,
        old,
        new: wanted,
    }))
}

/// Reads an existing generated file. A file that is not ours (no header, a symlink, a
/// directory) is an error when we would write there, and is left alone when we would not.
fn read_generated(path: &Path, writing: bool) -> Result<Option<String>, Diagnostic> {
    let shown = path.display().to_string();
    let refuse = |problem: Problem| {
        if writing {
            Err(Diagnostic::file(problem, path))
        } else {
            Ok(None)
        }
    };
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(Diagnostic::file(
                Problem::ReadFailed(error.to_string()),
                path,
            ));
        }
    };
    if metadata.file_type().is_symlink() {
        return refuse(Problem::Symlink(shown));
    }
    if !metadata.is_file() {
        return refuse(Problem::NotAFile(shown));
    }
    let bytes = fs::read(path)
        .map_err(|error| Diagnostic::file(Problem::ReadFailed(error.to_string()), path))?;
    match String::from_utf8(bytes) {
        Ok(text) if is_generated(&text) => Ok(Some(text)),
        _ => refuse(Problem::NotGenerated(shown)),
    }
}

/// Applies a change: writes atomically (a temporary file in the same directory, renamed over
/// the old one, so a reader never sees half a file), or deletes a stale file.
pub fn apply(change: &Change) -> Result<(), Diagnostic> {
    let failed = |error: io::Error| {
        Diagnostic::file(
            Problem::WriteFailed {
                path: change.path.display().to_string(),
                error: error.to_string(),
            },
            &change.path,
        )
    };
    match &change.new {
        Some(text) => write_atomically(&change.path, text).map_err(failed),
        None => fs::remove_file(&change.path).map_err(failed),
    }
}

/// Applies one module's changes all or nothing: on the first failure, the changes already
/// made are undone (each file back to its old text, a created one removed), so a module is
/// never left half written (a generated file with new names and no `moved` blocks for them).
/// Callers put the migration file first: if even the undo fails, the moves are kept.
pub fn apply_all(changes: &[Change]) -> Result<(), Diagnostic> {
    for (done, change) in changes.iter().enumerate() {
        if let Err(error) = apply(change) {
            for applied in changes[..done].iter().rev() {
                // Best effort: the error reported is the one that stopped the writing.
                let _ = apply(&Change {
                    path: applied.path.clone(),
                    old: applied.new.clone(),
                    new: applied.old.clone(),
                });
            }
            return Err(error);
        }
    }
    Ok(())
}

fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // A new file gets the usual 0644; an existing one keeps its mode.
    let permissions = fs::metadata(path)
        .map(|metadata| metadata.permissions())
        .unwrap_or_else(|_| fs::Permissions::from_mode(0o644));
    // The file is opened here rather than by `tempfile_in`, and written through the plain
    // `File`: tempfile's own calls add the temporary path to their errors, and the error a
    // user reads must name their file, not `.mutual_rules.gen.XXXXXX.tmp`.
    let mut file = tempfile::Builder::new()
        .prefix(".mutual_rules.gen.")
        .suffix(".tmp")
        .make_in(dir, |temporary| {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(permissions.mode())
                .open(temporary)
        })?;
    file.as_file_mut().write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}
