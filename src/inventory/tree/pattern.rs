//! A string of which only some parts are known: a literal, or a template whose
//! interpolations only a plan (or a `-var` flag) fills in, such as the remote-state key
//! `"${var.stackname}/infra-security-groups.tfstate"`. Two such strings may be equal when
//! some string fits both; whether they must be, only fully known strings say.

use crate::syntax::{Expr, ExprKind, TemplatePart};

/// One character, or a run of unknown text (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(Vec<Option<char>>);

impl Pattern {
    pub fn literal(text: &str) -> Pattern {
        Pattern(text.chars().map(Some).collect())
    }

    /// Nothing known: any string.
    pub fn any() -> Pattern {
        Pattern(vec![None])
    }

    /// What an expression's text is known to be: a string's text, a template's literal parts;
    /// anything else is wholly unknown. A variable is unknown even with a default: the
    /// environment's `-var-file` may set it.
    pub fn of(expr: &Expr) -> Pattern {
        match &expr.kind {
            ExprKind::String(text) => Pattern::literal(text),
            ExprKind::Template(parts) => {
                let mut chars = Vec::new();
                for part in parts {
                    match part {
                        TemplatePart::Literal(text) => chars.extend(text.chars().map(Some)),
                        // Adjacent unknown runs are one run.
                        _ if chars.last() == Some(&None) => {}
                        _ => chars.push(None),
                    }
                }
                Pattern(chars)
            }
            ExprKind::Parenthesis(inner) => Pattern::of(inner),
            _ => Pattern::any(),
        }
    }

    /// This pattern followed by unknown text (a `name_prefix`).
    pub fn then_any(&self) -> Pattern {
        let mut chars = self.0.clone();
        if chars.last() != Some(&None) {
            chars.push(None);
        }
        Pattern(chars)
    }

    /// The string, when all of it is known.
    pub fn known(&self) -> Option<String> {
        self.0.iter().copied().collect()
    }

    /// Whether some string fits both patterns.
    pub fn may_equal(&self, other: &Pattern) -> bool {
        let (a, b) = (&self.0, &other.0);
        // Most pairs are told apart by their known ends, compared first: the characters
        // before the first unknown run of either, and after the last.
        let head = |p: &[Option<char>]| p.iter().position(Option::is_none).unwrap_or(p.len());
        let tail = |p: &[Option<char>]| p.iter().rev().position(Option::is_none).unwrap_or(p.len());
        let (a_head, b_head, a_tail, b_tail) = (head(a), head(b), tail(a), tail(b));
        let (all_a, all_b) = (a_head == a.len(), b_head == b.len());
        if all_a && all_b {
            return a == b;
        }
        let shared_head = a_head.min(b_head);
        let shared_tail = a_tail.min(b_tail);
        if a[..shared_head] != b[..shared_head]
            || a[a.len() - shared_tail..] != b[b.len() - shared_tail..]
        {
            return false;
        }
        // fits[i][j]: some string fits both a[i..] and b[j..]. An unknown run may take any
        // character of the other side, or any run of it, or nothing.
        let mut fits = vec![vec![false; b.len() + 1]; a.len() + 1];
        for i in (0..=a.len()).rev() {
            for j in (0..=b.len()).rev() {
                fits[i][j] = match (a.get(i), b.get(j)) {
                    (None, None) => true,
                    (Some(None), _) => fits[i + 1][j] || (j < b.len() && fits[i][j + 1]),
                    (_, Some(None)) => fits[i][j + 1] || (i < a.len() && fits[i + 1][j]),
                    (Some(Some(x)), Some(Some(y))) => x == y && fits[i + 1][j + 1],
                    _ => false,
                };
            }
        }
        fits[0][0]
    }
}

impl std::fmt::Display for Pattern {
    /// Unknown runs as `*`: `*/infra-security-groups.tfstate`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for part in &self.0 {
            match part {
                Some(c) => write!(f, "{c}")?,
                None => write!(f, "*")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> Pattern {
        Pattern(
            text.chars()
                .map(|c| (c != '*').then_some(c))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn known_parts_must_fit() {
        let key = pattern("*/infra-security-groups.tfstate");
        assert!(key.may_equal(&Pattern::literal("blue/infra-security-groups.tfstate")));
        assert!(!key.may_equal(&Pattern::literal("blue/app-search.tfstate")));
        assert!(!key.may_equal(&Pattern::literal("infra-security-groups.tfstate")));
        assert!(Pattern::any().may_equal(&Pattern::literal("")));
        assert!(pattern("a*c").may_equal(&pattern("*b*")));
        assert!(!pattern("a*").may_equal(&pattern("b*")));
        assert!(pattern("*x").may_equal(&pattern("x*")));
        assert!(!Pattern::literal("ab").may_equal(&Pattern::literal("abc")));
        // Told apart by their known ends alone, or not.
        assert!(!pattern("ab").may_equal(&pattern("abc*")));
        assert!(!pattern("x*y").may_equal(&pattern("x*z")));
        assert!(pattern("x*y").may_equal(&pattern("*z*y")));
        assert!(!pattern("a*b*c").may_equal(&pattern("a*d")));
        assert_eq!(key.to_string(), "*/infra-security-groups.tfstate");
        assert_eq!(Pattern::literal("k").known().as_deref(), Some("k"));
        assert_eq!(key.known(), None);
    }
}
