//! The files `file()`, `fileexists()` and the decoders may read: inside the tree being read,
//! never outside it (a path that leaves it is unknown, not an error: Terraform would read it
//! on the machine that plans).

use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

/// Where files are read from: this machine's disk, or a tree held elsewhere (a git revision,
/// for `graph --since`), so that both sides of a comparison read their own files.
pub trait ReadFiles: Sync {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    fn is_file(&self, path: &Path) -> bool;
    /// Whether paths name files on this machine's disk (symbolic links are followed to decide
    /// whether a file is inside the tree), or files of a tree held elsewhere, whose paths are
    /// relative to its top and compared as written.
    fn on_disk(&self) -> bool;
    /// The tree a module's `file()` calls may read in.
    fn tree_of(&self, module: &Path) -> PathBuf;
}

/// This machine's disk.
pub struct Disk;

impl ReadFiles for Disk {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn on_disk(&self) -> bool {
        true
    }

    /// The module alone: [`Files::new`] names a wider tree.
    fn tree_of(&self, module: &Path) -> PathBuf {
        module
            .canonicalize()
            .unwrap_or_else(|_| module.to_path_buf())
    }
}

/// Where a module's relative paths start, and the tree they must stay in.
#[derive(Clone)]
pub struct Files<'s> {
    reader: &'s dyn ReadFiles,
    /// The module whose expressions are evaluated.
    module: PathBuf,
    /// `path.module` as an expression reads it.
    path_module: String,
    /// The directory Terraform runs in (the root module), where a relative path that is not
    /// built from `path.module` starts; `None` in a module another module calls, whose root
    /// module (and so what such a path names) depends on the caller.
    working_dir: Option<PathBuf>,
    /// Nothing outside it is read: given, or the tree the reader puts the module in, found
    /// when a file is first asked for (most modules never ask; some ask hundreds of times).
    tree: OnceLock<PathBuf>,
}

impl std::fmt::Debug for Files<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files")
            .field("module", &self.module)
            .field("path_module", &self.path_module)
            .field("working_dir", &self.working_dir)
            .field("tree", &self.tree)
            .finish()
    }
}

impl Files<'static> {
    /// On disk: `tree`, the directory given to mutualsg; `root_module`, where Terraform runs;
    /// `module`, the module whose expressions are evaluated (the root module or a child).
    pub fn new(tree: &Path, root_module: &Path, module: &Path) -> Files<'static> {
        let canonical = |path: &Path| path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let working_dir = canonical(root_module);
        let module = canonical(module);
        Files {
            reader: &Disk,
            path_module: relative(&working_dir, &module),
            module,
            working_dir: Some(working_dir),
            tree: OnceLock::from(canonical(tree)),
        }
    }
}

impl<'s> Files<'s> {
    /// The files a module read from `reader` may read. A root module (`root`) is where
    /// Terraform runs: `path.module` is `.` and every relative path starts there. In a module
    /// that another calls, only a path built from `path.module` is known (`path.module` is the
    /// module's directory as `reader` names it); any other relative path is unknown.
    pub fn in_module(reader: &'s dyn ReadFiles, module: &Path, root: bool) -> Files<'s> {
        let module = normalise(module);
        let path_module = if root {
            ".".to_string()
        } else {
            module.to_string_lossy().into_owned()
        };
        Files {
            reader,
            working_dir: root.then(|| module.clone()),
            module,
            path_module,
            tree: OnceLock::new(),
        }
    }

    pub fn path_module(&self) -> &str {
        &self.path_module
    }

    /// The file a path names, if it is known and stays inside the tree (on disk, symbolic
    /// links followed).
    pub fn resolve(&self, path: &str) -> Option<PathBuf> {
        let prefix = format!("{}/", self.path_module);
        let joined = match (path.strip_prefix(&prefix), &self.working_dir) {
            (Some(rest), _) => self.module.join(rest),
            (None, _) if path == self.path_module => self.module.clone(),
            (None, Some(working_dir)) => working_dir.join(path),
            // Relative to a root module this tree does not show.
            (None, None) if Path::new(path).is_relative() => return None,
            (None, None) => PathBuf::from(path),
        };
        let resolved = if self.reader.on_disk() {
            match joined.canonicalize() {
                Ok(resolved) => resolved,
                // A file that does not exist: its lexical path, to say "false" inside the tree.
                Err(_) => normalise(&std::path::absolute(&joined).unwrap_or(joined)),
            }
        } else {
            normalise(&joined)
        };
        let tree = self.tree.get_or_init(|| self.reader.tree_of(&self.module));
        let inside = resolved.starts_with(tree)
            && !resolved
                .components()
                .any(|component| component == Component::ParentDir);
        inside.then_some(resolved)
    }

    pub fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.reader.read(path)
    }

    pub fn is_file(&self, path: &Path) -> bool {
        self.reader.is_file(path)
    }
}

/// `module` relative to `base`, with `..` where it climbs, as Terraform writes `path.module`.
fn relative(base: &Path, module: &Path) -> String {
    let base: Vec<Component> = base.components().collect();
    let module: Vec<Component> = module.components().collect();
    let common = base.iter().zip(&module).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); base.len() - common];
    parts.extend(
        module[common..]
            .iter()
            .map(|part| part.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system (a `..` above the start is kept).
fn normalise(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    normal.push("..");
                }
            }
            other => normal.push(other),
        }
    }
    normal
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A revision's files, by path relative to its top.
    struct Revision(BTreeMap<PathBuf, Vec<u8>>);

    impl ReadFiles for Revision {
        fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
            self.0
                .get(path)
                .cloned()
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }
        fn is_file(&self, path: &Path) -> bool {
            self.0.contains_key(path)
        }
        fn on_disk(&self) -> bool {
            false
        }
        fn tree_of(&self, _module: &Path) -> PathBuf {
            PathBuf::new()
        }
    }

    #[test]
    fn a_called_module_knows_only_paths_built_from_path_module() {
        let revision = Revision(BTreeMap::new());
        let files = Files::in_module(&revision, Path::new("modules/sg"), false);
        assert_eq!(files.path_module(), "modules/sg");
        assert_eq!(
            files.resolve("modules/sg/rules.json"),
            Some(PathBuf::from("modules/sg/rules.json"))
        );
        // Terraform reads it from the caller's root module, which differs per caller.
        assert_eq!(files.resolve("rules.json"), None);
        assert_eq!(files.resolve("modules/sg/../../../etc/passwd"), None);
    }

    #[test]
    fn a_root_module_reads_relative_paths_from_its_directory() {
        let revision = Revision(BTreeMap::new());
        let files = Files::in_module(&revision, Path::new("./envs/prod"), true);
        assert_eq!(files.path_module(), ".");
        assert_eq!(
            files.resolve("./rules.json"),
            Some(PathBuf::from("envs/prod/rules.json"))
        );
        assert_eq!(
            files.resolve("../shared/rules.json"),
            Some(PathBuf::from("envs/shared/rules.json"))
        );
        assert_eq!(files.resolve("../../../outside.json"), None);
    }
}
