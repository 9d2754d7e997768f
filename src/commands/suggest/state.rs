//! Security groups by their Terraform address, from `terraform show -json` (the state):
//! `sg-0abc` is `aws_security_group.web` of module `module.app`, read through the one state
//! reader, [`State`].

use std::collections::BTreeMap;

use crate::state::State;

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
    /// Every managed `aws_security_group` of the state, by its id.
    pub fn from_json(text: &str) -> Result<StateNames, String> {
        let mut names = StateNames::default();
        for resource in State::from_json(text)?.resources {
            if resource.resource_type != "aws_security_group" {
                continue;
            }
            if let Some(id) = resource.values["id"].as_str() {
                let address = GroupAddress {
                    module: resource.module,
                    resource: resource.address,
                };
                names.groups.insert(id.to_string(), address);
            }
        }
        Ok(names)
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
