#!/usr/bin/env python3
"""Writes the named-rule table of terraform-aws-modules/security-group/aws that `migrate` reads.

The module's `rules.tf` declares `variable "rules"` whose default maps a rule name to
`[from_port, to_port, protocol, description]`; its calls name those rules (`rule =
"https-443-tcp"`, `ingress_rules = [...]`). The table changes between releases, so this reads
it at every release tag from v4.0.0 on and writes one line per name and value, with the
releases that hold it.

It also writes the automatic rules of each `//modules/NAME` preset (its generated
`auto_values.tf`: `auto_ingress_rules`, `auto_ingress_with_self`, `auto_egress_rules`,
`auto_egress_with_self`), checking that the computed ones are empty, as they are.

Usage: benches/sg-module-rules.py GIT_DIR src/commands/migrate
GIT_DIR: a clone of github.com/terraform-aws-modules/terraform-aws-security-group. Writes
sg_module_rules.tsv and sg_module_presets.tsv into the directory.
"""

import re
import subprocess
import sys

ENTRY = re.compile(r'^\s*([A-Za-z0-9_-]+)\s*=\s*\[(.*)\]\s*(#.*)?$')


def git(git_dir, *args):
    return subprocess.run(["git", "--git-dir", git_dir, *args], check=True,
                          capture_output=True, text=True).stdout


def version_key(tag):
    return tuple(int(part) for part in tag.lstrip("v").split("."))


def table(text):
    """The `rules` default of one rules.tf: name -> (from, to, protocol, description)."""
    start = text.index('variable "rules"')
    end = text.index("\n}\n", start)
    rules = {}
    for line in text[start:end].splitlines():
        match = ENTRY.match(line)
        if not match:
            continue
        name, values = match.group(1), match.group(2)
        parts = [part.strip() for part in re.findall(r'"[^"]*"|[^,]+', values)]
        parts = [part[1:-1] if part.startswith('"') else part for part in parts]
        if name == "_" or len(parts) != 4:
            continue
        if any("\t" in part for part in parts):
            sys.exit(f"{name}: a tab in {parts}")
        rules[name] = tuple(parts)
    return rules


AUTO = ["auto_ingress_rules", "auto_ingress_with_self", "auto_egress_rules", "auto_egress_with_self"]
EMPTY = ["auto_computed_ingress_rules", "auto_computed_ingress_with_self", "auto_computed_egress_rules",
         "auto_computed_egress_with_self"]
ZERO = ["auto_number_of_computed_ingress_rules", "auto_number_of_computed_ingress_with_self",
        "auto_number_of_computed_egress_rules", "auto_number_of_computed_egress_with_self"]


def defaults(text):
    """variable name -> its `default` text, for one auto_values.tf."""
    found = {}
    for match in re.finditer(r'variable "([a-z_]+)" \{(.*?)\n\}', text, re.S):
        default = re.search(r"default\s*=\s*(.*)", match.group(2))
        if default:
            found[match.group(1)] = default.group(1).strip()
    return found


def rule_names(text):
    """`["a", "b"]` or `[{ "rule" = "a" }]` -> a,b (only `rule` keys allowed)."""
    if re.sub(r'\{\s*"rule"\s*=\s*"[^"]*"\s*\}', "", text).count("=") > 0:
        sys.exit(f"a with_self entry with keys other than rule: {text}")
    return ",".join(re.findall(r'"([^"]+)"', text.replace('"rule"', "")))


def presets(git_dir, tags, versions):
    held = {}
    for index, tag in enumerate(tags):
        listing = git(git_dir, "ls-tree", "--name-only", f"{tag}:modules").split()
        for preset in listing:
            if preset.startswith("_") or "." in preset:
                continue
            values = defaults(git(git_dir, "show", f"{tag}:modules/{preset}/auto_values.tf"))
            for name in EMPTY:
                if values.get(name, "[]") != "[]":
                    sys.exit(f"{tag} {preset}: {name} = {values[name]}")
            for name in ZERO:
                if values.get(name, "0") != "0":
                    sys.exit(f"{tag} {preset}: {name} = {values[name]}")
            row = (preset, *(rule_names(values.get(name, "[]")) for name in AUTO))
            held.setdefault(row, []).append(index)
    return held


def runs_text(indexes, versions):
    runs = []
    for index in indexes:
        if runs and runs[-1][1] == index - 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ",".join(versions[a] if a == b else f"{versions[a]}-{versions[b]}" for a, b in runs)


def main():
    git_dir = sys.argv[1]
    tags = sorted((tag for tag in git(git_dir, "tag").split()
                   if re.fullmatch(r"v[45]\.\d+\.\d+", tag)), key=version_key)
    versions = [tag.lstrip("v") for tag in tags]
    tables = [table(git(git_dir, "show", f"{tag}:rules.tf")) for tag in tags]
    # (name, value) -> indexes of the versions that hold it
    held = {}
    for index, rules in enumerate(tables):
        for name, value in rules.items():
            held.setdefault((name, value), []).append(index)
    out = sys.argv[2]
    with open(f"{out}/sg_module_rules.tsv", "w") as rules_file:
        print("# Named rules of terraform-aws-modules/security-group/aws: `variable \"rules\"` default in", file=rules_file)
        print("# its rules.tf, read at each release tag by benches/sg-module-rules.py.", file=rules_file)
        print("# versions\t" + " ".join(versions), file=rules_file)
        print("# name\tfrom_port\tto_port\tprotocol\tdescription\tversions (runs of the list above)", file=rules_file)
        for (name, value), indexes in sorted(held.items()):
            print("\t".join([name, *value, runs_text(indexes, versions)]), file=rules_file)
    with open(f"{out}/sg_module_presets.tsv", "w") as presets_file:
        print("# Automatic rules of the //modules/NAME presets of terraform-aws-modules/security-group/aws:", file=presets_file)
        print("# the defaults of each preset's auto_values.tf, read at each release tag by", file=presets_file)
        print("# benches/sg-module-rules.py (the computed ones are empty at every release).", file=presets_file)
        print("# preset\tauto_ingress_rules\tauto_ingress_with_self\tauto_egress_rules\tauto_egress_with_self\tversions", file=presets_file)
        for row, indexes in sorted(presets(git_dir, tags, versions).items()):
            print("\t".join([*row, runs_text(indexes, versions)]), file=presets_file)


main()
