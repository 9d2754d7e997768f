//! Running real `terraform fmt` as the oracle, many expressions per invocation.

use std::io::Write;
use std::process::{Command, Stdio};

/// The terraform binary for `terraform fmt`: `MUTUALSG_TERRAFORM`, else the first on `PATH`.
/// Without one the test is skipped with a message, unless `MUTUALSG_REQUIRE_TERRAFORM=1` (as in
/// CI); decided in `tests/common/terraform_setup.rs`.
pub fn terraform() -> Option<String> {
    let test = std::thread::current()
        .name()
        .unwrap_or("terraform fmt")
        .to_string();
    crate::common_tests::terraform_for_fmt(&test).map(|path| path.display().to_string())
}

/// `terraform fmt -` on `src`; panics with terraform's diagnostics if it refuses.
pub fn terraform_fmt(bin: &str, src: &str) -> String {
    match try_terraform_fmt(bin, src) {
        Ok(out) => out,
        Err(err) => panic!("terraform fmt failed:\n{err}\n--- input ---\n{src}"),
    }
}

/// `terraform fmt -` on `src`, or its diagnostics.
pub fn try_terraform_fmt(bin: &str, src: &str) -> Result<String, String> {
    let mut child = Command::new(bin)
        .args(["fmt", "-no-color", "-"])
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start terraform");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(src.as_bytes())
        .expect("write to terraform");
    let out = child.wait_with_output().expect("terraform output");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// Where an expression is placed in the oracle files.
#[derive(Clone, Copy)]
pub enum Place {
    /// `resource "a" "bN" {\n  k = VALUE\n}` (indent 2).
    Resource,
    /// `resource "a" "bN" {\n  nested {\n    k = VALUE\n  }\n}` (indent 4).
    Nested,
}

impl Place {
    pub fn indent(self) -> usize {
        match self {
            Place::Resource => 2,
            Place::Nested => 4,
        }
    }
    fn prefix(self, i: usize) -> String {
        match self {
            Place::Resource => format!("resource \"a\" \"b{i}\" {{\n  k = "),
            Place::Nested => format!("resource \"a\" \"b{i}\" {{\n  nested {{\n    k = "),
        }
    }
    fn suffix(self) -> &'static str {
        match self {
            Place::Resource => "\n}\n",
            Place::Nested => "\n  }\n}\n",
        }
    }
}

/// One file holding every value at `place`, blocks separated by blank lines so that no
/// alignment run spans two of them.
pub fn build_file(values: &[String], place: Place) -> String {
    let mut file = String::new();
    for (i, v) in values.iter().enumerate() {
        file.push_str(&place.prefix(i));
        file.push_str(v);
        file.push_str(place.suffix());
        file.push('\n');
    }
    file
}

/// Inverse of [`build_file`] on terraform's output: the value text of each block, or `None`
/// for a block whose surroundings terraform changed (so the value cannot be isolated).
pub fn split_file(file: &str, n: usize, place: Place) -> Vec<Option<String>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let prefix = place.prefix(i);
        let next = place.prefix(i + 1);
        let Some(start) = file.find(&prefix) else {
            out.push(None);
            continue;
        };
        let body_start = start + prefix.len();
        let end = if i + 1 < n {
            file[body_start..].find(&next).map(|e| body_start + e)
        } else {
            Some(file.len())
        };
        let Some(end) = end else {
            out.push(None);
            continue;
        };
        let block = &file[body_start..end];
        let block = block.strip_suffix('\n').unwrap_or(block);
        out.push(strip_closing_lines(
            block,
            place.suffix().matches('}').count(),
        ));
    }
    out
}

/// Runs the main oracle checks on `originals`, returning a list of human-readable failures.
///
/// For each place (indent 2 and 4):
/// 1. `format_value(orig)` equals what terraform fmt (run to its fixed point) makes of the
///    original at that spot;
/// 2. terraform fmt leaves a file made of `format_value` outputs byte-identical;
/// 3. `format_value` of terraform's own output (already formatted) returns it unchanged, and
///    re-indenting the indent-2 form to indent 4 gives terraform's indent-4 form.
pub fn check_all(bin: &str, originals: &[String]) -> (usize, Vec<String>) {
    use mutualsg::generate::hclfmt::format_value;
    let n = originals.len();
    let mut failures = Vec::new();
    let mut failed = vec![false; n];
    let mut expected_by_place = Vec::new();

    for place in [Place::Resource, Place::Nested] {
        let indent = place.indent();
        // Run terraform twice: one run can leave work for the next (it unwraps nested
        // `"${"${x}"}"` one level at a time), and what we want is its fixed point.
        let once = terraform_fmt(bin, &build_file(originals, place));
        let tf_out = terraform_fmt(bin, &once).replace("\r\n", "\n");
        let expected = split_file(&tf_out, n, place);
        let ours: Vec<String> = originals.iter().map(|o| format_value(o, indent)).collect();
        for i in 0..n {
            match &expected[i] {
                Some(e) if *e == ours[i] => {}
                Some(e) => {
                    failed[i] = true;
                    failures.push(format!(
                        "[{i}] indent {indent}: differs from terraform fmt\n  original: {:?}\n  terraform: {:?}\n  ours:      {:?}",
                        originals[i], e, ours[i]
                    ));
                }
                None => {
                    failed[i] = true;
                    failures.push(format!(
                        "[{i}] indent {indent}: could not isolate terraform's output for {:?}",
                        originals[i]
                    ));
                }
            }
        }

        // Idempotence: terraform must not touch what we generate.
        let ours_file = build_file(&ours, place);
        let tf_again = terraform_fmt(bin, &ours_file);
        if tf_again != ours_file {
            let again = split_file(&tf_again, n, place);
            for i in 0..n {
                if again[i].as_deref() != Some(ours[i].as_str()) {
                    failed[i] = true;
                    failures.push(format!(
                        "[{i}] indent {indent}: terraform fmt changes our output\n  ours:      {:?}\n  terraform: {:?}",
                        ours[i], again[i]
                    ));
                }
            }
        }
        expected_by_place.push(expected);
    }

    // Already formatted input: unchanged at the same indent, re-indented at another.
    for i in 0..n {
        let (Some(e2), Some(e4)) = (&expected_by_place[0][i], &expected_by_place[1][i]) else {
            continue;
        };
        if e2.ends_with('\n') {
            // `"${x # c\n}"` unwraps to `x # c` plus a line break: not an expression slice.
            continue;
        }
        for (input, indent, want) in [(e2, 2, e2), (e4, 4, e4), (e2, 4, e4), (e4, 2, e2)] {
            let got = format_value(input, indent);
            if got != *want {
                failed[i] = true;
                failures.push(format!(
                    "[{i}] formatted input at indent {indent}\n  input: {input:?}\n  want:  {want:?}\n  got:   {got:?}"
                ));
            }
        }
    }
    let passed = failed.iter().filter(|f| !**f).count();
    (passed, failures)
}

/// Removes the block's closing `}` lines (terraform may have re-indented them: a heredoc
/// whose interpolation spans lines can throw off its indentation of everything after it).
fn strip_closing_lines(block: &str, count: usize) -> Option<String> {
    let mut rest = block.strip_suffix('\n')?;
    for _ in 0..count {
        let (before, last) = rest.rsplit_once('\n')?;
        if last.trim() != "}" {
            return None;
        }
        rest = before;
    }
    Some(rest.to_string())
}
