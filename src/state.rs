//! The Terraform state as `terraform show -json` prints it: every managed resource instance
//! with its module, address and attribute values. Read once per run, by the commands that
//! need ids only the state holds.

use serde_json::Value;

/// One managed resource instance of the state.
#[derive(Debug, Clone, PartialEq)]
pub struct StateResource {
    /// `module.app` (nested: `module.a.module.b`), empty for the root module.
    pub module: String,
    /// The instance's address within its module: `aws_security_group_rule.web`,
    /// `aws_security_group_rule.web[0]`, `aws_security_group_rule.web["a"]`.
    pub address: String,
    pub resource_type: String,
    /// The attribute values, as the state holds them.
    pub values: Value,
}

/// The managed resources of a state.
#[derive(Debug, Default)]
pub struct State {
    pub resources: Vec<StateResource>,
}

impl State {
    /// Reads the JSON of `terraform show -json` (the state; a plan file's JSON has no
    /// `values.root_module`). The error says what is wrong, without the file's name.
    pub fn from_json(text: &str) -> Result<State, String> {
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
        let mut state = State::default();
        state.visit(root, "");
        Ok(state)
    }

    fn visit(&mut self, module: &Value, path: &str) {
        for resource in module["resources"].as_array().into_iter().flatten() {
            let (Some("managed"), Some(address), Some(resource_type)) = (
                resource["mode"].as_str(),
                resource["address"].as_str(),
                resource["type"].as_str(),
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
            self.resources.push(StateResource {
                module: path.to_string(),
                address: relative.to_string(),
                resource_type: resource_type.to_string(),
                values: resource["values"].clone(),
            });
        }
        for child in module["child_modules"].as_array().into_iter().flatten() {
            if let Some(address) = child["address"].as_str() {
                self.visit(child, address);
            }
        }
    }

    /// The root module's instance at `address` (`type.name` or `type.name[0]`).
    pub fn root_resource(&self, address: &str) -> Option<&StateResource> {
        self.resources
            .iter()
            .find(|resource| resource.module.is_empty() && resource.address == address)
    }

    /// Whether some module other than the root holds an instance at `address`.
    pub fn in_child_module(&self, address: &str) -> bool {
        self.resources
            .iter()
            .any(|resource| !resource.module.is_empty() && resource.address == address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_managed_instances_by_module() {
        let state = r#"{"format_version": "1.0", "values": {"root_module": {
            "resources": [
              {"address": "aws_security_group_rule.web[0]", "mode": "managed",
               "type": "aws_security_group_rule", "index": 0,
               "values": {"security_group_rule_id": "sgr-1"}},
              {"address": "data.aws_vpc.main", "mode": "data", "type": "aws_vpc", "values": {}}],
            "child_modules": [{"address": "module.db", "resources": [
              {"address": "module.db.aws_security_group_rule.web[0]", "mode": "managed",
               "type": "aws_security_group_rule", "values": {}}]}]}}}"#;
        let state = State::from_json(state).unwrap();
        assert_eq!(state.resources.len(), 2);
        let rule = state
            .root_resource("aws_security_group_rule.web[0]")
            .unwrap();
        assert_eq!(rule.values["security_group_rule_id"], "sgr-1");
        assert!(state.root_resource("aws_security_group_rule.web").is_none());
        assert_eq!(state.resources[1].module, "module.db");
        assert!(state.in_child_module("aws_security_group_rule.web[0]"));
        assert!(State::from_json("{}").is_err());
        assert!(State::from_json("not json").is_err());
    }
}
