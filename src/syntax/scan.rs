//! Questions asked of a file's bytes before parsing it, to leave unparsed the files that
//! cannot hold what a reader wants.

/// Whether `text` may hold a block of type `kind`: a line that starts, after spaces and
/// tabs, with `kind` and then a label or `{` (`variable "x" {`, `locals {`, `backend s3 {`).
/// Terraform puts a block's type first on its line, so a file that parses and holds such a
/// block passes (unless a `/* */` comment opens that line); one that only mentions the word
/// (`cloudwatch`, `# the backend`, `backend = "s3"`, `var.x`) does not.
pub fn may_hold_block(text: &[u8], kind: &str) -> bool {
    let blank = |byte: &u8| *byte == b' ' || *byte == b'\t';
    memchr::memmem::find_iter(text, kind.as_bytes()).any(|at| {
        let starts_line = text[..at]
            .iter()
            .rev()
            .take_while(|&&byte| byte != b'\n')
            .all(blank);
        let end = at + kind.len();
        let opens = |byte: &u8| *byte == b'"' || *byte == b'{';
        let ends_word = text.get(end).is_some_and(|byte| blank(byte) || opens(byte));
        let next = text[end..].iter().find(|byte| !blank(byte));
        starts_line
            && ends_word
            && next.is_some_and(|byte| opens(byte) || *byte == b'_' || byte.is_ascii_alphabetic())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_whose_type_starts_its_line_is_found_and_a_mention_is_not() {
        for (text, kind) in [
            ("terraform {\n  backend \"s3\" {}\n}\n", "backend"),
            ("terraform {\r\n\tbackend s3 {\r\n  }\r\n}\r\n", "backend"),
            (
                "terraform {\n  cloud {\n    organization = \"o\"\n  }\n}\n",
                "cloud",
            ),
            ("variable \"x\" {}\n", "variable"),
            ("# c\nlocals{\n  a = 1\n}\n", "locals"),
        ] {
            assert!(may_hold_block(text.as_bytes(), kind), "{kind} in {text:?}");
        }
        for (text, kind) in [
            ("resource \"aws_cloudwatch_log_group\" \"x\" {}\n", "cloud"),
            (
                "module \"m\" {\n  backend = \"s3\"\n  cloud   = { a = 1 }\n}\n",
                "backend",
            ),
            ("module \"m\" {\n  cloud   = { a = 1 }\n}\n", "cloud"),
            ("# backend \"s3\" is set by terraform init\n", "backend"),
            ("locals {\n  cloud_account = \"x\"\n}\n", "cloud"),
            (
                "output \"x\" {\n  description = \"a variable\"\n  value = var.x\n}\n",
                "variable",
            ),
            (
                "resource \"x\" \"y\" {\n  name = local.variables\n}\n",
                "locals",
            ),
        ] {
            assert!(!may_hold_block(text.as_bytes(), kind), "{kind} in {text:?}");
        }
    }
}
