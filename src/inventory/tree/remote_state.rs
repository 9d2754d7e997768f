//! Outputs of other root modules: `data "terraform_remote_state"` and `data "tfe_outputs"`
//! read the state of the root module whose backend their `config` names. The tree's root
//! modules are matched by their backends ([`crate::workspace::backends`]): `s3` by bucket and
//! key (with `workspace_key_prefix`), `gcs` by bucket and prefix, `azurerm` by storage
//! account, container and key, `local` by path, `remote`/`cloud` and `tfe_outputs` by
//! organization and workspace. A setting built from a variable matches by its known parts
//! (`"${var.stackname}/infra-security-groups.tfstate"`); the root module is taken only when it
//! is the one that fits, in every environment of the reader, and the finding then says so.
//! The output read is followed to its group in that module.

use std::collections::BTreeMap;
use std::path::Path;

use super::pattern::Pattern;
use super::{Resolved, Tree, clip, normalize};
use crate::inventory::Written;
use crate::inventory::flows::Analysis;
use crate::syntax::{Block, Expr, Step};
use crate::workspace::backends::{self, Backend, Environment};
use crate::workspace::source::Source;

/// What a data source reads: the backend kind and its `config`, each setting's known parts.
struct Reading {
    kind: String,
    config: BTreeMap<String, Pattern>,
}

impl Tree<'_> {
    /// The group an output of remote state names (`steps`: what follows
    /// `data.terraform_remote_state` (`.NAME.outputs.OUTPUT`, Terraform 0.11's `.NAME.OUTPUT`)
    /// or `data.tfe_outputs` (`.NAME.values.OUTPUT`); `text`: the reference as written).
    pub(super) fn resolve_remote_output(
        &self,
        module: usize,
        kind: &str,
        steps: &[Step],
        text: &str,
        depth: usize,
    ) -> Resolved {
        let [Step::Attribute(name), rest @ ..] = steps else {
            return super::unknown("an element of remote state", text);
        };
        let rest = super::skip_brackets(rest);
        let (output, trailing) = match (kind, rest) {
            (
                "terraform_remote_state",
                [
                    Step::Attribute(outputs),
                    Step::Attribute(output),
                    trailing @ ..,
                ],
            ) if outputs.text == "outputs" => (output, trailing),
            ("terraform_remote_state", [Step::Attribute(output), trailing @ ..]) => {
                (output, trailing)
            }
            (
                "tfe_outputs",
                [
                    Step::Attribute(values),
                    Step::Attribute(output),
                    trailing @ ..,
                ],
            ) if matches!(values.text.as_str(), "values" | "nonsensitive_values") => {
                (output, trailing)
            }
            _ => return super::unknown("an element of remote state", text),
        };
        match trailing {
            [] => {}
            [first, ..] if super::is_bracket(first) => {
                return super::unknown("an element of an output of remote state", text);
            }
            _ => return super::unknown("an element of remote state", text),
        }
        let output = output.text.as_str();
        let Some((block, _)) = self.find_data(module, kind, &name.text) else {
            return super::unknown("remote state declared in no file that was read", text);
        };
        let reading = match kind {
            "tfe_outputs" => tfe_reading(block),
            _ => remote_state_reading(block),
        };
        let Some(reading) = reading else {
            return super::unknown("remote state whose backend is an expression", text);
        };
        // Matched once per data source: a module reads one remote state in many places.
        let key = (module, kind.to_string(), name.text.to_string());
        let known = self
            .writers
            .lock()
            .expect("not poisoned")
            .get(&key)
            .cloned();
        let writer = match known {
            Some(writer) => writer,
            None => {
                let writer = self.writer_of(module, &reading);
                let mut writers = self.writers.lock().expect("not poisoned");
                writers.insert(key, writer.clone());
                writer
            }
        };
        let (writer, how) = match writer {
            Ok(found) => found,
            Err(why) => {
                return Resolved::Unknown(format!("remote state (`{}`) {why}", clip(text)));
            }
        };
        let writer_name = self.modules[writer].module.clone();
        let Some((block, file)) = self.find_block(writer, "output", output) else {
            return Resolved::Unknown(format!(
                "remote state (`{}`) of root module {writer_name}, which has no output `{output}`",
                clip(text)
            ));
        };
        let Some(value) = block.body.attribute("value") else {
            return super::unknown("an output without a value", text);
        };
        let value_text = Written::text_of(&file.text, &value.value);
        match self.resolve_at(writer, &value.value, &value_text, depth + 1) {
            Resolved::Group(key) => {
                let read = (writer, output.to_string());
                self.read_outputs.lock().expect("not poisoned").insert(read);
                if let Some(how) = how {
                    self.matched.lock().expect("not poisoned").push(format!(
                        "`{}` read as root module {writer_name}, {how}",
                        clip(text)
                    ));
                }
                Resolved::Group(key)
            }
            Resolved::Unknown(why) => Resolved::Unknown(format!(
                "output `{output}` of root module {writer_name} (read as remote state), which is {why}"
            )),
        }
    }

    /// The root module whose state `reading` names, and how it was matched when not by
    /// settings known in full; else why none is.
    fn writer_of(
        &self,
        reader: usize,
        reading: &Reading,
    ) -> Result<(usize, Option<String>), String> {
        if !matches!(
            reading.kind.as_str(),
            "s3" | "gcs" | "azurerm" | "local" | "remote"
        ) {
            return Err(format!(
                "from a `{}` backend, which is not matched",
                reading.kind
            ));
        }
        let modules = self.modules;
        let backends = self.backends.get_or_init(|| read_backends(modules));
        let reader_envs: Vec<Option<String>> = match &backends[reader] {
            Some(backend) if backend.environments.iter().any(|e| e.file.is_some()) => backend
                .environments
                .iter()
                .map(|environment| environment.name().map(str::to_string))
                .collect(),
            _ => vec![None],
        };
        let mut writers = Vec::new();
        let mut exact = true;
        let mut blind = Vec::new();
        // Root modules that fit only because their backend settings are not in the tree.
        let mut unshown = 0;
        for env in &reader_envs {
            let mut fitting = Vec::new();
            for (writer, analysis) in modules.iter().enumerate() {
                if writer == reader || self.callers.contains_key(&writer) {
                    continue;
                }
                let implicit;
                let backend = match &backends[writer] {
                    Some(backend) => backend,
                    // A root module with no backend keeps its state in `terraform.tfstate`.
                    None if reading.kind == "local" => {
                        implicit = Backend {
                            kind: "local".into(),
                            environments: vec![Environment {
                                file: None,
                                settings: BTreeMap::new(),
                            }],
                        };
                        &implicit
                    }
                    None => continue,
                };
                let kind = backend.kind.as_str();
                if kind != reading.kind {
                    continue;
                }
                let named: Vec<&Environment> = backend
                    .environments
                    .iter()
                    .filter(|e| env.is_some() && e.name() == env.as_deref())
                    .collect();
                let candidates = if named.is_empty() {
                    backend.environments.iter().collect()
                } else {
                    named
                };
                let fit = candidates.iter().find_map(|environment| {
                    fits(reading, environment, &modules[reader].dir, &analysis.dir)
                });
                match fit {
                    // A module that leaves every compared setting to the command line fits
                    // anything: counted only when no module with settings fits.
                    Some(_) if candidates.iter().all(|e| unset(reading, e)) => blind.push(writer),
                    Some(known) => {
                        exact &= known;
                        fitting.push(writer);
                    }
                    None => {}
                }
            }
            if fitting.is_empty() {
                fitting = std::mem::take(&mut blind);
            } else if !blind.is_empty() {
                unshown = unshown.max(blind.len());
                blind.clear();
            }
            writers.push((env.clone(), fitting));
        }
        let names = |fitting: &[usize]| {
            fitting
                .iter()
                .take(3)
                .map(|&writer| modules[writer].module.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut found = None;
        for (env, fitting) in &writers {
            let place = env
                .as_ref()
                .map(|env| format!(" in environment `{env}`"))
                .unwrap_or_default();
            match fitting.as_slice() {
                [] => {
                    return Err(format!(
                        "whose {} backend settings ({}) fit no root module of this tree{place}",
                        reading.kind,
                        shown(&reading.config)
                    ));
                }
                [one] if found.is_none_or(|found| found == *one) => found = Some(*one),
                [_] => {
                    return Err(format!(
                        "whose {} backend settings fit different root modules in different environments",
                        reading.kind
                    ));
                }
                many => {
                    return Err(format!(
                        "whose {} backend settings ({}) fit {} root modules of this tree{place} ({}…)",
                        reading.kind,
                        shown(&reading.config),
                        many.len(),
                        names(many)
                    ));
                }
            }
        }
        let writer = found.ok_or("that fits no root module of this tree")?;
        let how = (!exact || unshown > 0).then(|| {
            let mut how = format!(
                "the one root module whose {} backend fits the known parts of its settings ({}){}",
                reading.kind,
                shown(&reading.config),
                if reader_envs.len() > 1 {
                    " in every environment"
                } else {
                    ""
                }
            );
            if unshown > 0 {
                how.push_str(&format!(
                    ", leaving out {unshown} root module(s) whose backend settings this tree does not hold"
                ));
            }
            how
        });
        Ok((writer, how))
    }
}

/// Every module's backend. Read on threads of its own, one per core: this runs inside a
/// lookup on a worker of the pool, and a worker waiting on the pool could be handed another
/// lookup that needs the backends, while they are being read (a deadlock).
fn read_backends(modules: &[Analysis]) -> Vec<Option<Backend>> {
    let read = |analysis: &Analysis| match &analysis.model.backend_files {
        Some(files) => backends::read_files(&analysis.dir, files),
        None => backends::read(&Source::Disk, &analysis.dir, &analysis.sources),
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = modules.len().div_ceil(cores).max(1);
    std::thread::scope(|scope| {
        let threads: Vec<_> = modules
            .chunks(chunk)
            .map(|chunk| scope.spawn(move || chunk.iter().map(read).collect::<Vec<_>>()))
            .collect();
        threads
            .into_iter()
            .flat_map(|thread| thread.join().expect("reading a backend does not panic"))
            .collect()
    })
}

/// The settings a kind of backend is told apart by, with the value a missing one takes.
fn compared(kind: &str) -> &'static [(&'static str, Option<&'static str>)] {
    match kind {
        "s3" => &[
            ("bucket", None),
            ("key", None),
            ("workspace_key_prefix", Some("env:")),
        ],
        "gcs" => &[("bucket", None), ("prefix", None)],
        "azurerm" => &[
            ("storage_account_name", None),
            ("container_name", None),
            ("key", None),
        ],
        "local" => &[("path", Some("terraform.tfstate"))],
        _ => &[("organization", None), ("workspaces.name", None)],
    }
}

/// Whether one environment's settings fit what is read: `Some(true)` when every compared
/// setting is known on both sides and equal, `Some(false)` when they only may be equal.
fn fits(
    reading: &Reading,
    environment: &Environment,
    reader_dir: &Path,
    writer_dir: &Path,
) -> Option<bool> {
    let mut known = true;
    for (name, default) in compared(&reading.kind) {
        let mut wanted = match (reading.config.get(*name), default) {
            (Some(pattern), _) => pattern.clone(),
            (None, Some(default)) => Pattern::literal(default),
            (None, None) => Pattern::any(),
        };
        let mut have = match (environment.settings.get(*name), default) {
            (Some(value), _) => Pattern::literal(value),
            (None, Some(default)) => Pattern::literal(default),
            // A remote backend names its workspaces by a prefix, the current workspace
            // completing it.
            (None, None) if *name == "workspaces.name" => {
                match environment.settings.get("workspaces.prefix") {
                    Some(prefix) => Pattern::literal(prefix).then_any(),
                    None => Pattern::any(),
                }
            }
            (None, None) => Pattern::any(),
        };
        // A local path is relative to the module that runs Terraform.
        if *name == "path" {
            match (wanted.known(), have.known()) {
                (Some(read), Some(written)) => {
                    wanted = Pattern::literal(&normalize(&reader_dir.join(read)).to_string_lossy());
                    have =
                        Pattern::literal(&normalize(&writer_dir.join(written)).to_string_lossy());
                }
                _ => known = false,
            }
        }
        if !wanted.may_equal(&have) {
            return None;
        }
        known &= wanted.known().is_some() && have.known().is_some();
    }
    Some(known)
}

/// Whether an environment sets none of the settings a backend is told apart by (no block
/// setting, no settings file): `terraform init` gets them from elsewhere.
fn unset(reading: &Reading, environment: &Environment) -> bool {
    compared(&reading.kind)
        .iter()
        .filter(|(_, default)| default.is_none())
        .all(|(name, _)| !environment.settings.contains_key(*name))
}

/// `data "terraform_remote_state"`: `backend` and `config` (an object, or Terraform 0.11's
/// `config { … }` block).
fn remote_state_reading(block: &Block) -> Option<Reading> {
    let kind = block.body.attribute("backend")?.value.string()?;
    let kind = if kind == "cloud" { "remote" } else { kind };
    let mut config = BTreeMap::new();
    if let Some(attribute) = block.body.attribute("config") {
        flatten(&attribute.value, "", &mut config);
    }
    for nested in block.body.blocks_of("config") {
        for attribute in &nested.body.attributes {
            flatten(&attribute.value, &attribute.name.text, &mut config);
        }
        for inner in &nested.body.blocks {
            for attribute in &inner.body.attributes {
                let name = format!("{}.{}", inner.kind.text, attribute.name.text);
                flatten(&attribute.value, &name, &mut config);
            }
        }
    }
    Some(Reading {
        kind: kind.to_string(),
        config,
    })
}

/// `data "tfe_outputs"`: an organization and a workspace of HCP Terraform.
fn tfe_reading(block: &Block) -> Option<Reading> {
    let mut config = BTreeMap::new();
    for (attribute, name) in [
        ("organization", "organization"),
        ("workspace", "workspaces.name"),
    ] {
        if let Some(attribute) = block.body.attribute(attribute) {
            config.insert(name.to_string(), Pattern::of(&attribute.value));
        }
    }
    Some(Reading {
        kind: "remote".into(),
        config,
    })
}

/// An object's settings by name (nested objects' by `outer.inner`); a value that is not an
/// object is the setting `name`.
fn flatten(expr: &Expr, name: &str, into: &mut BTreeMap<String, Pattern>) {
    match expr.object() {
        Some(items) => {
            for item in items {
                let Some(key) = item.key.as_str() else {
                    continue;
                };
                let key = if name.is_empty() {
                    key.to_string()
                } else {
                    format!("{name}.{key}")
                };
                flatten(&item.value, &key, into);
            }
        }
        None if !name.is_empty() => {
            into.insert(name.to_string(), Pattern::of(expr));
        }
        // `config = var.remote`: nothing known.
        None => {}
    }
}

/// `bucket = *, key = */infra-security-groups.tfstate`, for a reader.
fn shown(config: &BTreeMap<String, Pattern>) -> String {
    if config.is_empty() {
        return "none known".into();
    }
    config
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "region" | "encrypt" | "profile"))
        .map(|(name, pattern)| format!("{name} = {pattern}"))
        .collect::<Vec<_>>()
        .join(", ")
}
