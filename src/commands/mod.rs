//! The commands that read a tree's whole rule inventory: each reads [`crate::inventory`],
//! none reads files itself.

pub mod audit;
pub mod graph;
pub mod migrate;
pub mod since;
pub mod suggest;
