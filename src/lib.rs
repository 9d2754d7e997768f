//! mutualsg: expands `locals { mutual_rules = [...] }` into the egress and ingress
//! `aws_security_group_rule` pairs each connection needs, in `mutual_rules.gen.tf`.
//!
//! Three families, each below the next: [`syntax`] owns the HCL parser and its typed tree;
//! [`generate`] is the pipeline (parse → validate → name → render → write, check or diff);
//! [`inventory`] is every rule of a tree, with the audit checks' catalogue
//! ([`inventory::checks`]) and the comparison of two trees ([`inventory::compare`]).
//! [`workspace`] (which files, from the disk or a git revision), [`diagnostics`],
//! [`config`] and [`eval`] serve them. On top, the [`commands`] (`generate`, `check`,
//! `diff`, `migrate`, `graph`, `audit`, `suggest`), each `run(&Args, &Context) ->
//! ExitStatus`, with their arguments in [`cli`] and their output formats in [`report`].
//! This file only declares the modules (`docs/architecture.md` draws how they import).

pub mod cli;
pub mod commands;
pub mod comment;
pub mod config;
pub mod diagnostics;
pub mod eval;
pub mod generate;
pub mod inventory;
pub mod paths;
pub mod report;
pub mod sarif;
pub mod schema;
pub mod state;
pub mod syntax;
pub mod workspace;
