#!/usr/bin/env python3
"""Differential test of mutualsg's syntax layer against Terraform's parser.

For every `.tf`/`.tofu` file of the checked-out corpus (benches/corpus/checkout.sh), or of the
paths given, both are asked one question: does this file parse, and if not, at which line is
the first error?

- mutualsg: `target/release/examples/parse_files` (built here with
  `cargo build --release --example parse_files`), paths on stdin, `PATH\\tok` or
  `PATH\\terror\\tLINE\\tMESSAGE` on stdout, parse MB/s on stderr.
- Terraform: `terraform fmt -check -list=false -no-color` exits 2 with an `Error:` block per
  syntax error (`on FILE line N`) and 0 or 3 otherwise. It parses with hclsyntax, the parser
  `terraform validate` and `plan` use, and needs no provider. Files are given to it in
  batches, as symlinks named `<n>.tf` in a scratch directory (so a `.tofu` file is accepted
  and each `on FILE line N` names exactly one file); a batch whose output cannot be
  attributed file by file is asked again one file at a time. `--verify-batching N` checks the
  batched verdicts against one process per file.
- Terraform's verdicts are cached by file content (sha256) and Terraform version in a
  directory outside the repository, so a rerun only parses with mutualsg.

Terraform's first-error line is the smallest line of its errors for the file (its scanner
reports a bad character before the parser's errors, which may come from earlier lines).

Prints files, MB, false rejections (we reject, Terraform accepts), false acceptances (we accept,
Terraform rejects), line mismatches (both reject, different first-error line), each
disagreement with path and both verdicts, and mutualsg's parse MB/s. Exits 1 on any
disagreement.

`--fuzz SECONDS`: a time-boxed differential fuzz run instead: random corpus files are mutated
(lines deleted, duplicated, swapped or spliced in from another file; a byte or a token such as
`{ } [ ] ( ) " = ? : , \\n <<EOF ${ %{ #` inserted or deleted), each mutant is judged by both,
and the counts are printed; every disagreeing mutant is saved (with the file it came from,
the mutations and both verdicts) under `--save DIR` for turning into fixtures.
`--minimize DIR` then shrinks one saved mutant per disagreement signature (kind and both
messages) to the fewest lines that keep it, into DIR/minimized/.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_CORPUS = Path(os.environ.get("CORPUS_DIR", "/tmp/corpus"))
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mutualsg-differential"
PARSE_FILES = REPO / "target" / "release" / "examples" / "parse_files"
EXTENSIONS = (".tf", ".tofu")

# One Terraform error block, as `-no-color` prints it: "Error: SUMMARY", a blank line, then
# "  on FILE line N[, in ...]:" when the diagnostic has a subject.
ERROR_RE = re.compile(r"^Error: (.*)$", re.M)
SUBJECT_RE = re.compile(r"^  on (\d+)\.tf line (\d+)\b", re.M)


@dataclass
class Verdict:
    ok: bool
    line: int | None = None  # first-error line; None when accepted or unknown
    message: str = ""
    lines: list[int] = field(default_factory=list)  # every error line (Terraform)

    def describe(self) -> str:
        if self.ok:
            return "ok"
        where = f"line {self.line}" if self.line is not None else "no line"
        more = ""
        if len(self.lines) > 1:
            more = f" (errors at lines {','.join(map(str, self.lines))})"
        return f"error {where}: {self.message}{more}"


# ---------------------------------------------------------------------------------------------
# Terraform's side


class Terraform:
    def __init__(self, binary: str, jobs: int, batch: int):
        self.binary = binary
        self.jobs = jobs
        self.batch = batch
        self.env = dict(os.environ, TF_CLI_CONFIG_FILE="/dev/null", CHECKPOINT_DISABLE="1", NO_COLOR="1")
        out = subprocess.run([binary, "version", "-json"], env=self.env, capture_output=True, text=True, check=True)
        self.version = json.loads(out.stdout)["terraform_version"]
        self.batched_runs = 0
        self.single_runs = 0

    def _run(self, workdir: Path, names: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.binary, "fmt", "-check", "-list=false", "-no-color", *names],
            cwd=workdir,
            env=self.env,
            capture_output=True,
            text=True,
            errors="replace",
        )

    @staticmethod
    def _blocks(output: str) -> list[tuple[str, int | None, int | None]]:
        """(summary, file index, line) for each `Error:` block of fmt's output."""
        starts = [m for m in ERROR_RE.finditer(output)]
        blocks = []
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(output)
            body = output[m.end() : end]
            subject = SUBJECT_RE.search(body)
            if subject:
                blocks.append((m.group(1).strip(), int(subject.group(1)), int(subject.group(2))))
            else:
                blocks.append((m.group(1).strip(), None, None))
        return blocks

    @staticmethod
    def _verdict(errors: list[tuple[str, int]]) -> Verdict:
        if not errors:
            return Verdict(True)
        first = min(errors, key=lambda e: e[1])
        return Verdict(False, first[1], first[0], sorted({line for _, line in errors}))

    def judge_one(self, workdir: Path, index: int) -> Verdict:
        self.single_runs += 1
        proc = self._run(workdir, [f"{index}.tf"])
        output = proc.stdout + proc.stderr
        if proc.returncode in (0, 3) and "Error:" not in output:
            return Verdict(True)
        blocks = self._blocks(output)
        errors = [(s, line) for s, i, line in blocks if i == index]
        if proc.returncode == 2 and errors:
            return self._verdict(errors)
        last = output.strip().splitlines()[-1:] or ["?"]
        summary = blocks[0][0] if blocks else last[0]
        return Verdict(False, None, f"exit {proc.returncode}: {summary}")

    def judge_batch(self, workdir: Path, indices: list[int]) -> dict[int, Verdict]:
        """Verdicts for `<i>.tf` in workdir; falls back to one process per file when the batch's
        output cannot be split file by file."""
        self.batched_runs += 1
        proc = self._run(workdir, [f"{i}.tf" for i in indices])
        output = proc.stdout + proc.stderr
        blocks = self._blocks(output)
        wanted = set(indices)
        attributable = all(i in wanted for _, i, _ in blocks)
        consistent = (proc.returncode == 2) == bool(blocks) and proc.returncode in (0, 2, 3)
        if not (attributable and consistent):
            return {i: self.judge_one(workdir, i) for i in indices}
        per_file: dict[int, list[tuple[str, int]]] = collections.defaultdict(list)
        for summary, i, line in blocks:
            per_file[i].append((summary, line))
        return {i: self._verdict(per_file.get(i, [])) for i in indices}

    def judge(self, files: list[Path], *, single: bool = False) -> list[Verdict]:
        """Verdicts for files (any names), in order, `jobs` processes at a time."""
        if not files:
            return []
        with tempfile.TemporaryDirectory(prefix="tf-differential-") as tmp:
            workdir = Path(tmp)
            for i, path in enumerate(files):
                os.symlink(os.path.abspath(path), workdir / f"{i}.tf")
            results: dict[int, Verdict] = {}
            size = 1 if single else self.batch
            chunks = [list(range(s, min(s + size, len(files)))) for s in range(0, len(files), size)]
            with concurrent.futures.ThreadPoolExecutor(self.jobs) as pool:
                if single:
                    futures = [pool.submit(lambda c: {c[0]: self.judge_one(workdir, c[0])}, c) for c in chunks]
                else:
                    futures = [pool.submit(self.judge_batch, workdir, c) for c in chunks]
                for future in concurrent.futures.as_completed(futures):
                    results.update(future.result())
            return [results[i] for i in range(len(files))]


class Cache:
    """Terraform's verdicts by sha256 of the file's bytes, one JSON line each."""

    def __init__(self, directory: Path, version: str):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"terraform-{version}.jsonl"
        self.entries: dict[str, Verdict] = {}
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    e = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by an interrupted run
                self.entries[e["sha256"]] = Verdict(e["ok"], e.get("line"), e.get("message", ""), e.get("lines", []))

    def add(self, items: dict[str, Verdict]) -> None:
        with self.path.open("a") as f:
            for digest, v in items.items():
                self.entries[digest] = v
                f.write(json.dumps({"sha256": digest, "ok": v.ok, "line": v.line, "message": v.message, "lines": v.lines}) + "\n")


# ---------------------------------------------------------------------------------------------
# mutualsg's side


def build_parse_files() -> None:
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "parse_files"], cwd=REPO, check=True)


def mutualsg_judge(binary: Path, files: list[Path], timeout: float | None = None) -> tuple[list[Verdict], str]:
    """Verdicts in order, and parse_files' totals line (files, MB, seconds, MB/s)."""
    stdin = "".join(f"{p}\n" for p in files)
    proc = subprocess.run([str(binary)], input=stdin, capture_output=True, text=True, errors="replace", timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"parse_files failed ({proc.returncode}): {proc.stderr[-2000:]}")
    lines = proc.stdout.split("\n")
    verdicts = []
    for path, line in zip(files, lines):
        prefix = f"{path}\t"
        if not line.startswith(prefix):
            raise SystemExit(f"parse_files answered out of order: expected {path}, got {line[:200]!r}")
        fields = line[len(prefix) :].split("\t", 2)
        if fields[0] == "ok":
            verdicts.append(Verdict(True))
        elif fields[0] == "error":
            verdicts.append(Verdict(False, int(fields[1]) or None, fields[2] if len(fields) > 2 else ""))
        else:  # not-utf8, unreadable
            verdicts.append(Verdict(False, None, fields[0]))
    if len(verdicts) != len(files):
        raise SystemExit(f"parse_files answered {len(verdicts)} of {len(files)} files")
    return verdicts, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""


# ---------------------------------------------------------------------------------------------
# Comparing


def classify(ours: Verdict, theirs: Verdict) -> str:
    if ours.ok and theirs.ok:
        return "both-accept"
    if not ours.ok and theirs.ok:
        return "false-rejection"
    if ours.ok and not theirs.ok:
        return "false-acceptance"
    if ours.line is None or theirs.line is None or ours.line == theirs.line:
        return "both-reject"
    # Terraform reports every error it finds; mutualsg stops at its first. Reporting one of
    # Terraform's errors, at its line, is agreement ("every syntax error it reports is one
    # Terraform reports too, at the same line"), counted apart from the first-line matches.
    if ours.line in theirs.lines:
        return "both-reject-other-error"
    return "line-mismatch"


DISAGREEMENTS = ("false-rejection", "false-acceptance", "line-mismatch")


def walk(paths: list[Path]) -> tuple[list[Path], int]:
    """`.tf`/`.tofu` regular files under paths (symlinks skipped: their targets are read where
    they are), sorted; and the number of symlinks skipped."""
    found, links = [], 0
    for root in paths:
        if root.is_file():
            found.append(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != ".git")
            for name in filenames:
                if not name.endswith(EXTENSIONS):
                    continue
                p = Path(dirpath) / name
                if p.is_symlink():
                    links += 1
                elif p.is_file() and "\n" not in str(p):
                    found.append(p)
    return sorted(found), links


def display(path: Path, roots: list[Path]) -> str:
    for root in roots:
        try:
            return str(path.relative_to(root)) if root.is_dir() else str(path)
        except ValueError:
            continue
    return str(path)


def terraform_verdicts(tf: Terraform, cache: Cache | None, files: list[Path], digests: list[str]) -> tuple[list[Verdict], int]:
    """Terraform's verdict for each file, from the cache where it has one; the number asked."""
    known = cache.entries if cache else {}
    todo: dict[str, Path] = {}
    for path, digest in zip(files, digests):
        if digest not in known and digest not in todo:
            todo[digest] = path
    if todo:
        asked = list(todo.items())
        fresh: dict[str, Verdict] = {}
        step = tf.batch * tf.jobs * 8  # save to the cache as we go: an interrupted run keeps most
        for s in range(0, len(asked), step):
            part = asked[s : s + step]
            verdicts = tf.judge([p for _, p in part])
            got = {d: v for (d, _), v in zip(part, verdicts)}
            fresh.update(got)
            if cache:
                cache.add(got)
            print(f"  terraform: {min(s + step, len(asked))}/{len(asked)} distinct files judged", file=sys.stderr)
        known = {**known, **fresh}
    return [known[d] for d in digests], len(todo)


def run_corpus(args: argparse.Namespace, tf: Terraform) -> int:
    roots = [Path(p) for p in args.paths] or [DEFAULT_CORPUS]
    for root in roots:
        if not root.exists():
            raise SystemExit(f"{root} does not exist: check the corpus out with benches/corpus/checkout.sh")
    files, links = walk(roots)
    started = time.monotonic()
    contents = [p.read_bytes() for p in files]
    digests = [hashlib.sha256(c).hexdigest() for c in contents]
    total_bytes = sum(map(len, contents))
    crlf = sum(1 for c in contents if b"\r\n" in c)
    tofu = sum(1 for p in files if p.suffix == ".tofu")
    del contents

    ours, totals = mutualsg_judge(Path(args.parse_files), files)
    cache = None if args.no_cache else Cache(Path(args.cache), tf.version)
    theirs, asked = terraform_verdicts(tf, cache, files, digests)

    kinds = collections.Counter()
    rows = []
    for path, o, t in zip(files, ours, theirs):
        kind = classify(o, t)
        kinds[kind] += 1
        if kind in DISAGREEMENTS:
            rows.append((kind, display(path, roots), o, t))

    if args.verify_batching:
        verify_batching(args, tf, files, theirs)

    elapsed = time.monotonic() - started
    print(f"files:              {len(files)} ({tofu} .tofu, {crlf} with CRLF; {links} symlinks skipped)")
    print(f"MB:                 {total_bytes / 1e6:.1f}")
    print(f"terraform:          {tf.version}, {asked} distinct files asked now "
          f"({tf.batched_runs} batched runs, {tf.single_runs} single), the rest from the cache")
    print(f"both accept:        {kinds['both-accept']}")
    print(f"both reject:        {kinds['both-reject'] + kinds['both-reject-other-error'] + kinds['line-mismatch']} "
          f"({kinds['line-mismatch']} at different lines)")
    print(f"false rejections:   {kinds['false-rejection']}  (mutualsg rejects, Terraform accepts)")
    print(f"false acceptances:  {kinds['false-acceptance']}  (mutualsg accepts, Terraform rejects)")
    print(f"other error:        {kinds['both-reject-other-error']}  (both reject; mutualsg's error is one of Terraform's, not its first)")
    print(f"line mismatches:    {kinds['line-mismatch']}  (both reject; mutualsg's error line is none of Terraform's)")
    print(f"mutualsg parse:     {totals}")
    print(f"wall time:          {elapsed:.1f} s")
    for kind in DISAGREEMENTS:
        for k, path, o, t in rows:
            if k == kind:
                print(f"{kind}\t{path}\n    mutualsg:  {o.describe()}\n    terraform: {t.describe()}")
    if args.list:
        with open(args.list, "w") as f:
            f.write("kind\tpath\tmutualsg\tterraform\n")
            for k, path, o, t in sorted(rows, key=lambda r: (DISAGREEMENTS.index(r[0]), r[1])):
                f.write(f"{k}\t{path}\t{o.describe()}\t{t.describe()}\n".replace("\r", ""))
        print(f"disagreements listed in {args.list}", file=sys.stderr)
    return 1 if rows else 0


def verify_batching(args: argparse.Namespace, tf: Terraform, files: list[Path], batched: list[Verdict]) -> None:
    """Asks Terraform again, one process per file, about a sample: every rejected file (up to
    N) and N random others, and prints how many verdicts differ from the batched ones."""
    rng = random.Random(args.seed)
    rejected = [i for i, v in enumerate(batched) if not v.ok]
    accepted = [i for i, v in enumerate(batched) if v.ok]
    sample = rng.sample(rejected, min(len(rejected), args.verify_batching))
    sample += rng.sample(accepted, min(len(accepted), args.verify_batching))
    single = tf.judge([files[i] for i in sample], single=True)
    differ = [(files[i], batched[i], s) for i, s in zip(sample, single)
              if (batched[i].ok, batched[i].line, batched[i].lines) != (s.ok, s.line, s.lines)]
    print(f"batching verified:  {len(sample)} files ({len(sample) - len(differ)} agree, {len(differ)} differ) "
          "against one terraform process per file")
    for path, b, s in differ:
        print(f"    {path}: batched {b.describe()} / single {s.describe()}")


# ---------------------------------------------------------------------------------------------
# Fuzzing

TOKENS = ["{", "}", "[", "]", "(", ")", '"', "=", "?", ":", ",", "\n", "<<EOF\n", "<<-EOF\n", "\nEOF\n", "EOF",
          "${", "%{", "}", "#", "//", "/*", "*/", "=>", "...", "for ", " in ", " if ", "\\", "'", ".", "*",
          "-", "!", "&&", "||", "==", " ", "\t", "\r\n", "0", "1.5e3", "null", "true", "~}", "%{ endif }",
          "$${", "a", "x = 1\n", "block {\n", "\"a\" = 1", "[for x in y : x]"]
PRINTABLE = [chr(c) for c in range(32, 127)] + ["\n", "\t", "é", "—"]


def mutate(rng: random.Random, text: str, donors: list[str]) -> tuple[str, list[str]]:
    """One to three random mutations of text, and a description of each."""
    ops = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        lines = text.splitlines(keepends=True) or [""]
        op = rng.choice(("delete-line", "duplicate-line", "swap-lines", "insert-token", "insert-token",
                         "delete-token", "insert-byte", "delete-byte", "splice"))
        if op == "delete-line" and len(lines) > 1:
            i = rng.randrange(len(lines))
            ops.append(f"delete line {i + 1}")
            del lines[i]
        elif op == "duplicate-line":
            i = rng.randrange(len(lines))
            ops.append(f"duplicate line {i + 1}")
            lines.insert(i, lines[i])
        elif op == "swap-lines" and len(lines) > 1:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            ops.append(f"swap lines {i + 1} and {j + 1}")
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "splice" and donors:
            donor = rng.choice(donors).splitlines(keepends=True) or [""]
            s = rng.randrange(len(donor))
            piece = donor[s : s + rng.randint(1, 8)]
            i = rng.randrange(len(lines) + 1)
            ops.append(f"splice {len(piece)} lines of another file before line {i + 1}")
            lines[i:i] = piece
        else:
            joined = "".join(lines)
            at = rng.randrange(len(joined) + 1)
            if op == "insert-token" or not joined:
                token = rng.choice(TOKENS)
                ops.append(f"insert {token!r} at byte {at}")
                joined = joined[:at] + token + joined[at:]
            elif op == "delete-token":
                token = rng.choice([t for t in TOKENS if t.strip()])
                spots = [m.start() for m in re.finditer(re.escape(token), joined)]
                if spots:
                    at = rng.choice(spots)
                    ops.append(f"delete {token!r} at byte {at}")
                    joined = joined[:at] + joined[at + len(token):]
                else:
                    ops.append("delete-token: none found")
            elif op == "insert-byte":
                ch = rng.choice(PRINTABLE)
                ops.append(f"insert {ch!r} at byte {at}")
                joined = joined[:at] + ch + joined[at:]
            else:
                at = min(at, len(joined) - 1)
                ops.append(f"delete {joined[at]!r} at byte {at}")
                joined = joined[:at] + joined[at + 1:]
            lines = [joined]
        text = "".join(lines)
    return text, ops


def run_fuzz(args: argparse.Namespace, tf: Terraform) -> int:
    roots = [Path(p) for p in args.paths] or [DEFAULT_CORPUS]
    files, _ = walk(roots)
    rng = random.Random(args.seed)
    # Small files keep each mutant's verdict about one construct; real files all the same.
    pool = [p for p in files if 0 < p.stat().st_size <= args.max_bytes]
    save = Path(args.save)
    save.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + args.fuzz
    counts = collections.Counter()
    signatures = collections.Counter()
    seen: set[str] = set()
    rounds = 0
    binary = Path(args.parse_files)
    with tempfile.TemporaryDirectory(prefix="mutualsg-fuzz-") as tmp:
        while time.monotonic() < deadline:
            rounds += 1
            batch_dir = Path(tmp) / str(rounds)
            batch_dir.mkdir()
            mutants = []
            for _ in range(args.fuzz_batch):
                source = rng.choice(pool)
                try:
                    text = source.read_bytes().decode("utf-8")
                except UnicodeDecodeError:
                    continue
                donor = rng.choice(pool).read_bytes().decode("utf-8", "replace")
                mutant, ops = mutate(rng, text, [donor])
                digest = hashlib.sha256(mutant.encode()).hexdigest()
                if digest in seen:
                    counts["duplicates"] += 1
                    continue
                seen.add(digest)
                path = batch_dir / f"{len(mutants)}.tf"
                path.write_text(mutant, newline="")
                mutants.append((path, source, ops, digest))
            paths = [m[0] for m in mutants]
            try:
                ours, _ = mutualsg_judge(binary, paths, timeout=600)
            except subprocess.TimeoutExpired:
                counts["batches lost to a parse_files timeout"] += 1
                continue
            theirs = tf.judge(paths)
            for (path, source, ops, digest), o, t in zip(mutants, ours, theirs):
                kind = classify(o, t)
                counts["mutants"] += 1
                counts[kind] += 1
                if "gave up parsing" in o.message:
                    counts["mutualsg gave up (time limit)"] += 1
                if kind in DISAGREEMENTS:
                    signatures[signature(kind, o, t)] += 1
                    where = save / kind
                    where.mkdir(exist_ok=True)
                    shutil.copyfile(path, where / f"{digest[:16]}.tf")
                    (where / f"{digest[:16]}.txt").write_text(
                        f"source: {display(source, roots)}\nmutations: {'; '.join(ops)}\n"
                        f"mutualsg: {o.describe()}\nterraform: {t.describe()}\n")
            shutil.rmtree(batch_dir)
    print(f"fuzz run:           {args.fuzz:.0f} s, seed {args.seed}, {len(pool)} corpus files of at most {args.max_bytes} bytes")
    print(f"mutants:            {counts['mutants']} ({counts['duplicates']} duplicates skipped)")
    print(f"both accept:        {counts['both-accept']}")
    print(f"both reject:        {counts['both-reject'] + counts['both-reject-other-error'] + counts['line-mismatch']} "
          f"({counts['line-mismatch']} at different lines)")
    print(f"false rejections:   {counts['false-rejection']}")
    print(f"false acceptances:  {counts['false-acceptance']}")
    print(f"other error:        {counts['both-reject-other-error']}  (mutualsg's error is one of Terraform's, not its first)")
    print(f"line mismatches:    {counts['line-mismatch']}  (mutualsg's error line is none of Terraform's)")
    print(f"mutualsg gave up:   {counts['mutualsg gave up (time limit)']} (its parse time limit)")
    if counts["batches lost to a parse_files timeout"]:
        print(f"batches lost:       {counts['batches lost to a parse_files timeout']}")
    print(f"disagreeing mutants saved under {save}/<kind>/ (each .tf with a .txt: source, mutations, verdicts)")
    for sig, n in signatures.most_common():
        print(f"  {n:6d}  {sig}")
    return 1 if any(counts[k] for k in DISAGREEMENTS) else 0


def signature(kind: str, ours: Verdict, theirs: Verdict) -> str:
    return f"{kind}: mutualsg {re.sub(r'[0-9]+', 'N', ours.message)[:90]} / terraform {theirs.message}"


def judge_texts(binary: Path, tf: Terraform, texts: list[str]) -> list[tuple[Verdict, Verdict]]:
    with tempfile.TemporaryDirectory(prefix="mutualsg-min-") as tmp:
        paths = []
        for i, text in enumerate(texts):
            path = Path(tmp) / f"{i}.tf"
            path.write_text(text, newline="")
            paths.append(path)
        ours, _ = mutualsg_judge(binary, paths, timeout=600)
        return list(zip(ours, tf.judge(paths)))


def minimize(binary: Path, tf: Terraform, text: str, wanted: str, budget: float) -> str:
    """Drops runs of lines (halving the run length down to one line) while the mutant keeps
    its disagreement signature; every candidate of a round is judged in one batch."""
    lines = text.splitlines(keepends=True)
    size = max(1, len(lines) // 2)
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        candidates = [lines[:i] + lines[i + size:] for i in range(0, len(lines), size)]
        candidates = [c for c in candidates if c]
        verdicts = judge_texts(binary, tf, ["".join(c) for c in candidates]) if candidates else []
        for c, (o, t) in zip(candidates, verdicts):
            if signature(classify(o, t), o, t) == wanted:
                lines = c
                break
        else:
            if size == 1:
                break
            size = max(1, size // 2)
    return "".join(lines)


def run_minimize(args: argparse.Namespace, tf: Terraform) -> int:
    """One smallest-found mutant per disagreement signature of a fuzz run's --save directory."""
    save = Path(args.minimize)
    binary = Path(args.parse_files)
    out = save / "minimized"
    out.mkdir(exist_ok=True)
    mutants = sorted(p for kind in DISAGREEMENTS for p in (save / kind).glob("*.tf"))
    by_signature: dict[str, list[Path]] = collections.defaultdict(list)
    texts = [p.read_text() for p in mutants]
    for p, text, (o, t) in zip(mutants, texts, judge_texts(binary, tf, texts)):
        kind = classify(o, t)
        if kind in DISAGREEMENTS:
            by_signature[signature(kind, o, t)].append(p)
    # False rejections and acceptances first (every signature of them, as far as the limit
    # goes), then line mismatches; the commonest first within each kind.
    ranked = sorted(by_signature.items(),
                    key=lambda kv: (DISAGREEMENTS.index(kv[0].split(":")[0]), -len(kv[1])))[: args.minimize_max]
    for n, (sig, paths) in enumerate(ranked, 1):
        smallest = min(paths, key=lambda p: p.stat().st_size)
        small = minimize(binary, tf, smallest.read_text(), sig, args.minimize_seconds)
        (o, t), = judge_texts(binary, tf, [small])
        name = f"{n:03d}-{classify(o, t)}"
        (out / f"{name}.tf").write_text(small, newline="")
        (out / f"{name}.txt").write_text(
            f"signature: {sig}\nmutants with it: {len(paths)}\nfrom: {smallest}\n"
            f"mutualsg: {o.describe()}\nterraform: {t.describe()}\n")
        print(f"{name}: {len(paths)} mutants, {len(small)} bytes: {sig}")
    print(f"{len(ranked)} of {len(by_signature)} signatures minimized into {out}/")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", help=f"files or directories (default: {DEFAULT_CORPUS}, or $CORPUS_DIR)")
    ap.add_argument("--terraform", default="/usr/local/bin/terraform")
    ap.add_argument("--parse-files", default=str(PARSE_FILES), help="mutualsg's parse_files example binary")
    ap.add_argument("--no-build", action="store_true", help="use --parse-files as it is, without cargo build")
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help="Terraform verdict cache (default: %(default)s)")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--jobs", type=int, default=2, help="terraform processes at once (default: %(default)s)")
    ap.add_argument("--batch", type=int, default=200, help="files per terraform process (default: %(default)s)")
    ap.add_argument("--list", help="write the disagreements to this TSV file")
    ap.add_argument("--verify-batching", type=int, default=0, metavar="N",
                    help="also judge N rejected and N accepted files one terraform process each, and compare")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fuzz", type=float, metavar="SECONDS", help="differential fuzz run for this long instead")
    ap.add_argument("--fuzz-batch", type=int, default=400, help="mutants judged per round (default: %(default)s)")
    ap.add_argument("--max-bytes", type=int, default=16384, help="fuzz: largest corpus file mutated (default: %(default)s)")
    ap.add_argument("--save", default="/tmp/mutualsg-fuzz", help="fuzz: where disagreeing mutants go (default: %(default)s)")
    ap.add_argument("--minimize", metavar="DIR",
                    help="shrink one saved mutant per disagreement signature of a fuzz run's --save DIR")
    ap.add_argument("--minimize-max", type=int, default=40, help="signatures to shrink (default: %(default)s)")
    ap.add_argument("--minimize-seconds", type=float, default=20, help="time for each (default: %(default)s)")
    args = ap.parse_args()
    if not args.no_build:
        build_parse_files()
    tf = Terraform(args.terraform, args.jobs, args.batch)
    if args.minimize:
        return run_minimize(args, tf)
    return run_fuzz(args, tf) if args.fuzz else run_corpus(args, tf)


if __name__ == "__main__":
    sys.exit(main())
