//! The lockdown on real repositories, planned by real Terraform: each repository of
//! `MUTUALSG_CORPUS_LIST` (default `tests/data/lockdown.tsv`), checked out under
//! `MUTUALSG_CORPUS_DIR/<owner>+<name>` (`benches/corpus-migrate.sh --lockdown` does it), is
//! copied whole, locked down (`migrate --add-egress --write`, then `generate`), and every
//! module directory the migration changed is planned with the offline stand-in provider:
//! the security-group slice of the module before (`slice.rs`) is applied to a fresh state,
//! the slice after must pass `terraform validate`, and its plan must destroy and replace
//! nothing, update nothing, and create only egress rules (moves, imports and forgets are
//! what a migration plans); that plan is then applied, and a second plan must be empty.
//! Modules whose slice cannot be planned are counted by reason. Skipped without
//! `MUTUALSG_CORPUS_DIR`, without Terraform and the stand-in provider, and with
//! `MUTUALSG_TERRAFORM_APPLY=1` (never against a real account). `MUTUALSG_SLICES_DIR` keeps
//! the slices planned.

#[path = "../common/mod.rs"]
mod common;
mod slice;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// What one repository gave.
#[derive(Default)]
struct Figures {
    migrated: usize,
    planned: usize,
    moves: usize,
    imports: usize,
    forgets: usize,
    egress_created: usize,
    /// Modules whose slice could not be planned, by reason.
    not_planned: BTreeMap<String, Vec<String>>,
    failures: Vec<String>,
}

#[test]
fn lockdown_plans_no_destroy_and_no_replacement() {
    let Some(root) = std::env::var_os("MUTUALSG_CORPUS_DIR") else {
        eprintln!("skipping: set MUTUALSG_CORPUS_DIR to the checkouts of tests/data/lockdown.tsv");
        return;
    };
    // The slices hold made-up group ids and apply dozens of groups: never to an account.
    if std::env::var_os("MUTUALSG_TERRAFORM_APPLY").is_some_and(|v| v == "1") {
        eprintln!("skipping: the lockdown plans run only with the offline stand-in provider");
        return;
    }
    let Some(terraform) = terraform_with_aws("lockdown_plans_no_destroy_and_no_replacement") else {
        return;
    };
    let list = std::env::var_os("MUTUALSG_CORPUS_LIST").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lockdown.tsv"),
        PathBuf::from,
    );
    let list = fs::read_to_string(&list).unwrap();
    let mut failures = Vec::new();
    for line in list.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let repo_name = line.split('\t').next().unwrap();
        let repo = Path::new(&root).join(repo_name.replace('/', "+"));
        assert!(repo.is_dir(), "{} is not checked out", repo.display());
        let figures = plan_repository(&terraform, &repo);
        let not_planned: usize = figures.not_planned.values().map(Vec::len).sum();
        eprintln!(
            "{repo_name} [plan]: {} modules migrated, {} planned ({} moves, {} imports, {} forgets, {} egress halves created), {} failures, {} not planned",
            figures.migrated,
            figures.planned,
            figures.moves,
            figures.imports,
            figures.forgets,
            figures.egress_created,
            figures.failures.len(),
            not_planned
        );
        for (reason, modules) in &figures.not_planned {
            eprintln!("  {:4}  {reason}", modules.len());
            for module in modules {
                eprintln!("          {module}");
            }
        }
        failures.extend(
            figures
                .failures
                .into_iter()
                .map(|failure| format!("{repo_name}: {failure}")),
        );
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn plan_repository(terraform: &Path, repo: &Path) -> Figures {
    let mut figures = Figures::default();
    let work = assert_fs::TempDir::new().unwrap();
    let after = work.path().join("after");
    copy_tree(repo, &after);
    for args in [
        &["migrate", "--add-egress", "--write", "."][..],
        &["generate", "."][..],
    ] {
        let output = mutualsg(&after, args);
        if !output.status.success() {
            figures.failures.push(format!(
                "mutualsg {} exited {:?}:\n{}",
                args.join(" "),
                output.status.code(),
                text(&output.stderr)
            ));
            return figures;
        }
    }
    // The files a slice may read (`file()`, `jsondecode(file(…))`), where it reads them.
    let scratch = work.path().join("plan");
    copy_tree(repo, &scratch);
    for entry in walkdir::WalkDir::new(&scratch).into_iter().flatten() {
        if is_terraform(entry.path()) {
            fs::remove_file(entry.path()).unwrap();
        }
    }
    for module in changed_modules(repo, &after) {
        figures.migrated += 1;
        let name = module.display().to_string();
        match plan_module(
            terraform,
            &repo.join(&module),
            &after.join(&module),
            &scratch.join(&module),
            &name,
        ) {
            Outcome::Planned(changes) => {
                figures.planned += 1;
                figures.moves += changes.moves;
                figures.imports += changes.imports;
                figures.forgets += changes.forgets;
                figures.egress_created += changes.egress_created;
                figures.failures.extend(
                    changes
                        .wrong
                        .into_iter()
                        .map(|wrong| format!("{name}: {wrong}")),
                );
            }
            Outcome::NotPlanned(reason, detail) => figures
                .not_planned
                .entry(reason)
                .or_default()
                .push(if detail.is_empty() {
                    name
                } else {
                    format!("{name}: {detail}")
                }),
            Outcome::Failed(why) => figures.failures.push(format!("{name}: {why}")),
        }
    }
    figures
}

fn is_terraform(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "tf" || e == "tofu")
}

/// The module directories (relative) where `after` differs from `before` in a `.tf` file.
fn changed_modules(before: &Path, after: &Path) -> BTreeSet<PathBuf> {
    let terraform_files = |root: &Path| -> BTreeMap<PathBuf, Vec<u8>> {
        read_tree(root)
            .into_iter()
            .filter(|(path, _)| is_terraform(path))
            .collect()
    };
    let (before, after) = (terraform_files(before), terraform_files(after));
    before
        .keys()
        .chain(after.keys())
        .filter(|path| before.get(*path) != after.get(*path))
        .map(|path| path.parent().unwrap().to_path_buf())
        .collect()
}

fn module_files(dir: &Path) -> Vec<slice::File> {
    let mut files: Vec<slice::File> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "tf"))
        .map(|entry| slice::File {
            name: entry.file_name().to_string_lossy().into_owned(),
            text: fs::read_to_string(entry.path()).unwrap_or_default(),
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

/// The variables a module directory's `terraform.tfvars` and `*.auto.tfvars` files (HCL or
/// JSON) set: Terraform reads those files beside the slice, as beside the module.
fn variables_set(dir: &Path) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let read = || fs::read_to_string(entry.path()).unwrap_or_default();
        if name == "terraform.tfvars" || name.ends_with(".auto.tfvars") {
            if let Ok(body) = hcl_edit::parser::parse_body(&read()) {
                set.extend(body.attributes().map(|a| a.key.as_str().to_string()));
            }
        } else if (name == "terraform.tfvars.json" || name.ends_with(".auto.tfvars.json"))
            && let Ok(Value::Object(values)) = serde_json::from_str::<Value>(&read())
        {
            set.extend(values.keys().cloned());
        }
    }
    set
}

enum Outcome {
    Planned(Changes),
    /// Why, and what Terraform said of this module.
    NotPlanned(String, String),
    /// The slice before applied, and the slice after failed where it should not.
    Failed(String),
}

/// What the plan after the migration does; `wrong` is what it must not do.
#[derive(Default)]
struct Changes {
    moves: usize,
    imports: usize,
    forgets: usize,
    egress_created: usize,
    wrong: Vec<String>,
}

/// The first error Terraform printed: its summary, and the first paragraph of its detail.
fn first_error(output: &std::process::Output) -> (String, String) {
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .map(|line| line.trim_start_matches(['│', '╷', '╵']).trim())
        .collect();
    let Some(start) = lines.iter().position(|line| line.starts_with("Error: ")) else {
        return ("no message".into(), stderr.trim().to_string());
    };
    let summary = lines[start].trim_start_matches("Error: ").to_string();
    let detail = lines[start + 1..]
        .split(|line| line.is_empty())
        .find(|paragraph| {
            !paragraph.is_empty()
                && !paragraph[0].starts_with("on ")
                && !paragraph[0].starts_with("Error: ")
        })
        .map(|paragraph| paragraph.join(" "))
        .unwrap_or_default();
    // The slice's line the error is on (`4405: source_sg_id = …`), as its text.
    let at = lines[start + 1..]
        .iter()
        .skip_while(|line| !line.starts_with("on "))
        .nth(1)
        .and_then(|line| line.split_once(": "))
        .map(|(_, code)| format!(" [at `{}`]", code.trim()))
        .unwrap_or_default();
    (summary, format!("{detail}{at}"))
}

fn plan_module(terraform: &Path, before: &Path, after: &Path, dir: &Path, name: &str) -> Outcome {
    let set = variables_set(before);
    let before_slice = match slice::slice(&module_files(before), &set) {
        Ok(text) => text,
        Err(why) => return Outcome::NotPlanned(format!("before: {why}"), String::new()),
    };
    let after_slice = match slice::slice(&module_files(after), &set) {
        Ok(text) => text,
        Err(why) => return Outcome::NotPlanned(format!("after: {why}"), String::new()),
    };
    // `MUTUALSG_SLICES_DIR` keeps the slices, to read what was planned.
    if let Some(keep) = std::env::var_os("MUTUALSG_SLICES_DIR") {
        let name = name.replace('/', "+");
        fs::create_dir_all(&keep).unwrap();
        fs::write(
            Path::new(&keep).join(format!("{name}.before.tf")),
            &before_slice,
        )
        .unwrap();
        fs::write(
            Path::new(&keep).join(format!("{name}.after.tf")),
            &after_slice,
        )
        .unwrap();
    }
    fs::create_dir_all(dir).unwrap();
    let slice_file = dir.join("mutualsg-slice.tf");
    let outcome = plan_slices(terraform, dir, &slice_file, &before_slice, &after_slice);
    for leftover in [
        "mutualsg-slice.tf",
        "terraform.tfstate",
        "terraform.tfstate.backup",
        ".terraform.lock.hcl",
        "after.tfplan",
        "again.tfplan",
    ] {
        let _ = fs::remove_file(dir.join(leftover));
    }
    let _ = fs::remove_dir_all(dir.join(".terraform"));
    outcome
}

fn plan_slices(
    terraform: &Path,
    dir: &Path,
    slice_file: &Path,
    before: &str,
    after: &str,
) -> Outcome {
    let run = |args: &[&str]| run_terraform(terraform, dir, args);
    fs::write(slice_file, before).unwrap();
    let init = run(&["init", "-input=false", "-no-color"]);
    if !init.status.success() {
        let (summary, detail) = first_error(&init);
        return Outcome::NotPlanned(format!("before: init: {summary}"), detail);
    }
    let apply = run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    if !apply.status.success() {
        let (summary, detail) = first_error(&apply);
        return Outcome::NotPlanned(format!("before: apply: {summary}"), detail);
    }
    // What the slice before plans again right after its apply (the stand-in's perpetual
    // diffs, as AWS has them) is no change of the migration's.
    let baseline = match changes_planned(&run, "after.tfplan") {
        Ok(changes) => changes,
        Err((summary, detail)) => {
            return Outcome::NotPlanned(format!("before: plan: {summary}"), detail);
        }
    };
    fs::write(slice_file, after).unwrap();
    // A function given a stand-in it cannot take (`jsondecode` of a stand-in string) fails on
    // the slice's value, not on the migration's: a rule the slice before held under a count of
    // 0 was never evaluated, and its connection in `mutual_rules` is.
    let on_stand_in = |summary: &str, detail: &str| {
        summary == "Error in function call" && detail.contains(slice::STAND_IN_PREFIX)
    };
    let validate = run(&["validate", "-no-color"]);
    if !validate.status.success() {
        let (summary, detail) = first_error(&validate);
        if on_stand_in(&summary, &detail) {
            return Outcome::NotPlanned(format!("after: validate: {summary}"), detail);
        }
        return Outcome::Failed(format!("terraform validate: {summary}: {detail}"));
    }
    let plan = match changes_planned(&run, "after.tfplan") {
        Ok(plan) => plan,
        Err((summary, detail)) if on_stand_in(&summary, &detail) => {
            return Outcome::NotPlanned(format!("after: plan: {summary}"), detail);
        }
        Err((summary, detail)) => {
            return Outcome::Failed(format!("terraform plan: {summary}: {detail}"));
        }
    };
    let unstable: BTreeSet<&str> = baseline
        .iter()
        .map(|change| change.address.as_str())
        .collect();
    let mut changes = Changes::default();
    for change in &plan {
        let was = change
            .previous_address
            .as_deref()
            .unwrap_or(&change.address);
        changes.moves += usize::from(change.previous_address.is_some());
        changes.imports += usize::from(change.importing);
        let actions: Vec<&str> = change.actions.iter().map(String::as_str).collect();
        match actions.as_slice() {
            ["no-op"] => {}
            ["forget"] => changes.forgets += 1,
            ["create"] if change.egress => changes.egress_created += 1,
            ["update"] if unstable.contains(was) => {}
            _ => changes.wrong.push(format!(
                "{}{} plans {}{}",
                change.address,
                change
                    .previous_address
                    .as_deref()
                    .map_or(String::new(), |from| format!(" (moved from {from})")),
                actions.join("+"),
                change.differs
            )),
        }
    }
    let apply = run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "after.tfplan",
    ]);
    if !apply.status.success() {
        changes
            .wrong
            .push(format!("its apply fails: {:?}", first_error(&apply)));
        return Outcome::Planned(changes);
    }
    match changes_planned(&run, "again.tfplan") {
        Ok(again) => {
            for change in again {
                let actions: Vec<&str> = change.actions.iter().map(String::as_str).collect();
                if actions != ["no-op"] && !unstable.contains(change.address.as_str()) {
                    changes.wrong.push(format!(
                        "after its apply, {} still plans {}{}",
                        change.address,
                        actions.join("+"),
                        change.differs
                    ));
                }
            }
        }
        Err(why) => changes
            .wrong
            .push(format!("the plan after its apply fails: {why:?}")),
    }
    Outcome::Planned(changes)
}

/// One resource change of a plan, as `terraform show -json` gives it.
struct Change {
    address: String,
    previous_address: Option<String>,
    actions: Vec<String>,
    importing: bool,
    /// Whether it creates an egress rule.
    egress: bool,
    /// The attributes whose values change, as ` (a, b)` (empty when none).
    differs: String,
}

/// The resource changes of `terraform plan -out FILE` (`terraform show -json FILE`).
fn changes_planned(
    run: &dyn Fn(&[&str]) -> std::process::Output,
    file: &str,
) -> Result<Vec<Change>, (String, String)> {
    let out = format!("-out={file}");
    let plan = run(&["plan", "-input=false", "-no-color", &out]);
    if !plan.status.success() {
        return Err(first_error(&plan));
    }
    let show = run(&["show", "-json", "-no-color", file]);
    if !show.status.success() {
        return Err(first_error(&show));
    }
    let json: Value =
        serde_json::from_slice(&show.stdout).map_err(|e| (e.to_string(), String::new()))?;
    let empty = Vec::new();
    let changes = json["resource_changes"].as_array().unwrap_or(&empty);
    Ok(changes
        .iter()
        .map(|change| {
            let (before, after) = (&change["change"]["before"], &change["change"]["after"]);
            let differing: Vec<&str> = after
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(key, value)| before.get(*key).is_some_and(|was| was != *value))
                .map(|(key, _)| key.as_str())
                .collect();
            Change {
                address: change["address"].as_str().unwrap_or_default().to_string(),
                previous_address: change["previous_address"].as_str().map(str::to_string),
                actions: change["change"]["actions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|action| action.as_str().map(str::to_string))
                    .collect(),
                importing: change["change"]["importing"].is_object(),
                egress: change["type"] == "aws_vpc_security_group_egress_rule"
                    || after["type"] == "egress",
                differs: if differing.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", differing.join(", "))
                },
            }
        })
        .collect())
}
