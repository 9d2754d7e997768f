//! The files `file()`, `fileexists()` and the decoders may read: inside the tree being read,
//! never outside it (a path that leaves it is unknown, not an error: Terraform would read it
//! on the machine that plans).

use std::path::{Component, Path, PathBuf};

/// Where a module's relative paths start, and the tree they must stay in.
#[derive(Debug, Clone)]
pub struct Files {
    /// The directory Terraform runs in (the root module): relative paths start here.
    working_dir: PathBuf,
    /// `path.module` as Terraform gives it: `.` in the root module, `modules/x` in a child.
    path_module: String,
    /// Nothing outside it is read.
    tree: PathBuf,
}

impl Files {
    /// `tree`: the directory given to mutualsg; `root_module`: where Terraform runs;
    /// `module`: the module whose expressions are evaluated (the root module or a child).
    pub fn new(tree: &Path, root_module: &Path, module: &Path) -> Files {
        let tree = tree.canonicalize().unwrap_or_else(|_| tree.to_path_buf());
        let working_dir = root_module
            .canonicalize()
            .unwrap_or_else(|_| root_module.to_path_buf());
        let module = module
            .canonicalize()
            .unwrap_or_else(|_| module.to_path_buf());
        let path_module = relative(&working_dir, &module);
        Files {
            working_dir,
            path_module,
            tree,
        }
    }

    pub fn path_module(&self) -> &str {
        &self.path_module
    }

    /// The file a path names, if it stays inside the tree (symbolic links followed).
    pub fn resolve(&self, path: &str) -> Option<PathBuf> {
        let joined = self.working_dir.join(path);
        let resolved = match joined.canonicalize() {
            Ok(resolved) => resolved,
            // A file that does not exist: its lexical path, to say "false" inside the tree.
            Err(_) => normalise(&joined),
        };
        resolved.starts_with(&self.tree).then_some(resolved)
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

/// `a/./b/../c` as `a/c`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}
