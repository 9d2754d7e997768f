//! One `moved`, `import` or `removed` block of `mutual_rules.migrate.tf`: what the migration
//! file is made of, apart from how it is assembled, so that the stages writing blocks
//! (`vpc_imports`, `migration_file`) share it without importing each other.

/// A block of the migration file, and the Terraform version it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationBlock {
    Moved { from: String, to: String },
    Import { to: String, id: String },
    Removed { from: String },
}

impl MigrationBlock {
    pub fn render(&self) -> String {
        match self {
            MigrationBlock::Moved { from, to } => {
                format!("moved {{\n  from = {from}\n  to   = {to}\n}}\n")
            }
            MigrationBlock::Import { to, id } => {
                // An id built from a multi-line expression (an address list over several
                // lines) is laid out as `terraform fmt` lays it out.
                let id = super::hclfmt::format_value_for_key("id", id, 2);
                format!("import {{\n  to = {to}\n  id = {id}\n}}\n")
            }
            MigrationBlock::Removed { from } => format!(
                "removed {{\n  from = {from}\n\n  lifecycle {{\n    destroy = false\n  }}\n}}\n"
            ),
        }
    }

    /// `moved` needs Terraform 1.1, `import` 1.5, `removed` 1.7.
    pub fn needs(&self) -> (u32, &'static str) {
        match self {
            MigrationBlock::Moved { .. } => (1, "moved"),
            MigrationBlock::Import { .. } => (5, "import"),
            MigrationBlock::Removed { .. } => (7, "removed"),
        }
    }
}
