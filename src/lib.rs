//! mutualsg: expands `locals { mutual_rules = [...] }` into the egress and ingress
//! `aws_security_group_rule` pairs each connection needs, in `mutual_rules.gen.tf`.
//!
//! The pipeline, one module per stage:
//! [`discover`] paths → modules; [`parse`] `mutual_rules` with spans; [`validate`] into
//! [`connection`]s; [`naming`] stable names; [`render`] HCL text; [`output`] write, check
//! or diff. [`diagnostics`] holds everything that can go wrong; [`cli`] drives it all.

pub mod audit;
pub mod cli;
pub mod config;
pub mod connection;
pub mod diagnostics;
pub mod discover;
pub mod flows;
pub mod graph;
mod hclfmt;
pub mod lint;
pub mod migrate;
pub mod model;
pub mod naming;
pub mod output;
pub mod parse;
pub mod render;
pub mod report;
pub mod validate;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use config::{Config, ConfigFinder, Style};
use diagnostics::{Diagnostic, Problem, SourceFile};
use discover::Module;
use output::Change;
use parse::{Definition, LOCAL_NAME};

/// What a run does with out-of-date generated files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write them (and delete stale ones).
    Write,
    /// Report them, with a diff, and fail.
    Check,
    /// Print the diff `Write` would apply.
    Diff,
}

/// How a run ended, mapped to the process exit code in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// 0: everything up to date (or written).
    Success,
    /// 1: `check` found drifted or stale files (or `generate --exit-code` changed some).
    Drift,
    /// 2: an error in the input or on the filesystem.
    Error,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Drift => 1,
            ExitStatus::Error => 2,
        }
    }
}

/// Everything a run found and did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Out-of-date generated files: written in `Write` mode, reported otherwise.
    pub changes: Vec<Change>,
    /// Errors and warnings, in the order found.
    pub diagnostics: Vec<Diagnostic>,
    /// Modules that define `mutual_rules`.
    pub modules_with_rules: usize,
}

impl Outcome {
    /// The worst thing that happened: error over drift over clean. `changes_fail`: whether an
    /// out-of-date file is a failure (`check`, `generate --exit-code`).
    pub fn status(&self, changes_fail: bool) -> ExitStatus {
        if self.errors() > 0 {
            ExitStatus::Error
        } else if changes_fail && !self.changes.is_empty() {
            ExitStatus::Drift
        } else {
            ExitStatus::Success
        }
    }

    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| !d.problem.is_warning())
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// What a module's generated file should hold.
#[derive(Debug, Default)]
pub struct Generated {
    /// The file's text, or `None` when the module defines no `mutual_rules`.
    pub text: Option<String>,
    pub warnings: Vec<Diagnostic>,
}

/// Runs the pipeline over `paths` (relative to `cwd`, which diffs and messages are relative
/// to). A module with an error gets nothing written; the others proceed.
pub fn run(paths: &[PathBuf], mode: Mode, cwd: &Path) -> Outcome {
    run_modules(paths, mode, cwd, plan_generate)
}

/// `mutualsg migrate`: the changes that move each module onto `mutual_rules`, written with
/// `write`, else only reported (as a diff).
pub fn run_migrate(paths: &[PathBuf], write: bool, cwd: &Path) -> Outcome {
    let mode = if write { Mode::Write } else { Mode::Diff };
    run_modules(paths, mode, cwd, |module, config| {
        let migration = migrate::migrate_module(module, config)?;
        Ok(Planned {
            has_rules: !migration.changes.is_empty(),
            changes: migration.changes,
            warnings: migration.warnings,
        })
    })
}

/// What one module needs changed.
struct Planned {
    changes: Vec<Change>,
    warnings: Vec<Diagnostic>,
    /// Whether the module defines (or will define) `mutual_rules`.
    has_rules: bool,
}

fn run_modules(
    paths: &[PathBuf],
    mode: Mode,
    cwd: &Path,
    plan: impl Fn(&Module, &Config) -> Result<Planned, Vec<Diagnostic>>,
) -> Outcome {
    let (modules, mut diagnostics) = discover::discover(paths, cwd);
    let mut configs = ConfigFinder::new(cwd);
    let mut outcome = Outcome::default();
    for module in &modules {
        let planned = configs
            .config_for(&module.dir)
            .map_err(|error| vec![error])
            .and_then(|config| plan(module, &config));
        let planned = match planned {
            Ok(planned) => planned,
            Err(mut errors) => {
                diagnostics.append(&mut errors);
                continue;
            }
        };
        outcome.modules_with_rules += usize::from(planned.has_rules);
        diagnostics.extend(planned.warnings);
        for change in planned.changes {
            if mode == Mode::Write
                && let Err(error) = output::apply(&change)
            {
                diagnostics.push(error);
                continue;
            }
            outcome.changes.push(change);
        }
    }
    outcome.diagnostics = diagnostics;
    outcome
}

/// The generated file's change, and `moved` blocks for rules it renames without changing.
fn plan_generate(module: &Module, config: &Config) -> Result<Planned, Vec<Diagnostic>> {
    let generated = generate_module(module, config)?;
    let has_rules = generated.text.is_some();
    let change = output::plan(module, generated.text).map_err(|error| vec![error])?;
    let mut changes = Vec::new();
    if let Some(change) = change {
        if let (Some(old), Some(new)) = (&change.old, &change.new) {
            changes.extend(migrate::rename_change(module, old, new)?);
        }
        changes.insert(0, change);
    }
    Ok(Planned {
        changes,
        warnings: generated.warnings,
        has_rules,
    })
}

/// What a module's generated file should hold, with warnings about it.
pub fn generate_module(module: &Module, config: &Config) -> Result<Generated, Vec<Diagnostic>> {
    let sources = module.sources.iter().map(|path| read_source(path));
    generate_sources(sources, config.style)
}

/// What `generate` makes of a module whose only source is `file_name` holding `bytes`: the
/// same pipeline as [`generate_module`] with the reading left out, so it is pure (fuzzing,
/// property tests).
pub fn generate_file(
    file_name: &str,
    bytes: &[u8],
    style: Style,
) -> Result<Generated, Vec<Diagnostic>> {
    let source = classify(Path::new(file_name), bytes.to_vec());
    generate_sources([source], style)
}

/// The pipeline past reading: the module's sources in name order (or the errors reading
/// them) → parse → validate → name → render, and the warnings.
fn generate_sources(
    sources: impl IntoIterator<Item = Result<Source, Diagnostic>>,
    style: Style,
) -> Result<Generated, Vec<Diagnostic>> {
    let mut definitions = Vec::new();
    let mut errors = Vec::new();
    // Files that may manage the same groups some other way, for the warnings.
    let mut others = Vec::new();
    for source in sources {
        match source {
            Ok(Source::Rules(file)) => {
                match parse::parse_file(&file) {
                    Ok(mut found) => definitions.append(&mut found),
                    Err(mut found) => errors.append(&mut found),
                }
                others.push(file);
            }
            Ok(Source::Other(file)) => others.push(file),
            Ok(Source::Irrelevant) => {}
            Err(error) => errors.push(error),
        }
    }
    let Some(definition) = single_definition(&definitions, &mut errors) else {
        return if errors.is_empty() {
            Ok(Generated::default())
        } else {
            Err(errors)
        };
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let file = &definition.file;
    let connections = validate::validate(file, &definition.connections, style)?;
    let named = naming::name_connections(file, connections, style)?;
    let source_name = file
        .path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Generated {
        text: Some(render::render(&source_name, &named, style)),
        warnings: lint::warnings(file, &named, &others),
    })
}

/// The module's named connections from already parsed files, or `None` without `mutual_rules`.
pub(crate) fn connections_of(
    files: &[model::ParsedFile],
    config: &Config,
) -> Result<Option<naming::Definition>, Vec<Diagnostic>> {
    let mut definitions = Vec::new();
    let mut errors = Vec::new();
    for parsed in files {
        match parse::definitions(&parsed.file, &parsed.body) {
            Ok(mut found) => definitions.append(&mut found),
            Err(mut found) => errors.append(&mut found),
        }
    }
    let definition = single_definition(&definitions, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(definition) = definition else {
        return Ok(None);
    };
    let file = &definition.file;
    let connections = validate::validate(file, &definition.connections, config.style)?;
    let connections = naming::name_connections(file, connections, config.style)?;
    Ok(Some(naming::Definition {
        file: Arc::clone(file),
        connections,
    }))
}

/// A source file, by what it can matter for.
enum Source {
    /// It mentions `mutual_rules`.
    Rules(Arc<SourceFile>),
    /// It may declare groups or rule managers that the warnings look at.
    Other(Arc<SourceFile>),
    /// Neither: it cannot change the output, so it is not parsed (real trees hold broken
    /// files, too).
    Irrelevant,
}

fn read_source(path: &Path) -> Result<Source, Diagnostic> {
    let bytes = fs::read(path)
        .map_err(|error| Diagnostic::file(Problem::ReadFailed(error.to_string()), path))?;
    classify(path, bytes)
}

fn classify(path: &Path, bytes: Vec<u8>) -> Result<Source, Diagnostic> {
    let mentions = |marker: &str| memchr::memmem::find(&bytes, marker.as_bytes()).is_some();
    let rules = mentions(LOCAL_NAME);
    if !rules && !lint::MARKERS.iter().any(|marker| mentions(marker)) {
        return Ok(Source::Irrelevant);
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) if rules => return Err(Diagnostic::file(Problem::NotUtf8, path)),
        Err(_) => return Ok(Source::Irrelevant),
    };
    let file = Arc::new(SourceFile {
        path: path.to_path_buf(),
        text,
    });
    Ok(if rules {
        Source::Rules(file)
    } else {
        Source::Other(file)
    })
}

/// The module's one definition. Terraform forbids a local defined twice, and merges override
/// files in a way mutualsg does not reproduce: both are errors.
fn single_definition<'a>(
    definitions: &'a [Definition],
    errors: &mut Vec<Diagnostic>,
) -> Option<&'a Definition> {
    let (first, rest) = definitions.split_first()?;
    for definition in definitions {
        if is_override(&definition.file.path) {
            errors.push(Diagnostic::at(
                Problem::InOverrideFile,
                &definition.file,
                definition.key_span.clone(),
            ));
        }
    }
    for again in rest {
        errors.push(
            Diagnostic::at(
                Problem::DuplicateDefinition,
                &again.file,
                again.key_span.clone(),
            )
            .with_note("first defined here", &first.file, first.key_span.clone()),
        );
    }
    Some(first)
}

fn is_override(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".tf")
        .or_else(|| name.strip_suffix(".tofu"))
        .unwrap_or(&name);
    stem == "override" || stem.ends_with("_override")
}
