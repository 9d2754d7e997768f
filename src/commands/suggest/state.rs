//! Security groups by their Terraform address, from `terraform show -json` (the state):
//! `sg-0abc` is `aws_security_group.web` of module `module.app`.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAddress {
    /// `module.app` (nested: `module.a.module.b`), empty for the root module.
    pub module: String,
    /// The resource's address within its module: `aws_security_group.web`,
    /// `aws_security_group.web[0]`, `aws_security_group.web["a"]`.
    pub resource: String,
}

impl GroupAddress {
    /// The full address: `module.app.aws_security_group.web`.
    pub fn full(&self) -> String {
        if self.module.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.module, self.resource)
        }
    }
}

/// Group id → address.
#[derive(Debug, Default)]
pub struct StateNames {
    pub groups: BTreeMap<String, GroupAddress>,
}

impl StateNames {
    pub fn from_json(text: &str) -> Result<StateNames, String> {
        let document: Value = serde_json::from_str(text).map_err(|error| {
            format!(
                "not JSON: {error} (line {}, column {})",
                error.line(),
                error.column()
            )
        })?;
        let root = document
            .pointer("/values/root_module")
            .ok_or("not the output of `terraform show -json`: no values.root_module")?;
        let mut names = StateNames::default();
        names.visit(root, "");
        Ok(names)
    }

    fn visit(&mut self, module: &Value, path: &str) {
        for resource in module["resources"].as_array().into_iter().flatten() {
            if resource["mode"] != "managed" || resource["type"] != "aws_security_group" {
                continue;
            }
            let (Some(address), Some(id)) = (
                resource["address"].as_str(),
                resource.pointer("/values/id").and_then(Value::as_str),
            ) else {
                continue;
            };
            let relative = if path.is_empty() {
                address
            } else {
                address
                    .strip_prefix(path)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .unwrap_or(address)
            };
            self.groups.insert(
                id.to_string(),
                GroupAddress {
                    module: path.to_string(),
                    resource: relative.to_string(),
                },
            );
        }
        for child in module["child_modules"].as_array().into_iter().flatten() {
            if let Some(address) = child["address"].as_str() {
                self.visit(child, address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_groups_by_module() {
        let state = r#"{"format_version": "1.0", "values": {"root_module": {
            "resources": [{"address": "aws_security_group.web", "mode": "managed",
              "type": "aws_security_group", "name": "web", "values": {"id": "sg-1"}}],
            "child_modules": [{"address": "module.db", "resources": [
              {"address": "module.db.aws_security_group.this[0]", "mode": "managed",
               "type": "aws_security_group", "values": {"id": "sg-2"}}]}]}}}"#;
        let names = StateNames::from_json(state).unwrap();
        assert_eq!(names.groups["sg-1"].full(), "aws_security_group.web");
        assert_eq!(names.groups["sg-2"].module, "module.db");
        assert_eq!(names.groups["sg-2"].resource, "aws_security_group.this[0]");
        assert!(StateNames::from_json("{}").is_err());
    }
}
