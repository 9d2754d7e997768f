#!/usr/bin/env python3
"""Writes the named-rule table of terraform-aws-modules/security-group/aws that `migrate` reads.

The module's `rules.tf` declares `variable "rules"` whose default maps a rule name to
`[from_port, to_port, protocol, description]`; its calls name those rules (`rule =
"https-443-tcp"`, `ingress_rules = [...]`). The table changes between releases, so this reads
it at every release tag from v4.0.0 on and writes one line per name and value, with the
releases that hold it.

Usage: benches/sg-module-rules.py GIT_DIR > src/commands/migrate/sg_module_rules.tsv
GIT_DIR: a clone of github.com/terraform-aws-modules/terraform-aws-security-group.
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
    print("# Named rules of terraform-aws-modules/security-group/aws: `variable \"rules\"` default in")
    print("# its rules.tf, read at each release tag by benches/sg-module-rules.py.")
    print("# versions\t" + " ".join(versions))
    print("# name\tfrom_port\tto_port\tprotocol\tdescription\tversions (runs of the list above)")
    for (name, value), indexes in sorted(held.items()):
        runs = []
        for index in indexes:
            if runs and runs[-1][1] == index - 1:
                runs[-1][1] = index
            else:
                runs.append([index, index])
        text = ",".join(versions[a] if a == b else f"{versions[a]}-{versions[b]}" for a, b in runs)
        print("\t".join([name, *value, text]))


main()
