//! How two versions of a tree name the same group, so that comparing them sees a refactor
//! as nothing: a group renamed with a `moved` block (new in the change or already in the
//! tree), and a peer written another way that the tree proves is the same group
//! (`var.client_vpn_sg_id` → `module.vpn.security_group_id`, both the `aws_security_group.vpn`
//! of `modules/vpn`). A name the tree cannot resolve stays its own text: two expressions are
//! the same group only when the tree shows it.

use std::collections::HashMap;

use crate::inventory::Written;
use crate::inventory::flows::{Analysis, Endpoint, group_label};
use crate::inventory::tree::{Resolved, Tree};

/// The `moved` blocks of a tree: in each module (by its name), the old address and the new.
#[derive(Debug, Default)]
pub struct Moves {
    moves: Vec<(String, String, String)>,
}

impl Moves {
    /// Every `moved { from = … to = … }` of the tree, indexes dropped (a group is one node
    /// whatever instance a move names).
    pub fn of(analyses: &[Analysis]) -> Moves {
        let mut moves = Vec::new();
        for analysis in analyses {
            for parsed in &analysis.model.files {
                for block in parsed.body.blocks_of("moved") {
                    let address = |key: &str| {
                        let reference = block.body.attribute(key)?.value.as_reference()?;
                        Some(reference.names_without_indexes().join("."))
                    };
                    if let (Some(from), Some(to)) = (address("from"), address("to"))
                        && from != to
                    {
                        moves.push((analysis.module.clone(), from, to));
                    }
                }
            }
        }
        Moves { moves }
    }

    /// `address` of `module` as the tree that holds the moves names it: each move whose
    /// `from` is the address, or a prefix of it (`module.old` moves `module.old.sg_id`),
    /// applied in turn (a chain of renames follows through).
    fn apply(&self, module: &str, address: &str) -> String {
        let mut address = address.to_string();
        for _ in 0..=self.moves.len() {
            let next = self.moves.iter().find_map(|(at, from, to)| {
                if at != module {
                    return None;
                }
                let rest = address.strip_prefix(from.as_str())?;
                (rest.is_empty() || rest.starts_with('.')).then(|| format!("{to}{rest}"))
            });
            match next {
                Some(next) if next != address => address = next,
                _ => break,
            }
        }
        address
    }
}

/// For each module of a tree, what its group expressions and labels name, as one key both
/// versions of the tree agree on: `MODULE:ADDRESS` of the declared group, or the module and
/// the expression's own text when the tree cannot tell.
pub struct Names {
    names: HashMap<String, String>,
}

impl Names {
    /// The key of a group expression (`aws_security_group.web.id`, `var.db_sg`) or of a
    /// finding's group label (`aws_security_group.web`); `None` for what is not a group.
    pub fn get(&self, text: &str) -> Option<&str> {
        self.names.get(text).map(String::as_str)
    }

    /// `endpoint` as its key: a group by what it names, an address as it is.
    pub fn endpoint(&self, endpoint: &Endpoint) -> Endpoint {
        match endpoint {
            Endpoint::Group(expr) => {
                Endpoint::Group(self.get(expr).map_or_else(|| expr.clone(), Written::opaque))
            }
            address => address.clone(),
        }
    }
}

/// The names of every module of `analyses`; with `moves` (the newer tree's), the older
/// tree's names as the newer one calls them.
pub fn names(analyses: &[Analysis], moves: Option<&Moves>) -> Vec<Names> {
    let tree = Tree::new(analyses);
    analyses
        .iter()
        .enumerate()
        .map(|(module, analysis)| {
            let mut exprs: Vec<Written> = analysis
                .model
                .groups
                .iter()
                .map(|group| Written::group_id(false, &group.name))
                .collect();
            for flow in &analysis.flows {
                for end in [&flow.source, &flow.target] {
                    if let Endpoint::Group(expr) = end {
                        exprs.push(expr.clone());
                    }
                }
            }
            let mut names = HashMap::new();
            for expr in exprs {
                if names.contains_key(&expr.text) {
                    continue;
                }
                let (at, address) = match tree.resolve(module, &expr) {
                    Resolved::Group((at, address)) => {
                        // The declared group, whatever instance (`aws_security_group.x["a"]`).
                        let base = address.split('[').next().unwrap_or_default();
                        (analyses[at].module.clone(), base.to_string())
                    }
                    Resolved::Unknown(_) => (analysis.module.clone(), group_label(&expr)),
                };
                let address = match moves {
                    Some(moves) => moves.apply(&at, &address),
                    None => address,
                };
                let key = format!("{at}:{address}");
                names.insert(group_label(&expr), key.clone());
                names.insert(expr.text, key);
            }
            Names { names }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_follow_prefixes_and_chains() {
        let moves = Moves {
            moves: vec![
                (
                    "app".into(),
                    "aws_security_group.old".into(),
                    "aws_security_group.mid".into(),
                ),
                (
                    "app".into(),
                    "aws_security_group.mid".into(),
                    "aws_security_group.new".into(),
                ),
                ("app".into(), "module.a".into(), "module.b".into()),
            ],
        };
        assert_eq!(
            moves.apply("app", "aws_security_group.old"),
            "aws_security_group.new"
        );
        assert_eq!(moves.apply("app", "module.a.sg_id"), "module.b.sg_id");
        assert_eq!(moves.apply("app", "module.ab.sg_id"), "module.ab.sg_id");
        assert_eq!(
            moves.apply("other", "aws_security_group.old"),
            "aws_security_group.old"
        );
    }
}
