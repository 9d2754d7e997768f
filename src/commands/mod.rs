//! The commands that read a tree's whole rule inventory: `graph`, `audit`, `migrate` and
//! `suggest`. Each reads the tree's rules through [`crate::inventory`]; the files a command
//! handles besides (`audit`'s baseline, `suggest`'s flow logs and draft, the files `migrate`
//! writes) are its own.

pub mod audit;
pub mod graph;
pub mod migrate;
pub mod suggest;
