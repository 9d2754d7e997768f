//! `format_value` against real `terraform fmt` on a hand-written corpus.

use super::common;

/// Expressions as they might be sliced out of users' files: unformatted, formatted, and
/// copied from deeper nesting (continuation lines indented for their old position).
fn corpus() -> Vec<String> {
    let items: &[&str] = &[
        // Literals and traversals.
        "1",
        "-1",
        "1.5e-3",
        "true",
        "null",
        "\"plain\"",
        "var.x",
        "var.x[ 0 ]",
        "var.x [0]",
        "local.m[\"key\"] . attr",
        "data.aws_iam_policy_document.this.json",
        "aws_instance.web[count.index].id",
        "var.list.0.name",
        "module.m.out[*].id",
        "var.objs.*.name",
        "var.objs[*] .name",
        "a-b",
        "a - b",
        "a-1",
        "a -1",
        // Operators.
        "a+b",
        "a*b+c/d-e%f",
        "(a + b) * c",
        "( a+b )*c",
        "a==b",
        "a!=b&&c||!d",
        "a>=b||a<=c||a>b||a<c",
        "-a + -b",
        "a - -b",
        "!var.enabled",
        "! var.enabled",
        "5-3",
        "x * -1",
        "[-1, - 2]",
        // Conditionals.
        "var.a?1:2",
        "var.a ? \"x\" : null",
        "var.n > 0 ? var.n : -var.n",
        "(var.a\n  ? 1\n  : 2)",
        // Function calls.
        "f( x,y )",
        "max(1,2,3)",
        "concat(var.a,[ \"b\" ])",
        "merge(local.tags , { Name = \"x\" })",
        "length( var.list )",
        "format(\"%s-%d\",var.name,1)",
        "f(var.args...)",
        "f(var.args ...)",
        "provider::aws::arn_parse(var.arn)",
        "jsonencode({a=1,b=[1,2]})",
        "lookup(var.m,\"k\",null)",
        "tolist(  [ ])",
        "f()",
        "f(\n  a,\n  b,\n)",
        "cidrsubnet(\n          var.cidr,\n          8,\n          count.index\n        )",
        "f(g(h(1)))[0]",
        "try(x, null)",
        // Collections on one line.
        "[1,2]",
        "[ ]",
        "{}",
        "{ }",
        "{a=1}",
        "{a=1,b=2}",
        "{\"a\"=1}",
        "{ a: 1 }",
        "{(var.k)=1}",
        "[{a=1},{b=2}]",
        "[[1,2],[3]]",
        "{ x = [1, 2], y = { z = true } }",
        // Multi-line collections with the indentation they had elsewhere.
        "{\n  a = 1\n  bb = 2\n}",
        "{\n        a = 1\n        bbb = 2\n        cc = \"x\"\n      }",
        "[\n  1,\n  2,\n]",
        "[\n              \"a\",\n              \"b\"\n            ]",
        "{\n    name = \"x\"\n    tags = {\n      a = 1\n      longer = 2\n    }\n    list = [1,2]\n  }",
        "[\n    {\n      from = 80\n      to = 80\n    },\n    {\n      from = 443\n      to   = 443\n    },\n  ]",
        "{\n  a = 1\n\n  bbbb = 2\n}",
        "{\n  a = 1,\n  bb = 2,\n}",
        "{\n  \"quoted key\" = 1\n  b = 2\n}",
        "{\n  for k, v in var.m : k => v\n}",
        "merge(\n      local.common,\n      {\n        Name = var.name\n        Env = var.env\n      }\n    )",
        "{ a = {\n  b = 1\n  } }",
        "[for x in var.list :\n  x * 2\n]",
        // Comments inside multi-line values.
        "{\n  a = 1 # one\n  bbb = 2 # two\n}",
        "{\n  # leading comment\n  a = 1\n  bb = 2 // trailing\n}",
        "[\n  1, # first\n  22, # second\n  /* block */ 3,\n]",
        "{\n  a = 1 /* inline */\n  b = 2\n}",
        "[\n  /* multi\n     line */\n  1,\n]",
        "{\n  a = 1 # x\n\n  bb = 2 # y\n}",
        // For expressions.
        "[for x in var.list: upper(x)]",
        "[for x in var.list : x if x != \"\"]",
        "{for k,v in var.m: k=>v}",
        "{for k, v in var.m : k => v...}",
        "[for x in [1,2]: x]",
        "[for i, x in var.l : \"${i}-${x}\"]",
        "{ for s in var.subnets : s.name => s if s.public }",
        // Splats.
        "aws_instance.x[*].id",
        "var.l[*]",
        "var.l.*.id",
        "var.l[ * ].id",
        // Strings and templates.
        "\"${var.x}\"",
        "\"${ var.x }\"",
        "\"${var.a}-${var.b}\"",
        "\"x${var.a}\"",
        "\"${var.a}x\"",
        "\"${f( 1,2 )}\"",
        "\"${\"${var.inner}\"}\"",
        "\"${ var.a ? 1 : 2 }\"",
        "\"${var.a ?\n  1 : 2}\"",
        "\"${\n  var.x\n}\"",
        "\"${(var.a +\n  var.b)}\"",
        "\"escaped \\\"quote\\\" and \\\\ backslash \\n\"",
        "\"$${literal} and %%{literal}\"",
        "\"cost: $5 and 100%\"",
        "\"a${ b }c${ d }\"",
        "\"%{ if var.a }yes%{ else }no%{ endif }\"",
        "\"%{~ for x in var.l ~}${x},%{~ endfor ~}\"",
        "\"${ {a=1}.a }\"",
        "\"${~ var.x ~}\"",
        "\"unicode: héllo ✓ 日本語\"",
        "\"${var.a}${var.b}\"",
        "upper(\"${var.x}\")",
        // Heredocs.
        "<<EOT\nhello\n  world\nEOT",
        "<<-EOT\n      indented\n        more\n      EOT",
        "<<EOT\nhello ${ var.name }!\n%{ if var.x }x%{ endif }\nEOT",
        "<<-EOF\n    {\n      \"a\": 1\n    }\n  EOF",
        "jsonencode(<<EOT\nraw\nEOT\n)",
        "[\n  <<EOT\nline\nEOT\n  ,\n  \"b\",\n]",
        "{\n  a = <<EOT\nx\nEOT\n  bb = 2\n}",
        "<<EOT\ncost $\n100%\nEOT",
        "<<EOT\n  EOT not the end\nEOT",
        // Unicode identifiers and keys.
        "{ ключ = 1, b = \"ü\" }",
        "{\n  \"ключ\" = 1\n  b = 2\n}",
        "{\n  \"日本\" = 1\n  abc = 2\n}",
        "{\n  \"e\u{301}\" = 1\n  ab = 2\n}",
        "var.données",
        // CRLF input.
        "{\r\n  a = 1\r\n  bb = 2\r\n}",
        "[\r\n  1,\r\n  2,\r\n]",
        "<<EOT\r\nwindows\r\nEOT",
        "{\r\n  a = 1 # c\r\n  bb = 2\r\n}",
        // Odd spacing and nesting.
        "{ a = [ 1 , 2 ] , b = { c = \"d\" } }",
        "[ for  x  in  var.l  :  x ]",
        "tomap({\n  a = 1\n})",
        "a.b[0][1].c",
        "[1, 2][0]",
        "{ a = 1 }[\"a\"]",
        "(var.x)[0]",
        "f(x)[0]",
        "var.m[\"a\"][\"b\"]",
        "\"abc\"",
        "[\n  [\n    1,\n  ],\n  [2]\n]",
        "{\n  a = [\n    1,\n  ]\n  bb = 2\n  ccc = 3\n}",
        "f(a,\n  b)",
        "f(\n  a, b\n  )",
        "[\n1,\n2]",
        "{\nx = 1\n}",
        "foo(bar(\n  1,\n  2\n))",
        "foo(bar(\n  1,\n  2),\n  3)",
        // Edge cases of the formatter's rules.
        "[for x in(var.l): x]",
        "\"${ {a=1} }\"",
        "\"%{ for k, v in {a=1} }${k}%{ endfor }\"",
        "[ # first\n  1, # second\n  22,\n]",
        "[\n  1, /* a\n  b */ 2,\n]",
        "{ # c\n  a = 1\n}",
        "[\n  # c\n  1\n]",
        "(a) -1",
        "{for k,v in var.m: k => -v}",
        "[for x in var.l: x if -x > 0]",
        "[\n\t1,\n\t2,\n]",
        "{\n  \"👍🏽\" = 1\n  ab = 2\n}",
        "{\n  \"🇩🇪\" = 1\n  abc = 2\n}",
        "{\n  \"👨‍👩‍👧\" = 1\n  abc = 2\n}",
        "{\n  \"한국\" = 1\n  abcde = 2\n}",
        "<<EOT\nEOT",
        "<<-EOT\n    x\n    EOT   ",
        "{\n  a = {\n    b = {\n      c = 1\n      dd = 2\n    }\n    eee = 3\n  }\n  f = 4\n}",
        "{\n  a = 1\n  b = [\n    2,\n  ]\n  cc = 3\n  ddd = [4]\n}",
        "{\n  a = 1 # x\n  bb = [ # y\n    2, # z\n  ]\n}",
        "f(1, # c\n  2)",
        "[for x in var.l : {\n  name = x\n  id = 1\n}]",
        "{ a = 1, bb = {\n  c = 2\n} }",
        "<<EOT\n${foo(\n1)}\nEOT",
        "<<EOT\nouter ${<<INNER\ninner\nINNER\n} done\nEOT",
        "\"${a ? \"x\" : \"y\"}\"",
        "\"${f(a, # c\n b)}\"",
        "\"${[1, // c\n 2][0]}\"",
        "\"${upper(\"${var.a}-x\")}\"",
        "\"${var.a}%{if var.b}b%{endif}\"",
        "\"${ var.x }\"   ",
        "var.l[0]. name",
        "a.0.b",
        "{ a = 1 }.a",
        "!!var.a",
        "-(-1)",
        "a == -1",
        "a ? -1 : -2",
        "[\n  -1,\n  - 2,\n]",
        "f(-1, -x)",
        "var.a[-1]",
        "x / -2 % -3",
    ];
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn corpus_matches_terraform_fmt() {
    let Some(bin) = common::terraform() else {
        return;
    };
    let corpus = corpus();
    assert!(corpus.len() >= 80);
    let (passed, failures) = common::check_all(&bin, &corpus);
    eprintln!(
        "corpus: {} expressions, {} passed all checks",
        corpus.len(),
        passed
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The attribute name's width matters when the value's first line ends with a comment that
/// lines up with the next line's comment; `format_value_for_key` takes it into account.
#[test]
fn key_width_matters_for_comment_alignment() {
    use mutualsg::generate::hclfmt::format_value_for_key;
    let Some(bin) = common::terraform() else {
        return;
    };
    let exprs = [
        "[ # first\n  1, # second\n  22,\n]",
        "{ # open\n  a = 1 # one\n}",
        "f( # c\n  x, # d\n)",
        "{\n  a = 1 # one\n  bb = 2 # two\n}",
    ];
    for key in ["k", "a_much_longer_key", "ключ"] {
        let mut file = String::new();
        let mut ours = String::new();
        for (i, e) in exprs.iter().enumerate() {
            file.push_str(&format!(
                "resource \"a\" \"b{i}\" {{\n  {key} = {e}\n}}\n\n"
            ));
            ours.push_str(&format!(
                "resource \"a\" \"b{i}\" {{\n  {key} = {}\n}}\n\n",
                format_value_for_key(key, e, 2)
            ));
        }
        let want = common::terraform_fmt(&bin, &file);
        assert_eq!(ours, want, "key {key}");
    }
}

/// Inputs that are not (or not entirely) valid HCL come back unchanged, except for CRLF.
#[test]
fn untokenizable_input_is_returned_unchanged() {
    use mutualsg::generate::hclfmt::format_value;
    for s in [
        "\"unterminated",
        "<<EOT\nno end marker",
        "a & b",
        "f(",
        "x)",
        "/* open comment",
        "\"line\nbreak\"",
        "a ; b",
        "`tick`",
    ] {
        assert_eq!(format_value(s, 2), s);
    }
    assert_eq!(format_value("f(\r\n  a", 2), "f(\n  a");
}

/// Surrounding whitespace is not part of the expression (but spaces after a heredoc's end
/// marker are part of the marker line, and terraform keeps them).
#[test]
fn surrounding_whitespace_is_ignored() {
    use mutualsg::generate::hclfmt::format_value;
    assert_eq!(format_value("  a+b \n", 2), "a + b");
    assert_eq!(format_value("\n  a+b \n\t\n  ", 2), "a + b");
    assert_eq!(format_value("\n<<EOT\nx\nEOT\n\n", 2), "<<EOT\nx\nEOT");
    assert_eq!(format_value("<<EOT\nx\nEOT  ", 2), "<<EOT\nx\nEOT  ");
}

/// Where terraform fmt's unwrap produces a file that no longer parses (a line comment inside
/// `"${ }"` escaping unparenthesized, or a multi-line `(a) ? b : (c)` taken to be already
/// parenthesized), we parenthesize instead; terraform must accept the result and leave it
/// unchanged.
#[test]
fn unwrap_with_line_comments_stays_valid() {
    use mutualsg::generate::hclfmt::format_value;
    assert_eq!(format_value("\"${ # c\n  x }\"", 2), "( # c\n  x)");
    assert_eq!(format_value("\"${a // c\n / b}\"", 2), "(a // c\n  / b)");
    assert_eq!(
        format_value("\"${(a) ?\n b : (c)}\"", 2),
        "((a) ?\n  b : (c))"
    );
    let Some(bin) = common::terraform() else {
        return;
    };
    let exprs: Vec<String> = [
        "\"${ # c\n  x }\"",
        "\"${a // c\n / b}\"",
        "\"${f(1) # c\n}\"",
        "\"${[\n1, # one\n2]}\"",
        "\"${# c\n(a)}\"",
        "\"${a + # c\n b}\"",
        "\"${(a) ?\n b : (c)}\"",
        "\"${(a)\n + (b)}\"",
    ]
    .iter()
    .map(|e| format_value(e, 2))
    .collect();
    let file = common::build_file(&exprs, common::Place::Resource);
    assert_eq!(common::terraform_fmt(&bin, &file), file);
}
