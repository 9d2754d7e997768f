//! What a `mutual_rules` connection may say: its keys and the two directions of a rule.
//! Below every family, so that diagnostics can name them without importing a stage.

use std::fmt;

/// Every key a connection may have: the keys of the `skwashd/mutual-security-groups/aws`
/// module's v1 list and v2 map, plus `name`, the meta-arguments (`provider` or a provider
/// per half, `enabled` for `count`, `for_each`, `depends_on`) and the rule resources' other
/// arguments (`tags`, `timeouts`, `region`, and `self = false` for a rule that names its own
/// group by id), so that a hand-written rule can be migrated without losing any of them;
/// and `style`, the resource family of this connection's rules where it is not the module's
/// (a module holding both families keeps each rule's type).
pub const KNOWN_KEYS: &[&str] = &[
    "source_sg_id",
    "target_sg_id",
    "source_cidr_blocks",
    "source_ipv6_cidr_blocks",
    "source_prefix_list_ids",
    "target_cidr_blocks",
    "target_ipv6_cidr_blocks",
    "target_prefix_list_ids",
    "destination_port",
    "from_port",
    "to_port",
    "protocol",
    "description",
    "description_source",
    "description_target",
    "name",
    "tags",
    "provider",
    "source_provider",
    "target_provider",
    "for_each",
    "enabled",
    "depends_on",
    "timeouts",
    "region",
    "self",
    "style",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Egress,
    Ingress,
}

impl Direction {
    /// The other direction: the half a rule in this one needs across.
    pub fn opposite(self) -> Direction {
        match self {
            Direction::Egress => Direction::Ingress,
            Direction::Ingress => Direction::Egress,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Egress => "egress",
            Direction::Ingress => "ingress",
        })
    }
}
