//! What each module's variables are given, as Terraform would give them: a root module the
//! values of its `terraform.tfvars` and `*.auto.tfvars` (no `-var` options are known); a
//! module that a module of the tree calls with a local `source`, the arguments of those calls,
//! evaluated in the caller (one level: the caller's own variables are its root values). A
//! module called several ways is read once per distinct set of arguments (up to
//! [`MAX_CALLS`]; beyond, a variable the calls set differently is unknown), and its rules are
//! the union of what each gives.
//!
//! [`read_tree`] reads a whole tree this way: every module parsed once, then the calls
//! evaluated, then every model built.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Config;
use crate::diagnostics::Diagnostic;
use crate::eval::{self, Files, Instances, Value};
use crate::inventory::{ModuleModel, ParsedModule, model_of, parse_module, values};
use crate::paths::{join, normalize};
use crate::workspace::discover::Module;
use crate::workspace::source::{Source, is_variables_file};

/// The values Terraform reads for a root module in `dir` without `-var` options:
/// `terraform.tfvars`, `terraform.tfvars.json`, then `*.auto.tfvars` and
/// `*.auto.tfvars.json` in lexical order, a later file's value winning. A file that cannot
/// be read or parsed gives nothing.
pub fn root_inputs(source: &Source, dir: &Path) -> BTreeMap<String, Value> {
    let mut names: Vec<String> = source
        .file_names(dir)
        .into_iter()
        .filter(|name| is_variables_file(name) && name.contains(".auto."))
        .collect();
    names.sort();
    let mut inputs = BTreeMap::new();
    let first = ["terraform.tfvars", "terraform.tfvars.json"].map(String::from);
    for name in first.iter().chain(&names) {
        let Ok(bytes) = source.read(&join(dir, name)) else {
            continue;
        };
        if let Ok(values) = eval::tfvars(name, &String::from_utf8_lossy(&bytes)) {
            inputs.extend(values);
        }
    }
    inputs
}

/// Reads every module of a tree: its model (with its variables' values, as above) and the
/// errors reading it; `None` where its configuration could not be read.
pub fn read_tree(
    source: &Source,
    modules: &[Module],
    configs: Vec<Result<Config, Diagnostic>>,
) -> Vec<(Option<ModuleModel>, Vec<Diagnostic>)> {
    let mut parsed: Vec<ParsedModule> = modules
        .par_iter()
        .map(|module| parse_module(source, module, Some(crate::inventory::groups_reading)))
        .collect();
    let needs: Vec<bool> = parsed.iter().map(ParsedModule::needs_values).collect();
    let by_dir: HashMap<PathBuf, usize> = modules
        .iter()
        .enumerate()
        .map(|(index, module)| (normalize(&module.dir), index))
        .collect();
    // Which modules of the tree each module calls (caller, callee) with a local `source`.
    let calls: Vec<(usize, usize)> = parsed
        .iter()
        .enumerate()
        .flat_map(|(caller, module)| {
            let by_dir = &by_dir;
            let dir = &modules[caller].dir;
            module.module_calls().filter_map(move |(_, block)| {
                let source = block.body.attribute("source")?.value.string()?;
                if !(source.starts_with("./") || source.starts_with("../")) {
                    return None;
                }
                Some((caller, *by_dir.get(&normalize(&dir.join(source)))?))
            })
        })
        .collect();
    let roots: Vec<BTreeMap<String, Value>> = modules
        .par_iter()
        .enumerate()
        .map(|(index, module)| {
            let calls_needy = calls
                .iter()
                .any(|(caller, callee)| *caller == index && needs[*callee]);
            if needs[index] || calls_needy {
                root_inputs(source, &module.dir)
            } else {
                BTreeMap::new()
            }
        })
        .collect();
    let mut given: HashMap<usize, Vec<BTreeMap<String, Value>>> = HashMap::new();
    // A module that the tree calls is not a root module: no variables files of its own.
    for (_, callee) in &calls {
        given.entry(*callee).or_default();
    }
    let callers: Vec<usize> = {
        let mut callers: Vec<usize> = calls
            .iter()
            .filter(|(_, callee)| needs[*callee])
            .map(|(caller, _)| *caller)
            .collect();
        callers.sort_unstable();
        callers.dedup();
        callers
    };
    // A caller whose own rules read no values has its variables and locals parsed now.
    let more: std::collections::HashSet<usize> = callers
        .iter()
        .copied()
        .filter(|caller| !needs[*caller])
        .collect();
    parsed
        .par_iter_mut()
        .enumerate()
        .filter(|(index, _)| more.contains(index))
        .for_each(|(_, module)| module.parse_more_values(source));
    // What one caller's calls give the modules they call.
    let calls_of = |&caller: &usize| -> CallsOf {
        let access = Files::in_module(source, &modules[caller].dir, true);
        let module = values::evaluate_for(
            parsed[caller].files.iter().chain(&parsed[caller].values),
            &roots[caller],
            Some(access),
        );
        let mut found = Vec::new();
        for (file, block) in parsed[caller].module_calls() {
            let Some(source) = block
                .body
                .attribute("source")
                .and_then(|a| a.value.string())
            else {
                continue;
            };
            if !(source.starts_with("./") || source.starts_with("../")) {
                continue;
            }
            let Some(&callee) = by_dir.get(&normalize(&modules[caller].dir.join(source))) else {
                continue;
            };
            if !needs[callee] {
                continue;
            }
            let text = file.file.text.as_str();
            let inputs = match module.instances(block, text) {
                Instances::Single => vec![module.call_inputs(block, text, None)],
                Instances::Known(instances) => instances
                    .iter()
                    .map(|instance| module.call_inputs(block, text, Some(instance)))
                    .collect(),
                // Instances a plan decides: every argument's value is unknown.
                Instances::Unknown => vec![
                    module
                        .call_inputs(block, text, None)
                        .into_keys()
                        .map(|name| (name, Value::Unknown))
                        .collect(),
                ],
            };
            found.push((callee, inputs));
        }
        found
    };
    // The model of a module, given the inputs of its calls (`None`: a root module).
    let model = |index: usize, called: Option<&Vec<BTreeMap<String, Value>>>| match &configs[index]
    {
        Ok(config) => {
            // A module the tree calls is no root module: Terraform runs in its caller.
            let inputs = match called {
                Some(calls) => distinct(calls),
                None => vec![roots[index].clone()],
            };
            let access = Files::in_module(source, &modules[index].dir, called.is_none());
            let (model, errors) = model_of(&parsed[index], &inputs, Some(&access), config, true);
            (Some(model), errors)
        }
        Err(error) => (None, vec![error.clone()]),
    };
    // Each caller evaluated on its own core, the calls then gathered in caller order; the
    // models of the modules no module calls are built meanwhile.
    let (given_by_caller, mut models): (Vec<CallsOf>, Vec<_>) = rayon::join(
        || callers.par_iter().map(calls_of).collect(),
        || {
            (0..modules.len())
                .into_par_iter()
                .map(|index| (!given.contains_key(&index)).then(|| model(index, None)))
                .collect()
        },
    );
    for (callee, inputs) in given_by_caller.into_iter().flatten() {
        given.entry(callee).or_default().extend(inputs);
    }
    let called: Vec<_> = models
        .par_iter()
        .enumerate()
        .filter(|(_, model)| model.is_none())
        .map(|(index, _)| (index, model(index, given.get(&index))))
        .collect();
    for (index, found) in called {
        models[index] = Some(found);
    }
    models.into_iter().flatten().collect()
}

/// What one caller's calls give the modules they call: (callee, a set of inputs per call
/// instance), in the order the calls are written.
type CallsOf = Vec<(usize, Vec<BTreeMap<String, Value>>)>;

/// Most sets of inputs a module is read with, one per distinct call (instance): beyond it,
/// one set of the values every call gives alike.
const MAX_CALLS: usize = 16;

/// The distinct sets of inputs the calls of a module give (none: its defaults).
fn distinct(calls: &[BTreeMap<String, Value>]) -> Vec<BTreeMap<String, Value>> {
    let mut seen = std::collections::HashSet::new();
    let sets: Vec<BTreeMap<String, Value>> = calls
        .iter()
        .filter(|call| seen.insert(format!("{call:?}")))
        .cloned()
        .collect();
    match sets.len() {
        0 => vec![BTreeMap::new()],
        n if n <= MAX_CALLS => sets,
        _ => vec![agreed(calls)],
    }
}

/// The values every call gives alike; a variable some calls give differently, or only some
/// give, is unknown (one that none gives keeps its default).
fn agreed(calls: &[BTreeMap<String, Value>]) -> BTreeMap<String, Value> {
    let mut inputs = BTreeMap::new();
    for call in calls {
        for name in call.keys() {
            let values: Vec<Option<&Value>> = calls.iter().map(|other| other.get(name)).collect();
            let value = match values.first() {
                Some(Some(first)) if values.iter().all(|value| *value == Some(*first)) => {
                    (*first).clone()
                }
                _ => Value::Unknown,
            };
            inputs.insert(name.clone(), value);
        }
    }
    inputs
}
