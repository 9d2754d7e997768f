//! The expression formatter (`mutualsg::generate::hclfmt`) against real `terraform fmt`: a hand-written
//! corpus, seeded generated expressions, and properties on arbitrary text.

mod common;
#[path = "../common/mod.rs"]
mod common_tests;
mod generated;
mod robustness;
mod terraform_oracle;
