//! `.mutualsg.toml`: the repository's choices, found by walking up from each module so that
//! hooks, CI and every developer get the same output.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::diagnostics::{Diagnostic, Problem, SourceFile};
use crate::workspace::source::Source;

/// The config file's name.
pub use crate::workspace::CONFIG_FILE;

/// Which resources the generated file declares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
pub enum Style {
    /// `aws_security_group_rule`, one resource type for both directions (the default).
    #[default]
    #[serde(rename = "aws_security_group_rule")]
    SecurityGroupRule,
    /// `aws_vpc_security_group_ingress_rule` and `aws_vpc_security_group_egress_rule`, the AWS
    /// provider's recommended resources: ports, protocol and description update in place,
    /// and they carry `tags`.
    #[serde(rename = "aws_vpc_security_group_rule")]
    VpcSecurityGroupRule,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub style: Style,
    /// The `.mutualsg.toml` these choices come from, as shown; `None` for the defaults, which
    /// `migrate` may replace by the style a module's rules already have.
    #[serde(skip)]
    pub decided_by: Option<PathBuf>,
}

impl Style {
    /// The value `style` takes in `.mutualsg.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Style::SecurityGroupRule => "aws_security_group_rule",
            Style::VpcSecurityGroupRule => "aws_vpc_security_group_rule",
        }
    }

    /// The style a `style` value names (in `.mutualsg.toml`, or on one connection).
    pub fn from_name(name: &str) -> Option<Style> {
        [Style::SecurityGroupRule, Style::VpcSecurityGroupRule]
            .into_iter()
            .find(|style| style.name() == name)
    }
}

/// Finds each directory's config once, however many modules share it.
#[derive(Debug)]
pub struct ConfigFinder {
    cwd: PathBuf,
    by_dir: HashMap<PathBuf, Result<Config, Diagnostic>>,
}

impl ConfigFinder {
    pub fn new(cwd: &Path) -> Self {
        ConfigFinder {
            cwd: cwd.to_path_buf(),
            by_dir: HashMap::new(),
        }
    }

    /// The config that applies to a module: the nearest `.mutualsg.toml` in its directory or
    /// above, or the defaults.
    pub fn config_for(&mut self, module_dir: &Path) -> Result<Config, Diagnostic> {
        self.config_in(module_dir, &Source::Disk)
    }

    /// [`Self::config_for`], reading the files of `source` (a tree read from git).
    pub fn config_in(&mut self, module_dir: &Path, source: &Source) -> Result<Config, Diagnostic> {
        let absolute = self.cwd.join(module_dir);
        let mut missed = Vec::new();
        let mut found = Ok(Config::default());
        for dir in absolute.ancestors() {
            if let Some(known) = self.by_dir.get(dir) {
                found = known.clone();
                break;
            }
            missed.push(dir.to_path_buf());
            let path = dir.join(CONFIG_FILE);
            let shown = crate::paths::display_path(&path, &self.cwd);
            if source.is_file(&shown) {
                found = read_config(&shown, source);
                break;
            }
        }
        for dir in missed {
            self.by_dir.insert(dir, found.clone());
        }
        found
    }
}

fn read_config(path: &Path, source: &Source) -> Result<Config, Diagnostic> {
    let text = source
        .read(path)
        .and_then(|bytes| String::from_utf8(bytes).map_err(io::Error::other))
        .map_err(|error| Diagnostic::file(Problem::ReadFailed(error.to_string()), path))?;
    let config: Config = toml::from_str(&text).map_err(|error| {
        let span = error.span().unwrap_or(0..0);
        let file = Arc::new(SourceFile::new(path, text));
        Diagnostic::at(Problem::BadConfig(error.message().to_string()), &file, span)
    })?;
    Ok(Config {
        decided_by: Some(path.to_path_buf()),
        ..config
    })
}
