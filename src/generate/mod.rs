//! The generate pipeline, stage by stage: [`discover`] paths → modules; [`parse`]
//! `mutual_rules` with spans; [`validate`] into [`connection`]s; [`naming`] stable names;
//! [`render`] HCL text; [`output`] write, check or diff ([`outcome`]: what a run was asked
//! and what it did); [`lint`] warnings beside it.

pub mod connection;
pub mod for_each;
/// Expression text as `terraform fmt` prints it (exposed for its oracle tests).
pub mod hclfmt;
pub mod lint;
pub mod migration_block;
pub mod migration_file;
pub mod naming;
pub mod outcome;
pub mod output;
pub mod parse;
pub mod render;
pub mod validate;
pub mod vpc_imports;

// Discovery and file sources moved below the families (`crate::workspace`); the old paths
// stay valid for the stages that name them.
pub use crate::workspace::{discover, source};

use std::fs;
use std::sync::LazyLock;

use memchr::memmem::Finder;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{Config, ConfigFinder, Style};
use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::state::State;
use crate::workspace::current_dir;
use discover::Module;
pub use outcome::{Mode, Outcome};

use parse::RawDefinition;

/// What a module's generated file should hold.
#[derive(Debug, Default)]
pub struct Generated {
    /// The file's text, or `None` when the module defines no `mutual_rules`.
    pub text: Option<String>,
    pub warnings: Vec<Diagnostic>,
}

/// Runs the pipeline over `paths`, as the process sees them (relative paths from its current
/// directory, which messages and diffs are relative to). A module with an error gets nothing
/// written; the others proceed.
pub fn run(paths: &[PathBuf], mode: Mode) -> Outcome {
    run_with_state(paths, mode, None)
}

/// [`run`], with the Terraform state a `style` switch to the `aws_vpc_*` rules takes their
/// `sgr-` ids from.
pub fn run_with_state(paths: &[PathBuf], mode: Mode, state: Option<&State>) -> Outcome {
    run_modules(paths, mode, |module, config| {
        plan_generate(module, config, state)
    })
}

/// What one module needs changed.
pub(crate) struct Planned {
    pub(crate) changes: Vec<Change>,
    pub(crate) warnings: Vec<Diagnostic>,
    /// Whether the module defines (or will define) `mutual_rules`.
    pub(crate) has_rules: bool,
}

/// Plans every module, on all cores (modules are independent), then writes and reports in
/// module order, so output does not depend on scheduling.
pub(crate) fn run_modules(
    paths: &[PathBuf],
    mode: Mode,
    plan: impl Fn(&Module, &Config) -> Result<Planned, Vec<Diagnostic>> + Sync,
) -> Outcome {
    // Paths are shown relative to the current directory, and used as shown: discovery must
    // be relative to the directory the process really is in.
    let cwd = current_dir();
    let (modules, mut diagnostics) = discover::discover(paths, &cwd);
    let mut configs = ConfigFinder::new(&cwd);
    let configs: Vec<_> = modules
        .iter()
        .map(|module| configs.config_for(&module.dir))
        .collect();
    let plans: Vec<Result<Planned, Vec<Diagnostic>>> = modules
        .par_iter()
        .zip(configs)
        .map(|(module, config)| {
            config
                .map_err(|error| vec![error])
                .and_then(|config| plan(module, &config))
        })
        .collect();
    let mut outcome = Outcome::default();
    for planned in plans {
        let planned = match planned {
            Ok(planned) => planned,
            Err(mut errors) => {
                diagnostics.append(&mut errors);
                continue;
            }
        };
        outcome.modules_with_rules += usize::from(planned.has_rules);
        diagnostics.extend(planned.warnings);
        // A module's files are written all or nothing (see `output::apply_all`).
        if mode == Mode::Write
            && let Err(error) = output::apply_all(&planned.changes)
        {
            diagnostics.push(error);
            continue;
        }
        outcome.changes.extend(planned.changes);
    }
    outcome.diagnostics = diagnostics;
    outcome
}

/// The generated file's change, and `moved` blocks for rules it renames without changing.
fn plan_generate(
    module: &Module,
    config: &Config,
    state: Option<&State>,
) -> Result<Planned, Vec<Diagnostic>> {
    let generated = generate_module(module, config)?;
    let has_rules = generated.text.is_some();
    let mut warnings = generated.warnings;
    let change = output::plan(module, generated.text).map_err(|error| vec![error])?;
    let mut changes = Vec::new();
    if let Some(change) = change {
        // The migration file first: of the two, it is the one that must not be lost.
        if let (Some(old), Some(new)) = (&change.old, &change.new) {
            match migration_file::style_switch(module, old, new, config.style, state)? {
                Some(switch) => {
                    changes.extend(switch.change);
                    warnings.push(switch.warning);
                }
                None => changes.extend(migration_file::rename_change(module, old, new)?),
            }
        }
        changes.push(change);
    }
    Ok(Planned {
        changes,
        warnings,
        has_rules,
    })
}

/// What a module's generated file should hold, with warnings about it.
///
/// Every source is read once; only a module that mentions `mutual_rules` goes further. Most
/// modules of a monorepo do not, and this is where `check` spends its time.
pub fn generate_module(module: &Module, config: &Config) -> Result<Generated, Vec<Diagnostic>> {
    let mut sources = Vec::new();
    let mut others = Vec::new();
    for path in &module.sources {
        match source::Source::Disk.with_bytes(path, |bytes| {
            mentions(&RULES, bytes).then(|| bytes.to_vec())
        }) {
            Ok(Some(bytes)) => sources.push(classify(path, bytes)),
            Ok(None) => others.push(path),
            Err(error) => sources.push(Err(error)),
        }
    }
    if sources.is_empty() {
        return Ok(Generated::default());
    }
    // Files that may manage the same groups some other way, for the warnings: read again,
    // but only in the few modules that have rules.
    for path in others {
        sources.push(fs::read(path).map_or(Ok(Source::Irrelevant), |bytes| classify(path, bytes)));
    }
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

/// The pipeline past reading: the module's sources (or the errors reading them) → parse →
/// validate → name → render, and the warnings.
fn generate_sources(
    sources: impl IntoIterator<Item = Result<Source, Diagnostic>>,
    style: Style,
) -> Result<Generated, Vec<Diagnostic>> {
    let mut definitions = Vec::new();
    let mut errors = Vec::new();
    // What the warnings need from each file: read at once, so no syntax tree is kept.
    let mut managed = Vec::new();
    let mut others = Vec::new();
    for source in sources {
        match source {
            Ok(Source::Rules(file)) => match parse::parse_rules_file(&file) {
                Ok(parsed) => {
                    match parsed.definitions {
                        Ok(mut found) => definitions.append(&mut found),
                        Err(mut found) => errors.append(&mut found),
                    }
                    managed.extend(lint::managed_groups(&file, &parsed.body));
                }
                Err(mut found) => errors.append(&mut found),
            },
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
    let file = Arc::clone(&definition.file);
    let connections = validate::validate(&file, &definition.connections, style)?;
    // The raw connections are no longer needed: freed before rendering, the peak.
    drop(definitions);
    let named = naming::name_connections(&file, connections)?;
    let source_name = file
        .path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A file that does not parse is reported by Terraform; it only loses its warnings here.
    for file in others {
        if let Ok(body) = parse::parse_body(&file) {
            managed.extend(lint::managed_groups(&file, &body));
        }
    }
    Ok(Generated {
        text: Some(render::render(&source_name, &named)),
        warnings: lint::warnings(&file, &named, &managed),
    })
}

/// The module's named connections from already parsed files, or `None` without `mutual_rules`.
pub(crate) fn connections_of(
    files: &[parse::ParsedFile],
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
    let connections = naming::name_connections(file, connections)?;
    Ok(Some(naming::Definition {
        file: Arc::clone(file),
        connections,
    }))
}

// What `migrate` uses of the pipeline, and all it uses: it names no stage of it.
pub use connection::{Items, Peer, Port, Rule, squeeze};
pub use hclfmt::{format_value, format_value_for_key};
pub use migration_file::{MigrationBlock, migration_file_change, reparse};
pub use naming::{Definition, Resource};
pub use output::Change;
pub use parse::{LOCAL_NAME, Literal, ParsedFile, SourceValue};

/// The generated file that a module's files (as `migrate` leaves them) call for: the named
/// connections it is made from, and its change (`None` when it is up to date); `None`
/// when the files define no `mutual_rules`.
pub fn generate_from_files(
    module: &Module,
    files: &[ParsedFile],
    config: &Config,
) -> Result<Option<(Definition, Option<Change>)>, Vec<Diagnostic>> {
    let Some(definition) = connections_of(files, config)? else {
        return Ok(None);
    };
    let source_name = definition
        .file
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let generated = render::render(&source_name, &definition.connections);
    let change = output::plan(module, Some(generated)).map_err(|error| vec![error])?;
    Ok(Some((definition, change)))
}

/// Every resource the generated file declares, with its address (`TYPE.NAME`).
pub fn generated_resources(definition: &Definition) -> Vec<(Resource<'_>, String)> {
    naming::resources(&definition.connections)
        .into_iter()
        .map(|resource| {
            let address = format!(
                "{}.{}",
                render::resource_type(resource.rule.connection.style, resource.rule.direction),
                resource.name
            );
            (resource, address)
        })
        .collect()
}

/// An attribute's value as written, with its span and the literal it is, if it is one.
pub fn source_value(file: &SourceFile, expr: &crate::syntax::Expr) -> SourceValue {
    parse::value(file, expr)
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

/// Finders built once: `check` runs them over every byte of the tree.
static RULES: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(LOCAL_NAME));
static LINT_MARKERS: LazyLock<Vec<Finder<'static>>> =
    LazyLock::new(|| lint::MARKERS.iter().map(Finder::new).collect());

fn mentions(finder: &Finder, bytes: &[u8]) -> bool {
    finder.find(bytes).is_some()
}

fn classify(path: &Path, bytes: Vec<u8>) -> Result<Source, Diagnostic> {
    let rules = mentions(&RULES, &bytes);
    if !rules && !LINT_MARKERS.iter().any(|marker| mentions(marker, &bytes)) {
        return Ok(Source::Irrelevant);
    }
    let file = SourceFile::decode(path, bytes);
    // Only the warnings read a file without `mutual_rules`: one that is not UTF-8 is left
    // alone, as before. A rules file is parsed: Terraform accepts such bytes in comments.
    if !rules && !file.invalid_utf8.is_empty() {
        return Ok(Source::Irrelevant);
    }
    let file = Arc::new(file);
    Ok(if rules {
        Source::Rules(file)
    } else {
        Source::Other(file)
    })
}

/// The module's one definition. Terraform forbids a local defined twice, and merges override
/// files in a way mutualsg does not reproduce: both are errors.
fn single_definition<'a>(
    definitions: &'a [RawDefinition],
    errors: &mut Vec<Diagnostic>,
) -> Option<&'a RawDefinition> {
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
