#!/usr/bin/env python3
"""Draws, shows and re-checks the labelled sample behind the audit precision of docs/audit.md.

    benches/audit-precision/draw.py draw  [--seed 25] [--per-check 40] > sample.tsv
    benches/audit-precision/draw.py show  sample.tsv      # each finding's source, to label
    benches/audit-precision/draw.py check labels.tsv      # re-run, precision per check

The repositories are those of the corpus list (REPOS, default benches/corpus/repos.tsv),
checked out at the listed
commit under CORPUS_DIR (default /tmp/corpus/<owner>+<name>/, as benches/corpus/checkout.sh
leaves them). Nothing is fetched and no repository file is copied into the project: the
sample names repository, commit, path and line.

`draw` runs `mutualsg audit --format json .` in each checkout (MUTUALSG, default
target/release/mutualsg), keeps the failing findings (level `error`, neither suppressed nor
in a baseline) and draws at most --per-check of each check at random (all where fewer).
`labels.tsv` is that sample with two more columns, `label` (true/false) and `reason`.
`check` re-runs the audit, reports labelled findings no longer reported, and prints the
precision of each check (true / labelled). A script for developers: CI cannot fetch.
"""

import argparse
import csv
import json
import os
import random
import subprocess
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REPOS = os.environ.get("REPOS", os.path.join(ROOT, "benches/corpus/repos.tsv"))
CORPUS = os.environ.get("CORPUS_DIR", "/tmp/corpus")
BIN = os.environ.get("MUTUALSG", os.path.join(ROOT, "target/release/mutualsg"))
FIELDS = ["check", "repo", "commit", "path", "line", "message"]


def repos():
    with open(REPOS) as f:
        for row in csv.reader(f, delimiter="\t"):
            if row and row[0] != "repo" and not row[0].startswith("#"):
                yield row[0], row[1]


def failing(repo):
    checkout = os.path.join(CORPUS, repo.replace("/", "+"))
    if not os.path.isdir(checkout):
        print(f"draw.py: {repo} is not checked out under {CORPUS}", file=sys.stderr)
        return []
    out = subprocess.run(
        [BIN, "--color", "never", "audit", "--format", "json", "."],
        cwd=checkout,
        capture_output=True,
        text=True,
    )
    found = []
    for problem in json.loads(out.stdout or "[]"):
        if problem.get("kind") != "finding" or problem.get("level") != "error":
            continue
        if "suppressed" in problem or problem.get("baseline"):
            continue
        found.append(problem)
    return found


def key(row):
    return (row["check"], row["repo"], row["path"], str(row["line"]), row["message"])


def draw(args):
    by_check = defaultdict(list)
    for repo, commit in repos():
        for problem in failing(repo):
            by_check[problem["check"]].append(
                {
                    "check": problem["check"],
                    "repo": repo,
                    "commit": commit,
                    "path": problem["path"],
                    "line": problem["line"],
                    "message": problem["message"],
                }
            )
    rng = random.Random(args.seed)
    writer = csv.DictWriter(sys.stdout, FIELDS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    for check in sorted(by_check):
        rows = sorted(by_check[check], key=key)
        sample = rows if len(rows) <= args.per_check else rng.sample(rows, args.per_check)
        print(f"draw.py: {check}: {len(sample)} of {len(rows)}", file=sys.stderr)
        for row in sorted(sample, key=key):
            writer.writerow(row)


def show(args):
    with open(args.file) as f:
        for i, row in enumerate(csv.DictReader(f, delimiter="\t")):
            path = os.path.join(CORPUS, row["repo"].replace("/", "+"), row["path"])
            line = int(row["line"])
            with open(path, errors="replace") as source:
                lines = source.read().split("\n")
            start = max(0, line - 4)
            end = min(len(lines), line + 14)
            print(f"### {i} {row['check']} {row['repo']} {row['path']}:{line}")
            print(f"    {row['message']}")
            for n in range(start, end):
                print(f"{n + 1:6} {lines[n]}")


def check(args):
    with open(args.file) as f:
        labelled = list(csv.DictReader(f, delimiter="\t"))
    reported = set()
    for repo in sorted({row["repo"] for row in labelled}):
        for problem in failing(repo):
            problem = dict(problem, repo=repo)
            reported.add(key(problem))
    per = defaultdict(lambda: [0, 0])
    gone = 0
    for row in labelled:
        if key(row) not in reported:
            gone += 1
            print(f"no longer reported: {row['repo']} {row['path']}:{row['line']} {row['check']}")
            continue
        per[row["check"]][1] += 1
        if row["label"] == "true":
            per[row["check"]][0] += 1
    print("| check | labelled | true | precision |")
    print("|---|---|---|---|")
    for name in sorted(per):
        true, total = per[name]
        print(f"| `{name}` | {total} | {true} | {100 * true / total:.0f}% |")
    return 1 if gone else 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("draw")
    d.add_argument("--seed", type=int, default=25)
    d.add_argument("--per-check", type=int, default=40)
    s = sub.add_parser("show")
    s.add_argument("file")
    c = sub.add_parser("check")
    c.add_argument("file")
    args = parser.parse_args()
    if args.command == "draw":
        draw(args)
    elif args.command == "show":
        show(args)
    else:
        sys.exit(check(args))


if __name__ == "__main__":
    main()
