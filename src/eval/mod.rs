//! Reads a module as Terraform evaluates it, between the syntax tree and the inventory:
//! [`Value`]s (with [`Value::Unknown`] for what only a plan knows), one expression in a
//! [`Scope`] ([`eval`]), Terraform's functions, and a module's variables, locals and the
//! instances of its `count`/`for_each` blocks ([`EvaluatedModule`]). It imports only the syntax layer.

mod expr;
mod files;
mod functions;
mod locals;
mod module;
mod types;
mod value;
mod yaml;

pub use expr::{EvalError, Evaluated, Scope, eval, eval_or_unknown};
pub use files::{Disk, Files, ReadFiles};
pub use module::{
    EvaluatedModule, Instance, InstanceKey, Instances, ModuleFile, dynamic_iterations, root_inputs,
    tfvars,
};
pub use value::{Value, format_number};
