//! Where a root module keeps its state: the `backend` (or `cloud`) block of its `terraform`
//! block, completed by the partial configuration files beside it that `terraform init
//! -backend-config=FILE` reads, one per environment (`integration.backend`,
//! `prod.s3.tfbackend`, `backend.hcl`). `data "terraform_remote_state"` and
//! `data "tfe_outputs"` are matched against these to find the root module they read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::source::Source;
use crate::syntax::{Body, may_hold_block, parse};

/// A root module's backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// `s3`, `gcs`, `local`, `azurerm`, `remote`; a `cloud` block is `remote` (HCP
    /// Terraform's workspaces either way).
    pub kind: String,
    /// One per settings file beside the module (the block's settings, then the file's), or
    /// the block's alone when there is none.
    pub environments: Vec<Environment>,
}

/// The settings of one `terraform init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// The settings file's name (`integration.blue.backend`); `None` for the block alone.
    pub file: Option<String>,
    /// Literal settings by name; a nested block's by `block.name` (`workspaces.name`). A
    /// setting not here is given on the command line or by the environment: unknown.
    pub settings: BTreeMap<String, String>,
}

impl Environment {
    /// The environment's name as the settings file's stem: `integration.blue.backend` →
    /// `integration.blue`, `prod.s3.tfbackend` → `prod.s3`.
    pub fn name(&self) -> Option<&str> {
        let file = self.file.as_deref()?;
        Some(file.rsplit_once('.').map_or(file, |(stem, _)| stem))
    }
}

/// Whether a file beside a root module holds partial backend settings.
fn is_settings_file(name: &str) -> bool {
    name.ends_with(".backend")
        || name.ends_with(".tfbackend")
        || name == "backend.hcl"
        || name.ends_with(".backend.hcl")
}

/// The backend the `terraform` block of a module (its directory and source files) declares,
/// with the settings files beside it; `None` when it declares none (a root module then keeps
/// local state, a child module has none).
pub fn read(source: &Source, dir: &Path, sources: &[PathBuf]) -> Option<Backend> {
    let block = sources.iter().find_map(|path| {
        let bytes = source.read(path).ok()?;
        // Most files declare no backend: not parsed.
        may_declare(&bytes).then(|| declared_in(&bytes))?
    })?;
    Some(with_settings_files(dir, block))
}

/// [`read`], from files already read (in source order): those of the module's files that
/// can declare a backend ([`may_declare`]).
pub fn read_files(dir: &Path, files: &[(PathBuf, Vec<u8>)]) -> Option<Backend> {
    let block = files.iter().find_map(|(_, bytes)| declared_in(bytes))?;
    Some(with_settings_files(dir, block))
}

/// The backend a file's `terraform` block declares.
fn declared_in(bytes: &[u8]) -> Option<(String, BTreeMap<String, String>)> {
    declared(&parse(&String::from_utf8_lossy(bytes)).ok()?)
}

/// Whether a file may declare a backend: it names its `terraform` block and may hold a
/// `backend` or `cloud` block.
pub fn may_declare(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"terraform").is_some()
        && (may_hold_block(bytes, "backend") || may_hold_block(bytes, "cloud"))
}

fn with_settings_files(dir: &Path, (kind, block): (String, BTreeMap<String, String>)) -> Backend {
    let mut environments: Vec<Environment> = settings_files(dir)
        .into_iter()
        .map(|(file, settings)| {
            let mut all = block.clone();
            all.extend(settings);
            Environment {
                file: Some(file),
                settings: all,
            }
        })
        .collect();
    if environments.is_empty() {
        environments.push(Environment {
            file: None,
            settings: block,
        });
    }
    Backend { kind, environments }
}

/// `terraform { backend "KIND" { … } }` or `terraform { cloud { … } }`: the kind and the
/// literal settings.
fn declared(body: &Body) -> Option<(String, BTreeMap<String, String>)> {
    for terraform in body.blocks_of("terraform") {
        if let Some(backend) = terraform.body.blocks_of("backend").next() {
            let kind = backend.label(0)?.to_string();
            let kind = if kind == "cloud" {
                "remote".into()
            } else {
                kind
            };
            return Some((kind, settings(&backend.body)));
        }
        if let Some(cloud) = terraform.body.blocks_of("cloud").next() {
            return Some(("remote".into(), settings(&cloud.body)));
        }
    }
    None
}

/// A body's literal settings, nested blocks' under `block.name`.
pub fn settings(body: &Body) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    collect(body, "", &mut found);
    found
}

fn collect(body: &Body, prefix: &str, found: &mut BTreeMap<String, String>) {
    for attribute in &body.attributes {
        let name = format!("{prefix}{}", attribute.name.text);
        if let Some(text) = attribute.value.string() {
            found.insert(name, text.to_string());
        } else if let Some(items) = attribute.value.object() {
            for item in items {
                if let (Some(key), Some(text)) = (item.key.as_str(), item.value.string()) {
                    found.insert(format!("{name}.{key}"), text.to_string());
                }
            }
        }
    }
    for block in &body.blocks {
        collect(&block.body, &format!("{prefix}{}.", block.kind.text), found);
    }
}

/// The settings files beside a module, by name, each read and parsed (an unreadable one is
/// skipped: `terraform init` would fail on it).
fn settings_files(dir: &Path) -> Vec<(String, BTreeMap<String, String>)> {
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return Vec::new();
    };
    let mut files: Vec<(String, BTreeMap<String, String>)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_settings_file(&name) {
                return None;
            }
            let text = std::fs::read_to_string(entry.path()).ok()?;
            Some((name, settings(&parse(&text).ok()?)))
        })
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_flattened() {
        let body = parse(
            "bucket = \"b\"\nkey = \"k\"\nworkspaces { name = \"w\" }\nconfig = { prefix = \"p\" }\nregion = var.r\n",
        )
        .unwrap();
        let settings = settings(&body);
        assert_eq!(settings["bucket"], "b");
        assert_eq!(settings["workspaces.name"], "w");
        assert_eq!(settings["config.prefix"], "p");
        assert!(!settings.contains_key("region"));
    }

    #[test]
    fn environments_are_named_by_their_file() {
        let environment = |file: &str| Environment {
            file: Some(file.into()),
            settings: BTreeMap::new(),
        };
        assert_eq!(
            environment("integration.blue.backend").name(),
            Some("integration.blue")
        );
        assert_eq!(environment("backend.hcl").name(), Some("backend"));
    }

    #[test]
    fn settings_files_are_recognised() {
        assert!(is_settings_file("production.govuk.backend"));
        assert!(is_settings_file("prod.s3.tfbackend"));
        assert!(is_settings_file("backend.hcl"));
        assert!(!is_settings_file("main.tf"));
        assert!(!is_settings_file("terraform.tfvars"));
    }
}
