//! Properties that need no oracle: never panic, and formatting is a fixed point.

use mutualsg::generate::hclfmt::{format_value, format_value_for_key};
use proptest::prelude::*;

/// Strings built from HCL's building blocks, so that the lexer's deeper states get exercised
/// far more often than with uniformly random text.
fn hclish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a", "var.x", "1", "1.5e3", " ", "  ", "\n", "\r\n", "\t", "\"", "${", "%{", "}", "~}",
        "{", "[", "]", "(", ")", ",", ".", "*", "-", "+", "!", "?", ":", "=", "==", "=>", "...",
        "::", "#c\n", "//c\n", "/*c*/", "<<EOT\n", "<<-EOT\n", "EOT", "  EOT", "$", "%", "\\",
        "\\\"", "ü", "ключ", "👍🏽", "for", "in", "if", "&", "\r", "/*", "*/",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

/// 4,000 cases a run, or proptest's own `PROPTEST_CASES` when set: CI asks for many more.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(4000);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn never_panics_on_arbitrary_text(s in ".{0,80}", indent in 0usize..12) {
        let _ = format_value(&s, indent);
        let _ = format_value_for_key("ключ", &s, indent);
    }

    #[test]
    fn never_panics_and_is_idempotent_on_hclish_text(s in hclish(), indent in 0usize..8) {
        let once = format_value(&s, indent);
        prop_assert!(!once.contains("\r\n"));
        let twice = format_value(&once, indent);
        // A `"${x # comment\n}"` unwraps to `x # comment` plus a line break, which is not
        // itself an expression slice; everything else must be stable.
        if !once.ends_with('\n') {
            prop_assert_eq!(&twice, &once, "input {:?}", s);
        }
    }
}

/// Operator characters that spacing can glue into a longer token (`!` `=` `>` into `!=` `>`)
/// or split; drawn densely, so the property meets every pair.
fn operator_soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "!", "=", "==", "=>", "!=", "<", ">", "<=", ">=", ":", "::", ".", "...", "/", "*", "-",
        "+", "%", "?", "1", "a", "&&", "||", " ", "(", ")", "[", "]",
    ]);
    prop::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn is_idempotent_on_operator_soup(s in operator_soup(), indent in 0usize..4) {
        let once = format_value(&s, indent);
        prop_assert_eq!(format_value(&once, indent), once.clone(), "input {:?}", s);
    }
}

/// Inputs the properties have failed on: one format pass must give a fixed point.
#[test]
fn formatting_is_a_fixed_point_where_the_properties_failed() {
    for input in [
        "! =>",
        "! ==",
        "! =",
        "= =>",
        "= ==",
        "< =>",
        "> ==",
        ": ::",
        ". ...",
        ". . .",
        "1 . 5",
        "a . 0 . 1",
        "/ /",
        "/ *",
        "= >",
        "< =",
        "! = =",
    ] {
        let once = format_value(input, 0);
        assert_eq!(format_value(&once, 0), once, "input {input:?}");
    }
}
