//! The files of a tree, below every family: which directories are modules and which of
//! their files matter ([`discover`]), and where the files come from, the disk or a git
//! revision ([`source`]), and where a root module keeps its state ([`backends`]). Configuration, `generate` and the inventory all read through it.

pub mod backends;
pub mod discover;
pub mod source;

use std::path::PathBuf;

/// The configuration file a module directory (or one above it) may hold; read by
/// [`crate::config`], and carried with the `.tf` files of a git revision.
pub const CONFIG_FILE: &str = ".mutualsg.toml";

/// The process's current directory (`.` if it cannot be read, e.g. after it was deleted).
pub fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}
