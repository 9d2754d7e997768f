#!/usr/bin/env python3
"""Counts audit's unverified `half_open_pair` notes (and failing findings per check) on the
corpus, with two binaries side by side, and groups the notes of each by their reason.

    benches/unverified_notes.py BEFORE_BIN AFTER_BIN [REPO_DIR...]

REPO_DIRs default to every checkout of benches/corpus/repos.tsv under CORPUS_DIR
(default /tmp/corpus/<owner>+<name>/, as benches/corpus/checkout.sh leaves them). Each is
audited from inside the checkout (`mutualsg audit --format json .`). A developer script."""

import collections
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPOS = os.path.join(os.path.dirname(HERE), "benches/corpus/repos.tsv")
CORPUS = os.environ.get("CORPUS_DIR", "/tmp/corpus")


def checkouts():
    with open(REPOS) as f:
        for line in f.read().splitlines()[1:]:
            if line and not line.startswith("#"):
                repo = line.split("\t")[0]
                yield os.path.join(CORPUS, repo.replace("/", "+"))


def audit(binary, tree):
    out = subprocess.run(
        [binary, "audit", "--format", "json", "."],
        cwd=tree, capture_output=True, text=True,
    ).stdout
    try:
        return [f for f in json.loads(out) if f.get("kind") == "finding"]
    except json.JSONDecodeError:
        return []


def reason(message):
    why = message.split("as far as this tree shows: ", 1)[-1]
    why = re.sub(r"`[^`]*`", "`…`", why)
    why = re.sub(r"\([^()]*\)", "(…)", why)
    why = re.sub(r"aws_security_group\.[\w\-\[\]\"*]+", "GROUP", why)
    why = re.sub(r"\d+ (groups|root modules)", r"N \1", why)
    why = re.sub(r"module\.[\w\-]+", "module.…", why)
    return why[:110]


def main():
    before, after, *trees = sys.argv[1:]
    trees = trees or [t for t in checkouts() if os.path.isdir(t)]
    totals = collections.Counter()
    reasons = {before: collections.Counter(), after: collections.Counter()}
    print("| tree | unverified before | after | failing before | after |")
    print("|---|---:|---:|---:|---:|")
    for tree in trees:
        row = []
        for binary in (before, after):
            findings = audit(binary, tree)
            notes = [f for f in findings if f["check"] == "half_open_pair" and f["level"] == "note"]
            failing = [f for f in findings if f["level"] == "error" and not f.get("suppressed")]
            row += [len(notes), len(failing)]
            reasons[binary].update(reason(f["message"]) for f in notes)
        totals.update(dict(zip(["nb", "fb", "na", "fa"], row)))
        print(f"| {os.path.basename(tree).replace('+', '/')} | {row[0]} | {row[2]} | {row[1]} | {row[3]} |")
    print(f"| total | {totals['nb']} | {totals['na']} | {totals['fb']} | {totals['fa']} |")
    print()
    print("| reason (notes grouped; `…` elides names) | before | after |")
    print("|---|---:|---:|")
    every = reasons[before] + reasons[after]
    for why, _ in every.most_common():
        print(f"| {why} | {reasons[before][why]} | {reasons[after][why]} |")


if __name__ == "__main__":
    main()
