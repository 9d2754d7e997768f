//! Where a tree's files come from: the work tree on disk, or a set of files held in memory
//! (the tree of a git revision, read from git's objects). Discovery, configuration and the
//! inventory read through a [`Source`], so one pipeline reads both.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::diagnostics::{Diagnostic, Problem};
use crate::paths::display_path;
use crate::workspace::CONFIG_FILE;
use crate::workspace::discover::{self, Module};

/// The files a run reads.
#[derive(Debug, Default)]
pub enum Source {
    /// The file system, as it is now.
    #[default]
    Disk,
    /// The tree of a git revision.
    Memory(Revision),
}

thread_local! {
    /// One read buffer per thread, reused for every file: no allocation per file.
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads a whole file into `buffer` (grown as needed, never shrunk) and returns its length.
/// Unlike `read_to_end`, it asks for no size hint: two system calls per file fewer (`statx`,
/// `lseek`), of the six a monorepo's 20,000 files would cost each.
fn read_into(path: &Path, buffer: &mut Vec<u8>) -> io::Result<usize> {
    const MIN_BUFFER: usize = 256 * 1024;
    if buffer.len() < MIN_BUFFER {
        buffer.resize(MIN_BUFFER, 0);
    }
    let mut file = std::fs::File::open(path)?;
    let mut len = 0;
    loop {
        if len == buffer.len() {
            buffer.resize(buffer.len() * 2, 0);
        }
        match file.read(&mut buffer[len..]) {
            Ok(0) => return Ok(len),
            Ok(read) => len += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// A git revision's tree, by path as the user sees it (relative to the current directory
/// where under it, as [`display_path`] names it).
#[derive(Debug, Default)]
pub struct Revision {
    /// The files the pipeline reads, fetched at once.
    files: BTreeMap<PathBuf, Vec<u8>>,
    /// Every other file's git object, fetched when an expression reads it (`file()`): few
    /// trees read any, and a tree may hold large ones.
    others: BTreeMap<PathBuf, String>,
    /// Where git runs.
    dir: PathBuf,
    fetched: Mutex<BTreeMap<PathBuf, Vec<u8>>>,
}

impl Revision {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        if let Some(bytes) = self.files.get(path) {
            return Ok(bytes.clone());
        }
        let object = self
            .others
            .get(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not in the revision"))?;
        let mut fetched = self.fetched.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bytes) = fetched.get(path) {
            return Ok(bytes.clone());
        }
        let bytes = cat_file(&self.dir, &[object.as_str()])
            .ok()
            .and_then(|mut contents| contents.pop())
            .ok_or_else(|| io::Error::other("git cat-file failed"))?;
        fetched.insert(path.to_path_buf(), bytes.clone());
        Ok(bytes)
    }
}

impl Source {
    /// A file's bytes.
    pub fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self {
            Source::Disk => std::fs::read(path),
            Source::Memory(revision) => revision.read(&display_path(path, Path::new(""))),
        }
    }

    /// Reads a file and hands its bytes to `inspect`: from the disk, into the thread's reused
    /// buffer (no allocation per file, and two system calls fewer than [`Source::read`]);
    /// most files of a large tree are searched and dropped, and `inspect` copies the few
    /// it keeps. A file that cannot be read is a diagnostic at its path.
    pub fn with_bytes<T>(
        &self,
        path: &Path,
        inspect: impl FnOnce(&[u8]) -> T,
    ) -> Result<T, Diagnostic> {
        let read = match self {
            Source::Disk => BUFFER.with_borrow_mut(|buffer| {
                let len = read_into(path, buffer)?;
                Ok(inspect(&buffer[..len]))
            }),
            Source::Memory(_) => self.read(path).map(|bytes| inspect(&bytes)),
        };
        read.map_err(|error| Diagnostic::file(Problem::ReadFailed(error.to_string()), path))
    }

    /// Whether `path` is a file (a symlink to one included).
    pub fn is_file(&self, path: &Path) -> bool {
        match self {
            Source::Disk => path.is_file(),
            Source::Memory(revision) => {
                let path = display_path(path, Path::new(""));
                revision.files.contains_key(&path) || revision.others.contains_key(&path)
            }
        }
    }

    /// The names of the files directly in `dir` (as a module's directory is shown); for a
    /// revision, only those the pipeline reads.
    pub fn file_names(&self, dir: &Path) -> Vec<String> {
        match self {
            Source::Disk => std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .collect(),
            Source::Memory(revision) => {
                let dir = crate::paths::dir_or_dot(&display_path(dir, Path::new("")));
                revision
                    .files
                    .keys()
                    .filter(|path| {
                        crate::paths::dir_or_dot(path.parent().unwrap_or(Path::new(""))) == dir
                    })
                    .filter_map(|path| Some(path.file_name()?.to_str()?.to_string()))
                    .collect()
            }
        }
    }

    /// The modules under `paths`, as [`discover::discover`] finds them on disk.
    pub fn discover(&self, paths: &[PathBuf], cwd: &Path) -> (Vec<Module>, Vec<Diagnostic>) {
        match self {
            Source::Disk => discover::discover(paths, cwd),
            Source::Memory(revision) => (
                discover::discover_listed(revision.files.keys().map(PathBuf::as_path), paths, cwd),
                Vec::new(),
            ),
        }
    }
}

/// Reads the tree of a git revision (`origin/main`, a commit, a tag) from git's objects, by
/// running `git` in `cwd`: `rev-parse`, `ls-tree` and one `cat-file --batch`. Neither the work
/// tree nor the index is read or touched. Only the files the pipeline reads are fetched at
/// once: `.tf`, `.tofu`, `.mutualsg.toml` and a root module's variables files; a symlink to
/// one such file in the tree reads as that file; any other file is fetched when `file()`
/// reads it; submodules are not entered.
pub fn read_revision(rev: &str, cwd: &Path) -> Result<Source, Diagnostic> {
    if rev.starts_with('-') {
        return Err(git_error(format!("`{rev}` is not a revision")));
    }
    let toplevel = PathBuf::from(git(cwd, &["rev-parse", "--show-toplevel"])?.trim_end());
    let tree = git(
        cwd,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{tree}}"),
        ],
    )
    .map_err(|_| git_error(format!("no revision `{rev}` in this repository")))?;
    let listing = git(
        cwd,
        &["ls-tree", "-r", "-z", "--full-tree", tree.trim_end()],
    )?;
    let mut blobs: Vec<(String, String)> = Vec::new();
    let mut links: Vec<(String, String)> = Vec::new();
    let mut others: Vec<(String, String)> = Vec::new();
    for entry in listing.split('\0').filter(|entry| !entry.is_empty()) {
        // `<mode> <type> <object>\t<path>`
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let mut meta = meta.split(' ');
        let (Some(mode), Some("blob"), Some(object)) = (meta.next(), meta.next(), meta.next())
        else {
            continue;
        };
        if mode == "120000" {
            links.push((path.to_string(), object.to_string()));
        } else if wanted(path) {
            blobs.push((path.to_string(), object.to_string()));
        } else {
            others.push((path.to_string(), object.to_string()));
        }
    }
    let links: Vec<(String, String)> = links.into_iter().filter(|(path, _)| wanted(path)).collect();
    let objects: Vec<&str> = blobs
        .iter()
        .chain(&links)
        .map(|(_, object)| object.as_str())
        .collect();
    let contents = cat_file(cwd, &objects)?;
    let (blob_contents, link_contents) = contents.split_at(blobs.len());
    let mut by_repo_path: BTreeMap<String, Vec<u8>> = blobs
        .into_iter()
        .map(|(path, _)| path)
        .zip(blob_contents.iter().cloned())
        .collect();
    for ((path, _), target) in links.iter().zip(link_contents) {
        let target = resolve_link(path, &String::from_utf8_lossy(target));
        if let Some(bytes) = target.and_then(|target| by_repo_path.get(&target)).cloned() {
            by_repo_path.insert(path.clone(), bytes);
        }
    }
    // Keys as the work tree's paths are shown: relative to the current directory.
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let files = by_repo_path
        .into_iter()
        .map(|(path, bytes)| (display_path(&toplevel.join(path), &cwd), bytes))
        .collect();
    let others = others
        .into_iter()
        .map(|(path, object)| (display_path(&toplevel.join(path), &cwd), object))
        .collect();
    Ok(Source::Memory(Revision {
        files,
        others,
        dir: cwd,
        fetched: Mutex::default(),
    }))
}

fn wanted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.ends_with(".tf")
        || name.ends_with(".tofu")
        || name == CONFIG_FILE
        || is_variables_file(name)
}

/// `terraform.tfvars` and `*.auto.tfvars`, in HCL or JSON: the values Terraform gives a root
/// module's variables without `-var` options.
pub fn is_variables_file(name: &str) -> bool {
    matches!(name, "terraform.tfvars" | "terraform.tfvars.json")
        || name.ends_with(".auto.tfvars")
        || name.ends_with(".auto.tfvars.json")
}

/// A symlink's target as a path in the tree, when it stays inside it.
fn resolve_link(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

fn git_error(message: String) -> Diagnostic {
    Diagnostic::file(Problem::Git(message), Path::new("git"))
}

/// Runs `git ARGS` in `dir`; its stdout, or its stderr as the error.
fn git(dir: &Path, args: &[&str]) -> Result<String, Diagnostic> {
    let output = git_command(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| git_error(format!("cannot run git: {error}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(git_error(format!("git {}: {}", args[0], stderr.trim())));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| git_error(format!("git {}: output is not UTF-8", args[0])))
}

fn git_command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    // Nothing here writes, but `git` may refresh the index opportunistically: not here.
    command.current_dir(dir).env("GIT_OPTIONAL_LOCKS", "0");
    command
}

/// The contents of `objects`, in order, from one `git cat-file --batch`. Object ids are
/// written by a thread while the answers are read, so neither pipe fills up and blocks.
fn cat_file(dir: &Path, objects: &[&str]) -> Result<Vec<Vec<u8>>, Diagnostic> {
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let io_error = |error: io::Error| git_error(format!("git cat-file: {error}"));
    let mut child = git_command(dir)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| git_error(format!("cannot run git: {error}")))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let request: String = objects.iter().map(|object| format!("{object}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut contents = Vec::with_capacity(objects.len());
    for object in objects {
        // `<object> blob <size>\n<bytes>\n`
        let mut header = String::new();
        stdout.read_line(&mut header).map_err(io_error)?;
        let size = header
            .trim_end()
            .strip_prefix(object)
            .and_then(|rest| rest.strip_prefix(" blob "))
            .and_then(|size| size.parse::<usize>().ok())
            .ok_or_else(|| git_error(format!("git cat-file: unexpected `{}`", header.trim())))?;
        let mut bytes = vec![0; size + 1];
        stdout.read_exact(&mut bytes).map_err(io_error)?;
        bytes.pop();
        contents.push(bytes);
    }
    let _ = writer.join();
    let status = child.wait().map_err(io_error)?;
    if !status.success() {
        return Err(git_error("git cat-file failed".to_string()));
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_inside_the_tree_only() {
        assert_eq!(
            resolve_link("a/b/x.tf", "../shared/x.tf").as_deref(),
            Some("a/shared/x.tf")
        );
        assert_eq!(resolve_link("x.tf", "./y.tf").as_deref(), Some("y.tf"));
        assert_eq!(resolve_link("x.tf", "../y.tf"), None);
        assert_eq!(resolve_link("x.tf", "/etc/y.tf"), None);
    }

    #[test]
    fn only_what_the_pipeline_reads_is_fetched() {
        assert!(wanted("a/main.tf"));
        assert!(wanted("a/main.tofu"));
        assert!(wanted(".mutualsg.toml"));
        assert!(!wanted("a/README.md"));
        assert!(!wanted("a/x.tf.json"));
    }
}
