//! `format_value` against real `terraform fmt` on randomly generated expressions: valid HCL
//! with random spacing, line breaks wherever HCL allows them, random indentation, comments
//! and heredocs. Deterministic for a given seed (`HCLFMT_SEED`, default fixed); the number
//! of expressions is `HCLFMT_CASES` (default 400).

use super::common;

/// Small deterministic PRNG (xorshift64*), so the test needs no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Builds one random expression. `nl` says whether line breaks are allowed between tokens at
/// this point (inside `()`, `[]` and `${}` they are, inside `{}` only between items, at the
/// top level of an attribute not at all).
struct Gen {
    rng: Rng,
}

impl Gen {
    /// Whitespace between two tokens that would not merge: possibly nothing.
    fn gap(&mut self, nl: bool) -> String {
        self.gap_inner(nl, true)
    }

    /// Whitespace between two tokens that would merge without it.
    fn gap_req(&mut self, nl: bool) -> String {
        self.gap_inner(nl, false)
    }

    fn gap_inner(&mut self, nl: bool, may_be_empty: bool) -> String {
        if nl && self.rng.chance(12) {
            let mut s = String::new();
            if self.rng.chance(25) {
                s.push_str(
                    self.rng
                        .pick(&[" # note\n", "// other note\n", " /* c */\n"]),
                );
            } else {
                s.push('\n');
            }
            s.push_str(&" ".repeat(self.rng.below(12)));
            return s;
        }
        match self.rng.below(10) {
            0..=3 if may_be_empty => String::new(),
            0..=6 => " ".to_string(),
            7 => "  ".to_string(),
            8 => "\t".to_string(),
            _ => "   ".to_string(),
        }
    }

    fn indent(&mut self) -> String {
        " ".repeat(self.rng.below(14))
    }

    fn expr(&mut self, depth: usize, nl: bool) -> String {
        if depth == 0 {
            return self.atom(nl);
        }
        let kind = self.rng.below(17);
        if (6..=15).contains(&kind) {
            return self.bracketed(kind, depth);
        }
        self.simple(kind, depth, nl)
    }

    fn simple(&mut self, kind: usize, depth: usize, nl: bool) -> String {
        if depth == 0 {
            return self.atom(nl);
        }
        match kind {
            0..=2 => self.atom(nl),
            3 => {
                let op = self.rng.pick(&[
                    "+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||",
                ]);
                let a = self.operand(depth - 1, nl);
                let b = self.operand(depth - 1, nl);
                format!("{a}{}{op}{}{b}", self.gap_req(nl), self.gap_req(nl))
            }
            4 => {
                let op = self.rng.pick(&["-", "!"]);
                let a = self.operand(depth - 1, nl);
                format!("{op}{}{a}", self.gap(nl))
            }
            5 => {
                let c = self.operand(depth - 1, nl);
                let a = self.operand(depth - 1, nl);
                let b = self.operand(depth - 1, nl);
                format!(
                    "{c}{}?{}{a}{}:{}{b}",
                    self.gap_req(nl),
                    self.gap(nl),
                    self.gap_req(nl),
                    self.gap(nl)
                )
            }
            _ => self.atom(nl),
        }
    }

    fn bracketed(&mut self, kind: usize, depth: usize) -> String {
        match kind {
            6 => {
                let inner = self.expr(depth - 1, true);
                format!("({}{inner}{})", self.gap(true), self.gap(true))
            }
            7 | 8 => self.call(depth),
            9 | 10 => self.list(depth),
            11 | 12 => self.object(depth),
            13 => self.for_expr(depth),
            14 => self.template(depth),
            15 => {
                let base = self
                    .rng
                    .pick(&["f(x)", "(var.l)", "[1, 2]", "var.m", "local.x"]);
                let mut idx = self.expr(depth - 1, true);
                if ["true", "false", "null"].contains(&idx.as_str()) {
                    // terraform fmt deletes these keywords from index brackets (`x[null]`
                    // becomes `x[]`), a terraform bug not worth reproducing.
                    idx = format!("({idx})");
                }
                format!("{base}[{}{idx}{}]", self.gap(true), self.gap(true))
            }
            _ => self.template(depth),
        }
    }

    /// An operand of an operator: simple enough that precedence does not matter for validity.
    fn operand(&mut self, depth: usize, nl: bool) -> String {
        if self.rng.chance(70) {
            self.atom(nl)
        } else {
            let inner = self.expr(depth, true);
            format!("({inner})")
        }
    }

    fn atom(&mut self, nl: bool) -> String {
        let _ = nl;
        match self.rng.below(12) {
            0 => self
                .rng
                .pick(&["1", "42", "1.5", "0", "1e3", "2.5e-2"])
                .to_string(),
            1 => self.rng.pick(&["true", "false", "null"]).to_string(),
            2 => self
                .rng
                .pick(&[
                    "\"plain\"",
                    "\"\"",
                    "\"with \\\"escapes\\\"\\n\"",
                    "\"ünï ✓\"",
                ])
                .to_string(),
            3 => self
                .rng
                .pick(&[
                    "var.x",
                    "local.a.b",
                    "each.key",
                    "count.index",
                    "var.données",
                ])
                .to_string(),
            4 => format!("var.l[{}0{}]", self.gap(false), self.gap(false)),
            5 => format!("var.m[{}\"k\"{}]", self.gap(false), self.gap(false)),
            6 => self
                .rng
                .pick(&[
                    "var.l[*].id",
                    "var.l.*.id",
                    "var.l[*]",
                    "aws_instance.x[ * ].id",
                ])
                .to_string(),
            7 => self
                .rng
                .pick(&["a-b", "var.x-y", "module.m.out"])
                .to_string(),
            8 => format!("var.o{}.{}attr", self.gap(false), self.gap(false)),
            _ => self
                .rng
                .pick(&["var.a", "var.b", "local.c", "data.d.e.id"])
                .to_string(),
        }
    }

    fn heredoc(&mut self) -> String {
        let dash = if self.rng.chance(50) { "-" } else { "" };
        let body_indent = self.indent();
        let body = self.rng.pick(&[
            "hello",
            "x = ${ var.x }",
            "%{ if var.a }yes%{ endif }",
            "cost $5",
            "{\"a\": 1}",
        ]);
        let end_indent = if dash.is_empty() {
            String::new()
        } else {
            self.indent()
        };
        format!("<<{dash}EOT\n{body_indent}{body}\n{body_indent}  more\n{end_indent}EOT\n")
    }

    fn call(&mut self, depth: usize) -> String {
        let name = self.rng.pick(&[
            "f",
            "max",
            "merge",
            "concat",
            "lookup",
            "provider::p::fn",
            "jsonencode",
        ]);
        let n = self.rng.below(4);
        let mut s = format!("{name}(");
        for i in 0..n {
            s.push_str(&self.gap(true));
            s.push_str(&self.expr(depth - 1, true));
            s.push_str(&self.gap(true));
            if i + 1 < n {
                s.push(',');
            } else if self.rng.chance(15) {
                s.push_str("...");
            }
        }
        s.push_str(&self.gap(true));
        s.push(')');
        s
    }

    fn list(&mut self, depth: usize) -> String {
        let n = self.rng.below(4);
        let mut s = String::from("[");
        for i in 0..n {
            s.push_str(&self.gap(true));
            if self.rng.chance(8) {
                s.push_str(&self.heredoc());
                s.push_str(&self.indent());
            } else {
                s.push_str(&self.expr(depth - 1, true));
            }
            s.push_str(&self.gap(true));
            if i + 1 < n || self.rng.chance(40) {
                s.push(',');
            }
        }
        s.push_str(&self.gap(true));
        s.push(']');
        s
    }

    fn key(&mut self, depth: usize) -> String {
        match self.rng.below(6) {
            0 => "\"quoted key\"".to_string(),
            1 => {
                let inner = self.expr(depth.saturating_sub(1), true);
                format!("({inner})")
            }
            2 => "ключ".to_string(),
            _ => self
                .rng
                .pick(&["a", "bb", "name", "longer_name", "x"])
                .to_string(),
        }
    }

    fn object(&mut self, depth: usize) -> String {
        let n = self.rng.below(5);
        let multi = self.rng.chance(60);
        let mut s = String::from("{");
        if multi {
            let base = self.indent();
            s.push('\n');
            for _ in 0..n {
                if self.rng.chance(10) {
                    s.push_str(&format!("{base}# a comment line\n"));
                }
                if self.rng.chance(10) {
                    s.push('\n');
                }
                let key = self.key(depth);
                let eq = if self.rng.chance(10) { ":" } else { "=" };
                s.push_str(&base);
                s.push_str(&key);
                s.push_str(&self.gap(false));
                s.push_str(eq);
                s.push_str(&self.gap(false));
                if self.rng.chance(8) {
                    // heredoc value: ends the item with its own line break
                    s.push_str(&self.heredoc());
                    continue;
                }
                s.push_str(&self.expr(depth - 1, false));
                if self.rng.chance(15) {
                    s.push(',');
                }
                if self.rng.chance(20) {
                    s.push_str(
                        self.rng
                            .pick(&[" # trailing", "  // trailing comment", " #ü"]),
                    );
                }
                s.push('\n');
            }
            s.push_str(&self.indent());
        } else {
            for i in 0..n {
                s.push_str(&self.gap(false));
                let key = self.key(depth);
                s.push_str(&key);
                s.push_str(&self.gap(false));
                s.push('=');
                s.push_str(&self.gap(false));
                s.push_str(&self.expr(depth - 1, false));
                s.push_str(&self.gap(false));
                if i + 1 < n {
                    s.push(',');
                }
            }
            s.push_str(&self.gap(false));
        }
        s.push('}');
        s
    }

    fn for_expr(&mut self, depth: usize) -> String {
        let coll = self.operand(depth - 1, true);
        if self.rng.chance(50) {
            let body = self.expr(depth - 1, true);
            let cond = if self.rng.chance(30) {
                format!(
                    "{}if{}{}",
                    self.gap_req(true),
                    self.gap_req(true),
                    self.operand(depth - 1, true)
                )
            } else {
                String::new()
            };
            format!(
                "[{}for{}x{}in{}{coll}{}:{}{body}{cond}{}]",
                self.gap(true),
                self.gap_req(true),
                self.gap_req(true),
                self.gap_req(true),
                self.gap(true),
                self.gap(true),
                self.gap(true)
            )
        } else {
            let val = self.operand(depth - 1, false);
            let group = if self.rng.chance(20) { "..." } else { "" };
            format!(
                "{{{}for{}k,{}v{}in{}{coll}{}:{}k{}=>{}{val}{group}{}}}",
                self.gap(false),
                self.gap_req(false),
                self.gap(false),
                self.gap_req(false),
                self.gap_req(false),
                self.gap(false),
                self.gap(false),
                self.gap(false),
                self.gap(false),
                self.gap(false)
            )
        }
    }

    fn template(&mut self, depth: usize) -> String {
        let mut s = String::from("\"");
        let parts = 1 + self.rng.below(3);
        for _ in 0..parts {
            match self.rng.below(5) {
                0 => s.push_str(
                    self.rng
                        .pick(&["text", "-", " spaced ", "$${esc}", "100%", "ü"]),
                ),
                1 => s.push_str(&format!(
                    "%{{{}if{}var.a{}}}yes%{{{}endif{}}}",
                    self.gap(false),
                    self.gap_req(false),
                    self.gap(false),
                    self.gap(false),
                    self.gap(false)
                )),
                _ => {
                    let tilde = if self.rng.chance(15) { "~" } else { "" };
                    let lead = self.gap(true);
                    let inner = self.expr(depth - 1, true);
                    let tail = self.gap(true);
                    s.push_str(&format!("${{{tilde}{lead}{inner}{tail}{tilde}}}"));
                }
            }
        }
        s.push('"');
        s
    }

    fn top(&mut self) -> String {
        if self.rng.chance(4) {
            let h = self.heredoc();
            return h.trim_end_matches('\n').to_string();
        }
        let depth = 1 + self.rng.below(4);
        let e = self.expr(depth, false);
        if self.rng.chance(5) {
            e.replace('\n', "\r\n")
        } else {
            e
        }
    }
}

#[test]
fn generated_expressions_match_terraform_fmt() {
    let Some(bin) = common::terraform() else {
        return;
    };
    let seed: u64 = std::env::var("HCLFMT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let cases: usize = std::env::var("HCLFMT_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let mut generator = Gen {
        rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
    };
    let exprs: Vec<String> = (0..cases).map(|_| generator.top()).collect();

    if let Ok(path) = std::env::var("HCLFMT_DUMP") {
        let dump: Vec<String> = exprs.iter().map(|e| format!("{e:?}")).collect();
        std::fs::write(path, dump.join("\n")).expect("dump");
    }

    // Drop anything the generator got wrong (terraform refuses to parse it), found by
    // bisection so that a few bad expressions cost a few dozen terraform runs.
    let fmt_ok = |batch: &[String]| {
        common::try_terraform_fmt(&bin, &common::build_file(batch, common::Place::Resource)).is_ok()
    };
    let (exprs, invalid) = partition(exprs, &fmt_ok);
    if !invalid.is_empty() {
        eprintln!(
            "generator produced {} invalid expressions (dropped)",
            invalid.len()
        );
    }

    // Set aside those where terraform fmt turns a valid file into an invalid one (its unwrap
    // of `"${(a) ?\n b : (c)}"` and the like, or `x[null]` becoming `x[]`): there we only
    // require that terraform accepts our output and leaves it alone.
    let stays_valid = |batch: &[String]| {
        common::try_terraform_fmt(&bin, &common::build_file(batch, common::Place::Resource))
            .and_then(|once| common::try_terraform_fmt(&bin, &once))
            .is_ok()
    };
    let (exprs, broken_by_terraform) = partition(exprs, &stays_valid);
    if !broken_by_terraform.is_empty() {
        eprintln!(
            "{} expressions that terraform fmt itself breaks:",
            broken_by_terraform.len()
        );
        let ours: Vec<String> = broken_by_terraform
            .iter()
            .map(|e| mutualsg::generate::hclfmt::format_value(e, 2))
            .collect();
        for (e, o) in broken_by_terraform.iter().zip(&ours) {
            eprintln!("  {e:?}\n    -> {o:?}");
        }
        let file = common::build_file(&ours, common::Place::Resource);
        assert_eq!(
            common::terraform_fmt(&bin, &file),
            file,
            "terraform changes our output"
        );
    }

    let (passed, failures) = common::check_all(&bin, &exprs);
    eprintln!(
        "seed {seed}: {} generated expressions, {} passed all checks",
        exprs.len(),
        passed
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Splits `exprs` into those for which `ok` holds and the rest, testing whole batches and
/// halving the ones that fail, so that a few bad expressions cost a few dozen checks.
fn partition(exprs: Vec<String>, ok: &dyn Fn(&[String]) -> bool) -> (Vec<String>, Vec<String>) {
    if exprs.is_empty() || ok(&exprs) {
        return (exprs, Vec::new());
    }
    if exprs.len() == 1 {
        return (Vec::new(), exprs);
    }
    let mut first = exprs;
    let second = first.split_off(first.len() / 2);
    let (mut good, mut bad) = partition(first, ok);
    let (good2, bad2) = partition(second, ok);
    good.extend(good2);
    bad.extend(bad2);
    (good, bad)
}
